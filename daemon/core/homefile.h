/*
 * homefile: a file hamlet makes in a node's home belongs to the home's
 * user, whoever runs hamlet.
 *
 * hamletd runs as the node's user (systemd/hamletd.service). An
 * administrator who runs hamlet as root (sudo hamlet token create ...)
 * would otherwise leave files that user cannot read or replace: the
 * tokens file (every HTTP client refused), own-feeds (every write
 * refused), a store compacted after an erasure. Run as root, hamlet
 * gives each file it makes the owner and group of the directory it is
 * made in, when that directory is not root's own. Run as anyone else,
 * nothing changes: a file is its maker's, as always.
 */
#ifndef HAMLET_HOMEFILE_H
#define HAMLET_HOMEFILE_H

/* fd, open on the file at path (or path itself when fd < 0, never
 * followed if a symbolic link): its owner and group become those of
 * path's directory, when this process runs as root and that directory
 * is not root's, and it is a directory or a regular file of one name (a
 * link the home's user made is left as it is). 0, or -errno. Files made
 * for it are opened with O_NOFOLLOW, and a temporary one made anew
 * (O_EXCL), so that root never writes through a link either. */
int homefile_own(int fd, const char *path);

#endif
