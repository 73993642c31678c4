/*
 * import_map: Vietnamese column names and Excel's values (see
 * import_map.h).
 */
#include "import_map.h"

#include "error.h"
#include "why.h"

#include "vi_fold.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Vietnamese column names, folded (no marks, lower case, one space
 * between words), and the fields each may name, tried in order: the
 * first that the collection has is taken. A person's ID number is
 * person_id in the health collections, beneficiary_id in payment and
 * applicant_id in registration.
 */
static const struct {
	const char *name;
	const char *fields[3];
} columns[] = {
	{ "ma ban ghi", { "id" } },
	{ "ho ten", { "full_name" } },
	{ "ho va ten", { "full_name" } },
	{ "ngay sinh", { "birth_date" } },
	{ "gioi tinh", { "sex" } },
	{ "ma dinh danh", { "person_id", "beneficiary_id", "applicant_id" } },
	{ "ma dinh danh ca nhan", { "person_id", "beneficiary_id", "applicant_id" } },
	/* as the CCCD card and the 2023 Identification Law name it */
	{ "so dinh danh ca nhan", { "person_id", "beneficiary_id", "applicant_id" } },
	{ "so dinh danh", { "person_id", "beneficiary_id", "applicant_id" } },
	{ "so cccd", { "person_id", "beneficiary_id", "applicant_id" } },
	{ "cccd", { "person_id", "beneficiary_id", "applicant_id" } },
	{ "so the bhyt", { "insurance_no" } },
	{ "ma the bhyt", { "insurance_no" } },
	{ "the bhyt", { "insurance_no" } },
	{ "thon", { "village" } },
	{ "ban", { "village" } },
	{ "thon ban", { "village" } },
	{ "xom", { "village" } },
	{ "so dien thoai", { "phone" } },
	{ "dien thoai", { "phone" } },
	{ "sdt", { "phone" } },
	{ "dan toc", { "ethnicity" } },
	{ "ma ho", { "household_id" } },
	{ "ma ho gia dinh", { "household_id" } },
	{ "nhom mau", { "blood_type" } },
	{ "di ung", { "allergies" } },
	{ "benh man tinh", { "chronic_conditions" } },
	{ "loai", { "kind" } },
	{ "ngay", { "date" } },
	{ "ghi chu", { "note" } },
	{ "chuong trinh", { "program" } },
	{ "ky", { "period" } },
	{ "ky chi tra", { "period" } },
	{ "so tien", { "amount_vnd" } },
	{ "trang thai", { "status" } },
	{ "ma thu tuc", { "procedure_code" } },
	{ "ngay nop", { "submitted_at" } },
	{ "ngay hen tra", { "due_date" } },
	{ "so ho so", { "dossier_no" } },
};

/* Enum values in Vietnamese, folded, by field name: the labels hamlet
 * shows in Vietnamese (po/vi/fields.po, msgctxt "enum"; a test checks
 * that each one is here), so that a value copied from get imports. A
 * word applies to the fields of that name whose values hold its value
 * (payment's and registration's status both have approved). */
static const struct {
	const char *field, *word, *value, *shown;
} values[] = {
	{ "sex", "nam", "male", "nam" },
	{ "sex", "nu", "female", "nữ" },
	{ "sex", "khac", "other", "khác" },
	{ "kind", "tiem chung", "immunization", "tiêm chủng" },
	{ "kind", "kham benh", "encounter", "khám bệnh" },
	{ "kind", "dau hieu sinh ton", "vital", "dấu hiệu sinh tồn" },
	{ "kind", "benh", "condition", "bệnh" },
	{ "kind", "di ung", "allergy", "dị ứng" },
	{ "program", "tro cap xa hoi", "social_allowance", "trợ cấp xã hội" },
	{ "program", "dich vu moi truong rung", "forest_service",
	  "dịch vụ môi trường rừng" },
	{ "program", "khoan bao ve rung", "forest_contract",
	  "khoán bảo vệ rừng" },
	{ "status", "da lap", "created", "đã lập" },
	{ "status", "da duyet", "approved", "đã duyệt" },
	{ "status", "da chi", "disbursed", "đã chi" },
	{ "status", "da xac nhan", "confirmed", "đã xác nhận" },
	{ "status", "khong thanh cong", "failed", "không thành công" },
	{ "status", "da tiep nhan", "received", "đã tiếp nhận" },
	{ "status", "dang giai quyet", "processing", "đang giải quyết" },
	{ "status", "bi tu choi", "rejected", "bị từ chối" },
	{ "status", "tra lai de bo sung", "returned", "trả lại để bổ sung" },
};

