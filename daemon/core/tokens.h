/*
 * tokens: the bearer tokens of hamletd's HTTP API (docs/api.md).
 *
 * HOME/tokens is a JSON array of {name, role, scope, hash, created} and,
 * for a token that ends, "expires" (ms since the epoch, UTC): the
 * token itself is shown once, at creation, and never stored; hash is
 * BLAKE2b-256 of it (libsodium crypto_generichash), in hex. The CLI
 * writes the file (a new file beside it, then rename, under a lock on
 * HOME/tokens.lock) without going through the daemon; hamletd re-reads it
 * when it changes. Mode 0640: the daemon's group reads it; only hashes
 * are in it.
 */
#ifndef HAMLET_TOKENS_H
#define HAMLET_TOKENS_H

#include "entry.h"

#include <stddef.h>
#include <stdint.h>

#define TOKENS_FILE "tokens"
#define TOKENS_MAX 256	     /* tokens a node holds */
#define TOKEN_MAX_NAME 64    /* 1-64 of a-z, 0-9, '-', '_', '.' */
#define TOKEN_PREFIX "hmt_"  /* then 64 hex digits (32 random bytes) */
#define TOKEN_LEN (4 + 64)

enum token_role {
	TOKEN_READ = 1, /* GET: records, conflicts, changes, status */
	TOKEN_WRITE,	/* and PUT, DELETE, resolve */
};

struct token {
	char name[TOKEN_MAX_NAME + 1];
	int role;
	char scope[ENTRY_MAX_SCOPE + 1]; /* "" : every scope */
	uint8_t hash[32];
	uint64_t created_ms;
	uint64_t expires_ms; /* 0: never; refused from this instant on */
};

struct tokens {
	struct token v[TOKENS_MAX];
	size_t n;
};

const char *token_role_name(int role);
/* "read" or "write" -> the role; 0 when neither. */
int token_role_parse(const char *s);

/*
 * Read HOME/tokens into ret: an absent file is no token. A malformed file
 * is HAMLET_EFORMAT with why naming the fault.
 */
int tokens_load(const char *home, struct tokens *ret, char *why,
		size_t whylen);

/* 0 when s is a token name: 1-TOKEN_MAX_NAME of a-z, 0-9, '-', '_', '.' */
int tokens_name_check(const char *s);

/*
 * Add a token (name unique, role, scope "" or a scope, expires_ms 0 or
 * the instant it ends, in the future) and write the file; out
 * (TOKEN_LEN + 1 bytes) gets the token, to show once. HAMLET_EDUP for a
 * name in use, HAMLET_EFORMAT for a bad name, scope or an end already
 * past, HAMLET_ETOOBIG past TOKENS_MAX.
 */
int tokens_create(const char *home, const char *name, int role,
		  const char *scope, uint64_t expires_ms, char *out, char *why,
		  size_t whylen);

/* Drop token name: HAMLET_ENOTFOUND when there is none. */
int tokens_revoke(const char *home, const char *name, char *why,
		  size_t whylen);

/* The token presented (the text after "Bearer "), or NULL; an expired
 * one is found too (token_expired() tells). */
const struct token *tokens_find(const struct tokens *ts, const char *token);

/* 1 when t has an end and now_ms is at or past it. */
int token_expired(const struct token *t, uint64_t now_ms);

/* 1 when a record of scope lies under the token's scope (or it has none). */
int token_covers(const struct token *t, const char *scope);

#endif
