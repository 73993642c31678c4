#include "uniqidx.h"

#include "entry.h"
#include "error.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define GEN_NAME "uniqgen"
#define KEY_MAX (ENTRY_MAX_COLLECTION + 1 + ENTRY_MAX_RECORD_ID)
#define CAP_MIN 1024

/* A key: its hash, and "coll\0id" of the one record that holds it (the
 * id means nothing once shared). rec NULL: an empty slot. */
struct uslot {
	uint8_t h[16];
	char *rec;
	uint32_t cl; /* the collection's length in rec */
	uint8_t shared;
};

/* A slot as it was before a change: what undoing the change restores. */
struct jent {
	uint64_t gen; /* the index's value before the change */
	uint8_t h[16];
	char coll[ENTRY_MAX_COLLECTION + 1];
	char *rec; /* NULL: the slot was empty */
	uint8_t shared;
};

/* The slots' strings, cut from chunks and freed all at once. */
struct chunk {
	struct chunk *next;
	size_t used, cap;
	char data[];
};
#define CHUNK_BYTES (1u << 20)

struct umap {
	struct uslot *v;
	struct chunk *chunks;
	size_t dropped; /* bytes of strings no slot uses any more */
	size_t n, mask; /* mask + 1 slots, n of them used */
	uint64_t gen;	/* the meta value it stands for */
	int valid;
	uint64_t mult; /* odd, random: where a hash's slot is */
	unsigned bits; /* mask + 1 == 1 << bits */
	/* the changes of the present transaction (and its nested ones),
	 * oldest first, so that one aborted is undone here rather than the
	 * whole index built again */
	struct jent *j;
	size_t nj, capj;
	int jfull;	/* a change not noted: nothing can be undone */
	uint64_t jtxn;	/* store_txn_serial() of that transaction */
	uint64_t jbase; /* gen when it began */
};

#define JOURNAL_KEEP 4096 /* entries whose room outlives a transaction */

static void journal_reset(struct umap *m)
{
	for (size_t i = 0; i < m->nj; i++)
		free(m->j[i].rec);
	m->nj = 0;
	m->jfull = 0;
	if (m->capj > JOURNAL_KEEP) {
		/* a large transaction's room goes with it */
		free(m->j);
		m->j = NULL;
		m->capj = 0;
	}
}

static void umap_clear(struct umap *m)
{
	journal_reset(m);
	while (m->chunks) {
		struct chunk *c = m->chunks;
		m->chunks = c->next;
		free(c);
	}
	m->dropped = 0;
	free(m->v);
	m->v = NULL;
	m->n = m->mask = 0;
	m->valid = 0;
}

static void umap_free(void *p)
{
	struct umap *m = p;
	if (!m)
		return;
	umap_clear(m);
	free(m->j);
	free(m);
}

static size_t home(const struct umap *m, const uint8_t h[16])
{
	uint64_t x;
	/* the hash's bits, mixed with a key of the process's own: hashes
	 * chosen to share their low bits do not share a slot's run */
	memcpy(&x, h, 8);
	return (size_t)((x * m->mult) >> (64 - m->bits));
}

/* The slot of coll's key h (*found 1), or the empty one it would take. */
static size_t find(const struct umap *m, const char *coll, size_t cl,
		   const uint8_t h[16], int *found)
{
	size_t i;
	if (!m->v) {
		*found = 0;
		return 0;
	}
	for (i = home(m, h);;) {
		const struct uslot *s = &m->v[i];
		if (!s->rec) {
			*found = 0;
			return i;
		}
		if (s->cl == cl && memcmp(s->h, h, 16) == 0 &&
		    memcmp(s->rec, coll, cl) == 0) {
			*found = 1;
			return i;
		}
		i = (i + 1) & m->mask;
	}
}

/* memset through a pointer the compiler cannot see through: a malloc
 * followed by a memset of zeros is otherwise made a calloc again */
static void *(*volatile zero_fill)(void *, int, size_t) = memset;

