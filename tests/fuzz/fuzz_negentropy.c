/*
 * Fuzz target: Negentropy messages, read by a server (negentropy_reconcile)
 * and by a client that has initiated (negentropy_reconcile_client), each
 * over a small fixed item set. The first byte picks: bit 0 the client,
 * bit 1 a frame size limit.
 */
#include "negentropy.h"

#include <stdlib.h>
#include <string.h>

#define NITEMS 48

/* Items k0..k0+NITEMS-1: the client holds 0.., the server 16.. */
static void items_make(struct neg_item *items, unsigned k0)
{
	for (unsigned i = 0; i < NITEMS; i++) {
		memset(&items[i], 0, sizeof(items[i]));
		items[i].timestamp = 1000 + (k0 + i) / 3;
		items[i].id[0] = (uint8_t)(k0 + i);
		items[i].id[31] = 0xa5;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct neg_item items[NITEMS];
	struct negentropy *ng;
	struct neg_idlist have = { 0 }, need = { 0 };
	uint8_t *out = NULL;
	size_t out_len;
	int client;

	if (size < 1)
		return 0;
	client = data[0] & 1;
	items_make(items, client ? 0 : 16);
	if (negentropy_new(items, NITEMS,
			   (data[0] & 2) ? NEGENTROPY_FRAME_MIN : 0, &ng) < 0)
		abort();
	if (client) {
		if (negentropy_initiate(ng, &out, &out_len) < 0)
			abort();
		free(out);
		out = NULL;
		negentropy_reconcile_client(ng, data + 1, size - 1, &have,
					    &need, &out, &out_len);
	} else {
		negentropy_reconcile(ng, data + 1, size - 1, &out, &out_len);
	}
	free(out);
	negentropy_idlist_close(&have);
	negentropy_idlist_close(&need);
	negentropy_free(ng);
	return 0;
}

/* A client's first message for the server, the server's answer for the
 * client, and an old-version message. */
size_t fuzz_seeds(uint8_t ***ret_seeds, size_t **ret_lens)
{
	static uint8_t *seeds[3];
	static size_t lens[3];
	struct neg_item ci[NITEMS], si[NITEMS];
	struct negentropy *c, *s;
	uint8_t *m1, *m2;
	size_t l1, l2;

	items_make(ci, 0);
	items_make(si, 16);
	if (negentropy_new(ci, NITEMS, 0, &c) < 0 ||
	    negentropy_new(si, NITEMS, 0, &s) < 0 ||
	    negentropy_initiate(c, &m1, &l1) < 0 ||
	    negentropy_reconcile(s, m1, l1, &m2, &l2) < 0)
		abort();
	if (!(seeds[0] = malloc(l1 + 1)) || !(seeds[1] = malloc(l2 + 1)) ||
	    !(seeds[2] = malloc(2)))
		abort();
	seeds[0][0] = 0; /* the server reads the client's message */
	memcpy(seeds[0] + 1, m1, l1);
	lens[0] = l1 + 1;
	seeds[1][0] = 1; /* the client reads the server's answer */
	memcpy(seeds[1] + 1, m2, l2);
	lens[1] = l2 + 1;
	seeds[2][0] = 0;
	seeds[2][1] = 0x60;
	lens[2] = 2;
	free(m1);
	free(m2);
	negentropy_free(c);
	negentropy_free(s);
	*ret_seeds = seeds;
	*ret_lens = lens;
	return 3;
}
