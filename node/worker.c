/*
 * crosscount-node: the query worker (worker.h; SPEC.md 7.4, 8.3, 8.4,
 * 12.1, 14; docs/api.md node endpoints).
 */
#include "node/worker.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "node/querykey.h"
#include "node/querylog.h"
#include "node/steps.h"
#include "protocol/batch.h"
#include "protocol/client.h"
#include "protocol/date.h"
#include "protocol/hex.h"
#include "protocol/sign.h"

#define PATH_BUF 4096
#define API_PATH 256
/* Seconds a JSON request may take; a long poll adds its wait. */
#define REQUEST_TIMEOUT 60
#define POLL_MARGIN 30
#define DAY_SECONDS 86400
#define TIME_TEXT CC_DATE_TIME_TEXT

/* What a failed request means for the loop. */
enum outcome {
	OUTCOME_DONE = 0,     /* handled (or nothing more to do) */
	OUTCOME_RETRY,        /* no answer or a 5xx: back off, try again */
};

struct worker {
	const struct cc_worker_options *opt;
	const struct cc_node_config *cfg;
	const char *dir;
	char qdir[PATH_BUF];
	struct cc_client *client;
	struct cc_signer *signer;
	struct cc_trust *trust;
	bool catalogue_sent;
	int64_t catalogue_import;   /* latest import id when it was sent */
	time_t last_sweep;
	/* Backoff: failures in a row, and the kind of trouble last logged. */
	unsigned failures;
	char trouble[64];
};

/* ---- small helpers ---- */

static void
time_text(char out[TIME_TEXT], int64_t t)
{
	if (cc_date_time_text(out, t) != 0)
		snprintf(out, TIME_TEXT, "?");
}

static void wlog(struct worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One line per event; the caller never passes an identity or a key. */
static void
wlog(struct worker *w, const char *fmt, ...)
{
	char stamp[TIME_TEXT];
	va_list ap;
	FILE *out = w->opt->log != NULL ? w->opt->log : stderr;

	time_text(stamp, (int64_t)time(NULL));
	fprintf(out, "%s crosscount-node[%s]: ", stamp, w->cfg->id);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	fflush(out);
}

/* A path from node.conf: relative paths are relative to the node dir. */
static int
resolve(char *out, size_t outsz, const char *dir, const char *path)
{
	int n = path[0] == '/' ? snprintf(out, outsz, "%s", path) :
	    snprintf(out, outsz, "%s/%s", dir, path);

	return n >= 0 && (size_t)n < outsz ? 0 : CC_ERR_LIMIT;
}

/* "YYYY-MM-DDTHH:MM:SSZ" exactly (docs/api.md times) to epoch seconds. */
static int
parse_time(const char *s, int64_t *ret)
{
	struct cc_date d;
	struct tm tm;
	int hh, mm, ss;
	time_t t;

	*ret = 0;
	if (s == NULL || strlen(s) != 20 || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != 'Z' ||
	    cc_date_parse(&d, s, 10, NULL) != 0)
		return CC_ERR_FORMAT;
	if (s[11] < '0' || s[11] > '9' || s[12] < '0' || s[12] > '9' ||
	    s[14] < '0' || s[14] > '9' || s[15] < '0' || s[15] > '9' ||
	    s[17] < '0' || s[17] > '9' || s[18] < '0' || s[18] > '9')
		return CC_ERR_FORMAT;
	hh = (s[11] - '0') * 10 + (s[12] - '0');
	mm = (s[14] - '0') * 10 + (s[15] - '0');
	ss = (s[17] - '0') * 10 + (s[18] - '0');
	if (hh > 23 || mm > 59 || ss > 60)
		return CC_ERR_FORMAT;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = d.year - 1900;
	tm.tm_mon = d.month - 1;
	tm.tm_mday = d.day;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	if ((t = timegm(&tm)) == (time_t)-1)
		return CC_ERR_FORMAT;
	*ret = (int64_t)t;
	return 0;
}

/* Cut s to at most max bytes without splitting a UTF-8 sequence. */
static void
utf8_cut(char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	s[n] = '\0';
}

int
cc_worker_reason_check(const char *reason, struct cc_diag *diag)
{
	const unsigned char *p = (const unsigned char *)reason;
	size_t len, i, digits = 0;

	if (reason == NULL || (len = strlen(reason)) == 0) {
		cc_diag_set(diag, "the reason is empty");
		return CC_ERR_INVALID_ARGUMENT;
	}
	if (len > CC_WORKER_REASON_MAX) {
		cc_diag_set(diag, "the reason is %zu bytes, at most %d are "
		    "allowed", len, CC_WORKER_REASON_MAX);
		return CC_ERR_INVALID_ARGUMENT;
	}
	for (i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f) {
			cc_diag_set(diag, "the reason contains a control "
			    "character");
			return CC_ERR_INVALID_ARGUMENT;
		}
		digits = p[i] >= '0' && p[i] <= '9' ? digits + 1 : 0;
		if (digits >= 6) {
			cc_diag_set(diag, "the reason contains six or more digits "
			    "in a row (it could be a personnummer)");
			return CC_ERR_INVALID_ARGUMENT;
		}
	}
	/* Valid UTF-8 (Jansson checks it exactly). */
	{
		json_t *s = json_stringn(reason, len);

		if (s == NULL) {
			cc_diag_set(diag, "the reason is not valid UTF-8");
			return CC_ERR_INVALID_ARGUMENT;
		}
		json_decref(s);
	}
	return 0;
}

/* ---- the decision ---- */

int
cc_worker_decide(const struct cc_node_config *cfg, const struct cc_query *q,
    const char *const *task_nodes, size_t ntask_nodes,
    unsigned approved_last_day, enum cc_policy_verdict *ret_verdict,
    struct cc_diag *diag)
{
	const char *peers[CC_LIMIT_QUERY_NODES];
	const char *cats[CC_LIMIT_CATEGORIES_PER_SET];
	const struct cc_query_set *set = NULL;
	struct cc_policy_request req;
	size_t i, j, nsets = 0, npeers = 0;

