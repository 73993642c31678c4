#include "bundle_internal.h"
#include "why.h"

#include "error.h"
#include "filekind.h"
#include "infile.h"
#include "seal.h"
#include "summary.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

const char *bundle_trailer_state_text(int s)
{
	switch (s) {
	case BUNDLE_TRAILER_OK: return N_("signed trailer verifies");
	case BUNDLE_TRAILER_MISSING: return N_("no trailer: the file is cut short");
	case BUNDLE_TRAILER_BAD_HASH: return N_("trailer hash does not match the content: the file was altered");
	case BUNDLE_TRAILER_BAD_SIG: return N_("trailer signature does not verify");
	case BUNDLE_TRAILER_BAD_COUNT: return N_("trailer entry count does not match the entries in the file");
	case BUNDLE_TRAILER_UNCHECKED: return N_("cannot check the trailer's signature: the header, which names the bundle's creator, is unreadable");
	default: return "?";
	}
}

void bundle_report_close(struct bundle_report *rep)
{
	if (rep)
		problems_close(&rep->problems);
}

/* --- reading ----------------------------------------------------------- */

/* Where the byte at off of the bundle walked lies in the file: off,
 * unless the file is sealed. Only for what is reported: the reader goes
 * on by offsets in what it reads. */
static size_t walk_at(const struct walk *wk, size_t off)
{
	return wk->sealed ? seal_opened_file_offset(wk->sealed, off) : off;
}

/* The bytes walked: the file mapped, or a sealed file's plain bundle. */
struct walk_buf {
	uint8_t *map;
	size_t map_len;
	struct seal_opened opened;
	const uint8_t *p;
	size_t len;
};

static void walk_buf_close(struct walk_buf *b)
{
	if (b->map)
		munmap(b->map, b->map_len);
	seal_opened_close(&b->opened);
}

static void short_hex(const uint8_t *p, char out[17])
{
	sodium_bin2hex(out, 17, p, 8);
}

/* 1 when the file ends in a trailer whose hash and signature by creator
 * cover everything before it: the header can then be believed. */
static int trailer_valid(const uint8_t *map, size_t len,
			 const uint8_t creator[32])
{
	struct bundle_reader rd;
	struct bundle_frame fr, last = { 0 };
	struct bundle_trailer tr;
	uint8_t hash[32];
	size_t bad;
	int r, have = 0;
	if (bundle_reader_init(&rd, map, len) < 0)
		return 0;
	while ((r = bundle_reader_next(&rd, &fr, &bad)) != 0) {
		if (r < 0)
			return 0;
		if (fr.type == BUNDLE_FRAME_TRAILER) {
			last = fr;
			have = 1;
		}
	}
	if (!have || bundle_trailer_parse(last.payload, last.len, &tr) < 0)
		return 0;
	crypto_generichash_blake2b(hash, 32, map, last.offset, NULL, 0);
	return memcmp(hash, tr.content_hash, 32) == 0 &&
	       bundle_trailer_verify(&tr, creator) == 0;
}

static int name_cb(void *ctx, int kind, const uint8_t id[32],
		   const uint8_t *data, size_t len)
{
	struct cert c;
	(void)kind;
	(void)id;
	if (cert_decode(data, len, &c, NULL) < 0)
		return 0;
	memcpy(ctx, &c, sizeof(c));
	return 1;
}

void bundle_node_name(struct node *n, const uint8_t key[32], char *out,
		      size_t outlen)
{
	struct store_txn *t;
	struct cert c;

	out[0] = 0;
	c.name[0] = 0;
	if (!n || store_txn_begin(n->st, 1, &t) < 0)
		return;
	(void)trustset_each_subject(t, key, TRUST_CERT, name_cb, &c);
	store_txn_abort(t);
	snprintf(out, outlen, "%s", c.name);
}

static void seal_problem(void *ctx, size_t offset, const char *text)
{
	(void)offset;
	problems_add(&((struct bundle_report *)ctx)->problems, "damaged",
		     "%s", text);
}

