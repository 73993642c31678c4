/*
 * Noise_XX, Noise_XXpsk0 and Noise_XXpsk3 over 25519, ChaChaPoly and BLAKE2b, following
 * the Noise Protocol Framework, revision 34. Section numbers below refer to
 * that document.
 *
 * The handshake runs from a table of tokens per message, so XX and XXpsk3
 * share one code path. Secrets are wiped as soon as no remaining token needs
 * them, and all at once when the handshake fails or is freed.
 */
#include "noise.h"
#include "noise_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bytes.h"
#include "error.h"

#define HASHLEN 64
#define BLOCKLEN 128
#define DHLEN 32

static const char name_xx[] = "Noise_XX_25519_ChaChaPoly_BLAKE2b";
static const char name_xxpsk3[] = "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b";
static const char name_xxpsk0[] = "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b";

/* ------------------------------------------------------------------------
 * Hash, HMAC and HKDF (sections 4.3 and 5.2)
 *
 * Unkeyed BLAKE2b with a 64-byte output cannot fail in libsodium, so these
 * helpers return nothing rather than an error no caller could see.
 */

struct hash_part {
	const uint8_t *p;
	size_t len;
};

static void blake2b(uint8_t out[HASHLEN], const struct hash_part *parts,
		    size_t nparts)
{
	crypto_generichash_blake2b_state st;
	size_t i;

	crypto_generichash_blake2b_init(&st, NULL, 0, HASHLEN);
	for (i = 0; i < nparts; i++)
		crypto_generichash_blake2b_update(&st, parts[i].p,
						  parts[i].len);
	crypto_generichash_blake2b_final(&st, out, HASHLEN);
	sodium_memzero(&st, sizeof(st));
}

/*
 * HMAC per RFC 2104 with BLAKE2b as HASH, as section 4.3 requires. Keys are
 * always HASHLEN bytes here, shorter than a block, so they are only padded.
 */
static void hmac(uint8_t out[HASHLEN], const uint8_t key[HASHLEN],
		 const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
	uint8_t pad[BLOCKLEN];
	uint8_t inner[HASHLEN];
	struct hash_part parts[3];
	size_t i;

	memset(pad, 0x36, sizeof(pad));
	for (i = 0; i < HASHLEN; i++)
		pad[i] ^= key[i];
	parts[0] = (struct hash_part){ pad, sizeof(pad) };
	parts[1] = (struct hash_part){ a, a_len };
	parts[2] = (struct hash_part){ b, b_len };
	blake2b(inner, parts, 3);

	memset(pad, 0x5c, sizeof(pad));
	for (i = 0; i < HASHLEN; i++)
		pad[i] ^= key[i];
	parts[1] = (struct hash_part){ inner, sizeof(inner) };
	blake2b(out, parts, 2);

	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(inner, sizeof(inner));
}

/*
 * HKDF(ck, ikm) with two or three outputs (out3 NULL for two). The outputs
 * may alias ck: they are written only after ck has been read.
 */
static void hkdf(const uint8_t ck[HASHLEN], const uint8_t *ikm, size_t ikm_len,
		 uint8_t out1[HASHLEN], uint8_t out2[HASHLEN], uint8_t *out3)
{
	static const uint8_t one = 1, two = 2, three = 3;
	uint8_t temp_key[HASHLEN];
	uint8_t o1[HASHLEN], o2[HASHLEN], o3[HASHLEN];

	hmac(temp_key, ck, ikm, ikm_len, NULL, 0);
	hmac(o1, temp_key, &one, 1, NULL, 0);
	hmac(o2, temp_key, o1, HASHLEN, &two, 1);
	if (out3) {
		hmac(o3, temp_key, o2, HASHLEN, &three, 1);
		memcpy(out3, o3, HASHLEN);
	}
	memcpy(out1, o1, HASHLEN);
	memcpy(out2, o2, HASHLEN);

	sodium_memzero(temp_key, sizeof(temp_key));
	sodium_memzero(o1, sizeof(o1));
	sodium_memzero(o2, sizeof(o2));
	sodium_memzero(o3, sizeof(o3));
}

