/*
 * The malloc family of a test program, counting calls while asked to and
 * handing each to glibc's own allocator (exported as __libc_malloc and
 * friends), so memory from either side may be freed by the other. The
 * dynamic linker binds every library's malloc to these, msgpack-c's too.
 */
#include "alloc_count.h"

#include <stddef.h>

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t k, size_t n);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

static int counting;
static long count;

void alloc_count_start(void)
{
	count = 0;
	counting = 1;
}

long alloc_count_stop(void)
{
	counting = 0;
	return count;
}

void *malloc(size_t n)
{
	count += counting;
	return __libc_malloc(n);
}

void *calloc(size_t k, size_t n)
{
	count += counting;
	return __libc_calloc(k, n);
}

void *realloc(void *p, size_t n)
{
	count += counting;
	return __libc_realloc(p, n);
}

void free(void *p)
{
	__libc_free(p);
}
