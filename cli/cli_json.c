/*
 * cli_json: reading a file or standard input, JSON in (jansson's and
 * libcsv's reasons in the user's language), values as text and JSON out,
 * hex and shell quoting, and a report's problems for a person.
 */
#include "cli.h"

#include "error.h"
#include "i18n.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cli_read_all(const char *path, char **ret, size_t *ret_len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int r;

	struct stat st;

	if (!f) {
		r = -errno;
		cli_err(_("cannot read %s: %s"), path, strerror(errno));
		cli_path_note(path, r);
		return r;
	}
	/* a directory opens, then fails to read: the path is wrong */
	if (f != stdin && fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		cli_err(_("%s is a directory, not a file: name the file in it"),
			path);
		fclose(f);
		return -EINVAL;
	}
	for (;;) {
		if (cap - len < 65536) {
			size_t nc = cap ? cap * 2 : 65536 * 2;
			char *p = realloc(buf, nc + 1);
			if (!p) {
				r = -ENOMEM;
				cli_err(_("out of memory reading %s"), path);
				goto out;
			}
			buf = p;
			cap = nc;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
		if (len > CLI_READ_MAX) {
			/* standard input from a pipe that never ends, say:
			 * nothing read here is near that long */
			r = HAMLET_ETOOBIG;
			cli_err(_("%s is over %d MiB: more than a record's JSON, a resolution or a certificate file can be"),
				f == stdin ? _("standard input") : path,
				(int)(CLI_READ_MAX >> 20));
			goto out;
		}
	}
	if (ferror(f)) {
		r = -EIO;
		cli_err(_("cannot read %s: %s"),
			f == stdin ? _("standard input") : path, strerror(errno));
		goto out;
	}
	buf[len] = 0;
	*ret = buf;
	*ret_len = len;
	buf = NULL;
	r = 0;
out:
	free(buf);
	if (f != stdin)
		fclose(f);
	return r;
}

/* jansson's sentences (jansson 2.14, load.c); those ending in a space
 * are followed by what was found there, kept as it is */
static const char *const json_reasons[] = {
	N_("premature end of input"),
	N_("unexpected newline"),
	N_("invalid escape"),
	N_("too big negative integer"),
	N_("too big integer"),
	N_("real number overflow"),
	N_("maximum parsing depth reached"),
	N_("string or '}' expected"),
	N_("'}' expected"),
	N_("duplicate object key"),
	N_("':' expected"),
	N_("invalid token"),
	N_("unexpected token"),
	N_("']' expected"),
	N_("'[' or '{' expected"),
	N_("end of file expected"),
	N_("NUL byte in object key not supported"),
	N_("control character "),
	N_("unable to decode byte "),
	N_("invalid Unicode escape "),
	N_("invalid Unicode "),
};

/* jansson's sentences that name an option of its own, which no user can
 * set: said without it */
static const struct {
	const char *says, *ours;
} json_renamed[] = {
	{ "\\u0000 is not allowed without JSON_ALLOW_NUL",
	  N_("\\u0000 is not allowed") },
};

static const char *json_reason_one(const char *r, size_t len, char *out,
				   size_t n)
{
	for (size_t i = 0; i < sizeof(json_renamed) / sizeof(*json_renamed);
	     i++)
		if (len == strlen(json_renamed[i].says) &&
		    strncmp(r, json_renamed[i].says, len) == 0) {
			snprintf(out, n, "%s", _(json_renamed[i].ours));
			return out;
		}
	for (size_t i = 0; i < sizeof(json_reasons) / sizeof(*json_reasons);
	     i++) {
		const char *k = json_reasons[i];
		size_t kl = strlen(k);
		if (k[kl - 1] == ' ' ? len > kl && strncmp(r, k, kl) == 0
				     : len == kl && strncmp(r, k, kl) == 0) {
			snprintf(out, n, "%s%.*s", _(k), (int)(len - kl),
				 r + kl);
			return out;
		}
	}
	snprintf(out, n, "%.*s", (int)len, r);
	return out;
}

