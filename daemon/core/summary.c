#include "summary.h"
#include "outfile.h"
#include "why.h"

#include "bundle_format.h"
#include "error.h"
#include "filekind.h"
#include "hlc.h"
#include "infile.h"
#include "log.h"
#include "mp.h"
#include "seal.h"
#include "trustset.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct collect {
	struct mp_writer *w;
	uint64_t n;
};

static int count_feed(void *ctx, const struct log_feed *f)
{
	(void)f;
	((struct collect *)ctx)->n++;
	return 0;
}

static int pack_feed(void *ctx, const struct log_feed *f)
{
	struct collect *c = ctx;
	msgpack_pack_array(&c->w->pk, 3);
	mp_pack_bin(&c->w->pk, f->key, 32);
	msgpack_pack_uint64(&c->w->pk, f->seq);
	mp_pack_bin(&c->w->pk, f->head, 32);
	return 0;
}

static int count_trust(void *ctx, int kind, const uint8_t id[32],
		       const uint8_t *data, size_t len)
{
	(void)kind, (void)id, (void)data, (void)len;
	((struct collect *)ctx)->n++;
	return 0;
}

static int pack_trust(void *ctx, int kind, const uint8_t id[32],
		      const uint8_t *data, size_t len)
{
	struct collect *c = ctx;
	uint8_t key[TRUST_KEY_LEN];
	(void)data, (void)len;
	key[0] = (uint8_t)kind;
	memcpy(key + 1, id, 32);
	mp_pack_bin(&c->w->pk, key, sizeof(key));
	return 0;
}

/* The trailer of a file of magic and body: BLAKE2b-256 of the two. */
static void summary_hash(const char *magic, const uint8_t *body, size_t len,
			 uint8_t out[SUMMARY_SUM_LEN])
{
	crypto_generichash_blake2b_state hs;

	crypto_generichash_blake2b_init(&hs, NULL, 0, SUMMARY_SUM_LEN);
	crypto_generichash_blake2b_update(&hs, (const uint8_t *)magic, 8);
	crypto_generichash_blake2b_update(&hs, body, len);
	crypto_generichash_blake2b_final(&hs, out, SUMMARY_SUM_LEN);
}

int summary_write(struct store *st, const uint8_t network_id[32],
		  const uint8_t node[32], const uint8_t *certs,
		  size_t certs_len, const char *path, uint64_t *ret_feeds)
{
	struct store_txn *t = NULL;
	struct mp_writer w;
	struct collect c = { &w, 0 }, tc = { &w, 0 };
	uint8_t sum[SUMMARY_SUM_LEN];
	char tmp[4096];
	FILE *f = NULL;
	int r;

	mp_writer_init(&w);
	if ((r = store_txn_begin(st, 1, &t)) < 0)
		goto out;
	if ((r = log_feeds_each(t, count_feed, &c)) < 0 ||
	    (r = trustset_each(t, 0, count_trust, &tc)) < 0)
		goto out;
	msgpack_pack_array(&w.pk, 7);
	msgpack_pack_uint64(&w.pk, SUMMARY_VERSION);
	mp_pack_bin(&w.pk, network_id, 32);
	mp_pack_bin(&w.pk, node, 32);
	msgpack_pack_uint64(&w.pk, hlc_wall_ms() << HLC_COUNTER_BITS);
	msgpack_pack_array(&w.pk, c.n);
	if ((r = log_feeds_each(t, pack_feed, &c)) < 0)
		goto out;
	mp_pack_bin(&w.pk, certs ? certs : (const uint8_t *)"",
		    certs ? certs_len : 0);
	/* in key order: the same transaction counted them */
	msgpack_pack_array(&w.pk, tc.n);
	if ((r = trustset_each(t, 0, pack_trust, &tc)) < 0)
		goto out;
	store_txn_abort(t);
	t = NULL;
	{
		/* an earlier summary is replaced, nothing else */
		unsigned char head[OUTFILE_HEAD];
		size_t hn;
		if ((r = outfile_at(path, head, &hn)) < 0)
			goto out;
		if (r == 1 && !outfile_is(head, hn, SUMMARY_MAGIC, 8)) {
			r = -EEXIST;
			goto out;
		}
	}
	snprintf(tmp, sizeof(tmp), "%s.part", path);
	if (!(f = fopen(tmp, "wb"))) {
		r = -errno;
		goto out;
	}
	summary_hash(SUMMARY_MAGIC, (const uint8_t *)w.sb.data, w.sb.size, sum);
	if (fwrite(SUMMARY_MAGIC, 1, 8, f) != 8 ||
	    fwrite(w.sb.data, 1, w.sb.size, f) != w.sb.size ||
	    fwrite(sum, 1, SUMMARY_SUM_LEN, f) != SUMMARY_SUM_LEN ||
	    fflush(f) != 0 || fsync(fileno(f)) != 0) {
		r = -errno ? -errno : -EIO;
		goto out;
	}
	fclose(f);
	f = NULL;
	if (rename(tmp, path) != 0) {
		r = -errno;
		goto out;
	}
	if (ret_feeds)
		*ret_feeds = c.n;
	r = 0;
out:
	if (f) {
		fclose(f);
		unlink(tmp);
	}
	store_txn_abort(t);
	mp_writer_destroy(&w);
	return r;
}

