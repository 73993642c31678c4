/*
 * Peers and clients that misbehave on purpose, for the tests that attack a
 * running hamletd: raw TCP and local-socket connections, a real handshake
 * as a given node, a peer that asks and never reads, a flood of
 * connections that never send the network key; and a process's RSS.
 * Header-only, as daemon_util.h: each test is one program. Every loop is
 * bounded in count and time.
 */
#ifndef HAMLET_TESTS_ROGUE_H
#define HAMLET_TESTS_ROGUE_H

#include "daemon_util.h"
#include "helpers.h"
#include "noise.h"
#include "cert.h"
#include "wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static inline void put_profiles(struct node *n, int from, int count)
{
	th_put_people(n, from, count);
}

static inline int tcp_connect(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	ASSERT_EQ(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static inline void send_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k <= 0)
			return;
		p += k;
		n -= (size_t)k;
	}
}

/* Read one u16-framed message with a 5 s limit; returns its length or -1. */
static inline int recv_frame(int fd, uint8_t *buf, size_t cap)
{
	struct timeval tv = { 5, 0 };
	uint8_t h[2];
	size_t n, got = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (recv(fd, h, 2, MSG_WAITALL) != 2)
		return -1;
	n = ((size_t)h[0] << 8) | h[1];
	if (n > cap)
		return -1;
	while (got < n) {
		ssize_t k = recv(fd, buf + got, n - got, 0);
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	return (int)n;
}

/* 1 when the peer closed fd within limit_ms. */
static inline int wait_closed(int fd, int limit_ms)
{
	long long t0 = now_ms();
	struct timeval tv = { 0, 100000 };
	uint8_t b[4096];
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (now_ms() - t0 < limit_ms) {
		ssize_t k = recv(fd, b, sizeof(b), 0);
		if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			return 1;
	}
	return 0;
}

/* A real handshake as node n (with psk, NULL: the network key); returns
 * the socket and, when it succeeded, the sending cipher in *tx. */
/* the handshake hash of the last rogue_connect() */
static uint8_t rogue_hs_hash[64];

/* rogue_connect(), keeping the receiving cipher in *rx too (NULL: wiped),
 * for rogue_recv() */
static inline int rogue_connect_rx(struct node *n, int port, const uint8_t *psk,
				   struct noise_cipher *tx,
				   struct noise_cipher *rx_ret)
{
	struct noise_hs *hs;
	struct noise_cipher rx;
	uint8_t x[32], buf[1024], pay[256], out[2 + 1024];
	size_t len, pl;
	int fd = tcp_connect(port), k;

	ASSERT_OK(noise_key_from_ed25519_sk(n->sk, x));
	ASSERT_OK(noise_hs_new_psk(1, (const uint8_t *)WIRE_PROLOGUE,
				   strlen(WIRE_PROLOGUE), x,
				   psk ? psk : n->net.key, 0, NULL, &hs));
	sodium_memzero(x, sizeof(x));
	ASSERT_OK(noise_hs_write_message(hs, NULL, 0, out + 2, 1024, &len));
	out[0] = (uint8_t)(len >> 8);
	out[1] = (uint8_t)len;
	send_all(fd, out, len + 2);
	ASSERT_TRUE((k = recv_frame(fd, buf, sizeof(buf))) > 0);
	ASSERT_OK(noise_hs_read_message(hs, buf, (size_t)k, pay, sizeof(pay),
					&pl));
	ASSERT_OK(wire_hs_payload(n->pk, n->net.id, pay, sizeof(pay), &pl));
	ASSERT_OK(noise_hs_write_message(hs, pay, pl, out + 2, 1024, &len));
	out[0] = (uint8_t)(len >> 8);
	out[1] = (uint8_t)len;
	send_all(fd, out, len + 2);
	ASSERT_OK(noise_hs_handshake_hash(hs, rogue_hs_hash));
	ASSERT_OK(noise_hs_split(hs, tx, &rx));
	noise_hs_free(hs);
	if (rx_ret)
		*rx_ret = rx;
	else
		noise_cipher_wipe(&rx);
	return fd;
}

static inline int rogue_connect(struct node *n, int port, const uint8_t *psk,
				struct noise_cipher *tx)
{
	return rogue_connect_rx(n, port, psk, tx, NULL);
}

/*
 * The next message the daemon sent on fd (rogue_connect_rx()), its
 * fragments opened with rx and joined into buf (cap bytes); waits at
 * most 5 s for each frame. Returns its length, or -1 (closed, timed out,
 * or it did not open).
 */
static inline long rogue_recv(int fd, struct noise_cipher *rx, uint8_t *buf,
			      size_t cap)
{
	static uint8_t fr[2 + WIRE_FRAME_MAX];
	size_t len = 0;
	for (int i = 0; i < 4096; i++) {
		const uint8_t *frag;
		size_t fl;
		int more, k = recv_frame(fd, fr, sizeof(fr));
		if (k <= 0 || wire_frame_open(rx, fr, (size_t)k, &frag, &fl,
					      &more) < 0 ||
		    len + fl > cap)
			return -1;
		memcpy(buf + len, frag, fl);
		len += fl;
		if (!more)
			return (long)len;
	}
	return -1;
}

/*
 * HELLO as node n after the last rogue_connect(): its proof over that
 * session's handshake hash and n's certificate file, if it has one.
 */
static inline void rogue_hello(struct mp_writer *w, struct node *n)
{
	char path[4200];
	uint8_t proof[64], certs[CERT_CHAIN_MAX_BYTES];
	size_t cl = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/node.cert", n->home);
	if ((f = fopen(path, "rb"))) {
		cl = fread(certs, 1, sizeof(certs), f);
		fclose(f);
	}
	ASSERT_OK(wire_hello_prove(n->sk, rogue_hs_hash, proof));
	ASSERT_OK(wire_put_hello(w, NULL, 0, 16, proof,
				 certs, cl));
}

/*
 * As node n with psk, send the first handshake message alone and read
 * what comes back until the daemon closes (at most 5 s): the number of
 * bytes it sent (-1 if it did not close).
 */
static inline long rogue_first_message(struct node *n, int port,
				       const uint8_t *psk)
{
	struct noise_hs *hs;
	uint8_t x[32], out[2 + 1024], b[4096];
	struct timeval tv = { 0, 100000 };
	long long t0 = now_ms();
	size_t len;
	long got = 0;
	int fd = tcp_connect(port);

	ASSERT_OK(noise_key_from_ed25519_sk(n->sk, x));
	ASSERT_OK(noise_hs_new_psk(1, (const uint8_t *)WIRE_PROLOGUE,
				   strlen(WIRE_PROLOGUE), x, psk, 0, NULL,
				   &hs));
	sodium_memzero(x, sizeof(x));
	ASSERT_OK(noise_hs_write_message(hs, NULL, 0, out + 2, 1024, &len));
	noise_hs_free(hs);
	out[0] = (uint8_t)(len >> 8);
	out[1] = (uint8_t)len;
	send_all(fd, out, len + 2);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (now_ms() - t0 < 5000) {
		ssize_t k = recv(fd, b, sizeof(b), 0);
		if (k > 0) {
			got += k;
			continue;
		}
		if (k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			close(fd);
			return got;
		}
	}
	close(fd);
	return -1;
}

/* Seal what w holds as the next message and append its frames to *all
 * (*len bytes so far), to be sent in one write. */
static inline void rogue_append(struct noise_cipher *tx, struct mp_writer *w,
				uint8_t **all, size_t *len)
{
	size_t n, fl;
	uint8_t *p = mp_writer_take(w, &n), *fr;
	ASSERT_OK(wire_frames_seal(tx, p, n, &fr, &fl));
	free(p);
	ASSERT_TRUE((*all = realloc(*all, *len + fl)) != NULL);
	memcpy(*all + *len, fr, fl);
	*len += fl;
	free(fr);
}

static inline void rogue_send(int fd, struct noise_cipher *tx, struct mp_writer *w)
{
	size_t n, fl;
	uint8_t *p = mp_writer_take(w, &n), *fr;
	ASSERT_OK(wire_frames_seal(tx, p, n, &fr, &fl));
	send_all(fd, fr, fl);
	free(fr);
	free(p);
}

/* A figure of process pid's /proc status in kB, such as "VmRSS" (0 when
 * unknown). */
static inline long proc_status_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	long kb = 0;
	FILE *f;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, strlen(field)) == 0 &&
		    sscanf(line + strlen(field), ": %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static inline long rss_kb(pid_t pid)
{
	return proc_status_kb(pid, "VmRSS");
}

/* The part of it that is not a file's pages (the store's mapped pages
 * are): heap, stacks, anonymous maps. */
static inline long rss_anon_kb(pid_t pid)
{
	return proc_status_kb(pid, "RssAnon");
}

/* Of the RSS, the pages mapped from the store's data file (data.mdb): the
 * page cache of what is stored, which grows with the store, not with what
 * a peer makes the daemon hold, and which the kernel reclaims at will. */
static inline long rss_store_kb(pid_t pid)
{
	char path[64], line[4400];
	long kb = 0, v;
	int in_store = 0;
	FILE *f;
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	if (!(f = fopen(path, "r")))
		return 0;
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		if (strchr(line, '-') && strchr(line, ' ') &&
		    line[0] != ' ' && strncmp(line, "Rss:", 4) != 0 &&
		    strchr(line, ':') > strchr(line, ' '))
			in_store = n > 10 && strcmp(line + n - 10, "/data.mdb\n") == 0;
		else if (in_store && sscanf(line, "Rss: %ld kB", &v) == 1)
			kb += v;
	}
	fclose(f);
	return kb;
}

