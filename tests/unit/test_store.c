/* Unit tests: the node's SQLite store (node/store.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>
#include <sqlite3.h>

#include "node/store.h"
#include "protocol/group.h"

struct fixture {
	char dir[64];
	char path[128];
	uint8_t s[CC_SCALAR_BYTES];
	char fp[CC_STORE_FP_MAX];
	struct cc_store *st;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_true(sodium_init() >= 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/cc-test-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/node.db", f->dir);
	cc_group_scalar_random(f->s);
	snprintf(f->fp, sizeof(f->fp), "00112233aabbccdd");
	assert_int_equal(cc_store_create(f->path, f->fp, NULL), 0);
	assert_int_equal(cc_store_open(&f->st, f->path, NULL), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	cc_store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A fixed 12-digit canonical identity for test person i (no Luhn needed:
 * the store never sees identities, only H(id)). */
static void
canon(char out[12], unsigned i)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "2010%02u%02u%04u", 1 + i % 12, 1 + i % 28,
	    i % 10000);
	memcpy(out, buf, 12);
}

static void
pseudonym(uint8_t out[32], const uint8_t s[32], unsigned i)
{
	char c[12];
	uint8_t h[32];

	canon(c, i);
	assert_int_equal(cc_group_hash_identity(h, c), 0);
	assert_int_equal(cc_group_mult(out, s, h), 0);
}

static void
episode(struct cc_store_episode *ep, const uint8_t s[32], unsigned person,
    int64_t cat, int start_day, int end_day, const char *unit)
{
	memset(ep, 0, sizeof(*ep));
	pseudonym(ep->pseudonym, s, person);
	ep->birth_year = 2010;
	ep->birth_month = 1 + (int)(person % 12);
	ep->sex = person % 2 ? CC_SEX_MALE : CC_SEX_FEMALE;
	ep->category_id = cat;
	ep->start = (struct cc_date){ 2024, 1, start_day };
	ep->ongoing = end_day == 0;
	if (end_day)
		ep->end = (struct cc_date){ 2024, 2, end_day };
	ep->unit = unit;
	ep->unit_len = strlen(unit);
}

static void
log_of(struct cc_store_import_log *log, enum cc_store_mode mode,
    const char *outcome)
{
	memset(log, 0, sizeof(*log));
	log->started_at = 1700000000;
	log->finished_at = 1700000001;
	log->file_name = "x.csv";
	log->mode = mode;
	log->on = (struct cc_date){ 2024, 6, 1 };
	log->outcome = outcome;
	log->detail = "test";
}

/* Import n persons, one episode each in category cat; returns nothing. */
static void
import_persons(struct fixture *f, enum cc_store_mode mode, unsigned from,
    unsigned n, const char *cat)
{
	struct cc_store_import_log log;
	struct cc_store_episode ep;
	int64_t cid;
	unsigned i;
	bool added;

	assert_int_equal(cc_store_import_begin(f->st, mode, f->fp, NULL), 0);
	assert_int_equal(cc_store_import_category(f->st, cat, strlen(cat), &cid,
	    NULL), 0);
	for (i = from; i < from + n; i++) {
		episode(&ep, f->s, i, cid, 1, 0, "");
		assert_int_equal(cc_store_import_add(f->st, &ep, &added, NULL), 0);
		assert_true(added);
	}
	log_of(&log, mode, "ok");
	log.rows_read = log.rows_imported = n;
	assert_int_equal(cc_store_import_commit(f->st, &log, NULL), 0);
}

static void
create_refuses_existing_and_open_checks(void **state)
{
	struct fixture *f = *state;
	struct cc_store *st = (struct cc_store *)1;
	char path[160];
	sqlite3 *db;

	assert_int_equal(cc_store_create(f->path, "aa", NULL), CC_ERR_EXISTS);
	snprintf(path, sizeof(path), "%s/none.db", f->dir);
	assert_int_equal(cc_store_open(&st, path, NULL), CC_ERR_NOT_FOUND);
	assert_null(st);
	/* An unknown schema version is refused. */
	snprintf(path, sizeof(path), "%s/v99.db", f->dir);
	assert_int_equal(cc_store_create(path, "aa", NULL), 0);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(cc_store_open(&st, path, NULL), CC_ERR_VERSION);
	assert_null(st);
	cc_store_close(NULL);
}

