#include "stop.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

void stop_begin(struct stop *s)
{
	static const int sig[] = { SIGINT, SIGTERM };

	sigemptyset(&s->set);
	for (size_t i = 0; i < sizeof(sig) / sizeof(sig[0]); i++) {
		struct sigaction sa;
		if (sigaction(sig[i], NULL, &sa) == 0 &&
		    sa.sa_handler != SIG_IGN)
			sigaddset(&s->set, sig[i]);
	}
	s->blocked = pthread_sigmask(SIG_BLOCK, &s->set, &s->old) == 0;
}

int stop_asked(const struct stop *s)
{
	sigset_t pend;

	if (!s || !s->blocked || sigpending(&pend) != 0)
		return 0;
	return (sigismember(&s->set, SIGINT) == 1 &&
		sigismember(&pend, SIGINT) == 1) ||
	       (sigismember(&s->set, SIGTERM) == 1 &&
		sigismember(&pend, SIGTERM) == 1);
}

void stop_end(struct stop *s)
{
	if (!s->blocked)
		return;
	/* what was said reaches the terminal before the signal ends us */
	fflush(stdout);
	fflush(stderr);
	s->blocked = 0;
	pthread_sigmask(SIG_SETMASK, &s->old, NULL);
}
