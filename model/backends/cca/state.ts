import type { MeasureEntry } from '../../world/events.js';

/**
 * Arm CCA state: the RMM's granules (by physical address), the realm's stage-2 translation
 * tables (RTTs) and their leaf entries, the realm and its measurement (RIM), and what KVM keeps
 * (the kernel's view of the realm state). RMM v1.0 granules are 4K while the host page may be
 * 16K or 64K, so one host page holds 1, 4 or 16 granules; under RMM v2.0 the kernel configures
 * the granule to PAGE_SIZE (RMI_RMM_CONFIG_SET), one per page.
 */
export type GranuleState = 'UNDELEGATED' | 'DELEGATED' | 'DATA' | 'RD' | 'REC' | 'RTT';

/** A level-3 entry: UNASSIGNED (with the RIPAS it keeps) or ASSIGNED to a DATA granule. */
export type S2tte = { readonly state: 'UNASSIGNED'; readonly ripas: 'EMPTY' | 'RAM' | 'DESTROYED' } | { readonly state: 'ASSIGNED'; readonly data: number };

export type KernelRealmState = 'REALM_STATE_NONE' | 'REALM_STATE_NEW' | 'REALM_STATE_ACTIVE' | 'REALM_STATE_DYING' | 'REALM_STATE_DEAD';

export interface CcaState {
  readonly backend: 'cca';
  readonly rmm: 'v1.0' | 'v2.0';
  /** Bytes per RMM granule. */
  readonly granule_size: number;
  /** Granule PA → state; absent means UNDELEGATED (non-secure). */
  readonly granules: Map<number, GranuleState>;
  /** RTTs that exist: `${level}:${index}` (levels 1..3; the level-0 root always exists). */
  readonly rtts: Set<string>;
  /** Level-3 entries by granule-aligned IPA; absent means UNASSIGNED/EMPTY. */
  readonly s2tte: Map<number, S2tte>;
  readonly realm: {
    /** RMM's view: no RD yet, NEW, ACTIVE. */
    rmm_state: 'NONE' | 'REALM_NEW' | 'REALM_ACTIVE';
    /** PA of the RD granule, 0 before REALM_CREATE. */
    rd: number;
    readonly rim: MeasureEntry[];
  };
  readonly kernel: {
    state: KernelRealmState;
    /** IPA bits of the realm: the protected range is the lower half, [0, 2^(ia_bits-1)). */
    readonly ia_bits: number;
  };
}

export const RMM_RTT_MAX_LEVEL = 3;
/** The IPA width of every modelled realm (the VM type's IPA size): the protected half is [0, 2^39). */
export const REALM_IA_BITS = 40;

/** Entries per RTT (4K translation granule, 8-byte descriptors). */
export const RTT_ENTRIES_SHIFT = 9;

export function createCcaState(rmm: 'v1.0' | 'v2.0', granule_size: number, rttDepth: number): CcaState {
  const rtts = new Set<string>();
  // The realm's tables for the scenario's IPA range down to `rttDepth` exist already (left by
  // earlier mappings); the populate path creates the rest.
  for (let level = 1; level <= rttDepth; level++) rtts.add(`${level}:0`);
  return {
    backend: 'cca',
    rmm,
    granule_size,
    granules: new Map(),
    rtts,
    s2tte: new Map(),
    realm: { rmm_state: 'NONE', rd: 0, rim: [] },
    kernel: { state: 'REALM_STATE_NONE', ia_bits: REALM_IA_BITS },
  };
}

/**
 * log2 of what one level-`level` RTT entry maps: ARM64_HW_PGTABLE_LEVEL_SHIFT(level) for the
 * granule (a level-3 entry maps a granule, each level above 512 times more). The model keeps 512
 * entries a table whatever its granule size, so a table covers what a 4K granule's does, scaled.
 */
export function rttLevelShift(granule_size: number, level: number): number {
  return Math.log2(granule_size) + RTT_ENTRIES_SHIFT * (RMM_RTT_MAX_LEVEL - level);
}

/** Index of the level-`level` table covering `ipa` (all tables of a level share one index space). */
export function rttIndex(s: CcaState, ipa: number, level: number): number {
  return Math.floor(ipa / 2 ** rttLevelShift(s.granule_size, level - 1));
}

/** Deepest level whose table covering `ipa` exists (0 = only the root). */
export function rttWalkLevel(s: CcaState, ipa: number): number {
  let level = 0;
  while (level < RMM_RTT_MAX_LEVEL && s.rtts.has(`${level + 1}:${rttIndex(s, ipa, level + 1)}`)) level++;
  return level;
}

export function granuleState(s: CcaState, pa: number): GranuleState {
  return s.granules.get(pa) ?? 'UNDELEGATED';
}
