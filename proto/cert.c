#include "cert.h"
#include "why.h"

#include "entry.h"
#include "error.h"
#include "filekind.h"
#include "mp.h"
#include "sig.h"
#include "utf8.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CERT_SIG_PREFIX "hamlet cert v1\0"
#define CERT_SIG_PREFIX_LEN 15
#define CHAIN_MAGIC "HAMLETC\x01"
#define CHAIN_MAGIC_LEN 8
#define CERT_FIELDS 14 /* the certificate array, without its signature */

static const char *const role_names[] = {
	NULL, "village", "commune", "district", "province", "auditor",
};

const char *cert_role_name(int role)
{
	if (role < CERT_VILLAGE || role > CERT_AUDITOR)
		return NULL;
	return role_names[role];
}

int cert_role_parse(const char *name)
{
	for (int r = CERT_VILLAGE; r <= CERT_AUDITOR; r++)
		if (strcmp(name, role_names[r]) == 0)
			return r;
	return 0;
}

/* --- fields ------------------------------------------------------------ */

/* "" (every scope) or a valid scope. */
static int prefix_ok(const char *p)
{
	return p[0] == 0 || entry_scope_check(p) == 0;
}

int cert_check_fields(const struct cert *c, char *why, size_t wl)
{
	size_t nl = strlen(c->name);

	if (!cert_role_name(c->role)) {
		why_set(why, wl, N_("role %d is not one of village, commune, district, province, auditor"),
			 c->role);
		return HAMLET_EFORMAT;
	}
	if (nl == 0 || nl > CERT_MAX_NAME) {
		why_set(why, wl, N_("the name must be 1 to %d bytes"),
			 CERT_MAX_NAME);
		return HAMLET_EFORMAT;
	}
	{
		/* UTF-8 (RFC 3629), no control character, as SPEC 6 says:
		 * not even tab or newline, which text elsewhere may hold */
		size_t at;
		for (size_t i = 0; i < nl; i++)
			if ((unsigned char)c->name[i] < 0x20) {
				why_set(why, wl,
					N_("the name holds a control character"));
				return HAMLET_EFORMAT;
			}
		switch (utf8_check(c->name, nl, 0, &at)) {
		case UTF8_OK:
			break;
		case UTF8_CONTROL:
			why_set(why, wl, N_("the name holds a control character"));
			return HAMLET_EFORMAT;
		default:
			why_set(why, wl,
				N_("the name is not UTF-8 text (byte %zu)"),
				at + 1);
			return HAMLET_EFORMAT;
		}
	}
	if (c->nread > CERT_MAX_PREFIXES || c->nwrite > CERT_MAX_PREFIXES ||
	    c->ncollections > CERT_MAX_COLLECTIONS) {
		why_set(why, wl, N_("more than %d prefixes or %d collections"),
			 CERT_MAX_PREFIXES, CERT_MAX_COLLECTIONS);
		return HAMLET_EFORMAT;
	}
	for (size_t i = 0; i < c->nread; i++)
		if (!prefix_ok(c->read[i])) {
			why_set(why, wl, N_("read prefix \"%s\" is not a scope"),
				 c->read[i]);
			return HAMLET_EFORMAT;
		}
	for (size_t i = 0; i < c->nwrite; i++)
		if (!prefix_ok(c->write[i])) {
			why_set(why, wl, N_("write prefix \"%s\" is not a scope"),
				 c->write[i]);
			return HAMLET_EFORMAT;
		}
	for (size_t i = 0; i < c->ncollections; i++)
		if (entry_collection_check(c->collections[i]) < 0) {
			why_set(why, wl, N_("\"%s\" is not a collection name"),
				 c->collections[i]);
			return HAMLET_EFORMAT;
		}
	if (c->role == CERT_AUDITOR && c->nwrite) {
		why_set(why, wl, N_("an auditor's certificate grants no writing"));
		return HAMLET_EFORMAT;
	}
	if (c->expires_ms && c->expires_ms <= c->not_before_ms) {
		why_set(why, wl, N_("it expires before it is valid"));
		return HAMLET_EFORMAT;
	}
	return 0;
}

