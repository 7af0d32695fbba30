/*
 * crosscount-aggregator: the query state machine (SPEC.md 7.4, 8.2, 8.6,
 * 12.2) and the hand-out of tasks to nodes' long polls (docs/api.md).
 *
 * Everything the coordinator knows lives in the store (queries,
 * query_nodes, steps, audit) and on disk (DIR/batches/<query>/), so a
 * restarted `serve` resumes where it stopped: a query found in `counting`
 * is counted again, partial uploads (*.part) are discarded and their
 * steps restart from offset 0, deadlines keep running. Nothing partial is
 * ever released (7.4 8).
 *
 * Life cycle (main.c `serve`), after the store, the attribute key and the
 * server exist and before the event loop runs:
 *
 *     if ((r = cc_coordinator_new(&app.coord, &app, &diag)) != 0) ...
 *     event_base_dispatch(app.base);
 *     cc_coordinator_free(app.coord);   // before cc_server_free()
 *     app.coord = NULL;
 *
 * cc_coordinator_new() reads app->base, app->store, app->cfg (dir,
 * ca_file, policy, deadline_minutes, max_batch) and app->attr_key; it
 * loads the federation CA for batch verification, creates DIR/batches,
 * resumes, and starts a 1 s timer on app->base for deadlines. Counting
 * and the verification of committed batches run on worker threads that
 * only read files and hand their result back through a pipe watched by
 * the loop, so the program needs no evthread_use_pthreads().
 * cc_coordinator_free() waits for a running count (which is then redone
 * at the next start) and a running verification, answers every held long
 * poll with an empty task list and every held commit with 500, and stops
 * the timer.
 *
 * All functions are for the event loop's thread. Functions returning int
 * give 0 or an error of protocol/error.h with a sentence in diag that may
 * be shown to the caller; the HTTP status each error means is given per
 * function (api_query.c / api_node.c map them).
 */
#ifndef CC_AGG_COORDINATOR_H
#define CC_AGG_COORDINATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "aggregator/app.h"
#include "aggregator/server.h"
#include "protocol/error.h"

/* A query id: 16 random bytes as 32 lowercase hex characters. */
#define CC_COORD_ID_HEX 32
/* Longest reason a node may give for a rejection or a failure. */
#define CC_COORD_REASON_MAX 200
/* Longest long poll (docs/api.md). */
#define CC_COORD_MAX_WAIT 30
/*
 * A task that is still outstanding (an approval not yet given, a step not
 * yet committed) is offered again this many seconds after it was last
 * handed out, and after an aggregator restart: a node must treat a
 * repeated task as the same task. `forget` is handed out once per node.
 */
#define CC_COORD_REOFFER_SECONDS 30
/* A forget handed out this often without `forgotten` counts as done. */
#define CC_COORD_FORGET_OFFERS 10

struct cc_coordinator;

int cc_coordinator_new(struct cc_coordinator **ret_coord, struct cc_app *app,
    struct cc_diag *diag);
/* NULL is allowed. */
void cc_coordinator_free(struct cc_coordinator *c);

/* True if s is exactly 32 lowercase hex characters. */
bool cc_coord_id_valid(const char *s);

/* ---- analysts (api_query.c) ---- */

/*
 * Submit a query document for owner (SPEC 7.4 1-2): syntax
 * (cc_query_from_json: CC_ERR_QUERY, 400), federation policy, registry
 * and catalogues (CC_ERR_POLICY, 422: unknown or disabled node, a
 * category missing from a node's catalogue, a period outside what a node
 * holds, a grid or min_cell the policy refuses). On success the query,
 * its nodes and steps and the audit entry query.submitted are written in
 * one transaction, the nodes' polls are woken, and ret_id gets the id.
 * A refusal is audited as query.refused.
 */
int cc_coord_submit(struct cc_coordinator *c, const char *owner,
    const json_t *doc, char ret_id[CC_COORD_ID_HEX + 1], struct cc_diag *diag);

/*
 * The status document of GET /api/v1/queries/{id} (docs/api.md), with
 * "owner" set; the caller checks who may see it. CC_ERR_NOT_FOUND (404).
 * *ret_doc is a new reference.
 */
int cc_coord_describe(struct cc_coordinator *c, const char *query_id,
    json_t **ret_doc, struct cc_diag *diag);

/* ---- nodes (api_node.c); node = the caller's certificate CN ---- */

/*
 * PUT /api/v1/node/catalogue: validate body strictly ({"sector",
 * "categories", "period"}; at most CC_LIMIT_NODE_CATEGORIES unique names
 * per cc_query_category_valid; period {"from","to"} months with
 * from <= to, or null for a node that holds no records) and store it.
 * CC_ERR_FORMAT (400) with the field at fault.
 */
int cc_coord_set_catalogue(struct cc_coordinator *c, const char *node,
    const json_t *body, struct cc_diag *diag);

