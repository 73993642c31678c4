#include "trust.h"
#include "why.h"

#include "error.h"
#include "mp.h"
#include "sig.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REVOKE_SIG_PREFIX "hamlet revoke v1\0"
#define REVOKE_SIG_PREFIX_LEN 17
#define REVOKE_FIELDS 8 /* the revocation array, without its signature */
#define FORKPROOF_FIELDS 5

static const uint8_t zero32[32];

/* Write the fault into why when the caller gave room for it. */
#define WHY(...)                                        \
	do {                                            \
		if (why && wl)                          \
			why_set(why, wl, __VA_ARGS__); \
	} while (0)

/* --- signed items: [body, signature] ----------------------------------- */

/* A reason: at most 200 bytes, no control character. */
static int reason_check(const char *reason, size_t cap, char *why, size_t wl)
{
	size_t rl = strnlen(reason, cap);

	if (rl > REVOKE_MAX_REASON) {
		WHY(N_("the reason is over %d bytes"), REVOKE_MAX_REASON);
		return HAMLET_EFORMAT;
	}
	for (size_t i = 0; i < rl; i++) {
		unsigned char c = (unsigned char)reason[i];
		if (c < 0x20 || c == 0x7f) {
			WHY(N_("the reason holds a control character"));
			return HAMLET_EFORMAT;
		}
	}
	return 0;
}

/* Sign body (prefix, plen) with sk and encode [body, signature] into
 * *ret; HAMLET_ETOOBIG when it would pass max bytes. */
static int signed_pack(const struct mp_writer *body, const char *prefix,
		       size_t plen, const uint8_t sk[64], size_t max,
		       uint8_t **ret, size_t *ret_len)
{
	struct mp_writer out;
	uint8_t sig[64];
	int e;

	/* room for the outer array, two bin headers and the signature */
	if (body->sb.size > max - 80)
		return HAMLET_ETOOBIG;
	if ((e = sig_sign(prefix, plen, (const uint8_t *)body->sb.data,
			  body->sb.size, sk, sig)) < 0)
		return e;
	mp_writer_init(&out);
	msgpack_pack_array(&out.pk, 2);
	mp_pack_bin(&out.pk, body->sb.data, body->sb.size);
	mp_pack_bin(&out.pk, sig, 64);
	*ret = mp_writer_take(&out, ret_len);
	mp_writer_destroy(&out);
	return *ret ? 0 : -ENOMEM;
}

/* Split [body, signature(64)] (d holds the parse; close it after using
 * body and sig). what names the item in why. */
static int signed_unpack(struct mp_doc *d, const uint8_t *buf, size_t len,
			 size_t max, const char *what, const uint8_t **body,
			 size_t *bl, const uint8_t **sig, char *why, size_t wl)
{
	const msgpack_object *a;
	size_t sl;
	int e;

	if (len > max) {
		WHY("the %s is over %zu bytes", what, max);
		return HAMLET_ETOOBIG;
	}
	if ((e = mp_doc_parse(d, buf, len, 4)) < 0) {
		WHY("the %s is not one msgpack object: %s", what,
		    why_translate(hamlet_strerror(e)));
		return e;
	}
	if ((e = mp_get_array(d->root, 2, 0, &a, NULL)) < 0 ||
	    (e = mp_get_bin(&a[0], max, body, bl)) < 0 ||
	    (e = mp_get_bin(&a[1], 64, sig, &sl)) < 0) {
		WHY("the %s is not [body, signature]: %s", what,
		    why_translate(hamlet_strerror(e)));
		mp_doc_close(d);
		return e;
	}
	if (sl != 64) {
		WHY("the signature is %zu bytes, not 64", sl);
		mp_doc_close(d);
		return HAMLET_EFORMAT;
	}
	return 0;
}

/* As for certificates: the id is over body and signature, not the outer
 * msgpack, so a re-encoding cannot make a new id. */
static void body_sig_id(const uint8_t *body, size_t bl, const uint8_t *sig,
			uint8_t ret_id[32])
{
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, 32);
	crypto_generichash_update(&h, body, bl);
	crypto_generichash_update(&h, sig, 64);
	crypto_generichash_final(&h, ret_id, 32);
}

