/*
 * hamletd under sustained attack on loopback, as a security review ran it:
 *
 * - 200 connections that never send the network key, opened and re-opened
 *   for 12 s, while one daemon syncs 20,000 entries to another: the sync
 *   completes, a third (honest) peer from the same address gets its
 *   session while the flood goes on, and the flooded daemon's RSS stays
 *   under 64 MB;
 * - for 15 s, a peer that asks and never reads and a local-socket client
 *   that asks and never reads, both coming back each time they are
 *   dropped: both are dropped with a log line and the daemon's RSS stays
 *   under 64 MB;
 * - for 12 s (past the 10 s handshake limit), 40 connections that hold
 *   the network key but no certificate, each a fresh key that completes
 *   the handshake and then sends nothing, re-opened as they are closed,
 *   against a daemon with max_peers = 8: a certified peer still gets its
 *   session meanwhile, and the flood is neither logged line by line nor
 *   backed off.
 *
 * Each flood lasts long enough for its bound to be met and then held:
 * the floods of the first and the third run for 12 s and until the peer
 * that must get in meanwhile is in (60 s at most: a slow machine makes
 * the wait longer, not the test fail), and the test checks that the
 * flood was still on when it got in; the peer that never reads is
 * dropped within seconds (then backed off for 30 s), the socket client
 * dozens of times. The strangers' flood outlasts the 10 s handshake
 * limit. HAMLET_TEST_SOAK=1 runs them for 30, 60 and 20 s at least.
 *
 * usage: test_flood PATH-TO-HAMLETD
 * Under AddressSanitizer or ThreadSanitizer the bound is on the growth
 * of the memory not mapped from files (the sanitizer's shadow, and
 * AddressSanitizer's quarantine, are not the daemon's).
 */
#include "rogue.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#define MB (1024L) /* in kB, as /proc gives RSS */
#define FLOOD_CONNS 200
#define SYNC_ENTRIES 20000
#define STRANGERS 40
/* the longest a flood is held, waiting for what must get in meanwhile */
#define FLOOD_MAX_MS 60000
/* a daemon's stop (LeakSanitizer's scan at exit takes long on a loaded
 * machine) */
#define STOP_MS 30000

/* how long each flood runs (HAMLET_TEST_SOAK: the longer soak) */
static int flood_ms = 12000, hoard_ms = 15000, strangers_ms = 12000;

static const char *hamletd;
static char *dir;

/* The most memory a process held, sampled: all of it, and the part not
 * mapped from files (the store's pages are). */
struct peak {
	long rss, anon, anon_before;
	long rss_nostore; /* RSS without the store file's pages */
};

static void sample(pid_t pid, struct peak *p)
{
	long kb = rss_kb(pid), anon = rss_anon_kb(pid);
	long ns = kb - rss_store_kb(pid);
	if (kb > p->rss)
		p->rss = kb;
	if (anon > p->anon)
		p->anon = anon;
	if (ns > p->rss_nostore)
		p->rss_nostore = ns;
}

/*
 * The bound every figure here is held to: RSS under 64 MB, not counting
 * the pages mapped from the store's data file (page cache that grows with
 * what is stored, such as the changes table, not with what a peer makes
 * the daemon hold). Under
 * AddressSanitizer, whose shadow, redzones and quarantine are not the
 * daemon's, the bound is on the growth of the memory not mapped from files
 * and twice as loose, as in the socket test of test_daemon.c: that build
 * is there to find memory errors, the normal build holds the bound.
 */
static void assert_rss_bound(const char *who, const struct peak *p)
{
	fprintf(stderr,
		"   %s: RSS at most %ld kB (%ld kB without the store file's pages), of which not from files %ld kB (%ld before)\n",
		who, p->rss, p->rss_nostore, p->anon, p->anon_before);
	ASSERT_TRUE(p->rss > 0 && p->anon > 0 && p->anon_before > 0);
#if defined(__SANITIZE_THREAD__)
	/* ThreadSanitizer shadows each byte the heap touched with four
	 * (164 MB of growth seen where AddressSanitizer sees under 128) */
	ASSERT_TRUE(p->anon - p->anon_before < 4 * 128 * MB);
#elif defined(__SANITIZE_ADDRESS__)
	ASSERT_TRUE(p->anon - p->anon_before < 128 * MB);
#else
	ASSERT_TRUE(p->rss_nostore > 0 && p->rss_nostore < 64 * MB);
#endif
}

