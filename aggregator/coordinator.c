/*
 * crosscount-aggregator: the query state machine (see coordinator.h).
 * SPEC.md 7.4 (states), 8.2 (chains and hop order), 8.6 (verification of
 * every upload), 12.2 (deletion at the aggregator), 13 (audit events).
 *
 * States of a query (queries.status) and of its parts:
 *   awaiting_approval  query_nodes.approval pending|approved|rejected;
 *                      every step 'waiting'
 *   running            step (c, 0) 'ready' for every chain c at once;
 *                      step (c, h) becomes 'ready' when (c, h-1) is
 *                      accepted ('done'); an upload grows
 *                      DIR/batches/<id>/<c>-<h>.part (steps.uploaded), a
 *                      commit that passes 8.6 renames it to <c>-<h>.batch
 *                      and deletes the input <c>-<h-1>.batch
 *   counting           every final step (hop k-1) done; the worker thread
 *                      runs cc_counting_run on the k final batches
 *   released | failed | rejected
 *                      ended: finished set, every batch file overwritten
 *                      and unlinked, `forget` offered to every node (again
 *                      after CC_COORD_REOFFER_SECONDS) until the node
 *                      says `forgotten` (query_nodes.forgotten)
 *
 * Tasks handed to nodes (GET /api/v1/node/work), exactly:
 *   {"kind": "approve", "query_id": ID, "query": DOC, "owner": USER,
 *    "deadline": TIME, "nodes": [N_0, .., N_k-1], "attribute_key": Y}
 *   {"kind": "step", "query_id": ID, "chain": C, "hop": H,
 *    "nodes": [...], "query": DOC, "attribute_key": Y,
 *    "deadline": TIME, "input_size": BYTES}
 *   {"kind": "forget", "query_id": ID, "status": "released"|"failed"|
 *    "rejected", "result_digest": HEX|null, "reason": TEXT|null}
 * DOC is the canonical query document (cc_query_to_json) as a JSON
 * object, TIME RFC 3339 UTC, Y the 64-hex attribute key, input_size 0
 * for an origin step (hop 0) and the size of the accepted batch of hop-1
 * otherwise.
 */
#include "aggregator/coordinator.h"
#include "aggregator/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "aggregator/audit.h"
#include "aggregator/auth.h"
#include "aggregator/counting.h"
#include "protocol/batch.h"
#include "protocol/batch_stream.h"
#include "protocol/date.h"
#include "protocol/file.h"
#include "protocol/hex.h"
#include "protocol/query.h"
#include "protocol/sector.h"
#include "protocol/sign.h"

#define COORD_ACTOR "aggregator"
#define COORD_REASON_TEXT 1024      /* a query's stored reason */

/* Largest upload: a batch of max_batch records with the largest trailer. */
#define COORD_MAX_BATCH_BYTES(n) ((uint64_t)CC_BATCH_HEADER_BYTES + \
	(uint64_t)CC_BATCH_REF_BYTES * CC_LIMIT_BATCH_REFS + \
	(uint64_t)CC_BATCH_RECORD_BYTES * (uint64_t)(n) + \
	4u + CC_LIMIT_CERT_DER + CC_LIMIT_SIGNATURE)

struct coord_waiter {
	TAILQ_ENTRY(coord_waiter) link;
	struct cc_coordinator *c;
	struct cc_request *req;
	struct event *timer;
	char node[CC_LIMIT_NODE_ID + 1];
};
TAILQ_HEAD(coord_waiters, coord_waiter);

/* When an outstanding task was last handed to its node (in memory). */
struct coord_offer {
	char node[CC_LIMIT_NODE_ID + 1];
	char query[CC_COORD_ID_HEX + 1];
	bool step;          /* false: approve, or forget once the query ended */
	unsigned chain, hop;
	time_t when;
	unsigned count;     /* times handed out since this process started */
};

/* One count on the worker thread: inputs owned by the job, one result. */
struct coord_job {
	char query[CC_COORD_ID_HEX + 1];
	uint8_t query_id[CC_BATCH_QUERY_ID_BYTES];
	struct cc_query *q;
	char **paths;
	size_t npaths;
	const struct cc_seal_key *key;
	uint32_t max_count;
	int wake_fd;
	/* results */
	int r;
	struct cc_diag diag;
	json_t *result;
};

/*
 * A commit (SPEC 8.6): prepared on the loop, verified on the verification
 * thread (files only), finished on the loop. Queued commits are verified
 * one at a time, oldest first; while one is queued its step takes no
 * upload and no second commit.
 */
struct coord_commit {
	TAILQ_ENTRY(coord_commit) link;
	struct cc_coordinator *c;
	struct cc_request *req;     /* held; NULL if closed or synchronous */
	char node[CC_LIMIT_NODE_ID + 1];
	char qid[CC_COORD_ID_HEX + 1];
	uint8_t query_id[CC_BATCH_QUERY_ID_BYTES];
	unsigned chain, hop;
	uint64_t size;              /* announced */
	uint64_t uploaded;          /* received */
	char digest_hex[2 * crypto_hash_sha256_BYTES + 2];
	char part[CC_AGG_PATH_MAX];
	struct cc_query *q;
	int64_t input_count;        /* records of hop - 1; -1 for hop 0 */
	uint32_t max_batch;
	const struct cc_trust *trust;
	/* results of the verification */
	int r;
	struct cc_diag diag;
	uint8_t d[32];
	uint32_t count;
};
TAILQ_HEAD(coord_commits, coord_commit);

#define COORD_LOG_PENDING 16
#define COORD_LOG_LINE 400

struct cc_coordinator {
	struct cc_app *app;
	struct cc_agg_store *store;
	struct cc_trust *trust;
	char batches[CC_AGG_PATH_MAX];
	char attribute_key[2 * CC_ELEMENT_BYTES + 1];
	struct event *timer;
	struct coord_waiters waiters;
	struct coord_offer *offers;
	size_t noffers;
	size_t offers_cap;
	/* counting */
	int pipe[2];
	struct event *pipe_ev;
	bool job_running;
	pthread_t thread;
	struct coord_job *job;
	/* commit verification */
	struct coord_commits commits;
	bool verify_running;
	pthread_t verify_thread;
	/* event log lines of the open transaction, written when it commits */
	char pending[COORD_LOG_PENDING][COORD_LOG_LINE];
	size_t npending;
};

static void coord_count_next(struct cc_coordinator *c);
static void coord_wake(struct cc_coordinator *c);
static void coord_commit_done(struct cc_coordinator *c);
static bool coord_commit_busy(struct cc_coordinator *c, const char *qid,
    unsigned chain, unsigned hop);

/* ------------------------------------------------------------------ */
/* Small helpers */

bool
cc_coord_id_valid(const char *s)
{
	return cc_hex_valid(s, CC_COORD_ID_HEX);
}

static int
coord_id_bytes(uint8_t ret[CC_BATCH_QUERY_ID_BYTES], const char *hex)
{
	size_t len = 0;

	if (!cc_coord_id_valid(hex) ||
	    sodium_hex2bin(ret, CC_BATCH_QUERY_ID_BYTES, hex, CC_COORD_ID_HEX,
	    NULL, &len, NULL) != 0 || len != CC_BATCH_QUERY_ID_BYTES)
		return CC_ERR_FORMAT;
	return 0;
}

/* RFC 3339 UTC, "2026-11-22T12:00:00Z". */
static void
coord_time_text(char out[32], time_t t)
{
	if (cc_date_time_text(out, t) != 0)
		snprintf(out, 32, "1970-01-01T00:00:00Z");
}

static json_t *
coord_json_time(time_t t)
{
	char text[32];

	coord_time_text(text, t);
	return json_string(text);
}

/* Append to a reason text, truncating (a reason is for a person). */
static void
coord_append(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
coord_append(char *buf, size_t size, const char *fmt, ...)
{
	size_t used = strnlen(buf, size);
	va_list ap;

	if (used + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
}

/*
 * A reason given by a node: 1..CC_COORD_REASON_MAX bytes, no control
 * characters (C0, DEL, C1 as UTF-8), and no run of six digits, which
 * could be (part of) an identity (SPEC 12.3: logs and the store never
 * hold one). Jansson has already checked the UTF-8.
 */
static int
coord_reason_check(const char *reason, struct cc_diag *diag)
{
	size_t len, i, digits = 0;
	const unsigned char *p = (const unsigned char *)reason;

	if (reason == NULL || (len = strlen(reason)) == 0 ||
	    len > CC_COORD_REASON_MAX) {
		cc_diag_set(diag, "reason: must be 1 to %d bytes",
		    CC_COORD_REASON_MAX);
		return CC_ERR_FORMAT;
	}
	for (i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f ||
		    (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 &&
		    p[i + 1] <= 0x9f)) {
			cc_diag_set(diag, "reason: control characters are not "
			    "allowed");
			return CC_ERR_FORMAT;
		}
		digits = (p[i] >= '0' && p[i] <= '9') ? digits + 1 : 0;
		if (digits >= 6) {
			cc_diag_set(diag, "reason: six or more digits in a row "
			    "are not allowed (they could be an identity)");
			return CC_ERR_FORMAT;
		}
	}
	return 0;
}

/*
 * Prepare sql and bind its parameters from fmt: 's' text (NULL binds
 * NULL), 'i' int64, 'u' unsigned. One letter per '?', in order.
 */
static int
coord_vprepare(struct cc_coordinator *c, sqlite3_stmt **ret_st,
    struct cc_diag *diag, const char *sql, const char *fmt, va_list ap)
{
	sqlite3_stmt *st = NULL;
	const char *s;
	int r, i, rc = SQLITE_OK;

	*ret_st = NULL;
	if ((r = cc_agg_store_prepare(c->store, &st, sql, diag)) != 0)
		return r;
	for (i = 0; fmt[i] != '\0' && rc == SQLITE_OK; i++) {
		switch (fmt[i]) {
		case 's':
			s = va_arg(ap, const char *);
			rc = s != NULL ? sqlite3_bind_text(st, i + 1, s, -1,
			    SQLITE_TRANSIENT) : sqlite3_bind_null(st, i + 1);
			break;
		case 'i':
			rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
			break;
		case 'u':
			rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, unsigned));
			break;
		default:
			rc = SQLITE_MISUSE;
			break;
		}
	}
	if (rc != SQLITE_OK) {
		r = cc_agg_store_fail(c->store, diag);
		sqlite3_finalize(st);
		return r;
	}
	*ret_st = st;
	return 0;
}

static int
coord_prepare(struct cc_coordinator *c, sqlite3_stmt **ret_st,
    struct cc_diag *diag, const char *sql, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = coord_vprepare(c, ret_st, diag, sql, fmt, ap);
	va_end(ap);
	return r;
}

/* Run a statement that returns no rows (parameters as coord_prepare). */
static int
coord_exec(struct cc_coordinator *c, struct cc_diag *diag, const char *sql,
    const char *fmt, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = coord_vprepare(c, &st, diag, sql, fmt, ap);
	va_end(ap);
	if (r != 0)
		return r;
	if (sqlite3_step(st) != SQLITE_DONE)
		r = cc_agg_store_fail(c->store, diag);
	sqlite3_finalize(st);
	return r;
}

/* Write the event lines of a committed transaction. */
static void
coord_log_flush(struct cc_coordinator *c)
{
	size_t i;

	for (i = 0; i < c->npending; i++)
		cc_agg_log("%s", c->pending[i]);
	c->npending = 0;
}

static void
coord_rollback(struct cc_coordinator *c)
{
	cc_agg_store_rollback(c->store);
	c->npending = 0;
}

static int
coord_begin(struct cc_coordinator *c, struct cc_diag *diag)
{
	c->npending = 0;
	if (cc_agg_store_begin(c->store) != 0)
		return cc_agg_store_fail(c->store, diag);
	return 0;
}

