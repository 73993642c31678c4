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

/* fd, open on the file at path (or path itself when fd < 0): its owner
 * and group become those of path's directory, when this process runs as
 * root and that directory is not root's. 0, or -errno of chown. */
int homefile_own(int fd, const char *path);

#endif
