#include "mp.h"

#include "bytes.h"
#include "error.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define ZONE_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define ZONE_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define ZONE_POISON(p, n) ((void)(p), (void)(n))
#define ZONE_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define MP_MAX_DEPTH 16
#define ZONES_KEPT 4 /* zones a thread keeps for its next documents */

/*
 * Each document's objects live in a zone. Making one (two allocations)
 * and freeing it for every parsed envelope and body was a good part of
 * a received entry's cost, so each thread keeps a few closed documents'
 * zones, emptied, for the next ones; they go when the thread ends. Under
 * AddressSanitizer a kept zone's room is poisoned, so that an object
 * read after its document was closed is still reported.
 */
struct zones {
	msgpack_zone *z[ZONES_KEPT];
	int n;
};

static pthread_key_t zones_key;
static pthread_once_t zones_once = PTHREAD_ONCE_INIT;
static int zones_ok;

static void zones_free(void *p)
{
	struct zones *k = p;
	for (int i = 0; i < k->n; i++) {
		ZONE_UNPOISON(k->z[i]->chunk_list.ptr, k->z[i]->chunk_list.free);
		msgpack_zone_free(k->z[i]);
	}
	free(k);
}

static void zones_key_make(void)
{
	zones_ok = pthread_key_create(&zones_key, zones_free) == 0;
}

static struct zones *zones_mine(void)
{
	struct zones *k;

	pthread_once(&zones_once, zones_key_make);
	if (!zones_ok)
		return NULL;
	if (!(k = pthread_getspecific(zones_key))) {
		if (!(k = calloc(1, sizeof(*k))))
			return NULL;
		if (pthread_setspecific(zones_key, k) != 0) {
			free(k);
			return NULL;
		}
	}
	return k;
}

static msgpack_zone *zone_take(void)
{
	struct zones *k = zones_mine();
	msgpack_zone *z;
	if (k && k->n > 0) {
		z = k->z[--k->n];
		ZONE_UNPOISON(z->chunk_list.ptr, z->chunk_list.free);
		return z;
	}
	return msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE);
}

/* Keep z, emptied down to its first chunk, or free it. */
static void zone_give(msgpack_zone *z)
{
	struct zones *k;
	if (!z)
		return;
	if ((k = zones_mine()) && k->n < ZONES_KEPT) {
		msgpack_zone_clear(z);
		ZONE_POISON(z->chunk_list.ptr, z->chunk_list.free);
		k->z[k->n++] = z;
		return;
	}
	msgpack_zone_free(z);
}

/* The next n-byte (1, 2 or 4) big-endian length. */
static int get_len(struct bytes_reader *b, int n, uint64_t *ret)
{
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	int r;

	switch (n) {
	case 1:
		if ((r = bytes_get_u8(b, &v8)) < 0)
			return r;
		*ret = v8;
		return 0;
	case 2:
		if ((r = bytes_get_be16(b, &v16)) < 0)
			return r;
		*ret = v16;
		return 0;
	default:
		if ((r = bytes_get_be32(b, &v32)) < 0)
			return r;
		*ret = v32;
		return 0;
	}
}

/*
 * msgpack-c allocates a container's element array from the count in its
 * header, before it has seen a single element. This pass walks the token
 * stream without building anything and refuses counts over max_items or
 * over what the remaining bytes could possibly hold, so that the real
 * decode never allocates on the word of a hostile length.
 */
