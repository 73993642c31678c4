/*
 * hamlet status [--json] [--socket PATH]
 *
 * In plain words: this node, its peers, when each last synced, what moved,
 * and the open conflicts. Works without a running daemon too (then from
 * the store alone).
 */
#include "cli.h"

#include "cert.h"
#include "scopemap.h"
#include "error.h"
#include "hlc.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int count_conflict(void *ctx, const char *coll, const char *id)
{
	(void)coll;
	(void)id;
	(*(uint64_t *)ctx)++;
	return 0;
}

struct totals {
	uint64_t feeds, entries, own, newest_ms;
	const uint8_t *pk;
};

static int sum_feed(void *ctx, const struct log_feed *f)
{
	struct totals *t = ctx;
	t->feeds++;
	t->entries += f->seq;
	if (hlc_ms(f->hlc) > t->newest_ms)
		t->newest_ms = hlc_ms(f->hlc);
	if (memcmp(f->author, t->pk, 32) == 0)
		t->own += f->seq;
	return 0;
}

struct waiting {
	struct store_txn *t;
	const uint8_t *pk;
	uint64_t since_ms, n;
};

/* Entries written here after since_ms: walk each own feed back from its
 * head while entries are newer. */
static int count_waiting(void *ctx, const struct log_feed *f)
{
	struct waiting *w = ctx;
	if (memcmp(f->author, w->pk, 32) != 0)
		return 0;
	for (uint64_t seq = f->seq; seq >= 1; seq--) {
		const uint8_t *env, *sig;
		size_t el;
		struct entry e;
		if (log_entry_get(w->t, f->key, seq, &env, &el, &sig) < 0 ||
		    entry_decode(env, el, &e, NULL) < 0 ||
		    hlc_ms(e.hlc) <= w->since_ms)
			break;
		w->n++;
	}
	return 0;
}

static uint64_t waiting_since(struct node *n, uint64_t since_ms)
{
	struct waiting w = { NULL, n->pk, since_ms, 0 };
	if (store_txn_begin(n->st, 1, &w.t) < 0)
		return 0;
	log_feeds_each(w.t, count_waiting, &w);
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

static void ago(uint64_t ms, char *out, size_t n)
{
	uint64_t now = hlc_wall_ms(), s;
	if (!ms) {
		snprintf(out, n, "never");
		return;
	}
	s = now > ms ? (now - ms) / 1000 : 0;
	if (s < 120)
		snprintf(out, n, "%llu s ago", (unsigned long long)s);
	else if (s < 7200)
		snprintf(out, n, "%llu min ago", (unsigned long long)(s / 60));
	else if (s < 172800)
		snprintf(out, n, "%llu h ago", (unsigned long long)(s / 3600));
	else
		snprintf(out, n, "%llu days ago", (unsigned long long)(s / 86400));
}

/* What status reports: the store's figures, and hamletd's answer when it
 * runs (borrowed from the answer's document). */
struct status_facts {
	struct node *n;
	struct totals tot;
	uint64_t conflicts, held;
	int running;
	const msgpack_object *res, *peers;
	size_t np;
};

static int store_read(struct status_facts *st)
{
	struct store_txn *t = NULL;
	int r;

	if ((r = cli_txn_read(st->n, &t)) < 0)
		goto out;
	st->tot.pk = st->n->pk;
	if ((r = log_feeds_each(t, sum_feed, &st->tot)) < 0 ||
	    (r = cli_conflicts_each(t, count_conflict, &st->conflicts)) < 0 ||
	    (r = log_held_count(t, &st->held)) < 0) {
		cli_err("cannot read the store: %s", hamlet_strerror(r));
		goto out;
	}
	r = 0;
out:
	store_txn_abort(t);
	return r;
}

/* This node's certificate: whether it holds, and what it grants. */
struct cert_facts {
	int r; /* node_cert_load's result */
	struct cert_chain ch;
	char why[300];
};

static void cert_read(struct node *n, struct cert_facts *cf)
{
	cf->r = node_cert_load(n, hlc_wall_ms(), &cf->ch, NULL, NULL, cf->why,
			       sizeof(cf->why));
}

static void cert_line(const struct cert_facts *cf)
{
	const struct cert *c = &cf->ch.c[0];
	char until[40] = "never";

	if (cf->r < 0) {
		printf("certificate: NONE VALID: %s; peers refuse this node until then\n",
		       cf->why);
		return;
	}
	if (c->expires_ms) {
		time_t t = (time_t)(c->expires_ms / 1000);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(until, sizeof(until), "%Y-%m-%d", &tm);
	}
	printf("certificate: \"%s\" (%s), valid until %s; reads",
	       c->name, cert_role_name(c->role), until);
	for (size_t i = 0; i < c->nread; i++)
		printf(" %s", c->read[i][0] ? c->read[i] : "*");
	printf(", writes");
	if (!c->nwrite)
		printf(" nothing");
	for (size_t i = 0; i < c->nwrite; i++)
		printf(" %s", c->write[i][0] ? c->write[i] : "*");
	printf("\n");
}

static json_t *cert_json(const struct cert_facts *cf)
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

static void status_json(const struct status_facts *st)
{
	const struct totals *tot = &st->tot;
	struct node *n = st->n;
	json_t *j = json_object();
	char pkhex[65];

	cli_hex(n->pk, 32, pkhex);
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
		struct cert_facts cf;
		cert_read(n, &cf);
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
				    cli_mp_json(cli_mp_get(st->res, "digest")));
		json_t *jp = cli_mp_json(st->peers);
		size_t k;
		json_t *pe;
		json_array_foreach(jp, k, pe)
		{
			const msgpack_object *p = &st->peers->via.array.ptr[k];
			const msgpack_object *con = cli_mp_get(p, "connected");
			uint64_t last = cli_mp_u64(p, "last_sync_ms");
			int up = con && con->type == MSGPACK_OBJECT_BOOLEAN &&
				 con->via.boolean;
			int insync = up && last && last >= tot->newest_ms &&
				     !cli_mp_u64(p, "entries_waiting_for_disk");
			uint64_t waiting = waiting_since(n, last);
			json_object_set_new(pe, "in_sync",
					    json_boolean(insync));
			json_object_set_new(pe, "lag_s",
					    lag_json(last, tot->newest_ms));
			json_object_set_new(pe, "waiting_out",
					    json_integer((json_int_t)waiting));
		}
		json_object_set_new(j, "peers", jp);
		const msgpack_object *rf = cli_mp_get(st->res, "refused");
		if (rf && rf->type == MSGPACK_OBJECT_MAP)
			json_object_set_new(j, "refused", cli_mp_json(rf));
	}
	cli_json_print(j);
}

