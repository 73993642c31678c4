/*
 * hamlet verify [--report] [--root PUBKEY] [--json]
 * hamlet verify --bundle FILE [--network NETFILE] [--report] [--json]
 * hamlet verify --bundle FILE --root PUBKEY --report [--json]
 *
 * An audit trusts nothing in what it checks: it opens the store read-only
 * and needs no secret key, so it runs on an auditor's copy of a node.
 *
 * It tells damage from evidence: a store (or bundle) that holds anything
 * that does not verify is damaged and needs restoring (exit 6); an intact
 * one that keeps proof of an author's fork needs nothing repaired, only
 * someone told (exit 1). Damage wins when both.
 *
 * --report adds the auditor's report (daemon/core/report.h): per author,
 * its certificates, entries, gaps, forks, revocations, erasures and the
 * entries refused. A bundle is judged by importing it into a scratch
 * store under the root key given (or the network's), in a temporary
 * directory removed afterwards; findings there (refused entries) exit 1.
 */
#include "cli.h"
#include "guard.h"
#include "i18n.h"
#include "prefetch.h"
#include "progress.h"
#include "scratch.h"

#include "audit.h"
#include "bundle.h"
#include "error.h"
#include "hlc.h"
#include "report.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The audit moved on: the watching parent's clock starts again
 * (cli/guard.h), and the progress shown (ctx, may be NULL) moves. */
static void store_progress(void *ctx, uint64_t done, uint64_t total)
{
	guard_progress();
	progress_cb(ctx, done, total);
}

/* Say that the store in home is damaged (why: what failed reading it),
 * and what to do; the exit code. */
static int store_damaged(const char *home, const char *why)
{
	cli_err(_("the store in %s/store is DAMAGED: %s; nothing in it is judged. Verify another copy of it, or the store of one of the node's peers; the node itself is restored from a peer or a backup (operator guide, \"Checking\")"),
		home, why);
	return CLI_EXIT_DAMAGED;
}

/* The report on a store (its own or a scratch one): printed, and the
 * exit code. source (taken) says what it is on, for --json; extra (taken,
 * may be NULL) is merged into the JSON. damaged, evidence (a fork) and
 * findings are what was found before (in a bundle, by its check);
 * reader (may be NULL) is the auditor's own node, whose revocations the
 * report names beside the bundle's. store_problems: the audit's problems
 * are the reported store's own (not a scratch store's) and are listed. */
static int report_out(struct store *st, const uint8_t network_id[32],
		      const uint8_t *root, const char *what, json_t *source,
		      json_t *extra,
		      int damaged, int evidence, int findings,
		      struct node *reader, int store_problems)
{
	struct report rep;
	int r;

