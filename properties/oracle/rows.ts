/**
 * The documented conditions the functional oracle encodes, one row each, with the row ids of
 * the research note /work/notes/oracle-spec.md ("gmemcheck functional oracle — documented
 * results of the populate-path uAPIs"). A row says what the uAPI DOCUMENT of its generation says;
 * where the document is silent, `code` names the kernel source that decides (the oracle follows
 * it, as the note does) and `doc` still names the document that is silent. Rows the model cannot
 * express are listed too, with `encoded: false` and why, so the table is complete.
 *
 * Nothing here is read from a revision: the conditions are the documents', the silent cases the
 * cited kernel trees', evaluated against the world's state (memslots, attributes, guest_memfd
 * folios, the user mm, firmware state).
 */
export interface Row {
  /** Row id as in the note (`S2.1`, `T.6`, `RN.3`); `GP.*` are kvm_gmem_populate()'s contract (kernel-facts §1.9). */
  readonly id: string;
  /** The document (and generation) the row belongs to. */
  readonly doc: string;
  readonly condition: string;
  readonly result: string;
  /** Where the document is silent: the kernel code that decides, with its citation. */
  readonly code?: string;
  /** False when the model cannot express the condition (and why). */
  readonly encoded?: false;
  readonly why?: string;
  /**
   * Where the condition is judged when no call is decided by this row: the row that decides it
   * first, or the invariant that judges its effect. The oracle table lists it for a row no call
   * reached, so only a row without it (and encoded) is a generator gap.
   */
  readonly judged?: string;
}

/** The documents, per generation (citations as in the note's "Document generations found"). */
export const DOC = {
  S1: 'amd-memory-encryption.rst §19 SNP_LAUNCH_UPDATE, S1 (v6.11-v6.19; intel-lab-lkp/linux@293be8ff)',
  S2: 'amd-memory-encryption.rst §19 SNP_LAUNCH_UPDATE, S2 (v7.0; Roth v3 4/6, lore:20260108214622.1084057-5-michael.roth@amd.com)',
  T1: 'intel-tdx.rst KVM_TDX_INIT_MEM_REGION, T1 (v6.16-v6.19; torvalds/linux@aedc8fa5)',
  T2: 'intel-tdx.rst KVM_TDX_INIT_MEM_REGION, T2 (v7.0; Roth v3 5/6, lore:20260108214622.1084057-6-michael.roth@amd.com)',
  // The in-place series' mails stored here change no text of either document (the helper's
  // reading of v7 and v8, /work/notes/v8-populate-research.md): the S3/T3 rows follow its code.
  S3: 'amd-memory-encryption.rst §19 SNP_LAUNCH_UPDATE as S2, with the in-place series applied (v7 20/42, v8 22/46; no document text changed)',
  T3: 'intel-tdx.rst KVM_TDX_INIT_MEM_REGION as T2, with the in-place series applied (v7 21/42, v8 23/46; no document text changed)',
  R9: 'v9 api.rst §7.44 KVM_CAP_ARM_RME_POPULATE_REALM, R9 (lore:20250611104844.245235-7-steven.price@arm.com)',
  R12: 'v12 api.rst 4.145 KVM_ARM_RMI_POPULATE, R12 (lore:20251217101125.91098-7-steven.price@arm.com)',
  RN: 'api.rst §4.147 KVM_ARM_RMI_POPULATE, RN (kamalca/linux@aceada55)',
  A: 'api.rst §4.140-4.142 (A1/A2; kvm-x86/linux:Documentation/virt/kvm/api.rst@45278a08)',
  GP: 'include/linux/kvm_host.h kvm_gmem_populate() kernel-doc ("Returns the number of pages that were populated")',
  PF: 'api.rst §4.143 KVM_PRE_FAULT_MEMORY (v6.11+; "Returns: 0 if at least one page is processed, < 0 on error", the range updated to what is left)',
} as const;

