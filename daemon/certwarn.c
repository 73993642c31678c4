/*
 * certwarn: the log's warning before this node's certificate chain ends
 * (certwarn.h).
 */
#include "certwarn.h"

#include "dlog.h"
#include "hlc.h"
#include "i18n.h"
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* ms as the day it ends on (an --expires day ends at 00:00 UTC of the
 * next), or as the time it is, in UTC */
static void until_text(uint64_t ms, char *out, size_t n)
{
	const uint64_t day_ms = 86400000ull;
	time_t s = (time_t)((ms % day_ms == 0 ? ms - day_ms : ms) / 1000);
	struct tm tm;
	char t[32];

	gmtime_r(&s, &tm);
	if (ms % day_ms == 0) {
		strftime(t, sizeof(t), "%Y-%m-%d", &tm);
		snprintf(out, n, _("the end of %s (UTC)"), t);
	} else {
		strftime(t, sizeof(t), "%Y-%m-%d %H:%M:%S UTC", &tm);
		snprintf(out, n, "%s", t);
	}
}

void certwarn_tick(struct daemon *d)
{
	const uint64_t day_ms = 86400000ull;
	struct status_cert *cf;
	uint64_t now;
	char until[64];

	if (d->certwarn_ticks++ % HAMLETD_CERTWARN_CHECK_S != 0 || d->stopping)
		return;
	if (!(cf = malloc(sizeof(*cf))))
		return;
	status_cert_read(d->node, cf);
	now = hlc_wall_ms();
	if (!cf->end_soon) {
		d->certwarn_ms = 0; /* renewed: a later end warns anew */
		free(cf);
		return;
	}
	if (d->certwarn_ms && now - d->certwarn_ms < HAMLETD_CERTWARN_AGAIN_MS) {
		free(cf);
		return;
	}
	d->certwarn_ms = now;
	/* whole days: never more than is left */
	unsigned long long days =
		(unsigned long long)((cf->end_ms - now) / day_ms);
	until_text(cf->end_ms, until, sizeof(until));
	if (cf->end_at == 0)
		dlog(DLOG_WARNING,
		     P_("this node's certificate is valid only until %s (%llu day from now): then every other node refuses this node; ask the administrator who issued it for a renewal (hamlet cert issue for the same key, then hamlet cert install FILE here)",
			"this node's certificate is valid only until %s (%llu days from now): then every other node refuses this node; ask the administrator who issued it for a renewal (hamlet cert issue for the same key, then hamlet cert install FILE here)",
			days),
		     until, days);
	else
		dlog(DLOG_WARNING,
		     P_("this node's certificate chain is valid only until %s (%llu day from now), when the certificate of \"%s\" above this node's own ends: then every other node refuses this node; whoever certified \"%s\" renews that certificate for the same key, and the renewal reaches this node by sync or USB bundle",
			"this node's certificate chain is valid only until %s (%llu days from now), when the certificate of \"%s\" above this node's own ends: then every other node refuses this node; whoever certified \"%s\" renews that certificate for the same key, and the renewal reaches this node by sync or USB bundle",
			days),
		     until, days, cf->ch.c[cf->end_at].name,
		     cf->ch.c[cf->end_at].name);
	free(cf);
}
