/*
 * hamlet verify [--json]
 * hamlet verify --bundle FILE [--network NETFILE] [--json]
 *
 * An audit trusts nothing in what it checks: it opens the store read-only
 * and needs no secret key, so it runs on an auditor's copy of a node.
 *
 * It tells damage from evidence: a store (or bundle) that holds anything
 * that does not verify is damaged and needs restoring (exit 6); an intact
 * one that keeps proof of an author's fork needs nothing repaired, only
 * someone told (exit 1). Damage wins when both.
 */
#include "cli.h"

#include "audit.h"
#include "bundle.h"
#include "error.h"

#include <sodium.h>
#include <string.h>

static void print_audit(const struct node *n, const struct audit_report *a)
{
	const struct problems *p = &a->problems;

	printf("store of node %s (%s), network %s\n", n->name, n->home,
	       n->net.name);
	printf("  feeds:             %llu\n", (unsigned long long)a->feeds);
	printf("  entries:           %llu\n", (unsigned long long)a->entries);
	printf("  bodies:            %llu (%llu missing: erased or not received)\n",
	       (unsigned long long)a->bodies,
	       (unsigned long long)a->bodies_missing);
	printf("  bad signatures:    %llu\n",
	       (unsigned long long)a->bad_signatures);
	printf("  chain breaks:      %llu\n", (unsigned long long)a->chain_breaks);
	printf("  gaps:              %llu\n", (unsigned long long)a->gaps);
	printf("  forks:             %llu", (unsigned long long)a->forks);
	if (a->forks)
		printf(" (evidence kept, in %zu feed%s)", a->forked.n,
		       cli_plural(a->forked.n));
	printf("\n");
	printf("  wrong network:     %llu\n",
	       (unsigned long long)a->wrong_network);
	printf("  held:              %llu (waiting for an earlier entry)\n",
	       (unsigned long long)a->held);
	printf("  future timestamps: %llu\n", (unsigned long long)a->future);
	printf("  records:           %llu (%llu whose stored state is not what their entries make)\n",
	       (unsigned long long)a->records,
	       (unsigned long long)a->records_mismatch);
	cli_problems_print(stdout, p);
	if (audit_damaged(a))
		printf("verify: DAMAGED: the store holds entries or records that do not verify or do not add up; restore it from a peer or a backup\n");
	for (size_t i = 0; i < a->forked.n; i++) {
		const struct audit_fork *f = &a->forked.v[i];
		char h[65];
		cli_hex(f->author, 32, h);
		printf("verify: %s: author %s forked feed %s at seq %llu\n",
		       audit_damaged(a) ? "it also keeps evidence"
					: "intact; keeps evidence",
		       h, f->scope, (unsigned long long)f->seq);
	}
	if (!audit_damaged(a) && audit_evidence(a))
		printf("verify: nothing to repair; tell the network's administrator, who may revoke the key (%s forks shows the entries)\n",
		       cli_prog());
	if (!audit_failed(a))
		printf("verify: ok: every signature, hash chain and seq checks out\n");
}

