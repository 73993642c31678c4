/*
 * cli: what the subcommands of `hamlet` share: the dispatch table, option
 * parsing, opening the node, JSON <-> msgpack for record bodies, printing
 * records, and the mapping from errors to exit codes.
 *
 * Helpers return 0 or a negative error and print their own message (one
 * line on stderr, naming the problem and the fix); a command turns the
 * error into an exit code with cli_exit_code() once, at its end.
 */
#ifndef HAMLET_CLI_H
#define HAMLET_CLI_H

#include "i18n.h"
#include "log.h"
#include "mp.h"
#include "names.h"
#include "node.h"
#include "problems.h"
#include "record.h"
#include "record_json.h"
#include "schema.h"
#include "version.h"
#include "why.h"

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_DEFAULT_HOME "/var/lib/hamlet"

/* Exit codes; `hamlet help` and the man page list them. */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_PROBLEMS = 1, /* ran, but found problems */
	CLI_EXIT_USAGE = 2,    /* unknown command or option, missing argument */
	CLI_EXIT_NOTFOUND = 3, /* record, file or node not found */
	CLI_EXIT_INVALID = 4,  /* schema, JSON, CSV, another network */
	CLI_EXIT_SYSTEM = 5,   /* store or system error */
	CLI_EXIT_DAMAGED = 6,  /* the store or bundle is damaged */
	CLI_EXIT_LATER = 7,    /* a write waits for the node's own entries */
};

/* The CLI's own error codes, next to errno and HAMLET_*: both mean "the
 * message was printed already". */
#define CLI_EUSAGE (-2000)    /* wrong command line */
#define CLI_EPROBLEMS (-2001) /* the command ran and found problems */
#define CLI_ELATER (-2002)    /* not all done: do it again later (exit 7) */
#define CLI_EDAMAGED (-2003)  /* the store's files do not read (exit 6) */
/* hamletd runs on the home, but its socket is not reached (exit 5) */
#define CLI_EUNREACHED (-2004)

/* --- the dispatch table (cli/main.c) ---------------------------------- */

struct cli_option_help {
	const char *flag; /* "--scope S" */
	const char *text;
};

struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *description;	       /* one line */
	const char *const *synopsis;	       /* usage lines after "hamlet " */
	const char *text;		       /* paragraphs, "\n\n" between */
	const struct cli_option_help *options; /* may be NULL */
	const char *example;		       /* shell lines; "# " lines explain */
};

/* Ended by an entry whose name is NULL. */
extern const struct cli_command cli_commands[];
const struct cli_command *cli_command_find(const char *name);

/* Help for one command on f (`hamlet COMMAND --help`). */
void cli_command_help(FILE *f, const struct cli_command *c);
/* The part of c's help for its subcommand sub ("hamlet help cert
 * revoke"): its usage lines, the paragraphs that are its or every
 * subcommand's, its options, its examples; -1 (nothing printed) when c
 * has no subcommand sub. */
int cli_command_help_sub(FILE *f, const struct cli_command *c,
			 const char *sub);
/* The general usage text (`hamlet help`). */
void cli_usage(FILE *f);

struct cli_exit_help {
	int code;
	const char *text;
};
extern const struct cli_exit_help cli_exit_help[]; /* ended by text NULL */

/* --- global options ---------------------------------------------------- */

struct cli_global {
	const char *home; /* --home; NULL: HAMLET_HOME or the default */
	int json;	  /* --json */
	int keys;	  /* --keys: whole keys next to names */
	/* the command takes --socket (cli_parse() found it among its
	 * options): a message about the socket may suggest it */
	int socket_opt;
	/* the node cli_node_open() opened; NULL before */
	const struct node *node;
	/* the scope moves of the node cli_node_open() opened (scopemap.h);
	 * NULL before */
	const struct scopemap *scopes;
};
extern struct cli_global cli_global;

/* The node's state directory: --home, else $HAMLET_HOME, else
 * CLI_DEFAULT_HOME. Static or borrowed from argv/environ. */
const char *cli_home(void);

