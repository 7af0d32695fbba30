/*
 * crosscount-aggregator: the HTTPS server (libevent evhttp over OpenSSL
 * bufferevents). SPEC.md section 14; the endpoints are docs/api.md.
 *
 * The server owns TLS (TLS 1.2+, the federation CA for client
 * certificates, which are requested but only required by node routes),
 * every limit a client controls (header size, body size, connections,
 * idle time), routing, and the response helpers. Who the caller is, is
 * decided by an authorizer callback (auth.c) before a handler runs.
 *
 * Handlers receive a struct cc_request. Every request gets exactly one
 * reply: a handler either replies before it returns, or holds the request
 * (long poll) and replies later with one of the reply functions, which
 * also free it. A held request whose connection closes is released by the
 * server: its on_close callback runs and it must not be used afterwards.
 */
#ifndef CC_AGG_SERVER_H
#define CC_AGG_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>

#include "protocol/error.h"
#include "protocol/limits.h"

enum cc_role {
	CC_ROLE_NONE = 0,
	CC_ROLE_ANALYST = 1,
	CC_ROLE_AUDITOR = 2,
	CC_ROLE_ADMIN = 3,
};

/* What a route needs from its caller. */
enum cc_access {
	CC_ACCESS_PUBLIC = 0,   /* anyone (login, static files) */
	CC_ACCESS_NODE,         /* a node's client certificate */
	CC_ACCESS_USER,         /* any signed-in user */
	CC_ACCESS_ANALYST,      /* analyst or admin */
	CC_ACCESS_AUDITOR,      /* auditor or admin */
};

#define CC_USERNAME_MAX (CC_LIMIT_USERNAME + 1)

struct cc_caller {
	enum cc_access kind;            /* PUBLIC, NODE or USER */
	char node_id[CC_LIMIT_NODE_ID + 1];
	char username[CC_USERNAME_MAX];
	enum cc_role role;
	bool via_session;               /* cookie session (CSRF applies) */
};

#define CC_ROUTE_PARAMS 4
#define CC_ROUTE_PARAM_MAX 80

struct cc_request;
struct cc_server;

typedef void (*cc_handler_fn)(struct cc_request *req, void *ctx);

struct cc_route {
	const char *method;    /* "GET", "POST", "PUT", "DELETE" */
	/* Literal segments, and "*" for a parameter segment. */
	const char *pattern;
	enum cc_access access;
	cc_handler_fn fn;
};

/*
 * Decides who the caller is for a route that needs `access`. Returns 0 and
 * fills caller, or replies itself (401/403) and returns non-zero.
 */
typedef int (*cc_authorize_fn)(struct cc_request *req, enum cc_access access,
    struct cc_caller *caller, void *ctx);

struct cc_server_options {
	const char *listen_address;   /* "127.0.0.1" */
	uint16_t port;                /* 0 = any free port */
	const char *cert_file;        /* the aggregator's TLS certificate chain */
	const char *key_file;
	const char *ca_file;          /* the federation CA (client certificates) */
	const char *web_root;         /* static files for "/", or NULL */
	int idle_timeout;             /* seconds; 0 = 60 */
};

int cc_server_new(struct cc_server **ret_server, struct event_base *base,
    const struct cc_server_options *opt, const struct cc_route *routes,
    size_t nroutes, cc_authorize_fn authorize, void *ctx,
    struct cc_diag *diag);
void cc_server_free(struct cc_server *s);
/* The port actually bound (useful with port 0). */
uint16_t cc_server_port(const struct cc_server *s);

/* --- the request --- */

const char *cc_request_method(const struct cc_request *req);
const char *cc_request_path(const struct cc_request *req);
/* The i-th "*" segment of the route (URL-decoded, no '/'), or NULL. */
const char *cc_request_param(const struct cc_request *req, size_t i);
/* A query-string value (URL-decoded), or NULL. */
const char *cc_request_query(const struct cc_request *req, const char *key);
/* A request header, or NULL. */
const char *cc_request_header(const struct cc_request *req, const char *name);
/* A cookie's value from the Cookie header (copied into out), or false. */
bool cc_request_cookie(const struct cc_request *req, const char *name,
    char *out, size_t out_size);
const struct cc_caller *cc_request_caller(const struct cc_request *req);
/* The client certificate's subject CN if it verified against the CA. */
bool cc_request_peer_cn(const struct cc_request *req, char *out, size_t out_size);
/* The peer address as text, for logs. */
const char *cc_request_peer(const struct cc_request *req);

/* The raw body, borrowed (the server has already capped its size). */
const uint8_t *cc_request_body(struct cc_request *req, size_t *ret_len);
/*
 * The body parsed as a JSON object of at most CC_LIMIT_HTTP_BODY bytes
 * (duplicate keys rejected). On failure replies 400/413 itself and
 * returns NULL. The caller owns the result (json_decref).
 */
json_t *cc_request_json(struct cc_request *req);

/* --- replies (each frees the request) --- */

/* Add a response header before replying. */
void cc_request_add_header(struct cc_request *req, const char *name,
    const char *value);
void cc_reply_json(struct cc_request *req, int status, json_t *body); /* steals body */
void cc_reply_empty(struct cc_request *req, int status);
void cc_reply_bytes(struct cc_request *req, int status, const char *content_type,
    const void *data, size_t len);
/* Stream a file (e.g. a batch); 404 if it cannot be opened. */
void cc_reply_file(struct cc_request *req, const char *content_type,
    const char *path);
/*
 * The JSON error of docs/api.md: {"error": {"code", "message"}}. The code
 * is derived from the status.
 */
void cc_reply_error(struct cc_request *req, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Map an error enum to a status and reply with the diag or its sentence. */
void cc_reply_cc_error(struct cc_request *req, int r, const struct cc_diag *diag);

/* --- long polls --- */

typedef void (*cc_request_close_fn)(struct cc_request *req, void *arg);
/*
 * Keep the request open after the handler returns. If its connection
 * closes first, on_close(req, arg) runs and the request is freed.
 */
void cc_request_hold(struct cc_request *req, cc_request_close_fn on_close,
    void *arg);

#endif
