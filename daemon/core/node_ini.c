/*
 * node_ini: reading the small INI files of a node and of a network
 * (node.conf, node.key, the network file, the root key file), whole, into
 * guarded memory that is wiped after; and the network file itself.
 */
#include "node_internal.h"
#include "why.h"

#include "error.h"

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
	char bad[128]; /* the first section that is not ours */
	char bad_key[128]; /* else the first key of ours that is unknown */
};

static int ini_cb(void *user, const char *section, const char *name,
		  const char *value)
{
	struct ini_ctx *c = user;
	if (strcmp(section, c->section) != 0) {
		if (!c->bad[0])
			snprintf(c->bad, sizeof(c->bad), "%s", section);
		return 1;
	}
	for (size_t i = 0; c->keys[i]; i++) {
		if (strcmp(c->keys[i], name) == 0) {
			/* a key given twice: the first value may be a secret */
			if (c->vals[i])
				sodium_memzero(c->vals[i], strlen(c->vals[i]));
			free(c->vals[i]);
			c->vals[i] = strdup(value);
			return 1;
		}
	}
	if (!c->bad_key[0])
		snprintf(c->bad_key, sizeof(c->bad_key), "%s", name);
	return 1;
}

#define INI_MAX_FILE 65536 /* a node's INI files are a few hundred bytes */

/*
 * Read a whole small file into guarded memory (sodium_malloc: wiped and
 * freed by ini_file_free), with no stdio buffer in between: the network
 * file holds the network key.
 */
static int ini_file_read(const char *path, char **ret, size_t *ret_len)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, e;

	if (node__crypto_ready() < 0)
		return -ENOMEM;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		e = -errno;
		goto fail;
	}
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
		   const char *const *keys, char **vals, char *why,
		   size_t whylen)
{
	struct ini_ctx c = { section, keys, vals, "", "" };
	char *text = NULL;
	size_t tlen = 0;
	int line, r;

	if ((r = ini_file_read(path, &text, &tlen)) < 0) {
		why_set(why, whylen, N_("cannot open %s: %s"), path,
			 r == -EFBIG ? "larger than an INI file of a node"
				     : strerror(-r));
		return (r == -EACCES || r == -EFBIG) ? r : -ENOENT;
	}
	line = ini_parse_string(text, ini_cb, &c);
	ini_file_free(text, tlen);
	/* inih kept each line in a buffer on its stack: wipe what it used */
	sodium_stackzero(4096);
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
	    strcmp(section, "root") != 0) {
		/* the secret beside the network file, given in its place */
		why_set(why, whylen,
			N_("%s is the network's ROOT KEY, not the file asked for: give the NAME.network file made beside it, and keep the root key secret, on the offline PC"),
			path);
		return HAMLET_ECONFIG;
	}
	if (c.bad[0]) {
		why_set(why, whylen,
			N_("%s: unexpected section [%s]: is it the right file?"),
			path, c.bad);
		return HAMLET_ECONFIG;
	}
	if (c.bad_key[0]) {
		char known[256] = "";
		for (size_t i = 0, o = 0; keys[i] && o < sizeof(known); i++)
			o += (size_t)snprintf(known + o, sizeof(known) - o,
					      "%s%s", i ? ", " : "", keys[i]);
		why_set(why, whylen,
			N_("%s: unknown setting \"%s\" in [%s] (its settings: %s): is it the right file?"),
			path, c.bad_key, section, known);
		return HAMLET_ECONFIG;
	}
	for (size_t i = 0; keys[i]; i++) {
		if (!vals[i]) {
			why_set(why, whylen, N_("%s: missing setting \"%s\""),
				 path, keys[i]);
			return HAMLET_ECONFIG;
		}
	}
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
					    "key", NULL };
	char *vals[4] = { 0 };
	struct network_info ni;
	uint8_t check[32];
	int r;

	memset(&ni, 0, sizeof(ni));
	if ((r = node__ini_read(path, "network", keys, vals, why, whylen)) < 0)
		goto out;
	r = HAMLET_ECONFIG;
	if (node_name_check(vals[0]) < 0) {
		why_set(why, whylen, N_("%s: invalid network name"), path);
		goto out;
	}
	snprintf(ni.name, sizeof(ni.name), "%s", vals[0]);
	if (hex_decode(vals[1], ni.id, 32) < 0 ||
	    hex_decode(vals[2], ni.root_pk, 32) < 0 ||
	    hex_decode(vals[3], ni.key, 32) < 0) {
		why_set(why, whylen,
			 N_("%s: id, root_public_key and key must be 64 hex digits each"),
			 path);
		goto out;
	}
	network_id_compute(ni.root_pk, ni.name, check);
	if (memcmp(check, ni.id, 32) != 0) {
		why_set(why, whylen,
			 N_("%s: the network id does not match its root key and name (file altered?)"),
			 path);
		goto out;
	}
	*ret = ni;
	r = 0;
out:
	sodium_memzero(&ni, sizeof(ni));
	node__ini_free(vals, 4);
	return r;
}
