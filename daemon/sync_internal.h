/*
 * sync's private helpers, shared by sync.c (session, reconciliation,
 * push), sync_recv.c (batches in) and sync_send.c (entries out).
 */
#ifndef HAMLETD_SYNC_INTERNAL_H
#define HAMLETD_SYNC_INTERNAL_H

#include "mp.h"
#include "wire.h"

struct conn;
struct sync_batch;

/* Take w's bytes and send them on c; w is reset for reuse. */
int sync__send_writer(struct conn *c, struct mp_writer *w);
/* A feed of this scope is replicated by both ends of c. */
int sync__scope_shared(struct conn *c, const char *scope);

int sync__on_entries(struct conn *c, const struct wire_msg *m, char *why,
		     size_t wl);
void sync__batch_free(struct sync_batch *b);
int sync__on_want(struct conn *c, const struct wire_msg *m, char *why,
		  size_t wl);
int sync__on_ack(struct conn *c, const struct wire_msg *m, char *why,
		 size_t wl);

#endif
