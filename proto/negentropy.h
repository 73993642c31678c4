/*
 * negentropy: range-based set reconciliation, Negentropy protocol v1.
 *
 * Each side holds a set of items (64-bit timestamp, 32-byte id) sorted by
 * (timestamp, id). The client sends negentropy_initiate()'s message, the
 * server answers each message with negentropy_reconcile(), and the client
 * feeds every answer to negentropy_reconcile_client(), which reports the
 * ids only the client has (have) and only the server has (need), and the
 * next message to send, until it says the exchange is complete.
 *
 * Messages are byte-identical to those of the reference implementation
 * (hoytech/negentropy): a range that differs is split into 16 buckets of
 * equal item count, a range of fewer than 32 items is sent as an id list,
 * and with a frame size limit a message stops growing once it is within
 * 200 bytes of the limit, leaving the rest for a later round.
 *
 * Every incoming message is parsed strictly: anything not exactly in the v1
 * format (truncated, over-long or non-minimal varints, an id prefix over 32
 * bytes, an unknown mode, a bound below the one before it) is
 * HAMLET_EFORMAT, a message over NEGENTROPY_MSG_MAX bytes HAMLET_ETOOBIG.
 *
 * No function logs. One object may be used by one thread at a time.
 */
#ifndef HAMLET_NEGENTROPY_H
#define HAMLET_NEGENTROPY_H

#include <stddef.h>
#include <stdint.h>

#define NEGENTROPY_ID_SIZE 32
#define NEGENTROPY_FINGERPRINT_SIZE 16

/* The first byte of every v1 message. */
#define NEGENTROPY_PROTOCOL_V1 0x61

/* The largest message accepted from a peer. */
#define NEGENTROPY_MSG_MAX ((size_t)16 << 20)

/* The smallest frame size limit (0 means no limit). */
#define NEGENTROPY_FRAME_MIN 4096

/* The most ids one struct neg_idlist may hold (128 MiB of ids). */
#define NEGENTROPY_IDLIST_MAX ((size_t)1 << 22)

/* Timestamps must be below this value, which the protocol reserves. */
#define NEGENTROPY_TIMESTAMP_INFINITY UINT64_MAX

struct neg_item {
	uint64_t timestamp;
	uint8_t id[NEGENTROPY_ID_SIZE];
};

/*
 * A growable list of ids, owned by the caller. A zeroed struct is an empty
 * list. The reconcile functions append to it; the caller may read ids[0..n)
 * and set n to 0 to reuse the memory, and releases it with
 * negentropy_idlist_close().
 */
struct neg_idlist {
	uint8_t (*ids)[NEGENTROPY_ID_SIZE];
	size_t n;
	size_t cap;
};

/* Free the ids of l and leave it empty. Accepts NULL. */
void negentropy_idlist_close(struct neg_idlist *l);

struct negentropy;

/*
 * Create a reconciliation object over items[0..n), which must be sorted by
 * (timestamp, id) with no item repeated and no timestamp equal to
 * NEGENTROPY_TIMESTAMP_INFINITY; items is borrowed and must stay valid and
 * unchanged until negentropy_free(). frame_size_limit is 0 (messages of any
 * size) or at least NEGENTROPY_FRAME_MIN: then every message this object
 * builds from a peer's message is at most that many bytes.
 *
 * The object copies nothing from items but keeps 32 bytes of running sums
 * per item. On success *ret is the caller's to negentropy_free().
 * Returns 0, -EINVAL (unsorted or invalid items, bad limit), -ENOMEM, -EIO
 * (libsodium could not start).
 */
int negentropy_new(const struct neg_item *items, size_t n,
		   size_t frame_size_limit, struct negentropy **ret);

/* Free ng. Accepts NULL. */
void negentropy_free(struct negentropy *ng);

/*
 * Client: build the first message and make ng a client for good. On
 * success *ret_msg (*ret_len bytes) is the caller's to free(). Returns 0,
 * -EINVAL (already initiated) or -ENOMEM.
 */
int negentropy_initiate(struct negentropy *ng, uint8_t **ret_msg,
			size_t *ret_len);

/*
 * Server: answer the client message msg (len bytes, borrowed for the call).
 * A message of another protocol version (first byte 0x60..0x6f) is
 * answered with the single byte NEGENTROPY_PROTOCOL_V1, which tells the
 * client which version to use. On success *ret_msg (*ret_len bytes) is the
 * caller's to free(). Returns 0, -EINVAL (ng is a client), HAMLET_EFORMAT,
 * HAMLET_ETOOBIG or -ENOMEM.
 */
int negentropy_reconcile(struct negentropy *ng, const uint8_t *msg, size_t len,
			 uint8_t **ret_msg, size_t *ret_len);

/*
 * Client: process the server message msg (len bytes, borrowed for the call).
 * Ids the client has and the server lacks are appended to have, ids the
 * server has and the client lacks to need. With a frame size limit on
 * either side an id may be reported again in a later round.
 *
 * On success *ret_msg (*ret_len bytes) is the next message, the caller's to
 * free(), or NULL with *ret_len 0 when reconciliation is complete. On
 * failure have and need are as they were. Returns 0, -EINVAL (ng has not
 * initiated), HAMLET_EFORMAT, HAMLET_EVERSION (the server speaks another
 * version), HAMLET_ETOOBIG (msg too long, or have or need would pass
 * NEGENTROPY_IDLIST_MAX) or -ENOMEM.
 */
int negentropy_reconcile_client(struct negentropy *ng, const uint8_t *msg,
				size_t len, struct neg_idlist *have,
				struct neg_idlist *need, uint8_t **ret_msg,
				size_t *ret_len);

/*
 * The fingerprint of a range holding exactly ids[0..n): SHA-256 of (the sum
 * of the ids as little-endian integers mod 2^256, then varint(n)), first 16
 * bytes, written to ret_fp. Returns 0 or -EIO (libsodium could not start).
 */
int negentropy_fingerprint(const uint8_t (*ids)[NEGENTROPY_ID_SIZE], size_t n,
			   uint8_t ret_fp[NEGENTROPY_FINGERPRINT_SIZE]);

#endif
