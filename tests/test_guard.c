/* The watched child of cli/guard.c: its exit code and output kept, a
 * child that tells no progress stopped, one killed by a signal named. */
#include "guard.h"
#include "testlib.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int says_and_returns(void *ctx)
{
	(void)ctx;
	printf("a report\n");
	return 3;
}

/* stuck: no progress told (bounded: it ends by itself after 30 s) */
static int stuck(void *ctx)
{
	(void)ctx;
	for (int i = 0; i < 300; i++)
		usleep(100 * 1000);
	return 0;
}

/* the stall bound slow_but_moving runs under: 3 s, as a loaded machine
 * may deschedule either process for a second or more */
#define MOVING_STALL_S 3

/* slow (12 s: four times MOVING_STALL_S), but telling its progress as it
 * goes */
static int slow_but_moving(void *ctx)
{
	(void)ctx;
	for (int i = 0; i < 80 * MOVING_STALL_S; i++) {
		guard_progress();
		usleep(50 * 1000);
	}
	return 0;
}

static int killed(void *ctx)
{
	(void)ctx;
	raise(SIGKILL);
	return 0;
}

/* Run fn with our standard output into a file; what it printed into
 * out. */
static void run_captured(guard_fn fn, unsigned stall_s, enum guard_end *end,
			 int *code, char *out, size_t cap)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDOUT_FILENO);
	size_t n;

	ASSERT_TRUE(tmp != NULL);
	ASSERT_TRUE(saved >= 0);
	fflush(stdout);
	ASSERT_TRUE(dup2(fileno(tmp), STDOUT_FILENO) >= 0);
	ASSERT_EQ(guard_run(fn, NULL, stall_s, end, code), 0);
	fflush(stdout);
	ASSERT_TRUE(dup2(saved, STDOUT_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, cap - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
}

int main(void)
{
	enum guard_end end;
	int code;
	char out[256];

	TEST_START("a child that returns gives its exit code and its output");
	run_captured(says_and_returns, 5, &end, &code, out, sizeof(out));
	ASSERT_EQ(end, GUARD_EXITED);
	ASSERT_EQ(code, 3);
	ASSERT_STREQ(out, "a report\n");

	TEST_START("a child that tells no progress is stopped, its output dropped");
	run_captured(stuck, 1, &end, &code, out, sizeof(out));
	ASSERT_EQ(end, GUARD_STALLED);
	ASSERT_STREQ(out, "");

	TEST_START("a child that tells progress is let run past the stall bound");
	run_captured(slow_but_moving, MOVING_STALL_S, &end, &code, out,
		     sizeof(out));
	ASSERT_EQ(end, GUARD_EXITED);
	ASSERT_EQ(code, 0);

	TEST_START("a child killed by a signal is told as crashed, with it");
	run_captured(killed, 5, &end, &code, out, sizeof(out));
	ASSERT_EQ(end, GUARD_CRASHED);
	ASSERT_EQ(code, SIGKILL);
	TEST_DONE();
}
