/*
 * bundle: sneakernet. Writing what a peer lacks into a file, and importing
 * such a file through the same verify-and-store path as the wire.
 */
#ifndef HAMLET_BUNDLE_H
#define HAMLET_BUNDLE_H

#include "bundle_format.h"
#include "log.h"
#include "node.h"
#include "problems.h"

/* How far long work has come: done of total (entries for a create,
 * bytes of the file for an import); called often, the callee throttles. */
typedef void (*bundle_progress_fn)(void *ctx, uint64_t done, uint64_t total);
/* A record whose contents (an entry's body) went into the bundle; once
 * per entry with a body, so a record may come more than once. coll and
 * id live only for the call. */
typedef void (*bundle_carried_fn)(void *ctx, const char *coll,
				  const char *id);

struct bundle_create_opts {
	const char *scope_prefix; /* NULL or "": every scope */
	const char *for_summary;  /* path of the recipient's summary, or NULL */
	/* Sealing (proto/SPEC.md "Sealed bundles"): to seal_to (an Ed25519
	 * node key) when given; else to the summary's node, unless unsealed;
	 * else not at all. */
	const uint8_t *seal_to;
	int unsealed;
	bundle_progress_fn progress; /* NULL: none */
	void *progress_ctx;
	bundle_carried_fn carried; /* NULL: none */
	void *carried_ctx;
};

/*
 * One of the creator's own feeds (its key and a scope) of which the
 * recipient's summary holds more than the creator's store does, or
 * another entry at a seq the store holds: the store was put back from a
 * backup (or the node's key copied). The recipient's entries of it are
 * not to be sent but fetched.
 */
struct bundle_own_feed {
	char scope[ENTRY_MAX_SCOPE + 1];
	uint64_t stored; /* the creator's store's head of the feed */
	uint64_t theirs; /* the summary's head of it */
	/* the summary's entry at seq theirs is not the store's there: a
	 * fork (else theirs > stored, and whether the entries below differ
	 * cannot be told from a summary) */
	int forked;
};
#define BUNDLE_OWN_SHOWN 16

struct bundle_create_result {
	uint64_t feeds, entries, bytes, body_bytes;
	uint64_t trust_items; /* certificates, revocations, fork proofs */
	/* of trust_items, those the recipient lacks by its summary; not
	 * known (trust_unknown) without a summary */
	uint64_t trust_new;
	int trust_unknown;
	/* the summary was made with this node's own key: its own summary
	 * (the wrong file off the stick), or a copy's of this node */
	int for_self;
	struct run_stats runs; /* entries written compact and whole */
	int sealed;
	uint8_t sealed_to[32];
	char sealed_name[CERT_MAX_NAME + 1]; /* "" when not known */
	int scope_empty; /* the scope prefix named no feed held here */
	/* feeds of the scope asked for that the recipient (the summary's
	 * node, or the key sealed to) may not read, and so left out */
	uint64_t feeds_left_out;
	/* feeds of the scope were held here, and the recipient may read
	 * none of them: the bundle carries the trust set alone */
	int nothing_readable;
	char reads[256]; /* then: the scopes it reads ("" not known) */
	/* sealed to a key of which no certificate is known here: nothing
	 * was left out for it */
	int recipient_unknown;
	char held[256];	 /* then: the first scopes held ("" none) */
	/* made for a summary: the creator's own feeds it holds more of, or
	 * other entries of (above), the first BUNDLE_OWN_SHOWN in own */
	struct bundle_own_feed own[BUNDLE_OWN_SHOWN];
	size_t own_n;
};

/*
 * Write a bundle of the entries n holds that the recipient lacks, in feed
 * and seq order, with their bodies, after every item of n's trust set.
 * With a summary, only feeds the summary's node may read go in (by its
 * certificates in n's trust set: none valid is HAMLET_ECERT), and
 * ret->own names n's own feeds of which it holds more, or other entries,
 * than n's store (the caller tells the operator). Sealed as
 * o says; seal_to naming another key than the summary's node is
 * HAMLET_EKEY. why names the problem on failure.
 */
int bundle_create(struct node *n, const char *path,
		  const struct bundle_create_opts *o,
		  struct bundle_create_result *ret, char *why, size_t whylen);

