/*
 * daemon_proc: hamletd as a child process of tests and benchmarks. See
 * daemon_proc.h.
 */
#include "daemon_proc.h"

#include "entry.h"
#include "error.h"
#include "mp.h"
#include "rpc_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 5 /* between looks at a log or a process */

/* --- clock, ports, files ----------------------------------------------- */

long long daemon_proc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void daemon_proc_sleep_us(int us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };
	nanosleep(&ts, NULL);
}

void daemon_proc_sleep_ms(int ms)
{
	daemon_proc_sleep_us(ms * 1000);
}

int daemon_proc_free_port(int *ret_port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);
	int fd, r;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &l) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	close(fd);
	*ret_port = ntohs(a.sin_port);
	return 0;
}

int daemon_proc_file_has(const char *path, long from, const char *needle)
{
	char buf[8192];
	FILE *f = fopen(path, "r");
	int found = 0;
	if (!f)
		return 0;
	if (fseek(f, from, SEEK_SET) == 0)
		while (!found && fgets(buf, sizeof(buf), f))
			found = strstr(buf, needle) != NULL;
	fclose(f);
	return found;
}

static long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* --- the children still running ---------------------------------------- */

/* pids, not pointers: a caller's struct may be gone when this is read */
static volatile pid_t running[DAEMON_PROC_MAX];

static void untrack(pid_t pid)
{
	for (size_t i = 0; i < DAEMON_PROC_MAX; i++)
		if (running[i] == pid)
			running[i] = 0;
}

/* the process that started the daemons: a child forked from it (a rogue
 * peer of a test) that exits must not end them */
static volatile pid_t owner;

void daemon_proc_kill_all(void)
{
	/* also run from a signal handler: only async-signal-safe calls */
	if (getpid() != owner)
		return;
	for (size_t i = 0; i < DAEMON_PROC_MAX; i++) {
		pid_t pid = running[i];
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			running[i] = 0;
		}
	}
}

static void on_fatal_signal(int sig)
{
	static const char late[] =
		"FAILED: the test ran past its time guard (daemon_proc_guard); its daemons are killed\n";
	if (sig == SIGALRM) /* said, so the log shows why it ended */
		(void)!write(2, late, sizeof(late) - 1);
	daemon_proc_kill_all();
	_exit(128 + sig);
}

int daemon_proc_guard(unsigned seconds)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGALRM };
	struct sigaction sa = { .sa_handler = on_fatal_signal };
	if (atexit(daemon_proc_kill_all) != 0)
		return -ENOMEM;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -errno;
	if (seconds)
		alarm(seconds);
	return 0;
}

/* waitpid(WNOHANG) for p: 1 when it has ended (then p->pid is 0). */
static int reaped(struct daemon_proc *p, int *ret_status)
{
	int st = 0;
	if (p->pid <= 0)
		return 1;
	if (waitpid(p->pid, &st, WNOHANG) != p->pid)
		return 0;
	untrack(p->pid);
	p->pid = 0;
	if (ret_status)
		*ret_status = st;
	return 1;
}

/* --- processes --------------------------------------------------------- */

void daemon_proc_init(struct daemon_proc *p, const char *dir,
		      const char *name)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->home, sizeof(p->home), "%s/%s", dir, name);
	snprintf(p->sock, sizeof(p->sock), "%s/%s.sock", dir, name);
	snprintf(p->logf, sizeof(p->logf), "%s/%s.log", dir, name);
}

#if defined(__SANITIZE_ADDRESS__)
/* AddressSanitizer keeps up to 256 MiB of freed blocks in quarantine, so a
 * daemon's RSS would say more about the sanitizer than about the daemon:
 * the daemons under test keep a small one (set once, before any fork) */
static void asan_small_quarantine(void)
{
	static int done;
	const char *old = getenv("ASAN_OPTIONS");
	char opts[512];

	if (done++ || (old && strstr(old, "quarantine_size_mb")))
		return;
	snprintf(opts, sizeof(opts), "%s%squarantine_size_mb=16", old ? old : "",
		 old && *old ? ":" : "");
	setenv("ASAN_OPTIONS", opts, 1);
}
#else
static void asan_small_quarantine(void)
{
}
#endif

