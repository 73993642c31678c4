#include "names.h"

#include "error.h"
#include "i18n.h"
#include "scopemap.h"
#include "trust.h"
#include "trustset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#define NAMES_CACHE_MAX 4096

void names_from_cert(const struct cert *c, int source, struct names_who *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->source = source;
	snprintf(ret->name, sizeof(ret->name), "%s", c->name);
	ret->role = c->role;
	if (c->nwrite && c->role != CERT_AUDITOR)
		snprintf(ret->scope, sizeof(ret->scope), "%s", c->write[0]);
	else if (c->nread)
		snprintf(ret->scope, sizeof(ret->scope), "%s", c->read[0]);
}

void names_moved(struct names_who *w, const struct scopemap *m)
{
	char e[ENTRY_MAX_SCOPE + 1];

	if (w->written[0] || !w->scope[0] || !scopemap_resolve(m, w->scope, e))
		return; /* mapped already, every scope, or not moved */
	memcpy(w->written, w->scope, sizeof(w->written));
	memcpy(w->scope, e, sizeof(w->scope));
}

static int first_cert_cb(void *ctx, int kind, const uint8_t id[32],
			 const uint8_t *data, size_t len)
{
	struct names_who *w = ctx;
	struct cert c;
	(void)kind;
	(void)id;
	if (w->source != NAMES_UNKNOWN)
		return 0;
	if (cert_decode(data, len, &c, NULL) < 0)
		return 0; /* it decoded when it was added: not ours to judge */
	names_from_cert(&c, NAMES_CERT_OLD, w);
	return 0;
}

int names_lookup(struct store_txn *t, const uint8_t key[32], uint64_t now_ms,
		 struct names_who *ret)
{
	struct names_who w;
	struct cert *c;
	size_t n = 0;
	int r;

	memset(&w, 0, sizeof(w));
	if ((r = trustset_each_subject(t, key, TRUST_CERT, first_cert_cb,
				       &w)) < 0)
		return r;
	if (w.source != NAMES_UNKNOWN) {
		if (!(c = malloc(sizeof(*c))))
			return -ENOMEM;
		r = trustset_valid_leaves(t, key, now_ms, c, 1, &n);
		if (r == 0 && n == 1)
			names_from_cert(c, NAMES_CERT, &w);
		else if (r == 1) /* a store without a root judges nobody */
			w.source = NAMES_CERT;
		free(c);
		if (r < 0)
			return r;
		if (w.source == NAMES_CERT_OLD &&
		    (r = trustset_revoked(t, key, NULL, NULL, 0)) < 0 &&
		    r != HAMLET_EREVOKED)
			return r;
		if (w.source == NAMES_CERT_OLD && r == HAMLET_EREVOKED)
			w.source = NAMES_CERT_REVOKED;
	}
	*ret = w;
	return 0;
}

struct names_slot {
	uint8_t key[32];
	struct names_who who;
};

struct names {
	int has_self;
	uint8_t self[32];
	struct names_who claim;
	struct names_slot *v;
	size_t n, cap;
};

struct names *names_new(const uint8_t *self, const char *name,
			const char *scope)
{
	struct names *nm = calloc(1, sizeof(*nm));
	if (!nm || !self)
		return nm;
	nm->has_self = 1;
	memcpy(nm->self, self, 32);
	nm->claim.source = NAMES_CLAIM;
	snprintf(nm->claim.name, sizeof(nm->claim.name), "%s",
		 name ? name : "");
	snprintf(nm->claim.scope, sizeof(nm->claim.scope), "%s",
		 scope ? scope : "");
	return nm;
}

void names_free(struct names *nm)
{
	if (!nm)
		return;
	free(nm->v);
	free(nm);
}

int names_get(struct names *nm, struct store_txn *t, const uint8_t key[32],
	      uint64_t now_ms, struct names_who *ret)
{
	struct names_who w;
	int r;

	for (size_t i = 0; i < nm->n; i++) {
		if (memcmp(nm->v[i].key, key, 32) == 0) {
			*ret = nm->v[i].who;
			return 0;
		}
	}
	if ((r = names_lookup(t, key, now_ms, &w)) < 0)
		return r;
	/* the certificate wins; node.conf names this node only without one */
	if (w.source == NAMES_UNKNOWN && nm->has_self &&
	    memcmp(key, nm->self, 32) == 0 && nm->claim.name[0])
		w = nm->claim;
	if (nm->n < NAMES_CACHE_MAX) {
		if (nm->n == nm->cap) {
			size_t cap = nm->cap ? 2 * nm->cap : 16;
			struct names_slot *v = realloc(nm->v, cap * sizeof(*v));
			if (!v)
				goto done; /* uncached, still answered */
			nm->v = v;
			nm->cap = cap;
		}
		memcpy(nm->v[nm->n].key, key, 32);
		nm->v[nm->n++].who = w;
	}
done:
	*ret = w;
	return 0;
}

void names_label(const struct names_who *w, const uint8_t key[32], int keys,
		 char out[NAMES_LABEL_MAX])
{
	char hex[65], tail[100] = "", shown[SCOPEMAP_SHOW_MAX];
	const char *scope =
		w->scope[0] ? scopemap_show_resolved(w->scope, w->written,
						     shown, sizeof(shown))
			    : _("all scopes");

	sodium_bin2hex(hex, sizeof(hex), key, 32);
	if (keys && w->source != NAMES_UNKNOWN)
		snprintf(tail, sizeof(tail), _(", key %s"), hex);
	switch (w->source) {
	case NAMES_CERT:
		snprintf(out, NAMES_LABEL_MAX, "%s (%s%s)", w->name, scope,
			 tail);
		break;
	case NAMES_CERT_OLD:
		snprintf(out, NAMES_LABEL_MAX,
			 _("%s (%s, certificate no longer valid%s)"), w->name,
			 scope, tail);
		break;
	case NAMES_CERT_REVOKED:
		snprintf(out, NAMES_LABEL_MAX,
			 _("%s (%s, key revoked%s)"), w->name, scope, tail);
		break;
	case NAMES_CLAIM:
		snprintf(out, NAMES_LABEL_MAX,
			 _("%s (%s, own claim, no certificate%s)"), w->name,
			 scope, tail);
		break;
	default:
		if (keys)
			snprintf(out, NAMES_LABEL_MAX, _("unknown node %s"),
				 hex);
		else
			snprintf(out, NAMES_LABEL_MAX, _("unknown node %.8s…"),
				 hex);
		break;
	}
}

const char *names_source_word(int source)
{
	switch (source) {
	case NAMES_CERT:
		return "certificate";
	case NAMES_CERT_OLD:
		return "certificate_invalid";
	case NAMES_CERT_REVOKED:
		return "certificate_revoked";
	case NAMES_CLAIM:
		return "claim";
	default:
		return "unknown";
	}
}

void names_json(const struct names_who *w, json_t *obj, const char *prefix)
{
	char k[64];
	snprintf(k, sizeof(k), "%sname", prefix);
	json_object_set_new(obj, k, w->source ? json_string(w->name)
					      : json_null());
	snprintf(k, sizeof(k), "%sname_scope", prefix);
	json_object_set_new(obj, k, w->source ? json_string(w->scope)
					      : json_null());
	snprintf(k, sizeof(k), "%sname_source", prefix);
	json_object_set_new(obj, k,
			    json_string(names_source_word(w->source)));
}
