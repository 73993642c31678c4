/*
 * Negentropy protocol v1 over a sorted array of items.
 *
 * Storage is the caller's sorted array plus one running sum of ids per item
 * (sums[i] is ids[0] + ... + ids[i-1] mod 2^256), so a bound is found by
 * binary search and any range's fingerprint costs one subtraction and one
 * SHA-256, whatever the range's size.
 *
 * The message loop follows the reference implementation step by step,
 * because the splitting and frame-limit choices are visible on the wire and
 * peers compare messages byte for byte.
 */
#include "negentropy.h"
#include "negentropy_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bytes.h"
#include "error.h"

#define FP_SIZE NEGENTROPY_FINGERPRINT_SIZE

/* A differing range is split into this many buckets... */
#define BUCKETS 16
/* ...unless it holds fewer items than this: then its ids are listed. */
#define IDLIST_BELOW (BUCKETS * 2)
/* Room kept free under the frame size limit for the closing range. */
#define FRAME_SLACK 200


struct negentropy {
	const struct neg_item *items;
	size_t n;
	size_t frame_size_limit;
	bool initiated;
	uint64_t (*sums)[4]; /* n + 1 sums, little-endian 64-bit limbs */
};

/* ------------------------------------------------------------------------
 * 256-bit sums and fingerprints
 */

static void sum_add_id(uint64_t s[4], const uint8_t id[ID_SIZE])
{
	uint64_t carry = 0;

	for (int i = 0; i < 4; i++) {
		uint64_t v = 0, t;

		for (int j = 7; j >= 0; j--)
			v = (v << 8) | id[8 * i + j];
		t = s[i] + carry;
		carry = t < carry;
		s[i] = t + v;
		carry += s[i] < v;
	}
}

/* ret = a - b mod 2^256 */
static void sum_sub(uint64_t ret[4], const uint64_t a[4], const uint64_t b[4])
{
	uint64_t borrow = 0;

	for (int i = 0; i < 4; i++) {
		uint64_t t = a[i] - b[i];
		uint64_t next = (a[i] < b[i]) | (t < borrow);

		ret[i] = t - borrow;
		borrow = next;
	}
}

static void fingerprint_of_sum(const uint64_t s[4], uint64_t count,
			       uint8_t ret_fp[FP_SIZE])
{
	uint8_t buf[ID_SIZE + BYTES_VARINT_MAX];
	uint8_t hash[crypto_hash_sha256_BYTES];
	struct bytes_writer w;

	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 8; j++)
			buf[8 * i + j] = (uint8_t)(s[i] >> (8 * j));
	/* Cannot fail: BYTES_VARINT_MAX bytes hold any varint. */
	bytes_writer_init(&w, buf + ID_SIZE, BYTES_VARINT_MAX);
	(void)bytes_put_varint(&w, count);
	crypto_hash_sha256(hash, buf, ID_SIZE + bytes_written(&w));
	memcpy(ret_fp, hash, FP_SIZE);
}

static void range_fingerprint(const struct negentropy *ng, size_t lower,
			      size_t upper, uint8_t ret_fp[FP_SIZE])
{
	uint64_t s[4];

	sum_sub(s, ng->sums[upper], ng->sums[lower]);
	fingerprint_of_sum(s, upper - lower, ret_fp);
}

int negentropy_fingerprint(const uint8_t (*ids)[NEGENTROPY_ID_SIZE], size_t n,
			   uint8_t ret_fp[NEGENTROPY_FINGERPRINT_SIZE])
{
	uint64_t s[4] = { 0 };

	if (sodium_init() < 0)
		return -EIO;
	for (size_t i = 0; i < n; i++)
		sum_add_id(s, ids[i]);
	fingerprint_of_sum(s, n, ret_fp);
	return 0;
}

/* ------------------------------------------------------------------------
 * Items and bounds
 */

static int item_cmp(const struct neg_item *a, const struct neg_item *b)
{
	if (a->timestamp != b->timestamp)
		return a->timestamp < b->timestamp ? -1 : 1;
	return memcmp(a->id, b->id, ID_SIZE);
}