static void
pragmas_are_in_force(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db;
	sqlite3_stmt *q;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), CC_STORE_SCHEMA_VERSION);
	sqlite3_finalize(q);
	sqlite3_close(db);
}

static void
fingerprint_is_kept(void **state)
{
	struct fixture *f = *state;
	char fp[CC_STORE_FP_MAX];

	assert_int_equal(cc_store_key_fingerprint(f->st, fp, NULL), 0);
	assert_string_equal(fp, f->fp);
	/* An import under another key is refused under the lock. */
	assert_int_equal(cc_store_import_begin(f->st, CC_STORE_APPEND,
	    "ffffffffffffffff", NULL), CC_ERR_STATE);
}

static void
snapshot_replaces_and_readers_see_old_until_commit(void **state)
{
	struct fixture *f = *state;
	struct cc_store *reader = NULL;
	struct cc_store_stats *s = malloc(sizeof(*s));
	struct cc_store_import_log log;
	struct cc_store_episode ep;
	int64_t cid;
	unsigned i;
	bool added;

	assert_non_null(s);
	import_persons(f, CC_STORE_SNAPSHOT, 0, 10, "absence");
	assert_int_equal(cc_store_stats(f->st, s, NULL), 0);
	assert_int_equal(s->persons, 10);
	assert_int_equal(s->episodes, 10);
	assert_int_equal(s->ncategories, 1);
	assert_string_equal(s->category[0].name, "absence");

	/* Snapshot B, open: a second connection still sees A. */
	assert_int_equal(cc_store_open(&reader, f->path, NULL), 0);
	assert_int_equal(cc_store_import_begin(f->st, CC_STORE_SNAPSHOT, f->fp,
	    NULL), 0);
	assert_int_equal(cc_store_import_category(f->st, "support", 7, &cid,
	    NULL), 0);
	for (i = 100; i < 103; i++) {
		episode(&ep, f->s, i, cid, 2, 0, "north");
		assert_int_equal(cc_store_import_add(f->st, &ep, &added, NULL), 0);
	}
	assert_int_equal(cc_store_stats(reader, s, NULL), 0);
	assert_int_equal(s->persons, 10);
	assert_string_equal(s->category[0].name, "absence");
	log_of(&log, CC_STORE_SNAPSHOT, "ok");
	assert_int_equal(cc_store_import_commit(f->st, &log, NULL), 0);
	/* After the commit: exactly B. */
	assert_int_equal(cc_store_stats(reader, s, NULL), 0);
	assert_int_equal(s->persons, 3);
	assert_int_equal(s->episodes, 3);
	assert_int_equal(s->ongoing, 3);
	assert_int_equal(s->ncategories, 1);
	assert_string_equal(s->category[0].name, "support");
	assert_int_equal(s->category[0].persons, 3);
	assert_true(s->have_as_of);
	assert_int_equal(s->as_of.month, 6);

	/* An aborted snapshot leaves B. */
	assert_int_equal(cc_store_import_begin(f->st, CC_STORE_SNAPSHOT, f->fp,
	    NULL), 0);
	cc_store_import_abort(f->st);
	assert_int_equal(cc_store_stats(f->st, s, NULL), 0);
	assert_int_equal(s->persons, 3);
	assert_int_equal(cc_store_integrity_check(f->st, NULL), 0);
	cc_store_close(reader);
	free(s);
}

