#include "cli.h"
#include "cert.h"

#include "entry.h"
#include "error.h"
#include "hlc.h"
#include "i18n.h"
#include "import_map.h"
#include "utf8.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


struct cli_global cli_global;

/* --- messages and exit codes ------------------------------------------- */

/* fmt's message on stderr, with the control characters of what it
 * quotes (a value the user typed, a name from a file) shown as '?', so
 * that no message can steer the terminal, and so are bytes that are no
 * part of UTF-8 (a terminal shows them as garbage, or takes them for the
 * start of a character); tab and newline stay. */
static void err_vprint(const char *fmt, va_list ap)
{
	char msg[4096];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	utf8_scrub(msg);
	for (unsigned char *p = (unsigned char *)msg; *p; p++) {
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
			*p = '?';
		else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			p[0] = p[1] = '?'; /* a C1 control */
	}
	fputs(msg, stderr);
}

void cli_err(const char *fmt, ...)
{
	va_list ap;
	fputs("hamlet: ", stderr);
	va_start(ap, fmt);
	err_vprint(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fputs("hamlet: ", stderr);
	if (cmd)
		fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	err_vprint(fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, _(" (see \"hamlet %s --help\")\n"), cmd);
	else
		fputs(_(" (see \"hamlet help\")\n"), stderr);
	return CLI_EUSAGE;
}

void cli_full_note(int r, const char *path)
{
	if (r == -EROFS) {
		/* a stick with its write-protect switch on, or one Linux
		 * made read-only after an error */
		cli_err(_("cannot write %s: the USB stick or disk that holds it is read-only (its write-protect switch on, or Linux made it read-only after an error: unplug it and plug it in again, or run a check of it on a PC); nothing was written there"),
			path);
		return;
	}
	if (r != -ENOSPC && r != -EFBIG && r != -EDQUOT)
		return;
	cli_err(_("no room for %s: free space on the USB stick or disk that holds it, or use another one (a stick formatted FAT32 takes no file over 4 GB); a file of that name from before is left as it was"),
		path);
}

const char *cli_strerror(int err)
{
	const char *s = hamlet_strerror(err);
	return cli_global.json ? s : _(s);
}

const char *cli_tr(const char *s)
{
	return cli_global.json ? s : _(s);
}

const char *cli_role_text(int role)
{
	static const char *const words[] = {
		NULL,	       N_("village"),  N_("commune"),
		N_("district"), N_("province"), N_("auditor"),
	};
	if (!cert_role_name(role))
		return NULL;
	return cli_tr(words[role]);
}

int cli_exit_code(int err)
{
	if (err >= 0)
		return err;
	switch (err) {
	case HAMLET_ECORRUPT:
		/* a row or page that does not read, met by any command: the
		 * message above it names what it was reading; what to do is
		 * verify's, whatever the command */
		cli_err(_("the store in %s/store is DAMAGED: a page or a row of it does not read, and the command stopped there. Stop hamletd, run hamlet verify, and restore the store from a peer or a backup (operator guide, \"Checking\")"),
			cli_home());
		return CLI_EXIT_DAMAGED;
	case CLI_EUSAGE:
		return CLI_EXIT_USAGE;
	case CLI_EPROBLEMS:
		return CLI_EXIT_PROBLEMS;
	case -ENOENT:
	case HAMLET_ENOTFOUND:
		return CLI_EXIT_NOTFOUND;
	case -EINVAL:
	case -EEXIST:
	case HAMLET_EFORMAT:
	case HAMLET_ETYPE:
	case HAMLET_ETRAILING:
	case HAMLET_ETOOBIG:
	case HAMLET_EVERSION:
	case HAMLET_ESIG:
	case HAMLET_EHASH:
	case HAMLET_ENETWORK:
	case HAMLET_ECHAIN:
	case HAMLET_EGAP:
	case HAMLET_EFORK:
	case HAMLET_EDUP:
	case HAMLET_ESCHEMA:
	case HAMLET_ECOLLECTION:
	case HAMLET_EIMMUTABLE:
	case HAMLET_ESTATE:
	case HAMLET_ECONFIG:
	case HAMLET_ESCOPE:
	case HAMLET_EID:
	case HAMLET_EKEY:
	case HAMLET_ECERT:
	case HAMLET_EREVOKED:
	case HAMLET_EERASED:
		return CLI_EXIT_INVALID;
	case HAMLET_ETWOPEOPLE:
	case HAMLET_EDELCONFLICT:
		return CLI_EXIT_USAGE;
	case HAMLET_ERESOLVED:
	case HAMLET_ECHANGED:
		return CLI_EXIT_PROBLEMS;
	case HAMLET_EBEHIND:
	case CLI_ELATER:
		return CLI_EXIT_LATER;
	case CLI_EDAMAGED:
		return CLI_EXIT_DAMAGED;
	case CLI_EUNREACHED:
		return CLI_EXIT_SYSTEM;
	default:
		return CLI_EXIT_SYSTEM;
	}
}

/* --- global options ---------------------------------------------------- */

const char *cli_home(void)
{
	const char *h = cli_global.home;
	if (h && h[0])
		return h;
	h = getenv("HAMLET_HOME");
	if (h && h[0])
		return h;
	return CLI_DEFAULT_HOME;
}

void cli_path_note(const char *path, int err)
{
	/* "E:\to-km.bundle", "C:/Users/...": how the stick is named on a
	 * Windows PC, not here */
	if (err != -ENOENT || !path ||
	    !((isalpha((unsigned char)path[0]) && path[1] == ':' &&
	       (path[2] == '\\' || path[2] == '/')) ||
	      strchr(path, '\\')))
		return;
	cli_err(_("%s is how Windows names a file; on this machine a USB stick is a directory such as /media/USER/NAME (\"ls /media/*\" lists them), and paths use /"),
		path);
}

const char *cli_prog(void)
{
	static char buf[4200];
	char *q;
	if (!cli_global.home)
		return "hamlet";
	q = cli_sh_quote(cli_global.home);
	snprintf(buf, sizeof(buf), "hamlet --home %s",
		 q ? q : cli_global.home);
	free(q);
	return buf;
}

/* --- option parsing ---------------------------------------------------- */

/* Match "--name" or "--name=value"; *ret_val is the inline value. */
static int opt_match(const char *arg, const char *name, const char **ret_val)
{
	size_t n = strlen(name);
	if (strncmp(arg, name, n) != 0)
		return 0;
	if (arg[n] == 0) {
		*ret_val = NULL;
		return 1;
	}
	if (arg[n] == '=') {
		*ret_val = arg + n + 1;
		return 1;
	}
	return 0;
}

int cli_parse(const char *cmd, int argc, char **argv,
	      const struct cli_opt *opts, char **pos, int maxpos,
	      int *ret_npos)
{
	int npos = 0, only_pos = 0;

	for (const struct cli_opt *o = opts; o && o->name; o++)
		if (strcmp(o->name, "--socket") == 0)
			cli_global.socket_opt = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *inl;
		const char **val_dst = NULL;
		int *flag_dst = NULL, matched = 0;

		if (only_pos || a[0] != '-' || strcmp(a, "-") == 0) {
			if (npos >= maxpos)
				return cli_usage_err(cmd,
						     _("unexpected argument \"%s\""),
						     a);
			pos[npos++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (opt_match(a, "--home", &inl)) {
			matched = 1;
			val_dst = &cli_global.home;
		} else if (opt_match(a, "--json", &inl)) {
			matched = 1;
			flag_dst = &cli_global.json;
		} else if (opt_match(a, "--keys", &inl)) {
			matched = 1;
			flag_dst = &cli_global.keys;
		}
		for (const struct cli_opt *o = opts; !matched && o && o->name;
		     o++) {
			if (opt_match(a, o->name, &inl)) {
				matched = 1;
				val_dst = o->ret_arg;
				flag_dst = o->ret_flag;
			}
		}
		if (!matched)
			return cli_usage_err(cmd, _("unknown option \"%s\""), a);
		if (flag_dst) {
			if (inl)
				return cli_usage_err(
					cmd, _("option %.*s takes no value"),
					(int)(strchr(a, '=') - a), a);
			*flag_dst = 1;
			continue;
		}
		if (!inl) {
			if (i + 1 >= argc)
				return cli_usage_err(cmd,
						     _("option %s needs a value"), a);
			inl = argv[++i];
		}
		/* "--out ''": no file at all, not a file named ""; "--home
		 * ''": not the default home */
		if (!inl[0] && strncmp(a, "--out", 5) == 0)
			return cli_usage_err(cmd, _("option --out is empty: give the file to write"));
		if (!inl[0] && val_dst == &cli_global.home)
			return cli_usage_err(cmd, _("--home is empty: give the node's directory, such as --home /var/lib/hamlet"));
		*val_dst = inl;
	}
	*ret_npos = npos;
	return 0;
}

/* --- the node ---------------------------------------------------------- */

int cli_node_open(int readonly, struct node **ret, int *ret_daemon)
{
	char why[512] = "";
	const char *home = cli_home();
	int r = 0, daemon = 0;

	/* while hamletd runs it is the writer and signs: this process only
	 * reads, so an operator without the node's key can write too */
	if (!readonly && (r = cli_daemon_up()) < 0)
		return r; /* a daemon runs that cannot be reached: printed */
	if (!readonly && r > 0)
		daemon = readonly = 1;
	if (ret_daemon)
		*ret_daemon = daemon;
	r = node_open(home, readonly, ret, why, sizeof(why));
	if (r == 0) {
		cli_global.scopes = (*ret)->smap;
		cli_global.node = *ret;
	}
	if (r < 0) {
		if (why[0])
			cli_err("%s", why);
		else
			cli_err(_("cannot open the node in %s: %s"), home,
				cli_strerror(r));
	}
	/* files that do not read: the store is damaged, as verify says */
	return r == HAMLET_ECORRUPT ? CLI_EDAMAGED : r;
}

void cli_store_damaged_exit(const char *dir, const char *what)
{
	cli_err(_("the store in %s is DAMAGED: the database library met a page of it that is missing or does not fit with the others (%s), and the command stopped there: what it was writing at that moment is not stored. Stop hamletd, run hamlet verify, and restore the store from a peer or a backup (operator guide, \"Checking\")"),
		dir, cli_tr(what));
	/* not exit(): another thread may be in the store, and what is
	 * buffered for standard output is cut short anyway */
	_exit(CLI_EXIT_DAMAGED);
}

int cli_store_fault(int r)
{
	switch (r) {
	case HAMLET_EFORMAT:
	case HAMLET_ETYPE:
	case HAMLET_ETRAILING:
	case HAMLET_ETOOBIG:
	case HAMLET_EVERSION:
	case HAMLET_EHASH:
	case HAMLET_ESCOPE:
	case HAMLET_ECOLLECTION:
	case HAMLET_EID:
		return HAMLET_ECORRUPT;
	default:
		return r;
	}
}

int cli_txn_read(struct node *n, struct store_txn **ret)
{
	int r = store_txn_begin(n->st, 1, ret);
	if (r < 0)
		cli_err(_("cannot read the store in %s/store: %s"), n->home,
			cli_strerror(r));
	return r;
}

int cli_edits(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int d[3][34];
	if (la > 32 || lb > 32 || (la > lb ? la - lb : lb - la) > 2)
		return 3;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int *r = d[i % 3], *p = d[(i - 1) % 3], *pp = d[(i + 1) % 3];
		r[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int c = p[j - 1] + (a[i - 1] != b[j - 1]);
			if (p[j] + 1 < c)
				c = p[j] + 1;
			if (r[j - 1] + 1 < c)
				c = r[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && pp[j - 2] + 1 < c)
				c = pp[j - 2] + 1;
			r[j] = c;
		}
	}
	return d[la % 3][lb] < 3 ? d[la % 3][lb] : 3;
}

/* The collection whose name a mistyped name is nearest (2 edits at
 * most), or NULL. */
static const char *collection_near(const char *name)
{
	size_t n;
	const struct schema *const *all = schema_all(&n);

	for (size_t i = 0; i < n; i++)
		if (cli_edits(name, all[i]->name) <= 2)
			return all[i]->name;
	return NULL;
}

const struct schema *cli_schema(const char *name)
{
	const struct schema *s = schema_find(name);
	const char *near;
	char list[256];

	if (s)
		return s;
	schema_names(list, sizeof(list));
	if ((near = collection_near(name)))
		cli_err(_("unknown collection \"%s\"; did you mean \"%s\"? The collections are: %s"),
			name, near, list);
	else
		cli_err(_("unknown collection \"%s\"; the collections are: %s"),
			name, list);
	return NULL;
}

int cli_coll_id(const char *cmd, char **pos, int npos,
		const struct schema **ret)
{
	const struct schema *s;
	const char *near;
	char list[256];

	*ret = NULL;
	schema_names(list, sizeof(list));
	if (npos == 1 && !schema_find(pos[0]) &&
	    (near = collection_near(pos[0])))
		/* a collection mistyped, its id missing: said as such */
		return cli_usage_err(cmd, _("unknown collection \"%s\" (did you mean \"%s\"?), and missing ID"),
				     pos[0], near);
	if (npos == 1 && !schema_find(pos[0]) &&
	    entry_record_id_check(pos[0]) == 0)
		/* an id alone: it is the collection that is missing */
		return cli_usage_err(cmd, _("missing COLLECTION before %s (the collections are: %s)"),
				     pos[0], list);
	if (npos < 2)
		return cli_usage_err(cmd, _("missing %s"),
				     npos ? "ID" : _("COLLECTION and ID"));
	if (!schema_find(pos[0]) && schema_find(pos[1]))
		return cli_usage_err(cmd, _("the collection comes first, then the id: %s %s %s %s"),
				     cli_prog(), cmd, pos[1], pos[0]);
	if (!(s = cli_schema(pos[0])))
		return HAMLET_ECOLLECTION;
	*ret = s;
	return cli_check_id(pos[1]);
}

int cli_check_id(const char *id)
{
	if (entry_record_id_check(id) < 0) {
		cli_err(_("invalid record id \"%.80s\": use 1-64 letters without accents (a-z, A-Z), digits, '.', '_', ':' or '-' (not . or .. alone)"),
			id);
		return HAMLET_EID;
	}
	return 0;
}

int cli_check_scope(const char *scope, const char *what)
{
	if (entry_scope_check(scope) < 0) {
		cli_err(_("invalid %s \"%.140s\": use 1-8 lower-case segments of a-z, 0-9 and '-' joined by '/', like bk/bach-thong/quang-thuan/na-pai"),
			what, scope);
		/* a value given on the command line in none of the forms
		 * it takes: a usage error, as --expires 31/02/2027 is */
		return CLI_EUSAGE;
	}
	return 0;
}

/* --- dates ------------------------------------------------------------ */

/* Digits only, exactly n of them, as a number. */
static int digits(const char *s, int n, int *ret)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return 0;
}