	/* a store of its own is watched as it is read (verify_guarded) */
	if ((r = report_build(st, network_id, root, hlc_wall_ms(),
			      store_problems ? store_progress : NULL, NULL,
			      &rep)) < 0) {
		if (r != HAMLET_ECORRUPT || !store_problems)
			cli_err(_("cannot build the report on %s: %s"), what,
				cli_strerror(r));
		json_decref(source);
		json_decref(extra);
		goto out;
	}
	rep.of_bundle = !store_problems;
	if (reader && (r = report_reader_revocations(&rep, reader->st)) < 0) {
		cli_err(_("cannot read the revocations of %s: %s"),
			reader->home, cli_strerror(r));
		json_decref(source);
		json_decref(extra);
		goto out;
	}
	damaged |= audit_damaged(&rep.audit);
	/* evidence is a fork, as in verify --json; findings all that
	 * exits 1 */
	evidence |= audit_evidence(&rep.audit);
	for (size_t i = 0; i < rep.nauthors; i++)
		evidence |= rep.authors[i].forks > 0;
	findings |= evidence || report_findings(&rep);
	if (cli_global.json) {
		json_t *j = cli_report_json(&rep, source);
		/* what verify finds in the store reported on */
		json_object_set_new(j, "problems",
				    cli_problems_json(&rep.audit.problems));
		json_object_set_new(j, "problems_total",
				    json_integer((json_int_t)rep.audit.problems.total));
		if (extra)
			json_object_update_new(j, extra);
		json_object_set_new(j, "damaged", json_boolean(damaged));
		json_object_set_new(j, "evidence", json_boolean(evidence));
		json_object_set_new(j, "findings", json_boolean(findings));
		json_object_set_new(j, "ok", json_boolean(!damaged && !findings));
		cli_json_print(j);
	} else {
		json_decref(source);
		json_decref(extra);
		if (store_problems && rep.audit.problems.n) {
			printf(_("what verify finds in %s:\n"), what);
			cli_problems_print(stdout, &rep.audit.problems);
		}
		printf("\n");
		cli_report_print(stdout, &rep);
		printf("\n");
		if (damaged)
			printf(_("report: DAMAGED: %s holds something that does not verify (see above)\n"),
			       what);
		else if (findings)
			printf(_("report: %s is intact, and holds findings an administrator must see (listed above)\n"),
			       what);
		else
			printf(_("report: nothing to report: every entry of %s verifies and stands\n"),
			       what);
	}
	r = damaged ? CLI_EXIT_DAMAGED : findings ? CLI_EPROBLEMS : 0;
out:
	report_close(&rep);
	return r;
}

/* The root key an auditor brought with --root, for a store (NULL: the
 * copy's network file's); read by verify_store() in the guard's child. */
static const uint8_t *store_root;

static int verify_store(int report)
{
	struct node *n = NULL;
	struct audit_report a;
	struct progress *prog;
	struct prefetch *pf;
	char path[PATH_MAX];
	int r;

	memset(&a, 0, sizeof(a));
	if ((r = cli_node_open(1, &n, NULL)) == HAMLET_EVERSION)
		/* a damaged byte where the format is kept looks the same */
		cli_err(_("the same is said of a store whose files are damaged where the format is kept: if %s/store should be of the format this hamlet reads, it is damaged; verify another copy of it"),
			cli_home());
	if (r == CLI_EDAMAGED) { /* said so: the files do not read */
		cli_err(_("nothing in it is judged: verify another copy of it, or the store of one of the node's peers"));
		return CLI_EXIT_DAMAGED;
	}
	if (r == -ENOMEM) /* LMDB maps as much as the header says */
		return store_damaged(cli_home(),
				     _("the database library cannot map its files as their header asks: a damaged header asks for more than any machine has (on a 32-bit system, or under a ulimit -v, a store larger than the machine can map is told the same)"));
	if (r < 0)
		return r;
	/* the copy's network file names the root its entries' network id
	 * is of: one that is not the auditor's is another network, or a
	 * network file altered with its store; nothing is judged */
	if (store_root && memcmp(store_root, n->net.root_pk, 32) != 0) {
		char want[65], have[65];
		cli_hex(store_root, 32, want);
		cli_hex(n->net.root_pk, 32, have);
		cli_err(_("the network file of %s names root key %s, not %s: the store is of another network (its entries' network id is that root's), or its network file was altered with it; nothing in it is judged against %s"),
			n->home, have, want, want);
		node_close(n);
		return HAMLET_ENETWORK;
	}
	/* the audit reads nearly the whole store: read it ahead, in order */
	snprintf(path, sizeof(path), "%s/store/data.mdb", n->home);
	pf = prefetch_start(path);
	if (report) {
		json_t *src = json_object();
		char what[4200];
		json_object_set_new(src, "kind", json_string("store"));
		json_object_set_new(src, "node", json_string(n->name));
		json_object_set_new(src, "network", json_string(n->net.name));
		snprintf(what, sizeof(what), "the store of node %s", n->name);
		if (!cli_global.json)
			printf(_("Auditor's report on the store of node \"%s\" (%s), network %s\n"),
			       n->name, n->home, n->net.name);
		/* judged by the network file's root (its id is that key's),
		 * never by the key the store keeps, which a copy may alter */
		r = report_out(n->st, n->net.id, n->net.root_pk, what, src,
			       NULL, 0, 0, 0,
			       NULL, 1);
		goto out;
	}
	prog = progress_new(_("verifying"), _("entries"), 0);
	r = audit_store_progress(n->st, n->net.id, store_progress, prog, &a);
	if (r >= 0)
		r = audit_root_check(n->st, n->net.root_pk, &a);
	progress_end(prog);
	if (r < 0) {
		if (r != HAMLET_ECORRUPT) /* said below */
			cli_err(_("cannot audit the store in %s/store: %s"),
				n->home, cli_strerror(r));
		goto out;
	}
	if (cli_global.json)
		cli_json_print(cli_audit_json(n, &a));
	else
		cli_audit_print(stdout, n, &a);
	/* an exit code of its own, which cli_exit_code() passes through */
	r = audit_damaged(&a) ? CLI_EXIT_DAMAGED
	    : audit_findings(&a) ? CLI_EPROBLEMS
				 : 0;
out:
	/* a store that does not read is damaged (exit 6); 5 is for one
	 * that cannot be read at all (not permitted); a missing one is
	 * "no store yet", 3, as for the other commands that read */
	if (r == HAMLET_ECORRUPT)
		r = store_damaged(n->home,
				  _("a page or a row of its files does not read"));
	prefetch_stop(pf);
	audit_report_close(&a);
	node_close(n);
	return r;
}

