/*
 * The trust set's exchange (proto/SPEC.md "Trust exchange"): after HELLO
 * each side sends TRUST_HAVE, the digest of its set; a side whose set
 * differs lists its keys (TRUST_IDS), and the other sends the items the
 * list lacks (TRUST_ITEMS). Items go through the one writer like entries;
 * when the set grows, every session learns it (TRUST_HAVE again) and any
 * session with a key now revoked ends.
 */
#include "sync.h"
#include "sync_internal.h"

#include "conn.h"
#include "daemon.h"
#include "dlog.h"
#include "error.h"
#include "ingest.h"
#include "log.h"
#include "node.h"
#include "peer.h"
#include "status.h"
#include "trustset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Items sent in one TRUST_ITEMS: under WIRE_MAX_MSG with room to spare. */
#define ITEMS_BYTES ((size_t)768 << 10)

struct trust_job {
	struct ingest_job job;
	struct daemon *d;
	struct conn *c; /* the session whose TRUST_ITEMS they are, or NULL */
	char from[80]; /* who sent them, for the log */
	uint8_t *blob;
	struct trustset_item *items;
	struct trustset_out *out;
};

/* Whether to log the refusals of trust items from session c: always
 * for those of no session (NULL); for a session's, the first time, then
 * at most once in SYNC_AHEAD_SAY_MS (a peer that sends them again and
 * again fills no log). */
static int trust_say(struct daemon *d, struct conn *c)
{
	struct sync_session *s;
	uint64_t now;

	if (!c)
		return 1;
	s = &c->sy;
	now = uv_now(d->loop);
	if (s->trust_said_ms && now - s->trust_said_ms < SYNC_AHEAD_SAY_MS)
		return 0;
	s->trust_said_ms = now ? now : 1;
	return 1;
}

static void trust_done(struct ingest_job *j)
{
	struct trust_job *tj = j->data;
	size_t added = 0, refused = 0;
	int say = 1;

	if (tj->c) /* its share of the writer */
		tj->c->sy.trust_jobs--;
	if (j->r < 0) {
		if (j->r != -ECANCELED && trust_say(tj->d, tj->c))
			dlog(DLOG_WARNING, _("%s: trust items not stored: %s"),
			     tj->from, dlog_tr(j->why));
	} else {
		for (size_t i = 0; i < j->n; i++) {
			const struct trustset_out *o = &tj->out[i];
			if (o->status == TRUSTSET_ADDED)
				added++;
			else if (o->status == TRUSTSET_REFUSED &&
				 o->err == HAMLET_ESCOPE)
				continue; /* not ours (a fork proof of a feed
					   * we do not read): no fault */
			else if (o->status == TRUSTSET_REFUSED &&
				 ++refused == 1)
				say = trust_say(tj->d, tj->c);
			if (o->status == TRUSTSET_REFUSED && refused <= 3 &&
			    say)
				/* the first few name why */
				dlog(DLOG_WARNING, _("%s: %s refused: %s"),
				     tj->from,
				     dlog_tr(trust_kind_name(tj->items[i].kind)),
				     dlog_tr(o->why));
		}
		if (refused > 3 && say)
			dlog(DLOG_WARNING, _("%s: %zu trust items refused in all"),
			     tj->from, refused);
		if (added)
			dlog(DLOG_INFO,
			     P_("%s: %zu new trust item (certificates, revocations, fork proofs)",
				"%s: %zu new trust items (certificates, revocations, fork proofs)",
				added),
			     tj->from, added);
	}
	if (tj->c) {
		/* read again, if it waited for this */
		peer_conn_read_resume(tj->c);
		peer_conn_unref(tj->c);
	}
	free(tj->blob);
	free(tj->items);
	free(tj->out);
	free(tj);
}

/* sync_trust_submit(), for session c when not NULL (counted in its
 * share of the writer, SYNC_TRUST_JOBS). */