/* The version first, then exactly nfields: another version may have
 * other fields. f gets the fields. */
static int versioned_array(const msgpack_object *root, size_t nfields,
			   uint64_t version, const msgpack_object **f)
{
	uint64_t v;
	int e;

	if ((e = mp_get_array(root, SIZE_MAX, 64, f, &v)) < 0)
		return e;
	if (v < 1 || mp_get_uint(&(*f)[0], UINT64_MAX, &v) < 0)
		return HAMLET_EFORMAT;
	if (v != version)
		return HAMLET_EVERSION;
	return mp_get_array(root, nfields, 0, f, NULL);
}

/* --- revocations: fields ----------------------------------------------- */

int revoke_check_fields(const struct revocation *r, char *why, size_t wl)
{
	int e;

	if ((e = reason_check(r->reason, sizeof(r->reason), why, wl)) < 0)
		return e;
	if (r->nfeeds > REVOKE_MAX_FEEDS || r->nkeep > REVOKE_MAX_KEEP) {
		WHY("more than %d feeds or %d kept certificates",
		    REVOKE_MAX_FEEDS, REVOKE_MAX_KEEP);
		return HAMLET_EFORMAT;
	}
	for (size_t i = 0; i < r->nfeeds; i++) {
		const struct revoke_feed *f = &r->feeds[i];
		if (strnlen(f->scope, sizeof(f->scope)) > CERT_SCOPE_MAX ||
		    entry_scope_check(f->scope) < 0) {
			WHY("feed %zu: \"%.*s\" is not a scope", i + 1,
			    CERT_SCOPE_MAX, f->scope);
			return HAMLET_EFORMAT;
		}
		if (f->seq > ENTRY_MAX_SEQ) {
			WHY("feed \"%s\": seq %llu is over 2^53", f->scope,
			    (unsigned long long)f->seq);
			return HAMLET_EFORMAT;
		}
		if (f->seq == 0 && memcmp(f->head, zero32, 32) != 0) {
			WHY("feed \"%s\": seq 0 keeps nothing, yet names a "
			    "head",
			    f->scope);
			return HAMLET_EFORMAT;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(f->scope, r->feeds[j].scope) == 0) {
				WHY("feed \"%s\" is listed twice", f->scope);
				return HAMLET_EFORMAT;
			}
	}
	for (size_t i = 0; i < r->nkeep; i++)
		for (size_t j = 0; j < i; j++)
			if (memcmp(r->keep[i], r->keep[j], 32) == 0) {
				WHY("kept certificate %zu is listed twice",
				    i + 1);
				return HAMLET_EFORMAT;
			}
	return 0;
}

/* --- revocations: encoding --------------------------------------------- */

/* The signed part: a msgpack array of REVOKE_FIELDS. */
static void revoke_pack_body(msgpack_packer *pk, const struct revocation *r)
{
	msgpack_pack_array(pk, REVOKE_FIELDS);
	msgpack_pack_uint64(pk, REVOKE_VERSION);
	mp_pack_bin(pk, r->network_id, 32);
	mp_pack_bin(pk, r->issuer, 32);
	mp_pack_bin(pk, r->subject, 32);
	msgpack_pack_uint64(pk, r->issued_ms);
	mp_pack_str(pk, r->reason);
	msgpack_pack_array(pk, r->nfeeds);
	for (size_t i = 0; i < r->nfeeds; i++) {
		msgpack_pack_array(pk, 3);
		mp_pack_str(pk, r->feeds[i].scope);
		msgpack_pack_uint64(pk, r->feeds[i].seq);
		mp_pack_bin(pk, r->feeds[i].head, 32);
	}
	msgpack_pack_array(pk, r->nkeep);
	for (size_t i = 0; i < r->nkeep; i++)
		mp_pack_bin(pk, r->keep[i], 32);
}

int revoke_sign(const struct revocation *r, const uint8_t sk[64], uint8_t **ret,
		size_t *ret_len)
{
	struct mp_writer body;
	char why[160];
	int e;

	if ((e = revoke_check_fields(r, why, sizeof(why))) < 0)
		return e;
	if (memcmp(sk + 32, r->issuer, 32) != 0)
		return -EINVAL; /* libsodium keeps the public half there */
	mp_writer_init(&body);
	revoke_pack_body(&body.pk, r);
	e = signed_pack(&body, REVOKE_SIG_PREFIX, REVOKE_SIG_PREFIX_LEN, sk,
			REVOKE_MAX_BYTES, ret, ret_len);
	mp_writer_destroy(&body);
	return e;
}

