/* Scope moves: the map (hops, cycles, two moves of one scope, order of
 * arrival), and the trust set's grant checks before and after a move. */
#include "error.h"
#include "hlc.h"
#include "report.h"
#include "scopemap.h"
#include "sig.h"
#include "store.h"
#include "testlib.h"
#include "trust.h"
#include "trust_keys.h"
#include "trustset.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1798761600000ull /* 1 Jan 2027 */

static void key_from(uint8_t fill, struct key *k)
{
	uint8_t seed[32];
	memset(seed, fill, 32);
	ASSERT_OK(sig_keypair_from_seed(seed, k->pk, k->sk));
}

static struct scope_move mv(const char *from, const char *to, uint64_t at)
{
	struct scope_move m;
	memset(&m, 0, sizeof(m));
	memcpy(m.network_id, net_id, 32);
	snprintf(m.from, sizeof(m.from), "%s", from);
	snprintf(m.to, sizeof(m.to), "%s", to);
	m.at_ms = at;
	return m;
}

/* Build a map of n moves, given in the order of perm (ids: 1, 2, ...
 * in the order of moves). */
static struct scopemap *build(const struct scope_move *m, size_t n,
			      const size_t *perm)
{
	struct scope_move v[16];
	uint8_t ids[16][32];
	struct scopemap *sm;
	for (size_t i = 0; i < n; i++) {
		size_t k = perm ? perm[i] : i;
		v[i] = m[k];
		memset(ids[i], 0, 32);
		ids[i][0] = (uint8_t)(k + 1);
	}
	ASSERT_OK(scopemap_build(v, (const uint8_t(*)[32])ids, n, &sm));
	return sm;
}

static const char *res(const struct scopemap *m, const char *scope)
{
	static char out[ENTRY_MAX_SCOPE + 1];
	scopemap_resolve(m, scope, out);
	return out;
}

static int status_of(const struct scopemap *m, size_t k)
{
	uint8_t id[32] = { 0 };
	id[0] = (uint8_t)(k + 1);
	return scopemap_status(m, id);
}

