/*
 * crosscount: the HTTPS client shared by the node worker and the analysts'
 * CLI (libcurl). SPEC.md section 14; the endpoints are docs/api.md.
 *
 * HTTPS only, TLS 1.2 or newer, the server certificate verified against a
 * pinned CA file and the host name. A node authenticates with its client
 * certificate, a script with a bearer token. Every response body is read
 * into a buffer capped by the caller's limit. An HTTP error answer (4xx,
 * 5xx) is returned as its status with the server's error message in diag;
 * CC_ERR_NETWORK means no answer at all (retry later).
 *
 * One struct cc_client per thread (libcurl easy handles are not shared).
 */
#ifndef CC_CLIENT_H
#define CC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "protocol/error.h"

struct cc_client_options {
	const char *base_url;      /* "https://host:port", no trailing path */
	const char *ca_file;       /* PEM CA that signed the server's certificate */
	const char *cert_file;     /* client certificate (PEM) or NULL */
	const char *key_file;      /* its private key (PEM) or NULL */
	const char *bearer_token;  /* API token or NULL */
	long connect_timeout;      /* seconds; 0 = 10 */
};

struct cc_client;

/* libcurl's global init; call once from main before any thread starts. */
int cc_client_global_init(void);
void cc_client_global_cleanup(void);

int cc_client_new(struct cc_client **ret_client,
    const struct cc_client_options *opt, struct cc_diag *diag);
void cc_client_free(struct cc_client *c);

/*
 * A JSON request. body may be NULL (no body). timeout is the whole
 * request's time limit in seconds (long polls pass their wait plus
 * margin). *ret_status gets the HTTP status; *ret_json, if not NULL, the
 * parsed response (NULL for an empty body, e.g. 204). For 4xx/5xx the
 * return value is still 0 and diag holds the server's message.
 */
int cc_client_json(struct cc_client *c, const char *method, const char *path,
    const json_t *body, long timeout, long *ret_status, json_t **ret_json,
    struct cc_diag *diag);

/* GET a text body (e.g. CSV) of at most max bytes; *ret_text is NUL-terminated, free() it. */
int cc_client_get_text(struct cc_client *c, const char *path, size_t max,
    long timeout, long *ret_status, char **ret_text, size_t *ret_len,
    struct cc_diag *diag);

/*
 * GET a binary body straight into a new file at dest (mode 0600, written
 * to dest.part then renamed), at most max bytes. On a non-2xx status the
 * file is not created.
 */
int cc_client_download(struct cc_client *c, const char *path,
    const char *dest, uint64_t max, long timeout, long *ret_status,
    struct cc_diag *diag);

/*
 * Send a binary buffer with PUT in parts of at most part_size bytes to
 * path?offset=N, in order. Stops at the first failing part: then
 * *ret_status holds its status (or the call returns CC_ERR_NETWORK).
 */
int cc_client_upload(struct cc_client *c, const char *path,
    const uint8_t *data, size_t len, size_t part_size, long timeout,
    long *ret_status, struct cc_diag *diag);

/*
 * The same from the regular file at file_path, never held whole: its
 * size is taken when it is opened and each part is read into one buffer
 * of part_size bytes just before it is sent (the buffer is wiped after:
 * batches are per-query secrets). CC_ERR_IO if the file cannot be opened
 * or read, or changes size meanwhile.
 */
int cc_client_upload_file(struct cc_client *c, const char *path,
    const char *file_path, size_t part_size, long timeout, long *ret_status,
    struct cc_diag *diag);

#endif
