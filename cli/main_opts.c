/*
 * main_opts: each command's synopsis lines and the options its --help
 * lists, which the dispatch table in main.c (cli_commands) points to.
 * Option texts are marked N_() and translated where printed.
 */
#include "cli.h"
#include "i18n.h"
#include "main_internal.h"

const char *const network_syn[] = { "network create NAME [--out DIR]",
					   NULL };
const struct cli_option_help network_opts[] = {
	{ "--out DIR",
	  N_("the directory to write the two files into (created when missing; default: the current directory)") },
	{ NULL, NULL },
};

const char *const init_syn[] = {
	"init --network FILE --scope SCOPE [--name NAME]", NULL
};
const struct cli_option_help init_opts[] = {
	{ "--network FILE",
	  N_("the NAME.network file from the network's administrator") },
	{ "--scope SCOPE",
	  N_("where the node sits, as province/district/commune/village, e.g. bk/bach-thong/quang-thuan/na-pai; it cannot be guessed, so it must be given") },
	{ "--name NAME",
	  N_("the node's name, 1-64 of a-z, 0-9 and '-' (default: the last segment of the scope)") },
	{ NULL, NULL },
};

const char *const put_syn[] = {
	"put COLLECTION ID [--scope SCOPE] [JSON|-]", NULL
};
const struct cli_option_help put_opts[] = {
	{ "--scope SCOPE",
	  N_("create the record under this scope instead of the node's own (a record that exists keeps its scope: a put naming another is refused)") },
	{ NULL, NULL },
};

const char *const cert_syn[] = {
	"cert issue (--root-key FILE | --issuer-home DIR) --to PUBKEY --name NAME --role ROLE --read PREFIX... --write PREFIX... [--collections C,...] [--from YYYY-MM-DD|DD/MM/YYYY] [--expires YYYY-MM-DD|DD/MM/YYYY|Nd] [--delegate] [--force] --out FILE",
	"cert install FILE [--force]", "cert list [KEY] [--json]",
	"cert show FILE [--network NETFILE] [--json]",
	"cert revoke PUBKEY (--root-key FILE | --issuer-home DIR) [--reason TEXT] [--keep-none] [--drop-unheld] [--json]",
	NULL
};
const struct cli_option_help cert_opts[] = {
	{ "--root-key FILE",
	  N_("issue, revoke: sign with the network's root key file") },
	{ "--issuer-home DIR",
	  N_("issue, revoke: sign as the node in DIR, whose certificate may delegate") },
	{ "--to PUBKEY", N_("issue: the node key to certify (64 hex digits)") },
	{ "--name NAME", N_("issue: who or what the node is, as people say it") },
	{ "--role ROLE", N_("issue: village, commune, district, province or auditor") },
	{ "--read PREFIX", N_("issue: a scope it may read ('*': all; may repeat)") },
	{ "--write PREFIX",
	  N_("issue: a scope it may write ('*': all, '' alone: none; may repeat)") },
	{ "--collections C,...", N_("issue: the collections it may write (default: all)") },
	{ "--from DAY", N_("issue: the first day it is valid (YYYY-MM-DD or DD/MM/YYYY, from 00:00 UTC); a renewal must start before what the node saved while its certificate had lapsed (default: a day before signing, or with --issuer-home where the key's earlier certificate ended)") },
	{ "--expires DAY", N_("issue: the last day it is valid (YYYY-MM-DD or DD/MM/YYYY), or Nd: N days from today (default: 3 years)") },
	{ "--delegate", N_("issue: it may certify others inside its grant") },
	{ "--out FILE", N_("issue: where to write the certificate (never replaced)") },
	{ "--network NETFILE", N_("show: check the chain against this network") },
	{ "--reason TEXT",
	  N_("revoke: why (at most 200 bytes), kept with the revocation: cert list on the revoked node shows it") },
	{ "--keep-none",
	  N_("revoke: the certificates the key signed end with it too (by default they stay valid; one revocation keeps at most 256)") },
	{ "--drop-unheld",
	  N_("revoke: even when this node does not read everywhere the key writes (or knows no certificate of it), which is refused without it: whatever this node does not hold of the key's entries is dropped on every node") },
	{ "--force",
	  N_("install: a certificate that reads and writes nothing of this node's own scope, which is refused without it (a misspelt scope would take out what the node holds of its own); issue: for a key the issuer's home (or --home) holds a revocation of, which is refused without it (the key would write again)") },
	{ NULL, NULL },
};
const char *const scope_syn[] = {
	"scope move OLD NEW --root-key FILE [--reason TEXT] [--json]",
	"scope list [--json]", NULL
};
const struct cli_option_help scope_opts[] = {
	{ "--root-key FILE", N_("move: sign with the network's root key file") },
	{ "--reason TEXT", N_("move: why, kept with the move (at most 200 bytes)") },
	{ NULL, NULL },
};
const char *const token_syn[] = {
	"token create --name NAME --role read|write [--scope PREFIX] [--expires YYYY-MM-DD|DD/MM/YYYY|Nd|never] [--json]",
	"token list [--json]", "token revoke NAME", NULL
};
const struct cli_option_help token_opts[] = {
	{ "--name NAME", N_("create: what the token is called (1-64 of a-z, 0-9, '-', '_', '.')") },
	{ "--role ROLE", N_("create: read (GET only) or write (also PUT, DELETE, resolve)") },
	{ "--scope PREFIX", N_("create: the token sees and writes only records under PREFIX") },
	{ "--expires WHEN", N_("create: the token works until the end of day YYYY-MM-DD or DD/MM/YYYY (UTC), or for N days (90d); never (the default) keeps it until revoked") },
	{ NULL, NULL },
};
const char *const get_syn[] = { "get COLLECTION ID [--json]", NULL };
const char *const find_syn[] = { "find TEXT... [--json]", NULL };

