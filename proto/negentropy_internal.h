/*
 * negentropy_internal: what negentropy.c (the protocol) and
 * negentropy_msg.c (reading and writing its messages) share. Nothing
 * outside the module includes it.
 */
#ifndef HAMLET_NEGENTROPY_INTERNAL_H
#define HAMLET_NEGENTROPY_INTERNAL_H

#include "bytes.h"
#include "negentropy.h"

#include <stddef.h>
#include <stdint.h>

#define ID_SIZE NEGENTROPY_ID_SIZE
#define INFINITY_TS NEGENTROPY_TIMESTAMP_INFINITY

enum mode {
	MODE_SKIP = 0,
	MODE_FINGERPRINT = 1,
	MODE_IDLIST = 2,
};

/* A timestamp and an id prefix; the bytes past id_len are zero. */
struct bound {
	uint64_t timestamp;
	uint8_t id[ID_SIZE];
	size_t id_len;
};

/* A message's bytes, and the timestamp its bounds' deltas start from. */
struct reader {
	struct bytes_reader b;
	uint64_t last_timestamp;
};

struct writer {
	uint8_t *p;
	size_t len;
	size_t cap;
	uint64_t last_timestamp;
};

/* Check msg's size and read its version byte: 0 for v1 (r then at the
 * first range), 1 for another version, or <0. */
int neg__reader_open(struct reader *r, const uint8_t *msg, size_t len);
int neg__reader_get_bound(struct reader *r, struct bound *ret);

int neg__writer_reserve(struct writer *w, size_t extra);
int neg__writer_put(struct writer *w, const void *d, size_t n);
int neg__writer_put_varint(struct writer *w, uint64_t v);
/* Timestamps go out as deltas; bounds in a message never go down. */
int neg__writer_put_bound(struct writer *w, const struct bound *b);
int neg__writer_put_range_head(struct writer *w, const struct bound *b,
			       enum mode mode);

#endif
