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

/* <directory of the running program>/../locale, the build tree's catalogs
 * (build/cli/hamlet -> build/locale); 0 when there is none. */
static int build_tree_dir(char *out, size_t n)
{
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0)
		return 0;
	exe[len] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	size_t dl = strlen(exe);
	if (dl + sizeof("/../locale") > n)
		return 0;
	memcpy(out, exe, dl);
	memcpy(out + dl, "/../locale", sizeof("/../locale"));
	return is_dir(out);
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
		dir = build_tree_dir(buf, sizeof(buf)) ? buf : HAMLET_LOCALEDIR;
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
