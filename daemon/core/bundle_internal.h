/*
 * bundle_internal: what bundle.c (reading a bundle: the walk over its
 * frames), bundle_import.c and bundle_check.c share. Nothing outside the
 * bundle module includes it.
 */
#ifndef HAMLET_BUNDLE_INTERNAL_H
#define HAMLET_BUNDLE_INTERNAL_H

#include "bundle.h"
#include "seal.h"
#include "trustset.h"

#define BATCH 4096
#define TRUST_BATCH 256

/* A walk over a bundle's frames: its entries are handed to batch, its
 * trust items to trust, in the order of the file. */
struct walk;
typedef int (*walk_batch_cb)(struct walk *wk, const struct log_in *in,
			     const size_t *offs, size_t n);
typedef int (*walk_trust_cb)(struct walk *wk,
			     const struct trustset_item *items,
			     const size_t *offs, size_t n);

struct walk {
	struct bundle_report *rep;
	const uint8_t *network_id; /* may be NULL */
	walk_batch_cb batch;
	void *ctx;
	char *why;
	size_t whylen;
	walk_trust_cb trust; /* NULL: trust frames are only checked */
	const uint8_t *sk;   /* opens a bundle sealed to it; may be NULL */
	struct node *names;  /* names nodes by its trust set; may be NULL */
	bundle_progress_fn progress; /* NULL: none */
	void *progress_ctx;
	/* a sealed file's frames as opened: offsets in its plaintext are
	 * named by where they lie in the file (walk_at); NULL: not sealed */
	const struct seal_opened *sealed;
	/* 1: a check, whose trust callback judges items without storing
	 * them (nothing is imported) */
	int check_only;
};

/* Walk the bundle at path (bundle.c): wk->rep is filled, wk->why says
 * why a walk ended early (<0). */
int bundle__walk_file(const char *path, struct walk *wk);

/* The slot of key in an open-addressing table of elements starting
 * with their 32-byte key (bundle.c says how); NULL when out of memory. */
void *bundle__table_slot(void *ptab, size_t *cap, size_t *used, size_t sz,
			 size_t first_cap, const uint8_t key[32], int *ret_new);

/* An entry named for a report: collection/id, feed and seq
 * (bundle_import.c). */
void bundle__describe(const struct log_in *in, char *buf, size_t n);

#endif