	if (ret_verdict == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_verdict = CC_POLICY_REFUSE;
	if (cfg == NULL || q == NULL || (ntask_nodes > 0 && task_nodes == NULL))
		return CC_ERR_INVALID_ARGUMENT;
	/* 1. This node in exactly one set. */
	for (i = 0; i < q->nsets; i++)
		for (j = 0; j < q->sets[i].nnodes; j++)
			if (strcmp(q->sets[i].nodes[j], cfg->id) == 0) {
				set = &q->sets[i];
				nsets++;
			}
	if (nsets != 1) {
		cc_diag_set(diag, nsets == 0 ? "the query names this node (%s) "
		    "in no set" : "the query names this node (%s) in more than "
		    "one set", cfg->id);
		return 0;
	}
	/* 2. The node list the aggregator sent is the query's own. */
	if (ntask_nodes != q->nnodes) {
		cc_diag_set(diag, "the task lists %zu nodes, the query has %zu",
		    ntask_nodes, q->nnodes);
		return 0;
	}
	for (i = 0; i < ntask_nodes; i++) {
		if (task_nodes[i] == NULL ||
		    strcmp(task_nodes[i], q->nodes[i]) != 0) {
			cc_diag_set(diag, "the task's node list is not the "
			    "query's sorted node list (position %zu)", i);
			return 0;
		}
		if (strcmp(q->nodes[i], cfg->id) != 0)
			peers[npeers++] = q->nodes[i];
	}
	/* 4 (first half). A set without categories uses all of them. */
	if (set->ncategories == 0 && !cfg->policy.any_category) {
		cc_diag_set(diag, "this node's set names no categories, i.e. "
		    "every category, but the policy allows only some "
		    "(node.conf [policy] categories)");
		return 0;
	}
	for (i = 0; i < set->ncategories; i++)
		cats[i] = set->categories[i];
	/* 3, 4, 5, 6: peers, categories, min_cell, queries per day. */
	memset(&req, 0, sizeof(req));
	req.peers = peers;
	req.npeers = npeers;
	req.categories = cats;
	req.ncategories = set->ncategories;
	req.min_cell = q->min_cell > (uint32_t)INT32_MAX ? INT32_MAX :
	    (int)q->min_cell;
	req.largest_batch = 0;  /* checked at each relay (max_peer_batch) */
	req.queries_today = approved_last_day;
	return cc_policy_evaluate(&cfg->policy, &req, ret_verdict, diag);
}

/* ---- the aggregator connection ---- */

static int
client_open(struct cc_client **ret, const char *dir,
    const struct cc_node_config *cfg, struct cc_diag *diag)
{
	struct cc_client_options o;
	char ca[PATH_BUF], cert[PATH_BUF], key[PATH_BUF];

	*ret = NULL;
	if (cfg->aggregator_url[0] == '\0' || cfg->ca_file[0] == '\0' ||
	    cfg->cert_file[0] == '\0' || cfg->key_file[0] == '\0') {
		cc_diag_set(diag, "node.conf [aggregator] needs url, ca, cert "
		    "and key");
		return CC_ERR_CONFIG;
	}
	if (resolve(ca, sizeof(ca), dir, cfg->ca_file) != 0 ||
	    resolve(cert, sizeof(cert), dir, cfg->cert_file) != 0 ||
	    resolve(key, sizeof(key), dir, cfg->key_file) != 0) {
		cc_diag_set(diag, "a path in node.conf [aggregator] is too long");
		return CC_ERR_CONFIG;
	}
	memset(&o, 0, sizeof(o));
	o.base_url = cfg->aggregator_url;
	o.ca_file = ca;
	o.cert_file = cert;
	o.key_file = key;
	return cc_client_new(ret, &o, diag);
}

/* POST .../decision. */
static int
send_decision(struct cc_client *c, const char *query_id, bool approve,
    const char *reason, long *ret_status, struct cc_diag *diag)
{
	char path[API_PATH], why[CC_WORKER_REASON_MAX + 64];
	json_t *body;
	int r;

	snprintf(path, sizeof(path), "/api/v1/node/queries/%s/decision",
	    query_id);
	if (approve) {
		body = json_pack("{s:s}", "decision", "approve");
	} else {
		snprintf(why, sizeof(why), "%s", reason != NULL && reason[0] ?
		    reason : "rejected by the node");
		utf8_cut(why, CC_WORKER_REASON_MAX);
		body = json_pack("{s:s, s:s}", "decision", "reject", "reason",
		    why);
	}
	if (body == NULL)
		return CC_ERR_ALLOC;
	r = cc_client_json(c, "POST", path, body, REQUEST_TIMEOUT, ret_status,
	    NULL, diag);
	json_decref(body);
	return r;
}

/* ---- backoff ---- */

/* Sleep up to seconds, returning early when asked to stop. */
static void
nap(struct worker *w, unsigned ms)
{
	struct timespec ts;

	while (ms > 0 && !*w->opt->stop) {
		unsigned step = ms > 200 ? 200 : ms;

		ts.tv_sec = 0;
		ts.tv_nsec = (long)step * 1000000L;
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

/*
 * The aggregator did not answer (or answered 5xx, or refused the node):
 * wait 1, 2, 4 ... up to CC_WORKER_BACKOFF_MAX seconds, with jitter (a
 * random point in the upper half). The message is logged only when the
 * kind of trouble changes (the text itself may vary from try to try).
 */
static void
backoff(struct worker *w, const char *kind, const char *message)
{
	unsigned delay = CC_WORKER_BACKOFF_MIN, i, ms;

	if (strcmp(kind, w->trouble) != 0) {
		wlog(w, "%s; retrying with backoff (at most every %d s)",
		    message, CC_WORKER_BACKOFF_MAX);
		snprintf(w->trouble, sizeof(w->trouble), "%s", kind);
	}
	for (i = 0; i < w->failures && delay < CC_WORKER_BACKOFF_MAX; i++)
		delay *= 2;
	if (delay > CC_WORKER_BACKOFF_MAX)
		delay = CC_WORKER_BACKOFF_MAX;
	if (w->failures < 64)
		w->failures++;
	ms = delay * 500 + randombytes_uniform(delay * 500 + 1);
	nap(w, ms);
}

static void
reachable(struct worker *w)
{
	if (w->trouble[0] != '\0')
		wlog(w, "working again (after %u failed attempts)",
		    w->failures);
	w->trouble[0] = '\0';
	w->failures = 0;
}

/* ---- catalogue ---- */

static int
latest_import(struct worker *w, int64_t *ret_id, struct cc_diag *diag)
{
	struct cc_store_import_record *rec;
	size_t n = 0;
	int r;

	*ret_id = 0;
	if ((rec = malloc(sizeof(*rec))) == NULL)
		return CC_ERR_ALLOC;
	r = cc_store_recent_imports(w->opt->st, rec, 1, &n, diag);
	if (r == 0 && n == 1)
		*ret_id = rec->id;
	free(rec);
	return r;
}

/* PUT /api/v1/node/catalogue: sector, categories, period; no counts. */
static enum outcome
publish_catalogue(struct worker *w, int64_t import_id)
{
	struct cc_store_stats *s = NULL;
	struct cc_diag d = { "" };
	json_t *body = NULL, *cats = NULL;
	char from[8], to[8], trouble[CC_DIAG_MAX + 64], kind[32];
	enum outcome out = OUTCOME_DONE;
	long status = 0;
	size_t i, n = 0;
	int r;

	if ((s = malloc(sizeof(*s))) == NULL ||
	    (cats = json_array()) == NULL) {
		wlog(w, "catalogue: out of memory");
		out = OUTCOME_RETRY;
		goto out;
	}
	if ((r = cc_store_stats(w->opt->st, s, &d)) != 0) {
		wlog(w, "catalogue: %s: %s", cc_strerror(r), d.text);
		out = OUTCOME_RETRY;
		goto out;
	}
	for (i = 0; i < s->ncategories; i++) {
		/* A name no query can ask for (SPEC 7.2; a store filled before
		 * the import checked that rule) would make the aggregator
		 * refuse the whole catalogue. */
		if (!cc_node_policy_allows_category(&w->cfg->policy,
		    s->category[i].name) ||
		    !cc_query_category_valid(s->category[i].name,
		    strlen(s->category[i].name)))
			continue;
		if (json_array_append_new(cats,
		    json_string(s->category[i].name)) != 0) {
			out = OUTCOME_RETRY;
			goto out;
		}
		n++;
	}
	/* Queries run over whole months (SPEC 7.1). */
	if (s->have_period) {
		cc_month_format(from, cc_date_month_index(&s->first));
		cc_month_format(to, cc_date_month_index(&s->last));
	}
	body = json_pack("{s:s, s:O, s:o}", "sector",
	    cc_sector_name(w->cfg->sector), "categories", cats, "period",
	    s->have_period ? json_pack("{s:s, s:s}", "from", from, "to", to) :
	    json_null());
	if (body == NULL) {
		out = OUTCOME_RETRY;
		goto out;
	}
	r = cc_client_json(w->client, "PUT", "/api/v1/node/catalogue", body,
	    REQUEST_TIMEOUT, &status, NULL, &d);
	if (r != 0 || status >= 500 || status == 401 || status == 403) {
		snprintf(trouble, sizeof(trouble), "cannot publish the "
		    "catalogue: %s", r != 0 ? d.text : d.text[0] ? d.text :
		    "refused");
		snprintf(kind, sizeof(kind), "catalogue %ld", status);
		backoff(w, kind, trouble);
		out = OUTCOME_RETRY;
		goto out;
	}
	reachable(w);
	if (status < 200 || status > 299) {
		/* A 4xx is a fault of ours that retrying will not fix:
		 * say so once and go on polling. */
		wlog(w, "the aggregator refused the catalogue: %s", d.text);
	} else {
		wlog(w, "published the catalogue: %zu categories, %s to %s",
		    n, s->have_period ? from : "-", s->have_period ? to : "-");
	}
	w->catalogue_sent = true;
	w->catalogue_import = import_id;
out:
	json_decref(body);
	json_decref(cats);
	free(s);
	return out;
}

/* ---- files of a query in DIR/queries ---- */

static int
batch_path(char *out, size_t outsz, const struct worker *w,
    const char *query_id, unsigned chain, unsigned hop, const char *ext)
{
	return (size_t)snprintf(out, outsz, "%s/%s.%u-%u.%s", w->qdir, query_id,
	    chain, hop, ext) < outsz ? 0 : CC_ERR_LIMIT;
}

/*
 * Delete every batch file of query_id in DIR/queries ("<id>.*" other
 * than the key, which querykey destroys). With query_id NULL: the files
 * of every query whose key is gone (left by a crash).
 */
static void
remove_batches(struct worker *w, const char *query_id)
{
	char path[PATH_BUF], id[CC_QUERY_ID_HEX + 1];
	struct dirent *e;
	DIR *d;

	if ((d = opendir(w->qdir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strlen(e->d_name) <= CC_QUERY_ID_HEX + 1 ||
		    e->d_name[CC_QUERY_ID_HEX] != '.' ||
		    strcmp(e->d_name + CC_QUERY_ID_HEX, ".r") == 0)
			continue;
		memcpy(id, e->d_name, CC_QUERY_ID_HEX);
		id[CC_QUERY_ID_HEX] = '\0';
		if (!cc_querykey_id_valid(id))
			continue;
		if (query_id != NULL && strcmp(id, query_id) != 0)
			continue;
		if (query_id == NULL) {
			if ((size_t)snprintf(path, sizeof(path), "%s/%s.r",
			    w->qdir, id) >= sizeof(path) ||
			    access(path, F_OK) == 0)
				continue;
		}
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", w->qdir,
		    e->d_name) < sizeof(path))
			unlink(path);
	}
	closedir(d);
}

static void
on_swept(void *ctx, const char *query_id)
{
	struct worker *w = ctx;

	remove_batches(w, query_id);
	wlog(w, "query %s: its deadline passed %d s ago without an end from "
	    "the aggregator; its key r and batches are destroyed", query_id,
	    CC_WORKER_SWEEP_MARGIN);
}

static void
sweep(struct worker *w)
{
	struct cc_diag d = { "" };
	int r;

	w->last_sweep = time(NULL);
	if ((r = cc_querykey_sweep(w->dir, (int64_t)w->last_sweep,
	    CC_WORKER_SWEEP_MARGIN, on_swept, w, NULL, &d)) != 0)
		wlog(w, "sweeping expired query keys: %s: %s", cc_strerror(r),
		    d.text);
	remove_batches(w, NULL);
}

/* ---- tasks ---- */

/* The common part of approve and step tasks. */
static int
task_query(struct cc_worker_task *t, const json_t *o, struct cc_diag *diag)
{
	const json_t *nodes, *v;
	const char *y;
	size_t i;
	int r;

	if ((r = cc_query_from_json(&t->q, json_object_get(o, "query"),
	    diag)) != 0) {
		cc_diag_prefix(diag, "query: ");
		return r;
	}
	nodes = json_object_get(o, "nodes");
	if (!json_is_array(nodes) || json_array_size(nodes) < 1 ||
	    json_array_size(nodes) > CC_LIMIT_QUERY_NODES) {
		cc_diag_set(diag, "nodes: not an array of 1 to %d node ids",
		    CC_LIMIT_QUERY_NODES);
		return CC_ERR_FORMAT;
	}
	t->nnodes = json_array_size(nodes);
	for (i = 0; i < t->nnodes; i++) {
		v = json_array_get(nodes, i);
		if (!json_is_string(v) || !cc_query_node_id_valid(
		    json_string_value(v), json_string_length(v))) {
			cc_diag_set(diag, "nodes[%zu]: not a node id", i);
			return CC_ERR_FORMAT;
		}
		memcpy(t->nodes[i], json_string_value(v),
		    json_string_length(v) + 1);
	}
	if (parse_time(json_string_value(json_object_get(o, "deadline")),
	    &t->deadline) != 0) {
		cc_diag_set(diag, "deadline: not an RFC 3339 UTC time");
		return CC_ERR_FORMAT;
	}
	y = json_string_value(json_object_get(o, "attribute_key"));
	if (!cc_hex_valid(y, 2 * CC_ELEMENT_BYTES) ||
	    sodium_hex2bin(t->y_pub, sizeof(t->y_pub), y, 2 * CC_ELEMENT_BYTES,
	    NULL, NULL, NULL) != 0 || cc_group_element_check(t->y_pub) != 0) {
		cc_diag_set(diag, "attribute_key: not a valid element (64 hex)");
		return CC_ERR_FORMAT;
	}
	return 0;
}

/* An integer field lo..hi. */
static bool
int_in(const json_t *o, const char *key, json_int_t lo, json_int_t hi,
    json_int_t *ret)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi)
		return false;
	*ret = json_integer_value(v);
	return true;
}

