/*
 * bench/sync: the costs of replication between two hamletd on loopback,
 * from one run on this machine.
 *
 * Prints
 *  - end to end: ENTRIES entries written on node A before the daemons
 *    start; with both daemons running, A is told to dial B (one session,
 *    as bench/province times its bulk syncs), timed until B's store
 *    holds them all (durable: B commits each
 *    batch before it ACKs), in entries/s, and its ratio to the 1-core
 *    verify rate measured in the same run (the mean of one just before
 *    the transfer and one just after);
 *  - wire bytes per entry each way (the status RPC's per-peer bytes_out
 *    of each daemon: A's carries the entries, B's the acks) against body
 *    bytes per entry;
 *  - one reconciliation between two stores that hold the same 10,000
 *    feeds: bytes each way and round trips (the responder's count of NEG
 *    messages received); then a reconnection, with the stores agreeing
 *    and with 10 feeds differing, each saying whether it began from the
 *    basis kept when the two last agreed (SINCE, no NEG), and for the
 *    10 feeds the bytes of their ENTRIES apart from everything else;
 *  - live push, as operators cause it: PUSHES puts one at a time through
 *    A's local socket (the write method, as `hamlet put` sends it) while
 *    the daemons are idle, in a chain A -> B -> C; p50 and p99 of the
 *    time until A answers (committed), until the entry is in B's store
 *    (a direct peer) and in C's (one relay away). B and C's stores are
 *    read every 0.2 ms. C subscribes to the scope of these puts alone,
 *    so it joins without copying the bulk transfer first.
 *
 *  - bytes per record on a 2G-sized batch: a typical health profile and a
 *    mix of profiles, events, payments and status updates (BYTES_N
 *    records each, bench_bytes.h), as JSON, on the wire (A's bytes_out,
 *    ENTRIES of BYTES_BATCH entries) and in a bundle, with the ratios;
 *    and, in process, what the compact form, zstd and a zstd dictionary
 *    each make of batches of 16, 32 and 64 entries.
 *
 *   bench_sync [HAMLETD [ENTRIES [e2e]]]   (default ../daemon/hamletd, 100000)
 *   e2e: the end-to-end transfer alone (its lines, nothing after them).
 *   HAMLET_BENCH_KEEP=1 keeps the stores and daemon logs.
 */
#include "bench_bytes.h"
#include "bench_proc.h"
#include "bundle.h"
#include "bench_util.h"
#include "daemon_proc.h"
#include "error.h"
#include "log.h"
#include "mp.h"
#include "node.h"

#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FEEDS 10000	   /* feeds in the reconciliation benchmark */
#define FEEDS_DIFFER 10	   /* of which this many differ, in its last part */
#define PUSHES 200	   /* live-push samples */
#define TRANSFER_MS 300000 /* bound on the end-to-end transfer */
#define WAIT_MS 30000	   /* bound on every other wait */
#define CHUNK 5000	   /* entries per write transaction */
#define POLL_US 200	   /* between looks for a pushed entry */
#define LIVE_SCOPE "bk/bt/qt/na-pai/live" /* the live puts' feed */
#define BYTES_N 2000	   /* records of each bytes-per-record workload */
#define BYTES_BATCH 32	   /* entries per ENTRIES there: a 2G batch */

static const char *hamletd;

/* --- daemons ----------------------------------------------------------- */

/*
 * Start the responder, then the initiator dialling it, each on a free
 * port (tried again, a bounded number of times, when the port is taken
 * meanwhile). Returns the time the responder was started.
 */
static double start_pair(struct daemon_proc *init, struct daemon_proc *resp)
{
	double t0 = bench_now();
	int r;
	if ((r = daemon_proc_start_listening(resp, hamletd, NULL, 5)) < 0)
		die("start", r, resp->name);
	if ((r = daemon_proc_start_listening(
		     init, hamletd,
		     (const char *const[]){ "--peer", resp->addr, NULL }, 5)) <
	    0)
		die("start", r, init->name);
	return t0;
}

/*
 * Start both, the initiator dialling no one, then tell it to dial the
 * responder: returns the time it was told, so the transfer is timed
 * without the two processes' start.
 */
static double start_pair_dial(struct daemon_proc *init,
			      struct daemon_proc *resp)
{
	double t0;
	int r;
	if ((r = daemon_proc_start_listening(resp, hamletd, NULL, 5)) < 0)
		die("start", r, resp->name);
	if ((r = daemon_proc_start_listening(init, hamletd, NULL, 5)) < 0)
		die("start", r, init->name);
	t0 = bench_now();
	if ((r = daemon_proc_call(init->sock, "peer_add", resp->addr,
				  WAIT_MS)) < 0)
		die("peer_add", r, init->name);
	return t0;
}

