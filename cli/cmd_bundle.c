/*
 * hamlet bundle create [--for SUMMARY] [--seal-to KEY | --unsealed]
 *                      [--scope PREFIX] OUT
 * hamlet bundle import FILE
 * hamlet bundle inspect FILE
 */
#include "cli.h"
#include "stop.h"
#include "i18n.h"
#include "progress.h"

#include "bundle.h"
#include "error.h"
#include "hlc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- reports ----------------------------------------------------------- */

static const char *trailer_word(int s)
{
	switch (s) {
	case BUNDLE_TRAILER_OK:
		return "ok";
	case BUNDLE_TRAILER_MISSING:
		return "missing";
	case BUNDLE_TRAILER_BAD_HASH:
		return "bad_hash";
	case BUNDLE_TRAILER_BAD_SIG:
		return "bad_signature";
	case BUNDLE_TRAILER_BAD_COUNT:
		return "bad_count";
	case BUNDLE_TRAILER_UNCHECKED:
		return "unchecked";
	default:
		return "unknown";
	}
}

int cli_bundle_check_failed(const struct bundle_report *rep)
{
	return rep->bad_entries || rep->damaged_frames ||
	       rep->trailer != BUNDLE_TRAILER_OK ||
	       problems_count(&rep->problems, "fork") > 0 || rep->future;
}

static int import_failed(const struct bundle_report *rep)
{
	return rep->damaged_frames || rep->stats.rejected || rep->stats.forks ||
	       rep->trailer != BUNDLE_TRAILER_OK;
}

/* key as n names it (cli_who), or in hex without n. */
static void key_label(struct store_txn *t, const uint8_t key[32],
		      char out[NAMES_LABEL_MAX])
{
	if (t)
		cli_who(t, key, out);
	else
		cli_hex(key, 32, out);
}

void cli_bundle_report_print(FILE *f, const char *path,
			     const struct bundle_report *rep, int import,
			     const uint8_t *net_id, const char *net_name,
			     struct store *st)
{
	char h[65], tm[48], who[NAMES_LABEL_MAX];
	const struct bundle_header *hd = &rep->header;
	struct store_txn *t = NULL;

	if (st && store_txn_begin(st, 1, &t) < 0)
		t = NULL; /* keys then, whole */

