#include "import_map.h"
#include "http_internal.h"

#include "access.h"
#include "changes.h"
#include "dlog.h"
#include "error.h"
#include "hlc.h"
#include "mp.h"
#include "record_json.h"
#include "schema.h"
#include "utf8.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum MHD_Result http__get_record(struct http *h, struct MHD_Connection *conn,
				  const struct token *tok,
				  const struct schema *s, const char *id)
{
	struct store_txn *t = NULL;
	struct scopemap *map = NULL;
	struct record_view v;
	char written[ENTRY_MAX_SCOPE + 1], why[4400];
	json_t *j = NULL;
	enum MHD_Result ok;
	int r;

	if ((r = store_txn_begin(h->d->node->st, 1, &t)) < 0 ||
	    (r = scopemap_load(t, &map)) < 0) {
		store_txn_abort(t);
		return http__send_fault(h, conn, r, "cannot read the store");
	}
	if ((r = record_view_load(t, s->name, id, &v)) < 0) {
		scopemap_free(map);
		store_txn_abort(t);
		if (r == HAMLET_ENOTFOUND)
			return send_err(h, conn, MHD_HTTP_NOT_FOUND,
					"record_not_found",
					"record %s/%s not found", s->name, id);
		return http__send_fault(h, conn, r, "cannot read the record");
	}
	r = http__may_see(h, t, map, tok, &v, written);
	if (r == 0) /* as if absent: where it lives is not the token's to learn */
		ok = send_err(h, conn, MHD_HTTP_NOT_FOUND, "record_not_found",
			      "record %s/%s not found", s->name, id);
	else if (r < 0 ||
		 (r = http__record_json(h, t, map, tok, s->name, id, &v, &j)) < 0)
		ok = http__send_fault(h, conn, r, "cannot read the record");
	else if ((r = http__log_read(h, tok, "http get", s->name, id, NULL, 1, why,
			       sizeof(why))) < 0)
		ok = send_err(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
			      "access_log",
			      "%s; a read of health data that cannot be logged is not done",
			      why);
	else {
		ok = http__send_json(h, conn, MHD_HTTP_OK, j);
		j = NULL;
	}
	json_decref(j);
	record_view_close(&v);
	scopemap_free(map);
	store_txn_abort(t);
	return ok;
}

/* The scope a write to coll/id falls in: given, else the record's, else
 * the node's own; cur: the record's now ("" when none), *ret_nowhere 1
 * when its heads share no scope at all; *ret_exists 1 when the record is
 * live or erased (a write to it is refused as such). */
static int write_scope(struct http *h, const char *coll, const char *id,
		       const char *given, const char *dflt,
		       char out[ENTRY_MAX_SCOPE + 1],
		       char cur[ENTRY_MAX_SCOPE + 1],
		       struct scopemap **ret_map, int *ret_exists,
		       int *ret_nowhere)
{
	struct store_txn *t = NULL;
	struct record_view v;
	int r;

	*ret_exists = 0;
	*ret_nowhere = 0;
	cur[0] = 0;
	snprintf(out, ENTRY_MAX_SCOPE + 1, "%s", given ? given : dflt);
	if ((r = store_txn_begin(h->d->node->st, 1, &t)) < 0)
		return r;
	if ((r = scopemap_load(t, ret_map)) < 0)
		goto out;
	r = record_view_load(t, coll, id, &v);
	if (r == HAMLET_ENOTFOUND) {
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	/* an erased record is there, to be refused as erased (409) */
	*ret_exists = v.erased || !v.deleted;
	{
		char w[ENTRY_MAX_SCOPE + 1];
		r = scopemap_record_scope(*ret_map, t, &v, w);
		/* heads of no common scope: no scoped token's */
		*ret_nowhere = r == 1;
		if (r >= 0 && w[0]) {
			snprintf(cur, ENTRY_MAX_SCOPE + 1, "%s", w);
			if (!given)
				snprintf(out, ENTRY_MAX_SCOPE + 1, "%s", w);
		}
	}
	record_view_close(&v);
out:
	store_txn_abort(t);
	return r < 0 ? r : 0;
}

/*
 * Which rule of entry_scope_check() scope breaks (it breaks one), for a
 * client to fix it: the first one met from its start.
 */
static const char *scope_fault(const char *scope)
{
	size_t n = strlen(scope), seg = 0, nseg = 1;

	if (n == 0)
		return "it is empty; give one like bk/c1/a, or leave ?scope= out";
	if (scope[n - 1] == '/')
		return "it ends with '/': leave the last '/' out";
	for (size_t i = 0; i < n; i++) {
		char c = scope[i];
		if (c == '/') {
			if (seg == 0)
				return i == 0 ? "it begins with '/': leave it out"
					      : "it has an empty part (\"//\")";
			if (++nseg > 8)
				return "it has more than 8 parts";
			seg = 0;
		} else if (c >= 'A' && c <= 'Z') {
			return "it has an upper-case letter: write it in lower case";
		} else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			     c == '-')) {
			return "a part may hold only a-z, 0-9 and '-' (no spaces, no accents)";
		} else if (++seg > 32) {
			return "a part is longer than 32 characters";
		}
	}
	if (n > ENTRY_MAX_SCOPE)
		return "it is longer than 128 bytes";
	return "use 1-8 parts of a-z, 0-9 and '-' joined by '/'";
}

static enum MHD_Result write_answer(struct http *h, struct MHD_Connection *conn,
				    struct call *c)
{
	json_t *o;
	char hex[65];
	int r = c->r;

