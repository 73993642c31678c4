/*
 * Runs a libFuzzer target without libFuzzer: seeds from the target, then a
 * bounded number of random mutations (bit flips, truncations, insertions,
 * splices). Built with -DHAMLET_FUZZ=ON and clang, the same targets link
 * against libFuzzer instead of this file.
 *
 *   fuzz_X [ITERATIONS] [SEED]
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* each target provides its seed inputs */
size_t fuzz_seeds(uint8_t ***ret_seeds, size_t **ret_lens);

static unsigned long long s;
static unsigned rnd(unsigned n)
{
	s = s * 6364136223846793005ull + 1442695040888963407ull;
	return n ? (unsigned)((s >> 33) % n) : 0;
}

int main(int argc, char **argv)
{
	unsigned long iters = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
	s = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
	uint8_t **seeds;
	size_t *lens, n = fuzz_seeds(&seeds, &lens);
	uint8_t *buf = malloc(1 << 17);

	for (size_t i = 0; i < n; i++)
		LLVMFuzzerTestOneInput(seeds[i], lens[i]);
	for (unsigned long it = 0; it < iters; it++) {
		size_t k = rnd((unsigned)n), len = lens[k];
		memcpy(buf, seeds[k], len);
		unsigned muts = 1 + rnd(4);
		for (unsigned m = 0; m < muts; m++) {
			switch (rnd(5)) {
			case 0: /* flip a bit */
				if (len)
					buf[rnd((unsigned)len)] ^= (uint8_t)(1 << rnd(8));
				break;
			case 1: /* truncate */
				len = rnd((unsigned)len + 1);
				break;
			case 2: /* set a byte to an interesting value */
				if (len) {
					static const uint8_t v[] = { 0x00, 0xff, 0xc0, 0xc1, 0xdd, 0xdf, 0x7f, 0x80, 0x9f };
					buf[rnd((unsigned)len)] = v[rnd(sizeof(v))];
				}
				break;
			case 3: /* insert random bytes */
				if (len + 8 < (1 << 17)) {
					size_t at = rnd((unsigned)len + 1), c = 1 + rnd(8);
					memmove(buf + at + c, buf + at, len - at);
					for (size_t j = 0; j < c; j++)
						buf[at + j] = (uint8_t)rnd(256);
					len += c;
				}
				break;
			default: /* splice another seed's tail */
			{
				size_t o = rnd((unsigned)n), from = rnd((unsigned)lens[o] + 1);
				size_t at = rnd((unsigned)len + 1);
				size_t c = lens[o] - from;
				if (at + c < (1 << 17)) {
					memcpy(buf + at, seeds[o] + from, c);
					len = at + c;
				}
			}
			}
		}
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("%lu inputs run, no crash\n", iters + n);
	free(buf);
	return 0;
}
