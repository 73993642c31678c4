/*
 * hamlet sync [PEER] [--wait [--timeout S]] [--socket PATH]
 *
 * Ask the daemon to reconcile now with its connected peers, or with PEER
 * alone (its address, its certificate's name or a prefix of its key),
 * and to dial now, once, the configured peers not connected (their
 * backoff cut short). With --wait, exit 0 once each of them has synced
 * since the request, nothing is moving any more, nothing is left to send
 * to it or unacknowledged by it, and status judges each in sync
 * (status_peer_judge); exit 1 on timeout, or at once when every
 * peer dialled has failed since, saying which peer is not there and
 * why, or when waiting changes nothing (this node's disk full, entries
 * refused as dated ahead, a byte budget), saying what to do.
 */
#include "cli.h"
#include "vi_fold.h"
#include "i18n.h"
#include "progress.h"
#include "status.h"
#include "sync_why.h"

#include "error.h"
#include "hlc.h"

#include <errno.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <time.h>

#define POLL_MS 300
#define STABLE_POLLS 3
#define CLI_DIAL_MAX 256  /* addresses a daemon dials (CONFIG_MAX_PEERS) */
#define CLI_DIAL_ADDR 256 /* bytes of one (CONFIG_MAX_ADDR) */
#define MOTION_MAX 64	  /* peers whose movement a wait follows */

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* A string field of a status peer equal to s (n bytes). */
static int field_is(const msgpack_object *p, const char *k, const char *s,
		    size_t n)
{
	const msgpack_object *a = cli_mp_get(p, k);
	return a && a->type == MSGPACK_OBJECT_STR && a->via.str.size == n &&
	       !memcmp(a->via.str.ptr, s, n);
}

/* A status peer named by its address, its certificate's name or a
 * prefix of its key (>= 4 hex). */
static int peer_named(const msgpack_object *p, const char *name)
{
	const msgpack_object *k = cli_mp_get(p, "key");
	size_t n = strlen(name);
	if (field_is(p, "addr", name, n) || field_is(p, "name", name, n))
		return 1;
	return n >= 4 && k && k->type == MSGPACK_OBJECT_STR &&
	       k->via.str.size >= n && !strncasecmp(k->via.str.ptr, name, n);
}

/*
 * The key (hex) of the one connected-or-not peer in status whose
 * certificate's name is name as people type it: case and Vietnamese marks
 * aside ("xa quang thuan" for "Xã Quang Thuận"). 1 with key and the name
 * as the certificate has it; 0 when none or more than one is.
 */
static int peer_by_folded_name(const char *sock, const char *name,
			       char key[65], char *shown, size_t cap)
{
	struct mp_doc doc;
	uint8_t *buf = NULL;
	const msgpack_object *res, *peers;
	char want[256], have[256];
	int found = 0;

	if (cli_rpc(sock, "status", NULL, 1, &doc, &buf, &res) < 0)
		return 0;
	vi_fold(name, strlen(name), want, sizeof(want));
	peers = cli_mp_get(res, "peers");
	for (uint32_t k = 0; peers && peers->type == MSGPACK_OBJECT_ARRAY &&
			     k < peers->via.array.size;
	     k++) {
		const msgpack_object *p = &peers->via.array.ptr[k];
		const msgpack_object *nm = cli_mp_get(p, "name");
		const msgpack_object *ky = cli_mp_get(p, "key");
		if (!nm || nm->type != MSGPACK_OBJECT_STR || !ky ||
		    ky->type != MSGPACK_OBJECT_STR || ky->via.str.size != 64)
			continue;
		vi_fold(nm->via.str.ptr, nm->via.str.size, have, sizeof(have));
		if (strcmp(want, have) != 0)
			continue;
		if (found && memcmp(key, ky->via.str.ptr, 64) != 0) {
			found = 0; /* two peers go by that name: say none */
			break;
		}
		memcpy(key, ky->via.str.ptr, 64);
		key[64] = 0;
		snprintf(shown, cap, "%.*s", (int)nm->via.str.size,
			 nm->via.str.ptr);
		found = 1;
	}
	mp_doc_close(&doc);
	free(buf);
	return found;
}

/* The addresses of status result res's "unreached" (those the daemon
 * dials and has not reached since its last try) into out, one a line. */
static void unreached_text(const msgpack_object *res, char *out, size_t n,
			   int refused)
{
	const msgpack_object *u = cli_mp_get(res, "unreached");
	size_t o = 0;

	out[0] = 0;
	for (uint32_t k = 0; u && u->type == MSGPACK_OBJECT_ARRAY &&
			     k < u->via.array.size;
	     k++) {
		const msgpack_object *a = cli_mp_get(&u->via.array.ptr[k], "addr");
		int w;
		if (!a || a->type != MSGPACK_OBJECT_STR || o >= n ||
		    field_is(&u->via.array.ptr[k], "stage", "peer_certificate",
			     16) != refused)
			continue;
		w = snprintf(out + o, n - o, "%.*s\n", (int)a->via.str.size,
			     a->via.str.ptr);
		if (w < 0 || (size_t)w >= n - o)
			break; /* the lines that fit */
		o += (size_t)w;
	}
}

