/*
 * hamlet token create --name NAME --role read|write [--scope PREFIX]
 *                    [--expires YYYY-MM-DD|Nd]
 * hamlet token list [--json]
 * hamlet token revoke NAME
 *
 * Bearer tokens for hamletd's HTTP API (docs/api.md). The node keeps only
 * each token's hash, in HOME/tokens (tokens.h); the running daemon
 * re-reads the file when it changes, so no step goes through it.
 */
#include "cli.h"

#include "error.h"
#include "node.h"
#include "scopemap.h"
#include "tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The scopes of n's certificate (read, or write), or n's own scope when
 * it has none valid, as "a, b" in list; 1 when scope lies under one of
 * them or one under it, through the scope moves. */
static int reach_of(const struct node *n, const char *scope, int write,
		    char *list, size_t len)
{
	size_t nr = !n->grant ? 1 : write ? n->grant->nwrite : n->grant->nread;
	int in = 0;

	list[0] = 0;
	for (size_t i = 0; i < nr; i++) {
		const char *p = !n->grant ? n->scope
			      : write	  ? n->grant->write[i]
					  : n->grant->read[i];
		size_t l = strlen(list);
		if (scopemap_under(n->smap, scope, p) ||
		    scopemap_under(n->smap, p, scope))
			in = 1;
		if (l + strlen(p) + 3 < len)
			snprintf(list + l, len - l, "%s%s", l ? ", " : "", p);
	}
	return in;
}

/* s padded with spaces to cols terminal columns in out: printf's %-32s
 * counts bytes, and "(mọi phạm vi)" has more bytes than letters. A
 * string already that wide is copied as it is. */
static void cols_pad(const char *s, int cols, char *out, size_t len)
{
	int w = i18n_width(s, strlen(s));
	size_t l;

	snprintf(out, len, "%s", s);
	l = strlen(out);
	while (w++ < cols && l + 1 < len)
		out[l++] = ' ';
	out[l] = 0;
}

/*
 * 0 when a token of scope can see something this node may hold: scope
 * overlaps a scope its certificate lets it read (its own scope when it
 * has no valid certificate). Otherwise a token for it would never see a
 * record (another district, a province misspelt): refused, naming what
 * the node reads. A write token whose scope the node may not write gets
 * a note: it reads, and each of its writes is refused (what it puts is
 * signed by the node).
 */
static int token_scope_reach(const char *scope, int write)
{
	struct node *n = NULL;
	char reach[512];
	int r;

	if ((r = cli_node_open(1, &n, NULL)) < 0)
		return r;
	if (!reach_of(n, scope, 0, reach, sizeof(reach))) {
		cli_err(n->grant ? _("scope %s is outside what this node may hold (its certificate reads %s): a token for it would never see a record; give a scope under one of those")
				 : _("scope %s is outside what this node may hold (its own scope %s; it has no valid certificate): a token for it would never see a record"),
			scope, reach);
		r = HAMLET_ESCOPE;
	} else if (write && n->grant &&
		   !reach_of(n, scope, 1, reach, sizeof(reach))) {
		cli_err(_("note: this node may write only under %s, so every write of this token in scope %s will be refused (403); it reads there"),
			reach, scope);
	}
	node_close(n);
	return r;
}

static int token_create(int argc, char **argv)
{
	const char *name = NULL, *role = NULL, *scope = NULL, *expires = NULL;
	char out[TOKEN_LEN + 1], why[300], until[64] = "";
	char *pos[1];
	uint64_t expires_ms = 0;
	int npos, r, rl;
	const struct cli_opt opts[] = {
		{ "--name", &name, NULL },
		{ "--role", &role, NULL },
		{ "--scope", &scope, NULL },
		{ "--expires", &expires, NULL },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("token create", argc, argv, opts, pos, 0, &npos)) < 0)
		return r;
	if (!name || !role)
		return cli_usage_err("token create",
				     _("give --name NAME and --role read|write"));
	if (tokens_name_check(name) < 0)
		return cli_usage_err("token create",
				     _("--name \"%.64s\" is not a token name: 1-%d of a-z, 0-9, '-', '_' and '.'"),
				     name, TOKEN_MAX_NAME);
	if (!(rl = token_role_parse(role)))
		return cli_usage_err("token create",
				     _("--role must be read or write, not \"%s\""),
				     role);
	if (expires &&
	    (r = cli_expires_parse("token create", expires, 1, &expires_ms)) < 0)
		return r;
	if (expires_ms && expires_ms <= (uint64_t)time(NULL) * 1000)
		return cli_usage_err("token create",
				     _("--expires %s is already past"), expires);
	if (scope && ((r = cli_check_scope(scope, _("scope"))) < 0 ||
		      (r = token_scope_reach(scope, rl == TOKEN_WRITE)) < 0))
		return r;
	if ((r = tokens_create(cli_home(), name, rl, scope, expires_ms, out,
			       why, sizeof(why))) < 0) {
		cli_err(_("cannot create token %s: %s"), name, why);
		return r;
	}
	if (cli_global.json) {
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(name));
		json_object_set_new(o, "role", json_string(role));
		json_object_set_new(o, "scope", json_string(scope ? scope : ""));
		json_object_set_new(o, "token", json_string(out));
		if (expires_ms)
			cli_time_text(expires_ms, 1, until);
		json_object_set_new(o, "expires",
				    expires_ms ? json_string(until) : json_null());
		cli_json_print(o);
	} else {
		printf("%s\n", out);
		fprintf(stderr,
			_("token \"%s\" (%s%s%s) created; it is shown only now: give it to the application, which sends \"Authorization: Bearer TOKEN\"\n"),
			name, role, scope ? _(", scope ") : "", scope ? scope : "");
		if (expires_ms) {
			cli_date_text(expires_ms, until, sizeof(until));
			fprintf(stderr,
				_("it works until %s; after that hamletd answers it 401 token_expired\n"),
				until);
		}
	}
	return 0;
}

