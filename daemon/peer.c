#include "peer.h"

#include "conn.h"
#include "dlog.h"
#include "error.h"
#include "noise.h"
#include "peer_internal.h"
#include "vi_fold.h"
#include "wire.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

struct write_req {
	uv_write_t req;
	struct conn *c;
	size_t len;
	uint8_t data[];
};

uint64_t peer_wall_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

const char *peer_key_short(const uint8_t pk[32], char out[17])
{
	sodium_bin2hex(out, 17, pk, 8);
	return out;
}

/* Is p held by a connection? Then it must not be reused. */
static int info_held(const struct daemon *d, const struct peer_info *p)
{
	for (const struct conn *o = d->conns; o; o = o->next)
		if (o->info == p)
			return 1;
	return 0;
}

struct peer_info *peer_info_find(struct daemon *d, const uint8_t pk[32])
{
	for (size_t i = 0; i < HAMLETD_MAX_KNOWN; i++)
		if (d->known[i].used && memcmp(d->known[i].pk, pk, 32) == 0)
			return &d->known[i];
	return NULL;
}

int peer_info_listed(const struct daemon *d, const struct peer_info *p)
{
	if (!p->used)
		return 0;
	if (p->connected || p->dialled_in)
		return 1;
	/* one we dial: listed while it is configured, connected or not;
	 * once removed from the list (a reload, peers remove) it goes */
	for (const struct peer_addr *pa = d->addrs; pa; pa = pa->next)
		if (!pa->removed && pa->has_pk && memcmp(pa->pk, p->pk, 32) == 0)
			return 1;
	return 0;
}

struct peer_info *peer_info_get(struct daemon *d, const uint8_t pk[32])
{
	struct peer_info *free_slot = NULL, *old = NULL;
	uint64_t now = uv_now(d->loop);
	for (size_t i = 0; i < HAMLETD_MAX_KNOWN; i++) {
		struct peer_info *p = &d->known[i];
		if (p->used && memcmp(p->pk, pk, 32) == 0)
			return p;
		if (!p->used && !free_slot)
			free_slot = p;
	}
	if (!free_slot) {
		/* full: forget the peer seen longest ago whose backoff is
		 * over (else the one whose backoff ends first), so new keys
		 * can never lock out the rest */
		for (size_t i = 0; i < HAMLETD_MAX_KNOWN; i++) {
			struct peer_info *p = &d->known[i];
			int over = p->ban_until_ms <= now;
			if (p->connected || info_held(d, p))
				continue;
			if (!old ||
			    (over && (old->ban_until_ms > now ||
				      p->seen_ms < old->seen_ms)) ||
			    (!over && old->ban_until_ms > now &&
			     p->ban_until_ms < old->ban_until_ms))
				old = p;
		}
		free_slot = old;
	}
	if (free_slot) {
		memset(free_slot, 0, sizeof(*free_slot));
		memcpy(free_slot->pk, pk, 32);
		free_slot->used = 1;
	}
	return free_slot;
}

/* The fault record of host, made when make is set (reusing the record
 * of longest-past backoff when the table is full); NULL when none. A
 * record whose backoff ended HAMLETD_FORGIVE_MS ago is forgotten. */
static struct peer_faulty *faulty_get(struct daemon *d, const char *host,
				      int make)
{
	struct peer_faulty *slot = NULL;
	uint64_t now = uv_now(d->loop);
	for (size_t i = 0; i < HAMLETD_MAX_FAULTY; i++) {
		struct peer_faulty *f = &d->faulty[i];
		if (f->host[0] && f->ban_until_ms + HAMLETD_FORGIVE_MS < now)
			f->host[0] = 0;
		if (f->host[0] && strcmp(f->host, host) == 0)
			return f;
		if (!slot ||
		    (slot->host[0] &&
		     (!f->host[0] || f->ban_until_ms < slot->ban_until_ms)))
			slot = f;
	}
	if (!make || !slot)
		return NULL;
	memset(slot, 0, sizeof(*slot));
	snprintf(slot->host, sizeof(slot->host), "%s", host);
	return slot;
}

/* --- life cycle of a connection ---------------------------------------- */

static int conn_slotted(const struct conn *c)
{
	return !c->closing && (c->initiator || c->state == CONN_READY);
}

size_t peer__conns_slotted(const struct daemon *d)
{
	size_t n = 0;
	for (const struct conn *o = d->conns; o; o = o->next)
		n += (size_t)conn_slotted(o);
	return n;
}

