#include "scopemap.h"

#include "error.h"
#include "i18n.h"
#include "log.h"
#include "trustset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct smove {
	struct scope_move m;
	uint8_t id[32];
	int status;
};

struct scopemap {
	size_t n;	   /* every move, oldest first */
	struct smove *v;
	size_t neff;	   /* moves in effect, sorted by FROM */
	size_t *eff;	   /* indexes into v */
	/* scratch for the cycle search, n long */
	unsigned char *seen;
	size_t *stack;
	/* holders (scopemap_ref()): a map another thread reads while the
	 * node's is replaced lives until that thread is done with it */
	unsigned refs;
};

static int older(const void *a, const void *b)
{
	const struct smove *x = a, *y = b;
	if (x->m.at_ms != y->m.at_ms)
		return x->m.at_ms < y->m.at_ms ? -1 : 1;
	return memcmp(x->id, y->id, 32);
}

/* Position of FROM from (len fl) among the moves in effect: 1 and *pos
 * when found, else 0 and where it would go. */
static int eff_find(const struct scopemap *m, const char *from, size_t fl,
		    size_t *pos)
{
	size_t lo = 0, hi = m->neff;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *s = m->v[m->eff[mid]].m.from;
		int c = strncmp(s, from, fl);
		if (c == 0)
			c = s[fl] ? 1 : 0;
		if (c == 0) {
			*pos = mid;
			return 1;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return 0;
}

/* The move in effect whose FROM is the longest at or above scope, or
 * SIZE_MAX. */
static size_t eff_longest(const struct scopemap *m, const char *scope)
{
	size_t l = strlen(scope), pos;
	for (;;) {
		if (eff_find(m, scope, l, &pos))
			return m->eff[pos];
		while (l > 0 && scope[l - 1] != '/')
			l--;
		if (l == 0)
			return SIZE_MAX;
		l--; /* the '/' */
	}
}

/*
 * Would move i (just put in effect) close a cycle? From a move's TO, a
 * hop may take any move whose FROM lies above TO (it applies to TO) or
 * under it (it applies to a scope under TO); a path back to i is a
 * cycle, whether or not some scope ever walks it.
 */
static int closes_cycle(struct scopemap *m, size_t i)
{
	size_t sp = 0;
	int found = 0;

	memset(m->seen, 0, m->n);
	m->stack[sp++] = i;
	m->seen[i] = 1;
	while (sp && !found) {
		const char *to = m->v[m->stack[--sp]].m.to;
		size_t tl = strlen(to), pos;
		/* FROMs at or above TO */
		for (size_t l = tl;;) {
			if (eff_find(m, to, l, &pos)) {
				size_t k = m->eff[pos];
				if (k == i)
					found = 1;
				else if (!m->seen[k]) {
					m->seen[k] = 1;
					m->stack[sp++] = k;
				}
			}
			while (l > 0 && to[l - 1] != '/')
				l--;
			if (l == 0)
				break;
			l--;
		}
		/* FROMs under TO: they sort together right after "TO/" */
		eff_find(m, to, tl, &pos);
		for (; pos < m->neff && !found; pos++) {
			size_t k = m->eff[pos];
			const char *f = m->v[k].m.from;
			if (strncmp(f, to, tl) != 0)
				break;
			if (f[tl] == 0)
				continue; /* TO itself: counted above */
			if (f[tl] < '/')
				continue; /* "TO-x" sorts before "TO/" */
			if (f[tl] > '/')
				break;
			if (k == i)
				found = 1;
			else if (!m->seen[k]) {
				m->seen[k] = 1;
				m->stack[sp++] = k;
			}
		}
	}
	return found;
}

int scopemap_build(const struct scope_move *moves, const uint8_t (*ids)[32],
		   size_t n, struct scopemap **ret)
{
	struct scopemap *m = calloc(1, sizeof(*m));

	*ret = NULL;
	if (!m)
		return -ENOMEM;
	m->refs = 1;
	m->v = calloc(n ? n : 1, sizeof(*m->v));
	m->eff = calloc(n ? n : 1, sizeof(*m->eff));
	m->seen = calloc(n ? n : 1, 1);
	m->stack = calloc(n ? n : 1, sizeof(*m->stack));
	if (!m->v || !m->eff || !m->seen || !m->stack) {
		scopemap_free(m);
		return -ENOMEM;
	}
	m->n = n;
	for (size_t i = 0; i < n; i++) {
		m->v[i].m = moves[i];
		memcpy(m->v[i].id, ids[i], 32);
	}
	if (n > 1)
		qsort(m->v, n, sizeof(*m->v), older);
	for (size_t i = 0; i < n; i++) {
		const char *from = m->v[i].m.from;
		size_t pos, prev = SIZE_MAX;
		if (eff_find(m, from, strlen(from), &pos)) {
			prev = m->eff[pos];
			m->eff[pos] = i;
		} else if (m->neff == SCOPEMAP_MAX) {
			m->v[i].status = SCOPEMAP_OVER;
			continue;
		} else {
			memmove(&m->eff[pos + 1], &m->eff[pos],
				(m->neff - pos) * sizeof(*m->eff));
			m->eff[pos] = i;
			m->neff++;
		}
		if (closes_cycle(m, i)) {
			m->v[i].status = SCOPEMAP_CYCLE;
			if (prev != SIZE_MAX) {
				m->eff[pos] = prev;
			} else {
				memmove(&m->eff[pos], &m->eff[pos + 1],
					(m->neff - pos - 1) * sizeof(*m->eff));
				m->neff--;
			}
			continue;
		}
		m->v[i].status = SCOPEMAP_IN_EFFECT;
		if (prev != SIZE_MAX)
			m->v[prev].status = SCOPEMAP_SUPERSEDED;
	}
	*ret = m;
	return 0;
}

/* --- loading from the trust set -------------------------------------------- */

struct load_ctx {
	size_t n, cap;
	struct scope_move *v;
	uint8_t (*ids)[32];
};

/* Room for one more. */
static int load_grow(struct load_ctx *c)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		void *a = realloc(c->v, cap * sizeof(*c->v));
		if (!a)
			return -ENOMEM;
		c->v = a;
		if (!(a = realloc(c->ids, cap * sizeof(*c->ids))))
			return -ENOMEM;
		c->ids = a;
		c->cap = cap;
	}
	return 0;
}