/* One line for peer p of hamletd's answer. */
static void peer_print(const struct status_facts *st, const msgpack_object *p)
{
	const msgpack_object *addr = cli_mp_get(p, "addr");
	const msgpack_object *key = cli_mp_get(p, "key");
	const msgpack_object *con = cli_mp_get(p, "connected");
	int has_addr = addr && addr->type == MSGPACK_OBJECT_STR;
	int has_key = key && key->type == MSGPACK_OBJECT_STR;
	uint64_t newest_ms = st->tot.newest_ms;
	char when[32];
	int connected = con && con->type == MSGPACK_OBJECT_BOOLEAN &&
			con->via.boolean;
	uint64_t last = cli_mp_u64(p, "last_sync_ms");
	/* in sync: the peer agreed with us after our newest entry */
	uint64_t disk_wait = cli_mp_u64(p, "entries_waiting_for_disk");
	char full[120];
	snprintf(full, sizeof(full),
		 "connected, NOT SYNCING: the disk is full; %llu entries received wait for space",
		 (unsigned long long)disk_wait);
	const char *state = !connected	? "NOT CONNECTED"
			    : disk_wait ? full
			    : last && last >= newest_ms
				    ? "connected, in sync"
				    : "connected, syncing";
	ago(last, when, sizeof(when));
	uint64_t waiting = last >= newest_ms ? 0 : waiting_since(st->n, last);
	printf("  %.*s (key %.8s): %s, last agreed %s; %llu entr%s written here waiting to go out; sent %llu entries, received %llu (%llu / %llu bytes)\n",
	       has_addr ? (int)addr->via.str.size : 1,
	       has_addr ? addr->via.str.ptr : "?",
	       has_key ? key->via.str.ptr : "?",
	       state, when, (unsigned long long)waiting,
	       waiting == 1 ? "y" : "ies",
	       (unsigned long long)cli_mp_u64(p, "entries_out"),
	       (unsigned long long)cli_mp_u64(p, "entries_in"),
	       (unsigned long long)cli_mp_u64(p, "bytes_out"),
	       (unsigned long long)cli_mp_u64(p, "bytes_in"));
}

