/*
 * status: what `hamlet status --json` says of a node, built in one place
 * for the CLI and for hamletd's HTTP API (GET /v1/status), so both say
 * the same.
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

struct own {
	struct store_txn *t;
	uint64_t n;
};

static int sum_own(void *ctx, const uint8_t key[32])
{
	struct own *o = ctx;
	struct log_feed f;
	int r = log_feed_get(o->t, key, &f);
	if (r == 0)
		o->n += f.seq;
	return r == HAMLET_ENOTFOUND ? 0 : r;
}

/* The totals kept with the heads (heads.h) and the node's own feeds:
 * no walk over every feed. */
static int totals_read(struct store_txn *t, struct status_totals *tot)
{
	struct heads_totals ht;
	struct own o = { t, 0 };
	int r;

	if ((r = heads_totals_get(t, &ht)) == HAMLET_ENOTFOUND)
		memset(&ht, 0, sizeof(ht)); /* nothing stored yet */
	else if (r < 0)
		return r;
	if ((r = heads_author_feeds(t, tot->pk, sum_own, &o)) < 0)
		return r;
	tot->feeds = ht.feeds;
	tot->entries = ht.entries;
	tot->newest_ms = hlc_ms(ht.newest_hlc);
	tot->own = o.n;
	return 0;
}

/* A boolean field k of map p is true. */
static int mp_true(const msgpack_object *p, const char *k)
{
	const msgpack_object *v = p ? mp_map_get(p, k) : NULL;
	return v && v->type == MSGPACK_OBJECT_BOOLEAN && v->via.boolean;
}

/*
 * How far a peer trails this node: the seconds from its last agreement to
 * the newest entry here it may read. A peer that agreed after that entry (its clock ahead
 * of ours included) trails by nothing, whether connected or not; one that
 * never synced has no lag to tell, which JSON says as null. Entries that
 * arrived here after the basis kept with it and wait for it (a USB
 * stick's, dated before that agreement) count from their arrival.
 */
static json_t *lag_json(const struct status_peer *sp)
{
	uint64_t lag = 0;
	if (!sp->last_sync_ms)
		return json_null();
	if (sp->newest_ms > sp->last_sync_ms)
		lag = sp->newest_ms - sp->last_sync_ms;
	if (sp->arrival_ms > sp->agreed_ms &&
	    sp->arrival_ms - sp->agreed_ms > lag)
		lag = sp->arrival_ms - sp->agreed_ms;
	return json_integer((json_int_t)(lag / 1000));
}

struct classify {
	struct store_txn *t;
	struct status_facts *st;
	uint64_t looked;
};

/* Tell a record with an open problem apart: conflicting values, a
 * duplicate key, or both; past STATUS_MAX_CLASSIFY records only count. */
static int classify_one(void *ctx, const char *coll, const char *id)
{
	struct classify *c = ctx;
	struct status_facts *st = c->st;
	struct status_problem *p = NULL;
	struct record_view v;
	int r, dup;

	st->conflicts++;
	if (c->looked >= STATUS_MAX_CLASSIFY) {
		st->unclassified++;
		return 0;
	}
	c->looked++;
	for (size_t i = 0; i < st->nprob && !p; i++)
		if (strcmp(st->prob[i].coll, coll) == 0)
			p = &st->prob[i];
	if (!p) { /* a collection no schema names: counted, not told apart */
		st->unclassified++;
		return 0;
	}
	if ((r = record_view_load(c->t, coll, id, &v)) < 0)
		return r == HAMLET_ENOTFOUND ? 0 : r;
	if (v.conflicts && v.conflicts->type == MSGPACK_OBJECT_ARRAY &&
	    v.conflicts->via.array.size) {
		char field[SCHEMA_MAX_MAP_KEY + 1];
		p->conflicts++;
		if (record_view_two_people(schema_find(coll), &v, field,
					   sizeof(field))) {
			p->two_people++;
			if (record_view_conflict(&v, ""))
				p->two_people_one_deleted++;
		}
	}
	dup = record_has_duplicate(c->t, coll, &v, id);
	record_view_close(&v);
	if (dup < 0)
		return dup;
	if (dup > 0) {
		p->duplicates++;
		st->duplicates++;
	}
	return 0;
}

