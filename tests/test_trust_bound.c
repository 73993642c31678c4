/* The chain search is bounded, and what a delegated administrator signs
 * must not use up that bound before another area's chain is reached:
 * certificates that never lead to the root, chains it cut itself, or
 * chains it revoked the key in. Nor do a key's own renewals push the one
 * that holds out of what an entry is judged by. */
#include "entry.h"
#include "error.h"
#include "sig.h"
#include "store.h"
#include "testlib.h"
#include "trust.h"
#include "trust_keys.h"
#include "trustset.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1798761600000ull /* 1 Jan 2027 */
#define DAY 86400000ull
#define MANY 70 /* certificates of one key, at each of two levels */

static size_t len;
static const char *also; /* a second scope the next certificates grant */

static void key_from(uint32_t n, struct key *k)
{
	key_tagged(n, 0xb0, k);
}

/* As cert_make(), with the scope also names, valid from nb until ex
 * (0: for ever). */
static uint8_t *cert_at(const struct key *issuer, const struct key *subj,
			const char *scope, int delegate, uint32_t serial,
			uint64_t nb, uint64_t ex)
{
	return cert_make(issuer, subj, scope, also, delegate, serial, nb, ex,
			 &len);
}

static uint8_t *cert_by(const struct key *issuer, const struct key *subj,
			const char *scope, int delegate, uint32_t serial)
{
	return cert_at(issuer, subj, scope, delegate, serial, T0 - DAY, 0);
}

static uint8_t *revoke_by(const struct key *issuer, const struct key *subj)
{
	return revoke_signed(issuer, subj, T0, &len);
}

/* The id of a certificate (len bytes). */
static void cert_id(const uint8_t *p, uint8_t id[32])
{
	uint8_t k[TRUSTSET_KEY];
	ASSERT_OK(trust_item_key(TRUST_CERT, p, len, k, NULL, 0));
	memcpy(id, k + 1, 32);
}

/* Add one item in its own transaction: its status. */
static int add1(struct store *st, int kind, uint8_t *p)
{
	struct trustset_out out;
	return trust_add1(st, kind, p, len, &out);
}

/*
 * issuer certifies subj for scope MANY times, each certificate's id
 * sorting before below's (NULL: any).
 */
static void crowd(struct store *st, const struct key *issuer,
		  const struct key *subj, const char *scope, int delegate,
		  const uint8_t *below, uint32_t *serial)
{
	for (int n = 0; n < MANY;) {
		uint8_t *p =
			cert_by(issuer, subj, scope, delegate, (*serial)++);
		uint8_t id[32];
		cert_id(p, id);
		if (below && memcmp(id, below, 32) > 0) {
			free(p);
			continue;
		}
		ASSERT_EQ(add1(st, TRUST_CERT, p), TRUSTSET_ADDED);
		n++;
	}
}

/* A fresh store knowing root, in a new directory (dir). */
static struct store *fresh(char *dir, size_t dl, const struct key *root)
{
	const char *tmp = getenv("TMPDIR");
	struct store *st;
	struct store_txn *t;
	snprintf(dir, dl, "%s/hamlet-bound-XXXXXX", tmp ? tmp : "/tmp");
	ASSERT_TRUE(mkdtemp(dir) != NULL);
	ASSERT_OK(store_open(dir, NULL, &st));
	ASSERT_OK(store_txn_begin(st, 0, &t));
	ASSERT_OK(trustset_root_set(t, root->pk));
	ASSERT_OK(store_txn_commit(t));
	return st;
}

static void gone(struct store *st, const char *dir)
{
	char cmd[4200];
	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ASSERT_EQ(system(cmd), 0);
}

/* Judge an entry of author's in scope dated at. */
static int judge(struct store *st, const struct key *author,
		 const char *scope, uint64_t at)
{
	char why[512] = "";
	int r = trust_judge(st, author, scope, "c", at, why, sizeof(why));
	if (r)
		fprintf(stderr, "entry of %s: %d %s\n", scope, r, why);
	return r;
}

static int revoked(struct store *st, const struct key *k)
{
	struct store_txn *t;
	int r;
	ASSERT_OK(store_txn_begin(st, 1, &t));
	r = trustset_revoked(t, k->pk, NULL, NULL, 0);
	store_txn_abort(t);
	return r;
}

