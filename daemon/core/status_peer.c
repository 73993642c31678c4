/*
 * status_peer: what waits for a peer and whether it is in sync, as this
 * store and hamletd's answer see it (status_peer_judge): one judgement
 * for hamlet status, sync --wait, the status page and GET /v1/status.
 */
#include "status.h"

#include "entries.h"
#include "entry.h"
#include "error.h"
#include "heads.h"
#include "heard.h"
#include "hlc.h"
#include "log.h"
#include "mp.h"
#include "peerbase.h"
#include "record.h"
#include "record_json.h"
#include "schema.h"
#include "scopemap.h"
#include "trustset.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct waiting {
	struct store_txn *t;
	const uint8_t *pk;
	uint64_t since_ms, n;
	const struct scopemap *map;
	const struct cert *reader; /* NULL: every feed counts */
	uint64_t newest_ms;	   /* the newest entry of a feed counted */
	int own;		   /* count own entries dated after since_ms */
};

/* Entries of own feed f written here after since_ms: walk it back from
 * its head while entries are newer. */
static void count_back(struct waiting *w, const struct log_feed *f)
{
	for (uint64_t seq = f->seq; seq >= 1; seq--) {
		const uint8_t *env, *sig;
		uint8_t eb[ENTRY_MAX_ENVELOPE];
		size_t el;
		struct entry e;
		if (log_entry_get(w->t, f->key, seq, eb, &env, &el, &sig) < 0 ||
		    entry_decode(env, el, &e, NULL) < 0 ||
		    hlc_ms(e.hlc) <= w->since_ms)
			break;
		w->n++;
	}
}

/* Over every feed: the newest entry of the feeds reader may read, and,
 * when w->own, the entries written here after since_ms in them. */
static int count_waiting(void *ctx, const struct log_feed *f)
{
	struct waiting *w = ctx;
	if (w->reader && !scopemap_may_read(w->map, w->reader, f->scope))
		return 0;
	if (hlc_ms(f->hlc) > w->newest_ms)
		w->newest_ms = hlc_ms(f->hlc);
	if (w->own && memcmp(f->author, w->pk, 32) == 0)
		count_back(w, f);
	return 0;
}

/* Over the node's own feeds only (heads.h): what waits to go out. */
static int count_waiting_own(void *ctx, const uint8_t key[32])
{
	struct waiting *w = ctx;
	struct log_feed f;
	int r = log_feed_get(w->t, key, &f);
	if (r < 0)
		return r == HAMLET_ENOTFOUND ? 0 : r;
	count_back(w, &f);
	return 0;
}

uint64_t status_waiting_since(struct node *n, uint64_t since_ms)
{
	struct waiting w = { .pk = n->pk, .since_ms = since_ms, .own = 1 };
	if (store_txn_begin(n->st, 1, &w.t) < 0)
		return 0;
	/* this node's own feeds only (heads.h), not every feed */
	heads_author_feeds(w.t, n->pk, count_waiting_own, &w);
	store_txn_abort(w.t);
	return w.n;
}

/* --- what waits for a peer, from the basis kept with it ------------------
 * When this node last agreed with a peer (SPEC 5.6) it kept the basis:
 * its store's version and last local seq then (peerbase.h). The peer held
 * every entry shared with it that had arrived here by then; what arrived
 * after (written here, from another peer, from a USB stick, whatever its
 * date) it may lack. So the feeds moved since that version are read, and
 * of those the peer may read, the entries stored after that local seq are
 * counted, but for a feed the peer writes, or whose head came last from
 * that very peer (it holds the feed, heard.h). What the peer acknowledged
 * since is subtracted by the caller. The cost is that of the feeds moved
 * since, at most STATUS_MAX_MOVED of them. What a bundle from the peer
 * brought, of feeds others write, counts until the two agree again.
 */
#define STATUS_MAX_MOVED 65536

struct moved {
	struct store_txn *t;
	const uint8_t *pk, *peer;
	const struct scopemap *map;
	const struct cert *reader; /* NULL: every feed counts */
	uint64_t lseq, n;
	uint64_t arrival_ms; /* when the newest of those counted arrived */
	size_t looked;
	int own_only; /* this node's own feeds alone */
};

