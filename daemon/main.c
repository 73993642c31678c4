/*
 * hamletd: the replication daemon. Parse arguments and config, open the
 * store, bind, handle signals, run the loop, tear down.
 */
#include "access.h"
#include "changes.h"
#include "config.h"
#include "hlc.h"
#include "node.h"
#include "scopemap.h"
#include "contact.h"
#include "daemon.h"
#include "dlog.h"
#include "error.h"
#include "ingest.h"
#include "noise.h"
#include "peer.h"
#include "rpc.h"
#include "http.h"
#include "i18n.h"
#include "sync.h"
#include "why.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

/* Run as root on a node's directory that is another user's: whatever
 * hamletd made there (its socket, the store's files after a compaction)
 * would be root's, which that user's hamletd cannot use after. 1, with
 * why, to refuse. */
static int root_on_users_home(const char *home, char *why, size_t wl)
{
	struct stat hs;
	struct passwd *pw;

	if (geteuid() != 0 || stat(home, &hs) != 0 || hs.st_uid == 0)
		return 0;
	pw = getpwuid(hs.st_uid);
	if (pw)
		snprintf(why, wl,
			 _("hamletd is running as root, but the node in %s belongs to the user %s: run it as that user (sudo -u %s hamletd ..., as the systemd unit does with User=%s), so that what it writes there stays that user's"),
			 home, pw->pw_name, pw->pw_name, pw->pw_name);
	else
		snprintf(why, wl,
			 _("hamletd is running as root, but the node in %s belongs to user id %u: run it as that user, so that what it writes there stays that user's"),
			 home, (unsigned)hs.st_uid);
	return 1;
}

/* A node that cannot open for a reason a restart does not change: a
 * file missing, damaged, of another format or not readable by this
 * user. */
static int node_file_fault(int r)
{
	return r == -ENOENT || r == -ENOTDIR || r == -EACCES ||
	       r == -EPERM || r == HAMLET_EFORMAT || r == HAMLET_ETYPE ||
	       r == HAMLET_ECONFIG || r == HAMLET_EKEY ||
	       r == HAMLET_EVERSION || r == HAMLET_ENETWORK;
}

/*
 * One daemon per home: a second would be another writer and would take
 * over the first one's socket. The lock lives as long as the process (the
 * kernel drops it on any exit, kill -9 included). The file says who holds
 * it (home_lock_say()). Returns the locked file's descriptor.
 */
