/*
 * hamlet report lag [--threshold DURATION] [--json]
 *
 * Which nodes are behind, as this node sees them (daemon/core/lag.h):
 * names first, how long since their newest entry here, and through which
 * direct peer (or bundle) that entry came. The JSON is documented in
 * docs/operator-guide.md "Which villages are behind"; a field changes
 * only with LAG_JSON_VERSION.
 */
#include "cli.h"

#include "i18n.h"

#include "error.h"
#include "hlc.h"
#include "lag.h"
#include "scopemap.h"
#include "status.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* 2: revoked nodes apart from behind; 3: scope is the effective scope
 * after a scope move, scope_written the one as written */
#define LAG_JSON_VERSION 4
/* a node's label: its name, role, scope (effective and as written) and
 * key */
#define LAG_LABEL_MAX (CERT_MAX_NAME + SCOPEMAP_SHOW_MAX + 160)
#define LAG_DEFAULT_THRESHOLD_MS (24ull * 3600 * 1000)
#define LAG_MAX_THRESHOLD_MS (3650ull * 24 * 3600 * 1000)

/* "3 days 4 h", "5 h 12 min", "12 min 3 s", "4 s": two units at most,
 * the second left out when it is 0. */
static void duration_text(uint64_t ms, char out[48])
{
	static const struct {
		uint64_t s;
		const char *one, *many;
	} u[] = { { 86400, N_("day"), N_("days") }, { 3600, N_("h"), N_("h") },
		  { 60, N_("min"), N_("min") }, { 1, N_("s"), N_("s") } };
	uint64_t s = ms / 1000;
	size_t i = 0;
	while (i < 3 && s < u[i].s)
		i++;
	uint64_t a = s / u[i].s, b = i < 3 ? s % u[i].s / u[i + 1].s : 0;
	int k = snprintf(out, 48, "%llu %s", (unsigned long long)a,
			 _(a == 1 ? u[i].one : u[i].many));
	if (b)
		snprintf(out + k, 48 - (size_t)k, " %llu %s",
			 (unsigned long long)b, _(u[i + 1].many));
}

static uint64_t since(const struct lag_report *r, uint64_t ms)
{
	return r->now_ms > ms ? r->now_ms - ms : 0;
}

/* Does another node of r go by x's name (a PC replaced, say)? */
static int name_shared(const struct lag_report *r, const struct lag_node *x)
{
	for (size_t i = 0; i < r->n; i++)
		if (&r->v[i] != x && strcmp(r->v[i].name, x->name) == 0)
			return 1;
	return 0;
}

/* "v2 (village, bk/c1/v2)", or an unknown key's prefix when no
 * certificate names it; the whole key under --keys, its start when
 * another node goes by the same name. */
static void node_label(const struct lag_report *r, const struct lag_node *x,
		       char *out, size_t n)
{
	char hex[65], key[80] = "", scope[SCOPEMAP_SHOW_MAX];
	const char *role = cli_role_text(x->role);
	cli_hex(x->key, 32, hex);
	/* effective, with the scope as written after a move, as get shows */
	scopemap_show_resolved(x->scope, x->written, scope, sizeof(scope));
	if (x->name[0]) {
		if (cli_global.keys)
			snprintf(key, sizeof(key), _(", key %s"), hex);
		else if (name_shared(r, x))
			snprintf(key, sizeof(key), _(", key %.8s…"), hex);
		snprintf(out, n, "%s (%s%s%s%s)", x->name, role ? role : "",
			 role ? ", " : "", scope[0] ? scope : _("all scopes"),
			 key);
		return;
	}
	if (!cli_global.keys)
		snprintf(hex + 8, sizeof(hex) - 8, "…");
	snprintf(out, n, _("unknown node %s (no certificate%s%s)"), hex,
		 scope[0] ? ", " : "", scope);
}

/* The peer of a delivery, named as the report names nodes. */
static void peer_label(const struct lag_report *r, const uint8_t key[32],
		       char *out, size_t n)
{
	const struct lag_node *p = lag_report_find(r, key);
	char hex[65];
	if (p) {
		node_label(r, p, out, n);
		return;
	}
	cli_hex(key, 32, hex);
	if (!cli_global.keys)
		snprintf(hex + 8, sizeof(hex) - 8, "…");
	snprintf(out, n, _("unknown node %s"), hex);
}

static const char *cert_word(int c)
{
	return c == LAG_CERT_VALID ? "valid"
	       : c == LAG_CERT_INVALID ? "not valid now"
				       : "none";
}

