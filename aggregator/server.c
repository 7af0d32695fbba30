/* crosscount-aggregator: the HTTPS server (see server.h). */
#include "aggregator/server.h"
#include "aggregator/log.h"
#include "protocol/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#define SERVER_MAX_SEGMENTS 12
#define SERVER_PATH_MAX 1024

struct cc_server {
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	SSL_CTX *tls;
	SSL_CTX *refuse;         /* no certificate: every handshake fails */
	const struct cc_route *routes;
	size_t nroutes;
	cc_authorize_fn authorize;
	void *ctx;
	char *web_root;
	uint16_t port;
	struct server_conns *conns;
};

struct cc_request {
	struct cc_server *srv;
	struct evhttp_request *ev;
	struct evkeyvalq query;
	bool query_parsed;
	char path[SERVER_PATH_MAX];
	size_t nparams;
	char params[CC_ROUTE_PARAMS][CC_ROUTE_PARAM_MAX];
	struct cc_caller caller;
	uint8_t *body;
	size_t body_len;
	bool held;
	cc_request_close_fn on_close;
	void *on_close_arg;
	char peer[64];
};

/*
 * Live TLS connections are counted through the SSL objects' ex_data.
 * libevent may finalize a connection's bufferevent (and so its SSL) after
 * the server is freed, so the count lives in its own allocation: freed by
 * the server if no connection is left, else by the last connection.
 */
struct server_conns {
	int live;
	bool orphaned;   /* the server is gone */
};

static int server_ssl_index = -1;

static void
server_ssl_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	struct server_conns *conns = ptr;

	(void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
	if (conns == NULL)
		return;
	conns->live--;
	if (conns->orphaned && conns->live == 0)
		free(conns);
}

/*
 * evhttp asks for a bufferevent per accepted connection. Over the
 * connection limit the TLS handshake is refused (a context without a
 * certificate) rather than served: returning NULL would make evhttp fall
 * back to plain text.
 */
static struct bufferevent *
server_bevcb(struct event_base *base, void *arg)
{
	struct cc_server *s = arg;
	SSL *ssl;
	bool over = s->conns->live >= CC_LIMIT_HTTP_CONNECTIONS;

	/*
	 * Out of memory here leaves no safe answer: evhttp would serve the
	 * connection in plain text. Fail closed.
	 */
	if ((ssl = SSL_new(over ? s->refuse : s->tls)) == NULL)
		abort();
	if (SSL_set_ex_data(ssl, server_ssl_index, s->conns) == 1)
		s->conns->live++;
	return bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

static SSL_CTX *
server_tls_new(const struct cc_server_options *opt, struct cc_diag *diag)
{
	SSL_CTX *ctx = NULL;
	STACK_OF(X509_NAME) *names = NULL;
	static const unsigned char sid[] = "crosscount-aggregator";

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		goto fail;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		goto fail;
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, opt->cert_file) != 1) {
		cc_diag_set(diag, "cannot load the TLS certificate %s", opt->cert_file);
		goto out;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, opt->key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		cc_diag_set(diag, "cannot load the TLS key %s or it does not match "
		    "the certificate", opt->key_file);
		goto out;
	}
	if (SSL_CTX_load_verify_locations(ctx, opt->ca_file, NULL) != 1 ||
	    (names = SSL_load_client_CA_file(opt->ca_file)) == NULL) {
		cc_diag_set(diag, "cannot load the federation CA %s", opt->ca_file);
		goto out;
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	/*
	 * SPEC 14: client certificates are requested from everyone and
	 * verified against the federation CA when presented (a certificate
	 * from another CA fails the handshake); node routes then require one.
	 * Browsers present none.
	 */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_verify_depth(ctx, 2);
	if (SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1) != 1)
		goto fail;
	return ctx;
fail:
	cc_diag_set(diag, "cannot set up TLS: %s",
	    ERR_reason_error_string(ERR_peek_last_error()) != NULL ?
	    ERR_reason_error_string(ERR_peek_last_error()) : "unknown reason");
