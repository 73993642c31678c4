/*
 * prefetch: read a file into the page cache ahead of a walk that will
 * read nearly all of it in another order.
 *
 * The store maps its file with readahead off (MDB_NORDAHEAD: the daemon's
 * reads are random, and readahead would fill memory with pages nobody
 * asked for), so an audit on a cold cache waits for one 4 KiB page at a
 * time. A thread of its own asks the kernel for the whole file in large
 * sequential reads (posix_fadvise WILLNEED), while the audit goes on; it
 * does so only when the file takes at most half the machine's memory,
 * so it never pushes out what it has just read.
 */
#ifndef HAMLET_PREFETCH_H
#define HAMLET_PREFETCH_H

struct prefetch;

/* Start reading path in the background. NULL when there is nothing to
 * do (no such file, too big, no thread): the caller goes on without. */
struct prefetch *prefetch_start(const char *path);
/* Stop (at the next chunk) and wait for the thread; NULL is fine. */
void prefetch_stop(struct prefetch *p);

#endif
