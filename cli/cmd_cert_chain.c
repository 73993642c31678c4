/*
 * hamlet cert install, list and show: a certificate chain installed as
 * this node's, the node's chain listed, a chain file shown (and checked
 * against a network file), as text or JSON. cmd_cert.c dispatches to
 * them.
 */
#include "cli.h"
#include "cmd_cert_internal.h"
#include "scopemap.h"

#include "cert.h"
#include "entry.h"
#include "error.h"
#include "hlc.h"
#include "trust.h"
#include "trustset.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* After an install: say so when the certificate does not let the node
 * write (or read) its own scope, where its puts go by default; every
 * one of them would be refused. */
static void own_scope_note(struct node *n)
{
	const struct cert *g;
	char list[600] = "";

	node_grant_refresh(n);
	if (!(g = n->grant))
		return;
	for (size_t i = 0; i < g->nwrite; i++) {
		size_t l = strlen(list);
		snprintf(list + l, sizeof(list) - l, "%s%s", i ? ", " : "",
			 g->write[i]);
	}
	if (g->nwrite == 0)
		cli_err(_("note: this certificate lets the node write nowhere: it reads, and every put on it is refused"));
	else if (!scopemap_under_any(n->smap, n->scope,
				     (const char(*)[ENTRY_MAX_SCOPE + 1])g->write,
				     g->nwrite))
		cli_err(_("note: this certificate lets the node write only under %s, not in its own scope %s, where a put goes unless it gives --scope: such puts are refused. If that is a mistake, ask the administrator for a certificate of %s"),
			list, n->scope, n->scope);
}

/* The take-out's counts as hamletd answered them (cli_mp_u64). */
static void keep_from_map(const msgpack_object *m, struct log_keep_result *k,
			  uint64_t *ret_sessions)
{
	k->entries = cli_mp_u64(m, "entries");
	k->feeds = cli_mp_u64(m, "feeds");
	k->held = cli_mp_u64(m, "held");
	k->records = cli_mp_u64(m, "records");
	k->proofs = cli_mp_u64(m, "proofs");
	*ret_sessions = cli_mp_u64(m, "sessions");
}

/*
 * After an install (file, the certificate's path): the node keeps only
 * what its certificate lets it read (log_keep_reads), through hamletd
 * when it runs, and says what went. Printed on failure.
 */
static int keep_after_install(const char *file)
{
	struct log_keep_result k = { 0 };
	struct cert_chain *ch = NULL;
	struct node *n = NULL;
	uint64_t sessions = 0, gone;
	int daemon = 0, r;

	if ((r = cli_node_open(0, &n, &daemon)) < 0)
		goto out;
	if (daemon) {
		struct mp_doc doc;
		uint8_t *buf = NULL;
		const msgpack_object *res;
		/* closed first: hamletd rewrites the store before it answers
		 * (a large one takes a while), which it does only while no
		 * other program has it open */
		node_close(n);
		n = NULL;
		r = cli_rpc_wait(cli_socket_path(NULL), "keep", NULL, 600000, 0,
				 &doc, &buf, &res);
		if (r == HAMLET_EPROTO)
			cli_err(_("this hamletd is older than this hamlet: restart it (systemctl restart hamletd)"));
		if (r < 0)
			goto out;
		keep_from_map(res, &k, &sessions);
		mp_doc_close(&doc);
		free(buf);
	} else {
		struct log_reader rd;
		if (!(ch = malloc(sizeof(*ch)))) {
			r = -ENOMEM;
			goto out;
		}
		node_reader(n, ch, &rd);
		if ((r = log_keep_reads(n->st, &rd, &k)) < 0) {
			cli_err(_("cannot read or write the store in %s/store: %s"),
				n->home, cli_strerror(r));
			goto out;
		}
	}
	gone = k.entries + k.held;
	if (gone || k.proofs)
		printf(P_("took out %llu entry that this certificate does not let the node read (records no longer held here: %llu; fork proofs: %llu), as a node that never received it; the store was rewritten so that none of it is left in its files\n",
			  "took out %llu entries that this certificate does not let the node read (records no longer held here: %llu; fork proofs: %llu), as a node that never received them; the store was rewritten so that none of them is left in its files\n",
			  gone),
		       (unsigned long long)gone, (unsigned long long)k.records,
		       (unsigned long long)k.proofs);
	if (sessions)
		printf(P_("hamletd's %llu session starts again under the new certificate\n",
			  "hamletd's %llu sessions start again under the new certificate\n",
			  sessions),
		       (unsigned long long)sessions);
	r = 0;
out:
	if (r < 0)
		cli_err(_("%s is installed, but what it does not let this node read may still be held: run \"hamlet cert install %s\" again once the fault above is mended"),
			file, file);
	free(ch);
	node_close(n);
	return r;
}

