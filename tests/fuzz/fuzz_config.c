/* Fuzz target: hamletd's INI config file (config_from_args --config, and
 * the peers-only re-read on SIGHUP). */
#include "config.h"
#include "fuzz_memfile.h"
#include "fuzz_text_seeds.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config c;
	int budgets;
	char path[64], why[512];
	int fd = fuzz_memfile(data, size, path, sizeof(path));
	char *argv[] = { "hamletd", "--home", "/nonexistent", "--config", path,
			 NULL };
	if (config_from_args(5, argv, &c, why, sizeof(why)) == 0)
		config_reload_peers(&c, NULL, NULL, &budgets, why, sizeof(why));
	close(fd);
	return 0;
}

size_t fuzz_seeds(uint8_t ***ret_seeds, size_t **ret_lens)
{
	static const char *text[] = {
		"[node]\nhome = /var/lib/hamlet\nlisten = 0.0.0.0:7400\n"
		"peers = 10.0.0.2:7400 [fe80::1]:7400\n  10.0.0.3:7400\n"
		"scopes = bk/bt bk/cc\nsocket = /run/hamlet/hamletd.sock\n"
		"[limits]\nmax_peers = 32\nbatch = 128\n",
		"; comment\n[node]\nlisten = nowhere\n",
		"[limits]\nbatch = 9999\n[other]\nkey = 1\n",
		"[node\nhome\n",
	};
	return fuzz_text_seeds(text, sizeof(text) / sizeof(text[0]), ret_seeds,
			       ret_lens);
}