int cli_date_parse(const char *s, uint64_t *ret)
{
	struct tm tm, back;
	int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
	int zoned = 0;
	const char *p = s + 10;
	time_t t;

	if (strlen(s) < 10 || digits(s, 4, &y) || s[4] != '-' ||
	    digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d))
		return -EINVAL;
	if (*p == 'T' || *p == ' ') {
		if (digits(p + 1, 2, &h) || p[3] != ':' ||
		    digits(p + 4, 2, &mi))
			return -EINVAL;
		p += 6;
		if (*p == ':') {
			if (digits(p + 1, 2, &sec))
				return -EINVAL;
			p += 3;
		}
		if (*p == 'Z') {
			p++;
			zoned = 1;
		} else if (*p == '+' || *p == '-') {
			zoned = 1;
			sign = *p == '+' ? 1 : -1;
			if (digits(p + 1, 2, &oh) || p[3] != ':' ||
			    digits(p + 4, 2, &om) || oh > 14 || om > 59)
				return -EINVAL;
			p += 6;
		}
	}
	if (*p || y < 1970 || h > 23 || mi > 59 || sec > 59)
		return -EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	/* without a zone, the operator means the time on the wall: the
	 * system's zone (TZ), as every time is shown */
	if (zoned) {
		t = timegm(&tm);
	} else {
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	/* 2026-02-30 comes back as March: not a date */
	if (t == (time_t)-1 ||
	    !(zoned ? gmtime_r(&t, &back) : localtime_r(&t, &back)) ||
	    back.tm_mday != d || back.tm_mon != mo - 1)
		return -EINVAL;
	t -= sign * (oh * 3600 + om * 60);
	if (t < 0)
		return -EINVAL;
	*ret = (uint64_t)t * 1000;
	return 0;
}

