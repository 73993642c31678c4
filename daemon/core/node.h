/*
 * node: a node's state directory ("home"): its identity, the network it
 * belongs to, and its store. Also the network files an administrator
 * creates once.
 *
 * home/node.conf     [node] name, scope, public_key
 * home/node.key      [key] secret_key (mode 0600)
 * home/network.conf  copy of the network file
 * home/own-feeds     the highest seq signed in each own feed (below)
 * home/store/        the LMDB environment
 */
#ifndef HAMLET_NODE_H
#define HAMLET_NODE_H

#include "cert.h"
#include "entry.h"
#include "log.h"
#include "store.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define NODE_MAX_NAME 64

struct network_info {
	char name[NODE_MAX_NAME + 1];
	uint8_t id[32];
	uint8_t root_pk[32];
	uint8_t key[32]; /* the pre-shared network key */
};

struct node {
	char *home;
	struct network_info net;
	char name[NODE_MAX_NAME + 1];
	char scope[ENTRY_MAX_SCOPE + 1];
	uint8_t pk[32];
	uint8_t *sk; /* 64 bytes in sodium_malloc'd memory */
	struct store *st;
	struct cert *grant; /* its certificate when valid at node_open */
	/* why its key, or an issuer of its certificate, is revoked in its
	 * trust set ("" when not): what it writes no peer takes */
	char revoked[300];
	/* grant and revoked change under it, by node_grant_refresh() on
	 * the thread that writes (hamletd's writer); another thread reads
	 * them through node_grant_copy() and node_revoked() */
	pthread_mutex_t grant_mu;
	struct scopemap *smap; /* the trust set's scope moves (scopemap.h) */
	struct node_feeds *feeds; /* what it signed (node_feeds, below) */
};

/* The network id: BLAKE2b-256("hamlet/network/v1" || root pk || name). */
void network_id_compute(const uint8_t root_pk[32], const char *name,
			uint8_t ret[32]);
/* The network file's key_check: the first 8 bytes of
 * BLAKE2b-256("hamlet/network-key/v1" || id || key), which tells a key
 * damaged or mistyped without saying anything of it (SPEC 4). */
#define NETWORK_KEY_CHECK_LEN 8
void network_key_check(const uint8_t id[32], const uint8_t key[32],
		       uint8_t ret[NETWORK_KEY_CHECK_LEN]);

/*
 * HOME/node.key may be read or written by users other than the node's
 * own (its mode gives its group or others any right, as a copy made
 * with cp or a backup tool may leave it): 1 with the sentence (what,
 * and the chmod that mends it) in why; 0 when it is the owner's alone
 * or is not there.
 */
int node_key_loose(const char *home, char *why, size_t whylen);

/* Names of networks and nodes: 1-64 of [a-z0-9-]. */
int node_name_check(const char *name);

/*
 * Create a network: writes dir/NAME.network (mode 0600: it holds the
 * network key, give it only to members) and dir/NAME.root.key (mode 0600,
 * keep it offline). Refuses to overwrite. why names the problem.
 */
int network_create(const char *name, const char *dir, struct network_info *ret,
		   char *why, size_t whylen);
int network_load(const char *path, struct network_info *ret, char *why,
		 size_t whylen);

/* Make a new node in home (which must not hold one yet). */
int node_init(const char *home, const char *network_file, const char *name,
	      const char *scope, char *why, size_t whylen);

/*
 * Open a node. readonly opens the store read-only (no writer needed).
 * Close with node_close(), which wipes the secret key.
 */
int node_open(const char *home, int readonly, struct node **ret, char *why,
	      size_t whylen);
void node_close(struct node *n);

/*
 * The network's root key file (NAME.root.key): its network id, public
 * key, and secret key in sodium_malloc'd memory (*ret_sk, 64 bytes: the
 * caller wipes and frees it with sodium_free). why names the problem.
 */
