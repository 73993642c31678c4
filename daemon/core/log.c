#include "log_internal.h"
#include "why.h"

#include "bytes.h"
#include "changes.h"
#include "error.h"
#include "heads.h"
#include "heard.h"
#include "hlc.h"
#include "refused.h"
#include "schema.h"
#include "scopemap.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_GROW_RETRIES 12

const char *log_status_name(int status)
{
	switch (status) {
	case LOG_APPLIED: return "applied";
	case LOG_DUPLICATE: return "duplicate";
	case LOG_HELD: return "held";
	case LOG_FORK: return "fork";
	case LOG_REJECTED: return "rejected";
	default: return "?";
	}
}

/* The last feed key this thread made: the entries of a batch come feed
 * by feed, each asking for the same key in turn. */
static _Thread_local struct {
	int set;
	uint8_t author[ENTRY_KEY_LEN];
	char scope[ENTRY_MAX_SCOPE + 1];
	uint8_t key[32];
} last_feed;

void log_feed_key(const uint8_t author[ENTRY_KEY_LEN], const char *scope,
		  uint8_t ret[32])
{
	crypto_generichash_blake2b_state h;
	size_t sl = strlen(scope);
	if (last_feed.set &&
	    memcmp(last_feed.author, author, ENTRY_KEY_LEN) == 0 &&
	    strcmp(last_feed.scope, scope) == 0) {
		memcpy(ret, last_feed.key, 32);
		return;
	}
	crypto_generichash_blake2b_init(&h, NULL, 0, 32);
	crypto_generichash_blake2b_update(&h, author, ENTRY_KEY_LEN);
	crypto_generichash_blake2b_update(&h, (const uint8_t *)scope, sl);
	crypto_generichash_blake2b_final(&h, ret, 32);
	last_feed.set = sl <= ENTRY_MAX_SCOPE;
	if (last_feed.set) {
		memcpy(last_feed.author, author, ENTRY_KEY_LEN);
		memcpy(last_feed.scope, scope, sl + 1);
		memcpy(last_feed.key, ret, 32);
	}
}

/* --- feed heads -------------------------------------------------------- */

int log__feed_put(struct store_txn *t, const struct log_feed *f)
{
	uint8_t v[FEED_VAL_MIN + ENTRY_MAX_SCOPE];
	size_t sl = strlen(f->scope);
	store_be64(v, f->seq);
	memcpy(v + 8, f->head, 32);
	store_be64(v + 40, f->hlc);
	v[48] = (uint8_t)f->forked;
	store_be64(v + 49, f->fork_seq);
	memcpy(v + 57, f->author, 32);
	memcpy(v + 89, f->sigs, 32);
	memcpy(v + 121, f->scope, sl);
	return store_put(t, ST_FEEDS, f->key, 32, v, FEED_VAL_MIN + sl, 0);
}

void log_sig_mix(uint8_t sigs[32], uint64_t seq,
		 const uint8_t sig[ENTRY_SIG_LEN])
{
	uint8_t in[8 + ENTRY_SIG_LEN], h[32];
	store_be64(in, seq);
	memcpy(in + 8, sig, ENTRY_SIG_LEN);
	crypto_generichash_blake2b(h, 32, in, sizeof(in), NULL, 0);
	for (int i = 0; i < 32; i++)
		sigs[i] ^= h[i];
}

/* --- verification on all cores ----------------------------------------- */

struct vjob {
	const struct log_in *in;
	size_t n, start, step;
	int *res;
	struct entry *ents; /* may be NULL */
	int *fields;
};

static void verify_one(const struct log_in *in, int *res, struct entry *e,
		       int *field)
{
	struct entry tmp;
	if (!e)
		e = &tmp;
	if (in->dec) {
		memcpy(e, in->dec, sizeof(*e));
		*res = 0;
		if (field)
			*field = -1; /* no field to name */
	} else {
		*res = entry_decode(in->env, in->env_len, e, field);
		if (*res < 0)
			return;
	}
	*res = entry_verify(in->env, in->env_len, in->sig, e->author);
}

static void *vjob_run(void *arg)
{
	struct vjob *j = arg;
	for (size_t i = j->start; i < j->n; i += j->step)
		verify_one(&j->in[i], &j->res[i], j->ents ? &j->ents[i] : NULL,
			   j->fields ? &j->fields[i] : NULL);
	return NULL;
}