/* "hamlet", or "hamlet --home DIR" when --home was given, for commands
 * that a message suggests; static. */
const char *cli_prog(void);
/* After a file was not found (err -ENOENT): a note when path is written
 * as Windows writes one ("E:\\x.bundle"), saying how it is named here. */
void cli_path_note(const char *path, int err);

/* --- messages and exit codes ------------------------------------------- */

/* "hamlet: <message>\n" on stderr. */
__attribute__((format(printf, 1, 2))) void cli_err(const char *fmt, ...);
/* A usage error for cmd: prints the message and a pointer to --help;
 * returns CLI_EUSAGE. */
__attribute__((format(printf, 2, 3))) int cli_usage_err(const char *cmd,
							const char *fmt, ...);
/* hamlet_strerror(err) for a person: translated, except under --json
 * (whose output and messages stay English); static. */
const char *cli_strerror(int err);

/* After a file at path could not be written for lack of room (ENOSPC,
 * EFBIG, EDQUOT; r negative): what to do, in words. Nothing otherwise. */
void cli_full_note(int r, const char *path);
/* A certificate's role as a word for text output, in the user's
 * language (English with --json); NULL when role is none. */
const char *cli_role_text(int role);
/* s for a person: _(s), except under --json, whose output and messages
 * stay English; also the translator of the core's sentences (why.h,
 * problems.h). For text that may end up in JSON too. */
__attribute__((format_arg(1))) const char *cli_tr(const char *s);
/* P_(s, p, n) as cli_tr() gives _(): English under --json. xgettext
 * takes it as P_ (tests/i18n_check.sh: --keyword=CLI_P_:1,2). */
#define CLI_P_(s, p, n)                                                    \
	(cli_global.json ? ((n) == 1 ? (s) : (p)) : P_(s, p, n))
/* 0..5 for err (CLI_E*, -errno or HAMLET_*); a positive err is returned
 * as it is. */
int cli_exit_code(int err);

/* --- dates ------------------------------------------------------------ */

/*
 * YYYY-MM-DD (midnight UTC), or YYYY-MM-DD[T ]HH:MM[:SS] with an optional
 * Z or +HH:MM / -HH:MM (UTC without one), as UTC milliseconds; -EINVAL
 * for anything else (2026-02-30 included).
 */
int cli_date_parse(const char *s, uint64_t *ret);
/* An --expires: "YYYY-MM-DD" (or DD/MM/YYYY), the end of that day (UTC), or "Nd", the end
 * of the UTC day N days (1-36500) from today, in Unix ms; -EINVAL for
 * anything else. */
int cli_day_end(const char *s, uint64_t *ret);
/* cli_day_end() for cmd's --expires ("never", 0, too when never): a usage
 * error (exit 2) naming s, the forms taken and, for a day that is none
 * (31/02/2027), why. */
int cli_expires_parse(const char *cmd, const char *s, int never,
		      uint64_t *ret);
/* cli_date_parse() for cmd's --since: a usage error naming s. */
int cli_since_parse(const char *cmd, const char *s, uint64_t *ret);
/* cli_time_text()'s forms */
enum {
	CLI_TIME_READER, /* local, the date in the reader's order */
	CLI_TIME_ISO,	 /* UTC, ISO 8601: JSON */
	CLI_TIME_FILE,	 /* local, ISO's order in any language: text kept
			  * in a file (the access log) */
};
/* In the system's time zone (TZ) with the zone's offset, "2026-12-01
 * 17:30:00 +07" ("... UTC" at offset 0), the date day first where the
 * reader's language writes it so (cli_day_first(): "01/12/2026 17:30:00
 * +07"); CLI_TIME_FILE always in the first form; CLI_TIME_ISO, UTC as
 * "2026-12-01T10:30:00Z" (for JSON, unchanged by TZ and language). */
void cli_time_text(uint64_t ms, int form, char out[32]);
/* 1 when dates for the reader are written day first (i18n_day_first()),
 * never under --json. */
int cli_day_first(void);
/* A certificate's date (0: "never"): a whole UTC day's end, as --expires
 * DAY makes it, as "the end of DAY (UTC)" (the midnight after it reads
 * as a day more), DAY in the reader's order; any other moment as
 * cli_time_text. */
