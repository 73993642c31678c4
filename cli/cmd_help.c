/*
 * hamlet help [COMMAND]; hamlet help --man (hidden) prints the man page
 * in roff, generated from the dispatch table, so that `hamlet help`, the
 * commands' --help and docs/hamlet.1 never tell different stories.
 */
#include "cli.h"
#include "i18n.h"

#include <string.h>

static const char *const about =
	N_("hamlet keeps signed public-service records (health profiles,\n"
	"social-subsidy and forest-protection payments, civil and\n"
	"public-service registrations) in sync between village, commune and\n"
	"provincial nodes, over links that are slow, expensive or down for\n"
	"days. Every change is an entry signed by the node that wrote it;\n"
	"two nodes that hold the same entries show the same records.\n"
	"\n"
	"This command enters and corrects records, shows and resolves\n"
	"conflicts in plain words, carries data on a USB stick as bundles,\n"
	"and lets an auditor check a store or a bundle without trusting it.\n"
	"It works on the node's state directory; the read commands (get,\n"
	"history, conflicts, digest, export, verify, forks, summary, bundle\n"
	"create and inspect) open the store read-only.");

static const struct cli_option_help global_opts[] = {
	{ "--home DIR",
	  N_("the node's state directory (default: $HAMLET_HOME, else /var/lib/hamlet)") },
	{ "--json",
	  N_("machine-readable output; every read command takes it. A failure prints no JSON: its exit status says which kind, and standard error why") },
	{ "--keys",
	  N_("show whole node keys next to names (nodes are named by their certificates; a key without one shows as \"unknown node\" and its first 8 hex digits)") },
	{ "--help, -h",
	  N_("help; \"hamlet COMMAND --help\" shows a command's options and an example") },
	{ "--version", N_("print the version") },
	{ NULL, NULL },
};

static const struct cli_option_help env[] = {
	{ "HAMLET_HOME",
	  N_("the node's state directory when --home is not given (default: /var/lib/hamlet)") },
	{ "HAMLET_SOCKET",
	  N_("the daemon's socket, for every command that talks to a running hamletd (status, sync, peers, and the writes: put, import, delete and the others, which go through it); --socket, where a command takes it, comes first (default: where HOME/hamletd.lock says the daemon put it, else HOME/hamletd.sock)") },
	{ NULL, NULL },
};

static const struct cli_option_help files[] = {
	{ "HOME/node.conf", N_("the node's name, scope and public key") },
	{ "HOME/node.key",
	  N_("the node's secret key (mode 0600); never copy it to another machine. It also opens the bundles sealed to this node") },
	{ "HOME/network.conf", N_("the node's copy of the network file") },
	{ "HOME/store/", N_("the LMDB store of entries and records") },
	{ "HOME/access/access.log",
	  N_("who read health data, one read a line, hash-chained (hamlet access-log); access.log.N beside it: older parts, 4 MiB each") },
	{ "NAME.network",
	  N_("a network file: network id, root public key and the network key (give it only to member nodes)") },
	{ "NAME.root.key", N_("a network's root secret key (keep it offline)") },
	{ NULL, NULL },
};

/* --- plain text -------------------------------------------------------- */

/* A space that text is never broken at in --help (a field's name, type
 * and rule stay on one line); printed as a space. */
#define NBSP '\x1f'

/* Print text filled to width, every line indented; '\n' in text is a
 * space, "\n\n" a paragraph break. */
static void wrap_from(FILE *f, const char *text, int indent, int width,
		      int col)
{
	const char *p = text;
	while (*p) {
		if (p[0] == '\n' && p[1] == '\n') {
			fputs("\n\n", f);
			col = 0;
			p += 2;
			continue;
		}
		if (*p == ' ' || *p == '\n') {
			p++;
			continue;
		}
		size_t n = strcspn(p, " \n");
		int w = i18n_width(p, n);
		if (col > indent && col + 1 + w > width) {
			fputc('\n', f);
			col = 0;
		}
		if (col == 0) {
			fprintf(f, "%*s", indent, "");
			col = indent;
		} else {
			fputc(' ', f);
			col++;
		}
		for (size_t i = 0; i < n; i++)
			fputc(p[i] == NBSP ? ' ' : p[i], f);
		col += w;
		p += n;
	}
	if (col)
		fputc('\n', f);
}

static void wrap(FILE *f, const char *text, int indent, int width)
{
	wrap_from(f, text, indent, width, 0);
}

static void print_options(FILE *f, const struct cli_option_help *o)
{
	for (; o && o->flag; o++) {
		fprintf(f, "  %s\n", o->flag);
		wrap(f, _(o->text), 6, 78);
	}
}

