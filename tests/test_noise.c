/*
 * Tests for proto/noise: every Noise_XX and Noise_XXpsk3 (25519, ChaChaPoly,
 * BLAKE2b) vector in $HAMLET_VECTORS/noise/subset, then the negative cases:
 * wrong PSK, wrong prologue, tampered, truncated and oversized messages,
 * messages out of turn, replayed and reordered transport messages, nonce
 * exhaustion, low-order keys, and Ed25519 identities as static keys.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "error.h"
#include "noise.h"
#include "testlib.h"

#define XX_NAME "Noise_XX_25519_ChaChaPoly_BLAKE2b"
#define XXPSK3_NAME "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b"
#define XXPSK0_NAME "Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b"
#define VEC_MAX_MSGS 32
#define BUF_LEN (NOISE_MAX_MSG + 64)

static uint8_t buf_a[BUF_LEN], buf_b[BUF_LEN], buf_c[BUF_LEN];

/* ------------------------------------------------------------------------
 * One vector, whatever file it came from
 */

struct vec_msg {
	uint8_t *payload;
	size_t payload_len;
	uint8_t *ct;
	size_t ct_len;
	int has_payload, has_ct;
};

struct vec {
	char label[160];
	int psk_mode;
	int psk_pos; /* with psk_mode: 3, or 0 */
	int initiator_sends_odd; /* transport message 3 is the initiator's */
	uint8_t *prologue;
	size_t prologue_len;
	uint8_t init_static[32], resp_static[32];
	uint8_t init_eph[32], resp_eph[32];
	uint8_t psk[32];
	int has_init_static, has_resp_static, has_init_eph, has_resp_eph;
	int has_psk, has_hash;
	uint8_t hash[64];
	size_t nmsg;
	struct vec_msg msgs[VEC_MAX_MSGS];
};

static void vec_clear(struct vec *v)
{
	size_t i;

	free(v->prologue);
	for (i = 0; i < VEC_MAX_MSGS; i++) {
		free(v->msgs[i].payload);
		free(v->msgs[i].ct);
	}
	memset(v, 0, sizeof(*v));
}

/* Decode hex of any even length into a new buffer the caller frees. */
static void unhex_alloc(const char *hex, uint8_t **ret, size_t *ret_len)
{
	size_t n = strlen(hex);
	uint8_t *p;

	if (n % 2)
		TEST_FAIL_("odd-length hex \"%.40s\"", hex);
	p = malloc(n / 2 + 1);
	ASSERT_TRUE(p != NULL);
	if (test_unhex(hex, p, n / 2) < 0)
		TEST_FAIL_("bad hex \"%.40s\"", hex);
	*ret = p;
	*ret_len = n / 2;
}

static void unhex_fixed(const char *hex, uint8_t *out, size_t len)
{
	if (test_unhex(hex, out, len) < 0)
		TEST_FAIL_("expected %zu bytes of hex, got \"%.80s\"", len,
			   hex);
}

/*
 * Run v through an initiator and a responder. In the handshake, message i
 * is sent by the initiator when i is even. After it, directions keep
 * alternating, but the files disagree on who starts (see the vectors
 * README): in cacophony, snow and noise-c message i is still the
 * initiator's when i is even, so message 3 is the responder's; in flynn
 * the initiator sends message 3 with its first CipherState.
 */
static void vec_run(const struct vec *v)
{
	struct noise_hs *ini = NULL, *resp = NULL;
	struct noise_cipher i_send, i_recv, r_send, r_recv;
	uint8_t pub[32], got[32], h_i[64], h_r[64];
	size_t i, len;

	TEST_START(v->label);
	ASSERT_TRUE(v->has_init_static && v->has_resp_static);
	ASSERT_TRUE(v->has_init_eph && v->has_resp_eph);
	ASSERT_EQ(v->has_psk, v->psk_mode);
	ASSERT_TRUE(v->nmsg >= 3);

	ASSERT_OK(noise_hs_new_psk(1, v->prologue, v->prologue_len,
				   v->init_static, v->psk_mode ? v->psk : NULL,
				   v->psk_pos, v->init_eph, &ini));
	ASSERT_OK(noise_hs_new_psk(0, v->prologue, v->prologue_len,
				   v->resp_static, v->psk_mode ? v->psk : NULL,
				   v->psk_pos, v->resp_eph, &resp));

	for (i = 0; i < 3; i++) {
		const struct vec_msg *m = &v->msgs[i];
		struct noise_hs *from = i % 2 == 0 ? ini : resp;
		struct noise_hs *to = i % 2 == 0 ? resp : ini;

		ASSERT_TRUE(m->has_payload && m->has_ct);
		ASSERT_EQ(noise_hs_is_finished(from), 0);
		ASSERT_OK(noise_hs_write_message(from, m->payload,
						 m->payload_len, buf_a,
						 sizeof(buf_a), &len));
		ASSERT_EQ(len, m->ct_len);
		ASSERT_MEMEQ(buf_a, m->ct, len);
		ASSERT_OK(noise_hs_read_message(to, buf_a, len, buf_b,
						sizeof(buf_b), &len));
		ASSERT_EQ(len, m->payload_len);
		ASSERT_MEMEQ(buf_b, m->payload, len);
	}
	ASSERT_EQ(noise_hs_is_finished(ini), 1);
	ASSERT_EQ(noise_hs_is_finished(resp), 1);

	/* Each side learned the other's static public key. */
	ASSERT_EQ(crypto_scalarmult_base(pub, v->resp_static), 0);
	ASSERT_OK(noise_hs_remote_static(ini, got));
	ASSERT_MEMEQ(got, pub, 32);
	ASSERT_EQ(crypto_scalarmult_base(pub, v->init_static), 0);
	ASSERT_OK(noise_hs_remote_static(resp, got));
	ASSERT_MEMEQ(got, pub, 32);

	ASSERT_OK(noise_hs_handshake_hash(ini, h_i));
	ASSERT_OK(noise_hs_handshake_hash(resp, h_r));
	ASSERT_MEMEQ(h_i, h_r, 64);
	if (v->has_hash)
		ASSERT_MEMEQ(h_i, v->hash, 64);

	ASSERT_OK(noise_hs_split(ini, &i_send, &i_recv));
	ASSERT_OK(noise_hs_split(resp, &r_send, &r_recv));
	noise_hs_free(ini);
	noise_hs_free(resp);

	for (i = 3; i < v->nmsg; i++) {
		const struct vec_msg *m = &v->msgs[i];
		int from_init = (int)(i % 2) == v->initiator_sends_odd;
		struct noise_cipher *send = from_init ? &i_send : &r_send;
		struct noise_cipher *recv = from_init ? &r_recv : &i_recv;

		ASSERT_TRUE(m->has_payload && m->has_ct);
		ASSERT_EQ(m->ct_len, m->payload_len + NOISE_TAG_LEN);
		ASSERT_OK(noise_cipher_encrypt(send, NULL, 0, m->payload,
					       m->payload_len, buf_a));
		ASSERT_MEMEQ(buf_a, m->ct, m->ct_len);
		ASSERT_OK(noise_cipher_decrypt(recv, NULL, 0, m->ct, m->ct_len,
					       buf_b));
		ASSERT_MEMEQ(buf_b, m->payload, m->payload_len);
	}
	noise_cipher_wipe(&i_send);
	noise_cipher_wipe(&i_recv);
	noise_cipher_wipe(&r_send);
	noise_cipher_wipe(&r_recv);
}