/*
 * A certificate that neither reads nor writes this node's own scope (a
 * scope misspelt when it was issued, or another village's file): once
 * installed it would take out what the node holds of its own scope, for
 * good, and refuse its puts there. Refused, unless --force: <0 then.
 */
static int foreign_refused(struct node *n, const uint8_t *buf, size_t len,
			   const char *file)
{
	struct cert_chain *ch = calloc(1, sizeof(*ch));
	const struct cert *c;
	char reads[600] = "";
	int own;

	if (!ch)
		return -ENOMEM;
	if (cert_chain_decode(buf, len, ch) < 0 || ch->n == 0) {
		free(ch); /* install says what is wrong with it */
		return 0;
	}
	c = &ch->c[0];
	/* its own scope read or written, or a part of it (a commune's PC
	 * narrowed to one village) */
	own = (c->nread > 0 &&
	       scopemap_under_any(n->smap, n->scope,
				  (const char(*)[ENTRY_MAX_SCOPE + 1])c->read,
				  c->nread)) ||
	      (c->nwrite > 0 &&
	       scopemap_under_any(n->smap, n->scope,
				  (const char(*)[ENTRY_MAX_SCOPE + 1])c->write,
				  c->nwrite));
	for (size_t i = 0; !own && i < c->nread; i++)
		own = entry_scope_under(c->read[i], n->scope);
	for (size_t i = 0; !own && i < c->nwrite; i++)
		own = entry_scope_under(c->write[i], n->scope);
	for (size_t i = 0; !own && i < c->nread; i++) {
		size_t l = strlen(reads);
		snprintf(reads + l, sizeof(reads) - l, "%s%s", i ? ", " : "",
			 c->read[i][0] ? c->read[i] : "*");
	}
	if (!own)
		cli_err(_("%s is not installed: it is for \"%s\" and reads %s, not this node's own scope %s: installed, it would take out what this node holds of its own scope, for good, and refuse its puts there. Was its scope misspelt? Ask the administrator for a certificate of %s; or, if this node is to hold that scope instead, install it with --force"),
			file, c->name, reads[0] ? reads : _("nothing"), n->scope,
			n->scope);
	free(ch);
	return own ? 0 : HAMLET_ESCOPE;
}

/* What a certificate just installed takes away from old, the one it
 * replaced: the right to certify and revoke (a renewal issued without
 * --delegate), or time (an older file installed over its renewal). */
static void replaced_note(const struct node *n, const struct cert_chain *old)
{
	struct cert_chain *ch = calloc(1, sizeof(*ch));
	char why[512], was[64], now[64];

	if (!ch || node_cert_load(n, hlc_wall_ms(), ch, NULL, NULL, why,
				  sizeof(why)) < 0 ||
	    ch->n == 0) {
		free(ch);
		return;
	}
	if (old->c[0].delegate && !ch->c[0].delegate)
		cli_err(_("note: the certificate this one replaces let this node certify others and revoke what it certified (--delegate); this one does not, so this node can no longer certify or revoke its villages. If that was not meant, ask for a renewal issued with --delegate and install it"));
	if (ch->c[0].expires_ms && old->c[0].expires_ms &&
	    ch->c[0].expires_ms < old->c[0].expires_ms) {
		/* as cert issue and status say a certificate's end */
		cli_date_text(old->c[0].expires_ms, was, sizeof(was));
		cli_date_text(ch->c[0].expires_ms, now, sizeof(now));
		cli_err(_("note: the certificate this one replaces was valid until %s, longer than this one (until %s): was this the older file? If so, install the newer one again"),
			was, now);
	}
	free(ch);
}

