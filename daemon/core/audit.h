/*
 * audit: check a whole store without trusting it: every signature, every
 * hash chain, seq contiguity, body hashes, forks, held entries, every
 * record's stored state against the state its signed entries make, and
 * the kept state digest against the records it stands for.
 *
 * An audit tells two findings apart. Damage: the store holds something
 * that does not verify or does not add up (it needs repair). Evidence: an
 * intact store keeps proof that an author misbehaved (it signed two
 * different entries at one seq of a feed: a fork); nothing here needs
 * repair, but the author's key may need revoking.
 */
#ifndef HAMLET_AUDIT_H
#define HAMLET_AUDIT_H

#include "entry.h"
#include "problems.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>

/* One of the conflicting entries a forked feed keeps. */
struct audit_fork_entry {
	uint8_t id[ENTRY_ID_LEN];
	uint64_t seq, hlc;
	int evidence; /* 1: kept as evidence; 0: the feed's own entry */
};

/* A feed frozen at a fork, with the conflicting entries kept for it. */
struct audit_fork {
	uint8_t feed[32];
	uint8_t author[ENTRY_KEY_LEN];
	char scope[ENTRY_MAX_SCOPE + 1];
	/* where the two versions part: the feed is frozen there */
	uint64_t seq;
	struct audit_fork_entry *entries; /* by seq, the feed's own first */
	size_t n;
};

/* Every forked feed of a store, in feed key order. */
struct audit_forks {
	struct audit_fork *v;
	size_t n;
	uint64_t rows; /* evidence rows that prove a fork */
	/* evidence rows, or frozen feeds, that prove nothing */
	uint64_t broken;
};

/*
 * Read the fork evidence t keeps, grouped by feed. Each evidence row must
 * decode, verify under its author's key, be filed under its own feed and
 * seq, belong to a feed frozen at a fork, and conflict with the feed's
 * own entry (same seq, another entry; or one past the head, chaining to
 * another entry than the head); a feed frozen without such a row proves
 * nothing either. What fails is left out of *ret, counted in
 * ret->broken and, when damage is not NULL, described there (kind
 * "bad-evidence"). *ret is written only on success; free it with
 * audit_forks_close(). t must stay open for the call only.
 */
int audit_forks_read(struct store_txn *t, struct audit_forks *ret,
		     struct problems *damage);
/* Free what audit_forks_read() allocated; NULL and zeroed are fine. */
void audit_forks_close(struct audit_forks *f);

struct audit_report {
	uint64_t feeds, entries, bodies, bodies_missing;
	uint64_t bad_signatures, chain_breaks, gaps, forks, held;
	/* signatures checked one by one: each feed's last entry's (it
	 * signs the rest through the chain), every erasure's, and all of a
	 * feed where anything failed (audit.c says why that is enough) */
	uint64_t signatures_checked;
	/* bodies held that do not match the hash their entry signs (the
	 * entry and its chain may verify: not a chain break) */
	uint64_t bad_bodies;
	uint64_t held_nocert; /* of held: waiting for the author's certificate */
	/* held as the store's count of its table says it (LMDB's own
	 * figure, which status shows), when that is not the rows walked:
	 * damage; held is then the rows walked */
	uint64_t held_counted;
	int held_miscount;
	uint64_t wrong_network, future;
	uint64_t digest_mismatch; /* the kept digest is not the records' */
	uint64_t records, records_mismatch; /* rows not what their ops make */
	uint64_t bad_evidence; /* fork evidence that proves nothing: damage */
	/* entries stored past a cut-off of their author's revocation: a
	 * finding (they should not stand), not damage */
	uint64_t past_cutoff;
	/* bodies still stored of entries that an erasure the store holds
	 * reaches (SPEC 1.6: they are deleted, and never stored again): a
	 * finding, kind "erased-body" */
	uint64_t erased_bodies;
	/* rows of the trust set's index of subjects missing, or naming no
	 * item of theirs, and items that do not decode: damage (kind
	 * "trust"); the report reads chains through that index */
	uint64_t trust_index;
	/* 1 when the store's root row names another key than the network's
	 * root (audit_root_check()): damage, kind "trust" */
	uint64_t wrong_root;
	/* entries this node refused on arrival (a revoked key's, one whose
	 * certificate did not hold...), kept as findings (refused.h), and
	 * those refused past that table's bound, only counted: neither is
	 * damage; verify --report names each kept one */
	uint64_t refused, refused_over;
	struct audit_forks forked; /* the forked feeds (forks: their rows) */
	struct problems problems; /* kinds: signature, chain, gap, fork, bad-evidence, body, network, held, future, digest, record, revoked, erased-body, trust */
};

/* 0 when the audit ran (look at the report), <0 when it could not. */
int audit_store(struct store *st, const uint8_t network_id[32],
		struct audit_report *rep);
/* How far an audit has come: done of total entries checked. */
typedef void (*audit_progress_fn)(void *ctx, uint64_t done, uint64_t total);
/* audit_store(), telling pfn (may be NULL) with pctx as it goes, on the
 * calling thread: every 256 entries checked, at their end, and then about
 * once a second while the records are still being checked, with the
 * same figures. It is told only when work was done since it was last
 * told, so a watcher can stop an audit that tells nothing for long (a
 * damaged store can send LMDB round a loop: cli/guard.h). */
int audit_store_progress(struct store *st, const uint8_t network_id[32],
			 audit_progress_fn pfn, void *pctx,
			 struct audit_report *rep);
/*
 * Hold the root key st keeps (the trust set's root row, what a node
 * judges certificates by) to root, the network's (its network file's,
 * whose id is that key's, or the one an auditor brings): a row naming
 * another key is damage, counted in rep->wrong_root with a "trust"
 * problem naming both keys. Call after audit_store(); 0 or <0 when st
 * could not be read. A store with no root row yet is not damaged.
 */
int audit_root_check(struct store *st, const uint8_t root[32],
		     struct audit_report *rep);
/* 1 when the store itself is damaged: a bad signature, a broken chain, a
 * body not matching its signed hash, a gap, an entry of another network, fork evidence that proves
 * nothing, a record or the kept digest not what the entries make, the
 * trust set's index not what its items make, its root row not the
 * network's root. */
int audit_damaged(const struct audit_report *rep);
/* 1 when the store keeps evidence of an author's misbehaviour (forks). */
int audit_evidence(const struct audit_report *rep);
/* 1 when an intact store still holds something an administrator must
 * see: evidence, entries past a revocation's cut-off, or bodies an
 * erasure it holds reaches (exit 1). */
int audit_findings(const struct audit_report *rep);
/* audit_damaged() || audit_findings(), for callers that need not tell
 * them apart. */
int audit_failed(const struct audit_report *rep);
/* 1 when revocation rv cuts off the entry id at seq of its subject's
 * feed scope (proto/SPEC.md section 9): its feed is not listed, or the
 * entry lies past the listed seq, or at it with another id. */
struct revocation;
int audit_entry_past_cutoff(const struct revocation *rv, const char *scope,
			    uint64_t seq, const uint8_t id[32]);
/* Free what audit_store() allocated; NULL is fine. */
void audit_report_close(struct audit_report *rep);

#endif