enum bundle_trailer_state {
	BUNDLE_TRAILER_OK = 0,
	BUNDLE_TRAILER_MISSING, /* file cut short */
	BUNDLE_TRAILER_BAD_HASH,
	BUNDLE_TRAILER_BAD_SIG,
	BUNDLE_TRAILER_BAD_COUNT,
	/* its hash holds, but no header names the creator whose signature
	 * it is (a damaged header, or one of a later version) */
	BUNDLE_TRAILER_UNCHECKED,
};
const char *bundle_trailer_state_text(int s);

struct bundle_report {
	int has_header;
	struct bundle_header header;
	int trailer;
	uint64_t trailer_count;
	uint64_t frames, entries, damaged_frames, bytes;
	/* import only. stats.applied counts the file's own entries that
	 * this import stored, those it found held here from before and let
	 * in too; stats.released counts every held entry it let in, of the
	 * file or not (a later bundle imported first, or a sync) */
	struct log_stats stats;
	/* import only: entries of scopes this node does not read, not
	 * stored and not counted in stats.rejected (a bundle made for
	 * another node, a commune's whole scope at a village) */
	uint64_t outside;
	/* import only: sound entries too far ahead of what this node holds
	 * of their feed to be held (EHELDCAP): not stored and not counted
	 * in stats.rejected; they come in when the file is imported again
	 * after the entries before them (kind "ahead") */
	uint64_t ahead;
	uint64_t bad_entries;	/* check only: entries that do not verify */
	struct problems problems;
	/* check only: counts per kind, for inspect (a second entry at a
	 * seq, fork evidence, counted apart) */
	uint64_t puts, deletes, erasures, others, fork_evidence;
	uint64_t feeds;
	/* check only: entries the bundle carries twice (harmless), and seqs
	 * missing between entries of a feed it carries (kind "gap") */
	uint64_t duplicates, gaps;
	/* check only: feeds whose first entry carried is past seq 1 (the
	 * entries before are not in the bundle: one made for a node that
	 * holds them); not a fault. The first such: its scope, its
	 * author's first 8 bytes in hex, and the seq it starts at */
	uint64_t feeds_later;
	char later_scope[ENTRY_MAX_SCOPE + 1];
	char later_author[17];
	uint64_t later_seq;
	/* check only: bodies the entries sign, carried or not (a body
	 * erased is never sent again: one carried with an erasure that
	 * reaches it is a finding, kind "erased-body") */
	uint64_t bodies, bodies_missing, bodies_erased;
	/* check only: entries that verify but are dated more than
	 * LOG_MAX_AHEAD_MS ahead of this machine's clock (kind "future"):
	 * an import refuses them until then */
	uint64_t future;
	/* check only: fork proofs among the trust items (kind "fork") */
	uint64_t fork_proofs;
	/* trust items (certificates, revocations, fork proofs): read;
	 * import only: new to the store, refused */
	uint64_t trust_items, trust_added, trust_refused;
	/* a sealed bundle: for whom, and the sealed frames that opened
	 * (those that did not are in damaged_frames); byte offsets of
	 * frames and entries in problems are then offsets in the unsealed
	 * bundle, except those of sealed frames */
	int sealed;
	uint8_t sealed_to[32];
	char sealed_name[CERT_MAX_NAME + 1]; /* "" when not known */
	uint64_t sealed_frames;
	/* check only: the network the first entry that verifies names (a
	 * header damaged in its network id is told from it) */
	int has_entry_network;
	uint8_t entry_network_id[32];
};

/*
 * Import a bundle into n. Every entry is verified; a damaged frame or
 * entry is reported (kind "damaged", "signature", ...) and the rest still
 * imports; re-importing is harmless. A bundle sealed to n is opened with
 * n's key (n->sk). Returns <0 only when nothing could be imported
 * (unreadable, not a bundle, another network, sealed for another node
 * (HAMLET_EKEY, rep->sealed_to names it) or n's key unreadable): why says
 * which.
 */
int bundle_import(struct node *n, const char *path, struct bundle_report *rep,
		  char *why, size_t whylen);

