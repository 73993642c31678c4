#include "rpc.h"
#include "conn.h"
#include "scopemap.h"
#include "wire.h"

#include "budget.h"
#include "bytes.h"
#include "cert.h"
#include "error.h"
#include "mp.h"
#include "peer.h"
#include "record.h"
#include "rpc_client.h"
#include "sync.h"
#include "dlog.h"
#include "hlc.h"
#include "ingest.h"
#include "i18n.h"
#include "why.h"

#include <errno.h>
#include <sodium.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct rpc_conn {
	uv_pipe_t pipe;
	uv_timer_t idle; /* closes a client that asks nothing for a while */
	struct daemon *d;
	struct rpc_conn *next;
	uint8_t *buf;
	size_t len;
	size_t queued; /* answer bytes written but not yet taken */
	uint64_t last_ms; /* loop time of its last request */
	int handles;	  /* open handles: pipe and timer */
	int closing;
	int bye;	  /* close once the queued answers are out */
	int refs; /* writes in progress on the thread pool */
	int closed; /* the handles are closed; free when refs drop to 0 */
};

static struct rpc_conn *clients;
static size_t nclients;

static void client_closed(uv_handle_t *h)
{
	struct rpc_conn *rc = h->data;
	struct rpc_conn **pp = &clients;
	if (--rc->handles > 0)
		return;
	while (*pp && *pp != rc)
		pp = &(*pp)->next;
	if (*pp)
		*pp = rc->next;
	nclients--;
	if (rc->refs) {
		rc->closed = 1; /* a write still runs: it frees rc */
		return;
	}
	free(rc->buf);
	free(rc);
}

static void client_close(struct rpc_conn *rc)
{
	if (rc->closing)
		return;
	rc->closing = 1;
	uv_close((uv_handle_t *)&rc->pipe, client_closed);
	uv_close((uv_handle_t *)&rc->idle, client_closed);
}

struct rpc_write {
	uv_write_t req;
	struct rpc_conn *rc;
	size_t len;
	uint8_t data[];
};

/* libuv calls back every write, cancelled ones too, before the close. */
static void write_done(uv_write_t *req, int status)
{
	struct rpc_write *wr = (struct rpc_write *)req;
	struct rpc_conn *rc = wr->rc;
	(void)status;
	rc->queued -= wr->len;
	if (rc->bye && rc->queued == 0)
		client_close(rc);
	free(wr);
}

static void reply(struct rpc_conn *rc, struct mp_writer *w)
{
	size_t n;
	uint8_t *p = mp_writer_take(w, &n);
	struct rpc_write *wr;
	uv_buf_t b;
	if (rc->closing) {
		free(p);
		return;
	}
	if (p && rc->queued + n + 4 > RPC_MAX_QUEUED) {
		/* it asks and never reads: its answers would pile up here */
		dlog(DLOG_WARNING,
		     _("local client does not read its answers (%zu bytes waiting): closed"),
		     rc->queued);
		free(p);
		client_close(rc);
		return;
	}
	if (!p || !(wr = malloc(sizeof(*wr) + 4 + n))) {
		free(p);
		client_close(rc);
		return;
	}
	wr->rc = rc;
	wr->len = n + 4;
	wr->data[0] = (uint8_t)(n >> 24);
	wr->data[1] = (uint8_t)(n >> 16);
	wr->data[2] = (uint8_t)(n >> 8);
	wr->data[3] = (uint8_t)n;
	memcpy(wr->data + 4, p, n);
	free(p);
	b = uv_buf_init((char *)wr->data, (unsigned)(n + 4));
	if (uv_write(&wr->req, (uv_stream_t *)&rc->pipe, &b, 1, write_done) < 0) {
		free(wr);
		client_close(rc);
		return;
	}
	rc->queued += n + 4;
}

static void reply_error(struct rpc_conn *rc, int code, const char *text)
{
	struct mp_writer w;
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_int(&w.pk, code);
	mp_pack_str(&w.pk, text);
	reply(rc, &w);
	mp_writer_destroy(&w);
}

static void reply_ok_nil(struct rpc_conn *rc)
{
	struct mp_writer w;
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_int(&w.pk, 0);
	msgpack_pack_nil(&w.pk);
	reply(rc, &w);
	mp_writer_destroy(&w);
}

static void kv_u64(msgpack_packer *pk, const char *k, uint64_t v)
{
	mp_pack_str(pk, k);
	msgpack_pack_uint64(pk, v);
}

static void pack_refused(msgpack_packer *pk, const struct ingest_refused *c)
{
	mp_pack_str(pk, "refused");
	msgpack_pack_map(pk, 8);
	kv_u64(pk, "invalid", c->invalid);
	kv_u64(pk, "not_granted", c->not_granted);
	kv_u64(pk, "out_of_scope", c->out_of_scope);
	kv_u64(pk, "too_far_ahead", c->future);
	kv_u64(pk, "held_cap", c->held_cap);
	kv_u64(pk, "held_expired", c->held_expired);
	kv_u64(pk, "frozen_feed", c->frozen);
	kv_u64(pk, "forks", c->forks);
}

/* name, scope, role (nil when unknown) and name_source: 4 pairs. */
static void pack_who(msgpack_packer *pk, const struct names_who *w)
{
	const char *role = cert_role_name(w->role);
	mp_pack_str(pk, "name");
	if (w->source)
		mp_pack_str(pk, w->name);
	else
		msgpack_pack_nil(pk);
	mp_pack_str(pk, "scope");
	if (w->source)
		mp_pack_str(pk, w->scope);
	else
		msgpack_pack_nil(pk);
	mp_pack_str(pk, "role");
	if (w->source && role)
		mp_pack_str(pk, role);
	else
		msgpack_pack_nil(pk);
	mp_pack_str(pk, "name_source");
	mp_pack_str(pk, names_source_word(w->source));
}

/* "progress": the sync under way with p: entries received of those
 * asked for, since when, and at what rate. One pair. */