	if (r < 0) {
		switch (r) {
		case HAMLET_ESCOPE:
			/* a ?scope= the record does not live in, as a bad
			 * ?scope= is refused before the write */
			return send_err(h, conn, MHD_HTTP_BAD_REQUEST,
					"bad_scope", "cannot save %s/%s: %s",
					c->coll, c->id,
					c->why[0] ? c->why : hamlet_strerror(r));
		case HAMLET_ESCHEMA:
		case HAMLET_EIMMUTABLE:
		case HAMLET_ESTATE:
		case HAMLET_EID:
		case HAMLET_ECOLLECTION:
		case HAMLET_EFORMAT:
			return send_err(h, conn, MHD_HTTP_BAD_REQUEST,
					r == HAMLET_EIMMUTABLE ? "immutable"
					: r == HAMLET_ESTATE   ? "state"
							       : "schema",
					"cannot save %s/%s: %s", c->coll, c->id,
					c->why[0] ? c->why : hamlet_strerror(r));
		case HAMLET_ECERT:
		case HAMLET_EREVOKED:
			return send_err(h, conn, MHD_HTTP_FORBIDDEN, "not_granted",
					"cannot save %s/%s: %s", c->coll, c->id,
					c->why[0] ? c->why : hamlet_strerror(r));
		case HAMLET_ENOTFOUND:
			return send_err(h, conn, MHD_HTTP_NOT_FOUND,
					"record_not_found",
					"record %s/%s not found%s", c->coll,
					c->id,
					c->op.kind == ENTRY_DELETE
						? " (or already deleted)"
						: "");
		case HAMLET_ERESOLVED:
			return send_err(h, conn, MHD_HTTP_CONFLICT, "no_conflict",
					"%s", c->why[0] ? c->why : hamlet_strerror(r));
		case HAMLET_ECHANGED:
			return send_err(h, conn, MHD_HTTP_CONFLICT, "changed",
					"%s (here: GET the record again, then resolve with its \"heads\")",
					c->why[0] ? c->why : hamlet_strerror(r));
		case HAMLET_ETWOPEOPLE:
			return send_err(h, conn, MHD_HTTP_CONFLICT, "two_people",
					"%s (here: resolve with \"same_person\": true)",
					c->why[0] ? c->why : hamlet_strerror(r));
		case HAMLET_EDELCONFLICT:
			if (c->op.kind == ENTRY_DELETE)
				return send_err(h, conn, MHD_HTTP_CONFLICT,
						"delete_conflict",
						"%s (here: POST /v1/conflicts/%s/%s/resolve with {\"delete\":true} to delete it%s)",
						c->why[0] ? c->why : hamlet_strerror(r),
						c->coll, c->id,
						http__two_people(h, c->coll,
								 c->id)
							? ""
							: ", or with an empty body to keep it as shown");
			return send_err(h, conn, MHD_HTTP_CONFLICT,
					"delete_conflict",
					"%s (here: POST /v1/conflicts/%s/%s/resolve)",
					c->why[0] ? c->why : hamlet_strerror(r),
					c->coll, c->id);
		case HAMLET_EBEHIND:
			/* the node's store was restored or replaced: it
			 * writes again once its peers have sent its own
			 * entries back, with no one's help */
			return http__send_err_retry(h, conn,
					MHD_HTTP_SERVICE_UNAVAILABLE,
					HTTP_RESTORING_RETRY_S, "restoring",
					"cannot save %s/%s: %s", c->coll, c->id,
					c->why[0] ? c->why : hamlet_strerror(r));
		case HAMLET_ECONFIG:
			/* HOME/own-feeds does not read: the why says what
			 * its administrator does */
			return send_err(h, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
					"own_feeds_unreadable",
					"cannot save %s/%s: %s", c->coll, c->id,
					c->why[0] ? c->why : hamlet_strerror(r));
		case HAMLET_EERASED:
			/* the why names the record already */
			return send_err(h, conn, MHD_HTTP_CONFLICT, "erased",
					"%s",
					c->why[0] ? c->why : hamlet_strerror(r));
		default:
			return http__send_fault(h, conn, r, "cannot save the record");
		}
	}
	o = json_object();
	json_object_set_new(o, "collection", json_string(c->coll));
	json_object_set_new(o, "id", json_string(c->id));
	if (c->out.seq == 0) {
		json_object_set_new(o, "unchanged", json_true());
		json_object_set_new(o, "entry", json_null());
	} else {
		sodium_bin2hex(hex, sizeof(hex), c->out.id, 32);
		json_object_set_new(o, "unchanged", json_false());
		json_object_set_new(o, "entry", json_string(hex));
	}
	json_object_set_new(o, "seq", json_integer((json_int_t)c->out.seq));
	return http__send_json(h, conn, MHD_HTTP_OK, o);
}

/*
 * Record coll/id as token tok sees it (its duplicates among those tok may
 * read, SPEC of the API: a village does not learn another's records) into
 * *ret, and the decisions open on it for tok: its conflicts and those
 * duplicates. *ret NULL when only the count is wanted.
 */
static int seen_record(struct http *h, const struct token *tok,
		       const char *coll, const char *id, json_t **ret,
		       int *ret_open)
{
	struct store_txn *t = NULL;
	struct scopemap *map = NULL;
	struct record_view v;
	json_t *j = NULL;
	int r;

	if ((r = store_txn_begin(h->d->node->st, 1, &t)) < 0 ||
	    (r = scopemap_load(t, &map)) < 0)
		goto out;
	if ((r = record_view_load(t, coll, id, &v)) < 0)
		goto out;
	r = http__record_json(h, t, map, tok, coll, id, &v, &j);
	record_view_close(&v);
	if (r < 0)
		goto out;
	*ret_open = (int)(json_array_size(json_object_get(j, "conflicts")) +
			  json_array_size(json_object_get(j, "duplicates")));
	if (ret) {
		*ret = j;
		j = NULL;
	}
out:
	json_decref(j);
	scopemap_free(map);
	store_txn_abort(t);
	return r;
}