/** The kernel sources that decide where a document is silent (the note's "code agrees?" snapshots). */
export const CODE = {
  snpOld: 'torvalds/linux:arch/x86/kvm/svm/sev.c@0097f9df (snp_launch_update, sev_gmem_post_populate)',
  snpNew: 'kvm-x86/linux:arch/x86/kvm/svm/sev.c@1a27afa0 (snp_launch_update, sev_gmem_post_populate)',
  gmemOld: 'torvalds/linux:virt/kvm/guest_memfd.c@0f94e51b (kvm_gmem_populate, old form)',
  gmemNew: 'kvm-x86/linux:virt/kvm/guest_memfd.c@5e38e1bd (kvm_gmem_populate, per-page GUP)',
  rfc: 'lore:20251113230759.1562024-4-michael.roth@amd.com (RFC v1 3/3: bulk GUP, GMEM_GUP_NPAGES per call)',
  rfcPrep: 'lore:20251113230759.1562024-2-michael.roth@amd.com (RFC v1 1/3: preparation tracking removed, no -EEXIST for a prepared folio)',
  snpLen0: 'lore:20250919211649.1575654-1-seanjc@google.com ("KVM: SEV: Reject non-positive effective lengths during LAUNCH_UPDATE", v2: -EINVAL up front, "technically an ABI change as KVM would previously allow a length of \'0\'")',
  tdxOld: 'kernelorg-mirror/virt_kvm_kvm:arch/x86/kvm/vmx/tdx.c@6249af46 (tdx_vcpu_init_mem_region, GUP in the callback)',
  tdxNew: 'kvm-x86/linux:arch/x86/kvm/vmx/tdx.c@09c6f74e (tdx_vcpu_init_mem_region, tdx_gmem_post_populate)',
  snpInPlace: 'lore:20260618-gmem-inplace-conversion-v8-22-9d2959357853@google.com (v8 22/46: a NULL source refused only with gmem_in_place_conversion off) on kvm-x86 b7fbe9a1 (no !params.uaddr check)',
  tdxInPlace: 'lore:20260618-gmem-inplace-conversion-v8-23-9d2959357853@google.com (v8 23/46: source_addr 0 is the destination itself, -EOPNOTSUPP with gmem_in_place_conversion off; not advanced) on kvm-x86 b7fbe9a1 (no !source_addr check)',
  gmemInPlace: 'lore:20260618-gmem-inplace-conversion-v8-10-9d2959357853@google.com (10/46, 16/46: kvm_gmem_range_is_private(), guest_memfd\'s attributes with gmem_in_place_conversion on)',
  tdxV70: 'lore:20251215153411.3613928-1-michael.roth@amd.com (v2 review, Yan Zhao: NULL src_page -> -EOPNOTSUPP; in v3 6/6, merged v7.0; kernel-facts B30)',
  v9: 'lore:20250611104844.245235-20-steven.price@arm.com (19/43; kvm_populate_realm as in v8 lore:20250416134208.383984-20-steven.price@arm.com)',
  v12: 'lore:20251217101125.91098-21-steven.price@arm.com (20/46)',
  rn: 'kamalca/linux:arch/arm64/kvm/rmi.c@845841b2 (kvm_arm_rmi_populate, realm_data_map_init)',
  kvmMain: 'virt/kvm/kvm_main.c (kernel-facts §5.1: kvm_vm_ioctl_set_mem_attributes, kvm_set_memory_region)',
  gmemCreate: 'virt/kvm/guest_memfd.c (kvm_gmem_create, kvm_gmem_bind, kvm_gmem_fallocate; note §6, §7, §10)',
  gmemAllocate: 'torvalds/linux:virt/kvm/guest_memfd.c@01f492e1 and kvm-x86/linux:virt/kvm/guest_memfd.c@5e38e1bd (kvm_gmem_fallocate, kvm_gmem_allocate; the same since v6.8 a7800aa8)',
  gmemBind: 'torvalds/linux:virt/kvm/guest_memfd.c@01f492e1 (kvm_gmem_bind: -EINVAL) and kvm-x86/linux:virt/kvm/guest_memfd.c@5e38e1bd (-EEXIST)',
} as const;

function row(id: string, doc: string, condition: string, result: string, extra: Partial<Pick<Row, 'code' | 'encoded' | 'why' | 'judged'>> = {}): Row {
  return { id, doc, condition, result, ...extra };
}

/** kvm_gmem_populate()'s contract, shared by every generation that calls it (kernel-facts §1.9). */
export const GP = {
  noGmem: row('GP.1', DOC.GP, 'the start gfn is in no memslot bound to a guest_memfd', '-EINVAL before any page', { code: `${CODE.gmemOld}; ${CODE.gmemNew}: !kvm_slot_has_gmem(slot)` , judged: 'on SNP and TDX the ioctl refuses such a gfn before kvm_gmem_populate() runs: S1.11/S2.5 (snp_launch_update()\'s memslot check) and T.gp (TDX looks up each page\'s slot, one page per call); CCA decides it as GP.1' }),
  noFile: row('GP.2', DOC.GP, 'the memslot\'s guest_memfd is gone (released)', '-EFAULT before any page', { code: `${CODE.gmemOld}; ${CODE.gmemNew}: CLASS(gmem_get_file) NULL` }),
  slotEnd: row('GP.3', DOC.GP, 'the range runs past the end of the start gfn\'s memslot', 'npages silently truncated at the memslot end', { code: `${CODE.gmemNew}: npages = min(slot->npages - (start_gfn - base_gfn), npages)` , judged: 'TDX calls kvm_gmem_populate() for one page at a time, so a range past the slot\'s end meets T.gp at its first page outside a guest_memfd slot' }),
  firstOnly: row('GP.4', DOC.GP, 'a page after the first fails', 'the count of pages before it; the error only when the first page failed (`ret && !i ? ret : i`)', { judged: 'on SNP and TDX by each backend\'s own partial-success rows (S1.20/S2.9 with the stopping page\'s row; TDX\'s count written back per page); CCA decides it as GP.4 (RN) and R12.8' }),
  // kernel-facts §1.9 lists -EHWPOISON among the per-page errors; no uAPI document names it.
  unbound: row('GP.6', DOC.GP, 'the page\'s guest_memfd index is not bound to its memslot (only after a bind whose xarray store failed silently, B16)', '-EIO for that page from __kvm_gmem_get_pfn() (after its file check, before the folio, hwpoison, prepared and attribute checks; no WARN for an empty index since paolo-v1 05/11); a check before kvm_gmem_get_pfn() (the source\'s GUP where it comes first, a pending signal) may fail the page first', { code: `${CODE.gmemOld}; ${CODE.gmemNew}: __kvm_gmem_get_pfn() kvm_gmem_bindings_load() != slot` }),
  hwpoison: row('GP.5', DOC.GP, 'a page whose guest_memfd folio is hardware-poisoned (memory_failure() left it in the page cache)', '-EHWPOISON from kvm_gmem_get_pfn() for that page, before any other check of it but the source\'s GUP where that comes first (and paolo-v1\'s FGP_CREAT_ONLY -EEXIST for a folio that exists, also -EIO on SNP); SNP answers -EIO', { code: `${CODE.gmemOld}; ${CODE.gmemNew}: __kvm_gmem_get_pfn() folio_test_hwpoison()` }),
} as const;

