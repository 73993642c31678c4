/* Negentropy: reading and writing the messages' bounds and varints. */
#include "negentropy_internal.h"

#include "error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Reading messages
 */

/*
 * Check msg's size and read its version byte: 0 for v1, with r at the
 * first range, or 1 for another version.
 */
int neg__reader_open(struct reader *r, const uint8_t *msg, size_t len)
{
	uint8_t version;
	int rc;

	if (len > NEGENTROPY_MSG_MAX)
		return HAMLET_ETOOBIG;
	bytes_reader_init(&r->b, msg, len);
	r->last_timestamp = 0;
	if ((rc = bytes_get_u8(&r->b, &version)) < 0)
		return rc;
	if (version < 0x60 || version > 0x6f)
		return HAMLET_EFORMAT;
	return version == NEGENTROPY_PROTOCOL_V1 ? 0 : 1;
}

int neg__reader_get_bound(struct reader *r, struct bound *ret)
{
	struct bound b = { 0 };
	uint64_t v, len;
	int rc;

	if ((rc = bytes_get_varint(&r->b, &v)) < 0)
		return rc;
	if (v == 0) {
		b.timestamp = INFINITY_TS;
	} else {
		/* A sender never encodes a timestamp past infinity. */
		if (v - 1 > INFINITY_TS - r->last_timestamp)
			return HAMLET_EFORMAT;
		b.timestamp = r->last_timestamp + (v - 1);
	}
	if ((rc = bytes_get_varint(&r->b, &len)) < 0)
		return rc;
	if (len > ID_SIZE)
		return HAMLET_EFORMAT;
	if ((rc = bytes_get_bytes(&r->b, b.id, len)) < 0)
		return rc;
	b.id_len = len;
	r->last_timestamp = b.timestamp;
	*ret = b;
	return 0;
}

/* ------------------------------------------------------------------------
 * Writing messages
 */

int neg__writer_reserve(struct writer *w, size_t extra)
{
	size_t need, ncap;
	uint8_t *np;

	if (extra <= w->cap - w->len)
		return 0;
	if (extra > SIZE_MAX - w->len)
		return -ENOMEM;
	need = w->len + extra;
	ncap = w->cap ? w->cap : 256;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	np = realloc(w->p, ncap);
	if (!np)
		return -ENOMEM;
	w->p = np;
	w->cap = ncap;
	return 0;
}

int neg__writer_put(struct writer *w, const void *d, size_t n)
{
	int rc;

	if ((rc = neg__writer_reserve(w, n)) < 0)
		return rc;
	memcpy(w->p + w->len, d, n);
	w->len += n;
	return 0;
}

int neg__writer_put_varint(struct writer *w, uint64_t v)
{
	uint8_t buf[BYTES_VARINT_MAX];
	struct bytes_writer bw;
	int rc;

	bytes_writer_init(&bw, buf, sizeof(buf));
	if ((rc = bytes_put_varint(&bw, v)) < 0)
		return rc;
	return neg__writer_put(w, buf, bytes_written(&bw));
}

/* Timestamps go out as deltas; bounds in a message never go down. */
int neg__writer_put_bound(struct writer *w, const struct bound *b)
{
	uint64_t enc;
	int rc;

	if (b->timestamp == INFINITY_TS) {
		enc = 0;
	} else {
		enc = b->timestamp - w->last_timestamp + 1;
	}
	w->last_timestamp = b->timestamp;
	if ((rc = neg__writer_put_varint(w, enc)) < 0)
		return rc;
	if ((rc = neg__writer_put_varint(w, b->id_len)) < 0)
		return rc;
	return neg__writer_put(w, b->id, b->id_len);
}

int neg__writer_put_range_head(struct writer *w, const struct bound *b,
				 enum mode mode)
{
	int rc;

	if ((rc = neg__writer_put_bound(w, b)) < 0)
		return rc;
	return neg__writer_put_varint(w, mode);
}
