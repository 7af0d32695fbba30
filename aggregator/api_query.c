/*
 * crosscount-aggregator: the analysts' query endpoints (docs/api.md
 * "POST/GET /api/v1/queries...", SPEC.md 7.4 and 9.6).
 *
 * Visibility: an analyst sees only the queries they submitted; an
 * auditor or admin sees every query. Another analyst's query answers 404
 * exactly like one that does not exist, so its existence is never
 * revealed.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aggregator/app.h"
#include "aggregator/coordinator.h"
#include "aggregator/counting.h"
#include "protocol/date.h"

/* Most queries listed in one answer (newest first). */
#define API_QUERY_LIST_MAX 1000

static bool
api_query_sees_all(const struct cc_caller *caller)
{
	return caller->role == CC_ROLE_AUDITOR || caller->role == CC_ROLE_ADMIN;
}

static bool
api_query_may_see(const struct cc_caller *caller, const char *owner)
{
	return api_query_sees_all(caller) ||
	    (owner != NULL && strcmp(owner, caller->username) == 0);
}

const char *
cc_api_query_id_param(struct cc_request *req)
{
	const char *id = cc_request_param(req, 0);

	if (!cc_coord_id_valid(id)) {
		cc_reply_error(req, 400, "the query id must be 32 lowercase hex "
		    "characters");
		return NULL;
	}
	return id;
}

static void
api_query_submit(struct cc_request *req, void *ctx)
{
	struct cc_app *app = ctx;
	const struct cc_caller *caller = cc_request_caller(req);
	struct cc_diag diag = { "" };
	char id[CC_COORD_ID_HEX + 1];
	char location[64];
	json_t *body;
	int r;

	if ((body = cc_request_json(req)) == NULL)
		return;
	r = cc_coord_submit(app->coord, caller->username, body, id, &diag);
	json_decref(body);
	if (r != 0) {
		cc_reply_cc_error(req, r, &diag);
		return;
	}
	snprintf(location, sizeof(location), "/api/v1/queries/%s", id);
	cc_request_add_header(req, "Location", location);
	cc_reply_json(req, 201, json_pack("{s:s, s:s}", "id", id, "status",
	    "awaiting_approval"));
}

/* One query of the list: id, title, status, submitted, owner. */
static int
api_query_row(json_t **ret_row, sqlite3_stmt *st)
{
	char submitted[CC_DATE_TIME_TEXT];

	if (cc_date_time_text(submitted, sqlite3_column_int64(st, 3)) != 0)
		snprintf(submitted, sizeof(submitted), "1970-01-01T00:00:00Z");
	*ret_row = json_pack("{s:s?, s:s?, s:s?, s:s, s:s?}",
	    "id", (const char *)sqlite3_column_text(st, 0),
	    "title", (const char *)sqlite3_column_text(st, 1),
	    "status", (const char *)sqlite3_column_text(st, 2),
	    "submitted", submitted,
	    "owner", (const char *)sqlite3_column_text(st, 4));
	return *ret_row != NULL ? 0 : CC_ERR_ALLOC;
}

static void
api_query_list(struct cc_request *req, void *ctx)
{
	struct cc_app *app = ctx;
	const struct cc_caller *caller = cc_request_caller(req);
	struct cc_diag diag = { "" };
	sqlite3_stmt *st = NULL;
	json_t *list = NULL;
	int r;
	bool all = api_query_sees_all(caller);

	r = cc_agg_store_prepare(app->store, &st, all ?
	    "SELECT id, title, status, submitted, owner FROM queries "
	    "ORDER BY submitted DESC, id LIMIT ?" :
	    "SELECT id, title, status, submitted, owner FROM queries "
	    "WHERE owner = ? ORDER BY submitted DESC, id LIMIT ?", &diag);
	if (r != 0)
		goto fail;
	if ((!all && sqlite3_bind_text(st, 1, caller->username, -1,
	    SQLITE_TRANSIENT) != SQLITE_OK) ||
	    sqlite3_bind_int(st, all ? 1 : 2, API_QUERY_LIST_MAX) != SQLITE_OK) {
		r = cc_agg_store_fail(app->store, &diag);
		goto fail;
	}
	if ((r = cc_agg_store_rows(app->store, st, api_query_row, &list,
	    &diag)) != 0)
		goto fail;
	sqlite3_finalize(st);
	cc_reply_json(req, 200, json_pack("{s:o}", "queries", list));
	return;
fail:
	sqlite3_finalize(st);
	cc_reply_cc_error(req, r, &diag);
}

