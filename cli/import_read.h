/*
 * import_read: the rows of a file for hamlet import (cli/cmd_import.c),
 * read and checked one by one: the CSV header against the collection's
 * schema, each row's id and values, each NDJSON line's object. Nothing
 * here touches the store; what the rows mean together and against the
 * store is cmd_import.c's second step.
 *
 * Problems are counted in nerr and the first IMPORT_MAX_ERRORS printed
 * on stderr, naming the row or line; fatal says reading stopped (a wrong
 * header, invalid CSV, out of memory).
 */
#ifndef HAMLET_CLI_IMPORT_READ_H
#define HAMLET_CLI_IMPORT_READ_H
#include "cli.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define IMPORT_MAX_ERRORS 20

struct import_row {
	char *id;
	uint8_t *body; /* its text in NFC (textnorm.h); of a row with a
			* problem named (the file is refused), the fields
			* that checked; NULL: none can be judged further */
	size_t len;
	unsigned long where; /* CSV row (the header is row 1) or NDJSON line */
	int skip; /* IMPORT_SKIP_*: not written */
	int dropped; /* fields in conflict left out, their value the one
		      * shown: the rest is written */
	int blanks; /* CSV: field cells left blank, those fields not given
		     * (cmd_import.c keeps it only for records stored) */
	uint32_t refused; /* bit i: field i was given, and refused (named;
			   * not missing) */
	char *gone; /* of a deleted record's row: "at T by WHO", malloc'd */
};

/* A row the store tells not to write: of an erased record (never written
 * again), or equal to what a record in conflict shows (a file exported
 * and imported again must not settle the conflict on its own), or of a
 * deleted record (brought back only with --recreate-deleted), or of a
 * record changed on one node and deleted on another (that conflict is
 * the operator's to settle first). */
enum { IMPORT_SKIP_ERASED = 1, IMPORT_SKIP_CONFLICT, IMPORT_SKIP_DELETED,
       IMPORT_SKIP_UPDEL };

struct importer {
	const struct schema *s;
	const char *unit; /* "row" or "line" */
	struct import_row *rows;
	size_t n, cap;
	unsigned long nerr;
	int fatal; /* stop reading: the header is wrong, or out of memory */
	int recreate; /* --recreate-deleted: rows of deleted records are
		       * written, re-creating them */
	int overwrite; /* --overwrite: a cell older than the record's last
			* change of its field is written over it */
	const char *scope; /* --scope, or NULL */
	/* CSV */
	char delim; /* ',', ';' or '\t'; 0: from the header line */
	int have_header;
	int *col; /* per column: field index, or -1 for id */
	size_t ncols;
	size_t nnamed; /* the header's columns up to its last named one:
			* the empty cells after it name no column */
	char **cells;
	size_t ncells, cellcap;
	unsigned long rowno; /* the spreadsheet's row: every line counted,
			      * blank ones too; a row whose quoted cell
			      * holds line breaks is one */
	int last_term; /* what ended the last row or line: '\r', '\n' */
};

/*
 * Print "hamlet: UNIT WHERE: message" on stderr for one of the first
 * IMPORT_MAX_ERRORS problems, and count every problem in im->nerr.
 */
__attribute__((format(printf, 3, 4))) void
import_err(struct importer *im, unsigned long where, const char *fmt, ...);

/*
 * Read f (named path in messages) as CSV or as NDJSON into im, whose s
 * (the collection's schema) and unit ("row" or "line") the caller sets
 * on a zeroed struct. Each good row is appended to im->rows, its body
 * the msgpack cli_json_body() makes. For CSV, im->delim is the
 * delimiter (',', ';' or a tab), or 0 to take the one the header line
 * uses most; a UTF-8 BOM at the start is skipped, a file in UTF-16 or a
 * header that is not UTF-8 refused, and the column names and values are
 * read through import_map.h (Vietnamese names, dd/mm/yyyy, "nam"/"nữ").
 * Rows are numbered as a spreadsheet shows them: the header is row 1
 * when it is the first line, and blank lines are counted.
 * Returns 0 (check im->nerr and im->fatal), -ENOMEM, or a negative errno
 * when f cannot be read.
 */
int import_read_csv(struct importer *im, FILE *f, const char *path);
int import_read_ndjson(struct importer *im, FILE *f, const char *path);

/* Free what reading left in im (rows, columns, cells). */
void import_close(struct importer *im);
#endif
