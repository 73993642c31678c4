/* Fuzz target: HOME/own-feeds, the highest seq a node signed in each of
 * its feeds (node_feeds_parse), for a fixed node key. What parses is
 * sorted, unique, and within the caps. */
#include "fuzz_text_seeds.h"
#include "node.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t pk[32] = { 0x07, 0x8d, 0x0e, 0x94 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct node_feed *v = NULL;
	size_t n = 0;
	char why[512];

	if (node_feeds_parse((const char *)data, size, pk, &v, &n, why,
			     sizeof(why)) == 0) {
		if (n > NODE_FEEDS_MAX)
			abort();
		for (size_t i = 0; i < n; i++)
			if (v[i].seq == 0 || entry_scope_check(v[i].scope) < 0 ||
			    (i && strcmp(v[i - 1].scope, v[i].scope) >= 0))
				abort();
	} else if (!why[0]) {
		abort(); /* a refusal always says why */
	}
	free(v);
	return 0;
}

size_t fuzz_seeds(uint8_t ***ret_seeds, size_t **ret_lens)
{
	static const char *text[] = {
		/* each seed in parentheses: clang's -Wstring-concatenation
		 * takes two lines of one seed for a missing comma */
		("# hamlet: own feeds\n"
		 "key 078d0e9400000000000000000000000000000000000000000000000000000000\n"
		 "bk/c1 12\nbk/c1/v1 3\n"),
		"key 078d0e9400000000000000000000000000000000000000000000000000000000\n",
		("key 078d0e9400000000000000000000000000000000000000000000000000000000\n"
		 "bk/c1 18446744073709551615\nbk/c1 2\n"),
		"bk/c1 1\n",
		"",
	};
	return fuzz_text_seeds(text, sizeof(text) / sizeof(text[0]), ret_seeds,
			       ret_lens);
}
