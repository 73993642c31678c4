/* The store: tables, cursors, a full map, and growth under readers. */
#include "entries.h"
#include "error.h"
#include "helpers.h"
#include "store.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define VAL_LEN 4000

struct reader {
	struct store *st;
	atomic_int stop;
	long scans;
	long rows;
	int err;
};

/*
 * What the daemon's event loop does while a thread-pool job writes: open
 * a read transaction, walk a table, touch every value. A map unmapped
 * under it would fault or read garbage.
 */
static void *reader_run(void *arg)
{
	struct reader *rd = arg;
	while (!atomic_load(&rd->stop)) {
		struct store_txn *t;
		struct store_cursor *c;
		const void *k, *v;
		size_t kl, vl;
		int r;
		if ((r = store_txn_begin(rd->st, 1, &t)) < 0) {
			rd->err = r;
			return NULL;
		}
		if ((r = store_cursor_open(t, ST_FORKS, &c)) < 0) {
			rd->err = r;
			store_txn_abort(t);
			return NULL;
		}
		for (r = store_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); r == 1;
		     r = store_cursor_next(c, &k, &kl, &v, &vl)) {
			const uint8_t *p = v;
			if (vl != VAL_LEN || p[0] != p[vl - 1]) {
				rd->err = HAMLET_ECORRUPT;
				break;
			}
			rd->rows++;
		}
		store_cursor_close(c);
		store_txn_abort(t);
		if (r < 0)
			rd->err = r;
		if (rd->err)
			return NULL;
		rd->scans++;
	}
	return NULL;
}

/* Write n values in transactions of 50, growing the map when full. */
static int write_values(struct store *st, int n, int *ret_grown)
{
	uint8_t val[VAL_LEN];
	int done = 0, r = 0;
	*ret_grown = 0;
	while (done < n) {
		struct store_txn *t;
		int k;
		if ((r = store_txn_begin(st, 0, &t)) < 0)
			return r;
		for (k = 0; k < 50 && done + k < n && r >= 0; k++) {
			uint8_t key[32] = { 0 };
			store_be64(key, (uint64_t)(done + k) * 2654435761u);
			memset(val, (done + k) & 0xff, sizeof(val));
			r = store_put(t, ST_FORKS, key, sizeof(key), val,
				      sizeof(val), 0);
		}
		if (r >= 0)
			r = store_txn_commit(t);
		else
			store_txn_abort(t);
		if (r == HAMLET_EMAPFULL) {
			if ((r = store_grow(st)) < 0)
				return r;
			++*ret_grown;
			continue; /* the same transaction again */
		}
		if (r < 0)
			return r;
		done += k;
	}
	return 0;
}

/* Fill ST_FORKS with n rows of key be64(i) and 1000 bytes of i. */
static void fill_rows(struct store *st, int n)
{
	static uint8_t val[1000];
	struct store_txn *t;
	ASSERT_OK(store_txn_begin(st, 0, &t));
	for (int i = 0; i < n; i++) {
		uint8_t key[32] = { 0 };
		store_be64(key, (uint64_t)i);
		memset(val, i & 0xff, sizeof(val));
		ASSERT_OK(store_put(t, ST_FORKS, key, sizeof(key), val,
				    sizeof(val), 0));
	}
	ASSERT_OK(store_txn_commit(t));
}

/* Copy file from to to; 0 or -1. */
static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int in = open(from, O_RDONLY), out, r = 0;
	if (in < 0)
		return -1;
	if ((out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0640)) < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			r = -1;
	close(in);
	close(out);
	return n < 0 ? -1 : r;
}

/* store_on_damaged() in the children below: 42 when told of the store
 * expected, 43 of another. */
static const char *damaged_expect;
static void damaged_seen(const char *dir, const char *what)
{
	(void)what;
	_exit(strcmp(dir, damaged_expect) == 0 ? 42 : 43);
}

