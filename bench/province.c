/*
 * bench/province: hamletd on a province-sized store, from one run.
 *
 * Builds, in a fresh node home, a store of ENTRIES entries over 1,300
 * village feeds of as many authors (fewer feeds when ENTRIES is smaller),
 * each entry signed with its feed's key and stored as a peer's entries are
 * (log_ingest, LOG_MAX_BATCH entries a transaction). Then, for that store
 * and for an empty one, prints
 *  - start: from starting hamletd on the home until its local socket
 *    answers (a method that reads no store), and until it has answered
 *    "status" (which hashes every record); what one more status costs
 *    once it runs;
 *  - put: PUTS puts one at a time through its socket (the write method,
 *    as `hamlet put` sends it), p50 and p99 of the time until it answers
 *    (signed and committed) and until a connected peer's store holds the
 *    entry. The peer is a small node subscribed to one scope that only
 *    these puts use: once it holds the previous put it is in sync and
 *    needs nothing but the new entry. Its store is read every 0.2 ms;
 *  - bulk sync into the store: a village node (scope bk/bulk, certified
 *    as the other nodes) holds BULK entries of its own, written before
 *    its daemon starts; with both daemons running, the village is told
 *    to dial the province (one session), timed until the province's
 *    store holds all BULK (read every 5 ms), in entries/s and as a ratio
 *    to one core's verify rate measured in the same run (the mean of
 *    one just before the two syncs and one just after); and the
 *    store's disk bytes per entry before and after, and the bytes its
 *    daemon's write calls passed during the sync per synced entry
 *    (/proc/PID/io wchar: the pages its commits wrote, its log). The
 *    same village
 *    store syncs to both provinces, each a session of its own;
 *  - verify: the audit `hamlet verify` runs (audit_store: every
 *    entry's signature, through each feed's chain and the marks of its
 *    signatures, every chain link, body and record of the big store,
 *    after the bulk sync), its wall and CPU time, the signatures it
 *    checked one by one, and its rate as a ratio to one core's
 *    verify rate (the mean of one just before and one just after it);
 *  - cold start, last (everything before it runs on a warm page
 *    cache): the big store's pages dropped from the page cache
 *    (posix_fadvise DONTNEED, as after a reboot; the share still
 *    resident is printed, from mincore), then hamletd started on it,
 *    until it has answered "status".
 *
 *   bench_province [ENTRIES [HAMLETD [FEEDS [BULK]]]]
 *        (default 1000000, ../daemon/hamletd, 1300, 100000; at most
 *        16,000 feeds, one author each; BULK 0 skips the bulk sync)
 *   HAMLET_BENCH_KEEP=1 keeps the stores and daemon logs.
 *
 * Not run by ctest: a million entries take minutes to build.
 */
#include "audit.h"
#include "bench_proc.h"
#include "bench_util.h"
#include "daemon_proc.h"
#include "error.h"
#include "log.h"
#include "node.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FEEDS 1300	   /* village feeds of a province */
#define MAX_FEEDS 16000	   /* authors: the trust set holds 16,384 items */
#define PUTS 200	   /* put samples per store */
#define PUT_SCOPE "bk/live" /* the puts' feed, and all the peer takes */
#define START_MS 600000	   /* bound on a start (and a status) */
#define WAIT_MS 30000	   /* bound on every other wait */
#define POLL_US 200	   /* between looks for a pushed entry */
#define BULK 100000	   /* entries the village brings */
#define BULK_SCOPE "bk/bulk" /* the village's scope */
#define BULK_CHUNK 5000	   /* its entries a write transaction */
#define BULK_MS 1800000	   /* bound on one bulk sync */

static const char *hamletd;

/* --- the store ---------------------------------------------------------- */

/* The node name under dir, run as p (its home made by node_init). */
static void node_make(struct daemon_proc *p, const char *name,
		      const char *netfile, const char *scope)
{
	char why[256];
	int r;
	daemon_proc_init(p, dir, name);
	if (nprocs < sizeof(procs) / sizeof(procs[0]))
		procs[nprocs++] = p;
	if ((r = node_init(p->home, netfile, p->name, scope, why,
			   sizeof(why))) < 0 ||
	    (r = bench_certify(p->home, netfile, why, sizeof(why))) < 0)
		die(p->name, r, why);
}

/*
 * The entries to build: n over feeds feeds of as many authors, under
 * bk/dD/cC/vV (10 districts of 10 communes of 13 villages at 1,300
 * feeds), each a new health profile. Made a batch at a time.
 */