/* 1 when n holds every entry author wrote in its own scope (others,
 * like the third peer's, may arrive at n meanwhile). */
static int holds_all_of(struct node *n, struct node *author, uint64_t count)
{
	struct store_txn *t;
	struct log_feed f;
	uint8_t key[32];
	int r;
	log_feed_key(author->pk, author->scope, key);
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	r = log_feed_get(t, key, &f);
	store_txn_abort(t);
	return r == 0 && f.seq == count;
}

/*
 * In a child process, for limit_ms: a local-socket client that sends
 * ["status"] without reading, connecting again each time it is dropped.
 * Exits 0 when it was dropped at least once.
 */
static pid_t sock_hoard_start(const char *sock, int limit_ms)
{
	static const uint8_t req[12] = { 0, 0, 0, 8, 0x91, 0xa6, 's', 't',
					 'a', 't', 'u', 's' };
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		long long t0 = now_ms();
		int drops = 0;
		while (now_ms() - t0 < limit_ms) {
			int fd = unix_connect(sock), small = 4096;
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small,
				   sizeof(small));
			fcntl(fd, F_SETFL, O_NONBLOCK);
			for (int i = 0; i < 5000000 && now_ms() - t0 < limit_ms;
			     i++) {
				ssize_t k = send(fd, req, sizeof(req),
						 MSG_NOSIGNAL);
				if (k < 0 && errno == EAGAIN) {
					sleep_ms(1);
				} else if (k < 0) {
					drops++; /* EPIPE, ECONNRESET */
					break;
				}
			}
			close(fd);
			sleep_ms(200);
		}
		_exit(drops > 0 ? 0 : 1);
	}
	return pid;
}

/*
 * In a child process, for limit_ms: a peer (node n) that logs in, asks
 * FEEDS of key over and over and never reads; each time it is dropped it
 * tries again a second later (refused while backed off).
 */
static pid_t peer_hoard_start(struct node *n, int port, const uint8_t key[32],
			      pid_t daemon, int limit_ms)
{
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		long long t0 = now_ms();
		for (int i = 0; i < 120 && now_ms() - t0 < limit_ms; i++) {
			/* one attempt per grandchild: a refused handshake
			 * ends it, not this loop */
			pid_t g = fork();
			int st;
			if (g == 0) {
				long peak;
				int left = (int)(limit_ms - (now_ms() - t0));
				int fd = rogue_hoard(n, port, key, daemon,
						     left > 0 ? left : 1,
						     &peak);
				close(fd);
				_exit(0);
			}
			if (g < 0 || waitpid(g, &st, 0) != g)
				_exit(1);
			sleep_ms(1000);
		}
		_exit(0);
	}
	return pid;
}

/*
 * Start pt as a peer of pd, 2 s into the floods (nf of them, begun at
 * t0), and wait for its session while they go on (FLOOD_MAX_MS from t0
 * at most). The ms it took, or -1; *ret_flooding: every flood still on
 * when it was in.
 */
static long long peer_in_during(struct daemon_proc *pt,
				const struct daemon_proc *pd,
				struct flood *floods, int nf, long long t0,
				int *ret_flooding)
{
	long long t_peer;
	int on = 1;
	*ret_flooding = 0;
	sleep_ms(2000); /* every handshake slot held by one of them */
	t_peer = now_ms();
	ASSERT_OK(daemon_proc_start(
		pt, hamletd, 0, (const char *const[]){ "--peer", pd->addr, NULL }));
	/* bounded: the flood's longest; rounds of 100 ms at least */
	for (int i = 0; i < 600 && on && now_ms() - t0 < FLOOD_MAX_MS; i++) {
		if (daemon_proc_wait_connected(pt->sock, 1, 1000) == 0) {
			long long in = now_ms() - t_peer;
			*ret_flooding = 1;
			for (int k = 0; k < nf; k++)
				*ret_flooding &= flood_running(&floods[k]);
			return in;
		}
		for (int k = 0; k < nf; k++)
			on &= flood_running(&floods[k]);
		sleep_ms(100);
	}
	return -1;
}

/*
 * With two floods f begun against pd at t0: a peer (pt) has its session
 * while they go on, and pd's socket answers, with the peer connected.
 * Ends the floods, pt and pd.
 */
