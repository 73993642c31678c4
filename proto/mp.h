/*
 * mp: the one bounds-checked reader for msgpack data from peers and files,
 * and small helpers for writing it.
 *
 * Decoding is done by msgpack-c; this module adds what its C API lacks:
 * a cap on container sizes before anything is allocated, the rule that a
 * buffer holds exactly one object (no trailing bytes), and typed getters
 * that return an error instead of trusting the type.
 */
#ifndef HAMLET_MP_H
#define HAMLET_MP_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

/* A parsed document; objects point into its zone and, for str/bin, possibly
 * into the input buffer, so both must outlive any object read from it. */
struct mp_doc {
	msgpack_unpacked u;
	const msgpack_object *root;
};

/*
 * Parse exactly one msgpack object from buf. Containers may hold at most
 * max_items elements each and nest at most 16 deep. Returns 0,
 * HAMLET_EFORMAT (not msgpack, or truncated), HAMLET_ETRAILING,
 * HAMLET_ETOOBIG (a container over max_items). On success the caller
 * must mp_doc_close(); on failure nothing is left to free.
 */
int mp_doc_parse(struct mp_doc *d, const uint8_t *buf, size_t len,
		 size_t max_items);
void mp_doc_close(struct mp_doc *d);
/* n bytes that live as long as the document (freed by mp_doc_close());
 * NULL when out of memory. */
void *mp_doc_alloc(struct mp_doc *d, size_t n);

/* Typed getters: 0 on success, HAMLET_ETYPE on a wrong type, HAMLET_ETOOBIG
 * when over the bound. Pointers returned borrow from the document. */
int mp_get_uint(const msgpack_object *o, uint64_t max, uint64_t *ret);
int mp_get_int(const msgpack_object *o, int64_t *ret);
int mp_get_bool(const msgpack_object *o, int *ret);
int mp_get_bin(const msgpack_object *o, size_t max, const uint8_t **ret,
	       size_t *ret_len);
int mp_get_bin_fixed(const msgpack_object *o, size_t n, uint8_t *out);
int mp_get_str(const msgpack_object *o, size_t max, const char **ret,
	       size_t *ret_len);
/* Copy a str into out (cap includes the NUL); a NUL inside is HAMLET_EFORMAT. */
int mp_get_cstr(const msgpack_object *o, char *out, size_t cap);
/* An array of exactly n elements (n == SIZE_MAX: any count up to max). */
int mp_get_array(const msgpack_object *o, size_t n, size_t max,
		 const msgpack_object **ret_items, size_t *ret_n);
int mp_get_map(const msgpack_object *o, size_t max,
	       const msgpack_object_kv **ret_kv, size_t *ret_n);
static inline int mp_is_nil(const msgpack_object *o)
{
	return o->type == MSGPACK_OBJECT_NIL;
}

/* Writing: an sbuffer with a packer bound to it. */
struct mp_writer {
	msgpack_sbuffer sb;
	msgpack_packer pk;
};
void mp_writer_init(struct mp_writer *w);
void mp_writer_destroy(struct mp_writer *w);
/* Hand the written bytes to the caller (free() them) and reset w. */
uint8_t *mp_writer_take(struct mp_writer *w, size_t *ret_len);
int mp_pack_bin(msgpack_packer *pk, const void *p, size_t n);
int mp_pack_str(msgpack_packer *pk, const char *s);
int mp_pack_strn(msgpack_packer *pk, const char *s, size_t n);
/* Re-pack an already parsed object (copies it into pk). */
int mp_pack_object(msgpack_packer *pk, const msgpack_object *o);

/* Compare two objects for equality of type and value. */
/* The value under text key in map (NULL: none, or map is not a map). */
const msgpack_object *mp_map_get(const msgpack_object *map, const char *key);
/* That value as an unsigned integer; 0 when absent or not one. */
uint64_t mp_map_u64(const msgpack_object *map, const char *key);
int mp_object_equal(const msgpack_object *a, const msgpack_object *b);

#endif