out:
	SSL_CTX_free(ctx);
	return NULL;
}

/* ---------------------------------------------------------------- */

static void server_dispatch(struct evhttp_request *ev, void *arg);

int
cc_server_new(struct cc_server **ret_server, struct event_base *base,
    const struct cc_server_options *opt, const struct cc_route *routes,
    size_t nroutes, cc_authorize_fn authorize, void *ctx, struct cc_diag *diag)
{
	struct cc_server *s = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int r = CC_ERR_INTERNAL;

	*ret_server = NULL;
	if (server_ssl_index < 0 &&
	    (server_ssl_index = SSL_get_ex_new_index(0, NULL, NULL, NULL,
	    server_ssl_free)) < 0)
		goto out;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->conns = calloc(1, sizeof(*s->conns))) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	s->base = base;
	s->routes = routes;
	s->nroutes = nroutes;
	s->authorize = authorize;
	s->ctx = ctx;
	if (opt->web_root != NULL && (s->web_root = strdup(opt->web_root)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if ((s->tls = server_tls_new(opt, diag)) == NULL) {
		r = CC_ERR_CONFIG;
		goto out;
	}
	if ((s->refuse = SSL_CTX_new(TLS_server_method())) == NULL)
		goto out;
	if ((s->http = evhttp_new(base)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	evhttp_set_bevcb(s->http, server_bevcb, s);
	evhttp_set_gencb(s->http, server_dispatch, s);
	evhttp_set_max_headers_size(s->http, CC_LIMIT_HTTP_HEADERS);
	/* Batch parts are the largest bodies; JSON routes cap lower. */
	evhttp_set_max_body_size(s->http, (ev_ssize_t)CC_LIMIT_UPLOAD_PART);
	evhttp_set_timeout(s->http, opt->idle_timeout > 0 ? opt->idle_timeout : 60);
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	s->bound = evhttp_bind_socket_with_handle(s->http,
	    opt->listen_address != NULL ? opt->listen_address : "127.0.0.1",
	    opt->port);
	if (s->bound == NULL) {
		cc_diag_set(diag, "cannot listen on %s port %u: %s",
		    opt->listen_address != NULL ? opt->listen_address : "127.0.0.1",
		    (unsigned)opt->port, strerror(errno));
		r = CC_ERR_NETWORK;
		goto out;
	}
	if (getsockname(evhttp_bound_socket_get_fd(s->bound),
	    (struct sockaddr *)&ss, &sl) != 0)
		goto out;
	s->port = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	*ret_server = s;
	s = NULL;
	r = 0;
out:
	cc_server_free(s);
	return r;
}

void
cc_server_free(struct cc_server *s)
{
	if (s == NULL)
		return;
	if (s->http != NULL)
		evhttp_free(s->http);
	SSL_CTX_free(s->tls);
	SSL_CTX_free(s->refuse);
	free(s->web_root);
	if (s->conns != NULL) {
		if (s->conns->live == 0)
			free(s->conns);
		else
			s->conns->orphaned = true;
	}
	free(s);
}

uint16_t
cc_server_port(const struct cc_server *s)
{
	return s->port;
}

/* ---------------------------------------------------------------- */

static void
request_free(struct cc_request *req)
{
	if (req == NULL)
		return;
	if (req->query_parsed)
		evhttp_clear_headers(&req->query);
	/* A body may hold a password or a batch's tokens. */
	if (req->body != NULL)
		sodium_memzero(req->body, req->body_len);
	free(req->body);
	free(req);
}

const char *
cc_request_method(const struct cc_request *req)
{
	switch (evhttp_request_get_command(req->ev)) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	default: return "OTHER";
	}
}

const char *
cc_request_path(const struct cc_request *req)
{
	return req->path;
}

const char *
cc_request_param(const struct cc_request *req, size_t i)
{
	return i < req->nparams ? req->params[i] : NULL;
}

const char *
cc_request_query(const struct cc_request *req, const char *key)
{
	if (!req->query_parsed)
		return NULL;
	return evhttp_find_header(&req->query, key);
}

const char *
cc_request_header(const struct cc_request *req, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req->ev), name);
}

