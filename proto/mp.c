#include "mp.h"

#include "error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MP_MAX_DEPTH 16

/*
 * msgpack-c allocates a container's element array from the count in its
 * header, before it has seen a single element. This pass walks the token
 * stream without building anything and refuses counts over max_items or
 * over what the remaining bytes could possibly hold, so that the real
 * decode never allocates on the word of a hostile length.
 */
static int be_len(const uint8_t *p, size_t avail, size_t n, uint64_t *ret)
{
	uint64_t v = 0;
	if (avail < n)
		return HAMLET_EFORMAT;
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	*ret = v;
	return 0;
}

static int mp_scan(const uint8_t *buf, size_t len, size_t *off, int depth,
		   size_t max_items)
{
	uint64_t n = 0, skip = 0, items = 0;
	int r;
	if (depth > MP_MAX_DEPTH)
		return HAMLET_ETOOBIG;
	if (*off >= len)
		return HAMLET_EFORMAT;
	uint8_t t = buf[(*off)++];
	const uint8_t *p = buf + *off;
	size_t avail = len - *off;

	if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3)
		return 0;
	if ((t & 0xe0) == 0xa0) {
		skip = t & 0x1f;
	} else if ((t & 0xf0) == 0x90) {
		items = t & 0x0f;
	} else if ((t & 0xf0) == 0x80) {
		items = 2 * (uint64_t)(t & 0x0f);
	} else {
		switch (t) {
		case 0xc4: case 0xd9:
			if ((r = be_len(p, avail, 1, &n)) < 0) return r;
			*off += 1; skip = n; break;
		case 0xc5: case 0xda:
			if ((r = be_len(p, avail, 2, &n)) < 0) return r;
			*off += 2; skip = n; break;
		case 0xc6: case 0xdb:
			if ((r = be_len(p, avail, 4, &n)) < 0) return r;
			*off += 4; skip = n; break;
		case 0xc7:
			if ((r = be_len(p, avail, 1, &n)) < 0) return r;
			*off += 1; skip = n + 1; break;
		case 0xc8:
			if ((r = be_len(p, avail, 2, &n)) < 0) return r;
			*off += 2; skip = n + 1; break;
		case 0xc9:
			if ((r = be_len(p, avail, 4, &n)) < 0) return r;
			*off += 4; skip = n + 1; break;
		case 0xca: skip = 4; break;
		case 0xcb: skip = 8; break;
		case 0xcc: case 0xd0: skip = 1; break;
		case 0xcd: case 0xd1: skip = 2; break;
		case 0xce: case 0xd2: skip = 4; break;
		case 0xcf: case 0xd3: skip = 8; break;
		case 0xd4: skip = 2; break;
		case 0xd5: skip = 3; break;
		case 0xd6: skip = 5; break;
		case 0xd7: skip = 9; break;
		case 0xd8: skip = 17; break;
		case 0xdc:
			if ((r = be_len(p, avail, 2, &n)) < 0) return r;
			*off += 2; items = n; break;
		case 0xdd:
			if ((r = be_len(p, avail, 4, &n)) < 0) return r;
			*off += 4; items = n; break;
		case 0xde:
			if ((r = be_len(p, avail, 2, &n)) < 0) return r;
			*off += 2; items = 2 * n; break;
		case 0xdf:
			if ((r = be_len(p, avail, 4, &n)) < 0) return r;
			*off += 4; items = 2 * n; break;
		default:
			return HAMLET_EFORMAT; /* 0xc1 is never used */
		}
	}
	if (skip) {
		if (skip > len - *off)
			return HAMLET_EFORMAT;
		*off += skip;
		return 0;
	}
	if (items > 2 * (uint64_t)max_items)
		return HAMLET_ETOOBIG;
	if (items > len - *off)
		return HAMLET_EFORMAT;
	for (uint64_t i = 0; i < items; i++)
		if ((r = mp_scan(buf, len, off, depth + 1, max_items)) < 0)
			return r;
	return 0;
}

int mp_doc_parse(struct mp_doc *d, const uint8_t *buf, size_t len,
		 size_t max_items)
{
	size_t off = 0;
	int r;

	if ((r = mp_scan(buf, len, &off, 0, max_items)) < 0)
		return r;
	if (off != len)
		return HAMLET_ETRAILING;
	msgpack_unpacked_init(&d->u);
	off = 0;
	msgpack_unpack_return ur =
		msgpack_unpack_next(&d->u, (const char *)buf, len, &off);
	if (ur != MSGPACK_UNPACK_SUCCESS || off != len) {
		msgpack_unpacked_destroy(&d->u);
		return ur == MSGPACK_UNPACK_NOMEM_ERROR ? -ENOMEM : HAMLET_EFORMAT;
	}
	d->root = &d->u.data;
	return 0;
}

void mp_doc_close(struct mp_doc *d)
{
	if (!d)
		return;
	msgpack_unpacked_destroy(&d->u);
	d->root = NULL;
}

