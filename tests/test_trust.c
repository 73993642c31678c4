/*
 * Certificates at the handshake: a node with the network key but no
 * valid certificate (none, expired, a chain that widens its issuer's
 * grant, one for another key) is dropped before a byte of data, both
 * when it dials and when it is dialled, and the log names it and why;
 * nothing is stored on either side. A certified node gets in.
 *
 * usage: test_trust PATH-TO-HAMLETD
 */
#include "rogue.h"
#include "rpc_client.h"

#include <signal.h>

#define WAIT_MS 30000 /* for what must happen, on a loaded machine too */
/* a certificate's life in the test of its end: long enough for a session
 * to start within it, however slow the machine */
#define BRIEF_MS 20000

static const char *hamletd;


/* 1 when the file at path holds the bytes of s. */
static int file_has(const char *path, const char *s)
{
	FILE *f = fopen(path, "rb");
	size_t n = strlen(s), got;
	static char buf[1 << 20];
	int found = 0;
	char *carry = calloc(1, n + sizeof(buf));

	ASSERT_TRUE(f != NULL && carry != NULL);
	size_t keep = 0;
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0 && !found) {
		memcpy(carry + keep, buf, got);
		size_t len = keep + got;
		for (size_t i = 0; i + n <= len && !found; i++)
			found = memcmp(carry + i, s, n) == 0;
		keep = len < n - 1 ? len : n - 1;
		memmove(carry, carry + len - keep, keep);
	}
	fclose(f);
	free(carry);
	return found;
}

/* The root signs a delegating commune chain whose village certificate
 * reads and writes more than the commune holds: written as n's file. */
static void certify_widened(struct node *n, const char *netfile,
			    struct node *commune)
{
	char path[4200], why[256];
	uint8_t nid[32], rpk[32], *rsk, *certs[2], *file;
	size_t lens[2], fl;
	struct cert c;
	FILE *f;

	snprintf(path, sizeof(path), "%.*s.root.key",
		 (int)(strlen(netfile) - 8), netfile);
	ASSERT_OK(root_key_load(path, nid, rpk, &rsk, why, sizeof(why)));
	for (int i = 0; i < 2; i++) {
		memset(&c, 0, sizeof(c));
		memcpy(c.network_id, nid, 32);
		memcpy(c.issuer, i ? rpk : commune->pk, 32);
		memcpy(c.subject, i ? commune->pk : n->pk, 32);
		snprintf(c.name, sizeof(c.name), "%s", i ? "commune" : "wide");
		c.role = i ? CERT_COMMUNE : CERT_VILLAGE;
		/* the village claims the whole province */
		snprintf(c.read[0], sizeof(c.read[0]), "%s", i ? "bk/qt" : "bk");
		snprintf(c.write[0], sizeof(c.write[0]), "%s", i ? "bk/qt" : "bk");
		c.nread = c.nwrite = 1;
		c.not_before_ms = (uint64_t)time(NULL) * 1000 - 86400000ull;
		c.delegate = i;
		ASSERT_OK(cert_sign(&c, i ? rsk : commune->sk, &certs[i],
				    &lens[i]));
	}
	ASSERT_OK(cert_chain_encode((const uint8_t *const *)certs, lens, 2,
				    &file, &fl));
	snprintf(path, sizeof(path), "%s/node.cert", n->home);
	ASSERT_TRUE((f = fopen(path, "wb")) != NULL);
	ASSERT_EQ(fwrite(file, 1, fl, f), fl);
	fclose(f);
	free(certs[0]);
	free(certs[1]);
	free(file);
	sodium_free(rsk);
}