/*
 * A resolve's "heads": the record's heads it was made from, as GET
 * gives them (64 hex digits each), at most RECORD_MAX_SEEN_HEADS; into
 * out (room for that many) when it is not NULL. -1 with why set when
 * they are not that; else their number.
 */
static long heads_fault(json_t *v, char *why, size_t wl)
{
	uint8_t id[ENTRY_ID_LEN];
	size_t i, got;
	json_t *e;

	if (!json_is_array(v) || json_array_size(v) > RECORD_MAX_SEEN_HEADS) {
		snprintf(why, wl,
			 "\"heads\" must be an array of at most %d entry ids, the record's \"heads\" as GET gave them",
			 RECORD_MAX_SEEN_HEADS);
		return -1;
	}
	if (json_array_size(v) == 0) {
		snprintf(why, wl,
			 "\"heads\" is empty: give the record's \"heads\" as GET gave them, or leave \"heads\" out");
		return -1;
	}
	json_array_foreach(v, i, e) {
		const char *x = json_string_value(e);
		if (!x || json_string_length(e) != 2 * ENTRY_ID_LEN ||
		    sodium_hex2bin(id, sizeof(id), x, 2 * ENTRY_ID_LEN, NULL,
				   &got, NULL) != 0 ||
		    got != ENTRY_ID_LEN) {
			snprintf(why, wl,
				 "\"heads\"[%zu] is not an entry id: 64 hex digits, as in the record's \"heads\"",
				 i);
			return -1;
		}
		for (size_t j = 0; j < i; j++)
			if (strcasecmp(json_string_value(json_array_get(v, j)),
				   x) == 0) {
				snprintf(why, wl,
					 "\"heads\"[%zu] is \"heads\"[%zu] again: name each head once",
					 i, j);
				return -1;
			}
	}
	return (long)json_array_size(v);
}

/* The ids of "heads" (checked by heads_fault()) into out. */
static size_t heads_take(json_t *v, uint8_t (*out)[ENTRY_ID_LEN])
{
	size_t i, got;
	json_t *e;

	json_array_foreach(v, i, e)
		sodium_hex2bin(out[i], ENTRY_ID_LEN, json_string_value(e),
			       2 * ENTRY_ID_LEN, NULL, &got, NULL);
	return json_array_size(v);
}

/*
 * What is wrong with a resolve's body j, named as a PUT's faults are
 * (docs/api.md), into why: -1, or 0 when nothing is.
 */
static int resolve_body_fault(json_t *j, char *why, size_t wl)
{
	const char *k;
	json_t *v;
	char *val;

	if (!json_is_object(j)) {
		snprintf(why, wl,
			 "the body is a JSON object: {\"fields\": {...}} (values to keep, and \"same_person\": true when a person_id conflict was checked to be one person), {\"delete\": true}, or empty");
		return -1;
	}
	json_object_foreach(j, k, v) {
		int flag = strcmp(k, "delete") == 0 ||
			   strcmp(k, "same_person") == 0;
		if (strcmp(k, "heads") == 0) {
			if (heads_fault(v, why, wl) < 0)
				return -1;
			continue;
		}
		if (!flag && strcmp(k, "fields") != 0) {
			snprintf(why, wl,
				 "unknown key \"%.64s\" in the body: it takes fields, delete, same_person and heads",
				 k);
			return -1;
		}
		if (flag ? json_is_boolean(v) : json_is_object(v))
			continue;
		val = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		if (flag)
			snprintf(why, wl, "\"%s\" must be true or false, not %.64s",
				 k, val ? val : "that");
		else
			snprintf(why, wl,
				 "\"fields\" must be an object of the values to keep, like {\"fields\": {\"phone\": \"0912345678\"}}, not %.64s",
				 val ? val : "that");
		free(val);
		return -1;
	}
	if (json_object_get(j, "fields") &&
	    json_is_true(json_object_get(j, "delete"))) {
		snprintf(why, wl,
			 "give \"fields\" (to keep the record with those values) or \"delete\": true, not both");
		return -1;
	}
	return 0;
}

/* 1 when a feed of the node's own waits for its entries (a store
 * restored or replaced), the first in *lag. */
static int node_restoring(struct http *h, struct node_feed_lag *lag)
{
	size_t n = 0;
	return node_feeds_behind(h->d->node, lag, 1, &n) == 0 && n > 0;
}

/*
 * POST .../resolve: the body {"fields": {...}} or {"delete": true} (or
 * nothing: keep the values shown now), made into the resolution's body in
 * c as `hamlet conflicts resolve` makes it; *kind becomes the entry's
 * kind. MHD_YES with c->done set when an answer was sent here (an error,
 * or nothing to resolve).
 */