int cmd_cert__install(int argc, char **argv)
{
	char *pos[1], why[512] = "";
	struct node *n = NULL;
	struct cert_chain *old = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int npos, r, had_old = 0;
	int force = 0;
	const struct cli_opt opts[] = { { "--force", NULL, &force },
					{ NULL, NULL, NULL } };

	if ((r = cli_parse("cert install", argc, argv, opts, pos, 1, &npos)) <
	    0)
		return r;
	if (npos != 1) {
		cli_usage_err("cert install", _("give the certificate FILE"));
		return CLI_EUSAGE;
	}
	if ((r = cli_read_all(pos[0], (char **)&buf, &len)) < 0)
		return r;
	if ((r = cli_node_open(1, &n, NULL)) < 0)
		goto out;
	if (!(old = calloc(1, sizeof(*old)))) {
		r = -ENOMEM;
		goto out;
	}
	/* the one it replaces, if any: what the new one takes away is
	 * said (the wrong file off the stick, a renewal issued short) */
	had_old = node_cert_load(n, hlc_wall_ms(), old, NULL, NULL, why,
				 sizeof(why)) == 0 &&
		  old->n > 0;
	why[0] = 0;
	if (!force && (r = foreign_refused(n, buf, len, pos[0])) < 0)
		goto out;
	if ((r = node_cert_install(n, buf, len, hlc_wall_ms(), why,
				   sizeof(why))) < 0) {
		cli_err(_("%s is not installed: %s"), pos[0], why);
		goto out;
	}
	printf(_("installed %s: this node is now certified; a running hamletd uses it from its next connection\n"),
	       pos[0]);
	if (had_old)
		replaced_note(n, old);
	own_scope_note(n);
	{
		/* a renewal that starts after what the node saved while its
		 * certificate had lapsed leaves that refused everywhere */
		struct node_lapse l;
		if (node_lapse_find(n, NULL, &l) == 0)
			cli_lapse_print(stderr,
					_("warning: this certificate does not cover what the node saved while it had none valid: "),
					&l);
	}
	/* the store is opened again as the writer (or hamletd is asked) */
	node_close(n);
	n = NULL;
	r = keep_after_install(pos[0]);
out:
	free(old);
	free(buf);
	node_close(n);
	return r;
}

static json_t *cert_json(const struct cert *c, const uint8_t id[32])
{
	json_t *j = json_object(), *a;
	char h[65];

	cli_hex(id, 32, h);
	json_object_set_new(j, "id", json_string(h));
	cli_hex(c->subject, 32, h);
	json_object_set_new(j, "subject", json_string(h));
	cli_hex(c->issuer, 32, h);
	json_object_set_new(j, "issuer", json_string(h));
	json_object_set_new(j, "name", json_string(c->name));
	json_object_set_new(j, "role", json_string(cert_role_name(c->role)));
	a = json_array();
	for (size_t i = 0; i < c->nread; i++)
		json_array_append_new(a, json_string(c->read[i][0] ? c->read[i] : "*"));
	json_object_set_new(j, "read", a);
	a = json_array();
	for (size_t i = 0; i < c->nwrite; i++)
		json_array_append_new(a, json_string(c->write[i][0] ? c->write[i] : "*"));
	json_object_set_new(j, "write", a);
	a = json_array();
	for (size_t i = 0; i < c->ncollections; i++)
		json_array_append_new(a, json_string(c->collections[i]));
	json_object_set_new(j, "collections", a);
	json_object_set_new(j, "not_before_ms",
			    json_integer((json_int_t)c->not_before_ms));
	json_object_set_new(j, "expires_ms",
			    json_integer((json_int_t)c->expires_ms));
	json_object_set_new(j, "delegate", json_boolean(c->delegate));
	return j;
}

static void prefixes_print(const char *what,
			   const char (*v)[CERT_SCOPE_MAX + 1], size_t n)
{
	printf("    %s:", what);
	if (!n)
		printf(_(" nothing"));
	for (size_t i = 0; i < n; i++)
		printf(" %s", v[i][0] ? v[i] : _("* (every scope)"));
	printf("\n");
}

