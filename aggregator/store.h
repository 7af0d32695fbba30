/*
 * crosscount-aggregator: the SQLite store (WAL, foreign keys, bound
 * parameters only, secure_delete so deleted rows are overwritten).
 *
 * This module owns the connection and the schema; each module issues its
 * own SQL against the tables below with bound parameters. Every multi-row
 * change runs inside cc_agg_store_begin()/cc_agg_store_commit().
 *
 * Schema v1 (see store.c for the DDL):
 *   nodes        the node registry: id (= certificate CN), sector, enabled,
 *                catalogue JSON, last_seen
 *   users        name, role (analyst|auditor|admin), argon2id hash, enabled
 *   sessions     SHA-256 of the cookie value, user, CSRF token, expiry
 *   tokens       SHA-256 of an API token, user, label
 *   login_failures  per-username failure count for rate limiting
 *   queries      id, owner, title, canonical document, status, reason,
 *                times, released table and its digest
 *   query_nodes  per query and node: chain position, approval, reason,
 *                steps done, whether the end was delivered ("forget")
 *   steps        per query, chain and hop: the node due, status, bytes
 *                uploaded, accepted batch digest, signer, record count
 *   audit        the append-only hash-chained log (triggers refuse UPDATE
 *                and DELETE)
 */
#ifndef CC_AGG_STORE_H
#define CC_AGG_STORE_H

#include <stdbool.h>

#include <jansson.h>
#include <sqlite3.h>

#include "protocol/error.h"

#define CC_AGG_SCHEMA_VERSION 1

struct cc_agg_store;

/*
 * Open (create = true: create a new database, refusing an existing file)
 * and check the schema version.
 */
int cc_agg_store_open(struct cc_agg_store **ret_store, const char *path, bool create,
    struct cc_diag *diag);
void cc_agg_store_close(struct cc_agg_store *s);

/* The connection, for modules' own prepared statements. */
sqlite3 *cc_agg_store_db(struct cc_agg_store *s);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. Rollback accepts no transaction. */
int cc_agg_store_begin(struct cc_agg_store *s);
int cc_agg_store_commit(struct cc_agg_store *s);
void cc_agg_store_rollback(struct cc_agg_store *s);

/*
 * Prepare a statement; CC_ERR_DB with SQLite's message in diag. A helper
 * so that every module reports SQL errors the same way.
 */
int cc_agg_store_prepare(struct cc_agg_store *s, sqlite3_stmt **ret_stmt,
    const char *sql, struct cc_diag *diag);
/* Fill diag with the connection's last error and return CC_ERR_DB. */
int cc_agg_store_fail(struct cc_agg_store *s, struct cc_diag *diag);

/*
 * Make the JSON value of the current row of st: 0 and a new *ret_row, or
 * an error (CC_ERR_ALLOC when a JSON value cannot be made).
 */
typedef int (*cc_agg_store_row_fn)(json_t **ret_row, sqlite3_stmt *st);

/*
 * Step the prepared and bound st to its end and collect row()'s value of
 * each row in a new JSON array *ret_list (the caller decrefs it and still
 * finalizes st). The first error of row() is returned; a step that fails
 * is CC_ERR_DB with SQLite's message in diag.
 */
int cc_agg_store_rows(struct cc_agg_store *s, sqlite3_stmt *st,
    cc_agg_store_row_fn row, json_t **ret_list, struct cc_diag *diag);

#endif
