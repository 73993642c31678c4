#include "zst.h"

#include "error.h"

#include <errno.h>
#include <stdlib.h>
#include <zstd.h>

int zst_compress(const uint8_t *in, size_t n, uint8_t **ret, size_t *ret_len)
{
	size_t cap = ZSTD_compressBound(n), got;
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	uint8_t *out = malloc(cap ? cap : 1);

	if (!cc || !out) {
		ZSTD_freeCCtx(cc);
		free(out);
		return -ENOMEM;
	}
	/* the content size is written by default; the checksum is not */
	ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, ZST_LEVEL);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 1);
	got = ZSTD_compress2(cc, out, cap, in, n);
	ZSTD_freeCCtx(cc);
	if (ZSTD_isError(got)) {
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
	ZSTD_DCtx *dc = ZSTD_createDCtx();
	size_t got;

	if (!dc)
		return -ENOMEM;
	/* a frame may not ask for a window larger than its content needs */
	ZSTD_DCtx_setParameter(dc, ZSTD_d_windowLogMax, 23);
	got = ZSTD_decompressDCtx(dc, out, size, in, n);
	ZSTD_freeDCtx(dc);
	if (ZSTD_isError(got) || got != size)
		return HAMLET_EFORMAT;
	return 0;
}
