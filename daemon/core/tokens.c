#include "tokens.h"
#include "why.h"

#include "error.h"
#include "homefile.h"

#include <errno.h>
#include <pwd.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *token_role_name(int role)
{
	return role == TOKEN_WRITE ? "write" : role == TOKEN_READ ? "read" : "?";
}

int token_role_parse(const char *s)
{
	if (strcmp(s, "read") == 0)
		return TOKEN_READ;
	if (strcmp(s, "write") == 0)
		return TOKEN_WRITE;
	return 0;
}

int tokens_name_check(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > TOKEN_MAX_NAME)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return -1;
	}
	return 0;
}

static void path_of(const char *home, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", home, name);
}

static void token_hash(const char *token, uint8_t out[32])
{
	crypto_generichash(out, 32, (const uint8_t *)token, strlen(token),
			   NULL, 0);
}

static int one_load(json_t *o, size_t i, struct token *t, char *why,
		    size_t wl)
{
	const char *name, *role, *scope, *hash;
	json_int_t created, expires = 0;
	size_t hl;

	memset(t, 0, sizeof(*t));
	if (json_unpack(o, "{s:s, s:s, s:s, s:s, s:I, s?:I}", "name", &name,
			"role", &role, "scope", &scope, "hash", &hash,
			"created", &created, "expires", &expires) != 0) {
		why_set(why, wl,
			 N_("token %zu: expected name, role, scope, hash and created (and expires, a number, when it has an end)"),
			 i + 1);
		return HAMLET_EFORMAT;
	}
	if (tokens_name_check(name) < 0 || !(t->role = token_role_parse(role)) ||
	    (scope[0] && entry_scope_check(scope) < 0) ||
	    sodium_hex2bin(t->hash, 32, hash, strlen(hash), NULL, &hl, NULL) !=
		    0 ||
	    hl != 32 || created < 0 || expires < 0) {
		why_set(why, wl,
			 N_("token %zu (\"%.64s\"): a bad name, role, scope, hash or end"),
			 i + 1, name);
		return HAMLET_EFORMAT;
	}
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(t->scope, sizeof(t->scope), "%s", scope);
	t->created_ms = (uint64_t)created;
	t->expires_ms = (uint64_t)expires;
	return 0;
}

int tokens_load(const char *home, struct tokens *ret, char *why,
		size_t whylen)
{
	char path[4200];
	json_error_t e;
	json_t *j, *o;
	size_t i;
	int r = 0;

	ret->n = 0;
	path_of(home, TOKENS_FILE, path, sizeof(path));
	j = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
	if (!j) {
		if (access(path, F_OK) != 0 && errno == ENOENT)
			return 0;
		if (access(path, R_OK) != 0) {
			int er = errno;
			why_set(why, whylen,
				 N_("cannot read %s: %s: the node's user, who runs hamletd, must read it (one written as root is root's: give it back, chown --reference=%s %s)"),
				 path, strerror(er), home, path);
			return -er;
		}
		why_set(why, whylen, N_("%s: line %d: %s"), path, e.line, e.text);
		return HAMLET_EFORMAT;
	}
	if (!json_is_array(j) || json_array_size(j) > TOKENS_MAX) {
		why_set(why, whylen, N_("%s: expected an array of at most %d tokens"),
			 path, TOKENS_MAX);
		json_decref(j);
		return HAMLET_EFORMAT;
	}
	json_array_foreach(j, i, o)
	{
		char w[200];
		if ((r = one_load(o, i, &ret->v[ret->n], w, sizeof(w))) < 0) {
			why_set(why, whylen, "%s: %s", path, w);
			ret->n = 0;
			break;
		}
		ret->n++;
	}
	json_decref(j);
	return r;
}

static int tokens_save(const char *home, const struct tokens *ts, char *why,
		       size_t whylen)
{
	char path[4200], tmp[4300], hex[65];
	json_t *j = json_array();
	int fd, r = 0;

	for (size_t i = 0; i < ts->n; i++) {
		const struct token *t = &ts->v[i];
		json_t *o;
		sodium_bin2hex(hex, sizeof(hex), t->hash, 32);
		o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "name", t->name,
			      "role", token_role_name(t->role), "scope",
			      t->scope, "hash", hex, "created",
			      (json_int_t)t->created_ms);
		if (o && t->expires_ms)
			json_object_set_new(o, "expires",
					    json_integer((json_int_t)t->expires_ms));
		json_array_append_new(j, o);
	}
	path_of(home, TOKENS_FILE, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	/* made anew, never through a link (homefile.h) */
	errno = 0;
	if (unlink(tmp) == 0 || errno == ENOENT)
		fd = open(tmp,
			  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0640);
	else
		fd = -1;
	homefile_own(fd, path);
	if (fd < 0 || fchmod(fd, 0640) != 0 ||
	    json_dumpfd(j, fd, JSON_INDENT(1)) != 0 || write(fd, "\n", 1) != 1 ||
	    fsync(fd) != 0) {
		r = errno ? -errno : -EIO;
		why_set(why, whylen, N_("cannot write %s: %s"), tmp, strerror(-r));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		r = -errno;
		why_set(why, whylen, N_("cannot replace %s: %s"), path,
			 strerror(-r));
		unlink(tmp);
	}
out:
	json_decref(j);
	return r;
}

/* Run fn on the loaded tokens under HOME/tokens.lock, saving them when fn
 * returns 1. */
