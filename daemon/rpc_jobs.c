/*
 * rpc_jobs: the local socket's methods whose work is a job on the node's
 * one writer (daemon/ingest.h): "write", "ingest", "trust" and "keep",
 * their arguments checked and decoded here, their answers sent once the
 * job is done.
 */
#include "rpc.h"
#include "rpc_internal.h"

#include "cert.h"
#include "conn.h"
#include "dlog.h"
#include "error.h"
#include "hlc.h"
#include "ingest.h"
#include "mp.h"
#include "peer.h"
#include "record.h"
#include "rpc_client.h"
#include "why.h"
#include "wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
		rpc__reply_error(rc, -ECANCELED, why_translate(N_("the daemon is stopping")));
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
		rpc__reply_error(rc, r,
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
	rpc__reply(rc, &w);
	mp_writer_destroy(&w);
out:
	rpc_job_free(j);
}

/* Decode one [kind, collection, id, scope|nil, body|nil, resolve] or
 * [.., resolve, heads|nil] (rpc_client.h). */
static int write_op_decode(struct rpc_job *j, size_t i,
			   const msgpack_object *o)
{
	struct log_op *op = &j->ops[i];
	const msgpack_object *f;
	uint64_t kind;
	size_t nf;
	int resolve;
	if (mp_get_array(o, SIZE_MAX, 7, &f, &nf) < 0 || nf < 6 ||
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
	if (nf == 7 && !mp_is_nil(&f[6])) {
		const uint8_t *h;
		size_t hl;
		/* the heads a resolution was made from, end to end */
		if (!resolve ||
		    mp_get_bin(&f[6], RECORD_MAX_SEEN_HEADS * ENTRY_ID_LEN, &h,
			       &hl) < 0 ||
		    hl == 0 || hl % ENTRY_ID_LEN)
			return HAMLET_EFORMAT;
		op->heads = (const uint8_t(*)[ENTRY_ID_LEN])h;
		op->nheads = hl / ENTRY_ID_LEN;
	}
	return 0;
}

void rpc__do_write(struct rpc_conn *rc, const uint8_t *p, size_t n)
{
	struct rpc_job *j = rpc_job_new(p, n);
	const msgpack_object *ops;
	size_t nops;

	if (!j) {
		rpc__reply_error(rc, -ENOMEM, "out of memory");
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
	rpc__reply_error(rc, HAMLET_EFORMAT,
		    "write: expected a list of [kind, collection, id, scope|nil, body|nil, resolve] or [.., resolve, heads|nil], heads a bin of 1 to 256 ids of 32 bytes with resolve true");
	rpc_job_free(j);
}

/* [applied, duplicate, held, released, forks, rejected] of an ingest
 * answer; a trust answer adds taken_out (entries a revocation took out). */
static void pack_stats(msgpack_packer *pk, const struct log_stats *s,
		       int trust)
{
	msgpack_pack_array(pk, trust ? 7 : 6);
	msgpack_pack_uint64(pk, s->applied);
	msgpack_pack_uint64(pk, s->duplicate);
	msgpack_pack_uint64(pk, s->held);
	msgpack_pack_uint64(pk, s->released);
	msgpack_pack_uint64(pk, s->forks);
	msgpack_pack_uint64(pk, s->rejected);
	if (trust)
		msgpack_pack_uint64(pk, s->taken_out);
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
		char why[LOG_WHY_MAX + 16];
		snprintf(why, sizeof(why), "ingest: %s", job->why);
		rpc__reply_error(rc, job->r, why);
		goto out;
	}
	{
		/* what a bundle brought and was refused: named in the log.
		 * Entries of scopes this node does not read are "not
		 * ours", as they should be: counted on one line, naming no
		 * scope or seq of another village (docs/decisions.md) */
		size_t nref = 0, nours = 0;
		for (size_t i = 0; i < job->n; i++) {
			if (j->out[i].status != LOG_REJECTED)
				continue;
			if (j->out[i].err == HAMLET_ESCOPE)
				nours++;
			else if (++nref <= 3)
				dlog(DLOG_WARNING, _("import: entry refused: %s"),
				     dlog_tr(j->out[i].why));
		}
		if (nref > 3)
			dlog(DLOG_WARNING, _("import: %zu entries refused in all"),
			     nref);
		if (nours)
			dlog(DLOG_INFO, _("import: not ours: %zu entries of scopes this node does not read, not stored, as they should not be"),
			     nours);
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
	pack_stats(&w.pk, s, 0);
	rpc__reply(rc, &w);
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

void rpc__do_ingest(struct rpc_conn *rc, const uint8_t *p, size_t n)
{
	struct rpc_job *j = rpc_job_new(p, n);
	char why[200];
	int r;

	if (!j) {
		rpc__reply_error(rc, -ENOMEM, "out of memory");
		return;
	}
	if ((r = ingest_decode(j, n, why, sizeof(why))) < 0) {
		rpc__reply_error(rc, r, why);
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
		char why[LOG_WHY_MAX + 16];
		snprintf(why, sizeof(why), "trust: %s", job->why);
		rpc__reply_error(rc, job->r, why);
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
	pack_stats(&w.pk, &job->stats, 1);
	rpc__reply(rc, &w);
	mp_writer_destroy(&w);
out:
	rpc_job_free(j);
}

/* ["trust", bin]: bin is a list of [kind, item] (certificates,
 * revocations, fork proofs) for the trust set, through the writer. */
void rpc__do_trust(struct rpc_conn *rc, const uint8_t *p, size_t n)
{
	struct rpc_job *j = rpc_job_new(p, n);
	const msgpack_object *its, *f;
	size_t ni;
	uint64_t kind;
	int r;

	if (!j) {
		rpc__reply_error(rc, -ENOMEM, "out of memory");
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
		rpc__reply_error(rc, -ENOMEM, "out of memory");
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
	rpc__reply_error(rc, HAMLET_EFORMAT,
		    "trust: expected a list of 1 to 256 [kind (1 certificate, 2 revocation, 3 fork proof, 4 scope move), item bytes]");
	rpc_job_free(j);
}

/* --- keep: what a certificate installed since lets the node read ------ */

static void rpc_keep_done(struct ingest_job *job)
{
	struct rpc_job *j = job->data;
	struct rpc_conn *rc = j->rc;
	const struct log_keep_result *k = &job->keep;
	struct mp_writer w;
	uint64_t closed = 0;

	if (!job_ended(rc, job->r))
		goto out;
	if (job->r < 0) {
		rpc__reply_error(rc, job->r, job->why);
		goto out;
	}
	/* a session reads under the certificate it began with: each starts
	 * again under the new one (a clean close, no backoff) */
	for (struct conn *c = rc->d->conns; c; c = c->next)
		if (!c->closing && c->state == CONN_READY) {
			peer_conn_close(c, N_("this node's certificate was replaced: the session starts again under it"));
			closed++;
		}
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_int(&w.pk, 0);
	msgpack_pack_map(&w.pk, 6);
	rpc__kv_u64(&w.pk, "entries", k->entries);
	rpc__kv_u64(&w.pk, "feeds", k->feeds);
	rpc__kv_u64(&w.pk, "held", k->held);
	rpc__kv_u64(&w.pk, "records", k->records);
	rpc__kv_u64(&w.pk, "proofs", k->proofs);
	rpc__kv_u64(&w.pk, "sessions", closed);
	rpc__reply(rc, &w);
	mp_writer_destroy(&w);
out:
	rpc_job_free(j);
}

void rpc__do_keep(struct rpc_conn *rc)
{
	struct rpc_job *j = rpc_job_new((const uint8_t *)"", 0);

	if (!j) {
		rpc__reply_error(rc, -ENOMEM, "out of memory");
		return;
	}
	j->job.kind = INGEST_KEEP;
	j->job.n = 0;
	rpc_job_submit(rc, j, rpc_keep_done);
}
