/*
 * What verify finds in a store (daemon/core/audit.h), as text for a
 * person and as JSON for tools (docs/auditor-guide.md, "Checking a
 * store").
 */
#include "cli.h"

#include "audit.h"
#include "i18n.h"

void cli_audit_print(FILE *f, const struct node *n,
		     const struct audit_report *a)
{
	const struct problems *p = &a->problems;

	fprintf(f, _("store of node %s (%s), network %s\n"), n->name, n->home,
		n->net.name);
	fprintf(f, _("  feeds:             %llu\n"),
		(unsigned long long)a->feeds);
	fprintf(f, _("  entries:           %llu\n"),
		(unsigned long long)a->entries);
	fprintf(f,
		_("  bodies:            %llu (%llu missing: erased or not received)\n"),
		(unsigned long long)a->bodies,
		(unsigned long long)a->bodies_missing);
	fprintf(f,
		_("  bad signatures:    %llu (%llu checked one by one; each other entry is signed through its feed's hash chain)\n"),
		(unsigned long long)a->bad_signatures,
		(unsigned long long)a->signatures_checked);
	fprintf(f, _("  chain breaks:      %llu\n"),
		(unsigned long long)a->chain_breaks);
	fprintf(f,
		_("  bad bodies:        %llu (not matching the hash their entry signs)\n"),
		(unsigned long long)a->bad_bodies);
	fprintf(f, _("  gaps:              %llu\n"),
		(unsigned long long)a->gaps);
	fprintf(f, _("  forks:             %llu"),
		(unsigned long long)a->forks);
	if (a->forks)
		fprintf(f,
			P_(" (evidence kept, in %zu feed)",
			   " (evidence kept, in %zu feeds)", a->forked.n),
			a->forked.n);
	fprintf(f, "\n");
	fprintf(f, _("  wrong network:     %llu\n"),
		(unsigned long long)a->wrong_network);
	fprintf(f,
		_("  held:              %llu (%llu waiting for an earlier entry, %llu for their author's certificate)\n"),
		(unsigned long long)a->held,
		(unsigned long long)(a->held - a->held_nocert),
		(unsigned long long)a->held_nocert);
	fprintf(f, _("  future timestamps: %llu\n"),
		(unsigned long long)a->future);
	fprintf(f,
		_("  records:           %llu (%llu whose stored state is not what their entries make)\n"),
		(unsigned long long)a->records,
		(unsigned long long)a->records_mismatch);
	fprintf(f,
		_("  past revocation:   %llu (signed past their author's revocation cut-off)\n"),
		(unsigned long long)a->past_cutoff);
	if (a->refused || a->refused_over)
		fprintf(f,
			_("  refused:           %llu (entries this node refused when they came: a revoked key's, a certificate that did not hold...; kept as findings, verify --report names each)\n"),
			(unsigned long long)(a->refused + a->refused_over));
	if (a->trust_index)
		fprintf(f,
			_("  trust set index:   %llu (rows missing from, or wrong in, its index of subjects)\n"),
			(unsigned long long)a->trust_index);
	if (a->wrong_root)
		fprintf(f,
			_("  root key:          not the network's (the store judges certificates by another key)\n"));
	if (a->erased_bodies)
		fprintf(f,
			_("  erased bodies:     %llu (still stored, though an erasure reaches their entries)\n"),
			(unsigned long long)a->erased_bodies);
	cli_problems_print(f, p);
	if (audit_damaged(a))
		fprintf(f,
			_("verify: DAMAGED: the store holds entries or records that do not verify or do not add up; restore it from a peer or a backup\n"));
	for (size_t i = 0; i < a->forked.n; i++) {
		const struct audit_fork *fk = &a->forked.v[i];
		char h[65];
		cli_hex(fk->author, 32, h);
		fprintf(f,
			_("verify: %s: author %s forked feed %s at seq %llu\n"),
			audit_damaged(a) ? _("it also keeps evidence")
					 : _("intact; keeps evidence"),
			h, fk->scope, (unsigned long long)fk->seq);
	}
	/* with other findings below, the store is not right as it is: only
	 * the forks need no repair */
	if (!audit_damaged(a) && audit_evidence(a) && !a->past_cutoff &&
	    !a->erased_bodies)
		fprintf(f,
			_("verify: nothing to repair; tell the network's administrator, who may revoke the key (%s forks shows the entries)\n"),
			cli_prog());
	else if (!audit_damaged(a) && audit_evidence(a))
		fprintf(f,
			_("verify: the forks need no repair; tell the network's administrator, who may revoke the key (%s forks shows the entries)\n"),
			cli_prog());
	if (a->past_cutoff)
		fprintf(f,
			P_("verify: %s: %llu entry signed past its author's revocation cut-off is stored; it should not stand (%s verify --report names it)\n",
			   "verify: %s: %llu entries signed past their author's revocation cut-off are stored; they should not stand (%s verify --report names them)\n",
			   a->past_cutoff),
			audit_damaged(a) ? _("it also holds")
					 : _("intact; holds findings"),
			(unsigned long long)a->past_cutoff, cli_prog());
	if (a->erased_bodies)
		fprintf(f,
			P_("verify: %s: %llu body of an entry that an erasure it holds reaches is still stored, where a node deletes it (SPEC 1.6): an erased person's data is on this copy; each is named by an erased-body line. The store's index of erasures was damaged or edited: restore the node from a peer (operator guide, \"Checking\")\n",
			   "verify: %s: %llu bodies of entries that an erasure it holds reaches are still stored, where a node deletes them (SPEC 1.6): an erased person's data is on this copy; each is named by an erased-body line. The store's index of erasures was damaged or edited: restore the node from a peer (operator guide, \"Checking\")\n",
			   a->erased_bodies),
			audit_damaged(a) ? _("it also holds")
					 : _("intact; holds findings"),
			(unsigned long long)a->erased_bodies);
	if (!audit_failed(a) && a->held)
		/* held entries are not yet part of the store's history:
		 * its verdict stands; that they wait is a finding of the
		 * report (verify --report, exit 1) */
		fprintf(f,
			P_("verify: ok: every signature, hash chain and seq checks out; %llu entry held waiting (listed above) is not part of the history yet, and verify --report counts it as a finding\n",
			   "verify: ok: every signature, hash chain and seq checks out; %llu entries held waiting (listed above) are not part of the history yet, and verify --report counts them as findings\n",
			   a->held),
			(unsigned long long)a->held);
	else if (!audit_failed(a))
		fprintf(f,
			_("verify: ok: every signature, hash chain and seq checks out\n"));
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

/* Problems as verify --json lists them: "kind" and "text" each. */
json_t *cli_problems_json(const struct problems *ps)
{
	json_t *probs = json_array();

	for (size_t i = 0; i < ps->n; i++) {
		json_t *p = json_object();
		json_object_set_new(p, "kind", json_string(ps->v[i].kind));
		json_object_set_new(p, "text", json_string(ps->v[i].text));
		json_array_append_new(probs, p);
	}
	return probs;
}

json_t *cli_audit_json(const struct node *n, const struct audit_report *a)
{
	json_t *j = json_object();
#define NUM(name) /* a count a damaged store makes huge stays positive */ \
	json_object_set_new(j, #name,                                      \
			    json_integer(a->name > INT64_MAX ? INT64_MAX :   \
					 (json_int_t)a->name))
	json_object_set_new(j, "node", json_string(n->name));
	json_object_set_new(j, "network", json_string(n->net.name));
	NUM(feeds);
	NUM(entries);
	NUM(bodies);
	NUM(bodies_missing);
	NUM(bad_signatures);
	NUM(signatures_checked);
	NUM(chain_breaks);
	NUM(bad_bodies);
	NUM(gaps);
	json_object_set_new(j, "fork_evidence",
			    json_integer((json_int_t)a->forks));
	NUM(held);
	NUM(held_nocert);
	NUM(wrong_network);
	NUM(future);
	NUM(records);
	NUM(records_mismatch);
	NUM(digest_mismatch);
	NUM(bad_evidence);
	NUM(past_cutoff);
	NUM(erased_bodies);
	NUM(trust_index);
	NUM(wrong_root);
	NUM(refused);
	NUM(refused_over);
#undef NUM
	json_object_set_new(j, "problems", cli_problems_json(&a->problems));
	json_object_set_new(j, "problems_total",
			    json_integer((json_int_t)a->problems.total));
	json_object_set_new(j, "forks", forks_json(&a->forked));
	json_object_set_new(j, "ok", json_boolean(!audit_failed(a)));
	json_object_set_new(j, "damaged", json_boolean(audit_damaged(a)));
	json_object_set_new(j, "evidence", json_boolean(audit_evidence(a)));
	return j;
}