static void cert_print(const struct cert *c, const uint8_t id[32])
{
	char h[65], from[40], to[40];
	cli_hex(c->subject, 32, h);
	printf(_("  \"%s\" (%s), key %s\n"), c->name, cli_role_text(c->role), h);
	prefixes_print(_("reads"), c->read, c->nread);
	prefixes_print(_("writes"), c->write, c->nwrite);
	printf(_("    collections:"));
	if (!c->ncollections)
		printf(_(" every one"));
	for (size_t i = 0; i < c->ncollections; i++)
		printf(" %s", c->collections[i]);
	cli_time_text(c->not_before_ms, 0, from);
	cli_date_text(c->expires_ms, to, sizeof(to));
	cli_hex(c->issuer, 32, h);
	printf(_("\n    valid from %s until %s%s\n    signed by %.16s…"), from,
	       to, c->delegate ? _("; may certify others") : "", h);
	cli_hex(id, 32, h);
	printf(_(", id %.16s…\n"), h);
}

/* --- the revocations behind a chain that no longer holds -------------- */

struct revs {
	struct store_txn *t;
	const uint8_t *root;	 /* the network's root key */
	const struct cert *of;	 /* the revoked key's certificate */
	const uint8_t *below;	 /* the certificate it signed in the chain
				  * (NULL: of is the node's own) */
	json_t *arr;		 /* --json: collected here, else printed */
	const uint8_t *self;	 /* this node's key: of may be another's
				  * (cert show FILE) */
	const struct cert_chain *ch; /* the chain, of its certificate at */
	size_t at;
};

/* One revocation of revs->of's key: shown unless it keeps the
 * certificate below (an issuer's revocation that does so cuts nothing). */
static int revs_one(void *ctx, int kind, const uint8_t id[32],
		    const uint8_t *data, size_t len)
{
	struct revs *c = ctx;
	struct revocation *rv;
	char who[NAMES_LABEL_MAX], at[32], h[65];

	(void)kind;
	(void)id;
	if (!(rv = malloc(sizeof(*rv))))
		return -ENOMEM;
	/* verified when it joined the set: one that no longer decodes is
	 * verify's to report, not cert list's */
	if (revoke_decode(data, len, rv, NULL) < 0)
		goto out;
	/* one by a key outside the chain cuts nothing of it (SPEC 9) */
	if (!trustset_revoke_applies(rv, c->ch, c->at))
		goto out;
	for (size_t k = 0; c->below && k < rv->nkeep; k++)
		if (memcmp(rv->keep[k], c->below, 32) == 0)
			goto out;
	if (memcmp(rv->issuer, c->root, 32) == 0)
		snprintf(who, sizeof(who), "%s", _("the network's root key"));
	else
		cli_who(c->t, rv->issuer, who);
	if (c->arr) {
		json_t *o = json_object();
		cli_hex(rv->subject, 32, h);
		json_object_set_new(o, "key", json_string(h));
		json_object_set_new(o, "name", json_string(c->of->name));
		json_object_set_new(o, "own",
				    json_boolean(!c->below &&
						 !memcmp(rv->subject, c->self, 32)));
		cli_hex(rv->issuer, 32, h);
		json_object_set_new(o, "issuer", json_string(h));
		json_object_set_new(o, "issuer_is_root",
				    json_boolean(!memcmp(rv->issuer, c->root, 32)));
		cli_time_text(rv->issued_ms, 1, at);
		json_object_set_new(o, "issued", json_string(at));
		json_object_set_new(o, "reason", json_string(rv->reason));
		json_array_append_new(c->arr, o);
	} else {
		cli_time_text(rv->issued_ms, 0, at);
		if (c->below)
			printf(_("  the key of its issuer \"%s\" was revoked by %s on %s"),
			       c->of->name, who, at);
		else if (!memcmp(rv->subject, c->self, 32))
			printf(_("  this node's key was revoked by %s on %s"), who,
			       at);
		else
			printf(_("  the key of \"%s\" was revoked by %s on %s"),
			       c->of->name, who, at);
		if (rv->reason[0])
			printf(_(", reason: \"%s\"\n"), rv->reason);
		else
			printf(_(", no reason given\n"));
	}
out:
	free(rv);
	return 0;
}

/*
 * The revocations that make n's chain ch fail: of n's key, and of an
 * issuer's that does not keep the certificate below it, with who signed
 * each, when and why (the --reason of cert revoke). Into arr with --json,
 * else printed. Read in t (NULL: a transaction of its own). A store that
 * does not read shows none: the chain's verdict is said already.
 */