/* Whether value is one of enum field f's values. */
static int has_value(const struct schema_field *f, const char *value)
{
	for (const char *const *p = f->values; p && *p; p++)
		if (strcmp(value, *p) == 0)
			return 1;
	return 0;
}

static int field_of(const struct schema *s, const char *name)
{
	if (strcmp(name, "id") == 0)
		return IMPORT_MAP_ID;
	int fi = schema_field_index(s, name, strlen(name));
	return fi >= 0 ? fi : IMPORT_MAP_UNKNOWN;
}

/* The headers of a column of row numbers */
static const char *const row_numbers[] = { "stt", "số tt", "số thứ tự" };

int import_map_column(const struct schema *s, const char *name)
{
	char key[128], own[128];

	vi_fold_name(name, strlen(name), key, sizeof(key));
	if (strcmp(key, "id") == 0)
		return IMPORT_MAP_ID;
	for (size_t i = 0; i < sizeof(row_numbers) / sizeof(row_numbers[0]);
	     i++) {
		vi_fold_name(row_numbers[i], strlen(row_numbers[i]), own,
			     sizeof(own));
		if (strcmp(key, own) == 0)
			return IMPORT_MAP_SKIP;
	}
	for (size_t i = 0; i < s->nfields; i++) {
		const char *f = s->fields[i].name;
		vi_fold_name(f, strlen(f), own, sizeof(own));
		if (strcmp(key, own) == 0)
			return (int)i;
	}
	for (size_t i = 0; i < sizeof(columns) / sizeof(columns[0]); i++) {
		if (strcmp(key, columns[i].name) != 0)
			continue;
		for (size_t k = 0; k < 3 && columns[i].fields[k]; k++) {
			int fi = field_of(s, columns[i].fields[k]);
			if (fi != IMPORT_MAP_UNKNOWN)
				return fi;
		}
	}
	return IMPORT_MAP_UNKNOWN;
}

const char *import_map_enum(const struct schema_field *f, const char *cell)
{
	char key[64];

	vi_fold_name(cell, strlen(cell), key, sizeof(key));
	/* a value as written, in any case and folded as the cell is: "o-"
	 * is O-, "Social_Allowance" social_allowance */
	{
		/* letters lowered only: "o" is no blood type, "o-" is O- */
		char low[64], fv[64];
		vi_fold(cell, strlen(cell), low, sizeof(low));
		for (const char *const *p = f->values; p && *p; p++) {
			vi_fold(*p, strlen(*p), fv, sizeof(fv));
			if (strcmp(key, *p) == 0 || strcmp(low, fv) == 0)
				return *p;
		}
	}
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		if (strcmp(f->name, values[i].field) == 0 &&
		    strcmp(key, values[i].word) == 0 &&
		    has_value(f, values[i].value))
			return values[i].value;
	}
	return NULL;
}

/* Digits at *s, at least 1 and at most max, into *ret; *s moved on. */
static int take_digits(const char **s, int max, unsigned *ret)
{
	unsigned v = 0;
	int k = 0;
	while (k < max && isdigit((unsigned char)(*s)[k]))
		v = v * 10 + (unsigned)((*s)[k++] - '0');
	*s += k;
	*ret = v;
	return k;
}

static int is_sep(char c)
{
	return c == '/' || c == '-' || c == '.';
}

/*
 * What follows a date in a spreadsheet's date-and-time cell ("04/04/1964
 * 00:00", "1964-04-04T00:00:00"): 1 when p is such a time at midnight,
 * 2 when at another time of day, 0 when p is no time of day.
 */