/* A node whose certificate is not valid now is behind for that reason. */
static void cert_note(const struct lag_node *x)
{
	if (x->cert == LAG_CERT_INVALID)
		printf(_("  its certificate is NOT valid now (revoked, expired, or its issuer's was): nothing it writes is accepted until an administrator certifies it again\n"));
}

static void node_print(const struct lag_report *r, const struct lag_node *x)
{
	char label[LAG_LABEL_MAX], when[32], d[48];

	node_label(r, x, label, sizeof(label));
	if (!x->heard_ms) {
		printf(_("%s: never heard from (its certificate is in the trust set)\n"),
		       label);
		cert_note(x);
		return;
	}
	if (x->newest_ms) {
		duration_text(since(r, x->newest_ms), d);
		cli_time_text(x->newest_ms, 0, when);
		printf(_("%s: %s behind, newest entry here %s\n"), label, d, when);
	} else {
		printf(_("%s: no entry here\n"), label);
	}
	cert_note(x);
	if (x->contact_ms) {
		duration_text(since(r, x->contact_ms), d);
		cli_time_text(x->contact_ms, 0, when);
		printf(_("  last contact as a direct peer: %s (%s ago)\n"), when, d);
	}
	if (x->has_via) {
		char via[LAG_LABEL_MAX];
		cli_time_text(x->via.when_ms, 0, when);
		if (x->via.via.kind == HEARD_PEER)
			peer_label(r, x->via.via.peer, via, sizeof(via));
		else if (x->via.via.kind == HEARD_BUNDLE)
			snprintf(via, sizeof(via), "bundle %s",
				 x->via.via.file[0] ? x->via.via.file : _("(unnamed)"));
		else
			snprintf(via, sizeof(via),
				 _("this node's socket (a bundle imported through hamletd, or a tool)"));
		printf(_("  last heard through %s, %s\n"), via, when);
	} else if (x->nfeeds) {
		printf(_("  last heard through: not recorded (stored before this node kept it)\n"));
	}
	for (size_t i = 0; i < x->nfeeds; i++) {
		char scope[SCOPEMAP_SHOW_MAX];
		scopemap_show_resolved(x->feeds[i].scope, x->feeds[i].written,
				       scope, sizeof(scope));
		printf(_("  feed %s: head seq %llu\n"), scope,
		       (unsigned long long)x->feeds[i].seq);
	}
}

/* 1 when x's certificate ends within STATUS_CERT_WARN_DAYS of the
 * report's time (and has not ended): its issuer has a renewal to make. */
static int ending_soon(const struct lag_report *r, const struct lag_node *x)
{
	const uint64_t within = (uint64_t)STATUS_CERT_WARN_DAYS * 86400000ull;
	return !x->revoked && x->cert == LAG_CERT_VALID && x->cert_expires_ms &&
	       x->cert_expires_ms > r->now_ms &&
	       x->cert_expires_ms - r->now_ms <= within;
}

/* The nodes whose certificates end soon: at a commune, the villages it
 * certified, whose renewal is its office's to make. */
static void ending_print(const struct lag_report *r)
{
	int first = 1;
	for (size_t i = 0; i < r->n; i++) {
		const struct lag_node *x = &r->v[i];
		char label[LAG_LABEL_MAX], when[64];
		unsigned long long days;
		if (!ending_soon(r, x))
			continue;
		if (first)
			putchar('\n');
		first = 0;
		node_label(r, x, label, sizeof(label));
		cli_date_text(x->cert_expires_ms, when, sizeof(when));
		days = (x->cert_expires_ms - r->now_ms) / 86400000ull;
		printf(P_("%s: its certificate is valid until %s (%llu day from now); then every node refuses it. Whoever issued it renews it for the same key (administrator's guide, \"Renew a certificate\"); the renewal reaches that node by sync or USB bundle\n",
			  "%s: its certificate is valid until %s (%llu days from now); then every node refuses it. Whoever issued it renews it for the same key (administrator's guide, \"Renew a certificate\"); the renewal reaches that node by sync or USB bundle\n",
			  days),
		       label, when, days);
	}
}