struct own_forks {
	struct status_own_fork *v;
	size_t max, n;
};

static int own_fork_one(void *ctx, int kind, const uint8_t id[32],
			const uint8_t *data, size_t len)
{
	struct own_forks *o = ctx;
	struct fork_proof *fp = malloc(sizeof(*fp));
	size_t i;

	(void)kind;
	(void)id;
	if (!fp)
		return -ENOMEM;
	if (fork_proof_decode(data, len, fp, NULL) < 0) {
		free(fp);
		return 0; /* damage: verify's business, not status's */
	}
	for (i = 0; i < o->n && i < o->max; i++)
		if (strcmp(o->v[i].scope, fp->a.scope) == 0)
			break;
	if (i < o->n && i < o->max) { /* a second proof of one feed */
		if (fp->at < o->v[i].seq)
			o->v[i].seq = fp->at;
	} else {
		if (o->n < o->max) {
			snprintf(o->v[o->n].scope, sizeof(o->v[o->n].scope),
				 "%s", fp->a.scope);
			o->v[o->n].seq = fp->at;
		}
		o->n++;
	}
	free(fp);
	return 0;
}

int status_own_forks(struct store_txn *t, const uint8_t pk[32],
		     struct status_own_fork *v, size_t max, size_t *ret_n)
{
	struct own_forks o = { v, max, 0 };
	int r = trustset_each_subject(t, pk, TRUST_FORK, own_fork_one, &o);

	if (r < 0)
		return r;
	*ret_n = o.n;
	return 0;
}

/* Other nodes' forked feeds, each once, by feed key. */
struct other_forks {
	const uint8_t *own;
	uint8_t (*keys)[32];
	size_t n;
};

static int other_fork_one(void *ctx, int kind, const uint8_t id[32],
			  const uint8_t *data, size_t len)
{
	struct other_forks *o = ctx;
	struct fork_proof *fp;
	uint8_t key[32];
	size_t i;

	(void)kind;
	(void)id;
	if (o->n >= STATUS_MAX_OTHER_FORKS || !(fp = malloc(sizeof(*fp))))
		return o->n >= STATUS_MAX_OTHER_FORKS ? 0 : -ENOMEM;
	if (fork_proof_decode(data, len, fp, NULL) < 0 ||
	    memcmp(fp->a.author, o->own, 32) == 0) {
		free(fp); /* damage is verify's; this node's own, above */
		return 0;
	}
	log_feed_key(fp->a.author, fp->a.scope, key);
	free(fp);
	for (i = 0; i < o->n && memcmp(o->keys[i], key, 32) != 0; i++)
		;
	if (i == o->n)
		memcpy(o->keys[o->n++], key, 32);
	return 0;
}

static int other_forks_count(struct store_txn *t, const uint8_t own[32],
			     size_t *ret_n)
{
	struct other_forks o = { own, NULL, 0 };
	int r;

	if (!(o.keys = malloc(STATUS_MAX_OTHER_FORKS * sizeof(*o.keys))))
		return -ENOMEM;
	r = trustset_each(t, TRUST_FORK, other_fork_one, &o);
	free(o.keys);
	*ret_n = o.n;
	return r < 0 ? r : 0;
}

