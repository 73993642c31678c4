/*
 * report: the auditor's report (hamlet verify --report), per author: its
 * certificates and their chains to the root, its feeds and entries, gaps,
 * forks, the revocations that concern it, the erasures it made and those
 * that reached its entries, and the entries of it this node refused, with
 * why. Built from a store without trusting it: chains are checked here
 * against the root again, the entries by audit_store().
 *
 * A bundle is reported on by importing it into a scratch store whose root
 * is the key the auditor gives (report_bundle_import): every entry is
 * then judged by the same trust-set checks a node makes, against only
 * the certificates and revocations the bundle carries.
 *
 * Pure data: the CLI prints it (text or JSON, docs/auditor-guide.md).
 */
#ifndef HAMLET_REPORT_H
#define HAMLET_REPORT_H

#include "audit.h"
#include "refused.h"
#include "bundle.h"
#include "cert.h"
#include "entry.h"
#include "store.h"
#include "trust.h"

#include <stddef.h>
#include <stdint.h>

#define REPORT_VERSION 4      /* of the JSON form; docs/auditor-guide.md */
#define REPORT_MAX_CHAINS 4   /* chains to the root shown per author */
#define REPORT_REASON_MAX 200 /* bytes of an erasure's reason kept */

/* One certificate that names the author as its subject. */
struct report_cert {
	uint8_t id[32];
	struct cert c;
	int in_chain; /* it leads to the root in one of the chains below */
};

/* One chain of the author's certificates up to the root, leaf first. */
struct report_chain {
	struct cert_chain ch;
	int valid_now;	/* cert_chain_check at the report's time */
	char invalid_why[512];
	/* not valid at any date (a rule broken, as a certificate signed
	 * by a key that may not certify others, not its dates): no chain
	 * to the root, whatever its issuers' revocations say */
	int never_valid;
	int revoked;	/* the author, or an issuer not keeping it, revoked */
	char revoked_why[512];
};

struct report_feed {
	char scope[ENTRY_MAX_SCOPE + 1];
	uint64_t head;	  /* contiguous seq held */
	uint64_t entries; /* held in the feed (the head minus those missing) */
	uint64_t puts, deletes, erasures, others;
	uint64_t first_hlc, last_hlc; /* 0 when no entry */
	uint64_t missing; /* seqs up to the head not stored: damage */
	uint64_t held;	  /* entries past the head waiting for earlier ones
			   * (not those waiting for a certificate) */
	uint64_t gaps;	  /* seqs missing below the last held entry */
	uint64_t held_top; /* the highest seq held, of either kind */
	int forked;
	uint64_t fork_seq;
};

/* An entry this node refused. */
struct report_refused {
	uint8_t id[32];
	int err; /* HAMLET_ECERT, HAMLET_EREVOKED, HAMLET_ESIG, ... */
	char why[REFUSED_WHY_MAX + 1];
	uint64_t at_ms; /* when it was refused, our wall clock */
	int decoded;	/* the fields below hold */
	int sig_ok;	/* its signature verifies under the author it names */
	char scope[ENTRY_MAX_SCOPE + 1];
	char collection[ENTRY_MAX_COLLECTION + 1];
	char record_id[ENTRY_MAX_RECORD_ID + 1];
	uint64_t seq, hlc;
	int kind;
};

/* An erasure (an entry of kind ENTRY_ERASE, "erase"). */
struct report_erasure {
	uint8_t id[32];
	uint8_t author[32];
	char scope[ENTRY_MAX_SCOPE + 1];
	char collection[ENTRY_MAX_COLLECTION + 1];
	char record_id[ENTRY_MAX_RECORD_ID + 1];
	uint64_t hlc;
	char reason[REPORT_REASON_MAX + 1]; /* "" when its body is not held */
	int allowed;			     /* report_erasure_check() */
	char why[512];			     /* when not allowed */
	uint64_t reached;		     /* entries of the record under it */
};

struct report_author {
	uint8_t key[32];
	char name[CERT_MAX_NAME + 1]; /* its certificate's; "" none */
	int is_root;
	struct report_cert *certs;
	size_t ncerts;
	struct report_chain *chains;
	size_t nchains;
	int chain_cut; /* a chain was cut by an issuer's revocation */
	struct report_feed *feeds;
	size_t nfeeds;
	uint64_t entries, first_hlc, last_hlc, gaps, missing, forks;
	size_t *revocations; /* indices into report.revocations */
	size_t nrevocations;
	uint64_t erasures_made, entries_erased;
	struct report_refused *refused;
	size_t nrefused;
	uint64_t held_nocert; /* held for its certificate: judged by none */
	/* entries held past the cut-off of a revocation of it in the
	 * store's trust set: they should not stand */
	uint64_t past_cutoff;
	/* revocations of it that the auditor's own home holds (a bundle is
	 * judged by its own trust items only): how many, and the first's
	 * issuer and date */
	size_t home_revocations;
	uint8_t home_revoked_by[32];
	uint64_t home_revoked_ms;
	/* fork proofs of it that the auditor's own home holds and the
	 * bundle does not show: how many feeds, and the first's scope and
	 * the seq where its two histories part */
	size_t home_forks;
	char home_fork_scope[ENTRY_MAX_SCOPE + 1];
	uint64_t home_fork_seq;
};

