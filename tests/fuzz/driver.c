/*
 * Runs a libFuzzer target without libFuzzer: seeds from the target, then a
 * bounded number of random mutations (bit flips, truncations, insertions,
 * splices). Built with -DHAMLET_FUZZ=ON and clang, the same targets link
 * against libFuzzer instead of this file.
 *
 *   fuzz_X [ITERATIONS] [SEED] [CORPUS_DIR]
 *   fuzz_X --write-seeds DIR
 *
 * The inputs to mutate are the target's built-in seeds, if it has any,
 * and every file in CORPUS_DIR. --write-seeds writes the built-in seeds
 * into DIR as files (seed-N), which is how tests/fuzz/corpus/ is made
 * (scripts/fuzz_corpus.sh).
 */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INPUT_MAX (1 << 17)
#define CORPUS_MAX 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* a target may provide seed inputs built in code */
__attribute__((weak)) size_t fuzz_seeds(uint8_t ***ret_seeds,
					size_t **ret_lens);

static uint8_t *inputs[CORPUS_MAX];
static size_t input_lens[CORPUS_MAX];
static size_t ninputs;

static void input_add(const uint8_t *p, size_t len)
{
	if (ninputs == CORPUS_MAX || len >= INPUT_MAX)
		return;
	if (!(inputs[ninputs] = malloc(len ? len : 1)))
		exit(1);
	memcpy(inputs[ninputs], p, len);
	input_lens[ninputs++] = len;
}

static void corpus_load(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	static uint8_t buf[INPUT_MAX];

	if (!d) {
		fprintf(stderr, "cannot open corpus %s\n", dir);
		exit(1);
	}
	while ((de = readdir(d))) {
		char path[4096];
		FILE *f;
		size_t len;
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!(f = fopen(path, "rb")))
			continue;
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		input_add(buf, len);
	}
	closedir(d);
}

static int seeds_write(const char *dir, uint8_t **seeds, size_t *lens,
		       size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		FILE *f;
		snprintf(path, sizeof(path), "%s/seed-%zu", dir, i);
		if (!(f = fopen(path, "wb")) ||
		    fwrite(seeds[i], 1, lens[i], f) != lens[i] || fclose(f)) {
			fprintf(stderr, "cannot write %s\n", path);
			return 1;
		}
	}
	return 0;
}

static unsigned long long s;
static unsigned rnd(unsigned n)
{
	s = s * 6364136223846793005ull + 1442695040888963407ull;
	return n ? (unsigned)((s >> 33) % n) : 0;
}

int main(int argc, char **argv)
{
	uint8_t **seeds = NULL;
	size_t *lens = NULL, n = fuzz_seeds ? fuzz_seeds(&seeds, &lens) : 0;

	if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0)
		return seeds_write(argv[2], seeds, lens, n);
	unsigned long iters = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
	s = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
	for (size_t i = 0; i < n; i++)
		input_add(seeds[i], lens[i]);
	if (argc > 3)
		corpus_load(argv[3]);
	seeds = inputs;
	lens = input_lens;
	n = ninputs;
	if (n == 0) {
		input_add((const uint8_t *)"", 0);
		n = ninputs;
	}
	uint8_t *buf = malloc(INPUT_MAX);

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
				if (len + 8 < INPUT_MAX) {
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
				if (at + c < INPUT_MAX) {
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
	for (size_t i = 0; i < ninputs; i++)
		free(inputs[i]);
	return 0;
}
