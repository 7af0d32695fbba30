/*
 * Unit tests: the aggregator's HTTPS server (aggregator/server.c) driven
 * by the shared client (protocol/client.c) over real mutual TLS on
 * loopback, with certificates from deploy/pki.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>
#include <sodium.h>

#include "aggregator/server.h"
#include "protocol/client.h"
#include "protocol/file.h"

static char tmpdir[64];
static char url[64];
static struct event_base *base;
static struct cc_server *server;
static pthread_t loop_thread;

static void
h_ping(struct cc_request *req, void *ctx)
{
	(void)ctx;
	cc_reply_json(req, 200, json_pack("{s:b}", "pong", 1));
}

static void
h_item(struct cc_request *req, void *ctx)
{
	(void)ctx;
	cc_reply_json(req, 200, json_pack("{s:s}", "item", cc_request_param(req, 0)));
}

static void
h_echo(struct cc_request *req, void *ctx)
{
	json_t *j;

	(void)ctx;
	if ((j = cc_request_json(req)) == NULL)
		return;
	cc_reply_json(req, 200, j);
}

static void
h_upload(struct cc_request *req, void *ctx)
{
	size_t len;

	(void)ctx;
	cc_request_body(req, &len);
	cc_reply_json(req, 200, json_pack("{s:I}", "bytes", (json_int_t)len));
}

/* The parts of an upload put together, each at its ?offset= in order. */
static uint8_t *collected;
static size_t collected_len;

static void
h_collect(struct cc_request *req, void *ctx)
{
	const char *o = cc_request_query(req, "offset");
	const uint8_t *body;
	uint8_t *grown;
	unsigned long long off;
	char *end;
	size_t len;

	(void)ctx;
	body = cc_request_body(req, &len);
	errno = 0;
	off = o != NULL ? strtoull(o, &end, 10) : 0;
	if (o == NULL || errno != 0 || end == o || *end != '\0') {
		cc_reply_error(req, 400, "no offset");
		return;
	}
	if (off == 0)
		collected_len = 0;
	if (off != collected_len) {
		cc_reply_error(req, 409, "offset %llu, expected %zu", off,
		    collected_len);
		return;
	}
	if ((grown = realloc(collected, collected_len + len + 1)) == NULL) {
		cc_reply_error(req, 500, "out of memory");
		return;
	}
	collected = grown;
	if (len > 0)
		memcpy(collected + collected_len, body, len);
	collected_len += len;
	cc_reply_json(req, 200, json_pack("{s:I}", "bytes", (json_int_t)len));
}

static void
h_node(struct cc_request *req, void *ctx)
{
	(void)ctx;
	cc_reply_json(req, 200, json_pack("{s:s}", "node",
	    cc_request_caller(req)->node_id));
}

static void
h_user(struct cc_request *req, void *ctx)
{
	(void)ctx;
	cc_reply_json(req, 200, json_pack("{s:s}", "user",
	    cc_request_caller(req)->username));
}

static void
hold_fire(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	cc_reply_json(arg, 200, json_pack("{s:b}", "held", 1));
}

static void
h_hold(struct cc_request *req, void *ctx)
{
	struct timeval tv = { 0, 200000 };

	(void)ctx;
	cc_request_hold(req, NULL, NULL);
	event_base_once(base, -1, EV_TIMEOUT, hold_fire, req, &tv);
}

static void
h_stop(struct cc_request *req, void *ctx)
{
	(void)ctx;
	cc_reply_empty(req, 204);
	event_base_loopbreak(base);
}

/* A file larger than several pieces, sent by cc_reply_file. */
#define BIG_FILE_BYTES ((3u << 20) + 12345)

static void
h_file(struct cc_request *req, void *ctx)
{
	char path[160];

	(void)ctx;
	snprintf(path, sizeof(path), "%s/big.bin", tmpdir);
	cc_reply_file(req, "application/octet-stream", path);
}

