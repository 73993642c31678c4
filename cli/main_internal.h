/*
 * main_internal: what main.c (the dispatch table, main()) and main_opts.c
 * (each command's synopses and options) share. Nothing else includes it.
 */
#ifndef HAMLET_MAIN_INTERNAL_H
#define HAMLET_MAIN_INTERNAL_H

#include "cli.h"

/* --- main_opts.c ------------------------------------------------------- */

/* Each command's synopsis lines (after "hamlet ", ended by NULL) and the
 * options its --help lists (ended by flag NULL). */

extern const char *const network_syn[];
extern const struct cli_option_help network_opts[];
extern const char *const init_syn[];
extern const struct cli_option_help init_opts[];
extern const char *const put_syn[];
extern const struct cli_option_help put_opts[];
extern const char *const cert_syn[];
extern const struct cli_option_help cert_opts[];
extern const char *const scope_syn[];
extern const struct cli_option_help scope_opts[];
extern const char *const token_syn[];
extern const struct cli_option_help token_opts[];
extern const char *const get_syn[];
extern const char *const find_syn[];
extern const char *const delete_syn[];
extern const struct cli_option_help delete_opts[];
extern const char *const erase_syn[];
extern const struct cli_option_help erase_opts[];
extern const char *const history_syn[];
extern const char *const conflicts_syn[];
extern const struct cli_option_help conflicts_opts[];
extern const char *const import_syn[];
extern const struct cli_option_help import_opts[];
extern const char *const export_syn[];
extern const struct cli_option_help export_opts[];
extern const char *const sink_syn[];
extern const struct cli_option_help sink_opts[];
extern const char *const summary_syn[];
extern const struct cli_option_help summary_opts[];
extern const char *const bundle_syn[];
extern const struct cli_option_help bundle_opts[];
extern const char *const verify_syn[];
extern const struct cli_option_help verify_opts[];
extern const char *const forks_syn[];
extern const char *const own_feeds_syn[];
extern const struct cli_option_help own_feeds_opts[];
extern const char *const access_log_syn[];
extern const struct cli_option_help access_log_opts[];
extern const char *const report_syn[];
extern const struct cli_option_help report_opts[];
extern const char *const digest_syn[];
extern const char *const help_syn[];
extern const char *const status_syn[];
extern const struct cli_option_help daemon_opts[];
extern const char *const peers_syn[];
extern const char *const sync_syn[];
extern const struct cli_option_help sync_opts[];

#endif
