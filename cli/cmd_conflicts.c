/*
 * hamlet conflicts [--json]
 * hamlet conflicts resolve COLLECTION ID [JSON|-] [--delete] [--scope S]
 *                          [--same-person]
 *
 * A resolution is an ordinary put (or delete) whose deps name every
 * current head of the record -- log_write() takes the heads as deps --
 * marked as a resolution so that it may correct immutable fields. Its
 * body is every field shown now, overridden by the given JSON, so that it
 * sets every field that is in conflict.
 */
#include "cli.h"
#include "import_map.h"

#include "error.h"
#include "log.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* --- listing ----------------------------------------------------------- */

struct list_ctx {
	struct store_txn *t;
	json_t *arr;
	int n;
};

static int list_one(void *ctx, const char *coll, const char *id)
{
	struct list_ctx *c = ctx;
	struct record_view v;
	int r;

	if ((r = record_view_load(c->t, coll, id, &v)) < 0)
		return r == HAMLET_ENOTFOUND ? 0 : r;
	if (c->arr) {
		json_t *j;
		if ((r = cli_record_json(c->t, coll, id, &v, &j)) == 0)
			json_array_append_new(c->arr, j);
	} else {
		printf("%s/%s\n", coll, id);
		if ((r = cli_record_print_scope(stdout, c->t, &v, "  ")) == 0)
			r = cli_record_print_problems(stdout, c->t, coll, id,
						      &v, "  ");
	}
	record_view_close(&v);
	if (r < 0)
		return r;
	c->n++;
	return 0;
}

static int conflicts_list(void)
{
	struct node *n = NULL;
	struct list_ctx c = { 0 };
	int r;

	if ((r = cli_node_open(1, &n, NULL)) < 0 ||
	    (r = cli_txn_read(n, &c.t)) < 0 ||
	    (r = cli_access_conflicts(c.t)) < 0)
		goto out;
	if (cli_global.json)
		c.arr = json_array();
	if ((r = cli_conflicts_each(c.t, list_one, &c)) < 0) {
		cli_err(_("cannot list the conflicts: %s"), cli_strerror(r));
		goto out;
	}
	if (c.arr) {
		json_t *j = json_object();
		json_object_set_new(j, "count", json_integer(c.n));
		json_object_set_new(j, "records", c.arr);
		c.arr = NULL;
		cli_json_print(j);
	} else if (c.n == 0) {
		printf(_("no conflicts\n"));
	} else {
		printf(P_("%d record with open conflicts\n",
			  "%d records with open conflicts\n", c.n),
		       c.n);
	}
	r = 0;
out:
	json_decref(c.arr);
	store_txn_abort(c.t);
	node_close(n);
	return r;
}

/* --- resolving --------------------------------------------------------- */

/*
 * The fields given to resolve with: JSON in arg, or on standard input for
 * "-", as a body whose fields override those shown now. The caller frees
 * *ret.
 */
static int override_read(const struct schema *s, const char *arg,
			 uint8_t **ret, size_t *ret_len)
{
	char *text = NULL, why[LOG_WHY_MAX] = "";
	json_t *j = NULL;
	size_t len;
	int r;

	if (strcmp(arg, "-") == 0) {
		if ((r = cli_read_all("-", &text, &len)) < 0)
			goto out;
		r = cli_json_parse(text, len, _("the fields (standard input)"),
				   &j);
	} else {
		if ((r = cli_json_parse(arg, strlen(arg), _("the fields"), &j)) < 0)
			cli_json_arg_hint(arg);
	}
	if (r < 0)
		goto out;
	if ((r = import_map_fields(s, j, why, sizeof(why), NULL, 0)) < 0 ||
	    (r = cli_json_body(s, j, NULL, ret, ret_len, why,
			       sizeof(why))) < 0) {
		cli_err("%s", why);
		goto out;
	}
	r = 0;
out:
	json_decref(j);
	free(text);
	return r;
}

/*
 * Say what record_resolution() returned as r (why its reason) when it
 * writes nothing: 1, the record has nothing to resolve, is said on
 * standard output and is no failure (0); <0 with the reason on standard
 * error. Returns r otherwise.
 */
