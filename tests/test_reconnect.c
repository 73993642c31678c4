/*
 * A reconnection costs what changed (SPEC 5.6): two hamletd that hold
 * the same 1,000 feeds agree (STATE) and keep a basis; after 10 feeds
 * moved on one side while apart, the next session exchanges SINCE and
 * one TAKE for those 10 alone, with no Negentropy message either way;
 * when each side moved other feeds, each takes the other's. When
 * one side has lost its basis, the two fall back to a full
 * reconciliation and still converge. From the second session on, each
 * HELLO names its chain by its certificates' ids; a receiver that no
 * longer holds them asks for the chain (CERTS_WANT, CERTS) and the session
 * still completes; a reference to a chain that does not hold for the
 * sender, or CERTS out of turn, is refused.
 *
 * usage: test_reconnect PATH-TO-HAMLETD
 */
#include "bench_util.h"
#include "daemon_util.h"
#include "helpers.h"
#include "peerbase.h"
#include "rogue.h"
#include "trustset.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define FEEDS_T 1000
#define DIFFER 10
#define WAIT_MS 30000

static struct node *a, *b, *r1, *r2;
static struct cert_chain cha; /* a's */

/* n holds every entry of v[0..nv). */
static int holds_all(struct node *n, const struct bench_entry *v, size_t nv)
{
	size_t k = 0;
	for (size_t i = 0; i < nv; i++)
		k += bench_holds(n, &v[i]) == 1;
	return k == nv;
}

static void wait_holds(struct node *n, const struct bench_entry *v, size_t nv)
{
	long long t0 = now_ms();
	while (!holds_all(n, v, nv)) {
		ASSERT_TRUE(now_ms() - t0 < WAIT_MS);
		sleep_ms(20);
	}
}

/* Both daemons kept a basis since the figures s0a, s0b. */
static void wait_agreed(struct daemon_proc *pa, struct daemon_proc *pb,
			const struct daemon_status *s0a,
			const struct daemon_status *s0b)
{
	long long t0 = now_ms();
	struct daemon_status sa, sb;
	for (;;) {
		status_of(pa->sock, 5000, &sa);
		status_of(pb->sock, 5000, &sb);
		if (sa.agreed > s0a->agreed && sb.agreed > s0b->agreed)
			return;
		ASSERT_TRUE(now_ms() - t0 < WAIT_MS);
		sleep_ms(50);
	}
}

/*
 * The session since s0a, s0b agrees again on the new heads (which also
 * means it is over: nothing in flight), and both sides began it from
 * their kept basis, with no Negentropy either way; the figures then in
 * ret_a, ret_b.
 */
static void from_basis(struct daemon_proc *pa, struct daemon_proc *pb,
		       const struct daemon_status *s0a,
		       const struct daemon_status *s0b,
		       struct daemon_status *ret_a, struct daemon_status *ret_b)
{
	wait_agreed(pa, pb, s0a, s0b);
	status_of(pa->sock, 5000, ret_a);
	status_of(pb->sock, 5000, ret_b);
	ASSERT_EQ(ret_a->since_used - s0a->since_used, 1);
	ASSERT_EQ(ret_b->since_used - s0b->since_used, 1);
	ASSERT_EQ(ret_a->neg_in - s0a->neg_in, 0);
	ASSERT_EQ(ret_b->neg_in - s0b->neg_in, 0);
}

/* a's figures just before the last disconnect(): a peer removed from
 * the dial list and not connected is not listed by status (its figures
 * kept, and listed again once it is added back), so a's figures while
 * apart are these */
static struct daemon_status apart_a;

static void disconnect(struct daemon_proc *pa, struct daemon_proc *pb)
{
	status_of(pa->sock, 5000, &apart_a);
	ASSERT_OK(daemon_proc_call(pa->sock, "peer_remove", pb->addr, 5000));
	ASSERT_TRUE(wait_connected(pa->sock, 0, WAIT_MS));
	ASSERT_TRUE(wait_connected(pb->sock, 0, WAIT_MS));
}

/*
 * a takes the DIFFER entries v while apart from b (figures then in s0a,
 * s0b), dials b again, and b holds them (figures then in s1a, s1b).
 */
static void moved_reconnect(struct daemon_proc *pa, struct daemon_proc *pb,
			    const struct bench_entry *v,
			    struct daemon_status *s0a, struct daemon_status *s0b,
			    struct daemon_status *s1a, struct daemon_status *s1b)
{
	char why[256];
	ASSERT_OK(bench_ingest(a, v, DIFFER, DIFFER, why, sizeof(why)));
	*s0a = apart_a;
	status_of(pb->sock, 5000, s0b);
	ASSERT_OK(daemon_proc_call(pa->sock, "peer_add", pb->addr, 5000));
	wait_holds(b, v, DIFFER);
	status_of(pa->sock, 5000, s1a);
	status_of(pb->sock, 5000, s1b);
}

