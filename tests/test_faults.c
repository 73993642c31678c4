/*
 * hamletd over bad links: a village and a commune daemon on 127.0.0.1,
 * with tests/tools/faultproxy between them for the first two cases.
 *
 *  1. connections cut at random byte counts, stalls and delays: the sync
 *     still completes and both stores agree;
 *  2. a 2G link (10 KB/s, 300 ms round trip): the sync completes; the
 *     bytes through the proxy and the time taken are printed;
 *  3. the receiving daemon killed with SIGKILL at 20 random points of a
 *     large sync: its store opens and audits clean after every kill, the
 *     sync completes, and what is sent again is bounded.
 *
 * usage: test_faults PATH-TO-HAMLETD PATH-TO-FAULTPROXY
 * HAMLET_TEST_SCALE=N (default 1) divides the entry counts, for slow
 * (sanitizer) builds. HAMLET_TEST_SEED=N fixes the random choices.
 * HAMLET_TEST_CASES=13 runs only cases 1 and 3. ctest runs it twice:
 * daemon_faults_links (cases 1 and 2) and daemon_faults_kills (case 3).
 */
#include "audit.h"
#include "daemon_util.h"
#include "helpers.h"
#include "sync.h"
#include "wire.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

#define KILLS 20
#define TXN_ENTRIES 5000 /* local writes per transaction when seeding */

static const char *hamletd, *faultproxy;
static char *dir;

/* Start a daemon listening on a free port (new ones while a port is
 * taken meanwhile); extra: more arguments or NULL. */
static void daemon_start(struct daemon_proc *p, const char *const *extra)
{
	ASSERT_OK(daemon_proc_start_listening(p, hamletd, extra, 5));
}

/* Send sig, then wait at most 10 s; returns the exit status (or -1). */
static int stop_with(struct daemon_proc *p, int sig)
{
	return proc_stop(p, sig, 10000);
}

/* The proxy p listening on p->port, forwarding to target; opts is a
 * NULL-terminated option list. Retries on new ports when a port is
 * taken meanwhile. */
static void proxy_start(struct daemon_proc *p, int target,
			const char *const *opts)
{
	for (int attempt = 0;; attempt++) {
		char lp[16], tp[16];
		const char *av[24];
		int n = 0;
		ASSERT_TRUE(attempt < 5);
		p->port = free_port();
		snprintf(lp, sizeof(lp), "%d", p->port);
		snprintf(tp, sizeof(tp), "%d", target);
		av[n++] = "faultproxy";
		av[n++] = lp;
		av[n++] = tp;
		for (int i = 0; opts[i] && n < 22; i++)
			av[n++] = opts[i];
		av[n] = NULL;
		ASSERT_OK(daemon_proc_spawn(p, faultproxy, av));
		if (wait_log(p, "listening on", 5000))
			return;
		daemon_proc_kill(p);
	}
}

/* Stop the proxy; its figures line goes to line (cap bytes). */
static void proxy_stop(struct daemon_proc *p, char *line, size_t cap,
		       uint64_t *ret_conns, uint64_t *ret_drops,
		       uint64_t *ret_up, uint64_t *ret_down)
{
	char buf[512];
	FILE *f;
	unsigned long long a = 0, b = 0, c = 0, d = 0;
	ASSERT_EQ(stop_with(p, SIGTERM), 0);
	line[0] = 0;
	ASSERT_TRUE((f = fopen(p->logf, "r")) != NULL);
	while (fgets(buf, sizeof(buf), f))
		if (sscanf(buf,
			   "faultproxy: %llu connections, %llu drops, %llu bytes down->up, %llu bytes up->down",
			   &a, &b, &c, &d) == 4) {
			buf[strcspn(buf, "\n")] = 0;
			snprintf(line, cap, "%s", buf);
		}
	fclose(f);
	ASSERT_TRUE(line[0] != 0);
	*ret_conns = a;
	*ret_drops = b;
	*ret_up = c;
	*ret_down = d;
}

/*
 * count health profiles from index from, written as the node's own
 * entries, TXN_ENTRIES per transaction; pad makes each body about that
 * many bytes longer.
 */
