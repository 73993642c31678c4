/*
 * Noise handshake: Noise_XX_25519_ChaChaPoly_BLAKE2b,
 * Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b (what hamletd uses) and
 * Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b (Noise Protocol Framework rev. 34),
 * built on libsodium's X25519, ChaCha20-Poly1305 (IETF) and BLAKE2b.
 *
 * A handshake is three messages: initiator -> responder -> initiator. Once
 * noise_hs_is_finished() says so, noise_hs_split() yields the two transport
 * CipherStates and the handshake state can be freed.
 *
 * The transport CipherState is defined here because callers embed it in
 * their session structs. Its fields are secret: treat them as opaque, and
 * call noise_cipher_wipe() when the session ends.
 *
 * None of these functions allocate except noise_hs_new(), and none log.
 * libsodium must be usable (noise_hs_new() calls sodium_init() itself).
 */
#ifndef HAMLET_NOISE_H
#define HAMLET_NOISE_H

#include <stddef.h>
#include <stdint.h>

/* The largest Noise message, handshake or transport, tag included. */
#define NOISE_MAX_MSG 65535

/* Lengths of the keys and values that cross this API. */
#define NOISE_KEY_LEN 32
#define NOISE_PSK_LEN 32
#define NOISE_HASH_LEN 64
#define NOISE_TAG_LEN 16

/* A transport CipherState: one direction of a session. */
struct noise_cipher {
	uint8_t k[NOISE_KEY_LEN];
	uint64_t n;
	int has_key;
};

struct noise_hs;

/*
 * Start a handshake as the initiator (initiator != 0) or the responder.
 *
 * prologue (prologue_len bytes, may be NULL when 0) is data both sides must
 * agree on; it is hashed, not sent. s_priv is our static X25519 private key.
 * psk is NULL for Noise_XX, or NOISE_PSK_LEN bytes for Noise_XXpsk3. e_priv
 * is NULL to draw a random ephemeral key; fixed ones are for test vectors
 * only.
 *
 * Every input is copied or consumed before returning; the caller keeps
 * ownership of its buffers and should wipe its own copies. On success
 * *ret_hs is a new handshake the caller frees with noise_hs_free().
 * Returns 0, -EINVAL, -ENOMEM, or -EIO when libsodium cannot start.
 */
int noise_hs_new(int initiator, const uint8_t *prologue, size_t prologue_len,
		 const uint8_t s_priv[NOISE_KEY_LEN], const uint8_t *psk,
		 const uint8_t *e_priv, struct noise_hs **ret_hs);

/*
 * noise_hs_new() with the psk token at psk_pos: 3 (Noise_XXpsk3, as
 * noise_hs_new) or 0 (Noise_XXpsk0: every message, the first included,
 * depends on the psk, so a party without it learns nothing of the other's
 * static key). -EINVAL for another position.
 */
int noise_hs_new_psk(int initiator, const uint8_t *prologue,
		     size_t prologue_len, const uint8_t s_priv[NOISE_KEY_LEN],
		     const uint8_t *psk, int psk_pos, const uint8_t *e_priv,
		     struct noise_hs **ret_hs);

/* Wipe every secret in hs and free it. Accepts NULL. */
void noise_hs_free(struct noise_hs *hs);

/*
 * Write our next handshake message into out (out_cap bytes), carrying
 * payload_len bytes of payload (payload may be NULL when 0). The payload of
 * the first message travels in clear text in Noise_XX: send nothing secret
 * there. payload and out must not overlap.
 *
 * On success *ret_len is the message length (at most NOISE_MAX_MSG).
 * Returns HAMLET_EPROTO when it is not our turn to write or the handshake is
 * over, HAMLET_ETOOBIG when the message would exceed NOISE_MAX_MSG and
 * -ENOBUFS when out_cap is too small; the handshake is unchanged after these
 * three. Any other error ends the handshake: every secret is wiped and
 * later calls return HAMLET_EHANDSHAKE.
 */
int noise_hs_write_message(struct noise_hs *hs, const uint8_t *payload,
			   size_t payload_len, uint8_t *out, size_t out_cap,
			   size_t *ret_len);

