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
