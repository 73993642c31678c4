/*
 * A certified peer that floods TRUST_ITEMS, unasked, as fast as it can
 * write them (each a small message of one item that decodes as nothing):
 *
 * - the daemon's one writer is shared by every peer, the local socket and
 *   HTTP (INGEST_MAX_JOBS queued at most): one peer may hold only a few
 *   of its places, so an honest peer's batch, sent while the flood goes
 *   on, is stored and acknowledged, not refused "the node is busy
 *   storing" (its session closed);
 * - what the flood makes the daemon log is bounded: not a line a message.
 *
 * And a peer that sends tens of thousands of WANTs, of feeds no one holds,
 * while the daemon waits for its ACK: each was looked for in the list of
 * the feeds queued for it, one by one, so that the daemon's loop (every
 * peer, the local socket, HTTP) stopped for many seconds.
 *
 * Before the fix each TRUST_ITEMS took a place in the writer's queue (and
 * a copy of its items) however many of that peer's waited, the queue
 * filled, and everyone else's batches and writes were refused; and each
 * message refused for the full queue, or whose items did not decode,
 * logged its own line.
 *
 * And a peer whose chain the daemon asks for (its HELLO named it by ids not
 * held) that sends 255 TRUST_ITEMS meanwhile: held, then all handled at
 * once when the chain came, they took every place of the writer's queue
 * whatever the peer's share (an honest peer's chain and batch were then
 * refused); the writer is kept waiting by the test's write transaction,
 * so that what is queued stays queued.
 *
 * usage: test_trust_flood PATH-TO-HAMLETD
 * HAMLET_TEST_CASES=2 runs only the second case.
 * Every loop is bounded in count and time.
 */
#include "rogue.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#define FLOOD_MS 8000 /* how long the rogue floods */
#define STOP_MS 30000
#define BURST 2000 /* TRUST_ITEMS messages a write */

/* In a child: log in as n, then write bursts of TRUST_ITEMS for
 * limit_ms without reading. Exits 0 when it wrote at least one burst. */
static pid_t trust_flood_start(struct node *n, int port, int limit_ms)
{
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		static uint8_t junk[64];
		const uint8_t *data[1] = { junk };
		size_t lens[1] = { sizeof(junk) };
		int kinds[1] = { 1 };
		struct noise_cipher tx;
		struct mp_writer w;
		uint8_t key[32], *msg, *all = NULL;
		size_t ml, cap = 0;
		long long t0 = now_ms();
		int fd, bursts = 0;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		memset(junk, 0xA5, sizeof(junk));
		fd = rogue_login(n, port, &tx, &w, key);
		ASSERT_OK(wire_put_trust_items(&w, kinds, data, lens, 1));
		msg = mp_writer_take(&w, &ml);
		fcntl(fd, F_SETFL, O_NONBLOCK);
		for (int b = 0; b < 100000 && now_ms() - t0 < limit_ms; b++) {
			size_t len = 0, off = 0;
			for (int i = 0; i < BURST; i++) {
				uint8_t *fr;
				size_t fl;
				ASSERT_OK(wire_frames_seal(&tx, msg, ml, &fr,
							   &fl));
				if (len + fl > cap) {
					cap = 2 * (len + fl);
					ASSERT_TRUE((all = realloc(all, cap)) !=
						    NULL);
				}
				memcpy(all + len, fr, fl);
				len += fl;
				free(fr);
			}
			/* all of it, as the daemon reads it (bounded) */
			while (off < len && now_ms() - t0 < limit_ms) {
				ssize_t k = send(fd, all + off, len - off,
						 MSG_NOSIGNAL);
				if (k > 0)
					off += (size_t)k;
				else if (k < 0 && errno == EAGAIN)
					sleep_ms(1);
				else
					_exit(bursts > 0 ? 0 : 1);
			}
			bursts += off == len;
		}
		_exit(bursts > 0 ? 0 : 1);
	}
	return pid;
}

/* In a child: log in as n (credit 16), ask for feed key from the start
 * (the daemon sends two batches, then waits for an ACK that never
 * comes), then send count WANTs of distinct keys no store holds, in one
 * write, and stay connected (30 s at most). */
