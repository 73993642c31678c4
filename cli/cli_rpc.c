/*
 * Talking to a running hamletd over its local socket (status, peers,
 * sync). The answer is parsed with proto/mp.h like any other input.
 */
#include "cli.h"

#include "error.h"
#include "rpc_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *cli_socket_path(const char *opt)
{
	static char buf[4200];
	const char *env = getenv("HAMLET_SOCKET");
	if (opt)
		return opt;
	if (env && env[0])
		return env;
	snprintf(buf, sizeof(buf), "%s/hamletd.sock", cli_home());
	return buf;
}

int cli_rpc(const char *sock, const char *method, const char *arg,
	    int quiet_if_down, struct mp_doc *ret_doc, uint8_t **ret_buf,
	    const msgpack_object **ret_result)
{
	uint8_t *buf = NULL;
	size_t len;
	const msgpack_object *a;
	int64_t code;
	int r = rpc_client_call(sock, method, arg, 10000, &buf, &len);

	if (r == -ENOENT || r == -ECONNREFUSED) {
		if (!quiet_if_down)
			cli_err("hamletd is not running for %s (no daemon at %s): start it with \"systemctl start hamletd\" or \"hamletd --home %s\"",
				cli_home(), sock, cli_home());
		return -ENOENT;
	}
	if (r < 0) {
		cli_err("cannot talk to hamletd at %s: %s", sock,
			hamlet_strerror(r));
		return r;
	}
	if (mp_doc_parse(ret_doc, buf, len, 1 << 16) < 0) {
		free(buf);
		cli_err("hamletd at %s sent an answer that does not parse", sock);
		return HAMLET_EFORMAT;
	}
	if (mp_get_array(ret_doc->root, 2, 0, &a, NULL) < 0 ||
	    mp_get_int(&a[0], &code) < 0) {
		mp_doc_close(ret_doc);
		free(buf);
		cli_err("hamletd at %s sent an answer of the wrong shape", sock);
		return HAMLET_EFORMAT;
	}
	if (code < 0) {
		const char *s = "";
		size_t sl = 0;
		mp_get_str(&a[1], 200, &s, &sl);
		cli_err("hamletd refused \"%s\": %.*s", method, (int)sl, s);
		mp_doc_close(ret_doc);
		free(buf);
		return (int)code;
	}
	*ret_buf = buf;
	*ret_result = &a[1];
	return 0;
}

const msgpack_object *cli_mp_get(const msgpack_object *map, const char *key)
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

uint64_t cli_mp_u64(const msgpack_object *map, const char *key)
{
	const msgpack_object *v = cli_mp_get(map, key);
	uint64_t u = 0;
	if (v)
		mp_get_uint(v, UINT64_MAX, &u);
	return u;
}

/* --- writes ------------------------------------------------------------ */

#define WRITE_CHUNK_BYTES ((size_t)900 << 10)

/* Send ops[0..n) as one "write" request; fills out and failed. */
static int write_rpc(const char *sock, const struct log_op *ops, size_t n,
		     struct log_out *out, size_t *ret_failed, char *why,
		     size_t wl)
{
	struct mp_writer inner, req;
	uint8_t *resp = NULL;
	size_t rl;
	struct mp_doc doc;
	const msgpack_object *a, *list;
	int64_t code;
	int r;

	mp_writer_init(&inner);
	msgpack_pack_array(&inner.pk, n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_array(&inner.pk, 6);
		msgpack_pack_uint64(&inner.pk, (uint64_t)ops[i].kind);
		mp_pack_str(&inner.pk, ops[i].collection);
		mp_pack_str(&inner.pk, ops[i].record_id);
		if (ops[i].scope)
			mp_pack_str(&inner.pk, ops[i].scope);
		else
			msgpack_pack_nil(&inner.pk);
		if (ops[i].body)
			mp_pack_bin(&inner.pk, ops[i].body, ops[i].body_len);
		else
			msgpack_pack_nil(&inner.pk);
		if (ops[i].resolve)
			msgpack_pack_true(&inner.pk);
		else
			msgpack_pack_false(&inner.pk);
	}
	mp_writer_init(&req);
	msgpack_pack_array(&req.pk, 2);
	mp_pack_str(&req.pk, "write");
	mp_pack_bin(&req.pk, inner.sb.data, inner.sb.size);
	mp_writer_destroy(&inner);
	r = rpc_client_call_raw(sock, (const uint8_t *)req.sb.data, req.sb.size,
				600000, &resp, &rl);
	mp_writer_destroy(&req);
	if (r < 0)
		return r;
	if (mp_doc_parse(&doc, resp, rl, RPC_MAX_WRITE_OPS * 3 + 8) < 0) {
		free(resp);
		snprintf(why, wl, "hamletd sent an answer that does not parse");
		return HAMLET_EFORMAT;
	}
	r = HAMLET_EFORMAT;
	snprintf(why, wl, "hamletd sent an answer of the wrong shape");
	if (mp_get_array(doc.root, SIZE_MAX, 3, &a, &rl) < 0 || rl < 2 ||
	    mp_get_int(&a[0], &code) < 0)
		goto out;
	if (code < 0) {
		uint64_t idx = 0;
		const char *s = "";
		size_t sl = 0;
		mp_get_str(&a[1], 300, &s, &sl);
		snprintf(why, wl, "%.*s", (int)sl, s);
		if (rl == 3)
			mp_get_uint(&a[2], n, &idx);
		*ret_failed = (size_t)idx;
		r = (int)code;
		goto out;
	}
	if (mp_get_array(&a[1], n, 0, &list, NULL) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const msgpack_object *x;
		if (mp_get_array(&list[i], 2, 0, &x, NULL) < 0 ||
		    mp_get_bin_fixed(&x[0], 32, out ? out[i].id : (uint8_t[32]){ 0 }) < 0)
			goto out;
		if (out) {
			out[i].status = LOG_APPLIED;
			mp_get_uint(&x[1], UINT64_MAX, &out[i].seq);
		}
	}
	why[0] = 0;
	r = 0;
out:
	mp_doc_close(&doc);
	free(resp);
	return r;
}

int cli_write(struct node *n, const struct log_op *ops, size_t nops,
	      struct log_out *out, size_t *ret_failed, char *why, size_t wl,
	      int *ret_via_daemon)
{
	const char *sock = cli_socket_path(NULL);
	size_t done = 0;
	int r;

	*ret_via_daemon = 0;
	while (done < nops) {
		/* as many ops as fit one request */
		size_t k = 0, bytes = 64;
		while (done + k < nops && k < RPC_MAX_WRITE_OPS) {
			size_t b = ops[done + k].body_len + 200;
			if (k && bytes + b > WRITE_CHUNK_BYTES)
				break;
			bytes += b;
			k++;
		}
		size_t failed = 0;
		r = write_rpc(sock, ops + done, k, out ? out + done : NULL,
			      &failed, why, wl);
		if ((r == -ENOENT || r == -ECONNREFUSED) && done == 0) {
			/* no daemon: this process writes the store itself */
			struct log_author au;
			node_author(n, &au);
			return log_write(n->st, &au, ops, nops, out, ret_failed,
					 why, wl);
		}
		if (r < 0) {
			if (r == -ENOENT || r == -ECONNREFUSED || r == -ETIMEDOUT)
				snprintf(why, wl,
					 "hamletd stopped answering at %s (%s); %zu of %zu records were stored",
					 sock, hamlet_strerror(r), done, nops);
			*ret_failed = done + failed;
			return r;
		}
		*ret_via_daemon = 1;
		done += k;
	}
	return 0;
}