/* The logs of the daemons this process started, for
 * testlib_on_failure(). */
#define LOGS_MAX 16
static char logs_seen[LOGS_MAX][sizeof(((struct daemon_proc *)0)->logf)];
static size_t nlogs_seen;

static void log_seen(const char *path)
{
	for (size_t i = 0; i < nlogs_seen; i++)
		if (strcmp(logs_seen[i], path) == 0)
			return;
	if (nlogs_seen < LOGS_MAX)
		snprintf(logs_seen[nlogs_seen++], sizeof(logs_seen[0]), "%s",
			 path);
}

/* Print the last n lines of path, each indented by four spaces. */
static void tail_lines(const char *path, int n)
{
	char buf[8192];
	FILE *f = fopen(path, "r");
	long size, from;
	size_t len, at;
	if (!f)
		return;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	from = size > (long)sizeof(buf) - 1 ? size - (long)sizeof(buf) + 1 : 0;
	fseek(f, from, SEEK_SET);
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = 0;
	at = len;
	if (at > 0 && buf[at - 1] == '\n')
		at--;
	while (at > 0 && n > 0)
		if (buf[--at] == '\n')
			n--;
	if (buf[at] == '\n')
		at++;
	for (char *line = buf + at; *line;) {
		char *end = strchr(line, '\n');
		fprintf(stderr, "    %.*s\n",
			(int)(end ? end - line : (long)strlen(line)), line);
		if (!end)
			break;
		line = end + 1;
	}
}

/* A check failed (testlib.h): what each daemon started here logged
 * last, as tests/testlib.sh prints it, so that a failure seen only once
 * (in CI) says what the daemons saw. */
void testlib_on_failure(void);
void testlib_on_failure(void)
{
	for (size_t i = 0; i < nlogs_seen; i++) {
		const char *base = strrchr(logs_seen[i], '/');
		fprintf(stderr, "daemon log %s, its last 20 lines:\n",
			base ? base + 1 : logs_seen[i]);
		tail_lines(logs_seen[i], 20);
	}
}

int daemon_proc_spawn(struct daemon_proc *p, const char *path,
		      const char *const *argv)
{
	pid_t parent = getpid(), pid;
	size_t slot = DAEMON_PROC_MAX;

	asan_small_quarantine();
	owner = parent;

	if (p->pid > 0)
		return -EBUSY;
	for (size_t i = 0; i < DAEMON_PROC_MAX && slot == DAEMON_PROC_MAX; i++)
		if (running[i] == 0)
			slot = i;
	if (slot == DAEMON_PROC_MAX)
		return -EMFILE;
	p->log_from = file_size(p->logf);
	log_seen(p->logf);
	fflush(NULL); /* nothing buffered is written twice */
	if ((pid = fork()) < 0)
		return -errno;
	if (pid == 0) {
		int fd = open(p->logf, O_WRONLY | O_CREAT | O_APPEND, 0600);
		/* the child dies with its parent, however the parent ends */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent || fd < 0)
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		/* no socket or store of the parent stays open in the child */
		close_range(3, ~0U, 0);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	running[slot] = pid;
	p->pid = pid;
	return 0;
}

int daemon_proc_start(struct daemon_proc *p, const char *hamletd, int port,
		      const char *const *extra)
{
	const char *av[32];
	char listen[32];
	int n = 0;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	av[n++] = "hamletd";
	av[n++] = "--home";
	av[n++] = p->home;
	av[n++] = "--listen";
	av[n++] = listen;
	av[n++] = "--socket";
	av[n++] = p->sock;
	for (int i = 0; extra && extra[i]; i++) {
		if (n == 27)
			return -E2BIG;
		av[n++] = extra[i];
	}
	av[n] = NULL;
	p->port = port;
	snprintf(p->addr, sizeof(p->addr), "%s", listen);
	return daemon_proc_spawn(p, hamletd, av);
}