/* Seconds the audit of a store may go without progress (256 entries or
 * some records checked) before it is stopped: far more than a healthy
 * store needs on the slowest disk (docs/auditor-guide.md). */
#define STALL_S 60

/* In the audit's child: a damaged page the database library finds ends
 * the child, and the parent names the store damaged. */
static void damaged_quiet_exit(const char *dir, const char *what)
{
	(void)dir;
	(void)what;
	_exit(CLI_EXIT_DAMAGED);
}

static int store_job(void *ctx)
{
	store_on_damaged(damaged_quiet_exit);
	return cli_exit_code(verify_store(*(const int *)ctx));
}

/* verify_store() in a watched child (cli/guard.h): a copy whose damage
 * makes LMDB crash or loop is told as damaged, exit 6, never a crash. */
static int verify_guarded(int report)
{
	const char *e = getenv("HAMLET_VERIFY_STALL_S");
	unsigned long stall = STALL_S;
	enum guard_end end;
	char why[1024], *x;
	int code, r;

	if (e && *e) {
		stall = strtoul(e, &x, 10);
		if (*x || stall < 1 || stall > 86400) {
			cli_err(_("HAMLET_VERIFY_STALL_S=\"%s\" is not a number of seconds from 1 to 86400"),
				e);
			return HAMLET_ECONFIG;
		}
	}
	if ((r = guard_run(store_job, &report, stall, &end, &code)) < 0) {
		cli_err(_("cannot start the audit: %s"), strerror(-r));
		return r;
	}
	if (end == GUARD_EXITED)
		return code;
	if (isatty(STDERR_FILENO) && !cli_global.json)
		fputs("\r\033[K", stderr); /* the child's progress line */
	if (end == GUARD_CRASHED && code)
		snprintf(why, sizeof(why),
			 _("the database library crashed reading its files (signal %d, %s)"),
			 code, strsignal(code));
	else if (end == GUARD_CRASHED)
		snprintf(why, sizeof(why), "%s",
			 _("the database library failed reading its files: the audit's process ended before its audit did"));
	else if (end == GUARD_STALLED)
		snprintf(why, sizeof(why),
			 _("its audit made no progress for %lu s and was stopped: a damaged file can send the database library, or the audit, round a loop (on a medium that slow, set HAMLET_VERIFY_STALL_S to more seconds)"),
			 stall);
	else
		snprintf(why, sizeof(why), "%s",
			 _("its audit printed more than can be kept, and was stopped"));
	return store_damaged(cli_home(), why);
}

