/*
 * hamlet cert issue (--root-key FILE | --issuer-home DIR) --to PUBKEY
 *                   --name NAME --role ROLE --read PREFIX... --write PREFIX...
 *                   [--collections C,...] [--from YYYY-MM-DD]
 *                   [--expires YYYY-MM-DD] [--delegate] [--force]
 *                   --out FILE
 * hamlet cert install FILE
 * hamlet cert list [KEY] [--json]
 * hamlet cert show FILE [--network NETFILE] [--json]
 * (install, list and show are in cmd_cert_chain.c)
 */
#include "cli.h"
#include "cmd_cert_internal.h"

#include "cert.h"
#include "error.h"
#include "hlc.h"
#include "mp.h"
#include "scopemap.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DAY_MS 86400000ull
/* a certificate is valid from a day before it is signed, so that a PC
 * whose clock is a little behind accepts it at once */
#define CERT_BACKDATE_MS DAY_MS
/* without --expires: three years */
#define CERT_DEFAULT_LIFE_MS (3 * 365 * DAY_MS)

/*
 * Take every "--opt VALUE" / "--opt=VALUE" out of argv (before a "--"),
 * into vals (at most max); argc shrinks. CLI_EUSAGE on a missing value
 * or too many.
 */
static int take_many(const char *cmd, int *argc, char **argv, const char *opt,
		     const char **vals, size_t max, size_t *ret_n)
{
	size_t ol = strlen(opt), n = 0;
	int w = 1;

	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i], *v = NULL;
		if (strcmp(a, "--") == 0) {
			while (i < *argc)
				argv[w++] = argv[i++];
			break;
		}
		if (strncmp(a, opt, ol) == 0 && a[ol] == '=') {
			v = a + ol + 1;
		} else if (strcmp(a, opt) == 0) {
			if (i + 1 >= *argc)
				return cli_usage_err(cmd, _("option %s needs a value"),
						     opt);
			v = argv[++i];
		} else {
			argv[w++] = argv[i];
			continue;
		}
		if (n >= max)
			return cli_usage_err(cmd, _("option %s given more than %zu times"),
					     opt, max);
		vals[n++] = v;
	}
	*argc = w;
	*ret_n = n;
	return 0;
}

/* Prefixes as given: "*" is every scope, "" none (one alone), else scopes. */
static int prefixes_set(const char *what, const char **v, size_t n,
			char (*out)[CERT_SCOPE_MAX + 1], size_t *ret_n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (v[i][0] == 0) {
			if (n > 1) {
				cli_err(_("--%s '' (none) cannot go with other prefixes"),
					what);
				return CLI_EUSAGE;
			}
			continue;
		}
		if (strcmp(v[i], "*") == 0) {
			out[k++][0] = 0;
			continue;
		}
		char opt[16];
		snprintf(opt, sizeof(opt), "--%s", what);
		if (cli_check_scope(v[i], opt) < 0)
			return CLI_EUSAGE;
		snprintf(out[k++], CERT_SCOPE_MAX + 1, "%s", v[i]);
	}
	*ret_n = k;
	return 0;
}

/* --from: the start (00:00 UTC) of the day s names, or an error naming s. */
static int date_start_ms(const char *s, uint64_t *ret)
{
	size_t l = strlen(s);
	uint64_t end;

	if (l == 0 || s[l - 1] == 'd' || cli_day_end(s, &end) < 0) {
		cli_err(_("--from \"%s\" is not a day: give YYYY-MM-DD or DD/MM/YYYY, a day that exists"),
			s);
		return CLI_EUSAGE; /* exit 2, as --expires: a value in none
				    * of the forms the option takes */
	}
	*ret = end - DAY_MS;
	return 0;
}

/* The spans of the certificates of one key the issuer's store knows. */
#define KNOWN_MAX 32
struct known {
	size_t n;
	uint64_t from[KNOWN_MAX], to[KNOWN_MAX]; /* to UINT64_MAX: never ends */
};

static int known_add(void *ctx, int kind, const uint8_t id[32],
		     const uint8_t *data, size_t len)
{
	struct known *k = ctx;
	struct cert *ce = malloc(sizeof(*ce));
	(void)kind;
	(void)id;
	if (!ce)
		return -ENOMEM;
	if (k->n < KNOWN_MAX && cert_decode(data, len, ce, NULL) == 0) {
		k->from[k->n] = ce->not_before_ms;
		k->to[k->n++] = ce->expires_ms ? ce->expires_ms : UINT64_MAX;
	}
	free(ce);
	return 0;
}

/*
 * A renewal's start: the start of the latest time before start that no
 * certificate of subject known to n covers, after one did (0: none).
 * What the node saved then, while its certificate had lapsed, is refused
 * everywhere unless a certificate covers it.
 */
static uint64_t lapse_start(struct node *n, const uint8_t subject[32],
			    uint64_t start)
{
	struct store_txn *t = NULL;
	struct known k = { 0 };
	uint64_t best = 0;

	if (n && cli_txn_read(n, &t) == 0)
		trustset_each_subject(t, subject, TRUST_CERT, known_add, &k);
	store_txn_abort(t);
	/* an end before start that no certificate covers begins a gap */
	for (size_t i = 0; i < k.n; i++) {
		uint64_t e = k.to[i];
		int covered = 0;
		if (e >= start || e <= best)
			continue;
		for (size_t j = 0; j < k.n && !covered; j++)
			covered = k.from[j] <= e && e < k.to[j];
		if (!covered)
			best = e;
	}
	return best;
}

