/* Validation: every collection's fields, good and bad values, and the
 * messages that name them. */
#include "helpers.h"
#include "schema.h"

/* A body of one field; kind 's' text, 'i' integer, 'n' nil, 'm' a map
 * of one entry (text -> text), 'b' binary. */
static uint8_t *one(const char *name, char kind, const char *text,
		    int64_t i, size_t *ret_len)
{
	struct mp_writer w;
	mp_writer_init(&w);
	msgpack_pack_map(&w.pk, 1);
	mp_pack_str(&w.pk, name);
	switch (kind) {
	case 's':
		mp_pack_str(&w.pk, text);
		break;
	case 'i':
		msgpack_pack_int64(&w.pk, i);
		break;
	case 'n':
		msgpack_pack_nil(&w.pk);
		break;
	case 'm':
		msgpack_pack_map(&w.pk, 1);
		mp_pack_str(&w.pk, "k");
		mp_pack_str(&w.pk, text);
		break;
	default:
		mp_pack_bin(&w.pk, "x", 1);
		break;
	}
	uint8_t *b = mp_writer_take(&w, ret_len);
	mp_writer_destroy(&w);
	return b;
}

/* Check a body; returns the code, the message in why. */
static int check(const char *coll, const uint8_t *b, size_t len, char *why,
		 size_t wl)
{
	struct mp_doc d;
	int r;
	why[0] = 0;
	ASSERT_OK(mp_doc_parse(&d, b, len, 64));
	r = schema_check_body(schema_find(coll), d.root, why, wl);
	mp_doc_close(&d);
	return r;
}

static int check1(const char *coll, const char *name, char kind,
		  const char *text, int64_t i, char *why, size_t wl)
{
	size_t len;
	uint8_t *b = one(name, kind, text, i, &len);
	int r = check(coll, b, len, why, wl);
	free(b);
	return r;
}

/* A good value of f: kind and text. */
static char good(const struct schema_field *f, const char **text)
{
	switch (f->type) {
	case FT_INT:
		return 'i';
	case FT_DATE:
		*text = "2024-02-29";
		return 's';
	case FT_MONTH:
		*text = "2026-10";
		return 's';
	case FT_ENUM:
		*text = f->values[0];
		return 's';
	case FT_MAP:
		*text = "v";
		return 'm';
	default:
		*text = f->digits ? "001122334455" : "Lo Thi Mai";
		return 's';
	}
}

static void every_field(void)
{
	size_t ns;
	const struct schema *const *all = schema_all(&ns);
	char why[256], full[128];

	TEST_START("every field of every collection takes a good value and clears with nil");
	ASSERT_EQ(ns, 4);
	for (size_t k = 0; k < ns; k++)
		for (size_t i = 0; i < all[k]->nfields; i++) {
			const struct schema_field *f = &all[k]->fields[i];
			const char *text = "";
			char kind = good(f, &text);
			snprintf(full, sizeof(full), "%s.%s", all[k]->name,
				 f->name);
			if (check1(all[k]->name, f->name, kind, text, 5, why,
				   sizeof(why)) < 0)
				TEST_FAIL_("%s refused a good value: %s", full,
					   why);
			ASSERT_OK(check1(all[k]->name, f->name, 'n', NULL, 0,
					 why, sizeof(why)));
		}

	TEST_START("every field refuses a value of the wrong type, naming collection and field");
	for (size_t k = 0; k < ns; k++)
		for (size_t i = 0; i < all[k]->nfields; i++) {
			const struct schema_field *f = &all[k]->fields[i];
			int r = f->type == FT_INT
					? check1(all[k]->name, f->name, 's',
						 "lots", 0, why, sizeof(why))
					: check1(all[k]->name, f->name, 'b',
						 NULL, 0, why, sizeof(why));
			snprintf(full, sizeof(full), "%s.%s must be of type",
				 all[k]->name, f->name);
			ASSERT_EQ(r, HAMLET_ESCHEMA);
			if (!strstr(why, full))
				TEST_FAIL_("\"%s\" does not say \"%s\"", why,
					   full);
		}
}