	fprintf(f, _("bundle %s\n"), path);
	if (rep->has_header) {
		cli_hex(hd->network_id, 32, h);
		fprintf(f, _("  network:    %s"), h);
		if (net_id)
			fprintf(f, memcmp(net_id, hd->network_id, 32) == 0
					   ? _(" (this node's network, %s)")
					   : _(" (NOT this node's network, %s)"),
				net_name);
		key_label(t, hd->creator, who);
		fprintf(f, _("\n  creator:    %s\n"), who);
		cli_hlc_text(hd->created_hlc, tm);
		fprintf(f, _("  created:    %s\n"), tm);
		fprintf(f, _("  scope:      %s\n"),
			hd->scope[0] ? hd->scope : _("(every scope)"));
		if (hd->has_for) {
			char sh[17];
			key_label(t, hd->for_node, who);
			cli_hex(hd->for_summary, 8, sh);
			fprintf(f, _("  for:        %s (summary %s...)\n"), who, sh);
		} else {
			fprintf(f, _("  for:        %s\n"),
				rep->sealed ? _("(not made from a summary)")
					    : _("anyone (not made from a summary)"));
		}
	} else {
		fprintf(f, _("  header:     MISSING or damaged\n"));
	}
	if (rep->sealed) {
		cli_hex(rep->sealed_to, 32, h);
		fprintf(f, _("  sealed:     yes, for node %s%s%s%s; %llu sealed frame%s opened\n"),
			h, rep->sealed_name[0] ? " (" : "", rep->sealed_name,
			rep->sealed_name[0] ? ")" : "",
			(unsigned long long)rep->sealed_frames,
			cli_plural(rep->sealed_frames));
	} else {
		fprintf(f, _("  sealed:     NO: anyone who holds this file can read it\n"));
	}
	{
		char b[32];
		i18n_count(rep->bytes, b);
		fprintf(f, _("  size:       %s bytes, %llu frame%s\n"), b,
			(unsigned long long)rep->frames,
			cli_plural(rep->frames));
	}
	if (import) {
		const struct log_stats *s = &rep->stats;
		fprintf(f, _("  entries:    %llu\n"), (unsigned long long)rep->entries);
		fprintf(f, _("  applied:    %llu\n"), (unsigned long long)s->applied);
		fprintf(f, _("  duplicate:  %llu (this node had them already)\n"),
			(unsigned long long)s->duplicate);
		if (s->bodies_filled)
			fprintf(f, _("  of them:    %llu brought the body this node had stored them without (their records are whole again)\n"),
				(unsigned long long)s->bodies_filled);
		if (s->held)
			fprintf(f, _("  held:       %llu (waiting for an earlier entry of their feed, or for their author's certificate: each is named below)\n"),
				(unsigned long long)s->held);
		else
			fprintf(f, _("  held:       %llu\n"), 0ULL);
		if (rep->ahead && rep->damaged_frames)
			/* the entries before them may be in this file's
			 * damaged part: no earlier bundle brings those */
			fprintf(f, _("  ahead:      %llu (sound, but too far ahead of what this node holds of their feed to wait here: not stored; the entries before them may be in the damaged part of this file: import a sound copy of it)\n"),
				(unsigned long long)rep->ahead);
		else if (rep->ahead)
			fprintf(f, _("  ahead:      %llu (sound, but too far ahead of what this node holds of their feed to wait here: not stored; import the earlier bundle first, then this file again)\n"),
				(unsigned long long)rep->ahead);
		if (s->released)
			fprintf(f, _("  released:   %llu (held here before, stored now that the entries before them came: of this file, or of a bundle or sync before it)\n"),
				(unsigned long long)s->released);
		fprintf(f, _("  fork:       %llu\n"), (unsigned long long)s->forks);
		fprintf(f, _("  rejected:   %llu\n"), (unsigned long long)s->rejected);
		if (rep->outside)
			fprintf(f, _("  not ours:   %llu (of scopes this node does not read: not stored, as they should not be)\n"),
				(unsigned long long)rep->outside);
		if (rep->trust_added)
			fprintf(f, _("  trust:      %llu new (certificates, revocations, fork proofs, scope moves), of %llu the file carries\n"),
				(unsigned long long)rep->trust_added,
				(unsigned long long)rep->trust_items);
		if (s->taken_out)
			fprintf(f, P_("  taken out:  %llu entry this node held, written by a revoked key after its revocation's cut-off: its record shows again what it showed without it; kept as refused (hamlet verify --report lists it)\n",
				      "  taken out:  %llu entries this node held, written by a revoked key after its revocation's cut-off: their records show again what they showed without them; kept as refused (hamlet verify --report lists them)\n",
				      s->taken_out),
				(unsigned long long)s->taken_out);
	} else {
		fprintf(f,
			_("  entries:    %llu (%llu put%s, %llu delete%s, %llu erasure%s, %llu other%s) in %llu feed%s\n"),
			(unsigned long long)rep->entries,
			(unsigned long long)rep->puts, cli_plural(rep->puts),
			(unsigned long long)rep->deletes,
			cli_plural(rep->deletes),
			(unsigned long long)rep->erasures,
			cli_plural(rep->erasures),
			(unsigned long long)rep->others,
			cli_plural(rep->others), (unsigned long long)rep->feeds,
			cli_plural(rep->feeds));
		if (rep->fork_evidence)
			fprintf(f, _("  forks:      %llu (a second entry at a seq: evidence, kept apart)\n"),
				(unsigned long long)rep->fork_evidence);
		fprintf(f, _("  bad:        %llu entr%s\n"),
			(unsigned long long)rep->bad_entries,
			rep->bad_entries == 1 ? "y" : "ies");
		if (rep->future)
			fprintf(f, _("  future:     %llu (dated more than 24 h ahead of this machine's clock: sound, but an import refuses them until then)\n"),
				(unsigned long long)rep->future);
		if (rep->duplicates)
			fprintf(f, _("  repeated:   %llu (the same entry again: harmless)\n"),
				(unsigned long long)rep->duplicates);
		if (rep->gaps)
			fprintf(f, _("  missing:    %llu (seqs between entries of a feed it carries)\n"),
				(unsigned long long)rep->gaps);
		if (rep->feeds_later) {
			char first[ENTRY_MAX_SCOPE + 96];
			snprintf(first, sizeof(first),
				 _("feed %s by %s…: from seq %llu"),
				 rep->later_scope, rep->later_author,
				 (unsigned long long)rep->later_seq);
			fprintf(f,
				P_("  starts:     %llu feed begins past its seq 1 (%s): the entries before are not in this file, as in a bundle made for a node that holds them; verify --report says whether any wait for them\n",
				   "  starts:     %llu feeds begin past their seq 1 (the first: %s): the entries before are not in this file, as in a bundle made for a node that holds them; verify --report says whether any wait for them\n",
				   rep->feeds_later),
				(unsigned long long)rep->feeds_later, first);
		}
		fprintf(f, _("  bodies:     %llu (%llu missing: erased, or left out by its creator)\n"),
			(unsigned long long)rep->bodies,
			(unsigned long long)rep->bodies_missing);
		if (rep->bodies_erased)
			fprintf(f, _("  erased:     %llu bodies sent again with the erasure that erased them\n"),
				(unsigned long long)rep->bodies_erased);
	}
	fprintf(f, _("  damaged:    %llu frame%s\n"),
		(unsigned long long)rep->damaged_frames,
		cli_plural(rep->damaged_frames));
	if (rep->trailer == BUNDLE_TRAILER_OK)
		fprintf(f, _("  trailer:    ok, signed by the creator over %llu entr%s\n"),
			(unsigned long long)rep->trailer_count,
			rep->trailer_count == 1 ? "y" : "ies");
	else if (rep->trailer == BUNDLE_TRAILER_MISSING && rep->sealed &&
		 rep->damaged_frames)
		/* a sealed frame that does not open may be the last one:
		 * the file may be whole, and damaged at its end */
		fprintf(f, _("  trailer:    none read: the file is cut short, or its last sealed frame is damaged\n"));
	else
		fprintf(f, _("  trailer:    %s\n"),
			_(bundle_trailer_state_text(rep->trailer)));
	cli_problems_print(f, &rep->problems);
	store_txn_abort(t);
}

