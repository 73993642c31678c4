/*
 * Every getter first checks that the bytes are there, then reads them,
 * then advances: a failed get changes nothing.
 */
#include "bytes.h"

#include "error.h"

#include <errno.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Reading
 */

/* Stands in for a NULL buffer, so that r->p + r->off is always defined. */
static const uint8_t no_bytes[1];

void bytes_reader_init(struct bytes_reader *r, const void *p, size_t len)
{
	r->p = p ? p : no_bytes;
	r->len = p ? len : 0;
	r->off = 0;
}

size_t bytes_remaining(const struct bytes_reader *r)
{
	return r->len - r->off;
}

size_t bytes_offset(const struct bytes_reader *r)
{
	return r->off;
}

int bytes_peek(const struct bytes_reader *r, size_t n, const uint8_t **ret)
{
	if (n > bytes_remaining(r))
		return HAMLET_EFORMAT;
	*ret = r->p + r->off;
	return 0;
}

int bytes_borrow(struct bytes_reader *r, size_t n, const uint8_t **ret)
{
	int rc;

	if ((rc = bytes_peek(r, n, ret)) < 0)
		return rc;
	r->off += n;
	return 0;
}

int bytes_skip(struct bytes_reader *r, size_t n)
{
	const uint8_t *p;

	return bytes_borrow(r, n, &p);
}

int bytes_get_bytes(struct bytes_reader *r, void *out, size_t n)
{
	const uint8_t *p;
	int rc;

	if ((rc = bytes_borrow(r, n, &p)) < 0)
		return rc;
	if (n)
		memcpy(out, p, n);
	return 0;
}

/* The next n (at most 8) bytes as a big-endian number. */
static int get_be(struct bytes_reader *r, size_t n, uint64_t *ret)
{
	const uint8_t *p;
	uint64_t v = 0;
	int rc;

	if ((rc = bytes_borrow(r, n, &p)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	*ret = v;
	return 0;
}

int bytes_get_u8(struct bytes_reader *r, uint8_t *ret)
{
	uint64_t v;
	int rc;

	if ((rc = get_be(r, 1, &v)) < 0)
		return rc;
	*ret = (uint8_t)v;
	return 0;
}

int bytes_get_be16(struct bytes_reader *r, uint16_t *ret)
{
	uint64_t v;
	int rc;

	if ((rc = get_be(r, 2, &v)) < 0)
		return rc;
	*ret = (uint16_t)v;
	return 0;
}

int bytes_get_be32(struct bytes_reader *r, uint32_t *ret)
{
	uint64_t v;
	int rc;

	if ((rc = get_be(r, 4, &v)) < 0)
		return rc;
	*ret = (uint32_t)v;
	return 0;
}

int bytes_get_be64(struct bytes_reader *r, uint64_t *ret)
{
	return get_be(r, 8, ret);
}

int bytes_get_varint(struct bytes_reader *r, uint64_t *ret)
{
	const uint8_t *p = r->p + r->off;
	size_t avail = bytes_remaining(r);
	uint64_t v = 0;

	/* A leading zero group would make a second encoding of one value. */
	if (avail > 0 && p[0] == 0x80)
		return HAMLET_EFORMAT;
	for (size_t i = 0; i < avail; i++) {
		if (v > UINT64_MAX >> 7)
			return HAMLET_EFORMAT;
		v = (v << 7) | (p[i] & 0x7f);
		if (!(p[i] & 0x80)) {
			r->off += i + 1;
			*ret = v;
			return 0;
		}
	}
	return HAMLET_EFORMAT;
}

/* ------------------------------------------------------------------------
 * Writing
 */

void bytes_writer_init(struct bytes_writer *w, void *p, size_t cap)
{
	static uint8_t no_room[1]; /* as no_bytes; nothing is ever put here */

	w->p = p ? p : no_room;
	w->cap = p ? cap : 0;
	w->off = 0;
}

size_t bytes_written(const struct bytes_writer *w)
{
	return w->off;
}

int bytes_reserve(struct bytes_writer *w, size_t n, uint8_t **ret)
{
	if (n > w->cap - w->off)
		return -ENOBUFS;
	*ret = w->p + w->off;
	w->off += n;
	return 0;
}

int bytes_put_bytes(struct bytes_writer *w, const void *d, size_t n)
{
	uint8_t *p;
	int rc;

	if ((rc = bytes_reserve(w, n, &p)) < 0)
		return rc;
	if (n)
		memcpy(p, d, n);
	return 0;
}

/* v as an n-byte (at most 8) big-endian number. */
static int put_be(struct bytes_writer *w, size_t n, uint64_t v)
{
	uint8_t *p;
	int rc;

	if ((rc = bytes_reserve(w, n, &p)) < 0)
		return rc;
	for (size_t i = n; i-- > 0; v >>= 8)
		p[i] = (uint8_t)v;
	return 0;
}

int bytes_put_u8(struct bytes_writer *w, uint8_t v)
{
	return put_be(w, 1, v);
}

int bytes_put_be16(struct bytes_writer *w, uint16_t v)
{
	return put_be(w, 2, v);
}

int bytes_put_be32(struct bytes_writer *w, uint32_t v)
{
	return put_be(w, 4, v);
}

int bytes_put_be64(struct bytes_writer *w, uint64_t v)
{
	return put_be(w, 8, v);
}

int bytes_put_varint(struct bytes_writer *w, uint64_t v)
{
	uint8_t rev[BYTES_VARINT_MAX];
	uint8_t *p;
	size_t n = 0;
	int rc;

	do {
		rev[n++] = v & 0x7f;
		v >>= 7;
	} while (v);
	if ((rc = bytes_reserve(w, n, &p)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		p[i] = rev[n - 1 - i] | (i + 1 < n ? 0x80 : 0);
	return 0;
}
