/*
 * wire_encode: packing the sync messages (SPEC section 5), one
 * wire_put_* per message type, and HELLO's proof of the handshake.
 * Decoding, the identity payload and frames are in wire.c.
 */
#include "wire_internal.h"

#include "sig.h"
#include "zst.h"

#include "error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* --- encoding ---------------------------------------------------------- */

static void put_head(struct mp_writer *w, int type)
{
	msgpack_pack_array(&w->pk, 1 + wire__type_fields[type]);
	msgpack_pack_uint8(&w->pk, (uint8_t)type);
}

int wire_hello_prove(const uint8_t sk[64], const uint8_t hs_hash[64],
		     uint8_t ret_proof[64])
{
	return sig_sign(WIRE_PROOF_PREFIX, sizeof(WIRE_PROOF_PREFIX), hs_hash,
			64, sk, ret_proof);
}

int wire_hello_proof_check(const uint8_t node[32], const uint8_t hs_hash[64],
			   const uint8_t proof[64])
{
	return sig_verify(WIRE_PROOF_PREFIX, sizeof(WIRE_PROOF_PREFIX),
			  hs_hash, 64, proof, node);
}

/* HELLO up to its last field, certs, which the caller packs. */
static int put_hello_head(struct mp_writer *w, const char *const *scopes,
			  size_t nscopes,
			  uint64_t credit, const uint8_t proof[64])
{
	if (nscopes > WIRE_MAX_SCOPES || credit > WIRE_MAX_CREDIT)
		return HAMLET_ETOOBIG;
	for (size_t i = 0; i < nscopes; i++)
		if (strlen(scopes[i]) > ENTRY_MAX_SCOPE)
			return HAMLET_ETOOBIG;
	put_head(w, WIRE_HELLO);
	msgpack_pack_uint32(&w->pk, WIRE_VERSION);
	msgpack_pack_array(&w->pk, nscopes);
	for (size_t i = 0; i < nscopes; i++)
		mp_pack_str(&w->pk, scopes[i]);
	msgpack_pack_uint64(&w->pk, credit);
	mp_pack_bin(&w->pk, proof, 64);
	return 0;
}

int wire_put_hello(struct mp_writer *w, const char *const *scopes,
		   size_t nscopes, uint64_t credit, const uint8_t proof[64],
		   const uint8_t *certs, size_t certs_len)
{
	int r;
	if (certs_len > CERT_CHAIN_MAX_BYTES)
		return HAMLET_ETOOBIG;
	if ((r = put_hello_head(w, scopes, nscopes, credit,
				proof)) < 0)
		return r;
	mp_pack_bin(&w->pk, certs_len ? certs : (const uint8_t *)"", certs_len);
	return 0;
}

int wire_put_hello_ref(struct mp_writer *w, const char *const *scopes,
		       size_t nscopes, uint64_t credit, const uint8_t proof[64],
		       const uint8_t (*ref)[32], size_t nref)
{
	int r;
	if (nref == 0 || nref > WIRE_MAX_CHAIN_REF)
		return -EINVAL;
	if ((r = put_hello_head(w, scopes, nscopes, credit,
				proof)) < 0)
		return r;
	msgpack_pack_array(&w->pk, nref);
	for (size_t i = 0; i < nref; i++)
		mp_pack_bin(&w->pk, ref[i], WIRE_CHAIN_REF_LEN);
	return 0;
}

int wire_put_certs_want(struct mp_writer *w)
{
	put_head(w, WIRE_CERTS_WANT);
	return 0;
}

int wire_put_certs(struct mp_writer *w, const uint8_t *certs, size_t len)
{
	if (len > CERT_CHAIN_MAX_BYTES)
		return HAMLET_ETOOBIG;
	if (len == 0)
		return -EINVAL;
	put_head(w, WIRE_CERTS);
	mp_pack_bin(&w->pk, certs, len);
	return 0;
}

int wire_put_neg(struct mp_writer *w, const uint8_t *data, size_t len)
{
	if (len > WIRE_MAX_NEG)
		return HAMLET_ETOOBIG;
	if (len == 0)
		return -EINVAL;
	put_head(w, WIRE_NEG);
	mp_pack_bin(&w->pk, data, len);
	return 0;
}

