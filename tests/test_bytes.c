/*
 * bytes: every getter and put on known answers, every truncation, and a
 * failed call that leaves the reader or writer as it was. Inputs are
 * copied into heap blocks of their exact size, so that under
 * AddressSanitizer a read past the end is a crash, not a silent pass.
 */
#include "bytes.h"
#include "error.h"
#include "testlib.h"

#include <errno.h>

/* A heap copy of p[0..n) with nothing after it. */
static uint8_t *exact(const void *p, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);

	ASSERT_TRUE(b != NULL);
	if (n)
		memcpy(b, p, n);
	return b;
}

/* The reader is where it was: same buffer, same length, same offset. */
#define ASSERT_READER_AT(r, buf, n, o)                     \
	do {                                               \
		ASSERT_TRUE((r)->p == (const uint8_t *)(buf)); \
		ASSERT_EQ((r)->len, (n));                  \
		ASSERT_EQ(bytes_offset(r), (o));           \
		ASSERT_EQ(bytes_remaining(r), (n) - (o));  \
	} while (0)

enum getter { G_U8, G_BE16, G_BE32, G_BE64, G__N };

static const size_t getter_width[G__N] = { 1, 2, 4, 8 };
static const char *const getter_name[G__N] = { "u8", "be16", "be32", "be64" };

/* Run getter g; on success *ret is the value read. */
static int get(enum getter g, struct bytes_reader *r, uint64_t *ret)
{
	uint8_t v8 = 0xa5;
	uint16_t v16 = 0xa5a5;
	uint32_t v32 = 0xa5a5a5a5;
	uint64_t v64 = 0xa5a5a5a5a5a5a5a5;
	int rc;

	switch (g) {
	case G_U8:
		rc = bytes_get_u8(r, &v8);
		ASSERT_TRUE(rc == 0 || v8 == 0xa5);
		*ret = v8;
		break;
	case G_BE16:
		rc = bytes_get_be16(r, &v16);
		ASSERT_TRUE(rc == 0 || v16 == 0xa5a5);
		*ret = v16;
		break;
	case G_BE32:
		rc = bytes_get_be32(r, &v32);
		ASSERT_TRUE(rc == 0 || v32 == 0xa5a5a5a5);
		*ret = v32;
		break;
	default:
		rc = bytes_get_be64(r, &v64);
		ASSERT_TRUE(rc == 0 || v64 == 0xa5a5a5a5a5a5a5a5);
		*ret = v64;
		break;
	}
	return rc;
}

