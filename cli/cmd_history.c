/*
 * hamlet history COLLECTION ID [--json]
 *
 * Each operation with the proof that its author wrote it: the stored
 * envelope is checked against the entry id the record refers to, and its
 * signature against the author key inside it; the body against the
 * signed body hash; and the certificate that allowed it: the first chain of
 * its author's certificates to the root, valid at its time, that grants
 * its scope and collection. Operations written without knowing of each
 * other (neither among the other's ancestors through their deps) are
 * marked concurrent: where they set the same field, the record shows a
 * conflict.
 */
#include "cli.h"

#include "entry.h"
#include "error.h"
#include "hlc.h"
#include "i18n.h"
#include "log.h"
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Records of more operations than this are not marked for concurrency
 * (an ancestor set is a bit per operation, for each operation). */
#define CONC_MAX_OPS 2048

/* The operations' ancestry, read before they are shown: conc[i] the
 * indices of those concurrent with op i (NULL: none, or not worked out). */
struct anc_op {
	uint8_t id[ENTRY_ID_LEN];
	size_t ndeps;
	uint8_t deps[ENTRY_MAX_DEPS][ENTRY_ID_LEN];
};

struct ancestry {
	size_t n, cap;
	struct anc_op *op;
	int too_many;
	size_t **conc, *nconc;
	uint8_t *partial; /* partial[i]: an ancestor of op i is not held here */
};

struct hctx {
	struct store_txn *t;
	const struct schema *s;
	const char *coll, *id;
	json_t *ops; /* --json */
	int n, bad;
	int unlogged; /* the read could not be logged: said already */
	struct cert_chain *grant; /* the certificate that allowed an op */
	struct bodyz_buf zb;	  /* an op's body, read one op at a time */
	struct ancestry *an;
};

/* SIG_INDEX: the entry stored where the op row points is another one
 * (its id is not the one the row names): the record's index, not the
 * signature, is damaged */
enum { SIG_OK, SIG_BAD, SIG_MISSING, SIG_INDEX };
enum { BODY_NONE, BODY_OK, BODY_MISSING, BODY_ALTERED };

/* entry_kind_name()'s words, for the catalog: history shows them */
static const char *const kind_words[] __attribute__((unused)) = {
	N_("put"), N_("delete"), N_("erase"),
};

static const char *const sig_text[] = {
	N_("signature ok"), N_("SIGNATURE BAD"),
	N_("ENTRY MISSING from the store"),
	N_("INDEX DAMAGED: the entry stored where this operation's row points is another one (hamlet verify names the damage)")
};
static const char *const sig_word[] = { "ok", "bad", "missing",
					"index_damaged" };
static const char *const body_word[] = { "none", "ok", "missing",
					 "altered" };

/* *ret_decoded: e holds the stored envelope of this very entry (whether
 * or not its signature verifies). */
static int check_entry(struct store_txn *t, const struct record_op *op,
		       struct entry *e, int *ret_sig, int *ret_decoded)
{
	uint8_t id[32], eb[ENTRY_MAX_ENVELOPE];
	const uint8_t *env, *sig;
	size_t env_len;
	int r;

	*ret_sig = SIG_MISSING;
	*ret_decoded = 0;
	r = log_entry_at(t, op->lseq, eb, &env, &env_len, &sig);
	if (r == HAMLET_ECORRUPT) /* not where its op row says */
		return 0;
	if (r < 0)
		return r;
	entry_id(env, env_len, id);
	if (memcmp(id, op->id, 32) != 0) {
		*ret_sig = SIG_INDEX;
		return 0;
	}
	*ret_sig = SIG_BAD;
	if (entry_decode(env, env_len, e, NULL) < 0)
		return 0;
	*ret_decoded = 1;
	if (memcmp(e->author, op->author, 32) != 0 ||
	    entry_verify(env, env_len, sig, e->author) < 0)
		return 0;
	*ret_sig = SIG_OK;
	return 0;
}