static void test_map(void)
{
	struct scopemap *m;
	char show[SCOPEMAP_SHOW_MAX];

	TEST_START("a merger: the old commune's villages read as the new commune's; other scopes stay");
	{
		struct scope_move a[] = { mv("lc/bac-ha", "lc/si-ma-cai", T0) };
		m = build(a, 1, NULL);
		ASSERT_STREQ(res(m, "lc/bac-ha/na-hoi"), "lc/si-ma-cai/na-hoi");
		ASSERT_STREQ(res(m, "lc/bac-ha"), "lc/si-ma-cai");
		ASSERT_STREQ(res(m, "lc/bac-ha-2/x"), "lc/bac-ha-2/x");
		ASSERT_STREQ(res(m, "lc/si-ma-cai/ban-mu"),
			     "lc/si-ma-cai/ban-mu");
		ASSERT_STREQ(res(m, "lc"), "lc");
		ASSERT_STREQ(scopemap_show(m, "lc/bac-ha/na-hoi", show,
					   sizeof(show)),
			     "lc/si-ma-cai/na-hoi (was lc/bac-ha/na-hoi)");
		ASSERT_STREQ(scopemap_show(m, "lc/x", show, sizeof(show)),
			     "lc/x");
		ASSERT_EQ(scopemap_status(m, (const uint8_t[32]){ 1 }),
			  SCOPEMAP_IN_EFFECT);
		ASSERT_STREQ(res(NULL, "lc/bac-ha/na-hoi"), "lc/bac-ha/na-hoi");
		scopemap_free(m);
	}

	TEST_START("a held map outlives its owner's free, and the last holder frees it");
	{
		/* a pool thread's job holds the node's map while the loop
		 * replaces it (the trust set grew): ASan and LeakSanitizer
		 * see a read after the free, or a map never freed */
		struct scope_move a[] = { mv("lc/bac-ha", "lc/si-ma-cai", T0) };
		struct scopemap *held;
		m = build(a, 1, NULL);
		held = scopemap_ref(m);
		ASSERT_TRUE(held == m);
		ASSERT_TRUE(scopemap_ref(NULL) == NULL);
		scopemap_free(m); /* the owner's: replaced */
		ASSERT_STREQ(res(held, "lc/bac-ha/na-hoi"), "lc/si-ma-cai/na-hoi");
		ASSERT_EQ(scopemap_in_effect(held), 1);
		scopemap_free(held);
	}

	TEST_START("moves chain (a commune merged twice) and the longest moved scope wins");
	{
		struct scope_move a[] = {
			mv("lc/bac-ha", "lc/si-ma-cai", T0),
			mv("lc/si-ma-cai", "lc/bac-ha-moi", T0 + 1),
			mv("lc/bac-ha/na-hoi", "hg/x/na-hoi", T0 + 2),
		};
		m = build(a, 3, NULL);
		ASSERT_STREQ(res(m, "lc/bac-ha/ta-chai"), "lc/bac-ha-moi/ta-chai");
		ASSERT_STREQ(res(m, "lc/bac-ha/na-hoi/a"), "hg/x/na-hoi/a");
		ASSERT_STREQ(res(m, "lc/si-ma-cai/y"), "lc/bac-ha-moi/y");
		scopemap_free(m);
	}

	TEST_START("a move that closes a cycle is ignored, whatever order the moves arrive in");
	{
		struct scope_move a[] = {
			mv("lc/a", "lc/b", T0),
			mv("lc/b", "lc/c", T0 + 1),
			mv("lc/c/x", "lc/a/x", T0 + 2), /* back: a cycle */
		};
		size_t orders[][3] = { { 0, 1, 2 }, { 2, 1, 0 }, { 1, 2, 0 } };
		for (size_t o = 0; o < 3; o++) {
			m = build(a, 3, orders[o]);
			ASSERT_EQ(status_of(m, 0), SCOPEMAP_IN_EFFECT);
			ASSERT_EQ(status_of(m, 1), SCOPEMAP_IN_EFFECT);
			ASSERT_EQ(status_of(m, 2), SCOPEMAP_CYCLE);
			ASSERT_EQ(scopemap_in_effect(m), 2);
			ASSERT_STREQ(res(m, "lc/a/x/v"), "lc/c/x/v");
			ASSERT_STREQ(res(m, "lc/c/x/v"), "lc/c/x/v");
			scopemap_free(m);
		}
	}

	TEST_START("two moves of one scope: the later wins, the earlier is superseded, in any order");
	{
		struct scope_move a[] = {
			mv("lc/bac-ha", "lc/si-ma-cai", T0 + 5),
			mv("lc/bac-ha", "lc/muong-khuong", T0 + 9),
		};
		size_t orders[][2] = { { 0, 1 }, { 1, 0 } };
		for (size_t o = 0; o < 2; o++) {
			m = build(a, 2, orders[o]);
			ASSERT_STREQ(res(m, "lc/bac-ha/na-hoi"),
				     "lc/muong-khuong/na-hoi");
			ASSERT_EQ(status_of(m, 0), SCOPEMAP_SUPERSEDED);
			ASSERT_EQ(status_of(m, 1), SCOPEMAP_IN_EFFECT);
			scopemap_free(m);
		}
	}

	TEST_START("a later move that would close a cycle leaves the earlier move of its scope in effect");
	{
		struct scope_move a[] = {
			mv("lc/a", "lc/b", T0),
			mv("lc/b", "lc/c", T0 + 1),
			mv("lc/b", "lc/a/z", T0 + 2), /* a -> b -> a/z -> ... */
		};
		m = build(a, 3, NULL);
		ASSERT_EQ(status_of(m, 1), SCOPEMAP_IN_EFFECT);
		ASSERT_EQ(status_of(m, 2), SCOPEMAP_CYCLE);
		ASSERT_STREQ(res(m, "lc/a/q"), "lc/c/q");
		scopemap_free(m);
	}

	TEST_START("a hop whose result is no scope (over 8 segments) is not taken");
	{
		struct scope_move a[] = { mv("a", "b/c/d/e/f/g/h", T0) };
		m = build(a, 1, NULL);
		ASSERT_STREQ(res(m, "a/x"), "b/c/d/e/f/g/h/x");
		ASSERT_STREQ(res(m, "a/x/y"), "a/x/y");
		scopemap_free(m);
	}

	TEST_START("under: as written, or both mapped; a grant never narrows");
	{
		struct scope_move a[] = { mv("lc/bac-ha", "lc/si-ma-cai", T0) };
		m = build(a, 1, NULL);
		ASSERT_TRUE(scopemap_under(m, "lc/bac-ha/na-hoi", "lc/si-ma-cai"));
		ASSERT_TRUE(scopemap_under(m, "lc/bac-ha/na-hoi",
					   "lc/bac-ha/na-hoi"));
		ASSERT_TRUE(scopemap_under(m, "lc/si-ma-cai/na-hoi",
					   "lc/bac-ha/na-hoi"));
		ASSERT_TRUE(scopemap_under(m, "lc/bac-ha/na-hoi", ""));
		ASSERT_TRUE(!scopemap_under(m, "lc/bac-ha/na-hoi",
					    "lc/si-ma-cai/ban-mu"));
		ASSERT_TRUE(!scopemap_under(NULL, "lc/bac-ha/na-hoi",
					    "lc/si-ma-cai"));
		scopemap_free(m);
	}

	TEST_START("reads: a merged commune's certificates keep what they had; a village moved away leaves its old commune's reach");
	{
		struct scope_move a[] = {
			mv("lc/bac-ha", "lc/si-ma-cai", T0),
			mv("lc/si-ma-cai/ban-mu", "lc/muong-khuong/ban-mu", T0),
		};
		/* scope written, grant, reads?, under? */
		static const struct {
			const char *scope, *grant;
			int reads, under;
		} c[] = {
			/* the merger: the new commune reads the old one's
			 * villages, the old commune and its village keep
			 * theirs, but the old one gains nothing new */
			{ "lc/bac-ha/na-hoi", "lc/si-ma-cai", 1, 1 },
			{ "lc/bac-ha/na-hoi", "lc/bac-ha", 1, 1 },
			{ "lc/bac-ha/na-hoi", "lc/bac-ha/na-hoi", 1, 1 },
			{ "lc/si-ma-cai/ta-van", "lc/bac-ha", 0, 1 },
			/* ban-mu moved alone: its new commune reads it, the
			 * one it left no longer does, it still reads itself */
			{ "lc/si-ma-cai/ban-mu", "lc/muong-khuong", 1, 1 },
			{ "lc/si-ma-cai/ban-mu", "lc/si-ma-cai", 0, 1 },
			{ "lc/si-ma-cai/ban-mu", "lc/si-ma-cai/ban-mu", 1, 1 },
			{ "lc/si-ma-cai/ban-mu", "", 1, 1 },
			{ "lc/si-ma-cai/ta-van", "lc/si-ma-cai", 1, 1 },
			/* written under the new name: a village of the
			 * merged commune reads its own area; the merged
			 * commune's old grant does not gain the new one's */
			{ "lc/si-ma-cai/na-hoi", "lc/bac-ha/na-hoi", 1, 1 },
			{ "lc/si-ma-cai/na-hoi/x", "lc/bac-ha/na-hoi", 1, 1 },
			{ "lc/si-ma-cai/ta-van", "lc/bac-ha/na-hoi", 0, 0 },
			{ "lc/muong-khuong/ban-mu", "lc/si-ma-cai/ban-mu", 0, 1 },
		};
		m = build(a, 2, NULL);
		for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
			if (scopemap_reads(m, c[i].scope, c[i].grant) != c[i].reads ||
			    scopemap_under(m, c[i].scope, c[i].grant) != c[i].under)
				TEST_FAIL_("%s under grant %s: reads %d, under %d",
					   c[i].scope, c[i].grant,
					   scopemap_reads(m, c[i].scope, c[i].grant),
					   scopemap_under(m, c[i].scope, c[i].grant));
		}
		/* no moves: as written */
		ASSERT_TRUE(scopemap_reads(NULL, "lc/a/b", "lc/a"));
		scopemap_free(m);
	}

	TEST_START("reads: a village moved away stays out of its old commune's reach when that commune is merged later into the one it went to");
	{
		struct scope_move a[] = {
			mv("lc/c1/v1", "lc/c2/v1", T0),
			mv("lc/c1", "lc/c2", T0 + 1),
			mv("lc/c1/v3", "lc/c1/v3b", T0 + 2), /* renamed in c1 */
		};
		static const struct {
			const char *scope, *grant;
			int reads;
		} c[] = {
			{ "lc/c1/v1", "lc/c1", 0 },   /* written before it moved */
			{ "lc/c2/v1", "lc/c1", 0 },   /* written after */
			{ "lc/c1/v2", "lc/c1", 1 },   /* stayed: c1 keeps it */
			{ "lc/c1/v3", "lc/c1", 1 },   /* moved inside c1 */
			{ "lc/c1/v1", "lc/c2", 1 },
			{ "lc/c1/v1", "lc/c1/v1", 1 }, /* the village itself */
			{ "lc/c2/v1", "lc/c1/v1", 0 }, /* as for a village moved alone */
			{ "lc/c2/v9", "lc/c1", 0 },   /* c2's own: nothing new */
		};
		m = build(a, 3, NULL);
		for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
			if (scopemap_reads(m, c[i].scope, c[i].grant) != c[i].reads)
				TEST_FAIL_("%s under grant %s: reads %d", c[i].scope,
					   c[i].grant,
					   scopemap_reads(m, c[i].scope, c[i].grant));
		ASSERT_TRUE(!scopemap_reads(NULL, "lc/a/b", "lc/c"));
		scopemap_free(m);
	}
}

