#include "access.h"
#include "why.h"
#include "homefile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define HASH_LEN 32
/* Attempts at opening and locking the current file while others rotate
 * it under us. */
#define OPEN_TRIES 8

int access_logged(const char *collection)
{
	return collection && (strcmp(collection, "health_profile") == 0 ||
			      strcmp(collection, "health_event") == 0);
}

static int fail(char *why, size_t wl, int err, const char *what,
		const char *path)
{
	why_set(why, wl, N_("cannot %s the access log %s: %s"), why_translate(what), path,
		 strerror(-err));
	return err;
}

static int list_fail(char *why, size_t wl, int err, const char *home)
{
	why_set(why, wl, N_("cannot list the access log's directory %s/%s: %s"),
		 home, ACCESS_DIR, strerror(-err));
	return err;
}

/* HOME/access/access.log, or HOME/access/access.log.N when n > 0. */
static int log_path(const char *home, unsigned n, char *out, size_t len)
{
	int k = n ? snprintf(out, len, "%s/%s/%s.%u", home, ACCESS_DIR,
			     ACCESS_FILE, n)
		  : snprintf(out, len, "%s/%s/%s", home, ACCESS_DIR,
			     ACCESS_FILE);
	return k < 0 || (size_t)k >= len ? -ENAMETOOLONG : 0;
}

int access_dir_create(const char *home, char *why, size_t wl)
{
	char dir[4096];
	int k = snprintf(dir, sizeof(dir), "%s/%s", home, ACCESS_DIR);

	if (k < 0 || (size_t)k >= sizeof(dir))
		return fail(why, wl, -ENAMETOOLONG, N_("name"), home);
	/* No set-group-ID bit in mkdir's mode: Linux ignores it there (the
	 * fchmod() below sets it), and systemd's RestrictSUIDSGID=, which
	 * the units set, refuses such a mkdir with EPERM before it looks
	 * whether the directory exists: every append, made each time
	 * through here, would fail. */
	if (mkdir(dir, 0770) != 0) {
		if (errno == EEXIST)
			return 0;
		return fail(why, wl, -errno, N_("create the directory of"), dir);
	}
	{
		/* whatever the umask: the node's group appends and
		 * rotates; through the directory made, never a link put in
		 * its place since */
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					    O_CLOEXEC);
		int r = dfd < 0 || fchmod(dfd, 02770) != 0 ? -errno : 0;
		homefile_own(dfd, dir);
		if (dfd >= 0)
			close(dfd);
		if (r < 0) {
			/* not left without its set-group-ID bit (the
			 * group's files would be their authors' groups,
			 * which the others cannot append to), nor passed
			 * over as there at the next append */
			(void)rmdir(dir);
			return fail(why, wl, r, N_("set the mode of"), dir);
		}
	}
	return 0;
}

/* --- the rotated files ------------------------------------------------- */

static int cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x < y ? -1 : x > y;
}

