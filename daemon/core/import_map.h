/*
 * import_map: spreadsheets as a Vietnamese commune has them, read into
 * the schema's terms. Column names in Vietnamese (or the schema's own
 * names in any case), with or without diacritics; the values Excel in a
 * Vietnamese locale writes (dd/mm/yyyy dates, "nam"/"nữ"). The table is
 * documented in docs/operator-guide.md ("Importing from Excel"). hamlet
 * put, import and conflicts resolve read values with it, and so do the
 * HTTP API's PUT and resolve (docs/api.md).
 */
#ifndef HAMLET_IMPORT_MAP_H
#define HAMLET_IMPORT_MAP_H
#include "schema.h"

#include <jansson.h>

#include <stddef.h>

#define IMPORT_MAP_ID (-1)	 /* the record id column */
#define IMPORT_MAP_UNKNOWN (-2) /* no field of the collection */
#define IMPORT_MAP_SKIP (-3)	 /* a column of row numbers (STT): not data */

/*
 * The field of s that the column header name (UTF-8, NUL-terminated)
 * names: its index, IMPORT_MAP_ID, IMPORT_MAP_SKIP (the row-number column
 * a Vietnamese sheet begins with: STT, "số thứ tự") or
 * IMPORT_MAP_UNKNOWN. Matched case-
 * and diacritics-insensitively, '_' and ' ' alike, against the field
 * names and the Vietnamese names of the table.
 */
int import_map_column(const struct schema *s, const char *name);

/*
 * The value of enum field f that cell means ("nam" → "male", "đã lập"
 * → "created": the Vietnamese labels hamlet shows), matched like column
 * names, or NULL when none does. Points into the schema or the table.
 */
const char *import_map_enum(const struct schema_field *f, const char *cell);

/*
 * A date written dd/mm/yyyy (or d/m/yyyy, '-' or '.' between, or ISO)
 * for date field f, or mm/yyyy (or ISO) for a month field, rewritten
 * into out as YYYY-MM-DD or YYYY-MM. Returns 1 when cell has that form
 * and is a date the schema takes (out holds the ISO text); 0 when it has
 * not that form (out untouched: the schema judges the cell as it is);
 * HAMLET_ESCHEMA when it has that form, or dd/mm/yy, but is no date (no
 * month 13, no 31 February, a two-digit year): why then names the field,
 * quotes the cell as typed and says what is wrong, in plain words.
 * A date followed by midnight ("04/04/1964 00:00", Excel's date-and-time
 * cell) is that date; another time of day is refused. HAMLET_ESCHEMA
 * too, with why, for what a spreadsheet makes of a date: its date
 * number ("32936"), or a whole date in a month field ("01/11/2026").
 */
int import_map_date(const struct schema_field *f, const char *cell,
		    char out[16], char *why, size_t whylen);

/*
 * A whole number as a spreadsheet shows it with its thousands grouped
 * ("1.500.000" in Vietnamese, "1,500,000", "1 500 000"): one separator
 * throughout, groups of three digits ("1,500" alone is not taken: a
 * comma is the decimal mark in Vietnamese). 1 with *ret set; 0 when
 * cell is not such a number.
 */
int import_map_grouped_int(const char *cell, long long *ret);

/*
 * When cell is what Excel makes of an ID number typed in a General
 * column (fewer than f->digits digits: the leading zeros dropped; or
 * 1.23457E+11), or of a phone number (import_map_phone_lost_zero()),
 * write into why what happened and how to fix it, and return 1;
 * otherwise 0.
 */
int import_map_excel_number(const struct schema_field *f, const char *cell,
			    char *why, size_t whylen);

/*
 * When f is a phone field and cell all digits, 9 or 10 of them, not
 * beginning with 0 (912345678: 0912345678 in a Number column, its 0
 * dropped), write into why what happened and how to fix it (the
 * Format Cells > Text of an ID number) and return 1; otherwise 0.
 * International forms (+84912345678) and 1800/1900 numbers pass.
 */
int import_map_phone_lost_zero(const struct schema_field *f,
			       const char *cell, char *why, size_t whylen);
/*
 * When cell is no value of enum field f of s, and f takes Vietnamese
 * words too (sex: nam, nữ, khác), write into why the values in both
 * languages and return 1; otherwise 0 (the schema's message will do).
 */
int import_map_enum_why(const struct schema *s, const struct schema_field *f,
			const char *cell, char *why, size_t whylen);

/*
 * What an operator typed as JSON (put, conflicts resolve), read like a
 * spreadsheet's cells: a text value of an enum field in Vietnamese
 * ("nữ") becomes the schema's value, and a date dd/mm/yyyy (or a month
 * mm/yyyy) becomes ISO, in obj itself. Other values are left for the
 * schema to judge. HAMLET_ESCHEMA when a value has a date's form but is
 * no date, or is no value of an enum that takes Vietnamese words: why
 * then names the field and the value, and ret_field (when not NULL) gets
 * the field's name.
 */
int import_map_fields(const struct schema *s, json_t *obj, char *why,
		      size_t whylen, char *ret_field, size_t fieldcap);
#endif
