/*
 * listen: taking incoming connections into the handshake, within slots of
 * their own so that a flood of them locks out neither sessions nor dials.
 * A connection keeps its slot here until its HELLO holds and its session
 * starts: the network key alone (no certificate) gets no further.
 *
 * An honest peer sends its first handshake message whole as soon as its
 * TCP connection is up, and that message holds only under the network
 * key (Noise XXpsk0); a flood that holds connections open sends nothing,
 * or a message begun and never finished. So when the slots for
 * handshakes (in all, or from one address) are full, the newcomer takes
 * the slot of the oldest connection that has not yet sent a whole
 * message that held (nor has one waiting, unread, in the kernel), and is
 * refused only when every slot holds one that has. A peer sharing its
 * address with a flood (behind the same NAT, or on the same host) thus
 * still gets through, and a flood without the key holds no slot.
 */
#include "conn.h"
#include "daemon.h"
#include "dlog.h"
#include "peer_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Has c's peer shown itself in its present step: a whole handshake
 * message that held under the network key, or once the handshake is
 * done a frame (its HELLO); or are bytes of it waiting, unread, in the
 * kernel's buffer (a message that has just come)? Bytes read that make
 * no whole message are not enough: a flood sends a message's first
 * bytes and no more. A connection the peer closed or reset has not: it
 * is spared nothing. One that holds the network key but shows nothing
 * after the handshake is silent as a socket that sends nothing. */
/* Bytes of a handshake message looked at in the kernel's buffer: more
 * than any handshake message of hamlet's (Noise XX messages with their
 * payloads), so that one whole message is seen. */
#define HS_PEEK 1024

static int conn_spoke(const struct conn *c)
{
	uint8_t b[HS_PEEK];
	uv_os_fd_t fd;
	ssize_t k;
	size_t have, need;

	if (c->state == CONN_HANDSHAKE ? c->spoke : c->framed)
		return 1;
	if (uv_fileno((const uv_handle_t *)&c->tcp, &fd) < 0)
		return 1; /* cannot tell: spare it */
	if (c->state != CONN_HANDSHAKE) {
		k = recv(fd, b, 1, MSG_PEEK | MSG_DONTWAIT);
		return k > 0;
	}
	/* in the handshake: a whole message, of what is read and what
	 * waits in the kernel (u16 length, then that many bytes) */
	k = recv(fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT);
	if (k <= 0)
		return 0;
	have = c->in_len + (size_t)k;
	if (have < 2)
		return 0;
	need = 2 + ((size_t)(c->in_len > 0 ? c->in[0] : b[0]) << 8 |
		    (c->in_len > 1 ? c->in[1]
				   : b[c->in_len == 1 ? 0 : 1]));
	return have >= need;
}

/*
 * Make room for incoming connection c when the handshake slots are full:
 * close the oldest silent one (from c's address when that is what is
 * full). 0 when c may go on, -EBUSY when it must be refused.
 */
static int handshake_slot(struct daemon *d, struct conn *c)
{
	struct conn *victim = NULL;
	size_t hs = 0, here = 0;
	int per_addr;

	for (struct conn *o = d->conns; o; o = o->next) {
		if (o == c || o->closing || o->initiator ||
		    o->state == CONN_READY)
			continue;
		hs++;
		here += strcmp(o->host, c->host) == 0;
	}
	if (hs < HAMLETD_HANDSHAKES_MAX && here < HAMLETD_HANDSHAKES_PER_ADDR)
		return 0;
	per_addr = here >= HAMLETD_HANDSHAKES_PER_ADDR;
	for (struct conn *o = d->conns; o; o = o->next) {
		if (o == c || o->closing || o->initiator ||
		    o->state == CONN_READY ||
		    (per_addr && strcmp(o->host, c->host) != 0) ||
		    (victim && victim->t_start <= o->t_start) || conn_spoke(o))
			continue;
		victim = o;
	}
	/* quietly: a flood would fill the log */
	if (!victim) {
		dlog(DLOG_DEBUG, _("peer %s: closed: too many handshakes%s"),
		     c->name, per_addr ? _(" from this address") : "");
		return -EBUSY;
	}
	dlog(DLOG_DEBUG,
	     _("peer %s: closed: silent in the handshake, its slot taken by a newer connection"),
	     victim->name);
	peer__conn_close(victim);
	return 0;
}

