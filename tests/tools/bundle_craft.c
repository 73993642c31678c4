/*
 * bundle_craft: write a bundle as a creator who does not play by the
 * rules would, for the auditor's tests (scenario_audit.sh): the entries
 * and trust items of plain bundles made by hamlet, rewritten under the
 * creator's own signature (so that the file itself checks out), with
 * entries left out or certificates added that no node would send.
 *
 *   bundle_craft HOME OUT [OPTION]... IN...
 *
 * HOME is the creator's home (its key signs the header and trailer).
 *   --drop-seq N         leave out seq N of each feed of HOME's key
 *   --bad-sig-seq N      carry seq N of each feed of HOME's key with one
 *                        bit of its signature flipped
 *   --no-trust           leave out the trust items of the INs
 *   --no-entries         leave out every entry (trust items alone)
 *   --self-cert          add a certificate of HOME's key signed by itself
 *   --widen ISSUER SCOPE add ISSUER's chain (ISSUER/node.cert) and a
 *                        certificate by ISSUER's key for HOME's key that
 *                        grants reading and writing SCOPE
 */
#include "bundle.h"
#include "bundle_format.h"
#include "cert.h"
#include "entry.h"
#include "hlc.h"
#include "log.h"
#include "node.h"
#include "trustset.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUN_MAX 64 /* entries a run, as bundle create writes them */

struct item {
	int kind;
	uint8_t *data, *sig, *body;
	size_t len, body_len;
};

struct crafted {
	struct item *trust, *ents;
	size_t ntrust, nents;
};

static void *xmemdup(const void *p, size_t n)
{
	void *q = malloc(n ? n : 1);
	if (!q) {
		perror("bundle_craft");
		exit(1);
	}
	memcpy(q, p, n);
	return q;
}

static void item_add(struct item **v, size_t *n, struct item it)
{
	*v = realloc(*v, (*n + 1) * sizeof(**v));
	if (!*v) {
		perror("bundle_craft");
		exit(1);
	}
	(*v)[(*n)++] = it;
}

static void items_free(struct item *v, size_t from, size_t n)
{
	for (size_t i = from; i < n; i++) {
		free(v[i].data);
		free(v[i].sig);
		free(v[i].body);
	}
}

/* The import's store steps: take a copy of everything, store nothing. */
#define UNUSED __attribute__((unused))

static int take_entries(void *ctx, const struct log_in *in, size_t n,
			struct log_out *out, UNUSED struct log_stats *stats,
			UNUSED char *why, UNUSED size_t whylen)
{
	struct crafted *c = ctx;

	for (size_t i = 0; i < n; i++) {
		struct item it = { 0 };
		it.data = xmemdup(in[i].env, in[i].env_len);
		it.len = in[i].env_len;
		it.sig = xmemdup(in[i].sig, 64);
		if (in[i].body) {
			it.body = xmemdup(in[i].body, in[i].body_len);
			it.body_len = in[i].body_len;
		}
		item_add(&c->ents, &c->nents, it);
		memset(&out[i], 0, sizeof(out[i]));
		out[i].status = LOG_APPLIED;
	}
	return 0;
}

static int take_trust(void *ctx, const struct trustset_item *items, size_t n,
		      struct trustset_out *out, UNUSED struct log_stats *stats,
		      UNUSED char *why, UNUSED size_t whylen)
{
	struct crafted *c = ctx;

	for (size_t i = 0; i < n; i++) {
		struct item it = { items[i].kind,
				   xmemdup(items[i].data, items[i].len),
				   NULL, NULL, items[i].len, 0 };
		item_add(&c->trust, &c->ntrust, it);
		memset(&out[i], 0, sizeof(out[i]));
		out[i].status = TRUSTSET_KNOWN;
	}
	return 0;
}

/* A certificate by issuer (sk) for subject, reading and writing scope. */
static void cert_add(struct crafted *c, const struct node *n,
		     const uint8_t issuer[32], const uint8_t *sk,
		     const char *name, const char *scope)
{
	struct cert ce;
	struct item it = { TRUST_CERT, NULL, NULL, NULL, 0, 0 };

	memset(&ce, 0, sizeof(ce));
	memcpy(ce.network_id, n->net.id, 32);
	memcpy(ce.issuer, issuer, 32);
	memcpy(ce.subject, n->pk, 32);
	snprintf(ce.name, sizeof(ce.name), "%s", name);
	ce.role = CERT_VILLAGE;
	snprintf(ce.read[0], sizeof(ce.read[0]), "%s", scope);
	snprintf(ce.write[0], sizeof(ce.write[0]), "%s", scope);
	ce.nread = ce.nwrite = 1;
	ce.not_before_ms = hlc_wall_ms() - 86400000ull;
	randombytes_buf(ce.serial, sizeof(ce.serial));
	if (cert_sign(&ce, sk, &it.data, &it.len) < 0) {
		fprintf(stderr, "bundle_craft: cannot sign the certificate\n");
		exit(1);
	}
	item_add(&c->trust, &c->ntrust, it);
}

