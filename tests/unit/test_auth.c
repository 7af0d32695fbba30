/*
 * Unit tests: who is calling (aggregator/auth.c) and the user endpoints
 * (aggregator/api_user.c). The store functions are called directly on one
 * connection; real HTTPS requests (libcurl, mutual TLS with certificates
 * from deploy/pki) go to a server on loopback that uses the authorizer
 * and its own connection, like `serve`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/sha.h>
#include <sodium.h>

#include "aggregator/app.h"
#include "aggregator/audit.h"
#include "aggregator/auth.h"
#include "aggregator/config.h"
#include "aggregator/login.h"
#include "aggregator/server.h"
#include "aggregator/store.h"
#include "protocol/ini.h"

#define PW "correct horse battery"

static char tmpdir[64];
static char url[64];
static struct cc_app app;
static struct cc_agg_store *db;          /* the test's own connection */
static pthread_t loop_thread;
static struct cc_route *routes;

/* ---- the server ---------------------------------------------------------- */

static void
h_who(struct cc_request *req, void *ctx)
{
	const struct cc_caller *c = cc_request_caller(req);

	(void)ctx;
	cc_reply_json(req, 200, json_pack("{s:s,s:s,s:b}", "user", c->username,
	    "node", c->node_id, "via_session", c->via_session));
}

static void
h_stop(struct cc_request *req, void *ctx)
{
	struct timeval flush = { 0, 200000 };

	(void)ctx;
	cc_reply_empty(req, 204);
	/* Give the answer time to leave before the loop ends. */
	event_base_loopexit(app.base, &flush);
}

static const struct cc_route test_routes[] = {
	{ "POST", "/api/v1/test/analyst", CC_ACCESS_ANALYST, h_who },
	{ "GET", "/api/v1/test/auditor", CC_ACCESS_AUDITOR, h_who },
	{ "DELETE", "/api/v1/test/user", CC_ACCESS_USER, h_who },
	{ "GET", "/api/v1/node/whoami", CC_ACCESS_NODE, h_who },
	{ "POST", "/api/v1/test/stop", CC_ACCESS_PUBLIC, h_stop },
};

static void *
loop_main(void *arg)
{
	(void)arg;
	event_base_dispatch(app.base);
	return NULL;
}

static int
run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int
group_setup(void **state)
{
	struct cc_server_options opt = { 0 };
	struct cc_diag d = { "" };
	char path[256], cert[128], key[128], ca[128];
	size_t nuser = cc_api_user_nroutes, ntest;

	(void)state;
	if (sodium_init() < 0)
		return -1;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cc-auth-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	if (run("P=%s/deploy/pki; $P init %s/pki >/dev/null && "
	    "$P server %s/pki agg >/dev/null && $P node %s/pki skola >/dev/null && "
	    "$P node %s/pki bup >/dev/null && $P init %s/other >/dev/null && "
	    "$P node %s/other skola >/dev/null", CC_SOURCE_ROOT, tmpdir, tmpdir,
	    tmpdir, tmpdir, tmpdir, tmpdir) != 0)
		return -1;
	snprintf(cert, sizeof(cert), "%s/pki/server/agg.crt", tmpdir);
	snprintf(key, sizeof(key), "%s/pki/server/agg.key", tmpdir);
	snprintf(ca, sizeof(ca), "%s/pki/ca.crt", tmpdir);
	if (cc_agg_config_write_new(tmpdir, cert, key, ca, 0, &d) != 0 ||
	    cc_agg_config_load(&app.cfg, tmpdir, &d) != 0) {
		fprintf(stderr, "config: %s\n", d.text);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/aggregator.db", tmpdir);
	if (cc_agg_store_open(&db, path, true, &d) != 0 ||
	    cc_agg_store_open(&app.store, path, false, &d) != 0) {
		fprintf(stderr, "store: %s\n", d.text);
		return -1;
	}
	ntest = sizeof(test_routes) / sizeof(test_routes[0]);
	if ((routes = calloc(nuser + ntest, sizeof(*routes))) == NULL)
		return -1;
	memcpy(routes, cc_api_user_routes, nuser * sizeof(*routes));
	memcpy(routes + nuser, test_routes, ntest * sizeof(*routes));
	opt.listen_address = "127.0.0.1";
	opt.cert_file = cert;
	opt.key_file = key;
	opt.ca_file = ca;
	if ((app.base = event_base_new()) == NULL ||
	    cc_server_new(&app.server, app.base, &opt, routes, nuser + ntest,
	    cc_auth_authorize, &app, &d) != 0 ||
	    cc_login_new(&app.login, &app, &d) != 0) {
		fprintf(stderr, "server: %s\n", d.text);
		return -1;
	}
	snprintf(url, sizeof(url), "https://127.0.0.1:%u",
	    cc_server_port(app.server));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return pthread_create(&loop_thread, NULL, loop_main, NULL);
}

/* ---- an HTTPS request ---------------------------------------------------- */

struct reply {
	long status;
	char body[8192];
	size_t len;
	char cookie[256];        /* the Set-Cookie header's value */
	char retry_after[32];
	json_t *json;
};

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t len = size * n;

	if (len > sizeof(r->body) - 1 - r->len)
		return 0;
	memcpy(r->body + r->len, data, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

static void
header_value(const char *line, size_t len, const char *name, char *out,
    size_t cap)
{
	size_t n = strlen(name), v;

	if (len <= n + 1 || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return;
	line += n + 1;
	len -= n + 1;
	while (len > 0 && *line == ' ') {
		line++;
		len--;
	}
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	v = len < cap - 1 ? len : cap - 1;
	memcpy(out, line, v);
	out[v] = '\0';
}

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;

	header_value(data, size * n, "Set-Cookie", r->cookie, sizeof(r->cookie));
	header_value(data, size * n, "Retry-After", r->retry_after,
	    sizeof(r->retry_after));
	return size * n;
}

struct call {
	const char *method;
	const char *path;
	const char *body;         /* JSON text or NULL */
	const char *ctype;        /* default application/json when body */
	const char *cookie;       /* cc_session value */
	const char *csrf;
	const char *bearer;
	const char *node;         /* client certificate: pki/nodes/NODE */
	const char *pki;          /* "pki" (default) or "other" */
};

/* Returns the curl result; *r gets the answer (r->json parsed if JSON). */
static CURLcode
http(const struct call *c, struct reply *r)
{
	struct curl_slist *h = NULL;
	char line[512], ca[128], cert[128], key[128], full[256];
	CURL *curl;
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	assert_non_null(curl = curl_easy_init());
	snprintf(full, sizeof(full), "%s%s", url, c->path);
	snprintf(ca, sizeof(ca), "%s/pki/ca.crt", tmpdir);
	curl_easy_setopt(curl, CURLOPT_URL, full);
	curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, c->method);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
	if (c->node != NULL) {
		snprintf(cert, sizeof(cert), "%s/%s/nodes/%s.crt", tmpdir,
		    c->pki != NULL ? c->pki : "pki", c->node);
		snprintf(key, sizeof(key), "%s/%s/nodes/%s.key", tmpdir,
		    c->pki != NULL ? c->pki : "pki", c->node);
		curl_easy_setopt(curl, CURLOPT_SSLCERT, cert);
		curl_easy_setopt(curl, CURLOPT_SSLKEY, key);
	}
	if (c->body != NULL) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, c->body);
		snprintf(line, sizeof(line), "Content-Type: %s",
		    c->ctype != NULL ? c->ctype : "application/json");
		h = curl_slist_append(h, line);
	}
	if (c->cookie != NULL) {
		snprintf(line, sizeof(line), "cc_session=%s", c->cookie);
		curl_easy_setopt(curl, CURLOPT_COOKIE, line);
	}
	if (c->csrf != NULL) {
		snprintf(line, sizeof(line), "X-CSRF-Token: %s", c->csrf);
		h = curl_slist_append(h, line);
	}
	if (c->bearer != NULL) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", c->bearer);
		h = curl_slist_append(h, line);
	}
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(curl);
	if (r->len > 0)
		r->json = json_loads(r->body, 0, NULL);
	return rc;
}

