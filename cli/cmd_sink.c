/*
 * hamlet sink postgres --dsn DSN [--once] [--resync] [--json]
 *
 * Follows this node's changes (changes.h) into PostgreSQL (pg_sink.h):
 * each batch of changes is read with the node opened, one short read
 * transaction and the node closed again, then written with the
 * checkpoint in one PostgreSQL transaction; caught up, the sink sleeps
 * SINK_POLL_MS. Neither a read transaction nor the open store waits on
 * PostgreSQL or on the clock: a store held open by another process puts
 * off an erasure's rewrite (store_compact()).
 *
 * A lost connection is retried with a backoff doubling up to
 * SINK_BACKOFF_MAX_S; what was committed is what the checkpoint says, so
 * the sink resumes from the database's seq and neither loses nor
 * repeats a change.
 */
#include "cli.h"

#include "changes.h"
#include "error.h"
#include "hlc.h"
#include "i18n.h"
#include "pg_sink.h"
#include "trustset.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SINK_POLL_MS 500      /* between rounds once caught up */
#define SINK_TELL_MS 60000    /* "caught up" said at most this often */
#define SINK_BACKOFF_MAX_S 30 /* between reconnection attempts, at most */
#define SINK_ONCE_TRIES 6     /* --once: attempts after a lost connection */
#define SINK_NAMES 64	      /* author names remembered */

static volatile sig_atomic_t sink_stop;

static void on_signal(int sig)
{
	(void)sig;
	sink_stop = 1;
}