/*
 * Store a batch of a bundle's entries in n, this process being its
 * writer (no hamletd runs): log_ingest_via()'s contract, after the check
 * hamletd makes of every entry a bundle brings: one whose scope lies
 * outside what n's certificate lets it read (without one, outside its
 * own scope) is refused (HAMLET_ESCOPE, out[i] naming it), as the
 * personal data law asks.
 */
struct heard_via;
int bundle_ingest_local(struct node *n, const struct heard_via *via,
			const struct log_in *in, size_t count,
			struct log_out *out, struct log_stats *stats);

/*
 * Store trust items of a bundle in n, this process being its writer:
 * log_trust_ingest_read() for what n keeps (node_reader()), so that a
 * fork proof of a feed n may not read is not stored.
 */
int bundle_trust_local(struct node *n, const struct trustset_item *items,
		       size_t count, struct trustset_out *out,
		       struct log_stats *stats);

/*
 * How an import stores a batch of entries: the contract of log_ingest()
 * (n <= LOG_MAX_BATCH; each entry's fate in out[i]; stats added to; a
 * negative return when the batch as a whole could not be stored), and on
 * failure a sentence in why naming the fault. in borrows from the bundle
 * for the call only.
 */
typedef int (*bundle_ingest_fn)(void *ctx, const struct log_in *in, size_t n,
				struct log_out *out, struct log_stats *stats,
				char *why, size_t whylen);

/* How an import stores trust items: log_trust_ingest()'s contract
 * (stats: held entries a certificate lets in count as released). */
typedef int (*bundle_trust_fn)(void *ctx, const struct trustset_item *items,
			       size_t n, struct trustset_out *out,
			       struct log_stats *stats, char *why,
			       size_t whylen);
/*
 * bundle_import() with the storing of each batch handed to fn (trust
 * items, which come first, to tfn) (for
 * instance to the running daemon); this process still reads, frames and
 * reports the file. n gives the network the bundle must belong to. A
 * negative return from fn ends the import with that code, why saying
 * which batch and fn's reason; batches before it stay stored.
 */
int bundle_import_with(struct node *n, const char *path, bundle_ingest_fn fn,
		       bundle_trust_fn tfn, void *ctx,
		       struct bundle_report *rep, char *why, size_t whylen);
/* The same, telling pfn (pctx) the bytes of the file read so far. */
int bundle_import_progress(struct node *n, const char *path,
			   bundle_ingest_fn fn, bundle_trust_fn tfn, void *ctx,
			   bundle_progress_fn pfn, void *pctx,
			   struct bundle_report *rep, char *why,
			   size_t whylen);

/*
 * Check a bundle without any store: framing, every signature, hash
 * chains within each feed, the trailer. network_id may be NULL (then any).
 * A sealed bundle is refused (HAMLET_EKEY, rep->sealed_to names its
 * node): bundle_check_key() opens it.
 */
int bundle_check(const char *path, const uint8_t *network_id,
		 struct bundle_report *rep, char *why, size_t whylen);

/*
 * bundle_check() by reader (NULL: none), a node whose key opens a bundle
 * sealed to it and whose trust set names the node a bundle is sealed to
 * (rep->sealed_name), as an import does. A bundle sealed to another key
 * is HAMLET_EKEY, with rep->sealed and rep->sealed_to set and why saying
 * so; a plain one is checked as by bundle_check(). The report says
 * whether the bundle was sealed, and counts its sealed frames.
 */
int bundle_check_key(const char *path, const uint8_t *network_id,
		     struct node *reader, struct bundle_report *rep, char *why,
		     size_t whylen);
/* bundle_check_key(), telling pfn (pctx) the bytes of the file checked. */
int bundle_check_progress(const char *path, const uint8_t *network_id,
			  struct node *reader, bundle_progress_fn pfn,
			  void *pctx, struct bundle_report *rep, char *why,
			  size_t whylen);

/*
 * The name in a certificate of key held in n's trust set, into out
 * ("" when none is held or the store cannot be read).
 */
void bundle_node_name(struct node *n, const uint8_t key[32], char *out,
		      size_t outlen);

void bundle_report_close(struct bundle_report *rep);

#endif
