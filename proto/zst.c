#include "zst.h"

#include "error.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static int key_ok;

static void ctxs_free(void *p)
{
	struct zst_ctxs *all = p;
	for (int i = 0; i < ZST_USES; i++) {
		ZSTD_freeCCtx(all[i].c);
		ZSTD_freeDCtx(all[i].d);
	}
	free(all);
}

static void key_make(void)
{
	key_ok = pthread_key_create(&key, ctxs_free) == 0;
}

struct zst_ctxs *zst_thread(enum zst_use use)
{
	struct zst_ctxs *all, *x;

	pthread_once(&key_once, key_make);
	if (!key_ok || (unsigned)use >= ZST_USES)
		return NULL;
	if (!(all = pthread_getspecific(key))) {
		if (!(all = calloc(ZST_USES, sizeof(*all))))
			return NULL;
		if (pthread_setspecific(key, all) != 0) {
			free(all);
			return NULL;
		}
	}
	x = &all[use];
	if (!x->c)
		x->c = ZSTD_createCCtx();
	if (!x->d)
		x->d = ZSTD_createDCtx();
	return x->c && x->d ? x : NULL;
}

/* This thread's contexts for runs, their parameters set once. */
static struct zst_ctxs *runs(void)
{
	static const char tag;
	struct zst_ctxs *x = zst_thread(ZST_RUNS);

	if (x && x->tag != &tag) {
		/* the content size is written by default; the checksum is
		 * not. A frame may not ask for a window larger than its
		 * content needs. The level is set at each frame */
		ZSTD_CCtx_setParameter(x->c, ZSTD_c_checksumFlag, 1);
		ZSTD_CCtx_setParameter(x->c, ZSTD_c_contentSizeFlag, 1);
		ZSTD_DCtx_setParameter(x->d, ZSTD_d_windowLogMax, 23);
		x->tag = &tag;
	}
	return x;
}

int zst_compress(const uint8_t *in, size_t n, uint8_t **ret, size_t *ret_len)
{
	size_t cap = ZSTD_compressBound(n), got;
	struct zst_ctxs *x = runs();
	uint8_t *out = malloc(cap ? cap : 1);

	if (!x || !out) {
		free(out);
		return -ENOMEM;
	}
	ZSTD_CCtx_setParameter(x->c, ZSTD_c_compressionLevel,
			       n >= ZST_BULK_FROM ? ZST_LEVEL_BULK : ZST_LEVEL);
	got = ZSTD_compress2(x->c, out, cap, in, n);
	if (ZSTD_isError(got)) {
		/* a frame cut off leaves the context mid-frame */
		ZSTD_CCtx_reset(x->c, ZSTD_reset_session_only);
		free(out);
		return -ENOMEM;
	}
	*ret = out;
	*ret_len = got;
	return 0;
}

int zst_size(const uint8_t *in, size_t n, size_t max, size_t *ret_size)
{
	unsigned long long sz;
	size_t fl;

	if (n == 0)
		return HAMLET_EFORMAT;
	fl = ZSTD_findFrameCompressedSize(in, n);
	if (ZSTD_isError(fl) || fl != n)
		return HAMLET_EFORMAT; /* damaged, cut short, or trailing bytes */
	sz = ZSTD_getFrameContentSize(in, n);
	if (sz == ZSTD_CONTENTSIZE_UNKNOWN || sz == ZSTD_CONTENTSIZE_ERROR)
		return HAMLET_EFORMAT;
	if (sz > max)
		return HAMLET_ETOOBIG;
	*ret_size = (size_t)sz;
	return 0;
}

int zst_decompress(const uint8_t *in, size_t n, uint8_t *out, size_t size)
{
	struct zst_ctxs *x = runs();
	size_t got;

	if (!x)
		return -ENOMEM;
	got = ZSTD_decompressDCtx(x->d, out, size, in, n);
	if (ZSTD_isError(got) || got != size) {
		/* a damaged frame leaves the context mid-frame */
		ZSTD_DCtx_reset(x->d, ZSTD_reset_session_only);
		return HAMLET_EFORMAT;
	}
	return 0;
}
