/*
 * i18n: messages in the operator's language through gettext (domain
 * "hamlet"). English is in the source and is the default; a translation
 * is chosen by the locale as usual (LANG=vi_VN.UTF-8, LANGUAGE=vi).
 *
 * Only text meant for a person is translated: --json output, exit
 * codes, wire and file formats never change with the locale. The core
 * library returns English (or codes); the program that prints a message
 * translates it with _() where it prints.
 */
#ifndef HAMLET_I18N_H
#define HAMLET_I18N_H

#include <libintl.h>
#include <stddef.h>
#include <time.h>

#define HAMLET_TEXTDOMAIN "hamlet"

/* translate now */
#define _(s) dgettext(HAMLET_TEXTDOMAIN, s)
/* mark for translation, translate later with _() (tables, initialisers) */
#define N_(s) (s)
/* singular/plural by n */
#define P_(s, p, n) dngettext(HAMLET_TEXTDOMAIN, s, p, n)
/* mark for translation in context ctx (a msgctxt, as pgettext has it: the
 * same English word may be a field's label in one place and an enum
 * value's in another), translate later with i18n_ctx() */
#define NC_(ctx, s) (s)

/*
 * Take the locale from the environment (numbers stay in the C locale, so
 * that printf never writes "1,5" into JSON or a file) and find the
 * message catalogs: $HAMLET_LOCALEDIR, else the build tree's locale/
 * next to the program's directory, else the installed one. Call once at
 * the start of main().
 */
void i18n_init(void);

/* Terminal columns of the n bytes at s: one per UTF-8 character (our
 * translations are precomposed, NFC), so that translated help lines up. */
int i18n_width(const char *s, size_t n);

/* n with its thousands apart, as the person's locale writes them:
 * "1,045" in English, "1.045" in Vietnamese (whose decimal mark is a
 * comma). */
void i18n_count(unsigned long long n, char out[32]);

/* n bytes in decimal units ("2.0 kB"; "2,0 kB" where the decimal mark
 * is a comma). */
void i18n_size(unsigned long long n, char out[32]);

/* The same in a language's way that need not be the locale's (a page
 * in the language its reader asked for): comma_decimal, as Vietnamese,
 * "1.045" and "2,0 kB"; else "1,045" and "2.0 kB". */
void i18n_count_as(unsigned long long n, char out[32], int comma_decimal);
void i18n_size_as(unsigned long long n, char out[32], int comma_decimal);

/* The first '.' of s, a number printed for a person, made the locale's
 * decimal mark. */
void i18n_decimal(char *s);

/*
 * s translated in context ctx (marked NC_(ctx, s)), or s itself when the
 * catalog has no translation of it: the result is s exactly when it is
 * not translated. A translation lives as long as the program.
 */
const char *i18n_ctx(const char *ctx, const char *s);

/*
 * Dates and times for a person. English (and any language that says
 * nothing else) writes ISO 8601's order, 2026-12-05; Vietnamese the day
 * first, 05/12/2026, as the status page and a Vietnamese spreadsheet do.
 * Files, JSON and the wire keep ISO whatever the language.
 */
enum i18n_when {
	I18N_MONTH, /* 2026-12, 12/2026 */
	I18N_DATE,  /* 2026-12-05, 05/12/2026 */
	I18N_TIME,  /* 2026-12-05 08:10:51, 05/12/2026 08:10:51 */
};
#define I18N_WHEN_MAX 24 /* what i18n_when_as() writes, with its NUL */

/* 1 when the language messages are shown in (the catalog gettext chose)
 * writes the day first, as its translator says; 0 for English. */
int i18n_day_first(void);

/* tm as what says, day first or not; returns the length written into
 * out (n bytes, at least I18N_WHEN_MAX), 0 when it did not fit. */
size_t i18n_when_as(const struct tm *tm, enum i18n_when what, int day_first,
		    char *out, size_t n);

/* A date or a month as the schema stores it ("1990-03-04", "2026-01", n
 * bytes at s) written as i18n_when_as() writes it: 1; 0 when s is
 * neither (out untouched). */
int i18n_ymd_as(const char *s, size_t n, int day_first, char *out,
		size_t cap);

#endif