/*
 * A sealed file: the report says for whom; open it with wk->sk into
 * b->opened, the plain bundle then walked. Refused whole (why says so)
 * when it is for another node or cannot be opened at all.
 */
static int walk_unseal(const char *path, struct walk *wk, struct walk_buf *b)
{
	struct bundle_report *rep = wk->rep;
	struct seal_header h;
	char hex[65], name[80] = "", mine[65];
	int r;

	if ((r = seal_header_parse(b->map, b->map_len, &h)) < 0) {
		if (r == HAMLET_EVERSION) {
			why_set(wk->why, wk->whylen,
				 N_("%s is a sealed bundle of a version this hamlet does not read; nothing in it can be read"),
				 path);
		} else if (b->map_len < SEAL_HEADER_LEN) {
			/* a stick pulled out just after the write began: cut
			 * short, as a file cut inside its first 8 bytes is */
			rep->damaged_frames++;
			why_set(wk->why, wk->whylen,
				N_("%s is cut short: only its first %zu bytes are there (copy it again from the node that made it)"),
				path, b->map_len);
		} else {
			/* damage, as a plain bundle's header would be */
			rep->damaged_frames++;
			why_set(wk->why, wk->whylen,
				 N_("%s is a sealed bundle whose header is damaged or cut short: it cannot be opened, and nothing in it can be read (copy it again from the node that made it)"),
				 path);
		}
		return r;
	}
	rep->sealed = 1;
	memcpy(rep->sealed_to, h.recipient, 32);
	hex_encode(h.recipient, 32, hex);
	bundle_node_name(wk->names, h.recipient, rep->sealed_name,
			 sizeof(rep->sealed_name));
	snprintf(name + 3, sizeof(name) - 5, "%s", rep->sealed_name);
	if (name[3]) {
		memcpy(name, " (\"", 3);
		strcat(name, "\")");
	}
	if (!wk->sk || sodium_is_zero(wk->sk, 64)) {
		why_set(wk->why, wk->whylen,
			 N_("%s is sealed for node %s%s; it opens only with that node's key, and none is at hand here%s"),
			 path, hex, name,
			 wk->sk ? " (this node's node.key cannot be read)" : "");
		return HAMLET_EKEY;
	}
	r = seal_open(b->map, b->map_len, wk->sk, BUNDLE_MAGIC,
		      BUNDLE_MAGIC_LEN, seal_problem, rep, &b->opened);
	if (r == HAMLET_EKEY) {
		hex_encode(wk->sk + 32, 32, mine);
		/* only an import (which hands on trust items) imports */
		if (wk->trust && !wk->check_only)
			why_set(wk->why, wk->whylen,
				 N_("%s is sealed for another node, %s%s; this node (%s) cannot read it: nothing imported. Carry it to that node"),
				 path, hex, name, mine);
		else
			why_set(wk->why, wk->whylen,
				 N_("%s is sealed for another node, %s%s; this node (%s) cannot read it. Carry it to that node"),
				 path, hex, name, mine);
		return r;
	}
	if (r == -ENOMEM) {
		/* opened whole in memory: the header is not at fault */
		why_set(wk->why, wk->whylen,
			 N_("%s is sealed for this node, but this computer has not the memory to open it (%zu bytes, opened whole): nothing imported; close other programs, or have its sender make smaller bundles"),
			 path, b->map_len);
		return r;
	}
	if (r < 0) {
		why_set(wk->why, wk->whylen,
			 N_("%s is sealed for this node but its file key does not open (%s): the header was altered, nothing imported"),
			 path, why_translate(hamlet_strerror(r)));
		return r;
	}
	rep->sealed_frames = b->opened.frames;
	rep->damaged_frames += b->opened.damaged;
	wk->sealed = &b->opened;
	b->p = b->opened.plain;
	b->len = b->opened.len;
	return 0;
}

/*
 * Map path and start reading its frames (a sealed file's once opened);
 * the caller closes b. The report has the file's size even when it turns
 * out to be no bundle.
 */
static int walk_open(const char *path, struct walk *wk,
		     struct bundle_reader *rd, struct walk_buf *b)
{
	uint8_t *map = MAP_FAILED;
	struct stat sb;
	int fd, r;