static int time_of_day(const char *p)
{
	unsigned h, m, sec = 0;

	if (*p != ' ' && *p != 'T')
		return 0;
	p++;
	for (int k = 0; k < 8 && *p == ' '; k++)
		p++;
	if (!take_digits(&p, 2, &h) || *p++ != ':' ||
	    take_digits(&p, 2, &m) != 2)
		return 0;
	if (*p == ':' && (p++, take_digits(&p, 2, &sec) != 2))
		return 0;
	if (*p || h > 23 || m > 59 || sec > 59)
		return 0;
	return h == 0 && m == 0 && sec == 0 ? 1 : 2;
}

/*
 * The day (for a date), month and year of cell, written dd/mm/yyyy (d/m,
 * dd/mm/yy) or yyyy-mm-dd; for a month mm/yyyy or yyyy-mm. A date may be
 * followed by a time of day (time_of_day(): *ret_time gets 1 or 2; 0
 * without one). Returns the number of digits of the year, 0 when cell
 * has none of these forms.
 */
static int date_parts(int date, const char *cell, unsigned *ret_d,
		      unsigned *ret_m, unsigned *ret_y, int *ret_time)
{
	const char *p = cell;
	int yl;

	*ret_time = 0;
	if (take_digits(&p, 4, ret_y) == 4) { /* ISO, as the schema has it */
		if (*p++ != '-' || take_digits(&p, 2, ret_m) != 2)
			return 0;
		if (date && (*p++ != '-' || take_digits(&p, 2, ret_d) != 2))
			return 0;
		if (date && *p && !(*ret_time = time_of_day(p)))
			return 0;
		return !*p || *ret_time ? 4 : 0;
	}
	p = cell;
	if (date && (!take_digits(&p, 2, ret_d) || !is_sep(*p++)))
		return 0;
	if (!take_digits(&p, 2, ret_m) || !is_sep(*p++))
		return 0;
	yl = take_digits(&p, 4, ret_y);
	if (date && *p && !(*ret_time = time_of_day(p)))
		return 0;
	return (!*p || *ret_time) && (yl == 4 || yl == 2) ? yl : 0;
}

/*
 * Why cell is no date (or month) of field f, when it looks like what a
 * spreadsheet stores of one: its date number ("32936", a column of
 * dates saved as numbers), or, for a month, a whole date (Excel makes
 * "11/2026" the date 01/11/2026). HAMLET_ESCHEMA with why set, or 0.
 */
static int spreadsheet_date(const struct schema_field *f, const char *cell,
			    char *why, size_t whylen)
{
	size_t n = strlen(cell);
	unsigned d, m, y;
	int t;

	/* the days since 1900: 3 to 5 digits (a year alone is not one) */
	if (n >= 3 && n <= 5 && strspn(cell, "0123456789") == n &&
	    cell[0] != '0' &&
	    !(n == 4 && atoi(cell) >= SCHEMA_YEAR_MIN &&
	      atoi(cell) <= SCHEMA_YEAR_MAX)) {
		if (f->type == FT_DATE)
			why_set(why, whylen,
				N_("%s: \"%s\" looks like a spreadsheet's date number, not a date: format the column as a date (dd/mm/yyyy) in the spreadsheet and save the file again"),
				f->name, cell);
		else
			why_set(why, whylen,
				N_("%s: \"%s\" looks like a spreadsheet's date number, not a month: format the column as month/year (mm/yyyy) in the spreadsheet and save the file again"),
				f->name, cell);
		return HAMLET_ESCHEMA;
	}
	if (f->type == FT_MONTH && date_parts(1, cell, &d, &m, &y, &t) == 4 &&
	    m >= 1 && m <= 12) {
		why_set(why, whylen,
			N_("%s: \"%s\" is a date, but %s is a month: write month/year, like %02u/%u"),
			f->name, cell, f->name, m, y);
		return HAMLET_ESCHEMA;
	}
	return 0;
}