static void texts(void)
{
	char why[256], big[SCHEMA_MAX_STR + 2];

	TEST_START("a date must be a real day: leap years count, months end");
	ASSERT_OK(check1("health_event", "date", 's', "2000-02-29", 0, why, sizeof(why)));
	ASSERT_EQ(check1("health_event", "date", 's', "2023-02-29", 0, why, sizeof(why)), HAMLET_ESCHEMA);
	ASSERT_TRUE(strstr(why, "health_event.date must be a date YYYY-MM-DD") != NULL);
	ASSERT_EQ(check1("health_event", "date", 's', "1900-02-29", 0, why, sizeof(why)), HAMLET_ESCHEMA);
	ASSERT_EQ(check1("health_event", "date", 's', "2026-04-31", 0, why, sizeof(why)), HAMLET_ESCHEMA);
	ASSERT_EQ(check1("health_event", "date", 's', "2026-4-01", 0, why, sizeof(why)), HAMLET_ESCHEMA);
	ASSERT_EQ(check1("registration", "due_date", 's', "26-04-01xx", 0, why, sizeof(why)), HAMLET_ESCHEMA);
	ASSERT_TRUE(strstr(why, "registration.due_date") != NULL);

	TEST_START("a month is YYYY-MM from 1800 to 2999");
	ASSERT_EQ(check1("payment", "period", 's', "2026-13", 0, why, sizeof(why)), HAMLET_ESCHEMA);
	ASSERT_TRUE(strstr(why, "payment.period must be a month YYYY-MM, not \"2026-13\"") != NULL);
	ASSERT_EQ(check1("payment", "period", 's', "1799-01", 0, why, sizeof(why)), HAMLET_ESCHEMA);
	ASSERT_EQ(check1("payment", "period", 's', "2026-00", 0, why, sizeof(why)), HAMLET_ESCHEMA);

	TEST_START("an enum value outside the list is refused, the list named");
	ASSERT_EQ(check1("health_profile", "blood_type", 's', "C+", 0, why, sizeof(why)), HAMLET_ESCHEMA);
	ASSERT_TRUE(strstr(why, "health_profile.blood_type must be one of A+, A-") != NULL);
	ASSERT_TRUE(strstr(why, "not \"C+\"") != NULL);
	ASSERT_EQ(check1("payment", "status", 's', "paid", 0, why, sizeof(why)), HAMLET_ESCHEMA);
	ASSERT_TRUE(strstr(why, "payment.status must be one of created") != NULL);

	TEST_START("a person id is exactly 12 digits");
	ASSERT_EQ(check1("health_profile", "person_id", 's', "00112233445", 0, why, sizeof(why)), HAMLET_ESCHEMA);
	ASSERT_TRUE(strstr(why, "health_profile.person_id must be exactly 12 digits") != NULL);
	ASSERT_EQ(check1("health_profile", "person_id", 's', "00112233445x", 0, why, sizeof(why)), HAMLET_ESCHEMA);

	TEST_START("a required text field must not be empty; an optional one may");
	ASSERT_EQ(check1("health_profile", "full_name", 's', "", 0, why, sizeof(why)), HAMLET_ESCHEMA);
	ASSERT_TRUE(strstr(why, "health_profile.full_name must not be empty") != NULL);
	ASSERT_OK(check1("health_profile", "village", 's', "", 0, why, sizeof(why)));
	ASSERT_EQ(check1("health_profile", "full_name", 's', "  \t ", 0, why, sizeof(why)), HAMLET_ESCHEMA);
	ASSERT_TRUE(strstr(why, "health_profile.full_name must not be blank") != NULL);
	ASSERT_OK(check1("health_profile", "full_name", 's', " Lo Thi Mai ", 0, why, sizeof(why)));
	ASSERT_OK(check1("health_profile", "village", 's', "  ", 0, why, sizeof(why)));

	TEST_START("text over 1,024 bytes, invalid UTF-8 or control characters are refused");
	memset(big, 'a', SCHEMA_MAX_STR + 1);
	big[SCHEMA_MAX_STR + 1] = 0;
	ASSERT_EQ(check1("health_event", "note", 's', big, 0, why, sizeof(why)), HAMLET_ESCHEMA);
	ASSERT_TRUE(strstr(why, "health_event.note must be text (UTF-8) of at most 1024 bytes") != NULL);
	big[SCHEMA_MAX_STR] = 0;
	ASSERT_OK(check1("health_event", "note", 's', big, 0, why, sizeof(why)));
	ASSERT_EQ(check1("health_event", "note", 's', "caf\xc3", 0, why, sizeof(why)), HAMLET_ESCHEMA);
	ASSERT_EQ(check1("health_event", "note", 's', "a\x01", 0, why, sizeof(why)), HAMLET_ESCHEMA);
	ASSERT_OK(check1("health_event", "note", 's', "Lò Thị Mai\tb\nc", 0, why, sizeof(why)));
}

