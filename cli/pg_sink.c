#include "pg_sink.h"

#include "error.h"
#include "i18n.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pg_sink {
	PGconn *conn;
	char where[256];
	/* the collection whose rows are being written (NULL when no
	 * row is): a refusal of a row then names it and stops the sink */
	const char *rows_of;
};

/* The key of the advisory lock one sink holds on its database: any
 * constant both sinks agree on ("hamlet_s" in ASCII). */
#define SINK_LOCK_KEY "7521966661617378163"

/* The columns every collection table has after the schema's fields, in
 * the order the upsert gives them. */
static const struct {
	const char *name, *type;
} fixed_cols[] = {
	{ "deleted", "boolean NOT NULL" },
	{ "erased", "boolean NOT NULL" },
	{ "erased_at", "timestamptz" },
	{ "erase_reason", "text" },
	{ "conflicted", "boolean NOT NULL" },
	{ "conflict_values", "jsonb" },
	{ "scope", "text" },
	{ "scope_written", "text" },
	{ "author_key", "text" },
	{ "author_name", "text" },
	{ "entry_id", "text NOT NULL" },
	{ "hlc", "bigint NOT NULL" },
	{ "updated_at", "timestamptz NOT NULL" },
	{ "seq", "bigint NOT NULL" },
};
#define NFIXED (sizeof(fixed_cols) / sizeof(fixed_cols[0]))

void pg_sink_row_clear(struct pg_sink_row *row)
{
	if (!row)
		return;
	for (size_t i = 0; i < SCHEMA_MAX_FIELDS; i++)
		free(row->field[i]);
	free(row->erase_reason);
	free(row->conflicts_json);
	for (size_t i = 0; i < row->nconf; i++)
		free(row->conf[i].values_json);
	free(row->conf);
	memset(row, 0, sizeof(*row));
}

static const char *sql_type(enum field_type t)
{
	switch (t) {
	case FT_INT: return "bigint";
	case FT_DATE: return "date";
	case FT_MAP: return "jsonb";
	case FT_STR:
	case FT_MONTH: /* "2026-03": what reports group by, kept as written */
	case FT_ENUM: return "text";
	}
	return "text";
}

/* libpq's message on one line (it breaks lines and indents with tabs),
 * for a log that keeps a line per event. */
static void trim_copy(char *why, size_t whylen, const char *prefix,
		      const char *msg)
{
	size_t n, k = 0;
	snprintf(why, whylen, "%s%s", prefix, msg ? msg : "");
	n = strlen(why);
	while (n && (why[n - 1] == '\n' || why[n - 1] == ' '))
		why[--n] = 0;
	for (size_t i = 0; i < n; i++) {
		if (why[i] == '\n' || why[i] == '\t') {
			if (k && why[k - 1] != ' ')
				why[k++] = ' ';
			continue;
		}
		why[k++] = why[i];
	}
	why[k] = 0;
}

/* Turn a failed statement into our code, why naming it; what is marked
 * with N_() and translated here. */
