/* The access log: append, read, --since, the hash chain, rotation. */
#include "access.h"
#include "helpers.h"

#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>

static const struct access_who mai = { "user", "mai", 1000 };

static void add(const char *home, const char *cmd, const char *coll,
		const char *id, uint64_t t, uint64_t max)
{
	char why[512] = "";
	struct access_what w = { cmd, coll, id, id ? NULL : "all live records",
				 id ? 1 : 7 };
	int r = access_append(home, &mai, &w, t, max, why, sizeof(why));
	if (r < 0)
		fprintf(stderr, "append: %s\n", why);
	ASSERT_OK(r);
}

/* A new log at path of n gets: HP-1 at 1000, HP-2 at 2000, ... */
static void fresh(const char *dir, const char *path, int n)
{
	char id[16];
	ASSERT_OK(unlink(path));
	for (int i = 1; i <= n; i++) {
		snprintf(id, sizeof(id), "HP-%d", i);
		add(dir, "get", "health_profile", id, 1000 * (uint64_t)i, 0);
	}
}

static char *slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 1 << 20);
	size_t n;
	ASSERT_TRUE(f != NULL);
	n = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	if (ret_len)
		*ret_len = n;
	return buf;
}

static void spit(const char *path, const char *buf, size_t n)
{
	FILE *f = fopen(path, "wb");
	ASSERT_TRUE(f != NULL);
	ASSERT_EQ(fwrite(buf, 1, n, f), n);
	fclose(f);
}

/* The entries read, one "command collection record count time" each. */
struct seen {
	char text[16][128];
	int n;
};

static int collect(void *ctx, const struct access_entry *e)
{
	struct seen *s = ctx;
	if (s->n < 16)
		snprintf(s->text[s->n], sizeof(s->text[0]), "%s %s %s %s %lld %llu %llu",
			 e->who, e->command, e->collection,
			 e->record ? e->record : e->query, (long long)e->uid,
			 (unsigned long long)e->count,
			 (unsigned long long)e->time_ms);
	s->n++;
	return 0;
}

static int stop(void *ctx, const struct access_entry *e)
{
	(void)ctx;
	(void)e;
	return -ECANCELED;
}

static void check_read(const char *home, uint64_t since, struct seen *s,
		       struct access_check *c)
{
	char why[512] = "";
	int r;
	memset(s, 0, sizeof(*s));
	r = access_read(home, since, collect, s, c, why, sizeof(why));
	if (r < 0)
		fprintf(stderr, "read: %s\n", why);
	ASSERT_OK(r);
}

/* Threads appending through one group: each appends its share. */
struct grp_arg {
	struct access_group *g;
	int id, n;
	int failed;
};

static void *grp_thread(void *p)
{
	struct grp_arg *a = p;
	struct access_who who = { "token", "app", -1 };
	for (int i = 0; i < a->n; i++) {
		char rec[32], why[512];
		struct access_what w = { "get", "health_profile", rec, NULL, 1 };
		snprintf(rec, sizeof(rec), "T%d-%d", a->id, i);
		if (access_group_append(a->g, &who, &w, 5000 + (uint64_t)i,
					why, sizeof(why)) < 0)
			a->failed++;
	}
	return NULL;
}

static void hash_hex(const char *p, size_t n, char out[65])
{
	uint8_t h[32];
	crypto_generichash(h, 32, (const uint8_t *)p, n, NULL, 0);
	sodium_bin2hex(out, 65, h, 32);
}

