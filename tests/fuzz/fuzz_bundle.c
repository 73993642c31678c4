/* Fuzz target: the bundle reader and its frame parsers. */
#include "bundle_format.h"
#include "fuzz_bundle_seed.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bundle_reader rd;
	struct bundle_frame fr;
	size_t bad;
	struct bundle_header h;
	int r, guard = 0;
	memset(&h, 0, sizeof(h));
	if (bundle_reader_init(&rd, data, size) < 0)
		return 0;
	while ((r = bundle_reader_next(&rd, &fr, &bad)) != 0 &&
	       guard++ < 100000) {
		if (r < 0)
			continue;
		struct bundle_entry e;
		struct bundle_trailer t;
		static struct bundle_run run;
		char why[200];
		if (fr.type == BUNDLE_FRAME_HEADER)
			bundle_header_parse(fr.payload, fr.len, &h, why,
					    sizeof(why));
		else if (fr.type == BUNDLE_FRAME_ENTRY &&
			 bundle_entry_parse(fr.payload, fr.len, &e) < 0)
			bundle_reader_resync_from(&rd, fr.offset);
		else if (fr.type == BUNDLE_FRAME_RUN) {
			if (bundle_run_parse(fr.payload, fr.len, &run, why,
					     sizeof(why)) == 0)
				bundle_run_release(&run);
			else
				bundle_reader_resync_from(&rd, fr.offset);
		} else if (fr.type == BUNDLE_FRAME_TRAILER &&
			 bundle_trailer_parse(fr.payload, fr.len, &t) == 0)
			bundle_trailer_verify(&t, h.creator);
	}
	return 0;
}

size_t fuzz_seeds(uint8_t ***ret_seeds, size_t **ret_lens)
{
	return fuzz_bundle_seed(NULL, ret_seeds, ret_lens);
}
