/*
 * vi_fold: Vietnamese text folded for matching, as people type it
 * without marks ("nong" for "Nông", "d" for "đ"). Vietnamese letters
 * are a closed set (the 134 precomposed letters of Latin-1, Latin
 * Extended-A/B and U+1EA0..U+1EF9, plus the five combining tone marks),
 * so a table suffices; no Unicode library is needed.
 */
#ifndef HAMLET_VI_FOLD_H
#define HAMLET_VI_FOLD_H
#include <stddef.h>

/*
 * Write s (n bytes of UTF-8) into out (cap > 0 bytes, NUL-terminated,
 * cut at cap - 1): ASCII letters in lower case, each Vietnamese letter as
 * its base letter in lower case (đ and Đ as d), combining marks
 * (U+0300..U+036F) dropped, everything else copied as it is. Returns the
 * length written.
 */
size_t vi_fold(const char *s, size_t n, char *out, size_t cap);

/*
 * As vi_fold(), then for a column name: spaces at both ends removed, and
 * each run of spaces, '_', '-', '.' and '/' inside made one space
 * ("Họ_và tên" and "ho va ten" both give "ho va ten"). A no-break space
 * (U+00A0) and the other Unicode space separators are spaces.
 */
size_t vi_fold_name(const char *s, size_t n, char *out, size_t cap);
#endif