static int
coord_commit(struct cc_coordinator *c, struct cc_diag *diag)
{
	if (cc_agg_store_commit(c->store) != 0) {
		int r = cc_agg_store_fail(c->store, diag);

		coord_rollback(c);
		return r;
	}
	coord_log_flush(c);
	return 0;
}

/*
 * One event line from an audit entry: the event, its actor and the ids,
 * numbers and reason of its detail. Never the query document (its title
 * is free text) and never a digest-less blob.
 */
static void
coord_log_line(char out[COORD_LOG_LINE], const char *actor, const char *event,
    const json_t *detail)
{
	static const char *const keys[] = { "query", "node", "chain", "hop",
	    "count", "status", "reason" };
	size_t i, off;
	int w;

	w = snprintf(out, COORD_LOG_LINE, "%s by %s", event, actor);
	off = w > 0 && (size_t)w < COORD_LOG_LINE ? (size_t)w : COORD_LOG_LINE - 1;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const json_t *v = json_object_get(detail, keys[i]);

		if (json_is_string(v))
			w = snprintf(out + off, COORD_LOG_LINE - off, " %s=%s",
			    keys[i], json_string_value(v));
		else if (json_is_integer(v))
			w = snprintf(out + off, COORD_LOG_LINE - off, " %s=%lld",
			    keys[i], (long long)json_integer_value(v));
		else
			continue;
		if (w < 0 || (size_t)w >= COORD_LOG_LINE - off)
			break;
		off += (size_t)w;
	}
}

/*
 * Append an audit entry (SPEC 13); detail is stolen. Its log line is
 * written when the transaction commits (at once outside a transaction),
 * so a rolled-back event is never logged.
 */
static int
coord_audit(struct cc_coordinator *c, const char *actor, const char *event,
    json_t *detail, struct cc_diag *diag)
{
	int r;

	if (detail == NULL)
		return CC_ERR_ALLOC;
	r = cc_audit_append(c->store, actor, event, detail, diag);
	if (r == 0 && c->npending < COORD_LOG_PENDING)
		coord_log_line(c->pending[c->npending++], actor, event, detail);
	json_decref(detail);
	if (r == 0 && sqlite3_get_autocommit(cc_agg_store_db(c->store)))
		coord_log_flush(c);
	return r;
}

/* ------------------------------------------------------------------ */
/* Files: DIR/batches/<id>/<chain>-<hop>.{part,batch} */

static int
coord_query_dir(const struct cc_coordinator *c, char out[CC_AGG_PATH_MAX],
    const char *qid)
{
	int w = snprintf(out, CC_AGG_PATH_MAX, "%s/%s", c->batches, qid);

	return w < 0 || w >= CC_AGG_PATH_MAX ? CC_ERR_LIMIT : 0;
}

static int
coord_batch_path(const struct cc_coordinator *c, char out[CC_AGG_PATH_MAX],
    const char *qid, unsigned chain, unsigned hop, const char *ext)
{
	int w = snprintf(out, CC_AGG_PATH_MAX, "%s/%s/%u-%u.%s", c->batches,
	    qid, chain, hop, ext);

	return w < 0 || w >= CC_AGG_PATH_MAX ? CC_ERR_LIMIT : 0;
}

/*
 * SPEC 12.2: an uploaded batch is overwritten before it is unlinked (the
 * tokens are pseudonymous data). Missing files are not an error.
 */
static void
coord_shred(const char *path)
{
	(void)cc_file_destroy(path, NULL, NULL);
}

/*
 * Shred every file of a query's batch directory and remove it; the number
 * of files deleted.
 */
