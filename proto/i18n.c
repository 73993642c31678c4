#include "i18n.h"

#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef HAMLET_LOCALEDIR
#define HAMLET_LOCALEDIR "/usr/local/share/locale"
#endif

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* <directory of the running program>/<rel> into out; 0 when it is not
 * a directory holding hamlet's Vietnamese catalog (need_mo), or not a
 * directory at all. */
static int beside_exe(const char *rel, int need_mo, char *out, size_t n)
{
	char exe[PATH_MAX], mo[PATH_MAX + 64];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct stat st;
	if (len <= 0)
		return 0;
	exe[len] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	if ((size_t)snprintf(out, n, "%s/%s", exe, rel) >= n || !is_dir(out))
		return 0;
	if (!need_mo)
		return 1;
	snprintf(mo, sizeof(mo), "%s/vi/LC_MESSAGES/%s.mo", out,
		 HAMLET_TEXTDOMAIN);
	return stat(mo, &st) == 0;
}

/* Where the catalogs are: the build tree's (build/cli/hamlet ->
 * build/locale), then an installation's under any prefix (PREFIX/bin/
 * hamlet -> PREFIX/share/locale, a staging one included), then a copy
 * of the programs with their catalogs beside them (DIR/hamlet,
 * DIR/locale), then the one the build was configured for; each only
 * where it holds hamlet's catalog. */
static const char *catalog_dir(char *buf, size_t n)
{
	if (beside_exe("../locale", 1, buf, n) ||
	    beside_exe("../share/locale", 1, buf, n) ||
	    beside_exe("locale", 1, buf, n))
		return buf;
	return HAMLET_LOCALEDIR;
}

/* How a person's locale writes numbers: where its decimal mark is a
 * comma (vi_VN: "6,3"), thousands go apart with its separator ("65.000");
 * else "65,000" and "6.3", as in English. Numbers meant for programs
 * (JSON, CSV) keep LC_NUMERIC "C" and never use these. */
static char thousands_sep[8] = ",";
static char decimal_mark = '.';

static void numeric_take(void)
{
	const struct lconv *lc = localeconv();

	if (!lc || !lc->decimal_point || strcmp(lc->decimal_point, ",") != 0)
		return;
	decimal_mark = ',';
	snprintf(thousands_sep, sizeof(thousands_sep), "%s",
		 lc->thousands_sep && lc->thousands_sep[0] &&
				 strlen(lc->thousands_sep) < sizeof(thousands_sep)
			 ? lc->thousands_sep
			 : ".");
}

void i18n_init(void)
{
	setlocale(LC_ALL, "");
	numeric_take();
	setlocale(LC_NUMERIC, "C");

	const char *dir = getenv("HAMLET_LOCALEDIR");
	char buf[PATH_MAX];
	if (!dir || !*dir)
		dir = catalog_dir(buf, sizeof(buf));
	bindtextdomain(HAMLET_TEXTDOMAIN, dir);
	bind_textdomain_codeset(HAMLET_TEXTDOMAIN, "UTF-8");
}

int i18n_width(const char *s, size_t n)
{
	int cols = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			cols++;
	return cols;
}

/* n with sep (of sl bytes) between thousands; ',' when a wide sep
 * would not fit out beside 20 digits */
static void count_sep(unsigned long long n, char out[32], const char *sep)
{
	char digits[24];
	int len = snprintf(digits, sizeof(digits), "%llu", n);
	size_t o = 0, sl = strlen(sep);

	if (len > 0 && (size_t)len + (size_t)(len - 1) / 3 * sl >= 32)
		sep = ",", sl = 1;
	for (int i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0) {
			memcpy(out + o, sep, sl);
			o += sl;
		}
		out[o++] = digits[i];
	}
	out[o] = 0;
}

void i18n_count(unsigned long long n, char out[32])
{
	count_sep(n, out, thousands_sep);
}

void i18n_count_as(unsigned long long n, char out[32], int comma_decimal)
{
	count_sep(n, out, comma_decimal ? "." : ",");
}

void i18n_decimal(char *s)
{
	char *dot;
	if (decimal_mark != '.' && (dot = strchr(s, '.')))
		*dot = decimal_mark;
}

static void size_as(unsigned long long n, char out[32], char mark)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double)n;
	size_t u = 0;
	char *dot;

	while (v >= 1000 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1000;
		u++;
	}
	snprintf(out, 32, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
	if ((dot = strchr(out, '.')))
		*dot = mark;
}

void i18n_size(unsigned long long n, char out[32])
{
	size_as(n, out, decimal_mark);
}

void i18n_size_as(unsigned long long n, char out[32], int comma_decimal)
{
	size_as(n, out, comma_decimal ? ',' : '.');
}

const char *i18n_ctx(const char *ctx, const char *s)
{
	char key[256];
	size_t cl = strlen(ctx), sl = strlen(s);
	const char *t;

	/* pgettext's key: the context, EOT, the message */
	if (cl + 1 + sl + 1 > sizeof(key))
		return s;
	memcpy(key, ctx, cl);
	key[cl] = '\004';
	memcpy(key + cl + 1, s, sl + 1);
	t = dgettext(HAMLET_TEXTDOMAIN, key);
	return t == key ? s : t;
}

int i18n_day_first(void)
{
	/* The translator's switch: "dd/mm/yyyy" where the language writes
	 * the day first, else the msgid as it is. */
	static const char *const order = NC_("date order", "yyyy-mm-dd");
	return strcmp(i18n_ctx("date order", order), "dd/mm/yyyy") == 0;
}

size_t i18n_when_as(const struct tm *tm, enum i18n_when what, int day_first,
		    char *out, size_t n)
{
	static const char *const form[2][3] = {
		{ "%Y-%m", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S" },
		{ "%m/%Y", "%d/%m/%Y", "%d/%m/%Y %H:%M:%S" },
	};
	size_t k = n ? strftime(out, n, form[day_first != 0][what], tm) : 0;

	if (!k && n)
		out[0] = 0;
	return k;
}

/* n ASCII digits at s as a number; -1 when one is not a digit */
static int digits(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int i18n_ymd_as(const char *s, size_t n, int day_first, char *out,
		size_t cap)
{
	struct tm tm = { 0 };
	int y, m, d = 1;

	if ((n != 7 && n != 10) || s[4] != '-' || (n == 10 && s[7] != '-'))
		return 0;
	y = digits(s, 4);
	m = digits(s + 5, 2);
	if (n == 10)
		d = digits(s + 8, 2);
	if (y < 0 || m < 1 || m > 12 || d < 1 || d > 31)
		return 0;
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	return i18n_when_as(&tm, n == 10 ? I18N_DATE : I18N_MONTH, day_first,
			    out, cap) > 0;
}