static pid_t want_flood_start(struct node *n, int port, const uint8_t key[32],
			      int count)
{
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		struct noise_cipher tx;
		struct mp_writer w;
		uint8_t mine[32], k[32], *all = NULL;
		size_t len = 0;
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = rogue_login(n, port, &tx, &w, mine);
		ASSERT_OK(wire_put_want(&w, key, 0));
		rogue_send(fd, &tx, &w);
		sleep_ms(500); /* its two batches go out */
		for (int i = 0; i < count; i++) {
			randombytes_buf(k, sizeof(k));
			ASSERT_OK(wire_put_want(&w, k, 0));
			rogue_append(&tx, &w, &all, &len);
		}
		send_all(fd, all, len);
		free(all);
		sleep_ms(30000); /* connected until the test ends it */
		_exit(0);
	}
	return pid;
}

/* Log in as n naming its chain by ids the daemon does not hold (so that it
 * asks for the chain), send count TRUST_ITEMS while it waits for it (they
 * are held, then handled in order when the chain comes), then the chain
 * (CERTS), all in one write. Returns the socket. */
static int early_trust_flood(struct node *n, int port, int count)
{
	static uint8_t junk[64];
	const uint8_t *data[1] = { junk };
	size_t lens[1] = { sizeof(junk) };
	int kinds[1] = { 1 };
	uint8_t ref[1][32], proof[64], certs[CERT_CHAIN_MAX_BYTES];
	uint8_t *all = NULL;
	size_t len = 0, cl = 0;
	struct noise_cipher tx;
	struct mp_writer w;
	char path[4200];
	FILE *f;
	int fd = rogue_connect(n, port, NULL, &tx);

	memset(junk, 0x5A, sizeof(junk));
	randombytes_buf(ref[0], sizeof(ref[0]));
	snprintf(path, sizeof(path), "%s/node.cert", n->home);
	ASSERT_TRUE((f = fopen(path, "rb")) != NULL);
	cl = fread(certs, 1, sizeof(certs), f);
	fclose(f);
	ASSERT_OK(wire_hello_prove(n->sk, rogue_hs_hash, proof));
	mp_writer_init(&w);
	for (int i = 0; i < count + 2; i++) {
		if (i == 0)
			ASSERT_OK(wire_put_hello_ref(&w, NULL, 0, 16, proof,
						     (const uint8_t(*)[32])ref,
						     1));
		else if (i <= count)
			ASSERT_OK(wire_put_trust_items(&w, kinds, data, lens,
						       1));
		else
			ASSERT_OK(wire_put_certs(&w, certs, cl));
		rogue_append(&tx, &w, &all, &len);
	}
	mp_writer_destroy(&w);
	send_all(fd, all, len);
	free(all);
	return fd;
}

/* Wait at most limit_ms until p logged at least n lines holding needle. */
static int wait_log_count(struct daemon_proc *p, const char *needle, int n,
			  int limit_ms)
{
	long long t0 = now_ms();
	while (now_ms() - t0 < limit_ms) {
		if (daemon_proc_log_count(p, needle) >= n)
			return 1;
		sleep_ms(50);
	}
	return daemon_proc_log_count(p, needle) >= n;
}