static void numbers_and_maps(void)
{
	char why[256];
	struct mp_writer w;
	uint8_t *b;
	size_t len;

	TEST_START("an amount is an integer of 0 or more");
	ASSERT_OK(check1("payment", "amount_vnd", 'i', NULL, 0, why, sizeof(why)));
	ASSERT_EQ(check1("payment", "amount_vnd", 'i', NULL, -1, why, sizeof(why)), HAMLET_ESCHEMA);
	ASSERT_TRUE(strstr(why, "payment.amount_vnd must be 0 or more") != NULL);

	TEST_START("a map field holds at most 32 text entries with short keys");
	mp_writer_init(&w);
	msgpack_pack_map(&w.pk, 1);
	mp_pack_str(&w.pk, "details");
	msgpack_pack_map(&w.pk, SCHEMA_MAX_MAP + 1);
	for (int i = 0; i < SCHEMA_MAX_MAP + 1; i++) {
		char k[8];
		snprintf(k, sizeof(k), "k%d", i);
		mp_pack_str(&w.pk, k);
		mp_pack_str(&w.pk, "v");
	}
	b = mp_writer_take(&w, &len);
	ASSERT_EQ(check("registration", b, len, why, sizeof(why)), HAMLET_ESCHEMA);
	ASSERT_TRUE(strstr(why, "registration.details has 33 entries") != NULL);
	free(b);
	msgpack_pack_map(&w.pk, 1);
	mp_pack_str(&w.pk, "details");
	msgpack_pack_map(&w.pk, 1);
	mp_pack_str(&w.pk, "k");
	msgpack_pack_int64(&w.pk, 3);
	b = mp_writer_take(&w, &len);
	ASSERT_EQ(check("registration", b, len, why, sizeof(why)), HAMLET_ESCHEMA);
	ASSERT_TRUE(strstr(why, "registration.details.k must be text") != NULL);
	free(b);
	mp_writer_destroy(&w);
}

static void bodies(void)
{
	char why[256];
	struct mp_writer w;
	uint8_t *b;
	size_t len;

	TEST_START("an unknown field is refused by name");
	ASSERT_EQ(check1("payment", "shoe_size", 's', "42", 0, why, sizeof(why)), HAMLET_ESCHEMA);
	ASSERT_TRUE(strstr(why, "unknown field \"shoe_size\" in payment") != NULL);

	TEST_START("a field named twice is refused by name");
	b = th_body("village=a;village=b", &len);
	ASSERT_EQ(check("health_profile", b, len, why, sizeof(why)), HAMLET_ESCHEMA);
	ASSERT_TRUE(strstr(why, "field \"village\" appears twice") != NULL);
	free(b);

	TEST_START("a body that is not a map is refused");
	mp_writer_init(&w);
	mp_pack_str(&w.pk, "hello");
	b = mp_writer_take(&w, &len);
	ASSERT_EQ(check("payment", b, len, why, sizeof(why)), HAMLET_ESCHEMA);
	ASSERT_TRUE(strstr(why, "a payment body must be a map") != NULL);
	free(b);
	mp_writer_destroy(&w);
}

