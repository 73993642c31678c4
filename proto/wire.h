/*
 * wire: the replication protocol's messages and frames. proto/SPEC.md §5
 * is the normative text; this module is its code.
 *
 * A message is a msgpack array [type, ...]. After the Noise handshake each
 * message travels as one or more frames: u16 big-endian length, then a
 * Noise transport message (ChaChaPoly ciphertext and tag) whose plaintext
 * is one flags byte (WIRE_FRAG_MORE: another fragment of this message
 * follows) and a fragment of the message.
 *
 * Decoding is strict (proto/mp.h): wrong types, missing or extra fields,
 * trailing bytes and anything over a WIRE_MAX_* limit are errors, and
 * wire_decode() names the field at fault. No function logs.
 */
#ifndef HAMLET_WIRE_H
#define HAMLET_WIRE_H

#include "entry.h"
#include "mp.h"
#include "noise.h"
#include "run.h"
#include "trust.h"

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_VERSION 8
#define WIRE_PROLOGUE "hamlet/sync/v1"

/* Limits; every one is in SPEC.md §5.11 "Limits". */
#define WIRE_MAX_MSG ((size_t)1 << 20)	/* a reassembled message, bytes */
#define WIRE_FRAME_MAX NOISE_MAX_MSG	/* ciphertext bytes in one frame */
#define WIRE_FRAG_MAX (WIRE_FRAME_MAX - NOISE_TAG_LEN - 1) /* payload bytes */
#define WIRE_MAX_SCOPES 16		/* scope prefixes in HELLO */
#define WIRE_MAX_FEEDS 1024		/* (feed, seq) items in FEEDS */
#define WIRE_MAX_IDS 1024		/* negentropy ids in FEEDS */
#define WIRE_MAX_BATCH 256		/* entries in one ENTRIES message */
#define WIRE_BATCH_BYTES ((size_t)512 << 10) /* senders stop adding here */
#define WIRE_MAX_NEG ((size_t)60000)	/* negentropy message bytes */
#define WIRE_MAX_CREDIT 8192		/* entries in one batch (HELLO, ACK) */
#define WIRE_MAX_TEXT 200		/* ERROR text bytes */
#define WIRE_MAX_TRUST_KEYS 4096	/* keys in TRUST_IDS */
#define WIRE_MAX_TRUST_ITEMS 256	/* items in TRUST_ITEMS */
#define WIRE_MAX_CHAIN_REF 4	/* ids in a HELLO's chain reference */
#define WIRE_CHAIN_REF_LEN 16	/* bytes of each id it carries */
#define WIRE_MAX_ITEMS WIRE_MAX_TRUST_KEYS /* largest container in any message */

#define WIRE_FRAG_MORE 0x01

enum wire_type {
	WIRE_HELLO = 1,
	WIRE_NEG = 2,
	WIRE_FEEDS = 3,
	WIRE_WANT = 4,
	WIRE_ENTRIES = 5,
	WIRE_ACK = 6,
	WIRE_KEEPALIVE = 7,
	WIRE_ERROR = 8,
	WIRE_TRUST_HAVE = 9,
	WIRE_TRUST_IDS = 10,
	WIRE_TRUST_ITEMS = 11,
	WIRE_SINCE = 12,
	WIRE_STATE = 13,
	WIRE_TAKE = 14,
	WIRE_CERTS_WANT = 15,
	WIRE_CERTS = 16,
	WIRE__MAX = 16,
};

struct wire_feed {
	uint8_t key[32];
	uint64_t seq;
};

/* ENTRIES.codec: how the run's bytes travel. */
enum wire_codec {
	WIRE_CODEC_NONE = 0,
	WIRE_CODEC_ZSTD = 1, /* one zstd frame declaring its size (zst.h) */
};

/* One item of a TRUST_ITEMS message; data borrows from the message. Its
 * contents are not checked by wire_decode(): see trust_item_key(). */
struct wire_trust_item {
	int kind; /* enum trust_kind */
	const uint8_t *data;
	size_t len;
};

