/*
 * hamlet error codes.
 *
 * Every function that can fail returns int: 0 on success, a negative errno,
 * or one of the negative codes below. hamlet_strerror() turns either into a
 * sentence for an operator.
 */
#ifndef HAMLET_ERROR_H
#define HAMLET_ERROR_H

#define HAMLET_ERRNO_MAP(X)                                                   \
	X(EFORMAT, -1000, "malformed data")                                   \
	X(ETYPE, -1001, "a field has the wrong type")                         \
	X(ETRAILING, -1002, "trailing bytes after the data")                  \
	X(ETOOBIG, -1003, "a field or message is over its size limit")        \
	X(EVERSION, -1004, "unsupported format version")                      \
	X(ESIG, -1005, "signature does not verify")                           \
	X(EHASH, -1006, "hash does not match the data")                       \
	X(ENETWORK, -1007, "data belongs to another network")                 \
	X(ECHAIN, -1008, "entry does not continue its feed's hash chain")     \
	X(EGAP, -1009, "an earlier entry of the feed is missing")             \
	X(EFORK, -1010, "the author signed two different entries at one seq") \
	X(EDUP, -1011, "already stored")                                      \
	X(ESCHEMA, -1012, "record does not match its collection's schema")    \
	X(ENOTFOUND, -1013, "not found")                                      \
	X(EMAPFULL, -1014, "the store is full")                               \
	X(ESTORE, -1015, "the store reported an error")                       \
	X(ECORRUPT, -1016, "the store is damaged")                            \
	X(ECOLLECTION, -1017, "unknown collection")                           \
	X(EBODY, -1018, "record body is missing")                             \
	X(EFORKED, -1019, "feed is frozen after a fork")                      \
	X(EKEY, -1020, "key file is missing or invalid")                      \
	X(EIMMUTABLE, -1021, "an immutable field cannot change")              \
	X(EHANDSHAKE, -1022, "handshake failed")                              \
	X(EDECRYPT, -1023, "message failed to decrypt")                       \
	X(EPROTO, -1024, "protocol violation")                                \
	X(ECONFIG, -1025, "invalid configuration")                            \
	X(ESCOPE, -1026, "invalid scope")                                     \
	X(EID, -1027, "invalid record id")                                    \
	X(ESTATE, -1028, "a state field moves forward only")                  \
	X(EDISKFULL, -1029, "the disk holding the store is full")              \
	X(EFUTURE, -1030, "entry is dated too far ahead of our clock")         \
	X(EHELDCAP, -1031, "too many entries are held waiting for earlier ones") \
	X(ECERT, -1032, "no valid certificate")                               \
	X(EREVOKED, -1033, "the key is revoked")                              \
	X(ENOCERT, -1034, "the author's certificate has not arrived yet")      \
	X(EERASED, -1035, "the record is erased")

enum hamlet_error {
#define HAMLET_X_ENUM(name, code, text) HAMLET_##name = (code),
	HAMLET_ERRNO_MAP(HAMLET_X_ENUM)
#undef HAMLET_X_ENUM
};

/* A sentence for err (negative errno or HAMLET_*); never NULL, static. */
const char *hamlet_strerror(int err);

/* The symbolic name ("EFORMAT", "ENOENT", ...) of err; static. */
const char *hamlet_errname(int err);

#endif
