/*
 * conn: one TCP connection to another node and the address it was dialled
 * from, shared by peer.c (transport, handshake, framing), dial.c (dialling
 * the configured addresses) and sync.c (the replication session on it).
 * Nothing else sees inside a connection.
 */
#ifndef HAMLETD_CONN_H
#define HAMLETD_CONN_H

#include "daemon.h"
#include "noise.h"
#include "sync.h"

#include <stdint.h>
#include <uv.h>

/*
 * How far the last failed dial of an address got: the advice hamlet
 * status gives differs with it (status --json "stage"). Only a close
 * after the handshake can be a refusal of this node's certificate;
 * before it, the other node has not seen one.
 */
enum dial_stage {
	DIAL_NO_CONNECTION = 0, /* no TCP connection (or no address) */
	DIAL_HS_TIMEOUT,	/* connected; no handshake answer in time */
	DIAL_NOT_HAMLET,	/* it answered with what no handshake is */
	DIAL_OTHER_NETWORK,	/* closed before answering our first
				 * message, or it does not hold under our
				 * network key */
	DIAL_HANDSHAKE,		/* the handshake failed otherwise */
	DIAL_HELLO_TIMEOUT,	/* the handshake held; no HELLO in time */
	DIAL_SESSION,		/* the handshake held; closed or refused
				 * before the session */
	DIAL_PEER_CERT,		/* the handshake held; this node refused
				 * the other's certificate (revoked, ended) */
};

/* A configured address we dial. */
struct peer_addr {
	struct daemon *d;
	struct peer_addr *next;
	char addr[CONFIG_MAX_ADDR];
	char host[CONFIG_MAX_ADDR];
	char port[8];
	uv_timer_t timer;
	uv_getaddrinfo_t gai;
	int gai_busy, timer_open, removed;
	struct conn *conn;
	uint64_t backoff_ms;
	int has_pk;
	uint8_t pk[32];
	/* dials that failed since the last session: why the last one did,
	 * for the log (once per new reason) and hamlet status */
	uint64_t fails, failing_since_ms;
	uint64_t last_fail_ms; /* wall clock of the last failed dial */
	enum dial_stage stage; /* how far the last failed dial got */
	char why[200];
	/* the reasons logged since the last session that stood (peer.c),
	 * by hash: a reason that comes back, after another or after a
	 * session the peer closed at once, is not logged again */
	uint32_t logged[4];
	unsigned nlogged;
};

enum conn_state {
	CONN_HANDSHAKE = 1,
	CONN_HELLO = 2,
	CONN_READY = 4,
	CONN_CERTS = 8, /* HELLO read; its chain asked for (CERTS_WANT) */
};

struct cert;
struct cert_chain;

struct conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	int handles; /* open handles; freed when 0 and refs 0 */
	int refs;    /* work requests holding the conn */
	int closing;
	int connected; /* TCP is up */
	int spoke;     /* a whole handshake message of it held */
	int framed;    /* a frame has come since the handshake ended */
	/* where a dial failing in the handshake failed, set where that is
	 * known (0: judged by state, peer.c) */
	enum dial_stage fail;
	struct daemon *d;
	struct conn *next, *prev;
	struct peer_addr *pa; /* outbound: the address dialled */
	int initiator;
	int state;
	char name[CONFIG_MAX_ADDR + 24];
	char host[48]; /* incoming: the source address, without the port */
	struct noise_hs *hs;
	struct noise_cipher tx, rx;
	int has_rpk;
	uint8_t rpk[32];
	uint8_t hs_hash[64]; /* the Noise handshake hash: HELLO's proofs */
	struct cert *cert;   /* the peer's certificate, once its HELLO held */
	struct cert_chain *chain; /* and its whole chain */
	struct cert *own;    /* ours, as sent in our HELLO (NULL: none) */
	uint64_t cert_end_ms; /* wall clock: the first expiry in either chain
			       * (0: none); the session ends there */
	struct peer_info *info;
	uint8_t *in;
	size_t in_len;
	uint8_t *msg;
	size_t msg_len, msg_cap;
	size_t wq_bytes;
	uint64_t t_start, t_rx, t_tx;
	uint64_t t_ready; /* HELLO received */
	struct wire_msg *m;
	struct sync_session sy;
};

#endif
