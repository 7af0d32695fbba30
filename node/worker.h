/*
 * crosscount-node: the query worker, `crosscount-node run` (SPEC.md 7.4,
 * 8.3, 8.4, 12.1, 14), and the admin's `approve` / `reject` of a query
 * the policy held for a person. The wire contract is docs/api.md (node
 * endpoints).
 *
 * `run` makes outbound HTTPS requests only (protocol/client.h: the node's
 * client certificate and key from node.conf, the aggregator verified
 * against the pinned CA). It
 *   - publishes the node's catalogue (categories the policy allows, the
 *     months covered, the sector; never a count) at start and after every
 *     import (the store's latest import id changes);
 *   - long-polls GET /api/v1/node/work?wait=poll_seconds and handles each
 *     task:
 *       approve  decide by the policy (cc_worker_decide): approve
 *                automatically when approval = auto and every rule
 *                passes, reject naming the rule that fails, else hold
 *                for a person (recorded in the query log; a re-offered
 *                task is not decided again);
 *       step     hop 0: the origin step, hop > 0: download the input and
 *                relay (steps.h), with the query's r (querykey.h); the
 *                output is kept in DIR/queries/<id>.<chain>-<hop>.out
 *                until the aggregator accepts it, so a repeated task
 *                re-sends exactly the same bytes (SPEC 7.4 item 4, 9);
 *                an input that fails verification is reported with
 *                POST .../fail; a refused commit (422) is retried
 *                CC_WORKER_COMMIT_TRIES times, then the step is failed;
 *       forget   wipe r and every batch file of the query, record the
 *                end (status, released digest) in the query log;
 *   - destroys the r of a query whose deadline passed
 *     CC_WORKER_SWEEP_MARGIN seconds ago (a lost `forget`);
 *   - retries an unreachable aggregator with capped exponential backoff
 *     and jitter (CC_WORKER_BACKOFF_MIN..MAX seconds), logging once per
 *     change of state, never in a busy loop;
 *   - stops cleanly when *stop becomes non-zero (SIGTERM/SIGINT): the
 *     current request or computation finishes, an unsent output stays on
 *     disk for the next start, and cc_worker_run returns 0.
 * It logs one line per event to the log stream: never an identity, a
 * pseudonym, a token or a key.
 */
#ifndef CC_NODE_WORKER_H
#define CC_NODE_WORKER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "node/config.h"
#include "node/keys.h"
#include "node/policy.h"
#include "node/querykey.h"
#include "node/querylog.h"
#include "node/store.h"
#include "protocol/error.h"
#include "protocol/query.h"

#define CC_WORKER_BACKOFF_MIN 1
#define CC_WORKER_BACKOFF_MAX 60
#define CC_WORKER_SWEEP_SECONDS 60
#define CC_WORKER_SWEEP_MARGIN 600
#define CC_WORKER_COMMIT_TRIES 3
/* The aggregator takes a reason of at most this many bytes. */
#define CC_WORKER_REASON_MAX 200

/*
 * The approval decision (SPEC 7.4 item 3, node side). Rules, in order;
 * the first that fails refuses the query and diag names it:
 *   1. the query names this node (cfg->id) in exactly one set;
 *   2. the task's node list is the query's sorted node list;
 *   3. every other node of the query is an allowed peer;
 *   4. the categories of this node's set are allowed; a set without
 *      categories (all of them) only when the policy allows any category;
 *   5. min_cell >= the policy's min_cell;
 *   6. fewer than max_queries_per_day queries approved in the last 24 h
 *      (approved_last_day).
 * Then CC_POLICY_ACCEPT with approval = auto, else CC_POLICY_HOLD.
 * Returns 0 with *ret_verdict set, or CC_ERR_INVALID_ARGUMENT.
 */
int cc_worker_decide(const struct cc_node_config *cfg,
    const struct cc_query *q, const char *const *task_nodes,
    size_t ntask_nodes, unsigned approved_last_day,
    enum cc_policy_verdict *ret_verdict, struct cc_diag *diag);

/*
 * A rejection reason a person typed: 1..CC_WORKER_REASON_MAX bytes of
 * UTF-8 without control characters and without a run of six or more
 * digits (it could be a personnummer). 0 or CC_ERR_INVALID_ARGUMENT
 * with the rule in diag.
 */
