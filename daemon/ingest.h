/*
 * ingest: the one way into the store while hamletd runs.
 *
 * A peer's batch, the local socket's `write` (operations the node signs)
 * and its `ingest` (signed entries from a bundle) are all jobs on one
 * queue. Jobs run one at a time on the thread pool, each in one write
 * transaction (writes queued one behind another share one commit, each
 * in a nested transaction: INGEST_WRITE_GROUP), after the same checks: every entry decodes and lies inside
 * the node's scopes (and, for a peer's batch, in the feed its message
 * named). The queue knows nothing of sessions or sockets: it takes a job
 * and calls back on the loop thread when the job is committed or refused,
 * then tells its commit hook which feeds moved, so pushes follow commits.
 */
#ifndef HAMLETD_INGEST_H
#define HAMLETD_INGEST_H

#include "cert.h"
#include "entry.h"
#include "log.h"
#include "node.h"
#include "peerbase.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define INGEST_MAX_JOBS 256 /* queued and running; then -EBUSY */
/* INGEST_WRITE jobs waiting one after another run as one group: each in a
 * transaction of its own nested in one that commits them all (one fsync;
 * log_write_group), at most this many at once. */
#define INGEST_WRITE_GROUP 64

enum ingest_kind {
	INGEST_ENTRIES = 1, /* signed entries from a peer or a bundle */
	INGEST_WRITE,	    /* operations this node signs */
	INGEST_TRUST,	    /* certificates, revocations, fork proofs */
	INGEST_CONTACT,	    /* when peers were last in contact (heard.h) */
	INGEST_COMPACT,	    /* n = 0: the store's rewrite after an erasure,
			     * put off while another process had it open */
	INGEST_PEERBASE,    /* n = 1: a peer's sync basis (peerbase.h) */
	INGEST_KEEP,	    /* n = 0: keep only what the node's certificate,
			     * installed since, lets it read (log_keep_reads) */
	INGEST_FEEDS,	    /* n = 0: write HOME/own-feeds again after a
			     * write of it failed (node_feeds_retry) */
};

struct ingest;
struct ingest_job;

/* Arriving signed entries (from peers and bundles) the queue refused since
 * it was made, by reason; forks are stored as evidence, counted apart. */
struct ingest_refused {
	uint64_t invalid;      /* malformed, forged, or not the feed named */
	uint64_t out_of_scope; /* outside this node's scopes */
	uint64_t future;       /* dated more than LOG_MAX_AHEAD_MS ahead */
	uint64_t held_cap;     /* past the caps on entries held */
	uint64_t held_expired; /* held LOG_MAX_HELD_AGE_MS, then dropped */
	uint64_t frozen;       /* for a feed frozen after a fork */
	uint64_t not_granted;  /* outside its author's write grant */
	uint64_t revoked;      /* past its author's revocation */
	uint64_t forks;	       /* second entries at one seq: kept, feed frozen */
};

/* How long jobs took to run (their write transaction with its checks),
 * as a histogram: counts[i] of jobs that took at most INGEST_HIST_MS[i]
 * milliseconds (the last bucket: any time), their total in sum_ms. */
#define INGEST_HIST_N 10
extern const double INGEST_HIST_MS[INGEST_HIST_N];
struct ingest_hist {
	uint64_t counts[INGEST_HIST_N];
	uint64_t n;
	double sum_ms;
};

/* Called on the loop thread once per submitted job. */
typedef void (*ingest_done_cb)(struct ingest_job *job);
/* Called on the loop thread after each commit that moved feed heads. */
typedef void (*ingest_commit_cb)(void *ctx, const struct log_advances *adv);
/* Called on the loop thread after a commit that added trust items. */
typedef void (*ingest_trust_cb)(void *ctx);

