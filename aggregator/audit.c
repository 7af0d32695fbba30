/*
 * crosscount-aggregator: the append-only, hash-chained audit trail
 * (see audit.h; SPEC.md section 13).
 */
#include "aggregator/audit.h"
#include "protocol/date.h"
#include "protocol/hex.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#define AUDIT_ZERO_HASH \
	"0000000000000000000000000000000000000000000000000000000000000000"
#define AUDIT_TIME_MAX INT64_C(253402300799)   /* 9999-12-31T23:59:59Z */
#define AUDIT_TIME_TEXT CC_DATE_TIME_TEXT      /* "YYYY-MM-DDTHH:MM:SSZ" */

/* 1..CC_AUDIT_ACTOR_MAX bytes, no control characters (UTF-8: Jansson). */
static bool
actor_valid(const char *actor, size_t len)
{
	size_t i;

	if (len < 1 || len > CC_AUDIT_ACTOR_MAX)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)actor[i] < 0x20 || actor[i] == 0x7F)
			return false;
	return true;
}

/* [a-z][a-z0-9._-]{0,63} */
static bool
event_valid(const char *event, size_t len)
{
	size_t i;
	char ch;

	if (len < 1 || len > CC_AUDIT_EVENT_MAX || event[0] < 'a' ||
	    event[0] > 'z')
		return false;
	for (i = 1; i < len; i++) {
		ch = event[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

/* 64 lowercase hex characters. */
static bool
hash_valid(const char *hash, size_t len)
{
	/* hash is NUL-terminated (SQLite text, C strings). */
	return len == CC_AUDIT_HASH_HEX - 1 && cc_hex_valid(hash, len);
}

/* RFC 3339 UTC, whole seconds. */
static int
time_text(char out[AUDIT_TIME_TEXT], int64_t t)
{
	out[0] = '\0';
	if (t < 0 || t > AUDIT_TIME_MAX || cc_date_time_text(out, t) != 0)
		return CC_ERR_INVALID_ARGUMENT;
	return 0;
}

static int
set_new(json_t *obj, const char *name, json_t *value)
{
	if (value == NULL)
		return CC_ERR_ALLOC;
	return json_object_set_new(obj, name, value) == 0 ? 0 : CC_ERR_ALLOC;
}

int
cc_audit_entry_hash(char ret_hash[CC_AUDIT_HASH_HEX], const char *prev_hash,
    int64_t seq, int64_t time, const char *actor, const char *event,
    const json_t *detail)
{
	crypto_hash_sha256_state st;
	uint8_t d[crypto_hash_sha256_BYTES];
	char when[AUDIT_TIME_TEXT];
	json_t *e = NULL;
	char *text = NULL;
	int r = CC_ERR_INTERNAL;

	ret_hash[0] = '\0';
	if (prev_hash == NULL || !hash_valid(prev_hash, strlen(prev_hash)) ||
	    seq < 1 || actor == NULL || event == NULL ||
	    !json_is_object(detail))
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = time_text(when, time)) != 0)
		return r;
	if ((e = json_object()) == NULL)
		return CC_ERR_ALLOC;
	/*
	 * E = {"actor", "detail", "event", "seq", "time"}. Jansson's setter
	 * is not const; it only takes a reference to detail.
	 */
	if (set_new(e, "actor", json_string(actor)) != 0 ||
	    set_new(e, "event", json_string(event)) != 0) {
		/* Jansson refuses text that is not UTF-8. */
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if ((r = set_new(e, "detail",
	    json_incref((json_t *)(uintptr_t)detail))) != 0 ||
	    (r = set_new(e, "seq", json_integer(seq))) != 0 ||
	    (r = set_new(e, "time", json_string(when))) != 0)
		goto out;
	if ((text = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	/* SHA-256(prev_hash || "\n" || canonical(E)) */
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)prev_hash,
	    CC_AUDIT_HASH_HEX - 1);
	crypto_hash_sha256_update(&st, (const uint8_t *)"\n", 1);
	crypto_hash_sha256_update(&st, (const uint8_t *)text, strlen(text));
	crypto_hash_sha256_final(&st, d);
	sodium_bin2hex(ret_hash, CC_AUDIT_HASH_HEX, d, sizeof(d));
	r = 0;
out:
	free(text);
	json_decref(e);
	return r;
}

/* The latest entry's seq and hash (0 and zeros for an empty log). */
static int
audit_last(struct cc_agg_store *store, int64_t *ret_seq,
    char ret_hash[CC_AUDIT_HASH_HEX], struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	const char *hash;
	int r = CC_ERR_INTERNAL, rc;

	*ret_seq = 0;
	memcpy(ret_hash, AUDIT_ZERO_HASH, CC_AUDIT_HASH_HEX);
	if ((r = cc_agg_store_prepare(store, &st, "SELECT seq, hash FROM audit "
	    "ORDER BY seq DESC LIMIT 1", diag)) != 0)
		goto out;
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		r = 0;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = cc_agg_store_fail(store, diag);
		goto out;
	}
	hash = (const char *)sqlite3_column_text(st, 1);
	if (sqlite3_column_type(st, 0) != SQLITE_INTEGER ||
	    sqlite3_column_int64(st, 0) < 1 || hash == NULL ||
	    !hash_valid(hash, (size_t)sqlite3_column_bytes(st, 1))) {
		cc_diag_set(diag, "audit: the latest entry is damaged (run "
		    "audit verify)");
		r = CC_ERR_FORMAT;
		goto out;
	}
	*ret_seq = sqlite3_column_int64(st, 0);
	memcpy(ret_hash, hash, CC_AUDIT_HASH_HEX - 1);
	ret_hash[CC_AUDIT_HASH_HEX - 1] = '\0';
	r = 0;
out:
	sqlite3_finalize(st);
	return r;
}

int
cc_audit_append(struct cc_agg_store *store, const char *actor, const char *event,
    const json_t *detail, struct cc_diag *diag)
{
	char prev[CC_AUDIT_HASH_HEX], hash[CC_AUDIT_HASH_HEX];
	sqlite3_stmt *st = NULL;
	json_t *empty = NULL;
	char *text = NULL;
	bool own = false;
	int64_t seq, now;
	size_t len;
	int r = CC_ERR_INTERNAL;

	if (store == NULL || actor == NULL || event == NULL) {
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if (!actor_valid(actor, strlen(actor))) {
		cc_diag_set(diag, "audit: the actor must be 1 to %d bytes "
		    "without control characters", CC_AUDIT_ACTOR_MAX);
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if (!event_valid(event, strlen(event))) {
		cc_diag_set(diag, "audit: an event is [a-z][a-z0-9._-]{0,63}");
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if (detail == NULL) {
		if ((empty = json_object()) == NULL) {
			r = CC_ERR_ALLOC;
			goto out;
		}
		detail = empty;
	}
	if (!json_is_object(detail)) {
		cc_diag_set(diag, "audit: the detail must be a JSON object");
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if ((text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if ((len = strlen(text)) > CC_LIMIT_AUDIT_DETAIL) {
		cc_diag_set(diag, "audit: the detail is %zu bytes, at most %u",
		    len, CC_LIMIT_AUDIT_DETAIL);
		r = CC_ERR_LIMIT;
		goto out;
	}
	/* Our own transaction only when the caller has none open. */
	if (sqlite3_get_autocommit(cc_agg_store_db(store))) {
		if (cc_agg_store_begin(store) != 0) {
			r = cc_agg_store_fail(store, diag);
			goto out;
		}
		own = true;
	}
	if ((r = audit_last(store, &seq, prev, diag)) != 0)
		goto out;
	seq++;
	now = (int64_t)time(NULL);
	if ((r = cc_audit_entry_hash(hash, prev, seq, now, actor, event,
	    detail)) != 0) {
		if (r == CC_ERR_INVALID_ARGUMENT)
			cc_diag_set(diag, "audit: the actor is not UTF-8 or "
			    "the clock is out of range");
		goto out;
	}
	if ((r = cc_agg_store_prepare(store, &st, "INSERT INTO audit (seq, time, "
	    "actor, event, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, "
	    "?)", diag)) != 0)
		goto out;
	if (sqlite3_bind_int64(st, 1, seq) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, now) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, actor, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 4, event, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 5, text, (int)len, SQLITE_STATIC) !=
	    SQLITE_OK ||
	    sqlite3_bind_text(st, 6, prev, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(st, 7, hash, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		r = cc_agg_store_fail(store, diag);
		goto out;
	}
	if (own) {
		if (cc_agg_store_commit(store) != 0) {
			r = cc_agg_store_fail(store, diag);
			goto out;
		}
		own = false;
	}
	r = 0;
out:
	sqlite3_finalize(st);
	if (own)
		cc_agg_store_rollback(store);
	free(text);
	json_decref(empty);
	return r;
}

/*
 * Check one stored row against the chain; 0 if it is intact, otherwise
 * CC_ERR_FORMAT with the reason in diag. prev holds the previous hash and
 * is advanced to this entry's.
 */
static int
verify_row(sqlite3_stmt *st, int64_t expect_seq,
    char prev[CC_AUDIT_HASH_HEX], struct cc_diag *diag)
{
	char hash[CC_AUDIT_HASH_HEX];
	const char *actor, *event, *text, *prev_hash, *stored;
	json_t *detail = NULL;
	json_error_t jerr;
	char *canon = NULL;
	int64_t seq = sqlite3_column_int64(st, 0);
	int i, r = CC_ERR_FORMAT;

	static const int types[7] = { SQLITE_INTEGER, SQLITE_INTEGER,
	    SQLITE_TEXT, SQLITE_TEXT, SQLITE_TEXT, SQLITE_TEXT, SQLITE_TEXT };

	for (i = 0; i < 7; i++) {
		if (sqlite3_column_type(st, i) != types[i]) {
			cc_diag_set(diag, "column %d has the wrong type", i);
			goto out;
		}
	}
	if (seq != expect_seq) {
		cc_diag_set(diag, "seq %lld where %lld was expected (entries "
		    "missing or inserted)", (long long)seq,
		    (long long)expect_seq);
		goto out;
	}
	actor = (const char *)sqlite3_column_text(st, 2);
	event = (const char *)sqlite3_column_text(st, 3);
	text = (const char *)sqlite3_column_text(st, 4);
	prev_hash = (const char *)sqlite3_column_text(st, 5);
	stored = (const char *)sqlite3_column_text(st, 6);
	if (actor == NULL || event == NULL || text == NULL ||
	    prev_hash == NULL || stored == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	/* Text with an embedded NUL is shorter than its byte count. */
	if (strlen(actor) != (size_t)sqlite3_column_bytes(st, 2) ||
	    !actor_valid(actor, strlen(actor)) ||
	    strlen(event) != (size_t)sqlite3_column_bytes(st, 3) ||
	    !event_valid(event, strlen(event))) {
		cc_diag_set(diag, "malformed actor or event");
		goto out;
	}
	if (!hash_valid(prev_hash, (size_t)sqlite3_column_bytes(st, 5)) ||
	    strcmp(prev_hash, prev) != 0) {
		cc_diag_set(diag, "prev_hash is not the hash of entry %lld",
		    (long long)(expect_seq - 1));
		goto out;
	}
	if (strlen(text) != (size_t)sqlite3_column_bytes(st, 4) ||
	    (detail = json_loads(text, JSON_REJECT_DUPLICATES, &jerr)) == NULL ||
	    !json_is_object(detail) ||
	    (canon = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS)) == NULL ||
	    strcmp(canon, text) != 0) {
		cc_diag_set(diag, "detail is not a canonical JSON object");
		goto out;
	}
	if ((r = cc_audit_entry_hash(hash, prev, seq,
	    sqlite3_column_int64(st, 1), actor, event, detail)) != 0) {
		cc_diag_set(diag, "time or actor out of range");
		r = CC_ERR_FORMAT;
		goto out;
	}
	if (!hash_valid(stored, (size_t)sqlite3_column_bytes(st, 6)) ||
	    strcmp(hash, stored) != 0) {
		cc_diag_set(diag, "hash does not match its contents");
		r = CC_ERR_FORMAT;
		goto out;
	}
	memcpy(prev, hash, CC_AUDIT_HASH_HEX);
	r = 0;
out:
	free(canon);
	json_decref(detail);
	return r;
}

int
cc_audit_verify(struct cc_agg_store *store, int64_t *ret_count,
    int64_t *ret_bad_seq, struct cc_diag *diag)
{
	char prev[CC_AUDIT_HASH_HEX] = AUDIT_ZERO_HASH;
	sqlite3_stmt *st = NULL;
	int64_t count = 0, bad = 0;
	int r = CC_ERR_INTERNAL, rc;

	if (ret_count != NULL)
		*ret_count = 0;
	if (ret_bad_seq != NULL)
		*ret_bad_seq = 0;
	if (store == NULL || ret_count == NULL || ret_bad_seq == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = cc_agg_store_prepare(store, &st, "SELECT seq, time, actor, event, "
	    "detail, prev_hash, hash FROM audit ORDER BY seq", diag)) != 0)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		count++;
		if (bad != 0)
			continue;  /* only counting from here on */
		if ((r = verify_row(st, count, prev, diag)) == CC_ERR_ALLOC)
			goto out;
		if (r != 0) {
			bad = sqlite3_column_type(st, 0) == SQLITE_INTEGER ?
			    sqlite3_column_int64(st, 0) : count;
			if (bad < 1)
				bad = count;
			cc_diag_prefix(diag, "audit entry %lld: ",
			    (long long)bad);
		}
	}
	if (rc != SQLITE_DONE) {
		r = cc_agg_store_fail(store, diag);
		goto out;
	}
	*ret_count = count;
	*ret_bad_seq = bad;
	r = 0;
out:
	sqlite3_finalize(st);
	return r;
}

int
cc_audit_head(struct cc_agg_store *store, int64_t *ret_seq,
    char ret_hash[CC_AUDIT_HASH_HEX], struct cc_diag *diag)
{
	int64_t seq;
	int r;

	if (ret_seq != NULL)
		*ret_seq = 0;
	if (ret_hash != NULL)
		ret_hash[0] = '\0';
	if (store == NULL || ret_hash == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = audit_last(store, &seq, ret_hash, diag)) != 0) {
		ret_hash[0] = '\0';
		return r;
	}
	if (ret_seq != NULL)
		*ret_seq = seq;
	return 0;
}

/* A text column as a JSON string, or null if it is not UTF-8 text. */
static json_t *
column_string(sqlite3_stmt *st, int col)
{
	const char *text = (const char *)sqlite3_column_text(st, col);
	json_t *v = NULL;

	if (text != NULL && sqlite3_column_type(st, col) == SQLITE_TEXT)
		v = json_string(text);
	return v != NULL ? v : json_null();
}

/* One listed entry from the current row. */
static int
list_entry(json_t **ret_entry, sqlite3_stmt *st)
{
	char when[AUDIT_TIME_TEXT];
	json_t *e = NULL, *detail = NULL;
	const char *text;
	int r = CC_ERR_INTERNAL;

	*ret_entry = NULL;
	if ((e = json_object()) == NULL)
		return CC_ERR_ALLOC;
	text = (const char *)sqlite3_column_text(st, 4);
	if (text != NULL)
		detail = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(detail)) {
		json_decref(detail);
		detail = json_null();
	}
	/* set_new takes detail, also when it fails. */
	if ((r = set_new(e, "detail", detail)) != 0)
		goto out;
	if (time_text(when, sqlite3_column_int64(st, 1)) != 0)
		memcpy(when, "invalid", sizeof("invalid"));
	if ((r = set_new(e, "seq", json_integer(sqlite3_column_int64(st,
	    0)))) != 0 ||
	    (r = set_new(e, "time", json_string(when))) != 0 ||
	    (r = set_new(e, "actor", column_string(st, 2))) != 0 ||
	    (r = set_new(e, "event", column_string(st, 3))) != 0 ||
	    (r = set_new(e, "prev_hash", column_string(st, 5))) != 0 ||
	    (r = set_new(e, "hash", column_string(st, 6))) != 0)
		goto out;
	*ret_entry = e;
	e = NULL;
	r = 0;
out:
	json_decref(e);
	return r;
}

int
cc_audit_list(struct cc_agg_store *store, json_t **ret_entries, int64_t since_seq,
    size_t limit, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	int r = CC_ERR_INTERNAL;

	if (ret_entries != NULL)
		*ret_entries = NULL;
	if (store == NULL || ret_entries == NULL || limit > CC_AUDIT_LIST_MAX)
		return CC_ERR_INVALID_ARGUMENT;
	if (limit == 0)
		limit = CC_AUDIT_LIST_MAX;
	if ((r = cc_agg_store_prepare(store, &st, "SELECT seq, time, actor, event, "
	    "detail, prev_hash, hash FROM audit WHERE seq > ? ORDER BY seq "
	    "LIMIT ?", diag)) != 0)
		goto out;
	if (sqlite3_bind_int64(st, 1, since_seq) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit) != SQLITE_OK) {
		r = cc_agg_store_fail(store, diag);
		goto out;
	}
	r = cc_agg_store_rows(store, st, list_entry, ret_entries, diag);
out:
	sqlite3_finalize(st);
	return r;
}