/* hamletd's count of arriving entries it refused, by reason, as words. */
static const struct {
	const char *key, *words;
} refusal[] = {
	{ "invalid", "malformed or forged" },
	{ "not_granted", "outside what their author's certificate lets it write" },
	{ "out_of_scope", "outside this node's scopes" },
	{ "too_far_ahead", "dated too far ahead" },
	{ "held_cap", "past the limit on entries waiting" },
	{ "held_expired", "waited too long for an earlier entry" },
	{ "frozen_feed", "for a feed frozen after a fork" },
	{ "forks", "second entries at one seq (kept as evidence)" },
};

static void refused_print(const msgpack_object *res)
{
	const msgpack_object *m = cli_mp_get(res, "refused");
	const char *sep = "";

	printf("refused since the daemon started:");
	if (!m || m->type != MSGPACK_OBJECT_MAP) {
		printf(" unknown (the daemon does not say)\n");
		return;
	}
	for (size_t i = 0; i < sizeof(refusal) / sizeof(refusal[0]); i++) {
		uint64_t v = m ? cli_mp_u64(m, refusal[i].key) : 0;
		if (!v)
			continue;
		printf("%s %llu %s", sep, (unsigned long long)v,
		       refusal[i].words);
		sep = ";";
	}
	printf("%s\n", *sep ? "" : " nothing");
}

static void status_print(const struct status_facts *st)
{
	const struct totals *tot = &st->tot;
	struct node *n = st->n;
	uint64_t conflicts = st->conflicts;
	struct cert_facts cf;
	char pkhex[65], scope[SCOPEMAP_SHOW_MAX];

	cli_hex(n->pk, 32, pkhex);
	printf("node %s (%s), network %s\nnode key: %s\n", n->name,
	       scopemap_show(n->smap, n->scope, scope, sizeof(scope)),
	       n->net.name, pkhex);
	if (scopemap_in_effect(n->smap))
		printf("scope moves: %zu in effect (hamlet scope list)\n",
		       scopemap_in_effect(n->smap));
	cert_read(n, &cf);
	cert_line(&cf);
	printf("store: %llu entries in %llu feeds (%llu written here)",
	       (unsigned long long)tot->entries, (unsigned long long)tot->feeds,
	       (unsigned long long)tot->own);
	if (st->held)
		printf(", %llu waiting for an earlier entry",
		       (unsigned long long)st->held);
	printf("\n");
	if (conflicts)
		printf("conflicts: %llu record%s need%s a decision: hamlet conflicts\n",
		       (unsigned long long)conflicts, conflicts == 1 ? "" : "s",
		       conflicts == 1 ? "s" : "");
	else
		printf("conflicts: none\n");
	if (!st->running) {
		printf("daemon: not running; nothing syncs until it starts (bundles still work)\n");
		return;
	}
	printf("daemon: running; %zu peer%s\n", st->np, st->np == 1 ? "" : "s");
	refused_print(st->res);
	for (size_t i = 0; i < st->np; i++)
		peer_print(st, &st->peers->via.array.ptr[i]);
}

int cmd_status(int argc, char **argv)
{
	const char *sockopt = NULL;
	struct status_facts st = { 0 };
	struct mp_doc doc;
	uint8_t *buf = NULL;
	char *pos[1];
	int npos, r, have_doc = 0;
	const struct cli_opt opts[] = {
		{ "--socket", &sockopt, NULL },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("status", argc, argv, opts, pos, 0, &npos)) < 0)
		goto out;
	if ((r = cli_node_open(1, &st.n, NULL)) < 0 ||
	    (r = store_read(&st)) < 0)
		goto out;
	r = cli_rpc(cli_socket_path(sockopt), "status", NULL, 1, &doc, &buf,
		    &st.res);
	if (r < 0 && r != -ENOENT)
		goto out;
	st.running = r == 0;
	have_doc = st.running;
	st.peers = st.running ? cli_mp_get(st.res, "peers") : NULL;
	st.np = st.peers && st.peers->type == MSGPACK_OBJECT_ARRAY
			? st.peers->via.array.size
			: 0;
	if (cli_global.json)
		status_json(&st);
	else
		status_print(&st);
	r = 0;
out:
	if (have_doc)
		mp_doc_close(&doc);
	free(buf);
	node_close(st.n);
	return cli_exit_code(r);
}