static int resolution_said(struct store_txn *t, const struct schema *s,
			   const char *id, int r, const char *why)
{
	if (r == 1) {
		printf(_("%s/%s has no open conflict: nothing to resolve (to change a field, use \"%s put\")\n"),
		       s->name, id, cli_prog());
	} else if (r == HAMLET_ENOTFOUND) {
		cli_err(_("record %s/%s not found; \"%s conflicts\" lists the records with conflicts"),
			s->name, id, cli_prog());
	} else if (r == HAMLET_EDUP || r == HAMLET_ETWOPEOPLE) {
		struct record_view v;
		cli_err("%s", why);
		if (record_view_load(t, s->name, id, &v) == 0) {
			cli_record_print_problems(stderr, t, s->name, id, &v,
						  "  ");
			record_view_close(&v);
		}
		r = CLI_EUSAGE;
	} else if (r == HAMLET_ESCHEMA) {
		cli_err(_("%s (the earlier values are in \"%s history %s %s\"), or resolve with --delete"),
			why, cli_prog(), s->name, id);
	} else if (r < 0) {
		cli_err(_("cannot read %s/%s: %s"), s->name, id,
			cli_strerror(r));
	}
	return r;
}

/*
 * Say that id was resolved by the entry out, written through hamletd when
 * via (as put and delete say), and what is left open: a resolution names
 * at most ENTRY_MAX_DEPS heads, and a duplicate may remain. Returns
 * CLI_EPROBLEMS when something is.
 */
static int resolve_report(struct node *n, const struct schema *s,
			  const char *id, int del, const struct log_out *out,
			  int via)
{
	const uint8_t *entry = out->id;
	struct store_txn *t = NULL;
	struct record_view v;
	char eid[9];
	int have_view = 0, r;

	if ((r = cli_txn_read(n, &t)) < 0)
		goto out;
	if ((r = record_view_load(t, s->name, id, &v)) < 0)
		goto out;
	have_view = 1;
	if ((r = cli_record_problem_count(t, s->name, id, &v)) < 0)
		goto out;
	cli_hex_short(entry, eid);
	if (cli_global.json) {
		json_t *o = json_object(), *rec = NULL;
		char h[65];
		cli_hex(entry, 32, h);
		json_object_set_new(o, "collection", json_string(s->name));
		json_object_set_new(o, "id", json_string(id));
		json_object_set_new(o, "entry", json_string(h));
		json_object_set_new(o, "seq", json_integer((json_int_t)out->seq));
		json_object_set_new(o, "open", json_integer(r));
		if (cli_record_json(t, s->name, id, &v, &rec) == 0)
			json_object_set_new(o, "record", rec);
		cli_json_print(o);
	} else {
		if (del)
			printf(_("resolved %s/%s by deleting it (entry %s, seq %llu)%s\n"),
			       s->name, id, eid, (unsigned long long)out->seq,
			       via ? _(" through hamletd") : "");
		else
			printf(_("resolved %s/%s (entry %s, seq %llu%s):\n"),
			       s->name, id, eid, (unsigned long long)out->seq,
			       via ? _(", through hamletd") : "");
		if (!del)
			cli_record_print_fields(stdout, t, s->name, id, &v);
		if (r > 0) {
			printf(_("still open:\n"));
			cli_record_print_problems(stdout, t, s->name, id, &v,
						  "  ");
		}
	}
	r = r > 0 ? CLI_EPROBLEMS : 0;
out:
	if (have_view)
		record_view_close(&v);
	store_txn_abort(t);
	return r;
}

/*
 * The village scopes a --same-person resolution settles values of that
 * this node may not write (log_value_scopes()): it does not reach them,
 * and each keeps the value it wrote until that village puts the settled
 * one itself. put: the settled values of the fields in conflict, as the
 * JSON of that put (NULL when none is left out).
 */
struct left_out {
	char v[LOG_MAX_VALUE_SCOPES][ENTRY_MAX_SCOPE + 1];
	size_t n;
	char *put;
};