/** KVM_SEV_SNP_LAUNCH_UPDATE, S1 and S2 (note §1). */
export const SNP = {
  'S1.1': row('S1.1', DOC.S1, 'every page private, unpopulated, in one guest_memfd slot; valid type; flags 0; len a non-zero page multiple', '0; the whole range loaded and measured; gfn_start/uaddr advanced, len 0'),
  'S1.2': row('S1.2', DOC.S1, 'a gfn of the range is not KVM_MEMORY_ATTRIBUTE_PRIVATE', 'required in advance (no errno): first page -EIO (error 0); later page 0 with progress up to it', { code: CODE.snpOld }),
  'S1.3': row('S1.3', DOC.S1, 'fewer pages processed than asked, no error', '0 with the remaining range written back ("not guaranteed to have processed the entire range")'),
  'S1.4': row('S1.4', DOC.S1, 'type ZERO', 'uaddr "ignored completely": neither read nor advanced', { judged: 'with the row the call meets (S1.1, S1.3, a page row): a ZERO call skips every source check and its written-back uaddr must be the one passed in (fields())' }),
  'S1.5': row('S1.5', DOC.S1, 'type not NORMAL/ZERO/UNMEASURED/SECRETS/CPUID', '-EINVAL before any work', { code: CODE.snpOld }),
  'S1.6': row('S1.6', DOC.S1, 'flags != 0 ("Must be zero")', '-EINVAL', { code: CODE.snpOld }),
  'S1.7': row('S1.7', DOC.S1, 'len not 4K-aligned', '-EINVAL', { code: CODE.snpOld }),
  // The note reads -EIO here (the WARN of the newer kvm_gmem_populate() without the newer
  // up-front check): no tree combines the two. Before Sean's patch kvm_gmem_populate() took
  // npages 0 (`if (npages < 0)`) and the call succeeded doing nothing; after it, -EINVAL up front.
  'S1.8': row('S1.8', DOC.S1, 'len == 0', 'silent; 0 with nothing done (v6.11 code: kvm_gmem_populate() rejects only npages < 0), or -EINVAL up front (from Sean\'s 2025 patch); -EIO only where the memslot\'s guest_memfd is gone and nothing refuses the length first (kvm_gmem_populate() gets the file before its loop: -EFAULT)', { code: `${CODE.gmemOld}; ${CODE.snpLen0}` }),
  'S1.9': row('S1.9', DOC.S1, 'uaddr not 4K-aligned (non-ZERO)', 'silent; accepted, PAGE_SIZE bytes copied from uaddr + i*PAGE_SIZE', { code: CODE.snpOld , judged: 'by the page rows: no S1 tree refuses an unaligned uaddr up front, so the call goes on (S1.13 for a source byte it cannot read; src-offset-straddling judges the bytes); S2 refuses it (S2.1)' }),
  'S1.10': row('S1.10', DOC.S1, 'uaddr == 0 (non-ZERO)', 'silent; the callback\'s WARN_ON_ONCE(!src): -EIO, nothing populated', { code: CODE.snpOld }),
  'S1.11': row('S1.11', DOC.S1, 'gfn_start in no private-capable memslot', '-EINVAL', { code: CODE.snpOld }),
  'S1.12': row('S1.12', DOC.S1, 'a page already populated (folio prepared, or RMP entry assigned)', 'silent; -EEXIST from kvm_gmem_populate()/the callback: -EIO on the first page', { code: `${CODE.gmemOld}; ${CODE.snpOld}` }),
  'S1.13': row('S1.13', DOC.S1, 'a source byte of the page unreadable (copy_from_user faults)', 'silent; -EFAULT: -EIO on the first page', { code: CODE.snpOld }),
  'S1.14': row('S1.14', DOC.S1, 'SNP_LAUNCH_UPDATE fails on the first page', '-EIO, error = the firmware status; the page reclaimed, shared, not measured', { encoded: false, why: 'firmware refusals are platform conditions, reached only by a fault plan: judged relationally' }),
  'S1.16': row('S1.16', DOC.S1, '"-EAGAIN if caller should retry"', 'documented, never produced by the code: allowed, never expected', { judged: '-EAGAIN is in the ioctl\'s allowed errnos; no condition is documented for it' }),
  'S1.17': row('S1.17', DOC.S1, 'VM not SNP, or SNP_LAUNCH_START not done', '-EINVAL', { code: CODE.snpOld }),
  'S1.18': row('S1.18', DOC.S1, 'called after SNP_LAUNCH_FINISH', 'undefined (reported to crash the host): judged relationally only', { judged: 'relationally: a call after LAUNCH_FINISH is undefined, so snpOutcome() names S1.18 as the verdict\'s relational reason: at most the exact count reported, an errno the document allows, fields agreeing with the progress' }),
  'S1.19': row('S1.19', DOC.S1, 'the params struct lies in a read-only mapping, so its copy back after a success faults (Op arg_readonly)', 'silent; -EFAULT although the pages were populated (they stay private and measured) and userspace reads its struct unchanged: the progress is lost', { code: `${CODE.snpOld}: copy_to_user() only after count >= 0` }),
  'S1.20': row('S1.20', DOC.S1, 'a page after the first fails', '0; earlier pages stay private and measured; the failing page shared', { code: CODE.snpOld }),
  'S2.1': row('S2.1', DOC.S2, 'uaddr not 4K-aligned, type != ZERO ("4k-aligned address")', '-EINVAL before the memslot lookup', { code: CODE.snpNew }),
  'S2.2': row('S2.2', DOC.S2, 'uaddr == 0, type != ZERO', 'silent; -EINVAL up front', { code: `${CODE.snpNew} (!params.uaddr; the June 2026 "Fix issues reported by Sashiko")` }),
  'S2.3': row('S2.3', DOC.S2, 'len == 0', 'silent; -EINVAL up front', { code: CODE.snpNew }),
  'S2.4': row('S2.4', DOC.S2, 'ZERO with any uaddr', 'uaddr "ignored completely"', { judged: 'as S1.4, with the S2 rows' }),
  'S2.5': row('S2.5', DOC.S2, 'gfn_start\'s memslot has no guest_memfd', 'silent; -EINVAL', { code: CODE.snpNew }),
  'S2.6': row('S2.6', DOC.S2, 'a page already populated (RMP entry assigned)', 'silent; -EEXIST from the callback: -EIO on the first page', { code: CODE.snpNew }),
  'S2.7': row('S2.7', DOC.S2, 'the source page cannot be pinned (GUP)', 'silent; GUP errno: -EIO on the first page', { code: CODE.gmemNew }),
  'S2.8': row('S2.8', DOC.S2, 'type CPUID with a read-only source mapping', 'silent; pinned with FOLL_WRITE, GUP fails: -EIO on the first page', { code: `${CODE.gmemNew}, may_writeback_src (kvm-x86 f13e90059908)` }),
  'S2.9': row('S2.9', DOC.S2, 'a page after the first fails', 'as S1.20', { code: CODE.snpNew }),
  'S3.1': row('S3.1', DOC.S3, 'uaddr == 0, type NORMAL/UNMEASURED/CPUID/SECRETS, in-place conversion on', 'silent; accepted: each page loaded as the guest_memfd holds it (what the VMM wrote while shared, else zeros), uaddr left 0', { code: CODE.snpInPlace, judged: 'by the page rows (the private check is the file\'s own attribute: S1.2 with CODE.gmemInPlace), and the bytes by in-place-source and measurement' }),
  'S3.2': row('S3.2', DOC.S3, 'uaddr == 0, type != ZERO, in-place conversion off', 'silent; the callback\'s -EINVAL at the first page that passed the guest_memfd checks: -EIO', { code: CODE.snpInPlace }),
  'S2.10': row('S2.10', DOC.S2, 'the params struct lies in a read-only mapping (Op arg_readonly)', 'as S1.19', { code: `${CODE.snpNew}: copy_to_user() only after count >= 0` }),
} as const;

