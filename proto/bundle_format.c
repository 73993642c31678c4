#include "bundle_format.h"
#include "outfile.h"
#include "why.h"
#include "trust.h"

#include "bytes.h"
#include "error.h"
#include "mp.h"
#include "seal.h"
#include "sig.h"
#include "zst.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Every frame starts with these two bytes, then its type and a zero. */
#define FRAME_MAGIC "hm"
#define FRAME_MAGIC_LEN 2

struct bundle_writer {
	FILE *f;
	char *path;
	char *part;
	crypto_generichash_blake2b_state h;
	uint64_t count;
	uint64_t bytes;
	int failed;
	struct seal_writer *seal; /* NULL: a plain bundle */
};

/* Plain bytes: hashed for the trailer, and written unless the file is
 * sealed (then writer_frame() seals them). */
static int writer_out(struct bundle_writer *w, const void *p, size_t n)
{
	if (w->failed)
		return -EIO;
	crypto_generichash_blake2b_update(&w->h, p, n);
	if (w->seal)
		return 0;
	if (fwrite(p, 1, n, w->f) != n) {
		w->failed = 1;
		return -errno ? -errno : -EIO;
	}
	w->bytes += n;
	return 0;
}

/* A sealed bundle: each plain frame becomes one sealed frame, the
 * trailer the last. */
static int writer_seal(struct bundle_writer *w, int type, const uint8_t *hdr,
		       const uint8_t *p, size_t n)
{
	uint8_t *buf = malloc(BUNDLE_FRAME_HDR + n);
	int r;

	if (!buf)
		return -ENOMEM;
	memcpy(buf, hdr, BUNDLE_FRAME_HDR);
	memcpy(buf + BUNDLE_FRAME_HDR, p, n);
	r = seal_writer_frame(w->seal, buf, BUNDLE_FRAME_HDR + n,
			      type == BUNDLE_FRAME_TRAILER);
	sodium_memzero(buf, BUNDLE_FRAME_HDR + n);
	free(buf);
	if (r < 0)
		w->failed = 1;
	return r;
}

static int writer_frame(struct bundle_writer *w, int type, const uint8_t *p,
			size_t n)
{
	uint8_t hdr[BUNDLE_FRAME_HDR];
	struct bytes_writer hw;
	int r;
	if (n > (type == BUNDLE_FRAME_RUN ? BUNDLE_MAX_RUN_FRAME
					   : BUNDLE_MAX_FRAME))
		return HAMLET_ETOOBIG;
	bytes_writer_init(&hw, hdr, sizeof(hdr));
	if ((r = bytes_put_bytes(&hw, FRAME_MAGIC, FRAME_MAGIC_LEN)) < 0 ||
	    (r = bytes_put_u8(&hw, (uint8_t)type)) < 0 ||
	    (r = bytes_put_u8(&hw, 0)) < 0 ||
	    (r = bytes_put_be32(&hw, (uint32_t)n)) < 0)
		return r;
	if ((r = writer_out(w, hdr, bytes_written(&hw))) < 0 ||
	    (r = writer_out(w, p, n)) < 0)
		return r;
	return w->seal ? writer_seal(w, type, hdr, p, n) : 0;
}

int bundle_file_replaceable(const char *path)
{
	unsigned char head[OUTFILE_HEAD];
	size_t hn;
	int r = outfile_at(path, head, &hn);

	if (r < 0)
		return r;
	if (r == 1 && !outfile_is(head, hn, BUNDLE_MAGIC, BUNDLE_MAGIC_LEN) &&
	    !outfile_is(head, hn, SEAL_MAGIC, SEAL_MAGIC_LEN))
		return -EEXIST;
	return 0;
}

/* path made new for writing, mode 0600; NULL with errno set. */
static FILE *fopen_private(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *f;

	if (fd < 0)
		return NULL;
	if (!(f = fdopen(fd, "wb"))) {
		int e = errno;
		close(fd);
		unlink(path);
		errno = e;
	}
	return f;
}

int bundle_writer_open(const char *path, const struct bundle_header *hd,
		       struct bundle_writer **ret)
{
	return bundle_writer_open_sealed(path, hd, NULL, ret);
}

int bundle_writer_open_sealed(const char *path, const struct bundle_header *hd,
			      const uint8_t *seal_to,
			      struct bundle_writer **ret)
{
	struct bundle_writer *w = calloc(1, sizeof(*w));
	struct mp_writer mw;
	uint8_t *buf = NULL;
	size_t len;
	int r;

