#include "refused.h"

#include "bytes.h"
#include "entry.h"
#include "error.h"
#include "hlc.h"
#include "utf8.h"

#include <string.h>

/* value: err (be32, negated) || at_ms (be64) || why length (be16) || why ||
 * envelope length (be16) || envelope || signature (64) */
#define ROW_MAX (4 + 8 + 2 + REFUSED_WHY_MAX + 2 + ENTRY_MAX_ENVELOPE + 64)

static int over_add(struct store_txn *t)
{
	const void *v;
	size_t vl;
	uint64_t n = 0;
	uint8_t b[8];
	int r = store_get(t, ST_META, "refused_over", 12, &v, &vl);

	if (r < 0 && r != HAMLET_ENOTFOUND)
		return r;
	if (r == 0 && vl == 8)
		n = store_get_be64(v);
	store_be64(b, n + 1);
	return store_put(t, ST_META, "refused_over", 12, b, 8, 0);
}

int refused_put(struct store_txn *t, const uint8_t id[32], int err,
		const char *why, const uint8_t *env, size_t env_len,
		const uint8_t *sig)
{
	static const uint8_t nosig[64];
	uint8_t row[ROW_MAX];
	size_t wl = why ? strlen(why) : 0, o = 0;
	uint64_t n;
	const void *v;
	size_t vl;
	int r;

	r = store_get(t, ST_REFUSED, id, 32, &v, &vl);
	if (r == 0)
		return 0;
	if (r != HAMLET_ENOTFOUND)
		return r;
	if ((r = store_count(t, ST_REFUSED, &n)) < 0)
		return r;
	if (n >= REFUSED_MAX)
		return over_add(t);
	if (wl > REFUSED_WHY_MAX) /* between two characters, never in one */
		wl = utf8_cut(why, wl, REFUSED_WHY_MAX);
	if (env_len > ENTRY_MAX_ENVELOPE)
		env_len = 0;
	row[o++] = (uint8_t)((uint32_t)-err >> 24);
	row[o++] = (uint8_t)((uint32_t)-err >> 16);
	row[o++] = (uint8_t)((uint32_t)-err >> 8);
	row[o++] = (uint8_t)(uint32_t)-err;
	store_be64(row + o, hlc_wall_ms());
	o += 8;
	row[o++] = (uint8_t)(wl >> 8);
	row[o++] = (uint8_t)wl;
	memcpy(row + o, why, wl);
	o += wl;
	row[o++] = (uint8_t)(env_len >> 8);
	row[o++] = (uint8_t)env_len;
	memcpy(row + o, env, env_len);
	o += env_len;
	memcpy(row + o, sig ? sig : nosig, 64);
	o += 64;
	return store_put(t, ST_REFUSED, id, 32, row, o, 0);
}

static int row_decode(const void *k, size_t kl, const void *v, size_t vl,
		      struct refused_row *ret)
{
	struct bytes_reader r;
	uint32_t err;
	uint16_t el, wl;

	if (kl != 32)
		return HAMLET_ECORRUPT;
	memcpy(ret->id, k, 32);
	bytes_reader_init(&r, v, vl);
	if (bytes_get_be32(&r, &err) < 0 || bytes_get_be64(&r, &ret->at_ms) < 0 ||
	    bytes_get_be16(&r, &wl) < 0 || wl > REFUSED_WHY_MAX ||
	    bytes_get_bytes(&r, (uint8_t *)ret->why, wl) < 0 ||
	    bytes_get_be16(&r, &el) < 0 || el > ENTRY_MAX_ENVELOPE ||
	    bytes_borrow(&r, el, &ret->env) < 0 ||
	    bytes_borrow(&r, 64, &ret->sig) < 0 || bytes_remaining(&r) != 0)
		return HAMLET_ECORRUPT;
	ret->why[wl] = 0;
	ret->err = -(int)err;
	ret->env_len = el;
	return 0;
}

int refused_each(struct store_txn *t, refused_cb cb, void *ctx)
{
	struct store_cursor *c;
	struct refused_row row;
	const void *k, *v;
	size_t kl, vl;
	int r;

	if ((r = store_cursor_open(t, ST_REFUSED, &c)) < 0)
		return r;
	for (r = store_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); r == 1;
	     r = store_cursor_next(c, &k, &kl, &v, &vl)) {
		if ((r = row_decode(k, kl, v, vl, &row)) < 0 ||
		    (r = cb(ctx, &row)) < 0)
			break;
	}
	store_cursor_close(c);
	return r < 0 ? r : 0;
}

int refused_over(struct store_txn *t, uint64_t *ret)
{
	return store_meta_u64(t, "refused_over", ret);
}