static void put_bulk(struct node *n, int from, int count, int pad)
{
	static struct log_op ops[TXN_ENTRIES];
	static uint8_t *bodies[TXN_ENTRIES];
	static char ids[TXN_ENTRIES][32];
	char filler[1024], spec[2048], why[256];
	struct log_author a;
	size_t failed;
	int done = 0;

	ASSERT_TRUE(pad >= 0 && pad < (int)sizeof(filler));
	memset(filler, 'x', (size_t)pad);
	filler[pad] = 0;
	node_author(n, &a);
	while (done < count) {
		size_t k = 0;
		for (; k < TXN_ENTRIES && done + (int)k < count; k++) {
			int i = from + done + (int)k;
			size_t bl;
			snprintf(ids[k], sizeof(ids[k]), "HP-%d", i);
			if (pad)
				snprintf(spec, sizeof(spec),
					 "person_id=%012d;full_name=Person %d;birth_date=1980-01-01;chronic_conditions=%s",
					 i, i, filler);
			else
				snprintf(spec, sizeof(spec),
					 "person_id=%012d;full_name=Person %d;birth_date=1980-01-01",
					 i, i);
			bodies[k] = th_body(spec, &bl);
			ops[k] = (struct log_op){ ENTRY_PUT, "health_profile",
						  ids[k], NULL, bodies[k], bl,
						  0, NULL, 0 };
		}
		if (log_write(n->st, &a, ops, k, NULL, &failed, why,
			      sizeof(why), NULL) < 0) {
			fprintf(stderr, "log_write: %s\n", why);
			exit(1);
		}
		for (size_t i = 0; i < k; i++)
			free(bodies[i]);
		done += (int)k;
	}
}

/* Entries of author's feed that n holds (its contiguous head). */
static uint64_t feed_head(struct node *n, const struct node *author)
{
	struct store_txn *t;
	struct log_feed f;
	uint8_t key[32];
	uint64_t seq = 0;
	int r;
	log_feed_key(author->pk, author->scope, key);
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	r = log_feed_get(t, key, &f);
	if (r == 0)
		seq = f.seq;
	else
		ASSERT_EQ(r, HAMLET_ENOTFOUND);
	store_txn_abort(t);
	return seq;
}

/* Wait until b's digest equals a's; returns ms taken or -1 on timeout. */
static long long wait_same(struct node *a, struct node *b, int limit_ms)
{
	long long t0 = now_ms();
	uint8_t da[32], db[32];
	while (now_ms() - t0 < limit_ms) {
		th_digest(a, da);
		th_digest(b, db);
		if (memcmp(da, db, 32) == 0)
			return now_ms() - t0;
		sleep_ms(200);
	}
	return -1;
}

/* Per-peer figures from the status RPC, summed over the daemon's peers. */
static void rpc_figures(const char *sock, struct daemon_status *ret)
{
	status_of(sock, 10000, ret);
}

/* The village listens; the commune dials it at target_port (the proxy,
 * or the village itself). Ports taken meanwhile are retried. */
static void village_start(struct daemon_proc *v)
{
	daemon_start(v, NULL);
}

static void commune_start(struct daemon_proc *c, int target_port, int verbose)
{
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", target_port);
	daemon_start(c, (const char *const[]){ "--peer", addr,
					       verbose ? "--verbose" : NULL,
					       NULL });
}

/* A village and a commune node of one network, under dir/tag-*. */
static void make_pair(const char *net, const char *tag,
		      struct daemon_proc *pv, struct daemon_proc *pc,
		      struct node **ret_v, struct node **ret_c)
{
	char name[64];
	snprintf(name, sizeof(name), "%s-village", tag);
	daemon_proc_init(pv, dir, name);
	snprintf(name, sizeof(name), "%s-commune", tag);
	daemon_proc_init(pc, dir, name);
	*ret_v = th_node(dir, net, pv->name, "bk/bt/qt/na-pai");
	*ret_c = th_node(dir, net, pc->name, "bk/bt/qt");
}

/* Sum of "N of M entries received were already stored" in a log. */
static uint64_t dup_logged(const char *path)
{
	char buf[1024];
	uint64_t sum = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(buf, sizeof(buf), f)) {
		const char *p = strstr(buf, "): ");
		unsigned long long n, m;
		if (!strstr(buf, "entries received were already stored") || !p)
			continue;
		if (sscanf(p + 3, "%llu of %llu", &n, &m) == 2)
			sum += n;
	}
	fclose(f);
	return sum;
}

