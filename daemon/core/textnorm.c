/*
 * textnorm: text in NFC, with libutf8proc (see textnorm.h).
 */
#include "textnorm.h"

#include "mp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/*
 * s (n bytes) in NFC: 1 with *ret (malloc()ed) and *ret_len when that
 * differs from s; 0 when s is in NFC already, or is not UTF-8 (left for
 * the schema to judge); -ENOMEM.
 */
static int str_nfc(const char *s, size_t n, uint8_t **ret, size_t *ret_len)
{
	utf8proc_uint8_t *out = NULL;
	utf8proc_ssize_t k;
	size_t i = 0;

	while (i < n && !((unsigned char)s[i] & 0x80))
		i++;
	if (i == n)
		return 0; /* ASCII: every field name, date, enum value, ID */
	/* STABLE: only compositions Unicode promises never to change, so
	 * that a value stays byte for byte what every version gives */
	k = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &out,
			 UTF8PROC_STABLE | UTF8PROC_COMPOSE);
	if (k == UTF8PROC_ERROR_NOMEM)
		return -ENOMEM;
	if (k < 0)
		return 0;
	if ((size_t)k == n && memcmp(out, s, n) == 0) {
		free(out);
		return 0;
	}
	*ret = out;
	*ret_len = (size_t)k;
	return 1;
}

static int ascii(const msgpack_object *o)
{
	if (o->type != MSGPACK_OBJECT_STR)
		return 1;
	for (uint32_t i = 0; i < o->via.str.size; i++)
		if ((unsigned char)o->via.str.ptr[i] & 0x80)
			return 0;
	return 1;
}

/* 1 when every text of body is ASCII, so in NFC: most bodies, looked at
 * without a copy made. */
static int body_ascii(const msgpack_object *body)
{
	for (uint32_t i = 0; i < body->via.map.size; i++) {
		const msgpack_object *v = &body->via.map.ptr[i].val;
		if (v->type != MSGPACK_OBJECT_MAP) {
			if (!ascii(v))
				return 0;
			continue;
		}
		for (uint32_t j = 0; j < v->via.map.size; j++)
			if (!ascii(&v->via.map.ptr[j].key) ||
			    !ascii(&v->via.map.ptr[j].val))
				return 0;
	}
	return 1;
}

/* o into pk, in NFC when it is text; *changed set when that differed. */
static int pack_nfc(msgpack_packer *pk, const msgpack_object *o, int *changed)
{
	uint8_t *t = NULL;
	size_t tl = 0;
	int r;

	if (o->type != MSGPACK_OBJECT_STR)
		return mp_pack_object(pk, o);
	if ((r = str_nfc(o->via.str.ptr, o->via.str.size, &t, &tl)) < 0)
		return r;
	if (r == 0)
		return mp_pack_strn(pk, o->via.str.ptr, o->via.str.size);
	*changed = 1;
	r = mp_pack_strn(pk, (const char *)t, tl);
	free(t);
	return r;
}

int textnorm_body_nfc(const msgpack_object *body, uint8_t **ret,
		      size_t *ret_len)
{
	struct mp_writer w;
	int changed = 0, r = 0;

	if (body->type != MSGPACK_OBJECT_MAP || body_ascii(body))
		return 0;
	mp_writer_init(&w);
	if (msgpack_pack_map(&w.pk, body->via.map.size) < 0) {
		r = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < body->via.map.size && r == 0; i++) {
		const msgpack_object_kv *kv = &body->via.map.ptr[i];
		const msgpack_object *v = &kv->val;

		/* field names are ASCII: the schema has no other */
		if ((r = mp_pack_object(&w.pk, &kv->key)) < 0)
			break;
		if (v->type != MSGPACK_OBJECT_MAP) {
			r = pack_nfc(&w.pk, v, &changed);
			continue;
		}
		/* a map field ({"ghi chú": "..."}): its keys are text too */
		if (msgpack_pack_map(&w.pk, v->via.map.size) < 0) {
			r = -ENOMEM;
			break;
		}
		for (uint32_t j = 0; j < v->via.map.size && r == 0; j++)
			if ((r = pack_nfc(&w.pk, &v->via.map.ptr[j].key,
					  &changed)) == 0)
				r = pack_nfc(&w.pk, &v->via.map.ptr[j].val,
					     &changed);
	}
	if (r < 0 || !changed)
		goto out;
	if (!(*ret = mp_writer_take(&w, ret_len))) {
		r = -ENOMEM;
		goto out;
	}
	r = 1;
out:
	mp_writer_destroy(&w);
	return r;
}
