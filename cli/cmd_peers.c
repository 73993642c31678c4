/*
 * hamlet peers list|add HOST:PORT|remove HOST:PORT [--socket PATH]
 *
 * The running daemon's dial list. Changes last until the daemon restarts;
 * put permanent peers in /etc/hamlet/hamletd.conf.
 */
#include "cli.h"

#include "error.h"
#include "i18n.h"

#include <stdlib.h>
#include <string.h>

/* the longest host name DNS allows, and the longest HOST:PORT hamletd
 * keeps (its CONFIG_MAX_ADDR less the NUL) */
#define PEERS_HOST_MAX 253
#define PEERS_ADDR_MAX 255

/* 1 when a and b are equal strings. */
static int str_same(const msgpack_object *a, const msgpack_object *b)
{
	return a && b && a->type == MSGPACK_OBJECT_STR &&
	       b->type == MSGPACK_OBJECT_STR &&
	       a->via.str.size == b->via.str.size &&
	       !memcmp(a->via.str.ptr, b->via.str.ptr, a->via.str.size);
}

/* The element of array v whose field k is the string want, or NULL. */
static const msgpack_object *with(const msgpack_object *v, const char *k,
				  const msgpack_object *want)
{
	for (uint32_t i = 0; v && v->type == MSGPACK_OBJECT_ARRAY &&
			     i < v->via.array.size;
	     i++)
		if (str_same(cli_mp_get(&v->via.array.ptr[i], k), want))
			return &v->via.array.ptr[i];
	return NULL;
}

/* The status peer whose last address is addr, or NULL. */
static const msgpack_object *peer_at(const msgpack_object *peers,
				     const msgpack_object *addr)
{
	return with(peers, "addr", addr);
}

/* The status peer dialled at addr: the one whose key last answered there
 * (status "dials"), whichever connection to it stands; else the one whose
 * last address is addr; NULL when none. */
static const msgpack_object *dial_peer(const msgpack_object *st,
				       const msgpack_object *peers,
				       const msgpack_object *addr)
{
	const msgpack_object *d = with(st ? cli_mp_get(st, "dials") : NULL,
				       "addr", addr);
	const msgpack_object *p =
		d ? with(peers, "key", cli_mp_get(d, "key")) : NULL;
	if (p)
		return p;
	return peer_at(peers, addr);
}

/* "C1 (bk/c1), connected" for status peer p, names from t; unreached:
 * the address it is listed at is not reached now, whatever other
 * connection to the peer stands. */
static void peer_words(struct store_txn *t, const msgpack_object *p,
		       int unreached, char *out, size_t n)
{
	const msgpack_object *k = cli_mp_get(p, "key");
	const msgpack_object *c = cli_mp_get(p, "connected");
	char hex[65] = "", who[NAMES_LABEL_MAX];
	if (k && k->type == MSGPACK_OBJECT_STR)
		snprintf(hex, sizeof(hex), "%.*s", (int)k->via.str.size,
			 k->via.str.ptr);
	cli_who_hex(t, hex, who);
	snprintf(out, n, "%s, %s", who,
		 unreached ? _("NOT REACHED at this address now (hamlet status says why)")
		 : c && c->type == MSGPACK_OBJECT_BOOLEAN && c->via.boolean
			 ? _("connected")
			 : _("not connected"));
}

/* 1 when hamletd calls status peer p a stranger (status --json). */
static int stranger(const msgpack_object *p)
{
	const msgpack_object *v = cli_mp_get(p, "stranger");
	return v && v->type == MSGPACK_OBJECT_BOOLEAN && v->via.boolean;
}

/* {"key", "name", "connected"} of status peer p (NULL: none answered). */
static void peer_json(json_t *o, struct store_txn *t, const msgpack_object *p)
{
	const msgpack_object *k = p ? cli_mp_get(p, "key") : NULL;
	const msgpack_object *c = p ? cli_mp_get(p, "connected") : NULL;
	char hex[65] = "", who[NAMES_LABEL_MAX];
	if (k && k->type == MSGPACK_OBJECT_STR) {
		snprintf(hex, sizeof(hex), "%.*s", (int)k->via.str.size,
			 k->via.str.ptr);
		cli_who_hex(t, hex, who);
	}
	json_object_set_new(o, "key", hex[0] ? json_string(hex) : json_null());
	json_object_set_new(o, "name", hex[0] ? json_string(who) : json_null());
	json_object_set_new(o, "connected",
			    json_boolean(c && c->type == MSGPACK_OBJECT_BOOLEAN &&
					 c->via.boolean));
}