/* Why the wait goes on: peer p, at address a, is not connected. */
static void peer_down(const msgpack_object *p, const msgpack_object *a,
		      char *reason, size_t n)
{
	const msgpack_object *nm = cli_mp_get(p, "name");
	int as = a && a->type == MSGPACK_OBJECT_STR;
	if (nm && nm->type == MSGPACK_OBJECT_STR)
		snprintf(reason, n, cli_tr(N_("peer \"%.*s\" (%.*s) is not connected")),
			 (int)nm->via.str.size, nm->via.str.ptr,
			 as ? (int)a->via.str.size : 1,
			 as ? a->via.str.ptr : "?");
	else
		snprintf(reason, n, cli_tr(N_("peer %.*s is not connected")),
			 as ? (int)a->via.str.size : 1,
			 as ? a->via.str.ptr : "?");
}

/* Append peer p's name (else its address, else the start of its key) to
 * the list in out, comma-separated, as far as it fits. */
static void stale_add(const msgpack_object *p, const msgpack_object *a,
		      char *out, size_t n)
{
	const msgpack_object *nm = cli_mp_get(p, "name");
	const msgpack_object *k = cli_mp_get(p, "key");
	const msgpack_object *l = nm && nm->type == MSGPACK_OBJECT_STR ? nm
				  : a && a->type == MSGPACK_OBJECT_STR ? a
									: k;
	size_t o = strlen(out);
	int w = 0;
	if (l && l->type == MSGPACK_OBJECT_STR)
		w = (int)l->via.str.size;
	if (l == k && w > 8)
		w = 8;
	if (o < n)
		snprintf(out + o, n - o, "%s%.*s", o ? ", " : "", w,
			 w ? l->via.str.ptr : "");
}

/*
 * Which peers entries still move with: each peer's counters (sum) at
 * the last poll, by key, and the poll they last changed at.
 */
struct motion {
	char key[65];
	uint64_t sum;
	int moved_at;
};

/* Peer p's counters are sum at poll: note it in m (n of MOTION_MAX);
 * returns 1 when they changed in the last STABLE_POLLS polls (a peer
 * first seen with entries moved counts as changed, as the total does). */
static int motion_note(struct motion *m, size_t *n, const msgpack_object *p,
		       uint64_t sum, int poll)
{
	const msgpack_object *k = cli_mp_get(p, "key");
	struct motion *x = NULL;

	if (!k || k->type != MSGPACK_OBJECT_STR || k->via.str.size > 64)
		return 0;
	for (size_t i = 0; i < *n && !x; i++)
		if (strlen(m[i].key) == k->via.str.size &&
		    !memcmp(m[i].key, k->via.str.ptr, k->via.str.size))
			x = &m[i];
	if (!x) {
		if (*n == MOTION_MAX)
			return 0;
		x = &m[(*n)++];
		snprintf(x->key, sizeof(x->key), "%.*s", (int)k->via.str.size,
			 k->via.str.ptr);
		x->sum = 0;
		x->moved_at = -STABLE_POLLS;
	}
	if (sum != x->sum)
		x->moved_at = poll;
	x->sum = sum;
	return poll - x->moved_at < STABLE_POLLS;
}

/* An English reason hamletd keeps (ours, or the C library's words for
 * an errno) in the user's language, as hamlet status shows it. */
static void why_words(const msgpack_object *w, char *out, size_t n)
{
	static const char cr[] = "cannot resolve: ";
	char en[256];
	const char *t;

	snprintf(en, sizeof(en), "%.*s",
		 w && w->type == MSGPACK_OBJECT_STR ? (int)w->via.str.size : 0,
		 w && w->type == MSGPACK_OBJECT_STR ? w->via.str.ptr : "");
	t = cli_tr(en);
	if (t == en && !cli_global.json)
		t = dgettext("libc", en);
	if (t != en)
		snprintf(out, n, "%s", t);
	else if (!strncmp(en, cr, sizeof(cr) - 1))
		snprintf(out, n, cli_tr(N_("cannot resolve: %s")),
			 cli_tr(en + sizeof(cr) - 1));
	else
		snprintf(out, n, "%s", en);
}

/* Whom the daemon dials at addr (a, a status string): "c1 (ADDR)" when
 * a key answered there and has a name, else the address. */