/* A day as a Vietnamese spreadsheet writes it, 01/12/2026 (or with -
 * or . as import takes it), as YYYY-MM-DD in iso: 1, else 0. */
static int dmy_iso(const char *s, char iso[16])
{
	unsigned d, m, y;
	char s1, s2;
	int n = 0;
	if (sscanf(s, "%2u%c%2u%c%4u%n", &d, &s1, &m, &s2, &y, &n) == 5 &&
	    !s[n] && s1 == s2 && strchr("/-.", s1) && y >= 1970 && m >= 1 &&
	    m <= 12 && d >= 1 && d <= 31) {
		snprintf(iso, 16, "%04u-%02u-%02u", y, m, d);
		return 1;
	}
	return 0;
}

#define CLI_MAX_DAYS 36500 /* an --expires of Nd: 100 years */

int cli_day_end(const char *s, uint64_t *ret)
{
	const uint64_t day_ms = 86400000ull;
	struct tm tm = { 0 };
	char *end, iso[16];
	time_t t;

	if (s[0] >= '1' && s[0] <= '9') {
		unsigned long days = strtoul(s, &end, 10);
		if (end[0] == 'd' && !end[1] && days <= CLI_MAX_DAYS) {
			uint64_t today = (uint64_t)time(NULL) * 1000 / day_ms;
			*ret = (today + days + 1) * day_ms;
			return 0;
		}
	}
	if (dmy_iso(s, iso))
		s = iso; /* 30/06/2027, as a spreadsheet writes a day */
	end = strptime(s, "%Y-%m-%d", &tm);
	if (!end || *end || tm.tm_year < 70)
		return -EINVAL;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	{
		/* 2027-02-31 comes back as March: not a day */
		struct tm back;
		int y = tm.tm_year, m = tm.tm_mon, d = tm.tm_mday;
		if ((t = timegm(&tm)) == (time_t)-1 ||
		    !gmtime_r(&t, &back) || back.tm_year != y ||
		    back.tm_mon != m || back.tm_mday != d)
			return -EINVAL;
	}
	*ret = (uint64_t)t * 1000 + day_ms;
	return 0;
}