static void
append_adds_and_duplicates_are_stored_once(void **state)
{
	struct fixture *f = *state;
	struct cc_store_stats *s = malloc(sizeof(*s));
	struct cc_store_import_log log;
	struct cc_store_episode ep;
	int64_t cid, cid2;
	bool added;

	assert_non_null(s);
	import_persons(f, CC_STORE_SNAPSHOT, 0, 5, "absence");
	assert_int_equal(cc_store_import_begin(f->st, CC_STORE_APPEND, f->fp,
	    NULL), 0);
	assert_int_equal(cc_store_import_category(f->st, "absence", 7, &cid,
	    NULL), 0);
	assert_int_equal(cc_store_import_category(f->st, "absence", 7, &cid2,
	    NULL), 0);
	assert_true(cid == cid2);
	/* The same ongoing episode again: not added (NULL end dates too). */
	episode(&ep, f->s, 0, cid, 1, 0, "");
	assert_int_equal(cc_store_import_add(f->st, &ep, &added, NULL), 0);
	assert_false(added);
	/* A closed episode, twice. */
	episode(&ep, f->s, 0, cid, 1, 10, "");
	assert_int_equal(cc_store_import_add(f->st, &ep, &added, NULL), 0);
	assert_true(added);
	assert_int_equal(cc_store_import_add(f->st, &ep, &added, NULL), 0);
	assert_false(added);
	/* Another unit is another episode. */
	episode(&ep, f->s, 0, cid, 1, 10, "south");
	assert_int_equal(cc_store_import_add(f->st, &ep, &added, NULL), 0);
	assert_true(added);
	/* A new person. */
	episode(&ep, f->s, 77, cid, 3, 0, "");
	assert_int_equal(cc_store_import_add(f->st, &ep, &added, NULL), 0);
	assert_true(added);
	/* End before start is refused by the store too. */
	episode(&ep, f->s, 78, cid, 3, 0, "");
	ep.ongoing = false;
	ep.end = (struct cc_date){ 2023, 1, 1 };
	assert_int_equal(cc_store_import_add(f->st, &ep, &added, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	log_of(&log, CC_STORE_APPEND, "ok");
	assert_int_equal(cc_store_import_commit(f->st, &log, NULL), 0);
	assert_int_equal(cc_store_stats(f->st, s, NULL), 0);
	assert_int_equal(s->persons, 6);
	assert_int_equal(s->episodes, 8);
	assert_int_equal(s->ongoing, 6);
	assert_int_equal(s->category[0].persons, 6);
	assert_int_equal(s->first.day, 1);
	free(s);
}

/* Per category: each person once, every episode, the earliest start. */
static void
stats_per_category(void **state)
{
	struct fixture *f = *state;
	struct cc_store_stats *s = malloc(sizeof(*s));
	struct cc_store_import_log log;
	struct cc_store_episode ep;
	int64_t zeta, alpha, mid;
	bool added;
	unsigned p;

	assert_non_null(s);
	assert_int_equal(cc_store_import_begin(f->st, CC_STORE_SNAPSHOT, f->fp,
	    NULL), 0);
	/* Made in another order than their names sort in. */
	assert_int_equal(cc_store_import_category(f->st, "zeta", 4, &zeta,
	    NULL), 0);
	assert_int_equal(cc_store_import_category(f->st, "alpha", 5, &alpha,
	    NULL), 0);
	assert_int_equal(cc_store_import_category(f->st, "mid", 3, &mid,
	    NULL), 0);
	for (p = 0; p < 40; p++) {
		/* Everyone in zeta, twice; every other person in alpha. */
		episode(&ep, f->s, p, zeta, 10 + (int)(p % 5), 0, "a");
		assert_int_equal(cc_store_import_add(f->st, &ep, &added, NULL), 0);
		episode(&ep, f->s, p, zeta, 10 + (int)(p % 5), 20, "b");
		assert_int_equal(cc_store_import_add(f->st, &ep, &added, NULL), 0);
		if (p % 2 == 0) {
			episode(&ep, f->s, p, alpha, 3 + (int)(p % 7), 0, "");
			assert_int_equal(cc_store_import_add(f->st, &ep, &added,
			    NULL), 0);
		}
	}
	log_of(&log, CC_STORE_SNAPSHOT, "ok");
	assert_int_equal(cc_store_import_commit(f->st, &log, NULL), 0);
	assert_int_equal(cc_store_stats(f->st, s, NULL), 0);
	assert_int_equal(s->persons, 40);
	assert_int_equal(s->episodes, 100);
	assert_int_equal(s->ncategories, 3);
	assert_string_equal(s->category[0].name, "alpha");
	assert_int_equal(s->category[0].persons, 20);
	assert_int_equal(s->category[0].episodes, 20);
	assert_int_equal(s->category[0].first.day, 3);
	assert_string_equal(s->category[1].name, "mid");
	assert_int_equal(s->category[1].persons, 0);
	assert_int_equal(s->category[1].episodes, 0);
	assert_string_equal(s->category[2].name, "zeta");
	assert_int_equal(s->category[2].persons, 40);
	assert_int_equal(s->category[2].episodes, 80);
	assert_int_equal(s->category[2].first.day, 10);
	free(s);
}

static void
imports_are_logged_newest_first(void **state)
{
	struct fixture *f = *state;
	struct cc_store_import_record rec[4];
	struct cc_store_import_log log;
	size_t n;

	import_persons(f, CC_STORE_SNAPSHOT, 0, 2, "a");
	log_of(&log, CC_STORE_APPEND, "refused");
	log.detail = "the header lacks the required column category";
	log.rows_read = 9;
	assert_int_equal(cc_store_log_import(f->st, &log, NULL), 0);
	assert_int_equal(cc_store_recent_imports(f->st, rec, 4, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rec[0].outcome, "refused");
	assert_string_equal(rec[0].mode, "append");
	assert_int_equal(rec[0].rows_read, 9);
	assert_string_equal(rec[1].outcome, "ok");
	assert_string_equal(rec[1].mode, "snapshot");
	assert_string_equal(rec[1].on, "2024-06-01");
	assert_int_equal(cc_store_recent_imports(f->st, rec, 1, &n, NULL), 0);
	assert_int_equal(n, 1);
	/* An unknown outcome is refused by the schema. */
	log.outcome = "maybe";
	assert_int_equal(cc_store_log_import(f->st, &log, NULL), CC_ERR_DB);
}

struct collect {
	uint8_t (*p)[32];
	size_t n, max;
};

static int
collect_fn(void *ctx, const uint8_t p[32])
{
	struct collect *c = ctx;

	if (c->n == c->max)
		return CC_ERR_LIMIT;
	memcpy(c->p[c->n++], p, 32);
	return 0;
}

static void
reblind_gives_new_key_times_hash(void **state)
{
	struct fixture *f = *state;
	uint8_t s_new[32], inv[32], factor[32], want[32];
	struct collect c = { 0 };
	char fp[CC_STORE_FP_MAX];
	unsigned i, n = 300;

	import_persons(f, CC_STORE_SNAPSHOT, 0, n, "absence");
	cc_group_scalar_random(s_new);
	assert_int_equal(cc_group_scalar_invert(inv, f->s), 0);
	cc_group_scalar_mul(factor, s_new, inv);
	/* Wrong old fingerprint: refused, nothing changed. */
	assert_int_equal(cc_store_reblind(f->st, factor, "0000000000000000",
	    "1111111111111111", 0, NULL), CC_ERR_STATE);
	assert_int_equal(cc_store_reblind(f->st, factor, f->fp,
	    "1111111111111111", 2, NULL), 0);
	assert_int_equal(cc_store_key_fingerprint(f->st, fp, NULL), 0);
	assert_string_equal(fp, "1111111111111111");
	c.max = n;
	c.p = calloc(n, 32);
	assert_non_null(c.p);
	assert_int_equal(cc_store_each_pseudonym(f->st, collect_fn, &c, NULL), 0);
	assert_int_equal(c.n, n);
	for (i = 0; i < n; i++) {
		pseudonym(want, s_new, i);
		assert_memory_equal(c.p[i], want, 32);
	}
	free(c.p);
}

static void
bad_arguments(void **state)
{
	struct fixture *f = *state;
	struct cc_store_episode ep;
	int64_t id = 5;
	bool added = true;
	size_t n = 3;

	assert_int_equal(cc_store_import_category(f->st, "x", 1, &id, NULL),
	    CC_ERR_INVALID_ARGUMENT);   /* no import open */
	assert_int_equal(id, 0);
	memset(&ep, 0, sizeof(ep));
	assert_int_equal(cc_store_import_add(f->st, &ep, &added, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	assert_false(added);
	assert_int_equal(cc_store_import_begin(f->st, 7, f->fp, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_store_import_begin(f->st, CC_STORE_APPEND, f->fp,
	    NULL), 0);
	assert_int_equal(cc_store_import_category(f->st, "", 0, &id, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_store_import_category(f->st, "x", 65, &id, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_store_category_count(f->st, &n, NULL), 0);
	assert_int_equal(n, 0);
	/* No nested imports. */
	assert_int_equal(cc_store_import_begin(f->st, CC_STORE_APPEND, f->fp,
	    NULL), CC_ERR_INVALID_ARGUMENT);
	cc_store_import_abort(f->st);
	cc_store_import_abort(f->st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(create_refuses_existing_and_open_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(pragmas_are_in_force, setup, teardown),
		cmocka_unit_test_setup_teardown(fingerprint_is_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(snapshot_replaces_and_readers_see_old_until_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(append_adds_and_duplicates_are_stored_once, setup, teardown),
		cmocka_unit_test_setup_teardown(stats_per_category, setup, teardown),
		cmocka_unit_test_setup_teardown(imports_are_logged_newest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(reblind_gives_new_key_times_hash, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_arguments, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