static int sql_fault(struct pg_sink *p, PGresult *res, const char *what,
		     char *why, size_t whylen)
{
	const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : NULL;
	char prefix[400];

	if (!msg || !msg[0])
		msg = PQerrorMessage(p->conn);
	snprintf(prefix, sizeof(prefix), _("PostgreSQL at %s, %s: "), p->where,
		 _(what));
	trim_copy(why, whylen, prefix, msg);
	/* no SQLSTATE: libpq's own error, not the server's, which is the
	 * connection lost (a server that crashed and restarts ends every
	 * session, and libpq may not call the connection bad until the
	 * next call): another connection is tried */
	if (PQstatus(p->conn) == CONNECTION_BAD || !st)
		return -EPIPE;
	/* connection exceptions, shutdown, no space, "try again" */
	if (strncmp(st, "08", 2) == 0 || strncmp(st, "57P", 3) == 0 ||
	    strncmp(st, "53", 2) == 0 || strcmp(st, "40001") == 0 ||
	    strcmp(st, "40P01") == 0)
		return -EPIPE;
	if (p->rows_of &&
	    (strncmp(st, "23", 2) == 0 || strncmp(st, "22", 2) == 0)) {
		/* a row the database refuses (a constraint, or a column
		 * type its administrator changed): the same row is refused
		 * at each try, so the sink stops (exit 4: systemd's unit
		 * does not restart it). The row's values are a person's
		 * data: libpq's DETAIL quotes the row, and a data
		 * exception's (class 22) primary message the value, so
		 * neither is shown; a constraint's (class 23) primary
		 * message names only the constraint and the table. */
		const char *prim = PQresultErrorField(res,
						      PG_DIAG_MESSAGE_PRIMARY);
		const char *tab = PQresultErrorField(res, PG_DIAG_TABLE_NAME);
		const char *col = PQresultErrorField(res, PG_DIAG_COLUMN_NAME);
		const char *con = PQresultErrorField(res,
						     PG_DIAG_CONSTRAINT_NAME);
		char what_con[200] = "";
		if (con)
			snprintf(what_con, sizeof(what_con),
				 _(", constraint %s"), con);
		else if (col)
			snprintf(what_con, sizeof(what_con),
				 _(", column %s"), col);
		snprintf(prefix, sizeof(prefix),
			 _("PostgreSQL at %s refused a row while %s (table %s%s, SQLSTATE %s): "),
			 p->where, _(what), tab ? tab : p->rows_of, what_con,
			 st);
		if (st[1] == '3')
			trim_copy(why, whylen, prefix, prim ? prim : "");
		else
			trim_copy(why, whylen, prefix,
				  strcmp(st, "22P05") == 0 ||
						  strcmp(st, "22021") == 0
					  ? _("a character of the row is not one the database's encoding holds: the database must be UTF8 (CREATE DATABASE ... ENCODING 'UTF8')")
					  : _("the database refused a value of the row (a column's type changed, or a trigger or a rule of the center's)"));
		snprintf(why + strlen(why), whylen - strlen(why), "%s",
			 _(". The sink stops here, before that batch: change the table so that the node's records fit it (or drop the tables and start with --resync), then start the sink again; the row's values are not shown, as they may be a person's data"));
		return -EINVAL;
	}
	if (strcmp(st, "42501") == 0) {
		snprintf(why + strlen(why), whylen - strlen(why),
			 _(" (the role of --dsn needs CREATE on the schema and to own the hamlet tables; docs/center-guide.md)"));
		return -EACCES;
	}
	return -EIO;
}

/* Run sql with params; *ret (may be NULL) gets the result when it is
 * TUPLES_OK or COMMAND_OK (PQclear() it). */
static int exec(struct pg_sink *p, const char *sql, int n,
		const char *const *vals, const char *what, PGresult **ret,
		char *why, size_t whylen)
{
	/* without parameters the simple protocol, which takes several
	 * statements (the DDL) */
	PGresult *res = n ? PQexecParams(p->conn, sql, n, NULL, vals, NULL,
					 NULL, 0)
			  : PQexec(p->conn, sql);
	ExecStatusType s = PQresultStatus(res);
	int r;

	if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
		r = sql_fault(p, res, what, why, whylen);
		PQclear(res);
		return r;
	}
	if (ret)
		*ret = res;
	else
		PQclear(res);
	return 0;
}

static void rollback(struct pg_sink *p)
{
	if (PQstatus(p->conn) == CONNECTION_OK)
		PQclear(PQexec(p->conn, "ROLLBACK"));
}

int pg_sink_dsn_check(const char *dsn, char *why, size_t whylen)
{
	char *err = NULL;
	PQconninfoOption *o = PQconninfoParse(dsn, &err);

	if (!o) {
		trim_copy(why, whylen, _("the --dsn is not a PostgreSQL connection string: "),
			  err ? err : _("out of memory"));
		PQfreemem(err);
		return -EINVAL;
	}
	/* values libpq would refuse only when it connects, which a sink
	 * would take for a server away and retry for ever: named here,
	 * whatever language libpq speaks */
	for (PQconninfoOption *x = o; x->keyword; x++) {
		static const char *const sslmodes[] = {
			"disable", "allow", "prefer", "require", "verify-ca",
			"verify-full", NULL
		};
		static const char *const attrs[] = {
			"any", "read-write", "read-only", "primary", "standby",
			"prefer-standby", NULL
		};
		const char *const *one = NULL;
		const char *v = x->val;
		int bad = 0;
		if (!v)
			continue;
		if (!strcmp(x->keyword, "port") ||
		    !strcmp(x->keyword, "connect_timeout")) {
			/* a number, or for port a list of them (one a host) */
			for (const char *p = v; *p && !bad; p++)
				bad = !((*p >= '0' && *p <= '9') ||
					(*p == ',' && !strcmp(x->keyword, "port")));
			if (!bad && !strcmp(x->keyword, "port"))
				for (const char *p = v; *p && !bad;) {
					char *end;
					long n = strtol(p, &end, 10);
					bad = end == p || n < 1 || n > 65535;
					p = *end == ',' ? end + 1 : end;
				}
		} else if (!strcmp(x->keyword, "sslmode")) {
			one = sslmodes;
		} else if (!strcmp(x->keyword, "target_session_attrs")) {
			one = attrs;
		}
		if (one) {
			bad = 1;
			for (; *one && bad; one++)
				bad = strcmp(v, *one) != 0;
		}
		if (bad) {
			snprintf(why, whylen,
				 _("the --dsn gives %s=%s, which is no value %s takes"),
				 x->keyword, v, x->keyword);
			PQconninfoFree(o);
			return -EINVAL;
		}
	}
	PQconninfoFree(o);
	return 0;
}