static void revocations_show(struct node *n, struct store_txn *t,
			     const struct cert_chain *ch, json_t *arr)
{
	struct revs c = { .root = n->net.root_pk, .arr = arr, .self = n->pk,
			  .ch = ch };

	if (t)
		c.t = t;
	else if (cli_txn_read(n, &c.t) < 0)
		return;
	for (size_t i = 0; i < ch->n; i++) {
		c.of = &ch->c[i];
		c.below = i ? ch->id[i - 1] : NULL;
		c.at = i;
		if (trustset_each_subject(c.t, ch->c[i].subject, TRUST_REVOKE,
					  revs_one, &c) < 0)
			break;
	}
	if (!t)
		store_txn_abort(c.t);
}

/* Print chain ch and whether it holds (check: its result, why); when it
 * is n's and revoked, the revocations too (n NULL: a file's chain). */
static void chain_print(const struct cert_chain *ch, int check,
			const char *why, struct node *n)
{
	int revoked = n && check == HAMLET_EREVOKED;

	if (cli_global.json) {
		json_t *j = json_object(), *a = json_array();
		for (size_t i = 0; i < ch->n; i++)
			json_array_append_new(a, cert_json(&ch->c[i], ch->id[i]));
		json_object_set_new(j, "chain", a);
		json_object_set_new(j, "valid", json_boolean(check == 0));
		if (check < 0)
			json_object_set_new(j, "why", json_string(why));
		if (revoked) {
			a = json_array();
			revocations_show(n, NULL, ch, a);
			json_object_set_new(j, "revocations", a);
		}
		cli_json_print(j);
		return;
	}
	for (size_t i = 0; i < ch->n; i++) {
		printf("%s\n", i == 0 ? _("certificate:") : _("issued under:"));
		cert_print(&ch->c[i], ch->id[i]);
	}
	if (check == 0) {
		printf(_("valid: the chain holds up to the network's root key\n"));
	} else {
		printf(_("NOT VALID: %s\n"), why);
		if (revoked)
			revocations_show(n, NULL, ch, NULL);
	}
}

/* --- cert list KEY: what the trust set holds of one key --------------- */

#define KEY_CHAINS 16

struct key_certs {
	const uint8_t *key;
	const struct cert_chain *ch; /* the key's chains, nch of them */
	size_t nch, n;
	json_t *arr; /* --json: collected here, else printed */
	int issued;  /* 1: certificates the key signed; 0: of the key */
	int count;   /* 1: only counted */
};

static int key_cert_one(void *ctx, int kind, const uint8_t id[32],
			const uint8_t *data, size_t len)
{
	struct key_certs *k = ctx;
	struct cert *c = malloc(sizeof(*c));
	int linked = 0;
	(void)kind;
	if (!c)
		return -ENOMEM;
	if (cert_decode(data, len, c, NULL) < 0 ||
	    memcmp(k->issued ? c->issuer : c->subject, k->key, 32) != 0) {
		free(c);
		return 0;
	}
	for (size_t i = 0; i < k->nch && !k->issued; i++)
		linked |= memcmp(k->ch[i].id[0], id, 32) == 0;
	if (!linked) { /* those in a chain were shown with it */
		k->n++;
		if (!k->count && k->arr)
			json_array_append_new(k->arr, cert_json(c, id));
		else if (!k->count)
			cert_print(c, id);
	}
	free(c);
	return 0;
}

/* hamlet cert list KEY: every chain of KEY this node's trust set holds,
 * each checked now; its certificates no chain reaches the root through;
 * and the certificates KEY signed (what revoking it would end unless it
 * keeps them). */
