/*
 * rpc_status: the map the "status" method answers, for the local socket
 * and the HTTP API (rpc.h's rpc_status_pack): the node, its peers and
 * their progress and budgets, the addresses dialled and those not
 * reached.
 */
#include "rpc.h"
#include "rpc_internal.h"

#include "budget.h"
#include "cert.h"
#include "conn.h"
#include "contact.h"
#include "hlc.h"
#include "ingest.h"
#include "mp.h"
#include "peer.h"
#include "record.h"
#include "scopemap.h"
#include "sync.h"

#include <sodium.h>
#include <string.h>
#include <time.h>

void rpc__kv_u64(msgpack_packer *pk, const char *k, uint64_t v)
{
	mp_pack_str(pk, k);
	msgpack_pack_uint64(pk, v);
}

static void pack_refused(msgpack_packer *pk, const struct ingest_refused *c)
{
	mp_pack_str(pk, "refused");
	msgpack_pack_map(pk, 9);
	rpc__kv_u64(pk, "invalid", c->invalid);
	rpc__kv_u64(pk, "not_granted", c->not_granted);
	rpc__kv_u64(pk, "revoked", c->revoked);
	rpc__kv_u64(pk, "out_of_scope", c->out_of_scope);
	rpc__kv_u64(pk, "too_far_ahead", c->future);
	rpc__kv_u64(pk, "held_cap", c->held_cap);
	rpc__kv_u64(pk, "held_expired", c->held_expired);
	rpc__kv_u64(pk, "frozen_feed", c->frozen);
	rpc__kv_u64(pk, "forks", c->forks);
}

/* name, scope, role (nil when unknown) and name_source: 4 pairs. */
static void pack_who(msgpack_packer *pk, const struct names_who *w)
{
	const char *role = cert_role_name(w->role);
	mp_pack_str(pk, "name");
	if (w->source)
		mp_pack_str(pk, w->name);
	else
		msgpack_pack_nil(pk);
	mp_pack_str(pk, "scope");
	if (w->source)
		mp_pack_str(pk, w->scope);
	else
		msgpack_pack_nil(pk);
	mp_pack_str(pk, "role");
	if (w->source && role)
		mp_pack_str(pk, role);
	else
		msgpack_pack_nil(pk);
	mp_pack_str(pk, "name_source");
	mp_pack_str(pk, names_source_word(w->source));
}

/* Who p is now: its last HELLO's certificate, unless p is not connected
 * and the trust set now says no certificate of it holds (it expired, or
 * its key was revoked, since). A read transaction of its own, short:
 * none is held across the packing, which opens others. */
static const struct names_who *peer_who_now(struct daemon *d,
					    const struct peer_info *p,
					    struct names_who *buf)
{
	struct store_txn *t;
	int r;

	if (p->connected || p->who.source != NAMES_CERT ||
	    store_txn_begin(d->node->st, 1, &t) < 0)
		return &p->who;
	r = names_lookup(t, p->pk, hlc_wall_ms(), buf);
	store_txn_abort(t);
	if (r < 0 ||
	    (buf->source != NAMES_CERT_OLD && buf->source != NAMES_CERT_REVOKED))
		return &p->who;
	/* the HELLO's name and scope as shown (a moved scope mapped) */
	memcpy(buf->name, p->who.name, sizeof(buf->name));
	memcpy(buf->scope, p->who.scope, sizeof(buf->scope));
	memcpy(buf->written, p->who.written, sizeof(buf->written));
	buf->role = p->who.role;
	return buf;
}

/* "progress": the sync under way with p: entries received of those
 * asked for, since when, and at what rate now (over the last seconds of
 * it, not since it began: a link that stalled and came back shows the
 * speed it has again). One pair. */
static void pack_progress(msgpack_packer *pk, const struct peer_info *p)
{
	uint64_t now = peer_wall_ms();
	mp_pack_str(pk, "progress");
	msgpack_pack_map(pk, 7);
	rpc__kv_u64(pk, "received", p->rx_got);
	rpc__kv_u64(pk, "total", p->rx_want);
	rpc__kv_u64(pk, "to_receive", p->rx_want - p->rx_got);
	rpc__kv_u64(pk, "started_ms", p->rx_start_ms);
	rpc__kv_u64(pk, "per_s", rate_per_s(&p->rx_rate, now));
	/* the last batch's arrival, and how long ago: a sync that stopped
	 * (the link, or the sender's byte budget, which is not on the
	 * wire) is told from a slow one by this, not by its mean rate */
	rpc__kv_u64(pk, "last_ms", p->rx_last_ms);
	rpc__kv_u64(pk, "quiet_ms", now > p->rx_last_ms ? now - p->rx_last_ms : 0);
}

