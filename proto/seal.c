#include "seal.h"
#include "why.h"

#include "bytes.h"
#include "error.h"

#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every frame starts with these two bytes, then its flags and a zero. */
#define FRAME_MAGIC "hs"
#define FRAME_MAGIC_LEN 2
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define AD_LEN (32 + SEAL_FRAME_HDR)
/* A damaged file may hold many places that look like a frame; trying
 * each costs a decryption. Past this many bytes tried in vain beyond the
 * file's own size, the reader gives up on the rest. */
#define RESYNC_SLACK (16u << 20)

struct seal_writer {
	FILE *f;
	uint8_t key[32];
	uint8_t file_id[SEAL_FILE_ID];
	uint8_t check[32];
	uint32_t index;
	int done; /* the last frame is written */
	uint64_t bytes;
};

static void frame_nonce(const uint8_t file_id[SEAL_FILE_ID], uint32_t index,
			uint8_t nonce[NONCE_LEN])
{
	struct bytes_writer w;
	bytes_writer_init(&w, nonce, NONCE_LEN);
	(void)bytes_put_bytes(&w, file_id, SEAL_FILE_ID);
	(void)bytes_put_be64(&w, index);
}

/* The frame's 12 header bytes, and the associated data: the header's
 * check, then those 12 bytes. */
static void frame_head(const uint8_t check[32], int flags, uint32_t index,
		       uint32_t len, uint8_t hdr[SEAL_FRAME_HDR],
		       uint8_t ad[AD_LEN])
{
	struct bytes_writer w;
	bytes_writer_init(&w, hdr, SEAL_FRAME_HDR);
	(void)bytes_put_bytes(&w, FRAME_MAGIC, FRAME_MAGIC_LEN);
	(void)bytes_put_u8(&w, (uint8_t)flags);
	(void)bytes_put_u8(&w, 0);
	(void)bytes_put_be32(&w, index);
	(void)bytes_put_be32(&w, len);
	memcpy(ad, check, 32);
	memcpy(ad + 32, hdr, SEAL_FRAME_HDR);
}

static int writer_out(struct seal_writer *s, const void *p, size_t n)
{
	if (fwrite(p, 1, n, s->f) != n)
		return errno ? -errno : -EIO;
	s->bytes += n;
	return 0;
}

static int writer_start(FILE *f, const uint8_t recipient[32],
			const uint8_t key[32], const uint8_t file_id[SEAL_FILE_ID],
			struct seal_writer **ret)
{
	uint8_t xpk[32], hdr[SEAL_HEADER_LEN], *sealed;
	struct bytes_writer w;
	struct seal_writer *s;
	int r;

	if (crypto_sign_ed25519_pk_to_curve25519(xpk, recipient) != 0)
		return HAMLET_EKEY;
	if (!(s = sodium_malloc(sizeof(*s))))
		return -ENOMEM;
	memset(s, 0, sizeof(*s));
	s->f = f;
	memcpy(s->key, key, 32);
	memcpy(s->file_id, file_id, SEAL_FILE_ID);
	bytes_writer_init(&w, hdr, sizeof(hdr));
	(void)bytes_put_bytes(&w, SEAL_MAGIC, SEAL_MAGIC_LEN);
	(void)bytes_put_u8(&w, SEAL_VERSION);
	(void)bytes_put_bytes(&w, recipient, 32);
	(void)bytes_put_bytes(&w, file_id, SEAL_FILE_ID);
	(void)bytes_reserve(&w, SEAL_SEALED_KEY, &sealed);
	if (crypto_box_seal(sealed, key, 32, xpk) != 0) {
		r = HAMLET_EKEY;
		goto fail;
	}
	crypto_generichash_blake2b(s->check, 32, hdr, bytes_written(&w), NULL,
				   0);
	(void)bytes_put_bytes(&w, s->check, 32);
	if ((r = writer_out(s, hdr, bytes_written(&w))) < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	seal_writer_free(s);
	return r;
}

int seal_writer_new(FILE *f, const uint8_t recipient[32],
		    struct seal_writer **ret)
{
	uint8_t key[32], id[SEAL_FILE_ID];
	int r;