int cli_expires_parse(const char *cmd, const char *s, int never,
		      uint64_t *ret)
{
	/* the forms cli_day_end() takes, which a person may not know */
	const char *forms =
		never ? _("DD/MM/YYYY, YYYY-MM-DD, a number of days such as 90d, or never")
		      : _("DD/MM/YYYY, YYYY-MM-DD or a number of days such as 365d");
	const struct schema_field f = { .name = "--expires", .type = FT_DATE };
	char iso[16], why[300] = "";
	size_t nd = strspn(s, "0123456789");

	if (never && strcmp(s, "never") == 0) {
		*ret = 0;
		return 0;
	}
	if (cli_day_end(s, ret) == 0)
		return 0;
	/* a number of days, but none cli_day_end() takes: say which are */
	if (nd && s[nd] == 'd' && !s[nd + 1]) {
		unsigned long days = strtoul(s, NULL, 10); /* ULONG_MAX past it */
		if (days == 0)
			return cli_usage_err(cmd, _("--expires \"%s\": give at least 1 day, such as 1d (the end of tomorrow, UTC)"),
					     s);
		if (days > CLI_MAX_DAYS)
			return cli_usage_err(cmd, _("--expires \"%s\": give at most %d days"),
					     s, CLI_MAX_DAYS);
	}
	/* a day that is not one (31/02/2027, a two-digit year) is told as
	 * import tells it of a cell */
	if (import_map_date(&f, s, iso, why, sizeof(why)) < 0)
		return cli_usage_err(cmd, _("%s; give %s"), why, forms);
	return cli_usage_err(cmd, _("--expires \"%s\" is not a date: give %s"),
			     s, forms);
}

