/*
 * Certified peers that repeat the trust set's exchange, unasked, against
 * a node whose set is large (13,500 fork proofs, of feeds the peers may
 * not read):
 *
 * - TRUST_HAVE, again and again, naming the set they share: each one was
 *   answered by reading the whole set, and each fork proof in it had its
 *   two signatures verified again (about 2 s a message), on the daemon's
 *   loop: the local socket, HTTP and every other peer waited;
 * - TRUST_IDS naming a range with nothing in it: each read every key from
 *   the range's start to the end of the set, whatever the range's end.
 *
 * Before the fix the local socket's status went unanswered for well over
 * its usual 5 s; now a TRUST_HAVE repeated while the set is unchanged is
 * not answered again, a proof's scope is read without its signatures,
 * and TRUST_IDS reads only its range.
 *
 * usage: test_trust_ids PATH-TO-HAMLETD
 * HAMLET_TEST_CASES=2 runs only the second case.
 * Every loop is bounded in count and time.
 */
#include "rogue.h"
#include "trust.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

/* Proof i of a fresh author: two entries at seq 1 with other record ids. */
static uint8_t *fake_proof(const struct node *n, const uint8_t pk[32],
			   const uint8_t sk[64], uint64_t seq, size_t *len)
{
	struct entry e;
	uint8_t *env[2], sig[2][64], *p;
	size_t el[2];
	memset(&e, 0, sizeof(e));
	memcpy(e.network_id, n->net.id, 32);
	memcpy(e.author, pk, 32);
	strcpy(e.scope, "bk/bt/qt/x");
	e.seq = seq;
	e.hlc = ((uint64_t)hlc_wall_ms() << 16) | 1;
	e.kind = ENTRY_PUT;
	strcpy(e.collection, "health_profile");
	e.has_body = 1;
	memset(e.body_hash, 0x33, 32);
	e.body_len = 40;
	if (seq > 1) {
		e.has_prev = 1;
		memset(e.prev, 0x44, 32);
	}
	for (int k = 0; k < 2; k++) {
		snprintf(e.record_id, sizeof(e.record_id), "r%d", k);
		ASSERT_OK(entry_encode(&e, &env[k], &el[k]));
		ASSERT_OK(entry_sign(env[k], el[k], sk, sig[k]));
	}
	if (fork_proof_encode(env[0], el[0], sig[0], env[1], el[1], sig[1],
			      &p, len) < 0)
		ASSERT_OK(fork_proof_encode(env[1], el[1], sig[1], env[0],
					    el[0], sig[0], &p, len));
	free(env[0]);
	free(env[1]);
	return p;
}

#define NROGUES 4
/* within what the set takes of items the root did not sign (15,360 of
 * 16,384): 14,400 members, a certificate and 15 fork proofs of each of
 * 900 keys (a proof joins only for a key the set holds a certificate
 * of), 13,500 of them proofs */
#define NKEYS 900
#define PROOFS_PER_KEY 15

/* d's set filled with NKEYS certified keys in bk/bt/qt/x, a scope d
 * reads and the rogues do not, each with PROOFS_PER_KEY fork proofs,
 * before its daemon starts. */
static void fill(struct node *d, const char *net)
{
	uint8_t pk[32], sk[64];
	for (int m = 0; m < NKEYS; m++) {
		struct trustset_item it[1 + PROOFS_PER_KEY];
		struct trustset_out out[1 + PROOFS_PER_KEY];
		crypto_sign_keypair(pk, sk);
		it[0].kind = TRUST_CERT;
		it[0].data = th_cert_one(net, pk, "x", "bk/bt/qt/x",
					 "bk/bt/qt/x", 0, 0, &it[0].len);
		for (int i = 1; i <= PROOFS_PER_KEY; i++) {
			it[i].kind = TRUST_FORK;
			it[i].data = fake_proof(d, pk, sk, (uint64_t)i,
						&it[i].len);
		}
		ASSERT_OK(log_trust_ingest(d->st, d->net.id, it,
					   1 + PROOFS_PER_KEY, out, NULL,
					   NULL));
		for (int i = 0; i <= PROOFS_PER_KEY; i++) {
			ASSERT_EQ(out[i].status, TRUSTSET_ADDED);
			free((void *)it[i].data);
		}
	}
}

/* A fork proof joins for a key the set holds a certificate of, 16 of
 * one key at most: a rogue's proofs of keys it makes up fill nothing. */