json_t *cli_bundle_report_json(const char *path,
			       const struct bundle_report *rep, int import)
{
	json_t *j = json_object(), *probs = json_array();
	char h[65], tm[48];

	json_object_set_new(j, "file", json_string(path));
	if (rep->has_header) {
		const struct bundle_header *hd = &rep->header;
		json_t *hj = json_object();
		cli_hex(hd->network_id, 32, h);
		json_object_set_new(hj, "network", json_string(h));
		cli_hex(hd->creator, 32, h);
		json_object_set_new(hj, "creator", json_string(h));
		hlc_format(hd->created_hlc, tm);
		json_object_set_new(hj, "created", json_string(tm));
		json_object_set_new(hj, "created_hlc",
				    json_integer((json_int_t)hd->created_hlc));
		json_object_set_new(hj, "scope", json_string(hd->scope));
		if (hd->has_for) {
			cli_hex(hd->for_node, 32, h);
			json_object_set_new(hj, "for_node", json_string(h));
			cli_hex(hd->for_summary, 32, h);
			json_object_set_new(hj, "for_summary", json_string(h));
		} else {
			json_object_set_new(hj, "for_node", json_null());
			json_object_set_new(hj, "for_summary", json_null());
		}
		json_object_set_new(j, "header", hj);
	} else {
		json_object_set_new(j, "header", json_null());
	}
	json_object_set_new(j, "sealed", json_boolean(rep->sealed));
	if (rep->sealed) {
		cli_hex(rep->sealed_to, 32, h);
		json_object_set_new(j, "sealed_to", json_string(h));
		json_object_set_new(j, "sealed_to_name",
				    rep->sealed_name[0]
					    ? json_string(rep->sealed_name)
					    : json_null());
		json_object_set_new(j, "sealed_frames",
				    json_integer((json_int_t)rep->sealed_frames));
	} else {
		json_object_set_new(j, "sealed_to", json_null());
	}
	json_object_set_new(j, "bytes", json_integer((json_int_t)rep->bytes));
	json_object_set_new(j, "frames", json_integer((json_int_t)rep->frames));
	json_object_set_new(j, "entries",
			    json_integer((json_int_t)rep->entries));
	json_object_set_new(j, "damaged_frames",
			    json_integer((json_int_t)rep->damaged_frames));
	if (import) {
		const struct log_stats *s = &rep->stats;
		json_t *sj = json_object();
		json_object_set_new(sj, "applied",
				    json_integer((json_int_t)s->applied));
		json_object_set_new(sj, "duplicate",
				    json_integer((json_int_t)s->duplicate));
		json_object_set_new(sj, "bodies_filled",
				    json_integer((json_int_t)s->bodies_filled));
		json_object_set_new(sj, "held", json_integer((json_int_t)s->held));
		json_object_set_new(sj, "released",
				    json_integer((json_int_t)s->released));
		json_object_set_new(sj, "fork", json_integer((json_int_t)s->forks));
		json_object_set_new(sj, "rejected",
				    json_integer((json_int_t)s->rejected));
		json_object_set_new(sj, "ahead",
				    json_integer((json_int_t)rep->ahead));
		json_object_set_new(sj, "outside_scope",
				    json_integer((json_int_t)rep->outside));
		json_object_set_new(sj, "trust_new",
				    json_integer((json_int_t)rep->trust_added));
		json_object_set_new(sj, "taken_out",
				    json_integer((json_int_t)s->taken_out));
		json_object_set_new(j, "imported", sj);
	} else {
		json_object_set_new(j, "feeds",
				    json_integer((json_int_t)rep->feeds));
		json_object_set_new(j, "puts", json_integer((json_int_t)rep->puts));
		json_object_set_new(j, "deletes",
				    json_integer((json_int_t)rep->deletes));
		json_object_set_new(j, "others",
				    json_integer((json_int_t)rep->others));
		json_object_set_new(j, "erasures",
				    json_integer((json_int_t)rep->erasures));
		json_object_set_new(j, "fork_evidence",
				    json_integer((json_int_t)rep->fork_evidence));
		json_object_set_new(j, "bad_entries",
				    json_integer((json_int_t)rep->bad_entries));
		json_object_set_new(j, "future",
				    json_integer((json_int_t)rep->future));
		json_object_set_new(j, "duplicates",
				    json_integer((json_int_t)rep->duplicates));
		json_object_set_new(j, "gaps",
				    json_integer((json_int_t)rep->gaps));
		json_object_set_new(j, "feeds_starting_later",
				    json_integer((json_int_t)rep->feeds_later));
		json_object_set_new(j, "bodies",
				    json_integer((json_int_t)rep->bodies));
		json_object_set_new(j, "bodies_missing",
				    json_integer((json_int_t)rep->bodies_missing));
		json_object_set_new(j, "bodies_erased_sent",
				    json_integer((json_int_t)rep->bodies_erased));
	}
	json_object_set_new(j, "trailer",
			    json_string(trailer_word(rep->trailer)));
	json_object_set_new(j, "trailer_count",
			    json_integer((json_int_t)rep->trailer_count));
	for (size_t i = 0; i < rep->problems.n; i++) {
		json_t *p = json_object();
		json_object_set_new(p, "kind",
				    json_string(rep->problems.v[i].kind));
		json_object_set_new(p, "text",
				    json_string(rep->problems.v[i].text));
		json_array_append_new(probs, p);
	}
	json_object_set_new(j, "problems", probs);
	json_object_set_new(j, "problems_total",
			    json_integer((json_int_t)rep->problems.total));
	json_object_set_new(
		j, "ok",
		json_boolean(import ? !import_failed(rep) && !rep->ahead
				    : !cli_bundle_check_failed(rep)));
	return j;
}