/*
 * The rogue (bk/a, root's) certifies its sub-delegate MANY times (its
 * grant naming sub_also too, when not NULL), and the sub-delegate the
 * commune MANY times in scope, every id before that of the commune's own
 * certificate by by (bk/b), which is added last.
 */
static void crowded(struct store *st, const struct key *root,
		    const struct key *rogue, const struct key *sub,
		    const struct key *by, const struct key *commune,
		    const char *sub_also, const char *scope, uint32_t *serial)
{
	uint8_t legit[32], *p;
	size_t plen;

	ASSERT_EQ(add1(st, TRUST_CERT, cert_by(root, rogue, "bk/a", 1, 0)),
		  TRUSTSET_ADDED);
	also = sub_also;
	crowd(st, rogue, sub, "bk/a", 1, NULL, serial);
	also = NULL;
	p = cert_by(by, commune, "bk/b", 1, 0);
	cert_id(p, legit);
	plen = len;
	crowd(st, sub, commune, scope, 1, legit, serial);
	len = plen;
	ASSERT_EQ(add1(st, TRUST_CERT, p), TRUSTSET_ADDED);
}

static size_t leaves(struct store *st, const struct key *k)
{
	struct cert c[2];
	struct store_txn *t;
	size_t n = 0;
	ASSERT_OK(store_txn_begin(st, 1, &t));
	ASSERT_OK(trustset_valid_leaves(t, k->pk, T0, c, 2, &n));
	store_txn_abort(t);
	return n;
}

