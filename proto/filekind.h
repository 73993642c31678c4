/*
 * What one of hamlet's own files is, known from its first bytes: for a
 * message that names it when it is given where another file is asked
 * for (a certificate given to bundle import, a summary to import, a
 * network file to cert install). Binary files by their magic ("HAMLET",
 * a letter, a format byte of any version), the INI files by their first
 * section. The texts are English (N_), for why_set() or _().
 */
#ifndef HAMLET_FILEKIND_H
#define HAMLET_FILEKIND_H

#include <stddef.h>

enum filekind_id {
	FILEKIND_CERT,
	FILEKIND_BUNDLE,
	FILEKIND_SUMMARY,
	FILEKIND_NETWORK,
	FILEKIND_ROOT_KEY,
	FILEKIND_NODE_KEY,
	FILEKIND_NODE_CONF,
};

struct filekind {
	enum filekind_id id;
	const char *is;	 /* "a certificate (made by hamlet cert issue)" */
	const char *use; /* what takes it: "it is installed with ..." */
};

/* 1 with *ret set when head (the file's first n bytes, or all of it)
 * starts one of hamlet's files; 0 when not. */
int filekind_of(const void *head, size_t n, struct filekind *ret);

#endif