/*
 * A decoded message. It is large (about 100 KiB): allocate it once and
 * reuse it. An ENTRIES message's run (proto/run.h) is decompressed and
 * its envelopes rebuilt by wire_decode(), so entries.v[] holds the very
 * envelopes that were signed. Borrowed pointers (neg.data, entries.v[i].*,
 * trust_ids.keys, trust_items.v[i].data) live as long as the mp_doc and
 * the buffer given to wire_decode().
 */
struct wire_msg {
	int type;
	struct {
		uint64_t version;
		size_t nscopes;
		char scopes[WIRE_MAX_SCOPES][ENTRY_MAX_SCOPE + 1];
		uint64_t credit;
		uint8_t proof[64];   /* Ed25519 over the handshake hash */
		/* the sender's chain: either its chain file (borrowed;
		 * certs_len 0: none) or, when nref > 0, the first
		 * WIRE_CHAIN_REF_LEN bytes of the ids of its certificates,
		 * leaf first, for the receiver to find in its trust set */
		const uint8_t *certs;
		size_t certs_len;
		size_t nref;
		uint8_t ref[WIRE_MAX_CHAIN_REF][WIRE_CHAIN_REF_LEN];
	} hello;
	struct {
		const uint8_t *data; /* CERTS: a chain file, borrowed */
		size_t len;
	} certs;
	struct {
		const uint8_t *data;
		size_t len;
	} neg;
	struct {
		size_t nfeeds;
		struct wire_feed feeds[WIRE_MAX_FEEDS];
		size_t nids;
		uint8_t ids[WIRE_MAX_IDS][32];
	} feeds;
	/* SINCE: our basis with the peer (none: has_basis 0) and the
	 * shared feeds our heads moved since, in feeds.feeds[] */
	struct {
		uint8_t basis[32];
		int has_basis;
	} since;
	struct {
		uint8_t digest[32]; /* of the heads of the shared feeds */
	} state;
	/* TAKE: "send feed index of your SINCE from seq + 1", n times */
	struct {
		size_t n;
		struct wire_take {
			uint64_t index, seq;
		} v[WIRE_MAX_FEEDS];
	} take;
	struct wire_feed want;
	struct {
		uint8_t key[32];
		int codec;	/* enum wire_codec, as received */
		size_t raw_len; /* bytes of the run once decompressed */
		size_t n;
		/* rebuilt envelopes and decompressed bytes live in the
		 * mp_doc's memory: they go with mp_doc_close() */
		struct run_entry v[WIRE_MAX_BATCH];
		int last; /* this message closes the batch */
	} entries;
	struct {
		uint64_t count;	 /* entries of the batch committed */
		uint64_t credit; /* the most entries the next batch may hold */
		/* of count, those the receiver refused as dated too far
		 * ahead of its clock (SPEC 5.7): the sender's clock, or the
		 * receiver's, is wrong */
		uint64_t ahead;
	} ack;
	struct {
		int64_t code;
		char text[WIRE_MAX_TEXT + 1];
	} error;
	struct {
		uint8_t digest[32]; /* of the sender's trust set */
		uint64_t count;	    /* items in it */
	} trust_have;
	/* "The sender's trust set, within [from, to) by key order, holds
	 * exactly these keys." */
	struct {
		uint8_t from[TRUST_KEY_LEN], to[TRUST_KEY_LEN];
		int has_from, has_to; /* 0: from the start, to the end */
		size_t n;
		/* the message's n keys, each checked to be a bin of
		 * TRUST_KEY_LEN bytes, ascending, within the range; read
		 * key i with wire_trust_key(m, i). Kept as the parsed array
		 * rather than copied: a copy would be 132 KiB. */
		const msgpack_object *keys;
	} trust_ids;
	struct {
		size_t n;
		struct wire_trust_item v[WIRE_MAX_TRUST_ITEMS];
	} trust_items;
};