void cli_date_text(uint64_t ms, char *out, size_t n);
/* Own entries no certificate of the node covers (node_lapse_find()):
 * when l counts some, say on f, after lead ("WARNING: "), what becomes
 * of them and what to ask the administrator for. */
struct node_lapse;
void cli_lapse_print(FILE *f, const char *lead, const struct node_lapse *l);
/* The same sentence, without its line end, into out (empty when l
 * counts none). */
void cli_lapse_text(const struct node_lapse *l, char *out, size_t n);
/*
 * A bundle or a summary is written to NAME.part, then renamed to NAME: a
 * NAME.part left behind (a power cut, a stick pulled out) is an
 * unfinished file. For a file to read (path): when its name ends in
 * ".part", say so and what to do, and return HAMLET_EFORMAT (exit 4);
 * else 0. For a file to write (out, cmd its command): such a name is a
 * usage error (CLI_EUSAGE), said.
 */
int cli_part_refuse(const char *path);
int cli_part_out(const char *cmd, const char *out);
/* The folder of out, a file about to be written, is there: 0; else said
 * (a USB stick not mounted, most often: exit 3) and <0. cli_part_out()
 * checks it too. */
int cli_out_dir(const char *out);
/* What node_feeds_unrecorded() found, the first shown of total in v:
 * when total is not 0, a WARNING on stdout naming HOME/own-feeds, each
 * feed with its seqs, and what to do (hamlet status, hamlet own-feeds). */
struct node_feed_lag;
void cli_unrecorded_print(const char *home, const struct node_feed_lag *v,
			  size_t shown, size_t total);
/* A hybrid logical clock's wall time as cli_time_text() shows it. */
void cli_hlc_text(uint64_t hlc, char out[32]);

/* --- who a key is (names.h) ------------------------------------------ */

/*
 * The label of key, as names_label() writes it, for the node that
 * cli_node_open() opened (its node.conf name when no certificate names
 * it), with the whole key under --keys. A key nothing names shows as
 * "unknown node 1a2b3c4d…".
 */
void cli_who(struct store_txn *t, const uint8_t key[32],
	     char out[NAMES_LABEL_MAX]);
/* Who key is (names_get() for the opened node); unknown when the lookup
 * fails, which it returns (<0). */
int cli_who_get(struct store_txn *t, const uint8_t key[32],
		struct names_who *ret);
/* The same for a key in hex (as hamletd's answers carry them). */
void cli_who_hex(struct store_txn *t, const char *hex,
		 char out[NAMES_LABEL_MAX]);
/* Add PREFIXname, PREFIXname_scope (null when unknown) and
 * PREFIXname_source ("certificate", "claim", ...) to obj. */
void cli_who_json(struct store_txn *t, const uint8_t key[32], json_t *obj,
		  const char *prefix);

/* --- option parsing ---------------------------------------------------- */

struct cli_opt {
	const char *name;     /* "--scope" */
	const char **ret_arg; /* takes a value: it goes here */
	int *ret_flag;	      /* a flag: set to 1 */
};

/*
 * Parse argv[1..argc) of command cmd (argv[0] is the command's name):
 * options of opts (ended by name NULL) as "--name VALUE" or
 * "--name=VALUE", plus the global --home and --json anywhere; "--" ends
 * options; "-" is a positional. Positionals go to pos (borrowed from
 * argv), at most maxpos. CLI_EUSAGE (printed) on an unknown option, a
 * missing value or too many positionals.
 */
int cli_parse(const char *cmd, int argc, char **argv,
	      const struct cli_opt *opts, char **pos, int maxpos,
	      int *ret_npos);

/* --- the node ---------------------------------------------------------- */

/*
 * Open the node at cli_home(); prints the reason on failure. A writer
 * (readonly 0) learns in *ret_daemon (may be NULL for readers) whether
 * hamletd answers on the node's socket: then the store is opened
 * read-only and every write goes through the daemon (cli_write(),
 * cli_ingest()); otherwise this process writes the store itself.
 * A store whose files do not read is CLI_EDAMAGED (exit 6), said so.
 */