int main(int argc, char **argv)
{
	struct node *d, *rogue, *honest, *reader, *early;
	struct daemon_proc pd;
	const char *hamletd, *cases = "123";
	long long t0;
	char *dir, *net;
	int st, served = 0, refused = 0, lines;
	pid_t fp;

	if (argc != 2) {
		fprintf(stderr, "usage: test_trust_flood PATH-TO-HAMLETD\n");
		return 2;
	}
	hamletd = argv[1];
	if (getenv("HAMLET_TEST_CASES"))
		cases = getenv("HAMLET_TEST_CASES");
	(void)testlib_failures;
	dir = th_tmpdir();
	net = th_network(dir, "trustflood");
	d = th_node(dir, net, "d", "bk/bt/qt");
	rogue = th_node(dir, net, "rogue", "bk/bt/qt/na-pai");
	honest = th_node(dir, net, "honest", "bk/bt/qt/khuoi-ma");
	/* it may read d's feed: d streams it to it */
	reader = th_node(dir, net, "reader", "bk/bt/qt");
	early = th_node(dir, net, "early", "bk/bt/qt/ban-bo");
	put_profiles(honest, 0, 20);
	put_profiles(d, 0, 100);
	daemon_proc_init(&pd, dir, "d");
	ASSERT_OK(daemon_proc_guard(240));

	if (strchr(cases, '1')) {
	TEST_START("a peer floods TRUST_ITEMS for 8 s: an honest peer's batches are stored meanwhile, and the log does not grow a line a message");
	ASSERT_OK(daemon_proc_start_listening(&pd, hamletd, NULL, 5));
	fp = trust_flood_start(rogue, pd.port, FLOOD_MS);
	t0 = now_ms();
	sleep_ms(1000); /* the flood is in full swing */
	/* bounded: 30 tries, and while the flood lasts */
	for (int i = 0; i < 30 && now_ms() - t0 < FLOOD_MS - 1500; i++) {
		/* one batch of one entry; an answer (ACK) keeps the session,
		 * a full writer closes it ("the node is busy storing") */
		int fd = rogue_batches(honest, pd.port, 1);
		if (wait_closed(fd, 1500))
			refused++;
		else
			served++;
		close(fd);
		sleep_ms(100);
	}
	ASSERT_EQ(waitpid(fp, &st, 0), fp);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0); /* it flooded */
	/* "trust items dropped for now", "... not stored", "certificate
	 * refused: ..." */
	lines = daemon_proc_log_count(&pd, "trust items") + daemon_proc_log_count(&pd, " refused: ");
	fprintf(stderr,
		"   the honest peer's batch: %d served, %d refused; %d log lines of \"busy storing\", %d of trust items\n",
		served, refused, daemon_proc_log_count(&pd, "busy storing"), lines);
	ASSERT_TRUE(served > 0);
	ASSERT_EQ(refused, 0);
	ASSERT_TRUE(!daemon_proc_log_has(&pd, "busy storing"));
	ASSERT_TRUE(lines < 50);
	/* and it still serves */
	{
		struct daemon_status ds;
		status_of(pd.sock, 5000, &ds);
	}
	ASSERT_EQ(proc_stop(&pd, SIGTERM, STOP_MS), 0);
	}

	if (strchr(cases, '2')) {
	TEST_START("a peer sends 60,000 WANTs of feeds no one holds while its two batches wait for its ACK: the daemon's loop is not held up (the local socket answers each request within its usual 5 s)");
	{
		uint8_t key[32];
		log_feed_key(d->pk, d->scope, key);
		ASSERT_OK(daemon_proc_start_listening(&pd, hamletd, NULL, 5));
		fp = want_flood_start(reader, pd.port, key, 60000);
		sleep_ms(1500); /* logged in, the WANTs on their way */
		/* bounded: 40 status requests, 20 s at most; each must be
		 * answered within the local socket's usual wait (a loop
		 * held for seconds by the WANTs, as before, misses it) */
		t0 = now_ms();
		for (int i = 0; i < 40 && now_ms() - t0 < 20000; i++) {
			struct daemon_status ds;
			status_of(pd.sock, 5000, &ds);
			sleep_ms(50);
		}
		kill(fp, SIGKILL);
		ASSERT_EQ(waitpid(fp, &st, 0), fp);
		ASSERT_EQ(proc_stop(&pd, SIGTERM, STOP_MS), 0);
	}
	}

	if (strchr(cases, '3')) {
	TEST_START("a peer whose chain is asked for sends 255 TRUST_ITEMS before it: handled when the chain comes, they hold no more of the writer's places than any peer's (an honest peer's chain and batch are still queued)");
	{
		struct store_txn *wt;
		int efd, hfd;
		ASSERT_OK(daemon_proc_start_listening(&pd, hamletd, NULL, 5));
		/* the writer waits for our write transaction: what is queued
		 * for it stays queued while we look */
		ASSERT_OK(store_txn_begin(d->st, 0, &wt));
		efd = early_trust_flood(early, pd.port, 255); /* SYNC_EARLY_MAX - 1 */
		/* its chain came: "connected", then the held messages,
		 * handled in the same turn */
		ASSERT_TRUE(wait_log_count(&pd, "connected (", 1, 10000));
		hfd = rogue_batches(honest, pd.port, 1);
		ASSERT_TRUE(wait_log_count(&pd, "connected (", 2, 10000));
		fprintf(stderr, "   honest peer's chain %s; batch %s\n",
			daemon_proc_log_has(&pd, "could not be queued")
				? "NOT queued" : "queued",
			daemon_proc_log_has(&pd, "busy storing")
				? "refused" : "not refused");
		ASSERT_TRUE(!daemon_proc_log_has(&pd, "could not be queued"));
		store_txn_abort(wt);
		close(hfd);
		close(efd);
		ASSERT_EQ(proc_stop(&pd, SIGTERM, STOP_MS), 0);
	}
	}

	node_close(d);
	node_close(rogue);
	node_close(early);
	node_close(honest);
	node_close(reader);
	th_scratch_done(dir, net);
	fprintf(stderr, "all trust flood tests passed\n");
	return 0;
}