struct gen {
	const struct node *nd;
	unsigned n, feeds;
	unsigned feed, seq, count; /* the feed being made, its entries */
	unsigned person;	   /* entries made */
	uint8_t pk[32], sk[64], prev[32];
	char scope[64];
	/* each feed's author, made and certified before the build */
	uint8_t (*pks)[32], (*sks)[64];
	uint64_t hlc;
	double sign_s;
	uint64_t body_bytes;
	/* one batch */
	struct bench_entry *v;
	size_t k;
	int r;
};

/* The scope of feed i: bk/dD/cC/vV. */
static void feed_scope(unsigned i, char scope[64])
{
	snprintf(scope, 64, "bk/d%u/c%u/v%u", i / 130, i / 13, i);
}

/* Fill g->v with the next LOG_MAX_BATCH entries (fewer at the end):
 * g->k of them, or g->r < 0. */
static void *gen_batch(void *arg)
{
	struct gen *g = arg;
	double t0 = bench_now();
	char rid[32];

	g->k = 0;
	g->r = 0;
	while (g->k < LOG_MAX_BATCH && g->person < g->n) {
		if (g->seq == g->count) {
			/* the next feed, with a new author */
			g->count = g->n / g->feeds +
				   (g->feed < g->n % g->feeds);
			g->seq = 0;
			memcpy(g->pk, g->pks[g->feed], 32);
			memcpy(g->sk, g->sks[g->feed], 64);
			feed_scope(g->feed, g->scope);
			g->feed++;
			continue;
		}
		snprintf(rid, sizeof(rid), "HP-%u", g->person);
		if ((g->r = bench_entry_make(g->nd, g->pk, g->sk, g->scope,
					     g->seq + 1,
					     g->seq ? g->prev : NULL, rid,
					     g->person, &g->hlc,
					     &g->v[g->k])) < 0)
			break;
		memcpy(g->prev, g->v[g->k].id, 32);
		g->body_bytes += g->v[g->k].body_len;
		g->seq++;
		g->person++;
		g->k++;
	}
	if (g->person == g->n || g->r < 0)
		sodium_memzero(g->sk, sizeof(g->sk));
	g->sign_s += bench_now() - t0;
	return NULL;
}

struct build {
	unsigned feeds;
	double sign_s, ingest_s;
	uint64_t body_bytes;
};

/*
 * n entries into nd's store, LOG_MAX_BATCH a log_ingest. A thread signs
 * the next batch while this one is stored: signing takes one core, and
 * storing, past its verification on all cores, one.
 */
static void store_build(struct node *nd, const char *netfile_path, unsigned n,
			struct build *b)
{
	struct bench_entry *bufs[2] = { calloc(LOG_MAX_BATCH, sizeof(**bufs)),
					calloc(LOG_MAX_BATCH, sizeof(**bufs)) };
	struct gen g = { .nd = nd, .n = n, .feeds = b->feeds };
	char why[256], (*scopes)[64] = calloc(b->feeds, 64);
	size_t k;
	int cur = 0, r;

	g.pks = calloc(b->feeds, 32);
	g.sks = calloc(b->feeds, 64);
	if (!bufs[0] || !bufs[1] || !scopes || !g.pks || !g.sks)
		fail("out of memory");
	/* every author certified first: a node holds the entries of an
	 * author without a certificate back */
	for (unsigned i = 0; i < b->feeds; i++) {
		crypto_sign_keypair(g.pks[i], g.sks[i]);
		feed_scope(i, scopes[i]);
	}
	if ((r = bench_trust_authors(&nd, 1, netfile_path,
				     (const uint8_t(*)[32])g.pks,
				     (const char(*)[64])scopes, b->feeds, why,
				     sizeof(why))) < 0)
		die("certify", r, why);
	free(scopes);
	g.v = bufs[cur];
	gen_batch(&g);
	while (g.r == 0 && (k = g.k) > 0) {
		pthread_t t;
		double t0;
		g.v = bufs[1 - cur];
		if ((r = pthread_create(&t, NULL, gen_batch, &g)) != 0)
			die("thread", -r, NULL);
		t0 = bench_now();
		r = bench_ingest(nd, bufs[cur], k, LOG_MAX_BATCH, why,
				 sizeof(why));
		b->ingest_s += bench_now() - t0;
		pthread_join(t, NULL);
		for (size_t i = 0; i < k; i++)
			bench_entry_close(&bufs[cur][i]);
		if (r < 0)
			die("log_ingest", r, why);
		cur = 1 - cur;
	}
	if (g.r < 0)
		die("entry", g.r, NULL);
	b->sign_s = g.sign_s;
	b->body_bytes = g.body_bytes;
	sodium_memzero(g.sks, (size_t)b->feeds * 64);
	free(g.pks);
	free(g.sks);
	free(bufs[0]);
	free(bufs[1]);
}

