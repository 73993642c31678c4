/*
 * import_read: the first pass of hamlet import, reading a CSV or NDJSON
 * file into rows checked one by one (see import_read.h).
 */
#include "import_read.h"

#include "filekind.h"

#include "entry.h"
#include "hlc.h"
#include "import_map.h"
#include "textnorm.h"
#include "utf8.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void import_err(struct importer *im, unsigned long where, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	if (im->nerr++ >= IMPORT_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), _(fmt), ap);
	va_end(ap);
	/* a cell quoted from a file in another encoding: never its bytes
	 * on the terminal */
	utf8_scrub(line);
	fprintf(stderr, "hamlet: %s %lu: %s\n", im->unit, where, line);
}

/*
 * s as a message quotes it: at most max bytes, cut between characters,
 * "…" when cut, any byte that is not UTF-8 a '?'. Returns out.
 */
static const char *quoted(const char *s, size_t max, char *out, size_t cap)
{
	size_t n = strlen(s), k = utf8_cut(s, n, max);

	snprintf(out, cap, "%.*s%s", (int)k, s, k < n ? "…" : "");
	utf8_scrub(out);
	return out;
}

static int rows_add(struct importer *im, const char *id, uint8_t *body,
		    size_t len, unsigned long where)
{
	if (im->n == im->cap) {
		size_t nc = im->cap ? im->cap * 2 : 1024;
		struct import_row *p = realloc(im->rows, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		im->rows = p;
		im->cap = nc;
	}
	struct import_row *r = &im->rows[im->n];
	if (!(r->id = strdup(id)))
		return -ENOMEM;
	r->body = body;
	r->len = len;
	r->where = where;
	r->skip = 0;
	r->dropped = 0;
	r->blanks = 0;
	r->refused = 0;
	r->gone = NULL;
	im->n++;
	return 0;
}

void import_close(struct importer *im)
{
	for (size_t i = 0; i < im->n; i++) {
		free(im->rows[i].id);
		free(im->rows[i].body);
		free(im->rows[i].gone);
	}
	free(im->rows);
	free(im->col);
	free(im->cells);
}

/*
 * Name each field of obj that its collection refuses on its own, so that
 * a row with two wrong values gets two messages, and take it out of obj
 * (its bit set in *refused when it is a field of the collection), so
 * that the rest can be judged further; why (the whole object's fault,
 * from cli_json_body()) when no field alone is at fault. Returns 1 when
 * a field was named.
 */
static int field_problems(struct importer *im, unsigned long where,
			  json_t *obj, const char *skip, const char *why,
			  uint32_t *refused)
{
	const char *k;
	json_t *v;
	void *tmp;
	int named = 0;

	json_object_foreach_safe(obj, tmp, k, v) {
		char fwhy[512];
		uint8_t *b;
		size_t l;
		json_t *one;
		int fi;

		if (skip && strcmp(k, skip) == 0)
			continue;
		if (!(one = json_pack("{sO}", k, v)))
			continue;
		if (cli_json_body(im->s, one, NULL, &b, &l, fwhy,
				  sizeof(fwhy)) < 0) {
			import_err(im, where, "%s", fwhy);
			named = 1;
			if ((fi = schema_field_index(im->s, k, strlen(k))) >= 0)
				*refused |= UINT32_C(1) << fi;
			json_object_del(obj, k);
		} else {
			free(b);
		}
		json_decref(one);
	}
	if (!named)
		import_err(im, where, "%s", why);
	return named;
}

/* NDJSON's phone numbers as a spreadsheet left them, named as a CSV
 * cell's are (import_map_phone_lost_zero()) and taken out of obj. */
static void lost_zeros(struct importer *im, unsigned long where, json_t *obj,
		       uint32_t *refused)
{
	const char *k;
	json_t *v;
	void *tmp;

	json_object_foreach_safe(obj, tmp, k, v) {
		char why[512];
		int fi = schema_field_index(im->s, k, strlen(k));
		if (fi < 0 || !json_is_string(v) ||
		    !import_map_phone_lost_zero(&im->s->fields[fi],
						json_string_value(v), why,
						sizeof(why)))
			continue;
		import_err(im, where, "%s", why);
		*refused |= UINT32_C(1) << fi;
		json_object_del(obj, k);
	}
}

/*
 * Check one record (id + a JSON object of fields) and keep it, naming
 * every problem: the id's and each field's. id NULL: the row has none
 * (named by the caller); bad: a cell was refused already (named by the
 * caller) and left out of obj, its field's bit set in refused. A row
 * with problems is kept all the same, its body the fields that checked
 * (cmd_import.c judges them against the store too, so that one run
 * names every problem of the row), and is never written: the file is
 * refused.
 */
static void take_record(struct importer *im, unsigned long where,
			const char *id, json_t *obj, const char *skip, int bad,
			uint32_t refused)
{
	char why[512];
	uint8_t *body = NULL, *nb;
	size_t len = 0, nl;
	int id_ok = id && entry_record_id_check(id) == 0;
	char q[96];

	if (id && !id_ok)
		import_err(im, where,
			N_("invalid id \"%s\": use 1-64 letters without accents (a-z, A-Z), digits, '.', '_', ':' or '-' (not . or .. alone)"),
			quoted(id, 80, q, sizeof(q)));
	if (!bad && json_object_size(obj) == (skip ? 1u : 0u)) {
		if (id_ok)
			import_err(im, where, N_("no field given for %s"), id);
		return;
	}
	/* NDJSON's values as put reads them (a CSV row's are already);
	 * each value it cannot read is named and left out, and the rest
	 * judged all the same */
	for (size_t k = 0; k < SCHEMA_MAX_FIELDS + 2; k++) {
		char field[128];
		int fi;
		if (import_map_fields(im->s, obj, why, sizeof(why), field,
				      sizeof(field)) == 0)
			break;
		import_err(im, where, "%s", why);
		if ((fi = schema_field_index(im->s, field, strlen(field))) >= 0)
			refused |= UINT32_C(1) << fi;
		json_object_del(obj, field);
	}
	if (skip)
		lost_zeros(im, where, obj, &refused);
	if (cli_json_body(im->s, obj, skip, &body, &len, why, sizeof(why)) < 0 &&
	    /* the fields that check, for the checks still to come */
	    (!field_problems(im, where, obj, skip, why, &refused) ||
	     cli_json_body(im->s, obj, skip, &body, &len, why,
			   sizeof(why)) < 0))
		body = NULL;
	/* the text in NFC, as the write will store it (textnorm.h): a row
	 * is compared with the record in the form it will have */
	if (body) {
		struct mp_doc d;
		int r = mp_doc_parse(&d, body, len,
				     SCHEMA_MAX_FIELDS + SCHEMA_MAX_MAP);
		if (r == 0) {
			r = textnorm_body_nfc(d.root, &nb, &nl);
			mp_doc_close(&d);
		}
		if (r > 0) {
			free(body);
			body = nb;
			len = nl;
		}
	}
	if (body) {
		/* a date after today, named now with the rest */
		char today[11];
		struct mp_doc d;
		schema_today((int64_t)hlc_wall_ms(), today);
		if (mp_doc_parse(&d, body, len,
				 SCHEMA_MAX_FIELDS + SCHEMA_MAX_MAP) == 0) {
			if (schema_check_past(im->s, d.root, today, why,
					      sizeof(why)) < 0)
				import_err(im, where, "%s", why);
			mp_doc_close(&d);
		}
	}
	if (!id_ok) {
		free(body);
		return;
	}
	/* a bad row is kept, so that an id given again, and what the store
	 * says of the row, are named in the same run: the file is refused,
	 * nothing of it written */
	if (rows_add(im, id, body, len, where) < 0) {
		free(body);
		cli_err(_("out of memory after %zu rows"), im->n);
		im->fatal = 1;
		return;
	}
	im->rows[im->n - 1].refused = refused;
}

/* --- CSV --------------------------------------------------------------- */

/* How a message names delimiter c, and the --delimiter that takes it. */
static const char *delim_name(char c)
{
	return c == '\t' ? "tab" : c == ';' ? "';'" : "','";
}

/*
 * The delimiter that text (a header line, or a header read as one
 * column) uses most outside quotes: ';' (Excel in a locale whose
 * decimal mark is the comma, as Vietnamese), a tab (Excel's "Text (Tab
 * delimited)"), or ','; 0 when it holds none of them.
 */
static char delim_guess(const char *buf, size_t n)
{
	size_t commas = 0, semis = 0, tabs = 0;
	int quoted_ = 0;

	for (size_t i = 0; i < n && (quoted_ || buf[i] != '\n'); i++) {
		if (buf[i] == '"')
			quoted_ = !quoted_;
		else if (!quoted_ && buf[i] == ',')
			commas++;
		else if (!quoted_ && buf[i] == ';')
			semis++;
		else if (!quoted_ && buf[i] == '\t')
			tabs++;
	}
	if (tabs > semis && tabs > commas)
		return '\t';
	if (semis > commas)
		return ';';
	return commas ? ',' : 0;
}

/* Refuse a header that is not UTF-8 text: the file was saved in another
 * encoding, and its column names would be garbled on the terminal. */
static int header_not_utf8(struct importer *im)
{
	for (size_t i = 0; i < im->ncells; i++) {
		const char *name = im->cells[i];
		if (name && utf8_check(name, strlen(name), 1, NULL) != UTF8_OK) {
			import_err(im, im->rowno,
				N_("the column names are not UTF-8 text: the file was saved in another encoding (Excel's plain \"CSV\" uses Windows-1258). In Excel choose File > Save As > \"CSV UTF-8 (Comma delimited)\" and import that file"));
			im->fatal = 1;
			return 1;
		}
	}
	return 0;
}

/* A column whose header cell is empty, after the last one named: Excel
 * keeps a column to the right that was once used, its cells emptied. */
#define COL_UNNAMED (-4)

static void csv_header(struct importer *im)
{
	const struct schema *s = im->s;
	unsigned long hrow = im->rowno;
	int idcol = -1;
	size_t named = im->ncells;
	char q[96];

	im->have_header = 1;
	im->ncols = im->ncells;
	if (!(im->col = calloc(im->ncols ? im->ncols : 1, sizeof(int)))) {
		im->fatal = 1;
		return;
	}
	if (header_not_utf8(im))
		return;
	/* trailing empty cells name no column: a value under one is named
	 * with its row (csv_row()) */
	for (size_t k = 0; k < im->ncells && named > 0 &&
			   (!im->cells[named - 1] || !im->cells[named - 1][0]);
	     k++)
		named--;
	if (named == 0)
		named = im->ncells; /* no name at all: column 1 is named */
	im->nnamed = named;
	for (size_t i = named; i < im->ncells; i++)
		im->col[i] = COL_UNNAMED;
	for (size_t i = 0; i < named; i++) {
		char *name = im->cells[i];
		char other;
		int fi;
		if (!name || !name[0]) {
			import_err(im, hrow,
				N_("column %zu of the header is empty; the first row must name every column"),
				i + 1);
			im->fatal = 1;
			return;
		}
		fi = import_map_column(s, name);
		other = im->ncells == 1 ? delim_guess(name, strlen(name)) : 0;
		if (fi == IMPORT_MAP_SKIP) {
			cli_err(_("note: column \"%s\" holds row numbers: it is not imported"),
				quoted(name, 64, q, sizeof(q)));
		} else if (fi == IMPORT_MAP_ID) {
			if (idcol >= 0) {
				import_err(im, hrow, N_("column id appears twice (\"%s\")"),
					   quoted(name, 64, q, sizeof(q)));
				im->fatal = 1;
				return;
			}
			idcol = (int)i;
		} else if (fi == IMPORT_MAP_UNKNOWN && other) {
			/* the whole header read as one column */
			import_err(im, hrow,
				N_("unknown column \"%s\": the columns seem separated by %s, not %s; use --delimiter %s"),
				quoted(name, 64, q, sizeof(q)), delim_name(other),
				delim_name(im->delim), delim_name(other));
			im->fatal = 1;
			return;
		} else if (fi == IMPORT_MAP_UNKNOWN) {
			char list[512] = "id";
			for (size_t k = 0; k < s->nfields; k++) {
				strncat(list, ", ", sizeof(list) - strlen(list) - 1);
				strncat(list, s->fields[k].name,
					sizeof(list) - strlen(list) - 1);
			}
			import_err(im, hrow,
				N_("unknown column \"%s\"; the columns of %s are: %s (or their Vietnamese names, see hamlet help import)"),
				quoted(name, 64, q, sizeof(q)), s->name, list);
			im->fatal = 1;
			return;
		}
		for (size_t k = 0; k < i && fi >= 0; k++) {
			if (im->col[k] == fi) {
				import_err(im, hrow, N_("column %s appears twice (\"%s\")"),
					   s->fields[fi].name,
					   quoted(name, 64, q, sizeof(q)));
				im->fatal = 1;
				return;
			}
		}
		im->col[i] = fi;
	}
	if (idcol < 0) {
		import_err(im, hrow,
			N_("no id column: the first row must name the columns, one of them \"id\" (the record id)"));
		im->fatal = 1;
	}
	if (!im->fatal && named < im->ncells)
		cli_err(P_("note: the last %zu cell of the header is empty: its column is not imported",
			   "note: the last %zu cells of the header are empty: those columns are not imported",
			   im->ncells - named),
			im->ncells - named);
}

/* A text cell as export --excel wrote it: a leading ' before = + - @
 * (or a tab or return) kept Excel from running it as a formula, and
 * one before ' kept a value's own leading '; the value is what follows. */
static const char *unguard(const char *cell)
{
	if (cell[0] == '\'' && cell[1] && strchr("=+-@\t\r'", cell[1]))
		return cell + 1;
	return cell;
}

static void csv_row(struct importer *im)
{
	const struct schema *s = im->s;
	unsigned long where = im->rowno;
	const char *id = NULL;
	json_t *obj;
	int empty = 1, bad = 0, blanks = 0, id_bad = 0;
	uint32_t refused = 0; /* the fields whose cell was refused */
	size_t before = im->n;
	/* the cells under the header's columns; those after them are
	 * empty (a spreadsheet's trailing cells) */
	size_t n = im->ncells < im->ncols ? im->ncells : im->ncols;
	char q[96];

	for (size_t i = 0; i < im->ncells; i++)
		if (im->cells[i] && im->cells[i][0])
			empty = 0;
	if (empty)
		return; /* a spreadsheet's trailing blank row */
	for (size_t i = im->ncols; i < im->ncells; i++)
		bad |= im->cells[i] && im->cells[i][0];
	if (bad || im->ncells < im->nnamed) {
		import_err(im, where, N_("%zu cells, but the header names %zu columns"),
			im->ncells, im->nnamed);
		return;
	}
	for (size_t i = im->nnamed; i < n; i++) {
		if (im->cells[i] && im->cells[i][0]) {
			import_err(im, where,
				N_("column %zu holds \"%s\", but its header cell is empty: name the column in the first row, or empty the cell"),
				i + 1, quoted(im->cells[i], 40, q, sizeof(q)));
			bad = 1;
		}
	}
	if (bad)
		return;
	if (!(obj = json_object())) {
		im->fatal = 1;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *cell = im->cells[i];
		const struct schema_field *f;
		char why[512], iso[16];
		json_t *v = NULL;
		size_t at;
		int d;

		if (im->col[i] == IMPORT_MAP_SKIP || im->col[i] == COL_UNNAMED)
			continue;
		if (cell && utf8_check(cell, strlen(cell), 1, &at) != UTF8_OK) {
			/* a row pasted from a file in another encoding */
			import_err(im, where,
				N_("column %zu (%s) is not UTF-8 text from byte %zu of the cell on (\"%s\"): it came from a file in another encoding; type it again, or save the file as \"CSV UTF-8 (Comma delimited)\""),
				i + 1,
				im->col[i] < 0 ? "id" : s->fields[im->col[i]].name,
				at + 1, quoted(cell, 40, q, sizeof(q)));
			bad = 1;
			id_bad |= im->col[i] < 0;
			continue;
		}
		if (im->col[i] < 0) {
			id = cell;
			continue;
		}
		if (!cell || !cell[0]) {
			blanks++;
			continue; /* an empty cell: the field is not given */
		}
		f = &s->fields[im->col[i]];
		if (f->type == FT_INT) {
			char *end;
			long long x;
			errno = 0;
			x = strtoll(cell, &end, 10);
			if ((errno || *end || end == cell) &&
			    import_map_grouped_int(cell, &x)) {
				errno = 0;
				end = (char *)cell + strlen(cell);
			}
			if (errno || *end || end == cell) {
				import_err(im, where,
					N_("%s: \"%s\" is not a whole number; write digits only, like 1500000"),
					f->name, quoted(cell, 40, why, sizeof(why)));
				bad = 1;
				continue;
			}
			v = json_integer(x);
		} else if (f->type == FT_MAP) {
			json_error_t e;
			char jr[256];
			v = json_loads(cell, JSON_REJECT_DUPLICATES, &e);
			if (!v) {
				import_err(im, where,
					N_("%s: invalid JSON at column %d: %s; the cell must hold an object like {\"note\":\"...\"}"),
					f->name, e.column,
					cli_json_reason(e.text, jr, sizeof(jr)));
				bad = 1;
				continue;
			}
		} else if (import_map_excel_number(f, cell, why, sizeof(why))) {
			import_err(im, where, "%s", why);
			bad = 1;
			continue;
		} else if (f->type == FT_ENUM && import_map_enum(f, cell)) {
			v = json_string(import_map_enum(f, cell));
		} else if (import_map_enum_why(im->s, f, cell, why,
					       sizeof(why))) {
			import_err(im, where, "%s", why);
			bad = 1;
			continue;
		} else if ((d = import_map_date(f, cell, iso, why,
						sizeof(why))) < 0) {
			import_err(im, where, "%s", why);
			bad = 1;
			continue;
		} else if (d > 0) {
			v = json_string(iso);
		} else if (!(v = json_string(unguard(cell)))) {
			import_err(im, where,
				N_("%s: the text is not UTF-8; save the file as UTF-8 (CSV UTF-8 in a spreadsheet)"),
				f->name);
			bad = 1;
			continue;
		}
		json_object_set_new(obj, f->name, v);
	}
	if ((!id || !id[0]) && !id_bad)
		import_err(im, where, N_("the id cell is empty; give each row a record id, like HP-17"));
	if (!id || !id[0])
		id = NULL;
	/* a field whose cell was refused is not missing: it was named */
	for (size_t i = 0; i < n; i++)
		if (im->col[i] >= 0 && im->cells[i] && im->cells[i][0] &&
		    !json_object_get(obj, s->fields[im->col[i]].name))
			refused |= UINT32_C(1) << im->col[i];
	/* the other cells are checked all the same: every problem of a row
	 * is named in one run */
	take_record(im, where, id, obj, NULL, bad, refused);
	if (im->n > before)
		im->rows[im->n - 1].blanks = blanks;
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
	if (s && memchr(s, 0, len)) {
		/* a zero byte is no text, and would cut the cell short */
		import_err(im, im->rowno + 1,
			   N_("cell %zu holds a zero byte (NUL), which is not text: remove it and save the file again"),
			   im->ncells + 1);
		s = "";
		len = 0;
	}
	if (s && !(c = strndup(s, len))) {
		im->fatal = 1;
		return;
	}
	/* a line break inside a quoted cell as Windows tools write it
	 * (CR LF), or an old Mac's (CR alone), is the newline text holds */
	if (c && memchr(c, '\r', len)) {
		size_t o = 0;
		for (size_t i = 0; i < len; i++) {
			if (c[i] == '\r') {
				c[o++] = '\n';
				if (i + 1 < len && c[i + 1] == '\n')
					i++;
			} else {
				c[o++] = c[i];
			}
		}
		c[o] = 0;
	}
	im->cells[im->ncells++] = c;
}

static void csv_cb_row(int term, void *data)
{
	struct importer *im = data;
	/* every line end outside a row is reported (CSV_REPALL_NL), so that
	 * a blank line counts as the spreadsheet's row it is; the LF of a
	 * CR LF that ended a row ends no line of its own */
	int lf_of_crlf = im->ncells == 0 && term == '\n' &&
			 im->last_term == '\r';

	im->last_term = term;
	if (lf_of_crlf)
		return;
	im->rowno++;
	if (!im->fatal && im->ncells) {
		if (!im->have_header)
			csv_header(im);
		else
			csv_row(im);
	}
	for (size_t i = 0; i < im->ncells; i++)
		free(im->cells[i]);
	im->ncells = 0;
}

/*
 * 1 when the lines of buf[0..n) that are not ASCII are mostly not UTF-8
 * (a file saved in another encoding), or as many are as are; 0 when all
 * are UTF-8, or more of them are than are not.
 */
static int mostly_not_utf8(const char *buf, size_t n)
{
	size_t bad = 0, good = 0, i = 0;

	while (i < n) {
		const char *nl = memchr(buf + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - (buf + i)) : n - i;
		int ascii = 1;
		for (size_t k = 0; k < len && ascii; k++)
			ascii = (unsigned char)buf[i + k] < 0x80;
		if (!ascii) {
			if (utf8_check(buf + i, len, 1, NULL) == UTF8_OK)
				good++;
			else
				bad++;
		}
		i += len + 1;
	}
	return bad > 0 && bad >= good;
}

static size_t zeros(const char *p, size_t n)
{
	size_t z = 0;
	for (size_t i = 0; i < n; i++)
		z += p[i] == 0;
	return z;
}

int import_read_csv(struct importer *im, FILE *f, const char *path)
{
	struct csv_parser p;
	char buf[65536];
	size_t got;
	int r = 0, first = 1;

	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL |
			     CSV_REPALL_NL) != 0)
		return -ENOMEM;
	while (!im->fatal && (got = fread(buf, 1, sizeof(buf), f)) > 0) {
		char *at = buf;
		size_t used;
		if (first) {
			first = 0;
			struct filekind fk;
			if (filekind_of(buf, got, &fk)) {
				/* a file off the stick given by mistake */
				cli_err(_("%s is %s, not a table of records (a CSV file): %s"),
					path, _(fk.is), _(fk.use));
				im->nerr++;
				im->fatal = 1;
				break;
			}
			if (got >= 4 && memcmp(buf, "PK\x03\x04", 4) == 0) {
				/* a workbook (.xlsx is a zip file) */
				cli_err(_("%s is an Excel workbook (.xlsx), not CSV: in Excel choose File > Save As > \"CSV UTF-8 (Comma delimited)\", or convert it with: libreoffice --headless --convert-to csv:\"Text - txt - csv (StarCalc)\":44,34,76 %s"),
					path, path);
				im->nerr++;
				im->fatal = 1;
				break;
			}
			if (got >= 8 &&
			    memcmp(buf, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) == 0) {
				cli_err(_("%s is an old Excel workbook (.xls), not CSV: in Excel choose File > Save As > \"CSV UTF-8 (Comma delimited)\""),
					path);
				im->nerr++;
				im->fatal = 1;
				break;
			}
			if ((got >= 2 && (memcmp(buf, "\xff\xfe", 2) == 0 ||
					  memcmp(buf, "\xfe\xff", 2) == 0)) ||
			    zeros(buf, got < 64 ? got : 64) * 4 >=
				    (got < 64 ? got : 64)) {
				/* a byte order mark of UTF-16, or the NUL bytes
				 * of its ASCII letters in the header (one
				 * byte in two; a stray NUL is the cell's) */
				cli_err(_("%s is UTF-16 text (Excel's \"Unicode Text\"), not UTF-8: in Excel choose File > Save As > \"CSV UTF-8 (Comma delimited)\" and import that file"),
					path);
				im->nerr++;
				im->fatal = 1;
				break;
			}
			if (got >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
				at += 3; /* the BOM Excel writes: not data */
				got -= 3;
			}
			/* Excel's plain "CSV" (Windows-1258): refused whole
			 * before any row is read, not row by row, also when
			 * its header is plain ASCII. A UTF-8 file with a few
			 * lines that are not (pasted from another file) has
			 * those rows named one by one, as has a file whose
			 * first 64 KiB are UTF-8 and whose later rows are not */
			/* a full read may end inside a character, which
			 * the next read ends: not a fault */
			if (mostly_not_utf8(at,
					    at + got == buf + sizeof(buf)
						    ? utf8_whole(at, got)
						    : got)) {
				cli_err(_("%s is not UTF-8 text: it was saved in another encoding (Excel's plain \"CSV\" uses Windows-1258). In Excel choose File > Save As > \"CSV UTF-8 (Comma delimited)\" and import that file"),
					path);
				im->nerr++;
				im->fatal = 1;
				break;
			}
			if (!im->delim && !(im->delim = delim_guess(at, got)))
				im->delim = ',';
			csv_set_delim(&p, (unsigned char)im->delim);
		}
		used = csv_parse(&p, at, got, csv_cb_cell, csv_cb_row, im);
		/* a header refused (a wrong --delimiter, say) makes whatever
		 * the rows then look like no news: one problem is named */
		if (used != got && im->fatal)
			break;
		if (used != got) {
			import_err(im, im->rowno + 1,
				N_("not valid CSV (%s): a quote (\") inside a cell must be doubled, and a quoted cell must end with a quote"),
				cli_csv_reason(csv_strerror(csv_error(&p))));
			im->fatal = 1;
		}
	}
	if (ferror(f)) {
		r = -errno;
		cli_err(_("cannot read %s: %s"), path, strerror(errno));
	} else if (!im->fatal &&
		   csv_fini(&p, csv_cb_cell, csv_cb_row, im) != 0) {
		import_err(im, im->rowno + 1,
			N_("not valid CSV (%s): the file ends inside a quoted cell"),
			cli_csv_reason(csv_strerror(csv_error(&p))));
		im->fatal = 1;
	}
	for (size_t i = 0; i < im->ncells; i++)
		free(im->cells[i]);
	im->ncells = 0;
	csv_free(&p);
	if (r == 0 && !im->have_header && !im->fatal) {
		import_err(im, 1, N_("the file is empty: the first row must name the columns, one of them id"));
		im->fatal = 1;
	}
	return r;
}