/* A certificate of write prefixes "a,b" (not signed: the map alone). */
static struct cert grant_of(const char *prefixes)
{
	struct cert c;
	memset(&c, 0, sizeof(c));
	for (const char *s = prefixes; *s; c.nwrite++) {
		size_t l = strcspn(s, ",");
		snprintf(c.write[c.nwrite], sizeof(c.write[0]), "%.*s", (int)l,
			 s);
		s += l + (s[l] == ',');
	}
	return c;
}

/* scopemap_moved_away()'s FROM for grant g and scope, or "" for none. */
static const char *away_from(const struct scopemap *m, const char *g,
			     const char *scope)
{
	struct cert c = grant_of(g);
	const struct scope_move *mv =
		scopemap_moved_away(m, &c, scope, "health_profile");
	static char from[CERT_SCOPE_MAX + 1];
	snprintf(from, sizeof(from), "%s", mv ? mv->from : "");
	return from;
}

/* scopemap_may_write_at() for grant g, scope, at */
static int write_at(const struct scopemap *m, const char *g,
		    const char *scope, uint64_t at)
{
	struct cert c = grant_of(g);
	const struct scope_move *mv;
	int r = scopemap_may_write_at(m, &c, scope, "health_profile", at, &mv);
	ASSERT_TRUE(r ? mv == NULL : 1);
	return r;
}