int main(void)
{
	struct key root, rogue, sub, commune, village, village2;
	struct store *st;
	uint32_t serial = 1;
	char dir[4096];
	uint8_t *p;

	if (sodium_init() < 0)
		return 1;
	key_from(1, &root);
	key_from(2, &rogue);
	key_from(3, &sub);
	key_from(4, &commune);
	key_from(5, &village);
	key_from(6, &village2);

	TEST_START("certificates that lead nowhere hide no chain");
	/* certificates of bk/b's keys for bk/b that lead nowhere (the
	 * rogue may not write bk/b): the village's entries still hold */
	st = fresh(dir, sizeof(dir), &root);
	crowded(st, &root, &rogue, &sub, &root, &commune, "bk/b", "bk/b",
		&serial);
	ASSERT_EQ(add1(st, TRUST_CERT,
		       cert_by(&commune, &village, "bk/b/v", 0, 0)),
		  TRUSTSET_ADDED);
	ASSERT_EQ(judge(st, &village, "bk/b/v", T0), 0);
	ASSERT_EQ(judge(st, &commune, "bk/b", T0), 0);
	gone(st, dir);

	TEST_START("chains a revocation of the key comes from hide none");
	/* the rogue certifies bk/b's commune in bk/a through a
	 * sub-delegate, many times at two levels, then revokes it: its own
	 * chains go, the root's stays */
	st = fresh(dir, sizeof(dir), &root);
	crowded(st, &root, &rogue, &sub, &root, &commune, NULL, "bk/a",
		&serial);
	ASSERT_EQ(add1(st, TRUST_REVOKE, revoke_by(&rogue, &commune)),
		  TRUSTSET_ADDED);
	ASSERT_EQ(revoked(st, &commune), 0);
	ASSERT_EQ(leaves(st, &commune), 1);
	gone(st, dir);

	TEST_START("chains an issuer's revocation cuts hide none");
	/* the same, but the rogue revokes its sub-delegate: the commune
	 * still certifies */
	st = fresh(dir, sizeof(dir), &root);
	crowded(st, &root, &rogue, &sub, &root, &commune, NULL, "bk/a",
		&serial);
	ASSERT_EQ(add1(st, TRUST_REVOKE, revoke_by(&rogue, &sub)),
		  TRUSTSET_ADDED);
	ASSERT_EQ(add1(st, TRUST_CERT,
		       cert_by(&commune, &village2, "bk/b/w", 0, 0)),
		  TRUSTSET_ADDED);
	ASSERT_EQ(leaves(st, &commune), 1);
	gone(st, dir);

	TEST_START("chains without the revoker hide none it is in");
	/* the district certifies the commune; the rogue certifies it
	 * many times over: the district still revokes it */
	st = fresh(dir, sizeof(dir), &root);
	{
		struct key district;
		key_from(7, &district);
		ASSERT_EQ(add1(st, TRUST_CERT,
			       cert_by(&root, &district, "bk", 1, 0)),
			  TRUSTSET_ADDED);
		crowded(st, &root, &rogue, &sub, &district, &commune, NULL,
			"bk/a", &serial);
		ASSERT_EQ(add1(st, TRUST_REVOKE, revoke_by(&district, &commune)),
			  TRUSTSET_ADDED);
		/* it cuts the chain it is in (the rogue's, in bk/a, stay) */
		ASSERT_EQ(judge(st, &commune, "bk/b", T0), HAMLET_EREVOKED);
	}
	gone(st, dir);

	TEST_START("a reader's chain is found by what it reads");
	/* a reader: its chain is found by what it reads, which its
	 * issuer may read but not write */
	st = fresh(dir, sizeof(dir), &root);
	{
		struct cert c;
		memset(&c, 0, sizeof(c));
		memcpy(c.network_id, net_id, 32);
		memcpy(c.issuer, root.pk, 32);
		memcpy(c.subject, commune.pk, 32);
		snprintf(c.name, sizeof(c.name), "n");
		c.role = CERT_COMMUNE;
		snprintf(c.read[0], sizeof(c.read[0]), "bk");
		snprintf(c.write[0], sizeof(c.write[0]), "bk/b");
		c.nread = c.nwrite = 1;
		c.delegate = 1;
		c.not_before_ms = T0 - DAY;
		ASSERT_OK(cert_sign(&c, root.sk, &p, &len));
		ASSERT_EQ(add1(st, TRUST_CERT, p), TRUSTSET_ADDED);
		memcpy(c.issuer, commune.pk, 32);
		memcpy(c.subject, village2.pk, 32);
		c.role = CERT_VILLAGE;
		snprintf(c.read[0], sizeof(c.read[0]), "bk/c");
		c.nwrite = 0;
		c.delegate = 0;
		ASSERT_OK(cert_sign(&c, commune.sk, &p, &len));
		ASSERT_EQ(add1(st, TRUST_CERT, p), TRUSTSET_ADDED);
		ASSERT_EQ(leaves(st, &village2), 1);
	}
	gone(st, dir);

	TEST_START("renewals hide no chain that holds");
	/* renewals: the commune's certificate renewed yearly, three
	 * expired ones sorting first, and the village's once: an entry of
	 * now is judged by the chain that holds now */
	st = fresh(dir, sizeof(dir), &root);
	{
		uint8_t *cur = cert_at(&root, &commune, "bk/b", 1, 100,
				       T0 - DAY, T0 + 365 * DAY);
		uint8_t cid[32], *vc;
		uint8_t vid[32];
		size_t curlen = len, vlen;
		cert_id(cur, cid);
		for (int n = 0; n < 3;) {
			uint8_t id[32];
			p = cert_at(&root, &commune, "bk/b", 1, serial++,
				    T0 - 800 * DAY, T0 - 2 * DAY);
			cert_id(p, id);
			if (memcmp(id, cid, 32) > 0) {
				free(p);
				continue;
			}
			ASSERT_EQ(add1(st, TRUST_CERT, p), TRUSTSET_ADDED);
			n++;
		}
		len = curlen;
		ASSERT_EQ(add1(st, TRUST_CERT, cur), TRUSTSET_ADDED);
		vc = cert_at(&commune, &village, "bk/b/v", 0, 100, T0 - DAY,
			     0);
		vlen = len;
		cert_id(vc, vid);
		for (int n = 0; n < 1;) {
			uint8_t id[32];
			p = cert_at(&commune, &village, "bk/b/v", 0, serial++,
				    T0 - 800 * DAY, T0 - 2 * DAY);
			cert_id(p, id);
			if (memcmp(id, vid, 32) > 0) {
				free(p);
				continue;
			}
			ASSERT_EQ(add1(st, TRUST_CERT, p), TRUSTSET_ADDED);
			n++;
		}
		len = vlen;
		ASSERT_EQ(add1(st, TRUST_CERT, vc), TRUSTSET_ADDED);
		ASSERT_EQ(judge(st, &village, "bk/b/v", T0), 0);
	}
	gone(st, dir);
	TEST_DONE();
}
