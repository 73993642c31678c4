#include "node_internal.h"
#include "why.h"

#include "hlc.h"
#include "homefile.h"
#include "scopemap.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* libsodium must be initialised before sodium_malloc and randombytes;
 * every entry point of this module that needs either calls this. */
int node__crypto_ready(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}

void hex_encode(const uint8_t *p, size_t n, char *out)
{
	sodium_bin2hex(out, 2 * n + 1, p, n);
}

int hex_decode(const char *hex, uint8_t *out, size_t n)
{
	size_t got;
	if (strlen(hex) != 2 * n)
		return HAMLET_EFORMAT;
	if (sodium_hex2bin(out, n, hex, 2 * n, NULL, &got, NULL) != 0 ||
	    got != n)
		return HAMLET_EFORMAT;
	return 0;
}

void network_id_compute(const uint8_t root_pk[32], const char *name,
			uint8_t ret[32])
{
	crypto_generichash_blake2b_state h;
	crypto_generichash_blake2b_init(&h, NULL, 0, 32);
	crypto_generichash_blake2b_update(&h, (const uint8_t *)"hamlet/network/v1",
					  17);
	crypto_generichash_blake2b_update(&h, root_pk, 32);
	crypto_generichash_blake2b_update(&h, (const uint8_t *)name,
					  strlen(name));
	crypto_generichash_blake2b_final(&h, ret, 32);
}

void network_key_check(const uint8_t id[32], const uint8_t key[32],
		       uint8_t ret[NETWORK_KEY_CHECK_LEN])
{
	crypto_generichash_blake2b_state h;
	uint8_t out[32];

	crypto_generichash_blake2b_init(&h, NULL, 0, sizeof(out));
	crypto_generichash_blake2b_update(
		&h, (const uint8_t *)"hamlet/network-key/v1", 21);
	crypto_generichash_blake2b_update(&h, id, 32);
	crypto_generichash_blake2b_update(&h, key, 32);
	crypto_generichash_blake2b_final(&h, out, sizeof(out));
	memcpy(ret, out, NETWORK_KEY_CHECK_LEN);
	sodium_memzero(&h, sizeof(h));
}

int node_name_check(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > NODE_MAX_NAME)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return -EINVAL;
	}
	return 0;
}

/* Makes the directories above path that are missing, as mkdir -p does
 * (0755 less the umask; the home itself is made 0700 by its caller):
 * "hamlet --home /srv/hamlet/na-pai init" on a fresh machine. */
static int mkdir_parents(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf)) {
		errno = n ? ENAMETOOLONG : ENOENT;
		return -1;
	}
	memcpy(buf, path, n + 1);
	while (n > 1 && buf[n - 1] == '/') /* "a/b/": b is the home */
		buf[--n] = '\0';
	for (size_t i = 1; i < n; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -1;
		buf[i] = '/';
	}
	return 0;
}

char *node__path_join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", a, b);
	return p;
}

/* Why the store in dir (of the node in home) cannot be opened: a file
 * of it that is not the home's user's (put back from a backup as root),
 * or else who may open it. */
