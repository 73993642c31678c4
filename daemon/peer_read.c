/*
 * peer_read: what arrives on a connection. First the Noise handshake's
 * messages (the peer's identity checked, one connection kept per pair,
 * the session started), then frames, decrypted and gathered into the
 * messages handed to the session (sync.c).
 */
#include "peer.h"

#include "bytes.h"
#include "conn.h"
#include "contact.h"
#include "dlog.h"
#include "error.h"
#include "noise.h"
#include "peer_internal.h"
#include "wire.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HS_PAYLOAD_MAX 128
/* The longest handshake message: an ephemeral key, the static key
 * sealed, the payload sealed (Noise_XXpsk0's second message). */
#define HS_MSG_MAX (32 + 32 + 16 + HS_PAYLOAD_MAX + 16)

static void conn_process(struct conn *c);
static void on_alloc(uv_handle_t *h, size_t sug, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* --- handshake --------------------------------------------------------- */

/* The peer's identity from a handshake payload, checked against the Noise
 * static key it proved. */
static int hs_check_payload(struct conn *c, const uint8_t *p, size_t n,
			    char *why, size_t wl)
{
	uint8_t node[32], net[32], x[32], rs[32];
	int r;
	if ((r = wire_hs_payload_decode(p, n, node, net)) < 0) {
		snprintf(why, wl, "handshake payload is malformed");
		return r;
	}
	if (memcmp(net, c->d->node->net.id, 32) != 0) {
		c->fail = DIAL_OTHER_NETWORK;
		snprintf(why, wl, "peer is on another network");
		return HAMLET_ENETWORK;
	}
	if (noise_key_from_ed25519_pk(node, x) < 0 ||
	    noise_hs_remote_static(c->hs, rs) < 0 ||
	    sodium_memcmp(x, rs, 32) != 0) {
		snprintf(why, wl,
			 "Noise static key is not the claimed node key");
		return HAMLET_EHANDSHAKE;
	}
	if (memcmp(node, c->d->node->pk, 32) == 0) {
		snprintf(why, wl, "connected to ourselves");
		return HAMLET_EHANDSHAKE;
	}
	memcpy(c->rpk, node, 32);
	c->has_rpk = 1;
	return 0;
}

/* Keep one connection per pair: the one dialled by the lower key. */
static int conn_dedup(struct conn *c)
{
	const uint8_t *me = c->d->node->pk;
	for (struct conn *o = c->d->conns; o; o = o->next) {
		const uint8_t *ci, *oi;
		if (o == c || o->closing || o->state == CONN_HANDSHAKE ||
		    !o->has_rpk || memcmp(o->rpk, c->rpk, 32) != 0)
			continue;
		ci = c->initiator ? me : c->rpk;
		oi = o->initiator ? me : o->rpk;
		if (memcmp(ci, oi, 32) < 0 && o->initiator != c->initiator) {
			peer__conn_close_why(o, N_("duplicate connection"), 1);
			return 0;
		}
		peer__conn_close_why(c, N_("duplicate connection"), 1);
		return -1;
	}
	return 0;
}

static int hs_finished(struct conn *c, char *why, size_t wl)
{
	char hex[17];
	struct peer_info *pi;
	int r;
	if ((r = noise_hs_handshake_hash(c->hs, c->hs_hash)) < 0 ||
	    (r = noise_hs_split(c->hs, &c->tx, &c->rx)) < 0) {
		snprintf(why, wl, "handshake split failed");
		return r;
	}
	noise_hs_free(c->hs);
	c->hs = NULL;
	pi = peer_info_get(c->d, c->rpk);
	if (!pi) {
		snprintf(why, wl, "too many known peers");
		return HAMLET_ETOOBIG;
	}
	if (!c->initiator) /* listed (status) whatever comes of it */
		pi->dialled_in = 1;
	if (pi->ban_until_ms > uv_now(c->d->loop)) {
		/* backed off after a fault: not blamed again. A node we
		 * dial whose certificate this node refused (its key
		 * revoked, say) is refused for that still: said so of
		 * the address, whichever of the two dialled first */
		int refused = c->initiator && pi->ban_stage == DIAL_PEER_CERT;
		if (refused)
			c->fail = DIAL_PEER_CERT;
		peer__conn_close_why(c, N_("peer is backed off after a fault"),
				     !refused);
		return 1;
	}
	/* an incoming one takes a max_peers slot only once its HELLO holds
	 * (peer_conn_admit()): until then it stays within the handshake
	 * slots (listen.c), so a key with no certificate locks out no one */
	c->info = pi;
	contact_acked_load(c->d, pi); /* before it acknowledges any */
	pi->seen_ms = uv_now(c->d->loop);
	/* the address it is known by: this connection's, unless it is
	 * the duplicate closed below (the one that stands keeps its own) */
	char was[sizeof(pi->addr)];
	snprintf(was, sizeof(was), "%s", pi->addr);
	snprintf(pi->addr, sizeof(pi->addr), "%s", c->name);
	if (pi->who.source != NAMES_UNKNOWN) {
		/* known from an earlier session: named so until its HELLO */
		char label[NAMES_LABEL_MAX];
		names_label(&pi->who, c->rpk, 0, label);
		snprintf(c->name, sizeof(c->name), "%s", label);
	} else {
		snprintf(c->name + strlen(c->name),
			 sizeof(c->name) - strlen(c->name), " (%s)",
			 peer_key_short(c->rpk, hex));
	}
	if (c->pa) {
		int news = !c->pa->has_pk || memcmp(c->pa->pk, c->rpk, 32) != 0;
		memcpy(c->pa->pk, c->rpk, 32);
		c->pa->has_pk = 1;
		if (news) /* known across a restart (contact.h) */
			contact_dials_save(c->d);
	}
	c->state = CONN_HELLO;
	if (conn_dedup(c) < 0) {
		if (was[0]) /* the one that stands came through here */
			snprintf(pi->addr, sizeof(pi->addr), "%s", was);
		return 1;
	}
	if ((r = sync_session_start(c)) < 0) {
		snprintf(why, wl, "cannot start the session");
		return r;
	}
	return 0;
}

/* One handshake message from the peer. */
static int hs_read(struct conn *c, const uint8_t *msg, size_t n, char *why,
		   size_t wl)
{
	uint8_t payload[HS_PAYLOAD_MAX], mine[HS_PAYLOAD_MAX];
	size_t plen, mlen;
	int r;

	if ((r = noise_hs_read_message(c->hs, msg, n, payload, sizeof(payload),
				       &plen)) < 0) {
		/* a message of no size a handshake has: not a hamlet node
		 * (a scanner, a browser); one that does not decrypt: another
		 * network's key */
		if (r == -ENOBUFS || r == HAMLET_ETOOBIG ||
		    r == HAMLET_EFORMAT) {
			c->fail = DIAL_NOT_HAMLET;
			snprintf(why, wl,
				 N_("handshake failed: a message of %zu bytes is no hamlet handshake (not a hamlet node?)"),
				 n);
		} else {
			c->fail = DIAL_OTHER_NETWORK;
			snprintf(why, wl,
				 N_("handshake failed: %s (wrong network key?)"),
				 hamlet_strerror(r));
		}
		return r;
	}
	/* a whole message that holds under the network key: a peer of
	 * this network, never taken for a flood (listen.c); bytes alone,
	 * a message begun and never finished, are not */
	c->spoke = 1;
	if ((r = wire_hs_payload(c->d->node->pk, c->d->node->net.id, mine,
				 sizeof(mine), &mlen)) < 0)
		return r;
	if (!c->initiator && !c->has_rpk && !noise_hs_is_finished(c->hs)) {
		/* message 1 read: answer with message 2 */
		if (plen != 0) {
			snprintf(why, wl, "handshake message 1 carries a payload");
			return HAMLET_EHANDSHAKE;
		}
		return peer__hs_send(c, mine, mlen);
	}
	if ((r = hs_check_payload(c, payload, plen, why, wl)) < 0)
		return r;
	if (c->initiator && (r = peer__hs_send(c, mine, mlen)) < 0)
		return r;
	if (!noise_hs_is_finished(c->hs)) {
		snprintf(why, wl, "handshake did not finish");
		return HAMLET_EHANDSHAKE;
	}
	return hs_finished(c, why, wl);
}

/* --- reading ----------------------------------------------------------- */

static int msg_append(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->msg_len + n > WIRE_MAX_MSG)
		return HAMLET_ETOOBIG;
	if (c->msg_len + n > c->msg_cap) {
		size_t nc = c->msg_cap ? c->msg_cap : 65536;
		uint8_t *q;
		while (nc < c->msg_len + n)
			nc *= 2;
		if (nc > WIRE_MAX_MSG)
			nc = WIRE_MAX_MSG;
		if (!(q = realloc(c->msg, nc)))
			return -ENOMEM;
		c->msg = q;
		c->msg_cap = nc;
	}
	memcpy(c->msg + c->msg_len, p, n);
	c->msg_len += n;
	return 0;
}