	if ((fd = infile_open(path, &sb)) == -EISDIR) {
		/* bad input, as an empty file is: not a fault of the system */
		why_set(wk->why, wk->whylen,
			 N_("%s is a directory, not a bundle: name the bundle's file in it"),
			 path);
		return HAMLET_EFORMAT;
	}
	if (fd == -ENODEV) {
		/* a pipe never ends without a writer, /dev/zero never */
		why_set(wk->why, wk->whylen,
			 N_("%s is not a file but a device, a pipe or a socket: name the bundle's file"),
			 path);
		return HAMLET_EFORMAT;
	}
	if (fd < 0) {
		why_set(wk->why, wk->whylen, N_("cannot read %s: %s"), path,
			 strerror(-fd));
		return fd;
	}
	wk->rep->bytes = (uint64_t)sb.st_size;
	if (sb.st_size > 0 &&
	    (map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd,
			0)) == MAP_FAILED) {
		r = -errno;
		close(fd);
		why_set(wk->why, wk->whylen, N_("cannot read %s: %s"), path,
			 strerror(-r));
		return r;
	}
	close(fd);
	if (map != MAP_FAILED) {
		b->map = map;
		b->map_len = b->len = (size_t)sb.st_size;
		b->p = map;
		if (seal_is_sealed(map, b->map_len) &&
		    (r = walk_unseal(path, wk, b)) < 0)
			return r;
	}
	if (!b->p || bundle_reader_init(rd, b->p, b->len) < 0) {
		struct filekind fk;
		if (!b->p && wk->rep->bytes == 0)
			why_set(wk->why, wk->whylen,
				 N_("%s is empty: no hamlet bundle (copy it again from the node that made it)"),
				 path);
		else if (b->len < BUNDLE_MAGIC_LEN &&
			 (memcmp(b->p, BUNDLE_MAGIC, b->len) == 0 ||
			  memcmp(b->p, SEAL_MAGIC, b->len) == 0)) {
			/* cut inside the magic: a bundle cut short, as one
			 * empty or cut later is, not some other file; its
			 * first frame damaged (verify --bundle: exit 6, as
			 * for a cut anywhere later) */
			wk->rep->damaged_frames++;
			why_set(wk->why, wk->whylen,
				N_("%s is cut short: only its first %zu bytes are there (copy it again from the node that made it)"),
				path, b->len);
		} else if (b->len >= 8 && memcmp(b->p, SUMMARY_MAGIC, 7) == 0)
			why_set(wk->why, wk->whylen,
				 N_("%s is a summary, not a bundle: carry it to the node that has the newer data and run there \"hamlet bundle create --for %s OUT\"; bring back OUT and import that"),
				 path, path);
		else if (b->len >= BUNDLE_MAGIC_LEN &&
			 (memcmp(b->p, BUNDLE_MAGIC, BUNDLE_MAGIC_LEN - 1) == 0 ||
			  memcmp(b->p, SEAL_MAGIC, SEAL_MAGIC_LEN - 1) == 0))
			/* a bundle of another format version: made by a
			 * newer (or older) hamlet, not some other file */
			why_set(wk->why, wk->whylen,
				 N_("%s is a hamlet bundle of format version %u, and this hamlet reads version %u: make it again with the same hamlet version as this node, or update hamlet here"),
				 path, (unsigned)b->p[BUNDLE_MAGIC_LEN - 1],
				 (unsigned)(uint8_t)(b->p[6] == 'B'
					 ? BUNDLE_MAGIC[BUNDLE_MAGIC_LEN - 1]
					 : SEAL_MAGIC[SEAL_MAGIC_LEN - 1]));
		else if (filekind_of(b->p, b->len, &fk))
			/* a certificate or network file off the stick */
			why_set(wk->why, wk->whylen,
				 N_("%s is %s, not a bundle: %s"), path,
				 why_translate(fk.is), why_translate(fk.use));
		else
			why_set(wk->why, wk->whylen,
				 N_("%s is not a hamlet bundle"), path);
		return HAMLET_EFORMAT;
	}
	return 0;
}

