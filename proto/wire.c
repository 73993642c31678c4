#include "wire.h"
#include "wire_internal.h"

#include "cert.h"
#include "sig.h"
#include "zst.h"

#include "bytes.h"
#include "error.h"
#include "why.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {
	[WIRE_HELLO] = "HELLO",	    [WIRE_NEG] = "NEG",
	[WIRE_FEEDS] = "FEEDS",	    [WIRE_WANT] = "WANT",
	[WIRE_ENTRIES] = "ENTRIES", [WIRE_ACK] = "ACK",
	[WIRE_KEEPALIVE] = "KEEPALIVE", [WIRE_ERROR] = "ERROR",
	[WIRE_TRUST_HAVE] = "TRUST_HAVE", [WIRE_TRUST_IDS] = "TRUST_IDS",
	[WIRE_TRUST_ITEMS] = "TRUST_ITEMS",
	[WIRE_SINCE] = "SINCE",	    [WIRE_STATE] = "STATE",
	[WIRE_TAKE] = "TAKE",
	[WIRE_CERTS_WANT] = "CERTS_WANT", [WIRE_CERTS] = "CERTS",
};

/* Number of fields after the type, per message type. */
const size_t wire__type_fields[] = {
	[WIRE_HELLO] = 5,   [WIRE_NEG] = 1, [WIRE_FEEDS] = 2,
	[WIRE_WANT] = 2,    [WIRE_ENTRIES] = 4, [WIRE_ACK] = 3,
	[WIRE_KEEPALIVE] = 0, [WIRE_ERROR] = 2,
	[WIRE_TRUST_HAVE] = 2, [WIRE_TRUST_IDS] = 3, [WIRE_TRUST_ITEMS] = 1,
	[WIRE_SINCE] = 2,   [WIRE_STATE] = 1, [WIRE_TAKE] = 1,
	[WIRE_CERTS_WANT] = 0, [WIRE_CERTS] = 1,
};

_Static_assert(WIRE_MAX_CHAIN_REF == CERT_MAX_CHAIN,
	       "a chain reference names at most a whole chain");

const char *wire_type_name(int type)
{
	if (type < 1 || type > WIRE__MAX)
		return "?";
	return type_names[type];
}

/* --- decoding ---------------------------------------------------------- */

/* The fields of one message type; why names a bad one. */
static int decode_hello(const msgpack_object *f, struct wire_msg *m,
			char *why, size_t whylen)
{
	int r;
	const msgpack_object *sc;
	size_t ns;
	CHECK(mp_get_uint(&f[0], UINT32_MAX, &m->hello.version),
	      "HELLO.version is not an unsigned integer");
	if (m->hello.version != WIRE_VERSION)
		FAULT(HAMLET_EVERSION, "HELLO.version %llu, we speak %d",
		      (unsigned long long)m->hello.version,
		      WIRE_VERSION);
	CHECK(mp_get_array(&f[1], SIZE_MAX, WIRE_MAX_SCOPES, &sc, &ns),
	      "HELLO.scopes is not an array of at most %d",
	      WIRE_MAX_SCOPES);
	for (size_t i = 0; i < ns; i++) {
		char *s = m->hello.scopes[i];
		CHECK(mp_get_cstr(&sc[i], s, ENTRY_MAX_SCOPE + 1),
		      "HELLO.scopes[%zu] is not a string of at most %d bytes",
		      i, ENTRY_MAX_SCOPE);
		if (s[0] && entry_scope_check(s) < 0)
			FAULT(HAMLET_ESCOPE,
			      "HELLO.scopes[%zu] is not a valid scope",
			      i);
	}
	m->hello.nscopes = ns;
	CHECK(mp_get_uint(&f[2], WIRE_MAX_CREDIT, &m->hello.credit),
	      "HELLO.credit is not an unsigned integer up to %d",
	      WIRE_MAX_CREDIT);
	if (m->hello.credit == 0)
		FAULT(HAMLET_EFORMAT, "HELLO.credit is 0");
	CHECK(mp_get_bin_fixed(&f[3], 64, m->hello.proof),
	      "HELLO.proof is not a 64-byte bin");
	m->hello.certs = NULL;
	m->hello.certs_len = 0;
	m->hello.nref = 0;
	if (f[4].type == MSGPACK_OBJECT_ARRAY) {
		/* a reference: the ids of the sender's certificates */
		const msgpack_object *ids;
		size_t ni;
		CHECK(mp_get_array(&f[4], SIZE_MAX, WIRE_MAX_CHAIN_REF, &ids,
				   &ni),
		      "HELLO.certs is an array of more than %d ids",
		      WIRE_MAX_CHAIN_REF);
		if (ni == 0)
			FAULT(HAMLET_EFORMAT, "HELLO.certs is an empty array");
		for (size_t i = 0; i < ni; i++)
			CHECK(mp_get_bin_fixed(&ids[i], WIRE_CHAIN_REF_LEN,
					       m->hello.ref[i]),
			      "HELLO.certs[%zu] is not a %d-byte bin", i,
			      WIRE_CHAIN_REF_LEN);
		m->hello.nref = ni;
	} else {
		CHECK(mp_get_bin(&f[4], CERT_CHAIN_MAX_BYTES, &m->hello.certs,
				 &m->hello.certs_len),
		      "HELLO.certs is neither a bin of at most %d bytes nor an array of ids",
		      (int)CERT_CHAIN_MAX_BYTES);
	}
	r = 0;
out:
	return r;
}

