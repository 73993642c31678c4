/*
 * hamlet verify [--json]
 * hamlet verify --bundle FILE [--network NETFILE] [--json]
 *
 * An audit trusts nothing in what it checks: it opens the store read-only
 * and needs no secret key, so it runs on an auditor's copy of a node.
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
	printf("  forks:             %llu\n", (unsigned long long)a->forks);
	printf("  wrong network:     %llu\n",
	       (unsigned long long)a->wrong_network);
	printf("  held:              %llu (waiting for an earlier entry)\n",
	       (unsigned long long)a->held);
	printf("  future timestamps: %llu\n", (unsigned long long)a->future);
	printf("  records:           %llu (%llu whose stored state is not what their entries make)\n",
	       (unsigned long long)a->records,
	       (unsigned long long)a->records_mismatch);
	cli_problems_print(stdout, p);
	if (audit_failed(a))
		printf("verify: FAILED: the store holds entries that do not verify, or evidence of a fork\n");
	else
		printf("verify: ok: every signature, hash chain and seq checks out\n");
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
	NUM(forks);
	NUM(held);
	NUM(wrong_network);
	NUM(future);
	NUM(records);
	NUM(records_mismatch);
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
	json_object_set_new(j, "ok", json_boolean(!audit_failed(a)));
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
	r = audit_failed(&a) ? CLI_EPROBLEMS : 0;
out:
	audit_report_close(&a);
	node_close(n);
	return r;
}

static int verify_bundle(const char *path, const char *netfile)
{
	struct node *n = NULL;
	struct network_info ni;
	struct bundle_report rep;
	char why[512] = "";
	int r;

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
	if (cli_global.json) {
		cli_json_print(cli_bundle_report_json(path, &rep, 0));
	} else {
		cli_bundle_report_print(stdout, path, &rep, 0, ni.id, ni.name);
		if (cli_bundle_check_failed(&rep))
			printf("verify: FAILED: the bundle is damaged, or holds entries that do not verify\n");
		else
			printf("verify: ok: every entry, hash chain and the trailer check out\n");
	}
	r = cli_bundle_check_failed(&rep) ? CLI_EPROBLEMS : 0;
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