int main(int argc, char **argv)
{
	struct node *hub, *bare, *expired, *wide, *other_key, *good, *commune;
	struct daemon_proc ph, pb, pg;
	int fd;
	struct daemon_status ds;
	char *dir, *net, hex[17];

	if (argc != 2) {
		fprintf(stderr, "usage: test_trust PATH-TO-HAMLETD\n");
		return 2;
	}
	hamletd = argv[1];
	(void)testlib_failures;
	dir = th_tmpdir();
	net = th_network(dir, "trustnet");
	hub = th_node(dir, net, "hub", "bk/qt");
	bare = th_node_bare(dir, net, "bare", "bk/qt/bare");
	expired = th_node_bare(dir, net, "expired", "bk/qt/expired");
	th_certify(expired, net, "bk/qt/expired", "bk/qt/expired",
		   (uint64_t)time(NULL) * 1000 - 3600000ull);
	commune = th_node(dir, net, "commune", "bk/qt");
	wide = th_node_bare(dir, net, "wide", "bk/qt/wide");
	certify_widened(wide, net, commune);
	other_key = th_node_bare(dir, net, "otherkey", "bk/qt/otherkey");
	good = th_node(dir, net, "good", "bk/qt/good");
	{
		/* the good node's certificate, shown by another key */
		char from[4200], to[4200], cmd[8600];
		snprintf(from, sizeof(from), "%s/node.cert", good->home);
		snprintf(to, sizeof(to), "%s/node.cert", other_key->home);
		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
		ASSERT_EQ(system(cmd), 0);
	}
	put_profiles(hub, 0, 5);
	put_profiles(bare, 100, 5);
	put_profiles(expired, 200, 5);
	put_profiles(wide, 300, 5);
	put_profiles(other_key, 400, 5);
	put_profiles(good, 500, 5);
	daemon_proc_init(&ph, dir, "hub");
	daemon_proc_init(&pb, dir, "bare");
	daemon_proc_init(&pg, dir, "good");
	ASSERT_OK(daemon_proc_guard(280));
	ASSERT_OK(daemon_proc_start_listening(&pg, hamletd, NULL, 5));
	ASSERT_OK(daemon_proc_start_listening(
		&ph, hamletd,
		(const char *const[]){ "--peer", pg.addr, NULL }, 5));

	TEST_START("a node with the network key and no certificate is dropped before any data, naming why");
	ASSERT_OK(daemon_proc_start(&pb, hamletd, 0,
				    (const char *const[]){ "--peer", ph.addr,
							   NULL }));
	hex_encode(bare->pk, 8, hex);
	ASSERT_TRUE(wait_log(&ph, "no valid certificate: it showed none", WAIT_MS));
	ASSERT_TRUE(daemon_proc_log_has(&ph, hex));
	/* it is told why too, in its own log */
	ASSERT_TRUE(wait_log(&pb, "this node has no certificate", WAIT_MS));
	/* a daemon sends no chain that does not hold for itself; a rogue
	 * peer sends what it likes: the hub checks what comes */
	{
		static const struct {
			const char *what, *log;
		} bad[] = {
			{ "an expired certificate", "(\"expired\") has expired" },
			{ "a chain whose delegate widens its issuer's grant",
			  "outside what its issuer" },
			{ "another node's certificate, shown by a key it does not name",
			  "it showed one for another key" },
		};
		struct node *who[] = { expired, wide, other_key };
		for (size_t i = 0; i < 3; i++) {
			struct noise_cipher tx;
			struct mp_writer w;
			char sentence[200];
			snprintf(sentence, sizeof(sentence),
				 "%s is dropped, naming why", bad[i].what);
			TEST_START(sentence);
			fd = rogue_connect(who[i], ph.port, NULL, &tx);
			mp_writer_init(&w);
			rogue_hello(&w, who[i]);
			rogue_send(fd, &tx, &w);
			mp_writer_destroy(&w);
			noise_cipher_wipe(&tx);
			ASSERT_TRUE(wait_closed(fd, WAIT_MS));
			close(fd);
			ASSERT_TRUE(wait_log(&ph, bad[i].log, WAIT_MS));
		}
		TEST_START("a HELLO whose proof is not over this session is dropped: the key is bound to the session");
		{
			struct noise_cipher tx;
			struct mp_writer w;
			/* the commune is certified but runs no daemon here */
			fd = rogue_connect(commune, ph.port, NULL, &tx);
			rogue_hs_hash[0] ^= 1; /* as if replayed from another */
			mp_writer_init(&w);
			rogue_hello(&w, commune);
			rogue_send(fd, &tx, &w);
			mp_writer_destroy(&w);
			noise_cipher_wipe(&tx);
			ASSERT_TRUE(wait_closed(fd, WAIT_MS));
			close(fd);
			ASSERT_TRUE(wait_log(&ph, "HELLO.proof does not verify", WAIT_MS));
		}
	}

	TEST_START("a certified node gets in and syncs what both may read; the others stored nothing and got nothing");
	ASSERT_TRUE(wait_connected(pg.sock, 1, WAIT_MS));
	/* bounded: WAIT_MS, in 300 rounds at most */
	for (long long t0 = now_ms(), i = 0;
	     i < 300 && th_records(hub) < 10 && now_ms() - t0 < WAIT_MS; i++)
		sleep_ms(100);
	ASSERT_EQ(th_records(hub), 10); /* its 5 and the good node's 5 */
	sleep_ms(500);
	/* the hub's own records lie in bk/qt, outside what the good node's
	 * certificate (bk/qt/good) lets it read: it gets none of them */
	ASSERT_EQ(th_records(good), 5);
	sleep_ms(500);
	ASSERT_EQ(th_records(bare), 5);
	ASSERT_EQ(th_records(expired), 5);
	ASSERT_EQ(th_records(wide), 5);
	ASSERT_EQ(th_records(other_key), 5);
	status_of(ph.sock, 5000, &ds);
	ASSERT_EQ(ds.connected, 1);

	TEST_START("a node whose certificate is removed while it runs is refused from its next connection, by the node it dials");
	{
		char path[4200];
		snprintf(path, sizeof(path), "%s/node.cert", hub->home);
		ASSERT_EQ(unlink(path), 0);
		ASSERT_OK(daemon_proc_call(ph.sock, "sync", NULL, 5000));
		ASSERT_EQ(proc_stop(&pg, SIGTERM, WAIT_MS), 0);
		ASSERT_OK(daemon_proc_start(
			&pg, hamletd, pg.port, NULL));
		ASSERT_TRUE(wait_log(&pg, "no valid certificate: it showed none", WAIT_MS));
	}

	ASSERT_EQ(proc_stop(&pg, SIGTERM, WAIT_MS), 0);
	ASSERT_EQ(proc_stop(&pb, SIGTERM, WAIT_MS), 0);
	ASSERT_EQ(proc_stop(&ph, SIGTERM, WAIT_MS), 0);

	TEST_START("a peer's own entry outside its write grant is refused by sync, named in the log and counted in status");
	{
		/* its certificate lets it write bk/qt/granted; its feed's
		 * entries lie in bk/qt/elsewhere */
		struct node *sly = th_node_bare(dir, net, "sly", "bk/qt/elsewhere");
		struct daemon_proc dh;
		th_certify(sly, net, "bk/qt", "bk/qt/granted", 0);
		ASSERT_OK(th_put(sly, "health_profile", "HP-SLY",
				 "person_id=100000000099;full_name=Sly;birth_date=1970-01-01"));
		daemon_proc_init(&dh, dir, "hub2");
		{
			struct node *h2 = th_node(dir, net, "hub2", "bk/qt");
			node_close(h2);
		}
		ASSERT_OK(daemon_proc_start_listening(&dh, hamletd, NULL, 5));
		fd = rogue_entry(sly, dh.port, 0);
		ASSERT_TRUE(wait_closed(fd, WAIT_MS));
		close(fd);
		ASSERT_TRUE(wait_log(&dh, "does not let it write health_profile in scope bk/qt/elsewhere", WAIT_MS));
		status_of(dh.sock, 5000, &ds);
		ASSERT_EQ(ds.refused_not_granted, 1);
		ASSERT_EQ(ds.records, 0);

		TEST_START("a write through the socket outside the node's own write grant is refused, naming it");
		{
			/* the hub2 node: reads and writes bk/qt; a write into
			 * another commune, and a collection not granted */
			struct mp_writer inner;
			uint8_t *resp = NULL, *body;
			size_t rl, bl;
			body = th_body("person_id=100000000098;full_name=Out;birth_date=1970-01-01", &bl);
			mp_writer_init(&inner);
			msgpack_pack_array(&inner.pk, 1);
			rpc_pack_write_op(&inner.pk, ENTRY_PUT, "health_profile",
					  "HP-OUT", "bk/other", body, bl, 0, NULL, 0);
			ASSERT_OK(rpc_client_call_bin(dh.sock, "write",
						      inner.sb.data,
						      inner.sb.size, 5000,
						      &resp, &rl));
			mp_writer_destroy(&inner);
			free(body);
			ASSERT_TRUE(rl > 3 && resp[1] != 0); /* an error code */
			ASSERT_TRUE(memmem(resp, rl, "does not let it write health_profile in scope bk/other", 54) != NULL);
			free(resp);
			status_of(dh.sock, 5000, &ds);
			ASSERT_EQ(ds.records, 0);
		}
		ASSERT_EQ(proc_stop(&dh, SIGTERM, WAIT_MS), 0);
		node_close(sly);
	}

	TEST_START("a session ends when a certificate in it expires");
	{
		struct node *brief = th_node_bare(dir, net, "brief", "bk/qt/brief");
		struct node *h3 = th_node(dir, net, "hub3", "bk/qt");
		struct daemon_proc d3, dbr;
		long long t0, expires_ms;
		int in;
		node_close(h3);
		daemon_proc_init(&d3, dir, "hub3");
		daemon_proc_init(&dbr, dir, "brief");
		/* both running before the certificate is made, so that a
		 * slow start does not eat its time: the brief node dials
		 * only once it has one */
		ASSERT_OK(daemon_proc_start_listening(&d3, hamletd, NULL, 5));
		ASSERT_OK(daemon_proc_start_listening(&dbr, hamletd, NULL, 5));
		/* valid for BRIEF_MS more; installed while the daemon runs,
		 * it is shown from the next connection */
		expires_ms = (long long)time(NULL) * 1000 + BRIEF_MS;
		th_certify(brief, net, "bk/qt/brief", "bk/qt/brief",
			   (uint64_t)expires_ms);
		t0 = now_ms();
		ASSERT_OK(daemon_proc_call(dbr.sock, "peer_add", d3.addr,
					   WAIT_MS));
		/* in while the certificate holds (a second short of its
		 * end, at the latest) */
		in = wait_connected(d3.sock, 1, BRIEF_MS - 1000);
		fprintf(stderr, "   in after %lld ms\n", now_ms() - t0);
		ASSERT_TRUE(in);
		/* whichever side's clock ticks first ends it (bounded: its
		 * end and WAIT_MS more, 600 x 100 ms at least) */
		{
			int ended = 0;
			for (int i = 0; i < 600 && !ended &&
					now_ms() - t0 < BRIEF_MS + WAIT_MS;
			     i++) {
				ended = daemon_proc_log_has(&d3, "a certificate of this session has expired") ||
					daemon_proc_log_has(&dbr, "a certificate of this session has expired");
				if (!ended)
					sleep_ms(100);
			}
			ASSERT_TRUE(ended);
			/* not before its end */
			ASSERT_TRUE((long long)time(NULL) * 1000 >=
				    expires_ms - 1000);
		}
		/* and it is refused from then on */
		ASSERT_TRUE(wait_log(&d3, "no valid certificate", WAIT_MS));
		ASSERT_EQ(proc_stop(&dbr, SIGTERM, WAIT_MS), 0);
		ASSERT_EQ(proc_stop(&d3, SIGTERM, WAIT_MS), 0);
		node_close(brief);
	}

	TEST_START("a village receives its own scope and nothing of its neighbour's; the commune and the province receive both");
	{
		struct node *qt = th_node(dir, net, "qt", "bk/qt");
		struct node *pa = th_node(dir, net, "pa", "bk/qt/pa");
		struct node *pb2 = th_node(dir, net, "pb", "bk/qt/pb");
		struct node *prov = th_node(dir, net, "prov", "bk");
		struct daemon_proc dq, da, db, dp;
		char path[4200];
		ASSERT_OK(th_put(pa, "health_profile", "HP-A",
				 "person_id=100000000001;full_name=MARKER-PA-7Q2;birth_date=1970-01-01"));
		ASSERT_OK(th_put(pb2, "health_profile", "HP-B",
				 "person_id=100000000002;full_name=MARKER-PB-9Z4;birth_date=1970-01-01"));
		daemon_proc_init(&dq, dir, "qt");
		daemon_proc_init(&da, dir, "pa");
		daemon_proc_init(&db, dir, "pb");
		daemon_proc_init(&dp, dir, "prov");
		ASSERT_OK(daemon_proc_start_listening(&dq, hamletd, NULL, 5));
		ASSERT_OK(daemon_proc_start(&da, hamletd, 0,
					    (const char *const[]){ "--peer",
								   dq.addr,
								   NULL }));
		ASSERT_OK(daemon_proc_start(&db, hamletd, 0,
					    (const char *const[]){ "--peer",
								   dq.addr,
								   NULL }));
		ASSERT_OK(daemon_proc_start(&dp, hamletd, 0,
					    (const char *const[]){ "--peer",
								   dq.addr,
								   NULL }));
		ASSERT_TRUE(wait_connected(dq.sock, 3, WAIT_MS));
		/* bounded: WAIT_MS, in 300 rounds at most */
		for (long long t0 = now_ms(), i = 0;
		     i < 300 && (th_records(qt) < 2 || th_records(prov) < 2) &&
		     now_ms() - t0 < WAIT_MS;
		     i++)
			sleep_ms(100);
		ASSERT_EQ(th_records(qt), 2);
		ASSERT_EQ(th_records(prov), 2);
		ASSERT_OK(daemon_proc_call(da.sock, "sync", NULL, 5000));
		ASSERT_OK(daemon_proc_call(db.sock, "sync", NULL, 5000));
		sleep_ms(1500);
		ASSERT_EQ(th_records(pa), 1);
		ASSERT_EQ(th_records(pb2), 1);
		ASSERT_EQ(proc_stop(&da, SIGTERM, WAIT_MS), 0);
		ASSERT_EQ(proc_stop(&db, SIGTERM, WAIT_MS), 0);
		ASSERT_EQ(proc_stop(&dp, SIGTERM, WAIT_MS), 0);
		ASSERT_EQ(proc_stop(&dq, SIGTERM, WAIT_MS), 0);
		/* the bytes of the stores themselves */
		snprintf(path, sizeof(path), "%s/store/data.mdb", pa->home);
		ASSERT_TRUE(file_has(path, "MARKER-PA-7Q2"));
		ASSERT_TRUE(!file_has(path, "MARKER-PB-9Z4"));
		snprintf(path, sizeof(path), "%s/store/data.mdb", pb2->home);
		ASSERT_TRUE(file_has(path, "MARKER-PB-9Z4"));
		ASSERT_TRUE(!file_has(path, "MARKER-PA-7Q2"));
		snprintf(path, sizeof(path), "%s/store/data.mdb", prov->home);
		ASSERT_TRUE(file_has(path, "MARKER-PA-7Q2"));
		ASSERT_TRUE(file_has(path, "MARKER-PB-9Z4"));
		node_close(qt);
		node_close(pa);
		node_close(pb2);
		node_close(prov);
	}
	node_close(hub);
	node_close(bare);
	node_close(expired);
	node_close(wide);
	node_close(other_key);
	node_close(good);
	node_close(commune);
	th_scratch_done(dir, net);
	fprintf(stderr, "all trust tests passed\n");
	return 0;
}