static void test_integers(void)
{
	static const uint8_t data[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
					0x07, 0x08, 0xff, 0xfe };
	static const uint64_t want[G__N] = { 0x01, 0x0102, 0x01020304,
					     0x0102030405060708 };
	struct bytes_reader r;
	uint64_t v;

	TEST_START("each integer getter reads big-endian and moves by its width");
	for (int g = 0; g < G__N; g++) {
		uint8_t *b = exact(data, sizeof(data));

		bytes_reader_init(&r, b, sizeof(data));
		ASSERT_OK(get(g, &r, &v));
		ASSERT_EQ(v, want[g]);
		ASSERT_READER_AT(&r, b, sizeof(data), getter_width[g]);
		free(b);
	}

	TEST_START("high bits survive: 0xff and 0xfffe come back unsigned");
	{
		uint8_t *b = exact(data + 8, 2);
		uint8_t u8;
		uint16_t u16;

		bytes_reader_init(&r, b, 2);
		ASSERT_OK(bytes_get_u8(&r, &u8));
		ASSERT_EQ(u8, 0xff);
		bytes_reader_init(&r, b, 2);
		ASSERT_OK(bytes_get_be16(&r, &u16));
		ASSERT_EQ(u16, 0xfffe);
		free(b);
	}

	TEST_START("the largest values read back whole");
	{
		uint8_t ones[8];
		uint8_t *b;
		uint32_t u32;

		memset(ones, 0xff, sizeof(ones));
		b = exact(ones, sizeof(ones));
		bytes_reader_init(&r, b, 8);
		ASSERT_OK(bytes_get_be64(&r, &v));
		ASSERT_TRUE(v == UINT64_MAX);
		bytes_reader_init(&r, b, 8);
		ASSERT_OK(bytes_get_be32(&r, &u32));
		ASSERT_TRUE(u32 == UINT32_MAX);
		free(b);
	}

	TEST_START("an integer cut short at every length is malformed and reads nothing");
	for (int g = 0; g < G__N; g++) {
		for (size_t n = 0; n < getter_width[g]; n++) {
			uint8_t *b = exact(data, n);

			fprintf(stderr, "   %s from %zu bytes\n", getter_name[g], n);
			bytes_reader_init(&r, b, n);
			ASSERT_EQ(get(g, &r, &v), HAMLET_EFORMAT);
			ASSERT_READER_AT(&r, b, n, 0);
			free(b);
		}
	}

	TEST_START("an integer that runs past the end from an offset reads nothing");
	for (int g = 0; g < G__N; g++) {
		uint8_t *b = exact(data, sizeof(data));

		bytes_reader_init(&r, b, sizeof(data));
		ASSERT_OK(bytes_skip(&r, sizeof(data) - getter_width[g] + 1));
		ASSERT_EQ(get(g, &r, &v), HAMLET_EFORMAT);
		ASSERT_READER_AT(&r, b, sizeof(data),
				 sizeof(data) - getter_width[g] + 1);
		ASSERT_OK(bytes_skip(&r, 0));
		free(b);
	}

	TEST_START("a sequence of getters reads a whole record and nothing more");
	{
		uint8_t *b = exact(data, sizeof(data));
		uint8_t u8;
		uint16_t u16;
		uint32_t u32;

		bytes_reader_init(&r, b, sizeof(data));
		ASSERT_OK(bytes_get_u8(&r, &u8));
		ASSERT_OK(bytes_get_be16(&r, &u16));
		ASSERT_OK(bytes_get_be32(&r, &u32));
		ASSERT_EQ(u8, 0x01);
		ASSERT_EQ(u16, 0x0203);
		ASSERT_EQ(u32, 0x04050607);
		ASSERT_EQ(bytes_remaining(&r), 3);
		ASSERT_EQ(bytes_get_be32(&r, &u32), HAMLET_EFORMAT);
		ASSERT_EQ(u32, 0x04050607);
		ASSERT_OK(bytes_get_be16(&r, &u16));
		ASSERT_OK(bytes_get_u8(&r, &u8));
		ASSERT_EQ(u16, 0x08ff);
		ASSERT_EQ(u8, 0xfe);
		ASSERT_EQ(bytes_remaining(&r), 0);
		ASSERT_EQ(bytes_get_u8(&r, &u8), HAMLET_EFORMAT);
		free(b);
	}
}