/* --- NDJSON ------------------------------------------------------------ */

int import_read_ndjson(struct importer *im, FILE *f, const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;
	int r = 0;

	while (!im->fatal && (len = getline(&line, &cap, f)) >= 0) {
		json_error_t e;
		json_t *obj, *id;
		char *at = line, jr[256];
		lineno++;
		/* a byte order mark before the first line, as CSV allows */
		if (lineno == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
			at += 3;
			len -= 3;
		}
		if (strspn(at, " \t\r\n") == (size_t)len)
			continue;
		if (!(obj = json_loadb(at, (size_t)len,
				       JSON_REJECT_DUPLICATES, &e))) {
			if (e.column <= 0 || e.line > 1)
				/* jansson reached the line's end: column 0 of
				 * the next, which is nobody's column */
				import_err(im, lineno,
					N_("invalid JSON: the line ends before its object does (a } or a quote is missing): %s"),
					cli_json_reason(e.text, jr, sizeof(jr)));
			else
				import_err(im, lineno,
					N_("invalid JSON at column %d: %s"),
					e.column,
					cli_json_reason(e.text, jr, sizeof(jr)));
			continue;
		}
		id = json_object_get(obj, "id");
		if (!json_is_object(obj))
			import_err(im, lineno,
				N_("must be a JSON object with \"id\" and the fields"));
		else if (!id)
			import_err(im, lineno,
				N_("no \"id\": every object needs the record id"));
		else if (!json_is_string(id))
			import_err(im, lineno,
				N_("\"id\" must be text, like \"HP-17\""));
		else
			take_record(im, lineno, json_string_value(id), obj, "id",
				    0, 0);
		json_decref(obj);
	}
	if (ferror(f)) {
		r = -errno;
		cli_err(_("cannot read %s: %s"), path, strerror(errno));
	}
	free(line);
	return r;
}