static int home_lock(const char *home, char *why, size_t wl)
{
	char path[CONFIG_MAX_PATH + 32], pid[32] = "";
	ssize_t n;
	int fd, tries = 0, locked;

	snprintf(path, sizeof(path), "%s/hamletd.lock", home);
	/* never through a symbolic link: the file it points to would be
	 * overwritten with the pid */
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		       0640)) < 0) {
		int e = errno;
		if (e == ELOOP)
			snprintf(why, wl,
				 _("%s is a symbolic link: hamletd will not write its pid through it, into the file it points to; remove the link (hamletd makes the file itself), then start hamletd"),
				 path);
		else if (e == EISDIR)
			snprintf(why, wl,
				 _("%s is a directory, not hamletd's lock file: hamletd will not use it; move it away, then start hamletd"),
				 path);
		else if (e == ENOENT)
			snprintf(why, wl,
				 _("no node in %s: the directory does not exist (create the node with \"hamlet --home %s init --network FILE --name NAME --scope SCOPE\")"),
				 home, home);
		else if (e == EROFS && getenv("INVOCATION_ID"))
			/* under systemd: the unit's sandbox (ProtectSystem=
			 * strict) is the likelier cause than a disk error */
			snprintf(why, wl,
				 _("cannot open %s: %s is read-only to hamletd: under systemd, hamletd.service lets it write only /var/lib/hamlet and /run/hamlet (ProtectSystem=strict): put the node's home there, or let it write %s (ReadWritePaths= in a drop-in: systemctl edit hamletd). If the home is there already, its disk may have had an error: check it (dmesg, fsck)"),
				 path, home, home);
		else if (e == EROFS)
			snprintf(why, wl,
				 _("cannot open %s: the file system holding %s is read-only (Linux makes it so after a disk error): check the disk (dmesg, fsck), make it writable again (mount -o remount,rw), then start hamletd"),
				 path, home);
		else if (e == EACCES) {
			char hint[1200];
			dlog_dir_denied(home, path, hint, sizeof(hint));
			snprintf(why, wl, _("cannot open %s: permission denied: %s"),
				 path, hint);
		}
		else
			snprintf(why, wl, _("cannot open %s: %s"), path,
				 strerror(e));
		return -e;
	}
	{
		struct stat sb;
		if (fstat(fd, &sb) == 0 && !S_ISREG(sb.st_mode)) {
			snprintf(why, wl,
				 _("%s is not a regular file (a pipe, a socket or a device), not hamletd's lock file: hamletd will not use it; move it away, then start hamletd"),
				 path);
			close(fd);
			return -EINVAL;
		}
	}
	/* hamlet takes the lock shared for an instant to learn whether a
	 * daemon holds it: wait that out (at most 0.5 s) */
	while ((locked = flock(fd, LOCK_EX | LOCK_NB)) < 0 &&
	       (errno == EWOULDBLOCK || errno == EINTR) && ++tries < 50)
		usleep(10000);
	if (locked < 0) {
		int e = errno;
		if ((n = pread(fd, pid, sizeof(pid) - 1, 0)) > 0) {
			pid[n] = 0;
			pid[strcspn(pid, "\n")] = 0;
		}
		if (e == EWOULDBLOCK)
			snprintf(why, wl,
				 _("another hamletd (pid %s) already serves %s; stop it first (systemctl stop hamletd, or kill %s)"),
				 pid[0] ? pid : "?", home, pid[0] ? pid : "it");
		else
			snprintf(why, wl, _("cannot lock %s: %s"), path,
				 strerror(e));
		close(fd);
		return -e;
	}
	/* the home directory itself, locked too: the file can be deleted
	 * or replaced under a running daemon (a clean-up, a restore), and
	 * a second daemon would then lock the new one and write the same
	 * feeds beside the first; the directory it runs in cannot be. Its
	 * descriptor is kept for the process's life, as the file's */
	{
		int dfd = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC),
		    dlocked = 0;
		if (dfd < 0)
			dlog(DLOG_WARNING,
			     _("cannot open %s to lock it (%s): only %s guards against a second hamletd on this home"),
			     home, strerror(errno), path);
		/* a daemon still exiting holds it a moment longer, as the
		 * file: the same wait */
		tries = 0;
		while (dfd >= 0 &&
		       (dlocked = flock(dfd, LOCK_EX | LOCK_NB)) < 0 &&
		       (errno == EWOULDBLOCK || errno == EINTR) && ++tries < 50)
			usleep(10000);
		if (dfd >= 0 && dlocked < 0) {
			int e = errno;
			if (e == EWOULDBLOCK)
				snprintf(why, wl,
					 _("another hamletd already serves %s (its lock file %s was deleted or replaced since it started); stop it first (systemctl stop hamletd, or kill the hamletd whose --home is %s)"),
					 home, path, home);
			else
				snprintf(why, wl, _("cannot lock %s: %s"),
					 home, strerror(e));
			close(dfd);
			close(fd);
			return -e;
		}
	}
	/* what the file says is its holder's word: hamlet trusts it only
	 * while the lock is held, and what an earlier daemon (or the
	 * original's, in a copied home) wrote is not ours */
	if (ftruncate(fd, 0) != 0)
		dlog(DLOG_WARNING, _("cannot empty %s: %s"), path,
		     strerror(errno));
	return fd;
}

/*
 * Write who holds the lock fd: the pid on its first line, the socket on
 * its second, so that hamlet finds a socket set outside the home
 * (cli_rpc.c reads it). Only once the socket is ours: a daemon refused
 * there (another one answers on it, its lock file deleted) must not
 * leave its pid, dead a moment later, where hamlet looks for the running
 * one's. 0, or a negative errno (-ENOSPC: the disk is full).
 */