static void conn_free(struct conn *c)
{
	struct daemon *d = c->d;
	if (c->prev)
		c->prev->next = c->next;
	else if (d->conns == c)
		d->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	d->nconns--;
	sync_session_close(c);
	noise_hs_free(c->hs);
	noise_cipher_wipe(&c->tx);
	noise_cipher_wipe(&c->rx);
	free(c->in);
	free(c->msg);
	free(c->m);
	free(c->cert);
	free(c->chain);
	free(c->own);
	free(c);
}

static void conn_handle_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	if (--c->handles == 0 && c->refs == 0)
		conn_free(c);
}

void peer_conn_ref(struct conn *c)
{
	c->refs++;
}

void peer_conn_unref(struct conn *c)
{
	if (--c->refs == 0 && c->handles == 0)
		conn_free(c);
}

void peer__conn_close(struct conn *c)
{
	struct peer_addr *pa = c->pa;
	if (c->closing)
		return;
	c->closing = 1;
	if (c->info && c->state == CONN_READY) {
		/* another live connection to the same peer keeps it connected */
		int other = 0;
		for (struct conn *o = c->d->conns; o; o = o->next)
			if (o != c && !o->closing && o->info == c->info &&
			    o->state == CONN_READY)
				other = 1;
		c->info->connected = other;
		if (!other) { /* what was awaited will not come on this one */
			struct peer_info *p = c->info;
			/* the next session asks for the rest: its count goes
			 * on from what came (a session cut before it asked
			 * for anything keeps the carry it had) */
			if (p->rx_want) {
				p->rx_carry = p->rx_got < p->rx_want ? p->rx_got : 0;
				p->rx_cut = p->rx_got < p->rx_want;
			}
			p->rx_want = p->rx_got = 0;
		}
	}
	if (pa) {
		pa->conn = NULL;
		c->pa = NULL;
		if (!pa->removed && !c->d->stopping)
			peer__dial_later(pa);
	}
	uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
	uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
}

enum dial_stage peer__conn_stage(const struct conn *c)
{
	if (!c->connected)
		return DIAL_NO_CONNECTION;
	if (c->fail)
		return c->fail;
	/* before the handshake ends the other node has seen no
	 * certificate of ours: what ends it there is no refusal of one */
	return c->state == CONN_HANDSHAKE ? DIAL_HANDSHAKE : DIAL_SESSION;
}

void peers_anon_flush(struct daemon *d, int now_anyway)
{
	uint64_t now = uv_now(d->loop);

	if (!d->anon_since_ms ||
	    (!now_anyway && now - d->anon_since_ms < HAMLETD_FULL_SAY_MS))
		return;
	if (d->anon_unsaid)
		dlog(DLOG_WARNING,
		     P_("%llu more connection dialled in by an unknown peer ended in a fault or before its handshake within a minute, not each logged; the last: %s",
			"%llu more connections dialled in by unknown peers ended in a fault or before their handshake within a minute, not each logged; the last: %s",
			d->anon_unsaid),
		     (unsigned long long)d->anon_unsaid, d->anon_last);
	d->anon_since_ms = 0;
	d->anon_said = d->anon_unsaid = 0;
}

/*
 * Whether the end of c, a connection dialled in that no key stands
 * behind yet (before its handshake ended), goes unlogged: past
 * HAMLETD_ANON_SAY_MAX such lines in a minute it is counted instead, so
 * that anyone who can reach the port (no network key needed) cannot
 * push the node's own lines out of a rate-limited journal. The count is
 * said, with the last one's words, once the minute is over (the 1 s
 * tick, peers_anon_flush()). what: the line that would have been
 * logged.
 */
static int anon_quiet(struct daemon *d, const struct conn *c,
		      const char *what)
{
	if (c->initiator || c->info)
		return 0;
	peers_anon_flush(d, 0);
	if (!d->anon_since_ms)
		d->anon_since_ms = uv_now(d->loop);
	if (d->anon_said < HAMLETD_ANON_SAY_MAX) {
		d->anon_said++;
		return 0;
	}
	d->anon_unsaid++;
	snprintf(d->anon_last, sizeof(d->anon_last), "%s", what);
	return 1;
}

/* Close c; own: this node closes it for reasons of its own (another
 * connection to the same peer, stopping, its own limits), which say
 * nothing about whether the address can be reached. */