static void verify_all(const struct log_in *in, size_t n, int *res,
		       struct entry *ents, int *fields)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nt = ncpu > 1 ? (size_t)ncpu : 1;
	pthread_t th[16];
	struct vjob jobs[16];
	size_t started = 0;

	if (nt > 16)
		nt = 16;
	if (n < 64)
		nt = 1;
	for (size_t t = 0; t < nt; t++)
		jobs[t] = (struct vjob){ in, n, t, nt, res, ents, fields };
	/* the calling thread takes job 0 */
	for (size_t t = 1; t < nt; t++) {
		if (pthread_create(&th[t], NULL, vjob_run, &jobs[t]) != 0)
			break;
		started = t;
	}
	if (started + 1 < nt) {
		/* could not start every thread: do the rest here */
		for (size_t t = started + 1; t < nt; t++)
			vjob_run(&jobs[t]);
	}
	vjob_run(&jobs[0]);
	for (size_t t = 1; t <= started; t++)
		pthread_join(th[t], NULL);
}

void log_verify_parallel(const struct log_in *in, size_t n, int *res)
{
	verify_all(in, n, res, NULL, NULL);
}

void log__after_commit(struct store *st, const struct log__applier *a)
{
	/* on failure "erase_pending" stays, and the store retries */
	if (a->erasures)
		store_compact(st);
	else
		store_compact_retry(st);
}