static const struct cc_route routes[] = {
	{ "GET", "/api/v1/ping", CC_ACCESS_PUBLIC, h_ping },
	{ "GET", "/api/v1/items/*", CC_ACCESS_PUBLIC, h_item },
	{ "PUT", "/api/v1/echo", CC_ACCESS_PUBLIC, h_echo },
	{ "POST", "/api/v1/echo", CC_ACCESS_PUBLIC, h_echo },
	{ "PUT", "/api/v1/upload", CC_ACCESS_PUBLIC, h_upload },
	{ "PUT", "/api/v1/collect", CC_ACCESS_PUBLIC, h_collect },
	{ "GET", "/api/v1/node/whoami", CC_ACCESS_NODE, h_node },
	{ "GET", "/api/v1/user/whoami", CC_ACCESS_USER, h_user },
	{ "GET", "/api/v1/hold", CC_ACCESS_PUBLIC, h_hold },
	{ "POST", "/api/v1/stop", CC_ACCESS_PUBLIC, h_stop },
	{ "GET", "/api/v1/file", CC_ACCESS_PUBLIC, h_file },
};

static int
authorize(struct cc_request *req, enum cc_access access, struct cc_caller *caller,
    void *ctx)
{
	const char *auth;

	(void)ctx;
	if (access == CC_ACCESS_NODE) {
		if (!cc_request_peer_cn(req, caller->node_id, sizeof(caller->node_id))) {
			cc_reply_error(req, 401, "a node certificate is required");
			return -1;
		}
		caller->kind = CC_ACCESS_NODE;
		return 0;
	}
	auth = cc_request_header(req, "Authorization");
	if (auth == NULL || strcmp(auth, "Bearer good") != 0) {
		cc_reply_error(req, 401, "sign in first");
		return -1;
	}
	caller->kind = CC_ACCESS_USER;
	snprintf(caller->username, sizeof(caller->username), "anna");
	return 0;
}

static void *
loop_main(void *arg)
{
	(void)arg;
	event_base_dispatch(base);
	return NULL;
}

static int
run(const char *fmt, ...)
{
	char cmd[1024];
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
	char cert[128], key[128], ca[128], web[128];
	FILE *f;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cc-server-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	if (run("%s/deploy/pki init %s/pki >/dev/null && "
	    "%s/deploy/pki server %s/pki agg >/dev/null && "
	    "%s/deploy/pki node %s/pki skola >/dev/null && "
	    "%s/deploy/pki init %s/other >/dev/null && "
	    "%s/deploy/pki node %s/other skola >/dev/null && mkdir %s/web",
	    CC_SOURCE_ROOT, tmpdir, CC_SOURCE_ROOT, tmpdir, CC_SOURCE_ROOT,
	    tmpdir, CC_SOURCE_ROOT, tmpdir, CC_SOURCE_ROOT, tmpdir, tmpdir) != 0)
		return -1;
	snprintf(web, sizeof(web), "%s/web/index.html", tmpdir);
	if ((f = fopen(web, "w")) == NULL)
		return -1;
	fputs("<!doctype html><title>crosscount</title>\n", f);
	fclose(f);
	snprintf(web, sizeof(web), "%s/web", tmpdir);
	snprintf(cert, sizeof(cert), "%s/pki/server/agg.crt", tmpdir);
	snprintf(key, sizeof(key), "%s/pki/server/agg.key", tmpdir);
	snprintf(ca, sizeof(ca), "%s/pki/ca.crt", tmpdir);
	opt.listen_address = "127.0.0.1";
	opt.cert_file = cert;
	opt.key_file = key;
	opt.ca_file = ca;
	opt.web_root = web;
	if ((base = event_base_new()) == NULL ||
	    cc_server_new(&server, base, &opt, routes,
	    sizeof(routes) / sizeof(routes[0]), authorize, NULL, &d) != 0) {
		fprintf(stderr, "server: %s\n", d.text);
		return -1;
	}
	snprintf(url, sizeof(url), "https://127.0.0.1:%u", cc_server_port(server));
	cc_client_global_init();
	return pthread_create(&loop_thread, NULL, loop_main, NULL);
}

static struct cc_client *
client_as(const char *pki, const char *node, const char *token)
{
	struct cc_client_options o = { 0 };
	struct cc_client *c = NULL;
	char ca[128], cert[128], key[128];

	snprintf(ca, sizeof(ca), "%s/pki/ca.crt", tmpdir);
	snprintf(cert, sizeof(cert), "%s/%s/nodes/%s.crt", tmpdir, pki, node ? node : "");
	snprintf(key, sizeof(key), "%s/%s/nodes/%s.key", tmpdir, pki, node ? node : "");
	o.base_url = url;
	o.ca_file = ca;
	o.cert_file = node != NULL ? cert : NULL;
	o.key_file = node != NULL ? key : NULL;
	o.bearer_token = token;
	assert_int_equal(cc_client_new(&c, &o, NULL), 0);
	return c;
}

