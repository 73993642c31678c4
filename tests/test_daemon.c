/*
 * hamletd end to end: three daemons in a chain village -> commune ->
 * province on 127.0.0.1; a node of another network that never gets past
 * the handshake; a peer that sends garbage, dropped while the others keep
 * syncing; a peer that asks and never reads; a flood of connections
 * without the network key; backoffs that grow with each fault; the local
 * RPC socket.
 *
 * usage: test_daemon PATH-TO-HAMLETD
 * HAMLET_TEST_ENTRIES=N (default 2000) sets the bulk-transfer size whose
 * rate is printed.
 */
#include "daemon_util.h"
#include "helpers.h"
#include "noise.h"
#include "rogue.h"
#include "rpc_client.h"
#include "wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#define WAIT_MS 30000
#define RPC_CLIENTS_TEST 17 /* one past the daemon's limit of 16 */

static const char *hamletd;
static char *dir;

/* Start p on p->port; extra is NULL or more arguments ("--peer", "H:P",
 * ..., NULL-terminated). 1 once it listens and answers on its socket; 0
 * if it could not listen (port taken) or exited: then start again on a
 * new port. One merely slow is waited for (DAEMON_PROC_START_MS), not
 * restarted, which would reset what it counts; past that the test
 * fails. */
static int start(struct daemon_proc *p, const char *const *extra)
{
	int r;
	ASSERT_OK(daemon_proc_start(p, hamletd, p->port, extra));
	r = daemon_proc_wait_started(p, DAEMON_PROC_START_MS);
	if (r == 0)
		return 1;
	daemon_proc_kill(p);
	if (r != -EADDRINUSE && r != -ESRCH)
		daemon_proc_log_tail(p, 4096, stderr);
	ASSERT_TRUE(r == -EADDRINUSE || r == -ESRCH);
	return 0;
}

/* SIGTERM, then wait at most 30 s (LeakSanitizer's scan at exit takes
 * long on a loaded machine); returns the exit status (or -1). */
static int stop(struct daemon_proc *p)
{
	return proc_stop(p, SIGTERM, WAIT_MS);
}


/* Wait until b's digest equals a's; returns ms taken or -1 on timeout.
 * The digests are compared once at least, however short limit_ms and
 * however late this process runs (bounded: limit_ms, in rounds of 50 ms
 * at least). */
static long long wait_same(struct node *a, struct node *b, int limit_ms)
{
	long long t0 = now_ms();
	uint8_t da[32], db[32];
	for (int i = 0; i == 0 || now_ms() - t0 < limit_ms; i++) {
		th_digest(a, da);
		th_digest(b, db);
		if (memcmp(da, db, 32) == 0)
			return now_ms() - t0;
		sleep_ms(50);
	}
	return -1;
}

/*
 * Put profiles through a running daemon's socket, as an operator's
 * `hamlet put` does: the daemon signs, commits and pushes at once.
 */
static void put_profiles_live(const char *sock, int from, int count)
{
	for (int done = 0; done < count;) {
		struct mp_writer inner;
		uint8_t *resp = NULL;
		size_t rl;
		int k = 0;
		mp_writer_init(&inner);
		k = count - done > 500 ? 500 : count - done;
		msgpack_pack_array(&inner.pk, (size_t)k);
		for (int j = 0; j < k; j++) {
			char id[32], spec[256];
			size_t bl;
			uint8_t *body;
			int i = from + done + j;
			snprintf(id, sizeof(id), "HP-%d", i);
			snprintf(spec, sizeof(spec),
				 "person_id=%012d;full_name=Person %d;birth_date=1980-01-01",
				 i, i);
			body = th_body(spec, &bl);
			rpc_pack_write_op(&inner.pk, ENTRY_PUT, "health_profile",
					  id, NULL, body, bl, 0, NULL, 0);
			free(body);
		}
		ASSERT_OK(rpc_client_call_bin(sock, "write", inner.sb.data,
					      inner.sb.size, 30000, &resp, &rl));
		/* [0, [...]] on success */
		ASSERT_TRUE(rl >= 2 && resp[0] == 0x92 && resp[1] == 0x00);
		free(resp);
		mp_writer_destroy(&inner);
		done += k;
	}
}

/* Log in as n, then send a well-encrypted frame of garbage. */
static int rogue_garbage(struct node *n, int port)
{
	struct noise_cipher tx;
	uint8_t junk[40], *fr;
	size_t fl;
	int fd = rogue_connect(n, port, NULL, &tx);
	memset(junk, 0xc1, sizeof(junk)); /* 0xc1 is never valid msgpack */
	ASSERT_OK(wire_frames_seal(&tx, junk, sizeof(junk), &fr, &fl));
	send_all(fd, fr, fl);
	free(fr);
	noise_cipher_wipe(&tx);
	return fd;
}

/* A peer with the key whose first message is an ERROR whose text holds a
 * newline, a forged log line after it, and a terminal escape. */
static int rogue_error(struct node *n, int port)
{
	static const char text[] =
		"bye\n<2>hamletd: the disk holding the store is full\x1b[31m";
	struct noise_cipher tx;
	struct mp_writer w;
	int fd = rogue_connect(n, port, NULL, &tx);
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 3);
	msgpack_pack_int(&w.pk, WIRE_ERROR);
	msgpack_pack_int(&w.pk, -1);
	mp_pack_str(&w.pk, text);
	rogue_send(fd, &tx, &w);
	mp_writer_destroy(&w);
	noise_cipher_wipe(&tx);
	return fd;
}

/*
 * ["ingest", inner] to sock: the answer, parsed into d (close it and free
 * *ret_buf). *ret_code is the answer's code.
 */
static const msgpack_object *rpc_ingest(const char *sock, const uint8_t *inner,
					size_t n, struct mp_doc *d,
					uint8_t **ret_buf, int64_t *ret_code)
{
	struct mp_writer w;
	const msgpack_object *a;
	size_t rn;
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 2);
	mp_pack_str(&w.pk, "ingest");
	mp_pack_bin(&w.pk, inner, n);
	ASSERT_OK(rpc_client_call_raw(sock, (const uint8_t *)w.sb.data,
				      w.sb.size, 10000, ret_buf, &rn));
	mp_writer_destroy(&w);
	ASSERT_OK(mp_doc_parse(d, *ret_buf, rn, RPC_MAX_INGEST_ENTRIES));
	ASSERT_OK(mp_get_array(d->root, 2, 0, &a, NULL));
	ASSERT_OK(mp_get_int(&a[0], ret_code));
	return &a[1];
}

