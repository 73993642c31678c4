#include "bodyz.h"

#include "entries.h"
#include "entry.h"
#include "error.h"
#include "mp.h"
#include "schema.h"
#include "zst.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <zdict.h>
#include <zstd.h>

#define META "zdict"
#define META_LEN 5
#define NAME_LEN 8
#define LEVEL 1
#define DISTINCT_MAX 256 /* skeletons a dictionary holds at most */
#define SAMPLES_MAX (1 << 20) /* body bytes the statistics come from */
#define HEADER_ROOM 2048      /* for the statistics, ahead of the content */
#define CACHE 8

/* Dictionaries made ready, by name: shared by every thread (zstd's
 * digested dictionaries are read-only once made). */
static struct {
	uint8_t name[NAME_LEN];
	ZSTD_CDict *c;
	ZSTD_DDict *d;
} cache[CACHE];
static size_t cache_n;
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;

void bodyz_buf_free(struct bodyz_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->cap = 0;
}

/*
 * The store's dictionary, made ready: 1 with *ret_c and *ret_d set, 0
 * when the store has none. Made once per process and kept: when the
 * cache is full (a process with more than CACHE stores), *ret_c is NULL
 * and *ret_d a new one the caller frees (*ret_tmp set).
 */
static int dict_get(struct store_txn *t, ZSTD_CDict **ret_c,
		    ZSTD_DDict **ret_d, int *ret_tmp)
{
	const uint8_t *v;
	const void *vv;
	size_t vl, i;
	int r = store_get(t, ST_META, META, META_LEN, &vv, &vl);

	*ret_tmp = 0;
	if (r == HAMLET_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	v = vv;
	if (vl < NAME_LEN)
		return HAMLET_ECORRUPT;
	if (vl == NAME_LEN)
		return 0; /* trained, and nothing learnt */
	pthread_mutex_lock(&cache_mu);
	for (i = 0; i < cache_n; i++)
		if (memcmp(cache[i].name, v, NAME_LEN) == 0)
			goto found;
	if (cache_n == CACHE) {
		pthread_mutex_unlock(&cache_mu);
		*ret_c = NULL;
		*ret_d = ZSTD_createDDict(v + NAME_LEN, vl - NAME_LEN);
		*ret_tmp = 1;
		return *ret_d ? 1 : -ENOMEM;
	}
	cache[i].c = ZSTD_createCDict(v + NAME_LEN, vl - NAME_LEN, LEVEL);
	cache[i].d = ZSTD_createDDict(v + NAME_LEN, vl - NAME_LEN);
	if (!cache[i].c || !cache[i].d) {
		ZSTD_freeCDict(cache[i].c);
		ZSTD_freeDDict(cache[i].d);
		cache[i].c = NULL;
		cache[i].d = NULL;
		pthread_mutex_unlock(&cache_mu);
		return -ENOMEM;
	}
	memcpy(cache[i].name, v, NAME_LEN);
	cache_n++;
found:
	*ret_c = cache[i].c;
	*ret_d = cache[i].d;
	pthread_mutex_unlock(&cache_mu);
	return 1;
}

/*
 * A body's skeleton: its map with the same keys in the same order and
 * every value replaced by an empty one of its type ("" for a string, 0
 * for a number, [] for an array...). The dictionary learns only from
 * skeletons, so it holds field names and msgpack framing and no value a
 * person wrote: an erasure (SPEC 1.6) never has to look in it. Appended
 * to out; 0 when the body is not a map.
 */
static size_t skeleton(const uint8_t *body, size_t n, uint8_t *out,
		       size_t room)
{
	struct mp_doc d;
	struct mp_writer w;
	const msgpack_object_map *m;
	size_t len = 0;

	if (mp_doc_parse(&d, body, n, SCHEMA_MAX_FIELDS * 2 + 64) < 0)
		return 0;
	if (d.root->type != MSGPACK_OBJECT_MAP) {
		mp_doc_close(&d);
		return 0;
	}
	m = &d.root->via.map;
	mp_writer_init(&w);
	msgpack_pack_map(&w.pk, m->size);
	for (uint32_t i = 0; i < m->size; i++) {
		const msgpack_object *v = &m->ptr[i].val;
		mp_pack_object(&w.pk, &m->ptr[i].key);
		switch (v->type) {
		case MSGPACK_OBJECT_STR:
			msgpack_pack_str(&w.pk, 0);
			break;
		case MSGPACK_OBJECT_BIN:
			msgpack_pack_bin(&w.pk, 0);
			break;
		case MSGPACK_OBJECT_POSITIVE_INTEGER:
		case MSGPACK_OBJECT_NEGATIVE_INTEGER:
			msgpack_pack_uint8(&w.pk, 0);
			break;
		case MSGPACK_OBJECT_FLOAT32:
		case MSGPACK_OBJECT_FLOAT64:
			msgpack_pack_double(&w.pk, 0);
			break;
		case MSGPACK_OBJECT_BOOLEAN:
			msgpack_pack_false(&w.pk);
			break;
		case MSGPACK_OBJECT_ARRAY:
			msgpack_pack_array(&w.pk, 0);
			break;
		case MSGPACK_OBJECT_MAP:
			msgpack_pack_map(&w.pk, 0);
			break;
		default:
			msgpack_pack_nil(&w.pk);
			break;
		}
	}
	if (w.sb.size <= room) {
		memcpy(out, w.sb.data, w.sb.size);
		len = w.sb.size;
	}
	mp_writer_destroy(&w);
	mp_doc_close(&d);
	return len;
}

/*
 * Put zstd's statistics ahead of the skeletons: how often each byte
 * value stands as a literal, and how long literal runs, matches and
 * offsets are, counted over the bodies (samples, n of them, their
 * lengths in lens). No run of any body's bytes is kept, only these
 * counts; with them a frame needs no tables of its own, which for a
 * body of a few hundred bytes is most of the cost of (de)compressing it
 * and of its size. Returns the dictionary's length in dict (room
 * bytes), or 0 when zstd finds no statistics (too few or too alike
 * bodies): the skeletons stay raw content.
 */
static size_t finalize(uint8_t *dict, size_t room, const uint8_t *content,
		       size_t content_len, const uint8_t *samples,
		       const size_t *lens, unsigned n, const uint8_t name[8])
{
	ZDICT_params_t p;
	size_t z;
	if (n < 8)
		return 0;
	memset(&p, 0, sizeof(p));
	p.compressionLevel = LEVEL;
	/* an id from the content's name, in the range zstd leaves to
	 * private dictionaries */
	p.dictID = 32768 + (((uint32_t)name[0] << 24 | (uint32_t)name[1] << 16 |
			     (uint32_t)name[2] << 8 | name[3]) %
			    ((1U << 31) - 32768));
	z = ZDICT_finalizeDictionary(dict, room, content, content_len, samples,
				     lens, n, p);
	return ZDICT_isError(z) ? 0 : z;
}

int bodyz_train_maybe(struct store_txn *t, uint64_t next)
{
	struct store_cursor *c = NULL;
	const void *k, *v;
	size_t kl, vl, used = 0, nd = 0, seen = 0, sused = 0, dl;
	size_t off[DISTINCT_MAX], len[DISTINCT_MAX];
	size_t *slens = NULL;
	unsigned ns = 0;
	uint8_t *dict = NULL, *sk = NULL, *samples = NULL, *fin = NULL;
	int r;

	if (next <= BODYZ_TRAIN_AT)
		return 0;
	r = store_get(t, ST_META, META, META_LEN, &v, &vl);
	if (r != HAMLET_ENOTFOUND)
		return r < 0 ? r : 0;
	if (!(dict = malloc(NAME_LEN + BODYZ_DICT_MAX)) ||
	    !(sk = malloc(BODYZ_DICT_MAX)) || !(samples = malloc(SAMPLES_MAX)) ||
	    !(slens = malloc(BODYZ_TRAIN_AT * sizeof(*slens))) ||
	    !(fin = malloc(NAME_LEN + BODYZ_DICT_MAX))) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = store_cursor_open(t, ST_ENTRIES, &c)) < 0)
		goto out;
	/* the distinct skeletons of the first bodies, as zstd's raw
	 * content dictionary: what they share is what a body of the
	 * network is made of */
	for (r = store_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl);
	     r == 1 && seen < BODYZ_TRAIN_AT;
	     r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		struct entries_row row;
		size_t sl, i;
		/* a row that does not decode is for verify to name: not
		 * learnt from, and writing goes on */
		if (entries_row_decode(NULL, v, vl, &row) < 0 || !row.body ||
		    row.compressed)
			continue;
		seen++;
		if (sused + row.body_len <= SAMPLES_MAX) {
			memcpy(samples + sused, row.body, row.body_len);
			sused += row.body_len;
			slens[ns++] = row.body_len;
		}
		sl = skeleton(row.body, row.body_len, sk, BODYZ_DICT_MAX);
		if (!sl || nd == DISTINCT_MAX ||
		    used + sl > BODYZ_DICT_MAX - HEADER_ROOM)
			continue;
		for (i = 0; i < nd; i++)
			if (len[i] == sl &&
			    memcmp(dict + NAME_LEN + off[i], sk, sl) == 0)
				break;
		if (i < nd)
			continue;
		memcpy(dict + NAME_LEN + used, sk, sl);
		off[nd] = used;
		len[nd++] = sl;
		used += sl;
	}
	store_cursor_close(c);
	if (r < 0)
		goto out;
	crypto_generichash_blake2b(dict, NAME_LEN, dict + NAME_LEN, used, NULL,
				   0);
	if (used && (dl = finalize(fin + NAME_LEN, BODYZ_DICT_MAX,
				   dict + NAME_LEN, used, samples, slens, ns,
				   dict))) {
		/* named by what it is now */
		crypto_generichash_blake2b(fin, NAME_LEN, fin + NAME_LEN, dl,
					   NULL, 0);
		r = store_put(t, ST_META, META, META_LEN, fin, NAME_LEN + dl,
			      0);
	} else
		r = store_put(t, ST_META, META, META_LEN, dict, NAME_LEN + used,
			      0);
