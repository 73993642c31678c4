/*
 * vi_fold: Vietnamese diacritics folded by table (see vi_fold.h).
 */
#include "vi_fold.h"

#include <stdint.h>
#include <string.h>

/* U+00C0..U+00FF: the base letter, or 0 to copy the character. */
static const char latin1[65] = "aaaaaaaceeeeiiii"
			       "dnooooo\0ouuuuy\0\0"
			       "aaaaaaaceeeeiiii"
			       "dnooooo\0ouuuuy\0y";

/* U+1EA0..U+1EF9, Latin Extended Additional: Vietnamese letters with a
 * tone mark (Ạ ạ Ả ả Ấ ... Ỹ ỹ), in runs of one base letter. */
static const char ext_add[91] = "aaaaaaaaaaaaaaaaaaaaaaaa"
				"eeeeeeeeeeeeeeee"
				"iiii"
				"oooooooooooooooooooooooo"
				"uuuuuuuuuuuuuu"
				"yyyyyyyy";

/* The code point at s (n > 0 bytes), its length in *len; bytes that are
 * not UTF-8 come back as themselves, one at a time. */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *len)
{
	uint32_t c = s[0];
	size_t k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;

	*len = 1;
	if (k == 1 || k > n)
		return c;
	c &= 0x3f >> (k - 1);
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return s[0];
		c = c << 6 | (s[i] & 0x3f);
	}
	*len = k;
	return c;
}

/* The base letter of a Vietnamese letter c, or 0. */
static char base_letter(uint32_t c)
{
	if (c >= 'A' && c <= 'Z')
		return (char)(c - 'A' + 'a');
	if (c >= 0xc0 && c <= 0xff)
		return latin1[c - 0xc0];
	if (c >= 0x1ea0 && c <= 0x1ef9)
		return ext_add[c - 0x1ea0];
	switch (c) {
	case 0x102: case 0x103: return 'a'; /* Ă ă */
	case 0x110: case 0x111: return 'd'; /* Đ đ */
	case 0x128: case 0x129: return 'i'; /* Ĩ ĩ */
	case 0x168: case 0x169: return 'u'; /* Ũ ũ */
	case 0x1a0: case 0x1a1: return 'o'; /* Ơ ơ */
	case 0x1af: case 0x1b0: return 'u'; /* Ư ư */
	default: return 0;
	}
}

size_t vi_fold(const char *s, size_t n, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, i = 0, len;

	while (i < n) {
		uint32_t c = utf8_next(p + i, n - i, &len);
		char b = base_letter(c);
		if (c >= 0x300 && c <= 0x36f) {
			/* a combining mark: dropped */
		} else if (b || len == 1) {
			if (o + 1 >= cap)
				break;
			out[o++] = b ? b : (char)p[i];
		} else {
			if (o + len >= cap)
				break;
			memcpy(out + o, p + i, len);
			o += len;
		}
		i += len;
	}
	out[o] = 0;
	return o;
}

/* The length of the Unicode space separator (Zs) other than ' ' that s
 * (len bytes of UTF-8) begins with: U+00A0 (the no-break space a
 * spreadsheet or a web page leaves), U+1680, U+2000..U+200A, U+202F,
 * U+205F, U+3000; 0 when it begins with none. */
static size_t other_space(const unsigned char *s, size_t len)
{
	if (len >= 2 && s[0] == 0xc2 && s[1] == 0xa0)
		return 2;
	if (len < 3)
		return 0;
	if ((s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80) ||
	    (s[0] == 0xe2 && s[1] == 0x80 &&
	     ((s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xaf)) ||
	    (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f) ||
	    (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80))
		return 3;
	return 0;
}

size_t vi_fold_name(const char *s, size_t n, char *out, size_t cap)
{
	size_t len = vi_fold(s, n, out, cap), o = 0;
	int gap = 0;

	for (size_t i = 0; i < len; i++) {
		size_t sp = other_space((const unsigned char *)out + i,
					len - i);
		if (sp || strchr(" \t_-./", out[i])) {
			gap = o > 0;
			i += sp ? sp - 1 : 0;
			continue;
		}
		if (gap)
			out[o++] = ' ';
		gap = 0;
		out[o++] = out[i];
	}
	out[o] = 0;
	return o;
}