int cc_worker_reason_check(const char *reason, struct cc_diag *diag);

/* A task from GET /api/v1/node/work (docs/api.md), validated. */
enum cc_worker_task_kind {
	CC_WORKER_TASK_APPROVE = 1,
	CC_WORKER_TASK_STEP,
	CC_WORKER_TASK_FORGET,
};

struct cc_worker_task {
	enum cc_worker_task_kind kind;
	char query_id[CC_QUERY_ID_HEX + 1];
	uint8_t qid[CC_QUERY_ID_HEX / 2];
	/* approve and step */
	struct cc_query *q;               /* owned */
	size_t nnodes;                    /* 1..CC_LIMIT_QUERY_NODES */
	char nodes[CC_LIMIT_QUERY_NODES][CC_LIMIT_NODE_ID + 1];
	int64_t deadline;                 /* seconds since the epoch */
	uint8_t y_pub[CC_ELEMENT_BYTES];  /* a valid element */
	/* approve */
	char owner[CC_LIMIT_USERNAME + 1];
	/* step: chain, hop < nnodes; input_size 0 exactly for hop 0 */
	uint16_t chain;
	uint16_t hop;
	uint64_t input_size;
	/* forget */
	char status[CC_QUERYLOG_STATUS_MAX + 1];   /* [a-z_]+ */
	bool has_result_digest;
	char result_digest[CC_QUERYLOG_DIGEST_HEX + 1];
	bool has_reason;
	char reason[CC_QUERYLOG_REASON_MAX + 1];   /* cut to the log's limit */
};

/*
 * Validate one task exactly (known fields; fields added to v1 later are
 * ignored): the query with cc_query_from_json, node ids, the deadline
 * "YYYY-MM-DDTHH:MM:SSZ", the attribute key a valid element in 64 hex,
 * and the kind's own fields. CC_ERR_FORMAT (or the query's error) with
 * the field in diag; *ret_task is then cleared. Clear a parsed task with
 * cc_worker_task_clear (frees the query).
 */
int cc_worker_task_parse(struct cc_worker_task *ret_task, const json_t *o,
    struct cc_diag *diag);
void cc_worker_task_clear(struct cc_worker_task *t);

struct cc_worker_options {
	const char *dir;                  /* the node directory */
	const struct cc_node_config *cfg;
	struct cc_store *st;
	struct cc_key **key;              /* replaced after a key rotation */
	volatile sig_atomic_t *stop;      /* set by the signal handler */
	FILE *log;                        /* one line per event */
};

/*
 * Run until *stop. Returns 0 after a clean stop, or an error (with diag)
 * when the node cannot work at all: no aggregator URL, CA, certificate
 * or key in node.conf, a certificate that does not name this node.
 */
int cc_worker_run(const struct cc_worker_options *opt, struct cc_diag *diag);

/*
 * `approve ID` / `reject ID`: decide a query the policy held. The query
 * must be held in the log and not ended; an approval is checked against
 * the policy again (a rule that now fails refuses it: CC_ERR_POLICY).
 * Records the decision in the log with by (the person's name) first,
 * then POSTs it to the aggregator with the node's certificate (SPEC
 * 7.2). reason (reject only) has passed cc_worker_reason_check.
 *
 * Returns 0 once the decision is recorded; *ret_sent tells whether the
 * aggregator took it too. When it could not be reached, diag says why
 * and the daemon sends the decision with the next offer of the approve
 * task. Errors: nothing recorded: CC_ERR_NOT_FOUND (no such query in the
 * log), CC_ERR_STATE (not held, ended, past its deadline), CC_ERR_POLICY,
 * CC_ERR_IO (the log); recorded, but refused by the aggregator:
 * CC_ERR_NOT_FOUND (it does not know the query), CC_ERR_STATE (it no
 * longer awaits the decision), CC_ERR_AUTH.
 */
int cc_worker_decide_held(const char *dir, const struct cc_node_config *cfg,
    const char *query_id, bool approve, const char *reason, const char *by,
    bool *ret_sent, struct cc_diag *diag);

#endif