static int count_moved(void *ctx, const uint8_t key[32])
{
	struct moved *m = ctx;
	struct log_feed f;
	struct heard_feed h;
	uint64_t n, at;
	int r, heard;

	if (++m->looked > STATUS_MAX_MOVED)
		return 1; /* enough read: what is counted is the least */
	if ((r = log_feed_get(m->t, key, &f)) < 0)
		return r == HAMLET_ENOTFOUND ? 0 : r;
	if (m->own_only && memcmp(f.author, m->pk, 32) != 0)
		return 0;
	if ((m->reader && !scopemap_may_read(m->map, m->reader, f.scope)) ||
	    memcmp(f.author, m->peer, 32) == 0)
		return 0; /* not its to read, or its own: it holds them */
	/* this node's own writes note no delivery */
	heard = memcmp(f.author, m->pk, 32) != 0 &&
		heard_feed_get(m->t, key, &h) == 0;
	if (heard && h.via.kind == HEARD_PEER &&
	    memcmp(h.via.peer, m->peer, 32) == 0)
		return 0;
	/* a feed frozen by a fork: what lies past the fork goes nowhere */
	if (f.forked && f.fork_seq <= f.seq)
		f.seq = f.fork_seq ? f.fork_seq - 1 : 0;
	if ((r = entries_count_after(m->t, key, f.seq, m->lseq, &n)) < 0)
		return r;
	if (!n)
		return 0;
	m->n += n;
	at = heard ? h.when_ms : hlc_ms(f.hlc);
	if (at > m->arrival_ms)
		m->arrival_ms = at;
	return 0;
}

/* The basis kept with peer, when it names its local seq and the store
 * has not gone back before it (restored from a copy): 1, else 0. */
static int basis_get(struct store_txn *t, const uint8_t peer[32],
		     struct peerbase *ret)
{
	struct heads_totals tot;
	uint64_t last;
	if (peerbase_get(t, peer, ret) < 0 || !ret->lseq_known ||
	    heads_totals_get(t, &tot) < 0 || tot.version < ret->version ||
	    entries_last_lseq(t, &last) < 0 || last < ret->lseq)
		return 0;
	return 1;
}

/* A peer as this store sees it: its certificate's name and role, and,
 * of the feeds that certificate lets it read (every feed when none holds
 * here, or key is NULL), the newest entry and the entries that wait for
 * it: those arrived since the basis kept with it, less acked, the
 * entries it acknowledged since (based; or as the store keeps them,
 * heard.h, when that says more); with none kept, every entry
 * it may read but of the feeds it writes or that came last from it,
 * less acked; with key NULL, the entries written here since since_ms;
 * with own_only, of this node's own feeds alone, the most of those
 * written here since since_ms and those arrived since the basis less
 * acked. */
struct peer_view {
	int named;
	char name[CERT_MAX_NAME + 1];
	int role;
	int reads_own; /* it may read this node's scope */
	int revoked;   /* no certificate holds, and its key is revoked */
	uint64_t newest_ms, waiting;
	int based;
	uint64_t agreed_ms, arrival_ms; /* when based and waiting */
};

static int peer_view_read(struct node *n, const uint8_t key[32],
			  uint64_t since_ms, uint64_t acked, int own_only,
			  struct peer_view *ret)
{
	struct waiting w = { .pk = n->pk, .since_ms = since_ms, .map = n->smap };
	struct moved m = { .pk = n->pk, .peer = key, .map = n->smap };
	struct cert *c = malloc(sizeof(*c));
	struct peerbase b;
	size_t nc = 0;
	int r, based;

