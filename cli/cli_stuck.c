/*
 * What this node writes, stuck: a peer this node dials that takes its
 * writes (its scope holds this node's) is not connected, entries wait for
 * it, and no connected peer takes them either. Status warns of it and
 * `hamlet sync --wait` fails on it, naming the peer; a province, whose
 * every peer lies below it, is never stuck so.
 */
#include "cli.h"
#include "entry.h"
#include "status.h"

#include <sodium.h>
#include <string.h>

/* Does a peer certified for scope s (as status names it) take what is
 * written in scope own? */
static int takes(const msgpack_object *p, const char *own)
{
	const msgpack_object *s = cli_mp_get(p, "scope");
	char sc[ENTRY_MAX_SCOPE + 1];
	if (!s || s->type != MSGPACK_OBJECT_STR ||
	    s->via.str.size >= sizeof(sc))
		return 0;
	memcpy(sc, s->via.str.ptr, s->via.str.size);
	sc[s->via.str.size] = 0;
	return strcmp(sc, own) == 0 || entry_scope_under(own, sc);
}

/* Is p's address or key one of those in res's "dials"? */
static int dialled(const msgpack_object *res, const msgpack_object *p)
{
	const msgpack_object *d = cli_mp_get(res, "dials");
	for (uint32_t i = 0; d && d->type == MSGPACK_OBJECT_ARRAY &&
			     i < d->via.array.size;
	     i++)
		for (int k = 0; k < 2; k++) {
			const char *f = k ? "key" : "addr";
			const msgpack_object *a = cli_mp_get(&d->via.array.ptr[i], f);
			const msgpack_object *b = cli_mp_get(p, f);
			if (a && b && a->type == MSGPACK_OBJECT_STR &&
			    b->type == MSGPACK_OBJECT_STR &&
			    a->via.str.size == b->via.str.size &&
			    memcmp(a->via.str.ptr, b->via.str.ptr,
				   a->via.str.size) == 0)
				return 1;
		}
	return 0;
}

static int up(const msgpack_object *p)
{
	const msgpack_object *c = cli_mp_get(p, "connected");
	return c && c->type == MSGPACK_OBJECT_BOOLEAN && c->via.boolean;
}

int cli_writes_stuck(struct node *n, const msgpack_object *res,
		     char *ret_who, size_t wl)
{
	const msgpack_object *peers = cli_mp_get(res, "peers");
	uint32_t np = peers && peers->type == MSGPACK_OBJECT_ARRAY
			      ? peers->via.array.size
			      : 0;
	for (uint32_t i = 0; i < np; i++)
		if (up(&peers->via.array.ptr[i]) &&
		    takes(&peers->via.array.ptr[i], n->scope))
			return 0;
	for (uint32_t i = 0; i < np; i++) {
		const msgpack_object *p = &peers->via.array.ptr[i];
		const msgpack_object *k = cli_mp_get(p, "key");
		const msgpack_object *nm = cli_mp_get(p, "name");
		const msgpack_object *a = cli_mp_get(p, "addr");
		uint8_t key[32];
		uint64_t newest = 0, waiting = 0;
		if (up(p) || !takes(p, n->scope) || !dialled(res, p) || !k ||
		    k->type != MSGPACK_OBJECT_STR ||
		    sodium_hex2bin(key, 32, k->via.str.ptr, k->via.str.size,
				   NULL, NULL, NULL) != 0 ||
		    status_peer_behind(n, key, cli_mp_u64(p, "last_sync_ms"),
				       &newest, &waiting) < 0 ||
		    !waiting)
			continue;
		if (nm && nm->type == MSGPACK_OBJECT_STR &&
		    a && a->type == MSGPACK_OBJECT_STR)
			snprintf(ret_who, wl, "%.*s (%.*s)",
				 (int)nm->via.str.size, nm->via.str.ptr,
				 (int)a->via.str.size, a->via.str.ptr);
		else if (a && a->type == MSGPACK_OBJECT_STR)
			snprintf(ret_who, wl, "%.*s", (int)a->via.str.size,
				 a->via.str.ptr);
		else
			snprintf(ret_who, wl, "%.16s", k->via.str.ptr);
		return 1;
	}
	return 0;
}