/* Key i (< m->trust_ids.n, TRUST_KEY_LEN bytes) of a decoded TRUST_IDS;
 * borrowed like the message's other pointers. */
static inline const uint8_t *wire_trust_key(const struct wire_msg *m,
					    size_t i)
{
	return (const uint8_t *)m->trust_ids.keys[i].via.bin.ptr;
}

/* "HELLO", "NEG", ... or "?" */
const char *wire_type_name(int type);

/*
 * Decode the message buf (len bytes) into m. d receives the parsed
 * document; on success the caller mp_doc_close()s it when done with m.
 * Errors: HAMLET_EFORMAT (not msgpack, truncated, wrong field count),
 * HAMLET_ETRAILING, HAMLET_ETYPE, HAMLET_ETOOBIG, HAMLET_EPROTO (unknown
 * type), HAMLET_EVERSION; why (may be NULL) names the message and field.
 * On failure nothing is left to free.
 */
int wire_decode(const uint8_t *buf, size_t len, struct mp_doc *d,
		struct wire_msg *m, char *why, size_t whylen);

/*
 * Encoders: each appends one message to w. The caller takes the bytes
 * with mp_writer_take(). They check the limits the receiver will check
 * and return HAMLET_ETOOBIG rather than write something it would refuse.
 */
int wire_put_hello(struct mp_writer *w, const char *const *scopes,
		   size_t nscopes, uint64_t credit, const uint8_t proof[64],
		   const uint8_t *certs, size_t certs_len);
/* HELLO naming the sender's chain by its certificates' ids ref[0..nref),
 * leaf first (1 <= nref <= WIRE_MAX_CHAIN_REF, else -EINVAL), in place of
 * the chain file: for a peer that holds it in its trust set. Each id goes
 * as its first WIRE_CHAIN_REF_LEN bytes. */
int wire_put_hello_ref(struct mp_writer *w, const char *const *scopes,
		       size_t nscopes, uint64_t credit, const uint8_t proof[64],
		       const uint8_t (*ref)[32], size_t nref);
/* CERTS_WANT: "send me your chain file" (the reference did not resolve);
 * CERTS: the chain file (1..CERT_CHAIN_MAX_BYTES bytes). */
int wire_put_certs_want(struct mp_writer *w);
int wire_put_certs(struct mp_writer *w, const uint8_t *certs, size_t len);

/*
 * HELLO's proof: node's Ed25519 signature (sk, 64 bytes) over
 * "hamlet hello v2\0" || the session's Noise handshake hash, binding the
 * Ed25519 identity to this session; and its check against node.
 */
#define WIRE_PROOF_PREFIX "hamlet hello v2"
int wire_hello_prove(const uint8_t sk[64], const uint8_t hs_hash[64],
		     uint8_t ret_proof[64]);
int wire_hello_proof_check(const uint8_t node[32], const uint8_t hs_hash[64],
			   const uint8_t proof[64]);
int wire_put_neg(struct mp_writer *w, const uint8_t *data, size_t len);
int wire_put_feeds(struct mp_writer *w, const struct wire_feed *feeds,
		   size_t nfeeds, const uint8_t (*ids)[32], size_t nids);
int wire_put_want(struct mp_writer *w, const uint8_t key[32], uint64_t seq);
/* SINCE: basis NULL for none (then nfeeds must be 0). */
int wire_put_since(struct mp_writer *w, const uint8_t *basis,
		   const struct wire_feed *feeds, size_t nfeeds);
int wire_put_state(struct mp_writer *w, const uint8_t digest[32]);
int wire_put_take(struct mp_writer *w, const struct wire_take *v, size_t n);

/*
 * The digest STATE and SINCE carry (SPEC 5.6): BLAKE2b-256 keyed
 * "hamlet/sync-heads/v1" over be64(n) and the n shared heads' item ids,
 * added in ascending order.
 */
