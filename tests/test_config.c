/* hamletd's settings: the INI file, the flags over it, --version, --help. */
#include "config.h"
#include "error.h"
#include "testlib.h"
#include "version.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/hamlet-config-XXXXXX";
static char path[4200];
static struct config cfg;
static char why[512];
static int budgets; /* config_reload_peers: the byte budgets changed */

/* Write text as the config file; returns its path. */
static const char *conf(const char *text)
{
	FILE *f;
	snprintf(path, sizeof(path), "%s/hamletd.conf", dir);
	f = fopen(path, "w");
	ASSERT_TRUE(f != NULL);
	ASSERT_EQ(fputs(text, f) >= 0, 1);
	ASSERT_EQ(fclose(f), 0);
	return path;
}

/* Write n bytes, NUL bytes included, as the config file; returns its
 * path. */
static const char *conf_bytes(const char *bytes, size_t n)
{
	FILE *f;
	snprintf(path, sizeof(path), "%s/hamletd.conf", dir);
	f = fopen(path, "wb");
	ASSERT_TRUE(f != NULL);
	ASSERT_EQ(fwrite(bytes, 1, n, f), n);
	ASSERT_EQ(fclose(f), 0);
	return path;
}

/* A start's own check (config_check_cb) that refuses any scopes, and
 * counts its calls with the peers of the config it was given. */
static int checks, checked_peers;
static int refuse_scopes(void *ctx, const struct config *c, char *w,
			 size_t wl)
{
	(void)ctx;
	checks++;
	checked_peers = (int)c->npeers;
	if (!c->nscopes)
		return 0;
	snprintf(w, wl, "%s line %d: scopes refused", c->config_path,
		 c->scopes_line);
	return HAMLET_ECONFIG;
}

/* config_from_args() on the NULL-ended arguments after "hamletd". */
static int parse(const char *first, ...)
{
	/* static: the config keeps argv for a reload */
	static char *argv[32];
	int argc = 1;
	va_list ap;
	memset(argv, 0, sizeof(argv));
	argv[0] = "hamletd";
	va_start(ap, first);
	for (const char *a = first; a; a = va_arg(ap, const char *)) {
		ASSERT_TRUE(argc < 31);
		argv[argc++] = (char *)a;
	}
	va_end(ap);
	why[0] = 0;
	return config_from_args(argc, argv, &cfg, why, sizeof(why));
}

/* 1 when --config p is refused, the message naming p and holding text */
static int refused_as(const char *p, const char *text)
{
	return parse("--config", p, NULL) == HAMLET_ECONFIG && strstr(why, p) &&
	       strstr(why, text);
}

/* The same, with stdout going to a file whose text lands in out. */
static int parse_capturing(const char *arg, char *out, size_t cap)
{
	char cap_path[4200];
	int fd, saved, r;
	ssize_t n;
	snprintf(cap_path, sizeof(cap_path), "%s/stdout", dir);
	fflush(stdout);
	ASSERT_TRUE((fd = open(cap_path, O_RDWR | O_CREAT | O_TRUNC, 0600)) >= 0);
	ASSERT_TRUE((saved = dup(1)) >= 0);
	ASSERT_TRUE(dup2(fd, 1) == 1);
	r = parse("--home", dir, arg, NULL);
	fflush(stdout);
	ASSERT_TRUE(dup2(saved, 1) == 1);
	close(saved);
	ASSERT_TRUE((n = pread(fd, out, cap - 1, 0)) >= 0);
	out[n] = 0;
	close(fd);
	return r;
}

#define ASSERT_WHY(text)                                                   \
	do {                                                               \
		char want_[600];                                           \
		snprintf(want_, sizeof(want_), "%s %s", path, (text));     \
		ASSERT_STREQ(why, want_);                                  \
	} while (0)

static void stray_note(void *ctx, const char *addr)
{
	char *seen = ctx;
	size_t n = strlen(seen);
	snprintf(seen + n, 256 - n, "%s;", addr);
}