static int trust_submit(struct daemon *d, struct conn *c, const char *from,
			const struct trustset_item *items, size_t n)
{
	struct trust_job *tj;
	size_t total = 0, off = 0;
	int r;

	if (n == 0)
		return 0;
	/* its share taken: reading it stops then (peer_read.c), but the
	 * messages held while its chain was asked for are all handled at
	 * once when it comes (sync.c on_certs): those over it wait no more
	 * than when the writer is full */
	if (c && c->sy.trust_jobs >= SYNC_TRUST_JOBS)
		return -EBUSY;
	for (size_t i = 0; i < n; i++)
		total += items[i].len;
	if (!(tj = calloc(1, sizeof(*tj))) ||
	    !(tj->blob = malloc(total ? total : 1)) ||
	    !(tj->items = malloc(n * sizeof(*tj->items))) ||
	    !(tj->out = malloc(n * sizeof(*tj->out)))) {
		if (tj) {
			free(tj->blob);
			free(tj->items);
		}
		free(tj);
		return -ENOMEM;
	}
	snprintf(tj->from, sizeof(tj->from), "%s", from);
	tj->d = d;
	tj->c = c;
	for (size_t i = 0; i < n; i++) {
		memcpy(tj->blob + off, items[i].data, items[i].len);
		tj->items[i].kind = items[i].kind;
		tj->items[i].data = tj->blob + off;
		tj->items[i].len = items[i].len;
		off += items[i].len;
	}
	tj->job.kind = INGEST_TRUST;
	tj->job.items = tj->items;
	tj->job.tout = tj->out;
	tj->job.n = n;
	tj->job.data = tj;
	if (c) { /* before: the callback may run at once */
		peer_conn_ref(c);
		c->sy.trust_jobs++;
	}
	if ((r = ingest_submit(d->ingest, &tj->job, trust_done)) < 0) {
		if (c) {
			c->sy.trust_jobs--;
			peer_conn_unref(c);
		}
		free(tj->blob);
		free(tj->items);
		free(tj->out);
		free(tj);
		return r;
	}
	if (c && c->sy.trust_jobs >= SYNC_TRUST_JOBS)
		c->sy.trust_paused = 1; /* peer_read.c stops reading it */
	return r;
}

int sync_trust_submit(struct daemon *d, const char *from,
		      const struct trustset_item *items, size_t n)
{
	return trust_submit(d, NULL, from, items, n);
}

int sync__trust_chain(struct conn *c, const uint8_t *buf, size_t len,
		      const struct cert_chain *ch)
{
	struct trustset_item it[CERT_MAX_CHAIN];
	char from[80];

	(void)len;
	for (size_t i = 0; i < ch->n; i++) {
		it[i].kind = TRUST_CERT;
		it[i].data = buf + ch->off[i];
		it[i].len = ch->len[i];
	}
	snprintf(from, sizeof(from), _("peer %s"), c->name);
	return sync_trust_submit(c->d, from, it, ch->n);
}

/* --- the exchange ------------------------------------------------------------ */

int sync__trust_have_send(struct conn *c)
{
	struct store_txn *t;
	struct mp_writer w;
	uint8_t digest[32];
	uint64_t n;
	int r;

	if ((r = store_txn_begin(c->d->node->st, 1, &t)) < 0)
		return r;
	r = trustset_digest_shared(t, c->d->node->smap, c->own, c->cert,
				   digest, &n);
	store_txn_abort(t);
	if (r < 0)
		return r;
	mp_writer_init(&w);
	if ((r = wire_put_trust_have(&w, digest, n)) == 0)
		r = sync__send_writer(c, &w);
	mp_writer_destroy(&w);
	return r;
}