int log_compact_pending(struct store *st)
{
	struct store_txn *t;
	const void *v;
	size_t vl;
	int r;

	if ((r = store_txn_begin(st, 1, &t)) < 0)
		return r;
	r = store_get(t, ST_META, "erase_pending", 13, &v, &vl);
	store_txn_abort(t);
	if (r == HAMLET_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	return store_compact(st);
}

int log__write_txn(struct store *st, log__txn_fn fn, void *ctx)
{
	struct store_txn *t;
	int r;

	for (int attempt = 0;; attempt++) {
		if ((r = store_txn_begin(st, 0, &t)) < 0)
			return r;
		r = fn(t, ctx);
		if (r == 0)
			r = store_txn_commit(t);
		else
			store_txn_abort(t);
		if (r == HAMLET_EMAPFULL && attempt < MAX_GROW_RETRIES &&
		    store_grow(st) == 0)
			continue;
		return r == LOG__NOTHING ? 0 : r;
	}
}

/* --- arriving entries -------------------------------------------------- */

/* These sentences are stored with a refused entry (refused.h) and read
 * back by reports and --json: English, never through why_set()'s
 * translator. */
static void why_field(char *why, size_t n, int err, int field)
{
	if (field == ENTRY_FIELDS)
		snprintf(why, n, N_("the envelope is not an array of %d fields: %s"),
			 ENTRY_FIELDS, hamlet_strerror(err));
	else if (field >= 0)
		snprintf(why, n, N_("envelope field %s: %s"), entry_field_name(field),
			 hamlet_strerror(err));
	else
		snprintf(why, n, "%s", hamlet_strerror(err));
}

/* Checks that need the decoded entry but not the store. */
static int check_content(const struct entry *e, const struct log_in *in,
			 const uint8_t network_id[32], uint64_t wall,
			 char *why, size_t wl)
{
	if (memcmp(e->network_id, network_id, 32) != 0) {
		snprintf(why, wl, N_("entry belongs to another network"));
		return HAMLET_ENETWORK;
	}
	if (hlc_ms(e->hlc) > wall + LOG_MAX_AHEAD_MS) {
		char at[48];
		hlc_format(e->hlc, at);
		snprintf(why, wl,
			 N_("dated %s, more than %llu h ahead of our clock (the author's clock is wrong?); not stored"),
			 at, (unsigned long long)(LOG_MAX_AHEAD_MS / 3600000));
		return HAMLET_EFUTURE;
	}
	if (in->body) {
		uint8_t h[32];
		if (!e->has_body || in->body_len != e->body_len) {
			snprintf(why, wl,
				 N_("body of %zu bytes does not match the envelope's body_len %llu"),
				 in->body_len,
				 (unsigned long long)e->body_len);
			return HAMLET_EHASH;
		}
		if (!in->body_hashed)
			entry_body_hash(in->body, in->body_len, h);
		if (!in->body_hashed && memcmp(h, e->body_hash, 32) != 0) {
			snprintf(why, wl,
				 N_("body does not match the signed body hash (altered)"));
			return HAMLET_EHASH;
		}
	}
	return schema_check_op(e->collection, e->kind, e->has_body, in->body,
			       in->body_len, NULL, why, wl);
}

/* One batch, decoded and checked before the transaction. */
struct ingest {
	struct log__applier a;
	const struct log_in *in;
	size_t n;
	struct log_out *out;
	struct entry *ents;
	int *res; /* 0, or why the entry is rejected */
	int *fields;
	uint8_t (*ids)[32];
	const struct heard_via *via; /* NULL: the feeds moved are not noted */
	/* checked on every core while applied (log_verify.c) */
	struct log__vbatch *vb;
	const uint8_t *network_id;
	uint64_t wall;
};

/*
 * Drop held entries older than LOG_MAX_HELD_AGE_MS, looking at no more
 * than LOG_HELD_SWEEP rows per call: the sweep goes on where the last one
 * stopped (meta "held_sweep", the last key looked at) and starts over
 * past the end. A row held by an earlier version, with no arrival time,
 * is stamped now and ages from here.
 */
static int held_sweep(struct log__applier *a)
{
	struct store_cursor *c = NULL;
	uint8_t from[40], last[40], stamp[LOG_HELD_SWEEP][40];
	size_t nstamp = 0, fl = 0, kl, vl;
	uint64_t now = hlc_wall_ms();
	const void *k, *v;
	int r, looked = 0, end = 0;

	r = store_get(a->t, ST_META, "held_sweep", 10, &v, &vl);
	if (r < 0 && r != HAMLET_ENOTFOUND)
		return r;
	if (r == 0 && vl == 40) {
		memcpy(from, v, 40);
		fl = 40;
	}
	if ((r = store_cursor_open(a->t, ST_PENDING, &c)) < 0)
		return r;
	r = store_cursor_seek(c, fl ? from : NULL, fl, &k, &kl, &v, &vl);
	if (r == 1 && fl && kl == 40 && memcmp(k, from, 40) == 0)
		r = store_cursor_next(c, &k, &kl, &v, &vl);
	for (; r == 1 && looked < LOG_HELD_SWEEP;
	     r = store_cursor_next(c, &k, &kl, &v, &vl), looked++) {
		struct log__entry_row er;
		if (kl != 40 || log__row_decode(v, vl, 1, &er) < 0) {
			r = HAMLET_ECORRUPT;
			goto out;
		}
		memcpy(last, k, 40);
		if (er.arrived == 0) {
			memcpy(stamp[nstamp++], k, 40);
		} else if (now > er.arrived &&
			   now - er.arrived > LOG_MAX_HELD_AGE_MS) {
			if ((r = store_cursor_del(c)) < 0)
				goto out;
			a->st.held_expired++;
		}
	}
	if (r < 0)
		goto out;
	end = r == 0;
	store_cursor_close(c);
	c = NULL;
	for (size_t i = 0; i < nstamp; i++) {
		struct log__entry_row er;
		uint8_t *row;
		if ((r = store_get(a->t, ST_PENDING, stamp[i], 40, &v, &vl)) < 0)
			goto out;
		if (log__row_decode(v, vl, 1, &er) < 0) {
			r = HAMLET_ECORRUPT;
			goto out;
		}
		/* copy out: v lives only until the next write */
		if (!(row = malloc(vl))) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(row, v, vl);
		log__row_decode(row, vl, 1, &er);
		r = log__put_entry_row(a->t, ST_PENDING, stamp[i], 40, er.env,
				       er.env_len, er.sig, er.body,
				       er.body_len);
		free(row);
		if (r < 0)
			goto out;
	}
	if (end || looked == 0)
		r = store_del(a->t, ST_META, "held_sweep", 10);
	else
		r = store_put(a->t, ST_META, "held_sweep", 10, last, 40, 0);
	if (r == HAMLET_ENOTFOUND)
		r = 0;
out:
	store_cursor_close(c);
	return r;
}

static int ingest_txn(struct store_txn *t, void *ctx)
{
	struct ingest *g = ctx;
	int r;

	if ((r = log__applier_begin(&g->a, t)) < 0 ||
	    (r = held_sweep(&g->a)) < 0)
		return r;
	for (size_t i = 0; i < g->n; i++) {
		log__vbatch_wait(g->vb, i);
		if (g->res[i] < 0) {
			g->out[i].status = LOG_REJECTED;
			g->out[i].err = g->res[i];
			g->a.st.rejected++;
			if (g->res[i] == HAMLET_EFUTURE)
				g->a.st.refused_future++;
			/* kept for the auditor (refused.h) */
			if ((r = refused_put(t, g->ids[i], g->res[i],
					     g->out[i].why, g->in[i].env,
					     g->in[i].env_len,
					     g->in[i].sig)) < 0)
				return r;
			continue;
		}
		if ((r = log__apply_one(&g->a, &g->ents[i], g->ids[i],
					g->in[i].env, g->in[i].env_len,
					g->in[i].sig, g->in[i].body,
					g->in[i].body_len, &g->out[i])) < 0)
			return r;
	}
	if (g->via && (r = heard_moved(t, &g->a.moved, g->via,
				       hlc_wall_ms())) < 0)
		return r;
	return log__applier_finish(&g->a, 0);
}

/* Decode, verify and check entry i: res[i], out[i] (its id, seq and
 * why). On any thread (log_verify.c); the sentences kept with a refused
 * entry are English (why_plain is process-wide). */
static void ingest_check_one(void *ctx, size_t i)
{
	struct ingest *g = ctx;
	const struct log_in *in = &g->in[i];
	struct log_out *out = &g->out[i];

	why_plain_begin();
	verify_one(in, &g->res[i], &g->ents[i], &g->fields[i]);
	log_out_clear(out);
	if (in->id)
		memcpy(g->ids[i], in->id, ENTRY_ID_LEN);
	else
		entry_id(in->env, in->env_len, g->ids[i]);
	memcpy(out->id, g->ids[i], 32);
	if (g->res[i] == 0)
		out->seq = g->ents[i].seq;
	if (g->res[i] == HAMLET_ESIG)
		snprintf(out->why, sizeof(out->why),
			 N_("signature does not verify (entry altered or not signed by its author)"));
	else if (g->res[i] < 0)
		why_field(out->why, sizeof(out->why), g->res[i], g->fields[i]);
	else
		g->res[i] = check_content(&g->ents[i], in, g->network_id,
					  g->wall, out->why, sizeof(out->why));
	why_plain_end();
}

/* --- arriving trust items ----------------------------------------------- */

/* A new fork proof freezes its feed (the proof itself, in the trust set,
 * is the evidence: audit_forks.c reads it there). */
static int proof_apply(struct log__applier *a, const uint8_t *data,
		       size_t len)
{
	struct fork_proof *fp = malloc(sizeof(*fp));
	struct log_feed f;
	uint8_t key[32];
	int r;

	if (!fp)
		return -ENOMEM;
	if ((r = fork_proof_decode(data, len, fp, NULL)) < 0) {
		r = HAMLET_ECORRUPT; /* it decoded when it was added */
		goto out;
	}
	log_feed_key(fp->a.author, fp->a.scope, key);
	a->st.forks++;
	r = log_feed_get(a->t, key, &f);
	if (r == HAMLET_ENOTFOUND) {
		r = 0; /* feed_load finds the proof when the feed begins */
		goto out;
	}
	if (r < 0)
		goto out;
	if (!f.forked || fp->at < f.fork_seq) {
		f.forked = 1;
		f.fork_seq = fp->at;
		r = log__feed_put(a->t, &f);
	}
out:
	free(fp);
	return r;
}

/* Judge again every entry held for its author's certificate. */
static int release_nocert(struct log__applier *a)
{
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl, n = 0;
	uint8_t (*keys)[40] = NULL;
	int r;

	if ((r = store_cursor_open(a->t, ST_PENDING, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); r == 1;
	     r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		struct log__entry_row er;
		if (kl != 40 || log__row_decode(v, vl, 1, &er) < 0) {
			r = HAMLET_ECORRUPT;
			break;
		}
		if (!er.nocert)
			continue;
		if (n % 1024 == 0) {
			void *p = realloc(keys, (n + 1024) * sizeof(*keys));
			if (!p) {
				r = -ENOMEM;
				break;
			}
			keys = p;
		}
		memcpy(keys[n++], k, 40);
	}
	store_cursor_close(c);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		struct log__entry_row er;
		struct entry e;
		struct log_out o;
		uint8_t id[32], *row;
		r = store_get(a->t, ST_PENDING, keys[i], 40, &v, &vl);
		if (r == HAMLET_ENOTFOUND) {
			r = 0; /* applied already, after an earlier one */
			continue;
		}
		if (r < 0)
			break;
		if (!(row = malloc(vl))) {
			r = -ENOMEM;
			break;
		}
		memcpy(row, v, vl);
		if ((r = store_del(a->t, ST_PENDING, keys[i], 40)) < 0) {
			free(row);
			break;
		}
		if (log__row_decode(row, vl, 1, &er) < 0 ||
		    entry_decode(er.env, er.env_len, &e, NULL) < 0) {
			free(row);
			r = HAMLET_ECORRUPT;
			break;
		}
		if (entry_verify(er.env, er.env_len, er.sig, e.author) < 0) {
			/* damaged while held: dropped, and asked for again
			 * (a signature is stored only checked) */
			free(row);
			continue;
		}
		entry_id(er.env, er.env_len, id);
		r = log__apply_one(a, &e, id, er.env, er.env_len, er.sig,
				   er.body, er.body_len, &o);
		free(row);
		if (r >= 0 && o.status == LOG_APPLIED)
			a->st.released++;
	}
	free(keys);
	return r < 0 ? r : 0;
}

struct trust_in {
	struct log__applier a;
	const uint8_t *network_id;
	const struct trustset_item *items;
	size_t n;
	struct trustset_out *out;
};

static int trust_txn(struct store_txn *t, void *ctx)
{
	struct trust_in *g = ctx;
	int r, judge = 0;

	if ((r = log__applier_begin(&g->a, t)) < 0 ||
	    (r = trustset_add(t, g->network_id, g->items, g->n, g->out)) < 0)
		return r;
	for (size_t i = 0; i < g->n; i++) {
		if (g->out[i].status != TRUSTSET_ADDED)
			continue;
		if (g->items[i].kind == TRUST_FORK) {
			if ((r = proof_apply(&g->a, g->items[i].data,
					     g->items[i].len)) < 0)
				return r;
		} else {
			judge = 1;
		}
	}
	if (!judge)
		return log__applier_finish(&g->a, 0);
	trustset_cache_reset(g->a.tc);
	/* judged by the whole set as it now is: what a revocation cuts
	 * off goes (log_revoke.c), then what waited for a certificate */
	for (size_t i = 0; i < g->n; i++)
		if (g->out[i].status == TRUSTSET_ADDED &&
		    g->items[i].kind == TRUST_REVOKE &&
		    (r = log__revoke_apply(&g->a, g->items[i].data,
					   g->items[i].len)) < 0)
			return r;
	if ((r = release_nocert(&g->a)) < 0)
		return r;
	return log__applier_finish(&g->a, 0);
}

/* Add what one call applied to a caller's totals (to may be NULL). */
static void stats_add(struct log_stats *to, const struct log_stats *from)
{
	if (!to)
		return;
	to->applied += from->applied;
	to->duplicate += from->duplicate;
	to->held += from->held;
	to->released += from->released;
	to->forks += from->forks;
	to->rejected += from->rejected;
	to->refused_future += from->refused_future;
	to->refused_held_cap += from->refused_held_cap;
	to->refused_grant += from->refused_grant;
	to->held_expired += from->held_expired;
	to->held_new += from->held_new;
	to->erased_bodies += from->erased_bodies;
	to->bodies_filled += from->bodies_filled;
	to->taken_out += from->taken_out;
}

int log_trust_ingest(struct store *st, const uint8_t network_id[32],
		     const struct trustset_item *items, size_t n,
		     struct trustset_out *out, struct log_stats *stats,
		     struct log_advances *adv)
{
	struct trust_in g = { .network_id = network_id, .items = items,
			      .n = n, .out = out };
	int r;

	g.a.held_budget0 = UINT64_MAX;
	if (n > LOG_MAX_BATCH)
		return -EINVAL;
	if (n == 0)
		return 0;
	why_plain_begin(); /* as in log_ingest_via() */
	r = log__write_txn(st, trust_txn, &g);
	why_plain_end();
	if (r == 0) {
		log__after_commit(st, &g.a);
		log__moved_publish(&g.a.moved, adv);
		stats_add(stats, &g.a.st);
	}
	log__applier_close(&g.a);
	return r;
}

int log_trust_ingest_read(struct store *st, const uint8_t network_id[32],
			  const struct log_reader *rd,
			  const struct trustset_item *items, size_t n,
			  struct trustset_out *out, struct log_stats *stats,
			  struct log_advances *adv)
{
	struct trustset_item *keep = NULL;
	struct trustset_out *kout = NULL;
	size_t *idx = NULL, nk = 0;
	int r;

	if (n > LOG_MAX_BATCH)
		return -EINVAL;
	if (!(keep = malloc((n ? n : 1) * sizeof(*keep))) ||
	    !(kout = malloc((n ? n : 1) * sizeof(*kout))) ||
	    !(idx = malloc((n ? n : 1) * sizeof(*idx)))) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		r = scopemap_keep_trust(rd->map, rd->grant, rd->scope,
					items[i].kind, items[i].data,
					items[i].len, out[i].why,
					sizeof(out[i].why));
		if (r == 0) {
			keep[nk] = items[i];
			idx[nk++] = i;
			continue;
		}
		if (r != HAMLET_ESCOPE)
			goto out;
		out[i].status = TRUSTSET_REFUSED;
		out[i].err = r;
	}
	r = nk ? log_trust_ingest(st, network_id, keep, nk, kout, stats, adv)
	       : 0;
	for (size_t k = 0; r >= 0 && k < nk; k++)
		out[idx[k]] = kout[k];
out:
	free(keep);
	free(kout);
	free(idx);
	return r;
}