/* A list of [key, seq] (FEEDS.feeds, SINCE.feeds) into m->feeds. */
static int decode_heads(const msgpack_object *f, const char *tn,
			struct wire_msg *m, char *why, size_t whylen)
{
	const msgpack_object *fi, *pair;
	size_t n;
	int r;
	CHECK(mp_get_array(f, SIZE_MAX, WIRE_MAX_FEEDS, &fi, &n),
	      "%s.feeds is not an array of at most %d", tn,
	      WIRE_MAX_FEEDS);
	for (size_t i = 0; i < n; i++) {
		struct wire_feed *wf = &m->feeds.feeds[i];
		CHECK(mp_get_array(&fi[i], 2, 2, &pair, NULL),
		      "%s.feeds[%zu] is not [key, seq]", tn, i);
		CHECK(mp_get_bin_fixed(&pair[0], 32, wf->key),
		      "%s.feeds[%zu].key is not a 32-byte bin", tn, i);
		CHECK(mp_get_uint(&pair[1], ENTRY_MAX_SEQ, &wf->seq),
		      "%s.feeds[%zu].seq is not a valid seq", tn, i);
	}
	m->feeds.nfeeds = n;
	r = 0;
out:
	return r;
}

/* SINCE: a basis of 0 or 32 bytes; no feeds without one. */
static int decode_since(const msgpack_object *f, struct wire_msg *m,
			char *why, size_t whylen)
{
	const uint8_t *b;
	size_t bl;
	int r;
	CHECK(mp_get_bin(&f[0], 32, &b, &bl),
	      "SINCE.basis is not a bin of 0 or 32 bytes");
	if (bl != 0 && bl != 32)
		FAULT(HAMLET_EFORMAT, "SINCE.basis is %zu bytes, not 0 or 32",
		      bl);
	m->since.has_basis = bl == 32;
	if (bl)
		memcpy(m->since.basis, b, 32);
	if ((r = decode_heads(&f[1], "SINCE", m, why, whylen)) < 0)
		goto out;
	if (!bl && m->feeds.nfeeds)
		FAULT(HAMLET_EFORMAT, "SINCE names feeds without a basis");
	r = 0;
out:
	return r;
}

/* TAKE: [[index, seq]], indexes below WIRE_MAX_FEEDS. */
static int decode_take(const msgpack_object *f, struct wire_msg *m,
		       char *why, size_t whylen)
{
	const msgpack_object *it, *pair;
	size_t n;
	int r;
	CHECK(mp_get_array(&f[0], SIZE_MAX, WIRE_MAX_FEEDS, &it, &n),
	      "TAKE.items is not an array of at most %d", WIRE_MAX_FEEDS);
	for (size_t i = 0; i < n; i++) {
		struct wire_take *t = &m->take.v[i];
		CHECK(mp_get_array(&it[i], 2, 2, &pair, NULL),
		      "TAKE.items[%zu] is not [index, seq]", i);
		CHECK(mp_get_uint(&pair[0], WIRE_MAX_FEEDS - 1, &t->index),
		      "TAKE.items[%zu].index is not below %d", i,
		      WIRE_MAX_FEEDS);
		CHECK(mp_get_uint(&pair[1], ENTRY_MAX_SEQ, &t->seq),
		      "TAKE.items[%zu].seq is not a valid seq", i);
	}
	m->take.n = n;
	r = 0;
out:
	return r;
}