out:
	free(dict);
	free(sk);
	free(samples);
	free(slens);
	free(fin);
	return r;
}

int bodyz_compress(struct store_txn *t, const uint8_t *body, size_t n,
		   uint8_t *out, size_t *ret_len)
{
	struct zst_ctxs *x;
	ZSTD_CDict *cd;
	ZSTD_DDict *dd;
	size_t z;
	int tmp, r = dict_get(t, &cd, &dd, &tmp);

	if (r <= 0)
		return r;
	if (tmp) {
		ZSTD_freeDDict(dd);
		return 0;
	}
	if (!(x = zst_thread(ZST_BODIES)))
		return -ENOMEM;
	/* a frame without the dictionary's id: a store has one. The
	 * dictionary c refers to is set once, not at every frame (which
	 * costs as much as compressing a body); dictionaries stay cached
	 * for the life of the process */
	if (x->tag != cd) {
		x->tag = NULL;
		if (ZSTD_isError(ZSTD_CCtx_refCDict(x->c, cd)) ||
		    ZSTD_isError(
			    ZSTD_CCtx_setParameter(x->c, ZSTD_c_dictIDFlag, 0)))
			return 0;
		x->tag = cd;
	}
	z = ZSTD_compress2(x->c, out, n, body, n);
	if (ZSTD_isError(z) || z >= n) {
		/* no smaller (zstd says the frame does not fit): kept as it
		 * is. A failed frame leaves the context mid-frame, where it
		 * takes no dictionary; the dictionary stays referenced */
		ZSTD_CCtx_reset(x->c, ZSTD_reset_session_only);
		return 0;
	}
	*ret_len = z;
	return 1;
}