/*
 * Log in as n, say HELLO, then for at most limit_ms send FEEDS naming the
 * feed key at seq 0 over and over (each answered with as many heads) and
 * never read; the receive buffer is kept small. Returns the socket.
 * *ret_peak_kb is the largest RSS of pid seen meanwhile.
 */
static inline int rogue_hoard(struct node *n, int port, const uint8_t key[32],
		       pid_t pid, int limit_ms, long *ret_peak_kb)
{
	struct noise_cipher tx;
	struct mp_writer w;
	struct wire_feed *f = calloc(WIRE_MAX_FEEDS, sizeof(*f));
	uint8_t *p, *fr;
	size_t len, fl;
	long long t0 = now_ms();
	long peak = 0;
	int small = 4096, fd = rogue_connect(n, port, NULL, &tx);
	struct timeval tv = { 0, 200000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ASSERT_TRUE(f != NULL);
	for (size_t i = 0; i < WIRE_MAX_FEEDS; i++)
		memcpy(f[i].key, key, 32);
	mp_writer_init(&w);
	rogue_hello(&w, n);
	rogue_send(fd, &tx, &w);
	ASSERT_OK(wire_put_feeds(&w, f, WIRE_MAX_FEEDS, NULL, 0));
	p = mp_writer_take(&w, &len);
	mp_writer_destroy(&w);
	/* bounded in count and time; stops when the daemon hangs up */
	for (int i = 0; i < 5000 && now_ms() - t0 < limit_ms; i++) {
		size_t off = 0;
		long kb;
		ASSERT_OK(wire_frames_seal(&tx, p, len, &fr, &fl));
		while (off < fl && now_ms() - t0 < limit_ms) {
			ssize_t k = send(fd, fr + off, fl - off, MSG_NOSIGNAL);
			if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				continue;
			if (k <= 0)
				break;
			off += (size_t)k;
		}
		free(fr);
		if ((kb = rss_kb(pid)) > peak)
			peak = kb;
		if (off < fl)
			break;
	}
	free(p);
	free(f);
	noise_cipher_wipe(&tx);
	*ret_peak_kb = peak;
	return fd;
}

/*
 * A flood run by a child process (flood_start(), flood_strangers_start()):
 * it goes on until the test ends it (flood_end()) or for limit_ms at most,
 * so that a test can hold it until what it waits for has happened, and
 * then tell whether the flood was still on (flood_running()), however
 * slow the machine. The test holds the write end of a pipe; the child
 * ends once that is closed.
 */
struct flood {
	pid_t pid;
	int stop_fd; /* the test's end of the pipe: closed by flood_end() */
	int ended;   /* reaped: status is its wait status */
	int status;
};

/* The test's ends of the pipes of the floods running: a flood's child
 * closes the others', so that each flood ends when its own is closed. */
#define FLOODS_MAX 8
static __attribute__((unused)) int flood_stop_fds[FLOODS_MAX] = { -1, -1, -1, -1, -1, -1, -1, -1 };

/* Fork the flood's child: 0 in the child, with *ret_stop its end of the
 * pipe; the child's pid in the test. */
static inline pid_t flood_fork(struct flood *f, int *ret_stop)
{
	int p[2];
	pid_t pid, parent = getpid();
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL); /* nothing buffered is written twice */
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		/* a test that ends on a failed check takes its flood with
		 * it, rather than leave it dialling for its last minute */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		close(p[1]);
		for (int i = 0; i < FLOODS_MAX; i++)
			if (flood_stop_fds[i] >= 0)
				close(flood_stop_fds[i]);
		*ret_stop = p[0];
		return 0;
	}
	close(p[0]);
	for (int i = 0; i < FLOODS_MAX; i++)
		if (flood_stop_fds[i] < 0) {
			flood_stop_fds[i] = p[1];
			break;
		}
	f->pid = pid;
	f->stop_fd = p[1];
	f->ended = 0;
	f->status = 0;
	return pid;
}

