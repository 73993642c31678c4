#include "zst.h"

#include "error.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <zstd.h>

/*
 * Each thread keeps its contexts from call to call: making one for a
 * message allocated and cleared its tables (a megabyte and more at
 * ZST_LEVEL) for every ENTRIES sent or received. A thread's are freed
 * when it ends.
 */
struct ctxs {
	ZSTD_CCtx *c;
	ZSTD_DCtx *d;
};

static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void ctxs_free(void *p)
{
	struct ctxs *x = p;
	ZSTD_freeCCtx(x->c);
	ZSTD_freeDCtx(x->d);
	free(x);
}

static void key_make(void)
{
	if (pthread_key_create(&key, ctxs_free) != 0)
		key = (pthread_key_t)-1;
}

static struct ctxs *ctxs_get(void)
{
	struct ctxs *x;
	pthread_once(&key_once, key_make);
	if (key == (pthread_key_t)-1)
		return NULL;
	if ((x = pthread_getspecific(key)))
		return x;
	if (!(x = calloc(1, sizeof(*x))))
		return NULL;
	if (pthread_setspecific(key, x) != 0) {
		free(x);
		return NULL;
	}
	return x;
}

int zst_compress(const uint8_t *in, size_t n, uint8_t **ret, size_t *ret_len)
{
	size_t cap = ZSTD_compressBound(n), got;
	struct ctxs *x = ctxs_get();
	uint8_t *out = malloc(cap ? cap : 1);

	if (x && !x->c && (x->c = ZSTD_createCCtx())) {
		/* the content size is written by default; the checksum is
		 * not */
		ZSTD_CCtx_setParameter(x->c, ZSTD_c_compressionLevel, ZST_LEVEL);
		ZSTD_CCtx_setParameter(x->c, ZSTD_c_checksumFlag, 1);
		ZSTD_CCtx_setParameter(x->c, ZSTD_c_contentSizeFlag, 1);
	}
	if (!x || !x->c || !out) {
		free(out);
		return -ENOMEM;
	}
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
	struct ctxs *x = ctxs_get();
	size_t got;

	if (x && !x->d && (x->d = ZSTD_createDCtx()))
		/* a frame may not ask for a window larger than its content
		 * needs */
		ZSTD_DCtx_setParameter(x->d, ZSTD_d_windowLogMax, 23);
	if (!x || !x->d)
		return -ENOMEM;
	got = ZSTD_decompressDCtx(x->d, out, size, in, n);
	if (ZSTD_isError(got) || got != size) {
		/* a damaged frame leaves the context mid-frame */
		ZSTD_DCtx_reset(x->d, ZSTD_reset_session_only);
		return HAMLET_EFORMAT;
	}
	return 0;
}