/* The numbers N of home's access.log.N, ascending; *ret malloc()ed. */
static int rotated_list(const char *home, unsigned **ret, size_t *ret_n)
{
	size_t plen = strlen(ACCESS_FILE), n = 0;
	unsigned *v = NULL;
	struct dirent *de;
	char path[4096];
	DIR *d;

	*ret = NULL;
	*ret_n = 0;
	snprintf(path, sizeof(path), "%s/%s", home, ACCESS_DIR);
	if (!(d = opendir(path)))
		return -errno;
	while ((de = readdir(d))) {
		const char *s = de->d_name;
		char *end;
		unsigned long x;
		if (strncmp(s, ACCESS_FILE, plen) != 0 || s[plen] != '.' ||
		    s[plen + 1] < '1' || s[plen + 1] > '9')
			continue;
		errno = 0;
		x = strtoul(s + plen + 1, &end, 10);
		if (*end || errno || x > 0xfffffffful)
			continue;
		if (n == ACCESS_MAX_FILES) {
			closedir(d);
			free(v);
			return -EMFILE;
		}
		if (n % 64 == 0) {
			unsigned *nv = realloc(v, (n + 64) * sizeof(*v));
			if (!nv) {
				closedir(d);
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = (unsigned)x;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_unsigned);
	*ret = v;
	*ret_n = n;
	return 0;
}

/* --- the last line ----------------------------------------------------- */

/*
 * The hash of fd's last line (the bytes after the last newline but one,
 * or after the last newline when the file does not end in one: a line
 * cut short). *ret_torn: the file does not end in a newline. A file of
 * size 0 has no last line: *ret_empty.
 */
static int last_line_hash(int fd, uint8_t out[HASH_LEN], int *ret_torn,
			  int *ret_empty)
{
	crypto_generichash_state h;
	uint8_t buf[4096];
	struct stat st;
	off_t end, start, pos;
	ssize_t k;

	*ret_torn = *ret_empty = 0;
	if (fstat(fd, &st) != 0)
		return -errno;
	if (st.st_size == 0) {
		*ret_empty = 1;
		return 0;
	}
	if (pread(fd, buf, 1, st.st_size - 1) != 1)
		return -EIO;
	end = st.st_size;
	if (buf[0] == '\n')
		end--;
	else
		*ret_torn = 1;
	/* back to the newline before the last line, a block at a time */
	start = 0;
	for (pos = end; pos > 0 && !start;) {
		off_t from = pos > (off_t)sizeof(buf) ? pos - (off_t)sizeof(buf)
						      : 0;
		if ((k = pread(fd, buf, (size_t)(pos - from), from)) !=
		    pos - from)
			return k < 0 ? -errno : -EIO;
		for (off_t i = pos - from; i > 0; i--)
			if (buf[i - 1] == '\n') {
				start = from + i;
				break;
			}
		pos = from;
	}
	crypto_generichash_init(&h, NULL, 0, HASH_LEN);
	for (pos = start; pos < end; pos += k) {
		size_t want = end - pos > (off_t)sizeof(buf) ? sizeof(buf)
							      : (size_t)(end - pos);
		if ((k = pread(fd, buf, want, pos)) <= 0)
			return k < 0 ? -errno : -EIO;
		crypto_generichash_update(&h, buf, (size_t)k);
	}
	crypto_generichash_final(&h, out, HASH_LEN);
	return 0;
}

/* The hash the next line of an empty current file chains to: the last
 * line of the newest rotated file, or zeros when there is none. */
static int rotated_tail(const char *home, uint8_t out[HASH_LEN], char *why,
			size_t wl)
{
	unsigned *v;
	size_t n;
	char path[4096];
	int fd, torn, empty, r;

	memset(out, 0, HASH_LEN);
	if ((r = rotated_list(home, &v, &n)) < 0)
		return list_fail(why, wl, r, home);
	if (n == 0)
		return 0;
	r = log_path(home, v[n - 1], path, sizeof(path));
	free(v);
	if (r < 0)
		return fail(why, wl, r, N_("name"), home);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return fail(why, wl, -errno, N_("read"), path);
	r = last_line_hash(fd, out, &torn, &empty);
	close(fd);
	return r < 0 ? fail(why, wl, r, N_("read"), path) : 0;
}

/* --- writing ----------------------------------------------------------- */

/* s as a JSON string: cut to ACCESS_FIELD_MAX bytes (at a character
 * boundary, "..." added), and with '?' for each byte of s that is not
 * UTF-8. New reference, or NULL (out of memory). */
static json_t *field(const char *s)
{
	char buf[ACCESS_FIELD_MAX + 4];
	size_t n = strlen(s);
	json_t *j;

	if (n > ACCESS_FIELD_MAX) {
		n = ACCESS_FIELD_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		memcpy(buf, s, n);
		memcpy(buf + n, "...", 3);
		n += 3;
	} else {
		memcpy(buf, s, n);
	}
	if ((j = json_stringn(buf, n)))
		return j;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] >= 0x80)
			buf[i] = '?';
	return json_stringn(buf, n);
}

static json_t *field_or_null(const char *s)
{
	return s ? field(s) : json_null();
}

