/*
 * record_json: records and their fields as JSON, both ways. The CLI's
 * --json output and hamletd's HTTP API give the same shapes through here,
 * and a JSON object of fields becomes a put body by the same rules for
 * `hamlet put` and an HTTP PUT.
 */
#include "record_json.h"
#include "why.h"

#include "error.h"
#include "hlc.h"
#include "log.h"
#include "names.h"
#include "mp.h"
#include "scopemap.h"
#include "textnorm.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* n bytes as a JSON string of hex digits; NULL when out of memory. */
static json_t *hex_json(const void *p, size_t n)
{
	char *h = malloc(2 * n + 1);
	json_t *j;
	if (!h)
		return NULL;
	sodium_bin2hex(h, 2 * n + 1, p, n);
	j = json_string(h);
	free(h);
	return j;
}

/* A map key that is not text, as text: integers in decimal. */
static char *key_text(const msgpack_object *k)
{
	char b[32];
	if (k->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		snprintf(b, sizeof(b), "%llu", (unsigned long long)k->via.u64);
	else if (k->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		snprintf(b, sizeof(b), "%lld", (long long)k->via.i64);
	else
		snprintf(b, sizeof(b), "?");
	return strdup(b);
}

static const char *type_words(enum field_type t)
{
	switch (t) {
	case FT_INT:
		return why_translate(N_("a whole number"));
	case FT_MAP:
		return why_translate(
			N_("an object of text values, like {\"note\":\"...\"}"));
	case FT_DATE:
		return why_translate(N_("text, a date like \"2026-03-01\""));
	case FT_MONTH:
		return why_translate(N_("text, a month like \"2026-03\""));
	default:
		return why_translate(N_("text"));
	}
}

static void field_list(const struct schema *s, char *out, size_t n)
{
	out[0] = 0;
	for (size_t i = 0; i < s->nfields; i++) {
		if (i)
			strncat(out, ", ", n - strlen(out) - 1);
		strncat(out, s->fields[i].name, n - strlen(out) - 1);
	}
}

/* An object given for a map field: text values only. */
static int pack_map_value(msgpack_packer *pk, const char *key, json_t *val,
			  char *why, size_t whylen)
{
	const char *k2;
	json_t *v2;

	msgpack_pack_map(pk, json_object_size(val));
	json_object_foreach(val, k2, v2)
	{
		if (!json_is_string(v2)) {
			why_set(why, whylen,
				 N_("%s.%.64s: must be text; numbers, true/false, lists and objects are not allowed inside %s"),
				 key, k2, key);
			return HAMLET_ESCHEMA;
		}
		mp_pack_str(pk, k2);
		mp_pack_strn(pk, json_string_value(v2), json_string_length(v2));
	}
	return 0;
}

/*
 * Pack the value given for field f as its type wants it. A value of the
 * wrong kind is refused with a sentence on how to write it, since a person
 * typed it.
 */
static int pack_field_value(msgpack_packer *pk, const struct schema_field *f,
			    const char *key, json_t *val, char *why,
			    size_t whylen)
{
	switch (json_typeof(val)) {
	case JSON_NULL:
		msgpack_pack_nil(pk);
		return 0;
	case JSON_STRING:
		if (f->type == FT_INT) {
			const char *t = json_string_value(val);
			if (t[0] && strspn(t, "0123456789") == strlen(t))
				/* digits alone, in quotes */
				why_set(why, whylen,
					 N_("%s: must be a whole number, written without quotes (like 1500000)"),
					 key);
			else
				why_set(why, whylen,
					 N_("%s: \"%.40s\" is not a whole number: write it like 1500000 (or \"1.500.000\", as a spreadsheet shows it), without decimals"),
					 key, t);
			return HAMLET_ESCHEMA;
		}
		if (f->type == FT_MAP) {
			why_set(why, whylen, N_("%s: must be %s"), key,
				 type_words(f->type));
			return HAMLET_ESCHEMA;
		}
		mp_pack_strn(pk, json_string_value(val),
			     json_string_length(val));
		return 0;
	case JSON_INTEGER:
		if (f->type != FT_INT) {
			char num[40];
			json_int_t iv = json_integer_value(val);
			/* the number as it was meant: a number has no leading
			 * zeros, so an ID of fixed length gets them back, and a
			 * phone number its leading 0 */
			int pad = f->digits > 0 && iv >= 0 ? f->digits : 0;
			if (iv >= 0 && strcmp(f->name, "phone") == 0)
				snprintf(num, sizeof(num),
					 "0%" JSON_INTEGER_FORMAT, iv);
			else
				snprintf(num, sizeof(num),
					 "%0*" JSON_INTEGER_FORMAT, pad, iv);
			why_set(why, whylen,
				N_("%s: must be %s; put the number in quotes (\"%s\") so that leading zeros are kept"),
				key, type_words(f->type), num);
			return HAMLET_ESCHEMA;
		}
		msgpack_pack_int64(pk, json_integer_value(val));
		return 0;
	case JSON_OBJECT:
		if (f->type != FT_MAP) {
			why_set(why, whylen, N_("%s: must be %s, not an object"),
				 key, type_words(f->type));
			return HAMLET_ESCHEMA;
		}
		return pack_map_value(pk, key, val, why, whylen);
	default:
		why_set(why, whylen,
			 N_("%s: must be %s; numbers with decimals, true/false and lists are not field values"),
			 key, type_words(f->type));
		return HAMLET_ESCHEMA;
	}
}

int record_json_body(const struct schema *s, json_t *obj, const char *skip,
		  uint8_t **ret, size_t *ret_len, char *why, size_t whylen)
{
	struct mp_writer w;
	struct mp_doc d;
	const char *key;
	json_t *val;
	size_t n = 0;
	uint8_t *body = NULL;
	size_t blen;
	int r;

	why[0] = 0;
	if (!json_is_object(obj)) {
		why_set(why, whylen,
			 N_("the fields must be a JSON object, like {\"phone\":\"0912345678\"}"));
		return HAMLET_ESCHEMA;
	}
	json_object_foreach(obj, key, val)
	{
		if (!skip || strcmp(key, skip) != 0)
			n++;
	}
	mp_writer_init(&w);
	msgpack_pack_map(&w.pk, n);
	json_object_foreach(obj, key, val)
	{
		int fi;

		if (skip && strcmp(key, skip) == 0)
			continue;
		fi = schema_field_index(s, key, strlen(key));
		if (fi < 0) {
			char list[512];
			field_list(s, list, sizeof(list));
			why_set(why, whylen,
				 N_("unknown field \"%.64s\" in %s; its fields are: %s"),
				 key, s->name, list);
			r = HAMLET_ESCHEMA;
			goto out;
		}
		/* named here: past the cap the packed body does not parse
		 * (below), and schema_check_body() never sees it */
		if (s->fields[fi].type == FT_MAP && json_is_object(val) &&
		    json_object_size(val) > SCHEMA_MAX_MAP) {
			why_set(why, whylen,
				 N_("%s.%s has %u entries; at most %d are allowed"),
				 s->name, key, (unsigned)json_object_size(val),
				 SCHEMA_MAX_MAP);
			r = HAMLET_ESCHEMA;
			goto out;
		}
		mp_pack_str(&w.pk, key);
		if ((r = pack_field_value(&w.pk, &s->fields[fi], key, val, why,
					  whylen)) < 0)
			goto out;
	}
	body = mp_writer_take(&w, &blen);
	if (!body) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = mp_doc_parse(&d, body, blen,
			      SCHEMA_MAX_FIELDS + SCHEMA_MAX_MAP)) < 0) {
		why_set(why, whylen, N_("%s has at most %zu fields of at most %d entries each"),
			 s->name, s->nfields, SCHEMA_MAX_MAP);
		r = HAMLET_ESCHEMA;
		goto out;
	}
	/* its text in NFC before the schema judges it, as a write stores
	 * it (textnorm.h): a name typed decomposed is judged by its
	 * length as stored, not as typed */
	{
		uint8_t *nb = NULL;
		size_t nl = 0;
		r = textnorm_body_nfc(d.root, &nb, &nl);
		if (r > 0) {
			mp_doc_close(&d);
			free(body);
			body = nb;
			blen = nl;
			if ((r = mp_doc_parse(&d, body, blen,
					      SCHEMA_MAX_FIELDS +
						      SCHEMA_MAX_MAP)) < 0)
				goto out;
		} else if (r < 0) {
			mp_doc_close(&d);
			goto out;
		}
	}
	r = schema_check_body(s, d.root, why, whylen);
	mp_doc_close(&d);
	if (r < 0)
		goto out;
	*ret = body;
	*ret_len = blen;
	body = NULL;
	r = 0;
out:
	free(body);
	mp_writer_destroy(&w);
	return r;
}

