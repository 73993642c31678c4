#include "schema.h"
#include "why.h"

#include "entry.h"
#include "error.h"
#include "i18n.h"
#include "utf8.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Each value's label (NC_("enum", ...)) follows its list, in the same
 * order; blood groups read the same in every language and have none.
 */
static const char *const sex_values[] = { "male", "female", "other", NULL };
static const char *const sex_labels[] = {
	NC_("enum", "male"), NC_("enum", "female"), NC_("enum", "other"), NULL
};
static const char *const blood_values[] = { "A+", "A-", "B+", "B-", "AB+",
					    "AB-", "O+", "O-", NULL };
static const char *const event_kinds[] = { "immunization", "encounter",
					   "vital", "condition", "allergy",
					   NULL };
static const char *const event_kind_labels[] = {
	NC_("enum", "immunization"), NC_("enum", "visit"),
	NC_("enum", "vital signs"), NC_("enum", "condition"),
	NC_("enum", "allergy"), NULL
};
static const char *const programs[] = { "social_allowance", "forest_service",
					"forest_contract", NULL };
static const char *const program_labels[] = {
	NC_("enum", "social allowance"),
	NC_("enum", "forest environment services"),
	NC_("enum", "forest protection contract"), NULL
};
static const char *const pay_states[] = { "created", "approved", "disbursed",
					  "confirmed", "failed", NULL };
static const char *const pay_state_labels[] = {
	NC_("enum", "created"), NC_("enum", "approved"),
	NC_("enum", "disbursed"), NC_("enum", "confirmed"),
	NC_("enum", "failed"), NULL
};
static const char *const pay_edges[] = { "created>approved",
					 "approved>disbursed",
					 "disbursed>confirmed",
					 "disbursed>failed", NULL };
static const char *const reg_states[] = { "received", "processing",
					  "approved", "rejected", "returned",
					  NULL };
static const char *const reg_state_labels[] = {
	NC_("enum", "received"), NC_("enum", "being processed"),
	NC_("enum", "approved"), NC_("enum", "rejected"),
	NC_("enum", "returned for completion"), NULL
};
static const char *const reg_edges[] = { "received>processing",
					 "processing>approved",
					 "processing>rejected",
					 "processing>returned", NULL };

/* Each field's label (NC_("field", ...)) is what a person reads beside
 * its name: docs/decisions.md "Field labels and dates for the reader". */
#define F(n, l, t, r, req) \
	{ .name = n, .label = l, .type = t, .rule = r, .required = req }

static const struct schema_field health_profile_fields[] = {
	{ .name = "person_id", .label = NC_("field", "Personal ID number"),
	  .type = FT_STR, .rule = MR_MV, .required = 1, .digits = 12 },
	F("full_name", NC_("field", "Full name"), FT_STR, MR_MV, 1),
	{ .name = "birth_date", .label = NC_("field", "Date of birth"),
	  .type = FT_DATE, .rule = MR_MV, .required = 1, .past = 1 },
	{ .name = "sex", .label = NC_("field", "Sex"), .type = FT_ENUM,
	  .rule = MR_MV, .values = sex_values, .labels = sex_labels },
	F("ethnicity", NC_("field", "Ethnicity"), FT_STR, MR_LWW, 0),
	F("household_id", NC_("field", "Household code"), FT_STR, MR_LWW, 0),
	F("village", NC_("field", "Village"), FT_STR, MR_LWW, 0),
	F("phone", NC_("field", "Phone number"), FT_STR, MR_MV, 0),
	F("insurance_no", NC_("field", "Health insurance card number"),
	  FT_STR, MR_LWW, 0),
	{ .name = "blood_type", .label = NC_("field", "Blood group"),
	  .type = FT_ENUM, .rule = MR_MV, .values = blood_values },
	F("allergies", NC_("field", "Allergies"), FT_STR, MR_MV, 0),
	F("chronic_conditions", NC_("field", "Chronic diseases"), FT_STR,
	  MR_MV, 0),
};
static const int health_profile_unique[] = { 0, -1 };