static void test_moved_away(void)
{
	/* a merger, a village moved alone out of the merged commune, a
	 * hamlet moved inside a commune and then out with its village */
	struct scope_move a[] = {
		mv("lc/si-ma-cai/ban-mu", "lc/muong-khuong/ban-mu", T0 + 10000),
		mv("lc/bac-ha", "lc/si-ma-cai", T0 + 1000),
		mv("lc/si-ma-cai/na-hoi", "lc/muong-khuong/na-hoi", T0 + 30000),
		mv("lc/si-ma-cai/ta-van/thon-1", "lc/si-ma-cai/lung-sui/thon-1",
		   T0 + 2000),
		mv("lc/si-ma-cai/lung-sui", "lc/muong-khuong/lung-sui",
		   T0 + 40000),
	};
	struct scopemap *m = build(a, 5, NULL);

	ASSERT_EQ(scopemap_in_effect(m), 5);
	TEST_START("moved away: a village moved alone leaves its old commune's write grant from the move's date on");
	ASSERT_STREQ(away_from(m, "lc/si-ma-cai", "lc/si-ma-cai/ban-mu"),
		     "lc/si-ma-cai/ban-mu");
	ASSERT_EQ(write_at(m, "lc/si-ma-cai", "lc/si-ma-cai/ban-mu",
			   T0 + 9999), 1);
	ASSERT_EQ(write_at(m, "lc/si-ma-cai", "lc/si-ma-cai/ban-mu",
			   T0 + 10000), 0);
	ASSERT_EQ(write_at(m, "lc/si-ma-cai", "lc/si-ma-cai/ban-mu/thon-2",
			   T0 + 20000), 0);
	ASSERT_STREQ(away_from(m, "lc/si-ma-cai", "lc/si-ma-cai/ta-chai"), "");
	ASSERT_EQ(write_at(m, "lc/si-ma-cai", "lc/si-ma-cai/ta-chai",
			   T0 + 50000), 1);

	TEST_START("moved away: the grant of the new place, of both, and the village's own keep writing");
	ASSERT_EQ(write_at(m, "lc/muong-khuong", "lc/si-ma-cai/ban-mu",
			   T0 + 20000), 1);
	ASSERT_EQ(write_at(m, "lc/muong-khuong", "lc/muong-khuong/ban-mu",
			   T0 + 20000), 1);
	ASSERT_EQ(write_at(m, "lc/si-ma-cai,lc/muong-khuong",
			   "lc/si-ma-cai/ban-mu", T0 + 20000), 1);
	ASSERT_STREQ(away_from(m, "lc/si-ma-cai/ban-mu", "lc/si-ma-cai/ban-mu"),
		     "");
	ASSERT_EQ(write_at(m, "lc/si-ma-cai/ban-mu", "lc/si-ma-cai/ban-mu",
			   T0 + 20000), 1);

	TEST_START("moved away: a merger only renames the grant; a village moved later out of the merged commune leaves at its own move");
	ASSERT_STREQ(away_from(m, "lc/bac-ha", "lc/bac-ha/na-hoi"),
		     "lc/si-ma-cai/na-hoi");
	ASSERT_EQ(write_at(m, "lc/bac-ha", "lc/bac-ha/na-hoi", T0 + 20000), 1);
	ASSERT_EQ(write_at(m, "lc/bac-ha", "lc/bac-ha/na-hoi", T0 + 30000), 0);
	ASSERT_EQ(write_at(m, "lc/bac-ha", "lc/bac-ha/ta-chai", T0 + 50000), 1);

	TEST_START("moved away: a hamlet moved inside its commune leaves it when its new village moves out");
	ASSERT_STREQ(away_from(m, "lc/si-ma-cai", "lc/si-ma-cai/ta-van/thon-1"),
		     "lc/si-ma-cai/lung-sui");
	ASSERT_EQ(write_at(m, "lc/si-ma-cai", "lc/si-ma-cai/ta-van/thon-1",
			   T0 + 39999), 1);
	ASSERT_EQ(write_at(m, "lc/si-ma-cai", "lc/si-ma-cai/ta-van/thon-1",
			   T0 + 40000), 0);

	TEST_START("moved away: of two prefixes that covered a scope, the grant holds until the later move took it from both");
	ASSERT_STREQ(away_from(m, "lc/si-ma-cai/ta-van,lc/si-ma-cai",
			       "lc/si-ma-cai/ta-van/thon-1"),
		     "lc/si-ma-cai/lung-sui");
	ASSERT_EQ(write_at(m, "lc/si-ma-cai/ta-van",
			   "lc/si-ma-cai/ta-van/thon-1", T0 + 3000), 0);
	ASSERT_EQ(write_at(m, "lc/si-ma-cai/ta-van,lc/si-ma-cai",
			   "lc/si-ma-cai/ta-van/thon-1", T0 + 3000), 1);

	TEST_START("moved away: a village moved into the commune its old one is merged into later still left the old one");
	scopemap_free(m);
	{
		struct scope_move b[] = {
			mv("lc/c1/v1", "lc/c2/v1", T0 + 1000),
			mv("lc/c1", "lc/c2", T0 + 5000),
		};
		m = build(b, 2, NULL);
		ASSERT_STREQ(away_from(m, "lc/c1", "lc/c1/v1"), "lc/c1/v1");
		ASSERT_EQ(write_at(m, "lc/c1", "lc/c1/v1", T0 + 999), 1);
		ASSERT_EQ(write_at(m, "lc/c1", "lc/c1/v1", T0 + 2000), 0);
		ASSERT_EQ(write_at(m, "lc/c1", "lc/c1/v2", T0 + 9000), 1);
	}
	ASSERT_EQ(write_at(NULL, "lc/c1", "lc/c1/v1", T0), 1);
	scopemap_free(m);
}