/* The line (no newline) for one access; malloc()ed, or NULL. */
static char *line_build(const struct access_who *who,
			const struct access_what *what, uint64_t time_ms,
			const uint8_t prev[HASH_LEN])
{
	char hex[2 * HASH_LEN + 1];
	json_t *o = json_object();
	char *s;

	sodium_bin2hex(hex, sizeof(hex), prev, HASH_LEN);
	json_object_set_new(o, "v", json_integer(ACCESS_VERSION));
	json_object_set_new(o, "time_ms", json_integer((json_int_t)time_ms));
	json_object_set_new(o, "who_kind", field(who->kind));
	json_object_set_new(o, "who", field(who->name));
	json_object_set_new(o, "uid", who->uid < 0 ? json_null()
						   : json_integer(who->uid));
	json_object_set_new(o, "command", field(what->command));
	json_object_set_new(o, "collection", field(what->collection));
	json_object_set_new(o, "record", field_or_null(what->record));
	json_object_set_new(o, "query", field_or_null(what->query));
	json_object_set_new(o, "count",
			    json_integer((json_int_t)what->count));
	json_object_set_new(o, "prev", json_string(hex));
	/* a field json_object_set_new() was refused leaves a key out */
	s = json_object_size(o) == 11
		    ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)
		    : NULL;
	json_decref(o);
	return s;
}

/* Open the current file and lock it; when another process renamed it
 * away meanwhile, open the new one. */
static int open_locked(const char *path, int *ret_fd, struct stat *ret_st,
		       char *why, size_t wl)
{
	for (int i = 0; i < OPEN_TRIES; i++) {
		struct stat now;
		int fd = homefile_open(path, O_RDWR | O_APPEND, 0660);
		if (fd < 0)
			return fail(why, wl, -errno, N_("open"), path);
		if (flock(fd, LOCK_EX) != 0 || fstat(fd, ret_st) != 0) {
			int r = -errno;
			close(fd);
			return fail(why, wl, r, N_("lock"), path);
		}
		/* created here: for the group whatever the umask (only the
		 * file's owner may, and needs to) */
		if (ret_st->st_size == 0 &&
		    (ret_st->st_uid == geteuid() || geteuid() == 0) &&
		    (ret_st->st_mode & 0777) != 0660)
			(void)fchmod(fd, 0660);
		if (stat(path, &now) == 0 && now.st_ino == ret_st->st_ino &&
		    now.st_dev == ret_st->st_dev) {
			*ret_fd = fd;
			return 0;
		}
		close(fd);
	}
	why_set(why, wl,
		 N_("cannot lock the access log %s: it was renamed %d times while waiting"),
		 path, OPEN_TRIES);
	return -EAGAIN;
}

/* Rename the current file (locked as fd) to the next access.log.N. */
static int rotate(const char *home, const char *path, int fd, char *why,
		  size_t wl)
{
	unsigned *v;
	size_t n;
	char to[4096];
	int r;

	if ((r = rotated_list(home, &v, &n)) < 0)
		return list_fail(why, wl, r, home);
	r = log_path(home, n ? v[n - 1] + 1 : 1, to, sizeof(to));
	free(v);
	if (r < 0)
		return fail(why, wl, r, N_("name"), home);
	/* lines an access_group wrote may not be synced yet: they are
	 * before the file leaves the name its sync opens */
	if (fdatasync(fd) != 0)
		return fail(why, wl, -errno, N_("write"), path);
	if (rename(path, to) != 0)
		return fail(why, wl, -errno, N_("rotate"), path);
	return 0;
}

/* access_append(), and without sync the line is written but not yet
 * synced (access_group_append() syncs). */