void cli_date_text(uint64_t ms, char *out, size_t n)
{
	const uint64_t day_ms = 86400000ull;
	char t[32];
	if (!ms) {
		snprintf(out, n, "%s", _("never"));
		return;
	}
	if (ms % day_ms == 0) {
		time_t d = (time_t)((ms - day_ms) / 1000);
		struct tm tm;
		char day[I18N_WHEN_MAX];
		gmtime_r(&d, &tm);
		i18n_when_as(&tm, I18N_DATE, cli_day_first(), day, sizeof(day));
		snprintf(out, n, _("the end of %s (UTC)"), day);
		return;
	}
	cli_time_text(ms, 0, t);
	snprintf(out, n, "%s", t);
}

void cli_lapse_text(const struct node_lapse *l, char *out, size_t n)
{
	char first[32], last[32], day[16];
	time_t d = (time_t)(l->first_ms / 1000);
	struct tm tm;
	size_t len;

	out[0] = 0;
	if (!l->entries)
		return;
	cli_time_text(l->first_ms, 0, first);
	cli_time_text(l->last_ms, 0, last);
	gmtime_r(&d, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	if (l->above[0])
		snprintf(out, n,
			 CLI_P_("%llu entry this node saved from %s to %s, when the certificate of \"%s\" above its own did not hold, is refused by every other node, and holds back everything this node wrote after it in its feed. Whoever certified \"%s\" renews its certificate from %s (hamlet cert issue ... --from %s); the renewal reaches this node by sync or USB bundle, and this node needs nothing new\n",
			    "%llu entries this node saved from %s to %s, when the certificate of \"%s\" above its own did not hold, are refused by every other node, and hold back everything this node wrote after them in their feeds. Whoever certified \"%s\" renews its certificate from %s (hamlet cert issue ... --from %s); the renewal reaches this node by sync or USB bundle, and this node needs nothing new\n",
			    l->entries),
			 (unsigned long long)l->entries, first, last, l->above,
			 l->above, day, day);
	else
	snprintf(out, n,
		 CLI_P_("%llu entry this node saved from %s to %s, when no certificate of it held, is refused by every other node, and holds back everything this node wrote after it in its feed. Ask the administrator for a certificate valid from %s (hamlet cert issue ... --from %s), then run hamlet cert install FILE here\n",
		    "%llu entries this node saved from %s to %s, when no certificate of it held, are refused by every other node, and hold back everything this node wrote after them in their feeds. Ask the administrator for a certificate valid from %s (hamlet cert issue ... --from %s), then run hamlet cert install FILE here\n",
		    l->entries),
		 (unsigned long long)l->entries, first, last, day, day);
	len = strlen(out);
	if (len && out[len - 1] == '\n')
		out[len - 1] = 0;
}

void cli_lapse_print(FILE *f, const char *lead, const struct node_lapse *l)
{
	char text[1024];

	if (!l->entries)
		return;
	cli_lapse_text(l, text, sizeof(text));
	fprintf(f, "%s%s\n", lead, text);
}

/* 1 when path's name ends in ".part". */
static int part_name(const char *path)
{
	size_t n = strlen(path);
	return n >= 5 && strcmp(path + n - 5, ".part") == 0;
}

int cli_part_refuse(const char *path)
{
	char part[PATH_MAX];
	struct stat st;

	if (!part_name(path)) {
		/* the file is not there, but its unfinished write is: a
		 * stick pulled out while the bundle or summary was written
		 * leaves only FILE.part. "No such file" would send the
		 * operator looking for a file that never was finished */
		if (stat(path, &st) < 0 && errno == ENOENT &&
		    (size_t)snprintf(part, sizeof(part), "%s.part", path) <
			    sizeof(part) &&
		    stat(part, &st) == 0 && S_ISREG(st.st_mode)) {
			cli_err(_("%s is not there, only %s: an unfinished file, whose writing was stopped before it had finished (a power cut, a stick pulled out). Nothing was read. Delete %s, and make the bundle or the summary again at the node that wrote it"),
				path, part, part);
			return HAMLET_ENOTFOUND;
		}
		return 0;
	}
	cli_err(_("%s is an unfinished file, not a bundle or a summary: its name ends in .part, the name a \"bundle create\" or a \"summary --out\" writes under until it has finished, and this one was stopped before (a power cut, a stick pulled out). Nothing was read. Delete it, and make the bundle or the summary again"),
		path);
	return HAMLET_EFORMAT;
}

int cli_out_dir(const char *out)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(out, '/');
	struct stat st;
	size_t n;

	if (!slash)
		return 0; /* the working directory, which exists */
	n = slash == out ? 1 : (size_t)(slash - out);
	if (n >= sizeof(dir))
		return 0; /* the write names what is wrong */
	memcpy(dir, out, n);
	dir[n] = 0;
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	if (stat(dir, &st) == 0) {
		cli_err(_("cannot write %s: %s is a file, not a folder; nothing was written"),
			out, dir);
		return HAMLET_EFORMAT;
	}
	if (errno != ENOENT)
		return 0; /* not permitted, say: the write says so */
	{
		/* where the folder would be: what ls shows there */
		char up[PATH_MAX];
		const char *u = strrchr(dir, '/');
		size_t ul = u ? (u == dir ? 1 : (size_t)(u - dir)) : 1;
		memcpy(up, u ? dir : ".", ul);
		up[ul] = 0;
		cli_err(_("cannot write %s: the folder %s does not exist (a USB stick not plugged in, or not mounted yet? \"ls %s\" shows what is there); nothing was written"),
			out, dir, up);
	}
	return HAMLET_ENOTFOUND;
}