static void store_denied_why(const char *home, const char *dir, char *why,
			     size_t whylen)
{
	static const char *const names[] = { "", "/data.mdb", "/lock.mdb" };
	struct stat hs, fs;
	char f[4200];

	for (size_t i = 0; stat(home, &hs) == 0 && i < 3; i++) {
		snprintf(f, sizeof(f), "%s%s", dir, names[i]);
		if (stat(f, &fs) != 0 || fs.st_uid == hs.st_uid)
			continue;
		why_set(why, whylen,
			 N_("cannot open the store in %s: permission denied: %s belongs to user id %u, not to user id %u, who owns the node's directory (copied back from a backup as root?): give the store back to the node's user (as root: chown -R --reference=%s %s), then start again"),
			 dir, f, (unsigned)fs.st_uid, (unsigned)hs.st_uid,
			 home, dir);
		return;
	}
	/* this user owns them, and one's mode keeps it out */
	for (size_t i = 0; i < 3; i++) {
		snprintf(f, sizeof(f), "%s%s", dir, names[i]);
		if (stat(f, &fs) != 0 || fs.st_uid != geteuid() ||
		    access(f, i == 0 ? R_OK | W_OK | X_OK : R_OK | W_OK) == 0)
			continue;
		why_set(why, whylen,
			 N_("cannot open the store in %s: permission denied: %s belongs to this user, but its mode (%04o) does not let it read and write it: give the mode back (chmod u+rw%s %s), then start again"),
			 dir, f, (unsigned)(fs.st_mode & 07777),
			 i == 0 ? "x" : "", f);
		return;
	}
	why_set(why, whylen,
		 N_("cannot open the store in %s: permission denied: run hamlet as the user that owns the node's directory (sudo -u hamlet hamlet ...), or as one in its group"),
		 dir);
}

/* Write a whole file atomically (a temporary file, fsync, rename) with
 * the given mode. */