static enum MHD_Result resolve_prepare(struct http *h,
				       struct MHD_Connection *conn,
				       const struct token *tok,
				       const struct schema *s, const char *id,
				       const struct req *rq, struct call *c,
				       int *kind)
{
	json_t *j = NULL, *fields, *del, *same;
	uint8_t *over = NULL;
	size_t over_len = 0;
	struct mp_doc od;
	int have_od = 0, r, isdel;
	struct store_txn *t = NULL;
	struct node_feed_lag lagv, *lag = &lagv;
	char why[600];
	enum MHD_Result ok = MHD_YES;

	c->done = 1; /* an answer is sent here unless cleared below */
	if (!(j = http__body_json(rq->body, rq->len, 1, why, sizeof(why)))) {
		ok = send_err(h, conn, MHD_HTTP_BAD_REQUEST, "malformed_json",
			      "%s", why);
		goto out;
	}
	fields = json_object_get(j, "fields");
	del = json_object_get(j, "delete");
	same = json_object_get(j, "same_person");
	isdel = json_is_true(del);
	if (resolve_body_fault(j, why, sizeof(why)) < 0) {
		ok = send_err(h, conn, MHD_HTTP_BAD_REQUEST, "schema", "%s",
			      why);
		goto out;
	}
	if (fields) {
		/* values as an operator types them, as hamlet conflicts
		 * resolve reads them ("nữ", dd/mm/yyyy) */
		if ((r = import_map_fields(s, fields, why, sizeof(why), NULL,
					   0)) < 0 ||
		    (r = record_json_body(s, fields, NULL, &over, &over_len, why,
					  sizeof(why))) < 0) {
			ok = send_err(h, conn, MHD_HTTP_BAD_REQUEST, "schema",
				      "%s", why);
			goto out;
		}
		if ((r = mp_doc_parse(&od, over, over_len,
				      SCHEMA_MAX_FIELDS + SCHEMA_MAX_MAP)) < 0) {
			ok = http__send_fault(h, conn, r, "cannot read the fields");
			goto out;
		}
		have_od = 1;
	}
	if (!(c->heads = malloc(RECORD_MAX_SEEN_HEADS * sizeof(*c->heads)))) {
		ok = MHD_NO;
		goto out;
	}
	if ((r = store_txn_begin(h->d->node->st, 1, &t)) >= 0)
		r = record_resolution(t, s, id, isdel, json_is_true(same),
				      have_od ? od.root : NULL, &c->body,
				      &c->op.body_len, c->heads, &c->op.nheads,
				      why, sizeof(why));
	/* the heads it is made from: those the client read (and made its
	 * choice from), else those its body was made from; it settles them
	 * or nothing */
	if (r == 0 && json_object_get(j, "heads"))
		c->op.nheads = heads_take(json_object_get(j, "heads"),
					  c->heads);
	if (r == 0 && c->op.nheads)
		c->op.heads = (const uint8_t(*)[ENTRY_ID_LEN])c->heads;
	store_txn_abort(t);
	if ((r >= 0 || r == HAMLET_EDUP) && tok->scope[0]) {
		/* a duplicate the token may not read is none of its business:
		 * a record whose only open item is one has nothing to resolve,
		 * as a record without duplicates */
		int open_;
		int sr = seen_record(h, tok, s->name, id, NULL, &open_);
		if (sr < 0)
			r = sr;
		else if (open_ == 0)
			r = 1;
	}
	if (r == 1)
		ok = send_err(h, conn, MHD_HTTP_CONFLICT, "no_conflict",
			      "%s/%s has no open conflict: nothing to resolve (to change a field, PUT it)",
			      s->name, id);
	else if (r == HAMLET_ENOTFOUND && node_restoring(h, lag))
		/* the record may be one the restored store lost: not
		 * found is not final yet (as for a write) */
		ok = http__send_err_retry(h, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
					  HTTP_RESTORING_RETRY_S, "restoring",
					  "cannot resolve %s/%s: this node signed up to seq %llu in its feed %s before its store was restored or replaced, and the store holds up to seq %llu: the record may be among the entries its peers send back; try again then",
					  s->name, id,
					  (unsigned long long)lag->signed_seq,
					  lag->scope,
					  (unsigned long long)lag->stored);
	else if (r == HAMLET_ENOTFOUND)
		ok = send_err(h, conn, MHD_HTTP_NOT_FOUND, "record_not_found",
			      "record %s/%s not found", s->name, id);
	else if (r == HAMLET_EDUP)
		ok = send_err(h, conn, MHD_HTTP_CONFLICT, "duplicate", "%s", why);
	else if (r == HAMLET_ETWOPEOPLE)
		ok = send_err(h, conn, MHD_HTTP_CONFLICT, "two_people",
			      "%s (here: \"same_person\": true)", why);
	else if (r == HAMLET_ESCHEMA)
		ok = send_err(h, conn, MHD_HTTP_BAD_REQUEST, "schema",
			      "%s in \"fields\", or resolve with {\"delete\": true}",
			      why);
	else if (r < 0)
		ok = http__send_fault(h, conn, r, "cannot read the record");
	else {
		c->done = 0;
		*kind = isdel ? ENTRY_DELETE : ENTRY_PUT;
	}
out:
	if (have_od)
		mp_doc_close(&od);
	free(over);
	json_decref(j);
	return ok;
}

/* What `hamlet conflicts resolve --json` prints: the entry, what is still
 * open, and the record. */
