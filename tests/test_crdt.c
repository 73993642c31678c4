/*
 * The merge rules on their own: operations in, field states out, no store.
 * Each case builds a small causal graph by hand.
 */
#include "crdt.h"
#include "helpers.h"

#define MAXOPS 16

struct ops {
	struct crdt_op v[MAXOPS];
	struct mp_doc docs[MAXOPS];
	uint8_t *bufs[MAXOPS];
	size_t n;
};

/* Add an op: hlc in ms, author a small number, body in th_body notation
 * (NULL: a delete, or a put whose body is not held), deps -1 ended. */
static size_t op(struct ops *o, int kind, uint64_t ms, int author,
		 const char *spec, const int *deps)
{
	struct crdt_op *c = &o->v[o->n];
	size_t len;

	ASSERT_TRUE(o->n < MAXOPS);
	memset(c, 0, sizeof(*c));
	/* ids not in hlc order, so nothing leans on it */
	memset(c->id, (int)(0xf0 - 7 * o->n), ENTRY_ID_LEN);
	memset(c->author, author, ENTRY_KEY_LEN);
	c->hlc = ms << 16;
	c->kind = kind;
	for (; deps && *deps >= 0; deps++)
		memcpy(c->deps[c->ndeps++], o->v[*deps].id, ENTRY_ID_LEN);
	o->bufs[o->n] = NULL;
	if (kind == ENTRY_PUT && spec) {
		o->bufs[o->n] = th_body(spec, &len);
		ASSERT_OK(mp_doc_parse(&o->docs[o->n], o->bufs[o->n], len, 64));
		c->fields = o->docs[o->n].root->via.map.ptr;
		c->nfields = o->docs[o->n].root->via.map.size;
	}
	return o->n++;
}

static void ops_free(struct ops *o)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->bufs[i]) {
			mp_doc_close(&o->docs[i]);
			free(o->bufs[i]);
		}
	o->n = 0;
}

static const struct crdt_field *field(const struct crdt_record *r,
				      const char *coll, const char *name)
{
	const struct schema *s = schema_find(coll);
	int fi = schema_field_index(s, name, strlen(name));
	ASSERT_TRUE(fi >= 0);
	return &r->fields[fi];
}

