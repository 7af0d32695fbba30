/*
 * crosscount-aggregator: who is calling, and the registry of nodes, users
 * and tokens (see auth.h). SPEC.md section 14.
 */
#include "aggregator/auth.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/sha.h>
#include <sodium.h>

#include "aggregator/app.h"
#include "aggregator/audit.h"
#include "protocol/date.h"
#include "protocol/hex.h"
#include "protocol/query.h"
#include "protocol/sector.h"

#define AUTH_ACTOR "aggregator"
#define AUTH_FAILURES_KEEP 86400        /* forget failures after a day */
#define AUTH_FAILURES_ROWS 10000        /* and keep at most this many names */
#define AUTH_CN_MAX 256
#define AUTH_TIME_TEXT 32

/* ---- names ---------------------------------------------------------------- */

const char *
cc_auth_role_name(enum cc_role role)
{
	switch (role) {
	case CC_ROLE_ANALYST: return "analyst";
	case CC_ROLE_AUDITOR: return "auditor";
	case CC_ROLE_ADMIN: return "admin";
	case CC_ROLE_NONE: break;
	}
	return NULL;
}

int
cc_auth_role_parse(enum cc_role *ret_role, const char *name)
{
	*ret_role = CC_ROLE_NONE;
	if (name == NULL)
		return CC_ERR_FORMAT;
	if (strcmp(name, "analyst") == 0)
		*ret_role = CC_ROLE_ANALYST;
	else if (strcmp(name, "auditor") == 0)
		*ret_role = CC_ROLE_AUDITOR;
	else if (strcmp(name, "admin") == 0)
		*ret_role = CC_ROLE_ADMIN;
	else
		return CC_ERR_FORMAT;
	return 0;
}

int
cc_auth_username_check(const char *name)
{
	size_t i;
	char c;

	if (name == NULL || !((name[0] >= 'a' && name[0] <= 'z') ||
	    (name[0] >= '0' && name[0] <= '9')))
		return CC_ERR_FORMAT;
	for (i = 0; name[i] != '\0'; i++) {
		if (i >= CC_LIMIT_USERNAME)
			return CC_ERR_FORMAT;
		c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '@' || c == '-'))
			return CC_ERR_FORMAT;
	}
	return 0;
}

/* 64 lowercase hex characters: the form of a session id and a token body. */
static bool
auth_hex64(const char *s)
{
	return cc_hex_valid(s, CC_AUTH_SECRET_HEX);
}

/* Only the SHA-256 of a session id or token is ever stored or looked up. */
static void
auth_hash(uint8_t out[SHA256_DIGEST_LENGTH], const char *secret)
{
	SHA256((const unsigned char *)secret, strlen(secret), out);
}

