#include "problems.h"

#include "why.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for one more finding kept. */
static int room(struct problems *p)
{
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 16;
		void *v = realloc(p->v, nc * sizeof(*p->v));
		if (!v)
			return -ENOMEM;
		p->v = v;
		p->cap = nc;
	}
	return 0;
}

int problems_add(struct problems *p, const char *kind, const char *fmt, ...)
{
	va_list ap;
	const char *shown = why_translate(fmt);
	p->total++;
	if (p->n >= PROBLEMS_MAX)
		return 0;
	if (room(p) < 0)
		return -ENOMEM;
	struct problem *x = &p->v[p->n++];
	snprintf(x->kind, sizeof(x->kind), "%s", kind);
	va_start(ap, fmt);
	vsnprintf(x->text, sizeof(x->text), fmt, ap);
	va_end(ap);
	x->shown[0] = 0;
	if (shown != fmt) {
		/* the translation keeps fmt's conversions (msgfmt --check) */
		va_start(ap, fmt);
		vsnprintf(x->shown, sizeof(x->shown), shown, ap);
		va_end(ap);
	}
	return 0;
}

int problems_add_text(struct problems *p, const char *kind, const char *text)
{
	const char *shown = why_translate(text);
	size_t n = p->n;
	int r = problems_add(p, kind, "%s", text);
	/* kept (not past the cap): show the translation, if any */
	if (r == 0 && p->n > n && shown != text)
		snprintf(p->v[n].shown, sizeof(p->v[n].shown), "%s", shown);
	return r;
}

int problems_append(struct problems *dst, const struct problems *src)
{
	dst->total += src->total;
	for (size_t i = 0; i < src->n && dst->n < PROBLEMS_MAX; i++) {
		if (room(dst) < 0)
			return -ENOMEM;
		dst->v[dst->n++] = src->v[i];
	}
	return 0;
}

size_t problems_count(const struct problems *p, const char *kind)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].kind, kind) == 0)
			n++;
	return n;
}

void problems_close(struct problems *p)
{
	if (!p)
		return;
	free(p->v);
	memset(p, 0, sizeof(*p));
}
