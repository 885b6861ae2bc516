import { describe, expect, test } from 'vitest';
import { detectGmemApi, extract } from '../../kernelc/extract.js';
import { FIXTURE_TREE, editedTree } from './trees.js';

const HOST_H = 'include/linux/kvm_host.h';

describe('extract()', () => {
  test('takes the SNP populate path and what it calls, in file order, and nothing else', () => {
    const x = extract(FIXTURE_TREE, 'snp');
    expect(x.api).toBe('KSHIM_GMEM_API_PAGE_WB');
    expect(x.taken.map((t) => `${t.file}:${t.unit.startLine} ${t.unit.name ?? ''}`)).toEqual([
      'virt/kvm/guest_memfd.c:14 gmem_file',
      'virt/kvm/guest_memfd.c:23 folio_file_pfn',
      'virt/kvm/guest_memfd.c:30 kvm_gmem_get_index',
      'virt/kvm/guest_memfd.c:48 kvm_gmem_get_file',
      'virt/kvm/guest_memfd.c:54 gmem_get_file',
      'virt/kvm/guest_memfd.c:58 __kvm_gmem_get_pfn',
      'virt/kvm/guest_memfd.c:98 __kvm_gmem_populate',
      'virt/kvm/guest_memfd.c:128 kvm_gmem_populate',
      'arch/x86/kvm/svm/sev.c:13 sev_gmem_populate_args',
      'arch/x86/kvm/svm/sev.c:19 sev_get_asid',
      'arch/x86/kvm/svm/sev.c:25 kvm_rmp_make_shared',
      'arch/x86/kvm/svm/sev.c:35 snp_page_reclaim',
      'arch/x86/kvm/svm/sev.c:49 sev_gmem_post_populate',
      'arch/x86/kvm/svm/sev.c:103 snp_page_type_ok',
      'arch/x86/kvm/svm/sev.c:116 snp_launch_update',
    ]);
    // Not on the path: punch-hole, LAUNCH_FINISH, an unused macro.
    expect(x.taken.map((t) => t.unit.name)).not.toContain('kvm_gmem_punch_hole');
    expect(x.taken.map((t) => t.unit.name)).not.toContain('snp_launch_finish');
    expect(x.taken.map((t) => t.unit.name)).not.toContain('for_each_gmem_view');
  });

  test('the translation unit maps every taken unit to its file and line, and frames every function but the entry', () => {
    const { source } = extract(FIXTURE_TREE, 'snp');
    expect(source).toContain('#line 128 "virt/kvm/guest_memfd.c"');
    expect(source).toContain('#define KSHIM_HAVE_folio_file_pfn 1');
    expect(source).toMatch(/static int sev_gmem_post_populate\([^)]*\)\s*\{ KSHIM_FRAME\("sev_gmem_post_populate"\);/);
    expect(source).not.toContain('KSHIM_FRAME("snp_launch_update")');
  });

  test('a helper the patch adds to the file is taken with its caller', () => {
    const tree = editedTree('arch/x86/kvm/svm/sev.c', 'static bool snp_page_type_ok(u8 type)\n{', 'static bool snp_type_is_known(u8 type)\n{\n\treturn type <= KVM_SEV_SNP_PAGE_TYPE_CPUID;\n}\n\nstatic bool snp_page_type_ok(u8 type)\n{\n\tif (!snp_type_is_known(type))\n\t\treturn false;');
    expect(extract(tree, 'snp').taken.map((t) => t.unit.name)).toContain('snp_type_is_known');
  });

  test('of two definitions under #if/#elif/#else, the one the model\'s configuration selects is taken', () => {
    const asid = 'static unsigned int sev_get_asid(struct kvm *kvm)\n{\n\treturn to_kvm_sev_info(kvm)->asid;\n}\n';
    const variant = (n: number) => `static unsigned int sev_get_asid(struct kvm *kvm)\n{\n\treturn ${n};\n}\n`;
    const pick = (from: string) => {
      const x = extract(editedTree('arch/x86/kvm/svm/sev.c', asid, from), 'snp');
      return x.taken.filter((t) => t.unit.name === 'sev_get_asid').map((t) => t.unit.text);
    };
    // The taken one is the real definition; every other branch's is left out.
    const real = [expect.stringContaining('to_kvm_sev_info')];
    expect(pick(`#ifdef CONFIG_NOT_MODELLED\n${variant(1)}#else\n${asid}#endif\n`)).toEqual(real);
    expect(pick(`#if IS_ENABLED(CONFIG_KVM_AMD_SEV)\n${asid}#elif defined(CONFIG_KVM)\n${variant(2)}#else\n${variant(3)}#endif\n`)).toEqual(real);
    expect(pick(`#if 0\n${variant(1)}#elif defined(CONFIG_NOT_MODELLED)\n${variant(2)}#else\n${asid}#endif\n`)).toEqual(real);
  });
});

describe('refusals name what is missing', () => {
  test('no entry function', () => {
    const tree = editedTree('arch/x86/kvm/svm/sev.c', 'static int snp_launch_update(', 'static int snp_launch_update_renamed(');
    expect(() => extract(tree, 'snp')).toThrow(/snp_launch_update\(\) is not defined in virt\/kvm\/guest_memfd.c or arch\/x86\/kvm\/svm\/sev.c/);
  });

  test('no kvm_host.h, or an API generation kernel mode does not know', () => {
    const none = editedTree(HOST_H, 'typedef int (*kvm_gmem_populate_cb)', 'typedef int (*other_cb)');
    expect(() => detectGmemApi(none)).toThrow(/declares no kvm_gmem_populate_cb/);
    const odd = editedTree(HOST_H, 'struct page *src_page, void *opaque', 'u64 cookie, void *opaque');
    expect(() => detectGmemApi(odd)).toThrow(/an API generation kernel mode does not know/);
  });

  test('each API generation is told from the tree\'s declarations', () => {
    expect(detectGmemApi(editedTree(HOST_H, '\t\t       bool may_writeback_src,\n', ''))).toBe('KSHIM_GMEM_API_PAGE');
    expect(detectGmemApi(editedTree(HOST_H, 'struct page *src_page, void *opaque', 'void __user *src, int order, void *opaque'))).toBe('KSHIM_GMEM_API_OLD');
  });
});
