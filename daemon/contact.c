#include "contact.h"

#include "budget.h"
#include "certwarn.h"
#include "conn.h"
#include "dlog.h"
#include "heard.h"
#include "hlc.h"
#include "ingest.h"
#include "names.h"
#include "peer.h"
#include "peerbase.h"

#include "error.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DIALS_FILE "peers.known"

struct contact_job {
	struct ingest_job job;
	struct daemon *d;
	struct heard_contact v[HAMLETD_MAX_KNOWN];
};

/* The peers whose last contact is newer than what was saved, or whose
 * bytes sent today moved since, into j. */
static size_t contact_collect(struct daemon *d, struct contact_job *j)
{
	size_t n = 0;
	for (size_t i = 0; i < HAMLETD_MAX_KNOWN; i++) {
		const struct peer_info *p = &d->known[i];
		int contact, budget, acked;
		uint64_t since;
		if (!p->used)
			continue;
		since = p->acked_out > p->acked_base
				? p->acked_out - p->acked_base
				: 0;
		acked = p->acked_loaded &&
			(since != p->acked_saved ||
			 p->acked_version != p->acked_saved_version);
		contact = p->last_sync_ms > p->contact_saved_ms;
		/* kept whether or not a daily budget counts them, so that
		 * one set later that day counts what went before; never
		 * before the kept count was read (it would be saved over) */
		budget = p->budget_loaded && p->budget_day && p->sent_today &&
			 (p->budget_day != p->budget_saved_day ||
			  p->sent_today != p->budget_saved_sent);
		if (!contact && !budget && !acked)
			continue;
		j->v[n].acked_set = acked;
		j->v[n].acked_version = p->acked_version;
		j->v[n].acked = since;
		memcpy(j->v[n].peer, p->pk, 32);
		j->v[n].when_ms = contact ? p->last_sync_ms : 0;
		j->v[n].day = budget ? p->budget_day : 0;
		j->v[n].sent = budget ? p->sent_today : 0;
		n++;
	}
	return n;
}

/* Mark j's contacts and budgets saved, for the peers still known. */
static void contact_saved(struct daemon *d, const struct contact_job *j)
{
	for (size_t k = 0; k < j->job.n; k++)
		for (size_t i = 0; i < HAMLETD_MAX_KNOWN; i++) {
			struct peer_info *p = &d->known[i];
			const struct heard_contact *x = &j->v[k];
			if (!p->used || memcmp(p->pk, x->peer, 32) != 0)
				continue;
			if (p->contact_saved_ms < x->when_ms)
				p->contact_saved_ms = x->when_ms;
			if (x->day) {
				p->budget_saved_day = x->day;
				p->budget_saved_sent = x->sent;
			}
			if (x->acked_set) {
				p->acked_saved_version = x->acked_version;
				p->acked_saved = x->acked;
			}
			break;
		}
}

static int contact_save_start(struct daemon *d);

static void contact_done(struct ingest_job *job)
{
	struct contact_job *j = job->data;
	struct daemon *d = j->d;

	d->contact_saving = 0;
	if (job->r == 0)
		contact_saved(d, j);
	else if (job->r != -ECANCELED)
		dlog(DLOG_WARNING, _("cannot keep the peers' last contact: %s"),
		     _(hamlet_strerror(job->r)));
	free(j);
	if (d->contact_again) {
		d->contact_again = 0;
		contact_save_start(d);
	}
}

/* A job saving what changed: 1 started (or to start again once the
 * running one is done), 0 nothing to save, <0 not now (the writer is
 * busy, or out of memory: the next tick tries again). */
static int contact_save_start(struct daemon *d)
{
	struct contact_job *j;

	if (d->stopping)
		return 0;
	if (d->contact_saving) {
		d->contact_again = 1;
		return 1;
	}
	if (!(j = calloc(1, sizeof(*j))))
		return -ENOMEM;
	j->d = d;
	j->job.kind = INGEST_CONTACT;
	j->job.contacts = j->v;
	j->job.data = j;
	if ((j->job.n = contact_collect(d, j)) == 0) {
		free(j);
		return 0;
	}
	if (ingest_submit(d->ingest, &j->job, contact_done) < 0) {
		free(j);
		return -EBUSY;
	}
	d->contact_saving = 1;
	return 1;
}

static void on_contact_timer(uv_timer_t *t)
{
	contact_save_start(t->data);
}

void contact_budget_sent(struct daemon *d, int held)
{
	if (held)
		contact_save_start(d); /* at once: see contact.h */
	else
		d->budget_dirty = 1; /* within a second */
}

static void feeds_done(struct ingest_job *job)
{
	struct daemon *d = job->data;
	d->feeds_retrying = 0;
	free(job);
}

/* HOME/own-feeds could not be written (a full disk): a job on the writer
 * tries again every HAMLETD_FEEDS_RETRY_S seconds until it is, rather than
 * at the next own write, which may never come. */