static int frame_handle(struct conn *c, uint8_t *p, size_t n, char *why,
			size_t wl)
{
	const uint8_t *frag;
	size_t fl, len;
	int more, r;

	if (c->state == CONN_HANDSHAKE)
		return hs_read(c, p, n, why, wl);
	c->framed = 1; /* not silent after the handshake (listen.c) */
	if ((r = wire_frame_open(&c->rx, p, n, &frag, &fl, &more)) < 0) {
		snprintf(why, wl, "%s", r == HAMLET_EDECRYPT
			 ? N_("a frame failed to decrypt") : N_("a frame is malformed"));
		return r;
	}
	if ((r = msg_append(c, frag, fl)) < 0) {
		snprintf(why, wl, "message over %zu bytes", WIRE_MAX_MSG);
		return r;
	}
	if (more)
		return 0;
	len = c->msg_len;
	c->msg_len = 0;
	return sync_session_message(c, c->msg, len, why, wl);
}

/* What a node we dialed sent, that begins no handshake, in why: a web
 * server (a peer's HTTP port given for its sync port, say) is named. */
static void not_hamlet(struct conn *c, size_t n, char *why, size_t wl)
{
	c->fail = DIAL_NOT_HAMLET;
	if (c->in_len >= 5 && memcmp(c->in, "HTTP/", 5) == 0)
		snprintf(why, wl, "%s",
			 N_("handshake failed: it answers in HTTP, as a web server does: is that the node's HTTP port rather than the port hamletd listens on for peers?"));
	else
		snprintf(why, wl,
			 N_("handshake failed: a message of %zu bytes is no hamlet handshake (not a hamlet node?)"),
			 n);
}