static size_t
coord_delete_batches(struct cc_coordinator *c, const char *qid)
{
	char dir[CC_AGG_PATH_MAX], path[CC_AGG_PATH_MAX];
	struct dirent *e;
	size_t n = 0;
	DIR *d;
	int w;

	if (coord_query_dir(c, dir, qid) != 0 || (d = opendir(dir)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		w = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (w > 0 && (size_t)w < sizeof(path)) {
			coord_shred(path);
			n++;
		}
	}
	closedir(d);
	(void)rmdir(dir);
	return n;
}

/* ------------------------------------------------------------------ */
/* Offers: outstanding tasks are re-offered after CC_COORD_REOFFER_SECONDS */

static struct coord_offer *
coord_offer_find(struct cc_coordinator *c, const char *node, const char *qid,
    bool step, unsigned chain, unsigned hop)
{
	size_t i;

	for (i = 0; i < c->noffers; i++) {
		struct coord_offer *o = &c->offers[i];

		if (o->step == step && o->chain == chain && o->hop == hop &&
		    strcmp(o->node, node) == 0 && strcmp(o->query, qid) == 0)
			return o;
	}
	return NULL;
}

/*
 * Whether the task should be handed out now (and records it): 0 if not,
 * else how many times it has been handed out with this one (since this
 * process started).
 */
static unsigned
coord_offer_due(struct cc_coordinator *c, const char *node, const char *qid,
    bool step, unsigned chain, unsigned hop, time_t now)
{
	struct coord_offer *o, *grown;
	size_t cap;

	if ((o = coord_offer_find(c, node, qid, step, chain, hop)) != NULL) {
		if (now - o->when < CC_COORD_REOFFER_SECONDS && now >= o->when)
			return 0;
		o->when = now;
		return ++o->count;
	}
	if (c->noffers == c->offers_cap) {
		cap = c->offers_cap == 0 ? 16 : c->offers_cap * 2;
		if ((grown = reallocarray(c->offers, cap, sizeof(*grown))) == NULL)
			return 1;  /* offered, just not remembered */
		c->offers = grown;
		c->offers_cap = cap;
	}
	o = &c->offers[c->noffers++];
	memset(o, 0, sizeof(*o));
	snprintf(o->node, sizeof(o->node), "%s", node);
	snprintf(o->query, sizeof(o->query), "%s", qid);
	o->step = step;
	o->chain = chain;
	o->hop = hop;
	o->when = now;
	o->count = 1;
	return 1;
}

/* Forget offers of a query (all of them, or one step's). */
static void
coord_offer_drop(struct cc_coordinator *c, const char *qid, bool one_step,
    unsigned chain, unsigned hop)
{
	size_t i = 0;

	while (i < c->noffers) {
		struct coord_offer *o = &c->offers[i];

		if (strcmp(o->query, qid) == 0 && (!one_step ||
		    (o->step && o->chain == chain && o->hop == hop))) {
			c->offers[i] = c->offers[--c->noffers];
			continue;
		}
		i++;
	}
}

/* ------------------------------------------------------------------ */
/* Reading a query */

struct coord_qrow {
	char status[24];
	char owner[CC_USERNAME_MAX];
	time_t deadline;
	struct cc_query *q;       /* parsed from the stored document */
	char *document;           /* the canonical document */
};

static void
coord_qrow_clear(struct coord_qrow *row)
{
	cc_query_free(row->q);
	free(row->document);
	memset(row, 0, sizeof(*row));
}

/* CC_ERR_NOT_FOUND if there is no such query. */
static int
coord_qrow_load(struct cc_coordinator *c, const char *qid,
    struct coord_qrow *ret_row, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *status, *owner, *doc;
	int r, rc;

	memset(ret_row, 0, sizeof(*ret_row));
	if (!cc_coord_id_valid(qid)) {
		cc_diag_set(diag, "no such query");
		return CC_ERR_NOT_FOUND;
	}
	if ((r = coord_prepare(c, &st, diag, "SELECT status, owner, deadline, "
	    "document FROM queries WHERE id = ?", "s", qid)) != 0)
		return r;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? CC_ERR_NOT_FOUND :
		    cc_agg_store_fail(c->store, diag);
		if (rc == SQLITE_DONE)
			cc_diag_set(diag, "no such query");
		goto out;
	}
	status = sqlite3_column_text(st, 0);
	owner = sqlite3_column_text(st, 1);
	doc = sqlite3_column_text(st, 3);
	if (status == NULL || owner == NULL || doc == NULL) {
		r = CC_ERR_DB;
		cc_diag_set(diag, "database: query %s is incomplete", qid);
		goto out;
	}
	snprintf(ret_row->status, sizeof(ret_row->status), "%s", status);
	snprintf(ret_row->owner, sizeof(ret_row->owner), "%s", owner);
	ret_row->deadline = (time_t)sqlite3_column_int64(st, 2);
	if ((ret_row->document = strdup((const char *)doc)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if ((r = cc_query_parse(&ret_row->q, ret_row->document,
	    strlen(ret_row->document), diag)) != 0) {
		cc_diag_prefix(diag, "stored query %s: ", qid);
		r = CC_ERR_DB;
		goto out;
	}
	r = 0;
out:
	sqlite3_finalize(st);
	if (r != 0)
		coord_qrow_clear(ret_row);
	return r;
}

static json_t *
coord_nodes_json(const struct cc_query *q)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < q->nnodes; i++) {
		if (json_array_append_new(a, json_string(q->nodes[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* ------------------------------------------------------------------ */
/* Ending a query */

/*
 * End a query that has not ended yet, in one transaction with its audit
 * entry: failed (reason names the nodes in `named`, stolen), or, when
 * rejected_by is a node, rejected with that node's own reason
 * (node_reason) recorded on its approval. Then delete its batches and
 * wake the polls (forget). CC_ERR_STATE if it had already ended.
 */
static int
coord_end(struct cc_coordinator *c, const char *qid, const char *rejected_by,
    const char *node_reason, const char *actor, const char *reason,
    json_t *named, struct cc_diag *diag)
{
	json_t *detail = NULL;
	int r;

	if (named == NULL)
		return CC_ERR_ALLOC;
	if ((r = coord_begin(c, diag)) != 0)
		goto out;
	if ((r = coord_exec(c, diag, "UPDATE queries SET status = ?, "
	    "reason = ?, finished = ? WHERE id = ? AND status IN "
	    "('awaiting_approval', 'running', 'counting')", "ssis",
	    rejected_by != NULL ? "rejected" : "failed", reason,
	    (int64_t)time(NULL), qid)) != 0)
		goto out;
	if (sqlite3_changes(cc_agg_store_db(c->store)) != 1) {
		cc_diag_set(diag, "the query has already ended");
		r = CC_ERR_STATE;
		goto out;
	}
	if (rejected_by != NULL) {
		if ((r = coord_exec(c, diag, "UPDATE query_nodes SET approval = "
		    "'rejected', reason = ? WHERE query = ? AND node = ?", "sss",
		    node_reason, qid, rejected_by)) != 0)
			goto out;
		detail = json_pack("{s:s, s:s, s:s}", "query", qid, "node",
		    rejected_by, "reason", node_reason);
	} else {
		detail = json_pack("{s:s, s:s, s:O}", "query", qid, "reason",
		    reason, "nodes", named);
	}
	if ((r = coord_audit(c, actor, rejected_by != NULL ? "query.rejected" :
	    "query.failed", detail, diag)) != 0)
		goto out;
	if ((r = coord_commit(c, diag)) != 0)
		goto out;
	/* SPEC 12.2: every batch goes when the query fails. */
	coord_delete_batches(c, qid);
	coord_offer_drop(c, qid, false, 0, 0);
	coord_wake(c);
	r = 0;
out:
	if (r != 0)
		coord_rollback(c);
	json_decref(named);
	return r;
}

/* ------------------------------------------------------------------ */
/* Counting on a worker thread (SPEC 7.4 6, 9) */

static void
coord_job_free(struct coord_job *job)
{
	size_t i;

	if (job == NULL)
		return;
	cc_query_free(job->q);
	for (i = 0; job->paths != NULL && i < job->npaths; i++)
		free(job->paths[i]);
	free(job->paths);
	json_decref(job->result);
	free(job);
}

/* The worker: pure (files in, a table out), then one byte to the loop. */
static void *
coord_job_run(void *arg)
{
	struct coord_job *job = arg;

	job->r = cc_counting_run(&job->result, job->q, job->query_id,
	    (const char *const *)job->paths, job->npaths, job->key,
	    job->max_count, &job->diag);
	cc_file_signal(job->wake_fd, 'c');
	return NULL;
}

/*
 * Store a finished count (in the loop's thread). False if the store
 * failed: the query stays in counting and the timer tries again.
 */
static bool
coord_job_finish(struct cc_coordinator *c, struct coord_job *job)
{
	struct cc_diag diag = { "" };
	char reason[COORD_REASON_TEXT];
	char *text = NULL;
	const char *digest;
	json_t *named = NULL;
	size_t files;
	int r;

	if (job->r != 0) {
		/* SPEC 7.4 7: counting failed; diag names the chain(s). */
		snprintf(reason, sizeof(reason), "counting failed: %s",
		    job->diag.text[0] != '\0' ? job->diag.text :
		    cc_strerror(job->r));
		named = json_array();
		return coord_end(c, job->query, NULL, NULL, COORD_ACTOR,
		    reason, named, &diag) != CC_ERR_DB;
	}
	digest = json_string_value(json_object_get(job->result, "digest"));
	text = json_dumps(job->result, JSON_COMPACT | JSON_SORT_KEYS);
	if (digest == NULL || text == NULL) {
		free(text);
		return coord_end(c, job->query, NULL, NULL, COORD_ACTOR,
		    "counting failed: the released table could not be stored",
		    json_array(), &diag) != CC_ERR_DB;
	}
	if ((r = coord_begin(c, &diag)) != 0)
		goto out;
	if ((r = coord_exec(c, &diag, "UPDATE queries SET status = 'released', "
	    "result = ?, result_digest = ?, finished = ?, reason = NULL "
	    "WHERE id = ? AND status = 'counting'", "ssis", text, digest,
	    (int64_t)time(NULL), job->query)) != 0)
		goto out;
	if (sqlite3_changes(cc_agg_store_db(c->store)) != 1) {
		/* Ended meanwhile (it cannot, but never release twice). */
		coord_rollback(c);
		goto out;
	}
	if ((r = coord_audit(c, COORD_ACTOR, "query.released",
	    json_pack("{s:s, s:s}", "query", job->query, "digest", digest),
	    &diag)) != 0 || (r = coord_commit(c, &diag)) != 0)
		goto out;
	/* SPEC 12.2: every batch goes when counting ends. */
	files = coord_delete_batches(c, job->query);
	(void)coord_audit(c, COORD_ACTOR, "query.deleted-intermediates",
	    json_pack("{s:s, s:s, s:I}", "query", job->query, "deleted",
	    "every batch of the query", "files", (json_int_t)files), &diag);
	coord_offer_drop(c, job->query, false, 0, 0);
	coord_wake(c);
out:
	if (r != 0)
		coord_rollback(c);
	free(text);
	return r == 0;
}

/* A worker thread finished: 'c' a count, 'v' a commit verification. */
static void
coord_pipe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cc_coordinator *c = arg;
	struct coord_job *job;
	uint8_t buf[16];
	ssize_t n, i;
	bool counted = false, verified = false, ok;

	(void)what;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++) {
			if (buf[i] == 'c')
				counted = true;
			else if (buf[i] == 'v')
				verified = true;
		}
	}
	if (verified && c->verify_running)
		coord_commit_done(c);
	if (!counted || !c->job_running)
		return;
	pthread_join(c->thread, NULL);
	c->job_running = false;
	job = c->job;
	c->job = NULL;
	ok = coord_job_finish(c, job);
	coord_job_free(job);
	if (ok)
		coord_count_next(c);
}

/* Build the job for a query in counting: its k final batches. */
static int
coord_job_new(struct cc_coordinator *c, const char *qid,
    struct coord_job **ret_job, struct cc_diag *diag)
{
	struct coord_qrow row;
	struct coord_job *job = NULL;
	char path[CC_AGG_PATH_MAX];
	size_t i;
	int r;

	*ret_job = NULL;
	if ((r = coord_qrow_load(c, qid, &row, diag)) != 0)
		return r;
	if ((job = calloc(1, sizeof(*job))) == NULL ||
	    (job->paths = calloc(row.q->nnodes, sizeof(char *))) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	snprintf(job->query, sizeof(job->query), "%s", qid);
	if ((r = coord_id_bytes(job->query_id, qid)) != 0)
		goto out;
	job->npaths = row.q->nnodes;
	for (i = 0; i < row.q->nnodes; i++) {
		if ((r = coord_batch_path(c, path, qid, (unsigned)i,
		    (unsigned)row.q->nnodes - 1, "batch")) != 0)
			goto out;
		if ((job->paths[i] = strdup(path)) == NULL) {
			r = CC_ERR_ALLOC;
			goto out;
		}
	}
	job->q = row.q;
	row.q = NULL;
	job->key = c->app->attr_key;
	job->max_count = c->app->cfg.max_batch;
	job->wake_fd = c->pipe[1];
	*ret_job = job;
	job = NULL;
	r = 0;
out:
	coord_qrow_clear(&row);
	coord_job_free(job);
	return r;
}

/* Start counting the oldest query in `counting` if the worker is idle. */
static void
coord_count_next(struct cc_coordinator *c)
{
	struct cc_diag diag = { "" };
	struct coord_job *job = NULL;
	sqlite3_stmt *st = NULL;
	char qid[CC_COORD_ID_HEX + 1] = "";
	const unsigned char *id;
	int r;

	if (c->job_running)
		return;
	if (coord_prepare(c, &st, &diag, "SELECT id FROM queries WHERE status = "
	    "'counting' ORDER BY submitted, id LIMIT 1", "") != 0)
		return;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (id = sqlite3_column_text(st, 0)) != NULL)
		snprintf(qid, sizeof(qid), "%s", id);
	sqlite3_finalize(st);
	if (qid[0] == '\0')
		return;
	if ((r = coord_job_new(c, qid, &job, &diag)) != 0) {
		char reason[COORD_REASON_TEXT];

		snprintf(reason, sizeof(reason), "counting could not start: %s",
		    diag.text[0] != '\0' ? diag.text : cc_strerror(r));
		if (coord_end(c, qid, NULL, NULL, COORD_ACTOR, reason,
		    json_array(), &diag) == 0)
			coord_count_next(c);
		return;
	}
	if (pthread_create(&c->thread, NULL, coord_job_run, job) != 0) {
		/* No thread: count here, synchronously. */
		/* The 'c' it writes finds no running job and is ignored. */
		coord_job_run(job);
		if (coord_job_finish(c, job)) {
			coord_job_free(job);
			coord_count_next(c);
		} else {
			coord_job_free(job);
		}
		return;
	}
	c->job = job;
	c->job_running = true;
}

/* ------------------------------------------------------------------ */
/* Submission (SPEC 7.4 1-2) */

/* Check one node against the registry and its catalogue (SPEC 7.2 11). */
static int
coord_check_node(struct cc_coordinator *c, const struct cc_query *q,
    size_t set, size_t idx, struct cc_diag *diag)
{
	const struct cc_query_set *s = &q->sets[set];
	const char *node = s->nodes[idx];
	sqlite3_stmt *st = NULL;
	const char *text, *from, *to;
	json_t *cat = NULL, *cats, *period;
	json_error_t jerr;
	int r, rc, mfrom, mto;
	size_t i, j;
	bool found;

	if ((r = coord_prepare(c, &st, diag, "SELECT enabled, catalogue FROM "
	    "nodes WHERE id = ?", "s", node)) != 0)
		return r;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		if (rc != SQLITE_DONE) {
			r = cc_agg_store_fail(c->store, diag);
			goto out;
		}
		cc_diag_set(diag, "sets[%zu].nodes: node \"%s\" is not enrolled "
		    "in the federation", set, node);
		r = CC_ERR_POLICY;
		goto out;
	}
	if (sqlite3_column_int(st, 0) == 0) {
		cc_diag_set(diag, "sets[%zu].nodes: node \"%s\" is disabled",
		    set, node);
		r = CC_ERR_POLICY;
		goto out;
	}
	text = (const char *)sqlite3_column_text(st, 1);
	if (text == NULL || (cat = json_loads(text, 0, &jerr)) == NULL) {
		cc_diag_set(diag, "sets[%zu].nodes: node \"%s\" has not "
		    "published its catalogue yet", set, node);
		r = CC_ERR_POLICY;
		goto out;
	}
	cats = json_object_get(cat, "categories");
	for (i = 0; i < s->ncategories; i++) {
		found = false;
		for (j = 0; j < json_array_size(cats); j++) {
			const char *name = json_string_value(json_array_get(cats, j));

			if (name != NULL && strcmp(name, s->categories[i]) == 0)
				found = true;
		}
		if (!found) {
			cc_diag_set(diag, "sets[%zu].categories[%zu]: node \"%s\" "
			    "does not hold this category", set, i, node);
			r = CC_ERR_POLICY;
			goto out;
		}
	}
	period = json_object_get(cat, "period");
	from = json_string_value(json_object_get(period, "from"));
	to = json_string_value(json_object_get(period, "to"));
	if (from == NULL || to == NULL ||
	    cc_month_parse(&mfrom, from, strlen(from), NULL) != 0 ||
	    cc_month_parse(&mto, to, strlen(to), NULL) != 0) {
		cc_diag_set(diag, "period: node \"%s\" holds no records yet",
		    node);
		r = CC_ERR_POLICY;
		goto out;
	}
	if (q->period_from < mfrom || q->period_to > mto) {
		cc_diag_set(diag, "period: node \"%s\" holds records from %s to "
		    "%s only", node, from, to);
		r = CC_ERR_POLICY;
		goto out;
	}
	r = 0;
out:
	json_decref(cat);
	sqlite3_finalize(st);
	return r;
}

static int
coord_insert_query(struct cc_coordinator *c, const struct cc_query *q,
    const char *qid, const char *owner, const char *document,
    struct cc_diag *diag)
{
	uint8_t digest[CC_QUERY_DIGEST_LEN];
	char digest_hex[2 * CC_QUERY_DIGEST_LEN + 1];
	time_t now = time(NULL);
	int64_t deadline = (int64_t)now + (int64_t)c->app->cfg.deadline_minutes * 60;
	size_t k = q->nnodes, i, h;
	int r;

	if ((r = cc_query_digest(digest, q)) != 0)
		return r;
	sodium_bin2hex(digest_hex, sizeof(digest_hex), digest, sizeof(digest));
	if ((r = coord_begin(c, diag)) != 0)
		return r;
	if ((r = coord_exec(c, diag, "INSERT INTO queries (id, owner, title, "
	    "document, status, submitted, deadline) VALUES (?, ?, ?, ?, "
	    "'awaiting_approval', ?, ?)", "ssssii", qid, owner, q->title,
	    document, (int64_t)now, deadline)) != 0)
		goto out;
	for (i = 0; i < k; i++) {
		if ((r = coord_exec(c, diag, "INSERT INTO query_nodes (query, "
		    "node, position) VALUES (?, ?, ?)", "ssu", qid, q->nodes[i],
		    (unsigned)i)) != 0)
			goto out;
	}
	/* SPEC 8.2: hop h of chain c is produced by n_{(c + h) mod k}. */
	for (i = 0; i < k; i++) {
		for (h = 0; h < k; h++) {
			if ((r = coord_exec(c, diag, "INSERT INTO steps (query, "
			    "chain, hop, node, status) VALUES (?, ?, ?, ?, "
			    "'waiting')", "suus", qid, (unsigned)i, (unsigned)h,
			    q->nodes[cc_batch_hop_node((uint16_t)i, (uint16_t)h,
			    (uint16_t)k)])) != 0)
				goto out;
		}
	}
	if ((r = coord_audit(c, owner, "query.submitted", json_pack(
	    "{s:s, s:s, s:s, s:s}", "query", qid, "owner", owner, "digest",
	    digest_hex, "document", document), diag)) != 0)
		goto out;
	r = coord_commit(c, diag);
out:
	if (r != 0)
		coord_rollback(c);
	return r;
}

int
cc_coord_submit(struct cc_coordinator *c, const char *owner,
    const json_t *doc, char ret_id[CC_COORD_ID_HEX + 1], struct cc_diag *diag)
{
	struct cc_query *q = NULL;
	struct cc_diag refused = { "" };
	uint8_t id[CC_BATCH_QUERY_ID_BYTES];
	char qid[CC_COORD_ID_HEX + 1];
	char *document = NULL;
	size_t s, n;
	int r;

	ret_id[0] = '\0';
	if ((r = cc_query_from_json(&q, doc, diag)) != 0)
		goto refuse;
	if ((r = cc_query_check_policy(q, &c->app->cfg.policy, diag)) != 0)
		goto refuse;
	for (s = 0; s < q->nsets; s++) {
		for (n = 0; n < q->sets[s].nnodes; n++) {
			if ((r = coord_check_node(c, q, s, n, diag)) != 0)
				goto refuse;
		}
	}
	if ((r = cc_query_to_json(&document, NULL, q)) != 0)
		goto out;
	randombytes_buf(id, sizeof(id));
	sodium_bin2hex(qid, sizeof(qid), id, sizeof(id));
	if ((r = coord_insert_query(c, q, qid, owner, document, diag)) != 0)
		goto out;
	memcpy(ret_id, qid, sizeof(qid));
	coord_wake(c);
	r = 0;
	goto out;
refuse:
	/* SPEC 7.4 1: no query is stored, the attempt is audited. */
	if (r == CC_ERR_QUERY || r == CC_ERR_POLICY || r == CC_ERR_LIMIT)
		(void)coord_audit(c, owner, "query.refused", json_pack(
		    "{s:s, s:s}", "owner", owner, "reason",
		    diag != NULL ? diag->text : cc_strerror(r)), &refused);
out:
	free(document);
	cc_query_free(q);
	return r;
}

/* ------------------------------------------------------------------ */
/* Status (GET /api/v1/queries/{id}) */

static json_t *
coord_column_time(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return json_null();
	return coord_json_time((time_t)sqlite3_column_int64(st, col));
}

static json_t *
coord_column_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t != NULL ? json_string((const char *)t) : json_null();
}

int
cc_coord_describe(struct cc_coordinator *c, const char *query_id,
    json_t **ret_doc, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	json_t *doc = NULL, *query = NULL, *nodes = NULL, *chains = NULL;
	json_error_t jerr;
	struct coord_qrow row;
	size_t k, i;
	int r, rc;

	*ret_doc = NULL;
	memset(&row, 0, sizeof(row));
	if ((r = coord_qrow_load(c, query_id, &row, diag)) != 0)
		return r;
	k = row.q->nnodes;
	if ((r = coord_prepare(c, &st, diag, "SELECT title, owner, status, "
	    "reason, submitted, deadline, finished, result_digest FROM queries "
	    "WHERE id = ?", "s", query_id)) != 0)
		goto out;
	if (sqlite3_step(st) != SQLITE_ROW) {
		r = cc_agg_store_fail(c->store, diag);
		goto out;
	}
	r = CC_ERR_ALLOC;
	if ((query = json_loads(row.document, JSON_REJECT_DUPLICATES, &jerr)) == NULL ||
	    (nodes = json_array()) == NULL || (chains = json_array()) == NULL)
		goto out;
	doc = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:O, s:O, "
	    "s:O, s:o}",
	    "id", query_id,
	    "title", coord_column_text(st, 0),
	    "owner", coord_column_text(st, 1),
	    "status", coord_column_text(st, 2),
	    "reason", coord_column_text(st, 3),
	    "submitted", coord_column_time(st, 4),
	    "deadline", coord_column_time(st, 5),
	    "finished", coord_column_time(st, 6),
	    "query", query, "nodes", nodes, "chains", chains,
	    "result_digest", coord_column_text(st, 7));
	sqlite3_finalize(st);
	st = NULL;
	if (doc == NULL)
		goto out;
	/* Per node: its approval and how many of its k steps are done. */
	if ((r = coord_prepare(c, &st, diag, "SELECT node, approval, reason, "
	    "steps_done FROM query_nodes WHERE query = ? ORDER BY position",
	    "s", query_id)) != 0)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (json_array_append_new(nodes, json_pack("{s:o, s:o, s:o, "
		    "s:I, s:I}", "id", coord_column_text(st, 0),
		    "approval", coord_column_text(st, 1),
		    "reason", coord_column_text(st, 2),
		    "steps_done", (json_int_t)sqlite3_column_int64(st, 3),
		    "steps_total", (json_int_t)k)) != 0) {
			r = CC_ERR_ALLOC;
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		r = cc_agg_store_fail(c->store, diag);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	/* Per chain: its origin and how many hops are accepted. */
	for (i = 0; i < k; i++) {
		if ((r = coord_prepare(c, &st, diag, "SELECT COUNT(*) FROM steps "
		    "WHERE query = ? AND chain = ? AND status = 'done'", "su",
		    query_id, (unsigned)i)) != 0)
			goto out;
		if (sqlite3_step(st) != SQLITE_ROW) {
			r = cc_agg_store_fail(c->store, diag);
			goto out;
		}
		if (json_array_append_new(chains, json_pack("{s:s, s:I, s:I}",
		    "origin", row.q->nodes[i],
		    "hops_done", (json_int_t)sqlite3_column_int64(st, 0),
		    "hops_total", (json_int_t)k)) != 0) {
			r = CC_ERR_ALLOC;
			goto out;
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	*ret_doc = doc;
	doc = NULL;
	r = 0;
out:
	sqlite3_finalize(st);
	json_decref(doc);
	json_decref(query);
	json_decref(nodes);
	json_decref(chains);
	coord_qrow_clear(&row);
	return r;
}

/* ------------------------------------------------------------------ */
/* Catalogue (PUT /api/v1/node/catalogue) */

int
cc_coord_set_catalogue(struct cc_coordinator *c, const char *node,
    const json_t *body, struct cc_diag *diag)
{
	json_t *cats, *period, *v, *stored = NULL;
	const char *key, *name, *from, *to, *sector;
	char *text = NULL;
	int r = CC_ERR_FORMAT, mfrom, mto;
	size_t i, j, n;

	if (!json_is_object(body)) {
		cc_diag_set(diag, "the catalogue must be a JSON object");
		goto out;
	}
	json_object_foreach((json_t *)body, key, v) {
		if (strcmp(key, "sector") != 0 && strcmp(key, "categories") != 0 &&
		    strcmp(key, "period") != 0) {
			cc_diag_set(diag, "%.64s: unknown field", key);
			goto out;
		}
	}
	sector = json_string_value(json_object_get(body, "sector"));
	if (sector == NULL || cc_sector_check(sector) != 0) {
		cc_diag_set(diag, "sector: must be one of school, social, "
		    "health, other");
		goto out;
	}
	cats = json_object_get(body, "categories");
	if (!json_is_array(cats)) {
		cc_diag_set(diag, "categories: must be an array");
		goto out;
	}
	if ((n = json_array_size(cats)) > CC_LIMIT_NODE_CATEGORIES) {
		cc_diag_set(diag, "categories: more than %d", CC_LIMIT_NODE_CATEGORIES);
		r = CC_ERR_LIMIT;
		goto out;
	}
	for (i = 0; i < n; i++) {
		v = json_array_get(cats, i);
		if ((name = json_string_value(v)) == NULL ||
		    !cc_query_category_valid(name, json_string_length(v))) {
			cc_diag_set(diag, "categories[%zu]: not a category name", i);
			goto out;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(name, json_string_value(json_array_get(cats, j))) == 0) {
				cc_diag_set(diag, "categories[%zu]: a duplicate", i);
				goto out;
			}
		}
	}
	period = json_object_get(body, "period");
	if (period == NULL) {
		cc_diag_set(diag, "period: required (null for a node without "
		    "records)");
		goto out;
	}
	if (!json_is_null(period)) {
		if (!json_is_object(period) || json_object_size(period) != 2 ||
		    (from = json_string_value(json_object_get(period, "from"))) == NULL ||
		    (to = json_string_value(json_object_get(period, "to"))) == NULL) {
			cc_diag_set(diag, "period: must be {\"from\": \"YYYY-MM\", "
			    "\"to\": \"YYYY-MM\"}");
			goto out;
		}
		if (cc_month_parse(&mfrom, from, strlen(from), NULL) != 0 ||
		    cc_month_parse(&mto, to, strlen(to), NULL) != 0 ||
		    mfrom > mto) {
			cc_diag_set(diag, "period: from and to must be months "
			    "YYYY-MM with from <= to");
			goto out;
		}
	}
	if ((stored = json_pack("{s:O, s:O, s:O}", "sector",
	    json_object_get(body, "sector"), "categories", cats, "period",
	    period)) == NULL ||
	    (text = json_dumps(stored, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if ((r = coord_exec(c, diag, "UPDATE nodes SET catalogue = ?, "
	    "last_seen = ? WHERE id = ?", "sis", text, (int64_t)time(NULL),
	    node)) != 0)
		goto out;
	if (sqlite3_changes(cc_agg_store_db(c->store)) != 1) {
		cc_diag_set(diag, "node \"%s\" is not enrolled", node);
		r = CC_ERR_NOT_FOUND;
		goto out;
	}
	r = 0;
out:
	free(text);
	json_decref(stored);
	return r;
}

/* ------------------------------------------------------------------ */
/* Tasks and long polls */

/*
 * The part of an approve or step task that comes from the stored query:
 * {"kind", "query_id", "query", "nodes", "attribute_key", "deadline"}, a
 * new object. NULL if the document does not parse, which it did when it
 * was stored (the task is then left out), or out of memory.
 */
static json_t *
coord_task_new(struct cc_coordinator *c, const char *kind, const char *qid,
    const char *doc, time_t deadline)
{
	struct cc_query *q = NULL;
	json_t *query, *t = NULL;

	if (cc_query_parse(&q, doc, strlen(doc), NULL) == 0 &&
	    (query = json_loads(doc, 0, NULL)) != NULL)
		t = json_pack("{s:s, s:s, s:o, s:o, s:s, s:o}", "kind", kind,
		    "query_id", qid, "query", query, "nodes", coord_nodes_json(q),
		    "attribute_key", c->attribute_key, "deadline",
		    coord_json_time(deadline));
	cc_query_free(q);
	return t;
}

static int
coord_tasks_approve(struct cc_coordinator *c, const char *node, time_t now,
    json_t *tasks, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	const char *qid, *owner, *doc;
	json_t *t;
	int r, rc;

	if ((r = coord_prepare(c, &st, diag, "SELECT q.id, q.owner, q.document, "
	    "q.deadline FROM queries q JOIN query_nodes n ON n.query = q.id "
	    "WHERE n.node = ? AND n.approval = 'pending' AND q.status = "
	    "'awaiting_approval' ORDER BY q.submitted, q.id", "s", node)) != 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		qid = (const char *)sqlite3_column_text(st, 0);
		owner = (const char *)sqlite3_column_text(st, 1);
		doc = (const char *)sqlite3_column_text(st, 2);
		if (qid == NULL || owner == NULL || doc == NULL ||
		    !coord_offer_due(c, node, qid, false, 0, 0, now) ||
		    (t = coord_task_new(c, "approve", qid, doc,
		    (time_t)sqlite3_column_int64(st, 3))) == NULL)
			continue;
		if (json_object_set_new(t, "owner", json_string(owner)) != 0) {
			json_decref(t);
			r = CC_ERR_ALLOC;
			goto out;
		}
		if (json_array_append_new(tasks, t) != 0) {
			r = CC_ERR_ALLOC;
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		r = cc_agg_store_fail(c->store, diag);
out:
	sqlite3_finalize(st);
	return r;
}

static int
coord_tasks_step(struct cc_coordinator *c, const char *node, time_t now,
    json_t *tasks, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	const char *qid, *doc;
	json_t *t;
	char path[CC_AGG_PATH_MAX];
	struct stat sb;
	unsigned chain, hop;
	json_int_t input;
	int r, rc;

	if ((r = coord_prepare(c, &st, diag, "SELECT s.query, s.chain, s.hop, "
	    "q.document, q.deadline FROM steps s JOIN queries q ON q.id = "
	    "s.query WHERE s.node = ? AND s.status = 'ready' AND q.status = "
	    "'running' ORDER BY q.submitted, s.query, s.chain, s.hop", "s",
	    node)) != 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		qid = (const char *)sqlite3_column_text(st, 0);
		chain = (unsigned)sqlite3_column_int(st, 1);
		hop = (unsigned)sqlite3_column_int(st, 2);
		doc = (const char *)sqlite3_column_text(st, 3);
		if (qid == NULL || doc == NULL ||
		    !coord_offer_due(c, node, qid, true, chain, hop, now))
			continue;
		input = 0;
		if (hop > 0) {
			if (coord_batch_path(c, path, qid, chain, hop - 1,
			    "batch") != 0 || stat(path, &sb) != 0)
				continue;  /* cannot happen: accepted input */
			input = (json_int_t)sb.st_size;
		}
		if ((t = coord_task_new(c, "step", qid, doc,
		    (time_t)sqlite3_column_int64(st, 4))) == NULL)
			continue;
		if (json_object_set_new(t, "chain", json_integer(chain)) != 0 ||
		    json_object_set_new(t, "hop", json_integer(hop)) != 0 ||
		    json_object_set_new(t, "input_size", json_integer(input)) != 0) {
			json_decref(t);
			r = CC_ERR_ALLOC;
			goto out;
		}
		if (json_array_append_new(tasks, t) != 0) {
			r = CC_ERR_ALLOC;
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		r = cc_agg_store_fail(c->store, diag);
out:
	sqlite3_finalize(st);
	return r;
}

/* The node has been told that query qid ended: no more forget for it. */
static int
coord_forget_done(struct cc_coordinator *c, const char *node, const char *qid,
    struct cc_diag *diag)
{
	struct coord_offer *o;
	int r;

	if ((r = coord_exec(c, diag, "UPDATE query_nodes SET forgotten = 1 "
	    "WHERE query = ? AND node = ?", "ss", qid, node)) != 0)
		return r;
	if ((o = coord_offer_find(c, node, qid, false, 0, 0)) != NULL)
		*o = c->offers[--c->noffers];
	return 0;
}

static int
coord_tasks_forget(struct cc_coordinator *c, const char *node, time_t now,
    json_t *tasks, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	const char *qid;
	unsigned offered;
	json_t *t;
	int r, rc;

	if ((r = coord_prepare(c, &st, diag, "SELECT q.id, q.status, "
	    "q.result_digest, q.reason FROM queries q JOIN query_nodes n ON "
	    "n.query = q.id WHERE n.node = ? AND n.forgotten = 0 AND q.status "
	    "IN ('released', 'failed', 'rejected') ORDER BY q.submitted, q.id",
	    "s", node)) != 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		qid = (const char *)sqlite3_column_text(st, 0);
		/* Offered until the node says it forgot (cc_coord_forgotten);
		 * an ended query has no approve offer left to share the key
		 * (node, query, not a step) with. */
		if (qid == NULL || (offered = coord_offer_due(c, node, qid,
		    false, 0, 0, now)) == 0)
			continue;
		if (offered > CC_COORD_FORGET_OFFERS) {
			/* A node that never answers (an older one): enough. */
			if ((r = coord_forget_done(c, node, qid, diag)) != 0)
				goto out;
			continue;
		}
		if ((t = json_pack("{s:s, s:o, s:o, s:o, s:o}", "kind", "forget",
		    "query_id", coord_column_text(st, 0),
		    "status", coord_column_text(st, 1),
		    "result_digest", coord_column_text(st, 2),
		    "reason", coord_column_text(st, 3))) == NULL ||
		    json_array_append_new(tasks, t) != 0) {
			r = CC_ERR_ALLOC;
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		r = cc_agg_store_fail(c->store, diag);
		goto out;
	}
	r = 0;
out:
	sqlite3_finalize(st);
	return r;
}

int
cc_coord_tasks(struct cc_coordinator *c, const char *node, time_t now,
    json_t **ret_tasks, struct cc_diag *diag)
{
	json_t *tasks = NULL;
	int r;

	*ret_tasks = NULL;
	if ((tasks = json_array()) == NULL)
		return CC_ERR_ALLOC;
	if ((r = coord_exec(c, diag, "UPDATE nodes SET last_seen = ? WHERE id = ?",
	    "is", (int64_t)now, node)) != 0 ||
	    (r = coord_tasks_approve(c, node, now, tasks, diag)) != 0 ||
	    (r = coord_tasks_step(c, node, now, tasks, diag)) != 0 ||
	    (r = coord_tasks_forget(c, node, now, tasks, diag)) != 0) {
		json_decref(tasks);
		return r;
	}
	*ret_tasks = tasks;
	return 0;
}

static void
coord_waiter_free(struct coord_waiter *w)
{
	if (w == NULL)
		return;
	if (w->timer != NULL)
		event_free(w->timer);
	free(w);
}

/* Reply to a held poll with tasks (stolen) and drop the waiter. */
static void
coord_waiter_reply(struct coord_waiter *w, json_t *tasks)
{
	struct cc_coordinator *c = w->c;
	struct cc_request *req = w->req;

	TAILQ_REMOVE(&c->waiters, w, link);
	coord_waiter_free(w);
	if (tasks == NULL) {
		cc_reply_error(req, 500, "internal error");
		return;
	}
	cc_reply_json(req, 200, json_pack("{s:o}", "tasks", tasks));
}

static void
coord_waiter_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct coord_waiter *w = arg;
	struct cc_diag diag = { "" };
	json_t *tasks = NULL;

	(void)fd; (void)what;
	(void)cc_coord_tasks(w->c, w->node, time(NULL), &tasks, &diag);
	coord_waiter_reply(w, tasks);
}

static void
coord_waiter_closed(struct cc_request *req, void *arg)
{
	struct coord_waiter *w = arg;

	(void)req;
	TAILQ_REMOVE(&w->c->waiters, w, link);
	coord_waiter_free(w);
}

/* Something changed: answer every held poll that now has tasks. */
static void
coord_wake(struct cc_coordinator *c)
{
	struct coord_waiter *w, *next;
	struct cc_diag diag = { "" };
	json_t *tasks;

	for (w = TAILQ_FIRST(&c->waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, link);
		tasks = NULL;
		if (cc_coord_tasks(c, w->node, time(NULL), &tasks, &diag) != 0) {
			coord_waiter_reply(w, NULL);
			continue;
		}
		if (json_array_size(tasks) > 0)
			coord_waiter_reply(w, tasks);
		else
			json_decref(tasks);
	}
}

void
cc_coord_poll(struct cc_coordinator *c, struct cc_request *req,
    const char *node, unsigned wait)
{
	struct cc_diag diag = { "" };
	struct coord_waiter *w = NULL;
	struct timeval tv;
	json_t *tasks = NULL;
	int r;

	if ((r = cc_coord_tasks(c, node, time(NULL), &tasks, &diag)) != 0) {
		cc_reply_cc_error(req, r, &diag);
		return;
	}
	if (json_array_size(tasks) > 0 || wait == 0) {
		cc_reply_json(req, 200, json_pack("{s:o}", "tasks", tasks));
		return;
	}
	json_decref(tasks);
	if (wait > CC_COORD_MAX_WAIT)
		wait = CC_COORD_MAX_WAIT;
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->timer = evtimer_new(c->app->base, coord_waiter_timeout, w)) == NULL) {
		coord_waiter_free(w);
		cc_reply_error(req, 500, "out of memory");
		return;
	}
	w->c = c;
	w->req = req;
	snprintf(w->node, sizeof(w->node), "%s", node);
	tv.tv_sec = wait;
	tv.tv_usec = 0;
	if (evtimer_add(w->timer, &tv) != 0) {
		coord_waiter_free(w);
		cc_reply_error(req, 500, "cannot wait");
		return;
	}
	TAILQ_INSERT_TAIL(&c->waiters, w, link);
	cc_request_hold(req, coord_waiter_closed, w);
}

/* ------------------------------------------------------------------ */
/* Approvals (SPEC 7.4 3) */

int
cc_coord_decide(struct cc_coordinator *c, const char *node,
    const char *query_id, bool approve, const char *reason,
    struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	char text[COORD_REASON_TEXT];
	const unsigned char *approval, *status;
	int r, rc, pending;

	if (!approve && (r = coord_reason_check(reason, diag)) != 0)
		return r;
	if (!cc_coord_id_valid(query_id)) {
		cc_diag_set(diag, "no such query");
		return CC_ERR_NOT_FOUND;
	}
	if ((r = coord_prepare(c, &st, diag, "SELECT n.approval, q.status FROM "
	    "query_nodes n JOIN queries q ON q.id = n.query WHERE n.query = ? "
	    "AND n.node = ?", "ss", query_id, node)) != 0)
		return r;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		if (rc == SQLITE_DONE) {
			cc_diag_set(diag, "no such query for node \"%s\"", node);
			r = CC_ERR_NOT_FOUND;
		} else {
			r = cc_agg_store_fail(c->store, diag);
		}
		goto out;
	}
	approval = sqlite3_column_text(st, 0);
	status = sqlite3_column_text(st, 1);
	/* The same decision again (the node's daemon and its admin may both
	 * send the one its log holds): taken already. */
	if (approval != NULL && strcmp((const char *)approval, approve ?
	    "approved" : "rejected") == 0) {
		r = 0;
		goto out;
	}
	if (status == NULL || strcmp((const char *)status, "awaiting_approval") != 0) {
		cc_diag_set(diag, "the query is %s, not awaiting approval",
		    status != NULL ? (const char *)status : "unknown");
		r = CC_ERR_STATE;
		goto out;
	}
	if (approval == NULL || strcmp((const char *)approval, "pending") != 0) {
		cc_diag_set(diag, "node \"%s\" has already decided", node);
		r = CC_ERR_STATE;
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!approve) {
		/* SPEC 7.4 3: one rejection ends the query, naming the node. */
		snprintf(text, sizeof(text), "node \"%s\" rejected the query: %s",
		    node, reason);
		r = coord_end(c, query_id, node, reason, node, text,
		    json_pack("[s]", node), diag);
		goto out;
	}
	if ((r = coord_begin(c, diag)) != 0)
		goto out;
	if ((r = coord_exec(c, diag, "UPDATE query_nodes SET approval = "
	    "'approved' WHERE query = ? AND node = ?", "ss", query_id,
	    node)) != 0)
		goto rollback;
	if ((r = coord_audit(c, node, "query.approved", json_pack("{s:s, s:s}",
	    "query", query_id, "node", node), diag)) != 0)
		goto rollback;
	if ((r = coord_prepare(c, &st, diag, "SELECT COUNT(*) FROM query_nodes "
	    "WHERE query = ? AND approval != 'approved'", "s", query_id)) != 0)
		goto rollback;
	if (sqlite3_step(st) != SQLITE_ROW) {
		r = cc_agg_store_fail(c->store, diag);
		goto rollback;
	}
	pending = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (pending == 0) {
		/* SPEC 7.4 4: every chain's origin step is offered at once. */
		if ((r = coord_exec(c, diag, "UPDATE queries SET status = "
		    "'running' WHERE id = ?", "s", query_id)) != 0 ||
		    (r = coord_exec(c, diag, "UPDATE steps SET status = 'ready' "
		    "WHERE query = ? AND hop = 0", "s", query_id)) != 0 ||
		    (r = coord_audit(c, COORD_ACTOR, "query.running",
		    json_pack("{s:s}", "query", query_id), diag)) != 0)
			goto rollback;
	}
	if ((r = coord_commit(c, diag)) != 0)
		goto out;
	coord_offer_drop(c, query_id, false, 0, 0);
	coord_wake(c);
	r = 0;
	goto out;
rollback:
	coord_rollback(c);
out:
	sqlite3_finalize(st);
	return r;
}

/* ------------------------------------------------------------------ */
/* Steps (SPEC 7.4 4, 8.6) */

struct coord_step {
	struct coord_qrow row;
	char status[8];
	uint64_t uploaded;
};

/*
 * Load the step (chain, hop) for node: it must exist in a query the node
 * is part of (NOT_FOUND), be due at this node (AUTH), and, when ready is
 * set, be ready in a running query (STATE).
 */
static int
coord_step_load(struct cc_coordinator *c, const char *node, const char *qid,
    unsigned chain, unsigned hop, struct coord_step *ret_step,
    struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *due, *status;
	int r, rc;

	memset(ret_step, 0, sizeof(*ret_step));
	if ((r = coord_prepare(c, &st, diag, "SELECT 1 FROM query_nodes WHERE "
	    "query = ? AND node = ?", "ss", cc_coord_id_valid(qid) ? qid : "",
	    node)) != 0)
		return r;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_ROW) {
		if (rc != SQLITE_DONE)
			return cc_agg_store_fail(c->store, diag);
		cc_diag_set(diag, "no such query for node \"%s\"", node);
		return CC_ERR_NOT_FOUND;
	}
	if ((r = coord_qrow_load(c, qid, &ret_step->row, diag)) != 0)
		return r;
	if ((r = coord_prepare(c, &st, diag, "SELECT node, status, uploaded FROM "
	    "steps WHERE query = ? AND chain = ? AND hop = ?", "suu", qid, chain,
	    hop)) != 0)
		goto out;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		if (rc != SQLITE_DONE) {
			r = cc_agg_store_fail(c->store, diag);
		} else {
			cc_diag_set(diag, "the query has no step chain %u hop %u",
			    chain, hop);
			r = CC_ERR_NOT_FOUND;
		}
		goto out;
	}
	due = sqlite3_column_text(st, 0);
	status = sqlite3_column_text(st, 1);
	if (due == NULL || status == NULL ||
	    strcmp((const char *)due, node) != 0) {
		cc_diag_set(diag, "step chain %u hop %u is due at another node",
		    chain, hop);
		r = CC_ERR_AUTH;
		goto out;
	}
	snprintf(ret_step->status, sizeof(ret_step->status), "%s", status);
	ret_step->uploaded = (uint64_t)sqlite3_column_int64(st, 2);
	if (strcmp(ret_step->row.status, "running") != 0) {
		cc_diag_set(diag, "the query is %s, not running",
		    ret_step->row.status);
		r = CC_ERR_STATE;
		goto out;
	}
	if (strcmp(ret_step->status, "ready") != 0) {
		cc_diag_set(diag, "step chain %u hop %u is %s", chain, hop,
		    strcmp(ret_step->status, "done") == 0 ? "already accepted" :
		    "not ready yet (its input is not accepted)");
		r = CC_ERR_STATE;
		goto out;
	}
	r = 0;
out:
	sqlite3_finalize(st);
	if (r != 0)
		coord_qrow_clear(&ret_step->row);
	return r;
}

int
cc_coord_input(struct cc_coordinator *c, const char *node,
    const char *query_id, unsigned chain, unsigned hop, char *ret_path,
    struct cc_diag *diag)
{
	struct coord_step step;
	int r;

	ret_path[0] = '\0';
	if ((r = coord_step_load(c, node, query_id, chain, hop, &step, diag)) != 0)
		return r;
	if (hop == 0) {
		cc_diag_set(diag, "hop 0 is an origin step: it has no input");
		r = CC_ERR_STATE;
	} else {
		r = coord_batch_path(c, ret_path, query_id, chain, hop - 1, "batch");
	}
	coord_qrow_clear(&step.row);
	return r;
}

int
cc_coord_upload(struct cc_coordinator *c, const char *node,
    const char *query_id, unsigned chain, unsigned hop, uint64_t offset,
    const uint8_t *data, size_t len, struct cc_diag *diag)
{
	struct coord_step step;
	char dir[CC_AGG_PATH_MAX], path[CC_AGG_PATH_MAX];
	uint64_t max = COORD_MAX_BATCH_BYTES(c->app->cfg.max_batch);
	struct stat sb;
	size_t done = 0;
	ssize_t w;
	int r, fd = -1;

	if ((r = coord_step_load(c, node, query_id, chain, hop, &step, diag)) != 0)
		return r;
	if (coord_commit_busy(c, query_id, chain, hop)) {
		cc_diag_set(diag, "a commit of step chain %u hop %u is being "
		    "checked", chain, hop);
		r = CC_ERR_STATE;
		goto out;
	}
	if (len > CC_LIMIT_UPLOAD_PART) {
		cc_diag_set(diag, "a part may hold at most %u bytes",
		    (unsigned)CC_LIMIT_UPLOAD_PART);
		r = CC_ERR_LIMIT;
		goto out;
	}
	if (offset != 0 && offset != step.uploaded) {
		cc_diag_set(diag, "offset %llu: %llu bytes have been received "
		    "(or send offset 0 to restart)", (unsigned long long)offset,
		    (unsigned long long)step.uploaded);
		r = CC_ERR_STATE;
		goto out;
	}
	if (offset > max || len > max - offset) {
		cc_diag_set(diag, "a batch may be at most %llu bytes",
		    (unsigned long long)max);
		r = CC_ERR_LIMIT;
		goto out;
	}
	if ((r = coord_query_dir(c, dir, query_id)) != 0 ||
	    (r = coord_batch_path(c, path, query_id, chain, hop, "part")) != 0)
		goto out;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		cc_diag_set(diag, "cannot create the batch directory: %s",
		    strerror(errno));
		r = CC_ERR_IO;
		goto out;
	}
	if (offset == 0)
		coord_shred(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) < 0 || fstat(fd, &sb) != 0) {
		cc_diag_set(diag, "cannot write the upload: %s", strerror(errno));
		r = CC_ERR_IO;
		goto out;
	}
	if ((uint64_t)sb.st_size != offset) {
		/* The file and the store disagree (a crash): start again. */
		(void)coord_exec(c, NULL, "UPDATE steps SET uploaded = 0 WHERE "
		    "query = ? AND chain = ? AND hop = ?", "suu", query_id,
		    chain, hop);
		cc_diag_set(diag, "the upload must restart at offset 0");
		r = CC_ERR_STATE;
		goto out;
	}
	while (done < len) {
		if ((w = pwrite(fd, data + done, len - done,
		    (off_t)(offset + done))) < 0) {
			if (errno == EINTR)
				continue;
			cc_diag_set(diag, "cannot write the upload: %s",
			    strerror(errno));
			r = CC_ERR_IO;
			goto out;
		}
		done += (size_t)w;
	}
	r = coord_exec(c, diag, "UPDATE steps SET uploaded = ? WHERE query = ? "
	    "AND chain = ? AND hop = ?", "isuu", (int64_t)(offset + len),
	    query_id, chain, hop);
out:
	if (fd >= 0)
		close(fd);
	coord_qrow_clear(&step.row);
	return r;
}

/* The record count of an accepted step, or -1. */
static int64_t
coord_step_count(struct cc_coordinator *c, const char *qid, unsigned chain,
    unsigned hop)
{
	sqlite3_stmt *st = NULL;
	int64_t count = -1;

	if (coord_prepare(c, &st, NULL, "SELECT count FROM steps WHERE query = ? "
	    "AND chain = ? AND hop = ? AND status = 'done'", "suu", qid, chain,
	    hop) != 0)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		count = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return count;
}

/*
 * SPEC 8.6 on an upload, on any thread (no store, no libevent): size and
 * digest as announced, the exact parse, the signer certificate (chains to
 * the federation CA, CN = the node due), the signature, the header, the
 * reference table, and a relay's count equal to its input's. Sets
 * cm->r = 0 with the batch's digest D and count, or CC_ERR_POLICY with
 * the reason (CC_ERR_ALLOC / CC_ERR_IO for our own failures).
 */
static void
coord_commit_verify(struct coord_commit *cm)
{
	struct cc_diag *diag = &cm->diag;
	struct cc_batch_stream *s = NULL;
	const struct cc_batch_header *h;
	const struct cc_query *q = cm->q;
	struct cc_attr_shape shape;
	uint8_t want[crypto_hash_sha256_BYTES], got[crypto_hash_sha256_BYTES];
	uint8_t d[CC_SIGN_DIGEST_BYTES];
	const uint8_t *recs, *cert, *sig;
	uint64_t have;
	size_t len = 0, n, first, cert_len, sig_len;
	int r;

	if (strlen(cm->digest_hex) != 2 * sizeof(want) ||
	    sodium_hex2bin(want, sizeof(want), cm->digest_hex,
	    strlen(cm->digest_hex), NULL, &len, NULL) != 0 ||
	    len != sizeof(want)) {
		cc_diag_set(diag, "digest: must be 64 hex characters");
		r = CC_ERR_POLICY;
		goto out;
	}
	if (cm->uploaded != cm->size) {
		cc_diag_set(diag, "size: %llu bytes were announced, %llu received",
		    (unsigned long long)cm->size,
		    (unsigned long long)cm->uploaded);
		r = CC_ERR_POLICY;
		goto out;
	}
	/* Synced: an accepted batch must survive a crash. */
	if ((r = cc_file_sha256(cm->part, true, &have, got, diag)) != 0) {
		if (r == CC_ERR_NOT_FOUND) {
			cc_diag_set(diag, "nothing has been uploaded");
			r = CC_ERR_POLICY;
		}
		goto out;
	}
	if (have != cm->size) {
		cc_diag_set(diag, "size: %llu bytes were announced, %llu stored",
		    (unsigned long long)cm->size, (unsigned long long)have);
		r = CC_ERR_POLICY;
		goto out;
	}
	if (sodium_memcmp(want, got, sizeof(want)) != 0) {
		cc_diag_set(diag, "digest: the SHA-256 of the upload differs");
		r = CC_ERR_POLICY;
		goto out;
	}
	/*
	 * 8.6 1: the exact parse, count within the aggregator's limit, read
	 * in chunks (a batch is never held whole here) with D on the way.
	 * The elements only of a final batch, which the aggregator opens:
	 * the next node checks an intermediate batch's as it multiplies them.
	 */
	if ((r = cc_batch_stream_open(&s, cm->part, cm->max_batch,
	    cm->hop + 1 == q->nnodes, diag)) != 0)
		goto refuse;
	do {
		if ((r = cc_batch_stream_next(s, &recs, &n, &first, diag)) != 0)
			goto refuse;
	} while (n > 0);
	if ((r = cc_batch_stream_end(s, d, &cert, &cert_len, &sig,
	    &sig_len)) != 0) {
		cc_diag_set(diag, "the upload changed while it was checked");
		r = CC_ERR_IO;
		goto out;
	}
	/* 8.6 2-3: certificate chain and CN = the node due, signature. */
	if ((r = cc_sign_verify_digest(cm->trust, cert, cert_len, sig, sig_len,
	    d, cm->node, diag)) != 0)
		goto refuse;
	/* 8.6 4-5: the header and the reference table. */
	h = cc_batch_stream_header(s);
	shape.age_bands = q->by_age_band ? (uint8_t)q->nbands : 0;
	shape.sex = q->by_sex;
	if ((r = cc_batch_header_expect(h, cm->query_id, (uint16_t)cm->chain,
	    (uint16_t)cm->hop, (uint16_t)q->nnodes, diag)) != 0 ||
	    (r = cc_attr_refs_check(cc_batch_stream_refs(s), h->nrefs, &shape,
	    diag)) != 0)
		goto refuse;
	/* A relay never adds or removes records (8.4 4). */
	if (cm->hop > 0 && (int64_t)h->count != cm->input_count) {
		cc_diag_set(diag, "count: %u records, the input had %lld",
		    h->count, (long long)cm->input_count);
		r = CC_ERR_POLICY;
		goto refuse;
	}
	memcpy(cm->d, d, sizeof(d));
	cm->count = h->count;
	r = 0;
	goto out;
refuse:
	if (r != CC_ERR_ALLOC && r != CC_ERR_IO)
		r = CC_ERR_POLICY;
out:
	cc_batch_stream_free(s);
	cm->r = r;
}

/* Accept a verified step in one transaction; true in *ret_counting when
 * it was the last final batch. */
static int
coord_accept(struct cc_coordinator *c, const struct cc_query *q,
    const char *node, const char *qid, unsigned chain, unsigned hop,
    const uint8_t d[32], uint32_t count, bool *ret_counting,
    struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	char dhex[65];
	unsigned k = (unsigned)q->nnodes;
	int r, finals;

	*ret_counting = false;
	sodium_bin2hex(dhex, sizeof(dhex), d, 32);
	if ((r = coord_begin(c, diag)) != 0)
		return r;
	if ((r = coord_exec(c, diag, "UPDATE steps SET status = 'done', "
	    "digest = ?, signer = ?, count = ? WHERE query = ? AND chain = ? "
	    "AND hop = ? AND status = 'ready'", "ssisuu", dhex, node,
	    (int64_t)count, qid, chain, hop)) != 0)
		goto out;
	if (sqlite3_changes(cc_agg_store_db(c->store)) != 1) {
		cc_diag_set(diag, "step chain %u hop %u is no longer ready",
		    chain, hop);
		r = CC_ERR_STATE;
		goto out;
	}
	if ((r = coord_exec(c, diag, "UPDATE query_nodes SET steps_done = "
	    "steps_done + 1 WHERE query = ? AND node = ?", "ss", qid, node)) != 0)
		goto out;
	if (hop + 1 < k && (r = coord_exec(c, diag, "UPDATE steps SET status = "
	    "'ready' WHERE query = ? AND chain = ? AND hop = ? AND status = "
	    "'waiting'", "suu", qid, chain, hop + 1)) != 0)
		goto out;
	/* The signer is the node: 8.6 checked the certificate's CN. */
	if ((r = coord_audit(c, node, "batch.accepted", json_pack("{s:s, s:I, "
	    "s:I, s:s, s:s, s:s, s:I}", "query", qid, "chain", (json_int_t)chain,
	    "hop", (json_int_t)hop, "node", node, "digest", dhex, "signer",
	    node, "count", (json_int_t)count), diag)) != 0)
		goto out;
	/* SPEC 7.4 5: all k final batches accepted -> counting. */
	if ((r = coord_prepare(c, &st, diag, "SELECT COUNT(*) FROM steps WHERE "
	    "query = ? AND hop = ? AND status = 'done'", "su", qid, k - 1)) != 0)
		goto out;
	if (sqlite3_step(st) != SQLITE_ROW) {
		r = cc_agg_store_fail(c->store, diag);
		goto out;
	}
	finals = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if ((unsigned)finals == k) {
		if ((r = coord_exec(c, diag, "UPDATE queries SET status = "
		    "'counting' WHERE id = ? AND status = 'running'", "s",
		    qid)) != 0)
			goto out;
		*ret_counting = true;
	}
	r = coord_commit(c, diag);
out:
	sqlite3_finalize(st);
	if (r != 0) {
		coord_rollback(c);
		*ret_counting = false;
	}
	return r;
}

static void
coord_commit_free(struct coord_commit *cm)
{
	if (cm == NULL)
		return;
	cc_query_free(cm->q);
	free(cm);
}

/* True if a commit of this step is queued or being checked. */
static bool
coord_commit_busy(struct cc_coordinator *c, const char *qid, unsigned chain,
    unsigned hop)
{
	struct coord_commit *cm;

	TAILQ_FOREACH(cm, &c->commits, link) {
		if (cm->chain == chain && cm->hop == hop &&
		    strcmp(cm->qid, qid) == 0)
			return true;
	}
	return false;
}

/* The loop's part of a commit before verification: the step and inputs. */
static int
coord_commit_new(struct cc_coordinator *c, const char *node,
    const char *query_id, unsigned chain, unsigned hop, uint64_t size,
    const char *digest_hex, struct coord_commit **ret_cm,
    struct cc_diag *diag)
{
	struct coord_commit *cm = NULL;
	struct coord_step step;
	int r;

	*ret_cm = NULL;
	if ((r = coord_step_load(c, node, query_id, chain, hop, &step, diag)) != 0)
		return r;
	if (coord_commit_busy(c, query_id, chain, hop)) {
		cc_diag_set(diag, "a commit of step chain %u hop %u is being "
		    "checked", chain, hop);
		r = CC_ERR_STATE;
		goto out;
	}
	if ((cm = calloc(1, sizeof(*cm))) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	cm->c = c;
	snprintf(cm->node, sizeof(cm->node), "%s", node);
	snprintf(cm->qid, sizeof(cm->qid), "%s", query_id);
	cm->chain = chain;
	cm->hop = hop;
	cm->size = size;
	cm->uploaded = step.uploaded;
	snprintf(cm->digest_hex, sizeof(cm->digest_hex), "%s",
	    digest_hex != NULL && strlen(digest_hex) < sizeof(cm->digest_hex) ?
	    digest_hex : "");
	if ((r = coord_id_bytes(cm->query_id, query_id)) != 0 ||
	    (r = coord_batch_path(c, cm->part, query_id, chain, hop, "part")) != 0)
		goto out;
	cm->input_count = hop > 0 ? coord_step_count(c, query_id, chain,
	    hop - 1) : -1;
	cm->max_batch = c->app->cfg.max_batch;
	cm->trust = c->trust;
	cm->q = step.row.q;
	step.row.q = NULL;
	*ret_cm = cm;
	cm = NULL;
	r = 0;
out:
	coord_commit_free(cm);
	coord_qrow_clear(&step.row);
	return r;
}

/*
 * The loop's part after verification: refuse (discard the upload, audit)
 * or accept (keep the batch, advance the chain, maybe start counting).
 * The step is loaded again: the query may have ended meanwhile.
 */
static int
coord_commit_finish(struct cc_coordinator *c, struct coord_commit *cm,
    struct cc_diag *diag)
{
	struct coord_step step;
	struct cc_diag ignore = { "" };
	char final[CC_AGG_PATH_MAX], input[CC_AGG_PATH_MAX];
	bool counting = false;
	int r;

	if ((r = coord_step_load(c, cm->node, cm->qid, cm->chain, cm->hop, &step,
	    diag)) != 0)
		return r;
	if (cm->r == CC_ERR_POLICY) {
		/* Refused: discard the upload; the node may retry (7.4 4). */
		cc_diag_set(diag, "%s", cm->diag.text);
		coord_shred(cm->part);
		(void)coord_exec(c, NULL, "UPDATE steps SET uploaded = 0 WHERE "
		    "query = ? AND chain = ? AND hop = ?", "suu", cm->qid,
		    cm->chain, cm->hop);
		(void)coord_audit(c, cm->node, "batch.refused", json_pack("{s:s, "
		    "s:I, s:I, s:s, s:s}", "query", cm->qid, "chain",
		    (json_int_t)cm->chain, "hop", (json_int_t)cm->hop, "node",
		    cm->node, "reason", cm->diag.text), &ignore);
		r = CC_ERR_POLICY;
		goto out;
	}
	if ((r = cm->r) != 0) {
		cc_diag_set(diag, "%s", cm->diag.text);
		goto out;
	}
	if ((r = coord_batch_path(c, final, cm->qid, cm->chain, cm->hop,
	    "batch")) != 0)
		goto out;
	if (rename(cm->part, final) != 0) {
		cc_diag_set(diag, "cannot keep the batch: %s", strerror(errno));
		r = CC_ERR_IO;
		goto out;
	}
	if ((r = coord_accept(c, step.row.q, cm->node, cm->qid, cm->chain,
	    cm->hop, cm->d, cm->count, &counting, diag)) != 0)
		goto out;
	/* The input of this step is no longer needed by anyone (12.2). */
	if (cm->hop > 0 && coord_batch_path(c, input, cm->qid, cm->chain,
	    cm->hop - 1, "batch") == 0)
		coord_shred(input);
	coord_offer_drop(c, cm->qid, true, cm->chain, cm->hop);
	if (counting)
		coord_count_next(c);
	coord_wake(c);
out:
	coord_qrow_clear(&step.row);
	return r;
}

int
cc_coord_commit(struct cc_coordinator *c, const char *node,
    const char *query_id, unsigned chain, unsigned hop, uint64_t size,
    const char *digest_hex, struct cc_diag *diag)
{
	struct coord_commit *cm = NULL;
	int r;

	if ((r = coord_commit_new(c, node, query_id, chain, hop, size,
	    digest_hex, &cm, diag)) != 0)
		return r;
	coord_commit_verify(cm);
	r = coord_commit_finish(c, cm, diag);
	coord_commit_free(cm);
	return r;
}

/* The verification thread: one commit, then a 'v' to the loop. */
static void *
coord_commit_thread(void *arg)
{
	struct coord_commit *cm = arg;

	coord_commit_verify(cm);
	cc_file_signal(cm->c->pipe[1], 'v');
	return NULL;
}

/* Start verifying the oldest queued commit if none is being verified. */
static void
coord_commit_next(struct cc_coordinator *c)
{
	struct coord_commit *cm = TAILQ_FIRST(&c->commits);

	if (c->verify_running || cm == NULL)
		return;
	if (pthread_create(&c->verify_thread, NULL, coord_commit_thread, cm) != 0) {
		/* No thread: verify here (the loop waits meanwhile). */
		coord_commit_verify(cm);
		coord_commit_done(c);
		return;
	}
	c->verify_running = true;
}

/* The head commit is verified: finish it and answer its request. */
static void
coord_commit_done(struct cc_coordinator *c)
{
	struct coord_commit *cm = TAILQ_FIRST(&c->commits);
	struct cc_diag diag = { "" };
	int r;

	if (c->verify_running) {
		pthread_join(c->verify_thread, NULL);
		c->verify_running = false;
	}
	if (cm == NULL)
		return;
	TAILQ_REMOVE(&c->commits, cm, link);
	r = coord_commit_finish(c, cm, &diag);
	if (cm->req != NULL) {
		if (r != 0)
			cc_reply_cc_error(cm->req, r, &diag);
		else
			cc_reply_empty(cm->req, 204);
	}
	coord_commit_free(cm);
	coord_commit_next(c);
}

static void
coord_commit_closed(struct cc_request *req, void *arg)
{
	struct coord_commit *cm = arg;

	(void)req;
	cm->req = NULL;  /* verified and finished all the same */
}

void
cc_coord_commit_request(struct cc_coordinator *c, struct cc_request *req,
    const char *node, const char *query_id, unsigned chain, unsigned hop,
    uint64_t size, const char *digest_hex)
{
	struct coord_commit *cm = NULL;
	struct cc_diag diag = { "" };
	int r;

	if ((r = coord_commit_new(c, node, query_id, chain, hop, size,
	    digest_hex, &cm, &diag)) != 0) {
		if (req != NULL)
			cc_reply_cc_error(req, r, &diag);
		return;
	}
	if ((cm->req = req) != NULL)
		cc_request_hold(req, coord_commit_closed, cm);
	TAILQ_INSERT_TAIL(&c->commits, cm, link);
	coord_commit_next(c);
}

/* ------------------------------------------------------------------ */
/* Failures and deadlines (SPEC 7.4 7) */

/* The status of query_id if node has a part in it, else CC_ERR_NOT_FOUND. */
static int
coord_node_query_status(struct cc_coordinator *c, const char *node,
    const char *query_id, char *status, size_t size, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *text;
	int r, rc;

	if ((r = coord_prepare(c, &st, diag, "SELECT q.status FROM query_nodes n "
	    "JOIN queries q ON q.id = n.query WHERE n.query = ? AND n.node = ?",
	    "ss", cc_coord_id_valid(query_id) ? query_id : "", node)) != 0)
		return r;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		text = sqlite3_column_text(st, 0);
		snprintf(status, size, "%s", text != NULL ? (const char *)text :
		    "unknown");
		r = 0;
	} else if (rc == SQLITE_DONE) {
		cc_diag_set(diag, "no such query for node \"%s\"", node);
		r = CC_ERR_NOT_FOUND;
	} else {
		r = cc_agg_store_fail(c->store, diag);
	}
	sqlite3_finalize(st);
	return r;
}

int
cc_coord_node_fail(struct cc_coordinator *c, const char *node,
    const char *query_id, const char *reason, struct cc_diag *diag)
{
	char text[COORD_REASON_TEXT], status[24];
	int r;

	if ((r = coord_reason_check(reason, diag)) != 0 ||
	    (r = coord_node_query_status(c, node, query_id, status,
	    sizeof(status), diag)) != 0)
		return r;
	if (strcmp(status, "awaiting_approval") != 0 &&
	    strcmp(status, "running") != 0) {
		cc_diag_set(diag, "the query is %s: too late to fail it", status);
		return CC_ERR_STATE;
	}
	snprintf(text, sizeof(text), "node \"%s\" reported a failure: %s",
	    node, reason);
	return coord_end(c, query_id, NULL, NULL, node, text,
	    json_pack("[s]", node), diag);
}

int
cc_coord_forgotten(struct cc_coordinator *c, const char *node,
    const char *query_id, struct cc_diag *diag)
{
	char status[24];
	int r;

	if ((r = coord_node_query_status(c, node, query_id, status,
	    sizeof(status), diag)) != 0)
		return r;
	if (strcmp(status, "released") != 0 && strcmp(status, "failed") != 0 &&
	    strcmp(status, "rejected") != 0) {
		cc_diag_set(diag, "the query is %s: it has not ended", status);
		return CC_ERR_STATE;
	}
	return coord_forget_done(c, node, query_id, diag);
}

/* The reason a query missed its deadline and the nodes at fault. */
static int
coord_deadline_reason(struct cc_coordinator *c, const char *qid,
    const char *status, char *reason, size_t size, json_t *named,
    struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	const char *node;
	bool awaiting = strcmp(status, "awaiting_approval") == 0;
	bool first = true;
	size_t i;
	int r, rc;

	snprintf(reason, size, "the deadline passed: %s ", awaiting ?
	    "no decision from" : "steps still due at");
	if (awaiting)
		r = coord_prepare(c, &st, diag, "SELECT node, NULL, NULL FROM "
		    "query_nodes WHERE query = ? AND approval = 'pending' "
		    "ORDER BY position", "s", qid);
	else
		r = coord_prepare(c, &st, diag, "SELECT node, chain, hop FROM "
		    "steps WHERE query = ? AND status = 'ready' ORDER BY chain",
		    "s", qid);
	if (r != 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((node = (const char *)sqlite3_column_text(st, 0)) == NULL)
			continue;
		if (awaiting)
			coord_append(reason, size, "%s\"%s\"", first ? "" : ", ",
			    node);
		else
			coord_append(reason, size, "%s\"%s\" (chain %d hop %d)",
			    first ? "" : ", ", node, sqlite3_column_int(st, 1),
			    sqlite3_column_int(st, 2));
		first = false;
		for (i = 0; i < json_array_size(named); i++) {
			if (strcmp(json_string_value(json_array_get(named, i)),
			    node) == 0)
				break;
		}
		if (i == json_array_size(named) &&
		    json_array_append_new(named, json_string(node)) != 0) {
			sqlite3_finalize(st);
			return CC_ERR_ALLOC;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return cc_agg_store_fail(c->store, diag);
	if (first)
		coord_append(reason, size, "nobody (an internal inconsistency)");
	return 0;
}

int
cc_coord_tick(struct cc_coordinator *c, time_t now, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	char ids[16][CC_COORD_ID_HEX + 1], statuses[16][24];
	char reason[COORD_REASON_TEXT];
	json_t *named;
	size_t n = 0, i;
	int r, rc;

	/* A few at a time: the next tick takes the rest. */
	if ((r = coord_prepare(c, &st, diag, "SELECT id, status FROM queries "
	    "WHERE status IN ('awaiting_approval', 'running') AND deadline < ? "
	    "ORDER BY deadline LIMIT 16", "i", (int64_t)now)) != 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 16) {
		const unsigned char *id = sqlite3_column_text(st, 0);
		const unsigned char *status = sqlite3_column_text(st, 1);

		if (id == NULL || status == NULL)
			continue;
		snprintf(ids[n], sizeof(ids[n]), "%s", id);
		snprintf(statuses[n], sizeof(statuses[n]), "%s", status);
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return cc_agg_store_fail(c->store, diag);
	for (i = 0; i < n; i++) {
		if ((named = json_array()) == NULL)
			return CC_ERR_ALLOC;
		if ((r = coord_deadline_reason(c, ids[i], statuses[i], reason,
		    sizeof(reason), named, diag)) != 0) {
			json_decref(named);
			return r;
		}
		if ((r = coord_end(c, ids[i], NULL, NULL, COORD_ACTOR, reason,
		    named, diag)) != 0 && r != CC_ERR_STATE)
			return r;
	}
	return 0;
}

static void
coord_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cc_coordinator *c = arg;
	struct cc_diag diag = { "" };

	(void)fd; (void)what;
	(void)cc_coord_tick(c, time(NULL), &diag);
	coord_count_next(c);
}

/* ------------------------------------------------------------------ */
/* Start and resume (SPEC 7.4 9) */

/*
 * After a restart: partial uploads are discarded (their steps restart at
 * offset 0), and the batch directory of a query that is neither running
 * nor counting (one that ended while files were being deleted) goes.
 */
static int
coord_resume(struct cc_coordinator *c, struct cc_diag *diag)
{
	char path[CC_AGG_PATH_MAX], sub[CC_AGG_PATH_MAX];
	struct coord_qrow row;
	struct dirent *e, *f;
	size_t len;
	DIR *d, *qd;
	int r, w;
	bool keep;

	if ((r = coord_exec(c, diag, "UPDATE steps SET uploaded = 0 WHERE "
	    "uploaded != 0", "")) != 0)
		return r;
	if ((d = opendir(c->batches)) == NULL) {
		cc_diag_set(diag, "%s: %s", c->batches, strerror(errno));
		return CC_ERR_IO;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		keep = false;
		if (cc_coord_id_valid(e->d_name) &&
		    coord_qrow_load(c, e->d_name, &row, NULL) == 0) {
			keep = strcmp(row.status, "running") == 0 ||
			    strcmp(row.status, "counting") == 0;
			coord_qrow_clear(&row);
		}
		w = snprintf(sub, sizeof(sub), "%s/%s", c->batches, e->d_name);
		if (w < 0 || (size_t)w >= sizeof(sub))
			continue;
		if (!keep) {
			if (cc_coord_id_valid(e->d_name))
				coord_delete_batches(c, e->d_name);
			continue;
		}
		if ((qd = opendir(sub)) == NULL)
			continue;
		while ((f = readdir(qd)) != NULL) {
			len = strlen(f->d_name);
			if (len > 5 && strcmp(f->d_name + len - 5, ".part") == 0) {
				w = snprintf(path, sizeof(path), "%s/%s", sub,
				    f->d_name);
				if (w > 0 && (size_t)w < sizeof(path))
					coord_shred(path);
			}
		}
		closedir(qd);
	}
	closedir(d);
	return 0;
}

int
cc_coordinator_new(struct cc_coordinator **ret_coord, struct cc_app *app,
    struct cc_diag *diag)
{
	struct cc_coordinator *c = NULL;
	uint8_t y[CC_ELEMENT_BYTES];
	struct timeval second = { 1, 0 };
	int r = CC_ERR_INTERNAL, w;

	*ret_coord = NULL;
	if (app == NULL || app->base == NULL || app->store == NULL ||
	    app->attr_key == NULL) {
		cc_diag_set(diag, "coordinator: the store, the event base and "
		    "the attribute key are needed");
		return CC_ERR_INVALID_ARGUMENT;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return CC_ERR_ALLOC;
	c->app = app;
	c->store = app->store;
	c->pipe[0] = c->pipe[1] = -1;
	TAILQ_INIT(&c->waiters);
	TAILQ_INIT(&c->commits);
	if (app->cfg.max_batch == 0 ||
	    app->cfg.max_batch > CC_LIMIT_BATCH_ELEMENTS)
		app->cfg.max_batch = CC_LIMIT_BATCH_ELEMENTS;
	cc_seal_key_public(app->attr_key, y);
	sodium_bin2hex(c->attribute_key, sizeof(c->attribute_key), y, sizeof(y));
	if ((r = cc_trust_load(&c->trust, app->cfg.ca_file, diag)) != 0)
		goto out;
	w = snprintf(c->batches, sizeof(c->batches), "%s/batches", app->cfg.dir);
	if (w < 0 || (size_t)w >= sizeof(c->batches)) {
		r = CC_ERR_LIMIT;
		goto out;
	}
	if (mkdir(c->batches, 0700) != 0 && errno != EEXIST) {
		cc_diag_set(diag, "cannot create %s: %s", c->batches,
		    strerror(errno));
		r = CC_ERR_IO;
		goto out;
	}
	if (pipe2(c->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		cc_diag_set(diag, "pipe: %s", strerror(errno));
		r = CC_ERR_IO;
		goto out;
	}
	r = CC_ERR_ALLOC;
	if ((c->pipe_ev = event_new(app->base, c->pipe[0], EV_READ | EV_PERSIST,
	    coord_pipe_cb, c)) == NULL || event_add(c->pipe_ev, NULL) != 0)
		goto out;
	if ((c->timer = event_new(app->base, -1, EV_PERSIST, coord_timer_cb,
	    c)) == NULL || event_add(c->timer, &second) != 0)
		goto out;
	if ((r = coord_resume(c, diag)) != 0)
		goto out;
	coord_count_next(c);
	*ret_coord = c;
	c = NULL;
	r = 0;
out:
	cc_coordinator_free(c);
	return r;
}

void
cc_coordinator_free(struct cc_coordinator *c)
{
	struct coord_commit *cm;
	struct coord_waiter *w;

	if (c == NULL)
		return;
	if (c->job_running) {
		pthread_join(c->thread, NULL);
		c->job_running = false;
	}
	/* An unfinished count stays in `counting` and runs again at start. */
	coord_job_free(c->job);
	/*
	 * Commits not finished are answered as failed; their parts are
	 * discarded at the next start and the nodes upload again.
	 */
	if (c->verify_running) {
		pthread_join(c->verify_thread, NULL);
		c->verify_running = false;
	}
	while ((cm = TAILQ_FIRST(&c->commits)) != NULL) {
		TAILQ_REMOVE(&c->commits, cm, link);
		if (cm->req != NULL)
			cc_reply_error(cm->req, 500, "the aggregator is stopping; "
			    "upload the batch again later");
		coord_commit_free(cm);
	}
	while ((w = TAILQ_FIRST(&c->waiters)) != NULL)
		coord_waiter_reply(w, json_array());
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->pipe_ev != NULL)
		event_free(c->pipe_ev);
	if (c->pipe[0] >= 0)
		close(c->pipe[0]);
	if (c->pipe[1] >= 0)
		close(c->pipe[1]);
	cc_trust_free(c->trust);
	free(c->offers);
	free(c);
}