/* ------------------------------------------------------------------------
 * SymmetricState (section 5.2)
 */

struct symmetric {
	uint8_t ck[HASHLEN];
	uint8_t h[HASHLEN];
	struct noise_cipher cs;
};

static void sym_init(struct symmetric *ss, const char *protocol_name)
{
	size_t len = strlen(protocol_name);

	/* Both names are shorter than HASHLEN, so h is the padded name. */
	memset(ss->h, 0, HASHLEN);
	memcpy(ss->h, protocol_name, len);
	memcpy(ss->ck, ss->h, HASHLEN);
	memset(&ss->cs, 0, sizeof(ss->cs));
}

static void sym_mix_hash(struct symmetric *ss, const uint8_t *data, size_t len)
{
	struct hash_part parts[2] = { { ss->h, HASHLEN }, { data, len } };

	blake2b(ss->h, parts, 2);
}

static void sym_mix_key(struct symmetric *ss, const uint8_t *ikm,
			size_t ikm_len)
{
	uint8_t temp_k[HASHLEN];

	hkdf(ss->ck, ikm, ikm_len, ss->ck, temp_k, NULL);
	noise__cipher_init_key(&ss->cs, temp_k);
	sodium_memzero(temp_k, sizeof(temp_k));
}

static void sym_mix_key_and_hash(struct symmetric *ss, const uint8_t *ikm,
				 size_t ikm_len)
{
	uint8_t temp_h[HASHLEN], temp_k[HASHLEN];

	hkdf(ss->ck, ikm, ikm_len, ss->ck, temp_h, temp_k);
	sym_mix_hash(ss, temp_h, HASHLEN);
	noise__cipher_init_key(&ss->cs, temp_k);
	sodium_memzero(temp_h, sizeof(temp_h));
	sodium_memzero(temp_k, sizeof(temp_k));
}

/* Bytes EncryptAndHash adds to len bytes of plain text. */
static size_t sym_overhead(const struct symmetric *ss)
{
	return ss->cs.has_key ? NOISE_TAG_LEN : 0;
}

static int sym_encrypt_and_hash(struct symmetric *ss, const uint8_t *plain,
				size_t len, uint8_t *out)
{
	int r;

	if (ss->cs.has_key) {
		r = noise__cipher_encrypt(&ss->cs, ss->h, HASHLEN, plain, len,
					  out);
		if (r < 0)
			return r;
		len += NOISE_TAG_LEN;
	} else if (len) {
		memcpy(out, plain, len);
	}
	sym_mix_hash(ss, out, len);
	return 0;
}

/* cipher is len bytes, tag included when there is a key. */
static int sym_decrypt_and_hash(struct symmetric *ss, const uint8_t *cipher,
				size_t len, uint8_t *out)
{
	int r;

	if (ss->cs.has_key) {
		r = noise__cipher_decrypt(&ss->cs, ss->h, HASHLEN, cipher, len,
					  out);
		if (r < 0)
			return r;
	} else if (len) {
		memcpy(out, cipher, len);
	}
	sym_mix_hash(ss, cipher, len);
	return 0;
}

/* ------------------------------------------------------------------------
 * HandshakeState (section 5.3) and the XX patterns (sections 7.5, 9)
 */

enum token {
	TOK_END = 0,
	TOK_E,
	TOK_S,
	TOK_EE,
	TOK_ES,
	TOK_SE,
	TOK_SS,
	TOK_PSK
};

#define HS_MSGS 3
#define HS_MAX_TOKENS 6

static const uint8_t pattern_xx[HS_MSGS][HS_MAX_TOKENS] = {
	{ TOK_E },
	{ TOK_E, TOK_EE, TOK_S, TOK_ES },
	{ TOK_S, TOK_SE },
};

/* psk3 appends a psk token to the third message (section 9.4). */
static const uint8_t pattern_xxpsk3[HS_MSGS][HS_MAX_TOKENS] = {
	{ TOK_E },
	{ TOK_E, TOK_EE, TOK_S, TOK_ES },
	{ TOK_S, TOK_SE, TOK_PSK },
};

/* psk0 puts a psk token first in the first message (section 9.4): the
 * keys of every message depend on the psk, so one without it can neither
 * read nor forge any of them. */
