#include "dlog.h"

#include "error.h"
#include "i18n.h"
#include "utf8.h"
#include "why.h"

#include <errno.h>
#include <libintl.h>
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

static int log_max = DLOG_INFO;
static pthread_once_t tty_once = PTHREAD_ONCE_INIT;
static int tty; /* stderr is a terminal: no "<N>", which is journald's */

static void tty_check(void)
{
	tty = isatty(STDERR_FILENO);
}

void dlog_set_level(int level)
{
	log_max = level;
}

void dlog(int level, const char *fmt, ...)
{
	char line[DLOG_MAX_LINE];
	va_list ap;
	if (level > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one event, one line: text a peer or a file gave (an ERROR's
	 * message, a name) must not start a line of its own, which journald
	 * would read with the level its "<N>" claims, nor steer a terminal */
	utf8_scrub(line); /* also what vsnprintf cut inside a character */
	for (unsigned char *p = (unsigned char *)line; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
		else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			p[0] = p[1] = ' '; /* a C1 control, U+0080..U+009F */
	}
	/* one line, one write: lines of two threads never interleave */
	pthread_once(&tty_once, tty_check);
	flockfile(stderr);
	if (tty)
		fprintf(stderr, "hamletd: %s\n", line);
	else
		fprintf(stderr, "<%d>hamletd: %s\n", level, line);
	funlockfile(stderr);
}

/*
 * The resolver's failures in words an operator can act on (libuv's own,
 * "unknown node or service", name no cause): a peer's address with a
 * typo in its name is the common one. Kept in English like every reason
 * hamletd keeps; hamlet status, sync and the page translate them whole.
 */
static const struct {
	int code;
	const char *en;
} resolver_words[] = {
	{ UV_EAI_NONAME, N_("no computer has this name: a typo in it, or a name this machine cannot look up (no DNS here)") },
	{ UV_EAI_NODATA, N_("this name has no address: a typo in it, or a name this machine cannot look up (no DNS here)") },
	{ UV_EAI_AGAIN, N_("no name server answered (no DNS reachable now)") },
	{ UV_EAI_FAIL, N_("the name server failed to look the name up") },
	{ UV_EAI_ADDRFAMILY, N_("this name has no address of a kind this machine uses") },
	{ UV_EAI_FAMILY, N_("this name has no address of a kind this machine uses") },
	{ UV_EAI_SERVICE, N_("the port after the name is not a port number") },
};

/* libuv's words for an EAI code or the end of a stream, ours where we
 * have better */
static const char *resolver_err(int uverr)
{
	for (size_t i = 0; i < sizeof(resolver_words) / sizeof(resolver_words[0]); i++)
		if (resolver_words[i].code == uverr)
			return resolver_words[i].en;
	return uv_strerror(uverr);
}

const char *dlog_err_en(int uverr)
{
	static locale_t c_loc;
	if (uverr == UV_EOF || (uverr <= UV_EAI_ADDRFAMILY && uverr > -3100))
		return resolver_err(uverr);
	if (uverr <= -4096 || uverr >= 0)
		return hamlet_strerror(uverr); /* our own codes: English */
	if (!c_loc)
		c_loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	return c_loc ? strerror_l(-uverr, c_loc) : hamlet_strerror(uverr);
}

static const char *dlog_gettext(const char *fmt)
{
	return _(fmt);
}

const char *dlog_tr(const char *english)
{
	/* a few at once, per thread: one line may show more than one */
	static __thread char ring[4][1024];
	static __thread unsigned next;
	const char *t = _(english);
	if (t != english)
		return t;
	/* not ours: perhaps the C library's own words for an errno */
	if ((t = dgettext("libc", english)) != english)
		return t;
	/* one of ours with its conversions filled in ("this node has no
	 * certificate (n/node.cert): ...") */
	return why_retranslate_by(dlog_gettext, english, ring[next++ % 4],
				  sizeof(ring[0]));
}

const char *dlog_err(int uverr)
{
	/* libuv's codes are -errno on this system, but for the end of a
	 * stream and the resolver's (EAI) errors */
	if (uverr == UV_EOF || (uverr <= UV_EAI_ADDRFAMILY && uverr > -3100))
		return _(resolver_err(uverr));
	return hamlet_strerror(uverr);
}

void dlog_dir_denied(const char *dir, const char *file, char *out, size_t n)
{
	struct stat sb;

	if (access(dir, W_OK | X_OK) == 0) {
		/* the directory lets this user in: the file itself is
		 * another user's (made by hamletd or hamlet run as root) */
		if (file && lstat(file, &sb) == 0 && sb.st_uid != geteuid())
			snprintf(out, n,
				 _("%s belongs to user id %lu, not to user id %lu, the one hamletd runs as (made by hamlet or hamletd run as that user, with sudo?): give it back (chown --reference=%s %s), then start hamletd"),
				 file, (unsigned long)sb.st_uid,
				 (unsigned long)geteuid(), dir, file);
		else
			snprintf(out, n, "%s", strerror(EACCES));
	} else if (stat(dir, &sb) != 0)
		snprintf(out, n, _("this user may not look into %s: run hamletd as the user that owns it (systemd runs it as hamlet)"),
			 dir);
	else if (sb.st_uid == geteuid())
		snprintf(out, n,
			 _("this user owns %s, but may not write in it (its mode is %04o): give it write permission again (chmod u+rwx %s), then start hamletd"),
			 dir, (unsigned)(sb.st_mode & 07777), dir);
	else
		snprintf(out, n,
			 _("%s belongs to user id %lu, not to user id %lu, the one hamletd runs as: run hamletd as the user that owns it (systemd runs it as hamlet)"),
			 dir, (unsigned long)sb.st_uid,
			 (unsigned long)geteuid());
}