	if (!w)
		return -ENOMEM;
	/* the finished file replaces path by rename: never a device's or
	 * a directory's name, nor a file that is no bundle */
	if ((r = bundle_file_replaceable(path)) < 0) {
		free(w);
		return r;
	}
	w->path = strdup(path);
	w->part = malloc(strlen(path) + 6);
	if (!w->path || !w->part) {
		r = -ENOMEM;
		goto fail;
	}
	sprintf(w->part, "%s.part", path);
	crypto_generichash_blake2b_init(&w->h, NULL, 0, 32);
	/* readable by its owner only, whatever the umask: an unsealed
	 * bundle carries health data in the clear */
	w->f = fopen_private(w->part);
	if (!w->f && errno == EEXIST) {
		unlink(w->part);
		w->f = fopen_private(w->part);
	}
	if (!w->f) {
		r = -errno;
		goto fail;
	}
	if (seal_to && (r = seal_writer_new(w->f, seal_to, &w->seal)) < 0)
		goto fail;
	if ((r = writer_out(w, BUNDLE_MAGIC, BUNDLE_MAGIC_LEN)) < 0)
		goto fail;
	mp_writer_init(&mw);
	msgpack_pack_array(&mw.pk, 7);
	msgpack_pack_uint64(&mw.pk, BUNDLE_VERSION);
	mp_pack_bin(&mw.pk, hd->network_id, 32);
	mp_pack_bin(&mw.pk, hd->creator, 32);
	msgpack_pack_uint64(&mw.pk, hd->created_hlc);
	mp_pack_str(&mw.pk, hd->scope);
	if (hd->has_for) {
		mp_pack_bin(&mw.pk, hd->for_node, 32);
		mp_pack_bin(&mw.pk, hd->for_summary, 32);
	} else {
		msgpack_pack_nil(&mw.pk);
		msgpack_pack_nil(&mw.pk);
	}
	buf = mp_writer_take(&mw, &len);
	mp_writer_destroy(&mw);
	if (!buf) {
		r = -ENOMEM;
		goto fail;
	}
	r = writer_frame(w, BUNDLE_FRAME_HEADER, buf, len);
	free(buf);
	if (r < 0)
		goto fail;
	*ret = w;
	return 0;
fail:
	bundle_writer_free(w);
	return r;
}

int bundle_writer_add_trust(struct bundle_writer *w, int kind,
			    const uint8_t *data, size_t len)
{
	struct mp_writer mw;
	int r;

	if (kind < TRUST_CERT || kind > TRUST_KIND_MAX)
		return -EINVAL;
	if (len > TRUST_ITEM_MAX)
		return HAMLET_ETOOBIG;
	mp_writer_init(&mw);
	msgpack_pack_array(&mw.pk, 2);
	msgpack_pack_uint64(&mw.pk, (uint64_t)kind);
	mp_pack_bin(&mw.pk, data, len);
	r = writer_frame(w, BUNDLE_FRAME_TRUST, (const uint8_t *)mw.sb.data,
			 mw.sb.size);
	mp_writer_destroy(&mw);
	return r;
}

int bundle_trust_parse(const uint8_t *p, size_t len, int *ret_kind,
		       const uint8_t **ret_data, size_t *ret_len, char *why,
		       size_t whylen)
{
	struct mp_doc d;
	const msgpack_object *f;
	uint64_t kind;
	int r, parsed = 0;

	CHECK(mp_doc_parse(&d, p, len, 4),
	      N_("trust frame is not one msgpack value"));
	parsed = 1;
	CHECK(mp_get_array(d.root, 2, 0, &f, NULL),
	      N_("trust frame is not [kind, bin]"));
	CHECK(mp_get_uint(&f[0], UINT64_MAX, &kind),
	      N_("trust frame's kind is not a uint"));
	if (kind < TRUST_CERT || kind > TRUST_KIND_MAX)
		FAULT(HAMLET_EFORMAT,
		      N_("trust frame's kind %llu is not 1 (certificate), 2 (revocation), 3 (fork proof) or 4 (scope move)"),
		      (unsigned long long)kind);
	CHECK(mp_get_bin(&f[1], TRUST_ITEM_MAX, ret_data, ret_len),
	      N_("trust frame's item is not a bin of at most %d bytes"),
	      TRUST_ITEM_MAX);
	*ret_kind = (int)kind;
	r = 0;
out:
	if (parsed)
		mp_doc_close(&d);
	return r;
}

