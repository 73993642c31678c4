#include "why.h"
#include "utf8.h"

#include <stdarg.h>
#include <string.h>

static why_translate_fn why_translator;
/* process-wide: a writer's pool of checking threads shares its caller's
 * plain stretch */
static int why_plain;

void why_translate_set(why_translate_fn fn)
{
	why_translator = fn;
}

void why_plain_begin(void)
{
	__atomic_add_fetch(&why_plain, 1, __ATOMIC_SEQ_CST);
}

void why_plain_end(void)
{
	__atomic_sub_fetch(&why_plain, 1, __ATOMIC_SEQ_CST);
}

const char *why_translate(const char *fmt)
{
	const char *t =
		why_translator && !__atomic_load_n(&why_plain, __ATOMIC_SEQ_CST)
			? why_translator(fmt)
			: NULL;
	return t ? t : fmt;
}

/* The mark a sentence cut to its buffer ends with. */
#define WHY_CUT "\u2026"

/*
 * why (n bytes of text, more than its whylen) cut to fit: at the last
 * space of its last 40 bytes when there is one, else between two
 * characters, and marked with an ellipsis, so that a reader sees that
 * something was left out and never takes half a word for a whole one.
 */
static void why_cut(char *why, size_t whylen)
{
	size_t mark = sizeof(WHY_CUT) - 1, l;

	if (whylen <= mark) {
		why[0] = 0;
		return;
	}
	l = utf8_cut(why, whylen - 1, whylen - 1 - mark);
	for (size_t i = l; i > 0 && l - i < 40; i--)
		if (why[i - 1] == ' ') {
			l = i - 1;
			break;
		}
	memcpy(why + l, WHY_CUT, mark + 1);
}

void why_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	int n;
	if (!why || whylen == 0)
		return;
	va_start(ap, fmt);
	/* the translation keeps fmt's conversions (msgfmt --check) */
	n = vsnprintf(why, whylen, why_translate(fmt), ap);
	va_end(ap);
	if (n >= 0 && (size_t)n >= whylen)
		why_cut(why, whylen);
}

/* --- English sentences back into the translator's language ----------- */

/* The catalogs' sentences with a conversion (generated from po/). */
static const char *const why_formats[] = {
#include "why_formats.inc"
	NULL,
};

#define WHY_MAX_CONV 8	     /* conversions a sentence may carry over */
#define WHY_MAX_STEPS 20000 /* bound on one match's backtracking */
#define WHY_MIN_LITERAL 8   /* "%s: %s" says too little to stand for one */

struct why_match {
	const char *at[WHY_MAX_CONV];
	size_t len[WHY_MAX_CONV];
	int n;
	long steps;
};

/* The conversion at f (just past '%'): its letter into *conv; returns the
 * character after it, or NULL when it is not one printf takes. */
static const char *conv_spec(const char *f, char *conv)
{
	while (*f && strchr("-+ #0", *f))
		f++;
	while ((*f >= '0' && *f <= '9') || *f == '*' || *f == '.')
		f++;
	while (*f && strchr("hlzjt", *f))
		f++;
	if (!*f || !strchr("sdiuxXcp%", *f))
		return NULL;
	*conv = *f;
	return f + 1;
}

/* Does s match format f from here on (captures into m)? */
static int fmt_match(const char *s, const char *f, struct why_match *m)
{
	char conv;
	const char *nf;

	if (++m->steps > WHY_MAX_STEPS)
		return 0;
	while (*f && *f != '%') {
		if (*s != *f)
			return 0;
		s++;
		f++;
	}
	if (!*f)
		return !*s;
	if (!(nf = conv_spec(f + 1, &conv)))
		return 0;
	if (conv == '%')
		return *s == '%' && fmt_match(s + 1, nf, m);
	if (m->n == WHY_MAX_CONV)
		return 0;
	int k = m->n++;
	m->at[k] = s;
	if (conv == 's') {
		/* shortest first; the text after must begin with f's next
		 * literal character when it has one */
		for (size_t l = 0;; l++) {
			if ((!*nf || *nf == '%' || s[l] == *nf)) {
				m->len[k] = l;
				if (fmt_match(s + l, nf, m))
					return 1;
			}
			if (!s[l] || m->steps > WHY_MAX_STEPS)
				break;
		}
	} else {
		size_t l = 0;
		if (conv == 'c') {
			l = *s ? 1 : 0;
		} else {
			if ((conv == 'd' || conv == 'i') && s[0] == '-')
				l++;
			while (s[l] && (conv == 'x' || conv == 'X' || conv == 'p'
						? strchr("0123456789abcdefABCDEFx",
							 s[l]) != NULL
						: (s[l] >= '0' && s[l] <= '9')))
				l++;
		}
		if (l > 0) {
			m->len[k] = l;
			if (fmt_match(s + l, nf, m))
				return 1;
		}
	}
	m->n--;
	return 0;
}

