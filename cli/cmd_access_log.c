/*
 * hamlet access-log [--since DATE] [--json]
 *
 * Who read health data on this node, from the access log in HOME
 * (daemon/core/access.h), with its hash chain verified.
 */
#include "cli.h"

#include "access.h"
#include "error.h"

#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* " (unsealed bundle FILE)", with ", scope PREFIX" when the bundle was
 * cut to one: rest is what follows the query's first words. */
static void bundle_print(const char *fmt, const char *fmt_scope,
			 const char *rest)
{
	static const char scope[] = ", scope ";
	const char *p, *s = NULL;

	/* the last: a file's name may hold the words too */
	for (p = rest; (p = strstr(p, scope)); p++)
		s = p;
	if (s)
		printf(fmt_scope, (int)(s - rest), rest, s + sizeof(scope) - 1);
	else
		printf(fmt, rest);
}

/* The log keeps what was asked in English, as written (its JSON gives
 * it so); words in the reader's language. */
static void query_print(const char *q)
{
	static const char since[] = "live records changed since ";
	static const char under[] = "live records under ";
	static const char since_in[] = " changed since ";
	static const char bundle[] = "unsealed bundle ";
	static const char sealed[] = "bundle sealed to ";
	static const char search[] = "search \"", none[] = "\", nothing found";
	static const char sink[] = "changes after seq ";
	unsigned long long from, to;
	const char *p;
	int at = 0;

	if (strcmp(q, "all live records") == 0)
		printf(" (%s)", _("all live records"));
	else if (strcmp(q, "records with open conflicts") == 0 ||
		 strcmp(q, "conflicts") == 0) /* the API's /v1/conflicts */
		printf(" (%s)", _("records with open conflicts"));
	else if (strcmp(q, "changes") == 0) /* the API's /v1/changes */
		printf(" (%s)", _("the changes feed"));
	else if (strcmp(q, "person_id") == 0) /* erase --person */
		printf(" (%s)", _("the records of one person, found by person_id"));
	else if (strncmp(q, since, sizeof(since) - 1) == 0)
		printf(_(" (live records changed since %s)"), q + sizeof(since) - 1);
	else if (strncmp(q, under, sizeof(under) - 1) == 0 &&
		 (p = strstr(q + sizeof(under) - 1, since_in)))
		printf(_(" (live records under %.*s changed since %s)"),
		       (int)(p - q - (sizeof(under) - 1)), q + sizeof(under) - 1,
		       p + sizeof(since_in) - 1);
	else if (strncmp(q, under, sizeof(under) - 1) == 0)
		printf(_(" (live records under %s)"), q + sizeof(under) - 1);
	else if (strncmp(q, bundle, sizeof(bundle) - 1) == 0)
		bundle_print(_(" (unsealed bundle %s)"),
			     _(" (unsealed bundle %.*s, scope %s)"),
			     q + sizeof(bundle) - 1);
	else if (strncmp(q, sealed, sizeof(sealed) - 1) == 0)
		bundle_print(_(" (bundle sealed to %s)"),
			     _(" (bundle sealed to %.*s, scope %s)"),
			     q + sizeof(sealed) - 1);
	else if (strncmp(q, search, sizeof(search) - 1) == 0 &&
		 strlen(q) > sizeof(search) + sizeof(none) - 2 &&
		 strcmp(q + strlen(q) - (sizeof(none) - 1), none) == 0)
		printf(_(" (search for \"%.*s\": nothing found)"),
		       (int)(strlen(q) - (sizeof(search) - 1) -
			     (sizeof(none) - 1)),
		       q + sizeof(search) - 1);
	else if (strncmp(q, sink, sizeof(sink) - 1) == 0 &&
		 sscanf(q + sizeof(sink) - 1,
			"%llu to seq %llu, copied to PostgreSQL at %n", &from,
			&to, &at) == 2 && at > 0) /* sink postgres */
		printf(_(" (changes after seq %llu to seq %llu, copied to PostgreSQL at %s)"),
		       from, to, q + sizeof(sink) - 1 + at);
	else
		printf(" (%s)", q);
}

