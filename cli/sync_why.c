/*
 * sync_why: the sentences `hamlet sync --wait` says of one peer (cmd_sync.c).
 */
#include "sync_why.h"

#include "cli.h"
#include "i18n.h"
#include "progress.h"

#include <stdio.h>

/* Peer p's name, else its address, else "?", into who. */
static void peer_who(const msgpack_object *p, char *who, size_t n)
{
	const msgpack_object *nm = cli_mp_get(p, "name");
	const msgpack_object *a = cli_mp_get(p, "addr");

	if (nm && nm->type == MSGPACK_OBJECT_STR)
		snprintf(who, n, "%.*s", (int)nm->via.str.size,
			 nm->via.str.ptr);
	else if (a && a->type == MSGPACK_OBJECT_STR)
		snprintf(who, n, "%.*s", (int)a->via.str.size, a->via.str.ptr);
	else
		snprintf(who, n, "?");
}

/* Why the wait ends unfinished: a byte budget holds entries back for
 * peer p (the first such, judged sp), held entries in all. */
void sync_why_budget(const msgpack_object *p, const struct status_peer *sp,
		     uint64_t held, char *reason, size_t n)
{
	char who[200], count[32], big[32], lim[CLI_BUDGET_WORDS];
	char keys[CLI_BUDGET_WORDS];

	peer_who(p, who, sizeof(who));
	progress_count(held, count);
	if (sp->too_big) {
		/* no day or session to wait for: only a larger budget */
		progress_size(sp->too_big, big);
		cli_budget_too_small(cli_mp_get(p, "budget"), sp->too_big, lim,
				     keys);
		snprintf(reason, n,
			 CLI_P_("%s entry for %s waits, as one of %s is larger "
				"than the whole byte budget (%s) and nothing "
				"goes past it: raise %s in [budget] of the "
				"daemon's config and reload it (systemctl "
				"reload hamletd)",
				"%s entries for %s wait, as one of %s is "
				"larger than the whole byte budget (%s) and "
				"nothing goes past it: raise %s in [budget] of "
				"the daemon's config and reload it (systemctl "
				"reload hamletd)",
				held),
			 count, who, big, lim, keys);
	} else if (sp->held_session)
		snprintf(reason, n,
			 CLI_P_("%s entry for %s waits for the next session's "
				"byte budget (it goes when the link connects "
				"again, or raise per_session in [budget] of "
				"the daemon's config and reload it: systemctl "
				"reload hamletd)",
				"%s entries for %s wait for the next session's "
				"byte budget (they go when the link connects "
				"again, or raise per_session in [budget] of "
				"the daemon's config and reload it: systemctl "
				"reload hamletd)",
				held),
			 count, who);
	else
		snprintf(reason, n,
			 CLI_P_("%s entry for %s waits for tomorrow's byte "
				"budget (or raise per_day in [budget] of the "
				"daemon's config and reload it: systemctl "
				"reload hamletd)",
				"%s entries for %s wait for tomorrow's byte "
				"budget (or raise per_day in [budget] of the "
				"daemon's config and reload it: systemctl "
				"reload hamletd)",
				held),
			 count, who);
}

/* Why the wait goes on: entries asked of peer p have not all come. */
int sync_why_receiving(const msgpack_object *p, char *reason, size_t n)
{
	const msgpack_object *g = cli_mp_get(p, "progress");
	uint64_t quiet = cli_mp_u64(g, "quiet_ms");
	char who[200], done[32], total[32];

	peer_who(p, who, sizeof(who));
	progress_count(cli_mp_u64(g, "received"), done);
	progress_count(cli_mp_u64(g, "total"), total);
	if (quiet >= SYNC_WHY_QUIET_MS) {
		/* the sender's budget is not on the wire: name it beside
		 * the link, as status does */
		snprintf(reason, n,
			 cli_tr(N_("%s of %s entries asked of %s have come, and "
				   "none for %llu s: the link may be down or "
				   "very slow, or %s's byte budget holds the "
				   "rest back until its next session or day "
				   "(hamlet status says more)")),
			 done, total, who,
			 (unsigned long long)(quiet / 1000), who);
		return quiet >= SYNC_WHY_STALLED_MS;
	}
	snprintf(reason, n,
		 cli_tr(N_("entries asked of %s are still on their way (%s of "
			   "%s have come; hamlet status says more)")),
		 who, done, total);
	return 0;
}

/* Why peer p, judged sp, is not in sync yet: entries are still to be
 * sent to it, or it has not acknowledged those sent. */
void sync_why_sending(const msgpack_object *p, const struct status_peer *sp,
		      char *reason, size_t n)
{
	char who[200], count[32];

	peer_who(p, who, sizeof(who));
	progress_count(sp->to_send + sp->unacked, count);
	snprintf(reason, n,
		 CLI_P_("%s entry is still on its way to %s: to be sent, or "
			"sent and not yet acknowledged (hamlet status says "
			"more)",
			"%s entries are still on their way to %s: to be sent, "
			"or sent and not yet acknowledged (hamlet status says "
			"more)",
			sp->to_send + sp->unacked),
		 count, who);
}

/* Why waiting on is no use with peer p, judged sp: this node's disk is
 * full, or p refuses what it is sent as dated too far ahead. */
void sync_why_stuck(const msgpack_object *p, const struct status_peer *sp,
		    char *reason, size_t n)
{
	char who[200], count[32];

	peer_who(p, who, sizeof(who));
	if (sp->state == STATUS_PEER_DISK_FULL) {
		progress_count(sp->disk_wait, count);
		snprintf(reason, n,
			 CLI_P_("the disk holding this node's store is full: "
				"%s entry received from %s waits for space, "
				"and nothing more comes until there is room. "
				"Free space on that disk (old backups, "
				"downloads); hamletd tries again by itself, "
				"then run hamlet sync --wait again",
				"the disk holding this node's store is full: "
				"%s entries received from %s wait for space, "
				"and nothing more comes until there is room. "
				"Free space on that disk (old backups, "
				"downloads); hamletd tries again by itself, "
				"then run hamlet sync --wait again",
				sp->disk_wait),
			 count, who);
		return;
	}
	progress_count(sp->ahead, count);
	snprintf(reason, n,
		 CLI_P_("%s refused %s entry sent to it as dated more than 24 "
			"h ahead of its clock: check the date and time of this "
			"PC (and of that one) and set them right; what was "
			"written with the wrong date goes once the clock there "
			"is within a day of it",
			"%s refused %s entries sent to it as dated more than "
			"24 h ahead of its clock: check the date and time of "
			"this PC (and of that one) and set them right; what "
			"was written with the wrong date goes once the clock "
			"there is within a day of it",
			sp->ahead),
		 who, count);
}