static void proof_rules(struct node *d, const char *net)
{
	uint8_t pk[32], sk[64];
	struct trustset_item it = { TRUST_FORK, NULL, 0 };
	struct trustset_out out;

	TEST_START("a fork proof of a key no certificate in the set names is refused; one key's 17th proof is refused");
	crypto_sign_keypair(pk, sk);
	it.data = fake_proof(d, pk, sk, 1, &it.len);
	ASSERT_OK(log_trust_ingest(d->st, d->net.id, &it, 1, &out, NULL, NULL));
	ASSERT_EQ(out.status, TRUSTSET_REFUSED);
	ASSERT_STREQ(out.why, "fork proof of a key no certificate in the trust set names");
	free((void *)it.data);
	it.kind = TRUST_CERT;
	it.data = th_cert_one(net, pk, "y", "bk/bt/qt/x", "bk/bt/qt/x", 0, 0,
			      &it.len);
	ASSERT_OK(log_trust_ingest(d->st, d->net.id, &it, 1, &out, NULL, NULL));
	ASSERT_EQ(out.status, TRUSTSET_ADDED);
	free((void *)it.data);
	it.kind = TRUST_FORK;
	for (uint64_t seq = 1; seq <= 17; seq++) {
		it.data = fake_proof(d, pk, sk, seq, &it.len);
		ASSERT_OK(log_trust_ingest(d->st, d->net.id, &it, 1, &out,
					   NULL, NULL));
		ASSERT_EQ(out.status,
			  seq <= 16 ? TRUSTSET_ADDED : TRUSTSET_REFUSED);
		free((void *)it.data);
	}
	ASSERT_STREQ(out.why, "fork proof of a key the trust set already holds 16 fork proofs of");
}

struct keys {
	crypto_generichash_blake2b_state h;
	uint64_t n;
	uint8_t first[2][33]; /* the two lowest keys */
	size_t nfirst;
};

static int key_one(void *ctx, int kind, const uint8_t id[32],
		   const uint8_t *data, size_t len)
{
	struct keys *k = ctx;
	uint8_t key[33];
	(void)data;
	(void)len;
	key[0] = (uint8_t)kind;
	memcpy(key + 1, id, 32);
	if (k->nfirst < 2)
		memcpy(k->first[k->nfirst++], key, 33);
	if (kind == TRUST_FORK)
		return 0; /* of a feed the rogues may not read: not shared */
	crypto_generichash_blake2b_update(&k->h, key, 33);
	k->n++;
	return 0;
}

/* In a child: log in as n, send count copies of msg (len bytes) in
 * one write, then read what comes until told to end (30 s at most). */
static pid_t repeat_start(struct node *n, int port, const uint8_t *msg,
			  size_t len, int count)
{
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		struct noise_cipher tx;
		struct mp_writer w;
		uint8_t key[32], *all = NULL, b[65536];
		size_t al = 0, cap = 0;
		long long t0;
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = rogue_login(n, port, &tx, &w, key);
		mp_writer_destroy(&w);
		for (int i = 0; i < count; i++) {
			uint8_t *fr;
			size_t fl;
			ASSERT_OK(wire_frames_seal(&tx, msg, len, &fr, &fl));
			if (al + fl > cap) {
				cap = 2 * (al + fl);
				ASSERT_TRUE((all = realloc(all, cap)) != NULL);
			}
			memcpy(all + al, fr, fl);
			al += fl;
			free(fr);
		}
		fcntl(fd, F_SETFL, O_NONBLOCK);
		t0 = now_ms();
		for (size_t off = 0; now_ms() - t0 < 30000;) {
			ssize_t k;
			if (off < al &&
			    (k = send(fd, all + off, al - off, MSG_NOSIGNAL)) > 0)
				off += (size_t)k;
			k = recv(fd, b, sizeof(b), 0);
			if (k == 0)
				break;
			if (k < 0)
				sleep_ms(1);
		}
		_exit(0);
	}
	return pid;
}

/* Meanwhile ask the daemon's status every 200 ms for limit_ms: each
 * must come within the local socket's usual 5 s. Returns the slowest. */
static long long status_while(struct daemon_proc *pd, int limit_ms)
{
	long long t0 = now_ms(), worst = 0;
	for (int i = 0; i < 200 && now_ms() - t0 < limit_ms; i++) {
		struct daemon_status ds;
		long long t1 = now_ms();
		status_of(pd->sock, 5000, &ds);
		if (now_ms() - t1 > worst)
			worst = now_ms() - t1;
		sleep_ms(200);
	}
	return worst;
}

/* Every certificate of from's trust set that to's lacks: counted. */
struct lacks {
	struct store_txn *to;
	int certs, lacking;
};

static int cert_lacking(void *ctx, int kind, const uint8_t id[32],
			const uint8_t *data, size_t len)
{
	struct lacks *l = ctx;
	uint8_t key[33];
	const uint8_t *item;
	size_t il;
	(void)data;
	(void)len;
	key[0] = (uint8_t)kind;
	memcpy(key + 1, id, 32);
	l->certs++;
	l->lacking += trustset_get(l->to, key, &item, &il) != 0;
	return 0;
}

static struct lacks certs_lacking(struct node *from, struct node *to)
{
	struct store_txn *t;
	struct lacks l = { 0 };
	ASSERT_OK(store_txn_begin(from->st, 1, &t));
	ASSERT_OK(store_txn_begin(to->st, 1, &l.to));
	ASSERT_OK(trustset_each(t, TRUST_CERT, cert_lacking, &l));
	store_txn_abort(l.to);
	store_txn_abort(t);
	return l;
}

/* Start the daemon, have every rogue send the message w holds count
 * times, ask for status meanwhile (status_while), then stop them all. */
