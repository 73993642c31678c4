/*
 * bundle_format: the byte layout of a bundle file (proto/SPEC.md
 * "Bundles"). This module only frames and parses; what the frames mean
 * (which entries, verifying, importing) is daemon/core/bundle*.c.
 *
 * file    = magic frame*
 * magic   = "HAMLETB" 0x01
 * frame   = 'h' 'm' type 0x00 len:u32be payload[len]
 * type    = 'H' header | 'R' trust item | 'C' run of entries | 'E' entry
 *           | 'T' trailer
 *
 * A run frame carries consecutive entries of one feed in compact form
 * (proto/run.h), zstd-compressed when that is smaller: [codec, bytes].
 */
#ifndef HAMLET_BUNDLE_FORMAT_H
#define HAMLET_BUNDLE_FORMAT_H

#include "entry.h"
#include "run.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BUNDLE_MAGIC "HAMLETB\x01"
#define BUNDLE_MAGIC_LEN 8
#define BUNDLE_FRAME_HDR 8
#define BUNDLE_MAX_FRAME (ENTRY_MAX_ENVELOPE + ENTRY_MAX_BODY + 256)
#define BUNDLE_SIG_PREFIX "hamlet/bundle/v1"
#define BUNDLE_SIG_PREFIX_LEN 17 /* with its NUL */
#define BUNDLE_VERSION 3 /* 2: trust items; 3: run frames */
/* A run frame's payload: one sealed frame's plaintext less its header. */
#define BUNDLE_MAX_RUN_FRAME ((size_t)256 * 1024 - BUNDLE_FRAME_HDR)
#define BUNDLE_MAX_RUN ((size_t)256 * 1024) /* a run, decompressed */
#define BUNDLE_MAX_RUN_ENTRIES 256	    /* entries in one run frame */
/* A writer closes a run at this many entries or bytes (before zstd). */
#define BUNDLE_RUN_ENTRIES 64
#define BUNDLE_RUN_BYTES ((size_t)128 * 1024)

enum bundle_frame_type {
	BUNDLE_FRAME_HEADER = 'H',
	BUNDLE_FRAME_ENTRY = 'E', /* one entry whole: fork evidence */
	BUNDLE_FRAME_RUN = 'C',	  /* consecutive entries of one feed */
	BUNDLE_FRAME_TRUST = 'R', /* a certificate, revocation or fork proof */
	BUNDLE_FRAME_TRAILER = 'T',
};

struct bundle_header {
	uint8_t network_id[32];
	uint8_t creator[32];
	uint64_t created_hlc;
	char scope[ENTRY_MAX_SCOPE + 1]; /* "" for every scope */
	int has_for;			 /* built for a summary */
	uint8_t for_node[32];		 /* the node that summary came from */
	uint8_t for_summary[32];	 /* BLAKE2b-256 of the summary file */
};

/* An entry frame; pointers borrow from the reader's buffer. */
struct bundle_entry {
	const uint8_t *env;
	size_t env_len;
	const uint8_t *sig;
	const uint8_t *body; /* NULL when the frame carries no body */
	size_t body_len;
};

struct bundle_trailer {
	uint64_t count;
	uint8_t content_hash[32]; /* BLAKE2b-256 of every byte before the trailer frame */
	uint8_t sig[64];	  /* creator's signature over prefix || content_hash */
};

/* --- writing ---------------------------------------------------------- */

struct bundle_writer;

/* 0 when a bundle may be written at path: nothing there, or an earlier
 * bundle (plain or sealed) to replace; -EEXIST for a file of another
 * kind, -EISDIR or -ENODEV for no file, or -errno. */
int bundle_file_replaceable(const char *path);

/*
 * Start a bundle at path. The bytes go to "path.part" and become path
 * only in bundle_writer_finish(), so an interrupted run never leaves a
 * file that looks whole.
 */
int bundle_writer_open(const char *path, const struct bundle_header *h,
		       struct bundle_writer **ret);
/*
 * bundle_writer_open(), sealed to seal_to (an Ed25519 public key; NULL: a
 * plain bundle): the same frames, each sealed on its own (proto/seal.h),
 * so that the file tells nothing but whom it is for. HAMLET_EKEY when
 * seal_to is not a valid key.
 */
int bundle_writer_open_sealed(const char *path, const struct bundle_header *h,
			      const uint8_t *seal_to,
			      struct bundle_writer **ret);
/*
 * Append v[0..n) (n <= BUNDLE_MAX_RUN_ENTRIES), consecutive entries of
 * one feed from v[0]'s seq, as one run frame; their bytes before zstd
 * at most BUNDLE_RUN_BYTES plus one entry. st (may be NULL) counts
 * compact and whole entries.
 */