/** KVM_TDX_INIT_MEM_REGION, T1 and T2 (note §3: rows are shared, results per generation). */
export const TDX = {
  'T.1': row('T.1', DOC.T1, 'vCPU initialized, TD not finalized, range private, aligned, unpopulated', '0; every page added (and extended with MEASURE); nr_pages 0, gpa/source_addr advanced (write-back: code)', { code: CODE.tdxNew }),
  'T.2': row('T.2', DOC.T1, 'cmd.flags has KVM_TDX_MEASURE_MEMORY_REGION', 'the page contents extend the measurement (TDH.MR.EXTEND per chunk)', { judged: 'by the measurement invariant (the TD\'s MRTD against every page added with MEASURE); functional-spec decides the call itself (T.1 and the page rows)' }),
  'T.3': row('T.3', DOC.T1, 'cmd.flags has other bits', '-EINVAL', { code: CODE.tdxNew }),
  'T.4': row('T.4', DOC.T1, 'hw_error != 0 on input', '-EINVAL', { code: `${CODE.tdxNew}: tdx_get_cmd(), before the VM state guard; v6.16-v6.18 tdx_vcpu_ioctl() after the HKID and state check, -EINVAL either way` }),
  'T.5': row('T.5', DOC.T1, 'a gfn of the range not private', 'required ("needs to be private"): -EINVAL at that page, progress before it written back', { code: CODE.tdxNew }),
  'T.6': row('T.6', DOC.T2, 'source_addr not PAGE_SIZE-aligned (T2 documents it; T1 silent)', '-EINVAL before any page (all code generations)', { code: `${CODE.tdxOld}; ${CODE.tdxNew}` }),
  'T.7': row('T.7', DOC.T1, 'gpa unaligned, nr_pages 0, gpa + nr_pages*PAGE_SIZE wraps, or first/last GPA shared', 'silent; -EINVAL, nothing written back', { code: CODE.tdxNew }),
  'T.8': row('T.8', DOC.T1, 'source_addr == 0', 'silent; T1: accepted, the GUP of address 0 fails: -EFAULT at the page; T2: -EINVAL up front (newest) or -EOPNOTSUPP from the callback (v7.0)', { code: `${CODE.tdxOld}; ${CODE.tdxNew}; ${CODE.tdxV70}` }),
  'T3.1': row('T3.1', DOC.T3, 'source_addr == 0, in-place conversion on', 'silent; accepted: each page added from itself (the TDX module\'s in-place PAGE.ADD), source_addr left 0', { code: CODE.tdxInPlace, judged: 'by the page rows (the private check is the file\'s own attribute, T.5 with CODE.gmemInPlace), and the bytes by in-place-source and measurement' }),
  'T3.2': row('T3.2', DOC.T3, 'source_addr == 0, in-place conversion off', 'silent; -EOPNOTSUPP from the callback at the first page that passed the guest_memfd checks, progress before it written back', { code: CODE.tdxInPlace }),
  'T.9': row('T.9', DOC.T1, 'called after KVM_TDX_FINALIZE_VM (creation flow)', '-EINVAL', { code: CODE.tdxNew }),
  'T.10': row('T.10', DOC.T1, 'vCPU not KVM_TDX_INIT_VCPU\'d (creation flow)', '-EINVAL', { code: CODE.tdxNew }),
  'T.11': row('T.11', DOC.T1, 'no HKID (no KVM_TDX_INIT_VM)', '-EINVAL', { code: CODE.tdxNew , judged: 'not generated: every TDX scenario\'s set-up runs KVM_TDX_INIT_VM, and the HKID stays until the VM is gone, when no ioctl reaches it' }),
  'T.12': row('T.12', DOC.T1, 'signal pending before a page', 'silent; -EINTR with progress written back', { encoded: false, why: 'signals come only from a fault plan: judged relationally' }),
  'T.13': row('T.13', DOC.T1, 'a page already added', 'silent; T1: folio prepared, -EEXIST (or, RFC v1 having dropped preparation tracking, -EIO); T2: the S-EPT entry present, -EIO; progress before it written back', { code: `${CODE.gmemOld}; ${CODE.rfcPrep}; ${CODE.tdxNew} (RET_PF_SPURIOUS -> -EIO)` }),
  'T.14': row('T.14', DOC.T1, 'TDH.MEM.PAGE.ADD busy or failing', '-EBUSY / -EIO', { encoded: false, why: 'TDX-module refusals are platform conditions, reached only by a fault plan: judged relationally' }),
  'T.16': row('T.16', DOC.T1, 'the region lies in a read-only mapping, so its copy back faults (Op arg_readonly)', 'silent; -EFAULT in place of the loop\'s own result, once any argument check passed (the region is written back on every exit of the loop); the pages added stay and userspace reads its region unchanged', { code: `${CODE.tdxOld}; ${CODE.tdxNew}` }),
  'T.gp': row('T.gp', DOC.T1, 'a page past the end of the memslots, or a memslot without guest_memfd', 'silent; kvm_gmem_populate(gfn, 1) -EINVAL at that page (no truncation: one page a call), progress written back', { code: `${CODE.tdxNew}; ${CODE.gmemNew}` }),
  'T.src': row('T.src', DOC.T1, 'the source page cannot be pinned (GUP)', 'silent; -EFAULT at that page, progress written back', { code: `${CODE.tdxOld} (GUP in the callback); ${CODE.gmemNew} (GUP before the lock)` }),
} as const;

