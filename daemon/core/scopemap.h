/*
 * scopemap: the scope moves of the trust set (proto/SPEC.md section 10)
 * as one map from a scope to its effective scope.
 *
 * A move says that scope FROM now reads as TO: FROM/REST reads as
 * TO/REST (a merged commune's villages become the new commune's). No
 * signed entry is rewritten: every place that compares or shows a scope
 * asks this map. Which moves are in effect is a function of the set of
 * moves alone, whatever order they arrived in:
 *
 *   - moves are taken oldest first (their `at`, then their id);
 *   - a later move of the same FROM replaces the earlier one;
 *   - a move that would close a cycle (its TO leads, through moves in
 *     effect, back to a scope that overlaps its FROM) is ignored;
 *   - past SCOPEMAP_MAX moves of distinct FROMs, the rest are ignored.
 *
 * A map is immutable once built; NULL is the empty map everywhere.
 */
#ifndef HAMLET_SCOPEMAP_H
#define HAMLET_SCOPEMAP_H

#include "cert.h"
#include "entry.h"
#include "record.h"
#include "store.h"
#include "trust.h"

#include <stddef.h>
#include <stdint.h>

#define SCOPEMAP_MAX 4096   /* moves in effect (distinct FROMs) */
#define SCOPEMAP_MAX_HOPS 8 /* moves one scope goes through */

struct scopemap;

/* What became of one move of the set. */
enum scopemap_status {
	SCOPEMAP_IN_EFFECT = 1,
	SCOPEMAP_SUPERSEDED, /* a later move of the same FROM won */
	SCOPEMAP_CYCLE,	     /* it would close a cycle: ignored */
	SCOPEMAP_OVER,	     /* past SCOPEMAP_MAX: ignored */
};

/* Build a map from n moves (ids[i] is moves[i]'s id), in any order. */
int scopemap_build(const struct scope_move *moves, const uint8_t (*ids)[32],
		   size_t n, struct scopemap **ret);

/* Build the map of the moves in t's trust set (an empty map when none). */
int scopemap_load(struct store_txn *t, struct scopemap **ret);

/* The same with one more move (not in the set yet): what the set would
 * make of it (scopemap_status()). */
int scopemap_load_plus(struct store_txn *t, const struct scope_move *extra,
		       const uint8_t extra_id[32], struct scopemap **ret);

/* One more holder of m (NULL stays NULL), for a thread that reads it
 * while its owner may replace it: each holder calls scopemap_free(),
 * and the last one frees it. A map is never changed once built, so its
 * holders may read it at once. */
struct scopemap *scopemap_ref(struct scopemap *m);
void scopemap_free(struct scopemap *m);

/* Moves the map was built from, and those in effect. */
size_t scopemap_size(const struct scopemap *m);
size_t scopemap_in_effect(const struct scopemap *m);

/* Move i (0 .. size-1, oldest first), its id and status. */
const struct scope_move *scopemap_move(const struct scopemap *m, size_t i,
				       const uint8_t **ret_id, int *ret_status);

/* The status of the move with this id, or 0 when the map lacks it. */
int scopemap_status(const struct scopemap *m, const uint8_t id[32]);

/* "in effect", "superseded by a later move of the same scope", ... */
const char *scopemap_status_name(int status);

/*
 * The effective scope of scope into out (ENTRY_MAX_SCOPE + 1 bytes):
 * each hop replaces the longest FROM that scope lies at or under by its
 * TO, at most SCOPEMAP_MAX_HOPS hops; a hop whose result would not be a
 * valid scope (too long, too many segments) is not taken. Returns 1 when
 * out differs from scope, else 0.
 */
int scopemap_resolve(const struct scopemap *m, const char *scope,
		     char out[ENTRY_MAX_SCOPE + 1]);

/* 1 when a and b name one place: the same text, or the same effective
 * scope through the moves (a scope's old name and its new one). */
int scopemap_same(const struct scopemap *m, const char *a, const char *b);

/*
 * 1 when scope lies at or under prefix as written, or once both are
 * mapped: a grant only widens with a move, so what stood still stands
 * and certificates issued before a merger keep working.
 */
int scopemap_under(const struct scopemap *m, const char *scope,
		   const char *prefix);

/*
 * 1 when a reader granted prefix may read a record written in scope: the
 * record now lies under prefix (through the moves), or it was written
 * under prefix and has not moved away from where prefix itself now is.
 * Stricter than scopemap_under() for reads: when a village moves from
 * commune A to commune B, A's certificate and tokens stop reading it,
 * new records and old; B's read it; the village's own certificate and a
 * merged commune's old certificate keep what they had. A grant inside a
 * moved scope (a village of a merged commune) also reads its area under
 * the new name; a grant that is the scope moved does not (a merged
 * commune's new name holds the commune it joined; a village moved alone
 * reads records written under its new name once its certificate names
 * it).
 */
int scopemap_reads(const struct scopemap *m, const char *scope,
		   const char *prefix);

/* 1 when one of c's write prefixes (reads: read prefixes) holds scope,
 * as written or through the moves (scopemap_under(); m NULL: as
 * written), whatever the collection; 0 with none. */
int scopemap_grants(const struct scopemap *m, const struct cert *c,
		    const char *scope, int reads);