/* The fields of one message type; why names a bad one. */
static int decode_feeds(const msgpack_object *f, struct wire_msg *m,
			char *why, size_t whylen)
{
	const msgpack_object *fi;
	size_t n;
	int r;
	if ((r = decode_heads(&f[0], "FEEDS", m, why, whylen)) < 0)
		goto out;
	CHECK(mp_get_array(&f[1], SIZE_MAX, WIRE_MAX_IDS, &fi, &n),
	      "FEEDS.ids is not an array of at most %d", WIRE_MAX_IDS);
	for (size_t i = 0; i < n; i++)
		CHECK(mp_get_bin_fixed(&fi[i], 32, m->feeds.ids[i]),
		      "FEEDS.ids[%zu] is not a 32-byte bin", i);
	m->feeds.nids = n;
	r = 0;
out:
	return r;
}

static void *doc_alloc(void *ctx, size_t n)
{
	return mp_doc_alloc(ctx, n);
}

/* The fields of one message type; why names a bad one. The run is
 * decompressed (bounded by WIRE_MAX_MSG before anything is allocated)
 * and its envelopes rebuilt into d's memory. */
static int decode_entries(const msgpack_object *f, struct mp_doc *d,
			  struct wire_msg *m, char *why, size_t whylen)
{
	const uint8_t *data;
	uint8_t *raw, fk[32];
	struct run_head h;
	uint64_t codec;
	size_t len, n;
	int r;
	CHECK(mp_get_bin_fixed(&f[0], 32, m->entries.key),
	      "ENTRIES.key is not a 32-byte bin");
	CHECK(mp_get_uint(&f[1], WIRE_CODEC_ZSTD, &codec),
	      "ENTRIES.codec is not 0 (none) or 1 (zstd)");
	CHECK(mp_get_bin(&f[2], WIRE_MAX_MSG, &data, &len),
	      "ENTRIES.run is not a bin");
	CHECK(mp_get_bool(&f[3], &m->entries.last),
	      "ENTRIES.last is not a boolean");
	m->entries.codec = (int)codec;
	m->entries.raw_len = len;
	m->entries.n = 0;
	if (len == 0) {
		if (codec != WIRE_CODEC_NONE || !m->entries.last)
			FAULT(HAMLET_EFORMAT,
			      "ENTRIES.run is empty and does not close the batch");
		r = 0;
		goto out;
	}
	if (codec == WIRE_CODEC_ZSTD) {
		CHECK(zst_size(data, len, WIRE_MAX_MSG, &m->entries.raw_len),
		      "ENTRIES.run is not one zstd frame declaring at most %zu bytes",
		      WIRE_MAX_MSG);
		if (!(raw = mp_doc_alloc(d, m->entries.raw_len + 1)))
			FAULT(-ENOMEM, "out of memory");
		CHECK(zst_decompress(data, len, raw, m->entries.raw_len),
		      "ENTRIES.run does not decompress to the %zu bytes it declares",
		      m->entries.raw_len);
		data = raw;
		len = m->entries.raw_len;
	}
	if ((r = run_decode(data, len, WIRE_MAX_BATCH, doc_alloc, d, &h,
			    m->entries.v, &n, why, whylen)) < 0)
		goto out;
	if (n == 0 && !m->entries.last)
		FAULT(HAMLET_EFORMAT,
		      "ENTRIES.run is empty and does not close the batch");
	run_head_feed_key(&h, fk);
	if (n > 0 && memcmp(fk, m->entries.key, 32) != 0)
		FAULT(HAMLET_EFORMAT,
		      "ENTRIES.run is of feed (author, %s), not of ENTRIES.key",
		      h.scope);
	m->entries.n = n;
	r = 0;
out:
	return r;
}