static void test_spans(void)
{
	static const uint8_t data[] = "abcdefgh";
	const size_t n = 8;
	struct bytes_reader r;
	const uint8_t *p;
	uint8_t out[9];
	uint8_t *b = exact(data, n);

	TEST_START("bytes_get_bytes copies n bytes and moves past them");
	bytes_reader_init(&r, b, n);
	memset(out, 0, sizeof(out));
	ASSERT_OK(bytes_get_bytes(&r, out, 3));
	ASSERT_MEMEQ(out, "abc", 3);
	ASSERT_READER_AT(&r, b, n, 3);

	TEST_START("bytes_borrow points into the buffer and moves past the span");
	ASSERT_OK(bytes_borrow(&r, 2, &p));
	ASSERT_TRUE(p == b + 3);
	ASSERT_READER_AT(&r, b, n, 5);

	TEST_START("bytes_peek points into the buffer and stays");
	ASSERT_OK(bytes_peek(&r, 3, &p));
	ASSERT_TRUE(p == b + 5);
	ASSERT_READER_AT(&r, b, n, 5);

	TEST_START("bytes_skip moves past n bytes");
	ASSERT_OK(bytes_skip(&r, 1));
	ASSERT_READER_AT(&r, b, n, 6);

	TEST_START("a span of every length past the end fails and changes nothing");
	for (size_t off = 0; off <= n; off++) {
		for (size_t k = n - off + 1; k <= n + 1; k++) {
			const uint8_t *q = NULL;

			bytes_reader_init(&r, b, n);
			ASSERT_OK(bytes_skip(&r, off));
			memset(out, 0x5a, sizeof(out));
			ASSERT_EQ(bytes_get_bytes(&r, out, k), HAMLET_EFORMAT);
			ASSERT_EQ(out[0], 0x5a);
			ASSERT_EQ(bytes_borrow(&r, k, &q), HAMLET_EFORMAT);
			ASSERT_EQ(bytes_peek(&r, k, &q), HAMLET_EFORMAT);
			ASSERT_TRUE(q == NULL);
			ASSERT_EQ(bytes_skip(&r, k), HAMLET_EFORMAT);
			ASSERT_READER_AT(&r, b, n, off);
		}
	}

	TEST_START("a span of exactly what remains succeeds, and so does 0");
	for (size_t off = 0; off <= n; off++) {
		bytes_reader_init(&r, b, n);
		ASSERT_OK(bytes_skip(&r, off));
		ASSERT_OK(bytes_peek(&r, n - off, &p));
		ASSERT_TRUE(p == b + off);
		ASSERT_OK(bytes_get_bytes(&r, out, 0));
		ASSERT_OK(bytes_borrow(&r, 0, &p));
		ASSERT_READER_AT(&r, b, n, off);
		ASSERT_OK(bytes_get_bytes(&r, out, n - off));
		ASSERT_MEMEQ(out, data + off, n - off);
		ASSERT_READER_AT(&r, b, n, n);
	}

	TEST_START("a length near SIZE_MAX does not wrap around the end");
	bytes_reader_init(&r, b, n);
	ASSERT_OK(bytes_skip(&r, 1));
	ASSERT_EQ(bytes_skip(&r, SIZE_MAX), HAMLET_EFORMAT);
	ASSERT_EQ(bytes_borrow(&r, SIZE_MAX, &p), HAMLET_EFORMAT);
	ASSERT_EQ(bytes_peek(&r, SIZE_MAX - 1, &p), HAMLET_EFORMAT);
	ASSERT_READER_AT(&r, b, n, 1);

	TEST_START("a reader over no buffer has nothing to read");
	bytes_reader_init(&r, NULL, 0);
	ASSERT_EQ(bytes_remaining(&r), 0);
	ASSERT_OK(bytes_skip(&r, 0));
	ASSERT_EQ(bytes_skip(&r, 1), HAMLET_EFORMAT);
	{
		uint8_t u8;
		uint64_t v;

		ASSERT_EQ(bytes_get_u8(&r, &u8), HAMLET_EFORMAT);
		ASSERT_EQ(bytes_get_varint(&r, &v), HAMLET_EFORMAT);
	}
	free(b);
}

/* Known encodings, from the Negentropy reference implementation's rule. */
static const struct {
	uint64_t v;
	size_t len;
	uint8_t enc[BYTES_VARINT_MAX];
} varints[] = {
	{ 0, 1, { 0x00 } },
	{ 1, 1, { 0x01 } },
	{ 127, 1, { 0x7f } },
	{ 128, 2, { 0x81, 0x00 } },
	{ 255, 2, { 0x81, 0x7f } },
	{ 300, 2, { 0x82, 0x2c } },
	{ 16383, 2, { 0xff, 0x7f } },
	{ 16384, 3, { 0x81, 0x80, 0x00 } },
	{ (uint64_t)1 << 63, 10,
	  { 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 } },
	{ UINT64_MAX, 10,
	  { 0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f } },
};

