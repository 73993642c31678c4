/* The trust set's last places are the root's: a delegated administrator
 * who fills the set with certificates it signs (one bundle of them is
 * enough) cannot keep out the root's revocation of its own key, nor the
 * root's certificate for a new node. */
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
#define CHUNK 512	    /* items added in one call */

static void key_from(uint32_t n, struct key *k)
{
	key_tagged(n, 0x5a, k);
}

static uint8_t *cert_by(const struct key *issuer, const struct key *subj,
			int delegate, size_t *len)
{
	return cert_signed(issuer, subj, "bk/qt", delegate, 0,
			   T0 - 86400000ull, len);
}

/* Add items in one transaction: the statuses in out. */
static void add(struct store *st, const struct trustset_item *it, size_t n,
		struct trustset_out *out)
{
	struct store_txn *t;
	ASSERT_OK(store_txn_begin(st, 0, &t));
	ASSERT_OK(trustset_add(t, net_id, it, n, out));
	ASSERT_OK(store_txn_commit(t));
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	static struct trustset_item it[CHUNK];
	static struct trustset_out out[CHUNK];
	static uint8_t *data[CHUNK];
	struct key root, rogue, k;
	struct store *st;
	struct store_txn *t;
	struct revocation *rv = calloc(1, sizeof(*rv));
	char dir[4096], cmd[4200], full_why[sizeof(out[0].why)];
	size_t len, added = 0, refused = 0;
	uint8_t *p;

	if (sodium_init() < 0 || !rv)
		return 1;
	snprintf(dir, sizeof(dir), "%s/hamlet-reserve-XXXXXX",
		 tmp ? tmp : "/tmp");
	ASSERT_TRUE(mkdtemp(dir) != NULL);
	ASSERT_OK(store_open(dir, NULL, &st));
	key_from(0xffffffffu, &root);
	key_from(0xfffffffeu, &rogue);
	ASSERT_OK(store_txn_begin(st, 0, &t));
	ASSERT_OK(trustset_root_set(t, root.pk));
	ASSERT_OK(store_txn_commit(t));

	/* the root makes rogue a delegated administrator */
	p = cert_by(&root, &rogue, 1, &len);
	it[0] = (struct trustset_item){ TRUST_CERT, p, len };
	add(st, it, 1, out);
	ASSERT_EQ(out[0].status, TRUSTSET_ADDED);
	free(p);

	/* rogue signs certificates until the set takes no more of them
	 * (a bounded loop: TRUSTSET_MAX of them is past any cap) */
	for (uint32_t base = 0; base < TRUSTSET_MAX; base += CHUNK) {
		for (size_t i = 0; i < CHUNK; i++) {
			key_from(base + (uint32_t)i, &k);
			data[i] = cert_by(&rogue, &k, 0, &len);
			it[i] = (struct trustset_item){ TRUST_CERT, data[i],
							len };
		}
		add(st, it, CHUNK, out);
		for (size_t i = 0; i < CHUNK; i++) {
			if (out[i].status == TRUSTSET_ADDED)
				added++;
			else if (out[i].status == TRUSTSET_REFUSED &&
				 out[i].err == HAMLET_ETOOBIG)
				refused++;
			free(data[i]);
		}
	}
	ASSERT_TRUE(refused > 0);
	snprintf(full_why, sizeof(full_why), "%s", out[CHUNK - 1].why);

	/* the root revokes rogue: taken, though rogue filled what it could */
	memcpy(rv->network_id, net_id, 32);
	memcpy(rv->issuer, root.pk, 32);
	memcpy(rv->subject, rogue.pk, 32);
	rv->issued_ms = T0;
	snprintf(rv->reason, sizeof(rv->reason), "filled the trust set");
	ASSERT_OK(revoke_sign(rv, root.sk, &p, &len));
	it[0] = (struct trustset_item){ TRUST_REVOKE, p, len };
	add(st, it, 1, out);
	if (out[0].status != TRUSTSET_ADDED)
		fprintf(stderr, "revocation: %s\n", out[0].why);
	ASSERT_EQ(out[0].status, TRUSTSET_ADDED);
	free(p);

	/* and certifies a new node */
	key_from(0xfffffffdu, &k);
	p = cert_by(&root, &k, 0, &len);
	it[0] = (struct trustset_item){ TRUST_CERT, p, len };
	add(st, it, 1, out);
	ASSERT_EQ(out[0].status, TRUSTSET_ADDED);
	free(p);

	/* rogue's certificates were refused before the root's places, and
	 * the refusal says so */
	ASSERT_TRUE(added < TRUSTSET_MAX - 1);
	ASSERT_TRUE(strstr(full_why, "root") != NULL);

	store_close(st);
	free(rv);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ASSERT_EQ(system(cmd), 0);
	TEST_DONE();
}
