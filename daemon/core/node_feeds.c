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
 * The file, written whole (a temporary file, fsync, rename):
 *
 *   # comment lines and empty lines
 *   key HEX          the node's public key, 64 hex digits
 *   SCOPE SEQ        one line per feed, in scope order
 *
 * One mutex guards the table: hamletd's writer thread reads it while its
 * loop thread raises it after a commit or lowers it (forget-lost).
 */
#include "node_internal.h"
#include "why.h"

#include "error.h"
#include "heads.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FEEDS_WHY 1024 /* an English sentence kept for later */
/* "SCOPE SEQ": the longest scope, a space, 20 digits */
#define FEEDS_MAX_LINE (ENTRY_MAX_SCOPE + 1 + 20)

struct node_feeds {
	pthread_mutex_t mu;
	struct node *n; /* its key, home and store */
	char *path;
	int readonly;
	struct node_feed *v; /* sorted by scope */
	size_t nv, cap;
	/* English (why_retranslate() shows it): why the file cannot be used,
	 * and every write is refused; "" when it reads */
	char err[FEEDS_WHY];
	/* English: why the last write of the file failed; "" when it did
	 * not. The table is right; the file lags it until the next write */
	char warn[FEEDS_WHY];
	int unsaved;
	struct log_floors floors;
};

/* --- the file's text ----------------------------------------------------- */

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

/* The file's text for table v, malloc'd. */
static char *feeds_text(const uint8_t pk[32], const struct node_feed *v,
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

/* Write table v to the file; why (English) says why not. */
static int feeds_save(struct node_feeds *f, const struct node_feed *v,
		      size_t nv, char *why, size_t whylen)
{
	size_t len;
	char *text = feeds_text(f->n->pk, v, nv, &len);
	int r;

	if (!text)
		return -ENOMEM;
	r = node__write_bytes(f->path, (const uint8_t *)text, len, 0640);
	free(text);
	if (r < 0)
		why_set(why, whylen,
			N_("cannot write %s: %s; the node still knows what it signed while it runs, but a store lost before the file is written again would not"),
			f->path, strerror(-r));
	return r;
}

int node__feeds_create(const char *home, const uint8_t pk[32])
{
	char *path = node__path_join(home, NODE_FEEDS_FILE), *text;
	size_t len;
	int r;

	if (!path || !(text = feeds_text(pk, NULL, 0, &len))) {
		free(path);
		return -ENOMEM;
	}
	r = node__write_bytes(path, (const uint8_t *)text, len, 0640);
	free(text);
	free(path);
	return r;
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

/* The whole file at path, malloc'd (NUL-terminated); HAMLET_ETOOBIG
 * past NODE_FEEDS_MAX_BYTES, or -errno. */
static int file_read(const char *path, char **ret, size_t *ret_len)
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

/* Read the file into the table (f->err says why not), then, when the
 * node may write, raise it to the store's own feeds and write it when
 * that changed it or it was missing. Called with f->mu held. */
static int feeds_load(struct node_feeds *f)
{
	char *buf = NULL, why[512];
	struct node_feed *v = NULL;
	size_t nv = 0, len = 0;
	int r, changed = 0;

	why_plain_begin(); /* kept in English: why_retranslate() shows it */
	f->err[0] = 0;
	r = file_read(f->path, &buf, &len);
	if (r == HAMLET_ETOOBIG) {
		why_set(why, sizeof(why), N_("the file is larger than %d bytes"),
			NODE_FEEDS_MAX_BYTES);
		goto damaged;
	}
	if (r < 0 && r != -ENOENT) {
		why_set(f->err, sizeof(f->err),
			N_("cannot read %s (%s), so this node does not know which seqs it signed before and writes nothing: make the file readable by the node's user"),
			f->path, strerror(-r));
		r = 0;
		goto out;
	}
	if (r == 0 && node_feeds_parse(buf, len, f->n->pk, &v, &nv, why,
				       sizeof(why)) < 0)
		goto damaged;
	/* missing (a node made before the file was, or the file lost): the
	 * store's own feeds are all there is to know */
	free(f->v);
	f->v = v;
	f->nv = f->cap = nv;
	v = NULL;
	if (f->readonly) {
		r = 0;
		goto out;
	}
	f->warn[0] = 0;
	if ((r = feeds_merge_store(f, &changed)) < 0) {
		why_set(f->err, sizeof(f->err),
			N_("cannot read this node's own feeds in its store (%s): it writes nothing until it can"),
			hamlet_strerror(r));
		r = 0;
		goto out;
	}
	if (!buf || changed || f->unsaved)
		f->unsaved = feeds_save(f, f->v, f->nv, f->warn,
					sizeof(f->warn)) < 0;
	goto out;
damaged:
	why_set(f->err, sizeof(f->err),
		N_("%s does not read (%s), so this node does not know which seqs it signed before and writes nothing. Mend that line (after \"key\", each line is a scope and the highest seq this node signed in it) or put the file back from a backup. If the store holds everything this node ever signed, moving the file aside is enough: the node writes it again from the store"),
		f->path, why);
	r = 0;
out:
	why_plain_end();
	free(buf);
	free(v);
	return r;
}

/* s (English) in the installed translator's language, into out. */
static void show(const char *s, char *out, size_t n)
{
	if (why_retranslate(s, out, n) == s)
		snprintf(out, n, "%s", s);
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
		r = HAMLET_ECONFIG;
	} else {
		i = feeds_find(f->v, f->nv, scope, &found);
		*ret_seq = found ? f->v[i].seq : 0;
	}
	pthread_mutex_unlock(&f->mu);
	return r;
}

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
	f->floors.ctx = f;
	n->feeds = f;
	pthread_mutex_lock(&f->mu);
	r = feeds_load(f);
	pthread_mutex_unlock(&f->mu);
	return r;
}