static int load_cb(void *ctx, int kind, const uint8_t id[32],
		   const uint8_t *data, size_t len)
{
	struct load_ctx *c = ctx;
	int r;
	(void)kind;
	if ((r = load_grow(c)) < 0)
		return r;
	if (move_decode(data, len, &c->v[c->n], NULL, NULL, 0) < 0)
		return HAMLET_ECORRUPT; /* it decoded when it was added */
	memcpy(c->ids[c->n++], id, 32);
	return 0;
}

int scopemap_load(struct store_txn *t, struct scopemap **ret)
{
	return scopemap_load_plus(t, NULL, NULL, ret);
}

int scopemap_load_plus(struct store_txn *t, const struct scope_move *extra,
		       const uint8_t extra_id[32], struct scopemap **ret)
{
	struct load_ctx c = { 0 };
	int r;

	*ret = NULL;
	if ((r = trustset_each(t, TRUST_MOVE, load_cb, &c)) == 0 && extra &&
	    (r = load_grow(&c)) == 0) {
		c.v[c.n] = *extra;
		memcpy(c.ids[c.n++], extra_id, 32);
	}
	if (r == 0)
		r = scopemap_build(c.v, (const uint8_t(*)[32])c.ids, c.n, ret);
	free(c.v);
	free(c.ids);
	return r;
}

struct scopemap *scopemap_ref(struct scopemap *m)
{
	if (m)
		__atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED);
	return m;
}