bool
cc_request_cookie(const struct cc_request *req, const char *name, char *out,
    size_t out_size)
{
	const char *h = cc_request_header(req, "Cookie"), *p, *end;
	size_t nlen = strlen(name), vlen;

	if (h == NULL || out_size == 0)
		return false;
	for (p = h; *p != '\0'; p = *end != '\0' ? end + 1 : end) {
		while (*p == ' ')
			p++;
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) > nlen && strncmp(p, name, nlen) == 0 &&
		    p[nlen] == '=') {
			vlen = (size_t)(end - p) - nlen - 1;
			if (vlen >= out_size)
				return false;
			memcpy(out, p + nlen + 1, vlen);
			out[vlen] = '\0';
			return true;
		}
	}
	return false;
}

const struct cc_caller *
cc_request_caller(const struct cc_request *req)
{
	return &req->caller;
}

const char *
cc_request_peer(const struct cc_request *req)
{
	return req->peer;
}

bool
cc_request_peer_cn(const struct cc_request *req, char *out, size_t out_size)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req->ev);
	struct bufferevent *bev;
	SSL *ssl;
	X509 *cert;
	X509_NAME *subject;
	X509_NAME_ENTRY *entry;
	ASN1_STRING *data;
	unsigned char *utf8 = NULL;
	int idx, len;
	bool ok = false;

	if (conn == NULL || out_size == 0)
		return false;
	bev = evhttp_connection_get_bufferevent(conn);
	if (bev == NULL || (ssl = bufferevent_openssl_get_ssl(bev)) == NULL)
		return false;
	if ((cert = SSL_get0_peer_certificate(ssl)) == NULL ||
	    SSL_get_verify_result(ssl) != X509_V_OK)
		return false;
	subject = X509_get_subject_name(cert);
	/* Exactly one CN: a second one would make the identity ambiguous. */
	if ((idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1)) < 0 ||
	    X509_NAME_get_index_by_NID(subject, NID_commonName, idx) >= 0)
		return false;
	entry = X509_NAME_get_entry(subject, idx);
	data = X509_NAME_ENTRY_get_data(entry);
	if ((len = ASN1_STRING_to_UTF8(&utf8, data)) <= 0)
		return false;
	if ((size_t)len < out_size && memchr(utf8, '\0', (size_t)len) == NULL) {
		memcpy(out, utf8, (size_t)len);
		out[len] = '\0';
		ok = true;
	}
	OPENSSL_free(utf8);
	return ok;
}

const uint8_t *
cc_request_body(struct cc_request *req, size_t *ret_len)
{
	*ret_len = req->body_len;
	return req->body;
}

json_t *
cc_request_json(struct cc_request *req)
{
	json_error_t jerr;
	json_t *j;

	if (req->body_len > CC_LIMIT_HTTP_BODY) {
		cc_reply_error(req, 413, "the request body is larger than %u bytes",
		    (unsigned)CC_LIMIT_HTTP_BODY);
		return NULL;
	}
	j = json_loadb((const char *)req->body, req->body_len,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL) {
		cc_reply_error(req, 400, "the body is not valid JSON: line %d: %s",
		    jerr.line, jerr.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		cc_reply_error(req, 400, "the body must be a JSON object");
		return NULL;
	}
	return j;
}

/* ---------------------------------------------------------------- */

static void
server_security_headers(struct evhttp_request *ev)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(ev);

	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Strict-Transport-Security", "max-age=31536000");
	evhttp_add_header(h, "Content-Security-Policy",
	    "default-src 'self'; script-src 'self'; style-src 'self'; "
	    "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
	    "frame-ancestors 'none'; form-action 'self'");
}