int sync__on_trust_have(struct conn *c, const struct wire_msg *m, char *why,
			size_t wl)
{
	uint8_t (*keys)[TRUSTSET_KEY] = NULL, digest[32];
	uint8_t from[TRUSTSET_KEY];
	struct store_txn *t;
	struct mp_writer w;
	uint64_t n;
	int r, has_from = 0;

	(void)why;
	(void)wl;
	/* what it said last, with our set as it was: our answer is the
	 * same, and was sent */
	if (c->sy.trust_have_seen && c->sy.trust_have_gen == c->d->trust_gen &&
	    c->sy.trust_have_count == m->trust_have.count &&
	    memcmp(c->sy.trust_have_digest, m->trust_have.digest, 32) == 0)
		return 0;
	c->sy.trust_have_seen = 1;
	c->sy.trust_have_gen = c->d->trust_gen;
	c->sy.trust_have_count = m->trust_have.count;
	memcpy(c->sy.trust_have_digest, m->trust_have.digest, 32);
	if ((r = store_txn_begin(c->d->node->st, 1, &t)) < 0)
		return r;
	/* the members both keep: a fork proof of a feed one of us may not
	 * read is in neither's digest (SPEC §9) */
	if ((r = trustset_digest_shared(t, c->d->node->smap, c->own, c->cert,
					digest, &n)) < 0 ||
	    (n == m->trust_have.count &&
	     memcmp(digest, m->trust_have.digest, 32) == 0))
		goto out; /* the same set */
	if (!(keys = malloc((WIRE_MAX_TRUST_KEYS + 1) * sizeof(*keys)))) {
		r = -ENOMEM;
		goto out;
	}
	mp_writer_init(&w);
	/* pages of keys, each naming the range it covers */
	for (int page = 0; page <= TRUSTSET_MAX / WIRE_MAX_TRUST_KEYS; page++) {
		size_t got;
		int more;
		if ((r = trustset_keys(t, has_from ? from : NULL,
				       WIRE_MAX_TRUST_KEYS + 1, keys, &got,
				       &more)) < 0)
			break;
		int last = got <= WIRE_MAX_TRUST_KEYS;
		size_t k = last ? got : WIRE_MAX_TRUST_KEYS;
		if ((r = wire_put_trust_ids(&w, has_from ? from : NULL,
					    last ? NULL : keys[k],
					    (const uint8_t(*)[TRUSTSET_KEY])keys,
					    k)) < 0 ||
		    (r = sync__send_writer(c, &w)) < 0 || last)
			break;
		memcpy(from, keys[k], TRUSTSET_KEY);
		has_from = 1;
	}
	mp_writer_destroy(&w);
out:
	store_txn_abort(t);
	free(keys);
	return r;
}

/* Keys of ours read at a time (on the loop's stack): a TRUST_IDS costs
 * what its range holds, not a buffer for the whole set. */
#define IDS_CHUNK 256

/* Send what we hold in the peer's range that its list lacks. */
int sync__on_trust_ids(struct conn *c, const struct wire_msg *m, char *why,
		       size_t wl)
{
	uint8_t mine[IDS_CHUNK][TRUSTSET_KEY], last[TRUSTSET_KEY];
	const uint8_t *from = m->trust_ids.has_from ? m->trust_ids.from : NULL;
	const uint8_t *to = m->trust_ids.has_to ? m->trust_ids.to : NULL;
	struct store_txn *t;
	struct mp_writer w;
	int kinds[WIRE_MAX_TRUST_ITEMS];
	const uint8_t *data[WIRE_MAX_TRUST_ITEMS];
	size_t lens[WIRE_MAX_TRUST_ITEMS], n = 0, bytes = 0, got, pi = 0;
	int r, more = 1, resumed = 0, past = 0;

	(void)why;
	(void)wl;
	if ((r = store_txn_begin(c->d->node->st, 1, &t)) < 0)
		return r;
	mp_writer_init(&w);
	/* ours within its range only: one that names a narrow range makes
	 * us read no more than that */
	while (r >= 0 && more && !past) {
		r = trustset_keys_range(t, from, to, IDS_CHUNK, mine, &got,
					&more);
		for (size_t i = 0; r >= 0 && i < got; i++) {
			const uint8_t *item;
			size_t il;
			int c_;
			/* a chunk starts at the key the last one ended on */
			if (resumed && i == 0 &&
			    memcmp(mine[0], last, TRUSTSET_KEY) == 0)
				continue;
			if (to && memcmp(mine[i], to, TRUSTSET_KEY) >= 0) {
				past = 1;
				break;
			}
			/* both lists ascend: walk the peer's beside ours */
			while (pi < m->trust_ids.n &&
			       (c_ = memcmp(wire_trust_key(m, pi), mine[i],
					    TRUSTSET_KEY)) < 0)
				pi++;
			if (pi < m->trust_ids.n &&
			    memcmp(wire_trust_key(m, pi), mine[i],
				   TRUSTSET_KEY) == 0)
				continue; /* it has it */
			if ((r = trustset_get(t, mine[i], &item, &il)) < 0)
				break;
			/* a fork proof names records of its feed: not to a
			 * peer that may not read them */
			if (trustset_proof_unread(c->d->node->smap, c->cert,
						  mine[i][0], item, il))
				continue;
			if (n == WIRE_MAX_TRUST_ITEMS ||
			    bytes + il > ITEMS_BYTES) {
				if ((r = wire_put_trust_items(&w, kinds, data,
							      lens, n)) < 0 ||
				    (r = sync__send_writer(c, &w)) < 0)
					break;
				n = 0;
				bytes = 0;
			}
			kinds[n] = mine[i][0];
			data[n] = item;
			lens[n++] = il;
			bytes += il;
		}
		if (got == 0)
			break;
		memcpy(last, mine[got - 1], TRUSTSET_KEY);
		from = last;
		resumed = 1;
	}
	if (r >= 0 && n && (r = wire_put_trust_items(&w, kinds, data, lens, n)) == 0)
		r = sync__send_writer(c, &w);
	mp_writer_destroy(&w);
	store_txn_abort(t);
	return r;
}

