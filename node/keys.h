/*
 * crosscount-node: the at-rest key s (SPEC.md 6.1) and its rotation (6.3).
 *
 * The node stores P = s·H(id) for every person; s lives in DIR/key, a
 * 0600 file holding the 32-byte little-endian scalar and nothing else,
 * never in the database. The database records the fingerprint of the key
 * its rows are under (cc_store_key_fingerprint), which makes rotation
 * crash-safe in both directions:
 *
 *   1. write the new key to DIR/key.new (atomically: temp file, fsync,
 *      rename, fsync of the directory);
 *   2. in one transaction re-blind every row with s_new·s_old^-1 and set
 *      the store's fingerprint to fp(s_new); commit;
 *   3. overwrite DIR/key with zeros, rename key.new over key, fsync dir.
 *
 * cc_keys_open() runs on every start: if key.new exists and the store is
 * already under it, step 3 is finished; if key.new exists and the store
 * is not under it, step 2 never committed and key.new is destroyed. The
 * loaded key must then match the store's fingerprint.
 *
 * A struct cc_key lives in guarded memory (sodium_malloc) and is wiped by
 * cc_keys_free().
 */
#ifndef CC_NODE_KEYS_H
#define CC_NODE_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol/error.h"
#include "protocol/group.h"

struct cc_store;

/* 16 lowercase hex characters and NUL. */
#define CC_KEY_FINGERPRINT_LEN 16
#define CC_KEY_FILE "key"
#define CC_KEY_NEW_FILE "key.new"

struct cc_key {
	uint8_t s[CC_SCALAR_BYTES];
	char fingerprint[CC_KEY_FINGERPRINT_LEN + 1];
};

/*
 * The fingerprint of a key: the first 16 hex characters of
 * SHA-256("crosscount-v1-key-fingerprint" || s·G). s·G is a public value
 * from which s cannot be computed, and the fingerprint is a hash of it,
 * so printing it reveals nothing about s or about any stored row.
 */
int cc_keys_fingerprint(char ret_fp[CC_KEY_FINGERPRINT_LEN + 1],
    const uint8_t s[CC_SCALAR_BYTES]);

/* A fresh random non-zero key. Free with cc_keys_free(). */
int cc_keys_generate(struct cc_key **ret_key);

/*
 * Read a key file. CC_ERR_NOT_FOUND if it does not exist, CC_ERR_AUTH if
 * group or others may read or write it, CC_ERR_FORMAT if it is not exactly
 * 32 bytes, CC_ERR_SCALAR if the scalar is zero or not canonical.
 */
int cc_keys_load(struct cc_key **ret_key, const char *path,
    struct cc_diag *diag);

/*
 * Write a key file atomically with mode 0600 (protocol/file.h): a
 * temporary file in the same directory, fsync, rename (or link when
 * !replace, so an existing file is never overwritten: CC_ERR_EXISTS),
 * fsync of the directory.
 */
int cc_keys_write(const struct cc_key *key, const char *path, bool replace,
    struct cc_diag *diag);

/*
 * Load DIR/key, first finishing or undoing an interrupted rotation (see
 * above). store_fp is the store's fingerprint (the key its rows are under).
 * *ret_recovered (may be NULL) is set to 1 if an interrupted rotation was
 * finished, -1 if an uncommitted one was undone, 0 otherwise.
 * CC_ERR_STATE if the key does not match the store.
 */
int cc_keys_open(struct cc_key **ret_key, const char *dir,
    const char *store_fp, int *ret_recovered, struct cc_diag *diag);

/*
 * Rotate the key of the node in dir whose store is st and current key is
 * *io_key (SPEC.md 6.3). On success *io_key is replaced by the new key
 * (the old one is wiped and freed) and the old key file is gone. On
 * failure before the commit nothing changed; after the commit the next
 * cc_keys_open() finishes the job.
 */
int cc_keys_rotate(struct cc_store *st, const char *dir,
    struct cc_key **io_key, unsigned threads, struct cc_diag *diag);

/* Wipe and free; NULL is allowed. */
void cc_keys_free(struct cc_key *key);

#endif