int node__write_bytes(const char *path, const uint8_t *buf, size_t len,
		      mode_t mode)
{
	char tmp[4096];
	int fd, r = 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	/* made anew, never through a link left at its name: as root, in a
	 * home another user owns, that would write (and give) the file the
	 * link names */
	if (unlink(tmp) != 0 && errno != ENOENT)
		return -errno; /* a directory there, say: named as it is */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  mode);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) != 0)
		r = -errno;
	homefile_own(fd, path);
	/* a disk that fills part-way through takes some bytes, then none
	 * (ENOSPC): never rename a file cut short into place */
	for (size_t o = 0; r == 0 && o < len;) {
		ssize_t k = write(fd, buf + o, len - o);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			r = k < 0 ? -errno : -EIO;
		else
			o += (size_t)k;
	}
	if (r == 0 && fsync(fd) != 0)
		r = -errno;
	close(fd);
	/* the directory is synced by the callers that write once
	 * (homefile_dir_sync()), not here: own-feeds is written at every local
	 * write, after the store's commit, and a rename a power cut loses
	 * leaves the seq before, which the store's own head raises again
	 * when the node opens (feeds_merge_store()); a sync of the
	 * directory would cost every write one more journal commit */
	if (r == 0 && rename(tmp, path) != 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

/* node__write_bytes() of text; refuses to replace an existing file when
 * excl. */
static int write_file(const char *path, const char *text, mode_t mode,
		      int excl)
{
	int r;

	if (excl && access(path, F_OK) == 0)
		return -EEXIST;
	/* written once (init): the name made durable too, or a power cut
	 * right after could lose node.key */
	if ((r = node__write_bytes(path, (const uint8_t *)text, strlen(text),
				   mode)) == 0)
		homefile_dir_sync(path);
	return r;
}

int network_create(const char *name, const char *dir, struct network_info *ret,
		   char *why, size_t whylen)
{
	uint8_t *sk = node__crypto_ready() < 0 ? NULL : sodium_malloc(64);
	char *netpath = NULL, *keypath = NULL;
	char text[1024], idhex[65], pkhex[65], keyhex[65], skhex[129];
	char kchex[2 * NETWORK_KEY_CHECK_LEN + 1];
	uint8_t kc[NETWORK_KEY_CHECK_LEN];
	struct network_info ni;
	int r;

	if (!sk)
		return -ENOMEM;
	if (node_name_check(name) < 0) {
		why_set(why, whylen,
			 N_("network name \"%s\" is invalid: use 1-64 of a-z, 0-9 and '-'"),
			 name);
		r = -EINVAL;
		goto out;
	}
	memset(&ni, 0, sizeof(ni));
	snprintf(ni.name, sizeof(ni.name), "%s", name);
	crypto_sign_keypair(ni.root_pk, sk);
	randombytes_buf(ni.key, 32);
	network_id_compute(ni.root_pk, name, ni.id);
	netpath = malloc(strlen(dir) + strlen(name) + 16);
	keypath = malloc(strlen(dir) + strlen(name) + 16);
	if (!netpath || !keypath) {
		r = -ENOMEM;
		goto out;
	}
	sprintf(netpath, "%s/%s.network", dir, name);
	sprintf(keypath, "%s/%s.root.key", dir, name);
	if (access(netpath, F_OK) == 0 || access(keypath, F_OK) == 0) {
		why_set(why, whylen,
			 N_("%s or %s already exists; refusing to replace a network"),
			 netpath, keypath);
		r = -EEXIST;
		goto out;
	}
	hex_encode(ni.id, 32, idhex);
	hex_encode(ni.root_pk, 32, pkhex);
	hex_encode(ni.key, 32, keyhex);
	hex_encode(sk, 64, skhex);
	network_key_check(ni.id, ni.key, kc);
	hex_encode(kc, sizeof(kc), kchex);
	snprintf(text, sizeof(text),
		 "# hamlet network file. It holds the network key: give it only to member nodes.\n"
		 "[network]\nname = %s\nid = %s\nroot_public_key = %s\nkey = %s\nkey_check = %s\n",
		 name, idhex, pkhex, keyhex, kchex);
	if ((r = write_file(netpath, text, 0600, 1)) < 0) {
		why_set(why, whylen, N_("cannot write %s: %s"), netpath,
			 strerror(-r));
		goto out;
	}
	snprintf(text, sizeof(text),
		 "# hamlet network root key. Keep it offline; it signs certificates.\n"
		 "[root]\nnetwork = %s\nnetwork_id = %s\nsecret_key = %s\n",
		 name, idhex, skhex);
	r = write_file(keypath, text, 0600, 1);
	if (r < 0) {
		why_set(why, whylen, N_("cannot write %s: %s"), keypath,
			 strerror(-r));
		unlink(netpath);
		goto out;
	}
	if (ret)
		*ret = ni;
	r = 0;
out:
	/* the network key (ni, keyhex, the network file's text) and the
	 * root key (sk, skhex, the root key file's text) */
	sodium_memzero(text, sizeof(text));
	sodium_memzero(keyhex, sizeof(keyhex));
	sodium_memzero(skhex, sizeof(skhex));
	sodium_memzero(&ni, sizeof(ni));
	sodium_free(sk);
	free(netpath);
	free(keypath);
	return r;
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	FILE *f = fopen(from, "rb");
	char buf[8192];
	size_t n;
	int r;
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	r = write_file(to, buf, mode, 0);
	sodium_memzero(buf, sizeof(buf));
	return r;
}

/* The store judges entries by this network's root (trustset.h). */
static int root_keep(struct store *st, const uint8_t root[32])
{
	struct store_txn *t;
	uint8_t have[32];
	int r;

	if ((r = store_txn_begin(st, 1, &t)) < 0)
		return r;
	r = trustset_root_get(t, have);
	store_txn_abort(t);
	if (r == 0 && memcmp(have, root, 32) == 0)
		return 0;
	if (r < 0 && r != HAMLET_ENOTFOUND)
		return r;
	if ((r = store_txn_begin(st, 0, &t)) < 0)
		return r;
	if ((r = trustset_root_set(t, root)) < 0) {
		store_txn_abort(t);
		return r;
	}
	return store_txn_commit(t);
}

int node_init(const char *home, const char *network_file, const char *name,
	      const char *scope, char *why, size_t whylen)
{
	struct network_info ni;
	uint8_t pk[32], *sk = node__crypto_ready() < 0 ? NULL
						       : sodium_malloc(64);
	char *p = NULL, text[1024], pkhex[65], skhex[129];
	struct store *st = NULL;
	int r;

	if (!sk)
		return -ENOMEM;
	if ((r = network_load(network_file, &ni, why, whylen)) < 0)
		goto out;
	if (node_name_check(name) < 0) {
		why_set(why, whylen,
			 N_("node name \"%s\" is invalid: use 1-64 of a-z, 0-9 and '-'"),
			 name);
		r = -EINVAL;
		goto out;
	}
	if (entry_scope_check(scope) < 0) {
		why_set(why, whylen,
			 N_("scope \"%s\" is invalid: use lower-case segments like province/district/commune/village"),
			 scope);
		r = HAMLET_ESCOPE;
		goto out;
	}
	if (mkdir_parents(home) != 0 ||
	    (mkdir(home, 0700) != 0 && errno != EEXIST)) {
		r = -errno;
		why_set(why, whylen, N_("cannot create %s: %s"), home,
			 strerror(errno));
		goto out;
	}
	if (!(p = node__path_join(home, "node.key"))) {
		r = -ENOMEM;
		goto out;
	}
	if (access(p, F_OK) == 0) {
		why_set(why, whylen,
			 N_("%s already holds a node; refusing to replace its key"),
			 home);
		r = -EEXIST;
		goto out;
	}
	crypto_sign_keypair(pk, sk);
	hex_encode(sk, 64, skhex);
	snprintf(text, sizeof(text),
		 "# hamlet node secret key: never copy it to another machine.\n"
		 "[key]\nsecret_key = %s\n",
		 skhex);
	r = write_file(p, text, 0600, 1);
	sodium_memzero(text, sizeof(text));
	if (r < 0)
		goto io;
	free(p);
	hex_encode(pk, 32, pkhex);
	snprintf(text, sizeof(text),
		 "[node]\nname = %s\nscope = %s\npublic_key = %s\n", name,
		 scope, pkhex);
	if (!(p = node__path_join(home, "node.conf"))) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = write_file(p, text, 0644, 0)) < 0)
		goto io;
	free(p);
	if (!(p = node__path_join(home, "network.conf"))) {
		r = -ENOMEM;
		goto out;
	}
	/* the network key is shared by every node of the network; the
	 * node's group (its operators) may read it, node.key stays private */
	if ((r = copy_file(network_file, p, 0640)) < 0)
		goto io;
	free(p);
	/* what it signs, kept outside the store from the start */
	if ((r = node__feeds_create(home, pk)) < 0) {
		p = node__path_join(home, NODE_FEEDS_FILE);
		goto io;
	}
	if (!(p = node__path_join(home, "store"))) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = store_open(p, NULL, &st)) < 0) {
		why_set(why, whylen, N_("cannot create the store in %s: %s"), p,
			 why_translate(hamlet_strerror(r)));
		goto out;
	}
	r = root_keep(st, ni.root_pk);
	store_close(st);
	if (r < 0) {
		why_set(why, whylen, N_("cannot write the store in %s: %s"), p,
			 why_translate(hamlet_strerror(r)));
		goto out;
	}
	r = 0;
	goto out;
