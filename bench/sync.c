/*
 * bench/sync: the costs of replication between two hamletd on loopback,
 * from one run on this machine.
 *
 * Prints
 *  - end to end: ENTRIES entries written on node A before the daemons
 *    start, until node B's store holds them all (durable: B commits each
 *    batch before it ACKs), in entries/s, and its ratio to the 1-core
 *    verify rate measured in the same run;
 *  - wire bytes per entry each way (the status RPC's per-peer bytes_out
 *    of each daemon: A's carries the entries, B's the acks) against body
 *    bytes per entry;
 *  - one reconciliation between two stores that hold the same 10,000
 *    feeds: bytes each way and round trips (the responder's count of NEG
 *    messages received); then a reconnection, with the stores agreeing
 *    and with 10 feeds differing;
 *  - live push: entries written one at a time on A while the daemons are
 *    idle, time until each is readable in B's store, p50 and p99.
 *
 *   bench_sync [HAMLETD [ENTRIES]]   (default ../daemon/hamletd, 100000)
 *   HAMLET_BENCH_KEEP=1 keeps the stores and daemon logs.
 */
#include "bench_util.h"
#include "error.h"
#include "hlc.h"
#include "log.h"
#include "mp.h"
#include "node.h"
#include "rpc_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FEEDS 10000	   /* feeds in the reconciliation benchmark */
#define FEEDS_DIFFER 10	   /* of which this many differ, in its last part */
#define PUSHES 200	   /* live-push samples */
#define TRANSFER_MS 300000 /* bound on the end-to-end transfer */
#define WAIT_MS 30000	   /* bound on every other wait */
#define CHUNK 5000	   /* entries per write transaction */

static const char *hamletd;
static char dir[4096];

/* --- small helpers ----------------------------------------------------- */


static long long now_ms(void)
{
	return (long long)(bench_now() * 1000);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* --- daemons ----------------------------------------------------------- */

struct proc {
	const char *name;
	char home[4200];
	char sock[4200];
	char logf[4200];
	char addr[64]; /* where it listens */
	pid_t pid;
};

static struct proc *procs[4];
static size_t nprocs;

static void kill_all(void)
{
	/* also run from a signal handler: only async-signal-safe calls */
	for (size_t i = 0; i < nprocs; i++)
		if (procs[i]->pid > 0) {
			kill(procs[i]->pid, SIGKILL);
			waitpid(procs[i]->pid, NULL, 0);
			procs[i]->pid = 0;
		}
}

static void on_fatal_signal(int sig)
{
	kill_all();
	_exit(128 + sig);
}

static void rmrf(void)
{
	char cmd[4200];
	if (!dir[0])
		return;
	if (getenv("HAMLET_BENCH_KEEP")) {
		fprintf(stderr, "kept %s\n", dir);
		return;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_sync: could not remove %s\n", dir);
	dir[0] = 0;
}

static void cleanup(void)
{
	kill_all();
	rmrf();
}

/* The end of each daemon's log, so that a failure can be understood
 * after the temporary directory is gone. */
static void dump_logs(void)
{
	for (size_t i = 0; i < nprocs; i++) {
		char buf[2048];
		FILE *f = fopen(procs[i]->logf, "r");
		size_t n;
		if (!f)
			continue;
		fseek(f, 0, SEEK_END);
		if (ftell(f) > (long)sizeof(buf) - 1)
			fseek(f, -(long)sizeof(buf) + 1, SEEK_END);
		else
			fseek(f, 0, SEEK_SET);
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = 0;
		fclose(f);
		fprintf(stderr, "--- %s log (end) ---\n%s\n", procs[i]->name,
			buf);
	}
}

static void __attribute__((noreturn)) fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "bench_sync: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	kill_all();
	dump_logs();
	exit(1); /* cleanup() removes the directory */
}

static void die(const char *what, int r, const char *why)
{
	fail("%s: %s %s", what, hamlet_strerror(r), why ? why : "");
}

/* A port that was free a moment ago. */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &l) < 0)
		fail("no free port");
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int file_has(const char *path, const char *needle)
{
	char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n;
	int found = 0;
	if (!f)
		return 0;
	while ((n = fread(buf, 1, sizeof(buf) - 1, f)) > 0) {
		buf[n] = 0;
		if (strstr(buf, needle))
			found = 1;
	}
	fclose(f);
	return found;
}