int bundle_writer_add(struct bundle_writer *w, const uint8_t *env,
		      size_t env_len, const uint8_t sig[64],
		      const uint8_t *body, size_t body_len)
{
	struct mp_writer mw;
	msgpack_packer *pk = &mw.pk;
	int r;

	if (env_len > ENTRY_MAX_ENVELOPE || body_len > ENTRY_MAX_BODY)
		return HAMLET_ETOOBIG;
	mp_writer_init(&mw);
	msgpack_pack_array(pk, 3);
	mp_pack_bin(pk, env, env_len);
	mp_pack_bin(pk, sig, 64);
	if (body)
		mp_pack_bin(pk, body, body_len);
	else
		msgpack_pack_nil(pk);
	r = writer_frame(w, BUNDLE_FRAME_ENTRY, (const uint8_t *)mw.sb.data,
			 mw.sb.size);
	mp_writer_destroy(&mw);
	if (r == 0)
		w->count++;
	return r;
}

int bundle_writer_add_run(struct bundle_writer *w, const struct run_entry *v,
			  size_t n, struct run_stats *st)
{
	struct run_head h;
	struct mp_writer mw;
	uint8_t *run = NULL, *z = NULL;
	size_t rl, zl;
	int r, zip;

	if (n == 0)
		return 0;
	if (n > BUNDLE_MAX_RUN_ENTRIES)
		return HAMLET_ETOOBIG;
	if ((r = run_head_of(&v[0], &h)) < 0 ||
	    (r = run_encode(&h, v, n, &run, &rl, st)) < 0)
		return r;
	if ((r = zst_compress(run, rl, &z, &zl)) < 0)
		goto out;
	zip = zl < rl;
	if (rl > BUNDLE_MAX_RUN) {
		r = HAMLET_ETOOBIG;
		goto out;
	}
	mp_writer_init(&mw);
	msgpack_pack_array(&mw.pk, 2);
	msgpack_pack_uint8(&mw.pk, zip ? 1 : 0);
	mp_pack_bin(&mw.pk, zip ? z : run, zip ? zl : rl);
	r = writer_frame(w, BUNDLE_FRAME_RUN, (const uint8_t *)mw.sb.data,
			 mw.sb.size);
	mp_writer_destroy(&mw);
	if (r == 0)
		w->count += n;
out:
	free(run);
	free(z);
	return r;
}

uint64_t bundle_writer_count(const struct bundle_writer *w)
{
	return w->count;
}

uint64_t bundle_writer_bytes(const struct bundle_writer *w)
{
	return w->seal ? seal_writer_bytes(w->seal) : w->bytes;
}

int bundle_writer_finish(struct bundle_writer *w, const uint8_t sk[64])
{
	uint8_t hash[32], sig[64];
	struct mp_writer mw;
	int r;

	crypto_generichash_blake2b_final(&w->h, hash, sizeof(hash));
	if ((r = sig_sign(BUNDLE_SIG_PREFIX, BUNDLE_SIG_PREFIX_LEN, hash, 32,
			  sk, sig)) < 0)
		goto out;
	mp_writer_init(&mw);
	msgpack_pack_array(&mw.pk, 3);
	msgpack_pack_uint64(&mw.pk, w->count);
	mp_pack_bin(&mw.pk, hash, 32);
	mp_pack_bin(&mw.pk, sig, 64);
	r = writer_frame(w, BUNDLE_FRAME_TRAILER, (const uint8_t *)mw.sb.data,
			 mw.sb.size);
	mp_writer_destroy(&mw);
	if (r < 0)
		goto out;
	if (fflush(w->f) != 0 || fsync(fileno(w->f)) != 0) {
		r = -errno;
		goto out;
	}
	if (fclose(w->f) != 0) {
		w->f = NULL;
		r = -errno;
		goto out;
	}
	w->f = NULL;
	if (rename(w->part, w->path) != 0) {
		r = -errno;
		goto out;
	}
	r = 0;
out:
	bundle_writer_free(w);
	return r;
}

void bundle_writer_free(struct bundle_writer *w)
{
	if (!w)
		return;
	seal_writer_free(w->seal);
	if (w->f) {
		fclose(w->f);
		unlink(w->part);
	}
	free(w->path);
	free(w->part);
	free(w);
}

/* --- reading ---------------------------------------------------------- */

