/*
 * node_cert: the network's root key file, and a node's certificate
 * chain: loading and checking it (home/node.cert), installing it, and
 * adding its certificates to the node's trust set.
 */
#include "node_internal.h"
#include "homefile.h"
#include "why.h"

#include "error.h"
#include "hlc.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- the root key and certificates ------------------------------------ */

int root_key_loose(const char *path, char *why, size_t whylen)
{
	struct stat st;

	if (stat(path, &st) < 0 || !(st.st_mode & 077))
		return 0;
	why_set(why, whylen,
		N_("%s is mode %04o: users of this PC other than you can read the network's ROOT KEY, which certifies any PC for everything: make it yours alone (chmod 600 %s), and keep it on the offline PC"),
		path, (unsigned)(st.st_mode & 07777), path);
	return 1;
}

int root_key_load(const char *path, uint8_t ret_network_id[32],
		  uint8_t ret_pk[32], uint8_t **ret_sk, char *why,
		  size_t whylen)
{
	static const char *const keys[] = { "network", "network_id",
					    "secret_key", NULL };
	char *vals[3] = { 0 };
	uint8_t *sk = node__crypto_ready() < 0 ? NULL : sodium_malloc(64);
	uint8_t pk[32];
	int r;

	if (!sk)
		return -ENOMEM;
	if ((r = node__ini_read(path, "root", keys, vals, NULL, why, whylen)) < 0)
		goto out;
	r = HAMLET_ECONFIG;
	if (hex_decode(vals[1], ret_network_id, 32) < 0 ||
	    hex_decode(vals[2], sk, 64) < 0) {
		why_set(why, whylen,
			 N_("%s: network_id and secret_key must be 64 and 128 hex digits"),
			 path);
		goto out;
	}
	/* the secret key's second half is its public key: check the pair */
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	if (memcmp(pk, sk + 32, 32) != 0) {
		why_set(why, whylen, N_("%s: secret_key is not a key pair"), path);
		goto out;
	}
	memcpy(ret_pk, pk, 32);
	*ret_sk = sk;
	sk = NULL;
	r = 0;
out:
	node__ini_free(vals, 3);
	if (sk) {
		sodium_memzero(sk, 64);
		sodium_free(sk);
	}
	return r;
}

#define CERT_FILE_MAX CERT_CHAIN_MAX_BYTES

static int read_small(const char *path, uint8_t **ret, size_t *ret_len)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size > CERT_FILE_MAX) {
		e = st.st_size > CERT_FILE_MAX ? HAMLET_ETOOBIG : -errno;
		close(fd);
		return e;
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	close(fd);
	*ret = buf;
	*ret_len = got;
	return 0;
}

/* Decode chain bytes and check them for n. */
static int chain_for(const struct node *n, const uint8_t *buf, size_t len,
		     uint64_t now_ms, struct cert_chain *ch, char *why,
		     size_t whylen)
{
	char cw[512];
	int r;

	if ((r = cert_chain_decode_why(buf, len, ch, cw, sizeof(cw))) < 0) {
		why_set(why, whylen, N_("not a certificate chain: %s"), cw);
		return r;
	}
	if (memcmp(ch->c[0].subject, n->pk, 32) != 0) {
		why_set(why, whylen,
			 N_("the certificate is for another node's key"));
		return HAMLET_ECERT;
	}
	return cert_chain_check(ch, n->net.id, n->net.root_pk, now_ms, why,
				whylen);
}

/* HAMLET_EREVOKED, with why, when n's trust set revokes n's key or an
 * issuer of ch that does not keep the certificate below it. */
static int own_revoked(const struct node *n, const struct cert_chain *ch,
		       char *why, size_t whylen)
{
	struct store_txn *t;
	char w[1024];
	int r;

	if (!n->st || (r = store_txn_begin(n->st, 1, &t)) < 0)
		return 0; /* no store to hold a revocation */
	r = trustset_revoked(t, n->pk, NULL, w, sizeof(w));
	if (r == HAMLET_EREVOKED) {
		why_set(why, whylen,
			 N_("this node's key is revoked: every other node refuses what it writes from now on; the node needs a new key and certificate (hamlet init on a new home, then a certificate for its new key)"));
	} else if (r == 0 &&
		   (r = trustset_revoked(t, n->pk, ch, w, sizeof(w))) ==
			   HAMLET_EREVOKED) {
		why_set(why, whylen,
			 N_("this node's certificate no longer holds: %s; it needs a new certificate from an administrator whose key is not revoked"),
			 why_translate(w));
	}
	store_txn_abort(t);
	return r == HAMLET_EREVOKED ? r : 0;
}

/*
 * The chain in *buf (a chain file, this node's installed one) with each
 * issuer's certificate replaced by a renewal of it the trust set holds,
 * when that makes it hold at now_ms, or hold longer
 * (trustset_chain_best()): *buf and *len are then the new chain's
 * bytes (the old ones freed). Without a store, or nothing better, they
 * stay. node.cert itself is not rewritten: what it carries is what the
 * administrator installed.
 */
