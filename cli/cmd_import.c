/*
 * hamlet import COLLECTION --format csv|ndjson [--scope SCOPE] FILE|-
 *
 * All or nothing, as far as can be known before writing. The first pass
 * reads every row and checks it on its own (the columns, the id, each
 * value against the schema), then the file as a whole (an id given
 * twice), then each row against the record it puts to in the store, as
 * log_write() will (a new record needs its required fields, an immutable
 * field cannot change): any problem there and nothing is imported. The
 * second pass writes the rows through cli_write(), IMPORT_CHUNK
 * operations at a time. What no check can foresee (the store full, the
 * daemon gone, a record changed meanwhile) stops the import there, and
 * the message names the rows that are in the store.
 */
#include "cli.h"

#include "entry.h"
#include "error.h"
#include "log.h"

#include <csv.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IMPORT_CHUNK 5000
#define IMPORT_MAX_ERRORS 20

struct row {
	char *id;
	uint8_t *body;
	size_t len;
	unsigned long where; /* CSV row (the header is row 1) or NDJSON line */
};

struct importer {
	const struct schema *s;
	const char *unit; /* "row" or "line" */
	struct row *rows;
	size_t n, cap;
	unsigned long nerr;
	int fatal; /* stop reading: the header is wrong, or out of memory */
	/* CSV */
	int have_header;
	int *col; /* per column: field index, or -1 for id */
	size_t ncols;
	char **cells;
	size_t ncells, cellcap;
	unsigned long rowno;
};