	if (sodium_init() < 0)
		return -EIO;
	crypto_aead_xchacha20poly1305_ietf_keygen(key);
	randombytes_buf(id, sizeof(id));
	r = writer_start(f, recipient, key, id, ret);
	sodium_memzero(key, sizeof(key));
	return r;
}

int seal__writer_new_fixed(FILE *f, const uint8_t recipient[32],
			   const uint8_t file_key[32],
			   const uint8_t file_id[SEAL_FILE_ID],
			   struct seal_writer **ret)
{
	if (sodium_init() < 0)
		return -EIO;
	return writer_start(f, recipient, file_key, file_id, ret);
}

int seal_writer_frame(struct seal_writer *s, const uint8_t *p, size_t n,
		      int last)
{
	uint8_t hdr[SEAL_FRAME_HDR], ad[AD_LEN], nonce[NONCE_LEN], *c;
	unsigned long long clen;
	int flags = last ? SEAL_FLAG_LAST : 0, r;

	if (s->done || s->index == UINT32_MAX)
		return -EINVAL;
	if (n > SEAL_MAX_PLAIN)
		return HAMLET_ETOOBIG;
	if (!(c = malloc(n + SEAL_TAG)))
		return -ENOMEM;
	frame_head(s->check, flags, s->index, (uint32_t)(n + SEAL_TAG), hdr, ad);
	frame_nonce(s->file_id, s->index, nonce);
	crypto_aead_xchacha20poly1305_ietf_encrypt(c, &clen, p, n, ad,
						   sizeof(ad), NULL, nonce,
						   s->key);
	if ((r = writer_out(s, hdr, sizeof(hdr))) == 0 &&
	    (r = writer_out(s, c, (size_t)clen)) == 0) {
		s->index++;
		s->done = last;
	}
	free(c);
	return r;
}

uint64_t seal_writer_bytes(const struct seal_writer *s)
{
	return s->bytes;
}

void seal_writer_free(struct seal_writer *s)
{
	if (s)
		sodium_free(s); /* wipes the file key */
}

/* --- reading ---------------------------------------------------------- */

int seal_is_sealed(const uint8_t *buf, size_t len)
{
	return len >= SEAL_MAGIC_LEN &&
	       memcmp(buf, SEAL_MAGIC, SEAL_MAGIC_LEN) == 0;
}

int seal_header_parse(const uint8_t *buf, size_t len,
		      struct seal_header *ret)
{
	struct bytes_reader b;
	struct seal_header h;
	const uint8_t *magic;
	uint8_t version, check[32];
	int r;