/* The budget the config sets for p now (a reload shows at once, not
 * only once the next entry is sent): by the address we dial it at, else
 * by the host it dialled in from. */
static void budget_now(struct daemon *d, const struct peer_info *p,
		       struct config_budget *ret)
{
	char host[CONFIG_MAX_ADDR], port[16];
	for (const struct conn *c = d->conns; c; c = c->next)
		if (!c->closing && c->info == p) {
			config_budget_for(&d->cfg, c->pa ? c->pa->addr : NULL,
					  c->pa ? NULL : c->host, ret);
			return;
		}
	for (const struct peer_addr *pa = d->addrs; pa; pa = pa->next)
		if (!pa->removed && pa->has_pk && !memcmp(pa->pk, p->pk, 32)) {
			config_budget_for(&d->cfg, pa->addr, NULL, ret);
			return;
		}
	config_budget_for(&d->cfg, NULL,
			  config_addr_split(p->addr, host, sizeof(host), port,
					    sizeof(port)) == 0
				  ? host
				  : NULL,
			  ret);
}

/* Why entries wait for p's budget b (SYNC_HELD_*): p's hold, unless a
 * reload lifted or raised the limit that made it. The pump weighs the
 * new limit only in a session (sync__budget_tick), so for a peer not
 * connected the hold would stand until it connects again, naming a
 * budget that is no longer there; its entries go at its next session.
 * So does a day's hold once a new day has come (budget_day_rolls). */
static int held_now(const struct peer_info *p, const struct config_budget *b)
{
	if (p->budget_held == SYNC_HELD_DAY)
		return b->per_day && b->per_day <= p->budget_per_day &&
				       !budget_day_rolls(p->budget_day,
							 contact_budget_today())
			       ? SYNC_HELD_DAY
			       : SYNC_HELD_NONE;
	if (p->budget_held == SYNC_HELD_SESSION)
		return b->per_session &&
				       b->per_session <= p->budget_per_session
			       ? SYNC_HELD_SESSION
			       : SYNC_HELD_NONE;
	return SYNC_HELD_NONE;
}

/* "budget": what p's byte budget allows and what waits for it. One pair. */
static void pack_budget(msgpack_packer *pk, struct daemon *d,
			const struct peer_info *p)
{
	/* a day later than today: the clock was set back since, and the
	 * count goes on (budget_day_roll) */
	int today = p->budget_day >= contact_budget_today();
	struct config_budget b;
	int held;
	budget_now(d, p, &b);
	held = held_now(p, &b);
	mp_pack_str(pk, "budget");
	msgpack_pack_map(pk, 8);
	rpc__kv_u64(pk, "per_day", b.per_day);
	rpc__kv_u64(pk, "per_session", b.per_session);
	rpc__kv_u64(pk, "sent_today", today ? p->sent_today : 0);
	rpc__kv_u64(pk, "sent_session", p->sent_session);
	mp_pack_str(pk, "held_back");
	if (held)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	mp_pack_str(pk, "held_by");
	if (held)
		mp_pack_str(pk, held == SYNC_HELD_DAY ? "day" : "session");
	else
		msgpack_pack_nil(pk);
	rpc__kv_u64(pk, "entries_held", held ? p->budget_waiting : 0);
	/* the entry that stopped the stream is larger than a whole budget:
	 * it goes only once that budget is raised */
	rpc__kv_u64(pk, "entry_too_big", held ? p->budget_too_big : 0);
}

/* What the session with p still has to send it (sync_session_outgoing),
 * and what it acknowledged since the basis status counts from (daemon.h
 * acked_base): 3 pairs. */
static void pack_outgoing(msgpack_packer *pk, struct daemon *d,
			  const struct peer_info *p)
{
	uint64_t to_send = 0, unacked = 0;
	for (struct conn *c = d->conns; c; c = c->next)
		if (!c->closing && c->info == p && c->state == CONN_READY) {
			sync_session_outgoing(c, &to_send, &unacked);
			break;
		}
	rpc__kv_u64(pk, "entries_to_send", to_send);
	rpc__kv_u64(pk, "entries_unacked", unacked);
	rpc__kv_u64(pk, "entries_acked_since_agreed",
		    p->acked_out > p->acked_base ? p->acked_out - p->acked_base
						 : 0);
}

