/*
 * rpc_client: a blocking client for hamletd's local socket, for the CLI
 * and tests. No event loop needed.
 *
 * Framing: u32 big-endian length, then msgpack. A request is an array
 * [method, args...]:
 *   ["status"]             -> [0, {node, name, digest, records, peers}]
 *   ["sync"]               -> [0, nil]   reconcile with every peer now
 *   ["peers"]              -> [0, [addr, ...]]  the dial list
 *   ["peer_add", "H:P"]    -> [0, nil]
 *   ["peer_remove", "H:P"] -> [0, nil]
 *   ["own_feeds_forget"], ["own_feeds_forget", "SCOPE"]
 *                          -> [0, [total, [[scope, signed, stored], ...]]]
 *       lowers HOME/own-feeds to what the store holds (every own feed,
 *       or SCOPE's alone), giving up the entries no node holds any more
 *       (`hamlet own-feeds forget-lost`); at most 1,000 feeds named,
 *       total counts them all.
 *   ["write", bin]         -> [0, [[entry id bin(32), seq], ...]]
 *       bin: msgpack array of operations [kind (1 put, 2 delete),
 *       collection, record id, scope or nil, body bin or nil, resolve
 *       bool], signed by the daemon's node key and stored in ONE
 *       transaction (log_write): all or none.
 *   ["ingest", bin]        -> [0, [[[status, err, why, seq], ...],
 *                                   [applied, duplicate, held, released,
 *                                    forks, rejected]]]
 *       bin: msgpack array of 1 to RPC_MAX_INGEST_ENTRIES entries [env
 *       bin, sig bin(64), body bin or nil] as a bundle carries them,
 *       checked as a peer's are (an entry outside the node's scopes is
 *       rejected alone, naming why), verified and stored in ONE
 *       transaction (log_ingest) and pushed to the peers. While the
 *       daemon runs, write and ingest are jobs on its one writer queue:
 *       -EBUSY asks to retry when 256 jobs wait. One outcome per entry,
 *       in order: status is enum
 *       log_status (0 applied, 1 duplicate, 2 held, 3 fork, 4 rejected),
 *       err the error code (0 or negative), why "" or the fault.
 *   ["keep"]               -> [0, {entries, feeds, held, records, proofs,
 *                                   sessions}]
 *       the node takes out what its certificate (installed since) does
 *       not let it read (log_keep_reads), then its sessions start again
 *       under it: what went, and the sessions closed.
 * On error the answer is [code (negative), "message"] (for "write",
 * [code, "message", index of the operation at fault]).
 * dials in status: array of maps {addr, key (hex of the key that last
 * answered at addr, or nil)}, one per address the daemon dials.
 * peers in status: array of maps {key (hex), stranger (bool: never
 * completed a session), addr, connected (bool),
 * last_sync_ms, bytes_in, bytes_out, entries_in, entries_out, messages_in,
 * neg_in (NEG messages received), entries_dup_in (received though already
 * stored), batches_in (batches committed), batch_credit (the most entries
 * its next batch may hold), batch_ceiling (the most we grant it now:
 * halved after a session that lost a batch of its), batches_lost_in
 * (sessions that ended with a batch of its received in part, or whole
 * and not yet committed)}.
 */
#ifndef HAMLET_RPC_CLIENT_H
#define HAMLET_RPC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#define RPC_MAX_REQUEST ((size_t)1 << 20)
#define RPC_MAX_WRITE_OPS 20000
#define RPC_MAX_INGEST_ENTRIES 4096 /* <= LOG_MAX_BATCH */
#define RPC_MAX_RESPONSE ((size_t)4 << 20)

/*
 * Send one request (method and, when arg is not NULL, one string
 * argument) to the daemon at socket_path and wait up to timeout_ms for
 * the answer. On success *ret (*ret_len bytes of msgpack, the whole
 * response array) is the caller's to free(). Returns 0, a negative errno
 * (-ECONNREFUSED, -ENOENT when no daemon runs, -ETIMEDOUT) or
 * HAMLET_ETOOBIG / HAMLET_EFORMAT for a bad answer.
 */
int rpc_client_call(const char *socket_path, const char *method,
		    const char *arg, int timeout_ms, uint8_t **ret,
		    size_t *ret_len);

/*
 * Pack one operation of a "write" request: [kind, collection, record id,
 * scope or nil, body or nil, resolve] and, when heads is not NULL, the
 * heads a resolution was made from (nheads ids of 32 bytes, 1 to 256,
 * end to end in one bin) as a seventh: the daemon refuses it when the
 * record's heads at its commit are others (log.h). scope and body may
 * be NULL.
 */
struct msgpack_packer;
void rpc_pack_write_op(struct msgpack_packer *pk, int kind,
		       const char *collection, const char *record_id,
		       const char *scope, const uint8_t *body,
		       size_t body_len, int resolve,
		       const uint8_t (*heads)[32], size_t nheads);

/*
 * The same for a method whose argument is a bin (write, ingest): the
 * request is [method, bin(arg)].
 */
int rpc_client_call_bin(const char *socket_path, const char *method,
			const void *arg, size_t arg_len, int timeout_ms,
			uint8_t **ret, size_t *ret_len);

/* The same with a ready-made request (a msgpack array). */
int rpc_client_call_raw(const char *socket_path, const uint8_t *req,
			size_t len, int timeout_ms, uint8_t **ret,
			size_t *ret_len);

#endif