static const uint8_t pattern_xxpsk0[HS_MSGS][HS_MAX_TOKENS] = {
	{ TOK_PSK, TOK_E },
	{ TOK_E, TOK_EE, TOK_S, TOK_ES },
	{ TOK_S, TOK_SE },
};

enum hs_state { HS_ACTIVE, HS_FINISHED, HS_SPLIT, HS_FAILED };

struct noise_hs {
	struct symmetric ss;
	uint8_t s_priv[DHLEN], s_pub[DHLEN];
	uint8_t e_priv[DHLEN], e_pub[DHLEN];
	uint8_t rs[DHLEN], re[DHLEN];
	uint8_t psk[NOISE_PSK_LEN];
	const uint8_t (*pattern)[HS_MAX_TOKENS];
	int initiator;
	int psk_mode;
	int has_rs;
	int msg; /* index of the next message, 0 to HS_MSGS */
	enum hs_state state;
};

static void hs_wipe_secrets(struct noise_hs *hs)
{
	sodium_memzero(&hs->ss.ck, sizeof(hs->ss.ck));
	sodium_memzero(&hs->ss.cs, sizeof(hs->ss.cs));
	sodium_memzero(hs->s_priv, sizeof(hs->s_priv));
	sodium_memzero(hs->e_priv, sizeof(hs->e_priv));
	sodium_memzero(hs->psk, sizeof(hs->psk));
}

/* A failed handshake cannot be resumed: keep nothing that could be used. */
static void hs_fail(struct noise_hs *hs)
{
	hs_wipe_secrets(hs);
	sodium_memzero(hs->ss.h, sizeof(hs->ss.h));
	hs->state = HS_FAILED;
}

/*
 * After each message, wipe the private keys and psk that no token still
 * to come needs; after the last one, the handshake's cipher key too (split
 * needs only ck).
 */
static void hs_wipe_unneeded(struct noise_hs *hs)
{
	int need_e = 0, need_s = 0, need_psk = 0;
	int m, t;

	for (m = hs->msg; m < HS_MSGS; m++) {
		for (t = 0; t < HS_MAX_TOKENS; t++) {
			switch (hs->pattern[m][t]) {
			case TOK_EE:
				need_e = 1;
				break;
			case TOK_ES:
				need_e |= hs->initiator;
				need_s |= !hs->initiator;
				break;
			case TOK_SE:
				need_s |= hs->initiator;
				need_e |= !hs->initiator;
				break;
			case TOK_SS:
				need_s = 1;
				break;
			case TOK_PSK:
				need_psk = 1;
				break;
			default:
				break;
			}
		}
	}
	if (!need_e)
		sodium_memzero(hs->e_priv, sizeof(hs->e_priv));
	if (!need_s)
		sodium_memzero(hs->s_priv, sizeof(hs->s_priv));
	if (!need_psk)
		sodium_memzero(hs->psk, sizeof(hs->psk));
	if (hs->msg == HS_MSGS)
		sodium_memzero(&hs->ss.cs, sizeof(hs->ss.cs));
}

/* Whether the current message is ours to write (writing) or to read. */
static int hs_check_turn(const struct noise_hs *hs, int writing)
{
	int initiator_sends;

	if (hs->state == HS_FAILED)
		return HAMLET_EHANDSHAKE;
	if (hs->state != HS_ACTIVE)
		return HAMLET_EPROTO;
	initiator_sends = (hs->msg % 2) == 0;
	if ((initiator_sends == !!hs->initiator) != !!writing)
		return HAMLET_EPROTO;
	return 0;
}

/*
 * Bytes the current message carries besides its payload, found by walking
 * its tokens as the write and read paths will.
 */
static size_t hs_overhead(const struct noise_hs *hs)
{
	const uint8_t *tok = hs->pattern[hs->msg];
	int has_key = hs->ss.cs.has_key;
	size_t len = 0;
	int t;

	for (t = 0; t < HS_MAX_TOKENS && tok[t] != TOK_END; t++) {
		switch (tok[t]) {
		case TOK_E:
			len += DHLEN;
			if (hs->psk_mode)
				has_key = 1;
			break;
		case TOK_S:
			len += DHLEN + (has_key ? NOISE_TAG_LEN : 0);
			break;
		default:
			has_key = 1;
			break;
		}
	}
	return len + (has_key ? NOISE_TAG_LEN : 0);
}