/*
 * A header frame. Only a bundle for another network ends the walk (<0): a
 * damaged or second header is reported and the walk goes on, since every
 * entry is still checked on its own. A second header is a frame out of
 * its place (SPEC 2: the header is the first frame): damaged.
 */
static int walk_header(struct walk *wk, struct bundle_reader *rd,
		       const struct bundle_frame *fr, const uint8_t *map,
		       size_t len)
{
	struct bundle_report *rep = wk->rep;
	struct bundle_header h;
	char hwhy[200];
	int r;

	if (rep->has_header || rep->entries) {
		rep->damaged_frames++;
		problems_add(&rep->problems, "damaged",
			     N_("second header at byte %zu ignored"),
			     walk_at(wk, fr->offset));
		return 0;
	}
	if ((r = bundle_header_parse(fr->payload, fr->len, &h, hwhy,
				     sizeof(hwhy))) < 0) {
		rep->damaged_frames++;
		if (r == HAMLET_EVERSION) {
			/* a newer hamlet's bundle, not a tampered one */
			problems_add(&rep->problems, "damaged",
				     N_("header unreadable: %s; each entry is still checked on its own"),
				     hwhy);
		} else {
			problems_add(&rep->problems, "damaged",
				     N_("header is damaged (%s: %s); each entry is still checked on its own"),
				     hamlet_strerror(r), hwhy);
		}
		bundle_reader_resync_from(rd, fr->offset);
		return 0;
	}
	rep->has_header = 1;
	rep->header = h;
	if (wk->network_id && memcmp(h.network_id, wk->network_id, 32) != 0 &&
	    !trailer_valid(map, len, h.creator)) {
		/* an altered header: every entry still carries and is
		 * checked for its own network */
		rep->damaged_frames++;
		problems_add(&rep->problems, "damaged",
			     N_("header names another network but the bundle's signature does not verify: header damaged"));
	} else if (wk->network_id &&
		   memcmp(h.network_id, wk->network_id, 32) != 0) {
		char a[17], b[17];
		short_hex(h.network_id, a);
		short_hex(wk->network_id, b);
		why_set(wk->why, wk->whylen,
			 N_("bundle is for network %s…, this node is on %s…; nothing imported"),
			 a, b);
		return HAMLET_ENETWORK;
	}
	return 0;
}

/* The trailer frame: whether it covers, signs and counts what came before. */
static void walk_trailer(struct bundle_report *rep,
			 const struct bundle_frame *fr, const uint8_t *map)
{
	struct bundle_trailer tr;
	uint8_t hash[32];
	int r;

	if ((r = bundle_trailer_parse(fr->payload, fr->len, &tr)) < 0) {
		rep->trailer = BUNDLE_TRAILER_BAD_SIG;
		problems_add(&rep->problems, "trailer",
			     N_("trailer is damaged (%s)"), hamlet_strerror(r));
		return;
	}
	rep->trailer_count = tr.count;
	crypto_generichash_blake2b(hash, 32, map, fr->offset, NULL, 0);
	if (memcmp(hash, tr.content_hash, 32) != 0)
		rep->trailer = BUNDLE_TRAILER_BAD_HASH;
	else if (!rep->has_header) /* no creator key to check it with */
		rep->trailer = BUNDLE_TRAILER_UNCHECKED;
	else if (bundle_trailer_verify(&tr, rep->header.creator) < 0)
		rep->trailer = BUNDLE_TRAILER_BAD_SIG;
	else if (tr.count != rep->entries)
		rep->trailer = BUNDLE_TRAILER_BAD_COUNT;
	else
		rep->trailer = BUNDLE_TRAILER_OK;
	if (rep->trailer == BUNDLE_TRAILER_BAD_COUNT)
		problems_add(&rep->problems, "trailer",
			     tr.count > rep->entries
				     ? N_("the trailer counts %llu entries, the file holds %llu, though its hash and signature check out: its creator counted wrongly, or entries it wrote could not be read here")
				     : N_("the trailer counts %llu entries, the file holds %llu, though its hash and signature check out: its creator counted wrongly"),
			     (unsigned long long)tr.count,
			     (unsigned long long)rep->entries);
	else if (rep->trailer != BUNDLE_TRAILER_OK)
		problems_add_text(&rep->problems, "trailer",
				  bundle_trailer_state_text(rep->trailer));
}