/* --- grant checks through the trust set ------------------------------- */

static uint8_t *cert_for(const struct key *root, const struct key *subj,
			 const char *name, const char *prefix, size_t *len)
{
	struct cert c;
	uint8_t *p;
	memset(&c, 0, sizeof(c));
	memcpy(c.network_id, net_id, 32);
	memcpy(c.issuer, root->pk, 32);
	memcpy(c.subject, subj->pk, 32);
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.role = CERT_VILLAGE;
	/* prefix: one scope, or several "a,b" */
	for (const char *s = prefix; *s; c.nwrite++) {
		size_t l = strcspn(s, ",");
		snprintf(c.write[c.nwrite], sizeof(c.write[0]), "%.*s", (int)l,
			 s);
		strcpy(c.read[c.nwrite], c.write[c.nwrite]);
		s += l + (s[l] == ',');
	}
	c.nread = c.nwrite;
	c.not_before_ms = T0 - 86400000ull;
	ASSERT_OK(cert_sign(&c, root->sk, &p, len));
	return p;
}

static int add(struct store *st, int kind, const uint8_t *p, size_t n,
	       char *why, size_t wl)
{
	struct store_txn *t;
	struct trustset_item it = { kind, p, n };
	struct trustset_out o;
	ASSERT_OK(store_txn_begin(st, 0, &t));
	ASSERT_OK(trustset_add(t, net_id, &it, 1, &o));
	ASSERT_OK(store_txn_commit(t));
	snprintf(why, wl, "%s", o.why);
	return o.status;
}