int bundle_reader_init(struct bundle_reader *r, const uint8_t *buf,
		       size_t len)
{
	struct bytes_reader b;
	const uint8_t *magic;
	int rc;

	bytes_reader_init(&b, buf, len);
	if ((rc = bytes_borrow(&b, BUNDLE_MAGIC_LEN, &magic)) < 0)
		return rc;
	if (memcmp(magic, BUNDLE_MAGIC, BUNDLE_MAGIC_LEN) != 0)
		return HAMLET_EFORMAT;
	r->buf = buf;
	r->len = len;
	r->off = bytes_offset(&b);
	r->resync = 0;
	return 0;
}

/* The head of the frame that starts off bytes into the file: its type
 * and the length it declares (within its type's limit); *ret_rest the
 * bytes after the head. */
static int frame_head(const struct bundle_reader *r, size_t off,
		      uint8_t *ret_type, uint32_t *ret_len, size_t *ret_rest)
{
	struct bytes_reader b;
	const uint8_t *magic;
	uint8_t type, pad;
	uint32_t n;
	int rc;

	bytes_reader_init(&b, r->buf + off, r->len - off);
	if ((rc = bytes_borrow(&b, FRAME_MAGIC_LEN, &magic)) < 0 ||
	    (rc = bytes_get_u8(&b, &type)) < 0 ||
	    (rc = bytes_get_u8(&b, &pad)) < 0 ||
	    (rc = bytes_get_be32(&b, &n)) < 0)
		return rc;
	if (memcmp(magic, FRAME_MAGIC, FRAME_MAGIC_LEN) != 0 || pad != 0)
		return HAMLET_EFORMAT;
	if (type != BUNDLE_FRAME_HEADER && type != BUNDLE_FRAME_ENTRY &&
	    type != BUNDLE_FRAME_TRAILER && type != BUNDLE_FRAME_TRUST &&
	    type != BUNDLE_FRAME_RUN)
		return HAMLET_EFORMAT;
	if (n > (type == BUNDLE_FRAME_RUN ? BUNDLE_MAX_RUN_FRAME
					  : BUNDLE_MAX_FRAME))
		return HAMLET_ETOOBIG;
	*ret_type = type;
	*ret_len = n;
	*ret_rest = bytes_remaining(&b);
	return 0;
}

/* The frame that starts off bytes into the file; truncated is EFORMAT. */
static int frame_at(const struct bundle_reader *r, size_t off,
		    struct bundle_frame *ret)
{
	uint8_t type;
	uint32_t n;
	size_t rest;
	int rc;

	if ((rc = frame_head(r, off, &type, &n, &rest)) < 0)
		return rc;
	_Static_assert(FRAME_MAGIC_LEN + 2 + 4 == BUNDLE_FRAME_HDR,
		       "a frame's head: magic, type, pad, length");
	if (rest < n)
		return HAMLET_EFORMAT;
	ret->type = type;
	ret->offset = off;
	ret->payload = r->buf + off + BUNDLE_FRAME_HDR;
	ret->len = n;
	return 0;
}

/* The offset of the first "hm" after from that starts a well-formed
 * frame, or r->len when none does. */
static size_t next_frame(const struct bundle_reader *r, size_t from)
{
	struct bundle_frame f;
	for (size_t o = from; o + 1 < r->len; o++) {
		const uint8_t *q = memchr(r->buf + o, FRAME_MAGIC[0], r->len - o);
		if (!q)
			break;
		o = (size_t)(q - r->buf);
		if (frame_at(r, o, &f) == 0)
			return o;
	}
	return r->len;
}

int bundle_reader_oversize_at(const struct bundle_reader *r, size_t off,
			      int *ret_type, uint32_t *ret_declared,
			      size_t *ret_limit)
{
	struct bytes_reader b;
	const uint8_t *magic;
	uint8_t type, pad;
	uint32_t n;
	size_t limit;

	if (off >= r->len)
		return 0;
	bytes_reader_init(&b, r->buf + off, r->len - off);
	if (bytes_borrow(&b, FRAME_MAGIC_LEN, &magic) < 0 ||
	    bytes_get_u8(&b, &type) < 0 || bytes_get_u8(&b, &pad) < 0 ||
	    bytes_get_be32(&b, &n) < 0)
		return 0;
	/* the head frame_head() reads, refused for its length alone */
	limit = type == BUNDLE_FRAME_RUN ? BUNDLE_MAX_RUN_FRAME
					 : BUNDLE_MAX_FRAME;
	if (memcmp(magic, FRAME_MAGIC, FRAME_MAGIC_LEN) != 0 || pad != 0 ||
	    !strchr("HETRC", type) || type == 0 || n <= limit)
		return 0;
	*ret_type = type;
	*ret_declared = n;
	*ret_limit = limit;
	return 1;
}