/* TRUST_IDS.from or .to: an empty bin (no bound) or a key. */
static int get_bound(const msgpack_object *o, uint8_t *ret, int *ret_has)
{
	const uint8_t *p;
	size_t n;
	int r;
	if ((r = mp_get_bin(o, TRUST_KEY_LEN, &p, &n)) < 0)
		return r;
	if (n != 0 && n != TRUST_KEY_LEN)
		return HAMLET_EFORMAT;
	memcpy(ret, p, n);
	*ret_has = n != 0;
	return 0;
}

/* The fields of one message type; why names a bad one. */
static int decode_trust_ids(const msgpack_object *f, struct wire_msg *m,
			    char *why, size_t whylen)
{
	const msgpack_object *k;
	const uint8_t *p, *prev = NULL;
	size_t n, kl;
	int r;
	CHECK(get_bound(&f[0], m->trust_ids.from, &m->trust_ids.has_from),
	      "TRUST_IDS.from is not a bin of 0 or %d bytes", TRUST_KEY_LEN);
	CHECK(get_bound(&f[1], m->trust_ids.to, &m->trust_ids.has_to),
	      "TRUST_IDS.to is not a bin of 0 or %d bytes", TRUST_KEY_LEN);
	if (m->trust_ids.has_from && m->trust_ids.has_to &&
	    memcmp(m->trust_ids.from, m->trust_ids.to, TRUST_KEY_LEN) >= 0)
		FAULT(HAMLET_EFORMAT, "TRUST_IDS.from is not before .to");
	CHECK(mp_get_array(&f[2], SIZE_MAX, WIRE_MAX_TRUST_KEYS, &k, &n),
	      "TRUST_IDS.keys is not an array of at most %d",
	      WIRE_MAX_TRUST_KEYS);
	for (size_t i = 0; i < n; i++) {
		CHECK(mp_get_bin(&k[i], TRUST_KEY_LEN, &p, &kl),
		      "TRUST_IDS.keys[%zu] is not a %d-byte bin", i,
		      TRUST_KEY_LEN);
		if (kl != TRUST_KEY_LEN)
			FAULT(HAMLET_EFORMAT,
			      "TRUST_IDS.keys[%zu] is %zu bytes, not %d", i,
			      kl, TRUST_KEY_LEN);
		if ((prev && memcmp(prev, p, TRUST_KEY_LEN) >= 0) ||
		    (m->trust_ids.has_from &&
		     memcmp(p, m->trust_ids.from, TRUST_KEY_LEN) < 0) ||
		    (m->trust_ids.has_to &&
		     memcmp(p, m->trust_ids.to, TRUST_KEY_LEN) >= 0))
			FAULT(HAMLET_EFORMAT,
			      "TRUST_IDS.keys[%zu] is out of order or out of the range",
			      i);
		prev = p;
	}
	m->trust_ids.n = n;
	m->trust_ids.keys = k;
	r = 0;
out:
	return r;
}

/* The fields of one message type; why names a bad one. */
static int decode_trust_items(const msgpack_object *f, struct wire_msg *m,
			      char *why, size_t whylen)
{
	const msgpack_object *it, *e;
	uint64_t kind;
	size_t n;
	int r;
	CHECK(mp_get_array(&f[0], SIZE_MAX, WIRE_MAX_TRUST_ITEMS, &it, &n),
	      "TRUST_ITEMS.items is not an array of at most %d",
	      WIRE_MAX_TRUST_ITEMS);
	for (size_t i = 0; i < n; i++) {
		struct wire_trust_item *ti = &m->trust_items.v[i];
		CHECK(mp_get_array(&it[i], 2, 2, &e, NULL),
		      "TRUST_ITEMS.items[%zu] is not [kind, data]", i);
		CHECK(mp_get_uint(&e[0], TRUST_KIND_MAX, &kind),
		      "TRUST_ITEMS.items[%zu].kind is not 1, 2, 3 or 4", i);
		if (kind < TRUST_CERT)
			FAULT(HAMLET_EFORMAT,
			      "TRUST_ITEMS.items[%zu].kind is not 1, 2, 3 or 4",
			      i);
		CHECK(mp_get_bin(&e[1], TRUST_ITEM_MAX, &ti->data, &ti->len),
		      "TRUST_ITEMS.items[%zu].data is not a bin of at most %d bytes",
		      i, TRUST_ITEM_MAX);
		ti->kind = (int)kind;
	}
	m->trust_items.n = n;
	r = 0;
out:
	return r;
}