int root_key_load(const char *path, uint8_t ret_network_id[32],
		  uint8_t ret_pk[32], uint8_t **ret_sk, char *why,
		  size_t whylen);

/* 1 with why set when the root key file at path may be read by users of
 * this PC other than its owner (its mode lets group or others read it),
 * else 0: the root key certifies any PC for everything. */
int root_key_loose(const char *path, char *why, size_t whylen);

#define NODE_CERT_FILE "node.cert"

/*
 * n's certificate chain (home/node.cert), decoded and checked for n's key
 * in n's network at now_ms. HAMLET_ENOTFOUND when there is none,
 * HAMLET_ECERT (why says which rule) when it is not valid,
 * HAMLET_EREVOKED when n's trust set revokes n's key or an issuer of the
 * chain (a revocation this node has received); *ret holds it
 * when it decodes, valid or not. ret_bytes (may be NULL) gets the
 * chain's bytes, malloc'd. An issuer's certificate that n's trust set
 * holds a renewal of (a newer certificate of the same key, to the same
 * root) is judged by that renewal when it holds at now_ms or ends later
 * (trustset_chain_best()): *ret and the bytes are then the renewed
 * chain, as peers are shown it; the file is left as installed.
 */
int node_cert_load(const struct node *n, uint64_t now_ms,
		   struct cert_chain *ret, uint8_t **ret_bytes,
		   size_t *ret_len, char *why, size_t whylen);

/*
 * n's installed chain file as it is (*ret_bytes, malloc'd; *ret
 * decoded), when node_cert_load() refuses it at now_ms only because the
 * certificate of an issuer above n's own has ended: n's own certificate
 * holds, the chain held once, nothing of it is revoked here. A peer that
 * holds that issuer's renewal judges it by that (SPEC "Renewed issuer
 * certificates") and so lets the renewal reach n. HAMLET_ECERT when not
 * so, or node_cert_load()'s other errors.
 */
int node_cert_stale(const struct node *n, uint64_t now_ms,
		    struct cert_chain *ret, uint8_t **ret_bytes,
		    size_t *ret_len);

/*
 * Make the chain file buf n's certificate: it must be for n's key, in n's
 * network, and valid at now_ms. Replaces any earlier one atomically. Its
 * certificates join n's trust set when the store is next opened for
 * writing, or by the running daemon at its next session; a bundle n
 * creates meanwhile carries them (bundle_create.c).
 */
int node_cert_install(const struct node *n, const uint8_t *buf, size_t len,
		      uint64_t now_ms, char *why, size_t whylen);

/*
 * Add the certificates of the chain file buf to n's trust set (what
 * node_cert_install does after writing it): 0, or why names the fault.
 */
int node_trust_chain(const struct node *n, const uint8_t *buf, size_t len,
		     char *why, size_t whylen);
/* node_trust_chain() of n's own chain file, when it has one and its
 * trust set lacks a certificate of it. A file that cannot be read, is
 * damaged or is refused seeds nothing and returns 0 (node_cert_load()
 * names its fault, as it does a missing one); <0 only when the store
 * failed. */
int node_trust_seed(const struct node *n);
/* 1 when n's trust set holds every certificate of the chain file buf, 0
 * when not, <0 when it does not decode or the store failed. */
int node_chain_known(const struct node *n, const uint8_t *buf, size_t len);

/*
 * The node's own entries that no certificate chain of its key covers at
 * their date (saved while its certificate had lapsed, or before its
 * first began): every other node refuses them, and they hold back the
 * later entries of their feeds. Chains looked at: n's chain file, those
 * of n's trust set, and extra (may be NULL: one about to be installed).
 * ret->chains 0 (and no entries counted) when none holds at any time.
 * 0, or <0 when the store cannot be read.
 */
struct node_lapse {
	uint64_t entries;	    /* how many */
	uint64_t first_ms, last_ms; /* the dates of the first and the last */
	size_t chains;		    /* chains that hold at some time */
	/* the name of a certificate above the node's own that did not hold
	 * at the first of them while the node's own did ("" when none):
	 * its renewal, not a new one for this node, mends them */
	char above[CERT_MAX_NAME + 1];
};
int node_lapse_find(const struct node *n, const struct cert_chain *extra,
		    struct node_lapse *ret);

