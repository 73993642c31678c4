/*
 * hamlet status [--json] [--socket PATH]
 *
 * In plain words: this node, its peers, when each last synced, what moved,
 * and the open conflicts. Works without a running daemon too (then from
 * the store alone).
 */
#include "cli.h"

#include "cert.h"
#include "scopemap.h"
#include "error.h"
#include "heard.h"
#include "hlc.h"
#include "log.h"
#include "status.h"
#include "i18n.h"
#include "progress.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CLI_ADDR_MAX 260 /* a configured HOST:PORT (CONFIG_MAX_ADDR) */

/* Why hamletd, running, did not answer status (0: it answered, or none
 * runs). */
static int daemon_err;

static void ago(uint64_t ms, char *out, size_t n)
{
	uint64_t now = hlc_wall_ms(), s;
	if (!ms) {
		snprintf(out, n, "%s", _("never"));
		return;
	}
	s = now > ms ? (now - ms) / 1000 : 0;
	if (s < 120)
		snprintf(out, n, _("%llu s ago"), (unsigned long long)s);
	else if (s < 7200)
		snprintf(out, n, _("%llu min ago"), (unsigned long long)(s / 60));
	else if (s < 172800)
		snprintf(out, n, _("%llu h ago"), (unsigned long long)(s / 3600));
	else
		snprintf(out, n, _("%llu days ago"), (unsigned long long)(s / 86400));
}

/* 1 when a certificate of ch (decoded, maybe refused) has ended; *at:
 * the place of the first that has. */
static int chain_expired(const struct cert_chain *ch, size_t *at)
{
	uint64_t now = hlc_wall_ms();

	for (size_t i = 0; i < ch->n && i < CERT_MAX_CHAIN; i++)
		if (ch->c[i].expires_ms && now >= ch->c[i].expires_ms) {
			*at = i;
			return 1;
		}
	return 0;
}

/* Within STATUS_CERT_WARN_DAYS of the chain's end (until, as text):
 * when, which certificate, and who renews it. */
static void cert_soon_print(const struct status_cert *cf, const char *until)
{
	const uint64_t day_ms = 86400000ull, now = hlc_wall_ms();
	unsigned long long days;

	if (!cf->end_soon)
		return;
	/* whole days: never more than is left */
	days = (unsigned long long)((cf->end_ms - now) / day_ms);
	if (cf->end_at == 0) {
		printf(P_("WARNING: this node's certificate is valid only until %s (%llu day from now): from then every other node refuses this node and what it writes. Ask the administrator who issued it for a renewal, a new certificate for the same key (administrator's guide, \"Renew a certificate\"), and install it here with hamlet cert install FILE\n",
			  "WARNING: this node's certificate is valid only until %s (%llu days from now): from then every other node refuses this node and what it writes. Ask the administrator who issued it for a renewal, a new certificate for the same key (administrator's guide, \"Renew a certificate\"), and install it here with hamlet cert install FILE\n",
			  days),
		       until, days);
		return;
	}
	printf(P_("WARNING: this node's certificate chain is valid only until %s (%llu day from now), when the certificate of \"%s\" (certificate %zu of the chain, above this node's own) ends: from then every other node refuses this node and what it writes. Whoever certified \"%s\" renews that certificate for the same key (administrator's guide, \"Renew a certificate\"); this node needs nothing new: the renewal reaches it with the next sync or USB bundle\n",
		  "WARNING: this node's certificate chain is valid only until %s (%llu days from now), when the certificate of \"%s\" (certificate %zu of the chain, above this node's own) ends: from then every other node refuses this node and what it writes. Whoever certified \"%s\" renews that certificate for the same key (administrator's guide, \"Renew a certificate\"); this node needs nothing new: the renewal reaches it with the next sync or USB bundle\n",
		  days),
	       until, days, cf->ch.c[cf->end_at].name, cf->end_at + 1,
	       cf->ch.c[cf->end_at].name);
}

static void cert_line(const struct status_cert *cf, const char *node_name)
{
	const struct cert *c = &cf->ch.c[0];
	char until[64];
	size_t at = 0;

	if (cf->r == HAMLET_EREVOKED) {
		printf(_("certificate: REVOKED: %s\n"), cf->why);
		return;
	}
	if (cf->r < 0 && chain_expired(&cf->ch, &at) && at > 0) {
		/* the node's own holds: the renewal of the one above it
		 * mends it, and reaches this node by itself */
		printf(_("certificate: NONE VALID: %s; peers refuse this node until that certificate is renewed: whoever certified \"%s\" renews it for the same key (administrator's guide, \"Renew a certificate\"). This node needs nothing new: the renewal reaches it with the next sync with its commune (or a node above) or USB bundle from there\n"),
		       cf->why, cf->ch.c[at].name);
		return;
	}
	if (cf->r < 0 && chain_expired(&cf->ch, &at)) {
		printf(_("certificate: NONE VALID: %s; peers refuse this node until it has a new one: ask the administrator for a new certificate, then hamlet cert install FILE\n"),
		       cf->why);
		return;
	}
	if (cf->r < 0) {
		printf(_("certificate: NONE VALID: %s; peers refuse this node until it has a valid one\n"),
		       cf->why);
		return;
	}
	/* the chain's end, not the node's own certificate's: a commune's
	 * certificate above it may end first */
	cli_date_text(cf->end_ms, until, sizeof(until));
	if (cf->end_at > 0 && cf->end_at < cf->ch.n)
		printf(_("certificate: \"%s\" (%s), valid until %s, when the certificate of \"%s\" above it in the chain ends; reads"),
		       c->name, cli_role_text(c->role), until,
		       cf->ch.c[cf->end_at].name);
	else
		printf(_("certificate: \"%s\" (%s), valid until %s; reads"),
		       c->name, cli_role_text(c->role), until);
	for (size_t i = 0; i < c->nread; i++)
		printf(" %s", c->read[i][0] ? c->read[i] : "*");
	printf(_(", writes"));
	if (!c->nwrite)
		printf(_(" nothing"));
	for (size_t i = 0; i < c->nwrite; i++)
		printf(" %s", c->write[i][0] ? c->write[i] : "*");
	printf("\n");
	if (strcmp(c->name, node_name) != 0)
		printf(_("  (node.conf calls this node \"%s\", its short name from hamlet init; other nodes know it as \"%s\", the certificate's name: nothing to do)\n"),
		       node_name, c->name);
	cert_soon_print(cf, until);
}