void scopemap_free(struct scopemap *m)
{
	if (!m || __atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	free(m->v);
	free(m->eff);
	free(m->seen);
	free(m->stack);
	free(m);
}

size_t scopemap_size(const struct scopemap *m)
{
	return m ? m->n : 0;
}

size_t scopemap_in_effect(const struct scopemap *m)
{
	return m ? m->neff : 0;
}

const struct scope_move *scopemap_move(const struct scopemap *m, size_t i,
				       const uint8_t **ret_id, int *ret_status)
{
	if (!m || i >= m->n)
		return NULL;
	if (ret_id)
		*ret_id = m->v[i].id;
	if (ret_status)
		*ret_status = m->v[i].status;
	return &m->v[i].m;
}

int scopemap_status(const struct scopemap *m, const uint8_t id[32])
{
	for (size_t i = 0; m && i < m->n; i++)
		if (memcmp(m->v[i].id, id, 32) == 0)
			return m->v[i].status;
	return 0;
}

const char *scopemap_status_name(int status)
{
	switch (status) {
	case SCOPEMAP_IN_EFFECT:
		return N_("in effect");
	case SCOPEMAP_SUPERSEDED:
		return N_("superseded by a later move of the same scope");
	case SCOPEMAP_CYCLE:
		return N_("ignored: it would close a cycle with earlier moves");
	case SCOPEMAP_OVER:
		return N_("ignored: past the limit of moves in effect");
	default:
		return "unknown";
	}
}

/* --- mapping ------------------------------------------------------------------ */

/* One hop of scope: the move in effect whose FROM is the longest at or
 * above scope, and scope through it into out (ENTRY_MAX_SCOPE + 1
 * bytes). SIZE_MAX, out untouched, when no move applies or the result
 * would not be a valid scope. */
static size_t hop(const struct scopemap *m, const char *scope, char *out)
{
	char next[2 * ENTRY_MAX_SCOPE + 2];
	size_t k = eff_longest(m, scope);

	if (k == SIZE_MAX)
		return SIZE_MAX;
	snprintf(next, sizeof(next), "%s%s", m->v[k].m.to,
		 scope + strlen(m->v[k].m.from));
	if (strlen(next) > ENTRY_MAX_SCOPE || entry_scope_check(next) < 0)
		return SIZE_MAX;
	strcpy(out, next);
	return k;
}

int scopemap_resolve(const struct scopemap *m, const char *scope,
		     char out[ENTRY_MAX_SCOPE + 1])
{
	snprintf(out, ENTRY_MAX_SCOPE + 1, "%s", scope);
	for (int h = 0; m && m->neff && h < SCOPEMAP_MAX_HOPS; h++)
		if (hop(m, out, out) == SIZE_MAX)
			break;
	return strcmp(out, scope) != 0;
}

int scopemap_under(const struct scopemap *m, const char *scope,
		   const char *prefix)
{
	char a[ENTRY_MAX_SCOPE + 1], b[ENTRY_MAX_SCOPE + 1];

	if (entry_scope_under(scope, prefix))
		return 1;
	if (!m || !m->neff || !prefix[0])
		return 0;
	scopemap_resolve(m, scope, a);
	scopemap_resolve(m, prefix, b);
	return entry_scope_under(a, b);
}

int scopemap_reads(const struct scopemap *m, const char *scope,
		   const char *prefix)
{
	char a[ENTRY_MAX_SCOPE + 1], b[ENTRY_MAX_SCOPE + 1];

	if (!m || !m->neff || !prefix[0])
		return entry_scope_under(scope, prefix);
	size_t k;
	scopemap_resolve(m, scope, a);
	/* where the record is now lies under the grant */
	if (entry_scope_under(a, prefix))
		return 1;
	scopemap_resolve(m, prefix, b);
	/* written under the grant, and not moved away from where the
	 * grant itself now is: neither by a move of its part out of the
	 * grant (a village moved alone, even when its old commune is
	 * merged later into the one it went to) */
	if (entry_scope_under(scope, prefix)) {
		k = eff_longest(m, scope);
		if (k != SIZE_MAX && strlen(m->v[k].m.from) > strlen(prefix) &&
		    !entry_scope_under(m->v[k].m.to, prefix))
			return 0;
		return entry_scope_under(a, b);
	}
	/* written under the grant's new name, when the grant moved along
	 * inside a moved scope (a village of a merged commune): its own
	 * area under the new name. A grant that is itself the scope moved
	 * (the merged commune, a village moved alone) is not: its new name
	 * may hold what was never its own */
	k = eff_longest(m, prefix);
	return k != SIZE_MAX && strlen(m->v[k].m.from) < strlen(prefix) &&
	       entry_scope_under(a, b);
}

int scopemap_grants(const struct scopemap *m, const struct cert *c,
		    const char *scope, int reads)
{
	size_t n = reads ? c->nread : c->nwrite;
	for (size_t i = 0; i < n; i++)
		if (scopemap_under(m, scope, reads ? c->read[i] : c->write[i]))
			return 1;
	return 0;
}

int scopemap_under_any(const struct scopemap *m, const char *scope,
		       const char (*prefixes)[ENTRY_MAX_SCOPE + 1], size_t n)
{
	if (n == 0)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (scopemap_under(m, scope, prefixes[i]))
			return 1;
	return 0;
}

int scopemap_may_read(const struct scopemap *m, const struct cert *c,
		      const char *scope)
{
	for (size_t i = 0; i < c->nread; i++)
		if (scopemap_reads(m, scope, c->read[i]))
			return 1;
	return 0;
}

int scopemap_keeps(const struct scopemap *m, const struct cert *own,
		   const char *own_scope, const char *scope)
{
	if (own)
		return scopemap_may_read(m, own, scope);
	return scopemap_reads(m, scope, own_scope);
}

int scopemap_keep_check(const struct scopemap *m, const struct cert *own,
			const char *own_scope, const struct entry *e,
			char *why, size_t whylen)
{
	if (scopemap_keeps(m, own, own_scope, e->scope))
		return 0;
	/* English: it is stored with the refusal (refused.h) */
	if (own)
		snprintf(why, whylen,
			 N_("seq %llu of scope %s lies outside what this node's certificate lets it read"),
			 (unsigned long long)e->seq, e->scope);
	else
		snprintf(why, whylen,
			 N_("seq %llu of scope %s lies outside this node's own scope %s, all that a node without a certificate keeps"),
			 (unsigned long long)e->seq, e->scope, own_scope);
	return HAMLET_ESCOPE;
}

int scopemap_keep_trust(const struct scopemap *m, const struct cert *own,
			const char *own_scope, int kind, const uint8_t *data,
			size_t len, char *why, size_t whylen)
{
	struct fork_proof *fp;
	int r = 0;

	if (kind != TRUST_FORK)
		return 0;
	if (!(fp = malloc(sizeof(*fp))))
		return -ENOMEM;
	/* one that does not decode is the trust set's to refuse */
	if (fork_proof_decode(data, len, fp, NULL) == 0 &&
	    !scopemap_keeps(m, own, own_scope, fp->a.scope)) {
		snprintf(why, whylen,
			 N_("fork proof of feed %s, which lies outside what this node keeps"),
			 fp->a.scope);
		r = HAMLET_ESCOPE;
	}
	free(fp);
	return r;
}

int scopemap_may_write(const struct scopemap *m, const struct cert *c,
		       const char *scope, const char *collection)
{
	int ok;

	if (cert_may_write(c, scope, collection))
		return 1;
	if (!m || !m->neff)
		return 0;
	ok = c->ncollections == 0;
	for (size_t i = 0; i < c->ncollections && !ok; i++)
		ok = strcmp(collection, c->collections[i]) == 0;
	/* as for reads: what a grant may write through the moves is what
	 * it may read, so that what a node writes it also keeps and sends */
	for (size_t i = 0; ok && i < c->nwrite; i++)
		if (scopemap_reads(m, scope, c->write[i]))
			return 1;
	return 0;
}

/*
 * The move through which scope, written under prefix, left it: walking
 * scope's hops, the first whose FROM lies strictly under one of the
 * names prefix goes by (itself, then each of its own hops) and whose TO
 * does not lie under that name. A hop that only renames the grant (its
 * commune merged) keeps scope inside; a village moved alone out of it
 * leaves, even into the commune the grant is merged into later.
 * SIZE_MAX when no hop does.
 */
static size_t left_by(const struct scopemap *m, const char *scope,
		      const char *prefix)
{
	char names[SCOPEMAP_MAX_HOPS + 1][ENTRY_MAX_SCOPE + 1];
	char cur[ENTRY_MAX_SCOPE + 1];
	size_t nn = 1, k;

	snprintf(names[0], sizeof(names[0]), "%s", prefix);
	while (nn <= SCOPEMAP_MAX_HOPS &&
	       hop(m, names[nn - 1], names[nn]) != SIZE_MAX)
		nn++;
	snprintf(cur, sizeof(cur), "%s", scope);
	for (int h = 0; h < SCOPEMAP_MAX_HOPS; h++) {
		if ((k = hop(m, cur, cur)) == SIZE_MAX)
			break;
		const struct scope_move *mv = &m->v[k].m;
		for (size_t i = 0; i < nn; i++)
			if (entry_scope_under(mv->from, names[i]) &&
			    strcmp(mv->from, names[i]) != 0 &&
			    !entry_scope_under(mv->to, names[i]))
				return k;
	}
	return SIZE_MAX;
}

const struct scope_move *scopemap_moved_away(const struct scopemap *m,
					     const struct cert *c,
					     const char *scope,
					     const char *collection)
{
	size_t k, last = SIZE_MAX;

	if (!m || !m->neff || !cert_may_write(c, scope, collection))
		return NULL;
	for (size_t i = 0; i < c->nwrite; i++)
		if (scopemap_reads(m, scope, c->write[i]))
			return NULL;
	/* of the write prefixes that cover scope as written, the one that
	 * lost it last: the moves are kept oldest first */
	for (size_t i = 0; i < c->nwrite; i++) {
		if (!entry_scope_under(scope, c->write[i]))
			continue;
		k = left_by(m, scope, c->write[i]);
		if (k == SIZE_MAX)
			k = eff_longest(m, scope);
		if (k != SIZE_MAX && (last == SIZE_MAX || k > last))
			last = k;
	}
	return last == SIZE_MAX ? NULL : &m->v[last].m;
}

int scopemap_may_write_at(const struct scopemap *m, const struct cert *c,
			  const char *scope, const char *collection,
			  uint64_t at_ms, const struct scope_move **ret_mv)
{
	const struct scope_move *mv;

	*ret_mv = NULL;
	if (!scopemap_may_write(m, c, scope, collection))
		return 0;
	mv = scopemap_moved_away(m, c, scope, collection);
	if (mv && at_ms >= mv->at_ms) {
		*ret_mv = mv;
		return 0;
	}
	return 1;
}

const char *scopemap_show(const struct scopemap *m, const char *scope,
			  char *out, size_t ol)
{
	char e[ENTRY_MAX_SCOPE + 1];
	if (scopemap_resolve(m, scope, e))
		return scopemap_show_resolved(e, scope, out, ol);
	return scopemap_show_resolved(scope, "", out, ol);
}

const char *scopemap_show_resolved(const char *effective, const char *written,
				   char *out, size_t ol)
{
	if (written[0])
		snprintf(out, ol, "%s (was %s)", effective, written);
	else
		snprintf(out, ol, "%s", effective);
	return out;
}

/* --- a record's scope ------------------------------------------------------------ */

/* The entry of record coll/rid's head id into *e: 0, HAMLET_ENOTFOUND
 * when it is not held here, or another fault. */
static int head_entry(struct store_txn *t, const char *coll, const char *rid,
		      const uint8_t id[32], struct entry *e)
{
	const uint8_t *env, *sig;
	uint8_t eb[ENTRY_MAX_ENVELOPE];
	size_t len;
	int r = log_op_entry(t, coll, rid, id, eb, &env, &len, &sig);
	return r < 0 ? r : entry_decode(env, len, e, NULL);
}

int scopemap_heads_newest(struct store_txn *t, const char *coll,
			  const char *rid, const uint8_t (*heads)[32],
			  size_t n, struct entry *ret)
{
	int found = 0;

	for (size_t i = 0; i < n; i++) {
		struct entry e;
		int r = head_entry(t, coll, rid, heads[i], &e);
		if (r == HAMLET_ENOTFOUND)
			continue; /* held, forked: not a head here */
		if (r < 0)
			return r;
		if (!found || e.hlc > ret->hlc) {
			*ret = e;
			found = 1;
		}
	}
	return found ? 0 : HAMLET_ENOTFOUND;
}

int scopemap_heads_scope(const struct scopemap *m, struct store_txn *t,
			 const char *coll, const char *rid,
			 const uint8_t (*heads)[32], size_t n,
			 char out[ENTRY_MAX_SCOPE + 1])
{
	char eff[ENTRY_MAX_SCOPE + 1], one[ENTRY_MAX_SCOPE + 1];
	int found = 0, differ = 0;

	out[0] = eff[0] = 0;
	for (size_t i = 0; i < n; i++) {
		struct entry e;
		int r = head_entry(t, coll, rid, heads[i], &e);
		if (r == HAMLET_ENOTFOUND)
			continue; /* held, forked: not a head here */
		if (r < 0)
			return r;
		if (m)
			scopemap_resolve(m, e.scope, one);
		else
			strcpy(one, e.scope);
		if (!found) {
			strcpy(out, e.scope);
			strcpy(eff, one);
			found = 1;
			continue;
		}
		if (strcmp(out, e.scope) == 0 && !differ)
			continue;
		/* heads in two scopes (two villages that gave one id to two
		 * people, say): the record is the scope both lie under, so
		 * that no write or reader of one of them is handed the
		 * other's; as written, and by the names after any move */
		differ = 1;
		entry_scope_narrow(out, e.scope);
		entry_scope_narrow(eff, one);
	}
	if (!differ)
		return 0;
	/* the written common scope when it stands for the effective one
	 * (a commune moved with both its villages), else the effective */
	if (m && out[0]) {
		scopemap_resolve(m, out, one);
		if (strcmp(one, eff) != 0)
			strcpy(out, eff);
	} else if (m) {
		strcpy(out, eff);
	}
	return out[0] ? 0 : 1;
}

/* The ids of v's heads into heads; returns how many. */
static int view_heads(const struct record_view *v,
		      uint8_t heads[RECORD_MAX_HEADS][32])
{
	int n = 0;

	for (uint32_t i = 0; v->heads && i < v->heads->via.array.size; i++) {
		const msgpack_object *h = &v->heads->via.array.ptr[i];
		if (h->type != MSGPACK_OBJECT_BIN || h->via.bin.size != 32 ||
		    n == RECORD_MAX_HEADS)
			return HAMLET_ECORRUPT;
		memcpy(heads[n++], h->via.bin.ptr, 32);
	}
	return n;
}

int scopemap_record_newest(struct store_txn *t, const struct record_view *v,
			   struct entry *ret)
{
	uint8_t heads[RECORD_MAX_HEADS][32];
	int n = view_heads(v, heads);

	if (n < 0)
		return n;
	return scopemap_heads_newest(t, v->coll, v->id,
				     (const uint8_t(*)[32])heads, (size_t)n,
				     ret);
}

int scopemap_record_scope(const struct scopemap *m, struct store_txn *t,
			  const struct record_view *v,
			  char out[ENTRY_MAX_SCOPE + 1])
{
	uint8_t heads[RECORD_MAX_HEADS][32];
	int n = view_heads(v, heads);

	out[0] = 0;
	if (n < 0)
		return n;
	return scopemap_heads_scope(m, t, v->coll, v->id,
				    (const uint8_t(*)[32])heads, (size_t)n,
				    out);
}

int scopemap_same(const struct scopemap *m, const char *a, const char *b)
{
	char ra[ENTRY_MAX_SCOPE + 1], rb[ENTRY_MAX_SCOPE + 1];

	if (strcmp(a, b) == 0)
		return 1;
	scopemap_resolve(m, a, ra);
	scopemap_resolve(m, b, rb);
	return strcmp(ra, rb) == 0;
}