static enum MHD_Result resolve_answer(struct http *h,
				      struct MHD_Connection *conn,
				      const struct token *tok, struct call *c)
{
	json_t *o, *rec = NULL;
	char hex[65], why[4400], fault[4600];
	int r, open_ = 0;

	if (c->r < 0)
		return write_answer(h, conn, c);
	if ((r = seen_record(h, tok, c->coll, c->id, &rec, &open_)) < 0)
		return http__send_fault(h, conn, r, "resolved, but cannot read the record");
	sodium_bin2hex(hex, sizeof(hex), c->out.id, 32);
	o = json_pack("{s:s, s:s, s:s, s:I, s:i}", "collection", c->coll, "id",
		      c->id, "entry", hex, "seq", (json_int_t)c->out.seq, "open",
		      open_);
	if (!o) {
		json_decref(rec);
		return MHD_NO;
	}
	/* the answer shows the record: a read, logged as a GET is. One
	 * that cannot be logged is not shown, but the resolve is stored:
	 * still 200, so that a script does not send it again (docs/api.md) */
	if ((r = http__log_read(h, tok, "http resolve", c->coll, c->id, NULL, 1,
				why, sizeof(why))) < 0) {
		json_decref(rec);
		rec = json_null();
		snprintf(fault, sizeof(fault),
			 "resolved (entry stored), but the record is not shown: %s; a read of health data that cannot be logged is not done, so GET it once the access log is fixed",
			 why);
		utf8_scrub(fault); /* a path cut short */
		json_object_set_new(o, "access_log_error", json_string(fault));
	}
	json_object_set_new(o, "record", rec);
	return http__send_json(h, conn, MHD_HTTP_OK, o);
}

/* Where a new record of tok goes without ?scope=: the node's own scope,
 * unless the token's lies outside it (a token of one village on a
 * commune's node): then the token's. */
static const char *new_scope(const struct http *h, const struct token *tok)
{
	const char *own = h->d->node->scope;
	return tok->scope[0] && !entry_scope_under(own, tok->scope) ? tok->scope
								     : own;
}

/* PUT (kind ENTRY_PUT, body the fields) or DELETE of coll/id. */
enum MHD_Result http__put_or_delete(struct http *h,
				     struct MHD_Connection *conn,
				     const struct token *tok,
				     const struct schema *s, const char *id,
				     int kind, const struct req *rq,
				     int resolve)
{
	const char *given = http__arg(conn, "scope");
	char scope[ENTRY_MAX_SCOPE + 1], cur[ENTRY_MAX_SCOPE + 1], why[512];
	struct scopemap *map = NULL;
	struct call *c;
	json_t *j = NULL;
	enum MHD_Result ok;
	int exists, nowhere, r;

	if (tok->role != TOKEN_WRITE)
		return send_err(h, conn, MHD_HTTP_FORBIDDEN, "role",
				"token \"%s\" is a read token; writing needs a write token",
				tok->name);
	if (given && entry_scope_check(given) < 0)
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_scope",
				"scope \"%.128s\" is not a valid scope: %s",
				given, scope_fault(given));
	if (!(c = calloc(1, sizeof(*c))))
		return MHD_NO;
	c->kind = CALL_WRITE;
	snprintf(c->coll, sizeof(c->coll), "%s", s->name);
	snprintf(c->id, sizeof(c->id), "%s", id);
	if (kind == ENTRY_PUT && !resolve) {
		if (!(j = http__body_json(rq->body, rq->len, 0, why,
					  sizeof(why)))) {
			ok = send_err(h, conn, MHD_HTTP_BAD_REQUEST,
				      "malformed_json", "%s", why);
			goto out;
		}
		if (json_is_object(j) && json_object_size(j) == 0) {
			ok = send_err(h, conn, MHD_HTTP_BAD_REQUEST, "no_field",
				      "no field given: name at least one, like {\"phone\":\"0912345678\"}");
			goto out;
		}
		/* as hamlet put reads them ("nữ", dd/mm/yyyy) */
		if ((r = import_map_fields(s, j, why, sizeof(why), NULL, 0)) <
			    0 ||
		    (r = record_json_body(s, j, NULL, &c->body, &c->op.body_len,
					  why, sizeof(why))) < 0) {
			ok = send_err(h, conn, MHD_HTTP_BAD_REQUEST, "schema",
				      "%s", why);
			goto out;
		}
	}
	/* a new record goes where ?scope says, else in a scoped token's
	 * scope, else in the node's own */
	if ((r = write_scope(h, s->name, id, given, new_scope(h, tok), scope,
			     cur, &map, &exists, &nowhere)) < 0) {
		ok = http__send_fault(h, conn, r, "cannot read the store");
		goto out;
	}
	/* a record outside the token's scope stays out of its reach, even
	 * when the write would move it into that scope */
	if (tok->scope[0] &&
	    (nowhere || (cur[0] && !scopemap_reads(map, cur, tok->scope))) &&
	    (kind == ENTRY_DELETE || resolve)) {
		/* hidden, as from its reads: what is there is not the
		 * token's to learn */
		ok = send_err(h, conn, MHD_HTTP_NOT_FOUND, "record_not_found",
			      resolve ? "record %s/%s not found"
				      : "record %s/%s not found (or already deleted)",
			      s->name, id);
		goto out;
	}
	if (tok->scope[0] &&
	    (nowhere || (cur[0] && !scopemap_reads(map, cur, tok->scope)))) {
		/* not where it is: that is not the token's to learn; that
		 * the id is taken it learns, as ids are one per collection */
		ok = send_err(h, conn, MHD_HTTP_FORBIDDEN, "scope",
			      "token \"%s\" covers scope %s; %s/%s lies outside it",
			      tok->name, tok->scope, s->name, id);
		goto out;
	}
	if (tok->scope[0] && !scopemap_reads(map, scope, tok->scope)) {
		ok = send_err(h, conn, MHD_HTTP_FORBIDDEN, "scope",
			      "token \"%s\" covers scope %s; %s/%s would be written in scope %s",
			      tok->name, tok->scope, s->name, id, scope);
		goto out;
	}
	/* (a deletion of a record not here is the writer's to refuse: the
	 * record may be one a restored store lost, and the node restoring
	 * answers 503 restoring then, as for any write; write_answer()) */
	(void)exists;
	if (resolve &&
	    ((ok = resolve_prepare(h, conn, tok, s, id, rq, c, &kind)) != MHD_YES ||
	     c->done))
		goto out;
	if (given)
		snprintf(c->scope, sizeof(c->scope), "%s", given);
	else if (!cur[0] && !nowhere && tok->scope[0])
		/* a new record of a scoped token: see new_scope() */
		snprintf(c->scope, sizeof(c->scope), "%s", new_scope(h, tok));
	else if (tok->scope[0] && kind == ENTRY_PUT && !resolve && cur[0] &&
		 !scopemap_under(map, cur, h->d->node->scope))
		/* a change of a record outside the node's own scope: left to
		 * the writer, it would be signed in the node's scope, out of
		 * the token's reach; it stays in the record's, where the
		 * token was held to. A delete and a resolution are left to
		 * the writer, which writes them in every scope the record
		 * was written in */
		snprintf(c->scope, sizeof(c->scope), "%s", cur);
	c->op.kind = kind;
	c->op.collection = c->coll;
	c->op.record_id = c->id;
	c->op.scope = c->scope[0] ? c->scope : NULL;
	c->op.body = c->body;
	c->op.resolve = resolve;
	if ((r = http__call_run(h, c)) < 0) {
		ok = http__send_fault(h, conn, r, "cannot save the record");
		if (r == -ECANCELED)
			c = NULL; /* the loop frees it */
		goto out;
	}
	ok = resolve ? resolve_answer(h, conn, tok, c)
		     : write_answer(h, conn, c);