/**
 * The TDX launch steps around KVM_TDX_INIT_MEM_REGION (intel-tdx.rst, every generation: the
 * sub-ioctls' `flags`, `data` and `hw_error` "must be 0"; KVM_TDX_INIT_VCPU once per vCPU before
 * KVM_TDX_FINALIZE_VM, which "marks it ready to run"). The document names no errno: each row's
 * result is the code's, the same -EINVAL in every tree (tdx_vcpu_init(), tdx_td_finalize()).
 */
export const TDX_LAUNCH = {
  'TV.1': row('TV.1', DOC.T1, 'KVM_TDX_INIT_VCPU: flags 0, hw_error 0, vCPU not yet initialized, TD not finalized', '0; the vCPU is initialized', { code: `${CODE.tdxOld}; ${CODE.tdxNew}: tdx_vcpu_init()` }),
  'TV.2': row('TV.2', DOC.T1, 'KVM_TDX_INIT_VCPU with flags or hw_error set ("must be 0")', 'silent; -EINVAL', { code: `${CODE.tdxNew}: tdx_get_cmd() (hw_error), tdx_vcpu_init() (flags)` }),
  'TV.3': row('TV.3', DOC.T1, 'KVM_TDX_INIT_VCPU of a vCPU already initialized', 'silent; -EINVAL', { code: `${CODE.tdxNew}: tdx_vcpu_init() state != VCPU_TD_STATE_UNINITIALIZED` }),
  'TV.4': row('TV.4', DOC.T1, 'KVM_TDX_INIT_VCPU after KVM_TDX_FINALIZE_VM', 'silent; -EINVAL', { code: `${CODE.tdxOld}: tdx_vcpu_ioctl(); ${CODE.tdxNew}: tdx_vcpu_unlocked_ioctl(), TD_STATE_RUNNABLE` }),
  'TF.1': row('TF.1', DOC.T1, 'KVM_TDX_FINALIZE_VM of a TD not yet finalized', '0; the TD is runnable (KVM_TDX_INIT_MEM_REGION then answers T.9); -EBUSY where TDH.MR.FINALIZE is contended, the TD left as it was', { code: `${CODE.tdxOld}; ${CODE.tdxNew}: tdx_td_finalize()` }),
  'TF.2': row('TF.2', DOC.T1, 'KVM_TDX_FINALIZE_VM again', 'silent; -EINVAL', { code: `${CODE.tdxNew}: tdx_td_finalize() state != TD_STATE_INITIALIZED` }),
  'TF.3': row('TF.3', DOC.T1, 'KVM_TDX_FINALIZE_VM while an S-EPT entry is premapped, its TDH.MEM.PAGE.ADD never done (v6.16 .. v6.18 only: the map and the add are one step from the TDX MMU rework on)', 'silent; -EINVAL', { code: `${CODE.tdxOld}: tdx_td_finalize() nr_premapped` }),
} as const;

