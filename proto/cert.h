/*
 * cert: node certificates and the chains that carry them (proto/SPEC.md
 * section 7).
 *
 * A certificate says, under the signature of the network's root key or of
 * a delegated administrator, what one node key may do: read and write
 * which scopes, write which collections, from when to when, and whether
 * it may certify others inside its own grant. A chain is a node's
 * certificate followed by those of its issuers, up to one the root
 * signed; anyone holding the root public key checks it offline.
 *
 * Pure codec and checks: no store, no clock (the caller passes now).
 */
#ifndef HAMLET_CERT_H
#define HAMLET_CERT_H

#include <stddef.h>
#include <stdint.h>

#define CERT_VERSION 1
#define CERT_MAX_NAME 64      /* bytes of the display name */
#define CERT_MAX_PREFIXES 16  /* read or write prefixes */
#define CERT_MAX_COLLECTIONS 16
#define CERT_MAX_CHAIN 4      /* certificates in a chain, leaf first */
#define CERT_MAX_BYTES 4096   /* one signed certificate, encoded */
#define CERT_CHAIN_MAX_BYTES (CERT_MAX_CHAIN * CERT_MAX_BYTES + 64)
#define CERT_SCOPE_MAX 128    /* as ENTRY_MAX_SCOPE */

enum cert_role {
	CERT_VILLAGE = 1,
	CERT_COMMUNE,
	CERT_DISTRICT,
	CERT_PROVINCE,
	CERT_AUDITOR,
};

struct cert {
	uint8_t network_id[32];
	uint8_t issuer[32];  /* Ed25519 public key that signed it */
	uint8_t subject[32]; /* Ed25519 public key it is for */
	char name[CERT_MAX_NAME + 1];
	int role;
	size_t nread, nwrite, ncollections; /* ncollections 0: every one */
	char read[CERT_MAX_PREFIXES][CERT_SCOPE_MAX + 1];
	char write[CERT_MAX_PREFIXES][CERT_SCOPE_MAX + 1];
	char collections[CERT_MAX_COLLECTIONS][33];
	uint64_t not_before_ms, expires_ms; /* Unix ms; expires 0: never */
	int delegate; /* may certify others inside its grant */
	uint8_t serial[16];
};

/* "village", ... or NULL; and back (0 when unknown). */
const char *cert_role_name(int role);
int cert_role_parse(const char *name);

/*
 * Encode c and sign it with sk (the issuer's, whose public half must be
 * c->issuer): *ret (malloc'd, the caller frees) holds the signed
 * certificate. Checks c first (cert_check_fields).
 */
int cert_sign(const struct cert *c, const uint8_t sk[64], uint8_t **ret,
	      size_t *ret_len);

/*
 * Decode one signed certificate and verify its signature by c->issuer.
 * ret_id (may be NULL) gets its id, BLAKE2b-256 of body || signature.
 */
int cert_decode(const uint8_t *buf, size_t len, struct cert *ret,
		uint8_t ret_id[32]);
/* cert_decode(), why (may be NULL) naming the field at fault and its
 * limit (SPEC 6, 1.3): HAMLET_ETYPE a wrong type, HAMLET_ETOOBIG a field
 * or the certificate over its limit, HAMLET_EFORMAT another count of
 * fields or a broken rule, HAMLET_EVERSION, HAMLET_ESIG. */
int cert_decode_why(const uint8_t *buf, size_t len, struct cert *ret,
		    uint8_t ret_id[32], char *why, size_t whylen);
/* cert_decode() of bytes whose signature was verified when they were
 * stored (a trust set's rows): the same checks but the signature's, which
 * a chain search would otherwise pay once per certificate it reads. */
int cert_decode_verified(const uint8_t *buf, size_t len,
			 struct cert *ret);

/* The rules a certificate's fields follow whoever signed it: names,
 * scopes and collections well formed, an auditor writes nothing,
 * not_before before expires. 0 or HAMLET_EFORMAT with why. */
int cert_check_fields(const struct cert *c, char *why, size_t wl);

/* A chain: up to CERT_MAX_CHAIN certificates, leaf first. */
struct cert_chain {
	size_t n;
	struct cert c[CERT_MAX_CHAIN];
	uint8_t id[CERT_MAX_CHAIN][32];
	/* where each signed certificate lies in the decoded chain bytes */
	size_t off[CERT_MAX_CHAIN], len[CERT_MAX_CHAIN];
};

/* Encode signed certificates (leaf first) as a chain file's bytes:
 * "HAMLETC" 0x01, then a msgpack array of bin. */
int cert_chain_encode(const uint8_t *const *certs, const size_t *lens,
		      size_t n, uint8_t **ret, size_t *ret_len);

/* Decode (and verify the signature of each certificate of) a chain. */
int cert_chain_decode(const uint8_t *buf, size_t len, struct cert_chain *ret);
/* cert_chain_decode(), why (may be NULL) naming the certificate (by its
 * place, from 1) and the field at fault, as cert_decode_why(). */
int cert_chain_decode_why(const uint8_t *buf, size_t len,
			  struct cert_chain *ret, char *why, size_t whylen);

/*
 * Does the chain give its leaf a valid grant in network network_id under
 * root at now_ms? The last certificate is signed by root, each other by
 * the subject of the next, which may delegate; no certificate widens its
 * issuer's grant (read, write, collections); each lies within its dates.
 * 0, or HAMLET_ECERT with why naming the certificate and the fault.
 */
int cert_chain_check(const struct cert_chain *ch,
		     const uint8_t network_id[32], const uint8_t root[32],
		     uint64_t now_ms, char *why, size_t wl);

/* The span the chain's certificates all hold in: from the latest start
 * to the earliest end (*to UINT64_MAX: none ends). Empty when
 * *from >= *to. */
void cert_chain_span(const struct cert_chain *ch, uint64_t *from,
		     uint64_t *to);

/* The place (from 0, leaf first) of the certificate whose end is the
 * chain's: the earliest expires of them all, an issuer's over the leaf's
 * on the same date (renewing the leaf alone would not move it). ch->n
 * when none ends. */
size_t cert_chain_first_end(const struct cert_chain *ch);

/* 1 when cert_chain_check() fails at every date: its certificates' dates
 * never all hold at once, or it fails where they do (a rule broken, as
 * a certificate signed by a key that may not delegate); else 0. */
int cert_chain_never_valid(const struct cert_chain *ch,
			   const uint8_t network_id[32],
			   const uint8_t root[32]);

/* 1 when scope lies under one of c's read (write) prefixes. */
int cert_may_read(const struct cert *c, const char *scope);
int cert_may_write(const struct cert *c, const char *scope,
		   const char *collection);

#endif