int import_map_date(const struct schema_field *f, const char *cell,
		    char out[16], char *why, size_t whylen)
{
	unsigned d = 1, m, y;
	int yl, days, t;

	if (f->type != FT_DATE && f->type != FT_MONTH)
		return 0;
	if (!(yl = date_parts(f->type == FT_DATE, cell, &d, &m, &y, &t)))
		return spreadsheet_date(f, cell, why, whylen);
	/* the form is ours: say what is wrong with the cell as typed, not
	 * with the ISO text it would have become */
	if (yl == 2) {
		why_set(why, whylen,
			N_("%s: \"%s\": the year has two digits; write all four (1999, not 99)"),
			f->name, cell);
		return HAMLET_ESCHEMA;
	}
	if ((int)y < SCHEMA_YEAR_MIN || (int)y > SCHEMA_YEAR_MAX) {
		why_set(why, whylen,
			N_("%s: \"%s\" is not a date: the year must be between %d and %d"),
			f->name, cell, SCHEMA_YEAR_MIN, SCHEMA_YEAR_MAX);
		return HAMLET_ESCHEMA;
	}
	if (m < 1 || m > 12) {
		if (f->type == FT_DATE)
			why_set(why, whylen,
				N_("%s: \"%s\" is not a date: there is no month %u (write day/month/year, like 15/03/1999)"),
				f->name, cell, m);
		else
			why_set(why, whylen,
				N_("%s: \"%s\" is not a month: there is no month %u (write month/year, like 03/2026)"),
				f->name, cell, m);
		return HAMLET_ESCHEMA;
	}
	days = schema_month_days((int)y, (int)m);
	if (d < 1 || (int)d > days) {
		why_set(why, whylen,
			N_("%s: \"%s\" is not a date: month %u of %u has %d days, there is no day %u"),
			f->name, cell, m, y, days, d);
		return HAMLET_ESCHEMA;
	}
	if (t == 2) {
		/* a date-and-time cell at midnight is that date */
		why_set(why, whylen,
			N_("%s: \"%s\" holds a time of day: write the date alone, day/month/year, like 15/03/1999"),
			f->name, cell);
		return HAMLET_ESCHEMA;
	}
	if (f->type == FT_DATE)
		snprintf(out, 16, "%04u-%02u-%02u", y, m, d);
	else
		snprintf(out, 16, "%04u-%02u", y, m);
	return 1;
}

int import_map_phone_lost_zero(const struct schema_field *f,
			       const char *cell, char *why, size_t whylen)
{
	size_t n = strlen(cell);

	/* A Vietnamese number begins with 0: a mobile has 10 digits, a
	 * landline 11 (02x...), so 9 or 10 digits without the 0 are what
	 * Excel leaves of them in a Number column. 1800 and 1900 numbers
	 * (8 or 10 digits, no 0) and +84... are numbers as they are. */
	if (strcmp(f->name, "phone") != 0 || (n != 9 && n != 10) ||
	    strspn(cell, "0123456789") != n || cell[0] == '0' ||
	    (n == 10 && cell[0] == '1'))
		return 0;
	why_set(why, whylen,
		 N_("%s: \"%s\" has %zu digits and no leading 0, which a Vietnamese phone number begins with (0%s): Excel dropped it. Format the column as Text in Excel (Format Cells > Text), type the numbers again with their leading 0, and save as CSV UTF-8"),
		 f->name, cell, n, cell);
	return 1;
}

int import_map_excel_number(const struct schema_field *f, const char *cell,
			    char *why, size_t whylen)
{
	size_t n = strlen(cell);

	if (import_map_phone_lost_zero(f, cell, why, whylen))
		return 1;
	if (!f->digits)
		return 0;
	if (strspn(cell, "0123456789") == n && n > 0 && (int)n < f->digits) {
		why_set(why, whylen,
			 N_("%s: \"%s\" has %zu digits, %d are needed: Excel dropped the leading zero%s. Format the column as Text in Excel (Format Cells > Text), type the ID again with its %d leading zero%s, and save as CSV UTF-8"),
			 f->name, cell, n, f->digits,
			 f->digits - (int)n > 1 ? "s" : "",
			 f->digits - (int)n, f->digits - (int)n > 1 ? "s" : "");
		return 1;
	}
	if (n < 40 && strpbrk(cell, "eE") && strchr(cell, '+') &&
	    strspn(cell, "0123456789.,eE+") == n) {
		why_set(why, whylen,
			 N_("%s: \"%s\" is how Excel shows a long number, not the %d-digit ID. Format the column as Text in Excel (Format Cells > Text), type the IDs again, and save as CSV UTF-8"),
			 f->name, cell, f->digits);
		return 1;
	}
	return 0;
}