/* "str(12 digits)", "enum(male|female|other)", "int>=0" */
static void field_type(const struct schema_field *fl, char *out, size_t n)
{
	snprintf(out, n, "%s", schema_type_name(fl->type));
	if (fl->type == FT_STR && fl->digits)
		snprintf(out, n, "str(%d digits)", fl->digits);
	else if (fl->type == FT_INT && fl->nonneg)
		snprintf(out, n, "int>=0");
	else if (fl->type == FT_ENUM) {
		snprintf(out, n, "enum(");
		for (const char *const *v = fl->values; v && *v; v++) {
			if (v != fl->values)
				strncat(out, "|", n - strlen(out) - 1);
			strncat(out, *v, n - strlen(out) - 1);
		}
		strncat(out, ")", n - strlen(out) - 1);
	}
}

/* "person_id* str(12 digits) mv": name, type, merge rule. */
static void field_text(const struct schema_field *fl, char *out, size_t n)
{
	char ty[160];
	field_type(fl, ty, sizeof(ty));
	snprintf(out, n, "%s%s\x1f%s\x1f%s", fl->name, fl->required ? "*" : "",
		 ty, schema_rule_name(fl->rule));
}

static void unique_text(const struct schema *s, char *out, size_t n)
{
	out[0] = 0;
	for (const int *u = s->unique; u && *u >= 0; u++) {
		size_t l = strlen(out);
		snprintf(out + l, n - l, "%s%s", u == s->unique ? "" : ", ",
			 s->fields[*u].name);
	}
}

/* One collection as a sentence of its fields. */
static void collection_text(const struct schema *s, char *out, size_t n)
{
	char ft[200], uq[200];
	out[0] = 0;
	for (size_t i = 0; i < s->nfields; i++) {
		size_t l = strlen(out);
		field_text(&s->fields[i], ft, sizeof(ft));
		snprintf(out + l, n - l, "%s%s", i ? ", " : "", ft);
	}
	unique_text(s, uq, sizeof(uq));
	if (uq[0]) {
		size_t l = strlen(out);
		snprintf(out + l, n - l, _(". Unique key: %s"), uq);
	}
}

static const char *const collections_intro =
	N_("Each field is shown as name, type and merge rule; * marks a\n"
	"required field. lww: the last writer wins; mv: different values\n"
	"written at the same time are a conflict; immutable: set once;\n"
	"state: the field moves forward through its states. Two live\n"
	"records with the same unique key are a duplicate.");

static void print_collections(FILE *f)
{
	size_t n;
	const struct schema *const *all = schema_all(&n);
	char text[2048];
	fprintf(f, "\n%s\n", _("collections:"));
	wrap(f, _(collections_intro), 2, 78);
	fputc('\n', f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "  %s ", all[i]->name);
		fprintf(f, _("(record id: %s)"), _(all[i]->id_label));
		fputc('\n', f);
		collection_text(all[i], text, sizeof(text));
		wrap(f, text, 6, 78);
	}
}

void cli_command_help(FILE *f, const struct cli_command *c)
{
	/* the synopsis lines line up under the first, after "usage:" */
	const char *usage = _("usage:");
	int pad = i18n_width(usage, strlen(usage));
	for (const char *const *s = c->synopsis; *s; s++)
		if (s == c->synopsis)
			fprintf(f, "%s hamlet %s\n", usage, *s);
		else
			fprintf(f, "%*s hamlet %s\n", pad, "", *s);
	fputc('\n', f);
	wrap(f, _(c->description), 0, 78);
	fputc('\n', f);
	wrap(f, _(c->text), 2, 78);
	if (c->options && c->options->flag) {
		fprintf(f, "\n%s\n", _("options:"));
		print_options(f, c->options);
	}
	fputs("  --home DIR, --json, --keys\n", f);
	wrap(f, _("the global options; see \"hamlet help\""), 6, 78);
	if (strcmp(c->name, "put") == 0 || strcmp(c->name, "import") == 0)
		print_collections(f);
	fprintf(f, "\n%s\n", _("example:"));
	/* an example's "# " lines are translated with it; its commands
	 * stay as they are */
	for (const char *p = _(c->example); *p;) {
		size_t n = strcspn(p, "\n");
		fprintf(f, "  %.*s\n", (int)n, p);
		p += n;
		if (*p)
			p++;
	}
}

/* 1 when synopsis line s ("cert revoke PUBKEY ...") is of subcommand
 * sub of command name. */