/* A malformed ingest is refused with a message holding needle. */
static void ingest_refused(const char *sock, const uint8_t *inner, size_t n,
			   const char *needle)
{
	struct mp_doc d;
	uint8_t *buf;
	int64_t code;
	char msg[256];
	const msgpack_object *res = rpc_ingest(sock, inner, n, &d, &buf, &code);
	ASSERT_TRUE(code < 0);
	ASSERT_OK(mp_get_cstr(res, msg, sizeof(msg)));
	if (!strstr(msg, needle))
		fprintf(stderr, "   answer: %s (wanted %s)\n", msg, needle);
	ASSERT_TRUE(strstr(msg, needle) != NULL);
	mp_doc_close(&d);
	free(buf);
}

/* One entry [env, sig, body|nil] packed into w. */
static void pack_entry(struct mp_writer *w, const struct log_in *e)
{
	msgpack_pack_array(&w->pk, 3);
	mp_pack_bin(&w->pk, e->env, e->env_len);
	mp_pack_bin(&w->pk, e->sig, 64);
	if (e->body)
		mp_pack_bin(&w->pk, e->body, e->body_len);
	else
		msgpack_pack_nil(&w->pk);
}

/* An answer [code, text]: the code, and the text into msg. */
static int64_t answer_of(const char *sock, const uint8_t *req, size_t n,
			 char *msg, size_t ml)
{
	uint8_t *resp = NULL;
	size_t rl;
	struct mp_doc d;
	const msgpack_object *a;
	int64_t code;
	ASSERT_OK(rpc_client_call_raw(sock, req, n, 5000, &resp, &rl));
	ASSERT_OK(mp_doc_parse(&d, resp, rl, 64));
	ASSERT_OK(mp_get_array(d.root, 2, 0, &a, NULL));
	ASSERT_OK(mp_get_int(&a[0], &code));
	msg[0] = 0;
	if (a[1].type == MSGPACK_OBJECT_STR)
		ASSERT_OK(mp_get_cstr(&a[1], msg, ml));
	mp_doc_close(&d);
	free(resp);
	return code;
}

