#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int outfile_at(const char *path, unsigned char head[OUTFILE_HEAD],
	       size_t *ret_n)
{
	struct stat sb;
	ssize_t got;
	int fd;

	*ret_n = 0;
	if (stat(path, &sb) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(sb.st_mode))
		return -EISDIR;
	if (!S_ISREG(sb.st_mode))
		return -ENODEV;
	if (sb.st_size == 0)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	got = read(fd, head, OUTFILE_HEAD);
	close(fd);
	if (got < 0)
		return -errno;
	*ret_n = (size_t)got;
	return 1;
}

int outfile_is(const unsigned char *head, size_t n, const void *magic,
	       size_t mlen)
{
	return n >= mlen && memcmp(head, magic, mlen) == 0;
}

int outfile_tail_has(const char *path, const char *needle)
{
	enum { TAIL = 65536 };
	char *buf;
	size_t nl = strlen(needle);
	struct stat sb;
	ssize_t got;
	off_t at;
	int fd, found = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	if (fstat(fd, &sb) != 0 || !(buf = malloc(TAIL))) {
		close(fd);
		return 0;
	}
	at = sb.st_size > TAIL ? sb.st_size - TAIL : 0;
	got = pread(fd, buf, TAIL, at);
	close(fd);
	for (ssize_t i = 0; got > 0 && (size_t)got >= nl &&
			    i <= got - (ssize_t)nl && !found;
	     i++)
		found = memcmp(buf + i, needle, nl) == 0;
	free(buf);
	return found;
}