static void peer_and_socket_during(struct daemon_proc *pt,
				   struct daemon_proc *pd, struct flood f[2],
				   long long t0)
{
	int flooding_at_in, st;
	long long t_in = peer_in_during(pt, pd, f, 2, t0, &flooding_at_in);
	if (t_in >= 0) {
		/* a client of its own among a flood's: it takes the
		 * place of one that asks nothing */
		struct daemon_status ds;
		status_of(pd->sock, 10000, &ds);
		ASSERT_EQ(ds.connected, 1);
		ASSERT_TRUE(flood_running(&f[0]) && flood_running(&f[1]));
	}
	for (int k = 0; k < 2; k++) {
		st = flood_end(&f[k]);
		ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	fprintf(stderr, "   the peer in after %lld ms, the floods %s then\n",
		t_in, flooding_at_in ? "still on" : "over");
	ASSERT_TRUE(t_in >= 0);
	ASSERT_TRUE(flooding_at_in);
	ASSERT_EQ(proc_stop(pt, SIGTERM, STOP_MS), 0);
	ASSERT_EQ(proc_stop(pd, SIGTERM, STOP_MS), 0);
}

int main(int argc, char **argv)
{
	struct node *src, *dst, *third, *hoarder, *target;
	struct daemon_proc ps, pd, pt, ph;
	char *net;
	int st;

	if (argc != 2) {
		fprintf(stderr, "usage: test_flood PATH-TO-HAMLETD\n");
		return 2;
	}
	hamletd = argv[1];
	(void)testlib_failures;
	if (getenv("HAMLET_TEST_SOAK")) {
		flood_ms = 30000;
		hoard_ms = 60000;
		strangers_ms = 20000;
	}
	dir = th_tmpdir();
	net = th_network(dir, "floodnet");
	src = th_node(dir, net, "src", "bk/bt/qt/na-pai");
	dst = th_node(dir, net, "dst", "bk/bt/qt");
	third = th_node(dir, net, "third", "bk/bt/qt/khuoi-ma");
	/* it may read the target's feed, so the target answers it */
	hoarder = th_node(dir, net, "hoarder", "bk/bt/qt");
	target = th_node(dir, net, "target", "bk/bt/qt");
	put_profiles(src, 0, SYNC_ENTRIES);
	put_profiles(third, SYNC_ENTRIES, 10);
	put_profiles(target, 0, 50);
	daemon_proc_init(&ps, dir, "src");
	daemon_proc_init(&pd, dir, "dst");
	daemon_proc_init(&pt, dir, "third");
	daemon_proc_init(&ph, dir, "target");
	ASSERT_OK(daemon_proc_guard(480));

	TEST_START("200 connections without the network key for 12 s: a 20,000-entry sync completes, a third peer gets in while the flood goes on, RSS stays under 64 MB");
	{
		struct peak peak = { 0 };
		long long t0, t_third = 0, t_synced = -1, t_in = -1;
		struct flood flood;
		int flooding_at_in = 0;
		ASSERT_OK(daemon_proc_start_listening(&pd, hamletd, NULL, 5));
		peak.anon_before = rss_anon_kb(pd.pid);
		/* held until the third peer is in (FLOOD_MAX_MS at most),
		 * and flood_ms at least */
		flood_start(&flood, pd.port, FLOOD_CONNS, FLOOD_MAX_MS);
		t0 = now_ms();
		sleep_ms(2000); /* the flood is in full swing */
		ASSERT_OK(daemon_proc_start(
			&ps, hamletd, 0,
			(const char *const[]){ "--peer", pd.addr, NULL }));
		/* bounded: the flood's longest and 60 s more for the sync;
		 * rounds of 100 ms at least */
		for (int i = 0; i < 1200 && now_ms() - t0 < FLOOD_MAX_MS + 60000;
		     i++) {
			sample(pd.pid, &peak);
			if (!t_third && now_ms() - t0 >= 5000) {
				ASSERT_OK(daemon_proc_start(
					&pt, hamletd, 0,
					(const char *const[]){ "--peer",
							       pd.addr, NULL }));
				t_third = now_ms();
			}
			if (t_third && t_in < 0 &&
			    daemon_proc_wait_connected(pt.sock, 1, 1000) == 0) {
				t_in = now_ms() - t_third;
				flooding_at_in = flood_running(&flood);
			}
			/* the flood ended at its bound, the third not in:
			 * it failed (asserted below) */
			if (t_in < 0 && !flood_running(&flood))
				break;
			if (t_in >= 0 && now_ms() - t0 >= flood_ms)
				flood_end(&flood);
			if (t_synced < 0 && holds_all_of(dst, src, SYNC_ENTRIES))
				t_synced = now_ms() - t0;
			if (t_synced >= 0 && t_in >= 0 && flood.ended)
				break;
			sleep_ms(100);
		}
		st = flood_end(&flood);
		ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0); /* it flooded */
		fprintf(stderr,
			"   %d entries synced %lld ms after the flood began; the third peer in after %lld ms, the flood %s\n",
			SYNC_ENTRIES, t_synced, t_in,
			flooding_at_in ? "still on" : "over");
		ASSERT_TRUE(t_synced >= 0);
		/* in while the flood filled the listen backlog */
		ASSERT_TRUE(t_in >= 0);
		ASSERT_TRUE(flooding_at_in);
		assert_rss_bound("the flooded daemon", &peak);
		ASSERT_TRUE(!daemon_proc_log_has(&ps, "dropped:"));
		ASSERT_TRUE(!daemon_proc_log_has(&pt, "dropped:"));
		ASSERT_EQ(proc_stop(&pt, SIGTERM, STOP_MS), 0);
		ASSERT_EQ(proc_stop(&ps, SIGTERM, STOP_MS), 0);
		ASSERT_EQ(proc_stop(&pd, SIGTERM, STOP_MS), 0);
	}

	TEST_START("a peer and a socket client that ask and never read, for 15 s: both dropped with a log line, RSS stays under 64 MB");
	{
		struct peak peak = { 0 };
		long long t0;
		uint8_t key[32];
		pid_t hp, hs;
		log_feed_key(target->pk, target->scope, key);
		ASSERT_OK(daemon_proc_start_listening(&ph, hamletd, NULL, 5));
		peak.anon_before = rss_anon_kb(ph.pid);
		t0 = now_ms();
		hp = peer_hoard_start(hoarder, ph.port, key, ph.pid, hoard_ms);
		hs = sock_hoard_start(ph.sock, hoard_ms);
		while (now_ms() - t0 < hoard_ms) {
			sample(ph.pid, &peak);
			sleep_ms(100);
		}
		ASSERT_EQ(waitpid(hp, &st, 0), hp);
		ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		ASSERT_EQ(waitpid(hs, &st, 0), hs);
		/* the client was dropped at least once */
		ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		fprintf(stderr,
			"   the peer dropped %d time(s), the socket client %d time(s)\n",
			daemon_proc_log_count(&ph, "does not read:"),
			daemon_proc_log_count(&ph, "does not read its answers"));
		ASSERT_TRUE(daemon_proc_log_has(&ph, "does not read:"));
		ASSERT_TRUE(daemon_proc_log_has(&ph, "does not read its answers"));
		assert_rss_bound("the daemon asked without reading", &peak);
		/* and it still serves */
		{
			struct daemon_status ds;
			status_of(ph.sock, 5000, &ds);
			ASSERT_EQ(ds.records, 50);
		}
		ASSERT_EQ(proc_stop(&ph, SIGTERM, STOP_MS), 0);
	}

	TEST_START("64 connections that each begin a handshake message and never finish it: a peer gets in while they go on");
	{
		/* a length of 48 bytes, then 5 of them: no key needed */
		static const uint8_t begun[] = { 0x00, 0x30, 'A', 'A', 'A',
						 'A', 'A' };
		struct flood flood;
		long long t0 = now_ms();
		int in, flooding_at_in;
		ASSERT_OK(daemon_proc_start_listening(&pd, hamletd, NULL, 5));
		flood_start_with(&flood, pd.port, 64, FLOOD_MAX_MS, begun,
				 sizeof(begun));
		in = peer_in_during(&pt, &pd, &flood, 1, t0, &flooding_at_in) >= 0;
		st = flood_end(&flood);
		ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0); /* it flooded */
		ASSERT_TRUE(in);
		ASSERT_TRUE(flooding_at_in);
		ASSERT_EQ(proc_stop(&pt, SIGTERM, STOP_MS), 0);
		ASSERT_EQ(proc_stop(&pd, SIGTERM, STOP_MS), 0);
	}

	TEST_START("two floods of 64 silent connections that connect again the moment they are closed: a peer gets in while they go on, and the daemon answers its socket");
	{
		/* accepting such a flood never runs out of connections to
		 * accept: hamletd takes HAMLETD_ACCEPTS_PER_TURN a turn of
		 * its loop, its reads and timers in between */
		struct flood f[2];
		long long t0 = now_ms();
		ASSERT_OK(daemon_proc_start_listening(&pd, hamletd, NULL, 5));
		flood_start_paced(&f[0], pd.port, 64, FLOOD_MAX_MS, NULL, 0, 0);
		flood_start_paced(&f[1], pd.port, 64, FLOOD_MAX_MS, NULL, 0, 0);
		peer_and_socket_during(&pt, &pd, f, t0);
	}

	TEST_START("two floods of 64 connections to the local socket that connect again the moment they are closed: a peer gets its session, and the socket still answers");
	{
		struct flood f[2];
		long long t0 = now_ms();
		ASSERT_OK(daemon_proc_start_listening(&pd, hamletd, NULL, 5));
		flood_start_local(&f[0], pd.sock, 64, FLOOD_MAX_MS);
		flood_start_local(&f[1], pd.sock, 64, FLOOD_MAX_MS);
		peer_and_socket_during(&pt, &pd, f, t0);
	}

	TEST_START("40 silent connections with the network key and no certificate, max_peers = 8: a certified peer gets its session while they are held open");
	{
		const char *extra[] = { "--config", NULL, NULL };
		char conf[4096];
		long long t0;
		int in = 0, flooding_at_in = 0;
		struct flood flood;
		FILE *f;
		snprintf(conf, sizeof(conf), "%s/strangers.conf", dir);
		ASSERT_TRUE((f = fopen(conf, "w")) != NULL);
		fprintf(f, "[limits]\nmax_peers = 8\n");
		fclose(f);
		extra[1] = conf;
		ASSERT_OK(daemon_proc_start_listening(&pd, hamletd, extra, 5));
		/* held until the peer is in (FLOOD_MAX_MS at most), and
		 * strangers_ms at least: past the 10 s handshake limit */
		flood_strangers_start(&flood, dst, pd.port, STRANGERS,
				      FLOOD_MAX_MS);
		t0 = now_ms();
		sleep_ms(2000); /* the flood is in full swing */
		ASSERT_OK(daemon_proc_start(
			&pt, hamletd, 0,
			(const char *const[]){ "--peer", pd.addr, NULL }));
		/* in while the flood still runs; before the fix every
		 * max_peers slot was held by a stranger until its 10 s
		 * HELLO limit, and the peer was refused "too many
		 * connections" for as long as the flood went on (bounded:
		 * the flood's longest, 1000 x 500 ms at most) */
		for (int i = 0; i < 1000 && !in && flood_running(&flood) &&
				now_ms() - t0 < FLOOD_MAX_MS;
		     i++) {
			if (daemon_proc_wait_connected(pt.sock, 1, 500) == 0) {
				in = 1;
				flooding_at_in = flood_running(&flood);
			} else {
				sleep_ms(20); /* no socket yet: not at once */
			}
		}
		/* the flood held open past the handshake limit */
		for (int i = 0; i < 600 && flood_running(&flood) &&
				now_ms() - t0 < strangers_ms;
		     i++)
			sleep_ms(100);
		st = flood_end(&flood);
		fprintf(stderr, "   the certified peer %s, the flood %s then\n",
			in ? "in" : "not in",
			flooding_at_in ? "still on" : "over");
		/* it completed a handshake for each of its 40 and more */
		ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		ASSERT_TRUE(in);
		ASSERT_TRUE(flooding_at_in);
		/* a key that never showed a certificate is not backed off,
		 * and refusals are not logged one by one */
		ASSERT_TRUE(!daemon_proc_log_has(&pd, "no HELLO in time"));
		ASSERT_TRUE(!daemon_proc_log_has(&pd, "backed off"));
		ASSERT_TRUE(!daemon_proc_log_has(&pd, "too many connections"));
		ASSERT_TRUE(!daemon_proc_log_has(&pt, "dropped:"));
		ASSERT_EQ(proc_stop(&pt, SIGTERM, STOP_MS), 0);
		ASSERT_EQ(proc_stop(&pd, SIGTERM, STOP_MS), 0);
	}

	node_close(src);
	node_close(dst);
	node_close(target);
	node_close(third);
	node_close(hoarder);
	th_scratch_done(dir, net);
	fprintf(stderr, "all flood tests passed\n");
	return 0;
}
