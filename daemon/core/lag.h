/*
 * lag: which nodes are behind, as this node sees them (`hamlet report
 * lag`, docs/operator-guide.md "Which villages are behind").
 *
 * A node is every author of a feed this store holds, every key with a
 * certificate in the trust set that may write within what this node's
 * own certificate may read (auditors, certificates without a write
 * grant and writers of what this node never receives, such as a
 * province seen from a village, are left out unless they wrote here or
 * were in contact), and every direct peer with a contact kept
 * (heard.h); this
 * node itself is left out. Its "last heard" is the later of its newest
 * entry here (the author's clock) and its last contact as a direct peer.
 * It is behind when that is older than the threshold, or when it was
 * never heard from at all; a node whose key is revoked never is (it is
 * not expected to report again), and is marked so. Scopes are given as
 * get gives a record's: effective through the scope moves of the trust
 * set (scopemap.h), with the scope as written beside.
 */
#ifndef HAMLET_LAG_H
#define HAMLET_LAG_H

#include "cert.h"
#include "entry.h"
#include "heard.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>

struct lag_feed {
	char scope[ENTRY_MAX_SCOPE + 1]; /* effective (scopemap.h) */
	char written[ENTRY_MAX_SCOPE + 1]; /* as written when a scope move
					    * maps it to scope, else "" */
	uint64_t seq;	    /* its head here */
	uint64_t newest_ms; /* the head's time (author's clock) */
};

enum lag_cert {
	LAG_CERT_NONE = 0, /* no certificate in the trust set */
	LAG_CERT_VALID,	   /* one holds now, unrevoked */
	LAG_CERT_INVALID,  /* only expired, not yet valid or revoked ones */
};

struct lag_node {
	uint8_t key[32];
	int cert; /* enum lag_cert */
	char name[CERT_MAX_NAME + 1]; /* "" without a certificate */
	int role;		      /* CERT_*, 0 without */
	char scope[ENTRY_MAX_SCOPE + 1]; /* its certificate's first write
					  * prefix ("" for every scope), else
					  * its newest feed's; effective
					  * through the scope moves */
	char written[ENTRY_MAX_SCOPE + 1]; /* that scope as written when a
					    * move maps it, else "" */
	uint64_t newest_ms;  /* its newest entry here; 0: none */
	uint64_t contact_ms; /* its last contact as a direct peer; 0: none */
	uint64_t heard_ms;   /* max(newest_ms, contact_ms); 0: never heard */
	int has_via;	     /* via is known */
	struct heard_feed via; /* the delivery that brought its newest entry */
	struct lag_feed *feeds;
	size_t nfeeds;
	uint64_t cert_expires_ms; /* when its valid certificate itself
				   * ends (Unix ms); 0: it has none, or
				   * one that never ends */
	int revoked; /* its key is revoked in the trust set: never behind */
	int behind;
};

struct lag_report {
	uint64_t now_ms, threshold_ms;
	struct lag_node *v; /* behind first (never heard, then the oldest),
			     * then the others by name */
	size_t n, cap;
	size_t behind;
	size_t revoked; /* nodes whose key is revoked (not behind) */
};

/* A contact not yet in the store (a running daemon's peer table). */
struct lag_contact {
	uint8_t key[32];
	uint64_t ms;
};

/*
 * Build the report in t for the node self at now_ms: nodes whose last
 * heard is more than threshold_ms before now_ms are behind. live (may be
 * NULL) adds contacts newer than the kept ones. Free with
 * lag_report_close().
 */
int lag_report_build(struct store_txn *t, const uint8_t self[32],
		     uint64_t now_ms, uint64_t threshold_ms,
		     const struct lag_contact *live, size_t nlive,
		     struct lag_report *ret);
void lag_report_close(struct lag_report *r);

/* The node of key in r, or NULL. */
const struct lag_node *lag_report_find(const struct lag_report *r,
				       const uint8_t key[32]);

#endif
