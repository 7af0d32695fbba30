/*
 * crosscount-aggregator: the audit trail (SPEC.md section 13), an
 * append-only, hash-chained log in the store's `audit` table (whose
 * triggers refuse UPDATE and DELETE).
 *
 * Entry i (seq = i, from 1, without gaps) holds:
 *   seq        1, 2, 3, ...
 *   time       seconds since the epoch, UTC (stored as an integer; written
 *              as RFC 3339 "YYYY-MM-DDTHH:MM:SSZ" wherever it is hashed or
 *              shown)
 *   actor      who caused it: a user name, a node id (certificate CN) or
 *              "aggregator" for the aggregator's own decisions; 1 to
 *              CC_AUDIT_ACTOR_MAX bytes of UTF-8 without control characters
 *   event      what happened: [a-z][a-z0-9._-]{0,63}, e.g. query.submitted
 *   detail     the event's fields, a JSON object, stored in canonical form
 *   prev_hash  hash of entry i-1; 64 '0' characters for entry 1
 *   hash       see below
 *
 * Canonical JSON: what Jansson writes with JSON_COMPACT | JSON_SORT_KEYS
 * (no whitespace, object keys sorted bytewise at every level, integers in
 * decimal, strings in UTF-8 as is: only '"', '\\' and control characters
 * are escaped).
 *
 * The hash of an entry is the lowercase hex SHA-256 of the bytes
 *     prev_hash || "\n" || canonical(E)
 * where prev_hash is the 64 lowercase hex characters above and E is the
 * object {"actor": actor, "detail": detail, "event": event, "seq": seq,
 * "time": time as RFC 3339}. Example (a test vector in test_audit.c):
 *     0000...0000\n{"actor":"anna","detail":{"query":"0f1e..."},
 *     "event":"query.submitted","seq":1,"time":"2026-11-22T12:00:00Z"}
 * Because each hash covers prev_hash, changing, inserting or removing any
 * entry breaks every later link; removing entries at the end is only
 * visible against a head kept outside the aggregator (cc_audit_head).
 *
 * Events the aggregator writes (detail members; never an identity, a
 * token, an attribute value or a count other than a batch's padded
 * `count`):
 *   query.submitted     query, owner, digest (SPEC 7.1), document (the
 *                       canonical query)
 *   query.refused       owner, reason
 *   query.approved      query, node
 *   query.rejected      query, node, reason
 *   query.running       query
 *   batch.accepted      query, chain, hop, node, digest (D), signer, count
 *   batch.refused       query, chain, hop, node, reason
 *   query.released      query, digest (of the released table)
 *   query.failed        query, reason, nodes (those named)
 *   query.deleted-intermediates  query, deleted (what was deleted)
 *   node.*, user.*      registry and account changes
 * This module checks the form of actor, event and detail, not the list.
 *
 * Threads: a store connection belongs to one thread; these functions use
 * the connection they are given and nothing else.
 */
#ifndef CC_AGG_AUDIT_H
#define CC_AGG_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "aggregator/store.h"
#include "protocol/error.h"
#include "protocol/limits.h"

#define CC_AUDIT_HASH_HEX 65          /* 64 hex characters and NUL */
#define CC_AUDIT_ACTOR_MAX 64         /* bytes of an actor */
#define CC_AUDIT_EVENT_MAX 64         /* bytes of an event name */
#define CC_AUDIT_LIST_MAX 1000        /* entries per cc_audit_list call */

/*
 * Append one entry: the next seq, the current time, prev_hash = the hash
 * of the latest entry. detail is a JSON object (borrowed; NULL means {})
 * whose canonical form is at most CC_LIMIT_AUDIT_DETAIL bytes.
 * Inside the caller's open transaction (cc_agg_store_begin, which is
 * BEGIN IMMEDIATE) the entry is part of that transaction, so a state
 * change and its audit entry commit or roll back together; outside one,
 * the append is its own transaction. CC_ERR_INVALID_ARGUMENT (diag says
 * which) for a bad actor, event or detail, CC_ERR_LIMIT for a detail over
 * the limit, CC_ERR_DB for the store (inside the caller's transaction the
 * caller then rolls back).
 */
int cc_audit_append(struct cc_agg_store *store, const char *actor,
    const char *event, const json_t *detail, struct cc_diag *diag);

/*
 * The hash of an entry as defined above (pure; used by append and
 * verify). prev_hash is 64 lowercase hex characters; seq >= 1; time from
 * 0 to 9999-12-31T23:59:59Z; actor and event UTF-8; detail an object.
 * CC_ERR_INVALID_ARGUMENT otherwise (ret_hash is then "").
 */
int cc_audit_entry_hash(char ret_hash[CC_AUDIT_HASH_HEX],
    const char *prev_hash, int64_t seq, int64_t time, const char *actor,
    const char *event, const json_t *detail);

/*
 * Recompute the whole chain in seq order: seq from 1 without gaps, each
 * prev_hash equal to the previous hash (zeros for the first), actor and
 * event well formed, detail a canonical JSON object, hash equal to the
 * recomputed one. Returns 0 when the check ran: *ret_count is the number
 * of entries in the log, *ret_bad_seq 0 if the chain is intact, otherwise
 * the seq of the first entry that fails (diag says how, e.g.
 * "entry 7: hash does not match its contents"). CC_ERR_DB if the store
 * cannot be read. ret_bad_seq and ret_count may not be NULL.
 */
int cc_audit_verify(struct cc_agg_store *store, int64_t *ret_count,
    int64_t *ret_bad_seq, struct cc_diag *diag);

/*
 * The latest entry: its seq (0 for an empty log) and hash (64 zeros for an
 * empty log). Nodes keep it to anchor the log outside the aggregator.
 * ret_seq may be NULL.
 */
int cc_audit_head(struct cc_agg_store *store, int64_t *ret_seq,
    char ret_hash[CC_AUDIT_HASH_HEX], struct cc_diag *diag);

/*
 * Entries with seq > since_seq in seq order, at most limit
 * (1..CC_AUDIT_LIST_MAX; 0 means CC_AUDIT_LIST_MAX), as a new JSON array
 * (json_decref it) of
 *   {"seq": 1, "time": "2026-11-22T12:00:00Z", "actor": "...",
 *    "event": "...", "detail": {...}, "prev_hash": "...", "hash": "..."}
 * An entry whose stored detail is not a JSON object is listed with
 * "detail": null (cc_audit_verify reports it). No verification here.
 */
int cc_audit_list(struct cc_agg_store *store, json_t **ret_entries,
    int64_t since_seq, size_t limit, struct cc_diag *diag);

#endif