static int
group_teardown(void **state)
{
	struct cc_client *c;
	long status;

	(void)state;
	c = client_as("pki", NULL, NULL);
	cc_client_json(c, "POST", "/api/v1/stop", NULL, 10, &status, NULL, NULL);
	cc_client_free(c);
	pthread_join(loop_thread, NULL);
	cc_server_free(server);
	event_base_free(base);
	cc_client_global_cleanup();
	run("rm -rf %s", tmpdir);
	return 0;
}

static void
routes_and_errors(void **state)
{
	struct cc_client *c = client_as("pki", NULL, NULL);
	struct cc_diag d = { "" };
	json_t *j = NULL;
	long status;

	(void)state;
	assert_int_equal(cc_client_json(c, "GET", "/api/v1/ping", NULL, 10,
	    &status, &j, &d), 0);
	assert_int_equal(status, 200);
	assert_true(json_is_true(json_object_get(j, "pong")));
	json_decref(j);

	assert_int_equal(cc_client_json(c, "GET", "/api/v1/nope", NULL, 10,
	    &status, &j, &d), 0);
	assert_int_equal(status, 404);
	assert_non_null(strstr(d.text, "no such endpoint"));
	assert_null(j);

	assert_int_equal(cc_client_json(c, "DELETE", "/api/v1/ping", NULL, 10,
	    &status, NULL, &d), 0);
	assert_int_equal(status, 405);

	assert_int_equal(cc_client_json(c, "GET", "/api/v1/items/A%20b", NULL, 10,
	    &status, &j, &d), 0);
	assert_int_equal(status, 200);
	assert_string_equal(json_string_value(json_object_get(j, "item")), "A b");
	json_decref(j);

	/* An encoded slash, NUL or dot-dot never reaches a handler. */
	assert_int_equal(cc_client_json(c, "GET", "/api/v1/items/a%2Fb", NULL, 10,
	    &status, NULL, &d), 0);
	assert_int_equal(status, 400);
	assert_int_equal(cc_client_json(c, "GET", "/api/v1/items/a%00b", NULL, 10,
	    &status, NULL, &d), 0);
	assert_int_equal(status, 400);
	assert_int_equal(cc_client_json(c, "GET", "/api/v1/items/%2E%2E", NULL, 10,
	    &status, NULL, &d), 0);
	assert_int_equal(status, 400);
	cc_client_free(c);
}

static void
json_bodies_are_checked(void **state)
{
	struct cc_client *c = client_as("pki", NULL, NULL);
	struct cc_diag d = { "" };
	json_t *j = NULL, *body;
	long status;
	uint8_t *big;

	(void)state;
	body = json_pack("{s:s,s:i}", "title", "Barn kända av BUP", "n", 3);
	assert_int_equal(cc_client_json(c, "POST", "/api/v1/echo", body, 10,
	    &status, &j, &d), 0);
	assert_int_equal(status, 200);
	assert_true(json_equal(j, body));
	json_decref(j);
	json_decref(body);

	assert_int_equal(cc_client_upload(c, "/api/v1/echo",
	    (const uint8_t *)"{\"a\":", 5, 0, 10, &status, &d), 0);
	assert_int_equal(status, 400);
	assert_non_null(strstr(d.text, "not valid JSON"));
	assert_int_equal(cc_client_upload(c, "/api/v1/echo",
	    (const uint8_t *)"{\"a\":1,\"a\":2}", 13, 0, 10, &status, &d), 0);
	assert_int_equal(status, 400);
	assert_int_equal(cc_client_upload(c, "/api/v1/echo",
	    (const uint8_t *)"[1]", 3, 0, 10, &status, &d), 0);
	assert_int_equal(status, 400);

	/* Over the JSON limit but within a batch part: the route says 413. */
	assert_non_null(big = calloc(1, CC_LIMIT_HTTP_BODY + 10));
	memset(big, ' ', CC_LIMIT_HTTP_BODY + 10);
	assert_int_equal(cc_client_upload(c, "/api/v1/echo", big,
	    CC_LIMIT_HTTP_BODY + 10, 0, 30, &status, &d), 0);
	assert_int_equal(status, 413);
	free(big);
	cc_client_free(c);
}