static void dial_label(const msgpack_object *res, const msgpack_object *a,
		       char *out, size_t n)
{
	const msgpack_object *dl = cli_mp_get(res, "dials");
	const msgpack_object *peers = cli_mp_get(res, "peers");
	const msgpack_object *key = NULL;

	snprintf(out, n, "%.*s", (int)a->via.str.size, a->via.str.ptr);
	for (uint32_t k = 0; dl && dl->type == MSGPACK_OBJECT_ARRAY &&
			     k < dl->via.array.size;
	     k++) {
		const msgpack_object *x = &dl->via.array.ptr[k];
		if (field_is(x, "addr", a->via.str.ptr, a->via.str.size))
			key = cli_mp_get(x, "key");
	}
	if (!key || key->type != MSGPACK_OBJECT_STR)
		return;
	for (uint32_t k = 0; peers && peers->type == MSGPACK_OBJECT_ARRAY &&
			     k < peers->via.array.size;
	     k++) {
		const msgpack_object *p = &peers->via.array.ptr[k];
		const msgpack_object *nm = cli_mp_get(p, "name");
		if (!field_is(p, "key", key->via.str.ptr, key->via.str.size) ||
		    !nm || nm->type != MSGPACK_OBJECT_STR)
			continue;
		snprintf(out, n, "%.*s (%.*s)", (int)nm->via.str.size,
			 nm->via.str.ptr, (int)a->via.str.size,
			 a->via.str.ptr);
	}
}

/* Is the string a one of the n addresses in list (n 0: any is)? */
static int addr_in(const msgpack_object *a, char (*list)[CLI_DIAL_ADDR],
		   size_t n)
{
	if (!n)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == a->via.str.size &&
		    !memcmp(list[i], a->via.str.ptr, a->via.str.size))
			return 1;
	return 0;
}

/*
 * The configured peers of status result res that hamletd does not reach,
 * among the n addresses of list (all when n is 0), in words with why, at
 * most 3 ("c1 (127.0.0.1:4000): not reached: connection refused"), into
 * out ("" when none). Returns 1 when each of the n has failed at a try
 * made after asked (wall clock, ms): then no dial asked for is under way.
 */
/* What the operator does about a dial that fails for why (hamletd's
 * English words), as the status page advises; NULL when nothing is to
 * be done here but wait. */
static const char *dial_advice(const msgpack_object *why, int reached)
{
	char w[256];

	if (reached || !why || why->type != MSGPACK_OBJECT_STR ||
	    why->via.str.size >= sizeof(w))
		return NULL;
	memcpy(w, why->via.str.ptr, why->via.str.size);
	w[why->via.str.size] = 0;
	if (strcmp(w, "Connection refused") == 0)
		return _("The PC there is on, but hamletd is not running on it: ask someone there to start it (systemctl start hamletd). hamletd here keeps trying by itself");
	if (strncmp(w, "cannot resolve", 14) == 0)
		return _("The name of that PC is wrong, or this line has no DNS: give its address instead (hamlet peers list; hamlet peers add HOST:PORT)");
	if (strstr(w, "timed out") || strstr(w, "unreachable") ||
	    strstr(w, "No route"))
		return _("The line or that PC is down: hamletd here keeps trying by itself; meanwhile a USB stick carries the records (hamlet summary there, hamlet bundle create --for it here)");
	return NULL;
}

static int unreached_why(const msgpack_object *res,
			 char (*list)[CLI_DIAL_ADDR], size_t n,
			 uint64_t asked, char *out, size_t cap,
			 const char **advice)
{
	const msgpack_object *u = cli_mp_get(res, "unreached");
	size_t o = 0, shown = 0, failed = 0;

	out[0] = 0;
	*advice = NULL;
	for (uint32_t k = 0; u && u->type == MSGPACK_OBJECT_ARRAY &&
			     k < u->via.array.size;
	     k++) {
		const msgpack_object *x = &u->via.array.ptr[k];
		const msgpack_object *a = cli_mp_get(x, "addr");
		const msgpack_object *re = cli_mp_get(x, "reached");
		char who[300], why[256];
		int w;
		if (!a || a->type != MSGPACK_OBJECT_STR || !addr_in(a, list, n))
			continue;
		failed += n && cli_mp_u64(x, "last_ms") >= asked;
		if (shown++ >= 3 || o >= cap)
			continue;
		dial_label(res, a, who, sizeof(who));
		why_words(cli_mp_get(x, "why"), why, sizeof(why));
		if (!*advice)
			*advice = dial_advice(
				cli_mp_get(x, "why"),
				re && re->type == MSGPACK_OBJECT_BOOLEAN &&
					re->via.boolean);
		w = snprintf(out + o, cap - o, "%s", o ? "; " : "");
		if (w > 0 && (size_t)w < cap - o)
			o += (size_t)w;
		w = snprintf(out + o, cap - o,
			     re && re->type == MSGPACK_OBJECT_BOOLEAN &&
					     re->via.boolean
				     ? cli_tr(N_("%s: connects, but no session starts: %s"))
				     : cli_tr(N_("%s: not reached: %s")),
			     who, why);
		if (w > 0)
			o += (size_t)w < cap - o ? (size_t)w : cap - o - 1;
	}
	return n && failed == n;
}

