import type { World } from '../world/World.js';
import { bugServices, type BugServices } from './services/bug.js';
import { constServices, type ConstServices } from './services/constants.js';
import { filemapServices, type FilemapServices } from './services/filemap.js';
import { frameServices, type FrameServices } from './services/frames.js';
import { gmemFileServices, type GmemFileServices } from './services/gmemfile.js';
import { gupServices, type GupServices } from './services/gup.js';
import { memslotServices, type MemslotServices } from './services/memslots.js';
import { kmapServices, type KmapServices } from './services/kmap.js';
import { kvmCoreServices, type KvmCoreServices } from './services/kvmcore.js';
import { lockingServices, type LockServices } from './services/locking.js';
import { pageRefServices, type PageRefServices } from './services/pageRefs.js';
import { schedServices, type SchedServices } from './services/sched.js';
import { slabServices, type SlabServices } from './services/slab.js';
import { uaccessServices, type UaccessServices } from './services/uaccess.js';
import { userStructServices, type UserStructServices } from './services/userStruct.js';

/**
 * The kernel services a revision may call: one explicit API with kernel names and C-like
 * signatures, taking and returning plain values and handles (numbers for pointers: NULL is 0,
 * ERR_PTR is a negative errno). A revision is code against this API (plus its backend's
 * services) only, so the same API can later be offered as WebAssembly imports to real kernel C.
 */
export type KernelServices = ConstServices &
  PageRefServices &
  GupServices &
  SlabServices &
  KmapServices &
  UaccessServices &
  UserStructServices &
  LockServices &
  FilemapServices &
  KvmCoreServices &
  GmemFileServices &
  MemslotServices &
  BugServices &
  SchedServices &
  FrameServices;

/**
 * The kernel services as their groups, for bindKernel(), which copies each group's functions
 * into `k` anyway: spreading fifteen groups into one object first cost a tenth of a scenario's
 * CPU time (`npm run bench` profile, snp × kvm-x86-next), all of it per scenario.
 */
export function kernelServiceGroups(w: World): readonly [GupServices, ...object[]] {
  return [
    gupServices(w),
    constServices(w),
    pageRefServices(w),
    slabServices(w),
    kmapServices(w),
    uaccessServices(w),
    userStructServices(),
    lockingServices(w),
    filemapServices(w),
    kvmCoreServices(w),
    gmemFileServices(w),
    memslotServices(w),
    bugServices(w),
    schedServices(w),
    frameServices(w),
  ];
}

/** The kernel services as one object, for tests that call them directly. */
export function kernelServices(w: World): KernelServices {
  return Object.assign({}, ...kernelServiceGroups(w)) as KernelServices;
}
