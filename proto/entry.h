/*
 * entry: the signed operation that every record, certificate and
 * revocation travels in. proto/SPEC.md "Entries" is the normative text;
 * this module is its code.
 *
 * An entry is an envelope (a msgpack array of 13 fields) plus an Ed25519
 * signature over ENTRY_SIG_PREFIX || envelope bytes. The entry id is
 * BLAKE2b-256 of the envelope bytes exactly as received: nothing is ever
 * re-encoded to verify.
 */
#ifndef HAMLET_ENTRY_H
#define HAMLET_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#define ENTRY_VERSION 1
#define ENTRY_ID_LEN 32
#define ENTRY_KEY_LEN 32
#define ENTRY_SIG_LEN 64
#define ENTRY_HASH_LEN 32
#define ENTRY_FIELDS 13

#define ENTRY_MAX_SCOPE 128	/* bytes */
#define ENTRY_MAX_COLLECTION 32 /* bytes */
#define ENTRY_MAX_RECORD_ID 64	/* bytes */
#define ENTRY_MAX_DEPS 16
#define ENTRY_MAX_BODY 65536	/* bytes */
#define ENTRY_MAX_ENVELOPE 1024 /* bytes */
#define ENTRY_MAX_SEQ ((uint64_t)1 << 53)

/* "hamlet/entry/v1" and its NUL: the signature domain. */
#define ENTRY_SIG_PREFIX "hamlet/entry/v1"
#define ENTRY_SIG_PREFIX_LEN 16

enum entry_kind {
	ENTRY_PUT = 1,
	ENTRY_DELETE = 2,
	ENTRY_CERT = 3,
	ENTRY_REVOKE = 4,
	ENTRY_ERASE = 5,
};

/* A decoded envelope. Strings are NUL-terminated copies. */
struct entry {
	uint8_t network_id[32];
	uint8_t author[ENTRY_KEY_LEN];
	char scope[ENTRY_MAX_SCOPE + 1];
	uint64_t seq;
	int has_prev;
	uint8_t prev[ENTRY_ID_LEN];
	uint64_t hlc;
	int kind;
	char collection[ENTRY_MAX_COLLECTION + 1];
	char record_id[ENTRY_MAX_RECORD_ID + 1];
	size_t ndeps;
	uint8_t deps[ENTRY_MAX_DEPS][ENTRY_ID_LEN];
	int has_body;
	uint8_t body_hash[ENTRY_HASH_LEN];
	uint64_t body_len;
};

/*
 * Encode e into a newly allocated envelope (*ret, free() it). Checks
 * every field against its limit first: HAMLET_ETOOBIG, HAMLET_ESCOPE,
 * HAMLET_EID, HAMLET_EFORMAT name what is wrong.
 */
int entry_encode(const struct entry *e, uint8_t **ret, size_t *ret_len);

/*
 * The first bytes entry_encode() writes for every envelope of network
 * network_id, author and scope (scope_len bytes, no NUL needed): the
 * array's header, the version, the network id, the author and the scope.
 * Written to ret; returns their length, 0 when scope is too long. A
 * store keeps them once for a feed (daemon/core/entries.h).
 */
#define ENTRY_MAX_HEAD (1 + 1 + 2 + 32 + 2 + ENTRY_KEY_LEN + 2 + ENTRY_MAX_SCOPE)
size_t entry_head_encode(const uint8_t network_id[32],
			 const uint8_t author[ENTRY_KEY_LEN],
			 const char *scope, size_t scope_len,
			 uint8_t ret[ENTRY_MAX_HEAD]);

/*
 * Strictly decode an envelope: wrong types are HAMLET_ETYPE, a field over
 * its limit HAMLET_ETOOBIG, extra or missing fields HAMLET_EFORMAT,
 * trailing bytes HAMLET_ETRAILING, another version HAMLET_EVERSION.
 * If ret_field is not NULL, it receives the index of the field at fault,
 * ENTRY_FIELDS when the envelope is not an array of ENTRY_FIELDS
 * elements, -1 when the fault is not in one field (not msgpack, cut
 * short, trailing bytes, over ENTRY_MAX_ENVELOPE).
 */
int entry_decode(const uint8_t *env, size_t len, struct entry *ret,
		 int *ret_field);

/* The name of envelope field i ("author", "seq", ...), for messages. */
const char *entry_field_name(int i);
const char *entry_kind_name(int kind);

/* Entry id: BLAKE2b-256 of the envelope bytes. */
void entry_id(const uint8_t *env, size_t len, uint8_t ret_id[ENTRY_ID_LEN]);

/* Body hash: BLAKE2b-256 of the body bytes. */
void entry_body_hash(const uint8_t *body, size_t len,
		     uint8_t ret_hash[ENTRY_HASH_LEN]);

/* Sign env with the author's libsodium secret key (64 bytes). */
int entry_sign(const uint8_t *env, size_t len, const uint8_t sk[64],
	       uint8_t ret_sig[ENTRY_SIG_LEN]);

/* 0 when sig is the author's signature over env, else HAMLET_ESIG.
 * Thread-safe; touches no shared state. */
int entry_verify(const uint8_t *env, size_t len, const uint8_t *sig,
		 const uint8_t author[ENTRY_KEY_LEN]);

/*
 * Syntax checks shared with the CLI: a scope is 1-8 segments of
 * [a-z0-9-] (each 1-32 bytes) joined by '/', at most 128 bytes; a record
 * id is 1-64 bytes of [A-Za-z0-9._:-]; a collection name is 1-32 bytes of
 * [a-z0-9_]. 0 or HAMLET_ESCOPE / HAMLET_EID / HAMLET_ECOLLECTION.
 */
int entry_scope_check(const char *scope);
int entry_record_id_check(const char *id);
int entry_collection_check(const char *name);

/* 1 when scope lies at or below prefix, segment-wise ("a/b" is under "a"
 * but "a/bc" is not under "a/b"); an empty prefix holds every scope. */
int entry_scope_under(const char *scope, const char *prefix);

/* Cut out (a scope) to the deepest scope that both it and scope lie
 * under, segment by segment: "" when they have no first segment in
 * common. */
void entry_scope_narrow(char *out, const char *scope);

#endif