/* Start p listening on a new port; peer is NULL or the address to dial. */
static void start(struct proc *p, const char *peer)
{
	char listen[64];
	const char *av[12];
	int n = 0;
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", free_port());
	snprintf(p->addr, sizeof(p->addr), "%s", listen);
	av[n++] = "hamletd";
	av[n++] = "--home";
	av[n++] = p->home;
	av[n++] = "--listen";
	av[n++] = listen;
	av[n++] = "--socket";
	av[n++] = p->sock;
	if (peer) {
		av[n++] = "--peer";
		av[n++] = peer;
	}
	av[n] = NULL;
	if ((p->pid = fork()) < 0)
		fail("fork failed");
	if (p->pid == 0) {
		int fd = open(p->logf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		/* the daemon dies with the bench, however the bench ends */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, 2);
		execv(hamletd, (char *const *)av);
		_exit(127);
	}
}

/* 1 once p logs that it listens; 0 if it exited (port taken) or 5 s
 * passed. */
static int wait_listening(struct proc *p)
{
	long long t0 = now_ms();
	while (now_ms() - t0 < 5000) {
		if (file_has(p->logf, "listening on"))
			return 1;
		if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
			p->pid = 0;
			return 0;
		}
		sleep_ms(2);
	}
	return 0;
}

/* SIGTERM, then wait at most 10 s; returns the exit status (or -1). */
static int stop(struct proc *p)
{
	int st = 0;
	long long t0 = now_ms();
	if (p->pid <= 0)
		return 0;
	kill(p->pid, SIGTERM);
	while (now_ms() - t0 < 10000) {
		if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
			p->pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		}
		sleep_ms(20);
	}
	kill(p->pid, SIGKILL);
	waitpid(p->pid, &st, 0);
	p->pid = 0;
	return -1;
}

/*
 * Start the responder, then the initiator dialling it, on fresh ports; a
 * port found free may be taken before the daemon binds it, so try again a
 * bounded number of times. Returns the time the responder was started.
 */
static double start_pair(struct proc *init, struct proc *resp)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		double t0 = bench_now();
		start(resp, NULL);
		if (!wait_listening(resp))
			continue;
		start(init, resp->addr);
		if (wait_listening(init))
			return t0;
		stop(resp);
	}
	fail("the daemons did not start");
}

/* --- the status RPC ---------------------------------------------------- */

/* One daemon's figures for its (only) peer. */
struct figures {
	int connected;
	uint64_t last_sync_ms;
	uint64_t bytes_in, bytes_out, entries_in, entries_out;
	uint64_t msgs_in, neg_in;
};

static int key_is(const msgpack_object *o, const char *name)
{
	const char *s;
	size_t l;
	return mp_get_str(o, 64, &s, &l) == 0 && l == strlen(name) &&
	       memcmp(s, name, l) == 0;
}