/* --- subcommands ------------------------------------------------------- */

/* "sealed for node HEX (NAME)" or "NOT sealed ...", for create's output */
static void sealed_line(const struct bundle_create_result *res)
{
	char h[65];
	const char *name = res->sealed_name;

	if (!res->sealed) {
		printf(_("NOT sealed: anyone who holds the file can read it (for public, non-personal data only)\n"));
		return;
	}
	cli_hex(res->sealed_to, 32, h);
	printf(_("sealed for node %s%s%s%s: only that node can read it\n"), h,
	       name[0] ? " (" : "", name, name[0] ? ")" : "");
}

/*
 * The summary holds more of this node's own feeds, or other entries of
 * them, than its store does (res->own): say so, and what to do. Each
 * feed it holds more of is recorded in own-feeds, so that a write there
 * waits (exit 7) as after a store lost, until a bundle from the
 * recipient brings those entries: not while hamletd runs (its own table
 * is the one its writer asks; it learns nothing from a summary), nor
 * when the node cannot be opened to write. n is closed first: a process
 * opens the store once at a time.
 */
static void own_feeds_say(struct node **n, const struct bundle_create_result *res)
{
	struct log_advance a[BUNDLE_OWN_SHOWN];
	struct log_advances adv = { a, 0, BUNDLE_OWN_SHOWN };
	const char *who = res->sealed_name[0] ? res->sealed_name
					      : _("the summary's node");
	size_t shown = res->own_n < BUNDLE_OWN_SHOWN ? res->own_n
						     : BUNDLE_OWN_SHOWN;
	char why[1024];
	int ahead = 0;

	for (size_t i = 0; i < shown; i++) {
		const struct bundle_own_feed *o = &res->own[i];
		if (o->forked) {
			cli_err(_("FORK: %s and this node now hold different entries at seq %llu of this node's own feed %s, a fork of that feed (a store put back from a backup and written to since, or this node's key copied to another machine). Call the administrator before anything more is written here"),
				who, (unsigned long long)o->theirs, o->scope);
			continue;
		}
		ahead = 1;
		cli_err(_("this node's store lacks entries of its own feed %s that %s holds (up to seq %llu there, up to seq %llu here): was it put back from a backup?"),
			o->scope, who, (unsigned long long)o->theirs,
			(unsigned long long)o->stored);
	}
	if (res->own_n > shown)
		cli_err(P_("and %zu more feed of this node's, the same way",
			   "and %zu more feeds of this node's, the same way",
			   res->own_n - shown),
			res->own_n - shown);
	if (!ahead)
		return;
	cli_err(_("import a bundle from %s first (hamlet summary here, carried there, hamlet bundle create --for it there, hamlet bundle import here), and write nothing here meanwhile: a write would take a seq %s holds already, a fork of this node's feed. If anything was written here since the store was put back, that import shows a fork: then call the administrator"),
		who, who);
	if (cli_daemon_up() != 0)
		return;
	node_close(*n);
	*n = NULL;
	cli_global.node = NULL;
	if (node_open(cli_home(), 0, n, why, sizeof(why)) < 0) {
		*n = NULL;
		return; /* not this user's to write, say: the words above stand */
	}
	for (size_t i = 0; i < shown; i++) {
		const struct bundle_own_feed *o = &res->own[i];
		if (o->forked)
			continue;
		log_feed_key((*n)->pk, o->scope, a[adv.n].key);
		a[adv.n].seq = o->theirs;
		snprintf(a[adv.n].scope, sizeof(a[adv.n].scope), "%s", o->scope);
		adv.n++;
	}
	/* node_feeds_advance() raises the seqs this node signed, as after
	 * a write: the summary's node holds them signed by this key */
	if (node_feeds_advance(*n, &adv, why, sizeof(why)) < 0) {
		cli_err(_("cannot record that in %s/%s: %s"), (*n)->home,
			NODE_FEEDS_FILE, why);
		return;
	}
	for (size_t i = 0; i < adv.n; i++)
		cli_err(_("%s/%s now records seq %llu in feed %s: writes there wait (exit 7) until that bundle is imported"),
			(*n)->home, NODE_FEEDS_FILE,
			(unsigned long long)a[i].seq, a[i].scope);
}

/*
 * A bundle of no entry: the certificates and revocations it carries
 * still teach the recipient what it lacks of them (a new node's name, a
 * revoked key), so "nothing to send" only when its summary says it holds
 * them all. in: " in that scope", or "".
 */
static void nothing_to_send(const struct bundle_create_result *res,
			    int for_summary, const char *in)
{
	if (!for_summary)
		printf(_("this node holds no entries%s yet: the file carries only the network's certificates and revocations (%llu)\n"),
		       in, (unsigned long long)res->trust_items);
	else if (res->trust_new)
		printf(_("no entries to send: the recipient holds every one%s already. The file carries only certificates and revocations, %llu of them new to the recipient: carry it all the same, so that it learns them (a new node's name, a revoked key)\n"),
		       in, (unsigned long long)res->trust_new);
	else
		printf(_("nothing to send: the recipient holds everything%s already\n"),
		       in);
	if (for_summary && res->for_self)
		printf(_("note: that summary was made with this node's own key: if it is this node's own summary, the one to use is the summary made at the node the bundle is for\n"));
}

