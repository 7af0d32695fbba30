/* crosscount-node: the local query log (querylog.h; SPEC.md 7.4, 12.3). */
#include "node/querylog.h"
#include "protocol/date.h"
#include "protocol/hex.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#define PATH_BUF 4096
#define INITIAL_ENTRIES 16

struct cc_querylog {
	size_t n;
	size_t cap;
	struct cc_querylog_entry **entry;
};

const char *
cc_querylog_decision_name(enum cc_querylog_decision d)
{
	switch (d) {
	case CC_QUERYLOG_UNDECIDED: return "undecided";
	case CC_QUERYLOG_HELD: return "held";
	case CC_QUERYLOG_APPROVED: return "approved";
	case CC_QUERYLOG_REJECTED: return "rejected";
	}
	return "?";
}

/*
 * Lock the log, waiting at most QUERYLOG_LOCK_WAIT_MS: a stuck or stopped
 * process holding the lock must not hang an admin's command forever.
 */
#define QUERYLOG_LOCK_WAIT_MS 10000
#define QUERYLOG_LOCK_STEP_MS 50

static int
querylog_lock(int fd, int op, const char *path, struct cc_diag *diag)
{
	const struct timespec step = { 0, QUERYLOG_LOCK_STEP_MS * 1000000L };
	int waited = 0;

	for (;;) {
		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			cc_diag_set(diag, "%s: lock: %s", path, strerror(errno));
			return CC_ERR_IO;
		}
		if (waited >= QUERYLOG_LOCK_WAIT_MS) {
			cc_diag_set(diag, "%s: another crosscount-node process "
			    "has held the query log for %d s; try again", path,
			    QUERYLOG_LOCK_WAIT_MS / 1000);
			return CC_ERR_TIMEOUT;
		}
		nanosleep(&step, NULL);
		waited += QUERYLOG_LOCK_STEP_MS;
	}
}

static int
log_path(char *out, size_t outsz, const char *dir)
{
	return (size_t)snprintf(out, outsz, "%s/%s", dir, CC_QUERYLOG_FILE) <
	    outsz ? 0 : CC_ERR_LIMIT;
}

/* Copy a string of at most max bytes (longer ones are cut at max). */
static void
copy_str(char *out, size_t max, const char *s)
{
	size_t n;

	out[0] = '\0';
	if (s == NULL)
		return;
	n = strnlen(s, max);
	memcpy(out, s, n);
	out[n] = '\0';
}

/* ---- appending ---- */

/*
 * Append ev as one line: serialise first, then one write() on an
 * O_APPEND descriptor under an exclusive lock, then fsync (the log is the
 * node's own record of what it agreed to).
 */
static int
append(const char *dir, json_t *ev, const char *query_id, int64_t now,
    struct cc_diag *diag)
{
	char path[PATH_BUF];
	char *line = NULL, last;
	struct stat sb;
	size_t len;
	ssize_t w;
	int fd = -1, r = CC_ERR_INTERNAL;

