/*
 * zst: zstd compression of wire messages and bundle runs, with the
 * decompressed size bounded before anything is allocated (proto/SPEC.md
 * §2 "Entry runs" and §5.3 ENTRIES).
 *
 * A compressed payload is exactly one zstd frame that declares its
 * content size. A reader asks zst_size() first: a frame that declares no
 * size, declares more than the caller's bound, or is followed by other
 * bytes is refused there, so a hostile size is never allocated; then
 * zst_decompress() into a buffer of exactly that size refuses a frame
 * whose actual content is larger or smaller than declared.
 */
#ifndef HAMLET_ZST_H
#define HAMLET_ZST_H

#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

#define ZST_LEVEL 3
/* A run of this many bytes or more (a catch-up's messages, of 150 to
 * 256 entries) at level ZST_LEVEL_BULK: nearly the same bytes (about 1 %
 * more), about half the sender's time; smaller ones, what a slow link's
 * pushes are, at ZST_LEVEL (docs/decisions.md, "Compact entries and zstd
 * on 2G links") */
#define ZST_BULK_FROM (64 * 1024)
#define ZST_LEVEL_BULK 1

/*
 * This thread's zstd contexts for one use, made at its first call and
 * freed when the thread ends; NULL when memory runs out. Making a
 * context (its tables, a megabyte and more) for every frame cost as much
 * as compressing it, so each use sets its parameters once and keeps
 * them: tag is the use's own, NULL until it has.
 */
enum zst_use {
	ZST_RUNS,   /* wire messages and bundle runs (this module) */
	ZST_BODIES, /* bodies with the store's dictionary (bodyz.h) */
	ZST_USES
};
struct zst_ctxs {
	ZSTD_CCtx *c;
	ZSTD_DCtx *d;
	const void *tag;
};
struct zst_ctxs *zst_thread(enum zst_use use);

/*
 * Compress in[0..n) at ZST_LEVEL (ZST_LEVEL_BULK from ZST_BULK_FROM
 * bytes) into a new buffer (*ret, free() it),
 * with its content size and checksum in the frame. 0 or -ENOMEM.
 */
int zst_compress(const uint8_t *in, size_t n, uint8_t **ret, size_t *ret_len);

/*
 * The content size that the frame in[0..n) declares, when it is at most
 * max. HAMLET_EFORMAT: not one whole zstd frame (or bytes after it, or
 * no declared size); HAMLET_ETOOBIG: it declares more than max.
 */
int zst_size(const uint8_t *in, size_t n, size_t max, size_t *ret_size);

/*
 * Decompress the frame in[0..n) into out[0..size), size being what
 * zst_size() returned. HAMLET_EFORMAT when the frame is damaged (its
 * checksum fails) or its content is not exactly size bytes.
 */
int zst_decompress(const uint8_t *in, size_t n, uint8_t *out, size_t size);

#endif