/* ------------------------------------------------------------------------
 * Vector files
 */

struct file_count {
	const char *file;
	int xx, xxpsk3;
	int want_xx, want_xxpsk3;
	int xxpsk0, want_xxpsk0;
};

static void vectors_path(char *out, size_t cap, const char *file)
{
	const char *dir = getenv("HAMLET_VECTORS");

	if (!dir || !*dir)
		dir = "../shared/vectors";
	snprintf(out, cap, "%s/noise/subset/%s", dir, file);
}

static const char *json_hex(json_t *o, const char *key)
{
	json_t *s = json_object_get(o, key);

	if (!s)
		return NULL;
	if (!json_is_string(s))
		TEST_FAIL_("field %s is not a string", key);
	return json_string_value(s);
}

/* The one psk of a side: "init_psks": [hex] or noise-c's "init_psk": hex. */
static int json_psk(json_t *o, const char *side, uint8_t psk[32])
{
	char key[32];
	const char *hex;
	json_t *arr;

	snprintf(key, sizeof(key), "%s_psks", side);
	arr = json_object_get(o, key);
	if (arr) {
		ASSERT_TRUE(json_is_array(arr));
		if (json_array_size(arr) == 0)
			return 0;
		ASSERT_EQ(json_array_size(arr), 1);
		ASSERT_TRUE(json_is_string(json_array_get(arr, 0)));
		unhex_fixed(json_string_value(json_array_get(arr, 0)), psk, 32);
		return 1;
	}
	snprintf(key, sizeof(key), "%s_psk", side);
	hex = json_hex(o, key);
	if (!hex || !*hex)
		return 0;
	unhex_fixed(hex, psk, 32);
	return 1;
}

static void json_vec(json_t *o, const char *file, size_t idx, int psk_mode,
		     struct vec *v)
{
	uint8_t resp_psk[32], *resp_prologue;
	size_t resp_prologue_len, i;
	const char *hex;
	json_t *msgs;

	snprintf(v->label, sizeof(v->label), "%s vector %zu (%s)", file, idx,
		 psk_mode ? XXPSK3_NAME : XX_NAME);
	v->psk_mode = psk_mode;
	v->psk_pos = 3;

	/* XX sends both static keys; nothing may be pre-shared. */
	hex = json_hex(o, "init_remote_static");
	ASSERT_TRUE(!hex || !*hex);
	hex = json_hex(o, "resp_remote_static");
	ASSERT_TRUE(!hex || !*hex);

	hex = json_hex(o, "init_prologue");
	unhex_alloc(hex ? hex : "", &v->prologue, &v->prologue_len);
	hex = json_hex(o, "resp_prologue");
	unhex_alloc(hex ? hex : "", &resp_prologue, &resp_prologue_len);
	ASSERT_EQ(resp_prologue_len, v->prologue_len);
	ASSERT_MEMEQ(resp_prologue, v->prologue, v->prologue_len);
	free(resp_prologue);

	v->has_psk = json_psk(o, "init", v->psk);
	ASSERT_EQ(json_psk(o, "resp", resp_psk), v->has_psk);
	if (v->has_psk)
		ASSERT_MEMEQ(resp_psk, v->psk, 32);

	if ((hex = json_hex(o, "init_static"))) {
		unhex_fixed(hex, v->init_static, 32);
		v->has_init_static = 1;
	}
	if ((hex = json_hex(o, "resp_static"))) {
		unhex_fixed(hex, v->resp_static, 32);
		v->has_resp_static = 1;
	}
	if ((hex = json_hex(o, "init_ephemeral"))) {
		unhex_fixed(hex, v->init_eph, 32);
		v->has_init_eph = 1;
	}
	if ((hex = json_hex(o, "resp_ephemeral"))) {
		unhex_fixed(hex, v->resp_eph, 32);
		v->has_resp_eph = 1;
	}
	if ((hex = json_hex(o, "handshake_hash"))) {
		unhex_fixed(hex, v->hash, 64);
		v->has_hash = 1;
	}

	msgs = json_object_get(o, "messages");
	ASSERT_TRUE(json_is_array(msgs));
	ASSERT_TRUE(json_array_size(msgs) <= VEC_MAX_MSGS);
	v->nmsg = json_array_size(msgs);
	for (i = 0; i < v->nmsg; i++) {
		json_t *m = json_array_get(msgs, i);
		struct vec_msg *vm = &v->msgs[i];

		if ((hex = json_hex(m, "payload"))) {
			unhex_alloc(hex, &vm->payload, &vm->payload_len);
			vm->has_payload = 1;
		}
		if ((hex = json_hex(m, "ciphertext"))) {
			unhex_alloc(hex, &vm->ct, &vm->ct_len);
			vm->has_ct = 1;
		}
	}
}