static void report_print(const struct lag_report *r)
{
	char when[32], d[48];
	cli_time_text(r->now_ms, 0, when);
	duration_text(r->threshold_ms, d);
	if (r->n == 0) {
		printf(_("no other node is known here yet (at %s)\n"), when);
		return;
	}
	if (r->behind == 0)
		printf(_("no node is behind: all %zu heard from within %s (at %s)\n"),
		       r->n - r->revoked, d, when);
	else
		printf(_("%zu of %zu node%s behind: not heard from for more than %s (at %s)\n"),
		       r->behind, r->n - r->revoked,
		       cli_plural(r->n - r->revoked), d, when);
	for (size_t i = 0; i < r->n && r->v[i].behind; i++) {
		putchar('\n');
		node_print(r, &r->v[i]);
	}
	if (r->revoked)
		putchar('\n');
	for (size_t i = 0; i < r->n; i++) {
		/* not expected to report again: named, not counted */
		char label[LAG_LABEL_MAX];
		if (!r->v[i].revoked)
			continue;
		node_label(r, &r->v[i], label, sizeof(label));
		printf(_("%s: REVOKED, not counted\n"), label);
	}
	ending_print(r);
}

static json_t *time_json(uint64_t ms)
{
	char t[32];
	if (!ms)
		return json_null();
	cli_time_text(ms, 1, t);
	return json_string(t);
}

static json_t *key_json(const uint8_t *k)
{
	char hex[65];
	cli_hex(k, 32, hex);
	return json_string(hex);
}

static json_t *via_json(const struct lag_report *r, const struct lag_node *x)
{
	static const char *const kinds[] = { "local", "peer", "bundle" };
	json_t *v;
	if (!x->has_via)
		return json_null();
	v = json_object();
	json_object_set_new(v, "kind", json_string(kinds[x->via.via.kind]));
	if (x->via.via.kind == HEARD_PEER) {
		const struct lag_node *p = lag_report_find(r, x->via.via.peer);
		json_object_set_new(v, "peer", key_json(x->via.via.peer));
		json_object_set_new(v, "peer_name",
				    p && p->name[0] ? json_string(p->name)
						    : json_null());
	}
	if (x->via.via.kind == HEARD_BUNDLE)
		json_object_set_new(v, "file", json_string(x->via.via.file));
	json_object_set_new(v, "at", time_json(x->via.when_ms));
	json_object_set_new(v, "at_ms", json_integer((json_int_t)x->via.when_ms));
	return v;
}

static json_t *node_json(const struct lag_report *r, const struct lag_node *x)
{
	json_t *o = json_object(), *fs = json_array();
	const char *role = cert_role_name(x->role);
	json_object_set_new(o, "key", key_json(x->key));
	json_object_set_new(o, "name", x->name[0] ? json_string(x->name)
						  : json_null());
	json_object_set_new(o, "role", role ? json_string(role) : json_null());
	json_object_set_new(o, "scope", x->scope[0] ? json_string(x->scope)
						    : json_null());
	if (x->written[0])
		json_object_set_new(o, "scope_written",
				    json_string(x->written));
	json_object_set_new(o, "certificate", json_string(cert_word(x->cert)));
	json_object_set_new(o, "certificate_expires",
			    time_json(x->cert == LAG_CERT_VALID
					      ? x->cert_expires_ms
					      : 0));
	json_object_set_new(o, "never_heard", json_boolean(!x->heard_ms));
	json_object_set_new(o, "newest_entry", time_json(x->newest_ms));
	json_object_set_new(o, "behind_s",
			    x->newest_ms ? json_integer((json_int_t)(
						   since(r, x->newest_ms) / 1000))
					 : json_null());
	json_object_set_new(o, "last_contact", time_json(x->contact_ms));
	json_object_set_new(o, "last_heard", time_json(x->heard_ms));
	json_object_set_new(o, "silent_s",
			    x->heard_ms ? json_integer((json_int_t)(
						  since(r, x->heard_ms) / 1000))
					: json_null());
	json_object_set_new(o, "via", via_json(r, x));
	for (size_t i = 0; i < x->nfeeds; i++) {
		json_t *f = json_object();
		json_object_set_new(f, "scope", json_string(x->feeds[i].scope));
		if (x->feeds[i].written[0])
			json_object_set_new(f, "scope_written",
					    json_string(x->feeds[i].written));
		json_object_set_new(f, "seq",
				    json_integer((json_int_t)x->feeds[i].seq));
		json_object_set_new(f, "newest_entry",
				    time_json(x->feeds[i].newest_ms));
		json_array_append_new(fs, f);
	}
	json_object_set_new(o, "feeds", fs);
	return o;
}