/* Every row of ST_FORKS read: 0, or the error. */
static int read_all(struct store *s)
{
	struct store_txn *t;
	struct store_cursor *c;
	const void *k, *v;
	size_t kl, vl;
	int r;
	if ((r = store_txn_begin(s, 1, &t)) < 0)
		return r;
	if ((r = store_cursor_open(t, ST_FORKS, &c)) == 0) {
		for (r = store_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl); r == 1;
		     r = store_cursor_next(c, &k, &kl, &v, &vl))
			;
		store_cursor_close(c);
	}
	store_txn_abort(t);
	return r;
}

/* The store in dir opened (readonly or not) and read whole in a child,
 * with store_on_damaged() set: 0 when it opened and read, 1 when the
 * open said HAMLET_ECORRUPT, 42 when the damaged function was told (a
 * read past the end: SIGBUS), 2 for another error, 1000 + a signal. */
static int open_in_child(const char *dir, int readonly)
{
	int status = 0;
	pid_t pid;
	damaged_expect = dir;
	if ((pid = fork()) == 0) {
		struct store_options o = { .readonly = readonly };
		struct store *s;
		int r;
		store_on_damaged(damaged_seen);
		if ((r = store_open(dir, &o, &s)) < 0)
			_exit(r == HAMLET_ECORRUPT ? 1 : 2);
		r = read_all(s);
		store_close(s);
		_exit(r < 0 ? 2 : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status)
				 : 1000 + WTERMSIG(status);
}

/* The last page LMDB's newer meta page counts in dir's data.mdb (the
 * meta after the 16-byte page header: magic, version, address, map size,
 * two table records of 48 bytes, last page, transaction id). */
static uint64_t last_page(const char *dir)
{
	char f[4300];
	uint64_t last[2] = { 0, 0 }, txn[2] = { 0, 0 };
	int fd;
	snprintf(f, sizeof(f), "%s/data.mdb", dir);
	if ((fd = open(f, O_RDONLY)) < 0)
		return 0;
	for (int i = 0; i < 2; i++) {
		(void)!pread(fd, &last[i], 8, i * 4096 + 16 + 24 + 96);
		(void)!pread(fd, &txn[i], 8, i * 4096 + 16 + 24 + 96 + 8);
	}
	close(fd);
	return txn[1] > txn[0] ? last[1] : last[0];
}

/* Zero the leaf page of the store in dir that holds row i of fill_rows():
 * what a power cut can leave of a page. 0, or -1 when none was found. */
static int zero_leaf_of(const char *dir, int i)
{
	char f[4300];
	uint8_t key[32] = { 0 }, page[4096];
	int fd, r = -1;
	snprintf(f, sizeof(f), "%s/data.mdb", dir);
	if ((fd = open(f, O_RDWR)) < 0)
		return -1;
	store_be64(key, (uint64_t)i);
	for (off_t off = 2 * 4096; pread(fd, page, sizeof(page), off) ==
				   (ssize_t)sizeof(page);
	     off += 4096) {
		uint16_t flags = (uint16_t)(page[10] | page[11] << 8);
		if (!(flags & 0x02) || !memmem(page, sizeof(page), key, 32))
			continue; /* not a leaf (P_LEAF), or not its row */
		memset(page, 0, sizeof(page));
		r = pwrite(fd, page, sizeof(page), off) == 4096 ? 0 : -1;
		break;
	}
	close(fd);
	return r;
}

int main(void)
{
	char *dir = th_tmpdir();
	char path[4200];
	struct store *st = NULL;
	struct store_options small = { .map_size = 1 << 20,
				       .map_size_max = 256 << 20 };

	TEST_START("a new store has the current format and empty tables");
	snprintf(path, sizeof(path), "%s/a", dir);
	ASSERT_OK(store_open(path, &small, &st));
	{
		struct store_txn *t;
		uint64_t n = 1;
		const void *v;
		size_t vl;
		ASSERT_OK(store_txn_begin(st, 1, &t));
		ASSERT_OK(store_count(t, ST_RECORDS, &n));
		ASSERT_EQ(n, 0);
		ASSERT_OK(store_get(t, ST_META, "format", 6, &v, &vl));
		ASSERT_EQ(vl, 8);
		ASSERT_EQ(store_get_be64(v), STORE_FORMAT_VERSION);
		ASSERT_EQ(store_get(t, ST_META, "nothing", 7, &v, &vl),
			  HAMLET_ENOTFOUND);
		store_txn_abort(t);
	}

	TEST_START("a new store's data file is 0640 (readers only read it), its lock file 0660");
	{
		struct stat sb;
		char f[4300];
		snprintf(f, sizeof(f), "%s/data.mdb", path);
		ASSERT_EQ(stat(f, &sb), 0);
		ASSERT_EQ(sb.st_mode & 0777, 0640);
		snprintf(f, sizeof(f), "%s/lock.mdb", path);
		ASSERT_EQ(stat(f, &sb), 0);
		ASSERT_EQ(sb.st_mode & 0777, 0660);
	}

	TEST_START("put, get, no-overwrite, delete and ordered cursors");
	{
		struct store_txn *t;
		struct store_cursor *c;
		const void *k, *v;
		size_t kl, vl;
		int r;
		ASSERT_OK(store_txn_begin(st, 0, &t));
		ASSERT_OK(store_put(t, ST_META, "b", 1, "2", 1, 0));
		ASSERT_OK(store_put(t, ST_META, "a", 1, "1", 1, 0));
		ASSERT_EQ(store_put(t, ST_META, "a", 1, "9", 1, STORE_NOOVERWRITE),
			  HAMLET_EDUP);
		ASSERT_OK(store_txn_commit(t));
		ASSERT_OK(store_txn_begin(st, 0, &t));
		ASSERT_OK(store_cursor_open(t, ST_META, &c));
		ASSERT_EQ(store_cursor_seek(c, "a", 1, &k, &kl, &v, &vl), 1);
		ASSERT_TRUE(kl == 1 && memcmp(k, "a", 1) == 0 &&
			    memcmp(v, "1", 1) == 0);
		ASSERT_EQ(store_cursor_next(c, &k, &kl, &v, &vl), 1);
		ASSERT_TRUE(kl == 1 && memcmp(k, "b", 1) == 0);
		store_cursor_close(c);
		ASSERT_OK(store_del(t, ST_META, "a", 1));
		ASSERT_EQ(store_del(t, ST_META, "a", 1), HAMLET_ENOTFOUND);
		r = store_get(t, ST_META, "a", 1, &v, &vl);
		ASSERT_EQ(r, HAMLET_ENOTFOUND);
		store_txn_abort(t); /* the delete is undone */
		ASSERT_OK(store_txn_begin(st, 1, &t));
		ASSERT_OK(store_get(t, ST_META, "a", 1, &v, &vl));
		store_txn_abort(t);
	}

	TEST_START("store_get_le finds the greatest key at or before, and none before the first");
	{
		struct store_txn *t;
		const void *k, *v;
		size_t kl, vl;
		ASSERT_OK(store_txn_begin(st, 0, &t));
		ASSERT_OK(store_put(t, ST_CHANGES, "b", 1, "1", 1, 0));
		ASSERT_OK(store_put(t, ST_CHANGES, "d", 1, "2", 1, 0));
		ASSERT_EQ(store_get_le(t, ST_CHANGES, "a", 1, &k, &kl, &v, &vl), 0);
		ASSERT_EQ(store_get_le(t, ST_CHANGES, "b", 1, &k, &kl, &v, &vl), 1);
		ASSERT_TRUE(kl == 1 && memcmp(k, "b", 1) == 0);
		ASSERT_EQ(store_get_le(t, ST_CHANGES, "c", 1, &k, &kl, &v, &vl), 1);
		ASSERT_TRUE(kl == 1 && memcmp(k, "b", 1) == 0);
		ASSERT_EQ(store_get_le(t, ST_CHANGES, "z", 1, &k, &kl, &v, &vl), 1);
		ASSERT_TRUE(kl == 1 && memcmp(k, "d", 1) == 0);
		store_txn_abort(t);
	}

	TEST_START("two feeds written in turns: each arrival a run, found at every seq");
	{
		struct store_txn *t;
		struct entries_row row;
		uint8_t fa[32], fb[32], id[32] = { 0 }, sig[64] = { 0 };
		uint8_t env[8];
		uint64_t lseq, n, l0 = 0;
		memset(fa, 0xaa, 32);
		memset(fb, 0xbb, 32);
		ASSERT_OK(store_txn_begin(st, 0, &t));
		/* a 1-3, b 1-2, a 4-5, b 3: eight local seqs in a row */
		const struct { const uint8_t *f; uint64_t seq; } w[] = {
			{ fa, 1 }, { fa, 2 }, { fa, 3 }, { fb, 1 },
			{ fb, 2 }, { fa, 4 }, { fa, 5 }, { fb, 3 },
		};
		for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
			memset(env, (int)(0x10 * (w[i].f == fb) + w[i].seq), 8);
			ASSERT_OK(entries_append(t, w[i].f, w[i].seq, NULL, id,
						 env, 8, sig, NULL, 0, &lseq));
			if (i == 0)
				l0 = lseq;
			ASSERT_EQ(lseq, l0 + i);
		}
		ASSERT_OK(store_count(t, ST_SEQS, &n));
		ASSERT_EQ(n, 4); /* a 1-3, b 1-2, a 4-5, b 3 */
		for (uint64_t s = 1; s <= 5; s++) {
			ASSERT_OK(entries_get(t, fa, s, &row));
			ASSERT_EQ(row.env[0], s);
		}
		for (uint64_t s = 1; s <= 3; s++) {
			ASSERT_OK(entries_get(t, fb, s, &row));
			ASSERT_EQ(row.env[0], 0x10 + s);
		}
		ASSERT_OK(entries_lseq(t, fa, 4, &lseq));
		ASSERT_EQ(lseq, l0 + 5);
		ASSERT_EQ(entries_get(t, fa, 6, &row), HAMLET_ENOTFOUND);
		ASSERT_EQ(entries_get(t, fb, 4, &row), HAMLET_ENOTFOUND);
		ASSERT_EQ(entries_get(t, fb, 0, &row), HAMLET_ENOTFOUND);
		memset(fa, 0x01, 32); /* a feed with nothing */
		ASSERT_EQ(entries_get(t, fa, 1, &row), HAMLET_ENOTFOUND);
		store_txn_abort(t);
	}

	TEST_START("appends after a nested transaction was undone continue from what the store holds");
	{
		struct store_txn *t, *c;
		struct entries_row row;
		uint8_t f[32], id[32] = { 0 }, sig[64] = { 0 }, env[8];
		uint64_t lseq, l0, n0, n;
		memset(f, 0xcc, 32);
		ASSERT_OK(store_txn_begin(st, 0, &t));
		ASSERT_OK(store_count(t, ST_SEQS, &n0));
		memset(env, 1, 8);
		ASSERT_OK(entries_append(t, f, 1, NULL, id, env, 8, sig, NULL,
					 0, &l0));
		/* seqs 2 and 3 in a nested transaction, undone */
		ASSERT_OK(store_txn_child(t, &c));
		for (uint64_t s = 2; s <= 3; s++) {
			memset(env, (int)s, 8);
			ASSERT_OK(entries_append(c, f, s, NULL, id, env, 8, sig,
						 NULL, 0, &lseq));
			ASSERT_EQ(lseq, l0 + s - 1);
		}
		store_txn_abort(c);
		ASSERT_EQ(entries_get(t, f, 2, &row), HAMLET_ENOTFOUND);
		/* seq 2 again, other bytes: at the local seq after seq 1, in
		 * seq 1's run */
		memset(env, 0x22, 8);
		ASSERT_OK(entries_append(t, f, 2, NULL, id, env, 8, sig, NULL,
					 0, &lseq));
		ASSERT_EQ(lseq, l0 + 1);
		ASSERT_OK(entries_get(t, f, 2, &row));
		ASSERT_EQ(row.env[0], 0x22);
		ASSERT_EQ(entries_get(t, f, 3, &row), HAMLET_ENOTFOUND);
		/* a nested transaction that commits: its appends count */
		ASSERT_OK(store_txn_child(t, &c));
		memset(env, 0x33, 8);
		ASSERT_OK(entries_append(c, f, 3, NULL, id, env, 8, sig, NULL,
					 0, &lseq));
		ASSERT_OK(store_txn_commit(c));
		ASSERT_EQ(lseq, l0 + 2);
		memset(env, 0x44, 8);
		ASSERT_OK(entries_append(t, f, 4, NULL, id, env, 8, sig, NULL,
					 0, &lseq));
		ASSERT_EQ(lseq, l0 + 3);
		ASSERT_OK(store_count(t, ST_SEQS, &n));
		ASSERT_EQ(n, n0 + 1); /* seqs 1-4, one run */
		for (uint64_t s = 1; s <= 4; s++) {
			ASSERT_OK(entries_lseq(t, f, s, &lseq));
			ASSERT_EQ(lseq, l0 + s - 1);
		}
		store_txn_abort(t);
	}

	TEST_START("a full map is refused whole at its cap, nothing half stored");
	{
		struct store *capped;
		struct store_options cap = { .map_size = 1 << 20,
					     .map_size_max = 1 << 20 };
		int grown = 0;
		uint64_t n = 0;
		struct store_txn *t;
		snprintf(path, sizeof(path), "%s/capped", dir);
		ASSERT_OK(store_open(path, &cap, &capped));
		ASSERT_EQ(write_values(capped, 1000, &grown), HAMLET_EMAPFULL);
		ASSERT_EQ(grown, 0);
		ASSERT_OK(store_txn_begin(capped, 1, &t));
		ASSERT_OK(store_count(t, ST_FORKS, &n));
		store_txn_abort(t);
		ASSERT_EQ(n % 50, 0); /* whole transactions only */
		ASSERT_TRUE(n < 1000);
		store_close(capped);
	}

	TEST_START("the map grows many times while another thread reads without pause");
	{
		struct reader rd = { .st = st };
		pthread_t th;
		int grown = 0;
		uint64_t before = store_map_size(st);
		ASSERT_EQ(pthread_create(&th, NULL, reader_run, &rd), 0);
		ASSERT_OK(write_values(st, 20000, &grown));
		atomic_store(&rd.stop, 1);
		pthread_join(th, NULL);
		ASSERT_OK(rd.err);
		ASSERT_TRUE(grown >= 5); /* 1 MiB to 64 MiB and more */
		ASSERT_TRUE(store_map_size(st) >= before << 5);
		ASSERT_TRUE(rd.scans > 0);
		fprintf(stderr, "   grew %d times to %llu MiB; %ld scans, %ld rows read\n",
			grown, (unsigned long long)(store_map_size(st) >> 20),
			rd.scans, rd.rows);
	}

	TEST_START("a second handle adopts the map the first one grew");
	{
		struct store *b;
		struct store_txn *t;
		uint64_t n = 0;
		snprintf(path, sizeof(path), "%s/a", dir);
		ASSERT_OK(store_open(path, NULL, &b));
		ASSERT_OK(store_txn_begin(b, 1, &t));
		ASSERT_OK(store_count(t, ST_FORKS, &n));
		store_txn_abort(t);
		ASSERT_EQ(n, 20000);
		store_close(b);
	}
	TEST_START("a reader killed while it read does not make the file grow on every write");
	{
		char rpath[4300], data[4400];
		int ready[2];
		char c;
		struct store *w;
		struct stat sb;
		pid_t pid;
		static uint8_t big[64 << 10];

		snprintf(rpath, sizeof(rpath), "%s/killed", dir);
		ASSERT_OK(store_open(rpath, &small, &w));
		ASSERT_OK(pipe(ready));
		if ((pid = fork()) == 0) {
			struct store *r;
			struct store_txn *t;
			/* another process, reading, killed mid-read */
			if (store_open(rpath, NULL, &r) < 0 ||
			    store_txn_begin(r, 1, &t) < 0)
				_exit(1);
			(void)!write(ready[1], "r", 1);
			for (int i = 0; i < 600; i++)
				sleep(1);
			_exit(0);
		}
		ASSERT_TRUE(pid > 0);
		ASSERT_EQ(read(ready[0], &c, 1), 1);
		ASSERT_OK(kill(pid, SIGKILL));
		ASSERT_EQ(waitpid(pid, NULL, 0), pid);
		close(ready[0]);
		close(ready[1]);
		/* 300 writes, each replacing 64 KiB: with the dead reader's
		 * pages kept, the file would pass 19 MiB */
		for (int i = 0; i < 300; i++) {
			struct store_txn *t;
			memset(big, i, sizeof(big));
			ASSERT_OK(store_txn_begin(w, 0, &t));
			ASSERT_OK(store_put(t, ST_META, "big", 3, big,
					    sizeof(big), 0));
			ASSERT_OK(store_txn_commit(t));
		}
		snprintf(data, sizeof(data), "%s/data.mdb", rpath);
		ASSERT_OK(stat(data, &sb));
		fprintf(stderr, "   data.mdb after 300 writes: %lld KiB\n",
			(long long)sb.st_size / 1024);
		ASSERT_TRUE(sb.st_size < (4 << 20));
		store_close(w);
	}

	TEST_START("a store LMDB left shorter than its header counts (free pages it never wrote) opens and reads whole");
	{
		char h[4300], f[4400];
		static uint8_t val[20000];
		struct store *w;
		struct stat sb;
		int found = 0;
		snprintf(h, sizeof(h), "%s/holes", dir);
		snprintf(f, sizeof(f), "%s/data.mdb", h);
		ASSERT_OK(store_open(h, NULL, &w));
		srand(1);
		/* puts and deletes of rows small and large, in transactions
		 * of up to 400, until a commit leaves pages it took and freed
		 * at the end of the file, unwritten */
		for (int round = 0; round < 1000 && !found; round++) {
			struct store_txn *t;
			int ops = rand() % 400;
			ASSERT_OK(store_txn_begin(w, 0, &t));
			for (int o = 0; o < ops; o++) {
				char key[8];
				int op;
				snprintf(key, sizeof(key), "%06d", rand() % 3000);
				op = rand() % 10;
				if (op < 5) {
					size_t len = rand() % 4 == 0
							     ? 4000 + rand() % 16000
							     : 10 + rand() % 1500;
					memset(val, o, len);
					ASSERT_OK(store_put(t, ST_FORKS, key, 6,
							    val, len, 0));
				} else if (op < 9) {
					int r = store_del(t, ST_FORKS, key, 6);
					ASSERT_TRUE(r == 0 || r == HAMLET_ENOTFOUND);
				} else { /* a run of rows from key on */
					struct store_cursor *c;
					const void *k, *v;
					size_t kl, vl;
					int n = rand() % 200;
					ASSERT_OK(store_cursor_open(t, ST_FORKS, &c));
					while (n-- > 0 &&
					       store_cursor_seek(c, key, 6, &k, &kl,
								 &v, &vl) == 1)
						ASSERT_OK(store_cursor_del(c));
					store_cursor_close(c);
				}
			}
			ASSERT_OK(store_txn_commit(t));
			ASSERT_OK(stat(f, &sb));
			found = (uint64_t)sb.st_size / 4096 <= last_page(h);
		}
		store_close(w);
		fprintf(stderr, "   data.mdb %lld bytes, its header counts %llu pages\n",
			(long long)sb.st_size,
			(unsigned long long)last_page(h) + 1);
		ASSERT_TRUE(found);
		ASSERT_EQ(open_in_child(h, 1), 0);
		ASSERT_EQ(open_in_child(h, 0), 0);
	}

	TEST_START("a data file cut short (a copy stopped half-way) is damaged, never a crash");
	{
		char a[4300], cut[4300], f[4400], g[4400];
		struct store *w, *r = NULL;
		struct store_options ro = { .readonly = 1 };
		struct stat sb;
		int status = 0;
		pid_t pid;
		snprintf(a, sizeof(a), "%s/whole", dir);
		snprintf(cut, sizeof(cut), "%s/cut", dir);
		ASSERT_OK(store_open(a, NULL, &w));
		fill_rows(w, 600);
		store_close(w);
		ASSERT_OK(mkdir(cut, 0750));
		snprintf(f, sizeof(f), "%s/data.mdb", a);
		snprintf(g, sizeof(g), "%s/data.mdb", cut);
		ASSERT_OK(copy_file(f, g));
		ASSERT_OK(stat(g, &sb));
		ASSERT_TRUE(sb.st_size > (256 << 10));
		/* a whole copy opens */
		ASSERT_EQ(open_in_child(cut, 1), 0);
		/* cut: LMDB would fault (SIGBUS) at the first page past the
		 * end; the open says so, whether the pages lost are the
		 * tables' or the free list's */
		for (int k = 1; k <= 3; k++) {
			ASSERT_OK(copy_file(f, g));
			ASSERT_OK(truncate(g, sb.st_size * k / 4));
			ASSERT_EQ(open_in_child(cut, 1), 1);
			ASSERT_EQ(open_in_child(cut, 0), 1);
		}

		TEST_START("a read past the end of a file cut short after it opened is told to the store's damaged function, not a bare SIGBUS");
		ASSERT_OK(copy_file(f, g));
		damaged_expect = cut;
		if ((pid = fork()) == 0) {
			struct store *s;
			store_on_damaged(damaged_seen);
			if (store_open(cut, &ro, &s) < 0 ||
			    truncate(g, 4 * 4096) < 0)
				_exit(1);
			_exit(read_all(s) < 0 ? 2 : 3);
		}
		ASSERT_TRUE(pid > 0);
		ASSERT_EQ(waitpid(pid, &status, 0), pid);
		ASSERT_TRUE(WIFEXITED(status));
		ASSERT_EQ(WEXITSTATUS(status), 42);

		TEST_START("an empty data file is damaged to a reader; a writer makes a new store of it, as of a missing one");
		ASSERT_OK(truncate(g, 0));
		ASSERT_EQ(store_open(cut, &ro, &r), HAMLET_ECORRUPT);
		ASSERT_TRUE(r == NULL);
		ASSERT_OK(store_open(cut, NULL, &r));
		store_close(r);
		r = NULL;
		ASSERT_OK(store_open(cut, &ro, &r));
		store_close(r);
	}

	TEST_START("a zeroed page the library asserts on is told to the store's damaged function, with the store's directory");
	{
		char z[4300];
		struct store *w;
		int status = 0;
		pid_t pid;
		snprintf(z, sizeof(z), "%s/zeroed", dir);
		ASSERT_OK(store_open(z, NULL, &w));
		fill_rows(w, 600);
		store_close(w);
		ASSERT_OK(zero_leaf_of(z, 300));
		damaged_expect = z;
		if ((pid = fork()) == 0) {
			struct store_options ro = { .readonly = 1 };
			struct store *r;
			struct store_txn *t;
			struct store_cursor *c;
			const void *k, *v;
			size_t kl, vl;
			int g;
			store_on_damaged(damaged_seen);
			if (store_open(z, &ro, &r) < 0 ||
			    store_txn_begin(r, 1, &t) < 0 ||
			    store_cursor_open(t, ST_FORKS, &c) < 0)
				_exit(1);
			for (g = store_cursor_seek(c, NULL, 0, &k, &kl, &v, &vl);
			     g == 1; g = store_cursor_next(c, &k, &kl, &v, &vl))
				;
			_exit(g == 0 ? 2 : 3); /* walked past the page */
		}
		ASSERT_TRUE(pid > 0);
		ASSERT_EQ(waitpid(pid, &status, 0), pid);
		ASSERT_TRUE(WIFEXITED(status));
		ASSERT_EQ(WEXITSTATUS(status), 42);
	}

	store_close(st);
	th_rmrf(dir);
	free(dir);
	TEST_DONE();
}