int cli_node_open(int readonly, struct node **ret, int *ret_daemon);

/* For store_on_damaged() (store.h): the database library met a page of
 * the store at dir that is missing or damaged. Says so and what to do,
 * and ends the process with exit 6 rather than the library's abort or a
 * SIGBUS. */
void cli_store_damaged_exit(const char *dir, const char *what);
/* An error met reading the node's own store: a row that does not decode
 * (a malformed value, a scope or collection no row of hamlet's holds) is
 * damage, HAMLET_ECORRUPT (exit 6, as verify says); others as they are. */
int cli_store_fault(int r);

/* A read transaction on n's store; prints on failure. */
int cli_txn_read(struct node *n, struct store_txn **ret);

/* Edits (insert, delete, change, swap of two neighbours) from a to b,
 * or 3 when more: how near a mistyped name is to one meant. */
int cli_edits(const char *a, const char *b);

/* The collection's schema, or NULL after printing the known ones (and
 * the one nearest name, when it is a near miss). */
const struct schema *cli_schema(const char *name);
/* Check a record id (0 or HAMLET_*) and a scope given on the command
 * line (0 or CLI_EUSAGE: a value in none of the forms it takes); print
 * what is wrong. */
int cli_check_id(const char *id);
int cli_check_scope(const char *scope, const char *what);

/*
 * The COLLECTION ID that begin cmd's npos positional arguments pos: 0
 * with *ret its schema, or <0 said: a usage error when one is missing
 * or the two are given the other way round (the message shows the
 * command as meant), HAMLET_ECOLLECTION for a collection unknown
 * (naming those there are, and the one nearest a mistyped name),
 * HAMLET_EID for an id that is none.
 */
int cli_coll_id(const char *cmd, char **pos, int npos,
		const struct schema **ret);

/* --- input and JSON (cli/cli_json.c) ----------------------------------- */

/* Read all of path ("-": stdin) into a NUL-terminated buffer (free()):
 * HAMLET_ETOOBIG, said, past CLI_READ_MAX bytes. */
#define CLI_READ_MAX ((size_t)1 << 20) /* bytes cli_read_all() takes */
int cli_read_all(const char *path, char **ret, size_t *ret_len);

/*
 * jansson's reason for refusing a text (json_error_t.text), or libcsv's
 * (csv_strerror), in the user's language: the libraries' own sentences
 * are English. A reason this list does not know is given as it is.
 * Returns out.
 */
const char *cli_json_reason(const char *text, char *out, size_t n);
const char *cli_csv_reason(const char *text);

/*
 * Parse JSON text; what names the source in messages ("the fields",
 * "row 3"). Prints "invalid JSON in WHAT at line L, column C: ...".
 */
int cli_json_parse(const char *text, size_t len, const char *what,
		   json_t **ret);

/*
 * After cli_json_parse() refused JSON given on the command line: when it
 * holds no double quote but a ':', the shell most likely took its quotes
 * away ({"phone":"…"} typed without single quotes around it), or it was
 * written with single quotes; say how to give it.
 */
void cli_json_arg_hint(const char *arg);

/*
 * Turn a JSON object of field -> value into a record body (msgpack map)
 * for schema s, skipping key skip (may be NULL). Strings become str,
 * integers int, null nil (clears the field), objects maps (map fields
 * only, text values); anything else is an error naming the field. The
 * body is then checked with schema_check_body(). why gets the sentence
 * (not printed); *ret is malloc()ed.
 */
static inline int cli_json_body(const struct schema *s, json_t *obj,
				const char *skip, uint8_t **ret,
				size_t *ret_len, char *why, size_t whylen)
{
	return record_json_body(s, obj, skip, ret, ret_len, why, whylen);
}

/* A msgpack value as JSON (bin as hex). New reference; never NULL. */
static inline json_t *cli_mp_json(const msgpack_object *o)
{
	return record_json_mp(o);
}

