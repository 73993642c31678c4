/*
 * report_bundle: a bundle judged in a scratch store for `hamlet verify
 * --bundle` (report_bundle_import()), and whether its trust items were
 * refused for another network's root alone (report_bundle_foreign()).
 */
#include "report.h"
#include "why.h"

#include "bundle.h"
#include "error.h"
#include "node.h"
#include "trustset.h"

#include <errno.h>
#include <string.h>

int report_bundle_import(const char *path, const char *dir,
			 const uint8_t root[32], const uint8_t network_id[32],
			 const struct node *reader, struct store **ret_st,
			 struct bundle_report *rep, char *why, size_t whylen)
{
	/* every sound entry stands in the report, held when it must */
	struct store_options o = { .hold_all = 1 };
	struct store_txn *t = NULL;
	struct node n;
	int r;

	*ret_st = NULL;
	why[0] = 0;
	if ((r = store_open(dir, &o, ret_st)) < 0) {
		why_set(why, whylen, N_("cannot make a scratch store in %s: %s"),
			 dir, why_translate(hamlet_strerror(r)));
		return r;
	}
	if ((r = store_txn_begin(*ret_st, 0, &t)) == 0) {
		if ((r = trustset_root_set(t, root)) < 0)
			store_txn_abort(t);
		else
			r = store_txn_commit(t);
	}
	if (r < 0) {
		why_set(why, whylen, N_("cannot write the scratch store in %s: %s"),
			 dir, why_translate(hamlet_strerror(r)));
		return r;
	}
	/* a node with no key of its own (but the reader's, to open a bundle
	 * sealed to it): an import only reads n->net.id and stores through
	 * n->st */
	memset(&n, 0, sizeof(n));
	if (reader) {
		memcpy(n.pk, reader->pk, 32);
		n.sk = reader->sk;
	}
	n.home = (char *)dir;
	memcpy(n.net.id, network_id, 32);
	memcpy(n.net.root_pk, root, 32);
	n.st = *ret_st;
	if (pthread_mutex_init(&n.grant_mu, NULL) != 0) {
		why_set(why, whylen, N_("out of memory"));
		return -ENOMEM;
	}
	r = bundle_import(&n, path, rep, why, whylen);
	pthread_mutex_destroy(&n.grant_mu);
	return r;
}

/* Count the trust set's members that need the root to join: all but
 * fork proofs, which join on their network alone. */
static int rooted_cb(void *ctx, int kind, const uint8_t id[32],
		     const uint8_t *data, size_t len)
{
	(void)id;
	(void)data;
	(void)len;
	if (kind != TRUST_FORK)
		(*(uint64_t *)ctx)++;
	return 0;
}

int report_bundle_foreign(struct store *st, const struct bundle_report *rep)
{
	struct store_txn *t;
	uint64_t rooted = 0;
	int r;

	/* a bundle with no trust item, or one of whose entries stands,
	 * says nothing against the root */
	if (!rep->trust_refused || rep->stats.applied)
		return 0;
	if ((r = store_txn_begin(st, 1, &t)) < 0)
		return r;
	r = trustset_each(t, 0, rooted_cb, &rooted);
	store_txn_abort(t);
	if (r < 0)
		return r;
	return rooted == 0;
}
