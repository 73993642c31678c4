/*
 * why: a sentence kept in English goes back into the translator's
 * language: the catalog's sentence it is found, its conversions' texts
 * carried over, a quoted sentence of the catalog translated too; what no
 * sentence matches stays as it is, and nothing hangs on text full of
 * conversions.
 */
#include "testlib.h"
#include "why.h"
#include "error.h"

#include <errno.h>
#include <string.h>

/* A translator of a few sentences (all msgids of the catalogs). */
static const char *fake(const char *fmt)
{
	if (strcmp(fmt, "held: feed %s by %s… is held here up to seq %llu, this is %llu: it waits for the entries between (an earlier stick, or a sync, brings them)") == 0)
		return "CHỜ: chuỗi %s của %s… đến %llu, mục này %llu";
	if (strcmp(fmt, "entry at byte %zu, %s: %s") == 0)
		return "MỤC tại byte %zu, %s: %s";
	if (strcmp(fmt, "envelope: %s") == 0)
		return "PB: %s";
	if (strcmp(fmt, "the key is revoked") == 0)
		return "KHÓA BỊ THU HỒI";
	if (strcmp(fmt, "village") == 0)
		return "làng";
	if (strcmp(fmt, "seq %llu of scope %s lies outside what this node's certificate lets it read") == 0)
		return "seq %llu của %s: ngoài quyền đọc (100%%)";
	return fmt;
}

int main(void)
{
	char out[256], small[12];
	const char *in;

	TEST_START("no translator: the sentence itself");
	in = "held: feed ab12 by 0011aabb… is held here up to seq 64, this is 129: it waits for the entries between (an earlier stick, or a sync, brings them)";
	ASSERT_TRUE(why_retranslate(in, out, sizeof(out)) == in);

	why_translate_set(fake);
	TEST_START("a sentence of the catalog, its numbers and names carried over");
	ASSERT_STREQ(why_retranslate(in, out, sizeof(out)),
		     "CHỜ: chuỗi ab12 của 0011aabb… đến 64, mục này 129");
	ASSERT_STREQ(why_retranslate("seq 7 of scope bk/c1/v2 lies outside what this node's certificate lets it read",
				     out, sizeof(out)),
		     "seq 7 của bk/c1/v2: ngoài quyền đọc (100%)");

	TEST_START("a sentence quoted in another is translated too");
	ASSERT_STREQ(why_retranslate("envelope: the key is revoked", out,
				     sizeof(out)),
		     "PB: KHÓA BỊ THU HỒI");
	ASSERT_STREQ(why_retranslate("the key is revoked", out, sizeof(out)),
		     "KHÓA BỊ THU HỒI");

	TEST_START("a sentence kept without its kind (\"held: \") is found, and comes back without it");
	ASSERT_STREQ(why_retranslate("feed ab12 by 0011aabb… is held here up to seq 64, this is 129: it waits for the entries between (an earlier stick, or a sync, brings them)",
				     out, sizeof(out)),
		     "chuỗi ab12 của 0011aabb… đến 64, mục này 129");
	ASSERT_STREQ(why_retranslate("entry at byte 5, health_profile/NP-1: feed ab12 by 0011aabb… is held here up to seq 64, this is 129: it waits for the entries between (an earlier stick, or a sync, brings them)",
				     out, sizeof(out)),
		     "MỤC tại byte 5, health_profile/NP-1: chuỗi ab12 của 0011aabb… đến 64, mục này 129");

	TEST_START("what matches no sentence, or matches only in part, stays as it is");
	in = "held: feed ab12 by 0011aabb… is held here up to seq sixty, this is 129: it waits for the entries between (an earlier stick, or a sync, brings them)";
	ASSERT_TRUE(why_retranslate(in, out, sizeof(out)) == in);
	in = "held: feed ab12 by 0011aabb… is held here up to seq 64, this is 129: it waits for the entries between (an earlier stick, or a sync, brings them) and more";
	ASSERT_TRUE(why_retranslate(in, out, sizeof(out)) == in);
	in = "something else entirely";
	ASSERT_TRUE(why_retranslate(in, out, sizeof(out)) == in);

	TEST_START("a small buffer is cut, never overrun");
	memset(small, 'x', sizeof(small));
	why_retranslate("envelope: the key is revoked", small, sizeof(small) - 1);
	ASSERT_EQ(small[sizeof(small) - 1], 'x');
	ASSERT_STREQ(small, "PB: KHÓA "); /* 10 bytes */
	/* room for 7: the two bytes of Ó would end at 8, so it goes whole */
	why_retranslate("envelope: the key is revoked", small, 8);
	ASSERT_STREQ(small, "PB: KH");

	TEST_START("a translation cut short ends at a whole character, and nothing comes after the cut");
	/* "seq 7 của" is 10 bytes; room for 9 leaves out the two of ủ */
	why_retranslate("seq 7 of scope bk lies outside what this node's certificate lets it read",
			out, 10);
	ASSERT_STREQ(out, "seq 7 c");

	TEST_START("a name that is a word of the catalog is carried over as it is");
	ASSERT_STREQ(why_retranslate("envelope: the key is revoked", out,
				     sizeof(out)),
		     "PB: KHÓA BỊ THU HỒI");
	ASSERT_STREQ(why_retranslate("seq 7 of scope village lies outside what this node's certificate lets it read",
				     out, sizeof(out)),
		     "seq 7 của village: ngoài quyền đọc (100%)");
	ASSERT_STREQ(why_retranslate("village", out, sizeof(out)), "làng");

	TEST_START("text of conversions and separators is no sentence of the catalog");
	{
		char big[1024];
		for (size_t i = 0; i < sizeof(big) - 1; i++)
			big[i] = i % 3 == 0 ? '%' : i % 3 == 1 ? 's' : ' ';
		big[sizeof(big) - 1] = 0;
		ASSERT_TRUE(why_retranslate(big, out, sizeof(out)) == big);
	}
	why_translate_set(NULL);
	TEST_START("a sentence longer than its buffer is cut at a space and marked, never mid-word");
	{
		char w[40];
		why_set(w, sizeof(w), "%s", "record health_profile/HP-1 is erased: it cannot be written");
		ASSERT_STREQ(w, "record health_profile/HP-1 is\u2026");
		/* one long word: cut between two characters, never inside one */
		why_set(w, sizeof(w), "%s", "ĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐ");
		ASSERT_STREQ(w, "ĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐ\u2026");
		why_set(w, sizeof(w), "%s", "fits whole");
		ASSERT_STREQ(w, "fits whole");
	}
	TEST_START("an error's name: hamlet's by its code, any errno by the C library's");
	ASSERT_STREQ(hamlet_errname(HAMLET_EFORMAT), "EFORMAT");
	ASSERT_STREQ(hamlet_errname(-ENOBUFS), "ENOBUFS");
	ASSERT_STREQ(hamlet_errname(-ECONNRESET), "ECONNRESET");
	ASSERT_STREQ(hamlet_errname(-ENOENT), "ENOENT");
	ASSERT_STREQ(hamlet_errname(1), "E?");
	TEST_DONE();
}