/* What the entries of a batch point into: run frames' decompressed
 * bytes and rebuilt envelopes, freed once the batch is handed over. */
struct walk_owned {
	void **v;
	size_t n, cap;
};

static int owned_add(struct walk_owned *o, void *p)
{
	if (!p)
		return 0;
	if (o->n == o->cap) {
		size_t nc = o->cap ? o->cap * 2 : 64;
		void **q = realloc(o->v, nc * sizeof(*q));
		if (!q) {
			free(p);
			return -ENOMEM;
		}
		o->v = q;
		o->cap = nc;
	}
	o->v[o->n++] = p;
	return 0;
}

static void owned_free(struct walk_owned *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->v[i]);
	o->n = 0;
}

/* Hand in[0..*nb) to the walk's batch callback, then free what they
 * pointed into. */
static int walk_flush(struct walk *wk, const struct log_in *in,
		      const size_t *offs, size_t *nb, struct walk_owned *own)
{
	int r = *nb ? wk->batch(wk, in, offs, *nb) : 0;
	*nb = 0;
	owned_free(own);
	return r;
}

/* A run frame: its entries join the batch, or it is reported damaged
 * and the reader resyncs after its start. */
static int walk_run(struct walk *wk, struct bundle_reader *rd,
		    const struct bundle_frame *fr, struct bundle_run *run,
		    struct log_in *in, size_t *offs, size_t *nb,
		    struct walk_owned *own)
{
	struct bundle_report *rep = wk->rep;
	char rwhy[200];
	int r;

	if (*nb + BUNDLE_MAX_RUN_ENTRIES > BATCH &&
	    (r = walk_flush(wk, in, offs, nb, own)) < 0)
		return r;
	if ((r = bundle_run_parse(fr->payload, fr->len, run, rwhy,
				  sizeof(rwhy))) < 0) {
		if (r == -ENOMEM)
			return r;
		rep->damaged_frames++;
		problems_add(&rep->problems, "damaged",
			     N_("run frame at byte %zu is damaged (%s: %s)"),
			     walk_at(wk, fr->offset), hamlet_strerror(r), rwhy);
		bundle_reader_resync_from(rd, fr->offset);
		return 0;
	}
	rep->entries += run->n;
	for (size_t i = 0; i < run->n; i++) {
		const struct run_entry *x = &run->v[i];
		in[*nb] = (struct log_in){ .env = x->env,
					   .env_len = x->env_len,
					   .sig = x->sig,
					   .body = x->body,
					   .body_len = x->body_len,
					   .body_hashed = x->body_hashed,
					   .dec = x->dec };
		offs[(*nb)++] = walk_at(wk, fr->offset);
	}
	r = owned_add(own, run->raw);
	if (owned_add(own, run->envs) < 0)
		r = -ENOMEM;
	run->raw = run->envs = NULL;
	if (r == 0 && *nb == BATCH)
		r = walk_flush(wk, in, offs, nb, own);
	return r;
}