static int home_lock_say(int fd, const char *sock)
{
	char text[2 * CONFIG_MAX_PATH + 64], cwd[CONFIG_MAX_PATH] = "";
	size_t len;
	ssize_t n;

	/* a relative socket is relative to where hamletd started */
	if (sock[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		cwd[0] = 0;
	snprintf(text, sizeof(text), "%ld\n%s%s%s\n", (long)getpid(), cwd,
		 cwd[0] ? "/" : "", sock);
	len = strlen(text);
	if (ftruncate(fd, 0) != 0)
		return -errno;
	/* a line cut short by a full disk is no line: hamlet reads whole
	 * lines only */
	if ((n = pwrite(fd, text, len, 0)) != (ssize_t)len)
		return n < 0 ? -errno : -ENOSPC;
	return 0;
}

/* The pid and socket could not be written into HOME/hamletd.lock (a full
 * disk): tried again every LOCK_SAY_RETRY_MS until they are. */
#define LOCK_SAY_RETRY_MS 5000

static void on_lock_say_retry(uv_timer_t *t)
{
	struct daemon *d = t->data;
	if (home_lock_say(d->lock_fd, d->cfg.socket) < 0)
		return; /* said once, at start */
	uv_timer_stop(t);
	dlog(DLOG_NOTICE,
	     _("wrote the pid and the socket into %s/hamletd.lock: hamlet finds this daemon again"),
	     d->cfg.home);
}

/*
 * What the node's certificate, valid now, does not let it read leaves the
 * store: the take-out `hamlet cert install` does, when it was cut short
 * (a power cut after the certificate was written) or the certificate
 * put in place by hand. Nothing when the certificate holds no longer (an
 * ended one would keep only the node's own scope) or nothing is out.
 */
static void keep_at_start(struct daemon *d)
{
	struct cert_chain *ch = malloc(sizeof(*ch));
	struct log_keep_result k = { 0 };
	struct log_reader rd;
	int r;

	if (!ch)
		return;
	node_reader(d->node, ch, &rd);
	if (rd.grant && (r = log_keep_reads(d->node->st, &rd, &k)) < 0)
		dlog(DLOG_WARNING,
		     _("cannot take out what this node's certificate does not let it read: %s"),
		     _(hamlet_strerror(r)));
	else if (k.entries || k.held || k.proofs || k.feeds) {
		dlog(DLOG_NOTICE,
		     _("took out what this node's certificate does not let it read (its installation was cut short): stored entries: %llu, waiting: %llu"),
		     (unsigned long long)k.entries,
		     (unsigned long long)k.held);
		node_scopes_refresh(d->node);
	}
	free(ch);
}

/* The exit status of a stop for a damaged store: systemd does not
 * restart it (RestartPreventExitStatus), as a restart would find the
 * same pages again. */
#define HAMLETD_EXIT_DAMAGED 6

/* For store_on_damaged() (store.h): the database library met a page of
 * the store that is missing (the file cut short: SIGBUS) or does not fit
 * with the others (its assertion). It would end the daemon with its own
 * words or none; this says what they mean and stops it, on whichever
 * thread read the page. */
static void store_damaged_stop(const char *dir, const char *what)
{
	dlog(DLOG_ERR,
	     _("the store in %s is DAMAGED: the database library met a page of it that is missing or does not fit with the others (%s). hamletd stops (exit 6; systemd does not restart it): what was being written at that moment is not stored. Run hamlet verify, and restore the store from a peer or a backup (operator guide, \"Checking\")"),
	     dir, _(what));
	/* not exit(): the other threads are in the store and the loop */
	_exit(HAMLETD_EXIT_DAMAGED);
}

/* Pushes follow commits: the writer tells which feeds moved. */
static void on_commit(void *ctx, const struct log_advances *adv)
{
	struct daemon *d = ctx;
	sync_push(d, adv);
	http_committed(d->http); /* the changes feed's readers */
}

static void daemon_stop(struct daemon *d)
{
	if (d->stopping)
		return;
	d->stopping = 1;
	sd_notify(0, "STOPPING=1");
	ingest_stop(d->ingest);
	http_stop(d->http);
	peers_stop(d);
	rpc_stop(d);
	uv_close((uv_handle_t *)&d->watchdog, NULL);
	if (d->lock_timer_open)
		uv_close((uv_handle_t *)&d->lock_timer, NULL);
	contact_stop(d);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sighup, NULL);
}

/* A [budget] peer line that names none of the peers we dial: it can
 * still be for one that dials us, matched by its address (a number),
 * never by a name such as localhost. */
static void budget_stray(void *ctx, const char *addr)
{
	char host[CONFIG_MAX_ADDR], port[16];
	uint8_t ip[16];
	(void)ctx;
	if (config_addr_split(addr, host, sizeof(host), port, sizeof(port)) ==
		    0 &&
	    (inet_pton(AF_INET, host, ip) == 1 ||
	     inet_pton(AF_INET6, host, ip) == 1)) {
		dlog(DLOG_NOTICE,
		     _("[budget] peer %s is none of the peers this node dials: it limits what is sent to a peer that dials in from %s"),
		     addr, host);
		return;
	}
	dlog(DLOG_WARNING,
	     _("[budget] peer %s limits nothing: it is none of the peers this node dials (peers, --peer), and a peer that dials in is known by its address, not a name; write the address exactly as in peers"),
	     addr);
}

/*
 * What a start refuses of the config c beyond the file and the flags, for
 * the node ctx (a struct node) it serves: scopes that leave out the
 * node's own scope (what it writes would stay here for good while it says
 * "in sync": a typing mistake), and a socket path where no socket can be
 * (rpc_socket_check()). The start runs it, and so does a reload on the
 * file read again: a file a start would refuse changes nothing then.
 */
static int start_check(void *ctx, const struct config *c, char *why, size_t wl)
{
	const struct node *n = ctx;
	char list[CONFIG_MAX_SCOPES * (ENTRY_MAX_SCOPE + 2)] = "";

	if (c->nscopes &&
	    !scopemap_under_any(n->smap, n->scope,
				(const char(*)[ENTRY_MAX_SCOPE + 1])c->scopes,
				c->nscopes)) {
		for (size_t i = 0; i < c->nscopes; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list),
				 "%s%s", i ? " " : "", c->scopes[i]);
		/* scopes is set in the file alone */
		snprintf(why, wl,
			 _("%s line %d: scopes = %s leaves out this node's own scope %s: what it writes would never leave it. Add %s (or a scope above it) to scopes, or remove the setting"),
			 c->config_path, c->scopes_line, list, n->scope,
			 n->scope);
		return HAMLET_ECONFIG;
	}
	return rpc_socket_check(c->socket, why, wl);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;
	char why[1024];
	if (signum == SIGHUP) {
		int budgets, changes;
		if (config_reload_peers(&d->cfg, start_check, d->node, &budgets,
					why, sizeof(why)) < 0) {
			dlog(DLOG_ERR,
			     _("reload: %s; nothing is changed, the peers neither: fix the file, as a restart would refuse it"),
			     why);
			return;
		}
		if ((changes = peers_sync_config(d)) > 0)
			dlog(DLOG_NOTICE,
			     P_("reloaded the peer list (%zu peer)",
				"reloaded the peer list (%zu peers)",
				d->cfg.npeers),
			     d->cfg.npeers);
		else if (changes == 0)
			dlog(DLOG_NOTICE,
			     P_("reloaded the config: the peer list is unchanged (%zu peer)",
				"reloaded the config: the peer list is unchanged (%zu peers)",
				d->cfg.npeers),
			     d->cfg.npeers);
		else
			dlog(DLOG_ERR,
			     _("reload: the new peer list could not be taken (%s); the peers stay as they were"),
			     _(hamlet_strerror(changes)));
		if (budgets) {
			dlog(DLOG_NOTICE,
			     _("reloaded the byte budgets ([budget]): the next entries sent to each peer follow them"));
			config_budget_strays(&d->cfg, budget_stray, NULL);
		}
		if (d->cfg.reload_ignored[0])
			dlog(DLOG_WARNING,
			     _("reload: changed in the file, but used only from the next start (systemctl restart hamletd): %s"),
			     d->cfg.reload_ignored);
		return;
	}
	dlog(DLOG_NOTICE, _("%s: stopping"), strsignal(signum));
	daemon_stop(d);
}