io:
	why_set(why, whylen, N_("cannot write %s: %s"), p, strerror(-r));
out:
	sodium_memzero(skhex, sizeof(skhex));
	sodium_memzero(&ni, sizeof(ni));
	sodium_free(sk);
	free(p);
	return r;
}

int node_key_loose(const char *home, char *why, size_t whylen)
{
	char p[4200];
	struct stat st;

	if ((size_t)snprintf(p, sizeof(p), "%s/node.key", home) >=
		    sizeof(p) ||
	    stat(p, &st) < 0 || !(st.st_mode & 077))
		return 0;
	why_set(why, whylen,
		N_("%s is mode %04o: users of this PC other than the node's own can read it, copy this node's secret key and sign as this node: make it the node's user's alone (chmod 600 %s)"),
		p, (unsigned)(st.st_mode & 07777), p);
	return 1;
}

int node_open(const char *home, int readonly, struct node **ret, char *why,
	      size_t whylen)
{
	static const char *const node_keys[] = { "name", "scope", "public_key",
						 NULL };
	static const char *const key_keys[] = { "secret_key", NULL };
	char *nv[3] = { 0 }, *kv[1] = { 0 };
	int nl[3] = { 0 }; /* node.conf's line of each of nv */
	struct node *n = calloc(1, sizeof(*n));
	char *p = NULL;
	int r;

	if (!n || node__crypto_ready() < 0 ||
	    pthread_mutex_init(&n->grant_mu, NULL) != 0) {
		free(n);
		return -ENOMEM;
	}
	n->home = strdup(home);
	n->sk = sodium_malloc(64);
	if (!n->home || !n->sk) {
		r = -ENOMEM;
		goto fail;
	}
	if (!(p = node__path_join(home, "node.conf"))) {
		r = -ENOMEM;
		goto fail;
	}
	{
		struct stat hs;
		if (stat(home, &hs) == 0 && !S_ISDIR(hs.st_mode)) {
			why_set(why, whylen,
				 N_("%s is not a directory: --home names a node's directory"),
				 home);
			r = -ENOTDIR;
			goto fail;
		}
	}
	if (access(p, F_OK) != 0 && errno == ENOENT) {
		char *k = node__path_join(home, "node.key");
		int has_key = k && access(k, F_OK) == 0;
		free(k);
		if (has_key)
			why_set(why, whylen,
				 N_("%s holds a node's key (node.key) but no node.conf: restore node.conf from a backup of %s, or move node.key aside for \"hamlet init\" to make a new node"),
				 home, home);
		else
			why_set(why, whylen,
				 N_("no node in %s: if this node's files are in another directory, give it with --home DIR (or HAMLET_HOME=DIR); to make a new node here, run \"hamlet --home %s init --network FILE --scope SCOPE\" (SCOPE: where the node sits, like bk/bach-thong/quang-thuan/na-pai)"),
				 home, home);
		r = -ENOENT;
		goto fail;
	}
	if (access(p, R_OK) != 0) {
		r = -errno;
		why_set(why, whylen,
			 N_("cannot read %s: %s (a node's operators are members of the group that owns its directory)"),
			 p, strerror(errno));
		goto fail;
	}
	if ((r = node__ini_read(p, "node", node_keys, nv, nl, why, whylen)) < 0)
		goto fail;
	free(p);
	if (node_name_check(nv[0]) < 0 || entry_scope_check(nv[1]) < 0 ||
	    hex_decode(nv[2], n->pk, 32) < 0) {
		if (node_name_check(nv[0]) < 0)
			why_set(why, whylen,
				 N_("%s/node.conf line %d: name \"%.64s\" is not a node name (1-64 of a-z, 0-9 and '-')"),
				 home, nl[0], nv[0]);
		else if (entry_scope_check(nv[1]) < 0)
			why_set(why, whylen,
				 N_("%s/node.conf line %d: scope \"%.140s\" is not a scope (1-8 parts of a-z, 0-9 and '-', joined by '/')"),
				 home, nl[1], nv[1]);
		else
			why_set(why, whylen,
				 N_("%s/node.conf line %d: public_key is not 64 hexadecimal digits"),
				 home, nl[2]);
		r = HAMLET_ECONFIG;
		p = NULL;
		goto fail;
	}
	snprintf(n->name, sizeof(n->name), "%s", nv[0]);
	snprintf(n->scope, sizeof(n->scope), "%s", nv[1]);
	if (!(p = node__path_join(home, "node.key"))) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = node__ini_read(p, "key", key_keys, kv, NULL, why, whylen)) < 0) {
		struct stat ks, hs;
		if (r == -EACCES && !readonly && stat(p, &ks) == 0 &&
		    stat(home, &hs) == 0 && ks.st_uid != hs.st_uid &&
		    geteuid() == hs.st_uid)
			/* the node's user (hamletd's, say) locked out of its
			 * own key: not who should write, but whose file */
			why_set(why, whylen,
				 N_("cannot read %s: permission denied: it belongs to user id %u, not to user id %u, who owns the node's directory (copied back from a backup as root?): give it back to the node's user (as root: chown --reference=%s %s; it stays mode 0600), then start again"),
				 p, (unsigned)ks.st_uid, (unsigned)hs.st_uid,
				 home, p);
		else if (r == -EACCES && !readonly)
			why_set(why, whylen,
				 N_("cannot read %s: only the node's user may sign; write while hamletd runs (it signs), or as that user"),
				 p);
		if ((r != -ENOENT && r != -EACCES) || !readonly)
			goto fail;
		/* read-only work (an auditor's copy) needs no secret key */
		sodium_memzero(n->sk, 64);
		why[0] = 0;
	} else {
		uint8_t pk2[32];
		if (hex_decode(kv[0], n->sk, 64) < 0) {
			why_set(why, whylen, N_("%s: secret_key is not 128 hex digits"),
				 p);
			r = HAMLET_EKEY;
			goto fail;
		}
		uint8_t sk2[64];
		/* the key its seed makes, not only the one it carries:
		 * what it signs verifies, and is stored unchecked */
		crypto_sign_seed_keypair(pk2, sk2, n->sk);
		sodium_memzero(sk2, sizeof(sk2));
		if (memcmp(pk2, n->pk, 32) != 0 ||
		    memcmp(n->sk + 32, n->pk, 32) != 0) {
			why_set(why, whylen,
				 N_("%s does not belong to the public key in node.conf"),
				 p);
			r = HAMLET_EKEY;
			goto fail;
		}
	}
	free(p);
	if (!(p = node__path_join(home, "network.conf"))) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = network_load(p, &n->net, why, whylen)) < 0)
		goto fail;
	free(p);
	if (!(p = node__path_join(home, "store"))) {
		r = -ENOMEM;
		goto fail;
	}
	{
		struct store_options o = { .readonly = readonly };
		if ((r = store_open(p, &o, &n->st)) < 0) {
			if (r == HAMLET_EVERSION)
				why_set(why, whylen,
					N_("cannot open the store in %s: %s (it was written in another store format; this hamlet reads format %d: move the store aside, and the node fills a new one from its peers or a bundle)"),
					p, why_translate(hamlet_strerror(r)),
					STORE_FORMAT_VERSION);
			else if (r == HAMLET_ECORRUPT)
				why_set(why, whylen,
					N_("the store in %s is DAMAGED: its files do not read (data.mdb cut short or empty, as a copy that stopped half-way or a power cut leaves it, or its header damaged): with hamletd stopped, move the store aside and restore it from a peer or a backup (operator guide, \"Checking\")"),
					p);
			else if (r == -EROFS)
				why_set(why, whylen,
					N_("cannot open the store in %s: the file system holding it is read-only (Linux makes it so after a disk error): check the disk (dmesg, fsck) and make it writable again (mount -o remount,rw); status still works meanwhile, and so do reads of payments and registrations; a read of health data waits too, as it is logged (HOME/access) before it is shown"),
					p);
			else if (r == -EACCES)
				store_denied_why(home, p, why, whylen);
			else if (r == -ENOENT && readonly)
				/* a reader makes no store (a writer does): a
				 * new node, or one whose store was moved
				 * aside to be filled again */
				why_set(why, whylen,
					N_("this node has no store yet (%s is missing: never made, or moved aside): start hamletd, which makes a new one and fills it from its peers, or import a bundle made for this node (hamlet bundle import FILE)"),
					p);
			else
				why_set(why, whylen,
					N_("cannot open the store in %s: %s"),
					p, why_translate(hamlet_strerror(r)));
			goto fail;
		}
	}
	free(p);
	p = NULL;
	if (!readonly && ((r = root_keep(n->st, n->net.root_pk)) < 0 ||
			  (r = node_trust_seed(n)) < 0)) {
		why_set(why, whylen, N_("cannot write the store in %s/store: %s"),
			 home, why_translate(hamlet_strerror(r)));
		goto fail;
	}
	/* an erasure whose rewrite of the store did not finish: now; and
	 * records an earlier release made of their erasures alone, once */
	if (!readonly) {
		log_compact_pending(n->st);
		log_erased_alone_upgrade(n->st);
	}
	/* what it signed before: a store restored or moved aside since must
	 * not sign those seqs again */
	if ((r = node__feeds_open(n, readonly)) < 0)
		goto fail;
	node__ini_free(nv, 3);
	node__ini_free(kv, 1);
	node_grant_refresh(n);
	node_scopes_refresh(n);
	*ret = n;
	return 0;