static void feeds_retry(struct daemon *d)
{
	struct ingest_job *j;

	if (++d->feeds_ticks < HAMLETD_FEEDS_RETRY_S)
		return;
	d->feeds_ticks = 0;
	if (d->feeds_retrying || d->stopping || !node_feeds_unsaved(d->node) ||
	    !(j = calloc(1, sizeof(*j))))
		return;
	j->kind = INGEST_FEEDS;
	j->data = d;
	if (ingest_submit(d->ingest, j, feeds_done) == 0)
		d->feeds_retrying = 1;
	else
		free(j); /* busy: the next try */
}

/* The take-out after a scope move joined the trust set: what went is
 * logged; a failure is said once (the next start takes it out, as
 * keep_at_start does in main.c). */
static void moved_keep_done(struct ingest_job *job)
{
	struct daemon *d = job->data;
	const struct log_keep_result *k = &job->keep;

	d->moved_keeping = 0;
	if (job->r < 0 && job->r != -ECANCELED)
		dlog(DLOG_WARNING,
		     _("cannot take out what a scope move left outside what this node may read: %s (hamletd tries again when it next starts)"),
		     _(hamlet_strerror(job->r)));
	else if (job->r == 0 &&
		 (k->entries || k->held || k->proofs || k->feeds))
		dlog(DLOG_NOTICE,
		     _("a scope move left entries outside what this node may read: taken out of its store (stored: %llu, waiting: %llu)"),
		     (unsigned long long)k->entries,
		     (unsigned long long)k->held);
	free(job);
}

/* A scope move joined the trust set: what the node may read can have
 * narrowed (a village moved to another commune leaves this commune's
 * reach), and a node holds only what it may read (proto/SPEC.md section
 * 9, "What a node keeps"). A job on the writer takes the rest out, as a
 * certificate installed over the store does. */
static void moved_keep(struct daemon *d)
{
	struct ingest_job *j;

	if (d->moved_keeping || d->stopping || !ingest_moved(d->ingest) ||
	    !(j = calloc(1, sizeof(*j))))
		return;
	/* the job reads the certificate again on the writer, and takes
	 * nothing out when it does not hold now (ingest.c, run_keep) */
	j->kind = INGEST_KEEP;
	j->data = d;
	/* before: the callback may run at once, inside the submit */
	d->moved_keeping = 1;
	ingest_moved_clear(d->ingest);
	if (ingest_submit(d->ingest, j, moved_keep_done) < 0) {
		d->moved_keeping = 0;
		ingest_moved_note(d->ingest); /* busy: the next tick */
		free(j);
	}
}

static void compact_done(struct ingest_job *job)
{
	struct daemon *d = job->data;
	d->compacting = 0;
	d->compact_job = NULL;
	free(job);
}

/* Each second: the day's count of a peer's budget, when bytes went out
 * to it since it was saved; own-feeds when a write of it failed, every
 * few seconds; a take-out when a scope move joined the trust set; the
 * certificate chain's end, every minute (certwarn.h); and when an
 * erasure's rewrite of the store was put off (another process had it
 * open), a job on the writer tries it again. */
static void on_compact_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;

	if (d->budget_dirty && !d->stopping && contact_save_start(d) >= 0)
		d->budget_dirty = 0;
	feeds_retry(d);
	moved_keep(d);
	certwarn_tick(d);
	peers_anon_flush(d, 0);
	if (d->compacting || d->stopping ||
	    !store_compact_wanted(d->node->st))
		return;
	if (!(d->compact_job = calloc(1, sizeof(*d->compact_job))))
		return;
	d->compact_job->kind = INGEST_COMPACT;
	d->compact_job->data = d;
	if (ingest_submit(d->ingest, d->compact_job, compact_done) == 0) {
		d->compacting = 1;
	} else {
		free(d->compact_job); /* busy: the next tick tries again */
		d->compact_job = NULL;
	}
}

void contact_start(struct daemon *d)
{
	uv_timer_init(d->loop, &d->compact_timer);
	d->compact_timer.data = d;
	uv_timer_start(&d->compact_timer, on_compact_timer, 1000, 1000);
	d->compact_timer_open = 1;
	uv_timer_init(d->loop, &d->contact_timer);
	d->contact_timer.data = d;
	uv_timer_start(&d->contact_timer, on_contact_timer,
		       HAMLETD_CONTACT_SAVE_MS, HAMLETD_CONTACT_SAVE_MS);
	d->contact_timer_open = 1;
}

void contact_stop(struct daemon *d)
{
	if (d->contact_timer_open)
		uv_close((uv_handle_t *)&d->contact_timer, NULL);
	d->contact_timer_open = 0;
	if (d->compact_timer_open)
		uv_close((uv_handle_t *)&d->compact_timer, NULL);
	d->compact_timer_open = 0;
}

void contact_save_final(struct daemon *d)
{
	struct contact_job *j = calloc(1, sizeof(*j));
	int r;

	if (!j)
		return;
	if ((j->job.n = contact_collect(d, j)) > 0 &&
	    (r = heard_contacts_save(d->node->st, j->v, j->job.n)) < 0)
		dlog(DLOG_WARNING, _("cannot keep the peers' last contact: %s"),
		     _(hamlet_strerror(r)));
	free(j);
}

