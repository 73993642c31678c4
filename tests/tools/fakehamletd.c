/*
 * fakehamletd: a stand-in for hamletd's local socket, for CLI tests that
 * need answers a real daemon gives only by chance (a peer that never
 * synced, a last sync dated ahead of us, a write that changes nothing, a
 * write refused in the middle of an import).
 *
 *   fakehamletd SOCKET LOG [--max-seconds S] [--moving]
 *
 * status  three peers, each named by its certificate: key aa.. never
 *         synced and not connected; key bb..
 *         not connected, last synced an hour ahead of the wall clock;
 *         key cc.. connected, last synced at 1 s after the epoch. With
 *         --moving, cc.. synced just now, and entries keep moving with
 *         it: its entries_in grows by one at each status asked.
 * sync_now  asked the connected peer; dials none.
 * write   each operation is "stored" with the next seq, except that a
 *         record id starting with SAME is answered with seq 0 (nothing
 *         changed) and one starting with FAIL refuses the whole request,
 *         naming that operation; one starting with GONE gets no answer:
 *         the fake exits, as hamletd stopped in the middle of an import.
 *         Each request appends a line to LOG: "stored N", "refused N" or
 *         "gone N" (N operations, the request's count).
 * Anything else is refused. One request per connection, as the CLI
 * sends them; it exits after --max-seconds (default 120) or on SIGTERM.
 */
#include "error.h"
#include "mp.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define FAKE_MAX_REQUEST ((size_t)1 << 20)

static const char *log_path;
static uint64_t next_seq = 1;
static int moving;	      /* --moving */
static uint64_t status_asked; /* status requests so far */