/* A string of a status peer, or NULL. */
static const char *peer_str(const msgpack_object *p, const char *k,
			    char *out, size_t n)
{
	const msgpack_object *v = cli_mp_get(p, k);
	if (!v || v->type != MSGPACK_OBJECT_STR)
		return NULL;
	snprintf(out, n, "%.*s", (int)v->via.str.size, v->via.str.ptr);
	return out;
}

/* Who peer p is: its name in our trust set, else the name its HELLO's
 * certificate gave hamletd, else an unknown key; its scope effective
 * after a scope move, with the one as written, as get shows a record's. */
static void peer_label(struct store_txn *t, const msgpack_object *p,
		       char out[NAMES_LABEL_MAX])
{
	char key[65] = "";
	struct names_who w;
	uint8_t k[32];

	peer_str(p, "key", key, sizeof(key));
	if (strlen(key) != 64 || hex_decode(key, k, 32) < 0) {
		cli_who_hex(t, key, out);
		return;
	}
	(void)cli_who_get(t, k, &w);
	if (w.source == NAMES_UNKNOWN &&
	    peer_str(p, "name", w.name, sizeof(w.name))) {
		w.source = NAMES_CERT;
		if (!peer_str(p, "scope", w.scope, sizeof(w.scope)))
			w.scope[0] = 0;
	}
	names_moved(&w, cli_global.scopes);
	names_label(&w, k, cli_global.keys, out);
}

/* A sync that received nothing for this long is said to stand still. */
#define STALLED_MS 30000

/* "receiving from X: 12,000 / 100,000 entries, 2,300/s, about 38 s left" */
static void progress_print(const char *who, const msgpack_object *p)
{
	const msgpack_object *g = cli_mp_get(p, "progress");
	char done[32], total[32], rate[32], left[48];
	uint64_t per_s;

	if (!g || g->type != MSGPACK_OBJECT_MAP)
		return;
	per_s = cli_mp_u64(g, "per_s");
	progress_count(cli_mp_u64(g, "received"), done);
	progress_count(cli_mp_u64(g, "total"), total);
	if (cli_mp_u64(p, "entries_waiting_for_disk")) {
		/* stopped here, by this disk: no rate, no time left, and
		 * not the peer's budget */
		printf(_("    receiving from %s: %s / %s entries; the rest waits for space on the disk holding this node's store (free space on it; hamletd tries again by itself)\n"),
		       who, done, total);
		return;
	}
	if (cli_mp_u64(g, "quiet_ms") >= STALLED_MS) {
		/* a mean rate and a time left would say it still moves */
		ago(cli_mp_u64(g, "last_ms"), left, sizeof(left));
		if (cli_mp_u64(g, "received") == 0)
			printf(_("    receiving from %s: 0 / %s entries; none has come since the sync began %s: the link may be down or very slow, or %s's byte budget holds them back\n"),
			       who, total, left, who);
		else
			printf(_("    receiving from %s: %s / %s entries; the last came %s, and none since: the link may be down or very slow, or %s's byte budget holds the rest back\n"),
			       who, done, total, left, who);
		return;
	}
	progress_count(per_s, rate);
	progress_left(cli_mp_u64(g, "to_receive"), per_s, left);
	printf(_("    receiving from %s: %s / %s entries, %s/s, %s\n"), who, done,
	       total, rate, left);
}

/* "142 entries wait for tomorrow's budget (5.0 MB a day to X, 5.0 MB
 * sent today)": only while a byte budget holds entries back; or, when
 * the entry that stopped them is larger than a whole budget, that it
 * waits until the budget is raised. */