static const struct schema_field health_event_fields[] = {
	F("person_id", NC_("field", "Personal ID number"), FT_STR,
	  MR_IMMUTABLE, 1),
	{ .name = "kind", .label = NC_("field", "Kind of event"),
	  .type = FT_ENUM, .rule = MR_IMMUTABLE, .required = 1,
	  .values = event_kinds, .labels = event_kind_labels },
	F("date", NC_("field", "Date"), FT_DATE, MR_IMMUTABLE, 1),
	F("code", NC_("field", "Code"), FT_STR, MR_IMMUTABLE, 0),
	F("value", NC_("field", "Value"), FT_STR, MR_IMMUTABLE, 0),
	F("note", NC_("field", "Note"), FT_STR, MR_LWW, 0),
	F("corrects", NC_("field", "Corrects record"), FT_STR, MR_IMMUTABLE,
	  0),
};

static const struct schema_field payment_fields[] = {
	{ .name = "program", .label = NC_("field", "Programme"),
	  .type = FT_ENUM, .rule = MR_IMMUTABLE, .required = 1,
	  .values = programs, .labels = program_labels },
	F("beneficiary_id", NC_("field", "Beneficiary's ID number"), FT_STR,
	  MR_IMMUTABLE, 1),
	F("household_id", NC_("field", "Household code"), FT_STR,
	  MR_IMMUTABLE, 0),
	F("period", NC_("field", "Payment period"), FT_MONTH, MR_IMMUTABLE,
	  1),
	{ .name = "amount_vnd", .label = NC_("field", "Amount"),
	  .type = FT_INT, .rule = MR_IMMUTABLE, .required = 1, .nonneg = 1 },
	F("wallet_provider", NC_("field", "Mobile money provider"), FT_STR,
	  MR_IMMUTABLE, 0),
	{ .name = "status", .label = NC_("field", "Status"), .type = FT_ENUM,
	  .rule = MR_STATE, .values = pay_states, .labels = pay_state_labels,
	  .edges = pay_edges },
	F("wallet_txn_ref", NC_("field", "Wallet transaction reference"),
	  FT_STR, MR_MV, 0),
	F("reversal_of", NC_("field", "Reverses payment"), FT_STR,
	  MR_IMMUTABLE, 0),
};
/* beneficiary_id, program, period */
static const int payment_unique[] = { 1, 0, 3, -1 };

static const struct schema_field registration_fields[] = {
	F("procedure_code", NC_("field", "Procedure code"), FT_STR,
	  MR_IMMUTABLE, 1),
	F("applicant_id", NC_("field", "Applicant's ID number"), FT_STR,
	  MR_IMMUTABLE, 1),
	F("subject_id", NC_("field", "ID number of the person registered"),
	  FT_STR, MR_IMMUTABLE, 0),
	F("submitted_at", NC_("field", "Date submitted"), FT_DATE,
	  MR_IMMUTABLE, 1),
	{ .name = "status", .label = NC_("field", "Status"), .type = FT_ENUM,
	  .rule = MR_STATE, .values = reg_states, .labels = reg_state_labels,
	  .edges = reg_edges },
	F("dossier_no", NC_("field", "Dossier number"), FT_STR, MR_MV, 0),
	F("due_date", NC_("field", "Date the result is due"), FT_DATE,
	  MR_LWW, 0),
	F("result_doc_no", NC_("field", "Result document number"), FT_STR,
	  MR_MV, 0),
	F("details", NC_("field", "Details"), FT_MAP, MR_MV, 0),
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct schema builtin[] = {
	{ "health_profile", N_("profile id"), health_profile_fields,
	  NELEM(health_profile_fields), health_profile_unique, NULL },
	{ "health_event", N_("event id"), health_event_fields,
	  NELEM(health_event_fields), NULL, "corrects" },
	{ "payment", N_("payment id"), payment_fields, NELEM(payment_fields),
	  payment_unique, "reversal_of" },
	{ "registration", N_("registration id"), registration_fields,
	  NELEM(registration_fields), NULL, NULL },
};

static const struct schema *const builtin_list[] = {
	&builtin[0], &builtin[1], &builtin[2], &builtin[3],
};

const struct schema *const *schema_all(size_t *ret_n)
{
	*ret_n = NELEM(builtin_list);
	return builtin_list;
}

const struct schema *schema_find(const char *name)
{
	for (size_t i = 0; i < NELEM(builtin); i++)
		if (strcmp(builtin[i].name, name) == 0)
			return &builtin[i];
	return NULL;
}

/* 1 when the string a is the n bytes s (which may hold a NUL, and then
 * is none of ours); a is read no further than its end. Every body's
 * fields are looked up here, against each field of the schema */
static int name_is(const char *a, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!a[i] || a[i] != s[i])
			return 0;
	return a[n] == 0;
}