static int collections_set(const char *list, struct cert *c)
{
	char buf[1024], *save = NULL, *tok;

	if (!list)
		return 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (c->ncollections >= CERT_MAX_COLLECTIONS) {
			cli_err(_("--collections: at most %d"), CERT_MAX_COLLECTIONS);
			return HAMLET_EFORMAT;
		}
		if (!cli_schema(tok)) {
			cli_err(_("--collections: unknown collection \"%s\""), tok);
			return HAMLET_ECOLLECTION;
		}
		snprintf(c->collections[c->ncollections++],
			 sizeof(c->collections[0]), "%s", tok);
	}
	return 0;
}

/* The issuer: the root key file, or a node holding a delegating chain. */
struct issuer;
static int issuer_open_with(const char *cmd, const char *root_key,
			    const char *home, struct node *open_,
			    struct issuer *is);
struct issuer {
	uint8_t pk[32], *sk, network_id[32];
	uint8_t *chain; /* the issuer's chain file, or NULL for the root */
	size_t chain_len;
	struct cert_chain ch;
	struct node *n; /* the issuer's node; NULL: the root key */
	int own_n;	/* n was opened here (issuer_close closes it) */
};

static void issuer_close(struct issuer *is)
{
	if (is->sk)
		sodium_free(is->sk);
	free(is->chain);
	if (is->own_n)
		node_close(is->n);
}

/* open_: the node at home when this process has it open already (LMDB
 * allows one open of a store per process); it stays the caller's. */
static int issuer_open_with(const char *cmd, const char *root_key,
			    const char *home, struct node *open_,
			    struct issuer *is)
{
	struct node *n;
	char why[512] = "";
	int r;

	memset(is, 0, sizeof(*is));
	if (!!root_key == !!home) {
		cli_usage_err(cmd, _("give --root-key FILE or --issuer-home DIR"));
		return CLI_EUSAGE;
	}
	if (root_key) {
		if ((r = root_key_load(root_key, is->network_id, is->pk,
				       &is->sk, why, sizeof(why))) < 0)
			cli_err("%s", why);
		else if (root_key_loose(root_key, why, sizeof(why)))
			cli_err(_("WARNING: %s"), why);
		return r;
	}
	if (open_) {
		n = is->n = open_;
	} else if ((r = node_open(home, 1, &is->n, why, sizeof(why))) < 0) {
		cli_err("%s", why);
		return r == HAMLET_ECORRUPT ? CLI_EDAMAGED : r;
	} else {
		n = is->n;
		is->own_n = 1;
	}
	if ((r = node_cert_load(n, hlc_wall_ms(), &is->ch, &is->chain,
				&is->chain_len, why, sizeof(why))) < 0) {
		cli_err(_("the issuer %s cannot certify: %s"), home, why);
		return r;
	}
	if (!is->ch.c[0].delegate && strcmp(cmd, "cert revoke") == 0) {
		/* a commune renewed without --delegate can no longer
		 * revoke its villages either: said as what was asked */
		cli_err(_("the issuer %s cannot revoke: its certificate (\"%s\") does not let it certify others, nor revoke what it certified (a renewal issued without --delegate?); revoke with the root key (--root-key), or ask for a certificate with --delegate"),
			home, is->ch.c[0].name);
		return HAMLET_ECERT;
	}
	if (!is->ch.c[0].delegate) {
		cli_err(_("the issuer %s cannot certify: its certificate (\"%s\") does not let it certify others"),
			home, is->ch.c[0].name);
		return HAMLET_ECERT;
	}
	if (is->ch.n >= CERT_MAX_CHAIN) {
		cli_err(_("the issuer %s cannot certify: its chain already holds %d certificates"),
			home, CERT_MAX_CHAIN);
		return HAMLET_ECERT;
	}
	if (!(is->sk = sodium_malloc(64)))
		return -ENOMEM;
	memcpy(is->sk, n->sk, 64);
	memcpy(is->pk, n->pk, 32);
	memcpy(is->network_id, n->net.id, 32);
	return 0;
}

/*
 * Keep a certificate just issued (cert, len bytes) in the issuer's own
 * trust set, through its running hamletd or in its store: the issuer
 * then lists the node it certified before that node first syncs (cert
 * list, report lag), and passes the certificate on. 1 when kept (or
 * known already); 0, said on stderr, when not: the file is written all
 * the same, and the certificate reaches the issuer with the node's
 * first sync.
 */
static int kept_add(struct cli_ingest *ci, const uint8_t *cert, size_t len,
		    const char *name)
{
	struct trustset_item it = { TRUST_CERT, cert, len };
	struct trustset_out o;
	char why[1024] = "";
	int r = cli_trust(ci, &it, 1, &o, NULL, why, sizeof(why));

	if (r < 0 || o.status == TRUSTSET_REFUSED) {
		cli_err(_("warning: this node did not keep the certificate of \"%s\" (%s); it learns it when that node first syncs with it"),
			 name, r < 0 ? (why[0] ? why : cli_strerror(r)) : cli_why(o.why));
		return 0;
	}
	return 1;
}

/* A revocation of the key to certify, as the issuer's home holds it. */
struct revoked_seen {
	int found;
	uint64_t issued_ms;
	uint8_t issuer[32];
	char reason[REVOKE_MAX_REASON + 1];
};

