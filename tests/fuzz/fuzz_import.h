/*
 * The import targets (fuzz_import_csv.c, fuzz_import_ndjson.c): the first
 * byte picks the collection (of schema_all()), the rest is the file, read
 * from memory by cli/import_read.c as hamlet import reads a file.
 */
#ifndef HAMLET_FUZZ_IMPORT_H
#define HAMLET_FUZZ_IMPORT_H
#include "import_read.h"
#include "schema.h"

#include <stdlib.h>
#include <string.h>

typedef int (*import_read_fn)(struct importer *im, FILE *f, const char *path);

static inline void fuzz_import(import_read_fn read, const char *unit,
			       const uint8_t *data, size_t size)
{
	struct importer im;
	size_t n;
	const struct schema *const *all = schema_all(&n);
	FILE *f;

	if (size < 1 || size > (1 << 16))
		return;
	memset(&im, 0, sizeof(im));
	im.s = all[data[0] % n];
	im.unit = unit;
	/* fmemopen() of 0 bytes fails: an empty file is a one-byte input */
	if (!(f = fmemopen(size > 1 ? (void *)(data + 1) : "", size - 1,
			   "rb")))
		return;
	read(&im, f, "fuzz");
	fclose(f);
	import_close(&im);
}

/* seeds: text[i] for collection "payment" or "health_profile" */
static inline size_t fuzz_import_seeds(const char *const *text, size_t n,
				       uint8_t ***ret_seeds, size_t **ret_lens)
{
	static uint8_t *seeds[8];
	static size_t lens[8];
	size_t ns, k;
	const struct schema *const *all = schema_all(&ns);
	for (size_t i = 0; i < n && i < 8; i++) {
		const char *coll = text[i][0] == 'P' ? "payment" : "health_profile";
		size_t len = strlen(text[i] + 1);
		for (k = 0; k < ns && strcmp(all[k]->name, coll) != 0; k++)
			;
		if (!(seeds[i] = malloc(len + 1)))
			abort();
		seeds[i][0] = (uint8_t)k;
		memcpy(seeds[i] + 1, text[i] + 1, len);
		lens[i] = len + 1;
	}
	*ret_seeds = seeds;
	*ret_lens = lens;
	return n;
}
#endif