/* What cli_bundle_check_failed() counts, but a fork: a bundle may carry
 * fork evidence on purpose (bundle create sends it along). */
static int bundle_damaged(const struct bundle_report *rep)
{
	return rep->bad_entries || rep->damaged_frames ||
	       rep->trailer != BUNDLE_TRAILER_OK;
}

/* The network a bundle is checked against: the file netfile, or (NULL)
 * this node's, opened into *n. Prints the fault. */
static int network_of(const char *netfile, struct network_info *ni,
		      struct node **n)
{
	char why[512] = "";
	int r;

	if (netfile) {
		if ((r = network_load(netfile, ni, why, sizeof(why))) < 0)
			cli_err("%s", why[0] ? why : cli_strerror(r));
		return r;
	}
	if ((r = cli_node_open(1, n, NULL)) < 0) {
		/* an auditor checks a bundle with no node of their own */
		if (r == -ENOENT)
			cli_err(_("to check a bundle without a node, name its network's file: %s verify --bundle FILE --network NETFILE (with the root public key alone: --root PUBKEY --report)"),
				cli_prog());
		return r;
	}
	*ni = (*n)->net;
	return 0;
}

/* The node of this home, opened to read, when there is one: its key
 * opens a bundle sealed to it (an auditor's home). Quiet: a bundle that
 * is not sealed needs no node. */
static struct node *reader_open(void)
{
	struct node *n = NULL;
	char why[512];
	if (node_open(cli_home(), 1, &n, why, sizeof(why)) < 0)
		return NULL;
	return n;
}

/* Say that a bundle is sealed to a key this home does not hold. */
static void sealed_err(const char *path, const char *why,
		       const struct node *reader)
{
	cli_err("%s%s", why,
		reader ? ""
		       : _("; an auditor opens a bundle sealed to them with --home THEIR-HOME"));
	(void)path;
}

/* What verify --bundle finds besides damage, each exiting 1: a fork
 * (evidence), seqs left out, a body sent again with its erasure, an
 * entry dated ahead (its author's clock). */
static int bundle_findings(const struct bundle_report *rep)
{
	return problems_count(&rep->problems, "fork") > 0 ||
	       problems_count(&rep->problems, "gap") > 0 ||
	       problems_count(&rep->problems, "erased-body") > 0 ||
	       problems_count(&rep->problems, "future") > 0;
}

/* The bundle as verify --bundle --json gives it (NULL when it cannot be
 * made): "ok" true only when the check finds nothing, damage or a
 * finding; alone, or as the report's "bundle_check". */
static json_t *bundle_check_json(const char *path,
				 const struct bundle_report *rep)
{
	json_t *j = cli_bundle_report_json(path, rep, 0);

	if (!j)
		return NULL;
	json_object_set_new(j, "damaged", json_boolean(bundle_damaged(rep)));
	json_object_set_new(j, "evidence",
			    json_boolean(problems_count(&rep->problems,
							"fork") > 0));
	json_object_set_new(j, "incomplete",
			    json_boolean(problems_count(&rep->problems,
							"gap") > 0));
	json_object_set_new(j, "erased_bodies_sent",
			    json_boolean(problems_count(&rep->problems,
							"erased-body") > 0));
	json_object_set_new(j, "dated_ahead",
			    json_boolean(problems_count(&rep->problems,
							"future") > 0));
	json_object_set_new(j, "ok", json_boolean(!bundle_damaged(rep) &&
						  !bundle_findings(rep)));
	return j;
}

/* One line per problem of kind, after the damaged or the intact lead. */
static void findings_print(const struct problems *ps, const char *kind,
			   int damaged, const char *if_damaged,
			   const char *if_intact)
{
	for (size_t i = 0; i < ps->n; i++)
		if (strcmp(ps->v[i].kind, kind) == 0)
			printf(_("verify: %s: %s\n"),
			       damaged ? if_damaged : if_intact,
			       cli_problem_text(&ps->v[i]));
}