static int chain_renewed(const struct node *n, uint64_t now_ms,
			 uint8_t **buf, size_t *len)
{
	struct cert_chain *ch = malloc(sizeof(*ch)),
			  *best = malloc(sizeof(*best));
	const uint8_t *certs[CERT_MAX_CHAIN];
	size_t lens[CERT_MAX_CHAIN];
	struct store_txn *t = NULL;
	uint8_t *out = NULL;
	size_t out_len = 0;
	int r;

	if (!ch || !best) {
		r = -ENOMEM;
		goto out;
	}
	if (!n->st || cert_chain_decode(*buf, *len, ch) < 0) {
		r = 0;
		goto out;
	}
	if ((r = store_txn_begin(n->st, 1, &t)) < 0)
		goto out;
	if ((r = trustset_chain_best(t, ch, now_ms, best)) <= 0)
		goto out;
	/* the leaf from the file (it need not be in the set), the rest
	 * from the set; the bytes borrow from t: encoded before it ends */
	certs[0] = *buf + ch->off[0];
	lens[0] = ch->len[0];
	for (size_t i = 1; i < best->n; i++) {
		uint8_t key[TRUSTSET_KEY] = { TRUST_CERT };
		memcpy(key + 1, best->id[i], 32);
		if ((r = trustset_get(t, key, &certs[i], &lens[i])) < 0)
			goto out;
	}
	if ((r = cert_chain_encode(certs, lens, best->n, &out, &out_len)) < 0)
		goto out;
	free(*buf);
	*buf = out;
	*len = out_len;
	r = 0;
out:
	store_txn_abort(t);
	free(best);
	free(ch);
	return r;
}

int node_cert_load(const struct node *n, uint64_t now_ms,
		   struct cert_chain *ret, uint8_t **ret_bytes,
		   size_t *ret_len, char *why, size_t whylen)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	char *p = node__path_join(n->home, NODE_CERT_FILE), cw[512];
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!p)
		return -ENOMEM;
	if ((r = read_small(p, &buf, &len)) < 0) {
		if (r == -ENOENT) {
			why_set(why, whylen,
				 N_("this node has no certificate (%s): an administrator signs one with \"hamlet cert issue\", then \"hamlet cert install FILE\""),
				 p);
			r = HAMLET_ENOTFOUND;
		} else {
			why_set(why, whylen, N_("cannot read %s: %s"), p,
				 why_translate(hamlet_strerror(r)));
		}
		free(p);
		return r;
	}
	/* the file itself damaged (cut short by a copy that stopped, say):
	 * named, since it is what to replace */
	if ((r = cert_chain_decode_why(buf, len, ret, cw, sizeof(cw))) < 0) {
		why_set(why, whylen,
			N_("%s is damaged: it is not a certificate chain (%s; a copy cut short?): install this node's certificate again with \"hamlet cert install FILE\""),
			p, cw);
	} else {
		/* an issuer's certificate renewed since the install: the
		 * chain runs through the renewal the trust set holds */
		/* a store that cannot be read for it: the chain as
		 * installed, as before any renewal (never no chain at all) */
		if (memcmp(ret->c[0].subject, n->pk, 32) == 0)
			(void)chain_renewed(n, now_ms, &buf, &len);
		r = chain_for(n, buf, len, now_ms, ret, why, whylen);
	}
	if (r == 0)
		r = own_revoked(n, ret, why, whylen);
	if (r == 0 && ret_bytes) {
		*ret_bytes = buf;
		*ret_len = len;
		buf = NULL;
	}
	free(buf);
	free(p);
	return r;
}

int node_cert_stale(const struct node *n, uint64_t now_ms,
		    struct cert_chain *ret, uint8_t **ret_bytes,
		    size_t *ret_len)
{
	const struct cert *own = &ret->c[0];
	uint8_t *buf = NULL;
	size_t len = 0;
	char *p = node__path_join(n->home, NODE_CERT_FILE), why[300];
	int r, ended = 0;

	memset(ret, 0, sizeof(*ret));
	if (!p)
		return -ENOMEM;
	r = read_small(p, &buf, &len);
	free(p);
	if (r < 0)
		return r;
	if ((r = cert_chain_decode(buf, len, ret)) < 0)
		goto out;
	r = HAMLET_ECERT;
	if (memcmp(own->subject, n->pk, 32) != 0 || now_ms < own->not_before_ms ||
	    (own->expires_ms && now_ms >= own->expires_ms))
		goto out;
	for (size_t i = 1; i < ret->n; i++)
		ended |= ret->c[i].expires_ms && now_ms >= ret->c[i].expires_ms;
	if (!ended ||
	    cert_chain_never_valid(ret, n->net.id, n->net.root_pk) ||
	    own_revoked(n, ret, why, sizeof(why)) != 0)
		goto out;
	*ret_bytes = buf;
	*ret_len = len;
	buf = NULL;
	r = 0;
out:
	free(buf);
	return r;
}

