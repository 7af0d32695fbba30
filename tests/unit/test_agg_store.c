/* Unit tests: the aggregator's SQLite store (aggregator/store.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "aggregator/store.h"

struct fixture {
	char dir[64];
	char path[128];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/cc-agg-store-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/aggregator.db", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char p[160];

	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

static int
exec_sql(struct cc_agg_store *s, const char *sql)
{
	return sqlite3_exec(cc_agg_store_db(s), sql, NULL, NULL, NULL);
}

static void
create_refuses_existing_and_reopens(void **state)
{
	struct fixture *f = *state;
	struct cc_agg_store *s = NULL;
	struct cc_diag d = { "" };
	struct stat st;

	assert_int_equal(cc_agg_store_open(&s, f->path, false, &d), CC_ERR_NOT_FOUND);
	assert_null(s);
	assert_int_equal(cc_agg_store_open(&s, f->path, true, &d), 0);
	assert_non_null(s);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	cc_agg_store_close(s);
	s = NULL;
	assert_int_equal(cc_agg_store_open(&s, f->path, true, &d), CC_ERR_EXISTS);
	assert_null(s);
	assert_int_equal(cc_agg_store_open(&s, f->path, false, &d), 0);
	cc_agg_store_close(s);
	cc_agg_store_close(NULL);
}

static void
refuses_other_schema_version(void **state)
{
	struct fixture *f = *state;
	struct cc_agg_store *s = NULL;
	struct cc_diag d = { "" };

	assert_int_equal(cc_agg_store_open(&s, f->path, true, &d), 0);
	assert_int_equal(exec_sql(s, "PRAGMA user_version=7"), SQLITE_OK);
	cc_agg_store_close(s);
	s = NULL;
	assert_int_equal(cc_agg_store_open(&s, f->path, false, &d), CC_ERR_VERSION);
	assert_non_null(strstr(d.text, "schema version 7"));
}

static void
audit_is_append_only_and_foreign_keys_hold(void **state)
{
	struct fixture *f = *state;
	struct cc_agg_store *s = NULL;
	struct cc_diag d = { "" };

	assert_int_equal(cc_agg_store_open(&s, f->path, true, &d), 0);
	assert_int_equal(exec_sql(s, "INSERT INTO audit(time, actor, event, detail,"
	    " prev_hash, hash) VALUES (1, 'a', 'e', '{}', 'p', 'h')"), SQLITE_OK);
	assert_int_not_equal(exec_sql(s, "UPDATE audit SET actor = 'b'"), SQLITE_OK);
	assert_non_null(strstr(sqlite3_errmsg(cc_agg_store_db(s)), "append-only"));
	assert_int_not_equal(exec_sql(s, "DELETE FROM audit"), SQLITE_OK);
	/* A query owned by a user who does not exist. */
	assert_int_not_equal(exec_sql(s, "INSERT INTO queries(id, owner, title,"
	    " document, status, submitted, deadline) VALUES ('q', 'nobody', 't',"
	    " '{}', 'running', 1, 2)"), SQLITE_OK);
	/* A status outside the state machine. */
	assert_int_equal(exec_sql(s, "INSERT INTO users(name, role, pwhash, created)"
	    " VALUES ('anna', 'analyst', 'x', 1)"), SQLITE_OK);
	assert_int_not_equal(exec_sql(s, "INSERT INTO queries(id, owner, title,"
	    " document, status, submitted, deadline) VALUES ('q', 'anna', 't',"
	    " '{}', 'half-done', 1, 2)"), SQLITE_OK);
	cc_agg_store_close(s);
}

static void
transactions_roll_back(void **state)
{
	struct fixture *f = *state;
	struct cc_agg_store *s = NULL;
	struct cc_diag d = { "" };
	sqlite3_stmt *st = NULL;

	assert_int_equal(cc_agg_store_open(&s, f->path, true, &d), 0);
	assert_int_equal(cc_agg_store_begin(s), 0);
	assert_int_equal(exec_sql(s, "INSERT INTO nodes(id, sector, added)"
	    " VALUES ('skola', 'school', 1)"), SQLITE_OK);
	cc_agg_store_rollback(s);
	cc_agg_store_rollback(s);  /* no transaction: harmless */
	assert_int_equal(cc_agg_store_prepare(s, &st, "SELECT count(*) FROM nodes", &d), 0);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	assert_int_equal(cc_agg_store_prepare(s, &st, "SELECT nope FROM nowhere", &d),
	    CC_ERR_DB);
	assert_null(st);
	assert_non_null(strstr(d.text, "no such"));
	cc_agg_store_close(s);
}

static int
row_value(json_t **ret_row, sqlite3_stmt *st)
{
	if (sqlite3_column_int(st, 0) == 13)
		return CC_ERR_FORMAT;
	*ret_row = json_integer(sqlite3_column_int64(st, 0));
	return *ret_row != NULL ? 0 : CC_ERR_ALLOC;
}

static void
rows_collect_json_and_stop_at_errors(void **state)
{
	struct fixture *f = *state;
	struct cc_agg_store *s = NULL;
	struct cc_diag d = { "" };
	sqlite3_stmt *st = NULL;
	json_t *list = (json_t *)&d;

	assert_int_equal(cc_agg_store_open(&s, f->path, true, &d), 0);
	/* Every row, in order. */
	assert_int_equal(cc_agg_store_prepare(s, &st, "SELECT value FROM "
	    "json_each('[3, 1, 2]')", &d), 0);
	assert_int_equal(cc_agg_store_rows(s, st, row_value, &list, &d), 0);
	assert_int_equal(json_array_size(list), 3);
	assert_int_equal(json_integer_value(json_array_get(list, 0)), 3);
	assert_int_equal(json_integer_value(json_array_get(list, 2)), 2);
	json_decref(list);
	sqlite3_finalize(st);
	/* No row: an empty array. */
	assert_int_equal(cc_agg_store_prepare(s, &st, "SELECT 1 WHERE 0", &d), 0);
	assert_int_equal(cc_agg_store_rows(s, st, row_value, &list, &d), 0);
	assert_true(json_is_array(list) && json_array_size(list) == 0);
	json_decref(list);
	sqlite3_finalize(st);
	/* The row function's error, and no list. */
	assert_int_equal(cc_agg_store_prepare(s, &st, "SELECT value FROM "
	    "json_each('[1, 13, 2]')", &d), 0);
	assert_int_equal(cc_agg_store_rows(s, st, row_value, &list, &d),
	    CC_ERR_FORMAT);
	assert_null(list);
	sqlite3_finalize(st);
	/* A step that fails is CC_ERR_DB with SQLite's words. */
	assert_int_equal(cc_agg_store_prepare(s, &st, "SELECT json_extract("
	    "value, '$') FROM json_each('[1]') UNION ALL SELECT json('{')",
	    &d), 0);
	assert_int_equal(cc_agg_store_rows(s, st, row_value, &list, &d),
	    CC_ERR_DB);
	assert_null(list);
	assert_non_null(strstr(d.text, "database:"));
	sqlite3_finalize(st);
	assert_int_equal(cc_agg_store_rows(s, NULL, row_value, &list, &d),
	    CC_ERR_INVALID_ARGUMENT);
	cc_agg_store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(create_refuses_existing_and_reopens, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_other_schema_version, setup, teardown),
		cmocka_unit_test_setup_teardown(audit_is_append_only_and_foreign_keys_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(transactions_roll_back, setup, teardown),
		cmocka_unit_test_setup_teardown(rows_collect_json_and_stop_at_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
