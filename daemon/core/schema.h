/*
 * schema: collections, their fields, merge rules and validation.
 *
 * The four built-in collections of DESIGN.md are compiled in; their field
 * names are fixed because scripts and other nodes depend on them.
 */
#ifndef HAMLET_SCHEMA_H
#define HAMLET_SCHEMA_H

#include "mp.h"

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

enum field_type { FT_STR, FT_INT, FT_DATE, FT_MONTH, FT_ENUM, FT_MAP };
enum merge_rule { MR_LWW, MR_MV, MR_IMMUTABLE, MR_STATE };

#define SCHEMA_MAX_FIELDS 16
#define SCHEMA_MAX_STR 1024	/* bytes in one string value */
#define SCHEMA_MAX_MAP 32	/* entries in a map value */
#define SCHEMA_MAX_MAP_KEY 64	/* bytes */

struct schema_field {
	const char *name;
	/* what a person reads for the name ("Full name"), marked
	 * NC_("field", ...) and translated where printed; the name itself
	 * stays what one types and what JSON carries */
	const char *label;
	enum field_type type;
	enum merge_rule rule;
	int required;
	int digits;		   /* str: exactly this many ASCII digits */
	int nonneg;		   /* int: >= 0 */
	int past;		   /* date: a local write's is not after
				    * today (schema_check_past) */
	const char *const *values; /* enum and state: the allowed values */
	const char *const *labels; /* their labels, in the same order,
				    * marked NC_("enum", ...); NULL: the
				    * values read as they are (A+) */
	const char *const *edges;  /* state: "from>to" transitions */
};

struct schema {
	const char *name;
	const char *id_label; /* what the record id is ("profile id"); marked
			       * for translation, translated where printed */
	const struct schema_field *fields;
	size_t nfields;
	const int *unique; /* indexes of the unique key's fields, -1 ended */
	/* the field a correction record names the record it corrects by
	 * (health_event.corrects, payment.reversal_of), or NULL: a local
	 * write must name a record this node holds, and in the unique key
	 * a correction is told apart from the record it corrects
	 * (docs/records.md "Correction records") */
	const char *corrects;
};

const struct schema *schema_find(const char *name);
/* The built-in collections, in a fixed order. */
const struct schema *const *schema_all(size_t *ret_n);

/* The collections' names, comma-separated, in out (cap bytes; cut to
 * it). */
void schema_names(char *out, size_t cap);
/* Field index, or -1. */
int schema_field_index(const struct schema *s, const char *name, size_t len);
/* The label of value v (len bytes) of enum field f, in English, to be
 * translated in context "enum" where printed; NULL when f labels none
 * or v is none of its values. */
const char *schema_value_label(const struct schema_field *f, const char *v,
			       size_t len);
const char *schema_type_name(enum field_type t);
const char *schema_rule_name(enum merge_rule r);

/* The years a date or month field takes. */
#define SCHEMA_YEAR_MIN 1800
#define SCHEMA_YEAR_MAX 2999

/* The number of days of month m (1-12) of year y (Gregorian), or 0 when
 * m is no month: what a date field's day is checked against. */
int schema_month_days(int y, int m);

/*
 * Check a put's body: a msgpack map of field name -> value, where nil
 * clears a field. Unknown fields, wrong types, bad dates, enum values
 * outside the list, over-long strings are HAMLET_ESCHEMA with a sentence
 * naming the field in why (always NUL-terminated).
 */
int schema_check_body(const struct schema *s, const msgpack_object *body,
		      char *why, size_t whylen);

/*
 * The local write's check of what only the present can judge: a date
 * field marked past (a birth date) is not later than today_ymd
 * (YYYY-MM-DD). Arriving entries are not judged by it: their authors'
 * clocks and days were theirs. HAMLET_ESCHEMA naming the field and the
 * date in why.
 */
int schema_check_past(const struct schema *s, const msgpack_object *body,
		      const char *today_ymd, char *why, size_t whylen);

/* Today's date, where it is latest on Earth (UTC+14), as YYYY-MM-DD:
 * what schema_check_past() takes, so that no node's today is refused. */
void schema_today(int64_t now_ms, char out[11]);

/*
 * The one check of an operation's content against its collection, for
 * local writes and arriving entries alike: the collection is known, a
 * delete carries no body, a put does, and the body (when given) is a
 * msgpack map schema_check_body() accepts. kind is the entry kind; other
 * kinds than put and delete are not record operations and pass. body
 * NULL: the body did not come along, only has_body is checked. When the
 * check passes on a put whose body was given and ret_doc is not NULL,
 * *ret_doc holds the parsed body (the caller mp_doc_close()s it; it
 * borrows from body); on failure it holds nothing to free. Errors name
 * the field in why.
 */
int schema_check_op(const char *collection, int kind, int has_body,
		    const uint8_t *body, size_t body_len,
		    struct mp_doc *ret_doc, char *why, size_t whylen);

/* An erasure's reason (SPEC §1.6): text of 1-SCHEMA_MAX_REASON bytes. */
#define SCHEMA_MAX_REASON 1024

/* The body of an erasure: msgpack {"reason": reason}. *ret is malloc'd.
 * HAMLET_EFORMAT when the reason is empty, too long or not text. */
int schema_erase_body(const char *reason, uint8_t **ret, size_t *ret_len);

/* Check an erasure's body; when out is not NULL, copy its reason there
 * (truncated to cap - 1 bytes). why names the fault. */
int schema_erase_reason(const uint8_t *body, size_t body_len, char *out,
			size_t cap, char *why, size_t whylen);

/* 1 when state b can be reached from state a by declared transitions
 * (a != b), else 0. */
int schema_state_follows(const struct schema_field *f, const char *a,
			 size_t alen, const char *b, size_t blen);

/* A state field's declared order for people, always NUL-terminated:
 * "created → approved → disbursed → confirmed|failed". */
void schema_state_order(const struct schema_field *f, char *out, size_t cap);

#endif