/* --- 1. drops, stalls, delays ------------------------------------------ */

static void case_drops(const char *net, int entries, unsigned seed)
{
	struct daemon_proc pv, pc, px;
	struct daemon_status fc;
	struct node *v, *c;
	char sd[16], line[512];
	uint64_t conns, drops, up, down;
	long long t0, ms;

	TEST_START("a sync through a link that drops, stalls and delays completes and both stores agree");
	make_pair(net, "drops", &pv, &pc, &v, &c);
	daemon_proc_init(&px, dir, "drops-proxy");
	put_bulk(v, 0, entries, 0);
	village_start(&pv);
	snprintf(sd, sizeof(sd), "%u", seed);
	proxy_start(&px, pv.port,
		    (const char *const[]){ "--drop", "20000:400000", "--stall",
					   "3:500", "--delay", "20", "--seed",
					   sd, "--max-seconds", "600", NULL });
	t0 = now_ms();
	commune_start(&pc, px.port, 0);
	ms = wait_same(v, c, 240000);
	if (ms < 0)
		fprintf(stderr, "   the commune holds %llu of %d entries\n",
			(unsigned long long)feed_head(c, v), entries);
	ASSERT_TRUE(ms >= 0);
	ms = now_ms() - t0;
	ASSERT_EQ(feed_head(c, v), entries);
	rpc_figures(pc.sock, &fc);
	ASSERT_EQ(stop_with(&pc, SIGTERM), 0);
	ASSERT_EQ(stop_with(&pv, SIGTERM), 0);
	proxy_stop(&px, line, sizeof(line), &conns, &drops, &up, &down);
	fprintf(stderr, "   %d entries in %.1f s; %s\n", entries, ms / 1000.0,
		line);
	fprintf(stderr,
		"   the commune: %llu sessions ended with a batch lost; its ceiling for the village now %llu entries\n",
		(unsigned long long)fc.batches_lost_in,
		(unsigned long long)fc.batch_ceiling);
	/* each loss halved the ceiling, 8 batches committed doubled it */
	ASSERT_TRUE(fc.batch_ceiling >= SYNC_BATCH_MIN &&
		    fc.batch_ceiling <= SYNC_BATCH_MAX);
	/* the link is cut while entries stream (two batches in flight all
	 * along): of three cuts or more, one at least lost a batch, and the
	 * commune knew it */
	if (drops >= 3)
		ASSERT_TRUE(fc.batches_lost_in >= 1);
	/* the link was really cut: more than one connection was needed */
	if (drops == 0)
		fprintf(stderr, "   no connection was cut (%llu connections)\n",
			(unsigned long long)conns);
	ASSERT_TRUE(drops >= 1);
	ASSERT_TRUE(conns >= drops);
	node_close(v);
	node_close(c);
}

/* --- 2. a 2G link ------------------------------------------------------ */

static void case_2g(const char *net, int entries)
{
	struct daemon_proc pv, pc, px;
	struct node *v, *c;
	char line[512];
	uint64_t conns, drops, up, down;
	long long t0, ms;

	TEST_START("a sync over a 2G link (10 KB/s, 300 ms round trip) completes; its bytes and time are printed");
	make_pair(net, "2g", &pv, &pc, &v, &c);
	daemon_proc_init(&px, dir, "2g-proxy");
	/* health profiles of about 300 bytes */
	put_bulk(v, 0, entries, 230);
	village_start(&pv);
	proxy_start(&px, pv.port,
		    (const char *const[]){ "--rate", "10000", "--delay", "150",
					   "--max-seconds", "600", NULL });
	t0 = now_ms();
	commune_start(&pc, px.port, 0);
	ASSERT_TRUE(wait_same(v, c, 300000) >= 0);
	ms = now_ms() - t0;
	ASSERT_EQ(feed_head(c, v), entries);
	ASSERT_EQ(stop_with(&pc, SIGTERM), 0);
	ASSERT_EQ(stop_with(&pv, SIGTERM), 0);
	proxy_stop(&px, line, sizeof(line), &conns, &drops, &up, &down);
	fprintf(stderr,
		"   %d entries in %.1f s: %llu bytes commune->village, %llu bytes village->commune (%.0f bytes per entry), %llu connection(s)\n",
		entries, ms / 1000.0, (unsigned long long)up,
		(unsigned long long)down,
		entries ? (double)(up + down) / entries : 0.0,
		(unsigned long long)conns);
	ASSERT_EQ(drops, 0);
	node_close(v);
	node_close(c);
}