static int cmp_feed(const void *a, const void *b)
{
	return memcmp(((const struct summary_feed *)a)->key,
		      ((const struct summary_feed *)b)->key, 32);
}

static int cmp_trust(const void *a, const void *b)
{
	return memcmp(a, b, TRUST_KEY_LEN);
}

/* The last field: the keys of the node's trust set. */
static int trust_read(const msgpack_object *o, struct summary *s)
{
	const msgpack_object *keys;
	size_t n;

	if (o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size > TRUSTSET_MAX)
		return HAMLET_ETOOBIG; /* a trust set holds no more */
	if (mp_get_array(o, SIZE_MAX, TRUSTSET_MAX, &keys, &n) < 0)
		return HAMLET_EFORMAT;
	if (!(s->trust = calloc(n ? n : 1, TRUST_KEY_LEN)))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (mp_get_bin_fixed(&keys[i], TRUST_KEY_LEN, s->trust[i]) < 0)
			return HAMLET_EFORMAT;
	s->ntrust = n;
	if (n > 1)
		qsort(s->trust, n, TRUST_KEY_LEN, cmp_trust);
	return 0;
}

/* A summary cut short, or damaged on the stick: write it again. */
static void summary_damaged(const char *path, char *why, size_t whylen)
{
	why_set(why, whylen,
		N_("summary %s is cut short or damaged. Write it again at the node that made it (\"hamlet summary --out FILE\" there) and bring the new file"),
		path);
}

/* Does the file of len bytes end with the BLAKE2b-256 of the bytes
 * before it, read with magic for its first 8 (and hold at least one byte
 * between the two)? */
static int summary_sum_ok(const char *magic, const uint8_t *map, size_t len)
{
	uint8_t h[SUMMARY_SUM_LEN];

	if (len < 8 + 1 + SUMMARY_SUM_LEN)
		return 0;
	summary_hash(magic, map + 8, len - 8 - SUMMARY_SUM_LEN, h);
	return sodium_memcmp(h, map + len - SUMMARY_SUM_LEN, sizeof(h)) == 0;
}

/* A summary whose magic alone was damaged (one of its 8 bytes): the rest
 * checks with the right one. Not a summary of another format version,
 * whose checksum covers its own magic. */
static int summary_magic_damaged(const uint8_t *map, size_t len)
{
	int differ = 0;

	for (size_t i = 0; i < 8; i++)
		differ += map[i] != (uint8_t)SUMMARY_MAGIC[i];
	return differ == 1 && summary_sum_ok(SUMMARY_MAGIC, map, len);
}

