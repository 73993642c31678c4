/* Fuzz target: NDJSON files for hamlet import (cli/import_read.c). */
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_import(import_read_ndjson, "line", data, size);
	return 0;
}

/* The first letter says the collection: P payment, H health_profile. */
size_t fuzz_seeds(uint8_t ***ret_seeds, size_t **ret_lens)
{
	static const char *const text[] = {
		("P{\"id\":\"PAY-1\",\"program\":\"forest_service\",\"beneficiary_id\":\"B-1\","
		"\"period\":\"2026-01\",\"amount_vnd\":500000,\"status\":\"created\"}\n"
		"\n{\"id\":\"PAY-2\",\"amount_vnd\":-1}\n"),
		("H{\"id\":\"HP-1\",\"full_name\":\"Lò Văn A\",\"birth_date\":\"1990-01-02\"}\n"
		"{\"id\":7}\n[1,2]\n{\"full_name\":\"x\"}\n{\"id\":\"a\",\"id\":\"b\"}\n"),
		"P{\"id\":\"bad id!\",\"program\":1}\n{\"id\":\"P\"\n",
	};
	return fuzz_import_seeds(text, 3, ret_seeds, ret_lens);
}