void
cc_worker_task_clear(struct cc_worker_task *t)
{
	if (t == NULL)
		return;
	cc_query_free(t->q);
	memset(t, 0, sizeof(*t));
}

int
cc_worker_task_parse(struct cc_worker_task *ret_task, const json_t *o,
    struct cc_diag *diag)
{
	struct cc_worker_task *t = ret_task;
	const char *kind, *id, *s;
	const json_t *v;
	json_int_t x;
	size_t len, i;
	int r;

	if (t == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	memset(t, 0, sizeof(*t));
	if (!json_is_object(o)) {
		cc_diag_set(diag, "a task is not an object");
		return CC_ERR_FORMAT;
	}
	id = json_string_value(json_object_get(o, "query_id"));
	if (!cc_querykey_id_valid(id)) {
		cc_diag_set(diag, "query_id: not 32 lowercase hex characters");
		return CC_ERR_FORMAT;
	}
	memcpy(t->query_id, id, CC_QUERY_ID_HEX + 1);
	if (sodium_hex2bin(t->qid, sizeof(t->qid), id, CC_QUERY_ID_HEX, NULL,
	    NULL, NULL) != 0)
		return CC_ERR_INTERNAL;
	kind = json_string_value(json_object_get(o, "kind"));
	if (kind != NULL && strcmp(kind, "approve") == 0) {
		t->kind = CC_WORKER_TASK_APPROVE;
	} else if (kind != NULL && strcmp(kind, "step") == 0) {
		t->kind = CC_WORKER_TASK_STEP;
	} else if (kind != NULL && strcmp(kind, "forget") == 0) {
		t->kind = CC_WORKER_TASK_FORGET;
	} else {
		cc_diag_set(diag, "kind: not approve, step or forget");
		r = CC_ERR_FORMAT;
		goto fail;
	}

	if (t->kind == CC_WORKER_TASK_FORGET) {
		s = json_string_value(json_object_get(o, "status"));
		len = s != NULL ? strlen(s) : 0;
		for (i = 0; i < len; i++)
			if (!(s[i] >= 'a' && s[i] <= 'z') && s[i] != '_')
				break;
		if (len == 0 || len > CC_QUERYLOG_STATUS_MAX || i != len) {
			cc_diag_set(diag, "status: not a query status");
			r = CC_ERR_FORMAT;
			goto fail;
		}
		memcpy(t->status, s, len + 1);
		v = json_object_get(o, "result_digest");
		if (v != NULL && !json_is_null(v)) {
			if (!cc_hex_valid(json_string_value(v), 64)) {
				cc_diag_set(diag, "result_digest: not 64 hex");
				r = CC_ERR_FORMAT;
				goto fail;
			}
			memcpy(t->result_digest, json_string_value(v), 65);
			t->has_result_digest = true;
		}
		v = json_object_get(o, "reason");
		if (v != NULL && !json_is_null(v)) {
			if (!json_is_string(v)) {
				cc_diag_set(diag, "reason: not a string");
				r = CC_ERR_FORMAT;
				goto fail;
			}
			/* The aggregator's sentence; kept to what the log holds. */
			snprintf(t->reason, sizeof(t->reason), "%s",
			    json_string_value(v));
			utf8_cut(t->reason, CC_QUERYLOG_REASON_MAX);
			t->has_reason = true;
		}
		return 0;
	}

	if ((r = task_query(t, o, diag)) != 0)
		goto fail;
	if (t->kind == CC_WORKER_TASK_APPROVE) {
		s = json_string_value(json_object_get(o, "owner"));
		if (s == NULL || s[0] == '\0' || strlen(s) > CC_LIMIT_USERNAME) {
			cc_diag_set(diag, "owner: not a user name of 1 to %d "
			    "bytes", CC_LIMIT_USERNAME);
			r = CC_ERR_FORMAT;
			goto fail;
		}
		memcpy(t->owner, s, strlen(s) + 1);
		return 0;
	}
	/* A step: chain and hop index the task's node list (SPEC 8.2). */
	if (!int_in(o, "chain", 0, (json_int_t)t->nnodes - 1, &x)) {
		cc_diag_set(diag, "chain: not 0 to %zu", t->nnodes - 1);
		r = CC_ERR_FORMAT;
		goto fail;
	}
	t->chain = (uint16_t)x;
	if (!int_in(o, "hop", 0, (json_int_t)t->nnodes - 1, &x)) {
		cc_diag_set(diag, "hop: not 0 to %zu", t->nnodes - 1);
		r = CC_ERR_FORMAT;
		goto fail;
	}
	t->hop = (uint16_t)x;
	if (!int_in(o, "input_size", 0, (json_int_t)CC_LIMIT_UPLOAD, &x) ||
	    (t->hop == 0) != (x == 0)) {
		cc_diag_set(diag, "input_size: not a batch size (0 for hop 0)");
		r = CC_ERR_FORMAT;
		goto fail;
	}
	t->input_size = (uint64_t)x;
	return 0;
fail:
	cc_worker_task_clear(t);
	return r;
}

/* The aggregator's answer to a request about a query, for the log. */
static const char *
status_text(long status, const struct cc_diag *d, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "%s", d->text[0] ? d->text : "");
	if (buf[0] == '\0')
		snprintf(buf, bufsz, "HTTP %ld", status);
	return buf;
}