/* n's chain (its node.cert) into *ret. */
static void chain_of(struct node *n, struct cert_chain *ret)
{
	uint8_t *bytes;
	size_t len;
	char why[256];
	ASSERT_OK(node_cert_load(n, (uint64_t)time(NULL) * 1000, ret, &bytes,
				 &len, why, sizeof(why)));
	free(bytes);
}

/* Does n's trust set hold the certificate id? */
static int holds_cert(struct node *n, const uint8_t id[32])
{
	uint8_t key[TRUSTSET_KEY];
	const uint8_t *v;
	size_t vl;
	struct store_txn *t;
	int r;
	key[0] = TRUST_CERT;
	memcpy(key + 1, id, 32);
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	r = trustset_get(t, key, &v, &vl);
	store_txn_abort(t);
	ASSERT_TRUE(r == 0 || r == HAMLET_ENOTFOUND);
	return r == 0;
}

/* Drop the certificate id of subject from n's trust set, as a store
 * restored from before it came would lack it. */
static void drop_cert(struct node *n, const uint8_t subject[32],
		      const uint8_t id[32])
{
	uint8_t sk[32 + TRUSTSET_KEY];
	struct store_txn *t;
	memcpy(sk, subject, 32);
	sk[32] = TRUST_CERT;
	memcpy(sk + 33, id, 32);
	ASSERT_OK(store_txn_begin(n->st, 0, &t));
	ASSERT_OK(store_del(t, ST_TRUST, sk + 32, TRUSTSET_KEY));
	ASSERT_OK(store_del(t, ST_TRUSTSUBJ, sk, sizeof(sk)));
	ASSERT_OK(store_txn_commit(t));
}

