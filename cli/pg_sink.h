/*
 * pg_sink: the PostgreSQL side of `hamlet sink postgres` (libpq; the only
 * file that includes libpq-fe.h). It owns the tables' layout (documented
 * in docs/center-guide.md): one table per collection with a typed column
 * per schema field plus provenance, conflict and deletion columns, the
 * table of open conflicts, the checkpoint (seq and the epoch of the
 * store's numbering it is of) and hamlet_meta with the layout's
 * version. It knows nothing of the store: the caller hands it rows as
 * text.
 *
 * Every batch of rows is written with the checkpoint in one PostgreSQL
 * transaction, so what is committed and the seq it reached never part.
 *
 * Errors: 0 or a negative code, with why (always NUL-terminated) naming
 * what is wrong. -EINVAL: the DSN does not parse. -ECONNREFUSED: no
 * connection (refused, not started, authentication; libpq's words in
 * why). -EPIPE: the connection broke or the server is shutting down, out
 * of space or said "try again": reconnect and retry. -EEXIST: the
 * database follows another node. HAMLET_EVERSION: the tables are of a
 * newer layout. -EBUSY: another sink writes to the database. -EACCES:
 * permission denied. -EIO: any other SQL error.
 */
#ifndef HAMLET_CLI_PG_SINK_H
#define HAMLET_CLI_PG_SINK_H

#include "cert.h"
#include "entry.h"
#include "schema.h"

#include <stddef.h>
#include <stdint.h>

/* The tables' layout; hamlet_meta's schema_version. Tables of an older
 * version are brought up to it in place when the sink opens them. */
#define PG_SINK_SCHEMA_VERSION 2
/* Rows in one transaction, at most. */
#define PG_SINK_MAX_BATCH 500

struct pg_sink;

/* One open conflict of a record: the field ("" for update versus
 * delete), its rule, and the candidates as a JSON array. */
struct pg_sink_conflict {
	char field[SCHEMA_MAX_MAP_KEY + 1];
	char rule[16];
	char *values_json; /* malloc()ed */
};

/* One record as a row. Strings marked malloc()ed belong to the row
 * (pg_sink_row_clear() frees them). A row gone (the node no longer
 * holds the record: changes.h) has s, id and seq only, and its row in
 * PostgreSQL goes. */
struct pg_sink_row {
	const struct schema *s;
	char id[ENTRY_MAX_RECORD_ID + 1];
	int gone;
	char *field[SCHEMA_MAX_FIELDS]; /* text of each value, NULL: none;
					 * malloc()ed */
	int deleted, erased;
	char erased_at[32];	/* ISO time; "" when not erased */
	char *erase_reason;	/* malloc()ed; NULL when not erased */
	char *conflicts_json;	/* JSON array of the open conflicts, NULL
				 * when none; malloc()ed */
	struct pg_sink_conflict *conf; /* malloc()ed, nconf of them */
	size_t nconf;
	char scope[ENTRY_MAX_SCOPE + 1], scope_written[ENTRY_MAX_SCOPE + 1];
	char author_key[2 * ENTRY_KEY_LEN + 1]; /* hex; "" when unknown */
	char author_name[CERT_MAX_NAME + 1];	/* "" when unknown */
	char entry_id[2 * ENTRY_ID_LEN + 1];	/* the newest op's, hex */
	uint64_t hlc;
	char updated_at[32]; /* the newest op's time, ISO */
	uint64_t seq;	     /* this node's change seq */
};

void pg_sink_row_clear(struct pg_sink_row *row);

/* Who the database follows: the node's public key (hex), name and
 * network. */
struct pg_sink_node {
	const char *key_hex;
	const char *name;
	const char *network;
};

/* Where the database stands: the last seq written, and the epoch of the
 * store's numbering that seq is of (changes_epoch(); 0: none recorded,
 * as in a new database). */
struct pg_sink_checkpoint {
	uint64_t seq;
	uint64_t epoch;
};

/*
 * Check that dsn parses (a libpq connection string or URI); nothing is
 * connected. -EINVAL with libpq's reason in why.
 */
int pg_sink_dsn_check(const char *dsn, char *why, size_t whylen);

/*
 * Connect, take the database's sink lock (one sink a database), create
 * the tables when missing (or bring an older layout up to this one),
 * check their version and that they follow node (a new database takes
 * it), and read the checkpoint into *ret_cp ({0, 0} when none). On
 * failure *ret is NULL. pg_sink_free() closes.
 */
int pg_sink_open(const char *dsn, const struct pg_sink_node *node,
		 struct pg_sink **ret, struct pg_sink_checkpoint *ret_cp,
		 char *why, size_t whylen);
void pg_sink_free(struct pg_sink *p);

/*
 * Write rows[0..n) (n <= PG_SINK_MAX_BATCH; each record at most once;
 * none: the checkpoint alone), deleting the rows of those gone, and move
 * the checkpoint from *from to *to, in one transaction: either all of it
 * is committed or none.
 * -ESTALE when the checkpoint is no longer *from (someone else moved
 * it). On any failure nothing is written; after -EPIPE reconnect with
 * pg_sink_open().
 */
int pg_sink_write(struct pg_sink *p, const struct pg_sink_row *rows,
		  size_t n, const struct pg_sink_checkpoint *from,
		  const struct pg_sink_checkpoint *to, char *why,
		  size_t whylen);

/* The server's name for messages: "host:port/db" or "socket dir/db";
 * valid until pg_sink_free(). */
const char *pg_sink_where(const struct pg_sink *p);

#endif
