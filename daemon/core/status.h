/*
 * status: a node's figures as `hamlet status --json` gives them: the
 * store's (feeds, entries, held, conflicts), its certificate, and, while
 * hamletd runs, the daemon's answer to "status" (peers, refusals). Shared
 * by the CLI and hamletd's HTTP API.
 */
#ifndef HAMLET_STATUS_H
#define HAMLET_STATUS_H

#include "cert.h"
#include "node.h"

#include <jansson.h>
#include <msgpack.h>
#include <stdint.h>

/* Records that need a decision, in one collection: conflicting values
 * (update versus delete included) and duplicate unique keys. A record
 * may be both. */
struct status_problem {
	const char *coll; /* the schema's name, static */
	uint64_t conflicts, duplicates;
	/* of conflicts: one id holding two people (record_view_two_people()),
	 * not to be resolved by choosing a value */
	uint64_t two_people;
	/* of two_people: one village deleted its part already (update
	 * versus delete open), so only a deleting resolution settles it */
	uint64_t two_people_one_deleted;
};

#define STATUS_MAX_COLLS 8	   /* collections told apart */
#define STATUS_MAX_OTHER_FORKS 1024 /* other nodes' forked feeds counted */
#define STATUS_MAX_RESTORING 8	   /* own feeds waiting, named one by one */
#define STATUS_MAX_CLASSIFY 10000 /* records looked at to tell them apart */
#define STATUS_MAX_OWN_FORKS 4	   /* own forked feeds, named one by one */

/* One of this node's own feeds that a fork froze: this node's key signed
 * two different entries at seq (another PC uses the key, or this PC's
 * store was put back from a backup and written in before it synced). */
struct status_own_fork {
	char scope[ENTRY_MAX_SCOPE + 1];
	uint64_t seq;
};

struct status_totals {
	uint64_t feeds, entries, own, newest_ms;
	const uint8_t *pk;
};

/* What status reports: the store's figures, and hamletd's answer when it
 * runs (borrowed from the answer's document). */
struct status_facts {
	struct node *n;
	struct status_totals tot;
	uint64_t conflicts, held;
	/* by collection, in schema order; past STATUS_MAX_CLASSIFY records
	 * only conflicts grows and unclassified counts the rest */
	struct status_problem prob[STATUS_MAX_COLLS];
	size_t nprob;
	uint64_t duplicates, unclassified;
	/* the node's own feeds its store holds less of than it signed
	 * (node.h, node_feeds): own writes there wait for them to come
	 * back from the peers. The first STATUS_MAX_RESTORING; nrestoring
	 * counts them all */
	struct node_feed_lag restoring[STATUS_MAX_RESTORING];
	size_t nrestoring;
	/* those whose scope the node no longer keeps (node_feeds_gone():
	 * moved out of its reach): nothing waits for them, and they never
	 * come back here. The first STATUS_MAX_RESTORING; ngone counts */
	struct node_feed_lag gone[STATUS_MAX_RESTORING];
	size_t ngone;
	/* the node's own feeds HOME/own-feeds records less of than it
	 * signed (node_feeds_unrecorded(): the file could not be written),
	 * the first STATUS_MAX_RESTORING; nunrecorded counts them all */
	struct node_feed_lag unrecorded[STATUS_MAX_RESTORING];
	size_t nunrecorded;
	/* node_feeds_problem(): 0, 1 (own-feeds does not read: no write) or
	 * 2 (it could not be written), and what it says */
	int feeds_problem;
	char feeds_why[1024];
	/* own entries no certificate of the node covers (node.h) */
	struct node_lapse lapse;
	/* this node's own feeds a fork froze (status_own_forks): the
	 * first STATUS_MAX_OWN_FORKS; nown_forks counts them all */
	struct status_own_fork own_forks[STATUS_MAX_OWN_FORKS];
	size_t nown_forks;
	/* other nodes' feeds a fork froze, kept here as evidence (counted
	 * up to STATUS_MAX_OTHER_FORKS) */
	size_t nother_forks;
	int running;
	const msgpack_object *res, *peers;
	size_t np;
};

/* This node's certificate: whether it holds, and what it grants. */
struct status_cert {
	int r; /* node_cert_load's result */
	struct cert_chain ch;
	char why[1024];
	/* when r is 0: the chain's effective end, the earliest expires of
	 * its certificates after any renewal of a link (0: none ends), the
	 * place of that certificate in ch (cert_chain_first_end()), and 1
	 * when it is at most STATUS_CERT_WARN_MS away (status says so) */
	uint64_t end_ms;
	size_t end_at;
	int end_soon;
};

/* How long before a chain's effective end status, hamletd's log and the
 * status page warn: 30 days, time for a USB stick to go to the issuer
 * and back, and for a renewal to sync down to every village below it. */
#define STATUS_CERT_WARN_DAYS 30
#define STATUS_CERT_WARN_MS ((uint64_t)STATUS_CERT_WARN_DAYS * 86400000)

/* Fill st's store figures from st->n's store. */
int status_store_read(struct status_facts *st);
/*
 * The feeds of key pk (this node's) that a fork froze, from the fork
 * proofs of t's trust set: one per feed, at the lowest seq where two
 * entries part, the first max of them in v (by proof id); *ret_n counts
 * them all. 0, or <0 when the store cannot be read.
 */
