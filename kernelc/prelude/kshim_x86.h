/*
 * What both x86 backends' populate paths take from arch/x86's headers: page-table levels and
 * the gfn/gpa/hpa conversions (asm/pgtable_types.h, include/linux/kvm_host.h), in the model's
 * page geometry.
 */
#ifndef KSHIM_X86_H
#define KSHIM_X86_H

#include "kshim.h"

enum pg_level { PG_LEVEL_NONE, PG_LEVEL_4K, PG_LEVEL_2M, PG_LEVEL_1G, PG_LEVEL_512G, PG_LEVEL_NUM };
#define pfn_to_hpa(pfn) ((hpa_t)(pfn) << PAGE_SHIFT)
#define gfn_to_gpa(gfn) ((gpa_t)(gfn) << PAGE_SHIFT)
#define gpa_to_gfn(gpa) ((gfn_t)((gpa) >> PAGE_SHIFT))
/* x86's smp_rmb()/smp_wmb() are compiler barriers (TSO); the model runs one thread. */
#define smp_rmb() barrier()
#define smp_wmb() barrier()

#endif /* KSHIM_X86_H */