/*
 * The failure reason as it leaves the node. The aggregator refuses a
 * reason with six or more digits in a row (it could be a personnummer),
 * and this node's file names (which carry the query id, often with such a
 * run, and the node's directory layout) mean nothing to the federation: a
 * word holding a '/' becomes "(file)", and a longer run of digits is
 * written in groups of three ("record 1 234 567"). The local query log
 * keeps the reason as it was.
 */
static void
reason_for_aggregator(char *out, size_t cap, const char *reason)
{
	size_t o = 0, i, j, end, run;

	for (i = 0; reason[i] != '\0' && o + 1 < cap; ) {
		if (reason[i] != ' ' && (i == 0 || reason[i - 1] == ' ')) {
			/* A word: replaced whole if it names a file. */
			for (end = i; reason[end] != '\0' && reason[end] != ' '; end++)
				;
			if (memchr(reason + i, '/', end - i) != NULL) {
				o += (size_t)snprintf(out + o, cap - o, "(file)%s",
				    end > i && reason[end - 1] == ':' ? ":" : "");
				if (o >= cap)
					o = cap - 1;
				i = end;
				continue;
			}
		}
		if (reason[i] >= '0' && reason[i] <= '9') {
			for (run = 0; reason[i + run] >= '0' && reason[i + run] <= '9';
			    run++)
				;
			for (j = 0; j < run && o + 1 < cap; j++) {
				if (run >= 6 && j > 0 && (run - j) % 3 == 0) {
					out[o++] = ' ';
					if (o + 1 >= cap)
						break;
				}
				out[o++] = reason[i + j];
			}
			i += run;
			continue;
		}
		out[o++] = reason[i++];
	}
	out[o] = '\0';
	utf8_cut(out, CC_WORKER_REASON_MAX);
}

/* POST .../fail with reason as it leaves the node. */
static enum outcome
send_fail(struct worker *w, const struct cc_worker_task *t, const char *reason)
{
	struct cc_diag d = { "" };
	char path[API_PATH], msg[CC_DIAG_MAX], sent[CC_WORKER_REASON_MAX + 1];
	json_t *body;
	long status = 0;
	int r;

	reason_for_aggregator(sent, sizeof(sent), reason);
	if (cc_worker_reason_check(sent, &d) != 0)
		snprintf(sent, sizeof(sent), "%s cannot go on with this query",
		    w->cfg->id);
	snprintf(path, sizeof(path), "/api/v1/node/queries/%s/fail", t->query_id);
	if ((body = json_pack("{s:s}", "reason", sent)) == NULL)
		return OUTCOME_RETRY;
	r = cc_client_json(w->client, "POST", path, body, REQUEST_TIMEOUT,
	    &status, NULL, &d);
	json_decref(body);
	if (r != 0 || status >= 500) {
		wlog(w, "query %s: cannot report the failure yet: %s", t->query_id,
		    r != 0 ? d.text : status_text(status, &d, msg, sizeof(msg)));
		return OUTCOME_RETRY;
	}
	if (status >= 200 && status <= 299)
		wlog(w, "query %s: reported failure: %s", t->query_id, sent);
	else
		wlog(w, "query %s: the aggregator did not take the failure "
		    "report: %s", t->query_id, status_text(status, &d, msg,
		    sizeof(msg)));
	return OUTCOME_DONE;
}

/*
 * This node cannot go on with the query: the failure goes to the query
 * log first (the node then runs none of the query's steps), then to the
 * aggregator; a report that did not reach it is sent again when a step
 * of the query is offered again (task_step).
 */
static enum outcome
report_fail(struct worker *w, const struct cc_worker_task *t, const char *reason)
{
	struct cc_diag d = { "" };
	char why[CC_WORKER_REASON_MAX + 1];
	int r;

	snprintf(why, sizeof(why), "%s", reason);
	utf8_cut(why, CC_WORKER_REASON_MAX);
	if ((r = cc_querylog_failed(w->dir, t->query_id, why, (int64_t)time(NULL),
	    &d)) != 0)
		wlog(w, "query %s: cannot write the query log: %s", t->query_id, d.text);
	return send_fail(w, t, reason);
}

