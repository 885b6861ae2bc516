/**
 * Linux errno values (include/uapi/asm-generic/errno-base.h, errno.h), numeric so that
 * `return ret && !i ? ret : i;` reads the same as the C.
 */
export const EPERM = 1;
export const ENOENT = 2;
export const EINTR = 4;
export const EIO = 5;
export const ENXIO = 6;
export const EBADF = 9;
export const ENODEV = 19;
export const ENOTTY = 25;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const EINVAL = 22;
export const ENOSPC = 28;
export const ENOSYS = 38;
export const EAGAIN = 11;
export const EOPNOTSUPP = 95;
export const EHWPOISON = 133;
export const MAX_ERRNO = 4095;

const NAMES: ReadonlyMap<number, string> = new Map([
  [EPERM, 'EPERM'], [ENOENT, 'ENOENT'], [EBADF, 'EBADF'], [ENODEV, 'ENODEV'], [ENOTTY, 'ENOTTY'], [EINTR, 'EINTR'], [EIO, 'EIO'], [ENXIO, 'ENXIO'],
  [EAGAIN, 'EAGAIN'], [ENOMEM, 'ENOMEM'], [EACCES, 'EACCES'], [EFAULT, 'EFAULT'], [EBUSY, 'EBUSY'], [EEXIST, 'EEXIST'],
  [EINVAL, 'EINVAL'], [ENOSPC, 'ENOSPC'], [ENOSYS, 'ENOSYS'], [EOPNOTSUPP, 'EOPNOTSUPP'],
  [EHWPOISON, 'EHWPOISON'],
]);

/** `-22` → `-EINVAL`; other numbers print as themselves. */
export function errnoName(ret: number): string {
  if (ret < 0) {
    const name = NAMES.get(-ret);
    if (name !== undefined) return `-${name}`;
  }
  return String(ret);
}
