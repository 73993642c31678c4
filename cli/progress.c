#include "progress.h"

#include "cli.h"
#include "i18n.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct progress {
	const char *what, *units;
	uint64_t total, done;
	uint64_t start_ms, drawn_ms;
	int drawn;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void progress_count(uint64_t n, char out[32])
{
	char digits[24];
	int len = snprintf(digits, sizeof(digits), "%llu",
			   (unsigned long long)n);
	size_t o = 0;
	for (int i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = 0;
}

void progress_left(uint64_t left, uint64_t per_s, char out[48])
{
	uint64_t s;
	if (!per_s) {
		snprintf(out, 48, "%s", _("time left unknown"));
		return;
	}
	s = (left + per_s - 1) / per_s;
	if (s < 120)
		snprintf(out, 48, _("about %llu s left"), (unsigned long long)s);
	else if (s < 7200)
		snprintf(out, 48, _("about %llu min left"),
			 (unsigned long long)((s + 59) / 60));
	else
		snprintf(out, 48, _("about %llu h left"),
			 (unsigned long long)((s + 3599) / 3600));
}

struct progress *progress_new(const char *what, const char *units,
			      uint64_t total)
{
	struct progress *p;
	if (cli_global.json || !isatty(STDERR_FILENO))
		return NULL;
	if (!(p = calloc(1, sizeof(*p))))
		return NULL;
	p->what = what;
	p->units = units;
	p->total = total;
	p->start_ms = mono_ms();
	return p;
}

void progress_total(struct progress *p, uint64_t total)
{
	if (p)
		p->total = total;
}

static void draw(struct progress *p, uint64_t now)
{
	char done[32], total[32], rate[32], left[48];
	uint64_t ms = now - p->start_ms;
	uint64_t per_s = ms >= 500 ? p->done * 1000 / ms : 0;

	progress_count(p->done, done);
	progress_count(per_s, rate);
	/* \r and erase-to-end: the line is redrawn in place */
	if (p->total) {
		progress_count(p->total, total);
		progress_left(p->total > p->done ? p->total - p->done : 0,
			      per_s, left);
		fprintf(stderr, _("\r%s: %s / %s %s, %s/s, %s\033[K"), p->what,
			done, total, p->units, rate, left);
	} else {
		fprintf(stderr, _("\r%s: %s %s, %s/s\033[K"), p->what, done,
			p->units, rate);
	}
	fflush(stderr);
	p->drawn_ms = now;
	p->drawn = 1;
}

void progress_update(struct progress *p, uint64_t done)
{
	uint64_t now;
	if (!p)
		return;
	p->done = done;
	now = mono_ms();
	if (!p->drawn || now - p->drawn_ms >= 1000 / PROGRESS_HZ)
		draw(p, now);
}

void progress_end(struct progress *p)
{
	if (!p)
		return;
	draw(p, mono_ms());
	fputc('\n', stderr);
	free(p);
}