	memset(ret, 0, sizeof(*ret));
	if (!c)
		return -ENOMEM;
	if ((r = store_txn_begin(n->st, 1, &w.t)) < 0)
		goto out;
	if (key && (r = trustset_valid_leaves(w.t, key, hlc_wall_ms(), c, 1,
					      &nc)) < 0)
		goto out;
	if (r == 0 && nc == 1) {
		ret->named = 1;
		snprintf(ret->name, sizeof(ret->name), "%s", c->name);
		ret->role = c->role;
		w.reader = m.reader = c;
	} else if (key) {
		if ((r = trustset_revoked(w.t, key, NULL, NULL, 0)) < 0 &&
		    r != HAMLET_EREVOKED)
			goto out;
		ret->revoked = r == HAMLET_EREVOKED;
		r = 0;
	}
	ret->reads_own = !w.reader || scopemap_may_read(w.map, w.reader,
							  n->scope);
	based = key && basis_get(w.t, key, &b);
	ret->based = based && !own_only;
	/* with no basis kept (the two never agreed, or this store went
	 * back before it), nothing is known to be at the peer but what it
	 * writes and what came from it: every other entry it may read
	 * counts, less what it acknowledged, never the entries dated
	 * after the last sync (a sync cut short dates it after them all) */
	w.own = !key || own_only;
	if ((r = log_feeds_each(w.t, count_waiting, &w)) < 0)
		goto out;
	if (key) {
		uint64_t kv, ka, lacks;
		/* what it acknowledged since that basis as the store keeps
		 * it (heard.h): with hamletd stopped, or not yet read by it
		 * since it started, hamletd's figure is short of it */
		if (heard_acked_get(w.t, key, &kv, &ka) == 0 &&
		    kv == (based ? b.version : 0) && ka > acked)
			acked = ka;
		m.t = w.t;
		m.lseq = based ? b.lseq : 0;
		m.own_only = own_only;
		if ((r = heads_moved_since(w.t, based ? b.version : 0,
					   count_moved, &m)) < 0)
			goto out;
		lacks = m.n > acked ? m.n - acked : 0;
		/* own entries: a contact dated after them (an ACK of a
		 * byte budget's share) does not say the peer took them
		 * all; those arrived since the basis beyond every entry
		 * it acknowledged since, own or not, it lacks for sure
		 * (with no basis kept, every own entry less every ACK:
		 * too many rather than too few) */
		if (!own_only || lacks > w.n)
			w.n = lacks;
		if (ret->based) {
			ret->agreed_ms = b.used_ms;
			ret->arrival_ms = w.n ? m.arrival_ms : 0;
		}
	}
	ret->newest_ms = w.newest_ms;
	ret->waiting = w.n;
	r = 0;
out:
	store_txn_abort(w.t);
	free(c);
	return r;
}

int status_peer_behind(struct node *n, const uint8_t key[32],
		       uint64_t since_ms, uint64_t acked,
		       uint64_t *ret_newest_ms, uint64_t *ret_waiting)
{
	struct peer_view pv;
	int r = peer_view_read(n, key, since_ms, acked, 0, &pv);
	if (r < 0)
		return r;
	*ret_newest_ms = pv.newest_ms;
	*ret_waiting = pv.waiting;
	return 0;
}

int status_peer_reads_own(struct node *n, const msgpack_object *p)
{
	const msgpack_object *k = mp_map_get(p, "key");
	struct store_txn *t;
	struct cert *c;
	uint8_t key[32];
	size_t nc = 0;
	int r;

	if (!k || k->type != MSGPACK_OBJECT_STR ||
	    sodium_hex2bin(key, 32, k->via.str.ptr, k->via.str.size, NULL,
			   NULL, NULL) != 0)
		return 1;
	if (!(c = malloc(sizeof(*c))))
		return -ENOMEM;
	if ((r = store_txn_begin(n->st, 1, &t)) < 0)
		goto out;
	r = trustset_valid_leaves(t, key, hlc_wall_ms(), c, 1, &nc);
	store_txn_abort(t);
	if (r >= 0)
		r = nc != 1 || scopemap_may_read(n->smap, c, n->scope);
out:
	free(c);
	return r;
}

/* A boolean field k of map p is true. */
static int mp_true(const msgpack_object *p, const char *k)
{
	const msgpack_object *v = p ? mp_map_get(p, k) : NULL;
	return v && v->type == MSGPACK_OBJECT_BOOLEAN && v->via.boolean;
}

