/*
 * crdt: the merge rules of records, as pure functions.
 *
 * A record's state is a function of the set of its operations
 * (docs/records.md). This module takes the operations -- kind, HLC,
 * author, entry id, deps, and a put's field values as msgpack objects --
 * and gives the record's heads and each field's state: its value, its
 * candidates, and whether they conflict. It touches no store:
 * record_materialize.c reads the operations, calls crdt_record_settle()
 * and writes the rows.
 *
 * Causality comes from deps alone. HLCs only order concurrent
 * candidates (the display winner and lww), so an operation dated before
 * one of its own deps (its author's clock was behind) still supersedes it.
 */
#ifndef HAMLET_CRDT_H
#define HAMLET_CRDT_H

#include "entry.h"
#include "schema.h"

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One operation of a record. fields borrows from the caller (a parsed
 * body) and must outlive every result that names it. A delete, or a put
 * whose body is not held (erased, not yet received), has no fields. A
 * dep naming an operation not in the set is ignored.
 */
struct crdt_op {
	uint8_t id[ENTRY_ID_LEN];
	uint8_t author[ENTRY_KEY_LEN];
	uint64_t hlc;
	int kind; /* ENTRY_PUT or ENTRY_DELETE */
	size_t ndeps;
	uint8_t deps[ENTRY_MAX_DEPS][ENTRY_ID_LEN];
	const msgpack_object_kv *fields; /* field name -> value; nil clears */
	size_t nfields;
};

/* An operation offered as a field's value. */
struct crdt_cand {
	size_t op;		   /* index into the operations */
	const msgpack_object *val; /* what it wrote; NULL for a delete */
};

/* The state of one field. */
struct crdt_field {
	const msgpack_object *value; /* NULL: unset */
	int conflict;		     /* the rule could not settle the candidates */
	struct crdt_cand *cands;     /* newest first (crdt_op_cmp) */
	size_t ncands;
};

struct crdt_graph;

/* Where a settle takes its arrays from: one block, so that a record of
 * a few operations costs one allocation rather than one an array and a
 * field; what does not fit is allocated on its own. */
struct crdt_mem {
	unsigned char *base;
	size_t used, cap;
};

/* A settled record. Values and candidates borrow from the operations. */
struct crdt_record {
	struct crdt_mem mem; /* holds the arrays below; crdt_record_close */
	struct crdt_graph *g;
	int deleted;	   /* every head is a delete */
	size_t *heads;	   /* indexes of the ops nothing descends from, by id */
	size_t nheads;
	struct crdt_field removal; /* update versus delete: conflict, heads */
	struct crdt_field fields[SCHEMA_MAX_FIELDS]; /* in schema order */
	size_t nfields;
	size_t nconflicts; /* fields in conflict, plus one for removal */
	uint64_t newest;   /* highest HLC of any operation */
};

/*
 * Settle the n operations of one record of collection s. On success the
 * caller frees *ret with crdt_record_close(); ops must outlive it. n == 0
 * is a record with no heads and no values. -ENOMEM is the only failure.
 */
int crdt_record_settle(const struct crdt_op *ops, size_t n,
		       const struct schema *s, struct crdt_record *ret);
void crdt_record_close(struct crdt_record *r);

/* 1 when op i has op j among its ancestors (i descends from j). */
int crdt_descends(const struct crdt_record *r, size_t i, size_t j);

/* The display order: HLC, then author key, then entry id; >0 when a
 * comes after (wins over) b. */
int crdt_op_cmp(const struct crdt_op *a, const struct crdt_op *b);

/* The value op writes for field name (nil when it clears it), or NULL
 * when it does not name the field. */
const msgpack_object *crdt_op_value(const struct crdt_op *op,
				    const char *name);

#endif
