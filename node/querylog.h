/*
 * crosscount-node: the local log of every query the node took part in
 * (SPEC.md 7.4 item 10, 12.3, 13: the nodes' logs are the outside anchor
 * an auditor compares the aggregator's audit log with).
 *
 * DIR/queries.log, mode 0600, JSON lines: one compact JSON object per
 * line, appended and never rewritten. Each line is one event about one
 * query; what the log says about a query is the fold of its events:
 *
 *   {"event":"offered","query_id":ID,"time":T,"title":..,"owner":..,
 *    "deadline":T,"query":{canonical query document}}
 *   {"event":"decided","query_id":ID,"time":T,"decision":"approved"|
 *    "rejected"|"held","by":"auto"|USER,"reason":TEXT}
 *   {"event":"step","query_id":ID,"time":T,"chain":C,"hop":H,
 *    "count":N,"digest":HEX}       (D of the batch the aggregator accepted)
 *   {"event":"failed","query_id":ID,"time":T,"reason":TEXT}
 *                                  (this node reported `fail`)
 *   {"event":"ended","query_id":ID,"time":T,"status":S,
 *    "result_digest":HEX|null,"reason":TEXT|null}
 *
 * T are seconds since the epoch (UTC). Folding rules: the first
 * `offered` of a query wins (a re-offered task changes nothing); a final
 * decision (approved or rejected) is never replaced, `held` is replaced
 * by a final one; steps are kept per (chain, hop); the first `ended`
 * wins. Events for a query never offered (a `forget` of a query this
 * node never saw) make a bare entry.
 *
 * Writers append one line with a single write() on an O_APPEND
 * descriptor under an exclusive flock(), so the daemon (`run`) and the
 * admin's `approve`/`reject` can write at the same time; readers take a
 * shared lock. A line that is not a valid event (a write torn by a
 * crash) is skipped and counted. Nothing in the log is secret: no
 * identity, no key, no token, no count of persons (batch `count` is a
 * padded size, 8.5).
 */
#ifndef CC_NODE_QUERYLOG_H
#define CC_NODE_QUERYLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "node/querykey.h"
#include "protocol/error.h"
#include "protocol/limits.h"
#include "protocol/query.h"

#define CC_QUERYLOG_FILE "queries.log"
/* Longest line: the canonical query plus the other fields. */
#define CC_QUERYLOG_LINE_MAX (CC_LIMIT_QUERY_JSON + 8192)
#define CC_QUERYLOG_REASON_MAX 256
#define CC_QUERYLOG_BY_MAX 64
#define CC_QUERYLOG_STATUS_MAX 24
#define CC_QUERYLOG_DIGEST_HEX 64

enum cc_querylog_decision {
	CC_QUERYLOG_UNDECIDED = 0,
	CC_QUERYLOG_HELD,       /* allowed by the policy, waits for a person */
	CC_QUERYLOG_APPROVED,
	CC_QUERYLOG_REJECTED,
};

/* "undecided", "held", "approved", "rejected". */
const char *cc_querylog_decision_name(enum cc_querylog_decision d);

struct cc_querylog_step {
	int64_t time;
	uint16_t chain;
	uint16_t hop;
	uint32_t count;
	char digest[CC_QUERYLOG_DIGEST_HEX + 1];
};

/* What the log says about one query. Strings are NUL-terminated. */
struct cc_querylog_entry {
	char id[CC_QUERY_ID_HEX + 1];
	bool offered;                 /* an `offered` event was seen */
	int64_t offered_at;
	char title[CC_LIMIT_TITLE + 1];
	char owner[CC_LIMIT_USERNAME + 1];
	int64_t deadline;
	char *query;                  /* canonical JSON, owned; NULL if unknown */
	enum cc_querylog_decision decision;
	int64_t decided_at;
	char decided_by[CC_QUERYLOG_BY_MAX + 1];
	char decision_reason[CC_QUERYLOG_REASON_MAX + 1];
	size_t nsteps;
	struct cc_querylog_step steps[CC_LIMIT_QUERY_NODES];
	bool failed;                  /* this node reported `fail` */
	char fail_reason[CC_QUERYLOG_REASON_MAX + 1];
	bool ended;
	int64_t ended_at;
	char status[CC_QUERYLOG_STATUS_MAX + 1];
	char result_digest[CC_QUERYLOG_DIGEST_HEX + 1];  /* "" if none */
	char end_reason[CC_QUERYLOG_REASON_MAX + 1];
};

/* The folded log, entries in the order queries first appeared. */
struct cc_querylog;

/*
 * Read and fold DIR/queries.log. A missing file is an empty log.
 * *ret_skipped (may be NULL) gets the number of lines that were not
 * valid events. Free with cc_querylog_free().
 */
int cc_querylog_read(struct cc_querylog **ret_log, const char *dir,
    size_t *ret_skipped, struct cc_diag *diag);
void cc_querylog_free(struct cc_querylog *log);

size_t cc_querylog_count(const struct cc_querylog *log);
/* Entry i (0 = oldest); NULL when out of range. Borrowed. */
const struct cc_querylog_entry *cc_querylog_get(const struct cc_querylog *log,
    size_t i);
/* The entry of query_id, or NULL. Borrowed. */
const struct cc_querylog_entry *cc_querylog_find(const struct cc_querylog *log,
    const char *query_id);
/* Queries approved (by anyone) at or after since. */
unsigned cc_querylog_approved_since(const struct cc_querylog *log,
    int64_t since);

/*
 * Print the log for a person (`crosscount-node queries`), newest query
 * first, or as one JSON array when json is true. Returns CC_ERR_IO if
 * writing fails.
 */
int cc_querylog_print(FILE *out, const struct cc_querylog *log, bool json);

/* ---- appending events (each one line, one write) ---- */

int cc_querylog_offered(const char *dir, const char *query_id,
    const struct cc_query *q, const char *owner, int64_t deadline,
    int64_t now, struct cc_diag *diag);

/* decision HELD, APPROVED or REJECTED; by "auto" or a person's name. */
int cc_querylog_decided(const char *dir, const char *query_id,
    enum cc_querylog_decision decision, const char *by, const char *reason,
    int64_t now, struct cc_diag *diag);

int cc_querylog_step(const char *dir, const char *query_id, uint16_t chain,
    uint16_t hop, uint32_t count, const uint8_t digest[32], int64_t now,
    struct cc_diag *diag);

int cc_querylog_failed(const char *dir, const char *query_id,
    const char *reason, int64_t now, struct cc_diag *diag);

/* result_digest and reason may be NULL. */
int cc_querylog_ended(const char *dir, const char *query_id,
    const char *status, const char *result_digest, const char *reason,
    int64_t now, struct cc_diag *diag);

#endif