int status_store_read(struct status_facts *st)
{
	struct classify cl = { 0 };
	const struct schema *const *all;
	size_t nall;

	struct store_txn *t = NULL;
	int r;

	if ((r = store_txn_begin(st->n->st, 1, &t)) < 0)
		return r;
	st->tot.pk = st->n->pk;
	all = schema_all(&nall);
	st->nprob = 0;
	for (size_t i = 0; i < nall && i < STATUS_MAX_COLLS; i++)
		st->prob[st->nprob++] =
			(struct status_problem){ .coll = all[i]->name };
	cl.t = t;
	cl.st = st;
	if ((r = totals_read(t, &st->tot)) >= 0 &&
	    (r = record_conflicted_each(t, classify_one, &cl)) >= 0 &&
	    (r = status_own_forks(t, st->n->pk, st->own_forks,
				  STATUS_MAX_OWN_FORKS, &st->nown_forks)) >= 0 &&
	    (r = other_forks_count(t, st->n->pk, &st->nother_forks)) >= 0)
		r = log_held_count(t, &st->held);
	store_txn_abort(t);
	if (r >= 0)
		r = node_feeds_behind(st->n, st->restoring,
				      STATUS_MAX_RESTORING, &st->nrestoring);
	if (r >= 0)
		r = node_feeds_gone(st->n, st->gone, STATUS_MAX_RESTORING,
				    &st->ngone);
	if (r >= 0)
		r = node_feeds_unrecorded(st->n, st->unrecorded,
					  STATUS_MAX_RESTORING,
					  &st->nunrecorded);
	st->feeds_problem = node_feeds_problem(st->n, st->feeds_why,
					       sizeof(st->feeds_why));
	if (r >= 0)
		r = node_lapse_find(st->n, NULL, &st->lapse);
	return r < 0 ? r : 0;
}

void status_cert_read(struct node *n, struct status_cert *cf)
{
	uint64_t now = hlc_wall_ms();

	cf->r = node_cert_load(n, now, &cf->ch, NULL, NULL, cf->why,
			       sizeof(cf->why));
	cf->end_ms = 0;
	cf->end_soon = 0;
	cf->end_at = cf->ch.n;
	if (cf->r < 0)
		return;
	cf->end_at = cert_chain_first_end(&cf->ch);
	if (cf->end_at < cf->ch.n) {
		cf->end_ms = cf->ch.c[cf->end_at].expires_ms;
		cf->end_soon = cf->end_ms - now <= STATUS_CERT_WARN_MS;
	}
}

static json_t *cert_json(const struct status_cert *cf)
{
	json_t *j = json_object();
	const struct cert *c = &cf->ch.c[0];

	json_object_set_new(j, "valid", json_boolean(cf->r == 0));
	json_object_set_new(j, "revoked",
			    json_boolean(cf->r == HAMLET_EREVOKED));
	if (cf->r < 0) {
		json_object_set_new(j, "why", json_string(cf->why));
		return j;
	}
	json_object_set_new(j, "name", json_string(c->name));
	json_object_set_new(j, "role", json_string(cert_role_name(c->role)));
	/* the chain's effective end: the certificate that ends first,
	 * whichever place it has (1: this node's own) */
	json_object_set_new(j, "expires_ms",
			    json_integer((json_int_t)cf->end_ms));
	if (cf->end_at < cf->ch.n) {
		json_object_set_new(j, "expires_cert",
				    json_integer((json_int_t)cf->end_at + 1));
		json_object_set_new(j, "expires_cert_name",
				    json_string(cf->ch.c[cf->end_at].name));
	}
	json_object_set_new(j, "expires_soon", json_boolean(cf->end_soon));
	return j;
}

/* {"health_profile": {"conflicts": N, "duplicates": M, "two_people": K,
 * "two_people_one_deleted": L}, ...} */
static json_t *problems_json(const struct status_facts *st)
{
	json_t *j = json_object();
	for (size_t i = 0; i < st->nprob; i++) {
		const struct status_problem *p = &st->prob[i];
		json_object_set_new(
			j, p->coll,
			json_pack("{s:I, s:I, s:I, s:I}", "conflicts",
				  (json_int_t)p->conflicts, "duplicates",
				  (json_int_t)p->duplicates, "two_people",
				  (json_int_t)p->two_people,
				  "two_people_one_deleted",
				  (json_int_t)p->two_people_one_deleted));
	}
	return j;
}

/* --- what this node writes, stuck ----------------------------------------
 * A peer this node dials that takes its writes (its scope holds this
 * node's) is not connected, entries wait for it, and no connected peer
 * takes them either. Status warns of it (text, --json "writes_wait_for",
 * the page) and `hamlet sync --wait` fails on it, naming the peer; a
 * province, whose every peer lies below it, is never stuck so.
 */


