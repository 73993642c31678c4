#include "progress.h"

#include "cli.h"
#include "i18n.h"
#include "rate.h"

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
	struct rate rate; /* of done: the speed now, not since the start */
	int noted;	  /* rate started, at the first done told */
	/* where the rate since the count began starts: the progress's
	 * start at 0 for its first count; when and where the first done
	 * was told for a count named since (progress_what) */
	uint64_t noted_ms, noted_n;
	int switched;
	int ext;	  /* the rate is ext_per_s, told by the caller */
	uint64_t ext_per_s;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void progress_count(uint64_t n, char out[32])
{
	i18n_count(n, out);
}

void progress_size(uint64_t n, char out[32])
{
	i18n_size(n, out);
}

/* A figure in p's units. */
static void figure(const struct progress *p, uint64_t n, char out[32])
{
	if (p->units)
		progress_count(n, out);
	else
		progress_size(n, out);
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

void progress_what(struct progress *p, const char *what)
{
	if (!p || p->what == what)
		return;
	p->what = what;
	p->noted = p->ext = 0; /* another count: its rate starts again */
	p->switched = 1;
}

void progress_rate(struct progress *p, uint64_t per_s)
{
	if (!p)
		return;
	p->ext = 1;
	p->ext_per_s = per_s;
}

void progress_total(struct progress *p, uint64_t total)
{
	if (p)
		p->total = total;
}

/* final: the last line, once the work ended: the time it took and the
 * rate over all of it, nothing left to guess. Before, the rate of the
 * last seconds: a stall a while ago does not slow the time left */
static void draw(struct progress *p, uint64_t now, int final)
{
	char done[32], total[32], rate[32], left[48];
	uint64_t ms = now - p->start_ms;
	uint64_t per_s = !final && p->ext ? p->ext_per_s
			 : !final	  ? rate_per_s(&p->rate, now)
			 : ms > 0	  ? p->done * 1000 / ms
					  : 0;

	/* the rate of the last seconds is not known yet in the first ones
	 * of a count: the rate since it began stands for it (not "0/s, time
	 * left unknown", which reads as a stall); later, a 0 is a stall */
	if (!final && !p->ext && !per_s && p->noted && now > p->noted_ms &&
	    now - p->noted_ms >= 100 && now - p->noted_ms < 5000 &&
	    p->done > p->noted_n)
		per_s = (p->done - p->noted_n) * 1000 / (now - p->noted_ms);

	/* " entries"; nothing after a size, which says its unit */
	char units[48] = "";
	if (p->units)
		snprintf(units, sizeof(units), " %s", p->units);

	figure(p, p->done, done);
	figure(p, per_s, rate);
	/* \r and erase-to-end: the line is redrawn in place */
	if (final && (!p->total || p->done >= p->total)) {
		char secs[32];
		snprintf(secs, sizeof(secs), "%.1f", (double)ms / 1000);
		i18n_decimal(secs);
		fputc('\r', stderr);
		fprintf(stderr, _("%s: %s%s in %s s, %s/s"), p->what, done,
			units, secs, rate);
	} else if (p->total) {
		figure(p, p->total, total);
		progress_left(p->total > p->done ? p->total - p->done : 0,
			      per_s, left);
		fputc('\r', stderr);
		fprintf(stderr, _("%s: %s / %s%s, %s/s, %s"), p->what, done,
			total, units, rate, left);
	} else {
		fputc('\r', stderr);
		fprintf(stderr, _("%s: %s%s, %s/s"), p->what, done, units,
			rate);
	}
	fputs("\033[K", stderr);
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
	/* the rate from the first count told: what was done before this
	 * started watching (sync --wait joins a sync under way) is no
	 * growth of its first seconds */
	if (!p->noted) {
		rate_start(&p->rate, now, done);
		p->noted_ms = p->switched ? now : p->start_ms;
		p->noted_n = p->switched ? done : 0;
	} else
		rate_note(&p->rate, now, done);
	p->noted = 1;
	if (!p->drawn || now - p->drawn_ms >= 1000 / PROGRESS_HZ)
		draw(p, now, 0);
}

void progress_end(struct progress *p)
{
	if (!p)
		return;
	if (p->drawn) { /* nothing shown, nothing to end */
		draw(p, mono_ms(), 1);
		fputc('\n', stderr);
	}
	free(p);
}

void progress_cb(void *ctx, uint64_t done, uint64_t total)
{
	progress_total(ctx, total);
	progress_update(ctx, done);
}
