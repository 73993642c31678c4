/*
 * node_ini: reading the small INI files of a node and of a network
 * (node.conf, node.key, the network file, the root key file), whole, into
 * guarded memory that is wiped after; and the network file itself.
 */
#include "node_internal.h"
#include "utf8.h"
#include "why.h"

#include "error.h"
#include "filekind.h"
#include "infile.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- reading the small INI files --------------------------------------- */

struct ini_ctx {
	const char *section;
	const char *const *keys; /* NULL-ended */
	char **vals;		 /* one per key */
	int *lines;		 /* one per key: the line that gave it */
	/* the text read (ini_read_line()), where, and the line it is at */
	const char *text;
	size_t len, at;
	int line, section_line; /* section_line: of the last [section] */
	/* the first of each kind of fault, and its line */
	const char *not_text; /* utf8_line_fault()'s sentence */
	int not_text_line, long_line;
	/* the first section that is not ours ("" for lines before any
	 * [section], or under an empty []), and a key before any section */
	int bad_set;
	char bad[128], bad_before[128];
	int bad_line;
	/* else the first key of ours that is unknown, or given twice */
	char bad_key[128];
	int bad_key_line, twice_line; /* twice_line: its first line */
};

/*
 * inih's reader over the file's text: one line per call, counted, so
 * that a fault names its line. A line longer than inih takes is cut
 * there and its rest skipped (never read as a line of its own): a fault
 * of its own, named by its line.
 */
static char *ini_read_line(char *str, int num, void *stream)
{
	struct ini_ctx *c = stream;
	const char *p = c->text + c->at, *nl, *why;
	size_t n, max = (size_t)num - 1;

	if (c->at >= c->len)
		return NULL;
	c->line++;
	nl = memchr(p, '\n', c->len - c->at);
	n = nl ? (size_t)(nl - p) + 1 : c->len - c->at;
	c->at += n;
	if (n > 0 && p[strspn(p, " \t")] == '[')
		c->section_line = c->line;
	if (!c->not_text && (why = utf8_line_fault(p, n, c->line == 1, 0))) {
		c->not_text = why;
		c->not_text_line = c->line;
	}
	if (n > max) {
		if (!c->long_line)
			c->long_line = c->line;
		n = max;
	}
	memcpy(str, p, n);
	str[n] = 0;
	return str;
}

static int ini_cb(void *user, const char *section, const char *name,
		  const char *value)
{
	struct ini_ctx *c = user;
	if (strcmp(section, c->section) != 0) {
		if (!c->bad_set) {
			c->bad_set = 1;
			snprintf(c->bad, sizeof(c->bad), "%s", section);
			c->bad_line = c->section_line;
			if (!c->section_line) {
				/* no [section] above it at all */
				snprintf(c->bad_before, sizeof(c->bad_before),
					 "%s", name);
				c->bad_line = c->line;
			}
		}
		return 1;
	}
	for (size_t i = 0; c->keys[i]; i++) {
		if (strcmp(c->keys[i], name) == 0) {
			/* given twice (or continued on an indented line):
			 * which one was meant? */
			if (c->vals[i]) {
				if (!c->bad_key[0]) {
					snprintf(c->bad_key, sizeof(c->bad_key),
						 "%s", name);
					c->bad_key_line = c->line;
					c->twice_line = c->lines[i];
				}
				return 1;
			}
			c->vals[i] = strdup(value);
			c->lines[i] = c->line;
			return 1;
		}
	}
	if (!c->bad_key[0]) {
		snprintf(c->bad_key, sizeof(c->bad_key), "%s", name);
		c->bad_key_line = c->line;
	}
	return 1;
}

#define INI_MAX_FILE 65536 /* a node's INI files are a few hundred bytes */

/* --- another of hamlet's files, given for the one asked for ------------ */

/* What each of our INI files is, by its section: what a person calls it,
 * and what to give when another file was given in its place. */
