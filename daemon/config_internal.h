/*
 * config_internal: what config.c (the INI file, addresses, budgets) and
 * config_args.c (the command line, --help, the SIGHUP re-read) share.
 * Nothing outside daemon/config*.c includes it.
 */
#ifndef HAMLETD_CONFIG_INTERNAL_H
#define HAMLETD_CONFIG_INTERNAL_H

#include "config.h"

#include <stddef.h>
#include <stdio.h>

/* A config file's size at most: a regular file no larger is read, a
 * device or a pipe never (a reload runs on the daemon's loop). */
#define CONFIG_MAX_FILE (1 << 20)

/* The state of reading one config file (config__parse_file()). */
struct parse_ctx {
	struct config *c;
	/* the first fault found, and where: its line in the file, and the
	 * line as inih counts them (one per read, see read_line()) */
	char fault[256];
	int fault_line, fault_read;
	/* reading */
	FILE *f;
	int line, reads, at_line_start;
	/* a key was given since the last [section] header: an indented
	 * line then continues its value, as inih reads it */
	int key_seen;
	/* the keys of one value met so far, "section/name", and their lines */
	struct {
		char key[48];
		int line;
	} seen[24];
	size_t nseen;
};

/*
 * What an address is for: it decides what it may be. A peer to dial may
 * be a host name; an address to bind is an IP address (listen.c and
 * http.c take no names). Port 0 is no peer's; for listen it binds any
 * free port, which the "listening on" line names (tests use it); for the
 * HTTP API nothing would say which port it got.
 */
enum addr_use {
	ADDR_PEER,
	ADDR_LISTEN,
	ADDR_HTTP,
};

/* Why a cannot be used as use says. */
enum addr_fault {
	ADDR_OK,
	ADDR_NOT_HOST_PORT,
	ADDR_BAD_PORT, /* 0 where it may not be, or over 65535 */
	ADDR_NOT_IP,   /* a host name where an address is bound */
};

/* --- config.c ---------------------------------------------------------- */

/* Whether a may be used as use says; ADDR_OK when it may. */
enum addr_fault config__addr_judge(const char *a, enum addr_use use);
/* Say in why what is wrong with the address a that setting gave, for
 * ADDR_BAD_PORT and ADDR_NOT_IP. */
void config__addr_why(enum addr_fault f, const char *setting, const char *a,
		      char *why, size_t whylen);
/* Add the peer address a to list (n of them) unless there already;
 * -EINVAL when it is no peer's address, HAMLET_ETOOBIG when full. */
int config__peer_add(char list[][CONFIG_MAX_ADDR], size_t *n, const char *a);
/* Read the INI file at path into pc->c; HAMLET_ECONFIG with why (file
 * and line) on a fault. */
int config__parse_file(struct parse_ctx *pc, const char *path, char *why,
		       size_t whylen);

#endif