int status_peer_judge(struct node *n, const msgpack_object *p,
		      struct status_peer *ret)
{
	const msgpack_object *k = mp_map_get(p, "key");
	const msgpack_object *bg = mp_map_get(p, "budget");
	const msgpack_object *by = bg ? mp_map_get(bg, "held_by") : NULL;
	struct peer_view pv = { 0 };
	uint8_t key[32];
	int r = 0, haskey;

	memset(ret, 0, sizeof(*ret));
	ret->last_sync_ms = mp_map_u64(p, "last_sync_ms");
	ret->to_send = mp_map_u64(p, "entries_to_send");
	ret->unacked = mp_map_u64(p, "entries_unacked");
	ret->disk_wait = mp_map_u64(p, "entries_waiting_for_disk");
	ret->ahead = mp_map_u64(p, "entries_refused_ahead_out");
	if (bg && mp_true(bg, "held_back")) {
		/* held back: at least the one entry waiting */
		ret->held = mp_map_u64(bg, "entries_held");
		if (!ret->held)
			ret->held = 1;
		ret->held_session = by && by->type == MSGPACK_OBJECT_STR &&
				    by->via.str.size == 7 &&
				    memcmp(by->via.str.ptr, "session", 7) == 0;
		ret->too_big = mp_map_u64(bg, "entry_too_big");
	}
	haskey = k && k->type == MSGPACK_OBJECT_STR &&
		 sodium_hex2bin(key, 32, k->via.str.ptr, k->via.str.size, NULL,
				NULL, NULL) == 0;
	/* a key not told: every feed counts */
	if (n && (r = peer_view_read(n, haskey ? key : NULL,
				     ret->last_sync_ms,
				     mp_map_u64(p, "entries_acked_since_agreed"),
				     0, &pv)) < 0)
		memset(&pv, 0, sizeof(pv));
	ret->newest_ms = pv.newest_ms;
	/* what the session still has to send it, and what a budget holds
	 * back, wait to go out too */
	ret->waiting = pv.waiting;
	if (ret->held > ret->waiting)
		ret->waiting = ret->held;
	if (ret->to_send + ret->unacked > ret->waiting)
		ret->waiting = ret->to_send + ret->unacked;
	ret->based = pv.based;
	ret->agreed_ms = pv.agreed_ms;
	ret->arrival_ms = pv.arrival_ms;
	ret->named = pv.named;
	memcpy(ret->name, pv.name, sizeof(ret->name));
	ret->role = pv.role;
	ret->revoked = pv.revoked;
	if (pv.revoked && !mp_true(p, "connected")) {
		/* every node refuses it: what it lacks never goes */
		ret->state = STATUS_PEER_REVOKED;
		ret->waiting = 0;
		return r;
	}
	ret->state = !mp_true(p, "connected")	 ? STATUS_PEER_DOWN
		     : ret->disk_wait		 ? STATUS_PEER_DISK_FULL
		     : ret->ahead		 ? STATUS_PEER_AHEAD
		     : ret->held && ret->too_big ? STATUS_PEER_TOO_BIG
		     : ret->held		 ? STATUS_PEER_HELD
		     : mp_map_get(p, "progress") ? STATUS_PEER_RECEIVING
		     : ret->to_send || ret->unacked ? STATUS_PEER_SENDING
		     : !ret->last_sync_ms ||
				     ret->last_sync_ms < ret->newest_ms ||
				     pv.waiting
			     ? STATUS_PEER_BEHIND
			     : STATUS_PEER_IN_SYNC;
	/* in sync but for own entries it refuses for their dates: it
	 * refuses every later one of their feeds with them */
	if (ret->state == STATUS_PEER_IN_SYNC && n && pv.reads_own) {
		struct node_lapse nl;
		if (node_lapse_find(n, NULL, &nl) == 0 && nl.entries) {
			ret->lapsed = nl.entries;
			ret->state = STATUS_PEER_LAPSED;
		}
	}
	return r;
}