/* Room for more keys, up to n + more, at most three quarters full. */
static int reserve(struct umap *m, size_t more)
{
	size_t cap = m->v ? m->mask + 1 : 0, ncap;
	struct uslot *old = m->v, *nv;

	if ((m->n + more) * 4 <= cap * 3)
		return 0;
	ncap = cap ? cap * 2 : CAP_MIN;
	while ((m->n + more) * 4 > ncap * 3)
		ncap *= 2;
	/* zeroed by writing, not calloc: calloc leaves fresh pages mapped
	 * to the zero page, and the rehash below reads each before writing
	 * it, a second fault that flushes every core's TLB (~20 us a page
	 * on a virtual machine; bench_sync's profile) */
	if (ncap > SIZE_MAX / sizeof(*nv) ||
	    !(nv = malloc(ncap * sizeof(*nv))))
		return -ENOMEM;
	zero_fill(nv, 0, ncap * sizeof(*nv));
	m->v = nv;
	m->mask = ncap - 1;
	for (m->bits = 0; ((size_t)1 << m->bits) < ncap; m->bits++)
		;
	for (size_t i = 0; i < cap; i++) {
		int found;
		if (!old[i].rec)
			continue;
		size_t j = find(m, old[i].rec, old[i].cl, old[i].h, &found);
		m->v[j] = old[i];
	}
	free(old);
	return 0;
}

static size_t rec_len(const char *rec, size_t cl)
{
	return cl + 1 + strlen(rec + cl + 1) + 1;
}

/* A slot's string no longer used: its bytes wait for the next build. */
static void rec_drop(struct umap *m, const char *rec, size_t cl)
{
	m->dropped += rec_len(rec, cl);
}

/* "coll\0id" in the slots' memory. */
static char *rec_make(struct umap *m, const char *coll, size_t cl,
		      const char *id)
{
	size_t il = strlen(id), len = cl + 1 + il + 1;
	struct chunk *c = m->chunks;
	char *p;

	if (!c || c->cap - c->used < len) {
		if (!(c = malloc(sizeof(*c) + CHUNK_BYTES)))
			return NULL;
		c->next = m->chunks;
		c->used = 0;
		c->cap = CHUNK_BYTES;
		m->chunks = c;
	}
	p = c->data + c->used;
	c->used += len;
	memcpy(p, coll, cl);
	p[cl] = 0;
	memcpy(p + cl + 1, id, il + 1);
	return p;
}

static int add_new(struct umap *m, const char *coll, size_t cl,
		   const uint8_t h[16], const char *id)
{
	int found, r;
	size_t i;
	char *rec;

	if ((r = reserve(m, 1)) < 0)
		return r;
	if (!(rec = rec_make(m, coll, cl, id)))
		return -ENOMEM;
	i = find(m, coll, cl, h, &found);
	memcpy(m->v[i].h, h, 16);
	m->v[i].rec = rec;
	m->v[i].cl = (uint32_t)cl;
	m->v[i].shared = 0;
	m->n++;
	return 0;
}

/* Empty slot i, moving back those that probed past it. */
static void del_at(struct umap *m, size_t i)
{
	size_t j = i;
	rec_drop(m, m->v[i].rec, m->v[i].cl);
	m->v[i].rec = NULL;
	for (;;) {
		size_t k;
		int stays;
		j = (j + 1) & m->mask;
		if (!m->v[j].rec)
			break;
		k = home(m, m->v[j].h);
		/* it stays when its home lies in (i, j], cyclically */
		stays = i < j ? (k > i && k <= j) : (k > i || k <= j);
		if (stays)
			continue;
		m->v[i] = m->v[j];
		m->v[j].rec = NULL;
		i = j;
	}
	m->n--;
}

/* --- undoing ----------------------------------------------------------- */

/* Note coll's slot of h as it is, before a change made at gen. */
static void jot(struct umap *m, const char *coll, size_t cl,
		const uint8_t h[16], uint64_t gen)
{
	struct jent *e;
	size_t i;
	int found;

	if (m->jfull)
		return;
	if (m->nj == m->capj) {
		size_t nc = m->capj ? m->capj * 2 : 64;
		void *p = realloc(m->j, nc * sizeof(*m->j));
		if (!p) {
			m->jfull = 1;
			return;
		}
		m->j = p;
		m->capj = nc;
	}
	e = &m->j[m->nj];
	e->gen = gen;
	memcpy(e->h, h, 16);
	memcpy(e->coll, coll, cl);
	e->coll[cl] = 0;
	e->rec = NULL;
	e->shared = 0;
	i = find(m, coll, cl, h, &found);
	if (found) {
		size_t len = rec_len(m->v[i].rec, cl);
		if (!(e->rec = malloc(len))) {
			m->jfull = 1;
			return;
		}
		memcpy(e->rec, m->v[i].rec, len);
		e->shared = m->v[i].shared;
	}
	m->nj++;
}