int bundle_reader_cut_at(const struct bundle_reader *r, size_t off,
			 uint32_t *ret_declared)
{
	uint8_t type;
	size_t rest;

	if (off >= r->len ||
	    frame_head(r, off, &type, ret_declared, &rest) < 0 ||
	    rest >= *ret_declared)
		return 0;
	/* a length damaged in the middle of the file runs past its end
	 * too: only when no frame follows is the file cut there */
	return next_frame(r, off + 1) == r->len;
}

int bundle_reader_next(struct bundle_reader *r, struct bundle_frame *ret,
		       size_t *ret_bad_off)
{
	struct bundle_frame f;
	int rc;

	if (r->resync) {
		/* skip to the next "hm" that starts a well-formed frame */
		r->resync = 0;
		r->off = next_frame(r, r->off + 1);
	}
	if (r->off >= r->len)
		return 0;
	if ((rc = frame_at(r, r->off, &f)) < 0) {
		*ret_bad_off = r->off;
		r->resync = 1;
		return rc;
	}
	r->off += BUNDLE_FRAME_HDR + f.len;
	*ret = f;
	return 1;
}

void bundle_reader_resync_from(struct bundle_reader *r, size_t offset)
{
	r->off = offset;
	r->resync = 1;
}

int bundle_header_parse(const uint8_t *p, size_t len,
			struct bundle_header *ret, char *why, size_t whylen)
{
	struct mp_doc d;
	const msgpack_object *f;
	struct bundle_header h;
	uint64_t v;
	int r, parsed = 0;

	CHECK(mp_doc_parse(&d, p, len, 16),
	      N_("the header is not one msgpack value"));
	parsed = 1;
	memset(&h, 0, sizeof(h));
	/* the version first, whatever follows it: a later version may
	 * have other fields */
	if (d.root->type != MSGPACK_OBJECT_ARRAY || d.root->via.array.size < 1)
		FAULT(HAMLET_EFORMAT, N_("the header is not an array"));
	CHECK(mp_get_uint(&d.root->via.array.ptr[0], UINT64_MAX, &v),
	      N_("the header's version is not a uint"));
	if (v != BUNDLE_VERSION)
		FAULT(HAMLET_EVERSION,
		      N_("the bundle is of format version %llu; this hamlet reads version %d: read it with a hamlet of that version"),
		      (unsigned long long)v, BUNDLE_VERSION);
	CHECK(mp_get_array(d.root, 7, 0, &f, NULL),
	      N_("the header is not an array of 7 fields"));
	CHECK(mp_get_bin_fixed(&f[1], 32, h.network_id),
	      N_("the header's network_id is not a 32-byte bin"));
	CHECK(mp_get_bin_fixed(&f[2], 32, h.creator),
	      N_("the header's creator is not a 32-byte bin"));
	CHECK(mp_get_uint(&f[3], UINT64_MAX, &h.created_hlc),
	      N_("the header's created_hlc is not a uint"));
	CHECK(mp_get_cstr(&f[4], h.scope, sizeof(h.scope)),
	      N_("the header's scope_prefix is not a string of at most %d bytes"),
	      ENTRY_MAX_SCOPE);
	if (h.scope[0] && (r = entry_scope_check(h.scope)) < 0)
		FAULT(r, N_("the header's scope_prefix is not a valid scope"));
	if (mp_is_nil(&f[5]) && mp_is_nil(&f[6])) {
		h.has_for = 0;
	} else {
		CHECK(mp_get_bin_fixed(&f[5], 32, h.for_node),
		      N_("the header's for_node is not nil or a 32-byte bin"));
		CHECK(mp_get_bin_fixed(&f[6], 32, h.for_summary),
		      N_("the header's for_summary is not nil or a 32-byte bin"));
		h.has_for = 1;
	}
	*ret = h;
	r = 0;
out:
	if (parsed)
		mp_doc_close(&d);
	return r;
}