static void budget_print(const char *who, const msgpack_object *p,
			 const struct status_peer *sp)
{
	const msgpack_object *b = cli_mp_get(p, "budget");
	char n[32], lim[CLI_BUDGET_WORDS], sent[32], big[32];
	char raise[CLI_BUDGET_WORDS];

	if (!sp->held)
		return;
	progress_count(sp->held, n);
	if (sp->too_big) {
		progress_size(sp->too_big, big);
		cli_budget_too_small(b, sp->too_big, lim, raise);
		printf(P_("    %s entry waits: one of %s is larger than the whole budget (%s to %s), and nothing goes after it until %s is raised in [budget] of the daemon's config (then: systemctl reload hamletd)\n",
			  "    %s entries wait: one of %s is larger than the whole budget (%s to %s), and nothing goes after it until %s is raised in [budget] of the daemon's config (then: systemctl reload hamletd)\n",
			  sp->held),
		       n, big, lim, who, raise);
	} else if (sp->held_session) {
		progress_size(cli_mp_u64(b, "per_session"), lim);
		progress_size(cli_mp_u64(b, "sent_session"), sent);
		printf(P_("    %s entry waits for the next session's budget (%s a session to %s, %s sent in this one)\n",
			  "    %s entries wait for the next session's budget (%s a session to %s, %s sent in this one)\n",
			  sp->held),
		       n, lim, who, sent);
	} else {
		progress_size(cli_mp_u64(b, "per_day"), lim);
		progress_size(cli_mp_u64(b, "sent_today"), sent);
		printf(P_("    %s entry waits for tomorrow's budget (%s a day to %s, %s sent today)\n",
			  "    %s entries wait for tomorrow's budget (%s a day to %s, %s sent today)\n",
			  sp->held),
		       n, lim, who, sent);
	}
}

/* Entries refused as dated too far ahead on this session: ours by the
 * peer (this PC's clock, most often), its by us (its clock). */
static void ahead_print(const char *who, const msgpack_object *p,
			const struct status_peer *sp)
{
	uint64_t in = cli_mp_u64(p, "entries_refused_ahead_in");

	if (sp->ahead)
		printf(P_("    %s refused %llu entry sent to it as dated more than 24 h ahead of its clock: it has not arrived. Check the date and time of this PC (and of that one) and set them right; what was written with the wrong date goes once the clock there is within a day of it\n",
			  "    %s refused %llu entries sent to it as dated more than 24 h ahead of its clock: they have not arrived. Check the date and time of this PC (and of that one) and set them right; what was written with the wrong date goes once the clock there is within a day of it\n",
			  sp->ahead),
		       who, (unsigned long long)sp->ahead);
	if (in)
		printf(P_("    refused %llu entry from %s as dated more than 24 h ahead of this PC's clock: the clock there (or here) is wrong; call them to check it\n",
			  "    refused %llu entries from %s as dated more than 24 h ahead of this PC's clock: the clock there (or here) is wrong; call them to check it\n",
			  in),
		       (unsigned long long)in, who);
}

/* The configured peers hamletd cannot reach, and why; cert_ok: this
 * node's own certificate holds. */
/* The key hamletd last met at dialled address addr (its "dials"), or
 * NULL when none answered there yet. */
static const msgpack_object *dial_key(const msgpack_object *res,
				      const char *addr)
{
	const msgpack_object *dl = cli_mp_get(res, "dials");
	char a[CLI_ADDR_MAX];

	for (uint32_t i = 0; dl && dl->type == MSGPACK_OBJECT_ARRAY &&
			     i < dl->via.array.size;
	     i++) {
		const msgpack_object *x = &dl->via.array.ptr[i];
		const msgpack_object *k = cli_mp_get(x, "key");
		if (peer_str(x, "addr", a, sizeof(a)) && strcmp(a, addr) == 0)
			return k && k->type == MSGPACK_OBJECT_STR ? k : NULL;
	}
	return NULL;
}

static int same_str(const msgpack_object *a, const msgpack_object *b)
{
	return a && b && a->type == MSGPACK_OBJECT_STR &&
	       b->type == MSGPACK_OBJECT_STR &&
	       a->via.str.size == b->via.str.size &&
	       memcmp(a->via.str.ptr, b->via.str.ptr, a->via.str.size) == 0;
}

static int stranger(const msgpack_object *p);

/* 1 when the key at address addr is that of a peer with a line of its
 * own (no stranger, which is folded into one line): its failing dial is
 * told under that line, not on its own. */
static int dial_of_peer(const msgpack_object *res, const char *addr)
{
	const msgpack_object *k = dial_key(res, addr);
	const msgpack_object *ps = cli_mp_get(res, "peers");

	for (uint32_t i = 0; k && ps && ps->type == MSGPACK_OBJECT_ARRAY &&
			     i < ps->via.array.size;
	     i++)
		if (!stranger(&ps->via.array.ptr[i]) &&
		    same_str(cli_mp_get(&ps->via.array.ptr[i], "key"), k))
			return 1;
	return 0;
}

/* What to do about a dial at addr that connects but starts no session
 * (p: its entry of "unreached"), by how far it got ("stage", conn.h):
 * only after the handshake has the other node seen a certificate, so
 * only there can it have refused this node's. */