/* The field's value as text ("" unset, "#n" an integer). */
static const char *text(const struct crdt_record *r, const char *coll,
			const char *name)
{
	static char buf[128];
	const msgpack_object *v = field(r, coll, name)->value;
	buf[0] = 0;
	if (v && v->type == MSGPACK_OBJECT_STR)
		snprintf(buf, sizeof(buf), "%.*s", (int)v->via.str.size,
			 v->via.str.ptr);
	else if (v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		snprintf(buf, sizeof(buf), "#%llu",
			 (unsigned long long)v->via.u64);
	else if (v)
		snprintf(buf, sizeof(buf), "?");
	return buf;
}

static void settle(struct ops *o, const char *coll, struct crdt_record *r)
{
	ASSERT_OK(crdt_record_settle(o->v, o->n, schema_find(coll), r));
}

#define HP "health_profile"
#define PAY "payment"
#define HP0 "person_id=001122334455;full_name=Lo Thi Mai;birth_date=1990-04-12"
#define PAY0 "program=social_allowance;beneficiary_id=B1;period=2026-10;amount_vnd=#500000"

static void case_single_and_descendants(void)
{
	struct ops o = { 0 };
	struct crdt_record r;

	TEST_START("one put: its values, one head, no conflict");
	op(&o, ENTRY_PUT, 100, 1, HP0 ";phone=0911", NULL);
	settle(&o, HP, &r);
	ASSERT_STREQ(text(&r, HP, "phone"), "0911");
	ASSERT_STREQ(text(&r, HP, "village"), "");
	ASSERT_EQ(r.nheads, 1);
	ASSERT_EQ(r.deleted, 0);
	ASSERT_EQ(r.nconflicts, 0);
	ASSERT_EQ(r.newest, 100ull << 16);
	crdt_record_close(&r);

	TEST_START("a causal descendant's value replaces its ancestor's, for every rule but immutable");
	op(&o, ENTRY_PUT, 200, 2, "phone=0922;village=na-pai",
	   (int[]){ 0, -1 });
	settle(&o, HP, &r);
	ASSERT_STREQ(text(&r, HP, "phone"), "0922");
	ASSERT_STREQ(text(&r, HP, "village"), "na-pai");
	ASSERT_STREQ(text(&r, HP, "full_name"), "Lo Thi Mai");
	ASSERT_EQ(field(&r, HP, "phone")->ncands, 1);
	ASSERT_EQ(r.nconflicts, 0);
	ASSERT_EQ(r.nheads, 1);
	ASSERT_EQ(r.heads[0], 1);
	ASSERT_TRUE(crdt_descends(&r, 1, 0));
	ASSERT_TRUE(!crdt_descends(&r, 0, 1));
	crdt_record_close(&r);

	TEST_START("a descendant dated before its dep (a clock behind) still supersedes it");
	op(&o, ENTRY_PUT, 50, 3, "phone=0933", (int[]){ 1, -1 });
	settle(&o, HP, &r);
	ASSERT_STREQ(text(&r, HP, "phone"), "0933");
	ASSERT_EQ(r.nconflicts, 0);
	ASSERT_EQ(r.newest, 200ull << 16);
	crdt_record_close(&r);

	TEST_START("nil clears a field");
	op(&o, ENTRY_PUT, 300, 1, "village=~", (int[]){ 2, -1 });
	settle(&o, HP, &r);
	ASSERT_STREQ(text(&r, HP, "village"), "");
	crdt_record_close(&r);

	TEST_START("a put whose body is not held writes no field");
	op(&o, ENTRY_PUT, 400, 1, NULL, (int[]){ 3, -1 });
	settle(&o, HP, &r);
	ASSERT_STREQ(text(&r, HP, "phone"), "0933");
	ASSERT_EQ(r.nheads, 1);
	ASSERT_EQ(r.heads[0], 4);
	crdt_record_close(&r);
	ops_free(&o);
}

static void case_concurrent(void)
{
	struct ops o = { 0 };
	struct crdt_record r;
	const struct crdt_field *f;

	op(&o, ENTRY_PUT, 100, 1, HP0, NULL);
	op(&o, ENTRY_PUT, 200, 1, "phone=0911;village=na-pai",
	   (int[]){ 0, -1 });
	op(&o, ENTRY_PUT, 300, 2, "phone=0922;village=na-hai",
	   (int[]){ 0, -1 });

	TEST_START("mv: concurrent different values conflict, newest shown and listed first");
	settle(&o, HP, &r);
	f = field(&r, HP, "phone");
	ASSERT_EQ(f->conflict, 1);
	ASSERT_EQ(f->ncands, 2);
	ASSERT_EQ(f->cands[0].op, 2);
	ASSERT_EQ(f->cands[1].op, 1);
	ASSERT_STREQ(text(&r, HP, "phone"), "0922");
	ASSERT_EQ(r.nheads, 2);

	TEST_START("lww: concurrent different values merge silently to the newest");
	ASSERT_EQ(field(&r, HP, "village")->conflict, 0);
	ASSERT_STREQ(text(&r, HP, "village"), "na-hai");
	ASSERT_EQ(r.nconflicts, 1);
	crdt_record_close(&r);

	TEST_START("lww: at equal HLC the larger author key wins");
	o.v[1].hlc = o.v[2].hlc;
	o.v[1].author[0] = 9;
	settle(&o, HP, &r);
	ASSERT_STREQ(text(&r, HP, "village"), "na-pai");
	crdt_record_close(&r);

	TEST_START("mv: concurrent equal values agree");
	ops_free(&o);
	op(&o, ENTRY_PUT, 100, 1, HP0, NULL);
	op(&o, ENTRY_PUT, 200, 1, "phone=0911", (int[]){ 0, -1 });
	op(&o, ENTRY_PUT, 300, 2, "phone=0911", (int[]){ 0, -1 });
	settle(&o, HP, &r);
	ASSERT_EQ(r.nconflicts, 0);
	ASSERT_STREQ(text(&r, HP, "phone"), "0911");
	crdt_record_close(&r);

	TEST_START("a put naming both heads settles the conflict");
	op(&o, ENTRY_PUT, 150, 1, "phone=0944", (int[]){ 1, 2, -1 });
	settle(&o, HP, &r);
	ASSERT_EQ(r.nconflicts, 0);
	ASSERT_STREQ(text(&r, HP, "phone"), "0944");
	ASSERT_EQ(r.nheads, 1);
	crdt_record_close(&r);
	ops_free(&o);
}

static void case_state(void)
{
	struct ops o = { 0 };
	struct crdt_record r;
	const struct crdt_field *f;

	op(&o, ENTRY_PUT, 100, 1, PAY0 ";status=created", NULL);
	op(&o, ENTRY_PUT, 200, 1, "status=approved", (int[]){ 0, -1 });

	TEST_START("state: concurrent approved and disbursed merge to disbursed");
	op(&o, ENTRY_PUT, 300, 1, "status=approved", (int[]){ 1, -1 });
	op(&o, ENTRY_PUT, 250, 2, "status=disbursed", (int[]){ 1, -1 });
	settle(&o, PAY, &r);
	ASSERT_STREQ(text(&r, PAY, "status"), "disbursed");
	ASSERT_EQ(field(&r, PAY, "status")->conflict, 0);
	ASSERT_EQ(r.nconflicts, 0);
	crdt_record_close(&r);

	TEST_START("state: confirmed versus failed is a conflict showing the newest");
	op(&o, ENTRY_PUT, 400, 1, "status=confirmed", (int[]){ 2, 3, -1 });
	op(&o, ENTRY_PUT, 500, 2, "status=failed", (int[]){ 2, 3, -1 });
	settle(&o, PAY, &r);
	f = field(&r, PAY, "status");
	ASSERT_EQ(f->conflict, 1);
	ASSERT_EQ(f->ncands, 2);
	ASSERT_STREQ(text(&r, PAY, "status"), "failed");
	crdt_record_close(&r);

	TEST_START("state: a third concurrent earlier state does not hide the conflict");
	op(&o, ENTRY_PUT, 600, 3, "status=disbursed", (int[]){ 2, 3, -1 });
	settle(&o, PAY, &r);
	ASSERT_EQ(field(&r, PAY, "status")->conflict, 1);
	ASSERT_EQ(field(&r, PAY, "status")->ncands, 3);
	ASSERT_STREQ(text(&r, PAY, "status"), "failed");
	crdt_record_close(&r);

	TEST_START("state: a later op in causal order sets the state, even backwards (history is not judged)");
	op(&o, ENTRY_PUT, 700, 1, "status=created", (int[]){ 4, 5, 6, -1 });
	settle(&o, PAY, &r);
	ASSERT_EQ(r.nconflicts, 0);
	ASSERT_STREQ(text(&r, PAY, "status"), "created");
	crdt_record_close(&r);
	ops_free(&o);
}

static void case_immutable(void)
{
	struct ops o = { 0 };
	struct crdt_record r;
	const struct crdt_field *f;

	TEST_START("immutable: the same value written again is no conflict");
	op(&o, ENTRY_PUT, 100, 1, PAY0, NULL);
	op(&o, ENTRY_PUT, 200, 1, "amount_vnd=#500000", (int[]){ 0, -1 });
	settle(&o, PAY, &r);
	ASSERT_EQ(r.nconflicts, 0);
	crdt_record_close(&r);

	TEST_START("immutable: a sequential change is a conflict, the earlier value a candidate");
	op(&o, ENTRY_PUT, 300, 2, "amount_vnd=#1", (int[]){ 1, -1 });
	settle(&o, PAY, &r);
	f = field(&r, PAY, "amount_vnd");
	ASSERT_EQ(f->conflict, 1);
	ASSERT_EQ(f->ncands, 2);
	ASSERT_EQ(f->cands[0].op, 2);
	ASSERT_EQ(f->cands[1].op, 1);
	ASSERT_STREQ(text(&r, PAY, "amount_vnd"), "#1");
	crdt_record_close(&r);

	TEST_START("immutable: a resolution re-asserting the value it follows settles it");
	op(&o, ENTRY_PUT, 400, 1, "amount_vnd=#1", (int[]){ 2, -1 });
	settle(&o, PAY, &r);
	ASSERT_EQ(field(&r, PAY, "amount_vnd")->conflict, 0);
	ASSERT_STREQ(text(&r, PAY, "amount_vnd"), "#1");
	crdt_record_close(&r);
	ops_free(&o);

	TEST_START("immutable: concurrent different first values conflict");
	op(&o, ENTRY_PUT, 100, 1, PAY0, NULL);
	op(&o, ENTRY_PUT, 100, 2,
	   "program=social_allowance;beneficiary_id=B1;period=2026-11;amount_vnd=#500000",
	   NULL);
	settle(&o, PAY, &r);
	ASSERT_EQ(field(&r, PAY, "period")->conflict, 1);
	ASSERT_EQ(field(&r, PAY, "program")->conflict, 0);
	ASSERT_EQ(r.nconflicts, 1);
	crdt_record_close(&r);
	ops_free(&o);
}

static void case_delete(void)
{
	struct ops o = { 0 };
	struct crdt_record r;

	op(&o, ENTRY_PUT, 100, 1, HP0 ";phone=0911", NULL);

	TEST_START("a delete descending from every put deletes the record");
	op(&o, ENTRY_DELETE, 200, 1, NULL, (int[]){ 0, -1 });
	settle(&o, HP, &r);
	ASSERT_EQ(r.deleted, 1);
	ASSERT_STREQ(text(&r, HP, "full_name"), "");
	ASSERT_EQ(r.nconflicts, 0);
	crdt_record_close(&r);

	TEST_START("delete versus a concurrent update: live, all data shown, one conflict over both heads");
	op(&o, ENTRY_PUT, 150, 2, "village=na-pai", (int[]){ 0, -1 });
	settle(&o, HP, &r);
	ASSERT_EQ(r.deleted, 0);
	ASSERT_EQ(r.removal.conflict, 1);
	ASSERT_EQ(r.removal.ncands, 2);
	ASSERT_EQ(r.removal.cands[0].op, 1); /* the newest first */
	ASSERT_TRUE(r.removal.cands[0].val == NULL);
	ASSERT_EQ(r.nconflicts, 1);
	ASSERT_STREQ(text(&r, HP, "full_name"), "Lo Thi Mai");
	ASSERT_STREQ(text(&r, HP, "phone"), "0911");
	ASSERT_STREQ(text(&r, HP, "village"), "na-pai");
	crdt_record_close(&r);

	TEST_START("a put after the delete re-creates the record; fields the delete superseded stay empty");
	op(&o, ENTRY_PUT, 300, 1, "full_name=Lo Van A", (int[]){ 1, 2, -1 });
	settle(&o, HP, &r);
	ASSERT_EQ(r.deleted, 0);
	ASSERT_EQ(r.nconflicts, 0);
	ASSERT_STREQ(text(&r, HP, "full_name"), "Lo Van A");
	ASSERT_STREQ(text(&r, HP, "phone"), "");
	/* written concurrently with the delete: the delete never saw it */
	ASSERT_STREQ(text(&r, HP, "village"), "na-pai");
	crdt_record_close(&r);
	ops_free(&o);
}

static void case_order_free(void)
{
	struct ops o = { 0 }, p = { 0 };
	struct crdt_record r, q;
	const char *specs[] = { HP0, "phone=0911", "phone=0922;village=x",
				"village=y", NULL };
	const int deps[][3] = { { -1 }, { 0, -1 }, { 0, -1 }, { 1, 2, -1 },
				{ 1, -1 } };

	TEST_START("the state does not depend on the order the ops are given in");
	for (int i = 0; i < 5; i++)
		op(&o, i == 4 ? ENTRY_DELETE : ENTRY_PUT, 100 + 10 * (uint64_t)i,
		   1 + i % 2, specs[i], deps[i]);
	/* the same ops, reversed: rebuild deps by id */
	for (int i = 4; i >= 0; i--) {
		p.v[p.n] = o.v[i];
		p.n++;
	}
	settle(&o, HP, &r);
	ASSERT_OK(crdt_record_settle(p.v, p.n, schema_find(HP), &q));
	ASSERT_EQ(r.nheads, q.nheads);
	for (size_t i = 0; i < r.nheads; i++)
		ASSERT_MEMEQ(o.v[r.heads[i]].id, p.v[q.heads[i]].id, 32);
	ASSERT_EQ(r.deleted, q.deleted);
	ASSERT_EQ(r.nconflicts, q.nconflicts);
	ASSERT_EQ(r.removal.conflict, 1);
	for (size_t fi = 0; fi < r.nfields; fi++) {
		const msgpack_object *a = r.fields[fi].value;
		const msgpack_object *b = q.fields[fi].value;
		ASSERT_TRUE((!a && !b) || (a && b && mp_object_equal(a, b)));
		ASSERT_EQ(r.fields[fi].ncands, q.fields[fi].ncands);
	}
	crdt_record_close(&r);
	crdt_record_close(&q);
	ops_free(&o);
}

int main(void)
{
	case_single_and_descendants();
	case_concurrent();
	case_state();
	case_immutable();
	case_delete();
	case_order_free();
	TEST_DONE();
}
