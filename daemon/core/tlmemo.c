#include "tlmemo.h"

#include <pthread.h>
#include <stdlib.h>

static pthread_key_t keys[TLMEMO_KINDS];
static int keys_ok[TLMEMO_KINDS];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void keys_make(void)
{
	for (int i = 0; i < TLMEMO_KINDS; i++)
		keys_ok[i] = pthread_key_create(&keys[i], free) == 0;
}

void *tlmemo_table(enum tlmemo_kind kind, size_t bytes, int make)
{
	void *m;
	pthread_once(&once, keys_make);
	if (kind >= TLMEMO_KINDS || !keys_ok[kind])
		return NULL;
	if ((m = pthread_getspecific(keys[kind])) || !make)
		return m;
	if (!(m = calloc(1, bytes)))
		return NULL;
	if (pthread_setspecific(keys[kind], m) != 0) {
		free(m);
		return NULL;
	}
	return m;
}