/** Arm CCA populate: R9, R12, RN (note §5). */
export const ARM = {
  'R9.1': row('R9.1', DOC.R9, 'realm NEW, range aligned, in one memslot, shared alias mapped', '0; every page copied from the shared alias into protected memory, measured iff MEASURE'),
  'R9.2': row('R9.2', DOC.R9, 'realm not NEW (not created, or activated)', '-EPERM, checked first', { code: CODE.v9 }),
  'R9.3': row('R9.3', DOC.R9, 'base/size not PAGE-aligned, or unknown flags', '-EINVAL (reserved not checked)', { code: CODE.v9 }),
  'R9.4': row('R9.4', DOC.R9, 'base + size wraps; size 0', '-EINVAL; size 0: 0, nothing done', { code: CODE.v9 }),
  'R9.5': row('R9.5', DOC.R9, 'per SZ_2M chunk: no memslot at its start / it crosses the memslot end / the slot is not private-capable', '-EFAULT / -EINVAL / -EPERM', { code: CODE.v9 }),
  'R9.6': row('R9.6', DOC.R9, 'the shared alias of a page unmapped, or not writable (faulted in with FOLL_WRITE)', '-EFAULT', { code: CODE.v9 }),
  'R9.7': row('R9.7', DOC.R9, 'an RMI delegate/DATA_CREATE fails (e.g. the page is already populated)', '-ENXIO', { code: CODE.v9 }),
  'R9.8': row('R9.8', DOC.R9, 'a failure after some pages', '"negative value on error" with an input-only struct: no progress can be reported, so no page may stay populated (the code leaves them: G9)'),
  'R9.src': row('R9.src', DOC.R9, 'the source is not the shared alias', 'not expressible in the v9 uAPI (the model answers -ENOTTY): no verdict', { encoded: false, why: 'not expressible' }),
  'R12.1': row('R12.1', DOC.R12, 'success', '"Returns: number of bytes populated"; may stop short; fields are (in): nothing written back', { code: CODE.v12 }),
  'R12.2': row('R12.2', DOC.R12, 'a vCPU has run ("only valid before any VCPUs have been run")', 'ACTIVE/DYING -EBUSY, DEAD -ENXIO; NONE: the realm is created first', { code: CODE.v12 }),
  'R12.3': row('R12.3', DOC.R12, 'non-realm VM', '-EPERM', { encoded: false, why: 'every CCA VM of the model is a realm' }),
  'R12.4': row('R12.4', DOC.R12, 'reserved != 0, unknown flags, base or base+size unaligned', 'silent; -EINVAL (no wrap or source_uaddr alignment check)', { code: CODE.v12 }),
  'R12.5': row('R12.5', DOC.R12, 'size == 0', 'silent; kvm_gmem_populate() WARN_ON_ONCE(npages <= 0): -EINVAL', { code: `${CODE.v12}; ${CODE.gmemOld}` }),
  'R12.6': row('R12.6', DOC.R12, 'MEASURE flag', 'undocumented in R12; args->flags passed for data_flags, equal in value to RMI_MEASURE_CONTENT: measured iff set', { code: CODE.v12 , judged: 'by the measurement invariant (the RIM against every page populated with MEASURE); functional-spec decides the call itself' }),
  'R12.7': row('R12.7', DOC.R12, 'a gfn not private / already populated (folio prepared)', 'silent; -EINVAL / -EEXIST on the first page', { code: `${CODE.v12}; ${CODE.gmemOld}` }),
  'R12.8': row('R12.8', DOC.R12, 'a page after the first fails', 'silent; the byte count of the pages before it', { code: CODE.v12 }),
  'R12.src': row('R12.src', DOC.R12, 'the source page cannot be pinned', 'silent; -EFAULT from get_user_pages() on the first page', { code: CODE.v12 }),
  'R12.rmi': row('R12.rmi', DOC.R12, 'an RMI delegate/DATA_CREATE fails (e.g. the page is already the realm\'s)', 'silent; -ENXIO on the first page', { code: CODE.v12 }),
  'RN.1': row('RN.1', DOC.RN, 'valid, every page private and unpopulated, realm NONE/NEW', '0; populated from source_uaddr (RIPAS RAM); on partial progress base/size/source_uaddr updated'),
  'RN.2': row('RN.2', DOC.RN, 'a page not private ("must have KVM_MEMORY_ATTRIBUTE_PRIVATE set"; guest_memfd-tracked here)', 'first page -EINVAL, fields unchanged; later page 0 with partial progress', { code: CODE.rn }),
  'RN.3': row('RN.3', DOC.RN, 'source_uaddr 0 or not page-aligned ("a valid, page-aligned userspace pointer")', '-EINVAL before any lock', { code: CODE.rn }),
  'RN.4': row('RN.4', DOC.RN, 'reserved != 0, unknown flags, base+size wraps, base or base+size unaligned', 'silent; -EINVAL before any lock', { code: CODE.rn }),
  'RN.5': row('RN.5', DOC.RN, 'a vCPU has run ("only valid before any VCPUs have been run")', 'ACTIVE/DYING -EBUSY; DEAD -ENXIO', { code: CODE.rn }),
  'RN.6': row('RN.6', DOC.RN, 'realm not yet created', 'silent; the RD is created as a side effect', { code: CODE.rn , judged: 'by RN.1 and the page rows: realmState() lets a realm in REALM_STATE_NONE populate as a NEW one (the RD is created on the way), which is every realm\'s first populate' }),
  'RN.7': row('RN.7', DOC.RN, 'range outside the protected IPA space (BIT(ia_bits - 1))', 'silent; -EINVAL after RN.6', { code: CODE.rn }),
  'RN.8': row('RN.8', DOC.RN, 'size == 0 (aligned, valid)', 'silent; 0, nothing populated, fields unchanged (after RN.6)', { code: CODE.rn }),
  'RN.9': row('RN.9', DOC.RN, 'MEASURE flag', 'contents hashed into the RIM', { judged: 'by the measurement invariant (the RIM against every page populated with MEASURE); functional-spec decides the call itself' }),
  'RN.10': row('RN.10', DOC.RN, 'an RMI delegate/map fails (e.g. the page is already the realm\'s)', 'silent; -ENXIO', { code: CODE.rn }),
  'RN.11': row('RN.11', DOC.RN, 'RTT error at the last level (the IPA is still mapped)', 'silent; KVM_BUG_ON: -EIO', { encoded: false, why: 'reachable only after an injected unmap failure: judged relationally' }),
  'RN.12': row('RN.12', DOC.RN, 'the struct lies in a read-only mapping, so its copy back faults (Op arg_readonly)', 'silent; -EFAULT in place of whatever kvm_arm_rmi_populate() returned (the struct is copied back after every call of it); the pages populated stay', { code: 'kamalca/linux:arch/arm64/kvm/arm.c@01e4ba17 (KVM_ARM_RMI_POPULATE: copy_to_user() after kvm_arm_rmi_populate())' }),
  'RN.src': row('RN.src', DOC.RN, 'the source page cannot be pinned', 'silent; GUP errno on the first page', { code: CODE.gmemNew }),
} as const;