/* Read n's certificate again (one installed since node_open()): n->grant
 * is it when valid, NULL otherwise; n->revoked says why when revoked.
 * Only the thread that writes calls it once others run (hamletd: the
 * writer); that thread may read n->grant and n->revoked as they are. */
void node_grant_refresh(struct node *n);
/* From any other thread: a copy of n->grant in *ret (1), or 0 when n has
 * none; whether n->revoked says n is revoked. */
int node_grant_copy(const struct node *n, struct cert *ret);
int node_revoked(const struct node *n);

/*
 * What n keeps of what reaches it (log_reader, borrowing n and ch): its
 * certificate, read into *ch, when it has one valid now or revoked (a
 * revoked node still keeps to what it let it read); else none, and it
 * keeps its own scope alone.
 */
void node_reader(const struct node *n, struct cert_chain *ch,
		 struct log_reader *ret);

/* Build n->smap again from the trust set (after it grew). */
void node_scopes_refresh(struct node *n);

/* The author for log_write(): borrows from n. */
void node_author(const struct node *n, struct log_author *ret);

/* --- what this node signed (node_feeds.c) ----------------------------------
 *
 * HOME/own-feeds keeps, outside the store, the highest seq this node has
 * signed in each of its own feeds (its key and a scope). node_open()
 * reads it; node_author() hands it to the writer, which refuses a write
 * (HAMLET_EBEHIND) in a feed whose head in the store lies below it: a
 * store restored or moved aside would sign again seqs its peers hold,
 * a fork of its own feed. Once the store has those entries back (a sync,
 * a bundle) writes go on by themselves. docs/decisions.md, "A restored
 * node's own feeds".
 */
#define NODE_FEEDS_FILE "own-feeds"
#define NODE_FEEDS_MAX 65536 /* feeds the file lists at most */
#define NODE_FEEDS_MAX_BYTES (64 + 400 + NODE_FEEDS_MAX * 150)

struct node_feed {
	char scope[ENTRY_MAX_SCOPE + 1];
	uint64_t seq;  /* the highest seq signed in it */
	size_t line;   /* where the file lists it (node_feeds_parse) */
};

/* A feed of this node's that its store holds less of than it signed
 * (or, node_feeds_unrecorded(), that own-feeds records less of). */
struct node_feed_lag {
	char scope[ENTRY_MAX_SCOPE + 1];
	uint64_t signed_seq; /* the highest seq it signed */
	uint64_t stored;     /* the store's head of the feed */
	uint64_t recorded;   /* node_feeds_unrecorded(): what the file says */
	/* the node no longer keeps what is written in the feed's scope
	 * (its certificate, through the scope moves, no longer reads it):
	 * its peers never send those entries back, and it writes nothing
	 * there either */
	int gone;
};

/*
 * The own-feeds file's text (buf, len bytes) for the node of key pk:
 * every feed in *ret (malloc'd, sorted by scope), *ret_n of them. On a
 * fault why names the line and what is wrong with it (English).
 */
int node_feeds_parse(const char *buf, size_t len, const uint8_t pk[32],
		     struct node_feed **ret, size_t *ret_n, char *why,
		     size_t whylen);

/*
 * 1 when n's own-feeds cannot be used (damaged, unreadable): every write
 * is refused, and buf says why and what to do; 2 when it could not be
 * written last time (the node goes on; buf says why); 0 when all is
 * well. buf is in the installed translator's language (why.h).
 */
int node_feeds_problem(struct node *n, char *buf, size_t len);

