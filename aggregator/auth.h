/*
 * crosscount-aggregator: who is calling (SPEC.md section 14, docs/api.md
 * "Authentication"), and the registry of nodes, users and API tokens.
 *
 * Nodes: the verified client certificate's subject CN is the node id; it
 * must be a node in the `nodes` table with enabled = 1.
 *
 * Users: either a session cookie `cc_session` (set by POST
 * /api/v1/session; the value is 32 random bytes in lowercase hex) plus,
 * on POST/PUT/DELETE, the header `X-CSRF-Token` with the session's CSRF
 * value; or `Authorization: Bearer cct_<64 lowercase hex>` (an API token
 * from `token create`; no CSRF header needed: a browser never adds it by
 * itself). Only SHA-256 of a session id or token is stored, so a copy of
 * the database opens no session. The user must be enabled, the session
 * unexpired.
 *
 * Roles: CC_ACCESS_ANALYST = analyst or admin, CC_ACCESS_AUDITOR =
 * auditor or admin, CC_ACCESS_USER = any signed-in user.
 *
 * Passwords: argon2id (crypto_pwhash_str, interactive limits), verified
 * with crypto_pwhash_str_verify. Logins are rate limited per user name
 * (the `login_failures` table): after CC_AUTH_FREE_FAILURES failures in a
 * row, further attempts are refused without looking at the password for
 * CC_AUTH_DELAY_BASE seconds, doubling with every further failure up to
 * CC_AUTH_DELAY_MAX. An unknown name, a wrong password and a disabled
 * user get the same answer and cost the same time (a dummy verification).
 *
 * Store functions take the time as `now` (seconds since the epoch) so
 * that tests can move it. Account and registry changes are audited
 * (audit.h: node.*, user.*) in the same transaction as the change.
 */
#ifndef CC_AGG_AUTH_H
#define CC_AGG_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "aggregator/server.h"
#include "aggregator/store.h"
#include "protocol/error.h"
#include "protocol/limits.h"

#define CC_AUTH_COOKIE "cc_session"
/* The attributes of the session cookie (and of the one that ends it). */
#define CC_AUTH_COOKIE_ATTRS "Secure; HttpOnly; SameSite=Strict; Path=/"
#define CC_AUTH_CSRF_HEADER "X-CSRF-Token"
#define CC_AUTH_SECRET_BYTES 32
#define CC_AUTH_SECRET_HEX (2 * CC_AUTH_SECRET_BYTES)     /* 64 */
#define CC_AUTH_TOKEN_PREFIX "cct_"
#define CC_AUTH_TOKEN_LEN (4 + CC_AUTH_SECRET_HEX)        /* 68 */
#define CC_AUTH_PASSWORD_MIN 10                           /* bytes, new passwords */
#define CC_AUTH_FREE_FAILURES 5
#define CC_AUTH_DELAY_BASE 30                             /* seconds */
#define CC_AUTH_DELAY_MAX 3600
#define CC_AUTH_SECTOR_MAX 16
#define CC_AUTH_LABEL_MAX CC_LIMIT_LABEL

/* "analyst", "auditor", "admin"; NULL for anything else. */
const char *cc_auth_role_name(enum cc_role role);
/* The inverse (exact, lower case); CC_ERR_FORMAT otherwise. */
int cc_auth_role_parse(enum cc_role *ret_role, const char *name);

/*
 * A user name: 1..CC_LIMIT_USERNAME bytes of [a-z0-9._@-] starting with
 * a letter or digit. CC_ERR_FORMAT otherwise.
 */
int cc_auth_username_check(const char *name);

/* ---- the authorizer (server.h cc_authorize_fn) ---- */

/*
 * ctx is the struct cc_app (app.h): its store and cfg.session_hours.
 * Fills caller and returns 0, or replies 401 (no or invalid
 * credentials), 403 (an unknown or disabled node, a missing or wrong CSRF
 * header, a role that may not call the route) or 500 itself and returns
 * -1. A node's last_seen is updated on every accepted request.
 */
int cc_auth_authorize(struct cc_request *req, enum cc_access access,
    struct cc_caller *caller, void *ctx);

/* ---- sessions ---- */

struct cc_auth_session {
	char username[CC_USERNAME_MAX];
	enum cc_role role;
	char cookie[CC_AUTH_SECRET_HEX + 1];   /* the cc_session value (secret) */
	char csrf[CC_AUTH_SECRET_HEX + 1];     /* for the X-CSRF-Token header */
	time_t expires;
};

/*
 * Sign in: check the password of an enabled user and create a session
 * that lasts session_hours. Returns 0 and fills *ret_session (wipe it
 * after use), CC_ERR_AUTH for a wrong name or password or a disabled user
 * (all alike), or CC_ERR_LIMIT while the name is rate limited:
 * *ret_retry_after (may be NULL) then gets the seconds to wait. Expired
 * sessions of every user are deleted on the way.
 */
int cc_auth_login(struct cc_agg_store *s, const char *name, const char *password,
    time_t now, int session_hours, struct cc_auth_session *ret_session,
    long *ret_retry_after, struct cc_diag *diag);