int schema_field_index(const struct schema *s, const char *name, size_t len)
{
	for (size_t i = 0; i < s->nfields; i++)
		if (name_is(s->fields[i].name, name, len))
			return (int)i;
	return -1;
}

const char *schema_value_label(const struct schema_field *f, const char *v,
			       size_t len)
{
	for (size_t i = 0; f->labels && f->values && f->values[i]; i++)
		if (name_is(f->values[i], v, len))
			return f->labels[i];
	return NULL;
}

const char *schema_type_name(enum field_type t)
{
	switch (t) {
	case FT_STR: return "str";
	case FT_INT: return "int";
	case FT_DATE: return "date";
	case FT_MONTH: return "month";
	case FT_ENUM: return "enum";
	case FT_MAP: return "map";
	}
	return "?";
}

const char *schema_rule_name(enum merge_rule r)
{
	switch (r) {
	case MR_LWW: return "lww";
	case MR_MV: return "mv";
	case MR_IMMUTABLE: return "immutable";
	case MR_STATE: return "state";
	}
	return "?";
}

/* 1 when s[0..n) holds nothing but spaces, tabs and newlines. */
static int is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return 0;
	return 1;
}

static int is_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int num(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

int schema_month_days(int y, int m)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31 };
	if (m < 1 || m > 12)
		return 0;
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return mdays[m - 1];
}

static int valid_month(const char *s, size_t n)
{
	if (n != 7 || s[4] != '-' || !is_digits(s, 4) || !is_digits(s + 5, 2))
		return 0;
	int y = num(s, 4), m = num(s + 5, 2);
	return y >= SCHEMA_YEAR_MIN && y <= SCHEMA_YEAR_MAX && m >= 1 &&
	       m <= 12;
}

static int valid_date(const char *s, size_t n)
{
	if (n != 10 || s[7] != '-' || !valid_month(s, 7) ||
	    !is_digits(s + 8, 2))
		return 0;
	int d = num(s + 8, 2);
	return d >= 1 && d <= schema_month_days(num(s, 4), num(s + 5, 2));
}

static int in_list(const char *const *vals, const char *s, size_t n)
{
	for (; vals && *vals; vals++)
		if (name_is(*vals, s, n))
			return 1;
	return 0;
}

/* Valid UTF-8 without control characters other than tab and newline. */
static int valid_text(const char *s, size_t n)
{
	return utf8_check(s, n, 0, NULL) == UTF8_OK;
}

static int wrong_type(const struct schema *s, const struct schema_field *f,
		      char *why, size_t whylen)
{
	why_set(why, whylen, N_("%s.%s must be of type %s"), s->name, f->name,
		 f->type == FT_STR ? "str (text)" : schema_type_name(f->type));
	return HAMLET_ESCHEMA;
}

static int check_int(const struct schema *s, const struct schema_field *f,
		     const msgpack_object *v, char *why, size_t whylen)
{
	if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && f->nonneg) {
		why_set(why, whylen, N_("%s.%s must be 0 or more"), s->name,
			 f->name);
		return HAMLET_ESCHEMA;
	}
	if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    v->type != MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return wrong_type(s, f, why, whylen);
	if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    v->via.u64 > (uint64_t)INT64_MAX)
		return wrong_type(s, f, why, whylen);
	return 0;
}