int cli_part_out(const char *cmd, const char *out)
{
	if (!part_name(out))
		return cli_out_dir(out);
	return cli_usage_err(cmd,
			     _("\"%s\" ends in .part, the name of a file left unfinished: nothing would read it. Name it otherwise (like na-pai.bundle or na-pai.summary)"),
			     out);
}

void cli_unrecorded_print(const char *home, const struct node_feed_lag *v,
			  size_t shown, size_t total)
{
	if (!total)
		return;
	printf(P_("WARNING: %s/%s records less than this node signed in %zu feed of its own: its guard against signing a seq twice is behind, and were the store lost or put back from a backup now, the node would sign those seqs again (a fork of its own feed). hamletd writes the file again by itself as soon as it can (its log says why it could not, often a full disk); with hamletd stopped, starting it, or any write, writes it from the store\n",
		  "WARNING: %s/%s records less than this node signed in %zu feeds of its own: its guard against signing a seq twice is behind, and were the store lost or put back from a backup now, the node would sign those seqs again (a fork of its own feed). hamletd writes the file again by itself as soon as it can (its log says why it could not, often a full disk); with hamletd stopped, starting it, or any write, writes it from the store\n",
		  total),
	       home, NODE_FEEDS_FILE, total);
	for (size_t i = 0; i < shown && i < total; i++) {
		if (v[i].recorded)
			printf(_("  feed %s: the file records up to seq %llu, this node signed up to seq %llu\n"),
			       v[i].scope, (unsigned long long)v[i].recorded,
			       (unsigned long long)v[i].signed_seq);
		else
			printf(_("  feed %s: the file records none of it, this node signed up to seq %llu\n"),
			       v[i].scope,
			       (unsigned long long)v[i].signed_seq);
	}
	if (total > shown)
		printf(_("  and %zu more: hamlet own-feeds lists them\n"),
		       total - shown);
}

