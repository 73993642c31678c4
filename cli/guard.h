/*
 * guard: run work on files that are not trusted in a child process,
 * watched.
 *
 * LMDB trusts the file it maps: it has no page checksums, and follows a
 * page number altered on disk as it is. A store copy with one bad byte
 * can make it read past the map (SIGSEGV, SIGBUS) or go round a loop for
 * ever. An auditor is handed such copies, so the audit runs in a child:
 * the child's standard output is kept in the parent and written out only
 * when the child ends normally (a --json document is whole or absent);
 * the child tells its progress through a pipe, and one that tells none
 * for the given number of seconds is killed.
 */
#ifndef HAMLET_GUARD_H
#define HAMLET_GUARD_H

/* How the child ended. */
enum guard_end {
	GUARD_EXITED,  /* fn returned: code is its exit code */
	GUARD_CRASHED, /* killed by signal code; or (code 0) it ended before
			* fn returned, as a sanitizer ends a process */
	GUARD_STALLED, /* no progress told for stall_s: killed */
	GUARD_TOOBIG,  /* its output was more than could be kept: killed */
};

/* The work: runs in the child, returns the process's exit code (0-125). */
typedef int (*guard_fn)(void *ctx);

/*
 * Run fn(ctx) in a forked child, and wait for it while it tells progress
 * (guard_progress()) at least once every stall_s seconds. Its standard
 * output goes to ours only when it returns; its standard error is ours
 * all along. The caller must have no thread running (fork). 0 and
 * *ret_end, *ret_code set; <0 (a negative errno) when no child could be
 * run, fn not called.
 */
int guard_run(guard_fn fn, void *ctx, unsigned stall_s,
	      enum guard_end *ret_end, int *ret_code);

/*
 * In the child: the work moved on (call it only for work done, never from
 * a timer: a child stuck in a loop must tell nothing). Any thread; cheap
 * (at most four writes a second); nothing outside guard_run().
 */
void guard_progress(void);

#endif
