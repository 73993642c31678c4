/*
 * Shared helpers for core tests: temporary directories, test nodes with
 * fixed keys, and building msgpack bodies from a tiny "k=v;k=v" notation.
 */
#ifndef HAMLET_TEST_HELPERS_H
#define HAMLET_TEST_HELPERS_H

#include "audit.h"
#include "bundle.h"
#include "cert.h"
#include "error.h"
#include "log.h"
#include "mp.h"
#include "node.h"
#include "record.h"
#include "summary.h"
#include "testlib.h"
#include "trust.h"
#include "hlc.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* A fresh directory under $TMPDIR; removed by the test at exit. */
static __attribute__((unused)) char *th_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p = malloc(4096);
	snprintf(p, 4096, "%s/hamlet-test-XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(p)) {
		perror("mkdtemp");
		exit(1);
	}
	return p;
}

static __attribute__((unused)) void th_rmrf(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", dir);
}

/* The end of a daemon test: its scratch dir removed (kept, and named,
 * with HAMLET_TEST_KEEP set), and dir and net freed. */
static __attribute__((unused)) void th_scratch_done(char *dir, char *net)
{
	if (!getenv("HAMLET_TEST_KEEP"))
		th_rmrf(dir);
	else
		fprintf(stderr, "kept %s\n", dir);
	free(net);
	free(dir);
}

/* Remove path and everything under it, in this process. */
static __attribute__((unused)) void th_rm_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		char sub[4200];
		while (d && (e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			th_rm_tree(sub);
		}
		if (d)
			closedir(d);
		ASSERT_EQ(rmdir(path), 0);
	} else {
		ASSERT_EQ(unlink(path), 0);
	}
}

/*
 * Copy the tree at from to to (removed first), in this process: files
 * byte for byte with their modes, directories, symbolic links. Cheaper
 * than cp(1) in a loop of thousands.
 */
static __attribute__((unused)) void th_copy_tree(const char *from,
						 const char *to)
{
	struct stat st;
	th_rm_tree(to);
	ASSERT_EQ(lstat(from, &st), 0);
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(from);
		struct dirent *e;
		char a[4200], b[4200];
		ASSERT_TRUE(d != NULL);
		ASSERT_EQ(mkdir(to, st.st_mode & 07777), 0);
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(a, sizeof(a), "%s/%s", from, e->d_name);
			snprintf(b, sizeof(b), "%s/%s", to, e->d_name);
			th_copy_tree(a, b);
		}
		closedir(d);
	} else if (S_ISLNK(st.st_mode)) {
		char target[4200];
		ssize_t n = readlink(from, target, sizeof(target) - 1);
		ASSERT_TRUE(n >= 0);
		target[n] = 0;
		ASSERT_EQ(symlink(target, to), 0);
	} else if (S_ISREG(st.st_mode)) {
		int in = open(from, O_RDONLY), out;
		char buf[65536];
		ssize_t n;
		ASSERT_TRUE(in >= 0);
		out = open(to, O_WRONLY | O_CREAT | O_TRUNC, st.st_mode & 07777);
		ASSERT_TRUE(out >= 0);
		while ((n = read(in, buf, sizeof(buf))) > 0)
			ASSERT_EQ(write(out, buf, (size_t)n), n);
		ASSERT_EQ(n, 0);
		close(in);
		close(out);
	}
	/* sockets and the like are not copied: a node at rest has none */
}