static int verify_bundle(const char *path, const char *netfile)
{
	struct node *n = NULL;
	struct network_info ni;
	struct bundle_report rep;
	struct progress *prog;
	char why[512] = "";
	int damaged, r;

	memset(&rep, 0, sizeof(rep));
	memset(&ni, 0, sizeof(ni));
	if ((r = network_of(netfile, &ni, &n)) < 0)
		goto out;
	why[0] = 0;
	if (!n)
		n = reader_open();
	prog = progress_new(_("verifying"), NULL, 0);
	r = bundle_check_progress(path, ni.id, n, progress_cb,
				  prog, &rep, why, sizeof(why));
	progress_end(prog);
	if (r < 0) {
		if (r == HAMLET_EKEY && rep.sealed) {
			sealed_err(path, why, n);
		} else if (r == HAMLET_ENETWORK && rep.has_header) {
			char a[65], b[65];
			cli_hex(rep.header.network_id, 32, a);
			cli_hex(ni.id, 32, b);
			cli_err(_("bundle %s is for network %s, %s is on %s (%s): check it against that network's file with --network FILE"),
				path, a, netfile ? netfile : _("this node"),
				ni.name, b);
		} else {
			cli_err(_("cannot check %s: %s"), path,
				why[0] ? why : cli_strerror(r));
			if (rep.damaged_frames) /* a sealed header */
				r = CLI_EXIT_DAMAGED;
		}
		goto out;
	}
	damaged = bundle_damaged(&rep);
	if (cli_global.json) {
		cli_json_print(bundle_check_json(path, &rep));
	} else {
		/* the node here (when there is one) names the keys it
		 * knows the certificates of */
		cli_bundle_report_print(stdout, path, &rep, 0, ni.id, ni.name,
					n && !memcmp(n->net.id, ni.id, 32)
						? n->st
						: NULL);
		if (damaged)
			printf(_("verify: DAMAGED: the bundle is damaged, or holds entries that do not verify\n"));
		/* forks, then feeds a creator left entries out of (what
		 * follows cannot be stored until they come) */
		findings_print(&rep.problems, "fork", damaged,
			       _("it also carries evidence"),
			       _("intact; carries evidence"));
		findings_print(&rep.problems, "gap", damaged,
			       _("it also leaves entries out"),
			       _("intact; leaves entries out"));
		findings_print(&rep.problems, "erased-body", damaged,
			       _("it also sends an erased body again"),
			       _("intact; sends an erased body again"));
		findings_print(&rep.problems, "future", damaged,
			       _("it also carries an entry dated ahead"),
			       _("intact; carries an entry dated ahead"));
		if (!damaged && !bundle_findings(&rep))
			printf(_("verify: ok: every entry, hash chain and the trailer check out (who may write what is not judged here: certificates and revocations are, with --report)\n"));
	}
	r = damaged		     ? CLI_EXIT_DAMAGED
	    : bundle_findings(&rep) ? CLI_EPROBLEMS
				     : 0;
out:
	bundle_report_close(&rep);
	sodium_memzero(&ni, sizeof(ni)); /* it holds the network key */
	node_close(n);
	return r;
}

/* What a report on a bundle is on, for --json: its path, and its
 * header's creator and time when it has one. */
static json_t *bundle_source_json(const char *path,
				  const struct bundle_report *chk)
{
	json_t *src = json_object();
	char h[65], t[48];

	json_object_set_new(src, "kind", json_string("bundle"));
	json_object_set_new(src, "path", json_string(path));
	if (!chk->has_header) {
		json_object_set_new(src, "creator", json_null());
		json_object_set_new(src, "created", json_null());
		json_object_set_new(src, "created_hlc", json_null());
		return src;
	}
	cli_hex(chk->header.creator, 32, h);
	json_object_set_new(src, "creator", json_string(h));
	/* a time, as every time of the report; the HLC beside it, as
	 * bundle import --json gives it */
	hlc_format(chk->header.created_hlc, t);
	json_object_set_new(src, "created", json_string(t));
	json_object_set_new(src, "created_hlc",
			    json_integer((json_int_t)chk->header.created_hlc));
	return src;
}

