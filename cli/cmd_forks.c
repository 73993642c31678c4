/*
 * hamlet forks [--json]
 *
 * The fork evidence the store keeps, one forked feed per block: whose key
 * signed two versions of its feed (two different entries at one seq, or
 * at seqs N and N+1 where the second does not follow the first; SPEC 8),
 * saying so plainly when it is
 * this node's own (a copy of its key writes on another PC, or its store
 * was put back from a backup and written in before it synced), in which
 * scope, where the feed is frozen, and the conflicting entries. A
 * report: exit 0 whether or not there are forks. The store is opened
 * read-only; `hamlet verify` is what says whether the store itself is
 * intact.
 */
#include "cli.h"

#include "audit.h"
#include "error.h"
#include "hlc.h"

#include <string.h>

static void forks_print(const struct audit_forks *fs, const uint8_t *own)
{
	if (fs->n == 0) {
		printf(_("no forks\n"));
		return;
	}
	printf(_("%zu forked feed%s: each author below signed two versions of its feed, two different entries at one seq, or entries at seqs N and N+1 where the second does not follow the first\n"),
	       fs->n, cli_plural(fs->n));
	for (size_t i = 0; i < fs->n; i++) {
		const struct audit_fork *f = &fs->v[i];
		char h[65], tm[48];
		cli_hex(f->author, 32, h);
		printf(_("\nauthor %s\n"), h);
		if (memcmp(f->author, own, 32) == 0)
			printf(_("  THIS NODE'S KEY: either another PC uses this key (stop that PC), or this PC's store was put back from a backup and written in before it had synced; either way, call the administrator (a new key and certificate)\n"));
		printf(_("  scope  %s\n"), f->scope);
		printf(_("  frozen at seq %llu: nothing this author signs after it in this feed is taken\n"),
		       (unsigned long long)f->seq);
		for (size_t k = 0; k < f->n; k++) {
			const struct audit_fork_entry *e = &f->entries[k];
			cli_hex(e->id, 32, h);
			cli_hlc_text(e->hlc, tm);
			printf(_("  seq %llu  %s  %s  %s\n"),
			       (unsigned long long)e->seq, tm, h,
			       e->evidence ? _("kept as evidence")
					   : _("the feed's own entry"));
		}
	}
}

static json_t *forks_json(const struct audit_forks *fs, const uint8_t *own)
{
	json_t *j = json_object(), *arr = json_array();

	for (size_t i = 0; i < fs->n; i++) {
		const struct audit_fork *f = &fs->v[i];
		json_t *o = json_object(), *ents = json_array();
		char h[65], tm[48];
		cli_hex(f->author, 32, h);
		json_object_set_new(o, "author", json_string(h));
		json_object_set_new(o, "own",
				    json_boolean(memcmp(f->author, own, 32) == 0));
		json_object_set_new(o, "scope", json_string(f->scope));
		json_object_set_new(o, "seq", json_integer((json_int_t)f->seq));
		for (size_t k = 0; k < f->n; k++) {
			const struct audit_fork_entry *e = &f->entries[k];
			json_t *x = json_object();
			cli_hex(e->id, 32, h);
			hlc_format(e->hlc, tm);
			json_object_set_new(x, "id", json_string(h));
			json_object_set_new(x, "seq",
					    json_integer((json_int_t)e->seq));
			json_object_set_new(x, "hlc",
					    json_integer((json_int_t)e->hlc));
			json_object_set_new(x, "time", json_string(tm));
			json_object_set_new(x, "evidence",
					    json_boolean(e->evidence));
			json_array_append_new(ents, x);
		}
		json_object_set_new(o, "entries", ents);
		json_array_append_new(arr, o);
	}
	json_object_set_new(j, "forks", arr);
	json_object_set_new(j, "broken_evidence",
			    json_integer((json_int_t)fs->broken));
	return j;
}

int cmd_forks(int argc, char **argv)
{
	struct node *n = NULL;
	struct store_txn *t = NULL;
	struct audit_forks fs;
	struct problems damage;
	char *pos[1];
	int npos, r;

	memset(&fs, 0, sizeof(fs));
	memset(&damage, 0, sizeof(damage));
	if ((r = cli_parse("forks", argc, argv, NULL, pos, 0, &npos)) < 0)
		goto out;
	if ((r = cli_node_open(1, &n, NULL)) < 0 ||
	    (r = cli_txn_read(n, &t)) < 0)
		goto out;
	if ((r = audit_forks_read(t, &fs, &damage)) < 0) {
		cli_err(_("cannot read the fork evidence in %s/store: %s"),
			n->home, cli_strerror(r));
		goto out;
	}
	/* evidence that proves nothing is damage: verify's business, but
	 * not to be passed over in silence here */
	for (size_t i = 0; i < damage.n; i++)
		cli_err(_("warning: %s"), cli_problem_text(&damage.v[i]));
	if (fs.broken)
		cli_err(_("warning: %llu piece%s of fork evidence prove%s nothing: the store is damaged; run \"%s verify\""),
			(unsigned long long)fs.broken, cli_plural(fs.broken),
			fs.broken == 1 ? "s" : "", cli_prog());
	if (cli_global.json)
		cli_json_print(forks_json(&fs, n->pk));
	else
		forks_print(&fs, n->pk);
	r = 0;
out:
	problems_close(&damage);
	audit_forks_close(&fs);
	store_txn_abort(t);
	node_close(n);
	return cli_exit_code(r);
}
