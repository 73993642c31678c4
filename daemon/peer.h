/*
 * peer: TCP connections to other nodes. Every connection starts with the
 * Noise_XXpsk3 handshake (network key as PSK); then frames carry the
 * messages that sync.c handles. Configured addresses are dialled with
 * exponential backoff and jitter; one connection per pair of nodes.
 */
#ifndef HAMLETD_PEER_H
#define HAMLETD_PEER_H

#include "daemon.h"

#include <stddef.h>
#include <stdint.h>

/* Bind the listener (if cfg.listen is set) and start dialling cfg.peers. */
int peers_start(struct daemon *d);

/* Make the dial list equal cfg.peers: new ones are dialled, removed ones
 * stop (their connections close). Returns how many were added or
 * removed, or <0. */
int peers_sync_config(struct daemon *d);

/*
 * Reconcile now with every ready peer, or only with the one named by its
 * configured or last address, its certificate's name, or a prefix (4 hex
 * digits or more) of its key. Returns how many sessions were asked.
 */
size_t peers_reconcile(struct daemon *d, const char *name);

struct peer_addr;

/*
 * Dial now, once, each configured address whose peer is not connected
 * (only the one name names, when not NULL, as peers_reconcile() names
 * them), its backoff cut short (`hamlet sync`); a dial that fails backs
 * off as before, so asking again and again makes no loop of dials. A
 * dial already under way counts without another being started. The
 * first cap of them go into ret, borrowed until the loop runs again.
 * Returns how many.
 */
size_t peers_dial_now(struct daemon *d, const char *name,
		      const struct peer_addr **ret, size_t cap);

/* Close the listener, every connection and dial timer (shutdown). */
void peers_stop(struct daemon *d);

/* Say how many ends of connections from unknown peers went unlogged
 * (peer.c anon_quiet), once the minute that began with the first of
 * them is over, or now_anyway (shutdown); nothing when none did. */
void peers_anon_flush(struct daemon *d, int now_anyway);

/*
 * Send one message (len <= WIRE_MAX_MSG) on an established connection.
 * The bytes are copied. Returns 0 or <0 (then the connection is dropped).
 * A peer with more than HAMLETD_OUT_QUEUE_MAX bytes waiting to be written
 * to it does not read: it is dropped as a fault (HAMLET_ETOOBIG).
 */
int peer_conn_send(struct conn *c, const uint8_t *msg, size_t len);

/* Drop c for a fault of the peer: logs the peer and why, backs it off. */
void peer_conn_fault(struct conn *c, int err, const char *why);

/* Close c without blame (shutdown, duplicate, removed from config). */
void peer_conn_close(struct conn *c, const char *why);

/*
 * c's peer has shown a HELLO whose certificate holds: may its session
 * start? Ours and our dials always may; an incoming one only within
 * [limits] max_peers, else c is closed (not the peer's fault: logged at
 * debug level, with one line a minute at info that counts them) and 0
 * is returned. 1 when the session may start.
 */
int peer_conn_admit(struct conn *c);

/* Read c again (stopped while its messages wait for the writer,
 * SYNC_TRUST_JOBS), handling first what it sent meanwhile. */
void peer_conn_read_resume(struct conn *c);

/* Work requests hold a reference so the conn outlives them. */
void peer_conn_ref(struct conn *c);
void peer_conn_unref(struct conn *c);

/*
 * Figures for pk, creating the slot if needed; when the table is full the
 * slot of a peer no connection holds is reused (NULL when every one is
 * held). The pointer lives as long as d, but may be reused for another
 * key once no connection holds it.
 */
struct peer_info *peer_info_get(struct daemon *d, const uint8_t pk[32]);

/* The figures kept for pk, or NULL (no slot is made). */
struct peer_info *peer_info_find(struct daemon *d, const uint8_t pk[32]);

/*
 * Whether status lists p: connected, or a peer that dialled us, or one
 * of the configured addresses (connected or not). A peer we dialled
 * whose address was removed (a reload, peers remove) and that is not
 * connected is not listed, though its figures are kept.
 */
int peer_info_listed(const struct daemon *d, const struct peer_info *p);

/* Short hex of a key for log lines ("ab12cd34"). */
const char *peer_key_short(const uint8_t pk[32], char out[17]);

/* Milliseconds since the epoch, for last-sync figures. */
uint64_t peer_wall_ms(void);

#endif
