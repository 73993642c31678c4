/*
 * Talking to a running hamletd over its local socket (status, peers,
 * sync). The answer is parsed with proto/mp.h like any other input.
 */
#include "cli.h"
#include "stop.h"
#include "wire.h"

#include "bundle.h"
#include "error.h"
#include "heard.h"
#include "rpc_client.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/*
 * What HOME/hamletd.lock says (daemon/main.c writes it): the pid of the
 * daemon that last started on this home, the full path of its socket
 * (empty before a daemon wrote one), and whether a daemon holds the lock
 * now. Taking the lock shared for an instant is how to learn that; a
 * daemon starting meanwhile waits for it. Unknown (nothing held) when the
 * file is absent or unreadable.
 */
static void lock_read(char *ret_pid, size_t pl, char *ret_sock, size_t sl,
		      int *ret_held)
{
	char path[4200], text[4200 + 32], *nl;
	ssize_t n;
	int fd;

	ret_pid[0] = ret_sock[0] = 0;
	*ret_held = 0;
	snprintf(path, sizeof(path), "%s/hamletd.lock", cli_home());
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		flock(fd, LOCK_UN);
	else if (errno == EWOULDBLOCK)
		*ret_held = 1;
	n = pread(fd, text, sizeof(text) - 1, 0);
	close(fd);
	if (n <= 0)
		return;
	text[n] = 0;
	if (!(nl = strchr(text, '\n')))
		return;
	*nl = 0;
	snprintf(ret_pid, pl, "%s", text);
	/* the socket's line whole, or nothing */
	if ((n = (ssize_t)strcspn(nl + 1, "\n")) > 0 && nl[1 + n] == '\n' &&
	    (size_t)n < sl)
		snprintf(ret_sock, sl, "%.*s", (int)n, nl + 1);
}

/* 1 when a daemon accepts at path, else -errno (-ENAMETOOLONG when path
 * cannot be a socket's). */
static int socket_answers(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	/* not blocking: a daemon whose backlog is full (EAGAIN) runs, and a
	 * blocking connect would wait for ever */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			 0)) < 0)
		return -errno;
	memcpy(a.sun_path, path, strlen(path) + 1);
	r = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 ? 0 : -errno;
	close(fd);
	return r == 0 || r == -EAGAIN || r == -EINPROGRESS ? 1 : r;
}

/*
 * The lock names a socket, but no daemon holds it: that is the socket of
 * the daemon that last ran on this home, or, in a copy of a running
 * node's home (cp -a, a backup put back elsewhere), the original's, which
 * serves the original's store. Neither serves this home: say so (once)
 * when something answers there.
 */
static void lock_foreign_note(const char *sock)
{
	static int said;

	if (said || socket_answers(sock) != 1)
		return;
	said = 1;
	cli_err(_("note: %s/hamletd.lock names the socket %s, but the hamletd answering there does not run on %s (none holds its lock): it serves another home, of which this one may be a copy, so this command leaves it alone and works on %s by itself; to act on that node, give its own home with --home"),
		cli_home(), sock, cli_home(), cli_home());
}

const char *cli_socket_path(const char *opt)
{
	static char buf[4200];
	const char *env = getenv("HAMLET_SOCKET");
	char pid[32], def[4200];
	int held;
	if (opt)
		return opt;
	if (env && env[0])
		return env;
	/* where the daemon running on this home put it (socket = outside
	 * the home, say), trusted only while that daemon holds the lock: a
	 * copied home carries the original's lock file, a new file nobody
	 * locks, whose socket is the original daemon's; the default
	 * otherwise */
	lock_read(pid, sizeof(pid), buf, sizeof(buf), &held);
	snprintf(def, sizeof(def), "%s/hamletd.sock", cli_home());
	if (buf[0] && !held && strcmp(buf, def) != 0)
		lock_foreign_note(buf);
	if (!buf[0] || !held)
		snprintf(buf, sizeof(buf), "%s", def);
	return buf;
}

/* Why nobody answers at sock when r is what the connection got: printed,
 * returned as a negative code. A daemon holding the home's lock still
 * runs, and nothing may be written around it. */
