/*
 * node_feeds: the highest seq this node has signed in each of its own
 * feeds, kept in HOME/own-feeds beside node.key, outside the store. A
 * store restored from a backup, or moved aside to be filled again from
 * the peers, holds less of the node's own feeds than its peers do;
 * writing then would sign seqs the peers hold already, a fork of its own
 * feed (docs/decisions.md, "A restored node's own feeds"). The writer
 * asks this table through log_author.floors and refuses such a write
 * until the store has the entries back.
 *
 * The file is written whole (a temporary file, fsync, rename); its
 * format and parser are in node_feeds_file.c.
 *
 * One mutex guards the table: hamletd's writer thread reads it while its
 * loop thread raises it after a commit or lowers it (forget-lost).
 * Between processes (hamlet commands writing at once with no daemon, or
 * one still writing as hamletd starts), HOME/own-feeds.lock, held while
 * the file is read, merged and written: one process's temporary file is
 * never taken, half written, for another's, nor a lower seq written over
 * a higher one.
 *
 * A process open to write keeps the file's bytes as it last read or
 * wrote them, and compares the file with them before each write and
 * before it writes the file again: a file changed meanwhile (by hand,
 * or put back from a backup while hamletd runs) is never written over
 * unseen. One that no longer reads is treated as at start (every write
 * refused, the file left alone); one that reads is merged, the higher
 * seq of each feed kept (docs/decisions.md, "A restored node's own
 * feeds").
 */
#include "node_internal.h"
#include "why.h"

#include "error.h"
#include "heads.h"
#include "homefile.h"
#include "scopemap.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define FEEDS_WHY 1024 /* an English sentence kept for later */

struct node_feeds {
	pthread_mutex_t mu;
	struct node *n; /* its key, home and store */
	char *path;
	int readonly;
	int xfd; /* HOME/own-feeds.lock, open to write; -1 when not */
	struct node_feed *v; /* sorted by scope */
	size_t nv, cap;
	/* English (why_retranslate() shows it): why the file cannot be used,
	 * and every write is refused; "" when it reads */
	char err[FEEDS_WHY];
	/* what a write refused for err returns: HAMLET_ECONFIG (the file
	 * does not read, exit 4), or the system's error reading it */
	int err_r;
	/* English: why the last write of the file failed; "" when it did
	 * not. The table is right; the file lags it until the next write */
	char warn[FEEDS_WHY];
	int unsaved;
	/* the file's bytes as this process last read or wrote them (NULL:
	 * missing, or not read yet) */
	char *disk;
	size_t disk_len;
	struct log_floors floors;
};

/* f->mu, then the lock between processes, when f writes the file (best
 * effort: a lock file that cannot be made leaves the mutex alone). */
static void feeds_lock(struct node_feeds *f)
{
	pthread_mutex_lock(&f->mu);
	while (f->xfd >= 0 && flock(f->xfd, LOCK_EX) < 0 && errno == EINTR)
		;
}

static void feeds_unlock(struct node_feeds *f)
{
	if (f->xfd >= 0)
		flock(f->xfd, LOCK_UN);
	pthread_mutex_unlock(&f->mu);
}

/* Write table v to the file; why (English) says why not. */
static int feeds_save(struct node_feeds *f, const struct node_feed *v,
		      size_t nv, char *why, size_t whylen)
{
	size_t len;
	char *text = node__feeds_text(f->n->pk, v, nv, &len);
	int r;

	if (!text)
		return -ENOMEM;
	r = node__write_bytes(f->path, (const uint8_t *)text, len, 0640);
	if (r < 0) {
		free(text);
		why_set(why, whylen,
			N_("cannot write %s: %s; the node still knows what it signed while it runs, but a store lost before the file is written again would not"),
			f->path, strerror(-r));
		return r;
	}
	free(f->disk);
	f->disk = text;
	f->disk_len = len;
	return 0;
}

/* --- the table ------------------------------------------------------------ */

/* The index of scope in f's table, or where it would go (*ret_found 0). */
static size_t feeds_find(const struct node_feed *v, size_t nv,
			 const char *scope, int *ret_found)
{
	size_t lo = 0, hi = nv;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v[mid].scope, scope);
		if (c == 0) {
			*ret_found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*ret_found = 0;
	return lo;
}