/* Put the slot back as e noted it; e's string goes to the slot. */
static int restore(struct umap *m, struct jent *e)
{
	size_t cl = strlen(e->coll), i;
	int found, r;

	i = find(m, e->coll, cl, e->h, &found);
	if (!e->rec) {
		if (found)
			del_at(m, i);
		return 0;
	}
	char *rec = rec_make(m, e->coll, cl, e->rec + cl + 1);
	if (!rec)
		return -ENOMEM;
	if (!found) {
		if ((r = reserve(m, 1)) < 0)
			return r;
		i = find(m, e->coll, cl, e->h, &found);
		memcpy(m->v[i].h, e->h, 16);
		m->v[i].cl = (uint32_t)cl;
		m->n++;
	} else {
		rec_drop(m, m->v[i].rec, cl);
	}
	m->v[i].rec = rec;
	m->v[i].shared = e->shared;
	return 0;
}

/* Undo the changes made since the index stood for gen g: 0 when done,
 * <0 when the journal does not reach back there (build it again). */
static int rollback(struct umap *m, uint64_t g)
{
	size_t stop = m->nj;

	if (m->jfull)
		return -1;
	if (g == m->jbase) {
		stop = 0;
	} else {
		for (size_t k = 0; k < m->nj; k++)
			if (m->j[k].gen == g) {
				stop = k;
				break;
			}
		if (stop == m->nj)
			return -1;
	}
	while (m->nj > stop) {
		struct jent *e = &m->j[--m->nj];
		int r = restore(m, e);
		free(e->rec);
		if (r < 0)
			return r;
	}
	m->gen = g;
	return 0;
}

/* --- the generation ---------------------------------------------------- */

static pthread_mutex_t gen_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t gen_once = PTHREAD_ONCE_INIT;
static uint64_t gen_base, gen_count;
static int gen_fresh = 1; /* a new process (a fork too): a new sequence */

static void gen_forked(void)
{
	gen_fresh = 1;
}

static void gen_init(void)
{
	pthread_atfork(NULL, NULL, gen_forked);
}

/* A value no other change has had, in this process or another. */
static uint64_t gen_next(void)
{
	uint64_t g;

	pthread_once(&gen_once, gen_init);
	pthread_mutex_lock(&gen_mu);
	if (gen_fresh) {
		randombytes_buf(&gen_base, sizeof(gen_base));
		gen_count = 0;
		gen_fresh = 0;
	}
	g = gen_base + ++gen_count;
	pthread_mutex_unlock(&gen_mu);
	return g == 0 ? 1 : g;
}

/* Write a new value, and the index stands for it. */
static int gen_bump(struct store_txn *t, struct umap *m)
{
	uint64_t g = gen_next();
	uint8_t v[8];
	int r;

	store_be64(v, g);
	if ((r = store_put(t, ST_META, GEN_NAME, strlen(GEN_NAME), v, 8, 0)) <
	    0)
		return r;
	m->gen = g;
	return 0;
}

/* --- the index as the writer keeps it ---------------------------------- */

