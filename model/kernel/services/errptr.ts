import { MAX_ERRNO } from '../errno.js';

/**
 * Pointers are numbers, as in the C: NULL is 0 and an ERR_PTR is a negative errno
 * (-MAX_ERRNO..-1), so `IS_ERR()`/`PTR_ERR()` read as in the kernel (include/linux/err.h).
 */
export const NULL = 0;

export function ERR_PTR(error: number): number {
  return error;
}

export function IS_ERR(ptr: number): boolean {
  return ptr < 0 && ptr >= -MAX_ERRNO;
}

export function PTR_ERR(ptr: number): number {
  return ptr;
}