static int print_text(void *ctx, const struct access_entry *e)
{
	char tm[32], uid[32] = "";
	(void)ctx;
	cli_time_text(e->time_ms, 0, tm);
	if (e->uid >= 0)
		snprintf(uid, sizeof(uid), " (uid %lld)", (long long)e->uid);
	printf("%s  %s%s%s%s  %s %s", tm,
	       strcmp(e->who_kind, "user") == 0 ? "" : e->who_kind,
	       strcmp(e->who_kind, "user") == 0 ? "" : " ", e->who, uid,
	       e->command, e->collection);
	if (e->record)
		printf(" %s", e->record);
	if (e->query)
		query_print(e->query);
	printf(_(": %llu record%s\n"), (unsigned long long)e->count,
	       cli_plural(e->count));
	return 0;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static int add_json(void *ctx, const struct access_entry *e)
{
	json_t *o = json_object();
	char tm[32];
	cli_time_text(e->time_ms, 1, tm);
	json_object_set_new(o, "time", json_string(tm));
	json_object_set_new(o, "time_ms", json_integer((json_int_t)e->time_ms));
	json_object_set_new(o, "who_kind", json_string(e->who_kind));
	json_object_set_new(o, "who", json_string(e->who));
	json_object_set_new(o, "uid", e->uid >= 0 ? json_integer(e->uid)
						  : json_null());
	json_object_set_new(o, "command", json_string(e->command));
	json_object_set_new(o, "collection", json_string(e->collection));
	json_object_set_new(o, "record", str_or_null(e->record));
	json_object_set_new(o, "query", str_or_null(e->query));
	json_object_set_new(o, "count", json_integer((json_int_t)e->count));
	json_object_set_new(o, "file", json_string(e->file));
	json_object_set_new(o, "line", json_integer((json_int_t)e->line));
	json_array_append_new(ctx, o);
	return 0;
}

/* Why the log cannot be read, with the account that can read it. */
static void read_refused(const char *why, int r)
{
	struct stat st;
	struct passwd *pw;
	const char *home = cli_home();

	if (r == -ENOENT) {
		cli_err(_("%s: is there a node at %s? (give its home with --home)"),
			why, home);
		return;
	}
	if (r != -EACCES && r != -EPERM) {
		cli_err("%s", why);
		return;
	}
	if (stat(home, &st) == 0 && (pw = getpwuid(st.st_uid)))
		cli_err(_("%s. The access log is for the node's user, %s (the owner of %s), and its group: run \"sudo -u %s %s access-log\", or ask the administrator to add your account to the group"),
			why, pw->pw_name, home, pw->pw_name, cli_prog());
	else
		cli_err(_("%s. The access log is for the node's user (the owner of %s) and its group: run this command as that account"),
			why, home);
}

int cmd_access_log(int argc, char **argv)
{
	const char *since = NULL;
	uint64_t since_ms = 0;
	struct access_check c;
	json_t *arr = NULL;
	char why[4400] = "", tm[32];
	char *pos[1];
	int npos, r;
	const struct cli_opt opts[] = {
		{ "--since", &since, NULL },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("access-log", argc, argv, opts, pos, 0, &npos)) < 0)
		return cli_exit_code(r);
	if (since && (r = cli_since_parse("access-log", since, &since_ms)) < 0)
		return cli_exit_code(r);
	if (cli_global.json)
		arr = json_array();
	r = access_read(cli_home(), since_ms, arr ? add_json : print_text, arr,
			&c, why, sizeof(why));
	if (r < 0) {
		json_decref(arr);
		read_refused(why, r);
		return cli_exit_code(r);
	}
	if (arr) {
		json_t *o = json_object(), *ch = json_object();
		cli_time_text(since_ms, 1, tm);
		json_object_set_new(o, "since", since ? json_string(tm)
						      : json_null());
		json_object_set_new(o, "entries", arr);
		json_object_set_new(o, "shown", json_integer((json_int_t)c.shown));
		json_object_set_new(o, "lines", json_integer((json_int_t)c.lines));
		json_object_set_new(o, "files", json_integer(c.files));
		json_object_set_new(ch, "intact",
				    json_boolean(!c.breaks && !c.damaged));
		json_object_set_new(ch, "breaks", json_integer((json_int_t)c.breaks));
		json_object_set_new(ch, "damaged",
				    json_integer((json_int_t)c.damaged));
		json_object_set_new(ch, "continues", json_boolean(c.continues));
		json_object_set_new(ch, "problem", c.problem[0]
							   ? json_string(c.problem)
							   : json_null());
		json_object_set_new(ch, "head", c.head[0] ? json_string(c.head)
							  : json_null());
		json_object_set_new(o, "chain", ch);
		json_object_set_new(o, "dated_back",
				    json_integer((json_int_t)c.backwards));
		cli_json_print(o);
	} else if (c.lines == 0) {
		printf(_("no read of health data is logged on this node\n"));
	} else {
		if (since) {
			cli_time_text(since_ms, 0, tm);
			printf(_("%llu read%s of health data since %s, of %llu in the log\n"),
			       (unsigned long long)c.shown, cli_plural(c.shown),
			       tm, (unsigned long long)c.lines);
		} else {
			printf(_("%llu read%s of health data\n"),
			       (unsigned long long)c.shown, cli_plural(c.shown));
		}
		if (c.continues)
			printf(_("the oldest file here continues older ones that were archived or removed\n"));
		if (c.breaks || c.damaged)
			printf(_("WARNING: the log was altered or damaged (%llu break%s in the hash chain, %llu damaged line%s); first: %s. Keep a copy of the files and tell the network's administrator\n"),
			       (unsigned long long)c.breaks, cli_plural(c.breaks),
			       (unsigned long long)c.damaged,
			       cli_plural(c.damaged), cli_why(c.problem));
		else
			printf(_("hash chain intact: no line removed or changed; newest line's hash %s\n"),
			       c.head);
		if (c.backwards)
			printf(P_("WARNING: %llu line is dated minutes or more before the line above it (%s): this PC's clock was set back, or set forward before it; the times around it are not to be trusted\n",
				  "WARNING: %llu lines are dated minutes or more before the line above them (the first: %s): this PC's clock was set back, or set forward before them; the times around them are not to be trusted\n",
				  c.backwards),
			       (unsigned long long)c.backwards,
			       cli_why(c.back_first));
	}
	return cli_exit_code(c.breaks || c.damaged ? CLI_EPROBLEMS : 0);
}