int main(void)
{
	char *dir = th_tmpdir(), path[4200], why[512];
	struct access_check c;
	struct seen s;
	size_t len;
	char *text;

	ASSERT_OK(sodium_init());
	snprintf(path, sizeof(path), "%s/access/access.log", dir);

	TEST_START("only the health collections are logged");
	ASSERT_TRUE(access_logged("health_profile"));
	ASSERT_TRUE(access_logged("health_event"));
	ASSERT_TRUE(!access_logged("payment"));
	ASSERT_TRUE(!access_logged("registration"));
	ASSERT_TRUE(!access_logged(NULL));

	TEST_START("an empty log reads as no entries, no files");
	check_read(dir, 0, &s, &c);
	ASSERT_EQ(c.files, 0);
	ASSERT_EQ(c.lines, 0);
	ASSERT_STREQ(c.head, "");

	TEST_START("the first line, byte for byte (format version 1); modes for the group whatever the umask");
	umask(077);
	add(dir, "get", "health_profile", "HP-17", 1767225600000ull, 0);
	text = slurp(path, &len);
	ASSERT_STREQ(text,
		     "{\"v\":1,\"time_ms\":1767225600000,\"who_kind\":\"user\","
		     "\"who\":\"mai\",\"uid\":1000,\"command\":\"get\","
		     "\"collection\":\"health_profile\",\"record\":\"HP-17\","
		     "\"query\":null,\"count\":1,\"prev\":"
		     "\"0000000000000000000000000000000000000000000000000000000000000000\"}\n");
	{
		struct stat st;
		char p2[4200];
		ASSERT_OK(stat(path, &st));
		ASSERT_EQ(st.st_mode & 0777, 0660);
		snprintf(p2, sizeof(p2), "%s/access", dir);
		ASSERT_OK(stat(p2, &st));
		ASSERT_EQ(st.st_mode & 07777, 02770);
	}

	TEST_START("the second line chains to the first by BLAKE2b-256 (golden)");
	{
		char h[65], want[200];
		hash_hex(text, len - 1, h);
		ASSERT_STREQ(h, "b8a25aeba27457f2518cf9babda8150fbe989afef7edf8f41701009593535682");
		add(dir, "export", "health_event", NULL, 1767225601000ull, 0);
		free(text);
		text = slurp(path, NULL);
		snprintf(want, sizeof(want), "\"query\":\"all live records\",\"count\":7,\"prev\":\"%s\"}\n", h);
		ASSERT_TRUE(strstr(text, want) != NULL);
		free(text);
	}

	TEST_START("reading gives each entry and an intact chain");
	add(dir, "history", "health_profile", "HP-18", 1767225602000ull, 0);
	check_read(dir, 0, &s, &c);
	ASSERT_EQ(s.n, 3);
	ASSERT_STREQ(s.text[0], "mai get health_profile HP-17 1000 1 1767225600000");
	ASSERT_STREQ(s.text[1], "mai export health_event all live records 1000 7 1767225601000");
	ASSERT_STREQ(s.text[2], "mai history health_profile HP-18 1000 1 1767225602000");
	ASSERT_EQ(c.files, 1);
	ASSERT_EQ(c.lines, 3);
	ASSERT_EQ(c.breaks, 0);
	ASSERT_EQ(c.damaged, 0);
	ASSERT_EQ(c.continues, 0);
	ASSERT_STREQ(c.problem, "");
	{
		char h[65];
		char *last;
		text = slurp(path, &len);
		text[len - 1] = 0;
		last = strrchr(text, '\n') + 1;
		hash_hex(last, strlen(last), h);
		ASSERT_STREQ(c.head, h);
		free(text);
	}

	TEST_START("since keeps the entries at or after it");
	check_read(dir, 1767225601000ull, &s, &c);
	ASSERT_EQ(s.n, 2);
	ASSERT_EQ(c.shown, 2);
	ASSERT_EQ(c.lines, 3);
	ASSERT_STREQ(s.text[0], "mai export health_event all live records 1000 7 1767225601000");
	check_read(dir, 1767225602001ull, &s, &c);
	ASSERT_EQ(s.n, 0);
	ASSERT_EQ(c.breaks, 0);

	TEST_START("a line removed from the middle breaks the chain");
	{
		char *a, *b;
		text = slurp(path, &len);
		a = strchr(text, '\n') + 1;     /* line 2 */
		b = strchr(a, '\n') + 1;        /* line 3 */
		memmove(a, b, strlen(b) + 1);
		spit(path, text, strlen(text));
		free(text);
		check_read(dir, 0, &s, &c);
		ASSERT_EQ(c.lines, 2);
		ASSERT_EQ(c.breaks, 1);
		ASSERT_EQ(s.n, 2);
		ASSERT_TRUE(strstr(c.problem, "access.log line 2 does not follow") != NULL);
	}

	TEST_START("a line changed breaks the chain at the line after it");
	{
		char *p;
		fresh(dir, path, 3);
		text = slurp(path, &len);
		ASSERT_TRUE((p = strstr(text, "HP-2")) != NULL);
		p[3] = '9';
		spit(path, text, len);
		free(text);
		check_read(dir, 0, &s, &c);
		ASSERT_EQ(c.breaks, 1);
		ASSERT_EQ(c.damaged, 0);
		ASSERT_TRUE(strstr(c.problem, "line 3 does not follow") != NULL);
	}

	TEST_START("a line cut short by a crash is reported, and the chain goes on across it");
	{
		FILE *f;
		fresh(dir, path, 1);
		f = fopen(path, "ab");
		fputs("{\"v\":1,\"time_ms\":20", f);
		fclose(f);
		add(dir, "get", "health_profile", "HP-2", 2000, 0);
		check_read(dir, 0, &s, &c);
		ASSERT_EQ(c.lines, 3);
		ASSERT_EQ(c.damaged, 1);
		ASSERT_EQ(c.breaks, 0);
		ASSERT_EQ(s.n, 2);
		ASSERT_TRUE(strstr(c.problem, "line 2 is not an access-log entry") != NULL);
	}

	TEST_START("a line dated minutes before one above it is counted and named, the chain intact");
	{
		fresh(dir, path, 2); /* HP-1 at 1000, HP-2 at 2000 */
		add(dir, "get", "health_profile", "HP-9", 2000 + ACCESS_BACK_MS + 60000, 0);
		add(dir, "get", "health_profile", "HP-10", 3000, 0);
		add(dir, "get", "health_profile", "HP-11", 4000, 0);
		check_read(dir, 0, &s, &c);
		ASSERT_EQ(c.breaks, 0);
		/* one step back, after the line dated ahead: named once */
		ASSERT_EQ(c.backwards, 1);
		ASSERT_TRUE(strstr(c.back_first, "line 4 is dated 5 minutes before the line above it") != NULL);
		/* small steps back add up: 3 minutes, then 3 more */
		fresh(dir, path, 1);
		add(dir, "get", "health_profile", "HP-20", 600000, 0);
		add(dir, "get", "health_profile", "HP-21", 420000, 0);
		add(dir, "get", "health_profile", "HP-22", 240000, 0);
		check_read(dir, 0, &s, &c);
		ASSERT_EQ(c.backwards, 1);
		ASSERT_TRUE(strstr(c.back_first, "line 4 is dated 6 minutes") != NULL);
		/* within the margin (a clock the network corrected): none */
		fresh(dir, path, 2);
		add(dir, "get", "health_profile", "HP-3", 2000 + ACCESS_BACK_MS, 0);
		add(dir, "get", "health_profile", "HP-4", 2500, 0);
		check_read(dir, 0, &s, &c);
		ASSERT_EQ(c.backwards, 0);
		ASSERT_STREQ(c.back_first, "");
	}

	TEST_START("long values are cut, bytes that are not UTF-8 replaced");
	{
		char longq[600], bad[] = "m\xffi";
		struct access_who w = { "token", bad, -1 };
		struct access_what what = { "export", "health_event", NULL,
					    longq, 3 };
		memset(longq, 'q', sizeof(longq) - 1);
		longq[sizeof(longq) - 1] = 0;
		ASSERT_OK(unlink(path));
		ASSERT_OK(access_append(dir, &w, &what, 5, 0, why, sizeof(why)));
		check_read(dir, 0, &s, &c);
		ASSERT_EQ(s.n, 1);
		ASSERT_EQ(c.damaged, 0);
		text = slurp(path, &len);
		ASSERT_TRUE(strstr(text, "\"who\":\"m?i\",\"uid\":null") != NULL);
		ASSERT_TRUE(strstr(text, "qqq...\"") != NULL);
		ASSERT_TRUE(len < ACCESS_LINE_MAX);
		free(text);
	}

	TEST_START("past the size bound the file is rotated; the chain spans the files");
	{
		struct stat st;
		char p1[4200], p3[4200];
		ASSERT_OK(unlink(path));
		for (int i = 0; i < 10; i++)
			add(dir, "get", "health_profile", "HP-1", 1000 + i, 600);
		ASSERT_OK(stat(path, &st));
		ASSERT_TRUE(st.st_size <= 600);
		snprintf(p1, sizeof(p1), "%s.1", path);
		snprintf(p3, sizeof(p3), "%s.3", path);
		ASSERT_OK(stat(p1, &st));
		ASSERT_TRUE(st.st_size <= 600);
		ASSERT_OK(stat(p3, &st));
		check_read(dir, 0, &s, &c);
		ASSERT_EQ(c.lines, 10);
		ASSERT_EQ(s.n, 10);
		ASSERT_TRUE(c.files >= 4);
		ASSERT_EQ(c.breaks, 0);
		ASSERT_EQ(c.continues, 0);
		ASSERT_STREQ(s.text[0], "mai get health_profile HP-1 1000 1 1000");
		ASSERT_STREQ(s.text[9], "mai get health_profile HP-1 1000 1 1009");

		TEST_START("an archived oldest file is no break, but is said");
		ASSERT_OK(unlink(p1));
		check_read(dir, 0, &s, &c);
		ASSERT_EQ(c.breaks, 0);
		ASSERT_EQ(c.continues, 1);
		ASSERT_TRUE(s.n < 10);

		TEST_START("a rotated file removed from the middle breaks the chain");
		ASSERT_OK(unlink(p3));
		check_read(dir, 0, &s, &c);
		ASSERT_EQ(c.breaks, 1);
		ASSERT_TRUE(strstr(c.problem, "access.log.4 line 1") != NULL);
	}

	TEST_START("a log that cannot be written is an error naming the file");
	{
		char missing[4300];
		struct access_what what = { "get", "health_profile", "HP-1",
					    NULL, 1 };
		snprintf(missing, sizeof(missing), "%s/no-such-home", dir);
		why[0] = 0;
		ASSERT_EQ(access_append(missing, &mai, &what, 1, 0, why,
					sizeof(why)),
			  -ENOENT);
		ASSERT_TRUE(strstr(why, "no-such-home/access") != NULL);
	}

	TEST_START("threads appending through a group: every line, one chain, rotated");
	{
		char gdir[4300];
		struct access_group *g;
		struct grp_arg a[4];
		pthread_t th[4];
		snprintf(gdir, sizeof(gdir), "%s/group", dir);
		ASSERT_OK(mkdir(gdir, 0700));
		/* small files: the threads also rotate under each other */
		ASSERT_OK(access_group_new(gdir, 4096, &g));
		for (int i = 0; i < 4; i++) {
			a[i] = (struct grp_arg){ g, i, 50, 0 };
			ASSERT_OK(pthread_create(&th[i], NULL, grp_thread, &a[i]));
		}
		for (int i = 0; i < 4; i++) {
			ASSERT_OK(pthread_join(th[i], NULL));
			ASSERT_EQ(a[i].failed, 0);
		}
		access_group_free(g);
		check_read(gdir, 0, &s, &c);
		ASSERT_EQ(c.shown, 200);
		ASSERT_EQ(c.breaks, 0);
		ASSERT_EQ(c.damaged, 0);
		ASSERT_TRUE(c.files > 1);
	}

	TEST_START("a group whose log cannot be written says so, and keeps failing");
	{
		char missing[4300];
		struct access_group *g;
		struct access_what what = { "get", "health_profile", "HP-1",
					    NULL, 1 };
		snprintf(missing, sizeof(missing), "%s/no-such-home", dir);
		ASSERT_OK(access_group_new(missing, 0, &g));
		why[0] = 0;
		ASSERT_EQ(access_group_append(g, &mai, &what, 1, why, sizeof(why)),
			  -ENOENT);
		ASSERT_TRUE(strstr(why, "no-such-home/access") != NULL);
		access_group_free(g);
		access_group_free(NULL);
	}

	TEST_START("a callback that fails stops the reading with its error");
	{
		why[0] = 0;
		ASSERT_EQ(access_read(dir, 0, stop, NULL, &c, why, sizeof(why)),
			  -ECANCELED);
		ASSERT_EQ(c.shown, 1);
		ASSERT_STREQ(why, "");
	}

	th_rmrf(dir);
	free(dir);
	TEST_DONE();
}