/* The forked feeds as the "forks" of verify --json. */
static json_t *forks_json(const struct audit_forks *fs)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < fs->n; i++) {
		const struct audit_fork *f = &fs->v[i];
		json_t *o = json_object(), *ids = json_array();
		char h[65];
		cli_hex(f->author, 32, h);
		json_object_set_new(o, "author", json_string(h));
		json_object_set_new(o, "scope", json_string(f->scope));
		json_object_set_new(o, "seq", json_integer((json_int_t)f->seq));
		for (size_t k = 0; k < f->n; k++) {
			cli_hex(f->entries[k].id, 32, h);
			json_array_append_new(ids, json_string(h));
		}
		json_object_set_new(o, "entries", ids);
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *audit_json(const struct node *n, const struct audit_report *a)
{
	json_t *j = json_object(), *probs = json_array();
#define NUM(name) \
	json_object_set_new(j, #name, json_integer((json_int_t)a->name))
	json_object_set_new(j, "node", json_string(n->name));
	json_object_set_new(j, "network", json_string(n->net.name));
	NUM(feeds);
	NUM(entries);
	NUM(bodies);
	NUM(bodies_missing);
	NUM(bad_signatures);
	NUM(chain_breaks);
	NUM(gaps);
	json_object_set_new(j, "fork_evidence",
			    json_integer((json_int_t)a->forks));
	NUM(held);
	NUM(wrong_network);
	NUM(future);
	NUM(records);
	NUM(records_mismatch);
	NUM(digest_mismatch);
	NUM(bad_evidence);
#undef NUM
	for (size_t i = 0; i < a->problems.n; i++) {
		json_t *p = json_object();
		json_object_set_new(p, "kind", json_string(a->problems.v[i].kind));
		json_object_set_new(p, "text", json_string(a->problems.v[i].text));
		json_array_append_new(probs, p);
	}
	json_object_set_new(j, "problems", probs);
	json_object_set_new(j, "problems_total",
			    json_integer((json_int_t)a->problems.total));
	json_object_set_new(j, "forks", forks_json(&a->forked));
	json_object_set_new(j, "ok", json_boolean(!audit_failed(a)));
	json_object_set_new(j, "damaged", json_boolean(audit_damaged(a)));
	json_object_set_new(j, "evidence", json_boolean(audit_evidence(a)));
	return j;
}

static int verify_store(void)
{
	struct node *n = NULL;
	struct audit_report a;
	int r;

	memset(&a, 0, sizeof(a));
	if ((r = cli_node_open(1, &n, NULL)) < 0)
		return r;
	if ((r = audit_store(n->st, n->net.id, &a)) < 0) {
		cli_err("cannot audit the store in %s/store: %s", n->home,
			hamlet_strerror(r));
		goto out;
	}
	if (cli_global.json)
		cli_json_print(audit_json(n, &a));
	else
		print_audit(n, &a);
	/* an exit code of its own, which cli_exit_code() passes through */
	r = audit_damaged(&a) ? CLI_EXIT_DAMAGED
	    : audit_evidence(&a) ? CLI_EPROBLEMS
				 : 0;
out:
	audit_report_close(&a);
	node_close(n);
	return r;
}

/* What cli_bundle_check_failed() counts, but a fork: a bundle may carry
 * fork evidence on purpose (bundle create sends it along). */
static int bundle_damaged(const struct bundle_report *rep)
{
	return rep->bad_entries || rep->damaged_frames ||
	       rep->trailer != BUNDLE_TRAILER_OK;
}

static int verify_bundle(const char *path, const char *netfile)
{
	struct node *n = NULL;
	struct network_info ni;
	struct bundle_report rep;
	char why[512] = "";
	int damaged, evidence, r;

	memset(&rep, 0, sizeof(rep));
	memset(&ni, 0, sizeof(ni));
	if (netfile) {
		if ((r = network_load(netfile, &ni, why, sizeof(why))) < 0) {
			cli_err("%s", why[0] ? why : hamlet_strerror(r));
			goto out;
		}
	} else {
		if ((r = cli_node_open(1, &n, NULL)) < 0)
			goto out;
		ni = n->net;
	}
	why[0] = 0;
	if ((r = bundle_check(path, ni.id, &rep, why, sizeof(why))) < 0) {
		if (r == HAMLET_ENETWORK && rep.has_header) {
			char a[65], b[65];
			cli_hex(rep.header.network_id, 32, a);
			cli_hex(ni.id, 32, b);
			cli_err("bundle %s is for network %s, %s is on %s (%s): check it against that network's file with --network FILE",
				path, a, netfile ? netfile : "this node",
				ni.name, b);
		} else {
			cli_err("cannot check %s: %s", path,
				why[0] ? why : hamlet_strerror(r));
		}
		goto out;
	}
	damaged = bundle_damaged(&rep);
	evidence = problems_count(&rep.problems, "fork") > 0;
	if (cli_global.json) {
		json_t *j = cli_bundle_report_json(path, &rep, 0);
		if (j) {
			json_object_set_new(j, "damaged", json_boolean(damaged));
			json_object_set_new(j, "evidence",
					    json_boolean(evidence));
		}
		cli_json_print(j);
	} else {
		cli_bundle_report_print(stdout, path, &rep, 0, ni.id, ni.name);
		if (damaged)
			printf("verify: DAMAGED: the bundle is damaged, or holds entries that do not verify\n");
		for (size_t i = 0; i < rep.problems.n; i++)
			if (strcmp(rep.problems.v[i].kind, "fork") == 0)
				printf("verify: %s: %s\n",
				       damaged ? "it also carries evidence"
					       : "intact; carries evidence",
				       rep.problems.v[i].text);
		if (!damaged && !evidence)
			printf("verify: ok: every entry, hash chain and the trailer check out\n");
	}
	r = damaged ? CLI_EXIT_DAMAGED : evidence ? CLI_EPROBLEMS : 0;
out:
	bundle_report_close(&rep);
	sodium_memzero(&ni, sizeof(ni)); /* it holds the network key */
	node_close(n);
	return r;
}

int cmd_verify(int argc, char **argv)
{
	const char *bundle = NULL, *netfile = NULL;
	char *pos[1];
	int npos, r;
	const struct cli_opt opts[] = {
		{ "--bundle", &bundle, NULL },
		{ "--network", &netfile, NULL },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("verify", argc, argv, opts, pos, 0, &npos)) < 0)
		return cli_exit_code(r);
	if (netfile && !bundle)
		return cli_exit_code(cli_usage_err(
			"verify", "--network goes with --bundle FILE"));
	if (bundle)
		return cli_exit_code(verify_bundle(bundle, netfile));
	return cli_exit_code(verify_store());
}
