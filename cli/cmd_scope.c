/*
 * hamlet scope move OLD NEW --root-key FILE [--reason TEXT]
 * hamlet scope list
 *
 * A merger of administrative units: the root signs that scope OLD now
 * reads as NEW (SPEC section 10). The move joins the trust set through
 * this node (its daemon when it runs) and replicates to every node ahead
 * of data; no entry is rewritten.
 */
#include "cli.h"

#include "error.h"
#include "hlc.h"
#include "scopemap.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Would the set, with m added, put m in effect? 0, or an error printed. */
static int move_effect(struct node *n, const struct scope_move *m,
		       const uint8_t id[32])
{
	struct store_txn *t = NULL;
	struct scopemap *sm = NULL;
	int r, st;

	if ((r = cli_txn_read(n, &t)) < 0)
		return r;
	r = scopemap_load_plus(t, m, id, &sm);
	store_txn_abort(t);
	if (r < 0) {
		cli_err(_("cannot read the trust set: %s"), cli_strerror(r));
		return r;
	}
	st = scopemap_status(sm, id);
	if (st == SCOPEMAP_CYCLE) {
		char to[ENTRY_MAX_SCOPE + 1];
		scopemap_resolve(sm, m->to, to);
		cli_err(_("moving %s to %s would close a cycle with the moves in effect (%s reads as %s through them, and a scope under %s could come back to it); hamlet scope list shows them"),
			m->from, m->to, m->to, to, m->from);
		r = HAMLET_EFORMAT;
	} else if (st != SCOPEMAP_IN_EFFECT) {
		cli_err(_("the move of %s would not take effect: %s"), m->from,
			_(scopemap_status_name(st)));
		r = HAMLET_EFORMAT;
	}
	scopemap_free(sm);
	return r;
}

static int scope_move(int argc, char **argv)
{
	const char *root_key = NULL, *reason = NULL;
	struct scope_move m;
	struct node *n = NULL;
	struct cli_ingest ci = { 0 };
	struct trustset_item it;
	struct trustset_out out;
	uint8_t *signed_ = NULL, *sk = NULL, nid[32], pk[32], id[32];
	size_t len = 0;
	char *pos[2], why[300] = "";
	int npos, r;
	const struct cli_opt opts[] = {
		{ "--root-key", &root_key, NULL },
		{ "--reason", &reason, NULL },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("scope move", argc, argv, opts, pos, 2, &npos)) < 0)
		return r;
	if (npos != 2)
		return cli_usage_err("scope move",
				     _("give the OLD scope and the NEW scope it now lies under"));
	if (!root_key)
		return cli_usage_err("scope move",
				     _("give --root-key FILE: only the network's root moves scopes"));
	if ((r = cli_check_scope(pos[0], _("OLD scope"))) < 0 ||
	    (r = cli_check_scope(pos[1], _("NEW scope"))) < 0)
		return r;
	if (reason && strlen(reason) > MOVE_MAX_REASON) {
		cli_err(_("--reason is longer than %d bytes"), MOVE_MAX_REASON);
		return HAMLET_EFORMAT;
	}
	memset(&m, 0, sizeof(m));
	snprintf(m.from, sizeof(m.from), "%s", pos[0]);
	snprintf(m.to, sizeof(m.to), "%s", pos[1]);
	snprintf(m.reason, sizeof(m.reason), "%s", reason ? reason : "");
	m.at_ms = hlc_wall_ms();
	if ((r = move_check_fields(&m, why, sizeof(why))) < 0) {
		cli_err(_("cannot move %s to %s: %s"), m.from, m.to, why);
		return r;
	}
	if ((r = cli_node_open(0, &n, &ci.daemon)) < 0)
		goto out;
	ci.n = n;
	if ((r = root_key_load(root_key, nid, pk, &sk, why, sizeof(why))) < 0) {
		cli_err("%s", why);
		goto out;
	}
	if (root_key_loose(root_key, why, sizeof(why)))
		cli_err(_("WARNING: %s"), why);
	if (memcmp(nid, n->net.id, 32) != 0 ||
	    memcmp(pk, n->net.root_pk, 32) != 0) {
		cli_err(_("%s is not the root key of this node's network: a scope move is signed by the network's root"),
			root_key);
		r = HAMLET_ENETWORK;
		goto out;
	}
	memcpy(m.network_id, nid, 32);
	memcpy(m.issuer, pk, 32);
	if ((r = move_sign(&m, sk, &signed_, &len)) < 0) {
		cli_err(_("cannot sign the scope move: %s"), cli_strerror(r));
		goto out;
	}
	{
		struct scope_move *d = malloc(sizeof(*d));
		if (!d) {
			r = -ENOMEM;
			goto out;
		}
		r = move_decode(signed_, len, d, id, why, sizeof(why));
		free(d);
		if (r < 0) {
			cli_err(_("the signed scope move does not decode: %s"), why);
			goto out;
		}
	}
	if ((r = move_effect(n, &m, id)) < 0)
		goto out;
	it.kind = TRUST_MOVE;
	it.data = signed_;
	it.len = len;
	if ((r = cli_trust(&ci, &it, 1, &out, NULL, why, sizeof(why))) < 0) {
		cli_err(_("the scope move was not stored: %s"),
			why[0] ? why : cli_strerror(r));
		goto out;
	}
	if (out.status == TRUSTSET_REFUSED) {
		cli_err(_("the scope move is refused: %s"), cli_why(out.why));
		r = out.err;
		goto out;
	}
	if (cli_global.json) {
		json_t *j = json_object();
		char hex[65];
		hex_encode(id, 32, hex);
		json_object_set_new(j, "from", json_string(m.from));
		json_object_set_new(j, "to", json_string(m.to));
		json_object_set_new(j, "at", json_integer((json_int_t)m.at_ms));
		json_object_set_new(j, "reason", json_string(m.reason));
		json_object_set_new(j, "id", json_string(hex));
		json_object_set_new(j, "via_daemon", json_boolean(ci.via_daemon));
		cli_json_print(j);
	} else {
		printf(_("%s now reads as %s: %s/... is shown, exported and granted as %s/...; no entry is rewritten\n"),
		       m.from, m.to, m.from, m.to);
		printf(_("  %s; every node that syncs with it, or reads a bundle it makes, learns of it\n"),
		       ci.via_daemon ? _("the running daemon has it")
				     : _("stored in this node's store"));
	}
	r = 0;