static void conn_process(struct conn *c)
{
	struct bytes_reader br;
	char why[256];
	size_t off = 0;
	int r = 0;

	bytes_reader_init(&br, c->in, c->in_len);
	/* a peer whose trust items fill its share of the writer is read
	 * again when one is done (peer_conn_read_resume()) */
	while (!c->closing && !c->sy.trust_paused) {
		const uint8_t *frame;
		uint16_t n;
		/* u16 length, then the frame; stop where one is not all here */
		if (bytes_get_be16(&br, &n) < 0)
			break;
		if (n == 0) {
			snprintf(why, sizeof(why), "empty frame");
			r = HAMLET_EFORMAT;
			break;
		}
		if (c->state == CONN_HANDSHAKE && c->initiator &&
		    n > HS_MSG_MAX) {
			/* what we dialed answers with what no handshake
			 * is: said now, not after the handshake's time
			 * waiting for the rest of a "message" that long */
			not_hamlet(c, n, why, sizeof(why));
			r = HAMLET_EHANDSHAKE;
			break;
		}
		if (bytes_borrow(&br, n, &frame) < 0)
			break;
		why[0] = 0;
		/* the frame lies in c->in, ours to decrypt in place */
		r = frame_handle(c, (uint8_t *)frame, n, why, sizeof(why));
		off = bytes_offset(&br);
		if (r < 0)
			break;
	}
	if (r < 0 && !c->closing)
		peer_conn_fault(c, r, why);
	if (c->closing)
		return;
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	if (c->sy.trust_paused)
		uv_read_stop((uv_stream_t *)&c->tcp);
}

void peer_conn_read_resume(struct conn *c)
{
	if (c->closing || !c->sy.trust_paused || c->d->stopping)
		return;
	c->sy.trust_paused = 0;
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	conn_process(c); /* what came before it stopped */
}

static void on_alloc(uv_handle_t *h, size_t sug, uv_buf_t *buf)
{
	struct conn *c = h->data;
	(void)sug;
	*buf = uv_buf_init((char *)c->in + c->in_len,
			   (unsigned)(PEER__IN_CAP - c->in_len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = s->data;
	(void)buf;
	if (c->closing)
		return;
	if (nread < 0) {
		/* not a fault: the other side may have hit a limit of its
		 * own, or be stopping */
		if (c->state == CONN_HANDSHAKE) {
			/* our first message does not hold under its key:
			 * the one closing most often */
			if (c->initiator && !c->has_rpk)
				c->fail = DIAL_OTHER_NETWORK;
			peer_conn_close(c, c->initiator && !c->has_rpk
					   ? N_("closed during the handshake, before answering our first message: is it of another network (another network key)?")
					   : N_("closed during the handshake"));
		} else {
			peer_conn_close(c, nread == UV_EOF
				       ? N_("peer closed the connection")
				       : dlog_err_en((int)nread));
		}
		return;
	}
	if (nread == 0)
		return;
	c->in_len += (size_t)nread;
	c->t_rx = uv_now(c->d->loop);
	if (c->info)
		c->info->bytes_in += (uint64_t)nread;
	conn_process(c);
}

void peer__conn_read_start(struct conn *c)
{
	uv_tcp_nodelay(&c->tcp, 1);
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}