	if (ev == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if (dir == NULL || !cc_querykey_id_valid(query_id)) {
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if (json_object_set_new(ev, "query_id", json_string(query_id)) != 0 ||
	    json_object_set_new(ev, "time", json_integer(now)) != 0 ||
	    (line = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	len = strlen(line);
	if (len + 1 > CC_QUERYLOG_LINE_MAX) {
		cc_diag_set(diag, "a query log line would be %zu bytes, over "
		    "the limit of %d", len + 1, CC_QUERYLOG_LINE_MAX);
		r = CC_ERR_LIMIT;
		goto out;
	}
	line[len] = '\n';  /* json_dumps' NUL becomes the newline */
	if ((r = log_path(path, sizeof(path), dir)) != 0)
		goto out;
	if ((fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) < 0) {
		cc_diag_set(diag, "%s: %s", path, strerror(errno));
		r = CC_ERR_IO;
		goto out;
	}
	if ((r = querylog_lock(fd, LOCK_EX, path, diag)) != 0)
		goto out;
	/* A line torn by a crash must not swallow this event: end it. */
	if (fstat(fd, &sb) == 0 && sb.st_size > 0 &&
	    pread(fd, &last, 1, sb.st_size - 1) == 1 && last != '\n') {
		do
			w = write(fd, "\n", 1);
		while (w < 0 && errno == EINTR);
	}
	do
		w = write(fd, line, len + 1);
	while (w < 0 && errno == EINTR);
	if (w < 0 || fsync(fd) != 0) {
		cc_diag_set(diag, "%s: %s", path, strerror(errno));
		r = CC_ERR_IO;
		goto out;
	}
	if (w != (ssize_t)(len + 1)) {
		cc_diag_set(diag, "%s: short write", path);
		r = CC_ERR_IO;
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);  /* releases the lock */
	free(line);
	json_decref(ev);
	return r;
}

int
cc_querylog_offered(const char *dir, const char *query_id,
    const struct cc_query *q, const char *owner, int64_t deadline,
    int64_t now, struct cc_diag *diag)
{
	json_t *doc = NULL;
	int r;

	if (q == NULL || owner == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = cc_query_to_json_value(&doc, q)) != 0)
		return r;
	return append(dir, json_pack("{s:s, s:s, s:s, s:I, s:o}",
	    "event", "offered", "title", q->title, "owner", owner,
	    "deadline", (json_int_t)deadline, "query", doc), query_id, now,
	    diag);
}

int
cc_querylog_decided(const char *dir, const char *query_id,
    enum cc_querylog_decision decision, const char *by, const char *reason,
    int64_t now, struct cc_diag *diag)
{
	if ((decision != CC_QUERYLOG_HELD && decision != CC_QUERYLOG_APPROVED &&
	    decision != CC_QUERYLOG_REJECTED) || by == NULL || by[0] == '\0')
		return CC_ERR_INVALID_ARGUMENT;
	return append(dir, json_pack("{s:s, s:s, s:s, s:s}", "event", "decided",
	    "decision", cc_querylog_decision_name(decision), "by", by,
	    "reason", reason != NULL ? reason : ""), query_id, now, diag);
}

int
cc_querylog_step(const char *dir, const char *query_id, uint16_t chain,
    uint16_t hop, uint32_t count, const uint8_t digest[32], int64_t now,
    struct cc_diag *diag)
{
	char hex[CC_QUERYLOG_DIGEST_HEX + 1];

	if (digest == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	sodium_bin2hex(hex, sizeof(hex), digest, 32);
	return append(dir, json_pack("{s:s, s:i, s:i, s:I, s:s}", "event", "step",
	    "chain", (int)chain, "hop", (int)hop, "count", (json_int_t)count,
	    "digest", hex), query_id, now, diag);
}

int
cc_querylog_failed(const char *dir, const char *query_id, const char *reason,
    int64_t now, struct cc_diag *diag)
{
	return append(dir, json_pack("{s:s, s:s}", "event", "failed", "reason",
	    reason != NULL ? reason : ""), query_id, now, diag);
}

int
cc_querylog_ended(const char *dir, const char *query_id, const char *status,
    const char *result_digest, const char *reason, int64_t now,
    struct cc_diag *diag)
{
	if (status == NULL || status[0] == '\0' ||
	    strlen(status) > CC_QUERYLOG_STATUS_MAX)
		return CC_ERR_INVALID_ARGUMENT;
	return append(dir, json_pack("{s:s, s:s, s:o, s:o}", "event", "ended",
	    "status", status,
	    "result_digest", result_digest != NULL ? json_string(result_digest) :
	    json_null(),
	    "reason", reason != NULL ? json_string(reason) : json_null()),
	    query_id, now, diag);
}

/* ---- reading and folding ---- */

void
cc_querylog_free(struct cc_querylog *log)
{
	size_t i;

	if (log == NULL)
		return;
	for (i = 0; i < log->n; i++) {
		free(log->entry[i]->query);
		free(log->entry[i]);
	}
	free(log->entry);
	free(log);
}

size_t
cc_querylog_count(const struct cc_querylog *log)
{
	return log != NULL ? log->n : 0;
}

const struct cc_querylog_entry *
cc_querylog_get(const struct cc_querylog *log, size_t i)
{
	return log != NULL && i < log->n ? log->entry[i] : NULL;
}

static struct cc_querylog_entry *
find(const struct cc_querylog *log, const char *id)
{
	size_t i;

	/* Newest first: recent queries are the ones asked about. */
	for (i = log->n; i > 0; i--)
		if (strcmp(log->entry[i - 1]->id, id) == 0)
			return log->entry[i - 1];
	return NULL;
}

const struct cc_querylog_entry *
cc_querylog_find(const struct cc_querylog *log, const char *query_id)
{
	if (log == NULL || query_id == NULL)
		return NULL;
	return find(log, query_id);
}

unsigned
cc_querylog_approved_since(const struct cc_querylog *log, int64_t since)
{
	unsigned n = 0;
	size_t i;

	if (log == NULL)
		return 0;
	for (i = 0; i < log->n; i++)
		if (log->entry[i]->decision == CC_QUERYLOG_APPROVED &&
		    log->entry[i]->decided_at >= since)
			n++;
	return n;
}

/* The entry of id, created (empty) if new. NULL on allocation failure. */
static struct cc_querylog_entry *
entry_for(struct cc_querylog *log, const char *id)
{
	struct cc_querylog_entry *e, **grown;
	size_t cap;

	if ((e = find(log, id)) != NULL)
		return e;
	if (log->n == log->cap) {
		cap = log->cap ? log->cap * 2 : INITIAL_ENTRIES;
		if (cap > SIZE_MAX / sizeof(*grown) ||
		    (grown = realloc(log->entry, cap * sizeof(*grown))) == NULL)
			return NULL;
		log->entry = grown;
		log->cap = cap;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	memcpy(e->id, id, CC_QUERY_ID_HEX + 1);
	log->entry[log->n++] = e;
	return e;
}

/* A string field of at most max bytes, or NULL. */
static const char *
str_field(const json_t *o, const char *key, size_t max)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || json_string_length(v) > max)
		return NULL;
	return json_string_value(v);
}

static bool
int_field(const json_t *o, const char *key, int64_t lo, int64_t hi,
    int64_t *ret)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi)
		return false;
	*ret = json_integer_value(v);
	return true;
}

static bool
digest_valid(const char *s)
{
	return cc_hex_valid(s, CC_QUERYLOG_DIGEST_HEX);
}

/*
 * Apply one event. Returns 0, CC_ERR_FORMAT for a line that is not a
 * valid event (skipped), CC_ERR_ALLOC.
 */
static int
apply(struct cc_querylog *log, const json_t *ev)
{
	struct cc_querylog_entry *e;
	const char *kind, *id, *s, *by, *reason;
	int64_t t, v, chain, hop, count;
	size_t i;

	if (!json_is_object(ev) ||
	    (kind = str_field(ev, "event", 16)) == NULL ||
	    (id = str_field(ev, "query_id", CC_QUERY_ID_HEX)) == NULL ||
	    !cc_querykey_id_valid(id) ||
	    !int_field(ev, "time", 0, INT64_MAX, &t))
		return CC_ERR_FORMAT;

	if (strcmp(kind, "offered") == 0) {
		const json_t *doc = json_object_get(ev, "query");
		const char *title = str_field(ev, "title", CC_LIMIT_TITLE);
		const char *owner = str_field(ev, "owner", CC_LIMIT_USERNAME);

		if (!json_is_object(doc) || title == NULL || owner == NULL ||
		    !int_field(ev, "deadline", 0, INT64_MAX, &v))
			return CC_ERR_FORMAT;
		if ((e = entry_for(log, id)) == NULL)
			return CC_ERR_ALLOC;
		if (e->offered)
			return 0;
		if ((e->query = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS)) ==
		    NULL)
			return CC_ERR_ALLOC;
		e->offered = true;
		e->offered_at = t;
		e->deadline = v;
		copy_str(e->title, CC_LIMIT_TITLE, title);
		copy_str(e->owner, CC_LIMIT_USERNAME, owner);
		return 0;
	}
	if (strcmp(kind, "decided") == 0) {
		enum cc_querylog_decision d;

		if ((s = str_field(ev, "decision", 16)) == NULL ||
		    (by = str_field(ev, "by", CC_QUERYLOG_BY_MAX)) == NULL ||
		    (reason = str_field(ev, "reason", CC_QUERYLOG_REASON_MAX)) ==
		    NULL)
			return CC_ERR_FORMAT;
		if (strcmp(s, "held") == 0)
			d = CC_QUERYLOG_HELD;
		else if (strcmp(s, "approved") == 0)
			d = CC_QUERYLOG_APPROVED;
		else if (strcmp(s, "rejected") == 0)
			d = CC_QUERYLOG_REJECTED;
		else
			return CC_ERR_FORMAT;
		if ((e = entry_for(log, id)) == NULL)
			return CC_ERR_ALLOC;
		/* A final decision stands; held gives way to a final one. */
		if (e->decision == CC_QUERYLOG_APPROVED ||
		    e->decision == CC_QUERYLOG_REJECTED ||
		    (e->decision == CC_QUERYLOG_HELD && d == CC_QUERYLOG_HELD))
			return 0;
		e->decision = d;
		e->decided_at = t;
		copy_str(e->decided_by, CC_QUERYLOG_BY_MAX, by);
		copy_str(e->decision_reason, CC_QUERYLOG_REASON_MAX, reason);
		return 0;
	}
	if (strcmp(kind, "step") == 0) {
		struct cc_querylog_step *st = NULL;

		if (!int_field(ev, "chain", 0, CC_LIMIT_QUERY_NODES - 1, &chain) ||
		    !int_field(ev, "hop", 0, CC_LIMIT_QUERY_NODES - 1, &hop) ||
		    !int_field(ev, "count", 0, CC_LIMIT_BATCH_ELEMENTS, &count) ||
		    (s = str_field(ev, "digest", CC_QUERYLOG_DIGEST_HEX)) == NULL ||
		    !digest_valid(s))
			return CC_ERR_FORMAT;
		if ((e = entry_for(log, id)) == NULL)
			return CC_ERR_ALLOC;
		for (i = 0; i < e->nsteps; i++)
			if (e->steps[i].chain == chain && e->steps[i].hop == hop)
				st = &e->steps[i];
		if (st == NULL) {
			/* A node runs one step per chain: at most k <= 32. */
			if (e->nsteps == CC_LIMIT_QUERY_NODES)
				return CC_ERR_FORMAT;
			st = &e->steps[e->nsteps++];
		}
		st->time = t;
		st->chain = (uint16_t)chain;
		st->hop = (uint16_t)hop;
		st->count = (uint32_t)count;
		copy_str(st->digest, CC_QUERYLOG_DIGEST_HEX, s);
		return 0;
	}
	if (strcmp(kind, "failed") == 0) {
		if ((reason = str_field(ev, "reason", CC_QUERYLOG_REASON_MAX)) ==
		    NULL)
			return CC_ERR_FORMAT;
		if ((e = entry_for(log, id)) == NULL)
			return CC_ERR_ALLOC;
		if (!e->failed) {
			e->failed = true;
			copy_str(e->fail_reason, CC_QUERYLOG_REASON_MAX, reason);
		}
		return 0;
	}
	if (strcmp(kind, "ended") == 0) {
		const json_t *rd = json_object_get(ev, "result_digest");
		const json_t *rs = json_object_get(ev, "reason");

		if ((s = str_field(ev, "status", CC_QUERYLOG_STATUS_MAX)) == NULL ||
		    s[0] == '\0' ||
		    !(json_is_null(rd) || (json_is_string(rd) &&
		    digest_valid(json_string_value(rd)))) ||
		    !(json_is_null(rs) || (json_is_string(rs) &&
		    json_string_length(rs) <= CC_QUERYLOG_REASON_MAX)))
			return CC_ERR_FORMAT;
		if ((e = entry_for(log, id)) == NULL)
			return CC_ERR_ALLOC;
		if (e->ended)
			return 0;
		e->ended = true;
		e->ended_at = t;
		copy_str(e->status, CC_QUERYLOG_STATUS_MAX, s);
		copy_str(e->result_digest, CC_QUERYLOG_DIGEST_HEX,
		    json_is_string(rd) ? json_string_value(rd) : NULL);
		copy_str(e->end_reason, CC_QUERYLOG_REASON_MAX,
		    json_is_string(rs) ? json_string_value(rs) : NULL);
		return 0;
	}
	return CC_ERR_FORMAT;
}