/* Figures summed over p's peers (the benchmark gives each one peer). */
static void status(struct proc *p, struct figures *ret)
{
	struct mp_doc d;
	const msgpack_object *a, *ps;
	const msgpack_object_kv *kv;
	uint8_t *resp;
	size_t n, nkv, np;
	int64_t code;
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = rpc_client_call(p->sock, "status", NULL, 10000, &resp,
				 &n)) < 0)
		die("status", r, p->name);
	if ((r = mp_doc_parse(&d, resp, n, 1024)) < 0 ||
	    (r = mp_get_array(d.root, 2, 2, &a, NULL)) < 0 ||
	    (r = mp_get_int(&a[0], &code)) < 0 || code != 0 ||
	    (r = mp_get_map(&a[1], 16, &kv, &nkv)) < 0)
		die("status answer", r < 0 ? r : (int)code, p->name);
	for (size_t i = 0; i < nkv; i++) {
		if (!key_is(&kv[i].key, "peers"))
			continue;
		if ((r = mp_get_array(&kv[i].val, SIZE_MAX, 1024, &ps, &np)) <
		    0)
			die("status peers", r, p->name);
		for (size_t j = 0; j < np; j++) {
			const msgpack_object_kv *pk;
			size_t npk;
			if ((r = mp_get_map(&ps[j], 32, &pk, &npk)) < 0)
				die("status peer", r, p->name);
			for (size_t m = 0; m < npk; m++) {
				const msgpack_object *k = &pk[m].key;
				const msgpack_object *v = &pk[m].val;
				uint64_t u = v->type ==
							     MSGPACK_OBJECT_POSITIVE_INTEGER
						     ? v->via.u64
						     : 0;
				if (key_is(k, "connected"))
					ret->connected +=
						v->type == MSGPACK_OBJECT_BOOLEAN &&
						v->via.boolean;
				else if (key_is(k, "last_sync_ms"))
					ret->last_sync_ms = u;
				else if (key_is(k, "bytes_in"))
					ret->bytes_in += u;
				else if (key_is(k, "bytes_out"))
					ret->bytes_out += u;
				else if (key_is(k, "entries_in"))
					ret->entries_in += u;
				else if (key_is(k, "entries_out"))
					ret->entries_out += u;
				else if (key_is(k, "messages_in"))
					ret->msgs_in += u;
				else if (key_is(k, "neg_in"))
					ret->neg_in += u;
			}
		}
	}
	mp_doc_close(&d);
	free(resp);
}

static void rpc(struct proc *p, const char *method, const char *arg)
{
	uint8_t *resp;
	size_t n;
	int r;
	if ((r = rpc_client_call(p->sock, method, arg, 10000, &resp, &n)) < 0)
		die(method, r, p->name);
	if (n != 3 || resp[1] != 0)
		fail("%s on %s was refused", method, p->name);
	free(resp);
}

static void wait_connected(struct proc *p, int want)
{
	long long t0 = now_ms();
	struct figures f;
	for (;;) {
		status(p, &f);
		if (f.connected == want)
			return;
		if (now_ms() - t0 > WAIT_MS)
			fail("%s: %d peers connected, not %d, after %d s",
			     p->name, f.connected, want, WAIT_MS / 1000);
		sleep_ms(20);
	}
}

/* Wait until neither side has sent or received a byte for a second:
 * the session is over. ret_a and ret_b get the figures at that point. */
