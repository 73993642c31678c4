/*
 * What the benchmarks share: clocks and the sample record they write.
 * Header-only: each benchmark is one program.
 */
#ifndef HAMLET_BENCH_UTIL_H
#define HAMLET_BENCH_UTIL_H

#include "entry.h"
#include "error.h"
#include "mp.h"
#include "node.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include <stdint.h>
#include <stdio.h>
#include <time.h>

static inline double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A health profile body of about 300 bytes. */
static inline uint8_t *bench_profile_body(unsigned i, size_t *ret_len)
{
	struct mp_writer w;
	char buf[160];
	mp_writer_init(&w);
	msgpack_pack_map(&w.pk, 9);
	mp_pack_str(&w.pk, "person_id");
	snprintf(buf, sizeof(buf), "%012u", i);
	mp_pack_str(&w.pk, buf);
	mp_pack_str(&w.pk, "full_name");
	snprintf(buf, sizeof(buf), "Nong Thi Hoa %u", i);
	mp_pack_str(&w.pk, buf);
	mp_pack_str(&w.pk, "birth_date");
	mp_pack_str(&w.pk, "1987-03-14");
	mp_pack_str(&w.pk, "sex");
	mp_pack_str(&w.pk, "female");
	mp_pack_str(&w.pk, "ethnicity");
	mp_pack_str(&w.pk, "Tay");
	mp_pack_str(&w.pk, "household_id");
	snprintf(buf, sizeof(buf), "HH-%06u", i / 4);
	mp_pack_str(&w.pk, buf);
	mp_pack_str(&w.pk, "village");
	mp_pack_str(&w.pk, "na-pai");
	mp_pack_str(&w.pk, "allergies");
	mp_pack_str(&w.pk, "penicillin; dust mites; shellfish (mild reaction noted 2019)");
	mp_pack_str(&w.pk, "chronic_conditions");
	mp_pack_str(&w.pk, "hypertension since 2015, controlled with amlodipine 5 mg daily; annual check-up at the commune health station");
	uint8_t *p = mp_writer_take(&w, ret_len);
	mp_writer_destroy(&w);
	return p;
}

/*
 * One core: sign, then verify, a sample of real envelopes written by a.
 * Fills sign and verify rates (per second); <0 on failure.
 */
static inline int bench_sign_verify(const struct node *a, unsigned sample,
				    double *ret_sign, double *ret_verify)
{
	uint8_t *envs = malloc((size_t)sample * ENTRY_MAX_ENVELOPE);
	size_t *lens = malloc(sample * sizeof(size_t));
	uint8_t(*sigs)[64] = malloc((size_t)sample * 64);
	struct entry e;
	double t0;
	int r = -1;

	if (!envs || !lens || !sigs)
		goto out;
	memset(&e, 0, sizeof(e));
	memcpy(e.network_id, a->net.id, 32);
	memcpy(e.author, a->pk, 32);
	strcpy(e.scope, "bk/bt/qt/na-pai");
	e.kind = ENTRY_PUT;
	strcpy(e.collection, "health_profile");
	e.has_body = 1;
	e.body_len = 300;
	for (unsigned i = 0; i < sample; i++) {
		uint8_t *p;
		e.seq = i + 1;
		e.has_prev = i > 0;
		e.hlc = (uint64_t)i << 16;
		snprintf(e.record_id, sizeof(e.record_id), "HP-%u", i);
		randombytes_buf(e.body_hash, 32);
		if ((r = entry_encode(&e, &p, &lens[i])) < 0)
			goto out;
		memcpy(envs + (size_t)i * ENTRY_MAX_ENVELOPE, p, lens[i]);
		free(p);
	}
	t0 = bench_now();
	for (unsigned i = 0; i < sample; i++)
		entry_sign(envs + (size_t)i * ENTRY_MAX_ENVELOPE, lens[i], a->sk,
			   sigs[i]);
	*ret_sign = sample / (bench_now() - t0);
	t0 = bench_now();
	for (unsigned i = 0; i < sample; i++)
		if ((r = entry_verify(envs + (size_t)i * ENTRY_MAX_ENVELOPE,
				      lens[i], sigs[i], a->pk)) < 0)
			goto out;
	*ret_verify = sample / (bench_now() - t0);
	r = 0;
out:
	free(envs);
	free(lens);
	free(sigs);
	return r;
}

#endif