/** The VM ioctls around the populate path (note §6-§8, §10). */
export const GENERIC = {
  'MA.1': row('MA.1', DOC.A, 'KVM_SET_MEMORY_ATTRIBUTES: aligned, supported attributes, flags 0', '0; every gfn of [address, address + size) has exactly `attributes` (all or nothing)'),
  'MA.2': row('MA.2', DOC.A, 'flags != 0 ("must be \'0\'")', '-EINVAL, checked first', { code: CODE.kvmMain }),
  'MA.3': row('MA.3', DOC.A, 'attributes outside KVM_CAP_MEMORY_ATTRIBUTES', '-EINVAL', { code: CODE.kvmMain }),
  'MA.4': row('MA.4', DOC.A, 'size 0, or address + size wraps', 'silent; -EINVAL', { code: CODE.kvmMain }),
  'MA.5': row('MA.5', DOC.A, 'address or size not page-aligned ("must be page aligned")', '-EINVAL', { code: CODE.kvmMain }),
  'MA.6': row('MA.6', DOC.A, 'the range already has these attributes', 'silent; 0, no change', { code: CODE.kvmMain }),
  'G.1': row('G.1', DOC.A, 'KVM_CREATE_GUEST_MEMFD, valid', 'a new file descriptor'),
  'G.2': row('G.2', DOC.A, 'flags outside KVM_CAP_GUEST_MEMFD_FLAGS (A2, v6.18+: MMAP, INIT_SHARED)', '-EINVAL', { code: CODE.gmemCreate }),
  'G.3': row('G.3', DOC.A, 'size <= 0 or not page-aligned', 'silent; -EINVAL', { code: CODE.gmemCreate }),
  'G.6': row('G.6', DOC.A, 'any flag, before KVM_CAP_GUEST_MEMFD_FLAGS (A1: v6.8 .. v6.17 define none for a VM with private memory)', '-EINVAL', { code: 'virt/kvm/guest_memfd.c kvm_gmem_create() of v6.8 .. v6.17 (valid_flags 0; MMAP only where kvm_arch_supports_gmem_mmap(), false on x86 for SEV-SNP and TDX VMs)' }),
  'G.5': row('G.5', DOC.A, 'GUEST_MEMFD_FLAG_INIT_SHARED on an SNP/TDX VM', 'silent on VM types; x86 rejects it for VMs with private memory: -EINVAL', { code: 'include/linux/kvm_host.h kvm_gmem_get_supported_flags() (note G.5)' , judged: 'x86 only: on a realm VM the generation\'s kvm_arch_supports_gmem_init_shared() decides (rmi-newest\'s tree takes the flag, and RN.2 judges the populates of the shared indexes; the model refuses it for rme-v12), and the oracle leaves that answer to the code (generic.ts)' }),
  'M.1': row('M.1', DOC.A, 'KVM_SET_USER_MEMORY_REGION2 with KVM_MEM_GUEST_MEMFD, valid, unbound', '0; [guest_memfd_offset, +memory_size) bound to the slot'),
  'M.3': row('M.3', DOC.A, 'the guest_memfd range is already bound', '-EINVAL up to v7.0; -EEXIST from kvm-x86 7ea987a90585 ("KVM: guest_memfd: Return -EEXIST for overlapping bindings")', { code: CODE.gmemBind }),
  'M.4': row('M.4', DOC.A, 'guest_memfd_offset unaligned, or offset + size past the file ("common sense")', '-EINVAL', { code: CODE.gmemCreate }),
  'M.5': row('M.5', DOC.A, 'the GPA range overlaps another memslot', '-EEXIST', { code: 'api.rst §4.35' }),
  'M.6': row('M.6', DOC.A, 'an existing guest_memfd slot modified (same id, non-zero size)', '-EINVAL ("Private memslots are immutable")', { code: CODE.kvmMain }),
  'FA.1': row('FA.1', DOC.A, 'fallocate(FALLOC_FL_KEEP_SIZE), allocate mode, over a range inside the file', 'silent; 0 with a folio in the page cache for every index of the range (kvm_gmem_allocate())', { code: CODE.gmemAllocate }),
  'FA.2': row('FA.2', DOC.A, 'fallocate() with offset or len not page-aligned, or len 0', 'silent; -EINVAL (len 0: vfs_fallocate(), before the mode)', { code: CODE.gmemCreate }),
  'FA.3': row('FA.3', DOC.A, 'fallocate() in allocate mode past the end of the file (offset + len > i_size)', 'silent; -EINVAL ("Dedicated guest is immutable by default")', { code: CODE.gmemAllocate }),
  'FA.4': row('FA.4', DOC.A, 'fallocate() without FALLOC_FL_KEEP_SIZE, or with a mode bit other than KEEP_SIZE and PUNCH_HOLE', 'silent; -EOPNOTSUPP', { code: CODE.gmemCreate }),
  'FA.5': row('FA.5', DOC.A, 'fallocate(PUNCH_HOLE) ("guest_memfd files do however support PUNCH_HOLE")', '0; the folios of the range are gone, with their populated, private state, and no firmware mapping outside the range changes', { code: CODE.gmemCreate }),
} as const;