int cli_day_first(void)
{
	return !cli_global.json && i18n_day_first();
}

void cli_time_text(uint64_t ms, int form, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	long off;
	size_t n;

	if (form == CLI_TIME_ISO) {
		gmtime_r(&t, &tm);
		strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
		return;
	}
	localtime_r(&t, &tm);
	n = i18n_when_as(&tm, I18N_TIME,
			 form == CLI_TIME_READER && cli_day_first(), out, 32);
	off = tm.tm_gmtoff;
	if (off == 0) {
		snprintf(out + n, 32 - n, " UTC");
		return;
	}
	/* "+07", "+05:30", "-03" */
	char sign = off < 0 ? '-' : '+';
	off = off < 0 ? -off : off;
	if (off % 3600)
		snprintf(out + n, 32 - n, " %c%02ld:%02ld", sign, off / 3600,
			 off % 3600 / 60);
	else
		snprintf(out + n, 32 - n, " %c%02ld", sign, off / 3600);
}

void cli_hlc_text(uint64_t hlc, char out[32])
{
	cli_time_text(hlc_ms(hlc), 0, out);
}

/* The names of the node cli_node_open() opened, built at the first use. */
static struct names *cli_names;

int cli_who_get(struct store_txn *t, const uint8_t key[32],
		struct names_who *ret)
{
	const struct node *n = cli_global.node;
	memset(ret, 0, sizeof(*ret));
	if (!cli_names)
		cli_names = names_new(n ? n->pk : NULL, n ? n->name : NULL,
				      n ? n->scope : NULL);
	if (!cli_names || !t)
		return -ENOMEM;
	return names_get(cli_names, t, key, hlc_wall_ms(), ret);
}