static int append_line(const char *home, const struct access_who *who,
		       const struct access_what *what, uint64_t time_ms,
		       uint64_t max_bytes, int sync, char *why, size_t wl)
{
	char path[4096], *line = NULL, *buf = NULL;
	uint8_t prev[HASH_LEN];
	struct stat st;
	int fd = -1, torn = 0, empty, r;
	size_t len = 0;

	if (!max_bytes)
		max_bytes = ACCESS_MAX_BYTES;
	if (sodium_init() < 0)
		return fail(why, wl, -EIO, N_("hash"), home);
	if ((r = log_path(home, 0, path, sizeof(path))) < 0)
		return fail(why, wl, r, N_("name"), home);
	if ((r = access_dir_create(home, why, wl)) < 0)
		return r;
	for (int i = 0; i < OPEN_TRIES; i++) {
		if ((r = open_locked(path, &fd, &st, why, wl)) < 0)
			return r;
		if ((r = last_line_hash(fd, prev, &torn, &empty)) < 0) {
			fail(why, wl, r, N_("read"), path);
			goto out;
		}
		if (empty && (r = rotated_tail(home, prev, why, wl)) < 0)
			goto out;
		free(line);
		if (!(line = line_build(who, what, time_ms, prev))) {
			r = fail(why, wl, -ENOMEM, N_("write"), path);
			goto out;
		}
		len = strlen(line) + 1 + (size_t)torn;
		if (empty || (uint64_t)st.st_size + len <= max_bytes)
			break;
		/* full: a new file, which we (or another) begin after */
		if ((r = rotate(home, path, fd, why, wl)) < 0)
			goto out;
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		why_set(why, wl, N_("cannot write the access log %s: it was rotated %d times while waiting"),
			 path, OPEN_TRIES);
		return -EAGAIN;
	}
	if (len > ACCESS_LINE_MAX + 2 || !(buf = malloc(len))) {
		r = fail(why, wl, -ENOMEM, N_("write"), path);
		goto out;
	}
	/* a line cut short by a crash is ended first, so that ours stands
	 * alone; it stays in the chain (ours hashes it) and is reported */
	if (torn)
		buf[0] = '\n';
	memcpy(buf + torn, line, len - 1 - (size_t)torn);
	buf[len - 1] = '\n';
	ssize_t k = write(fd, buf, len);
	if (k != (ssize_t)len) {
		r = k < 0 ? -errno : -ENOSPC;
		/* leave no piece of this line behind */
		if (k > 0 && ftruncate(fd, st.st_size) != 0)
			(void)0;
		fail(why, wl, r, N_("write"), path);
		goto out;
	}
	if (sync && fdatasync(fd) != 0) {
		r = fail(why, wl, -errno, N_("write"), path);
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(line);
	free(buf);
	return r;
}

int access_append(const char *home, const struct access_who *who,
		  const struct access_what *what, uint64_t time_ms,
		  uint64_t max_bytes, char *why, size_t wl)
{
	return append_line(home, who, what, time_ms, max_bytes, 1, why, wl);
}

/* --- group commit -------------------------------------------------------- */

struct access_group {
	char *home;
	uint64_t max_bytes;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t written; /* lines written, numbered from 1 */
	uint64_t synced;  /* lines up to this one are synced */
	int syncing;	  /* a thread is syncing (the others wait) */
	int failed;	  /* a sync failed: every later append fails */
	char fail_why[300];
};

int access_group_new(const char *home, uint64_t max_bytes,
		     struct access_group **ret)
{
	struct access_group *g = calloc(1, sizeof(*g));
	if (!g || !(g->home = strdup(home))) {
		free(g);
		return -ENOMEM;
	}
	g->max_bytes = max_bytes;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	*ret = g;
	return 0;
}

void access_group_free(struct access_group *g)
{
	if (!g)
		return;
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv);
	free(g->home);
	free(g);
}

/* fdatasync the current file. A file renamed away since was synced when
 * it was (rotate()); none there yet: nothing to sync. */
static int sync_current(const char *home, char *why, size_t wl)
{
	char path[4096];
	int fd, r;

	if ((r = log_path(home, 0, path, sizeof(path))) < 0)
		return fail(why, wl, r, "name", home);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : fail(why, wl, -errno, "open", path);
	r = fdatasync(fd) == 0 ? 0 : fail(why, wl, -errno, "write", path);
	close(fd);
	return r;
}

