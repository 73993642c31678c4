#include "infile.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int infile_open(const char *path, struct stat *ret_st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), e;

	if (fd < 0)
		return -errno;
	if (fstat(fd, ret_st) < 0) {
		e = -errno;
		close(fd);
		return e;
	}
	if (!S_ISREG(ret_st->st_mode)) {
		e = S_ISDIR(ret_st->st_mode) ? -EISDIR : -ENODEV;
		close(fd);
		return e;
	}
	/* a regular file reads the same blocking or not; left as is */
	return fd;
}
