/*
 * bench_proc: what the benchmarks that run hamletd share: a scratch
 * directory removed at exit (kept with HAMLET_BENCH_KEEP), and failing
 * with one message and the end of each daemon's log, so that a failure
 * can be understood after the directory is gone. A benchmark sets
 * bench_name, fills dir, lists its daemons in procs and calls
 * atexit(cleanup).
 */
#ifndef HAMLET_BENCH_PROC_H
#define HAMLET_BENCH_PROC_H

#include "daemon_proc.h"
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static const char *bench_name = "bench";
static char dir[4096];
static struct daemon_proc *procs[8]; /* whose logs a failure shows */
static size_t nprocs;

static void rmrf(void)
{
	char cmd[4200];
	if (!dir[0])
		return;
	if (getenv("HAMLET_BENCH_KEEP")) {
		fprintf(stderr, "kept %s\n", dir);
		return;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "%s: could not remove %s\n", bench_name, dir);
	dir[0] = 0;
}

static void cleanup(void)
{
	daemon_proc_kill_all();
	rmrf();
}

static void __attribute__((noreturn)) fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", bench_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	daemon_proc_kill_all();
	for (size_t i = 0; i < nprocs; i++)
		daemon_proc_log_tail(procs[i], 2047, stderr);
	exit(1); /* cleanup() removes the directory */
}

static void __attribute__((noreturn)) die(const char *what, int r,
					  const char *why)
{
	fail("%s: %s %s", what, hamlet_strerror(r), why ? why : "");
}

#endif
