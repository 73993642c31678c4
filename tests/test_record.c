/* CRDT semantics: merge rules, conflicts, duplicates, resolution. */
#include "audit.h"
#include "bytes.h"
#include "helpers.h"
#include "summary.h"

static const char *P1 =
	"person_id=001122334455;full_name=Lo Thi Mai;birth_date=1990-04-12;phone=0912000001";

struct listed {
	const char *id;
	int self, all;
};

static int count_listed(void *ctx, const char *coll, const char *id)
{
	struct listed *l = ctx;
	l->all++;
	l->self += strcmp(id, l->id) == 0;
	return 0;
}

/* The payments listed with an open conflict or a duplicate, as
 * "PAY-X,PAY-Y," (in key order). */
static int join_listed(void *ctx, const char *coll, const char *id)
{
	char *out = ctx;
	if (strcmp(coll, "payment") == 0 && strncmp(id, "PAY-S", 5) == 0 &&
	    strlen(out) + strlen(id) + 2 < 256) {
		strcat(out, id);
		strcat(out, ",");
	}
	return 0;
}

static void listed_shared(struct node *n, char out[256])
{
	struct store_txn *t;
	out[0] = 0;
	ASSERT_OK(store_txn_begin(n->st, 1, &t));
	ASSERT_OK(record_conflicts_each(t, join_listed, out));
	store_txn_abort(t);
}

/* The first byte of health_profile/id's stored state (after its change
 * seq), its length, and the op rows in the store. */
static int row_state(struct store_txn *t, const char *id, size_t *ret_len,
		     uint64_t *ret_ops)
{
	uint8_t key[RECORD_KEY_MAX];
	size_t kl = record_key("health_profile", id, key), rl;
	const uint8_t *row;
	const void *rv;
	if (store_get(t, ST_RECORDS, key, kl, &rv, &rl) < 0 ||
	    store_count(t, ST_RECOPS, ret_ops) < 0)
		return -1;
	struct bytes_reader r;
	uint64_t cseq;
	bytes_reader_init(&r, rv, rl);
	if (bytes_get_varint(&r, &cseq) < 0 || bytes_remaining(&r) == 0)
		return -1;
	row = (const uint8_t *)rv + bytes_offset(&r);
	*ret_len = bytes_remaining(&r);
	return row[0];
}

/* The heads of health_profile/id on n, into out: their number. */
static size_t heads_of(struct node *n, const char *id,
		       uint8_t (*out)[ENTRY_ID_LEN])
{
	struct store_txn *t;
	struct record_view v;
	long nh = 0;
	if (store_txn_begin(n->st, 1, &t) < 0)
		return 0;
	if (record_view_load(t, "health_profile", id, &v) == 0) {
		nh = record_view_heads(&v, out);
		record_view_close(&v);
	}
	store_txn_abort(t);
	return nh > 0 ? (size_t)nh : 0;
}

