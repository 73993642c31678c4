/*
 * audit_internal: what audit.c (the reader, the workers, telling what the
 * entries show), audit_forks.c (fork evidence) and audit_records.c (the
 * record thread) share; audit.c says how the threads share the work.
 * Nothing outside the audit module includes it.
 */
#ifndef HAMLET_AUDIT_INTERNAL_H
#define HAMLET_AUDIT_INTERNAL_H

#include "audit.h"
#include "record.h"

#include <pthread.h>
#include <stdint.h>

#define RING 16		/* batches in flight: read ahead while checked */
#define MAX_THREADS 16

struct audit_item;
struct audit_feed_mark;

struct audit_batch {
	struct audit_item *items;	/* BATCH, made when first used */
	struct audit_feed_mark *feeds;	/* BATCH */
	size_t n, nfeeds;
	size_t hw; /* items ever filled: the bodies to free at the end */
	size_t claimed, done; /* items handed to workers, items checked */
};

/* Who holds the read transaction. */
enum { TXN_FREE, TXN_READER, TXN_RECORDS };

struct pool {
	pthread_t th[MAX_THREADS];
	size_t started; /* workers */
	pthread_mutex_t mu;
	pthread_cond_t work; /* items to check, or stop */
	pthread_cond_t done; /* a batch checked; the transaction free */
	struct audit_batch ring[RING];
	uint64_t head, tail; /* batches [head, tail) handed out, not told */
	uint64_t claim;	     /* the first of them with items not handed */
	int inited, stop;
	int txn_owner, reader_wants;
	int quit; /* the audit failed: the record thread stops early */
	uint64_t records_checked; /* by the record thread, so far */
	int records_over;	  /* the record thread is done */
	const uint8_t *network_id;
};

/* What the record thread finds, told after the entries and forks. */
struct audit_records {
	pthread_t th;
	int running;
	struct pool *pool; /* NULL: run on the calling thread */
	struct store_txn *t;
	uint64_t records, mismatch, digest_mismatch;
	struct record_digest_sum sum; /* of every row checked */
	struct problems problems;
	int r;
	/* told while the records are checked after the entries: the
	 * entries' figures again, each time more records were checked */
	audit_progress_fn pfn; /* NULL: none */
	void *pctx;
	uint64_t entries, total;
};

/* The erase entries the walk of the feeds meets (audit_erased.c): the
 * first AUDIT_MAX_ERASURES, each as signed. */
#define AUDIT_MAX_ERASURES 65536

struct audit_erasure {
	char coll[ENTRY_MAX_COLLECTION + 1];
	char id[ENTRY_MAX_RECORD_ID + 1];
	char scope[ENTRY_MAX_SCOPE + 1];
	uint8_t author[ENTRY_KEY_LEN];
	uint64_t seq;
};

struct audit_erasures {
	struct audit_erasure *v;
	size_t n, cap;
	int over; /* past AUDIT_MAX_ERASURES: told once */
};

/* --- audit.c --- */

/* The first 8 bytes of p in hex, for naming a key short. */
void audit__hex8(const uint8_t *p, char out[17]);

/* The read transaction, for who (TXN_READER or TXN_RECORDS), and given
 * back; the reader goes first. Under p->mu. */
void audit__txn_take(struct pool *p, int who);
void audit__txn_give(struct pool *p, int who);

/* --- audit_records.c --- */

/* The record thread (arg: its struct audit_records), taking turns with
 * the reader for the transaction. */
void *audit__records_run(void *arg);

/* The records' findings into rep, after those of the entries and forks;
 * the record thread joined (rc->pfn told as it goes on), or the records
 * checked now when none ran. */
int audit__records_tell(struct audit_records *rc, struct audit_report *rep);

/* Every stored entry past a cut-off of a revocation of its author in
 * t's trust set (of network_id): counted in rep->past_cutoff and told
 * (kind "revoked") by feed and seqs (audit_revoked.c). */
int audit__cutoff_check(struct store_txn *t, const uint8_t network_id[32],
			struct audit_report *rep);

/* --- audit_trust.c --- */

/* The trust set's index of subjects held to its signed items: each
 * fault counted in rep->trust_index and told (kind "trust"). */
int audit__trust_index_check(struct store_txn *t, struct audit_report *rep);

/* --- audit_erased.c --- */

/* Remember the erasure whose envelope env is (one that does not decode
 * as an erasure is left out): 0, or -ENOMEM. */
int audit__erasure_add(struct audit_erasures *es, const uint8_t *env,
		       size_t env_len);
/* Free what es holds; zeroed is fine. */
void audit__erasures_close(struct audit_erasures *es);

/* Every stored body that an erasure of es (sorted here) reaches, found
 * by its record's op rows and read back from its entry: counted in
 * rep->erased_bodies and told (kind "erased-body") by feed and seq. */
int audit__erased_check(struct store_txn *t, struct audit_erasures *es,
			struct audit_report *rep);

#endif