/* Raise scope's recorded seq to seq: 1 when it changed, 0 when not,
 * HAMLET_ETOOBIG when a new feed does not fit. */
static int feeds_raise(struct node_feeds *f, const char *scope, uint64_t seq)
{
	int found;
	size_t i = feeds_find(f->v, f->nv, scope, &found);

	if (found) {
		if (f->v[i].seq >= seq)
			return 0;
		f->v[i].seq = seq;
		return 1;
	}
	if (seq == 0)
		return 0;
	if (f->nv == NODE_FEEDS_MAX)
		return HAMLET_ETOOBIG;
	if (f->nv == f->cap) {
		size_t nc = f->cap ? 2 * f->cap : 16;
		struct node_feed *p = realloc(f->v, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		f->v = p;
		f->cap = nc;
	}
	memmove(&f->v[i + 1], &f->v[i], (f->nv - i) * sizeof(*f->v));
	memset(&f->v[i], 0, sizeof(f->v[i]));
	snprintf(f->v[i].scope, sizeof(f->v[i].scope), "%s", scope);
	f->v[i].seq = seq;
	f->nv++;
	return 1;
}

struct merge {
	struct node_feeds *f;
	struct store_txn *t;
	int changed, full;
};

static int merge_one(void *ctx, const uint8_t key[32])
{
	struct merge *m = ctx;
	struct log_feed lf;
	int r = log_feed_get(m->t, key, &lf);

	if (r == HAMLET_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	r = feeds_raise(m->f, lf.scope, lf.seq);
	if (r == HAMLET_ETOOBIG) {
		m->full = 1;
		return 0;
	}
	if (r > 0)
		m->changed = 1;
	return r < 0 ? r : 0;
}

/* Raise the table to the heads of the node's own feeds in its store:
 * what the store holds was signed (a file from an older backup, or
 * entries a bundle brought back). */
static int feeds_merge_store(struct node_feeds *f, int *ret_changed)
{
	struct merge m = { .f = f };
	int r;

	if ((r = store_txn_begin(f->n->st, 1, &m.t)) < 0)
		return r;
	r = heads_author_feeds(m.t, f->n->pk, merge_one, &m);
	store_txn_abort(m.t);
	if (m.full)
		why_set(f->warn, sizeof(f->warn),
			N_("this node writes in more than %d feeds: %s records only the first"),
			NODE_FEEDS_MAX, f->path);
	*ret_changed = m.changed;
	return r;
}

/* The file's bytes into *ret_buf (NULL when it is missing) and its
 * table into *ret: 0; or 1 with f->err (English: call between
 * why_plain_begin() and why_plain_end()) saying why it cannot be used;
 * <0 when out of memory. */
static int feeds_read(struct node_feeds *f, char **ret_buf, size_t *ret_len,
		      struct node_feed **ret, size_t *ret_n)
{
	char *buf = NULL, why[512];
	size_t len = 0;
	int r = node__feeds_file_read(f->path, &buf, &len);

	*ret_buf = NULL;
	*ret_len = *ret_n = 0;
	*ret = NULL;
	if (r == -ENOENT)
		return 0;
	if (r == -ENOMEM)
		return r;
	if (r == HAMLET_ETOOBIG) {
		why_set(why, sizeof(why), N_("the file is larger than %d bytes"),
			NODE_FEEDS_MAX_BYTES);
		goto damaged;
	}
	if (r < 0) {
		why_set(f->err, sizeof(f->err),
			N_("cannot read %s (%s), so this node does not know which seqs it signed before and writes nothing: make the file readable by the node's user"),
			f->path, strerror(-r));
		f->err_r = r;
		return 1;
	}
	if (node_feeds_parse(buf, len, f->n->pk, ret, ret_n, why,
			     sizeof(why)) < 0)
		goto damaged;
	*ret_buf = buf;
	*ret_len = len;
	return 0;
damaged:
	free(buf);
	f->err_r = HAMLET_ECONFIG;
	why_set(f->err, sizeof(f->err),
		N_("%s does not read (%s), so this node does not know which seqs it signed before and writes nothing. Mend that line (after \"key\", each line is a scope and the highest seq this node signed in it) or put the file back from a backup. If the store holds everything this node ever signed, moving the file aside is enough: the node writes it again from the store"),
		f->path, why);
	return 1;
}

/* Read the file into the table (f->err says why not), then, when the
 * node may write, raise it to the store's own feeds and write it when
 * that changed it or it was missing. A table held before (the file
 * damaged while the node was open, mended since) counts too: what this
 * process knew it signed. Called with f->mu held. */
static int feeds_load(struct node_feeds *f)
{
	struct node_feed *v = NULL, *old = NULL;
	size_t nv = 0, len = 0, nold = 0;
	char *buf = NULL;
	int r, changed = 0, merged = 0;

	why_plain_begin(); /* kept in English: why_retranslate() shows it */
	f->err[0] = 0;
	f->err_r = HAMLET_ECONFIG;
	if ((r = feeds_read(f, &buf, &len, &v, &nv)) != 0) {
		r = r < 0 ? r : 0; /* f->err says why; the table stays */
		goto out;
	}
	old = f->v;
	nold = f->nv;
	f->v = v;
	f->nv = f->cap = nv;
	v = NULL;
	free(f->disk);
	f->disk = buf;
	f->disk_len = len;
	for (size_t i = 0; i < nold; i++) {
		r = feeds_raise(f, old[i].scope, old[i].seq);
		if (r < 0 && r != HAMLET_ETOOBIG)
			goto out;
		changed |= r > 0;
	}
	r = 0;
	if (f->readonly)
		goto out;
	f->warn[0] = 0;
	if ((r = feeds_merge_store(f, &merged)) < 0) {
		why_set(f->err, sizeof(f->err),
			N_("cannot read this node's own feeds in its store (%s): it writes nothing until it can"),
			why_translate(hamlet_strerror(r)));
		r = 0;
		goto out;
	}
	if (!buf || changed || merged || f->unsaved)
		f->unsaved = feeds_save(f, f->v, f->nv, f->warn,
					sizeof(f->warn)) < 0;
out:
	why_plain_end();
	free(old);
	free(v);
	return r;
}

/* s (English) in the installed translator's language, into out. */
static void show(const char *s, char *out, size_t n)
{
	if (why_retranslate(s, out, n) == s)
		snprintf(out, n, "%s", s);
}

/* The first feed of table a (na) that b (nb) lists lower, or not at
 * all, with both seqs; the number of them. */
static size_t feeds_above(const struct node_feed *a, size_t na,
			  const struct node_feed *b, size_t nb,
			  const char **ret_scope, uint64_t *ret_a,
			  uint64_t *ret_b)
{
	size_t k = 0;

	for (size_t i = 0; i < na; i++) {
		int found;
		size_t j = feeds_find(b, nb, a[i].scope, &found);
		uint64_t other = found ? b[j].seq : 0;
		if (other >= a[i].seq)
			continue;
		if (k++ == 0) {
			*ret_scope = a[i].scope;
			*ret_a = a[i].seq;
			*ret_b = other;
		}
	}
	return k;
}

/*
 * Before a write, and before the file is written again: the file as it
 * is now against its bytes as this process last read or wrote them.
 * Unchanged: 0. Changed and no longer read: f->err set as at start
 * (every write refused, the file left as it is), 1 and note says so.
 * Changed and read (an administrator put a copy back, or edited it):
 * the higher seq of each feed is kept, so the node never signs a seq it
 * signed before and takes a higher seq it is told of; the file is
 * written again when it listed less than the table, and 2 with note
 * saying what was kept. A missing file is written again from the table
 * (moving it aside is a way to mend it). Called with f->mu held, f->err
 * empty, the node open to write.
 */
static int feeds_check(struct node_feeds *f, char *note, size_t notelen)
{
	struct node_feed *v = NULL;
	size_t nv = 0, len = 0, up, down;
	const char *scope = NULL;
	uint64_t a = 0, b = 0;
	char *buf = NULL;
	int r;

	why_plain_begin();
	r = feeds_read(f, &buf, &len, &v, &nv);
	why_plain_end();
	if (r < 0)
		return r;
	if (r == 1) {
		show(f->err, note, notelen);
		return 1;
	}
	if (buf && f->disk && len == f->disk_len &&
	    memcmp(buf, f->disk, len) == 0) {
		r = 0;
		goto out;
	}
	/* what the file lists less of than the table, then more of; a
	 * missing file (moved aside) is written again, with no more said */
	down = buf ? feeds_above(f->v, f->nv, v, nv, &scope, &a, &b) : 0;
	if (down)
		why_set(note, notelen,
			N_("%s was changed since this node last wrote it (a copy put back from a backup?): it lists seq %llu for feed %s, where this node signed up to seq %llu. The node keeps the higher seq of each feed and wrote the file again, so that it never signs a seq twice; to give up seqs that no node holds, use \"hamlet own-feeds forget-lost\""),
			f->path, (unsigned long long)b, scope,
			(unsigned long long)a);
	up = buf ? feeds_above(v, nv, f->v, f->nv, &scope, &a, &b) : 0;
	if (up && !down)
		why_set(note, notelen,
			N_("%s was changed since this node last wrote it: it lists seq %llu for feed %s, where this node knew of seq %llu. The node takes the higher seq of each feed and signs nothing at or below it (\"hamlet own-feeds\" lists them)"),
			f->path, (unsigned long long)a, scope,
			(unsigned long long)b);
	for (size_t i = 0; i < nv; i++)
		if ((r = feeds_raise(f, v[i].scope, v[i].seq)) < 0 &&
		    r != HAMLET_ETOOBIG)
			goto out;
	free(f->disk);
	f->disk = buf; /* the file as read: what the table holds when !down */
	f->disk_len = len;
	buf = NULL;
	r = up || down ? 2 : 0;
	if (f->disk && !down)
		goto out;
	why_plain_begin();
	f->unsaved = feeds_save(f, f->v, f->nv, f->warn, sizeof(f->warn)) < 0;
	why_plain_end();
out:
	free(buf);
	free(v);
	return r;
}

/* log_floors.get: the recorded seq of the node's feed in scope. */
static int floors_get(void *ctx, const char *scope, uint64_t *ret_seq,
		      char *why, size_t whylen)
{
	struct node_feeds *f = ctx;
	int found, r = 0;
	size_t i;

	pthread_mutex_lock(&f->mu);
	if (f->err[0]) {
		show(f->err, why, whylen);
		r = f->err_r < 0 ? f->err_r : HAMLET_ECONFIG;
	} else {
		i = feeds_find(f->v, f->nv, scope, &found);
		*ret_seq = found ? f->v[i].seq : 0;
	}
	pthread_mutex_unlock(&f->mu);
	return r;
}

static int floors_behind(void *ctx, struct store_txn *t, char *scope,
			 uint64_t *ret_signed, uint64_t *ret_stored);

/* --- the node module's side ---------------------------------------------- */

int node__feeds_open(struct node *n, int readonly)
{
	struct node_feeds *f = calloc(1, sizeof(*f));
	int r;

	if (!f || !(f->path = node__path_join(n->home, NODE_FEEDS_FILE))) {
		free(f);
		return -ENOMEM;
	}
	pthread_mutex_init(&f->mu, NULL);
	f->n = n;
	f->readonly = readonly;
	f->floors.get = floors_get;
	f->floors.behind = floors_behind;
	f->floors.ctx = f;
	f->xfd = -1;
	n->feeds = f;
	if (!readonly) {
		size_t pl = strlen(f->path);
		char *lp = malloc(pl + sizeof(".lock"));
		if (lp) {
			memcpy(lp, f->path, pl);
			memcpy(lp + pl, ".lock", sizeof(".lock"));
			f->xfd = homefile_open(lp, O_RDWR | O_CLOEXEC, 0640);
			free(lp);
		}
	}
	feeds_lock(f);
	r = feeds_load(f);
	feeds_unlock(f);
	return r;
}

void node__feeds_close(struct node_feeds *f)
{
	if (!f)
		return;
	pthread_mutex_destroy(&f->mu);
	if (f->xfd >= 0)
		close(f->xfd);
	free(f->v);
	free(f->disk);
	free(f->path);
	free(f);
}

const struct log_floors *node__feeds_floors(const struct node_feeds *f)
{
	return f ? &f->floors : NULL;
}

/* --- public ---------------------------------------------------------------- */

int node_feeds_problem(struct node *n, char *buf, size_t len)
{
	struct node_feeds *f = n->feeds;
	int r = 0;

	if (!f)
		return 0;
	pthread_mutex_lock(&f->mu);
	if (f->err[0]) {
		show(f->err, buf, len);
		r = 1;
	} else if (f->warn[0]) {
		show(f->warn, buf, len);
		r = 2;
	}
	pthread_mutex_unlock(&f->mu);
	return r;
}

int node_feeds_refresh(struct node *n, char *why, size_t whylen)
{
	struct node_feeds *f = n->feeds;
	int r = 0;

	if (!f)
		return 0;
	feeds_lock(f);
	if (f->err[0])
		feeds_load(f);
	else if (!f->readonly)
		r = feeds_check(f, why, whylen);
	feeds_unlock(f);
	return r < 0 ? 0 : r; /* out of memory: the write says so */
}

int node_feeds_advance(struct node *n, const struct log_advances *adv,
		       char *why, size_t whylen)
{
	struct node_feeds *f = n->feeds;
	int changed = 0, r = 0, was = 0, noted;

	if (!f || f->readonly || !adv)
		return 0;
	feeds_lock(f);
	if (f->err[0])
		goto out; /* not over a file that does not read */
	/* nor over one changed since it was last written */
	if ((noted = feeds_check(f, why, whylen)) < 0) {
		r = noted;
		why_set(why, whylen, "%s", why_translate(hamlet_strerror(r)));
		goto out;
	}
	if (noted == 1) {
		r = f->err_r < 0 ? f->err_r : HAMLET_ECONFIG;
		goto out;
	}
	for (size_t i = 0; i < adv->n; i++) {
		const struct log_advance *a = &adv->v[i];
		uint8_t key[32];
		log_feed_key(n->pk, a->scope, key);
		if (memcmp(key, a->key, 32) != 0)
			continue; /* another author's feed */
		r = feeds_raise(f, a->scope, a->seq);
		if (r == HAMLET_ETOOBIG) {
			why_plain_begin();
			why_set(f->warn, sizeof(f->warn),
				N_("this node writes in more than %d feeds: %s records only the first"),
				NODE_FEEDS_MAX, f->path);
			why_plain_end();
			show(f->warn, why, whylen);
			goto out;
		}
		if (r < 0) {
			why_set(why, whylen, "%s", why_translate(hamlet_strerror(r)));
			goto out;
		}
		changed |= r;
	}
	r = noted;
	if (!changed && !f->unsaved)
		goto out;
	was = f->warn[0] != 0;
	why_plain_begin();
	r = feeds_save(f, f->v, f->nv, f->warn, sizeof(f->warn));
	why_plain_end();
	f->unsaved = r < 0;
	if (r == 0) {
		f->warn[0] = 0;
		r = noted;
	} else if (!was) {
		show(f->warn, why, whylen); /* said once, until it works */
	} else {
		r = noted;
	}
out:
	feeds_unlock(f);
	return r;
}

int node_feeds_unsaved(struct node *n)
{
	struct node_feeds *f = n->feeds;
	int r;

	if (!f || f->readonly)
		return 0;
	/* asked from hamletd's loop: never waiting out a writer that syncs
	 * the file (it is asked again at the next tick) */
	if (pthread_mutex_trylock(&f->mu) != 0)
		return 0;
	r = f->unsaved && !f->err[0];
	pthread_mutex_unlock(&f->mu);
	return r;
}

int node_feeds_retry(struct node *n, char *why, size_t whylen)
{
	struct node_feeds *f = n->feeds;
	int r = 0, noted;

	if (!f || f->readonly)
		return 0;
	feeds_lock(f);
	if (f->err[0] || !f->unsaved)
		goto out;
	/* never over a file changed since it was last written: one that
	 * reads is merged (and written when it listed less) */
	if ((noted = feeds_check(f, why, whylen)) < 0)
		goto out; /* out of memory: the next try */
	if (noted == 1) {
		r = f->err_r < 0 ? f->err_r : HAMLET_ECONFIG;
		goto out;
	}
	if (f->unsaved) {
		why_plain_begin();
		r = feeds_save(f, f->v, f->nv, f->warn, sizeof(f->warn));
		why_plain_end();
		f->unsaved = r < 0;
	}
	if (f->unsaved) {
		show(f->warn, why, whylen);
		if (r >= 0)
			r = -EIO;
		goto out;
	}
	f->warn[0] = 0;
	if (noted == 2) {
		r = 2; /* why says what was merged */
		goto out;
	}
	why_set(why, whylen,
		N_("wrote %s again: it records every seq this node signed"),
		f->path);
	r = 1;
out:
	feeds_unlock(f);
	return r;
}

int node__feeds_copy(struct node_feeds *f, struct node_feed **ret_table,
		     size_t *ret_n, char **ret_disk, size_t *ret_len,
		     int *ret_readonly)
{
	struct node_feed *v = NULL;
	char *d = NULL;
	int r = 1;

	pthread_mutex_lock(&f->mu);
	*ret_readonly = f->readonly;
	if (f->err[0])
		goto out; /* node_feeds_problem() says why */
	r = -ENOMEM;
	if ((f->nv && !(v = malloc(f->nv * sizeof(*v)))) ||
	    (f->disk && !(d = malloc(f->disk_len + 1))))
		goto out;
	if (f->nv)
		memcpy(v, f->v, f->nv * sizeof(*v));
	if (f->disk) {
		memcpy(d, f->disk, f->disk_len);
		d[f->disk_len] = 0;
	}
	*ret_table = v;
	*ret_n = f->nv;
	*ret_disk = d;
	*ret_len = f->disk ? f->disk_len : 0;
	v = NULL;
	d = NULL;
	r = 0;
out:
	pthread_mutex_unlock(&f->mu);
	free(v);
	free(d);
	return r;
}

/* Of the table (every feed, or scope's alone), those the store holds
 * less of (every one when all): into ret[0..max), their number in
 * *ret_n. */
/* Which feeds feeds_scan() reports. */
enum scan { SCAN_BEHIND, SCAN_ALL, SCAN_GONE, SCAN_BEHIND_ANY };

static int feeds_scan(struct node_feeds *f, struct store_txn *t,
		      const char *scope, enum scan all,
		      struct node_feed_lag *ret, size_t max, size_t *ret_n)
{
	const struct node *n = f->n;
	struct cert grant;
	/* a copy: the writer may replace the node's meanwhile */
	int has_grant = node_grant_copy(n, &grant);
	size_t k = 0;
	int r;

	for (size_t i = 0; i < f->nv; i++) {
		struct log_feed lf;
		uint8_t key[32];
		uint64_t head = 0;
		int gone;
		if (scope && strcmp(scope, f->v[i].scope) != 0)
			continue;
		log_feed_key(n->pk, f->v[i].scope, key);
		r = log_feed_get(t, key, &lf);
		if (r < 0 && r != HAMLET_ENOTFOUND)
			return r;
		if (r == 0)
			head = lf.seq;
		if (head >= f->v[i].seq && all != SCAN_ALL)
			continue;
		gone = !scopemap_keeps(n->smap, has_grant ? &grant : NULL,
				       n->scope, f->v[i].scope);
		if ((all == SCAN_BEHIND && gone) || (all == SCAN_GONE && !gone))
			continue;
		if (k < max) {
			memset(&ret[k], 0, sizeof(ret[k]));
			snprintf(ret[k].scope, sizeof(ret[k].scope), "%s",
				 f->v[i].scope);
			ret[k].signed_seq = f->v[i].seq;
			ret[k].stored = head;
			ret[k].gone = gone;
		}
		k++;
	}
	*ret_n = k;
	return 0;
}

/* log_floors.behind: the first feed the node keeps that holds less than
 * it signed, within the writer's transaction t (taken before the
 * mutex, as feeds_report() takes them). */
static int floors_behind(void *ctx, struct store_txn *t, char *scope,
			 uint64_t *ret_signed, uint64_t *ret_stored)
{
	struct node_feeds *f = ctx;
	struct node_feed_lag lag;
	size_t n = 0;
	int r = 0;

	pthread_mutex_lock(&f->mu);
	if (!f->err[0])
		r = feeds_scan(f, t, NULL, SCAN_BEHIND, &lag, 1, &n);
	pthread_mutex_unlock(&f->mu);
	if (r < 0 || n == 0)
		return r < 0 ? r : 0;
	memcpy(scope, lag.scope, sizeof(lag.scope));
	*ret_signed = lag.signed_seq;
	*ret_stored = lag.stored;
	return 1;
}

/* The recorded feeds feeds_scan() picks by all. */
static int feeds_report(struct node *n, enum scan all,
			struct node_feed_lag *ret, size_t max, size_t *ret_n)
{
	struct node_feeds *f = n->feeds;
	struct store_txn *t;
	int r;

	*ret_n = 0;
	if (!f)
		return 0;
	/* the store's transaction before the table's mutex, in the order
	 * the writer takes them (a commit asks log_floors within its
	 * transaction) */
	if ((r = store_txn_begin(n->st, 1, &t)) < 0)
		return r;
	pthread_mutex_lock(&f->mu);
	r = f->err[0] ? 0 : feeds_scan(f, t, NULL, all, ret, max, ret_n);
	pthread_mutex_unlock(&f->mu);
	store_txn_abort(t);
	return r;
}

int node_feeds_behind(struct node *n, struct node_feed_lag *ret, size_t max,
		      size_t *ret_n)
{
	return feeds_report(n, SCAN_BEHIND, ret, max, ret_n);
}

int node_feeds_gone(struct node *n, struct node_feed_lag *ret, size_t max,
		    size_t *ret_n)
{
	return feeds_report(n, SCAN_GONE, ret, max, ret_n);
}

int node_feeds_list(struct node *n, struct node_feed_lag *ret, size_t max,
		    size_t *ret_n)
{
	return feeds_report(n, SCAN_ALL, ret, max, ret_n);
}

int node_feeds_forget(struct node *n, const char *scope,
		      struct node_feed_lag *ret, size_t max, size_t *ret_n,
		      char *why, size_t whylen)
{
	struct node_feeds *f = n->feeds;
	struct node_feed_lag *lag = NULL;
	struct store_txn *t = NULL;
	struct node_feed *v = NULL;
	size_t nlag = 0, nv = 0;
	int r;

	*ret_n = 0;
	if (!f || f->readonly) {
		why_set(why, whylen,
			N_("this process opened the node read-only: it cannot change %s"),
			NODE_FEEDS_FILE);
		return -EROFS;
	}
	feeds_lock(f);
	/* a file changed since it was last written is read first: one
	 * that no longer reads refuses this as every write (what a copy
	 * put back raised is merged, and lowered below like the rest) */
	if (!f->err[0] && (r = feeds_check(f, why, whylen)) < 0)
		goto out;
	if (f->err[0]) {
		show(f->err, why, whylen);
		r = f->err_r < 0 ? f->err_r : HAMLET_ECONFIG;
		goto out;
	}
	/* the store read under the table's lock: no raise of the table
	 * comes between the read and the lowering (grow_lock prefers
	 * readers, store_internal.h, so this order cannot deadlock with
	 * the writer, which asks the table within its transaction) */
	if ((r = store_txn_begin(n->st, 1, &t)) < 0)
		goto out;
	if ((r = feeds_scan(f, t, scope, SCAN_BEHIND_ANY, NULL, 0, &nlag)) < 0 ||
	    nlag == 0)
		goto out;
	if (!(lag = calloc(nlag, sizeof(*lag))) ||
	    !(v = malloc(f->nv * sizeof(*v)))) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = feeds_scan(f, t, scope, SCAN_BEHIND_ANY, lag, nlag, &nlag)) < 0)
		goto out;
	/* the table with each of those lowered to what the store holds */
	for (size_t i = 0, k = 0; i < f->nv; i++) {
		v[nv] = f->v[i];
		if (k < nlag && strcmp(lag[k].scope, f->v[i].scope) == 0)
			v[nv].seq = lag[k++].stored;
		if (v[nv].seq)
			nv++;
	}
	if ((r = feeds_save(f, v, nv, why, whylen)) < 0)
		goto out;
	free(f->v);
	f->v = v;
	f->nv = f->cap = nv;
	v = NULL;
	f->unsaved = 0;
	f->warn[0] = 0;
	for (size_t k = 0; k < nlag && k < max; k++)
		ret[k] = lag[k];
	*ret_n = nlag;
out:
	store_txn_abort(t);
	feeds_unlock(f);
	free(lag);
	free(v);
	return r;
}