/* Bytes the store takes on disk. */
static uint64_t store_bytes(const char *home)
{
	char path[4200];
	struct stat st;
	snprintf(path, sizeof(path), "%s/store/data.mdb", home);
	return stat(path, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
}

/* --- one store under hamletd -------------------------------------------- */

struct run {
	uint64_t records;
	double up_ms;	   /* from starting hamletd until its socket answers */
	double start_ms;   /* from starting hamletd until status answered */
	double status_ms;  /* one more status, on the running daemon */
	double put[PUTS];  /* until the put was answered */
	double peer[PUTS]; /* until the peer's store held it */
};

/* Start p on a free port; returns the time it was started, once its
 * socket answers. */
static double start_timed(struct daemon_proc *p)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		double t0;
		int port, r;
		if ((r = daemon_proc_free_port(&port)) < 0)
			die("port", r, NULL);
		t0 = bench_now();
		if ((r = daemon_proc_start(p, hamletd, port, NULL)) < 0)
			die("start", r, p->name);
		r = daemon_proc_wait_socket(p, START_MS);
		if (r == 0)
			return t0;
		if (r != -ESRCH) /* not a port taken meanwhile */
			die("start", r, p->name);
	}
	fail("%s did not start", p->name);
}

/* A status of p; returns when it was answered. */
static double status_timed(struct daemon_proc *p, uint64_t *ret_records)
{
	struct daemon_status st;
	int r;
	if ((r = daemon_proc_status(p->sock, START_MS, &st)) < 0)
		die("status", r, p->name);
	*ret_records = st.records;
	return bench_now();
}

static void stop(struct daemon_proc *p)
{
	int st;
	if (daemon_proc_stop(p, SIGTERM, 30000, &st) < 0)
		fail("%s did not stop within 30 s", p->name);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail("%s did not stop cleanly (wait status %d)", p->name, st);
}

/* One put through pp's socket; returns when q holds it, with the times
 * in ms in *ret_put and *ret_peer. */
static void put_one(struct daemon_proc *pp, struct node *q, unsigned i,
		    double *ret_put, double *ret_peer)
{
	char rid[32], why[256];
	uint8_t *body, id[32];
	size_t len;
	double t0, t1;
	int r;

	snprintf(rid, sizeof(rid), "HP-LIVE-%u", i);
	body = bench_profile_body(i, &len);
	t0 = bench_now();
	r = daemon_proc_put(pp->sock, "health_profile", rid, PUT_SCOPE, body,
			    len, WAIT_MS, id, why, sizeof(why));
	t1 = bench_now();
	free(body);
	if (r < 0)
		die("put", r, why);
	while ((r = bench_has_entry(q, "health_profile", rid, id)) == 0) {
		if (bench_now() - t0 > WAIT_MS / 1000.0)
			fail("put %s not at %s after %d s", rid, q->name,
			     WAIT_MS / 1000);
		daemon_proc_sleep_us(POLL_US);
	}
	if (r < 0)
		die("read", r, q->name);
	*ret_put = (t1 - t0) * 1000;
	*ret_peer = (bench_now() - t0) * 1000;
}

/* pp's store under hamletd, with the peer pq (subscribed by cfgfile to
 * PUT_SCOPE alone) dialling it. */