/* Who signed cert c: the root, or its issuer's certificate in ch. */
static void issuer_name(const struct cert_chain *ch, size_t i, char *out,
			size_t n)
{
	if (i + 1 < ch->n)
		snprintf(out, n, "\"%s\"", ch->c[i + 1].name);
	else
		/* also the "issuer_name" of --json */
		snprintf(out, n, "%s", cli_tr(N_("the network's root key")));
}

/* The certificate that allowed e, for --json: null when none. */
static json_t *grant_json(int found, const struct cert_chain *ch)
{
	json_t *o;
	char h[65], iss[80];

	if (!found)
		return json_null();
	o = json_object();
	json_object_set_new(o, "name", json_string(ch->c[0].name));
	json_object_set_new(o, "role", json_string(cert_role_name(ch->c[0].role)
							   ? cert_role_name(ch->c[0].role)
							   : "?"));
	cli_hex(ch->c[0].issuer, 32, h);
	json_object_set_new(o, "issuer", json_string(h));
	issuer_name(ch, 0, iss, sizeof(iss));
	json_object_set_new(o, "issuer_name", json_string(iss));
	cli_hex(ch->id[0], 32, h);
	json_object_set_new(o, "id", json_string(h));
	return o;
}

static int ancestry_add(void *ctx, const struct record_op *op)
{
	struct ancestry *a = ctx;

	if (a->n == CONC_MAX_OPS) {
		a->too_many = 1;
		return 0;
	}
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 16;
		struct anc_op *p = realloc(a->op, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		a->op = p;
		a->cap = nc;
	}
	memcpy(a->op[a->n].id, op->id, ENTRY_ID_LEN);
	memcpy(a->op[a->n].deps, op->deps, op->ndeps * ENTRY_ID_LEN);
	a->op[a->n++].ndeps = op->ndeps;
	return 0;
}

/* The index of the op with entry id, before index before; -1: none (a
 * dep not stored here, or out of order). */
static long ancestry_find(const struct ancestry *a, const uint8_t *id,
			  size_t before)
{
	for (size_t j = before; j-- > 0;)
		if (memcmp(a->op[j].id, id, ENTRY_ID_LEN) == 0)
			return (long)j;
	return -1;
}

/* Fill a->conc. The ops come oldest first (by HLC, which puts every op
 * after its deps), so each one's ancestors are known when it is reached. */
static int ancestry_solve(struct ancestry *a)
{
	size_t n = a->n, w = (n + 63) / 64;
	uint64_t *anc;
	int r = 0;

	if (a->too_many || n < 2)
		return 0;
	if (!(anc = calloc(n * w, sizeof(*anc))) ||
	    !(a->conc = calloc(n, sizeof(*a->conc))) ||
	    !(a->nconc = calloc(n, sizeof(*a->nconc))) ||
	    !(a->partial = calloc(n, 1))) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < a->op[i].ndeps; k++) {
			long d = ancestry_find(a, a->op[i].deps[k], i);
			if (d < 0) {
				a->partial[i] = 1;
				continue;
			}
			a->partial[i] |= a->partial[d];
			anc[i * w + (size_t)d / 64] |= 1ull << ((size_t)d % 64);
			for (size_t x = 0; x < w; x++)
				anc[i * w + x] |= anc[(size_t)d * w + x];
		}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			/* an older op may be an ancestor through an entry
			 * not held here: their order is unknown, not
			 * concurrent */
			size_t newer = i > j ? i : j;
			if (i == j || a->partial[newer] ||
			    (anc[i * w + j / 64] >> (j % 64) & 1) ||
			    (anc[j * w + i / 64] >> (i % 64) & 1))
				continue;
			if (!a->conc[i] &&
			    !(a->conc[i] = malloc(n * sizeof(**a->conc)))) {
				r = -ENOMEM;
				goto out;
			}
			a->conc[i][a->nconc[i]++] = j;
		}
out:
	free(anc);
	return r;
}