/* --- revocations: decoding --------------------------------------------- */

static int revoke_get_feeds(const msgpack_object *o, struct revocation *r)
{
	const msgpack_object *it, *f;
	size_t n;
	int e;

	if ((e = mp_get_array(o, SIZE_MAX, REVOKE_MAX_FEEDS, &it, &n)) < 0)
		return e;
	for (size_t i = 0; i < n; i++) {
		struct revoke_feed *rf = &r->feeds[i];
		if ((e = mp_get_array(&it[i], 3, 0, &f, NULL)) < 0 ||
		    (e = mp_get_cstr(&f[0], rf->scope, sizeof(rf->scope))) <
			    0 ||
		    (e = mp_get_uint(&f[1], ENTRY_MAX_SEQ, &rf->seq)) < 0 ||
		    (e = mp_get_bin_fixed(&f[2], 32, rf->head)) < 0)
			return e;
	}
	r->nfeeds = n;
	return 0;
}

static int revoke_get_keep(const msgpack_object *o, struct revocation *r)
{
	const msgpack_object *it;
	size_t n;
	int e;

	if ((e = mp_get_array(o, SIZE_MAX, REVOKE_MAX_KEEP, &it, &n)) < 0)
		return e;
	for (size_t i = 0; i < n; i++)
		if ((e = mp_get_bin_fixed(&it[i], 32, r->keep[i])) < 0)
			return e;
	r->nkeep = n;
	return 0;
}

static int revoke_decode_body(const uint8_t *b, size_t len,
			      struct revocation *r)
{
	struct mp_doc d;
	const msgpack_object *f;
	int e;

	if ((e = mp_doc_parse(&d, b, len, REVOKE_MAX_KEEP)) < 0)
		return e;
	if ((e = versioned_array(d.root, REVOKE_FIELDS, REVOKE_VERSION,
				 &f)) < 0 ||
	    (e = mp_get_bin_fixed(&f[1], 32, r->network_id)) < 0 ||
	    (e = mp_get_bin_fixed(&f[2], 32, r->issuer)) < 0 ||
	    (e = mp_get_bin_fixed(&f[3], 32, r->subject)) < 0 ||
	    (e = mp_get_uint(&f[4], UINT64_MAX, &r->issued_ms)) < 0 ||
	    (e = mp_get_cstr(&f[5], r->reason, sizeof(r->reason))) < 0 ||
	    (e = revoke_get_feeds(&f[6], r)) < 0 ||
	    (e = revoke_get_keep(&f[7], r)) < 0)
		goto out;
	e = 0;
out:
	mp_doc_close(&d);
	return e;
}

/* revoke_decode(), naming the fault in why (may be NULL). */
static int revoke_decode_why(const uint8_t *buf, size_t len,
			     struct revocation *ret, uint8_t ret_id[32],
			     char *why, size_t wl)
{
	struct mp_doc d;
	const uint8_t *body, *sig;
	size_t bl;
	int e;

	memset(ret, 0, sizeof(*ret));
	if ((e = signed_unpack(&d, buf, len, REVOKE_MAX_BYTES, "revocation",
			       &body, &bl, &sig, why, wl)) < 0)
		return e;
	if ((e = revoke_decode_body(body, bl, ret)) < 0) {
		WHY("the revocation's body does not decode: %s",
		    why_translate(hamlet_strerror(e)));
		goto out;
	}
	if ((e = revoke_check_fields(ret, why, wl)) < 0)
		goto out;
	if ((e = sig_verify(REVOKE_SIG_PREFIX, REVOKE_SIG_PREFIX_LEN, body, bl,
			    sig, ret->issuer)) < 0) {
		WHY("the revocation's signature does not verify");
		goto out;
	}
	if (ret_id)
		body_sig_id(body, bl, sig, ret_id);
	e = 0;
out:
	mp_doc_close(&d);
	if (e < 0)
		memset(ret, 0, sizeof(*ret));
	return e;
}

