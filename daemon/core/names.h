/*
 * names: who a key is, in words a person reads: the name, role and scope
 * of its certificate in the trust set, else (for this node alone) what
 * its node.conf says, else nothing: the caller shows a short key prefix
 * marked as unknown. docs/decisions.md "Names instead of keys".
 *
 * A certificate's name was signed by the network's root or a delegated
 * administrator: it is backed. node.conf's name was typed by whoever set
 * the node up: a claim, shown as such. When both exist the certificate
 * wins.
 */
#ifndef HAMLET_NAMES_H
#define HAMLET_NAMES_H

#include "cert.h"
#include "entry.h"
#include "store.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum names_source {
	NAMES_UNKNOWN = 0, /* no certificate, not this node */
	NAMES_CERT,	   /* a certificate that holds now, unrevoked */
	NAMES_CERT_OLD,	   /* only certificates that do not hold now */
	NAMES_CLAIM,	   /* this node's node.conf, no certificate */
	NAMES_CERT_REVOKED, /* only certificates that do not hold now, and
			     * the key is revoked */
};

struct names_who {
	int source; /* enum names_source */
	char name[CERT_MAX_NAME + 1];
	int role;			 /* CERT_*, 0 unknown */
	char scope[ENTRY_MAX_SCOPE + 1]; /* first write prefix, else first
					  * read prefix; "" for all */
	char written[ENTRY_MAX_SCOPE + 1]; /* scope as written when
					    * names_moved() mapped it, else "" */
};

/*
 * Who key is in t at now_ms: a certificate that holds now wins over one
 * that does not (the first of each in the set's order; NAMES_CERT_REVOKED
 * when the key is revoked). Without any, NAMES_UNKNOWN. <0 only when the store failed.
 */
int names_lookup(struct store_txn *t, const uint8_t key[32], uint64_t now_ms,
		 struct names_who *ret);

/* Who a certificate (a peer's, shown in its HELLO) says its subject is. */
void names_from_cert(const struct cert *c, int source, struct names_who *ret);

/*
 * w's scope made effective through the scope moves of m (scopemap.h;
 * NULL: none), the scope as written kept in w->written when a move
 * applies: names_label() then shows "EFFECTIVE (was WRITTEN)", as get
 * shows a record's scope.
 */
struct scopemap;
void names_moved(struct names_who *w, const struct scopemap *m);

/*
 * A cache of lookups for one reader (a command, a report): self, when
 * not NULL, is this node's key, named name and scope (node.conf) when no
 * certificate names it. names_new() copies what it is given; NULL when
 * out of memory.
 */
struct names;
struct names *names_new(const uint8_t *self, const char *name,
			const char *scope);
void names_free(struct names *nm);
/* names_lookup() through the cache (at most a few thousand keys kept). */
int names_get(struct names *nm, struct store_txn *t, const uint8_t key[32],
	      uint64_t now_ms, struct names_who *ret);

/*
 * The label of key, known as w: "C1 (bk/c1)"; "c1 (bk/c1, own claim, no
 * certificate)" for a claim; "C1 (bk/c1, certificate no longer valid)";
 * "unknown node 1a2b3c4d…" without a name; the scope as "bk/c2 (was
 * bk/c1)" after names_moved(). keys: the whole key too. Text for a
 * person (translated); out holds NAMES_LABEL_MAX bytes.
 */
#define NAMES_LABEL_MAX 512
void names_label(const struct names_who *w, const uint8_t key[32], int keys,
		 char out[NAMES_LABEL_MAX]);

/* The source as a word for JSON: "certificate", "certificate_invalid",
 * "claim", "unknown". */
const char *names_source_word(int source);

/* Add PREFIXname, PREFIXname_scope (null when unknown) and
 * PREFIXname_source (names_source_word()) to the JSON object obj, for
 * the JSON outputs that carry a key and now name it too. */
void names_json(const struct names_who *w, json_t *obj, const char *prefix);

#endif
