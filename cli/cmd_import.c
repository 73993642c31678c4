/*
 * hamlet import COLLECTION --format csv|ndjson [--scope SCOPE] FILE|-
 *
 * Two passes. The first reads every row and checks it on its own (the
 * columns, the id, each value against the schema) without touching the
 * store: any problem there and nothing is imported. The second writes the
 * rows through log_write(), IMPORT_CHUNK operations per transaction;
 * what depends on the store (a new record needs its required fields, an
 * immutable field cannot change) can only fail there, and stops the
 * import at that row with every earlier transaction kept.
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

/* --- writing ----------------------------------------------------------- */

static int write_rows(struct importer *im, const char *scope)
{
	struct node *n = NULL;
	struct log_author au;
	struct log_op *ops = NULL;
	char why[512];
	int via = 0;
	int progress = isatty(2) && im->n > IMPORT_CHUNK, r;

	if (!(ops = calloc(IMPORT_CHUNK, sizeof(*ops))))
		return -ENOMEM;
	if ((r = cli_node_open(0, &n)) < 0)
		goto out;
	node_author(n, &au);
	for (size_t start = 0; start < im->n; start += IMPORT_CHUNK) {
		size_t k = im->n - start, failed = 0;
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
		r = cli_write(n, ops, k, NULL, &failed, why, sizeof(why), &via);
		if (r < 0) {
			const struct row *bad =
				&im->rows[start + (failed < k ? failed : 0)];
			if (progress)
				fputc('\n', stderr);
			cli_err("%s %lu (id %s): %s", im->unit, bad->where,
				bad->id, why);
			if (start == 0) {
				cli_err("nothing was imported; fix %s %lu and run the import again",
					im->unit, bad->where);
			} else {
				cli_err("the first %zu records (up to %s %lu) were imported; nothing from %s %lu on was: fix %s %lu, then import the rows from %s %lu on",
					start, im->unit,
					im->rows[start - 1].where, im->unit,
					im->rows[start].where, im->unit,
					bad->where, im->unit,
					im->rows[start].where);
				if (cli_exit_code(r) != CLI_EXIT_SYSTEM)
					r = CLI_EPROBLEMS;
			}
			goto out;
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
	node_close(n);
	return r;
}

int cmd_import(int argc, char **argv)
{
	const char *format = NULL, *scope = NULL, *path;
	struct importer im = { 0 };
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
	if (im.nerr || im.fatal) {
		if (im.nerr > IMPORT_MAX_ERRORS)
			cli_err("... and %lu more problems", im.nerr - IMPORT_MAX_ERRORS);
		cli_err("nothing was imported: fix the %s above and run the import again",
			im.nerr == 1 ? "problem" : "problems");
		r = im.nerr ? HAMLET_ESCHEMA : -ENOMEM;
		goto out;
	}
	if (im.n && (r = write_rows(&im, scope)) < 0)
		goto out;
	if (cli_global.json) {
		json_t *j = json_object();
		json_object_set_new(j, "collection", json_string(im.s->name));
		json_object_set_new(j, "imported", json_integer((json_int_t)im.n));
		cli_json_print(j);
	} else {
		printf("imported %zu record%s into %s\n", im.n,
		       cli_plural(im.n), im.s->name);
	}
	r = 0;
out:
	if (f && f != stdin)
		fclose(f);
	rows_free(&im);
	free(im.col);
	free(im.cells);
	return cli_exit_code(r);
}