/* Sleep ms, in steps, until a signal asks to stop. */
static void nap(unsigned ms)
{
	while (ms && !sink_stop) {
		unsigned step = ms < 100 ? ms : 100;
		struct timespec ts = { 0, (long)step * 1000000L };
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

struct author_name {
	uint8_t key[ENTRY_KEY_LEN];
	char name[CERT_MAX_NAME + 1];
};

struct sink {
	const char *dsn;
	int once, resync, json;
	struct pg_sink_node who;
	char key_hex[2 * ENTRY_KEY_LEN + 1];
	char name[NODE_MAX_NAME + 1], network[NODE_MAX_NAME + 1];
	struct pg_sink *pg;
	struct pg_sink_checkpoint db; /* the checkpoint in PostgreSQL */
	int db_read; /* db was read from it (not before it opens) */
	/* the last seq written in this run's order, and the epoch of the
	 * store's numbering it is of (0: not known yet, as in a new
	 * database or a --resync: the store's next batch gives it) */
	struct pg_sink_checkpoint cursor;
	uint64_t written, batches;
	uint64_t removed;	/* rows of records the node no longer holds */
	int started;		/* the "started" event was said */
	uint64_t told, told_ms; /* written + removed when "caught up" was
				 * last said */
	uint64_t told_removed;
	int tries; /* --once: connection attempts that failed */
	struct author_name names[SINK_NAMES];
	size_t nnames, next_name;
	struct cert *cert; /* scratch for trustset_valid_leaves */
};

/* --- messages ---------------------------------------------------------- */

/* One line about progress: text on stdout, or a JSON object with event. */
static void say(struct sink *s, const char *event, const char *text)
{
	if (s->json) {
		/* seq: where PostgreSQL stands; null before it was read (a
		 * run that waited for another sink's lock and gave up) */
		json_t *j = json_pack("{s:s, s:o, s:I, s:I, s:I}", "event",
				      event, "seq",
				      s->db_read ? json_integer((json_int_t)
								s->db.seq)
						 : json_null(),
				      "written", (json_int_t)s->written,
				      "removed", (json_int_t)s->removed,
				      "batches", (json_int_t)s->batches);
		json_dumpf(j, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(j);
	} else {
		printf("%s\n", text);
	}
	fflush(stdout);
}

/* --- a record as a row ------------------------------------------------- */

struct last_op {
	struct record_op op;
	int any;
};

static int keep_last(void *ctx, const struct record_op *op)
{
	struct last_op *l = ctx;
	/* oldest first: the last one is the newest */
	l->op = *op;
	l->any = 1;
	return 0;
}

/* The author's certificate name, "" when none holds now. */
static int author_name(struct sink *s, struct store_txn *t,
		       const uint8_t key[ENTRY_KEY_LEN], char *out)
{
	size_t n = 0;
	int r;

	for (size_t i = 0; i < s->nnames; i++)
		if (memcmp(s->names[i].key, key, ENTRY_KEY_LEN) == 0) {
			strcpy(out, s->names[i].name);
			return 0;
		}
	out[0] = 0;
	r = trustset_valid_leaves(t, key, hlc_wall_ms(), s->cert, 1, &n);
	if (r < 0)
		return r;
	if (r == 0 && n == 1)
		snprintf(out, CERT_MAX_NAME + 1, "%s", s->cert->name);
	struct author_name *a = &s->names[s->next_name];
	s->next_name = (s->next_name + 1) % SINK_NAMES;
	if (s->nnames < SINK_NAMES)
		s->nnames++;
	memcpy(a->key, key, ENTRY_KEY_LEN);
	strcpy(a->name, out);
	return 0;
}

static char *dump(json_t *j)
{
	return j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

/* A field value as the text its column takes. */
static char *value_text(const msgpack_object *o)
{
	if (o->type == MSGPACK_OBJECT_STR)
		return strndup(o->via.str.ptr, o->via.str.size);
	if (o->type == MSGPACK_OBJECT_MAP) {
		json_t *j = cli_mp_json(o);
		char *s = dump(j);
		json_decref(j);
		return s;
	}
	return cli_value_text(o, 0);
}

/* Conflicts and scopes from the record's JSON (the shape of get --json). */
static int row_from_json(struct pg_sink_row *w, json_t *j)
{
	json_t *conf = json_object_get(j, "conflicts"), *c;
	const char *sc = json_string_value(json_object_get(j, "scope"));
	const char *sw = json_string_value(json_object_get(j, "scope_written"));
	size_t i;

	snprintf(w->scope, sizeof(w->scope), "%s", sc ? sc : "");
	snprintf(w->scope_written, sizeof(w->scope_written), "%s",
		 sw ? sw : w->scope);
	if (!json_array_size(conf))
		return 0;
	if (!(w->conflicts_json = dump(conf)) ||
	    !(w->conf = calloc(json_array_size(conf), sizeof(*w->conf))))
		return -ENOMEM;
	json_array_foreach(conf, i, c)
	{
		struct pg_sink_conflict *x = &w->conf[w->nconf++];
		const char *f = json_string_value(json_object_get(c, "field"));
		const char *rl = json_string_value(json_object_get(c, "rule"));
		snprintf(x->field, sizeof(x->field), "%s", f ? f : "");
		snprintf(x->rule, sizeof(x->rule), "%s", rl ? rl : "");
		if (!(x->values_json = dump(json_object_get(c, "values"))))
			return -ENOMEM;
	}
	return 0;
}

/* ms as an ISO time to the millisecond, as the record's JSON has it */
static void iso_ms(uint64_t ms, char out[32])
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	char day[24];

	gmtime_r(&sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.%03uZ", day, (unsigned)(ms % 1000));
}

/* The row of record coll/id, changed at seq; a row gone when the node
 * no longer holds it. 1 when it has no ops (not a record: nothing to
 * write). */
static int row_build(struct sink *s, struct store_txn *t,
		     const struct change *ch, struct pg_sink_row *w)
{
	struct record_view v;
	struct last_op last = { .any = 0 };
	json_t *j = NULL;
	int r;

	memset(w, 0, sizeof(*w));
	if (!(w->s = schema_find(ch->collection)))
		return 1; /* a collection this hamlet does not know */
	if (ch->gone) {
		/* the node no longer holds it: neither may PostgreSQL */
		snprintf(w->id, sizeof(w->id), "%s", ch->id);
		w->seq = ch->seq;
		w->gone = 1;
		return 0;
	}
	r = record_view_load(t, ch->collection, ch->id, &v);
	if (r == HAMLET_ENOTFOUND)
		return 1;
	if (r < 0)
		return r;
	snprintf(w->id, sizeof(w->id), "%s", ch->id);
	w->seq = ch->seq;
	w->deleted = v.deleted;
	w->erased = v.erased;
	for (size_t i = 0; i < w->s->nfields; i++) {
		const msgpack_object *o =
			record_view_field(&v, w->s->fields[i].name);
		if (!o || o->type == MSGPACK_OBJECT_NIL)
			continue;
		if (!(w->field[i] = value_text(o))) {
			r = -ENOMEM;
			goto out;
		}
	}
	if (v.erased) {
		iso_ms(hlc_ms(v.erase_hlc), w->erased_at);
		if (!(w->erase_reason = strdup(v.erase_reason))) {
			r = -ENOMEM;
			goto out;
		}
	}
	if ((r = record_json(t, cli_global.scopes, ch->collection, ch->id, &v,
			     &j)) < 0 ||
	    (r = row_from_json(w, j)) < 0)
		goto out;
	if ((r = record_ops_each(t, ch->collection, ch->id, keep_last,
				 &last)) < 0)
		goto out;
	if (last.any) {
		cli_hex(last.op.author, ENTRY_KEY_LEN, w->author_key);
		cli_hex(last.op.id, ENTRY_ID_LEN, w->entry_id);
		if ((r = author_name(s, t, last.op.author, w->author_name)) < 0)
			goto out;
	} else {
		cli_hex(ch->entry, ENTRY_ID_LEN, w->entry_id);
	}
	w->hlc = v.hlc;
	iso_ms(hlc_ms(v.hlc), w->updated_at);
	r = 0;
out:
	json_decref(j);
	record_view_close(&v);
	if (r < 0)
		pg_sink_row_clear(w);
	return r;
}

struct batch {
	struct sink *s;
	struct store_txn *t;
	struct pg_sink_row *rows;
	size_t n, ngone;  /* rows, and those of them gone */
	uint64_t last;	  /* the last seq looked at */
	uint64_t epoch;	  /* of the store's numbering (changes_epoch) */
	size_t looked;	  /* changes looked at */
	uint64_t health[2]; /* rows of health_profile, health_event */
};

static int batch_add(void *ctx, const struct change *ch)
{
	struct batch *b = ctx;
	struct pg_sink_row *w = &b->rows[b->n];
	int r = row_build(b->s, b->t, ch, w);

	b->last = ch->seq;
	b->looked++;
	if (r < 0)
		return r;
	if (r == 0 && w->gone) {
		/* nothing of the record is read: no read to log */
		b->n++;
		b->ngone++;
	} else if (r == 0) {
		b->n++;
		b->health[0] += strcmp(w->s->name, "health_profile") == 0;
		b->health[1] += strcmp(w->s->name, "health_event") == 0;
	}
	return 0;
}

static void batch_clear(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		pg_sink_row_clear(&b->rows[i]);
	b->n = b->ngone = b->looked = 0;
	b->health[0] = b->health[1] = 0;
}

/* --- PostgreSQL -------------------------------------------------------- */

/* Errors worth another try: the server is away, restarting, full, or
 * still holds the session of a sink that just died. */
static int transient(int r)
{
	return r == -ECONNREFUSED || r == -EPIPE || r == -EBUSY;
}

/*
 * Connect (again). Transient failures are retried with a doubling
 * backoff: for ever when following, SINK_ONCE_TRIES times with --once
 * (the first connection of --once is not retried when refused: a wrong
 * DSN should say so at once). Prints each failure. Another sink holding
 * the database is waited for, no fault of the connection: stopped or
 * given up while waiting, 0 with s->pg NULL, as for a stop.
 */
static int sink_connect(struct sink *s, int first)
{
	char why[1024] = "";
	unsigned backoff = 1;
	int r;

	for (;;) {
		struct pg_sink_checkpoint cp = { 0, 0 };
		r = pg_sink_open(s->dsn, &s->who, &s->pg, &cp, why,
				 sizeof(why));
		if (r == 0) {
			s->db = cp;
			s->db_read = 1;
			if (!s->resync || !first)
				s->cursor = cp;
			if (!first) {
				char line[600];
				snprintf(line, sizeof(line),
					 _("reconnected to PostgreSQL at %s; resuming after seq %llu"),
					 pg_sink_where(s->pg),
					 (unsigned long long)s->cursor.seq);
				say(s, "reconnected", line);
			}
			return 0;
		}
		if (r == -EINVAL) {
			cli_err("%s", why);
			return CLI_EUSAGE;
		}
		if (r == -EBUSY) {
			if (sink_stop)
				return 0;
			if (s->once && ++s->tries >= SINK_ONCE_TRIES) {
				cli_err(_("%s: this run stops waiting for it"),
					why);
				return 0;
			}
			cli_err(_("%s: waiting until it stops; trying again in %u s"),
				why, backoff);
		} else if (!transient(r) || sink_stop ||
			   (s->once && first && r == -ECONNREFUSED) ||
			   (s->once && ++s->tries >= SINK_ONCE_TRIES)) {
			cli_err("%s", why);
			return r;
		} else {
			cli_err(_("%s; trying again in %u s"), why, backoff);
		}
		nap(backoff * 1000);
		if (sink_stop)
			return 0;
		backoff = backoff * 2 > SINK_BACKOFF_MAX_S ? SINK_BACKOFF_MAX_S
							   : backoff * 2;
	}
}

/* Log the batch's reads of health data (cli_access) before they leave. */
static int batch_log(struct sink *s, const struct batch *b, uint64_t from)
{
	static const char *const coll[2] = { "health_profile", "health_event" };
	char query[400];

	/* the access log is a file for audits: English, as its keys */
	snprintf(query, sizeof(query),
		 "changes after seq %llu to seq %llu, copied to PostgreSQL at %s",
		 (unsigned long long)from, (unsigned long long)b->last,
		 pg_sink_where(s->pg));
	for (int i = 0; i < 2; i++) {
		int r;
		if (b->health[i] &&
		    (r = cli_access("sink postgres", coll[i], NULL, query,
				    b->health[i])) < 0)
			return r;
	}
	return 0;
}

/* Open the node, checking it is still the one the database follows. */
static int node_open_same(struct sink *s, struct node **ret)
{
	char hex[2 * ENTRY_KEY_LEN + 1];
	int r;

	if ((r = cli_node_open(1, ret, NULL)) < 0)
		return r;
	cli_hex((*ret)->pk, 32, hex);
	if (strcmp(hex, s->key_hex) != 0) {
		cli_err(_("the node in %s changed while the sink ran (key %.16s..., was %.16s...): stopping"),
			(*ret)->home, hex, s->key_hex);
		node_close(*ret);
		*ret = NULL;
		return -EEXIST;
	}
	return 0;
}

/*
 * Does the store still number its changes as the cursor counts them?
 * Not when, on the first batch of a run, its newest change is older than
 * the cursor, nor, on any batch, when it numbers them under another
 * epoch than the cursor's (a store whose epoch is 0 has none yet: it
 * gets one with its first change): it was restored or made again since,
 * and its seqs up to the cursor are not the ones PostgreSQL holds. 1
 * when refused (printed), <0 on a fault of the store; b->epoch is the
 * store's.
 */
static int store_same(struct sink *s, struct batch *b, int first)
{
	uint64_t newest = 0;
	char what[600];
	int r;

	if ((r = changes_last(b->t, &newest)) < 0 ||
	    (r = changes_epoch(b->t, &b->epoch)) < 0)
		return r;
	if (first && newest < s->cursor.seq)
		snprintf(what, sizeof(what),
			 _("PostgreSQL at %s holds this node's changes up to seq %llu, but the node's newest change is seq %llu"),
			 pg_sink_where(s->pg),
			 (unsigned long long)s->cursor.seq,
			 (unsigned long long)newest);
	else if (s->cursor.epoch && b->epoch != s->cursor.epoch)
		snprintf(what, sizeof(what),
			 _("PostgreSQL at %s holds this node's changes up to seq %llu numbered under epoch %016llx, but the node's store now numbers its changes under epoch %016llx"),
			 pg_sink_where(s->pg),
			 (unsigned long long)s->cursor.seq,
			 (unsigned long long)s->cursor.epoch,
			 (unsigned long long)b->epoch);
	else
		return 0;
	cli_err(_("%s: its store was restored or rebuilt since; run \"%s sink postgres --dsn DSN --resync --once\" (DSN: the one given here) to write every record again (docs/center-guide.md)"),
		what, cli_prog());
	return 1;
}

/*
 * Read the next batch after the cursor into b: the node opened, one read
 * transaction, the node closed again, so that nothing of the store is
 * held while PostgreSQL is written or waited for. A store that no longer
 * numbers its changes as the cursor counts them (store_same()) is
 * refused (-EINVAL, printed).
 */
static int batch_read(struct sink *s, struct batch *b, int first)
{
	struct node *n = NULL;
	int r;

	if ((r = node_open_same(s, &n)) < 0 || (r = cli_txn_read(n, &b->t)) < 0)
		goto out;
	if ((r = store_same(s, b, first)) == 1) {
		r = -EINVAL;
		goto out;
	}
	if (r >= 0)
		r = changes_each(b->t, s->cursor.seq, PG_SINK_MAX_BATCH,
				 batch_add, b);
	if (r < 0)
		cli_err(_("cannot read the changes of %s/store: %s"), n->home,
			hamlet_strerror(r));
out:
	store_txn_abort(b->t);
	b->t = NULL;
	node_close(n);
	return r;
}

/*
 * Write b's rows and move the checkpoint to where b ends (the cursor when
 * b looked at nothing), under the store's epoch. 0, 1 when PostgreSQL
 * went away (reconnect), <0 (printed) on a fault.
 */
static int batch_write(struct sink *s, const struct batch *b)
{
	struct pg_sink_checkpoint to = { b->looked ? b->last : s->cursor.seq,
					 b->epoch };
	char why[1024] = "";
	int r = pg_sink_write(s->pg, b->rows, b->n, &s->db, &to, why,
			      sizeof(why));

	if (r == -EPIPE) {
		cli_err(_("%s; reconnecting"), why);
		pg_sink_free(s->pg);
		s->pg = NULL;
		return 1;
	}
	if (r < 0) {
		cli_err("%s", why);
		return r;
	}
	s->db = s->cursor = to;
	return 0;
}

/*
 * One round: every change after the cursor, batch by batch. 2 when
 * caught up, 1 when PostgreSQL went away (reconnect), 0 when asked to
 * stop first, <0 (printed) on a fault.
 */
static int sink_round(struct sink *s, int first)
{
	struct batch b = { .s = s };
	uint64_t before = s->written;
	int r = 0, caught_up = 0;

	if (!(b.rows = calloc(PG_SINK_MAX_BATCH, sizeof(*b.rows))))
		return -ENOMEM;
	while (!sink_stop) {
		uint64_t from = s->cursor.seq;
		if ((r = batch_read(s, &b, first)) < 0)
			goto out;
		first = 0;
		if (b.looked == 0) {
			/* nothing to write, but the checkpoint still takes
			 * the store's epoch when it has none (a new database,
			 * tables of an older layout), and a --resync of a
			 * store with no change yet starts it over */
			if ((s->db.seq != s->cursor.seq ||
			     s->db.epoch != b.epoch) &&
			    (r = batch_write(s, &b)) != 0)
				goto out;
			caught_up = 1;
			break;
		}
		if ((r = batch_log(s, &b, from)) < 0 ||
		    (r = batch_write(s, &b)) != 0)
			goto out;
		s->written += b.n - b.ngone;
		s->removed += b.ngone;
		s->batches++;
		if (b.looked < PG_SINK_MAX_BATCH) {
			caught_up = 1;
			break;
		}
		batch_clear(&b);
	}
	/* once a minute at most while records keep arriving */
	if (caught_up && s->written + s->removed > s->told &&
	    (!s->told_ms || hlc_wall_ms() - s->told_ms >= SINK_TELL_MS)) {
		char line[600];
		before = s->told - s->told_removed;
		s->told = s->written + s->removed;
		s->told_ms = hlc_wall_ms();
		snprintf(line, sizeof(line),
			 _("caught up at seq %llu: %llu records written (%llu in all, %llu batches)"),
			 (unsigned long long)s->db.seq,
			 (unsigned long long)(s->written - before),
			 (unsigned long long)s->written,
			 (unsigned long long)s->batches);
		say(s, "caught_up", line);
		/* the JSON event has the count; the text says it when
		 * there were some */
		if (!s->json && s->removed > s->told_removed) {
			printf(_("%llu rows removed from PostgreSQL: records this node no longer holds (%llu in all)\n"),
			       (unsigned long long)(s->removed - s->told_removed),
			       (unsigned long long)s->removed);
			fflush(stdout);
		}
		s->told_removed = s->removed;
	}
	r = caught_up ? 2 : 0;
out:
	batch_clear(&b);
	free(b.rows);
	return r;
}

/* --- the command ------------------------------------------------------- */

/* Who this node is, for the checkpoint's guard. */
static int sink_identify(struct sink *s)
{
	struct node *n = NULL;
	int r;

	if ((r = cli_node_open(1, &n, NULL)) < 0)
		return r;
	cli_hex(n->pk, 32, s->key_hex);
	snprintf(s->name, sizeof(s->name), "%s", n->name);
	snprintf(s->network, sizeof(s->network), "%s", n->net.name);
	node_close(n);
	s->who.key_hex = s->key_hex;
	s->who.name = s->name;
	s->who.network = s->network;
	return 0;
}

int cmd_sink(int argc, char **argv)
{
	struct sink s = { 0 };
	struct sigaction sa;
	char *pos[1], why[1024];
	int npos, r, first = 1, caught_up = 0, lost = 0;
	unsigned lost_nap = 1; /* s before reconnecting after a lost round */
	uint64_t written0;
	const struct cli_opt opts[] = {
		{ "--dsn", &s.dsn, NULL },
		{ "--once", NULL, &s.once },
		{ "--resync", NULL, &s.resync },
		{ NULL, NULL, NULL },
	};

	if ((r = cli_parse("sink", argc, argv, opts, pos, 1, &npos)) < 0)
		goto out;
	s.json = cli_global.json;
	if (npos < 1 || strcmp(pos[0], "postgres") != 0) {
		r = cli_usage_err("sink",
				  npos ? _("unknown sink \"%s\"; the one there is: postgres")
				       : _("missing the sink%s: hamlet sink postgres --dsn DSN"),
				  npos ? pos[0] : "");
		goto out;
	}
	if (!s.dsn) {
		r = cli_usage_err("sink",
				  _("missing --dsn: the PostgreSQL connection string, e.g. --dsn 'host=/run/postgresql dbname=hamlet'"));
		goto out;
	}
	if (pg_sink_dsn_check(s.dsn, why, sizeof(why)) < 0) {
		r = cli_usage_err("sink", "%s", why);
		goto out;
	}
	if (!(s.cert = malloc(sizeof(*s.cert)))) {
		r = -ENOMEM;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: a wait ends at once */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((r = sink_identify(&s)) < 0)
		goto out;
	while (!sink_stop) {
		if (!s.pg) {
			if ((r = sink_connect(&s, first)) < 0)
				goto out;
			if (!s.pg)
				break; /* asked to stop while waiting */
			if (first) {
				char line[600];
				snprintf(line, sizeof(line),
					 _("following node %s (network %s) into PostgreSQL at %s from seq %llu"),
					 s.name, s.network, pg_sink_where(s.pg),
					 (unsigned long long)s.cursor.seq);
				say(&s, "started", line);
				s.started = 1;
			}
		}
		written0 = s.written;
		if ((r = sink_round(&s, first)) < 0)
			goto out;
		first = 0;
		if (r == 1) {
			/* reconnect, after a pause that doubles while rounds
			 * keep losing the connection without writing: a batch
			 * that loses it every time must not spin */
			if (s.written > written0) {
				lost = 0;
				lost_nap = 1;
			}
			if (s.once && ++lost >= SINK_ONCE_TRIES) {
				cli_err(_("the connection to PostgreSQL was lost %d times in a row: this run stops"),
					lost);
				r = -EPIPE;
				goto out;
			}
			nap(lost_nap * 1000);
			lost_nap = lost_nap * 2 > SINK_BACKOFF_MAX_S
					   ? SINK_BACKOFF_MAX_S
					   : lost_nap * 2;
			continue;
		}
		lost = 0;
		lost_nap = 1;
		caught_up = r == 2;
		if (s.once)
			break;
		nap(SINK_POLL_MS);
	}
	if (s.once && !caught_up) {
		/* a job asked to copy everything: stopped before it did, it
		 * says so and fails, so that cron and scripts know */
		char line[600];
		snprintf(line, sizeof(line),
			 _("stopped before PostgreSQL held every change: %llu records written in this run; run it again"),
			 (unsigned long long)s.written);
		say(&s, "stopped", line);
		r = CLI_EPROBLEMS;
		goto out;
	}
	if (s.once || sink_stop) {
		/* done, or a service stopped (systemctl stop): its log says
		 * where PostgreSQL stands, for the next start to go on from */
		char line[600];
		if (!s.db_read) /* stopped while it waited for PostgreSQL or
				 * another sink: its checkpoint is unknown */
			snprintf(line, sizeof(line), "%s",
				 _("stopped on request before it could read where PostgreSQL stands (no record written in this run); the next run goes on from PostgreSQL's checkpoint"));
		else
			snprintf(line, sizeof(line),
				 s.once ? _("done: PostgreSQL holds this node's changes up to seq %llu (%llu records written)")
					: _("stopped on request: PostgreSQL holds this node's changes up to seq %llu (%llu records written in this run); the next run goes on from there"),
				 (unsigned long long)s.db.seq,
				 (unsigned long long)s.written);
		say(&s, s.once ? "done" : "stopped", line);
	}
	r = 0;
out:
	if (r < 0 && r != CLI_EPROBLEMS && s.json && s.started)
		/* the fault is on standard error: a script reading the
		 * events learns that the run ended, and where it stands */
		say(&s, "stopped", "");
	pg_sink_free(s.pg);
	free(s.cert);
	return cli_exit_code(r);
}