static void stop(struct daemon_proc *p)
{
	int st;
	if (daemon_proc_stop(p, SIGTERM, 10000, &st) < 0)
		fail("%s did not stop within 10 s", p->name);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail("%s did not stop cleanly (wait status %d)", p->name, st);
}

/* --- the status RPC ---------------------------------------------------- */

/* Figures summed over p's peers (the benchmark gives each one peer). */
static void status(struct daemon_proc *p, struct daemon_status *ret)
{
	int r;
	if ((r = daemon_proc_status(p->sock, 10000, ret)) < 0)
		die("status", r, p->name);
}

static void rpc(struct daemon_proc *p, const char *method, const char *arg)
{
	int r;
	if ((r = daemon_proc_call(p->sock, method, arg, 10000)) < 0)
		die(method, r, p->name);
}

static void wait_connected(struct daemon_proc *p, int want)
{
	int r = daemon_proc_wait_connected(p->sock, want, WAIT_MS);
	if (r == -ETIMEDOUT)
		fail("%s: not %d peers connected after %d s", p->name, want,
		     WAIT_MS / 1000);
	if (r < 0)
		die("status", r, p->name);
}

/* Wait until neither side has sent or received a byte for a second:
 * the session is over. ret_a and ret_b get the figures at that point. */
static void wait_idle(struct daemon_proc *a, struct daemon_proc *b,
		      struct daemon_status *ret_a, struct daemon_status *ret_b)
{
	long long t0 = daemon_proc_now_ms();
	struct daemon_status fa, fb;
	int still = 0;
	status(a, ret_a);
	status(b, ret_b);
	while (still < 4) {
		if (daemon_proc_now_ms() - t0 > WAIT_MS)
			fail("%s and %s still talking after %d s", a->name,
			     b->name, WAIT_MS / 1000);
		daemon_proc_sleep_ms(250);
		status(a, &fa);
		status(b, &fb);
		if (fa.bytes_in == ret_a->bytes_in &&
		    fa.bytes_out == ret_a->bytes_out &&
		    fb.bytes_in == ret_b->bytes_in &&
		    fb.bytes_out == ret_b->bytes_out)
			still++;
		else
			still = 0;
		*ret_a = fa;
		*ret_b = fb;
	}
}

/* --- stores ------------------------------------------------------------ */

/* A node name under dir, run as p; opened (writable) when open. */
static struct node *node_make(struct daemon_proc *p, const char *name,
			      const char *netfile, const char *scope, int open)
{
	char why[256];
	struct node *n = NULL;
	int r;
	daemon_proc_init(p, dir, name);
	if (nprocs < sizeof(procs) / sizeof(procs[0]))
		procs[nprocs++] = p;
	if ((r = node_init(p->home, netfile, p->name, scope, why,
			   sizeof(why))) < 0 ||
	    (r = bench_certify(p->home, netfile, why, sizeof(why))) < 0 ||
	    (open && (r = node_open(p->home, 0, &n, why, sizeof(why))) < 0))
		die(p->name, r, why);
	return n;
}

/* n has entry id, a health profile's op, stored. */
static int has_entry(struct node *n, const char *rid, const uint8_t id[32])
{
	int r = bench_has_entry(n, "health_profile", rid, id);
	if (r < 0)
		die("read", r, n->name);
	return r;
}

/* n has x stored. */
static int holds(struct node *n, const struct bench_entry *x)
{
	int r = bench_holds(n, x);
	if (r < 0)
		die("read", r, n->name);
	return r;
}

static void entry_make(const struct node *n, const uint8_t pk[32],
		       const uint8_t sk[64], const char *scope, uint64_t seq,
		       const uint8_t *prev, const char *record_id,
		       unsigned person, uint64_t *hlc, struct bench_entry *ret)
{
	int r = bench_entry_make(n, pk, sk, scope, seq, prev, record_id,
				 person, hlc, ret);
	if (r < 0)
		die("entry", r, NULL);
}

/* Store v[0..n) in nd's store, in batches, as a peer's entries are
 * stored. */
static void ingest(struct node *nd, const struct bench_entry *v, size_t n)
{
	char why[256];
	int r = bench_ingest(nd, v, n, CHUNK, why, sizeof(why));
	if (r < 0)
		die(nd->name, r, why);
}

/* --- the parts --------------------------------------------------------- */

/* A node for cert_cost (no daemon runs it). */
static struct node *cost_node(const char *netfile, const char *name)
{
	char home[4300], why[256];
	struct node *n;
	int r;
	snprintf(home, sizeof(home), "%s/%s", dir, name);
	if ((r = node_init(home, netfile, name, "bk", why, sizeof(why))) < 0 ||
	    (r = node_open(home, 0, &n, why, sizeof(why))) < 0)
		die(name, r, why);
	return n;
}