/* Cacophony, snow and noise-c files: {"vectors": [...]}. */
static void run_json_file(struct file_count *fc)
{
	char path[4096];
	json_error_t err;
	json_t *root, *vectors;
	size_t i;

	vectors_path(path, sizeof(path), fc->file);
	root = json_load_file(path, 0, &err);
	if (!root)
		TEST_FAIL_("cannot load %s: %s (line %d)", path, err.text,
			   err.line);
	vectors = json_object_get(root, "vectors");
	ASSERT_TRUE(json_is_array(vectors));

	for (i = 0; i < json_array_size(vectors); i++) {
		json_t *o = json_array_get(vectors, i);
		const char *name = json_hex(o, "protocol_name");
		struct vec v;

		if (!name)
			name = json_hex(o, "name");
		ASSERT_TRUE(name != NULL);
		if (strcmp(name, XX_NAME) != 0 &&
		    strcmp(name, XXPSK3_NAME) != 0)
			continue;

		memset(&v, 0, sizeof(v));
		json_vec(o, fc->file, i, strcmp(name, XXPSK3_NAME) == 0, &v);
		vec_run(&v);
		if (v.psk_mode)
			fc->xxpsk3++;
		else
			fc->xx++;
		vec_clear(&v);
	}
	json_decref(root);
}

static void flynn_field(struct vec *v, const char *key, const char *val)
{
	unsigned n;
	int off = 0;

	if (strcmp(key, "handshake") == 0) {
		/* Checked by the caller. */
	} else if (strcmp(key, "init_static") == 0) {
		unhex_fixed(val, v->init_static, 32);
		v->has_init_static = 1;
	} else if (strcmp(key, "resp_static") == 0) {
		unhex_fixed(val, v->resp_static, 32);
		v->has_resp_static = 1;
	} else if (strcmp(key, "gen_init_ephemeral") == 0) {
		unhex_fixed(val, v->init_eph, 32);
		v->has_init_eph = 1;
	} else if (strcmp(key, "gen_resp_ephemeral") == 0) {
		unhex_fixed(val, v->resp_eph, 32);
		v->has_resp_eph = 1;
	} else if (strcmp(key, "prologue") == 0) {
		free(v->prologue);
		unhex_alloc(val, &v->prologue, &v->prologue_len);
	} else if (strcmp(key, "preshared_key") == 0) {
		unhex_fixed(val, v->psk, 32);
		v->has_psk = 1;
	} else if (sscanf(key, "msg_%u_%n", &n, &off) == 1 && off > 0 &&
		   n < VEC_MAX_MSGS) {
		struct vec_msg *m = &v->msgs[n];

		if (strcmp(key + off, "payload") == 0) {
			unhex_alloc(val, &m->payload, &m->payload_len);
			m->has_payload = 1;
		} else if (strcmp(key + off, "ciphertext") == 0) {
			unhex_alloc(val, &m->ct, &m->ct_len);
			m->has_ct = 1;
		} else {
			TEST_FAIL_("unknown flynn field \"%s\"", key);
		}
		if (n + 1 > v->nmsg)
			v->nmsg = n + 1;
	} else {
		/* A field we do not know could change the handshake. */
		TEST_FAIL_("unknown flynn field \"%s\"", key);
	}
}

static void flynn_finish_block(struct vec *v, int *in_block, int block,
			       struct file_count *fc)
{
	size_t i;

	if (!*in_block)
		return;
	*in_block = 0;
	if (!v->label[0]) {
		/* Not one of our two protocols. */
		vec_clear(v);
		return;
	}
	for (i = 0; i < v->nmsg; i++)
		ASSERT_TRUE(v->msgs[i].has_payload && v->msgs[i].has_ct);
	vec_run(v);
	if (v->psk_mode && v->psk_pos == 0)
		fc->xxpsk0++;
	else if (v->psk_mode)
		fc->xxpsk3++;
	else
		fc->xx++;
	vec_clear(v);
	(void)block;
}

/* flynn/noise: blocks of key=value lines separated by blank lines. */
static void run_flynn_file(struct file_count *fc)
{
	char path[4096];
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct vec v;
	int in_block = 0, block = 0, skip = 0;
	FILE *f;

	vectors_path(path, sizeof(path), fc->file);
	f = fopen(path, "r");
	if (!f)
		TEST_FAIL_("cannot open %s: %s", path, strerror(errno));
	memset(&v, 0, sizeof(v));

	while ((n = getline(&line, &cap, f)) >= 0) {
		char *eq;

		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0) {
			flynn_finish_block(&v, &in_block, block, fc);
			skip = 0;
			continue;
		}
		if (!in_block) {
			in_block = 1;
			block++;
		}
		eq = strchr(line, '=');
		if (!eq)
			TEST_FAIL_("%s block %d: no '=' in \"%s\"", fc->file,
				   block, line);
		*eq = '\0';
		if (strcmp(line, "handshake") == 0) {
			if (strcmp(eq + 1, XX_NAME) == 0 ||
			    strcmp(eq + 1, XXPSK3_NAME) == 0 ||
			    strcmp(eq + 1, XXPSK0_NAME) == 0) {
				v.psk_mode = strcmp(eq + 1, XX_NAME) != 0;
				v.psk_pos =
					strcmp(eq + 1, XXPSK0_NAME) == 0 ? 0 : 3;
				v.initiator_sends_odd = 1;
				snprintf(v.label, sizeof(v.label),
					 "%s block %d (%s)", fc->file, block,
					 eq + 1);
			} else {
				skip = 1;
			}
		}
		if (!skip)
			flynn_field(&v, line, eq + 1);
	}
	flynn_finish_block(&v, &in_block, block, fc);
	free(line);
	fclose(f);
}

