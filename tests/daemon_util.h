/*
 * What the tests that run daemons on loopback say with assertions around
 * daemon_proc (which returns errors): a clock, a sleep, a free port, a
 * daemon's status, bounded waits. Header-only: each test is one program.
 */
#ifndef HAMLET_TESTS_DAEMON_UTIL_H
#define HAMLET_TESTS_DAEMON_UTIL_H

#include "daemon_proc.h"
#include "error.h"
#include "testlib.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

static inline long long now_ms(void)
{
	return daemon_proc_now_ms();
}

static inline void sleep_ms(int ms)
{
	daemon_proc_sleep_ms(ms);
}

/* A port that was free a moment ago. */
static inline int free_port(void)
{
	int port = 0;
	ASSERT_OK(daemon_proc_free_port(&port));
	return port;
}

/* The status of the daemon at sock; not answering fails the test. */
static inline void status_of(const char *sock, int timeout_ms,
			     struct daemon_status *ret)
{
	ASSERT_OK(daemon_proc_status(sock, timeout_ms, ret));
}

/* 1 once sock's daemon reports want connected peers within limit_ms, 0
 * past it; a status that is not answered fails the test. */
static inline int wait_connected(const char *sock, int want, int limit_ms)
{
	int r = daemon_proc_wait_connected(sock, want, limit_ms);
	if (r != -ETIMEDOUT)
		ASSERT_OK(r);
	return r == 0;
}

/* 1 once p's log (this run) has needle within limit_ms. */
static inline int wait_log(struct daemon_proc *p, const char *needle,
			   int limit_ms)
{
	return daemon_proc_wait_log(p, needle, limit_ms) == 0;
}

/* Send sig, then wait at most limit_ms (then SIGKILL); returns the exit
 * status, or -1 saying why. */
static inline int proc_stop(struct daemon_proc *p, int sig, int limit_ms)
{
	int st = 0;
	if (daemon_proc_stop(p, sig, limit_ms, &st) < 0) {
		fprintf(stderr, "   %s did not stop within %d ms\n", p->name,
			limit_ms);
		return -1;
	}
	if (WIFSIGNALED(st))
		fprintf(stderr, "   %s ended by signal %d\n", p->name,
			WTERMSIG(st));
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