/*
 * What certificate checks cost: the same m entries of one certified
 * author stored (verified, checked, committed) into a store that judges
 * its authors, and into one that judges nobody (no root: a bare store),
 * alternating three times; the best rate of each, entries per second.
 */
static void cert_cost(const char *netfile, unsigned m, double *ret_judged,
		      double *ret_unjudged)
{
	struct bench_entry *v = calloc(m, sizeof(*v));
	struct log_in *in = calloc(CHUNK, sizeof(*in));
	struct log_out *out = calloc(CHUNK, sizeof(*out));
	uint8_t pk[32], sk[64], prev[32];
	char why[256], scope[1][64] = { "bk/bt/qt/cost" }, sdir[4300];
	struct node *jn;
	struct store *bare;
	uint64_t hlc = 0;
	int r;

	*ret_judged = *ret_unjudged = 0;
	if (!v || !in || !out)
		fail("out of memory");
	jn = cost_node(netfile, "cost");
	crypto_sign_keypair(pk, sk);
	for (unsigned i = 0; i < m; i++) {
		char rid[32];
		snprintf(rid, sizeof(rid), "HP-C%u", i);
		entry_make(jn, pk, sk, scope[0], i + 1, i ? prev : NULL, rid, i,
			   &hlc, &v[i]);
		memcpy(prev, v[i].id, 32);
	}
	if ((r = bench_trust_authors(&jn, 1, netfile, (const uint8_t(*)[32])pk,
				     (const char(*)[64])scope, 1, why,
				     sizeof(why))) < 0)
		die("certify", r, why);
	for (int round = 0; round < 3; round++) {
		for (int judged = 1; judged >= 0; judged--) {
			struct store_options o = { 0 };
			struct store *st;
			double t0;
			snprintf(sdir, sizeof(sdir), "%s/cost-bare-%d", dir, round);
			if (judged) {
				st = jn->st;
			} else if ((r = store_open(sdir, &o, &bare)) < 0) {
				die("bare store", r, sdir);
			} else {
				st = bare;
			}
			if (judged && round) {
				/* start again from the same empty feed */
				node_close(jn);
				char name[32];
				snprintf(name, sizeof(name), "cost%d", round);
				jn = cost_node(netfile, name);
				if ((r = bench_trust_authors(
					     &jn, 1, netfile,
					     (const uint8_t(*)[32])pk,
					     (const char(*)[64])scope, 1, why,
					     sizeof(why))) < 0)
					die("certify", r, why);
				st = jn->st;
			}
			t0 = bench_now();
			for (unsigned done = 0; done < m;) {
				unsigned k = m - done < CHUNK ? m - done : CHUNK;
				for (unsigned i = 0; i < k; i++)
					in[i] = (struct log_in){
						v[done + i].env,
						v[done + i].env_len,
						v[done + i].sig,
						v[done + i].body,
						v[done + i].body_len, NULL, 0, NULL
					};
				if ((r = log_ingest(st, jn->net.id, in, k, out,
						    NULL, NULL)) < 0)
					die("ingest", r, NULL);
				for (unsigned i = 0; i < k; i++)
					if (out[i].status != LOG_APPLIED)
						fail("cost: entry %u not applied: %s",
						     done + i, out[i].why);
				done += k;
			}
			double rate = m / (bench_now() - t0);
			double *best = judged ? ret_judged : ret_unjudged;
			if (rate > *best)
				*best = rate;
			if (!judged)
				store_close(bare);
		}
	}
	node_close(jn);
	sodium_memzero(sk, sizeof(sk));
	for (unsigned i = 0; i < m; i++)
		bench_entry_close(&v[i]);
	free(v);
	free(in);
	free(out);
}

/* Samples of the live push, in ms. */
struct pushes {
	double put[PUSHES];   /* until A answered: signed and committed */
	double peer[PUSHES];  /* until in B's store */
	double relay[PUSHES]; /* until in C's store */
};

/*
 * One put of record first + i through pa's socket; returns when b and c
 * hold it, with the times in ms (when i is a sample's index).
 */