int wire_decode(const uint8_t *buf, size_t len, struct mp_doc *d,
		struct wire_msg *m, char *why, size_t whylen)
{
	const msgpack_object *f;
	size_t n;
	uint64_t type;
	const char *tn = "message";
	uint64_t version;
	int r, parsed = 0;

	if (why && whylen)
		why[0] = 0;
	if (len > WIRE_MAX_MSG)
		FAULT(HAMLET_ETOOBIG, "message of %zu bytes is over %zu", len,
		      WIRE_MAX_MSG);
	CHECK(mp_doc_parse(d, buf, len, WIRE_MAX_ITEMS),
	      "message is not one valid msgpack object");
	parsed = 1;
	CHECK(mp_get_array(d->root, SIZE_MAX, 1 + 7, &f, &n),
	      "message is not an array of at most 8 fields");
	if (n < 1)
		FAULT(HAMLET_EFORMAT, "message is an empty array");
	CHECK(mp_get_uint(&f[0], UINT8_MAX, &type),
	      "message type is not a small unsigned integer");
	if (type < 1 || type > WIRE__MAX)
		FAULT(HAMLET_EPROTO, "unknown message type %llu",
		      (unsigned long long)type);
	tn = type_names[type];
	/* a HELLO of another version may have other fields: say which */
	if (type == WIRE_HELLO && n >= 2 &&
	    mp_get_uint(&f[1], UINT32_MAX, &version) == 0 &&
	    version != WIRE_VERSION)
		FAULT(HAMLET_EVERSION, "HELLO.version %llu, we speak %d",
		      (unsigned long long)version, WIRE_VERSION);
	if (n - 1 != wire__type_fields[type])
		FAULT(n - 1 > wire__type_fields[type] ? HAMLET_ETOOBIG
						      : HAMLET_EFORMAT,
		      "%s has %zu fields, expected %zu", tn, n - 1,
		      wire__type_fields[type]);
	m->type = (int)type;
	f++;
	switch (type) {
	case WIRE_HELLO:
		if ((r = decode_hello(f, m, why, whylen)) < 0)
			goto out;
		break;
	case WIRE_NEG:
		CHECK(mp_get_bin(&f[0], WIRE_MAX_NEG, &m->neg.data,
				 &m->neg.len),
		      "NEG.data is not a bin of at most %zu bytes",
		      WIRE_MAX_NEG);
		if (m->neg.len == 0)
			FAULT(HAMLET_EFORMAT, "NEG.data is empty");
		break;
	case WIRE_FEEDS:
		if ((r = decode_feeds(f, m, why, whylen)) < 0)
			goto out;
		break;
	case WIRE_WANT:
		CHECK(mp_get_bin_fixed(&f[0], 32, m->want.key),
		      "WANT.key is not a 32-byte bin");
		CHECK(mp_get_uint(&f[1], ENTRY_MAX_SEQ, &m->want.seq),
		      "WANT.seq is not a valid seq");
		break;
	case WIRE_ENTRIES:
		if ((r = decode_entries(f, d, m, why, whylen)) < 0)
			goto out;
		break;
	case WIRE_ACK:
		CHECK(mp_get_uint(&f[0], WIRE_MAX_CREDIT, &m->ack.count),
		      "ACK.count is not an unsigned integer up to %d",
		      WIRE_MAX_CREDIT);
		CHECK(mp_get_uint(&f[1], WIRE_MAX_CREDIT, &m->ack.credit),
		      "ACK.credit is not an unsigned integer up to %d",
		      WIRE_MAX_CREDIT);
		if (m->ack.credit == 0)
			FAULT(HAMLET_EFORMAT, "ACK.credit is 0");
		CHECK(mp_get_uint(&f[2], WIRE_MAX_CREDIT, &m->ack.ahead),
		      "ACK.ahead is not an unsigned integer up to %d",
		      WIRE_MAX_CREDIT);
		if (m->ack.ahead > m->ack.count)
			FAULT(HAMLET_EFORMAT, "ACK.ahead %llu is over ACK.count %llu",
			      (unsigned long long)m->ack.ahead,
			      (unsigned long long)m->ack.count);
		break;
	case WIRE_KEEPALIVE:
		break;
	case WIRE_ERROR:
		CHECK(mp_get_int(&f[0], &m->error.code),
		      "ERROR.code is not an integer");
		CHECK(mp_get_cstr(&f[1], m->error.text, sizeof(m->error.text)),
		      "ERROR.text is not a string of at most %d bytes",
		      WIRE_MAX_TEXT);
		break;
	case WIRE_SINCE:
		if ((r = decode_since(f, m, why, whylen)) < 0)
			goto out;
		break;
	case WIRE_STATE:
		CHECK(mp_get_bin_fixed(&f[0], 32, m->state.digest),
		      "STATE.digest is not a 32-byte bin");
		break;
	case WIRE_TAKE:
		if ((r = decode_take(f, m, why, whylen)) < 0)
			goto out;
		break;
	case WIRE_CERTS_WANT:
		break;
	case WIRE_CERTS:
		CHECK(mp_get_bin(&f[0], CERT_CHAIN_MAX_BYTES, &m->certs.data,
				 &m->certs.len),
		      "CERTS.chain is not a bin of at most %d bytes",
		      (int)CERT_CHAIN_MAX_BYTES);
		if (m->certs.len == 0)
			FAULT(HAMLET_EFORMAT, "CERTS.chain is empty");
		break;
	case WIRE_TRUST_HAVE:
		CHECK(mp_get_bin_fixed(&f[0], 32, m->trust_have.digest),
		      "TRUST_HAVE.digest is not a 32-byte bin");
		CHECK(mp_get_uint(&f[1], UINT64_MAX, &m->trust_have.count),
		      "TRUST_HAVE.count is not an unsigned integer");
		break;
	case WIRE_TRUST_IDS:
		if ((r = decode_trust_ids(f, m, why, whylen)) < 0)
			goto out;
		break;
	case WIRE_TRUST_ITEMS:
		if ((r = decode_trust_items(f, m, why, whylen)) < 0)
			goto out;
		break;
	}
	(void)tn;
	r = 0;
out:
	if (r < 0 && parsed)
		mp_doc_close(d);
	return r;
}