/* ISSUER's chain, then a certificate by ISSUER for n granting scope. */
static void widen_add(struct crafted *c, const struct node *n,
		      const char *issuer_home, const char *scope)
{
	struct node *is = NULL;
	struct cert_chain *ch = malloc(sizeof(*ch));
	char path[4200], why[300];
	uint8_t buf[CERT_CHAIN_MAX_BYTES];
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/" NODE_CERT_FILE, issuer_home);
	if (!ch || !(f = fopen(path, "rb"))) {
		perror(path);
		exit(1);
	}
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (cert_chain_decode(buf, len, ch) < 0 ||
	    node_open(issuer_home, 1, &is, why, sizeof(why)) < 0) {
		fprintf(stderr, "bundle_craft: %s: %s\n", issuer_home, why);
		exit(1);
	}
	for (size_t i = 0; i < ch->n; i++)
		item_add(&c->trust, &c->ntrust,
			 (struct item){ TRUST_CERT,
					xmemdup(buf + ch->off[i], ch->len[i]),
					NULL, NULL, ch->len[i], 0 });
	cert_add(c, n, is->pk, is->sk, "widened", scope);
	node_close(is);
	free(ch);
}

/* The entries, runs of consecutive seqs of a feed, seq drop of n's
 * feeds left out (0: none). */
static int entries_write(struct bundle_writer *w, const struct crafted *c,
			 const struct node *n, uint64_t drop, uint64_t badsig)
{
	uint8_t sigs[RUN_MAX][ENTRY_SIG_LEN];
	struct run_entry run[RUN_MAX];
	struct entry last, e;
	size_t k = 0;
	int r = 0;

	memset(&last, 0, sizeof(last));
	for (size_t i = 0; i <= c->nents && r >= 0; i++) {
		const struct item *it = i < c->nents ? &c->ents[i] : NULL;
		if (it && entry_decode(it->data, it->len, &e, NULL) < 0)
			continue;
		if (it && drop && e.seq == drop &&
		    memcmp(e.author, n->pk, 32) == 0)
			continue;
		if (k && (!it || k == RUN_MAX ||
			  memcmp(e.author, last.author, 32) != 0 ||
			  strcmp(e.scope, last.scope) != 0 ||
			  e.seq != last.seq + 1)) {
			r = bundle_writer_add_run(w, run, k, NULL);
			k = 0;
		}
		if (!it)
			break;
		memcpy(sigs[k], it->sig, ENTRY_SIG_LEN);
		if (badsig && e.seq == badsig &&
		    memcmp(e.author, n->pk, 32) == 0)
			sigs[k][7] ^= 0x10;
		run[k] = (struct run_entry){ .env = it->data,
					     .env_len = it->len,
					     .sig = sigs[k],
					     .body = it->body,
					     .body_len = it->body_len };
		k++;
		last = e;
	}
	return r;
}

int main(int argc, char **argv)
{
	struct crafted c = { 0 };
	struct node *n = NULL;
	struct bundle_header h;
	struct bundle_writer *w;
	struct bundle_report rep;
	char why[512];
	uint64_t drop = 0, badsig = 0;
	int trust = 1, entries = 1, r;

	if (argc < 4) {
		fprintf(stderr, "usage: %s HOME OUT [OPTION]... IN...\n", argv[0]);
		return 2;
	}
	if (sodium_init() < 0 ||
	    node_open(argv[1], 1, &n, why, sizeof(why)) < 0) {
		fprintf(stderr, "bundle_craft: %s: %s\n", argv[1], why);
		return 1;
	}
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--drop-seq") && i + 1 < argc) {
			drop = strtoull(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--bad-sig-seq") && i + 1 < argc) {
			badsig = strtoull(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--no-trust")) {
			trust = 0;
		} else if (!strcmp(argv[i], "--no-entries")) {
			entries = 0;
		} else if (!strcmp(argv[i], "--self-cert")) {
			cert_add(&c, n, n->pk, n->sk, "self-signed", n->scope);
		} else if (!strcmp(argv[i], "--widen") && i + 2 < argc) {
			widen_add(&c, n, argv[i + 1], argv[i + 2]);
			i += 2;
		} else {
			size_t nt = c.ntrust;
			memset(&rep, 0, sizeof(rep));
			if ((r = bundle_import_with(n, argv[i], take_entries,
						    take_trust, &c, &rep, why,
						    sizeof(why))) < 0) {
				fprintf(stderr, "bundle_craft: %s: %s\n",
					argv[i], why);
				return 1;
			}
			bundle_report_close(&rep);
			if (!trust) { /* the INs' items only */
				items_free(c.trust, nt, c.ntrust);
				c.ntrust = nt;
			}
		}
	}
	memset(&h, 0, sizeof(h));
	memcpy(h.network_id, n->net.id, 32);
	memcpy(h.creator, n->pk, 32);
	h.created_hlc = hlc_wall_ms() << HLC_COUNTER_BITS;
	r = bundle_writer_open(argv[2], &h, &w);
	for (size_t i = 0; r >= 0 && i < c.ntrust; i++)
		r = bundle_writer_add_trust(w, c.trust[i].kind, c.trust[i].data,
					    c.trust[i].len);
	if (r >= 0 && entries)
		r = entries_write(w, &c, n, drop, badsig);
	if (r >= 0)
		r = bundle_writer_finish(w, n->sk);
	else
		bundle_writer_free(w);
	if (r < 0)
		fprintf(stderr, "bundle_craft: %s: error %d\n", argv[2], r);
	node_close(n);
	items_free(c.trust, 0, c.ntrust);
	items_free(c.ents, 0, c.nents);
	free(c.trust);
	free(c.ents);
	return r < 0;
}