static void run(struct daemon_proc *pp, struct daemon_proc *pq,
		const char *cfgfile, struct run *ret)
{
	struct node *q;
	char why[256];
	double t0, t1, skip;
	int r;

	t0 = start_timed(pp);
	ret->up_ms = (bench_now() - t0) * 1000;
	ret->start_ms = (status_timed(pp, &ret->records) - t0) * 1000;
	t1 = bench_now();
	ret->status_ms = (status_timed(pp, &ret->records) - t1) * 1000;

	if ((r = daemon_proc_start_listening(
		     pq, hamletd,
		     (const char *const[]){ "--config", cfgfile, "--peer",
					    pp->addr, NULL },
		     5)) < 0)
		die("start", r, pq->name);
	if ((r = daemon_proc_wait_connected(pq->sock, 1, WAIT_MS)) < 0)
		die("connect", r, pq->name);
	if ((r = node_open(pq->home, 1, &q, why, sizeof(why))) < 0)
		die(pq->name, r, why);
	/* the first put starts the feed on both; the peer is in sync after */
	put_one(pp, q, PUTS, &skip, &skip);
	for (unsigned i = 0; i < PUTS; i++) {
		daemon_proc_sleep_ms((int)randombytes_uniform(50));
		put_one(pp, q, i, &ret->put[i], &ret->peer[i]);
	}
	qsort(ret->put, PUTS, sizeof(double), bench_cmp_double);
	qsort(ret->peer, PUTS, sizeof(double), bench_cmp_double);
	node_close(q);
	stop(pq);
	stop(pp);
}

/* --- a cold start, and the audit ----------------------------------------- */

/* The share of path's pages in the page cache (mincore); -1 unknown. */
static double resident_share(const char *path)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct stat sb;
	unsigned char *vec;
	size_t pages, in = 0;
	void *m;
	int fd = open(path, O_RDONLY);
	double share = -1;
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) < 0 || sb.st_size == 0) {
		close(fd);
		return -1;
	}
	pages = ((size_t)sb.st_size + (size_t)pg - 1) / (size_t)pg;
	m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
	vec = malloc(pages);
	if (m != MAP_FAILED && vec && mincore(m, (size_t)sb.st_size, vec) == 0) {
		for (size_t i = 0; i < pages; i++)
			in += vec[i] & 1;
		share = (double)in / (double)pages;
	}
	free(vec);
	if (m != MAP_FAILED)
		munmap(m, (size_t)sb.st_size);
	close(fd);
	return share;
}

/* Start hamletd on p's store with none of its pages cached: ms until
 * status is answered; *ret_resident: the share cached when it started. */