out:
	if (sk)
		sodium_free(sk);
	free(signed_);
	node_close(n);
	return r;
}

static int scope_list(int argc, char **argv)
{
	struct node *n = NULL;
	struct store_txn *t = NULL;
	struct scopemap *sm = NULL;
	char *pos[1];
	int npos, r;
	const struct cli_opt opts[] = { { NULL, NULL, NULL } };
	json_t *arr = NULL;

	if ((r = cli_parse("scope list", argc, argv, opts, pos, 0, &npos)) < 0)
		return r;
	if ((r = cli_node_open(1, &n, NULL)) < 0 ||
	    (r = cli_txn_read(n, &t)) < 0)
		goto out;
	if ((r = scopemap_load(t, &sm)) < 0) {
		cli_err(_("cannot read the trust set: %s"), cli_strerror(r));
		goto out;
	}
	if (cli_global.json)
		arr = json_array();
	for (size_t i = 0; i < scopemap_size(sm); i++) {
		const uint8_t *id;
		int st;
		const struct scope_move *m = scopemap_move(sm, i, &id, &st);
		char when[48], hex[65];
		cli_time_text(m->at_ms, 0, when);
		hex_encode(id, 32, hex);
		if (arr) {
			json_t *j = json_object();
			json_object_set_new(j, "from", json_string(m->from));
			json_object_set_new(j, "to", json_string(m->to));
			json_object_set_new(j, "at",
					    json_integer((json_int_t)m->at_ms));
			json_object_set_new(j, "reason", json_string(m->reason));
			json_object_set_new(j, "id", json_string(hex));
			json_object_set_new(j, "in_effect",
					    json_boolean(st == SCOPEMAP_IN_EFFECT));
			json_object_set_new(j, "status",
					    json_string(scopemap_status_name(st)));
			json_array_append_new(arr, j);
		} else {
			printf(_("%s -> %s  (%s%s%s; signed %s)\n"), m->from, m->to,
			       _(scopemap_status_name(st)), m->reason[0] ? "; " : "",
			       m->reason, when);
		}
	}
	if (arr)
		cli_json_print(arr);
	else if (scopemap_size(sm) == 0)
		printf(_("no scope moves\n"));
	r = 0;
out:
	scopemap_free(sm);
	store_txn_abort(t);
	node_close(n);
	return r;
}

int cmd_scope(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : "";

	if (strcmp(verb, "move") == 0)
		return cli_exit_code(scope_move(argc - 1, argv + 1));
	if (strcmp(verb, "list") == 0)
		return cli_exit_code(scope_list(argc - 1, argv + 1));
	return cli_exit_code(cli_usage_err(
		"scope", _("say move or list")));
}