__attribute__((format(printf, 3, 4))) static void
imp_err(struct importer *im, unsigned long where, const char *fmt, ...)
{
	va_list ap;
	if (im->nerr++ >= IMPORT_MAX_ERRORS)
		return;
	fprintf(stderr, "hamlet: %s %lu: ", im->unit, where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int rows_add(struct importer *im, const char *id, uint8_t *body,
		    size_t len, unsigned long where)
{
	if (im->n == im->cap) {
		size_t nc = im->cap ? im->cap * 2 : 1024;
		struct row *p = realloc(im->rows, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		im->rows = p;
		im->cap = nc;
	}
	struct row *r = &im->rows[im->n];
	if (!(r->id = strdup(id)))
		return -ENOMEM;
	r->body = body;
	r->len = len;
	r->where = where;
	im->n++;
	return 0;
}

static void rows_free(struct importer *im)
{
	for (size_t i = 0; i < im->n; i++) {
		free(im->rows[i].id);
		free(im->rows[i].body);
	}
	free(im->rows);
}

/* Check one record (id + a JSON object of fields) and keep it. */
static void take_record(struct importer *im, unsigned long where,
			const char *id, json_t *obj, const char *skip)
{
	char why[512];
	uint8_t *body;
	size_t len;

	if (entry_record_id_check(id) < 0) {
		imp_err(im, where,
			"invalid id \"%.80s\": use 1-64 letters, digits, '.', '_', ':' or '-'",
			id);
		return;
	}
	if (json_object_size(obj) == (skip ? 1u : 0u)) {
		imp_err(im, where, "no field given for %s", id);
		return;
	}
	if (cli_json_body(im->s, obj, skip, &body, &len, why,
			  sizeof(why)) < 0) {
		imp_err(im, where, "%s", why);
		return;
	}
	if (rows_add(im, id, body, len, where) < 0) {
		free(body);
		cli_err("out of memory after %zu rows", im->n);
		im->fatal = 1;
	}
}

/* --- CSV --------------------------------------------------------------- */

static void csv_header(struct importer *im)
{
	const struct schema *s = im->s;
	int idcol = -1;

	im->have_header = 1;
	im->ncols = im->ncells;
	if (!(im->col = calloc(im->ncols ? im->ncols : 1, sizeof(int)))) {
		im->fatal = 1;
		return;
	}
	for (size_t i = 0; i < im->ncells; i++) {
		char *name = im->cells[i];
		int fi;
		if (i == 0 && name && strncmp(name, "\xef\xbb\xbf", 3) == 0)
			memmove(name, name + 3, strlen(name + 3) + 1); /* BOM */
		if (!name || !name[0]) {
			imp_err(im, 1,
				"column %zu of the header is empty; the first row must name every column",
				i + 1);
			im->fatal = 1;
			return;
		}
		if (strcmp(name, "id") == 0) {
			fi = -1;
			if (idcol >= 0) {
				imp_err(im, 1, "column id appears twice");
				im->fatal = 1;
				return;
			}
			idcol = (int)i;
		} else if ((fi = schema_field_index(s, name,
						    strlen(name))) < 0) {
			char list[512] = "id";
			for (size_t k = 0; k < s->nfields; k++) {
				strncat(list, ", ", sizeof(list) - strlen(list) - 1);
				strncat(list, s->fields[k].name,
					sizeof(list) - strlen(list) - 1);
			}
			imp_err(im, 1,
				"unknown column \"%.64s\"; the columns of %s are: %s",
				name, s->name, list);
			im->fatal = 1;
			return;
		}
		for (size_t k = 0; k < i && fi >= 0; k++) {
			if (im->col[k] == fi) {
				imp_err(im, 1, "column %s appears twice", name);
				im->fatal = 1;
				return;
			}
		}
		im->col[i] = fi;
	}
	if (idcol < 0) {
		imp_err(im, 1,
			"no id column: the first row must name the columns, one of them \"id\" (the record id)");
		im->fatal = 1;
	}
}

static void csv_row(struct importer *im)
{
	const struct schema *s = im->s;
	unsigned long where = im->rowno;
	const char *id = NULL;
	json_t *obj;
	int empty = 1;

	for (size_t i = 0; i < im->ncells; i++)
		if (im->cells[i] && im->cells[i][0])
			empty = 0;
	if (empty)
		return; /* a spreadsheet's trailing blank row */
	if (im->ncells != im->ncols) {
		imp_err(im, where, "%zu cells, but the header names %zu columns",
			im->ncells, im->ncols);
		return;
	}
	if (!(obj = json_object())) {
		im->fatal = 1;
		return;
	}
	for (size_t i = 0; i < im->ncells; i++) {
		const char *cell = im->cells[i];
		const struct schema_field *f;
		json_t *v = NULL;

		if (im->col[i] < 0) {
			id = cell;
			continue;
		}
		if (!cell || !cell[0])
			continue; /* an empty cell: the field is not given */
		f = &s->fields[im->col[i]];
		if (f->type == FT_INT) {
			char *end;
			long long x;
			errno = 0;
			x = strtoll(cell, &end, 10);
			if (errno || *end || end == cell) {
				imp_err(im, where,
					"%s: \"%.40s\" is not a whole number; write digits only, like 1500000",
					f->name, cell);
				goto out;
			}
			v = json_integer(x);
		} else if (f->type == FT_MAP) {
			json_error_t e;
			v = json_loads(cell, JSON_REJECT_DUPLICATES, &e);
			if (!v) {
				imp_err(im, where,
					"%s: invalid JSON at column %d: %s; the cell must hold an object like {\"note\":\"...\"}",
					f->name, e.column, e.text);
				goto out;
			}
		} else if (!(v = json_string(cell))) {
			imp_err(im, where,
				"%s: the text is not UTF-8; save the file as UTF-8 (CSV UTF-8 in a spreadsheet)",
				f->name);
			goto out;
		}
		json_object_set_new(obj, f->name, v);
	}
	if (!id || !id[0]) {
		imp_err(im, where, "the id cell is empty");
		goto out;
	}
	take_record(im, where, id, obj, NULL);
out:
	json_decref(obj);
}

static void csv_cb_cell(void *s, size_t len, void *data)
{
	struct importer *im = data;
	char *c = NULL;
	if (im->fatal)
		return;
	if (im->ncells == im->cellcap) {
		size_t nc = im->cellcap ? im->cellcap * 2 : 32;
		char **p = realloc(im->cells, nc * sizeof(*p));
		if (!p) {
			im->fatal = 1;
			return;
		}
		im->cells = p;
		im->cellcap = nc;
	}
	if (s && !(c = strndup(s, len))) {
		im->fatal = 1;
		return;
	}
	im->cells[im->ncells++] = c;
}

static void csv_cb_row(int term, void *data)
{
	struct importer *im = data;
	(void)term;
	im->rowno++;
	if (!im->fatal) {
		if (!im->have_header)
			csv_header(im);
		else
			csv_row(im);
	}
	for (size_t i = 0; i < im->ncells; i++)
		free(im->cells[i]);
	im->ncells = 0;
}

static int read_csv(struct importer *im, FILE *f, const char *path)
{
	struct csv_parser p;
	char buf[65536];
	size_t got;
	int r = 0;

	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL) != 0)
		return -ENOMEM;
	while (!im->fatal && (got = fread(buf, 1, sizeof(buf), f)) > 0) {
		size_t used = csv_parse(&p, buf, got, csv_cb_cell, csv_cb_row,
					im);
		if (used != got) {
			imp_err(im, im->rowno + 1,
				"not valid CSV (%s): a quote (\") inside a cell must be doubled, and a quoted cell must end with a quote",
				csv_strerror(csv_error(&p)));
			im->fatal = 1;
		}
	}
	if (ferror(f)) {
		r = -errno;
		cli_err("cannot read %s: %s", path, strerror(errno));
	} else if (!im->fatal &&
		   csv_fini(&p, csv_cb_cell, csv_cb_row, im) != 0) {
		imp_err(im, im->rowno + 1,
			"not valid CSV (%s): the file ends inside a quoted cell",
			csv_strerror(csv_error(&p)));
		im->fatal = 1;
	}
	for (size_t i = 0; i < im->ncells; i++)
		free(im->cells[i]);
	im->ncells = 0;
	csv_free(&p);
	if (r == 0 && !im->have_header && !im->fatal) {
		imp_err(im, 1, "the file is empty: the first row must name the columns, one of them id");
		im->fatal = 1;
	}
	return r;
}

/* --- NDJSON ------------------------------------------------------------ */

static int read_ndjson(struct importer *im, FILE *f, const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;
	int r = 0;

	while (!im->fatal && (len = getline(&line, &cap, f)) >= 0) {
		json_error_t e;
		json_t *obj, *id;
		lineno++;
		if (strspn(line, " \t\r\n") == (size_t)len)
			continue;
		if (!(obj = json_loadb(line, (size_t)len,
				       JSON_REJECT_DUPLICATES, &e))) {
			imp_err(im, lineno, "invalid JSON at column %d: %s",
				e.column, e.text);
			continue;
		}
		id = json_object_get(obj, "id");
		if (!json_is_object(obj))
			imp_err(im, lineno,
				"must be a JSON object with \"id\" and the fields");
		else if (!id)
			imp_err(im, lineno,
				"no \"id\": every object needs the record id");
		else if (!json_is_string(id))
			imp_err(im, lineno,
				"\"id\" must be text, like \"HP-17\"");
		else
			take_record(im, lineno, json_string_value(id), obj, "id");
		json_decref(obj);
	}
	if (ferror(f)) {
		r = -errno;
		cli_err("cannot read %s: %s", path, strerror(errno));
	}
	free(line);
	return r;
}

/* --- the file as a whole, and the rows against the store -------------- */

struct id_at {
	const char *id;
	size_t i; /* the row's index */
};

static int cmp_id_at(const void *a, const void *b)
{
	const struct id_at *x = a, *y = b;
	int c = strcmp(x->id, y->id);
	if (c)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/*
 * Name each row whose id an earlier row has: two puts of one record in
 * one file would be merged into one record and counted twice, so the
 * file is refused and the operator merges the rows.
 */
static int find_repeats(struct importer *im)
{
	struct id_at *v = malloc((im->n ? im->n : 1) * sizeof(*v));
	size_t *first = malloc((im->n ? im->n : 1) * sizeof(*first));
	int r = -ENOMEM;

	if (!v || !first)
		goto out;
	for (size_t i = 0; i < im->n; i++) {
		v[i] = (struct id_at){ im->rows[i].id, i };
		first[i] = SIZE_MAX;
	}
	qsort(v, im->n, sizeof(*v), cmp_id_at);
	for (size_t k = 1; k < im->n; k++)
		if (strcmp(v[k].id, v[k - 1].id) == 0)
			first[v[k].i] = first[v[k - 1].i] != SIZE_MAX
						? first[v[k - 1].i]
						: v[k - 1].i;
	for (size_t i = 0; i < im->n; i++)
		if (first[i] != SIZE_MAX)
			imp_err(im, im->rows[i].where,
				"id %s again (first on %s %lu): a file may hold each record once; merge the two into one",
				im->rows[i].id, im->unit,
				im->rows[first[i]].where);
	r = 0;
out:
	free(v);
	free(first);
	return r;
}

/* The fields of a put to an existing record that log_write() refuses:
 * a required one cleared, an immutable one changed. */
static void check_update(struct importer *im, const struct row *rw,
			 const msgpack_object *body,
			 const struct record_view *v)
{
	const struct schema *s = im->s;

	for (uint32_t j = 0; j < body->via.map.size; j++) {
		const msgpack_object_kv *kv = &body->via.map.ptr[j];
		int fi = schema_field_index(s, kv->key.via.str.ptr,
					    kv->key.via.str.size);
		const struct schema_field *f;
		const msgpack_object *cur;
		char *now;

		if (fi < 0)
			continue; /* cannot be: the body passed the schema */
		f = &s->fields[fi];
		cur = record_view_field(v, f->name);
		if (mp_is_nil(&kv->val) && f->required) {
			imp_err(im, rw->where,
				"%s.%s of %s is required and cannot be cleared",
				s->name, f->name, rw->id);
		} else if (f->rule == MR_IMMUTABLE && cur &&
			   !mp_object_equal(cur, &kv->val)) {
			now = cli_value_text(cur, 1);
			imp_err(im, rw->where,
				"%s.%s of %s is %s already and cannot change; record a correction as a new record instead",
				s->name, f->name, rw->id, now ? now : "set");
			free(now);
		}
	}
}

/* Check one row against the record it puts to. */
static int check_row(struct importer *im, struct store_txn *t,
		     const struct row *rw)
{
	struct record_view v;
	struct mp_doc d;
	char missing[256];
	int r, have_view;

	if ((r = mp_doc_parse(&d, rw->body, rw->len,
			      SCHEMA_MAX_FIELDS + SCHEMA_MAX_MAP)) < 0)
		return r;
	r = record_view_load(t, im->s->name, rw->id, &v);
	if (r < 0 && r != HAMLET_ENOTFOUND)
		goto out;
	have_view = r == 0;
	if (!have_view || v.deleted) {
		cli_body_missing_required(im->s, d.root, missing,
					  sizeof(missing));
		if (missing[0])
			imp_err(im, rw->where,
				"%s is %s and needs every required field; missing: %s",
				rw->id, have_view ? "deleted" : "a new record",
				missing);
	} else {
		check_update(im, rw, d.root, &v);
	}
	if (have_view)
		record_view_close(&v);
	r = 0;
out:
	mp_doc_close(&d);
	return r;
}

static int check_rows(struct importer *im, struct node *n)
{
	struct store_txn *t = NULL;
	int r;

	if ((r = cli_txn_read(n, &t)) < 0)
		return r;
	for (size_t i = 0; i < im->n; i++) {
		if ((r = check_row(im, t, &im->rows[i])) < 0) {
			cli_err("cannot check %s %lu against the store: %s",
				im->unit, im->rows[i].where, hamlet_strerror(r));
			goto out;
		}
	}
	r = 0;
out:
	store_txn_abort(t);
	return r;
}

/* --- writing ----------------------------------------------------------- */

struct outcome {
	size_t written, unchanged;
	int via_daemon;
};

/* A fault no check foresaw, after end->stored rows of the file (from
 * chunk start on): say which rows are in the store. */
static void write_failed(const struct importer *im, size_t start,
			 const struct cli_write_end *end, int err,
			 const char *why)
{
	size_t stored = start + end->stored;
	const struct row *bad = &im->rows[start + end->failed];
	const char *u = im->unit;

	if (err == HAMLET_EDISKFULL || err == HAMLET_EMAPFULL) {
		/* the store is at fault, not the row */
		cli_err("%s", why);
		if (stored)
			cli_err("%s %lu to %s %lu, the first %zu record%s, were imported; nothing after",
				u, im->rows[0].where, u,
				im->rows[stored - 1].where, stored,
				cli_plural(stored));
		else
			cli_err("nothing was imported");
		cli_err("free space on the disk holding %s/store, then import again: rows already stored are found unchanged",
			cli_home());
		return;
	}
	cli_err("%s %lu (id %s): %s", u, bad->where, bad->id, why);
	if (stored == 0 && !end->unanswered) {
		cli_err("nothing was imported; fix %s %lu and run the import again",
			u, bad->where);
		return;
	}
	if (stored)
		cli_err("%s %lu to %s %lu, the first %zu record%s, were imported",
			u, im->rows[0].where, u, im->rows[stored - 1].where,
			stored, cli_plural(stored));
	if (end->unanswered)
		cli_err("from %s %lu on, see above; nothing after that request was imported. Importing the whole file again is safe: rows already stored are found unchanged",
			u, im->rows[stored].where);
	else
		cli_err("nothing from %s %lu on was: fix %s %lu, then import the rows from %s %lu on",
			u, im->rows[stored].where, u, bad->where, u,
			im->rows[stored].where);
}

static int write_rows(struct importer *im, struct node *n, int through_daemon,
		      const char *scope, struct outcome *ret)
{
	struct log_op *ops = calloc(IMPORT_CHUNK, sizeof(*ops));
	struct log_out *out = calloc(IMPORT_CHUNK, sizeof(*out));
	struct cli_write_end end;
	char why[512];
	int via = 0;
	int progress = isatty(2) && im->n > IMPORT_CHUNK, r;

	r = -ENOMEM;
	if (!ops || !out)
		goto out;
	for (size_t start = 0; start < im->n; start += IMPORT_CHUNK) {
		size_t k = im->n - start;
		if (k > IMPORT_CHUNK)
			k = IMPORT_CHUNK;
		for (size_t i = 0; i < k; i++) {
			const struct row *rw = &im->rows[start + i];
			ops[i] = (struct log_op){ .kind = ENTRY_PUT,
						  .collection = im->s->name,
						  .record_id = rw->id,
						  .scope = scope,
						  .body = rw->body,
						  .body_len = rw->len };
		}
		why[0] = 0;
		r = cli_write(n, through_daemon, ops, k, out, &end, why,
			      sizeof(why), &via);
		ret->via_daemon |= via;
		if (r < 0) {
			if (progress)
				fputc('\n', stderr);
			write_failed(im, start, &end, r, why);
			if (start + end.stored > 0 &&
			    cli_exit_code(r) != CLI_EXIT_SYSTEM)
				r = CLI_EPROBLEMS;
			goto out;
		}
		for (size_t i = 0; i < k; i++) {
			if (cli_write_unchanged(&out[i]))
				ret->unchanged++;
			else
				ret->written++;
		}
		if (progress)
			fprintf(stderr, "\rimported %zu of %zu records...",
				start + k, im->n);
	}
	if (progress)
		fputc('\n', stderr);
	r = 0;
out:
	free(ops);
	free(out);
	return r;
}

/* Say why nothing was imported; the problems were printed. */
static int refuse_file(const struct importer *im)
{
	if (im->nerr > IMPORT_MAX_ERRORS)
		cli_err("... and %lu more problems", im->nerr - IMPORT_MAX_ERRORS);
	cli_err("nothing was imported: fix the %s above and run the import again",
		im->nerr == 1 ? "problem" : "problems");
	return im->nerr ? HAMLET_ESCHEMA : -ENOMEM;
}

int cmd_import(int argc, char **argv)
{
	const char *format = NULL, *scope = NULL, *path;
	struct importer im = { 0 };
	struct outcome res = { 0 };
	struct node *n = NULL;
	int through_daemon = 0;
	FILE *f = NULL;
	char *pos[2];
	int npos, r;
	const struct cli_opt opts[] = {
		{ "--format", &format, NULL },
		{ "--scope", &scope, NULL },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("import", argc, argv, opts, pos, 2, &npos)) < 0)
		goto out;
	if (npos < 2) {
		r = cli_usage_err("import", "missing %s",
				  npos ? "FILE (or - for standard input)"
				       : "COLLECTION and FILE");
		goto out;
	}
	if (!format) {
		r = cli_usage_err("import",
				  "missing --format: add --format csv or --format ndjson");
		goto out;
	}
	if (strcmp(format, "csv") != 0 && strcmp(format, "ndjson") != 0) {
		r = cli_usage_err("import",
				  "unknown format \"%s\"; use --format csv or --format ndjson",
				  format);
		goto out;
	}
	if (!(im.s = cli_schema(pos[0]))) {
		r = HAMLET_ECOLLECTION;
		goto out;
	}
	if (scope && (r = cli_check_scope(scope, "scope")) < 0)
		goto out;
	path = pos[1];
	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f) {
		r = -errno;
		cli_err("cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	im.unit = strcmp(format, "csv") == 0 ? "row" : "line";
	if (strcmp(format, "csv") == 0)
		r = read_csv(&im, f, path);
	else
		r = read_ndjson(&im, f, path);
	if (r < 0)
		goto out;
	if (!im.fatal && (r = find_repeats(&im)) < 0)
		goto out;
	if (im.nerr || im.fatal) {
		r = refuse_file(&im);
		goto out;
	}
	if (im.n == 0)
		goto done;
	if ((r = cli_node_open(0, &n, &through_daemon)) < 0 ||
	    (r = check_rows(&im, n)) < 0)
		goto out;
	if (im.nerr) {
		r = refuse_file(&im);
		goto out;
	}
	if ((r = write_rows(&im, n, through_daemon, scope, &res)) < 0)
		goto out;
done:
	if (cli_global.json) {
		json_t *j = json_object();
		json_object_set_new(j, "collection", json_string(im.s->name));
		json_object_set_new(j, "rows", json_integer((json_int_t)im.n));
		json_object_set_new(j, "written",
				    json_integer((json_int_t)res.written));
		json_object_set_new(j, "unchanged",
				    json_integer((json_int_t)res.unchanged));
		json_object_set_new(j, "imported", json_integer((json_int_t)im.n));
		cli_json_print(j);
	} else {
		printf("imported %zu %s%s into %s: %zu written, %zu unchanged%s\n",
		       im.n, im.unit, cli_plural(im.n), im.s->name,
		       res.written, res.unchanged,
		       res.via_daemon ? ", through hamletd" : "");
	}
	r = 0;
out:
	node_close(n);
	if (f && f != stdin)
		fclose(f);
	rows_free(&im);
	free(im.col);
	free(im.cells);
	return cli_exit_code(r);
}
