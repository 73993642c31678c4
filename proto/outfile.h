/*
 * outfile: whether a file a command is about to write may replace what
 * is at its path. A bundle, a summary or a workbook replaces an earlier
 * one of its kind (the operator refreshing the file on a USB stick), but
 * never a file of another kind: a spreadsheet or a letter given by
 * mistake as the name stays as it is.
 */
#ifndef HAMLET_OUTFILE_H
#define HAMLET_OUTFILE_H

#include <stddef.h>

#define OUTFILE_HEAD 8 /* bytes of a file compared with its kind's */

/*
 * What is at path: 0 nothing (or an empty file); 1 a regular file, its
 * first bytes (up to OUTFILE_HEAD) in head and their count in *ret_n;
 * -EISDIR a directory; -ENODEV anything else (a device, a pipe); or
 * -errno when it cannot be looked at.
 */
int outfile_at(const char *path, unsigned char head[OUTFILE_HEAD],
	       size_t *ret_n);

/* 1 when the last 64 KB of path hold needle (a zip file's directory of
 * names, at its end: "xl/workbook.xml" in a workbook); 0 otherwise. */
int outfile_tail_has(const char *path, const char *needle);

/* 1 when head (n bytes, from outfile_at()) begins with magic (mlen). */
int outfile_is(const unsigned char *head, size_t n, const void *magic,
	       size_t mlen);

#endif