int status_own_forks(struct store_txn *t, const uint8_t pk[32],
		     struct status_own_fork *v, size_t max, size_t *ret_n);
/* n's certificate (node_cert_load() at hlc_wall_ms()), and its chain's
 * effective end and how near it is. */
void status_cert_read(struct node *n, struct status_cert *cf);
/* Entries written on n after since_ms (waiting to go out to a peer),
 * whatever the peer may read. status_json counts, per peer, only those
 * its certificate lets it read. */
uint64_t status_waiting_since(struct node *n, uint64_t since_ms);

/*
 * What peer key (32 bytes) trails by, as this store sees it: of the feeds
 * its certificate lets it read (every feed when it holds none here), the
 * newest entry and the entries that wait for it. Those are the entries
 * that arrived here after the basis kept when the two last agreed
 * (peerbase.h: written here, from other peers or from a USB stick,
 * however old their date), but for feeds whose head came last from that
 * peer, less acked, the entries it acknowledged since (the status RPC's
 * entries_acked_since_agreed; 0 when hamletd does not run); with no
 * basis kept (the two never agreed), every entry it may read but of
 * those feeds, less acked. The text and JSON
 * of status both judge "in sync" and "waiting" by it. Costs the feeds
 * moved since that basis, not a walk of the entries. 0, or <0 when the
 * store cannot be read.
 */
int status_peer_behind(struct node *n, const uint8_t key[32],
		       uint64_t since_ms, uint64_t acked,
		       uint64_t *ret_newest_ms, uint64_t *ret_waiting);
/*
 * Where a peer of hamletd's status answer stands with this node: the first
 * of these that holds. `hamlet status` words its line by it, --json's
 * `in_sync` is STATUS_PEER_IN_SYNC, and `hamlet sync --wait` waits for it
 * or fails naming the cause: judged here alone, so that all say the same.
 */
enum status_peer_state {
	STATUS_PEER_IN_SYNC = 0,
	STATUS_PEER_DOWN,      /* not connected */
	STATUS_PEER_DISK_FULL, /* entries received from it wait for disk space */
	STATUS_PEER_AHEAD,     /* it refused entries sent to it as dated too
				* far ahead of its clock (this session) */
	STATUS_PEER_TOO_BIG,   /* an entry larger than a whole byte budget
				* holds back what is queued for it */
	STATUS_PEER_HELD,      /* a byte budget holds entries back */
	STATUS_PEER_RECEIVING, /* entries asked of it are still on their way */
	STATUS_PEER_SENDING,   /* this session still has entries to send it,
				* or sent ones it has not acknowledged */
	STATUS_PEER_BEHIND,    /* it last agreed before this node's newest
				* entry it may read (or never), or entries
				* that arrived here since wait for it */
	STATUS_PEER_LAPSED,    /* it reads this node's scope, and this node
				* holds own entries no certificate of its
				* covers (node_lapse_find): it refuses them */
	STATUS_PEER_REVOKED,   /* not connected, and its key is revoked
				* here: it never syncs again, and nothing
				* waits for it */
};

struct status_peer {
	enum status_peer_state state;
	uint64_t last_sync_ms;
	/* of the feeds its certificate lets it read here (every feed when
	 * none holds): the newest entry, and the entries that wait for it
	 * (status_peer_behind()), held back by a budget, or that the
	 * session still has to send it, whichever is most */
	uint64_t newest_ms, waiting;
	/* this session: entries queued for it, and sent but not
	 * acknowledged (the status RPC's entries_to_send, entries_unacked) */
	uint64_t to_send, unacked;
	/* waiting counted from a basis kept with it (based): when that was
	 * kept, and when the newest entry counted arrived (0: none) */
	int based;
	uint64_t agreed_ms, arrival_ms;
	uint64_t disk_wait;	/* entries from it waiting for disk space */
	uint64_t ahead;		/* ours it refused as dated too far ahead */
	uint64_t held;		/* entries a budget holds back for it */
	int held_session;	/* by the session's budget, not the day's */
	uint64_t too_big;	/* bytes of the entry over a whole budget */
	uint64_t lapsed;	/* own entries it refuses for their dates */
	int revoked; /* its key is revoked here */
	/* its certificate in the trust set, when one holds */
	int named;
	char name[CERT_MAX_NAME + 1];
	int role;
};

/*
 * Judge peer p (one of the "peers" of hamletd's status answer) for node n
 * into ret. n NULL: the store is not read (then a connected peer with
 * nothing else to say is judged in sync). 0, or <0 when the store
 * cannot be read (ret still judged, as without n).
 */
int status_peer_judge(struct node *n, const msgpack_object *p,
		      struct status_peer *ret);

/*
 * May peer p (one of the "peers" of hamletd's status answer) read what n
 * writes, by the certificate of its key valid now? 1 when it may, or when
 * no certificate of it is known here (as status_peer_judge() takes it);
 * 0 when it may not; <0 when the store cannot be read.
 */
int status_peer_reads_own(struct node *n, const msgpack_object *p);

/*
 * Is what n writes stuck: no connected peer in res (hamletd's status
 * answer) takes it, and a peer n dials that would is down with entries
 * waiting for it? 1 with that peer's name and address in ret_who, else 0.
 */
int status_writes_stuck(struct node *n, const msgpack_object *res,
			char *ret_who, size_t wl);
/* The object `hamlet status --json` prints. New reference. */
json_t *status_json(const struct status_facts *st);

#endif
