/*
 * crosscount-aggregator: the user endpoints of docs/api.md that are not
 * about queries: signing in and out, who am I, and what the federation
 * offers (its enabled nodes and their catalogues, and the policy of
 * SPEC 7.2). Who may call what is decided by auth.c before a handler runs.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "aggregator/app.h"
#include "aggregator/auth.h"
#include "aggregator/login.h"

/*
 * A login body is {"username": string, "password": string} and nothing
 * else (docs/api.md: unknown fields are errors). Returns the message for
 * a 400, or NULL if it is well formed.
 */
static const char *
login_body_problem(json_t *body, const char **ret_name, const char **ret_pw)
{
	const char *key;
	json_t *v;

	*ret_name = NULL;
	*ret_pw = NULL;
	json_object_foreach(body, key, v) {
		if (strcmp(key, "username") != 0 && strcmp(key, "password") != 0)
			return "unknown field (only username and password)";
		if (!json_is_string(v))
			return strcmp(key, "username") == 0 ?
			    "username: must be a string" : "password: must be a string";
		/* An embedded NUL would make the C string differ from the JSON. */
		if (strlen(json_string_value(v)) != json_string_length(v))
			return strcmp(key, "username") == 0 ?
			    "username: must not contain NUL" :
			    "password: must not contain NUL";
	}
	if ((v = json_object_get(body, "username")) == NULL)
		return "username: required";
	*ret_name = json_string_value(v);
	if ((v = json_object_get(body, "password")) == NULL)
		return "password: required";
	*ret_pw = json_string_value(v);
	return NULL;
}

/* A JSON body must say so: a cross-site form cannot, without CORS. */
static bool
is_json_request(struct cc_request *req)
{
	const char *ct = cc_request_header(req, "Content-Type");
	size_t n = strlen("application/json");

	return ct != NULL && strncasecmp(ct, "application/json", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static void
h_login(struct cc_request *req, void *ctx)
{
	struct cc_app *app = ctx;
	const char *name, *pw, *problem;
	json_t *body;

	if (!is_json_request(req)) {
		cc_reply_error(req, 400, "Content-Type must be application/json");
		return;
	}
	if ((body = cc_request_json(req)) == NULL)
		return;
	if ((problem = login_body_problem(body, &name, &pw)) != NULL)
		cc_reply_error(req, 400, "%s", problem);
	else
		cc_login_start(app->login, req, name, pw);  /* replies later */
	json_decref(body);
}

static void
h_logout(struct cc_request *req, void *ctx)
{
	struct cc_app *app = ctx;
	char cookie[CC_AUTH_SECRET_HEX + 2];

	if (cc_request_cookie(req, CC_AUTH_COOKIE, cookie, sizeof(cookie)) &&
	    cc_auth_logout(app->store, cookie, NULL) != 0) {
		sodium_memzero(cookie, sizeof(cookie));
		cc_reply_error(req, 500, "cannot end the session now");
		return;
	}
	sodium_memzero(cookie, sizeof(cookie));
	cc_request_add_header(req, "Set-Cookie", CC_AUTH_COOKIE "=; Max-Age=0; "
	    CC_AUTH_COOKIE_ATTRS);
	cc_reply_empty(req, 204);
}

static void
h_me(struct cc_request *req, void *ctx)
{
	const struct cc_caller *who = cc_request_caller(req);

	(void)ctx;
	cc_reply_json(req, 200, json_pack("{s:s,s:s}", "username", who->username,
	    "role", cc_auth_role_name(who->role)));
}

/* The policy's grids as [[[lo, hi], ...], ...]. */
static json_t *
grids_json(const struct cc_agg_config *cfg)
{
	json_t *grids = json_array(), *grid, *band;
	size_t i, j;

	if (grids == NULL)
		return NULL;
	for (i = 0; i < cfg->policy.ngrids; i++) {
		if ((grid = json_array()) == NULL ||
		    json_array_append_new(grids, grid) != 0)
			goto fail;
		for (j = 0; j < cfg->policy.grids[i].nbands; j++) {
			band = json_pack("[ii]", cfg->policy.grids[i].bands[j].lo,
			    cfg->policy.grids[i].bands[j].hi);
			if (band == NULL || json_array_append_new(grid, band) != 0)
				goto fail;
		}
	}
	return grids;
fail:
	json_decref(grids);
	return NULL;
}

/*
 * One node as analysts see it: the registry's id and sector, what its
 * catalogue says it holds (nothing yet: no categories, period null),
 * and when it was last heard from.
 */
static json_t *
node_json(const json_t *reg)
{
	const json_t *cat = json_object_get(reg, "catalogue");
	json_t *cats = json_object_get(cat, "categories");
	json_t *period = json_object_get(cat, "period");

	return json_pack("{s:O,s:O,s:o,s:o,s:O}",
	    "id", json_object_get(reg, "id"),
	    "sector", json_object_get(reg, "sector"),
	    "categories", json_is_array(cats) ? json_incref(cats) : json_array(),
	    "period", json_is_object(period) ? json_incref(period) : json_null(),
	    "last_seen", json_object_get(reg, "last_seen"));
}

static void
h_federation(struct cc_request *req, void *ctx)
{
	struct cc_app *app = ctx;
	struct cc_diag d = { "" };
	json_t *reg = NULL, *nodes = NULL, *n, *grids, *doc;
	size_t i;

	if (cc_auth_node_list(app->store, true, &reg, &d) != 0) {
		cc_reply_error(req, 500, "the node registry cannot be read");
		return;
	}
	if ((nodes = json_array()) == NULL)
		goto fail;
	json_array_foreach(reg, i, n) {
		if (json_array_append_new(nodes, node_json(n)) != 0)
			goto fail;
	}
	if ((grids = grids_json(&app->cfg)) == NULL)
		goto fail;
	doc = json_pack("{s:O,s:{s:o,s:I,s:I,s:I,s:I,s:b}}",
	    "nodes", nodes,
	    "policy",
	    "age_band_grids", grids,
	    "min_cell_floor", (json_int_t)app->cfg.policy.min_cell_floor,
	    "max_period_months", (json_int_t)app->cfg.policy.max_period_months,
	    "deadline_minutes", (json_int_t)app->cfg.deadline_minutes,
	    "period_align_months", (json_int_t)app->cfg.policy.period_align_months,
	    "allow_sex", app->cfg.policy.allow_sex);
	if (doc == NULL)
		goto fail;
	json_decref(reg);
	json_decref(nodes);
	cc_reply_json(req, 200, doc);
	return;
fail:
	json_decref(reg);
	json_decref(nodes);
	cc_reply_error(req, 500, "out of memory");
}

const struct cc_route cc_api_user_routes[] = {
	{ "POST", "/api/v1/session", CC_ACCESS_PUBLIC, h_login },
	{ "DELETE", "/api/v1/session", CC_ACCESS_USER, h_logout },
	{ "GET", "/api/v1/me", CC_ACCESS_USER, h_me },
	{ "GET", "/api/v1/federation", CC_ACCESS_USER, h_federation },
};

const size_t cc_api_user_nroutes =
    sizeof(cc_api_user_routes) / sizeof(cc_api_user_routes[0]);