out:
	json_decref(j);
	scopemap_free(map);
	http__call_free(c);
	return ok;
}

/*
 * A page's "next" when the last record the page looked at is one the
 * token may not read: its key sealed (secretbox, under a key derived from
 * the node's own), so that the token learns neither the id nor its
 * length (docs/api.md, "Scopes"). The sealed text is the page's kind
 * ('L' a list, 'C' conflicts), then COLLECTION/ID, zero-padded to
 * CURSOR_PLAIN bytes; "~" and URL-safe base64 of nonce || box, and no
 * record id holds "~". after takes it back on a page of the same kind
 * (a list: of the same collection) only, and an error never quotes what
 * it seals.
 */
#define CURSOR_PLAIN (1 + ENTRY_MAX_COLLECTION + 1 + ENTRY_MAX_RECORD_ID + 1)
#define CURSOR_TEXT                                                          \
	(2 + sodium_base64_ENCODED_LEN(crypto_secretbox_NONCEBYTES +          \
					       crypto_secretbox_MACBYTES +    \
					       CURSOR_PLAIN,                  \
				       sodium_base64_VARIANT_URLSAFE_NO_PADDING))

static void cursor_key(const struct http *h, uint8_t key[32])
{
	static const char ctx[] = "hamlet http page cursor v1";
	crypto_generichash(key, 32, (const uint8_t *)ctx, sizeof(ctx) - 1,
			   h->d->node->sk, 32);
}

