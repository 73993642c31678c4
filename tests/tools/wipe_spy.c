/*
 * wipe_spy: an LD_PRELOAD library for tests of key hygiene.
 *
 * It stands in for libsodium's sodium_memzero(): before wiping a buffer it
 * appends "wipe HEX" (the buffer's bytes) to the file $WIPE_SPY_LOG. And
 * it wraps randombytes_buf(): when the caller is the program itself (not
 * libsodium), it appends "random HEX" with the bytes it handed out, so a
 * test knows a key the program made even when no file received it.
 * A test then asks: was every copy of that key passed to sodium_memzero?
 */
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void spy_log(const char *what, const void *p, size_t n)
{
	const char *path = getenv("WIPE_SPY_LOG");
	FILE *f;
	if (!path || !(f = fopen(path, "a")))
		return;
	fprintf(f, "%s ", what);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", ((const unsigned char *)p)[i]);
	fputc('\n', f);
	fclose(f);
}

void sodium_memzero(void *const pnt, const size_t len)
{
	volatile unsigned char *p = pnt;
	spy_log("wipe", pnt, len);
	for (size_t i = 0; i < len; i++)
		p[i] = 0;
}

struct where {
	uintptr_t addr;
	int in_program;
};

/* dl_iterate_phdr() lists the program first: is addr in its segments? */
static int in_first_object(struct dl_phdr_info *info, size_t size, void *ctx)
{
	struct where *w = ctx;
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && w->addr >= lo &&
		    w->addr < lo + ph->p_memsz)
			w->in_program = 1;
	}
	return 1; /* stop after the program */
}

void randombytes_buf(void *const buf, const size_t size)
{
	static void (*real)(void *, size_t);
	struct where w = { (uintptr_t)__builtin_return_address(0), 0 };

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "randombytes_buf");
	real(buf, size);
	dl_iterate_phdr(in_first_object, &w);
	if (w.in_program)
		spy_log("random", buf, size);
}