/* A map of short text keys to text values. */
static int check_map(const struct schema *s, const struct schema_field *f,
		     const msgpack_object *v, char *why, size_t whylen)
{
	if (v->type != MSGPACK_OBJECT_MAP)
		return wrong_type(s, f, why, whylen);
	if (v->via.map.size > SCHEMA_MAX_MAP) {
		why_set(why, whylen,
			 N_("%s.%s has %u entries; at most %d are allowed"),
			 s->name, f->name, v->via.map.size, SCHEMA_MAX_MAP);
		return HAMLET_ESCHEMA;
	}
	for (uint32_t i = 0; i < v->via.map.size; i++) {
		const msgpack_object *k = &v->via.map.ptr[i].key;
		const msgpack_object *x = &v->via.map.ptr[i].val;
		if (k->type != MSGPACK_OBJECT_STR || k->via.str.size == 0 ||
		    k->via.str.size > SCHEMA_MAX_MAP_KEY ||
		    !valid_text(k->via.str.ptr, k->via.str.size)) {
			why_set(why, whylen,
				 N_("%s.%s: keys must be text of 1 to %d bytes"),
				 s->name, f->name, SCHEMA_MAX_MAP_KEY);
			return HAMLET_ESCHEMA;
		}
		if (x->type != MSGPACK_OBJECT_STR ||
		    x->via.str.size > SCHEMA_MAX_STR ||
		    !valid_text(x->via.str.ptr, x->via.str.size)) {
			why_set(why, whylen,
				 N_("%s.%s.%.*s must be text of at most %d bytes"),
				 s->name, f->name, (int)k->via.str.size,
				 k->via.str.ptr, SCHEMA_MAX_STR);
			return HAMLET_ESCHEMA;
		}
	}
	return 0;
}

static void join_values(const char *const *vals, char *out, size_t cap)
{
	out[0] = 0;
	for (const char *const *p = vals; p && *p; p++) {
		strncat(out, *p, cap - strlen(out) - 1);
		if (p[1])
			strncat(out, ", ", cap - strlen(out) - 1);
	}
}

/* The text types: str, date, month, enum. */
static int check_text(const struct schema *s, const struct schema_field *f,
		      const msgpack_object *v, char *why, size_t whylen)
{
	const char *str;
	size_t n, at = 0;
	int shown;

	if (v->type != MSGPACK_OBJECT_STR)
		return wrong_type(s, f, why, whylen);
	str = v->via.str.ptr;
	n = v->via.str.size;
	/* what a message quotes: whole characters */
	shown = (int)utf8_cut(str, n, 40);
	if (n > SCHEMA_MAX_STR) {
		why_set(why, whylen,
			 N_("%s.%s must be text (UTF-8) of at most %d bytes"),
			 s->name, f->name, SCHEMA_MAX_STR);
		return HAMLET_ESCHEMA;
	}
	switch (utf8_check(str, n, 0, &at)) {
	case UTF8_OK:
		break;
	case UTF8_CONTROL:
		why_set(why, whylen,
			 N_("%s.%s holds a control character at byte %zu; text may hold tab and newline but no other"),
			 s->name, f->name, at + 1);
		return HAMLET_ESCHEMA;
	default:
		why_set(why, whylen,
			 N_("%s.%s is not UTF-8 text (byte %zu)"), s->name,
			 f->name, at + 1);
		return HAMLET_ESCHEMA;
	}
	switch (f->type) {
	case FT_STR:
		if (n == 0 && f->required)
			why_set(why, whylen, N_("%s.%s must not be empty"),
				 s->name, f->name);
		else if (f->required && is_blank(str, n))
			why_set(why, whylen,
				 N_("%s.%s must not be blank: it holds only spaces"),
				 s->name, f->name);
		else if (f->digits &&
			 ((int)n != f->digits || !is_digits(str, n)))
			why_set(why, whylen, N_("%s.%s must be exactly %d digits"),
				 s->name, f->name, f->digits);
		else
			return 0;
		return HAMLET_ESCHEMA;
	case FT_DATE:
	case FT_MONTH:
		if (f->type == FT_DATE ? valid_date(str, n) : valid_month(str, n))
			return 0;
		why_set(why, whylen, N_("%s.%s must be a %s, not \"%.*s\""),
			 s->name, f->name,
			 why_translate(f->type == FT_DATE ? N_("date YYYY-MM-DD")
						       : N_("month YYYY-MM")),
			 shown, str);
		return HAMLET_ESCHEMA;
	case FT_ENUM: {
		char list[256];
		if (in_list(f->values, str, n))
			return 0;
		join_values(f->values, list, sizeof(list));
		why_set(why, whylen, N_("%s.%s must be one of %s, not \"%.*s\""),
			 s->name, f->name, list, shown, str);
		return HAMLET_ESCHEMA;
	}
	default:
		return 0;
	}
}