static enum outcome
task_approve(struct worker *w, struct cc_worker_task *t)
{
	struct cc_querylog *log = NULL;
	const struct cc_querylog_entry *e;
	struct cc_diag d = { "" };
	enum cc_policy_verdict verdict;
	enum cc_querylog_decision decision;
	enum outcome out = OUTCOME_DONE;
	const char *nodes[CC_LIMIT_QUERY_NODES];
	const char *owner = t->owner;
	char why[CC_QUERYLOG_REASON_MAX + 1], msg[CC_DIAG_MAX];
	int64_t now = (int64_t)time(NULL);
	long status = 0;
	size_t i;
	int r;

	for (i = 0; i < t->nnodes; i++)
		nodes[i] = t->nodes[i];
	if ((r = cc_querylog_read(&log, w->dir, NULL, &d)) != 0) {
		wlog(w, "query %s: cannot read the query log: %s", t->query_id, d.text);
		out = OUTCOME_RETRY;
		goto out;
	}
	e = cc_querylog_find(log, t->query_id);
	if (e != NULL && e->ended)
		goto out;
	if (e != NULL && e->decision == CC_QUERYLOG_HELD)
		goto out;  /* waits for `crosscount-node approve|reject` */
	if (e != NULL && (e->decision == CC_QUERYLOG_APPROVED ||
	    e->decision == CC_QUERYLOG_REJECTED)) {
		/* Decided before: the aggregator has not got it yet. */
		decision = e->decision;
		snprintf(why, sizeof(why), "%s", e->decision_reason);
	} else {
		if ((e == NULL || !e->offered) &&
		    (r = cc_querylog_offered(w->dir, t->query_id, t->q, owner,
		    t->deadline, now, &d)) != 0) {
			wlog(w, "query %s: cannot write the query log: %s", t->query_id,
			    d.text);
			out = OUTCOME_RETRY;
			goto out;
		}
		if ((r = cc_worker_decide(w->cfg, t->q, nodes, t->nnodes,
		    cc_querylog_approved_since(log, now - DAY_SECONDS),
		    &verdict, &d)) != 0) {
			wlog(w, "query %s: cannot decide: %s", t->query_id,
			    cc_strerror(r));
			goto out;
		}
		switch (verdict) {
		case CC_POLICY_ACCEPT:
			decision = CC_QUERYLOG_APPROVED;
			why[0] = '\0';
			break;
		case CC_POLICY_HOLD:
			decision = CC_QUERYLOG_HELD;
			snprintf(why, sizeof(why), "approval = manual: waits for "
			    "`crosscount-node approve|reject %s`", t->query_id);
			break;
		case CC_POLICY_REFUSE:
		default:
			decision = CC_QUERYLOG_REJECTED;
			snprintf(why, sizeof(why), "%s", d.text);
			utf8_cut(why, CC_WORKER_REASON_MAX);
			break;
		}
		/* Recorded first: a re-offered task re-sends this decision. */
		if ((r = cc_querylog_decided(w->dir, t->query_id, decision, "auto", why,
		    now, &d)) != 0) {
			wlog(w, "query %s: cannot write the query log: %s", t->query_id,
			    d.text);
			out = OUTCOME_RETRY;
			goto out;
		}
		if (decision == CC_QUERYLOG_HELD) {
			wlog(w, "query %s (\"%s\" from %s): held for a person: "
			    "crosscount-node approve %s (or reject)", t->query_id,
			    t->q->title, owner, t->query_id);
			goto out;
		}
	}
	r = send_decision(w->client, t->query_id, decision == CC_QUERYLOG_APPROVED,
	    why, &status, &d);
	if (r != 0 || status >= 500) {
		wlog(w, "query %s: cannot send the decision yet (%s): %s", t->query_id,
		    cc_querylog_decision_name(decision), r != 0 ? d.text :
		    status_text(status, &d, msg, sizeof(msg)));
		out = OUTCOME_RETRY;
		goto out;
	}
	if (status >= 200 && status <= 299)
		wlog(w, "query %s: sent the decision: %s%s%s", t->query_id,
		    cc_querylog_decision_name(decision), why[0] ? ": " : "", why);
	else
		wlog(w, "query %s: the aggregator did not take the decision "
		    "(%s): %s", t->query_id, cc_querylog_decision_name(decision),
		    status_text(status, &d, msg, sizeof(msg)));
out:
	cc_querylog_free(log);
	return out;
}

/* The key the store's rows are under, reloaded if it was rotated. */
static int
current_key(struct worker *w, struct cc_diag *diag)
{
	struct cc_key *k = NULL;
	char fp[CC_STORE_FP_MAX], path[PATH_BUF];
	int r;

	if ((r = cc_store_key_fingerprint(w->opt->st, fp, diag)) != 0)
		return r;
	if (strcmp(fp, (*w->opt->key)->fingerprint) == 0)
		return 0;
	/* No recovery here: `rotate-key` may be running right now. */
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", w->dir,
	    CC_KEY_FILE) >= sizeof(path))
		return CC_ERR_LIMIT;
	if ((r = cc_keys_load(&k, path, diag)) != 0)
		return r;
	if (strcmp(k->fingerprint, fp) != 0) {
		cc_keys_free(k);
		cc_diag_set(diag, "a key rotation is in progress");
		return CC_ERR_STATE;
	}
	cc_keys_free(*w->opt->key);
	*w->opt->key = k;
	wlog(w, "the at-rest key was rotated; now using fingerprint %s",
	    k->fingerprint);
	return 0;
}

/*
 * Produce the signed output of a step into out_path (hop 0: origin,
 * else relay of the downloaded input), written there whole or not at all
 * (steps.h). OUTCOME_DONE with *ret_made and *ret_out set on success;
 * OUTCOME_DONE without when the step was failed or dropped; OUTCOME_RETRY
 * for trouble worth retrying later.
 */
static enum outcome
produce(struct worker *w, struct cc_worker_task *t, unsigned chain, unsigned hop,
    uint64_t input_size, const struct cc_querykey *key, const char *out_path,
    struct cc_steps_output *ret_out, bool *ret_made)
{
	struct cc_steps_output o = { 0 };
	struct cc_diag d = { "" };
	char in_path[PATH_BUF], api[API_PATH], msg[CC_DIAG_MAX + 64];
	uint32_t max = w->cfg->policy.max_peer_batch;
	enum outcome out = OUTCOME_DONE;
	size_t selected = 0;
	long status = 0;
	bool bad = false;
	int r;