json_t *record_json_mp(const msgpack_object *o)
{
	json_t *j = NULL;
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		j = json_boolean(o->via.boolean);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 <= (uint64_t)INT64_MAX)
			j = json_integer((json_int_t)o->via.u64);
		else
			j = json_real((double)o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		j = json_integer((json_int_t)o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		j = json_real(o->via.f64);
		break;
	case MSGPACK_OBJECT_STR:
		j = json_stringn(o->via.str.ptr, o->via.str.size);
		if (!j) /* not UTF-8: show the bytes rather than lose them */
			j = hex_json(o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_BIN:
		j = hex_json(o->via.bin.ptr, o->via.bin.size);
		break;
	case MSGPACK_OBJECT_ARRAY:
		j = json_array();
		for (uint32_t i = 0; j && i < o->via.array.size; i++)
			json_array_append_new(
				j, record_json_mp(&o->via.array.ptr[i]));
		break;
	case MSGPACK_OBJECT_MAP:
		j = json_object();
		for (uint32_t i = 0; j && i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;
			char *ks = k->type == MSGPACK_OBJECT_STR
					   ? strndup(k->via.str.ptr,
						     k->via.str.size)
					   : key_text(k);
			if (ks)
				json_object_set_new(
					j, ks,
					record_json_mp(&o->via.map.ptr[i].val));
			free(ks);
		}
		break;
	default:
		break;
	}
	return j ? j : json_null();
}


/* record_view_two_people() of one conflict */
static int conflict_two_people(const struct schema *s,
			       const struct record_conflict *c)
{
	int key = 0;
	for (const int *u = s ? s->unique : NULL; u && *u >= 0 && !key; u++)
		key = strcmp(s->fields[*u].name, c->field) == 0 &&
		      strcmp(c->field, "person_id") == 0;
	for (size_t i = 1; key && i < c->n; i++)
		if (memcmp(c->v[i].author, c->v[0].author, 32) != 0)
			return 1;
	return 0;
}

int record_view_two_people(const struct schema *s, const struct record_view *v,
			   char *field, size_t n)
{
	const msgpack_object *cs = v->conflicts;
	for (uint32_t i = 0; i < cs->via.array.size; i++) {
		struct record_conflict c;
		int two;
		if (record_conflict_parse(&cs->via.array.ptr[i], &c) < 0)
			continue;
		two = conflict_two_people(s, &c);
		if (two)
			snprintf(field, n, "%s", c.field);
		record_conflict_free(&c);
		if (two)
			return 1;
	}
	return 0;
}

int record_conflict_parse(const msgpack_object *o, struct record_conflict *c)
{
	const msgpack_object *f, *vals;
	size_t n;

	memset(c, 0, sizeof(*c));
	if (mp_get_array(o, 3, 0, &f, NULL) < 0 ||
	    mp_get_cstr(&f[0], c->field, sizeof(c->field)) < 0 ||
	    mp_get_cstr(&f[1], c->rule, sizeof(c->rule)) < 0 ||
	    mp_get_array(&f[2], SIZE_MAX, RECORD_MAX_OPS * 2, &vals, &n) < 0)
		return HAMLET_ECORRUPT;
	c->v = calloc(n ? n : 1, sizeof(*c->v));
	if (!c->v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const msgpack_object *x;
		struct record_cval *cv = &c->v[i];
		if (mp_get_array(&vals[i], 5, 0, &x, NULL) < 0 ||
		    mp_get_bin_fixed(&x[1], 32, cv->author) < 0 ||
		    mp_get_uint(&x[2], UINT64_MAX, &cv->hlc) < 0 ||
		    mp_get_bin_fixed(&x[3], 32, cv->entry) < 0 ||
		    mp_get_cstr(&x[4], cv->kind, sizeof(cv->kind)) < 0) {
			free(c->v);
			c->v = NULL;
			return HAMLET_ECORRUPT;
		}
		cv->value = &x[0];
	}
	c->n = n;
	return 0;
}

void record_conflict_free(struct record_conflict *c)
{
	free(c->v);
	c->v = NULL;
}

static int idvec_add(void *ctx, const char *coll, const char *id)
{
	struct record_idvec *v = ctx;
	(void)coll;
	if (v->n == v->cap) {
		size_t nc = v->cap ? v->cap * 2 : 4;
		void *p = realloc(v->ids, nc * sizeof(*v->ids));
		if (!p)
			return -ENOMEM;
		v->ids = p;
		v->cap = nc;
	}
	snprintf(v->ids[v->n++], sizeof(v->ids[0]), "%s", id);
	return 0;
}

int record_duplicate_ids(struct store_txn *t, const char *coll,
				 const char *id, const struct record_view *v,
				 struct record_idvec *ret)
{
	int r;
	memset(ret, 0, sizeof(*ret));
	r = record_duplicates(t, coll, v, id, idvec_add, ret);
	if (r < 0) {
		free(ret->ids);
		ret->ids = NULL;
		ret->n = 0;
	}
	return r;
}



/* author_name, author_name_scope, author_name_source (names.h). */
static int author_json(struct store_txn *t, const uint8_t key[32],
		       json_t *obj)
{
	struct names_who w;
	int r = names_lookup(t, key, hlc_wall_ms(), &w);
	if (r == 0)
		names_json(&w, obj, "author_");
	return r;
}

json_t *record_json_erasure(const struct record_view *v)
{
	json_t *o = json_object();
	char tm[48];
	hlc_format(v->erase_hlc, tm);
	json_object_set_new(o, "entry", hex_json(v->erase_id, 32));
	json_object_set_new(o, "author", hex_json(v->erase_author, 32));
	json_object_set_new(o, "hlc", json_integer((json_int_t)v->erase_hlc));
	json_object_set_new(o, "time", json_string(tm));
	json_object_set_new(o, "reason", json_string(v->erase_reason));
	return o;
}

struct fork_find {
	struct store_txn *t;
	int found;
	struct record_fork_note *note;
};

static int op_forked(void *ctx, const struct record_op *op)
{
	struct fork_find *ff = ctx;
	uint8_t fk[32], buf[ENTRY_MAX_ENVELOPE];
	const uint8_t *env, *sig;
	size_t el;
	struct log_feed fd;
	struct entry e;

	if (ff->found)
		return 0;
	log_feed_key(op->author, op->scope, fk);
	if (log_feed_get(ff->t, fk, &fd) < 0 || !fd.forked ||
	    log_entry_at(ff->t, op->lseq, buf, &env, &el, &sig) < 0 ||
	    entry_decode(env, el, &e, NULL) < 0 || e.seq < fd.fork_seq)
		return 0;
	ff->found = 1;
	memcpy(ff->note->author, op->author, ENTRY_KEY_LEN);
	snprintf(ff->note->scope, sizeof(ff->note->scope), "%s", op->scope);
	ff->note->at = fd.fork_seq;
	return 0;
}

int record_forked(struct store_txn *t, const char *coll, const char *id,
		  struct record_fork_note *ret)
{
	struct fork_find ff = { t, 0, ret };
	int r = record_ops_each(t, coll, id, op_forked, &ff);
	return r < 0 ? r : ff.found;
}

int record_json(struct store_txn *t, const struct scopemap *map,
		const char *coll, const char *id, const struct record_view *v,
		json_t **ret)
{
	json_t *j = json_object(), *conf = json_array(), *dj = json_array(),
	       *heads = json_array();
	const msgpack_object *cs = v->conflicts;
	struct record_idvec dups = { 0 };
	char tm[48];
	int r;

	if (!j || !conf || !dj || !heads) {
		r = -ENOMEM;
		goto fail;
	}
	json_object_set_new(j, "collection", json_string(coll));
	json_object_set_new(j, "id", json_string(id));
	json_object_set_new(j, "deleted", json_boolean(v->deleted));
	json_object_set_new(j, "erased", json_boolean(v->erased));
	if (v->erased)
		json_object_set_new(j, "erasure", record_json_erasure(v));
	{
		/* the effective scope; the written one when a move applies */
		char written[ENTRY_MAX_SCOPE + 1], eff[ENTRY_MAX_SCOPE + 1];
		if ((r = scopemap_record_scope(map, t, v, written)) < 0)
			goto fail;
		r = 0; /* 1: heads of no common scope, shown without one */
		eff[0] = 0;
		if (written[0])
			scopemap_resolve(map, written, eff);
		if (written[0])
			json_object_set_new(j, "scope", json_string(eff));
		if (strcmp(written, eff) != 0)
			json_object_set_new(j, "scope_written",
					    json_string(written));
	}
	json_object_set_new(j, "fields", record_json_mp(v->fields));
	for (uint32_t i = 0; i < cs->via.array.size; i++) {
		struct record_conflict c;
		json_t *cj, *vals;
		if ((r = record_conflict_parse(&cs->via.array.ptr[i], &c)) < 0)
			goto fail;
		cj = json_object();
		vals = json_array();
		json_object_set_new(cj, "field", json_string(c.field));
		json_object_set_new(cj, "rule", json_string(c.rule));
		for (size_t k = 0; k < c.n; k++) {
			json_t *x = json_object();
			hlc_format(c.v[k].hlc, tm);
			json_object_set_new(x, "value",
					    record_json_mp(c.v[k].value));
			json_object_set_new(x, "author",
					    hex_json(c.v[k].author, 32));
			if ((r = author_json(t, c.v[k].author, x)) < 0) {
				json_decref(x);
				json_decref(vals);
				json_decref(cj);
				record_conflict_free(&c);
				goto fail;
			}
			json_object_set_new(
				x, "hlc", json_integer((json_int_t)c.v[k].hlc));
			json_object_set_new(x, "time", json_string(tm));
			json_object_set_new(x, "entry",
					    hex_json(c.v[k].entry, 32));
			json_object_set_new(x, "kind", json_string(c.v[k].kind));
			json_array_append_new(vals, x);
		}
		json_object_set_new(cj, "values", vals);
		json_array_append_new(conf, cj);
		record_conflict_free(&c);
	}
	json_object_set_new(j, "conflicts", conf);
	conf = NULL;
	if ((r = record_duplicate_ids(t, coll, id, v, &dups)) < 0)
		goto fail;
	for (size_t i = 0; i < dups.n; i++)
		json_array_append_new(dj, json_string(dups.ids[i]));
	free(dups.ids);
	json_object_set_new(j, "duplicates", dj);
	dj = NULL;
	for (uint32_t i = 0; i < v->heads->via.array.size; i++) {
		const msgpack_object *h = &v->heads->via.array.ptr[i];
		json_array_append_new(heads, record_json_mp(h));
	}
	json_object_set_new(j, "heads", heads);
	heads = NULL;
	hlc_format(v->hlc, tm);
	json_object_set_new(j, "updated", json_string(tm));
	json_object_set_new(j, "updated_hlc", json_integer((json_int_t)v->hlc));
	json_object_set_new(j, "ops", json_integer((json_int_t)v->nops));
	{
		struct record_fork_note fn;
		char a[65];
		if ((r = record_forked(t, coll, id, &fn)) < 0)
			goto fail;
		if (r) {
			sodium_bin2hex(a, sizeof(a), fn.author, 32);
			json_object_set_new(j, "forked",
					    json_pack("{s:s, s:s, s:I}", "author",
						      a, "scope", fn.scope, "seq",
						      (json_int_t)fn.at));
		} else {
			json_object_set_new(j, "forked", json_null());
		}
	}
	*ret = j;
	return 0;
fail:
	json_decref(j);
	json_decref(conf);
	json_decref(dj);
	json_decref(heads);
	return r;
}


struct once {
	record_id_cb cb;
	void *ctx;
	char last[RECORD_KEY_MAX + 2]; /* collection '/' id of the last call */
};

static int once_cb(void *ctx, const char *coll, const char *id)
{
	struct once *o = ctx;
	char key[sizeof(o->last)];

	snprintf(key, sizeof(key), "%s/%s", coll, id);
	/* the records come in key order, so a repeat follows its first */
	if (strcmp(key, o->last) == 0)
		return 0;
	memcpy(o->last, key, sizeof(key));
	return o->cb(o->ctx, coll, id);
}

int record_conflicted_each(struct store_txn *t, record_id_cb cb, void *ctx)
{
	struct once o = { .cb = cb, .ctx = ctx };
	return record_conflicts_each(t, once_cb, &o);
}


/* Every field shown now, overridden by over (may be NULL). */
static int resolution_body(const struct schema *s, const struct record_view *v,
			   const msgpack_object *over, uint8_t **ret,
			   size_t *ret_len)
{
	struct mp_writer w;
	size_t n = 0;

	for (size_t i = 0; i < s->nfields; i++)
		if (mp_map_get(over, s->fields[i].name) ||
		    record_view_field(v, s->fields[i].name))
			n++;
	mp_writer_init(&w);
	msgpack_pack_map(&w.pk, n);
	for (size_t i = 0; i < s->nfields; i++) {
		const char *name = s->fields[i].name;
		const msgpack_object *o = mp_map_get(over, name);
		if (!o)
			o = record_view_field(v, name);
		if (!o)
			continue;
		mp_pack_str(&w.pk, name);
		mp_pack_object(&w.pk, o);
	}
	*ret = mp_writer_take(&w, ret_len);
	mp_writer_destroy(&w);
	return *ret ? 0 : -ENOMEM;
}

void record_missing_required(const struct schema *s,
			     const msgpack_object *body, char *out, size_t n)
{
	out[0] = 0;
	for (size_t i = 0; i < s->nfields; i++) {
		const msgpack_object *o = mp_map_get(body, s->fields[i].name);
		if (!s->fields[i].required || (o && !mp_is_nil(o)))
			continue;
		snprintf(out + strlen(out), n - strlen(out), "%s%s",
			 out[0] ? ", " : "", s->fields[i].name);
	}
}

/* 1 when body (a map) holds the values v holds now in each field of s's
 * unique key; names gets those fields, ", "-separated. */
static int key_kept(const struct schema *s, const struct record_view *v,
		    const msgpack_object *body, char *names, size_t n)
{
	int kept = 1;

	names[0] = 0;
	for (const int *u = s->unique; u && *u >= 0; u++) {
		const char *f = s->fields[*u].name;
		const msgpack_object *a = record_view_field(v, f),
				     *b = mp_map_get(body, f);
		size_t l = strlen(names);
		if (!a || !b || !msgpack_object_equal(*a, *b))
			kept = 0;
		snprintf(names + l, n - l, "%s%s", l ? ", " : "", f);
	}
	return kept && names[0];
}

const char *record_key_correctable(const struct schema *s)
{
	const char *last = NULL;
	for (const int *u = s ? s->unique : NULL; u && *u >= 0; u++)
		if (s->fields[*u].rule != MR_IMMUTABLE)
			last = s->fields[*u].name;
	return last;
}

int record_resolution(struct store_txn *t, const struct schema *s,
		      const char *id, int del, int same_person,
		      const msgpack_object *over, uint8_t **ret_body,
		      size_t *ret_len, uint8_t (*ret_heads)[ENTRY_ID_LEN],
		      size_t *ret_nheads, char *why, size_t whylen)
{
	char two[SCHEMA_MAX_MAP_KEY + 1];
	struct record_view v;
	uint8_t *body = NULL;
	size_t body_len = 0;
	long nh;
	int nconf, ndup, r;

	why[0] = 0;
	*ret_body = NULL;
	*ret_len = 0;
	*ret_nheads = 0;
	if ((r = record_view_load(t, s->name, id, &v)) < 0)
		return r;
	nconf = (int)v.conflicts->via.array.size;
	if ((ndup = record_has_duplicate(t, s->name, &v, id)) < 0) {
		r = ndup;
		goto out;
	}
	if (nconf == 0 && ndup == 0) {
		r = 1;
		goto out;
	}
	if (!del && !same_person &&
	    record_view_two_people(s, &v, two, sizeof(two))) {
		why_set(why, whylen,
			 N_("%s/%s: two nodes wrote different %s values under this one id, most likely two different people; keeping the record would put one person's data under the other's ID. Write each person under an id of their own and delete this one, or, when you have checked that both values are one person's, resolve again with --same-person"),
			 s->name, id, two);
		r = HAMLET_ETWOPEOPLE;
		goto out;
	}
	if (nconf == 0 && !del && !over) {
		why_set(why, whylen,
			 record_key_correctable(s)
				 ? N_("%s/%s is a duplicate: there is no value to choose. Resolve it by deleting one of the records, or by correcting the key fields of one")
				 : N_("%s/%s is a duplicate: there is no value to choose. Resolve it by deleting one of the records (its key fields are set once)"),
			 s->name, id);
		r = HAMLET_EDUP;
		goto out;
	}
	if (!del) {
		struct mp_doc d;
		char missing[256], key[256];
		if ((r = resolution_body(s, &v, over, &body, &body_len)) < 0 ||
		    (r = mp_doc_parse(&d, body, body_len,
				      SCHEMA_MAX_FIELDS + SCHEMA_MAX_MAP)) < 0)
			goto out;
		/* a resolution that keeps the record must leave it whole:
		 * after an update versus a delete, the delete has cleared
		 * every field the update did not set again */
		record_missing_required(s, d.root, missing, sizeof(missing));
		if (!missing[0] && nconf == 0 &&
		    key_kept(s, &v, d.root, key, sizeof(key))) {
			/* only a duplicate is open, and its key would stay:
			 * writing it would settle nothing, and a script
			 * repeating it would write an entry each time */
			mp_doc_close(&d);
			why_set(why, whylen,
				 record_key_correctable(s)
					 ? N_("%s/%s is a duplicate, and the fields given leave its key (%s) as it is, so it would stay one: correct a key field of one of the records, or delete one")
					 : N_("%s/%s is a duplicate, and the fields given leave its key (%s) as it is, so it would stay one: delete one of the records (its key fields are set once)"),
				 s->name, id, key);
			r = HAMLET_EDUP;
			goto out;
		}
		mp_doc_close(&d);
		if (missing[0]) {
			why_set(why, whylen,
				 N_("%s/%s would lack the required %s (a delete cleared what the concurrent update did not set again); give the values"),
				 s->name, id, missing);
			r = HAMLET_ESCHEMA;
			goto out;
		}
	}
	if ((nh = record_view_heads(&v, ret_heads)) < 0) {
		r = (int)nh;
		goto out;
	}
	*ret_nheads = (size_t)nh;
	*ret_body = body;
	*ret_len = body_len;
	body = NULL;
	r = 0;
out:
	record_view_close(&v);
	free(body);
	return r;
}
