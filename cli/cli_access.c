/*
 * Logging the CLI's reads of health data (daemon/core/access.h): who is
 * the OS account running hamlet. A read that cannot be logged is not
 * done: each helper is called before the first byte of what was read is
 * printed, and its error stops the command.
 */
#include "cli.h"

#include "access.h"
#include "error.h"
#include "hlc.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_access(const char *cmd, const char *coll, const char *id,
	       const char *query, uint64_t count)
{
	struct passwd pw, *res = NULL;
	char pwbuf[4096], uidname[32], why[4400] = "";
	uid_t uid = getuid();
	struct access_who who = { "user", NULL, (int64_t)uid };
	struct access_what what = { cmd, coll, id, query, count };
	int r;

	if (!access_logged(coll))
		return 0;
	if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res) {
		who.name = res->pw_name;
	} else {
		snprintf(uidname, sizeof(uidname), "uid %lu",
			 (unsigned long)uid);
		who.name = uidname;
	}
	r = access_append(cli_home(), &who, &what, hlc_real_ms(), 0, why,
			  sizeof(why));
	/* where the log cannot be written at all, the way around: the read
	 * is done where it can be logged */
	if (r == -EROFS)
		cli_err(_("%s; nothing of %s is shown: a read of health data that cannot be logged is not done. The home is on read-only media: copy it (its files and store/) to a disk you may write, and run the command there with --home COPY; the read is logged in the copy"),
			why, coll);
	else if (r == -EACCES)
		cli_err(_("%s; nothing of %s is shown: a read of health data that cannot be logged is not done. Run it as an account that may write %s/access (the node's user, or a member of its group); or, on a copy of a node, copy the home (its files and store/) to a directory you may write, and run the command there with --home COPY"),
			why, coll, cli_home());
	else if (r == -ENOSPC || r == -EDQUOT)
		cli_err(_("%s; nothing of %s is shown: a read of health data that cannot be logged is not done. The disk holding %s is full: free space on it (old files, copies), then run the command again"),
			why, coll, cli_home());
	else if (r < 0)
		cli_err(_("%s; nothing of %s is shown: a read of health data that cannot be logged is not done (see \"hamlet help access-log\")"),
			why, coll);
	return r;
}

struct count_ctx {
	struct store_txn *t;
	uint64_t n[2]; /* health_profile, health_event */
};

static int count_conflict(void *ctx, const char *coll, const char *id)
{
	struct count_ctx *c = ctx;
	(void)id;
	if (access_logged(coll))
		c->n[strcmp(coll, "health_profile") == 0 ? 0 : 1]++;
	return 0;
}

int cli_access_conflicts(struct store_txn *t)
{
	static const char *const colls[2] = { "health_profile",
					      "health_event" };
	struct count_ctx c = { t, { 0, 0 } };
	int r;

	if ((r = cli_conflicts_each(t, count_conflict, &c)) < 0) {
		cli_err(_("cannot list the conflicts: %s"), cli_strerror(r));
		return r;
	}
	for (int i = 0; i < 2; i++)
		if (c.n[i] && (r = cli_access("conflicts", colls[i], NULL,
					      "records with open conflicts",
					      c.n[i])) < 0)
			return r;
	return 0;
}

/* --- what a bundle carries ------------------------------------------------ */

void cli_carried_note(void *ctx, const char *coll, const char *id)
{
	struct cli_carried *c = ctx;
	size_t l;
	char *x;

	if (c->nomem || !access_logged(coll))
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 256;
		char **v = realloc(c->v, cap * sizeof(*v));
		if (!v) {
			c->nomem = 1;
			return;
		}
		c->v = v;
		c->cap = cap;
	}
	l = strlen(coll) + 1 + strlen(id) + 1;
	if (!(x = malloc(l))) {
		c->nomem = 1;
		return;
	}
	snprintf(x, l, "%s/%s", coll, id);
	c->v[c->n++] = x;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int cli_carried_log(struct cli_carried *c, const char *cmd, const char *query)
{
	static const char *const colls[] = { "health_profile", "health_event" };
	uint64_t n[2] = { 0, 0 };
	int r;

	if (c->nomem) {
		cli_err(_("cannot count the health records the bundle carries: %s"),
			cli_strerror(-ENOMEM));
		return -ENOMEM;
	}
	if (c->n > 1)
		qsort(c->v, c->n, sizeof(*c->v), str_cmp);
	/* one count per record, however many of its entries went in */
	for (size_t i = 0; i < c->n; i++) {
		if (i > 0 && strcmp(c->v[i], c->v[i - 1]) == 0)
			continue;
		for (size_t k = 0; k < 2; k++) {
			size_t l = strlen(colls[k]);
			if (strncmp(c->v[i], colls[k], l) == 0 &&
			    c->v[i][l] == '/')
				n[k]++;
		}
	}
	for (size_t k = 0; k < 2; k++)
		if (n[k] && (r = cli_access(cmd, colls[k], NULL, query, n[k])) < 0)
			return r;
	return n[0] + n[1] > INT_MAX ? INT_MAX : (int)(n[0] + n[1]);
}

void cli_carried_free(struct cli_carried *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i]);
	free(c->v);
	memset(c, 0, sizeof(*c));
}
