#include "xlsx_out.h"
#include "outfile.h"

#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <xlsxwriter.h>

/* Excel's limit on one cell's text. */
#define XLSX_MAX_CELL 32767
/* Excel's limit on rows in a sheet. */
#define XLSX_MAX_ROWS 1048576u

struct xlsx_out {
	lxw_workbook *wb;
	lxw_worksheet *ws;
	lxw_format *bold, *date;
	const struct schema *s;
	int with_scope;
	lxw_row_t row;
	double width[SCHEMA_MAX_FIELDS + 3];
	/* the workbook is written beside its path and renamed there once
	 * whole: a full disk leaves no half a file behind */
	char path[PATH_MAX], tmp[PATH_MAX + 16];
	int direct; /* path is no regular file: written in place */
};

/* The directory of path, into buf (PATH_MAX + 16 bytes). */
static const char *dir_of(const char *path, char *buf)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return ".";
	if (slash == path)
		return "/";
	snprintf(buf, PATH_MAX + 16, "%.*s", (int)(slash - path), path);
	return buf;
}

static void widen(struct xlsx_out *x, lxw_col_t col, size_t len)
{
	double w = len > 60 ? 60 : (double)len + 2;
	if (w > x->width[col])
		x->width[col] = w;
}

int xlsx_out_open(const char *path, const struct schema *s, int with_scope,
		  struct xlsx_out **ret)
{
	struct xlsx_out *x = calloc(1, sizeof(*x));
	lxw_workbook_options o = { .constant_memory = LXW_FALSE,
				   .tmpdir = NULL };
	lxw_col_t col = 0;

	int fd;

	if (!x)
		return -ENOMEM;
	{
		/* an earlier workbook is replaced, no other file: not a
		 * text, nor another zip (a .docx, an .odt) */
		unsigned char head[OUTFILE_HEAD];
		size_t hn;
		int k = outfile_at(path, head, &hn);
		if (k == 1 && (!outfile_is(head, hn, "PK\x03\x04", 4) ||
			       !outfile_tail_has(path, "xl/workbook.xml"))) {
			free(x);
			return -EEXIST;
		}
	}
	/* the workbook is written only at its close: find out now whether
	 * path can be, rather than after every record was read (and with
	 * the library's own line on stderr) */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0) {
		close(fd);
		unlink(path);
	} else if (errno != EEXIST ||
		   (fd = open(path, O_WRONLY)) < 0) {
		int e = errno;
		free(x);
		return -e;
	} else {
		close(fd);
	}
	x->s = s;
	x->with_scope = with_scope;
	if ((size_t)snprintf(x->path, sizeof(x->path), "%s", path) >= sizeof(x->path) ||
	    (size_t)snprintf(x->tmp, sizeof(x->tmp), "%s.%ld.tmp", path,
			     (long)getpid()) >= sizeof(x->tmp)) {
		free(x);
		return -ENAMETOOLONG;
	}
	{
		struct stat st;
		if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
			/* a device or a pipe (/dev/stdout): written in place,
			 * never replaced */
			x->direct = 1;
			snprintf(x->tmp, sizeof(x->tmp), "%s", path);
		} else if ((fd = open(x->tmp, O_WRONLY | O_CREAT | O_EXCL,
				      0600)) < 0) {
			/* the file beside it cannot be made: say so now,
			 * not after every record was read */
			int e = errno;
			free(x);
			return -e;
		} else {
			close(fd);
			unlink(x->tmp);
		}
	}
	if (!(x->wb = workbook_new_opt(x->tmp, &o)) ||
	    !(x->ws = workbook_add_worksheet(x->wb, s->name))) {
		lxw_workbook_free(x->wb); /* accepts NULL; writes nothing */
		free(x);
		return -ENOMEM;
	}
	x->bold = workbook_add_format(x->wb);
	format_set_bold(x->bold);
	x->date = workbook_add_format(x->wb);
	format_set_num_format(x->date, "dd/mm/yyyy");
	worksheet_write_string(x->ws, 0, col, "id", x->bold);
	widen(x, col++, 2);
	for (size_t i = 0; i < s->nfields; i++, col++) {
		worksheet_write_string(x->ws, 0, col, s->fields[i].name,
				       x->bold);
		widen(x, col, strlen(s->fields[i].name));
	}
	if (with_scope) {
		worksheet_write_string(x->ws, 0, col, "scope", x->bold);
		widen(x, col++, 5);
		worksheet_write_string(x->ws, 0, col, "scope_written", x->bold);
		widen(x, col++, 13);
	}
	worksheet_freeze_panes(x->ws, 1, 0);
	x->row = 1;
	*ret = x;
	return 0;
}