int bodyz_decompress(struct store_txn *t, const uint8_t *z, size_t zn,
		     struct bodyz_buf *b, const void **ret, size_t *ret_len)
{
	unsigned long long size = ZSTD_getFrameContentSize(z, zn);
	struct zst_ctxs *x;
	ZSTD_CDict *cd;
	ZSTD_DDict *dd;
	size_t got;
	int tmp, r = dict_get(t, &cd, &dd, &tmp);

	if (r < 0)
		return r;
	if (r == 0 || size == ZSTD_CONTENTSIZE_UNKNOWN ||
	    size == ZSTD_CONTENTSIZE_ERROR || size > ENTRY_MAX_BODY) {
		r = HAMLET_ECORRUPT;
		goto out;
	}
	if (!(x = zst_thread(ZST_BODIES))) {
		r = -ENOMEM;
		goto out;
	}
	if (b->cap < size + 1) {
		uint8_t *p = realloc(b->p, size + 1);
		if (!p) {
			r = -ENOMEM;
			goto out;
		}
		b->p = p;
		b->cap = size + 1;
	}
	got = ZSTD_decompress_usingDDict(x->d, b->p, size, z, zn, dd);
	if (ZSTD_isError(got) || got != size) {
		r = HAMLET_ECORRUPT;
		goto out;
	}
	*ret = b->p;
	*ret_len = got;
	r = 0;
out:
	if (tmp)
		ZSTD_freeDDict(dd);
	return r;
}