static int synopsis_of(const char *s, const char *name, const char *sub)
{
	size_t nl = strlen(name), sl = strlen(sub);
	return strncmp(s, name, nl) == 0 && s[nl] == ' ' &&
	       strncmp(s + nl + 1, sub, sl) == 0 &&
	       (s[nl + 1 + sl] == ' ' || s[nl + 1 + sl] == 0);
}

/* 1 when word (len n) names a subcommand of c (the second word of one
 * of its synopsis lines). */
static int is_sub(const struct cli_command *c, const char *word, size_t n)
{
	size_t nl = strlen(c->name);
	for (const char *const *s = c->synopsis; *s; s++) {
		const char *w = *s + nl + 1;
		if (strncmp(*s, c->name, nl) == 0 && (*s)[nl] == ' ' &&
		    strncmp(w, word, n) == 0 && (w[n] == ' ' || w[n] == 0))
			return 1;
	}
	return 0;
}

/* Option text t: 1 when it is for sub, or for every subcommand (no
 * "issue, revoke: " list of subcommands before its text). */
static int option_for(const struct cli_command *c, const char *t,
		      const char *sub)
{
	const char *colon = strchr(t, ':');
	int listed = 0, all_subs = 1;

	if (!colon)
		return 1;
	for (const char *w = t; w < colon;) {
		size_t n = strcspn(w, ", :");
		if (!n || !is_sub(c, w, n)) {
			all_subs = 0;
			break;
		}
		listed |= n == strlen(sub) && strncmp(w, sub, n) == 0;
		w += n;
		w += strspn(w, ", ");
	}
	return !all_subs || listed;
}

int cli_command_help_sub(FILE *f, const struct cli_command *c,
			 const char *sub)
{
	const char *usage = _("usage:");
	int pad = i18n_width(usage, strlen(usage)), first = 1, shown = 0;
	const char *text;

	if (!is_sub(c, sub, strlen(sub)))
		return -1;
	for (const char *const *s = c->synopsis; *s; s++)
		if (synopsis_of(*s, c->name, sub)) {
			fprintf(f, "%*s hamlet %s\n", pad, first ? usage : "",
				*s);
			first = 0;
		}
	fputc('\n', f);
	wrap(f, _(c->description), 0, 78);
	/* the first paragraph (what the command is), then those that
	 * begin with the subcommand's name, or with no subcommand's */
	text = _(c->text);
	for (const char *p = text; *p;) {
		const char *end = strstr(p, "\n\n");
		size_t len = end ? (size_t)(end - p) : strlen(p);
		size_t wn = strcspn(p, " \n");
		char mid[40];
		int keep;
		/* a paragraph of another subcommand that goes on to this
		 * one (". list shows ...") is kept too */
		snprintf(mid, sizeof(mid), ". %s ", sub);
		keep = p == text ||
		       (wn == strlen(sub) && strncmp(p, sub, wn) == 0) ||
		       !is_sub(c, p, wn) ||
		       (strstr(p, mid) && strstr(p, mid) < p + len);
		if (keep) {
			char *para = strndup(p, len);
			if (para) {
				fputc('\n', f);
				wrap(f, para, 2, 78);
				free(para);
			}
		}
		p += len;
		while (*p == '\n')
			p++;
	}
	for (const struct cli_option_help *o = c->options; o && o->flag; o++)
		if (option_for(c, _(o->text), sub)) {
			if (!shown++)
				fprintf(f, "\n%s\n", _("options:"));
			fprintf(f, "  %s\n", o->flag);
			wrap(f, _(o->text), 6, 78);
		}
	fputs("  --home DIR, --json, --keys\n", f);
	wrap(f, _("the global options; see \"hamlet help\""), 6, 78);
	/* its example: the lines of the subcommand (continued lines
	 * too), each with the "# " lines just before it; none, no
	 * heading */
	{
		const char *ex = _(c->example), *cm = NULL;
		char want[64];
		int cont = 0, any = 0;
		snprintf(want, sizeof(want), "hamlet %s %s", c->name, sub);
		for (const char *p = ex; *p;) {
			size_t n = strcspn(p, "\n");
			const char *hit = strstr(p, want);
			int take = cont || (p[0] != '#' && hit && hit < p + n);
			if (take && !any++)
				fprintf(f, "\n%s\n", _("example:"));
			if (take && !cont && cm)
				fprintf(f, "  %.*s\n", (int)(p - cm - 1), cm);
			if (take)
				fprintf(f, "  %.*s\n", (int)n, p);
			if (p[0] == '#')
				cm = cm ? cm : p;
			else
				cm = NULL;
			cont = take && n && p[n - 1] == '\\';
			p += n;
			if (*p)
				p++;
		}
	}
	return 0;
}