/*
 * A bundle that could not be judged at all (its header is unreadable, or
 * it is of another network than root's): said in --json as a report that
 * lists nothing, with "not_judged" naming why (reason a stable word, text
 * the sentence in English), so that a tool reads one shape either way.
 */
static void not_judged_print(const char *path, const struct bundle_report *chk,
			     const uint8_t *root, const char *reason,
			     const char *text, int damaged)
{
	struct report rep;
	json_t *j, *nj = json_object();

	memset(&rep, 0, sizeof(rep));
	if (chk->has_header)
		memcpy(rep.network_id, chk->header.network_id, 32);
	if (root) {
		memcpy(rep.root, root, 32);
		rep.has_root = 1;
	}
	rep.at_ms = hlc_wall_ms();
	j = cli_report_json(&rep, bundle_source_json(path, chk));
	if (!chk->has_header)
		json_object_set_new(j, "network_id", json_null());
	json_object_set_new(j, "bundle_check", bundle_check_json(path, chk));
	json_object_set_new(j, "judging_problems", json_array());
	json_object_set_new(j, "trust_items_refused", json_integer(0));
	json_object_set_new(j, "ok", json_false());
	json_object_set_new(j, "damaged", json_boolean(damaged));
	json_object_set_new(j, "evidence", json_false());
	json_object_set_new(nj, "reason", json_string(reason));
	json_object_set_new(nj, "text", json_string(text));
	json_object_set_new(j, "not_judged", nj);
	cli_json_print(j);
}

/*
 * The report on a bundle, judged against root alone: the bundle is
 * checked as it is (framing, signatures, trailer), then imported into a
 * scratch store whose root is root, and the report is that store's. ni
 * (NULL with --root) is the network it must be of, from netfile (NULL:
 * the node's). A bundle of another network exits 4, saying so.
 */
static int report_bundle(const char *path, const uint8_t root[32],
			 const struct network_info *ni, const char *netfile,
			 struct node *reader)
{
	const uint8_t *network_id = ni ? ni->id : NULL, *net;
	uint8_t entry_net[32];
	struct bundle_report chk, imp;
	struct store *st = NULL;
	char why[512] = "", dir[PATH_MAX], sdir[PATH_MAX + 8], what[PATH_MAX + 16];
	const char *tmp = getenv("TMPDIR");
	int damaged, evidence, findings, r;

