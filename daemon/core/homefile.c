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

/* fd to uid/gid when it is a directory or a regular file of one name (a
 * second name would be a link someone made to another file). */
static void give(int fd, uid_t uid, gid_t gid)
{
	struct stat f;

	if (fstat(fd, &f) != 0 ||
	    !(S_ISDIR(f.st_mode) || (S_ISREG(f.st_mode) && f.st_nlink == 1)))
		return;
	if (f.st_uid != uid || f.st_gid != gid)
		(void)fchown(fd, uid, gid);
}

void homefile_own(int fd, const char *path)
{
	char dir[4200];
	struct stat d;

	if (geteuid() != 0 || fd < 0)
		return;
	dir_of(path, dir, sizeof(dir));
	if (stat(dir, &d) != 0 || d.st_uid == 0)
		return;
	give(fd, d.st_uid, d.st_gid);
}

int homefile_open(const char *path, int flags, mode_t mode)
{
	int fd = open(path, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		      mode);

	if (fd >= 0) {
		homefile_own(fd, path);
		return fd;
	}
	if (errno != EEXIST)
		return -1;
	/* there before: opened as it is, never given */
	return open(path, flags | O_NOFOLLOW | O_CLOEXEC);
}

void homefile_own_made(const char *dir, const char *const *names, size_t n)
{
	char parent[4200];
	struct stat p, ds;
	int dfd;

	if (geteuid() != 0)
		return;
	dir_of(dir, parent, sizeof(parent));
	if (stat(parent, &p) != 0 || p.st_uid == 0)
		return;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return;
	/* still the directory root made: nobody else could put a thing
	 * in it yet */
	if (fstat(dfd, &ds) != 0 || ds.st_uid != 0) {
		close(dfd);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		int fd = openat(dfd, names[i],
				O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			give(fd, p.st_uid, p.st_gid);
			close(fd);
		}
	}
	give(dfd, p.st_uid, p.st_gid);
	close(dfd);
}

void homefile_dir_sync(const char *path)
{
	char dir[4200];
	int fd;

	dir_of(path, dir, sizeof(dir));
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return;
	(void)fsync(fd);
	close(fd);
}