/* The letters of f outside its conversions. */
static size_t fmt_literal(const char *f)
{
	size_t n = 0;
	char conv;
	while (*f) {
		const char *nf;
		if (*f == '%' && (nf = conv_spec(f + 1, &conv))) {
			f = nf;
			continue;
		}
		f++;
		n++;
	}
	return n;
}

/* Add p[0..l) to out (n bytes, *o used): cut at a character's start
 * when it does not fit, and then nothing more is added. */
static void out_add(char *out, size_t n, size_t *o, const char *p, size_t l)
{
	int cut = 0;
	if (*o + 1 >= n)
		return;
	if (l > n - 1 - *o) {
		l = utf8_cut(p, l, n - 1 - *o);
		cut = 1;
	}
	memcpy(out + *o, p, l);
	out[*o + l] = 0;
	*o = cut ? n : *o + l;
}

#define WHY_MAX_KIND 12 /* bytes of a kind: "held", "not held", "fork" */

/*
 * A stored reason often goes without its leading "KIND: " (a report
 * shows the kind apart: bundle import's "held: feed %s has ..." is kept
 * as "feed %s has ..."). The English format past such a kind (one or two
 * short lower-case words and ": "), or NULL when it has none: a longer
 * lead is a clause of the sentence, which its translation may place
 * elsewhere.
 */
static const char *fmt_past_kind(const char *f)
{
	size_t i = 0, spaces = 0;
	while (i <= WHY_MAX_KIND &&
	       ((f[i] >= 'a' && f[i] <= 'z') || (i > 0 && f[i] == ' ')))
		spaces += f[i++] == ' ';
	return i > 0 && i <= WHY_MAX_KIND && spaces <= 1 && f[i] == ':' &&
			       f[i + 1] == ' '
		       ? f + i + 2
		       : NULL;
}

/* The translation t past its kind: past the first ": " before any
 * conversion; NULL when there is none. */
static const char *tr_past_kind(const char *t)
{
	const char *c = strstr(t, ": "), *pct = strchr(t, '%');
	return c && (!pct || c < pct) ? c + 2 : NULL;
}

static const char *retranslate(why_translate_fn xl, const char *english,
			       char *out, size_t n, int depth)
{
	const char *best = NULL, *t;
	struct why_match m, bm = { 0 };
	size_t bl = 0, o = 0;
	int past_kind = 0;

	if (!xl || !english || n == 0)
		return english;
	/* a sentence without conversions is its own msgid */
	if ((t = xl(english)) && t != english) {
		out[0] = 0;
		out_add(out, n, &o, t, strlen(t));
		return out;
	}
	for (size_t i = 0; why_formats[i]; i++) {
		/* the whole format, then the format past its kind */
		for (int past = 0; past < 2; past++) {
			const char *f = past ? fmt_past_kind(why_formats[i])
					     : why_formats[i];
			size_t lit = f ? fmt_literal(f) : 0;
			if (lit < WHY_MIN_LITERAL || lit <= bl)
				continue;
			memset(&m, 0, sizeof(m));
			if (fmt_match(english, f, &m)) {
				best = why_formats[i];
				past_kind = past;
				bl = lit;
				bm = m;
			}
		}
	}
	if (!best || !(t = xl(best)) || t == best)
		return english;
	if (past_kind && !(t = tr_past_kind(t)))
		return english;
	out[0] = 0;
	for (int k = 0; *t;) {
		const char *nf;
		char conv;
		if (*t != '%' || !(nf = conv_spec(t + 1, &conv))) {
			/* a character whole, never its first bytes alone */
			size_t cl = 1;
			while (t[cl] && ((unsigned char)t[cl] & 0xc0) == 0x80)
				cl++;
			out_add(out, n, &o, t, cl);
			t += cl;
			continue;
		}
		if (conv == '%') {
			out_add(out, n, &o, "%", 1);
		} else if (k < bm.n) {
			char sub[512], inner[512];
			size_t l = bm.len[k] < sizeof(sub) - 1 ? bm.len[k]
							      : sizeof(sub) - 1;
			memcpy(sub, bm.at[k], l);
			sub[l] = 0;
			/* a quoted sentence, not a name that happens to be
			 * a word of the catalog ("village", "record") */
			const char *tr = conv == 's' && depth < 2 &&
						 strchr(sub, ' ') &&
						 fmt_literal(sub) >=
							 WHY_MIN_LITERAL
						 ? retranslate(xl, sub, inner,
							       sizeof(inner),
							       depth + 1)
						 : sub;
			out_add(out, n, &o, tr, strlen(tr));
			k++;
		}
		t = nf;
	}
	return out;
}

const char *why_retranslate(const char *english, char *out, size_t n)
{
	return retranslate(why_translator, english, out, n, 0);
}

const char *why_retranslate_by(why_translate_fn fn, const char *english,
			       char *out, size_t n)
{
	return retranslate(fn, english, out, n, 0);
}
