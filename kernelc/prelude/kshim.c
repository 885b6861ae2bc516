/*
 * The generic C half of the shim: the machine's geometry, a bump allocator for the objects
 * the shim builds, printk-style formatting for WARN()/KVM_BUG()/pr_*() messages, and the
 * constructors of the prelude's own structs. One instance serves one scenario, so nothing is
 * ever freed.
 */
#include "kshim.h"

unsigned long kshim_page_size;
unsigned int kshim_page_shift;
unsigned int kshim_pmd_order;

KIMPORT(kshim_report_warn) void kshim_report_warn(int macro, const char *msg);
KIMPORT(kshim_report_kvm_bug) void kshim_report_kvm_bug(int macro, void *kvm, const char *msg);
KIMPORT(kshim_report_print) void kshim_report_print(int level, const char *msg);
KIMPORT(kshim_out_of_memory) void kshim_out_of_memory(size_t size);

void kshim_init(unsigned long page_size, unsigned int page_shift, unsigned int pmd_order)
{
	kshim_page_size = page_size;
	kshim_page_shift = page_shift;
	kshim_pmd_order = pmd_order;
}

static _Alignas(16) unsigned char kshim_arena[64 * 1024];
static size_t kshim_used;

void *kshim_zalloc(size_t size)
{
	size_t at = ALIGN(kshim_used, (size_t)16);

	if (at + size > sizeof(kshim_arena)) {
		kshim_out_of_memory(size);
		return NULL;
	}
	kshim_used = at + size;
	__builtin_memset(kshim_arena + at, 0, size);
	return kshim_arena + at;
}

/* ---- a small vsnprintf: %d %i %u %x %X %p %s %c %%, with l, ll, z, h, hh, '#', '0' and a width ---- */
struct kshim_buf { char *p; size_t n, len; };

static void put(struct kshim_buf *b, char c)
{
	if (b->len + 1 < b->n)
		b->p[b->len] = c;
	b->len++;
}

static void put_num(struct kshim_buf *b, unsigned long long v, bool neg, unsigned int base, bool upper, int width,
		    char pad)
{
	char tmp[24];
	int i = 0;

	do {
		unsigned int d = (unsigned int)(v % base);

		tmp[i++] = (char)(d < 10 ? '0' + d : (upper ? 'A' : 'a') + d - 10);
		v /= base;
	} while (v);
	if (neg)
		tmp[i++] = '-';
	for (int w = i; w < width; w++)
		put(b, pad);
	while (i)
		put(b, tmp[--i]);
}

static int kshim_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct kshim_buf b = { buf, size, 0 };

	for (; *fmt; fmt++) {
		bool alt = false;
		char pad = ' ';
		int width = 0, longs = 0;

		if (*fmt != '%') {
			put(&b, *fmt);
			continue;
		}
		fmt++;
		for (; *fmt == '#' || *fmt == '0' || *fmt == '-'; fmt++) {
			if (*fmt == '#')
				alt = true;
			else if (*fmt == '0')
				pad = '0';
		}
		for (; *fmt >= '0' && *fmt <= '9'; fmt++)
			width = width * 10 + (*fmt - '0');
		for (; *fmt == 'l' || *fmt == 'z' || *fmt == 'h'; fmt++)
			if (*fmt != 'h')
				longs++;
		switch (*fmt) {
		case 'd':
		case 'i': {
			long long v = longs ? va_arg(ap, long long) : va_arg(ap, int);

			put_num(&b, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v, v < 0, 10, false, width, pad);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			unsigned long long v = longs ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);

			if (alt && *fmt != 'u') {
				put(&b, '0');
				put(&b, 'x');
			}
			put_num(&b, v, false, *fmt == 'u' ? 10 : 16, *fmt == 'X', width, pad);
			break;
		}
		case 'p':
			put(&b, '0');
			put(&b, 'x');
			put_num(&b, (unsigned long long)(uintptr_t)va_arg(ap, void *), false, 16, false, 0, ' ');
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);

			for (s = s ? s : "(null)"; *s; s++)
				put(&b, *s);
			break;
		}
		case 'c':
			put(&b, (char)va_arg(ap, int));
			break;
		case '%':
			put(&b, '%');
			break;
		default:
			put(&b, '%');
			if (!*fmt)
				fmt--;
			else
				put(&b, *fmt);
		}
	}
	if (size)
		buf[b.len < size ? b.len : size - 1] = 0;
	return (int)b.len;
}

static char kshim_msg[512];

/* Formats a variadic function's arguments after @fmt into kshim_msg. */
#define KSHIM_FORMAT(fmt)                                                  \
	do {                                                               \
		va_list ap;                                                \
		va_start(ap, fmt);                                         \
		kshim_vsnprintf(kshim_msg, sizeof(kshim_msg), fmt, ap);    \
		va_end(ap);                                                \
	} while (0)

bool kshim_warn(int macro, bool cond, const char *fmt, ...)
{
	if (!cond)
		return false;
	KSHIM_FORMAT(fmt);
	kshim_report_warn(macro, kshim_msg);
	return true;
}

bool kshim_kvm_bug(int macro, bool cond, void *kvm, const char *fmt, ...)
{
	if (!cond)
		return false;
	KSHIM_FORMAT(fmt);
	kshim_report_kvm_bug(macro, kvm, kshim_msg);
	return true;
}

void kshim_printk(int level, const char *fmt, ...)
{
	KSHIM_FORMAT(fmt);
	kshim_report_print(level, kshim_msg);
}

void kshim_name_kvm_locks(struct kvm *kvm)
{
	kshim_name_lock(&kvm->lock, "kvm->lock");
	kshim_name_lock(&kvm->slots_lock, "kvm->slots_lock");
}

struct kvm_memory_slot *kshim_new_slot(void)
{
	return kshim_zalloc(sizeof(struct kvm_memory_slot));
}

void kshim_slot_set(struct kvm_memory_slot *slot, gfn_t base_gfn, unsigned long npages, u32 flags, int id,
		    struct file *file, pgoff_t pgoff)
{
	slot->base_gfn = base_gfn;
	slot->npages = npages;
	slot->flags = flags;
	slot->id = (short)id;
	slot->gmem.file = file;
	slot->gmem.pgoff = pgoff;
}

/* Bytes the bridge needs for an ioctl's argument struct or an out-parameter. */
void *kshim_scratch(size_t size)
{
	return kshim_zalloc(size);
}

/* The memslot whose gmem.file field @fpp is (get_file_active(&slot->gmem.file)). */
struct kvm_memory_slot *kshim_slot_of_file_field(struct file **fpp)
{
	return container_of(fpp, struct kvm_memory_slot, gmem.file);
}