/*
 * The node's tasks at now, as a new JSON array (docs/api.md; see
 * coordinator.c for the exact objects): pending approvals, ready steps
 * due at the node, and ended queries it has not answered `forgotten`
 * for; each left out if it was handed out less than
 * CC_COORD_REOFFER_SECONDS before now. Updates the node's last_seen.
 */
int cc_coord_tasks(struct cc_coordinator *c, const char *node, time_t now,
    json_t **ret_tasks, struct cc_diag *diag);

/*
 * GET /api/v1/node/work?wait=N: reply {"tasks": [...]} at once if there
 * are tasks or wait is 0, else hold req until something changes for this
 * node or wait seconds pass (then {"tasks": []}). wait <= CC_COORD_MAX_WAIT
 * (the caller validated it). Always replies (now or later).
 */
void cc_coord_poll(struct cc_coordinator *c, struct cc_request *req,
    const char *node, unsigned wait);

/*
 * POST .../decision. approve, or reject with reason (1..CC_COORD_REASON_MAX
 * bytes, no control characters, no run of six digits). CC_ERR_NOT_FOUND
 * (404) if the node is not in the query, CC_ERR_STATE (409) if the query
 * is not awaiting approval or the node already decided, CC_ERR_FORMAT
 * (400) for a bad reason.
 */
int cc_coord_decide(struct cc_coordinator *c, const char *node,
    const char *query_id, bool approve, const char *reason,
    struct cc_diag *diag);

/*
 * The input batch of step (chain, hop) for GET .../batches/{chain}/{hop}:
 * ret_path (size CC_AGG_PATH_MAX) gets the accepted batch of hop - 1.
 * CC_ERR_NOT_FOUND (404) no such query or step (or the node is not in the
 * query), CC_ERR_AUTH (403) the step is due at another node, CC_ERR_STATE
 * (409) the step is not ready or is an origin step (no input).
 */
int cc_coord_input(struct cc_coordinator *c, const char *node,
    const char *query_id, unsigned chain, unsigned hop, char *ret_path,
    struct cc_diag *diag);

/*
 * One part of the output of step (chain, hop), appended at offset, which
 * must equal the bytes received so far (offset 0 restarts the upload).
 * Errors as cc_coord_input, plus CC_ERR_STATE (409) for a wrong offset
 * and CC_ERR_LIMIT (413) for a part over CC_LIMIT_UPLOAD_PART or a total
 * over the largest batch of cfg.max_batch records.
 */
int cc_coord_upload(struct cc_coordinator *c, const char *node,
    const char *query_id, unsigned chain, unsigned hop, uint64_t offset,
    const uint8_t *data, size_t len, struct cc_diag *diag);

/*
 * Commit the uploaded output of step (chain, hop) with its size and
 * SHA-256 (hex) (SPEC 8.6). Errors as cc_coord_input for the step itself;
 * a refused batch is CC_ERR_POLICY (422) whatever the check that failed
 * (diag says which), after which the part is deleted, batch.refused is
 * audited and the step stays ready. On success the batch is accepted
 * (audited), the input batch is deleted, the next hop becomes ready, and
 * after the last final batch the query goes to counting.
 */
int cc_coord_commit(struct cc_coordinator *c, const char *node,
    const char *query_id, unsigned chain, unsigned hop, uint64_t size,
    const char *digest_hex, struct cc_diag *diag);

/*
 * The same for POST .../commit, without blocking the event loop: the
 * request is held while a worker thread checks the batch (hashing,
 * parsing and verifying take about 30 us per record), then answered 204
 * or with the error as above. Commits are checked one at a time in the
 * order they arrive; while a step's commit waits or is being checked the
 * step takes no upload and no other commit (409). Always replies; req
 * may be NULL (tests: the outcome is then only in the store).
 */
void cc_coord_commit_request(struct cc_coordinator *c, struct cc_request *req,
    const char *node, const char *query_id, unsigned chain, unsigned hop,
    uint64_t size, const char *digest_hex);

/*
 * POST .../fail: the node cannot go on; the running or awaiting query
 * fails with a reason naming the node. reason as for cc_coord_decide.
 * CC_ERR_NOT_FOUND (404), CC_ERR_STATE (409) if the query already ended.
 */
int cc_coord_node_fail(struct cc_coordinator *c, const char *node,
    const char *query_id, const char *reason, struct cc_diag *diag);

/*
 * POST .../forgotten: the node destroyed its r and batches of the ended
 * query (SPEC 7.4 item 10); its `forget` is not offered again.
 * CC_ERR_NOT_FOUND (404) if the node has no part in the query,
 * CC_ERR_STATE (409) if the query has not ended. Repeating it is fine.
 */
int cc_coord_forgotten(struct cc_coordinator *c, const char *node,
    const char *query_id, struct cc_diag *diag);

/* ---- time (the 1 s timer calls it; tests call it with a chosen now) ---- */

/*
 * Fail every query in awaiting_approval or running whose deadline is
 * before now, naming the nodes still owing an approval or a step, and
 * delete its batches.
 */
int cc_coord_tick(struct cc_coordinator *c, time_t now, struct cc_diag *diag);

#endif