static void session_advice(const msgpack_object *p, const char *addr,
			   int cert_ok)
{
	char stage[32] = "";

	/* a daemon of before "stage": only the advice it always had */
	peer_str(p, "stage", stage, sizeof(stage));
	if (!strcmp(stage, "handshake_timeout"))
		printf(_("    the connection is taken there, but no hamlet handshake answers in time: something other than hamletd listens at that address, or the link is too slow. Check that %s is the address and port of a hamletd (%s peers list shows them); hamletd tries again by itself\n"),
		       addr, cli_prog());
	else if (!strcmp(stage, "not_hamlet"))
		printf(_("    what answers there is not a hamlet node (what it sent is no hamlet handshake): check that %s is the address and port of a hamletd (%s peers list shows them)\n"),
		       addr, cli_prog());
	else if (!strcmp(stage, "other_network"))
		printf(_("    that node ends the handshake before answering this node's first message: it is most likely of another network (another network key), or it takes no more connections for now. Check that %s is a node of this network; its log says why\n"),
		       addr);
	else if (!strcmp(stage, "handshake"))
		printf(_("    the handshake with that node fails (as said above): check that %s is a node of this network; its log may say more\n"),
		       addr);
	else if (!strcmp(stage, "hello_timeout"))
		printf(_("    that node takes the handshake (it is a node of this network) but says nothing more in time: the link may be too slow, or that node too busy; hamletd tries again by itself\n"));
	else if (!strcmp(stage, "peer_certificate"))
		/* this node's own judgement of the other's chain */
		printf(_("    this node refuses that node: its certificate does not hold here (as said above), so nothing goes to it. If its key is revoked, it never syncs again: point this node at another peer (%s peers add HOST:PORT) and take this address out (%s peers remove %s); otherwise that node needs a valid certificate from its administrator\n"),
		       cli_prog(), cli_prog(), addr);
	/* after the handshake. What this node knows: its own
	 * certificate; what the other node holds against it, it does
	 * not say */
	else if (!cert_ok)
		printf(_("    that node refuses this one because this node shows no valid certificate (the certificate line above says why); once one is installed, hamlet sync gets through at once\n"));
	else
		printf(_("    that node closes the connection before any session and does not say why: this node's certificate may be unknown, expired or revoked there, or that node may still back this node off after an earlier refused try (its log says which); hamlet sync tries again now. If it goes on, ask the administrator (%s cert list shows the certificate here)\n"),
		       cli_prog());
}

/* One failing dial: where (under a peer's line: indent, "at ADDR"), why,
 * since when, and the next try. */
static void unreached_one(const msgpack_object *p, int cert_ok, int under)
{
	char addr[CLI_ADDR_MAX], why[256], at[32];
	if (!peer_str(p, "addr", addr, sizeof(addr)) ||
	    !peer_str(p, "why", why, sizeof(why)))
		return;
	cli_time_text(mp_map_u64(p, "since_ms"), 0, at);
	{
		/* hamletd keeps it in English: ours, or the C
		 * library's words for an errno */
		static const char cr[] = "cannot resolve: ";
		const char *t = cli_why(why);
		if (t == why && !cli_global.json)
			t = dgettext("libc", why);
		if (t != why) {
			snprintf(why, sizeof(why), "%s", t);
		} else if (!strncmp(why, cr, sizeof(cr) - 1)) {
			char rest[256];
			snprintf(rest, sizeof(rest), "%s",
				 why + sizeof(cr) - 1);
			snprintf(why, sizeof(why), _("cannot resolve: %s"),
				 rest);
		}
	}
	const msgpack_object *re = cli_mp_get(p, "reached");
	int reached = re && re->type == MSGPACK_OBJECT_BOOLEAN &&
		      re->via.boolean;
	if (under)
		printf(_("    at %s: "), addr);
	else
		printf("  %s: ", addr);
	printf(reached
		       ? P_("CONNECTS, BUT NO SESSION STARTS: %s (%llu try since %s; hamletd tries again in %llu s)\n",
			    "CONNECTS, BUT NO SESSION STARTS: %s (%llu tries since %s; hamletd tries again in %llu s)\n",
			    mp_map_u64(p, "tries"))
		       : P_("NOT REACHED: %s (%llu try since %s; hamletd tries again in %llu s)\n",
			    "NOT REACHED: %s (%llu tries since %s; hamletd tries again in %llu s)\n",
			    mp_map_u64(p, "tries")),
	       why, (unsigned long long)mp_map_u64(p, "tries"), at,
	       (unsigned long long)(mp_map_u64(p, "retry_in_ms") + 999) /
		       1000);
	if (reached)
		session_advice(p, addr, cert_ok);
}

/* The failing dials: with key NULL, those no peer of the list stands
 * for, each on a line of its own; else peer key's own, under its line. */
static void unreached_print(const msgpack_object *res,
			    const msgpack_object *key, int cert_ok)
{
	const msgpack_object *u = cli_mp_get(res, "unreached");
	char addr[CLI_ADDR_MAX];
	if (!u || u->type != MSGPACK_OBJECT_ARRAY)
		return;
	for (uint32_t i = 0; i < u->via.array.size; i++) {
		if (!peer_str(&u->via.array.ptr[i], "addr", addr, sizeof(addr)))
			continue;
		if (key ? same_str(dial_key(res, addr), key)
			: !dial_of_peer(res, addr))
			unreached_one(&u->via.array.ptr[i], cert_ok, key != NULL);
	}
}

/* The configured peers hamletd has met no key at yet (none answered
 * since it was first dialled, not even before a restart) and has not
 * failed to reach either: it is dialling them. */
static void undialled_print(const msgpack_object *res)
{
	const msgpack_object *dl = cli_mp_get(res, "dials");
	const msgpack_object *u = cli_mp_get(res, "unreached");
	if (!dl || dl->type != MSGPACK_OBJECT_ARRAY)
		return;
	for (uint32_t i = 0; i < dl->via.array.size; i++) {
		const msgpack_object *x = &dl->via.array.ptr[i];
		const msgpack_object *k = cli_mp_get(x, "key");
		char addr[CLI_ADDR_MAX], other[CLI_ADDR_MAX];
		int failing = 0;
		if ((k && k->type == MSGPACK_OBJECT_STR) ||
		    !peer_str(x, "addr", addr, sizeof(addr)))
			continue;
		for (uint32_t j = 0; u && u->type == MSGPACK_OBJECT_ARRAY &&
				     j < u->via.array.size;
		     j++)
			failing |= peer_str(&u->via.array.ptr[j], "addr", other,
					    sizeof(other)) &&
				   strcmp(addr, other) == 0;
		if (!failing)
			printf(_("  %s: not connected yet (hamletd is dialling it; no session with it is known)\n"),
			       addr);
	}
}