/* Detach the request from its connection, send, and free it. */
static void
server_send(struct cc_request *req, int status, struct evbuffer *buf)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req->ev);

	if (req->held && conn != NULL)
		evhttp_connection_set_closecb(conn, NULL, NULL);
	server_security_headers(req->ev);
	evhttp_send_reply(req->ev, status, NULL, buf);
	request_free(req);
}

void
cc_request_add_header(struct cc_request *req, const char *name, const char *value)
{
	evhttp_add_header(evhttp_request_get_output_headers(req->ev), name, value);
}

void
cc_reply_bytes(struct cc_request *req, int status, const char *content_type,
    const void *data, size_t len)
{
	struct evbuffer *buf = evbuffer_new();

	if (content_type != NULL)
		cc_request_add_header(req, "Content-Type", content_type);
	if (buf != NULL && len > 0 && evbuffer_add(buf, data, len) != 0) {
		evbuffer_free(buf);
		buf = NULL;
	}
	if (buf == NULL) {
		server_send(req, 500, NULL);
		return;
	}
	server_send(req, status, buf);
	evbuffer_free(buf);
}

void
cc_reply_json(struct cc_request *req, int status, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(body);
	cc_request_add_header(req, "Cache-Control", "no-store");
	if (text == NULL) {
		cc_reply_bytes(req, 500, "application/json",
		    "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}", 56);
		return;
	}
	cc_reply_bytes(req, status, "application/json", text, strlen(text));
	free(text);
}

void
cc_reply_empty(struct cc_request *req, int status)
{
	cc_request_add_header(req, "Cache-Control", "no-store");
	server_send(req, status, NULL);
}

static const char *
server_error_code(int status)
{
	switch (status) {
	case 400: return "bad_request";
	case 401: return "unauthenticated";
	case 403: return "forbidden";
	case 404: return "not_found";
	case 405: return "method_not_allowed";
	case 409: return "conflict";
	case 413: return "too_large";
	case 422: return "unprocessable";
	case 429: return "too_many_requests";
	default: return status >= 500 ? "internal" : "bad_request";
	}
}

void
cc_reply_error(struct cc_request *req, int status, const char *fmt, ...)
{
	char message[512];
	json_t *body;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	/*
	 * Every refusal is an event for the operator. Paths hold only query
	 * and node ids; messages never quote an identity (error.h).
	 */
	cc_agg_log("%s %s from %s: %d %s", cc_request_method(req), req->path,
	    req->peer, status, message);
	body = json_pack("{s:{s:s,s:s}}", "error", "code",
	    server_error_code(status), "message", message);
	cc_reply_json(req, status, body);
}

void
cc_reply_cc_error(struct cc_request *req, int r, const struct cc_diag *diag)
{
	int status;

	switch (r) {
	case CC_ERR_NOT_FOUND: status = 404; break;
	case CC_ERR_EXISTS: case CC_ERR_STATE: status = 409; break;
	case CC_ERR_AUTH: status = 403; break;
	case CC_ERR_LIMIT: status = 413; break;
	case CC_ERR_POLICY: case CC_ERR_SIGNATURE: case CC_ERR_CERTIFICATE:
	case CC_ERR_POINT: case CC_ERR_VERSION: status = 422; break;
	case CC_ERR_FORMAT: case CC_ERR_QUERY: case CC_ERR_TRUNCATED:
	case CC_ERR_TRAILING_DATA: case CC_ERR_INVALID_ARGUMENT:
	case CC_ERR_ENCODING: status = 400; break;
	default: status = 500; break;
	}
	if (status == 500 || diag == NULL || diag->text[0] == '\0')
		cc_reply_error(req, status, "%s", cc_strerror(r));
	else
		cc_reply_error(req, status, "%s", diag->text);
}

/*
 * A file sent in pieces of SERVER_FILE_PIECE bytes, the next one read
 * when the last one has been written out: a batch of any size costs one
 * piece of memory, not the whole file. Each piece is wiped when libevent
 * drops it (batches hold per-query secrets).
 */