/* A msgpack value as text: strings as they are (quote: in '...'),
 * integers in decimal, maps as JSON, nil as "(none)". malloc()ed. */
char *cli_value_text(const msgpack_object *o, int quote);

/* Print j (indented) and a newline on stdout; takes the reference. */
void cli_json_print(json_t *j);

/* hex of n bytes; out holds 2n+1. Short form: the first 4 bytes. */
void cli_hex(const uint8_t *p, size_t n, char *out);
void cli_hex_short(const uint8_t *p, char out[9]);

/* "s" unless n is 1, for counts in sentences. */
static inline const char *cli_plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* Print a report's problems, at most CLI_PROBLEMS_SHOWN of each kind
 * (the rest counted), under a "problems (N):" line. */
#define CLI_PROBLEMS_SHOWN 10
void cli_problems_print(FILE *f, const struct problems *p);
/* A problem's kind and sentence in the reader's language (English under
 * --json); static or borrowed from x. */
const char *cli_problem_kind(const char *kind);
const char *cli_problem_text(const struct problem *x);

/* A reason kept or sent in English (a refused entry's, a daemon's), in
 * the user's language when the catalog has its sentence
 * (why_retranslate()); valid until the fourth call after. */
const char *cli_why(const char *english);

/* s quoted for a POSIX shell when it needs quoting; malloc()ed. */
char *cli_sh_quote(const char *s);

/* --- records (cli/cli_record.c) ---------------------------------------- */

/*
 * Print what is open on a record: one "CONFLICT ..." line per conflict
 * and one "DUPLICATE of ..." line per duplicate, each with how to resolve
 * it, every line starting with indent. Returns the number of lines, or <0.
 */
int cli_record_print_problems(FILE *f, struct store_txn *t, const char *coll,
			      const char *id, const struct record_view *v,
			      const char *indent);

/* An erased record's erasure as JSON: entry, author, hlc, time, reason. */
static inline json_t *cli_erasure_json(const struct record_view *v)
{
	return record_json_erasure(v);
}

/* Print "field: value" lines (cli_fields_print()), or that the record
 * is deleted or erased (by whom: names from t). */
void cli_record_print_fields(FILE *f, struct store_txn *t, const char *coll,
			     const char *id, const struct record_view *v);

/*
 * A record's fields for a person to read (docs/decisions.md "Field labels
 * and dates for the reader"). Where the reader's language labels a field
 * (the catalog translates its schema label; never under --json), it is
 * shown as "Họ và tên (full_name)", the name kept for what one types;
 * elsewhere (English) as its name alone. CLI_FIELD_MAX bytes.
 */
#define CLI_FIELD_MAX 160
/* field name (n bytes) of s (NULL: no schema) as shown; 1 when labelled */
int cli_field_head(const struct schema *s, const char *name, size_t n,
		   char out[CLI_FIELD_MAX]);
/* A value o of field name of s as shown, malloc'd: an enum value its
 * reader's label first ("nữ (female)"), a date or month in the reader's
 * order (04/03/1990), as stored where there is nothing to say;
 * otherwise cli_value_text(o, quote). With quote, the label (else the
 * value) is quoted: "'nữ' (female)". nil: "(cleared)". */
char *cli_field_value(const struct schema *s, const char *name, size_t n,
		      const msgpack_object *o, int quote);
/* 1 when a field of map m (name -> value) has a label shown. */
int cli_fields_labelled(const struct schema *s, const msgpack_object *m);
/* The fields of map m one a line, "head: value", the first after lead
 * and the others after as many spaces as lead has columns; labelled,
 * the values line up. */
void cli_fields_print(FILE *f, const struct schema *s, const msgpack_object *m,
		      const char *lead);
/* The live records of coll whose correction field (schema corrects:
 * health_event.corrects, payment.reversal_of) names id: ret->ids is
 * malloc'd, the caller frees it. Reads every record of coll. 0 or <0. */
int cli_record_corrected_by(struct store_txn *t, const char *coll,
			    const char *id, struct record_idvec *ret);
/* "at T by WHO" of a deleted record v's delete (its newest change) into
 * out; "" when it cannot be read. */