int revoke_decode(const uint8_t *buf, size_t len, struct revocation *ret,
		  uint8_t ret_id[32])
{
	return revoke_decode_why(buf, len, ret, ret_id, NULL, 0);
}

/* --- fork proofs ------------------------------------------------------- */

/*
 * Are entries 1 and 2 a fork of one feed? On success e1 and e2 hold them
 * decoded, *ret_at the seq past which the feed is frozen, and *ret_swap
 * says that canonical order is 2 first.
 */
static int fork_check(const uint8_t *env1, size_t len1, const uint8_t *sig1,
		      const uint8_t *env2, size_t len2, const uint8_t *sig2,
		      struct entry *e1, struct entry *e2, uint64_t *ret_at,
		      int *ret_swap, char *why, size_t wl)
{
	uint8_t id1[32], id2[32];
	int e, field;

	if ((e = entry_decode(env1, len1, e1, &field)) < 0) {
		WHY("entry 1 does not decode (%s): %s", entry_field_name(field),
		    why_translate(hamlet_strerror(e)));
		return e;
	}
	if ((e = entry_decode(env2, len2, e2, &field)) < 0) {
		WHY("entry 2 does not decode (%s): %s", entry_field_name(field),
		    why_translate(hamlet_strerror(e)));
		return e;
	}
	if ((e = entry_verify(env1, len1, sig1, e1->author)) < 0) {
		WHY("entry 1's signature does not verify");
		return e;
	}
	if ((e = entry_verify(env2, len2, sig2, e2->author)) < 0) {
		WHY("entry 2's signature does not verify");
		return e;
	}
	if (memcmp(e1->network_id, e2->network_id, 32) != 0 ||
	    memcmp(e1->author, e2->author, 32) != 0 ||
	    strcmp(e1->scope, e2->scope) != 0) {
		WHY("the two entries are not of one feed (network, author and "
		    "scope)");
		return HAMLET_EFORMAT;
	}
	entry_id(env1, len1, id1);
	entry_id(env2, len2, id2);
	if (e1->seq == e2->seq) {
		int c = memcmp(id1, id2, 32);
		if (c == 0) {
			WHY("the two entries are one and the same");
			return HAMLET_EFORMAT;
		}
		*ret_at = e1->seq;
		*ret_swap = c > 0;
		return 0;
	}
	if (e2->seq == e1->seq + 1) {
		if (!e2->has_prev || memcmp(e2->prev, id1, 32) == 0) {
			WHY("entry 2 follows entry 1 in their feed");
			return HAMLET_EFORMAT;
		}
		*ret_at = e1->seq;
		*ret_swap = 0;
		return 0;
	}
	if (e1->seq == e2->seq + 1) {
		if (!e1->has_prev || memcmp(e1->prev, id2, 32) == 0) {
			WHY("entry 1 follows entry 2 in their feed");
			return HAMLET_EFORMAT;
		}
		*ret_at = e2->seq;
		*ret_swap = 1;
		return 0;
	}
	WHY("seqs %llu and %llu are neither equal nor adjacent",
	    (unsigned long long)e1->seq, (unsigned long long)e2->seq);
	return HAMLET_EFORMAT;
}

int fork_proof_encode(const uint8_t *env1, size_t len1, const uint8_t *sig1,
		      const uint8_t *env2, size_t len2, const uint8_t *sig2,
		      uint8_t **ret, size_t *ret_len)
{
	struct entry *e = malloc(2 * sizeof(*e));
	struct mp_writer w;
	uint64_t at;
	int swap, r;

	if (!e)
		return -ENOMEM;
	if ((r = fork_check(env1, len1, sig1, env2, len2, sig2, &e[0], &e[1],
			    &at, &swap, NULL, 0)) < 0)
		goto out;
	if (swap) {
		const uint8_t *t = env1, *ts = sig1;
		size_t tl = len1;
		env1 = env2, len1 = len2, sig1 = sig2;
		env2 = t, len2 = tl, sig2 = ts;
	}
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, FORKPROOF_FIELDS);
	msgpack_pack_uint64(&w.pk, FORKPROOF_VERSION);
	mp_pack_bin(&w.pk, env1, len1);
	mp_pack_bin(&w.pk, sig1, ENTRY_SIG_LEN);
	mp_pack_bin(&w.pk, env2, len2);
	mp_pack_bin(&w.pk, sig2, ENTRY_SIG_LEN);
	*ret = mp_writer_take(&w, ret_len);
	mp_writer_destroy(&w);
	r = *ret ? 0 : -ENOMEM;