int bundle__walk_file(const char *path, struct walk *wk)
{
	struct bundle_report *rep = wk->rep;
	struct bundle_reader rd;
	struct bundle_frame fr;
	struct log_in *in = NULL;
	size_t *offs = NULL, nb = 0, bad, nt = 0;
	size_t tail_bad = 0; /* 1 + the offset of a damaged last frame */
	struct trustset_item titems[TRUST_BATCH];
	size_t toffs[TRUST_BATCH];
	struct walk_buf buf = { 0 };
	struct walk_owned own = { 0 };
	struct bundle_run *run = NULL;
	const uint8_t *map;
	size_t len;
	int r, seen_trailer = 0;

	memset(rep, 0, sizeof(*rep));
	rep->trailer = BUNDLE_TRAILER_MISSING;
	if ((r = walk_open(path, wk, &rd, &buf)) < 0)
		goto out;
	map = buf.p;
	len = buf.len;
	in = malloc(BATCH * sizeof(*in));
	offs = malloc(BATCH * sizeof(*offs));
	run = malloc(sizeof(*run));
	if (!in || !offs || !run) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		r = bundle_reader_next(&rd, &fr, &bad);
		if (wk->progress)
			wk->progress(wk->progress_ctx, r > 0 ? fr.offset : len,
				     len);
		if (r == 0)
			break;
		if (r < 0) {
			uint32_t declared;
			size_t olimit;
			int otype;
			rep->damaged_frames++;
			if (len - bad < BUNDLE_FRAME_HDR && !seen_trailer &&
			    /* a frame starts 'h' 'm' (bundle_format.h) */
			    memcmp(map + bad, "hm", len - bad < 2 ? len - bad : 2) == 0) {
				/* not even a frame's start is whole */
				problems_add(&rep->problems, "damaged",
					     N_("the file ends %zu bytes into the start of a frame at byte %zu (a frame's start is %d bytes): it is cut short"),
					     len - bad, walk_at(wk, bad),
					     BUNDLE_FRAME_HDR);
				tail_bad = 0;
			} else if (bundle_reader_cut_at(&rd, bad, &declared)) {
				problems_add(&rep->problems, "damaged",
					     N_("frame at byte %zu is cut short: after its %d-byte start it declares %u bytes, and the file holds %zu of them"),
					     walk_at(wk, bad), BUNDLE_FRAME_HDR,
					     (unsigned)declared,
					     len - bad - BUNDLE_FRAME_HDR);
				tail_bad = 0;
			} else if (bundle_reader_oversize_at(&rd, bad, &otype,
							     &declared, &olimit)) {
				problems_add(&rep->problems, "damaged",
					     N_("damaged frame at byte %zu: its type '%c' allows at most %zu bytes and it declares %u; skipped to the next frame"),
					     walk_at(wk, bad), otype, olimit,
					     (unsigned)declared);
				tail_bad = walk_at(wk, bad) + 1;
			} else {
				problems_add(&rep->problems, "damaged",
					     N_("damaged frame at byte %zu (%s); skipped to the next frame"),
					     walk_at(wk, bad), hamlet_strerror(r));
				tail_bad = walk_at(wk, bad) + 1;
			}
			continue;
		}
		tail_bad = 0;
		rep->frames++;
		if (seen_trailer) {
			rep->damaged_frames++;
			problems_add(&rep->problems, "damaged",
				     N_("frame after the trailer at byte %zu ignored"),
				     walk_at(wk, fr.offset));
			continue;
		}
		if (fr.type == BUNDLE_FRAME_HEADER) {
			if ((r = walk_header(wk, &rd, &fr, map, len)) < 0)
				goto out;
			continue;
		}
		if (fr.type == BUNDLE_FRAME_TRUST) {
			struct trustset_item *it = &titems[nt];
			uint8_t key[TRUSTSET_KEY];
			char twhy[200];
			rep->trust_items++;
			if ((r = bundle_trust_parse(fr.payload, fr.len, &it->kind,
						    &it->data, &it->len, twhy,
						    sizeof(twhy))) < 0 ||
			    (r = trust_item_key(it->kind, it->data, it->len,
						key, twhy, sizeof(twhy))) < 0) {
				rep->damaged_frames++;
				problems_add(&rep->problems, "damaged",
					     N_("trust frame at byte %zu does not check (%s: %s)"),
					     walk_at(wk, fr.offset),
					     hamlet_strerror(r), twhy);
				continue;
			}
			toffs[nt++] = walk_at(wk, fr.offset);
			if (nt == TRUST_BATCH && wk->trust) {
				if ((r = wk->trust(wk, titems, toffs, nt)) < 0)
					goto out;
			}
			if (nt == TRUST_BATCH)
				nt = 0;
			continue;
		}
		/* the trust items before anything they judge */
		if (nt && wk->trust && (r = wk->trust(wk, titems, toffs, nt)) < 0)
			goto out;
		nt = 0;
		if (fr.type == BUNDLE_FRAME_TRAILER) {
			/* flush pending entries first: their reports come in order */
			if ((r = walk_flush(wk, in, offs, &nb, &own)) < 0)
				goto out;
			seen_trailer = 1;
			walk_trailer(rep, &fr, map);
			continue;
		}
		if (fr.type == BUNDLE_FRAME_RUN) {
			if ((r = walk_run(wk, &rd, &fr, run, in, offs, &nb,
					  &own)) < 0)
				goto out;
			continue;
		}
		/* an entry */
		struct bundle_entry be;
		if ((r = bundle_entry_parse(fr.payload, fr.len, &be)) < 0) {
			/* a damaged frame, counted as one: not an entry */
			rep->damaged_frames++;
			problems_add(&rep->problems, "damaged",
				     N_("entry frame at byte %zu is damaged (%s)"),
				     walk_at(wk, fr.offset), hamlet_strerror(r));
			/* its length may be what is damaged */
			bundle_reader_resync_from(&rd, fr.offset);
			continue;
		}
		rep->entries++;
		in[nb] = (struct log_in){ .env = be.env,
					  .env_len = be.env_len,
					  .sig = be.sig,
					  .body = be.body,
					  .body_len = be.body_len };
		offs[nb++] = walk_at(wk, fr.offset);
		if (nb == BATCH && (r = walk_flush(wk, in, offs, &nb, &own)) < 0)
			goto out;
	}
	if (nt && wk->trust && (r = wk->trust(wk, titems, toffs, nt)) < 0)
		goto out;
	if ((r = walk_flush(wk, in, offs, &nb, &own)) < 0)
		goto out;
	if (!seen_trailer && tail_bad)
		/* what ends the file does not read: a damaged trailer, as
		 * likely as a cut */
		problems_add(&rep->problems, "trailer",
			     N_("no trailer read: the last frame, at byte %zu, is damaged (it may have been the trailer), or the file is cut short"),
			     tail_bad - 1);
	else if (!seen_trailer)
		problems_add_text(
			&rep->problems, "trailer",
			bundle_trailer_state_text(BUNDLE_TRAILER_MISSING));
	r = 0;