struct wire_heads_digest {
	crypto_generichash_blake2b_state h;
};
void wire_heads_digest_init(struct wire_heads_digest *d, uint64_t n);
void wire_heads_digest_add(struct wire_heads_digest *d, const uint8_t id[32]);
void wire_heads_digest_final(struct wire_heads_digest *d, uint8_t ret[32]);
/*
 * ENTRIES: the run v[0..n) of consecutive entries of feed key (n <=
 * WIRE_MAX_BATCH; 0 only for an empty message closing a batch), in
 * compact form where the envelope allows (run.h), compressed with zstd
 * when that is smaller. h is the run's head (NULL: read from v[0]'s
 * envelope). The `last` flag is the message's final byte, so a sender
 * holding an encoded message can still decide whether it closes the
 * batch with wire_entries_set_last(). st (may be NULL) counts compact
 * and whole entries. HAMLET_ETOOBIG for too many entries or a message
 * over WIRE_MAX_MSG.
 */
int wire_put_entries(struct mp_writer *w, const uint8_t key[32],
		     const struct run_head *h, const struct run_entry *v,
		     size_t n, int last, struct run_stats *st);
void wire_entries_set_last(uint8_t *msg, size_t len, int last);
/* ACK: count entries committed, of which ahead (<= count) were refused
 * as dated too far ahead; credit for the batch two after it. */
int wire_put_ack(struct mp_writer *w, uint64_t count, uint64_t credit,
		 uint64_t ahead);
int wire_put_keepalive(struct mp_writer *w);
int wire_put_error(struct mp_writer *w, int64_t code, const char *text);

/* TRUST_HAVE: the digest of the sender's trust set and its item count. */
int wire_put_trust_have(struct mp_writer *w, const uint8_t digest[32],
			uint64_t count);
/*
 * TRUST_IDS: the sender holds exactly keys[0..n) within [from, to)
 * (NULL: from the start, to the end). The keys must ascend strictly and
 * lie within the range (-EINVAL otherwise); n <= WIRE_MAX_TRUST_KEYS.
 */
int wire_put_trust_ids(struct mp_writer *w, const uint8_t *from,
		       const uint8_t *to, const uint8_t (*keys)[TRUST_KEY_LEN],
		       size_t n);
/*
 * TRUST_ITEMS: n <= WIRE_MAX_TRUST_ITEMS items, item i of kind kinds[i]
 * (enum trust_kind, else -EINVAL) and bytes data[i] (lens[i] <=
 * TRUST_ITEM_MAX). HAMLET_ETOOBIG when the message would be over
 * WIRE_MAX_MSG: send fewer.
 */
int wire_put_trust_items(struct mp_writer *w, const int *kinds,
			 const uint8_t *const *data, const size_t *lens,
			 size_t n);

/*
 * The handshake payload of messages 2 and 3: [version, ed25519 pk,
 * network id]. wire_hs_payload_decode() is strict like wire_decode().
 */
int wire_hs_payload(const uint8_t node[32], const uint8_t network_id[32],
		    uint8_t *out, size_t cap, size_t *ret_len);
int wire_hs_payload_decode(const uint8_t *buf, size_t len,
			   uint8_t ret_node[32], uint8_t ret_network_id[32]);

/*
 * Seal the message msg (len <= WIRE_MAX_MSG bytes) into frames with c.
 * On success *ret (*ret_len bytes) is the caller's to free().
 * Returns 0, HAMLET_ETOOBIG, -ENOMEM or a noise_cipher_encrypt() error.
 */
int wire_frames_seal(struct noise_cipher *c, const uint8_t *msg, size_t len,
		     uint8_t **ret, size_t *ret_len);

/*
 * Open one frame's ciphertext (the bytes after the length) in place.
 * On success *ret_frag points into cipher (*ret_frag_len bytes) and
 * *ret_more says whether more fragments follow. Returns 0,
 * HAMLET_EDECRYPT, HAMLET_EFORMAT (empty plaintext or unknown flags).
 */
int wire_frame_open(struct noise_cipher *c, uint8_t *cipher, size_t len,
		    const uint8_t **ret_frag, size_t *ret_frag_len,
		    int *ret_more);

#endif
