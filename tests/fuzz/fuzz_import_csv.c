/* Fuzz target: CSV files for hamlet import (cli/import_read.c). */
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_import(import_read_csv, "row", data, size);
	return 0;
}

/* The first letter says the collection: P payment, H health_profile. */
size_t fuzz_seeds(uint8_t ***ret_seeds, size_t **ret_lens)
{
	static const char *const text[] = {
		"Pid,program,beneficiary_id,period,amount_vnd,status\r\n"
		"PAY-1,forest_service,B-1,2026-01,500000,created\r\n"
		"PAY-2,social_allowance,B-2,2026-02,\"1,5\",approved\r\n"
		",,,,,\r\n",
		"H\xef\xbb\xbfid,full_name,birth_date,sex,allergies\n"
		"HP-1,\"Lò Văn \"\"A\"\"\",1990-01-02,male,\n"
		"HP-1,B,1990-13-40,x,\"unterminated\n",
		"Pid,id,amount_vnd\nX,Y,1\n",
		"Pprogram\nforest_service\n",
	};
	return fuzz_import_seeds(text, 4, ret_seeds, ret_lens);
}