/* "_xHHHH_" at s[i] (of n bytes): what Excel reads as the character
 * HHHH in a cell's text (OOXML's ST_Xstring). */
static int xescape_at(const char *s, size_t i, size_t n)
{
	if (i + 7 > n || s[i] != '_' || s[i + 1] != 'x' || s[i + 6] != '_')
		return 0;
	for (size_t k = i + 2; k < i + 6; k++)
		if (!((s[k] >= '0' && s[k] <= '9') ||
		      (s[k] >= 'a' && s[k] <= 'f') ||
		      (s[k] >= 'A' && s[k] <= 'F')))
			return 0;
	return 1;
}

/* s as a cell keeps it as text: the library writes "_xHHHH_" as it is,
 * so its "_" is written "_x005F_". A new string (free()). */
static char *xstring_escape(const char *s, size_t n)
{
	static const char esc[] = "_x005F_";
	size_t k = 0, o = 0;
	char *t;

	for (size_t i = 0; i < n; i++)
		k += xescape_at(s, i, n);
	if (!(t = malloc(n + k * (sizeof(esc) - 2) + 1)))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (xescape_at(s, i, n)) {
			memcpy(t + o, esc, sizeof(esc) - 1);
			o += sizeof(esc) - 1;
			continue; /* its 'x' and the rest follow */
		}
		t[o++] = s[i];
	}
	t[o] = 0;
	return t;
}

static int cell_text(struct xlsx_out *x, lxw_col_t col, const char *s,
		     size_t n, char *why, size_t wl)
{
	char *t;
	lxw_error e;
	if (n > XLSX_MAX_CELL) {
		why_set(why, wl,
			 N_("row %u column %u: %zu bytes, more than one Excel cell holds (%d)"),
			 (unsigned)x->row + 1, (unsigned)col + 1, n,
			 XLSX_MAX_CELL);
		return -E2BIG;
	}
	if (!(t = xstring_escape(s, n)))
		return -ENOMEM;
	if (strlen(t) > XLSX_MAX_CELL) {
		why_set(why, wl,
			 N_("row %u column %u: %zu bytes once each _xHHHH_ in it is written as Excel keeps it as text, more than one Excel cell holds (%d)"),
			 (unsigned)x->row + 1, (unsigned)col + 1, strlen(t),
			 XLSX_MAX_CELL);
		free(t);
		return -E2BIG;
	}
	e = worksheet_write_string(x->ws, x->row, col, t, NULL);
	free(t);
	if (e != LXW_NO_ERROR) {
		why_set(why, wl, N_("row %u column %u: %s"), (unsigned)x->row + 1,
			 (unsigned)col + 1, lxw_strerror(e));
		return -EINVAL;
	}
	widen(x, col, n);
	return 0;
}

/* A date field "YYYY-MM-DD" as an Excel date; 1 when it is none. */
static int cell_date(struct xlsx_out *x, lxw_col_t col,
		     const msgpack_object *o)
{
	lxw_datetime dt = { 0 };
	char buf[16];
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size != 10)
		return 1;
	memcpy(buf, o->via.str.ptr, 10);
	buf[10] = 0;
	if (sscanf(buf, "%4d-%2d-%2d", &dt.year, &dt.month, &dt.day) != 3 ||
	    dt.year < 1900)
		return 1;
	if (worksheet_write_datetime(x->ws, x->row, col, &dt, x->date) !=
	    LXW_NO_ERROR)
		return 1;
	widen(x, col, 10);
	return 0;
}

