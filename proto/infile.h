/*
 * infile: opening a file a command or the daemon is about to read, as a
 * regular file only. A directory opens and reads as nothing, /dev/zero
 * never ends, and open() on a pipe waits for a writer that may never
 * come: each is told apart here, before anything is read.
 */
#ifndef HAMLET_INFILE_H
#define HAMLET_INFILE_H

#include <sys/stat.h>

/*
 * Open path for reading without blocking in open(): the descriptor
 * (close it), with *ret_st filled; -EISDIR for a directory, -ENODEV for
 * anything else that is no regular file (a device, a pipe, a socket);
 * or -errno when it cannot be opened or looked at.
 */
int infile_open(const char *path, struct stat *ret_st);

#endif
