/*
 * Unit tests: the audit trail (aggregator/audit.c): the hash of an entry
 * against vectors computed independently (Python hashlib and json with
 * sort_keys, compact separators, ensure_ascii=False), append and verify,
 * prev_hash linkage, head, listing, transactions, and tampering by an
 * attacker with file access (who can drop the append-only triggers).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>
#include <sodium.h>

#include "aggregator/audit.h"
#include "aggregator/store.h"

#define ZERO_HASH \
	"0000000000000000000000000000000000000000000000000000000000000000"
#define QID "0f1e2d3c4b5a69788796a5b4c3d2e1f0"

struct fixture {
	char dir[64];
	char path[128];
	struct cc_agg_store *store;
};

static int
setup(void **state)
{
	struct cc_diag d = { { 0 } };
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || sodium_init() < 0)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/cc-audit-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/aggregator.db", f->dir);
	if (cc_agg_store_open(&f->store, f->path, true, &d) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char p[160];

	cc_agg_store_close(f->store);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

static json_t *
detail_new(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	assert_non_null(v);
	return v;
}

static void
append_ok(struct cc_agg_store *s, const char *actor, const char *event,
    const char *detail)
{
	struct cc_diag d = { { 0 } };
	json_t *v = detail != NULL ? detail_new(detail) : NULL;

	if (cc_audit_append(s, actor, event, v, &d) != 0)
		fail_msg("append: %s", d.text);
	json_decref(v);
}

static int
exec_sql(struct cc_agg_store *s, const char *sql)
{
	return sqlite3_exec(cc_agg_store_db(s), sql, NULL, NULL, NULL);
}

static int64_t
row_count(struct cc_agg_store *s)
{
	sqlite3_stmt *st;
	int64_t n;

	assert_int_equal(sqlite3_prepare_v2(cc_agg_store_db(s),
	    "SELECT count(*) FROM audit", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Verify; returns the first bad seq (0 = intact) and checks the count. */
static int64_t
verify(struct cc_agg_store *s, int64_t expect_count, char *diag_out)
{
	struct cc_diag d = { { 0 } };
	int64_t count = -1, bad = -1;

	assert_int_equal(cc_audit_verify(s, &count, &bad, &d), 0);
	assert_int_equal(count, expect_count);
	if (diag_out != NULL)
		memcpy(diag_out, d.text, sizeof(d.text));
	return bad;
}

static void
vectors(void **state)
{
	char h1[CC_AUDIT_HASH_HEX], h2[CC_AUDIT_HASH_HEX];
	json_t *d1, *d2;

	(void)state;
	assert_true(sodium_init() >= 0);
	/*
	 * 64 zeros "\n" {"actor":"anna","detail":{"digest":"abab...ab",
	 * "owner":"anna","query":"0f1e..."},"event":"query.submitted",
	 * "seq":1,"time":"2026-11-22T12:00:00Z"}
	 */
	d1 = detail_new("{\"query\": \"" QID "\", \"owner\": \"anna\","
	    "\"digest\": \"abababababababababababababababababababababababab"
	    "abababababababab\"}");
	assert_int_equal(cc_audit_entry_hash(h1, ZERO_HASH, 1, 1795348800,
	    "anna", "query.submitted", d1), 0);
	assert_string_equal(h1,
	    "41d815a644b5a36b5ec5d2a37f9463cf0105c9e899b17f0aa0ca98b7e5b8823b");
	/* UTF-8 as is, quotes escaped, keys sorted. */
	d2 = detail_new("{\"query\": \"" QID "\", \"node\": \"skola\","
	    "\"note\": \"\\u00f6k \\\"x\\\"\"}");
	assert_int_equal(cc_audit_entry_hash(h2, h1, 2, 1795348805,
	    "m\xc3\xa4rta", "query.approved", d2), 0);
	assert_string_equal(h2,
	    "eea6675e883b489a4a32bcdff8bf5c685abfde8055ebabdd7971eb37958fe634");

	/* Arguments out of range. */
	assert_int_equal(cc_audit_entry_hash(h2, "0", 1, 0, "a", "e", d1),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_audit_entry_hash(h2,
	    "41D815A644B5A36B5EC5D2A37F9463CF0105C9E899B17F0AA0CA98B7E5B8823B",
	    1, 0, "a", "e", d1), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_audit_entry_hash(h2, ZERO_HASH, 0, 0, "a", "e",
	    d1), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_audit_entry_hash(h2, ZERO_HASH, 1, -1, "a", "e",
	    d1), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_audit_entry_hash(h2, ZERO_HASH, 1, 253402300800,
	    "a", "e", d1), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_audit_entry_hash(h2, ZERO_HASH, 1, 253402300799,
	    "a", "e", d1), 0);
	assert_int_equal(cc_audit_entry_hash(h2, ZERO_HASH, 1, 0, "a", "e",
	    json_object_get(d1, "owner")), CC_ERR_INVALID_ARGUMENT);
	assert_string_equal(h2, "");
	json_decref(d1);
	json_decref(d2);
}

