#include "error.h"
#include "i18n.h"

#include <errno.h>
#include <string.h>

const char *hamlet_strerror(int err)
{
	switch (err) {
#define HAMLET_X_STR(name, code, text) \
	case HAMLET_##name:            \
		return text;
		HAMLET_ERRNO_MAP(HAMLET_X_STR)
#undef HAMLET_X_STR
	default:
		break;
	}
	if (err < 0 && err > -4096)
		return strerror(-err);
	return "unknown error";
}

const char *hamlet_errname(int err)
{
	switch (err) {
#define HAMLET_X_NAME(name, code, text) \
	case HAMLET_##name:             \
		return #name;
		HAMLET_ERRNO_MAP(HAMLET_X_NAME)
#undef HAMLET_X_NAME
	default: {
		/* any errno by its C library name (ENOBUFS, ECONNRESET) */
		const char *name = err < 0 ? strerrorname_np(-err) : NULL;
		return name ? name : "E?";
	}
	}
}