static void test_vectors(void)
{
	struct file_count files[] = {
		{ "cacophony.XX+XXpsk3.25519_ChaChaPoly_BLAKE2b.json", 0, 0, 1,
		  1, 0, 0 },
		{ "snow.XX.25519_ChaChaPoly_BLAKE2b.json", 0, 0, 1, 0, 0, 0 },
		{ "noise-c-basic.XX.25519_ChaChaPoly_BLAKE2b.json", 0, 0, 1, 0,
		  0, 0 },
		{ "flynn.XX+XXpsk3.25519_ChaChaPoly_BLAKE2b.txt", 0, 0, 4, 4, 0,
		  0 },
		/* the whole flynn file, for its XXpsk0 vectors (hamletd's) */
		{ "../flynn-noise-vectors.txt", 0, 0, 4, 4, 0, 4 },
	};
	size_t nfiles = sizeof(files) / sizeof(files[0]);
	int xx = 0, xxpsk3 = 0;
	size_t i;

	for (i = 0; i < nfiles; i++) {
		if (strstr(files[i].file, ".json"))
			run_json_file(&files[i]);
		else
			run_flynn_file(&files[i]);
	}

	TEST_START("as many vectors ran as the README lists");
	for (i = 0; i < nfiles; i++) {
		fprintf(stderr, "   %s: XX %d, XXpsk3 %d, XXpsk0 %d\n",
			files[i].file, files[i].xx, files[i].xxpsk3,
			files[i].xxpsk0);
		ASSERT_EQ(files[i].xx, files[i].want_xx);
		ASSERT_EQ(files[i].xxpsk3, files[i].want_xxpsk3);
		ASSERT_EQ(files[i].xxpsk0, files[i].want_xxpsk0);
		xx += files[i].xx;
		xxpsk3 += files[i].xxpsk3;
	}
	/* the subset's seven and five, and the whole flynn file's XX and
	 * XXpsk3 again beside its four XXpsk0 */
	ASSERT_EQ(xx, 11);
	ASSERT_EQ(xxpsk3, 9);
}

/* ------------------------------------------------------------------------
 * Handshakes between two fresh parties
 */

struct party {
	uint8_t s_priv[32], s_pub[32];
	struct noise_hs *hs;
	struct noise_cipher send, recv;
};

static const uint8_t psk_a[32] = "a pre-shared key of 32 bytes ...";
static const uint8_t psk_b[32] = "another pre-shared key, 32 bytes";
static const uint8_t hello[] = "hello";

static void party_keys(struct party *p)
{
	memset(p, 0, sizeof(*p));
	randombytes_buf(p->s_priv, sizeof(p->s_priv));
	ASSERT_EQ(crypto_scalarmult_base(p->s_pub, p->s_priv), 0);
}

static void party_start(struct party *ini, struct party *resp,
			const uint8_t *psk_i, const uint8_t *psk_r,
			const char *prologue_i, const char *prologue_r)
{
	party_keys(ini);
	party_keys(resp);
	ASSERT_OK(noise_hs_new(1, (const uint8_t *)prologue_i,
			       strlen(prologue_i), ini->s_priv, psk_i, NULL,
			       &ini->hs));
	ASSERT_OK(noise_hs_new(0, (const uint8_t *)prologue_r,
			       strlen(prologue_r), resp->s_priv, psk_r, NULL,
			       &resp->hs));
}

static void party_end(struct party *p)
{
	noise_hs_free(p->hs);
	noise_cipher_wipe(&p->send);
	noise_cipher_wipe(&p->recv);
	sodium_memzero(p->s_priv, sizeof(p->s_priv));
	p->hs = NULL;
}

typedef void (*tamper_fn)(uint8_t *msg, size_t *len, size_t arg);

/*
 * Run the three handshake messages, each carrying "hello", letting
 * tamper(msg, &len, arg) change message `which` in flight. Returns the
 * index of the first message that failed to read (3 when none did) and
 * its error in *ret_err. A failed party must refuse to go on. Payloads
 * that read are checked unless check is 0 (parties configured apart may
 * read each other's first message differently).
 */
static int handshake_exec(struct party *ini, struct party *resp, int which,
			  tamper_fn tamper, size_t arg, int check, int *ret_err)
{
	size_t len, plen;
	int i, r;

	*ret_err = 0;
	for (i = 0; i < 3; i++) {
		struct party *from = i % 2 == 0 ? ini : resp;
		struct party *to = i % 2 == 0 ? resp : ini;

		ASSERT_OK(noise_hs_write_message(from->hs, hello, sizeof(hello),
						 buf_a, sizeof(buf_a), &len));
		if (i == which && tamper)
			tamper(buf_a, &len, arg);
		r = noise_hs_read_message(to->hs, buf_a, len, buf_b,
					  sizeof(buf_b), &plen);
		if (r < 0) {
			*ret_err = r;
			ASSERT_EQ(noise_hs_write_message(to->hs, hello, 1,
							 buf_a, sizeof(buf_a),
							 &len),
				  HAMLET_EHANDSHAKE);
			ASSERT_EQ(noise_hs_split(to->hs, &to->send, &to->recv),
				  HAMLET_EHANDSHAKE);
			return i;
		}
		if (i != which && check) {
			ASSERT_EQ(plen, sizeof(hello));
			ASSERT_MEMEQ(buf_b, hello, plen);
		}
	}
	ASSERT_OK(noise_hs_split(ini->hs, &ini->send, &ini->recv));
	ASSERT_OK(noise_hs_split(resp->hs, &resp->send, &resp->recv));
	return 3;
}

static int handshake_run(struct party *ini, struct party *resp, int which,
			 tamper_fn tamper, size_t arg, int *ret_err)
{
	return handshake_exec(ini, resp, which, tamper, arg, 1, ret_err);
}

static void tamper_flip(uint8_t *msg, size_t *len, size_t arg)
{
	msg[arg / 8] ^= (uint8_t)(1u << (arg % 8));
}

static void tamper_truncate(uint8_t *msg, size_t *len, size_t arg)
{
	*len = arg;
}

/* Length of handshake message i carrying "hello". */
static size_t hello_msg_len(int psk, int i)
{
	static const size_t xx[3] = { 32, 32 + 48 + 16, 48 + 16 };
	static const size_t xxpsk3[3] = { 32 + 16, 32 + 48 + 16, 48 + 16 };

	return (psk ? xxpsk3[i] : xx[i]) + sizeof(hello);
}