int access_group_append(struct access_group *g, const struct access_who *who,
			const struct access_what *what, uint64_t time_ms,
			char *why, size_t wl)
{
	uint64_t mine;
	int r;

	pthread_mutex_lock(&g->mu);
	r = g->failed;
	if (r < 0)
		snprintf(why, wl, "%s", g->fail_why);
	pthread_mutex_unlock(&g->mu);
	if (r < 0)
		return r;
	if ((r = append_line(g->home, who, what, time_ms, g->max_bytes, 0, why,
			     wl)) < 0)
		return r;
	pthread_mutex_lock(&g->mu);
	mine = ++g->written;
	while (g->synced < mine && !g->failed) {
		if (g->syncing) {
			pthread_cond_wait(&g->cv, &g->mu);
			continue;
		}
		/* lead a sync of every line written so far */
		uint64_t upto = g->written;
		char w[300];
		g->syncing = 1;
		pthread_mutex_unlock(&g->mu);
		r = sync_current(g->home, w, sizeof(w));
		pthread_mutex_lock(&g->mu);
		g->syncing = 0;
		if (r < 0) {
			/* after a failed fdatasync the kernel may have
			 * dropped the lines: none can be trusted synced */
			g->failed = r;
			snprintf(g->fail_why, sizeof(g->fail_why),
				 "%s (restart hamletd once the disk is fixed)",
				 w);
		} else {
			g->synced = upto;
		}
		pthread_cond_broadcast(&g->cv);
	}
	r = g->synced >= mine ? 0 : g->failed;
	if (r < 0)
		snprintf(why, wl, "%s", g->fail_why);
	pthread_mutex_unlock(&g->mu);
	return r;
}

/* --- reading ----------------------------------------------------------- */

struct reader {
	access_entry_cb cb;
	void *ctx;
	uint64_t since;
	struct access_check *c;
	uint8_t expect[HASH_LEN];
	int started;
	int stopped; /* the callback stopped the reading */
	/* the latest time of the lines above since the last step back
	 * counted (0 before the first) */
	uint64_t above;
};

static const char *opt_str(json_t *o, const char *k, int *ok)
{
	json_t *v = json_object_get(o, k);
	if (json_is_string(v))
		return json_string_value(v);
	if (!json_is_null(v))
		*ok = 0;
	return NULL;
}

static const char *req_str(json_t *o, const char *k, int *ok)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_string(v))
		*ok = 0;
	return json_string_value(v);
}

static uint64_t req_uint(json_t *o, const char *k, int *ok)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		*ok = 0;
		return 0;
	}
	return (uint64_t)json_integer_value(v);
}

/* The first problem, in English (as --json gives it; fmt is marked N_()
 * so that a program shows it translated, with why_retranslate()). */
static void problem(struct access_check *c, const char *fmt,
		    const char *file, uint64_t line)
{
	if (c->problem[0])
		return;
	snprintf(c->problem, sizeof(c->problem), fmt, file,
		 (unsigned long long)line);
}

/* One line of file: its bytes (len of them, when not too long) and
 * hash. */
static int reader_line(struct reader *rd, const char *file, uint64_t lineno,
		       const char *buf, size_t len, int too_long,
		       const uint8_t hash[HASH_LEN])
{
	struct access_check *c = rd->c;
	struct access_entry e;
	uint8_t prev[HASH_LEN];
	json_t *o = NULL, *uid;
	const char *prev_hex;
	int ok = 1, r = 0;

	c->lines++;
	memset(&e, 0, sizeof(e));
	if (!too_long)
		o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o) ||
	    json_integer_value(json_object_get(o, "v")) != ACCESS_VERSION)
		ok = 0;
	e.file = file;
	e.line = lineno;
	if (ok) {
		e.time_ms = req_uint(o, "time_ms", &ok);
		e.who_kind = req_str(o, "who_kind", &ok);
		e.who = req_str(o, "who", &ok);
		uid = json_object_get(o, "uid");
		e.uid = json_is_integer(uid) ? json_integer_value(uid) : -1;
		if (!json_is_integer(uid) && !json_is_null(uid))
			ok = 0;
		e.command = req_str(o, "command", &ok);
		e.collection = req_str(o, "collection", &ok);
		e.record = opt_str(o, "record", &ok);
		e.query = opt_str(o, "query", &ok);
		e.count = req_uint(o, "count", &ok);
		prev_hex = req_str(o, "prev", &ok);
		if (ok && (strlen(prev_hex) != 2 * HASH_LEN ||
			   sodium_hex2bin(prev, HASH_LEN, prev_hex,
					  2 * HASH_LEN, NULL, NULL, NULL) != 0))
			ok = 0;
	}
	if (!ok) {
		c->damaged++;
		problem(c, N_("%s line %llu is not an access-log entry (cut short by a crash, or edited)"),
			file, lineno);
	} else if (!rd->started) {
		if (!sodium_is_zero(prev, HASH_LEN))
			c->continues = 1;
	} else if (memcmp(prev, rd->expect, HASH_LEN) != 0) {
		c->breaks++;
		problem(c, N_("%s line %llu does not follow the line before it: a line was removed, changed or inserted there"),
			file, lineno);
	}
	rd->started = 1;
	memcpy(rd->expect, hash, HASH_LEN);
	/* against the latest line above since the last step back: one
	 * dated wrongly ahead (a clock set forward, then corrected)
	 * names the step back after it once, not every right line that
	 * follows, and small steps back add up */
	if (ok && e.time_ms + ACCESS_BACK_MS < rd->above) {
		if (c->backwards++ == 0)
			why_set(c->back_first, sizeof(c->back_first),
				N_("%s line %llu is dated %llu minutes before the line above it"),
				file, (unsigned long long)lineno,
				(unsigned long long)((rd->above - e.time_ms) /
						     60000));
		rd->above = e.time_ms;
	} else if (ok && e.time_ms > rd->above) {
		rd->above = e.time_ms;
	}
	if (ok && e.time_ms >= rd->since) {
		c->shown++;
		r = rd->cb ? rd->cb(rd->ctx, &e) : 0;
		rd->stopped = r < 0;
	}
	json_decref(o);
	return r;
}

