/*
 * What the benchmarks share: clocks and the sample record they write.
 * Header-only: each benchmark is one program.
 */
#ifndef HAMLET_BENCH_UTIL_H
#define HAMLET_BENCH_UTIL_H

#include "mp.h"

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

#endif