/* WatchdogSec=: ping from the loop, so a stuck loop gets restarted. */
static void on_watchdog(uv_timer_t *t)
{
	(void)t;
	sd_notify(0, "WATCHDOG=1");
}

static const char *why_translate_start(const char *fmt)
{
	return _(fmt);
}

/* The line that says hamletd is ready: the node by the name its
 * certificate gives it when one holds (node.conf's name otherwise), and
 * why none holds when so: other nodes refuse its sessions until then. */
static void ready_say(const struct daemon *d)
{
	struct cert_chain ch;
	char why[512] = "";
	int r = node_cert_load(d->node, hlc_wall_ms(), &ch, NULL, NULL, why,
			       sizeof(why));

	if (r == 0) {
		dlog(DLOG_NOTICE, _("node \"%s\" ready (%s)"), ch.c[0].name,
		     d->node->scope);
		return;
	}
	dlog(DLOG_NOTICE, _("node %s ready (%s)"), d->node->name,
	     d->node->scope);
	dlog(DLOG_WARNING, _("no valid certificate: %s"),
	     dlog_tr(why[0] ? why : hamlet_strerror(r)));
}

/* An own-feeds file that cannot be used, and the node's own feeds its
 * store holds less of than it signed (a store restored or replaced):
 * own writes wait for its peers to send them back (node.h). */
