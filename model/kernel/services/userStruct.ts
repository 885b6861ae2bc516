import type { UserStructRef } from '../../backends/snp/uapi.js';

/**
 * copy_from_user()/copy_to_user() of a whole uAPI struct. The model keeps ioctl argument
 * structs as records in user memory rather than bytes. Only the copy back can fault: into a
 * struct in a read-only mapping (Op `arg_readonly`), where copy_to_user() copies nothing and
 * returns the bytes left (non-zero). What it would have written is kept as `lost`, so the
 * invariants can still read the progress the kernel made.
 */
export interface UserStructServices {
  copy_struct_from_user<T extends object>(src: UserStructRef<T>): T;
  copy_struct_to_user<T extends object>(dst: UserStructRef<T>, value: T): number;
}

export function userStructServices(): UserStructServices {
  return {
    copy_struct_from_user: (src) => ({ ...src.value }),
    copy_struct_to_user(dst, value) {
      if (dst.readOnly === true) {
        dst.lost = { ...value };
        return 1;
      }
      dst.value = { ...value };
      return 0;
    },
  };
}