static int mp_scan(struct bytes_reader *b, int depth, size_t max_items)
{
	uint64_t n = 0, skip = 0, items = 0;
	uint8_t t;
	int r;
	if (depth > MP_MAX_DEPTH)
		return HAMLET_ETOOBIG;
	if ((r = bytes_get_u8(b, &t)) < 0)
		return r;

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
			if ((r = get_len(b, 1, &n)) < 0) return r;
			skip = n; break;
		case 0xc5: case 0xda:
			if ((r = get_len(b, 2, &n)) < 0) return r;
			skip = n; break;
		case 0xc6: case 0xdb:
			if ((r = get_len(b, 4, &n)) < 0) return r;
			skip = n; break;
		case 0xc7:
			if ((r = get_len(b, 1, &n)) < 0) return r;
			skip = n + 1; break;
		case 0xc8:
			if ((r = get_len(b, 2, &n)) < 0) return r;
			skip = n + 1; break;
		case 0xc9:
			if ((r = get_len(b, 4, &n)) < 0) return r;
			skip = n + 1; break;
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
			if ((r = get_len(b, 2, &n)) < 0) return r;
			items = n; break;
		case 0xdd:
			if ((r = get_len(b, 4, &n)) < 0) return r;
			items = n; break;
		case 0xde:
			if ((r = get_len(b, 2, &n)) < 0) return r;
			items = 2 * n; break;
		case 0xdf:
			if ((r = get_len(b, 4, &n)) < 0) return r;
			items = 2 * n; break;
		default:
			return HAMLET_EFORMAT; /* 0xc1 is never used */
		}
	}
	if (skip) {
		/* compared as uint64_t: skip may not fit a 32-bit size_t */
		if (skip > bytes_remaining(b))
			return HAMLET_EFORMAT;
		return bytes_skip(b, (size_t)skip);
	}
	if (items > 2 * (uint64_t)max_items)
		return HAMLET_ETOOBIG;
	/* every item takes at least one byte */
	if (items > bytes_remaining(b))
		return HAMLET_EFORMAT;
	for (uint64_t i = 0; i < items; i++)
		if ((r = mp_scan(b, depth + 1, max_items)) < 0)
			return r;
	return 0;
}

int mp_doc_parse(struct mp_doc *d, const uint8_t *buf, size_t len,
		 size_t max_items)
{
	struct bytes_reader b;
	size_t off = 0;
	int r;

	bytes_reader_init(&b, buf, len);
	if ((r = mp_scan(&b, 0, max_items)) < 0)
		return r;
	if (bytes_remaining(&b) != 0)
		return HAMLET_ETRAILING;
	msgpack_unpacked_init(&d->u);
	if (!(d->u.zone = zone_take()))
		return -ENOMEM;
	/* msgpack_unpack, unlike msgpack_unpack_next, fills a zone it is
	 * given; both refer to buf's bytes for strings and bins */
	msgpack_unpack_return ur = msgpack_unpack((const char *)buf, len, &off,
						  d->u.zone, &d->u.data);
	if (ur != MSGPACK_UNPACK_SUCCESS || off != len) {
		zone_give(d->u.zone);
		d->u.zone = NULL;
		return ur == MSGPACK_UNPACK_NOMEM_ERROR ? -ENOMEM
							: HAMLET_EFORMAT;
	}
	d->root = &d->u.data;
	return 0;
}

void mp_doc_close(struct mp_doc *d)
{
	if (!d)
		return;
	zone_give(d->u.zone);
	d->u.zone = NULL;
	d->root = NULL;
}

void *mp_doc_alloc(struct mp_doc *d, size_t n)
{
	return msgpack_zone_malloc(d->u.zone, n ? n : 1);
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
	/* msgpack-c gives NULL for an empty bin: never hand that on */
	*ret = o->via.bin.size ? (const uint8_t *)o->via.bin.ptr
			       : (const uint8_t *)"";
	*ret_len = o->via.bin.size;
	return 0;
}

int mp_get_bin_fixed(const msgpack_object *o, size_t n, uint8_t *out)
{
	if (o->type != MSGPACK_OBJECT_BIN)
		return HAMLET_ETYPE;
	if (o->via.bin.size != n)
		return o->via.bin.size > n ? HAMLET_ETOOBIG : HAMLET_EFORMAT;
	if (n)
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
	/* msgpack-c gives NULL for an empty string: never hand that on */
	*ret = o->via.str.size ? o->via.str.ptr : "";
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

const msgpack_object *mp_map_get(const msgpack_object *map, const char *key)
{
	size_t kl = strlen(key);
	if (!map || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == kl &&
		    memcmp(k->via.str.ptr, key, kl) == 0)
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

uint64_t mp_map_u64(const msgpack_object *map, const char *key)
{
	const msgpack_object *v = mp_map_get(map, key);
	uint64_t u = 0;
	if (v)
		mp_get_uint(v, UINT64_MAX, &u);
	return u;
}