static void wait_idle(struct proc *a, struct proc *b, struct figures *ret_a,
		      struct figures *ret_b)
{
	long long t0 = now_ms();
	struct figures fa, fb;
	int still = 0;
	status(a, ret_a);
	status(b, ret_b);
	while (still < 4) {
		if (now_ms() - t0 > WAIT_MS)
			fail("%s and %s still talking after %d s", a->name,
			     b->name, WAIT_MS / 1000);
		sleep_ms(250);
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

static struct node *node_make(struct proc *p, const char *netfile,
			      const char *scope, int open)
{
	char why[256];
	struct node *n = NULL;
	int r;
	snprintf(p->home, sizeof(p->home), "%s/%s", dir, p->name);
	snprintf(p->sock, sizeof(p->sock), "%s/%s.sock", dir, p->name);
	snprintf(p->logf, sizeof(p->logf), "%s/%s.log", dir, p->name);
	if ((r = node_init(p->home, netfile, p->name, scope, why,
			   sizeof(why))) < 0 ||
	    (open && (r = node_open(p->home, 0, &n, why, sizeof(why))) < 0))
		die(p->name, r, why);
	return n;
}

/* n has entry id stored. */
static int has_entry(struct node *n, const uint8_t id[32])
{
	struct store_txn *t;
	uint8_t feed[32];
	uint64_t seq;
	int r;
	if ((r = store_txn_begin(n->st, 1, &t)) < 0)
		die("read", r, n->name);
	r = log_entry_locate(t, id, feed, &seq);
	store_txn_abort(t);
	if (r < 0 && r != HAMLET_ENOTFOUND)
		die("read", r, n->name);
	return r == 0;
}

/* The contiguous head of a feed in n's store (0: none). */
static uint64_t feed_seq(struct node *n, const uint8_t key[32])
{
	struct store_txn *t;
	struct log_feed f;
	int r;
	if ((r = store_txn_begin(n->st, 1, &t)) < 0)
		die("read", r, n->name);
	r = log_feed_get(t, key, &f);
	store_txn_abort(t);
	if (r < 0 && r != HAMLET_ENOTFOUND)
		die("read", r, n->name);
	return r == 0 ? f.seq : 0;
}

/* An entry signed by another author, as a peer would hand it over. */
struct signed_entry {
	uint8_t *env;
	size_t env_len;
	uint8_t sig[64];
	uint8_t id[32];
	uint8_t *body;
	size_t body_len;
};

static void signed_entry_make(const struct node *n, const uint8_t pk[32],
			      const uint8_t sk[64], const char *scope,
			      uint64_t seq, const uint8_t *prev,
			      const char *record_id, unsigned person,
			      uint64_t *hlc, struct signed_entry *ret)
{
	struct entry e;
	int r;
	memset(&e, 0, sizeof(e));
	memcpy(e.network_id, n->net.id, 32);
	memcpy(e.author, pk, 32);
	snprintf(e.scope, sizeof(e.scope), "%s", scope);
	e.seq = seq;
	e.has_prev = prev != NULL;
	if (prev)
		memcpy(e.prev, prev, 32);
	*hlc = hlc_next(*hlc, hlc_wall_ms());
	e.hlc = *hlc;
	e.kind = ENTRY_PUT;
	strcpy(e.collection, "health_profile");
	snprintf(e.record_id, sizeof(e.record_id), "%s", record_id);
	ret->body = bench_profile_body(person, &ret->body_len);
	e.has_body = 1;
	e.body_len = ret->body_len;
	entry_body_hash(ret->body, ret->body_len, e.body_hash);
	if ((r = entry_encode(&e, &ret->env, &ret->env_len)) < 0 ||
	    (r = entry_sign(ret->env, ret->env_len, sk, ret->sig)) < 0)
		die("entry", r, NULL);
	entry_id(ret->env, ret->env_len, ret->id);
}

static void signed_entry_close(struct signed_entry *se)
{
	free(se->env);
	free(se->body);
}

/* Store v[0..n) in st, in batches, as a peer's entries are stored. */
static void ingest(struct node *nd, const struct signed_entry *v, size_t n)
{
	struct log_in *in = calloc(CHUNK, sizeof(*in));
	struct log_out *out = calloc(CHUNK, sizeof(*out));
	int r;
	if (!in || !out)
		fail("out of memory");
	for (size_t done = 0; done < n;) {
		size_t k = n - done < CHUNK ? n - done : CHUNK;
		for (size_t i = 0; i < k; i++)
			in[i] = (struct log_in){ v[done + i].env,
						 v[done + i].env_len,
						 v[done + i].sig,
						 v[done + i].body,
						 v[done + i].body_len };
		if ((r = log_ingest(nd->st, nd->net.id, in, k, out, NULL, NULL)) < 0)
			die("log_ingest", r, nd->name);
		for (size_t i = 0; i < k; i++)
			if (out[i].status != LOG_APPLIED)
				fail("%s: entry %zu not applied: %s",
				     nd->name, done + i, out[i].why);
		done += k;
	}
	free(in);
	free(out);
}

/* --- the parts --------------------------------------------------------- */

/* One core: sign, then verify, a sample of real envelopes (as
 * bench/core.c). Returns verifications per second. */
static double verify_rate_1core(struct node *a, unsigned sample)
{
	double sign, verify;
	if (bench_sign_verify(a, sample, &sign, &verify) < 0)
		fail("cannot sign and verify the sample");
	return verify;
}

/* n local writes on a, CHUNK a transaction (as bench/core.c); returns the
 * body bytes written. */
static uint64_t write_profiles(struct node *a, unsigned n)
{
	struct log_author au;
	struct log_op *ops = calloc(CHUNK, sizeof(*ops));
	uint8_t **bodies = calloc(CHUNK, sizeof(*bodies));
	char(*ids)[24] = calloc(CHUNK, 24);
	char why[256];
	uint64_t body_bytes = 0;
	int r;

	if (!ops || !bodies || !ids)
		fail("out of memory");
	node_author(a, &au);
	for (unsigned done = 0; done < n;) {
		unsigned k = n - done < CHUNK ? n - done : CHUNK;
		size_t failed;
		for (unsigned i = 0; i < k; i++) {
			snprintf(ids[i], 24, "HP-%u", done + i);
			bodies[i] = bench_profile_body(done + i, &ops[i].body_len);
			body_bytes += ops[i].body_len;
			ops[i] = (struct log_op){ ENTRY_PUT, "health_profile",
						  ids[i], NULL, bodies[i],
						  ops[i].body_len, 0 };
		}
		if ((r = log_write(a->st, &au, ops, k, NULL, &failed, why,
				   sizeof(why), NULL)) < 0)
			die("log_write", r, why);
		for (unsigned i = 0; i < k; i++)
			free(bodies[i]);
		done += k;
	}
	free(ops);
	free(bodies);
	free(ids);
	return body_bytes;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

/* The nearest-rank percentile (pct of 100) of sorted v[0..n). */
static double percentile(const double *v, size_t n, unsigned pct)
{
	size_t k = (pct * n + 99) / 100;
	return v[k ? k - 1 : 0];
}

/* Entries written on a one at a time, each at a random phase of the
 * 200 ms head watcher, until readable in b's store; latencies in ms. */
static void live_push(struct node *a, struct node *b, unsigned first,
		      double *ret_ms)
{
	struct log_author au;
	char id[24], why[256];
	int r;
	node_author(a, &au);
	for (unsigned i = 0; i < PUSHES; i++) {
		struct log_op op;
		struct log_out out;
		size_t failed;
		uint8_t *body;
		double t0;
		sleep_ms((int)randombytes_uniform(200));
		snprintf(id, sizeof(id), "HP-%u", first + i);
		body = bench_profile_body(first + i, &op.body_len);
		op = (struct log_op){ ENTRY_PUT, "health_profile", id, NULL,
				      body, op.body_len, 0 };
		if ((r = log_write(a->st, &au, &op, 1, &out, &failed, why,
				   sizeof(why), NULL)) < 0)
			die("log_write", r, why);
		free(body);
		t0 = bench_now();
		while (!has_entry(b, out.id)) {
			if (bench_now() - t0 > WAIT_MS / 1000.0)
				fail("pushed entry %u not at %s after %d s", i,
				     b->name, WAIT_MS / 1000);
			sleep_ms(1);
		}
		ret_ms[i] = (bench_now() - t0) * 1000;
	}
}

/* The difference of two figures: what one session cost. */
struct session {
	uint64_t out_i, out_r; /* bytes sent by initiator, by responder */
	uint64_t msgs_i, msgs_r;
	uint64_t rounds; /* NEG messages the responder received */
	uint64_t entries;
};

static void session_diff(const struct figures *i0, const struct figures *i1,
			 const struct figures *r0, const struct figures *r1,
			 struct session *ret)
{
	ret->out_i = i1->bytes_out - i0->bytes_out;
	ret->out_r = r1->bytes_out - r0->bytes_out;
	ret->msgs_i = r1->msgs_in - r0->msgs_in;
	ret->msgs_r = i1->msgs_in - i0->msgs_in;
	ret->rounds = r1->neg_in - r0->neg_in;
	ret->entries = r1->entries_in - r0->entries_in;
}

static void session_print(const char *what, const struct session *s)
{
	printf("  %-32s %6llu bytes (%llu out + %llu back), %llu NEG round trip%s, %llu + %llu messages\n",
	       what, (unsigned long long)(s->out_i + s->out_r),
	       (unsigned long long)s->out_i, (unsigned long long)s->out_r,
	       (unsigned long long)s->rounds, s->rounds == 1 ? "" : "s",
	       (unsigned long long)s->msgs_i, (unsigned long long)s->msgs_r);
}

int main(int argc, char **argv)
{
	static char self[4200], found[4300];
	struct proc pa = { .name = "village" }, pb = { .name = "commune" },
		    pc = { .name = "province-a" }, pd = { .name = "province-b" };
	struct figures fa, fb, fc0, fd0, fc1, fd1;
	struct session agree, reconn, differ;
	struct node *a, *b, *c, *d;
	struct signed_entry *ents, more[FEEDS_DIFFER];
	char netfile[4200], why[256];
	const char *base = getenv("TMPDIR");
	unsigned n = argc > 2 ? (unsigned)atoi(argv[2]) : 100000;
	uint8_t akey[32];
	uint64_t body_bytes, hlc = 0;
	double verify_rate, t0, e2e_s, push_ms[PUSHES];
	ssize_t sl;
	int r;

	if (argc > 1) {
		hamletd = argv[1];
	} else {
		/* next to the bench: build/bench/bench_sync,
		 * build/daemon/hamletd */
		if ((sl = readlink("/proc/self/exe", self, sizeof(self) - 1)) <
		    0)
			return 2;
		self[sl] = 0;
		snprintf(found, sizeof(found), "%s/../daemon/hamletd",
			 dirname(self));
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
	procs[nprocs++] = &pa;
	procs[nprocs++] = &pb;
	procs[nprocs++] = &pc;
	procs[nprocs++] = &pd;
	atexit(cleanup);
	signal(SIGTERM, on_fatal_signal);
	signal(SIGINT, on_fatal_signal);
	signal(SIGALRM, on_fatal_signal);
	alarm(1200); /* never outlive a stuck run with daemons left behind */

	if ((r = network_create("bench", dir, NULL, why, sizeof(why))) < 0)
		die("network", r, why);
	snprintf(netfile, sizeof(netfile), "%s/bench.network", dir);

	/* 1. end to end: n entries on A before the daemons start */
	a = node_make(&pa, netfile, "bk/bt/qt/na-pai", 1);
	node_make(&pb, netfile, "bk/bt/qt", 0);
	verify_rate = verify_rate_1core(a, n < 20000 ? n : 20000);
	body_bytes = write_profiles(a, n);
	log_feed_key(a->pk, a->scope, akey);
	if ((r = node_open(pb.home, 1, &b, why, sizeof(why))) < 0)
		die(pb.name, r, why);
	t0 = start_pair(&pa, &pb);
	while (feed_seq(b, akey) < n) {
		if (bench_now() - t0 > TRANSFER_MS / 1000.0)
			fail("%s holds %llu of %u entries after %d s", pb.name,
			     (unsigned long long)feed_seq(b, akey), n,
			     TRANSFER_MS / 1000);
		sleep_ms(5);
	}
	e2e_s = bench_now() - t0;
	wait_idle(&pa, &pb, &fa, &fb);

	/* 4. live push on the same, now idle, pair */
	live_push(a, b, n, push_ms);
	qsort(push_ms, PUSHES, sizeof(push_ms[0]), cmp_double);
	if (stop(&pa) != 0 || stop(&pb) != 0)
		fail("a daemon did not stop cleanly");
	node_close(a);
	node_close(b);

	/* 3. FEEDS feeds of as many authors, the same in both stores */
	c = node_make(&pc, netfile, "bk", 1);
	d = node_make(&pd, netfile, "bk", 1);
	if (!(ents = calloc(FEEDS, sizeof(*ents))))
		fail("out of memory");
	for (unsigned i = 0; i < FEEDS; i++) {
		uint8_t pk[32], sk[64];
		char scope[64], rid[32];
		crypto_sign_keypair(pk, sk);
		snprintf(scope, sizeof(scope), "bk/bt/qt/v%u", i);
		snprintf(rid, sizeof(rid), "HP-V%u-1", i);
		signed_entry_make(c, pk, sk, scope, 1, NULL, rid, i, &hlc,
				  &ents[i]);
		if (i < FEEDS_DIFFER) {
			/* the next entry of the first few feeds, kept back */
			snprintf(rid, sizeof(rid), "HP-V%u-2", i);
			signed_entry_make(c, pk, sk, scope, 2, ents[i].id, rid,
					  FEEDS + i, &hlc, &more[i]);
		}
		sodium_memzero(sk, sizeof(sk));
	}
	ingest(c, ents, FEEDS);
	ingest(d, ents, FEEDS);
	for (unsigned i = 0; i < FEEDS; i++)
		signed_entry_close(&ents[i]);
	free(ents);

	start_pair(&pc, &pd);
	wait_connected(&pc, 1);
	wait_idle(&pc, &pd, &fc0, &fd0);
	/* the reconciliation of a session on which both already agree */
	rpc(&pc, "sync", NULL);
	sleep_ms(100);
	wait_idle(&pc, &pd, &fc1, &fd1);
	session_diff(&fc0, &fc1, &fd0, &fd1, &agree);

	/* a new connection, stores agreeing: handshake, HELLO, reconcile */
	rpc(&pc, "peer_remove", pd.addr);
	wait_connected(&pc, 0);
	wait_connected(&pd, 0);
	wait_idle(&pc, &pd, &fc0, &fd0);
	rpc(&pc, "peer_add", pd.addr);
	wait_connected(&pc, 1);
	wait_idle(&pc, &pd, &fc1, &fd1);
	session_diff(&fc0, &fc1, &fd0, &fd1, &reconn);

	/* a new connection after FEEDS_DIFFER feeds moved on while apart */
	rpc(&pc, "peer_remove", pd.addr);
	wait_connected(&pc, 0);
	wait_connected(&pd, 0);
	ingest(c, more, FEEDS_DIFFER);
	sleep_ms(500); /* the head watcher has seen them, with no one to tell */
	wait_idle(&pc, &pd, &fc0, &fd0);
	rpc(&pc, "peer_add", pd.addr);
	t0 = bench_now();
	for (unsigned i = 0; i < FEEDS_DIFFER; i++)
		while (!has_entry(d, more[i].id)) {
			if (bench_now() - t0 > WAIT_MS / 1000.0)
				fail("%s lacks a changed feed after %d s",
				     pd.name, WAIT_MS / 1000);
			sleep_ms(5);
		}
	wait_idle(&pc, &pd, &fc1, &fd1);
	session_diff(&fc0, &fc1, &fd0, &fd1, &differ);
	for (unsigned i = 0; i < FEEDS_DIFFER; i++)
		signed_entry_close(&more[i]);
	if (stop(&pc) != 0 || stop(&pd) != 0)
		fail("a daemon did not stop cleanly");
	node_close(c);
	node_close(d);

	printf("bench/sync: %u entries, ~%.0f-byte bodies, 2 hamletd on loopback, %ld cores\n",
	       n, (double)body_bytes / n, sysconf(_SC_NPROCESSORS_ONLN));
	printf("  verify (1 core)          %9.0f entries/s\n", verify_rate);
	printf("  end to end (durable)     %9.0f entries/s (%.2f s from start to B holding all)\n",
	       n / e2e_s, e2e_s);
	printf("  end to end / 1-core verify %7.2f\n", n / e2e_s / verify_rate);
	printf("  entries sent, received   %9llu, %llu\n",
	       (unsigned long long)fa.entries_out,
	       (unsigned long long)fb.entries_in);
	printf("  wire bytes per entry     %9.1f A->B (A's bytes_out: HELLO, NEG, FEEDS, ENTRIES)\n",
	       (double)fa.bytes_out / n);
	printf("                           %9.1f B->A (B's bytes_out: HELLO, NEG, WANT, ACKs)\n",
	       (double)fb.bytes_out / n);
	printf("  body bytes per entry     %9.1f (A->B overhead %.1f, ratio %.2f)\n",
	       (double)body_bytes / n,
	       (double)((int64_t)fa.bytes_out - (int64_t)body_bytes) / n,
	       (double)fa.bytes_out / (double)body_bytes);
	printf("  live push p50            %9.1f ms (%d entries, one at a time, %d ms head watcher)\n",
	       percentile(push_ms, PUSHES, 50), PUSHES, 200);
	printf("  live push p99            %9.1f ms (max %.1f)\n",
	       percentile(push_ms, PUSHES, 99), push_ms[PUSHES - 1]);
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
	printf("  (target for sync, both agree: <= 2 round trips, <= 1024 bytes)\n");
	return 0;
}