static void cursor_seal(const struct http *h, char kind, const char *coll,
			const char *id, char out[CURSOR_TEXT])
{
	uint8_t key[32], plain[CURSOR_PLAIN] = { 0 },
			 buf[crypto_secretbox_NONCEBYTES +
			     crypto_secretbox_MACBYTES + CURSOR_PLAIN];

	/* id NULL: coll is COLLECTION/ID already (conflicts' keys) */
	snprintf((char *)plain, sizeof(plain), "%c%s%s%s", kind, coll,
		 id ? "/" : "", id ? id : "");
	cursor_key(h, key);
	randombytes_buf(buf, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(buf + crypto_secretbox_NONCEBYTES, plain,
			      sizeof(plain), buf, key);
	out[0] = '~';
	sodium_bin2base64(out + 1, CURSOR_TEXT - 1, buf, sizeof(buf),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(plain, sizeof(plain));
}

/* after given as "~…": the COLLECTION/ID it seals, into out (of
 * CURSOR_PLAIN bytes), when it is a cursor of kind this node made; else
 * -1. */
static int cursor_open(const struct http *h, const char *text, char kind,
		       char out[CURSOR_PLAIN])
{
	uint8_t key[32], plain[CURSOR_PLAIN],
		buf[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES +
		    CURSOR_PLAIN];
	size_t n = 0;
	int r;

	if (text[0] != '~' ||
	    sodium_base642bin(buf, sizeof(buf), text + 1, strlen(text + 1),
			      NULL, &n, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != sizeof(buf))
		return -1;
	cursor_key(h, key);
	r = crypto_secretbox_open_easy(plain, buf + crypto_secretbox_NONCEBYTES,
				       n - crypto_secretbox_NONCEBYTES, buf,
				       key);
	sodium_memzero(key, sizeof(key));
	if (r != 0 || plain[0] != (uint8_t)kind ||
	    !memchr(plain, 0, sizeof(plain)))
		return -1;
	snprintf(out, CURSOR_PLAIN, "%s", (const char *)plain + 1);
	return 0;
}

/* GET /v1/records/COLL?scope=&limit=&after= */
enum MHD_Result http__list_records(struct http *h, struct MHD_Connection *conn,
				    const struct token *tok,
				    const struct schema *s)
{
	const char *qscope = http__arg(conn, "scope"), *after = http__arg(conn, "after");
	char opened[CURSOR_PLAIN], next[CURSOR_TEXT];
	uint8_t key[RECORD_KEY_MAX + 2];
	size_t kl, plen, scanned = 0;
	struct store_txn *t = NULL;
	struct store_cursor *cur = NULL;
	struct scopemap *map = NULL;
	const void *k, *val;
	size_t klen, vl;
	uint64_t limit;
	json_t *arr = json_array(), *o;
	char last[ENTRY_MAX_RECORD_ID + 1] = "", why[4400], query[300];
	int more = 0, shown = 0, r; /* shown: last is on the page */
	size_t bytes = 0; /* the JSON of the records in arr */
	enum MHD_Result ok;

	if (http__arg_u64(conn, "limit", HTTP_DEFAULT_LIMIT, HTTP_MAX_LIMIT, &limit) < 0 ||
	    limit == 0) {
		json_decref(arr);
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_limit",
				"limit \"%.32s\" is not a number 1..%d",
				http__arg(conn, "limit") ? http__arg(conn, "limit") : "",
				HTTP_MAX_LIMIT);
	}
	if (qscope && entry_scope_check(qscope) < 0) {
		json_decref(arr);
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_scope",
				"scope \"%.128s\" is not a valid scope: %s",
				qscope, scope_fault(qscope));
	}
	if (after && after[0] == '~') {
		size_t cl = strlen(s->name);
		if (cursor_open(h, after, 'L', opened) < 0 ||
		    strncmp(opened, s->name, cl) != 0 || opened[cl] != '/' ||
		    entry_record_id_check(opened + cl + 1) < 0) {
			json_decref(arr);
			return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_after",
					"after \"%.16s…\" is not the next of a page of %s this node gave (damaged, another node's, or of another list): list again without after",
					after, s->name);
		}
		after = opened + cl + 1;
	} else if (after && entry_record_id_check(after) < 0) {
		json_decref(arr);
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_after",
				"after \"%.64s\" is not a record id", after);
	}
	kl = record_key(s->name, after ? after : "", key);
	plen = strlen(s->name) + 1;
	if ((r = store_txn_begin(h->d->node->st, 1, &t)) < 0 ||
	    (r = scopemap_load(t, &map)) < 0 ||
	    (r = store_cursor_open(t, ST_RECORDS, &cur)) < 0)
		goto fault;
	for (r = store_cursor_seek(cur, key, after ? kl : plen, &k, &klen, &val,
				   &vl);
	     r > 0; r = store_cursor_next(cur, &k, &klen, &val, &vl)) {
		char id[ENTRY_MAX_RECORD_ID + 1], w[ENTRY_MAX_SCOPE + 1];
		struct record_view v;
		size_t il;
		if (klen < plen || memcmp(k, key, plen) != 0)
			break;
		il = klen - plen;
		if (il == 0 || il > ENTRY_MAX_RECORD_ID)
			continue;
		memcpy(id, (const char *)k + plen, il);
		id[il] = 0;
		if (after && strcmp(id, after) == 0)
			continue;
		if (json_array_size(arr) >= limit ||
		    bytes >= HTTP_MAX_PAGE_BYTES ||
		    ++scanned > 10 * HTTP_MAX_LIMIT) {
			more = 1;
			break;
		}
		snprintf(last, sizeof(last), "%s", id);
		shown = 0;
		if ((r = record_view_load(t, s->name, id, &v)) < 0) {
			if (r == HAMLET_ENOTFOUND)
				continue;
			goto fault;
		}
		r = http__may_see(h, t, map, tok, &v, w);
		if (r > 0 && qscope && !(w[0] && scopemap_under(map, w, qscope)))
			r = 0;
		if (r > 0 &&
		    (r = http__record_json(h, t, map, tok, s->name, id, &v, &o)) >= 0) {
			bytes += json_dumpb(o, NULL, 0, JSON_COMPACT);
			json_array_append_new(arr, o);
			shown = 1;
		}
		record_view_close(&v);
		if (r < 0)
			goto fault;
	}
	if (r < 0)
		goto fault;
	snprintf(query, sizeof(query), "scope=%s after=%s limit=%llu",
		 qscope ? qscope : "", after ? after : "",
		 (unsigned long long)limit);
	if ((r = http__log_read(h, tok, "http list", s->name, NULL, query,
			  json_array_size(arr), why, sizeof(why))) < 0) {
		ok = send_err(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
			      "access_log",
			      "%s; a read of health data that cannot be logged is not done",
			      why);
		json_decref(arr);
		goto out;
	}
	o = json_object();
	json_object_set_new(o, "records", arr);
	if (more && last[0] && !shown)
		cursor_seal(h, 'L', s->name, last, next);
	json_object_set_new(o, "next", !more || !last[0] ? json_null()
				       : json_string(shown ? last : next));
	ok = http__send_json(h, conn, MHD_HTTP_OK, o);
	goto out;
fault:
	json_decref(arr);
	ok = http__send_fault(h, conn, r, "cannot read the records");
out:
	store_cursor_close(cur);
	scopemap_free(map);
	store_txn_abort(t);
	return ok;
}

struct conflicts_ctx {
	struct http *h;
	struct store_txn *t;
	const struct scopemap *map;
	const struct token *tok;
	json_t *arr;
	struct health_count health;
	/* a page: the records after `after` (collection/id; "" from the
	 * first), at most limit of them and HTTP_MAX_PAGE_BYTES of JSON;
	 * last, the key of the last record looked at, and more when the
	 * page stopped before the end */
	const char *after;
	uint64_t limit;
	size_t bytes, scanned;
	char last[ENTRY_MAX_COLLECTION + ENTRY_MAX_RECORD_ID + 2];
	int more, shown; /* shown: last is on the page */
};