fail:
	free(p);
	node__ini_free(nv, 3);
	node__ini_free(kv, 1);
	node_close(n);
	return r;
}

void node_close(struct node *n)
{
	if (!n)
		return;
	store_close(n->st);
	node__feeds_close(n->feeds);
	if (n->sk)
		sodium_free(n->sk); /* sodium_free wipes */
	sodium_memzero(&n->net, sizeof(n->net));
	free(n->grant);
	pthread_mutex_destroy(&n->grant_mu);
	scopemap_free(n->smap);
	free(n->home);
	free(n);
}

void node_author(const struct node *n, struct log_author *ret)
{
	ret->pk = n->pk;
	ret->sk = n->sk;
	ret->network_id = n->net.id;
	ret->scope = n->scope;
	ret->grant = n->grant;
	ret->revoked = n->revoked[0] ? n->revoked : NULL;
	ret->map = n->smap;
	ret->floors = node__feeds_floors(n->feeds);
}

void node_scopes_refresh(struct node *n)
{
	struct store_txn *t;
	struct scopemap *m = NULL;

	if (store_txn_begin(n->st, 1, &t) < 0)
		return; /* keep what it had */
	if (scopemap_load(t, &m) == 0) {
		scopemap_free(n->smap);
		n->smap = m;
	}
	store_txn_abort(t);
}