/*
 * The dial list (res), each address with who answered there when known,
 * then the peers that dialled us, by name (hamletd's status and the trust
 * set), and how many keys never completed a session; as text or JSON.
 */
static void peers_print(const char *sock, const msgpack_object *res)
{
	struct node *n = NULL;
	struct store_txn *t = NULL;
	struct mp_doc doc;
	uint8_t *buf = NULL;
	const msgpack_object *st = NULL, *peers = NULL;
	char words[NAMES_LABEL_MAX + 40];
	json_t *jd = json_array(), *ju = json_array();
	size_t strangers = 0;
	uint32_t nd = res->type == MSGPACK_OBJECT_ARRAY ? res->via.array.size : 0;

	if (cli_rpc(sock, "status", NULL, 1, &doc, &buf, &st) == 0) {
		peers = cli_mp_get(st, "peers");
		if (peers && peers->type != MSGPACK_OBJECT_ARRAY)
			peers = NULL;
	} else {
		st = NULL;
	}
	if (cli_node_open(1, &n, NULL) == 0 && store_txn_begin(n->st, 1, &t) < 0)
		t = NULL;
	if (!nd && !cli_global.json)
		printf(_("this node dials no peer: add one with \"hamlet peers add HOST:PORT\"\n"));
	for (uint32_t i = 0; i < nd; i++) {
		const msgpack_object *a = &res->via.array.ptr[i];
		const msgpack_object *p;
		if (a->type != MSGPACK_OBJECT_STR)
			continue;
		/* a dial failing now: its peer may be connected at another
		 * address (hamletd moved to another port), this one is not */
		int unreached = st && with(cli_mp_get(st, "unreached"), "addr",
					   a) != NULL;
		p = dial_peer(st, peers, a);
		if (cli_global.json) {
			json_t *o = json_object();
			json_object_set_new(o, "addr",
					    json_stringn(a->via.str.ptr,
							 a->via.str.size));
			peer_json(o, t, p);
			if (unreached)
				json_object_set_new(o, "connected",
						    json_false());
			json_object_set_new(o, "reached",
					    json_boolean(!unreached));
			json_array_append_new(jd, o);
			continue;
		}
		printf("%.*s", (int)a->via.str.size, a->via.str.ptr);
		if (p) {
			peer_words(t, p, unreached, words, sizeof(words));
			printf(": %s", words);
		} else if (unreached) {
			printf(": %s", _("NOT REACHED at this address now (hamlet status says why)"));
		}
		printf("\n");
	}
	for (uint32_t i = 0; peers && i < peers->via.array.size; i++) {
		const msgpack_object *p = &peers->via.array.ptr[i];
		const msgpack_object *a = cli_mp_get(p, "addr");
		int dialled = 0;
		for (uint32_t j = 0; a && a->type == MSGPACK_OBJECT_STR && j < nd;
		     j++)
			dialled |= dial_peer(st, peers, &res->via.array.ptr[j]) == p;
		if (dialled)
			continue;
		if (stranger(p)) {
			strangers++;
			continue;
		}
		if (cli_global.json) {
			json_t *o = json_object();
			json_object_set_new(o, "addr",
					    a && a->type == MSGPACK_OBJECT_STR
						    ? json_stringn(a->via.str.ptr,
								   a->via.str.size)
						    : json_null());
			peer_json(o, t, p);
			json_array_append_new(ju, o);
			continue;
		}
		peer_words(t, p, 0, words, sizeof(words));
		printf(_("dialled us: %s\n"), words);
	}
	if (cli_global.json) {
		json_t *j = json_object();
		json_object_set_new(j, "dials", jd);
		json_object_set_new(j, "dialled_us", ju);
		json_object_set_new(j, "strangers",
				    json_integer((json_int_t)strangers));
		cli_json_print(j);
		jd = ju = NULL;
	} else if (strangers) {
		printf(P_("and %zu key that never completed a session (a node refused at the handshake, a port scanner)\n",
			  "and %zu keys that never completed a session (nodes refused at the handshake, port scanners)\n",
			  strangers),
		       strangers);
	}
	json_decref(jd);
	json_decref(ju);
	store_txn_abort(t);
	node_close(n);
	if (st)
		mp_doc_close(&doc);
	free(buf);
}