out:
	free(e);
	return r;
}

/* 1 when p (n bytes) lies inside buf (len bytes). */
static int inside(const uint8_t *buf, size_t len, const uint8_t *p, size_t n)
{
	return p >= buf && n <= len && (size_t)(p - buf) <= len - n;
}

/* fork_proof_decode(), naming the fault in why (may be NULL). */
static int fork_proof_decode_why(const uint8_t *buf, size_t len,
				 struct fork_proof *ret, uint8_t ret_id[32],
				 char *why, size_t wl)
{
	struct mp_doc d;
	const msgpack_object *f;
	size_t sa, sb;
	uint64_t v;
	int swap, e;

	memset(ret, 0, sizeof(*ret));
	if (len > FORKPROOF_MAX_BYTES) {
		WHY("the fork proof is over %d bytes", FORKPROOF_MAX_BYTES);
		return HAMLET_ETOOBIG;
	}
	if ((e = mp_doc_parse(&d, buf, len, FORKPROOF_FIELDS)) < 0) {
		WHY("the fork proof is not one msgpack object: %s",
		    why_translate(hamlet_strerror(e)));
		return e;
	}
	if ((e = mp_get_array(d.root, SIZE_MAX, FORKPROOF_FIELDS, &f, &v)) < 0)
		goto bad;
	if (v < 1 || mp_get_uint(&f[0], UINT64_MAX, &v) < 0) {
		e = HAMLET_EFORMAT;
		goto bad;
	}
	if (v != FORKPROOF_VERSION) {
		WHY("fork proof version %llu, not %d", (unsigned long long)v,
		    FORKPROOF_VERSION);
		e = HAMLET_EVERSION;
		goto out;
	}
	if ((e = mp_get_array(d.root, FORKPROOF_FIELDS, 0, &f, NULL)) < 0 ||
	    (e = mp_get_bin(&f[1], ENTRY_MAX_ENVELOPE, &ret->env_a,
			    &ret->env_a_len)) < 0 ||
	    (e = mp_get_bin(&f[2], ENTRY_SIG_LEN, &ret->sig_a, &sa)) < 0 ||
	    (e = mp_get_bin(&f[3], ENTRY_MAX_ENVELOPE, &ret->env_b,
			    &ret->env_b_len)) < 0 ||
	    (e = mp_get_bin(&f[4], ENTRY_SIG_LEN, &ret->sig_b, &sb)) < 0)
		goto bad;
	if (sa != ENTRY_SIG_LEN || sb != ENTRY_SIG_LEN) {
		e = HAMLET_EFORMAT;
		goto bad;
	}
	/* the pointers must outlive the document: msgpack-c reads a bin in
	 * place, so they point into buf; refuse should that ever change */
	if (!inside(buf, len, ret->env_a, ret->env_a_len) ||
	    !inside(buf, len, ret->env_b, ret->env_b_len) ||
	    !inside(buf, len, ret->sig_a, ENTRY_SIG_LEN) ||
	    !inside(buf, len, ret->sig_b, ENTRY_SIG_LEN)) {
		e = -EINVAL;
		goto bad;
	}
	if ((e = fork_check(ret->env_a, ret->env_a_len, ret->sig_a, ret->env_b,
			    ret->env_b_len, ret->sig_b, &ret->a, &ret->b,
			    &ret->at, &swap, why, wl)) < 0)
		goto out;
	if (swap) {
		WHY("the two entries are not in canonical order");
		e = HAMLET_EFORMAT;
		goto out;
	}
	if (ret_id)
		crypto_generichash_blake2b(ret_id, 32, buf, len, NULL, 0);
	e = 0;
	goto out;
bad:
	WHY("the fork proof is not [1, env, sig(64), env, sig(64)]: %s",
	    why_translate(hamlet_strerror(e)));
out:
	mp_doc_close(&d);
	if (e < 0)
		memset(ret, 0, sizeof(*ret));
	return e;
}