/* 32 random bytes as 64 lowercase hex characters. */
static void
auth_random_hex(char out[CC_AUTH_SECRET_HEX + 1])
{
	uint8_t raw[CC_AUTH_SECRET_BYTES];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(out, CC_AUTH_SECRET_HEX + 1, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
}

static bool
auth_time_text(char out[AUTH_TIME_TEXT], time_t t)
{
	return cc_date_time_text(out, t) == 0;
}

static json_t *
auth_json_time(sqlite3_stmt *st, int col)
{
	char text[AUTH_TIME_TEXT];

	if (sqlite3_column_type(st, col) == SQLITE_NULL ||
	    !auth_time_text(text, (time_t)sqlite3_column_int64(st, col)))
		return json_null();
	return json_string(text);
}

/* ---- the authorizer --------------------------------------------------------- */

static int
auth_node(struct cc_request *req, struct cc_app *app, struct cc_caller *caller)
{
	sqlite3_stmt *st = NULL;
	struct cc_diag d = { "" };
	char cn[AUTH_CN_MAX];
	int rc, enabled;

	if (!cc_request_peer_cn(req, cn, sizeof(cn))) {
		cc_reply_error(req, 401, "this endpoint needs a node's client "
		    "certificate from the federation CA");
		return -1;
	}
	if (!cc_query_node_id_valid(cn, strlen(cn))) {
		cc_reply_error(req, 403, "the certificate's common name is not a "
		    "node id ([a-z0-9-]{1,32})");
		return -1;
	}
	if (cc_agg_store_prepare(app->store, &st,
	    "SELECT enabled FROM nodes WHERE id = ?", &d) != 0)
		goto fail;
	sqlite3_bind_text(st, 1, cn, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail;
	enabled = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	st = NULL;
	if (enabled != 1) {
		cc_reply_error(req, 403, "node %s is %s", cn, enabled < 0 ?
		    "not registered at this aggregator" : "disabled");
		return -1;
	}
	if (cc_agg_store_prepare(app->store, &st,
	    "UPDATE nodes SET last_seen = ? WHERE id = ?", &d) != 0)
		goto fail;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 2, cn, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	caller->kind = CC_ACCESS_NODE;
	memcpy(caller->node_id, cn, strlen(cn) + 1);
	return 0;
fail:
	sqlite3_finalize(st);
	cc_reply_error(req, 500, "the registry cannot be read");
	return -1;
}

/* A session or token row found: its user and role. */
static int
auth_row_user(sqlite3_stmt *st, int col, struct cc_caller *caller)
{
	const char *name = (const char *)sqlite3_column_text(st, col);
	const char *role = (const char *)sqlite3_column_text(st, col + 1);

	if (name == NULL || cc_auth_username_check(name) != 0 ||
	    cc_auth_role_parse(&caller->role, role) != 0)
		return CC_ERR_DB;
	memcpy(caller->username, name, strlen(name) + 1);
	caller->kind = CC_ACCESS_USER;
	return 0;
}

static bool
auth_role_allows(enum cc_access access, enum cc_role role)
{
	switch (access) {
	case CC_ACCESS_USER:
		return role != CC_ROLE_NONE;
	case CC_ACCESS_ANALYST:
		return role == CC_ROLE_ANALYST || role == CC_ROLE_ADMIN;
	case CC_ACCESS_AUDITOR:
		return role == CC_ROLE_AUDITOR || role == CC_ROLE_ADMIN;
	case CC_ACCESS_PUBLIC:
	case CC_ACCESS_NODE:
		break;
	}
	return false;
}

/* Bearer token: 0 = caller filled, 1 = not valid, <0 = store error. */
static int
auth_token(struct cc_app *app, const char *token, struct cc_caller *caller)
{
	uint8_t h[SHA256_DIGEST_LENGTH];
	sqlite3_stmt *st = NULL;
	int r, rc;

	if (strncmp(token, CC_AUTH_TOKEN_PREFIX, 4) != 0 || !auth_hex64(token + 4))
		return 1;
	auth_hash(h, token);
	if ((r = cc_agg_store_prepare(app->store, &st,
	    "SELECT u.name, u.role FROM tokens t JOIN users u ON u.name = t.user "
	    "WHERE t.id_hash = ? AND u.enabled = 1", NULL)) != 0)
		return r;
	sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = auth_row_user(st, 0, caller);
	else
		r = rc == SQLITE_DONE ? 1 : CC_ERR_DB;
	sqlite3_finalize(st);
	return r;
}

/*
 * Session cookie: 0 = caller filled and csrf copied, 1 = no valid
 * session, <0 = store error.
 */
static int
auth_session(struct cc_app *app, const char *cookie, struct cc_caller *caller,
    char csrf[CC_AUTH_SECRET_HEX + 1])
{
	uint8_t h[SHA256_DIGEST_LENGTH];
	sqlite3_stmt *st = NULL;
	const char *c;
	int r, rc;

	if (!auth_hex64(cookie))
		return 1;
	auth_hash(h, cookie);
	if ((r = cc_agg_store_prepare(app->store, &st,
	    "SELECT s.csrf, u.name, u.role FROM sessions s "
	    "JOIN users u ON u.name = s.user "
	    "WHERE s.id_hash = ? AND s.expires > ? AND u.enabled = 1", NULL)) != 0)
		return r;
	sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		c = (const char *)sqlite3_column_text(st, 0);
		if (c == NULL || strlen(c) != CC_AUTH_SECRET_HEX)
			r = CC_ERR_DB;
		else if ((r = auth_row_user(st, 1, caller)) == 0)
			memcpy(csrf, c, CC_AUTH_SECRET_HEX + 1);
	} else {
		r = rc == SQLITE_DONE ? 1 : CC_ERR_DB;
	}
	sqlite3_finalize(st);
	return r;
}

static int
auth_user(struct cc_request *req, enum cc_access access, struct cc_app *app,
    struct cc_caller *caller)
{
	char cookie[CC_AUTH_SECRET_HEX + 2], csrf[CC_AUTH_SECRET_HEX + 1];
	const char *authz, *given, *method;
	int r;

	authz = cc_request_header(req, "Authorization");
	if (authz != NULL) {
		/* A script's token; a wrong one is never "try the cookie". */
		if (strncasecmp(authz, "Bearer ", 7) != 0) {
			cc_reply_error(req, 401, "the Authorization header must be "
			    "\"Bearer <API token>\"");
			return -1;
		}
		if ((r = auth_token(app, authz + 7, caller)) != 0) {
			if (r < 0)
				cc_reply_error(req, 500, "the user registry cannot be read");
			else
				cc_reply_error(req, 401, "the API token is not valid (or "
				    "its user is disabled)");
			return -1;
		}
		caller->via_session = false;
	} else {
		if (!cc_request_cookie(req, CC_AUTH_COOKIE, cookie, sizeof(cookie))) {
			cc_reply_error(req, 401, "sign in first (no session cookie "
			    "or API token)");
			return -1;
		}
		r = auth_session(app, cookie, caller, csrf);
		sodium_memzero(cookie, sizeof(cookie));
		if (r != 0) {
			if (r < 0)
				cc_reply_error(req, 500, "the user registry cannot be read");
			else
				cc_reply_error(req, 401, "the session has ended or "
				    "expired; sign in again");
			return -1;
		}
		caller->via_session = true;
		/*
		 * A browser sends the cookie with any request a hostile page
		 * makes it send; only our own page can read the CSRF value.
		 */
		method = cc_request_method(req);
		if (strcmp(method, "GET") != 0) {
			given = cc_request_header(req, CC_AUTH_CSRF_HEADER);
			if (given == NULL || strlen(given) != CC_AUTH_SECRET_HEX ||
			    sodium_memcmp(given, csrf, CC_AUTH_SECRET_HEX) != 0) {
				sodium_memzero(csrf, sizeof(csrf));
				memset(caller, 0, sizeof(*caller));
				cc_reply_error(req, 403, "missing or wrong %s header "
				    "(send the csrf value from signing in)",
				    CC_AUTH_CSRF_HEADER);
				return -1;
			}
		}
		sodium_memzero(csrf, sizeof(csrf));
	}
	if (!auth_role_allows(access, caller->role)) {
		const char *role = cc_auth_role_name(caller->role);

		/* caller lives in req, which the reply frees: clear it first. */
		memset(caller, 0, sizeof(*caller));
		cc_reply_error(req, 403, "the %s role may not do this", role);
		return -1;
	}
	return 0;
}

int
cc_auth_authorize(struct cc_request *req, enum cc_access access,
    struct cc_caller *caller, void *ctx)
{
	struct cc_app *app = ctx;

	memset(caller, 0, sizeof(*caller));
	switch (access) {
	case CC_ACCESS_PUBLIC:
		caller->kind = CC_ACCESS_PUBLIC;
		return 0;
	case CC_ACCESS_NODE:
		return auth_node(req, app, caller);
	case CC_ACCESS_USER:
	case CC_ACCESS_ANALYST:
	case CC_ACCESS_AUDITOR:
		return auth_user(req, access, app, caller);
	}
	cc_reply_error(req, 500, "unknown access rule");
	return -1;
}

/* ---- passwords and sign-in ------------------------------------------------ */

static int
auth_password_check(const char *password, struct cc_diag *diag)
{
	size_t n;

	if (password == NULL) {
		cc_diag_set(diag, "no password");
		return CC_ERR_FORMAT;
	}
	n = strnlen(password, CC_LIMIT_PASSWORD + 1);
	if (n < CC_AUTH_PASSWORD_MIN || n > CC_LIMIT_PASSWORD) {
		cc_diag_set(diag, "a password is %d to %d bytes long",
		    CC_AUTH_PASSWORD_MIN, CC_LIMIT_PASSWORD);
		return CC_ERR_FORMAT;
	}
	return 0;
}

/* argon2id with libsodium's interactive limits. */
static int
auth_password_hash(char out[crypto_pwhash_STRBYTES], const char *password,
    struct cc_diag *diag)
{
	if (crypto_pwhash_str(out, password, strlen(password),
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		cc_diag_set(diag, "out of memory while hashing the password");
		return CC_ERR_ALLOC;
	}
	return 0;
}

/*
 * A hash to verify against when the user does not exist, so that an
 * unknown name costs the same time as a wrong password.
 */
static const char *
auth_dummy_hash(void)
{
	static char dummy[crypto_pwhash_STRBYTES];

	if (dummy[0] == '\0' && crypto_pwhash_str(dummy, "crosscount-dummy",
	    16, crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		dummy[0] = '\0';
	return dummy;
}

/* The remaining refusal time of name, 0 if it may try now. */
static int
auth_rate_limited(struct cc_agg_store *s, const char *name, time_t now,
    long *ret_wait, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	int64_t count, last, delay;
	int r, rc, shift;

	*ret_wait = 0;
	if ((r = cc_agg_store_prepare(s, &st,
	    "SELECT count, last FROM login_failures WHERE name = ?", diag)) != 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		count = sqlite3_column_int64(st, 0);
		last = sqlite3_column_int64(st, 1);
		if (count >= CC_AUTH_FREE_FAILURES) {
			shift = (int)(count - CC_AUTH_FREE_FAILURES);
			delay = shift >= 8 ? CC_AUTH_DELAY_MAX :
			    (int64_t)CC_AUTH_DELAY_BASE << shift;
			if (delay > CC_AUTH_DELAY_MAX)
				delay = CC_AUTH_DELAY_MAX;
			if ((int64_t)now < last + delay)
				*ret_wait = (long)(last + delay - (int64_t)now);
		}
	} else if (rc != SQLITE_DONE) {
		r = cc_agg_store_fail(s, diag);
	}
	sqlite3_finalize(st);
	return r;
}

static int
auth_exec(struct cc_agg_store *s, const char *sql, const char *text,
    int64_t number, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = cc_agg_store_prepare(s, &st, sql, diag)) != 0)
		return r;
	if (text != NULL)
		sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) >= (text != NULL ? 2 : 1))
		sqlite3_bind_int64(st, text != NULL ? 2 : 1, number);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = cc_agg_store_fail(s, diag);
	sqlite3_finalize(st);
	return r;
}