void cli_record_deleted_at(struct store_txn *t, const struct record_view *v,
			   char *out, size_t n);
/* "last changed: TIME by WHO" on f, after indent: the newest head's
 * author and time, when a head is held. 0 or <0 (store). */
int cli_record_print_changed(FILE *f, struct store_txn *t,
			     const struct record_view *v, const char *indent);

/*
 * A record's scope (scopemap_record_scope()): written as its newest head
 * was, and effective through the scope moves (cli_global.scopes); both
 * "" when no head is held. shown (SCOPEMAP_SHOW_MAX bytes) gets
 * "EFFECTIVE (was WRITTEN)", or WRITTEN when no move applies.
 */
struct cli_scope {
	char written[ENTRY_MAX_SCOPE + 1], effective[ENTRY_MAX_SCOPE + 1];
	char shown[2 * ENTRY_MAX_SCOPE + 16];
};
int cli_record_scope(struct store_txn *t, const struct record_view *v,
		     struct cli_scope *ret);

/* "scope: SHOWN" on f, after indent, when the record's scope is known. */
int cli_record_print_scope(FILE *f, struct store_txn *t,
			   const struct record_view *v, const char *indent);

/* The record as the JSON of `hamlet get --json`. */
static inline int cli_record_json(struct store_txn *t, const char *coll,
				  const char *id, const struct record_view *v,
				  json_t **ret)
{
	return record_json(t, cli_global.scopes, coll, id, v, ret);
}

/* The value of field name in a parsed put body (a map), or NULL. */
static inline const msgpack_object *cli_body_field(const msgpack_object *body,
						   const char *name)
{
	return mp_map_get(body, name);
}

/* The required fields of s that body (a map) lacks, ", "-separated. */
static inline void cli_body_missing_required(const struct schema *s,
					     const msgpack_object *body,
					     char *out, size_t n)
{
	record_missing_required(s, body, out, n);
}

/*
 * record_conflicts_each() with each record once: a record with both a
 * field conflict and a duplicate key is counted and listed once, as one
 * record that needs a decision.
 */
static inline int cli_conflicts_each(struct store_txn *t, record_id_cb cb,
				     void *ctx)
{
	return record_conflicted_each(t, cb, ctx);
}

/* Number of open problems (conflicts + duplicates) of a record, or <0. */
int cli_record_problem_count(struct store_txn *t, const char *coll,
			     const char *id, const struct record_view *v);

/* After a write by command cmd: print the record's open conflicts and
 * duplicates on stderr as a warning (their values only when the read is
 * logged, cli_access()). Returns their number, or <0. */
int cli_record_warn(struct node *n, const char *cmd, const char *coll,
		    const char *id);

/* The same in read transaction t; with print 0 only their number (the
 * caller names the first few records of many, and counts the rest). */
int cli_record_warn_txn(struct store_txn *t, const char *cmd,
			const char *coll, const char *id, int print);

/* --- the access log (cli/cli_access.c) --------------------------------- */

/*
 * Log, in the node's access log, that command cmd read id (or the records
 * that query selects, count of them) of collection coll, when coll holds
 * health data; nothing otherwise. Call it before printing what was read:
 * on failure (printed) the command must show nothing of it.
 */
int cli_access(const char *cmd, const char *coll, const char *id,
	       const char *query, uint64_t count);
/* The same for the records with open problems that "conflicts" lists. */
int cli_access_conflicts(struct store_txn *t);

/*
 * The health records a bundle carries the contents of, gathered while it
 * is written (cli_carried_note, a bundle_carried_fn on a struct
 * cli_carried zeroed by the caller), then logged once each as command cmd
 * with query (cli_carried_log), for each collection that holds any:
 * the log counts what the file holds, not what the node holds. Returns
 * the records logged, or <0 (printed). cli_carried_free releases them.
 */
struct cli_carried {
	char **v; /* "coll/id", malloc'd */
	size_t n, cap;
	int nomem;
};
void cli_carried_note(void *ctx, const char *coll, const char *id);
int cli_carried_log(struct cli_carried *c, const char *cmd,
		    const char *query);
