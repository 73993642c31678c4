#include "utf8.h"

#include "i18n.h"

#include <string.h>

/* The length of the valid UTF-8 character at p[0..n), or 0 when p does
 * not start one; *ret_cp its code point. */
static size_t char_len(const unsigned char *p, size_t n, unsigned *ret_cp)
{
	unsigned c = p[0], cp, min;
	size_t k;

	if (c < 0x80) {
		*ret_cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		k = 2;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		k = 3;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		k = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return k;
}

enum utf8_fault utf8_check(const char *s, size_t n, int controls,
			   size_t *ret_at)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned cp;
		size_t k = char_len(p + i, n - i, &cp);
		if (!k) {
			if (ret_at)
				*ret_at = i;
			return UTF8_INVALID;
		}
		if (!controls && cp != '\t' && cp != '\n' &&
		    (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))) {
			if (ret_at)
				*ret_at = i;
			return UTF8_CONTROL;
		}
		i += k;
	}
	return UTF8_OK;
}

size_t utf8_cut(const char *s, size_t n, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	if (n <= max)
		return n;
	/* back over continuation bytes to the start of the character the
	 * cut falls in: at most 3 */
	i = max;
	while (i > 0 && max - i < 3 && (p[i] & 0xc0) == 0x80)
		i--;
	return (p[i] & 0xc0) == 0x80 ? max : i;
}

size_t utf8_whole(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = n, need;

	/* back over up to 3 continuation bytes to the byte that leads */
	while (i > 0 && n - i < 3 && (p[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0 || p[i - 1] < 0xc0)
		return n; /* ends with a whole character, or is no UTF-8 */
	need = p[i - 1] >= 0xf0 ? 4 : p[i - 1] >= 0xe0 ? 3 : 2;
	return n - (i - 1) < need ? i - 1 : n;
}

void utf8_scrub(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t n = strlen(s), i = 0;

	while (i < n) {
		unsigned cp;
		size_t k = char_len(p + i, n - i, &cp);
		if (!k) {
			p[i++] = '?';
			continue;
		}
		i += k;
	}
}

const char *utf8_line_fault(const char *s, size_t n, int first, int cut)
{
	const unsigned char *u = (const unsigned char *)s;

	if (first && n >= 2 &&
	    ((u[0] == 0xff && u[1] == 0xfe) || (u[0] == 0xfe && u[1] == 0xff)))
		return N_("the file is saved as UTF-16 (\"Unicode\" in Notepad), not as UTF-8 text: save it again as UTF-8");
	if (memchr(s, 0, n))
		return N_("it holds a NUL byte, so the file is not UTF-8 text (saved as UTF-16, \"Unicode\"? or damaged): save it again as UTF-8");
	/* a character cut at the end of what was read is the next read's:
	 * back over its continuation bytes to its lead byte */
	size_t k = n, m = n;
	while (k > 0 && n - k < 3 && (u[k - 1] & 0xc0) == 0x80)
		k--;
	if (cut && k > 0 && u[k - 1] >= 0xc0 &&
	    (size_t)(u[k - 1] >= 0xf0 ? 4 : u[k - 1] >= 0xe0 ? 3 : 2) > n - (k - 1))
		m = k - 1;
	if (utf8_check(s, m, 1, NULL) == UTF8_INVALID)
		return N_("it holds bytes that are not UTF-8 (a letter saved in another encoding, such as Windows-1258?): the file must be UTF-8 text; save it again as UTF-8");
	return NULL;
}
