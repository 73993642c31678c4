/*
 * hamletd: the replication daemon. Parse arguments and config, open the
 * store, bind, handle signals, run the loop, tear down.
 */
#include "config.h"
#include "error.h"
#include "hamletd.h"
#include "noise.h"
#include "peer.h"
#include "rpc.h"
#include "sync.h"

#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

static int log_max = DLOG_INFO;

void dlog(int level, const char *fmt, ...)
{
	va_list ap;
	if (level > log_max)
		return;
	fprintf(stderr, "<%d>hamletd: ", level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void daemon_stop(struct daemon *d)
{
	if (d->stopping)
		return;
	d->stopping = 1;
	sd_notify(0, "STOPPING=1");
	sync_jobs_cancel(d);
	peers_stop(d);
	rpc_stop(d);
	uv_close((uv_handle_t *)&d->poll, NULL);
	uv_close((uv_handle_t *)&d->watchdog, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sighup, NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;
	char why[512];
	if (signum == SIGHUP) {
		if (config_reload_peers(&d->cfg, why, sizeof(why)) < 0) {
			dlog(DLOG_ERR, "reload: %s; keeping the old peer list",
			     why);
			return;
		}
		dlog(DLOG_NOTICE, "reloaded the peer list (%zu peers)",
		     d->cfg.npeers);
		peers_sync_config(d);
		return;
	}
	dlog(DLOG_NOTICE, "%s: stopping", strsignal(signum));
	daemon_stop(d);
}

static void on_poll(uv_timer_t *t)
{
	sync_heads_check(t->data);
}

/* WatchdogSec=: ping from the loop, so a stuck loop gets restarted. */
static void on_watchdog(uv_timer_t *t)
{
	(void)t;
	sd_notify(0, "WATCHDOG=1");
}

int main(int argc, char **argv)
{
	struct daemon *d;
	char why[512];
	uv_loop_t loop;
	int r, ret = 1;

	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0) {
		dlog(DLOG_ERR, "libsodium cannot start");
		return 1;
	}
	if (!(d = calloc(1, sizeof(*d)))) {
		dlog(DLOG_ERR, "out of memory");
		return 1;
	}
	if ((r = config_from_args(argc, argv, &d->cfg, why, sizeof(why))) != 0) {
		if (r < 0)
			dlog(DLOG_ERR, "%s", why);
		free(d);
		return r < 0 ? 2 : 0;
	}
	if (d->cfg.verbose)
		log_max = DLOG_DEBUG;
	if ((r = node_open(d->cfg.home, 0, &d->node, why, sizeof(why))) < 0) {
		dlog(DLOG_ERR, "cannot open node %s: %s", d->cfg.home, why);
		free(d);
		return 1;
	}
	if ((r = noise_key_from_ed25519_sk(d->node->sk, d->x_priv)) < 0) {
		dlog(DLOG_ERR, "node key cannot be used for Noise");
		goto out_node;
	}
	uv_loop_init(&loop);
	d->loop = &loop;
	uv_timer_init(&loop, &d->poll);
	d->poll.data = d;
	uv_timer_init(&loop, &d->watchdog);
	uv_signal_init(&loop, &d->sigint);
	uv_signal_init(&loop, &d->sigterm);
	uv_signal_init(&loop, &d->sighup);
	d->sigint.data = d->sigterm.data = d->sighup.data = d;
	uv_signal_start(&d->sigint, on_signal, SIGINT);
	uv_signal_start(&d->sigterm, on_signal, SIGTERM);
	uv_signal_start(&d->sighup, on_signal, SIGHUP);

	sync_heads_check(d); /* the first snapshot */
	if ((r = peers_start(d)) < 0 || (r = rpc_start(d)) < 0) {
		daemon_stop(d);
		uv_run(&loop, UV_RUN_DEFAULT);
		goto out_loop;
	}
	uv_timer_start(&d->poll, on_poll, HAMLETD_POLL_MS, HAMLETD_POLL_MS);
	{
		uint64_t usec;
		if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000)
			uv_timer_start(&d->watchdog, on_watchdog, usec / 2000,
				       usec / 2000);
	}
	dlog(DLOG_NOTICE, "node %s ready (%s)", d->node->name, d->node->scope);
	sd_notify(0, "READY=1");
	uv_run(&loop, UV_RUN_DEFAULT);
	ret = 0;
out_loop:
	if (uv_loop_close(&loop) != 0)
		dlog(DLOG_WARNING, "event loop closed with handles open");
	sync_heads_close(d);
out_node:
	sodium_memzero(d->x_priv, sizeof(d->x_priv));
	node_close(d->node);
	free(d);
	return ret;
}
