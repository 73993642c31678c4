/*
 * node_feeds_file: HOME/own-feeds as bytes (node_feeds.c keeps the
 * table): its parser, its text for a table, and reading it whole.
 *
 *   # comment lines and empty lines
 *   key HEX          the node's public key, 64 hex digits
 *   SCOPE SEQ        one line per feed, in scope order
 */
#include "node_internal.h"
#include "why.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "SCOPE SEQ": the longest scope, a space, 20 digits */
#define FEEDS_MAX_LINE (ENTRY_MAX_SCOPE + 1 + 20)

static int feed_cmp(const void *a, const void *b)
{
	return strcmp(((const struct node_feed *)a)->scope,
		      ((const struct node_feed *)b)->scope);
}

/* Digits only, no leading zero, 1..UINT64_MAX. */
static int seq_parse(const char *s, uint64_t *ret)
{
	uint64_t v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 20 || s[0] == '0')
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned d;
		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

int node_feeds_parse(const char *buf, size_t len, const uint8_t pk[32],
		     struct node_feed **ret, size_t *ret_n, char *why,
		     size_t whylen)
{
	struct node_feed *v = NULL;
	size_t nv = 0, cap = 0, at = 0, line = 0;
	char l[FEEDS_MAX_LINE + 1];
	int have_key = 0, r;

	if (len > NODE_FEEDS_MAX_BYTES)
		FAULT(HAMLET_ETOOBIG, N_("the file is larger than %d bytes"),
		      NODE_FEEDS_MAX_BYTES);
	if (len && buf[len - 1] != '\n')
		FAULT(HAMLET_EFORMAT,
		      N_("its last line does not end with a newline: the file was cut short"));
	while (at < len) {
		const char *s = buf + at, *nl = memchr(s, '\n', len - at);
		size_t ll = (size_t)(nl - s);
		char *sp;
		uint8_t key[32];

		at += ll + 1;
		line++;
		if (ll == 0 || s[0] == '#')
			continue;
		if (ll > FEEDS_MAX_LINE || memchr(s, 0, ll))
			FAULT(HAMLET_EFORMAT,
			      N_("line %zu is not \"SCOPE SEQ\" (a scope and a seq, one space between, like \"bk/c1 12\")"),
			      line);
		memcpy(l, s, ll);
		l[ll] = 0;
		if (!have_key) {
			if (strncmp(l, "key ", 4) != 0 ||
			    hex_decode(l + 4, key, 32) < 0)
				FAULT(HAMLET_EFORMAT,
				      N_("line %zu: the file's first line (after comments) is \"key\" and the node's public key, 64 hexadecimal digits"),
				      line);
			if (memcmp(key, pk, 32) != 0) {
				char a[65], b[65];
				hex_encode(key, 32, a);
				hex_encode(pk, 32, b);
				FAULT(HAMLET_EKEY,
				      N_("line %zu: the file was written for key %.16s…, not for this node's key %.16s… (node.conf): it is another node's file"),
				      line, a, b);
			}
			have_key = 1;
			continue;
		}
		if (!(sp = strchr(l, ' ')) || strchr(sp + 1, ' '))
			FAULT(HAMLET_EFORMAT,
			      N_("line %zu is not \"SCOPE SEQ\" (a scope and a seq, one space between, like \"bk/c1 12\")"),
			      line);
		*sp = 0;
		if (entry_scope_check(l) < 0)
			FAULT(HAMLET_EFORMAT,
			      N_("line %zu: the scope is not a scope (1-8 parts of a-z, 0-9 and '-', joined by '/')"),
			      line);
		if (nv == NODE_FEEDS_MAX)
			FAULT(HAMLET_ETOOBIG, N_("line %zu: more than %d feeds"),
			      line, NODE_FEEDS_MAX);
		if (nv == cap) {
			size_t nc = cap ? 2 * cap : 16;
			struct node_feed *p = realloc(v, nc * sizeof(*v));
			if (!p)
				FAULT(-ENOMEM, "%s", hamlet_strerror(-ENOMEM));
			v = p;
			cap = nc;
		}
		if (seq_parse(sp + 1, &v[nv].seq) < 0)
			FAULT(HAMLET_EFORMAT,
			      N_("line %zu: the seq is not a number from 1 to 18446744073709551615"),
			      line);
		snprintf(v[nv].scope, sizeof(v[nv].scope), "%s", l);
		v[nv].line = line;
		nv++;
	}
	if (!have_key)
		FAULT(HAMLET_EFORMAT,
		      N_("the file holds no \"key\" line: it is empty or was cut short"));
	if (nv)
		qsort(v, nv, sizeof(*v), feed_cmp);
	for (size_t i = 1; i < nv; i++)
		if (strcmp(v[i - 1].scope, v[i].scope) == 0) {
			size_t a = v[i - 1].line, b = v[i].line;
			FAULT(HAMLET_EFORMAT,
			      N_("line %zu: scope %s is listed on line %zu already"),
			      a > b ? a : b, v[i].scope, a > b ? b : a);
		}
	*ret = v;
	*ret_n = nv;
	v = NULL;
	r = 0;
out:
	free(v);
	return r;
}

char *node__feeds_text(const uint8_t pk[32], const struct node_feed *v,
		       size_t nv, size_t *ret_len)
{
	static const char head[] =
		"# hamlet: the highest seq this node has signed in each of its own\n"
		"# feeds (SCOPE SEQ), kept beside node.key, outside the store: a store\n"
		"# restored or moved aside must not sign those seqs again. hamlet and\n"
		"# hamletd rewrite it whole; read docs/admin-guide.md (\"Own feeds\")\n"
		"# before changing it by hand.\n";
	size_t cap = sizeof(head) + 70 + nv * (FEEDS_MAX_LINE + 1), o;
	char *buf = malloc(cap), hex[65];

	if (!buf)
		return NULL;
	hex_encode(pk, 32, hex);
	o = (size_t)snprintf(buf, cap, "%skey %s\n", head, hex);
	for (size_t i = 0; i < nv; i++)
		if (v[i].seq)
			o += (size_t)snprintf(buf + o, cap - o, "%s %llu\n",
					      v[i].scope,
					      (unsigned long long)v[i].seq);
	*ret_len = o;
	return buf;
}

int node__feeds_create(const char *home, const uint8_t pk[32])
{
	char *path = node__path_join(home, NODE_FEEDS_FILE), *text;
	size_t len;
	int r;

	if (!path || !(text = node__feeds_text(pk, NULL, 0, &len))) {
		free(path);
		return -ENOMEM;
	}
	r = node__write_bytes(path, (const uint8_t *)text, len, 0640);
	free(text);
	free(path);
	return r;
}

int node__feeds_file_read(const char *path, char **ret, size_t *ret_len)
{
	struct stat sb;
	char *buf = NULL;
	size_t got = 0, size;
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		r = -errno;
		goto out;
	}
	if (sb.st_size > NODE_FEEDS_MAX_BYTES) {
		r = HAMLET_ETOOBIG;
		goto out;
	}
	size = (size_t)sb.st_size;
	if (!(buf = malloc(size + 1))) {
		r = -ENOMEM;
		goto out;
	}
	while (got < size) {
		ssize_t k = read(fd, buf + got, size - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			goto out;
		}
		if (k == 0)
			break; /* cut while read: the parser says so */
		got += (size_t)k;
	}
	buf[got] = 0;
	*ret = buf;
	*ret_len = got;
	buf = NULL;
out:
	close(fd);
	free(buf);
	return r;
}