/* Count one more failure for name; old and surplus rows are dropped. */
static int
auth_record_failure(struct cc_agg_store *s, const char *name, time_t now,
    struct cc_diag *diag)
{
	int r;

	if ((r = auth_exec(s, "INSERT INTO login_failures (name, count, last) "
	    "VALUES (?, 1, ?) ON CONFLICT (name) DO UPDATE SET "
	    "count = count + 1, last = excluded.last", name, (int64_t)now,
	    diag)) != 0)
		return r;
	if ((r = auth_exec(s, "DELETE FROM login_failures WHERE last < ?", NULL,
	    (int64_t)now - AUTH_FAILURES_KEEP, diag)) != 0)
		return r;
	return auth_exec(s, "DELETE FROM login_failures WHERE name IN "
	    "(SELECT name FROM login_failures ORDER BY last DESC "
	    "LIMIT -1 OFFSET ?)", NULL, AUTH_FAILURES_ROWS, diag);
}

static int
auth_new_session(struct cc_agg_store *s, const char *name, time_t now,
    int session_hours, struct cc_auth_session *ses, const char *verified,
    const char *rehash, struct cc_diag *diag)
{
	uint8_t h[SHA256_DIGEST_LENGTH];
	sqlite3_stmt *st = NULL;
	int r;

	auth_random_hex(ses->cookie);
	auth_random_hex(ses->csrf);
	ses->expires = now + (time_t)session_hours * 3600;
	auth_hash(h, ses->cookie);
	if ((r = cc_agg_store_begin(s)) != 0)
		return cc_agg_store_fail(s, diag);
	if ((r = auth_exec(s, "DELETE FROM login_failures WHERE name = ?", name,
	    0, diag)) != 0 ||
	    (r = auth_exec(s, "DELETE FROM sessions WHERE expires <= ?", NULL,
	    (int64_t)now, diag)) != 0)
		goto out;
	/* Only while the user is enabled with the very hash that was
	 * checked: a `passwd` or `disable` meanwhile wins. */
	if ((r = cc_agg_store_prepare(s, &st, "INSERT INTO sessions (id_hash, user, "
	    "csrf, created, expires) SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS "
	    "(SELECT 1 FROM users WHERE name = ?2 AND pwhash = ?6 AND "
	    "enabled = 1)", diag)) != 0)
		goto out;
	sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ses->csrf, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)ses->expires);
	sqlite3_bind_text(st, 6, verified, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = cc_agg_store_fail(s, diag);
		goto out;
	}
	if (sqlite3_changes(cc_agg_store_db(s)) != 1) {
		cc_diag_set(diag, "wrong user name or password");
		r = CC_ERR_AUTH;
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	/* Hashes made with older limits are upgraded while we have the password. */
	if (rehash != NULL) {
		if ((r = cc_agg_store_prepare(s, &st,
		    "UPDATE users SET pwhash = ? WHERE name = ? AND pwhash = ?",
		    diag)) != 0)
			goto out;
		sqlite3_bind_text(st, 1, rehash, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, verified, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			r = cc_agg_store_fail(s, diag);
			goto out;
		}
	}
	if (cc_agg_store_commit(s) != 0) {
		r = cc_agg_store_fail(s, diag);
		goto out;
	}
	r = 0;
out:
	sqlite3_finalize(st);
	if (r != 0)
		cc_agg_store_rollback(s);
	sodium_memzero(h, sizeof(h));
	return r;
}

