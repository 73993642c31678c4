/*
 * hamlet export COLLECTION --format csv|ndjson [--excel] [--scope PREFIX]
 *               [--since DATE] [--with-scope]
 * hamlet export COLLECTION --format xlsx --out FILE.xlsx [...]
 *
 * Live records only, with the values `get` shows. The CSV has the
 * columns `import` expects, so an export imports again as it is.
 * --excel writes the CSV that Excel in a Vietnamese locale opens
 * correctly by double-click: a UTF-8 BOM (else Excel reads the bytes as
 * Windows-1258), ';' between cells (the locale's list separator, its
 * decimal mark being ','), CRLF line ends. No "sep=;" line: Excel then
 * ignores the BOM. Text beginning with = + - @ (a formula to Excel: a
 * value planted by any writer would run when the file is opened) gets a
 * leading ', which Excel shows as text and import takes off again.
 * Text beginning with ' gets another in every CSV (''abc), with --excel
 * or without: import takes one off, so the value comes back as it was.
 */
#include "cli.h"

#include "access.h"
#include "error.h"
#include "hlc.h"
#include "scopemap.h"
#include "xlsx_out.h"

#include <csv.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct export_ctx {
	struct store_txn *t;
	const struct schema *s;
	int csv;
	int excel; /* --excel: BOM, ';', CRLF */
	struct xlsx_out *x; /* --format xlsx */
	char why[300];	    /* with x: the cell at fault */
	uint64_t n, erased;
	const char *scope; /* --scope: only records under it (NULL: all) */
	int with_scope;	   /* --with-scope: scope columns */
	uint64_t since_ms; /* --since: only records whose newest op is at
			    * or after it (0: all) */
	int counting; /* the first pass: count in n what the second prints */
};

/* The cell delimiter: ';' with --excel, else ','. */
static char csv_sep = ',';
/* --excel: text that Excel would take for a formula gets a leading '
 * (import takes it off again); a leading ' is doubled without it too */
static int csv_guard;

/* 1 when Excel would read text s as a formula: it begins with = + - @,
 * or a tab or carriage return before one; or when it begins with ' (the
 * mark itself, so that import, which takes one off, gives it back). */
static int formula_like(const char *s, size_t n)
{
	return n && (s[0] == '=' || s[0] == '+' || s[0] == '-' ||
		     s[0] == '@' || s[0] == '\t' || s[0] == '\r' ||
		     s[0] == '\'');
}

/* A write to standard output that failed: why, as the write said it
 * (a full disk, a reader gone), else -EIO. */
static int out_fault(void)
{
	int e = errno;
	return e == ENOSPC || e == EDQUOT || e == EFBIG || e == EPIPE ||
			       e == EROFS
		       ? -e
		       : -EIO;
}

/* One CSV cell: quoted (by libcsv) only when it needs to be. */
static int csv_cell(const char *s, size_t n, int first)
{
	int quote = n && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' ||
			  s[n - 1] == '\t');
	if (!first)
		fputc(csv_sep, stdout);
	for (size_t i = 0; i < n && !quote; i++)
		if (s[i] == csv_sep || s[i] == '"' || s[i] == '\n' ||
		    s[i] == '\r')
			quote = 1;
	if (quote)
		return csv_fwrite(stdout, s, n) == 0 ? 0 : out_fault();
	fwrite(s, 1, n, stdout);
	return 0;
}

/* A field value as one cell: text as it is, numbers in decimal, maps as
 * a JSON object. */
static int csv_value(const msgpack_object *o)
{
	int r;
	if (o->type == MSGPACK_OBJECT_STR) {
		const char *t = o->via.str.ptr;
		size_t n = o->via.str.size;
		char *q;
		/* a leading ' is doubled in every CSV, as import takes one
		 * off; the formula guard is --excel's */
		if (!(n && t[0] == '\'') && (!csv_guard || !formula_like(t, n)))
			return csv_cell(t, n, 0);
		if (!(q = malloc(n + 1)))
			return -ENOMEM;
		q[0] = '\'';
		memcpy(q + 1, t, n);
		r = csv_cell(q, n + 1, 0);
		free(q);
		return r;
	}
	if (o->type == MSGPACK_OBJECT_MAP) {
		json_t *j = cli_mp_json(o);
		char *s = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		if (!s)
			return -ENOMEM;
		r = csv_cell(s, strlen(s), 0);
		free(s);
		return r;
	}
	char *s = cli_value_text(o, 0);
	if (!s)
		return -ENOMEM;
	r = csv_cell(s, strlen(s), 0);
	free(s);
	return r;
}