static void ops(void)
{
	char why[256];
	struct mp_doc d;
	uint8_t *b;
	size_t len;

	TEST_START("an operation on an unknown collection is refused, the known ones listed");
	ASSERT_EQ(schema_check_op("shoes", ENTRY_PUT, 1, NULL, 0, NULL, why, sizeof(why)),
		  HAMLET_ECOLLECTION);
	ASSERT_TRUE(strstr(why, "\"shoes\"") && strstr(why, "health_profile, health_event, payment, registration"));

	TEST_START("a delete carries no body; a put carries one");
	ASSERT_EQ(schema_check_op("payment", ENTRY_DELETE, 1, NULL, 0, NULL, why, sizeof(why)),
		  HAMLET_EFORMAT);
	ASSERT_OK(schema_check_op("payment", ENTRY_DELETE, 0, NULL, 0, NULL, why, sizeof(why)));
	ASSERT_EQ(schema_check_op("payment", ENTRY_PUT, 0, NULL, 0, NULL, why, sizeof(why)),
		  HAMLET_EFORMAT);

	TEST_START("a put whose body did not come along passes until it does");
	ASSERT_OK(schema_check_op("payment", ENTRY_PUT, 1, NULL, 0, NULL, why, sizeof(why)));

	TEST_START("a body that is not msgpack, or too big, is refused");
	ASSERT_EQ(schema_check_op("payment", ENTRY_PUT, 1, (const uint8_t *)"\xc1", 1, NULL, why,
				  sizeof(why)),
		  HAMLET_ESCHEMA);
	ASSERT_TRUE(strstr(why, "payment body is not valid msgpack") != NULL);
	ASSERT_EQ(schema_check_op("payment", ENTRY_PUT, 1, (const uint8_t *)"", ENTRY_MAX_BODY + 1,
				  NULL, why, sizeof(why)),
		  HAMLET_ETOOBIG);

	TEST_START("a good put hands its parsed body over; a bad one names the field");
	b = th_body("status=approved", &len);
	ASSERT_OK(schema_check_op("payment", ENTRY_PUT, 1, b, len, &d, why, sizeof(why)));
	ASSERT_EQ(d.root->via.map.size, 1);
	mp_doc_close(&d);
	free(b);
	b = th_body("status=paid", &len);
	ASSERT_EQ(schema_check_op("payment", ENTRY_PUT, 1, b, len, &d, why, sizeof(why)),
		  HAMLET_ESCHEMA);
	ASSERT_TRUE(strstr(why, "payment.status") != NULL);
	free(b);

	TEST_START("other entry kinds are not record operations");
	ASSERT_OK(schema_check_op("shoes", ENTRY_CERT, 1, NULL, 0, NULL, why, sizeof(why)));

	TEST_START("an erasure names a known collection and carries a reason");
	ASSERT_EQ(schema_check_op("shoes", ENTRY_ERASE, 1, NULL, 0, NULL, why, sizeof(why)),
		  HAMLET_ECOLLECTION);
	ASSERT_EQ(schema_check_op("health_profile", ENTRY_ERASE, 0, NULL, 0, NULL, why, sizeof(why)),
		  HAMLET_EFORMAT);
	ASSERT_TRUE(strstr(why, "erasure") != NULL);
	ASSERT_OK(schema_erase_body("request of the person", &b, &len));
	ASSERT_OK(schema_check_op("health_profile", ENTRY_ERASE, 1, b, len, NULL, why, sizeof(why)));
	{
		char reason[64];
		ASSERT_OK(schema_erase_reason(b, len, reason, sizeof(reason), why, sizeof(why)));
		ASSERT_STREQ(reason, "request of the person");
	}
	free(b);
	{
		/* golden bytes (SPEC §1.6): {"reason": "x"} */
		static const uint8_t golden[] = { 0x81, 0xa6, 'r', 'e', 'a', 's',
						  'o', 'n', 0xa1, 'x' };
		ASSERT_OK(schema_erase_body("x", &b, &len));
		ASSERT_EQ(len, sizeof(golden));
		ASSERT_MEMEQ(b, golden, sizeof(golden));
		free(b);
	}
	ASSERT_EQ(schema_erase_body("", &b, &len), HAMLET_EFORMAT);
	ASSERT_EQ(schema_erase_body("bad\x01", &b, &len), HAMLET_EFORMAT);
	b = th_body("reason=x", &len); /* a put-like body: the field is fine */
	ASSERT_OK(schema_check_op("health_profile", ENTRY_ERASE, 1, b, len, NULL, why, sizeof(why)));
	free(b);
	b = th_body("reason=x;phone=1", &len); /* anything else is not */
	ASSERT_EQ(schema_check_op("health_profile", ENTRY_ERASE, 1, b, len, NULL, why, sizeof(why)),
		  HAMLET_ESCHEMA);
	ASSERT_TRUE(strstr(why, "exactly one field") != NULL);
	free(b);
}