static int
apply_line(struct cc_querylog *log, const char *line, size_t len,
    size_t *skipped)
{
	json_t *ev;
	int r;

	if (len == 0)
		return 0;
	ev = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	r = ev != NULL ? apply(log, ev) : CC_ERR_FORMAT;
	json_decref(ev);
	if (r == CC_ERR_FORMAT) {
		(*skipped)++;
		r = 0;
	}
	return r;
}

int
cc_querylog_read(struct cc_querylog **ret_log, const char *dir,
    size_t *ret_skipped, struct cc_diag *diag)
{
	struct cc_querylog *log = NULL;
	char path[PATH_BUF];
	char *line = NULL;
	size_t len = 0, skipped = 0;
	bool overlong = false;
	FILE *f = NULL;
	int fd = -1, c, r = CC_ERR_INTERNAL;

	if (ret_skipped != NULL)
		*ret_skipped = 0;
	if (ret_log == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_log = NULL;
	if (dir == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = log_path(path, sizeof(path), dir)) != 0)
		return r;
	if ((log = calloc(1, sizeof(*log))) == NULL ||
	    (line = malloc(CC_QUERYLOG_LINE_MAX)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT)
			goto done;
		cc_diag_set(diag, "%s: %s", path, strerror(errno));
		r = CC_ERR_IO;
		goto out;
	}
	if ((r = querylog_lock(fd, LOCK_SH, path, diag)) != 0)
		goto out;
	if ((f = fdopen(fd, "r")) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	fd = -1;
	/* Bounded lines: an over-long line is skipped as a whole. */
	while ((c = getc(f)) != EOF) {
		if (c != '\n') {
			if (len < CC_QUERYLOG_LINE_MAX)
				line[len++] = (char)c;
			else
				overlong = true;
			continue;
		}
		if (overlong)
			skipped++;
		else if ((r = apply_line(log, line, len, &skipped)) != 0)
			goto out;
		len = 0;
		overlong = false;
	}
	if (ferror(f)) {
		cc_diag_set(diag, "%s: read error", path);
		r = CC_ERR_IO;
		goto out;
	}
	/* A last line without its newline is a torn write. */
	if (len > 0 || overlong)
		skipped++;
done:
	if (ret_skipped != NULL)
		*ret_skipped = skipped;
	*ret_log = log;
	log = NULL;
	r = 0;
out:
	if (f != NULL)
		fclose(f);
	if (fd >= 0)
		close(fd);
	free(line);
	cc_querylog_free(log);
	return r;
}

/* ---- printing ---- */

static void
stamp(char out[21], int64_t t)
{
	if (cc_date_time_text(out, t) != 0)
		snprintf(out, 21, "-");
}

/* The number of nodes (= steps this node runs) of a stored query. */
static size_t
query_nodes(const struct cc_querylog_entry *e)
{
	struct cc_query *q = NULL;
	size_t k = 0;

	if (e->query != NULL &&
	    cc_query_parse(&q, e->query, strlen(e->query), NULL) == 0)
		k = q->nnodes;
	cc_query_free(q);
	return k;
}

static json_t *
entry_json(const struct cc_querylog_entry *e)
{
	json_t *o = NULL, *steps = NULL, *x;
	char t1[21], t2[21];
	size_t i;

	if ((o = json_object()) == NULL || (steps = json_array()) == NULL)
		goto fail;
	for (i = 0; i < e->nsteps; i++) {
		stamp(t1, e->steps[i].time);
		x = json_pack("{s:i, s:i, s:I, s:s, s:s}", "chain",
		    (int)e->steps[i].chain, "hop", (int)e->steps[i].hop, "count",
		    (json_int_t)e->steps[i].count, "digest", e->steps[i].digest,
		    "time", t1);
		if (x == NULL || json_array_append_new(steps, x) != 0)
			goto fail;
	}
	stamp(t1, e->offered_at);
	stamp(t2, e->deadline);
	if (json_object_set_new(o, "id", json_string(e->id)) != 0 ||
	    json_object_set_new(o, "title", e->offered ?
	    json_string(e->title) : json_null()) != 0 ||
	    json_object_set_new(o, "owner", e->offered ?
	    json_string(e->owner) : json_null()) != 0 ||
	    json_object_set_new(o, "offered", e->offered ?
	    json_string(t1) : json_null()) != 0 ||
	    json_object_set_new(o, "deadline", e->offered ?
	    json_string(t2) : json_null()) != 0 ||
	    json_object_set_new(o, "query", e->query != NULL ?
	    json_loads(e->query, 0, NULL) : json_null()) != 0)
		goto fail;
	stamp(t1, e->decided_at);
	if (json_object_set_new(o, "decision",
	    e->decision == CC_QUERYLOG_UNDECIDED ? json_null() :
	    json_pack("{s:s, s:s, s:s, s:s}", "decision",
	    cc_querylog_decision_name(e->decision), "by", e->decided_by,
	    "time", t1, "reason", e->decision_reason)) != 0 ||
	    json_object_set(o, "steps", steps) != 0 ||
	    json_object_set_new(o, "steps_total", json_integer(
	    (json_int_t)query_nodes(e))) != 0 ||
	    json_object_set_new(o, "failure", e->failed ?
	    json_string(e->fail_reason) : json_null()) != 0)
		goto fail;
	stamp(t1, e->ended_at);
	if (json_object_set_new(o, "end", !e->ended ? json_null() :
	    json_pack("{s:s, s:s, s:o, s:o}", "status", e->status, "time", t1,
	    "result_digest", e->result_digest[0] ?
	    json_string(e->result_digest) : json_null(),
	    "reason", e->end_reason[0] ? json_string(e->end_reason) :
	    json_null())) != 0)
		goto fail;
	json_decref(steps);
	return o;
fail:
	json_decref(steps);
	json_decref(o);
	return NULL;
}

int
cc_querylog_print(FILE *out, const struct cc_querylog *log, bool json)
{
	const struct cc_querylog_entry *e;
	json_t *all = NULL, *x;
	char t1[21], t2[21];
	size_t i, j;
	int r = CC_ERR_ALLOC;

	if (out == NULL || log == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if (json) {
		if ((all = json_array()) == NULL)
			goto out;
		for (i = log->n; i > 0; i--)
			if ((x = entry_json(log->entry[i - 1])) == NULL ||
			    json_array_append_new(all, x) != 0)
				goto out;
		r = json_dumpf(all, out, JSON_INDENT(2)) == 0 &&
		    fputc('\n', out) != EOF ? 0 : CC_ERR_IO;
		goto out;
	}
	if (log->n == 0)
		fprintf(out, "no queries yet\n");
	for (i = log->n; i > 0; i--) {
		e = log->entry[i - 1];
		fprintf(out, "%s", e->id);
		if (e->offered) {
			stamp(t1, e->offered_at);
			stamp(t2, e->deadline);
			fprintf(out, "  \"%s\" from %s\n", e->title, e->owner);
			fprintf(out, "  offered   %s, deadline %s\n", t1, t2);
		} else {
			fprintf(out, "  (never offered to this node)\n");
		}
		if (e->decision != CC_QUERYLOG_UNDECIDED) {
			stamp(t1, e->decided_at);
			fprintf(out, "  decision  %s by %s at %s%s%s\n",
			    cc_querylog_decision_name(e->decision),
			    e->decided_by, t1, e->decision_reason[0] ? ": " : "",
			    e->decision_reason);
		}
		if (e->nsteps > 0 || e->decision == CC_QUERYLOG_APPROVED) {
			fprintf(out, "  steps     %zu of %zu done", e->nsteps,
			    query_nodes(e));
			for (j = 0; j < e->nsteps; j++)
				fprintf(out, "%s chain %u hop %u (%" PRIu32
				    " records)", j ? "," : ":",
				    (unsigned)e->steps[j].chain,
				    (unsigned)e->steps[j].hop, e->steps[j].count);
			fputc('\n', out);
		}
		if (e->failed)
			fprintf(out, "  failure   reported by this node: %s\n",
			    e->fail_reason);
		if (e->ended) {
			stamp(t1, e->ended_at);
			fprintf(out, "  end       %s at %s", e->status, t1);
			if (e->result_digest[0])
				fprintf(out, ", result digest %s", e->result_digest);
			if (e->end_reason[0])
				fprintf(out, ": %s", e->end_reason);
			fputc('\n', out);
		}
	}
	r = ferror(out) ? CC_ERR_IO : 0;
out:
	json_decref(all);
	return r;
}
