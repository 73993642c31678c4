#include "guard.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The child's output kept in memory is capped: past it the child is
 * stopped, as one that loops printing would be (a report on the largest
 * store is a few tens of MB). */
#define GUARD_OUT_MAX (512u << 20)
/* What the child writes when fn returned; progress is told with "". */
#define GUARD_DONE "."

/* The child's end of the progress pipe (-1: not in a guarded child), and
 * when it last told (monotonic, in quarter seconds: a stall bound of 1 s
 * sees several). */
static int beat_fd = -1;
static _Atomic int64_t beat_last = -1;

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void guard_progress(void)
{
	int64_t now, last;

	if (beat_fd < 0)
		return;
	now = mono_ms() / 250;
	last = atomic_load(&beat_last);
	/* one thread of those that tell in the same quarter second writes */
	if (last == now ||
	    !atomic_compare_exchange_strong(&beat_last, &last, now))
		return;
	/* non-blocking: a full pipe already says the child moves on */
	if (write(beat_fd, "", 1) < 0) {
		/* nothing to do: the parent reads the pipe, or is gone */
	}
}

/* In the child: stdout into the pipe, the work, out. Never returns. */
static void child_run(guard_fn fn, void *ctx, const int out[2],
		      const int beat[2])
{
	int code;

	close(out[0]);
	close(beat[0]);
	if (dup2(out[1], STDOUT_FILENO) < 0)
		_exit(125);
	close(out[1]);
	beat_fd = beat[1];
	code = fn(ctx);
	fflush(stdout);
	/* the sign that fn returned: a process a sanitizer ends after a
	 * fault exits too, with a code of its own */
	fcntl(beat[1], F_SETFL, 0);
	if (write(beat[1], GUARD_DONE, 1) < 0)
		_exit(125);
	/* exit(), not _exit(): what the program does at its end (the
	 * sanitizers' leak check among it) is done in the child too */
	exit(code);
}

/* Append what fd has to *buf; 1 at its end, 0 when more may come, <0 on
 * a fault. */
static int out_read(int fd, char **buf, size_t *len, size_t *cap)
{
	ssize_t k;

	if (*cap - *len < 65536) {
		size_t nc = *cap ? *cap * 2 : 1 << 20;
		char *p;
		if (nc > GUARD_OUT_MAX)
			return -EFBIG;
		if (!(p = realloc(*buf, nc)))
			return -ENOMEM;
		*buf = p;
		*cap = nc;
	}
	k = read(fd, *buf + *len, *cap - *len);
	if (k < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	*len += (size_t)k;
	return k == 0;
}

/* Drain fd, *done set when the child said fn returned; 1 at its end. */
static int beat_read(int fd, int *done)
{
	char b[256];
	ssize_t k = read(fd, b, sizeof(b));
	if (k < 0)
		return 0;
	*done |= memchr(b, GUARD_DONE[0], (size_t)k) != NULL;
	return k == 0;
}

/*
 * Watch the child: its output into *buf, its progress moving the
 * deadline on, *done set when it said fn returned. GUARD_EXITED when the
 * child closed both pipes (it is ending); GUARD_STALLED or GUARD_TOOBIG
 * when it must be killed.
 */
static enum guard_end watch(const int out[2], const int beat[2],
			    unsigned stall_s, char **buf, size_t *len,
			    int *done)
{
	struct pollfd pf[2] = { { out[0], POLLIN, 0 }, { beat[0], POLLIN, 0 } };
	int64_t deadline = mono_ms() + (int64_t)stall_s * 1000;
	size_t cap = 0;
	int open_out = 1, open_beat = 1;

	while (open_out || open_beat) {
		int64_t left = deadline - mono_ms();
		int k, beat_seen = 0;
		pf[0].fd = open_out ? out[0] : -1;
		pf[1].fd = open_beat ? beat[0] : -1;
		/* past the deadline, one more look that does not wait: the
		 * child may have told progress while we were not looking
		 * (descheduled, or reading its output), and what waits in
		 * the pipe counts. A stall is declared only when that look
		 * finds none */
		k = poll(pf, 2, left <= 0 ? 0 : left > 1000 ? 1000 : (int)left);
		if (k < 0) {
			if (errno != EINTR)
				return GUARD_STALLED;
			continue;
		}
		if (k > 0 && pf[0].revents) {
			int r = out_read(out[0], buf, len, &cap);
			if (r < 0)
				return GUARD_TOOBIG;
			open_out = !r;
		}
		if (k > 0 && pf[1].revents) {
			open_beat = !beat_read(beat[0], done);
			deadline = mono_ms() + (int64_t)stall_s * 1000;
			beat_seen = 1;
		}
		if (left <= 0 && !beat_seen)
			return GUARD_STALLED;
	}
	return GUARD_EXITED;
}

int guard_run(guard_fn fn, void *ctx, unsigned stall_s,
	      enum guard_end *ret_end, int *ret_code)
{
	int out[2] = { -1, -1 }, beat[2] = { -1, -1 }, status = 0, done = 0, r;
	enum guard_end end;
	char *buf = NULL;
	size_t len = 0;
	pid_t pid;

	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(beat, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	if (fcntl(beat[1], F_SETFL, O_NONBLOCK) < 0) {
		r = -errno;
		goto out;
	}
	/* nothing buffered before is written twice */
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0) {
		r = -errno;
		goto out;
	}
	if (pid == 0)
		child_run(fn, ctx, out, beat);
	close(out[1]);
	close(beat[1]);
	out[1] = beat[1] = -1;
	if ((end = watch(out, beat, stall_s, &buf, &len, &done)) !=
	    GUARD_EXITED) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		*ret_end = end;
		*ret_code = 0;
		r = 0;
		goto out;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			r = -errno;
			goto out;
		}
	}
	if (WIFSIGNALED(status) || !done) {
		*ret_end = GUARD_CRASHED;
		*ret_code = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	} else {
		*ret_end = GUARD_EXITED;
		*ret_code = WEXITSTATUS(status);
		if (len)
			fwrite(buf, 1, len, stdout);
	}
	r = 0;
out:
	free(buf);
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (beat[i] >= 0)
			close(beat[i]);
	}
	return r;
}