void peer__conn_close_why(struct conn *c, const char *why, int own)
{
	if (c->closing)
		return;
	/* why: a marked literal (N_) or a sentence already translated. A
	 * dial that ends before a session is logged there, once for each
	 * new reason, not at every try */
	if (c->pa && c->state != CONN_READY && !own) {
		peer__addr_failed(c->pa, why, peer__conn_stage(c));
	} else {
		char line[DLOG_MAX_LINE];
		snprintf(line, sizeof(line), _("peer %s: closed: %s"), c->name,
			 dlog_tr(why));
		if (own || !anon_quiet(c->d, c, line))
			dlog(DLOG_INFO, "%s", line);
	}
	peer__conn_close(c);
}

void peer_conn_close(struct conn *c, const char *why)
{
	peer__conn_close_why(c, why, 0);
}

int peer_conn_admit(struct conn *c)
{
	struct daemon *d = c->d;
	uint64_t now = uv_now(d->loop);
	if (c->initiator || peer__conns_slotted(d) < d->cfg.max_peers)
		return 1;
	/* our limit, not the peer's fault; said once a minute, as a flood
	 * of certified peers would fill the log */
	d->full_refused++;
	if (!d->full_said_ms || now - d->full_said_ms >= HAMLETD_FULL_SAY_MS) {
		dlog(DLOG_INFO,
		     P_("%llu incoming session refused since the last such line: max_peers (%u) sessions and dials are up (raise [limits] max_peers if they should all be served)",
			"%llu incoming sessions refused since the last such line: max_peers (%u) sessions and dials are up (raise [limits] max_peers if they should all be served)",
			d->full_refused),
		     (unsigned long long)d->full_refused, d->cfg.max_peers);
		d->full_refused = 0;
		d->full_said_ms = now;
	}
	dlog(DLOG_DEBUG, _("peer %s: closed: %s"), c->name,
	     _("too many connections"));
	peer__conn_close(c);
	return 0;
}

void peer_conn_fault(struct conn *c, int err, const char *why)
{
	struct daemon *d = c->d;
	struct peer_faulty *f;
	uint64_t now = uv_now(d->loop);
	uint64_t b = (uint64_t)d->cfg.fault_backoff * 1000;
	char ban[48] = "";
	if (c->closing)
		return;
	/* each fault doubles the last backoff of the key and of the
	 * address it came from, whichever is longer. A certificate that
	 * does not hold is the key's alone: one PC behind a commune's NAT
	 * whose certificate expired must not lock out its neighbours */
	f = c->host[0] && err != HAMLET_ECERT ? faulty_get(d, c->host, 1)
					      : NULL;
	if (c->info && c->info->ban_ms && c->info->ban_ms * 2 > b)
		b = c->info->ban_ms * 2;
	if (f && f->ban_ms && f->ban_ms * 2 > b)
		b = f->ban_ms * 2;
	if (b > HAMLETD_BAN_MAX_MS)
		b = HAMLETD_BAN_MAX_MS;
	if (f) {
		f->ban_ms = b;
		f->ban_until_ms = now + b;
	}
	if (c->info) {
		c->info->ban_ms = b;
		c->info->ban_until_ms = now + b;
		c->info->ban_stage = (int)peer__conn_stage(c);
		snprintf(ban, sizeof(ban), _("; backed off for %llu s"),
			 (unsigned long long)(b / 1000));
	}
	if (c->pa && c->state != CONN_READY)
		peer__addr_failed(c->pa,
				  why && why[0] ? why : hamlet_strerror(err),
				  peer__conn_stage(c));
	{
		char line[DLOG_MAX_LINE];
		snprintf(line, sizeof(line), _("peer %s: dropped: %s (%s)%s"),
			 c->name,
			 why && why[0] ? dlog_tr(why) : _(hamlet_strerror(err)),
			 hamlet_errname(err), ban);
		if (!anon_quiet(d, c, line))
			dlog(DLOG_WARNING, "%s", line);
	}
	if (c->pa && c->pa->backoff_ms < HAMLETD_FAULT_BACKOFF_MS)
		c->pa->backoff_ms = HAMLETD_FAULT_BACKOFF_MS;
	peer__conn_close(c);
}

/* --- writing ----------------------------------------------------------- */

static void write_done(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;
	struct conn *c = w->c;
	c->wq_bytes -= w->len;
	free(w);
	if (!c->closing && status < 0) {
		dlog(DLOG_INFO, _("peer %s: write failed: %s"), c->name,
		     dlog_err(status));
		peer__conn_close(c);
	} else if (!c->closing && c->state == CONN_READY) {
		sync_session_pump(c);
	}
	peer_conn_unref(c);
}