static int rebuild(struct store_txn *t, struct umap *m)
{
	struct store_cursor *c = NULL;
	const void *k, *v;
	size_t kl, vl;
	int r;

	uint64_t rows;

	umap_clear(m);
	if ((r = store_count(t, ST_UNIQ, &rows)) < 0 ||
	    (r = reserve(m, (size_t)rows)) < 0)
		return r;
	if ((r = store_cursor_open(t, ST_UNIQ, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); r == 1;
	     r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		char key[KEY_MAX + 1];
		const char *z;
		size_t cl, i;
		int found;
		if (kl > KEY_MAX || vl != 16 || !(z = memchr(k, 0, kl)))
			continue; /* not a row this index wrote */
		cl = (size_t)(z - (const char *)k);
		memcpy(key, k, kl);
		key[kl] = 0;
		i = find(m, key, cl, v, &found);
		if (found) {
			m->v[i].shared = 1;
			continue;
		}
		if ((r = add_new(m, key, cl, v, key + cl + 1)) < 0)
			break;
	}
	store_cursor_close(c);
	return r < 0 ? r : 0;
}

/* The writer's index, as the store stands now. */
static int umap_get(struct store_txn *t, struct umap **ret)
{
	void **slot = store_writer_keep(t, umap_free);
	struct umap *m;
	uint64_t g;
	int r;

	if (!slot)
		return -EINVAL; /* a read-only transaction changes nothing */
	if (!(m = *slot)) {
		if (!(m = calloc(1, sizeof(*m))))
			return -ENOMEM;
		randombytes_buf(&m->mult, sizeof(m->mult));
		m->mult |= 1;
		*slot = m;
	}
	if ((r = store_meta_u64(t, GEN_NAME, &g)) < 0)
		return r;
	/* a transaction undone since: undo its changes here too */
	if (m->valid && g != 0 && m->gen != g && rollback(m, g) < 0)
		m->valid = 0;
	/* strings dropped over many changes: their memory back, once they
	 * outweigh the index */
	if (m->dropped > (size_t)64 << 20 && m->dropped > m->n * 32)
		m->valid = 0;
	if (!m->valid || g == 0 || m->gen != g) {
		if ((r = rebuild(t, m)) < 0 ||
		    (g == 0 ? (r = gen_bump(t, m)) : (m->gen = g, 0)) < 0) {
			umap_clear(m);
			return r;
		}
		m->valid = 1;
		m->jtxn = 0;
	}
	if (m->jtxn != store_txn_serial(t)) {
		/* a new transaction: what came before is committed */
		journal_reset(m);
		m->jtxn = store_txn_serial(t);
		m->jbase = m->gen;
	}
	*ret = m;
	return 0;
}

/* --- the tables -------------------------------------------------------- */

/* coll \0 h (16) || id: a dups row (id NULL: the prefix of h's rows). */
static size_t dups_key(const char *coll, size_t cl, const uint8_t h[16],
		       const char *id, uint8_t *out)
{
	size_t il = id ? strlen(id) : 0;
	memcpy(out, coll, cl);
	out[cl] = 0;
	memcpy(out + cl + 1, h, 16);
	if (il)
		memcpy(out + cl + 17, id, il);
	return cl + 17 + il;
}

static int dups_put(struct store_txn *t, const char *coll, size_t cl,
		    const uint8_t h[16], const char *id)
{
	uint8_t k[KEY_MAX + 17];
	size_t kl = dups_key(coll, cl, h, id, k);
	return store_put(t, ST_DUPS, k, kl, "", 0, 0);
}

static int dups_del(struct store_txn *t, const char *coll, size_t cl,
		    const uint8_t h[16], const char *id)
{
	uint8_t k[KEY_MAX + 17];
	size_t kl = dups_key(coll, cl, h, id, k);
	int r = store_del(t, ST_DUPS, k, kl);
	return r == HAMLET_ENOTFOUND ? 0 : r;
}

static int holder_add(struct store_txn *t, struct umap *m, const char *coll,
		      size_t cl, const uint8_t h[16], const char *id)
{
	int found, r;
	size_t i;
	struct uslot *s;

	jot(m, coll, cl, h, m->gen);
	i = find(m, coll, cl, h, &found);
	if (!found)
		return add_new(m, coll, cl, h, id);
	s = &m->v[i];
	if (s->shared)
		return dups_put(t, coll, cl, h, id);
	if (strcmp(s->rec + cl + 1, id) == 0)
		return 0; /* already its holder */
	/* a second record: both are now in the group */
	if ((r = dups_put(t, coll, cl, h, s->rec + cl + 1)) < 0 ||
	    (r = dups_put(t, coll, cl, h, id)) < 0)
		return r;
	s->shared = 1;
	return 0;
}

static int holder_drop(struct store_txn *t, struct umap *m, const char *coll,
		       size_t cl, const uint8_t h[16], const char *id)
{
	uint8_t pfx[KEY_MAX + 17];
	char left[ENTRY_MAX_RECORD_ID + 1];
	struct store_cursor *c = NULL;
	const void *k;
	size_t kl, pl, i;
	int found, r, n = 0;

	jot(m, coll, cl, h, m->gen);
	i = find(m, coll, cl, h, &found);
	if (!found)
		return 0;
	if (!m->v[i].shared) {
		if (strcmp(m->v[i].rec + cl + 1, id) == 0)
			del_at(m, i);
		return 0;
	}
	if ((r = dups_del(t, coll, cl, h, id)) < 0)
		return r;
	/* who is left in the group: two or more stay a group */
	pl = dups_key(coll, cl, h, NULL, pfx);
	if ((r = store_cursor_open(t, ST_DUPS, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, pfx, pl, &k, &kl, NULL, NULL);
	     r == 1 && n < 2; r = store_cursor_next(c, &k, &kl, NULL, NULL)) {
		if (kl < pl || memcmp(k, pfx, pl) != 0)
			break;
		if (kl == pl || kl - pl > ENTRY_MAX_RECORD_ID)
			continue; /* not a row this index wrote */
		if (n == 0) {
			memcpy(left, (const uint8_t *)k + pl, kl - pl);
			left[kl - pl] = 0;
		}
		n++;
	}
	store_cursor_close(c);
	if (r < 0)
		return r;
	if (n == 0) {
		del_at(m, i);
	} else if (n == 1) {
		char *rec = rec_make(m, coll, cl, left);
		if (!rec)
			return -ENOMEM;
		if ((r = dups_del(t, coll, cl, h, left)) < 0)
			return r;
		rec_drop(m, m->v[i].rec, cl);
		m->v[i].rec = rec;
		m->v[i].shared = 0;
	}
	return 0;
}

int uniqidx_set(struct store_txn *t, const char *coll, const char *id,
		const uint8_t *newu)
{
	uint8_t key[KEY_MAX], had[16];
	size_t cl = strlen(coll), il = strlen(id), kl = cl + 1 + il, vl;
	const uint8_t *oldu = NULL;
	const void *v;
	struct umap *m;
	int r, odd = 0;

	if (cl > ENTRY_MAX_COLLECTION || il > ENTRY_MAX_RECORD_ID)
		return -EINVAL;
	memcpy(key, coll, cl);
	key[cl] = 0;
	memcpy(key + cl + 1, id, il);
	/* the key the index holds the record under, whatever the record's
	 * state says (a damaged state may not say) */
	r = store_get(t, ST_UNIQ, key, kl, &v, &vl);
	if (r < 0 && r != HAMLET_ENOTFOUND)
		return r;
	if (r == 0 && vl == 16) {
		memcpy(had, v, 16);
		oldu = had;
	}
	odd = r == 0 && !oldu; /* a row this index did not write */
	if (!oldu && !newu && !odd)
		return 0;
	if (oldu && newu && memcmp(oldu, newu, 16) == 0)
		return 0; /* the same key, the same group */
	if ((r = umap_get(t, &m)) < 0)
		return r;
	if ((oldu &&
	     ((r = store_del(t, ST_UNIQ, key, kl)) < 0 ||
	      (r = holder_drop(t, m, coll, cl, oldu, id)) < 0)) ||
	    (odd && (r = store_del(t, ST_UNIQ, key, kl)) < 0) ||
	    (newu &&
	     ((r = store_put(t, ST_UNIQ, key, kl, newu, 16, 0)) < 0 ||
	      (r = holder_add(t, m, coll, cl, newu, id)) < 0)) ||
	    (r = gen_bump(t, m)) < 0) {
		/* the transaction is aborted: the copy stands for no value
		 * the store will hold, so the next change undoes here what
		 * this one did (each step was noted first) or builds it
		 * again */
		m->gen = gen_next();
		return r;
	}
	return 0;
}

int uniqidx_shared_each(struct store_txn *t, const char *coll,
			const uint8_t h[16], uniqidx_cb cb, void *ctx)
{
	uint8_t pfx[KEY_MAX + 17];
	struct store_cursor *c = NULL;
	const void *k;
	size_t kl, pl = 0;
	int r;

	if (coll) {
		size_t cl = strlen(coll);
		if (cl > ENTRY_MAX_COLLECTION)
			return 0;
		pl = dups_key(coll, cl, h, NULL, pfx);
	}
	if ((r = store_cursor_open(t, ST_DUPS, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, pl ? pfx : NULL, pl, &k, &kl, NULL,
				   NULL);
	     r == 1; r = store_cursor_next(c, &k, &kl, NULL, NULL)) {
		char kc[ENTRY_MAX_COLLECTION + 1], id[ENTRY_MAX_RECORD_ID + 1];
		const uint8_t *p = k;
		const uint8_t *z;
		size_t cl, il;
		if (pl && (kl < pl || memcmp(k, pfx, pl) != 0))
			break;
		z = memchr(p, 0, kl);
		if (!z || (cl = (size_t)(z - p)) > ENTRY_MAX_COLLECTION ||
		    kl < cl + 17 || (il = kl - cl - 17) == 0 ||
		    il > ENTRY_MAX_RECORD_ID)
			continue; /* not a row this index wrote */
		memcpy(kc, p, cl);
		kc[cl] = 0;
		memcpy(id, p + cl + 17, il);
		id[il] = 0;
		if ((r = cb(ctx, kc, id)) != 0)
			break;
	}
	store_cursor_close(c);
	return r < 0 ? r : 0;
}