int bundle_entry_parse(const uint8_t *p, size_t len, struct bundle_entry *ret)
{
	struct mp_doc d;
	const msgpack_object *f;
	struct bundle_entry e;
	int r;

	if ((r = mp_doc_parse(&d, p, len, 3)) < 0)
		return r;
	if ((r = mp_get_array(d.root, 3, 0, &f, NULL)) < 0)
		goto out;
	if ((r = mp_get_bin(&f[0], ENTRY_MAX_ENVELOPE, &e.env, &e.env_len)) < 0)
		goto out;
	size_t siglen;
	if ((r = mp_get_bin(&f[1], 64, &e.sig, &siglen)) < 0)
		goto out;
	if (siglen != 64) {
		r = HAMLET_EFORMAT;
		goto out;
	}
	if (mp_is_nil(&f[2])) {
		e.body = NULL;
		e.body_len = 0;
	} else if ((r = mp_get_bin(&f[2], ENTRY_MAX_BODY, &e.body,
				   &e.body_len)) < 0) {
		goto out;
	}
	/* bin payloads point into p (msgpack-c does not copy them) */
	*ret = e;
	r = 0;
out:
	mp_doc_close(&d);
	return r;
}

static void *run_alloc(void *ctx, size_t n)
{
	struct bundle_run *r = ctx;
	return r->envs = malloc(n ? n : 1);
}

int bundle_run_parse(const uint8_t *p, size_t len, struct bundle_run *ret,
		     char *why, size_t whylen)
{
	struct mp_doc d;
	const msgpack_object *f;
	const uint8_t *data;
	uint64_t codec;
	size_t dl, raw_len;
	int r;

	ret->raw = ret->envs = NULL;
	ret->n = 0;
	if ((r = mp_doc_parse(&d, p, len, 2)) < 0) {
		why_set(why, whylen, N_("run frame is not one msgpack value"));
		return r;
	}
	if (mp_get_array(d.root, 2, 0, &f, NULL) < 0 ||
	    mp_get_bin(&f[1], BUNDLE_MAX_RUN_FRAME, &data, &dl) < 0) {
		r = HAMLET_EFORMAT;
		why_set(why, whylen, N_("run frame is not [codec 0 or 1, bin]"));
		goto out;
	}
	if (mp_get_uint(&f[0], UINT64_MAX, &codec) < 0 || codec > 1) {
		r = HAMLET_EFORMAT;
		why_set(why, whylen,
			N_("run frame's codec is not 0 (none) or 1 (zstd)"));
		goto out;
	}
	if (codec == 1) {
		if ((r = zst_size(data, dl, BUNDLE_MAX_RUN, &raw_len)) < 0) {
			why_set(why, whylen,
				 N_("run frame is not one zstd frame declaring at most %zu bytes"),
				 BUNDLE_MAX_RUN);
			goto out;
		}
		if (!(ret->raw = malloc(raw_len + 1))) {
			r = -ENOMEM;
			goto out;
		}
		if ((r = zst_decompress(data, dl, ret->raw, raw_len)) < 0) {
			why_set(why, whylen,
				N_("run frame's zstd data or checksum is damaged, or it does not decompress to the %zu bytes it declares"),
				raw_len);
			goto out;
		}
		data = ret->raw;
		dl = raw_len;
	}
	r = run_decode(data, dl, BUNDLE_MAX_RUN_ENTRIES, run_alloc, ret,
		       &ret->head, ret->v, &ret->n, why, whylen);
out:
	mp_doc_close(&d);
	if (r < 0)
		bundle_run_release(ret);
	return r;
}

void bundle_run_release(struct bundle_run *r)
{
	free(r->raw);
	free(r->envs);
	r->raw = r->envs = NULL;
	r->n = 0;
}

int bundle_trailer_parse(const uint8_t *p, size_t len,
			 struct bundle_trailer *ret)
{
	struct mp_doc d;
	const msgpack_object *f;
	struct bundle_trailer t;
	int r;

	if ((r = mp_doc_parse(&d, p, len, 3)) < 0)
		return r;
	if ((r = mp_get_array(d.root, 3, 0, &f, NULL)) < 0 ||
	    (r = mp_get_uint(&f[0], UINT64_MAX, &t.count)) < 0 ||
	    (r = mp_get_bin_fixed(&f[1], 32, t.content_hash)) < 0 ||
	    (r = mp_get_bin_fixed(&f[2], 64, t.sig)) < 0)
		goto out;
	*ret = t;
	r = 0;
out:
	mp_doc_close(&d);
	return r;
}

int bundle_trailer_verify(const struct bundle_trailer *t,
			  const uint8_t creator[32])
{
	return sig_verify(BUNDLE_SIG_PREFIX, BUNDLE_SIG_PREFIX_LEN,
			  t->content_hash, 32, t->sig, creator);
}
