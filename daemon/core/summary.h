/*
 * summary: what a node holds, as a file another node can build a bundle
 * against ("send me only what I lack"). proto/SPEC.md "Summary files".
 */
#ifndef HAMLET_SUMMARY_H
#define HAMLET_SUMMARY_H

#include "store.h"
#include "trust.h"

#include <stddef.h>
#include <stdint.h>

/* format 2: version 4 and its checksum; format 1 was versions 2 and 3 */
#define SUMMARY_MAGIC "HAMLETS\x02"
#define SUMMARY_MAX_FEEDS 4000000

struct summary_feed {
	uint8_t key[32];
	uint64_t seq;
	uint8_t head[32];
};

struct summary {
	uint8_t network_id[32];
	uint8_t node[32];
	uint64_t hlc;
	struct summary_feed *feeds; /* sorted by key */
	size_t n;
	uint8_t file_hash[32]; /* BLAKE2b-256 of the file, trailer and all */
	uint8_t *certs;	       /* the node's certificate chain file, or NULL */
	size_t certs_len;
	/* the keys of the node's trust set, sorted, ntrust of them */
	uint8_t (*trust)[TRUST_KEY_LEN];
	size_t ntrust;
};

/* 2: the node's certificate chain; 3: the keys of its trust set; 4: a
 * checksum after the array (SUMMARY_SUM_LEN bytes, BLAKE2b-256 of every
 * byte before it) */
#define SUMMARY_VERSION 4
#define SUMMARY_SUM_LEN 32

/* Write what st holds to path (atomically), with the node's certificate
 * chain file (certs, certs_len; NULL: it has none) so the bundle's maker
 * can tell what the node may read, and the keys of its trust set so that
 * it can tell what of its own the node lacks. It replaces an earlier
 * summary only:
 * -EEXIST when path holds a file of another kind, -EISDIR or -ENODEV
 * when it is no file. */
int summary_write(struct store *st, const uint8_t network_id[32],
		  const uint8_t node[32], const uint8_t *certs,
		  size_t certs_len, const char *path, uint64_t *ret_feeds);
/* Read and check a summary file (version 4): a file whose checksum does
 * not match is refused before anything of it is read (HAMLET_EFORMAT,
 * "cut short or damaged"), and so is one of version 2 or 3, made by an
 * older hamlet without one. Free with summary_free(). */
int summary_read(const char *path, struct summary **ret, char *why,
		 size_t whylen);
void summary_free(struct summary *s);
/* The seq the summary's node holds of feed key (0: none). */
uint64_t summary_seq(const struct summary *s, const uint8_t key[32]);
/* The summary's entry for feed key, or NULL. */
const struct summary_feed *summary_find(const struct summary *s,
					const uint8_t key[32]);

/* Does the summary's node hold the trust item key: 1 yes, 0 no. */
int summary_has_trust(const struct summary *s,
		      const uint8_t key[TRUST_KEY_LEN]);

#endif
