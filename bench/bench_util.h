/*
 * What the benchmarks share: clocks, the sample record they write,
 * entries signed by other authors and stored as a peer's, reading a
 * store for an entry, percentiles. Header-only: each benchmark is one
 * program. Functions that can fail return an error; the benchmark
 * reports it.
 */
#ifndef HAMLET_BENCH_UTIL_H
#define HAMLET_BENCH_UTIL_H

#include "cert.h"
#include "entry.h"
#include "error.h"
#include "hlc.h"
#include "log.h"
#include "mp.h"
#include "node.h"

#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdint.h>
#include <stdio.h>
#include <time.h>

static inline double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A health profile body of about 300 bytes. */
static inline uint8_t *bench_profile_body(unsigned i, size_t *ret_len)
{
	struct mp_writer w;
	char buf[160];
	mp_writer_init(&w);
	msgpack_pack_map(&w.pk, 9);
	mp_pack_str(&w.pk, "person_id");
	snprintf(buf, sizeof(buf), "%012u", i);
	mp_pack_str(&w.pk, buf);
	mp_pack_str(&w.pk, "full_name");
	snprintf(buf, sizeof(buf), "Nong Thi Hoa %u", i);
	mp_pack_str(&w.pk, buf);
	mp_pack_str(&w.pk, "birth_date");
	mp_pack_str(&w.pk, "1987-03-14");
	mp_pack_str(&w.pk, "sex");
	mp_pack_str(&w.pk, "female");
	mp_pack_str(&w.pk, "ethnicity");
	mp_pack_str(&w.pk, "Tay");
	mp_pack_str(&w.pk, "household_id");
	snprintf(buf, sizeof(buf), "HH-%06u", i / 4);
	mp_pack_str(&w.pk, buf);
	mp_pack_str(&w.pk, "village");
	mp_pack_str(&w.pk, "na-pai");
	mp_pack_str(&w.pk, "allergies");
	mp_pack_str(&w.pk, "penicillin; dust mites; shellfish (mild reaction noted 2019)");
	mp_pack_str(&w.pk, "chronic_conditions");
	mp_pack_str(&w.pk, "hypertension since 2015, controlled with amlodipine 5 mg daily; annual check-up at the commune health station");
	uint8_t *p = mp_writer_take(&w, ret_len);
	mp_writer_destroy(&w);
	return p;
}

/* sample envelopes of a's, as a village writes health profiles, each
 * in envs[i * ENTRY_MAX_ENVELOPE] (lens[i] bytes), unsigned. */
static inline int bench_sample_make(const struct node *a, unsigned sample,
				    uint8_t *envs, size_t *lens)
{
	struct entry e;
	int r;

	memset(&e, 0, sizeof(e));
	memcpy(e.network_id, a->net.id, 32);
	memcpy(e.author, a->pk, 32);
	strcpy(e.scope, "bk/bt/qt/na-pai");
	e.kind = ENTRY_PUT;
	strcpy(e.collection, "health_profile");
	e.has_body = 1;
	e.body_len = 300;
	for (unsigned i = 0; i < sample; i++) {
		uint8_t *p;
		e.seq = i + 1;
		e.has_prev = i > 0;
		e.hlc = (uint64_t)i << 16;
		snprintf(e.record_id, sizeof(e.record_id), "HP-%u", i);
		randombytes_buf(e.body_hash, 32);
		if ((r = entry_encode(&e, &p, &lens[i])) < 0)
			return r;
		memcpy(envs + (size_t)i * ENTRY_MAX_ENVELOPE, p, lens[i]);
		free(p);
	}
	return 0;
}

/*
 * One core: sign, then verify, a sample of real envelopes written by a.
 * Fills sign and verify rates (per second); <0 on failure.
 */
static inline int bench_sign_verify(const struct node *a, unsigned sample,
				    double *ret_sign, double *ret_verify)
{
	uint8_t *envs = malloc((size_t)sample * ENTRY_MAX_ENVELOPE);
	size_t *lens = malloc(sample * sizeof(size_t));
	uint8_t(*sigs)[64] = malloc((size_t)sample * 64);
	double t0;
	int r = -1;

	if (!envs || !lens || !sigs ||
	    (r = bench_sample_make(a, sample, envs, lens)) < 0)
		goto out;
	t0 = bench_now();
	for (unsigned i = 0; i < sample; i++)
		entry_sign(envs + (size_t)i * ENTRY_MAX_ENVELOPE, lens[i], a->sk,
			   sigs[i]);
	*ret_sign = sample / (bench_now() - t0);
	t0 = bench_now();
	for (unsigned i = 0; i < sample; i++)
		if ((r = entry_verify(envs + (size_t)i * ENTRY_MAX_ENVELOPE,
				      lens[i], sigs[i], a->pk)) < 0)
			goto out;
	*ret_verify = sample / (bench_now() - t0);
	r = 0;
out:
	free(envs);
	free(lens);
	free(sigs);
	return r;
}