int fork_proof_decode(const uint8_t *buf, size_t len, struct fork_proof *ret,
		      uint8_t ret_id[32])
{
	return fork_proof_decode_why(buf, len, ret, ret_id, NULL, 0);
}

int fork_proof_scope(const uint8_t *buf, size_t len,
		     char scope[ENTRY_MAX_SCOPE + 1])
{
	struct mp_doc d;
	const msgpack_object *f;
	const uint8_t *env;
	size_t el;
	struct entry *e;
	int r;

	if (len > FORKPROOF_MAX_BYTES)
		return HAMLET_ETOOBIG;
	if ((r = mp_doc_parse(&d, buf, len, FORKPROOF_FIELDS)) < 0)
		return r;
	if (!(e = malloc(sizeof(*e))))
		r = -ENOMEM;
	else if ((r = mp_get_array(d.root, FORKPROOF_FIELDS, 0, &f, NULL)) ==
		     0 &&
		 (r = mp_get_bin(&f[1], ENTRY_MAX_ENVELOPE, &env, &el)) == 0 &&
		 (r = entry_decode(env, el, e, NULL)) == 0)
		memcpy(scope, e->scope, ENTRY_MAX_SCOPE + 1);
	free(e);
	mp_doc_close(&d);
	return r;
}

/* --- scope moves ------------------------------------------------------- */

#define MOVE_SIG_PREFIX "hamlet move v1\0"
#define MOVE_SIG_PREFIX_LEN 15
#define MOVE_FIELDS 7

int move_check_fields(const struct scope_move *m, char *why, size_t wl)
{
	const char *sc[2] = { m->from, m->to };
	int e;

	for (int i = 0; i < 2; i++)
		if (strnlen(sc[i], CERT_SCOPE_MAX + 1) > CERT_SCOPE_MAX ||
		    entry_scope_check(sc[i]) < 0) {
			if (i)
				WHY(N_("the new scope \"%.*s\" is not a scope (1-8 segments of a-z, 0-9 and -, joined by /)"),
				    CERT_SCOPE_MAX, sc[i]);
			else
				WHY(N_("the old scope \"%.*s\" is not a scope (1-8 segments of a-z, 0-9 and -, joined by /)"),
				    CERT_SCOPE_MAX, sc[i]);
			return HAMLET_EFORMAT;
		}
	if (entry_scope_under(m->to, m->from)) {
		WHY(N_("%s lies at or under %s: the move would map the scope onto itself forever"),
		    m->to, m->from);
		return HAMLET_EFORMAT;
	}
	if ((e = reason_check(m->reason, sizeof(m->reason), why, wl)) < 0)
		return e;
	return 0;
}

int move_sign(const struct scope_move *m, const uint8_t sk[64], uint8_t **ret,
	      size_t *ret_len)
{
	struct mp_writer body;
	char why[200];
	int e;

	if ((e = move_check_fields(m, why, sizeof(why))) < 0)
		return e;
	if (memcmp(sk + 32, m->issuer, 32) != 0)
		return -EINVAL;
	mp_writer_init(&body);
	msgpack_pack_array(&body.pk, MOVE_FIELDS);
	msgpack_pack_uint64(&body.pk, MOVE_VERSION);
	mp_pack_bin(&body.pk, m->network_id, 32);
	mp_pack_bin(&body.pk, m->issuer, 32);
	mp_pack_str(&body.pk, m->from);
	mp_pack_str(&body.pk, m->to);
	msgpack_pack_uint64(&body.pk, m->at_ms);
	mp_pack_str(&body.pk, m->reason);
	e = signed_pack(&body, MOVE_SIG_PREFIX, MOVE_SIG_PREFIX_LEN, sk,
			MOVE_MAX_BYTES, ret, ret_len);
	mp_writer_destroy(&body);
	return e;
}