/* --- encoding ---------------------------------------------------------- */

static void pack_strs(msgpack_packer *pk, const char *v, size_t stride,
		      size_t n)
{
	msgpack_pack_array(pk, n);
	for (size_t i = 0; i < n; i++)
		mp_pack_str(pk, v + i * stride);
}

/* The signed part: a msgpack array of CERT_FIELDS. */
static void pack_body(msgpack_packer *pk, const struct cert *c)
{
	msgpack_pack_array(pk, CERT_FIELDS);
	msgpack_pack_uint64(pk, CERT_VERSION);
	mp_pack_bin(pk, c->network_id, 32);
	mp_pack_bin(pk, c->issuer, 32);
	mp_pack_bin(pk, c->subject, 32);
	mp_pack_str(pk, c->name);
	msgpack_pack_uint64(pk, (uint64_t)c->role);
	pack_strs(pk, c->read[0], sizeof(c->read[0]), c->nread);
	pack_strs(pk, c->write[0], sizeof(c->write[0]), c->nwrite);
	pack_strs(pk, c->collections[0], sizeof(c->collections[0]),
		  c->ncollections);
	msgpack_pack_uint64(pk, c->not_before_ms);
	msgpack_pack_uint64(pk, c->expires_ms);
	if (c->delegate)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	mp_pack_bin(pk, c->serial, 16);
	msgpack_pack_nil(pk); /* reserved: revocations and extensions */
}

int cert_sign(const struct cert *c, const uint8_t sk[64], uint8_t **ret,
	      size_t *ret_len)
{
	struct mp_writer body, out;
	uint8_t sig[64];
	char why[512];
	int r;

	if ((r = cert_check_fields(c, why, sizeof(why))) < 0)
		return r;
	if (memcmp(sk + 32, c->issuer, 32) != 0)
		return -EINVAL; /* libsodium keeps the public half there */
	mp_writer_init(&body);
	pack_body(&body.pk, c);
	if (body.sb.size > CERT_MAX_BYTES - 80) {
		mp_writer_destroy(&body);
		return HAMLET_ETOOBIG;
	}
	if ((r = sig_sign(CERT_SIG_PREFIX, CERT_SIG_PREFIX_LEN,
			  (const uint8_t *)body.sb.data, body.sb.size, sk,
			  sig)) < 0) {
		mp_writer_destroy(&body);
		return r;
	}
	mp_writer_init(&out);
	msgpack_pack_array(&out.pk, 2);
	mp_pack_bin(&out.pk, body.sb.data, body.sb.size);
	mp_pack_bin(&out.pk, sig, 64);
	mp_writer_destroy(&body);
	*ret = mp_writer_take(&out, ret_len);
	mp_writer_destroy(&out);
	return *ret ? 0 : -ENOMEM;
}

/* --- decoding ---------------------------------------------------------- */