/* A request that must succeed at the TLS level; returns the status. */
static long
status_of(const struct call *c)
{
	struct reply r;
	long s;

	assert_int_equal(http(c, &r), CURLE_OK);
	s = r.status;
	json_decref(r.json);
	return s;
}

static const char *
error_code(const struct reply *r)
{
	return json_string_value(json_object_get(json_object_get(r->json,
	    "error"), "code"));
}

static int
group_teardown(void **state)
{
	/* A POST without a body would leave evhttp waiting for one. */
	struct call c = { "POST", "/api/v1/test/stop", "{}", NULL, NULL, NULL,
	    NULL, NULL, NULL };

	(void)state;
	status_of(&c);
	pthread_join(loop_thread, NULL);
	cc_login_free(app.login);
	cc_server_free(app.server);
	event_base_free(app.base);
	cc_agg_store_close(app.store);
	cc_agg_store_close(db);
	free(routes);
	curl_global_cleanup();
	run("rm -rf %s", tmpdir);
	return 0;
}

/* ---- helpers on the store ------------------------------------------------ */

static int64_t
count_rows(const char *sql, const char *arg)
{
	sqlite3_stmt *st = NULL;
	int64_t n;

	assert_int_equal(cc_agg_store_prepare(db, &st, sql, NULL), 0);
	if (arg != NULL)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void
add_user(const char *name, enum cc_role role)
{
	struct cc_diag d = { "" };

	if (cc_auth_user_add(db, name, role, PW, time(NULL), &d) != 0)
		fail_msg("user add %s: %s", name, d.text);
}

static void
login(const char *name, struct cc_auth_session *s)
{
	struct cc_diag d = { "" };

	if (cc_auth_login(db, name, PW, time(NULL), 8, s, NULL, &d) != 0)
		fail_msg("login %s: %s", name, d.text);
}

/* ---- tests: the store functions ------------------------------------------ */

static void
passwords_are_argon2id_and_names_checked(void **state)
{
	struct cc_diag d = { "" };
	sqlite3_stmt *st = NULL;
	const char *hash;

	(void)state;
	assert_int_equal(cc_auth_user_add(db, "Anna", CC_ROLE_ANALYST, PW, 1, &d),
	    CC_ERR_FORMAT);
	assert_int_equal(cc_auth_user_add(db, "-anna", CC_ROLE_ANALYST, PW, 1, &d),
	    CC_ERR_FORMAT);
	assert_int_equal(cc_auth_user_add(db, "", CC_ROLE_ANALYST, PW, 1, &d),
	    CC_ERR_FORMAT);
	assert_int_equal(cc_auth_user_add(db, "a b", CC_ROLE_ANALYST, PW, 1, &d),
	    CC_ERR_FORMAT);
	assert_int_equal(cc_auth_user_add(db, "anna", CC_ROLE_NONE, PW, 1, &d),
	    CC_ERR_FORMAT);
	assert_int_equal(cc_auth_user_add(db, "anna", CC_ROLE_ANALYST, "short",
	    1, &d), CC_ERR_FORMAT);
	assert_non_null(strstr(d.text, "10 to 256 bytes"));
	{
		char big[CC_LIMIT_PASSWORD + 2];

		memset(big, 'p', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(cc_auth_user_add(db, "anna", CC_ROLE_ANALYST, big,
		    1, &d), CC_ERR_FORMAT);
		big[CC_LIMIT_PASSWORD] = '\0';      /* exactly the limit */
		assert_int_equal(cc_auth_user_add(db, "long.pw", CC_ROLE_ANALYST,
		    big, 1, &d), 0);
	}
	add_user("anna", CC_ROLE_ANALYST);
	assert_int_equal(cc_auth_user_add(db, "anna", CC_ROLE_ADMIN, PW, 1, &d),
	    CC_ERR_EXISTS);
	assert_int_equal(cc_auth_username_check(
	    "a234567890123456789012345678901234567890123456789012345678901234"),
	    0);
	assert_int_equal(cc_auth_username_check(
	    "a2345678901234567890123456789012345678901234567890123456789012345"),
	    CC_ERR_FORMAT);

	/* Stored as an argon2id string that does not hold the password. */
	assert_int_equal(cc_agg_store_prepare(db, &st,
	    "SELECT pwhash FROM users WHERE name = 'anna'", NULL), 0);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	hash = (const char *)sqlite3_column_text(st, 0);
	assert_int_equal(strncmp(hash, "$argon2id$", 10), 0);
	assert_null(strstr(hash, PW));
	assert_int_equal(crypto_pwhash_str_verify(hash, PW, strlen(PW)), 0);
	sqlite3_finalize(st);
	assert_int_equal(count_rows("SELECT count(*) FROM audit WHERE event = "
	    "'user.added'", NULL), 2);
}

static void
login_sessions_are_hashed(void **state)
{
	struct cc_auth_session s, s2;
	struct cc_diag d = { "" }, d2 = { "" };
	uint8_t h[SHA256_DIGEST_LENGTH];
	sqlite3_stmt *st = NULL;
	time_t now = time(NULL);

	(void)state;
	add_user("bertil", CC_ROLE_AUDITOR);
	assert_int_equal(cc_auth_login(db, "bertil", PW, now, 8, &s, NULL, &d), 0);
	assert_string_equal(s.username, "bertil");
	assert_int_equal(s.role, CC_ROLE_AUDITOR);
	assert_int_equal(strlen(s.cookie), 64);
	assert_int_equal(strlen(s.csrf), 64);
	assert_int_equal(strspn(s.cookie, "0123456789abcdef"), 64);
	assert_true(s.expires == now + 8 * 3600);
	login("bertil", &s2);
	assert_string_not_equal(s.cookie, s2.cookie);
	assert_string_not_equal(s.csrf, s2.csrf);

	/* Only SHA-256 of the cookie value is stored. */
	SHA256((const unsigned char *)s.cookie, 64, h);
	assert_int_equal(cc_agg_store_prepare(db, &st,
	    "SELECT count(*) FROM sessions WHERE id_hash = ?", NULL), 0);
	sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 1);
	sqlite3_finalize(st);
	assert_int_equal(count_rows("SELECT count(*) FROM sessions WHERE "
	    "hex(id_hash) LIKE '%' || upper(?) || '%'", s.cookie), 0);

	/* Wrong password, unknown user, no password: the same answer. */
	assert_int_equal(cc_auth_login(db, "bertil", "wrong password!", now, 8,
	    &s2, NULL, &d), CC_ERR_AUTH);
	assert_int_equal(cc_auth_login(db, "nobody", PW, now, 8, &s2, NULL, &d2),
	    CC_ERR_AUTH);
	assert_string_equal(d.text, d2.text);
	assert_int_equal(s2.cookie[0], '\0');
	assert_int_equal(cc_auth_login(db, "bertil", "", now, 8, &s2, NULL, &d2),
	    CC_ERR_AUTH);
	assert_int_equal(cc_auth_login(db, "BERTIL", PW, now, 8, &s2, NULL, &d2),
	    CC_ERR_AUTH);
	assert_string_equal(d.text, d2.text);

	/* Disabled: refused alike, sessions ended; enabled again: fine. */
	assert_int_equal(cc_auth_user_set_enabled(db, "bertil", false, &d), 0);
	assert_int_equal(count_rows("SELECT count(*) FROM sessions WHERE user = ?",
	    "bertil"), 0);
	assert_int_equal(cc_auth_login(db, "bertil", PW, now, 8, &s2, NULL, &d2),
	    CC_ERR_AUTH);
	assert_string_equal(d.text, d2.text);
	assert_int_equal(cc_auth_user_set_enabled(db, "bertil", true, &d), 0);
	login("bertil", &s2);
	assert_int_equal(cc_auth_user_set_enabled(db, "nobody", false, &d),
	    CC_ERR_NOT_FOUND);

	/* A new password works, the old one does not, sessions end. */
	assert_int_equal(cc_auth_user_passwd(db, "bertil", "another secret pw",
	    &d), 0);
	assert_int_equal(count_rows("SELECT count(*) FROM sessions WHERE user = ?",
	    "bertil"), 0);
	assert_int_equal(cc_auth_login(db, "bertil", PW, now, 8, &s2, NULL, &d),
	    CC_ERR_AUTH);
	assert_int_equal(cc_auth_login(db, "bertil", "another secret pw", now, 8,
	    &s2, NULL, &d), 0);
	assert_int_equal(cc_auth_user_passwd(db, "bertil", "short", &d),
	    CC_ERR_FORMAT);
	assert_int_equal(cc_auth_user_passwd(db, "nobody", PW, &d),
	    CC_ERR_NOT_FOUND);
	assert_int_equal(cc_auth_user_passwd(db, "bertil", PW, &d), 0);

	/* Logout removes exactly that session. */
	login("bertil", &s);
	login("bertil", &s2);
	assert_int_equal(cc_auth_logout(db, s.cookie, &d), 0);
	assert_int_equal(count_rows("SELECT count(*) FROM sessions WHERE user = ?",
	    "bertil"), 1);
	assert_int_equal(cc_auth_logout(db, "not-a-session", &d), 0);
}

static void
login_rate_limit_grows(void **state)
{
	struct cc_auth_session s;
	struct cc_diag d = { "" };
	time_t t0 = time(NULL);
	long wait = 0;
	int i;

	(void)state;
	add_user("cecilia", CC_ROLE_ANALYST);
	for (i = 0; i < CC_AUTH_FREE_FAILURES; i++)
		assert_int_equal(cc_auth_login(db, "cecilia", "wrong password",
		    t0, 8, &s, &wait, &d), CC_ERR_AUTH);
	/* Now even the right password is refused, without being checked. */
	assert_int_equal(cc_auth_login(db, "cecilia", PW, t0 + 1, 8, &s, &wait,
	    &d), CC_ERR_LIMIT);
	assert_int_equal(wait, CC_AUTH_DELAY_BASE - 1);
	assert_non_null(strstr(d.text, "try again in 29 seconds"));
	assert_int_equal(s.cookie[0], '\0');
	/* After the delay one more try; a failure doubles the delay. */
	assert_int_equal(cc_auth_login(db, "cecilia", "wrong password",
	    t0 + CC_AUTH_DELAY_BASE, 8, &s, &wait, &d), CC_ERR_AUTH);
	assert_int_equal(cc_auth_login(db, "cecilia", PW, t0 + CC_AUTH_DELAY_BASE,
	    8, &s, &wait, &d), CC_ERR_LIMIT);
	assert_int_equal(wait, 2 * CC_AUTH_DELAY_BASE);
	/* Success resets the count. */
	assert_int_equal(cc_auth_login(db, "cecilia", PW,
	    t0 + 3 * CC_AUTH_DELAY_BASE, 8, &s, &wait, &d), 0);
	assert_int_equal(count_rows("SELECT count(*) FROM login_failures WHERE "
	    "name = ?", "cecilia"), 0);
	/* The delay never exceeds the maximum, however many failures. */
	assert_int_equal(sqlite3_exec(cc_agg_store_db(db), "INSERT INTO "
	    "login_failures (name, count, last) VALUES ('cecilia', 1000, 0)",
	    NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(cc_auth_login(db, "cecilia", PW, 10, 8, &s, &wait, &d),
	    CC_ERR_LIMIT);
	assert_int_equal(wait, CC_AUTH_DELAY_MAX - 10);
	assert_int_equal(cc_auth_login(db, "cecilia", PW, CC_AUTH_DELAY_MAX, 8,
	    &s, &wait, &d), 0);
	/* An unknown name is limited the same way: no way to tell them apart. */
	for (i = 0; i < CC_AUTH_FREE_FAILURES; i++)
		assert_int_equal(cc_auth_login(db, "ghost", PW, t0, 8, &s, &wait,
		    &d), CC_ERR_AUTH);
	assert_int_equal(cc_auth_login(db, "ghost", PW, t0, 8, &s, &wait, &d),
	    CC_ERR_LIMIT);
}

static void
tokens_are_shown_once_and_hashed(void **state)
{
	char tok[CC_AUTH_TOKEN_LEN + 1], tok2[CC_AUTH_TOKEN_LEN + 1];
	struct cc_diag d = { "" };
	uint8_t h[SHA256_DIGEST_LENGTH];
	sqlite3_stmt *st = NULL;
	json_t *users = NULL, *u;
	size_t i;

	(void)state;
	add_user("dora", CC_ROLE_ANALYST);
	assert_int_equal(cc_auth_token_create(db, "dora", "ci", 1, tok, &d), 0);
	assert_int_equal(strlen(tok), CC_AUTH_TOKEN_LEN);
	assert_int_equal(strncmp(tok, "cct_", 4), 0);
	assert_int_equal(strspn(tok + 4, "0123456789abcdef"), 64);
	assert_int_equal(cc_auth_token_create(db, "dora", NULL, 1, tok2, &d), 0);
	assert_string_not_equal(tok, tok2);
	SHA256((const unsigned char *)tok, strlen(tok), h);
	assert_int_equal(cc_agg_store_prepare(db, &st, "SELECT user, label FROM "
	    "tokens WHERE id_hash = ?", NULL), 0);
	sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "dora");
	assert_string_equal((const char *)sqlite3_column_text(st, 1), "ci");
	sqlite3_finalize(st);

	assert_int_equal(cc_auth_token_create(db, "nobody", "x", 1, tok2, &d),
	    CC_ERR_NOT_FOUND);
	assert_int_equal(tok2[0], '\0');
	assert_int_equal(cc_auth_token_create(db, "dora", "a\nb", 1, tok2, &d),
	    CC_ERR_FORMAT);
	{
		char label[CC_AUTH_LABEL_MAX + 2];

		memset(label, 'l', sizeof(label) - 1);
		label[sizeof(label) - 1] = '\0';
		assert_int_equal(cc_auth_token_create(db, "dora", label, 1, tok2,
		    &d), CC_ERR_FORMAT);
	}
	assert_int_equal(cc_auth_user_list(db, &users, &d), 0);
	json_array_foreach(users, i, u) {
		if (strcmp(json_string_value(json_object_get(u, "name")), "dora") == 0) {
			assert_int_equal(json_integer_value(json_object_get(u,
			    "tokens")), 2);
			assert_string_equal(json_string_value(json_object_get(u,
			    "role")), "analyst");
			assert_true(json_is_true(json_object_get(u, "enabled")));
			assert_int_equal(strlen(json_string_value(json_object_get(u,
			    "created"))), strlen("2026-11-22T12:00:00Z"));
		}
	}
	json_decref(users);
	assert_int_equal(count_rows("SELECT count(*) FROM audit WHERE event = "
	    "'user.token-created'", NULL), 2);

	/* Listed by the start of their hash; revoked by it. */
	{
		json_t *tokens = NULL;
		char id[2 * SHA256_DIGEST_LENGTH + 1];

		assert_int_equal(cc_auth_token_list(db, "dora", &tokens, &d), 0);
		assert_int_equal(json_array_size(tokens), 2);
		sodium_bin2hex(id, sizeof(id), h, sizeof(h));
		id[CC_AUTH_TOKEN_ID_LEN] = '\0';
		json_array_foreach(tokens, i, u) {
			assert_int_equal(strlen(json_string_value(
			    json_object_get(u, "id"))), CC_AUTH_TOKEN_ID_LEN);
			if (strcmp(json_string_value(json_object_get(u, "label")),
			    "ci") == 0)
				assert_string_equal(json_string_value(
				    json_object_get(u, "id")), id);
		}
		json_decref(tokens);
		assert_int_equal(cc_auth_token_list(db, "nobody", &tokens, &d),
		    CC_ERR_NOT_FOUND);
		assert_null(tokens);
		assert_int_equal(cc_auth_token_revoke(db, "dora", "ABCDEF123456",
		    &d), CC_ERR_FORMAT);
		assert_int_equal(cc_auth_token_revoke(db, "dora", "abc", &d),
		    CC_ERR_FORMAT);
		assert_int_equal(cc_auth_token_revoke(db, "dora", "000000000000",
		    &d), CC_ERR_NOT_FOUND);
		assert_int_equal(cc_auth_token_revoke(db, "nobody", id, &d),
		    CC_ERR_NOT_FOUND);
		assert_int_equal(cc_auth_token_revoke(db, "dora", id, &d), 0);
		assert_int_equal(cc_auth_token_revoke(db, "dora", id, &d),
		    CC_ERR_NOT_FOUND);
		assert_int_equal(count_rows("SELECT count(*) FROM tokens WHERE "
		    "user = 'dora'", NULL), 1);
		assert_int_equal(count_rows("SELECT count(*) FROM audit WHERE "
		    "event = 'user.token-revoked'", NULL), 1);
	}
}

static void
node_registry(void **state)
{
	struct cc_diag d = { "" };
	json_t *nodes = NULL;
	int64_t count = 0, bad = 1;

	(void)state;
	assert_int_equal(cc_auth_node_add(db, "Skola", "school", 1, &d),
	    CC_ERR_FORMAT);
	assert_int_equal(cc_auth_node_add(db, "skola", "skolan", 1, &d),
	    CC_ERR_FORMAT);
	assert_int_equal(cc_auth_node_add(db, "abcdefghijklmnopqrstuvwxyz0123456",
	    "school", 1, &d), CC_ERR_FORMAT);
	assert_int_equal(cc_auth_node_add(db, "skola", "school", 1, &d), 0);
	assert_int_equal(cc_auth_node_add(db, "skola", "health", 1, &d),
	    CC_ERR_EXISTS);
	assert_non_null(strstr(d.text, "already exists"));
	assert_int_equal(cc_auth_node_add(db, "bup", "health", 2, &d), 0);
	assert_int_equal(cc_auth_node_add(db, "soc", "social", 3, &d), 0);
	assert_int_equal(cc_auth_node_set_enabled(db, "soc", false, &d), 0);
	assert_int_equal(cc_auth_node_set_enabled(db, "nope", false, &d),
	    CC_ERR_NOT_FOUND);
	assert_int_equal(cc_auth_node_list(db, false, &nodes, &d), 0);
	assert_int_equal(json_array_size(nodes), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    nodes, 0), "id")), "bup");
	assert_true(json_is_false(json_object_get(json_array_get(nodes, 2),
	    "enabled")));
	assert_true(json_is_null(json_object_get(json_array_get(nodes, 0),
	    "last_seen")));
	json_decref(nodes);
	assert_int_equal(cc_auth_node_list(db, true, &nodes, &d), 0);
	assert_int_equal(json_array_size(nodes), 2);
	json_decref(nodes);
	/* Every change is in the audit log, and the chain holds. */
	assert_int_equal(count_rows("SELECT count(*) FROM audit WHERE event LIKE "
	    "'node.%'", NULL), 4);
	assert_int_equal(cc_audit_verify(db, &count, &bad, &d), 0);
	assert_int_equal(bad, 0);
	assert_true(count > 0);
}

