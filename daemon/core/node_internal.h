/*
 * node_internal: what node.c (a node's home: making and opening it),
 * node_ini.c (reading the small INI files) and node_cert.c (the root key
 * and certificates) share. Nothing outside the node module includes it.
 */
#ifndef HAMLET_NODE_INTERNAL_H
#define HAMLET_NODE_INTERNAL_H

#include "node.h"

#include <sys/types.h>

/* libsodium must be initialised before sodium_malloc and randombytes;
 * every entry point of this module that needs either calls this. */
int node__crypto_ready(void);

/* a/b, malloc'd; NULL when out of memory. */
char *node__path_join(const char *a, const char *b);

/* Write a whole file atomically (a temporary file, fsync, rename) with
 * the given mode. */
int node__write_bytes(const char *path, const uint8_t *buf, size_t len,
		      mode_t mode);

/*
 * Read the [section] of the small INI file at path: vals[i] gets the
 * value of keys[i] (NULL-ended, at most 8), malloc'd (node__ini_free()
 * them, whatever this returns), and ret_lines[i] (may be NULL) the line
 * that gave it. Every key must be there, once, and no other; the file
 * must be text (no NUL byte, not UTF-16); why names the problem and its
 * line.
 */
int node__ini_read(const char *path, const char *section,
		   const char *const *keys, char **vals, int *ret_lines,
		   char *why, size_t whylen);
/* Wipe and free the n values node__ini_read() gave. */
void node__ini_free(char **vals, size_t n);

/* --- node_feeds.c --------------------------------------------------------- */

/*
 * Read n's HOME/own-feeds into n->feeds; when not readonly, raise it to
 * the heads of n's own feeds in its store and write it when that changed
 * it or it was missing. A file that cannot be used is not an error here:
 * node_feeds_problem() says why, and every write is refused with it.
 * <0 only when out of memory.
 */
int node__feeds_open(struct node *n, int readonly);
/* A new node's own-feeds in home: its key, no feed yet. */
int node__feeds_create(const char *home, const uint8_t pk[32]);
/* Free what node__feeds_open() made; accepts NULL. */
void node__feeds_close(struct node_feeds *f);
/* The floors for log_author (borrowed from f); NULL when f is. */
const struct log_floors *node__feeds_floors(const struct node_feeds *f);
/* A copy of f's table (*ret_table, malloc'd, may be NULL when *ret_n is
 * 0) and of the file's bytes as f last read or wrote them (*ret_disk,
 * malloc'd and NUL-terminated, NULL when missing): 0; 1 when the file
 * cannot be used (nothing copied); -ENOMEM. *ret_readonly always. */
int node__feeds_copy(struct node_feeds *f, struct node_feed **ret_table,
		     size_t *ret_n, char **ret_disk, size_t *ret_len,
		     int *ret_readonly);

/* --- node_feeds_file.c ---------------------------------------------------- */

/* The file's text for table v (feeds of seq 0 left out), malloc'd; its
 * length in *ret_len. NULL when out of memory. */
char *node__feeds_text(const uint8_t pk[32], const struct node_feed *v,
		       size_t nv, size_t *ret_len);
/* The whole file at path into *ret, malloc'd (NUL-terminated; the
 * caller frees it): 0, HAMLET_ETOOBIG past NODE_FEEDS_MAX_BYTES, or
 * -errno (-ENOENT: missing). */
int node__feeds_file_read(const char *path, char **ret, size_t *ret_len);

#endif