static void test_handshake_ok(void)
{
	struct party a, b;
	uint8_t got[32], h_a[64], h_b[64];
	int psk, err;

	for (psk = 0; psk < 2; psk++) {
		TEST_START(psk ? "two parties with one psk agree (XXpsk3)" :
				 "two parties agree (XX)");
		party_start(&a, &b, psk ? psk_a : NULL, psk ? psk_a : NULL,
			    "hamlet", "hamlet");
		ASSERT_EQ(handshake_run(&a, &b, -1, NULL, 0, &err), 3);
		ASSERT_OK(noise_hs_remote_static(a.hs, got));
		ASSERT_MEMEQ(got, b.s_pub, 32);
		ASSERT_OK(noise_hs_remote_static(b.hs, got));
		ASSERT_MEMEQ(got, a.s_pub, 32);
		ASSERT_OK(noise_hs_handshake_hash(a.hs, h_a));
		ASSERT_OK(noise_hs_handshake_hash(b.hs, h_b));
		ASSERT_MEMEQ(h_a, h_b, 64);
		ASSERT_TRUE(memcmp(a.send.k, b.recv.k, 32) == 0);
		ASSERT_TRUE(memcmp(a.recv.k, b.send.k, 32) == 0);
		ASSERT_TRUE(memcmp(a.send.k, a.recv.k, 32) != 0);
		party_end(&a);
		party_end(&b);
	}

	TEST_START("random ephemeral keys differ between handshakes");
	{
		struct noise_hs *x = NULL, *y = NULL;
		size_t lx, ly;

		party_keys(&a);
		ASSERT_OK(noise_hs_new(1, NULL, 0, a.s_priv, NULL, NULL, &x));
		ASSERT_OK(noise_hs_new(1, NULL, 0, a.s_priv, NULL, NULL, &y));
		ASSERT_OK(noise_hs_write_message(x, NULL, 0, buf_a,
						 sizeof(buf_a), &lx));
		ASSERT_OK(noise_hs_write_message(y, NULL, 0, buf_b,
						 sizeof(buf_b), &ly));
		ASSERT_EQ(lx, 32);
		ASSERT_EQ(ly, 32);
		ASSERT_TRUE(memcmp(buf_a, buf_b, 32) != 0);
		noise_hs_free(x);
		noise_hs_free(y);
		noise_hs_free(NULL);
		party_end(&a);
	}
}

static void test_wrong_secrets(void)
{
	struct party a, b;
	int err;

	TEST_START("a wrong psk fails where the psk is first used: message 3");
	party_start(&a, &b, psk_a, psk_b, "", "");
	ASSERT_EQ(handshake_run(&a, &b, -1, NULL, 0, &err), 2);
	ASSERT_EQ(err, HAMLET_EDECRYPT);
	party_end(&a);
	party_end(&b);

	TEST_START("a wrong psk on the initiator's side fails the same way");
	party_start(&a, &b, psk_b, psk_a, "", "");
	ASSERT_EQ(handshake_run(&a, &b, -1, NULL, 0, &err), 2);
	ASSERT_EQ(err, HAMLET_EDECRYPT);
	party_end(&a);
	party_end(&b);

	TEST_START("an initiator with a psk and a responder without fail");
	party_start(&a, &b, psk_a, NULL, "", "");
	ASSERT_TRUE(handshake_exec(&a, &b, -1, NULL, 0, 0, &err) < 3);
	ASSERT_EQ(err, HAMLET_EDECRYPT);
	party_end(&a);
	party_end(&b);

	TEST_START("a responder with a psk and an initiator without fail");
	party_start(&a, &b, NULL, psk_a, "", "");
	ASSERT_TRUE(handshake_exec(&a, &b, -1, NULL, 0, 0, &err) < 3);
	ASSERT_TRUE(err == HAMLET_EDECRYPT || err == HAMLET_EFORMAT);
	party_end(&a);
	party_end(&b);

	TEST_START("different prologues fail at message 2 (XX)");
	party_start(&a, &b, NULL, NULL, "hamlet v1", "hamlet v2");
	ASSERT_EQ(handshake_run(&a, &b, -1, NULL, 0, &err), 1);
	ASSERT_EQ(err, HAMLET_EDECRYPT);
	party_end(&a);
	party_end(&b);

	TEST_START("different prologues fail at message 1 (XXpsk3)");
	party_start(&a, &b, psk_a, psk_a, "hamlet v1", "hamlet v2");
	ASSERT_EQ(handshake_run(&a, &b, -1, NULL, 0, &err), 0);
	ASSERT_EQ(err, HAMLET_EDECRYPT);
	party_end(&a);
	party_end(&b);
}

/*
 * Where a change to message `which` must be caught. The first message of
 * XX has no key, so it is caught by the tag of the reply, whose
 * associated data covers it.
 */
static int expected_fail_at(int psk, int which, size_t len)
{
	if (which == 0 && !psk && len >= 32)
		return 1;
	return which;
}

static void test_tampering(void)
{
	struct party a, b;
	int psk, which, at, err;
	size_t bit, len, full;
	int runs = 0;

	TEST_START("a flipped bit anywhere in any handshake message fails");
	for (psk = 0; psk < 2; psk++) {
		for (which = 0; which < 3; which++) {
			full = hello_msg_len(psk, which);
			for (bit = 0; bit < full * 8; bit++) {
				party_start(&a, &b, psk ? psk_a : NULL,
					    psk ? psk_a : NULL, "p", "p");
				at = handshake_run(&a, &b, which, tamper_flip,
						   bit, &err);
				ASSERT_EQ(at,
					  expected_fail_at(psk, which, full));
				ASSERT_EQ(err, HAMLET_EDECRYPT);
				party_end(&a);
				party_end(&b);
				runs++;
			}
		}
	}
	fprintf(stderr, "   %d tampered handshakes\n", runs);

	TEST_START("a handshake message truncated to any length fails");
	for (psk = 0; psk < 2; psk++) {
		for (which = 0; which < 3; which++) {
			size_t overhead;

			full = hello_msg_len(psk, which);
			overhead = full - sizeof(hello);
			for (len = 0; len < full; len++) {
				party_start(&a, &b, psk ? psk_a : NULL,
					    psk ? psk_a : NULL, "", "");
				at = handshake_run(&a, &b, which,
						   tamper_truncate, len, &err);
				ASSERT_EQ(at,
					  expected_fail_at(psk, which, len));
				if (at == which && len < overhead)
					ASSERT_EQ(err, HAMLET_EFORMAT);
				else
					ASSERT_EQ(err, HAMLET_EDECRYPT);
				party_end(&a);
				party_end(&b);
			}
		}
	}

	TEST_START("a message with bytes appended fails");
	for (psk = 0; psk < 2; psk++) {
		for (which = 1; which < 3; which++) {
			party_start(&a, &b, psk ? psk_a : NULL,
				    psk ? psk_a : NULL, "", "");
			full = hello_msg_len(psk, which);
			buf_a[full] = 0;
			at = handshake_run(&a, &b, which, tamper_truncate,
					   full + 1, &err);
			ASSERT_EQ(at, which);
			ASSERT_EQ(err, HAMLET_EDECRYPT);
			party_end(&a);
			party_end(&b);
		}
	}
}