static int revoked_seen_one(void *ctx, int kind, const uint8_t id[32],
			    const uint8_t *data, size_t len)
{
	struct revoked_seen *s = ctx;
	struct revocation *rv = malloc(sizeof(*rv));
	(void)kind;
	(void)id;
	if (!rv)
		return -ENOMEM;
	if (!s->found && revoke_decode(data, len, rv, NULL) == 0) {
		s->found = 1;
		s->issued_ms = rv->issued_ms;
		memcpy(s->issuer, rv->issuer, 32);
		snprintf(s->reason, sizeof(s->reason), "%s", rv->reason);
	}
	free(rv);
	return 0;
}

/*
 * A certificate for a key that n's trust set holds a revocation of: from
 * an issuer outside the chains the revocation cut, it makes the key valid
 * again, and what the key signed after its cut-off, refused everywhere,
 * comes back (SPEC 9). Refused, saying so, unless --force. 0 when n
 * holds none; a store that does not read refuses too (the check is not
 * made).
 */
/*
 * A prefix of c at or under a scope moved since (n's trust set holds the
 * move): a certificate issued now for the old name would read what the
 * move took from the old scope's administrators (docs/admin-guide.md,
 * "Move a scope"). Refused, naming the new name, unless --force.
 */
static int moved_refused(struct node *n, const struct cert *c)
{
	const struct {
		const char *opt;
		const char (*v)[CERT_SCOPE_MAX + 1];
		size_t n;
	} sets[2] = { { "--read", c->read, c->nread },
		      { "--write", c->write, c->nwrite } };
	char eff[ENTRY_MAX_SCOPE + 1];

	if (!n || !n->smap)
		return 0;
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < sets[k].n; i++) {
			const char *p = sets[k].v[i];
			if (!p[0] || strcmp(p, "*") == 0 ||
			    !scopemap_resolve(n->smap, p, eff))
				continue;
			cli_err(_("%s %s names a scope that was moved: it is %s now (hamlet scope list shows the moves). Certify the new name: a certificate of the old one issued now would read what the move took from that scope's old administrators. To issue it all the same, add --force"),
				sets[k].opt, p, eff);
			return -EINVAL;
		}
	return 0;
}

static int revoked_refused(struct node *n, const uint8_t key[32],
			   const char *hex)
{
	struct revoked_seen s = { 0 };
	struct store_txn *t = NULL;
	char when[48], who[65];
	int r;

	if ((r = store_txn_begin(n->st, 1, &t)) < 0 ||
	    (r = trustset_each_subject(t, key, TRUST_REVOKE,
				       revoked_seen_one, &s)) < 0) {
		store_txn_abort(t);
		cli_err(_("cannot read the store in %s to check whether key %s was revoked: %s; nothing is issued (--force issues it unchecked)"),
			n->home, hex, cli_strerror(r));
		return r;
	}
	store_txn_abort(t);
	if (!s.found)
		return 0;
	cli_time_text(s.issued_ms, 0, when);
	cli_hex(s.issuer, 32, who);
	cli_err(_("key %s was revoked (by key %.16s… on %s%s%s%s): a certificate for it lets that key write again, and what it signed after the revocation, which every node refused, comes back. A stolen or replaced PC is given a new key: run hamlet init on it and certify the new key. To certify this key all the same, add --force"),
		hex, who, when, s.reason[0] ? _(", reason: \"") : "", s.reason,
		s.reason[0] ? "\"" : "");
	return HAMLET_EREVOKED;
}