/* How far a failed dial got (conn.h), as status --json names it: the
 * advice hamlet status gives depends on it. */
static const char *dial_stage_name(enum dial_stage s)
{
	switch (s) {
	case DIAL_NO_CONNECTION: return "no_connection";
	case DIAL_HS_TIMEOUT: return "handshake_timeout";
	case DIAL_NOT_HAMLET: return "not_hamlet";
	case DIAL_OTHER_NETWORK: return "other_network";
	case DIAL_HANDSHAKE: return "handshake";
	case DIAL_HELLO_TIMEOUT: return "hello_timeout";
	case DIAL_PEER_CERT: return "peer_certificate";
	case DIAL_SESSION: break;
	}
	return "session";
}

/* The configured peers whose dials fail: where, why, since when. */
static void pack_unreached(msgpack_packer *pk, struct daemon *d)
{
	size_t n = 0;
	struct peer_addr *pa;
	for (pa = d->addrs; pa; pa = pa->next)
		n += !pa->removed && pa->fails > 0;
	mp_pack_str(pk, "unreached");
	msgpack_pack_array(pk, n);
	for (pa = d->addrs; pa; pa = pa->next) {
		if (pa->removed || !pa->fails)
			continue;
		msgpack_pack_map(pk, 8);
		mp_pack_str(pk, "addr");
		mp_pack_str(pk, pa->addr);
		rpc__kv_u64(pk, "last_ms", pa->last_fail_ms);
		mp_pack_str(pk, "reached");
		if (pa->stage != DIAL_NO_CONNECTION)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		mp_pack_str(pk, "stage");
		mp_pack_str(pk, dial_stage_name(pa->stage));
		mp_pack_str(pk, "why");
		mp_pack_str(pk, pa->why);
		rpc__kv_u64(pk, "tries", pa->fails);
		rpc__kv_u64(pk, "since_ms", pa->failing_since_ms);
		rpc__kv_u64(pk, "retry_in_ms",
		       pa->timer_open ? uv_timer_get_due_in(&pa->timer) : 0);
	}
}

/* "dials": each address dialled, with the key that answered there last
 * (nil before any did), so that a dial is known by its peer whichever
 * connection to it stands (after a duplicate, the one it opened). */
static void pack_dials(msgpack_packer *pk, struct daemon *d)
{
	size_t n = 0;
	struct peer_addr *pa;
	char hex[65];
	for (pa = d->addrs; pa; pa = pa->next)
		n += !pa->removed;
	mp_pack_str(pk, "dials");
	msgpack_pack_array(pk, n);
	for (pa = d->addrs; pa; pa = pa->next) {
		if (pa->removed)
			continue;
		msgpack_pack_map(pk, 2);
		mp_pack_str(pk, "addr");
		mp_pack_str(pk, pa->addr);
		mp_pack_str(pk, "key");
		if (pa->has_pk) {
			sodium_bin2hex(hex, sizeof(hex), pa->pk, 32);
			mp_pack_str(pk, hex);
		} else {
			msgpack_pack_nil(pk);
		}
	}
}

/*
 * "own_scope_unread": true when peers are connected and none of them may
 * read this node's own scope (a village moved to another commune, still
 * dialling its old one): what it writes stays here though each peer is
 * in sync with it.
 */