struct bench_vjob {
	const uint8_t *envs;
	const size_t *lens;
	const uint8_t (*sigs)[64];
	const uint8_t *pk;
	unsigned n;
	int r;
};

static void *bench_vjob_run(void *arg)
{
	struct bench_vjob *j = arg;
	for (unsigned i = 0; i < j->n && j->r == 0; i++)
		j->r = entry_verify(j->envs + (size_t)i * ENTRY_MAX_ENVELOPE,
				    j->lens[i], j->sigs[i], j->pk);
	return NULL;
}

/* Verifications a second on every core at once (one thread a core, each
 * verifying sample envelopes of a's, signed first). */
static inline int bench_verify_all(const struct node *a, unsigned sample,
				   double *ret)
{
	long nc = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nt = nc > 1 ? (size_t)(nc > 64 ? 64 : nc) : 1, started = 0;
	uint8_t *envs = malloc((size_t)sample * ENTRY_MAX_ENVELOPE);
	size_t *lens = malloc(sample * sizeof(size_t));
	uint8_t(*sigs)[64] = malloc((size_t)sample * 64);
	struct bench_vjob jobs[64];
	pthread_t th[64];
	double t0;
	int r = -1;

	if (!envs || !lens || !sigs ||
	    (r = bench_sample_make(a, sample, envs, lens)) < 0)
		goto out;
	for (unsigned i = 0; i < sample; i++)
		entry_sign(envs + (size_t)i * ENTRY_MAX_ENVELOPE, lens[i], a->sk,
			   sigs[i]);
	for (size_t t = 0; t < nt; t++)
		jobs[t] = (struct bench_vjob){ envs, lens,
					       (const uint8_t(*)[64])sigs,
					       a->pk, sample, 0 };
	t0 = bench_now();
	for (; started < nt; started++)
		if (pthread_create(&th[started], NULL, bench_vjob_run,
				   &jobs[started]) != 0)
			break;
	for (size_t t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	*ret = (double)started * sample / (bench_now() - t0);
	r = started == nt ? 0 : -1;
	for (size_t t = 0; t < started && r == 0; t++)
		r = jobs[t].r;
out:
	free(envs);
	free(lens);
	free(sigs);
	return r;
}

/* --- hamletd ------------------------------------------------------------ */

/*
 * The hamletd built with the benchmark (build/bench/bench_x ->
 * build/daemon/hamletd) into out (cap bytes). Returns 0 or -errno.
 */
static inline int bench_hamletd_path(char *out, size_t cap)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = 0;
	if ((size_t)snprintf(out, cap, "%s/../daemon/hamletd", dirname(self)) >=
	    cap)
		return -ENAMETOOLONG;
	return 0;
}

/* --- entries of other authors -------------------------------------------- */

/* An entry signed by another author, as a peer would hand it over. */
struct bench_entry {
	uint8_t *env;
	size_t env_len;
	uint8_t sig[64];
	uint8_t id[32];
	uint8_t *body;
	size_t body_len;
};

/*
 * Entry seq of the feed (pk, scope) of network n: a health profile
 * record_id with the sample body of person, after prev (NULL for seq 1),
 * signed with sk; *hlc moves on. Release with bench_entry_close().
 * Returns 0 or an error (nothing to release then).
 */
static inline int bench_entry_make(const struct node *n, const uint8_t pk[32],
				   const uint8_t sk[64], const char *scope,
				   uint64_t seq, const uint8_t *prev,
				   const char *record_id, unsigned person,
				   uint64_t *hlc, struct bench_entry *ret)
{
	struct bench_entry be = { 0 };
	struct entry e;
	int r;
	memset(&e, 0, sizeof(e));
	memcpy(e.network_id, n->net.id, 32);
	memcpy(e.author, pk, 32);
	snprintf(e.scope, sizeof(e.scope), "%s", scope);
	e.seq = seq;
	e.has_prev = prev != NULL;
	if (prev)
		memcpy(e.prev, prev, 32);
	*hlc = hlc_next(*hlc, hlc_wall_ms());
	e.hlc = *hlc;
	e.kind = ENTRY_PUT;
	strcpy(e.collection, "health_profile");
	snprintf(e.record_id, sizeof(e.record_id), "%s", record_id);
	if (!(be.body = bench_profile_body(person, &be.body_len)))
		return -ENOMEM;
	e.has_body = 1;
	e.body_len = be.body_len;
	entry_body_hash(be.body, be.body_len, e.body_hash);
	if ((r = entry_encode(&e, &be.env, &be.env_len)) < 0 ||
	    (r = entry_sign(be.env, be.env_len, sk, be.sig)) < 0) {
		free(be.env);
		free(be.body);
		return r;
	}
	entry_id(be.env, be.env_len, be.id);
	*ret = be;
	return 0;
}