	memset(ret_out, 0, sizeof(*ret_out));
	*ret_made = false;
	in_path[0] = '\0';
	if (hop == 0) {
		if ((r = current_key(w, &d)) != 0) {
			wlog(w, "query %s: origin step postponed: %s", t->query_id,
			    d.text);
			out = OUTCOME_RETRY;
			goto out;
		}
		r = cc_steps_origin(out_path, &o, &selected, w->opt->st,
		    *w->opt->key, w->signer, t->q, t->qid, key->r, t->y_pub, &d);
		if (r == CC_ERR_STATE) {
			/* Rotated between the check and the read: later. */
			wlog(w, "query %s: origin step postponed: %s", t->query_id,
			    d.text);
			out = OUTCOME_RETRY;
			goto out;
		}
		if (r == CC_ERR_ALLOC || r == CC_ERR_DB || r == CC_ERR_IO) {
			wlog(w, "query %s: origin step failed here: %s: %s",
			    t->query_id, cc_strerror(r), d.text);
			out = OUTCOME_RETRY;
			goto out;
		}
		if (r != 0) {
			snprintf(msg, sizeof(msg), "%s cannot run its origin "
			    "step: %s%s%s", w->cfg->id, cc_strerror(r),
			    d.text[0] ? ": " : "", d.text);
			out = report_fail(w, t, msg);
			goto out;
		}
		wlog(w, "query %s: origin step of chain %u built: %" PRIu32
		    " records", t->query_id, chain, o.count);
	} else {
		/* The input may not be larger than this node relays. */
		if (input_size > cc_steps_max_batch_bytes(max)) {
			snprintf(msg, sizeof(msg), "the input of chain %u hop %u "
			    "(%" PRIu64 " bytes) is over %s's max_peer_batch of %"
			    PRIu32 " records", chain, hop, input_size, w->cfg->id,
			    max);
			out = report_fail(w, t, msg);
			goto out;
		}
		if (batch_path(in_path, sizeof(in_path), w, t->query_id, chain, hop,
		    "in") != 0) {
			out = OUTCOME_RETRY;
			goto out;
		}
		snprintf(api, sizeof(api), "/api/v1/node/queries/%s/batches/%u/%u",
		    t->query_id, chain, hop);
		r = cc_client_download(w->client, api, in_path,
		    cc_steps_max_batch_bytes(max), CC_STEPS_PART_TIMEOUT, &status,
		    &d);
		if (r == CC_ERR_LIMIT) {
			snprintf(msg, sizeof(msg), "the input of chain %u hop %u is "
			    "over %s's max_peer_batch of %" PRIu32 " records",
			    chain, hop, w->cfg->id, max);
			out = report_fail(w, t, msg);
			goto out;
		}
		if (r != 0 || status >= 500) {
			wlog(w, "query %s: cannot fetch the input of chain %u hop "
			    "%u yet: %s", t->query_id, chain, hop, r != 0 ? d.text :
			    status_text(status, &d, msg, sizeof(msg)));
			out = OUTCOME_RETRY;
			goto out;
		}
		if (status < 200 || status > 299) {
			wlog(w, "query %s: the input of chain %u hop %u is not "
			    "available (%s); the step is dropped", t->query_id, chain, hop,
			    status_text(status, &d, msg, sizeof(msg)));
			goto out;
		}
		r = cc_steps_relay(out_path, &o, &bad, in_path, max, w->trust,
		    w->signer, t->q, t->qid, (uint16_t)chain, (uint16_t)hop,
		    key->r, &d);
		if (r != 0 && bad) {
			snprintf(msg, sizeof(msg), "%s refuses the input of chain %u "
			    "hop %u: %s", w->cfg->id, chain, hop, d.text);
			out = report_fail(w, t, msg);
			goto out;
		}
		if (r != 0) {
			wlog(w, "query %s: relay of chain %u hop %u failed here: "
			    "%s: %s", t->query_id, chain, hop, cc_strerror(r), d.text);
			out = OUTCOME_RETRY;
			goto out;
		}
		wlog(w, "query %s: relayed chain %u hop %u: %" PRIu32 " records",
		    t->query_id, chain, hop, o.count);
	}
	/* out_path is kept until accepted: a repeated task re-sends it. */
	*ret_out = o;
	*ret_made = true;
out:
	if (in_path[0] != '\0') {
		unlink(in_path);
	}
	return out;
}

/* How many of the query's k steps this node has delivered. */
static size_t
steps_done(const struct cc_querylog_entry *e)
{
	return e != NULL ? e->nsteps : 0;
}

static enum outcome
task_step(struct worker *w, struct cc_worker_task *t)
{
	struct cc_querylog *log = NULL;
	const struct cc_querylog_entry *e = NULL;
	struct cc_querykey *key = NULL;
	struct cc_batch_file_info *kept = NULL;
	struct cc_steps_output o = { 0 };
	struct cc_diag d = { "" };
	char out_path[PATH_BUF], msg[2 * CC_DIAG_MAX], hint[CC_DIAG_MAX];
	enum outcome out = OUTCOME_DONE;
	unsigned chain = t->chain, hop = t->hop, tries;
	uint64_t input_size = t->input_size;
	int64_t now = (int64_t)time(NULL);
	long status = 0;
	size_t i, k = t->q->nnodes;
	bool created = false, done = false, made = false;
	int r;

	/* The step must be this node's (SPEC 8.2) in the query's own order. */
	if (t->nnodes != k) {
		wlog(w, "query %s: the step's node list is not the query's; "
		    "ignored", t->query_id);
		goto out;
	}
	for (i = 0; i < k; i++)
		if (strcmp(t->nodes[i], t->q->nodes[i]) != 0) {
			wlog(w, "query %s: the step's node list is not the "
			    "query's; ignored", t->query_id);
			goto out;
		}
	if (strcmp(t->q->nodes[cc_batch_hop_node((uint16_t)chain,
	    (uint16_t)hop, (uint16_t)k)], w->cfg->id) != 0) {
		wlog(w, "query %s: chain %u hop %u is not this node's step; "
		    "ignored", t->query_id, chain, hop);
		goto out;
	}
	/* `crosscount-node approve` records its decision before it sends
	 * it (SPEC 7.2): a step comes only for a query the log approved. */
	if ((r = cc_querylog_read(&log, w->dir, NULL, &d)) != 0) {
		wlog(w, "query %s: cannot read the query log: %s", t->query_id,
		    d.text);
		out = OUTCOME_RETRY;
		goto out;
	}
	e = cc_querylog_find(log, t->query_id);
	if (e != NULL && e->ended)
		goto out;
	/* This node failed the query: only the report is left to send. */
	if (e != NULL && e->failed) {
		out = send_fail(w, t, e->fail_reason);
		goto out;
	}
	for (i = 0; e != NULL && i < e->nsteps; i++)
		if (e->steps[i].chain == chain && e->steps[i].hop == hop)
			goto out;  /* delivered and accepted before */
	if (e != NULL && e->decision == CC_QUERYLOG_HELD) {
		wlog(w, "query %s: chain %u hop %u is offered, but this node's "
		    "log still holds the query for a person; later", t->query_id,
		    chain, hop);
		e = NULL;
		goto out;
	}
	if (e == NULL || e->decision != CC_QUERYLOG_APPROVED) {
		snprintf(msg, sizeof(msg), "%s was asked for a step of a query "
		    "it has not approved", w->cfg->id);
		out = report_fail(w, t, msg);
		goto out;
	}
	if (now > t->deadline) {
		wlog(w, "query %s: chain %u hop %u offered after the deadline; "
		    "ignored", t->query_id, chain, hop);
		goto out;
	}
	/* SPEC 7.4 item 9: one r for the whole query, kept across restarts. */
	if ((r = cc_querykey_open(&key, w->dir, t->query_id, t->deadline, &created,
	    &d)) != 0) {
		wlog(w, "query %s: cannot open its key r: %s: %s", t->query_id,
		    cc_strerror(r), d.text);
		out = OUTCOME_RETRY;
		goto out;
	}
	if (batch_path(out_path, sizeof(out_path), w, t->query_id, chain, hop,
	    "out") != 0) {
		out = OUTCOME_RETRY;
		goto out;
	}
	if (access(out_path, F_OK) == 0) {
		/* A repeated task: send the very same bytes again, once the
		 * chunked reader found them a whole valid batch (its D and
		 * count go to the query log). */
		if ((kept = malloc(sizeof(*kept))) == NULL) {
			out = OUTCOME_RETRY;
			goto out;
		}
		if ((r = cc_batch_file_scan(kept, out_path,
		    CC_LIMIT_BATCH_ELEMENTS, true, &d)) != 0) {
			snprintf(msg, sizeof(msg), "%s lost its output of chain %u "
			    "hop %u", w->cfg->id, chain, hop);
			unlink(out_path);
			out = report_fail(w, t, msg);
			goto out;
		}
		o.count = kept->h.count;
		memcpy(o.d, kept->d, sizeof(o.d));
		wlog(w, "query %s: sending the kept output of chain %u hop %u "
		    "again", t->query_id, chain, hop);
	} else {
		out = produce(w, t, chain, hop, input_size, key, out_path, &o,
		    &made);
		if (!made)
			goto out;
	}
	if (*w->opt->stop) {
		wlog(w, "query %s: stopping; the output of chain %u hop %u is "
		    "kept for the next start", t->query_id, chain, hop);
		goto out;
	}
	/* Deliver; a refused commit is retried with the same bytes. */
	for (tries = 1; ; tries++) {
		r = cc_steps_deliver(w->client, t->query_id, (uint16_t)chain,
		    (uint16_t)hop, out_path, &status, &d);
		if (r != 0 || status >= 500) {
			wlog(w, "query %s: cannot deliver chain %u hop %u yet: %s; "
			    "the output is kept", t->query_id, chain, hop, r != 0 ?
			    d.text : status_text(status, &d, hint, sizeof(hint)));
			out = OUTCOME_RETRY;
			goto out;
		}
		if (status >= 200 && status <= 299) {
			done = true;
			break;
		}
		if (status == 404 || status == 403 ||
		    (status == 409 && tries > 1)) {
			wlog(w, "query %s: chain %u hop %u is no longer this node's "
			    "to deliver (%s); dropped", t->query_id, chain, hop,
			    status_text(status, &d, hint, sizeof(hint)));
			/* A 409 may be a commit still being checked: the output
			 * stays for a repeated task (forget removes it). */
			if (status != 409)
				unlink(out_path);
			goto out;
		}
		if (status != 422 && status != 409) {
			snprintf(msg, sizeof(msg), "the aggregator refused %s's "
			    "output of chain %u hop %u: %s", w->cfg->id, chain, hop,
			    status_text(status, &d, hint, sizeof(hint)));
			out = report_fail(w, t, msg);
			goto out;
		}
		if (tries >= CC_WORKER_COMMIT_TRIES) {
			snprintf(msg, sizeof(msg), "the aggregator refused %s's "
			    "output of chain %u hop %u %d times: %s", w->cfg->id,
			    chain, hop, CC_WORKER_COMMIT_TRIES,
			    status_text(status, &d, hint, sizeof(hint)));
			out = report_fail(w, t, msg);
			goto out;
		}
		wlog(w, "query %s: the aggregator refused chain %u hop %u (%s); "
		    "sending it again", t->query_id, chain, hop,
		    status_text(status, &d, hint, sizeof(hint)));
		if (*w->opt->stop)
			goto out;
	}
	if ((r = cc_querylog_step(w->dir, t->query_id, (uint16_t)chain,
	    (uint16_t)hop, o.count, o.d, now, &d)) != 0)
		wlog(w, "query %s: cannot write the query log: %s", t->query_id, d.text);
	unlink(out_path);
	wlog(w, "query %s: chain %u hop %u accepted by the aggregator "
	    "(%" PRIu32 " records)", t->query_id, chain, hop, o.count);
out:
	/* After this node's last step (one per chain) r is not needed. */
	if (done && steps_done(e) + 1 >= k) {
		cc_querykey_free(key);
		key = NULL;
		if (cc_querykey_destroy(w->dir, t->query_id, NULL, &d) == 0)
			wlog(w, "query %s: all %zu steps of this node done; its "
			    "key r is destroyed", t->query_id, k);
	}
	free(kept);
	cc_querykey_free(key);
	cc_querylog_free(log);
	return out;
}

