import type { UserStructRef } from '../../backends/snp/uapi.js';

/**
 * copy_from_user()/copy_to_user() of a whole uAPI struct. The model keeps ioctl argument
 * structs as records in user memory rather than bytes; copying can't fault for them.
 */
export interface UserStructServices {
  copy_struct_from_user<T extends object>(src: UserStructRef<T>): T;
  copy_struct_to_user<T extends object>(dst: UserStructRef<T>, value: T): number;
}

export function userStructServices(): UserStructServices {
  return {
    copy_struct_from_user: (src) => ({ ...src.value }),
    copy_struct_to_user(dst, value) {
      dst.value = { ...value };
      return 0;
    },
  };
}