int daemon_proc_wait_started(struct daemon_proc *p, int limit_ms)
{
	long long t0 = daemon_proc_now_ms(), left;
	for (;;) {
		/* ended: what it logged is all there will be */
		int gone = reaped(p, NULL);
		if (daemon_proc_log_has(p, "listening on"))
			break;
		/* hamletd's words when its port is taken (EADDRINUSE), as
		 * for any other fault binding it; it exits next */
		if (daemon_proc_log_has(p, "cannot listen on")) {
			daemon_proc_kill(p);
			return -EADDRINUSE;
		}
		if (gone)
			return -ESRCH;
		if (daemon_proc_now_ms() - t0 >= limit_ms)
			return -ETIMEDOUT;
		daemon_proc_sleep_ms(POLL_MS);
	}
	/* bound to its port, then serving its local socket (opened after
	 * the port: a status asked in between is refused) */
	left = limit_ms - (daemon_proc_now_ms() - t0);
	return daemon_proc_wait_socket(p, left > 0 ? (int)left : 1);
}

int daemon_proc_start_listening(struct daemon_proc *p, const char *hamletd,
				const char *const *extra, int attempts)
{
	int r = -EINVAL, port;
	for (int i = 0; i < attempts; i++) {
		if ((r = daemon_proc_free_port(&port)) < 0 ||
		    (r = daemon_proc_start(p, hamletd, port, extra)) < 0)
			return r;
		r = daemon_proc_wait_started(p, DAEMON_PROC_START_MS);
		if (r == 0)
			return 0;
		daemon_proc_kill(p);
		/* slow, or not answering: a new port would not help */
		if (r != -EADDRINUSE && r != -ESRCH)
			return r;
	}
	return r;
}

int daemon_proc_log_has(const struct daemon_proc *p, const char *needle)
{
	return daemon_proc_file_has(p->logf, p->log_from, needle);
}

int daemon_proc_log_count(const struct daemon_proc *p, const char *needle)
{
	char buf[8192];
	FILE *f = fopen(p->logf, "r");
	int n = 0;
	if (!f)
		return 0;
	if (fseek(f, p->log_from, SEEK_SET) == 0)
		while (fgets(buf, sizeof(buf), f))
			n += strstr(buf, needle) != NULL;
	fclose(f);
	return n;
}

int daemon_proc_wait_log(struct daemon_proc *p, const char *needle,
			 int limit_ms)
{
	long long t0 = daemon_proc_now_ms();
	for (;;) {
		/* ended: what it logged is all there will be */
		int gone = reaped(p, NULL);
		if (daemon_proc_log_has(p, needle))
			return 0;
		if (gone)
			return -ESRCH;
		if (daemon_proc_now_ms() - t0 >= limit_ms)
			return -ETIMEDOUT;
		daemon_proc_sleep_ms(POLL_MS);
	}
}

int daemon_proc_wait_socket(struct daemon_proc *p, int limit_ms)
{
	long long t0 = daemon_proc_now_ms(), left;
	uint8_t *resp;
	size_t n;
	int r;
	while ((left = limit_ms - (daemon_proc_now_ms() - t0)) > 0) {
		/* "peers" reads no store: it answers as soon as the socket
		 * is served, however large the store */
		r = rpc_client_call(p->sock, "peers", NULL, (int)left, &resp,
				    &n);
		if (r == 0)
			free(resp);
		/* no socket yet, or nobody accepting on it yet */
		if (r != -ENOENT && r != -ECONNREFUSED)
			return r;
		if (reaped(p, NULL))
			return -ESRCH;
		daemon_proc_sleep_ms(1);
	}
	return -ETIMEDOUT;
}