/*
 * Read the peer's next handshake message msg (msg_len bytes) and decrypt its
 * payload into payload_out (payload_cap bytes; may be NULL when 0). msg and
 * payload_out must not overlap; payload_out is valid only on success.
 *
 * On success *ret_len is the payload length. Returns HAMLET_EPROTO when it
 * is not our turn to read or the handshake is over, and -ENOBUFS when
 * payload_cap is too small; the handshake is unchanged after these two.
 * A message that is too short is HAMLET_EFORMAT, one over NOISE_MAX_MSG is
 * HAMLET_ETOOBIG, a failed tag is HAMLET_EDECRYPT and a bad peer key is
 * HAMLET_EHANDSHAKE; each ends the handshake as in noise_hs_write_message().
 */
int noise_hs_read_message(struct noise_hs *hs, const uint8_t *msg,
			  size_t msg_len, uint8_t *payload_out,
			  size_t payload_cap, size_t *ret_len);

/* 1 once all three messages have been written or read, else 0. */
int noise_hs_is_finished(const struct noise_hs *hs);

/*
 * Derive the transport CipherStates of a finished handshake: *ret_send
 * encrypts what we send, *ret_recv decrypts what we receive. The caller owns
 * both and wipes them with noise_cipher_wipe(). Split wipes the handshake's
 * chaining key, so it works once; the handshake hash and the remote static
 * key stay readable until noise_hs_free().
 * Returns 0, HAMLET_EPROTO (not finished, or split already) or
 * HAMLET_EHANDSHAKE (the handshake failed).
 */
int noise_hs_split(struct noise_hs *hs, struct noise_cipher *ret_send,
		   struct noise_cipher *ret_recv);

/*
 * Copy the peer's static X25519 public key into ret_pub. It is known after
 * the second message, but authenticated only once the handshake finishes:
 * trust it only then. Returns 0, -EAGAIN when it has not arrived yet or
 * HAMLET_EHANDSHAKE when the handshake failed.
 */
int noise_hs_remote_static(const struct noise_hs *hs,
			   uint8_t ret_pub[NOISE_KEY_LEN]);

/*
 * Copy the handshake hash, a value both sides share and that is unique to
 * this session (for channel binding), into ret_hash. Returns 0, or
 * HAMLET_EPROTO when the handshake has not finished (HAMLET_EHANDSHAKE when
 * it failed).
 */
int noise_hs_handshake_hash(const struct noise_hs *hs,
			    uint8_t ret_hash[NOISE_HASH_LEN]);

/*
 * Encrypt len bytes of plain, with ad_len bytes of associated data ad (may
 * be NULL when 0), into out, which holds len + NOISE_TAG_LEN bytes. out may
 * equal plain (in place) but must not otherwise overlap it.
 * Returns 0, -EINVAL (no key), HAMLET_ETOOBIG (the message would exceed
 * NOISE_MAX_MSG) or -EOVERFLOW (the nonce is spent: the session must end).
 * The nonce advances only on success.
 */
int noise_cipher_encrypt(struct noise_cipher *c, const uint8_t *ad,
			 size_t ad_len, const uint8_t *plain, size_t len,
			 uint8_t *out);

/*
 * Decrypt a transport message cipher of len bytes into out, which holds
 * len - NOISE_TAG_LEN bytes; out may equal cipher. Messages must arrive in
 * order, each exactly once: a replayed, reordered, tampered or foreign
 * message is HAMLET_EDECRYPT, and leaves the nonce where it was so the
 * expected message can still be read. Also returns -EINVAL (no key),
 * HAMLET_EFORMAT (shorter than a tag), HAMLET_ETOOBIG (over NOISE_MAX_MSG)
 * or -EOVERFLOW (nonce spent). out is valid only on success.
 */
int noise_cipher_decrypt(struct noise_cipher *c, const uint8_t *ad,
			 size_t ad_len, const uint8_t *cipher, size_t len,
			 uint8_t *out);

/* Wipe the key and nonce of c; it can no longer encrypt or decrypt. */
void noise_cipher_wipe(struct noise_cipher *c);

/*
 * Convert an Ed25519 secret key (libsodium's 64-byte seed || public key
 * layout) into the X25519 private key for use as a Noise static key. The
 * caller wipes ret_x_priv when done. Returns 0 or -EINVAL.
 */
int noise_key_from_ed25519_sk(const uint8_t ed_sk[64],
			      uint8_t ret_x_priv[NOISE_KEY_LEN]);

/*
 * Convert an Ed25519 public key into the X25519 public key that
 * noise_hs_remote_static() reports for that peer. Returns 0, or -EINVAL
 * when ed_pk is not a valid point of prime order.
 */
int noise_key_from_ed25519_pk(const uint8_t ed_pk[32],
			      uint8_t ret_x_pub[NOISE_KEY_LEN]);

#endif