void node_reader(const struct node *n, struct cert_chain *ch,
		 struct log_reader *ret)
{
	char why[1024];
	int r = node_cert_load(n, hlc_wall_ms(), ch, NULL, NULL, why,
			       sizeof(why));

	ret->map = n->smap;
	ret->grant = r == 0 || r == HAMLET_EREVOKED ? &ch->c[0] : NULL;
	ret->scope = n->scope;
	ret->pk = n->pk;
}

int node_cert_install(const struct node *n, const uint8_t *buf, size_t len,
		      uint64_t now_ms, char *why, size_t whylen)
{
	struct cert_chain ch;
	char *p;
	int r;

	if ((r = chain_for(n, buf, len, now_ms, &ch, why, whylen)) < 0)
		return r;
	if (!(p = node__path_join(n->home, NODE_CERT_FILE)))
		return -ENOMEM;
	if ((r = node__write_bytes(p, buf, len, 0644)) < 0)
		why_set(why, whylen, N_("cannot write %s: %s"), p, strerror(-r));
	else
		homefile_dir_sync(p);
	free(p);
	return r;
}

/* Add the certificates of ch, decoded from buf, to n's trust set;
 * *ret_refused 1 when the trust set refused one (why says which and
 * why), rather than the store failing. */
static int trust_chain_add(const struct node *n, const uint8_t *buf,
			   const struct cert_chain *ch, int *ret_refused,
			   char *why, size_t whylen)
{
	struct trustset_item it[CERT_MAX_CHAIN];
	struct trustset_out out[CERT_MAX_CHAIN];
	int r;

	*ret_refused = 0;
	for (size_t i = 0; i < ch->n; i++) {
		it[i].kind = TRUST_CERT;
		it[i].data = buf + ch->off[i];
		it[i].len = ch->len[i];
	}
	if ((r = log_trust_ingest(n->st, n->net.id, it, ch->n, out, NULL,
				  NULL)) < 0) {
		why_set(why, whylen, N_("cannot add the chain to the store: %s"),
			 why_translate(hamlet_strerror(r)));
		return r;
	}
	for (size_t i = 0; i < ch->n; i++)
		if (out[i].status == TRUSTSET_REFUSED) {
			why_set(why, whylen, N_("certificate %zu of the chain: %s"),
				 i + 1, out[i].why);
			*ret_refused = 1;
			return out[i].err;
		}
	return 0;
}

int node_trust_chain(const struct node *n, const uint8_t *buf, size_t len,
		     char *why, size_t whylen)
{
	struct cert_chain *ch = malloc(sizeof(*ch));
	int r, refused;

	if (!ch)
		return -ENOMEM;
	if ((r = cert_chain_decode(buf, len, ch)) < 0)
		why_set(why, whylen, N_("not a certificate chain: %s"),
			why_translate(hamlet_strerror(r)));
	else
		r = trust_chain_add(n, buf, ch, &refused, why, whylen);
	free(ch);
	return r;
}

int node_trust_seed(const struct node *n)
{
	char *p = node__path_join(n->home, NODE_CERT_FILE);
	struct cert_chain *ch = malloc(sizeof(*ch));
	uint8_t *buf = NULL;
	size_t len;
	char why[1024];
	int r, refused = 0;

	if (!p || !ch) {
		r = -ENOMEM;
		goto out;
	}
	/* a file that cannot be read or decoded seeds nothing, and is no
	 * fault of the store: node_cert_load() names it to whoever looks
	 * (hamletd's ready line, hamlet status), as with no file at all */
	if ((r = read_small(p, &buf, &len)) < 0 ||
	    (r = cert_chain_decode(buf, len, ch)) < 0) {
		r = r == -ENOMEM ? r : 0;
		goto out;
	}
	r = node_chain_known(n, buf, len);
	if (r == 0)
		r = trust_chain_add(n, buf, ch, &refused, why, sizeof(why));
	/* a certificate the trust set refuses (another network's, say):
	 * likewise named by node_cert_load() */
	if (refused)
		r = 0;
out:
	free(buf);
	free(ch);
	free(p);
	return r < 0 ? r : 0;
}

int node_chain_known(const struct node *n, const uint8_t *buf, size_t len)
{
	struct cert_chain *ch = malloc(sizeof(*ch));
	struct store_txn *t = NULL;
	int r;

	if (!ch)
		return -ENOMEM;
	if ((r = cert_chain_decode(buf, len, ch)) < 0 ||
	    (r = store_txn_begin(n->st, 1, &t)) < 0)
		goto out;
	r = 1;
	for (size_t i = 0; i < ch->n && r == 1; i++) {
		uint8_t key[TRUSTSET_KEY];
		const uint8_t *v;
		size_t vl;
		key[0] = TRUST_CERT;
		memcpy(key + 1, ch->id[i], 32);
		int g = trustset_get(t, key, &v, &vl);
		if (g == HAMLET_ENOTFOUND)
			r = 0;
		else if (g < 0)
			r = g;
	}
out:
	store_txn_abort(t);
	free(ch);
	return r;
}
