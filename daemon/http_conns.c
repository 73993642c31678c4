/*
 * http_conns: the HTTP API's open connections, so that no one client can
 * hold them all. Two rules (docs/api.md "Limits"):
 *
 * - A request must arrive whole, headers and body, within [http]
 *   request_timeout seconds of its connection opening or of the previous
 *   answer on it. libmicrohttpd's idle timeout restarts with every byte,
 *   so a client trickling a byte at a time could otherwise keep a
 *   connection for ever. A loop timer shuts such a connection's socket
 *   down; libmicrohttpd's thread then sees the end and closes it.
 * - One address other than loopback holds at most [http] max_per_client
 *   connections (half of max_connections unless set). Loopback clients,
 *   the node's own page, sink and scripts, are not limited per client.
 * - When max_connections are open and another arrives, the connection
 *   that has waited longest for a whole request, or whose answer has
 *   been going out longest, EVICT_GRACE_MS at least, is closed to make
 *   room (an honest request arrives whole, and is answered, in
 *   milliseconds); when none has waited that long, the one waiting
 *   longest for a whole request however short: connections trickling
 *   their headers, or never reading a large answer, from loopback or
 *   not, even ones opened again and again, do not shut everyone else
 *   out. Long polls and continuous feeds are not closed for it:
 *   they hold their connection by design, half of them at most.
 *   libmicrohttpd's own limit is EVICT_ROOM above ours, so that the
 *   newcomer is let in while the closed one is still being closed.
 *
 * The table has one slot per connection libmicrohttpd may hold; its
 * callbacks (on its threads) and the timer (on the loop) share it under
 * cmu. libmicrohttpd tells a connection closed before it closes the
 * socket, so a socket the timer shuts down is always the connection's.
 */
#include "http_internal.h"

#include "dlog.h"
#include "i18n.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define TICK_MS 1000
#define EVICT_GRACE_MS 2000
#define LOG_EVERY_MS 60000 /* one log line a minute for refusals */

struct http_conn {
	int used;
	int fd;
	int waiting; /* its next request has not arrived whole */
	int local;   /* loopback: not limited per client */
	int stream;  /* a long poll or continuous feed: held by design */
	uint64_t deadline; /* monotonic ms */
	uint64_t answering; /* monotonic ms its answer began (not waiting) */
	uint8_t ip[16];	   /* the client's address, IPv4 mapped */
	char name[INET6_ADDRSTRLEN];
	struct req *rq; /* the request it is answering, or NULL */
};

/* The client's address as 16 bytes, whether it is loopback, and as text. */
static void addr_key(const struct sockaddr *sa, uint8_t ip[16], int *local,
		     char name[INET6_ADDRSTRLEN])
{
	memset(ip, 0, 16);
	*local = 0;
	snprintf(name, INET6_ADDRSTRLEN, "?");
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, &a->sin_addr, 4);
		*local = ip[12] == 127;
		inet_ntop(AF_INET, &a->sin_addr, name, INET6_ADDRSTRLEN);
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
		memcpy(ip, &a->sin6_addr, 16);
		*local = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) ||
			 (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) && ip[12] == 127);
		inet_ntop(AF_INET6, &a->sin6_addr, name, INET6_ADDRSTRLEN);
	} else {
		*local = 1; /* not an IP client: nothing to count it by */
	}
}