void node_grant_refresh(struct node *n)
{
	struct cert_chain *ch = malloc(sizeof(*ch));
	struct cert *g = NULL, *old;
	char why[1024], revoked[sizeof(n->revoked)] = "";
	int r;

	/* read outside the lock (the file, the trust set), swapped in
	 * under it: a reader elsewhere sees the old one or the new one.
	 * Out of memory, the old one stays */
	if (!ch)
		return;
	r = node_cert_load(n, hlc_wall_ms(), ch, NULL, NULL, why, sizeof(why));
	if (r == 0 && !(g = malloc(sizeof(*g)))) {
		free(ch);
		return;
	}
	if (g)
		*g = ch->c[0];
	if (r == HAMLET_EREVOKED)
		snprintf(revoked, sizeof(revoked), "%s", why);
	free(ch);
	pthread_mutex_lock(&n->grant_mu);
	old = n->grant;
	n->grant = g;
	memcpy(n->revoked, revoked, sizeof(revoked));
	pthread_mutex_unlock(&n->grant_mu);
	free(old);
}

int node_grant_copy(const struct node *n, struct cert *ret)
{
	pthread_mutex_t *mu = (pthread_mutex_t *)&n->grant_mu;
	int has;

	pthread_mutex_lock(mu);
	if ((has = n->grant != NULL))
		*ret = *n->grant;
	pthread_mutex_unlock(mu);
	return has;
}

int node_revoked(const struct node *n)
{
	pthread_mutex_t *mu = (pthread_mutex_t *)&n->grant_mu;
	int r;

	pthread_mutex_lock(mu);
	r = n->revoked[0] != 0;
	pthread_mutex_unlock(mu);
	return r;
}