/* Why the recipient gets no entry (res->nothing_readable): what it
 * reads, when its certificate is known, and that none of the feeds held
 * here (under scope) is there. */
static void unreadable_say(const struct bundle_create_result *res,
			   const char *scope, char *out, size_t cap)
{
	const char *who = res->sealed_name[0] ? res->sealed_name
					      : _("the recipient");
	const char *under = scope && scope[0] ? _(" under scope ") : "";
	unsigned long long nf = (unsigned long long)res->feeds_left_out;

	if (res->reads[0] && scope && scope[0])
		/* it may read feeds held here outside the scope asked */
		snprintf(out, cap,
			 P_("%s reads %s, and the %llu feed this node holds under scope %s is not there (give --scope with what it reads)",
			    "%s reads %s, and none of the %llu feeds this node holds under scope %s is there (give --scope with what it reads)",
			    nf),
			 who, res->reads, nf, scope);
	else if (res->reads[0])
		snprintf(out, cap,
			 P_("%s reads %s, and this node holds none there (its %llu feed is of another scope)",
			    "%s reads %s, and this node holds none there (its %llu feeds are of other scopes)",
			    nf),
			 who, res->reads, nf);
	else
		snprintf(out, cap,
			 P_("%s may read none of the %llu feed this node holds%s%s (its certificate's read scopes)",
			    "%s may read none of the %llu feeds this node holds%s%s (its certificate's read scopes)",
			    nf),
			 who, nf, under, scope && scope[0] ? scope : "");
}

