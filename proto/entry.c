#include "entry.h"

#include "error.h"
#include "mp.h"
#include "sig.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

enum {
	F_VERSION,
	F_NETWORK,
	F_AUTHOR,
	F_SCOPE,
	F_SEQ,
	F_PREV,
	F_HLC,
	F_KIND,
	F_COLLECTION,
	F_RECORD_ID,
	F_DEPS,
	F_BODY_HASH,
	F_BODY_LEN,
};

static const char *const field_names[ENTRY_FIELDS] = {
	"version",   "network_id", "author",	"scope",     "seq",
	"prev",	     "hlc",	   "kind",	"collection", "record_id",
	"deps",	     "body_hash",  "body_len",
};

const char *entry_field_name(int i)
{
	if (i < 0 || i >= ENTRY_FIELDS)
		return "envelope";
	return field_names[i];
}

const char *entry_kind_name(int kind)
{
	switch (kind) {
	case ENTRY_PUT: return "put";
	case ENTRY_DELETE: return "delete";
	case ENTRY_CERT: return "cert";
	case ENTRY_REVOKE: return "revoke";
	case ENTRY_ERASE: return "erase";
	default: return "unknown";
	}
}

int entry_scope_check(const char *scope)
{
	size_t n = strlen(scope), seg = 0, nseg = 1;
	if (n == 0 || n > ENTRY_MAX_SCOPE)
		return HAMLET_ESCOPE;
	for (size_t i = 0; i < n; i++) {
		char c = scope[i];
		if (c == '/') {
			if (seg == 0 || ++nseg > 8)
				return HAMLET_ESCOPE;
			seg = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return HAMLET_ESCOPE;
		if (++seg > 32)
			return HAMLET_ESCOPE;
	}
	return seg == 0 ? HAMLET_ESCOPE : 0;
}

int entry_record_id_check(const char *id)
{
	size_t n = strlen(id);
	/* "." and ".." alone name no record: in a URL path they are the
	 * segment itself and its parent */
	if (n == 0 || n > ENTRY_MAX_RECORD_ID || strcmp(id, ".") == 0 ||
	    strcmp(id, "..") == 0)
		return HAMLET_EID;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == ':' || c == '-'))
			return HAMLET_EID;
	}
	return 0;
}

int entry_collection_check(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > ENTRY_MAX_COLLECTION)
		return HAMLET_ECOLLECTION;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return HAMLET_ECOLLECTION;
	}
	return 0;
}

int entry_scope_under(const char *scope, const char *prefix)
{
	size_t n = strlen(prefix);
	if (n == 0)
		return 1;
	if (strncmp(scope, prefix, n) != 0)
		return 0;
	return scope[n] == '\0' || scope[n] == '/';
}

void entry_scope_narrow(char *out, const char *scope)
{
	size_t i = 0, seg = 0;

	for (;; i++) {
		char a = out[i], b = scope[i];
		if ((a == 0 || a == '/') && (b == 0 || b == '/'))
			seg = i; /* both end a segment here */
		if (a != b || a == 0)
			break;
	}
	out[seg] = 0;
}

static int check_fields(const struct entry *e)
{
	if (entry_scope_check(e->scope) < 0)
		return HAMLET_ESCOPE;
	if (e->seq == 0 || e->seq > ENTRY_MAX_SEQ)
		return HAMLET_EFORMAT;
	if ((e->seq == 1) != !e->has_prev)
		return HAMLET_ECHAIN;
	if (e->kind < ENTRY_PUT || e->kind > ENTRY_ERASE)
		return HAMLET_EFORMAT;
	if (entry_collection_check(e->collection) < 0)
		return HAMLET_ECOLLECTION;
	if (entry_record_id_check(e->record_id) < 0)
		return HAMLET_EID;
	if (e->ndeps > ENTRY_MAX_DEPS)
		return HAMLET_ETOOBIG;
	if (e->body_len > ENTRY_MAX_BODY)
		return HAMLET_ETOOBIG;
	if (!e->has_body && e->body_len != 0)
		return HAMLET_EFORMAT;
	return 0;
}

/* The fields every entry of a feed shares, as entry_encode() and
 * entry_head_encode() write them. */