/* A store in a new directory under $TMPDIR (*ret_dir, to free) whose
 * trust set has root's key as its root. */
static struct store *store_rooted(const struct key *root, char **ret_dir)
{
	const char *tmp = getenv("TMPDIR");
	struct store *st;
	struct store_txn *t;
	char *dir = malloc(4096);

	ASSERT_TRUE(dir != NULL);
	snprintf(dir, 4096, "%s/hamlet-scopemap-XXXXXX", tmp ? tmp : "/tmp");
	ASSERT_TRUE(mkdtemp(dir) != NULL);
	ASSERT_OK(store_open(dir, NULL, &st));
	ASSERT_OK(store_txn_begin(st, 0, &t));
	ASSERT_OK(trustset_root_set(t, root->pk));
	ASSERT_OK(store_txn_commit(t));
	*ret_dir = dir;
	return st;
}

/* root certifies subj to read and write prefix, into st's trust set. */
static void certify(struct store *st, const struct key *root,
		    const struct key *subj, const char *name,
		    const char *prefix)
{
	char why[256];
	size_t n;
	uint8_t *p = cert_for(root, subj, name, prefix, &n);
	ASSERT_EQ(add(st, TRUST_CERT, p, n, why, sizeof(why)), TRUSTSET_ADDED);
	free(p);
}

/* trustset_entry_check() of an entry of author in scope dated at (ms) */
static int check_at(struct store *st, const struct key *author,
		    const char *scope, uint64_t at, char *why, size_t wl)
{
	return trust_judge(st, author, scope, "health_profile", at, why, wl);
}

static int check(struct store *st, const struct key *author,
		 const char *scope, char *why, size_t wl)
{
	return check_at(st, author, scope, T0 + 1000, why, wl);
}