int cmd_peers(int argc, char **argv)
{
	const char *sockopt = NULL;
	struct mp_doc doc;
	uint8_t *buf = NULL;
	const msgpack_object *res;
	char *pos[2];
	int npos, r, have_doc = 0;
	const struct cli_opt opts[] = {
		{ "--socket", &sockopt, NULL },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("peers", argc, argv, opts, pos, 2, &npos)) < 0)
		goto out;
	const char *verb = npos ? pos[0] : "list";
	const char *sock = cli_socket_path(sockopt);
	if (strcmp(verb, "list") == 0 && npos <= 1) {
		if ((r = cli_rpc(sock, "peers", NULL, 0, &doc, &buf, &res)) < 0)
			goto out;
		have_doc = 1;
		peers_print(sock, res);
		r = 0;
		goto out;
	}
	if ((strcmp(verb, "add") == 0 || strcmp(verb, "remove") == 0) &&
	    npos == 2) {
		int add = verb[0] == 'a';
		const char *colon = strrchr(pos[1], ':');
		size_t hl = colon ? (size_t)(colon - pos[1]) : strlen(pos[1]);
		if (hl > PEERS_HOST_MAX || strlen(pos[1]) > PEERS_ADDR_MAX) {
			/* said here: the daemon takes no more either */
			r = cli_usage_err("peers",
					  _("\"%.64s…\" is too long (a host name of %zu bytes, %zu in all): a host name has at most %d bytes, HOST:PORT at most %d"),
					  pos[1], hl, strlen(pos[1]),
					  PEERS_HOST_MAX, PEERS_ADDR_MAX);
			goto out;
		}
		if (add) {
			/* one already in the list is said so, not "added" */
			int there = 0;
			if ((r = cli_rpc(sock, "peers", NULL, 0, &doc, &buf,
					 &res)) < 0)
				goto out;
			for (uint32_t i = 0;
			     res->type == MSGPACK_OBJECT_ARRAY &&
			     i < res->via.array.size;
			     i++) {
				const msgpack_object *a = &res->via.array.ptr[i];
				there |= a->type == MSGPACK_OBJECT_STR &&
					 a->via.str.size == strlen(pos[1]) &&
					 memcmp(a->via.str.ptr, pos[1],
						a->via.str.size) == 0;
			}
			mp_doc_close(&doc);
			free(buf);
			buf = NULL;
			if (there) {
				printf(_("%s is already among the daemon's peers: nothing changed\n"),
				       pos[1]);
				r = 0;
				goto out;
			}
		}
		if ((r = cli_rpc(sock, add ? "peer_add" : "peer_remove", pos[1],
				 0, &doc, &buf, &res)) < 0)
			goto out;
		have_doc = 1;
		printf(_("%s %s %s the daemon's peers (until it restarts; make it permanent in hamletd.conf)\n"),
		       add ? _("added") : _("removed"), pos[1],
		       add ? _("to") : _("from"));
		if (add && res && res->type == MSGPACK_OBJECT_STR)
			printf(_("hamletd will dial %.*s\n"), (int)res->via.str.size,
			       res->via.str.ptr);
		r = 0;
		goto out;
	}
	r = cli_usage_err("peers",
			  _("expected \"peers list\", \"peers add HOST:PORT\" or \"peers remove HOST:PORT\""));
out:
	if (have_doc)
		mp_doc_close(&doc);
	free(buf);
	return cli_exit_code(r);
}