static void test_varints(void)
{
	struct bytes_reader r;
	uint64_t v;

	TEST_START("varints of known values decode to them and move by their length");
	for (size_t i = 0; i < sizeof(varints) / sizeof(varints[0]); i++) {
		uint8_t *b = exact(varints[i].enc, varints[i].len);

		bytes_reader_init(&r, b, varints[i].len);
		ASSERT_OK(bytes_get_varint(&r, &v));
		ASSERT_TRUE(v == varints[i].v);
		ASSERT_READER_AT(&r, b, varints[i].len, varints[i].len);
		free(b);
	}

	TEST_START("a varint cut short at every length is malformed and reads nothing");
	for (size_t i = 0; i < sizeof(varints) / sizeof(varints[0]); i++) {
		for (size_t n = 0; n < varints[i].len; n++) {
			uint8_t *b = exact(varints[i].enc, n);

			v = 0xa5;
			bytes_reader_init(&r, b, n);
			ASSERT_EQ(bytes_get_varint(&r, &v), HAMLET_EFORMAT);
			ASSERT_EQ(v, 0xa5);
			ASSERT_READER_AT(&r, b, n, 0);
			free(b);
		}
	}

	TEST_START("a varint with a leading zero group is malformed");
	{
		static const uint8_t bad[][3] = { { 0x80, 0x01 },
						  { 0x80, 0x80, 0x00 } };
		for (size_t i = 0; i < 2; i++) {
			uint8_t *b = exact(bad[i], i + 2);

			bytes_reader_init(&r, b, i + 2);
			ASSERT_EQ(bytes_get_varint(&r, &v), HAMLET_EFORMAT);
			ASSERT_READER_AT(&r, b, i + 2, 0);
			free(b);
		}
	}

	TEST_START("a varint over 64 bits is malformed");
	{
		static const uint8_t over[][11] = {
			/* 2^64: ten bytes whose top group is 2 */
			{ 0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
			  0x00 },
			/* eleven bytes */
			{ 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
			  0x80, 0x00 },
		};
		static const size_t len[] = { 10, 11 };

		for (size_t i = 0; i < 2; i++) {
			uint8_t *b = exact(over[i], len[i]);

			bytes_reader_init(&r, b, len[i]);
			ASSERT_EQ(bytes_get_varint(&r, &v), HAMLET_EFORMAT);
			ASSERT_READER_AT(&r, b, len[i], 0);
			free(b);
		}
	}

	TEST_START("a varint stops at its last byte and leaves the rest");
	{
		static const uint8_t two[] = { 0x81, 0x00, 0x05 };
		uint8_t *b = exact(two, sizeof(two));

		bytes_reader_init(&r, b, sizeof(two));
		ASSERT_OK(bytes_get_varint(&r, &v));
		ASSERT_EQ(v, 128);
		ASSERT_OK(bytes_get_varint(&r, &v));
		ASSERT_EQ(v, 5);
		ASSERT_EQ(bytes_remaining(&r), 0);
		free(b);
	}

	TEST_START("varints written and read back agree around every group boundary");
	for (int bits = 0; bits <= 64; bits++) {
		uint64_t base = bits == 64 ? UINT64_MAX
				: bits == 0 ? 0
					    : (uint64_t)1 << bits;
		for (int d = -1; d <= 1; d++) {
			uint8_t buf[BYTES_VARINT_MAX];
			struct bytes_writer w;
			uint64_t x = base + (uint64_t)(int64_t)d;
			uint8_t *b;
			size_t len;

			bytes_writer_init(&w, buf, sizeof(buf));
			ASSERT_OK(bytes_put_varint(&w, x));
			len = bytes_written(&w);
			ASSERT_TRUE(len >= 1 && len <= BYTES_VARINT_MAX);
			ASSERT_TRUE(len == 1 || buf[0] != 0x80);
			b = exact(buf, len);
			bytes_reader_init(&r, b, len);
			ASSERT_OK(bytes_get_varint(&r, &v));
			ASSERT_TRUE(v == x);
			ASSERT_EQ(bytes_remaining(&r), 0);
			free(b);
		}
	}
}