/* The first STATUS_MAX_RESTORING of n own feeds in v, as JSON:
 * [{"scope", "signed", "stored"}]. */
static json_t *lags_json(const struct node_feed_lag *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n && i < STATUS_MAX_RESTORING; i++)
		json_array_append_new(
			a, json_pack("{s:s, s:I, s:I}", "scope", v[i].scope,
				     "signed", (json_int_t)v[i].signed_seq,
				     "stored", (json_int_t)v[i].stored));
	return a;
}

json_t *status_json(const struct status_facts *st)
{
	const struct status_totals *tot = &st->tot;
	struct node *n = st->n;
	json_t *j = json_object();
	char pkhex[65];

	sodium_bin2hex(pkhex, sizeof(pkhex), n->pk, 32);
	json_object_set_new(j, "node", json_string(n->name));
	json_object_set_new(j, "node_key", json_string(pkhex));
	{
		/* the effective scope; as configured when a move applies */
		char eff[ENTRY_MAX_SCOPE + 1];
		if (scopemap_resolve(n->smap, n->scope, eff))
			json_object_set_new(j, "scope_configured",
					    json_string(n->scope));
		json_object_set_new(j, "scope", json_string(eff));
	}
	json_object_set_new(j, "network", json_string(n->net.name));
	json_object_set_new(j, "daemon", json_boolean(st->running));
	{
		struct status_cert cf;
		status_cert_read(n, &cf);
		json_object_set_new(j, "certificate", cert_json(&cf));
	}
	json_object_set_new(j, "feeds", json_integer((json_int_t)tot->feeds));
	json_object_set_new(j, "entries",
			    json_integer((json_int_t)tot->entries));
	json_object_set_new(j, "own_entries",
			    json_integer((json_int_t)tot->own));
	json_object_set_new(j, "held", json_integer((json_int_t)st->held));
	json_object_set_new(j, "conflicts",
			    json_integer((json_int_t)st->conflicts));
	json_object_set_new(j, "duplicates",
			    json_integer((json_int_t)st->duplicates));
	json_object_set_new(j, "problems", problems_json(st));
	{
		/* own writes wait for these to come back from the peers */
		json_t *a;
		json_object_set_new(j, "restoring",
				    lags_json(st->restoring, st->nrestoring));
		if (st->nrestoring > STATUS_MAX_RESTORING)
			json_object_set_new(
				j, "restoring_more",
				json_integer((json_int_t)(st->nrestoring -
							  STATUS_MAX_RESTORING)));
		/* behind too, but out of the node's reach: never back */
		json_object_set_new(j, "own_feeds_out_of_reach",
				    lags_json(st->gone, st->ngone));
		/* own-feeds records less than the node signed (a full
		 * disk): its guard against signing a seq twice is behind */
		a = json_array();
		for (size_t i = 0;
		     i < st->nunrecorded && i < STATUS_MAX_RESTORING; i++)
			json_array_append_new(
				a, json_pack("{s:s, s:I, s:I, s:I}", "scope",
					     st->unrecorded[i].scope,
					     "recorded",
					     (json_int_t)st->unrecorded[i].recorded,
					     "signed",
					     (json_int_t)st->unrecorded[i].signed_seq,
					     "stored",
					     (json_int_t)st->unrecorded[i].stored));
		json_object_set_new(j, "own_feeds_unrecorded", a);
		if (st->nunrecorded > STATUS_MAX_RESTORING)
			json_object_set_new(
				j, "own_feeds_unrecorded_more",
				json_integer((json_int_t)(st->nunrecorded -
							  STATUS_MAX_RESTORING)));
		json_object_set_new(j, "own_feeds_problem",
				    st->feeds_problem
					    ? json_string(st->feeds_why)
					    : json_null());
	}
	if (st->lapse.entries) {
		/* the day a renewal must start from (cert issue --from) */
		char day[16];
		time_t d = (time_t)(st->lapse.first_ms / 1000);
		struct tm tm;
		gmtime_r(&d, &tm);
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
		json_object_set_new(
			j, "lapsed",
			json_pack("{s:I, s:I, s:I, s:s}", "entries",
				  (json_int_t)st->lapse.entries, "first_ms",
				  (json_int_t)st->lapse.first_ms, "last_ms",
				  (json_int_t)st->lapse.last_ms, "from", day));
	} else {
		json_object_set_new(j, "lapsed", json_null());
	}
	{
		/* this node's key signed two entries at one seq: a copy */
		json_t *a = json_array();
		for (size_t i = 0;
		     i < st->nown_forks && i < STATUS_MAX_OWN_FORKS; i++)
			json_array_append_new(
				a, json_pack("{s:s, s:I}", "scope",
					     st->own_forks[i].scope, "seq",
					     (json_int_t)st->own_forks[i].seq));
		json_object_set_new(j, "own_forks", a);
		json_object_set_new(j, "other_forks",
				    json_integer((json_int_t)st->nother_forks));
		if (st->nown_forks > STATUS_MAX_OWN_FORKS)
			json_object_set_new(
				j, "own_forks_more",
				json_integer((json_int_t)(st->nown_forks -
							  STATUS_MAX_OWN_FORKS)));
	}
	if (st->unclassified)
		json_object_set_new(j, "problems_unclassified",
				    json_integer((json_int_t)st->unclassified));
	if (st->running) {
		json_object_set_new(j, "digest",
				    record_json_mp(mp_map_get(st->res, "digest")));
		if (mp_map_get(st->res, "unreached"))
			json_object_set_new(
				j, "unreached",
				record_json_mp(mp_map_get(st->res, "unreached")));
		{
			const msgpack_object *u =
				mp_map_get(st->res, "own_scope_unread");
			json_object_set_new(
				j, "own_scope_unread",
				json_boolean(u && u->type == MSGPACK_OBJECT_BOOLEAN &&
					     u->via.boolean));
		}
		{
			char who[CERT_MAX_NAME + 80];
			json_object_set_new(
				j, "writes_wait_for",
				status_writes_stuck(st->n, st->res, who,
						    sizeof(who))
					? json_string(who)
					: json_null());
		}
		json_t *jp = record_json_mp(st->peers);
		size_t k;
		json_t *pe;
		json_array_foreach(jp, k, pe)
		{
			struct status_peer sp;
			if (mp_true(&st->peers->via.array.ptr[k], "stranger")) {
				/* a key that never completed a session: up
				 * to HAMLETD_MAX_KNOWN of them, anyone's with
				 * the network key; judging each reads the
				 * store, so none is (hamlet status and the
				 * page count them on one line) */
				json_object_set_new(pe, "in_sync",
						    json_false());
				json_object_set_new(pe, "lag_s", json_null());
				json_object_set_new(pe, "waiting_out",
						    json_null());
				json_object_set_new(pe, "name", json_null());
				json_object_set_new(pe, "role", json_null());
				continue;
			}
			/* a peer is behind only on what it may read: a village
			 * never gets the commune's own feed */
			status_peer_judge(n, &st->peers->via.array.ptr[k], &sp);
			json_object_set_new(pe, "in_sync",
					    json_boolean(sp.state ==
							 STATUS_PEER_IN_SYNC));
			if (sp.lapsed)
				json_object_set_new(
					pe, "refuses_lapsed",
					json_integer((json_int_t)sp.lapsed));
			json_object_set_new(pe, "lag_s", lag_json(&sp));
			json_object_set_new(pe, "waiting_out",
					    json_integer((json_int_t)sp.waiting));
			json_object_set_new(pe, "name",
					    sp.named ? json_string(sp.name)
						     : json_null());
			json_object_set_new(pe, "role",
					    sp.named ? json_string(cert_role_name(
							       sp.role))
						     : json_null());
		}
		json_object_set_new(j, "peers", jp);
		const msgpack_object *rf = mp_map_get(st->res, "refused");
		if (rf && rf->type == MSGPACK_OBJECT_MAP)
			json_object_set_new(j, "refused", record_json_mp(rf));
	}
	return j;
}