const PRE_FAULT_CODE = 'virt/kvm/kvm_main.c kvm_vcpu_ioctl() and kvm_vcpu_pre_fault_memory() as added in v6.11 (lore:9b866a0ae7147f96571c439e75429a03dcb659b6.1712785629.git.isaku.yamahata@intel.com\'s series)';

/**
 * KVM_PRE_FAULT_MEMORY on an SNP or TDX VM while its launch is under way, that is around
 * populate (the vCPU ioctl x86 has from v6.11). Before LAUNCH_FINISH / FINALIZE_VM the VM does
 * not allow it (`kvm->arch.pre_fault_allowed`, which the document's EOPNOTSUPP "for the current
 * vCPU state/mode" covers); after, it faults pages into the guest, which the model leaves out.
 */
export const PRE_FAULT = {
  'PF.1': row('PF.1', DOC.PF, 'flags != 0', 'silent; -EINVAL, checked first, nothing processed', { code: PRE_FAULT_CODE }),
  'PF.2': row('PF.2', DOC.PF, 'gpa or size not page-aligned, size 0, or gpa + size wraps (as u64s)', '-EINVAL ("not page aligned, causes an overflow, or size is zero")'),
  'PF.3': row('PF.3', DOC.PF, 'an SNP or TDX VM whose launch is not finished (no KVM_SEV_SNP_LAUNCH_FINISH / KVM_TDX_FINALIZE_VM has succeeded)', '-EOPNOTSUPP ("unsupported ... for the current vCPU state/mode"); nothing mapped, no page allocated; -EINTR instead under a pending signal ("no page was processed")', { code: 'arch/x86/kvm/mmu/mmu.c kvm_arch_vcpu_pre_fault_memory() (!pre_fault_allowed: -EOPNOTSUPP, its first test since 5932ca411e53, lore:20240726185157.72821-2-pbonzini@redhat.com), arch/x86/kvm/x86.c kvm_arch_init_vm() (false for SNP and TDX VM types), set by sev.c snp_launch_finish() and tdx.c tdx_td_finalize() (kernel-facts §2.5, §3.4)' }),
  'PF.4': row('PF.4', DOC.PF, 'the struct lies in a read-only mapping, so its copy back faults (Op arg_readonly)', '-EFAULT ("the parameter address was invalid"), in place of whatever the call decided: the range is copied back after every call', { code: PRE_FAULT_CODE }),
  'PF.5': row('PF.5', DOC.PF, 'a tree before v6.11 (paolo-v1): no such ioctl', 'not in that tree\'s document; -EINVAL, x86 kvm_arch_vcpu_ioctl()\'s default, nothing copied back', { code: 'arch/x86/kvm/x86.c kvm_arch_vcpu_ioctl() default case (model/revisions/paolo-v1.ts)' }),
  'PF.6': row('PF.6', DOC.PF, 'after the launch is finished', 'the range is faulted into the guest (kvm_tdp_map_page())', { encoded: false, why: 'the guest\'s fault path after launch is not modelled: the scenario schema refuses the call after a launch-finishing op' }),
} as const;

/** Every row, for the tables in the report and the unit tests. */
export const ALL_ROWS: readonly Row[] = [...Object.values(GP), ...Object.values(SNP), ...Object.values(TDX), ...Object.values(TDX_LAUNCH), ...Object.values(ARM), ...Object.values(GENERIC), ...Object.values(PRE_FAULT)];