/* --- the tables -------------------------------------------------------- */

/* The DDL of one collection's table into a malloc()ed string. */
static char *table_ddl(const struct schema *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return NULL;
	fprintf(m, "CREATE TABLE \"%s\" (\"id\" text PRIMARY KEY", s->name);
	for (size_t i = 0; i < s->nfields; i++)
		fprintf(m, ", \"%s\" %s", s->fields[i].name,
			sql_type(s->fields[i].type));
	for (size_t i = 0; i < NFIXED; i++)
		fprintf(m, ", \"%s\" %s", fixed_cols[i].name, fixed_cols[i].type);
	fprintf(m, ");\nCREATE INDEX \"%s_scope\" ON \"%s\" (\"scope\" text_pattern_ops);\n",
		s->name, s->name);
	if (fclose(m) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The epoch of the store's numbering the checkpoint's seq is of, as
 * /v1/changes shows it (16 hex digits); NULL until one is known. Last,
 * so that tables made at this version and tables brought up to it have
 * the same columns in the same order. */
#define CHECKPOINT_EPOCH_COLUMN "epoch text CHECK (epoch ~ '^[0-9a-f]{16}$')"

static const char meta_ddl[] =
	"CREATE TABLE hamlet_meta (key text PRIMARY KEY, value text NOT NULL);\n"
	"CREATE TABLE hamlet_checkpoint (\n"
	"  one boolean PRIMARY KEY DEFAULT true CHECK (one),\n"
	"  node_key text NOT NULL, node_name text NOT NULL,\n"
	"  network text NOT NULL, seq bigint NOT NULL,\n"
	"  updated_at timestamptz NOT NULL DEFAULT now(),\n"
	"  " CHECKPOINT_EPOCH_COLUMN ");\n"
	"CREATE TABLE hamlet_conflicts (\n"
	"  collection text NOT NULL, id text NOT NULL, field text NOT NULL,\n"
	"  rule text NOT NULL, candidates jsonb NOT NULL, seq bigint NOT NULL,\n"
	"  PRIMARY KEY (collection, id, field));\n";

/* A schema field named like a fixed column would make two columns of
 * one name: refuse rather than write a wrong table. */
static int names_check(char *why, size_t whylen)
{
	size_t n;
	const struct schema *const *all = schema_all(&n);

	for (size_t c = 0; c < n; c++)
		for (size_t i = 0; i < all[c]->nfields; i++)
			for (size_t k = 0; k < NFIXED; k++)
				if (strcmp(all[c]->fields[i].name,
					   fixed_cols[k].name) == 0 ||
				    strcmp(all[c]->fields[i].name, "id") == 0) {
					snprintf(why, whylen,
						 _("field %s.%s is named like a column the sink adds"),
						 all[c]->name, all[c]->fields[i].name);
					return -EINVAL;
				}
	return 0;
}

/* Create every table in the open transaction. */
static int tables_create(struct pg_sink *p, char *why, size_t whylen)
{
	size_t n;
	const struct schema *const *all = schema_all(&n);
	char ver[16];
	const char *v[2] = { "schema_version", ver };
	int r;

	if ((r = exec(p, meta_ddl, 0, NULL, N_("creating the hamlet tables"),
		      NULL, why, whylen)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		char *ddl = table_ddl(all[i]);
		if (!ddl)
			return -ENOMEM;
		r = exec(p, ddl, 0, NULL, N_("creating the collection tables"),
			 NULL, why, whylen);
		free(ddl);
		if (r < 0)
			return r;
	}
	snprintf(ver, sizeof(ver), "%d", PG_SINK_SCHEMA_VERSION);
	return exec(p, "INSERT INTO hamlet_meta VALUES ($1, $2)", 2, v,
		    N_("writing hamlet_meta"), NULL, why, whylen);
}

/*
 * The layout version hamlet_meta's schema_version row (res) holds into
 * *ret; a missing row or one that holds no version is said as such
 * (HAMLET_EVERSION, why set): the tables are damaged, not of a version.
 */
static int meta_version(const struct pg_sink *p, PGresult *res, long *ret,
			char *why, size_t whylen)
{
	const char *v;
	char *end;
	long ver;

	if (PQntuples(res) == 0) {
		snprintf(why, whylen,
			 _("hamlet_meta in PostgreSQL at %s has no schema_version row, so the layout of the hamlet tables there is unknown (damaged): drop them and let the sink fill the database again from seq 0 (docs/center-guide.md)"),
			 p->where);
		return HAMLET_EVERSION;
	}
	v = PQgetvalue(res, 0, 0);
	errno = 0;
	ver = strtol(v, &end, 10);
	if (!v[0] || *end || errno || ver < 1) {
		snprintf(why, whylen,
			 _("hamlet_meta in PostgreSQL at %s gives schema_version \"%.32s\", which is not a layout version (damaged): drop the hamlet tables and let the sink fill the database again from seq 0 (docs/center-guide.md)"),
			 p->where, v);
		return HAMLET_EVERSION;
	}
	*ret = ver;
	return 0;
}

/* What brings the tables of version i + 1 up to version i + 2, run in
 * the transaction that checks the version. */
static const char *const upgrades[PG_SINK_SCHEMA_VERSION - 1] = {
	/* 2: the checkpoint's epoch, unknown (NULL) until the sink's next
	 * run records the store's */
	"ALTER TABLE hamlet_checkpoint ADD COLUMN " CHECKPOINT_EPOCH_COLUMN,
};

/* Bring tables of layout version ver up to ours in the open transaction. */
static int tables_upgrade(struct pg_sink *p, long ver, char *why,
			  size_t whylen)
{
	char v[16];
	const char *vals[1] = { v };
	int r;

	for (; ver < PG_SINK_SCHEMA_VERSION; ver++)
		if ((r = exec(p, upgrades[ver - 1], 0, NULL,
			      N_("upgrading the hamlet tables"), NULL, why,
			      whylen)) < 0)
			return r;
	snprintf(v, sizeof(v), "%d", PG_SINK_SCHEMA_VERSION);
	return exec(p, "UPDATE hamlet_meta SET value = $1 WHERE key = 'schema_version'",
		    1, vals, N_("writing hamlet_meta"), NULL, why, whylen);
}

/*
 * Each field's column still of the type the sink made it: one altered
 * (a person_id made bigint, say) takes the sink's text values by a cast
 * that changes them (an ID number loses its leading zeros) or refuses
 * them row by row. Refused at start, naming the column (HAMLET_ESCHEMA, exit
 * 4: not mended by waiting). A column dropped is PostgreSQL's to say
 * when the sink writes.
 */
static int types_check(struct pg_sink *p, char *why, size_t whylen)
{
	size_t nall;
	const struct schema *const *all = schema_all(&nall);
	PGresult *res = NULL;
	int r;

	if ((r = exec(p, "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema()",
		      0, NULL, N_("reading the tables' columns"), &res, why,
		      whylen)) < 0)
		return r;
	for (int i = 0; i < PQntuples(res) && r == 0; i++) {
		const char *tab = PQgetvalue(res, i, 0);
		const char *col = PQgetvalue(res, i, 1);
		const char *type = PQgetvalue(res, i, 2);
		for (size_t k = 0; k < nall && r == 0; k++) {
			const struct schema *sc = all[k];
			if (strcmp(sc->name, tab) != 0)
				continue;
			/* the fields, and the id ("0012" and "12" one
			 * record, were it a number) */
			for (size_t f = 0; f <= sc->nfields; f++) {
				const char *name = f < sc->nfields
							   ? sc->fields[f].name
							   : "id";
				const char *want =
					f < sc->nfields
						? sql_type(sc->fields[f].type)
						: "text";
				if (strcmp(name, col) != 0 ||
				    strcmp(want, type) == 0)
					continue;
				snprintf(why, whylen,
					 _("column %s.%s in PostgreSQL at %s is of type %s, where the sink writes %s: its values would be changed by a cast (an ID number losing its leading zeros) or refused; nothing is written. Change it back (ALTER TABLE %s ALTER COLUMN %s TYPE %s), or drop the hamlet tables and start the sink with --resync"),
					 tab, col, p->where, type, want, tab,
					 col, want);
				r = HAMLET_ESCHEMA; /* exit 4, as a newer layout */
				break;
			}
		}
	}
	PQclear(res);
	return r;
}

/* Tables found: of our version, or brought up to it; a newer layout is
 * refused (HAMLET_EVERSION). */
static int tables_check(struct pg_sink *p, char *why, size_t whylen)
{
	PGresult *res = NULL;
	long ver;
	int r;

	if ((r = exec(p, "SELECT value FROM hamlet_meta WHERE key = 'schema_version'",
		      0, NULL, N_("reading hamlet_meta"), &res, why,
		      whylen)) < 0)
		return r;
	r = meta_version(p, res, &ver, why, whylen);
	PQclear(res);
	if (r < 0)
		return r;
	if (ver < PG_SINK_SCHEMA_VERSION &&
	    (r = tables_upgrade(p, ver, why, whylen)) < 0)
		return r;
	if (ver > PG_SINK_SCHEMA_VERSION) {
		snprintf(why, whylen,
			 _("the hamlet tables in PostgreSQL at %s are of layout version %ld, this hamlet writes version %d: upgrade hamlet"),
			 p->where, ver, PG_SINK_SCHEMA_VERSION);
		return HAMLET_EVERSION;
	}
	return types_check(p, why, whylen);
}

/* An epoch as the checkpoint keeps it: 16 hex digits into buf, or NULL
 * (SQL null) for 0, none. */
static const char *epoch_text(uint64_t epoch, char buf[17])
{
	if (!epoch)
		return NULL;
	snprintf(buf, 17, "%016llx", (unsigned long long)epoch);
	return buf;
}

/* The refusal of a database whose checkpoint names another node. */
static int not_ours(struct pg_sink *p, PGresult *res,
		    const struct pg_sink_node *node, char *why, size_t whylen)
{
	snprintf(why, whylen,
		 _("PostgreSQL at %s follows node %s (network %s, key %.16s...), not this node %s (network %s, key %.16s...): a database holds one node's records; give this node its own database, or drop the hamlet tables there to start over (docs/center-guide.md)"),
		 p->where, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
		 PQgetvalue(res, 0, 0), node->name, node->network,
		 node->key_hex);
	return -EEXIST;
}

/* -EEXIST when the database holds a checkpoint of another node; 0 when
 * it holds ours, none, or no hamlet tables at all. */
static int owner_check(struct pg_sink *p, const struct pg_sink_node *node,
		       char *why, size_t whylen)
{
	PGresult *res = NULL;
	int r;

	if ((r = exec(p, "SELECT to_regclass('hamlet_checkpoint') IS NOT NULL",
		      0, NULL, N_("looking for hamlet_checkpoint"), &res, why,
		      whylen)) < 0)
		return r;
	if (strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
		PQclear(res);
		res = NULL;
		if ((r = exec(p, "SELECT node_key, node_name, network FROM hamlet_checkpoint",
			      0, NULL, N_("reading hamlet_checkpoint"), &res,
			      why, whylen)) < 0)
			return r;
		if (PQntuples(res) > 0 &&
		    strcmp(PQgetvalue(res, 0, 0), node->key_hex) != 0)
			r = not_ours(p, res, node, why, whylen);
	}
	PQclear(res);
	return r;
}

/* Tables made (or found and brought up to our version); the
 * checkpoint of node. */
static int tables_setup(struct pg_sink *p, const struct pg_sink_node *node,
			struct pg_sink_checkpoint *ret_cp, char *why,
			size_t whylen)
{
	PGresult *res = NULL;
	int r;

	if ((r = exec(p, "BEGIN", 0, NULL, N_("starting a transaction"), NULL,
		      why, whylen)) < 0)
		return r;
	if ((r = exec(p, "SELECT to_regclass('hamlet_meta') IS NOT NULL", 0,
		      NULL, N_("looking for hamlet_meta"), &res, why, whylen)) < 0)
		goto out;
	r = strcmp(PQgetvalue(res, 0, 0), "t") != 0
		    ? tables_create(p, why, whylen)
		    : tables_check(p, why, whylen);
	if (r < 0)
		goto out;
	PQclear(res);
	res = NULL;
	if ((r = exec(p, "SELECT node_key, node_name, network, seq, epoch FROM hamlet_checkpoint",
		      0, NULL, N_("reading hamlet_checkpoint"), &res, why,
		      whylen)) < 0)
		goto out;
	if (PQntuples(res) == 0) {
		const char *v[3] = { node->key_hex, node->name, node->network };
		if ((r = exec(p, "INSERT INTO hamlet_checkpoint (node_key, node_name, network, seq) VALUES ($1, $2, $3, 0)",
			      3, v, N_("writing hamlet_checkpoint"), NULL, why,
			      whylen)) < 0)
			goto out;
		ret_cp->seq = ret_cp->epoch = 0;
	} else if (strcmp(PQgetvalue(res, 0, 0), node->key_hex) != 0) {
		r = not_ours(p, res, node, why, whylen);
		goto out;
	} else {
		/* the column's CHECK keeps it 16 hex digits, or NULL ("") */
		ret_cp->seq = strtoull(PQgetvalue(res, 0, 3), NULL, 10);
		ret_cp->epoch = strtoull(PQgetvalue(res, 0, 4), NULL, 16);
	}
	r = exec(p, "COMMIT", 0, NULL, N_("committing the tables"), NULL, why,
		 whylen);
out:
	PQclear(res);
	if (r < 0)
		rollback(p);
	return r;
}

int pg_sink_open(const char *dsn, const struct pg_sink_node *node,
		 struct pg_sink **ret, struct pg_sink_checkpoint *ret_cp,
		 char *why, size_t whylen)
{
	struct pg_sink *p = calloc(1, sizeof(*p));
	struct pg_sink_checkpoint cp = { 0, 0 };
	PGresult *res = NULL;
	const char *host, *db;
	int r;

	*ret = NULL;
	if (!p)
		return -ENOMEM;
	if ((r = names_check(why, whylen)) < 0 ||
	    (r = pg_sink_dsn_check(dsn, why, whylen)) < 0)
		goto out;
	p->conn = PQconnectdb(dsn);
	if (!p->conn) {
		r = -ENOMEM;
		goto out;
	}
	host = PQhost(p->conn);
	db = PQdb(p->conn);
	if (!host || !host[0] || host[0] == '/')
		snprintf(p->where, sizeof(p->where),
			 "%s/.s.PGSQL.%s (database %s)",
			 host && host[0] ? host : "the default socket directory",
			 PQport(p->conn) ? PQport(p->conn) : "5432",
			 db ? db : "?");
	else
		snprintf(p->where, sizeof(p->where), "%s:%s/%s", host,
			 PQport(p->conn) ? PQport(p->conn) : "5432",
			 db ? db : "?");
	if (PQstatus(p->conn) != CONNECTION_OK) {
		char prefix[300];
		snprintf(prefix, sizeof(prefix),
			 _("cannot connect to PostgreSQL at %s: "), p->where);
		trim_copy(why, whylen, prefix, PQerrorMessage(p->conn));
		/* a value libpq cannot take was refused before, by
		 * pg_sink_dsn_check(), in no language of libpq's */
		r = -ECONNREFUSED;
		goto out;
	}
	if (PQsetClientEncoding(p->conn, "UTF8") != 0) {
		r = sql_fault(p, NULL, N_("setting the client encoding"), why,
			      whylen);
		goto out;
	}
	/* a database that follows another node says so at once, not
	 * after waiting for the sink that holds it (checked again under
	 * the lock, where the checkpoint may be written) */
	if ((r = owner_check(p, node, why, whylen)) < 0)
		goto out;
	if ((r = exec(p, "SELECT pg_try_advisory_lock(" SINK_LOCK_KEY ")", 0,
		      NULL, N_("taking the sink lock"), &res, why, whylen)) < 0)
		goto out;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		snprintf(why, whylen,
			 _("another hamlet sink is writing to PostgreSQL at %s (one sink a database)"),
			 p->where);
		r = -EBUSY;
		goto out;
	}
	if ((r = tables_setup(p, node, &cp, why, whylen)) < 0)
		goto out;
	*ret = p;
	*ret_cp = cp;
	p = NULL;
	r = 0;
out:
	PQclear(res);
	pg_sink_free(p);
	return r;
}

void pg_sink_free(struct pg_sink *p)
{
	if (!p)
		return;
	PQfinish(p->conn); /* accepts NULL; the session's lock goes with it */
	free(p);
}

const char *pg_sink_where(const struct pg_sink *p)
{
	return p->where;
}

/* --- writing a batch ---------------------------------------------------- */

/* Parameters of one statement: values borrowed or kept in num. */
struct params {
	const char **v;
	char (*num)[24];
	size_t n, cap;
};

static int params_reserve(struct params *ps, size_t cap)
{
	ps->v = malloc(cap * sizeof(*ps->v));
	ps->num = malloc(cap * sizeof(*ps->num));
	ps->n = 0;
	ps->cap = cap;
	return ps->v && ps->num ? 0 : -ENOMEM;
}

static void params_free(struct params *ps)
{
	free(ps->v);
	free(ps->num);
}

/* Add a value (NULL: SQL null); returns its $ number. */
static size_t param(struct params *ps, const char *v)
{
	ps->v[ps->n] = v;
	return ++ps->n;
}

static size_t param_u64(struct params *ps, uint64_t x)
{
	snprintf(ps->num[ps->n], sizeof(ps->num[0]), "%llu",
		 (unsigned long long)x);
	return param(ps, ps->num[ps->n]);
}

static const char *nz(const char *s)
{
	return s && s[0] ? s : NULL;
}

/* One statement being written: its text and its parameters. */
struct stmt {
	FILE *m;
	char *sql;
	size_t len;
	struct params ps;
};

static int stmt_open(struct stmt *st)
{
	st->sql = NULL;
	st->ps.n = 0;
	st->m = open_memstream(&st->sql, &st->len);
	return st->m ? 0 : -ENOMEM;
}

/* Run the statement written so far; it is then empty again. */
static int stmt_exec(struct pg_sink *p, struct stmt *st, const char *what,
		     char *why, size_t whylen)
{
	int r = fclose(st->m) == 0 ? 0 : -ENOMEM;
	st->m = NULL;
	if (r == 0)
		r = exec(p, st->sql, (int)st->ps.n, st->ps.v, what, NULL, why,
			 whylen);
	free(st->sql);
	st->sql = NULL;
	return r;
}

static void stmt_close(struct stmt *st)
{
	if (st->m)
		fclose(st->m);
	free(st->sql);
	params_free(&st->ps);
}

/* End st's statement with the ids of collection s's rows among rows
 * (only_gone: of those gone alone) as parameters and ")", and run it. */
static int ids_run(struct pg_sink *p, struct stmt *st, const struct schema *s,
		   const struct pg_sink_row *rows, size_t n, int only_gone,
		   const char *what, char *why, size_t whylen)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (rows[i].s == s && (!only_gone || rows[i].gone))
			fprintf(st->m, "%s$%zu", k++ ? ", " : "",
				param(&st->ps, rows[i].id));
	fputc(')', st->m);
	return stmt_exec(p, st, what, why, whylen);
}

/* Upsert the rows of collection s among rows, delete those gone, and
 * replace their open conflicts. */
static int write_collection(struct pg_sink *p, const struct schema *s,
			    const struct pg_sink_row *rows, size_t n,
			    char *why, size_t whylen)
{
	struct stmt st = { 0 };
	struct params *ps = &st.ps;
	size_t nrows = 0, ngone = 0, nconf = 0;
	size_t ncols = 1 + s->nfields + NFIXED, k;
	FILE *m;
	int r;

	for (size_t i = 0; i < n; i++)
		if (rows[i].s == s && rows[i].gone) {
			ngone++;
		} else if (rows[i].s == s) {
			nrows++;
			nconf += rows[i].nconf;
		}
	if (!nrows && !ngone)
		return 0;
	if ((r = params_reserve(ps, (nrows + ngone) * ncols + 1 + 5 * nconf +
					    1)) < 0)
		goto out;
	if (!nrows)
		goto deletes;
	if ((r = stmt_open(&st)) < 0)
		goto out;
	m = st.m;
	fprintf(m, "INSERT INTO \"%s\" (\"id\"", s->name);
	for (size_t i = 0; i < s->nfields; i++)
		fprintf(m, ", \"%s\"", s->fields[i].name);
	for (size_t i = 0; i < NFIXED; i++)
		fprintf(m, ", \"%s\"", fixed_cols[i].name);
	fputs(") VALUES ", m);
	k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct pg_sink_row *w = &rows[i];
		if (w->s != s || w->gone)
			continue;
		fprintf(m, "%s($%zu", k++ ? ", " : "", param(ps, w->id));
		for (size_t f = 0; f < s->nfields; f++)
			fprintf(m, ", $%zu", param(ps, w->field[f]));
		/* in fixed_cols' order */
		const char *fixed[] = {
			w->deleted ? "t" : "f", w->erased ? "t" : "f",
			nz(w->erased_at), w->erase_reason,
			w->nconf ? "t" : "f", w->conflicts_json, nz(w->scope),
			nz(w->scope_written), nz(w->author_key),
			nz(w->author_name), w->entry_id,
		};
		for (size_t f = 0; f < sizeof(fixed) / sizeof(fixed[0]); f++)
			fprintf(m, ", $%zu", param(ps, fixed[f]));
		fprintf(m, ", $%zu", param_u64(ps, w->hlc));
		fprintf(m, ", $%zu", param(ps, w->updated_at));
		fprintf(m, ", $%zu)", param_u64(ps, w->seq));
	}
	fputs(" ON CONFLICT (\"id\") DO UPDATE SET ", m);
	for (size_t i = 0; i < s->nfields; i++)
		fprintf(m, "\"%s\" = EXCLUDED.\"%s\", ", s->fields[i].name,
			s->fields[i].name);
	for (size_t i = 0; i < NFIXED; i++)
		fprintf(m, "%s\"%s\" = EXCLUDED.\"%s\"", i ? ", " : "",
			fixed_cols[i].name, fixed_cols[i].name);
	p->rows_of = s->name;
	r = stmt_exec(p, &st, N_("writing records"), why, whylen);
	p->rows_of = NULL;
	if (r < 0)
		goto out;

deletes:
	/* the records' conflicts: what they have now replaces what was
	 * (none, for a record gone) */
	if ((r = stmt_open(&st)) < 0)
		goto out;
	fprintf(st.m,
		"DELETE FROM hamlet_conflicts WHERE collection = $%zu AND id IN (",
		param(ps, s->name));
	p->rows_of = "hamlet_conflicts";
	r = ids_run(p, &st, s, rows, n, 0, N_("clearing conflicts"), why,
		    whylen);
	p->rows_of = NULL;
	if (r < 0)
		goto out;
	if (ngone) {
		if ((r = stmt_open(&st)) < 0)
			goto out;
		fprintf(st.m, "DELETE FROM \"%s\" WHERE id IN (", s->name);
		p->rows_of = s->name;
		r = ids_run(p, &st, s, rows, n, 1,
			    N_("deleting the records this node no longer holds"),
			    why, whylen);
		p->rows_of = NULL;
		if (r < 0)
			goto out;
	}
	if (!nconf || (r = stmt_open(&st)) < 0)
		goto out;
	fputs("INSERT INTO hamlet_conflicts (collection, id, field, rule, candidates, seq) VALUES ",
	      st.m);
	size_t c0 = param(ps, s->name);
	k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct pg_sink_row *w = &rows[i];
		if (w->s != s || !w->nconf)
			continue; /* every parameter must appear in the SQL */
		size_t idp = param(ps, w->id), sp = param_u64(ps, w->seq);
		for (size_t c = 0; c < w->nconf; c++) {
			size_t fp = param(ps, w->conf[c].field);
			size_t rp = param(ps, w->conf[c].rule);
			size_t vp = param(ps, w->conf[c].values_json);
			fprintf(st.m, "%s($%zu, $%zu, $%zu, $%zu, $%zu, $%zu)",
				k++ ? ", " : "", c0, idp, fp, rp, vp, sp);
		}
	}
	/* a record names a field once among its conflicts */
	fputs(" ON CONFLICT DO NOTHING", st.m);
	p->rows_of = "hamlet_conflicts";
	r = stmt_exec(p, &st, N_("writing conflicts"), why, whylen);
	p->rows_of = NULL;
