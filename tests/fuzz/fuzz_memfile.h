/*
 * For targets whose decoder reads a file by name: the input as an
 * in-memory file (memfd), named through /proc/self/fd, so that nothing
 * touches the disk.
 */
#ifndef HAMLET_FUZZ_MEMFILE_H
#define HAMLET_FUZZ_MEMFILE_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Write data into a new memfd and its path into path; returns the fd. */
static inline int fuzz_memfile(const uint8_t *data, size_t size, char *path,
			       size_t cap)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	size_t off = 0;
	if (fd < 0)
		abort();
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);
		if (w <= 0)
			abort();
		off += (size_t)w;
	}
	snprintf(path, cap, "/proc/self/fd/%d", fd);
	return fd;
}
#endif