/* Four entries as the coordinator would write them. */
static void
four_entries(struct cc_agg_store *s)
{
	append_ok(s, "anna", "query.submitted", "{\"query\": \"" QID "\","
	    "\"owner\": \"anna\", \"digest\": \"" ZERO_HASH "\"}");
	append_ok(s, "skola", "query.approved",
	    "{\"query\": \"" QID "\", \"node\": \"skola\"}");
	append_ok(s, "aggregator", "query.running", "{\"query\": \"" QID "\"}");
	append_ok(s, "aggregator", "query.released", NULL);
}

static void
append_verify_head(void **state)
{
	struct fixture *f = *state;
	struct cc_diag d = { { 0 } };
	char head[CC_AUDIT_HASH_HEX], prev[CC_AUDIT_HASH_HEX] = ZERO_HASH;
	char when[32], expect[512], hash[CC_AUDIT_HASH_HEX];
	uint8_t sha[32];
	sqlite3_stmt *st;
	int64_t seq = -1, n = 0, t;
	time_t tt;
	struct tm tm;

	/* An empty log is intact and its head is the zero hash. */
	assert_int_equal(verify(f->store, 0, NULL), 0);
	assert_int_equal(cc_audit_head(f->store, &seq, head, &d), 0);
	assert_int_equal(seq, 0);
	assert_string_equal(head, ZERO_HASH);

	four_entries(f->store);
	assert_int_equal(verify(f->store, 4, NULL), 0);

	/* seq from 1, prev_hash = the previous hash, zeros first. */
	assert_int_equal(sqlite3_prepare_v2(cc_agg_store_db(f->store),
	    "SELECT seq, time, detail, prev_hash, hash FROM audit ORDER BY seq",
	    -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		n++;
		assert_int_equal(sqlite3_column_int64(st, 0), n);
		assert_string_equal(sqlite3_column_text(st, 3), prev);
		memcpy(prev, sqlite3_column_text(st, 4), sizeof(prev) - 1);
		t = sqlite3_column_int64(st, 1);
		assert_true(t > 1700000000);
		if (n == 1) {
			/* The documented form, written out by hand. */
			tt = (time_t)t;
			assert_non_null(gmtime_r(&tt, &tm));
			assert_int_equal(strftime(when, sizeof(when),
			    "%Y-%m-%dT%H:%M:%SZ", &tm), 20);
			snprintf(expect, sizeof(expect), "%s\n"
			    "{\"actor\":\"anna\",\"detail\":{\"digest\":\"%s\","
			    "\"owner\":\"anna\",\"query\":\"" QID "\"},"
			    "\"event\":\"query.submitted\",\"seq\":1,"
			    "\"time\":\"%s\"}", ZERO_HASH, ZERO_HASH, when);
			crypto_hash_sha256(sha, (const uint8_t *)expect,
			    strlen(expect));
			sodium_bin2hex(hash, sizeof(hash), sha, sizeof(sha));
			assert_string_equal(sqlite3_column_text(st, 4), hash);
			/* The detail is stored in canonical form. */
			assert_string_equal(sqlite3_column_text(st, 2),
			    "{\"digest\":\"" ZERO_HASH "\",\"owner\":\"anna\","
			    "\"query\":\"" QID "\"}");
		}
		if (n == 4)
			assert_string_equal(sqlite3_column_text(st, 2), "{}");
	}
	sqlite3_finalize(st);
	assert_int_equal(n, 4);

	assert_int_equal(cc_audit_head(f->store, &seq, head, &d), 0);
	assert_int_equal(seq, 4);
	assert_string_equal(head, prev);
	assert_int_equal(cc_audit_head(f->store, NULL, head, &d), 0);
	assert_string_equal(head, prev);
}

static void
list_entries(void **state)
{
	struct fixture *f = *state;
	struct cc_diag d = { { 0 } };
	json_t *list = NULL, *e;
	const char *when;

	four_entries(f->store);
	assert_int_equal(cc_audit_list(f->store, &list, 0, 2, &d), 0);
	assert_int_equal(json_array_size(list), 2);
	e = json_array_get(list, 0);
	assert_int_equal(json_integer_value(json_object_get(e, "seq")), 1);
	assert_string_equal(json_string_value(json_object_get(e, "actor")),
	    "anna");
	assert_string_equal(json_string_value(json_object_get(e, "event")),
	    "query.submitted");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    e, "detail"), "owner")), "anna");
	assert_string_equal(json_string_value(json_object_get(e, "prev_hash")),
	    ZERO_HASH);
	when = json_string_value(json_object_get(e, "time"));
	assert_non_null(when);
	assert_int_equal(strlen(when), 20);
	assert_true(when[4] == '-' && when[10] == 'T' && when[19] == 'Z');
	/* Each listed entry links to the one before. */
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(list, 1), "prev_hash")),
	    json_string_value(json_object_get(e, "hash")));
	json_decref(list);

	assert_int_equal(cc_audit_list(f->store, &list, 2, 0, &d), 0);
	assert_int_equal(json_array_size(list), 2);
	assert_int_equal(json_integer_value(json_object_get(
	    json_array_get(list, 0), "seq")), 3);
	json_decref(list);
	assert_int_equal(cc_audit_list(f->store, &list, 4, 10, &d), 0);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	list = (json_t *)1;
	assert_int_equal(cc_audit_list(f->store, &list, 0,
	    CC_AUDIT_LIST_MAX + 1, &d), CC_ERR_INVALID_ARGUMENT);
	assert_null(list);
}