static const struct {
	const char *section, *is, *asked, *give;
} ini_kinds[] = {
	{ "network", N_("a network file"), N_("the network file"),
	  N_("give the NAME.network file that hamlet network create made") },
	{ "root", N_("the network's root key"), N_("the root key"),
	  N_("give NAME.root.key, the root key file that hamlet network create made beside NAME.network (kept on the offline PC)") },
	{ "key", N_("a node's secret key (node.key)"),
	  N_("the node's secret key"),
	  N_("put this node's own node.key back from a copy") },
	{ "node", N_("a node's settings (node.conf)"), N_("the node's settings"),
	  N_("put this node's own node.conf back from a copy") },
};

static size_t ini_kind(const char *section)
{
	size_t i = 0;
	while (i < sizeof(ini_kinds) / sizeof(*ini_kinds) &&
	       strcmp(ini_kinds[i].section, section) != 0)
		i++;
	return i; /* past the end: not one of ours */
}

/* "PATH is a certificate, not the network file asked for: give ...",
 * the file's kind is (translated here), section the one asked for. */
static int wrong_file(const char *path, const char *section, const char *is,
		      char *why, size_t whylen)
{
	size_t k = ini_kind(section);
	if (k == sizeof(ini_kinds) / sizeof(*ini_kinds))
		why_set(why, whylen,
			N_("%s is %s, not a hamlet [%s] file: is it the right file?"),
			path, why_translate(is), section);
	else
		why_set(why, whylen,
			N_("%s is %s, not %s asked for: %s"), path,
			why_translate(is), why_translate(ini_kinds[k].asked),
			why_translate(ini_kinds[k].give));
	return HAMLET_ECONFIG;
}

/*
 * Read a whole small file into guarded memory (sodium_malloc: wiped and
 * freed by ini_file_free), with no stdio buffer in between: the network
 * file holds the network key. *ret_got: the bytes read.
 */
static int ini_file_read(const char *path, char **ret, size_t *ret_len,
			 size_t *ret_got)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, e;

	if (node__crypto_ready() < 0)
		return -ENOMEM;
	/* a directory reads as nothing, /dev/zero as no end, a pipe
	 * waits for a writer: -EISDIR, -ENODEV */
	if ((fd = infile_open(path, &st)) < 0)
		return fd;
	if (st.st_size > INI_MAX_FILE) {
		e = -EFBIG;
		goto fail;
	}
	if (!(buf = sodium_malloc((size_t)st.st_size + 1))) {
		e = -ENOMEM;
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break; /* shorter than fstat said: take what is there */
		got += (size_t)k;
	}
	buf[got] = 0;
	close(fd);
	*ret = buf;
	*ret_len = (size_t)st.st_size + 1;
	*ret_got = got;
	return 0;
fail:
	close(fd);
	return e;
}

static void ini_file_free(char *buf, size_t len)
{
	if (!buf)
		return;
	sodium_memzero(buf, len);
	sodium_free(buf);
}

