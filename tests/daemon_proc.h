/*
 * daemon_proc: hamletd (and helper programs) as child processes of a
 * test or a benchmark, on 127.0.0.1 only.
 *
 * Each child gets a temporary home, a local socket and a log file under
 * a directory the caller owns; it is started on a loopback port, waited
 * for within a bound, asked for its status over the local socket, and
 * stopped. Every wait here is bounded in time; every loop in count.
 *
 * Nothing here prints or exits: functions return 0 or a negative errno
 * (or HAMLET_* code) and the caller reports it, a test by assertion, a
 * benchmark by printing and exiting.
 *
 * Children die with the calling process (PR_SET_PDEATHSIG), and
 * daemon_proc_kill_all() ends those still running; daemon_proc_guard()
 * arranges for it to run at exit, on SIGINT/SIGTERM and on a deadline.
 */
#ifndef HAMLET_TESTS_DAEMON_PROC_H
#define HAMLET_TESTS_DAEMON_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define DAEMON_PROC_MAX 16 /* children running at once */
/* bound on a start: "listening on", then the local socket answering. A
 * daemon merely slow to start (a sanitizer, a loaded machine) is waited
 * for, not killed: only one that could not bind its port is tried again */
#define DAEMON_PROC_START_MS 60000

/* A child process. The caller owns the memory; daemon_proc_init() fills
 * it. */
struct daemon_proc {
	char name[64];
	char home[4096]; /* the node's home (hamletd --home) */
	char sock[4096]; /* its local socket */
	char logf[4096]; /* stdout and stderr of every run, appended */
	char addr[32];	 /* "127.0.0.1:PORT" it listens on, once started */
	int port;
	pid_t pid;     /* 0 when not running */
	long log_from; /* the log's size when the current run started */
};

/* --- clock, ports, files ----------------------------------------------- */

long long daemon_proc_now_ms(void);
void daemon_proc_sleep_ms(int ms);
void daemon_proc_sleep_us(int us);

/* A loopback port that was free a moment ago (it may be taken before
 * it is used: start with daemon_proc_start_listening(), which tries
 * again). */
int daemon_proc_free_port(int *ret_port);

/* 1 when a line of path after byte from holds needle; 0 otherwise (also
 * when path cannot be read). */
int daemon_proc_file_has(const char *path, long from, const char *needle);

/* --- processes --------------------------------------------------------- */

/* Set p's name and its paths under dir: home dir/NAME, socket
 * dir/NAME.sock, log dir/NAME.log. Nothing is created. */
void daemon_proc_init(struct daemon_proc *p, const char *dir,
		      const char *name);

/*
 * Run path with argv (NULL-terminated, argv[0] included) as p, its
 * stdout and stderr appended to p->logf. Returns 0, -EBUSY when p runs
 * already, -EMFILE when DAEMON_PROC_MAX children run, or fork's errno.
 */
int daemon_proc_spawn(struct daemon_proc *p, const char *path,
		      const char *const *argv);

/*
 * Run hamletd --home p->home --listen 127.0.0.1:port --socket p->sock,
 * then extra (NULL, or more arguments, NULL-terminated; at most 20).
 * Sets p->port and p->addr. As daemon_proc_spawn().
 */
int daemon_proc_start(struct daemon_proc *p, const char *hamletd, int port,
		      const char *const *extra);

/*
 * After daemon_proc_start(): wait at most limit_ms for p to log
 * "listening on" and then answer on its local socket. Returns 0;
 * -EADDRINUSE when it logged that it cannot listen on its address (the
 * port was taken: it is killed and reaped); -ESRCH when it exited first
 * (reaped); -ETIMEDOUT (it is left running: the caller kills it), or
 * daemon_proc_wait_socket()'s error.
 */
int daemon_proc_wait_started(struct daemon_proc *p, int limit_ms);

/*
 * daemon_proc_start() on a free port until p logs "listening on" and
 * then answers on its local socket (daemon_proc_wait_started(), within
 * DAEMON_PROC_START_MS), trying new ports up to attempts times while a
 * daemon could not listen or exited: a port found free may be taken
 * before the daemon binds it. One that is only slow is waited for, not
 * restarted (which would reset what it counts). Returns 0, or the last
 * attempt's error (-ETIMEDOUT: it is killed; -EADDRINUSE, -ESRCH: it
 * could not listen, it exited).
 */
int daemon_proc_start_listening(struct daemon_proc *p, const char *hamletd,
				const char *const *extra, int attempts);

/*
 * Wait at most limit_ms for a line holding needle in what p logged in
 * its current run. Returns 0 when found, -ESRCH when p exited first (it
 * is reaped: p->pid is 0) or is not running, -ETIMEDOUT.
 */
int daemon_proc_wait_log(struct daemon_proc *p, const char *needle,
			 int limit_ms);

