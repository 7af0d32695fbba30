/* crosscount: the HTTPS client for nodes and the CLI (see client.h). */
#include "protocol/client.h"
#include "protocol/buf.h"
#include "protocol/file.h"
#include "protocol/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#define CLIENT_URL_MAX 2048
#define CLIENT_AUTH_MAX 600

struct cc_client {
	CURL *curl;
	char base_url[CLIENT_URL_MAX];
	char auth_header[CLIENT_AUTH_MAX];   /* "Authorization: Bearer ..." or "" */
	char *ca_file;
	char *cert_file;
	char *key_file;
	long connect_timeout;
	char curl_error[CURL_ERROR_SIZE];
};

/* Where a response body goes: a capped memory buffer or a file. */
struct client_sink {
	struct cc_buf *buf;
	int fd;
	uint64_t written;
	uint64_t max;
	int overflow;
	int io_error;
};

int
cc_client_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ?
	    0 : CC_ERR_NETWORK;
}

void
cc_client_global_cleanup(void)
{
	curl_global_cleanup();
}

static size_t
client_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct client_sink *sink = userdata;
	size_t n = size * nmemb;
	size_t done = 0;
	ssize_t w;

	if (n > sink->max - sink->written) {
		sink->overflow = 1;
		return 0;  /* makes libcurl abort the transfer */
	}
	if (sink->buf != NULL) {
		if (cc_buf_put(sink->buf, ptr, n) != 0) {
			sink->overflow = 1;
			return 0;
		}
	} else {
		while (done < n) {
			w = write(sink->fd, ptr + done, n - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				sink->io_error = 1;
				return 0;
			}
			done += (size_t)w;
		}
	}
	sink->written += n;
	return n;
}

static char *
client_strdup_or_null(const char *s, int *failed)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*failed = 1;
	return d;
}

int
cc_client_new(struct cc_client **ret_client, const struct cc_client_options *opt,
    struct cc_diag *diag)
{
	struct cc_client *c = NULL;
	int r = CC_ERR_INTERNAL, failed = 0;
	size_t n;

	*ret_client = NULL;
	if (opt->base_url == NULL || strncmp(opt->base_url, "https://", 8) != 0) {
		cc_diag_set(diag, "the aggregator URL must start with https://");
		r = CC_ERR_CONFIG;
		goto out;
	}
	n = strlen(opt->base_url);
	while (n > 8 && opt->base_url[n - 1] == '/')
		n--;
	if (n >= CLIENT_URL_MAX) {
		cc_diag_set(diag, "the aggregator URL is longer than %d bytes",
		    CLIENT_URL_MAX - 1);
		r = CC_ERR_CONFIG;
		goto out;
	}
	if (opt->ca_file == NULL || opt->ca_file[0] == '\0') {
		cc_diag_set(diag, "no CA file to verify the aggregator with");
		r = CC_ERR_CONFIG;
		goto out;
	}
	if ((opt->cert_file == NULL) != (opt->key_file == NULL)) {
		cc_diag_set(diag, "a client certificate needs its key and the other way round");
		r = CC_ERR_CONFIG;
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	memcpy(c->base_url, opt->base_url, n);
	c->base_url[n] = '\0';
	if (opt->bearer_token != NULL && opt->bearer_token[0] != '\0') {
		if (strpbrk(opt->bearer_token, "\r\n") != NULL ||
		    (size_t)snprintf(c->auth_header, sizeof(c->auth_header),
		    "Authorization: Bearer %s", opt->bearer_token) >=
		    sizeof(c->auth_header)) {
			cc_diag_set(diag, "the API token is malformed");
			r = CC_ERR_CONFIG;
			goto out;
		}
	}
	c->ca_file = client_strdup_or_null(opt->ca_file, &failed);
	c->cert_file = client_strdup_or_null(opt->cert_file, &failed);
	c->key_file = client_strdup_or_null(opt->key_file, &failed);
	c->connect_timeout = opt->connect_timeout > 0 ? opt->connect_timeout : 10;
	if (failed || (c->curl = curl_easy_init()) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	*ret_client = c;
	c = NULL;
	r = 0;
out:
	cc_client_free(c);
	return r;
}

void
cc_client_free(struct cc_client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	sodium_memzero(c->auth_header, sizeof(c->auth_header));
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	free(c);
}

/*
 * Reset the handle and apply what every request needs. SPEC 14: HTTPS
 * only, TLS 1.2+, the server verified against the pinned CA and its name.
 */
static int
client_setup(struct cc_client *c, long timeout)
{
	CURL *h = c->curl;

	curl_easy_reset(h);
	c->curl_error[0] = '\0';
	if (curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_CAPATH, NULL) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, c->connect_timeout) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout > 0 ? timeout : 60L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_error) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, client_write) != CURLE_OK)
		return CC_ERR_NETWORK;
	if (c->cert_file != NULL &&
	    (curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert_file) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSLKEY, c->key_file) != CURLE_OK))
		return CC_ERR_CONFIG;
	return 0;
}