/* --- arriving entries, again -------------------------------------------- */

int log_ingest(struct store *st, const uint8_t network_id[32],
	       const struct log_in *in, size_t n, struct log_out *out,
	       struct log_stats *stats, struct log_advances *adv)
{
	return log_ingest_budget(st, network_id, in, n, out, stats, adv,
				 UINT64_MAX);
}

int log_ingest_budget(struct store *st, const uint8_t network_id[32],
		      const struct log_in *in, size_t n, struct log_out *out,
		      struct log_stats *stats, struct log_advances *adv,
		      uint64_t held_budget)
{
	return log_ingest_via(st, network_id, in, n, out, stats, adv,
			      held_budget, NULL);
}

int log_ingest_via(struct store *st, const uint8_t network_id[32],
		   const struct log_in *in, size_t n, struct log_out *out,
		   struct log_stats *stats, struct log_advances *adv,
		   uint64_t held_budget, const struct heard_via *via)
{
	struct log_check *k;
	int r;

	if (n > LOG_MAX_BATCH)
		return -EINVAL;
	if (n == 0)
		return 0;
	if ((r = log_check_start(network_id, in, n, &k)) < 0)
		return r;
	r = log_ingest_checked(st, k, out, stats, adv, held_budget, via);
	log_check_free(k);
	return r;
}