out:
	owned_free(&own);
	free(own.v);
	free(run);
	free(in);
	free(offs);
	walk_buf_close(&buf);
	return r;
}

/*
 * The slot of key in the open-addressing table *ptab of *cap elements of
 * sz bytes, each starting with its 32-byte key (a zero key: an empty
 * slot; keys here are hashes), grown (from first_cap) to keep it at most
 * half full. Returns the element holding key, or an empty one that now
 * does (*ret_new 1, *used counted); NULL when out of memory.
 */
void *bundle__table_slot(void *ptab, size_t *cap, size_t *used, size_t sz,
			 size_t first_cap, const uint8_t key[32], int *ret_new)
{
	static const uint8_t zero[32];
	uint8_t **tab = ptab, *e;
	size_t h;

	if ((*used + 1) * 2 > *cap) {
		size_t nc = *cap ? *cap * 2 : first_cap;
		uint8_t *nt = calloc(nc, sz);
		if (!nt)
			return NULL;
		for (size_t i = 0; i < *cap; i++) {
			e = *tab + i * sz;
			if (!memcmp(e, zero, 32))
				continue;
			memcpy(&h, e, sizeof(h));
			for (h %= nc; memcmp(nt + h * sz, zero, 32); h = (h + 1) % nc)
				;
			memcpy(nt + h * sz, e, sz);
		}
		free(*tab);
		*tab = nt;
		*cap = nc;
	}
	memcpy(&h, key, sizeof(h));
	for (h %= *cap; memcmp(e = *tab + h * sz, zero, 32); h = (h + 1) % *cap)
		if (!memcmp(e, key, 32)) {
			*ret_new = 0;
			return e;
		}
	memcpy(e, key, 32);
	(*used)++;
	*ret_new = 1;
	return e;
}