static void
uploads_arrive_in_parts(void **state)
{
	struct cc_client *c = client_as("pki", NULL, NULL);
	struct cc_diag d = { "" };
	uint8_t *data;
	long status;
	size_t len = 3u << 20;

	(void)state;
	assert_non_null(data = malloc(len));
	memset(data, 0x5a, len);
	assert_int_equal(cc_client_upload(c, "/api/v1/upload", data, len,
	    1u << 20, 30, &status, &d), 0);
	assert_int_equal(status, 200);
	free(data);
	cc_client_free(c);
}

/* A file sent in parts arrives whole and in order, never held whole. */
static void
uploads_from_a_file(void **state)
{
	struct cc_client *c = client_as("pki", NULL, NULL);
	struct cc_diag d = { "" };
	char path[160];
	uint8_t *data;
	long status = 0;
	size_t i, len = (3u << 20) + 777;
	FILE *f;

	(void)state;
	assert_non_null(data = malloc(len));
	for (i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 7 + i / 4099);
	snprintf(path, sizeof(path), "%s/upload.bin", tmpdir);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(cc_client_upload_file(c, "/api/v1/collect", path,
	    1u << 20, 30, &status, &d), 0);
	assert_int_equal(status, 200);
	assert_int_equal(collected_len, len);
	assert_memory_equal(collected, data, len);
	/* Parts of at most CC_LIMIT_UPLOAD_PART by default. */
	assert_int_equal(cc_client_upload_file(c, "/api/v1/collect", path, 0,
	    30, &status, &d), 0);
	assert_int_equal(status, 200);
	assert_int_equal(collected_len, len);
	assert_memory_equal(collected, data, len);
	/* The server's refusal comes back as its status and message. */
	assert_int_equal(cc_client_upload_file(c, "/api/v1/echo", path,
	    1u << 20, 30, &status, &d), 0);
	assert_int_equal(status, 400);
	assert_non_null(strstr(d.text, "not valid JSON"));
	/* An empty file is one empty part. */
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fclose(f), 0);
	assert_int_equal(cc_client_upload_file(c, "/api/v1/collect", path,
	    1u << 20, 30, &status, &d), 0);
	assert_int_equal(status, 200);
	assert_int_equal(collected_len, 0);
	/* No file, or not a regular one: nothing is sent. */
	unlink(path);
	assert_int_equal(cc_client_upload_file(c, "/api/v1/collect", path,
	    1u << 20, 30, &status, &d), CC_ERR_IO);
	assert_int_equal(status, 0);
	assert_int_equal(cc_client_upload_file(c, "/api/v1/collect", tmpdir,
	    1u << 20, 30, &status, &d), CC_ERR_IO);
	free(data);
	free(collected);
	collected = NULL;
	collected_len = 0;
	cc_client_free(c);
}

static void
node_routes_need_a_federation_certificate(void **state)
{
	struct cc_client *c;
	struct cc_diag d = { "" };
	json_t *j = NULL;
	long status;

	(void)state;
	c = client_as("pki", NULL, NULL);
	assert_int_equal(cc_client_json(c, "GET", "/api/v1/node/whoami", NULL, 10,
	    &status, &j, &d), 0);
	assert_int_equal(status, 401);
	cc_client_free(c);

	c = client_as("pki", "skola", NULL);
	assert_int_equal(cc_client_json(c, "GET", "/api/v1/node/whoami", NULL, 10,
	    &status, &j, &d), 0);
	assert_int_equal(status, 200);
	assert_string_equal(json_string_value(json_object_get(j, "node")), "skola");
	json_decref(j);
	cc_client_free(c);

	/* The same CN from another CA: the handshake itself fails. */
	c = client_as("other", "skola", NULL);
	assert_int_equal(cc_client_json(c, "GET", "/api/v1/node/whoami", NULL, 10,
	    &status, &j, &d), CC_ERR_NETWORK);
	cc_client_free(c);
}

static void
user_routes_need_a_token(void **state)
{
	struct cc_client *c;
	struct cc_diag d = { "" };
	json_t *j = NULL;
	long status;

	(void)state;
	c = client_as("pki", NULL, "bad");
	assert_int_equal(cc_client_json(c, "GET", "/api/v1/user/whoami", NULL, 10,
	    &status, &j, &d), 0);
	assert_int_equal(status, 401);
	cc_client_free(c);
	c = client_as("pki", NULL, "good");
	assert_int_equal(cc_client_json(c, "GET", "/api/v1/user/whoami", NULL, 10,
	    &status, &j, &d), 0);
	assert_int_equal(status, 200);
	assert_string_equal(json_string_value(json_object_get(j, "user")), "anna");
	json_decref(j);
	cc_client_free(c);
}