static double cold_start(struct daemon_proc *p, double *ret_resident)
{
	char path[4200];
	uint64_t records;
	double t0, ms;
	int fd;
	snprintf(path, sizeof(path), "%s/store/data.mdb", p->home);
	if ((fd = open(path, O_RDONLY)) < 0)
		fail("cannot open %s", path);
	/* clean pages only are dropped: the daemon stopped, its commits
	 * synced */
	if (fdatasync(fd) < 0 || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
		fail("cannot drop %s from the page cache", path);
	close(fd);
	*ret_resident = resident_share(path);
	t0 = start_timed(p);
	ms = (status_timed(p, &records) - t0) * 1000;
	stop(p);
	return ms;
}

struct audit_fig {
	double s, cpu_s; /* wall and CPU (every thread) seconds */
	uint64_t entries, sigs; /* sigs: checked one by one */
};

static double cpu_self(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* The audit `hamlet verify` runs, on p's store (its daemon stopped). */
static void audit_timed(const struct daemon_proc *p, struct audit_fig *ret)
{
	struct audit_report rep = { 0 };
	struct node *nd;
	char why[256];
	double t0, c0;
	int r;
	if ((r = node_open(p->home, 1, &nd, why, sizeof(why))) < 0)
		die(p->name, r, why);
	c0 = cpu_self();
	t0 = bench_now();
	r = audit_store(nd->st, nd->net.id, &rep);
	ret->s = bench_now() - t0;
	ret->cpu_s = cpu_self() - c0;
	ret->entries = rep.entries;
	ret->sigs = rep.signatures_checked;
	if (r < 0)
		die("verify", r, p->name);
	if (audit_failed(&rep))
		fail("verify of %s found the store damaged", p->name);
	audit_report_close(&rep);
	node_close(nd);
}

/* --- bulk sync into the store ------------------------------------------- */

struct bulk {
	double s;			 /* from peer_add until all stored */
	uint64_t entries_before, entries_after;
	uint64_t disk_before, disk_after; /* data.mdb, bytes */
	/* what the province's daemon's write calls passed during the sync
	 * (the pages its commits wrote, the log): -1 when /proc does not
	 * say */
	double wrote;
	struct daemon_status st;	 /* the province's, at the end */
};

/* pid's count of bytes its write calls passed (/proc/PID/io, wchar):
 * 0, or -1 when /proc does not say. */
static int io_written(pid_t pid, double *ret)
{
	char path[64], line[128];
	unsigned long long v;
	int r = -1;
	FILE *f;
	snprintf(path, sizeof(path), "/proc/%ld/io", (long)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "wchar: %llu", &v) == 1) {
			*ret = (double)v;
			r = 0;
		}
	fclose(f);
	return r;
}

static int entries_add(void *ctx, const struct log_feed *f)
{
	*(uint64_t *)ctx += f->seq;
	return 0;
}

/* The entries in home's store: the sum of its feeds' contiguous heads. */
static uint64_t store_entries(const char *home)
{
	struct store_txn *t;
	struct node *nd;
	uint64_t n = 0;
	char why[256];
	int r;
	if ((r = node_open(home, 1, &nd, why, sizeof(why))) < 0)
		die(home, r, why);
	if ((r = store_txn_begin(nd->st, 1, &t)) < 0)
		die("read", r, home);
	r = log_feeds_each(t, entries_add, &n);
	store_txn_abort(t);
	node_close(nd);
	if (r < 0)
		die("read", r, home);
	return n;
}

/*
 * pp's daemon started and ready (status answered), the village pv's
 * too; then pv is told to dial pp, timed until pp's store holds the m
 * entries of feed key.
 */
static void bulk_sync(struct daemon_proc *pp, struct daemon_proc *pv,
		      const uint8_t key[32], unsigned m, struct bulk *ret)
{
	struct node *p;
	uint64_t records;
	char why[256];
	double t0;
	int r;

	ret->entries_before = store_entries(pp->home);
	ret->disk_before = store_bytes(pp->home);
	start_timed(pp);
	status_timed(pp, &records);
	if ((r = daemon_proc_start_listening(pv, hamletd, NULL, 5)) < 0)
		die("start", r, pv->name);
	status_timed(pv, &records);
	if ((r = node_open(pp->home, 1, &p, why, sizeof(why))) < 0)
		die(pp->name, r, why);
	if (bench_seq(p, key) != 0)
		fail("%s holds the village's entries before the sync", pp->name);
	double w0 = 0, w1 = 0;
	int io = io_written(pp->pid, &w0);
	t0 = bench_now();
	if ((r = daemon_proc_call(pv->sock, "peer_add", pp->addr, WAIT_MS)) <
	    0)
		die("peer_add", r, pv->name);
	bench_wait_feed(p, pp->name, key, m, t0, BULK_MS);
	ret->s = bench_now() - t0;
	ret->wrote = io == 0 && io_written(pp->pid, &w1) == 0 ? w1 - w0 : -1;
	node_close(p);
	if ((r = daemon_proc_status(pp->sock, WAIT_MS, &ret->st)) < 0)
		die("status", r, pp->name);
	stop(pv);
	stop(pp);
	ret->entries_after = store_entries(pp->home);
	ret->disk_after = store_bytes(pp->home);
}

/* --- main ---------------------------------------------------------------- */

static void row(const char *what, double big, double empty)
{
	printf("  %-31s %10.1f ms %12.1f ms\n", what, big, empty);
}

static double verify_before, verify_after;

/* One core's verify rate, from p's keys (its store opened read-only
 * beside its daemon, if that runs). */
static double verify_home(const struct daemon_proc *p, unsigned m)
{
	struct node *nd;
	char why[256];
	double v;
	int r;
	if ((r = node_open(p->home, 1, &nd, why, sizeof(why))) < 0)
		die(p->name, r, why);
	v = bench_verify_rate(nd, m < 20000 ? m : 20000);
	node_close(nd);
	return v;
}

static void bulk_print(unsigned m, uint64_t body_bytes, double verify,
		       const struct bulk *big, const struct bulk *empty)
{
	char b[48], e[48];

	printf("  bulk sync of %u entries (~%.0f-byte bodies) from a village, one session, into each store:\n",
	       m, (double)body_bytes / m);
	printf("  %-31s %10.0f /s (mean of %.0f just before the two syncs and %.0f just after)\n",
	       "verify (1 core, this run)", verify, verify_before, verify_after);
	printf("  %-31s %10.2f s %13.2f s\n", "until the store held all",
	       big->s, empty->s);
	printf("  %-31s %10.0f /s %12.0f /s\n", "entries/s", m / big->s,
	       m / empty->s);
	printf("  %-31s %10.2f %15.2f\n", "entries/s / 1-core verify",
	       m / big->s / verify, m / empty->s / verify);
	snprintf(b, sizeof(b), "%llu (%llu)",
		 (unsigned long long)big->st.batches_in,
		 (unsigned long long)big->st.batches_in_overlap);
	snprintf(e, sizeof(e), "%llu (%llu)",
		 (unsigned long long)empty->st.batches_in,
		 (unsigned long long)empty->st.batches_in_overlap);
	printf("  %-31s %10s %15s\n", "batches (in while one committed)", b,
	       e);
	printf("  %-31s %10llu %15llu\n", "entries in the store before",
	       (unsigned long long)big->entries_before,
	       (unsigned long long)empty->entries_before);
	printf("  %-31s %10llu %15llu\n", "entries in the store after",
	       (unsigned long long)big->entries_after,
	       (unsigned long long)empty->entries_after);
	printf("  %-31s %10.0f B %13.0f B\n", "disk per entry before",
	       (double)big->disk_before / big->entries_before,
	       (double)empty->disk_before / empty->entries_before);
	printf("  %-31s %10.0f B %13.0f B\n", "disk per entry after",
	       (double)big->disk_after / big->entries_after,
	       (double)empty->disk_after / empty->entries_after);
	printf("  %-31s %10.0f B %13.0f B\n", "disk added per synced entry",
	       ((double)big->disk_after - (double)big->disk_before) / m,
	       ((double)empty->disk_after - (double)empty->disk_before) / m);
	if (big->wrote >= 0 && empty->wrote >= 0) {
		printf("  %-31s %10.0f B %13.0f B\n",
		       "written per synced entry", big->wrote / m,
		       empty->wrote / m);
	} else {
		printf("  %-31s %10s %15s\n", "written per synced entry",
		       "n/a", "n/a");
	}
}

static void row_pct(const char *what, const double *big, const double *empty)
{
	char l[64];
	snprintf(l, sizeof(l), "%s p50", what);
	row(l, bench_percentile(big, PUTS, 50),
	    bench_percentile(empty, PUTS, 50));
	snprintf(l, sizeof(l), "%s p99", what);
	row(l, bench_percentile(big, PUTS, 99),
	    bench_percentile(empty, PUTS, 99));
}

int main(int argc, char **argv)
{
	static char found[4200];
	static struct run big, empty;
	struct bulk bbig = { 0 }, bempty = { 0 };
	struct daemon_proc pp, pq, pe, pf, pv;
	struct build b = { 0 };
	struct node *p;
	char netfile[4200], cfgfile[4200], why[256];
	const char *base = getenv("TMPDIR");
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1000000;
	unsigned feeds = FEEDS, m = BULK;
	uint8_t vkey[32];
	uint64_t vbody = 0;
	double t0, build_s, verify = 0, cold_ms, resident, av_before,
		av_after;
	struct audit_fig au;
	FILE *f;
	int r;

	if (argc > 2) {
		hamletd = argv[2];
	} else {
		if (bench_hamletd_path(found, sizeof(found)) < 0)
			return 2;
		hamletd = found;
	}
	if (argc > 3)
		feeds = (unsigned)strtoul(argv[3], NULL, 10);
	if (argc > 4)
		m = (unsigned)strtoul(argv[4], NULL, 10);
	if (n == 0 || argc > 5 || feeds == 0 || feeds > MAX_FEEDS ||
	    access(hamletd, X_OK) < 0) {
		fprintf(stderr,
			"usage: bench_province [ENTRIES [HAMLETD [FEEDS [BULK]]]]   (default 1000000, ../daemon/hamletd, 1300, 100000)\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	snprintf(dir, sizeof(dir), "%s/hamlet-bench-province-XXXXXX",
		 base ? base : "/tmp");
	if (!mkdtemp(dir))
		return 1;
	bench_name = "bench_province";
	atexit(cleanup);
	/* never outlive a stuck run with daemons left behind */
	if ((r = daemon_proc_guard(7200)) < 0)
		die("guard", r, NULL);

	if ((r = network_create("bench", dir, NULL, why, sizeof(why))) < 0)
		die("network", r, why);
	snprintf(netfile, sizeof(netfile), "%s/bench.network", dir);
	snprintf(cfgfile, sizeof(cfgfile), "%s/peer.ini", dir);
	if (!(f = fopen(cfgfile, "w")))
		fail("cannot write %s", cfgfile);
	fprintf(f, "[node]\nscopes = %s\n", PUT_SCOPE);
	if (fclose(f) != 0)
		fail("cannot write %s", cfgfile);

	/* the province's store, built before its daemon starts */
	node_make(&pp, "province", netfile, "bk");
	node_make(&pq, "peer", netfile, PUT_SCOPE);
	node_make(&pe, "province-empty", netfile, "bk");
	node_make(&pf, "peer-empty", netfile, PUT_SCOPE);
	node_make(&pv, "village", netfile, BULK_SCOPE);
	b.feeds = n < feeds ? n : feeds;
	if ((r = node_open(pp.home, 0, &p, why, sizeof(why))) < 0)
		die(pp.name, r, why);
	t0 = bench_now();
	store_build(p, netfile, n, &b);
	build_s = bench_now() - t0;
	node_close(p);
	/* the village's entries, written before its daemon starts; the
	 * verify rate on the same machine in the same run */
	if (m) {
		struct node *v;
		if ((r = node_open(pv.home, 0, &v, why, sizeof(why))) < 0)
			die(pv.name, r, why);
		/* persons of their own: none a duplicate of the province's */
		vbody = bench_write(v, "HP-B", 100000000u, m, BULK_CHUNK);
		log_feed_key(v->pk, v->scope, vkey);
		node_close(v);
	}

	run(&pp, &pq, cfgfile, &big);
	run(&pe, &pf, cfgfile, &empty);
	if (big.records != n || empty.records != 0)
		fail("status counted %llu and %llu records, not %u and 0",
		     (unsigned long long)big.records,
		     (unsigned long long)empty.records, n);
	if (m) {
		double before = verify_home(&pv, m), after;
		bulk_sync(&pp, &pv, vkey, m, &bbig);
		bulk_sync(&pe, &pv, vkey, m, &bempty);
		after = verify_home(&pv, m);
		verify = bench_verify_mean(before, after);
		verify_before = before;
		verify_after = after;
	}
	/* the audit of the big store, between two verify rates; then, last,
	 * since it empties the page cache of the store, a cold start */
	av_before = verify_home(&pv, 20000);
	audit_timed(&pp, &au);
	av_after = verify_home(&pv, 20000);
	cold_ms = cold_start(&pp, &resident);

	printf("bench/province: %u entries over %u feeds, ~%.0f-byte bodies, hamletd on loopback, %ld cores\n",
	       n, b.feeds, (double)b.body_bytes / n,
	       sysconf(_SC_NPROCESSORS_ONLN));
	printf("  %-31s %10.1f s, %.0f entries/s (signing %.1f s beside log_ingest %.1f s, %d a transaction)\n",
	       "store built", build_s, n / build_s, b.sign_s, b.ingest_s,
	       LOG_MAX_BATCH);
	printf("  %-31s %10.0f MB (data.mdb)\n", "store on disk",
	       store_bytes(pp.home) / 1e6);
	printf("  %-31s %13u %15s\n", "", n, "empty");
	row("start until the socket answers", big.up_ms, empty.up_ms);
	row("start until status answered", big.start_ms, empty.start_ms);
	row("one more status", big.status_ms, empty.status_ms);
	printf("  %d puts through the socket, one at a time, to a peer holding only their scope:\n",
	       PUTS);
	row_pct("put answered", big.put, empty.put);
	row_pct("put at the peer", big.peer, empty.peer);
	if (m)
		bulk_print(m, vbody, verify, &bbig, &bempty);
	printf("  the big store, cold (%.0f%% of its pages cached):\n",
	       resident < 0 ? -1 : resident * 100);
	printf("  %-31s %10.1f ms\n", "start until status answered",
	       cold_ms);
	{
		double rate = bench_verify_mean(av_before, av_after);
		printf("  verify (the audit of hamlet verify) of the big store, %llu entries:\n",
		       (unsigned long long)au.entries);
		printf("  %-31s %10.1f s (%.1f s CPU, %.2f cores)\n", "took",
		       au.s, au.cpu_s, au.cpu_s / au.s);
		printf("  %-31s %10llu (the rest signed through their feed's chain)\n",
		       "signatures checked one by one",
		       (unsigned long long)au.sigs);
		printf("  %-31s %10.0f /s, %.2f x 1-core verify (mean of %.0f just before and %.0f just after)\n",
		       "entries/s", au.entries / au.s,
		       au.entries / au.s / rate, av_before, av_after);
	}
	return 0;
}