static int bundle_create_run(const char *out, const char *forsum,
			     const char *scope, const char *seal_hex,
			     int unsealed)
{
	struct node *n = NULL;
	uint8_t seal_to[32];
	struct bundle_create_opts o = { scope, forsum,
					seal_hex ? seal_to : NULL, unsealed,
					progress_cb, NULL, NULL, NULL };
	struct bundle_create_result res = { 0 };
	int health = 0; /* health records the bundle carries, when logged */
	struct cli_carried carried = { 0 };
	int log_reads;
	char why[512] = "";
	int r;

	if (seal_hex && unsealed)
		return cli_usage_err("bundle",
				     _("create: --seal-to and --unsealed contradict each other; choose one"));
	if (seal_hex && (strlen(seal_hex) != 64 ||
			 hex_decode(seal_hex, seal_to, 32) < 0))
		return cli_usage_err("bundle",
				     _("create: --seal-to wants a node's public key, 64 hex digits (public_key in that node's node.conf), not \"%s\""),
				     seal_hex);
	if (!forsum && !seal_hex && !unsealed)
		return cli_usage_err("bundle",
				     _("create: say whom the bundle is for. --for SUMMARY or --seal-to KEY seals it to that node, so that a lost stick exposes nothing; --unsealed writes it readable by anyone who finds it (public, non-personal data only)"));
	if (scope && scope[0] && (r = cli_check_scope(scope, _("scope prefix"))) < 0)
		return r;
	if ((r = cli_part_out("bundle", out)) < 0 ||
	    (forsum && (r = cli_part_refuse(forsum)) < 0))
		return r;
	if ((r = cli_node_open(1, &n, NULL)) < 0)
		return r;
	/* a file anyone can read: the health data in it is read out, and
	 * logged, as an export is; so is one sealed to a key given by hand
	 * (an auditor's, say: the data goes to whoever holds it). A bundle
	 * --for a node's summary goes to that node, to be stored, and its
	 * reads are logged there. Not when the name is refused below, and
	 * nothing is written. What is logged is what the file carries:
	 * records of the recipient's scope it lacks, once the file is
	 * written (it is removed when the log cannot be written) */
	log_reads = (unsealed || seal_hex) && bundle_file_replaceable(out) == 0;
	if (log_reads) {
		o.carried = cli_carried_note;
		o.carried_ctx = &carried;
	}
	o.progress_ctx = progress_new(_("writing the bundle"), _("entries"), 0);
	r = bundle_create(n, out, &o, &res, why, sizeof(why));
	progress_end(o.progress_ctx);
	if (r < 0) {
		if (r == HAMLET_EKEY)
			cli_err(_("%s: run it on the node itself, where its node.key is"),
				why);
		else
			cli_err(_("cannot create the bundle %s: %s"), out,
				why[0] ? why : cli_strerror(r));
		cli_full_note(r, out);
		if (r == -EISDIR || r == -ENODEV)
			r = -EINVAL; /* the path given is wrong, not the system */
		goto out;
	}
	if (log_reads) {
		char q[4400];
		if (seal_hex)
			snprintf(q, sizeof(q), "bundle sealed to %.16s… %s%s%s",
				 seal_hex, out,
				 scope && scope[0] ? ", scope " : "",
				 scope && scope[0] ? scope : "");
		else
			snprintf(q, sizeof(q), "unsealed bundle %s%s%s", out,
				 scope && scope[0] ? ", scope " : "",
				 scope && scope[0] ? scope : "");
		if ((health = cli_carried_log(&carried, "bundle create", q)) <
		    0) {
			r = health;
			health = 0;
			unlink(out);
			cli_err(_("%s was removed: it carried health data whose read could not be logged"),
				out);
			goto out;
		}
	}
	if (cli_global.json) {
		json_t *j = json_object();
		json_object_set_new(j, "file", json_string(out));
		json_object_set_new(j, "feeds", json_integer((json_int_t)res.feeds));
		json_object_set_new(j, "entries",
				    json_integer((json_int_t)res.entries));
		json_object_set_new(j, "bytes", json_integer((json_int_t)res.bytes));
		json_object_set_new(j, "body_bytes",
				    json_integer((json_int_t)res.body_bytes));
		json_object_set_new(j, "sealed", json_boolean(res.sealed));
		json_object_set_new(j, "scope_matched",
				    json_boolean(!res.scope_empty));
		json_object_set_new(j, "feeds_left_out",
				    json_integer((json_int_t)res.feeds_left_out));
		json_object_set_new(j, "nothing_readable",
				    json_boolean(res.nothing_readable));
		json_object_set_new(j, "recipient_unknown",
				    json_boolean(res.recipient_unknown));
		json_object_set_new(j, "trust_items",
				    json_integer((json_int_t)res.trust_items));
		json_object_set_new(j, "trust_items_new",
				    res.trust_unknown
					    ? json_null()
					    : json_integer((json_int_t)res.trust_new));
		{
			json_t *a = json_array();
			for (size_t i = 0;
			     i < res.own_n && i < BUNDLE_OWN_SHOWN; i++)
				json_array_append_new(
					a, json_pack("{s:s, s:I, s:I, s:b}",
						     "scope", res.own[i].scope,
						     "stored",
						     (json_int_t)res.own[i].stored,
						     "theirs",
						     (json_int_t)res.own[i].theirs,
						     "forked", res.own[i].forked));
			json_object_set_new(j, "own_feeds_behind", a);
			json_object_set_new(j, "own_feeds_behind_total",
					    json_integer((json_int_t)res.own_n));
		}
		if (res.sealed) {
			char h[65];
			cli_hex(res.sealed_to, 32, h);
			json_object_set_new(j, "sealed_to", json_string(h));
			json_object_set_new(j, "sealed_to_name",
					    res.sealed_name[0]
						    ? json_string(res.sealed_name)
						    : json_null());
		} else {
			json_object_set_new(j, "sealed_to", json_null());
		}
		cli_json_print(j);
	} else {
		char size[32];
		i18n_size(res.bytes, size);
		printf(_("wrote %s: %llu entr%s from %llu feed%s, %s\n"),
		       out, (unsigned long long)res.entries,
		       res.entries == 1 ? "y" : "ies",
		       (unsigned long long)res.feeds, cli_plural(res.feeds),
		       size);
		sealed_line(&res);
		if (res.feeds_left_out)
			printf(_("left out %llu feed%s that %s may not read (its certificate's read scopes)\n"),
			       (unsigned long long)res.feeds_left_out,
			       cli_plural(res.feeds_left_out),
			       res.sealed_name[0] ? res.sealed_name
						  : _("the recipient"));
		/* (all left out: said below; the recipient's holdings are
		 * not what kept them out) */
		if (res.entries == 0 && !res.scope_empty &&
		    !res.nothing_readable && !res.own_n)
			nothing_to_send(&res, forsum != NULL,
					scope && scope[0] ? _(" in that scope")
							  : "");
	}
	if (health > 0 && r >= 0 && unsealed && !forsum)
		cli_err(_("WARNING: this bundle is not sealed and carries the health data of %d record%s: whoever finds the file reads them. Make it with --for SUMMARY or --seal-to KEY instead, unless it goes no further than this office"),
			health, cli_plural((uint64_t)health));
	else if (health > 0 && r >= 0 && unsealed)
		cli_err(_("WARNING: this bundle is not sealed and carries the health data of %d record%s: whoever finds the file reads them. Leave out --unsealed, and --for seals it to the summary's node, unless it goes no further than this office"),
			health, cli_plural((uint64_t)health));
	if (res.recipient_unknown)
		cli_err(_("note: no certificate of the node sealed to is known here, so nothing was left out for it: whoever holds its key reads every entry in the bundle; give --scope with only what it may read"));
	if (res.scope_empty && res.held[0])
		cli_err(_("note: this node holds nothing under scope %s (it holds %s): the bundle carries the network's certificates only; check the scope"),
			scope, res.held);
	else if (res.scope_empty)
		cli_err(_("note: this node holds nothing under scope %s (it holds no entries yet): the bundle carries the network's certificates only"),
			scope);
	r = 0;
	if (res.nothing_readable && forsum && cli_global.json) {
		/* --json says nothing_readable; the exit is as without */
	} else if (res.nothing_readable && forsum) {
		/* a node with nothing here for it (a new village, most
		 * often): what it reads, and what the file is still worth;
		 * exit 0, as when it holds everything already */
		char what[768];
		unreadable_say(&res, scope, what, sizeof(what));
		printf(_("no entries to send: %s. "), what);
		if (res.trust_new)
			printf(_("The file carries only certificates and revocations, %llu of them new to the recipient: carry it all the same, so that it learns them (a new node's name, a revoked key)\n"),
			       (unsigned long long)res.trust_new);
		else
			printf(_("The recipient holds every certificate and revocation already: the stick can stay home\n"));
	} else if (res.nothing_readable) {
		/* sealed to a key, with no summary: the file is a good
		 * bundle of the trust set, and stays; but no record the
		 * operator meant to carry is in it, which a script must not
		 * take for success (exit 1) */
		char what[768];
		unreadable_say(&res, scope, what, sizeof(what));
		cli_err(_("nothing to send: %s, so the bundle carries the network's certificates only"),
			what);
		r = CLI_EPROBLEMS;
	}
	if (res.own_n) {
		/* the file is sound, but the recipient holds what this node
		 * lacks of its own: a script must not take that for success
		 * (exit 1) */
		own_feeds_say(&n, &res);
		r = CLI_EPROBLEMS;
	}
out:
	cli_carried_free(&carried);
	node_close(n);
	return r;
}