static void pack_head(msgpack_packer *pk, const uint8_t network_id[32],
		      const uint8_t author[ENTRY_KEY_LEN], const char *scope,
		      size_t scope_len)
{
	msgpack_pack_array(pk, ENTRY_FIELDS);
	msgpack_pack_uint64(pk, ENTRY_VERSION);
	mp_pack_bin(pk, network_id, 32);
	mp_pack_bin(pk, author, ENTRY_KEY_LEN);
	mp_pack_strn(pk, scope, scope_len);
}

/* A packer's output into a fixed buffer: writes past its end are
 * counted, not made. */
struct fixed_out {
	uint8_t *p;
	size_t len, cap;
};

static int fixed_write(void *data, const char *buf, size_t len)
{
	struct fixed_out *o = data;
	if (len <= o->cap - o->len)
		memcpy(o->p + o->len, buf, len);
	o->len += len;
	return 0;
}

size_t entry_head_encode(const uint8_t network_id[32],
			 const uint8_t author[ENTRY_KEY_LEN],
			 const char *scope, size_t scope_len,
			 uint8_t ret[ENTRY_MAX_HEAD])
{
	struct fixed_out o = { ret, 0, ENTRY_MAX_HEAD };
	msgpack_packer pk;
	if (scope_len > ENTRY_MAX_SCOPE)
		return 0;
	msgpack_packer_init(&pk, &o, fixed_write);
	pack_head(&pk, network_id, author, scope, scope_len);
	return o.len <= o.cap ? o.len : 0;
}

int entry_encode(const struct entry *e, uint8_t **ret, size_t *ret_len)
{
	struct mp_writer w;
	msgpack_packer *pk = &w.pk;
	int r;

	if ((r = check_fields(e)) < 0)
		return r;
	mp_writer_init(&w);
	pack_head(pk, e->network_id, e->author, e->scope, strlen(e->scope));
	msgpack_pack_uint64(pk, e->seq);
	if (e->has_prev)
		mp_pack_bin(pk, e->prev, ENTRY_ID_LEN);
	else
		msgpack_pack_nil(pk);
	msgpack_pack_uint64(pk, e->hlc);
	msgpack_pack_uint64(pk, (uint64_t)e->kind);
	mp_pack_str(pk, e->collection);
	mp_pack_str(pk, e->record_id);
	msgpack_pack_array(pk, e->ndeps);
	for (size_t i = 0; i < e->ndeps; i++)
		mp_pack_bin(pk, e->deps[i], ENTRY_ID_LEN);
	if (e->has_body)
		mp_pack_bin(pk, e->body_hash, ENTRY_HASH_LEN);
	else
		msgpack_pack_nil(pk);
	msgpack_pack_uint64(pk, e->body_len);
	if (w.sb.size > ENTRY_MAX_ENVELOPE) {
		mp_writer_destroy(&w);
		return HAMLET_ETOOBIG;
	}
	*ret = mp_writer_take(&w, ret_len);
	mp_writer_destroy(&w);
	return *ret ? 0 : -ENOMEM;
}

