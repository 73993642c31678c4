/*
 * scratch: the temporary directory a bundle is judged in (hamlet verify
 * --bundle --report): $TMPDIR/hamlet-verify-PID-XXXXXX, whose store
 * holds a clear copy of the bundle's records while the report runs.
 *
 * It is removed when the report ends, and also when SIGINT, SIGTERM or
 * SIGHUP stops the process (Ctrl-C, a terminal closed): the handler
 * removes the files LMDB made there, then the signal takes its default
 * course. A SIGKILL or a crash leaves it: the next scratch_make() removes
 * those whose process is gone, and names those it cannot.
 */
#ifndef HAMLET_SCRATCH_H
#define HAMLET_SCRATCH_H

#include <stddef.h>

/*
 * Make the directory under tmp (NULL or "": /tmp) into dir (len bytes),
 * and arm the signal handlers that remove it. 0, or a negative errno
 * (the message printed, dir "").
 */
int scratch_make(const char *tmp, char *dir, size_t len);

/* Remove dir/store (the files LMDB made, nothing else) and dir, and
 * disarm the handlers. */
void scratch_remove(const char *dir);

#endif