/* Queue bytes on the socket; takes a copy. */
static int conn_write_raw(struct conn *c, const uint8_t *p, size_t n)
{
	struct write_req *w;
	uv_buf_t b;
	int r;
	if (c->closing)
		return -ECONNRESET;
	if (!(w = malloc(sizeof(*w) + n)))
		return -ENOMEM;
	memcpy(w->data, p, n);
	w->c = c;
	w->len = n;
	b = uv_buf_init((char *)w->data, (unsigned)n);
	if ((r = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1,
			  write_done)) < 0) {
		free(w);
		return r;
	}
	peer_conn_ref(c);
	c->wq_bytes += n;
	c->t_tx = uv_now(c->d->loop);
	if (c->info)
		c->info->bytes_out += n;
	return 0;
}

int peer_conn_send(struct conn *c, const uint8_t *msg, size_t len)
{
	uint8_t *fr = NULL;
	size_t fl;
	int r;
	if (c->closing)
		return -ECONNRESET;
	if (c->wq_bytes + len > HAMLETD_OUT_QUEUE_MAX) {
		/* every reply is held until written: a peer that asks and
		 * never reads would make us hold them without end */
		char why[96];
		snprintf(why, sizeof(why), "does not read: %zu bytes waiting",
			 c->wq_bytes);
		peer_conn_fault(c, HAMLET_ETOOBIG, why);
		return HAMLET_ETOOBIG;
	}
	if ((r = wire_frames_seal(&c->tx, msg, len, &fr, &fl)) < 0 ||
	    (r = conn_write_raw(c, fr, fl)) < 0) {
		free(fr);
		peer__conn_close(c);
		return r;
	}
	free(fr);
	return 0;
}

int peer__hs_send(struct conn *c, const uint8_t *payload, size_t plen)
{
	uint8_t buf[2 + 512];
	size_t n;
	int r;
	if ((r = noise_hs_write_message(c->hs, payload, plen, buf + 2,
					sizeof(buf) - 2, &n)) < 0)
		return r;
	buf[0] = (uint8_t)(n >> 8);
	buf[1] = (uint8_t)n;
	return conn_write_raw(c, buf, n + 2);
}

/* --- timers ------------------------------------------------------------ */

static void on_conn_timer(uv_timer_t *t)
{
	struct conn *c = t->data;
	uint64_t now = uv_now(c->d->loop);
	if (c->closing)
		return;
	if (c->state != CONN_READY) {
		if (now - c->t_start <= HAMLETD_HANDSHAKE_MS)
			return;
		if (!c->initiator && c->state == CONN_HELLO) {
			/* a key that showed no certificate: keys cost
			 * nothing, so a backoff on one spares nothing (a
			 * flood changes keys at will) and a line each
			 * would fill the log */
			dlog(DLOG_DEBUG, _("peer %s: closed: %s"), c->name,
			     _("no HELLO in time"));
			peer__conn_close(c);
		} else {
			/* nothing that holds came back: something else
			 * answers there, or the link is too slow; after the
			 * handshake, a node of this network that says no
			 * more */
			c->fail = c->state == CONN_HANDSHAKE ? DIAL_HS_TIMEOUT
							      : DIAL_HELLO_TIMEOUT;
			peer_conn_fault(c, HAMLET_EHANDSHAKE,
					c->state == CONN_HANDSHAKE
					? N_("handshake timed out")
					: N_("no HELLO in time"));
		}
		return;
	}
	if (c->info->ban_ms && now - c->t_ready >= HAMLETD_FORGIVE_MS) {
		struct peer_faulty *f =
			c->host[0] ? faulty_get(c->d, c->host, 0) : NULL;
		c->info->ban_ms = 0;
		if (f)
			f->ban_ms = 0;
		dlog(DLOG_INFO, _("peer %s: past faults forgiven after %d min of clean session"),
		     c->name, HAMLETD_FORGIVE_MS / 60000);
	}
	/* a session that stood a while: the next failures are news again
	 * (one that a peer closes at once is not, dial.c) */
	if (c->pa && c->pa->nlogged && now - c->t_ready >= HAMLETD_KEEPALIVE_MS)
		c->pa->nlogged = 0;
	/* not read while its trust items wait for the writer (it may have
	 * spoken meanwhile): its silence counts from when it is read again */
	if (c->sy.trust_paused)
		c->t_rx = now;
	if (now - c->t_rx > HAMLETD_DEAD_MS) {
		peer_conn_close(c, N_("silent for 90 s"));
		return;
	}
	if (c->cert_end_ms && peer_wall_ms() >= c->cert_end_ms) {
		/* the next HELLO decides again */
		peer_conn_close(c, N_("a certificate of this session has expired"));
		return;
	}
	if (now - c->t_tx >= HAMLETD_KEEPALIVE_MS) {
		struct mp_writer w;
		uint8_t *p;
		size_t n;
		mp_writer_init(&w);
		wire_put_keepalive(&w);
		p = mp_writer_take(&w, &n);
		mp_writer_destroy(&w);
		if (p)
			peer_conn_send(c, p, n);
		free(p);
	}
	sync_session_tick(c, now);
	if (!c->closing && c->initiator &&
	    now - c->sy.last_reconcile > SYNC_RECONCILE_MS)
		sync_session_reconcile(c);
}