static void states(void)
{
	const struct schema *p = schema_find("payment");
	const struct schema *g = schema_find("registration");
	const struct schema_field *ps = &p->fields[schema_field_index(p, "status", 6)];
	const struct schema_field *gs = &g->fields[schema_field_index(g, "status", 6)];
	char buf[256];

	TEST_START("states follow their declared transitions, transitively and forward only");
	ASSERT_EQ(schema_state_follows(ps, "created", 7, "confirmed", 9), 1);
	ASSERT_EQ(schema_state_follows(ps, "approved", 8, "disbursed", 9), 1);
	ASSERT_EQ(schema_state_follows(ps, "confirmed", 9, "created", 7), 0);
	ASSERT_EQ(schema_state_follows(ps, "confirmed", 9, "failed", 6), 0);
	ASSERT_EQ(schema_state_follows(ps, "failed", 6, "confirmed", 9), 0);
	ASSERT_EQ(schema_state_follows(ps, "created", 7, "created", 7), 0);

	TEST_START("the declared order reads as a chain");
	schema_state_order(ps, buf, sizeof(buf));
	ASSERT_STREQ(buf, "created → approved → disbursed → confirmed|failed");
	schema_state_order(gs, buf, sizeof(buf));
	ASSERT_STREQ(buf, "received → processing → approved|rejected|returned");
}

/* A birth date after today is refused in a local write, naming the
 * field and the date; today and earlier pass; other dates may lie ahead. */
static int past1(const char *coll, const char *name, const char *date,
		 const char *today, char *why, size_t wl)
{
	struct mp_doc d;
	size_t len;
	uint8_t *b = one(name, 's', date, 0, &len);
	int r;
	why[0] = 0;
	ASSERT_OK(mp_doc_parse(&d, b, len, 64));
	r = schema_check_past(schema_find(coll), d.root, today, why, wl);
	mp_doc_close(&d);
	free(b);
	return r;
}

static void past(void)
{
	char why[256], today[11];

	TEST_START("a birth date after today is refused, today's is not");
	ASSERT_EQ(past1("health_profile", "birth_date", "2026-12-03",
			"2026-12-02", why, sizeof(why)), HAMLET_ESCHEMA);
	ASSERT_TRUE(strstr(why, "health_profile.birth_date 2026-12-03") != NULL);
	ASSERT_EQ(past1("health_profile", "birth_date", "2026-12-02",
			"2026-12-02", why, sizeof(why)), 0);
	ASSERT_EQ(past1("health_profile", "birth_date", "1950-01-31",
			"2026-12-02", why, sizeof(why)), 0);

	TEST_START("other dates may lie ahead: a registration's due date");
	ASSERT_EQ(past1("registration", "due_date", "2030-01-01",
			"2026-12-02", why, sizeof(why)), 0);

	TEST_START("today is the latest date on Earth (UTC+14)");
	/* 2026-12-02 09:59:59 UTC is 23:59:59 at UTC+14; 10:00 the next day */
	schema_today(1796205599000LL, today);
	ASSERT_STREQ(today, "2026-12-02");
	schema_today(1796205600000LL, today);
	ASSERT_STREQ(today, "2026-12-03");
}

int main(void)
{
	past();
	every_field();
	texts();
	numbers_and_maps();
	bodies();
	ops();
	states();
	TEST_DONE();
}