static size_t own_feeds_say(struct node *n)
{
	struct node_feed_lag lag[4];
	char why[1024];
	size_t k = 0;
	int p = node_feeds_problem(n, why, sizeof(why));

	if (p)
		dlog(p == 1 ? DLOG_ERR : DLOG_WARNING, "%s", why);
	if (node_feeds_behind(n, lag, 4, &k) < 0)
		return 0;
	for (size_t i = 0; i < k && i < 4; i++)
		dlog(DLOG_WARNING,
		     _("this node signed up to seq %llu in its feed %s, and its store (restored or replaced) holds up to seq %llu: own writes there are refused until its peers send the rest back"),
		     (unsigned long long)lag[i].signed_seq, lag[i].scope,
		     (unsigned long long)lag[i].stored);
	if (k > 4)
		dlog(DLOG_WARNING,
		     P_("and %zu more feed (hamlet own-feeds lists it)",
			"and %zu more feeds (hamlet own-feeds lists them)",
			k - 4),
		     k - 4);
	return k;
}

/* At a clean stop (no job runs): HOME/own-feeds, when its last write
 * failed (a full disk), written once more; when it still cannot be,
 * said, as the node no longer guards what it signed once it stops. */
static void own_feeds_final(struct node *n)
{
	char why[1024], path[CONFIG_MAX_PATH + 32];
	int r;

	if (!node_feeds_unsaved(n))
		return;
	r = node_feeds_retry(n, why, sizeof(why));
	if (r == 1)
		dlog(DLOG_NOTICE, "%s", dlog_tr(why));
	else if (r == 2)
		dlog(DLOG_WARNING, "%s", dlog_tr(why));
	else if (r == HAMLET_ECONFIG)
		dlog(DLOG_ERR, "%s", dlog_tr(why));
	else if (r < 0) {
		snprintf(path, sizeof(path), "%s/%s", n->home, NODE_FEEDS_FILE);
		dlog(DLOG_ERR,
		     _("cannot write %s as hamletd stops (%s): it records less than this node signed (hamlet own-feeds names the feeds). Once there is room, starting hamletd again, or any write, writes it from the store; until then, do not move, restore or replace the store"),
		     path, strerror(-r));
	}
}

