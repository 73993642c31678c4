/* A node's home: the network file, which holds the network key. */
#include "helpers.h"

#include <dlfcn.h>
#include <stdarg.h>

/*
 * Every fopen of this process, libinih's included, comes here first:
 * a file opened through stdio leaves its bytes in a FILE buffer that is
 * freed unwiped, so the network file must never be opened this way.
 */
static int network_fopens;

static void note(const char *path)
{
	size_t n = strlen(path), k = strlen("network.conf");
	if (n >= k && strcmp(path + n - k, "network.conf") == 0)
		network_fopens++;
}

FILE *fopen(const char *path, const char *mode)
{
	FILE *(*real)(const char *, const char *) =
		(FILE * (*)(const char *, const char *))dlsym(RTLD_NEXT, "fopen");
	note(path);
	return real(path, mode);
}

FILE *fopen64(const char *path, const char *mode)
{
	FILE *(*real)(const char *, const char *) =
		(FILE * (*)(const char *, const char *))dlsym(RTLD_NEXT,
								"fopen64");
	note(path);
	return real(path, mode);
}

/* Change hex digit `at` of setting `name` in the text of a network file
 * (0 when the file has no such setting). */
static int flip_digit(char *txt, const char *name, size_t at)
{
	char line[64], *p;
	snprintf(line, sizeof(line), "\n%s = ", name);
	if (!(p = strstr(txt, line)))
		return 0;
	p += strlen(line) + at;
	*p = *p == '0' ? '1' : '0';
	return 1;
}