static void
transactions(void **state)
{
	struct fixture *f = *state;

	append_ok(f->store, "anna", "query.submitted", "{}");
	/* Rolled back with the caller's change: no entry. */
	assert_int_equal(cc_agg_store_begin(f->store), 0);
	append_ok(f->store, "skola", "query.approved", "{\"node\": \"skola\"}");
	append_ok(f->store, "bup", "query.approved", "{\"node\": \"bup\"}");
	assert_int_equal(row_count(f->store), 3);
	cc_agg_store_rollback(f->store);
	assert_int_equal(row_count(f->store), 1);
	assert_int_equal(verify(f->store, 1, NULL), 0);
	/* Committed with it: both entries, linked. */
	assert_int_equal(cc_agg_store_begin(f->store), 0);
	append_ok(f->store, "skola", "query.approved", "{\"node\": \"skola\"}");
	append_ok(f->store, "bup", "query.approved", "{\"node\": \"bup\"}");
	assert_int_equal(cc_agg_store_commit(f->store), 0);
	assert_int_equal(verify(f->store, 3, NULL), 0);
	/* Outside a transaction the append left none open. */
	assert_true(sqlite3_get_autocommit(cc_agg_store_db(f->store)));
}

static void
bad_input(void **state)
{
	struct fixture *f = *state;
	struct cc_diag d = { { 0 } };
	char actor[CC_AUDIT_ACTOR_MAX + 2];
	json_t *obj = json_object(), *arr = json_array(), *big;
	char *filler;

	memset(actor, 'a', sizeof(actor) - 1);
	actor[sizeof(actor) - 1] = '\0';
	assert_int_equal(cc_audit_append(f->store, actor, "e", obj, &d),
	    CC_ERR_INVALID_ARGUMENT);
	actor[CC_AUDIT_ACTOR_MAX] = '\0';
	assert_int_equal(cc_audit_append(f->store, actor, "e", obj, &d), 0);
	assert_int_equal(cc_audit_append(f->store, "", "e", obj, &d),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_audit_append(f->store, "a\nb", "e", obj, &d),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_audit_append(f->store, "\xff", "e", obj, &d),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_audit_append(f->store, "a", "Query.x", obj, &d),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_audit_append(f->store, "a", "", obj, &d),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_audit_append(f->store, "a", "a b", obj, &d),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_audit_append(f->store, "a", ".x", obj, &d),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_audit_append(f->store, "a", "e", arr, &d),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_audit_append(NULL, "a", "e", obj, &d),
	    CC_ERR_INVALID_ARGUMENT);
	/* A detail over the limit. */
	filler = malloc(CC_LIMIT_AUDIT_DETAIL + 1);
	assert_non_null(filler);
	memset(filler, 'x', CC_LIMIT_AUDIT_DETAIL);
	filler[CC_LIMIT_AUDIT_DETAIL] = '\0';
	big = json_pack("{s:s}", "x", filler);
	assert_non_null(big);
	assert_int_equal(cc_audit_append(f->store, "a", "e", big, &d),
	    CC_ERR_LIMIT);
	/* Nothing but the one good entry was written, and no transaction. */
	assert_int_equal(row_count(f->store), 1);
	assert_true(sqlite3_get_autocommit(cc_agg_store_db(f->store)));
	assert_int_equal(verify(f->store, 1, NULL), 0);
	free(filler);
	json_decref(big);
	json_decref(obj);
	json_decref(arr);
}