/* In the child: 1 while it has not been told to end and limit_ms since
 * t0 have not passed. */
static inline int flood_go_on(int stop, long long t0, int limit_ms)
{
	struct pollfd pf = { stop, POLLIN, 0 };
	/* the test's end closed: readable (at its end) */
	return now_ms() - t0 < limit_ms && poll(&pf, 1, 0) <= 0;
}

/* 1 while the flood's child runs (it did not end at its bound, nor
 * otherwise); once it has ended, it is reaped. */
static inline int flood_running(struct flood *f)
{
	pid_t r;
	if (f->ended)
		return 0;
	r = waitpid(f->pid, &f->status, WNOHANG);
	ASSERT_TRUE(r == 0 || r == f->pid);
	f->ended = r == f->pid;
	return !f->ended;
}

/* Tell the flood to end, and reap its child (it ends within a round of
 * its loop, or at its bound); returns its wait status. */
static inline int flood_end(struct flood *f)
{
	if (f->stop_fd >= 0) {
		for (int i = 0; i < FLOODS_MAX; i++)
			if (flood_stop_fds[i] == f->stop_fd)
				flood_stop_fds[i] = -1;
		close(f->stop_fd);
		f->stop_fd = -1;
	}
	if (!f->ended) {
		ASSERT_EQ(waitpid(f->pid, &f->status, 0), f->pid);
		f->ended = 1;
	}
	return f->status;
}

