/*
 * scratch: the scratch directory of a report on a bundle (scratch.h).
 */
#include "scratch.h"

#include "cli.h"
#include "i18n.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCRATCH_PREFIX "hamlet-verify-"

/* the files LMDB and the store make in dir/store */
static const char *const scratch_files[] = { "data.mdb", "lock.mdb",
					     "hamlet.lock" };
#define NFILES (sizeof(scratch_files) / sizeof(scratch_files[0]))

/* What the handler removes, made before it is armed: a handler may call
 * only async-signal-safe functions (unlink, rmdir, sigaction, raise). */
static char armed_file[NFILES][PATH_MAX];
static char armed_store[PATH_MAX], armed_dir[PATH_MAX];
static volatile sig_atomic_t armed;
static const int scratch_signals[] = { SIGINT, SIGTERM, SIGHUP };
#define NSIGNALS (sizeof(scratch_signals) / sizeof(scratch_signals[0]))
static struct sigaction saved[NSIGNALS];

/* 0 when every file and both directories are gone (or were never). */
static int remove_at(const char *dir)
{
	char p[PATH_MAX];
	int r = 0;

	for (size_t i = 0; i < NFILES; i++) {
		snprintf(p, sizeof(p), "%s/store/%s", dir, scratch_files[i]);
		if (unlink(p) < 0 && errno != ENOENT)
			r = -errno;
	}
	snprintf(p, sizeof(p), "%s/store", dir);
	if (rmdir(p) < 0 && errno != ENOENT)
		r = -errno;
	if (rmdir(dir) < 0 && errno != ENOENT)
		r = -errno;
	return r;
}

static void on_signal(int sig)
{
	struct sigaction dfl;

	if (armed) {
		for (size_t i = 0; i < NFILES; i++)
			unlink(armed_file[i]);
		rmdir(armed_store);
		rmdir(armed_dir);
	}
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
	raise(sig);
}

static void arm(const char *dir)
{
	struct sigaction sa;

	for (size_t i = 0; i < NFILES; i++)
		snprintf(armed_file[i], sizeof(armed_file[i]), "%s/store/%s",
			 dir, scratch_files[i]);
	snprintf(armed_store, sizeof(armed_store), "%s/store", dir);
	snprintf(armed_dir, sizeof(armed_dir), "%s", dir);
	armed = 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < NSIGNALS; i++)
		sigaction(scratch_signals[i], &sa, &saved[i]);
}

static void disarm(void)
{
	if (!armed)
		return;
	for (size_t i = 0; i < NSIGNALS; i++)
		sigaction(scratch_signals[i], &saved[i], NULL);
	armed = 0;
}

/* The scratch directories an earlier run left in tmp (killed, or
 * crashed): removed when it was this user's and its process is gone,
 * else named, since they hold a clear copy of a bundle's records. */
static void stale_clean(const char *tmp)
{
	DIR *d = opendir(tmp);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		const char *n = de->d_name, *rest;
		char p[PATH_MAX], *end;
		struct stat s;
		long pid;

		if (strncmp(n, SCRATCH_PREFIX, strlen(SCRATCH_PREFIX)) != 0)
			continue;
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", tmp, n) >=
			    sizeof(p) ||
		    lstat(p, &s) < 0 || !S_ISDIR(s.st_mode) ||
		    s.st_uid != getuid())
			continue;
		rest = n + strlen(SCRATCH_PREFIX);
		errno = 0;
		pid = strtol(rest, &end, 10);
		/* a run still going (its own, or another's): left alone */
		if (end != rest && *end == '-' && pid > 0 && errno == 0 &&
		    (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		if (end != rest && *end == '-' && pid > 0 && remove_at(p) == 0) {
			cli_err(_("removed %s, left by an earlier report on a bundle that was stopped before it could remove it (it held a clear copy of that bundle's records)"),
				p);
			continue;
		}
		cli_err(_("WARNING: %s was left by an earlier report on a bundle and holds a clear copy of that bundle's records: remove it (rm -r %s) once no report runs"),
			p, p);
	}
	closedir(d);
}

int scratch_make(const char *tmp, char *dir, size_t len)
{
	int r;

	if (!tmp || !tmp[0])
		tmp = "/tmp";
	stale_clean(tmp);
	snprintf(dir, len, "%s/" SCRATCH_PREFIX "%ld-XXXXXX", tmp,
		 (long)getpid());
	if (!mkdtemp(dir)) {
		r = -errno;
		cli_err(_("cannot make a scratch directory %s: %s"), dir,
			strerror(errno));
		dir[0] = 0;
		return r;
	}
	arm(dir);
	return 0;
}

void scratch_remove(const char *dir)
{
	remove_at(dir);
	disarm();
}
