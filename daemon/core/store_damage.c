/*
 * store_damage: what the process is told when the database library meets
 * a store's files damaged in a way it does not return as an error.
 *
 * LMDB trusts the file it maps. A page zeroed or mixed up on disk trips
 * one of its assertions, and it aborts the process; a page past the end
 * of a file cut short (a copy that stopped half-way, a power cut) is a
 * SIGBUS at the read. Either way the process ends; store_on_damaged()'s
 * function says first what that means.
 */
#include "store_internal.h"

#include "error.h"
#include "i18n.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static store_damaged_fn damaged_fn;

/* The stores whose maps a SIGBUS is checked against. A store past the
 * last slot goes unwatched: the default (the process killed by the
 * signal, unexplained) as before. */
#define MAPPED_MAX 16
static struct store *mapped[MAPPED_MAX];

static struct sigaction bus_before;
static pthread_once_t bus_once = PTHREAD_ONCE_INIT;

/* Where a SIGBUS in a store's map goes back to, on a thread that runs
 * store__guarded() (NULL on the others). */
static __thread sigjmp_buf *guard_jmp;

/* The watched store a SIGBUS at a is the store's, or NULL. */
static const struct store *store_at(uintptr_t a)
{
	for (int i = 0; i < MAPPED_MAX; i++) {
		const struct store *st =
			__atomic_load_n(&mapped[i], __ATOMIC_ACQUIRE);
		for (size_t j = 0; st && j < sizeof(st->maps) / sizeof(st->maps[0]);
		     j++)
			if (a >= __atomic_load_n(&st->maps[j].lo, __ATOMIC_RELAXED) &&
			    a < __atomic_load_n(&st->maps[j].hi, __ATOMIC_RELAXED))
				return st;
	}
	return NULL;
}

/* SIGBUS: a read in the map of a watched store is a page the file does
 * not hold. Anything else goes to what handled the signal before. */
static void on_bus(int sig, siginfo_t *si, void *uc)
{
	const struct store *st = store_at((uintptr_t)si->si_addr);

	if (st && guard_jmp)
		siglongjmp(*guard_jmp, 1);
	/* ends the process when it can: the read cannot go on */
	if (st && damaged_fn)
		damaged_fn(st->dir,
			   N_("data.mdb ends before a page the store needs: the file was cut short"));
	if ((bus_before.sa_flags & SA_SIGINFO) && bus_before.sa_sigaction) {
		bus_before.sa_sigaction(sig, si, uc);
		return;
	}
	if (!(bus_before.sa_flags & SA_SIGINFO) &&
	    bus_before.sa_handler != SIG_DFL &&
	    bus_before.sa_handler != SIG_IGN) {
		bus_before.sa_handler(sig);
		return;
	}
	/* the read faults again on return, and the default ends it */
	signal(sig, SIG_DFL);
}

static void bus_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_bus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &bus_before);
}

void store__bus_watch(void)
{
	pthread_once(&bus_once, bus_install);
}

void store_on_damaged(store_damaged_fn fn)
{
	damaged_fn = fn;
	store__bus_watch();
}

int store__guarded(int (*fn)(void *ctx), void *ctx)
{
	sigjmp_buf jb;
	sigjmp_buf *volatile before = guard_jmp;
	int r;

	if (sigsetjmp(jb, 1)) {
		guard_jmp = before;
		return HAMLET_ECORRUPT;
	}
	guard_jmp = &jb;
	r = fn(ctx);
	guard_jmp = before;
	return r;
}

void store__assert(MDB_env *env, const char *msg)
{
	const struct store *st = mdb_env_get_userctx(env);
	if (damaged_fn)
		damaged_fn(st ? st->dir : "", msg);
}

/*
 * Where the kernel mapped st's data.mdb: LMDB does not say (its
 * me_mapaddr is MDB_FIXEDMAP's address alone); the process's list of
 * mappings does (Linux). Each mapping of the file from its start, as
 * another handle on the same store maps it too. Nothing found: none.
 */
static void maps_find(struct store *st)
{
	const size_t nmax = sizeof(st->maps) / sizeof(st->maps[0]);
	mdb_filehandle_t fd;
	struct stat sb;
	char line[4400];
	size_t n = 0;
	FILE *f;

	if (mdb_env_get_fd(st->env, &fd) != 0 || fstat(fd, &sb) != 0 ||
	    !(f = fopen("/proc/self/maps", "re")))
		return;
	while (n < nmax && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, off, ino;
		unsigned maj, mnr;
		if (sscanf(line, "%lx-%lx %*s %lx %x:%x %lu", &lo, &hi, &off,
			   &maj, &mnr, &ino) == 6 &&
		    off == 0 && ino == sb.st_ino && maj == major(sb.st_dev) &&
		    mnr == minor(sb.st_dev)) {
			__atomic_store_n(&st->maps[n].hi, hi, __ATOMIC_RELAXED);
			__atomic_store_n(&st->maps[n].lo, lo, __ATOMIC_RELAXED);
			n++;
		}
	}
	fclose(f);
}

void store__mapped(struct store *st)
{
	store__unmapped(st, 0);
	maps_find(st);
	for (int i = 0; i < MAPPED_MAX; i++)
		if (__atomic_load_n(&mapped[i], __ATOMIC_ACQUIRE) == st)
			return;
	for (int i = 0; i < MAPPED_MAX; i++) {
		struct store *none = NULL;
		if (__atomic_compare_exchange_n(&mapped[i], &none, st, 0,
						__ATOMIC_RELEASE,
						__ATOMIC_RELAXED))
			return;
	}
}

void store__unmapped(struct store *st, int forget)
{
	for (size_t j = 0; j < sizeof(st->maps) / sizeof(st->maps[0]); j++) {
		__atomic_store_n(&st->maps[j].lo, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&st->maps[j].hi, 0, __ATOMIC_RELAXED);
	}
	if (!forget)
		return;
	for (int i = 0; i < MAPPED_MAX; i++) {
		struct store *s = st;
		__atomic_compare_exchange_n(&mapped[i], &s, NULL, 0,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
	}
}