void cli_carried_free(struct cli_carried *c);

/* --- bundle reports (cli/cmd_bundle.c) --------------------------------- */

struct bundle_report;

/*
 * Print a bundle report: header, counts, trailer, each problem. import:
 * the report came from bundle_import() (else bundle_check()). net_id,
 * when not NULL, is this node's network, named net_name. st, when not
 * NULL, is the store whose certificates name the creator and the
 * recipient (as cli_who(): names, keys under --keys; a node's, or the
 * scratch store a bundle was judged in); without it keys are shown whole.
 */
void cli_bundle_report_print(FILE *f, const char *path,
			     const struct bundle_report *rep, int import,
			     const uint8_t *net_id, const char *net_name,
			     struct store *st);
json_t *cli_bundle_report_json(const char *path,
			       const struct bundle_report *rep, int import);
/* 1 when a checked bundle holds anything that fails a check. */
int cli_bundle_check_failed(const struct bundle_report *rep);

/* --- what verify finds in a store (cli/cli_audit.c) -------------------- */

struct audit_report;
/* The audit of n's store as text, for a person: counts, problems, the
 * verdict lines. */
void cli_audit_print(FILE *f, const struct node *n,
		     const struct audit_report *a);
/* The same as verify --json gives it (docs/auditor-guide.md). */
json_t *cli_audit_json(const struct node *n, const struct audit_report *a);
/* Problems as verify --json lists them: "kind" and "text" each. */
json_t *cli_problems_json(const struct problems *ps);

/* --- the auditor's report (cli/cli_report.c) --------------------------- */

struct report;
/* The report as text, for a person. */
void cli_report_print(FILE *f, const struct report *rep);
/* The report as JSON (docs/auditor-guide.md); source (taken) says what
 * was reported on. */
json_t *cli_report_json(const struct report *rep, json_t *source);

/* --- subcommands ------------------------------------------------------- */

/* --- the daemon's socket (cli_rpc.c) ----------------------------------- */

/* --socket, else $HAMLET_SOCKET, else the socket HOME/hamletd.lock names
 * while a daemon holds that lock (the daemon running on this home wrote
 * it there; a copied home's file names another home's), else
 * HOME/hamletd.sock; static. */
const char *cli_socket_path(const char *opt);
/* Does a daemon accept connections on the node's socket? 1 yes, 0 no
 * daemon runs; negative (printed) when one holds HOME/hamletd.lock but
 * does not answer: then nothing may be written. */
int cli_daemon_up(void);
/*
 * One request to hamletd. On success *ret_result is the answer's result
 * (borrowed from ret_doc, which borrows *ret_buf: close the doc, then free
 * the buffer). -ENOENT when no daemon runs (printed unless quiet_if_down);
 * CLI_EUNREACHED (printed) when one runs on the home but not at sock.
 */
int cli_rpc(const char *sock, const char *method, const char *arg,
	    int quiet_if_down, struct mp_doc *ret_doc, uint8_t **ret_buf,
	    const msgpack_object **ret_result);
/* cli_rpc(), waiting up to timeout_ms for the answer (cli_rpc: 10 s).
 * quiet_if_down may add CLI_RPC_QUIET_TIMEOUT: no answer in time is
 * -ETIMEDOUT, not said. */
#define CLI_RPC_QUIET_TIMEOUT 2
int cli_rpc_wait(const char *sock, const char *method, const char *arg,
		 int timeout_ms, int quiet_if_down, struct mp_doc *ret_doc,
		 uint8_t **ret_buf, const msgpack_object **ret_result);
/* A value of a msgpack map by key, or NULL; a uint (0 when absent). */
static inline const msgpack_object *cli_mp_get(const msgpack_object *map,
					       const char *key)
{
	return mp_map_get(map, key);
}
static inline uint64_t cli_mp_u64(const msgpack_object *map, const char *key)
{
	return mp_map_u64(map, key);
}