static void put_heads(struct mp_writer *w, const struct wire_feed *feeds,
		      size_t nfeeds)
{
	msgpack_pack_array(&w->pk, nfeeds);
	for (size_t i = 0; i < nfeeds; i++) {
		msgpack_pack_array(&w->pk, 2);
		mp_pack_bin(&w->pk, feeds[i].key, 32);
		msgpack_pack_uint64(&w->pk, feeds[i].seq);
	}
}

int wire_put_feeds(struct mp_writer *w, const struct wire_feed *feeds,
		   size_t nfeeds, const uint8_t (*ids)[32], size_t nids)
{
	if (nfeeds > WIRE_MAX_FEEDS || nids > WIRE_MAX_IDS)
		return HAMLET_ETOOBIG;
	put_head(w, WIRE_FEEDS);
	put_heads(w, feeds, nfeeds);
	msgpack_pack_array(&w->pk, nids);
	for (size_t i = 0; i < nids; i++)
		mp_pack_bin(&w->pk, ids[i], 32);
	return 0;
}

int wire_put_since(struct mp_writer *w, const uint8_t *basis,
		   const struct wire_feed *feeds, size_t nfeeds)
{
	if (nfeeds > WIRE_MAX_FEEDS)
		return HAMLET_ETOOBIG;
	if (!basis && nfeeds)
		return -EINVAL;
	put_head(w, WIRE_SINCE);
	mp_pack_bin(&w->pk, basis ? basis : (const uint8_t *)"", basis ? 32 : 0);
	put_heads(w, feeds, nfeeds);
	return 0;
}

int wire_put_state(struct mp_writer *w, const uint8_t digest[32])
{
	put_head(w, WIRE_STATE);
	mp_pack_bin(&w->pk, digest, 32);
	return 0;
}

int wire_put_take(struct mp_writer *w, const struct wire_take *v, size_t n)
{
	if (n > WIRE_MAX_FEEDS)
		return HAMLET_ETOOBIG;
	for (size_t i = 0; i < n; i++)
		if (v[i].index >= WIRE_MAX_FEEDS)
			return -EINVAL;
	put_head(w, WIRE_TAKE);
	msgpack_pack_array(&w->pk, n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_array(&w->pk, 2);
		msgpack_pack_uint64(&w->pk, v[i].index);
		msgpack_pack_uint64(&w->pk, v[i].seq);
	}
	return 0;
}

int wire_put_want(struct mp_writer *w, const uint8_t key[32], uint64_t seq)
{
	put_head(w, WIRE_WANT);
	mp_pack_bin(&w->pk, key, 32);
	msgpack_pack_uint64(&w->pk, seq);
	return 0;
}

int wire_put_entries(struct mp_writer *w, const uint8_t key[32],
		     const struct run_head *h, const struct run_entry *v,
		     size_t n, int last, struct run_stats *st)
{
	struct run_head hd;
	uint8_t *run = NULL, *z = NULL;
	size_t rl = 0, zl = 0;
	int r, codec = WIRE_CODEC_NONE;

	if (n > WIRE_MAX_BATCH)
		return HAMLET_ETOOBIG;
	if (n > 0) {
		if (!h) {
			if ((r = run_head_of(&v[0], &hd)) < 0)
				return r;
			h = &hd;
		}
		if ((r = run_encode(h, v, n, &run, &rl, st)) < 0)
			return r;
		if (rl > WIRE_MAX_MSG) {
			free(run);
			return HAMLET_ETOOBIG;
		}
		/* compressed only where it pays */
		if ((r = zst_compress(run, rl, &z, &zl)) < 0) {
			free(run);
			return r;
		}
		if (zl < rl)
			codec = WIRE_CODEC_ZSTD;
	}
	put_head(w, WIRE_ENTRIES);
	mp_pack_bin(&w->pk, key, 32);
	msgpack_pack_uint8(&w->pk, (uint8_t)codec);
	if (codec == WIRE_CODEC_ZSTD)
		mp_pack_bin(&w->pk, z, zl);
	else
		mp_pack_bin(&w->pk, run ? run : (const uint8_t *)"", rl);
	if (last)
		msgpack_pack_true(&w->pk);
	else
		msgpack_pack_false(&w->pk);
	free(run);
	free(z);
	return 0;
}