/* The server's error sentence from {"error": {"message": "..."}}. */
static void
client_error_message(const struct cc_buf *body, long status, struct cc_diag *diag)
{
	json_t *root, *msg;

	root = json_loadb((const char *)cc_buf_data(body), cc_buf_len(body), 0, NULL);
	msg = json_object_get(json_object_get(root, "error"), "message");
	if (json_is_string(msg))
		cc_diag_set(diag, "HTTP %ld: %s", status, json_string_value(msg));
	else
		cc_diag_set(diag, "HTTP %ld", status);
	json_decref(root);
}

/*
 * One request. body (len bytes, may be NULL) is sent with content_type;
 * the response goes to sink. On a transport failure returns
 * CC_ERR_NETWORK with libcurl's reason in diag.
 */
static int
client_perform(struct cc_client *c, const char *method, const char *path,
    const char *content_type, const void *body, size_t len,
    struct client_sink *sink, long timeout, long *ret_status,
    struct cc_diag *diag)
{
	struct curl_slist *headers = NULL, *h;
	char url[CLIENT_URL_MAX * 2];
	char ctype[128];
	CURLcode cr;
	int r = CC_ERR_INTERNAL;

	*ret_status = 0;
	if (path[0] != '/' ||
	    (size_t)snprintf(url, sizeof(url), "%s%s", c->base_url, path) >=
	    sizeof(url)) {
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if ((r = client_setup(c, timeout)) != 0) {
		cc_diag_set(diag, "libcurl lacks a required TLS option");
		goto out;
	}
	/* No "Expect: 100-continue" round trip before uploads. */
	if ((h = curl_slist_append(headers, "Expect:")) == NULL)
		goto alloc;
	headers = h;
	if (c->auth_header[0] != '\0') {
		if ((h = curl_slist_append(headers, c->auth_header)) == NULL)
			goto alloc;
		headers = h;
	}
	if (content_type != NULL) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s", content_type);
		if ((h = curl_slist_append(headers, ctype)) == NULL)
			goto alloc;
		headers = h;
	}
	r = CC_ERR_NETWORK;
	if (curl_easy_setopt(c->curl, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
	    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, sink) != CURLE_OK)
		goto out;
	if (strcmp(method, "GET") == 0) {
		if (curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L) != CURLE_OK)
			goto out;
	} else {
		if (curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK)
			goto out;
		/* The body is borrowed: it outlives curl_easy_perform below. */
		if (body != NULL || strcmp(method, "DELETE") != 0) {
			if (curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS,
			    body != NULL ? body : "") != CURLE_OK ||
			    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)len) != CURLE_OK)
				goto out;
		}
	}
	cr = curl_easy_perform(c->curl);
	if (cr != CURLE_OK) {
		if (sink->overflow) {
			cc_diag_set(diag, "the answer is larger than %" PRIu64 " bytes",
			    sink->max);
			r = CC_ERR_LIMIT;
		} else if (sink->io_error) {
			cc_diag_set(diag, "cannot write the download: %s",
			    strerror(errno));
			r = CC_ERR_IO;
		} else {
			cc_diag_set(diag, "%s", c->curl_error[0] != '\0' ?
			    c->curl_error : curl_easy_strerror(cr));
			r = cr == CURLE_OPERATION_TIMEDOUT ? CC_ERR_TIMEOUT :
			    CC_ERR_NETWORK;
		}
		goto out;
	}
	if (curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, ret_status) != CURLE_OK)
		goto out;
	r = 0;
	goto out;
alloc:
	r = CC_ERR_ALLOC;
out:
	curl_slist_free_all(headers);
	return r;
}