	bytes_reader_init(&b, buf, len);
	if ((r = bytes_borrow(&b, SEAL_MAGIC_LEN, &magic)) < 0 ||
	    (r = bytes_get_u8(&b, &version)) < 0 ||
	    (r = bytes_get_bytes(&b, h.recipient, 32)) < 0 ||
	    (r = bytes_get_bytes(&b, h.file_id, SEAL_FILE_ID)) < 0 ||
	    (r = bytes_get_bytes(&b, h.sealed_key, SEAL_SEALED_KEY)) < 0)
		return r;
	if (memcmp(magic, SEAL_MAGIC, SEAL_MAGIC_LEN) != 0)
		return HAMLET_EFORMAT;
	crypto_generichash_blake2b(check, 32, buf, bytes_offset(&b), NULL, 0);
	if ((r = bytes_get_bytes(&b, h.check, 32)) < 0)
		return r;
	if (sodium_memcmp(check, h.check, 32) != 0)
		return HAMLET_EFORMAT;
	/* the check covers the version: a version we do not know is one,
	 * not a damaged byte */
	if (version != SEAL_VERSION)
		return HAMLET_EVERSION;
	*ret = h;
	return 0;
}

/* The file key, opened with the recipient's Ed25519 secret key. */
static int key_open(const struct seal_header *h, const uint8_t sk[64],
		    uint8_t key[32])
{
	uint8_t xpk[32], xsk[32];
	int r = 0;

	if (sodium_memcmp(h->recipient, sk + 32, 32) != 0)
		return HAMLET_EKEY;
	if (crypto_sign_ed25519_pk_to_curve25519(xpk, h->recipient) != 0 ||
	    crypto_sign_ed25519_sk_to_curve25519(xsk, sk) != 0 ||
	    crypto_box_seal_open(key, h->sealed_key, SEAL_SEALED_KEY, xpk,
				 xsk) != 0)
		r = HAMLET_EDECRYPT;
	sodium_memzero(xsk, sizeof(xsk));
	return r;
}

struct opener {
	const uint8_t *buf;
	size_t len;
	const struct seal_header *h;
	const uint8_t *key;
	struct seal_opened *o;
	uint64_t tried;	 /* ciphertext bytes that failed to open */
	uint64_t budget; /* ... allowed */
};

/*
 * The frame at off, opened into o->plain at o->len: 1 and its size in
 * the file, flags and index; 0 when no frame that authenticates starts
 * there.
 */
static int frame_open(struct opener *op, size_t off, size_t *ret_size,
		      int *ret_flags, uint32_t *ret_index)
{
	uint8_t hdr[SEAL_FRAME_HDR], ad[AD_LEN], nonce[NONCE_LEN];
	struct bytes_reader b;
	const uint8_t *magic, *c;
	uint8_t flags, pad;
	uint32_t index, n;
	unsigned long long plen;

	bytes_reader_init(&b, op->buf + off, op->len - off);
	if (bytes_borrow(&b, FRAME_MAGIC_LEN, &magic) < 0 ||
	    bytes_get_u8(&b, &flags) < 0 || bytes_get_u8(&b, &pad) < 0 ||
	    bytes_get_be32(&b, &index) < 0 || bytes_get_be32(&b, &n) < 0)
		return 0;
	if (memcmp(magic, FRAME_MAGIC, FRAME_MAGIC_LEN) != 0 || pad != 0 ||
	    (flags & ~SEAL_FLAG_LAST) != 0 || n < SEAL_TAG ||
	    n > SEAL_MAX_PLAIN + SEAL_TAG || bytes_borrow(&b, n, &c) < 0)
		return 0;
	frame_head(op->h->check, flags, index, n, hdr, ad);
	frame_nonce(op->h->file_id, index, nonce);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    op->o->plain + op->o->len, &plen, NULL, c, n, ad,
		    sizeof(ad), nonce, op->key) != 0) {
		op->tried += n;
		return 0;
	}
	*ret_size = SEAL_FRAME_HDR + n;
	*ret_flags = flags;
	*ret_index = index;
	return 1;
}

/* The next offset after off where a frame authenticates, or len. */
static size_t resync(struct opener *op, size_t off, size_t *ret_size,
		     int *ret_flags, uint32_t *ret_index, int *ret_gave_up)
{
	*ret_gave_up = 0;
	for (size_t o = off + 1; o + SEAL_FRAME_HDR <= op->len; o++) {
		const uint8_t *q = memchr(op->buf + o, FRAME_MAGIC[0],
					  op->len - o);
		if (!q)
			break;
		o = (size_t)(q - op->buf);
		if (frame_open(op, o, ret_size, ret_flags, ret_index))
			return o;
		if (op->tried > op->budget) {
			*ret_gave_up = 1;
			break;
		}
	}
	return op->len;
}

static void report(seal_problem_fn problem, void *ctx, size_t off,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void report(seal_problem_fn problem, void *ctx, size_t off,
		   const char *fmt, ...)
{
	char text[512];
	va_list ap;
	if (!problem)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), why_translate(fmt), ap);
	va_end(ap);
	problem(ctx, off, text);
}