/* Where a cli_write() that failed stopped. */
struct cli_write_end {
	size_t failed;	/* the operation at fault, or the first of the
			 * request that hamletd left unanswered */
	size_t stored;	/* operations, from the first, stored all the same */
	int unanswered; /* hamletd stopped answering: the request from
			 * failed on may or may not have been stored */
};

/*
 * Store local operations: through the running hamletd (which is then the
 * store's only writer: it signs with its node key, commits, and pushes
 * the entries to its peers at once), or, when no daemon runs, directly
 * with log_write(). Same contract as log_write(), out[i] included: a put
 * that changes nothing is LOG_DUPLICATE with seq 0, and no entry was
 * written for it. *ret_via_daemon says which path was taken.
 *
 * A request to the daemon holds at most ~900 KiB of operations and is
 * one transaction, so many operations may take several, and a failure
 * may come after some were stored: *ret_end (may be NULL) says where it
 * stopped. With no daemon, log_write() stores all or none.
 */
int cli_write(struct node *n, int daemon, const struct log_op *ops,
	      size_t nops,
	      struct log_out *out, struct cli_write_end *ret_end, char *why,
	      size_t wl, int *ret_via_daemon);

/* 1 when out (from cli_write()) is a put that changed nothing. */
static inline int cli_write_unchanged(const struct log_out *out)
{
	return out->status == LOG_DUPLICATE || out->seq == 0;
}

/* The state of cli_ingest() across the batches of one bundle import. */
/*
 * A duration as a person types it: "2s", "90m", "24h", "7d", "1d12h";
 * in ms, at most max_ms. -EDOM for a bare number (5: seconds, or days?),
 * which a caller may take in its own unit; -EINVAL for anything else.
 */
int cli_duration_parse(const char *s, uint64_t max_ms, uint64_t *ret_ms);

struct stop;
struct cli_ingest {
	struct node *n;	 /* the store written when no daemon runs */
	int daemon;	 /* from cli_node_open(): hamletd is the writer */
	int via_daemon;	 /* set once hamletd stored a batch */
	const char *bundle; /* the bundle file, noted as where the entries
			     * were heard from (heard.h); NULL: none */
	/* when set, a batch asked for after Ctrl-C or SIGTERM came is not
	 * stored: -EINTR, and the batches before it stay (stop.h) */
	const struct stop *stop;
};

/*
 * A bundle_ingest_fn (ctx: struct cli_ingest): store a batch of signed
 * entries through the running hamletd's "ingest" method (several requests
 * of at most ~900 KiB each; the daemon verifies, commits and pushes them
 * to its peers at once), or, when no daemon runs, directly with
 * log_ingest(). Same contract as log_ingest(), except that when hamletd
 * stops in the middle of a batch the requests before were stored (why
 * says so; importing again is harmless).
 */
/* The same for trust items (a bundle_trust_fn): the daemon's "trust"
 * method, or bundle_trust_local() when no daemon runs. */
int cli_trust(void *ctx, const struct trustset_item *items, size_t n,
	      struct trustset_out *out, struct log_stats *stats, char *why,
	      size_t wl);
int cli_ingest(void *ctx, const struct log_in *in, size_t n,
	       struct log_out *out, struct log_stats *stats, char *why,
	       size_t wl);

/* The budgets of a peer's "budget" map b (hamletd's status answer) that
 * an entry of size bytes is larger than: in words into lim ("1.0 kB a
 * day"), and the [budget] keys to raise into keys ("per_day"). */
#define CLI_BUDGET_WORDS 96
void cli_budget_too_small(const msgpack_object *b, uint64_t size,
			  char lim[CLI_BUDGET_WORDS],
			  char keys[CLI_BUDGET_WORDS]);

int cmd_status(int argc, char **argv);
int cmd_peers(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_network(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_put(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_find(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_erase(int argc, char **argv);
int cmd_conflicts(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_bundle(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_forks(int argc, char **argv);
int cmd_own_feeds(int argc, char **argv);
int cmd_cert(int argc, char **argv);
int cmd_scope(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_digest(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_sink(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_access_log(int argc, char **argv);
int cmd_report(int argc, char **argv);

#endif