void wire_entries_set_last(uint8_t *msg, size_t len, int last)
{
	/* msgpack false is 0xc2, true 0xc3: one byte, the message's last */
	if (len > 0 && (msg[len - 1] == 0xc2 || msg[len - 1] == 0xc3))
		msg[len - 1] = last ? 0xc3 : 0xc2;
}

int wire_put_ack(struct mp_writer *w, uint64_t count, uint64_t credit,
		 uint64_t ahead)
{
	if (count > WIRE_MAX_CREDIT || credit > WIRE_MAX_CREDIT)
		return HAMLET_ETOOBIG;
	if (credit == 0 || ahead > count)
		return -EINVAL;
	put_head(w, WIRE_ACK);
	msgpack_pack_uint64(&w->pk, count);
	msgpack_pack_uint64(&w->pk, credit);
	msgpack_pack_uint64(&w->pk, ahead);
	return 0;
}

int wire_put_keepalive(struct mp_writer *w)
{
	put_head(w, WIRE_KEEPALIVE);
	return 0;
}

int wire_put_error(struct mp_writer *w, int64_t code, const char *text)
{
	size_t n = strlen(text);
	put_head(w, WIRE_ERROR);
	msgpack_pack_int64(&w->pk, code);
	mp_pack_strn(&w->pk, text, n > WIRE_MAX_TEXT ? WIRE_MAX_TEXT : n);
	return 0;
}

int wire_put_trust_have(struct mp_writer *w, const uint8_t digest[32],
			uint64_t count)
{
	put_head(w, WIRE_TRUST_HAVE);
	mp_pack_bin(&w->pk, digest, 32);
	msgpack_pack_uint64(&w->pk, count);
	return 0;
}

int wire_put_trust_ids(struct mp_writer *w, const uint8_t *from,
		       const uint8_t *to, const uint8_t (*keys)[TRUST_KEY_LEN],
		       size_t n)
{
	if (n > WIRE_MAX_TRUST_KEYS)
		return HAMLET_ETOOBIG;
	if (from && to && memcmp(from, to, TRUST_KEY_LEN) >= 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if ((i && memcmp(keys[i - 1], keys[i], TRUST_KEY_LEN) >= 0) ||
		    (from && memcmp(keys[i], from, TRUST_KEY_LEN) < 0) ||
		    (to && memcmp(keys[i], to, TRUST_KEY_LEN) >= 0))
			return -EINVAL;
	put_head(w, WIRE_TRUST_IDS);
	mp_pack_bin(&w->pk, from ? from : (const uint8_t *)"",
		    from ? TRUST_KEY_LEN : 0);
	mp_pack_bin(&w->pk, to ? to : (const uint8_t *)"",
		    to ? TRUST_KEY_LEN : 0);
	msgpack_pack_array(&w->pk, n);
	for (size_t i = 0; i < n; i++)
		mp_pack_bin(&w->pk, keys[i], TRUST_KEY_LEN);
	return 0;
}

/* Bytes of the msgpack header of a bin of n bytes. */
static size_t bin_head(size_t n)
{
	return n < 256 ? 2 : n < 65536 ? 3 : 5;
}

int wire_put_trust_items(struct mp_writer *w, const int *kinds,
			 const uint8_t *const *data, const size_t *lens,
			 size_t n)
{
	/* [11, [[kind, data], ...]]: fixarray, type, the items' array */
	size_t total = 1 + 1 + (n < 16 ? 1 : 3);

	if (n > WIRE_MAX_TRUST_ITEMS)
		return HAMLET_ETOOBIG;
	for (size_t i = 0; i < n; i++) {
		if (kinds[i] < TRUST_CERT || kinds[i] > TRUST_KIND_MAX)
			return -EINVAL;
		if (lens[i] > TRUST_ITEM_MAX)
			return HAMLET_ETOOBIG;
		total += 1 + 1 + bin_head(lens[i]) + lens[i];
	}
	if (total > WIRE_MAX_MSG)
		return HAMLET_ETOOBIG;
	put_head(w, WIRE_TRUST_ITEMS);
	msgpack_pack_array(&w->pk, n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_array(&w->pk, 2);
		msgpack_pack_uint8(&w->pk, (uint8_t)kinds[i]);
		mp_pack_bin(&w->pk, lens[i] ? data[i] : (const uint8_t *)"",
			    lens[i]);
	}
	return 0;
}
