#include "audit.h"

#include "entry.h"
#include "error.h"
#include "hlc.h"
#include "log.h"
#include "record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 4096

struct audit_ctx {
	struct store_txn *t;
	const uint8_t *network_id;
	struct audit_report *rep;
	struct log_in *in;
	uint64_t *seqs;
	int *res;
	size_t n;
	const struct log_feed *feed;
};

static void hex8(const uint8_t *p, char out[17])
{
	static const char d[] = "0123456789abcdef";
	for (int i = 0; i < 8; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[16] = 0;
}

static void flush_sigs(struct audit_ctx *c)
{
	if (!c->n)
		return;
	log_verify_parallel(c->in, c->n, c->res);
	for (size_t i = 0; i < c->n; i++) {
		if (c->res[i] == 0)
			continue;
		c->rep->bad_signatures++;
		problems_add(&c->rep->problems, "signature",
			     "feed %s seq %llu: %s", c->feed->scope,
			     (unsigned long long)c->seqs[i],
			     hamlet_strerror(c->res[i]));
	}
	c->n = 0;
}

static int audit_feed(void *ctx, const struct log_feed *f)
{
	struct audit_ctx *c = ctx;
	struct audit_report *rep = c->rep;
	uint8_t prev[32], fk[32];
	uint64_t wall = hlc_wall_ms();
	char a[17];
	int r;

	rep->feeds++;
	c->feed = f;
	hex8(f->author, a);
	log_feed_key(f->author, f->scope, fk);
	if (memcmp(fk, f->key, 32) != 0)
		problems_add(&rep->problems, "chain",
			     "feed %s by %s…: its key does not match its author and scope",
			     f->scope, a);
	for (uint64_t seq = 1; seq <= f->seq; seq++) {
		const uint8_t *env, *sig;
		size_t env_len;
		struct entry e;
		uint8_t id[32];

		r = log_entry_get(c->t, f->key, seq, &env, &env_len, &sig);
		if (r == HAMLET_ENOTFOUND) {
			rep->gaps++;
			problems_add(&rep->problems, "gap",
				     "feed %s by %s…: entry %llu is missing",
				     f->scope, a, (unsigned long long)seq);
			continue;
		}
		if (r < 0)
			return r;
		rep->entries++;
		if ((r = entry_decode(env, env_len, &e, NULL)) < 0) {
			rep->chain_breaks++;
			problems_add(&rep->problems, "chain",
				     "feed %s seq %llu: envelope does not decode (%s)",
				     f->scope, (unsigned long long)seq,
				     hamlet_strerror(r));
			continue;
		}
		if (e.seq != seq || memcmp(e.author, f->author, 32) != 0 ||
		    strcmp(e.scope, f->scope) != 0) {
			rep->chain_breaks++;
			problems_add(&rep->problems, "chain",
				     "feed %s seq %llu: entry stored under the wrong feed or seq",
				     f->scope, (unsigned long long)seq);
		}
		if (seq > 1 && (!e.has_prev || memcmp(e.prev, prev, 32) != 0)) {
			rep->chain_breaks++;
			problems_add(&rep->problems, "chain",
				     "feed %s seq %llu: prev does not name entry %llu",
				     f->scope, (unsigned long long)seq,
				     (unsigned long long)(seq - 1));
		}
		if (memcmp(e.network_id, c->network_id, 32) != 0) {
			rep->wrong_network++;
			problems_add(&rep->problems, "network",
				     "feed %s seq %llu belongs to another network",
				     f->scope, (unsigned long long)seq);
		}
		if (hlc_is_future(e.hlc, wall)) {
			rep->future++;
			problems_add(&rep->problems, "future",
				     "feed %s seq %llu is dated in the future (author's clock ahead?)",
				     f->scope, (unsigned long long)seq);
		}
		entry_id(env, env_len, id);
		memcpy(prev, id, 32);
		if (e.has_body) {
			const uint8_t *body;
			size_t bl;
			uint8_t h[32];
			r = log_body_get(c->t, e.body_hash, &body, &bl);
			if (r == HAMLET_ENOTFOUND) {
				rep->bodies_missing++;
				problems_add(&rep->problems, "body",
					     "feed %s seq %llu: body not held (redacted or never received)",
					     f->scope, (unsigned long long)seq);
			} else if (r < 0) {
				return r;
			} else {
				rep->bodies++;
				entry_body_hash(body, bl, h);
				if (memcmp(h, e.body_hash, 32) != 0 ||
				    bl != e.body_len) {
					rep->chain_breaks++;
					problems_add(&rep->problems, "body",
						     "feed %s seq %llu: stored body does not match its signed hash",
						     f->scope,
						     (unsigned long long)seq);
				}
			}
		}
		c->in[c->n] = (struct log_in){ env, env_len, sig, NULL, 0 };
		c->seqs[c->n++] = seq;
		if (c->n == BATCH)
			flush_sigs(c);
	}
	flush_sigs(c);
	if (f->forked)
		problems_add(&rep->problems, "fork",
			     "feed %s by %s… forked at seq %llu: frozen there",
			     f->scope, a, (unsigned long long)f->fork_seq);
	return 0;
}

static int audit_fork(void *ctx, const struct log_fork *f)
{
	struct audit_ctx *c = ctx;
	struct entry e;
	char a[17];
	c->rep->forks++;
	if (entry_decode(f->env, f->env_len, &e, NULL) < 0 ||
	    entry_verify(f->env, f->env_len, f->sig, e.author) < 0) {
		problems_add(&c->rep->problems, "fork",
			     "fork evidence at seq %llu does not verify",
			     (unsigned long long)f->seq);
		return 0;
	}
	hex8(e.author, a);
	problems_add(&c->rep->problems, "fork",
		     "author %s… signed two different entries at seq %llu of feed %s (evidence kept)",
		     a, (unsigned long long)e.seq, e.scope);
	return 0;
}

/* The digest status and `hamlet digest` read is kept up to date as
 * records change; recompute it from every record and compare. */
static int audit_digest(struct audit_ctx *c)
{
	uint8_t kept[32], real[32];
	uint64_t nkept, nreal;
	int r;

	if ((r = record_digest(c->t, kept, &nkept)) < 0 &&
	    r != HAMLET_ECORRUPT)
		return r;
	if (r == 0 && (r = record_digest_recompute(c->t, real, &nreal)) < 0)
		return r;
	if (r == 0 && nkept == nreal && memcmp(kept, real, 32) == 0)
		return 0;
	c->rep->digest_mismatch++;
	if (r == 0)
		problems_add(&c->rep->problems, "digest",
			     "the kept state digest does not match the %llu records it stands for (it counts %llu)",
			     (unsigned long long)nreal,
			     (unsigned long long)nkept);
	else
		problems_add(&c->rep->problems, "digest",
			     "the kept state digest is damaged");
	return 0;
}

/* Each stored record row against the state its ops make, recomputed. */
static int audit_record(void *ctx, const char *coll, const char *id)
{
	struct audit_ctx *c = ctx;
	int differs = 0;
	int r = record_state_check(c->t, coll, id, &differs);
	if (r == HAMLET_ECOLLECTION || r == HAMLET_ECORRUPT)
		differs = 1;
	else if (r < 0)
		return r;
	c->rep->records++;
	if (differs) {
		c->rep->records_mismatch++;
		problems_add(&c->rep->problems, "record",
			     "record %s/%s: the stored state is not what its signed entries make",
			     coll, id);
	}
	return 0;
}

/* A record with signed ops but no stored row at all. */
static int audit_record_missing(void *ctx, const char *coll, const char *id)
{
	struct audit_ctx *c = ctx;
	c->rep->records_mismatch++;
	problems_add(&c->rep->problems, "record",
		     "record %s/%s: its signed entries are stored but its state row is missing",
		     coll, id);
	return 0;
}

int audit_store(struct store *st, const uint8_t network_id[32],
		struct audit_report *rep)
{
	struct audit_ctx c = { 0 };
	int r;

	memset(rep, 0, sizeof(*rep));
	c.network_id = network_id;
	c.rep = rep;
	c.in = malloc(BATCH * sizeof(*c.in));
	c.seqs = malloc(BATCH * sizeof(*c.seqs));
	c.res = malloc(BATCH * sizeof(int));
	if (!c.in || !c.seqs || !c.res) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = store_txn_begin(st, 1, &c.t)) < 0)
		goto out;
	if ((r = log_feeds_each(c.t, audit_feed, &c)) < 0)
		goto out;
	if ((r = log_forks_each(c.t, audit_fork, &c)) < 0)
		goto out;
	if ((r = record_each(c.t, NULL, audit_record, &c)) < 0 ||
	    (r = record_unmaterialized_each(c.t, audit_record_missing, &c)) < 0)
		goto out;
	if ((r = log_held_count(c.t, &rep->held)) < 0 ||
	    (r = audit_digest(&c)) < 0)
		goto out;
	if (rep->held)
		problems_add(&rep->problems, "held",
			     "%llu entries are held waiting for an earlier entry of their feed",
			     (unsigned long long)rep->held);
	r = 0;
out:
	store_txn_abort(c.t);
	free(c.in);
	free(c.seqs);
	free(c.res);
	return r;
}

int audit_failed(const struct audit_report *rep)
{
	return rep->bad_signatures || rep->chain_breaks || rep->gaps ||
	       rep->forks || rep->wrong_network || rep->digest_mismatch ||
	       rep->records_mismatch;
}

void audit_report_close(struct audit_report *rep)
{
	if (rep)
		problems_close(&rep->problems);
}