int sync__on_trust_items(struct conn *c, const struct wire_msg *m, char *why,
			 size_t wl)
{
	struct trustset_item it[WIRE_MAX_TRUST_ITEMS];
	char from[80];
	int r;

	(void)why;
	(void)wl;
	for (size_t i = 0; i < m->trust_items.n; i++) {
		it[i].kind = m->trust_items.v[i].kind;
		it[i].data = m->trust_items.v[i].data;
		it[i].len = m->trust_items.v[i].len;
	}
	snprintf(from, sizeof(from), _("peer %s"), c->name);
	r = trust_submit(c->d, c, from, it, m->trust_items.n);
	if (r == -EBUSY) {
		/* the writer is full, or its share of it: they come again
		 * with the next digest */
		if (trust_say(c->d, c))
			dlog(DLOG_WARNING, _("peer %s: the writer is busy; %zu trust items dropped for now"),
			     c->name, m->trust_items.n);
		return 0;
	}
	if (r == -ECANCELED)
		return 0; /* the daemon is stopping: not the peer's doing */
	return r;
}

void sync_own_forks_say(struct daemon *d)
{
	struct status_own_fork v[STATUS_MAX_OWN_FORKS];
	struct store_txn *t;
	size_t n = 0;
	int r;

	if (store_txn_begin(d->node->st, 1, &t) < 0)
		return;
	r = status_own_forks(t, d->node->pk, v, STATUS_MAX_OWN_FORKS, &n);
	store_txn_abort(t);
	if (r < 0 || n <= d->own_forks_said)
		return;
	d->own_forks_said = n;
	for (size_t i = 0; i < n && i < STATUS_MAX_OWN_FORKS; i++)
		dlog(DLOG_ERR,
		     _("this node's key signed two different entries at seq %llu of its feed %s: either another PC uses this key (stop that PC), or this PC's store was put back from a backup and written in before it had synced. Either way, call the administrator: the node needs a new key and certificate; this node writes nothing more in that feed (hamlet forks shows both entries)"),
		     (unsigned long long)v[i].seq, v[i].scope);
	if (n > STATUS_MAX_OWN_FORKS)
		dlog(DLOG_ERR,
		     P_("and %zu more feed of this node's (hamlet forks lists it)",
			"and %zu more feeds of this node's (hamlet forks lists them)",
			n - STATUS_MAX_OWN_FORKS),
		     n - STATUS_MAX_OWN_FORKS);
}

/* The set grew: sessions with a key now revoked end; the others hear. */
void sync_trust_changed(void *ctx)
{
	struct daemon *d = ctx;
	struct store_txn *t;
	char why[200], msg[300];

	if (d->stopping)
		return;
	d->trust_gen++; /* a TRUST_HAVE repeated is answered again */
	sync_own_forks_say(d); /* a proof of this node's own feed among them? */
	if (store_txn_begin(d->node->st, 1, &t) < 0)
		return;
	for (struct conn *c = d->conns; c; c = c->next) {
		if (c->closing || c->state != CONN_READY)
			continue;
		if (trustset_revoked(t, c->rpk, c->chain, why, sizeof(why)) ==
		    HAMLET_EREVOKED) {
			snprintf(msg, sizeof(msg), N_("no valid certificate: %s"),
				 why);
			dlog(DLOG_WARNING, _("peer %s: %s; session closed"), c->name,
			     dlog_tr(msg));
			peer_conn_close(c, msg);
			continue;
		}
		sync__trust_have_send(c);
		/* what is shared may have changed with it: a new STATE,
		 * under the new sharing context, when next idle */
		c->sy.state_mine_ok = 0;
	}
	store_txn_abort(t);
}