/*
 * Before a write: read own-feeds again when it could not be used (mended
 * since), or, when it could, compare it with what this process last read
 * or wrote. 0: nothing to say. 1: it was changed and no longer reads:
 * from now on every write is refused, as when it is damaged at start
 * (node_feeds_problem() says so), and the file is left as it is. 2: it
 * was changed and reads (a copy put back while hamletd runs): the higher
 * seq of each feed is kept, the file written again when it listed less.
 * why (1, 2) says so, for the log, in the installed translator's
 * language.
 */
int node_feeds_refresh(struct node *n, char *why, size_t whylen);

/*
 * After a commit: raise the recorded seq of each of n's own feeds among
 * adv (others' feeds are passed over) and write the file when one rose.
 * <0 with why when the file cannot be written, said once until a write
 * works again; the table in memory is raised all the same. A file
 * changed since it was last written is checked first, as
 * node_feeds_refresh() does: HAMLET_ECONFIG with why when it no longer
 * reads (not written over), 2 with why when it was merged.
 */
int node_feeds_advance(struct node *n, const struct log_advances *adv,
		       char *why, size_t whylen);

/*
 * 1 when the last write of n's own-feeds failed (a full disk) and the
 * file records less than n signed: node_feeds_retry() is due. 0 too
 * while another thread holds the table (it does not wait).
 */
int node_feeds_unsaved(struct node *n);

/*
 * Write n's own-feeds again after a write of it failed, once the file
 * is checked as node_feeds_refresh() does. 0: nothing to do; 1: written
 * now (why says so); 2: written, the file had changed and was merged
 * (why says how); HAMLET_ECONFIG: it was changed and no longer reads
 * (why says so; not written over); <0 otherwise: it still cannot be
 * written (why says why). why is in the installed translator's language.
 */
int node_feeds_retry(struct node *n, char *why, size_t whylen);

/*
 * n's own feeds that HOME/own-feeds records less of than n signed: the
 * file could not be written (a full disk), so a store lost now would make
 * n sign those seqs again. For a process open to write, the table it
 * keeps against the file as it last wrote it; for one open read-only
 * (another process may write), the heads of n's own feeds in its store
 * against the file as it is now. Each with signed_seq and stored (the
 * store's head; for read-only, both the head) and recorded (the file's
 * seq, 0 when it lists none); the first max into ret, *ret_n counts
 * them. 0 (none) when the file cannot be used (node_feeds_problem()
 * says so); <0 when the store cannot be read or out of memory.
 */
int node_feeds_unrecorded(struct node *n, struct node_feed_lag *ret,
			  size_t max, size_t *ret_n);

/*
 * n's own feeds its store holds less of than it signed and whose scope
 * it still keeps (what its writes there wait for), the first max into
 * ret; *ret_n counts them all. 0 when the file cannot be used
 * (node_feeds_problem() says so).
 */
int node_feeds_behind(struct node *n, struct node_feed_lag *ret, size_t max,
		      size_t *ret_n);

/* As node_feeds_behind(), those whose scope n no longer keeps (gone):
 * nothing waits for them, and they never come back to n. */
int node_feeds_gone(struct node *n, struct node_feed_lag *ret, size_t max,
		    size_t *ret_n);

/* Every feed own-feeds records, as node_feeds_behind() gives those
 * behind. */
int node_feeds_list(struct node *n, struct node_feed_lag *ret, size_t max,
		    size_t *ret_n);

/*
 * Give up the entries n signed that no node holds any more: lower the
 * recorded seq of each of its feeds (scope's alone when not NULL) to its
 * head in the store, and write the file. The feeds lowered, the first
 * max into ret with the seqs given up; *ret_n counts them (0: nothing to
 * give up). An entry given up that some node does hold makes a fork at
 * n's next write there.
 */
int node_feeds_forget(struct node *n, const char *scope,
		      struct node_feed_lag *ret, size_t max, size_t *ret_n,
		      char *why, size_t whylen);

/* Hex helpers. out gets 2n+1 bytes. */
void hex_encode(const uint8_t *p, size_t n, char *out);
int hex_decode(const char *hex, uint8_t *out, size_t n);

#endif