#define SERVER_FILE_PIECE ((size_t)256 << 10)

struct file_reply {
	struct evhttp_request *ev;
	int fd;
	uint64_t off;
	uint64_t left;
};

static void
file_reply_free(struct file_reply *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

static void
file_piece_free(const void *data, size_t len, void *arg)
{
	(void)arg;
	OPENSSL_cleanse((void *)(uintptr_t)data, len);
	free((void *)(uintptr_t)data);
}

/* The connection closed before the whole file was sent. */
static void
file_reply_closed(struct evhttp_connection *conn, void *arg)
{
	struct file_reply *f = arg;

	(void)conn;
	/* libevent detaches, and leaves to us, a reply it did not finish. */
	if (evhttp_request_get_connection(f->ev) == NULL)
		evhttp_send_reply_end(f->ev);
	file_reply_free(f);
}

/* The next piece, or the end of the reply. */
static void
file_reply_next(struct evhttp_connection *conn, void *arg)
{
	struct file_reply *f = arg;
	struct evbuffer *buf = NULL;
	uint8_t *piece = NULL;
	size_t n;

	conn = evhttp_request_get_connection(f->ev);
	if (f->left == 0) {
		if (conn != NULL)
			evhttp_connection_set_closecb(conn, NULL, NULL);
		evhttp_send_reply_end(f->ev);
		file_reply_free(f);
		return;
	}
	n = f->left < SERVER_FILE_PIECE ? (size_t)f->left : SERVER_FILE_PIECE;
	if ((buf = evbuffer_new()) == NULL || (piece = malloc(n)) == NULL ||
	    cc_file_pread_all(f->fd, piece, n, (off_t)f->off) != 0 ||
	    evbuffer_add_reference(buf, piece, n, file_piece_free, NULL) != 0) {
		/*
		 * The length was promised in the header: end the reply and
		 * close the connection, so the client sees a short body.
		 */
		if (piece != NULL)
			file_piece_free(piece, n, NULL);
		evbuffer_free(buf);
		cc_agg_log("a file being sent could not be read; its "
		    "connection is closed");
		if (conn != NULL) {
			evhttp_connection_set_closecb(conn, NULL, NULL);
			shutdown(bufferevent_getfd(
			    evhttp_connection_get_bufferevent(conn)), SHUT_RDWR);
		}
		evhttp_send_reply_end(f->ev);
		file_reply_free(f);
		return;
	}
	f->off += n;
	f->left -= n;
	evhttp_send_reply_chunk_with_cb(f->ev, buf, file_reply_next, f);
	evbuffer_free(buf);
}

void
cc_reply_file(struct cc_request *req, const char *content_type, const char *path)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req->ev);
	struct file_reply *f = NULL;
	struct stat st;
	char length[24];
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0 ||
	    !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		cc_reply_error(req, 404, "not found");
		return;
	}
	if (conn == NULL || (f = calloc(1, sizeof(*f))) == NULL) {
		close(fd);
		cc_reply_error(req, 500, "out of memory");
		return;
	}
	f->ev = req->ev;
	f->fd = fd;
	f->left = (uint64_t)st.st_size;
	snprintf(length, sizeof(length), "%ju", (uintmax_t)st.st_size);
	/* With a Content-Length, libevent sends the pieces as they are. */
	cc_request_add_header(req, "Content-Type", content_type);
	cc_request_add_header(req, "Content-Length", length);
	server_security_headers(req->ev);
	evhttp_connection_set_closecb(conn, file_reply_closed, f);
	evhttp_send_reply_start(req->ev, 200, "OK");
	request_free(req);
	file_reply_next(conn, f);
}

static void
server_closecb(struct evhttp_connection *conn, void *arg)
{
	struct cc_request *req = arg;

	(void)conn;
	if (req->on_close != NULL)
		req->on_close(req, req->on_close_arg);
	request_free(req);
}