int
cc_client_json(struct cc_client *c, const char *method, const char *path,
    const json_t *body, long timeout, long *ret_status, json_t **ret_json,
    struct cc_diag *diag)
{
	struct client_sink sink = { .fd = -1, .max = CC_LIMIT_HTTP_RESPONSE };
	char *text = NULL;
	json_t *parsed = NULL;
	json_error_t jerr;
	int r = CC_ERR_INTERNAL;

	*ret_status = 0;
	if (ret_json != NULL)
		*ret_json = NULL;
	if ((sink.buf = cc_buf_new(CC_LIMIT_HTTP_RESPONSE)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if (body != NULL &&
	    (text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if ((r = client_perform(c, method, path,
	    body != NULL ? "application/json" : NULL, text,
	    text != NULL ? strlen(text) : 0, &sink, timeout, ret_status,
	    diag)) != 0)
		goto out;
	if (*ret_status >= 400) {
		client_error_message(sink.buf, *ret_status, diag);
		r = 0;
		goto out;
	}
	if (ret_json != NULL && cc_buf_len(sink.buf) > 0) {
		parsed = json_loadb((const char *)cc_buf_data(sink.buf),
		    cc_buf_len(sink.buf), JSON_REJECT_DUPLICATES, &jerr);
		if (parsed == NULL) {
			cc_diag_set(diag, "the aggregator's answer is not JSON: %s",
			    jerr.text);
			r = CC_ERR_FORMAT;
			goto out;
		}
		*ret_json = parsed;
		parsed = NULL;
	}
	r = 0;
out:
	json_decref(parsed);
	free(text);
	cc_buf_free(sink.buf);
	return r;
}

int
cc_client_get_text(struct cc_client *c, const char *path, size_t max,
    long timeout, long *ret_status, char **ret_text, size_t *ret_len,
    struct cc_diag *diag)
{
	struct client_sink sink = { .fd = -1, .max = max };
	char *text = NULL;
	size_t n;
	int r = CC_ERR_INTERNAL;

	*ret_status = 0;
	*ret_text = NULL;
	*ret_len = 0;
	if ((sink.buf = cc_buf_new(max)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if ((r = client_perform(c, "GET", path, NULL, NULL, 0, &sink, timeout,
	    ret_status, diag)) != 0)
		goto out;
	if (*ret_status >= 400) {
		client_error_message(sink.buf, *ret_status, diag);
		r = 0;
		goto out;
	}
	n = cc_buf_len(sink.buf);
	if ((text = malloc(n + 1)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if (n > 0)
		memcpy(text, cc_buf_data(sink.buf), n);
	text[n] = '\0';
	*ret_text = text;
	*ret_len = n;
	text = NULL;
	r = 0;
out:
	free(text);
	cc_buf_free(sink.buf);
	return r;
}

int
cc_client_download(struct cc_client *c, const char *path, const char *dest,
    uint64_t max, long timeout, long *ret_status, struct cc_diag *diag)
{
	struct client_sink sink = { .fd = -1, .max = max };
	char part[4096];
	int r = CC_ERR_INTERNAL, have_part = 0;

	*ret_status = 0;
	if ((size_t)snprintf(part, sizeof(part), "%s.part", dest) >= sizeof(part)) {
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	sink.fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (sink.fd < 0) {
		cc_diag_set(diag, "cannot create %s: %s", part, strerror(errno));
		r = CC_ERR_IO;
		goto out;
	}
	have_part = 1;
	if ((r = client_perform(c, "GET", path, NULL, NULL, 0, &sink, timeout,
	    ret_status, diag)) != 0)
		goto out;
	if (*ret_status < 200 || *ret_status > 299) {
		cc_diag_set(diag, "HTTP %ld", *ret_status);
		r = 0;
		goto out;
	}
	if (fsync(sink.fd) != 0 || close(sink.fd) != 0) {
		sink.fd = -1;
		cc_diag_set(diag, "cannot write %s: %s", part, strerror(errno));
		r = CC_ERR_IO;
		goto out;
	}
	sink.fd = -1;
	if (rename(part, dest) != 0) {
		cc_diag_set(diag, "cannot rename %s: %s", part, strerror(errno));
		r = CC_ERR_IO;
		goto out;
	}
	have_part = 0;
	r = 0;
out:
	if (sink.fd >= 0)
		close(sink.fd);
	if (have_part)
		unlink(part);
	return r;
}

/*
 * One part of an upload: PUT len bytes at offset off. 0 with *ret_status
 * (a refusal's message in diag), or our own error.
 */
static int
client_put_part(struct cc_client *c, const char *path, size_t off,
    const uint8_t *data, size_t len, struct client_sink *sink, long timeout,
    long *ret_status, struct cc_diag *diag)
{
	char url[CLIENT_URL_MAX];
	int r;

	if ((size_t)snprintf(url, sizeof(url), "%s?offset=%zu", path, off) >=
	    sizeof(url))
		return CC_ERR_INVALID_ARGUMENT;
	cc_buf_reset(sink->buf);
	sink->written = 0;
	if ((r = client_perform(c, "PUT", url, "application/octet-stream",
	    data, len, sink, timeout, ret_status, diag)) != 0)
		return r;
	if (*ret_status < 200 || *ret_status > 299)
		client_error_message(sink->buf, *ret_status, diag);
	return 0;
}

static bool
client_refused(long status)
{
	return status < 200 || status > 299;
}

int
cc_client_upload(struct cc_client *c, const char *path, const uint8_t *data,
    size_t len, size_t part_size, long timeout, long *ret_status,
    struct cc_diag *diag)
{
	struct client_sink sink = { .fd = -1, .max = CC_LIMIT_HTTP_RESPONSE };
	size_t off = 0, n;
	int r = CC_ERR_INTERNAL;

	*ret_status = 0;
	if (part_size == 0 || part_size > CC_LIMIT_UPLOAD_PART)
		part_size = CC_LIMIT_UPLOAD_PART;
	if ((sink.buf = cc_buf_new(CC_LIMIT_HTTP_RESPONSE)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	do {
		n = len - off < part_size ? len - off : part_size;
		if ((r = client_put_part(c, path, off, data + off, n, &sink,
		    timeout, ret_status, diag)) != 0 ||
		    client_refused(*ret_status))
			goto out;
		off += n;
	} while (off < len);
	r = 0;
out:
	cc_buf_free(sink.buf);
	return r;
}

int
cc_client_upload_file(struct cc_client *c, const char *path,
    const char *file_path, size_t part_size, long timeout, long *ret_status,
    struct cc_diag *diag)
{
	struct client_sink sink = { .fd = -1, .max = CC_LIMIT_HTTP_RESPONSE };
	struct stat st;
	uint8_t *part = NULL;
	size_t off = 0, n, len, cap = 0;
	int fd = -1, r = CC_ERR_INTERNAL;

	if (ret_status == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_status = 0;
	if (c == NULL || path == NULL || file_path == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if (part_size == 0 || part_size > CC_LIMIT_UPLOAD_PART)
		part_size = CC_LIMIT_UPLOAD_PART;
	if ((fd = open(file_path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) != 0) {
		cc_diag_set(diag, "cannot open %s: %s", file_path,
		    strerror(errno));
		r = CC_ERR_IO;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 0 ||
	    (uintmax_t)st.st_size > SIZE_MAX) {
		cc_diag_set(diag, "%s is not a regular file", file_path);
		r = CC_ERR_IO;
		goto out;
	}
	len = (size_t)st.st_size;
	cap = len < part_size ? len : part_size;
	if ((part = malloc(cap > 0 ? cap : 1)) == NULL ||
	    (sink.buf = cc_buf_new(CC_LIMIT_HTTP_RESPONSE)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	/* As cc_client_upload: parts in order, an empty file one empty PUT. */
	do {
		n = len - off < part_size ? len - off : part_size;
		if (cc_file_pread_all(fd, part, n, (off_t)off) != 0) {
			if (errno == EIO)
				cc_diag_set(diag, "%s changed while it was sent",
				    file_path);
			else
				cc_diag_set(diag, "cannot read %s: %s", file_path,
				    strerror(errno));
			r = CC_ERR_IO;
			goto out;
		}
		if ((r = client_put_part(c, path, off, part, n, &sink, timeout,
		    ret_status, diag)) != 0 || client_refused(*ret_status))
			goto out;
		off += n;
	} while (off < len);
	/* Every part was read: the file must not have grown meanwhile. */
	if (fstat(fd, &st) != 0 || (uintmax_t)st.st_size != len) {
		cc_diag_set(diag, "%s changed while it was sent", file_path);
		r = CC_ERR_IO;
		goto out;
	}
	r = 0;
out:
	if (part != NULL) {
		sodium_memzero(part, cap > 0 ? cap : 1);
		free(part);
	}
	if (fd >= 0)
		close(fd);
	cc_buf_free(sink.buf);
	return r;
}