int main(void)
{
	char out[1024];

	unsetenv("HAMLET_HOME"); /* a home of its own is tested below */
	ASSERT_TRUE(mkdtemp(dir) != NULL);

	TEST_START("a valid file sets every key, and the defaults stand for the rest");
	conf("; hamletd\n"
	     "[node]\n"
	     "home = /var/lib/hamlet\n"
	     "listen = 0.0.0.0:7450 ; accept peers here\n"
	     "peers = commune.example:7450 10.0.0.2:7450\n"
	     "scopes = bk/bach-thong\n"
	     "socket = /run/hamlet/hamletd.sock\n"
	     "\n"
	     "[limits]\n"
	     "max_peers = 12\n");
	ASSERT_EQ(parse("--config", path, NULL), 0);
	ASSERT_STREQ(cfg.home, "/var/lib/hamlet");
	ASSERT_STREQ(cfg.listen, "0.0.0.0:7450");
	ASSERT_EQ(cfg.npeers, 2);
	ASSERT_STREQ(cfg.peers[0], "commune.example:7450");
	ASSERT_STREQ(cfg.peers[1], "10.0.0.2:7450");
	ASSERT_EQ(cfg.nscopes, 1);
	ASSERT_STREQ(cfg.scopes[0], "bk/bach-thong");
	ASSERT_STREQ(cfg.socket, "/run/hamlet/hamletd.sock");
	ASSERT_EQ(cfg.max_peers, 12);
	ASSERT_EQ(cfg.batch, 256);
	ASSERT_EQ(cfg.fault_backoff, 30);
	ASSERT_STREQ(cfg.config_path, path);

	TEST_START("a long peer list goes on indented lines, and scopes add up over lines");
	conf("[node]\n"
	     "home = /h\n"
	     "peers = a.example:1\n"
	     "  b.example:2 c.example:3\n"
	     "scopes = bk/a\n"
	     "scopes = bk/b\n");
	ASSERT_EQ(parse("--config", path, NULL), 0);
	ASSERT_EQ(cfg.npeers, 3);
	ASSERT_STREQ(cfg.peers[2], "c.example:3");
	ASSERT_EQ(cfg.nscopes, 2);
	ASSERT_STREQ(cfg.scopes[1], "bk/b");

	TEST_START("an unknown key is named with its own line");
	conf("[node]\n"
	     "home = /h\n"
	     "\n"
	     "# comment\n"
	     "peers = a.example:1\n"
	     "  b.example:2\n"
	     "[limits]\n"
	     "batch = 10\n"
	     "bogus = 1\n");
	ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 9: unknown key \"bogus\" in [limits]");

	TEST_START("the first fault is named with its line, not with a later fault's message");
	conf("[node]\n"
	     "bogus = 1\n"
	     "home = /h\n"
	     "[limits]\n"
	     "batch = 1000\n");
	ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 2: unknown key \"bogus\" in [node]");

	TEST_START("a line that is neither a section nor key = value is named by its line");
	conf("[node]\n"
	     "home = /h\n"
	     "this is not a setting\n"
	     "bogus = 1\n");
	ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 3: not a [section] or a key = value line: it has no \"=\"");
	/* a section header left open: inih's own refusal, by its line */
	conf("[node]\nhome = /h\n[http\n");
	ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 3: not a [section] or a key = value line");

	TEST_START("[http] hosts: a name of empty labels or labels ending in - is refused");
	{
		static const char *bad[] = { "a..b", "a.", "a-.b", "a.-b", "-a",
					     ".a", "a b:80" };
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char text[128];
			snprintf(text, sizeof(text),
				 "[node]\nhome = /h\n[http]\nhosts = %s\n",
				 bad[i]);
			conf(text);
			ASSERT_EQ(parse("--config", path, NULL),
				  HAMLET_ECONFIG);
			ASSERT_TRUE(strstr(why, "is not a host name") != NULL);
		}
		conf("[node]\nhome = /h\n[http]\nhosts = Hamlet-1.Province.vn x\n");
		ASSERT_OK(parse("--config", path, NULL));
		ASSERT_STREQ(cfg.http_hosts, "hamlet-1.province.vn x");
	}

	TEST_START("a config file that is a directory is refused, not read as empty");
	{
		char d[4200];
		snprintf(d, sizeof(d), "%s.d", path);
		ASSERT_OK(mkdir(d, 0700));
		ASSERT_TRUE(refused_as(d, "it is a directory"));
		rmdir(d);
	}

	TEST_START("a line without \"=\" is refused at its line, \":\" not taken for it");
	conf("[node]\nhome = /h\nlisten 127.0.0.1:7450\n");
	ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 3: not a [section] or a key = value line: it has no \"=\"");
	conf("[node]\nhome = /h\nlisten: 127.0.0.1:7450\n");
	ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 3: not a [section] or a key = value line: it has no \"=\"");
	/* a BOM, CRLF, comments, blank and continued lines are no such */
	conf("\xef\xbb\xbf[node]\r\nhome = /h\r\n\r\n; a comment\r\n# another\r\npeers = a.example:1\r\n  b.example:2\r\n");
	ASSERT_OK(parse("--config", path, NULL));

	TEST_START("a \"#\" comment after a value is refused, naming \";\", the one inih takes there");
	{
		static const char *const hash[][2] = {
			{ "peers = a.example:1 # the commune", "peers" },
			{ "listen = 127.0.0.1:7450\t# all", "listen" },
		};
		char text[200], want[400];
		for (size_t i = 0; i < 2; i++) {
			snprintf(text, sizeof(text), "[node]\nhome = /h\n%s\n",
				 hash[i][0]);
			conf(text);
			ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
			snprintf(want, sizeof(want), "line 3: %s: %s", hash[i][1],
				 "\"#\" starts a comment only at the start of a line; to end a line with a comment, begin it with \";\" (peers = 192.0.2.1:7450 ; the commune)");
			ASSERT_WHY(want);
		}
	}
	/* a ";" comment after a value, on a continued line too */
	conf("[node]\nhome = /h\npeers = a.example:1 ; the commune\n  b.example:2 ; the other\n");
	ASSERT_OK(parse("--config", path, NULL));
	ASSERT_EQ(cfg.npeers, 2);

	TEST_START("bytes that are not UTF-8 are named so, and a pasted non-breaking space is named");
	conf("[limits]\nmax_peers = 8\xff\n");
	ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 2: it holds bytes that are not UTF-8 (a letter saved in another encoding, such as Windows-1258?): the file must be UTF-8 text; save it again as UTF-8");
	/* a stray byte ending a last line without its newline too */
	conf("[limits]\nmax_peers = 8\xea");
	ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 2: it holds bytes that are not UTF-8 (a letter saved in another encoding, such as Windows-1258?): the file must be UTF-8 text; save it again as UTF-8");
	conf("[limits]\nmax_peers = 64\xc2\xa0\n");
	ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 2: max_peers holds a non-breaking space (U+00A0, as pasted from a web page or a document), which looks like a space but is none: type the line again");

	TEST_START("a number with a sign before it is refused as a number, as 0x10 is");
	conf("[limits]\nmax_peers = +5\n");
	ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 2: max_peers \"+5\" must be a number 1..1024");

	TEST_START("a config path that is a device or a pipe is refused, not read (it would never end)");
	ASSERT_TRUE(refused_as("/dev/zero", "not a regular file"));
	{
		char fifo[4200];
		snprintf(fifo, sizeof(fifo), "%s.fifo", path);
		ASSERT_OK(mkfifo(fifo, 0600));
		/* opened without blocking for a writer that never comes */
		ASSERT_TRUE(refused_as(fifo, "not a regular file"));
		unlink(fifo);
	}

	TEST_START("a config file over 1 MiB is refused, naming its size");
	{
		char *big = malloc((1 << 20) + 2);
		ASSERT_TRUE(big != NULL);
		memset(big, '#', (1 << 20) + 1);
		big[(1 << 20) + 1] = 0;
		conf(big);
		free(big);
		ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
		ASSERT_TRUE(strstr(why, path) && strstr(why, "it is 1048577 bytes, more than the 1048576 a config file may have"));
	}

	TEST_START("a key in an unknown section is refused for its section, naming the known ones, with its line");
	conf("[node]\nhome = /h\n[nodes]\nlisten = 1.2.3.4:5\n");
	ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 3: unknown section [nodes]: the sections are [node], [http], [budget] and [limits]");
	/* at its header, with no key under it too */
	conf("[node]\nhome = /h\n[limts]\n# max_peers = 8\n");
	ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 3: unknown section [limts]: the sections are [node], [http], [budget] and [limits]");
	conf("[node]\nhome = /h\n[Node]  ; a comment after it\n");
	ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 3: unknown section [Node]: the sections are [node], [http], [budget] and [limits]");
	/* an indented line under a key continues its value, as inih reads
	 * it: an IPv6 peer there is no header */
	conf("[node]\nhome = /h\npeers = 10.0.0.2:7450\n        [fe80::1]:7450\n");
	ASSERT_OK(parse("--config", path, NULL));
	ASSERT_EQ(cfg.npeers, 2);
	ASSERT_STREQ(cfg.peers[1], "[fe80::1]:7450");
	/* a known section still names the unknown key */
	conf("[node]\nhome = /h\n[http]\nlistn = 127.0.0.1:8\n");
	ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 4: unknown key \"listn\" in [http]");

	TEST_START("a key before any [section] is named as such, with its line");
	conf("listen = 1.2.3.4:5\n[node]\nhome = /h\n");
	ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 1: \"listen\" stands before any [section]: put it under [node], [http], [budget] or [limits]");

	TEST_START("a key of one value given twice is refused, naming both lines; peers add up");
	conf("[node]\nhome = /h\nlisten = 1.2.3.4:5\npeers = a.example:1\n"
	     "peers = b.example:2\nlisten = 1.2.3.4:6\n");
	ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 6: listen in [node] is given twice (first on line 3; an indented line continues the key above it): keep one");
	conf("[node]\nhome = /h\nlisten = 1.2.3.4:5\n[http]\nlisten = 127.0.0.1:8\n");
	ASSERT_EQ(parse("--config", path, NULL), 0);

	TEST_START("a bad value is named, with its key and line");
	{
		static const struct {
			const char *file, *why;
		} bad[] = {
			{ "[node]\nhome = /h\n[limits]\nbatch = 1000\n",
			  "line 4: batch \"1000\" must be a number 1..256" },
			{ "[limits]\nfault_backoff = 0\n",
			  "line 2: fault_backoff \"0\" must be a number of seconds 1..3600" },
			{ "[limits]\nmax_peers = 0\n",
			  "line 2: max_peers \"0\" must be a number 1..1024" },
			{ "[limits]\nmax_peers = 12x\n",
			  "line 2: max_peers \"12x\" must be a number 1..1024" },
			{ "[node]\nlisten = 0.0.0.0\n",
			  "line 2: listen \"0.0.0.0\" is not HOST:PORT" },
			{ "[node]\n\npeers = a.example:1 b.example:99999\n",
			  "line 3: peer \"b.example:99999\": the port must be 1-65535" },
			{ "[node]\n\npeers = a.example:1 b.example\n",
			  "line 3: peer \"b.example\" is not HOST:PORT" },
			{ "[node]\nscopes = bk/Bach-Thong\n",
			  "line 2: scope \"bk/Bach-Thong\" is not a scope (1-8 parts of a-z, 0-9 and '-', joined by '/')" },
			{ "[budget]\ndefault_per_day = 5 MiB\n",
			  "line 2: [budget] default_per_day \"5 MiB\" is not a size like 5MB, 200KB or none" },
			{ "[budget]\npeer = 10.0.0.2:7000 per_session=-1\n",
			  "line 2: [budget] peer 10.0.0.2:7000 per_session \"-1\" is not a size like 5MB, 200KB or none" },
			{ "[budget]\npeer = 10.0.0.2:7000 per_week=1MB\n",
			  "line 2: [budget] peer 10.0.0.2:7000: \"per_week=1MB\" is not per_day=SIZE or per_session=SIZE" },
			{ "[budget]\npeer = per_day=1MB\n",
			  "line 2: [budget] peer \"per_day=1MB\" must start with HOST:PORT" },
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			conf(bad[i].file);
			ASSERT_EQ(parse("--config", path, "--home", "/h", NULL),
				  HAMLET_ECONFIG);
			ASSERT_WHY(bad[i].why);
		}
	}

	TEST_START("a size without a unit is refused, in every size setting, naming the key and line");
	{
		static const struct {
			const char *file, *why;
		} bad[] = {
			{ "[budget]\ndefault_per_day = 5\n",
			  "line 2: [budget] default_per_day \"5\" has no unit: write B, KB, MB or GB after the number, like 5MB or 200KB (or none for no limit)" },
			{ "[budget]\n\ndefault_per_session = 200000\n",
			  "line 3: [budget] default_per_session \"200000\" has no unit: write B, KB, MB or GB after the number, like 5MB or 200KB (or none for no limit)" },
			{ "[budget]\npeer = 10.0.0.2:7000 per_day=5\n",
			  "line 2: [budget] peer 10.0.0.2:7000 per_day \"5\" has no unit: write B, KB, MB or GB after the number, like 5MB or 200KB (or none for no limit)" },
			{ "[budget]\npeer = 10.0.0.2:7000 per_day=1KB per_session=9\n",
			  "line 2: [budget] peer 10.0.0.2:7000 per_session \"9\" has no unit: write B, KB, MB or GB after the number, like 5MB or 200KB (or none for no limit)" },
			/* a unit set apart by a space, which a peer line ends
			 * its key=SIZE at: said so, not that none is given */
			{ "[budget]\npeer = 127.0.0.1:9 per_day=1 KB\n",
			  "line 2: [budget] peer 127.0.0.1:9: per_day=1 KB has a space before its unit: on a peer line write it without one, per_day=1KB" },
			{ "[budget]\npeer = 127.0.0.1:9 per_day=1KB per_session=2 mb\n",
			  "line 2: [budget] peer 127.0.0.1:9: per_session=2 mb has a space before its unit: on a peer line write it without one, per_session=2mb" },
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			conf(bad[i].file);
			ASSERT_EQ(parse("--config", path, "--home", "/h", NULL),
				  HAMLET_ECONFIG);
			ASSERT_WHY(bad[i].why);
		}
		/* with a unit, in either case, a space in a default_ line */
		conf("[budget]\ndefault_per_day = 200 KB\ndefault_per_session = 5b\n"
		     "peer = 10.0.0.2:7000 per_day=1gb per_session=none\n");
		ASSERT_OK(parse("--config", path, "--home", "/h", NULL));
		ASSERT_EQ(cfg.budget.per_day, 200000);
		ASSERT_EQ(cfg.budget.per_session, 5);
		ASSERT_EQ(cfg.budgets[0].b.per_day, 1000000000);
		ASSERT_EQ(cfg.budgets[0].b.per_session, 0);
	}

	TEST_START("a setting given twice on one [budget] peer line is refused, naming it");
	conf("[budget]\npeer = 127.0.0.1:18250 per_day=1KB per_day=2KB\n");
	ASSERT_EQ(parse("--config", path, "--home", "/h", NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 2: [budget] peer 127.0.0.1:18250: per_day is given twice on one line: keep one");
	conf("[budget]\npeer = 127.0.0.1:18250 per_session=none per_day=1KB per_session=2KB\n");
	ASSERT_EQ(parse("--config", path, "--home", "/h", NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 2: [budget] peer 127.0.0.1:18250: per_session is given twice on one line: keep one");

	TEST_START("a listen address that is a host name is refused when the file is read, with its line");
	conf("[node]\nhome = /h\nlisten = localhost:18201\n");
	ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 3: listen \"localhost:18201\" is not an IP address: give a numeric address to listen on, such as 0.0.0.0, 127.0.0.1 or [::1], not a host name");
	conf("[node]\nhome = /h\n[http]\nlisten = localhost:18280\n");
	ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 4: [http] listen \"localhost:18280\" is not an IP address: give a numeric address to listen on, such as 0.0.0.0, 127.0.0.1 or [::1], not a host name");
	/* numeric ones, v4 and v6, are taken */
	conf("[node]\nhome = /h\nlisten = [::]:7450\n[http]\nlisten = [::1]:8080\n");
	ASSERT_OK(parse("--config", path, NULL));
	ASSERT_STREQ(cfg.listen, "[::]:7450");
	ASSERT_STREQ(cfg.http, "[::1]:8080");

	TEST_START("a listen port over 65535 is refused as a port, with its line");
	conf("[node]\nhome = /h\nlisten = 127.0.0.1:99999\n");
	ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 3: listen \"127.0.0.1:99999\": the port must be 1-65535");
	conf("[node]\nhome = /h\n[http]\nlisten = 127.0.0.1:65536\n");
	ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 4: [http] listen \"127.0.0.1:65536\": the port must be 1-65535");

	TEST_START("port 0 is refused for a peer and the HTTP API; listen = IP:0 binds any free port");
	conf("[node]\nhome = /h\npeers = a.example:1 127.0.0.1:0\n");
	ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 3: peer \"127.0.0.1:0\": the port must be 1-65535");
	conf("[node]\nhome = /h\n[budget]\npeer = 127.0.0.1:0 per_day=1KB\n");
	ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 4: [budget] peer \"127.0.0.1:0\": the port must be 1-65535");
	conf("[node]\nhome = /h\n[http]\nlisten = 127.0.0.1:0\n");
	ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
	ASSERT_WHY("line 4: [http] listen \"127.0.0.1:0\": the port must be 1-65535");
	ASSERT_EQ(parse("--home", "/h", "--peer", "127.0.0.1:0", NULL), -EINVAL);
	ASSERT_STREQ(why, "--peer \"127.0.0.1:0\": the port must be 1-65535");
	ASSERT_EQ(parse("--home", "/h", "--http", "127.0.0.1:0", NULL), -EINVAL);
	ASSERT_STREQ(why, "--http \"127.0.0.1:0\": the port must be 1-65535");
	/* one value given twice on the command line: which was meant? */
	ASSERT_EQ(parse("--home", "/h", "--listen", "127.0.0.1:7450",
			"--listen", "127.0.0.1:7451", NULL), -EINVAL);
	ASSERT_STREQ(why, "--listen is given twice (\"127.0.0.1:7450\", then \"127.0.0.1:7451\"): give it once");
	ASSERT_EQ(parse("--home", "/h", "--home", "/i", NULL), -EINVAL);
	/* --peer adds up */
	ASSERT_OK(parse("--home", "/h", "--peer", "a.example:1", "--peer",
			"b.example:2", NULL));
	conf("[node]\nhome = /h\nlisten = 127.0.0.1:0\n");
	ASSERT_OK(parse("--config", path, NULL));
	ASSERT_STREQ(cfg.listen, "127.0.0.1:0");
	ASSERT_OK(parse("--home", "/h", "--listen", "127.0.0.1:0", NULL));

	TEST_START("[budget]: defaults, and peer lines that override part of them");
	{
		struct config_budget b;
		conf("[budget]\npeer = 10.0.0.2:7000 per_day=20MB\n"
		     "peer = [::1]:7001 per_session=1500KB\n"
		     "default_per_day = 5MB\ndefault_per_session = 1MB\n");
		ASSERT_OK(parse("--config", path, "--home", "/h", NULL));
		config_budget_for(&cfg, "10.0.0.2:7000", NULL, &b);
		ASSERT_EQ(b.per_day, 20000000);
		ASSERT_EQ(b.per_session, 1000000); /* its own line did not say */
		config_budget_for(&cfg, "[::1]:7001", NULL, &b);
		ASSERT_EQ(b.per_day, 5000000); /* the default, though later */
		ASSERT_EQ(b.per_session, 1500000);
		/* an incoming connection is known by its host */
		config_budget_for(&cfg, NULL, "10.0.0.2", &b);
		ASSERT_EQ(b.per_day, 20000000);
		config_budget_for(&cfg, "10.0.0.3:7000", "10.0.0.3", &b);
		ASSERT_EQ(b.per_day, 5000000);
		ASSERT_EQ(b.per_session, 1000000);
		/* nothing set: no budget */
		conf("[node]\n");
		ASSERT_OK(parse("--config", path, "--home", "/h", NULL));
		config_budget_for(&cfg, "10.0.0.2:7000", NULL, &b);
		ASSERT_EQ(b.per_day, 0);
		ASSERT_EQ(b.per_session, 0);
	}

	TEST_START("a line longer than inih reads at once is a fault of its own, named by its line");
	{
		char text[1024] = "[node]\nhome = /h\npeers =";
		for (int i = 0; i < 20; i++)
			snprintf(text + strlen(text), sizeof(text) - strlen(text),
				 " peer%02d.example:7450", i);
		strcat(text, "\nbogus = 1\n");
		conf(text);
		ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
		ASSERT_WHY("line 3: the line is longer than 199 characters; continue a long list on indented lines below it");
	}

	TEST_START("a list of peers or scopes over its limit is refused as too long, not as a bad address, with its line");
	{
		static char text[8192];
		size_t o = (size_t)snprintf(text, sizeof(text),
					    "[node]\nhome = /h\npeers = 10.0.0.1:1000\n");
		for (int i = 1; i <= CONFIG_MAX_PEERS; i++)
			o += (size_t)snprintf(text + o, sizeof(text) - o,
					      "  10.0.0.1:%d\n", 1000 + i);
		conf(text);
		ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
		ASSERT_WHY("line 259: peers: the list is too long: it holds at most 256 addresses, and \"10.0.0.1:1256\" is one more; remove the peers this node need not dial");
		o = (size_t)snprintf(text, sizeof(text), "[node]\nhome = /h\nscopes = bk/c0\n");
		for (int i = 1; i <= CONFIG_MAX_SCOPES; i++)
			o += (size_t)snprintf(text + o, sizeof(text) - o,
					      "scopes = bk/c%d\n", i);
		conf(text);
		ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
		ASSERT_WHY("line 19: scopes: the list is too long: it holds at most 16 scopes, and \"bk/c16\" is one more; give a scope above several of them instead");
	}

	TEST_START("a size zero or over the maximum is refused as out of range, naming the range");
	{
		static const struct {
			const char *file, *why;
		} bad[] = {
			{ "[budget]\ndefault_per_day = 1001GB\n",
			  "line 2: [budget] default_per_day \"1001GB\" is out of range: a size is more than 0 and at most 1000GB (none: no limit)" },
			{ "[budget]\ndefault_per_session = 0MB\n",
			  "line 2: [budget] default_per_session \"0MB\" is out of range: a size is more than 0 and at most 1000GB (none: no limit)" },
			{ "[budget]\npeer = 10.0.0.2:7000 per_day=0KB\n",
			  "line 2: [budget] peer 10.0.0.2:7000 per_day \"0KB\" is out of range: a size is more than 0 and at most 1000GB (none: no limit)" },
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			conf(bad[i].file);
			ASSERT_EQ(parse("--config", path, "--home", "/h", NULL),
				  HAMLET_ECONFIG);
			ASSERT_WHY(bad[i].why);
		}
		conf("[budget]\ndefault_per_day = 1000GB\n");
		ASSERT_OK(parse("--config", path, "--home", "/h", NULL));
	}

	TEST_START("a file saved as UTF-16, or holding a NUL byte, is named as not UTF-8 text with its line; a NUL never cuts a value");
	{
		static const char u16[] = "\xff\xfe[\0n\0o\0d\0e\0]\0\r\0\n\0";
		static const char nul[] = "[limits]\nmax_peers = 1\0junk\n";
		static const char nul2[] = "[node]\nhome = /h\n; a comment\0\n";
		static const char bom8[] = "\xef\xbb\xbf[node]\r\nhome = /h\r\n";
		conf_bytes(u16, sizeof(u16) - 1);
		ASSERT_EQ(parse("--config", path, "--home", "/h", NULL), HAMLET_ECONFIG);
		ASSERT_WHY("line 1: the file is saved as UTF-16 (\"Unicode\" in Notepad), not as UTF-8 text: save it again as UTF-8");
		conf_bytes(nul, sizeof(nul) - 1);
		ASSERT_EQ(parse("--config", path, "--home", "/h", NULL), HAMLET_ECONFIG);
		ASSERT_WHY("line 2: it holds a NUL byte, so the file is not UTF-8 text (saved as UTF-16, \"Unicode\"? or damaged): save it again as UTF-8");
		conf_bytes(nul2, sizeof(nul2) - 1);
		ASSERT_EQ(parse("--config", path, NULL), HAMLET_ECONFIG);
		ASSERT_WHY("line 3: it holds a NUL byte, so the file is not UTF-8 text (saved as UTF-16, \"Unicode\"? or damaged): save it again as UTF-8");
		/* UTF-8 with its byte order mark and CRLF line ends is text */
		conf_bytes(bom8, sizeof(bom8) - 1);
		ASSERT_OK(parse("--config", path, NULL));
		ASSERT_STREQ(cfg.home, "/h");
	}

	TEST_START("the line of the first scopes is kept, for the start's check to name");
	conf("[node]\nhome = /h\n\nscopes = bk/a\n  bk/b\nscopes = bk/c\n");
	ASSERT_OK(parse("--config", path, NULL));
	ASSERT_EQ(cfg.nscopes, 3);
	ASSERT_EQ(cfg.scopes_line, 4);
	conf("[node]\nhome = /h\n");
	ASSERT_OK(parse("--config", path, NULL));
	ASSERT_EQ(cfg.scopes_line, 0);

	TEST_START("[http] max_per_client over max_connections is refused, naming both");
	ASSERT_EQ(parse("--config", conf("[http]\nmax_connections = 10\nmax_per_client = 20\n"),
			"--home", "/h", NULL),
		  HAMLET_ECONFIG);
	ASSERT_TRUE(strstr(why, "max_per_client (20) is more than max_connections (10)") != NULL);
	ASSERT_OK(parse("--config", conf("[http]\nmax_connections = 10\nmax_per_client = 10\n"),
			"--home", "/h", NULL));

	TEST_START("a file that cannot be opened is named");
	snprintf(path, sizeof(path), "%s/absent.conf", dir);
	ASSERT_EQ(parse("--config", path, "--home", "/h", NULL), HAMLET_ECONFIG);
	ASSERT_TRUE(strstr(why, path) != NULL);
	ASSERT_TRUE(strstr(why, "No such file") != NULL);

	TEST_START("flags override the file; --peer adds to its peers");
	conf("[node]\n"
	     "home = /from/file\n"
	     "listen = 127.0.0.1:1000\n"
	     "socket = /from/file.sock\n"
	     "peers = a.example:1\n");
	ASSERT_EQ(parse("--config", path, "--home", "/from/flag", "--listen",
			"127.0.0.1:2000", "--peer", "b.example:2", NULL),
		  0);
	ASSERT_STREQ(cfg.home, "/from/flag");
	ASSERT_STREQ(cfg.listen, "127.0.0.1:2000");
	ASSERT_STREQ(cfg.socket, "/from/file.sock");
	ASSERT_EQ(cfg.npeers, 2);
	ASSERT_STREQ(cfg.peers[0], "a.example:1");
	ASSERT_STREQ(cfg.peers[1], "b.example:2");
	ASSERT_EQ(parse("--config", path, "--socket", "/from/flag.sock", NULL), 0);
	ASSERT_STREQ(cfg.home, "/from/file");
	ASSERT_STREQ(cfg.socket, "/from/flag.sock");

	TEST_START("without a socket setting it lies in the home directory");
	ASSERT_EQ(parse("--home", "/h", NULL), 0);
	ASSERT_STREQ(cfg.socket, "/h/hamletd.sock");

	TEST_START("a socket path over what a sockaddr_un holds is refused, naming its setting");
	{
		char home[200], sock[200];
		memset(home, 'h', sizeof(home));
		home[0] = '/';
		home[CONFIG_MAX_SOCKET - 12] = 0; /* + "/hamletd.sock": one over */
		ASSERT_EQ(parse("--home", home, NULL), -ENAMETOOLONG);
		ASSERT_TRUE(strstr(why, "because the home directory's path is long") != NULL);
		ASSERT_TRUE(strstr(why, "socket = in hamletd.conf, or with --socket") != NULL);
		ASSERT_TRUE(strstr(why, "is 108 bytes long, over the 107") != NULL);
		home[CONFIG_MAX_SOCKET - 13] = 0; /* exactly 107: fits */
		ASSERT_EQ(parse("--home", home, NULL), 0);
		ASSERT_EQ(strlen(cfg.socket), CONFIG_MAX_SOCKET);
		/* a short socket set for a long home is fine */
		home[150] = 0;
		ASSERT_EQ(parse("--home", home, "--socket", "/run/h.sock", NULL), 0);
		memset(sock, 's', sizeof(sock));
		sock[0] = '/';
		sock[CONFIG_MAX_SOCKET + 1] = 0;
		ASSERT_EQ(parse("--home", "/h", "--socket", sock, NULL), -ENAMETOOLONG);
		ASSERT_TRUE(strncmp(why, "--socket \"/sss", 14) == 0);
		ASSERT_TRUE(strstr(why, "is 108 bytes long, over the 107") != NULL);
		snprintf(out, sizeof(out), "[node]\nsocket = %s\n", sock);
		conf(out);
		ASSERT_EQ(parse("--home", "/h", "--config", path, NULL), -ENAMETOOLONG);
		ASSERT_TRUE(strncmp(why, path, strlen(path)) == 0);
		ASSERT_TRUE(strstr(why, ": socket \"/sss") != NULL);
		/* --socket overrides the file's: what counts is what is used */
		ASSERT_EQ(parse("--home", "/h", "--config", path, "--socket",
				"/h.sock", NULL), 0);
	}

	TEST_START("a reload re-reads the file's peers and keeps those of --peer");
	conf("[node]\nhome = /h\npeers = a.example:1\n");
	ASSERT_EQ(parse("--config", path, "--peer", "b.example:2", NULL), 0);
	conf("[node]\nhome = /h\npeers = c.example:3\n");
	ASSERT_EQ(config_reload_peers(&cfg, NULL, NULL, &budgets, why, sizeof(why)), 0);
	ASSERT_EQ(cfg.npeers, 2);
	ASSERT_STREQ(cfg.peers[0], "c.example:3");
	ASSERT_STREQ(cfg.peers[1], "b.example:2");
	conf("[node]\nhome = /h\npeers = c.example:3 bad\n");
	ASSERT_EQ(config_reload_peers(&cfg, NULL, NULL, &budgets, why, sizeof(why)), HAMLET_ECONFIG);
	ASSERT_WHY("line 3: peer \"bad\" is not HOST:PORT");
	ASSERT_EQ(cfg.npeers, 2);
	ASSERT_STREQ(cfg.peers[0], "c.example:3");

	TEST_START("a reload checks the whole file as a start would, and a fault changes nothing");
	{
		static const struct {
			const char *text, *why;
			int r;
		} bad[] = {
			{ "[node]\nhome = /h\npeers = d.example:4\n"
			  "listen = 127.0.0.1:1\n[limits]\nbogus = 1\n",
			  "hamletd.conf line 6: unknown key \"bogus\" in [limits]",
			  HAMLET_ECONFIG },
			{ "[node]\nhome = /h\npeers = d.example:4\n[limits]\nbatch = 9999\n",
			  "hamletd.conf line 5: batch \"9999\" must be a number 1..256",
			  HAMLET_ECONFIG },
			/* no home: a start would refuse it too */
			{ "[node]\npeers = d.example:4\n",
			  "no home directory: give --home DIR", -EINVAL },
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			conf(bad[i].text);
			ASSERT_EQ(config_reload_peers(&cfg, NULL, NULL, &budgets, why, sizeof(why)),
				  bad[i].r);
			ASSERT_TRUE(strstr(why, bad[i].why) != NULL);
			ASSERT_EQ(cfg.npeers, 2);
			ASSERT_STREQ(cfg.peers[0], "c.example:3");
		}
	}
	conf("[node]\nhome = /h\npeers = d.example:4\n");
	ASSERT_EQ(config_reload_peers(&cfg, NULL, NULL, &budgets, why, sizeof(why)), 0);
	ASSERT_EQ(cfg.npeers, 2);
	ASSERT_STREQ(cfg.peers[0], "d.example:4");
	ASSERT_STREQ(cfg.peers[1], "b.example:2");

	TEST_START("a reload runs the start's own check on the file read again, and its refusal changes nothing");
	checks = 0;
	conf("[node]\nhome = /h\npeers = e.example:5 f.example:6\nscopes = bk/x\n");
	ASSERT_EQ(config_reload_peers(&cfg, refuse_scopes, NULL, &budgets, why,
				      sizeof(why)),
		  HAMLET_ECONFIG);
	ASSERT_EQ(checks, 1);
	ASSERT_EQ(checked_peers, 3); /* the file's two, and --peer's */
	ASSERT_WHY("line 4: scopes refused");
	ASSERT_EQ(cfg.npeers, 2);
	ASSERT_STREQ(cfg.peers[0], "d.example:4");
	ASSERT_EQ(cfg.reload_ignored[0], 0);
	/* a file the check takes is taken */
	conf("[node]\nhome = /h\npeers = e.example:5\n");
	ASSERT_OK(config_reload_peers(&cfg, refuse_scopes, NULL, &budgets, why,
				      sizeof(why)));
	ASSERT_EQ(checks, 2);
	ASSERT_EQ(cfg.npeers, 2);
	ASSERT_STREQ(cfg.peers[0], "e.example:5");
	/* a file a start refuses is refused before the check is asked */
	conf("[node]\nhome = /h\nbogus = 1\n");
	ASSERT_EQ(config_reload_peers(&cfg, refuse_scopes, NULL, &budgets, why,
				      sizeof(why)),
		  HAMLET_ECONFIG);
	ASSERT_EQ(checks, 2);
	conf("[node]\nhome = /h\npeers = d.example:4\n");
	ASSERT_OK(config_reload_peers(&cfg, NULL, NULL, &budgets, why, sizeof(why)));

	TEST_START("a reload takes the file's byte budgets, and says when they changed");
	{
		/* file, the reload's return, budgets changed, then d.example:4's
		 * per_day and per_session */
		static const struct {
			const char *text;
			int r, changed;
			uint64_t day, session;
		} steps[] = {
			{ "[node]\nhome = /h\npeers = d.example:4\n[budget]\n"
			  "default_per_day = 5MB\npeer = d.example:4 per_session=1KB\n",
			  0, 1, 5000000, 1000 },
			/* the same file: nothing changed */
			{ NULL, 0, 0, 5000000, 1000 },
			{ "[node]\nhome = /h\npeers = d.example:4\n[budget]\n"
			  "default_per_day = 5MB\npeer = d.example:4 per_session=2KB\n",
			  0, 1, 5000000, 2000 },
			/* a fault: the budgets stay as they were */
			{ "[node]\nhome = /h\n[budget]\ndefault_per_day = lots\n",
			  HAMLET_ECONFIG, 0, 5000000, 2000 },
			/* none: no budget at all */
			{ "[node]\nhome = /h\npeers = d.example:4\n", 0, 1, 0, 0 },
		};
		for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
			struct config_budget b;
			if (steps[i].text)
				conf(steps[i].text);
			ASSERT_EQ(config_reload_peers(&cfg, NULL, NULL, &budgets, why, sizeof(why)),
				  steps[i].r);
			ASSERT_EQ(budgets, steps[i].changed);
			config_budget_for(&cfg, "d.example:4", NULL, &b);
			ASSERT_EQ(b.per_day, steps[i].day);
			ASSERT_EQ(b.per_session, steps[i].session);
		}
	}

	TEST_START("a [budget] peer line for none of the peers is found (it would match only a peer dialling in)");
	{
		char seen[256] = "";
		conf("[node]\nhome = /h\npeers = 127.0.0.1:7450\n[budget]\n"
		     "peer = localhost:7450 per_day=1KB\npeer = 127.0.0.1:7450 per_day=2KB\n");
		ASSERT_EQ(parse("--config", path, NULL), 0);
		config_budget_strays(&cfg, stray_note, seen);
		ASSERT_STREQ(seen, "localhost:7450;");
	}

	TEST_START("bad flags are refused, each named");
	unsetenv("HAMLET_HOME");
	ASSERT_EQ(parse(NULL), -EINVAL);
	ASSERT_STREQ(why, "no home directory: give --home DIR (or home = in the config file, or HAMLET_HOME=DIR)");
	/* HAMLET_HOME, as hamlet takes it, after --home and the file's */
	setenv("HAMLET_HOME", "/env/home", 1);
	ASSERT_OK(parse(NULL));
	ASSERT_STREQ(cfg.home, "/env/home");
	ASSERT_OK(parse("--home", "/h", NULL));
	ASSERT_STREQ(cfg.home, "/h");
	conf("[node]\nhome = /file/home\n");
	ASSERT_OK(parse("--config", path, NULL));
	ASSERT_STREQ(cfg.home, "/file/home");
	setenv("HAMLET_HOME", "", 1);
	ASSERT_EQ(parse(NULL), -EINVAL);
	unsetenv("HAMLET_HOME");
	ASSERT_EQ(parse("--home", "/h", "--listen", "nowhere", NULL), -EINVAL);
	ASSERT_STREQ(why, "--listen \"nowhere\" is not HOST:PORT");
	ASSERT_EQ(parse("--home", "/h", "--peer", "x", NULL), -EINVAL);
	ASSERT_STREQ(why, "--peer \"x\" is not HOST:PORT");
	ASSERT_EQ(parse("--home", "/h", "--listen", "localhost:18201", NULL), -EINVAL);
	ASSERT_STREQ(why, "--listen \"localhost:18201\" is not an IP address: give a numeric address to listen on, such as 0.0.0.0, 127.0.0.1 or [::1], not a host name");
	ASSERT_EQ(parse("--home", "/h", "--http", "localhost:18280", NULL), -EINVAL);
	ASSERT_STREQ(why, "--http \"localhost:18280\" is not an IP address: give a numeric address to listen on, such as 0.0.0.0, 127.0.0.1 or [::1], not a host name");
	ASSERT_EQ(parse("--home", "/h", "--listen", "127.0.0.1:99999", NULL), -EINVAL);
	ASSERT_STREQ(why, "--listen \"127.0.0.1:99999\": the port must be 1-65535");
	ASSERT_EQ(parse("--home", "/h", "extra", NULL), -EINVAL);
	ASSERT_STREQ(why, "unexpected argument \"extra\"");
	ASSERT_EQ(parse("--home", "/h", "--bogus", NULL), -EINVAL);
	ASSERT_STREQ(why, "bad command line");

	TEST_START("--version prints \"hamletd VERSION\" and asks main to exit 0");
	ASSERT_EQ(parse_capturing("--version", out, sizeof(out)), 1);
	{
		char want[64];
		snprintf(want, sizeof(want), "hamletd %s\n", HAMLET_VERSION);
		ASSERT_STREQ(out, want);
	}

	TEST_START("--help prints the usage and asks main to exit 0");
	ASSERT_EQ(parse_capturing("--help", out, sizeof(out)), 1);
	ASSERT_TRUE(strncmp(out, "usage: hamletd --home DIR", 25) == 0);
	ASSERT_TRUE(strstr(out, "--version") != NULL);

	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	ASSERT_EQ(system(path), 0);
	TEST_DONE();
}