static void repeat_all(struct daemon_proc *pd, const char *hamletd,
		       struct node **rogue, struct mp_writer *w, int count)
{
	pid_t fp[NROGUES];
	uint8_t *msg;
	size_t ml;
	int st;

	ASSERT_OK(daemon_proc_start_listening(pd, hamletd, NULL, 5));
	msg = mp_writer_take(w, &ml);
	for (int i = 0; i < NROGUES; i++)
		fp[i] = repeat_start(rogue[i], pd->port, msg, ml, count);
	free(msg);
	sleep_ms(500);
	fprintf(stderr, "   the slowest status: %lld ms\n",
		status_while(pd, 12000));
	for (int i = 0; i < NROGUES; i++) {
		kill(fp[i], SIGKILL);
		ASSERT_EQ(waitpid(fp[i], &st, 0), fp[i]);
	}
	ASSERT_EQ(proc_stop(pd, SIGTERM, 30000), 0);
}

int main(int argc, char **argv)
{
	struct node *d, *rogue[NROGUES];
	struct daemon_proc pd;
	struct store_txn *t;
	struct keys k;
	struct mp_writer w;
	uint8_t digest[32];
	const char *cases = getenv("HAMLET_TEST_CASES") ? getenv("HAMLET_TEST_CASES") : "123";
	char *dir, *net;

	if (argc != 2) {
		fprintf(stderr, "usage: test_trust_ids PATH-TO-HAMLETD\n");
		return 2;
	}
	(void)testlib_failures;
	dir = th_tmpdir();
	net = th_network(dir, "trustids");
	d = th_node(dir, net, "d", "bk/bt/qt");
	for (int i = 0; i < NROGUES; i++) {
		char name[32], scope[64];
		snprintf(name, sizeof(name), "rogue%d", i);
		snprintf(scope, sizeof(scope), "bk/bt/qt/na-pai-%d", i);
		rogue[i] = th_node(dir, net, name, scope);
	}
	fill(d, net);
	proof_rules(d, net);
	memset(&k, 0, sizeof(k));
	crypto_generichash_blake2b_init(&k.h, NULL, 0, 32);
	ASSERT_OK(store_txn_begin(d->st, 1, &t));
	ASSERT_OK(trustset_each(t, 0, key_one, &k));
	store_txn_abort(t);
	crypto_generichash_blake2b_final(&k.h, digest, 32);
	ASSERT_TRUE(k.nfirst == 2);
	daemon_proc_init(&pd, dir, "d");
	ASSERT_OK(daemon_proc_guard(280));

	mp_writer_init(&w);
	if (strchr(cases, '1')) {
	TEST_START("4 peers repeat TRUST_HAVE naming the set they share (of 13,500 fork proofs they may not read): the local socket answers each status within 5 s");
	ASSERT_OK(wire_put_trust_have(&w, digest, k.n));
	repeat_all(&pd, argv[1], rogue, &w, 2000);
	}

	if (strchr(cases, '2')) {
	TEST_START("4 peers repeat TRUST_IDS of a range with no key in it: the local socket answers each status within 5 s");
	{
		uint8_t from[33];
		/* just past the lowest key, to the next: nothing between */
		memcpy(from, k.first[0], 33);
		ASSERT_TRUE(from[32] != 0xff);
		from[32]++;
		ASSERT_TRUE(memcmp(from, k.first[1], 33) < 0);
		ASSERT_OK(wire_put_trust_ids(&w, from, k.first[1], NULL, 0));
		repeat_all(&pd, argv[1], rogue, &w, 20000);
	}
	}
	mp_writer_destroy(&w);

	if (strchr(cases, '3')) {
	TEST_START("an honest peer that lacks the set's 900 certificates gets every one of them (its TRUST_IDS answered a few hundred keys at a time)");
	{
		struct daemon_proc pr;
		struct lacks l = certs_lacking(d, rogue[0]);
		ASSERT_TRUE(l.certs > NKEYS && l.lacking >= NKEYS);
		daemon_proc_init(&pr, dir, "rogue0");
		ASSERT_OK(daemon_proc_start_listening(&pd, argv[1], NULL, 5));
		ASSERT_OK(daemon_proc_start(
			&pr, argv[1], 0,
			(const char *const[]){ "--peer", pd.addr, NULL }));
		/* bounded: 600 rounds of 100 ms at least */
		for (int i = 0; i < 600 && l.lacking > 0; i++) {
			sleep_ms(100);
			l = certs_lacking(d, rogue[0]);
		}
		fprintf(stderr, "   %d of %d certificates lacking\n", l.lacking,
			l.certs);
		ASSERT_EQ(l.lacking, 0);
		ASSERT_EQ(proc_stop(&pr, SIGTERM, 30000), 0);
		ASSERT_EQ(proc_stop(&pd, SIGTERM, 30000), 0);
	}
	}

	node_close(d);
	for (int i = 0; i < NROGUES; i++)
		node_close(rogue[i]);
	th_scratch_done(dir, net);
	fprintf(stderr, "all trust exchange repeat tests passed\n");
	return 0;
}