int main(void)
{
	char *dir = th_tmpdir();
	char *net = th_network(dir, "test-net");
	struct node *a = th_node(dir, net, "village", "bk/bt/qt/na-pai");
	struct node *b = th_node(dir, net, "commune", "bk/bt/qt");
	/* the village reads the commune's scope too: the two exchange all */
	th_certify(a, net, "bk/bt/qt", "bk/bt/qt/na-pai", 0);
	uint8_t da[32], db[32];
	char buf[256], why[256];
	int dups;

	TEST_START("a first put without every required field is refused, naming them");
	ASSERT_EQ(th_write(a, ENTRY_PUT, "health_profile", "HP-1",
			   "full_name=X", 0, why, sizeof(why)),
		  HAMLET_ESCHEMA);
	ASSERT_TRUE(strstr(why, "person_id") && strstr(why, "birth_date"));

	TEST_START("an unknown field is refused, naming the field");
	ASSERT_EQ(th_write(a, ENTRY_PUT, "health_profile", "HP-1",
			   "person_id=001122334455;full_name=X;birth_date=1990-01-01;shoe_size=42",
			   0, why, sizeof(why)),
		  HAMLET_ESCHEMA);
	ASSERT_TRUE(strstr(why, "shoe_size") != NULL);

	TEST_START("a wrong type and a bad date are refused, naming the field");
	ASSERT_EQ(th_write(a, ENTRY_PUT, "payment", "PAY-1",
			   "program=social_allowance;beneficiary_id=B1;period=2026-13;amount_vnd=#500000",
			   0, why, sizeof(why)),
		  HAMLET_ESCHEMA);
	ASSERT_TRUE(strstr(why, "period") != NULL);
	ASSERT_EQ(th_write(a, ENTRY_PUT, "payment", "PAY-1",
			   "program=social_allowance;beneficiary_id=B1;period=2026-10;amount_vnd=lots",
			   0, why, sizeof(why)),
		  HAMLET_ESCHEMA);
	ASSERT_TRUE(strstr(why, "amount_vnd") != NULL);

	TEST_START("puts on both nodes exchange and agree");
	ASSERT_OK(th_put(a, "health_profile", "HP-1", P1));
	ASSERT_OK(th_put(b, "payment", "PAY-1",
			 "program=social_allowance;beneficiary_id=B1;period=2026-10;amount_vnd=#500000;status=created"));
	th_sync(a, b, dir);
	th_sync(b, a, dir);
	th_digest(a, da);
	th_digest(b, db);
	ASSERT_MEMEQ(da, db, 32);
	ASSERT_STREQ(th_field(b, "health_profile", "HP-1", "full_name", buf,
			      sizeof(buf)),
		     "Lo Thi Mai");

	TEST_START("a record written once is a row naming its entry, with no op row, on both nodes");
	for (int k = 0; k < 2; k++) {
		struct node *n = k ? b : a;
		struct store_txn *t;
		struct record_view v;
		uint64_t ops = 0;
		size_t sl;
		ASSERT_OK(store_txn_begin(n->st, 1, &t));
		/* 0x01 and its entry's local seq, after the change seq */
		ASSERT_EQ(row_state(t, "HP-1", &sl, &ops), 0x01);
		ASSERT_TRUE(sl >= 2 && sl <= 11);
		ASSERT_EQ(ops, 0);
		ASSERT_OK(record_view_load(t, "health_profile", "HP-1", &v));
		ASSERT_EQ(v.fields->type, MSGPACK_OBJECT_MAP);
		ASSERT_EQ(v.fields->via.map.size, 4);
		ASSERT_EQ(v.nops, 1);
		ASSERT_EQ(v.heads->via.array.size, 1);
		ASSERT_TRUE(record_view_field(&v, "phone") != NULL);
		record_view_close(&v);
		store_txn_abort(t);
	}

	TEST_START("concurrent phone edits (mv) conflict on both nodes");
	ASSERT_OK(th_put(a, "health_profile", "HP-1", "phone=0912000002"));
	ASSERT_OK(th_put(b, "health_profile", "HP-1", "phone=0912000003"));
	th_sync(a, b, dir);
	th_sync(b, a, dir);
	ASSERT_EQ(th_conflicts(a, "health_profile", "HP-1", NULL), 1);
	ASSERT_EQ(th_conflicts(b, "health_profile", "HP-1", NULL), 1);
	th_digest(a, da);
	th_digest(b, db);
	ASSERT_MEMEQ(da, db, 32);
	{
		/* three ops now: each has its op row, and the records row
		 * holds the state */
		struct store_txn *t;
		uint64_t ops = 0;
		size_t sl;
		ASSERT_OK(store_txn_begin(a->st, 1, &t));
		ASSERT_EQ(row_state(t, "HP-1", &sl, &ops), 0x99);
		ASSERT_EQ(ops, 3);
		store_txn_abort(t);
	}

	TEST_START("a resolution made from heads the record no longer has (a third value arrived since they were read) is refused, and writes nothing");
	{
		struct node *c = th_node(dir, net, "post", "bk/bt/qt/na-pai");
		uint8_t(*seen)[ENTRY_ID_LEN] =
			malloc(RECORD_MAX_SEEN_HEADS * ENTRY_ID_LEN);
		uint8_t swap[ENTRY_ID_LEN];
		size_t nseen = 0, failed, bl;
		struct log_author au;
		uint8_t *body = th_body("phone=0912000009", &bl);
		struct log_op op = { ENTRY_PUT, "health_profile", "HP-9", NULL,
				     body, bl, 1, NULL, 0 };
		uint64_t before;
		ASSERT_TRUE(seen != NULL);
		th_certify(c, net, "bk/bt/qt", "bk/bt/qt/na-pai", 0);
		ASSERT_OK(th_put(a, "health_profile", "HP-9", P1));
		th_sync(a, b, dir);
		th_sync(a, c, dir);
		/* three phones, each written without seeing the others */
		ASSERT_OK(th_put(a, "health_profile", "HP-9", "phone=0912000006"));
		ASSERT_OK(th_put(b, "health_profile", "HP-9", "phone=0912000007"));
		ASSERT_OK(th_put(c, "health_profile", "HP-9", "phone=0912000008"));
		th_sync(a, b, dir);
		ASSERT_EQ(th_conflicts(b, "health_profile", "HP-9", NULL), 1);
		ASSERT_EQ(heads_of(b, "HP-9", seen), 2);
		nseen = 2;
		/* the third arrives while b's operator chooses between two */
		th_sync(c, b, dir);
		ASSERT_EQ(th_conflicts(b, "health_profile", "HP-9", NULL), 1);
		before = th_count_entries(b);
		node_author(b, &au);
		op.heads = (const uint8_t(*)[ENTRY_ID_LEN])seen;
		op.nheads = nseen;
		ASSERT_EQ(log_write(b->st, &au, &op, 1, NULL, &failed, why,
				    sizeof(why), NULL),
			  HAMLET_ECHANGED);
		ASSERT_TRUE(strstr(why, "HP-9 changed since") != NULL);
		ASSERT_EQ(th_count_entries(b), before);
		ASSERT_EQ(th_conflicts(b, "health_profile", "HP-9", NULL), 1);
		/* a head given twice is not the record's heads either */
		memcpy(seen[1], seen[0], ENTRY_ID_LEN);
		op.nheads = 2;
		ASSERT_EQ(log_write(b->st, &au, &op, 1, NULL, &failed, why,
				    sizeof(why), NULL),
			  HAMLET_ECHANGED);

		TEST_START("a resolution made from the record's heads as they are, in any order, settles it");
		ASSERT_EQ(heads_of(b, "HP-9", seen), 3);
		nseen = 3;
		memcpy(swap, seen[0], ENTRY_ID_LEN);
		memcpy(seen[0], seen[2], ENTRY_ID_LEN);
		memcpy(seen[2], swap, ENTRY_ID_LEN);
		op.nheads = nseen;
		ASSERT_OK(log_write(b->st, &au, &op, 1, NULL, &failed, why,
				    sizeof(why), NULL));
		ASSERT_EQ(th_count_entries(b), before + 1);
		ASSERT_EQ(th_conflicts(b, "health_profile", "HP-9", NULL), 0);
		ASSERT_STREQ(th_field(b, "health_profile", "HP-9", "phone", buf,
				      sizeof(buf)),
			     "0912000009");
		free(body);
		free(seen);
	}

	TEST_START("a resolution naming every head clears the conflict everywhere");
	ASSERT_OK(th_write(b, ENTRY_PUT, "health_profile", "HP-1",
			   "phone=0912000003", 1, why, sizeof(why)));
	ASSERT_EQ(th_conflicts(b, "health_profile", "HP-1", NULL), 0);
	th_sync(b, a, dir);
	ASSERT_EQ(th_conflicts(a, "health_profile", "HP-1", NULL), 0);
	ASSERT_STREQ(th_field(a, "health_profile", "HP-1", "phone", buf,
			      sizeof(buf)),
		     "0912000003");
	th_digest(a, da);
	th_digest(b, db);
	ASSERT_MEMEQ(da, db, 32);

	TEST_START("concurrent lww edits merge silently to the newest");
	ASSERT_OK(th_put(a, "health_profile", "HP-1", "village=na-pai"));
	usleep(2000);
	ASSERT_OK(th_put(b, "health_profile", "HP-1", "village=na-hai"));
	th_sync(a, b, dir);
	th_sync(b, a, dir);
	ASSERT_EQ(th_conflicts(a, "health_profile", "HP-1", NULL), 0);
	ASSERT_STREQ(th_field(a, "health_profile", "HP-1", "village", buf,
			      sizeof(buf)),
		     "na-hai");

	TEST_START("same beneficiary, programme and month under two ids is a duplicate on both");
	ASSERT_OK(th_put(a, "payment", "PAY-A",
			 "program=forest_service;beneficiary_id=B9;period=2026-09;amount_vnd=#300000;status=created"));
	ASSERT_OK(th_put(b, "payment", "PAY-B",
			 "program=forest_service;beneficiary_id=B9;period=2026-09;amount_vnd=#300000;status=created"));
	th_sync(a, b, dir);
	th_sync(b, a, dir);
	th_conflicts(a, "payment", "PAY-A", &dups);
	ASSERT_EQ(dups, 1);
	th_conflicts(b, "payment", "PAY-B", &dups);
	ASSERT_EQ(dups, 1);
	TEST_START("a record with a field conflict and a duplicate is listed once");
	ASSERT_OK(th_put(a, "payment", "PAY-A", "status=confirmed"));
	ASSERT_OK(th_put(b, "payment", "PAY-A", "status=failed"));
	th_sync(a, b, dir);
	th_sync(b, a, dir);
	ASSERT_EQ(th_conflicts(a, "payment", "PAY-A", &dups), 1);
	ASSERT_EQ(dups, 1);
	{
		struct store_txn *t;
		struct listed l = { "PAY-A", 0, 0 };
		ASSERT_OK(store_txn_begin(a->st, 1, &t));
		ASSERT_OK(record_conflicts_each(t, count_listed, &l));
		store_txn_abort(t);
		ASSERT_EQ(l.self, 1);
		ASSERT_TRUE(l.all >= 2); /* PAY-A and its duplicate PAY-B */
	}

	TEST_START("deleting one duplicate clears the duplicate");
	ASSERT_OK(th_write(a, ENTRY_DELETE, "payment", "PAY-B", NULL, 0, why,
			   sizeof(why)));
	th_conflicts(a, "payment", "PAY-A", &dups);
	ASSERT_EQ(dups, 0);

	TEST_START("a reversal (reversal_of) is no duplicate of the payment it reverses");
	{
		const char *key = "program=social_allowance;beneficiary_id=B5;period=2026-10;amount_vnd=#100000;status=created";
		char spec[256];
		ASSERT_OK(th_put(a, "payment", "PAY-R1", key));
		snprintf(spec, sizeof(spec), "%s;reversal_of=PAY-R1", key);
		ASSERT_OK(th_put(a, "payment", "PAY-R1-REV", spec));
		th_conflicts(a, "payment", "PAY-R1", &dups);
		ASSERT_EQ(dups, 0);
		th_conflicts(a, "payment", "PAY-R1-REV", &dups);
		ASSERT_EQ(dups, 0);
		TEST_START("two reversals of one payment are duplicates of each other");
		ASSERT_OK(th_put(a, "payment", "PAY-R1-REV2", spec));
		th_conflicts(a, "payment", "PAY-R1-REV2", &dups);
		ASSERT_EQ(dups, 1);
		th_conflicts(a, "payment", "PAY-R1", &dups);
		ASSERT_EQ(dups, 0);
		ASSERT_OK(th_write(a, ENTRY_DELETE, "payment", "PAY-R1-REV2",
				   NULL, 0, why, sizeof(why)));
		TEST_START("a put to a deleted record without every required field says it was deleted");
		ASSERT_EQ(th_write(a, ENTRY_PUT, "payment", "PAY-R1-REV2",
				   "status=approved", 0, why, sizeof(why)),
			  HAMLET_ESCHEMA);
		ASSERT_TRUE(strstr(why, "was deleted") != NULL);
		ASSERT_TRUE(strstr(why, "program") != NULL);
		TEST_START("a reversal naming a payment this node does not hold is refused, naming it");
		snprintf(spec, sizeof(spec), "%s;reversal_of=PAY-NO-SUCH", key);
		ASSERT_EQ(th_write(a, ENTRY_PUT, "payment", "PAY-R2", spec, 0,
				   why, sizeof(why)),
			  HAMLET_ESCHEMA);
		ASSERT_TRUE(strstr(why, "PAY-NO-SUCH") != NULL);
		TEST_START("changing an immutable field names the correction field");
		ASSERT_EQ(th_write(a, ENTRY_PUT, "payment", "PAY-R1",
				   "amount_vnd=#1", 0, why, sizeof(why)),
			  HAMLET_EIMMUTABLE);
		ASSERT_TRUE(strstr(why, "\"reversal_of\":\"PAY-R1\"") != NULL);
	}

	TEST_START("the index of shared unique keys follows writes and deletions");
	{
		const char *same = "program=forest_service;beneficiary_id=S1;period=2026-10;amount_vnd=#1000;status=created";
		char l1[256];
		ASSERT_OK(th_put(a, "payment", "PAY-SX", same));
		ASSERT_OK(th_put(a, "payment", "PAY-SY", same));
		ASSERT_OK(th_put(a, "payment", "PAY-SZ", same));
		listed_shared(a, l1);
		ASSERT_STREQ(l1, "PAY-SX,PAY-SY,PAY-SZ,");
		ASSERT_OK(th_write(a, ENTRY_DELETE, "payment", "PAY-SZ", NULL, 0,
				   why, sizeof(why)));
		listed_shared(a, l1);
		ASSERT_STREQ(l1, "PAY-SX,PAY-SY,");
		ASSERT_OK(th_write(a, ENTRY_DELETE, "payment", "PAY-SY", NULL, 0,
				   why, sizeof(why)));
		listed_shared(a, l1);
		ASSERT_STREQ(l1, "");
	}

	TEST_START("approved on one node and disbursed on the other merge to disbursed");
	ASSERT_OK(th_put(a, "payment", "PAY-1", "status=approved"));
	ASSERT_OK(th_put(b, "payment", "PAY-1", "status=approved"));
	th_sync(a, b, dir);
	th_sync(b, a, dir);
	ASSERT_OK(th_put(a, "payment", "PAY-1", "status=approved"));
	ASSERT_OK(th_put(b, "payment", "PAY-1", "status=disbursed"));
	th_sync(a, b, dir);
	th_sync(b, a, dir);
	ASSERT_EQ(th_conflicts(a, "payment", "PAY-1", NULL), 0);
	ASSERT_STREQ(th_field(a, "payment", "PAY-1", "status", buf,
			      sizeof(buf)),
		     "disbursed");
	ASSERT_STREQ(th_field(b, "payment", "PAY-1", "status", buf,
			      sizeof(buf)),
		     "disbursed");

	TEST_START("confirmed on one node and failed on the other is a conflict");
	ASSERT_OK(th_put(a, "payment", "PAY-1", "status=confirmed"));
	ASSERT_OK(th_put(b, "payment", "PAY-1", "status=failed"));
	th_sync(a, b, dir);
	th_sync(b, a, dir);
	ASSERT_EQ(th_conflicts(a, "payment", "PAY-1", NULL), 1);
	ASSERT_EQ(th_conflicts(b, "payment", "PAY-1", NULL), 1);

	TEST_START("a local write moves a payment's status forward only, naming the rule");
	ASSERT_OK(th_put(a, "payment", "PAY-S",
			 "program=social_allowance;beneficiary_id=B7;period=2026-10;amount_vnd=#500000;status=created"));
	ASSERT_OK(th_put(a, "payment", "PAY-S", "status=disbursed"));
	ASSERT_OK(th_put(a, "payment", "PAY-S", "status=confirmed"));
	ASSERT_EQ(th_write(a, ENTRY_PUT, "payment", "PAY-S", "status=created", 0,
			   why, sizeof(why)),
		  HAMLET_ESTATE);
	ASSERT_STREQ(why, "payment.status moves forward only (created → approved → disbursed → confirmed|failed); it is confirmed");
	ASSERT_EQ(th_write(a, ENTRY_PUT, "payment", "PAY-S", "status=failed", 0,
			   why, sizeof(why)),
		  HAMLET_ESTATE);
	ASSERT_EQ(th_write(a, ENTRY_PUT, "payment", "PAY-S", "status=~", 0,
			   why, sizeof(why)),
		  HAMLET_ESTATE);
	ASSERT_EQ(th_write(a, ENTRY_PUT, "payment", "PAY-S", "status=created", 1,
			   why, sizeof(why)),
		  HAMLET_ESTATE);
	ASSERT_OK(th_put(a, "payment", "PAY-S", "status=confirmed"));
	ASSERT_STREQ(th_field(a, "payment", "PAY-S", "status", buf, sizeof(buf)),
		     "confirmed");

	TEST_START("a registration's status moves forward only too");
	ASSERT_OK(th_put(a, "registration", "REG-1",
			 "procedure_code=P1;applicant_id=A1;submitted_at=2026-10-01;status=processing"));
	ASSERT_EQ(th_write(a, ENTRY_PUT, "registration", "REG-1", "status=received",
			   0, why, sizeof(why)),
		  HAMLET_ESTATE);
	ASSERT_TRUE(strstr(why, "registration.status moves forward only (received → processing → approved|rejected|returned); it is processing") != NULL);
	ASSERT_OK(th_put(a, "registration", "REG-1", "status=returned"));

	TEST_START("a state in conflict takes a write of either value or what follows one");
	ASSERT_EQ(th_conflicts(a, "payment", "PAY-1", NULL), 1);
	ASSERT_EQ(th_write(a, ENTRY_PUT, "payment", "PAY-1", "status=disbursed",
			   0, why, sizeof(why)),
		  HAMLET_ESTATE);
	ASSERT_TRUE(strstr(why, "confirmed") && strstr(why, "failed"));
	ASSERT_OK(th_write(a, ENTRY_PUT, "payment", "PAY-1", "status=confirmed",
			   1, why, sizeof(why)));
	ASSERT_EQ(th_conflicts(a, "payment", "PAY-1", NULL), 0);
	th_sync(a, b, dir);
	ASSERT_EQ(th_conflicts(b, "payment", "PAY-1", NULL), 0);

	TEST_START("an immutable field cannot be changed by a plain put");
	ASSERT_EQ(th_write(a, ENTRY_PUT, "payment", "PAY-1", "amount_vnd=#1", 0,
			   why, sizeof(why)),
		  HAMLET_EIMMUTABLE);
	ASSERT_TRUE(strstr(why, "amount_vnd") != NULL);

	TEST_START("update versus concurrent delete is a conflict, and the data stays");
	ASSERT_OK(th_put(a, "health_profile", "HP-2",
			 "person_id=001122334466;full_name=Ha Van Tu;birth_date=1985-02-03"));
	th_sync(a, b, dir);
	ASSERT_OK(th_write(a, ENTRY_DELETE, "health_profile", "HP-2", NULL, 0,
			   why, sizeof(why)));
	ASSERT_OK(th_put(b, "health_profile", "HP-2", "phone=0988000111"));
	th_sync(a, b, dir);
	th_sync(b, a, dir);
	ASSERT_EQ(th_conflicts(a, "health_profile", "HP-2", NULL), 1);
	ASSERT_STREQ(th_field(a, "health_profile", "HP-2", "phone", buf,
			      sizeof(buf)),
		     "0988000111");
	ASSERT_STREQ(th_field(a, "health_profile", "HP-2", "full_name", buf,
			      sizeof(buf)),
		     "Ha Van Tu");
	th_digest(a, da);
	th_digest(b, db);
	ASSERT_MEMEQ(da, db, 32);

	TEST_START("concurrent different values of an immutable field conflict; a resolution clears it");
	ASSERT_OK(th_put(a, "health_event", "EV-1",
			 "person_id=001122334455;kind=immunization;date=2026-10-01;code=BCG"));
	ASSERT_OK(th_put(b, "health_event", "EV-1",
			 "person_id=001122334455;kind=immunization;date=2026-10-02;code=BCG"));
	th_sync(a, b, dir);
	th_sync(b, a, dir);
	ASSERT_EQ(th_conflicts(a, "health_event", "EV-1", NULL), 1);
	ASSERT_EQ(th_conflicts(b, "health_event", "EV-1", NULL), 1);
	ASSERT_OK(th_write(a, ENTRY_PUT, "health_event", "EV-1",
			   "date=2026-10-01", 1, why, sizeof(why)));
	ASSERT_EQ(th_conflicts(a, "health_event", "EV-1", NULL), 0);
	th_sync(a, b, dir);
	ASSERT_EQ(th_conflicts(b, "health_event", "EV-1", NULL), 0);
	ASSERT_STREQ(th_field(b, "health_event", "EV-1", "date", buf,
			      sizeof(buf)),
		     "2026-10-01");

	TEST_START("a resolution that changes an agreed immutable value is refused, writing nothing");
	ASSERT_EQ(th_write(a, ENTRY_PUT, "health_event", "EV-1", "code=OPV", 1,
			   why, sizeof(why)),
		  HAMLET_EIMMUTABLE);
	ASSERT_TRUE(strstr(why, "is in no conflict: a resolution keeps its value") != NULL);
	ASSERT_EQ(th_conflicts(a, "health_event", "EV-1", NULL), 0);
	ASSERT_STREQ(th_field(a, "health_event", "EV-1", "code", buf,
			      sizeof(buf)),
		     "BCG");

	TEST_START("the kept digest follows every change: equal on equal replicas, different otherwise");
	th_sync(a, b, dir);
	th_sync(b, a, dir);
	th_digest(a, da);
	th_digest(b, db);
	ASSERT_MEMEQ(da, db, 32);
	{
		/* recomputed from the rows, by reference or not, it is the
		 * kept one */
		struct store_txn *t;
		uint8_t re[32];
		ASSERT_OK(store_txn_begin(a->st, 1, &t));
		ASSERT_OK(record_digest_recompute(t, re, NULL));
		store_txn_abort(t);
		ASSERT_MEMEQ(re, da, 32);
	}
	ASSERT_OK(th_put(a, "health_profile", "HP-1", "village=khuoi-ta"));
	th_digest(a, da);
	ASSERT_TRUE(memcmp(da, db, 32) != 0);

	TEST_START("a tampered kept digest fails the audit, named");
	{
		struct store_txn *t;
		struct audit_report ar;
		const void *v;
		size_t vl;
		uint8_t kept[40];
		ASSERT_OK(audit_store(a->st, a->net.id, &ar));
		ASSERT_TRUE(!audit_failed(&ar));
		audit_report_close(&ar);
		ASSERT_OK(store_txn_begin(a->st, 0, &t));
		ASSERT_OK(store_get(t, ST_META, "digest", 6, &v, &vl));
		ASSERT_EQ(vl, 40);
		memcpy(kept, v, 40);
		kept[0] ^= 1;
		ASSERT_OK(store_put(t, ST_META, "digest", 6, kept, 40, 0));
		ASSERT_OK(store_txn_commit(t));
		ASSERT_OK(audit_store(a->st, a->net.id, &ar));
		ASSERT_TRUE(audit_failed(&ar));
		ASSERT_EQ(ar.digest_mismatch, 1);
		ASSERT_EQ(problems_count(&ar.problems, "digest"), 1);
		audit_report_close(&ar);
	}

	TEST_START("a record whose row names an entry that is not there: a local write is refused as damage, an arriving one is stored; verify names the damage");
	{
		struct node *d = th_node(dir, net, "damaged", "bk/bt/qt/na-pai");
		struct node *e = th_node(dir, net, "other", "bk/bt/qt/na-pai");
		struct audit_report ar;
		struct store_txn *t;
		uint8_t key[RECORD_KEY_MAX];
		size_t kl = record_key("health_profile", "HP-D", key);
		ASSERT_OK(th_put(d, "health_profile", "HP-D",
				 "person_id=001122334499;full_name=Da Thi Mo;birth_date=2001-02-03"));
		/* change seq 1, then the one op at local seq 2^32 - 1
		 * (varints) */
		ASSERT_OK(store_txn_begin(d->st, 0, &t));
		ASSERT_OK(store_put(t, ST_RECORDS, key, kl,
				    "\x01\x01\xff\xff\xff\xff\x0f", 7, 0));
		ASSERT_OK(store_txn_commit(t));
		ASSERT_EQ(th_put(d, "health_profile", "HP-D", "phone=0912000009"),
			  HAMLET_ECORRUPT);
		ASSERT_OK(th_put(e, "health_profile", "HP-D",
				 "person_id=001122334497;full_name=Da Thi Nam;birth_date=2001-02-04"));
		ASSERT_OK(th_put(e, "health_profile", "HP-F",
				 "person_id=001122334496;full_name=Da Van Ba;birth_date=2001-02-05"));
		th_sync(e, d, dir);
		/* the arriving puts, the damaged record's too */
		static const char *const names[][2] = {
			{ "HP-F", "Da Van Ba" }, { "HP-D", "Da Thi Nam" }
		};
		for (size_t i = 0; i < 2; i++)
			ASSERT_STREQ(th_field(d, "health_profile", names[i][0],
					      "full_name", buf, sizeof(buf)),
				     names[i][1]);
		ASSERT_OK(audit_store(d->st, d->net.id, &ar));
		ASSERT_TRUE(audit_failed(&ar));
		ASSERT_EQ(ar.digest_mismatch, 1);
		audit_report_close(&ar);
		node_close(d);
		node_close(e);
	}

	node_close(a);
	node_close(b);
	th_rmrf(dir);
	free(net);
	free(dir);
	TEST_DONE();
}
