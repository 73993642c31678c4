/*
 * wire_internal: what wire.c (names, decoding, the identity payload,
 * frames) and wire_encode.c (encoding) share. Nothing outside the wire
 * codec includes it.
 */
#ifndef HAMLET_WIRE_INTERNAL_H
#define HAMLET_WIRE_INTERNAL_H

#include "wire.h"

#include <stddef.h>

/* Number of fields after the type, per message type (a message is an
 * array of the type and these). */
extern const size_t wire__type_fields[];

#endif