/* The e token's hashing, shared by both directions (sections 5.3, 9.2). */
static void hs_mix_e(struct noise_hs *hs, const uint8_t pub[DHLEN])
{
	sym_mix_hash(&hs->ss, pub, DHLEN);
	if (hs->psk_mode)
		sym_mix_key(&hs->ss, pub, DHLEN);
}

/*
 * ee, es, se, ss: MixKey(DH(ours, theirs)). libsodium refuses a
 * low-order peer key (the output would be all zeros), which ends the
 * handshake as section 12.1 allows.
 */
static int hs_mix_dh(struct noise_hs *hs, uint8_t tok)
{
	const uint8_t *priv, *pub;
	uint8_t dh[DHLEN];
	int r;

	switch (tok) {
	case TOK_EE:
		priv = hs->e_priv;
		pub = hs->re;
		break;
	case TOK_ES:
		priv = hs->initiator ? hs->e_priv : hs->s_priv;
		pub = hs->initiator ? hs->rs : hs->re;
		break;
	case TOK_SE:
		priv = hs->initiator ? hs->s_priv : hs->e_priv;
		pub = hs->initiator ? hs->re : hs->rs;
		break;
	default:
		priv = hs->s_priv;
		pub = hs->rs;
		break;
	}
	if (crypto_scalarmult(dh, priv, pub) != 0) {
		r = HAMLET_EHANDSHAKE;
		goto out;
	}
	sym_mix_key(&hs->ss, dh, DHLEN);
	r = 0;
out:
	sodium_memzero(dh, sizeof(dh));
	return r;
}

int noise_hs_new(int initiator, const uint8_t *prologue, size_t prologue_len,
		 const uint8_t s_priv[NOISE_KEY_LEN], const uint8_t *psk,
		 const uint8_t *e_priv, struct noise_hs **ret_hs)
{
	return noise_hs_new_psk(initiator, prologue, prologue_len, s_priv, psk,
				3, e_priv, ret_hs);
}

int noise_hs_new_psk(int initiator, const uint8_t *prologue,
		     size_t prologue_len, const uint8_t s_priv[NOISE_KEY_LEN],
		     const uint8_t *psk, int psk_pos, const uint8_t *e_priv,
		     struct noise_hs **ret_hs)
{
	struct noise_hs *hs = NULL;
	int r;

	if (!s_priv || (!prologue && prologue_len) || !ret_hs ||
	    (psk && psk_pos != 0 && psk_pos != 3))
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;

	hs = calloc(1, sizeof(*hs));
	if (!hs)
		return -ENOMEM;
	hs->initiator = !!initiator;
	hs->psk_mode = psk != NULL;
	hs->pattern = !psk ? pattern_xx
		      : psk_pos == 0 ? pattern_xxpsk0
				     : pattern_xxpsk3;
	hs->state = HS_ACTIVE;

	memcpy(hs->s_priv, s_priv, DHLEN);
	if (e_priv)
		memcpy(hs->e_priv, e_priv, DHLEN);
	else
		randombytes_buf(hs->e_priv, DHLEN);
	if (psk)
		memcpy(hs->psk, psk, NOISE_PSK_LEN);
	if (crypto_scalarmult_base(hs->s_pub, hs->s_priv) != 0 ||
	    crypto_scalarmult_base(hs->e_pub, hs->e_priv) != 0) {
		r = -EINVAL;
		goto out;
	}

	sym_init(&hs->ss, !psk ? name_xx
			  : psk_pos == 0 ? name_xxpsk0
					 : name_xxpsk3);
	sym_mix_hash(&hs->ss, prologue, prologue_len);

	*ret_hs = hs;
	hs = NULL;
	r = 0;
out:
	noise_hs_free(hs);
	return r;
}