/* A sign-in on its way (auth.h): name and password copied, then looked up. */
struct cc_auth_attempt {
	char name[CC_USERNAME_MAX];
	char password[CC_LIMIT_PASSWORD + 1];
	size_t pwlen;
	bool name_ok, pw_ok;
	bool found, enabled;          /* the lookup */
	enum cc_role role;
	char hash[crypto_pwhash_STRBYTES];    /* the user's, if found */
	bool ok, upgrade;             /* the check */
	char rehash[crypto_pwhash_STRBYTES];
};

int
cc_auth_attempt_new(struct cc_auth_attempt **ret_attempt, const char *name,
    const char *password)
{
	struct cc_auth_attempt *a;

	*ret_attempt = NULL;
	/* Guarded memory: it holds a password; wiped when freed. */
	if ((a = sodium_malloc(sizeof(*a))) == NULL)
		return CC_ERR_ALLOC;
	memset(a, 0, sizeof(*a));
	a->name_ok = name != NULL && cc_auth_username_check(name) == 0;
	if (a->name_ok)
		memcpy(a->name, name, strlen(name) + 1);
	if (password != NULL)
		a->pwlen = strnlen(password, CC_LIMIT_PASSWORD + 1);
	a->pw_ok = a->pwlen >= 1 && a->pwlen <= CC_LIMIT_PASSWORD;
	if (a->pw_ok)
		memcpy(a->password, password, a->pwlen + 1);
	*ret_attempt = a;
	return 0;
}

void
cc_auth_attempt_free(struct cc_auth_attempt *a)
{
	if (a != NULL)
		sodium_free(a);
}

int
cc_auth_login_begin(struct cc_agg_store *s, struct cc_auth_attempt *a,
    time_t now, long *ret_retry_after, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	const char *stored;
	long wait = 0;
	int r, rc;

	if (ret_retry_after != NULL)
		*ret_retry_after = 0;
	a->found = a->enabled = false;
	if (a->name_ok) {
		if ((r = auth_rate_limited(s, a->name, now, &wait, diag)) != 0)
			return r;
		if (wait > 0) {
			/* Refused without looking at the password: no oracle. */
			if (ret_retry_after != NULL)
				*ret_retry_after = wait;
			cc_diag_set(diag, "too many failed sign-ins for this name; "
			    "try again in %ld seconds", wait);
			return CC_ERR_LIMIT;
		}
		if ((r = cc_agg_store_prepare(s, &st, "SELECT role, pwhash, enabled "
		    "FROM users WHERE name = ?", diag)) != 0)
			return r;
		sqlite3_bind_text(st, 1, a->name, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			stored = (const char *)sqlite3_column_text(st, 1);
			if (stored != NULL && strlen(stored) < sizeof(a->hash) &&
			    cc_auth_role_parse(&a->role, (const char *)
			    sqlite3_column_text(st, 0)) == 0) {
				memcpy(a->hash, stored, strlen(stored) + 1);
				a->found = true;
				a->enabled = sqlite3_column_int(st, 2) == 1;
			}
		} else if (rc != SQLITE_DONE) {
			r = cc_agg_store_fail(s, diag);
			sqlite3_finalize(st);
			return r;
		}
		sqlite3_finalize(st);
	}
	return 0;
}