static void zero_ephemeral(uint8_t *msg, size_t *len, size_t arg)
{
	memset(msg, 0, 32);
}

static void test_low_order(void)
{
	struct party a, b;
	uint8_t ed_identity[32] = { 1 };
	uint8_t x[32];
	size_t len;
	int psk;

	for (psk = 0; psk < 2; psk++) {
		TEST_START(psk ? "a low-order peer key is refused (XXpsk3)" :
				 "a low-order peer key is refused (XX)");
		party_start(&a, &b, psk ? psk_a : NULL, psk ? psk_a : NULL, "",
			    "");
		ASSERT_OK(noise_hs_write_message(a.hs, NULL, 0, buf_a,
						 sizeof(buf_a), &len));
		zero_ephemeral(buf_a, &len, 0);
		if (psk) {
			/* The tag covers e, so this is caught even earlier. */
			ASSERT_EQ(noise_hs_read_message(b.hs, buf_a, len, NULL,
							0, &len),
				  HAMLET_EDECRYPT);
		} else {
			ASSERT_OK(noise_hs_read_message(b.hs, buf_a, len, NULL,
							0, &len));
			ASSERT_EQ(noise_hs_write_message(b.hs, NULL, 0, buf_b,
							 sizeof(buf_b), &len),
				  HAMLET_EHANDSHAKE);
		}
		ASSERT_EQ(noise_hs_write_message(b.hs, NULL, 0, buf_b,
						 sizeof(buf_b), &len),
			  HAMLET_EHANDSHAKE);
		party_end(&a);
		party_end(&b);
	}

	TEST_START("the Ed25519 identity point does not convert");
	ASSERT_EQ(noise_key_from_ed25519_pk(ed_identity, x), -EINVAL);
}

static void test_turns(void)
{
	struct party a, b;
	struct noise_cipher c1, c2;
	uint8_t got[32], h[64];
	size_t len, plen;
	int err;

	TEST_START("messages out of turn are refused and change nothing");
	party_start(&a, &b, NULL, NULL, "", "");
	ASSERT_EQ(noise_hs_read_message(a.hs, buf_a, 32, NULL, 0, &len),
		  HAMLET_EPROTO);
	ASSERT_EQ(noise_hs_write_message(b.hs, NULL, 0, buf_a, sizeof(buf_a),
					 &len),
		  HAMLET_EPROTO);
	ASSERT_EQ(noise_hs_split(a.hs, &c1, &c2), HAMLET_EPROTO);
	ASSERT_EQ(noise_hs_handshake_hash(a.hs, h), HAMLET_EPROTO);
	ASSERT_EQ(noise_hs_remote_static(a.hs, got), -EAGAIN);
	ASSERT_EQ(noise_hs_remote_static(b.hs, got), -EAGAIN);

	ASSERT_OK(noise_hs_write_message(a.hs, NULL, 0, buf_a, sizeof(buf_a),
					 &len));
	ASSERT_EQ(noise_hs_write_message(a.hs, NULL, 0, buf_c, sizeof(buf_c),
					 &plen),
		  HAMLET_EPROTO);
	ASSERT_OK(noise_hs_read_message(b.hs, buf_a, len, NULL, 0, &plen));
	ASSERT_EQ(noise_hs_read_message(b.hs, buf_a, len, NULL, 0, &plen),
		  HAMLET_EPROTO);
	ASSERT_OK(noise_hs_write_message(b.hs, NULL, 0, buf_a, sizeof(buf_a),
					 &len));
	ASSERT_OK(noise_hs_read_message(a.hs, buf_a, len, NULL, 0, &plen));
	/* The initiator knows the responder's key now, not yet vice versa. */
	ASSERT_OK(noise_hs_remote_static(a.hs, got));
	ASSERT_MEMEQ(got, b.s_pub, 32);
	ASSERT_EQ(noise_hs_remote_static(b.hs, got), -EAGAIN);
	ASSERT_OK(noise_hs_write_message(a.hs, NULL, 0, buf_a, sizeof(buf_a),
					 &len));
	ASSERT_EQ(noise_hs_is_finished(a.hs), 1);
	ASSERT_EQ(noise_hs_is_finished(b.hs), 0);
	ASSERT_OK(noise_hs_read_message(b.hs, buf_a, len, NULL, 0, &plen));
	ASSERT_EQ(noise_hs_is_finished(b.hs), 1);

	TEST_START("a finished handshake reads no more and splits once");
	ASSERT_EQ(noise_hs_write_message(a.hs, NULL, 0, buf_a, sizeof(buf_a),
					 &len),
		  HAMLET_EPROTO);
	ASSERT_EQ(noise_hs_read_message(b.hs, buf_a, len, NULL, 0, &plen),
		  HAMLET_EPROTO);
	ASSERT_OK(noise_hs_split(a.hs, &a.send, &a.recv));
	ASSERT_EQ(noise_hs_split(a.hs, &c1, &c2), HAMLET_EPROTO);
	ASSERT_OK(noise_hs_handshake_hash(a.hs, h));
	ASSERT_OK(noise_hs_remote_static(b.hs, got));
	ASSERT_MEMEQ(got, a.s_pub, 32);
	party_end(&a);
	party_end(&b);

	TEST_START("a short buffer is refused and the call can be retried");
	party_start(&a, &b, psk_a, psk_a, "", "");
	ASSERT_EQ(noise_hs_write_message(a.hs, hello, sizeof(hello), buf_a,
					 hello_msg_len(1, 0) - 1, &len),
		  -ENOBUFS);
	ASSERT_OK(noise_hs_write_message(a.hs, hello, sizeof(hello), buf_a,
					 hello_msg_len(1, 0), &len));
	ASSERT_EQ(len, hello_msg_len(1, 0));
	ASSERT_EQ(noise_hs_read_message(b.hs, buf_a, len, buf_b,
					sizeof(hello) - 1, &plen),
		  -ENOBUFS);
	ASSERT_OK(noise_hs_read_message(b.hs, buf_a, len, buf_b, sizeof(hello),
					&plen));
	ASSERT_EQ(plen, sizeof(hello));
	ASSERT_MEMEQ(buf_b, hello, plen);
	party_end(&a);
	party_end(&b);

	TEST_START("a failed handshake reports failure from then on");
	party_start(&a, &b, NULL, NULL, "x", "y");
	ASSERT_EQ(handshake_run(&a, &b, -1, NULL, 0, &err), 1);
	ASSERT_EQ(noise_hs_is_finished(a.hs), 0);
	ASSERT_EQ(noise_hs_remote_static(a.hs, got), HAMLET_EHANDSHAKE);
	ASSERT_EQ(noise_hs_handshake_hash(a.hs, h), HAMLET_EHANDSHAKE);
	ASSERT_EQ(noise_hs_read_message(a.hs, buf_a, 100, buf_b, sizeof(buf_b),
					&plen),
		  HAMLET_EHANDSHAKE);
	party_end(&a);
	party_end(&b);

	TEST_START("bad arguments are -EINVAL");
	ASSERT_EQ(noise_hs_new(1, NULL, 0, NULL, NULL, NULL, &a.hs), -EINVAL);
	ASSERT_EQ(noise_hs_new(1, NULL, 3, b.s_priv, NULL, NULL, &a.hs),
		  -EINVAL);
	memset(&c1, 0, sizeof(c1));
	ASSERT_EQ(noise_cipher_encrypt(&c1, NULL, 0, hello, 1, buf_a), -EINVAL);
}