/* A whole file, malloc'd with one byte to spare; *ret_len its size. */
static __attribute__((unused)) uint8_t *th_slurp(const char *path,
						 size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	ASSERT_TRUE(f != NULL);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *p = malloc((size_t)n + 1);
	ASSERT_EQ(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*ret_len = (size_t)n;
	return p;
}

static __attribute__((unused)) void th_spit(const char *path,
					    const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	ASSERT_TRUE(f != NULL);
	ASSERT_EQ(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* A network file in dir; returns its path (malloc'd). */
static __attribute__((unused)) char *th_network(const char *dir, const char *name)
{
	char why[256];
	struct network_info ni;
	char *p = malloc(4096);
	if (network_create(name, dir, &ni, why, sizeof(why)) < 0) {
		fprintf(stderr, "network_create: %s\n", why);
		exit(1);
	}
	snprintf(p, 4096, "%s/%s.network", dir, name);
	return p;
}

/*
 * The nodes a test holds open, so that each one's trust set learns every
 * certificate th_certify signs, as replication would teach it. node_close
 * below takes a node off the list.
 */
static struct node *th_live[64];
static size_t th_nlive;

static __attribute__((unused)) void th_trust_from(struct node *to,
						 const struct node *from)
{
	char path[4096], why[300];
	uint8_t buf[CERT_CHAIN_MAX_BYTES];
	size_t len;
	FILE *f;
	if (memcmp(to->net.id, from->net.id, 32) != 0)
		return; /* another network's */
	snprintf(path, sizeof(path), "%s/" NODE_CERT_FILE, from->home);
	if (!(f = fopen(path, "rb")))
		return; /* not certified */
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (node_trust_chain(to, buf, len, why, sizeof(why)) < 0) {
		fprintf(stderr, "th_trust_from %s to %s: %s\n", from->name,
			to->name, why);
		exit(1);
	}
}

static __attribute__((unused)) void th_live_add(struct node *n)
{
	if (th_nlive < sizeof(th_live) / sizeof(th_live[0]))
		th_live[th_nlive++] = n;
	for (size_t i = 0; i < th_nlive; i++)
		if (th_live[i] != n)
			th_trust_from(n, th_live[i]);
}

static __attribute__((unused)) void th_node_close(struct node *n)
{
	for (size_t i = 0; i < th_nlive; i++)
		if (th_live[i] == n) {
			th_live[i] = th_live[--th_nlive];
			break;
		}
	node_close(n);
}
#define node_close th_node_close

/* One certificate (not a chain) the root of netfile signs for key pk,
 * named name, to read and write (write NULL: none) until expires_ms. */
static __attribute__((unused)) uint8_t *
th_cert_one(const char *netfile, const uint8_t pk[32], const char *name,
	    const char *read, const char *write, uint64_t expires_ms,
	    int delegate, size_t *ret_len)
{
	char path[4096], why[256];
	uint8_t nid[32], rpk[32], *rsk, *one;
	size_t ol;
	struct cert c;
	size_t k = strlen(netfile);

	if (k < 8 || strcmp(netfile + k - 8, ".network") != 0)
		exit(1);
	snprintf(path, sizeof(path), "%.*s.root.key", (int)(k - 8), netfile);
	if (root_key_load(path, nid, rpk, &rsk, why, sizeof(why)) < 0) {
		fprintf(stderr, "th_certify: %s\n", why);
		exit(1);
	}
	memset(&c, 0, sizeof(c));
	memcpy(c.network_id, nid, 32);
	memcpy(c.issuer, rpk, 32);
	memcpy(c.subject, pk, 32);
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.role = CERT_VILLAGE;
	snprintf(c.read[0], sizeof(c.read[0]), "%s", read);
	c.nread = 1;
	if (write) {
		snprintf(c.write[0], sizeof(c.write[0]), "%s", write);
		c.nwrite = 1;
	}
	c.not_before_ms = (uint64_t)time(NULL) * 1000 - 86400000ull;
	c.expires_ms = expires_ms;
	c.delegate = delegate;
	randombytes_buf(c.serial, sizeof(c.serial));
	if (cert_sign(&c, rsk, &one, &ol) < 0)
		exit(1);
	sodium_free(rsk);
	*ret_len = ol;
	return one;
}

/* A chain file (malloc'd, *ret_len bytes) of one certificate by the
 * network's root for n: read, write (NULL: none), delegate. */
static __attribute__((unused)) uint8_t *th_chain_for(struct node *n,
						    const char *netfile,
						    const char *read,
						    const char *write,
						    uint64_t expires_ms,
						    int delegate,
						    size_t *ret_len)
{
	uint8_t *one, *file;
	size_t ol, fl;

	one = th_cert_one(netfile, n->pk, n->name, read, write, expires_ms,
			  delegate, &ol);
	if (cert_chain_encode((const uint8_t *const *)&one, &ol, 1, &file,
			      &fl) < 0)
		exit(1);
	free(one);
	*ret_len = fl;
	return file;
}

/* th_certify, and delegate: the node is an administrator of its grant
 * (it may certify others, and erase). */
static __attribute__((unused)) void th_certify_as(struct node *n,
						 const char *netfile,
						 const char *read,
						 const char *write,
						 uint64_t expires_ms,
						 int delegate)
{
	char path[4096];
	size_t fl;
	uint8_t *file = th_chain_for(n, netfile, read, write, expires_ms,
				     delegate, &fl);
	FILE *f;
	snprintf(path, sizeof(path), "%s/" NODE_CERT_FILE, n->home);
	if (!(f = fopen(path, "wb")) || fwrite(file, 1, fl, f) != fl ||
	    fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	free(file);
	/* every open node learns it, n first */
	th_trust_from(n, n);
	for (size_t i = 0; i < th_nlive; i++)
		if (th_live[i] != n)
			th_trust_from(th_live[i], n);
}

/*
 * Sign a certificate for n with the root key beside netfile (NAME.root.key
 * next to NAME.network): read and write prefixes as given ("" alone: every
 * scope for read; NULL write: none), valid from a day ago until expires_ms
 * (0: never), and write it as n's chain file as it is, valid or not.
 */
static __attribute__((unused)) void th_certify(struct node *n,
					      const char *netfile,
					      const char *read,
					      const char *write,
					      uint64_t expires_ms)
{
	th_certify_as(n, netfile, read, write, expires_ms, 0);
}

/* The rows of table tab in n's store. */
static __attribute__((unused)) uint64_t th_count_rows(struct node *n,
						      enum store_table tab)
{
	struct store_txn *t;
	uint64_t c;
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	ASSERT_OK(store_count(t, tab, &c));
	store_txn_abort(t);
	return c;
}

/* The entries n's store holds. */
static __attribute__((unused)) uint64_t th_count_entries(struct node *n)
{
	return th_count_rows(n, ST_ENTRIES);
}

/* The records n holds. */
static __attribute__((unused)) uint64_t th_records(struct node *n)
{
	struct store_txn *t;
	uint8_t d[32];
	uint64_t c = 0;
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	ASSERT_OK(record_digest(t, d, &c));
	store_txn_abort(t);
	return c;
}

/* A node without a certificate. */
static __attribute__((unused)) struct node *th_node_bare(const char *dir,
							const char *netfile,
							const char *name,
							const char *scope)
{
	char home[4096], why[256];
	struct node *n;
	snprintf(home, sizeof(home), "%s/%s", dir, name);
	if (node_init(home, netfile, name, scope, why, sizeof(why)) < 0 ||
	    node_open(home, 0, &n, why, sizeof(why)) < 0) {
		fprintf(stderr, "node %s: %s\n", name, why);
		exit(1);
	}
	th_live_add(n);
	return n;
}

/* A node certified by the network's root to read and write its scope. */
static __attribute__((unused)) struct node *th_node(const char *dir, const char *netfile,
			    const char *name, const char *scope)
{
	struct node *n = th_node_bare(dir, netfile, name, scope);
	th_certify(n, netfile, scope, scope, 0);
	return n;
}

/*
 * Body from "field=value;field=#123;field=~" (# int, ~ nil). Values may
 * not contain ';'. Returns malloc'd msgpack.
 */
static __attribute__((unused)) uint8_t *th_body(const char *spec, size_t *ret_len)
{
	struct mp_writer w;
	char buf[2048];
	size_t n = 0;
	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *p = buf; *p; p++)
		if (*p == '=')
			n++;
	mp_writer_init(&w);
	msgpack_pack_map(&w.pk, n);
	char *save = NULL;
	for (char *tok = strtok_r(buf, ";", &save); tok;
	     tok = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(tok, '=');
		*eq = 0;
		mp_pack_str(&w.pk, tok);
		const char *v = eq + 1;
		if (v[0] == '#')
			msgpack_pack_int64(&w.pk, strtoll(v + 1, NULL, 10));
		else if (v[0] == '~' && v[1] == 0)
			msgpack_pack_nil(&w.pk);
		else
			mp_pack_str(&w.pk, v);
	}
	uint8_t *out = mp_writer_take(&w, ret_len);
	mp_writer_destroy(&w);
	return out;
}

/* One put or delete through log_write; returns its result code. */
/* count health profiles HP-from.. written on n, 500 a transaction. */
static __attribute__((unused)) void th_put_people(struct node *n, int from,
						  int count)
{
	int done = 0;
	while (done < count) {
		struct log_op ops[500];
		uint8_t *bodies[500];
		char ids[500][32], why[256], spec[256];
		struct log_author a;
		size_t failed, k = 0;
		node_author(n, &a);
		for (; k < 500 && done + (int)k < count; k++) {
			int i = from + done + (int)k;
			snprintf(ids[k], sizeof(ids[k]), "HP-%d", i);
			snprintf(spec, sizeof(spec),
				 "person_id=%012d;full_name=Person %d;birth_date=1980-01-01",
				 i, i);
			bodies[k] = th_body(spec, &ops[k].body_len);
			ops[k] = (struct log_op){ ENTRY_PUT, "health_profile",
						  ids[k], NULL, bodies[k],
						  ops[k].body_len, 0, NULL, 0 };
		}
		if (log_write(n->st, &a, ops, k, NULL, &failed, why,
			      sizeof(why), NULL) < 0) {
			fprintf(stderr, "log_write: %s\n", why);
			exit(1);
		}
		for (size_t i = 0; i < k; i++)
			free(bodies[i]);
		done += (int)k;
	}
}

/* One op of kind on coll/id, written by n in scope (NULL: the node's
 * own, or the record's), the body from spec for a put. */
static __attribute__((unused)) int th_write_in(struct node *n, int kind,
		    const char *coll, const char *id, const char *spec,
		    const char *scope, int resolve, char *why, size_t wl)
{
	struct log_author a;
	struct log_op op = { kind, coll, id, scope, NULL, 0, resolve, NULL, 0 };
	uint8_t *body = NULL;
	size_t failed;
	int r;
	node_author(n, &a);
	if (kind == ENTRY_PUT) {
		body = th_body(spec, &op.body_len);
		op.body = body;
	}
	r = log_write(n->st, &a, &op, 1, NULL, &failed, why, wl, NULL);
	free(body);
	return r;
}

static __attribute__((unused)) int th_write(struct node *n, int kind, const char *coll,
		    const char *id, const char *spec, int resolve, char *why,
		    size_t wl)
{
	return th_write_in(n, kind, coll, id, spec, NULL, resolve, why, wl);
}

static __attribute__((unused)) int th_put(struct node *n, const char *coll, const char *id,
		  const char *spec)
{
	char why[256];
	int r = th_write(n, ENTRY_PUT, coll, id, spec, 0, why, sizeof(why));
	if (r < 0)
		fprintf(stderr, "put %s/%s: %s\n", coll, id, why);
	return r;
}

/* n health profiles HP-0.. HP-(n-1), named "NAME i", written on node. */
static __attribute__((unused)) void th_put_profiles(struct node *node, int n,
						    const char *name)
{
	for (int i = 0; i < n; i++) {
		char id[32], spec[256];
		snprintf(id, sizeof(id), "HP-%d", i);
		snprintf(spec, sizeof(spec),
			 "person_id=0011223344%02d;full_name=%s %d;birth_date=1990-01-0%d",
			 i, name, i, i % 9 + 1);
		ASSERT_OK(th_put(node, "health_profile", id, spec));
	}
}

/* The node's state digest; the kept one must be what its records hash to. */
static __attribute__((unused)) void th_digest(struct node *n, uint8_t out[32])
{
	struct store_txn *t;
	uint8_t real[32];
	uint64_t kept_n, real_n, rows;
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	ASSERT_OK(record_digest(t, out, &kept_n));
	ASSERT_OK(record_digest_recompute(t, real, &real_n));
	ASSERT_OK(store_count(t, ST_RECORDS, &rows));
	store_txn_abort(t);
	ASSERT_MEMEQ(out, real, 32);
	ASSERT_EQ(kept_n, real_n);
	ASSERT_EQ(kept_n, rows);
}

/* Two nodes show the same state digest. */
#define TH_ASSERT_SAME_STATE(a, b)                  \
	do {                                        \
		uint8_t da_[32], db_[32];           \
		th_digest(a, da_);                  \
		th_digest(b, db_);                  \
		ASSERT_MEMEQ(da_, db_, 32);         \
	} while (0)

/* Move everything a has into b via a bundle file built for b's summary. */
static __attribute__((unused)) void th_sync(struct node *a, struct node *b, const char *dir)
{
	char sum[4096], bun[4096], why[256];
	struct bundle_report rep;
	snprintf(sum, sizeof(sum), "%s/sum-%s", dir, b->name);
	snprintf(bun, sizeof(bun), "%s/bundle-%s-%s", dir, a->name, b->name);
	ASSERT_OK(summary_write(b->st, b->net.id, b->pk, NULL, 0, sum, NULL));
	struct bundle_create_opts o = { NULL, sum, NULL, 0, NULL, NULL, NULL, NULL };
	if (bundle_create(a, bun, &o, NULL, why, sizeof(why)) < 0) {
		fprintf(stderr, "bundle_create: %s\n", why);
		exit(1);
	}
	if (bundle_import(b, bun, &rep, why, sizeof(why)) < 0) {
		fprintf(stderr, "bundle_import: %s\n", why);
		exit(1);
	}
	ASSERT_EQ(rep.stats.rejected, 0);
	bundle_report_close(&rep);
}

/*
 * After importing a damaged copy of the bundle bun (the flip at byte i):
 * n's store audits clean, and the intact bundle then brings it to the
 * digest after, as if the damaged copy had never come.
 */
static __attribute__((unused)) void th_bundle_heals(struct node *n,
						    const char *bun,
						    const uint8_t after[32],
						    size_t i)
{
	struct audit_report ar;
	struct bundle_report rep;
	uint8_t now[32];
	char why[512];
	ASSERT_OK(audit_store(n->st, n->net.id, &ar));
	ASSERT_TRUE(!audit_failed(&ar));
	audit_report_close(&ar);
	ASSERT_OK(bundle_import(n, bun, &rep, why, sizeof(why)));
	ASSERT_EQ(rep.stats.rejected, 0);
	bundle_report_close(&rep);
	th_digest(n, now);
	if (memcmp(now, after, 32) != 0)
		TEST_FAIL_("flip at byte %zu left records that differ from an intact import's",
			   i);
}

/*
 * Where the last run frame of a bundle file lies ([*start, *end)), its
 * entries lost together when any byte of it is damaged: in a plain
 * bundle the frame before the trailer, in a sealed one the sframe before
 * the last (one plain frame to each sframe). 0 when there is none.
 */
static __attribute__((unused)) int th_run_span(const uint8_t *p, size_t len,
					       size_t *start, size_t *end)
{
	size_t off, prev = 0, cur = 0;
	int n = 0, sealed = len >= 8 && memcmp(p, "HAMLETE", 7) == 0;
	off = sealed ? 8 + 1 + 32 + 16 + 80 + 32 : 8;
	while (off + 12 <= len) {
		size_t fl = sealed ? 12 + ((size_t)p[off + 8] << 24 |
					   (size_t)p[off + 9] << 16 |
					   (size_t)p[off + 10] << 8 | p[off + 11])
				   : 8 + ((size_t)p[off + 4] << 24 |
					  (size_t)p[off + 5] << 16 |
					  (size_t)p[off + 6] << 8 | p[off + 7]);
		prev = cur;
		cur = off;
		off += fl;
		n++;
	}
	if (n < 2 || (!sealed && p[prev + 2] != 'C'))
		return 0;
	*start = prev;
	*end = cur;
	return 1;
}

/* Count conflicts of a record (field conflicts + delete) and duplicates. */
static __attribute__((unused)) int th_conflicts(struct node *n, const char *coll, const char *id,
			int *ret_dups)
{
	struct store_txn *t;
	struct record_view v;
	int c;
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	ASSERT_OK(record_view_load(t, coll, id, &v));
	c = (int)v.conflicts->via.array.size;
	if (ret_dups)
		*ret_dups = record_duplicates(t, coll, &v, id, NULL, NULL);
	record_view_close(&v);
	store_txn_abort(t);
	return c;
}

/* The string value of a field, copied into out ("" when unset). */
static __attribute__((unused)) const char *th_field(struct node *n, const char *coll, const char *id,
			    const char *field, char *out, size_t cap)
{
	struct store_txn *t;
	struct record_view v;
	out[0] = 0;
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	if (record_view_load(t, coll, id, &v) == 0) {
		const msgpack_object *o = record_view_field(&v, field);
		if (o && o->type == MSGPACK_OBJECT_STR)
			snprintf(out, cap, "%.*s", (int)o->via.str.size,
				 o->via.str.ptr);
		else if (o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			snprintf(out, cap, "%llu",
				 (unsigned long long)o->via.u64);
		if (v.deleted)
			snprintf(out, cap, "(deleted)");
		record_view_close(&v);
	}
	store_txn_abort(t);
	return out;
}

/* Every entry a node holds, with bodies, in feed order (copied). */
struct th_pool {
	struct log_in *in;
	uint8_t **bufs;
	size_t n, cap;
	struct store_txn *t;
};

static int th_pool_feed(void *ctx, const struct log_feed *f)
{
	struct th_pool *p = ctx;
	struct bodyz_buf zb = { 0 };
	for (uint64_t s = 1; s <= f->seq; s++) {
		const uint8_t *env, *sig, *body = NULL;
		size_t el, bl = 0;
		struct entry e;
		struct log_entry_full x;
		ASSERT_OK(log_entry_read(p->t, f->key, s, &zb, &x));
		env = x.env;
		el = x.env_len;
		sig = x.sig;
		ASSERT_OK(entry_decode(env, el, &e, NULL));
		if (e.has_body) {
			ASSERT_TRUE(x.body != NULL);
			body = x.body;
			bl = x.body_len;
		}
		if (p->n == p->cap) {
			p->cap = p->cap ? p->cap * 2 : 64;
			p->in = realloc(p->in, p->cap * sizeof(*p->in));
			p->bufs = realloc(p->bufs, p->cap * sizeof(*p->bufs));
			ASSERT_TRUE(p->in && p->bufs);
		}
		uint8_t *b = malloc(el + 64 + bl + 1);
		memcpy(b, env, el);
		memcpy(b + el, sig, 64);
		if (bl)
			memcpy(b + el + 64, body, bl);
		p->bufs[p->n] = b;
		p->in[p->n++] = (struct log_in){ b, el, b + el,
						 body ? b + el + 64 : NULL, bl, NULL, 0, NULL };
	}
	bodyz_buf_free(&zb);
	return 0;
}

static __attribute__((unused)) void th_pool_fill(struct node *n,
						 struct th_pool *p)
{
	ASSERT_OK(store_txn_begin(n->st, 1, &p->t));
	ASSERT_OK(log_feeds_each(p->t, th_pool_feed, p));
	store_txn_abort(p->t);
}

static __attribute__((unused)) void th_pool_free(struct th_pool *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->bufs[i]);
	free(p->in);
	free(p->bufs);
	memset(p, 0, sizeof(*p));
}

/* The root's revocation of victim keeping seq keep (id head) of scope. */
static __attribute__((unused)) uint8_t *
th_revoke_by_root(const char *netfile, const struct node *victim,
		  const char *scope, uint64_t keep, const uint8_t head[32],
		  size_t *ret_len)
{
	char path[4096], why[256];
	uint8_t nid[32], rpk[32], *rsk, *p;
	struct revocation *r = calloc(1, sizeof(*r));
	size_t k = strlen(netfile);

	snprintf(path, sizeof(path), "%.*s.root.key", (int)(k - 8), netfile);
	ASSERT_OK(root_key_load(path, nid, rpk, &rsk, why, sizeof(why)));
	memcpy(r->network_id, nid, 32);
	memcpy(r->issuer, rpk, 32);
	memcpy(r->subject, victim->pk, 32);
	r->issued_ms = hlc_wall_ms();
	r->nfeeds = 1;
	snprintf(r->feeds[0].scope, sizeof(r->feeds[0].scope), "%s", scope);
	r->feeds[0].seq = keep;
	memcpy(r->feeds[0].head, head, 32);
	ASSERT_OK(revoke_sign(r, rsk, &p, ret_len));
	sodium_free(rsk);
	free(r);
	return p;
}

#endif
