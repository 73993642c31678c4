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

#define HAMLET_TEXTDOMAIN "hamlet"

/* translate now */
#define _(s) dgettext(HAMLET_TEXTDOMAIN, s)
/* mark for translation, translate later with _() (tables, initialisers) */
#define N_(s) (s)
/* singular/plural by n */
#define P_(s, p, n) dngettext(HAMLET_TEXTDOMAIN, s, p, n)

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

#endif