/* --- handshake payload ------------------------------------------------- */

int wire_hs_payload(const uint8_t node[32], const uint8_t network_id[32],
		    uint8_t *out, size_t cap, size_t *ret_len)
{
	struct mp_writer w;
	uint8_t *p;
	size_t n;
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 3);
	msgpack_pack_uint32(&w.pk, WIRE_VERSION);
	mp_pack_bin(&w.pk, node, 32);
	mp_pack_bin(&w.pk, network_id, 32);
	p = mp_writer_take(&w, &n);
	mp_writer_destroy(&w);
	if (!p)
		return -ENOMEM;
	if (n > cap) {
		free(p);
		return -ENOBUFS;
	}
	memcpy(out, p, n);
	free(p);
	*ret_len = n;
	return 0;
}

int wire_hs_payload_decode(const uint8_t *buf, size_t len,
			   uint8_t ret_node[32], uint8_t ret_network_id[32])
{
	struct mp_doc d;
	const msgpack_object *f;
	uint64_t v;
	uint8_t node[32], net[32];
	int r;
	if ((r = mp_doc_parse(&d, buf, len, 4)) < 0)
		return r;
	if ((r = mp_get_array(d.root, 3, 3, &f, NULL)) < 0 ||
	    (r = mp_get_uint(&f[0], UINT32_MAX, &v)) < 0 ||
	    (r = mp_get_bin_fixed(&f[1], 32, node)) < 0 ||
	    (r = mp_get_bin_fixed(&f[2], 32, net)) < 0)
		goto out;
	if (v != WIRE_VERSION) {
		r = HAMLET_EVERSION;
		goto out;
	}
	memcpy(ret_node, node, 32);
	memcpy(ret_network_id, net, 32);
	r = 0;
out:
	mp_doc_close(&d);
	return r;
}