static void pack_progress(msgpack_packer *pk, const struct peer_info *p)
{
	uint64_t now = peer_wall_ms();
	uint64_t ms = now > p->rx_start_ms ? now - p->rx_start_ms : 0;
	mp_pack_str(pk, "progress");
	msgpack_pack_map(pk, 7);
	kv_u64(pk, "received", p->rx_got);
	kv_u64(pk, "total", p->rx_want);
	kv_u64(pk, "to_receive", p->rx_want - p->rx_got);
	kv_u64(pk, "started_ms", p->rx_start_ms);
	kv_u64(pk, "per_s", ms >= 1000 ? p->rx_got * 1000 / ms : 0);
	/* the last batch's arrival, and how long ago: a sync that stopped
	 * (the link, or the sender's byte budget, which is not on the
	 * wire) is told from a slow one by this, not by its mean rate */
	kv_u64(pk, "last_ms", p->rx_last_ms);
	kv_u64(pk, "quiet_ms", now > p->rx_last_ms ? now - p->rx_last_ms : 0);
}

/* The budget the config sets for p now (a reload shows at once, not
 * only once the next entry is sent): by the address we dial it at, else
 * by the host it dialled in from. */
static void budget_now(struct daemon *d, const struct peer_info *p,
		       struct config_budget *ret)
{
	char host[CONFIG_MAX_ADDR], port[16];
	for (const struct conn *c = d->conns; c; c = c->next)
		if (!c->closing && c->info == p) {
			config_budget_for(&d->cfg, c->pa ? c->pa->addr : NULL,
					  c->pa ? NULL : c->host, ret);
			return;
		}
	for (const struct peer_addr *pa = d->addrs; pa; pa = pa->next)
		if (!pa->removed && pa->has_pk && !memcmp(pa->pk, p->pk, 32)) {
			config_budget_for(&d->cfg, pa->addr, NULL, ret);
			return;
		}
	config_budget_for(&d->cfg, NULL,
			  config_addr_split(p->addr, host, sizeof(host), port,
					    sizeof(port)) == 0
				  ? host
				  : NULL,
			  ret);
}

/* "budget": what p's byte budget allows and what waits for it. One pair. */
static void pack_budget(msgpack_packer *pk, struct daemon *d,
			const struct peer_info *p)
{
	int today = p->budget_day == budget_day(time(NULL));
	struct config_budget b;
	budget_now(d, p, &b);
	mp_pack_str(pk, "budget");
	msgpack_pack_map(pk, 7);
	kv_u64(pk, "per_day", b.per_day);
	kv_u64(pk, "per_session", b.per_session);
	kv_u64(pk, "sent_today", today ? p->sent_today : 0);
	kv_u64(pk, "sent_session", p->sent_session);
	mp_pack_str(pk, "held_back");
	if (p->budget_held)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	mp_pack_str(pk, "held_by");
	if (p->budget_held)
		mp_pack_str(pk, p->budget_held == SYNC_HELD_DAY ? "day"
								 : "session");
	else
		msgpack_pack_nil(pk);
	kv_u64(pk, "entries_held", p->budget_held ? p->budget_waiting : 0);
}

/* The configured peers whose dials fail: where, why, since when. */
static void pack_unreached(msgpack_packer *pk, struct daemon *d)
{
	size_t n = 0;
	struct peer_addr *pa;
	for (pa = d->addrs; pa; pa = pa->next)
		n += !pa->removed && pa->fails > 0;
	mp_pack_str(pk, "unreached");
	msgpack_pack_array(pk, n);
	for (pa = d->addrs; pa; pa = pa->next) {
		if (pa->removed || !pa->fails)
			continue;
		msgpack_pack_map(pk, 7);
		mp_pack_str(pk, "addr");
		mp_pack_str(pk, pa->addr);
		kv_u64(pk, "last_ms", pa->last_fail_ms);
		mp_pack_str(pk, "reached");
		if (pa->reached)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		mp_pack_str(pk, "why");
		mp_pack_str(pk, pa->why);
		kv_u64(pk, "tries", pa->fails);
		kv_u64(pk, "since_ms", pa->failing_since_ms);
		kv_u64(pk, "retry_in_ms",
		       pa->timer_open ? uv_timer_get_due_in(&pa->timer) : 0);
	}
}

/* "dials": each address dialled, with the key that answered there last
 * (nil before any did), so that a dial is known by its peer whichever
 * connection to it stands (after a duplicate, the one it opened). */
static void pack_dials(msgpack_packer *pk, struct daemon *d)
{
	size_t n = 0;
	struct peer_addr *pa;
	char hex[65];
	for (pa = d->addrs; pa; pa = pa->next)
		n += !pa->removed;
	mp_pack_str(pk, "dials");
	msgpack_pack_array(pk, n);
	for (pa = d->addrs; pa; pa = pa->next) {
		if (pa->removed)
			continue;
		msgpack_pack_map(pk, 2);
		mp_pack_str(pk, "addr");
		mp_pack_str(pk, pa->addr);
		mp_pack_str(pk, "key");
		if (pa->has_pk) {
			sodium_bin2hex(hex, sizeof(hex), pa->pk, 32);
			mp_pack_str(pk, hex);
		} else {
			msgpack_pack_nil(pk);
		}
	}
}

/*
 * "own_scope_unread": true when peers are connected and none of them may
 * read this node's own scope (a village moved to another commune, still
 * dialling its old one): what it writes stays here though each peer is
 * in sync with it.
 */