static int check_value(const struct schema *s, const struct schema_field *f,
		       const msgpack_object *v, char *why, size_t whylen)
{
	switch (f->type) {
	case FT_INT:
		return check_int(s, f, v, why, whylen);
	case FT_MAP:
		return check_map(s, f, v, why, whylen);
	default:
		return check_text(s, f, v, why, whylen);
	}
}

int schema_check_body(const struct schema *s, const msgpack_object *body,
		      char *why, size_t whylen)
{
	int r;
	if (body->type != MSGPACK_OBJECT_MAP) {
		why_set(why, whylen, N_("a %s body must be a map of fields"),
			 s->name);
		return HAMLET_ESCHEMA;
	}
	if (body->via.map.size > s->nfields) {
		why_set(why, whylen, N_("%s has at most %zu fields"), s->name,
			 s->nfields);
		return HAMLET_ESCHEMA;
	}
	for (uint32_t i = 0; i < body->via.map.size; i++) {
		const msgpack_object *k = &body->via.map.ptr[i].key;
		const msgpack_object *v = &body->via.map.ptr[i].val;
		if (k->type != MSGPACK_OBJECT_STR) {
			why_set(why, whylen, N_("%s: field names must be text"),
				 s->name);
			return HAMLET_ESCHEMA;
		}
		int fi = schema_field_index(s, k->via.str.ptr, k->via.str.size);
		if (fi < 0) {
			why_set(why, whylen, N_("unknown field \"%.*s\" in %s"),
				 (int)(k->via.str.size > 64 ? 64
							    : k->via.str.size),
				 k->via.str.ptr, s->name);
			return HAMLET_ESCHEMA;
		}
		for (uint32_t j = 0; j < i; j++) {
			const msgpack_object *k2 = &body->via.map.ptr[j].key;
			if (k2->via.str.size == k->via.str.size &&
			    memcmp(k2->via.str.ptr, k->via.str.ptr,
				   k->via.str.size) == 0) {
				why_set(why, whylen,
					 N_("field \"%s\" appears twice in %s"),
					 s->fields[fi].name, s->name);
				return HAMLET_ESCHEMA;
			}
		}
		if (v->type == MSGPACK_OBJECT_NIL)
			continue; /* clears the field */
		if ((r = check_value(s, &s->fields[fi], v, why, whylen)) < 0)
			return r;
	}
	return 0;
}

int schema_check_past(const struct schema *s, const msgpack_object *body,
		      const char *today_ymd, char *why, size_t whylen)
{
	if (body->type != MSGPACK_OBJECT_MAP)
		return 0;
	for (uint32_t i = 0; i < body->via.map.size; i++) {
		const msgpack_object *k = &body->via.map.ptr[i].key;
		const msgpack_object *v = &body->via.map.ptr[i].val;
		if (k->type != MSGPACK_OBJECT_STR || v->type != MSGPACK_OBJECT_STR)
			continue;
		int fi = schema_field_index(s, k->via.str.ptr, k->via.str.size);
		if (fi < 0 || !s->fields[fi].past || v->via.str.size != 10)
			continue;
		/* YYYY-MM-DD compares as text */
		if (memcmp(v->via.str.ptr, today_ymd, 10) > 0) {
			why_set(why, whylen,
				 N_("%s.%s %.10s lies in the future: check the year"),
				 s->name, s->fields[fi].name, v->via.str.ptr);
			return HAMLET_ESCHEMA;
		}
	}
	return 0;
}

void schema_today(int64_t now_ms, char out[11])
{
	time_t t = (time_t)(now_ms / 1000) + 14 * 3600;
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, 11, "%04d-%02d-%02d", (tm.tm_year + 1900) % 10000,
		 (tm.tm_mon + 1) % 100, tm.tm_mday % 100);
}