/* 1 when the client has sent bytes not read yet. */
static int fd_has_input(int fd)
{
	uint8_t b;
	return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

static unsigned per_client(const struct http *h)
{
	unsigned m = h->d->cfg.http_max_per_client;
	return m ? m : (h->d->cfg.http_max_conns + 1) / 2;
}

/*
 * Under cmu: 1 when a new connection may come in, closing for it, when
 * max_connections are open, the one that has waited longest for a whole
 * request, or whose answer has been going out longest (a client that
 * does not read it), at least EVICT_GRACE_MS; else the one waiting
 * longest for a whole request. 0 when none may be closed (every one
 * answering, or just closed), counted in refused_full.
 */
static int make_room(struct http *h, uint64_t now)
{
	unsigned used = 0, max = h->d->cfg.http_max_conns;
	uint64_t wait_ms = (uint64_t)h->d->cfg.http_request_s * 1000;
	struct http_conn *old = NULL, *young = NULL;
	uint64_t old_since = 0, young_since = 0, since;
	int waiting;

	for (size_t i = 0; i < h->nconns; i++) {
		struct http_conn *c = &h->conns[i];
		if (!c->used)
			continue;
		used++;
		if (c->fd < 0 || c->stream)
			continue;
		/* waiting since deadline - wait_ms; or answering since */
		if (c->waiting)
			since = c->deadline > wait_ms ? c->deadline - wait_ms : 0;
		else if (c->answering)
			since = c->answering;
		else
			continue; /* closed by on_tick or make_room already */
		if (now >= since + EVICT_GRACE_MS && (!old || since < old_since)) {
			old = c;
			old_since = since;
		}
		/* (not one whose request has come and waits to be read:
		 * under load its thread may not have read it yet, and it
		 * would be closed before it was heard) */
		if (c->waiting && (!young || since < young_since) &&
		    !fd_has_input(c->fd)) {
			young = c;
			young_since = since;
		}
	}
	if (used < max)
		return 1;
	if (!old && young) {
		/* none past the grace: a client that opens connection after
		 * connection, each dropped before it could be closed, would
		 * hold them all; the one waiting longest for its request
		 * goes, as a request that comes goes out whole at once */
		old = young;
		old_since = young_since;
	}
	if (!old || used >= h->nconns) {
		h->refused_full++;
		return 0;
	}
	/* its thread sees the end and closes it, as on_tick's do */
	shutdown(old->fd, SHUT_RDWR);
	waiting = old->waiting;
	old->waiting = 0;
	old->answering = 0;
	if (waiting)
		h->cut_slow++;
	else
		h->cut_unread++;
	if (now - h->evicted_told[!waiting] >= LOG_EVERY_MS ||
	    !h->evicted_told[!waiting]) {
		h->evicted_told[!waiting] = now ? now : 1;
		if (waiting)
			dlog(DLOG_INFO,
			     _("http: all %u connections ([http] max_connections) are open: %s's, which sent no whole request for %llu s, is closed to make room"),
			     max, old->name,
			     (unsigned long long)((now - old_since) / 1000));
		else
			dlog(DLOG_INFO,
			     _("http: all %u connections ([http] max_connections) are open: %s's, whose answer has not been read for %llu s, is closed to make room"),
			     max, old->name,
			     (unsigned long long)((now - old_since) / 1000));
	}
	return 1;
}

enum MHD_Result http__on_accept(void *cls, const struct sockaddr *sa,
				socklen_t len)
{
	struct http *h = cls;
	char name[INET6_ADDRSTRLEN];
	uint8_t ip[16];
	unsigned n = 0, max = per_client(h);
	int local, refuse, tell = 0;
	uint64_t now;
	(void)len;

	addr_key(sa, ip, &local, name);
	now = http__mono_ms();
	pthread_mutex_lock(&h->cmu);
	if (!local)
		for (size_t i = 0; i < h->nconns; i++)
			n += h->conns[i].used &&
			     !memcmp(h->conns[i].ip, ip, 16);
	/* a client over its own limit closes nobody's connection; room is
	 * made only for one that is let in */
	refuse = !local && n >= max;
	if (!refuse && !make_room(h, now)) {
		/* every connection is busy answering, or was just closed */
		pthread_mutex_unlock(&h->cmu);
		return MHD_NO;
	}
	if (local) {
		pthread_mutex_unlock(&h->cmu);
		return MHD_YES;
	}
	if (refuse) {
		h->refused_per_client++;
		if (now - h->refused_told >= LOG_EVERY_MS || !h->refused_told) {
			h->refused_told = now ? now : 1;
			tell = 1;
		}
	}
	pthread_mutex_unlock(&h->cmu);
	if (tell)
		dlog(DLOG_WARNING,
		     _("http: %s already holds %u connections ([http] max_per_client): a new one is refused"),
		     name, max);
	return refuse ? MHD_NO : MHD_YES;
}

void http__on_connection(void *cls, struct MHD_Connection *conn,
			 void **socket_context,
			 enum MHD_ConnectionNotificationCode code)
{
	struct http *h = cls;
	struct http_conn *c = *socket_context;

	if (code != MHD_CONNECTION_NOTIFY_STARTED) {
		struct req *rq = NULL;
		if (c) {
			pthread_mutex_lock(&h->cmu);
			c->used = 0;
			c->fd = -1;
			rq = c->rq;
			c->rq = NULL;
			pthread_mutex_unlock(&h->cmu);
			*socket_context = NULL;
		}
		/* libmicrohttpd closed it without NOTIFY_COMPLETED (it does
		 * when it fails to answer an error of its own); its thread
		 * has ended, so nothing else holds rq */
		http__req_free(h, rq);
		return;
	}
	{
		const union MHD_ConnectionInfo *fi, *ai;
		fi = MHD_get_connection_info(
			conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		ai = MHD_get_connection_info(
			conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		pthread_mutex_lock(&h->cmu);
		for (size_t i = 0; i < h->nconns; i++)
			if (!h->conns[i].used) {
				c = &h->conns[i];
				break;
			}
		if (c) {
			c->used = 1;
			c->rq = NULL;
			c->stream = 0;
			c->answering = 0;
			c->fd = fi ? fi->connect_fd : -1;
			c->waiting = 1;
			c->deadline =
				http__mono_ms() + (uint64_t)h->d->cfg.http_request_s * 1000;
			addr_key(ai ? ai->client_addr : NULL, c->ip, &c->local,
				 c->name);
		}
		pthread_mutex_unlock(&h->cmu);
		*socket_context = c;
	}
}

/* The slot libmicrohttpd keeps for conn (made by http__on_connection),
 * or NULL. */
static struct http_conn *conn_slot(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

void http__conn_waiting(struct http *h, struct MHD_Connection *conn,
			int waiting)
{
	struct http_conn *c = conn_slot(conn);
	if (!c)
		return;
	pthread_mutex_lock(&h->cmu);
	c->waiting = waiting;
	c->stream = 0;
	if (waiting) {
		c->deadline =
			http__mono_ms() + (uint64_t)h->d->cfg.http_request_s * 1000;
		c->answering = 0;
	} else {
		c->answering = http__mono_ms();
	}
	pthread_mutex_unlock(&h->cmu);
}

void http__conn_stream(struct http *h, struct MHD_Connection *conn)
{
	struct http_conn *c = conn_slot(conn);
	if (!c)
		return;
	pthread_mutex_lock(&h->cmu);
	c->stream = 1;
	pthread_mutex_unlock(&h->cmu);
}

void http__conn_req(struct http *h, struct MHD_Connection *conn,
		    struct req *rq)
{
	struct http_conn *c = conn_slot(conn);
	if (!c)
		return;
	pthread_mutex_lock(&h->cmu);
	c->rq = rq;
	pthread_mutex_unlock(&h->cmu);
}

static void on_tick(uv_timer_t *t)
{
	struct http *h = t->data;
	char name[INET6_ADDRSTRLEN] = "";
	uint64_t now = http__mono_ms();
	unsigned cut = 0;

	pthread_mutex_lock(&h->cmu);
	for (size_t i = 0; i < h->nconns; i++) {
		struct http_conn *c = &h->conns[i];
		if (!c->used || !c->waiting || c->fd < 0 || now < c->deadline)
			continue;
		/* the connection's thread sees the end and closes it */
		shutdown(c->fd, SHUT_RDWR);
		c->waiting = 0;
		if (!cut++)
			memcpy(name, c->name, sizeof(name));
	}
	h->cut_slow += cut;
	/* one log line a minute at most, as for the other two rules: a
	 * client opening a connection a second and sending nothing would
	 * otherwise have a line a second logged for as long as it likes;
	 * /metrics counts every one */
	if (cut && !h->cut_untold)
		memcpy(h->cut_name, name, sizeof(name));
	h->cut_untold += cut;
	cut = 0;
	if (h->cut_untold &&
	    (now - h->cut_told >= LOG_EVERY_MS || !h->cut_told)) {
		h->cut_told = now ? now : 1;
		cut = h->cut_untold;
		h->cut_untold = 0;
		memcpy(name, h->cut_name, sizeof(name));
	}
	pthread_mutex_unlock(&h->cmu);
	if (cut == 1)
		dlog(DLOG_INFO,
		     _("http: %s sent no whole request within %u s ([http] request_timeout): its connection is closed"),
		     name, h->d->cfg.http_request_s);
	else if (cut > 1)
		dlog(DLOG_INFO,
		     _("http: %u connections (%s and others) sent no whole request within %u s ([http] request_timeout): closed"),
		     cut, name, h->d->cfg.http_request_s);
}

int http__conns_start(struct http *h)
{
	h->nconns = h->d->cfg.http_max_conns + HTTP_EVICT_ROOM;
	if (!(h->conns = calloc(h->nconns, sizeof(*h->conns))))
		return -ENOMEM;
	for (size_t i = 0; i < h->nconns; i++)
		h->conns[i].fd = -1;
	pthread_mutex_init(&h->cmu, NULL);
	h->cmu_init = 1;
	uv_timer_init(h->d->loop, &h->tick);
	h->tick.data = h;
	h->tick_open = 1;
	uv_timer_start(&h->tick, on_tick, TICK_MS, TICK_MS);
	return 0;
}

void http__conns_stop(struct http *h)
{
	if (h->tick_open) {
		uv_timer_stop(&h->tick);
		uv_close((uv_handle_t *)&h->tick, NULL);
		h->tick_open = 0;
	}
}

void http__conns_free(struct http *h)
{
	if (h->cmu_init)
		pthread_mutex_destroy(&h->cmu);
	free(h->conns);
}

void http__conns_counts(struct http *h, uint64_t *slow, uint64_t *unread,
			uint64_t *refused, uint64_t *full)
{
	pthread_mutex_lock(&h->cmu);
	*slow = h->cut_slow;
	*unread = h->cut_unread;
	*refused = h->refused_per_client;
	*full = h->refused_full;
	pthread_mutex_unlock(&h->cmu);
}