int main(int argc, char **argv)
{
	struct daemon *d;
	char why[1024];
	uv_loop_t loop;
	int r, ret = 1, lock_fd, lock_unsaid = 0;

	i18n_init();
	signal(SIGPIPE, SIG_IGN);
	store_on_damaged(store_damaged_stop);
	if (sodium_init() < 0) {
		dlog(DLOG_ERR, _("libsodium cannot start"));
		return 1;
	}
	if (!(d = calloc(1, sizeof(*d)))) {
		dlog(DLOG_ERR, _("out of memory"));
		return 1;
	}
	if ((r = config_from_args(argc, argv, &d->cfg, why, sizeof(why))) != 0) {
		if (r < 0)
			dlog(DLOG_ERR, "%s", why);
		free(d);
		return r < 0 ? 2 : 0;
	}
	if (d->cfg.verbose)
		dlog_set_level(DLOG_DEBUG);
	config_budget_strays(&d->cfg, budget_stray, NULL);
	if (root_on_users_home(d->cfg.home, why, sizeof(why))) {
		dlog(DLOG_ERR, "%s", why);
		free(d);
		return 2;
	}
	if ((lock_fd = home_lock(d->cfg.home, why, sizeof(why))) < 0) {
		dlog(DLOG_ERR, "%s", why);
		free(d);
		/* no such directory, or a lock path that is no file of
		 * ours: a setting to fix, not a moment to wait out
		 * (systemd does not restart on 2) */
		r = lock_fd;
		return r == -ENOENT || r == -ENOTDIR || r == -ELOOP ||
			       r == -EISDIR || r == -EINVAL
			       ? 2
			       : 1;
	}
	/* before the store opens: a wrong --socket is a config error (exit
	 * 2, which systemd does not restart), a live daemon there one more
	 * daemon on this home */
	if ((r = rpc_socket_claim(d->cfg.socket, why, sizeof(why))) < 0) {
		dlog(DLOG_ERR, "%s", why);
		close(lock_fd);
		free(d);
		return r == HAMLET_ECONFIG ? 2 : 1;
	}
	d->lock_fd = lock_fd;
	if ((r = home_lock_say(lock_fd, d->cfg.socket)) < 0) {
		dlog(DLOG_WARNING,
		     _("cannot write the pid and the socket into %s/hamletd.lock: %s. hamlet reads there whether this daemon runs and on which socket: until they are written, a hamlet command may not find the daemon (it says the daemon does not answer). hamletd tries again every %d s"),
		     d->cfg.home, strerror(-r), LOCK_SAY_RETRY_MS / 1000);
		lock_unsaid = 1;
	}
	/* the core's sentences in the operator's language while starting up
	 * (one thread); from then on they go into RPC and HTTP answers too,
	 * which stay English */
	why_translate_set(why_translate_start);
	r = node_open(d->cfg.home, 0, &d->node, why, sizeof(why));
	if (r < 0) {
		why_translate_set(NULL);
		dlog(DLOG_ERR, _("cannot open node %s: %s"), d->cfg.home, why);
		close(lock_fd);
		free(d);
		/* a damaged store does not mend itself, nor does a node's
		 * file missing, damaged or not readable by this user: no
		 * restart (the unit's RestartPreventExitStatus) */
		if (r == HAMLET_ECORRUPT)
			return HAMLETD_EXIT_DAMAGED;
		return node_file_fault(r) ? 2 : 1;
	}
	/* what a reload checks too (rpc_socket_claim() above made the
	 * socket's part of it) */
	if (start_check(d->node, &d->cfg, why, sizeof(why)) < 0) {
		why_translate_set(NULL);
		dlog(DLOG_ERR, "%s", why);
		node_close(d->node);
		close(lock_fd);
		free(d);
		return 2;
	}
	/* the group's operators log their reads there (nodes made before it) */
	if (access_dir_create(d->cfg.home, why, sizeof(why)) < 0)
		dlog(DLOG_WARNING, "%s", why);
	/* a key others may read: said at every start, as status says it */
	if (node_key_loose(d->cfg.home, why, sizeof(why)))
		dlog(DLOG_WARNING, "%s", dlog_tr(why));
	/* a store restored or replaced: its next changes are numbered
	 * again from its last seq, which readers of the changes feed may
	 * have passed on the store it replaced; a new epoch tells them
	 * (docs/api.md, "epoch"). Before the loop, as the trust seed below */
	if (own_feeds_say(d->node)) {
		if ((r = changes_epoch_renew(d->node->st)) < 0)
			dlog(DLOG_WARNING,
			     _("cannot give the store's changes a new epoch: %s"),
			     _(hamlet_strerror(r)));
		else
			dlog(DLOG_NOTICE,
			     _("the store's changes are numbered under a new epoch: readers of /v1/changes start over from 0"));
	} else if ((r = changes_epoch_ensure(d->node->st)) < 0) {
		/* a store with no change yet has no epoch: it gets the one
		 * its first change would give it now, so that /v1/changes
		 * names it from the start (a reader given 0 would be told,
		 * after that first change, that the store was made again) */
		dlog(DLOG_WARNING,
		     _("cannot give the store's changes an epoch: %s"),
		     _(hamlet_strerror(r)));
	}
	why_translate_set(NULL);
	if ((r = noise_key_from_ed25519_sk(d->node->sk, d->x_priv)) < 0) {
		dlog(DLOG_ERR, _("node key cannot be used for Noise"));
		goto out_node;
	}
	uv_loop_init(&loop);
	d->loop = &loop;
	if ((r = ingest_new(&loop, d->node,
			    (const char(*)[ENTRY_MAX_SCOPE + 1])d->cfg.scopes,
			    d->cfg.nscopes, &d->ingest)) < 0) {
		dlog(DLOG_ERR, _("cannot start the writer: %s"), _(hamlet_strerror(r)));
		uv_loop_close(&loop);
		goto out_node;
	}
	ingest_on_commit(d->ingest, on_commit, d);
	ingest_on_trust(d->ingest, sync_trust_changed, d);
	/* our own chain is a member of our trust set */
	if ((r = node_trust_seed(d->node)) < 0)
		dlog(DLOG_WARNING, _("cannot add this node's certificate to its store: %s"),
		     _(hamlet_strerror(r)));
	keep_at_start(d);
	uv_timer_init(&loop, &d->watchdog);
	if (lock_unsaid) {
		uv_timer_init(&loop, &d->lock_timer);
		d->lock_timer.data = d;
		d->lock_timer_open = 1;
		uv_timer_start(&d->lock_timer, on_lock_say_retry,
			       LOCK_SAY_RETRY_MS, LOCK_SAY_RETRY_MS);
	}
	contact_start(d);
	uv_signal_init(&loop, &d->sigint);
	uv_signal_init(&loop, &d->sigterm);
	uv_signal_init(&loop, &d->sighup);
	d->sigint.data = d->sigterm.data = d->sighup.data = d;
	uv_signal_start(&d->sigint, on_signal, SIGINT);
	uv_signal_start(&d->sigterm, on_signal, SIGTERM);
	uv_signal_start(&d->sighup, on_signal, SIGHUP);

	if ((r = peers_start(d)) < 0 || (r = rpc_start(d)) < 0 ||
	    (r = http_start(d, &d->http)) < 0) {
		daemon_stop(d);
		uv_run(&loop, UV_RUN_DEFAULT);
		goto out_loop;
	}
	{
		uint64_t usec;
		if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000)
			uv_timer_start(&d->watchdog, on_watchdog, usec / 2000,
				       usec / 2000);
	}
	ready_say(d);
	sync_own_forks_say(d); /* a copy of this node's key, found before */
	sd_notify(0, "READY=1");
	uv_run(&loop, UV_RUN_DEFAULT);
	ret = 0;
out_loop:
	if (uv_loop_close(&loop) != 0)
		dlog(DLOG_WARNING, _("event loop closed with handles open"));
	contact_save_final(d);
	own_feeds_final(d->node);
	ingest_free(d->ingest);
	http_free(d->http);
out_node:
	sodium_memzero(d->x_priv, sizeof(d->x_priv));
	node_close(d->node);
	close(lock_fd);
	free(d);
	return ret;
}