struct ingest_job {
	/* --- set by the caller; borrowed until the callback --- */
	int kind;
	/* INGEST_ENTRIES: refuse the whole job when one entry fails the
	 * checks (a peer's batch); otherwise such entries are rejected one
	 * by one and the rest is stored (a bundle). */
	int whole;
	const struct log_in *in;    /* INGEST_ENTRIES: n entries */
	const uint8_t (*feeds)[32]; /* INGEST_ENTRIES: each entry's feed, or NULL */
	/* INGEST_ENTRIES with whole: the same n entries handed to the verify
	 * pool ahead (log_check_start), or NULL; the caller frees it after
	 * the callback */
	struct log_check *check;
	const struct log_op *ops;   /* INGEST_WRITE: n operations */
	const struct trustset_item *items; /* INGEST_TRUST: n items */
	struct trustset_out *tout;  /* INGEST_TRUST: n results */
	/* INGEST_CONTACT: n peers' contacts and budgets (heard.h) */
	const struct heard_contact *contacts;
	const struct peerbase *base;	    /* INGEST_PEERBASE, for peer */
	/* INGEST_ENTRIES: the most entries the job may newly hold (waiting
	 * for an earlier one), or NULL for no limit but the store's */
	const uint64_t *held_budget;
	/* INGEST_ENTRIES: this node's certificate; an entry of a scope it
	 * may not read is refused (ESCOPE). NULL: the node has none, and
	 * keeps only its own scope (scopemap_keeps()) */
	const struct cert *read_grant;
	/* INGEST_ENTRIES from a peer: its key and certificate; an entry it
	 * signed itself outside its write grant is refused (ECERT). The
	 * feeds the job moves are noted as heard through it (heard.h), or,
	 * without a peer, through the local socket */
	const uint8_t *peer;
	const struct cert *peer_cert;
	size_t n;
	struct log_out *out; /* n results, filled when r == 0 */
	void *data;

	/* --- results, valid in the callback --- */
	int r;		 /* 0, or <0: nothing of the job was stored */
	int fault;	 /* an entry was refused for its content (not for our
			  * store); with r == 0 the others were stored. why
			  * names the first refused */
	size_t failed;	 /* INGEST_WRITE with r < 0: the operation at fault */
	char why[LOG_WHY_MAX]; /* with r < 0: a sentence naming the fault */
	struct log_stats stats;
	struct log_keep_result keep; /* INGEST_KEEP: what went */

	/* --- private --- */
	uv_work_t work_;
	struct ingest_job *next_;
	struct ingest_job *group_; /* INGEST_WRITE: the next of its group */
	struct ingest *q_;
	ingest_done_cb cb_;
	struct log_advances adv_;
	uint64_t ns_; /* how long it ran */
};

/*
 * A queue writing to node's store, accepting entries under the given
 * scope prefixes (none: every scope). The scopes are copied. Free with
 * ingest_free() once the loop has no job of it running.
 */
int ingest_new(uv_loop_t *loop, struct node *node,
	       const char (*scopes)[ENTRY_MAX_SCOPE + 1], size_t nscopes,
	       struct ingest **ret);

/* Where to report the feeds each commit moved (one hook). */
void ingest_on_commit(struct ingest *q, ingest_commit_cb cb, void *ctx);
/* Where to report that the trust set grew (one hook). */
void ingest_on_trust(struct ingest *q, ingest_trust_cb cb, void *ctx);

/*
 * Queue job; cb runs on the loop thread when it is committed, refused or
 * cancelled (r == -ECANCELED). -EBUSY when INGEST_MAX_JOBS are queued,
 * -ECANCELED after ingest_stop(): then cb never runs.
 */
int ingest_submit(struct ingest *q, struct ingest_job *job, ingest_done_cb cb);

/*
 * 1 when a scope move joined the trust set (a job's item was added)
 * since ingest_moved_clear(): what the node keeps may have narrowed
 * (proto/SPEC.md section 9, "What a node keeps"), for an INGEST_KEEP
 * job to take out.
 */
int ingest_moved(const struct ingest *q);
void ingest_moved_clear(struct ingest *q);
/* As if a scope move had joined: a take-out that could not be queued. */
void ingest_moved_note(struct ingest *q);

/* Jobs queued or running. */
size_t ingest_pending(const struct ingest *q);

/* The jobs' run times since the queue was made; borrowed from q. */
const struct ingest_hist *ingest_hist(const struct ingest *q);

/* What the queue refused since it was made; borrowed from q. */
const struct ingest_refused *ingest_refused(const struct ingest *q);

/*
 * Refuse new jobs and cancel the queued ones (their callbacks run now,
 * with -ECANCELED); the running one finishes and calls back as usual.
 */
void ingest_stop(struct ingest *q);

/* Accepts NULL. No job may be running. */
void ingest_free(struct ingest *q);

#endif