static int cert_issue(int argc, char **argv)
{
	const char *reads[CERT_MAX_PREFIXES + 1], *writes[CERT_MAX_PREFIXES + 1];
	const char *root_key = NULL, *issuer_home = NULL, *to = NULL,
		   *name = NULL, *role = NULL, *collections = NULL,
		   *expires = NULL, *from = NULL, *out = NULL;
	uint64_t earlier = 0; /* the end of an earlier certificate of the key */
	size_t nr = 0, nw = 0, len = 0, flen = 0;
	int delegate = 0, force = 0, npos, r;
	struct issuer is = { 0 };
	struct cert c = { 0 };
	struct node *self = NULL;
	int keep_failed = 0;
	struct cli_ingest ci = { 0 };
	uint8_t *signed_ = NULL, *file = NULL;
	char why[1024], pkhex[65];
	int kept = 0;
	uint64_t chain_end = UINT64_MAX; /* the earliest end of its chain */
	const struct cli_opt opts[] = {
		{ "--root-key", &root_key, NULL },
		{ "--issuer-home", &issuer_home, NULL },
		{ "--to", &to, NULL },
		{ "--name", &name, NULL },
		{ "--role", &role, NULL },
		{ "--collections", &collections, NULL },
		{ "--expires", &expires, NULL },
		{ "--from", &from, NULL },
		{ "--delegate", NULL, &delegate },
		{ "--out", &out, NULL },
		{ "--force", NULL, &force },
		{ NULL, NULL, NULL },
	};
	char *pos[1];

	if ((r = take_many("cert issue", &argc, argv, "--read", reads,
			   CERT_MAX_PREFIXES, &nr)) < 0 ||
	    (r = take_many("cert issue", &argc, argv, "--write", writes,
			   CERT_MAX_PREFIXES, &nw)) < 0 ||
	    (r = cli_parse("cert issue", argc, argv, opts, pos, 0, &npos)) < 0)
		return r;
	if (!to || !name || !role || !out || nr == 0 || nw == 0) {
		/* each one missing named: "--read" alone is easy to miss
		 * among six */
		char missing[80] = "";
		const char *const names[] = { "--to", "--name", "--role",
					      "--read", "--write", "--out" };
		const int gone[] = { !to, !name, !role, nr == 0, nw == 0, !out };
		for (size_t i = 0; i < 6; i++)
			if (gone[i])
				snprintf(missing + strlen(missing),
					 sizeof(missing) - strlen(missing),
					 "%s%s", missing[0] ? ", " : "",
					 names[i]);
		cli_usage_err("cert issue",
			      _("missing: %s (--to, --name, --role, --read, --write and --out are required; --write '' grants no writing)"),
			      missing);
		return CLI_EUSAGE;
	}
	/* an option's value in none of the forms it takes: a usage error
	 * (exit 2), as --expires 31/02/2027 is */
	if (hex_decode(to, c.subject, 32) < 0)
		return cli_usage_err("cert issue",
				     _("--to \"%s\" is not a node key: 64 hex digits, as public_key in the node's node.conf"),
				     to);
	if (!(c.role = cert_role_parse(role)))
		return cli_usage_err("cert issue",
				     _("--role \"%s\": use village, commune, district, province or auditor"),
				     role);
	snprintf(c.name, sizeof(c.name), "%s", name);
	if (strlen(name) > CERT_MAX_NAME)
		return cli_usage_err("cert issue",
				     _("--name is longer than %d bytes"),
				     CERT_MAX_NAME);
	if ((r = prefixes_set("read", reads, nr, c.read, &c.nread)) < 0 ||
	    (r = prefixes_set("write", writes, nw, c.write, &c.nwrite)) < 0 ||
	    (r = collections_set(collections, &c)) < 0)
		return r;
	c.not_before_ms = hlc_wall_ms() - CERT_BACKDATE_MS;
	c.expires_ms = hlc_wall_ms() + CERT_DEFAULT_LIFE_MS;
	if (expires &&
	    (r = cli_expires_parse("cert issue", expires, 0, &c.expires_ms)) < 0)
		return r;
	if (expires && c.expires_ms <= hlc_wall_ms())
		return cli_usage_err("cert issue",
				     _("--expires %s is already past"), expires);
	if (from && (r = date_start_ms(from, &c.not_before_ms)) < 0)
		return r;
	if (from && c.not_before_ms > hlc_wall_ms())
		/* a node installs a certificate only once it holds: one
		 * issued ahead would wait on the stick, the node refused
		 * everywhere meanwhile if its old one ends first */
		return cli_usage_err("cert issue",
				     _("--from %s lies ahead: a node installs a certificate only once it holds. Issue the renewal without --from: it holds at once, and replaces the old certificate when installed"),
				     from);
	c.delegate = delegate;
	randombytes_buf(c.serial, sizeof(c.serial));
	if (access(out, F_OK) == 0) {
		cli_err(_("%s already exists; choose another --out"), out);
		return -EEXIST;
	}
	if (issuer_home && !root_key) {
		/* the issuer's node keeps what it certified (kept_add) */
		cli_global.home = issuer_home;
		if ((r = cli_node_open(0, &self, &ci.daemon)) == -ENOENT)
			goto out; /* no node there: said */
		if (r < 0) {
			/* its store cannot be written here (said above):
			 * the certificate is issued all the same, and that
			 * said once it is */
			keep_failed = 1;
			self = NULL;
		} else {
			ci.n = self;
		}
	}
	if ((r = issuer_open_with("cert issue", root_key, issuer_home, self,
				  &is)) < 0)
		goto out;
	if (!force) {
		/* the issuer's home (written through, or only read), or with
		 * the root key a node's home given (--home) on its network,
		 * tells of a revocation */
		struct node *look = self ? self : is.n, *opened = NULL;
		char nwhy[512];
		if (!look && root_key && cli_global.home) {
			if (node_open(cli_global.home, 1, &opened, nwhy,
				      sizeof(nwhy)) < 0)
				cli_err(_("note: whether key %s was revoked is not checked: %s"),
					to, nwhy);
			else if (memcmp(opened->net.id, is.network_id, 32) != 0)
				cli_err(_("note: whether key %s was revoked is not checked: %s is on another network than the root key"),
					to, cli_global.home);
			else
				look = opened;
		} else if (!look && root_key) {
			/* the root key's PC holds no node: nothing says
			 * whether this key was revoked */
			cli_err(_("note: whether key %s was revoked is not checked: no node's home was given. Give --home DIR of a node that holds the network's revocations (the province's, or a copy of its home): a revoked key certified again writes again, and what it signed after the revocation comes back"),
				to);
		}
		r = look ? revoked_refused(look, c.subject, to) : 0;
		if (r == 0 && look)
			r = moved_refused(look, &c);
		node_close(opened);
		if (r < 0)
			goto out;
	}
	/* a renewal: valid from where the key's earlier certificate ended,
	 * so that what the node saved while it had lapsed goes through */
	if (!from && (earlier = lapse_start(self, c.subject, c.not_before_ms)))
		c.not_before_ms = earlier;
	memcpy(c.network_id, is.network_id, 32);
	memcpy(c.issuer, is.pk, 32);
	if ((r = cert_check_fields(&c, why, sizeof(why))) < 0) {
		cli_err(_("cannot issue: %s"), why);
		goto out;
	}
	if ((r = cert_sign(&c, is.sk, &signed_, &len)) < 0) {
		cli_err(_("cannot sign: %s"), cli_strerror(r));
		goto out;
	}
	{
		/* the new certificate, then the issuer's chain */
		const uint8_t *certs[CERT_MAX_CHAIN];
		size_t lens[CERT_MAX_CHAIN], n = 1;
		lens[0] = len;
		struct mp_doc d;
		const msgpack_object *it = NULL;
		size_t k = 0;
		int have = 0;
		certs[0] = signed_;
		lens[0] = len;
		if (is.n) {
			/* the issuer's chain file (checked when loaded):
			 * its certificates' bytes as they are */
			if ((r = mp_doc_parse(&d, is.chain + 8,
					      is.chain_len - 8,
					      CERT_MAX_CHAIN)) < 0 ||
			    (have = 1,
			     r = mp_get_array(d.root, SIZE_MAX, CERT_MAX_CHAIN,
					      &it, &k)) < 0)
				goto chain_out;
			for (size_t i = 0; i < k; i++) {
				certs[n] = (const uint8_t *)it[i].via.bin.ptr;
				lens[n++] = it[i].via.bin.size;
			}
		}
		r = cert_chain_encode(certs, lens, n, &file, &flen);
chain_out:
		if (have)
			mp_doc_close(&d);
		if (r < 0)
			goto out;
	}
	{
		/* what is written must hold up as the subject will check it */
		struct cert_chain ch;
		uint8_t root_pk[32];
		if ((r = cert_chain_decode(file, flen, &ch)) < 0)
			goto out;
		memcpy(root_pk, is.n ? is.n->net.root_pk : is.pk, 32);
		if ((r = cert_chain_check(&ch, is.network_id, root_pk,
					  hlc_wall_ms(), why, sizeof(why))) < 0) {
			cli_err(_("cannot issue: %s"), why);
			goto out;
		}
		/* a certificate holds no longer than its issuers' */
		for (size_t i = 1; i < ch.n; i++)
			if (ch.c[i].expires_ms < chain_end)
				chain_end = ch.c[i].expires_ms;
	}
	{
		FILE *f = fopen(out, "wbx");
		if (!f || fwrite(file, 1, flen, f) != flen || fclose(f) != 0) {
			r = -errno;
			cli_err(_("cannot write %s: %s"), out, strerror(errno));
			goto out;
		}
	}
	cli_hex(c.subject, 32, pkhex);
	if (self)
		kept = kept_add(&ci, signed_, len, c.name);
	if (cli_global.json) {
		json_t *j = json_object();
		json_object_set_new(j, "subject", json_string(pkhex));
		json_object_set_new(j, "name", json_string(c.name));
		json_object_set_new(j, "role", json_string(role));
		json_object_set_new(j, "file", json_string(out));
		json_object_set_new(j, "kept_by_issuer", json_boolean(kept));
		cli_json_print(j);
	} else {
		char exp[40];
		cli_date_text(c.expires_ms, exp, sizeof(exp));
		printf(_("certified %s (\"%s\", %s) until %s%s\n"
		       "  written to %s; on that node run: hamlet cert install %s\n"),
		       pkhex, c.name, cli_role_text(c.role), exp,
		       c.delegate ? _("; it may certify others inside its grant")
				  : "",
		       out, out);
		if (earlier || from) {
			char start[32];
			cli_time_text(c.not_before_ms, 0, start);
			if (earlier)
				printf(_("  valid from %s, when the earlier certificate of this key ended: what the node saved since then goes through (give --from DATE to choose the start)\n"),
				       start);
			else
				printf(_("  valid from %s\n"), start);
		}
		if (kept)
			printf(_("  this node keeps it too: it knows \"%s\" before that node first syncs, and passes the certificate on\n"),
			       c.name);
		if (chain_end < c.expires_ms) {
			char end[40];
			cli_date_text(chain_end, end, sizeof(end));
			printf(_("  note: the issuer's own certificate is valid only until %s, and so is this one, unless the issuer's is renewed first\n"),
			       end);
		}
	}
	if (keep_failed)
		cli_err(_("note: the certificate is issued all the same, but the issuer's node does not keep it until the new node first syncs with it"));
	/* a village that reads beyond what it writes holds its
	 * neighbours' records, health data among them: said, as a
	 * mistyped --read would do it unseen */
	for (size_t i = 0; c.role == CERT_VILLAGE && i < c.nread; i++) {
		int within = 0;
		for (size_t k = 0; k < c.nwrite && !within; k++)
			within = c.write[k][0] &&
				 entry_scope_under(c.read[i], c.write[k]);
		if (within)
			continue;
		cli_err(_("note: this village certificate reads %s, beyond what it writes (%s): its node will hold the records there, health data of other villages' residents among them. A village reads its own scope (--read as --write): issue it again so, unless it must hold more"),
			c.read[i][0] ? c.read[i] : "*",
			c.nwrite && c.write[0][0] ? c.write[0] : "*");
		break;
	}
	r = 0;
out:
	free(signed_);
	free(file);
	issuer_close(&is);
	node_close(self);
	return r;
}

