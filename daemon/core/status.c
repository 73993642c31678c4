/*
 * status: what `hamlet status --json` says of a node, built in one place
 * for the CLI and for hamletd's HTTP API (GET /v1/status), so both say
 * the same.
 */
#include "status.h"

#include "error.h"
#include "heads.h"
#include "hlc.h"
#include "log.h"
#include "mp.h"
#include "record.h"
#include "record_json.h"
#include "scopemap.h"

#include <sodium.h>
#include <string.h>

static int count_conflict(void *ctx, const char *coll, const char *id)
{
	(void)coll;
	(void)id;
	(*(uint64_t *)ctx)++;
	return 0;
}

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

struct waiting {
	struct store_txn *t;
	uint64_t since_ms, n;
};

/* Entries written here after since_ms: walk an own feed back from its
 * head while entries are newer. */
static int count_waiting(void *ctx, const uint8_t key[32])
{
	struct waiting *w = ctx;
	struct log_feed f;
	int r = log_feed_get(w->t, key, &f);
	if (r < 0)
		return r == HAMLET_ENOTFOUND ? 0 : r;
	for (uint64_t seq = f.seq; seq >= 1; seq--) {
		const uint8_t *env, *sig;
		size_t el;
		struct entry e;
		if (log_entry_get(w->t, f.key, seq, &env, &el, &sig) < 0 ||
		    entry_decode(env, el, &e, NULL) < 0 ||
		    hlc_ms(e.hlc) <= w->since_ms)
			break;
		w->n++;
	}
	return 0;
}

uint64_t status_waiting_since(struct node *n, uint64_t since_ms)
{
	struct waiting w = { NULL, since_ms, 0 };
	if (store_txn_begin(n->st, 1, &w.t) < 0)
		return 0;
	/* this node's own feeds only (heads.h), not every feed */
	heads_author_feeds(w.t, n->pk, count_waiting, &w);
	store_txn_abort(w.t);
	return w.n;
}

/*
 * How far a peer trails this node: the seconds from its last agreement to
 * our newest entry. A peer that agreed after that entry (its clock ahead
 * of ours included) trails by nothing, whether connected or not; one that
 * never synced has no lag to tell, which JSON says as null.
 */
static json_t *lag_json(uint64_t last_sync_ms, uint64_t newest_ms)
{
	if (!last_sync_ms)
		return json_null();
	if (last_sync_ms >= newest_ms)
		return json_integer(0);
	return json_integer((json_int_t)((newest_ms - last_sync_ms) / 1000));
}

int status_store_read(struct status_facts *st)
{
	struct store_txn *t = NULL;
	int r;

	if ((r = store_txn_begin(st->n->st, 1, &t)) < 0)
		return r;
	st->tot.pk = st->n->pk;
	if ((r = totals_read(t, &st->tot)) >= 0 &&
	    (r = record_conflicted_each(t, count_conflict, &st->conflicts)) >= 0)
		r = log_held_count(t, &st->held);
	store_txn_abort(t);
	return r < 0 ? r : 0;
}

void status_cert_read(struct node *n, struct status_cert *cf)
{
	cf->r = node_cert_load(n, hlc_wall_ms(), &cf->ch, NULL, NULL, cf->why,
			       sizeof(cf->why));
}

static json_t *cert_json(const struct status_cert *cf)
{
	json_t *j = json_object();
	const struct cert *c = &cf->ch.c[0];

	json_object_set_new(j, "valid", json_boolean(cf->r == 0));
	if (cf->r < 0) {
		json_object_set_new(j, "why", json_string(cf->why));
		return j;
	}
	json_object_set_new(j, "name", json_string(c->name));
	json_object_set_new(j, "role", json_string(cert_role_name(c->role)));
	json_object_set_new(j, "expires_ms",
			    json_integer((json_int_t)c->expires_ms));
	return j;
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
	if (st->running) {
		json_object_set_new(j, "digest",
				    record_json_mp(mp_map_get(st->res, "digest")));
		json_t *jp = record_json_mp(st->peers);
		size_t k;
		json_t *pe;
		json_array_foreach(jp, k, pe)
		{
			const msgpack_object *p = &st->peers->via.array.ptr[k];
			const msgpack_object *con = mp_map_get(p, "connected");
			uint64_t last = mp_map_u64(p, "last_sync_ms");
			int up = con && con->type == MSGPACK_OBJECT_BOOLEAN &&
				 con->via.boolean;
			int insync = up && last && last >= tot->newest_ms &&
				     !mp_map_u64(p, "entries_waiting_for_disk");
			uint64_t waiting = status_waiting_since(n, last);
			json_object_set_new(pe, "in_sync",
					    json_boolean(insync));
			json_object_set_new(pe, "lag_s",
					    lag_json(last, tot->newest_ms));
			json_object_set_new(pe, "waiting_out",
					    json_integer((json_int_t)waiting));
		}
		json_object_set_new(j, "peers", jp);
		const msgpack_object *rf = mp_map_get(st->res, "refused");
		if (rf && rf->type == MSGPACK_OBJECT_MAP)
			json_object_set_new(j, "refused", record_json_mp(rf));
	}
	return j;
}

