/*
 * seal: a file sealed (encrypted) to one node's key, frame by frame
 * (proto/SPEC.md "Sealed bundles"). This module only seals and opens
 * bytes; what they hold (a plain bundle's frames) is bundle_format's.
 *
 * file   = magic header frame*
 * magic  = "HAMLETE" 0x01
 * header = version:u8 recipient:32 file_id:16 sealed_key:80 check:32
 * frame  = 'h' 's' flags:u8 0x00 index:u32be length:u32be ciphertext[length]
 *
 * The file key is random per file, sealed with crypto_box_seal to the
 * recipient's X25519 key (its Ed25519 key converted); each frame is
 * XChaCha20-Poly1305 under the file key, so one damaged frame loses that
 * frame only and the reader resumes at the next, and a file cut short
 * lacks the frame flagged last.
 */
#ifndef HAMLET_SEAL_H
#define HAMLET_SEAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SEAL_MAGIC "HAMLETE\x01"
#define SEAL_MAGIC_LEN 8
#define SEAL_VERSION 1
#define SEAL_SEALED_KEY 80 /* crypto_box_SEALBYTES + a 32-byte key */
#define SEAL_FILE_ID 16
#define SEAL_HEADER_LEN (SEAL_MAGIC_LEN + 1 + 32 + SEAL_FILE_ID + SEAL_SEALED_KEY + 32)
#define SEAL_FRAME_HDR 12
#define SEAL_TAG 16
/* Plaintext of one frame: room for a group of plain frames (or, later,
 * a compressed group), not only one. */
#define SEAL_MAX_PLAIN (256 * 1024)
#define SEAL_FLAG_LAST 0x01

/* --- writing ---------------------------------------------------------- */

struct seal_writer;

/*
 * Write the magic and the header for recipient (an Ed25519 public key) to
 * f, with a fresh random file key and id. HAMLET_EKEY when recipient is
 * not a valid Ed25519 public key. f stays the caller's; free *ret with
 * seal_writer_free(), which wipes the file key.
 */
int seal_writer_new(FILE *f, const uint8_t recipient[32],
		    struct seal_writer **ret);
/* Seal p[0..n) (at most SEAL_MAX_PLAIN bytes) as the next frame; last
 * flags the file's final frame. Nothing may follow a last frame. */
int seal_writer_frame(struct seal_writer *s, const uint8_t *p, size_t n,
		      int last);
/* Bytes written to f so far, header included. */
uint64_t seal_writer_bytes(const struct seal_writer *s);
/* Accepts NULL. */
void seal_writer_free(struct seal_writer *s);

/* For the golden vectors only: seal_writer_new() with a given file key
 * and id. */
int seal__writer_new_fixed(FILE *f, const uint8_t recipient[32],
			   const uint8_t file_key[32],
			   const uint8_t file_id[SEAL_FILE_ID],
			   struct seal_writer **ret);

/* --- reading ---------------------------------------------------------- */

/* 1 when buf starts with the sealed magic. */
int seal_is_sealed(const uint8_t *buf, size_t len);

struct seal_header {
	uint8_t recipient[32]; /* Ed25519 public key of the node it is for */
	uint8_t file_id[SEAL_FILE_ID];
	uint8_t sealed_key[SEAL_SEALED_KEY];
	uint8_t check[32]; /* BLAKE2b-256 of the bytes before it */
};

/*
 * The header of a sealed file: HAMLET_EFORMAT when buf is cut short or
 * the check does not match (the header is damaged), HAMLET_EVERSION for
 * another version.
 */
int seal_header_parse(const uint8_t *buf, size_t len,
		      struct seal_header *ret);

/* Called for each problem found while opening, in file order: offset of
 * the bytes concerned in the sealed file, and a sentence. */
typedef void (*seal_problem_fn)(void *ctx, size_t offset, const char *text);

struct seal_opened {
	uint8_t *plain; /* prefix, then every good frame's plaintext in order */
	size_t len;
	uint64_t frames;  /* that opened */
	uint64_t damaged; /* damaged, repeated, misplaced or missing frames */
	int complete;	  /* the last frame was read */
	/* where each opened frame's plaintext begins in plain, and where
	 * that plaintext lies in the sealed file, in order
	 * (seal_opened_file_offset) */
	struct seal_span {
		size_t plain, file;
	} *spans;
	size_t nspans;
};

/*
 * Open the sealed file buf with sk (the recipient's Ed25519 secret key,
 * 64 bytes). Returns <0 only when nothing can be opened: the header is
 * damaged (HAMLET_EFORMAT), another version (HAMLET_EVERSION), the file is
 * for another key (HAMLET_EKEY: compare header.recipient), or its file key
 * does not open with sk (HAMLET_EDECRYPT). Otherwise *ret gets prefix
 * (prefix_len bytes) followed by the plaintext of every frame that
 * authenticates, in index order; a damaged frame, a frame out of place
 * and a file cut short are each reported through problem (may be NULL)
 * and counted, and reading resumes at the next frame. Free *ret with
 * seal_opened_close(), which wipes the plaintext.
 */
int seal_open(const uint8_t *buf, size_t len, const uint8_t sk[64],
	      const void *prefix, size_t prefix_len, seal_problem_fn problem,
	      void *ctx, struct seal_opened *ret);
void seal_opened_close(struct seal_opened *o);

/* The offset in the sealed file of byte plain_off of o->plain, so that a
 * problem found in the plaintext is named where it lies in the file; 0
 * for the prefix (the file's header). */
size_t seal_opened_file_offset(const struct seal_opened *o, size_t plain_off);

#endif