/* The settled values (body) of v's fields in conflict, as put JSON. */
static char *settled_json(const struct record_view *v, const uint8_t *body,
			  size_t body_len)
{
	const msgpack_object *cs = v->conflicts;
	json_t *o = json_object();
	struct mp_doc d;
	char *ret = NULL;

	if (!o || mp_doc_parse(&d, body, body_len,
			       SCHEMA_MAX_FIELDS + SCHEMA_MAX_MAP) < 0) {
		json_decref(o);
		return NULL;
	}
	for (uint32_t i = 0; i < cs->via.array.size; i++) {
		struct record_conflict c;
		const msgpack_object *val = NULL;
		if (record_conflict_parse(&cs->via.array.ptr[i], &c) < 0)
			continue;
		size_t fl = strlen(c.field);
		for (uint32_t j = 0; fl && d.root->type == MSGPACK_OBJECT_MAP &&
				     j < d.root->via.map.size; j++) {
			const msgpack_object *k = &d.root->via.map.ptr[j].key;
			if (k->type == MSGPACK_OBJECT_STR &&
			    k->via.str.size == fl &&
			    memcmp(k->via.str.ptr, c.field, fl) == 0)
				val = &d.root->via.map.ptr[j].val;
		}
		if (fl)
			json_object_set_new(o, c.field,
					    val ? record_json_mp(val)
						: json_null());
		record_conflict_free(&c);
	}
	mp_doc_close(&d);
	ret = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return ret;
}

static int left_scopes(struct node *n, struct store_txn *t,
		       const struct schema *s, const char *id,
		       const uint8_t *body, size_t body_len,
		       struct left_out *lo)
{
	struct log_value_scopes *vs = calloc(1, sizeof(*vs));
	struct log_author au;
	struct record_view v;
	int r;

	if (!vs)
		return -ENOMEM;
	node_author(n, &au);
	if ((r = log_value_scopes(au.map, t, s->name, id, au.scope, vs)) < 0)
		goto out;
	for (size_t i = 0; vs->n > 1 && i < vs->n; i++)
		if (!log_may_write_in(&au, vs->v[i], s->name))
			memcpy(lo->v[lo->n++], vs->v[i], sizeof(lo->v[0]));
	if (lo->n && (r = record_view_load(t, s->name, id, &v)) == 0) {
		lo->put = settled_json(&v, body, body_len);
		record_view_close(&v);
	}
out:
	free(vs);
	return r < 0 ? r : 0;
}

/* After the resolution: what each village it does not reach must do. */
static void left_say(const struct schema *s, const char *id,
		     const struct left_out *lo)
{
	char *qid = cli_sh_quote(id);
	char *qput = lo->put ? cli_sh_quote(lo->put) : NULL;

	for (size_t i = 0; i < lo->n; i++)
		fprintf(stderr,
			_("hamlet: note: this node may not write in scope %s, so the resolution does not reach that village: it keeps the value it wrote. That village must correct its own copy; on its node, run: hamlet put %s %s %s\n"),
			lo->v[i], s->name, qid ? qid : id,
			qput ? qput : "'{...}'");
	free(qid);
	free(qput);
}

/* One id --heads names: its first n bytes (8 to 32). */
struct head_given {
	uint8_t b[ENTRY_ID_LEN];
	size_t n;
};

/*
 * --heads: entry ids, whole (64 hex digits, as "heads" in --json) or
 * their first 16 hex digits or more (as the resolve commands "conflicts"
 * prints give them), comma-separated, into out (room for
 * RECORD_MAX_SEEN_HEADS); their number in *ret_n.
 */
static int heads_parse(const char *arg, struct head_given *out,
		       size_t *ret_n)
{
	const char *p = arg;
	size_t n = 0;

	for (;;) {
		size_t len = strcspn(p, ",");
		size_t got = 0;
		if (n == RECORD_MAX_SEEN_HEADS)
			return cli_usage_err("conflicts",
					     _("--heads: more than %d ids"),
					     RECORD_MAX_SEEN_HEADS);
		if (len < 16 || len > 2 * ENTRY_ID_LEN || len % 2 ||
		    sodium_hex2bin(out[n].b, ENTRY_ID_LEN, p, len, NULL, &got,
				   NULL) != 0 ||
		    got != len / 2)
			return cli_usage_err(
				"conflicts",
				_("--heads: \"%.*s\" is not an entry id (16 to 64 hex digits, as the resolve commands of \"conflicts\" or \"heads\" in \"conflicts --json\" give them); give them comma-separated"),
				(int)(len > 80 ? 80 : len), p);
		out[n++].n = got;
		if (!p[len])
			break;
		p += len + 1;
	}
	*ret_n = n;
	return 0;
}