	memset(&chk, 0, sizeof(chk));
	memset(&imp, 0, sizeof(imp));
	dir[0] = 0;
	if ((r = bundle_check_key(path, network_id, reader, &chk, why,
				  sizeof(why))) < 0) {
		if (r == HAMLET_EKEY && chk.sealed) {
			sealed_err(path, why, reader);
		} else if (r == HAMLET_ENETWORK && chk.has_header && ni) {
			/* against a network file or the node's network: the
			 * bundle names another one; there is no node to
			 * import into here, only that network to judge by */
			char a[65], b[65], text[1024];
			cli_hex(chk.header.network_id, 32, a);
			cli_hex(ni->id, 32, b);
			if (netfile)
				snprintf(text, sizeof(text),
					 cli_tr(N_("bundle %s is of network %s, not %s of %s (%s): nothing in it can be judged against that network; judge it by its own network's file, or its root key with --root")),
					 path, a, ni->name, netfile, b);
			else
				snprintf(text, sizeof(text),
					 cli_tr(N_("bundle %s is of network %s, not this node's network %s (%s): nothing in it can be judged against it; judge it by its own network's file with --network, or its root key with --root")),
					 path, a, ni->name, b);
			cli_err("%s", text);
			if (cli_global.json)
				not_judged_print(path, &chk, root,
						 "another_network", text, 0);
		} else {
			char text[1024];
			snprintf(text, sizeof(text),
				 cli_tr(N_("cannot check %s: %s")), path,
				 why[0] ? why : cli_strerror(r));
			cli_err("%s", text);
			/* a sealed header damaged, or a file cut inside its
			 * first bytes: damage, and no header to judge by */
			if (chk.damaged_frames) {
				r = CLI_EXIT_DAMAGED;
				if (cli_global.json && !chk.sealed)
					not_judged_print(path, &chk, root,
							 "no_header", text, 1);
			}
		}
		goto out;
	}
	if (!chk.has_header) {
		char text[PATH_MAX + 200];
		snprintf(text, sizeof(text),
			 cli_tr(N_("%s has no readable header: it does not say which network it belongs to, so nothing in it can be judged")),
			 path);
		cli_err("%s", text);
		if (cli_global.json)
			not_judged_print(path, &chk, root, "no_header", text, 1);
		r = CLI_EXIT_DAMAGED;
		goto out;
	}
	/* the network judged by: the one asked for; else the header's,
	 * unless it names another than the entries do and the bundle's
	 * signature does not hold it up: then the header is what is
	 * damaged, and the bundle is checked again against its entries'
	 * network, which says so */
	if (!network_id && chk.has_entry_network &&
	    chk.trailer != BUNDLE_TRAILER_OK &&
	    memcmp(chk.entry_network_id, chk.header.network_id, 32) != 0) {
		memcpy(entry_net, chk.entry_network_id, 32);
		bundle_report_close(&chk);
		memset(&chk, 0, sizeof(chk));
		if ((r = bundle_check_key(path, entry_net, reader, &chk, why,
					  sizeof(why))) < 0) {
			cli_err(_("cannot check %s: %s"), path,
				why[0] ? why : cli_strerror(r));
			goto out;
		}
		network_id = entry_net;
	}
	net = network_id ? network_id : chk.header.network_id;
	if ((r = scratch_make(tmp, dir, sizeof(dir))) < 0)
		goto out;
	snprintf(sdir, sizeof(sdir), "%s/store", dir);
	why[0] = 0;
	if ((r = report_bundle_import(path, sdir, root, net,
				      reader, &st, &imp, why, sizeof(why))) < 0) {
		cli_err(_("cannot judge %s: %s"), path,
			why[0] ? why : cli_strerror(r));
		goto out;
	}
	/* certificates that all lead elsewhere, and no entry standing: the
	 * bundle's network is not this root's, and a report would only
	 * list every entry as waiting. Not when a network file (or the
	 * node's network) names the header's network: its id names this
	 * root, so such certificates are forged and are judged; nor when
	 * the bundle is damaged: damage wins, and what failed to chain may
	 * be what was damaged */
	r = 0;
	if (!ni && !bundle_damaged(&chk) &&
	    (r = report_bundle_foreign(st, &imp)) < 0) {
		cli_err(_("cannot judge %s: %s"), path, cli_strerror(r));
		goto out;
	}
	if (r) {
		char a[65], rh[65], text[1024];
		cli_hex(net, 32, a);
		cli_hex(root, 32, rh);
		snprintf(text, sizeof(text),
			 cli_tr(N_("bundle %s (its header names network %s) holds nothing that chains to root %s: it is of another network, or its header was altered; judge it against its own network's root key")),
			 path, a, rh);
		cli_err("%s", text);
		if (cli_global.json)
			not_judged_print(path, &chk, root, "another_network",
					 text, bundle_damaged(&chk));
		r = HAMLET_ENETWORK;
		goto out;
	}
	damaged = bundle_damaged(&chk);
	/* entries a feed leaves out are a finding: those after them stand
	 * nowhere until they come */
	evidence = problems_count(&chk.problems, "fork") > 0;
	findings = bundle_findings(&chk);
	snprintf(what, sizeof(what), cli_tr(N_("bundle %s")), path);
	{
		json_t *src = bundle_source_json(path, &chk);
		json_t *extra = json_object();
		json_object_set_new(extra, "bundle_check",
				    bundle_check_json(path, &chk));
		json_object_set_new(extra, "judging_problems",
				    cli_problems_json(&imp.problems));
		json_object_set_new(extra, "trust_items_refused",
				    json_integer((json_int_t)imp.trust_refused));
		if (!cli_global.json) {
			char rh[65];
			cli_hex(root, 32, rh);
			printf(_("Auditor's report on bundle %s, judged against root key %s\n"),
			       path, rh);
			/* named by the certificates the bundle brought
			 * (a creator with none: "unknown node") */
			cli_bundle_report_print(stdout, path, &chk, 0, NULL,
						NULL, st);
			if (imp.problems.n) {
				printf(_("judging each entry against the root and the certificates in the bundle:\n"));
				cli_problems_print(stdout, &imp.problems);
			}
		}
		r = report_out(st, net, NULL, what, src, extra, damaged,
			       evidence,
			       findings, reader, 0);
	}
out:
	store_close(st);
	if (dir[0])
		scratch_remove(dir);
	bundle_report_close(&chk);
	bundle_report_close(&imp);
	return r;
}