void noise_hs_free(struct noise_hs *hs)
{
	if (!hs)
		return;
	sodium_memzero(hs, sizeof(*hs));
	free(hs);
}

int noise_hs_write_message(struct noise_hs *hs, const uint8_t *payload,
			   size_t payload_len, uint8_t *out, size_t out_cap,
			   size_t *ret_len)
{
	struct bytes_writer w;
	const uint8_t *tok;
	uint8_t *field;
	size_t need;
	int r, t;

	if (!hs || (!payload && payload_len) || (!out && out_cap) || !ret_len)
		return -EINVAL;
	r = hs_check_turn(hs, 1);
	if (r < 0)
		return r;
	if (payload_len > NOISE_MAX_MSG)
		return HAMLET_ETOOBIG;
	need = hs_overhead(hs) + payload_len;
	if (need > NOISE_MAX_MSG)
		return HAMLET_ETOOBIG;
	if (need > out_cap)
		return -ENOBUFS;

	/* Sized above, so no put below runs out of room. */
	bytes_writer_init(&w, out, out_cap);
	tok = hs->pattern[hs->msg];
	for (t = 0; t < HS_MAX_TOKENS && tok[t] != TOK_END; t++) {
		switch (tok[t]) {
		case TOK_E:
			if ((r = bytes_put_bytes(&w, hs->e_pub, DHLEN)) < 0)
				goto out;
			hs_mix_e(hs, hs->e_pub);
			break;
		case TOK_S:
			need = DHLEN + sym_overhead(&hs->ss);
			if ((r = bytes_reserve(&w, need, &field)) < 0)
				goto out;
			r = sym_encrypt_and_hash(&hs->ss, hs->s_pub, DHLEN,
						 field);
			if (r < 0)
				goto out;
			break;
		case TOK_PSK:
			sym_mix_key_and_hash(&hs->ss, hs->psk, NOISE_PSK_LEN);
			break;
		default:
			r = hs_mix_dh(hs, tok[t]);
			if (r < 0)
				goto out;
			break;
		}
	}
	need = payload_len + sym_overhead(&hs->ss);
	if ((r = bytes_reserve(&w, need, &field)) < 0)
		goto out;
	r = sym_encrypt_and_hash(&hs->ss, payload, payload_len, field);
	if (r < 0)
		goto out;

	hs->msg++;
	if (hs->msg == HS_MSGS)
		hs->state = HS_FINISHED;
	hs_wipe_unneeded(hs);
	*ret_len = bytes_written(&w);
	r = 0;
out:
	if (r < 0)
		hs_fail(hs);
	return r;
}

int noise_hs_read_message(struct noise_hs *hs, const uint8_t *msg,
			  size_t msg_len, uint8_t *payload_out,
			  size_t payload_cap, size_t *ret_len)
{
	struct bytes_reader b;
	const uint8_t *tok, *field;
	size_t overhead, len, plen;
	int r, t;

	if (!hs || (!msg && msg_len) || (!payload_out && payload_cap) ||
	    !ret_len)
		return -EINVAL;
	r = hs_check_turn(hs, 0);
	if (r < 0)
		return r;
	if (msg_len > NOISE_MAX_MSG) {
		r = HAMLET_ETOOBIG;
		goto out;
	}
	overhead = hs_overhead(hs);
	if (msg_len < overhead) {
		r = HAMLET_EFORMAT;
		goto out;
	}
	if (msg_len - overhead > payload_cap)
		return -ENOBUFS;

	/* msg holds at least the overhead, so no get below runs short. */
	bytes_reader_init(&b, msg, msg_len);
	tok = hs->pattern[hs->msg];
	for (t = 0; t < HS_MAX_TOKENS && tok[t] != TOK_END; t++) {
		switch (tok[t]) {
		case TOK_E:
			if ((r = bytes_get_bytes(&b, hs->re, DHLEN)) < 0)
				goto out;
			hs_mix_e(hs, hs->re);
			break;
		case TOK_S:
			len = DHLEN + sym_overhead(&hs->ss);
			if ((r = bytes_borrow(&b, len, &field)) < 0)
				goto out;
			r = sym_decrypt_and_hash(&hs->ss, field, len, hs->rs);
			if (r < 0)
				goto out;
			hs->has_rs = 1;
			break;
		case TOK_PSK:
			sym_mix_key_and_hash(&hs->ss, hs->psk, NOISE_PSK_LEN);
			break;
		default:
			r = hs_mix_dh(hs, tok[t]);
			if (r < 0)
				goto out;
			break;
		}
	}
	/* The payload, with its tag, is the rest of the message. */
	len = bytes_remaining(&b);
	plen = len - sym_overhead(&hs->ss);
	if ((r = bytes_borrow(&b, len, &field)) < 0)
		goto out;
	r = sym_decrypt_and_hash(&hs->ss, field, len, payload_out);
	if (r < 0)
		goto out;

	hs->msg++;
	if (hs->msg == HS_MSGS)
		hs->state = HS_FINISHED;
	hs_wipe_unneeded(hs);
	*ret_len = plen;
	r = 0;
out:
	if (r < 0)
		hs_fail(hs);
	return r;
}