int move_decode(const uint8_t *buf, size_t len, struct scope_move *ret,
		uint8_t ret_id[32], char *why, size_t wl)
{
	struct mp_doc d, bd = { 0 };
	const msgpack_object *f;
	const uint8_t *body, *sig;
	size_t bl;
	int e, have_bd = 0;

	memset(ret, 0, sizeof(*ret));
	if ((e = signed_unpack(&d, buf, len, MOVE_MAX_BYTES, "scope move",
			       &body, &bl, &sig, why, wl)) < 0)
		return e;
	if ((e = mp_doc_parse(&bd, body, bl, MOVE_FIELDS)) < 0)
		goto bad;
	have_bd = 1;
	if ((e = versioned_array(bd.root, MOVE_FIELDS, MOVE_VERSION, &f)) <
		    0 ||
	    (e = mp_get_bin_fixed(&f[1], 32, ret->network_id)) < 0 ||
	    (e = mp_get_bin_fixed(&f[2], 32, ret->issuer)) < 0 ||
	    (e = mp_get_cstr(&f[3], ret->from, sizeof(ret->from))) < 0 ||
	    (e = mp_get_cstr(&f[4], ret->to, sizeof(ret->to))) < 0 ||
	    (e = mp_get_uint(&f[5], UINT64_MAX, &ret->at_ms)) < 0 ||
	    (e = mp_get_cstr(&f[6], ret->reason, sizeof(ret->reason))) < 0)
		goto bad;
	if ((e = move_check_fields(ret, why, wl)) < 0)
		goto out;
	if ((e = sig_verify(MOVE_SIG_PREFIX, MOVE_SIG_PREFIX_LEN, body, bl, sig,
			    ret->issuer)) < 0) {
		WHY("the scope move's signature does not verify");
		goto out;
	}
	if (ret_id)
		body_sig_id(body, bl, sig, ret_id);
	e = 0;
	goto out;
bad:
	WHY("the scope move's body does not decode: %s", why_translate(hamlet_strerror(e)));
out:
	if (have_bd)
		mp_doc_close(&bd);
	mp_doc_close(&d);
	if (e < 0)
		memset(ret, 0, sizeof(*ret));
	return e;
}

/* --- items of the trust set -------------------------------------------- */

const char *trust_kind_name(int kind)
{
	switch (kind) {
	case TRUST_CERT:
		return N_("certificate");
	case TRUST_REVOKE:
		return N_("revocation");
	case TRUST_FORK:
		return N_("fork proof");
	case TRUST_MOVE:
		return N_("scope move");
	default:
		return "?";
	}
}

int trust_item_key(int kind, const uint8_t *buf, size_t len,
		   uint8_t ret_key[TRUST_KEY_LEN], char *why, size_t wl)
{
	uint8_t id[32];
	int e;

	if (why && wl)
		why[0] = 0;
	if (kind < TRUST_CERT || kind > TRUST_KIND_MAX) {
		WHY("unknown trust item kind %d", kind);
		return HAMLET_EFORMAT;
	}
	if (len > TRUST_ITEM_MAX) {
		WHY("the %s is over %d bytes", trust_kind_name(kind),
		    TRUST_ITEM_MAX);
		return HAMLET_ETOOBIG;
	}
	switch (kind) {
	case TRUST_CERT: {
		struct cert *c = malloc(sizeof(*c));
		if (!c)
			return -ENOMEM;
		e = cert_decode_why(buf, len, c, id, why, wl);
		free(c);
		break;
	}
	case TRUST_REVOKE: {
		struct revocation *r = malloc(sizeof(*r));
		if (!r)
			return -ENOMEM;
		e = revoke_decode_why(buf, len, r, id, why, wl);
		free(r);
		break;
	}
	case TRUST_MOVE: {
		struct scope_move *m = malloc(sizeof(*m));
		if (!m)
			return -ENOMEM;
		e = move_decode(buf, len, m, id, why, wl);
		free(m);
		break;
	}
	default: {
		struct fork_proof *p = malloc(sizeof(*p));
		if (!p)
			return -ENOMEM;
		e = fork_proof_decode_why(buf, len, p, id, why, wl);
		free(p);
		break;
	}
	}
	if (e < 0)
		return e;
	ret_key[0] = (uint8_t)kind;
	memcpy(ret_key + 1, id, 32);
	return 0;
}
