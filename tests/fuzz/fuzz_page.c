/* Fuzz target: the status page (daemon/page.c) from what a client and the
 * status object hand it: the first line is an Accept-Language header, the
 * next a ?lang= value, the rest a status object, whatever its shape. The
 * page is rendered in the language picked; no markup may come from the
 * input (checked: no "<script" and no "<x" the input put there). */
#include "fuzz_text_seeds.h"
#include "page.h"

#include <stdlib.h>
#include <string.h>

/* the next line of [*p, end) as a C string (malloc'd) */
static char *line(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	char *s = malloc(n + 1);
	if (!s)
		abort();
	memcpy(s, *p, n);
	s[n] = 0;
	*p += n + (nl ? 1 : 0);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	char *al = line(&p, end), *ls = line(&p, end), *html = NULL;
	struct page_in in = { 0 };
	size_t len = 0;
	json_t *st = json_loadb((const char *)p, (size_t)(end - p), 0, NULL);

	in.lang = page_lang_pick(al);
	if (in.lang != PAGE_EN && in.lang != PAGE_VI)
		abort();
	page_lang_parse(ls, &in.lang);
	in.status = st ? st : json_object();
	in.now_ms = 1764583200000ull;
	in.show_key = size & 1;
	page_shows_lag(in.status);
	if (page_render(&in, &html, &len) == 0) {
		if (len != strlen(html) || strstr(html, "<script") ||
		    strstr(html, "<x"))
			abort();
		free(html);
	}
	if (!st)
		json_decref((json_t *)in.status);
	json_decref(st);
	free(al);
	free(ls);
	return 0;
}

size_t fuzz_seeds(uint8_t ***ret_seeds, size_t **ret_lens)
{
	static const char *text[] = {
		"vi-VN,vi;q=0.9,en;q=0.8\nvi\n"
		"{\"node\":\"c1\",\"node_key\":\"00ff\",\"scope\":\"bk/c1\","
		"\"network\":\"bk\",\"certificate\":{\"valid\":true,\"name\":\"c1\","
		"\"role\":\"commune\",\"expires_ms\":1890728207238},\"entries\":7,"
		"\"own_entries\":3,\"held\":1,\"conflicts\":3,\"duplicates\":2,"
		"\"problems\":{\"health_profile\":{\"conflicts\":1,\"duplicates\":2},"
		"\"<x>\":{\"conflicts\":1}},\"problems_unclassified\":4,"
		"\"peers\":[{\"key\":\"ab\",\"addr\":\"127.0.0.1:1\",\"name\":\"<x>\","
		"\"role\":\"village\",\"connected\":true,\"in_sync\":false,"
		"\"last_sync_ms\":1764583100000,\"waiting_out\":2,"
		"\"entries_waiting_for_disk\":1},{\"key\":null}]}",
		"en;q=0.5, vi;q=0.5\nfr\n{\"node\":\"<x>\",\"certificate\":{\"valid\":false,\"why\":\"<x>\"},\"peers\":{}}",
		"\n\n[1,2,3]",
		"vi;q=0.\nen\n{\"peers\":[1,\"x\",{\"last_sync_ms\":-5,\"waiting_out\":9e99}]}",
	};
	return fuzz_text_seeds(text, sizeof(text) / sizeof(text[0]), ret_seeds,
			       ret_lens);
}