static int tokens_edit(const char *home,
		       int (*fn)(struct tokens *ts, void *ctx, char *why,
				 size_t wl),
		       void *ctx, char *why, size_t whylen)
{
	char lp[4200];
	struct tokens *ts = calloc(1, sizeof(*ts));
	int fd, r;

	if (!ts)
		return -ENOMEM;
	path_of(home, "tokens.lock", lp, sizeof(lp));
	fd = homefile_open(lp, O_RDWR, 0640);
	if (fd < 0 || flock(fd, LOCK_EX) != 0) {
		r = -errno;
		struct stat hs;
		struct passwd pw, *pwr = NULL;
		char pwbuf[1024];
		if ((r == -EACCES || r == -EPERM) && stat(home, &hs) == 0 &&
		    getpwuid_r(hs.st_uid, &pw, pwbuf, sizeof(pwbuf), &pwr) == 0 &&
		    pwr)
			why_set(why, whylen,
				 N_("cannot lock %s: %s: the node's user, %s (the owner of %s), makes and revokes tokens: run \"sudo -u %s hamlet ...\" (as root without sudo: \"runuser -u %s -- hamlet ...\")"),
				 lp, strerror(-r), pw.pw_name, home, pw.pw_name,
				 pw.pw_name);
		else if (r == -EACCES || r == -EPERM)
			why_set(why, whylen,
				 N_("cannot lock %s: %s: the node's user makes and revokes tokens (sudo -u OWNER hamlet ..., OWNER being the user that owns %s)"),
				 lp, strerror(-r), home);
		else
			why_set(why, whylen, N_("cannot lock %s: %s"), lp,
				 strerror(-r));
		goto out;
	}
	if ((r = tokens_load(home, ts, why, whylen)) < 0)
		goto out;
	if ((r = fn(ts, ctx, why, whylen)) == 1)
		r = tokens_save(home, ts, why, whylen);
out:
	if (fd >= 0)
		close(fd); /* drops the lock */
	sodium_memzero(ts, sizeof(*ts));
	free(ts);
	return r;
}

struct create_ctx {
	const char *name, *scope;
	int role;
	uint64_t expires_ms;
	char *out;
};

static int create_fn(struct tokens *ts, void *ctx, char *why, size_t wl)
{
	struct create_ctx *c = ctx;
	struct token *t;
	uint8_t rnd[32];

	for (size_t i = 0; i < ts->n; i++)
		if (strcmp(ts->v[i].name, c->name) == 0) {
			why_set(why, wl,
				 N_("a token named \"%s\" exists; revoke it first or choose another name"),
				 c->name);
			return HAMLET_EDUP;
		}
	if (ts->n == TOKENS_MAX) {
		why_set(why, wl,
			 N_("this node holds %d tokens, the most it keeps; revoke one first"),
			 TOKENS_MAX);
		return HAMLET_ETOOBIG;
	}
	t = &ts->v[ts->n++];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", c->name);
	snprintf(t->scope, sizeof(t->scope), "%s", c->scope);
	t->role = c->role;
	t->created_ms = (uint64_t)time(NULL) * 1000;
	t->expires_ms = c->expires_ms;
	randombytes_buf(rnd, sizeof(rnd));
	memcpy(c->out, TOKEN_PREFIX, 4);
	sodium_bin2hex(c->out + 4, 65, rnd, 32);
	sodium_memzero(rnd, sizeof(rnd));
	token_hash(c->out, t->hash);
	return 1;
}

int tokens_create(const char *home, const char *name, int role,
		  const char *scope, uint64_t expires_ms, char *out, char *why,
		  size_t whylen)
{
	struct create_ctx c = { name, scope ? scope : "", role, expires_ms,
				out };

	if (tokens_name_check(name) < 0) {
		why_set(why, whylen,
			 N_("bad token name \"%.64s\": 1-%d of a-z, 0-9, '-', '_' and '.'"),
			 name, TOKEN_MAX_NAME);
		return HAMLET_EFORMAT;
	}
	if (role != TOKEN_READ && role != TOKEN_WRITE) {
		why_set(why, whylen, N_("the role must be read or write"));
		return HAMLET_EFORMAT;
	}
	if (c.scope[0] && entry_scope_check(c.scope) < 0) {
		why_set(why, whylen, N_("bad scope \"%.128s\""), c.scope);
		return HAMLET_ESCOPE;
	}
	if (expires_ms && expires_ms <= (uint64_t)time(NULL) * 1000) {
		why_set(why, whylen, N_("the end given is already past"));
		return HAMLET_EFORMAT;
	}
	return tokens_edit(home, create_fn, &c, why, whylen);
}

static int revoke_fn(struct tokens *ts, void *ctx, char *why, size_t wl)
{
	const char *name = ctx;
	for (size_t i = 0; i < ts->n; i++)
		if (strcmp(ts->v[i].name, name) == 0) {
			ts->v[i] = ts->v[--ts->n];
			return 1;
		}
	why_set(why, wl, N_("no token named \"%.64s\" (hamlet token list shows them)"),
		 name);
	return HAMLET_ENOTFOUND;
}

int tokens_revoke(const char *home, const char *name, char *why,
		  size_t whylen)
{
	return tokens_edit(home, revoke_fn, (void *)name, why, whylen);
}

const struct token *tokens_find(const struct tokens *ts, const char *token)
{
	uint8_t h[32];
	const struct token *found = NULL;

	if (!token || strlen(token) != TOKEN_LEN ||
	    strncmp(token, TOKEN_PREFIX, 4) != 0)
		return NULL;
	token_hash(token, h);
	/* every row compared in constant time; the hashes are not secret
	 * but the walk does not stop early either */
	for (size_t i = 0; i < ts->n; i++)
		if (sodium_memcmp(ts->v[i].hash, h, 32) == 0)
			found = &ts->v[i];
	return found;
}

int token_expired(const struct token *t, uint64_t now_ms)
{
	return t->expires_ms && now_ms >= t->expires_ms;
}

int token_covers(const struct token *t, const char *scope)
{
	return !t->scope[0] || entry_scope_under(scope, t->scope);
}