static void
api_query_get(struct cc_request *req, void *ctx)
{
	struct cc_app *app = ctx;
	const struct cc_caller *caller = cc_request_caller(req);
	struct cc_diag diag = { "" };
	const char *id;
	json_t *doc = NULL;
	int r;

	if ((id = cc_api_query_id_param(req)) == NULL)
		return;
	if ((r = cc_coord_describe(app->coord, id, &doc, &diag)) != 0) {
		cc_reply_cc_error(req, r, &diag);
		return;
	}
	if (!api_query_may_see(caller, json_string_value(json_object_get(doc,
	    "owner")))) {
		json_decref(doc);
		cc_reply_error(req, 404, "no such query");
		return;
	}
	cc_reply_json(req, 200, doc);
}

/*
 * The stored released table of a query the caller may see: 404 for none
 * (or not theirs), 409 unless released. On success *ret_text is the
 * table as stored (free() it); otherwise the request has been answered.
 */
static bool
api_query_result_text(struct cc_request *req, struct cc_app *app,
    const char *id, char **ret_text)
{
	const struct cc_caller *caller = cc_request_caller(req);
	struct cc_diag diag = { "" };
	sqlite3_stmt *st = NULL;
	const char *owner, *status, *result;
	int rc;

	*ret_text = NULL;
	if (cc_agg_store_prepare(app->store, &st, "SELECT owner, status, result "
	    "FROM queries WHERE id = ?", &diag) != 0 ||
	    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
		sqlite3_finalize(st);
		cc_reply_error(req, 500, "database error");
		return false;
	}
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE)
			cc_reply_error(req, 404, "no such query");
		else
			cc_reply_error(req, 500, "database error");
		return false;
	}
	owner = (const char *)sqlite3_column_text(st, 0);
	status = (const char *)sqlite3_column_text(st, 1);
	result = (const char *)sqlite3_column_text(st, 2);
	if (!api_query_may_see(caller, owner)) {
		sqlite3_finalize(st);
		cc_reply_error(req, 404, "no such query");
		return false;
	}
	/* Nothing partial is ever shown (SPEC 7.4 8). */
	if (status == NULL || strcmp(status, "released") != 0 || result == NULL) {
		cc_reply_error(req, 409, "the query is %s: a result exists only "
		    "for a released query", status != NULL ? status : "unknown");
		sqlite3_finalize(st);
		return false;
	}
	if ((*ret_text = strdup(result)) == NULL) {
		sqlite3_finalize(st);
		cc_reply_error(req, 500, "out of memory");
		return false;
	}
	sqlite3_finalize(st);
	return true;
}

static void
api_query_result(struct cc_request *req, void *ctx)
{
	const char *id;
	char *text = NULL;

	if ((id = cc_api_query_id_param(req)) == NULL ||
	    !api_query_result_text(req, ctx, id, &text))
		return;
	cc_request_add_header(req, "Cache-Control", "no-store");
	cc_reply_bytes(req, 200, "application/json", text, strlen(text));
	free(text);
}

static void
api_query_result_csv(struct cc_request *req, void *ctx)
{
	const char *id;
	char *text = NULL, *csv = NULL, disposition[96];
	json_t *table;
	size_t len = 0;
	int r;

	if ((id = cc_api_query_id_param(req)) == NULL ||
	    !api_query_result_text(req, ctx, id, &text))
		return;
	table = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	free(text);
	if (table == NULL || (r = cc_counting_csv(table, &csv, &len)) != 0) {
		json_decref(table);
		cc_reply_error(req, 500, "the stored result cannot be written "
		    "as CSV");
		return;
	}
	json_decref(table);
	snprintf(disposition, sizeof(disposition),
	    "attachment; filename=\"crosscount-%s.csv\"", id);
	cc_request_add_header(req, "Content-Disposition", disposition);
	cc_request_add_header(req, "Cache-Control", "no-store");
	cc_reply_bytes(req, 200, "text/csv; charset=utf-8", csv, len);
	free(csv);
}

const struct cc_route cc_api_query_routes[] = {
	{ "POST", "/api/v1/queries", CC_ACCESS_ANALYST, api_query_submit },
	{ "GET", "/api/v1/queries", CC_ACCESS_USER, api_query_list },
	{ "GET", "/api/v1/queries/*", CC_ACCESS_USER, api_query_get },
	{ "GET", "/api/v1/queries/*/result", CC_ACCESS_USER, api_query_result },
	{ "GET", "/api/v1/queries/*/result.csv", CC_ACCESS_USER,
	    api_query_result_csv },
};
const size_t cc_api_query_nroutes =
    sizeof(cc_api_query_routes) / sizeof(cc_api_query_routes[0]);