/* Addresses hamletd dials where no peer of the count has answered yet
 * (none, or a key that never completed a session), failing or not
 * connected yet: one that answered once is counted, and its own line
 * says it is down. */
static size_t dialled_waiting(const msgpack_object *res)
{
	const msgpack_object *dl = cli_mp_get(res, "dials");
	size_t n = 0;
	if (!dl || dl->type != MSGPACK_OBJECT_ARRAY)
		return 0;
	for (uint32_t i = 0; i < dl->via.array.size; i++) {
		char addr[CLI_ADDR_MAX];
		n += peer_str(&dl->via.array.ptr[i], "addr", addr,
			      sizeof(addr)) &&
		     !dial_of_peer(res, addr);
	}
	return n;
}

/* 1 when hamletd calls peer p a stranger: a key that never completed a
 * session with us (a scanner, a node refused at the handshake), not a
 * line of its own. */
static int stranger(const msgpack_object *p)
{
	const msgpack_object *v = cli_mp_get(p, "stranger");
	return v && v->type == MSGPACK_OBJECT_BOOLEAN && v->via.boolean;
}

/* The peers hamletd last met, as the store keeps them (at most
 * STOPPED_PEERS): what status can say of them with no daemon to ask. */
#define STOPPED_PEERS 64
struct contacts {
	uint8_t key[STOPPED_PEERS][32];
	uint64_t when[STOPPED_PEERS];
	size_t n, more;
};

static int contact_note(void *ctx, const uint8_t peer[32], uint64_t when_ms)
{
	struct contacts *c = ctx;
	if (c->n == STOPPED_PEERS) {
		c->more++;
		return 0;
	}
	memcpy(c->key[c->n], peer, 32);
	c->when[c->n++] = when_ms;
	return 0;
}

/* With hamletd stopped: each peer's last contact, and what waits for it
 * (status_peer_behind()). */
static void stopped_peers(const struct status_facts *st, struct store_txn *t)
{
	struct contacts *c;
	if (!t)
		return; /* the store did not open for reading: said above */
	c = calloc(1, sizeof(*c));
	if (!c || heard_contacts_each(t, contact_note, c) < 0) {
		free(c);
		return;
	}
	for (size_t i = 0; i < c->n; i++) {
		char who[NAMES_LABEL_MAX], at[32], when[32];
		struct names_who w;
		uint64_t newest = 0, waiting = 0;
		(void)cli_who_get(t, c->key[i], &w);
		names_moved(&w, cli_global.scopes); /* as peer_label() */
		names_label(&w, c->key[i], cli_global.keys, who);
		cli_time_text(c->when[i], 0, at);
		ago(c->when[i], when, sizeof(when));
		if (status_peer_behind(st->n, c->key[i], c->when[i], 0, &newest,
				       &waiting) < 0)
			waiting = status_waiting_since(st->n, c->when[i]);
		printf(P_("  %s: last met %s (%s); %llu entry waits to go out to it\n",
			  "  %s: last met %s (%s); %llu entries wait to go out to it\n",
			  waiting),
		       who, at, when, (unsigned long long)waiting);
	}
	if (c->more)
		printf(P_("  and %zu peer more\n", "  and %zu peers more\n",
			  c->more),
		       c->more);
	free(c);
}

/* One line for peer p of hamletd's answer, and what holds it below. */
static void peer_print(const struct status_facts *st, struct store_txn *t,
		       const msgpack_object *p)
{
	const msgpack_object *addr = cli_mp_get(p, "addr");
	int has_addr = addr && addr->type == MSGPACK_OBJECT_STR;
	char when[32], at[32], who[NAMES_LABEL_MAX], full[400];
	struct status_peer sp;
	uint64_t last;
	const char *state;

	/* the judgement --json and sync --wait make too; waiting counts
	 * only what the peer may read, as they do */
	status_peer_judge(st->n, p, &sp);
	last = sp.last_sync_ms;
	snprintf(full, sizeof(full),
		 P_("connected, NOT SYNCING: the disk is full; %llu entry received waits for space",
		    "connected, NOT SYNCING: the disk is full; %llu entries received wait for space",
		    sp.disk_wait),
		 (unsigned long long)sp.disk_wait);
	switch (sp.state) {
	case STATUS_PEER_DOWN:
		state = _("NOT CONNECTED");
		break;
	case STATUS_PEER_REVOKED:
		state = _("not connected, KEY REVOKED: every node refuses it, and nothing here waits for it (what it wrote before stays)");
		break;
	case STATUS_PEER_DISK_FULL:
		state = full;
		break;
	case STATUS_PEER_AHEAD:
		state = _("connected, NOT IN SYNC: it refuses entries sent to it, dated too far ahead of its clock");
		break;
	case STATUS_PEER_TOO_BIG:
		state = _("connected, HOLDING BACK entries: one is larger than the whole byte budget for this peer");
		break;
	case STATUS_PEER_HELD:
		state = _("connected, HOLDING BACK entries: the byte budget for this peer is used up");
		break;
	case STATUS_PEER_RECEIVING:
		state = _("connected, receiving");
		break;
	case STATUS_PEER_SENDING:
		state = _("connected, sending");
		break;
	case STATUS_PEER_BEHIND:
		state = _("connected, syncing");
		break;
	case STATUS_PEER_LAPSED:
		snprintf(full, sizeof(full),
			 P_("connected, NOT IN SYNC: it refuses %llu entry this node saved when no certificate of it held, and what this node wrote after it (the warning above says what to do)",
			    "connected, NOT IN SYNC: it refuses %llu entries this node saved when no certificate of it held, and what this node wrote after them (the warning above says what to do)",
			    sp.lapsed),
			 (unsigned long long)sp.lapsed);
		state = full;
		break;
	default:
		state = _("connected, in sync");
	}
	ago(last, when, sizeof(when));
	peer_label(t, p, who);
	printf("  %s", who);
	if (cli_global.keys && has_addr)
		printf(_(" at %.*s"), (int)addr->via.str.size,
		       addr->via.str.ptr);
	if (last) {
		cli_time_text(last, 0, at);
		printf(_(": %s, last agreed %s (%s)"), state, at, when);
	} else {
		printf(_(": %s, never agreed yet"), state);
	}
	printf(P_("; %llu entry waiting to go out",
		  "; %llu entries waiting to go out", sp.waiting),
	       (unsigned long long)sp.waiting);
	printf(P_("; sent %llu entry", "; sent %llu entries",
		  cli_mp_u64(p, "entries_out")),
	       (unsigned long long)cli_mp_u64(p, "entries_out"));
	{
		/* the bytes both ways, as sizes in the reader's way */
		char out[32], in[32];
		i18n_size(cli_mp_u64(p, "bytes_out"), out);
		i18n_size(cli_mp_u64(p, "bytes_in"), in);
		printf(_(", received %llu (%s sent / %s received)\n"),
		       (unsigned long long)cli_mp_u64(p, "entries_in"), out,
		       in);
	}
	progress_print(who, p);
	budget_print(who, p, &sp);
	ahead_print(who, p, &sp);
}