/* ---- tests: over HTTPS --------------------------------------------------- */

/* Sign in over HTTP; the cookie value and csrf are copied out. */
static void
http_login(const char *name, char cookie[65], char csrf[65])
{
	struct call c = { "POST", "/api/v1/session", NULL, NULL, NULL, NULL,
	    NULL, NULL, NULL };
	char body[256];
	struct reply r;

	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\"}",
	    name, PW);
	c.body = body;
	assert_int_equal(http(&c, &r), CURLE_OK);
	if (r.status != 200)
		fail_msg("login %s: %ld %s", name, r.status, r.body);
	assert_int_equal(strncmp(r.cookie, "cc_session=", 11), 0);
	memcpy(cookie, r.cookie + 11, 64);
	cookie[64] = '\0';
	assert_string_equal(r.cookie + 75, "; Secure; HttpOnly; SameSite=Strict; "
	    "Path=/");
	assert_string_equal(json_string_value(json_object_get(r.json, "username")),
	    name);
	memcpy(csrf, json_string_value(json_object_get(r.json, "csrf")), 65);
	assert_int_equal(strlen(csrf), 64);
	json_decref(r.json);
}

static void
http_login_answers(void **state)
{
	struct call c = { "POST", "/api/v1/session", NULL, NULL, NULL, NULL,
	    NULL, NULL, NULL };
	struct reply r, r2;
	unsigned long wait;
	char body[256];

	(void)state;
	add_user("erik", CC_ROLE_ANALYST);
	snprintf(body, sizeof(body), "{\"username\":\"erik\",\"password\":\"%s\"}",
	    PW);
	/* Not declared as JSON: a cross-site form cannot sign anyone in. */
	c.body = body;
	c.ctype = "application/x-www-form-urlencoded";
	assert_int_equal(status_of(&c), 400);
	c.ctype = NULL;
	/* Malformed JSON, unknown and missing fields, wrong types: 400. */
	c.body = "{\"username\":";
	assert_int_equal(http(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 400);
	assert_string_equal(error_code(&r), "bad_request");
	json_decref(r.json);
	c.body = "{\"username\":\"erik\",\"password\":\"x\",\"remember\":true}";
	assert_int_equal(status_of(&c), 400);
	c.body = "{\"username\":\"erik\"}";
	assert_int_equal(status_of(&c), 400);
	c.body = "{\"username\":\"erik\",\"password\":5}";
	assert_int_equal(status_of(&c), 400);
	c.body = "{\"username\":\"erik\",\"password\":\"a\\u0000b\"}";
	assert_int_equal(status_of(&c), 400);
	/* Wrong password and unknown user: the very same 401. */
	c.body = "{\"username\":\"erik\",\"password\":\"not the password\"}";
	assert_int_equal(http(&c, &r), CURLE_OK);
	c.body = "{\"username\":\"nobody\",\"password\":\"not the password\"}";
	assert_int_equal(http(&c, &r2), CURLE_OK);
	assert_int_equal(r.status, 401);
	assert_int_equal(r2.status, 401);
	assert_string_equal(r.body, r2.body);
	assert_string_equal(error_code(&r), "unauthenticated");
	assert_string_equal(r.cookie, "");
	json_decref(r.json);
	json_decref(r2.json);
	/* Rate limited: 429 with Retry-After. */
	c.body = "{\"username\":\"nobody\",\"password\":\"not the password\"}";
	status_of(&c);
	status_of(&c);
	status_of(&c);
	status_of(&c);
	assert_int_equal(http(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 429);
	assert_string_equal(error_code(&r), "too_many_requests");
	assert_int_equal(cc_ini_parse_uint(r.retry_after, 1, CC_AUTH_DELAY_MAX,
	    &wait), 0);
	json_decref(r.json);
	/* The right password: 200 with the cookie (checked in http_login). */
	c.body = body;
	assert_int_equal(http(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "role")),
	    "analyst");
	json_decref(r.json);
}

/*
 * Sign-ins are checked off the event loop one at a time, and each one's
 * rate limit is looked up after the one before it counted its failure:
 * wrong passwords for one name sent at once meet the limit exactly as if
 * they had come one by one (login.h). Sent in waves of
 * CC_LOGIN_PER_ADDRESS, as many as one address may have waiting: none is
 * turned away, exactly CC_AUTH_FREE_FAILURES get 401 and the rest 429.
 */
#define WAVE CC_LOGIN_PER_ADDRESS
#define WAVES 2

static size_t
discard(char *data, size_t size, size_t n, void *arg)
{
	(void)data;
	(void)arg;
	return size * n;
}

/* WAVE wrong sign-ins for greta at once; counts the answers by status. */
static void
login_wave(int *n401, int *n429, int *nother)
{
	const char *wrong = "{\"username\":\"greta\",\"password\":\"not it\"}";
	struct curl_slist *h;
	CURLM *multi;
	CURL *e[WAVE];
	char ca[128], full[256];
	long st;
	int running, i;

	snprintf(full, sizeof(full), "%s/api/v1/session", url);
	snprintf(ca, sizeof(ca), "%s/pki/ca.crt", tmpdir);
	assert_non_null(h = curl_slist_append(NULL,
	    "Content-Type: application/json"));
	assert_non_null(multi = curl_multi_init());
	for (i = 0; i < WAVE; i++) {
		assert_non_null(e[i] = curl_easy_init());
		curl_easy_setopt(e[i], CURLOPT_URL, full);
		curl_easy_setopt(e[i], CURLOPT_CAINFO, ca);
		curl_easy_setopt(e[i], CURLOPT_TIMEOUT, 60L);
		curl_easy_setopt(e[i], CURLOPT_POSTFIELDS, wrong);
		curl_easy_setopt(e[i], CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(e[i], CURLOPT_WRITEFUNCTION, discard);
		curl_multi_add_handle(multi, e[i]);
	}
	do {
		assert_int_equal(curl_multi_perform(multi, &running), CURLM_OK);
		if (running > 0)
			curl_multi_poll(multi, NULL, 0, 1000, NULL);
	} while (running > 0);
	for (i = 0; i < WAVE; i++) {
		st = 0;
		curl_easy_getinfo(e[i], CURLINFO_RESPONSE_CODE, &st);
		if (st == 401)
			(*n401)++;
		else if (st == 429)
			(*n429)++;
		else
			(*nother)++;
		curl_multi_remove_handle(multi, e[i]);
		curl_easy_cleanup(e[i]);
	}
	curl_multi_cleanup(multi);
	curl_slist_free_all(h);
}

static void
http_login_burst(void **state)
{
	int n401 = 0, n429 = 0, nother = 0, i;

	(void)state;
	add_user("greta", CC_ROLE_ANALYST);
	for (i = 0; i < WAVES; i++)
		login_wave(&n401, &n429, &nother);
	assert_int_equal(nother, 0);
	assert_int_equal(n401, CC_AUTH_FREE_FAILURES);
	assert_int_equal(n429, WAVES * WAVE - CC_AUTH_FREE_FAILURES);
	assert_int_equal(count_rows("SELECT count FROM login_failures WHERE "
	    "name = ?", "greta"), CC_AUTH_FREE_FAILURES);
}

/*
 * The store may change while a password is checked: a `passwd` or a
 * `disable` in between wins, and no session is made (auth.h parts).
 */
static void
login_parts_see_changes(void **state)
{
	struct cc_auth_attempt *a = NULL;
	struct cc_auth_session s;
	struct cc_diag d = { "" };
	time_t now = time(NULL);

	(void)state;
	add_user("hanna", CC_ROLE_ANALYST);
	/* passwd between the check and the session. */
	assert_int_equal(cc_auth_attempt_new(&a, "hanna", PW), 0);
	assert_int_equal(cc_auth_login_begin(db, a, now, NULL, &d), 0);
	cc_auth_login_verify(a);
	assert_int_equal(cc_auth_user_passwd(db, "hanna", "a brand new pw!",
	    &d), 0);
	assert_int_equal(cc_auth_login_finish(db, a, now, 8, true, &s, &d),
	    CC_ERR_AUTH);
	cc_auth_attempt_free(a);
	assert_int_equal(count_rows("SELECT COUNT(*) FROM sessions WHERE "
	    "user = ?", "hanna"), 0);
	/* disable between the check and the session. */
	assert_int_equal(cc_auth_attempt_new(&a, "hanna", "a brand new pw!"),
	    0);
	assert_int_equal(cc_auth_login_begin(db, a, now, NULL, &d), 0);
	cc_auth_login_verify(a);
	assert_int_equal(cc_auth_user_set_enabled(db, "hanna", false, &d), 0);
	assert_int_equal(cc_auth_login_finish(db, a, now, 8, true, &s, &d),
	    CC_ERR_AUTH);
	cc_auth_attempt_free(a);
	/* A right password whose client went away: no session. */
	assert_int_equal(cc_auth_user_set_enabled(db, "hanna", true, &d), 0);
	assert_int_equal(cc_auth_attempt_new(&a, "hanna", "a brand new pw!"),
	    0);
	assert_int_equal(cc_auth_login_begin(db, a, now, NULL, &d), 0);
	cc_auth_login_verify(a);
	assert_int_equal(cc_auth_login_finish(db, a, now, 8, false, &s, &d),
	    CC_ERR_STATE);
	cc_auth_attempt_free(a);
	assert_int_equal(count_rows("SELECT COUNT(*) FROM sessions WHERE "
	    "user = ?", "hanna"), 0);
	/* And with it: one. */
	assert_int_equal(cc_auth_attempt_new(&a, "hanna", "a brand new pw!"),
	    0);
	assert_int_equal(cc_auth_login_begin(db, a, now, NULL, &d), 0);
	cc_auth_login_verify(a);
	assert_int_equal(cc_auth_login_finish(db, a, now, 8, true, &s, &d), 0);
	cc_auth_attempt_free(a);
	sodium_memzero(&s, sizeof(s));
	assert_int_equal(count_rows("SELECT COUNT(*) FROM sessions WHERE "
	    "user = ?", "hanna"), 1);
}

static void
http_cookie_sessions_need_csrf(void **state)
{
	char cookie[65], csrf[65], bad[65];
	struct call c = { "GET", "/api/v1/me", NULL, NULL, NULL, NULL, NULL,
	    NULL, NULL };
	struct cc_auth_session old;
	struct cc_diag d = { "" };
	struct reply r;

	(void)state;
	add_user("frida", CC_ROLE_ANALYST);
	http_login("frida", cookie, csrf);
	c.cookie = cookie;
	assert_int_equal(http(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "username")),
	    "frida");
	assert_string_equal(json_string_value(json_object_get(r.json, "role")),
	    "analyst");
	json_decref(r.json);

	/* A state change needs the CSRF header, exactly. */
	c.method = "POST";
	c.path = "/api/v1/test/analyst";
	c.body = "{}";
	assert_int_equal(http(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(r.body, "X-CSRF-Token"));
	json_decref(r.json);
	memcpy(bad, csrf, sizeof(bad));
	bad[63] = bad[63] == '0' ? '1' : '0';
	c.csrf = bad;
	assert_int_equal(status_of(&c), 403);
	c.csrf = "short";
	assert_int_equal(status_of(&c), 403);
	c.csrf = cookie;             /* another secret of the same length */
	assert_int_equal(status_of(&c), 403);
	c.csrf = csrf;
	assert_int_equal(http(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_true(json_is_true(json_object_get(r.json, "via_session")));
	json_decref(r.json);
	/* DELETE too. */
	c.method = "DELETE";
	c.path = "/api/v1/test/user";
	c.body = NULL;
	c.csrf = NULL;
	assert_int_equal(status_of(&c), 403);
	c.csrf = csrf;
	assert_int_equal(status_of(&c), 200);

	/* Roles: an analyst is not an auditor. */
	c.method = "GET";
	c.path = "/api/v1/test/auditor";
	assert_int_equal(http(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 403);
	assert_string_equal(error_code(&r), "forbidden");
	json_decref(r.json);

	/* A malformed or unknown cookie. */
	c.path = "/api/v1/me";
	c.cookie = "0123";
	assert_int_equal(status_of(&c), 401);
	c.cookie = csrf;
	assert_int_equal(status_of(&c), 401);

	/* Sign out: 204 (with CSRF), then the cookie is dead. */
	c.cookie = cookie;
	c.method = "DELETE";
	c.path = "/api/v1/session";
	c.csrf = NULL;
	assert_int_equal(status_of(&c), 403);
	c.csrf = csrf;
	assert_int_equal(http(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 204);
	assert_non_null(strstr(r.cookie, "Max-Age=0"));
	c.method = "GET";
	c.path = "/api/v1/me";
	assert_int_equal(status_of(&c), 401);

	/* An expired session. */
	assert_int_equal(cc_auth_login(db, "frida", PW, time(NULL) - 9 * 3600, 8,
	    &old, NULL, &d), 0);
	c.cookie = old.cookie;
	assert_int_equal(status_of(&c), 401);
	/* A disabled user's live session. */
	login("frida", &old);
	c.cookie = old.cookie;
	assert_int_equal(status_of(&c), 200);
	assert_int_equal(cc_auth_user_set_enabled(db, "frida", false, &d), 0);
	assert_int_equal(status_of(&c), 401);
	assert_int_equal(cc_auth_user_set_enabled(db, "frida", true, &d), 0);
	/* No credentials at all. */
	c.cookie = NULL;
	assert_int_equal(http(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 401);
	assert_string_equal(error_code(&r), "unauthenticated");
	json_decref(r.json);
}

static void
http_bearer_tokens_and_roles(void **state)
{
	char tok[CC_AUTH_TOKEN_LEN + 1], admin_tok[CC_AUTH_TOKEN_LEN + 1];
	struct call c = { "GET", "/api/v1/me", NULL, NULL, NULL, NULL, NULL,
	    NULL, NULL };
	struct cc_diag d = { "" };
	struct reply r;
	char saved;

	(void)state;
	add_user("gustav", CC_ROLE_AUDITOR);
	add_user("hedda", CC_ROLE_ADMIN);
	assert_int_equal(cc_auth_token_create(db, "gustav", "cli", 1, tok, &d), 0);
	assert_int_equal(cc_auth_token_create(db, "hedda", "cli", 1, admin_tok,
	    &d), 0);
	c.bearer = tok;
	assert_int_equal(http(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "role")),
	    "auditor");
	json_decref(r.json);
	c.path = "/api/v1/test/auditor";
	assert_int_equal(status_of(&c), 200);
	/* No CSRF header needed with a token, but the role still counts. */
	c.method = "POST";
	c.path = "/api/v1/test/analyst";
	c.body = "{}";
	assert_int_equal(status_of(&c), 403);
	c.bearer = admin_tok;
	assert_int_equal(http(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_false(json_is_true(json_object_get(r.json, "via_session")));
	assert_string_equal(json_string_value(json_object_get(r.json, "user")),
	    "hedda");
	json_decref(r.json);
	c.method = "GET";
	c.path = "/api/v1/test/auditor";
	c.body = NULL;
	assert_int_equal(status_of(&c), 200);

	/* Wrong, malformed and unknown tokens; a token never falls back. */
	c.path = "/api/v1/me";
	c.bearer = "cct_0000";
	assert_int_equal(status_of(&c), 401);
	saved = tok[10];
	tok[10] = saved == 'a' ? 'b' : 'a';
	c.bearer = tok;
	assert_int_equal(status_of(&c), 401);
	tok[10] = saved;
	assert_int_equal(status_of(&c), 200);
	/* A disabled user's token is refused. */
	assert_int_equal(cc_auth_user_set_enabled(db, "gustav", false, &d), 0);
	assert_int_equal(status_of(&c), 401);
	assert_int_equal(cc_auth_user_set_enabled(db, "gustav", true, &d), 0);
	assert_int_equal(status_of(&c), 200);
}

static void
http_node_certificates(void **state)
{
	struct call c = { "GET", "/api/v1/node/whoami", NULL, NULL, NULL, NULL,
	    NULL, NULL, NULL };
	char tok[CC_AUTH_TOKEN_LEN + 1];
	struct cc_diag d = { "" };
	struct reply r;

	(void)state;
	/* skola and bup were registered by node_registry (soc is disabled). */
	assert_int_equal(count_rows("SELECT count(*) FROM nodes WHERE id = "
	    "'skola' AND last_seen IS NULL", NULL), 1);
	assert_int_equal(http(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 401);
	json_decref(r.json);
	/* A user's token does not open node routes. */
	add_user("ingrid", CC_ROLE_ADMIN);
	assert_int_equal(cc_auth_token_create(db, "ingrid", "", 1, tok, &d), 0);
	c.bearer = tok;
	assert_int_equal(status_of(&c), 401);
	c.bearer = NULL;

	c.node = "skola";
	assert_int_equal(http(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "node")),
	    "skola");
	json_decref(r.json);
	assert_int_equal(count_rows("SELECT count(*) FROM nodes WHERE id = "
	    "'skola' AND last_seen IS NOT NULL", NULL), 1);
	/* Disabled: 403, enabled again: 200. */
	assert_int_equal(cc_auth_node_set_enabled(db, "skola", false, &d), 0);
	assert_int_equal(http(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 403);
	assert_non_null(strstr(r.body, "disabled"));
	json_decref(r.json);
	assert_int_equal(cc_auth_node_set_enabled(db, "skola", true, &d), 0);
	assert_int_equal(status_of(&c), 200);
	/* A certificate of a node the registry does not know. */
	assert_int_equal(cc_auth_node_set_enabled(db, "bup", false, &d), 0);
	c.node = "bup";
	assert_int_equal(status_of(&c), 403);
	assert_int_equal(cc_auth_node_set_enabled(db, "bup", true, &d), 0);
	assert_int_equal(status_of(&c), 200);
	/* A node certificate does not make a user. */
	c.path = "/api/v1/me";
	assert_int_equal(status_of(&c), 401);
	/* The same CN from another CA: the TLS handshake fails. */
	c.path = "/api/v1/node/whoami";
	c.node = "skola";
	c.pki = "other";
	assert_int_not_equal(http(&c, &r), CURLE_OK);
	json_decref(r.json);
}

static void
http_federation(void **state)
{
	struct call c = { "GET", "/api/v1/federation", NULL, NULL, NULL, NULL,
	    NULL, NULL, NULL };
	char tok[CC_AUTH_TOKEN_LEN + 1];
	struct cc_diag d = { "" };
	json_t *nodes, *n, *policy, *grids;
	struct reply r;

	(void)state;
	assert_int_equal(sqlite3_exec(cc_agg_store_db(db), "UPDATE nodes SET "
	    "catalogue = '{\"sector\":\"school\",\"categories\":[\"inskriven\","
	    "\"fr\xC3\xA5nvaro\"],\"period\":{\"from\":\"2024-01\",\"to\":"
	    "\"2025-12\"}}' WHERE id = 'skola'", NULL, NULL, NULL), SQLITE_OK);
	add_user("johan", CC_ROLE_ANALYST);
	assert_int_equal(cc_auth_token_create(db, "johan", "", 1, tok, &d), 0);
	assert_int_equal(status_of(&c), 401);
	c.bearer = tok;
	assert_int_equal(http(&c, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	nodes = json_object_get(r.json, "nodes");
	/* Enabled nodes only, by id: bup, skola (soc is disabled). */
	assert_int_equal(json_array_size(nodes), 2);
	n = json_array_get(nodes, 0);
	assert_string_equal(json_string_value(json_object_get(n, "id")), "bup");
	assert_string_equal(json_string_value(json_object_get(n, "sector")),
	    "health");
	assert_int_equal(json_array_size(json_object_get(n, "categories")), 0);
	assert_true(json_is_null(json_object_get(n, "period")));
	n = json_array_get(nodes, 1);
	assert_string_equal(json_string_value(json_object_get(n, "id")), "skola");
	assert_string_equal(json_string_value(json_array_get(json_object_get(n,
	    "categories"), 1)), "fr\xC3\xA5nvaro");
	assert_string_equal(json_string_value(json_object_get(json_object_get(n,
	    "period"), "from")), "2024-01");
	assert_true(json_is_string(json_object_get(n, "last_seen")));
	policy = json_object_get(r.json, "policy");
	assert_int_equal(json_integer_value(json_object_get(policy,
	    "min_cell_floor")), 5);
	assert_int_equal(json_integer_value(json_object_get(policy,
	    "max_period_months")), 120);
	assert_int_equal(json_integer_value(json_object_get(policy,
	    "deadline_minutes")), 60);
	grids = json_object_get(policy, "age_band_grids");
	assert_int_equal(json_array_size(grids), app.cfg.ngrids);
	assert_int_equal(json_integer_value(json_array_get(json_array_get(
	    json_array_get(grids, 0), 1), 0)), 6);
	json_decref(r.json);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(passwords_are_argon2id_and_names_checked),
		cmocka_unit_test(login_sessions_are_hashed),
		cmocka_unit_test(login_rate_limit_grows),
		cmocka_unit_test(tokens_are_shown_once_and_hashed),
		cmocka_unit_test(node_registry),
		cmocka_unit_test(http_login_answers),
		cmocka_unit_test(http_login_burst),
		cmocka_unit_test(login_parts_see_changes),
		cmocka_unit_test(http_cookie_sessions_need_csrf),
		cmocka_unit_test(http_bearer_tokens_and_roles),
		cmocka_unit_test(http_node_certificates),
		cmocka_unit_test(http_federation),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