/* --report on a bundle: under root, or the root of the network file or
 * of this node's network. */
static int verify_bundle_report(const char *path, const char *netfile,
				const uint8_t *root)
{
	struct node *n = NULL;
	struct network_info ni;
	int r;

	memset(&ni, 0, sizeof(ni));
	if (root) {
		n = reader_open();
		r = report_bundle(path, root, NULL, NULL, n);
		goto out;
	}
	if ((r = network_of(netfile, &ni, &n)) < 0)
		goto out;
	if (!n)
		n = reader_open();
	r = report_bundle(path, ni.root_pk, &ni, netfile, n);
out:
	sodium_memzero(&ni, sizeof(ni)); /* it holds the network key */
	node_close(n);
	return r;
}

int cmd_verify(int argc, char **argv)
{
	const char *bundle = NULL, *netfile = NULL, *root_hex = NULL;
	uint8_t root[32];
	char *pos[1];
	int npos, report = 0, r;
	const struct cli_opt opts[] = {
		{ "--bundle", &bundle, NULL },
		{ "--network", &netfile, NULL },
		{ "--root", &root_hex, NULL },
		{ "--report", NULL, &report },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("verify", argc, argv, opts, pos, 0, &npos)) < 0)
		return cli_exit_code(r);
	if (netfile && !bundle)
		return cli_exit_code(cli_usage_err(
			"verify", _("--network goes with --bundle FILE")));
	if (root_hex && ((bundle && !report) || netfile))
		return cli_exit_code(cli_usage_err(
			"verify",
			_("--root goes with a store (hamlet --home COPY verify --root KEY), or with --bundle FILE and --report, without --network")));
	if (root_hex && (strlen(root_hex) != 64 ||
			 hex_decode(root_hex, root, 32) < 0)) {
		/* a value in none of the forms it takes: exit 2, as
		 * bundle create --seal-to's */
		return cli_exit_code(cli_usage_err(
			"verify",
			_("--root \"%s\" is not a public key: 64 hex digits, as root_public_key in the network file"),
			root_hex));
	}
	if (bundle && (r = cli_part_refuse(bundle)) < 0)
		return cli_exit_code(r);
	if (bundle && report)
		return cli_exit_code(verify_bundle_report(bundle, netfile,
							  root_hex ? root
								   : NULL));
	if (bundle)
		return cli_exit_code(verify_bundle(bundle, netfile));
	store_root = root_hex ? root : NULL;
	return cli_exit_code(verify_guarded(report));
}