static int export_one(void *ctx, const char *coll, const char *id)
{
	struct export_ctx *c = ctx;
	struct record_view v;
	struct cli_scope sc;
	int r = 0;

	if ((r = record_view_load(c->t, coll, id, &v)) < 0)
		return r;
	if (v.deleted || hlc_ms(v.hlc) < c->since_ms)
		goto out;
	/* scopes through the scope moves: --scope NEW takes OLD's too */
	if ((c->scope || c->with_scope) &&
	    (r = cli_record_scope(c->t, &v, &sc)) < 0)
		goto out;
	if (c->scope &&
	    !scopemap_under(cli_global.scopes, sc.written, c->scope))
		goto out;
	if (c->counting) {
		/* an erased record has no contents: none is read */
		c->n += !v.erased;
		goto out;
	}
	if (v.erased && (c->csv || c->x)) {
		c->erased++; /* said on stderr: a spreadsheet row has no place */
		goto out;
	}
	if (v.erased) {
		json_t *j = json_object();
		json_object_set_new(j, "id", json_string(id));
		json_object_set_new(j, "erased", json_true());
		json_object_set_new(j, "erasure", cli_erasure_json(&v));
		json_dumpf(j, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(j);
		c->n++;
		goto out;
	}
	if (c->x) {
		r = xlsx_out_row(c->x, id, &v, c->with_scope ? sc.effective : NULL,
				 c->with_scope ? sc.written : NULL, c->why,
				 sizeof(c->why));
		if (r < 0)
			goto out;
	} else if (c->csv) {
		if ((r = csv_cell(id, strlen(id), 1)) < 0)
			goto out;
		for (size_t i = 0; i < c->s->nfields; i++) {
			const msgpack_object *o =
				record_view_field(&v, c->s->fields[i].name);
			if (!o || o->type == MSGPACK_OBJECT_NIL)
				fputc(csv_sep, stdout);
			else if ((r = csv_value(o)) < 0)
				goto out;
		}
		if (c->with_scope &&
		    ((r = csv_cell(sc.effective, strlen(sc.effective), 0)) < 0 ||
		     (r = csv_cell(sc.written, strlen(sc.written), 0)) < 0))
			goto out;
		fputs(c->excel ? "\r\n" : "\n", stdout);
	} else {
		json_t *j = json_object();
		json_object_set_new(j, "id", json_string(id));
		for (uint32_t i = 0; i < v.fields->via.map.size; i++) {
			const msgpack_object_kv *kv = &v.fields->via.map.ptr[i];
			char *k = strndup(kv->key.via.str.ptr,
					  kv->key.via.str.size);
			if (k)
				json_object_set_new(j, k,
						    cli_mp_json(&kv->val));
			free(k);
		}
		if (c->with_scope) {
			json_object_set_new(j, "scope",
					    json_string(sc.effective));
			if (strcmp(sc.effective, sc.written) != 0)
				json_object_set_new(j, "scope_written",
						    json_string(sc.written));
		}
		json_dumpf(j, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(j);
	}
	c->n++;
	if (ferror(stdout))
		r = out_fault();
out:
	record_view_close(&v);
	return r;
}

int cmd_export(int argc, char **argv)
{
	const char *format = NULL, *since = NULL, *out = NULL;
	struct export_ctx c = { 0 };
	int xlsx;
	struct node *n = NULL;
	char *pos[1], query[ENTRY_MAX_SCOPE + 100] = "all live records";
	int npos, r;
	const struct cli_opt opts[] = {
		{ "--format", &format, NULL },
		{ "--scope", &c.scope, NULL },
		{ "--with-scope", NULL, &c.with_scope },
		{ "--since", &since, NULL },
		{ "--excel", NULL, &c.excel },
		{ "--out", &out, NULL },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("export", argc, argv, opts, pos, 1, &npos)) < 0)
		goto out;
	if (npos < 1) {
		r = cli_usage_err("export", _("missing COLLECTION"));
		goto out;
	}
	if (!format && cli_global.json)
		format = "ndjson";
	if (!format) {
		r = cli_usage_err("export",
				  _("missing --format: add --format csv, --format xlsx or --format ndjson"));
		goto out;
	}
	if (strcmp(format, "csv") != 0 && strcmp(format, "ndjson") != 0 &&
	    strcmp(format, "xlsx") != 0) {
		r = cli_usage_err("export",
				  _("unknown format \"%s\"; use --format csv, --format xlsx or --format ndjson"),
				  format);
		goto out;
	}
	xlsx = strcmp(format, "xlsx") == 0;
	if (xlsx && !out) {
		r = cli_usage_err("export",
				  _("--format xlsx writes a file: add --out FILE.xlsx"));
		goto out;
	}
	if (out && !xlsx) {
		r = cli_usage_err("export",
				  _("--out goes with --format xlsx; the other formats go to standard output (> FILE)"));
		goto out;
	}
	if (out && (r = cli_out_dir(out)) < 0)
		goto out;
	if (!(c.s = cli_schema(pos[0]))) {
		r = HAMLET_ECOLLECTION;
		goto out;
	}
	if (c.scope && (r = cli_check_scope(c.scope, "--scope")) < 0)
		goto out;
	if (since && (r = cli_since_parse("export", since, &c.since_ms)) < 0)
		goto out;
	c.csv = strcmp(format, "csv") == 0;
	if (c.excel && !c.csv) {
		r = cli_usage_err("export",
				  _("--excel goes with --format csv (a spreadsheet for Excel)"));
		goto out;
	}
	csv_sep = c.excel ? ';' : ',';
	csv_guard = c.excel;
	if (since || c.scope) {
		char tm[32] = "";
		if (since) /* the access log's text: in any language */
			cli_time_text(c.since_ms, CLI_TIME_FILE, tm);
		snprintf(query, sizeof(query), "live records%s%s%s%s",
			 c.scope ? " under " : "", c.scope ? c.scope : "",
			 since ? " changed since " : "", tm);
	}
	if ((r = cli_node_open(1, &n, NULL)) < 0 ||
	    (r = cli_txn_read(n, &c.t)) < 0)
		goto out;
	/* the workbook's name is checked before the read is logged: a
	 * refused file reads nothing */
	if (xlsx && (r = xlsx_out_open(out, c.s, c.with_scope, &c.x)) < 0) {
		if (r == -ENOMEM) {
			cli_err(_("cannot start the workbook %s: %s"), out,
				cli_strerror(r));
		} else if (r == -EEXIST) {
			cli_err(_("%s exists and is not a workbook (.xlsx), so it is not replaced: name another file, or move that one away first"),
				out);
		} else if (r == -EISDIR) {
			/* the command line's fault: said as such (exit 2) */
			cli_err(_("%s is a folder: --out names the workbook's file, for example %s/%s.xlsx"),
				out, out, c.s->name);
			r = CLI_EUSAGE;
		} else {
			/* the path: a system fault, whatever errno says */
			cli_err(_("cannot write %s: %s"), out, strerror(-r));
			r = -EIO;
		}
		goto out;
	}
	/* the same read transaction as the output: the count logged is
	 * what the second pass prints (docs/decisions.md "The access
	 * log") */
	c.counting = access_logged(c.s->name);
	if (c.counting &&
	    (r = record_each(c.t, c.s->name, export_one, &c)) < 0) {
		cli_err(_("cannot read the records of %s: %s"), c.s->name,
			cli_strerror(r));
		goto out;
	}
	c.counting = 0;
	if ((r = cli_access("export", c.s->name, NULL, query, c.n)) < 0)
		goto out;
	c.n = 0;
	if (c.csv) {
		if (c.excel)
			fputs("\xef\xbb\xbf", stdout); /* the UTF-8 BOM */
		fputs("id", stdout);
		for (size_t i = 0; i < c.s->nfields; i++)
			printf("%c%s", csv_sep, c.s->fields[i].name);
		if (c.with_scope)
			printf("%cscope%cscope_written", csv_sep, csv_sep);
		fputs(c.excel ? "\r\n" : "\n", stdout);
	}
	if ((r = record_each(c.t, c.s->name, export_one, &c)) < 0) {
		if (c.x && c.why[0])
			cli_err(_("cannot export %s to %s: %s"), c.s->name, out,
				c.why);
		else if (r == -EIO || r == -ENOSPC || r == -EDQUOT ||
			 r == -EFBIG || r == -EPIPE || r == -EROFS)
			cli_err(_("cannot write the export: %s"), cli_strerror(r));
		else
			cli_err(_("cannot read the records of %s: %s"), c.s->name,
				cli_strerror(r));
		goto out;
	}
	if (c.x) {
		struct xlsx_out *x = c.x;
		c.x = NULL;
		if ((r = xlsx_out_close(x, 1, c.why, sizeof(c.why))) < 0) {
			cli_err(_("cannot write %s: %s"), out, c.why);
			goto out;
		}
	}
	if (c.erased)
		cli_err(_("%llu erased record(s) of %s are not in the %s (their contents were erased; --format ndjson lists them)"),
			(unsigned long long)c.erased, c.s->name,
			xlsx ? _("workbook") : "CSV");
	r = 0;
out:
	xlsx_out_close(c.x, 0, c.why, sizeof(c.why));
	store_txn_abort(c.t);
	node_close(n);
	return cli_exit_code(r);
}