int daemon_proc_stop(struct daemon_proc *p, int sig, int limit_ms,
		     int *ret_status)
{
	long long t0 = daemon_proc_now_ms();
	int st = 0;
	if (p->pid <= 0) {
		if (ret_status)
			*ret_status = 0;
		return 0;
	}
	kill(p->pid, sig);
	while (daemon_proc_now_ms() - t0 < limit_ms) {
		if (reaped(p, &st)) {
			if (ret_status)
				*ret_status = st;
			return 0;
		}
		daemon_proc_sleep_ms(POLL_MS);
	}
	daemon_proc_kill(p);
	return -ETIMEDOUT;
}

void daemon_proc_kill(struct daemon_proc *p)
{
	if (p->pid <= 0)
		return;
	kill(p->pid, SIGKILL);
	waitpid(p->pid, NULL, 0);
	untrack(p->pid);
	p->pid = 0;
}

void daemon_proc_log_tail(const struct daemon_proc *p, size_t max, FILE *f)
{
	FILE *in = fopen(p->logf, "r");
	char buf[4096];
	long size;
	size_t n;
	if (!in)
		return;
	fseek(in, 0, SEEK_END);
	size = ftell(in);
	fseek(in, size > (long)max ? size - (long)max : 0, SEEK_SET);
	fprintf(f, "--- %s log (end) ---\n", p->name);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, f);
	fclose(in);
}

/* --- the local socket -------------------------------------------------- */

static int key_is(const msgpack_object *o, const char *name)
{
	const char *s;
	size_t l;
	return mp_get_str(o, 64, &s, &l) == 0 && l == strlen(name) &&
	       memcmp(s, name, l) == 0;
}

/* One peer's map, added to ret. */
static int status_peer(const msgpack_object *o, struct daemon_status *ret)
{
	static const struct {
		const char *name;
		size_t at;
	} sums[] = {
		{ "bytes_in", offsetof(struct daemon_status, bytes_in) },
		{ "bytes_out", offsetof(struct daemon_status, bytes_out) },
		{ "entries_in", offsetof(struct daemon_status, entries_in) },
		{ "entries_out", offsetof(struct daemon_status, entries_out) },
		{ "entries_dup_in",
		  offsetof(struct daemon_status, entries_dup_in) },
		{ "messages_in", offsetof(struct daemon_status, messages_in) },
		{ "neg_in", offsetof(struct daemon_status, neg_in) },
		{ "since_used", offsetof(struct daemon_status, since_used) },
		{ "entries_bytes_out",
		  offsetof(struct daemon_status, entries_bytes_out) },
		{ "agreed", offsetof(struct daemon_status, agreed) },
		{ "chain_ref_out",
		  offsetof(struct daemon_status, chain_ref_out) },
		{ "certs_want_out",
		  offsetof(struct daemon_status, certs_want_out) },
		{ "batches_in", offsetof(struct daemon_status, batches_in) },
		{ "batches_in_overlap",
		  offsetof(struct daemon_status, batches_in_overlap) },
		{ "batches_lost_in",
		  offsetof(struct daemon_status, batches_lost_in) },
	};
	const msgpack_object_kv *kv;
	size_t n;
	int r;

	if ((r = mp_get_map(o, 64, &kv, &n)) < 0)
		return r;
	ret->peers++;
	for (size_t i = 0; i < n; i++) {
		const msgpack_object *k = &kv[i].key, *v = &kv[i].val;
		uint64_t u;
		int b;
		if (key_is(k, "connected")) {
			if ((r = mp_get_bool(v, &b)) < 0)
				return r;
			ret->connected += b;
			continue;
		}
		if (key_is(k, "progress")) {
			const msgpack_object_kv *pk;
			size_t pn;
			if ((r = mp_get_map(v, 16, &pk, &pn)) < 0)
				return r;
			for (size_t j = 0; j < pn; j++)
				if (key_is(&pk[j].key, "to_receive")) {
					if ((r = mp_get_uint(&pk[j].val,
							     UINT64_MAX,
							     &u)) < 0)
						return r;
					ret->to_receive += u;
				}
			continue;
		}
		if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			continue; /* key, addr: not figures */
		if ((r = mp_get_uint(v, UINT64_MAX, &u)) < 0)
			return r;
		if (key_is(k, "batch_credit") && u > ret->batch_credit)
			ret->batch_credit = u;
		if (key_is(k, "batch_ceiling") &&
		    (!ret->batch_ceiling || u < ret->batch_ceiling))
			ret->batch_ceiling = u;
		for (size_t j = 0; j < sizeof(sums) / sizeof(sums[0]); j++)
			if (key_is(k, sums[j].name))
				*(uint64_t *)((char *)ret + sums[j].at) += u;
	}
	return 0;
}