static void
triggers_refuse_changes(void **state)
{
	struct fixture *f = *state;

	four_entries(f->store);
	assert_int_equal(exec_sql(f->store,
	    "UPDATE audit SET actor = 'mallory' WHERE seq = 2"),
	    SQLITE_CONSTRAINT);
	assert_int_equal(exec_sql(f->store, "DELETE FROM audit WHERE seq = 4"),
	    SQLITE_CONSTRAINT);
	assert_int_equal(verify(f->store, 4, NULL), 0);
}

/* An attacker with the database file: the triggers are no obstacle. */
static void
attacker(struct cc_agg_store *s)
{
	assert_int_equal(exec_sql(s, "DROP TRIGGER audit_no_update;"
	    "DROP TRIGGER audit_no_delete;"), SQLITE_OK);
}

static void
tamper_detail(void **state)
{
	struct fixture *f = *state;
	char why[CC_DIAG_MAX];

	four_entries(f->store);
	attacker(f->store);
	assert_int_equal(exec_sql(f->store, "UPDATE audit SET detail = "
	    "'{\"node\":\"bup\",\"query\":\"" QID "\"}' WHERE seq = 2"),
	    SQLITE_OK);
	assert_int_equal(verify(f->store, 4, why), 2);
	assert_non_null(strstr(why, "audit entry 2: hash does not match"));
}

