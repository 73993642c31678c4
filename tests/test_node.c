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
	node_close(a);
	th_rmrf(dir);
	free(dir);
	free(net);
	TEST_DONE();
}
