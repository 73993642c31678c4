/*
 * bench_proc: what the benchmarks that run hamletd share: a scratch
 * directory removed at exit (kept with HAMLET_BENCH_KEEP), and failing
 * with one message and the end of each daemon's log, so that a failure
 * can be understood after the directory is gone. A benchmark sets
 * bench_name, fills dir, lists its daemons in procs and calls
 * atexit(cleanup). Also the steps of a bulk transfer that fail the run
 * when they fail: the verify rate it is measured against, the writes,
 * the wait until they have arrived.
 */
#ifndef HAMLET_BENCH_PROC_H
#define HAMLET_BENCH_PROC_H

#include "bench_util.h"
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

/* --- a bulk transfer ---------------------------------------------------- */

/* One core: sign, then verify, sample real envelopes of a's (as
 * bench/core.c). Returns verifications per second. */
static inline double bench_verify_rate(struct node *a, unsigned sample)
{
	double sign, verify;
	if (bench_sign_verify(a, sample, &sign, &verify) < 0)
		fail("cannot sign and verify the sample");
	return verify;
}

/* Every core at once, each verifying its own copy of the sample: the
 * most the machine verifies a second, what nothing else done per entry
 * can beat. On a machine whose cores share what one core alone has
 * (a virtual machine's, hyperthreads), it is less than the cores times
 * one core's rate. */
static inline double bench_verify_rate_all(struct node *a, unsigned sample)
{
	double r;
	if (bench_verify_all(a, sample, &r) < 0)
		fail("cannot verify the sample on every core");
	return r;
}

/*
 * The verify rate a timed transfer is divided by: the mean of one
 * measured just before it and one just after, so that a machine whose
 * speed drifts during the run (a shared host, a CPU's clock) moves the
 * divisor with the transfer rather than skewing the ratio.
 */
static inline double bench_verify_mean(double before, double after)
{
	return (before + after) / 2;
}

/* n local writes on nd (bench_write_profiles), of persons first ..;
 * returns the body bytes written. */
static inline uint64_t bench_write(struct node *nd, const char *prefix,
				   unsigned first, unsigned n, unsigned chunk)
{
	uint64_t body_bytes = 0;
	char why[256];
	int r = bench_write_profiles(nd, prefix, first, n, chunk, &body_bytes,
				     why, sizeof(why));
	if (r < 0)
		die("log_write", r, why);
	return body_bytes;
}

/* The head of feed key in b's store (0: none). */
static inline uint64_t bench_seq(struct node *b, const uint8_t key[32])
{
	uint64_t seq;
	int r = bench_feed_seq(b, key, &seq);
	if (r < 0)
		die("read", r, b->name);
	return seq;
}

/* Wait until b (named name) holds feed key up to seq n, looking every
 * 5 ms; fail after ms from t0. */
static inline void bench_wait_feed(struct node *b, const char *name,
				   const uint8_t key[32], unsigned n, double t0,
				   int ms)
{
	while (bench_seq(b, key) < n) {
		if (bench_now() - t0 > ms / 1000.0)
			fail("%s holds %llu of %u entries after %d s", name,
			     (unsigned long long)bench_seq(b, key), n,
			     ms / 1000);
		daemon_proc_sleep_ms(5);
	}
}

#endif