/* The addresses the daemon's sync_now answer (res) says it dials now,
 * into list (at most cap); how many, and them joined by ", " in text. */
static size_t dialling_read(const msgpack_object *res,
			    char (*list)[CLI_DIAL_ADDR], size_t cap,
			    char *text, size_t tcap)
{
	const msgpack_object *dl =
		res && res->type == MSGPACK_OBJECT_MAP
			? cli_mp_get(res, "dialling")
			: NULL;
	size_t n = 0, o = 0;

	text[0] = 0;
	for (uint32_t k = 0; dl && dl->type == MSGPACK_OBJECT_ARRAY &&
			     k < dl->via.array.size && n < cap;
	     k++) {
		const msgpack_object *a = &dl->via.array.ptr[k];
		int w;
		if (a->type != MSGPACK_OBJECT_STR)
			continue;
		snprintf(list[n++], CLI_DIAL_ADDR, "%.*s", (int)a->via.str.size,
			 a->via.str.ptr);
		if (o < tcap) {
			w = snprintf(text + o, tcap - o, "%s%s", o ? ", " : "",
				     list[n - 1]);
			if (w > 0)
				o += (size_t)w < tcap - o ? (size_t)w
							  : tcap - o - 1;
		}
	}
	return n;
}

/* --json: the outcome of the wait. */
static void wait_json(int in_sync, size_t connected, const char *reason,
		      uint64_t held)
{
	json_t *j = json_pack("{s:b, s:I, s:I}", "in_sync", in_sync,
			      "connected", (json_int_t)connected,
			      "entries_held_by_budget", (json_int_t)held);
	if (j && !in_sync)
		json_object_set_new(j, "reason", json_string(reason));
	cli_json_print(j);
}

/* This node's own feeds a fork froze (status_own_forks()): what it writes
 * there reaches no node, whatever the peers say, and waiting changes
 * nothing. 1 with why saying so (the first of them), else 0. */
static int own_forked(struct node *n, char *why, size_t wl)
{
	struct status_own_fork v[STATUS_MAX_OWN_FORKS];
	struct store_txn *t;
	size_t k = 0;
	int r;

	if (!n || store_txn_begin(n->st, 1, &t) < 0)
		return 0;
	r = status_own_forks(t, n->pk, v, STATUS_MAX_OWN_FORKS, &k);
	store_txn_abort(t);
	if (r < 0 || k == 0)
		return 0;
	snprintf(why, wl,
		 cli_tr(N_("this node's own feed %s is frozen after a fork at seq %llu (its key signed two different entries there): what it wrote there after that seq reaches no other node, and waiting changes nothing. Either another PC uses this key, or this PC's store was put back from a backup and written in before it had synced: hamlet status says what to do")),
		 v[0].scope, (unsigned long long)v[0].seq);
	return 1;
}

/* The wait ends now, not in sync, for why: said on stderr (or in JSON);
 * CLI_EPROBLEMS. */
static int wait_fail(struct progress **prog, size_t connected,
		     const char *why, uint64_t held)
{
	progress_end(*prog);
	*prog = NULL;
	if (cli_global.json)
		wait_json(0, connected, why, held);
	else
		cli_err(cli_tr(N_("not in sync: %s")), why);
	return CLI_EPROBLEMS;
}