static int conflict_one(void *ctx, const char *coll, const char *id)
{
	struct conflicts_ctx *c = ctx;
	struct record_view v;
	char w[ENTRY_MAX_SCOPE + 1], key[sizeof(c->last)];
	json_t *o;
	int r;

	/* in key order (record_conflicted_each), as `after` names them */
	snprintf(key, sizeof(key), "%s/%s", coll, id);
	if (c->after[0] && strcmp(key, c->after) <= 0)
		return 0;
	if (json_array_size(c->arr) >= c->limit ||
	    c->bytes >= HTTP_MAX_PAGE_BYTES ||
	    ++c->scanned > 10 * HTTP_MAX_LIMIT) {
		c->more = 1;
		return 1;
	}
	memcpy(c->last, key, sizeof(key));
	c->shown = 0;
	if ((r = record_view_load(c->t, coll, id, &v)) < 0)
		return r == HAMLET_ENOTFOUND ? 0 : r;
	r = http__may_see(c->h, c->t, c->map, c->tok, &v, w);
	if (r > 0 && (r = http__record_json(c->h, c->t, c->map, c->tok, coll, id, &v,
					    &o)) >= 0) {
		/* a record whose only problem is a duplicate the token may
		 * not see is no problem of the token's */
		if (!json_array_size(json_object_get(o, "conflicts")) &&
		    !json_array_size(json_object_get(o, "duplicates"))) {
			json_decref(o);
		} else {
			c->bytes += json_dumpb(o, NULL, 0, JSON_COMPACT);
			json_array_append_new(c->arr, o);
			http__health_note(&c->health, coll);
			c->shown = 1;
		}
	}
	record_view_close(&v);
	return r < 0 ? r : 0;
}

enum MHD_Result http__get_conflicts(struct http *h,
				     struct MHD_Connection *conn,
				     const struct token *tok)
{
	struct conflicts_ctx cc = { .h = h, .tok = tok };
	const char *after = http__arg(conn, "after"), *given = after, *slash;
	struct scopemap *map = NULL;
	char why[4400], opened[CURSOR_PLAIN], next[CURSOR_TEXT];
	enum MHD_Result ok;
	int r;

	if (http__arg_u64(conn, "limit", HTTP_MAX_LIMIT, HTTP_MAX_LIMIT,
			  &cc.limit) < 0 ||
	    cc.limit == 0)
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_limit",
				"limit \"%.32s\" is not a number 1..%d",
				http__arg(conn, "limit") ? http__arg(conn, "limit") : "",
				HTTP_MAX_LIMIT);
	/* after: COLLECTION/ID, or a sealed one, as a page's "next" gives it */
	if (after && after[0] == '~') {
		if (cursor_open(h, after, 'C', opened) < 0)
			return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_after",
					"after \"%.16s…\" is not the next of a page of conflicts this node gave (damaged, another node's, or of a list): list again without after",
					after);
		after = opened;
	}
	if (after && (!(slash = strchr(after, '/')) ||
		      (size_t)(slash - after) > ENTRY_MAX_COLLECTION ||
		      entry_record_id_check(slash + 1) < 0))
		return send_err(h, conn, MHD_HTTP_BAD_REQUEST, "bad_after",
				"after \"%.100s\" is not COLLECTION/ID, as a page's \"next\" gives it",
				given);
	if (after) {
		/* a collection no page names: a mistyped or damaged cursor,
		 * which would read as the end, or as the first page again */
		char coll[ENTRY_MAX_COLLECTION + 1];
		memcpy(coll, after, (size_t)(slash - after));
		coll[slash - after] = 0;
		if (!schema_find(coll))
			return send_err(h, conn, MHD_HTTP_BAD_REQUEST,
					"bad_after",
					"after \"%.100s\" names no collection this node knows: give it as a page's \"next\" gives it",
					given);
	}
	cc.after = after ? after : "";
	if (!(cc.arr = json_array()))
		return http__send_fault(h, conn, -ENOMEM,
					"cannot read the conflicts");
	if ((r = store_txn_begin(h->d->node->st, 1, &cc.t)) >= 0 &&
	    (r = scopemap_load(cc.t, &map)) >= 0) {
		cc.map = map;
		r = record_conflicted_each(cc.t, conflict_one, &cc);
	}
	if (r < 0) {
		ok = http__send_fault(h, conn, r, "cannot read the conflicts");
		json_decref(cc.arr);
	} else if ((r = http__log_reads(h, tok, "http conflicts", "conflicts",
				  &cc.health, why, sizeof(why))) < 0) {
		ok = send_err(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
			      "access_log",
			      "%s; a read of health data that cannot be logged is not done",
			      why);
		json_decref(cc.arr);
	} else {
		/* as hamlet conflicts --json, a page at a time: count is
		 * this page's, next what to pass as after for the next
		 * (sealed when the token may not see that record) */
		if (cc.more && cc.last[0] && !cc.shown)
			cursor_seal(h, 'C', cc.last, NULL, next);
		ok = http__send_json(
			h, conn, MHD_HTTP_OK,
			json_pack("{s:I, s:o, s:o}", "count",
				  (json_int_t)json_array_size(cc.arr),
				  "records", cc.arr, "next",
				  !cc.more || !cc.last[0] ? json_null()
				  : json_string(cc.shown ? cc.last : next)));
	}
	scopemap_free(map);
	store_txn_abort(cc.t);
	return ok;
}