void cli_usage(FILE *f)
{
	fprintf(f, "hamlet %s: %s\n\n", HAMLET_VERSION,
		_("signed-record sync for remote communes"));
	fprintf(f, "%s hamlet [--home DIR] [--json] [--keys] COMMAND [ARGUMENTS]\n\n",
		_("usage:"));
	fprintf(f, "%s\n", _("commands:"));
	for (const struct cli_command *c = cli_commands; c->name; c++) {
		for (const char *const *s = c->synopsis; *s; s++)
			fprintf(f, "  %s\n", *s);
		wrap(f, _(c->description), 6, 78);
	}
	fprintf(f, "\n%s\n", _("global options (before or after COMMAND):"));
	print_options(f, global_opts);
	fprintf(f, "\n%s\n", _("exit status:"));
	for (const struct cli_exit_help *e = cli_exit_help; e->text; e++) {
		fprintf(f, "  %d ", e->code);
		wrap_from(f, _(e->text), 5, 78, 4);
	}
	fprintf(f, "\n%s\n", _("environment:"));
	for (const struct cli_option_help *o = env; o->flag; o++) {
		fprintf(f, "  %s\n", o->flag);
		wrap(f, _(o->text), 6, 78);
	}
	fputc('\n', f);
	wrap(f, _("Run \"hamlet COMMAND --help\" for a command's options and an example."),
	     0, 78);
}

/* --- roff -------------------------------------------------------------- */

/* Escape text for roff; '\n' starts a new input line. */
static void roff(FILE *f, const char *s, size_t n)
{
	int bol = 1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (bol && (c == '.' || c == '\''))
			fputs("\\&", f);
		bol = 0;
		if (c == '\\')
			fputs("\\e", f);
		else if (c == '-')
			fputs("\\-", f);
		else if (c == '\n') {
			fputc('\n', f);
			bol = 1;
		} else if (c == NBSP)
			fputc(' ', f); /* field lists break their own lines */
		else
			fputc(c, f);
	}
}

static void roff_s(FILE *f, const char *s)
{
	roff(f, s, strlen(s));
}

/* Paragraphs ("\n\n" apart), each after .PP. */
static void roff_text(FILE *f, const char *text)
{
	const char *p = text;
	while (*p) {
		const char *end = strstr(p, "\n\n");
		size_t n = end ? (size_t)(end - p) : strlen(p);
		fputs(".PP\n", f);
		roff(f, p, n);
		fputc('\n', f);
		p += n;
		while (*p == '\n')
			p++;
	}
}

/* "--scope SCOPE": the flag in bold, its argument in italics. */
static void roff_flag(FILE *f, const char *flag)
{
	const char *sp = strchr(flag, ' ');
	if (!sp || strncmp(flag, "--help, -h", 10) == 0) {
		fputs("\\fB", f);
		roff_s(f, flag);
		fputs("\\fR\n", f);
		return;
	}
	fputs("\\fB", f);
	roff(f, flag, (size_t)(sp - flag));
	fputs("\\fR \\fI", f);
	roff_s(f, sp + 1);
	fputs("\\fR\n", f);
}

static void roff_options(FILE *f, const struct cli_option_help *o)
{
	for (; o && o->flag; o++) {
		fputs(".TP\n", f);
		roff_flag(f, o->flag);
		roff_s(f, _(o->text));
		fputc('\n', f);
	}
}

/* ".SH NAME": the heading is the rest of the line. */
static void roff_section(FILE *f, const char *name)
{
	fputs(".SH ", f);
	roff_s(f, name);
	fputc('\n', f);
}

/* A synopsis line: its leading command words in bold. */
static void roff_synopsis(FILE *f, const char *s)
{
	size_t lit = 0, i = 0;
	while (s[i]) {
		size_t w = strspn(s + i, "abcdefghijklmnopqrstuvwxyz");
		if (w == 0 || (s[i + w] != ' ' && s[i + w] != 0))
			break;
		lit = i + w;
		i = lit;
		if (s[i] == ' ')
			i++;
	}
	fputs("\\fBhamlet ", f);
	roff(f, s, lit);
	fputs("\\fR", f);
	roff_s(f, s + lit);
	fputs("\n.br\n", f);
}