/* Every line of one file. */
static int reader_file(struct reader *rd, const char *path, const char *file)
{
	crypto_generichash_state h;
	char buf[ACCESS_LINE_MAX];
	uint8_t hash[HASH_LEN];
	size_t len = 0;
	uint64_t lineno = 0;
	int ch, too_long = 0, r = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	crypto_generichash_init(&h, NULL, 0, HASH_LEN);
	for (;;) {
		ch = getc_unlocked(f);
		if (ch != '\n' && ch != EOF) {
			if (len == sizeof(buf)) {
				crypto_generichash_update(&h, (uint8_t *)buf,
							  len);
				len = 0;
				too_long = 1;
			}
			buf[len++] = (char)ch;
			continue;
		}
		if (ch == EOF && len == 0 && !too_long)
			break;
		crypto_generichash_update(&h, (uint8_t *)buf, len);
		crypto_generichash_final(&h, hash, HASH_LEN);
		if ((r = reader_line(rd, file, ++lineno, buf, len, too_long,
				     hash)) < 0)
			break;
		len = 0;
		too_long = 0;
		crypto_generichash_init(&h, NULL, 0, HASH_LEN);
		if (ch == EOF)
			break;
	}
	if (r == 0 && ferror(f))
		r = -EIO;
	fclose(f);
	return r;
}

int access_read(const char *home, uint64_t since_ms, access_entry_cb cb,
		void *ctx, struct access_check *ret, char *why, size_t wl)
{
	struct reader rd;
	unsigned *v = NULL;
	size_t n = 0;
	char path[4096];
	int r;

	memset(ret, 0, sizeof(*ret));
	memset(&rd, 0, sizeof(rd));
	rd.cb = cb;
	rd.ctx = ctx;
	rd.since = since_ms;
	rd.c = ret;
	if (sodium_init() < 0)
		return fail(why, wl, -EIO, N_("hash"), home);
	if ((r = rotated_list(home, &v, &n)) == -ENOENT)
		return 0; /* no directory: nothing logged yet */
	if (r < 0)
		return list_fail(why, wl, r, home);
	for (size_t i = 0; i <= n; i++) {
		unsigned num = i < n ? v[i] : 0;
		if ((r = log_path(home, num, path, sizeof(path))) < 0) {
			fail(why, wl, r, N_("name"), home);
			goto out;
		}
		r = reader_file(&rd, path, strrchr(path, '/') + 1);
		if (r == -ENOENT && i == n) {
			r = 0; /* no current file: nothing read since */
			break;
		}
		if (r < 0) {
			if (!rd.stopped)
				fail(why, wl, r, N_("read"), path);
			goto out;
		}
		ret->files++;
	}
	if (rd.started)
		sodium_bin2hex(ret->head, sizeof(ret->head), rd.expect,
			       HASH_LEN);
	r = 0;
out:
	free(v);
	return r;
}
