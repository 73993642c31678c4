/* Built-in seeds given as C strings, for fuzz_seeds() of a text format. */
#ifndef HAMLET_FUZZ_TEXT_SEEDS_H
#define HAMLET_FUZZ_TEXT_SEEDS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FUZZ_TEXT_SEEDS_MAX 16

/* The n (at most FUZZ_TEXT_SEEDS_MAX) strings of text, borrowed: they
 * live as long as the program. */
static inline size_t fuzz_text_seeds(const char *const *text, size_t n,
				     uint8_t ***ret_seeds, size_t **ret_lens)
{
	static uint8_t *seeds[FUZZ_TEXT_SEEDS_MAX];
	static size_t lens[FUZZ_TEXT_SEEDS_MAX];
	if (n > FUZZ_TEXT_SEEDS_MAX)
		n = FUZZ_TEXT_SEEDS_MAX;
	for (size_t i = 0; i < n; i++) {
		seeds[i] = (uint8_t *)text[i];
		lens[i] = strlen(text[i]);
	}
	*ret_seeds = seeds;
	*ret_lens = lens;
	return n;
}

#endif
