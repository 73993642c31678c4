#ifndef HAMLET_TLMEMO_H
#define HAMLET_TLMEMO_H

#include <stddef.h>

/*
 * tlmemo: a table of the calling thread's own, for what a writing
 * thread remembers between the steps of one transaction (the bodies it
 * stored, the ops it added: entries.c, record.c). Zeroed at first use,
 * freed when the thread exits.
 */
enum tlmemo_kind { TLMEMO_BODIES, TLMEMO_OPS, TLMEMO_APPEND, TLMEMO_KINDS };

/* This thread's table of kind, of bytes (the same at every call for a
 * kind); made at first use when make, else NULL until then. NULL, too,
 * when memory runs out: remembering is only ever a saving. */
void *tlmemo_table(enum tlmemo_kind kind, size_t bytes, int make);

#endif
