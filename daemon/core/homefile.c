#include "homefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* path's directory into dir. */
static void dir_of(const char *path, char *dir, size_t n)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, n, ".");
	else if (slash == path)
		snprintf(dir, n, "/");
	else
		snprintf(dir, n, "%.*s", (int)(slash - path), path);
}

int homefile_own(int fd, const char *path)
{
	char dir[4200];
	struct stat d, f;
	int r;

	if (geteuid() != 0)
		return 0;
	dir_of(path, dir, sizeof(dir));
	if (stat(dir, &d) != 0 || d.st_uid == 0)
		return 0;
	/*
	 * Never a file the home's user could have put there for root to
	 * hand over: a symbolic link (lchown() below changes the link,
	 * not what it names), or a second name of another file (a hard
	 * link to /etc/shadow, made in the home, would otherwise become
	 * the user's). Only a regular file or directory of one name.
	 */
	if ((fd >= 0 ? fstat(fd, &f) : lstat(path, &f)) != 0)
		return -errno;
	if (!(S_ISREG(f.st_mode) && f.st_nlink == 1) && !S_ISDIR(f.st_mode))
		return 0;
	if (f.st_uid == d.st_uid && f.st_gid == d.st_gid)
		return 0;
	r = fd >= 0 ? fchown(fd, d.st_uid, d.st_gid)
		    : lchown(path, d.st_uid, d.st_gid);
	return r == 0 ? 0 : -errno;
}