/* hamletd's count of arriving entries it refused, by reason, as words. */
static const struct {
	const char *key, *words;
} refusal[] = {
	{ "invalid", N_("malformed or forged") },
	{ "not_granted", N_("outside what their author's certificates let it write, or dated when none of them held") },
	{ "revoked", N_("past their author's revocation") },
	{ "out_of_scope", N_("outside this node's scopes") },
	{ "too_far_ahead", N_("dated too far ahead") },
	{ "held_cap", N_("past the limit on entries waiting") },
	{ "held_expired", N_("waited too long for an earlier entry") },
	{ "frozen_feed", N_("for a feed frozen after a fork") },
	{ "forks", N_("second entries at one seq (kept as evidence)") },
};

static void refused_print(const msgpack_object *res)
{
	const msgpack_object *m = cli_mp_get(res, "refused");
	const char *sep = "";

	printf(_("refused since the daemon started:"));
	if (!m || m->type != MSGPACK_OBJECT_MAP) {
		printf(_(" unknown (the daemon does not say)\n"));
		return;
	}
	for (size_t i = 0; i < sizeof(refusal) / sizeof(refusal[0]); i++) {
		uint64_t v = m ? cli_mp_u64(m, refusal[i].key) : 0;
		if (!v)
			continue;
		printf("%s %llu %s", sep, (unsigned long long)v,
		       _(refusal[i].words));
		sep = ";";
	}
	printf("%s\n", *sep ? "" : _(" nothing"));
}

/* Each of the first STATUS_MAX_RESTORING of n own feeds in v by fmt
 * (scope, signed, stored), then how many more. */
static void lags_print(const struct node_feed_lag *v, size_t n,
		       const char *fmt)
{
	for (size_t i = 0; i < n && i < STATUS_MAX_RESTORING; i++)
		printf(fmt, v[i].scope, (unsigned long long)v[i].signed_seq,
		       (unsigned long long)v[i].stored);
	if (n > STATUS_MAX_RESTORING)
		printf(_("  and %zu more: hamlet own-feeds lists them\n"),
		       n - STATUS_MAX_RESTORING);
}

/* Own writes that wait for the node's own earlier entries (a store
 * restored or replaced), and an own-feeds file that does not read.
 * revoked: the node's key is revoked, which takes out what it signed
 * after the revocation's cut-off: its store holds less than it signed
 * for that reason, and nothing brings those entries back. */
static void restoring_print(const struct status_facts *st, int revoked)
{
	if (st->feeds_problem == 1)
		printf(_("own writes: REFUSED: %s\n"), st->feeds_why);
	else if (st->feeds_problem == 2)
		printf(_("WARNING: %s\n"), st->feeds_why);
	cli_unrecorded_print(st->n->home, st->unrecorded,
			     st->nunrecorded < STATUS_MAX_RESTORING
				     ? st->nunrecorded
				     : STATUS_MAX_RESTORING,
			     st->nunrecorded);
	lags_print(st->gone, st->ngone,
		   _("own feed %s: signed up to seq %llu, the store holds up to seq %llu; its scope is no longer this node's to keep (moved, or no longer in its certificate): those entries stay with the nodes that keep it, and this node writes nothing there: nothing to do\n"));
	if (!st->nrestoring)
		return;
	if (revoked) {
		printf(P_("own writes: REFUSED: this node's key is revoked: what it signed after the revocation took effect was taken out of its store (in %zu feed), and every node refuses what it writes; nothing brings that back: the administrator certifies this PC anew, with a new key\n",
			  "own writes: REFUSED: this node's key is revoked: what it signed after the revocation took effect was taken out of its store (in %zu feeds), and every node refuses what it writes; nothing brings that back: the administrator certifies this PC anew, with a new key\n",
			  st->nrestoring),
		       st->nrestoring);
		return;
	}
	printf(P_("own writes: WAITING for this node's own earlier entries: its store was restored or replaced and holds less than the node signed in %zu feed; writes there are refused until its peers send them back (hamletd fetches them by itself while it runs and reaches them)\n",
		  "own writes: WAITING for this node's own earlier entries: its store was restored or replaced and holds less than the node signed in %zu feeds; writes there are refused until its peers send them back (hamletd fetches them by itself while it runs and reaches them)\n",
		  st->nrestoring),
	       st->nrestoring);
	lags_print(st->restoring, st->nrestoring,
		   _("  feed %s: signed up to seq %llu, the store holds up to seq %llu\n"));
	printf(_("  with no network: a bundle from the commune or another node that holds them brings them (hamlet summary here, carried there, hamlet bundle create --for it there, hamlet bundle import here)\n"));
	printf(_("  only if no node holds them (the store was lost before they were synced): hamlet own-feeds forget-lost; given up while a node holds them, they make a fork\n"));
}