static void test_sizes(void)
{
	struct party a, b;
	size_t len, plen;
	int psk;

	for (psk = 0; psk < 2; psk++) {
		size_t overhead = hello_msg_len(psk, 0) - sizeof(hello);
		size_t most = NOISE_MAX_MSG - overhead;

		TEST_START(psk ? "no handshake message over 65535 B (XXpsk3)" :
				 "no handshake message over 65535 B (XX)");
		party_start(&a, &b, psk ? psk_a : NULL, psk ? psk_a : NULL, "",
			    "");
		randombytes_buf(buf_c, most + 1);
		ASSERT_EQ(noise_hs_write_message(a.hs, buf_c, most + 1, buf_a,
						 sizeof(buf_a), &len),
			  HAMLET_ETOOBIG);
		ASSERT_EQ(noise_hs_write_message(a.hs, buf_c, SIZE_MAX, buf_a,
						 sizeof(buf_a), &len),
			  HAMLET_ETOOBIG);
		ASSERT_OK(noise_hs_write_message(a.hs, buf_c, most, buf_a,
						 sizeof(buf_a), &len));
		ASSERT_EQ(len, NOISE_MAX_MSG);
		ASSERT_OK(noise_hs_read_message(b.hs, buf_a, len, buf_b,
						sizeof(buf_b), &plen));
		ASSERT_EQ(plen, most);
		ASSERT_MEMEQ(buf_b, buf_c, most);
		party_end(&a);
		party_end(&b);

		party_start(&a, &b, psk ? psk_a : NULL, psk ? psk_a : NULL, "",
			    "");
		ASSERT_OK(noise_hs_write_message(a.hs, buf_c, most, buf_a,
						 sizeof(buf_a), &len));
		ASSERT_EQ(noise_hs_read_message(b.hs, buf_a, len + 1, buf_b,
						sizeof(buf_b), &plen),
			  HAMLET_ETOOBIG);
		party_end(&a);
		party_end(&b);
	}
}

