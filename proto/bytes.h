/*
 * bytes: the one bounds-checked reader for binary wire and file data, and
 * a matching writer into a fixed buffer.
 *
 * A reader walks a borrowed buffer with typed getters, in the manner of
 * OpenSSH's sshbuf_get_u32(): each returns 0, or a negative hamlet error
 * code and then leaves the reader exactly as it was (nothing read, nothing
 * written to the ret_ argument). A parser therefore never indexes a buffer
 * itself; it asks for the next field and checks the result.
 *
 * Integers are big-endian (network order). Varints are Negentropy's:
 * base 128, most significant group first, the high bit set on every byte
 * but the last, minimal (no leading 0x80), at most 64 bits.
 *
 * Nothing here allocates or logs. msgpack data goes through mp.h instead.
 */
#ifndef HAMLET_BYTES_H
#define HAMLET_BYTES_H

#include <stddef.h>
#include <stdint.h>

/* A varint of a uint64_t takes at most this many bytes. */
#define BYTES_VARINT_MAX 10

/*
 * A reader over p[0..len), at offset off. The fields are public so that a
 * reader can live on the stack; read them through the functions below.
 */
struct bytes_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
};

/* Read p[0..len) (p may be NULL when len is 0); p is borrowed. */
void bytes_reader_init(struct bytes_reader *r, const void *p, size_t len);

/* Bytes not read yet. */
size_t bytes_remaining(const struct bytes_reader *r);

/* Bytes read so far: the offset of the next byte from p. */
size_t bytes_offset(const struct bytes_reader *r);

/*
 * Getters. Each returns 0, or HAMLET_EFORMAT when fewer bytes remain than
 * the value needs (bytes_get_varint() also for a non-minimal, unterminated
 * or over-long varint), and then leaves r and *ret unchanged.
 */
int bytes_get_u8(struct bytes_reader *r, uint8_t *ret);
int bytes_get_be16(struct bytes_reader *r, uint16_t *ret);
int bytes_get_be32(struct bytes_reader *r, uint32_t *ret);
int bytes_get_be64(struct bytes_reader *r, uint64_t *ret);
int bytes_get_varint(struct bytes_reader *r, uint64_t *ret);

/* Copy the next n bytes into out (n bytes of room). */
int bytes_get_bytes(struct bytes_reader *r, void *out, size_t n);

/*
 * Point *ret at the next n bytes and move past them (bytes_borrow) or
 * stay (bytes_peek). *ret points into the reader's buffer and lives as
 * long as that buffer does; with n 0 it may be the end of the buffer.
 */
int bytes_borrow(struct bytes_reader *r, size_t n, const uint8_t **ret);
int bytes_peek(const struct bytes_reader *r, size_t n, const uint8_t **ret);

/* Move past the next n bytes. */
int bytes_skip(struct bytes_reader *r, size_t n);

/*
 * A writer into p[0..cap), borrowed. Each put returns 0, or -ENOBUFS when
 * the value does not fit, and then leaves w and the buffer unchanged.
 */
struct bytes_writer {
	uint8_t *p;
	size_t cap;
	size_t off;
};

void bytes_writer_init(struct bytes_writer *w, void *p, size_t cap);

/* Bytes written so far. */
size_t bytes_written(const struct bytes_writer *w);

int bytes_put_u8(struct bytes_writer *w, uint8_t v);
int bytes_put_be16(struct bytes_writer *w, uint16_t v);
int bytes_put_be32(struct bytes_writer *w, uint32_t v);
int bytes_put_be64(struct bytes_writer *w, uint64_t v);
int bytes_put_varint(struct bytes_writer *w, uint64_t v);
int bytes_put_bytes(struct bytes_writer *w, const void *d, size_t n);

/*
 * Claim the next n bytes for the caller to fill in place (an encryption
 * that writes its output directly, say): *ret points at them, in the
 * writer's buffer.
 */
int bytes_reserve(struct bytes_writer *w, size_t n, uint8_t **ret);

#endif