void
cc_auth_login_verify(struct cc_auth_attempt *a)
{
	/* Built by the first check, whoever signs in: its cost then tells
	 * nothing about the name (and no 64 MiB before anyone signs in). */
	const char *dummy = auth_dummy_hash();

	a->ok = false;
	a->upgrade = false;
	if (a->found && a->pw_ok) {
		a->ok = crypto_pwhash_str_verify(a->hash, a->password,
		    a->pwlen) == 0;
		a->upgrade = a->ok && crypto_pwhash_str_needs_rehash(a->hash,
		    crypto_pwhash_OPSLIMIT_INTERACTIVE,
		    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
		if (a->upgrade && auth_password_hash(a->rehash, a->password,
		    NULL) != 0)
			a->upgrade = false;
	} else {
		/* The same work whatever is wrong; never a way in. */
		if (crypto_pwhash_str_verify(dummy, a->pw_ok ? a->password :
		    "x", a->pw_ok ? a->pwlen : 1) == 0)
			a->ok = false;
	}
	/* The password is not needed after this. */
	sodium_memzero(a->password, sizeof(a->password));
}

int
cc_auth_login_finish(struct cc_agg_store *s, struct cc_auth_attempt *a,
    time_t now, int session_hours, bool deliver,
    struct cc_auth_session *ret_session, struct cc_diag *diag)
{
	struct cc_auth_session ses;
	int r;

	memset(ret_session, 0, sizeof(*ret_session));
	if (session_hours < 1) {
		cc_diag_set(diag, "session_hours must be at least 1");
		return CC_ERR_INVALID_ARGUMENT;
	}
	if (!a->ok || !a->enabled) {
		if (a->name_ok &&
		    (r = auth_record_failure(s, a->name, now, diag)) != 0)
			return r;
		cc_diag_set(diag, "wrong user name or password");
		return CC_ERR_AUTH;
	}
	if (!deliver) {
		/* Nobody to hand a session to (the client went away). */
		cc_diag_set(diag, "the sign-in was abandoned");
		return CC_ERR_STATE;
	}
	memset(&ses, 0, sizeof(ses));
	if ((r = auth_new_session(s, a->name, now, session_hours, &ses,
	    a->hash, a->upgrade ? a->rehash : NULL, diag)) != 0)
		goto out;
	memcpy(ses.username, a->name, strlen(a->name) + 1);
	ses.role = a->role;
	*ret_session = ses;
	r = 0;
out:
	sodium_memzero(&ses, sizeof(ses));
	return r;
}

int
cc_auth_login(struct cc_agg_store *s, const char *name, const char *password,
    time_t now, int session_hours, struct cc_auth_session *ret_session,
    long *ret_retry_after, struct cc_diag *diag)
{
	struct cc_auth_attempt *a = NULL;
	int r;

	memset(ret_session, 0, sizeof(*ret_session));
	if (ret_retry_after != NULL)
		*ret_retry_after = 0;
	if (session_hours < 1) {
		cc_diag_set(diag, "session_hours must be at least 1");
		return CC_ERR_INVALID_ARGUMENT;
	}
	if ((r = cc_auth_attempt_new(&a, name, password)) != 0)
		return r;
	if ((r = cc_auth_login_begin(s, a, now, ret_retry_after, diag)) == 0) {
		cc_auth_login_verify(a);
		r = cc_auth_login_finish(s, a, now, session_hours, true,
		    ret_session, diag);
	}
	cc_auth_attempt_free(a);
	return r;
}

int
cc_auth_logout(struct cc_agg_store *s, const char *cookie, struct cc_diag *diag)
{
	uint8_t h[SHA256_DIGEST_LENGTH];
	sqlite3_stmt *st = NULL;
	int r;

	if (cookie == NULL || !auth_hex64(cookie))
		return 0;
	auth_hash(h, cookie);
	if ((r = cc_agg_store_prepare(s, &st, "DELETE FROM sessions WHERE id_hash = ?",
	    diag)) != 0)
		return r;
	sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = cc_agg_store_fail(s, diag);
	sqlite3_finalize(st);
	return r;
}

/* ---- the registry ----------------------------------------------------------- */

/*
 * Run one change statement with up to three text binds and one integer,
 * then its audit entry, in one transaction. ret_changes gets the number
 * of rows changed (0: nothing matched; the transaction is rolled back).
 */
struct auth_change {
	const char *sql;
	const char *text[4];    /* bound first, in order; NULL ends */
	bool has_int;
	int64_t number;         /* bound after the texts */
	const char *also_sql;   /* a second statement binding text[0], or NULL */
	const char *event;
	json_t *detail;         /* stolen */
};

static int
auth_change(struct cc_agg_store *s, struct auth_change *c, int *ret_changes,
    struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	int r, i, changes = 0;

	*ret_changes = 0;
	if (c->detail == NULL) {
		cc_diag_set(diag, "out of memory");
		return CC_ERR_ALLOC;
	}
	if (cc_agg_store_begin(s) != 0) {
		r = cc_agg_store_fail(s, diag);
		goto out;
	}
	if ((r = cc_agg_store_prepare(s, &st, c->sql, diag)) != 0)
		goto out;
	for (i = 0; i < 4 && c->text[i] != NULL; i++)
		sqlite3_bind_text(st, i + 1, c->text[i], -1, SQLITE_STATIC);
	if (c->has_int)
		sqlite3_bind_int64(st, i + 1, c->number);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = sqlite3_errcode(cc_agg_store_db(s)) == SQLITE_CONSTRAINT ?
		    CC_ERR_EXISTS : cc_agg_store_fail(s, diag);
		goto out;
	}
	changes = sqlite3_changes(cc_agg_store_db(s));
	sqlite3_finalize(st);
	st = NULL;
	if (changes == 0)
		goto out;
	if (c->also_sql != NULL &&
	    (r = auth_exec(s, c->also_sql, c->text[0], 0, diag)) != 0)
		goto out;
	if ((r = cc_audit_append(s, AUTH_ACTOR, c->event, c->detail, diag)) != 0)
		goto out;
	if (cc_agg_store_commit(s) != 0) {
		r = cc_agg_store_fail(s, diag);
		goto out;
	}
	*ret_changes = changes;
	r = 0;
out:
	sqlite3_finalize(st);
	if (r != 0 || changes == 0)
		cc_agg_store_rollback(s);
	json_decref(c->detail);
	return r;
}