static void pack_own_scope(msgpack_packer *pk, struct daemon *d)
{
	int with_cert = 0, reads = 0, all_below = 1;

	for (struct conn *c = d->conns; c; c = c->next) {
		if (!c->cert || c->closing)
			continue;
		with_cert = 1;
		if (scopemap_may_read(d->node->smap, c->cert, d->node->scope))
			reads = 1;
		/* a peer below us (a province's communes): our own
		 * scope's records are not its to take; data flows up */
		if (c->cert->nread == 0)
			all_below = 0;
		for (size_t i = 0; i < c->cert->nread; i++)
			if (!entry_scope_under(c->cert->read[i], d->node->scope) ||
			    strcmp(c->cert->read[i], d->node->scope) == 0)
				all_below = 0;
	}
	mp_pack_str(pk, "own_scope_unread");
	if (with_cert && !reads && !all_below)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

int rpc_status_pack(struct daemon *d, msgpack_packer *pk)
{
	struct store_txn *t = NULL;
	uint8_t digest[32];
	char hex[65];
	uint64_t count = 0;
	size_t np = 0;
	struct names_who who;
	int r;

	/* the digest hashes every record; fine for a village or commune, a
	 * province should ask rarely */
	if ((r = store_txn_begin(d->node->st, 1, &t)) < 0 ||
	    (r = record_digest(t, digest, &count)) < 0) {
		store_txn_abort(t);
		return r;
	}
	store_txn_abort(t);
	for (size_t i = 0; i < HAMLETD_MAX_KNOWN; i++)
		np += (size_t)peer_info_listed(d, &d->known[i]);
	msgpack_pack_map(pk, 9);
	pack_own_scope(pk, d);
	pack_unreached(pk, d);
	pack_dials(pk, d);
	mp_pack_str(pk, "node");
	sodium_bin2hex(hex, sizeof(hex), d->node->pk, 32);
	mp_pack_str(pk, hex);
	mp_pack_str(pk, "name");
	mp_pack_str(pk, d->node->name);
	mp_pack_str(pk, "digest");
	sodium_bin2hex(hex, sizeof(hex), digest, 32);
	mp_pack_str(pk, hex);
	rpc__kv_u64(pk, "records", count);
	pack_refused(pk, ingest_refused(d->ingest));
	mp_pack_str(pk, "peers");
	msgpack_pack_array(pk, np);
	for (size_t i = 0; i < HAMLETD_MAX_KNOWN; i++) {
		struct peer_info *p = &d->known[i];
		if (!peer_info_listed(d, p))
			continue;
		msgpack_pack_map(pk, 33 + !!PEER_RX_ACTIVE(p));
		mp_pack_str(pk, "key");
		sodium_bin2hex(hex, sizeof(hex), p->pk, 32);
		mp_pack_str(pk, hex);
		pack_who(pk, peer_who_now(d, p, &who));
		/* a key that never completed a session with us (not
		 * connected, never agreed, nothing received, no name from a
		 * certificate): a scanner or a node refused at the handshake,
		 * which status and the page fold into one line */
		mp_pack_str(pk, "stranger");
		if (!p->connected && !p->last_sync_ms && !p->entries_in &&
		    !p->who.source && p->dialled_in)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		if (PEER_RX_ACTIVE(p))
			pack_progress(pk, p);
		mp_pack_str(pk, "addr");
		mp_pack_str(pk, p->addr);
		mp_pack_str(pk, "connected");
		if (p->connected)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		rpc__kv_u64(pk, "last_sync_ms", p->last_sync_ms);
		rpc__kv_u64(pk, "bytes_in", p->bytes_in);
		rpc__kv_u64(pk, "bytes_out", p->bytes_out);
		rpc__kv_u64(pk, "entries_in", p->entries_in);
		rpc__kv_u64(pk, "entries_out", p->entries_out);
		rpc__kv_u64(pk, "entries_bytes_out", p->entries_bytes_out);
		rpc__kv_u64(pk, "messages_in", p->msgs_in);
		rpc__kv_u64(pk, "neg_in", p->neg_in);
		rpc__kv_u64(pk, "since_used", p->since_used);
		rpc__kv_u64(pk, "agreed", p->agreed);
		rpc__kv_u64(pk, "chain_ref_out", p->chain_ref_out);
		rpc__kv_u64(pk, "certs_want_out", p->certs_want_out);
		rpc__kv_u64(pk, "entries_dup_in", p->entries_dup_in);
		rpc__kv_u64(pk, "batches_in", p->batches_in);
		rpc__kv_u64(pk, "batches_in_overlap", p->batches_in_overlap);
		rpc__kv_u64(pk, "batch_credit", p->batch_credit);
		rpc__kv_u64(pk, "batch_ceiling", sync_peer_ceiling(p));
		rpc__kv_u64(pk, "batches_lost_in", p->batches_lost_in);
		rpc__kv_u64(pk, "entries_waiting_for_disk", p->disk_wait);
		/* this session's entries refused as dated too far ahead:
		 * its by us, ours by it (its ACKs say) */
		rpc__kv_u64(pk, "entries_refused_ahead_in", p->ahead_in);
		rpc__kv_u64(pk, "entries_refused_ahead_out", p->ahead_out);
		pack_outgoing(pk, d, p);
		pack_budget(pk, d, p);
	}
	return 0;
}
