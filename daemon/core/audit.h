/*
 * audit: check a whole store without trusting it: every signature, every
 * hash chain, seq contiguity, body hashes, forks, held entries, every
 * record's stored state against the state its signed entries make, and
 * the kept state digest against the records it stands for.
 */
#ifndef HAMLET_AUDIT_H
#define HAMLET_AUDIT_H

#include "problems.h"
#include "store.h"

struct audit_report {
	uint64_t feeds, entries, bodies, bodies_missing;
	uint64_t bad_signatures, chain_breaks, gaps, forks, held;
	uint64_t wrong_network, future;
	uint64_t digest_mismatch; /* the kept digest is not the records' */
	uint64_t records, records_mismatch; /* rows not what their ops make */
	struct problems problems; /* kinds: signature, chain, gap, fork, body, network, held, future, digest, record */
};

/* 0 when the audit ran (look at the report), <0 when it could not. */
int audit_store(struct store *st, const uint8_t network_id[32],
		struct audit_report *rep);
/* 1 when the report holds anything that fails an audit. */
int audit_failed(const struct audit_report *rep);
void audit_report_close(struct audit_report *rep);

#endif
