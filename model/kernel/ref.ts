/**
 * `&obj->field` as an out-parameter: the callee writes `value`, which lands in the field.
 * (e.g. `&sev_populate_args->fw_error` handed to __sev_issue_cmd()).
 */
export function fieldRef<T extends object, F extends keyof T>(obj: T, field: F): { value: T[F] } {
  return {
    get value() {
      return obj[field];
    },
    set value(v: T[F]) {
      obj[field] = v;
    },
  };
}

/** C's ALIGN_DOWN() (linux/align.h) of a non-negative number, for a power-of-two `a`. */
export function ALIGN_DOWN(x: number, a: number): number {
  return x - (x % a);
}

/** C's IS_ALIGNED()/PAGE_ALIGNED(), of a number or of a u64 (bigint). */
export function IS_ALIGNED(x: number | bigint, a: number): boolean {
  return typeof x === 'bigint' ? x % BigInt(a) === 0n : x % a === 0;
}