static void push_one(struct daemon_proc *pa, struct node *b, struct node *c,
		     unsigned first, unsigned i, struct pushes *ret)
{
	char rid[32], why[256];
	uint8_t *body, id[32];
	size_t len;
	double t0, at_b = -1, at_c = -1, t;
	int r;

	snprintf(rid, sizeof(rid), "HP-L%u", first + i);
	body = bench_profile_body(first + i, &len);
	t0 = bench_now();
	r = daemon_proc_put(pa->sock, "health_profile", rid, LIVE_SCOPE, body,
			    len, 10000, id, why, sizeof(why));
	t = bench_now();
	free(body);
	if (r < 0)
		die("put", r, why);
	while (at_b < 0 || at_c < 0) {
		if (at_b < 0 && has_entry(b, rid, id))
			at_b = bench_now();
		if (at_c < 0 && has_entry(c, rid, id))
			at_c = bench_now();
		if (bench_now() - t0 > WAIT_MS / 1000.0)
			fail("put %s not at %s after %d s", rid,
			     at_b < 0 ? b->name : c->name, WAIT_MS / 1000);
		daemon_proc_sleep_us(POLL_US);
	}
	if (ret && i < PUSHES) {
		ret->put[i] = (t - t0) * 1000;
		ret->peer[i] = (at_b - t0) * 1000;
		ret->relay[i] = (at_c - t0) * 1000;
	}
}

/* One put to start the live feed everywhere, then PUSHES measured, each
 * after a random pause of up to 50 ms (the daemons are idle); each set
 * of samples sorted. */
static void live_push(struct daemon_proc *pa, struct node *b, struct node *c,
		      unsigned first, struct pushes *ret)
{
	push_one(pa, b, c, first, PUSHES, NULL);
	for (unsigned i = 0; i < PUSHES; i++) {
		daemon_proc_sleep_ms((int)randombytes_uniform(50));
		push_one(pa, b, c, first, i, ret);
	}
	qsort(ret->put, PUSHES, sizeof(double), bench_cmp_double);
	qsort(ret->peer, PUSHES, sizeof(double), bench_cmp_double);
	qsort(ret->relay, PUSHES, sizeof(double), bench_cmp_double);
}

static void pushes_print(const char *what, const double *v)
{
	printf("  %-25s%9.1f ms p50, %.1f ms p99 (max %.1f)\n", what,
	       bench_percentile(v, PUSHES, 50), bench_percentile(v, PUSHES, 99),
	       v[PUSHES - 1]);
}

/* The difference of two figures: what one session cost. */
struct session {
	uint64_t out_i, out_r; /* bytes sent by initiator, by responder */
	uint64_t msgs_i, msgs_r;
	uint64_t rounds; /* NEG messages the responder received */
	uint64_t since;	 /* sessions the responder began from a kept basis */
	uint64_t ent_bytes; /* of the bytes, ENTRIES messages' (both ways) */
	uint64_t entries;
};

static void session_diff(const struct daemon_status *i0,
			 const struct daemon_status *i1,
			 const struct daemon_status *r0,
			 const struct daemon_status *r1, struct session *ret)
{
	ret->out_i = i1->bytes_out - i0->bytes_out;
	ret->out_r = r1->bytes_out - r0->bytes_out;
	ret->msgs_i = r1->messages_in - r0->messages_in;
	ret->msgs_r = i1->messages_in - i0->messages_in;
	ret->rounds = r1->neg_in - r0->neg_in;
	ret->since = r1->since_used - r0->since_used;
	ret->ent_bytes = i1->entries_bytes_out - i0->entries_bytes_out +
			 r1->entries_bytes_out - r0->entries_bytes_out;
	ret->entries = r1->entries_in - r0->entries_in;
}

static void session_print(const char *what, const struct session *s)
{
	printf("  %-32s %6llu bytes (%llu out + %llu back), %llu NEG round trip%s, %s, %llu + %llu messages\n",
	       what, (unsigned long long)(s->out_i + s->out_r),
	       (unsigned long long)s->out_i, (unsigned long long)s->out_r,
	       (unsigned long long)s->rounds, s->rounds == 1 ? "" : "s",
	       s->since ? "from the kept basis (SINCE)" : "no basis used",
	       (unsigned long long)s->msgs_i, (unsigned long long)s->msgs_r);
}

/* --- bytes per record ---------------------------------------------------- */

/* path holds text (a daemon's config). */
static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		fail("cannot write %s", path);
}

struct bytes_fig {
	uint64_t json, wire, back, bundle;
	struct run_stats runs; /* of the bundle */
	struct bb_enc enc[3];  /* batches of 16, 32, 64 */
	uint64_t half[3];      /* zstd compact over the dictionary's half */
	int dict[3];	       /* the dictionary could be trained */
};

static const size_t bytes_k[3] = { 16, 32, 64 };

/* n records of gen on a fresh A: a bundle of them, their encodings in
 * process, then A -> B over the wire with ENTRIES of BYTES_BATCH. */