/* Whether index is among the n frame indexes taken (rising). */
static int taken(const uint32_t *took, size_t n, uint32_t index)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (took[mid] == index)
			return 1;
		if (took[mid] < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

int seal_open(const uint8_t *buf, size_t len, const uint8_t sk[64],
	      const void *prefix, size_t prefix_len, seal_problem_fn problem,
	      void *ctx, struct seal_opened *ret)
{
	struct seal_header h;
	struct seal_opened o = { 0 };
	struct opener op;
	uint8_t key[32];
	uint64_t next = 0; /* the index expected */
	uint32_t *took = NULL; /* the indexes of the frames taken, rising */
	size_t off = SEAL_HEADER_LEN;
	int r, lost = 0; /* damage reported since the last good frame */

	if (sodium_init() < 0)
		return -EIO;
	if ((r = seal_header_parse(buf, len, &h)) < 0)
		return r;
	if ((r = key_open(&h, sk, key)) < 0)
		return r;
	/* frames only shrink when opened */
	if (!(o.plain = malloc(prefix_len + len))) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(o.plain, prefix, prefix_len);
	o.len = prefix_len;
	op = (struct opener){ buf, len, &h, key, &o, 0, len + RESYNC_SLACK };
	while (off < len) {
		size_t size;
		int flags, gave_up;
		uint32_t index;
		if (!frame_open(&op, off, &size, &flags, &index)) {
			size_t at = resync(&op, off, &size, &flags, &index,
					   &gave_up);
			o.damaged++;
			lost = 1;
			if (at >= len && !gave_up)
				/* nothing sound after it: what is lost is
				 * this frame and whatever the file held past
				 * its end, which no count here can know */
				report(problem, ctx, off,
				       N_("sealed frame at byte %zu does not open, and no frame follows it: the file is cut short there (or damaged from there to its end); copy it again from its sender"),
				       off);
			else
				report(problem, ctx, off,
				       N_("sealed frame at byte %zu does not open (damaged or altered): %zu bytes lost, %s"),
				       off, at - off,
				       why_translate(
					       gave_up ? N_("and the rest is too damaged to search")
						       : N_("reading resumes at the next frame")));
			if (at >= len)
				break;
			off = at;
		}
		if (o.complete || index < next) {
			o.damaged++;
			report(problem, ctx, off,
			       o.complete ? N_("sealed frame %u at byte %zu comes after the last frame: ignored")
			       : taken(took, o.frames, index)
				       ? N_("sealed frame %u at byte %zu is a repeat: ignored")
				       : N_("sealed frame %u at byte %zu comes out of its place, after a later frame: ignored (its entries are not read; the file's frames were reordered)"),
			       index, off);
			off += size;
			continue;
		}
		if (index > next && !lost) {
			o.damaged += index - next;
			report(problem, ctx, off,
			       N_("sealed frames %llu to %llu are missing before byte %zu"),
			       (unsigned long long)next,
			       (unsigned long long)index - 1, off);
		}
		if (o.nspans % 64 == 0) {
			void *p = realloc(o.spans, (o.nspans + 64) *
							   sizeof(*o.spans));
			void *q = p ? realloc(took, (o.nspans + 64) *
							    sizeof(*took))
				    : NULL;
			if (p)
				o.spans = p;
			if (!q) {
				r = -ENOMEM;
				goto out;
			}
			took = q;
		}
		took[o.frames] = index;
		o.spans[o.nspans++] = (struct seal_span){ o.len,
							  off + SEAL_FRAME_HDR };
		o.len += size - SEAL_FRAME_HDR - SEAL_TAG;
		o.frames++;
		next = (uint64_t)index + 1;
		o.complete = (flags & SEAL_FLAG_LAST) != 0;
		lost = 0;
		off += size;
	}
	if (!o.complete && lost)
		/* what follows the last good frame does not open: a frame
		 * cut short, or a whole one damaged (a full-length file) */
		report(problem, ctx, len,
		       next == 0 ? N_("the sealed file ends without its last frame: none of its frames opens, from the first on (cut short or damaged, see above); copy it again from its sender")
				 : N_("the sealed file ends without its last frame: what follows its first %llu frames is cut short or damaged (see above); copy it again from its sender"),
		       (unsigned long long)next);
	else if (!o.complete)
		report(problem, ctx, len,
		       next == 1 ? N_("the sealed file ends without its last frame: it is cut short after %llu frame; copy it again from its sender")
				 : N_("the sealed file ends without its last frame: it is cut short after %llu frames; copy it again from its sender"),
		       (unsigned long long)next);
	*ret = o;
	o.plain = NULL;
	o.spans = NULL;
	r = 0;
out:
	sodium_memzero(key, sizeof(key));
	free(took);
	free(o.plain);
	free(o.spans);
	return r;
}

void seal_opened_close(struct seal_opened *o)
{
	if (!o)
		return;
	free(o->spans);
	o->spans = NULL;
	o->nspans = 0;
	if (!o->plain)
		return;
	sodium_memzero(o->plain, o->len);
	free(o->plain);
	o->plain = NULL;
}

size_t seal_opened_file_offset(const struct seal_opened *o, size_t plain_off)
{
	size_t lo = 0, hi = o->nspans;

	/* the last span that begins at or before plain_off */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (o->spans[mid].plain <= plain_off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	return o->spans[lo - 1].file + (plain_off - o->spans[lo - 1].plain);
}