/* --- frames ------------------------------------------------------------ */

int wire_frames_seal(struct noise_cipher *c, const uint8_t *msg, size_t len,
		     uint8_t **ret, size_t *ret_len)
{
	size_t nfr = len ? (len + WIRE_FRAG_MAX - 1) / WIRE_FRAG_MAX : 1;
	size_t total = len + nfr * (2 + 1 + NOISE_TAG_LEN), off = 0;
	struct bytes_writer w, fw;
	uint8_t *out, *p;
	int r;

	if (len > WIRE_MAX_MSG)
		return HAMLET_ETOOBIG;
	if (!(out = malloc(total)))
		return -ENOMEM;
	bytes_writer_init(&w, out, total);
	for (size_t i = 0; i < nfr; i++) {
		size_t n = len - off > WIRE_FRAG_MAX ? WIRE_FRAG_MAX : len - off;
		size_t cl = 1 + n + NOISE_TAG_LEN; /* <= WIRE_FRAME_MAX */
		uint8_t flags = i + 1 < nfr ? WIRE_FRAG_MORE : 0;

		/* the plaintext fills the frame but its tag, sealed in place */
		if ((r = bytes_put_be16(&w, (uint16_t)cl)) < 0 ||
		    (r = bytes_reserve(&w, cl, &p)) < 0)
			goto out;
		bytes_writer_init(&fw, p, cl);
		if ((r = bytes_put_u8(&fw, flags)) < 0 ||
		    (r = bytes_put_bytes(&fw, msg + off, n)) < 0 ||
		    (r = noise_cipher_encrypt(c, NULL, 0, p, bytes_written(&fw),
					      p)) < 0)
			goto out;
		off += n;
	}
	*ret = out;
	*ret_len = bytes_written(&w);
	out = NULL;
	r = 0;
out:
	free(out);
	return r;
}

int wire_frame_open(struct noise_cipher *c, uint8_t *cipher, size_t len,
		    const uint8_t **ret_frag, size_t *ret_frag_len,
		    int *ret_more)
{
	struct bytes_reader b;
	const uint8_t *frag;
	uint8_t flags;
	size_t n;
	int r;
	if (len < NOISE_TAG_LEN + 1)
		return HAMLET_EFORMAT;
	if ((r = noise_cipher_decrypt(c, NULL, 0, cipher, len, cipher)) < 0)
		return r;
	/* the plaintext: a flags byte, then the fragment */
	bytes_reader_init(&b, cipher, len - NOISE_TAG_LEN);
	if ((r = bytes_get_u8(&b, &flags)) < 0)
		return r;
	if (flags & ~WIRE_FRAG_MORE)
		return HAMLET_EFORMAT;
	n = bytes_remaining(&b);
	if ((r = bytes_borrow(&b, n, &frag)) < 0)
		return r;
	*ret_more = flags & WIRE_FRAG_MORE;
	*ret_frag = frag;
	*ret_frag_len = n;
	return 0;
}

/* --- the digest of shared heads ---------------------------------------- */

#define HEADS_DIGEST_KEY "hamlet/sync-heads/v1"

void wire_heads_digest_init(struct wire_heads_digest *d, uint64_t n)
{
	uint8_t b[8];
	for (int i = 7; i >= 0; i--, n >>= 8)
		b[i] = (uint8_t)n;
	crypto_generichash_blake2b_init(&d->h, (const uint8_t *)HEADS_DIGEST_KEY,
					sizeof(HEADS_DIGEST_KEY) - 1, 32);
	crypto_generichash_blake2b_update(&d->h, b, 8);
}

void wire_heads_digest_add(struct wire_heads_digest *d, const uint8_t id[32])
{
	crypto_generichash_blake2b_update(&d->h, id, 32);
}

void wire_heads_digest_final(struct wire_heads_digest *d, uint8_t ret[32])
{
	crypto_generichash_blake2b_final(&d->h, ret, 32);
}