int cmd_sync(int argc, char **argv)
{
	const char *sockopt = NULL, *timeout_s = NULL;
	int wait = 0, npos, r;
	char *pos[1];
	const struct cli_opt opts[] = {
		{ "--socket", &sockopt, NULL },
		{ "--wait", NULL, &wait },
		{ "--timeout", &timeout_s, NULL },
		{ NULL, NULL, NULL },
	};
	struct mp_doc doc;
	uint8_t *buf = NULL;
	const msgpack_object *res;
	struct progress *prog = NULL;
	char down[1024] = ""; /* addresses dialled and not reached */
	char refused[1024] = ""; /* those whose certificate we refuse */
	const char *shown_name = NULL; /* the peer asked for, as named */
	/* the addresses hamletd dials now at our request */
	static char dials[CLI_DIAL_MAX][CLI_DIAL_ADDR];
	char dial_text[1024];
	size_t ndials = 0;
	uint64_t asked_n = 0;
	struct node *node = NULL; /* to tell where this node's writes wait */

	if ((r = cli_parse("sync", argc, argv, opts, pos, 1, &npos)) < 0)
		goto out;
	char *tend = NULL;
	long timeout = timeout_s ? strtol(timeout_s, &tend, 10) : 60;
	if (timeout_s && (tend == timeout_s || *tend)) {
		/* with a unit as report lag --threshold takes it: "90s",
		 * "10m", "1h"; whole seconds */
		uint64_t ms = 0;
		timeout = cli_duration_parse(timeout_s, 86400000ull, &ms) == 0 &&
					  ms % 1000 == 0
				  ? (long)(ms / 1000)
				  : 0; /* "5x", "": said as out of range */
	}
	if (timeout <= 0 || timeout > 86400) {
		r = cli_usage_err("sync", _("--timeout takes seconds, 1 to 86400 (or a duration: 90s, 10m, 1h)"));
		goto out;
	}
	if (timeout_s && !wait) {
		/* without --wait, sync only asks, and returns at once */
		r = cli_usage_err("sync", _("--timeout goes with --wait: hamlet sync --wait --timeout S"));
		goto out;
	}
	if (npos && !pos[0][0]) {
		r = cli_usage_err("sync", _("the peer given is empty: give its name, its key or its HOST:PORT (hamlet peers list shows them), or none for every peer"));
		goto out;
	}
	const char *sock = cli_socket_path(sockopt);
	const char *typed = npos ? pos[0] : NULL;
	char key[65], shown[256];
	/* a peer named as people type its name: matched in status by its
	 * key, shown by its name; hamletd is asked with the name as typed
	 * (it matches names so too), so that what it answers names it so */
	if (npos && peer_by_folded_name(sock, pos[0], key, shown, sizeof(shown))) {
		pos[0] = key;
		shown_name = shown;
	}
	uint64_t asked = hlc_wall_ms();
	/* within --timeout too, when it is shorter than the usual wait */
	if ((r = cli_rpc_wait(sock, "sync_now", typed,
			      wait && timeout < 10 ? (int)timeout * 1000 : 10000,
			      0, &doc, &buf, &res)) < 0)
		goto out;
	if (res->type == MSGPACK_OBJECT_MAP)
		asked_n = cli_mp_u64(res, "asked");
	ndials = dialling_read(res, dials, CLI_DIAL_MAX, dial_text,
			       sizeof(dial_text));
	mp_doc_close(&doc);
	free(buf);
	buf = NULL;
	if (!wait) {
		const char *who = shown_name ? shown_name : typed;
		if (cli_global.json) {
			json_t *j = json_pack("{s:b, s:s?, s:I}", "started",
					      asked_n > 0, "peer", who,
					      "connected_asked",
					      (json_int_t)asked_n);
			json_t *a = json_array();
			for (size_t i = 0; i < ndials && i < CLI_DIAL_MAX; i++)
				json_array_append_new(a, json_string(dials[i]));
			json_object_set_new(j, "dialling", a);
			cli_json_print(j);
		} else if (npos && asked_n) {
			printf(_("sync started with %s\n"), who);
		} else if (npos) {
			printf(_("%s is not connected; dialling it now (%s): it syncs once it connects (hamlet status shows it)\n"),
			       who, dial_text);
		} else {
			if (asked_n)
				printf(_("sync started with every connected peer\n"));
			if (asked_n && ndials)
				printf(P_("dialling %zu peer not connected now: %s\n",
					  "dialling %zu peers not connected now: %s\n",
					  ndials),
				       ndials, dial_text);
			else if (ndials)
				printf(P_("no peer connected; dialling %zu peer now: %s (each syncs once it connects; hamlet sync --wait waits for it)\n",
					  "no peer connected; dialling %zu peers now: %s (each syncs once it connects; hamlet sync --wait waits for them)\n",
					  ndials),
				       ndials, dial_text);
			else if (!asked_n)
				cli_err(_("no peer is connected, and this node dials none (hamlet peers list): nothing to sync with until a peer dials in"));
		}
		r = asked_n || ndials ? 0 : CLI_EPROBLEMS;
		goto out;
	}
	if (ndials && !cli_global.json)
		cli_err(P_("dialling %zu peer not connected now: %s",
			   "dialling %zu peers not connected now: %s", ndials),
			ndials, dial_text);

	/* wait: every connected peer synced since we asked, counters still */
	uint64_t last_sum = 0, out_base = 0; /* out_acked at the start, + 1 */
	int stable = 0, polls = (int)(timeout * 1000 / POLL_MS);
	prog = progress_new(_("receiving"), _("entries"), 0);
	char reason[1024], held_why[400] = "", down_why[800], stale[400];
	const char *advice = NULL; /* for a dial that failed: what to do */
	int down_said = 0; /* the reason names the dials that failed */
	size_t last_connected = 0;
	uint64_t last_held = 0;
	char stuck[300];
	/* the peers entries still move with, named when the wait ends so */
	static struct motion motion[MOTION_MAX];
	size_t nmotion = 0;
	char moving[400];
	if (cli_node_open(1, &node, NULL) < 0)
		node = NULL; /* the checks are skipped, not the wait */
	snprintf(reason, sizeof(reason), "%s",
		 cli_tr(N_("no answer from the daemon")));
	for (int i = 0; i < polls; i++) {
		/* --timeout is kept by the clock, not by the count of polls:
		 * a daemon slow to answer (stopped, swapping) takes no more
		 * than what is left of it, and 1 s past it at most */
		uint64_t end = asked + (uint64_t)timeout * 1000, now;
		int left_ms;
		sleep_ms(POLL_MS);
		if ((now = hlc_wall_ms()) >= end)
			break;
		left_ms = end - now > 10000 ? 10000
			  : end - now < 1000 ? 1000
					     : (int)(end - now);
		if ((r = cli_rpc_wait(sock, "status", NULL, left_ms,
				      CLI_RPC_QUIET_TIMEOUT, &doc, &buf,
				      &res)) == -ETIMEDOUT) {
			/* the wait ends as any that --timeout ends */
			snprintf(reason, sizeof(reason), "%s",
				 cli_tr(N_("hamletd did not answer in the time left (stopped, or too busy?)")));
			break;
		}
		if (r < 0)
			goto out;
		const msgpack_object *peers = cli_mp_get(res, "peers");
		size_t np = peers && peers->type == MSGPACK_OBJECT_ARRAY
				    ? peers->via.array.size
				    : 0;
		uint64_t sum = 0, got = 0, want = 0, held = 0, per_s = 0;
		uint64_t out_acked = 0, out_left = 0; /* the sending side */
		size_t connected = 0, fresh = 0, matched = 0;
		/* the first peer a budget holds entries for; the first whose
		 * state waiting on does not change (this disk full, entries
		 * refused as dated ahead); the first still sending */
		const msgpack_object *held_p = NULL, *hard_p = NULL;
		const msgpack_object *recv_p = NULL, *send_p = NULL;
		struct status_peer sp, held_sp = { 0 }, hard_sp = { 0 };
		struct status_peer send_sp = { 0 };
		char hard_why[800], recv_why[sizeof(reason)];
		char send_why[sizeof(reason)];
		int named_down = 0, own_unread = 0, disk_full = 0;
		int recv_stalled = 0;
		int is_stuck = !npos && node &&
			       status_writes_stuck(node, res, stuck,
						   sizeof(stuck));
		/* own entries no certificate covered at their date: every
		 * peer that reads this node's scope refuses them */
		struct node_lapse lapse = { 0 };
		int lapse_seen = 0;
		if (node && node_lapse_find(node, NULL, &lapse) < 0)
			lapse.entries = 0;
		reason[0] = stale[0] = moving[0] = 0;
		for (size_t k = 0; k < np; k++) {
			const msgpack_object *p = &peers->via.array.ptr[k];
			const msgpack_object *c = cli_mp_get(p, "connected");
			const msgpack_object *a = cli_mp_get(p, "addr");
			int up = c && c->type == MSGPACK_OBJECT_BOOLEAN &&
				 c->via.boolean;
			int named = npos && peer_named(p, pos[0]);
			if (npos && !named)
				continue; /* only the peer asked for counts */
			matched += named;
			const msgpack_object *g = cli_mp_get(p, "progress");
			/* the judgement status makes of it, but for how
			 * its last agreement stands to our newest entry
			 * (below): that reads every feed, too much to do
			 * at each poll */
			status_peer_judge(NULL, p, &sp);
			disk_full |= sp.state == STATUS_PEER_DISK_FULL;
			if (g && g->type == MSGPACK_OBJECT_MAP) {
				got += cli_mp_u64(g, "received");
				want += cli_mp_u64(g, "total");
				per_s += cli_mp_u64(g, "per_s");
			}
			uint64_t psum = cli_mp_u64(p, "entries_in") +
					cli_mp_u64(p, "entries_out") +
					cli_mp_u64(p, "bytes_in") +
					cli_mp_u64(p, "bytes_out");
			sum += psum;
			int moves = motion_note(motion, &nmotion, p, psum, i);
			if (moves)
				stale_add(p, a, moving, sizeof(moving));
			if (!up) {
				/* only a peer asked for by name holds the
				 * wait: one that dialled us and went away
				 * cannot sync, nor can one we cannot reach */
				if (named && !reason[0]) {
					peer_down(p, a, reason, sizeof(reason));
					named_down = 1;
				}
				continue;
			}
			connected++;
			if (lapse.entries && !lapse_seen)
				lapse_seen = status_peer_reads_own(node, p) == 1;
			if (cli_mp_u64(p, "last_sync_ms") + 1000 >= asked)
				fresh++;
			else
				stale_add(p, a, stale, sizeof(stale));
			if ((sp.state == STATUS_PEER_DISK_FULL ||
			     sp.state == STATUS_PEER_AHEAD) &&
			    !moves && !hard_p) {
				hard_p = p;
				hard_sp = sp;
			}
			if (sp.held && !held_p) {
				held_p = p;
				held_sp = sp;
			}
			held += sp.held;
			if (sp.state == STATUS_PEER_RECEIVING && !recv_p)
				recv_p = p;
			/* the sender's side: nothing is in sync while
			 * entries are queued for the peer or not
			 * acknowledged by it, however still the link */
			if (sp.state == STATUS_PEER_SENDING && !send_p) {
				send_p = p;
				send_sp = sp;
			}
			if (sp.state == STATUS_PEER_SENDING) {
				out_left += sp.to_send + sp.unacked;
				out_acked += cli_mp_u64(p, "entries_out") -
					     sp.unacked;
			}
			/* STATUS_PEER_BEHIND holds no wait: a peer that
			 * agreed since we asked has what was here then, and
			 * an entry dated ahead by another PC's clock (by
			 * less than a day) would keep it "behind" until our
			 * clock passes that date */
		}
		held_why[0] = 0;
		if (held_p)
			sync_why_budget(held_p, &held_sp, held, held_why,
				      sizeof(held_why));
		unreached_text(res, down, sizeof(down), 0);
		unreached_text(res, refused, sizeof(refused), 1);
		/* the dials asked for that failed, and why: once each has
		 * failed since we asked, none is under way, and the wait
		 * ends here rather than at the timeout */
		int dials_failed = unreached_why(res, dials, ndials, asked,
						 down_why, sizeof(down_why),
						 &advice);
		{
			const msgpack_object *u =
				cli_mp_get(res, "own_scope_unread");
			own_unread = u && u->type == MSGPACK_OBJECT_BOOLEAN &&
				     u->via.boolean;
		}
		last_connected = connected;
		last_held = held;
		/* what the peers found say, while the answer is open */
		hard_why[0] = recv_why[0] = send_why[0] = 0;
		if (hard_p)
			sync_why_stuck(hard_p, &hard_sp, hard_why,
				     sizeof(hard_why));
		if (recv_p)
			recv_stalled = sync_why_receiving(recv_p, recv_why,
							  sizeof(recv_why));
		if (send_p)
			sync_why_sending(send_p, &send_sp, send_why,
				       sizeof(send_why));
		mp_doc_close(&doc);
		free(buf);
		buf = NULL;
		if (want && !disk_full) { /* no rate while the disk stops it */
			progress_what(prog, _("receiving"));
			progress_rate(prog, per_s); /* the one status shows */
			progress_cb(prog, got, want);
		} else if (out_left) {
			/* acknowledged since the wait began, of those and
			 * what is still on its way */
			if (!out_base || out_acked < out_base - 1)
				out_base = out_acked + 1;
			progress_what(prog, _("sending"));
			progress_cb(prog, out_acked + 1 - out_base,
				    out_acked + 1 - out_base + out_left);
		}
		if (npos && !matched && !ndials)
			snprintf(reason, sizeof(reason),
				 cli_tr(N_("%s is not one of the daemon's peers (see hamlet peers list)")),
				 shown_name ? shown_name : typed);
		/* the advice for a failed dial goes with a reason that names
		 * it, and no other */
		down_said = 0;
		if (npos && !matched && ndials) {
			/* a peer dialled and never met: known by address */
			snprintf(reason, sizeof(reason), "%s",
				 down_why[0] ? down_why
					     : cli_tr(N_("not connected yet")));
			named_down = 1;
			down_said = down_why[0] != 0;
		} else if (named_down && down_why[0]) {
			size_t l = strlen(reason);
			snprintf(reason + l, sizeof(reason) - l, "; %s",
				 down_why);
			down_said = 1;
		}
		if (sum == last_sum)
			stable++;
		else
			stable = 0;
		last_sum = sum;
		if (connected == 0 && !reason[0]) {
			down_said = down_why[0] != 0;
			if (down_why[0])
				snprintf(reason, sizeof(reason),
					 cli_tr(N_("no peer is connected; %s")),
					 down_why);
			else
				snprintf(reason, sizeof(reason), "%s",
					 cli_tr(N_("no peer is connected")));
		}
		if ((connected == 0 || named_down) && dials_failed)
			break; /* what was dialled has failed: say why now */
		if (!reason[0] && hard_why[0]) {
			/* waiting on changes nothing until someone acts */
			r = wait_fail(&prog, connected, hard_why, held);
			goto out;
		}
		if (!reason[0] && recv_stalled) {
			/* nothing comes: the link, or the sender's budget */
			r = wait_fail(&prog, connected, recv_why, held);
			goto out;
		}
		if (fresh < connected && !reason[0] && !recv_why[0])
			snprintf(reason, sizeof(reason),
				 cli_tr(N_("%zu of %zu connected peers have not synced yet: %s")),
				 connected - fresh, connected, stale);
		if (stable < STABLE_POLLS && !reason[0] && moving[0])
			snprintf(reason, sizeof(reason),
				 cli_tr(N_("entries are still moving with %s")),
				 moving);
		else if (stable < STABLE_POLLS && !reason[0])
			snprintf(reason, sizeof(reason), "%s",
				 cli_tr(N_("entries are still moving")));
		if (!reason[0] && recv_why[0])
			snprintf(reason, sizeof(reason), "%s", recv_why);
		if (!reason[0] && send_why[0])
			snprintf(reason, sizeof(reason), "%s", send_why);
		if (!reason[0]) {
			/* in sync with its peers, but its own feed frozen:
			 * what it wrote there reaches none of them */
			char why[1024];
			if (own_forked(node, why, sizeof(why))) {
				r = wait_fail(&prog, connected, why, 0);
				goto out;
			}
		}
		if (!reason[0] && lapse_seen) {
			/* waiting on changes nothing: the peer refuses them
			 * until the node has a certificate from their date */
			char why[1024];
			cli_lapse_text(&lapse, why, sizeof(why));
			r = wait_fail(&prog, connected, why, 0);
			goto out;
		}
		if (!reason[0] && !npos && (own_unread || is_stuck)) {
			/* in sync with each connected peer, but none takes
			 * what this node writes (own_unread), or it waits for
			 * one that is not connected: waiting on changes
			 * nothing */
			char why[600];
			if (own_unread)
				snprintf(why, sizeof(why), "%s",
					 cli_tr(N_("no connected peer takes what this node writes (hamlet status names its scope): it stays here. Point this node at a peer that reads it (hamlet peers add HOST:PORT; after a move, its new commune)")));
			else
				snprintf(why, sizeof(why),
					 cli_tr(N_("what this node writes waits for %s, which is not connected, and no connected peer takes it (hamlet status says why it is not reached)")),
					 stuck);
			r = wait_fail(&prog, connected, why, 0);
			goto out;
		}
		if (!reason[0] && held) {
			/* all else done: what a budget holds does not move
			 * before the next session or day, so waiting on is
			 * no use */
			r = wait_fail(&prog, connected, held_why, held);
			goto out;
		}
		if (!reason[0]) {
			progress_end(prog);
			prog = NULL;
			if (cli_global.json)
				wait_json(1, connected, "", 0);
			else
				printf(P_("in sync with %zu connected peer\n",
					  "in sync with %zu connected peers\n",
					  connected),
				       connected);
			/* those we dial and are not connected to: what is
			 * new here waits for them */
			for (char *l = down, *e; !npos && (e = strchr(l, '\n'));
			     l = e + 1) {
				*e = 0;
				cli_err(_("note: %s, a peer this node dials, is not connected: what is new here waits for it (hamlet status says why)"),
					l);
			}
			for (char *l = refused, *e;
			     !npos && (e = strchr(l, '\n')); l = e + 1) {
				*e = 0;
				cli_err(_("note: %s, a peer this node dials, is refused here: its certificate does not hold (hamlet status says why), so nothing goes to it"),
					l);
			}
			r = 0;
			goto out;
		}
	}
	progress_end(prog);
	prog = NULL;
	if (cli_global.json)
		wait_json(0, last_connected, reason, last_held);
	else if (hlc_wall_ms() < asked + (uint64_t)timeout * 1000)
		cli_err(cli_tr(N_("not in sync: %s")), reason);
	else
		cli_err(_("not in sync after %ld s: %s"), timeout, reason);
	if (!cli_global.json && advice && down_said)
		cli_err("%s", advice);
	if (!cli_global.json && last_held && held_why[0] &&
	    !strstr(reason, held_why))
		/* the wait ended on what still moved; what a budget holds
		 * would not have moved with more time either */
		cli_err(_("note: besides, %s"), held_why);
	r = CLI_EPROBLEMS;
out:
	progress_end(prog);
	free(buf);
	node_close(node);
	return cli_exit_code(r);
}
