/*
 * entries: the stored entries, each with its body, in the order they
 * arrived at this node.
 *
 *   entries  local seq (be64) -> flags (1: a body follows; 2: compressed
 *            with the store's dictionary, bodyz.h; 4: compact) || the
 *            envelope || signature || body, where the envelope is
 *              whole:   its length (be16) || its bytes
 *              compact: feed number (varint) || tail length (varint) ||
 *                       tail
 *   seqs     feed key (32) || first seq (be64) -> first local seq (be64)
 *            || count (be64): a run of the feed's entries stored at
 *            consecutive local seqs, one row for a whole batch
 *   feednums 'k' || feed key (32) -> number (be32); 'n' || number (be32)
 *            -> author (32) || scope: a feed's number, given when its
 *            first compact row is stored
 *   meta     "network" -> the network id of the compact rows (32)
 *
 * An envelope begins with what every entry of its feed shares: the
 * version, the network id, the author and the scope (entry_head_encode,
 * about 100 bytes). A compact row keeps only the rest, its tail, as
 * signed (seq, prev, hlc, kind, collection, record id, deps, body hash
 * and length: an op's envelope is read without its body), and the feed's
 * number; reading it puts the head back in front, byte for byte. An
 * envelope whose head is not encoded as entry_head_encode() encodes it
 * (another implementation's, say), or of another network than the
 * store's, or that was not decoded, is kept whole: the bytes signed are
 * always the bytes read.
 *
 * There is no index by entry id: every entry looked up by id is a
 * record's op, and the record's op rows (record.h) hold its local seq.
 *
 * The local seq is the node's own count of stored entries: every append
 * goes at the end of the table, so its pages fill whole and a commit
 * writes the table's last pages only, however large the store. A body
 * erased (SPEC 1.6) or never received is absent from its row.
 */
#ifndef HAMLET_ENTRIES_H
#define HAMLET_ENTRIES_H

#include "bodyz.h"
#include "entry.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>

/* A stored entry; sig and body borrow as for store_get(), and so does
 * env, unless the row was compact: then env points at buf, where its
 * envelope was rebuilt (do not copy the struct by value). */
struct entries_row {
	const uint8_t *env, *sig, *body; /* body NULL when not held */
	size_t env_len, body_len;
	int compressed; /* body is a frame of bodyz.h: read it with
			 * entries_body() */
	int compact;	/* env was rebuilt into buf */
	uint8_t buf[ENTRY_MAX_ENVELOPE];
};

/* Store an entry at the end (body NULL: none held); *ret_lseq its
 * local seq. e: env decoded, or NULL (the row is then kept whole); feed
 * must be the key of e's author and scope. */
int entries_append(struct store_txn *t, const uint8_t feed[32],
		   uint64_t seq, const struct entry *e, const uint8_t id[32],
		   const uint8_t *env, size_t env_len, const uint8_t *sig,
		   const uint8_t *body, size_t body_len, uint64_t *ret_lseq);

/* The entry at seq of feed, or at local seq lseq: HAMLET_ENOTFOUND when
 * not stored. */
int entries_get(struct store_txn *t, const uint8_t feed[32], uint64_t seq,
		struct entries_row *ret);
int entries_at(struct store_txn *t, uint64_t lseq, struct entries_row *ret);
/* The local seq of entry seq of feed: HAMLET_ENOTFOUND when not stored. */
int entries_lseq(struct store_txn *t, const uint8_t feed[32], uint64_t seq,
		 uint64_t *ret_lseq);
/* The last local seq given (0: the table is empty). */
int entries_last_lseq(struct store_txn *t, uint64_t *ret);
/* How many of feed's entries up to seq head are stored at local seqs
 * after lseq (arrived after it): the feed's runs walked back from head,
 * so it costs the runs counted. */
int entries_count_after(struct store_txn *t, const uint8_t feed[32],
			uint64_t head, uint64_t lseq, uint64_t *ret);
/* The first seq >= seq of feed stored here: 1 with it in *ret, 0 when
 * feed holds none from seq on. */
int entries_next_seq(struct store_txn *t, const uint8_t feed[32],
		     uint64_t seq, uint64_t *ret);
/* The body of entry id, stored at local seq lseq: HAMLET_ENOTFOUND when
 * its body is not held, HAMLET_ECORRUPT when no entry is stored there.
 * *ret_body borrows from the store, or from b when it was stored
 * compressed (valid until b's next use). */
int entries_body(struct store_txn *t, const uint8_t id[32], uint64_t lseq,
		 struct bodyz_buf *b, const void **ret_body, size_t *ret_len);
/* The body of entry id as entries_body() gives it when this very
 * transaction stored it (and it was not dropped since) and the writer
 * remembers it: 1, else 0 (then read it with entries_body()). */
int entries_body_remembered(struct store_txn *t, const uint8_t id[32],
			    struct bodyz_buf *b, const void **ret_body,
			    size_t *ret_len);
/* The body of a row read by entries_get() or entries_at(), as
 * entries_body() gives it (the row must still be valid). */
int entries_row_body(struct store_txn *t, const struct entries_row *row,
		     struct bodyz_buf *b, const void **ret_body,
		     size_t *ret_len);

/* 1 when the entry at local seq lseq is stored with its body, 0 when
 * without. */
int entries_body_held(struct store_txn *t, uint64_t lseq);

/* Give entry id, at local seq lseq, the body it was stored without
 * (body already checked against its signed hash): 1 when stored, 0 when
 * it held one. */
int entries_body_fill(struct store_txn *t, const uint8_t id[32],
		      uint64_t lseq, const uint8_t *body, size_t body_len);

/* Drop the body of entry id, at local seq lseq: 0, or HAMLET_ENOTFOUND
 * when none was held. */
int entries_body_drop(struct store_txn *t, const uint8_t id[32],
		      uint64_t lseq);

/*
 * Take entries keep + 1 ... last of feed out of the store (a revocation
 * cut them off, SPEC §9): cb(ctx, seq, lseq, row) sees each, last first,
 * while its row is still stored (row borrows until cb returns), then the
 * row and the feed's runs past keep go. A cb's <0 stops and is
 * returned. A local seq freed at the end of the table may be given again.
 */
typedef int (*entries_gone_cb)(void *ctx, uint64_t seq, uint64_t lseq,
			       const struct entries_row *row);
int entries_truncate(struct store_txn *t, const uint8_t feed[32],
		     uint64_t keep, uint64_t last, entries_gone_cb cb,
		     void *ctx);

/* Write envelope length (be16), envelope and signature to buf: the
 * start of the log's rows of forks and held entries, and what follows
 * the flags in a whole row of entries; returns the bytes written. */
size_t entries_row_start(uint8_t *buf, const uint8_t *env, size_t env_len,
			 const uint8_t *sig);

/* Decode a row of the entries table read in t (v as store_get() gives
 * it), rebuilding a compact row's envelope; t NULL: its signature, flags
 * and body only, env NULL (what reading a body needs). */
int entries_row_decode(struct store_txn *t, const void *v, size_t vl,
		       struct entries_row *ret);

#endif