int summary_read(const char *path, struct summary **ret, char *why,
		 size_t whylen)
{
	struct summary *s = calloc(1, sizeof(*s));
	const msgpack_object *f, *feeds, *x;
	struct mp_doc d;
	int have_doc = 0, fd = -1, r;
	uint8_t *map = MAP_FAILED;
	struct stat sb;
	uint64_t v;
	size_t n, nf;

	if (!s)
		return -ENOMEM;
	if ((fd = infile_open(path, &sb)) == -EISDIR || fd == -ENODEV) {
		why_set(why, whylen,
			fd == -EISDIR
				? N_("%s is a directory, not a summary: name the summary's file in it")
				: N_("%s is not a file but a device, a pipe or a socket: name the summary's file"),
			path);
		r = HAMLET_EFORMAT;
		goto fail;
	}
	if (fd < 0) {
		r = fd;
		why_set(why, whylen, N_("cannot read %s: %s"), path, strerror(-r));
		goto fail;
	}
	if (sb.st_size > 0)
		map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd,
			   0);
	if (S_ISREG(sb.st_mode) && sb.st_size < 8 &&
	    (sb.st_size == 0 ||
	     (map != MAP_FAILED &&
	      memcmp(map, SUMMARY_MAGIC, (size_t)sb.st_size) == 0))) {
		/* empty, or cut inside the magic: a summary cut short on
		 * the stick, not some other file */
		if (sb.st_size == 0)
			why_set(why, whylen,
				N_("summary %s is empty. Write it again at the node that made it (\"hamlet summary --out FILE\" there) and bring the new file"),
				path);
		else
			why_set(why, whylen,
				N_("summary %s is cut short: only its first %zu bytes are there. Write it again at the node that made it (\"hamlet summary --out FILE\" there) and bring the new file"),
				path, (size_t)sb.st_size);
		r = HAMLET_EFORMAT;
		goto fail;
	}
	if (sb.st_size >= 8 && map != MAP_FAILED &&
	    (memcmp(map, BUNDLE_MAGIC, 7) == 0 ||
	     memcmp(map, SEAL_MAGIC, 7) == 0)) {
		/* of any version: the magic less its version byte */
		/* the other file of the trip, taken for this one */
		why_set(why, whylen,
			N_("%s is a bundle, not a summary: import it with \"hamlet bundle import %s\"; a summary is what \"hamlet summary --out FILE\" writes at the node the bundle is for"),
			path, path);
		r = HAMLET_EFORMAT;
		goto fail;
	}
	if (sb.st_size >= 8 && map != MAP_FAILED &&
	    summary_magic_damaged(map, (size_t)sb.st_size)) {
		summary_damaged(path, why, whylen);
		r = HAMLET_EFORMAT;
		goto fail;
	}
	if (sb.st_size >= 8 && map != MAP_FAILED &&
	    memcmp(map, SUMMARY_MAGIC, 7) == 0 &&
	    ((const uint8_t *)map)[7] == 0x01) {
		/* format 1: versions 2 and 3, without a checksum */
		why_set(why, whylen,
			N_("summary %s was made by an older hamlet (summary format 1, which carries no checksum), and this hamlet reads format %u only: make a new summary at that node (\"hamlet summary --out FILE\" there, once it runs this hamlet) and bring the new file"),
			path, (unsigned)(uint8_t)SUMMARY_MAGIC[7]);
		r = HAMLET_EFORMAT;
		goto fail;
	}
	if (sb.st_size >= 8 && map != MAP_FAILED &&
	    memcmp(map, SUMMARY_MAGIC, 7) == 0 &&
	    memcmp(map, SUMMARY_MAGIC, 8) != 0) {
		/* made by a newer hamlet */
		why_set(why, whylen,
			N_("%s is a hamlet summary of format version %u, and this hamlet reads version %u: make it again with the same hamlet version as the node that reads it, or update hamlet here"),
			path, (unsigned)((const uint8_t *)map)[7],
			(unsigned)(uint8_t)SUMMARY_MAGIC[7]);
		r = HAMLET_EFORMAT;
		goto fail;
	}
	if (sb.st_size < 8 || map == MAP_FAILED ||
	    memcmp(map, SUMMARY_MAGIC, 8) != 0) {
		struct filekind fk;
		if (sb.st_size > 0 && map != MAP_FAILED &&
		    filekind_of(map, (size_t)sb.st_size, &fk))
			/* a bundle or certificate off the stick */
			why_set(why, whylen, N_("%s is %s, not a summary: %s"),
				path, why_translate(fk.is),
				why_translate(fk.use));
		else
			why_set(why, whylen,
				N_("%s is not a hamlet summary file"), path);
		r = HAMLET_EFORMAT;
		goto fail;
	}
	if (!summary_sum_ok(SUMMARY_MAGIC, map, (size_t)sb.st_size)) {
		/* cut short, or a byte changed on the stick: nothing of it
		 * is read */
		summary_damaged(path, why, whylen);
		r = HAMLET_EFORMAT;
		goto fail;
	}
	crypto_generichash_blake2b(s->file_hash, 32, map, (size_t)sb.st_size,
				   NULL, 0);
	r = mp_doc_parse(&d, map + 8,
			 (size_t)sb.st_size - 8 - SUMMARY_SUM_LEN,
			 SUMMARY_MAX_FEEDS);
	if (r == -ENOMEM) {
		why_set(why, whylen, N_("cannot read %s: %s"), path,
			why_translate(hamlet_strerror(r)));
		goto fail;
	}
	if (r < 0) {
		/* bytes that are not a summary's, though the checksum
		 * matches them: not made by summary_write() */
		summary_damaged(path, why, whylen);
		r = HAMLET_EFORMAT;
		goto fail;
	}
	have_doc = 1;
	r = HAMLET_EFORMAT;
	if (mp_get_array(d.root, SIZE_MAX, 7, &f, &nf) < 0 || nf != 7 ||
	    mp_get_uint(&f[0], 255, &v) < 0 || v != SUMMARY_VERSION ||
	    mp_get_bin_fixed(&f[1], 32, s->network_id) < 0 ||
	    mp_get_bin_fixed(&f[2], 32, s->node) < 0 ||
	    mp_get_uint(&f[3], UINT64_MAX, &s->hlc) < 0 ||
	    mp_get_array(&f[4], SIZE_MAX, SUMMARY_MAX_FEEDS, &feeds, &n) < 0) {
		why_set(why, whylen, N_("summary %s is damaged or of another version"),
			 path);
		goto fail;
	}
	{
		const uint8_t *cb;
		size_t cl;
		if (mp_get_bin(&f[5], CERT_CHAIN_MAX_BYTES, &cb, &cl) < 0) {
			why_set(why, whylen,
				 N_("summary %s: its certificate chain is damaged"),
				 path);
			goto fail;
		}
		if (cl && !(s->certs = malloc(cl))) {
			r = -ENOMEM;
			goto fail;
		}
		if (cl)
			memcpy(s->certs, cb, cl);
		s->certs_len = cl;
	}
	if ((r = trust_read(&f[6], s)) < 0) {
		if (r == HAMLET_ETOOBIG)
			why_set(why, whylen,
				N_("summary %s: it lists %zu trust set keys, more than a trust set holds (%d)"),
				path, (size_t)f[6].via.array.size, TRUSTSET_MAX);
		else if (r == HAMLET_EFORMAT)
			why_set(why, whylen,
				 N_("summary %s: its trust set's keys are damaged (not a list of 33-byte keys)"),
				 path);
		goto fail;
	}
	r = HAMLET_EFORMAT;
	s->feeds = calloc(n ? n : 1, sizeof(*s->feeds));
	if (!s->feeds) {
		r = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		if (mp_get_array(&feeds[i], 3, 0, &x, NULL) < 0 ||
		    mp_get_bin_fixed(&x[0], 32, s->feeds[i].key) < 0 ||
		    mp_get_uint(&x[1], ENTRY_MAX_SEQ, &s->feeds[i].seq) < 0 ||
		    mp_get_bin_fixed(&x[2], 32, s->feeds[i].head) < 0) {
			why_set(why, whylen, N_("summary %s: feed %zu is damaged"),
				 path, i);
			goto fail;
		}
	}
	s->n = n;
	if (n > 1)
		qsort(s->feeds, n, sizeof(*s->feeds), cmp_feed);
	mp_doc_close(&d);
	munmap(map, (size_t)sb.st_size);
	close(fd);
	*ret = s;
	return 0;
fail:
	if (have_doc)
		mp_doc_close(&d);
	if (map != MAP_FAILED)
		munmap(map, (size_t)sb.st_size);
	if (fd >= 0)
		close(fd);
	summary_free(s);
	return r;
}

void summary_free(struct summary *s)
{
	if (!s)
		return;
	free(s->feeds);
	free(s->certs);
	free(s->trust);
	free(s);
}

uint64_t summary_seq(const struct summary *s, const uint8_t key[32])
{
	const struct summary_feed *f = summary_find(s, key);
	return f ? f->seq : 0;
}

const struct summary_feed *summary_find(const struct summary *s,
					const uint8_t key[32])
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = memcmp(s->feeds[mid].key, key, 32);
		if (c == 0)
			return &s->feeds[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int summary_has_trust(const struct summary *s,
		      const uint8_t key[TRUST_KEY_LEN])
{
	return s->ntrust &&
	       bsearch(key, s->trust, s->ntrust, TRUST_KEY_LEN, cmp_trust) !=
		       NULL;
}