static void ancestry_free(struct ancestry *a)
{
	if (!a)
		return;
	for (size_t i = 0; a->conc && i < a->n; i++)
		free(a->conc[i]);
	free(a->conc);
	free(a->nconc);
	free(a->partial);
	free(a->op);
	free(a);
}

static int history_op(void *ctx, const struct record_op *op)
{
	struct hctx *h = ctx;
	struct entry e;
	int sig, decoded, body = BODY_NONE, have_doc = 0, r;
	int granted = 0, nocheck = 0;
	struct mp_doc d;
	char tm[48], author[65], eid[65], reason[SCHEMA_MAX_REASON + 1];
	char local[32], who[NAMES_LABEL_MAX];
	const size_t *conc;
	size_t idx, nconc;
	int partial;

	if (h->n == 0 && (r = cli_access("history", h->coll, h->id, NULL, 1)) < 0) {
		h->unlogged = 1;
		return r;
	}
	memset(&e, 0, sizeof(e));
	if ((r = check_entry(h->t, op, &e, &sig, &decoded)) < 0)
		return r;
	reason[0] = 0;
	if (op->kind == ENTRY_ERASE) {
		const uint8_t *b;
		size_t bl;
		char why[8];
		if (log_body_at(h->t, op->id, op->lseq, &h->zb, &b, &bl) == 0)
			schema_erase_reason(b, bl, reason, sizeof(reason), why,
					    sizeof(why));
	}
	if (op->kind == ENTRY_PUT && op->has_body) {
		const uint8_t *b;
		size_t bl;
		uint8_t hash[32];
		r = log_body_at(h->t, op->id, op->lseq, &h->zb, &b, &bl);
		if (r == HAMLET_ENOTFOUND) {
			body = BODY_MISSING;
		} else if (r == HAMLET_ECORRUPT) {
			body = BODY_ALTERED; /* kept compressed, damaged */
		} else if (r < 0) {
			return r;
		} else {
			entry_body_hash(b, bl, hash);
			body = BODY_OK;
			if (memcmp(hash, op->body_hash, 32) != 0 ||
			    (decoded &&
			     (memcmp(hash, e.body_hash, 32) != 0 ||
			      bl != e.body_len)))
				body = BODY_ALTERED;
			else if (mp_doc_parse(&d, b, bl,
					      SCHEMA_MAX_FIELDS +
						      SCHEMA_MAX_MAP) == 0) {
				if (d.root->type == MSGPACK_OBJECT_MAP)
					have_doc = 1;
				else
					mp_doc_close(&d);
			}
		}
	}
	if (decoded) {
		r = report_entry_grant(h->t, &e, h->grant);
		if (r < 0 && r != HAMLET_ECERT && r != HAMLET_ENOTFOUND)
			return r;
		granted = r == 0;
		nocheck = r == HAMLET_ENOTFOUND;
	}
	if (sig != SIG_OK || body == BODY_ALTERED)
		h->bad++;
	idx = (size_t)h->n;
	conc = h->an && h->an->conc && idx < h->an->n ? h->an->conc[idx] : NULL;
	nconc = conc ? h->an->nconc[idx] : 0;
	partial = h->an && h->an->partial && idx < h->an->n &&
		  h->an->partial[idx];
	if (h->n++ == 0 && !h->ops)
		printf(_("%s/%s, oldest first:\n"), h->coll, h->id);
	hlc_format(op->hlc, tm);
	cli_hex(op->author, 32, author);
	cli_hex(op->id, 32, eid);

	if (h->ops) {
		json_t *o = json_object(), *deps = json_array();
		json_object_set_new(o, "time", json_string(tm));
		json_object_set_new(o, "hlc", json_integer((json_int_t)op->hlc));
		json_object_set_new(o, "author", json_string(author));
		cli_who_json(h->t, op->author, o, "author_");
		json_object_set_new(o, "kind",
				    json_string(entry_kind_name(op->kind)));
		json_object_set_new(o, "scope",
				    decoded ? json_string(e.scope) : json_null());
		json_object_set_new(o, "seq",
				    decoded ? json_integer((json_int_t)e.seq)
					    : json_null());
		json_object_set_new(o, "entry", json_string(eid));
		for (size_t i = 0; i < op->ndeps; i++) {
			char dh[65];
			cli_hex(op->deps[i], 32, dh);
			json_array_append_new(deps, json_string(dh));
		}
		json_object_set_new(o, "deps", deps);
		json_object_set_new(o, "deps_held", json_boolean(!partial));
		if (h->an->too_many) {
			json_object_set_new(o, "concurrent_with", json_null());
		} else {
			json_t *cw = json_array();
			for (size_t i = 0; i < nconc; i++) {
				char ch[65];
				cli_hex(h->an->op[conc[i]].id, 32, ch);
				json_array_append_new(cw, json_string(ch));
			}
			json_object_set_new(o, "concurrent_with", cw);
		}
		json_object_set_new(o, "fields",
				    have_doc ? cli_mp_json(d.root) :
					       json_null());
		json_object_set_new(o, "body", json_string(body_word[body]));
		if (op->kind == ENTRY_ERASE)
			json_object_set_new(o, "reason", json_string(reason));
		json_object_set_new(o, "signature", json_string(sig_word[sig]));
		json_object_set_new(o, "certificate",
				    grant_json(granted, h->grant));
		json_array_append_new(h->ops, o);
	} else {
		cli_hlc_text(op->hlc, local);
		cli_who(h->t, op->author, who);
		/* the kind's word in the reader's language (N_ below) */
		printf("%s %s", local, _(entry_kind_name(op->kind)));
		if (decoded)
			printf(_(" seq %llu"), (unsigned long long)e.seq);
		printf(" %s\n", _(sig_text[sig]));
		printf(_("  author %s\n"), who);
		if (decoded)
			printf(_("  scope  %s\n"), e.scope);
		printf(_("  entry  %s\n"), eid);
		if (granted) {
			char iss[80], cid[9];
			issuer_name(h->grant, 0, iss, sizeof(iss));
			cli_hex_short(h->grant->id[0], cid);
			printf(_("  allowed by certificate \"%s\" (%s), issued by %s, id %s…\n"),
			       h->grant->c[0].name,
			       cli_role_text(h->grant->c[0].role)
				       ? cli_role_text(h->grant->c[0].role)
				       : "?",
			       iss, cid);
		} else if (decoded && !nocheck) {
			printf(_("  allowed by NO certificate held here (written before this node knew one, or locally by an uncertified node)\n"));
		}
		printf(_("  after  "));
		for (size_t i = 0; i < op->ndeps; i++) {
			char dh[9];
			cli_hex_short(op->deps[i], dh);
			printf("%s%s", i ? ", " : "", dh);
		}
		printf("%s\n", op->ndeps ? "" : _("(nothing: the first operation)"));
		if (partial)
			printf(_("  (it follows operations not held here: its order against the ones above is not known here)\n"));
		if (nconc) {
			printf(_("  CONCURRENT with "));
			for (size_t i = 0; i < nconc && i < 4; i++) {
				char ch[9];
				cli_hex_short(h->an->op[conc[i]].id, ch);
				printf("%s%s", i ? ", " : "", ch);
			}
			if (nconc > 4)
				printf(_(" and %zu more"), nconc - 4);
			printf(_(" (written without knowing of each other: where both set a field, the record shows a conflict)\n"));
		}
		if (op->kind == ENTRY_DELETE) {
			printf(_("  deletes the record\n"));
		} else if (op->kind == ENTRY_ERASE) {
			printf(_("  ERASES the record's contents; reason: %s\n"),
			       reason[0] ? reason : _("(not received)"));
		} else if (body == BODY_MISSING) {
			printf(_("  set    (body erased, or not received yet)\n"));
		} else if (body == BODY_ALTERED) {
			printf(_("  set    BODY ALTERED: it does not match the signed hash\n"));
		} else if (have_doc && cli_fields_labelled(h->s, d.root)) {
			/* labelled fields one a line: as a comma list
			 * they would run over several lines */
			cli_fields_print(stdout, h->s, d.root, _("  set    "));
		} else if (have_doc) {
			const msgpack_object *m = d.root;
			printf(_("  set    "));
			for (uint32_t i = 0; i < m->via.map.size; i++) {
				const msgpack_object_kv *kv =
					&m->via.map.ptr[i];
				char *val = cli_value_text(&kv->val, 1);
				printf("%s%.*s", i ? ", " : "",
				       (int)kv->key.via.str.size,
				       kv->key.via.str.ptr);
				if (kv->val.type == MSGPACK_OBJECT_NIL)
					printf(_(" cleared"));
				else
					printf("=%s", val ? val : "?");
				free(val);
			}
			printf("\n");
		}
	}
	if (have_doc)
		mp_doc_close(&d);
	return 0;
}