static void test_writer(void)
{
	uint8_t buf[32], want[32];
	struct bytes_writer w;
	uint8_t *p;

	TEST_START("each put writes big-endian and moves by its width");
	bytes_writer_init(&w, buf, sizeof(buf));
	ASSERT_OK(bytes_put_u8(&w, 0x01));
	ASSERT_OK(bytes_put_be16(&w, 0x0203));
	ASSERT_OK(bytes_put_be32(&w, 0x04050607));
	ASSERT_OK(bytes_put_be64(&w, 0x08090a0b0c0d0e0f));
	ASSERT_OK(bytes_put_bytes(&w, "\x10\x11", 2));
	ASSERT_OK(bytes_put_bytes(&w, NULL, 0));
	ASSERT_EQ(bytes_written(&w), 17);
	for (int i = 0; i < 17; i++)
		want[i] = (uint8_t)(i + 1);
	ASSERT_MEMEQ(buf, want, 17);

	TEST_START("each varint of the known list is written as the reference writes it");
	for (size_t i = 0; i < sizeof(varints) / sizeof(varints[0]); i++) {
		bytes_writer_init(&w, buf, sizeof(buf));
		ASSERT_OK(bytes_put_varint(&w, varints[i].v));
		ASSERT_EQ(bytes_written(&w), varints[i].len);
		ASSERT_MEMEQ(buf, varints[i].enc, varints[i].len);
	}

	TEST_START("a put into too little room fails with -ENOBUFS and writes nothing");
	for (size_t cap = 0; cap < 10; cap++) {
		size_t need[] = { 1, 2, 4, 8, 3, 10 };

		for (int k = 0; k < 6; k++) {
			uint8_t *room;
			int rc = 0;

			if (need[k] <= cap)
				continue;
			room = malloc(cap ? cap : 1);
			ASSERT_TRUE(room != NULL);
			memset(room, 0x5a, cap);
			bytes_writer_init(&w, room, cap);
			switch (k) {
			case 0:
				rc = bytes_put_u8(&w, 1);
				break;
			case 1:
				rc = bytes_put_be16(&w, 1);
				break;
			case 2:
				rc = bytes_put_be32(&w, 1);
				break;
			case 3:
				rc = bytes_put_be64(&w, 1);
				break;
			case 4:
				rc = bytes_put_bytes(&w, "abc", 3);
				break;
			default:
				rc = bytes_put_varint(&w, UINT64_MAX);
				break;
			}
			ASSERT_EQ(rc, -ENOBUFS);
			ASSERT_EQ(bytes_written(&w), 0);
			for (size_t j = 0; j < cap; j++)
				ASSERT_EQ(room[j], 0x5a);
			free(room);
		}
	}

	TEST_START("bytes_reserve hands out the next n bytes, or fails and keeps them");
	bytes_writer_init(&w, buf, 4);
	ASSERT_OK(bytes_reserve(&w, 3, &p));
	ASSERT_TRUE(p == buf);
	ASSERT_EQ(bytes_reserve(&w, 2, &p), -ENOBUFS);
	ASSERT_TRUE(p == buf);
	ASSERT_EQ(bytes_reserve(&w, SIZE_MAX, &p), -ENOBUFS);
	ASSERT_OK(bytes_reserve(&w, 1, &p));
	ASSERT_TRUE(p == buf + 3);
	ASSERT_EQ(bytes_written(&w), 4);

	TEST_START("a writer over no buffer takes nothing but empty puts");
	bytes_writer_init(&w, NULL, 0);
	ASSERT_OK(bytes_put_bytes(&w, NULL, 0));
	ASSERT_EQ(bytes_put_u8(&w, 0), -ENOBUFS);
	ASSERT_EQ(bytes_written(&w), 0);
}

int main(void)
{
	test_integers();
	test_spans();
	test_varints();
	test_writer();
	TEST_DONE();
}
