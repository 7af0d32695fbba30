/*
 * crosscount-node: the per-query scalar r (SPEC.md 5.4, 7.4 items 4, 9
 * and 10, 11, 12.1).
 *
 * A node multiplies every batch of a query by the same r, in every chain
 * (8.2: every final token is R·H(id) only if each node used one r). A node
 * that restarts in the middle of a query must therefore find its r again:
 * it is kept in DIR/queries/<id>.r, a 0600 file in the 0700 directory
 * DIR/queries, and nowhere else (never in the database, never in a log).
 *
 * File format (CC_QUERYKEY_FILE_BYTES bytes, nothing else):
 *   magic "CCR1" (4) | deadline (int64, big-endian, seconds since the
 *   epoch, UTC) | r (32, a canonical non-zero scalar, little-endian)
 * The deadline is the query's, so a key whose `forget` was lost can be
 * swept once the deadline has passed (7.4 item 10).
 *
 * The file is created atomically (a temporary file, fsync, link to the
 * final name, fsync of the directory): two processes racing to create it
 * both end up with the one r that won. It is destroyed by overwriting it
 * with zeros, fsync, unlink, fsync of the directory.
 *
 * A struct cc_querykey lives in guarded memory (sodium_malloc) and is
 * wiped by cc_querykey_free().
 */
#ifndef CC_NODE_QUERYKEY_H
#define CC_NODE_QUERYKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/error.h"
#include "protocol/group.h"

#define CC_QUERYKEY_DIR "queries"
#define CC_QUERYKEY_MAGIC "CCR1"
#define CC_QUERYKEY_FILE_BYTES (4 + 8 + CC_SCALAR_BYTES)
/* A query id: 16 bytes as 32 lowercase hex characters. */
#define CC_QUERY_ID_HEX 32

struct cc_querykey {
	uint8_t r[CC_SCALAR_BYTES];
	int64_t deadline;
};

/* True if s is exactly 32 lowercase hex characters. */
bool cc_querykey_id_valid(const char *s);

/*
 * Write DIR/queries (NUL-terminated) into out and create the directory
 * with mode 0700 if it is missing. CC_ERR_LIMIT if out is too small,
 * CC_ERR_IO if it cannot be created or is not a directory.
 */
int cc_querykey_dir(char *out, size_t outsz, const char *dir,
    struct cc_diag *diag);

/*
 * The r of query_id: loaded from its file if there is one, else a fresh
 * random r written with deadline. *ret_created (may be NULL) tells which.
 * CC_ERR_AUTH if the file may be read or written by group or others,
 * CC_ERR_FORMAT if it is not exactly a key file, CC_ERR_SCALAR if r is
 * not a canonical non-zero scalar. Free with cc_querykey_free().
 */
int cc_querykey_open(struct cc_querykey **ret_key, const char *dir,
    const char *query_id, int64_t deadline, bool *ret_created,
    struct cc_diag *diag);

/* Load an existing key; CC_ERR_NOT_FOUND if there is none. */
int cc_querykey_load(struct cc_querykey **ret_key, const char *dir,
    const char *query_id, struct cc_diag *diag);

/*
 * Destroy the key of query_id (overwrite, fsync, unlink, fsync the
 * directory). 0 also when there was none; *ret_existed (may be NULL)
 * says whether there was.
 */
int cc_querykey_destroy(const char *dir, const char *query_id,
    bool *ret_existed, struct cc_diag *diag);

/*
 * Destroy every key whose deadline is more than margin seconds before
 * now (a `forget` that never came). fn (may be NULL) is called with the
 * id of each key destroyed; *ret_n (may be NULL) gets their number. A key
 * file that cannot be read is left alone (and not counted); a stale
 * temporary file from an interrupted creation is removed.
 */
typedef void (*cc_querykey_swept_fn)(void *ctx, const char *query_id);
int cc_querykey_sweep(const char *dir, int64_t now, int64_t margin,
    cc_querykey_swept_fn fn, void *ctx, size_t *ret_n, struct cc_diag *diag);

/* Wipe and free; NULL is allowed. */
void cc_querykey_free(struct cc_querykey *key);

#endif