static int bundle_import_run(const char *path)
{
	struct node *n = NULL;
	struct bundle_report rep;
	struct cli_ingest ci = { 0 };
	struct progress *prog;
	struct stop stop = { .blocked = 0 };
	char why[512] = "";
	int r;

	memset(&rep, 0, sizeof(rep));
	if ((r = cli_part_refuse(path)) < 0)
		return r;
	if ((r = cli_node_open(0, &n, &ci.daemon)) < 0)
		return r;
	/* this process reads the file (the daemon may not see its path);
	 * hamletd, when it runs, stores what it holds */
	ci.n = n;
	ci.bundle = path;
	ci.stop = &stop;
	prog = progress_new(_("importing"), NULL, 0);
	stop_begin(&stop);
	r = bundle_import_progress(n, path, cli_ingest, cli_trust, &ci,
				   progress_cb, prog, &rep, why, sizeof(why));
	progress_end(prog);
	if (r == -EINTR) {
		/* Ctrl-C: the batch under way was stored, no other */
		if (rep.stats.applied)
			cli_err(_("interrupted: %llu entries of %s were stored before it stopped (nothing is half stored). Importing the file again is safe: what is stored already is skipped"),
				(unsigned long long)rep.stats.applied, path);
		else
			cli_err(_("interrupted: nothing of %s was stored"),
				path);
		r = CLI_EPROBLEMS;
		goto out;
	}
	if (r < 0) {
		if (r == HAMLET_ENETWORK) {
			char a[65], b[65];
			cli_hex(rep.header.network_id, 32, a);
			cli_hex(n->net.id, 32, b);
			cli_err(_("bundle %s is for network %s, this node is on %s (%s); nothing imported: import it on a node of that network"),
				path, a, n->net.name, b);
		} else if (r == HAMLET_EDISKFULL) {
			cli_err(_("cannot import %s: %s"), path,
				why[0] ? why : cli_strerror(r));
			cli_err(_("%llu entries of it were stored before the disk filled (nothing is half stored). Free space on the disk that holds %s (\"df -h\" shows it), then import the bundle again: what is stored already is skipped"),
				(unsigned long long)rep.stats.applied,
				cli_home());
		} else if (rep.sealed || r == HAMLET_EKEY) {
			cli_err("%s", why[0] ? why : cli_strerror(r));
		} else {
			cli_err(_("cannot import %s: %s"), path,
				why[0] ? why : cli_strerror(r));
			cli_path_note(path, r);
		}
		goto out;
	}
	if (cli_global.json)
		cli_json_print(cli_bundle_report_json(path, &rep, 1));
	else
		cli_bundle_report_print(stdout, path, &rep, 1, n->net.id,
					n->net.name, n->st);
	if (!cli_global.json && ci.via_daemon &&
	    rep.stats.applied + rep.stats.released > 0)
		printf(_("stored through hamletd, which sends the new entries to its peers\n"));
	if (import_failed(&rep) && !cli_global.json) {
		if (rep.trailer == BUNDLE_TRAILER_MISSING && !rep.entries &&
		    !rep.damaged_frames)
			/* cut before any entry: nothing verified to speak of */
			printf(_("the file is cut short before any entry it was to carry: nothing imported; copy it again from its sender\n"));
		else if (rep.trailer == BUNDLE_TRAILER_MISSING &&
			 !rep.damaged_frames && !rep.stats.rejected &&
			 !rep.stats.forks && !rep.stats.held)
			printf(_("the file is cut short: the entries that came before the cut verified and were imported; copy it again from its sender for the rest\n"));
		else if (!rep.damaged_frames && !rep.stats.rejected &&
			 !rep.stats.forks && !rep.stats.held)
			/* the file fails as a whole (its trailer), yet every
			 * entry it carries is stored */
			printf(_("every entry the file carries verified and was imported, but the file as a whole does not check (see the problems above): if its sender holds more, make a new copy there\n"));
		else if (!rep.entries && rep.trust_added)
			/* its certificates and revocations read, and the
			 * new ones are kept: they are sound on their own */
			printf(P_("no entry of the file could be read, and none was imported; the %llu new certificate or revocation before them was (see the problems above): copy the file again from its sender\n",
				  "no entry of the file could be read, and none was imported; the %llu new certificates and revocations before them were (see the problems above): copy the file again from its sender\n",
				  rep.trust_added),
			       (unsigned long long)rep.trust_added);
		else if (!rep.entries)
			/* damaged or cut where its entries were: none read */
			printf(_("no entry of the file could be read: nothing of it was imported (see the problems above); copy it again from its sender\n"));
		else
			printf(_("what verified was imported; the rest was not (see the problems above)\n"));
	}
	if (rep.ahead && rep.damaged_frames && !cli_global.json)
		printf(P_("%llu sound entry came too far ahead of what this node holds of its feed and was not stored; this file is damaged (see the problems above), and the entries before it may be in its damaged part: copy the file again from its sender and import the sound copy (or, if an earlier bundle is still to come, import that first, then this file again)\n",
			  "%llu sound entries came too far ahead of what this node holds of their feed and were not stored; this file is damaged (see the problems above), and the entries before them may be in its damaged part: copy the file again from its sender and import the sound copy (or, if an earlier bundle is still to come, import that first, then this file again)\n",
			  rep.ahead),
		       (unsigned long long)rep.ahead);
	else if (rep.stats.held && rep.damaged_frames && !cli_global.json)
		/* the entries they wait for were most likely in the damaged
		 * frames: the held reasons' "an earlier stick, or a sync"
		 * is not where they are */
		printf(P_("%llu entry is held, waiting for the entries before it; this file is damaged (see the problems above), and those entries were most likely in its damaged part: copy the file again from its sender and import the sound copy\n",
			  "%llu entries are held, waiting for the entries before them; this file is damaged (see the problems above), and those entries were most likely in its damaged part: copy the file again from its sender and import the sound copy\n",
			  rep.stats.held),
		       (unsigned long long)rep.stats.held);
	else if (rep.ahead && !cli_global.json)
		printf(P_("%llu sound entry came too far ahead of what this node holds of its feed and was not stored: import the earlier bundle first (or let a sync bring the entries before it), then this file again\n",
			  "%llu sound entries came too far ahead of what this node holds of their feed and were not stored: import the earlier bundle first (or let a sync bring the entries before them), then this file again\n",
			  rep.ahead),
		       (unsigned long long)rep.ahead);
	/* a sound file imported too early is no damaged one (exit 1):
	 * exit 7, to be done again later */
	r = import_failed(&rep) ? CLI_EPROBLEMS : rep.ahead ? CLI_ELATER : 0;
	if (r == 0 && stop_asked(&stop))
		/* it came during the last batch: that one was stored */
		cli_err(_("interrupted after the last entries were stored: the whole file is imported"));
out:
	/* a signal that came is delivered now: its default ends this
	 * process, as Ctrl-C would have without the wait */
	stop_end(&stop);
	bundle_report_close(&rep);
	node_close(n);
	return r;
}

