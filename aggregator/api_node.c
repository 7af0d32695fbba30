/*
 * crosscount-aggregator: the nodes' endpoints (docs/api.md "Node
 * endpoints", SPEC.md 7.4, 8.6, 14). The caller is the node named by its
 * client certificate's CN (the authorizer checked it against the
 * registry); every decision is the coordinator's.
 *
 * Path parameters are validated exactly before use: a query id is 32
 * lowercase hex characters, chain and hop are decimal numbers without
 * leading zeros below CC_LIMIT_QUERY_NODES, the offset a decimal number
 * without leading zeros; anything else is 400.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "aggregator/app.h"
#include "aggregator/coordinator.h"

/*
 * A decimal number of at most max_digits digits, no sign, no leading
 * zero (except "0" itself), at most max. False otherwise.
 */
static bool
api_node_number(const char *s, size_t max_digits, uint64_t max,
    uint64_t *ret_v)
{
	uint64_t v = 0;
	size_t i, len;

	*ret_v = 0;
	if (s == NULL || (len = strlen(s)) == 0 || len > max_digits ||
	    (len > 1 && s[0] == '0'))
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return false;
	*ret_v = v;
	return true;
}

/* Query id, chain and hop of a batch path; replies 400 if bad. */
static bool
api_node_step(struct cc_request *req, const char **ret_id,
    unsigned *ret_chain, unsigned *ret_hop)
{
	uint64_t chain, hop;

	if ((*ret_id = cc_api_query_id_param(req)) == NULL)
		return false;
	if (!api_node_number(cc_request_param(req, 1), 2,
	    CC_LIMIT_QUERY_NODES - 1, &chain) ||
	    !api_node_number(cc_request_param(req, 2), 2,
	    CC_LIMIT_QUERY_NODES - 1, &hop)) {
		cc_reply_error(req, 400, "chain and hop must be whole numbers "
		    "below %d without leading zeros", CC_LIMIT_QUERY_NODES);
		return false;
	}
	*ret_chain = (unsigned)chain;
	*ret_hop = (unsigned)hop;
	return true;
}

/* True if obj has no members other than the NULL-terminated names. */
static bool
api_node_only(struct cc_request *req, json_t *obj, const char *const *names)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(obj, key, v) {
		for (i = 0; names[i] != NULL; i++) {
			if (strcmp(key, names[i]) == 0)
				break;
		}
		if (names[i] == NULL) {
			cc_reply_error(req, 400, "%.64s: unknown field", key);
			return false;
		}
	}
	return true;
}

static void
api_node_catalogue(struct cc_request *req, void *ctx)
{
	struct cc_app *app = ctx;
	struct cc_diag diag = { "" };
	json_t *body;
	int r;

	if ((body = cc_request_json(req)) == NULL)
		return;
	r = cc_coord_set_catalogue(app->coord, cc_request_caller(req)->node_id,
	    body, &diag);
	json_decref(body);
	if (r != 0)
		cc_reply_cc_error(req, r, &diag);
	else
		cc_reply_empty(req, 204);
}

static void
api_node_work(struct cc_request *req, void *ctx)
{
	struct cc_app *app = ctx;
	const char *wait = cc_request_query(req, "wait");
	uint64_t seconds = 0;

	if (wait != NULL && !api_node_number(wait, 2, CC_COORD_MAX_WAIT,
	    &seconds)) {
		cc_reply_error(req, 400, "wait: a whole number of seconds from "
		    "0 to %d", CC_COORD_MAX_WAIT);
		return;
	}
	cc_coord_poll(app->coord, req, cc_request_caller(req)->node_id,
	    (unsigned)seconds);
}

static void
api_node_decision(struct cc_request *req, void *ctx)
{
	static const char *const fields[] = { "decision", "reason", NULL };
	struct cc_app *app = ctx;
	struct cc_diag diag = { "" };
	const char *id, *decision, *reason;
	json_t *body;
	bool approve;
	int r;

	if ((id = cc_api_query_id_param(req)) == NULL ||
	    (body = cc_request_json(req)) == NULL)
		return;
	if (!api_node_only(req, body, fields))
		goto out;
	decision = json_string_value(json_object_get(body, "decision"));
	reason = json_string_value(json_object_get(body, "reason"));
	if (decision == NULL || (strcmp(decision, "approve") != 0 &&
	    strcmp(decision, "reject") != 0)) {
		cc_reply_error(req, 400, "decision: must be \"approve\" or "
		    "\"reject\"");
		goto out;
	}
	approve = strcmp(decision, "approve") == 0;
	if (approve && json_object_get(body, "reason") != NULL) {
		cc_reply_error(req, 400, "reason: only a rejection has a reason");
		goto out;
	}
	if (!approve && reason == NULL) {
		cc_reply_error(req, 400, "reason: a rejection needs a reason "
		    "(a string)");
		goto out;
	}
	if ((r = cc_coord_decide(app->coord, cc_request_caller(req)->node_id,
	    id, approve, reason, &diag)) != 0)
		cc_reply_cc_error(req, r, &diag);
	else
		cc_reply_empty(req, 204);
out:
	json_decref(body);
}

