#include "why.h"

#include <stdarg.h>

static why_translate_fn why_translator;
static _Thread_local int why_plain;

void why_translate_set(why_translate_fn fn)
{
	why_translator = fn;
}

void why_plain_begin(void)
{
	why_plain++;
}

void why_plain_end(void)
{
	why_plain--;
}

const char *why_translate(const char *fmt)
{
	const char *t =
		why_translator && !why_plain ? why_translator(fmt) : NULL;
	return t ? t : fmt;
}

void why_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	if (!why || whylen == 0)
		return;
	va_start(ap, fmt);
	/* the translation keeps fmt's conversions (msgfmt --check) */
	vsnprintf(why, whylen, why_translate(fmt), ap);
	va_end(ap);
}
