#include "prefetch.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* asked for at once: Linux reads at most the device's readahead size
 * (read_ahead_kb, 128 KiB by default) for one call */
#define CHUNK ((off_t)128 << 10)

struct prefetch {
	pthread_t th;
	int fd;
	off_t size;
	atomic_int stop;
};

static void *prefetch_run(void *arg)
{
	struct prefetch *p = arg;

	for (off_t at = 0; at < p->size && !atomic_load(&p->stop); at += CHUNK)
		if (posix_fadvise(p->fd, at, CHUNK, POSIX_FADV_WILLNEED) != 0)
			break; /* only a hint: the walk reads the page itself */
	return NULL;
}

struct prefetch *prefetch_start(const char *path)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	struct prefetch *p;
	struct stat sb;
	int fd;

	if (pages <= 0 || psize <= 0)
		return NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	if (fstat(fd, &sb) < 0 || sb.st_size <= 0 ||
	    (uint64_t)sb.st_size > (uint64_t)pages * (uint64_t)psize / 2 ||
	    !(p = calloc(1, sizeof(*p)))) {
		close(fd);
		return NULL;
	}
	p->fd = fd;
	p->size = sb.st_size;
	atomic_init(&p->stop, 0);
	if (pthread_create(&p->th, NULL, prefetch_run, p) != 0) {
		close(fd);
		free(p);
		return NULL;
	}
	return p;
}

void prefetch_stop(struct prefetch *p)
{
	if (!p)
		return;
	atomic_store(&p->stop, 1);
	pthread_join(p->th, NULL);
	close(p->fd);
	free(p);
}
