/*
 * xlsx_out: an export as an Excel workbook (.xlsx), through Debian's
 * libxlsxwriter. One sheet named after the collection, the columns of the
 * CSV export: text stays text (an ID keeps its leading zeros), integers
 * are numbers, dates are Excel dates shown dd/mm/yyyy, a map is its JSON.
 * The header row is bold, frozen and filtered.
 */
#ifndef HAMLET_XLSX_OUT_H
#define HAMLET_XLSX_OUT_H

#include "record.h"
#include "schema.h"

#include <stddef.h>

struct xlsx_out;

/* Start a workbook to be written to path (nothing is written before
 * xlsx_out_close). scope columns when with_scope. 0 or -ENOMEM. */
int xlsx_out_open(const char *path, const struct schema *s, int with_scope,
		  struct xlsx_out **ret);

/* One record's row; the scopes only with with_scope (else NULL). 0, or
 * <0 with why naming the cell. */
int xlsx_out_row(struct xlsx_out *x, const char *id,
		 const struct record_view *v, const char *scope,
		 const char *scope_written, char *why, size_t wl);

/* Write the file and free x (also when a row failed: then pass
 * write = 0, and nothing is written). 0, or <0 with why naming the file. */
int xlsx_out_close(struct xlsx_out *x, int write, char *why, size_t wl);

#endif
