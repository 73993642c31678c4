/* A delegated administrator may certify any key inside its own grant, as
 * often as it likes: the certificates it gives another commune's keys
 * must not push theirs out of the chain search. The village keeps its
 * chain, its commune still certifies and revokes. */
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
#define MANY 64		    /* certificates the rogue gives one key */

static void key_from(uint32_t n, struct key *k)
{
	key_tagged(n, 0xc7, k);
}

static uint8_t *cert_by(const struct key *issuer, const struct key *subj,
			const char *scope, int delegate, uint32_t serial,
			size_t *ret_len)
{
	return cert_signed(issuer, subj, scope, delegate, serial,
			   T0 - 86400000ull, ret_len);
}

static size_t len; /* of the item the last cert_by() or revoke_by() made */

/* Add one item (of len bytes) in its own transaction: its status. */
static int add1(struct store *st, int kind, uint8_t *p,
		struct trustset_out *out)
{
	return trust_add1(st, kind, p, len, out);
}

static uint8_t *revoke_by(const struct key *issuer, const struct key *subj,
			  size_t *ret_len)
{
	return revoke_signed(issuer, subj, T0, ret_len);
}

/* Does one of key's valid chains let it write scope? */
static int writes(struct store *st, const struct key *k, const char *scope)
{
	struct cert *leaves = calloc(8, sizeof(*leaves));
	struct store_txn *t;
	size_t n = 0;
	int any = 0;
	ASSERT_TRUE(leaves != NULL);
	ASSERT_OK(store_txn_begin(st, 1, &t));
	ASSERT_TRUE(trustset_valid_leaves(t, k->pk, T0, leaves, 8, &n) >= 0);
	store_txn_abort(t);
	for (size_t i = 0; i < n; i++)
		any |= cert_may_write(&leaves[i], scope, "c");
	free(leaves);
	return any;
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	struct trustset_out out;
	struct key root, rogue, sub, commune, village, village2;
	struct store *st;
	struct store_txn *t;
	char dir[4096], cmd[4200];

	if (sodium_init() < 0)
		return 1;
	snprintf(dir, sizeof(dir), "%s/hamlet-crowd-XXXXXX",
		 tmp ? tmp : "/tmp");
	ASSERT_TRUE(mkdtemp(dir) != NULL);
	ASSERT_OK(store_open(dir, NULL, &st));
	key_from(1, &root);
	key_from(2, &rogue);
	key_from(3, &sub);
	key_from(4, &commune);
	key_from(5, &village);
	key_from(6, &village2);
	ASSERT_OK(store_txn_begin(st, 0, &t));
	ASSERT_OK(trustset_root_set(t, root.pk));
	ASSERT_OK(store_txn_commit(t));

	/* the root certifies two communes; bk/b certifies its village */
	ASSERT_EQ(add1(st, TRUST_CERT,
		       cert_by(&root, &rogue, "bk/a", 1, 0, &len), &out),
		  TRUSTSET_ADDED);
	ASSERT_EQ(add1(st, TRUST_CERT,
		       cert_by(&root, &commune, "bk/b", 1, 0, &len),
		       &out),
		  TRUSTSET_ADDED);
	ASSERT_EQ(add1(st, TRUST_CERT,
		       cert_by(&commune, &village, "bk/b/v", 0, 0, &len),
		       &out),
		  TRUSTSET_ADDED);
	ASSERT_TRUE(writes(st, &village, "bk/b/v"));

	/* the rogue certifies bk/b's village and bk/b's commune for bk/a,
	 * many times, through a sub-delegate it then revokes too */
	ASSERT_EQ(add1(st, TRUST_CERT, cert_by(&rogue, &sub, "bk/a", 1, 0, &len),
		       &out),
		  TRUSTSET_ADDED);
	for (uint32_t i = 0; i < MANY; i++) {
		ASSERT_EQ(add1(st, TRUST_CERT,
			       cert_by(&rogue, &village, "bk/a", 0, i, &len),
			       &out),
			  TRUSTSET_ADDED);
		ASSERT_EQ(add1(st, TRUST_CERT,
			       cert_by(&sub, &commune, "bk/a", 1, i, &len),
			       &out),
			  TRUSTSET_ADDED);
	}
	ASSERT_EQ(add1(st, TRUST_REVOKE, revoke_by(&rogue, &sub, &len),
		       &out),
		  TRUSTSET_ADDED);

	/* the village still writes its scope */
	ASSERT_TRUE(writes(st, &village, "bk/b/v"));
	/* its commune still certifies */
	ASSERT_EQ(add1(st, TRUST_CERT,
		       cert_by(&commune, &village2, "bk/b/w", 0, 0, &len),
		       &out),
		  TRUSTSET_ADDED);
	ASSERT_TRUE(writes(st, &village2, "bk/b/w"));
	/* and revokes its village: the revocation is not hidden */
	ASSERT_EQ(add1(st, TRUST_REVOKE, revoke_by(&commune, &village, &len),
		       &out),
		  TRUSTSET_ADDED);
	ASSERT_TRUE(!writes(st, &village, "bk/b/v"));

	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ASSERT_EQ(system(cmd), 0);
	TEST_DONE();
}