static void report_json(const struct lag_report *r)
{
	json_t *o = json_object(), *b = json_array();
	json_object_set_new(o, "lag_version", json_integer(LAG_JSON_VERSION));
	json_object_set_new(o, "at", time_json(r->now_ms));
	json_object_set_new(o, "threshold_s",
			    json_integer((json_int_t)(r->threshold_ms / 1000)));
	json_object_set_new(o, "nodes", json_integer((json_int_t)r->n));
	json_t *rv = json_array();
	for (size_t i = 0; i < r->n && r->v[i].behind; i++)
		json_array_append_new(b, node_json(r, &r->v[i]));
	json_object_set_new(o, "behind", b);
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].revoked)
			json_array_append_new(rv, node_json(r, &r->v[i]));
	json_object_set_new(o, "revoked", rv);
	json_t *en = json_array();
	for (size_t i = 0; i < r->n; i++)
		if (ending_soon(r, &r->v[i]))
			json_array_append_new(en, node_json(r, &r->v[i]));
	json_object_set_new(o, "certificates_ending", en);
	cli_json_print(o);
}

/* The running daemon's peers' last contacts, newer than the kept ones
 * until its next save: *ret (malloc'd) and *ret_n; none when it is
 * down. */
static int live_contacts(struct lag_contact **ret, size_t *ret_n)
{
	struct mp_doc doc;
	uint8_t *buf = NULL;
	const msgpack_object *res, *peers;
	int r;

	*ret = NULL;
	*ret_n = 0;
	r = cli_rpc(cli_socket_path(NULL), "status", NULL, 1, &doc, &buf, &res);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	peers = cli_mp_get(res, "peers");
	if (peers && peers->type == MSGPACK_OBJECT_ARRAY &&
	    peers->via.array.size &&
	    (*ret = calloc(peers->via.array.size, sizeof(**ret)))) {
		for (uint32_t i = 0; i < peers->via.array.size; i++) {
			const msgpack_object *p = &peers->via.array.ptr[i];
			const msgpack_object *k = cli_mp_get(p, "key");
			struct lag_contact *c = &(*ret)[*ret_n];
			c->ms = cli_mp_u64(p, "last_sync_ms");
			if (c->ms && k && k->type == MSGPACK_OBJECT_STR &&
			    k->via.str.size == 64 &&
			    sodium_hex2bin(c->key, 32, k->via.str.ptr, 64, NULL,
					   NULL, NULL) == 0)
				++*ret_n;
		}
	}
	mp_doc_close(&doc);
	free(buf);
	return 0;
}

int cmd_report(int argc, char **argv)
{
	const char *thr = NULL;
	uint64_t threshold_ms = LAG_DEFAULT_THRESHOLD_MS;
	struct lag_contact *live = NULL;
	struct lag_report rep = { 0 };
	struct store_txn *t = NULL;
	struct node *n = NULL;
	size_t nlive = 0;
	char *pos[2];
	int npos, r;
	const struct cli_opt opts[] = {
		{ "--threshold", &thr, NULL },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("report", argc, argv, opts, pos, 1, &npos)) < 0)
		goto out;
	if (npos < 1) {
		r = cli_usage_err("report", _("missing the report's name: lag"));
		goto out;
	}
	if (strcmp(pos[0], "lag") != 0) {
		r = cli_usage_err("report", _("unknown report \"%s\"; there is: lag"),
				  pos[0]);
		goto out;
	}
	if (thr && (r = cli_duration_parse(thr, LAG_MAX_THRESHOLD_MS, &threshold_ms)) == -EDOM) {
		r = cli_usage_err(
			"report",
			_("--threshold \"%s\" has no unit: give %ss for seconds, %sm for minutes, %sh for hours or %sd for days"),
			thr, thr, thr, thr, thr);
		goto out;
	}
	if (thr && r < 0) {
		r = cli_usage_err(
			"report",
			_("--threshold \"%s\" is not a duration: give a number with s, m, h or d, e.g. 2s, 90m, 24h, 7d, 1d12h (at most 3650d)"),
			thr);
		goto out;
	}
	if ((r = cli_node_open(1, &n, NULL)) < 0)
		goto out;
	if ((r = live_contacts(&live, &nlive)) < 0) {
		cli_err(_("cannot ask hamletd for its peers: %s"),
			cli_strerror(r));
		goto out;
	}
	if ((r = cli_txn_read(n, &t)) < 0)
		goto out;
	if ((r = lag_report_build(t, n->pk, hlc_wall_ms(), threshold_ms, live,
				  nlive, &rep)) < 0) {
		cli_err(_("cannot read the store for the report: %s"),
			cli_strerror(r));
		r = cli_store_fault(r);
		goto out;
	}
	if (cli_global.json)
		report_json(&rep);
	else
		report_print(&rep);
	r = 0;
out:
	lag_report_close(&rep);
	store_txn_abort(t);
	free(live);
	node_close(n);
	return cli_exit_code(r);
}
