/*
 * audit: the trust set's index of subjects held to its signed items.
 * The report finds each author's certificates and revocations through
 * that index: a row missing would make an honest node's valid chain look
 * absent, a row too many lend it an item that is not its. Such an index
 * is damage to the store, named item by item.
 */
#include "audit_internal.h"
#include "trustset.h"

#include "error.h"
#include "trust.h"

#include <string.h>

static int index_fault(void *ctx, int what, const uint8_t *key,
		       const uint8_t *subject)
{
	struct audit_report *rep = ctx;
	char id[17], s[17];

	if (!key || !subject) {
		if (what == TRUSTSET_INDEX_UNREADABLE && key) {
			audit__hex8(key + 1, id);
			problems_add(&rep->problems, "trust",
				     N_("the trust set's %s with id %s… does not decode or verify: its signed bytes were damaged or edited"),
				     trust_kind_name(key[0]), id);
		} else {
			problems_add(&rep->problems, "trust",
				     N_("a row of the trust set's index of subjects is damaged"));
		}
		return 0;
	}
	audit__hex8(key + 1, id);
	audit__hex8(subject, s);
	if (what == TRUSTSET_INDEX_MISSING)
		problems_add(&rep->problems, "trust",
			     N_("the trust set's %s with id %s… (about key %s…) has no row in the set's index of subjects, so chains and revocations read through it miss it: the index was damaged or edited"),
			     trust_kind_name(key[0]), id, s);
	else
		problems_add(&rep->problems, "trust",
			     N_("the trust set's index of subjects names a %s with id %s… under key %s…, and the set holds no such item about that key: the index was damaged or edited"),
			     trust_kind_name(key[0]), id, s);
	return 0;
}

int audit__trust_index_check(struct store_txn *t, struct audit_report *rep)
{
	return trustset_index_check(t, index_fault, rep, &rep->trust_index);
}

int audit_root_check(struct store *st, const uint8_t root[32],
		     struct audit_report *rep)
{
	struct store_txn *t;
	uint8_t have[32];
	char h[17], w[17];
	int r;

	if ((r = store_txn_begin(st, 1, &t)) < 0)
		return r;
	r = trustset_root_get(t, have);
	store_txn_abort(t);
	if (r == HAMLET_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	if (memcmp(have, root, 32) == 0)
		return 0;
	rep->wrong_root = 1;
	audit__hex8(have, h);
	audit__hex8(root, w);
	problems_add(&rep->problems, "trust",
		     N_("the store judges certificates by root key %s…, not by the network's, %s…: altered to pass forged certificates, or of another network; judged here by the network's"),
		     h, w);
	return 0;
}
