#include "homefile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int homefile_own(int fd, const char *path)
{
	char dir[4200];
	const char *slash;
	struct stat d;
	int r;

	if (geteuid() != 0)
		return 0;
	slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (stat(dir, &d) != 0 || d.st_uid == 0)
		return 0;
	r = fd >= 0 ? fchown(fd, d.st_uid, d.st_gid)
		    : chown(path, d.st_uid, d.st_gid);
	return r == 0 ? 0 : -errno;
}