struct report_revocation {
	uint8_t id[32];
	struct revocation rv;
};

/* A scope move of the trust set (signed by the root: only such are
 * kept), and what became of it. */
struct report_move {
	uint8_t id[32];
	struct scope_move mv;
	int status; /* enum scopemap_status */
};

struct report {
	uint8_t network_id[32];
	uint8_t root[32];
	int has_root;
	uint64_t at_ms; /* when it was built: "now" for validity */
	struct report_author *authors; /* by key */
	size_t nauthors;
	struct report_revocation *revocations;
	size_t nrevocations;
	struct report_erasure *erasures;
	size_t nerasures;
	struct report_move *moves; /* oldest first */
	size_t nmoves;
	/* refusals kept whose envelope does not decode: no author known */
	struct report_refused *refused_unknown;
	size_t nrefused_unknown;
	uint64_t refused, refused_over; /* kept, and counted past the cap */
	uint64_t refused_accepted; /* kept, but stored since (re-judged) */
	int of_bundle; /* a bundle judged in a scratch store: its trust
			* items are the only ones judged by */
	struct audit_report audit;
};

/*
 * Build the report of st (network network_id) as of now_ms, judging
 * certificates by root (the network's root key: its network file's, or
 * the auditor's), held to the store's own root row (audit_root_check());
 * root NULL: by the store's row (a scratch store whose row was set to the
 * root judged by). 0, or <0 when
 * the store could not be read; free with report_close() either way. pfn
 * (may be NULL) is told with pctx as the work goes on: as
 * audit_store_progress() tells it, then with the entries read again for
 * the report (total 0).
 */
int report_build(struct store *st, const uint8_t network_id[32],
		 const uint8_t *root, uint64_t now_ms, audit_progress_fn pfn,
		 void *pctx, struct report *ret);
void report_close(struct report *rep);

/*
 * Note in rep, per author, the revocations of it in the trust set of
 * st (the auditor's own home, when a bundle is reported on), and the
 * proofs that it forked a feed (unless the bundle shows that fork
 * itself): they do not judge the bundle, but an auditor must see them
 * (a finding). 0 or <0 when st could not be read.
 */
int report_reader_revocations(struct report *rep, struct store *st);

/* The author of that key in rep, or NULL. */
const struct report_author *report_author_find(const struct report *rep,
					       const uint8_t key[32]);

/* 1 when the report holds something an auditor must be told: refused
 * entries, forks, entries waiting for a certificate or for earlier
 * entries not received (gaps), erasures not allowed, entries past a
 * revocation's cut-off, revocations the auditor's home holds (damage is
 * audit_damaged()). */
int report_findings(const struct report *rep);

/*
 * May erasure e stand (SPEC "erase")? Its author is the root, or a chain
 * of its author's certificates is valid at e's time under root and its
 * leaf may delegate and write e's collection in e's scope. 0, or
 * HAMLET_ECERT with why. t holds the trust set.
 */
int report_erasure_check(struct store_txn *t, const uint8_t root[32],
			 const struct entry *e, char *why, size_t wl);

/*
 * The chain of certificates that allowed entry e: the first of its
 * author's chains in t's trust set valid at e's time whose leaf may
 * write e's collection in e's scope, into *ret. 0; HAMLET_ECERT when
 * none does; HAMLET_ENOTFOUND when the store has no root.
 */
int report_entry_grant(struct store_txn *t, const struct entry *e,
		       struct cert_chain *ret);

/*
 * A stable short name for a refusal's reason code: "not_granted"
 * (ECERT), "revoked", "bad_signature", "wrong_network", "body_mismatch",
 * "too_far_ahead", "feed_frozen", "invalid" (schema), "damaged" (does not
 * decode), or "other".
 */
const char *report_reason_name(int err);

/*
 * Import the bundle at path into a new store in directory dir (which must
 * not hold one) whose root is root, for network network_id (what the
 * bundle's header names: nothing of the bundle is trusted, the
 * certificates must chain to root in that network), so that every entry
 * is judged against root and the certificates and revocations the
 * bundle carries. *ret_st (close it with store_close) is the scratch
 * store, also on failure when not NULL; rep is the import's report. why
 * names the fault. reader (may be NULL) is the node whose key opens a
 * bundle sealed to it (an auditor's); its store is not touched.
 */
int report_bundle_import(const char *path, const char *dir,
			 const uint8_t root[32], const uint8_t network_id[32],
			 const struct node *reader, struct store **ret_st,
			 struct bundle_report *rep, char *why, size_t whylen);

/*
 * 1 when nothing of the bundle chains to the root of st, the scratch
 * store report_bundle_import() made (rep its report): the bundle carried
 * trust items the store refused, none of its certificates, revocations
 * or scope moves joined the trust set, and none of its entries was
 * stored. A network id names its root (proto/SPEC.md section 4), so the
 * bundle is then of another network than that root's. 0 otherwise, also
 * when the bundle carried no trust item (that says nothing of its
 * network); <0 when st could not be read.
 */
int report_bundle_foreign(struct store *st, const struct bundle_report *rep);

#endif