int node__ini_read(const char *path, const char *section,
		   const char *const *keys, char **vals, int *ret_lines,
		   char *why, size_t whylen)
{
	int lines[8] = { 0 };
	struct ini_ctx c = { .section = section, .keys = keys, .vals = vals,
			     .lines = lines };
	char *text = NULL, w[300];
	size_t tlen = 0, nkeys = 0;
	int line, r;

	while (keys[nkeys])
		nkeys++;
	if (nkeys > sizeof(lines) / sizeof(*lines))
		return -EINVAL;
	if ((r = ini_file_read(path, &text, &tlen, &c.len)) == -EISDIR ||
	    r == -ENODEV) {
		why_set(why, whylen, r == -EISDIR
			? N_("%s is a directory, not a file: put the file itself there (from a copy)")
			: N_("%s is not a regular file (a device, a pipe, a socket, or a link to one): put the file itself there (from a copy)"),
			path);
		return HAMLET_ECONFIG;
	}
	if (r < 0) {
		why_set(why, whylen, N_("cannot open %s: %s"), path,
			 r == -EFBIG ? "larger than an INI file of a node"
				     : strerror(-r));
		return (r == -EACCES || r == -EFBIG) ? r : -ENOENT;
	}
	c.text = text;
	{
		/* a certificate, bundle or summary taken off the stick by
		 * mistake: named, not read as text (a NUL in it would be
		 * told as UTF-16) */
		struct filekind fk;
		if (filekind_of(text, c.len, &fk) &&
		    (fk.id == FILEKIND_CERT || fk.id == FILEKIND_BUNDLE ||
		     fk.id == FILEKIND_SUMMARY)) {
			ini_file_free(text, tlen);
			return wrong_file(path, section, fk.is, why, whylen);
		}
	}
	if (!memchr(text, '\n', c.len) && memchr(text, '\r', c.len) &&
	    (char *)memchr(text, '\r', c.len) + 1 < text + c.len &&
	    !memchr(text, 0, c.len) &&
	    utf8_check(text, c.len, 1, NULL) == UTF8_OK) {
		/* lines ended by CR alone read as one line of nothing (text
		 * only: random bytes hold a CR too, and are told as what
		 * they are below) */
		ini_file_free(text, tlen);
		why_set(why, whylen,
			N_("%s uses CR-only line ends (an old Mac format): save it with LF or CRLF line ends"),
			path);
		return HAMLET_ECONFIG;
	}
	line = ini_parse_stream(ini_read_line, &c, ini_cb, &c);
	ini_file_free(text, tlen);
	/* inih kept each line in a buffer on its stack: wipe what it used */
	sodium_stackzero(4096);
	if (c.not_text) {
		/* saved as UTF-16, or damaged: nothing else in it means much */
		why_set(why, whylen, N_("%s line %d: %s"), path,
			c.not_text_line, why_translate(c.not_text));
		return HAMLET_ECONFIG;
	}
	if (c.long_line && (line == 0 || c.long_line <= line)) {
		/* cut there: not a setting as written */
		why_set(why, whylen,
			N_("%s line %d is longer than %d bytes (a file edited by hand, or damaged: restore it from a copy)"),
			path, c.long_line, INI_MAX_LINE - 2);
		return HAMLET_ECONFIG;
	}
	if (line == 1) {
		/* not even its first line: another kind of file */
		why_set(why, whylen,
			 N_("%s is not a hamlet [%s] file (its first line is not a setting): is it the right file?"),
			 path, section);
		return HAMLET_ECONFIG;
	}
	if (line != 0) {
		why_set(why, whylen,
			 N_("%s line %d: not a valid setting (a file edited by hand, or damaged: restore it from a copy)"),
			 path, line);
		return HAMLET_ECONFIG;
	}
	if (c.bad[0] && strcmp(c.bad, "root") == 0 &&
	    strcmp(section, "network") == 0) {
		/* the secret beside the network file, given in its place */
		why_set(why, whylen,
			N_("%s is the network's ROOT KEY, not the file asked for: give the NAME.network file made beside it, and keep the root key secret, on the offline PC"),
			path);
		return HAMLET_ECONFIG;
	}
	if (c.bad[0] && ini_kind(c.bad) < sizeof(ini_kinds) / sizeof(*ini_kinds)) {
		/* another of our files, with nothing of the one asked for */
		int ours = 0;
		for (size_t i = 0; keys[i]; i++)
			ours |= vals[i] != NULL;
		if (!ours)
			return wrong_file(path, section,
					  ini_kinds[ini_kind(c.bad)].is, why,
					  whylen);
	}
	if (c.bad_set && c.bad_before[0]) {
		why_set(why, whylen,
			N_("%s line %d: \"%s\" stands before any [section]: put it under [%s], or is it the right file?"),
			path, c.bad_line, c.bad_before, section);
		return HAMLET_ECONFIG;
	}
	if (c.bad_set) {
		why_set(why, whylen,
			N_("%s line %d: unexpected section [%s]: is it the right file?"),
			path, c.bad_line, c.bad);
		return HAMLET_ECONFIG;
	}
	if (c.bad_key[0] && c.twice_line) {
		/* hamletd.conf's sentence for the same fault */
		why_set(w, sizeof(w),
			N_("%s in [%s] is given twice (first on line %d; an indented line continues the key above it): keep one"),
			c.bad_key, section, c.twice_line);
		why_set(why, whylen, N_("%s line %d: %s"), path,
			c.bad_key_line, w);
		return HAMLET_ECONFIG;
	}
	if (c.bad_key[0]) {
		char known[256] = "";
		for (size_t i = 0, o = 0; keys[i] && o < sizeof(known); i++)
			o += (size_t)snprintf(known + o, sizeof(known) - o,
					      "%s%s", i ? ", " : "", keys[i]);
		why_set(why, whylen,
			N_("%s line %d: unknown setting \"%s\" in [%s] (its settings: %s): is it the right file?"),
			path, c.bad_key_line, c.bad_key, section, known);
		return HAMLET_ECONFIG;
	}
	for (size_t i = 0; keys[i]; i++) {
		if (!vals[i]) {
			why_set(why, whylen, N_("%s: missing setting \"%s\""),
				 path, keys[i]);
			return HAMLET_ECONFIG;
		}
	}
	if (ret_lines)
		memcpy(ret_lines, lines, nkeys * sizeof(*lines));
	return 0;
}