static int io_all(int fd, uint8_t *p, size_t n, int writing)
{
	while (n) {
		ssize_t k = writing ? send(fd, p, n, MSG_NOSIGNAL)
				    : recv(fd, p, n, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static void reply(int fd, struct mp_writer *w)
{
	uint8_t hdr[4] = { (uint8_t)(w->sb.size >> 24),
			   (uint8_t)(w->sb.size >> 16),
			   (uint8_t)(w->sb.size >> 8), (uint8_t)w->sb.size };
	if (io_all(fd, hdr, 4, 1) == 0)
		io_all(fd, (uint8_t *)w->sb.data, w->sb.size, 1);
}

static void refuse(struct mp_writer *w, const char *msg, int64_t index)
{
	msgpack_pack_array(&w->pk, index >= 0 ? 3 : 2);
	msgpack_pack_int64(&w->pk, HAMLET_ESCHEMA);
	mp_pack_str(&w->pk, msg);
	if (index >= 0)
		msgpack_pack_int64(&w->pk, index);
}

static void note(const char *what, size_t n)
{
	FILE *f = fopen(log_path, "a");
	if (f) {
		fprintf(f, "%s %zu\n", what, n);
		fclose(f);
	}
}

static void peer(struct mp_writer *w, char hexdigit, int connected,
		 uint64_t last_ms, uint64_t entries_in)
{
	char key[65];
	memset(key, hexdigit, 64);
	key[64] = 0;
	msgpack_pack_map(&w->pk, 6);
	mp_pack_str(&w->pk, "key");
	mp_pack_str(&w->pk, key);
	/* the name its HELLO's certificate gave: a peer, not a stranger */
	mp_pack_str(&w->pk, "name");
	mp_pack_str(&w->pk, "Fake peer");
	mp_pack_str(&w->pk, "addr");
	mp_pack_str(&w->pk, "127.0.0.1:9");
	mp_pack_str(&w->pk, "connected");
	if (connected)
		msgpack_pack_true(&w->pk);
	else
		msgpack_pack_false(&w->pk);
	mp_pack_str(&w->pk, "last_sync_ms");
	msgpack_pack_uint64(&w->pk, last_ms);
	mp_pack_str(&w->pk, "entries_in");
	msgpack_pack_uint64(&w->pk, entries_in);
}

static void do_status(struct mp_writer *w)
{
	struct timespec ts;
	char zeros[65];
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t now_ms = (uint64_t)ts.tv_sec * 1000;
	status_asked++;
	memset(zeros, '0', 64);
	zeros[64] = 0;
	msgpack_pack_array(&w->pk, 2);
	msgpack_pack_int(&w->pk, 0);
	msgpack_pack_map(&w->pk, 3);
	mp_pack_str(&w->pk, "name");
	mp_pack_str(&w->pk, "fake");
	mp_pack_str(&w->pk, "digest");
	mp_pack_str(&w->pk, zeros);
	mp_pack_str(&w->pk, "peers");
	msgpack_pack_array(&w->pk, 3);
	peer(w, 'a', 0, 0, 0);
	peer(w, 'b', 0, now_ms + 3600 * 1000, 0);
	peer(w, 'c', 1, moving ? now_ms : 1000, moving ? status_asked : 0);
}

static void do_sync_now(struct mp_writer *w)
{
	msgpack_pack_array(&w->pk, 2);
	msgpack_pack_int(&w->pk, 0);
	msgpack_pack_map(&w->pk, 2);
	mp_pack_str(&w->pk, "asked");
	msgpack_pack_uint64(&w->pk, 1);
	mp_pack_str(&w->pk, "dialling");
	msgpack_pack_array(&w->pk, 0);
}

static void do_write(struct mp_writer *w, const msgpack_object *arg)
{
	struct mp_doc ops;
	const msgpack_object *list, *op;
	const uint8_t *bin;
	size_t blen, n;

	if (mp_get_bin(arg, FAKE_MAX_REQUEST, &bin, &blen) < 0 ||
	    mp_doc_parse(&ops, bin, blen, 200000) < 0) {
		refuse(w, "write: not a msgpack array of operations", -1);
		return;
	}
	if (mp_get_array(ops.root, SIZE_MAX, 100000, &list, &n) < 0)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		const char *id;
		size_t il;
		size_t nf;
		if (mp_get_array(&list[i], SIZE_MAX, 7, &op, &nf) < 0 ||
		    nf < 6 || mp_get_str(&op[2], 64, &id, &il) < 0)
			goto bad;
		if (il >= 4 && memcmp(id, "GONE", 4) == 0) {
			note("gone", n);
			exit(0); /* the connection closes unanswered */
		}
		if (il >= 4 && memcmp(id, "FAIL", 4) == 0) {
			char msg[128];
			snprintf(msg, sizeof(msg), "refused %.*s on purpose",
				 (int)il, id);
			refuse(w, msg, (int64_t)i);
			note("refused", n);
			mp_doc_close(&ops);
			return;
		}
	}
	msgpack_pack_array(&w->pk, 2);
	msgpack_pack_int(&w->pk, 0);
	msgpack_pack_array(&w->pk, n);
	for (size_t i = 0; i < n; i++) {
		const char *id;
		size_t il;
		uint8_t eid[32] = { 0 };
		mp_get_array(&list[i], SIZE_MAX, 7, &op, NULL);
		mp_get_str(&op[2], 64, &id, &il);
		msgpack_pack_array(&w->pk, 2);
		mp_pack_bin(&w->pk, eid, sizeof(eid));
		if (il >= 4 && memcmp(id, "SAME", 4) == 0)
			msgpack_pack_uint64(&w->pk, 0);
		else
			msgpack_pack_uint64(&w->pk, next_seq++);
	}
	note("stored", n);
	mp_doc_close(&ops);
	return;
bad:
	refuse(w, "write: an operation of the wrong shape", -1);
	mp_doc_close(&ops);
}

static void serve(int fd)
{
	uint8_t hdr[4], *req = NULL;
	size_t n;
	struct mp_doc d;
	const msgpack_object *a;
	const char *m;
	size_t ml, na;
	struct mp_writer w;

	if (io_all(fd, hdr, 4, 0) < 0)
		return; /* a probe: connected and went away */
	n = ((size_t)hdr[0] << 24) | ((size_t)hdr[1] << 16) |
	    ((size_t)hdr[2] << 8) | hdr[3];
	if (n == 0 || n > FAKE_MAX_REQUEST || !(req = malloc(n)))
		return;
	if (io_all(fd, req, n, 0) < 0 || mp_doc_parse(&d, req, n, 16) < 0) {
		free(req);
		return;
	}
	mp_writer_init(&w);
	if (mp_get_array(d.root, SIZE_MAX, 4, &a, &na) < 0 || na < 1 ||
	    mp_get_str(&a[0], 32, &m, &ml) < 0)
		refuse(&w, "not a request", -1);
	else if (ml == 6 && memcmp(m, "status", 6) == 0)
		do_status(&w);
	else if (ml == 8 && memcmp(m, "sync_now", 8) == 0)
		do_sync_now(&w);
	else if (ml == 5 && memcmp(m, "write", 5) == 0 && na == 2)
		do_write(&w, &a[1]);
	else
		refuse(&w, "this fake knows only status, sync_now and write", -1);
	reply(fd, &w);
	mp_writer_destroy(&w);
	mp_doc_close(&d);
	free(req);
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned max_s = 120;
	int fd;

	if (argc < 3) {
usage:
		fprintf(stderr, "usage: fakehamletd SOCKET LOG [--max-seconds S] [--moving]\n");
		return 2;
	}
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--max-seconds") == 0 && i + 1 < argc)
			max_s = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--moving") == 0)
			moving = 1;
		else
			goto usage;
	}
	log_path = argv[2];
	if (strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "fakehamletd: socket path too long\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 16) < 0) {
		perror("fakehamletd");
		return 1;
	}
	alarm(max_s); /* bounded even if the test forgets it */
	fprintf(stderr, "fakehamletd: listening on %s\n", argv[1]);
	for (;;) {
		int c = accept(fd, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			perror("fakehamletd: accept");
			return 1;
		}
		serve(c);
		close(c);
	}
}
