/*
 * A small signed feed for the run, wire and bundle tests: fixed keys
 * (Ed25519 signatures are deterministic, so its bytes can be pinned).
 */
#ifndef HAMLET_RUN_FIXTURE_H
#define HAMLET_RUN_FIXTURE_H

#include "entry.h"
#include "error.h"
#include "mp.h"
#include "run.h"
#include "testlib.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define RF_MAX 8

struct rf_feed {
	uint8_t pk[32], sk[64], net[32];
	size_t n;
	uint8_t *env[RF_MAX];
	uint8_t sig[RF_MAX][64];
	uint8_t id[RF_MAX][32];
	uint8_t *body[RF_MAX];
	struct run_entry v[RF_MAX];
	uint64_t next_hlc; /* when not 0: the next entry's hlc (then 0) */
};

/* A body {"full_name": name}. */
static __attribute__((unused)) uint8_t *rf_body(const char *name,
						 size_t *ret_len)
{
	struct mp_writer w;
	uint8_t *p;
	mp_writer_init(&w);
	msgpack_pack_map(&w.pk, 1);
	mp_pack_str(&w.pk, "full_name");
	mp_pack_str(&w.pk, name);
	p = mp_writer_take(&w, ret_len);
	mp_writer_destroy(&w);
	return p;
}

/* Append entry seq n+1: a put with a body (name), or a delete (NULL);
 * deps: the previous entry when dep_prev. */
static __attribute__((unused)) void rf_add(struct rf_feed *f, int kind,
					   const char *rid, const char *name,
					   int dep_prev)
{
	struct entry e;
	size_t i = f->n, bl = 0, el;
	memset(&e, 0, sizeof(e));
	memcpy(e.network_id, f->net, 32);
	memcpy(e.author, f->pk, 32);
	strcpy(e.scope, "bk/bt");
	e.seq = i + 1;
	e.has_prev = i > 0;
	if (i > 0)
		memcpy(e.prev, f->id[i - 1], 32);
	e.hlc = f->next_hlc ? f->next_hlc
			    : ((uint64_t)1700000000000 + 1000 * i) << 16;
	f->next_hlc = 0;
	e.kind = kind;
	strcpy(e.collection, "health_profile");
	strcpy(e.record_id, rid);
	if (dep_prev && i > 0) {
		e.ndeps = 1;
		memcpy(e.deps[0], f->id[i - 1], 32);
	}
	f->body[i] = NULL;
	if (name) {
		f->body[i] = rf_body(name, &bl);
		e.has_body = 1;
		e.body_len = bl;
		entry_body_hash(f->body[i], bl, e.body_hash);
	}
	ASSERT_OK(entry_encode(&e, &f->env[i], &el));
	ASSERT_OK(entry_sign(f->env[i], el, f->sk, f->sig[i]));
	entry_id(f->env[i], el, f->id[i]);
	f->v[i] = (struct run_entry){ .env = f->env[i],
				      .env_len = el,
				      .sig = f->sig[i],
				      .body = f->body[i],
				      .body_len = bl };
	f->n++;
}

/* Seq 1 put HP-1, seq 2 put HP-1 after it, seq 3 delete HP-2. */
static __attribute__((unused)) void rf_init(struct rf_feed *f)
{
	uint8_t seed[32];
	memset(f, 0, sizeof(*f));
	memset(seed, 0x01, 32);
	crypto_sign_seed_keypair(f->pk, f->sk, seed);
	memset(f->net, 0x22, 32);
	rf_add(f, ENTRY_PUT, "HP-1", "Hoa", 0);
	rf_add(f, ENTRY_PUT, "HP-1", "Nong Thi Hoa", 1);
	rf_add(f, ENTRY_DELETE, "HP-2", NULL, 0);
}

static __attribute__((unused)) void rf_free(struct rf_feed *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->env[i]);
		free(f->body[i]);
	}
}

#endif