static int daemon_unreachable(const char *sock, int r, int quiet_if_down)
{
	char pid[32], other[4200];
	int held;

	lock_read(pid, sizeof(pid), other, sizeof(other), &held);
	/* --socket only where the command takes it (status, sync, peers);
	 * $HAMLET_SOCKET everywhere */
	if (held && cli_global.socket_opt) {
		cli_err(_("hamletd (pid %s) runs on %s, but its socket %s cannot be reached (%s); nothing was done: if the socket is elsewhere, give it with --socket or $HAMLET_SOCKET; if it was deleted, restart hamletd (systemctl restart hamletd)"),
			pid[0] ? pid : "?", cli_home(), sock, cli_strerror(r));
		return CLI_EUNREACHED;
	}
	if (held) {
		cli_err(_("hamletd (pid %s) runs on %s, but its socket %s cannot be reached (%s); nothing was done: if the socket is elsewhere, give it with $HAMLET_SOCKET, set before the command (HAMLET_SOCKET=PATH %s …); if it was deleted, restart hamletd (systemctl restart hamletd)"),
			pid[0] ? pid : "?", cli_home(), sock, cli_strerror(r),
			cli_prog());
		return CLI_EUNREACHED;
	}
	if (r == -ENAMETOOLONG && !quiet_if_down) {
		cli_err(cli_global.socket_opt
				? _("the socket path %s is %zu bytes long, over the %zu a local socket path can have: give a shorter one with --socket or $HAMLET_SOCKET (and to hamletd with socket = in hamletd.conf)")
				: _("the socket path %s is %zu bytes long, over the %zu a local socket path can have: give a shorter one with $HAMLET_SOCKET (and to hamletd with socket = in hamletd.conf)"),
			sock, strlen(sock),
			sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return r;
	}
	/* too long, quiet: no daemon could have bound it, as none runs */
	if (!quiet_if_down)
		cli_err(_("hamletd is not running for %s (no daemon at %s): start it with \"systemctl start hamletd\" or \"hamletd --home %s\""),
			cli_home(), sock, cli_home());
	return -ENOENT;
}

/* A daemon that holds the home's lock and has no socket yet is starting
 * (it opens the store first): wait for it, at most 5 s, while it holds
 * the lock. */
#define DAEMON_START_WAIT_MS 5000

int cli_daemon_up(void)
{
	const char *path = cli_socket_path(NULL);
	char pid[32], other[4200];
	int r = socket_answers(path), held;

	for (int i = 0; r == -ENOENT && i < DAEMON_START_WAIT_MS / 100; i++) {
		struct timespec ts = { 0, 100 * 1000000L };
		lock_read(pid, sizeof(pid), other, sizeof(other), &held);
		if (!held)
			break;
		nanosleep(&ts, NULL);
		/* it writes where its socket is once it has claimed it */
		path = cli_socket_path(NULL);
		r = socket_answers(path);
	}
	if (r == 1)
		return 1;
	/* no daemon answers: this process may write only if none runs */
	r = daemon_unreachable(path, r, 1);
	return r == -ENOENT || r == -ENAMETOOLONG ? 0 : r;
}

/* The daemon answered when the node was opened, so it was opened
 * read-only, and now it is gone: this process cannot write instead. */
static int daemon_went_away(const char *sock, char *why, size_t wl)
{
	why_set(why, wl,
		 N_("hamletd stopped answering at %s before anything was stored; run the command again"),
		 sock);
	return -ECONNREFUSED;
}

/* The reason hamletd gave for a refusal (o), in the user's language when
 * the catalog knows the sentence: hamletd words it in its own. */
static void daemon_reason(const msgpack_object *o, char *why, size_t wl)
{
	char en[LOG_WHY_MAX];
	const char *s = "";
	size_t sl = 0;

	if (mp_get_str(o, sizeof(en) - 1, &s, &sl) < 0)
		sl = 0;
	snprintf(en, sizeof(en), "%.*s", (int)sl, s);
	snprintf(why, wl, "%s", cli_why(en));
}

int cli_rpc(const char *sock, const char *method, const char *arg,
	    int quiet_if_down, struct mp_doc *ret_doc, uint8_t **ret_buf,
	    const msgpack_object **ret_result)
{
	return cli_rpc_wait(sock, method, arg, 10000, quiet_if_down, ret_doc,
			    ret_buf, ret_result);
}

int cli_rpc_wait(const char *sock, const char *method, const char *arg,
		 int timeout_ms, int quiet_if_down, struct mp_doc *ret_doc,
		 uint8_t **ret_buf, const msgpack_object **ret_result)
{
	uint8_t *buf = NULL;
	size_t len;
	const msgpack_object *a;
	int64_t code;
	int r = rpc_client_call(sock, method, arg, timeout_ms, &buf, &len);

	if (r == -ENOENT || r == -ECONNREFUSED || r == -ENAMETOOLONG)
		return daemon_unreachable(sock, r, quiet_if_down & 1);
	if (r == -ETIMEDOUT && (quiet_if_down & CLI_RPC_QUIET_TIMEOUT))
		return r; /* the caller says it */
	if (r < 0) {
		cli_err(_("cannot talk to hamletd at %s: %s"), sock,
			cli_strerror(r));
		return r;
	}
	if (mp_doc_parse(ret_doc, buf, len, 1 << 16) < 0) {
		free(buf);
		cli_err(_("hamletd at %s sent an answer that does not parse"), sock);
		return HAMLET_EFORMAT;
	}
	if (mp_get_array(ret_doc->root, 2, 0, &a, NULL) < 0 ||
	    mp_get_int(&a[0], &code) < 0) {
		mp_doc_close(ret_doc);
		free(buf);
		cli_err(_("hamletd at %s sent an answer of the wrong shape"), sock);
		return HAMLET_EFORMAT;
	}
	if (code < 0) {
		char why[LOG_WHY_MAX];
		daemon_reason(&a[1], why, sizeof(why));
		cli_err(_("hamletd refused: %s"), why);
		mp_doc_close(ret_doc);
		free(buf);
		return (int)code;
	}
	*ret_buf = buf;
	*ret_result = &a[1];
	return 0;
}

/* --- requests that carry a bin --------------------------------------- */

/* What one request carries at most (under RPC_MAX_REQUEST, with room for
 * the framing). */
#define RPC_CHUNK_BYTES ((size_t)900 << 10)

/*
 * A write waits up to 10 minutes for hamletd (a large batch takes time to
 * store). Past SLOW_NOTICE_S with no answer, say so once on stderr, so
 * that a daemon stopped (SIGSTOP, a frozen machine) is not taken for a
 * hung command.
 */
#define SLOW_NOTICE_S 5
#define WRITE_WAIT_MS 600000

struct slow_notice {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
};

static void *slow_notice_run(void *arg)
{
	struct slow_notice *s = arg;
	struct timespec until;
	int timed_out = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += SLOW_NOTICE_S;
	pthread_mutex_lock(&s->mu);
	while (!s->done && !timed_out)
		timed_out = pthread_cond_timedwait(&s->cv, &s->mu, &until) ==
			    ETIMEDOUT;
	if (!s->done)
		cli_err(_("hamletd has not answered for %d s: it may be storing a large batch, or be stopped (systemctl status hamletd); still waiting, %d min at most. Interrupting is safe: a write is stored whole or not at all"),
			SLOW_NOTICE_S, WRITE_WAIT_MS / 60000);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* rpc_client_call_bin() with the notice above. */
static int call_bin_noticed(const char *sock, const char *method,
			    const void *arg, size_t len, uint8_t **ret,
			    size_t *ret_len)
{
	struct slow_notice s = { .done = 0 };
	pthread_t th;
	int started, r;

	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, NULL);
	started = pthread_create(&th, NULL, slow_notice_run, &s) == 0;
	r = rpc_client_call_bin(sock, method, arg, len, WRITE_WAIT_MS, ret,
				ret_len);
	pthread_mutex_lock(&s.mu);
	s.done = 1;
	pthread_cond_signal(&s.cv);
	pthread_mutex_unlock(&s.mu);
	if (started)
		pthread_join(th, NULL);
	pthread_cond_destroy(&s.cv);
	pthread_mutex_destroy(&s.mu);
	return r;
}

/*
 * Send [method, bin] (the bin is inner's bytes) and parse the answer. On
 * success doc holds it (close it, then free *ret_buf), *ret_a its 2 or 3
 * items, *ret_n their count and *ret_code its code; when the code is
 * negative, why holds the daemon's message. Otherwise why says what
 * failed and nothing is left to free.
 */
static int bin_call(const char *sock, const char *method,
		    struct mp_writer *inner, size_t max_items,
		    struct mp_doc *doc, uint8_t **ret_buf,
		    const msgpack_object **ret_a, size_t *ret_n,
		    int64_t *ret_code, char *why, size_t wl)
{
	uint8_t *resp = NULL;
	size_t rl;
	int r;

	r = call_bin_noticed(sock, method, inner->sb.data, inner->sb.size,
			     &resp, &rl);
	if (r == -ECONNRESET || r == -EPIPE) {
		why_set(why, wl,
			 N_("hamletd at %s closed the connection before it answered: it stopped, or was stopped"),
			 sock);
		return r;
	}
	if (r < 0) {
		why_set(why, wl, N_("cannot talk to hamletd at %s: %s"), sock,
			 cli_strerror(r));
		return r;
	}
	if (mp_doc_parse(doc, resp, rl, max_items) < 0) {
		free(resp);
		why_set(why, wl, N_("hamletd sent an answer that does not parse"));
		return HAMLET_EFORMAT;
	}
	if (mp_get_array(doc->root, SIZE_MAX, 3, ret_a, ret_n) < 0 ||
	    *ret_n < 2 || mp_get_int(&(*ret_a)[0], ret_code) < 0) {
		mp_doc_close(doc);
		free(resp);
		why_set(why, wl, N_("hamletd sent an answer of the wrong shape"));
		return HAMLET_EFORMAT;
	}
	if (*ret_code < 0)
		daemon_reason(&(*ret_a)[1], why, wl);
	*ret_buf = resp;
	return 0;
}

/* 1 when r says no daemon listens on the socket. */
static int daemon_absent(int r)
{
	return r == -ENOENT || r == -ECONNREFUSED;
}

/*
 * How many of items[from..n) go into one request: at least one, at most
 * max, and past the first no more than RPC_CHUNK_BYTES in all, with
 * bytes(items, i) the size item i takes in a request.
 */
static size_t chunk_count(const void *items, size_t from, size_t n, size_t max,
			  size_t (*bytes)(const void *items, size_t i))
{
	size_t k = 0, total = 64;
	while (from + k < n && k < max) {
		size_t b = bytes(items, from + k);
		if (k && total + b > RPC_CHUNK_BYTES)
			break;
		total += b;
		k++;
	}
	return k;
}

/* --- writes ------------------------------------------------------------ */

static size_t op_bytes(const void *items, size_t i)
{
	return ((const struct log_op *)items)[i].body_len + 200;
}

/* Send ops[0..n) as one "write" request; fills out, and on a refusal
 * (hamletd answered, storing nothing) *ret_refused and *ret_failed. */
static int write_rpc(const char *sock, const struct log_op *ops, size_t n,
		     struct log_out *out, size_t *ret_failed, int *ret_refused,
		     char *why, size_t wl)
{
	struct mp_writer inner;
	uint8_t *resp = NULL;
	size_t rl;
	struct mp_doc doc;
	const msgpack_object *a, *list;
	int64_t code;
	int r;

	mp_writer_init(&inner);
	msgpack_pack_array(&inner.pk, n);
	for (size_t i = 0; i < n; i++)
		rpc_pack_write_op(&inner.pk, ops[i].kind, ops[i].collection,
				  ops[i].record_id, ops[i].scope, ops[i].body,
				  ops[i].body_len, ops[i].resolve,
				  ops[i].heads, ops[i].nheads);
	r = bin_call(sock, "write", &inner, RPC_MAX_WRITE_OPS * 3 + 8, &doc,
		     &resp, &a, &rl, &code, why, wl);
	mp_writer_destroy(&inner);
	if (r < 0)
		return r;
	if (code < 0) {
		uint64_t idx = 0;
		if (rl == 3)
			mp_get_uint(&a[2], n, &idx);
		*ret_failed = (size_t)idx;
		*ret_refused = 1;
		r = (int)code;
		goto out;
	}
	r = HAMLET_EFORMAT;
	why_set(why, wl, N_("hamletd sent an answer of the wrong shape"));
	if (mp_get_array(&a[1], n, 0, &list, NULL) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const msgpack_object *x;
		if (mp_get_array(&list[i], 2, 0, &x, NULL) < 0 ||
		    mp_get_bin_fixed(&x[0], 32, out ? out[i].id : (uint8_t[32]){ 0 }) < 0)
			goto out;
		if (out) {
			mp_get_uint(&x[1], UINT64_MAX, &out[i].seq);
			/* seq 0: a put equal to the record's state, not
			 * written (log_write()'s LOG_DUPLICATE) */
			out[i].status = out[i].seq ? LOG_APPLIED : LOG_DUPLICATE;
		}
	}
	why[0] = 0;
	r = 0;
out:
	mp_doc_close(&doc);
	free(resp);
	return r;
}

int cli_write(struct node *n, int daemon, const struct log_op *ops,
	      size_t nops,
	      struct log_out *out, struct cli_write_end *ret_end, char *why,
	      size_t wl, int *ret_via_daemon)
{
	const char *sock = cli_socket_path(NULL);
	struct cli_write_end end = { 0 };
	size_t done = 0;
	int r;

	*ret_via_daemon = 0;
	while (done < nops) {
		size_t k = chunk_count(ops, done, nops, RPC_MAX_WRITE_OPS,
				       op_bytes);
		size_t failed = 0;
		int refused = 0;
		r = write_rpc(sock, ops + done, k, out ? out + done : NULL,
			      &failed, &refused, why, wl);
		if (daemon_absent(r) && done == 0 && daemon) {
			r = daemon_went_away(sock, why, wl);
			goto fail;
		}
		if (daemon_absent(r) && done == 0) {
			/* no daemon: this process writes the store itself */
			struct log_author au;
			struct log_advances adv = { 0 };
			char fw[1024];
			why[0] = 0;
			node_author(n, &au);
			r = log_write(n->st, &au, ops, nops, out, &end.failed,
				      why, wl, &adv);
			/* what it signed, kept outside the store (node.h); a
			 * file merged with another writer's is not worth a
			 * warning here (two hamlet processes write in turn) */
			if (r == 0 &&
			    node_feeds_advance(n, &adv, fw, sizeof(fw)) < 0)
				cli_err(_("warning: %s"), fw);
			log_advances_close(&adv);
			if (r < 0)
				goto fail;
			return 0;
		}
		if (daemon_absent(r)) {
			/* the connection failed: this request never left */
			why_set(why, wl,
				 N_("hamletd went away at %s (%s); nothing from this operation on was stored"),
				 sock, cli_strerror(r));
		} else if (r < 0 && !refused) {
			/* sent, but no answer: it may have been stored */
			char cause[LOG_WHY_MAX];
			if (r == -ETIMEDOUT)
				snprintf(cause, sizeof(cause),
					 cli_tr(N_("hamletd stopped answering at %s (%s)")),
					 sock, cli_strerror(r));
			else
				snprintf(cause, sizeof(cause), "%s", why);
			why_set(why, wl,
				 N_("%s; the request of %zu operations from this one on may or may not have been stored"),
				 cause, k);
			end.unanswered = 1;
		}
		if (r < 0) {
			end.failed = done + failed;
			end.stored = done;
			goto fail;
		}
		*ret_via_daemon = 1;
		done += k;
	}
	return 0;
fail:
	if (ret_end)
		*ret_end = end;
	return r;
}

/* --- entries someone else signed (bundle import) ---------------------- */

static size_t entry_bytes(const void *items, size_t i)
{
	const struct log_in *e = &((const struct log_in *)items)[i];
	return e->env_len + ENTRY_SIG_LEN + e->body_len + 16;
}

/* An answer's [applied, duplicate, held, released, forks, rejected]. */
/* n: 6 (ingest), or up to 7 (trust: taken_out last; 6 from a hamletd
 * before it, taken_out 0 then) */
static int stats_get(const msgpack_object *o, uint64_t st[7], size_t n)
{
	const msgpack_object *x;
	size_t got = 0;
	if (mp_get_array(o, SIZE_MAX, n, &x, &got) < 0 || got < 6)
		return HAMLET_EFORMAT;
	for (size_t i = 0; i < got; i++)
		if (mp_get_uint(&x[i], UINT64_MAX, &st[i]) < 0)
			return HAMLET_EFORMAT;
	return 0;
}

static void stats_add(struct log_stats *stats, const uint64_t st[7])
{
	if (!stats)
		return;
	stats->applied += st[0];
	stats->duplicate += st[1];
	stats->held += st[2];
	stats->released += st[3];
	stats->forks += st[4];
	stats->rejected += st[5];
	stats->taken_out += st[6];
}

/* Send in[0..n) as one "ingest" request; fills out and adds to stats. */
static int ingest_rpc(const char *sock, const struct log_in *in, size_t n,
		      struct log_out *out, struct log_stats *stats, char *why,
		      size_t wl)
{
	struct mp_writer inner;
	uint8_t *resp = NULL;
	size_t rl;
	struct mp_doc doc;
	const msgpack_object *a, *parts, *list, *x;
	uint64_t st[7] = { 0 };
	int64_t code;
	int r;

	mp_writer_init(&inner);
	msgpack_pack_array(&inner.pk, n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_array(&inner.pk, 3);
		mp_pack_bin(&inner.pk, in[i].env, in[i].env_len);
		mp_pack_bin(&inner.pk, in[i].sig, ENTRY_SIG_LEN);
		if (in[i].body)
			mp_pack_bin(&inner.pk, in[i].body, in[i].body_len);
		else
			msgpack_pack_nil(&inner.pk);
	}
	r = bin_call(sock, "ingest", &inner, RPC_MAX_INGEST_ENTRIES, &doc,
		     &resp, &a, &rl, &code, why, wl);
	mp_writer_destroy(&inner);
	if (r < 0)
		return r;
	if (code < 0) {
		r = (int)code;
		goto out;
	}
	r = HAMLET_EFORMAT;
	why_set(why, wl, N_("hamletd sent an answer to ingest of the wrong shape"));
	if (mp_get_array(&a[1], 2, 0, &parts, NULL) < 0 ||
	    mp_get_array(&parts[0], n, 0, &list, NULL) < 0 ||
	    stats_get(&parts[1], st, 6) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		uint64_t status;
		int64_t err;
		if (mp_get_array(&list[i], 4, 0, &x, NULL) < 0 ||
		    mp_get_uint(&x[0], LOG_REJECTED, &status) < 0 ||
		    mp_get_int(&x[1], &err) < 0 || err > 0 || err < INT_MIN ||
		    mp_get_cstr(&x[2], out[i].why, sizeof(out[i].why)) < 0 ||
		    mp_get_uint(&x[3], UINT64_MAX, &out[i].seq) < 0)
			goto out;
		out[i].status = (int)status;
		out[i].err = (int)err;
		entry_id(in[i].env, in[i].env_len, out[i].id);
	}
	stats_add(stats, st);
	why[0] = 0;
	r = 0;
out:
	mp_doc_close(&doc);
	free(resp);
	return r;
}

/* --- trust items (bundle import, cert revoke) --------------------------- */

static int trust_rpc(const char *sock, const struct trustset_item *items,
		     size_t n, struct trustset_out *out,
		     struct log_stats *stats, char *why, size_t wl)
{
	struct mp_writer inner;
	uint8_t *resp = NULL;
	size_t rl;
	struct mp_doc doc;
	const msgpack_object *a, *parts, *list, *x;
	uint64_t st[7] = { 0 };
	int64_t code;
	int r;

	mp_writer_init(&inner);
	msgpack_pack_array(&inner.pk, n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_array(&inner.pk, 2);
		msgpack_pack_uint64(&inner.pk, (uint64_t)items[i].kind);
		mp_pack_bin(&inner.pk, items[i].data, items[i].len);
	}
	r = bin_call(sock, "trust", &inner, 4 * n + 8, &doc, &resp, &a, &rl,
		     &code, why, wl);
	mp_writer_destroy(&inner);
	if (r < 0)
		return r;
	if (code < 0) {
		r = (int)code;
		goto out;
	}
	r = HAMLET_EFORMAT;
	why_set(why, wl, N_("hamletd sent an answer to trust of the wrong shape"));
	memset(st, 0, sizeof(st));
	if (mp_get_array(&a[1], 2, 0, &parts, NULL) == 0 &&
	    mp_get_array(&parts[0], n, 0, &list, NULL) == 0 &&
	    stats_get(&parts[1], st, 7) == 0) {
		/* [outcomes, stats] */
	} else if (mp_get_array(&a[1], n, 0, &list, NULL) < 0) {
		/* nor the outcomes alone, as a hamletd before the stats
		 * answered (one still running after an upgrade) */
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t status;
		int64_t err;
		memset(&out[i], 0, sizeof(out[i]));
		if (mp_get_array(&list[i], 3, 0, &x, NULL) < 0 ||
		    mp_get_uint(&x[0], TRUSTSET_REFUSED, &status) < 0 ||
		    mp_get_int(&x[1], &err) < 0 || err > 0 || err < INT_MIN ||
		    mp_get_cstr(&x[2], out[i].why, sizeof(out[i].why)) < 0)
			goto out;
		out[i].status = (int)status;
		out[i].err = (int)err;
	}
	stats_add(stats, st);
	why[0] = 0;
	r = 0;
out:
	mp_doc_close(&doc);
	free(resp);
	return r;
}

int cli_trust(void *ctx, const struct trustset_item *items, size_t n,
	      struct trustset_out *out, struct log_stats *stats, char *why,
	      size_t wl)
{
	struct cli_ingest *c = ctx;
	const char *sock = cli_socket_path(NULL);
	size_t done = 0;
	int r;

	while (done < n) {
		size_t k = 0, bytes = 64;
		while (done + k < n && k < WIRE_MAX_TRUST_ITEMS &&
		       (k == 0 || bytes + items[done + k].len + 16 <
					  RPC_CHUNK_BYTES))
			bytes += items[done + k++].len + 16;
		r = trust_rpc(sock, items + done, k, out + done, stats, why,
			      wl);
		if (daemon_absent(r) && done == 0 && c->daemon)
			return daemon_went_away(sock, why, wl);
		if (daemon_absent(r) && done == 0) {
			why[0] = 0;
			r = bundle_trust_local(c->n, items, n, out, stats);
			if (r < 0)
				why_set(why, wl, "%s", cli_strerror(r));
			return r;
		}
		if (r < 0)
			return r;
		c->via_daemon = 1;
		done += k;
	}
	return 0;
}

int cli_ingest(void *ctx, const struct log_in *in, size_t n,
	       struct log_out *out, struct log_stats *stats, char *why,
	       size_t wl)
{
	struct cli_ingest *c = ctx;
	const char *sock = cli_socket_path(NULL);
	size_t done = 0;
	int r;

	while (done < n) {
		size_t k = chunk_count(in, done, n, RPC_MAX_INGEST_ENTRIES,
				       entry_bytes);
		if (done == 0 && stop_asked(c->stop)) {
			/* before a batch, never within one: a batch sent
			 * in several requests is stored whole, and the
			 * count the import gives is of whole batches */
			why_set(why, wl,
				N_("interrupted before a batch of %zu entries: none of it was stored"),
				n);
			return -EINTR;
		}
		r = ingest_rpc(sock, in + done, k, out + done, stats, why, wl);
		if (daemon_absent(r) && done == 0 && c->daemon)
			return daemon_went_away(sock, why, wl);
		if (daemon_absent(r) && done == 0) {
			/* no daemon: this process writes the store itself */
			why[0] = 0;
			struct heard_via via;
			heard_via_bundle(&via, c->bundle);
			r = bundle_ingest_local(c->n, c->bundle ? &via : NULL,
						in, n, out, stats);
			if (r < 0)
				why_set(why, wl, "%s", cli_strerror(r));
			return r;
		}
		if (r < 0) {
			if (daemon_absent(r) || r == -ETIMEDOUT ||
			    r == -ECONNRESET || r == -EPIPE)
				why_set(why, wl,
					 N_("hamletd stopped answering at %s (%s); %zu of these %zu entries were stored, importing again is harmless"),
					 sock, cli_strerror(r), done, n);
			return r;
		}
		c->via_daemon = 1;
		done += k;
	}
	return 0;
}

void cli_budget_too_small(const msgpack_object *b, uint64_t size,
			  char lim[CLI_BUDGET_WORDS],
			  char keys[CLI_BUDGET_WORDS])
{
	uint64_t day = b ? cli_mp_u64(b, "per_day") : 0;
	uint64_t session = b ? cli_mp_u64(b, "per_session") : 0;
	int d = day && size > day, se = session && size > session;
	char a[32], c[32];

	i18n_size(day, a);
	i18n_size(session, c);
	if (d && se) {
		snprintf(lim, CLI_BUDGET_WORDS, _("%s a day, %s a session"), a,
			 c);
		snprintf(keys, CLI_BUDGET_WORDS, "per_day, per_session");
	} else if (se) {
		snprintf(lim, CLI_BUDGET_WORDS, _("%s a session"), c);
		snprintf(keys, CLI_BUDGET_WORDS, "per_session");
	} else {
		snprintf(lim, CLI_BUDGET_WORDS, _("%s a day"), a);
		snprintf(keys, CLI_BUDGET_WORDS, "per_day");
	}
}