int
cc_auth_user_add(struct cc_agg_store *s, const char *name, enum cc_role role,
    const char *password, time_t now, struct cc_diag *diag)
{
	char hash[crypto_pwhash_STRBYTES];
	struct auth_change c = { 0 };
	int r, changes;

	if (cc_auth_username_check(name) != 0) {
		cc_diag_set(diag, "a user name is 1 to %d characters from a-z, 0-9, "
		    "'.', '_', '@' and '-', starting with a letter or digit",
		    CC_LIMIT_USERNAME);
		return CC_ERR_FORMAT;
	}
	if (cc_auth_role_name(role) == NULL) {
		cc_diag_set(diag, "the role is analyst, auditor or admin");
		return CC_ERR_FORMAT;
	}
	if ((r = auth_password_check(password, diag)) != 0)
		return r;
	if ((r = auth_password_hash(hash, password, diag)) != 0)
		return r;
	c.sql = "INSERT INTO users (name, role, pwhash, enabled, created) "
	    "VALUES (?, ?, ?, 1, ?)";
	c.text[0] = name;
	c.text[1] = cc_auth_role_name(role);
	c.text[2] = hash;
	c.has_int = true;
	c.number = (int64_t)now;
	c.event = "user.added";
	c.detail = json_pack("{s:s,s:s}", "user", name, "role",
	    cc_auth_role_name(role));
	r = auth_change(s, &c, &changes, diag);
	if (r == CC_ERR_EXISTS)
		cc_diag_set(diag, "user %s already exists", name);
	sodium_memzero(hash, sizeof(hash));
	return r;
}

int
cc_auth_user_passwd(struct cc_agg_store *s, const char *name, const char *password,
    struct cc_diag *diag)
{
	char hash[crypto_pwhash_STRBYTES];
	struct auth_change c = { 0 };
	int r, changes;

	if (cc_auth_username_check(name) != 0) {
		cc_diag_set(diag, "no such user");
		return CC_ERR_NOT_FOUND;
	}
	if ((r = auth_password_check(password, diag)) != 0)
		return r;
	if ((r = auth_password_hash(hash, password, diag)) != 0)
		return r;
	/* A new password ends every session signed in with the old one. */
	c.sql = "UPDATE users SET pwhash = ?2 WHERE name = ?1";
	c.text[0] = name;
	c.text[1] = hash;
	c.also_sql = "DELETE FROM sessions WHERE user = ?";
	c.event = "user.password-changed";
	c.detail = json_pack("{s:s}", "user", name);
	r = auth_change(s, &c, &changes, diag);
	sodium_memzero(hash, sizeof(hash));
	if (r == 0 && changes == 0) {
		cc_diag_set(diag, "no user %s", name);
		r = CC_ERR_NOT_FOUND;
	}
	if (r == 0)
		r = auth_exec(s, "DELETE FROM login_failures WHERE name = ?", name,
		    0, diag);
	return r;
}

int
cc_auth_user_set_enabled(struct cc_agg_store *s, const char *name, bool enabled,
    struct cc_diag *diag)
{
	struct auth_change c = { 0 };
	int r, changes;

	if (cc_auth_username_check(name) != 0) {
		cc_diag_set(diag, "no such user");
		return CC_ERR_NOT_FOUND;
	}
	c.sql = "UPDATE users SET enabled = ?2 WHERE name = ?1";
	c.text[0] = name;
	c.has_int = true;
	c.number = enabled ? 1 : 0;
	c.also_sql = enabled ? NULL : "DELETE FROM sessions WHERE user = ?";
	c.event = enabled ? "user.enabled" : "user.disabled";
	c.detail = json_pack("{s:s}", "user", name);
	r = auth_change(s, &c, &changes, diag);
	if (r == 0 && changes == 0) {
		cc_diag_set(diag, "no user %s", name);
		r = CC_ERR_NOT_FOUND;
	}
	return r;
}