static enum outcome
task_forget(struct worker *w, const struct cc_worker_task *t)
{
	struct cc_diag d = { "" };
	const char *id = t->query_id;
	const char *digest = t->has_result_digest ? t->result_digest : NULL;
	const char *reason = t->has_reason ? t->reason : NULL;
	char path[API_PATH], msg[CC_DIAG_MAX];
	long status = 0;
	int r;

	/* SPEC 7.4 item 10: wipe r and every batch of the query. */
	if ((r = cc_querykey_destroy(w->dir, id, NULL, &d)) != 0) {
		/* Not acknowledged: the forget comes again. */
		wlog(w, "query %s: cannot destroy its key r: %s", id, d.text);
		return OUTCOME_DONE;
	}
	remove_batches(w, id);
	/* A forget offered again (its `forgotten` was lost) appends a
	 * second `ended`, which the log's fold ignores (querylog.h). */
	if ((r = cc_querylog_ended(w->dir, id, t->status, digest, reason,
	    (int64_t)time(NULL), &d)) != 0) {
		/* Not acknowledged: the forget comes again. */
		wlog(w, "query %s: cannot write the query log: %s", id, d.text);
		return OUTCOME_DONE;
	}
	wlog(w, "query %s ended: %s%s%s%s%s", id, t->status,
	    digest != NULL ? ", result digest " : "", digest != NULL ? digest :
	    "", reason != NULL ? ": " : "", reason != NULL ? reason : "");
	/* Until the aggregator hears this, it offers the forget again. */
	snprintf(path, sizeof(path), "/api/v1/node/queries/%s/forgotten", id);
	r = cc_client_json(w->client, "POST", path, NULL, REQUEST_TIMEOUT,
	    &status, NULL, &d);
	if (r != 0 || status < 200 || status > 299)
		wlog(w, "query %s: cannot tell the aggregator it is forgotten "
		    "(it offers the forget again): %s", id, r != 0 ? d.text :
		    status_text(status, &d, msg, sizeof(msg)));
	return OUTCOME_DONE;
}

static enum outcome
handle_task(struct worker *w, const json_t *o)
{
	struct cc_worker_task t;
	struct cc_diag d = { "" };
	enum outcome out = OUTCOME_DONE;
	const char *id = json_string_value(json_object_get(o, "query_id"));

	if (cc_worker_task_parse(&t, o, &d) != 0) {
		wlog(w, "query %.32s: a malformed task: %s; ignored",
		    cc_querykey_id_valid(id) ? id : "(no valid id)", d.text);
		return OUTCOME_DONE;
	}
	switch (t.kind) {
	case CC_WORKER_TASK_APPROVE:
		out = task_approve(w, &t);
		break;
	case CC_WORKER_TASK_STEP:
		out = task_step(w, &t);
		break;
	case CC_WORKER_TASK_FORGET:
		out = task_forget(w, &t);
		break;
	}
	cc_worker_task_clear(&t);
	return out;
}
/* One long poll and its tasks. */
static void
poll_once(struct worker *w)
{
	struct cc_diag d = { "" };
	json_t *resp = NULL, *tasks;
	char path[64], trouble[CC_DIAG_MAX + 64], kind[32];
	time_t started;
	long status = 0;
	size_t i;
	int r;

	snprintf(path, sizeof(path), "/api/v1/node/work?wait=%d",
	    w->cfg->poll_seconds > 30 ? 30 : w->cfg->poll_seconds);
	started = time(NULL);
	r = cc_client_json(w->client, "GET", path, NULL,
	    (long)w->cfg->poll_seconds + POLL_MARGIN, &status, &resp, &d);
	if (r != 0 || status < 200 || status > 299) {
		if (r != 0)
			snprintf(trouble, sizeof(trouble), "cannot reach the "
			    "aggregator: %s", d.text);
		else
			snprintf(trouble, sizeof(trouble), "the aggregator "
			    "refuses to hand out work: %s", d.text[0] ? d.text :
			    "no reason given");
		snprintf(kind, sizeof(kind), "poll %ld", r != 0 ? 0L : status);
		backoff(w, kind, trouble);
		goto out;
	}
	tasks = json_object_get(resp, "tasks");
	if (!json_is_array(tasks)) {
		backoff(w, "poll answer", "the aggregator's work answer has no "
		    "task list");
		goto out;
	}
	reachable(w);
	/* An empty answer long before the wait is over (the aggregator
	 * stopping, say) must not turn the loop into a busy one. */
	if (json_array_size(tasks) == 0 && time(NULL) - started < 1)
		nap(w, 1000);
	for (i = 0; i < json_array_size(tasks) && !*w->opt->stop; i++) {
		if (handle_task(w, json_array_get(tasks, i)) == OUTCOME_RETRY) {
			/* The rest comes again with the next poll. */
			backoff(w, "task", "a task could not be finished");
			break;
		}
	}
out:
	json_decref(resp);
}