static void test_grants(void)
{
	struct key root, village, commune, other;
	struct store *st;
	struct store_txn *t;
	struct scope_move m;
	uint8_t *p;
	size_t n;
	char why[256], *dir, cmd[4200];

	key_from(0x01, &root);
	key_from(0x02, &village);
	key_from(0x03, &commune);
	key_from(0x04, &other);
	st = store_rooted(&root, &dir);
	certify(st, &root, &village, "na-hoi", "lc/bac-ha/na-hoi");
	certify(st, &root, &commune, "si-ma-cai", "lc/si-ma-cai");

	TEST_START("before the move: the village writes its own scope, the new commune cannot write the old one's");
	ASSERT_OK(check(st, &village, "lc/bac-ha/na-hoi", why, sizeof(why)));
	ASSERT_EQ(check(st, &commune, "lc/bac-ha/na-hoi", why, sizeof(why)),
		  HAMLET_ECERT);
	ASSERT_TRUE(strstr(why, "does not let it write") != NULL);

	TEST_START("a move not signed by the root is refused, naming why");
	m = mv("lc/bac-ha", "lc/si-ma-cai", T0);
	memcpy(m.issuer, other.pk, 32);
	ASSERT_OK(move_sign(&m, other.sk, &p, &n));
	ASSERT_EQ(add(st, TRUST_MOVE, p, n, why, sizeof(why)),
		  TRUSTSET_REFUSED);
	ASSERT_TRUE(strstr(why, "not the network's root") != NULL);
	free(p);
	ASSERT_EQ(check(st, &commune, "lc/bac-ha/na-hoi", why, sizeof(why)),
		  HAMLET_ECERT);

	TEST_START("after the root's move: the old certificate still holds, and the new commune's covers the old commune's scopes");
	memcpy(m.issuer, root.pk, 32);
	ASSERT_OK(move_sign(&m, root.sk, &p, &n));
	ASSERT_EQ(add(st, TRUST_MOVE, p, n, why, sizeof(why)), TRUSTSET_ADDED);
	ASSERT_EQ(add(st, TRUST_MOVE, p, n, why, sizeof(why)), TRUSTSET_KNOWN);
	free(p);
	ASSERT_OK(check(st, &village, "lc/bac-ha/na-hoi", why, sizeof(why)));
	ASSERT_OK(check(st, &village, "lc/si-ma-cai/na-hoi", why, sizeof(why)));
	ASSERT_OK(check(st, &commune, "lc/bac-ha/na-hoi", why, sizeof(why)));
	ASSERT_EQ(check(st, &village, "lc/bac-ha/ta-chai", why, sizeof(why)),
		  HAMLET_ECERT);
	ASSERT_EQ(check(st, &commune, "lc/muong-khuong/x", why, sizeof(why)),
		  HAMLET_ECERT);

	TEST_START("the map loads from the trust set");
	{
		struct scopemap *sm;
		ASSERT_OK(store_txn_begin(st, 1, &t));
		ASSERT_OK(scopemap_load(t, &sm));
		store_txn_abort(t);
		ASSERT_EQ(scopemap_size(sm), 1);
		ASSERT_STREQ(res(sm, "lc/bac-ha/na-hoi"), "lc/si-ma-cai/na-hoi");
		scopemap_free(sm);
	}

	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ASSERT_EQ(system(cmd), 0);
	free(dir);
}