int schema_state_follows(const struct schema_field *f, const char *a,
			 size_t alen, const char *b, size_t blen)
{
	/* breadth-first over at most 16 states */
	const char *queue[16];
	size_t qlen[16], head = 0, tail = 0;
	if (!f->edges)
		return 0;
	queue[tail] = a;
	qlen[tail++] = alen;
	while (head < tail) {
		const char *cur = queue[head];
		size_t curlen = qlen[head++];
		for (const char *const *e = f->edges; *e; e++) {
			const char *gt = strchr(*e, '>');
			size_t fl = (size_t)(gt - *e);
			if (fl != curlen || memcmp(*e, cur, fl) != 0)
				continue;
			const char *to = gt + 1;
			size_t tl = strlen(to);
			if (tl == blen && memcmp(to, b, blen) == 0)
				return 1;
			if (tail < 16) {
				queue[tail] = to;
				qlen[tail++] = tl;
			}
		}
	}
	return 0;
}

/* a -> its successors, in declared order; returns how many. */
static size_t state_next(const struct schema_field *f, const char *a,
			 const char **ret, size_t cap)
{
	size_t n = 0, al = strlen(a);
	for (const char *const *e = f->edges; e && *e; e++) {
		const char *gt = strchr(*e, '>');
		if ((size_t)(gt - *e) == al && memcmp(*e, a, al) == 0 && n < cap)
			ret[n++] = gt + 1;
	}
	return n;
}

static size_t nedges(const struct schema_field *f)
{
	size_t n = 0;
	for (const char *const *e = f->edges; e && *e; e++)
		n++;
	return n;
}

/*
 * One chain from the first state, forking only into final states:
 * "created → approved → disbursed → confirmed|failed". 0 when the
 * order has another shape.
 */
static int state_chain(const struct schema_field *f, char *out, size_t cap)
{
	const char *next[16], *cur = f->values ? f->values[0] : NULL;
	size_t used = 0, n, len, steps = 0;

	if (!cur)
		return 0;
	len = (size_t)snprintf(out, cap, "%s", cur);
	while ((n = state_next(f, cur, next, 16)) > 0 && len < cap) {
		if (steps++ > nedges(f))
			return 0; /* a cycle: not a chain */
		used += n;
		for (size_t i = 0; i < n; i++) {
			const char *more[1];
			if (n > 1 && state_next(f, next[i], more, 1))
				return 0;
			len += (size_t)snprintf(out + len, cap - len, "%s%s",
						i ? "|" : " → ", next[i]);
			if (len >= cap)
				return 0;
		}
		if (n > 1)
			break;
		cur = next[0];
	}
	return used == nedges(f);
}

void schema_state_order(const struct schema_field *f, char *out, size_t cap)
{
	size_t len = 0;

	if (cap == 0 || state_chain(f, out, cap))
		return;
	out[0] = 0;
	for (const char *const *e = f->edges; e && *e && len < cap; e++) {
		const char *gt = strchr(*e, '>');
		len += (size_t)snprintf(out + len, cap - len, "%s%.*s → %s",
					e == f->edges ? "" : ", ",
					(int)(gt - *e), *e, gt + 1);
	}
}

void schema_names(char *out, size_t cap)
{
	size_t n;
	const struct schema *const *all = schema_all(&n);
	out[0] = 0;
	for (size_t i = 0; i < n; i++) {
		if (i)
			strncat(out, ", ", cap - strlen(out) - 1);
		strncat(out, all[i]->name, cap - strlen(out) - 1);
	}
}

int schema_check_op(const char *collection, int kind, int has_body,
		    const uint8_t *body, size_t body_len,
		    struct mp_doc *ret_doc, char *why, size_t whylen)
{
	const struct schema *s;
	struct mp_doc d, *dp;
	char names[128];
	int r;

