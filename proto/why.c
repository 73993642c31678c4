#include "why.h"

#include <stdarg.h>

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