/* --- revoke -------------------------------------------------------------- */

struct cutoff {
	struct revocation *rv;
	const uint8_t *key;
	int over_feeds, over_keep;
	int keep_none; /* --keep-none: what the key signed ends with it */
	size_t signed_n; /* certificates the key signed */
};

/* Each feed of the revoked key this node holds: kept up to its head. */
static int cutoff_feed(void *ctx, const struct log_feed *f)
{
	struct cutoff *c = ctx;
	struct revoke_feed *rf;
	if (memcmp(f->author, c->key, 32) != 0 || f->seq == 0)
		return 0;
	if (c->rv->nfeeds == REVOKE_MAX_FEEDS) {
		c->over_feeds = 1;
		return 1;
	}
	rf = &c->rv->feeds[c->rv->nfeeds++];
	snprintf(rf->scope, sizeof(rf->scope), "%s", f->scope);
	rf->seq = f->seq;
	memcpy(rf->head, f->head, 32);
	return 0;
}

/* Each certificate the revoked key signed: it stays valid, unless
 * --keep-none. */
static int cutoff_keep(void *ctx, int kind, const uint8_t id[32],
		       const uint8_t *data, size_t len)
{
	struct cutoff *c = ctx;
	struct cert *ce = malloc(sizeof(*ce));
	(void)kind;
	if (!ce)
		return -ENOMEM;
	if (cert_decode(data, len, ce, NULL) == 0 &&
	    memcmp(ce->issuer, c->key, 32) == 0) {
		c->signed_n++;
		if (c->rv->nkeep == REVOKE_MAX_KEEP)
			c->over_keep = 1; /* never with keep_none: it keeps 0 */
		else if (!c->keep_none)
			memcpy(c->rv->keep[c->rv->nkeep++], id, 32);
	}
	free(ce);
	return 0;
}