static void test_moved_grants(void)
{
	struct key root, c2, c3, v2, both;
	struct store *st;
	struct store_txn *t;
	struct scope_move m;
	uint8_t *p;
	size_t n;
	/* the size a refusal's reason has (struct log_out) */
	char why[200], *dir, cmd[4200];
	const uint64_t tm = T0 + 10000; /* the move: 2027-01-01 00:00:10 */
	const char *bm = "lc/si-ma-cai/ban-mu";

	key_from(0x11, &root);
	key_from(0x12, &c2);
	key_from(0x13, &c3);
	key_from(0x14, &v2);
	key_from(0x15, &both);
	st = store_rooted(&root, &dir);
	certify(st, &root, &c2, "si-ma-cai", "lc/si-ma-cai");
	certify(st, &root, &c3, "muong-khuong", "lc/muong-khuong");
	certify(st, &root, &v2, "ban-mu", bm);
	certify(st, &root, &both, "district", "lc/si-ma-cai,lc/muong-khuong");
	m = mv(bm, "lc/muong-khuong/ban-mu", tm);
	memcpy(m.issuer, root.pk, 32);
	snprintf(m.reason, sizeof(m.reason), "boundary change");
	ASSERT_OK(move_sign(&m, root.sk, &p, &n));
	ASSERT_EQ(add(st, TRUST_MOVE, p, n, why, sizeof(why)), TRUSTSET_ADDED);
	free(p);

	TEST_START("an entry of the old commune in a village moved away, dated at or after the move, is refused naming the move");
	ASSERT_EQ(check_at(st, &c2, bm, tm + 60000, why, sizeof(why)),
		  HAMLET_ECERT);
	ASSERT_STREQ(why, "seq 1 of feed lc/si-ma-cai/ban-mu: the network's root moved that scope to lc/muong-khuong/ban-mu on 2027-01-01 00:00:10 UTC; its author's certificate (\"si-ma-cai\") no longer lets it write there");
	ASSERT_EQ(check_at(st, &c2, bm, tm, why, sizeof(why)), HAMLET_ECERT);
	ASSERT_EQ(check_at(st, &c2, "lc/si-ma-cai/ban-mu/thon-2", tm + 1, why,
			   sizeof(why)),
		  HAMLET_ECERT);
	/* a long one is cut to the reason's size, the move named first */
	ASSERT_TRUE(strncmp(why, "seq 1 of feed lc/si-ma-cai/ban-mu/thon-2: the network's root moved lc/si-ma-cai/ban-mu to lc/muong-khuong/ban-mu on 2027-01-01 00:00:10 UTC; its author's certificate (\"si-ma-cai\") no longer",
			    189) == 0);

	TEST_START("what the old commune wrote there before the move stands, and it keeps writing its own villages");
	ASSERT_OK(check_at(st, &c2, bm, tm - 1, why, sizeof(why)));
	ASSERT_OK(check_at(st, &c2, "lc/si-ma-cai/ta-chai", tm + 60000, why,
			   sizeof(why)));

	TEST_START("the new commune writes the village under either name; the village's own and a grant of both keep writing");
	ASSERT_OK(check_at(st, &c3, "lc/muong-khuong/ban-mu", tm + 60000, why,
			   sizeof(why)));
	ASSERT_OK(check_at(st, &c3, bm, tm + 60000, why, sizeof(why)));
	ASSERT_OK(check_at(st, &v2, bm, tm + 60000, why, sizeof(why)));
	ASSERT_OK(check_at(st, &both, bm, tm + 60000, why, sizeof(why)));

	TEST_START("the auditor's grant check (verify --report, history) judges the same");
	{
		struct cert_chain ch;
		struct entry e;
		memset(&e, 0, sizeof(e));
		memcpy(e.network_id, net_id, 32);
		memcpy(e.author, c2.pk, 32);
		snprintf(e.scope, sizeof(e.scope), "%s", bm);
		snprintf(e.collection, sizeof(e.collection), "health_profile");
		e.seq = 1;
		ASSERT_OK(store_txn_begin(st, 1, &t));
		e.hlc = (tm - 1) << 16;
		ASSERT_OK(report_entry_grant(t, &e, &ch));
		e.hlc = (tm + 60000) << 16;
		ASSERT_EQ(report_entry_grant(t, &e, &ch), HAMLET_ECERT);
		memcpy(e.author, c3.pk, 32);
		ASSERT_OK(report_entry_grant(t, &e, &ch));
		store_txn_abort(t);
	}

	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ASSERT_EQ(system(cmd), 0);
	free(dir);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_map();
	test_moved_away();
	test_grants();
	test_moved_grants();
	TEST_DONE();
}