/* --- creating connections ---------------------------------------------- */

struct conn *peer__conn_new(struct daemon *d, int initiator, const char *name)
{
	struct conn *c = calloc(1, sizeof(*c));
	int r;
	if (!c)
		return NULL;
	if (!(c->in = malloc(PEER__IN_CAP))) {
		free(c);
		return NULL;
	}
	c->d = d;
	c->initiator = initiator;
	c->state = CONN_HANDSHAKE;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->t_start = c->t_rx = c->t_tx = uv_now(d->loop);
	uv_tcp_init(d->loop, &c->tcp);
	uv_timer_init(d->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->handles = 2;
	c->next = d->conns;
	if (d->conns)
		d->conns->prev = c;
	d->conns = c;
	d->nconns++;
	/* psk0: one without the network key learns nothing from us */
	r = noise_hs_new_psk(initiator, (const uint8_t *)WIRE_PROLOGUE,
			     strlen(WIRE_PROLOGUE), d->x_priv,
			     d->node->net.key, 0, NULL, &c->hs);
	if (r < 0) {
		dlog(DLOG_ERR, _("cannot start a handshake: %s"),
		     _(hamlet_strerror(r)));
		peer__conn_close(c);
		return NULL;
	}
	uv_timer_start(&c->timer, on_conn_timer, 1000, 1000);
	return c;
}

int peers_start(struct daemon *d)
{
	int r;
	if (d->cfg.listen[0] && (r = peer__listen(d)) < 0)
		return r;
	return (r = peers_sync_config(d)) < 0 ? r : 0;
}

void peers_stop(struct daemon *d)
{
	if (d->listening) {
		uv_close((uv_handle_t *)&d->listener, NULL);
		acceptq_close(&d->listener_q);
		d->listening = 0;
	}
	for (struct conn *c = d->conns; c; c = c->next)
		peer__conn_close_why(c, N_("shutting down"), 1);
	peers_anon_flush(d, 1); /* the count not said yet */
	while (d->addrs) {
		struct peer_addr *pa = d->addrs;
		d->addrs = pa->next;
		peer__addr_remove(pa);
	}
}

int peer__named(const struct peer_info *p, const uint8_t *pk,
		const char *addr, const char *name)
{
	char hex[65], have[4 * CERT_MAX_NAME + 1], want[4 * CERT_MAX_NAME + 1];
	size_t n = strlen(name);
	if (addr && strcmp(addr, name) == 0)
		return 1;
	if (p && p->addr[0] && strcmp(p->addr, name) == 0)
		return 1;
	if (p && p->who.source != NAMES_UNKNOWN && p->who.name[0]) {
		/* its certificate's name as people type it: case and
		 * Vietnamese marks aside ("xa quang thuan") */
		vi_fold(p->who.name, strlen(p->who.name), have, sizeof(have));
		vi_fold(name, n, want, sizeof(want));
		if (strcmp(have, want) == 0)
			return 1;
	}
	if (!pk || n < 4 || n > 64)
		return 0;
	sodium_bin2hex(hex, sizeof(hex), pk, 32);
	return strncasecmp(hex, name, n) == 0;
}

/* Does the peer of c go by name: its configured or last address, its
 * certificate's name, or a prefix (4 hex digits or more) of its key? */
static int conn_named(const struct conn *c, const char *name)
{
	return peer__named(c->info, c->has_rpk ? c->rpk : NULL,
			   c->pa ? c->pa->addr : NULL, name);
}

size_t peers_reconcile(struct daemon *d, const char *name)
{
	size_t n = 0;
	for (struct conn *c = d->conns; c; c = c->next) {
		if (c->closing || c->state != CONN_READY ||
		    (name && !conn_named(c, name)))
			continue;
		sync_session_reconcile(c);
		n++;
	}
	return n;
}