static void
held_requests_answer_later(void **state)
{
	struct cc_client *c = client_as("pki", NULL, NULL);
	json_t *j = NULL;
	long status;

	(void)state;
	assert_int_equal(cc_client_json(c, "GET", "/api/v1/hold", NULL, 10,
	    &status, &j, NULL), 0);
	assert_int_equal(status, 200);
	assert_true(json_is_true(json_object_get(j, "held")));
	json_decref(j);
	cc_client_free(c);
}

static void
static_files_stay_inside_the_web_root(void **state)
{
	struct cc_client *c = client_as("pki", NULL, NULL);
	char *text = NULL;
	size_t len;
	long status;

	(void)state;
	assert_int_equal(cc_client_get_text(c, "/", 4096, 10, &status, &text,
	    &len, NULL), 0);
	assert_int_equal(status, 200);
	assert_non_null(strstr(text, "<title>crosscount</title>"));
	free(text);
	assert_int_equal(cc_client_get_text(c, "/%2E%2E/pki/ca.key", 4096, 10,
	    &status, &text, &len, NULL), 0);
	assert_int_equal(status, 400);
	free(text);
	assert_int_equal(cc_client_get_text(c, "/.hidden", 4096, 10, &status,
	    &text, &len, NULL), 0);
	assert_int_equal(status, 404);
	free(text);
	cc_client_free(c);
}

static void
files_are_sent_in_pieces(void **state)
{
	struct cc_client *c = client_as("pki", NULL, NULL);
	char src[160], dst[160];
	uint8_t *want, *got;
	size_t len;
	long status;
	FILE *f;
	int i;

	(void)state;
	snprintf(src, sizeof(src), "%s/big.bin", tmpdir);
	snprintf(dst, sizeof(dst), "%s/got.bin", tmpdir);
	assert_non_null(want = malloc(BIG_FILE_BYTES));
	randombytes_buf(want, BIG_FILE_BYTES);
	assert_non_null(f = fopen(src, "wb"));
	assert_int_equal(fwrite(want, 1, BIG_FILE_BYTES, f), BIG_FILE_BYTES);
	assert_int_equal(fclose(f), 0);
	/* Twice on one connection: the reply ends cleanly. */
	for (i = 0; i < 2; i++) {
		unlink(dst);
		assert_int_equal(cc_client_download(c, "/api/v1/file", dst,
		    BIG_FILE_BYTES, 30, &status, NULL), 0);
		assert_int_equal(status, 200);
		assert_int_equal(cc_file_read_all(dst, BIG_FILE_BYTES, 0, &got,
		    &len, NULL), 0);
		assert_int_equal(len, BIG_FILE_BYTES);
		assert_memory_equal(got, want, BIG_FILE_BYTES);
		free(got);
	}
	/* A client that gives up halfway: the server carries on. */
	unlink(dst);
	assert_int_not_equal(cc_client_download(c, "/api/v1/file", dst,
	    1u << 20, 30, &status, NULL), 0);
	cc_client_free(c);
	c = client_as("pki", NULL, NULL);
	assert_int_equal(cc_client_json(c, "GET", "/api/v1/ping", NULL, 10,
	    &status, NULL, NULL), 0);
	assert_int_equal(status, 200);
	unlink(dst);
	assert_int_equal(cc_client_download(c, "/api/v1/file", dst,
	    BIG_FILE_BYTES, 30, &status, NULL), 0);
	assert_int_equal(status, 200);
	unlink(dst);
	unlink(src);
	free(want);
	cc_client_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(routes_and_errors),
		cmocka_unit_test(json_bodies_are_checked),
		cmocka_unit_test(uploads_arrive_in_parts),
		cmocka_unit_test(uploads_from_a_file),
		cmocka_unit_test(node_routes_need_a_federation_certificate),
		cmocka_unit_test(user_routes_need_a_token),
		cmocka_unit_test(held_requests_answer_later),
		cmocka_unit_test(static_files_stay_inside_the_web_root),
		cmocka_unit_test(files_are_sent_in_pieces),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