int cmd_history(int argc, char **argv)
{
	const struct schema *s;
	struct node *n = NULL;
	struct hctx h = { 0 };
	char *pos[2];
	int npos, r;

	if ((r = cli_parse("history", argc, argv, NULL, pos, 2, &npos)) < 0)
		goto out;
	if ((r = cli_coll_id("history", pos, npos, &s)) < 0)
		goto out;
	if ((r = cli_node_open(1, &n, NULL)) < 0 ||
	    (r = cli_txn_read(n, &h.t)) < 0)
		goto out;
	if (!(h.grant = malloc(sizeof(*h.grant)))) {
		r = -ENOMEM;
		goto out;
	}
	h.s = s;
	h.coll = s->name;
	h.id = pos[1];
	if (!(h.an = calloc(1, sizeof(*h.an)))) {
		r = -ENOMEM;
		goto out;
	}
	/* the ancestry first, then each op with what it was concurrent with */
	if ((r = record_ops_each(h.t, s->name, pos[1], ancestry_add, h.an)) >= 0)
		r = ancestry_solve(h.an);
	if (cli_global.json)
		h.ops = json_array();
	if (r >= 0)
		r = record_ops_each(h.t, s->name, pos[1], history_op, &h);
	if (r < 0) {
		if (!h.unlogged)
			cli_err(_("cannot read the history of %s/%s: %s"),
				s->name, pos[1], cli_strerror(r));
		goto out;
	}
	if (h.n == 0) {
		cli_err(_("record %s/%s not found: no operation on it is stored here; check the collection and the id"),
			s->name, pos[1]);
		r = HAMLET_ENOTFOUND;
		goto out;
	}
	if (h.ops) {
		json_t *j = json_object();
		json_object_set_new(j, "collection", json_string(s->name));
		json_object_set_new(j, "id", json_string(pos[1]));
		json_object_set_new(j, "ops", h.ops);
		json_object_set_new(j, "verified", json_boolean(h.bad == 0));
		h.ops = NULL;
		cli_json_print(j);
	} else if (h.bad) {
		printf(_("%d of %d operations do NOT verify: the store was altered, or damaged\n"),
		       h.bad, h.n);
		if (h.an->too_many)
			printf(_("(concurrent operations are marked only in a record of at most %d)\n"),
			       CONC_MAX_OPS);
	} else {
		printf(_("%d operation%s, every signature verified\n"), h.n,
		       h.n == 1 ? "" : "s");
		if (h.an->too_many)
			printf(_("(concurrent operations are marked only in a record of at most %d)\n"),
			       CONC_MAX_OPS);
	}
	r = h.bad ? CLI_EPROBLEMS : 0;
out:
	json_decref(h.ops);
	free(h.grant);
	ancestry_free(h.an);
	bodyz_buf_free(&h.zb);
	store_txn_abort(h.t);
	node_close(n);
	return cli_exit_code(r);
}
