/*
 * crosscount-aggregator: the attribute key file DIR/attribute.key
 * (SPEC.md 5.6 and the key table of section 11): the aggregator's ElGamal
 * scalar y, 32 bytes little-endian and nothing else, mode 0600, never in
 * the database. The key pair itself is protocol/seal.h's struct
 * cc_seal_key (guarded memory, wiped when freed).
 */
#ifndef CC_AGG_ATTRKEY_H
#define CC_AGG_ATTRKEY_H

#include "protocol/error.h"
#include "protocol/seal.h"

#define CC_ATTRKEY_FILE "attribute.key"

/*
 * Write key's y to a new file at path, mode 0600, atomically and durably
 * (protocol/file.h); CC_ERR_EXISTS if there is a file (or a link) at path,
 * which is never overwritten.
 */
int cc_attrkey_write_new(const struct cc_seal_key *key, const char *path,
    struct cc_diag *diag);

/*
 * Load a key file. CC_ERR_NOT_FOUND if it does not exist, CC_ERR_AUTH if
 * group or others may read or write it, CC_ERR_FORMAT if it is not
 * exactly 32 bytes, CC_ERR_SCALAR if y is zero or not canonical.
 * Free with cc_seal_key_free().
 */
int cc_attrkey_load(struct cc_seal_key **ret_key, const char *path,
    struct cc_diag *diag);

#endif