/* --- the peer's certificate chain, at HELLO ----------------------------- */

/* Lower *end to the first expiry of chain ch (0: none yet). */
void sync__chain_end(const struct cert_chain *ch, uint64_t *end)
{
	for (size_t i = 0; i < ch->n; i++)
		if (ch->c[i].expires_ms &&
		    (!*end || ch->c[i].expires_ms < *end))
			*end = ch->c[i].expires_ms;
}

/* Is the peer's key, or an issuer in its chain, revoked in our set? */
static int chain_revoked(struct conn *c, const struct cert_chain *ch,
			 char *why, size_t wl)
{
	struct store_txn *t;
	int r;
	if ((r = store_txn_begin(c->d->node->st, 1, &t)) < 0)
		return r;
	r = trustset_revoked(t, c->rpk, ch, why, wl);
	store_txn_abort(t);
	return r;
}

/* The chain to judge the peer's ch by: with an issuer's certificate our
 * set holds a renewal of, when that holds now or ends later
 * (trustset_chain_best()); ch itself otherwise. 1 when *ret is not ch. */
static int chain_best(struct conn *c, const struct cert_chain *ch,
		      struct cert_chain *ret)
{
	struct store_txn *t;
	int r;
	if ((r = store_txn_begin(c->d->node->st, 1, &t)) < 0)
		return r;
	r = trustset_chain_best(t, ch, peer_wall_ms(), ret);
	store_txn_abort(t);
	return r;
}

/*
 * The peer's certificate chain certs (a chain file, len bytes) holds for
 * its key in our network now and is not revoked in our trust set; when
 * join, its certificates are queued for our set too.
 */
int sync__hello_chain(struct conn *c, const uint8_t *certs, size_t len,
		      int join, char *why, size_t wl)
{
	const struct node *n = c->d->node;
	/* ch: the chain as shown; jd: as judged, through the renewals of
	 * its issuers' certificates our set holds (SPEC 6) */
	struct cert_chain *ch, *jd = NULL;
	char cwhy[256];
	int r;

	if (len == 0) {
		snprintf(why, wl, N_("no valid certificate: it showed none"));
		return HAMLET_ECERT;
	}
	if (!(ch = malloc(sizeof(*ch))) || !(jd = malloc(sizeof(*jd)))) {
		free(ch);
		return -ENOMEM;
	}
	if ((r = cert_chain_decode(certs, len, ch)) < 0) {
		snprintf(why, wl, N_("no valid certificate: its chain does not decode (%s)"),
			 hamlet_strerror(r));
		r = HAMLET_ECERT;
	} else if (memcmp(ch->c[0].subject, c->rpk, 32) != 0) {
		snprintf(why, wl,
			 N_("no valid certificate: it showed one for another key"));
		r = HAMLET_ECERT;
	} else if ((r = chain_best(c, ch, jd)) < 0) {
		snprintf(why, wl, N_("cannot read the store: %s"),
			 hamlet_strerror(r));
	} else if ((r = cert_chain_check(jd, n->net.id, n->net.root_pk,
					 peer_wall_ms(), cwhy,
					 sizeof(cwhy))) < 0) {
		snprintf(why, wl, N_("no valid certificate: %s"), cwhy);
	} else if ((r = chain_revoked(c, jd, cwhy, sizeof(cwhy))) < 0) {
		snprintf(why, wl, N_("no valid certificate: %s"), cwhy);
		if (r != HAMLET_EREVOKED)
			snprintf(why, wl, N_("cannot read the store: %s"),
				 hamlet_strerror(r));
		else
			r = HAMLET_ECERT;
	} else if (!(c->cert = malloc(sizeof(*c->cert)))) {
		r = -ENOMEM;
	} else {
		*c->cert = jd->c[0];
		sync__chain_end(jd, &c->cert_end_ms);
		/* named by who it is before its certificates are queued:
		 * their lines come after "connected", and name it so */
		sync__conn_name_by_cert(c);
		/* its chain joins our trust set: what it signs is judged
		 * by it, here and wherever we relay it */
		if (join && sync__trust_chain(c, certs, len, ch) < 0)
			dlog(DLOG_WARNING, _("peer %s: its certificates could not be queued for the store"),
			     c->name);
		c->chain = jd;
		jd = NULL;
	}
	free(jd);
	free(ch);
	return r;
}