/* cert_may_read() and cert_may_write() through scopemap_reads(). */
int scopemap_may_read(const struct scopemap *m, const struct cert *c,
		      const char *scope);
/*
 * The one read filter of what reaches a node, whichever way (a peer, a
 * bundle through hamletd or imported with no daemon, a certificate
 * installed over what it held): 1 when a node certified by own keeps
 * what was written in scope, else 0. A node without a certificate
 * (own NULL) keeps only its own scope own_scope (node.conf), judged as
 * a certificate reading that one prefix.
 */
int scopemap_keeps(const struct scopemap *m, const struct cert *own,
		   const char *own_scope, const char *scope);
/*
 * scopemap_keeps() of entry e, which a peer or a bundle brought: 0, or
 * HAMLET_ESCOPE with why the sentence every way in gives.
 */
int scopemap_keep_check(const struct scopemap *m, const struct cert *own,
			const char *own_scope, const struct entry *e,
			char *why, size_t whylen);
/*
 * scopemap_keeps() of a trust item of kind (data, len) that a peer or a
 * bundle brought: 0, or HAMLET_ESCOPE with why when it is a fork proof
 * of a feed the node keeps nothing of (its two entries name records of a
 * scope it may not read). Other kinds concern every node: 0.
 */
int scopemap_keep_trust(const struct scopemap *m, const struct cert *own,
			const char *own_scope, int kind, const uint8_t *data,
			size_t len, char *why, size_t whylen);
int scopemap_may_write(const struct scopemap *m, const struct cert *c,
		       const char *scope, const char *collection);
/*
 * The move that took scope out of c's write grant: c lets its holder
 * write collection in scope as written, but not through the moves (a
 * village moved alone out of the commune c grants), so that what it
 * wrote there it would neither keep nor send. Of scope's hops, the one
 * that left the grant's prefix (a merger that only renames the grant
 * does not); of several prefixes that cover scope, the move that took
 * it from the last of them. NULL when c may write there through the
 * moves, or not even as written. Borrowed from m. A node's own writing
 * is refused by this; an entry already signed by
 * scopemap_may_write_at().
 */
const struct scope_move *scopemap_moved_away(const struct scopemap *m,
					     const struct cert *c,
					     const char *scope,
					     const char *collection);
/*
 * May an entry of collection in scope, dated at_ms (Unix ms) and signed
 * under c, stand (proto/SPEC.md section 10, "Moved away")? As
 * scopemap_may_write(), but where c covers scope only as written and a
 * move took it away (scopemap_moved_away()), only for an entry dated
 * before that move's `at`. 1 when it may; 0 when not, with *ret_mv that
 * move (borrowed from m) when it is why, else NULL.
 */
int scopemap_may_write_at(const struct scopemap *m, const struct cert *c,
			  const char *scope, const char *collection,
			  uint64_t at_ms, const struct scope_move **ret_mv);

/* scope_under_any: 1 when scope lies under one of n prefixes (n 0:
 * every scope), through scopemap_under(). */
int scopemap_under_any(const struct scopemap *m, const char *scope,
		       const char (*prefixes)[ENTRY_MAX_SCOPE + 1], size_t n);

/*
 * How a scope is shown: "EFFECTIVE (was SCOPE)" when a move applies,
 * else SCOPE; into out, which is returned. 2 * ENTRY_MAX_SCOPE + 16
 * bytes always suffice.
 */
#define SCOPEMAP_SHOW_MAX (2 * ENTRY_MAX_SCOPE + 16)
const char *scopemap_show(const struct scopemap *m, const char *scope,
			  char *out, size_t ol);
/* The same for a scope resolved already: "EFFECTIVE (was WRITTEN)" when
 * written is not "", else EFFECTIVE. */
const char *scopemap_show_resolved(const char *effective, const char *written,
				   char *out, size_t ol);

/* The newest (highest HLC) of n heads' entries, ops of record
 * coll/rid: 0, or HAMLET_ENOTFOUND when none is held here. */
int scopemap_heads_newest(struct store_txn *t, const char *coll,
			  const char *rid, const uint8_t (*heads)[32],
			  size_t n, struct entry *ret);
/* The newest of a record's heads' entries, the same way. */
int scopemap_record_newest(struct store_txn *t, const struct record_view *v,
			   struct entry *ret);

/*
 * The scope of a record whose heads are heads[0..n) (ops of record
 * coll/rid), into out (ENTRY_MAX_SCOPE + 1 bytes): the scope their
 * entries were written in, as written, when they share one; when they
 * differ, the deepest scope all of them lie under (as written when that
 * resolves in m to what their effective names share, else by the
 * effective names). "" and 0 when no head is held; "" and 1 when the
 * heads share no first segment: a record of no scope, which only a
 * grant or token of every scope reaches. A record is read, and
 * changed, in its scope.
 */
int scopemap_heads_scope(const struct scopemap *m, struct store_txn *t,
			 const char *coll, const char *rid,
			 const uint8_t (*heads)[32], size_t n,
			 char out[ENTRY_MAX_SCOPE + 1]);

/* A record's scope, as scopemap_heads_scope() has it for v's heads. */
int scopemap_record_scope(const struct scopemap *m, struct store_txn *t,
			  const struct record_view *v,
			  char out[ENTRY_MAX_SCOPE + 1]);

#endif
