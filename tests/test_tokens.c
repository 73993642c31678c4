/*
 * tokens: HOME/tokens keeps hashes only; a token is found by its hash,
 * refused once revoked; an end is kept and tells from when it is
 * expired; names are unique; a malformed file is an error naming it; the
 * file format is pinned by a golden file.
 */
#include "error.h"
#include "testlib.h"
#include "tokens.h"

#include <sodium.h>
#include <sys/stat.h>
#include <time.h>

static char dir[256];

static void spit(const char *name, const char *text)
{
	char p[512];
	FILE *f;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	ASSERT_TRUE(f != NULL);
	fputs(text, f);
	fclose(f);
}

int main(void)
{
	static struct tokens ts;
	char tok[TOKEN_LEN + 1], tok2[TOKEN_LEN + 1], why[300], p[512];
	const struct token *t;
	struct stat st;

	ASSERT_TRUE(sodium_init() >= 0);
	snprintf(dir, sizeof(dir), "%s/hamlet-tokens-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ASSERT_TRUE(mkdtemp(dir) != NULL);

	TEST_START("no file: no token");
	ASSERT_OK(tokens_load(dir, &ts, why, sizeof(why)));
	ASSERT_EQ(ts.n, 0);
	ASSERT_TRUE(tokens_find(&ts, "hmt_x") == NULL);

	TEST_START("create: the token is shown, its hash kept, 0640");
	ASSERT_OK(tokens_create(dir, "form", TOKEN_WRITE, "bk/c1", 0, tok, why,
				sizeof(why)));
	ASSERT_EQ(strlen(tok), TOKEN_LEN);
	ASSERT_TRUE(strncmp(tok, TOKEN_PREFIX, 4) == 0);
	ASSERT_OK(tokens_create(dir, "reader", TOKEN_READ, NULL, 0, tok2, why,
				sizeof(why)));
	snprintf(p, sizeof(p), "%s/%s", dir, TOKENS_FILE);
	ASSERT_EQ(stat(p, &st), 0);
	ASSERT_EQ(st.st_mode & 0777, 0640);
	{
		FILE *f = fopen(p, "r");
		char buf[4096];
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = 0;
		ASSERT_TRUE(strstr(buf, tok + 4) == NULL); /* never the token */
	}
	ASSERT_OK(tokens_load(dir, &ts, why, sizeof(why)));
	ASSERT_EQ(ts.n, 2);
	t = tokens_find(&ts, tok);
	ASSERT_TRUE(t != NULL);
	ASSERT_STREQ(t->name, "form");
	ASSERT_EQ(t->role, TOKEN_WRITE);
	ASSERT_TRUE(token_covers(t, "bk/c1/v2"));
	ASSERT_TRUE(!token_covers(t, "bk/c2"));
	ASSERT_TRUE(!token_covers(t, "bk/c10"));
	t = tokens_find(&ts, tok2);
	ASSERT_TRUE(t && t->role == TOKEN_READ && token_covers(t, "xx"));
	tok2[10] ^= 1;
	ASSERT_TRUE(tokens_find(&ts, tok2) == NULL);

	TEST_START("a name is unique; bad names and roles are refused");
	ASSERT_EQ(tokens_create(dir, "form", TOKEN_READ, NULL, 0, tok2, why,
				sizeof(why)),
		  HAMLET_EDUP);
	ASSERT_TRUE(strstr(why, "form") != NULL);
	ASSERT_EQ(tokens_create(dir, "Bad Name", TOKEN_READ, NULL, 0, tok2, why,
				sizeof(why)),
		  HAMLET_EFORMAT);
	ASSERT_EQ(tokens_create(dir, "x", 7, NULL, 0, tok2, why, sizeof(why)),
		  HAMLET_EFORMAT);

	TEST_START("an end: kept in the file, expired from that instant on");
	{
		uint64_t now = (uint64_t)time(NULL) * 1000, end = now + 3600000;
		char tok3[TOKEN_LEN + 1];
		ASSERT_OK(tokens_create(dir, "short", TOKEN_READ, NULL, end, tok3,
					why, sizeof(why)));
		ASSERT_OK(tokens_load(dir, &ts, why, sizeof(why)));
		t = tokens_find(&ts, tok3);
		ASSERT_TRUE(t != NULL);
		ASSERT_EQ(t->expires_ms, end);
		ASSERT_TRUE(!token_expired(t, now));
		ASSERT_TRUE(!token_expired(t, end - 1));
		ASSERT_TRUE(token_expired(t, end));
		/* the others never end */
		t = tokens_find(&ts, tok);
		ASSERT_TRUE(t && t->expires_ms == 0 && !token_expired(t, ~0ull));
		/* an end already past makes no token */
		ASSERT_EQ(tokens_create(dir, "late", TOKEN_READ, NULL, now - 1000,
					tok3, why, sizeof(why)),
			  HAMLET_EFORMAT);
		ASSERT_TRUE(strstr(why, "past") != NULL);
		ASSERT_OK(tokens_revoke(dir, "short", why, sizeof(why)));
	}

	TEST_START("revoke: the token is refused, the others stay");
	ASSERT_OK(tokens_revoke(dir, "form", why, sizeof(why)));
	ASSERT_EQ(tokens_revoke(dir, "form", why, sizeof(why)),
		  HAMLET_ENOTFOUND);
	ASSERT_OK(tokens_load(dir, &ts, why, sizeof(why)));
	ASSERT_EQ(ts.n, 1);
	ASSERT_TRUE(tokens_find(&ts, tok) == NULL);

	TEST_START("golden: the file format, version of this page");
	/* BLAKE2b-256("hmt_" + 64 zeros) */
	spit(TOKENS_FILE,
	     "[{\"name\": \"golden\", \"role\": \"read\", \"scope\": \"bk/c1\", "
	     "\"hash\": \"4a9a4094922427e43d2964899b987ba214a31854818f9bd0786f53a32d094ae1\", "
	     "\"created\": 1764547200000}]\n");
	ASSERT_OK(tokens_load(dir, &ts, why, sizeof(why)));
	ASSERT_EQ(ts.n, 1);
	t = tokens_find(&ts, "hmt_0000000000000000000000000000000000000000000000000000000000000000");
	ASSERT_TRUE(t != NULL);
	ASSERT_STREQ(t->scope, "bk/c1");
	ASSERT_EQ(t->created_ms, 1764547200000ull);
	ASSERT_EQ(t->expires_ms, 0);
	spit(TOKENS_FILE,
	     "[{\"name\": \"golden\", \"role\": \"read\", \"scope\": \"bk/c1\", "
	     "\"hash\": \"4a9a4094922427e43d2964899b987ba214a31854818f9bd0786f53a32d094ae1\", "
	     "\"created\": 1764547200000, \"expires\": 1767225600000}]\n");
	ASSERT_OK(tokens_load(dir, &ts, why, sizeof(why)));
	t = tokens_find(&ts, "hmt_0000000000000000000000000000000000000000000000000000000000000000");
	ASSERT_TRUE(t != NULL);
	ASSERT_EQ(t->expires_ms, 1767225600000ull);
	ASSERT_TRUE(token_expired(t, 1767225600000ull));

	TEST_START("a malformed file is an error naming the file and the token");
	spit(TOKENS_FILE, "[{\"name\": \"x\"}]");
	ASSERT_EQ(tokens_load(dir, &ts, why, sizeof(why)), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, TOKENS_FILE) && strstr(why, "token 1"));
	ASSERT_EQ(ts.n, 0);
	spit(TOKENS_FILE,
	     "[{\"name\": \"x\", \"role\": \"read\", \"scope\": \"\", "
	     "\"hash\": \"4a9a4094922427e43d2964899b987ba214a31854818f9bd0786f53a32d094ae1\", "
	     "\"created\": 1, \"expires\": \"soon\"}]");
	ASSERT_EQ(tokens_load(dir, &ts, why, sizeof(why)), HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "expires") != NULL);
	spit(TOKENS_FILE, "not json");
	ASSERT_EQ(tokens_load(dir, &ts, why, sizeof(why)), HAMLET_EFORMAT);

	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	if (system(p) != 0)
		fprintf(stderr, "warning: could not remove %s\n", dir);
	TEST_DONE();
}