static int item_cmp_bound(const struct neg_item *it, const struct bound *b)
{
	if (it->timestamp != b->timestamp)
		return it->timestamp < b->timestamp ? -1 : 1;
	return memcmp(it->id, b->id, ID_SIZE);
}

static int bound_cmp(const struct bound *a, const struct bound *b)
{
	if (a->timestamp != b->timestamp)
		return a->timestamp < b->timestamp ? -1 : 1;
	return memcmp(a->id, b->id, ID_SIZE);
}

static void bound_infinity(struct bound *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->timestamp = INFINITY_TS;
}

static void bound_of_item(const struct neg_item *it, struct bound *ret)
{
	ret->timestamp = it->timestamp;
	memcpy(ret->id, it->id, ID_SIZE);
	ret->id_len = ID_SIZE;
}

/* The shortest bound above prev that cur still falls under. */
static void bound_between(const struct neg_item *prev,
			  const struct neg_item *cur, struct bound *ret)
{
	size_t shared = 0;

	memset(ret, 0, sizeof(*ret));
	ret->timestamp = cur->timestamp;
	if (prev->timestamp != cur->timestamp)
		return;
	while (shared < ID_SIZE - 1 && prev->id[shared] == cur->id[shared])
		shared++;
	ret->id_len = shared + 1;
	memcpy(ret->id, cur->id, ret->id_len);
}

/* The first index in [lower, n) whose item is not below b. */
static size_t find_lower_bound(const struct negentropy *ng, size_t lower,
			       const struct bound *b)
{
	size_t hi = ng->n;

	while (lower < hi) {
		size_t mid = lower + (hi - lower) / 2;

		if (item_cmp_bound(&ng->items[mid], b) < 0)
			lower = mid + 1;
		else
			hi = mid;
	}
	return lower;
}

/* ------------------------------------------------------------------------
 * Id lists
 */

void negentropy_idlist_close(struct neg_idlist *l)
{
	if (!l)
		return;
	free(l->ids);
	memset(l, 0, sizeof(*l));
}

static int idlist_push(struct neg_idlist *l, const uint8_t id[ID_SIZE])
{
	if (l->n >= NEGENTROPY_IDLIST_MAX)
		return HAMLET_ETOOBIG;
	if (l->n >= l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		uint8_t(*np)[ID_SIZE];

		if (ncap > NEGENTROPY_IDLIST_MAX)
			ncap = NEGENTROPY_IDLIST_MAX;
		np = realloc(l->ids, ncap * ID_SIZE);
		if (!np)
			return -ENOMEM;
		l->ids = np;
		l->cap = ncap;
	}
	memcpy(l->ids[l->n++], id, ID_SIZE);
	return 0;
}

/* Their ids, sorted and without repeats, each with a matched flag. */
struct theirs {
	uint8_t (*ids)[ID_SIZE];
	bool *matched;
	size_t n;
	size_t cap;
};

static void theirs_free(struct theirs *t)
{
	free(t->ids);
	free(t->matched);
}

static int id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, ID_SIZE);
}

static int theirs_load(struct theirs *t, const uint8_t *ids, size_t count)
{
	size_t n = 0;

	if (count > t->cap) {
		uint8_t(*nids)[ID_SIZE];
		bool *nm;

		nids = realloc(t->ids, count * ID_SIZE);
		if (!nids)
			return -ENOMEM;
		t->ids = nids;
		nm = realloc(t->matched, count * sizeof(*nm));
		if (!nm)
			return -ENOMEM;
		t->matched = nm;
		t->cap = count;
	}
	if (count) {
		memcpy(t->ids, ids, count * ID_SIZE);
		qsort(t->ids, count, ID_SIZE, id_cmp);
	}
	for (size_t i = 0; i < count; i++)
		if (n == 0 || memcmp(t->ids[n - 1], t->ids[i], ID_SIZE) != 0)
			memmove(t->ids[n++], t->ids[i], ID_SIZE);
	if (n)
		memset(t->matched, 0, n * sizeof(*t->matched));
	t->n = n;
	return 0;
}

/*
 * Client side of an IdList range: each of our ids in [lower, upper) that
 * the list lacks is a have, each listed id we lack a need. As in the
 * reference, an id we hold twice (under two timestamps) matches once.
 */
