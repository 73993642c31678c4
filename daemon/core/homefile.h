/*
 * homefile: a file hamlet makes in a node's home belongs to the home's
 * user, whoever runs hamlet.
 *
 * hamletd runs as the node's user (systemd/hamletd.service). An
 * administrator who runs hamlet as root (sudo hamlet token create ...)
 * would otherwise leave files that user cannot read or replace: the
 * tokens file (every HTTP client refused), own-feeds (every write
 * refused), a store made anew. Run as root, hamlet gives each file it
 * makes the owner and group of the directory it is made in, when that
 * directory is not root's own. Run as anyone else, nothing changes: a
 * file is its maker's, as always.
 *
 * Only what this process has just made changes owner, through its
 * descriptor: never a path, never a file that was there before (the
 * home's user could have put a link there, or a second name of a file
 * of root's, for root to hand over).
 */
#ifndef HAMLET_HOMEFILE_H
#define HAMLET_HOMEFILE_H

#include <sys/types.h>

/* fd, a regular file of one name or a directory this process has just
 * made at path: its owner and group become those of path's directory,
 * when this process runs as root and that directory is not root's.
 * Best effort (a file system that keeps no owners, say): nothing to
 * undo when it fails. */
void homefile_own(int fd, const char *path);

/* open(path, flags) of a file in a home, made (mode) when missing, never
 * through a symbolic link; the file made is given as homefile_own()
 * does. The descriptor, or -1 with errno. */
int homefile_open(const char *path, int flags, mode_t mode);

/* dir, just made by this process (mkdir), and each of names[0..n)
 * inside it, given as homefile_own() does: the files first, the
 * directory last, so that nobody else can put anything there before. */
void homefile_own_made(const char *dir, const char *const *names, size_t n);

/* path's directory synced: a rename into it made durable (a power cut
 * right after keeps the new name). Best effort. */
void homefile_dir_sync(const char *path);

#endif