void
cc_request_hold(struct cc_request *req, cc_request_close_fn on_close, void *arg)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req->ev);

	req->held = true;
	req->on_close = on_close;
	req->on_close_arg = arg;
	if (conn != NULL)
		evhttp_connection_set_closecb(conn, server_closecb, req);
}

/* ---------------------------------------------------------------- */

/*
 * Split a raw path into URL-decoded segments. Segments may not be empty,
 * "." or "..", or decode to something holding '/' or NUL.
 */
static int
server_split_path(const char *raw, char segs[][CC_ROUTE_PARAM_MAX], size_t *ret_n)
{
	const char *p = raw, *end;
	char enc[CC_ROUTE_PARAM_MAX * 3 + 1];
	char *dec;
	size_t n = 0, len, dlen;

	*ret_n = 0;
	if (*p != '/')
		return CC_ERR_FORMAT;
	if (strcmp(p, "/") == 0)
		return 0;
	while (*p == '/') {
		p++;
		end = strchr(p, '/');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len == 0 && end == NULL)
			break;  /* trailing slash */
		if (len == 0 || len >= sizeof(enc) || n == SERVER_MAX_SEGMENTS)
			return CC_ERR_FORMAT;
		memcpy(enc, p, len);
		enc[len] = '\0';
		if ((dec = evhttp_uridecode(enc, 0, &dlen)) == NULL)
			return CC_ERR_ALLOC;
		if (dlen == 0 || dlen >= CC_ROUTE_PARAM_MAX ||
		    memchr(dec, '\0', dlen) != NULL || memchr(dec, '/', dlen) != NULL ||
		    strcmp(dec, ".") == 0 || strcmp(dec, "..") == 0) {
			free(dec);
			return CC_ERR_FORMAT;
		}
		memcpy(segs[n], dec, dlen + 1);
		free(dec);
		n++;
		p += len;
	}
	*ret_n = n;
	return 0;
}

/*
 * 1 = match, 0 = no match. A pattern is split like a path; its "*"
 * segments capture the request's segments into req->params.
 */
static int
server_match(const char *pattern, char segs[][CC_ROUTE_PARAM_MAX], size_t nsegs,
    struct cc_request *req)
{
	char pat[SERVER_MAX_SEGMENTS][CC_ROUTE_PARAM_MAX];
	size_t npat, i, np = 0;

	if (server_split_path(pattern, pat, &npat) != 0 || npat != nsegs)
		return 0;
	for (i = 0; i < npat; i++) {
		if (strcmp(pat[i], "*") == 0) {
			if (np == CC_ROUTE_PARAMS)
				return 0;
			memcpy(req->params[np++], segs[i], strlen(segs[i]) + 1);
		} else if (strcmp(pat[i], segs[i]) != 0) {
			return 0;
		}
	}
	req->nparams = np;
	return 1;
}

static const char *
server_content_type(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (dot == NULL)
		return "application/octet-stream";
	if (strcmp(dot, ".html") == 0) return "text/html; charset=utf-8";
	if (strcmp(dot, ".js") == 0) return "text/javascript; charset=utf-8";
	if (strcmp(dot, ".css") == 0) return "text/css; charset=utf-8";
	if (strcmp(dot, ".json") == 0) return "application/json";
	if (strcmp(dot, ".svg") == 0) return "image/svg+xml";
	if (strcmp(dot, ".png") == 0) return "image/png";
	if (strcmp(dot, ".ico") == 0) return "image/x-icon";
	if (strcmp(dot, ".woff2") == 0) return "font/woff2";
	return "application/octet-stream";
}