/* 1 when what p logged in its current run has needle. */
int daemon_proc_log_has(const struct daemon_proc *p, const char *needle);
/* Lines of what p logged in its current run that hold needle. */
int daemon_proc_log_count(const struct daemon_proc *p, const char *needle);

/*
 * Wait at most limit_ms until p's local socket answers (the "peers"
 * method, which reads no store), asking every millisecond. Returns 0,
 * -ESRCH when p exited first, -ETIMEDOUT, or rpc_client_call()'s error
 * when the socket took the request but gave no answer.
 */
int daemon_proc_wait_socket(struct daemon_proc *p, int limit_ms);

/*
 * Send sig to p and reap it, waiting at most limit_ms; past that, kill
 * it with SIGKILL. Returns 0 with its wait status in *ret_status (may be
 * NULL; 0 when p was not running), or -ETIMEDOUT when it had to be
 * killed. p->pid is 0 after either.
 */
int daemon_proc_stop(struct daemon_proc *p, int sig, int limit_ms,
		     int *ret_status);

/* SIGKILL p and reap it (a crash, as the fault tests cause). */
void daemon_proc_kill(struct daemon_proc *p);

/* SIGKILL and reap every child still running. Async-signal-safe. In a
 * process forked from the one that started them, it does nothing. */
void daemon_proc_kill_all(void);

/*
 * Make daemon_proc_kill_all() run at exit and on SIGINT, SIGTERM and
 * SIGALRM (then the process exits with 128 + the signal), and raise
 * SIGALRM after seconds (0: never), so a stuck run leaves no daemon
 * behind. Returns 0 or -errno.
 */
int daemon_proc_guard(unsigned seconds);

/* Copy the last bytes (at most max) of p's log to f, under a header line
 * naming p; a log that cannot be read is skipped. */
void daemon_proc_log_tail(const struct daemon_proc *p, size_t max, FILE *f);

/* --- the local socket -------------------------------------------------- */

/* A daemon's "status" answer, its per-peer figures summed over peers. */
struct daemon_status {
	char digest[65]; /* hex */
	uint64_t records;
	int peers;     /* known peers */
	int connected; /* of which connected */
	uint64_t bytes_in, bytes_out;
	uint64_t entries_in, entries_out, entries_dup_in;
	uint64_t messages_in, neg_in, batches_in;
	/* batches received whole while the one before was committing */
	uint64_t batches_in_overlap;
	uint64_t since_used, agreed; /* reconnections from a kept basis; bases kept */
	uint64_t chain_ref_out;	 /* HELLOs that named our chain by its ids */
	uint64_t certs_want_out; /* peers' chains asked for */
	uint64_t entries_bytes_out; /* of bytes_out, ENTRIES messages' */
	uint64_t batch_credit; /* the largest */
	uint64_t batch_ceiling; /* the smallest */
	/* sessions that ended with a batch of a peer's lost */
	uint64_t batches_lost_in;
	/* arriving entries refused since the daemon started, by reason */
	uint64_t refused_invalid, refused_scope, refused_future;
	uint64_t refused_held_cap, held_expired, refused_frozen, forks;
	uint64_t refused_not_granted, refused_revoked;
	/* entries asked of peers and not come yet ("progress") */
	uint64_t to_receive;
};

/*
 * Ask the daemon at sock for its status, waiting at most timeout_ms.
 * Returns 0, an rpc_client_call() error, the daemon's negative code, or
 * HAMLET_EFORMAT (or another mp error) for an answer of the wrong shape.
 */
int daemon_proc_status(const char *sock, int timeout_ms,
		       struct daemon_status *ret);

/*
 * Ask the status of sock every 20 ms until want peers are connected, at
 * most limit_ms. Returns 0, -ETIMEDOUT, or daemon_proc_status()'s error.
 */
int daemon_proc_wait_connected(const char *sock, int want, int limit_ms);

/*
 * Call method (arg: NULL or its one string argument) and check that the
 * answer is [0, nil]. Returns 0, an rpc_client_call() error, the
 * daemon's negative code, or HAMLET_EFORMAT.
 */
int daemon_proc_call(const char *sock, const char *method, const char *arg,
		     int timeout_ms);

/*
 * One put through the daemon's "write" method, as `hamlet put` sends it:
 * record_id of collection with body (a msgpack map) in scope (NULL: the
 * daemon node's own). The daemon signs and commits it before it answers.
 * Returns 0 with the new entry's id in ret_id, or an error as
 * daemon_proc_call() (why says what the daemon answered; "" otherwise).
 */
int daemon_proc_put(const char *sock, const char *collection,
		    const char *record_id, const char *scope,
		    const uint8_t *body, size_t body_len, int timeout_ms,
		    uint8_t ret_id[32], char *why, size_t wl);

#endif
