/*
 * A WANT its holder cannot fill (SPEC 5.7): a peer that asks for entries
 * past what a node holds (a revocation took them out since the node named
 * its head, say) is told the node's head in a FEEDS, 0 for a feed it holds
 * none of; and a node told, in a FEEDS, a head below what it asked toward
 * awaits no more than that head, so its sync ends instead of waiting for
 * entries no peer will send.
 *
 * usage: test_unfilled PATH-TO-HAMLETD
 */
#include "rogue.h"

#include <signal.h>

#define WAIT_MS 20000

static struct noise_cipher tx, rx;
static int fd = -1;

static void send_msg(struct mp_writer *w)
{
	rogue_send(fd, &tx, w);
	mp_writer_destroy(w);
	mp_writer_init(w);
}

/*
 * Read what the daemon sends for at most WAIT_MS (and 400 messages), until
 * a message of type has key at seq (want: a WANT's seq; feeds: an item).
 * 1 when one came.
 */
static int await(int type, const uint8_t key[32], uint64_t seq)
{
	static uint8_t buf[WIRE_MAX_MSG];
	static struct wire_msg m;
	long long t0 = now_ms();
	for (int i = 0; i < 400 && now_ms() - t0 < WAIT_MS; i++) {
		struct mp_doc d;
		long n = rogue_recv(fd, &rx, buf, sizeof(buf));
		int found = 0;
		if (n < 0)
			return 0;
		if (wire_decode(buf, (size_t)n, &d, &m, NULL, 0) < 0)
			continue;
		if (m.type == type && type == WIRE_WANT)
			found = memcmp(m.want.key, key, 32) == 0 &&
				m.want.seq == seq;
		for (size_t k = 0; type == WIRE_FEEDS && m.type == type &&
				   k < m.feeds.nfeeds;
		     k++)
			found |= memcmp(m.feeds.feeds[k].key, key, 32) == 0 &&
				 m.feeds.feeds[k].seq == seq;
		mp_doc_close(&d);
		if (found)
			return 1;
	}
	return 0;
}

/* The daemon's count of entries awaited reaches want within WAIT_MS. */
static int awaits(struct daemon_proc *p, uint64_t want)
{
	long long t0 = now_ms();
	struct daemon_status st;
	do {
		ASSERT_OK(daemon_proc_status(p->sock, 5000, &st));
		if (st.to_receive == want)
			return 1;
		sleep_ms(20);
	} while (now_ms() - t0 < WAIT_MS);
	fprintf(stderr, "   awaits %llu entries, not %llu\n",
		(unsigned long long)st.to_receive, (unsigned long long)want);
	return 0;
}

int main(int argc, char **argv)
{
	struct daemon_proc pb;
	struct node *b, *r;
	struct mp_writer w;
	struct wire_feed f;
	uint8_t kb[32], kr[32], kx[32];
	char *dir, *net;
	int st;

	if (argc != 2) {
		fprintf(stderr, "usage: test_unfilled PATH-TO-HAMLETD\n");
		return 2;
	}
	(void)testlib_failures;
	ASSERT_OK(daemon_proc_guard(200));
	dir = th_tmpdir();
	net = th_network(dir, "ufnet");
	b = th_node(dir, net, "b", "uf");
	r = th_node(dir, net, "r", "uf");
	th_put_people(b, 0, 5); /* b's own feed, seq 1..5 */
	log_feed_key(b->pk, b->scope, kb);
	log_feed_key(r->pk, r->scope, kr);
	randombytes_buf(kx, sizeof(kx)); /* a feed nobody holds */

	daemon_proc_init(&pb, dir, "b");
	ASSERT_OK(daemon_proc_start_listening(&pb, argv[1], NULL, 5));
	fd = rogue_connect_rx(r, pb.port, NULL, &tx, &rx);
	mp_writer_init(&w);
	rogue_hello(&w, r);
	send_msg(&w);

	TEST_START("a WANT past the holder's head is answered with that head");
	ASSERT_OK(wire_put_want(&w, kb, 5));
	send_msg(&w);
	ASSERT_TRUE(await(WIRE_FEEDS, kb, 5));

	TEST_START("a WANT of a feed the holder holds none of is answered with seq 0");
	ASSERT_OK(wire_put_want(&w, kx, 2));
	send_msg(&w);
	ASSERT_TRUE(await(WIRE_FEEDS, kx, 0));

	TEST_START("a head named above ours is asked for, and counted as awaited");
	memcpy(f.key, kr, 32);
	f.seq = 9;
	ASSERT_OK(wire_put_feeds(&w, &f, 1, NULL, 0));
	send_msg(&w);
	ASSERT_TRUE(await(WIRE_WANT, kr, 0));
	ASSERT_TRUE(awaits(&pb, 9));

	TEST_START("named again lower, the head awaited goes down with it");
	f.seq = 4;
	ASSERT_OK(wire_put_feeds(&w, &f, 1, NULL, 0));
	send_msg(&w);
	ASSERT_TRUE(awaits(&pb, 4));

	TEST_START("named at what we hold, nothing is awaited: the sync ended");
	f.seq = 0;
	ASSERT_OK(wire_put_feeds(&w, &f, 1, NULL, 0));
	send_msg(&w);
	ASSERT_TRUE(awaits(&pb, 0));

	TEST_START("the daemon stops cleanly");
	mp_writer_destroy(&w);
	close(fd);
	noise_cipher_wipe(&tx);
	noise_cipher_wipe(&rx);
	ASSERT_OK(daemon_proc_stop(&pb, SIGTERM, WAIT_MS, &st));
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	node_close(b);
	node_close(r);
	th_rmrf(dir);
	free(net);
	free(dir);
	TEST_DONE();
}