out:
	stmt_close(&st);
	return r;
}

int pg_sink_write(struct pg_sink *p, const struct pg_sink_row *rows,
		  size_t n, const struct pg_sink_checkpoint *from,
		  const struct pg_sink_checkpoint *to, char *why,
		  size_t whylen)
{
	size_t nall;
	const struct schema *const *all = schema_all(&nall);
	char a[24], b[24], ae[17], be[17];
	const char *v[4] = { a, epoch_text(from->epoch, ae), b,
			     epoch_text(to->epoch, be) };
	PGresult *res = NULL;
	int r;

	if (n > PG_SINK_MAX_BATCH)
		return -E2BIG;
	if ((r = exec(p, "BEGIN", 0, NULL, N_("starting a transaction"), NULL,
		      why, whylen)) < 0)
		return r;
	for (size_t i = 0; i < nall; i++)
		if ((r = write_collection(p, all[i], rows, n, why, whylen)) < 0)
			goto out;
	snprintf(a, sizeof(a), "%llu", (unsigned long long)from->seq);
	snprintf(b, sizeof(b), "%llu", (unsigned long long)to->seq);
	if ((r = exec(p, "UPDATE hamlet_checkpoint SET seq = $3, epoch = $4, updated_at = now() WHERE seq = $1 AND epoch IS NOT DISTINCT FROM $2",
		      4, v, N_("moving the checkpoint"), &res, why, whylen)) < 0)
		goto out;
	if (strcmp(PQcmdTuples(res), "1") != 0) {
		snprintf(why, whylen,
			 _("the checkpoint in PostgreSQL at %s is no longer at seq %llu: something else changed hamlet_checkpoint"),
			 p->where, (unsigned long long)from->seq);
		r = -ESTALE;
		goto out;
	}
	r = exec(p, "COMMIT", 0, NULL, N_("committing"), NULL, why, whylen);
out:
	PQclear(res);
	if (r < 0)
		rollback(p);
	return r;
}