int
cc_worker_run(const struct cc_worker_options *opt, struct cc_diag *diag)
{
	struct worker w;
	char cert[PATH_BUF], key[PATH_BUF], ca[PATH_BUF];
	int64_t import_id;
	int r;

	if (opt == NULL || opt->dir == NULL || opt->cfg == NULL ||
	    opt->st == NULL || opt->key == NULL || *opt->key == NULL ||
	    opt->stop == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	memset(&w, 0, sizeof(w));
	w.opt = opt;
	w.cfg = opt->cfg;
	w.dir = opt->dir;
	if ((r = cc_querykey_dir(w.qdir, sizeof(w.qdir), w.dir, diag)) != 0)
		goto out;
	if ((r = client_open(&w.client, w.dir, w.cfg, diag)) != 0)
		goto out;
	if (resolve(cert, sizeof(cert), w.dir, w.cfg->cert_file) != 0 ||
	    resolve(key, sizeof(key), w.dir, w.cfg->key_file) != 0 ||
	    resolve(ca, sizeof(ca), w.dir, w.cfg->ca_file) != 0) {
		r = CC_ERR_CONFIG;
		goto out;
	}
	/* The TLS certificate also signs the batches (SPEC 14). */
	if ((r = cc_signer_load(&w.signer, cert, key, diag)) != 0)
		goto out;
	if (strcmp(cc_signer_node_id(w.signer), w.cfg->id) != 0) {
		cc_diag_set(diag, "the certificate %s names node %s, but this "
		    "node is %s", cert, cc_signer_node_id(w.signer), w.cfg->id);
		r = CC_ERR_CONFIG;
		goto out;
	}
	if ((r = cc_trust_load(&w.trust, ca, diag)) != 0)
		goto out;
	wlog(&w, "started: aggregator %s, long poll %d s, approval %s",
	    w.cfg->aggregator_url, w.cfg->poll_seconds,
	    w.cfg->policy.auto_approve ? "auto" : "manual");
	sweep(&w);
	while (!*opt->stop) {
		if (time(NULL) - w.last_sweep >= CC_WORKER_SWEEP_SECONDS)
			sweep(&w);
		if ((r = latest_import(&w, &import_id, diag)) != 0) {
			wlog(&w, "cannot read the store: %s: %s", cc_strerror(r),
			    diag->text);
			backoff(&w, "store", "the store cannot be read");
			continue;
		}
		if (!w.catalogue_sent || import_id != w.catalogue_import) {
			if (publish_catalogue(&w, import_id) != OUTCOME_DONE)
				continue;
		}
		poll_once(&w);
	}
	wlog(&w, "stopped");
	r = 0;
out:
	cc_trust_free(w.trust);
	cc_signer_free(w.signer);
	cc_client_free(w.client);
	return r;
}

/* ---- approve / reject by a person ---- */

int
cc_worker_decide_held(const char *dir, const struct cc_node_config *cfg,
    const char *query_id, bool approve, const char *reason, const char *by,
    bool *ret_sent, struct cc_diag *diag)
{
	char msg[CC_DIAG_MAX];
	struct cc_querylog *log = NULL;
	const struct cc_querylog_entry *e;
	struct cc_client *c = NULL;
	struct cc_query *q = NULL;
	const char *nodes[CC_LIMIT_QUERY_NODES];
	enum cc_policy_verdict verdict;
	struct cc_diag d = { "" };
	char when[TIME_TEXT];
	int64_t now = (int64_t)time(NULL);
	long status = 0;
	size_t i;
	int r;

	if (dir == NULL || cfg == NULL || by == NULL || by[0] == '\0' ||
	    ret_sent == NULL || !cc_querykey_id_valid(query_id))
		return CC_ERR_INVALID_ARGUMENT;
	*ret_sent = false;
	if (!approve && (r = cc_worker_reason_check(reason, diag)) != 0)
		return r;
	if ((r = cc_querylog_read(&log, dir, NULL, diag)) != 0)
		goto out;
	if ((e = cc_querylog_find(log, query_id)) == NULL || !e->offered) {
		cc_diag_set(diag, "no query %s in this node's log (see "
		    "`crosscount-node queries`)", query_id);
		r = CC_ERR_NOT_FOUND;
		goto out;
	}
	if (e->ended) {
		cc_diag_set(diag, "query %s has already ended (%s)", query_id,
		    e->status);
		r = CC_ERR_STATE;
		goto out;
	}
	if (e->decision != CC_QUERYLOG_HELD) {
		time_text(when, e->decided_at);
		cc_diag_set(diag, "query %s is not waiting for a person: it was "
		    "%s by %s at %s", query_id,
		    cc_querylog_decision_name(e->decision), e->decided_by, when);
		r = CC_ERR_STATE;
		goto out;
	}
	if (now > e->deadline) {
		time_text(when, e->deadline);
		cc_diag_set(diag, "query %s passed its deadline (%s)", query_id,
		    when);
		r = CC_ERR_STATE;
		goto out;
	}
	if (approve) {
		/* The rules again, as they stand now (approval aside). */
		if ((r = cc_query_parse(&q, e->query, strlen(e->query), diag)) != 0)
			goto out;
		for (i = 0; i < q->nnodes; i++)
			nodes[i] = q->nodes[i];
		if ((r = cc_worker_decide(cfg, q, nodes, q->nnodes,
		    cc_querylog_approved_since(log, now - DAY_SECONDS), &verdict,
		    &d)) != 0)
			goto out;
		if (verdict == CC_POLICY_REFUSE) {
			cc_diag_set(diag, "the policy now refuses query %s: %s; "
			    "reject it instead", query_id, d.text);
			r = CC_ERR_POLICY;
			goto out;
		}
	}
	/* A node.conf that names no aggregator: nothing is recorded. */
	if ((r = client_open(&c, dir, cfg, diag)) != 0)
		goto out;
	/*
	 * Recorded first, sent second (SPEC 7.2): a log that cannot be
	 * written (the daemon holding its lock, say) leaves nothing decided
	 * anywhere, and a decision the aggregator did not get is sent by the
	 * daemon when the approve task is offered again (task_approve).
	 */
	if ((r = cc_querylog_decided(dir, query_id, approve ?
	    CC_QUERYLOG_APPROVED : CC_QUERYLOG_REJECTED, by,
	    approve ? "" : reason, now, diag)) != 0) {
		cc_diag_prefix(diag, "nothing was decided: the local log could "
		    "not record the decision: ");
		goto out;
	}
	/*
	 * Two people deciding at once both append; the log keeps the first
	 * final decision (querylog.h), and only that one is sent, by the
	 * command that wrote it (or the daemon).
	 */
	cc_querylog_free(log);
	log = NULL;
	if ((r = cc_querylog_read(&log, dir, NULL, diag)) != 0)
		goto out;
	if ((e = cc_querylog_find(log, query_id)) == NULL ||
	    e->decision != (approve ? CC_QUERYLOG_APPROVED :
	    CC_QUERYLOG_REJECTED) || e->decided_at != now ||
	    strcmp(e->decided_by, by) != 0) {
		cc_diag_set(diag, "another decision was recorded first: %s by "
		    "%s", e != NULL ? cc_querylog_decision_name(e->decision) :
		    "none", e != NULL ? e->decided_by : "nobody");
		r = CC_ERR_STATE;
		goto out;
	}
	if ((r = send_decision(c, query_id, approve, reason, &status,
	    &d)) != 0 || status >= 500) {
		/* Recorded: the daemon sends it. Not an error. */
		cc_diag_set(diag, "%s", r != 0 ? d.text : status_text(status,
		    &d, msg, sizeof(msg)));
		r = 0;
		goto out;
	}
	if (status < 200 || status > 299) {
		cc_diag_set(diag, "recorded in the node's log, but the aggregator "
		    "refuses it: %s", status_text(status, &d, msg,
		    sizeof(msg)));
		r = status == 404 ? CC_ERR_NOT_FOUND : status == 409 ?
		    CC_ERR_STATE : CC_ERR_AUTH;
		goto out;
	}
	*ret_sent = true;
	r = 0;
out:
	cc_query_free(q);
	cc_client_free(c);
	cc_querylog_free(log);
	return r;
}