static void
api_node_fetch(struct cc_request *req, void *ctx)
{
	struct cc_app *app = ctx;
	struct cc_diag diag = { "" };
	char path[CC_AGG_PATH_MAX];
	const char *id;
	unsigned chain, hop;
	int r;

	if (!api_node_step(req, &id, &chain, &hop))
		return;
	if ((r = cc_coord_input(app->coord, cc_request_caller(req)->node_id,
	    id, chain, hop, path, &diag)) != 0) {
		cc_reply_cc_error(req, r, &diag);
		return;
	}
	cc_request_add_header(req, "Cache-Control", "no-store");
	cc_reply_file(req, "application/octet-stream", path);
}

static void
api_node_upload(struct cc_request *req, void *ctx)
{
	struct cc_app *app = ctx;
	struct cc_diag diag = { "" };
	const char *id;
	const uint8_t *data;
	unsigned chain, hop;
	uint64_t offset;
	size_t len;
	int r;

	if (!api_node_step(req, &id, &chain, &hop))
		return;
	if (!api_node_number(cc_request_query(req, "offset"), 20, UINT64_MAX,
	    &offset)) {
		cc_reply_error(req, 400, "offset: a whole number of bytes "
		    "without leading zeros is required");
		return;
	}
	data = cc_request_body(req, &len);
	if ((r = cc_coord_upload(app->coord, cc_request_caller(req)->node_id,
	    id, chain, hop, offset, data, len, &diag)) != 0)
		cc_reply_cc_error(req, r, &diag);
	else
		cc_reply_empty(req, 204);
}

static void
api_node_commit(struct cc_request *req, void *ctx)
{
	static const char *const fields[] = { "size", "digest", NULL };
	struct cc_app *app = ctx;
	const char *id, *digest;
	unsigned chain, hop;
	json_t *body, *size;

	if (!api_node_step(req, &id, &chain, &hop) ||
	    (body = cc_request_json(req)) == NULL)
		return;
	if (!api_node_only(req, body, fields))
		goto out;
	size = json_object_get(body, "size");
	digest = json_string_value(json_object_get(body, "digest"));
	if (!json_is_integer(size) || json_integer_value(size) < 0) {
		cc_reply_error(req, 400, "size: a whole number of bytes is "
		    "required");
		goto out;
	}
	if (digest == NULL) {
		cc_reply_error(req, 400, "digest: the SHA-256 of the batch in hex "
		    "is required");
		goto out;
	}
	/* Replies once the batch is checked (on a worker thread). */
	cc_coord_commit_request(app->coord, req, cc_request_caller(req)->node_id,
	    id, chain, hop, (uint64_t)json_integer_value(size), digest);
out:
	json_decref(body);
}

static void
api_node_fail(struct cc_request *req, void *ctx)
{
	static const char *const fields[] = { "reason", NULL };
	struct cc_app *app = ctx;
	struct cc_diag diag = { "" };
	const char *id, *reason;
	json_t *body;
	int r;

	if ((id = cc_api_query_id_param(req)) == NULL ||
	    (body = cc_request_json(req)) == NULL)
		return;
	if (!api_node_only(req, body, fields))
		goto out;
	if ((reason = json_string_value(json_object_get(body, "reason"))) == NULL) {
		cc_reply_error(req, 400, "reason: a string is required");
		goto out;
	}
	if ((r = cc_coord_node_fail(app->coord, cc_request_caller(req)->node_id,
	    id, reason, &diag)) != 0)
		cc_reply_cc_error(req, r, &diag);
	else
		cc_reply_empty(req, 204);
out:
	json_decref(body);
}

/* POST .../forgotten: no body; the node wiped what it had of the query. */
static void
api_node_forgotten(struct cc_request *req, void *ctx)
{
	struct cc_app *app = ctx;
	struct cc_diag diag = { "" };
	const char *id;
	int r;

	if ((id = cc_api_query_id_param(req)) == NULL)
		return;
	if ((r = cc_coord_forgotten(app->coord, cc_request_caller(req)->node_id,
	    id, &diag)) != 0)
		cc_reply_cc_error(req, r, &diag);
	else
		cc_reply_empty(req, 204);
}

const struct cc_route cc_api_node_routes[] = {
	{ "PUT", "/api/v1/node/catalogue", CC_ACCESS_NODE, api_node_catalogue },
	{ "GET", "/api/v1/node/work", CC_ACCESS_NODE, api_node_work },
	{ "POST", "/api/v1/node/queries/*/decision", CC_ACCESS_NODE,
	    api_node_decision },
	{ "GET", "/api/v1/node/queries/*/batches/*/*", CC_ACCESS_NODE,
	    api_node_fetch },
	{ "PUT", "/api/v1/node/queries/*/batches/*/*", CC_ACCESS_NODE,
	    api_node_upload },
	{ "POST", "/api/v1/node/queries/*/batches/*/*/commit", CC_ACCESS_NODE,
	    api_node_commit },
	{ "POST", "/api/v1/node/queries/*/fail", CC_ACCESS_NODE, api_node_fail },
	{ "POST", "/api/v1/node/queries/*/forgotten", CC_ACCESS_NODE,
	    api_node_forgotten },
};
const size_t cc_api_node_nroutes =
    sizeof(cc_api_node_routes) / sizeof(cc_api_node_routes[0]);