int main(int argc, char **argv)
{
	static struct bench_entry ents[FEEDS_T], more[DIFFER], third[DIFFER],
		fourth[DIFFER], fifth[DIFFER];
	static uint8_t apk[FEEDS_T][32];
	static char ascope[FEEDS_T][64];
	struct daemon_proc pa, pb;
	struct daemon_status s0a, s0b, s1a, s1b;
	uint64_t hlc = 0;
	char *dir, *net, why[256];

	if (argc != 2) {
		fprintf(stderr, "usage: test_reconnect PATH-TO-HAMLETD\n");
		return 2;
	}
	(void)testlib_failures;
	ASSERT_OK(daemon_proc_guard(280));
	dir = th_tmpdir();
	net = th_network(dir, "rcnet");
	a = th_node(dir, net, "a", "rc");
	b = th_node(dir, net, "b", "rc");
	r1 = th_node(dir, net, "r1", "rc");
	r2 = th_node(dir, net, "r2", "rc");

	/* 1,000 feeds of as many authors in both stores; the next two
	 * entries of the first ten kept back */
	for (unsigned i = 0; i < FEEDS_T; i++) {
		uint8_t sk[64];
		char rid[32];
		crypto_sign_keypair(apk[i], sk);
		snprintf(ascope[i], sizeof(ascope[i]), "rc/v%u", i);
		snprintf(rid, sizeof(rid), "HP-V%u-1", i);
		ASSERT_OK(bench_entry_make(a, apk[i], sk, ascope[i], 1, NULL,
					   rid, i, &hlc, &ents[i]));
		if (i < DIFFER) {
			snprintf(rid, sizeof(rid), "HP-V%u-2", i);
			ASSERT_OK(bench_entry_make(a, apk[i], sk, ascope[i], 2,
						   ents[i].id, rid, i, &hlc,
						   &more[i]));
			snprintf(rid, sizeof(rid), "HP-V%u-3", i);
			ASSERT_OK(bench_entry_make(a, apk[i], sk, ascope[i], 3,
						   more[i].id, rid, i, &hlc,
						   &third[i]));
			snprintf(rid, sizeof(rid), "HP-V%u-4", i);
			ASSERT_OK(bench_entry_make(a, apk[i], sk, ascope[i], 4,
						   third[i].id, rid, i, &hlc,
						   &fourth[i]));
			snprintf(rid, sizeof(rid), "HP-V%u-5", i);
			ASSERT_OK(bench_entry_make(a, apk[i], sk, ascope[i], 5,
						   fourth[i].id, rid, i, &hlc,
						   &fifth[i]));
		}
		sodium_memzero(sk, sizeof(sk));
	}
	ASSERT_OK(bench_trust_authors((struct node *const[]){ a, b }, 2, net,
				      (const uint8_t(*)[32])apk,
				      (const char(*)[64])ascope, FEEDS_T, why,
				      sizeof(why)));
	ASSERT_OK(bench_ingest(a, ents, FEEDS_T, 500, why, sizeof(why)));
	ASSERT_OK(bench_ingest(b, ents, FEEDS_T, 500, why, sizeof(why)));

	daemon_proc_init(&pa, dir, "a");
	daemon_proc_init(&pb, dir, "b");
	ASSERT_OK(daemon_proc_start_listening(&pb, argv[1], NULL, 5));
	ASSERT_OK(daemon_proc_start_listening(
		&pa, argv[1], (const char *const[]){ "--peer", pb.addr, NULL },
		5));
	memset(&s0a, 0, sizeof(s0a));
	memset(&s0b, 0, sizeof(s0b));

	TEST_START("two daemons holding the same feeds agree and keep a basis");
	ASSERT_TRUE(wait_connected(pa.sock, 1, WAIT_MS));
	wait_agreed(&pa, &pb, &s0a, &s0b);
	/* never agreed before: each HELLO carried the whole chain */
	status_of(pa.sock, 5000, &s1a);
	status_of(pb.sock, 5000, &s1b);
	ASSERT_EQ(s1a.chain_ref_out, 0);
	ASSERT_EQ(s1b.chain_ref_out, 0);
	disconnect(&pa, &pb);
	{
		/* b saves the basis in a write of its own once they agree:
		 * it is there within a bounded wait */
		struct store_txn *t;
		struct peerbase pbase;
		long long t0 = now_ms();
		int r;
		for (;;) {
			ASSERT_OK(store_txn_begin(b->st, 1, &t));
			r = peerbase_get(t, a->pk, &pbase);
			store_txn_abort(t);
			if (r != HAMLET_ENOTFOUND)
				break;
			ASSERT_TRUE(now_ms() - t0 < WAIT_MS);
			sleep_ms(20);
		}
		ASSERT_OK(r);
	}

	TEST_START("10 of 1,000 feeds moved while apart: SINCE and TAKE, no Negentropy");
	ASSERT_OK(bench_ingest(a, more, DIFFER, DIFFER, why, sizeof(why)));
	s0a = apart_a;
	status_of(pb.sock, 5000, &s0b);
	ASSERT_OK(daemon_proc_call(pa.sock, "peer_add", pb.addr, 5000));
	wait_holds(b, more, DIFFER);
	from_basis(&pa, &pb, &s0a, &s0b, &s1a, &s1b);
	ASSERT_EQ(s1b.entries_in - s0b.entries_in, DIFFER);
	/* each named its chain by its ids, and each found it: the session
	 * went READY (entries moved) with no chain asked for */
	ASSERT_EQ(s1a.chain_ref_out - s0a.chain_ref_out, 1);
	ASSERT_EQ(s1b.chain_ref_out - s0b.chain_ref_out, 1);
	ASSERT_EQ(s1a.certs_want_out + s1b.certs_want_out, 0);
	/* HELLOs naming their chains, a's SINCE, b's SINCE and TAKE, ACKs,
	 * STATEs: no id lists, no certificates (1,000 feeds' Negentropy
	 * alone is several times this; the two chains were 800 bytes) */
	ASSERT_TRUE(s1a.bytes_out - s0a.bytes_out - (s1a.entries_bytes_out -
						     s0a.entries_bytes_out) +
			    (s1b.bytes_out - s0b.bytes_out) <
		    1700);

	TEST_START("both sides moved other feeds while apart: each takes the other's, no Negentropy");
	disconnect(&pa, &pb);
	ASSERT_OK(bench_ingest(a, third, DIFFER / 2, DIFFER, why, sizeof(why)));
	ASSERT_OK(bench_ingest(b, third + DIFFER / 2, DIFFER / 2, DIFFER, why,
			       sizeof(why)));
	s0a = apart_a;
	status_of(pb.sock, 5000, &s0b);
	ASSERT_OK(daemon_proc_call(pa.sock, "peer_add", pb.addr, 5000));
	wait_holds(a, third, DIFFER);
	wait_holds(b, third, DIFFER);
	from_basis(&pa, &pb, &s0a, &s0b, &s1a, &s1b);
	ASSERT_EQ(s1a.entries_in - s0a.entries_in, DIFFER / 2);
	ASSERT_EQ(s1b.entries_in - s0b.entries_in, DIFFER / 2);

	TEST_START("a receiver that no longer holds the peer's chain asks for it (CERTS_WANT) and the session completes");
	disconnect(&pa, &pb);
	chain_of(a, &cha);
	ASSERT_TRUE(holds_cert(b, cha.id[0]));
	drop_cert(b, a->pk, cha.id[0]);
	ASSERT_TRUE(!holds_cert(b, cha.id[0]));
	/* entries move only once each side accepted the other */
	moved_reconnect(&pa, &pb, fourth, &s0a, &s0b, &s1a, &s1b);
	ASSERT_EQ(s1a.chain_ref_out - s0a.chain_ref_out, 1);
	ASSERT_EQ(s1b.certs_want_out - s0b.certs_want_out, 1);
	ASSERT_EQ(s1a.certs_want_out - s0a.certs_want_out, 0);
	ASSERT_TRUE(wait_log(&pb, "is not in our trust set; asking for it",
			     WAIT_MS));
	/* the chain it got was checked, and joined b's set again */
	{
		long long t0 = now_ms();
		while (!holds_cert(b, cha.id[0])) {
			ASSERT_TRUE(now_ms() - t0 < WAIT_MS);
			sleep_ms(20);
		}
	}

	TEST_START("a side that lost its basis: full reconciliation, and still converges");
	disconnect(&pa, &pb);
	{
		struct store_txn *t;
		ASSERT_OK(store_txn_begin(b->st, 0, &t));
		ASSERT_OK(peerbase_del(t, a->pk));
		ASSERT_OK(store_txn_commit(t));
	}
	moved_reconnect(&pa, &pb, fifth, &s0a, &s0b, &s1a, &s1b);
	ASSERT_EQ(s1a.since_used - s0a.since_used, 0);
	ASSERT_EQ(s1b.since_used - s0b.since_used, 0);
	ASSERT_TRUE(s1b.neg_in - s0b.neg_in >= 1);

	TEST_START("a HELLO naming another node's chain by its ids is refused (ECERT), as a chain file would be");
	{
		struct noise_cipher tx;
		struct mp_writer w;
		uint8_t proof[64];
		int fd = rogue_connect(r1, pb.port, NULL, &tx);
		ASSERT_OK(wire_hello_prove(r1->sk, rogue_hs_hash, proof));
		mp_writer_init(&w);
		/* a's chain, which b holds: it does not name r1's key */
		ASSERT_OK(wire_put_hello_ref(&w, NULL, 0,
					     16, proof,
					     (const uint8_t(*)[32])cha.id,
					     cha.n));
		rogue_send(fd, &tx, &w);
		mp_writer_destroy(&w);
		ASSERT_TRUE(wait_closed(fd, WAIT_MS));
		close(fd);
		noise_cipher_wipe(&tx);
		ASSERT_TRUE(wait_log(&pb, "it showed one for another key", WAIT_MS));
	}

	TEST_START("CERTS that was not asked for is a protocol error");
	{
		struct noise_cipher tx;
		struct mp_writer w;
		int fd = rogue_connect(r2, pb.port, NULL, &tx);
		mp_writer_init(&w);
		rogue_hello(&w, r2);
		rogue_send(fd, &tx, &w);
		mp_writer_destroy(&w);
		mp_writer_init(&w);
		ASSERT_OK(wire_put_certs(&w, (const uint8_t *)"x", 1));
		rogue_send(fd, &tx, &w);
		mp_writer_destroy(&w);
		ASSERT_TRUE(wait_closed(fd, WAIT_MS));
		close(fd);
		noise_cipher_wipe(&tx);
		ASSERT_TRUE(wait_log(&pb, "CERTS not allowed in this state", WAIT_MS));
	}

	TEST_START("both daemons stop cleanly");
	{
		int st;
		ASSERT_OK(daemon_proc_stop(&pa, SIGTERM, WAIT_MS, &st));
		ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		ASSERT_OK(daemon_proc_stop(&pb, SIGTERM, WAIT_MS, &st));
		ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	for (unsigned i = 0; i < FEEDS_T; i++)
		bench_entry_close(&ents[i]);
	for (unsigned i = 0; i < DIFFER; i++) {
		bench_entry_close(&more[i]);
		bench_entry_close(&third[i]);
		bench_entry_close(&fourth[i]);
		bench_entry_close(&fifth[i]);
	}
	node_close(a);
	node_close(b);
	node_close(r1);
	node_close(r2);
	th_rmrf(dir);
	free(net);
	free(dir);
	TEST_DONE();
}