/* The subject's certificate: was it issued by the root key? */
struct by_root {
	const uint8_t *root;
	int found, root_issued;
};

static int by_root_cert(void *ctx, int kind, const uint8_t id[32],
			const uint8_t *data, size_t len)
{
	struct by_root *b = ctx;
	struct cert *ce = malloc(sizeof(*ce));
	(void)kind;
	(void)id;
	if (!ce)
		return -ENOMEM;
	if (cert_decode(data, len, ce, NULL) == 0) {
		b->found = 1;
		b->root_issued |= memcmp(ce->issuer, b->root, 32) == 0;
	}
	free(ce);
	return 0;
}

/*
 * What a revocation signed here would drop unseen (SPEC 7: a feed of the
 * subject that it does not list keeps nothing): where the key writes, by
 * a certificate whose chain the issuer signed in, and this node does not
 * read, so it holds none of those feeds to list; or everything, when no
 * certificate of the key is known here. Refused, naming it, unless
 * --drop-unheld: revoke on a node that holds what the key wrote. 0 when
 * nothing would be dropped unseen. When no chain of the key reaches the
 * root here (an issuer's certificate not known here), or more than
 * UNHELD_CHAINS do, every certificate of the key is looked at.
 */
#define UNHELD_CHAINS 16

struct unheld {
	struct node *n;
	char scope[CERT_SCOPE_MAX + 1]; /* the first not kept; "" none */
};

/* A write prefix of c this node does not keep, into u->scope. */
static void unheld_writes(struct unheld *u, const struct cert *c)
{
	for (size_t w = 0; w < c->nwrite && !u->scope[0]; w++)
		if (!scopemap_keeps(u->n->smap, u->n->grant, u->n->scope,
				    c->write[w]))
			snprintf(u->scope, sizeof(u->scope), "%s",
				 c->write[w][0] ? c->write[w] : "*");
}

static int unheld_cert(void *ctx, int kind, const uint8_t id[32],
		       const uint8_t *data, size_t len)
{
	struct unheld *u = ctx;
	struct cert *c = malloc(sizeof(*c));
	(void)kind;
	(void)id;
	if (!c)
		return -ENOMEM;
	if (cert_decode(data, len, c, NULL) == 0)
		unheld_writes(u, c);
	free(c);
	return 0;
}

static int unheld_check(struct node *n, struct store_txn *t,
			const struct revocation *rv, const char *key)
{
	struct cert_chain *ch = calloc(UNHELD_CHAINS, sizeof(*ch));
	struct by_root b = { n->net.root_pk, 0, 0 };
	struct unheld u = { n, "" };
	size_t nch = 0;
	int r;

	if (!ch)
		return -ENOMEM;
	if ((r = trustset_each_subject(t, rv->subject, TRUST_CERT,
				       by_root_cert, &b)) < 0 ||
	    (r = trustset_chains(t, rv->subject, ch, UNHELD_CHAINS, &nch,
				 NULL)) < 0)
		goto out;
	if (!b.found && memcmp(rv->issuer, n->net.root_pk, 32) != 0) {
		r = 0; /* only the root revokes a key the set does not know:
			* the trust set refuses it, saying so */
		goto out;
	}
	if (!b.found) {
		cli_err(_("no certificate of key %s is known here, so none of what it wrote is either: a revocation signed here keeps none of it, and every node that holds its entries drops them all, for good. Check the key (public_key in that node's node.conf) and revoke it on a node that has synced with it (its commune, or the province); if nothing it wrote is to be kept (a PC stolen before it was used), add --drop-unheld"),
			key);
		r = HAMLET_ESCOPE;
		goto out;
	}
	if (nch == 0 || nch == UNHELD_CHAINS) {
		if ((r = trustset_each_subject(t, rv->subject, TRUST_CERT,
					       unheld_cert, &u)) < 0)
			goto out;
	} else {
		for (size_t i = 0; i < nch && !u.scope[0]; i++)
			/* a chain the revocation does not cut keeps all */
			if (trustset_revoke_applies(rv, &ch[i], 0))
				unheld_writes(&u, &ch[i].c[0]);
	}
	r = 0;
	if (u.scope[0]) {
		cli_err(_("this node does not read %s, where key %s writes: it holds none of those entries, so a revocation signed here keeps none of them, and every node that holds them drops them all, for good. Revoke it on a node that reads %s (its commune, or the province); to drop them all the same, add --drop-unheld"),
			u.scope, key, u.scope);
		r = HAMLET_ESCOPE;
	}
out:
	free(ch);
	return r;
}