static int idlist_diff(const struct negentropy *ng, size_t lower, size_t upper,
		       const uint8_t *ids, size_t count, struct theirs *t,
		       struct neg_idlist *have, struct neg_idlist *need)
{
	int rc;

	if ((rc = theirs_load(t, ids, count)) < 0)
		return rc;
	for (size_t i = lower; i < upper; i++) {
		const uint8_t(*hit)[ID_SIZE] = NULL;

		if (t->n)
			hit = bsearch(ng->items[i].id, t->ids, t->n, ID_SIZE,
				      id_cmp);
		if (hit && !t->matched[hit - t->ids]) {
			t->matched[hit - t->ids] = true;
			continue;
		}
		if ((rc = idlist_push(have, ng->items[i].id)) < 0)
			return rc;
	}
	for (size_t j = 0; j < t->n; j++) {
		if (t->matched[j])
			continue;
		if ((rc = idlist_push(need, t->ids[j])) < 0)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Building ranges
 */

static bool frame_exceeded(const struct negentropy *ng, size_t len)
{
	return ng->frame_size_limit && len > ng->frame_size_limit - FRAME_SLACK;
}

/* Describe our [lower, upper), which ends at ub: one id list, or buckets. */
static int split_range(const struct negentropy *ng, struct writer *w,
		       size_t lower, size_t upper, const struct bound *ub)
{
	size_t count = upper - lower;
	size_t per, extra, curr = lower;
	int rc;

	if (count < IDLIST_BELOW) {
		if ((rc = neg__writer_put_range_head(w, ub, MODE_IDLIST)) < 0)
			return rc;
		if ((rc = neg__writer_put_varint(w, count)) < 0)
			return rc;
		for (size_t i = lower; i < upper; i++)
			if ((rc = neg__writer_put(w, ng->items[i].id, ID_SIZE)) < 0)
				return rc;
		return 0;
	}

	per = count / BUCKETS;
	extra = count % BUCKETS;
	for (size_t i = 0; i < BUCKETS; i++) {
		uint8_t fp[FP_SIZE];
		struct bound b;
		size_t start = curr;

		curr += per + (i < extra ? 1 : 0);
		range_fingerprint(ng, start, curr, fp);
		if (curr == upper)
			b = *ub;
		else
			bound_between(&ng->items[curr - 1], &ng->items[curr],
				      &b);
		if ((rc = neg__writer_put_range_head(w, &b, MODE_FINGERPRINT)) < 0)
			return rc;
		if ((rc = neg__writer_put(w, fp, FP_SIZE)) < 0)
			return rc;
	}
	return 0;
}

/*
 * Server side of an IdList range: list our ids in [lower, *upper). Under a
 * frame size limit the list stops once committed bytes of output plus the
 * ids so far pass the limit; the range then ends at the first id left out,
 * and *upper moves there so the closing fingerprint covers the rest.
 */
static int reply_idlist(const struct negentropy *ng, struct writer *w,
			size_t committed, size_t lower, size_t *upper,
			const struct bound *ub)
{
	struct bound end = *ub;
	size_t i;
	int rc;

	for (i = lower; i < *upper; i++)
		if (frame_exceeded(ng, committed + (i - lower) * ID_SIZE))
			break;
	if (i < *upper) {
		bound_of_item(&ng->items[i], &end);
		*upper = i;
	}
	if ((rc = neg__writer_put_range_head(w, &end, MODE_IDLIST)) < 0)
		return rc;
	if ((rc = neg__writer_put_varint(w, i - lower)) < 0)
		return rc;
	for (size_t j = lower; j < i; j++)
		if ((rc = neg__writer_put(w, ng->items[j].id, ID_SIZE)) < 0)
			return rc;
	return 0;
}

/* ------------------------------------------------------------------------
 * The message loop
 */

/* Settled ranges in a row are answered with one Skip, up to prev. */
static int flush_skip(struct writer *w, bool *skip, const struct bound *prev)
{
	if (!*skip)
		return 0;
	*skip = false;
	return neg__writer_put_range_head(w, prev, MODE_SKIP);
}

/*
 * Answer the ranges left in r (a v1 message past its version byte),
 * appending to w, which already holds the version byte. have and need are
 * used only by a client.
 */
static int process_ranges(const struct negentropy *ng, struct reader *r,
			  struct writer *w, struct neg_idlist *have,
			  struct neg_idlist *need)
{
	struct theirs t = { 0 };
	struct bound prev = { 0 }, cur, inf;
	size_t prev_index = 0;
	bool skip = false, stopped = false;
	int rc;

	bound_infinity(&inf);
	while (bytes_remaining(&r->b)) {
		const uint8_t *their_fp = NULL, *ids = NULL;
		uint64_t mode, count = 0;
		size_t lower, upper, mark = w->len;

		if ((rc = neg__reader_get_bound(r, &cur)) < 0)
			goto out;
		if (bound_cmp(&cur, &prev) < 0) {
			rc = HAMLET_EFORMAT;
			goto out;
		}
		if ((rc = bytes_get_varint(&r->b, &mode)) < 0)
			goto out;
		switch (mode) {
		case MODE_SKIP:
			break;
		case MODE_FINGERPRINT:
			rc = bytes_borrow(&r->b, FP_SIZE, &their_fp);
			break;
		case MODE_IDLIST:
			if ((rc = bytes_get_varint(&r->b, &count)) < 0)
				break;
			/* Checked before multiplying, so it cannot wrap. */
			if (count > bytes_remaining(&r->b) / ID_SIZE) {
				rc = HAMLET_EFORMAT;
				break;
			}
			rc = bytes_borrow(&r->b, count * ID_SIZE, &ids);
			break;
		default:
			rc = HAMLET_EFORMAT;
			break;
		}
		if (rc < 0)
			goto out;

		/* Past the frame limit the rest is only checked. */
		if (stopped) {
			prev = cur;
			continue;
		}

		lower = prev_index;
		upper = find_lower_bound(ng, lower, &cur);

		if (mode == MODE_SKIP) {
			skip = true;
		} else if (mode == MODE_FINGERPRINT) {
			uint8_t our_fp[FP_SIZE];

			range_fingerprint(ng, lower, upper, our_fp);
			if (memcmp(their_fp, our_fp, FP_SIZE) == 0) {
				skip = true;
			} else {
				if ((rc = flush_skip(w, &skip, &prev)) < 0)
					goto out;
				rc = split_range(ng, w, lower, upper, &cur);
				if (rc < 0)
					goto out;
			}
		} else if (ng->initiated) {
			rc = idlist_diff(ng, lower, upper, ids, count, &t, have,
					 need);
			if (rc < 0)
				goto out;
			skip = true;
		} else {
			if ((rc = flush_skip(w, &skip, &prev)) < 0)
				goto out;
			rc = reply_idlist(ng, w, mark, lower, &upper, &cur);
			if (rc < 0)
				goto out;
			/* An id list is kept even when it passes the limit. */
			mark = w->len;
		}

		if (frame_exceeded(ng, w->len)) {
			uint8_t fp[FP_SIZE];

			/*
			 * Drop this range's answer and close the message with
			 * one fingerprint from here to infinity, for the next
			 * round to split.
			 */
			w->len = mark;
			range_fingerprint(ng, upper, ng->n, fp);
			rc = neg__writer_put_range_head(w, &inf, MODE_FINGERPRINT);
			if (rc < 0 || (rc = neg__writer_put(w, fp, FP_SIZE)) < 0)
				goto out;
			stopped = true;
		}

		prev_index = upper;
		prev = cur;
	}
	rc = 0;
out:
	theirs_free(&t);
	return rc;
}

/* ------------------------------------------------------------------------
 * Public API
 */

int negentropy_new(const struct neg_item *items, size_t n,
		   size_t frame_size_limit, struct negentropy **ret)
{
	struct negentropy *ng = NULL;
	int rc;

	if (!ret || (n && !items))
		return -EINVAL;
	if (frame_size_limit && frame_size_limit < NEGENTROPY_FRAME_MIN)
		return -EINVAL;
	if (n >= SIZE_MAX / sizeof(*ng->sums))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (items[i].timestamp == INFINITY_TS)
			return -EINVAL;
		if (i && item_cmp(&items[i - 1], &items[i]) >= 0)
			return -EINVAL;
	}
	if (sodium_init() < 0)
		return -EIO;

	ng = calloc(1, sizeof(*ng));
	if (!ng) {
		rc = -ENOMEM;
		goto out;
	}
	ng->items = items;
	ng->n = n;
	ng->frame_size_limit = frame_size_limit;
	ng->sums = malloc((n + 1) * sizeof(*ng->sums));
	if (!ng->sums) {
		rc = -ENOMEM;
		goto out;
	}
	memset(ng->sums[0], 0, sizeof(ng->sums[0]));
	for (size_t i = 0; i < n; i++) {
		memcpy(ng->sums[i + 1], ng->sums[i], sizeof(ng->sums[i]));
		sum_add_id(ng->sums[i + 1], items[i].id);
	}

	*ret = ng;
	ng = NULL;
	rc = 0;
out:
	negentropy_free(ng);
	return rc;
}

void negentropy_free(struct negentropy *ng)
{
	if (!ng)
		return;
	free(ng->sums);
	free(ng);
}

int negentropy_initiate(struct negentropy *ng, uint8_t **ret_msg,
			size_t *ret_len)
{
	struct writer w = { 0 };
	struct bound inf;
	uint8_t version = NEGENTROPY_PROTOCOL_V1;
	int rc;

	if (!ng || !ret_msg || !ret_len || ng->initiated)
		return -EINVAL;
	bound_infinity(&inf);
	if ((rc = neg__writer_put(&w, &version, 1)) < 0)
		goto out;
	if ((rc = split_range(ng, &w, 0, ng->n, &inf)) < 0)
		goto out;

	ng->initiated = true;
	*ret_msg = w.p;
	*ret_len = w.len;
	w.p = NULL;
	rc = 0;
out:
	free(w.p);
	return rc;
}

int negentropy_reconcile(struct negentropy *ng, const uint8_t *msg, size_t len,
			 uint8_t **ret_msg, size_t *ret_len)
{
	struct writer w = { 0 };
	struct reader r;
	uint8_t version = NEGENTROPY_PROTOCOL_V1;
	int rc, other;

	if (!ng || (len && !msg) || !ret_msg || !ret_len || ng->initiated)
		return -EINVAL;
	if ((rc = neg__reader_open(&r, msg, len)) < 0)
		return rc;
	other = rc;
	if ((rc = neg__writer_put(&w, &version, 1)) < 0)
		goto out;
	/* To another version we answer with ours alone: the client retries. */
	if (!other) {
		rc = process_ranges(ng, &r, &w, NULL, NULL);
		if (rc < 0)
			goto out;
	}

	*ret_msg = w.p;
	*ret_len = w.len;
	w.p = NULL;
	rc = 0;
out:
	free(w.p);
	return rc;
}

int negentropy_reconcile_client(struct negentropy *ng, const uint8_t *msg,
				size_t len, struct neg_idlist *have,
				struct neg_idlist *need, uint8_t **ret_msg,
				size_t *ret_len)
{
	struct writer w = { 0 };
	struct reader r;
	uint8_t version = NEGENTROPY_PROTOCOL_V1;
	size_t have_n, need_n;
	int rc;

	if (!ng || (len && !msg) || !have || !need || have == need ||
	    !ret_msg || !ret_len || !ng->initiated)
		return -EINVAL;
	if ((rc = neg__reader_open(&r, msg, len)) < 0)
		return rc;
	if (rc > 0)
		return HAMLET_EVERSION;
	have_n = have->n;
	need_n = need->n;
	if ((rc = neg__writer_put(&w, &version, 1)) < 0)
		goto out;
	if ((rc = process_ranges(ng, &r, &w, have, need)) < 0)
		goto out;

	/* Nothing but the version byte: every range is settled. */
	if (w.len == 1) {
		*ret_msg = NULL;
		*ret_len = 0;
	} else {
		*ret_msg = w.p;
		*ret_len = w.len;
		w.p = NULL;
	}
	rc = 0;
out:
	if (rc < 0) {
		have->n = have_n;
		need->n = need_n;
	}
	free(w.p);
	return rc;
}