static void record_bytes(const char *netfile, const char *label,
			 void (*gen)(unsigned, struct bb_rec *), unsigned n,
			 struct bytes_fig *ret)
{
	struct daemon_proc pa, pb;
	struct daemon_status fa, fb;
	struct bundle_create_opts o = { NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL };
	struct bundle_create_result res;
	char na[64], nb[64], path[4200], cfg[4200], why[256];
	struct node *a, *b;
	uint8_t key[32];
	int r;

	memset(ret, 0, sizeof(*ret));
	snprintf(na, sizeof(na), "%s-a", label);
	snprintf(nb, sizeof(nb), "%s-b", label);
	a = node_make(&pa, na, netfile, "bk/bt/qt/na-pai", 1);
	node_make(&pb, nb, netfile, "bk/bt/qt", 0);
	ret->json = bb_write(a, gen, n);
	log_feed_key(a->pk, a->scope, key);
	snprintf(path, sizeof(path), "%s/%s.bundle", dir, label);
	if ((r = bundle_create(a, path, &o, &res, why, sizeof(why))) < 0)
		die("bundle", r, why);
	ret->bundle = res.bytes;
	ret->runs = res.runs;
	for (int i = 0; i < 3; i++)
		ret->dict[i] = bb_encode(a, key, n, bytes_k[i], &ret->enc[i],
					 &ret->half[i]) == 0;
	node_close(a);
	snprintf(cfg, sizeof(cfg), "%s/%s.ini", dir, label);
	snprintf(why, sizeof(why), "[limits]\nbatch = %d\n", BYTES_BATCH);
	write_file(cfg, why);
	if ((r = daemon_proc_start_listening(
		     &pb, hamletd, (const char *const[]){ "--config", cfg, NULL },
		     5)) < 0 ||
	    (r = daemon_proc_start_listening(
		     &pa, hamletd,
		     (const char *const[]){ "--config", cfg, "--peer", pb.addr,
					    NULL },
		     5)) < 0)
		die("start", r, label);
	if ((r = node_open(pb.home, 1, &b, why, sizeof(why))) < 0)
		die(pb.name, r, why);
	bench_wait_feed(b, pb.name, key, n, bench_now(), WAIT_MS);
	wait_idle(&pa, &pb, &fa, &fb);
	ret->wire = fa.bytes_out;
	ret->back = fb.bytes_out;
	stop(&pa);
	stop(&pb);
	node_close(b);
}

static void bytes_print(const char *what, unsigned n, const struct bytes_fig *f)
{
	double j = (double)f->json / n;
	printf("  %-22s %7.1f %8.1f %6.2f %9.1f %6.2f %6zu/%zu\n", what, j,
	       (double)f->wire / n, (double)f->wire / f->json,
	       (double)f->bundle / n, (double)f->bundle / f->json,
	       f->runs.compact, f->runs.full);
}

static void enc_print(const char *what, unsigned n, const struct bytes_fig *f)
{
	for (int i = 0; i < 3; i++) {
		const struct bb_enc *e = &f->enc[i];
		printf("  %-14s %3zu %8.1f %8.1f %8.1f %8.1f",
		       i ? "" : what, bytes_k[i], (double)e->whole / n,
		       (double)e->compact / n, (double)e->zwhole / n,
		       (double)e->zcompact / n);
		if (f->dict[i] && f->half[i])
			printf("   %5.1f -> %5.1f (%+.1f%%)",
			       (double)f->half[i] / (n / 2.0),
			       (double)e->zdict / (n / 2.0),
			       100.0 * ((double)e->zdict - (double)f->half[i]) /
				       (double)f->half[i]);
		printf("\n");
	}
}

/* CPU seconds (user and system, every thread) process pid has used;
 * -1 when /proc does not say. */