static void
tamper_rehashed(void **state)
{
	struct fixture *f = *state;
	char why[CC_DIAG_MAX], hash[CC_AUDIT_HASH_HEX], sql[512];
	sqlite3_stmt *st;
	json_t *detail;

	/*
	 * The attacker also recomputes entry 2's hash: then entry 3 no
	 * longer links to it.
	 */
	four_entries(f->store);
	attacker(f->store);
	assert_int_equal(sqlite3_prepare_v2(cc_agg_store_db(f->store),
	    "SELECT prev_hash, time FROM audit WHERE seq = 2", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	detail = detail_new("{\"node\": \"bup\", \"query\": \"" QID "\"}");
	assert_int_equal(cc_audit_entry_hash(hash,
	    (const char *)sqlite3_column_text(st, 0), 2,
	    sqlite3_column_int64(st, 1), "bup", "query.approved", detail), 0);
	sqlite3_finalize(st);
	json_decref(detail);
	snprintf(sql, sizeof(sql), "UPDATE audit SET actor = 'bup', detail = "
	    "'{\"node\":\"bup\",\"query\":\"" QID "\"}', hash = '%s' "
	    "WHERE seq = 2", hash);
	assert_int_equal(exec_sql(f->store, sql), SQLITE_OK);
	assert_int_equal(verify(f->store, 4, why), 3);
	assert_non_null(strstr(why, "audit entry 3: prev_hash"));
}

static void
tamper_delete_and_truncate(void **state)
{
	struct fixture *f = *state;
	struct cc_diag d = { { 0 } };
	char why[CC_DIAG_MAX], anchor[CC_AUDIT_HASH_HEX], head[CC_AUDIT_HASH_HEX];
	int64_t seq;

	four_entries(f->store);
	/* A node keeps the head. */
	assert_int_equal(cc_audit_head(f->store, &seq, anchor, &d), 0);
	attacker(f->store);
	/* Removing the last entry leaves a valid chain ... */
	assert_int_equal(exec_sql(f->store, "DELETE FROM audit WHERE seq = 4"),
	    SQLITE_OK);
	assert_int_equal(verify(f->store, 3, NULL), 0);
	/* ... that the outside anchor exposes. */
	assert_int_equal(cc_audit_head(f->store, &seq, head, &d), 0);
	assert_int_equal(seq, 3);
	assert_string_not_equal(head, anchor);
	/* Removing one in the middle breaks the next. */
	assert_int_equal(exec_sql(f->store, "DELETE FROM audit WHERE seq = 2"),
	    SQLITE_OK);
	assert_int_equal(verify(f->store, 2, why), 3);
	assert_non_null(strstr(why, "audit entry 3: seq 3 where 2"));
}

static void
tamper_other_fields(void **state)
{
	struct fixture *f = *state;
	char why[CC_DIAG_MAX];

	four_entries(f->store);
	attacker(f->store);
	/* The same detail, not in canonical form. */
	assert_int_equal(exec_sql(f->store, "UPDATE audit SET detail = "
	    "'{\"query\": \"" QID "\"}' WHERE seq = 3"), SQLITE_OK);
	assert_int_equal(verify(f->store, 4, why), 3);
	assert_non_null(strstr(why, "canonical"));
	assert_int_equal(exec_sql(f->store, "UPDATE audit SET detail = "
	    "'{\"query\":\"" QID "\"}' WHERE seq = 3"), SQLITE_OK);
	assert_int_equal(verify(f->store, 4, NULL), 0);
	/* The time of the first entry. */
	assert_int_equal(exec_sql(f->store,
	    "UPDATE audit SET time = time - 3600 WHERE seq = 1"), SQLITE_OK);
	assert_int_equal(verify(f->store, 4, NULL), 1);
	assert_int_equal(exec_sql(f->store,
	    "UPDATE audit SET time = time + 3600 WHERE seq = 1"), SQLITE_OK);
	assert_int_equal(verify(f->store, 4, NULL), 0);
	/* The event, the type of time, and a hash that is a number. */
	assert_int_equal(exec_sql(f->store,
	    "UPDATE audit SET event = 'query.rejected' WHERE seq = 2"),
	    SQLITE_OK);
	assert_int_equal(verify(f->store, 4, NULL), 2);
	assert_int_equal(exec_sql(f->store,
	    "UPDATE audit SET event = 'query.approved', time = 'soon' "
	    "WHERE seq = 2"), SQLITE_OK);
	assert_int_equal(verify(f->store, 4, why), 2);
	assert_non_null(strstr(why, "wrong type"));
	assert_int_equal(exec_sql(f->store,
	    "UPDATE audit SET time = 0, hash = 42 WHERE seq = 2"), SQLITE_OK);
	assert_int_equal(verify(f->store, 4, NULL), 2);
	/* A damaged head is reported, not returned. */
	assert_int_equal(exec_sql(f->store,
	    "UPDATE audit SET hash = 'x' WHERE seq = 4"), SQLITE_OK);
	{
		struct cc_diag d = { { 0 } };
		char head[CC_AUDIT_HASH_HEX];

		assert_int_equal(cc_audit_head(f->store, NULL, head, &d),
		    CC_ERR_FORMAT);
		assert_string_equal(head, "");
		/* Appending after a damaged head is refused too. */
		assert_int_equal(cc_audit_append(f->store, "a", "e", NULL, &d),
		    CC_ERR_FORMAT);
		assert_int_equal(row_count(f->store), 4);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vectors),
		cmocka_unit_test_setup_teardown(append_verify_head, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(list_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(triggers_refuse_changes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(tamper_detail, setup, teardown),
		cmocka_unit_test_setup_teardown(tamper_rehashed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(tamper_delete_and_truncate,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(tamper_other_fields, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
