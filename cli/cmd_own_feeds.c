/*
 * hamlet own-feeds [--json]
 * hamlet own-feeds forget-lost [--scope SCOPE] [--json]
 *
 * HOME/own-feeds keeps, outside the store, the highest seq this node has
 * signed in each of its own feeds (node.h). The list shows each beside
 * what the store holds: a store restored or replaced holds less, and
 * writes in that feed wait until the peers send the rest back.
 * forget-lost gives up the entries no node holds any more (the store was
 * lost before they were ever synced), so that the node writes again; an
 * entry given up that a node does hold makes a fork at the next write.
 * While hamletd runs, it is the daemon that lowers its own table (its
 * writer reads it), through the socket.
 */
#include "cli.h"

#include "error.h"
#include "i18n.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FORGET_SHOWN 1000 /* as hamletd's answer names them */

static void given_up_print(const char *scope, const struct node_feed_lag *v,
			   size_t shown, size_t total)
{
	json_t *a;

	if (cli_global.json) {
		a = json_array();
		for (size_t i = 0; i < shown; i++)
			json_array_append_new(
				a, json_pack("{s:s, s:I, s:I}", "scope",
					     v[i].scope, "signed",
					     (json_int_t)v[i].signed_seq,
					     "stored", (json_int_t)v[i].stored));
		cli_json_print(json_pack("{s:o, s:I}", "given_up", a, "total",
					 (json_int_t)total));
		return;
	}
	if (total == 0) {
		if (scope)
			printf(_("nothing to give up in feed %s: the store holds everything this node signed there\n"),
			       scope);
		else
			printf(_("nothing to give up: the store holds everything this node signed\n"));
		return;
	}
	for (size_t i = 0; i < shown; i++)
		printf(_("gave up seqs %llu-%llu of feed %s: this node's next entry there is seq %llu\n"),
		       (unsigned long long)v[i].stored + 1,
		       (unsigned long long)v[i].signed_seq, v[i].scope,
		       (unsigned long long)v[i].stored + 1);
	if (total > shown)
		printf(P_("and %zu more feed\n", "and %zu more feeds\n",
			  total - shown),
		       total - shown);
}

/* forget-lost through the running daemon: its answer, printed. */
static int forget_rpc(const char *scope)
{
	struct node_feed_lag *v = NULL;
	struct mp_doc doc;
	uint8_t *buf = NULL;
	const msgpack_object *res, *a, *list;
	size_t nl = 0;
	uint64_t total = 0;
	int r;

	r = cli_rpc(cli_socket_path(NULL), "own_feeds_forget", scope, 0, &doc,
		    &buf, &res);
	if (r < 0)
		return r;
	r = HAMLET_EFORMAT;
	if (mp_get_array(res, 2, 0, &a, NULL) < 0 ||
	    mp_get_uint(&a[0], UINT64_MAX, &total) < 0 ||
	    mp_get_array(&a[1], SIZE_MAX, FORGET_SHOWN, &list, &nl) < 0 ||
	    !(v = calloc(nl ? nl : 1, sizeof(*v))))
		goto bad;
	for (size_t i = 0; i < nl; i++) {
		const msgpack_object *x;
		if (mp_get_array(&list[i], 3, 0, &x, NULL) < 0 ||
		    mp_get_cstr(&x[0], v[i].scope, sizeof(v[i].scope)) < 0 ||
		    mp_get_uint(&x[1], UINT64_MAX, &v[i].signed_seq) < 0 ||
		    mp_get_uint(&x[2], UINT64_MAX, &v[i].stored) < 0)
			goto bad;
	}
	given_up_print(scope, v, nl, (size_t)total);
	r = 0;
	goto out;
bad:
	cli_err(_("hamletd sent an answer of the wrong shape"));
out:
	free(v);
	mp_doc_close(&doc);
	free(buf);
	return r;
}

static int forget(const char *scope)
{
	struct node *n = NULL;
	struct node_feed_lag *v = NULL;
	size_t total = 0;
	char why[1024];
	int daemon = 0, r;

	if (scope && (r = cli_check_scope(scope, _("scope"))) < 0)
		return r;
	if ((r = cli_node_open(0, &n, &daemon)) < 0)
		return r;
	if (daemon) {
		node_close(n);
		return forget_rpc(scope);
	}
	if (!(v = calloc(FORGET_SHOWN, sizeof(*v)))) {
		r = -ENOMEM;
		cli_err("%s", cli_strerror(r));
		goto out;
	}
	r = node_feeds_forget(n, scope, v, FORGET_SHOWN, &total, why,
			      sizeof(why));
	if (r < 0) {
		cli_err(_("cannot give up the lost entries: %s"), why);
		goto out;
	}
	given_up_print(scope, v, total < FORGET_SHOWN ? total : FORGET_SHOWN,
		       total);
out:
	free(v);
	node_close(n);
	return r;
}

/* The feeds unrecorded (u, nu) names that list v (*nv of them, room for
 * *nv + nu) lacks, added; one it lists gets the seq the node signed. */
static void unrecorded_merge(struct node_feed_lag *v, size_t *nv,
			     const struct node_feed_lag *u, size_t nu)
{
	size_t n = *nv;

	for (size_t k = 0; k < nu; k++) {
		size_t i = 0;
		while (i < n && strcmp(v[i].scope, u[k].scope) != 0)
			i++;
		if (i == n) {
			v[n] = u[k];
			v[n++].recorded = 0;
		} else if (v[i].signed_seq < u[k].signed_seq) {
			v[i].signed_seq = u[k].signed_seq;
		}
	}
	*nv = n;
}