/* One user of cc_auth_user_list. */
static int
auth_user_row(json_t **ret_row, sqlite3_stmt *st)
{
	*ret_row = json_pack("{s:s?,s:s?,s:b,s:o,s:I}",
	    "name", (const char *)sqlite3_column_text(st, 0),
	    "role", (const char *)sqlite3_column_text(st, 1),
	    "enabled", sqlite3_column_int(st, 2) == 1,
	    "created", auth_json_time(st, 3),
	    "tokens", (json_int_t)sqlite3_column_int64(st, 4));
	return *ret_row != NULL ? 0 : CC_ERR_ALLOC;
}

int
cc_auth_user_list(struct cc_agg_store *s, json_t **ret_users, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	int r;

	*ret_users = NULL;
	if ((r = cc_agg_store_prepare(s, &st, "SELECT name, role, enabled, created, "
	    "(SELECT count(*) FROM tokens t WHERE t.user = u.name) "
	    "FROM users u ORDER BY name", diag)) != 0)
		return r;
	r = cc_agg_store_rows(s, st, auth_user_row, ret_users, diag);
	sqlite3_finalize(st);
	return r;
}

int
cc_auth_token_create(struct cc_agg_store *s, const char *name, const char *label,
    time_t now, char ret_token[CC_AUTH_TOKEN_LEN + 1], struct cc_diag *diag)
{
	char token[CC_AUTH_TOKEN_LEN + 1];
	uint8_t h[SHA256_DIGEST_LENGTH];
	sqlite3_stmt *st = NULL;
	json_t *detail = NULL;
	const unsigned char *p;
	int r = CC_ERR_INTERNAL, rc;

	memset(ret_token, 0, CC_AUTH_TOKEN_LEN + 1);
	if (label == NULL)
		label = "";
	if (strlen(label) > CC_AUTH_LABEL_MAX) {
		cc_diag_set(diag, "a token label is at most %d bytes",
		    CC_AUTH_LABEL_MAX);
		return CC_ERR_FORMAT;
	}
	for (p = (const unsigned char *)label; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7F) {
			cc_diag_set(diag, "a token label has no control characters");
			return CC_ERR_FORMAT;
		}
	}
	if (cc_auth_username_check(name) != 0) {
		cc_diag_set(diag, "no such user");
		return CC_ERR_NOT_FOUND;
	}
	memcpy(token, CC_AUTH_TOKEN_PREFIX, 4);
	auth_random_hex(token + 4);
	auth_hash(h, token);
	if (cc_agg_store_begin(s) != 0) {
		r = cc_agg_store_fail(s, diag);
		goto out;
	}
	if ((r = cc_agg_store_prepare(s, &st, "INSERT INTO tokens (id_hash, user, "
	    "label, created) SELECT ?, name, ?, ? FROM users WHERE name = ?",
	    diag)) != 0)
		goto out;
	sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_STATIC);
	sqlite3_bind_text(st, 2, label, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
	sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
		r = cc_agg_store_fail(s, diag);
		goto out;
	}
	if (sqlite3_changes(cc_agg_store_db(s)) != 1) {
		cc_diag_set(diag, "no user %s", name);
		r = CC_ERR_NOT_FOUND;
		goto out;
	}
	if ((detail = json_pack("{s:s,s:s}", "user", name, "label", label)) ==
	    NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if ((r = cc_audit_append(s, AUTH_ACTOR, "user.token-created", detail,
	    diag)) != 0)
		goto out;
	if (cc_agg_store_commit(s) != 0) {
		r = cc_agg_store_fail(s, diag);
		goto out;
	}
	memcpy(ret_token, token, sizeof(token));
	r = 0;
out:
	sqlite3_finalize(st);
	json_decref(detail);
	if (r != 0)
		cc_agg_store_rollback(s);
	sodium_memzero(token, sizeof(token));
	sodium_memzero(h, sizeof(h));
	return r;
}