static void pack_own_scope(msgpack_packer *pk, struct daemon *d)
{
	int with_cert = 0, reads = 0, all_below = 1;

	for (struct conn *c = d->conns; c; c = c->next) {
		if (!c->cert || c->closing)
			continue;
		with_cert = 1;
		if (scopemap_may_read(d->node->smap, c->cert, d->node->scope))
			reads = 1;
		/* a peer below us (a province's communes): our own
		 * scope's records are not its to take; data flows up */
		if (c->cert->nread == 0)
			all_below = 0;
		for (size_t i = 0; i < c->cert->nread; i++)
			if (!entry_scope_under(c->cert->read[i], d->node->scope) ||
			    strcmp(c->cert->read[i], d->node->scope) == 0)
				all_below = 0;
	}
	mp_pack_str(pk, "own_scope_unread");
	if (with_cert && !reads && !all_below)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

int rpc_status_pack(struct daemon *d, msgpack_packer *pk)
{
	struct store_txn *t = NULL;
	uint8_t digest[32];
	char hex[65];
	uint64_t count = 0;
	size_t np = 0;
	int r;

	/* the digest hashes every record; fine for a village or commune, a
	 * province should ask rarely */
	if ((r = store_txn_begin(d->node->st, 1, &t)) < 0 ||
	    (r = record_digest(t, digest, &count)) < 0) {
		store_txn_abort(t);
		return r;
	}
	store_txn_abort(t);
	for (size_t i = 0; i < HAMLETD_MAX_KNOWN; i++)
		np += (size_t)peer_info_listed(d, &d->known[i]);
	msgpack_pack_map(pk, 9);
	pack_own_scope(pk, d);
	pack_unreached(pk, d);
	pack_dials(pk, d);
	mp_pack_str(pk, "node");
	sodium_bin2hex(hex, sizeof(hex), d->node->pk, 32);
	mp_pack_str(pk, hex);
	mp_pack_str(pk, "name");
	mp_pack_str(pk, d->node->name);
	mp_pack_str(pk, "digest");
	sodium_bin2hex(hex, sizeof(hex), digest, 32);
	mp_pack_str(pk, hex);
	kv_u64(pk, "records", count);
	pack_refused(pk, ingest_refused(d->ingest));
	mp_pack_str(pk, "peers");
	msgpack_pack_array(pk, np);
	for (size_t i = 0; i < HAMLETD_MAX_KNOWN; i++) {
		struct peer_info *p = &d->known[i];
		if (!peer_info_listed(d, p))
			continue;
		msgpack_pack_map(pk, 28 + (p->rx_want > 0));
		mp_pack_str(pk, "key");
		sodium_bin2hex(hex, sizeof(hex), p->pk, 32);
		mp_pack_str(pk, hex);
		pack_who(pk, &p->who);
		/* a key that never completed a session with us (not
		 * connected, never agreed, nothing received, no name from a
		 * certificate): a scanner or a node refused at the handshake,
		 * which status and the page fold into one line */
		mp_pack_str(pk, "stranger");
		if (!p->connected && !p->last_sync_ms && !p->entries_in &&
		    !p->who.source && p->dialled_in)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		if (p->rx_want)
			pack_progress(pk, p);
		mp_pack_str(pk, "addr");
		mp_pack_str(pk, p->addr);
		mp_pack_str(pk, "connected");
		if (p->connected)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		kv_u64(pk, "last_sync_ms", p->last_sync_ms);
		kv_u64(pk, "bytes_in", p->bytes_in);
		kv_u64(pk, "bytes_out", p->bytes_out);
		kv_u64(pk, "entries_in", p->entries_in);
		kv_u64(pk, "entries_out", p->entries_out);
		kv_u64(pk, "entries_bytes_out", p->entries_bytes_out);
		kv_u64(pk, "messages_in", p->msgs_in);
		kv_u64(pk, "neg_in", p->neg_in);
		kv_u64(pk, "since_used", p->since_used);
		kv_u64(pk, "agreed", p->agreed);
		kv_u64(pk, "chain_ref_out", p->chain_ref_out);
		kv_u64(pk, "certs_want_out", p->certs_want_out);
		kv_u64(pk, "entries_dup_in", p->entries_dup_in);
		kv_u64(pk, "batches_in", p->batches_in);
		kv_u64(pk, "batches_in_overlap", p->batches_in_overlap);
		kv_u64(pk, "batch_credit", p->batch_credit);
		kv_u64(pk, "batch_ceiling", sync_peer_ceiling(p));
		kv_u64(pk, "batches_lost_in", p->batches_lost_in);
		kv_u64(pk, "entries_waiting_for_disk", p->disk_wait);
		pack_budget(pk, d, p);
	}
	return 0;
}

static void do_status(struct rpc_conn *rc)
{
	struct mp_writer w;
	int r;

	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_int(&w.pk, 0);
	if ((r = rpc_status_pack(rc->d, &w.pk)) < 0) {
		mp_writer_destroy(&w);
		reply_error(rc, r, hamlet_strerror(r));
		return;
	}
	reply(rc, &w);
	mp_writer_destroy(&w);
}

static void do_peers(struct rpc_conn *rc)
{
	struct config *cfg = &rc->d->cfg;
	struct mp_writer w;
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_int(&w.pk, 0);
	msgpack_pack_array(&w.pk, cfg->npeers);
	for (size_t i = 0; i < cfg->npeers; i++)
		mp_pack_str(&w.pk, cfg->peers[i]);
	reply(rc, &w);
	mp_writer_destroy(&w);
}

static void do_peer_edit(struct rpc_conn *rc, const char *addr, int add)
{
	struct config *cfg = &rc->d->cfg;
	char h[CONFIG_MAX_ADDR], p[8], what[CONFIG_MAX_ADDR + 80];
	size_t i;
	if (strlen(addr) >= CONFIG_MAX_ADDR ||
	    config_addr_split(addr, h, sizeof(h), p, sizeof(p)) < 0 ||
	    (add && atoi(p) == 0)) {
		why_set(what, sizeof(what),
			 N_("\"%.64s\" is not HOST:PORT (a host name, an IPv4 address or an [IPv6] one, and a port 1-65535)"),
			 addr);
		reply_error(rc, -EINVAL, what);
		return;
	}
	for (i = 0; i < cfg->npeers; i++)
		if (strcmp(cfg->peers[i], addr) == 0)
			break;
	if (add && i == cfg->npeers) {
		if (cfg->npeers == CONFIG_MAX_PEERS) {
			why_set(what, sizeof(what),
				 N_("the list of peers to dial is full (%d): remove one first"),
				 CONFIG_MAX_PEERS);
			reply_error(rc, HAMLET_ETOOBIG, what);
			return;
		}
		snprintf(cfg->peers[cfg->npeers++], CONFIG_MAX_ADDR, "%s", addr);
	} else if (!add) {
		if (i == cfg->npeers) {
			why_set(what, sizeof(what),
				 N_("%.64s is not in the list of peers this node dials (hamlet peers list shows them)"),
				 addr);
			reply_error(rc, HAMLET_ENOTFOUND, what);
			return;
		}
		memmove(cfg->peers[i], cfg->peers[i + 1],
			(cfg->npeers - i - 1) * sizeof(cfg->peers[0]));
		cfg->npeers--;
	}
	peers_sync_config(rc->d);
	if (!add) {
		reply_ok_nil(rc);
		return;
	}
	/* say what will be dialled, as the daemon understood it */
	snprintf(what, sizeof(what), "host %s, port %s", h, p);
	{
		struct mp_writer w;
		mp_writer_init(&w);
		msgpack_pack_array(&w.pk, 2);
		msgpack_pack_int(&w.pk, 0);
		mp_pack_str(&w.pk, what);
		reply(rc, &w);
		mp_writer_destroy(&w);
	}
}

/* Reconcile now with every connected peer, or with the one named, and
 * dial now those configured that are not connected (peers_dial_now()).
 * "sync_now" answers {"asked": sessions asked, "dialling": [addresses
 * dialled]}; "sync" answers nil, as it always did. */
static void do_sync(struct rpc_conn *rc, const char *name, int report)
{
	const struct peer_addr *dials[CONFIG_MAX_PEERS];
	size_t n = peers_reconcile(rc->d, name);
	size_t nd = peers_dial_now(rc->d, name, dials, CONFIG_MAX_PEERS);
	struct mp_writer w;

	if (nd > CONFIG_MAX_PEERS)
		nd = CONFIG_MAX_PEERS;
	if (name && n == 0 && nd == 0) {
		char why[CONFIG_MAX_ADDR + 100];
		why_set(why, sizeof(why),
			 N_("%.64s is not a connected peer (hamlet peers list shows them)"),
			 name);
		reply_error(rc, HAMLET_ENOTFOUND, why);
		return;
	}
	if (!report) {
		reply_ok_nil(rc);
		return;
	}
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_int(&w.pk, 0);
	msgpack_pack_map(&w.pk, 2);
	kv_u64(&w.pk, "asked", n);
	mp_pack_str(&w.pk, "dialling");
	msgpack_pack_array(&w.pk, nd);
	for (size_t i = 0; i < nd; i++)
		mp_pack_str(&w.pk, dials[i]->addr);
	reply(rc, &w);
	mp_writer_destroy(&w);
}

/* --- writes and ingests: jobs on the node's one writer ------------- */

/* A `write` or `ingest` request waiting for the ingest queue. */
struct rpc_job {
	struct ingest_job job;
	struct rpc_conn *rc;
	uint8_t *copy; /* the request's argument; the doc borrows from it */
	struct mp_doc doc;
	int have_doc;
	struct log_op *ops;
	char (*strs)[3][ENTRY_MAX_SCOPE + 1];
	struct log_in *in;
	struct log_out *out;
	struct cert_chain *own; /* ingest: this node's certificate */
	struct trustset_item *titems; /* trust */
	struct trustset_out *tout;
};

static struct rpc_job *rpc_job_new(const uint8_t *p, size_t n)
{
	struct rpc_job *j = calloc(1, sizeof(*j));
	if (!j || !(j->copy = malloc(n ? n : 1))) {
		free(j);
		return NULL;
	}
	memcpy(j->copy, p, n);
	return j;
}

static void rpc_job_free(struct rpc_job *j)
{
	if (!j)
		return;
	if (j->have_doc)
		mp_doc_close(&j->doc);
	free(j->copy);
	free(j->ops);
	free(j->strs);
	free(j->in);
	free(j->out);
	free(j->own);
	free(j->titems);
	free(j->tout);
	free(j);
}

/*
 * A job of rc has ended: 1 when its answer is still to be sent. The
 * connection may have closed meanwhile (then the last job frees it) or
 * the daemon be stopping (then say so).
 */
static int job_ended(struct rpc_conn *rc, int r)
{
	rc->refs--;
	if (rc->closed) {
		if (!rc->refs) {
			free(rc->buf);
			free(rc);
		}
		return 0;
	}
	if (r == -ECANCELED) {
		reply_error(rc, -ECANCELED, why_translate(N_("the daemon is stopping")));
		return 0;
	}
	return 1;
}

/* Queue j on the node's writer for rc; on failure answer and free it. */
static void rpc_job_submit(struct rpc_conn *rc, struct rpc_job *j,
			   ingest_done_cb done)
{
	int r;
	j->rc = rc;
	j->job.data = j;
	if ((r = ingest_submit(rc->d->ingest, &j->job, done)) < 0) {
		reply_error(rc, r,
			    r == -EBUSY ? "the node is busy storing: try again"
					: "cannot queue the request");
		rpc_job_free(j);
		return;
	}
	rc->refs++;
}

static void rpc_write_done(struct ingest_job *job)
{
	struct rpc_job *j = job->data;
	struct rpc_conn *rc = j->rc;
	struct mp_writer w;

	if (!job_ended(rc, job->r))
		goto out;
	mp_writer_init(&w);
	if (job->r < 0) {
		msgpack_pack_array(&w.pk, 3);
		msgpack_pack_int(&w.pk, job->r);
		mp_pack_str(&w.pk, job->why[0] ? job->why
						: hamlet_strerror(job->r));
		msgpack_pack_uint64(&w.pk, job->failed);
	} else {
		msgpack_pack_array(&w.pk, 2);
		msgpack_pack_int(&w.pk, 0);
		msgpack_pack_array(&w.pk, job->n);
		for (size_t i = 0; i < job->n; i++) {
			msgpack_pack_array(&w.pk, 2);
			mp_pack_bin(&w.pk, j->out[i].id, 32);
			msgpack_pack_uint64(&w.pk, j->out[i].seq);
		}
	}
	reply(rc, &w);
	mp_writer_destroy(&w);
out:
	rpc_job_free(j);
}

/* Decode one [kind, collection, id, scope|nil, body|nil, resolve]. */
static int write_op_decode(struct rpc_job *j, size_t i,
			   const msgpack_object *o)
{
	struct log_op *op = &j->ops[i];
	const msgpack_object *f;
	uint64_t kind;
	int resolve;
	if (mp_get_array(o, 6, 0, &f, NULL) < 0 ||
	    mp_get_uint(&f[0], ENTRY_ERASE, &kind) < 0 || kind < ENTRY_PUT ||
	    kind == ENTRY_CERT || kind == ENTRY_REVOKE ||
	    mp_get_cstr(&f[1], j->strs[i][0], ENTRY_MAX_COLLECTION + 1) < 0 ||
	    mp_get_cstr(&f[2], j->strs[i][1], ENTRY_MAX_RECORD_ID + 1) < 0 ||
	    (!mp_is_nil(&f[3]) &&
	     mp_get_cstr(&f[3], j->strs[i][2], ENTRY_MAX_SCOPE + 1) < 0) ||
	    mp_get_bool(&f[5], &resolve) < 0)
		return HAMLET_EFORMAT;
	op->kind = (int)kind;
	op->collection = j->strs[i][0];
	op->record_id = j->strs[i][1];
	op->scope = mp_is_nil(&f[3]) ? NULL : j->strs[i][2];
	op->resolve = resolve;
	if (!mp_is_nil(&f[4]) &&
	    mp_get_bin(&f[4], ENTRY_MAX_BODY, &op->body, &op->body_len) < 0)
		return HAMLET_EFORMAT;
	return 0;
}

static void do_write(struct rpc_conn *rc, const uint8_t *p, size_t n)
{
	struct rpc_job *j = rpc_job_new(p, n);
	const msgpack_object *ops;
	size_t nops;

	if (!j) {
		reply_error(rc, -ENOMEM, "out of memory");
		return;
	}
	if (mp_doc_parse(&j->doc, j->copy, n, RPC_MAX_WRITE_OPS) < 0)
		goto bad;
	j->have_doc = 1;
	if (mp_get_array(j->doc.root, SIZE_MAX, RPC_MAX_WRITE_OPS, &ops,
			 &nops) < 0 || nops == 0)
		goto bad;
	j->ops = calloc(nops, sizeof(*j->ops));
	j->strs = calloc(nops, sizeof(*j->strs));
	j->out = calloc(nops, sizeof(*j->out));
	if (!j->ops || !j->strs || !j->out)
		goto bad;
	for (size_t i = 0; i < nops; i++)
		if (write_op_decode(j, i, &ops[i]) < 0)
			goto bad;
	j->job.kind = INGEST_WRITE;
	j->job.ops = j->ops;
	j->job.n = nops;
	j->job.out = j->out;
	rpc_job_submit(rc, j, rpc_write_done);
	return;
bad:
	reply_error(rc, HAMLET_EFORMAT,
		    "write: expected a list of [kind, collection, id, scope|nil, body|nil, resolve]");
	rpc_job_free(j);
}

/* [applied, duplicate, held, released, forks, rejected] of an ingest or
 * trust answer. */
static void pack_stats(msgpack_packer *pk, const struct log_stats *s)
{
	msgpack_pack_array(pk, 6);
	msgpack_pack_uint64(pk, s->applied);
	msgpack_pack_uint64(pk, s->duplicate);
	msgpack_pack_uint64(pk, s->held);
	msgpack_pack_uint64(pk, s->released);
	msgpack_pack_uint64(pk, s->forks);
	msgpack_pack_uint64(pk, s->rejected);
}

static void rpc_ingest_done(struct ingest_job *job)
{
	struct rpc_job *j = job->data;
	struct rpc_conn *rc = j->rc;
	const struct log_stats *s = &job->stats;
	struct mp_writer w;

	if (!job_ended(rc, job->r))
		goto out;
	if (job->r < 0) {
		char why[400];
		snprintf(why, sizeof(why), "ingest: %s", job->why);
		reply_error(rc, job->r, why);
		goto out;
	}
	{
		/* what a bundle brought and was refused: named in the log */
		size_t nref = 0;
		for (size_t i = 0; i < job->n; i++)
			if (j->out[i].status == LOG_REJECTED && ++nref <= 3)
				dlog(DLOG_WARNING, _("import: entry refused: %s"),
				     j->out[i].why);
		if (nref > 3)
			dlog(DLOG_WARNING, _("import: %zu entries refused in all"),
			     nref);
	}
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_int(&w.pk, 0);
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_array(&w.pk, job->n);
	for (size_t i = 0; i < job->n; i++) {
		const struct log_out *o = &j->out[i];
		msgpack_pack_array(&w.pk, 4);
		msgpack_pack_uint64(&w.pk, (uint64_t)o->status);
		msgpack_pack_int(&w.pk, o->err);
		mp_pack_str(&w.pk, o->why);
		msgpack_pack_uint64(&w.pk, o->seq);
	}
	pack_stats(&w.pk, s);
	reply(rc, &w);
	mp_writer_destroy(&w);
out:
	rpc_job_free(j);
}

/* Decode entry i, [env, sig, body|nil]; why names what is wrong. */
static int ingest_entry_decode(struct log_in *e, size_t i,
			       const msgpack_object *o, char *why, size_t wl)
{
	const msgpack_object *f;
	size_t sl;
	if (mp_get_array(o, 3, 0, &f, NULL) < 0) {
		snprintf(why, wl, "ingest: entry %zu is not [env, sig, body|nil]",
			 i);
		return HAMLET_EFORMAT;
	}
	if (mp_get_bin(&f[0], ENTRY_MAX_ENVELOPE, &e->env, &e->env_len) < 0 ||
	    e->env_len == 0) {
		snprintf(why, wl,
			 "ingest: entry %zu: env is not a bin of 1 to %d bytes",
			 i, ENTRY_MAX_ENVELOPE);
		return HAMLET_EFORMAT;
	}
	if (mp_get_bin(&f[1], ENTRY_SIG_LEN, &e->sig, &sl) < 0 ||
	    sl != ENTRY_SIG_LEN) {
		snprintf(why, wl, "ingest: entry %zu: sig is not a bin of %d bytes",
			 i, ENTRY_SIG_LEN);
		return HAMLET_EFORMAT;
	}
	if (!mp_is_nil(&f[2]) &&
	    mp_get_bin(&f[2], ENTRY_MAX_BODY, &e->body, &e->body_len) < 0) {
		snprintf(why, wl,
			 "ingest: entry %zu: body is neither nil nor a bin of at most %d bytes",
			 i, ENTRY_MAX_BODY);
		return HAMLET_EFORMAT;
	}
	return 0;
}

/* Decode ["ingest", bin]'s bin into j->in; why names what is wrong. */
static int ingest_decode(struct rpc_job *j, size_t len, char *why, size_t wl)
{
	const msgpack_object *ents;
	size_t n;
	int r;

	if ((r = mp_doc_parse(&j->doc, j->copy, len, RPC_MAX_INGEST_ENTRIES)) < 0) {
		snprintf(why, wl,
			 "ingest: the argument is not one msgpack value of at most %d entries (%s)",
			 RPC_MAX_INGEST_ENTRIES, hamlet_strerror(r));
		return r;
	}
	j->have_doc = 1;
	r = mp_get_array(j->doc.root, SIZE_MAX, RPC_MAX_INGEST_ENTRIES, &ents, &n);
	if (r == HAMLET_ETOOBIG) {
		snprintf(why, wl, "ingest: more than %d entries in one request",
			 RPC_MAX_INGEST_ENTRIES);
		return r;
	}
	if (r < 0 || n == 0) {
		snprintf(why, wl,
			 "ingest: expected a list of 1 to %d entries [env, sig, body|nil]",
			 RPC_MAX_INGEST_ENTRIES);
		return HAMLET_EFORMAT;
	}
	if (!(j->in = calloc(n, sizeof(*j->in))) ||
	    !(j->out = calloc(n, sizeof(*j->out)))) {
		snprintf(why, wl, "ingest: out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if ((r = ingest_entry_decode(&j->in[i], i, &ents[i], why, wl)) < 0)
			return r;
	j->job.n = n;
	return 0;
}

static void do_ingest(struct rpc_conn *rc, const uint8_t *p, size_t n)
{
	struct rpc_job *j = rpc_job_new(p, n);
	char why[200];
	int r;

	if (!j) {
		reply_error(rc, -ENOMEM, "out of memory");
		return;
	}
	if ((r = ingest_decode(j, n, why, sizeof(why))) < 0) {
		reply_error(rc, r, why);
		rpc_job_free(j);
		return;
	}
	/* a bundle: each entry stands alone, the refused are reported;
	 * those this node's certificate does not let it read among them */
	if ((j->own = malloc(sizeof(*j->own)))) {
		/* a revoked node still keeps to what its certificate let it
		 * read */
		int cr = node_cert_load(rc->d->node, hlc_wall_ms(), j->own,
					NULL, NULL, why, sizeof(why));
		if (cr == 0 || cr == HAMLET_EREVOKED)
			j->job.read_grant = &j->own->c[0];
	}
	j->job.kind = INGEST_ENTRIES;
	j->job.whole = 0;
	j->job.in = j->in;
	j->job.out = j->out;
	rpc_job_submit(rc, j, rpc_ingest_done);
}

static void rpc_trust_done(struct ingest_job *job)
{
	struct rpc_job *j = job->data;
	struct rpc_conn *rc = j->rc;
	struct mp_writer w;

	if (!job_ended(rc, job->r))
		goto out;
	if (job->r < 0) {
		char why[400];
		snprintf(why, sizeof(why), "trust: %s", job->why);
		reply_error(rc, job->r, why);
		goto out;
	}
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_int(&w.pk, 0);
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_array(&w.pk, job->n);
	for (size_t i = 0; i < job->n; i++) {
		const struct trustset_out *o = &j->tout[i];
		msgpack_pack_array(&w.pk, 3);
		msgpack_pack_uint64(&w.pk, (uint64_t)o->status);
		msgpack_pack_int(&w.pk, o->err);
		mp_pack_str(&w.pk, o->why);
	}
	/* held entries a new certificate let in count as released */
	pack_stats(&w.pk, &job->stats);
	reply(rc, &w);
	mp_writer_destroy(&w);
out:
	rpc_job_free(j);
}

/* ["trust", bin]: bin is a list of [kind, item] (certificates,
 * revocations, fork proofs) for the trust set, through the writer. */
static void do_trust(struct rpc_conn *rc, const uint8_t *p, size_t n)
{
	struct rpc_job *j = rpc_job_new(p, n);
	const msgpack_object *its, *f;
	size_t ni;
	uint64_t kind;
	int r;

	if (!j) {
		reply_error(rc, -ENOMEM, "out of memory");
		return;
	}
	if ((r = mp_doc_parse(&j->doc, j->copy, n, 4 * WIRE_MAX_TRUST_ITEMS)) <
	    0)
		goto bad;
	j->have_doc = 1;
	if (mp_get_array(j->doc.root, SIZE_MAX, WIRE_MAX_TRUST_ITEMS, &its,
			 &ni) < 0 ||
	    ni == 0)
		goto bad;
	if (!(j->titems = calloc(ni, sizeof(*j->titems))) ||
	    !(j->tout = calloc(ni, sizeof(*j->tout)))) {
		reply_error(rc, -ENOMEM, "out of memory");
		rpc_job_free(j);
		return;
	}
	for (size_t i = 0; i < ni; i++) {
		if (mp_get_array(&its[i], 2, 0, &f, NULL) < 0 ||
		    mp_get_uint(&f[0], TRUST_KIND_MAX, &kind) < 0 || kind == 0 ||
		    mp_get_bin(&f[1], TRUST_ITEM_MAX, &j->titems[i].data,
			       &j->titems[i].len) < 0)
			goto bad;
		j->titems[i].kind = (int)kind;
	}
	j->job.kind = INGEST_TRUST;
	j->job.items = j->titems;
	j->job.tout = j->tout;
	j->job.n = ni;
	rpc_job_submit(rc, j, rpc_trust_done);
	return;
bad:
	reply_error(rc, HAMLET_EFORMAT,
		    "trust: expected a list of 1 to 256 [kind (1 certificate, 2 revocation, 3 fork proof, 4 scope move), item bytes]");
	rpc_job_free(j);
}

/* Methods whose argument is a bin; each handler copies what it keeps. */
static const struct {
	const char *name;
	void (*fn)(struct rpc_conn *rc, const uint8_t *p, size_t n);
} bin_methods[] = {
	{ "write", do_write },
	{ "ingest", do_ingest },
	{ "trust", do_trust },
};

static void handle(struct rpc_conn *rc, const uint8_t *p, size_t n)
{
	struct mp_doc doc;
	const msgpack_object *a;
	size_t na;
	char method[32], arg[CONFIG_MAX_ADDR] = "";
	if (mp_doc_parse(&doc, p, n, 8) < 0) {
		reply_error(rc, HAMLET_EFORMAT, "request is not msgpack");
		return;
	}
	if (mp_get_array(doc.root, SIZE_MAX, 2, &a, &na) == 0 && na == 2 &&
	    mp_get_cstr(&a[0], method, sizeof(method)) == 0 &&
	    a[1].type == MSGPACK_OBJECT_BIN) {
		const uint8_t *b = (const uint8_t *)a[1].via.bin.ptr;
		size_t bl = a[1].via.bin.size;
		for (size_t i = 0; i < sizeof(bin_methods) / sizeof(bin_methods[0]); i++) {
			if (strcmp(method, bin_methods[i].name) != 0)
				continue;
			if (rc->refs >= RPC_MAX_JOBS)
				reply_error(rc, -EBUSY,
					    "too many requests in progress on this connection: wait for their answers");
			else
				bin_methods[i].fn(rc, b, bl); /* copies */
			mp_doc_close(&doc);
			return;
		}
	}
	if (mp_get_array(doc.root, SIZE_MAX, 2, &a, &na) < 0 || na < 1 ||
	    mp_get_cstr(&a[0], method, sizeof(method)) < 0 ||
	    (na == 2 && mp_get_cstr(&a[1], arg, sizeof(arg)) < 0)) {
		mp_doc_close(&doc);
		reply_error(rc, HAMLET_EFORMAT,
			    "request is not [method] or [method, string]");
		return;
	}
	mp_doc_close(&doc);
	if (strcmp(method, "status") == 0 && na == 1)
		do_status(rc);
	else if (strcmp(method, "sync") == 0)
		do_sync(rc, na == 2 ? arg : NULL, 0);
	else if (strcmp(method, "sync_now") == 0)
		do_sync(rc, na == 2 ? arg : NULL, 1);
	else if (strcmp(method, "peers") == 0 && na == 1)
		do_peers(rc);
	else if (strcmp(method, "peer_add") == 0 && na == 2)
		do_peer_edit(rc, arg, 1);
	else if (strcmp(method, "peer_remove") == 0 && na == 2)
		do_peer_edit(rc, arg, 0);
	else
		reply_error(rc, HAMLET_EPROTO, "unknown method or arguments");
}

static void on_alloc(uv_handle_t *h, size_t sug, uv_buf_t *buf)
{
	struct rpc_conn *rc = h->data;
	(void)sug;
	*buf = uv_buf_init((char *)rc->buf + rc->len,
			   (unsigned)(4 + RPC_MAX_REQUEST - rc->len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct rpc_conn *rc = s->data;
	(void)b;
	if (nread < 0) {
		client_close(rc);
		return;
	}
	rc->len += (size_t)nread;
	while (!rc->closing) {
		struct bytes_reader br;
		const uint8_t *req;
		uint32_t n;
		bytes_reader_init(&br, rc->buf, rc->len);
		if (bytes_get_be32(&br, &n) < 0)
			break; /* the length is not all here yet */
		if (n == 0 || n > RPC_MAX_REQUEST) {
			/* the framing is lost: say why, then close once it
			 * is out (nothing after it can be read as a request) */
			char why[160];
			snprintf(why, sizeof(why),
				 n == 0 ? "request of 0 bytes: each request is a 4-byte big-endian length, then that many bytes of msgpack"
					: "request of %u bytes, over the %u a request may have",
				 (unsigned)n, (unsigned)RPC_MAX_REQUEST);
			dlog(DLOG_NOTICE, _("local client: %s; closed"), why);
			uv_read_stop((uv_stream_t *)&rc->pipe);
			rc->len = 0;
			rc->bye = 1;
			reply_error(rc, HAMLET_EFORMAT, why);
			return;
		}
		if (bytes_borrow(&br, n, &req) < 0)
			break;
		rc->last_ms = uv_now(rc->d->loop);
		handle(rc, req, n);
		memmove(rc->buf, rc->buf + 4 + n, rc->len - 4 - n);
		rc->len -= 4 + n;
	}
}

/* An idle client (no request for RPC_IDLE_MS, nothing in progress) is
 * closed: held connections must not keep the slots from others. */
static void on_idle(uv_timer_t *t)
{
	struct rpc_conn *rc = t->data;
	uint64_t now = uv_now(rc->d->loop);
	if (rc->refs == 0 && rc->queued == 0 &&
	    now - rc->last_ms >= RPC_IDLE_MS)
		client_close(rc);
}

/* Clients not already closing (a closed one lingers until its handles
 * are closed, and does not hold a slot). */
static size_t clients_open(void)
{
	size_t n = 0;
	for (struct rpc_conn *rc = clients; rc; rc = rc->next)
		n += !rc->closing;
	return n;
}

/* The client longest idle with nothing in progress, or NULL. */
static struct rpc_conn *client_evictable(void)
{
	struct rpc_conn *best = NULL;
	for (struct rpc_conn *rc = clients; rc; rc = rc->next)
		if (!rc->closing && !rc->bye && rc->refs == 0 &&
		    rc->queued == 0 && (!best || rc->last_ms < best->last_ms))
			best = rc;
	return best;
}

static void on_client(uv_stream_t *server, int status)
{
	struct daemon *d = server->data;
	struct rpc_conn *rc, *old;
	if (status < 0)
		return;
	if (!(rc = calloc(1, sizeof(*rc))) ||
	    !(rc->buf = malloc(4 + RPC_MAX_REQUEST))) {
		free(rc);
		return;
	}
	rc->d = d;
	rc->last_ms = uv_now(d->loop);
	uv_pipe_init(d->loop, &rc->pipe, 0);
	uv_timer_init(d->loop, &rc->idle);
	rc->pipe.data = rc->idle.data = rc;
	rc->handles = 2;
	rc->next = clients;
	clients = rc;
	nclients++;
	if (uv_accept(server, (uv_stream_t *)&rc->pipe) < 0) {
		client_close(rc);
		return;
	}
	if (clients_open() > RPC_MAX_CLIENTS) {
		/* make room by closing the client idle longest; when every
		 * one is busy, say so to the newcomer */
		if ((old = client_evictable()) && old != rc) {
			client_close(old);
		} else {
			char why[160];
			snprintf(why, sizeof(why),
				 "hamletd serves %d local clients at once and all are busy: try again",
				 RPC_MAX_CLIENTS);
			rc->bye = 1;
			reply_error(rc, -EBUSY, why);
			return;
		}
	}
	uv_timer_start(&rc->idle, on_idle, RPC_IDLE_MS / 4, RPC_IDLE_MS / 4);
	uv_read_start((uv_stream_t *)&rc->pipe, on_alloc, on_read);
}

_Static_assert(CONFIG_MAX_SOCKET + 1 ==
		       sizeof(((struct sockaddr_un *)0)->sun_path),
	       "config.c refuses the socket paths a sockaddr_un cannot hold");

/* What lies at a path, in words, for a refusal that names it. */
static const char *file_kind(mode_t m)
{
	if (S_ISREG(m))
		return N_("a regular file");
	if (S_ISDIR(m))
		return N_("a directory");
	if (S_ISLNK(m))
		return N_("a symbolic link");
	if (S_ISFIFO(m))
		return N_("a named pipe");
	if (S_ISCHR(m) || S_ISBLK(m))
		return N_("a device");
	return N_("an unknown kind of file");
}

int rpc_socket_claim(const char *path, char *why, size_t wl)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat sb;
	int fd, e;

	if (lstat(path, &sb) != 0) {
		if (errno == ENOENT)
			return 0;
		e = errno;
		snprintf(why, wl, _("cannot look at the socket path %s: %s"),
			 path, strerror(e));
		return -e;
	}
	if (!S_ISSOCK(sb.st_mode)) {
		/* a typo in --socket must not cost the file it names */
		snprintf(why, wl,
			 _("%s is %s, not a socket: hamletd will not replace it; give another --socket (or socket = in hamletd.conf)"),
			 path, _(file_kind(sb.st_mode)));
		return HAMLET_ECONFIG;
	}
	/* a socket someone answers on is a live daemon's (another home's, or
	 * this one's with its hamletd.lock deleted); a refused connection
	 * is what a daemon that died leaves behind */
	if (strlen(path) >= sizeof(a.sun_path)) {
		/* config_from_args() refused it already */
		snprintf(why, wl, _("cannot check the socket %s: %s"), path,
			 strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	memcpy(a.sun_path, path, strlen(path) + 1);
	/* not blocking: a connect to a daemon whose backlog is full would
	 * wait for ever; it fails with EAGAIN instead */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			 0)) < 0) {
		e = errno;
		snprintf(why, wl, _("cannot check the socket %s: %s"), path,
			 strerror(e));
		return -e;
	}
	e = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 ? 0 : errno;
	close(fd);
	if (e == 0 || e == EAGAIN || e == EINPROGRESS) { /* live, or busy */
		snprintf(why, wl,
			 _("another hamletd answers on the socket %s; stop it first, or give this one another --socket"),
			 path);
		return -EADDRINUSE;
	}
	if (e != ECONNREFUSED) {
		snprintf(why, wl, _("cannot check the socket %s: %s"), path,
			 strerror(e));
		return -e;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		e = errno;
		snprintf(why, wl,
			 _("cannot remove the stale socket %s of an earlier run: %s"),
			 path, strerror(e));
		return -e;
	}
	return 0;
}

int rpc_start(struct daemon *d)
{
	struct stat sb;
	mode_t old;
	int r;
	uv_pipe_init(d->loop, &d->rpc, 0);
	d->rpc.data = d;
	d->rpc_open = 1;
	old = umask(0117); /* the socket is born 0660, no window */
	/* rpc_socket_claim() found the path free: a file there now is not
	 * ours, and the bind fails rather than replace it */
	r = uv_pipe_bind(&d->rpc, d->cfg.socket);
	umask(old);
	if (r == 0 && lstat(d->cfg.socket, &sb) == 0) {
		d->rpc_dev = sb.st_dev;
		d->rpc_ino = sb.st_ino;
		d->rpc_bound = 1;
	}
	if (r < 0 || (r = uv_listen((uv_stream_t *)&d->rpc, 16, on_client)) < 0) {
		/* libuv reports a missing directory as a permission fault */
		char dir[4200], *slash;
		snprintf(dir, sizeof(dir), "%s", d->cfg.socket);
		if ((slash = strrchr(dir, '/')))
			*(slash == dir ? slash + 1 : slash) = 0;
		else
			snprintf(dir, sizeof(dir), ".");
		if (stat(dir, &sb) != 0 && errno == ENOENT)
			dlog(DLOG_ERR, _("cannot listen on %s: the directory %s does not exist"),
			     d->cfg.socket, dir);
		else
			dlog(DLOG_ERR, _("cannot listen on %s: %s"),
			     d->cfg.socket, dlog_err(r));
		return r;
	}
	return 0;
}

void rpc_stop(struct daemon *d)
{
	if (d->rpc_open) {
		struct stat sb;
		uv_close((uv_handle_t *)&d->rpc, NULL);
		/* only the socket this process made: not a file it found
		 * there, nor one that replaced ours since */
		if (d->rpc_bound && lstat(d->cfg.socket, &sb) == 0 &&
		    sb.st_dev == d->rpc_dev && sb.st_ino == d->rpc_ino)
			unlink(d->cfg.socket);
		d->rpc_bound = 0;
		d->rpc_open = 0;
	}
	for (struct rpc_conn *rc = clients; rc; rc = rc->next)
		client_close(rc);
}