const char *cli_json_reason(const char *text, char *out, size_t n)
{
	static const char near[] = " near '", near_end[] = " near end of file";
	const char *p = strstr(text, near);
	size_t tl = strlen(text);
	char base[160];

	if (p && tl > 0 && text[tl - 1] == '\'') {
		/* "REASON near 'TOKEN'" */
		const char *tok = p + sizeof(near) - 1;
		json_reason_one(text, (size_t)(p - text), base, sizeof(base));
		snprintf(out, n, _("%s near '%.*s'"), base,
			 (int)(text + tl - 1 - tok), tok);
	} else if (tl > sizeof(near_end) - 1 &&
		   strcmp(text + tl - (sizeof(near_end) - 1), near_end) == 0) {
		json_reason_one(text, tl - (sizeof(near_end) - 1), base,
				sizeof(base));
		snprintf(out, n, _("%s at the end of the text"), base);
	} else {
		json_reason_one(text, tl, out, n);
	}
	return out;
}

const char *cli_csv_reason(const char *text)
{
	/* libcsv's sentences (csv_strerror) */
	static const char *const csv_reasons[] = {
		N_("error parsing data while strict checking enabled"),
		N_("memory exhausted while increasing buffer size"),
		N_("data size too large"),
		N_("invalid status code"),
	};
	for (size_t i = 0; i < sizeof(csv_reasons) / sizeof(*csv_reasons); i++)
		if (strcmp(text, csv_reasons[i]) == 0)
			return _(csv_reasons[i]);
	return text;
}

int cli_json_parse(const char *text, size_t len, const char *what,
		   json_t **ret)
{
	char reason[256];
	json_error_t e;
	json_t *j;
	/* the byte order mark an editor on Windows may begin a file with */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
	if (!j) {
		cli_err(_("invalid JSON in %s at line %d, column %d: %s"), what,
			e.line, e.column,
			cli_json_reason(e.text, reason, sizeof(reason)));
		return HAMLET_EFORMAT;
	}
	*ret = j;
	return 0;
}

void cli_json_arg_hint(const char *arg)
{
	if (!strchr(arg, '"') && strchr(arg, ':'))
		cli_err(_("JSON takes double quotes around field names and text, and the shell removes those not inside single quotes: give the whole object in single quotes, like '{\"phone\":\"0912345678\"}'"));
}

/* Append s (n bytes) to a growing buffer, escaping newlines when asked. */
struct sbuf {
	char *p;
	size_t len, cap;
	int oom;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t nc = (b->len + n + 1) * 2;
		char *p = realloc(b->p, nc);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = nc;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void sb_add_text(struct sbuf *b, const char *s, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' || s[i] == '\t') {
			sb_add(b, s + start, i - start);
			sb_add(b, s[i] == '\n' ? "\\n" : "\\t", 2);
			start = i + 1;
		}
	}
	sb_add(b, s + start, n - start);
}

char *cli_value_text(const msgpack_object *o, int quote)
{
	struct sbuf b = { 0 };
	char num[32];

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		sb_add(&b, "(none)", 6);
		break;
	case MSGPACK_OBJECT_STR:
		if (quote)
			sb_add(&b, "'", 1);
		sb_add_text(&b, o->via.str.ptr, o->via.str.size);
		if (quote)
			sb_add(&b, "'", 1);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		snprintf(num, sizeof(num), "%llu",
			 (unsigned long long)o->via.u64);
		sb_add(&b, num, strlen(num));
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		snprintf(num, sizeof(num), "%lld", (long long)o->via.i64);
		sb_add(&b, num, strlen(num));
		break;
	default: {
		json_t *j = cli_mp_json(o);
		char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
		json_decref(j);
		if (s) {
			sb_add_text(&b, s, strlen(s));
			free(s);
		} else {
			b.oom = 1;
		}
		break;
	}
	}
	if (b.oom || !b.p) {
		free(b.p);
		return strdup("?");
	}
	return b.p;
}

void cli_json_print(json_t *j)
{
	if (!j) {
		cli_err(_("out of memory building JSON output"));
		return;
	}
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
	fputc('\n', stdout);
	json_decref(j);
}