static int token_list(int argc, char **argv)
{
	struct tokens *ts = calloc(1, sizeof(*ts));
	char why[1024], when[32], until[64], to[ENTRY_MAX_SCOPE + 1];
	char *pos[1];
	struct node *n = NULL;
	json_t *arr = NULL;
	uint64_t now = (uint64_t)time(NULL) * 1000;
	int npos, r;

	if (!ts)
		return -1;
	if ((r = cli_parse("token list", argc, argv, NULL, pos, 0, &npos)) < 0)
		goto out;
	if ((r = tokens_load(cli_home(), ts, why, sizeof(why))) < 0) {
		cli_err("%s", why);
		goto out;
	}
	if (cli_global.json)
		arr = json_array();
	/* for the scope moves (none known without the node's store, and
	 * nothing said of it: the list is what was asked for) */
	if (node_open(cli_home(), 1, &n, why, sizeof(why)) < 0)
		n = NULL;
	for (size_t i = 0; i < ts->n; i++) {
		const struct token *t = &ts->v[i];
		/* JSON in UTC; words in the local zone */
		int gone = token_expired(t, now);
		int moved = n && t->scope[0] &&
			    scopemap_resolve(n->smap, t->scope, to) == 1;
		cli_time_text(t->created_ms, arr != NULL, when);
		if (arr) {
			json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b}", "name",
					      t->name, "role",
					      token_role_name(t->role), "scope",
					      t->scope, "created", when,
					      "expired", gone);
			if (t->expires_ms)
				cli_time_text(t->expires_ms, 1, until);
			json_object_set_new(o, "expires",
					    t->expires_ms ? json_string(until)
							  : json_null());
			json_object_set_new(o, "moved_to",
					    moved ? json_string(to)
						  : json_null());
			json_array_append_new(arr, o);
		} else {
			char col[ENTRY_MAX_SCOPE + 64];
			cols_pad(t->scope[0] ? t->scope : _("(every scope)"),
				 32, col, sizeof(col));
			printf(_("%-24s %-5s %-32s created %s\n"), t->name,
			       token_role_name(t->role), col, when);
			if (t->expires_ms) {
				cli_date_text(t->expires_ms, until,
					      sizeof(until));
				printf(gone ? _("%-24s EXPIRED at %s: refused (401); revoke it and create another\n")
					    : _("%-24s works until %s\n"),
				       "", until);
			}
			if (moved)
				printf(_("%-24s its scope %s was moved to %s (hamlet scope list): it no longer reads the records moved there; for them, make a token of scope %s on a node that holds it, and revoke this one when it has nothing else to read\n"),
				       "", t->scope, to, to);
		}
	}
	node_close(n);
	if (arr)
		cli_json_print(arr);
	else if (ts->n == 0)
		printf(_("no tokens (hamlet token create makes one)\n"));
	r = 0;
out:
	free(ts);
	return r;
}

static int token_revoke(int argc, char **argv)
{
	char why[1024], *pos[1];
	int npos, r;

	if ((r = cli_parse("token revoke", argc, argv, NULL, pos, 1, &npos)) < 0)
		return r;
	if (npos != 1)
		return cli_usage_err("token revoke", _("give the token's NAME"));
	if ((r = tokens_revoke(cli_home(), pos[0], why, sizeof(why))) < 0) {
		cli_err(_("cannot revoke %s: %s"), pos[0], why);
		return r;
	}
	printf(_("revoked token %s: hamletd refuses it from its next request\n"),
	       pos[0]);
	return 0;
}

int cmd_token(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : "";

	if (strcmp(verb, "create") == 0)
		return cli_exit_code(token_create(argc - 1, argv + 1));
	if (strcmp(verb, "list") == 0)
		return cli_exit_code(token_list(argc - 1, argv + 1));
	if (strcmp(verb, "revoke") == 0)
		return cli_exit_code(token_revoke(argc - 1, argv + 1));
	return cli_exit_code(cli_usage_err(
		"token", _("say create, list or revoke")));
}