/* --- 3. kill -9 of the receiver ---------------------------------------- */

/* Open the commune's store read-only (no daemon runs), audit it, and
 * return how many of the village's entries it holds. */
static uint64_t audit_commune(const struct daemon_proc *pc, const struct node *v)
{
	struct audit_report rep;
	struct node *c;
	char why[256];
	uint64_t held;
	int r;
	if ((r = node_open(pc->home, 1, &c, why, sizeof(why))) < 0)
		fprintf(stderr, "   node_open: %s\n", why);
	ASSERT_OK(r);
	memset(&rep, 0, sizeof(rep));
	ASSERT_OK(audit_store(c->st, c->net.id, &rep));
	if (audit_failed(&rep))
		fprintf(stderr,
			"   audit: %llu bad signatures, %llu chain breaks, %llu gaps, %llu forks, %llu held, %llu bodies missing\n",
			(unsigned long long)rep.bad_signatures,
			(unsigned long long)rep.chain_breaks,
			(unsigned long long)rep.gaps,
			(unsigned long long)rep.forks,
			(unsigned long long)rep.held,
			(unsigned long long)rep.bodies_missing);
	ASSERT_EQ(audit_failed(&rep), 0);
	held = feed_head(c, v);
	/* the commune writes nothing itself: all it holds is the village's */
	ASSERT_EQ(rep.entries, held);
	audit_report_close(&rep);
	node_close(c);
	return held;
}