/* --- arriving entries, checked ahead of their transaction ---------------- */

struct log_check {
	struct ingest g;
	int ran; /* log_ingest_checked() took it */
};

int log_check_start(const uint8_t network_id[32], const struct log_in *in,
		    size_t n, struct log_check **ret)
{
	struct log_check *k;
	struct ingest *g;
	int r;

	if (n == 0 || n > LOG_MAX_BATCH)
		return -EINVAL;
	if (!(k = calloc(1, sizeof(*k))))
		return -ENOMEM;
	g = &k->g;
	g->in = in;
	g->n = n;
	g->network_id = network_id;
	g->wall = hlc_wall_ms();
	if (!(g->ents = malloc(n * sizeof(*g->ents))) ||
	    !(g->res = malloc(n * sizeof(int))) ||
	    !(g->fields = malloc(n * sizeof(int))) ||
	    !(g->ids = malloc(n * 32)) ||
	    !(g->out = malloc(n * sizeof(*g->out)))) {
		r = -ENOMEM;
		goto fail;
	}
	/* the pool starts on it now; the writer finishes it */
	if ((r = log__vbatch_start(n, ingest_check_one, g, &g->vb)) < 0)
		goto fail;
	*ret = k;
	return 0;
fail:
	log_check_free(k);
	return r;
}

int log_ingest_checked(struct store *st, struct log_check *k,
		       struct log_out *out, struct log_stats *stats,
		       struct log_advances *adv, uint64_t held_budget,
		       const struct heard_via *via)
{
	struct ingest *g = &k->g;
	int r;

	if (k->ran)
		return -EINVAL;
	k->ran = 1;
	g->a.held_budget0 = held_budget;
	g->via = via;
	/* a refused entry's reason is stored: English */
	why_plain_begin();
	r = log__write_txn(st, ingest_txn, g);
	log__vbatch_end(g->vb, 1);
	g->vb = NULL;
	why_plain_end();
	memcpy(out, g->out, g->n * sizeof(*out));
	if (r < 0)
		goto out;
	log__after_commit(st, &g->a);
	log__moved_publish(&g->a.moved, adv);
	stats_add(stats, &g->a.st);
	r = 0;
out:
	log__applier_close(&g->a);
	return r;
}

void log_check_free(struct log_check *k)
{
	struct ingest *g;
	if (!k)
		return;
	g = &k->g;
	/* a batch never stored is not checked further */
	log__vbatch_end(g->vb, 0);
	free(g->ents);
	free(g->res);
	free(g->fields);
	free(g->ids);
	free(g->out);
	free(k);
}