static int list(void)
{
	struct node *n = NULL;
	struct node_feed_lag *v = NULL, *u = NULL;
	size_t total = 0, waiting = 0, nu = 0, shown;
	char why[1024];
	int r, problem;

	if ((r = cli_node_open(1, &n, NULL)) < 0)
		return r;
	problem = node_feeds_problem(n, why, sizeof(why));
	/* what the file records less of than the node signed (its last
	 * write failed): said, and listed with the rest */
	if (!(u = calloc(FORGET_SHOWN, sizeof(*u)))) {
		r = -ENOMEM;
		cli_err(_("cannot read the store: %s"), cli_strerror(r));
		goto out;
	}
	if ((r = node_feeds_unrecorded(n, u, FORGET_SHOWN, &nu)) < 0 ||
	    (r = node_feeds_list(n, NULL, 0, &total)) < 0 ||
	    !(v = calloc(total + nu + 1, sizeof(*v))) ||
	    (total && (r = node_feeds_list(n, v, total, &total)) < 0)) {
		if (r >= 0)
			r = -ENOMEM;
		cli_err(_("cannot read the store: %s"), cli_strerror(r));
		r = cli_store_fault(r);
		goto out;
	}
	shown = nu < FORGET_SHOWN ? nu : FORGET_SHOWN;
	unrecorded_merge(v, &total, u, shown);
	if (cli_global.json) {
		json_t *a = json_array(), *ua = json_array();
		char file[4200];
		snprintf(file, sizeof(file), "%s/%s", n->home,
			 NODE_FEEDS_FILE);
		for (size_t i = 0; i < total; i++)
			json_array_append_new(
				a, json_pack("{s:s, s:I, s:I, s:b, s:b}",
					     "scope", v[i].scope, "signed",
					     (json_int_t)v[i].signed_seq,
					     "stored", (json_int_t)v[i].stored,
					     "waiting",
					     v[i].stored < v[i].signed_seq &&
						     !v[i].gone,
					     "out_of_reach", v[i].gone));
		for (size_t i = 0; i < shown; i++)
			json_array_append_new(
				ua, json_pack("{s:s, s:I, s:I, s:I}", "scope",
					      u[i].scope, "recorded",
					      (json_int_t)u[i].recorded,
					      "signed",
					      (json_int_t)u[i].signed_seq,
					      "stored", (json_int_t)u[i].stored));
		cli_json_print(json_pack("{s:s, s:o, s:o, s:o}", "file", file,
					 "feeds", a, "unrecorded", ua,
					 "problem",
					 problem ? json_string(why)
						 : json_null()));
	} else {
		if (problem)
			printf(problem == 1 ? _("own writes: REFUSED: %s\n")
					    : _("WARNING: %s\n"),
			       why);
		cli_unrecorded_print(n->home, u, shown, nu);
		if (!problem || problem == 2)
			printf(P_("%zu feed this node signed in (%s/%s):\n",
				  "%zu feeds this node signed in (%s/%s):\n",
				  total),
			       total, n->home, NODE_FEEDS_FILE);
		for (size_t i = 0; i < total; i++) {
			printf(_("  %s: signed up to seq %llu, the store holds up to seq %llu"),
			       v[i].scope,
			       (unsigned long long)v[i].signed_seq,
			       (unsigned long long)v[i].stored);
			if (v[i].stored < v[i].signed_seq && v[i].gone) {
				printf(_(": out of this node's reach (its scope moved, or is no longer in its certificate): these never come back here, and nothing waits for them"));
			} else if (v[i].stored < v[i].signed_seq) {
				waiting++;
				printf(_(": WAITING for seqs %llu-%llu from the peers"),
				       (unsigned long long)v[i].stored + 1,
				       (unsigned long long)v[i].signed_seq);
			}
			printf("\n");
		}
		if (waiting)
			printf(_("writes in a feed marked WAITING are refused until those entries are back: hamletd fetches them from its peers by itself; with no network, get a bundle from the commune or another node that holds them (hamlet summary here, carried there, hamlet bundle create --for it there, hamlet bundle import here). hamlet own-feeds forget-lost is only for entries no node holds: given up while a node holds them, they make a fork\n"));
	}
	r = problem == 1 ? CLI_EPROBLEMS : 0;
out:
	free(u);
	free(v);
	node_close(n);
	return r;
}

int cmd_own_feeds(int argc, char **argv)
{
	const char *scope = NULL;
	char *pos[1];
	int npos, r;
	const struct cli_opt opts[] = {
		{ "--scope", &scope, NULL },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("own-feeds", argc, argv, opts, pos, 1, &npos)) < 0)
		goto out;
	if (npos == 0 && !scope) {
		r = list();
	} else if (npos == 1 && strcmp(pos[0], "forget-lost") == 0) {
		r = forget(scope);
	} else if (npos == 0) {
		r = cli_usage_err("own-feeds",
				  _("--scope goes with \"own-feeds forget-lost\""));
	} else {
		r = cli_usage_err("own-feeds",
				  _("expected \"own-feeds\" or \"own-feeds forget-lost [--scope SCOPE]\""));
	}
out:
	return cli_exit_code(r);
}