int entry_decode(const uint8_t *env, size_t len, struct entry *ret,
		 int *ret_field)
{
	struct mp_doc d;
	const msgpack_object *f, *deps;
	struct entry e;
	uint64_t u;
	size_t n;
	int r, field = -1;

	if (len > ENTRY_MAX_ENVELOPE)
		return HAMLET_ETOOBIG;
	if ((r = mp_doc_parse(&d, env, len, ENTRY_FIELDS + ENTRY_MAX_DEPS)) < 0)
		goto out_noclose;
	memset(&e, 0, sizeof(e));
	field = ENTRY_FIELDS; /* the array itself */
	if ((r = mp_get_array(d.root, ENTRY_FIELDS, 0, &f, NULL)) < 0) {
		if (r == HAMLET_ETOOBIG)
			r = HAMLET_EFORMAT; /* an extra field */
		goto out;
	}
	field = F_VERSION;
	if ((r = mp_get_uint(&f[F_VERSION], UINT32_MAX, &u)) < 0)
		goto out;
	if (u != ENTRY_VERSION) {
		r = HAMLET_EVERSION;
		goto out;
	}
	field = F_NETWORK;
	if ((r = mp_get_bin_fixed(&f[F_NETWORK], 32, e.network_id)) < 0)
		goto out;
	field = F_AUTHOR;
	if ((r = mp_get_bin_fixed(&f[F_AUTHOR], ENTRY_KEY_LEN, e.author)) < 0)
		goto out;
	field = F_SCOPE;
	if ((r = mp_get_cstr(&f[F_SCOPE], e.scope, sizeof(e.scope))) < 0)
		goto out;
	if (entry_scope_check(e.scope) < 0) {
		r = HAMLET_ESCOPE;
		goto out;
	}
	field = F_SEQ;
	if ((r = mp_get_uint(&f[F_SEQ], ENTRY_MAX_SEQ, &e.seq)) < 0)
		goto out;
	if (e.seq == 0) {
		r = HAMLET_EFORMAT;
		goto out;
	}
	field = F_PREV;
	if (mp_is_nil(&f[F_PREV])) {
		e.has_prev = 0;
	} else {
		if ((r = mp_get_bin_fixed(&f[F_PREV], ENTRY_ID_LEN, e.prev)) < 0)
			goto out;
		e.has_prev = 1;
	}
	if ((e.seq == 1) != !e.has_prev) {
		r = HAMLET_ECHAIN;
		goto out;
	}
	field = F_HLC;
	if ((r = mp_get_uint(&f[F_HLC], UINT64_MAX, &e.hlc)) < 0)
		goto out;
	field = F_KIND;
	if ((r = mp_get_uint(&f[F_KIND], ENTRY_ERASE, &u)) < 0) {
		if (r == HAMLET_ETOOBIG)
			r = HAMLET_EFORMAT;
		goto out;
	}
	if (u < ENTRY_PUT) {
		r = HAMLET_EFORMAT;
		goto out;
	}
	e.kind = (int)u;
	field = F_COLLECTION;
	if ((r = mp_get_cstr(&f[F_COLLECTION], e.collection,
			     sizeof(e.collection))) < 0)
		goto out;
	if ((r = entry_collection_check(e.collection)) < 0)
		goto out;
	field = F_RECORD_ID;
	if ((r = mp_get_cstr(&f[F_RECORD_ID], e.record_id,
			     sizeof(e.record_id))) < 0)
		goto out;
	if ((r = entry_record_id_check(e.record_id)) < 0)
		goto out;
	field = F_DEPS;
	if ((r = mp_get_array(&f[F_DEPS], SIZE_MAX, ENTRY_MAX_DEPS, &deps,
			      &n)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((r = mp_get_bin_fixed(&deps[i], ENTRY_ID_LEN, e.deps[i])) < 0)
			goto out;
	e.ndeps = n;
	field = F_BODY_HASH;
	if (mp_is_nil(&f[F_BODY_HASH])) {
		e.has_body = 0;
	} else {
		if ((r = mp_get_bin_fixed(&f[F_BODY_HASH], ENTRY_HASH_LEN,
					  e.body_hash)) < 0)
			goto out;
		e.has_body = 1;
	}
	field = F_BODY_LEN;
	if ((r = mp_get_uint(&f[F_BODY_LEN], ENTRY_MAX_BODY, &e.body_len)) < 0)
		goto out;
	if (!e.has_body && e.body_len != 0) {
		r = HAMLET_EFORMAT;
		goto out;
	}
	field = -1;
	*ret = e;
	r = 0;
out:
	mp_doc_close(&d);
out_noclose:
	if (ret_field)
		*ret_field = r < 0 ? field : -1;
	return r;
}

void entry_id(const uint8_t *env, size_t len, uint8_t ret_id[ENTRY_ID_LEN])
{
	crypto_generichash_blake2b(ret_id, ENTRY_ID_LEN, env, len, NULL, 0);
}

void entry_body_hash(const uint8_t *body, size_t len,
		     uint8_t ret_hash[ENTRY_HASH_LEN])
{
	crypto_generichash_blake2b(ret_hash, ENTRY_HASH_LEN, body, len, NULL,
				   0);
}

int entry_sign(const uint8_t *env, size_t len, const uint8_t sk[64],
	       uint8_t ret_sig[ENTRY_SIG_LEN])
{
	if (len > ENTRY_MAX_ENVELOPE)
		return HAMLET_ETOOBIG;
	return sig_sign(ENTRY_SIG_PREFIX, ENTRY_SIG_PREFIX_LEN, env, len, sk,
			ret_sig);
}

int entry_verify(const uint8_t *env, size_t len, const uint8_t *sig,
		 const uint8_t author[ENTRY_KEY_LEN])
{
	if (len > ENTRY_MAX_ENVELOPE)
		return HAMLET_ETOOBIG;
	return sig_verify(ENTRY_SIG_PREFIX, ENTRY_SIG_PREFIX_LEN, env, len, sig,
			  author);
}
