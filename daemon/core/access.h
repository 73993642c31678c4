/*
 * access: the log of who read health data on this node (Law 91/2025).
 *
 * An append-only file HOME/access/access.log, apart from the LMDB store (so that
 * logging a read never waits on, or slows, the daemon's single writer):
 * one JSON object per line, written with one write() under flock(), then
 * fdatasync(). Each line carries "prev", the BLAKE2b-256 of the previous
 * line's bytes (without its newline), so a line removed, changed or
 * inserted in the middle breaks the chain. The format is in
 * docs/admin-guide.md ("The access log"); version 1:
 *
 *   {"v":1,"time_ms":T,"who_kind":"user","who":"mai","uid":1000,
 *    "command":"get","collection":"health_profile","record":"HP-17",
 *    "query":null,"count":1,"prev":"<64 hex>"}
 *
 * Past ACCESS_MAX_BYTES the file is renamed to access.log.N (N one more
 * than the highest present, from 1) and a new one begins, whose first line
 * chains to the last line of the renamed file. Renamed files are never
 * deleted here: keeping or archiving them is the administrator's choice.
 *
 * The directory HOME/access is mode 02770: the node's group (its
 * operators, who read the store as themselves) appends and rotates; the
 * files are 0660 and inherit the directory's group.
 *
 * No terminal, no socket: the CLI and (later) the daemon's API call it.
 */
#ifndef HAMLET_ACCESS_H
#define HAMLET_ACCESS_H

#include <stddef.h>
#include <stdint.h>

#define ACCESS_DIR "access"
#define ACCESS_FILE "access.log"
#define ACCESS_VERSION 1
/* The current file is rotated before it would grow past this. */
#define ACCESS_MAX_BYTES (4u << 20)
/* The longest who, command, collection, record or query kept; longer
 * values are cut (and end in "..."). */
#define ACCESS_FIELD_MAX 200
/* The longest line written (the fields above all at their maximum fit). */
#define ACCESS_LINE_MAX 2048
/* The most rotated files access_read() reads. */
#define ACCESS_MAX_FILES 10000

/* Who read: an OS account ("user", with its uid) or an API token
 * ("token", uid -1). */
struct access_who {
	const char *kind;
	const char *name;
	int64_t uid; /* -1: none */
};

/* What was read. */
struct access_what {
	const char *command;	/* "get", "export", "conflicts resolve" */
	const char *collection;
	const char *record;	/* one record's id, or NULL */
	const char *query;	/* the filter, for a read of many, or NULL */
	uint64_t count;		/* records read */
};

/* 1 for the collections whose reads are logged: health_profile and
 * health_event. */
int access_logged(const char *collection);

/* Create HOME/access (02770) when missing: at init, by the node's user,
 * since the group may not create files in HOME. */
int access_dir_create(const char *home, char *why, size_t wl);

/*
 * Append one line to home's access log (created 0660 when missing),
 * rotating first when it would pass max_bytes (0: ACCESS_MAX_BYTES).
 * time_ms: UTC milliseconds. 0, or <0 (a negative errno) with why naming
 * the file and the cause; then nothing is logged and the caller must not
 * show what it read.
 */
int access_append(const char *home, const struct access_who *who,
		  const struct access_what *what, uint64_t time_ms,
		  uint64_t max_bytes, char *why, size_t wl);

/*
 * Appending from many threads of one process (hamletd's HTTP server): each
 * access_group_append() writes its line as access_append() does, then
 * returns once the line is on disk; appends that overlap share one
 * fdatasync (group commit), so N concurrent readers cost one sync, not N.
 * After a failed sync every later append fails (the kernel may have lost
 * what it had not written), until the group is made anew.
 *
 * access_group_new: 0 or -ENOMEM; home is copied; max_bytes as for
 * access_append(). access_group_free accepts NULL; no append may be
 * running. access_group_append: thread-safe; returns as access_append().
 */
struct access_group;
int access_group_new(const char *home, uint64_t max_bytes,
		     struct access_group **ret);
void access_group_free(struct access_group *g);
int access_group_append(struct access_group *g, const struct access_who *who,
			const struct access_what *what, uint64_t time_ms,
			char *why, size_t wl);

/* One line, as access_read() passes it (borrowed for the call). */
struct access_entry {
	const char *file; /* "access.log.3", "access.log" */
	uint64_t line;	  /* from 1, in file */
	uint64_t time_ms;
	const char *who_kind, *who;
	int64_t uid; /* -1: none */
	const char *command, *collection;
	const char *record, *query; /* NULL when absent */
	uint64_t count;
};

typedef int (*access_entry_cb)(void *ctx, const struct access_entry *e);

/* What reading the whole log found. */
struct access_check {
	unsigned files;	     /* files read (rotated ones, then access.log) */
	uint64_t lines;	     /* lines read, damaged ones included */
	uint64_t shown;	     /* entries passed to the callback */
	uint64_t breaks;     /* lines whose prev is not the line before */
	uint64_t damaged;    /* lines that are no access-log entry */
	int continues;	     /* the oldest file present continues an older
				one, archived or removed */
	char problem[256];   /* the first break or damaged line, or "";
			      * English (why_retranslate() shows it
			      * translated) */
	char head[65];	     /* hash of the last line (hex), "" if none */
	/* lines dated over ACCESS_BACK_MS before the line above them: the
	 * PC's clock set back (or set forward before), or a time not the
	 * machine's; the first in back_first (English, as problem) */
	uint64_t backwards;
	char back_first[256];
};

#define ACCESS_BACK_MS (5 * 60 * 1000)

/*
 * Read every file of home's access log, oldest first, verifying the hash
 * chain, and pass each entry dated at or after since_ms to cb (which may
 * stop the reading by returning <0, returned). A missing log is empty
 * (0, no files). <0 (negative errno) with why when a file cannot be read:
 * -EACCES when the caller may not read it.
 */
int access_read(const char *home, uint64_t since_ms, access_entry_cb cb,
		void *ctx, struct access_check *ret, char *why, size_t wl);

#endif