/* Whether user name exists (enabled or not); false on a store error. */
static bool
auth_user_exists(struct cc_agg_store *s, const char *name)
{
	sqlite3_stmt *st = NULL;
	bool found;

	if (cc_agg_store_prepare(s, &st, "SELECT 1 FROM users WHERE name = ?",
	    NULL) != 0)
		return false;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

/* One token of cc_auth_token_list. */
static int
auth_token_row(json_t **ret_row, sqlite3_stmt *st)
{
	*ret_row = json_pack("{s:s?,s:s?,s:o}",
	    "id", (const char *)sqlite3_column_text(st, 0),
	    "label", (const char *)sqlite3_column_text(st, 1),
	    "created", auth_json_time(st, 2));
	return *ret_row != NULL ? 0 : CC_ERR_ALLOC;
}

/* The token id shown to admins: the first hex digits of its SHA-256. */
#define AUTH_TOKEN_ID_SQL \
	"lower(substr(hex(id_hash), 1, " AUTH_STR(CC_AUTH_TOKEN_ID_LEN) "))"
#define AUTH_STR(x) AUTH_STR2(x)
#define AUTH_STR2(x) #x

int
cc_auth_token_list(struct cc_agg_store *s, const char *name,
    json_t **ret_tokens, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	int r;

	*ret_tokens = NULL;
	if (cc_auth_username_check(name) != 0 || !auth_user_exists(s, name)) {
		cc_diag_set(diag, "no such user");
		return CC_ERR_NOT_FOUND;
	}
	if ((r = cc_agg_store_prepare(s, &st, "SELECT " AUTH_TOKEN_ID_SQL ", "
	    "label, created FROM tokens WHERE user = ? ORDER BY created, label",
	    diag)) != 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	r = cc_agg_store_rows(s, st, auth_token_row, ret_tokens, diag);
	sqlite3_finalize(st);
	return r;
}

int
cc_auth_token_revoke(struct cc_agg_store *s, const char *name, const char *id,
    struct cc_diag *diag)
{
	struct auth_change c = { 0 };
	size_t i;
	int r, changes;

	if (cc_auth_username_check(name) != 0) {
		cc_diag_set(diag, "no such user");
		return CC_ERR_NOT_FOUND;
	}
	for (i = 0; id != NULL && id[i] != '\0'; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			break;
	if (id == NULL || id[i] != '\0' || i != CC_AUTH_TOKEN_ID_LEN) {
		cc_diag_set(diag, "a token id is %d lowercase hex characters "
		    "(see `token list`)", CC_AUTH_TOKEN_ID_LEN);
		return CC_ERR_FORMAT;
	}
	c.sql = "DELETE FROM tokens WHERE user = ?1 AND " AUTH_TOKEN_ID_SQL
	    " = ?2";
	c.text[0] = name;
	c.text[1] = id;
	c.event = "user.token-revoked";
	c.detail = json_pack("{s:s,s:s}", "user", name, "token", id);
	/* 48 bits of a hash: two tokens of one user never share them. */
	r = auth_change(s, &c, &changes, diag);
	if (r == 0 && changes != 1) {
		cc_diag_set(diag, "%s has no token %s", name, id);
		r = CC_ERR_NOT_FOUND;
	}
	return r;
}

int
cc_auth_node_add(struct cc_agg_store *s, const char *id, const char *sector,
    time_t now, struct cc_diag *diag)
{
	struct auth_change c = { 0 };
	int r, changes;

	if (id == NULL || !cc_query_node_id_valid(id, strlen(id))) {
		cc_diag_set(diag, "a node id is 1 to %d characters from a-z, 0-9 "
		    "and '-' (the CN of its certificate)", CC_LIMIT_NODE_ID);
		return CC_ERR_FORMAT;
	}
	if (cc_sector_check(sector) != 0) {
		cc_diag_set(diag, "the sector is school, social, health or other");
		return CC_ERR_FORMAT;
	}
	c.sql = "INSERT INTO nodes (id, sector, enabled, added) VALUES (?, ?, 1, ?)";
	c.text[0] = id;
	c.text[1] = sector;
	c.has_int = true;
	c.number = (int64_t)now;
	c.event = "node.added";
	c.detail = json_pack("{s:s,s:s}", "node", id, "sector", sector);
	r = auth_change(s, &c, &changes, diag);
	if (r == CC_ERR_EXISTS)
		cc_diag_set(diag, "node %s already exists", id);
	return r;
}

int
cc_auth_node_set_enabled(struct cc_agg_store *s, const char *id, bool enabled,
    struct cc_diag *diag)
{
	struct auth_change c = { 0 };
	int r, changes;

	if (id == NULL || !cc_query_node_id_valid(id, strlen(id))) {
		cc_diag_set(diag, "no such node");
		return CC_ERR_NOT_FOUND;
	}
	c.sql = "UPDATE nodes SET enabled = ?2 WHERE id = ?1";
	c.text[0] = id;
	c.has_int = true;
	c.number = enabled ? 1 : 0;
	c.event = enabled ? "node.enabled" : "node.disabled";
	c.detail = json_pack("{s:s}", "node", id);
	r = auth_change(s, &c, &changes, diag);
	if (r == 0 && changes == 0) {
		cc_diag_set(diag, "no node %s", id);
		r = CC_ERR_NOT_FOUND;
	}
	return r;
}

/* One node of cc_auth_node_list; a catalogue that is not an object is null. */
static int
auth_node_row(json_t **ret_row, sqlite3_stmt *st)
{
	const char *text = (const char *)sqlite3_column_text(st, 5);
	json_t *cat;

	cat = text != NULL ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) :
	    NULL;
	if (cat != NULL && !json_is_object(cat)) {
		json_decref(cat);
		cat = NULL;
	}
	*ret_row = json_pack("{s:s?,s:s?,s:b,s:o,s:o,s:o}",
	    "id", (const char *)sqlite3_column_text(st, 0),
	    "sector", (const char *)sqlite3_column_text(st, 1),
	    "enabled", sqlite3_column_int(st, 2) == 1,
	    "added", auth_json_time(st, 3),
	    "last_seen", auth_json_time(st, 4),
	    "catalogue", cat != NULL ? cat : json_null());
	return *ret_row != NULL ? 0 : CC_ERR_ALLOC;
}

int
cc_auth_node_list(struct cc_agg_store *s, bool enabled_only, json_t **ret_nodes,
    struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	int r;

	*ret_nodes = NULL;
	if ((r = cc_agg_store_prepare(s, &st, enabled_only ?
	    "SELECT id, sector, enabled, added, last_seen, catalogue FROM nodes "
	    "WHERE enabled = 1 ORDER BY id" :
	    "SELECT id, sector, enabled, added, last_seen, catalogue FROM nodes "
	    "ORDER BY id", diag)) != 0)
		return r;
	r = cc_agg_store_rows(s, st, auth_node_row, ret_nodes, diag);
	sqlite3_finalize(st);
	return r;
}
