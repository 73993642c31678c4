/*
 * record_json: a record as the JSON of `hamlet get --json` (and of the
 * HTTP API), msgpack values as JSON, and a JSON object of fields as a put
 * body checked against its collection's schema. Shared by the CLI and
 * hamletd so both speak the same shapes.
 */
#ifndef HAMLET_RECORD_JSON_H
#define HAMLET_RECORD_JSON_H

#include "entry.h"
#include "record.h"
#include "schema.h"
#include "store.h"

#include <jansson.h>
#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

struct scopemap;

/* One candidate value of a conflict, as record_materialize.c packs it:
 * [value, author bin32, hlc, entry id bin32, kind str]. */
struct record_cval {
	const msgpack_object *value;
	uint8_t author[32];
	uint64_t hlc;
	uint8_t entry[32];
	char kind[16];
};

/* [field, rule, [cval...]]; field "" with rule "delete" is
 * update-versus-delete. */
struct record_conflict {
	char field[SCHEMA_MAX_MAP_KEY + 1];
	char rule[16];
	struct record_cval *v;
	size_t n;
};

/* Parse one conflict of a record's state; free with record_conflict_free. */
int record_conflict_parse(const msgpack_object *o, struct record_conflict *c);
void record_conflict_free(struct record_conflict *c);

/*
 * 1 when a conflict of v is over a person's ID number (person_id, the
 * unique key a person is told apart by) between values of different
 * authors: two nodes most likely gave one record id to two different
 * people, and choosing one value would put one person's data under the
 * other's ID. Its field in field.
 */
int record_view_two_people(const struct schema *s, const struct record_view *v,
			   char *field, size_t n);

/* Other live records with the same unique key. */
struct record_idvec {
	char (*ids)[ENTRY_MAX_RECORD_ID + 1];
	size_t n, cap;
};

/* The ids of the other live records sharing coll/id's unique key: the
 * caller frees ret->ids. Returns their number or <0. */
int record_duplicate_ids(struct store_txn *t, const char *coll,
			 const char *id, const struct record_view *v,
			 struct record_idvec *ret);

/* A msgpack value as JSON (bin as hex). New reference; never NULL. */
json_t *record_json_mp(const msgpack_object *o);

/*
 * The fields in obj (a JSON object; the key skip left out, may be NULL)
 * as a put body of collection s: unknown fields and values of the wrong
 * type are refused (HAMLET_ESCHEMA) with why naming the field and how to
 * write it. The caller frees *ret.
 */
int record_json_body(const struct schema *s, json_t *obj, const char *skip,
		     uint8_t **ret, size_t *ret_len, char *why, size_t whylen);

/* An erased record's erasure: entry, author, hlc, time, reason. */
json_t *record_json_erasure(const struct record_view *v);

/* A record changed at or past the seq where its author's feed forked
 * (the first such op found): what it set may show otherwise on a node
 * that took the other version first. */
struct record_fork_note {
	uint8_t author[ENTRY_KEY_LEN];
	char scope[ENTRY_MAX_SCOPE + 1];
	uint64_t at; /* the forked seq */
};
/* 1 with *ret filled when coll/id has such an op, 0 when none. */
int record_forked(struct store_txn *t, const char *coll, const char *id,
		  struct record_fork_note *ret);

/* The record as `hamlet get --json` shows it, its scope read through map
 * (the scope moves; may be NULL). */
int record_json(struct store_txn *t, const struct scopemap *map,
		const char *coll, const char *id, const struct record_view *v,
		json_t **ret);

/* Each record with an open conflict, once (record_conflicts_each may name
 * a record once per conflict). */
int record_conflicted_each(struct store_txn *t, record_id_cb cb, void *ctx);

/* The required fields of s that body (a map) lacks, ", "-separated, into
 * out ("" when none). */
void record_missing_required(const struct schema *s,
			     const msgpack_object *body, char *out, size_t n);

/* The last key field of s that a correction may change (one not set
 * once), or NULL when every one is set once (a payment's). */
const char *record_key_correctable(const struct schema *s);

/*
 * What resolving the conflicts of s/id writes (a put marked as a
 * resolution, or a delete when del): every field shown now, overridden by
 * over (a map, may be NULL), in *ret_body (NULL for a delete; the caller
 * frees it). 1 when the record has nothing to resolve; HAMLET_ENOTFOUND;
 * HAMLET_EDUP for a duplicate with no value to choose (why says how);
 * HAMLET_ESCHEMA when the result would lack a required field (why names
 * them); HAMLET_ETWOPEOPLE when the record's person_id is in conflict
 * between two nodes (record_view_two_people()) and the resolution keeps
 * the record without same_person: the operator checked that the values
 * name one person. On 0, the record's heads it was made from in ret_heads
 * (room for RECORD_MAX_SEEN_HEADS) and their number in *ret_nheads (0
 * for a record of more: not to be compared, log.h).
 */
int record_resolution(struct store_txn *t, const struct schema *s,
		      const char *id, int del, int same_person,
		      const msgpack_object *over, uint8_t **ret_body,
		      size_t *ret_len, uint8_t (*ret_heads)[ENTRY_ID_LEN],
		      size_t *ret_nheads, char *why, size_t whylen);

#endif