void node__ini_free(char **vals, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (vals[i]) {
			sodium_memzero(vals[i], strlen(vals[i]));
			free(vals[i]);
		}
	}
}

int network_load(const char *path, struct network_info *ret, char *why,
		 size_t whylen)
{
	static const char *const keys[] = { "name", "id", "root_public_key",
					    "key", "key_check", NULL };
	char *vals[5] = { 0 };
	struct network_info ni;
	uint8_t check[32], kc[NETWORK_KEY_CHECK_LEN];
	int r;

	memset(&ni, 0, sizeof(ni));
	if ((r = node__ini_read(path, "network", keys, vals, NULL, why,
				whylen)) < 0)
		goto out;
	r = HAMLET_ECONFIG;
	if (node_name_check(vals[0]) < 0) {
		why_set(why, whylen, N_("%s: invalid network name"), path);
		goto out;
	}
	snprintf(ni.name, sizeof(ni.name), "%s", vals[0]);
	for (size_t i = 1; i < 4; i++) {
		uint8_t *to = i == 1 ? ni.id : i == 2 ? ni.root_pk : ni.key;
		if (hex_decode(vals[i], to, 32) < 0) {
			why_set(why, whylen,
				N_("%s: \"%s\" must be 64 hex digits (32 bytes), and it is not: copy the network file again from the one the network's administrator gave"),
				path, keys[i]);
			goto out;
		}
	}
	if (hex_decode(vals[4], kc, sizeof(kc)) < 0) {
		why_set(why, whylen,
			N_("%s: \"%s\" must be %d hex digits (%d bytes), and it is not: copy the network file again from the one the network's administrator gave"),
			path, keys[4], 2 * NETWORK_KEY_CHECK_LEN,
			NETWORK_KEY_CHECK_LEN);
		goto out;
	}
	/* SPEC 4: the id covers root_public_key and name; key_check covers
	 * the key, which would otherwise show only as failed handshakes */
	network_id_compute(ni.root_pk, ni.name, check);
	if (memcmp(check, ni.id, 32) != 0) {
		why_set(why, whylen,
			 N_("%s: the network id does not match its root_public_key and name (file altered?): copy the network file again from the one the network's administrator gave"),
			 path);
		goto out;
	}
	network_key_check(ni.id, ni.key, check);
	if (sodium_memcmp(check, kc, sizeof(kc)) != 0) {
		why_set(why, whylen,
			 N_("%s: the network key does not match its key_check (file altered, or the key mistyped?): copy the network file again from the one the network's administrator gave"),
			 path);
		goto out;
	}
	*ret = ni;
	r = 0;
out:
	sodium_memzero(&ni, sizeof(ni));
	sodium_memzero(check, sizeof(check));
	node__ini_free(vals, 5);
	return r;
}