/* --- what is known of the configured peers across a restart ----------- */

uint32_t contact_budget_today(void)
{
	return budget_day((time_t)(hlc_wall_ms() / 1000));
}

void contact_budget_load(struct daemon *d, struct peer_info *p)
{
	struct store_txn *t;
	uint32_t day, kept, today = contact_budget_today();
	uint64_t sent;
	int r;

	if (p->budget_loaded || store_txn_begin(d->node->st, 1, &t) < 0)
		return;
	r = heard_budget_get(t, p->pk, &day, &sent);
	/* a count of a later day than today: the clock was set back since
	 * it was kept, and those bytes count on (budget_day_roll) */
	kept = day;
	if (r == 0)
		budget_day_roll(&kept, &sent, today);
	if (r == 0 && kept >= today && sent &&
	    (p->budget_day != kept || sent > p->sent_today)) {
		p->budget_day = kept;
		p->sent_today = sent;
		p->budget_saved_day = day;
		p->budget_saved_sent = sent;
	}
	if (r == 0 || r == HAMLET_ENOTFOUND)
		p->budget_loaded = 1;
	store_txn_abort(t);
}

void contact_acked_load(struct daemon *d, struct peer_info *p)
{
	struct store_txn *t;
	struct peerbase b;
	uint64_t version, acked, cur = 0;
	int r;

	if (p->acked_loaded || store_txn_begin(d->node->st, 1, &t) < 0)
		return;
	if ((r = peerbase_get(t, p->pk, &b)) == 0)
		cur = b.version;
	if (r == 0 || r == HAMLET_ENOTFOUND)
		r = heard_acked_get(t, p->pk, &version, &acked);
	store_txn_abort(t);
	if (r == 0) {
		p->acked_saved_version = version;
		p->acked_saved = acked;
	}
	if (r == 0 && version == cur && !p->acked_version)
		p->acked_out += acked; /* of the same basis: goes on */
	if (!p->acked_version)
		p->acked_version = cur;
	if (r == 0 || r == HAMLET_ENOTFOUND)
		p->acked_loaded = 1;
}

void contact_dials_save(struct daemon *d)
{
	char path[CONFIG_MAX_PATH + 32], tmp[CONFIG_MAX_PATH + 40], hex[65];
	FILE *f;
	int bad;

	snprintf(path, sizeof(path), "%s/" DIALS_FILE, d->cfg.home);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!(f = fopen(tmp, "we"))) {
		dlog(DLOG_WARNING, _("cannot write %s: %s"), tmp,
		     strerror(errno));
		return;
	}
	for (const struct peer_addr *pa = d->addrs; pa; pa = pa->next) {
		if (pa->removed || !pa->has_pk)
			continue;
		sodium_bin2hex(hex, sizeof(hex), pa->pk, 32);
		fprintf(f, "%s %s\n", pa->addr, hex);
	}
	bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
	if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
		dlog(DLOG_WARNING, _("cannot write %s: %s"), path,
		     strerror(errno));
		unlink(tmp);
	}
}

/* The key kept for addr in peers.known: 1 with ret_pk, else 0. */
static int dials_lookup(const struct daemon *d, const char *addr,
			uint8_t ret_pk[32])
{
	char path[CONFIG_MAX_PATH + 32], line[CONFIG_MAX_ADDR + 80], *sp;
	uint8_t pk[32];
	size_t len;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/" DIALS_FILE, d->cfg.home);
	if (!(f = fopen(path, "re")))
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!(sp = strrchr(line, ' ')))
			continue;
		*sp++ = 0;
		if (strcmp(line, addr) != 0 ||
		    sodium_hex2bin(pk, 32, sp, strlen(sp), NULL, &len,
				   NULL) != 0 ||
		    len != 32)
			continue;
		memcpy(ret_pk, pk, 32);
		found = 1;
	}
	fclose(f);
	return found;
}

void contact_dial_restore(struct daemon *d, struct peer_addr *pa)
{
	struct peer_info *p;
	struct store_txn *t;
	uint64_t ms;

	if (pa->has_pk || !dials_lookup(d, pa->addr, pa->pk))
		return;
	pa->has_pk = 1;
	/* a key with figures of this run keeps them */
	if (!(p = peer_info_get(d, pa->pk)) || p->connected || p->seen_ms ||
	    p->last_sync_ms)
		return;
	snprintf(p->addr, sizeof(p->addr), "%s", pa->addr);
	if (store_txn_begin(d->node->st, 1, &t) == 0) {
		if (heard_contact_get(t, p->pk, &ms) == 0)
			p->last_sync_ms = p->contact_saved_ms = ms;
		if (p->who.source == NAMES_UNKNOWN &&
		    names_lookup(t, p->pk, hlc_wall_ms(), &p->who) < 0)
			p->who.source = NAMES_UNKNOWN;
		store_txn_abort(t);
	}
	contact_budget_load(d, p);
	contact_acked_load(d, p);
}