const char *const delete_syn[] = {
	"delete COLLECTION ID [--scope SCOPE]", NULL
};
const struct cli_option_help delete_opts[] = {
	{ "--scope SCOPE",
	  N_("delete it under this one scope, one the record was written in (another is refused); without it, the delete goes to every scope the record was written in") },
	{ NULL, NULL },
};

const char *const erase_syn[] = {
	"erase COLLECTION ID --reason TEXT [--scope SCOPE] [--json]",
	"erase --person PERSON_ID --reason TEXT [--json]", NULL
};
const struct cli_option_help erase_opts[] = {
	{ "--reason TEXT", N_("why (signed and kept in the history; required)") },
	{ "--scope SCOPE",
	  N_("erase only the record's entries written under this scope") },
	{ "--person PERSON_ID",
	  N_("erase every record of the person held here, instead of one") },
	{ NULL, NULL },
};

const char *const history_syn[] = { "history COLLECTION ID [--json]",
					   NULL };

const char *const conflicts_syn[] = {
	"conflicts [--json]",
	"conflicts resolve COLLECTION ID [JSON|-] [--delete] [--scope SCOPE] [--same-person] [--heads ID,...]",
	NULL
};
const struct cli_option_help conflicts_opts[] = {
	{ "--delete", N_("resolve by deleting the record") },
	{ "--scope SCOPE",
	  N_("write the resolution under this scope: the record's own (with --delete, one it was written in); another is refused, as it would move the record") },
	{ "--same-person",
	  N_("keep a record whose person_id two nodes wrote differently, after checking that both are one person (without it such a resolve is refused, exit 2)") },
	{ "--heads ID,...",
	  N_("resolve only if the record's heads are still these (as the resolve commands \"conflicts\" prints name them, or the \"heads\" of \"conflicts --json\"; 16 to 64 hex digits each, comma-separated): a value that arrived since they were read, or a resolution made meanwhile, is not replaced unseen (refused, exit 1). Without it, the heads this command reads itself") },
	{ NULL, NULL },
};

const char *const import_syn[] = {
	"import COLLECTION --format csv|ndjson [--delimiter ,|;|tab] [--scope SCOPE] [--recreate-deleted] [--overwrite] FILE|-",
	NULL
};
const struct cli_option_help import_opts[] = {
	{ "--format csv|ndjson", N_("the format of FILE (required)") },
	{ "--delimiter ,|;|tab",
	  N_("the CSV delimiter (default: the one the header line uses most)") },
	{ "--scope SCOPE",
	  N_("write the entries under this scope instead of the node's own") },
	{ "--recreate-deleted",
	  N_("write the rows of records deleted here too, re-creating them (without it they are skipped and named)") },
	{ "--overwrite",
	  N_("write a cell that holds the value its field had before a later change (an older file) over that change; without it such a file is refused, each row named") },
	{ NULL, NULL },
};