static void test_transport(void)
{
	static const uint8_t ad[] = "frame header";
	struct party a, b;
	struct noise_cipher save;
	uint8_t m[3][64];
	size_t mlen = 20;
	int i, err;

	party_start(&a, &b, psk_a, psk_a, "", "");
	ASSERT_EQ(handshake_run(&a, &b, -1, NULL, 0, &err), 3);

	TEST_START("three transport messages take nonces 0, 1 and 2");
	for (i = 0; i < 3; i++) {
		memset(buf_c, 'a' + i, mlen);
		ASSERT_OK(noise_cipher_encrypt(&a.send, ad, sizeof(ad), buf_c,
					       mlen, m[i]));
	}
	ASSERT_EQ(a.send.n, 3);

	TEST_START("a reordered transport message fails to decrypt");
	ASSERT_EQ(noise_cipher_decrypt(&b.recv, ad, sizeof(ad), m[1], mlen + 16,
				       buf_b),
		  HAMLET_EDECRYPT);
	ASSERT_EQ(b.recv.n, 0);
	ASSERT_OK(noise_cipher_decrypt(&b.recv, ad, sizeof(ad), m[0], mlen + 16,
				       buf_b));
	memset(buf_c, 'a', mlen);
	ASSERT_MEMEQ(buf_b, buf_c, mlen);

	TEST_START("a replayed transport message fails to decrypt");
	ASSERT_EQ(noise_cipher_decrypt(&b.recv, ad, sizeof(ad), m[0], mlen + 16,
				       buf_b),
		  HAMLET_EDECRYPT);
	ASSERT_OK(noise_cipher_decrypt(&b.recv, ad, sizeof(ad), m[1], mlen + 16,
				       buf_b));
	ASSERT_EQ(noise_cipher_decrypt(&b.recv, ad, sizeof(ad), m[1], mlen + 16,
				       buf_b),
		  HAMLET_EDECRYPT);

	TEST_START("tampered, cut or misrouted transport messages fail");
	m[2][5] ^= 0x40;
	ASSERT_EQ(noise_cipher_decrypt(&b.recv, ad, sizeof(ad), m[2], mlen + 16,
				       buf_b),
		  HAMLET_EDECRYPT);
	m[2][5] ^= 0x40;
	ASSERT_EQ(noise_cipher_decrypt(&b.recv, ad, sizeof(ad) - 1, m[2],
				       mlen + 16, buf_b),
		  HAMLET_EDECRYPT);
	ASSERT_EQ(noise_cipher_decrypt(&b.recv, ad, sizeof(ad), m[2], mlen + 15,
				       buf_b),
		  HAMLET_EDECRYPT);
	ASSERT_EQ(noise_cipher_decrypt(&b.recv, ad, sizeof(ad), m[2], 15,
				       buf_b),
		  HAMLET_EFORMAT);
	/* The initiator's own messages do not decrypt on its receive side. */
	ASSERT_EQ(noise_cipher_decrypt(&a.recv, ad, sizeof(ad), m[0], mlen + 16,
				       buf_b),
		  HAMLET_EDECRYPT);
	ASSERT_OK(noise_cipher_decrypt(&b.recv, ad, sizeof(ad), m[2], mlen + 16,
				       buf_b));

	TEST_START("transport works in place, responder to initiator");
	memcpy(buf_a, "in place", 8);
	ASSERT_OK(noise_cipher_encrypt(&b.send, NULL, 0, buf_a, 8, buf_a));
	ASSERT_OK(noise_cipher_decrypt(&a.recv, NULL, 0, buf_a, 8 + 16, buf_a));
	ASSERT_MEMEQ(buf_a, "in place", 8);

	TEST_START("transport messages stop at 65535 bytes");
	ASSERT_EQ(noise_cipher_encrypt(&a.send, NULL, 0, buf_c,
				       NOISE_MAX_MSG - 15, buf_a),
		  HAMLET_ETOOBIG);
	ASSERT_OK(noise_cipher_encrypt(&a.send, NULL, 0, buf_c,
				       NOISE_MAX_MSG - 16, buf_a));
	ASSERT_OK(noise_cipher_decrypt(&b.recv, NULL, 0, buf_a, NOISE_MAX_MSG,
				       buf_b));
	ASSERT_EQ(noise_cipher_decrypt(&b.recv, NULL, 0, buf_a,
				       NOISE_MAX_MSG + 1, buf_b),
		  HAMLET_ETOOBIG);

	TEST_START("the nonce 2^64-1 is never used");
	a.send.n = UINT64_MAX - 1;
	b.recv.n = UINT64_MAX - 1;
	ASSERT_OK(noise_cipher_encrypt(&a.send, NULL, 0, hello, 5, buf_a));
	ASSERT_OK(noise_cipher_decrypt(&b.recv, NULL, 0, buf_a, 5 + 16, buf_b));
	ASSERT_TRUE(a.send.n == UINT64_MAX);
	save = a.send;
	ASSERT_EQ(noise_cipher_encrypt(&a.send, NULL, 0, hello, 5, buf_a),
		  -EOVERFLOW);
	ASSERT_TRUE(a.send.n == UINT64_MAX);
	ASSERT_EQ(noise_cipher_decrypt(&b.recv, NULL, 0, buf_a, 5 + 16, buf_b),
		  -EOVERFLOW);

	TEST_START("a wiped cipher holds nothing and refuses to work");
	noise_cipher_wipe(&save);
	for (i = 0; i < 32; i++)
		ASSERT_EQ(save.k[i], 0);
	ASSERT_EQ(noise_cipher_encrypt(&save, NULL, 0, hello, 5, buf_a),
		  -EINVAL);
	ASSERT_EQ(noise_cipher_decrypt(&save, NULL, 0, buf_a, 21, buf_b),
		  -EINVAL);
	noise_cipher_wipe(NULL);
	party_end(&a);
	party_end(&b);
}

static void test_ed25519(void)
{
	uint8_t ed_pk[2][32], ed_sk[2][64], x_priv[2][32], x_pub[2][32];
	uint8_t check[32], got[32];
	struct noise_hs *hs[2] = { NULL, NULL };
	struct noise_cipher send[2], recv[2];
	size_t len, plen;
	int i;

	TEST_START("Ed25519 key pairs convert to matching X25519 key pairs");
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(crypto_sign_keypair(ed_pk[i], ed_sk[i]), 0);
		ASSERT_OK(noise_key_from_ed25519_sk(ed_sk[i], x_priv[i]));
		ASSERT_OK(noise_key_from_ed25519_pk(ed_pk[i], x_pub[i]));
		ASSERT_EQ(crypto_scalarmult_base(check, x_priv[i]), 0);
		ASSERT_MEMEQ(check, x_pub[i], 32);
	}

	TEST_START("Ed25519 nodes shake hands and learn each other's key");
	ASSERT_OK(noise_hs_new(1, (const uint8_t *)"net", 3, x_priv[0], psk_a,
			       NULL, &hs[0]));
	ASSERT_OK(noise_hs_new(0, (const uint8_t *)"net", 3, x_priv[1], psk_a,
			       NULL, &hs[1]));
	for (i = 0; i < 3; i++) {
		ASSERT_OK(noise_hs_write_message(hs[i % 2], hello,
						 sizeof(hello), buf_a,
						 sizeof(buf_a), &len));
		ASSERT_OK(noise_hs_read_message(hs[(i + 1) % 2], buf_a, len,
						buf_b, sizeof(buf_b), &plen));
		ASSERT_EQ(plen, sizeof(hello));
	}
	for (i = 0; i < 2; i++) {
		ASSERT_OK(noise_hs_remote_static(hs[i], got));
		ASSERT_MEMEQ(got, x_pub[1 - i], 32);
		ASSERT_OK(noise_hs_split(hs[i], &send[i], &recv[i]));
		noise_hs_free(hs[i]);
	}
	ASSERT_OK(noise_cipher_encrypt(&send[1], NULL, 0, hello, 5, buf_a));
	ASSERT_OK(noise_cipher_decrypt(&recv[0], NULL, 0, buf_a, 21, buf_b));
	ASSERT_MEMEQ(buf_b, hello, 5);
	for (i = 0; i < 2; i++) {
		noise_cipher_wipe(&send[i]);
		noise_cipher_wipe(&recv[i]);
	}
	sodium_memzero(ed_sk, sizeof(ed_sk));
	sodium_memzero(x_priv, sizeof(x_priv));
}

int main(void)
{
	if (sodium_init() < 0)
		TEST_FAIL_("%s", "sodium_init failed");

	test_vectors();
	test_handshake_ok();
	test_wrong_secrets();
	test_tampering();
	test_low_order();
	test_turns();
	test_sizes();
	test_transport();
	test_ed25519();
	TEST_DONE();
}
