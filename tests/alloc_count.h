/*
 * Counting the allocations a piece of code makes, for tests that promise
 * "does not allocate". Two variants, chosen by CMake: alloc_count.c
 * stands in for glibc's malloc, calloc and realloc in the test program;
 * alloc_count_none.c is for sanitizer builds, whose allocator is the
 * sanitizer's own and may not be replaced.
 */
#ifndef HAMLET_ALLOC_COUNT_H
#define HAMLET_ALLOC_COUNT_H

/* Start counting from zero. */
void alloc_count_start(void);
/* Stop; the number of malloc, calloc and realloc calls since the start,
 * or -1 when this build cannot count them. */
long alloc_count_stop(void);

#endif
