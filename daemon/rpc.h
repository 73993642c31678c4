/*
 * rpc: the local control socket (a Unix socket, mode 0660). Each request
 * and response is a u32 big-endian length and a msgpack array; see
 * rpc_client.h for the methods and their answers.
 */
#ifndef HAMLETD_RPC_H
#define HAMLETD_RPC_H

#include "daemon.h"

#include <msgpack.h>

#define RPC_MAX_CLIENTS 16
/* clients accepted in one turn of the loop at most (acceptq.h): half the
 * places, so that one accepted in a turn keeps its place through the
 * next, its request read meanwhile, however fast others come */
#define RPC_ACCEPTS_PER_TURN (RPC_MAX_CLIENTS / 2)
#define RPC_MAX_JOBS 4 /* writes and ingests in progress per client */
#define RPC_MAX_QUEUED ((size_t)4 << 20) /* answer bytes a client leaves unread */
#define RPC_IDLE_MS 60000 /* a client asking nothing this long is closed */
/* a client that leaves its answers unread this long is closed; this
 * long, when its place is wanted by another */
#define RPC_STALL_MS 30000
#define RPC_STALL_WANTED_MS 2000

/* The map the "status" method answers (node, name, digest, records,
 * refused, peers): on the loop thread; also for the HTTP API. */
int rpc_status_pack(struct daemon *d, msgpack_packer *pk);

/*
 * Whether path can be the daemon's socket as far as the config goes:
 * nothing there (and its directory exists), or a socket. Anything that
 * is not a socket (a file, a directory, a link), or a directory that
 * does not exist, is HAMLET_ECONFIG, with why naming it. A start checks
 * it (rpc_socket_claim()), and so does a reload, on the path read again.
 */
int rpc_socket_check(const char *path, char *why, size_t wl);

/*
 * Make path free for rpc_start(), before anything else starts:
 * rpc_socket_check(), then nothing there, or a socket nobody answers on
 * (a daemon that died; removed). A socket someone answers on is
 * -EADDRINUSE; anything that is not a socket is left alone. On failure
 * why says what lies there.
 */
int rpc_socket_claim(const char *path, char *why, size_t wl);

/* Bind cfg.socket (made free by rpc_socket_claim()) and serve requests. */
int rpc_start(struct daemon *d);
/* Close the socket and every client (shutdown). Accepts a daemon that
 * never started it. */
void rpc_stop(struct daemon *d);

#endif
