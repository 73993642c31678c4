/*
 * peer_internal: what peer.c (connections, writing, timers), peer_read.c
 * (the handshake, reading frames) and dial.c (dialling the configured
 * addresses) share. Nothing outside the peer module includes it.
 */
#ifndef HAMLETD_PEER_INTERNAL_H
#define HAMLETD_PEER_INTERNAL_H

#include "conn.h"
#include "wire.h"

#include <stddef.h>
#include <stdint.h>

/* bytes a connection's input buffer holds: a whole frame and its length */
#define PEER__IN_CAP (2 + WIRE_FRAME_MAX + 4096)

/* --- peer.c ------------------------------------------------------------ */

/*
 * A connection in the handshake state, linked into d's list with its
 * handles open and its timer running; the caller accepts or connects on
 * its tcp handle. initiator: we dial, and so send the first handshake
 * message. NULL (logged) when it cannot be made.
 */
struct conn *peer__conn_new(struct daemon *d, int initiator, const char *name);

/*
 * Close c without a log line: c is freed once its handles are closed and
 * no work request holds it. A dialled address is dialled again later
 * unless it was removed or the daemon is stopping.
 */
void peer__conn_close(struct conn *c);

/*
 * peer__conn_close() with a log line naming why (a marked literal or a
 * sentence already translated); own: this node closes it for reasons of
 * its own, which say nothing about whether the address can be reached.
 */
void peer__conn_close_why(struct conn *c, const char *why, int own);

/*
 * Connections that hold a max_peers slot: sessions whose HELLO held and
 * our own dials. Incoming connections before that (the handshake, then
 * HELLO) have slots of their own (HAMLETD_HANDSHAKES_MAX), so a flood of
 * them, even with the network key, cannot lock out either.
 */
size_t peer__conns_slotted(const struct daemon *d);

/*
 * Does name, as an operator types it, name the peer of key pk (NULL:
 * not known) with figures p (may be NULL), dialled at addr (may be
 * NULL): that address or its last one, its certificate's name (case and
 * Vietnamese marks aside), or a prefix (4 hex digits or more) of its key?
 */
int peer__named(const struct peer_info *p, const uint8_t *pk,
		const char *addr, const char *name);

/* Send the next handshake message, carrying payload (plen may be 0). */
int peer__hs_send(struct conn *c, const uint8_t *payload, size_t plen);

/* --- peer_read.c ------------------------------------------------------- */

/* Read from c's socket, which is connected: the handshake starts. */
void peer__conn_read_start(struct conn *c);

/* --- listen.c ---------------------------------------------------------- */

/* Listen on d->cfg.listen and take incoming connections. */
int peer__listen(struct daemon *d);

/* --- dial.c ------------------------------------------------------------ */

/* Dial pa again after its backoff, which doubles up to a cap. */
void peer__dial_later(struct peer_addr *pa);
/* A dial of pa failed for why (English) at stage: counted for hamlet
 * status, logged when the reason is new. Any stage but
 * DIAL_NO_CONNECTION: the TCP connection was made, and the session
 * failed after (silence, another network, the peer refused us). */
void peer__addr_failed(struct peer_addr *pa, const char *why,
		       enum dial_stage stage);

/* How far c, a dial that fails before its session, got (conn.h). */
enum dial_stage peer__conn_stage(const struct conn *c);

/*
 * Stop dialling pa, which the caller has unlinked from d->addrs, and close
 * its connection; pa is freed once its timer is closed and no lookup is
 * under way.
 */
void peer__addr_remove(struct peer_addr *pa);

#endif