/*
 * The record's heads now (heads, n of them; 0: more than can be named)
 * are those --heads named (given, ng of them): each given id the start
 * of exactly one head, and every head named once. 0 when not: the
 * record changed since they were read.
 */
static int heads_match(const uint8_t (*heads)[ENTRY_ID_LEN], size_t n,
		       const struct head_given *given, size_t ng)
{
	if (n == 0 || n != ng)
		return 0;
	for (size_t i = 0; i < n; i++) {
		size_t named = 0, starts = 0;
		for (size_t j = 0; j < ng; j++)
			named += memcmp(heads[i], given[j].b, given[j].n) == 0;
		for (size_t j = 0; j < n; j++)
			starts += memcmp(heads[j], given[i].b, given[i].n) == 0;
		if (named != 1 || starts != 1)
			return 0;
	}
	return 1;
}

static int resolve(char **pos, int npos, const char *scope, int del,
		   int same_person, const char *heads_arg)
{
	const struct schema *s;
	const char *id;
	char why[LOG_WHY_MAX] = "";
	uint8_t *over = NULL, *body = NULL;
	size_t over_len = 0, body_len = 0;
	struct mp_doc od;
	int have_od = 0, r;
	struct node *n = NULL;
	int through_daemon = 0;
	struct store_txn *t = NULL;
	struct log_author au;
	int via = 0;
	struct log_op op;
	struct log_out out;
	struct left_out left = { .n = 0 };
	uint8_t(*heads)[ENTRY_ID_LEN] = NULL;
	struct head_given *given = NULL;
	size_t nheads = 0, ngiven = 0;
	int have_heads = 0;

	if (!(heads = malloc(RECORD_MAX_SEEN_HEADS * sizeof(*heads))) ||
	    (heads_arg &&
	     !(given = malloc(RECORD_MAX_SEEN_HEADS * sizeof(*given))))) {
		r = -ENOMEM;
		goto out;
	}
	if (npos < 3) {
		r = cli_usage_err("conflicts", _("resolve: missing %s"),
				  npos == 2 ? "ID" : _("COLLECTION and ID"));
		goto out;
	}
	if (!(s = cli_schema(pos[1]))) {
		r = HAMLET_ECOLLECTION;
		goto out;
	}
	id = pos[2];
	if ((r = cli_check_id(id)) < 0 ||
	    (scope && (r = cli_check_scope(scope, _("scope"))) < 0))
		goto out;
	if (heads_arg && (r = heads_parse(heads_arg, given, &ngiven)) < 0)
		goto out;
	if (npos == 4 && del) {
		r = cli_usage_err("conflicts",
				  _("resolve: give either the fields to keep (JSON) or --delete, not both"));
		goto out;
	}
	if (npos == 4) {
		if ((r = override_read(s, pos[3], &over, &over_len)) < 0)
			goto out;
		if ((r = mp_doc_parse(&od, over, over_len,
				      SCHEMA_MAX_FIELDS + SCHEMA_MAX_MAP)) < 0)
			goto out;
		have_od = 1;
	}
	if ((r = cli_node_open(0, &n, &through_daemon)) < 0 ||
	    (r = cli_txn_read(n, &t)) < 0)
		goto out;
	r = record_resolution(t, s, id, del, same_person,
			      have_od ? od.root : NULL, &body, &body_len, heads,
			      &nheads, why, sizeof(why));
	/* a read of the record's data, logged before any of it is shown:
	 * not when there is no record, or nothing to resolve */
	if (r != HAMLET_ENOTFOUND && r != 1) {
		int ar = cli_access("conflicts resolve", s->name, id, NULL, 1);
		if (ar < 0) {
			r = ar;
			goto out;
		}
	}
	if (r == 1 && given) {
		/* --heads named a conflict that is settled now: the values
		 * given are not kept, so no success */
		cli_err(_("%s/%s has no open conflict any more: it was settled since the record the --heads were read from was shown (another resolution, or a change, arrived), and this resolution would replace what was chosen there unseen. Look at the record again (\"%s get %s %s\"), and resolve again only if it needs it"),
			s->name, id, cli_prog(), s->name, id);
		r = HAMLET_ERESOLVED;
		goto out;
	}
	if (r == HAMLET_ENOTFOUND) {
		/* a record a restored store lost may come back with the
		 * node's own entries: not found is not final yet */
		struct node_feed_lag lag;
		size_t nb = 0;
		if (node_feeds_behind(n, &lag, 1, &nb) == 0 && nb > 0) {
			cli_err(_("cannot resolve %s/%s: this node signed up to seq %llu in its feed %s before its store was restored or replaced, and the store holds up to seq %llu: the record may be among the entries its peers send back; try again then (hamlet status says when the node has its entries back)"),
				s->name, id, (unsigned long long)lag.signed_seq,
				lag.scope, (unsigned long long)lag.stored);
			r = HAMLET_EBEHIND;
			goto out;
		}
	}
	if ((r = resolution_said(t, s, id, r, why)) != 0) {
		if (r > 0)
			r = 0;
		goto out;
	}
	/* the heads the resolution was made from: it settles those (which
	 * must be those --heads names), or nothing (log.h) */
	have_heads = nheads > 0;
	if (given && !heads_match((const uint8_t(*)[ENTRY_ID_LEN])heads,
				  nheads, given, ngiven)) {
		cli_err(_("%s/%s changed since the record this resolution was made from was read: a value arrived meanwhile (from another node, or another resolution) that this one would replace unseen. Look at the record again (conflicts), and resolve again"),
			s->name, id);
		r = HAMLET_ECHANGED;
		goto out;
	}
	/* written into each village's scope it may write, not scoped */
	if (same_person && !del && !scope &&
	    (r = left_scopes(n, t, s, id, body, body_len, &left)) < 0)
		goto out;
	store_txn_abort(t);
	t = NULL;

	node_author(n, &au);
	memset(&op, 0, sizeof(op));
	op.kind = del ? ENTRY_DELETE : ENTRY_PUT;
	op.collection = s->name;
	op.record_id = id;
	op.scope = scope;
	op.body = body;
	op.body_len = body_len;
	op.resolve = 1;
	if (have_heads) {
		op.heads = (const uint8_t(*)[ENTRY_ID_LEN])heads;
		op.nheads = nheads;
	}
	if ((r = cli_write(n, through_daemon, &op, 1, &out, NULL, why,
			   sizeof(why), &via)) < 0) {
		cli_err(_("cannot resolve %s/%s: %s"), s->name, id, why);
		goto out;
	}
	r = resolve_report(n, s, id, del, &out, via);
	left_say(s, id, &left);
out:
	free(heads);
	free(given);
	free(left.put);
	store_txn_abort(t);
	node_close(n);
	if (have_od)
		mp_doc_close(&od);
	free(over);
	free(body);
	return r;
}

int cmd_conflicts(int argc, char **argv)
{
	const char *scope = NULL, *heads = NULL;
	int del = 0, same = 0, npos, r;
	char *pos[4];
	const struct cli_opt opts[] = {
		{ "--delete", NULL, &del },
		{ "--scope", &scope, NULL },
		{ "--same-person", NULL, &same },
		{ "--heads", &heads, NULL },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("conflicts", argc, argv, opts, pos, 4, &npos)) < 0)
		return cli_exit_code(r);
	if (npos == 0) {
		if (del || scope || same || heads)
			return cli_exit_code(cli_usage_err(
				"conflicts",
				_("--delete, --scope, --same-person and --heads belong to \"conflicts resolve\"")));
		return cli_exit_code(conflicts_list());
	}
	if (strcmp(pos[0], "resolve") != 0)
		return cli_exit_code(cli_usage_err(
			"conflicts",
			_("unknown subcommand \"%s\"; the only one is \"resolve\""),
			pos[0]));
	return cli_exit_code(resolve(pos, npos, scope, del, same, heads));
}