static double cpu_s(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* after the command's name, which may hold spaces: field 3 on */
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
		   &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The end-to-end lines: the rates, the transfer, its bytes, and the CPU
 * each daemon used (cpu_a, cpu_b: seconds, <0 not known). */
static void e2e_print(unsigned n, uint64_t body_bytes, double verify_rate,
		      double verify_before, double verify_after,
		      double verify_all, double judged, double unjudged,
		      double e2e_s,
		      const struct daemon_status *fa,
		      const struct daemon_status *fb, double cpu_a,
		      double cpu_b)
{
	printf("bench/sync: %u entries, ~%.0f-byte bodies, 2 hamletd on loopback, %ld cores\n",
	       n, (double)body_bytes / n, sysconf(_SC_NPROCESSORS_ONLN));
	printf("  verify (1 core)          %9.0f entries/s (mean of %.0f just before the transfer and %.0f just after)\n",
	       verify_rate, verify_before, verify_after);
	printf("  verify (every core)      %9.0f entries/s (%.2f x one core: what this machine's cores verify at once)\n",
	       verify_all, verify_all / verify_rate);
	printf("  store, author judged     %9.0f entries/s (verify, certificate checks, commit; %u entries)\n",
	       judged, n < 20000 ? n : 20000);
	printf("  store, nobody judged     %9.0f entries/s (the same without certificate checks)\n",
	       unjudged);
	printf("  judged / not judged      %9.3f\n", judged / unjudged);
	printf("  end to end (durable)     %9.0f entries/s (%.2f s from the dial to B holding all)\n",
	       n / e2e_s, e2e_s);
	printf("  end to end / 1-core verify %7.2f\n", n / e2e_s / verify_rate);
	printf("  end to end / every-core verify %3.2f (the share of the machine's verifying the transfer reaches)\n",
	       n / e2e_s / verify_all);
	if (cpu_a >= 0 && cpu_b >= 0)
		printf("  CPU per entry            %9.1f us A (sends), %.1f us B (receives); one verify %.1f us\n",
		       cpu_a * 1e6 / n, cpu_b * 1e6 / n, 1e6 / verify_rate);
	printf("  entries sent, received   %9llu, %llu\n",
	       (unsigned long long)fa->entries_out,
	       (unsigned long long)fb->entries_in);
	printf("  batches committed        %9llu, %llu of them received while the one before committed\n",
	       (unsigned long long)fb->batches_in,
	       (unsigned long long)fb->batches_in_overlap);
	printf("  wire bytes per entry     %9.1f A->B (A's bytes_out: HELLO, NEG, FEEDS, ENTRIES)\n",
	       (double)fa->bytes_out / n);
	printf("                           %9.1f B->A (B's bytes_out: HELLO, NEG, WANT, ACKs)\n",
	       (double)fb->bytes_out / n);
	printf("  body bytes per entry     %9.1f (A->B overhead %.1f, ratio %.2f)\n",
	       (double)body_bytes / n,
	       (double)((int64_t)fa->bytes_out - (int64_t)body_bytes) / n,
	       (double)fa->bytes_out / (double)body_bytes);
}

int main(int argc, char **argv)
{
	static char found[4200];
	struct daemon_proc pa, pb, pe, pc, pd;
	struct daemon_status fa, fb, fc0, fd0, fc1, fd1, apart;
	struct session agree, reconn, differ;
	struct node *a, *b, *e, *c, *d;
	struct pushes push;
	struct bench_entry *ents, more[FEEDS_DIFFER];
	uint8_t (*apk)[32];
	char (*ascope)[64];
	double judged, unjudged;
	char netfile[4200], cfgfile[4200], why[256];
	const char *base = getenv("TMPDIR");
	unsigned n = argc > 2 ? (unsigned)atoi(argv[2]) : 100000;
	int e2e_only = argc > 3 && strcmp(argv[3], "e2e") == 0;
	uint8_t akey[32];
	uint64_t body_bytes, hlc = 0, more_bytes = 0;
	double verify_rate, verify_before, verify_after, verify_all, t0, e2e_s,
		cpu_a,
		cpu_b;
	int r;

	if (argc > 1) {
		hamletd = argv[1];
	} else {
		if (bench_hamletd_path(found, sizeof(found)) < 0)
			return 2;
		hamletd = found;
	}
	if (n == 0 || access(hamletd, X_OK) < 0) {
		fprintf(stderr, "usage: bench_sync [HAMLETD [ENTRIES]]\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	snprintf(dir, sizeof(dir), "%s/hamlet-bench-sync-XXXXXX",
		 base ? base : "/tmp");
	if (!mkdtemp(dir))
		return 1;
	bench_name = "bench_sync";
	atexit(cleanup);
	/* never outlive a stuck run with daemons left behind */
	if ((r = daemon_proc_guard(1200)) < 0)
		die("guard", r, NULL);

	if ((r = network_create("bench", dir, NULL, why, sizeof(why))) < 0)
		die("network", r, why);
	snprintf(netfile, sizeof(netfile), "%s/bench.network", dir);

	/* 0. certificate checks: their cost on the path every entry takes */
	cert_cost(netfile, n < 20000 ? n : 20000, &judged, &unjudged);

	/* 1. end to end: n entries on A before the daemons start */
	a = node_make(&pa, "village", netfile, "bk/bt/qt/na-pai", 1);
	node_make(&pb, "commune", netfile, "bk/bt/qt", 0);
	body_bytes = bench_write(a, "HP-", 0, n, CHUNK);
	log_feed_key(a->pk, a->scope, akey);
	verify_before = bench_verify_rate(a, n < 20000 ? n : 20000);
	node_close(a); /* from now on only its daemon writes A's store */
	if ((r = node_open(pb.home, 1, &b, why, sizeof(why))) < 0)
		die(pb.name, r, why);
	t0 = start_pair_dial(&pa, &pb);
	bench_wait_feed(b, pb.name, akey, n, t0, TRANSFER_MS);
	e2e_s = bench_now() - t0;
	wait_idle(&pa, &pb, &fa, &fb);
	verify_after = bench_verify_rate(b, n < 20000 ? n : 20000);
	verify_rate = bench_verify_mean(verify_before, verify_after);
	verify_all = bench_verify_rate_all(b, n < 20000 ? n : 20000);
	cpu_a = cpu_s(pa.pid);
	cpu_b = cpu_s(pb.pid);
	if (e2e_only) {
		stop(&pa);
		stop(&pb);
		node_close(b);
		e2e_print(n, body_bytes, verify_rate, verify_before,
			  verify_after, verify_all, judged, unjudged, e2e_s,
			  &fa, &fb, cpu_a, cpu_b);
		return 0;
	}

	/* 2. live push on the same, now idle, pair and C dialling B */
	/* its own scope the live one: a node takes in its own scope (hamletd
	 * refuses scopes that leave it out) and nothing else here */
	node_make(&pe, "province", netfile, LIVE_SCOPE, 0);
	snprintf(cfgfile, sizeof(cfgfile), "%s/province.ini", dir);
	write_file(cfgfile, "[node]\nscopes = " LIVE_SCOPE "\n");
	if ((r = daemon_proc_start_listening(
		     &pe, hamletd,
		     (const char *const[]){ "--config", cfgfile, "--peer",
					    pb.addr, NULL },
		     5)) < 0)
		die("start", r, pe.name);
	wait_connected(&pe, 1);
	wait_idle(&pb, &pe, &fc0, &fd0);
	if ((r = node_open(pe.home, 1, &e, why, sizeof(why))) < 0)
		die(pe.name, r, why);
	live_push(&pa, b, e, n, &push);
	stop(&pa);
	stop(&pb);
	stop(&pe);
	node_close(b);
	node_close(e);

	/* 3. bytes per record: the sample and the mix */
	struct bytes_fig fsample, fmix;
	record_bytes(netfile, "sample", bb_profile, BYTES_N, &fsample);
	record_bytes(netfile, "mix", bb_mix, BYTES_N, &fmix);

	/* 4. FEEDS feeds of as many authors, the same in both stores */
	c = node_make(&pc, "province-a", netfile, "bk", 1);
	d = node_make(&pd, "province-b", netfile, "bk", 1);
	if (!(ents = calloc(FEEDS, sizeof(*ents))) ||
	    !(apk = calloc(FEEDS, sizeof(*apk))) ||
	    !(ascope = calloc(FEEDS, sizeof(*ascope))))
		fail("out of memory");
	for (unsigned i = 0; i < FEEDS; i++) {
		uint8_t *pk = apk[i], sk[64];
		char *scope = ascope[i], rid[32];
		crypto_sign_keypair(pk, sk);
		snprintf(scope, sizeof(ascope[i]), "bk/bt/qt/v%u", i);
		snprintf(rid, sizeof(rid), "HP-V%u-1", i);
		entry_make(c, pk, sk, scope, 1, NULL, rid, i, &hlc, &ents[i]);
		if (i < FEEDS_DIFFER) {
			/* the next entry of the first few feeds, kept back */
			snprintf(rid, sizeof(rid), "HP-V%u-2", i);
			entry_make(c, pk, sk, scope, 2, ents[i].id, rid,
				   FEEDS + i, &hlc, &more[i]);
		}
		sodium_memzero(sk, sizeof(sk));
	}
	/* every author certified, in both trust sets */
	if ((r = bench_trust_authors((struct node *const[]){ c, d }, 2, netfile,
				     (const uint8_t(*)[32])apk,
				     (const char(*)[64])ascope, FEEDS, why,
				     sizeof(why))) < 0)
		die("certify", r, why);
	free(apk);
	free(ascope);
	ingest(c, ents, FEEDS);
	ingest(d, ents, FEEDS);
	for (unsigned i = 0; i < FEEDS; i++)
		bench_entry_close(&ents[i]);
	free(ents);

	start_pair(&pc, &pd);
	wait_connected(&pc, 1);
	wait_idle(&pc, &pd, &fc0, &fd0);
	/* the reconciliation of a session on which both already agree */
	rpc(&pc, "sync", NULL);
	daemon_proc_sleep_ms(100);
	wait_idle(&pc, &pd, &fc1, &fd1);
	session_diff(&fc0, &fc1, &fd0, &fd1, &agree);

	/* a new connection, stores agreeing: handshake, HELLO, reconcile.
	 * A's figures are those from just before the removal: a peer
	 * removed from the dial list and not connected is not listed by
	 * status while apart (its figures are kept, and listed again once
	 * it is added back), so A's figures then read as none */
	fc0 = fc1;
	rpc(&pc, "peer_remove", pd.addr);
	wait_connected(&pc, 0);
	wait_connected(&pd, 0);
	wait_idle(&pc, &pd, &apart, &fd0);
	rpc(&pc, "peer_add", pd.addr);
	wait_connected(&pc, 1);
	wait_idle(&pc, &pd, &fc1, &fd1);
	session_diff(&fc0, &fc1, &fd0, &fd1, &reconn);

	/* a new connection after FEEDS_DIFFER feeds moved on while apart */
	fc0 = fc1; /* as above */
	rpc(&pc, "peer_remove", pd.addr);
	wait_connected(&pc, 0);
	wait_connected(&pd, 0);
	ingest(c, more, FEEDS_DIFFER);
	daemon_proc_sleep_ms(500); /* the head watcher has seen them, with no one to tell */
	wait_idle(&pc, &pd, &apart, &fd0);
	rpc(&pc, "peer_add", pd.addr);
	t0 = bench_now();
	for (unsigned i = 0; i < FEEDS_DIFFER; i++)
		while (!holds(d, &more[i])) {
			if (bench_now() - t0 > WAIT_MS / 1000.0)
				fail("%s lacks a changed feed after %d s",
				     pd.name, WAIT_MS / 1000);
			daemon_proc_sleep_ms(5);
		}
	wait_idle(&pc, &pd, &fc1, &fd1);
	session_diff(&fc0, &fc1, &fd0, &fd1, &differ);
	for (unsigned i = 0; i < FEEDS_DIFFER; i++) {
		/* the entries themselves: envelope, signature, body */
		more_bytes += more[i].env_len + 64 + more[i].body_len;
		bench_entry_close(&more[i]);
	}
	stop(&pc);
	stop(&pd);
	node_close(c);
	node_close(d);

	e2e_print(n, body_bytes, verify_rate, verify_before,
		  verify_after, verify_all, judged, unjudged, e2e_s, &fa,
		  &fb, cpu_a, cpu_b);
	printf("  live push: %d puts through A's socket, one at a time, A -> B -> C\n",
	       PUSHES);
	pushes_print("put answered (A)", push.put);
	pushes_print("in B's store (peer)", push.peer);
	pushes_print("in C's store (relay)", push.relay);
	printf("bench/sync: %d feeds of as many authors on both nodes; one session each\n"
	       "  (bytes counted from the end of the Noise handshake: HELLO on)\n",
	       FEEDS);
	session_print("sync, both agree", &agree);
	session_print("reconnect, both agree", &reconn);
	session_print("reconnect, 10 feeds differ", &differ);
	printf("  10 differ: entries moved %9llu; bytes over reconnect-agree %lld\n",
	       (unsigned long long)differ.entries,
	       (long long)(differ.out_i + differ.out_r) -
		       (long long)(reconn.out_i + reconn.out_r));
	printf("  10 differ: the %d entries (envelope, signature, body) %llu bytes; their ENTRIES messages %llu;\n"
	       "             everything else %lld bytes\n",
	       FEEDS_DIFFER, (unsigned long long)more_bytes,
	       (unsigned long long)differ.ent_bytes,
	       (long long)(differ.out_i + differ.out_r) -
		       (long long)differ.ent_bytes);
	printf("  (target for sync, both agree: <= 2 round trips, <= 1024 bytes;\n"
	       "   for 10 differ: the rest <= 1400 bytes, no NEG round trip)\n");
	printf("bench/sync: bytes per record, %d of each; wire: ENTRIES of %d entries (a 2G batch)\n",
	       BYTES_N, BYTES_BATCH);
	printf("  %-22s %7s %8s %6s %9s %6s %s\n", "", "JSON", "wire", "ratio",
	       "bundle", "ratio", "compact/whole");
	bytes_print("health_profile sample", BYTES_N, &fsample);
	bytes_print("mix", BYTES_N, &fmix);
	printf("  (target: ratio <= 0.80; wire back B->A %.1f and %.1f bytes per record)\n",
	       (double)fsample.back / BYTES_N, (double)fmix.back / BYTES_N);
	printf("  in process, bytes per entry by batch: v3 whole, compact, zstd(whole), zstd(compact);\n"
	       "  zstd(compact) with a 16 KiB dictionary trained on the first half, over the second\n");
	enc_print("sample", BYTES_N, &fsample);
	enc_print("mix", BYTES_N, &fmix);
	return 0;
}