static int bundle_inspect_run(const char *path)
{
	struct bundle_report rep;
	struct node *n = NULL;
	char why[512] = "";
	int r;

	if ((r = cli_part_refuse(path)) < 0)
		return r;
	/* inspect needs no node; when there is one, say whether the bundle
	 * belongs to its network */
	if (node_open(cli_home(), 1, &n, why, sizeof(why)) < 0)
		n = NULL;
	memset(&rep, 0, sizeof(rep));
	why[0] = 0;
	/* a bundle sealed to this node opens with its key */
	if ((r = bundle_check_key(path, NULL, n, &rep, why,
				  sizeof(why))) < 0) {
		if (rep.sealed)
			cli_err("%s", why);
		else
			cli_err(_("cannot read %s: %s"), path,
				why[0] ? why : cli_strerror(r));
		goto out;
	}
	if (cli_global.json)
		cli_json_print(cli_bundle_report_json(path, &rep, 0));
	else
		cli_bundle_report_print(stdout, path, &rep, 0,
					n ? n->net.id : NULL,
					n ? n->net.name : NULL,
					n ? n->st : NULL);
	r = cli_bundle_check_failed(&rep) ? CLI_EPROBLEMS : 0;
out:
	bundle_report_close(&rep);
	node_close(n);
	return r;
}

int cmd_bundle(int argc, char **argv)
{
	const char *forsum = NULL, *scope = NULL, *seal_to = NULL;
	char *pos[2];
	int npos, r, unsealed = 0;
	const struct cli_opt opts[] = {
		{ "--for", &forsum, NULL },
		{ "--scope", &scope, NULL },
		{ "--seal-to", &seal_to, NULL },
		{ "--unsealed", NULL, &unsealed },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("bundle", argc, argv, opts, pos, 2, &npos)) < 0)
		return cli_exit_code(r);
	if (npos == 0)
		return cli_exit_code(cli_usage_err(
			"bundle", _("missing subcommand: create, import or inspect")));
	if (strcmp(pos[0], "create") == 0) {
		if (npos < 2)
			return cli_exit_code(cli_usage_err(
				"bundle", _("create: missing OUT, the bundle file to write")));
		return cli_exit_code(bundle_create_run(pos[1], forsum, scope,
						       seal_to, unsealed));
	}
	if (forsum || scope || seal_to || unsealed)
		return cli_exit_code(cli_usage_err(
			"bundle",
			_("--for, --scope, --seal-to and --unsealed belong to \"bundle create\"")));
	if (strcmp(pos[0], "import") == 0 || strcmp(pos[0], "inspect") == 0) {
		if (npos < 2)
			return cli_exit_code(cli_usage_err(
				"bundle", _("%s: missing FILE, the bundle to read"),
				pos[0]));
		if (strcmp(pos[0], "import") == 0)
			return cli_exit_code(bundle_import_run(pos[1]));
		return cli_exit_code(bundle_inspect_run(pos[1]));
	}
	return cli_exit_code(cli_usage_err(
		"bundle",
		_("unknown subcommand \"%s\"; use create, import or inspect"),
		pos[0]));
}