	if (kind != ENTRY_PUT && kind != ENTRY_DELETE && kind != ENTRY_ERASE)
		return 0;
	if (!(s = schema_find(collection))) {
		schema_names(names, sizeof(names));
		why_set(why, whylen, N_("unknown collection \"%.64s\" (known: %s)"),
			 collection, names);
		return HAMLET_ECOLLECTION;
	}
	if (kind == ENTRY_DELETE && has_body) {
		why_set(why, whylen, N_("a delete carries no body"));
		return HAMLET_EFORMAT;
	}
	if (kind == ENTRY_DELETE)
		return 0;
	if (!has_body) {
		why_set(why, whylen, "%s",
			why_translate(kind == ENTRY_ERASE
					      ? N_("an erasure must carry a body")
					      : N_("a put must carry a body")));
		return HAMLET_EFORMAT;
	}
	if (!body)
		return 0; /* it did not come along: nothing to check yet */
	if (kind == ENTRY_ERASE)
		return schema_erase_reason(body, body_len, NULL, 0, why, whylen);
	if (body_len > ENTRY_MAX_BODY) {
		why_set(why, whylen,
			 N_("record body of %zu bytes is over the %d-byte limit"),
			 body_len, ENTRY_MAX_BODY);
		return HAMLET_ETOOBIG;
	}
	/* parsed in place: a doc's root points into the doc itself */
	dp = ret_doc ? ret_doc : &d;
	r = mp_doc_parse(dp, body, body_len, SCHEMA_MAX_FIELDS + SCHEMA_MAX_MAP);
	if (r < 0) {
		why_set(why, whylen, N_("the %s body is not valid msgpack: %s"),
			 s->name, why_translate(hamlet_strerror(r)));
		return HAMLET_ESCHEMA;
	}
	if ((r = schema_check_body(s, dp->root, why, whylen)) < 0 || !ret_doc)
		mp_doc_close(dp);
	return r;
}

int schema_erase_body(const char *reason, uint8_t **ret, size_t *ret_len)
{
	struct mp_writer w;
	size_t n = strlen(reason);

	if (n == 0 || n > SCHEMA_MAX_REASON || !valid_text(reason, n))
		return HAMLET_EFORMAT;
	mp_writer_init(&w);
	msgpack_pack_map(&w.pk, 1);
	mp_pack_str(&w.pk, "reason");
	mp_pack_str(&w.pk, reason);
	*ret = malloc(w.sb.size);
	if (!*ret) {
		mp_writer_destroy(&w);
		return -ENOMEM;
	}
	memcpy(*ret, w.sb.data, w.sb.size);
	*ret_len = w.sb.size;
	mp_writer_destroy(&w);
	return 0;
}

int schema_erase_reason(const uint8_t *body, size_t body_len, char *out,
			size_t cap, char *why, size_t whylen)
{
	struct mp_doc d;
	const msgpack_object *root, *k, *v;
	int r = HAMLET_ESCHEMA;

	if (body_len > ENTRY_MAX_BODY ||
	    mp_doc_parse(&d, body, body_len, 8) < 0) {
		why_set(why, whylen,
			 N_("an erasure's body is not valid msgpack"));
		return HAMLET_ESCHEMA;
	}
	root = d.root;
	if (root->type != MSGPACK_OBJECT_MAP || root->via.map.size != 1) {
		why_set(why, whylen,
			 N_("an erasure's body is a map of exactly one field, reason"));
		goto out;
	}
	k = &root->via.map.ptr[0].key;
	v = &root->via.map.ptr[0].val;
	if (k->type != MSGPACK_OBJECT_STR || k->via.str.size != 6 ||
	    memcmp(k->via.str.ptr, "reason", 6) != 0) {
		why_set(why, whylen,
			 N_("an erasure's body names one field, reason"));
		goto out;
	}
	if (v->type != MSGPACK_OBJECT_STR || v->via.str.size == 0 ||
	    v->via.str.size > SCHEMA_MAX_REASON ||
	    !valid_text(v->via.str.ptr, v->via.str.size)) {
		why_set(why, whylen,
			 N_("an erasure's reason is text of 1-%d bytes (UTF-8, no control characters)"),
			 SCHEMA_MAX_REASON);
		goto out;
	}
	if (out && cap) {
		size_t n = v->via.str.size < cap - 1 ? v->via.str.size
						      : cap - 1;
		memcpy(out, v->via.str.ptr, n);
		out[n] = 0;
	}
	r = 0;
out:
	mp_doc_close(&d);
	return r;
}