void node__feeds_close(struct node_feeds *f)
{
	if (!f)
		return;
	pthread_mutex_destroy(&f->mu);
	free(f->v);
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

void node_feeds_refresh(struct node *n)
{
	struct node_feeds *f = n->feeds;

	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	if (f->err[0])
		feeds_load(f);
	pthread_mutex_unlock(&f->mu);
}

int node_feeds_advance(struct node *n, const struct log_advances *adv,
		       char *why, size_t whylen)
{
	struct node_feeds *f = n->feeds;
	int changed = 0, r = 0, was = 0;

	if (!f || f->readonly || !adv)
		return 0;
	pthread_mutex_lock(&f->mu);
	if (f->err[0])
		goto out; /* not over a file that does not read */
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
			why_set(why, whylen, "%s", hamlet_strerror(r));
			goto out;
		}
		changed |= r;
	}
	r = 0;
	if (!changed && !f->unsaved)
		goto out;
	was = f->warn[0] != 0;
	why_plain_begin();
	r = feeds_save(f, f->v, f->nv, f->warn, sizeof(f->warn));
	why_plain_end();
	f->unsaved = r < 0;
	if (r == 0) {
		f->warn[0] = 0;
	} else if (!was) {
		show(f->warn, why, whylen); /* said once, until it works */
	} else {
		r = 0;
	}
out:
	pthread_mutex_unlock(&f->mu);
	return r;
}

/* Of the table (every feed, or scope's alone), those the store holds
 * less of (every one when all): into ret[0..max), their number in
 * *ret_n. */
static int feeds_scan(struct node_feeds *f, const char *scope, int all,
		      struct node_feed_lag *ret, size_t max, size_t *ret_n)
{
	struct store_txn *t;
	size_t k = 0;
	int r;

	if ((r = store_txn_begin(f->n->st, 1, &t)) < 0)
		return r;
	for (size_t i = 0; i < f->nv; i++) {
		struct log_feed lf;
		uint8_t key[32];
		uint64_t head = 0;
		if (scope && strcmp(scope, f->v[i].scope) != 0)
			continue;
		log_feed_key(f->n->pk, f->v[i].scope, key);
		r = log_feed_get(t, key, &lf);
		if (r < 0 && r != HAMLET_ENOTFOUND)
			goto out;
		if (r == 0)
			head = lf.seq;
		if (head >= f->v[i].seq && !all)
			continue;
		if (k < max) {
			snprintf(ret[k].scope, sizeof(ret[k].scope), "%s",
				 f->v[i].scope);
			ret[k].signed_seq = f->v[i].seq;
			ret[k].stored = head;
		}
		k++;
	}
	*ret_n = k;
	r = 0;
out:
	store_txn_abort(t);
	return r;
}

/* Every recorded feed (all 1) or those the store holds less of. */
static int feeds_report(struct node *n, int all, struct node_feed_lag *ret,
			size_t max, size_t *ret_n)
{
	struct node_feeds *f = n->feeds;
	int r;

	*ret_n = 0;
	if (!f)
		return 0;
	pthread_mutex_lock(&f->mu);
	r = f->err[0] ? 0 : feeds_scan(f, NULL, all, ret, max, ret_n);
	pthread_mutex_unlock(&f->mu);
	return r;
}

int node_feeds_behind(struct node *n, struct node_feed_lag *ret, size_t max,
		      size_t *ret_n)
{
	return feeds_report(n, 0, ret, max, ret_n);
}

int node_feeds_list(struct node *n, struct node_feed_lag *ret, size_t max,
		    size_t *ret_n)
{
	return feeds_report(n, 1, ret, max, ret_n);
}

int node_feeds_forget(struct node *n, const char *scope,
		      struct node_feed_lag *ret, size_t max, size_t *ret_n,
		      char *why, size_t whylen)
{
	struct node_feeds *f = n->feeds;
	struct node_feed_lag *lag = NULL;
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
	pthread_mutex_lock(&f->mu);
	if (f->err[0]) {
		show(f->err, why, whylen);
		r = HAMLET_ECONFIG;
		goto out;
	}
	if ((r = feeds_scan(f, scope, 0, NULL, 0, &nlag)) < 0 || nlag == 0)
		goto out;
	if (!(lag = calloc(nlag, sizeof(*lag))) ||
	    !(v = malloc(f->nv * sizeof(*v)))) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = feeds_scan(f, scope, 0, lag, nlag, &nlag)) < 0)
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
	pthread_mutex_unlock(&f->mu);
	free(lag);
	free(v);
	return r;
}