int main(int argc, char **argv)
{
	struct daemon_proc pv, pc, pp, po;
	struct daemon_status ds;
	struct node *v, *c, *p, *o, *rogue, *forger, *hoarder, *flooded,
		*piper, *greedy, *pipeline,
		*helper, *repeat, *judge;
	char vaddr[64], cfgpath[4200];
	FILE *cf;
	char *net, *other, addr[64], hex[65];
	uint8_t dv[32];
	long long ms;
	int fd;
	uint64_t sent_before, c_start = 0;
	long long silent_t0;
	int silent;
	int bulk = getenv("HAMLET_TEST_ENTRIES")
			   ? atoi(getenv("HAMLET_TEST_ENTRIES"))
			   : 2000;

	if (argc != 2) {
		fprintf(stderr, "usage: test_daemon PATH-TO-HAMLETD\n");
		return 2;
	}
	hamletd = argv[1];
	(void)testlib_failures;
	dir = th_tmpdir();
	net = th_network(dir, "testnet");
	other = th_network(dir, "othernet");
	v = th_node(dir, net, "village", "bk/bt/qt/na-pai");
	/* the village may read its commune's scope: the chain replicates
	 * whole (test_trust.c shows a village reading its own alone) */
	th_certify(v, net, "bk/bt/qt", "bk/bt/qt/na-pai", 0);
	c = th_node(dir, net, "commune", "bk/bt/qt");
	p = th_node(dir, net, "province", "bk");
	o = th_node(dir, other, "outsider", "bk/bt/qt/na-pai");
	rogue = th_node(dir, net, "rogue", "bk/bt/qt/na-pai");
	forger = th_node(dir, net, "forger", "bk/bt/qt/na-pai");
	hoarder = th_node(dir, net, "hoarder", "bk/bt/qt/na-pai");
	flooded = th_node(dir, net, "flooded", "bk");
	helper = th_node(dir, net, "helper", "bk");
	repeat = th_node(dir, net, "repeat", "bk/bt/qt/na-pai");
	judge = th_node(dir, net, "judge", "bk");
	ASSERT_OK(th_put(repeat, "health_profile", "HP-R",
			 "person_id=777777777777;full_name=Repeat;birth_date=1970-01-01"));
	ASSERT_OK(th_put(forger, "health_profile", "HP-F",
			 "person_id=888888888888;full_name=Forged;birth_date=1970-01-01"));
	piper = th_node(dir, net, "piper", "bk/bt/qt/na-pai");
	greedy = th_node(dir, net, "greedy", "bk/bt/qt/na-pai");
	put_profiles(piper, 300, 2);
	put_profiles(greedy, 400, 3);
	pipeline = th_node(dir, net, "pipeline", "bk");
	daemon_proc_init(&pv, dir, "village");
	daemon_proc_init(&pc, dir, "commune");
	daemon_proc_init(&pp, dir, "province");
	daemon_proc_init(&po, dir, "outsider");
	/* never outlive ctest's limit with daemons left behind */
	ASSERT_OK(daemon_proc_guard(280));

	put_profiles(v, 0, 50);
	ASSERT_OK(th_put(c, "payment", "PAY-1",
			 "program=social_allowance;beneficiary_id=B1;period=2026-10;amount_vnd=#500000;status=created"));
	ASSERT_OK(th_put(o, "health_profile", "HP-X",
			 "person_id=999999999999;full_name=Outsider;birth_date=1970-01-01"));

	/* a port found free may be taken before the daemon binds it (tests
	 * run in parallel): start again on new ports, a bounded number of
	 * times */
	for (int attempt = 0;; attempt++) {
		ASSERT_TRUE(attempt < 5);
		if (attempt)
			fprintf(stderr, "   a daemon did not start: again on new ports (%d)\n",
				attempt);
		/* what the commune holds before this try's daemons run: a try
		 * given up may have synced some of the village's entries */
		c_start = th_records(c);
		pv.port = free_port();
		pc.port = free_port();
		pp.port = free_port();
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", pc.port);
		snprintf(vaddr, sizeof(vaddr), "127.0.0.1:%d", pv.port);
		snprintf(cfgpath, sizeof(cfgpath), "%s/province.ini", dir);
		ASSERT_TRUE((cf = fopen(cfgpath, "w")) != NULL);
		fprintf(cf,
			"[node]\npeers = %s\n[limits]\nmax_peers = 8\nbatch = 256\n",
			addr);
		fclose(cf);
		/* the commune and the village both dial each other */
		if (!start(&pc,
			   (const char *const[]){ "--peer", vaddr, NULL }))
			continue;
		if (!start(&pv,
			   (const char *const[]){ "--peer", addr, NULL })) {
			stop(&pc);
			continue;
		}
		if (!start(&pp, (const char *const[]){ "--config", cfgpath,
						       NULL })) {
			stop(&pc);
			stop(&pv);
			continue;
		}
		break;
	}

	/* a connection that never says anything, checked at the end */
	sleep_ms(100);
	silent = tcp_connect(pc.port);
	silent_t0 = now_ms();

	TEST_START("records put on the village reach the province through the commune");
	ASSERT_TRUE((ms = wait_same(v, p, WAIT_MS)) >= 0);
	ASSERT_TRUE(wait_same(v, c, WAIT_MS) >= 0);
	ASSERT_EQ(th_records(p), 51);
	fprintf(stderr, "   converged in %lld ms\n", ms);

	TEST_START("records written through the village's socket are pushed live");
	put_profiles_live(pv.sock, 1000, 20);
	ASSERT_TRUE((ms = wait_same(v, p, WAIT_MS)) >= 0);
	ASSERT_TRUE(wait_same(v, c, WAIT_MS) >= 0);
	ASSERT_EQ(th_records(p), 71);
	fprintf(stderr, "   pushed in %lld ms\n", ms);

	TEST_START("a node of another network never gets past the handshake");
	ASSERT_OK(daemon_proc_start_listening(
		&po, hamletd, (const char *const[]){ "--peer", addr, NULL },
		5));
	ASSERT_TRUE(wait_log(&pc, "handshake failed: message failed to decrypt", WAIT_MS));
	/* it learns nothing of the commune: it is only told the commune
	 * hung up on its first message */
	ASSERT_TRUE(wait_log(&po, "another network", WAIT_MS));
	ASSERT_TRUE(!daemon_proc_log_has(&po, "connected"));
	sleep_ms(500);
	ASSERT_EQ(th_records(c), 71);
	ASSERT_EQ(th_records(o), 1);
	/* the village and the province stay (or, on a loaded machine, are
	 * soon again) connected to the commune: bounded wait */
	ASSERT_TRUE(wait_connected(pc.sock, 2, WAIT_MS));
	ASSERT_EQ(stop(&po), 0);

	TEST_START("a peer claiming our network without its key fails at its first message and learns nothing, not even our key");
	{
		uint8_t bad[32];
		randombytes_buf(bad, sizeof(bad));
		ASSERT_EQ(rogue_first_message(rogue, pc.port, bad), 0);
		ASSERT_TRUE(wait_log(&pc, "handshake failed", WAIT_MS));
	}

	TEST_START("raw garbage before the handshake is dropped");
	{
		static const char junk[] = "\x00\x30GET / HTTP/1.0\r\n\r\n"
					   "GET / HTTP/1.0\r\n\r\nxxxxxxxxxxxx";
		fd = tcp_connect(pc.port);
		send_all(fd, (const uint8_t *)junk, sizeof(junk) - 1);
	}
	ASSERT_TRUE(wait_closed(fd, WAIT_MS));
	close(fd);

	TEST_START("a first message larger than any handshake's is named as no hamlet handshake");
	{
		static uint8_t big[2 + 65535];
		memset(big, 0xff, sizeof(big));
		fd = tcp_connect(pc.port);
		send_all(fd, big, sizeof(big));
	}
	ASSERT_TRUE(wait_closed(fd, WAIT_MS));
	close(fd);
	ASSERT_TRUE(wait_log(&pc, "is no hamlet handshake (not a hamlet node?)", WAIT_MS));

	TEST_START("a peer's ERROR text cannot start a log line of its own, nor hold a terminal escape");
	fd = rogue_error(rogue, pc.port);
	ASSERT_TRUE(wait_closed(fd, WAIT_MS));
	close(fd);
	ASSERT_TRUE(wait_log(&pc, "peer reported an error: bye", WAIT_MS));
	ASSERT_TRUE(daemon_proc_log_has(&pc, "bye <2>hamletd: the disk holding the store is full [31m"));
	ASSERT_TRUE(!daemon_proc_log_has(&pc, "\n<2>hamletd: the disk"));
	ASSERT_TRUE(!daemon_proc_log_has(&pc, "\x1b"));

	TEST_START("a peer with the key that sends a garbage frame is dropped, naming it, while the province keeps syncing");
	fd = rogue_garbage(rogue, pc.port);
	ASSERT_TRUE(wait_closed(fd, WAIT_MS));
	close(fd);
	hex_encode(rogue->pk, 8, hex);
	ASSERT_TRUE(wait_log(&pc, hex, WAIT_MS));
	ASSERT_TRUE(daemon_proc_log_has(&pc, "not one valid msgpack object"));
	put_profiles_live(pv.sock, 2000, 10);
	ASSERT_TRUE(wait_same(v, p, WAIT_MS) >= 0);
	ASSERT_EQ(th_records(p), 81);

	TEST_START("a peer that sends an entry with a forged signature is dropped, naming the fault");
	fd = rogue_entry(forger, pc.port, 1);
	ASSERT_TRUE(wait_closed(fd, WAIT_MS));
	close(fd);
	hex_encode(forger->pk, 8, hex);
	ASSERT_TRUE(wait_log(&pc, hex, WAIT_MS));
	ASSERT_TRUE(daemon_proc_log_has(&pc, "signature does not verify"));
	/* the entry refused is named by its own seq, not 0 */
	ASSERT_TRUE(daemon_proc_log_has(&pc, "(seq 1) rejected"));
	ASSERT_EQ(th_records(c), 81);
	status_of(pc.sock, 5000, &ds);
	ASSERT_EQ(ds.refused_invalid, 1);

	TEST_START("a peer dropped for a fault is backed off when it comes back");
	fd = rogue_garbage(rogue, pc.port);
	ASSERT_TRUE(wait_closed(fd, WAIT_MS));
	close(fd);
	ASSERT_TRUE(wait_log(&pc, "backed off", WAIT_MS));

	TEST_START("a peer that asks without reading is dropped before the daemon grows, while the province keeps syncing");
	{
		uint8_t vkey[32];
		long peak = 0, before;
		log_feed_key(v->pk, v->scope, vkey);
		put_profiles_live(pv.sock, 3000, 10);
		before = rss_kb(pc.pid);
		fd = rogue_hoard(hoarder, pc.port, vkey, pc.pid, 15000, &peak);
		ASSERT_TRUE(wait_log(&pc, "does not read:", WAIT_MS));
		fprintf(stderr, "   commune's RSS %ld kB before, %ld kB at most\n",
			before, peak);
		ASSERT_TRUE(before > 0 && peak > 0);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
		/* a sanitizer's shadow (and AddressSanitizer's quarantine):
		 * judge the growth */
		ASSERT_TRUE(peak - before < 64 * 1024);
#else
		ASSERT_TRUE(peak < 64 * 1024);
		ASSERT_TRUE(rss_kb(pc.pid) < 64 * 1024);
#endif
		ASSERT_TRUE(wait_same(v, p, WAIT_MS) >= 0);
		ASSERT_EQ(th_records(p), 91);
		close(fd);
	}

	TEST_START("both ends dialling each other end with one connection");
	ASSERT_TRUE(wait_connected(pc.sock, 2, WAIT_MS));
	ASSERT_TRUE(wait_connected(pv.sock, 1, WAIT_MS));
	sleep_ms(1500); /* the commune's redial has happened by now */
	status_of(pc.sock, 5000, &ds);
	ASSERT_EQ(ds.connected, 2);

	TEST_START("SIGHUP reloads the peer list; peer_add over RPC dials again");
	ASSERT_TRUE((cf = fopen(cfgpath, "w")) != NULL);
	fprintf(cf, "[node]\npeers =\n");
	fclose(cf);
	kill(pp.pid, SIGHUP);
	ASSERT_TRUE(wait_log(&pp, "reloaded the peer list (0 peers)", WAIT_MS));
	ASSERT_TRUE(wait_connected(pp.sock, 0, WAIT_MS));
	{
		uint8_t *resp;
		size_t rn;
		ASSERT_OK(rpc_client_call(pp.sock, "peer_add", addr, 5000,
					  &resp, &rn));
		ASSERT_EQ(resp[1], 0); /* [0, nil] */
		free(resp);
	}
	ASSERT_TRUE(wait_connected(pp.sock, 1, WAIT_MS));

	TEST_START("sync over the local socket is answered on both sides of a session");
	{
		uint8_t *resp;
		size_t rn;
		ASSERT_OK(rpc_client_call(pc.sock, "sync", NULL, 5000, &resp,
					  &rn));
		ASSERT_TRUE(rn == 3 && resp[1] == 0 && resp[2] == 0xc0);
		free(resp);
		ASSERT_OK(rpc_client_call(pv.sock, "sync", NULL, 5000, &resp,
					  &rn));
		ASSERT_TRUE(rn == 3 && resp[1] == 0 && resp[2] == 0xc0);
		free(resp);
		ASSERT_OK(rpc_client_call(pc.sock, "no_such_method", NULL, 5000,
					  &resp, &rn));
		ASSERT_TRUE(rn > 3 && resp[1] != 0); /* [negative code, text] */
		/* the text names the method, and says what is wrong */
		static const char unk[] = "unknown method \"no_such_method\"";
		ASSERT_TRUE(memmem(resp, rn, unk, strlen(unk)) != NULL);
		free(resp);
		ASSERT_OK(rpc_client_call(pc.sock, "status", "extra", 5000,
					  &resp, &rn));
		static const char noarg[] = "\"status\" takes no argument";
		ASSERT_TRUE(memmem(resp, rn, noarg, strlen(noarg)) != NULL);
		free(resp);
		ASSERT_TRUE(wait_same(v, c, WAIT_MS) >= 0);
		ASSERT_TRUE(wait_same(v, p, WAIT_MS) >= 0);
	}

	TEST_START("malformed ingest requests are refused, naming the fault; the daemon keeps serving");
	{
		struct th_pool pool = { 0 };
		struct mp_writer w;
		uint8_t junk[8] = { 0xc1, 0xc1 }, sig[64];
		int64_t code;
		th_pool_fill(v, &pool);
		ASSERT_TRUE(pool.n >= 2);
		ingest_refused(pc.sock, junk, 2, "not one msgpack value");
		mp_writer_init(&w);
		msgpack_pack_array(&w.pk, 0);
		ingest_refused(pc.sock, (uint8_t *)w.sb.data, w.sb.size,
			       "expected a list of 1 to");
		mp_writer_destroy(&w);
		mp_writer_init(&w);
		msgpack_pack_array(&w.pk, 2);
		pack_entry(&w, &pool.in[0]);
		msgpack_pack_array(&w.pk, 3);
		mp_pack_bin(&w.pk, pool.in[1].env, pool.in[1].env_len);
		mp_pack_bin(&w.pk, pool.in[1].sig, 63);
		msgpack_pack_nil(&w.pk);
		ingest_refused(pc.sock, (uint8_t *)w.sb.data, w.sb.size,
			       "entry 1: sig is not a bin of 64 bytes");
		mp_writer_destroy(&w);
		mp_writer_init(&w);
		msgpack_pack_array(&w.pk, 1);
		msgpack_pack_array(&w.pk, 2);
		mp_pack_str(&w.pk, "env");
		msgpack_pack_nil(&w.pk);
		ingest_refused(pc.sock, (uint8_t *)w.sb.data, w.sb.size,
			       "entry 0 is not [env, sig, body|nil]");
		mp_writer_destroy(&w);
		mp_writer_init(&w);
		msgpack_pack_array(&w.pk, RPC_MAX_INGEST_ENTRIES + 1);
		for (int i = 0; i < RPC_MAX_INGEST_ENTRIES + 1; i++)
			msgpack_pack_nil(&w.pk);
		ingest_refused(pc.sock, (uint8_t *)w.sb.data, w.sb.size,
			       "more than 4096 entries");
		mp_writer_destroy(&w);

		/* well formed: one the commune holds, one with a bad signature */
		struct log_in bad = pool.in[1];
		struct mp_doc d;
		uint8_t *buf;
		const msgpack_object *res, *parts, *outs, *oc, *st;
		uint64_t u;
		memcpy(sig, bad.sig, 64);
		sig[5] ^= 1;
		bad.sig = sig;
		mp_writer_init(&w);
		msgpack_pack_array(&w.pk, 2);
		pack_entry(&w, &pool.in[0]);
		pack_entry(&w, &bad);
		res = rpc_ingest(pc.sock, (uint8_t *)w.sb.data, w.sb.size, &d,
				 &buf, &code);
		mp_writer_destroy(&w);
		ASSERT_EQ(code, 0);
		ASSERT_OK(mp_get_array(res, 2, 0, &parts, NULL));
		ASSERT_OK(mp_get_array(&parts[0], 2, 0, &outs, NULL));
		ASSERT_OK(mp_get_array(&outs[0], 4, 0, &oc, NULL));
		ASSERT_OK(mp_get_uint(&oc[0], 10, &u));
		ASSERT_EQ(u, LOG_DUPLICATE);
		ASSERT_OK(mp_get_array(&outs[1], 4, 0, &oc, NULL));
		ASSERT_OK(mp_get_uint(&oc[0], 10, &u));
		ASSERT_EQ(u, LOG_REJECTED);
		ASSERT_OK(mp_get_int(&oc[1], &code));
		ASSERT_EQ(code, HAMLET_ESIG);
		ASSERT_OK(mp_get_array(&parts[1], 6, 0, &st, NULL));
		ASSERT_OK(mp_get_uint(&st[1], UINT64_MAX, &u));
		ASSERT_EQ(u, 1); /* duplicate */
		ASSERT_OK(mp_get_uint(&st[5], UINT64_MAX, &u));
		ASSERT_EQ(u, 1); /* rejected */
		mp_doc_close(&d);
		free(buf);
		th_pool_free(&pool);
		status_of(pc.sock, 5000, &ds); /* still answers */
		ASSERT_EQ(strlen(ds.digest), 64);
	}

	TEST_START("the local socket: empty strings, clients that never read, idle clients, addresses to dial");
	{
		static const uint8_t empty2[] = { 0x92, 0xa0, 0xa0 };
		uint8_t req[64];
		char msg[300];
		long before, peak = 0;
		int fds[RPC_CLIENTS_TEST], fd2, closed = 0, sent = 0, blocked = 0;
		struct mp_writer w;

		/* ["", ""]: an answer naming the fault, and the daemon serves on */
		ASSERT_TRUE(answer_of(pc.sock, empty2, sizeof(empty2), msg,
				      sizeof(msg)) < 0);
		ASSERT_TRUE(strstr(msg, "unknown method") != NULL);

		/* a client that asks without reading is closed, bounded */
		before = rss_kb(pc.pid);
		req[0] = 0;
		req[1] = 0;
		req[2] = 0;
		req[3] = 8;
		memcpy(req + 4, "\x91\xa6status", 8); /* ["status"] */
		fd2 = unix_connect(pc.sock);
		fcntl(fd2, F_SETFL, O_NONBLOCK);
		/* bounded: 20 s at most, 2,000,000 requests at most */
		long long t0 = daemon_proc_now_ms();
		for (int i = 0; i < 2000000 && !closed &&
				daemon_proc_now_ms() - t0 < 20000;
		     i++) {
			ssize_t k = send(fd2, req, 12, MSG_NOSIGNAL);
			sent += k == 12;
			blocked += k < 0 && errno == EAGAIN;
			if (k < 0 && errno == EAGAIN) {
				sleep_ms(1);
				long r = rss_kb(pc.pid);
				if (r > peak)
					peak = r;
			} else if (k < 0) {
				closed = 1; /* EPIPE or ECONNRESET: dropped */
			}
		}
		close(fd2);
		if (!closed)
			fprintf(stderr, "   sent %d requests, %d would block\n",
				sent, blocked);
		ASSERT_TRUE(closed);
		ASSERT_TRUE(wait_log(&pc, "does not read its answers", WAIT_MS));
		fprintf(stderr, "   RSS %ld KiB before, %ld KiB at most while flooded\n",
			before, peak);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
		/* AddressSanitizer keeps freed blocks in quarantine, and a
		 * sanitizer has its shadow: judge the growth, not the sum */
		ASSERT_TRUE(peak - before < 128 * 1024);
#else
		ASSERT_TRUE(peak < 64 * 1024);
#endif

		/* every client slot held idle: status still gets through */
		for (int i = 0; i < RPC_CLIENTS_TEST; i++)
			fds[i] = unix_connect(pc.sock);
		sleep_ms(200);
		status_of(pc.sock, 5000, &ds);
		ASSERT_TRUE(ds.connected >= 1);
		for (int i = 0; i < RPC_CLIENTS_TEST; i++)
			close(fds[i]);

		/* every slot held by a client that asked 100 times and reads
		 * none of its answers (far less than the 4 MiB that closes
		 * one at once): status gets through all the same, once their
		 * answers have waited 2 s, and the log says why */
		{
			int stuck[RPC_CLIENTS_TEST - 1];
			uint8_t many[100 * 12];
			for (int k = 0; k < 100; k++)
				memcpy(many + 12 * k, req, 12);
			for (int i = 0; i < RPC_CLIENTS_TEST - 1; i++) {
				stuck[i] = unix_connect(pc.sock);
				send_all(stuck[i], many, sizeof(many));
			}
			sleep_ms(2500);
			status_of(pc.sock, 10000, &ds);
			ASSERT_TRUE(ds.connected >= 1);
			ASSERT_TRUE(wait_log(&pc, "left its answers unread", WAIT_MS));
			for (int i = 0; i < RPC_CLIENTS_TEST - 1; i++)
				close(stuck[i]);
		}

		/* peers add: a bad address is refused, naming it; a good one
		 * is answered with what will be dialled */
		mp_writer_init(&w);
		msgpack_pack_array(&w.pk, 2);
		mp_pack_str(&w.pk, "peer_add");
		mp_pack_str(&w.pk, "127.0.0.1:+7450");
		ASSERT_TRUE(answer_of(pc.sock, (uint8_t *)w.sb.data, w.sb.size,
				      msg, sizeof(msg)) < 0);
		fprintf(stderr, "   peer_add 127.0.0.1:+7450: %s\n", msg);
		ASSERT_TRUE(strstr(msg, "is not HOST:PORT") != NULL);
		mp_writer_destroy(&w);
		mp_writer_init(&w);
		msgpack_pack_array(&w.pk, 2);
		mp_pack_str(&w.pk, "peer_add");
		mp_pack_str(&w.pk, "evil host:1");
		ASSERT_TRUE(answer_of(pc.sock, (uint8_t *)w.sb.data, w.sb.size,
				      msg, sizeof(msg)) < 0);
		mp_writer_destroy(&w);
		mp_writer_init(&w);
		msgpack_pack_array(&w.pk, 2);
		mp_pack_str(&w.pk, "peer_add");
		mp_pack_str(&w.pk, "127.0.0.1:9");
		ASSERT_EQ(answer_of(pc.sock, (uint8_t *)w.sb.data, w.sb.size,
				    msg, sizeof(msg)), 0);
		ASSERT_STREQ(msg, "host 127.0.0.1, port 9");
		mp_writer_destroy(&w);
		{
			uint8_t *rb = NULL;
			size_t rbl;
			ASSERT_OK(rpc_client_call(pc.sock, "peer_remove",
						  "127.0.0.1:9", 5000, &rb, &rbl));
			free(rb);
		}
	}

	TEST_START("status over the local socket shows peers, entries and the digest");
	ASSERT_TRUE(wait_connected(pc.sock, 2, WAIT_MS));
	status_of(pc.sock, 5000, &ds);
	ASSERT_EQ(ds.connected, 2);
	/* the 90 of the village and the province's none, less what an
	 * earlier try stored */
	if (ds.entries_in + 10 < 91 - c_start)
		fprintf(stderr, "   entries_in %llu, the commune held %llu at the start\n",
			(unsigned long long)ds.entries_in,
			(unsigned long long)c_start);
	ASSERT_TRUE(ds.entries_in + 10 >= 91 - c_start);
	th_digest(c, dv);
	hex_encode(dv, 32, hex);
	ASSERT_STREQ(ds.digest, hex);

	TEST_START("a bulk transfer crosses both hops; its rate is printed");
	status_of(pv.sock, 5000, &ds);
	sent_before = ds.entries_out;
	put_profiles_live(pv.sock, 100000, bulk);
	ASSERT_TRUE((ms = wait_same(v, p, 120000)) >= 0);
	ASSERT_EQ(th_records(p), 91 + (uint64_t)bulk);
	fprintf(stderr,
		"   %d entries village -> commune -> province in %lld ms: %.0f entries/s\n",
		bulk, ms, ms ? bulk * 1000.0 / (double)ms : 0.0);
	{
		uint64_t before = sent_before;
		status_of(pv.sock, 5000, &ds);
		fprintf(stderr, "   the village sent %llu entries for %d new\n",
			(unsigned long long)(ds.entries_out - before), bulk);
		/* nothing is sent twice within a session */
		ASSERT_EQ(ds.entries_out - before, (uint64_t)bulk);
	}

	TEST_START("a connection silent in the handshake is dropped after 10 s");
	ASSERT_TRUE(wait_closed(silent, WAIT_MS));
	ASSERT_TRUE(now_ms() - silent_t0 >= 9000);
	close(silent);
	ASSERT_TRUE(daemon_proc_log_has(&pc, "handshake timed out"));

	TEST_START("an entry outside the node's scopes is refused from a peer; from a bundle through the socket it is not ours, stored by neither");
	{
		struct daemon_proc ps;
		struct node *s = th_node(dir, net, "stranger", "bk/other/x");
		struct th_pool pool = { 0 };
		struct mp_writer w;
		struct mp_doc d;
		const msgpack_object *res, *outs, *oc;
		uint8_t *buf;
		int64_t code;
		char why[256];
		const char *scoped = "[node]\nscopes = bk/bt/qt\n";
		ASSERT_OK(th_put(s, "health_profile", "HP-S",
				 "person_id=555555555555;full_name=Stranger;birth_date=1970-01-01"));
		struct node *sc = th_node(dir, net, "scoped", "bk/bt/qt");
		node_close(sc); /* its daemon opens it */
		daemon_proc_init(&ps, dir, "scoped");
		snprintf(cfgpath, sizeof(cfgpath), "%s/scoped.ini", dir);
		ASSERT_TRUE((cf = fopen(cfgpath, "w")) != NULL);
		fputs(scoped, cf);
		fclose(cf);
		ASSERT_OK(daemon_proc_start_listening(
			&ps, hamletd,
			(const char *const[]){ "--config", cfgpath, NULL }, 5));
		/* from a peer: the batch is refused whole, the peer dropped */
		fd = rogue_entry(s, ps.port, 0);
		ASSERT_TRUE(wait_closed(fd, WAIT_MS));
		close(fd);
		ASSERT_TRUE(wait_log(&ps, "lies outside this node's scopes", WAIT_MS));
		/* the same entry from a bundle, through the socket */
		th_pool_fill(s, &pool);
		ASSERT_EQ(pool.n, 1);
		mp_writer_init(&w);
		msgpack_pack_array(&w.pk, 1);
		pack_entry(&w, &pool.in[0]);
		res = rpc_ingest(ps.sock, (uint8_t *)w.sb.data, w.sb.size, &d,
				 &buf, &code);
		mp_writer_destroy(&w);
		ASSERT_EQ(code, 0);
		ASSERT_OK(mp_get_array(res, 2, 0, &outs, NULL));
		ASSERT_OK(mp_get_array(&outs[0], 1, 0, &oc, NULL));
		ASSERT_OK(mp_get_array(&oc[0], 4, 0, &oc, NULL));
		ASSERT_EQ(oc[0].via.u64, LOG_REJECTED);
		ASSERT_OK(mp_get_cstr(&oc[2], why, sizeof(why)));
		fprintf(stderr, "   refused: %s\n", why);
		ASSERT_TRUE(strstr(why, "seq 1 of scope bk/other/x lies outside this node's scopes") != NULL);
		/* a bundle's entry of another scope is "not ours": one line
		 * counts them, naming no scope or seq of another village */
		ASSERT_TRUE(wait_log(&ps, "import: not ours: 1 entries of scopes this node does not read", WAIT_MS));
		ASSERT_TRUE(!daemon_proc_log_has(&ps, "import: entry refused"));
		mp_doc_close(&d);
		free(buf);
		th_pool_free(&pool);
		/* status counts the peer's refusal, for its reason alone;
		 * the bundle's entry was not refused */
		status_of(ps.sock, 5000, &ds);
		ASSERT_EQ(ds.refused_scope, 1);
		ASSERT_EQ(ds.refused_invalid + ds.refused_future +
				  ds.refused_held_cap + ds.refused_frozen +
				  ds.forks,
			  0);
		/* neither way stored it */
		{
			struct node *sn;
			char h[4200], w2[256];
			uint64_t nrec = 1;
			struct store_txn *t;
			uint8_t dg2[32];
			snprintf(h, sizeof(h), "%s/scoped", dir);
			ASSERT_EQ(stop(&ps), 0);
			ASSERT_OK(node_open(h, 1, &sn, w2, sizeof(w2)));
			ASSERT_OK(store_txn_begin(sn->st, 1, &t));
			ASSERT_OK(record_digest(t, dg2, &nrec));
			store_txn_abort(t);
			ASSERT_EQ(nrec, 0);
			node_close(sn);
		}
		node_close(s);
	}

	TEST_START("an entry a revocation here refuses, relayed by a peer that has not heard of it, is refused and counted, the peer kept");
	{
		struct daemon_proc pr;
		long long t0;
		struct node *wr = th_node(dir, net, "rv-writer", "bk/rw");
		struct node *relay = th_node(dir, net, "rv-relay", "bk");
		struct node *rd = th_node(dir, net, "rv-node", "bk");
		struct th_pool pool = { 0 };
		struct log_out lo[4];
		struct trustset_item it = { TRUST_REVOKE, NULL, 0 };
		struct trustset_out to;
		uint8_t wkey[32], zero[32] = { 0 }, *rv;
		size_t rl;
		ASSERT_OK(th_put(wr, "health_profile", "HP-RV",
				 "person_id=666666666666;full_name=Revoked;birth_date=1970-01-01"));
		th_pool_fill(wr, &pool);
		ASSERT_OK(log_ingest(relay->st, relay->net.id, pool.in, pool.n,
				     lo, NULL, NULL));
		ASSERT_EQ(lo[0].status, LOG_APPLIED);
		th_pool_free(&pool);
		/* the node learns the revocation, keeping nothing; the relay
		 * has not heard of it */
		rv = th_revoke_by_root(net, wr, "bk/rw", 0, zero, &rl);
		it.data = rv;
		it.len = rl;
		ASSERT_OK(log_trust_ingest(rd->st, rd->net.id, &it, 1, &to, NULL,
					   NULL));
		ASSERT_EQ(to.status, TRUSTSET_ADDED);
		free(rv);
		node_close(rd); /* its daemon opens it */
		daemon_proc_init(&pr, dir, "rv-node");
		ASSERT_OK(daemon_proc_start_listening(&pr, hamletd, NULL, 5));
		log_feed_key(wr->pk, "bk/rw", wkey);
		fd = rogue_relay(relay, pr.port, wkey);
		/* counted among the refusals (bounded: WAIT_MS, and
		 * 1500 x 20 ms) */
		t0 = now_ms();
		for (int i = 0; i < 1500 && now_ms() - t0 < WAIT_MS; i++) {
			status_of(pr.sock, 5000, &ds);
			if (ds.refused_revoked)
				break;
			sleep_ms(20);
		}
		fprintf(stderr, "   refused, revoked: %llu\n",
			(unsigned long long)ds.refused_revoked);
		ASSERT_EQ(ds.refused_revoked, 1);
		ASSERT_EQ(ds.refused_not_granted, 0);
		ASSERT_EQ(ds.refused_invalid, 0);
		/* refused, not a fault: the relay is not dropped nor backed
		 * off, and nothing of the entry is stored */
		ASSERT_TRUE(!daemon_proc_log_has(&pr, "dropped:"));
		ASSERT_TRUE(!daemon_proc_log_has(&pr, "backed off"));
		close(fd);
		ASSERT_EQ(stop(&pr), 0);
		{
			struct node *back;
			char h[4200], w2[256];
			snprintf(h, sizeof(h), "%s/rv-node", dir);
			ASSERT_OK(node_open(h, 1, &back, w2, sizeof(w2)));
			ASSERT_EQ(th_records(back), 0);
			node_close(back);
		}
		node_close(relay);
		node_close(wr);
	}

	TEST_START("an entry of a feed frozen here after a fork, sent by a peer that has not heard of the fork, is refused and counted, the peer kept");
	{
		struct daemon_proc pz;
		long long t0;
		struct node *wr = th_node(dir, net, "fz-writer", "bk/fz");
		struct node *relay = th_node(dir, net, "fz-relay", "bk");
		struct node *rd = th_node(dir, net, "fz-node", "bk");
		struct node *clone;
		struct th_pool pw = { 0 }, pcl = { 0 };
		struct log_out lo[4];
		uint8_t wkey[32];
		char cmd[8600], h[4200], w2[256];
		ASSERT_OK(th_put(wr, "health_profile", "HP-FZ",
				 "person_id=777777777777;full_name=Forked;birth_date=1970-01-01"));
		/* the writer's key copied to a second PC: both sign a seq 2,
		 * and the writer goes on to seq 3 */
		node_close(wr);
		snprintf(cmd, sizeof(cmd), "cp -a '%s/fz-writer' '%s/fz-clone'",
			 dir, dir);
		ASSERT_EQ(system(cmd), 0);
		snprintf(h, sizeof(h), "%s/fz-writer", dir);
		ASSERT_OK(node_open(h, 0, &wr, w2, sizeof(w2)));
		snprintf(h, sizeof(h), "%s/fz-clone", dir);
		ASSERT_OK(node_open(h, 0, &clone, w2, sizeof(w2)));
		ASSERT_OK(th_put(wr, "health_profile", "HP-FZ", "phone=0900000001"));
		ASSERT_OK(th_put(clone, "health_profile", "HP-FZ", "phone=0900000002"));
		ASSERT_OK(th_put(wr, "health_profile", "HP-FZ", "phone=0900000003"));
		th_pool_fill(wr, &pw);
		th_pool_fill(clone, &pcl);
		ASSERT_EQ(pw.n, 3);
		/* the relay holds the writer's three; the node holds seq 1
		 * and 2 and the clone's seq 2: frozen at seq 2 */
		ASSERT_OK(log_ingest(relay->st, relay->net.id, pw.in, pw.n, lo,
				     NULL, NULL));
		ASSERT_OK(log_ingest(rd->st, rd->net.id, pw.in, 2, lo, NULL,
				     NULL));
		ASSERT_OK(log_ingest(rd->st, rd->net.id, &pcl.in[1], 1, lo, NULL,
				     NULL));
		ASSERT_EQ(lo[0].status, LOG_FORK);
		th_pool_free(&pw);
		th_pool_free(&pcl);
		node_close(rd); /* its daemon opens it */
		daemon_proc_init(&pz, dir, "fz-node");
		ASSERT_OK(daemon_proc_start_listening(&pz, hamletd, NULL, 5));
		log_feed_key(wr->pk, "bk/fz", wkey);
		fd = rogue_relay_seq(relay, pz.port, wkey, 3);
		/* counted among the refusals (bounded: WAIT_MS, and
		 * 1500 x 20 ms) */
		t0 = now_ms();
		for (int i = 0; i < 1500 && now_ms() - t0 < WAIT_MS; i++) {
			status_of(pz.sock, 5000, &ds);
			if (ds.refused_frozen)
				break;
			sleep_ms(20);
		}
		fprintf(stderr, "   refused, frozen feed: %llu\n",
			(unsigned long long)ds.refused_frozen);
		ASSERT_EQ(ds.refused_frozen, 1);
		ASSERT_EQ(ds.refused_invalid, 0);
		/* refused, not a fault: the relay neither dropped nor backed
		 * off, and the refusal logged with the peer and the feed */
		ASSERT_TRUE(!daemon_proc_log_has(&pz, "dropped:"));
		ASSERT_TRUE(!daemon_proc_log_has(&pz, "backed off"));
		ASSERT_TRUE(wait_log(&pz, "refused 1 entry it sent: feed bk/fz is frozen at seq 2 after a fork", WAIT_MS));
		close(fd);
		ASSERT_EQ(stop(&pz), 0);
		node_close(clone);
		node_close(relay);
		node_close(wr);
	}

	TEST_START("a flood of connections without the network key locks out neither a dial nor its sync");
	{
		struct daemon_proc pf, ph;
		uint8_t *resp;
		size_t rn;
		struct flood flood;
		int st, on_in, on_synced;
		daemon_proc_init(&pf, dir, "flooded");
		daemon_proc_init(&ph, dir, "helper");
		put_profiles(helper, 5000, 30);
		ASSERT_OK(daemon_proc_start_listening(&ph, hamletd, NULL, 5));
		ASSERT_OK(daemon_proc_start_listening(&pf, hamletd, NULL, 5));
		/* held until the sync is done; at most longer than the
		 * waits below */
		flood_start(&flood, pf.port, 120, 2 * WAIT_MS + 5000);
		sleep_ms(2000);
		ASSERT_OK(rpc_client_call(pf.sock, "peer_add", ph.addr, 5000,
					  &resp, &rn));
		ASSERT_EQ(resp[1], 0);
		free(resp);
		ASSERT_TRUE(wait_connected(pf.sock, 1, WAIT_MS));
		on_in = flood_running(&flood);
		ASSERT_TRUE(wait_same(helper, flooded, WAIT_MS) >= 0);
		on_synced = flood_running(&flood);
		st = flood_end(&flood);
		/* both while the flood went on; and it flooded */
		ASSERT_TRUE(on_in && on_synced);
		ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		ASSERT_EQ(th_records(flooded), 30);
		ASSERT_TRUE(!daemon_proc_log_has(&ph, "dropped:"));
		ASSERT_EQ(stop(&pf), 0);
		ASSERT_EQ(stop(&ph), 0);
	}

	TEST_START("a peer that faults again after each backoff is backed off longer each time");
	{
		struct daemon_proc pj;
		char jcfg[4200], line[64];
		daemon_proc_init(&pj, dir, "judge");
		snprintf(jcfg, sizeof(jcfg), "%s/judge.ini", dir);
		ASSERT_TRUE((cf = fopen(jcfg, "w")) != NULL);
		/* 3 s, then 6: the last gives the rogue's return below 6 s
		 * to arrive in, however loaded the machine */
		fprintf(cf, "[limits]\nfault_backoff = 3\n");
		fclose(cf);
		ASSERT_OK(daemon_proc_start_listening(
			&pj, hamletd, (const char *const[]){ "--config", jcfg, NULL },
			5));
		/* each time it says HELLO, then sends a forged entry */
		for (int i = 0, secs = 3; i < 2; i++, secs *= 2) {
			fd = rogue_entry(repeat, pj.port, 1);
			ASSERT_TRUE(wait_closed(fd, WAIT_MS));
			close(fd);
			snprintf(line, sizeof(line), "; backed off for %d s", secs);
			ASSERT_TRUE(wait_log(&pj, line, WAIT_MS));
			if (i < 1) /* wait the backoff out */
				sleep_ms(secs * 1000 + 300);
		}
		/* back before its 6 s are over: refused, not blamed again */
		fd = rogue_entry(repeat, pj.port, 1);
		ASSERT_TRUE(wait_closed(fd, WAIT_MS));
		close(fd);
		ASSERT_TRUE(wait_log(&pj, "backed off after a fault", WAIT_MS));
		ASSERT_TRUE(!daemon_proc_log_has(&pj, "; backed off for 12 s"));
		ASSERT_EQ(stop(&pj), 0);
	}

	TEST_START("a peer's second batch, sent before the first is acknowledged, is checked while the first commits; both are stored and acknowledged");
	{
		struct daemon_proc px;
		struct daemon_status before;
		long long t0;
		daemon_proc_init(&px, dir, "pipeline");
		ASSERT_OK(daemon_proc_start_listening(&px, hamletd, NULL, 5));
		status_of(px.sock, 5000, &before);
		fd = rogue_batches(piper, px.port, 2);
		t0 = now_ms();
		while (th_records(pipeline) < 2 && now_ms() - t0 < WAIT_MS)
			sleep_ms(20);
		ASSERT_EQ(th_records(pipeline), 2);
		/* the loop thread counts a batch after its commit: the store
		 * may show both before status counts the second (bounded:
		 * WAIT_MS, and 1500 x 20 ms) */
		t0 = now_ms();
		for (int i = 0; i < 1500 && now_ms() - t0 < WAIT_MS; i++) {
			status_of(px.sock, 5000, &ds);
			if (ds.batches_in - before.batches_in >= 2)
				break;
			sleep_ms(20);
		}
		ASSERT_EQ(ds.batches_in - before.batches_in, 2);
		ASSERT_EQ(ds.batches_in_overlap - before.batches_in_overlap, 1);
		ASSERT_TRUE(!daemon_proc_log_has(&px, "protocol"));
		close(fd);

		TEST_START("a third batch before the first is acknowledged is a protocol error, naming it");
		fd = rogue_batches(greedy, px.port, 3);
		ASSERT_TRUE(wait_closed(fd, WAIT_MS));
		close(fd);
		ASSERT_TRUE(wait_log(&px, "a third batch before the first", WAIT_MS));
		ASSERT_EQ(stop(&px), 0);
	}

	TEST_START("all three stop cleanly on SIGTERM and agree");
	ASSERT_EQ(stop(&pv), 0);
	ASSERT_EQ(stop(&pp), 0);
	ASSERT_EQ(stop(&pc), 0);
	ASSERT_TRUE(wait_same(v, c, 10) >= 0);
	ASSERT_TRUE(wait_same(v, p, 10) >= 0);

	node_close(v);
	node_close(c);
	node_close(p);
	node_close(o);
	node_close(rogue);
	node_close(forger);
	node_close(piper);
	node_close(greedy);
	node_close(pipeline);
	node_close(hoarder);
	node_close(flooded);
	node_close(helper);
	node_close(repeat);
	node_close(judge);
	free(other);
	th_scratch_done(dir, net);
	fprintf(stderr, "all daemon tests passed\n");
	return 0;
}
