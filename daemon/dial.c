/*
 * dial: the peer module's outbound side. Each configured address is
 * resolved and dialled, and dialled again after a backoff with jitter
 * whenever that fails or its connection closes; an address whose node is
 * already connected the other way is looked at again later.
 */
#include "peer.h"

#include "conn.h"
#include "contact.h"
#include "dlog.h"
#include "hlc.h"
#include "error.h"
#include "peer_internal.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_connect(uv_connect_t *req, int status)
{
	struct conn *c = req->data;
	char why[256];
	int r;
	free(req);
	if (c->closing) {
		peer_conn_unref(c);
		return;
	}
	if (status < 0) {
		dlog(DLOG_DEBUG, _("peer %s: connect: %s"), c->name,
		     dlog_err(status));
		if (c->pa)
			peer__addr_failed(c->pa, dlog_err_en(status),
					  DIAL_NO_CONNECTION);
		peer__conn_close(c);
		peer_conn_unref(c);
		return;
	}
	c->connected = 1;
	peer__conn_read_start(c);
	if ((r = peer__hs_send(c, NULL, 0)) < 0) {
		snprintf(why, sizeof(why), "cannot send handshake: %s",
			 hamlet_strerror(r));
		peer_conn_close(c, why);
	}
	peer_conn_unref(c);
}

static void on_resolved(uv_getaddrinfo_t *req, int status,
			struct addrinfo *res)
{
	struct peer_addr *pa = req->data;
	struct daemon *d = pa->d;
	uv_connect_t *cr;
	struct conn *c;

	pa->gai_busy = 0;
	if (pa->removed || d->stopping) {
		uv_freeaddrinfo(res);
		if (!pa->timer_open)
			free(pa);
		return;
	}
	if (status < 0 || !res) {
		char why[200];
		snprintf(why, sizeof(why), "cannot resolve: %s",
			 dlog_err_en(status));
		peer__addr_failed(pa, why, DIAL_NO_CONNECTION);
		uv_freeaddrinfo(res);
		peer__dial_later(pa);
		return;
	}
	if (peer__conns_slotted(d) >= d->cfg.max_peers ||
	    !(c = peer__conn_new(d, 1, pa->addr)) ||
	    !(cr = malloc(sizeof(*cr)))) {
		uv_freeaddrinfo(res);
		peer__dial_later(pa);
		return;
	}
	pa->conn = c;
	c->pa = pa;
	cr->data = c;
	peer_conn_ref(c);
	if (uv_tcp_connect(cr, &c->tcp, res->ai_addr, on_connect) < 0) {
		free(cr);
		peer_conn_unref(c);
		peer__conn_close(c);
	}
	uv_freeaddrinfo(res);
}

static int established_with(struct daemon *d, const uint8_t pk[32])
{
	for (struct conn *o = d->conns; o; o = o->next)
		if (!o->closing && o->state != CONN_HANDSHAKE && o->has_rpk &&
		    memcmp(o->rpk, pk, 32) == 0)
			return 1;
	return 0;
}

static void on_dial_timer(uv_timer_t *t)
{
	struct peer_addr *pa = t->data;
	struct addrinfo hints = { 0 };
	int r;
	if (pa->removed || pa->d->stopping || pa->conn || pa->gai_busy)
		return;
	if (pa->has_pk && established_with(pa->d, pa->pk)) {
		/* already connected the other way: reached, so no failure
		 * to show; check again later */
		pa->fails = 0;
		pa->why[0] = 0;
		uv_timer_start(&pa->timer, on_dial_timer, HAMLETD_KEEPALIVE_MS,
			       0);
		return;
	}
	hints.ai_socktype = SOCK_STREAM;
	pa->gai.data = pa;
	if ((r = uv_getaddrinfo(pa->d->loop, &pa->gai, on_resolved, pa->host,
				pa->port, &hints)) < 0) {
		dlog(DLOG_WARNING, _("peer %s: %s"), pa->addr, dlog_err(r));
		peer__dial_later(pa);
		return;
	}
	pa->gai_busy = 1;
}

/* why: English (kept for status --json, the same in every locale). */
void peer__addr_failed(struct peer_addr *pa, const char *why,
		       enum dial_stage stage)
{
	int reached = stage != DIAL_NO_CONNECTION;
	uint32_t hash = (uint32_t)reached * 2654435761u;
	int seen = 0;

	pa->last_fail_ms = hlc_wall_ms();
	if (!pa->fails++)
		pa->failing_since_ms = pa->last_fail_ms;
	for (const char *p = why; *p; p++) /* FNV-1a */
		hash = (hash ^ (uint8_t)*p) * 16777619u;
	for (unsigned i = 0; i < pa->nlogged && i < 4; i++)
		seen |= pa->logged[i] == hash;
	if (!seen) {
		pa->logged[pa->nlogged++ % 4] = hash;
		if (reached)
			dlog(DLOG_INFO,
			     _("peer %s: connects, but no session starts: %s (hamletd tries again by itself; hamlet status shows it)"),
			     pa->addr, dlog_tr(why));
		else
			dlog(DLOG_INFO,
			     _("peer %s: not reached: %s (hamletd tries again by itself; hamlet status shows it)"),
			     pa->addr, dlog_tr(why));
	}
	pa->stage = stage;
	snprintf(pa->why, sizeof(pa->why), "%s", why);
}