static int cert_list_key(struct node *n, const char *hex)
{
	uint8_t key[32];
	struct cert_chain *ch = calloc(KEY_CHAINS, sizeof(*ch));
	struct store_txn *t = NULL;
	struct key_certs k = { key, ch, 0, 0, NULL, 0, 1 };
	json_t *j = NULL, *chains = NULL;
	size_t valid = 0, unlinked, signed_n;
	int r, root;

	if (!ch)
		return -ENOMEM;
	if (hex_decode(hex, key, 32) < 0) {
		cli_err(_("\"%s\" is not a node key: 64 hex digits, as public_key in the node's node.conf"),
			hex);
		r = HAMLET_EFORMAT;
		goto out;
	}
	/* what there is, counted first: none is an error, said alone */
	if ((r = cli_txn_read(n, &t)) < 0 ||
	    (r = trustset_chains(t, key, ch, KEY_CHAINS, &k.nch, NULL)) < 0 ||
	    (r = trustset_each_subject(t, key, TRUST_CERT, key_cert_one,
				       &k)) < 0)
		goto out;
	unlinked = k.n;
	k.issued = 1;
	k.n = 0;
	if ((r = trustset_each(t, TRUST_CERT, key_cert_one, &k)) < 0)
		goto out;
	signed_n = k.n;
	root = memcmp(key, n->net.root_pk, 32) == 0;
	if (!k.nch && !unlinked && !signed_n && !root) {
		cli_err(_("no certificate of key %s, and none it signed, is known here: check the key (public_key in that node's node.conf); a node learns certificates by syncing"),
			hex);
		r = HAMLET_ENOTFOUND;
		goto out;
	}
	k.count = 0;
	valid = root; /* it needs no certificate */
	if (cli_global.json) {
		j = json_object();
		chains = json_array();
		json_object_set_new(j, "key", json_string(hex));
		json_object_set_new(j, "root", json_boolean(root));
		json_object_set_new(j, "chains_cut", json_boolean(k.nch == KEY_CHAINS));
	} else if (root) {
		printf(_("the network's root key: it needs no certificate, and signs those at the top of every chain\n\n"));
	}
	for (size_t i = 0; i < k.nch; i++) {
		char why[512] = "";
		int check = cert_chain_check(&ch[i], n->net.id, n->net.root_pk,
					     hlc_wall_ms(), why, sizeof(why));
		if (check == 0)
			check = trustset_revoked(t, key, &ch[i], why,
						 sizeof(why));
		valid += check == 0;
		if (j) {
			json_t *c = json_object(), *a = json_array();
			for (size_t m = 0; m < ch[i].n; m++)
				json_array_append_new(a, cert_json(&ch[i].c[m],
								   ch[i].id[m]));
			json_object_set_new(c, "chain", a);
			json_object_set_new(c, "valid", json_boolean(check == 0));
			if (check < 0)
				json_object_set_new(c, "why", json_string(why));
			if (check == HAMLET_EREVOKED) {
				a = json_array();
				revocations_show(n, t, &ch[i], a);
				json_object_set_new(c, "revocations", a);
			}
			json_array_append_new(chains, c);
			continue;
		}
		for (size_t m = 0; m < ch[i].n; m++) {
			printf("%s\n", m == 0 ? _("certificate:") : _("issued under:"));
			cert_print(&ch[i].c[m], ch[i].id[m]);
		}
		if (check == 0)
			printf(_("valid: the chain holds up to the network's root key\n"));
		else
			printf(_("NOT VALID: %s\n"), why);
		if (check == HAMLET_EREVOKED)
			revocations_show(n, t, &ch[i], NULL);
		printf("\n");
	}
	if (!j && k.nch == KEY_CHAINS)
		printf(P_("(the first %d chain only)\n\n",
			  "(the first %d chains only)\n\n", KEY_CHAINS),
		       KEY_CHAINS);
	if (j) {
		json_object_set_new(j, "chains", chains);
		k.arr = json_array();
	} else if (unlinked && k.nch < KEY_CHAINS) {
		/* past the cap, a certificate of a chain not shown would
		 * read as reaching the root through none */
		printf(_("certificates of this key that reach the root through no chain here (an issuer's certificate unknown here, or revoked without keeping them):\n"));
	}
	k.issued = 0;
	if (unlinked && k.nch < KEY_CHAINS &&
	    (r = trustset_each_subject(t, key, TRUST_CERT, key_cert_one,
				       &k)) < 0)
		goto out;
	if (j) {
		json_object_set_new(j, "unlinked", k.arr);
		k.arr = json_array();
	} else {
		printf(_("%scertificates this key signed:\n"),
		       unlinked && k.nch < KEY_CHAINS ? "\n" : "");
		if (!signed_n)
			printf(_("  none\n"));
	}
	k.issued = 1;
	if (signed_n &&
	    (r = trustset_each(t, TRUST_CERT, key_cert_one, &k)) < 0)
		goto out;
	if (j) {
		json_object_set_new(j, "signed", k.arr);
		k.arr = NULL;
		json_object_set_new(j, "valid", json_boolean(valid > 0));
		cli_json_print(j);
		j = NULL;
	}
	r = valid ? 0 : CLI_EPROBLEMS;
out:
	json_decref(k.arr);
	json_decref(j);
	store_txn_abort(t);
	free(ch);
	return r;
}