void cli_hex(const uint8_t *p, size_t n, char *out)
{
	static const char dig[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = dig[p[i] >> 4];
		out[2 * i + 1] = dig[p[i] & 15];
	}
	out[2 * n] = 0;
}

void cli_hex_short(const uint8_t *p, char out[9])
{
	cli_hex(p, 4, out);
}

char *cli_sh_quote(const char *s)
{
	struct sbuf b = { 0 };
	int plain = s[0] != 0;
	for (const char *p = s; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_-./:=,+@%",
			    *p))
			plain = 0;
	if (plain)
		return strdup(s);
	sb_add(&b, "'", 1);
	for (const char *p = s; *p; p++) {
		if (*p == '\'')
			sb_add(&b, "'\\''", 4);
		else
			sb_add(&b, p, 1);
	}
	sb_add(&b, "'", 1);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* The kinds of problems (problems_add() in the core), for a person. */
static const char *const problem_kinds[] = {
	N_("bad-evidence"), N_("body"),	   N_("chain"),	   N_("damaged"),
	N_("digest"),	    N_("fork"),	   N_("future"),   N_("gap"),
	N_("held"),	    N_("network"), N_("record"),   N_("signature"),
	N_("trailer"),	    N_("trust"),   N_("rejected"), N_("ahead"),
};

const char *cli_problem_kind(const char *kind)
{
	for (size_t i = 0; i < sizeof(problem_kinds) / sizeof(*problem_kinds);
	     i++)
		if (strcmp(kind, problem_kinds[i]) == 0)
			return _(problem_kinds[i]);
	return kind;
}

const char *cli_why(const char *english)
{
	/* a few at once: one printf may show more than one */
	static char ring[4][LOG_WHY_MAX];
	static unsigned next;
	char *out = ring[next++ % 4];
	return why_retranslate(english, out, sizeof(ring[0]));
}

const char *cli_problem_text(const struct problem *x)
{
	/* the whole English sentence, when the catalog knows it, so that
	 * a reason it quotes is translated too */
	/* (a text cut to its buffer is no sentence to match) */
	const char *t = strlen(x->text) + 1 < sizeof(x->text)
				? cli_why(x->text)
				: x->text;
	if (t != x->text)
		return t;
	return x->shown[0] ? x->shown : x->text;
}

void cli_problems_print(FILE *f, const struct problems *p)
{
	struct {
		const char *kind;
		size_t n;
	} kinds[16];
	size_t nk = 0, hidden_other = 0;

	if (p->total == 0)
		return;
	fprintf(f, _("problems (%llu):\n"), (unsigned long long)p->total);
	for (size_t i = 0; i < p->n; i++) {
		size_t k;
		for (k = 0; k < nk; k++)
			if (strcmp(kinds[k].kind, p->v[i].kind) == 0)
				break;
		if (k == nk) {
			if (nk == sizeof(kinds) / sizeof(kinds[0])) {
				hidden_other++;
				continue;
			}
			kinds[nk].kind = p->v[i].kind;
			kinds[nk++].n = 0;
		}
		if (kinds[k].n++ < CLI_PROBLEMS_SHOWN)
			fprintf(f, "  %s: %s\n", cli_problem_kind(p->v[i].kind),
				cli_problem_text(&p->v[i]));
	}
	for (size_t k = 0; k < nk; k++)
		if (kinds[k].n > CLI_PROBLEMS_SHOWN)
			fprintf(f, _("  ... and %zu more %s problems\n"),
				kinds[k].n - CLI_PROBLEMS_SHOWN,
				cli_problem_kind(kinds[k].kind));
	if (hidden_other)
		fprintf(f, _("  ... and %zu more of other kinds\n"), hidden_other);
	if (p->total > p->n)
		fprintf(f, _("  ... and %llu more that were counted but not kept\n"),
			(unsigned long long)(p->total - p->n));
	if (p->n > CLI_PROBLEMS_SHOWN)
		fprintf(f, _("  (--json lists every problem kept)\n"));
}