/* Does a peer certified for scope s (as status names it) take what is
 * written in scope own? */
static int takes(const msgpack_object *p, const char *own)
{
	const msgpack_object *s = mp_map_get(p, "scope");
	char sc[ENTRY_MAX_SCOPE + 1];
	if (!s || s->type != MSGPACK_OBJECT_STR ||
	    s->via.str.size >= sizeof(sc))
		return 0;
	memcpy(sc, s->via.str.ptr, s->via.str.size);
	sc[s->via.str.size] = 0;
	return strcmp(sc, own) == 0 || entry_scope_under(own, sc);
}

/* Is p's address or key one of those in res's "dials"? */
static int dialled(const msgpack_object *res, const msgpack_object *p)
{
	const msgpack_object *d = mp_map_get(res, "dials");
	for (uint32_t i = 0; d && d->type == MSGPACK_OBJECT_ARRAY &&
			     i < d->via.array.size;
	     i++)
		for (int k = 0; k < 2; k++) {
			const char *f = k ? "key" : "addr";
			const msgpack_object *a = mp_map_get(&d->via.array.ptr[i], f);
			const msgpack_object *b = mp_map_get(p, f);
			if (a && b && a->type == MSGPACK_OBJECT_STR &&
			    b->type == MSGPACK_OBJECT_STR &&
			    a->via.str.size == b->via.str.size &&
			    memcmp(a->via.str.ptr, b->via.str.ptr,
				   a->via.str.size) == 0)
				return 1;
		}
	return 0;
}

static int peer_up(const msgpack_object *p)
{
	const msgpack_object *c = mp_map_get(p, "connected");
	return c && c->type == MSGPACK_OBJECT_BOOLEAN && c->via.boolean;
}

int status_writes_stuck(struct node *n, const msgpack_object *res,
		     char *ret_who, size_t wl)
{
	const msgpack_object *peers = mp_map_get(res, "peers");
	uint32_t np = peers && peers->type == MSGPACK_OBJECT_ARRAY
			      ? peers->via.array.size
			      : 0;
	for (uint32_t i = 0; i < np; i++)
		if (peer_up(&peers->via.array.ptr[i]) &&
		    takes(&peers->via.array.ptr[i], n->scope))
			return 0;
	for (uint32_t i = 0; i < np; i++) {
		const msgpack_object *p = &peers->via.array.ptr[i];
		const msgpack_object *k = mp_map_get(p, "key");
		const msgpack_object *nm = mp_map_get(p, "name");
		const msgpack_object *a = mp_map_get(p, "addr");
		uint8_t key[32];
		struct peer_view pv;
		/* what this node writes: its own entries dated after the
		 * last sync, or arrived since the two last agreed beyond
		 * what it acknowledged since (a byte budget sends a share
		 * of them and the ACK dates the contact after them all),
		 * whatever else waits for the peer */
		if (peer_up(p) || !takes(p, n->scope) || !dialled(res, p) || !k ||
		    k->type != MSGPACK_OBJECT_STR ||
		    sodium_hex2bin(key, 32, k->via.str.ptr, k->via.str.size,
				   NULL, NULL, NULL) != 0 ||
		    peer_view_read(n, key, mp_map_u64(p, "last_sync_ms"),
				   mp_map_u64(p, "entries_acked_since_agreed"),
				   1, &pv) < 0 ||
		    !pv.waiting)
			continue;
		if (nm && nm->type == MSGPACK_OBJECT_STR &&
		    a && a->type == MSGPACK_OBJECT_STR)
			snprintf(ret_who, wl, "%.*s (%.*s)",
				 (int)nm->via.str.size, nm->via.str.ptr,
				 (int)a->via.str.size, a->via.str.ptr);
		else if (a && a->type == MSGPACK_OBJECT_STR)
			snprintf(ret_who, wl, "%.*s", (int)a->via.str.size,
				 a->via.str.ptr);
		else
			snprintf(ret_who, wl, "%.16s", k->via.str.ptr);
		return 1;
	}
	return 0;
}