/* The source address of c's peer, into c->host and c->name. */
static void conn_name(struct conn *c)
{
	struct sockaddr_storage ss;
	int sl = sizeof(ss), port = 0;
	char host[INET6_ADDRSTRLEN] = "?";

	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;
			uv_ip4_name(a, host, sizeof(host));
			port = ntohs(a->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
			uv_ip6_name(a, host, sizeof(host));
			port = ntohs(a->sin6_port);
		}
	}
	snprintf(c->name, sizeof(c->name), "%s:%d", host, port);
	snprintf(c->host, sizeof(c->host), "%s", host);
}

/* Take the connection libuv holds for d's listener (acceptq.h): into a
 * handshake slot, or closed at once when there is none. */
static int take_peer(struct acceptq *q, uv_stream_t *server)
{
	struct daemon *d = server->data;
	struct conn *c;
	int r;

	(void)q;

	if (!(c = peer__conn_new(d, 0, "incoming")))
		return ACCEPTQ_LATER;
	if ((r = uv_accept(server, (uv_stream_t *)&c->tcp)) < 0) {
		peer__conn_close(c);
		return r;
	}
	conn_name(c);
	c->connected = 1;
	if (handshake_slot(d, c) < 0) {
		peer__conn_close(c);
		return 0;
	}
	peer__conn_read_start(c);
	return 0;
}

static void on_connection(uv_stream_t *server, int status)
{
	struct daemon *d = server->data;

	if (status < 0) {
		dlog(DLOG_WARNING, _("accept: %s"), dlog_err(status));
		return;
	}
	acceptq_take(&d->listener_q);
}

int peer__listen(struct daemon *d)
{
	char host[CONFIG_MAX_ADDR], port[8];
	struct sockaddr_storage ss;
	int r;

	config_addr_split(d->cfg.listen, host, sizeof(host), port,
			  sizeof(port));
	if (uv_ip4_addr(host, atoi(port), (struct sockaddr_in *)&ss) &&
	    uv_ip6_addr(host, atoi(port), (struct sockaddr_in6 *)&ss)) {
		dlog(DLOG_ERR, _("listen address %s is not an IP address"),
		     d->cfg.listen);
		return -EINVAL;
	}
	uv_tcp_init(d->loop, &d->listener);
	d->listener.data = d;
	d->listening = 1;
	if ((r = uv_tcp_bind(&d->listener, (struct sockaddr *)&ss, 0)) < 0 ||
	    (r = acceptq_listen(&d->listener_q, (uv_stream_t *)&d->listener,
				d->cfg.listen, HAMLETD_LISTEN_BACKLOG,
				on_connection, HAMLETD_ACCEPTS_PER_TURN,
				take_peer)) < 0) {
		dlog(DLOG_ERR, _("cannot listen on %s: %s"), d->cfg.listen,
		     dlog_err(r));
		return r;
	}
	{
		/* the port bound, which port 0 leaves to the system */
		struct sockaddr_storage b;
		int bl = sizeof(b);
		char ip[INET6_ADDRSTRLEN] = "", at[CONFIG_MAX_ADDR + 8];
		snprintf(at, sizeof(at), "%s", d->cfg.listen);
		if (uv_tcp_getsockname(&d->listener, (struct sockaddr *)&b,
				       &bl) == 0) {
			if (b.ss_family == AF_INET &&
			    uv_ip4_name((struct sockaddr_in *)&b, ip,
					sizeof(ip)) == 0)
				snprintf(at, sizeof(at), "%s:%u", ip,
					 ntohs(((struct sockaddr_in *)&b)
						       ->sin_port));
			else if (b.ss_family == AF_INET6 &&
				 uv_ip6_name((struct sockaddr_in6 *)&b, ip,
					     sizeof(ip)) == 0)
				snprintf(at, sizeof(at), "[%s]:%u", ip,
					 ntohs(((struct sockaddr_in6 *)&b)
						       ->sin6_port));
		}
		dlog(DLOG_INFO, _("listening on %s"), at);
	}
	return 0;
}