void cli_who(struct store_txn *t, const uint8_t key[32],
	     char out[NAMES_LABEL_MAX])
{
	struct names_who w;
	/* a failed lookup leaves w unknown: the key still shows */
	(void)cli_who_get(t, key, &w);
	names_label(&w, key, cli_global.keys, out);
}

void cli_who_hex(struct store_txn *t, const char *hex,
		 char out[NAMES_LABEL_MAX])
{
	uint8_t key[32];
	if (!hex || strlen(hex) != 64 || hex_decode(hex, key, 32) < 0) {
		snprintf(out, NAMES_LABEL_MAX, _("unknown node %.8s…"),
			 hex ? hex : "?");
		return;
	}
	cli_who(t, key, out);
}

void cli_who_json(struct store_txn *t, const uint8_t key[32], json_t *obj,
		  const char *prefix)
{
	struct names_who w;
	(void)cli_who_get(t, key, &w);
	names_json(&w, obj, prefix);
}

int cli_since_parse(const char *cmd, const char *s, uint64_t *ret)
{
	char iso[16];
	if (cli_date_parse(s, ret) == 0)
		return 0;
	if (dmy_iso(s, iso) && cli_date_parse(iso, ret) == 0)
		return 0;
	return cli_usage_err(
		cmd,
		_("--since \"%s\" is not a date: give DD/MM/YYYY, YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] (local time, or with Z or +07:00)"),
		s);
}

int cli_duration_parse(const char *s, uint64_t max_ms, uint64_t *ret_ms)
{
	uint64_t total = 0;
	const char *p = s;

	if (!*s)
		return -EINVAL;
	while (*p) {
		uint64_t v = 0, unit;
		const char *d = p;
		while (*p >= '0' && *p <= '9' && v < max_ms)
			v = v * 10 + (uint64_t)(*p++ - '0');
		if (p == d)
			return -EINVAL;
		switch (*p) {
		case 'd':
			unit = 86400000;
			break;
		case 'h':
			unit = 3600000;
			break;
		case 'm':
			unit = 60000;
			break;
		case 's':
			unit = 1000;
			break;
		case 0:
			/* "1h30": 30 what? "5": 5 days, or seconds? */
			return d == s ? -EDOM : -EINVAL;
		default:
			return -EINVAL;
		}
		if (*p)
			p++;
		if (v > max_ms / unit)
			return -EINVAL;
		total += v * unit;
		if (total > max_ms)
			return -EINVAL;
	}
	*ret_ms = total;
	return 0;
}