/* This node's key signed two different entries at one seq of its own
 * feed: a copy of the key writes on another PC, or this PC's store was
 * put back from a backup and written in before it synced. Said before
 * anything else, as nothing here can mend it. */
static void own_forks_print(const struct status_facts *st)
{
	for (size_t i = 0; i < st->nown_forks && i < STATUS_MAX_OWN_FORKS;
	     i++)
		printf(_("WARNING: this node's key signed two different entries at seq %llu of its feed %s: this node writes nothing more in that feed, and what it wrote there after seq %llu reaches no other node (hamlet forks shows both entries). Either another PC uses this key (a copy of this node's files): stop that PC. Or this PC's store was put back from a backup and written in before it had synced with its peers: there is nothing to stop. Either way, call the administrator: the node needs a new key and certificate, and what it wrote in that feed since the fork must then be entered again\n"),
		       (unsigned long long)st->own_forks[i].seq,
		       st->own_forks[i].scope,
		       (unsigned long long)st->own_forks[i].seq);
	if (st->nown_forks > STATUS_MAX_OWN_FORKS)
		printf(P_("  and %zu more feed of this node's (hamlet forks lists it)\n",
			  "  and %zu more feeds of this node's (hamlet forks lists them)\n",
			  st->nown_forks - STATUS_MAX_OWN_FORKS),
		       st->nown_forks - STATUS_MAX_OWN_FORKS);
}