static int cell_value(struct xlsx_out *x, lxw_col_t col,
		      const struct schema_field *f, const msgpack_object *o,
		      char *why, size_t wl)
{
	int r;
	if (f->type == FT_DATE && cell_date(x, col, o) == 0)
		return 0;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		worksheet_write_number(x->ws, x->row, col, (double)o->via.u64,
				       NULL);
		widen(x, col, 12);
		return 0;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		worksheet_write_number(x->ws, x->row, col, (double)o->via.i64,
				       NULL);
		widen(x, col, 12);
		return 0;
	}
	if (o->type == MSGPACK_OBJECT_STR)
		return cell_text(x, col, o->via.str.ptr, o->via.str.size, why,
				 wl);
	char *s;
	if (o->type == MSGPACK_OBJECT_MAP) {
		json_t *j = cli_mp_json(o);
		s = json_dumps(j, JSON_COMPACT);
		json_decref(j);
	} else {
		s = cli_value_text(o, 0);
	}
	if (!s)
		return -ENOMEM;
	r = cell_text(x, col, s, strlen(s), why, wl);
	free(s);
	return r;
}

int xlsx_out_row(struct xlsx_out *x, const char *id,
		 const struct record_view *v, const char *scope,
		 const char *scope_written, char *why, size_t wl)
{
	lxw_col_t col = 0;
	int r;

	if (x->row >= XLSX_MAX_ROWS) {
		why_set(why, wl,
			 N_("more than %u rows, the most one Excel sheet holds: narrow it with --scope or --since, or use --format csv"),
			 XLSX_MAX_ROWS - 1);
		return -E2BIG;
	}
	if ((r = cell_text(x, col++, id, strlen(id), why, wl)) < 0)
		return r;
	for (size_t i = 0; i < x->s->nfields; i++, col++) {
		const msgpack_object *o =
			record_view_field(v, x->s->fields[i].name);
		if (o && o->type != MSGPACK_OBJECT_NIL &&
		    (r = cell_value(x, col, &x->s->fields[i], o, why, wl)) < 0)
			return r;
	}
	if (x->with_scope &&
	    ((r = cell_text(x, col, scope, strlen(scope), why, wl)) < 0 ||
	     (r = cell_text(x, col + 1, scope_written, strlen(scope_written),
			    why, wl)) < 0))
		return r;
	x->row++;
	return 0;
}

int xlsx_out_close(struct xlsx_out *x, int write, char *why, size_t wl)
{
	lxw_col_t ncols;
	lxw_error e;

	if (!x)
		return 0;
	ncols = (lxw_col_t)(1 + x->s->nfields + (x->with_scope ? 2 : 0));
	for (lxw_col_t c = 0; c < ncols; c++)
		worksheet_set_column(x->ws, c, c, x->width[c], NULL);
	worksheet_autofilter(x->ws, 0, 0, x->row - 1, ncols - 1);
	/* libxlsxwriter writes only at close: free, and nothing is written */
	if (write) {
		/* its own lines on stderr ("[ERROR][./src/packager.c:…]")
		 * say nothing to an operator: the error below says it */
		int saved = dup(2), null = open("/dev/null", O_WRONLY);
		fflush(stderr);
		if (saved >= 0 && null >= 0)
			dup2(null, 2);
		/* the library makes the file with the umask's mode: its
		 * owner's alone from the first byte, not only after */
		mode_t um = umask(077);
		e = workbook_close(x->wb);
		umask(um);
		fflush(stderr);
		if (saved >= 0 && null >= 0)
			dup2(saved, 2);
		if (saved >= 0)
			close(saved);
		if (null >= 0)
			close(null);
	} else {
		e = LXW_NO_ERROR;
		lxw_workbook_free(x->wb);
	}
	/* readable by its owner only, whatever the umask: the workbook
	 * holds the records in the clear (the library made it anew) */
	if (write && e == LXW_NO_ERROR && !x->direct &&
	    (chmod(x->tmp, 0600) < 0 || rename(x->tmp, x->path) < 0)) {
		int err = errno;
		why_set(why, wl, "%s", strerror(err));
		unlink(x->tmp);
		free(x);
		return -err;
	}
	if (e != LXW_NO_ERROR) {
		struct statvfs fs;
		char dir[PATH_MAX + 16];
		/* asked before the half file goes, which frees its room */
		int full = statvfs(dir_of(x->path, dir), &fs) == 0 &&
			   fs.f_bavail == 0;
		if (!x->direct)
			unlink(x->tmp);
		if (full)
			why_set(why, wl, N_("the disk is full; nothing was written (free some space and export again)"));
		else
			why_set(why, wl, "%s", lxw_strerror(e));
		free(x);
		return e == LXW_ERROR_CREATING_XLSX_FILE ? -EACCES : -EIO;
	}
	free(x);
	return 0;
}