int import_map_grouped_int(const char *cell, long long *ret)
{
	const char *p = cell;
	char sep = 0;
	long long v = 0;
	int neg = 0, lead = 0, groups = 0;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	while (isdigit((unsigned char)*p) && lead < 4) {
		v = v * 10 + (*p++ - '0');
		lead++;
	}
	if (lead == 0 || lead > 3)
		return 0;
	while (*p) {
		if (!sep && (*p == '.' || *p == ',' || *p == ' '))
			sep = *p;
		if (*p != sep)
			return 0;
		p++;
		for (int k = 0; k < 3; k++, p++) {
			if (!isdigit((unsigned char)*p) || v > LLONG_MAX / 10 - 1)
				return 0;
			v = v * 10 + (*p - '0');
		}
		groups++;
	}
	/* "1,500" may be one and a half, as a Vietnamese sheet writes it */
	if (!groups || (sep == ',' && groups == 1))
		return 0;
	*ret = neg ? -v : v;
	return 1;
}

int import_map_enum_why(const struct schema *s, const struct schema_field *f,
			const char *cell, char *why, size_t whylen)
{
	char en[256] = "", vi[256] = "";
	size_t el = 0, vl = 0;

	if (f->type != FT_ENUM || import_map_enum(f, cell))
		return 0;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		if (strcmp(f->name, values[i].field) != 0 ||
		    !has_value(f, values[i].value))
			continue;
		el += (size_t)snprintf(en + el, sizeof(en) - el, "%s%s",
				       el ? ", " : "", values[i].value);
		vl += (size_t)snprintf(vi + vl, sizeof(vi) - vl, "%s%s",
				       vl ? ", " : "", values[i].shown);
		if (el >= sizeof(en) || vl >= sizeof(vi))
			return 0;
	}
	if (!vl)
		return 0;
	why_set(why, whylen, N_("%s.%s must be one of %s (or %s), not \"%.64s\""),
		 s->name, f->name, en, vi, cell);
	return 1;
}

int import_map_fields(const struct schema *s, json_t *obj, char *why,
		      size_t whylen, char *ret_field, size_t fieldcap)
{
	const char *name;
	json_t *v;
	char iso[16];
	int r;

	if (!json_is_object(obj))
		return 0;
	json_object_foreach(obj, name, v) {
		int fi = schema_field_index(s, name, strlen(name));
		const struct schema_field *f;
		const char *text, *mapped;
		if (fi < 0 || !json_is_string(v))
			continue;
		f = &s->fields[fi];
		text = json_string_value(v);
		long long gi;
		if (f->type == FT_INT && import_map_grouped_int(text, &gi)) {
			/* "1.500.000", as a spreadsheet shows an amount */
			json_object_set_new(obj, name, json_integer(gi));
		} else if (f->type == FT_ENUM && (mapped = import_map_enum(f, text))) {
			if (strcmp(mapped, text) != 0)
				json_object_set_new(obj, name, json_string(mapped));
		} else if (import_map_enum_why(s, f, text, why, whylen)) {
			r = HAMLET_ESCHEMA;
			goto bad;
		} else if ((r = import_map_date(f, text, iso, why, whylen)) < 0) {
			goto bad;
		} else if (r > 0 && strcmp(iso, text) != 0) {
			json_object_set_new(obj, name, json_string(iso));
		}
	}
	return 0;
bad:
	if (ret_field)
		snprintf(ret_field, fieldcap, "%s", name);
	return r;
}