/*
 * In a child process, until flood_end() and for limit_ms at most: keep n
 * connections to the address a (alen bytes) open that never send the
 * network key (nothing at all, or the len bytes of begin once
 * connected: a handshake message begun and never finished, say),
 * opening a new one each time one is closed, after a pause of pause_ms
 * between rounds (0: none, the flood connects again as fast as it is
 * closed). The child exits 0 when it opened at least one connection.
 */
static inline void flood_start_at(struct flood *f, const struct sockaddr *a,
				  socklen_t alen, int n, int limit_ms,
				  const void *begin, size_t len, int pause_ms)
{
	int stop = -1;
	if (flood_fork(f, &stop) == 0) {
		int fds[256], opened = 0;
		long long t0 = now_ms();
		struct timeval tv = { 0, 200000 };
		if (n > 256)
			n = 256;
		for (int i = 0; i < n; i++)
			fds[i] = -1;
		while (flood_go_on(stop, t0, limit_ms)) {
			for (int i = 0; i < n; i++) {
				uint8_t b[64];
				ssize_t k;
				if (fds[i] >= 0) {
					k = recv(fds[i], b, sizeof(b),
						 MSG_DONTWAIT);
					if (k == 0 ||
					    (k < 0 && errno != EAGAIN &&
					     errno != EWOULDBLOCK)) {
						close(fds[i]);
						fds[i] = -1;
					}
					continue;
				}
				fds[i] = socket(a->sa_family, SOCK_STREAM, 0);
				if (fds[i] < 0)
					continue;
				/* a full backlog makes connect wait: bounded */
				setsockopt(fds[i], SOL_SOCKET, SO_SNDTIMEO, &tv,
					   sizeof(tv));
				if (connect(fds[i], a, alen) < 0) {
					close(fds[i]);
					fds[i] = -1;
				} else {
					opened++;
					if (len && send(fds[i], begin, len,
							MSG_NOSIGNAL) < 0) {
						close(fds[i]);
						fds[i] = -1;
					}
				}
			}
			if (pause_ms > 0)
				daemon_proc_sleep_ms(pause_ms);
		}
		_exit(opened > 0 ? 0 : 1);
	}
}

/* flood_start_at() 127.0.0.1:port. */
static inline void flood_start_paced(struct flood *f, int port, int n,
				     int limit_ms, const void *begin,
				     size_t len, int pause_ms)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	flood_start_at(f, (const struct sockaddr *)&a, sizeof(a), n, limit_ms,
		       begin, len, pause_ms);
}