/*
 * The same sign-in in parts, so that the slow password check (argon2id:
 * about 0.1 s and 64 MiB) can run off the event loop (login.c):
 *
 *   cc_auth_attempt_new     copies name and password into guarded memory
 *                           (CC_ERR_ALLOC only; bad ones fail later);
 *   cc_auth_login_begin     store: the rate limit (CC_ERR_LIMIT, as
 *                           above) and the user's hash; loop thread;
 *   cc_auth_login_verify    the check, then the password is wiped; no
 *                           store; one thread at a time, in turn (the
 *                           first builds the hash unknown names are
 *                           checked against, whatever name it checks);
 *   cc_auth_login_finish    store: records a failure (CC_ERR_AUTH) or,
 *                           when deliver, creates the session;
 *                           CC_ERR_STATE when !deliver and it would have;
 *   cc_auth_attempt_free    wipes and frees.
 */
struct cc_auth_attempt;
int cc_auth_attempt_new(struct cc_auth_attempt **ret_attempt, const char *name,
    const char *password);
int cc_auth_login_begin(struct cc_agg_store *s, struct cc_auth_attempt *a,
    time_t now, long *ret_retry_after, struct cc_diag *diag);
void cc_auth_login_verify(struct cc_auth_attempt *a);
int cc_auth_login_finish(struct cc_agg_store *s, struct cc_auth_attempt *a,
    time_t now, int session_hours, bool deliver,
    struct cc_auth_session *ret_session, struct cc_diag *diag);
void cc_auth_attempt_free(struct cc_auth_attempt *a);

/* End the session whose cookie value this is (none: still 0). */
int cc_auth_logout(struct cc_agg_store *s, const char *cookie,
    struct cc_diag *diag);

/* ---- the registry, for main.c (audited with actor "aggregator") ---- */

/*
 * A new user with an argon2id hash of password (CC_AUTH_PASSWORD_MIN..
 * CC_LIMIT_PASSWORD bytes, no NUL). CC_ERR_FORMAT for a bad name or
 * password (diag says which), CC_ERR_EXISTS if the name is taken.
 */
int cc_auth_user_add(struct cc_agg_store *s, const char *name, enum cc_role role,
    const char *password, time_t now, struct cc_diag *diag);
/* A new password; ends the user's sessions. CC_ERR_NOT_FOUND. */
int cc_auth_user_passwd(struct cc_agg_store *s, const char *name,
    const char *password, struct cc_diag *diag);
/* Enable or disable; disabling ends the user's sessions. CC_ERR_NOT_FOUND. */
int cc_auth_user_set_enabled(struct cc_agg_store *s, const char *name,
    bool enabled, struct cc_diag *diag);
/*
 * Every user as a new JSON array of {"name", "role", "enabled",
 * "created" (RFC 3339), "tokens" (how many)}, by name.
 */
int cc_auth_user_list(struct cc_agg_store *s, json_t **ret_users,
    struct cc_diag *diag);

/*
 * A new API token for user name: "cct_" + 64 lowercase hex from 32 random
 * bytes, written to ret_token (wipe it after printing); only its SHA-256
 * is stored. label: 0..CC_AUTH_LABEL_MAX bytes without control
 * characters (NULL = ""). CC_ERR_NOT_FOUND for an unknown user.
 */
int cc_auth_token_create(struct cc_agg_store *s, const char *name,
    const char *label, time_t now, char ret_token[CC_AUTH_TOKEN_LEN + 1],
    struct cc_diag *diag);

/*
 * The tokens of user name as a new JSON array of {"id", "label",
 * "created"}: id is the first CC_AUTH_TOKEN_ID_LEN lowercase hex digits of
 * the token's SHA-256, which names it without revealing it.
 * CC_ERR_NOT_FOUND for an unknown user.
 */
#define CC_AUTH_TOKEN_ID_LEN 12
int cc_auth_token_list(struct cc_agg_store *s, const char *name,
    json_t **ret_tokens, struct cc_diag *diag);

/*
 * Delete user name's token with that id (as listed), audited as
 * user.token-revoked: requests with it are refused from then on.
 * CC_ERR_FORMAT for a malformed id, CC_ERR_NOT_FOUND if name has no such
 * token.
 */
int cc_auth_token_revoke(struct cc_agg_store *s, const char *name,
    const char *id, struct cc_diag *diag);

/* A new enabled node. CC_ERR_FORMAT (bad id or sector), CC_ERR_EXISTS. */
int cc_auth_node_add(struct cc_agg_store *s, const char *id, const char *sector,
    time_t now, struct cc_diag *diag);
/* CC_ERR_NOT_FOUND for an unknown node. */
int cc_auth_node_set_enabled(struct cc_agg_store *s, const char *id, bool enabled,
    struct cc_diag *diag);
/*
 * Every node as a new JSON array of {"id", "sector", "enabled",
 * "added", "last_seen" (RFC 3339 or null), "catalogue" (the node's own
 * description, or null)}, by id. enabled_only: only enabled nodes.
 */
int cc_auth_node_list(struct cc_agg_store *s, bool enabled_only,
    json_t **ret_nodes, struct cc_diag *diag);

#endif