/* Exponential backoff with +-25% jitter, from 1 s to 5 min. */
void peer__dial_later(struct peer_addr *pa)
{
	uint64_t b = pa->backoff_ms ? pa->backoff_ms : HAMLETD_BACKOFF_MIN_MS;
	uint64_t delay = b - b / 4 + randombytes_uniform((uint32_t)(b / 2 + 1));
	pa->backoff_ms = b * 2 > HAMLETD_BACKOFF_MAX_MS ? HAMLETD_BACKOFF_MAX_MS
							 : b * 2;
	uv_timer_start(&pa->timer, on_dial_timer, delay, 0);
}

static void addr_timer_closed(uv_handle_t *h)
{
	struct peer_addr *pa = h->data;
	pa->timer_open = 0;
	if (!pa->gai_busy)
		free(pa);
}

/* The key pa reached, known by pa's address, is known by another
 * address this node still dials to it, if there is one: status names a
 * peer by where it is dialled, never by an address taken out. */
static void addr_forget(struct daemon *d, const struct peer_addr *pa)
{
	struct peer_info *p;

	if (!pa->has_pk || !(p = peer_info_find(d, pa->pk)) ||
	    strcmp(p->addr, pa->addr) != 0)
		return;
	for (const struct peer_addr *o = d->addrs; o; o = o->next)
		if (o != pa && !o->removed && o->has_pk &&
		    memcmp(o->pk, pa->pk, 32) == 0) {
			snprintf(p->addr, sizeof(p->addr), "%s", o->addr);
			return;
		}
}

void peer__addr_remove(struct peer_addr *pa)
{
	struct conn *c = pa->conn;

	pa->removed = 1;
	addr_forget(pa->d, pa);
	if (c) {
		/* no failed dial, to be counted, logged with "tries again
		 * by itself" and shown by status: the address is no longer
		 * dialled. Unhooked first, so that its close says so */
		pa->conn = NULL;
		c->pa = NULL;
		if (c->state == CONN_READY)
			peer__conn_close_why(c, N_("removed from the peer list"),
					     1);
		else /* the caller's "removed" line says it all */
			peer__conn_close(c);
	}
	if (pa->gai_busy)
		uv_cancel((uv_req_t *)&pa->gai);
	uv_close((uv_handle_t *)&pa->timer, addr_timer_closed);
}

size_t peers_dial_now(struct daemon *d, const char *name,
		      const struct peer_addr **ret, size_t cap)
{
	size_t n = 0;
	for (struct peer_addr *pa = d->addrs; pa; pa = pa->next) {
		const struct peer_info *p;
		if (pa->removed || !pa->timer_open || d->stopping)
			continue;
		if (pa->conn && pa->conn->state == CONN_READY)
			continue; /* connected: peers_reconcile() asks it */
		if (pa->has_pk && established_with(d, pa->pk))
			continue; /* connected the other way */
		p = pa->has_pk ? peer_info_find(d, pa->pk) : NULL;
		if (name && !peer__named(p, pa->has_pk ? pa->pk : NULL,
					 pa->addr, name))
			continue;
		/* one under way (resolving, connecting, in the handshake)
		 * is not started again; the others are dialled at once,
		 * and a failure backs off from where the backoff was */
		if (!pa->conn && !pa->gai_busy)
			uv_timer_start(&pa->timer, on_dial_timer, 0, 0);
		if (n < cap)
			ret[n] = pa;
		n++;
	}
	return n;
}

int peers_sync_config(struct daemon *d)
{
	struct peer_addr **pp = &d->addrs, *gone = NULL, **tail = &gone;
	int changes = 0, keyed = 0;
	/* drop addresses no longer listed: every one out of the list
	 * first, so that a key known at two of them is known by neither
	 * once both go (addr_forget) */
	while (*pp) {
		struct peer_addr *pa = *pp;
		int keep = 0;
		for (size_t i = 0; i < d->cfg.npeers; i++)
			if (strcmp(d->cfg.peers[i], pa->addr) == 0)
				keep = 1;
		if (keep) {
			pp = &pa->next;
			continue;
		}
		*pp = pa->next;
		pa->next = NULL;
		*tail = pa; /* in the list's order */
		tail = &pa->next;
	}
	while (gone) {
		struct peer_addr *pa = gone;
		gone = pa->next;
		changes++;
		dlog(DLOG_INFO, _("peer %s: removed"), pa->addr);
		keyed |= pa->has_pk;
		peer__addr_remove(pa);
	}
	/* peers.known keeps the keys of the addresses dialled only */
	if (keyed)
		contact_dials_save(d);
	for (size_t i = 0; i < d->cfg.npeers; i++) {
		struct peer_addr *pa;
		int have = 0;
		for (pa = d->addrs; pa; pa = pa->next)
			if (strcmp(d->cfg.peers[i], pa->addr) == 0)
				have = 1;
		if (have)
			continue;
		if (!(pa = calloc(1, sizeof(*pa))))
			return -ENOMEM;
		pa->d = d;
		snprintf(pa->addr, sizeof(pa->addr), "%s", d->cfg.peers[i]);
		if (config_addr_split(pa->addr, pa->host, sizeof(pa->host),
				      pa->port, sizeof(pa->port)) < 0) {
			free(pa);
			return -EINVAL;
		}
		uv_timer_init(d->loop, &pa->timer);
		pa->timer.data = pa;
		pa->timer_open = 1;
		pa->next = d->addrs;
		d->addrs = pa;
		changes++;
		/* the key met there before a restart: listed at once, with
		 * its last contact, not only once it connects again */
		contact_dial_restore(d, pa);
		dlog(DLOG_INFO, _("peer %s: added"), pa->addr);
		uv_timer_start(&pa->timer, on_dial_timer, 0, 0);
	}
	return changes;
}