int noise_hs_is_finished(const struct noise_hs *hs)
{
	return hs && (hs->state == HS_FINISHED || hs->state == HS_SPLIT);
}

int noise_hs_split(struct noise_hs *hs, struct noise_cipher *ret_send,
		   struct noise_cipher *ret_recv)
{
	uint8_t k1[HASHLEN], k2[HASHLEN];

	if (!hs || !ret_send || !ret_recv)
		return -EINVAL;
	if (hs->state == HS_FAILED)
		return HAMLET_EHANDSHAKE;
	if (hs->state != HS_FINISHED)
		return HAMLET_EPROTO;

	hkdf(hs->ss.ck, NULL, 0, k1, k2, NULL);
	/* The first CipherState is the initiator's sending one. */
	noise__cipher_init_key(ret_send, hs->initiator ? k1 : k2);
	noise__cipher_init_key(ret_recv, hs->initiator ? k2 : k1);
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));

	hs_wipe_secrets(hs);
	hs->state = HS_SPLIT;
	return 0;
}

int noise_hs_remote_static(const struct noise_hs *hs,
			   uint8_t ret_pub[NOISE_KEY_LEN])
{
	if (!hs || !ret_pub)
		return -EINVAL;
	if (hs->state == HS_FAILED)
		return HAMLET_EHANDSHAKE;
	if (!hs->has_rs)
		return -EAGAIN;
	memcpy(ret_pub, hs->rs, DHLEN);
	return 0;
}

int noise_hs_handshake_hash(const struct noise_hs *hs,
			    uint8_t ret_hash[NOISE_HASH_LEN])
{
	if (!hs || !ret_hash)
		return -EINVAL;
	if (hs->state == HS_FAILED)
		return HAMLET_EHANDSHAKE;
	if (hs->state != HS_FINISHED && hs->state != HS_SPLIT)
		return HAMLET_EPROTO;
	memcpy(ret_hash, hs->ss.h, HASHLEN);
	return 0;
}

/* ------------------------------------------------------------------------
 * Ed25519 identities as Noise static keys
 */

int noise_key_from_ed25519_sk(const uint8_t ed_sk[64],
			      uint8_t ret_x_priv[NOISE_KEY_LEN])
{
	uint8_t x[NOISE_KEY_LEN];
	int r;

	if (!ed_sk || !ret_x_priv)
		return -EINVAL;
	if (crypto_sign_ed25519_sk_to_curve25519(x, ed_sk) != 0) {
		r = -EINVAL;
		goto out;
	}
	memcpy(ret_x_priv, x, sizeof(x));
	r = 0;
out:
	sodium_memzero(x, sizeof(x));
	return r;
}

int noise_key_from_ed25519_pk(const uint8_t ed_pk[32],
			      uint8_t ret_x_pub[NOISE_KEY_LEN])
{
	uint8_t x[NOISE_KEY_LEN];

	if (!ed_pk || !ret_x_pub)
		return -EINVAL;
	if (crypto_sign_ed25519_pk_to_curve25519(x, ed_pk) != 0)
		return -EINVAL;
	memcpy(ret_x_pub, x, sizeof(x));
	return 0;
}