/* flood_start_at() the local socket at path, with no pause. */
static inline void flood_start_local(struct flood *f, const char *path,
				     int n, int limit_ms)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	flood_start_at(f, (const struct sockaddr *)&a, sizeof(a), n, limit_ms,
		       NULL, 0, 0);
}

/* flood_start_paced() with a pause of 5 ms between rounds. */
static inline void flood_start_with(struct flood *f, int port, int n,
				    int limit_ms, const void *begin,
				    size_t len)
{
	flood_start_paced(f, port, n, limit_ms, begin, len, 5);
}

/* flood_start_with() of connections that send nothing. */
static inline void flood_start(struct flood *f, int port, int n, int limit_ms)
{
	flood_start_with(f, port, n, limit_ms, NULL, 0);
}

/*
 * One handshake with the network key of n as a fresh random key with no
 * certificate, then nothing: the socket, or -1 when the daemon refused
 * it (no assertion: a flood's child calls it).
 */
static inline int rogue_stranger(struct node *n, int port)
{
	struct noise_hs *hs = NULL;
	struct noise_cipher tx, rx;
	uint8_t pk[32], sk[64], x[32], buf[1024], pay[256], out[2 + 1024];
	size_t len, pl;
	int fd, k, ok = 0;
	struct sockaddr_in a = { .sin_family = AF_INET };

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	crypto_sign_keypair(pk, sk);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    noise_key_from_ed25519_sk(sk, x) < 0 ||
	    noise_hs_new_psk(1, (const uint8_t *)WIRE_PROLOGUE,
			     strlen(WIRE_PROLOGUE), x, n->net.key, 0, NULL,
			     &hs) < 0 ||
	    noise_hs_write_message(hs, NULL, 0, out + 2, 1024, &len) < 0)
		goto out;
	out[0] = (uint8_t)(len >> 8);
	out[1] = (uint8_t)len;
	send_all(fd, out, len + 2);
	if ((k = recv_frame(fd, buf, sizeof(buf))) <= 0 ||
	    noise_hs_read_message(hs, buf, (size_t)k, pay, sizeof(pay),
				  &pl) < 0 ||
	    wire_hs_payload(pk, n->net.id, pay, sizeof(pay), &pl) < 0 ||
	    noise_hs_write_message(hs, pay, pl, out + 2, 1024, &len) < 0 ||
	    noise_hs_split(hs, &tx, &rx) < 0)
		goto out;
	out[0] = (uint8_t)(len >> 8);
	out[1] = (uint8_t)len;
	send_all(fd, out, len + 2);
	noise_cipher_wipe(&tx);
	noise_cipher_wipe(&rx);
	ok = 1;
out:
	noise_hs_free(hs);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(x, sizeof(x));
	if (!ok) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * In a child process, until flood_end() and for limit_ms at most: keep n
 * connections to port open that complete the handshake with n's network
 * key, each as a fresh random key with no certificate, and then send
 * nothing; a new one is opened each time one is closed. Told to end
 * before n handshakes completed, it goes on until they have (within
 * limit_ms). The child exits 0 when at least n handshakes completed.
 */
static inline void flood_strangers_start(struct flood *f, struct node *nd,
					 int port, int n, int limit_ms)
{
	int stop = -1;
	if (flood_fork(f, &stop) == 0) {
		int fds[256], done = 0;
		long long t0 = now_ms();
		if (n > 256)
			n = 256;
		for (int i = 0; i < n; i++)
			fds[i] = -1;
		while (now_ms() - t0 < limit_ms &&
		       (done < n || flood_go_on(stop, t0, limit_ms))) {
			for (int i = 0; i < n && now_ms() - t0 < limit_ms;
			     i++) {
				uint8_t b[4096];
				ssize_t k;
				if (fds[i] < 0) {
					if ((fds[i] = rogue_stranger(nd, port)) >= 0)
						done++;
					continue;
				}
				/* its HELLO read and dropped; closed: again */
				while ((k = recv(fds[i], b, sizeof(b),
						 MSG_DONTWAIT)) > 0)
					;
				if (k == 0 || (errno != EAGAIN &&
					       errno != EWOULDBLOCK)) {
					close(fds[i]);
					fds[i] = -1;
				}
			}
			daemon_proc_sleep_ms(5);
		}
		_exit(done >= n ? 0 : 1);
	}
}