static inline void bench_entry_close(struct bench_entry *be)
{
	free(be->env);
	free(be->body);
	memset(be, 0, sizeof(*be));
}

/*
 * Store v[0..n) in nd's store as a peer's entries are stored (verified,
 * log_ingest), chunk (<= LOG_MAX_BATCH) a transaction. Returns 0; an
 * error of log_ingest; or HAMLET_EPROTO when an entry was not applied,
 * with why naming it.
 */
static inline int bench_ingest(struct node *nd, const struct bench_entry *v,
			       size_t n, size_t chunk, char *why, size_t wl)
{
	struct log_in *in = calloc(chunk, sizeof(*in));
	struct log_out *out = calloc(chunk, sizeof(*out));
	int r = -ENOMEM;

	why[0] = 0;
	if (!in || !out)
		goto out;
	for (size_t done = 0; done < n;) {
		size_t k = n - done < chunk ? n - done : chunk;
		for (size_t i = 0; i < k; i++)
			in[i] = (struct log_in){
				.env = v[done + i].env,
				.env_len = v[done + i].env_len,
				.sig = v[done + i].sig,
				.body = v[done + i].body,
				.body_len = v[done + i].body_len
			};
		if ((r = log_ingest(nd->st, nd->net.id, in, k, out, NULL, NULL)) < 0)
			goto out;
		for (size_t i = 0; i < k; i++)
			if (out[i].status != LOG_APPLIED) {
				snprintf(why, wl, "entry %zu not applied: %s",
					 done + i, out[i].why);
				r = HAMLET_EPROTO;
				goto out;
			}
		done += k;
	}
	r = 0;
out:
	free(in);
	free(out);
	return r;
}

/*
 * n local writes of nd's author, health profiles record_prefix0 ..
 * record_prefix(n-1) in its scope, of persons first .. first + n - 1,
 * chunk a transaction (log_write, as `hamlet put` stores them). Adds the body bytes written to
 * *ret_body_bytes. Returns 0, or an error with why naming it.
 */
static inline int bench_write_profiles(struct node *nd, const char *prefix,
				       unsigned first, unsigned n,
				       unsigned chunk,
				       uint64_t *ret_body_bytes, char *why,
				       size_t wl)
{
	struct log_author au;
	struct log_op *ops = calloc(chunk, sizeof(*ops));
	uint8_t **bodies = calloc(chunk, sizeof(*bodies));
	char(*ids)[32] = calloc(chunk, 32);
	int r = -ENOMEM;

	why[0] = 0;
	if (!ops || !bodies || !ids)
		goto out;
	node_author(nd, &au);
	for (unsigned done = 0; done < n;) {
		unsigned k = n - done < chunk ? n - done : chunk;
		size_t failed;
		for (unsigned i = 0; i < k; i++) {
			size_t len;
			snprintf(ids[i], 32, "%s%u", prefix, done + i);
			bodies[i] = bench_profile_body(first + done + i, &len);
			*ret_body_bytes += len;
			ops[i] = (struct log_op){ ENTRY_PUT, "health_profile",
						  ids[i], NULL, bodies[i],
						  len, 0, NULL, 0 };
		}
		r = log_write(nd->st, &au, ops, k, NULL, &failed, why, wl,
			      NULL);
		for (unsigned i = 0; i < k; i++)
			free(bodies[i]);
		if (r < 0)
			goto out;
		done += k;
	}
	r = 0;
out:
	free(ops);
	free(bodies);
	free(ids);
	return r;
}

/* --- reading a store ------------------------------------------------------ */

/* 1 when n holds entry id, an op of record coll/rid, 0 when not, or an
 * error. */
static inline int bench_has_entry(struct node *n, const char *coll,
				  const char *rid, const uint8_t id[32])
{
	struct store_txn *t;
	const uint8_t *env, *sig;
	uint8_t eb[ENTRY_MAX_ENVELOPE];
	size_t len;
	int r;
	if ((r = store_txn_begin(n->st, 1, &t)) < 0)
		return r;
	r = log_op_entry(t, coll, rid, id, eb, &env, &len, &sig);
	store_txn_abort(t);
	if (r == HAMLET_ENOTFOUND)
		return 0;
	return r < 0 ? r : 1;
}

/* bench_has_entry() for an entry made here (its envelope names the
 * record). */
static inline int bench_holds(struct node *n, const struct bench_entry *x)
{
	struct entry e;
	if (entry_decode(x->env, x->env_len, &e, NULL) < 0)
		return HAMLET_EFORMAT;
	return bench_has_entry(n, e.collection, e.record_id, x->id);
}

