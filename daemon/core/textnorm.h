/*
 * textnorm: the text a node writes itself, in Unicode NFC.
 *
 * Vietnamese is typed in two forms: precomposed ("Unicode dựng sẵn",
 * what most keyboards give: NFC) and decomposed ("Unicode tổ hợp", Macs
 * and some web forms: NFD). Both look the same, and byte for byte they
 * differ, so one name typed both ways would be two values: a conflict
 * between two identical-looking names, a file imported again signing
 * each row anew. Every local write is put in NFC before it is checked
 * and signed (log_write()); an entry received from a peer or a bundle is
 * signed as it is and never altered (docs/records.md, "Text").
 */
#ifndef HAMLET_TEXTNORM_H
#define HAMLET_TEXTNORM_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

/*
 * body, a put's msgpack map of field -> value, with every text value in
 * NFC: string values, and the keys and text values of a map field.
 * Returns 1 with *ret (malloc()ed, the caller frees it) and *ret_len set
 * when some text was not in NFC; 0 when all of it is (nothing written;
 * ASCII always is); -ENOMEM. Text that is not UTF-8 is copied as it is,
 * for the schema to refuse.
 */
int textnorm_body_nfc(const msgpack_object *body, uint8_t **ret,
		      size_t *ret_len);

#endif