/* A revocation refused for its signer: say which key may sign it. */
static void revoke_advice(struct node *n, const struct revocation *rv,
			  const char *key)
{
	struct store_txn *t = NULL;
	struct by_root b = { n->net.root_pk, 0, 0 };
	if (cli_txn_read(n, &t) == 0)
		trustset_each_subject(t, rv->subject, TRUST_CERT, by_root_cert,
				      &b);
	store_txn_abort(t);
	if (!b.found)
		cli_err(_("no certificate of key %s is known here: check the key (public_key in that node's node.conf), or revoke it from a node that holds its certificate (one that has synced with it)"),
			key);
	else if (b.root_issued)
		cli_err(_("the root key certified this node: revoke it with the root key (hamlet cert revoke %s --root-key ROOT.key, where the root key is kept)"),
			key);
	else
		cli_err(_("revoke it with the key that issued its certificate (hamlet cert list shows the issuer): --root-key ROOT.key if the root certified it, or --issuer-home of the commune that did"));
}

/*
 * hamlet [--home H] cert revoke PUBKEY (--root-key F | --issuer-home D)
 * [--reason TEXT] [--keep-none]: the cut-off is what node H holds of PUBKEY's feeds;
 * the revocation enters the network through H (its daemon when it runs).
 */
static int cert_revoke(int argc, char **argv)
{
	const char *root_key = NULL, *issuer_home = NULL, *reason = NULL;
	int keep_none = 0, drop_unheld = 0;
	size_t signed_n = 0;
	struct revocation *rv = NULL;
	struct issuer is = { 0 };
	struct node *n = NULL;
	struct store_txn *t = NULL;
	struct cli_ingest ci = { 0 };
	struct trustset_item it;
	struct trustset_out out;
	uint8_t *signed_ = NULL;
	size_t len = 0;
	char *pos[1], why[300] = "", hex[65];
	int npos, r;
	const struct cli_opt opts[] = {
		{ "--root-key", &root_key, NULL },
		{ "--issuer-home", &issuer_home, NULL },
		{ "--reason", &reason, NULL },
		{ "--keep-none", NULL, &keep_none },
		{ "--drop-unheld", NULL, &drop_unheld },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("cert revoke", argc, argv, opts, pos, 1, &npos)) < 0)
		return r;
	if (npos != 1) {
		cli_usage_err("cert revoke",
			      _("give the node key to revoke (public_key in its node.conf)"));
		return CLI_EUSAGE;
	}
	if (!(rv = calloc(1, sizeof(*rv))))
		return -ENOMEM;
	if (hex_decode(pos[0], rv->subject, 32) < 0) {
		cli_err(_("\"%s\" is not a node key: 64 hex digits, as public_key in the node's node.conf"),
			pos[0]);
		r = HAMLET_EFORMAT;
		goto out;
	}
	if (reason && strlen(reason) > REVOKE_MAX_REASON) {
		cli_err(_("--reason is longer than %d bytes"), REVOKE_MAX_REASON);
		r = HAMLET_EFORMAT;
		goto out;
	}
	if ((r = cli_node_open(0, &n, &ci.daemon)) < 0)
		goto out;
	ci.n = n;
	{
		char a[PATH_MAX], b[PATH_MAX];
		int same = issuer_home && realpath(issuer_home, a) &&
			   realpath(n->home, b) && strcmp(a, b) == 0;
		if ((r = issuer_open_with("cert revoke", root_key,
					  issuer_home, same ? n : NULL, &is)) < 0)
			goto out;
	}
	if (memcmp(n->net.id, is.network_id, 32) != 0) {
		cli_err(_("the issuer and the node %s are on different networks"),
			n->home);
		r = HAMLET_ENETWORK;
		goto out;
	}
	memcpy(rv->network_id, is.network_id, 32);
	memcpy(rv->issuer, is.pk, 32);
	rv->issued_ms = hlc_wall_ms();
	snprintf(rv->reason, sizeof(rv->reason), "%s", reason ? reason : "");
	{
		struct cutoff c = { rv, rv->subject, 0, 0, keep_none, 0 };
		if ((r = cli_txn_read(n, &t)) < 0 ||
		    (r = log_feeds_each(t, cutoff_feed, &c)) < 0 ||
		    (r = trustset_each(t, TRUST_CERT, cutoff_keep, &c)) < 0)
			goto out;
		if (c.over_feeds) {
			cli_err(_("the key writes more than %d feeds: too many for one revocation"),
				REVOKE_MAX_FEEDS);
			r = HAMLET_ETOOBIG;
			goto out;
		}
		if (c.over_keep) {
			cli_err(_("the key signed %zu certificates, more than the %d one revocation can keep valid: with --keep-none every one of them ends with the key (certify those nodes again with another key first)"),
				c.signed_n, REVOKE_MAX_KEEP);
			r = HAMLET_ETOOBIG;
			goto out;
		}
		signed_n = c.signed_n;
		if (!drop_unheld && (r = unheld_check(n, t, rv, pos[0])) < 0)
			goto out;
		store_txn_abort(t);
		t = NULL;
	}
	if ((r = revoke_sign(rv, is.sk, &signed_, &len)) < 0) {
		cli_err(_("cannot sign the revocation: %s"), cli_strerror(r));
		goto out;
	}
	it.kind = TRUST_REVOKE;
	it.data = signed_;
	it.len = len;
	if ((r = cli_trust(&ci, &it, 1, &out, NULL, why, sizeof(why))) < 0) {
		cli_err(_("the revocation was not stored: %s"),
			why[0] ? why : cli_strerror(r));
		goto out;
	}
	if (out.status == TRUSTSET_REFUSED) {
		cli_err(_("the revocation is refused: %s"), cli_why(out.why));
		if (out.err == HAMLET_ECERT && is.n)
			revoke_advice(n, rv, pos[0]);
		r = out.err;
		goto out;
	}
	hex_encode(rv->subject, 32, hex);
	if (cli_global.json) {
		json_t *j = json_object(), *feeds = json_array();
		json_object_set_new(j, "revoked", json_string(hex));
		for (size_t i = 0; i < rv->nfeeds; i++) {
			json_t *f = json_object();
			json_object_set_new(f, "scope",
					    json_string(rv->feeds[i].scope));
			json_object_set_new(f, "kept_through",
					    json_integer((json_int_t)rv->feeds[i].seq));
			json_array_append_new(feeds, f);
		}
		json_object_set_new(j, "feeds", feeds);
		json_object_set_new(j, "certificates_kept",
				    json_integer((json_int_t)rv->nkeep));
		json_object_set_new(j, "certificates_ended",
				    json_integer((json_int_t)(signed_n -
							      rv->nkeep)));
		json_object_set_new(j, "via_daemon", json_boolean(ci.via_daemon));
		cli_json_print(j);
	} else {
		printf(_("revoked %s%s\n"), hex,
		       out.status == TRUSTSET_KNOWN ? _(" (this node knew it already)") : "");
		for (size_t i = 0; i < rv->nfeeds; i++)
			printf(_("  feed %s: entries up to seq %llu stay; anything later it signs is refused\n"),
			       rv->feeds[i].scope,
			       (unsigned long long)rv->feeds[i].seq);
		if (rv->nfeeds == 0)
			printf(_("  no entry of it is kept: this node held none\n"));
		if (rv->nkeep)
			printf(P_("  the %zu certificate it signed stays valid\n",
				  "  the %zu certificates it signed stay valid\n",
				  rv->nkeep),
			       rv->nkeep);
		if (signed_n > rv->nkeep)
			printf(P_("  the %zu certificate it signed ends with it: certify that node again with another key\n",
				  "  the %zu certificates it signed end with it: certify those nodes again with another key\n",
				  signed_n - rv->nkeep),
			       signed_n - rv->nkeep);
		if (signed_n)
			/* the revocation keeps those this node knows, by
			 * id: one signed since, somewhere else, is not */
			printf(_("  a certificate it signed that this node has not seen (issued since its last sync with it) is not kept and ends with it: certify such nodes again, with the root key or another administrator's\n"));
		printf(_("  %s; every node that syncs with it learns of it and closes that key's sessions\n"),
		       ci.via_daemon ? _("the running daemon has it")
				     : _("stored in this node's store"));
	}
	{
		/* a key mistyped is revoked as readily as the right one,
		 * which then goes on syncing: say when none is known */
		struct by_root b = { n->net.root_pk, 0, 0 };
		int still = 0;
		if (cli_txn_read(n, &t) == 0) {
			trustset_each_subject(t, rv->subject, TRUST_CERT,
					      by_root_cert, &b);
			/* a chain no key in it revoked (SPEC 9) */
			still = b.found && trustset_revoked(t, rv->subject,
							    NULL, NULL, 0) == 0;
		}
		store_txn_abort(t);
		t = NULL;
		if (!b.found)
			cli_err(_("note: no certificate of key %s is known here: check that it is the key to revoke (public_key in that node's node.conf). A key certified elsewhere and never synced here is revoked all the same"),
				hex);
		else if (still)
			cli_err(_("note: %s stays valid here through certificates that keys outside this revocation signed: a revocation cuts only the chains its signer signed in. Revoke it with the key that issued its certificate, or the root key"),
				hex);
	}
	r = 0;
out:
	store_txn_abort(t);
	free(signed_);
	free(rv);
	issuer_close(&is);
	node_close(n);
	return r;
}

int cmd_cert(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : "";

	if (strcmp(verb, "issue") == 0)
		return cli_exit_code(cert_issue(argc - 1, argv + 1));
	if (strcmp(verb, "install") == 0)
		return cli_exit_code(cmd_cert__install(argc - 1, argv + 1));
	if (strcmp(verb, "list") == 0)
		return cli_exit_code(cmd_cert__list(argc - 1, argv + 1));
	if (strcmp(verb, "show") == 0)
		return cli_exit_code(cmd_cert__show(argc - 1, argv + 1));
	if (strcmp(verb, "revoke") == 0)
		return cli_exit_code(cert_revoke(argc - 1, argv + 1));
	return cli_exit_code(cli_usage_err(
		"cert", _("say issue, install, list, show or revoke")));
}
