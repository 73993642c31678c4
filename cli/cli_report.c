/*
 * The auditor's report (daemon/core/report.h) as text for a person and as
 * JSON for tools (docs/auditor-guide.md "The report" documents each
 * field; a field changes only with REPORT_VERSION).
 */
#include "cli.h"

#include "error.h"
#include "hlc.h"
#include "refused.h"
#include "report.h"
#include "scopemap.h"

#include <string.h>
#include <time.h>

/* "2026-11-23 08:15:02 UTC" */
static void utc_text(uint64_t ms, char out[32])
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(out, 32, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* "2026-11-23T08:15:02.123Z": a wall time in ms, as hlc_format does */
static json_t *ms_json(uint64_t ms)
{
	char t[48];
	if (!ms)
		return json_null();
	hlc_format(ms << HLC_COUNTER_BITS, t);
	return json_string(t);
}

static json_t *hex_json(const uint8_t *p)
{
	char h[65];
	cli_hex(p, 32, h);
	return json_string(h);
}

static json_t *strs_json(const char (*v)[CERT_SCOPE_MAX + 1], size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* Who key is, in words: its certificate's name, or the root. Also in
 * the JSON, hence cli_tr(): English under --json. */
static void who(const struct report *rep, const uint8_t key[32], char *out,
		size_t n)
{
	const struct report_author *a = report_author_find(rep, key);
	char h[9];

	cli_hex_short(key, h);
	if (rep->has_root && memcmp(key, rep->root, 32) == 0)
		snprintf(out, n, "%s", cli_tr(N_("the network's root key")));
	else if (a && a->name[0])
		snprintf(out, n, cli_tr(N_("\"%s\" (key %s…)")), a->name, h);
	else
		snprintf(out, n, cli_tr(N_("key %s… (no certificate)")), h);
}

/* Its first chain that holds at some date but not now (dated), or
 * that holds at none (!dated); NULL when none is. */
static const struct report_chain *chain_failing(const struct report_author *a,
						int dated)
{
	for (size_t i = 0; i < a->nchains; i++)
		if (!a->chains[i].valid_now && !a->chains[i].revoked &&
		    a->chains[i].never_valid == !dated)
			return &a->chains[i];
	return NULL;
}

/* A chain that never held (a certificate signed by a key that may not
 * certify, one granting more than its issuer holds) leads nowhere: it
 * is not "not valid now", and no revocation of its issuers cut it. */
static const char *author_status(const struct report_author *a)
{
	int valid = 0, revoked = a->nrevocations > 0;

	if (a->is_root)
		return "root";
	for (size_t i = 0; i < a->nchains; i++) {
		if (a->chains[i].revoked)
			revoked = 1;
		else if (a->chains[i].valid_now)
			valid = 1;
	}
	if (revoked && !valid)
		return "revoked";
	if (valid)
		return "valid";
	if (chain_failing(a, 1))
		return "not_valid_now";
	if (a->chain_cut)
		return "issuer_revoked";
	return a->ncerts ? "no_chain_to_root" : "no_certificate";
}

/* Does revocation rv of a come from every chain of a's (SPEC 9: one
 * made by a key outside a chain cuts nothing of it)? 1 with no chain. */
static int revoke_cuts_all(const struct report_author *a,
			   const struct revocation *rv)
{
	for (size_t i = 0; i < a->nchains; i++)
		if (!trustset_revoke_applies(rv, &a->chains[i].ch, 0))
			return 0;
	return 1;
}

/* --- JSON ------------------------------------------------------------------- */

static json_t *cert_json(const struct report *rep, const uint8_t id[32],
			 const struct cert *c)
{
	json_t *o = json_object(), *cols = json_array();
	char iss[120];

	json_object_set_new(o, "id", hex_json(id));
	json_object_set_new(o, "name", json_string(c->name));
	json_object_set_new(o, "role", json_string(cert_role_name(c->role)
							   ? cert_role_name(c->role)
							   : "?"));
	json_object_set_new(o, "subject", hex_json(c->subject));
	json_object_set_new(o, "issuer", hex_json(c->issuer));
	who(rep, c->issuer, iss, sizeof(iss));
	json_object_set_new(o, "issuer_name", json_string(iss));
	json_object_set_new(o, "issuer_is_root",
			    json_boolean(rep->has_root &&
					 !memcmp(c->issuer, rep->root, 32)));
	json_object_set_new(o, "read", strs_json(c->read, c->nread));
	json_object_set_new(o, "write", strs_json(c->write, c->nwrite));
	for (size_t i = 0; i < c->ncollections; i++)
		json_array_append_new(cols, json_string(c->collections[i]));
	json_object_set_new(o, "collections", cols);
	json_object_set_new(o, "not_before", ms_json(c->not_before_ms));
	json_object_set_new(o, "expires", ms_json(c->expires_ms));
	json_object_set_new(o, "delegate", json_boolean(c->delegate));
	return o;
}

static json_t *refused_json(const struct report_refused *x)
{
	json_t *o = json_object();
	char t[48];

	json_object_set_new(o, "id", hex_json(x->id));
	json_object_set_new(o, "reason", json_string(report_reason_name(x->err)));
	json_object_set_new(o, "why", json_string(x->why));
	json_object_set_new(o, "refused_at", ms_json(x->at_ms));
	json_object_set_new(o, "signature_ok", json_boolean(x->sig_ok));
	if (x->decoded) {
		hlc_format(x->hlc, t);
		json_object_set_new(o, "scope", json_string(x->scope));
		json_object_set_new(o, "seq", json_integer((json_int_t)x->seq));
		json_object_set_new(o, "hlc", json_integer((json_int_t)x->hlc));
		json_object_set_new(o, "time", json_string(t));
		json_object_set_new(o, "kind", json_string(entry_kind_name(x->kind)));
		json_object_set_new(o, "collection", json_string(x->collection));
		json_object_set_new(o, "record_id", json_string(x->record_id));
	}
	return o;
}

static json_t *hlc_json(uint64_t hlc)
{
	char t[48];
	if (!hlc)
		return json_null();
	hlc_format(hlc, t);
	return json_string(t);
}

static json_t *author_json(const struct report *rep,
			   const struct report_author *a)
{
	json_t *o = json_object(), *arr;

	json_object_set_new(o, "key", hex_json(a->key));
	json_object_set_new(o, "name", a->name[0] ? json_string(a->name)
						  : json_null());
	json_object_set_new(o, "status", json_string(author_status(a)));
	arr = json_array();
	for (size_t i = 0; i < a->ncerts; i++) {
		json_t *c = cert_json(rep, a->certs[i].id, &a->certs[i].c);
		json_object_set_new(c, "leads_to_root",
				    json_boolean(a->certs[i].in_chain));
		json_array_append_new(arr, c);
	}
	json_object_set_new(o, "certificates", arr);
	arr = json_array();
	for (size_t i = 0; i < a->nchains; i++) {
		const struct report_chain *c = &a->chains[i];
		json_t *co = json_object(), *certs = json_array();
		for (size_t k = 0; k < c->ch.n; k++)
			json_array_append_new(certs, cert_json(rep, c->ch.id[k],
							       &c->ch.c[k]));
		json_object_set_new(co, "certificates", certs);
		json_object_set_new(co, "valid_now", json_boolean(c->valid_now));
		json_object_set_new(co, "never_valid",
				    json_boolean(c->never_valid));
		json_object_set_new(co, "invalid_why",
				    c->valid_now ? json_null()
						 : json_string(c->invalid_why));
		json_object_set_new(co, "revoked", json_boolean(c->revoked));
		json_object_set_new(co, "revoked_why",
				    c->revoked ? json_string(c->revoked_why)
					       : json_null());
		json_array_append_new(arr, co);
	}
	json_object_set_new(o, "chains", arr);
	json_object_set_new(o, "chain_cut_by_revocation",
			    json_boolean(a->chain_cut));
	json_object_set_new(o, "entries", json_integer((json_int_t)a->entries));
	json_object_set_new(o, "first", hlc_json(a->first_hlc));
	json_object_set_new(o, "last", hlc_json(a->last_hlc));
	arr = json_array();
	for (size_t i = 0; i < a->nfeeds; i++) {
		const struct report_feed *f = &a->feeds[i];
		json_t *fo = json_object();
		json_object_set_new(fo, "scope", json_string(f->scope));
		json_object_set_new(fo, "head", json_integer((json_int_t)f->head));
		json_object_set_new(fo, "entries", json_integer((json_int_t)f->entries));
		json_object_set_new(fo, "puts", json_integer((json_int_t)f->puts));
		json_object_set_new(fo, "deletes", json_integer((json_int_t)f->deletes));
		json_object_set_new(fo, "erasures", json_integer((json_int_t)f->erasures));
		json_object_set_new(fo, "others", json_integer((json_int_t)f->others));
		json_object_set_new(fo, "first", hlc_json(f->first_hlc));
		json_object_set_new(fo, "last", hlc_json(f->last_hlc));
		json_object_set_new(fo, "missing", json_integer((json_int_t)f->missing));
		json_object_set_new(fo, "held", json_integer((json_int_t)f->held));
		json_object_set_new(fo, "gaps", json_integer((json_int_t)f->gaps));
		json_object_set_new(fo, "forked", json_boolean(f->forked));
		json_object_set_new(fo, "fork_seq",
				    f->forked ? json_integer((json_int_t)f->fork_seq)
					      : json_null());
		json_array_append_new(arr, fo);
	}
	json_object_set_new(o, "feeds", arr);
	json_object_set_new(o, "gaps", json_integer((json_int_t)(a->gaps + a->missing)));
	json_object_set_new(o, "forks", json_integer((json_int_t)a->forks));
	arr = json_array();
	for (size_t i = 0; i < a->nrevocations; i++) {
		const struct report_revocation *rv =
			&rep->revocations[a->revocations[i]];
		json_t *ro = json_object(), *feeds = json_array();
		json_object_set_new(ro, "id", hex_json(rv->id));
		json_object_set_new(ro, "issuer", hex_json(rv->rv.issuer));
		json_object_set_new(ro, "issuer_is_root",
				    json_boolean(rep->has_root &&
						 !memcmp(rv->rv.issuer, rep->root, 32)));
		json_object_set_new(ro, "issued", ms_json(rv->rv.issued_ms));
		json_object_set_new(ro, "reason", json_string(rv->rv.reason));
		json_object_set_new(ro, "cuts_every_chain",
				    json_boolean(revoke_cuts_all(a, &rv->rv)));
		for (size_t k = 0; k < rv->rv.nfeeds; k++) {
			json_t *fo = json_object();
			json_object_set_new(fo, "scope",
					    json_string(rv->rv.feeds[k].scope));
			json_object_set_new(fo, "kept_through",
					    json_integer((json_int_t)rv->rv.feeds[k].seq));
			json_array_append_new(feeds, fo);
		}
		json_object_set_new(ro, "cut_off", feeds);
		json_array_append_new(arr, ro);
	}
	json_object_set_new(o, "revocations", arr);
	json_object_set_new(o, "erasures_made",
			    json_integer((json_int_t)a->erasures_made));
	json_object_set_new(o, "entries_erased",
			    json_integer((json_int_t)a->entries_erased));
	json_object_set_new(o, "held_for_certificate",
			    json_integer((json_int_t)a->held_nocert));
	json_object_set_new(o, "past_cutoff",
			    json_integer((json_int_t)a->past_cutoff));
	json_object_set_new(o, "home_revocations",
			    json_integer((json_int_t)a->home_revocations));
	json_object_set_new(o, "home_forks",
			    json_integer((json_int_t)a->home_forks));
	arr = json_array();
	for (size_t i = 0; i < a->nrefused; i++)
		json_array_append_new(arr, refused_json(&a->refused[i]));
	json_object_set_new(o, "refused", arr);
	return o;
}

json_t *cli_report_json(const struct report *rep, json_t *source)
{
	json_t *j = json_object(), *arr;
	uint64_t refused = rep->nrefused_unknown;

	json_object_set_new(j, "report_version", json_integer(REPORT_VERSION));
	json_object_set_new(j, "source", source);
	json_object_set_new(j, "generated", ms_json(rep->at_ms));
	json_object_set_new(j, "network_id", hex_json(rep->network_id));
	json_object_set_new(j, "root", rep->has_root ? hex_json(rep->root)
						     : json_null());
	arr = json_array();
	for (size_t i = 0; i < rep->nauthors; i++) {
		json_array_append_new(arr, author_json(rep, &rep->authors[i]));
		refused += rep->authors[i].nrefused;
	}
	json_object_set_new(j, "authors", arr);
	arr = json_array();
	for (size_t i = 0; i < rep->nerasures; i++) {
		const struct report_erasure *e = &rep->erasures[i];
		json_t *o = json_object();
		json_object_set_new(o, "id", hex_json(e->id));
		json_object_set_new(o, "author", hex_json(e->author));
		json_object_set_new(o, "time", hlc_json(e->hlc));
		json_object_set_new(o, "hlc", json_integer((json_int_t)e->hlc));
		json_object_set_new(o, "scope", json_string(e->scope));
		json_object_set_new(o, "collection", json_string(e->collection));
		json_object_set_new(o, "record_id", json_string(e->record_id));
		json_object_set_new(o, "reason", json_string(e->reason));
		json_object_set_new(o, "allowed", json_boolean(e->allowed));
		json_object_set_new(o, "why", e->allowed ? json_null()
							 : json_string(e->why));
		json_object_set_new(o, "entries_reached",
				    json_integer((json_int_t)e->reached));
		json_array_append_new(arr, o);
	}
	json_object_set_new(j, "erasures", arr);
	arr = json_array();
	for (size_t i = 0; i < rep->nmoves; i++) {
		const struct report_move *m = &rep->moves[i];
		json_t *o = json_object();
		json_object_set_new(o, "id", hex_json(m->id));
		json_object_set_new(o, "from", json_string(m->mv.from));
		json_object_set_new(o, "to", json_string(m->mv.to));
		json_object_set_new(o, "signed_ms",
				    json_integer((json_int_t)m->mv.at_ms));
		json_object_set_new(o, "reason", json_string(m->mv.reason));
		json_object_set_new(o, "in_effect",
				    json_boolean(m->status == SCOPEMAP_IN_EFFECT));
		json_object_set_new(o, "status",
				    json_string(scopemap_status_name(m->status)));
		json_array_append_new(arr, o);
	}
	json_object_set_new(j, "scope_moves", arr);
	arr = json_array();
	for (size_t i = 0; i < rep->nrefused_unknown; i++)
		json_array_append_new(arr, refused_json(&rep->refused_unknown[i]));
	json_object_set_new(j, "refused_unattributed", arr);
	json_object_set_new(j, "refused", json_integer((json_int_t)refused));
	json_object_set_new(j, "refused_not_kept",
			    json_integer((json_int_t)rep->refused_over));
	json_object_set_new(j, "refused_accepted_since",
			    json_integer((json_int_t)rep->refused_accepted));
	json_object_set_new(j, "findings", json_boolean(report_findings(rep)));
	/* a report that was made; verify sets it when a bundle could not
	 * be judged at all */
	json_object_set_new(j, "not_judged", json_null());
	return j;
}

/* --- text --------------------------------------------------------------------- */

static void print_prefixes(FILE *f, const char *what,
			   const char (*v)[CERT_SCOPE_MAX + 1], size_t n)
{
	fprintf(f, "%s ", what);
	if (n == 0)
		fprintf(f, _("nothing"));
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : "",
			v[i][0] ? v[i] : _("every scope"));
}

static void print_cert(FILE *f, const struct report *rep, const char *indent,
		       const uint8_t id[32], const struct cert *c)
{
	char h[9], a[32], b[64], iss[120];

	cli_hex_short(id, h);
	who(rep, c->issuer, iss, sizeof(iss));
	utc_text(c->not_before_ms, a);
	fprintf(f, _("%scertificate \"%s\" (%s, id %s…), issued by %s\n"), indent,
		c->name, cli_role_text(c->role) ? cli_role_text(c->role) : "?",
		h, iss);
	fprintf(f, "%s  ", indent);
	print_prefixes(f, _("may read"), c->read, c->nread);
	fprintf(f, "; ");
	print_prefixes(f, _("may write"), c->write, c->nwrite);
	if (c->ncollections) {
		fprintf(f, _(" (only "));
		for (size_t i = 0; i < c->ncollections; i++)
			fprintf(f, "%s%s", i ? ", " : "", c->collections[i]);
		fprintf(f, ")");
	}
	fprintf(f, "%s\n", c->delegate ? _("; may certify others within that") : "");
	if (c->expires_ms) {
		cli_date_text(c->expires_ms, b, sizeof(b));
		fprintf(f, _("%s  valid from %s until %s\n"), indent, a, b);
	} else {
		fprintf(f, _("%s  valid from %s, with no end\n"), indent, a);
	}
}

static void print_refused(FILE *f, const struct report_refused *x)
{
	char h[65], t[48];

	cli_hex(x->id, 32, h);
	if (x->decoded) {
		hlc_format(x->hlc, t);
		fprintf(f, _("    - %s %s/%s, seq %llu of feed %s, dated %s (UTC)\n"),
			entry_kind_name(x->kind), x->collection, x->record_id,
			(unsigned long long)x->seq, x->scope, t);
		if (!x->sig_ok)
			fprintf(f, _("      its signature does not verify: the author it names may not have written it\n"));
	} else {
		fprintf(f, _("    - an entry that does not decode\n"));
	}
	fprintf(f, _("      refused (%s): %s\n"), report_reason_name(x->err),
		x->why[0] ? cli_why(x->why) : cli_strerror(x->err));
	fprintf(f, _("      entry id %s\n"), h);
}

static void print_author(FILE *f, const struct report *rep,
			 const struct report_author *a)
{
	const char *st = author_status(a);
	char h[65], t1[48], t2[48];

	cli_hex(a->key, 32, h);
	if (a->is_root)
		fprintf(f, _("\nThe network's root key\n  key %s\n"), h);
	else
		fprintf(f, _("\n%s%s%s\n  key %s\n"), a->name[0] ? "\"" : "",
			a->name[0] ? a->name : _("An author with no certificate here"),
			a->name[0] ? "\"" : "", h);
	if (!strcmp(st, "valid") && rep->of_bundle)
		fprintf(f, _("  its certificate is valid now; no revocation of it is in the bundle\n"));
	else if (!strcmp(st, "valid"))
		fprintf(f, _("  its certificate is valid now and not revoked\n"));
	else if (!strcmp(st, "revoked"))
		fprintf(f, _("  its key is REVOKED\n"));
	else if (!strcmp(st, "not_valid_now"))
		/* the first such chain's reason: expired, or not yet
		 * valid */
		fprintf(f, _("  its certificate is NOT valid now: %s\n"),
			chain_failing(a, 1)->invalid_why);
	else if (!strcmp(st, "issuer_revoked"))
		fprintf(f, _("  its certificate was signed by an administrator whose key is revoked\n"));
	else if (!strcmp(st, "no_chain_to_root") && chain_failing(a, 0))
		/* why the first chain never held */
		fprintf(f, _("  its certificates do NOT lead to the network's root key: %s\n"),
			chain_failing(a, 0)->invalid_why);
	else if (!strcmp(st, "no_chain_to_root"))
		fprintf(f, _("  its certificates do NOT lead to the network's root key\n"));
	else if (!strcmp(st, "no_certificate"))
		fprintf(f, _("  NO certificate of it is known: nothing it signed can be accepted\n"));
	for (size_t i = 0; i < a->ncerts; i++)
		print_cert(f, rep, "  ", a->certs[i].id, &a->certs[i].c);
	for (size_t i = 0; i < a->nchains; i++) {
		const struct report_chain *c = &a->chains[i];
		fprintf(f, _("  chain to the root:"));
		for (size_t k = 0; k < c->ch.n; k++)
			fprintf(f, " \"%s\" ←", c->ch.c[k].name);
		fprintf(f, _(" the root key: %s%s%s%s\n"),
			c->valid_now	 ? _("valid now")
			: c->never_valid ? _("NEVER valid (")
					 : _("NOT valid now ("),
			c->valid_now ? "" : c->invalid_why,
			c->valid_now ? "" : ")",
			c->revoked	  ? _("; REVOKED")
			: rep->of_bundle ? _("; no revocation in the bundle")
					 : _("; not revoked"));
		for (size_t k = 1; k < c->ch.n; k++)
			print_cert(f, rep, "    ", c->ch.id[k], &c->ch.c[k]);
	}
	if (a->entries) {
		hlc_format(a->first_hlc, t1);
		hlc_format(a->last_hlc, t2);
		fprintf(f, P_("  %llu entry held here, from %s to %s (UTC)\n",
			      "  %llu entries held here, from %s to %s (UTC)\n",
			      a->entries),
			(unsigned long long)a->entries, t1, t2);
	} else {
		fprintf(f, _("  no entry of it is held here\n"));
	}
	for (size_t i = 0; i < a->nfeeds; i++) {
		const struct report_feed *fd = &a->feeds[i];
		fprintf(f, P_("    scope %s: %llu entry (changes %llu, deletions %llu, erasures %llu)",
			      "    scope %s: %llu entries (changes %llu, deletions %llu, erasures %llu)",
			      fd->entries),
			fd->scope, (unsigned long long)fd->entries,
			(unsigned long long)fd->puts,
			(unsigned long long)fd->deletes,
			(unsigned long long)fd->erasures);
		if (fd->missing)
			fprintf(f, _("; %llu MISSING below seq %llu"),
				(unsigned long long)fd->missing,
				(unsigned long long)fd->head);
		/* entries waiting for a certificate are the author's line
		 * below; the seqs missing under them are still a hole */
		if (fd->held || fd->gaps)
			fprintf(f, P_("; %llu waiting for earlier entries not received, %llu seq missing below the last entry held",
				      "; %llu waiting for earlier entries not received, %llu seqs missing below the last entry held",
				      fd->gaps),
				(unsigned long long)fd->held,
				(unsigned long long)fd->gaps);
		if (fd->forked)
			fprintf(f, _("; FORKED at seq %llu: two different entries signed for that place"),
				(unsigned long long)fd->fork_seq);
		fprintf(f, "\n");
	}
	for (size_t i = 0; i < a->nrevocations; i++) {
		const struct report_revocation *rv =
			&rep->revocations[a->revocations[i]];
		char iss[120], at[32];
		who(rep, rv->rv.issuer, iss, sizeof(iss));
		utc_text(rv->rv.issued_ms, at);
		if (revoke_cuts_all(a, &rv->rv))
			fprintf(f, _("  REVOKED by %s on %s%s%s%s\n"), iss, at,
				rv->rv.reason[0] ? _(", reason: \"") : "",
				rv->rv.reason, rv->rv.reason[0] ? "\"" : "");
		else
			fprintf(f, _("  revoked by %s on %s%s%s%s, in the chains that key signed in only (a revocation by a key outside a chain cuts nothing of it)\n"),
				iss, at,
				rv->rv.reason[0] ? _(", reason: \"") : "",
				rv->rv.reason, rv->rv.reason[0] ? "\"" : "");
		for (size_t k = 0; k < rv->rv.nfeeds; k++)
			fprintf(f, _("    scope %s: its entries up to seq %llu stay valid, later ones are refused\n"),
				rv->rv.feeds[k].scope,
				(unsigned long long)rv->rv.feeds[k].seq);
		fprintf(f, _("    every other scope of it: nothing stays valid\n"));
	}
	if (!rep->of_bundle && !a->nrevocations && !a->chain_cut &&
	    strcmp(st, "issuer_revoked") != 0) {
		/* refused as revoked on arrival, yet no revocation here
		 * refuses them: the trust set lost one (a store row can be
		 * deleted; the refusal kept says it was there) */
		size_t nrv = 0, revoked_chain = 0;
		for (size_t i = 0; i < a->nchains; i++)
			revoked_chain |= a->chains[i].revoked != 0;
		for (size_t i = 0; i < a->nrefused; i++)
			nrv += a->refused[i].err == HAMLET_EREVOKED;
		if (nrv && !revoked_chain)
			fprintf(f, P_("  %zu entry of it was refused because its key or an issuer's was revoked, yet this store's trust set holds no such revocation: a revocation may have been removed from this copy (or the kept refusals altered); compare with another node's store\n",
				      "  %zu entries of it were refused because its key or an issuer's was revoked, yet this store's trust set holds no such revocation: a revocation may have been removed from this copy (or the kept refusals altered); compare with another node's store\n",
				      nrv),
				nrv);
	}
	if (a->home_revocations) {
		char iss[120], at[32];
		who(rep, a->home_revoked_by, iss, sizeof(iss));
		utc_text(a->home_revoked_ms, at);
		fprintf(f, P_("  this home's trust set holds %zu revocation of it (by %s on %s) that the bundle does not carry: the bundle is judged without it\n",
			      "  this home's trust set holds %zu revocations of it (the first by %s on %s) that the bundle does not carry: the bundle is judged without them\n",
			      a->home_revocations),
			a->home_revocations, iss, at);
	}
	if (a->home_forks == 1)
		fprintf(f, _("  this home keeps evidence that it signed two different entries at seq %llu of its feed %s (hamlet forks shows both): the bundle shows one history of that feed at most, and is judged without the other\n"),
			(unsigned long long)a->home_fork_seq, a->home_fork_scope);
	else if (a->home_forks)
		fprintf(f, P_("  this home keeps evidence that it forked %zu feed, the first at seq %llu of its feed %s (hamlet forks shows both entries of each): the bundle shows one history of each at most, and is judged without the other\n",
			      "  this home keeps evidence that it forked %zu feeds, the first at seq %llu of its feed %s (hamlet forks shows both entries of each): the bundle shows one history of each at most, and is judged without the other\n",
			      a->home_forks),
			a->home_forks, (unsigned long long)a->home_fork_seq,
			a->home_fork_scope);
	if (a->past_cutoff)
		fprintf(f, P_("  %llu entry of it held here was signed past its revocation's cut-off: it should not stand\n",
			      "  %llu entries of it held here were signed past its revocation's cut-off: they should not stand\n",
			      a->past_cutoff),
			(unsigned long long)a->past_cutoff);
	if (a->erasures_made || a->entries_erased)
		fprintf(f, _("  erasures: it made %llu; %llu of its entries were erased\n"),
			(unsigned long long)a->erasures_made,
			(unsigned long long)a->entries_erased);
	if (a->held_nocert)
		fprintf(f, P_("  %llu entry of it waits for a certificate that has not arrived: not accepted\n",
			      "  %llu entries of it wait for a certificate that has not arrived: not accepted\n",
			      a->held_nocert),
			(unsigned long long)a->held_nocert);
	if (a->nrefused) {
		fprintf(f, P_("  %zu entry of it REFUSED:\n",
			      "  %zu entries of it REFUSED:\n", a->nrefused),
			a->nrefused);
		for (size_t i = 0; i < a->nrefused; i++)
			print_refused(f, &a->refused[i]);
	}
}

void cli_report_print(FILE *f, const struct report *rep)
{
	char at[32], h[65];

	utc_text(rep->at_ms, at);
	cli_hex(rep->network_id, 32, h);
	fprintf(f, _("Report made %s. All times are UTC.\n"), at);
	fprintf(f, _("Network id %s\n"), h);
	if (rep->has_root) {
		cli_hex(rep->root, 32, h);
		fprintf(f, _("Judged against the network's root key %s\n"), h);
	} else {
		fprintf(f, _("No root key is known: certificates were not judged\n"));
	}
	fprintf(f, _("%zu author%s\n"), rep->nauthors, cli_plural(rep->nauthors));
	for (size_t i = 0; i < rep->nauthors; i++)
		print_author(f, rep, &rep->authors[i]);
	if (rep->nerasures)
		fprintf(f, _("\nErasures (%zu):\n"), rep->nerasures);
	for (size_t i = 0; i < rep->nerasures; i++) {
		const struct report_erasure *e = &rep->erasures[i];
		char w[120], t[48];
		who(rep, e->author, w, sizeof(w));
		hlc_format(e->hlc, t);
		fprintf(f, _("  - %s erased %s/%s (scope %s and below) on %s (UTC), reason: \"%s\"\n"),
			w, e->collection, e->record_id, e->scope, t, e->reason);
		if (e->allowed)
			fprintf(f, P_("    allowed; it reaches %llu entry\n",
				      "    allowed; it reaches %llu entries\n",
				      e->reached),
				(unsigned long long)e->reached);
		else
			fprintf(f, _("    NOT allowed: %s\n"), cli_why(e->why));
	}
	if (rep->nmoves)
		fprintf(f, _("\nScope moves signed by the root (%zu): entries written under FROM are read under TO\n"),
			rep->nmoves);
	for (size_t i = 0; i < rep->nmoves; i++) {
		const struct report_move *m = &rep->moves[i];
		char t[32];
		cli_time_text(m->mv.at_ms, 0, t);
		fprintf(f, _("  - %s -> %s, signed %s, reason: \"%s\" (%s)\n"),
			m->mv.from, m->mv.to, t, m->mv.reason,
			cli_tr(scopemap_status_name(m->status)));
	}
	if (rep->nrefused_unknown) {
		fprintf(f, P_("\n%zu refused entry names no author (it does not decode):\n",
			      "\n%zu refused entries name no author (they do not decode):\n",
			      rep->nrefused_unknown),
			rep->nrefused_unknown);
		for (size_t i = 0; i < rep->nrefused_unknown; i++)
			print_refused(f, &rep->refused_unknown[i]);
	}
	if (rep->refused_over)
		fprintf(f, _("\n%llu more refused entries were counted but not kept (the table holds the first %d)\n"),
			(unsigned long long)rep->refused_over, REFUSED_MAX);
}