static void case_kills(const char *net, int entries, unsigned seed)
{
	struct daemon_proc pv, pc;
	struct node *v, *c;
	struct daemon_status fv, fc;
	uint64_t held = 0, prev = 0, sent_prev = 0, resent, dups_logged, mid = 0;
	long long t0, ms;
	char hex[65];
	uint8_t dv[32];

	TEST_START("the receiver killed with SIGKILL at 20 points of a sync keeps a sound store, and the sync completes");
	make_pair(net, "kill", &pv, &pc, &v, &c);
	/* only the daemon may have the commune's store open from now on */
	node_close(c);
	put_bulk(v, 0, entries, 0);
	village_start(&pv);
	srand(seed);
	t0 = now_ms();
	for (int k = 0; k < KILLS; k++) {
		/*
		 * A random point of the sync: a random number of entries sent
		 * in this run, or a random 100-1500 ms, whichever comes
		 * first. Up to two batches are in flight, not yet committed,
		 * so the number runs from half the largest batch to that batch
		 * plus 4/5 of an even share of the sync: every kill falls
		 * inside it, spread over it.
		 */
		int cap = 100 + rand() % 1401;
		uint64_t goal = SYNC_BATCH_MAX / 2 +
				(uint64_t)rand() %
					(SYNC_BATCH_MAX / 2 +
					 2 * (uint64_t)entries * 4 / (5 * KILLS));
		uint64_t lost;
		struct daemon_status fk;
		long long ts;
		commune_start(&pc, pv.port, 1);
		ts = now_ms();
		/* sent in this run, from the village's figures: the receiver
		 * commits several batches at once, so its store moves in
		 * steps too coarse to place a kill by */
		for (;;) {
			rpc_figures(pv.sock, &fv);
			if (now_ms() - ts >= cap ||
			    fv.entries_out >= sent_prev + goal)
				break;
			sleep_ms(5);
		}
		/* the batch size the commune grants at this point */
		rpc_figures(pc.sock, &fk);
		ASSERT_TRUE(pc.pid > 0);
		daemon_proc_kill(&pc);
		ts = now_ms() - ts;
		/* the village sees the session end; its counters then stay */
		ASSERT_TRUE(wait_connected(pv.sock, 0, 10000));
		rpc_figures(pv.sock, &fv);
		held = audit_commune(&pc, v);
		ASSERT_TRUE(held >= prev);
		ASSERT_TRUE(fv.entries_out >= held);
		if (held < (uint64_t)entries)
			mid++;
		/* sent but not committed when the receiver died */
		lost = (fv.entries_out - held) - (sent_prev - prev);
		fprintf(stderr,
			"   kill %2d after %4lld ms: %6llu entries held, %4llu sent were lost in flight (batches of %llu)\n",
			k + 1, ts, (unsigned long long)held,
			(unsigned long long)lost,
			(unsigned long long)fk.batch_credit);
		/* in flight means SYNC_INFLIGHT batches at most */
		ASSERT_TRUE(lost <= SYNC_INFLIGHT * SYNC_BATCH_MAX);
		prev = held;
		sent_prev = fv.entries_out;
	}
	fprintf(stderr, "   %llu of %d kills fell before the sync was complete\n",
		(unsigned long long)mid, KILLS);
	ASSERT_TRUE(mid >= KILLS / 2);
	commune_start(&pc, pv.port, 1);
	{
		/* the commune's digest over RPC against the village's */
		long long t1 = now_ms();
		th_digest(v, dv);
		hex_encode(dv, 32, hex);
		for (;;) {
			rpc_figures(pc.sock, &fc);
			if (strcmp(fc.digest, hex) == 0)
				break;
			ASSERT_TRUE(now_ms() - t1 < 240000);
			sleep_ms(250);
		}
	}
	ms = now_ms() - t0;
	ASSERT_STREQ(fc.digest, hex);
	rpc_figures(pv.sock, &fv);
	rpc_figures(pc.sock, &fc);
	ASSERT_EQ(stop_with(&pc, SIGTERM), 0);
	ASSERT_EQ(stop_with(&pv, SIGTERM), 0);
	ASSERT_EQ(audit_commune(&pc, v), entries);

	/*
	 * The village is never killed: its entries_out spans every session.
	 * What it sent beyond the entries there are was sent more than once:
	 * the batch in flight when the receiver died (one at most) and
	 * entries the receiver already held. The latter are the waste the
	 * receiver counts (entries_dup_in, logged per batch so killed runs
	 * count too).
	 */
	ASSERT_TRUE(fv.entries_out >= (uint64_t)entries);
	resent = fv.entries_out - (uint64_t)entries;
	dups_logged = dup_logged(pc.logf);
	fprintf(stderr,
		"   %d entries, %d kills, %.1f s in all; the village sent %llu entries: %llu more than once (%.0f per kill); the commune got %llu it already held (%llu in its last run)\n",
		entries, KILLS, ms / 1000.0,
		(unsigned long long)fv.entries_out, (unsigned long long)resent,
		(double)resent / KILLS, (unsigned long long)dups_logged,
		(unsigned long long)fc.entries_dup_in);
	ASSERT_TRUE(dups_logged >= fc.entries_dup_in);
	/* entries the receiver had committed are never sent again... */
	ASSERT_TRUE(dups_logged <= (uint64_t)KILLS * WIRE_MAX_BATCH);
	/* ...and what was in flight is two batches per kill at most */
	ASSERT_TRUE(resent <=
		    (uint64_t)KILLS * SYNC_INFLIGHT * SYNC_BATCH_MAX);
	node_close(v);
}

int main(int argc, char **argv)
{
	const char *sc = getenv("HAMLET_TEST_SCALE");
	const char *ss = getenv("HAMLET_TEST_SEED");
	const char *only = getenv("HAMLET_TEST_CASES"); /* e.g. "13" */
	int scale = sc ? atoi(sc) : 1;
	unsigned seed = ss ? (unsigned)strtoul(ss, NULL, 10)
			   : (unsigned)time(NULL);
	char *net;

	if (argc != 3) {
		fprintf(stderr,
			"usage: test_faults PATH-TO-HAMLETD PATH-TO-FAULTPROXY\n");
		return 2;
	}
	if (scale < 1)
		scale = 1;
	hamletd = argv[1];
	faultproxy = argv[2];
	(void)testlib_failures;
	/* never outlive ctest's limit with daemons left behind */
	ASSERT_OK(daemon_proc_guard(880));
	fprintf(stderr, "seed %u (HAMLET_TEST_SEED), scale 1/%d\n", seed,
		scale);
	dir = th_tmpdir();
	net = th_network(dir, "testnet");

	if (!only || strchr(only, '2'))
		case_2g(net, 500 / scale);
	if (!only || strchr(only, '1'))
		case_drops(net, 20000 / scale, seed);
	if (!only || strchr(only, '3'))
		case_kills(net, 50000 / scale, seed);

	th_scratch_done(dir, net);
	TEST_DONE();
}
