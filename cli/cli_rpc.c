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