static int get_strs(const msgpack_object *o, size_t max, char *v,
		    size_t stride, size_t *ret_n)
{
	const msgpack_object *it;
	size_t n;
	int r;

	if ((r = mp_get_array(o, SIZE_MAX, max, &it, &n)) < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if ((r = mp_get_cstr(&it[i], v + i * stride, stride)) < 0)
			return r;
	*ret_n = n;
	return 0;
}

/* The body's fields into c, naming the one at fault (SPEC 6, 1.3). */
static int decode_body(const uint8_t *b, size_t len, struct cert *c,
		       char *why, size_t whylen)
{
	struct mp_doc d;
	const msgpack_object *f;
	uint64_t v, role;
	size_t nf;
	int r, parsed = 0;

	CHECK(mp_doc_parse(&d, b, len, 64),
	      N_("the certificate's body is not one msgpack value of at most 64 items"));
	parsed = 1;
	CHECK(mp_get_array(d.root, SIZE_MAX, 64, &f, &nf),
	      N_("the certificate's body is not an array"));
	/* the version first, whatever follows it */
	if (nf < 1)
		FAULT(HAMLET_EFORMAT, N_("the certificate's body is empty"));
	CHECK(mp_get_uint(&f[0], UINT64_MAX, &v),
	      N_("the certificate's version is not a uint"));
	if (v != CERT_VERSION)
		FAULT(HAMLET_EVERSION,
		      N_("the certificate is of version %llu; this hamlet reads version %d"),
		      (unsigned long long)v, CERT_VERSION);
	if (nf != CERT_FIELDS)
		FAULT(HAMLET_EFORMAT,
		      N_("the certificate's body has %zu fields, not %d"), nf,
		      CERT_FIELDS);
	CHECK(mp_get_bin_fixed(&f[1], 32, c->network_id),
	      N_("the certificate's network_id is not a 32-byte bin"));
	CHECK(mp_get_bin_fixed(&f[2], 32, c->issuer),
	      N_("the certificate's issuer is not a 32-byte bin"));
	CHECK(mp_get_bin_fixed(&f[3], 32, c->subject),
	      N_("the certificate's subject is not a 32-byte bin"));
	CHECK(mp_get_cstr(&f[4], c->name, sizeof(c->name)),
	      N_("the certificate's name is not a string of at most %d bytes"),
	      CERT_MAX_NAME);
	CHECK(mp_get_uint(&f[5], UINT64_MAX, &role),
	      N_("the certificate's role is not a uint"));
	if (role < CERT_VILLAGE || role > CERT_AUDITOR)
		FAULT(HAMLET_EFORMAT,
		      N_("the certificate's role %llu is not 1 (village), 2 (commune), 3 (district), 4 (province) or 5 (auditor)"),
		      (unsigned long long)role);
	CHECK(get_strs(&f[6], CERT_MAX_PREFIXES, c->read[0],
		       sizeof(c->read[0]), &c->nread),
	      N_("the certificate's read is not a list of at most %d prefixes of at most %d bytes"),
	      CERT_MAX_PREFIXES, CERT_SCOPE_MAX);
	CHECK(get_strs(&f[7], CERT_MAX_PREFIXES, c->write[0],
		       sizeof(c->write[0]), &c->nwrite),
	      N_("the certificate's write is not a list of at most %d prefixes of at most %d bytes"),
	      CERT_MAX_PREFIXES, CERT_SCOPE_MAX);
	CHECK(get_strs(&f[8], CERT_MAX_COLLECTIONS, c->collections[0],
		       sizeof(c->collections[0]), &c->ncollections),
	      N_("the certificate's collections is not a list of at most %d names of at most %d bytes"),
	      CERT_MAX_COLLECTIONS, ENTRY_MAX_COLLECTION);
	CHECK(mp_get_uint(&f[9], UINT64_MAX, &c->not_before_ms),
	      N_("the certificate's not_before is not a uint"));
	CHECK(mp_get_uint(&f[10], UINT64_MAX, &c->expires_ms),
	      N_("the certificate's expires is not a uint"));
	CHECK(mp_get_bool(&f[11], &c->delegate),
	      N_("the certificate's delegate is not a bool"));
	CHECK(mp_get_bin_fixed(&f[12], 16, c->serial),
	      N_("the certificate's serial is not a 16-byte bin"));
	if (!mp_is_nil(&f[13]))
		FAULT(HAMLET_EFORMAT,
		      N_("the certificate's last field (reserved) is not nil"));
	c->role = (int)role;
	r = 0;
out:
	if (parsed)
		mp_doc_close(&d);
	return r;
}

int cert_decode(const uint8_t *buf, size_t len, struct cert *ret,
		uint8_t ret_id[32])
{
	return cert_decode_why(buf, len, ret, ret_id, NULL, 0);
}

static int decode(const uint8_t *buf, size_t len, struct cert *ret,
		  uint8_t ret_id[32], char *why, size_t whylen, int verify);

int cert_decode_why(const uint8_t *buf, size_t len, struct cert *ret,
		    uint8_t ret_id[32], char *why, size_t whylen)
{
	return decode(buf, len, ret, ret_id, why, whylen, 1);
}

int cert_decode_verified(const uint8_t *buf, size_t len, struct cert *ret)
{
	return decode(buf, len, ret, NULL, NULL, 0, 0);
}

static int decode(const uint8_t *buf, size_t len, struct cert *ret,
		  uint8_t ret_id[32], char *why, size_t whylen, int verify)
{
	struct mp_doc d;
	const msgpack_object *a;
	const uint8_t *body, *sig;
	size_t bl, sl;
	int r, parsed = 0;

	memset(ret, 0, sizeof(*ret));
	if (why && whylen)
		why[0] = 0;
	if (len > CERT_MAX_BYTES)
		FAULT(HAMLET_ETOOBIG,
		      N_("the certificate is %zu bytes, over its limit of %d"),
		      len, CERT_MAX_BYTES);
	CHECK(mp_doc_parse(&d, buf, len, 4),
	      N_("the certificate is not one msgpack value"));
	parsed = 1;
	CHECK(mp_get_array(d.root, 2, 0, &a, NULL),
	      N_("the certificate is not [body, signature]"));
	CHECK(mp_get_bin(&a[0], CERT_MAX_BYTES, &body, &bl),
	      N_("the certificate's body is not a bin of at most %d bytes"),
	      CERT_MAX_BYTES);
	CHECK(mp_get_bin(&a[1], 64, &sig, &sl),
	      N_("the certificate's signature is not a 64-byte bin"));
	if (sl != 64)
		FAULT(HAMLET_EFORMAT,
		      N_("the certificate's signature is not a 64-byte bin"));
	if ((r = decode_body(body, bl, ret, why, whylen)) < 0)
		goto out;
	{
		char fw[160];
		if ((r = cert_check_fields(ret, fw, sizeof(fw))) < 0)
			FAULT(r, N_("the certificate breaks a rule: %s"), fw);
	}
	if (verify && (r = sig_verify(CERT_SIG_PREFIX, CERT_SIG_PREFIX_LEN,
				      body, bl, sig, ret->issuer)) < 0)
		FAULT(r, N_("the certificate's signature does not verify under its issuer's key"));
	if (ret_id) {
		/* over the signed body and the signature, not the outer
		 * msgpack, so a re-encoding cannot make a new id */
		crypto_generichash_state h;
		crypto_generichash_init(&h, NULL, 0, 32);
		crypto_generichash_update(&h, body, bl);
		crypto_generichash_update(&h, sig, 64);
		crypto_generichash_final(&h, ret_id, 32);
	}
	r = 0;
out:
	if (parsed)
		mp_doc_close(&d);
	if (r < 0)
		memset(ret, 0, sizeof(*ret));
	return r;
}

/* --- chains ------------------------------------------------------------ */

int cert_chain_encode(const uint8_t *const *certs, const size_t *lens,
		      size_t n, uint8_t **ret, size_t *ret_len)
{
	struct mp_writer w;

	if (n == 0 || n > CERT_MAX_CHAIN)
		return -EINVAL;
	mp_writer_init(&w);
	msgpack_sbuffer_write(&w.sb, CHAIN_MAGIC, CHAIN_MAGIC_LEN);
	msgpack_pack_array(&w.pk, n);
	for (size_t i = 0; i < n; i++)
		mp_pack_bin(&w.pk, certs[i], lens[i]);
	*ret = mp_writer_take(&w, ret_len);
	mp_writer_destroy(&w);
	return *ret ? 0 : -ENOMEM;
}

int cert_chain_decode(const uint8_t *buf, size_t len, struct cert_chain *ret)
{
	return cert_chain_decode_why(buf, len, ret, NULL, 0);
}

int cert_chain_decode_why(const uint8_t *buf, size_t len,
			  struct cert_chain *ret, char *why, size_t whylen)
{
	struct mp_doc d;
	const msgpack_object *it;
	size_t n;
	int r, parsed = 0;

	memset(ret, 0, sizeof(*ret));
	if (why && whylen)
		why[0] = 0;
	if (len > CERT_CHAIN_MAX_BYTES)
		FAULT(HAMLET_ETOOBIG,
		      N_("the chain file is %zu bytes, over its limit of %d"),
		      len, (int)CERT_CHAIN_MAX_BYTES);
	if (len < CHAIN_MAGIC_LEN || memcmp(buf, CHAIN_MAGIC, 7) != 0) {
		struct filekind fk;
		if (filekind_of(buf, len, &fk))
			/* a bundle or network file off the stick */
			FAULT(HAMLET_EFORMAT, N_("it is %s, not a certificate: %s"),
			      why_translate(fk.is), why_translate(fk.use));
		FAULT(HAMLET_EFORMAT,
		      N_("it does not start as a certificate does (with the bytes HAMLETC that \"hamlet cert issue --out FILE\" writes): a network file, a key or a bundle is no certificate"));
	}
	if (buf[7] != CHAIN_MAGIC[7])
		FAULT(HAMLET_EVERSION,
		      N_("the chain file is of version %d; this hamlet reads version %d"),
		      buf[7], CHAIN_MAGIC[7]);
	if ((r = mp_doc_parse(&d, buf + CHAIN_MAGIC_LEN, len - CHAIN_MAGIC_LEN,
			      CERT_MAX_CHAIN)) < 0)
		FAULT(r, r == HAMLET_ETOOBIG
				 ? N_("the chain holds more than %d certificates")
				 : N_("the chain is not one msgpack list (of at most %d certificates)"),
		      CERT_MAX_CHAIN);
	parsed = 1;
	if ((r = mp_get_array(d.root, SIZE_MAX, CERT_MAX_CHAIN, &it, &n)) < 0)
		FAULT(r, r == HAMLET_ETOOBIG
				 ? N_("the chain holds more than %d certificates")
				 : N_("the chain is not a list of at most %d certificates"),
		      CERT_MAX_CHAIN);
	if (n == 0)
		FAULT(HAMLET_EFORMAT, N_("the chain holds no certificate"));
	for (size_t i = 0; i < n; i++) {
		const uint8_t *b;
		size_t bl;
		char cw[512];
		CHECK(mp_get_bin(&it[i], CERT_MAX_BYTES, &b, &bl),
		      N_("certificate %zu of the chain is not a bin of at most %d bytes"),
		      i + 1, CERT_MAX_BYTES);
		if ((r = cert_decode_why(b, bl, &ret->c[i], ret->id[i], cw,
					 sizeof(cw))) < 0)
			FAULT(r, N_("certificate %zu of the chain: %s"), i + 1,
			      cw);
		if (b < buf || b + bl > buf + len) /* the parser borrows from buf */
			FAULT(HAMLET_EFORMAT,
			      N_("the chain is not one msgpack list (of at most %d certificates)"),
			      CERT_MAX_CHAIN);
		ret->off[i] = (size_t)(b - buf);
		ret->len[i] = bl;
	}
	ret->n = n;
	r = 0;
out:
	if (parsed)
		mp_doc_close(&d);
	if (r < 0)
		memset(ret, 0, sizeof(*ret));
	return r;
}

/* 1 when every prefix of child lies under one of parent's. */
/* The first of child's prefixes that none of parent's holds, or NULL. */
static const char *prefix_outside(const char (*child)[CERT_SCOPE_MAX + 1],
				  size_t nc,
				  const char (*parent)[CERT_SCOPE_MAX + 1],
				  size_t np)
{
	for (size_t i = 0; i < nc; i++) {
		int in = 0;
		for (size_t j = 0; j < np && !in; j++)
			in = entry_scope_under(child[i], parent[j]);
		if (!in)
			return child[i];
	}
	return NULL;
}

/* Prefixes as "bk/a, bk/b" ("*": the whole network), cut to n bytes. */
static void prefixes_text(const char (*p)[CERT_SCOPE_MAX + 1], size_t np,
			  char *out, size_t n)
{
	size_t k = 0;

	out[0] = '\0';
	for (size_t i = 0; i < np && k < n; i++) {
		int w = snprintf(out + k, n - k, "%s%s", i ? ", " : "",
				 p[i][0] ? p[i] : "*");
		if (w < 0)
			break;
		k += (size_t)w;
	}
}

/* why: which scope or collection of c lies outside up's grant. */
static void grant_outside(const struct cert *c, const struct cert *up,
			  const char *who, char *why, size_t wl)
{
	char held[CERT_MAX_PREFIXES * (CERT_SCOPE_MAX + 3)];
	const char *s;

	if ((s = prefix_outside(c->read, c->nread, up->read, up->nread))) {
		prefixes_text(up->read, up->nread, held, sizeof(held));
		why_set(why, wl,
			N_("%s lets its holder read %s, outside what its issuer \"%s\" may read (%s)"),
			who, s[0] ? s : "*", up->name, held);
	} else if ((s = prefix_outside(c->write, c->nwrite, up->write,
				       up->nwrite))) {
		prefixes_text(up->write, up->nwrite, held, sizeof(held));
		why_set(why, wl,
			N_("%s lets its holder write %s, outside what its issuer \"%s\" may write (%s)"),
			who, s[0] ? s : "*", up->name, held);
	} else if (c->ncollections == 0) {
		why_set(why, wl,
			N_("%s lets its holder write every collection, but its issuer \"%s\" may write only some"),
			who, up->name);
	} else {
		for (size_t i = 0; i < c->ncollections; i++) {
			int in = 0;
			for (size_t j = 0; j < up->ncollections && !in; j++)
				in = strcmp(c->collections[i],
					    up->collections[j]) == 0;
			if (!in) {
				why_set(why, wl,
					N_("%s lets its holder write the collection %s, which its issuer \"%s\" may not write"),
					who, c->collections[i], up->name);
				return;
			}
		}
	}
}

static int collections_within(const struct cert *child,
			      const struct cert *parent)
{
	if (parent->ncollections == 0)
		return 1; /* the parent may write every collection */
	if (child->ncollections == 0)
		return 0;
	for (size_t i = 0; i < child->ncollections; i++) {
		int in = 0;
		for (size_t j = 0; j < parent->ncollections && !in; j++)
			in = strcmp(child->collections[i],
				    parent->collections[j]) == 0;
		if (!in)
			return 0;
	}
	return 1;
}

/* ms since 1970 as "2026-12-05 17:00 UTC". */
static void utc_text(uint64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	if (!gmtime_r(&t, &tm) ||
	    strftime(out, 32, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(out, 32, "?");
}

#define WHO_MAX 160

/* "certificate i + 1 of the chain" and its name, in buf: made only for
 * a chain that fails, as one is checked for every entry that arrives. */
static const char *who(char buf[WHO_MAX], size_t i, const struct cert *c)
{
	snprintf(buf, WHO_MAX,
		 why_translate(N_("certificate %zu of the chain (\"%s\")")),
		 i + 1, c->name);
	return buf;
}

int cert_chain_check(const struct cert_chain *ch,
		     const uint8_t network_id[32], const uint8_t root[32],
		     uint64_t now_ms, char *why, size_t wl)
{
	if (ch->n == 0 || ch->n > CERT_MAX_CHAIN) {
		why_set(why, wl, N_("no certificate"));
		return HAMLET_ECERT;
	}
	for (size_t i = 0; i < ch->n; i++) {
		const struct cert *c = &ch->c[i];
		const struct cert *up = i + 1 < ch->n ? &ch->c[i + 1] : NULL;
		char buf[WHO_MAX]; /* named only when the check fails */
		if (memcmp(c->network_id, network_id, 32) != 0) {
			why_set(why, wl, N_("%s is for another network"),
				who(buf, i, c));
			return HAMLET_ECERT;
		}
		if (now_ms < c->not_before_ms) {
			/* days early is most often a clock days behind:
			 * both dates tell the reader which */
			char from[32], clock[32];
			utc_text(c->not_before_ms, from);
			utc_text(now_ms, clock);
			why_set(why, wl,
				N_("%s is not valid yet: it holds from %s, and this PC's clock says %s; check this PC's date and time (or, if that start was chosen ahead with cert issue --from, install it from that day on: a renewal issued without --from holds at once)"),
				who(buf, i, c), from, clock);
			return HAMLET_ECERT;
		}
		if (c->expires_ms && now_ms >= c->expires_ms) {
			char until[32];
			utc_text(c->expires_ms, until);
			why_set(why, wl, N_("%s has expired: it held until %s"),
				who(buf, i, c), until);
			return HAMLET_ECERT;
		}
		if (!up) {
			if (memcmp(c->issuer, root, 32) != 0) {
				why_set(why, wl,
					 N_("%s is not signed by the network's root key"),
					 who(buf, i, c));
				return HAMLET_ECERT;
			}
			continue;
		}
		if (memcmp(c->issuer, up->subject, 32) != 0) {
			why_set(why, wl,
				 N_("%s is not signed by the next one's subject"),
				 who(buf, i, c));
			return HAMLET_ECERT;
		}
		if (!up->delegate) {
			why_set(why, wl,
				 N_("%s is signed by \"%s\", which may not certify others"),
				 who(buf, i, c), up->name);
			return HAMLET_ECERT;
		}
		if (prefix_outside(c->read, c->nread, up->read, up->nread) ||
		    prefix_outside(c->write, c->nwrite, up->write,
				   up->nwrite) ||
		    !collections_within(c, up)) {
			grant_outside(c, up, who(buf, i, c), why, wl);
			return HAMLET_ECERT;
		}
	}
	return 0;
}

int cert_may_read(const struct cert *c, const char *scope)
{
	for (size_t i = 0; i < c->nread; i++)
		if (entry_scope_under(scope, c->read[i]))
			return 1;
	return 0;
}

int cert_may_write(const struct cert *c, const char *scope,
		   const char *collection)
{
	int in = c->ncollections == 0;
	for (size_t i = 0; i < c->ncollections && !in; i++)
		in = strcmp(collection, c->collections[i]) == 0;
	if (!in)
		return 0;
	for (size_t i = 0; i < c->nwrite; i++)
		if (entry_scope_under(scope, c->write[i]))
			return 1;
	return 0;
}

void cert_chain_span(const struct cert_chain *ch, uint64_t *from,
		     uint64_t *to)
{
	*from = 0;
	*to = UINT64_MAX;
	for (size_t k = 0; k < ch->n; k++) {
		if (ch->c[k].not_before_ms > *from)
			*from = ch->c[k].not_before_ms;
		if (ch->c[k].expires_ms && ch->c[k].expires_ms < *to)
			*to = ch->c[k].expires_ms;
	}
}

size_t cert_chain_first_end(const struct cert_chain *ch)
{
	size_t at = ch->n;

	for (size_t k = 0; k < ch->n; k++)
		if (ch->c[k].expires_ms &&
		    (at == ch->n || ch->c[k].expires_ms <= ch->c[at].expires_ms))
			at = k;
	return at;
}

int cert_chain_never_valid(const struct cert_chain *ch,
			   const uint8_t network_id[32],
			   const uint8_t root[32])
{
	uint64_t from, to;

	cert_chain_span(ch, &from, &to);
	return from >= to ||
	       cert_chain_check(ch, network_id, root, from, NULL, 0) < 0;
}