static void status_print(const struct status_facts *st)
{
	const struct status_totals *tot = &st->tot;
	struct node *n = st->n;
	uint64_t conflicts = st->conflicts;
	struct status_cert cf;
	struct store_txn *t = NULL;
	char pkhex[65], scope[SCOPEMAP_SHOW_MAX];

	/* names come from the trust set; without the store, keys show */
	if (store_txn_begin(n->st, 1, &t) < 0)
		t = NULL;
	cli_hex(n->pk, 32, pkhex);
	printf(_("node %s (%s), network %s\n"), n->name,
	       scopemap_show(n->smap, n->scope, scope, sizeof(scope)),
	       n->net.name);
	if (cli_global.keys)
		printf(_("node key: %s\n"), pkhex);
	if (scopemap_in_effect(n->smap))
		printf(_("scope moves: %zu in effect (hamlet scope list)\n"),
		       scopemap_in_effect(n->smap));
	status_cert_read(n, &cf);
	cert_line(&cf, n->name);
	{
		char why[1024];
		if (node_key_loose(n->home, why, sizeof(why)))
			printf(_("WARNING: %s\n"), why);
	}
	cli_lapse_print(stdout, _("WARNING: "), &st->lapse);
	own_forks_print(st);
	if (st->nother_forks)
		printf(P_("forks: %zu feed of another node frozen after a fork (its key signed two different entries at one seq: a copied key, or a store put back): %s forks shows both entries; the administrator revokes that key and certifies that PC anew\n",
			  "forks: %zu feeds of other nodes frozen after a fork (each one's key signed two different entries at one seq: a copied key, or a store put back): %s forks shows both entries; the administrator revokes those keys and certifies those PCs anew\n",
			  st->nother_forks),
		       st->nother_forks, cli_prog());
	/* two counts, each with its own plural */
	printf(P_("store: %llu entry", "store: %llu entries", tot->entries),
	       (unsigned long long)tot->entries);
	printf(P_(" in %llu feed (%llu written here)",
		  " in %llu feeds (%llu written here)", tot->feeds),
	       (unsigned long long)tot->feeds, (unsigned long long)tot->own);
	if (st->held)
		printf(_(", %llu held, waiting for an earlier entry of their feed or their author's certificate"),
		       (unsigned long long)st->held);
	printf("\n");
	if (tot->newest_ms) {
		char at[32];
		cli_time_text(tot->newest_ms, 0, at);
		printf(_("newest entry: %s\n"), at);
	}
	if (conflicts) {
		printf(P_("conflicts: %llu record needs a decision",
			  "conflicts: %llu records need a decision",
			  conflicts),
		       (unsigned long long)conflicts);
		/* duplicates are records of their own, each holding a key
		 * another holds: told apart from values in conflict, as the
		 * status page tells them */
		if (st->duplicates)
			printf(P_(" (of them, %llu a duplicate: a record whose key another record holds too)",
				  " (of them, %llu duplicates: records whose key another record holds too)",
				  st->duplicates),
			       (unsigned long long)st->duplicates);
		/* past the first STATUS_MAX_CLASSIFY records, counted
		 * only: the duplicates above are of those looked at */
		if (st->unclassified)
			printf(P_("; %llu more not told apart here",
				  "; %llu more not told apart here",
				  st->unclassified),
			       (unsigned long long)st->unclassified);
		printf(_(": %s conflicts\n"), cli_prog());
	} else
		printf(_("conflicts: none\n"));
	restoring_print(st, cf.r == HAMLET_EREVOKED);
	if (!st->running && daemon_err == CLI_EUNREACHED) {
		/* it holds the node: this command missed its socket, which
		 * the line before says */
		printf(_("daemon: RUNNING, but this command cannot reach its socket (the line above says which socket, and what to do); its peers and what waits for them are not shown\n"));
		store_txn_abort(t);
		return;
	}
	if (!st->running && daemon_err) {
		printf(_("daemon: DOES NOT ANSWER (%s): it may be stopped or stuck; nothing syncs meanwhile. Restart it (systemctl restart hamletd)\n"),
		       cli_strerror(daemon_err));
		store_txn_abort(t);
		return;
	}
	if (!st->running) {
		printf(_("daemon: not running; nothing syncs until it starts (systemctl start hamletd; bundles still work)\n"));
		stopped_peers(st, t);
		store_txn_abort(t);
		return;
	}
	size_t strangers = 0;
	char who[300];
	for (size_t i = 0; i < st->np; i++)
		strangers += stranger(&st->peers->via.array.ptr[i]);
	printf(P_("daemon: running; %zu peer", "daemon: running; %zu peers",
		  st->np - strangers),
	       st->np - strangers);
	{
		/* "0 peers" alone reads as none set up, while the daemon
		 * dials one it cannot reach: the lines below say which */
		size_t w = dialled_waiting(st->res);
		if (w)
			printf(P_("; %zu address it dials is not connected (below)",
				  "; %zu addresses it dials are not connected (below)",
				  w),
			       w);
	}
	printf("\n");
	refused_print(st->res);
	{
		const msgpack_object *u = cli_mp_get(st->res, "own_scope_unread");
		if (u && u->type == MSGPACK_OBJECT_BOOLEAN && u->via.boolean)
			printf(_("WARNING: no connected peer takes what this node writes (its scope %s): it stays here, though each peer is in sync with it. Point this node at a peer that reads %s (hamlet peers add HOST:PORT; after a move, its new commune)\n"),
			       n->scope, n->scope);
		else if (status_writes_stuck(n, st->res, who, sizeof(who)))
			printf(_("WARNING: what this node writes waits for %s, which is not connected, and no connected peer takes it: it reaches no one until that peer is back (its line below says why)\n"),
			       who);
	}
	for (size_t i = 0; i < st->np; i++) {
		const msgpack_object *p = &st->peers->via.array.ptr[i];
		if (!stranger(p)) {
			peer_print(st, t, p);
			unreached_print(st->res, cli_mp_get(p, "key"),
					cf.r >= 0);
		}
	}
	if (strangers)
		printf(P_("  (and %zu key that never completed a session: refused, or gone during the handshake; hamlet status --json lists it)\n",
			  "  (and %zu keys that never completed a session: refused, or gone during the handshake; hamlet status --json lists them)\n",
			  strangers),
		       strangers);
	unreached_print(st->res, NULL, cf.r >= 0);
	undialled_print(st->res);
	store_txn_abort(t);
}

int cmd_status(int argc, char **argv)
{
	const char *sockopt = NULL;
	struct status_facts st = { 0 };
	struct mp_doc doc;
	uint8_t *buf = NULL;
	char *pos[1];
	int npos, r, have_doc = 0;
	const struct cli_opt opts[] = {
		{ "--socket", &sockopt, NULL },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("status", argc, argv, opts, pos, 0, &npos)) < 0)
		goto out;
	if ((r = cli_node_open(1, &st.n, NULL)) < 0)
		goto out;
	if ((r = status_store_read(&st)) < 0) {
		cli_err(_("cannot read the store: %s"), cli_strerror(r));
		r = cli_store_fault(r);
		goto out;
	}
	r = cli_rpc(cli_socket_path(sockopt), "status", NULL, 1, &doc, &buf,
		    &st.res);
	/* a daemon that runs but does not answer (stopped, stuck): what
	 * the store says is still worth showing, with that */
	if (r < 0 && r != -ENOENT)
		daemon_err = r;
	st.running = r == 0;
	have_doc = st.running;
	st.peers = st.running ? cli_mp_get(st.res, "peers") : NULL;
	st.np = st.peers && st.peers->type == MSGPACK_OBJECT_ARRAY
			? st.peers->via.array.size
			: 0;
	if (cli_global.json) {
		json_t *j = status_json(&st);
		if (daemon_err)
			json_object_set_new(
				j, "daemon_error",
				json_string(daemon_err == CLI_EUNREACHED
						    ? cli_tr(N_("its socket cannot be reached"))
						    : cli_strerror(daemon_err)));
		cli_json_print(j);
	} else {
		status_print(&st);
	}
	r = daemon_err ? CLI_EPROBLEMS : 0;
out:
	if (have_doc)
		mp_doc_close(&doc);
	free(buf);
	node_close(st.n);
	return cli_exit_code(r);
}