/* The contiguous head of feed key in n's store (0: none) in *ret_seq.
 * Returns 0 or an error. */
static inline int bench_feed_seq(struct node *n, const uint8_t key[32],
				 uint64_t *ret_seq)
{
	struct store_txn *t;
	struct log_feed f;
	int r;
	if ((r = store_txn_begin(n->st, 1, &t)) < 0)
		return r;
	r = log_feed_get(t, key, &f);
	store_txn_abort(t);
	if (r < 0 && r != HAMLET_ENOTFOUND)
		return r;
	*ret_seq = r == 0 ? f.seq : 0;
	return 0;
}

/* --- figures -------------------------------------------------------------- */

/*
 * Certify the node in home with the root key beside netfile (NAME.network
 * -> NAME.root.key): read and write its scope, no expiry. Daemons sync
 * only with certificates.
 */
static inline int bench_cert_sign(const char *netfile, const uint8_t pk[32],
				   const char *name, const char *scope,
				   uint8_t **ret, size_t *ret_len, char *why,
				   size_t wl)
{
	char path[4096];
	uint8_t nid[32], rpk[32], *rsk = NULL;
	size_t k = strlen(netfile);
	struct cert c;
	int r;

	if (k < 8 || strcmp(netfile + k - 8, ".network") != 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "%.*s.root.key", (int)(k - 8), netfile);
	if ((r = root_key_load(path, nid, rpk, &rsk, why, wl)) < 0)
		return r;
	memset(&c, 0, sizeof(c));
	memcpy(c.network_id, nid, 32);
	memcpy(c.issuer, rpk, 32);
	memcpy(c.subject, pk, 32);
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.role = CERT_VILLAGE;
	snprintf(c.read[0], sizeof(c.read[0]), "%s", scope);
	snprintf(c.write[0], sizeof(c.write[0]), "%s", scope);
	c.nread = c.nwrite = 1;
	c.not_before_ms = hlc_wall_ms() - 86400000ull;
	randombytes_buf(c.serial, sizeof(c.serial));
	r = cert_sign(&c, rsk, ret, ret_len);
	sodium_free(rsk);
	return r;
}

static inline int bench_certify(const char *home, const char *netfile,
				char *why, size_t wl)
{
	uint8_t *one = NULL, *file = NULL;
	size_t ol, fl;
	struct node *n = NULL;
	int r;

	if ((r = node_open(home, 1, &n, why, wl)) < 0 ||
	    (r = bench_cert_sign(netfile, n->pk, n->name, n->scope, &one, &ol,
				 why, wl)) < 0 ||
	    (r = cert_chain_encode((const uint8_t *const *)&one, &ol, 1, &file,
				   &fl)) < 0)
		goto out;
	r = node_cert_install(n, file, fl, hlc_wall_ms(), why, wl);
out:
	free(one);
	free(file);
	node_close(n);
	return r;
}

/*
 * Certificates (the root's, for netfile) of n authors pk[i] writing
 * scope[i], into the trust sets of the nn nodes nd[] (the same
 * certificates in each). Returns 0 or an error.
 */
static inline int bench_trust_authors(struct node *const *nd, size_t nn,
				      const char *netfile,
				      const uint8_t (*pk)[32],
				      const char (*scope)[64], size_t n,
				      char *why, size_t wl)
{
	struct trustset_item *it = calloc(n ? n : 1, sizeof(*it));
	struct trustset_out *out = calloc(n ? n : 1, sizeof(*out));
	int r = it && out ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < n; i++) {
		uint8_t *one;
		size_t ol;
		if ((r = bench_cert_sign(netfile, pk[i], "author", scope[i],
					 &one, &ol, why, wl)) < 0)
			break;
		it[i].kind = TRUST_CERT;
		it[i].data = one;
		it[i].len = ol;
	}
	for (size_t j = 0; j < nn; j++)
		for (size_t done = 0; r == 0 && done < n;) {
			size_t k = n - done < LOG_MAX_BATCH ? n - done
							    : LOG_MAX_BATCH;
			r = log_trust_ingest(nd[j]->st, nd[j]->net.id, it + done,
					     k, out + done, NULL, NULL);
			done += k;
		}
	for (size_t i = 0; it && i < n; i++)
		free((void *)it[i].data);
	free(it);
	free(out);
	return r;
}

static inline int bench_cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

/* The nearest-rank percentile (pct of 100) of v[0..n), sorted. */
static inline double bench_percentile(const double *v, size_t n, unsigned pct)
{
	size_t k = (pct * n + 99) / 100;
	return v[k ? k - 1 : 0];
}

#endif