int bundle_writer_add_run(struct bundle_writer *w, const struct run_entry *v,
			  size_t n, struct run_stats *st);
/* Append one entry whole (body may be NULL): fork evidence. */
int bundle_writer_add(struct bundle_writer *w, const uint8_t *env,
		      size_t env_len, const uint8_t sig[64],
		      const uint8_t *body, size_t body_len);
/* Append one trust item (proto/trust.h kind and bytes): before the
 * entries, so a reader holds the certificates that judge them first. */
int bundle_writer_add_trust(struct bundle_writer *w, int kind,
			    const uint8_t *data, size_t len);
/* Write the trailer signed with the creator's secret key (its
 * content hash covers the plain bytes, sealed or not), fsync, rename.
 * The writer is freed whatever the result. */
int bundle_writer_finish(struct bundle_writer *w, const uint8_t sk[64]);
/* Abandon: remove the partial file. Accepts NULL. */
void bundle_writer_free(struct bundle_writer *w);
uint64_t bundle_writer_count(const struct bundle_writer *w);
uint64_t bundle_writer_bytes(const struct bundle_writer *w);

/* --- reading ---------------------------------------------------------- */

struct bundle_frame {
	int type;
	size_t offset; /* of the frame header in the file */
	const uint8_t *payload;
	size_t len;
};

struct bundle_reader {
	const uint8_t *buf;
	size_t len;
	size_t off;
	int resync; /* the previous call failed: look for the next frame */
};

/* HAMLET_EFORMAT when buf does not start with the bundle magic. */
int bundle_reader_init(struct bundle_reader *r, const uint8_t *buf,
		       size_t len);
/*
 * The next frame: 1 and *ret filled, 0 at the end of the file, or a
 * negative error for a damaged frame at *ret_bad_off. After an error the
 * next call skips ahead to the next place where a frame starts, so one
 * damaged frame does not hide the ones after it.
 */
int bundle_reader_next(struct bundle_reader *r, struct bundle_frame *ret,
		       size_t *ret_bad_off);

/*
 * 1 when the bytes at off are a frame header whose payload runs past the
 * end of r's file (*ret_declared its length): a file cut inside that
 * frame, not a damaged one; else 0.
 */
int bundle_reader_cut_at(const struct bundle_reader *r, size_t off,
			 uint32_t *ret_declared);

/*
 * 1 when the bytes at off are a well-formed frame head whose declared
 * length is over its type's limit: *ret_type, *ret_declared and
 * *ret_limit (BUNDLE_MAX_RUN_FRAME or BUNDLE_MAX_FRAME) say so; else 0.
 */
int bundle_reader_oversize_at(const struct bundle_reader *r, size_t off,
			      int *ret_type, uint32_t *ret_declared,
			      size_t *ret_limit);

/* The frame at offset turned out damaged inside (its length may be wrong):
 * look for the next frame from the byte after its start. */
void bundle_reader_resync_from(struct bundle_reader *r, size_t offset);

/* The header frame's payload. HAMLET_EVERSION for a version other than
 * BUNDLE_VERSION (read before the other fields); why (may be NULL)
 * names the field at fault, or the version found and the one read. */
int bundle_header_parse(const uint8_t *p, size_t len,
			struct bundle_header *ret, char *why, size_t whylen);
/* A trust frame's payload, msgpack [kind, bin]: data borrows from p.
 * HAMLET_EFORMAT for a kind this version does not know; why (may be
 * NULL) names the field at fault. */
int bundle_trust_parse(const uint8_t *p, size_t len, int *ret_kind,
		       const uint8_t **ret_data, size_t *ret_len, char *why,
		       size_t whylen);
int bundle_entry_parse(const uint8_t *p, size_t len,
		       struct bundle_entry *ret);
/* A run frame's entries; v[] borrows from p and from raw and envs,
 * which bundle_run_release() frees. */
struct bundle_run {
	struct run_head head;
	size_t n;
	struct run_entry v[BUNDLE_MAX_RUN_ENTRIES];
	void *raw;  /* the decompressed run, or NULL */
	void *envs; /* the rebuilt envelopes */
};
/*
 * Parse a run frame's payload, decompressing it (its declared size at
 * most BUNDLE_MAX_RUN, checked before anything is allocated) and
 * rebuilding its envelopes. why names what is wrong. On failure nothing
 * is left to release.
 */
int bundle_run_parse(const uint8_t *p, size_t len, struct bundle_run *ret,
		     char *why, size_t whylen);
void bundle_run_release(struct bundle_run *r);
int bundle_trailer_parse(const uint8_t *p, size_t len,
			 struct bundle_trailer *ret);
/* 0 when the trailer's signature by creator covers content_hash. */
int bundle_trailer_verify(const struct bundle_trailer *t,
			  const uint8_t creator[32]);

#endif
