/*
 * bench/core: the costs of the core, from one run on this machine.
 *
 * Prints entries signed/s and verified/s (one core), local writes/s,
 * bundle import entries/s (durable: every batch committed with fsync),
 * bundle bytes per entry against body bytes, and the ratio of the import
 * rate to the single-core verify rate.
 *
 *   bench_core [ENTRIES]      (default 100000)
 */
#include "bundle.h"
#include "error.h"
#include "log.h"
#include "mp.h"
#include "node.h"
#include "record.h"
#include "bench_util.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


static void die(const char *what, int r, const char *why)
{
	fprintf(stderr, "bench_core: %s: %s %s\n", what, hamlet_strerror(r),
		why ? why : "");
	exit(1);
}

int main(int argc, char **argv)
{
	unsigned n = 100000;
	const char *base = getenv("TMPDIR");
	char dir[4096];
	char path[4200], why[256];
	struct node *a, *b;
	int r;

	/* under $TMPDIR, as bench_sync: a caller's scratch directory (the
	 * tests') then holds what a run that stops early leaves */
	snprintf(dir, sizeof(dir), "%s/hamlet-bench-XXXXXX",
		 base && *base ? base : "/tmp");
	if (argc > 1) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(argv[1], &end, 10);
		if (errno || end == argv[1] || *end || v == 0 ||
		    v > 100000000) {
			fprintf(stderr,
				"usage: bench_core [ENTRIES]: ENTRIES is a "
				"number from 1 to 100000000, not \"%s\"\n",
				argv[1]);
			return 2;
		}
		n = (unsigned)v;
	}
	if (sodium_init() < 0 || !mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/bench.network", dir);
	if ((r = network_create("bench", dir, NULL, why, sizeof(why))) < 0)
		die("network", r, why);
	char ha[4200], hb[4200];
	snprintf(ha, sizeof(ha), "%s/a", dir);
	snprintf(hb, sizeof(hb), "%s/b", dir);
	if ((r = node_init(ha, path, "village", "bk/bt/qt/na-pai", why,
			   sizeof(why))) < 0 ||
	    (r = node_init(hb, path, "commune", "bk/bt/qt", why,
			   sizeof(why))) < 0 ||
	    /* certified by the root, as a deployed node is: a node with no
	     * certificate keeps only what it writes itself */
	    (r = bench_certify(ha, path, why, sizeof(why))) < 0 ||
	    (r = bench_certify(hb, path, why, sizeof(why))) < 0 ||
	    (r = node_open(ha, 0, &a, why, sizeof(why))) < 0 ||
	    (r = node_open(hb, 0, &b, why, sizeof(why))) < 0)
		die("node", r, why);

	/* one core: sign and verify a sample of real envelopes */
	unsigned sample = n < 20000 ? n : 20000;
	double sign_rate, verify_rate;
	if ((r = bench_sign_verify(a, sample, &sign_rate, &verify_rate)) < 0)
		die("sign and verify", r, NULL);

	/* local writes: the CSV-import path, 5,000 records a transaction */
	struct log_author au;
	node_author(a, &au);
	const unsigned chunk = 5000;
	struct log_op *ops = calloc(chunk, sizeof(*ops));
	uint8_t **bodies = calloc(chunk, sizeof(*bodies));
	char(*ids)[24] = calloc(chunk, 24);
	uint64_t body_bytes = 0;
	double t0 = bench_now();
	for (unsigned done = 0; done < n;) {
		unsigned k = n - done < chunk ? n - done : chunk;
		for (unsigned i = 0; i < k; i++) {
			snprintf(ids[i], 24, "HP-%u", done + i);
			bodies[i] = bench_profile_body(done + i, &ops[i].body_len);
			body_bytes += ops[i].body_len;
			ops[i] = (struct log_op){ ENTRY_PUT, "health_profile",
						  ids[i], NULL, bodies[i],
						  ops[i].body_len, 0, NULL, 0 };
		}
		size_t failed;
		if ((r = log_write(a->st, &au, ops, k, NULL, &failed, why,
				   sizeof(why), NULL)) < 0)
			die("log_write", r, why);
		for (unsigned i = 0; i < k; i++)
			free(bodies[i]);
		done += k;
	}
	double write_rate = n / (bench_now() - t0);

	/* bundle out, and in on another node */
	snprintf(path, sizeof(path), "%s/all.bundle", dir);
	struct bundle_create_result cres;
	struct bundle_create_opts o = { NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL };
	t0 = bench_now();
	if ((r = bundle_create(a, path, &o, &cres, why, sizeof(why))) < 0)
		die("bundle create", r, why);
	double create_rate = n / (bench_now() - t0);
	struct bundle_report rep;
	t0 = bench_now();
	if ((r = bundle_import(b, path, &rep, why, sizeof(why))) < 0)
		die("bundle import", r, why);
	double import_s = bench_now() - t0;
	double import_rate = rep.stats.applied / import_s;
	if (rep.stats.applied != n) {
		fprintf(stderr, "bench_core: only %llu of %u entries imported\n",
			(unsigned long long)rep.stats.applied, n);
		return 1;
	}
	bundle_report_close(&rep);

	uint8_t da[32], db[32];
	struct store_txn *t;
	store_txn_begin(a->st, 1, &t);
	record_digest(t, da, NULL);
	store_txn_abort(t);
	store_txn_begin(b->st, 1, &t);
	record_digest(t, db, NULL);
	store_txn_abort(t);

	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	printf("bench/core: %u entries, ~%.0f-byte bodies, %ld cores\n", n,
	       (double)body_bytes / n, cores);
	printf("  sign (1 core)            %9.0f entries/s\n", sign_rate);
	printf("  verify (1 core)          %9.0f entries/s\n", verify_rate);
	printf("  local writes             %9.0f entries/s (signed, durable, %u per transaction)\n",
	       write_rate, chunk);
	printf("  bundle create            %9.0f entries/s\n", create_rate);
	printf("  bundle import (durable)  %9.0f entries/s (%.2f s)\n",
	       import_rate, import_s);
	/* compressed, a bundle is smaller than its bodies: the overhead is
	 * negative, and the ratio says how much */
	printf("  bundle bytes per entry   %9.1f (body %.1f, overhead %.1f, ratio %.2f)\n",
	       (double)cres.bytes / n, (double)body_bytes / n,
	       ((double)cres.bytes - (double)body_bytes) / n,
	       (double)cres.bytes / (double)body_bytes);
	printf("  import / 1-core verify   %9.2f\n", import_rate / verify_rate);
	printf("  digests equal            %9s\n",
	       memcmp(da, db, 32) == 0 ? "yes" : "NO");
	node_close(a);
	node_close(b);
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	free(ops);
	free(bodies);
	free(ids);
	return memcmp(da, db, 32) == 0 ? 0 : 1;
}
