/*
 * dlog: hamletd's log lines, on standard error with a syslog level prefix
 * ("<4>hamletd: ...") that journald reads. The daemon's parts log through
 * it; the core never logs.
 */
#ifndef HAMLETD_DLOG_H
#define HAMLETD_DLOG_H

#include "i18n.h"

enum dlog_level {
	DLOG_ERR = 3,
	DLOG_WARNING = 4,
	DLOG_NOTICE = 5,
	DLOG_INFO = 6,
	DLOG_DEBUG = 7,
};

/* A line longer is cut; a character cut in two shows as '?'. */
#define DLOG_MAX_LINE 4096

/* Lines above level are dropped (default DLOG_INFO). Control characters
 * in a line (a newline, an escape) become spaces, and bytes that are not
 * UTF-8 '?': whatever text a line quotes, it stays one line. */
void dlog_set_level(int level);

void dlog(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A libuv error code in words, in the operator's language where the C
 * library has it (libuv's own texts are English only). */
const char *dlog_err(int uverr);
/* The same in English, whatever the locale: for what is kept and shown
 * to others (status), translated where it is shown (dlog_tr). */
const char *dlog_err_en(int uverr);
/* Why this process may not make or open file in directory dir, in the
 * operator's language, into out (n bytes): for a permission fault
 * there. The directory not writable by its owner who runs hamletd (its
 * mode), hamletd run as another user than the directory's, and a file
 * of another user's in a directory this one may write in are each
 * mended otherwise. file may be NULL. */
void dlog_dir_denied(const char *dir, const char *file, char *out, size_t n);
/* An English reason (one of ours, marked N_, with its conversions filled
 * in or not, or the C library's words for an errno) in the operator's
 * language; english itself when there is none. Valid until the thread's
 * fourth call after this one. */
const char *dlog_tr(const char *english);

#endif
