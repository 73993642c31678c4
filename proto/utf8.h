/*
 * utf8: checking and cutting UTF-8 text (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF). Nothing here allocates.
 */
#ifndef HAMLET_UTF8_H
#define HAMLET_UTF8_H

#include <stddef.h>

/* What utf8_check() found first. */
enum utf8_fault {
	UTF8_OK = 0,
	UTF8_INVALID, /* a byte that is no part of valid UTF-8 */
	UTF8_CONTROL  /* a control character other than tab and newline */
};

/*
 * Whether s[0..n) is text: valid UTF-8 and, unless controls, no control
 * character (U+0000..U+001F but tab and newline, U+007F..U+009F).
 * *ret_at (may be NULL) gets the byte offset of the first fault.
 */
enum utf8_fault utf8_check(const char *s, size_t n, int controls,
			   size_t *ret_at);

/* The length of the longest prefix of s[0..n) of at most max bytes that
 * does not end inside a character. */
size_t utf8_cut(const char *s, size_t n, size_t max);

/* s[0..n), the part of a file read so far (more follows): n less the
 * bytes of a character begun at its end and not ended there, which the
 * next read brings. */
size_t utf8_whole(const char *s, size_t n);

/* s, a NUL-terminated string, made valid UTF-8 in place: each byte that
 * is no part of valid UTF-8 becomes '?'. */
void utf8_scrub(char *s);

/*
 * Why a line of a text file, as read (s[0..n), NUL bytes included; first:
 * the file's first line), shows the file is not UTF-8 text: a UTF-16 byte
 * order mark at its start, a NUL byte (a file saved as UTF-16, or
 * damaged), which a reader of C strings would take for the line's end,
 * or a byte that is no part of UTF-8 (cut: the read stopped at n, not
 * at the line's end, so that a character begun there ends in the next).
 * A sentence marked N_() for the caller to translate and show after
 * "FILE line N: "; NULL when the line is text.
 */
const char *utf8_line_fault(const char *s, size_t n, int first, int cut);

#endif