/* The map of refusals by reason. */
static int status_refused(const msgpack_object *o, struct daemon_status *ret)
{
	static const struct {
		const char *name;
		size_t at;
	} counts[] = {
		{ "invalid", offsetof(struct daemon_status, refused_invalid) },
		{ "not_granted", offsetof(struct daemon_status, refused_not_granted) },
		{ "revoked", offsetof(struct daemon_status, refused_revoked) },
		{ "out_of_scope", offsetof(struct daemon_status, refused_scope) },
		{ "too_far_ahead",
		  offsetof(struct daemon_status, refused_future) },
		{ "held_cap", offsetof(struct daemon_status, refused_held_cap) },
		{ "held_expired", offsetof(struct daemon_status, held_expired) },
		{ "frozen_feed", offsetof(struct daemon_status, refused_frozen) },
		{ "forks", offsetof(struct daemon_status, forks) },
	};
	const msgpack_object_kv *kv;
	size_t n, found = 0;
	int r;

	if ((r = mp_get_map(o, 16, &kv, &n)) < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < sizeof(counts) / sizeof(counts[0]); j++)
			if (key_is(&kv[i].key, counts[j].name)) {
				if ((r = mp_get_uint(&kv[i].val, UINT64_MAX,
						     (uint64_t *)((char *)ret +
								  counts[j].at))) < 0)
					return r;
				found++;
			}
	/* every reason is reported, zero or not */
	return found == sizeof(counts) / sizeof(counts[0]) ? 0 : HAMLET_EFORMAT;
}

int daemon_proc_status(const char *sock, int timeout_ms,
		       struct daemon_status *ret)
{
	struct daemon_status s;
	struct mp_doc d;
	const msgpack_object *a, *ps;
	const msgpack_object_kv *kv;
	uint8_t *resp = NULL;
	size_t n, nkv, np;
	int64_t code;
	int r, have_doc = 0;

	memset(&s, 0, sizeof(s));
	if ((r = rpc_client_call(sock, "status", NULL, timeout_ms, &resp,
				 &n)) < 0)
		return r;
	if ((r = mp_doc_parse(&d, resp, n, 1024)) < 0)
		goto out;
	have_doc = 1;
	if ((r = mp_get_array(d.root, 2, 0, &a, NULL)) < 0 ||
	    (r = mp_get_int(&a[0], &code)) < 0)
		goto out;
	if (code < 0) {
		r = (int)code;
		goto out;
	}
	if ((r = mp_get_map(&a[1], 16, &kv, &nkv)) < 0)
		goto out;
	for (size_t i = 0; i < nkv; i++) {
		const msgpack_object *v = &kv[i].val;
		if (key_is(&kv[i].key, "digest") &&
		    (r = mp_get_cstr(v, s.digest, sizeof(s.digest))) < 0)
			goto out;
		if (key_is(&kv[i].key, "records") &&
		    (r = mp_get_uint(v, UINT64_MAX, &s.records)) < 0)
			goto out;
		if (key_is(&kv[i].key, "refused") &&
		    (r = status_refused(v, &s)) < 0)
			goto out;
		if (!key_is(&kv[i].key, "peers"))
			continue;
		if ((r = mp_get_array(v, SIZE_MAX, 1024, &ps, &np)) < 0)
			goto out;
		for (size_t j = 0; j < np; j++)
			if ((r = status_peer(&ps[j], &s)) < 0)
				goto out;
	}
	*ret = s;
	r = 0;
out:
	if (have_doc)
		mp_doc_close(&d);
	free(resp);
	return r;
}