static void man_page(FILE *f)
{
	size_t n;
	const struct schema *const *all = schema_all(&n);
	char text[2048];

	fprintf(f,
		".\\\" Generated by \"hamlet help --man\" from cli/main.c; do not edit.\n"
		".TH HAMLET 1 \"\" \"hamlet %s\" \"%s\"\n",
		HAMLET_VERSION, _("hamlet manual"));
	roff_section(f, _("NAME"));
	fputs("hamlet \\- ", f);
	roff_s(f, _("signed-record sync for remote communes"));
	fputc('\n', f);
	roff_section(f, _("SYNOPSIS"));
	fputs("\\fBhamlet\\fR [\\fB\\-\\-home\\fR \\fIDIR\\fR] "
	      "[\\fB\\-\\-json\\fR] [\\fB\\-\\-keys\\fR] \\fICOMMAND\\fR [\\fIARGUMENTS\\fR]\n",
	      f);
	roff_section(f, _("DESCRIPTION"));
	roff_text(f, _(about));
	roff_section(f, _("OPTIONS"));
	fputs(".PP\n", f);
	roff_s(f, _("The global options may come before or after the command."));
	fputc('\n', f);
	roff_options(f, global_opts);
	roff_section(f, _("COMMANDS"));
	for (const struct cli_command *c = cli_commands; c->name; c++) {
		fprintf(f, ".SS %s\n", c->name);
		for (const char *const *s = c->synopsis; *s; s++)
			roff_synopsis(f, *s);
		roff_text(f, _(c->text));
		roff_options(f, c->options);
		fputs(".PP\n", f);
		roff_s(f, _("Example:"));
		fputs("\n.PP\n.RS 4\n.nf\n", f);
		roff_s(f, _(c->example));
		fputs("\n.fi\n.RE\n", f);
	}
	/* field lists: no hyphens inside names, no stretched spaces */
	roff_section(f, _("COLLECTIONS"));
	fputs(".nh\n.ad l\n", f);
	roff_text(f, _(collections_intro));
	for (size_t i = 0; i < n; i++) {
		char uq[2048];
		fputs(".TP\n\\fB", f);
		roff_s(f, all[i]->name);
		fputs("\\fR ", f);
		unique_text(all[i], uq, sizeof(uq));
		if (uq[0])
			snprintf(text, sizeof(text),
				 _("(record id: %s; unique key: %s)"),
				 _(all[i]->id_label), uq);
		else
			snprintf(text, sizeof(text), _("(record id: %s)"),
				 _(all[i]->id_label));
		roff_s(f, text);
		fputc('\n', f);
		for (size_t k = 0; k < all[i]->nfields; k++) {
			field_text(&all[i]->fields[k], text, sizeof(text));
			if (k)
				fputs(".br\n", f);
			roff_s(f, text);
			fputc('\n', f);
		}
	}
	fputs(".ad b\n.hy\n", f);
	roff_section(f, _("EXIT STATUS"));
	for (const struct cli_exit_help *e = cli_exit_help; e->text; e++) {
		fprintf(f, ".TP\n.B %d\n", e->code);
		roff_s(f, _(e->text));
		fputc('\n', f);
	}
	roff_section(f, _("ENVIRONMENT"));
	for (const struct cli_option_help *o = env; o->flag; o++) {
		fprintf(f, ".TP\n.B %s\n", o->flag);
		roff_s(f, _(o->text));
		fputc('\n', f);
	}
	roff_section(f, _("FILES"));
	for (const struct cli_option_help *o = files; o->flag; o++) {
		fputs(".TP\n.I ", f);
		roff_s(f, o->flag);
		fputc('\n', f);
		roff_s(f, _(o->text));
		fputc('\n', f);
	}
}

int cmd_help(int argc, char **argv)
{
	int man = 0, help = 0, npos = 0, r;
	char *pos[2]; /* "help cert issue": cert's help, which has issue's */
	const struct cli_opt opts[] = {
		{ "--man", NULL, &man },
		{ "--help", NULL, &help },
		{ "-h", NULL, &help },
		{ NULL, NULL, NULL },
	};
	const struct cli_command *c;

	if ((r = cli_parse("help", argc, argv, opts, pos, 2, &npos)) < 0)
		return cli_exit_code(r);
	if (man) {
		man_page(stdout);
		return CLI_EXIT_OK;
	}
	if (help) {
		cli_command_help(stdout, cli_command_find("help"));
		return CLI_EXIT_OK;
	}
	if (npos == 0) {
		cli_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (!(c = cli_command_find(pos[0])))
		return cli_exit_code(
			cli_usage_err(NULL, _("unknown command \"%s\""), pos[0]));
	/* "help cert revoke": that subcommand's part of cert's help */
	if (npos < 2 || cli_command_help_sub(stdout, c, pos[1]) < 0)
		cli_command_help(stdout, c);
	return CLI_EXIT_OK;
}