const char *const export_syn[] = {
	"export COLLECTION --format csv|ndjson [--excel] [--scope PREFIX] [--since DATE] [--with-scope]",
	"export COLLECTION --format xlsx --out FILE.xlsx [--scope PREFIX] [--since DATE] [--with-scope]",
	NULL
};
const struct cli_option_help export_opts[] = {
	{ "--format csv|ndjson|xlsx",
	  N_("the output format (required; --json alone means ndjson)") },
	{ "--out FILE.xlsx",
	  N_("with --format xlsx: the workbook to write (the other formats go to standard output)") },
	{ "--scope PREFIX",
	  N_("only records whose scope lies under PREFIX, as written or through the scope moves") },
	{ "--since DATE",
	  N_("only records whose newest change is at or after DATE: YYYY-MM-DD or DD/MM/YYYY (midnight) or YYYY-MM-DDTHH:MM[:SS], in the local time zone (TZ) or with Z or an offset such as +07:00") },
	{ "--with-scope",
	  N_("add the record's scope: columns scope (effective) and scope_written") },
	{ "--excel",
	  N_("with --format csv: a file Vietnamese Excel opens by double-click (UTF-8 BOM, ';', CRLF)") },
	{ NULL, NULL },
};

const char *const sink_syn[] = {
	"sink postgres --dsn DSN [--once] [--resync] [--json]", NULL
};
const struct cli_option_help sink_opts[] = {
	{ "--dsn DSN", N_("the PostgreSQL database: a libpq connection string or URI (libpq's PG* variables and ~/.pgpass apply)") },
	{ "--once", N_("catch up, then exit (cron, tests)") },
	{ "--resync", N_("write every record again, from this node's first change (after its store was restored)") },
	{ NULL, NULL },
};
const char *const summary_syn[] = { "summary --out FILE [--json]",
					   NULL };
const struct cli_option_help summary_opts[] = {
	{ "--out FILE", N_("where to write the summary (required)") },
	{ NULL, NULL },
};

const char *const bundle_syn[] = {
	"bundle create [--for SUMMARY] [--seal-to KEY | --unsealed] [--scope PREFIX] OUT",
	"bundle import FILE [--json]",
	"bundle inspect FILE [--json]",
	NULL
};
const struct cli_option_help bundle_opts[] = {
	{ "--for SUMMARY",
	  N_("create: the recipient's summary file; only what it lacks goes in, sealed to that node") },
	{ "--seal-to KEY",
	  N_("create: seal to this node key instead (64 hex digits, public_key in its node.conf), for instance an auditor's") },
	{ "--unsealed",
	  N_("create: do not seal: anyone who holds the file can read it (public, non-personal data only)") },
	{ "--scope PREFIX",
	  N_("create: only feeds whose scope lies at or below PREFIX") },
	{ NULL, NULL },
};

const char *const verify_syn[] = {
	"verify [--report] [--root PUBKEY] [--json]",
	"verify --bundle FILE [--network NETFILE] [--report] [--json]",
	"verify --bundle FILE --root PUBKEY --report [--json]",
	NULL
};
const struct cli_option_help verify_opts[] = {
	{ "--bundle FILE", N_("check this bundle file instead of the store") },
	{ "--network NETFILE",
	  N_("with --bundle: check against this network file instead of the node's network (no node needed)") },
	{ "--report",
	  N_("the auditor's report: per author, its certificates, entries, gaps, forks, revocations, erasures and refused entries") },
	{ "--root PUBKEY",
	  N_("the network's root public key, as its administrator gave it (64 hex digits): a store whose network file names another is not judged (exit 4); with --bundle and --report, the bundle is judged against this key alone (no node needed)") },
	{ NULL, NULL },
};

const char *const forks_syn[] = { "forks [--json]", NULL };