int daemon_proc_wait_connected(const char *sock, int want, int limit_ms)
{
	long long t0 = daemon_proc_now_ms();
	struct daemon_status st;
	int r;
	while (daemon_proc_now_ms() - t0 < limit_ms) {
		if ((r = daemon_proc_status(sock, limit_ms, &st)) < 0)
			return r;
		if (st.connected == want)
			return 0;
		daemon_proc_sleep_ms(20);
	}
	return -ETIMEDOUT;
}

/* Parse an answer [code, result, ...]: *ret_result is its second item;
 * a negative code is returned, its message copied into why. */
static int answer_parse(struct mp_doc *d, const uint8_t *resp, size_t n,
			size_t max_items, const msgpack_object **ret_result,
			char *why, size_t wl)
{
	const msgpack_object *a;
	size_t na;
	int64_t code;
	int r;
	if ((r = mp_doc_parse(d, resp, n, max_items)) < 0)
		return r;
	if ((r = mp_get_array(d->root, SIZE_MAX, 3, &a, &na)) < 0 || na < 2 ||
	    (r = mp_get_int(&a[0], &code)) < 0) {
		mp_doc_close(d);
		return r < 0 ? r : HAMLET_EFORMAT;
	}
	if (code < 0) {
		if (why && mp_get_cstr(&a[1], why, wl) < 0)
			snprintf(why, wl, "(no message)");
		mp_doc_close(d);
		return code >= INT_MIN ? (int)code : HAMLET_EFORMAT;
	}
	*ret_result = &a[1];
	return 0;
}

int daemon_proc_call(const char *sock, const char *method, const char *arg,
		     int timeout_ms)
{
	const msgpack_object *res = NULL;
	struct mp_doc d;
	uint8_t *resp;
	size_t n;
	int r;
	if ((r = rpc_client_call(sock, method, arg, timeout_ms, &resp, &n)) < 0)
		return r;
	if ((r = answer_parse(&d, resp, n, 16, &res, NULL, 0)) == 0) {
		/* nil, or a sentence (peer_add says what it will dial) */
		r = mp_is_nil(res) || res->type == MSGPACK_OBJECT_STR
			    ? 0
			    : HAMLET_EFORMAT;
		mp_doc_close(&d);
	}
	free(resp);
	return r;
}

int daemon_proc_put(const char *sock, const char *collection,
		    const char *record_id, const char *scope,
		    const uint8_t *body, size_t body_len, int timeout_ms,
		    uint8_t ret_id[32], char *why, size_t wl)
{
	struct mp_writer ops;
	const msgpack_object *res = NULL, *one;
	struct mp_doc d;
	uint8_t *resp = NULL, id[32];
	size_t n;
	int r;

	why[0] = 0;
	/* [[kind, collection, record id, scope|nil, body, resolve, heads|nil]] */
	mp_writer_init(&ops);
	msgpack_pack_array(&ops.pk, 1);
	rpc_pack_write_op(&ops.pk, ENTRY_PUT, collection, record_id, scope,
			  body, body_len, 0, NULL, 0);
	r = rpc_client_call_bin(sock, "write", ops.sb.data, ops.sb.size,
				timeout_ms, &resp, &n);
	mp_writer_destroy(&ops);
	if (r < 0)
		return r;
	if ((r = answer_parse(&d, resp, n, 16, &res, why, wl)) < 0)
		goto out;
	/* [[entry id, seq]] */
	if ((r = mp_get_array(res, 1, 0, &one, NULL)) < 0 ||
	    (r = mp_get_array(one, 2, 0, &one, NULL)) < 0 ||
	    (r = mp_get_bin_fixed(&one[0], 32, id)) < 0) {
		mp_doc_close(&d);
		goto out;
	}
	mp_doc_close(&d);
	memcpy(ret_id, id, 32);
	r = 0;
out:
	free(resp);
	return r;
}