/* Static files of the web UI: GET only, inside web_root, no dot files. */
static void
server_static(struct cc_request *req, char segs[][CC_ROUTE_PARAM_MAX], size_t n)
{
	char path[4096];
	size_t i, off;
	int w;

	if (req->srv->web_root == NULL ||
	    evhttp_request_get_command(req->ev) != EVHTTP_REQ_GET) {
		cc_reply_error(req, 404, "no such endpoint: %s", req->path);
		return;
	}
	w = snprintf(path, sizeof(path), "%s", req->srv->web_root);
	off = w > 0 ? (size_t)w : 0;
	for (i = 0; i < n; i++) {
		if (segs[i][0] == '.')
			goto notfound;
		w = snprintf(path + off, sizeof(path) - off, "/%s", segs[i]);
		if (w < 0 || (size_t)w >= sizeof(path) - off)
			goto notfound;
		off += (size_t)w;
	}
	if (n == 0 && snprintf(path + off, sizeof(path) - off, "/index.html") < 0)
		goto notfound;
	cc_request_add_header(req, "Cache-Control", "no-cache");
	cc_reply_file(req, server_content_type(path), path);
	return;
notfound:
	cc_reply_error(req, 404, "not found");
}

static void
server_dispatch(struct evhttp_request *ev, void *arg)
{
	struct cc_server *s = arg;
	struct cc_request *req;
	const struct evhttp_uri *uri;
	const char *raw_path, *qs, *method;
	char segs[SERVER_MAX_SEGMENTS][CC_ROUTE_PARAM_MAX];
	struct evbuffer *in;
	struct evhttp_connection *conn;
	char *addr = NULL;
	ev_uint16_t port = 0;
	size_t nsegs = 0, i, len;
	bool path_known = false;

	if ((req = calloc(1, sizeof(*req))) == NULL) {
		evhttp_send_error(ev, 500, NULL);
		return;
	}
	req->srv = s;
	req->ev = ev;
	if ((conn = evhttp_request_get_connection(ev)) != NULL) {
		evhttp_connection_get_peer(conn, &addr, &port);
		snprintf(req->peer, sizeof(req->peer), "%s:%u",
		    addr != NULL ? addr : "?", (unsigned)port);
	}
	uri = evhttp_request_get_evhttp_uri(ev);
	raw_path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	if (raw_path == NULL || strlen(raw_path) >= sizeof(req->path) ||
	    server_split_path(raw_path, segs, &nsegs) != 0) {
		cc_reply_error(req, 400, "malformed path");
		return;
	}
	memcpy(req->path, raw_path, strlen(raw_path) + 1);
	if ((qs = evhttp_uri_get_query(uri)) != NULL) {
		TAILQ_INIT(&req->query);
		if (evhttp_parse_query_str(qs, &req->query) != 0) {
			evhttp_clear_headers(&req->query);
			cc_reply_error(req, 400, "malformed query string");
			return;
		}
		req->query_parsed = true;
	}
	in = evhttp_request_get_input_buffer(ev);
	if ((len = evbuffer_get_length(in)) > 0) {
		if ((req->body = malloc(len)) == NULL ||
		    evbuffer_remove(in, req->body, len) != (int)len) {
			cc_reply_error(req, 500, "out of memory");
			return;
		}
		req->body_len = len;
	}
	method = cc_request_method(req);
	for (i = 0; i < s->nroutes; i++) {
		if (!server_match(s->routes[i].pattern, segs, nsegs, req))
			continue;
		path_known = true;
		if (strcmp(s->routes[i].method, method) != 0)
			continue;
		req->caller.kind = CC_ACCESS_PUBLIC;
		if (s->routes[i].access != CC_ACCESS_PUBLIC &&
		    s->authorize(req, s->routes[i].access, &req->caller, s->ctx) != 0)
			return;  /* the authorizer replied */
		s->routes[i].fn(req, s->ctx);
		return;
	}
	if (path_known) {
		cc_reply_error(req, 405, "%s is not allowed on %s", method, req->path);
		return;
	}
	if (nsegs >= 1 && strcmp(segs[0], "api") == 0) {
		cc_reply_error(req, 404, "no such endpoint: %s", req->path);
		return;
	}
	server_static(req, segs, nsegs);
}
