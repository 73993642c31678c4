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
	X(EFORMAT, -1000, N_("malformed data"))                                   \
	X(ETYPE, -1001, N_("a field has the wrong type"))                         \
	X(ETRAILING, -1002, N_("trailing bytes after the data"))                  \
	X(ETOOBIG, -1003, N_("a field or message is over its size limit"))        \
	X(EVERSION, -1004, N_("unsupported format version"))                      \
	X(ESIG, -1005, N_("signature does not verify"))                           \
	X(EHASH, -1006, N_("hash does not match the data"))                       \
	X(ENETWORK, -1007, N_("data belongs to another network"))                 \
	X(ECHAIN, -1008, N_("entry does not continue its feed's hash chain"))     \
	X(EGAP, -1009, N_("an earlier entry of the feed is missing"))             \
	X(EFORK, -1010, N_("the author signed two different entries at one seq")) \
	X(EDUP, -1011, N_("already stored"))                                      \
	X(ESCHEMA, -1012, N_("record does not match its collection's schema"))    \
	X(ENOTFOUND, -1013, N_("not found"))                                      \
	X(EMAPFULL, -1014, N_("the store is full"))                               \
	X(ESTORE, -1015, N_("the store reported an error"))                       \
	X(ECORRUPT, -1016, N_("the store is damaged"))                            \
	X(ECOLLECTION, -1017, N_("unknown collection"))                           \
	X(EBODY, -1018, N_("record body is missing"))                             \
	X(EFORKED, -1019, N_("feed is frozen after a fork"))                      \
	X(EKEY, -1020, N_("key file is missing or invalid"))                      \
	X(EIMMUTABLE, -1021, N_("an immutable field cannot change"))              \
	X(EHANDSHAKE, -1022, N_("handshake failed"))                              \
	X(EDECRYPT, -1023, N_("message failed to decrypt"))                       \
	X(EPROTO, -1024, N_("protocol violation"))                                \
	X(ECONFIG, -1025, N_("invalid configuration"))                            \
	X(ESCOPE, -1026, N_("invalid scope"))                                     \
	X(EID, -1027, N_("invalid record id"))                                    \
	X(ESTATE, -1028, N_("a state field moves forward only"))                  \
	X(EDISKFULL, -1029, N_("the disk holding the store is full"))              \
	X(EFUTURE, -1030, N_("entry is dated too far ahead of our clock"))         \
	X(EHELDCAP, -1031, N_("too many entries are held waiting for earlier ones")) \
	X(ECERT, -1032, N_("no valid certificate"))                               \
	X(EREVOKED, -1033, N_("the key is revoked"))                              \
	X(ENOCERT, -1034, N_("the author's certificate has not arrived yet"))      \
	X(EERASED, -1035, N_("the record is erased"))                             \
	X(ETWOPEOPLE, -1036, N_("one record id holds two people"))               \
	X(EDELCONFLICT, -1037, N_("the record was deleted on one node and changed on another")) \
	X(EBEHIND, -1038, N_("this node waits for its own earlier entries from its peers")) \
	X(ERESOLVED, -1039, N_("the conflict was settled meanwhile"))            \
	X(ECHANGED, -1040, N_("the record changed while the resolution was made"))

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