int cmd_cert__list(int argc, char **argv)
{
	char *pos[1], why[512] = "";
	struct cert_chain ch;
	struct node *n = NULL;
	int npos, r;
	const struct cli_opt opts[] = { { NULL, NULL, NULL } };

	if ((r = cli_parse("cert list", argc, argv, opts, pos, 1, &npos)) < 0)
		return r;
	if ((r = cli_node_open(1, &n, NULL)) < 0)
		return r;
	if (npos == 1) {
		r = cert_list_key(n, pos[0]);
		node_close(n);
		return r;
	}
	r = node_cert_load(n, hlc_wall_ms(), &ch, NULL, NULL, why,
			   sizeof(why));
	if (r == HAMLET_ENOTFOUND) {
		if (cli_global.json) {
			json_t *j = json_object();
			json_object_set_new(j, "chain", json_array());
			json_object_set_new(j, "valid", json_false());
			json_object_set_new(j, "why", json_string(why));
			cli_json_print(j);
		} else {
			printf("%s\n", why);
		}
	} else if (ch.n) {
		chain_print(&ch, r, why, n);
	} else {
		cli_err("%s", why);
	}
	node_close(n);
	return r == 0 ? 0
	       : r == HAMLET_ECERT || r == HAMLET_EREVOKED ||
			 r == HAMLET_ENOTFOUND
		       ? CLI_EPROBLEMS
		       : r;
}

int cmd_cert__show(int argc, char **argv)
{
	struct node *n = NULL;
	const char *netfile = NULL;
	char *pos[1], why[512] = "";
	struct cert_chain ch;
	uint8_t *buf = NULL;
	size_t len = 0;
	int npos, r, check = 0;
	const struct cli_opt opts[] = {
		{ "--network", &netfile, NULL },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("cert show", argc, argv, opts, pos, 1, &npos)) < 0)
		return r;
	if (npos != 1) {
		cli_usage_err("cert show", _("give the certificate FILE"));
		return CLI_EUSAGE;
	}
	if ((r = cli_read_all(pos[0], (char **)&buf, &len)) < 0)
		return r;
	if ((r = cert_chain_decode_why((uint8_t *)buf, len, &ch, why,
				       sizeof(why))) < 0) {
		cli_err(_("%s is not a certificate chain: %s"), pos[0], why);
		goto out;
	}
	/* a home, when there is one (quietly: a file needs none): its
	 * network when none is given, and the revocations it holds */
	{
		char nwhy[512];
		if (node_open(cli_home(), 1, &n, nwhy, sizeof(nwhy)) < 0)
			n = NULL;
	}
	if (netfile) {
		struct network_info ni;
		if ((r = network_load(netfile, &ni, why, sizeof(why))) < 0) {
			cli_err("%s", why);
			goto out;
		}
		check = cert_chain_check(&ch, ni.id, ni.root_pk, hlc_wall_ms(),
					 why, sizeof(why));
		/* the home's revocations judge it only on the home's
		 * network */
		if (n && memcmp(ni.id, n->net.id, 32) != 0) {
			node_close(n);
			n = NULL;
		}
		sodium_memzero(&ni, sizeof(ni));
	} else if (n) {
		check = cert_chain_check(&ch, n->net.id, n->net.root_pk,
					 hlc_wall_ms(), why, sizeof(why));
	} else {
		check = 1; /* not checked */
	}
	if (check == 0 && n) {
		struct store_txn *t;
		if (cli_txn_read(n, &t) == 0) {
			check = trustset_revoked(t, ch.c[0].subject, &ch, why,
						 sizeof(why));
			store_txn_abort(t);
		}
	}
	if (check == 1 && !cli_global.json) {
		for (size_t i = 0; i < ch.n; i++) {
			printf("%s\n", i == 0 ? _("certificate:") : _("issued under:"));
			cert_print(&ch.c[i], ch.id[i]);
		}
		printf(_("signatures verify; give --network NETFILE to check the chain against the network's root key\n"));
	} else {
		chain_print(&ch, check, why, n);
	}
	r = check < 0 ? CLI_EPROBLEMS : 0;
out:
	node_close(n);
	free(buf);
	return r;
}