/* A raw connection to a daemon's local socket (no request sent). */
static inline int unix_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_TRUE(fd >= 0 && strlen(path) < sizeof(a.sun_path));
	memcpy(a.sun_path, path, strlen(path) + 1);
	ASSERT_EQ(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Log in as n and say HELLO: the socket, with w ready for the next
 * message, tx its cipher and key n's feed. */
static inline int rogue_login(struct node *n, int port, struct noise_cipher *tx,
			      struct mp_writer *w, uint8_t key[32])
{
	int fd = rogue_connect(n, port, NULL, tx);
	mp_writer_init(w);
	rogue_hello(w, n);
	rogue_send(fd, tx, w);
	log_feed_key(n->pk, n->scope, key);
	return fd;
}

/* Entry seq of feed key, with its body, as ENTRIES carries it; valid for
 * the life of t. */
static inline void rogue_entry_get(struct store_txn *t, const uint8_t key[32],
				   uint64_t seq, struct run_entry *we)
{
	static struct bodyz_buf zb; /* the body, until the next call */
	static uint8_t eb[ENTRY_MAX_ENVELOPE]; /* the envelope, as long */
	uint8_t id[ENTRY_ID_LEN];
	ASSERT_OK(log_entry_get(t, key, seq, eb, &we->env, &we->env_len,
				&we->sig));
	entry_id(we->env, we->env_len, id);
	ASSERT_OK(log_body_of(t, key, seq, &zb, &we->body, &we->body_len));
}

/*
 * Log in as n, say HELLO, then send n's entries 1..count as count
 * batches of one entry each, none waiting for an ACK, in one write: the
 * daemon reads them together, before it can have stored the first.
 */
static inline int rogue_batches(struct node *n, int port, int count)
{
	struct noise_cipher tx;
	struct mp_writer w;
	struct store_txn *t;
	uint8_t key[32], *all = NULL;
	size_t len = 0;
	int fd = rogue_login(n, port, &tx, &w, key);

	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	for (int k = 1; k <= count; k++) {
		struct run_entry we;
		rogue_entry_get(t, key, (uint64_t)k, &we);
		ASSERT_OK(wire_put_entries(&w, key, NULL, &we, 1, 1, NULL));
		rogue_append(&tx, &w, &all, &len);
	}
	store_txn_abort(t);
	send_all(fd, all, len);
	free(all);
	mp_writer_destroy(&w);
	noise_cipher_wipe(&tx);
	return fd;
}

/* Log in as n, say HELLO, then send n's first entry, its signature
 * altered when tamper is set. */
static inline int rogue_entry(struct node *n, int port, int tamper)
{
	struct noise_cipher tx;
	struct mp_writer w;
	struct store_txn *t;
	struct run_entry we;
	uint8_t key[32], sig[64];
	int fd = rogue_login(n, port, &tx, &w, key);

	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	rogue_entry_get(t, key, 1, &we);
	memcpy(sig, we.sig, 64);
	if (tamper)
		sig[10] ^= 0x40;
	we.sig = sig;
	ASSERT_OK(wire_put_entries(&w, key, NULL, &we, 1, 1, NULL));
	store_txn_abort(t);
	rogue_send(fd, &tx, &w);
	mp_writer_destroy(&w);
	noise_cipher_wipe(&tx);
	return fd;
}

/* Log in as n, say HELLO, then send entry seq of another author's feed
 * key that n holds: a relay passing on what it received. */
static inline int rogue_relay_seq(struct node *n, int port,
				  const uint8_t feed[32], uint64_t seq)
{
	struct noise_cipher tx;
	struct mp_writer w;
	struct store_txn *t;
	struct run_entry we;
	uint8_t key[32];
	int fd = rogue_login(n, port, &tx, &w, key);

	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	rogue_entry_get(t, feed, seq, &we);
	ASSERT_OK(wire_put_entries(&w, feed, NULL, &we, 1, 1, NULL));
	store_txn_abort(t);
	rogue_send(fd, &tx, &w);
	mp_writer_destroy(&w);
	noise_cipher_wipe(&tx);
	return fd;
}

/* The same, entry 1. */
static inline int rogue_relay(struct node *n, int port,
			      const uint8_t feed[32])
{
	return rogue_relay_seq(n, port, feed, 1);
}

#endif
