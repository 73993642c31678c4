/* audit: the record thread, checking every record row and the kept
 * state digest against what the entries make, while the entries are
 * checked. */
#include "audit_internal.h"

#include "changes.h"
#include "error.h"
#include "log.h"
#include "record.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

/* --- records and the digest ------------------------------------------ */

/* Let the reader have the transaction when it waits for it. -ECANCELED
 * when the audit failed meanwhile. */
static int records_yield(struct audit_records *rc)
{
	struct pool *p = rc->pool;
	int quit;

	if (!p) {
		/* checked on the calling thread: it tells */
		if (rc->pfn && (rc->records + rc->mismatch) % 256 == 0)
			rc->pfn(rc->pctx, rc->entries, rc->total);
		return 0;
	}
	pthread_mutex_lock(&p->mu);
	p->records_checked++;
	if (p->reader_wants) {
		audit__txn_give(p, TXN_RECORDS);
		audit__txn_take(p, TXN_RECORDS);
	}
	quit = p->quit;
	pthread_mutex_unlock(&p->mu);
	return quit ? -ECANCELED : 0;
}

/* The digest status and `hamlet digest` read is kept up to date as
 * records change; compare it with the one the rows checked make (each
 * row's hash added as it was checked: the same as
 * record_digest_recompute, without building every state again). */
static int audit_digest(struct audit_records *rc)
{
	uint8_t kept[32], real[32];
	uint64_t nkept, nreal;
	int r;

	if ((r = record_digest(rc->t, kept, &nkept)) < 0 &&
	    r != HAMLET_ECORRUPT)
		return r;
	record_digest_sum_final(&rc->sum, real);
	nreal = rc->sum.n;
	if (r == 0 && nkept == nreal && memcmp(kept, real, 32) == 0)
		return 0;
	rc->digest_mismatch++;
	/* what differs, said plainly: how many records, or (as many as it
	 * counts) what they hold. The core chooses the plural itself: it
	 * calls no gettext (why.h) */
	if (r == 0 && nkept == nreal)
		problems_add(&rc->problems, "digest",
			     N_("the kept state digest does not match the stored records: they are as many as it counts (%llu), but what some of them hold is not what it was kept for (a body or a record row was altered, or the digest itself)"),
			     (unsigned long long)nreal);
	else if (r == 0)
		problems_add(&rc->problems, "digest",
			     nkept == 1
				     ? N_("the kept state digest does not match the stored records: it counts %llu record, the store holds %llu")
				     : N_("the kept state digest does not match the stored records: it counts %llu records, the store holds %llu"),
			     (unsigned long long)nkept,
			     (unsigned long long)nreal);
	else
		problems_add(&rc->problems, "digest",
			     N_("the kept state digest is damaged"));
	return 0;
}

/* Each stored record row against the state its ops make, recomputed,
 * and each op row against the entry it names. */
static int audit_record(void *ctx, const char *coll, const char *id)
{
	struct audit_records *rc = ctx;
	int differs = 0;
	uint8_t h[32];
	int r = record_state_check(rc->t, coll, id, &differs, h);
	if (r == HAMLET_ECOLLECTION || r == HAMLET_ECORRUPT)
		differs = 1;
	else if (r < 0)
		return r;
	if (!differs) {
		r = record_ops_unlinked(rc->t, coll, id);
		if (r == HAMLET_ECORRUPT || r > 0) {
			rc->mismatch++;
			problems_add(&rc->problems, "record",
				     N_("record %s/%s: an op row names an entry that is not the one stored where it points: the record's index is damaged"),
				     coll, id);
		} else if (r < 0) {
			return r;
		} else if ((r = changes_check(rc->t, coll, id)) ==
			   HAMLET_ECORRUPT) {
			/* its place in the changes feed (HTTP, the sink) */
			rc->mismatch++;
			problems_add(&rc->problems, "record",
				     N_("record %s/%s: its row in the changes table (what the HTTP changes feed and hamlet sink follow) is missing, does not read, or names another record: the changes table is damaged"),
				     coll, id);
		} else if (r < 0) {
			return r;
		}
	}
	record_digest_sum_add(&rc->sum, h);
	rc->records++;
	if (differs) {
		rc->mismatch++;
		problems_add(&rc->problems, "record",
			     N_("record %s/%s: the stored state is not what its signed entries make"),
			     coll, id);
	}
	return records_yield(rc);
}

/* A record with signed ops but no stored row at all. */
static int audit_record_missing(void *ctx, const char *coll, const char *id)
{
	struct audit_records *rc = ctx;
	rc->mismatch++;
	problems_add(&rc->problems, "record",
		     N_("record %s/%s: its signed entries are stored but its state row is missing"),
		     coll, id);
	return records_yield(rc);
}

static void records_check(struct audit_records *rc)
{
	int r;

	if ((r = record_each(rc->t, NULL, audit_record, rc)) < 0) {
		rc->r = r;
		return;
	}
	r = record_unmaterialized_each(rc->t, audit_record_missing, rc);
	if (r == HAMLET_ECORRUPT) {
		/* the rows that name records do not all read: said, and
		 * the digest is still compared */
		rc->mismatch++;
		problems_add(&rc->problems, "record",
			     N_("an op row or a change row does not read, or names an entry that is not stored: records whose state row is missing may go unnamed"));
		r = 0;
	}
	if (r < 0 || (r = audit_digest(rc)) < 0)
		rc->r = r;
}

void *audit__records_run(void *arg)
{
	struct audit_records *rc = arg;
	struct pool *p = rc->pool;

	pthread_mutex_lock(&p->mu);
	audit__txn_take(p, TXN_RECORDS);
	pthread_mutex_unlock(&p->mu);
	records_check(rc);
	pthread_mutex_lock(&p->mu);
	p->records_over = 1;
	audit__txn_give(p, TXN_RECORDS);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Wait for the record thread to end, telling rc->pfn (on this thread)
 * each second in which it checked more records: a watcher sees the audit
 * move on while only records are left (cli/guard.h). */
static void records_wait(struct audit_records *rc)
{
	struct pool *p = rc->pool;
	uint64_t seen = 0;

	pthread_mutex_lock(&p->mu);
	audit__txn_give(p, TXN_READER);
	while (!p->records_over) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec++;
		pthread_cond_timedwait(&p->done, &p->mu, &ts);
		if (rc->pfn && !p->records_over &&
		    p->records_checked != seen) {
			seen = p->records_checked;
			pthread_mutex_unlock(&p->mu);
			rc->pfn(rc->pctx, rc->entries, rc->total);
			pthread_mutex_lock(&p->mu);
		}
	}
	pthread_mutex_unlock(&p->mu);
	pthread_join(rc->th, NULL);
}

/* The records' findings, once checked (on a thread of their own, or
 * now), after those of the entries and forks. */
int audit__records_tell(struct audit_records *rc, struct audit_report *rep)
{
	if (rc->running) {
		records_wait(rc);
		rc->running = 0;
	} else {
		rc->pool = NULL;
		records_check(rc);
	}
	if (rc->r < 0)
		return rc->r;
	rep->records = rc->records;
	rep->records_mismatch = rc->mismatch;
	rep->digest_mismatch = rc->digest_mismatch;
	return problems_append(&rep->problems, &rc->problems);
}