int main(void)
{
	char *dir = th_tmpdir();
	char *net = th_network(dir, "net");
	struct node *a = th_node(dir, net, "village", "bk/bt/qt/na-pai");
	struct node *b;
	char home[4200], why[256];

	TEST_START("a node opens with its network key read without stdio");
	snprintf(home, sizeof(home), "%s/village", dir);
	network_fopens = 0;
	ASSERT_OK(node_open(home, 1, &b, why, sizeof(why)));
	ASSERT_MEMEQ(b->net.key, a->net.key, 32);
	ASSERT_EQ(network_fopens, 0);
	node_close(b);

	TEST_START("a node.key whose seed no longer makes the node's public key is refused, naming the file");
	{
		char kf[4300], text[1024];
		uint8_t *orig;
		size_t kl;
		snprintf(kf, sizeof(kf), "%s/node.key", home);
		orig = th_slurp(kf, &kl);
		ASSERT_TRUE(kl < sizeof(text));
		memcpy(text, orig, kl);
		text[kl] = 0;
		/* a digit of the seed (the first 32 bytes), the public key
		 * the file carries after it left as it was */
		ASSERT_TRUE(flip_digit(text, "secret_key", 5));
		th_spit(kf, (const uint8_t *)text, kl);
		ASSERT_EQ(node_open(home, 0, &b, why, sizeof(why)), HAMLET_EKEY);
		ASSERT_TRUE(strstr(why, "node.key does not belong") != NULL);
		th_spit(kf, orig, kl);
		free(orig);
		ASSERT_OK(node_open(home, 0, &b, why, sizeof(why)));
		node_close(b);
	}

	TEST_START("an oversized network file is refused, naming it");
	{
		char p[4300];
		FILE *f;
		snprintf(p, sizeof(p), "%s/network.conf", home);
		ASSERT_TRUE((f = fopen(p, "a")) != NULL);
		for (int i = 0; i < 70000; i++)
			fputc('#', f);
		fclose(f);
		ASSERT_TRUE(node_open(home, 1, &b, why, sizeof(why)) < 0);
		ASSERT_TRUE(strstr(why, "network.conf") != NULL);
	}
	TEST_START("node.conf: a setting given twice is refused, naming both lines, and every fault names its line");
	{
		struct node *c = th_node_bare(dir, net, "conf", "bk/bt/qt/conf");
		char conf[4300], keep[512], text[1024];
		size_t kl;
		uint8_t *orig;
		static const struct {
			const char *edit; /* sed-like: appended after line 1 */
			const char *why;
		} bad[] = {
			{ "name = other\n",
			  "node.conf line 3: name in [node] is given twice (first on line 2; an indented line continues the key above it): keep one" },
			{ "  more\n",
			  "node.conf line 3: name in [node] is given twice (first on line 2; an indented line continues the key above it): keep one" },
			{ "foo = 1\n",
			  "node.conf line 3: unknown setting \"foo\" in [node] (its settings: name, scope, public_key): is it the right file?" },
			{ "[other]\nx = 1\n[node]\n",
			  "node.conf line 3: unexpected section [other]: is it the right file?" },
			{ "[]\nx = 1\n[node]\n",
			  "node.conf line 3: unexpected section []: is it the right file?" },
		};
		snprintf(home, sizeof(home), "%s/conf", dir);
		snprintf(conf, sizeof(conf), "%s/node.conf", home);
		th_node_close(c);
		orig = th_slurp(conf, &kl);
		ASSERT_TRUE(kl < sizeof(keep));
		memcpy(keep, orig, kl);
		keep[kl] = 0;
		free(orig);
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			/* the edit goes after "[node]\nname = conf\n" */
			const char *after = strstr(keep, "name = conf\n");
			size_t head;
			ASSERT_TRUE(after != NULL);
			head = (size_t)(after - keep) + strlen("name = conf\n");
			snprintf(text, sizeof(text), "%.*s%s%s", (int)head, keep,
				 bad[i].edit, keep + head);
			th_spit(conf, (const uint8_t *)text, strlen(text));
			ASSERT_EQ(node_open(home, 1, &b, why, sizeof(why)),
				  HAMLET_ECONFIG);
			ASSERT_TRUE(strstr(why, bad[i].why) != NULL);
		}
		/* a setting above the first [section]: never read as ours */
		snprintf(text, sizeof(text), "\nfoo = bar\n%s", keep);
		th_spit(conf, (const uint8_t *)text, strlen(text));
		ASSERT_EQ(node_open(home, 1, &b, why, sizeof(why)), HAMLET_ECONFIG);
		ASSERT_TRUE(strstr(why, "node.conf line 2: \"foo\" stands before any [section]: put it under [node]") != NULL);
		/* a bad value: its line */
		snprintf(text, sizeof(text), "%s", keep);
		memcpy(strstr(text, "scope = ") + 8, "BAD/", 4);
		th_spit(conf, (const uint8_t *)text, strlen(text));
		ASSERT_EQ(node_open(home, 1, &b, why, sizeof(why)), HAMLET_ECONFIG);
		ASSERT_TRUE(strstr(why, "/node.conf line 3: scope \"BAD/") != NULL);

		TEST_START("node.conf saved as UTF-16, or holding a NUL byte, is named as not UTF-8 text; a NUL never cuts a value");
		{
			uint8_t u16[1024];
			size_t n = 0;
			u16[n++] = 0xff;
			u16[n++] = 0xfe;
			for (size_t k = 0; keep[k] && n + 2 < sizeof(u16); k++) {
				u16[n++] = (uint8_t)keep[k];
				u16[n++] = 0;
			}
			th_spit(conf, u16, n);
			ASSERT_EQ(node_open(home, 1, &b, why, sizeof(why)),
				  HAMLET_ECONFIG);
			ASSERT_TRUE(strstr(why, "node.conf line 1: the file is saved as UTF-16 (\"Unicode\" in Notepad), not as UTF-8 text: save it again as UTF-8") != NULL);
			/* "name = conf\0xx": inih would read "conf" */
			memcpy(text, keep, kl + 1);
			n = (size_t)(strstr(text, "name = conf\n") - text) +
			    strlen("name = conf");
			memmove(text + n + 3, text + n, kl + 1 - n);
			memcpy(text + n, "\0xx", 3);
			th_spit(conf, (const uint8_t *)text, kl + 3);
			ASSERT_EQ(node_open(home, 1, &b, why, sizeof(why)),
				  HAMLET_ECONFIG);
			ASSERT_TRUE(strstr(why, "node.conf line 2: it holds a NUL byte, so the file is not UTF-8 text") != NULL);
		}
		TEST_START("node.conf that is a directory, a link to /dev/zero, saved with CR-only line ends or with a line too long says so, not \"missing setting\"");
		{
			char *p;
			size_t n;
			ASSERT_OK(unlink(conf));
			ASSERT_OK(mkdir(conf, 0700));
			ASSERT_EQ(node_open(home, 1, &b, why, sizeof(why)),
				  HAMLET_ECONFIG);
			ASSERT_TRUE(strstr(why, "node.conf is a directory, not a file") != NULL);
			ASSERT_OK(rmdir(conf));
			ASSERT_OK(symlink("/dev/zero", conf));
			ASSERT_EQ(node_open(home, 1, &b, why, sizeof(why)),
				  HAMLET_ECONFIG);
			ASSERT_TRUE(strstr(why, "node.conf is not a regular file") != NULL);
			ASSERT_OK(unlink(conf));
			memcpy(text, keep, kl + 1);
			for (p = text; *p; p++)
				if (*p == '\n')
					*p = '\r';
			th_spit(conf, (const uint8_t *)text, kl);
			ASSERT_EQ(node_open(home, 1, &b, why, sizeof(why)),
				  HAMLET_ECONFIG);
			ASSERT_TRUE(strstr(why, "node.conf uses CR-only line ends (an old Mac format): save it with LF or CRLF line ends") != NULL);
			/* random bytes with a CR and no LF are no text with
			 * old line ends: told as not UTF-8 */
			{
				uint8_t junk[300];
				randombytes_buf(junk, sizeof(junk));
				for (size_t i = 0; i < sizeof(junk); i++)
					if (junk[i] == '\n' || junk[i] == 0)
						junk[i] = 0xff;
				junk[40] = '\r';
				junk[0] = 0xff; /* never UTF-8 */
				junk[1] = 0xff; /* nor UTF-16's mark, ff fe */
				th_spit(conf, junk, sizeof(junk));
				ASSERT_EQ(node_open(home, 1, &b, why, sizeof(why)),
					  HAMLET_ECONFIG);
				ASSERT_TRUE(strstr(why, "CR-only") == NULL);
				ASSERT_TRUE(strstr(why, "not UTF-8") != NULL);
			}
			/* name = aaa…a (300 bytes) on line 2 */
			n = (size_t)(strstr(keep, "name = conf\n") - keep) +
			    strlen("name = ");
			snprintf(text, sizeof(text), "%.*s%0300d%s", (int)n, keep,
				 0, keep + n + strlen("conf"));
			th_spit(conf, (const uint8_t *)text, strlen(text));
			ASSERT_EQ(node_open(home, 1, &b, why, sizeof(why)),
				  HAMLET_ECONFIG);
			ASSERT_TRUE(strstr(why, "node.conf line 2 is longer than 198 bytes") != NULL);
		}
		th_spit(conf, (const uint8_t *)keep, kl);
		ASSERT_OK(node_open(home, 1, &b, why, sizeof(why)));
		node_close(b);
	}

	TEST_START("a damaged node.cert opens the node as with none, and the certificate's fault names the file");
	{
		struct node *c = th_node(dir, net, "cut", "bk/bt/qt/cut");
		char other_dir[4200], cert[4300];
		char *other;
		struct cert_chain *ch = malloc(sizeof(*ch));
		uint8_t *chain;
		size_t cl;

		ASSERT_TRUE(ch != NULL);
		snprintf(home, sizeof(home), "%s/cut", dir);
		snprintf(cert, sizeof(cert), "%s/" NODE_CERT_FILE, home);
		th_node_close(c);
		/* cut short, as by a copy that stopped half-way */
		chain = th_slurp(cert, &cl);
		ASSERT_TRUE(cl > 100);
		th_spit(cert, chain, cl / 2);
		free(chain);
		why[0] = 0;
		ASSERT_OK(node_open(home, 0, &b, why, sizeof(why)));
		ASSERT_EQ(b->grant == NULL, 1);
		ASSERT_TRUE(node_cert_load(b, hlc_wall_ms(), ch, NULL, NULL, why,
					   sizeof(why)) < 0);
		ASSERT_TRUE(strstr(why, cert) != NULL);
		ASSERT_TRUE(strstr(why, "is damaged: it is not a certificate chain") != NULL);
		ASSERT_TRUE(strstr(why, "hamlet cert install FILE") != NULL);
		/* one of another network: refused by the trust set, still no
		 * fault of the store */
		snprintf(other_dir, sizeof(other_dir), "%s/elsewhere", dir);
		ASSERT_OK(mkdir(other_dir, 0700));
		other = th_network(other_dir, "other");
		chain = th_chain_for(b, other, "bk/bt/qt/cut", NULL, 0, 0, &cl);
		node_close(b);
		th_spit(cert, chain, cl);
		free(chain);
		ASSERT_OK(node_open(home, 0, &b, why, sizeof(why)));
		ASSERT_TRUE(node_cert_load(b, hlc_wall_ms(), ch, NULL, NULL, why,
					   sizeof(why)) < 0);
		node_close(b);
		free(other);
		free(ch);
	}

	TEST_START("key_check is the first 8 bytes of BLAKE2b-256(\"hamlet/network-key/v1\" || id || key) (SPEC 4, golden bytes)");
	{
		uint8_t id[32], k[32], kc[NETWORK_KEY_CHECK_LEN];
		char hex[2 * NETWORK_KEY_CHECK_LEN + 1];
		for (int i = 0; i < 32; i++) {
			id[i] = (uint8_t)i;
			k[i] = 0xaa;
		}
		network_key_check(id, k, kc);
		hex_encode(kc, sizeof(kc), hex);
		ASSERT_STREQ(hex, "bf8f3fec3b9ef5fc");
	}

	TEST_START("a network file whose key, key_check, root_public_key or id is damaged is refused, naming the setting (SPEC 4)");
	{
		static const struct {
			const char *key, *why;
		} bad[] = {
			{ "key", "\"key\" must be 64 hex digits" },
			{ "id", "\"id\" must be 64 hex digits" },
			{ "root_public_key", "\"root_public_key\" must be 64 hex digits" },
			{ "key_check", "\"key_check\" must be 16 hex digits" },
		};
		static const struct {
			const char *key;
			size_t at;
			const char *why;
		} flips[] = {
			{ "root_public_key", 0, "does not match its root_public_key and name" },
			{ "key", 7, "the network key does not match its key_check" },
		};
		struct network_info ni;
		size_t fl;
		uint8_t *f = th_slurp(net, &fl);
		char *txt = malloc(fl + 1), copy[4300];

		ASSERT_TRUE(f != NULL && txt != NULL);
		snprintf(copy, sizeof(copy), "%s/copy.network", dir);
		ASSERT_OK(network_load(net, &ni, why, sizeof(why)));
		for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
			char line[64], *at;
			memcpy(txt, f, fl);
			txt[fl] = 0;
			snprintf(line, sizeof(line), "\n%s = ", bad[i].key);
			ASSERT_TRUE((at = strstr(txt, line)) != NULL);
			at[strlen(line)] = 'x'; /* not a hex digit */
			th_spit(copy, (const uint8_t *)txt, fl);
			ASSERT_EQ(network_load(copy, &ni, why, sizeof(why)),
				  HAMLET_ECONFIG);
			ASSERT_TRUE(strstr(why, bad[i].why) != NULL);
		}
		/* a hex digit changed in root_public_key: the id no longer
		 * matches it and the name; in key (the id does not cover
		 * it): key_check no longer matches */
		for (size_t i = 0; i < sizeof(flips) / sizeof(*flips); i++) {
			memcpy(txt, f, fl);
			txt[fl] = 0;
			ASSERT_TRUE(flip_digit(txt, flips[i].key, flips[i].at));
			th_spit(copy, (const uint8_t *)txt, fl);
			ASSERT_EQ(network_load(copy, &ni, why, sizeof(why)),
				  HAMLET_ECONFIG);
			ASSERT_TRUE(strstr(why, flips[i].why) != NULL);
		}
		/* nor does the file load without key_check */
		memcpy(txt, f, fl);
		txt[fl] = 0;
		{
			char *at = strstr(txt, "\nkey_check = ");
			ASSERT_TRUE(at != NULL);
			th_spit(copy, (const uint8_t *)txt,
				(size_t)(at + 1 - txt));
		}
		ASSERT_EQ(network_load(copy, &ni, why, sizeof(why)),
			  HAMLET_ECONFIG);
		ASSERT_TRUE(strstr(why, "missing setting \"key_check\"") != NULL);
		free(txt);
		free(f);
	}

	node_close(a);
	th_rmrf(dir);
	free(dir);
	free(net);
	TEST_DONE();
}