int mp_get_uint(const msgpack_object *o, uint64_t max, uint64_t *ret)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return HAMLET_ETYPE;
	if (o->via.u64 > max)
		return HAMLET_ETOOBIG;
	*ret = o->via.u64;
	return 0;
}

int mp_get_int(const msgpack_object *o, int64_t *ret)
{
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		if (o->via.u64 > (uint64_t)INT64_MAX)
			return HAMLET_ETOOBIG;
		*ret = (int64_t)o->via.u64;
		return 0;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*ret = o->via.i64;
		return 0;
	}
	return HAMLET_ETYPE;
}

int mp_get_bool(const msgpack_object *o, int *ret)
{
	if (o->type != MSGPACK_OBJECT_BOOLEAN)
		return HAMLET_ETYPE;
	*ret = o->via.boolean ? 1 : 0;
	return 0;
}

int mp_get_bin(const msgpack_object *o, size_t max, const uint8_t **ret,
	       size_t *ret_len)
{
	if (o->type != MSGPACK_OBJECT_BIN)
		return HAMLET_ETYPE;
	if (o->via.bin.size > max)
		return HAMLET_ETOOBIG;
	*ret = (const uint8_t *)o->via.bin.ptr;
	*ret_len = o->via.bin.size;
	return 0;
}

int mp_get_bin_fixed(const msgpack_object *o, size_t n, uint8_t *out)
{
	if (o->type != MSGPACK_OBJECT_BIN)
		return HAMLET_ETYPE;
	if (o->via.bin.size != n)
		return o->via.bin.size > n ? HAMLET_ETOOBIG : HAMLET_EFORMAT;
	memcpy(out, o->via.bin.ptr, n);
	return 0;
}

int mp_get_str(const msgpack_object *o, size_t max, const char **ret,
	       size_t *ret_len)
{
	if (o->type != MSGPACK_OBJECT_STR)
		return HAMLET_ETYPE;
	if (o->via.str.size > max)
		return HAMLET_ETOOBIG;
	*ret = o->via.str.ptr;
	*ret_len = o->via.str.size;
	return 0;
}

int mp_get_cstr(const msgpack_object *o, char *out, size_t cap)
{
	const char *s;
	size_t n;
	int r;
	if (cap == 0)
		return -EINVAL;
	if ((r = mp_get_str(o, cap - 1, &s, &n)) < 0)
		return r;
	if (memchr(s, '\0', n))
		return HAMLET_EFORMAT;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

int mp_get_array(const msgpack_object *o, size_t n, size_t max,
		 const msgpack_object **ret_items, size_t *ret_n)
{
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return HAMLET_ETYPE;
	if (n != SIZE_MAX && o->via.array.size != n)
		return o->via.array.size > n ? HAMLET_ETOOBIG : HAMLET_EFORMAT;
	if (n == SIZE_MAX && o->via.array.size > max)
		return HAMLET_ETOOBIG;
	*ret_items = o->via.array.ptr;
	if (ret_n)
		*ret_n = o->via.array.size;
	return 0;
}

int mp_get_map(const msgpack_object *o, size_t max,
	       const msgpack_object_kv **ret_kv, size_t *ret_n)
{
	if (o->type != MSGPACK_OBJECT_MAP)
		return HAMLET_ETYPE;
	if (o->via.map.size > max)
		return HAMLET_ETOOBIG;
	*ret_kv = o->via.map.ptr;
	*ret_n = o->via.map.size;
	return 0;
}

void mp_writer_init(struct mp_writer *w)
{
	msgpack_sbuffer_init(&w->sb);
	msgpack_packer_init(&w->pk, &w->sb, msgpack_sbuffer_write);
}

void mp_writer_destroy(struct mp_writer *w)
{
	msgpack_sbuffer_destroy(&w->sb);
}

uint8_t *mp_writer_take(struct mp_writer *w, size_t *ret_len)
{
	*ret_len = w->sb.size;
	uint8_t *p = (uint8_t *)msgpack_sbuffer_release(&w->sb);
	if (!p) /* nothing written yet: hand back an empty allocation */
		p = malloc(1);
	return p;
}

int mp_pack_bin(msgpack_packer *pk, const void *p, size_t n)
{
	if (msgpack_pack_bin(pk, n) < 0 || msgpack_pack_bin_body(pk, p, n) < 0)
		return -ENOMEM;
	return 0;
}

int mp_pack_strn(msgpack_packer *pk, const char *s, size_t n)
{
	if (msgpack_pack_str(pk, n) < 0 || msgpack_pack_str_body(pk, s, n) < 0)
		return -ENOMEM;
	return 0;
}

int mp_pack_str(msgpack_packer *pk, const char *s)
{
	return mp_pack_strn(pk, s, strlen(s));
}

int mp_pack_object(msgpack_packer *pk, const msgpack_object *o)
{
	return msgpack_pack_object(pk, *o) < 0 ? -ENOMEM : 0;
}

int mp_object_equal(const msgpack_object *a, const msgpack_object *b)
{
	return msgpack_object_equal(*a, *b) ? 1 : 0;
}