const char *const own_feeds_syn[] = {
	"own-feeds [--json]", "own-feeds forget-lost [--scope SCOPE] [--json]",
	NULL
};
const struct cli_option_help own_feeds_opts[] = {
	{ "--scope SCOPE",
	  N_("forget-lost: in this one feed only (the node's key and this scope), not in every feed") },
	{ NULL, NULL },
};

const char *const access_log_syn[] = {
	"access-log [--since DATE] [--json]", NULL
};
const struct cli_option_help access_log_opts[] = {
	{ "--since DATE",
	  N_("only the reads at or after DATE: YYYY-MM-DD or DD/MM/YYYY (midnight) or YYYY-MM-DDTHH:MM[:SS], in the local time zone (TZ) or with Z or an offset such as +07:00") },
	{ NULL, NULL },
};

const char *const report_syn[] = {
	"report lag [--threshold DURATION] [--json]", NULL
};
const struct cli_option_help report_opts[] = {
	{ "--threshold DURATION",
	  N_("lag: behind means not heard from for longer than this: a number with s, m, h or d, e.g. 2s, 90m, 24h, 1d12h (default 24h)") },
	{ NULL, NULL },
};

const char *const digest_syn[] = { "digest [--json]", NULL };

const char *const help_syn[] = { "help [COMMAND [SUBCOMMAND]]", NULL };

const char *const status_syn[] = { "status [--json] [--socket PATH]",
					  NULL };
const struct cli_option_help daemon_opts[] = {
	{ "--socket PATH",
	  N_("the daemon's socket (default $HAMLET_SOCKET, else where HOME/hamletd.lock says the daemon put it, else HOME/hamletd.sock)") },
	{ NULL, NULL },
};
const char *const peers_syn[] = { "peers list [--json]",
					 "peers add HOST:PORT",
					 "peers remove HOST:PORT", NULL };
const char *const sync_syn[] = {
	"sync [PEER] [--wait [--timeout S]] [--socket PATH]", NULL
};
const struct cli_option_help sync_opts[] = {
	{ "--wait", N_("wait until every connected peer has synced and nothing moves") },
	{ "--timeout S", N_("with --wait: give up after S seconds (default 60), or after a duration such as 90s, 10m or 1h") },
	{ "--socket PATH",
	  N_("the daemon's socket (default $HAMLET_SOCKET, else where HOME/hamletd.lock says the daemon put it, else HOME/hamletd.sock)") },
	{ NULL, NULL },
};

/* --- the exit status, for hamlet help ------------------------------------ */

const struct cli_exit_help cli_exit_help[] = {
	{ CLI_EXIT_OK, N_("success") },
	{ CLI_EXIT_PROBLEMS,
	  N_("the command ran but found problems: verify found evidence of a fork in an intact store or bundle, a bundle had damaged, rejected or forked entries, an import was partly rejected, history found a bad signature, a resolution left conflicts open or was refused because the record changed while it was made (a conflict settled or a value arrived meanwhile), a bundle was sealed with --seal-to to a key that may read none of it, or created for a node that holds more of this node's own feeds than its store does (a store put back from a backup)") },
	{ CLI_EXIT_USAGE,
	  N_("usage error: unknown command or option, missing argument, an option's value in none of the forms it takes (a date that is no date)") },
	{ CLI_EXIT_NOTFOUND, N_("not found: record, file or node") },
	{ CLI_EXIT_INVALID,
	  N_("invalid input: schema, JSON, CSV, a bundle or summary of another network, a bundle sealed for another node, a file that already exists") },
	{ CLI_EXIT_SYSTEM, N_("store or system error") },
	{ CLI_EXIT_DAMAGED,
	  N_("the store or bundle is damaged: verify found it so, or the store's files do not read (cut short, empty, a damaged page), which every command says (restore it from a peer or a backup)") },
	{ CLI_EXIT_LATER,
	  N_("not written yet: the node's store was restored or replaced and holds less of its own feeds than it signed; it writes again once its peers have sent them back, by sync or a bundle (hamlet status says so). bundle import: sound entries came too far ahead of what this node holds of their feed and were not stored; import the earlier bundle first, then this one again") },
	{ 0, NULL },
};
