/* crosscount-node: the SQLite store (see store.h; SPEC.md 6.2-6.4). */
#include "node/store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

/* Rows re-blinded per batch: 64 Ki rows are 2.5 MiB of work memory. */
#define REBLIND_BATCH 65536
#define BUSY_TIMEOUT_MS 10000
/*
 * Page cache per connection, KiB. A reader (the worker, status, the
 * catalogue) walks the store once per request and gains nothing from
 * keeping it in memory: the operating system caches the file anyway, and
 * a worker's cache that fills to the size of the store stays its peak
 * memory. A write transaction (import, key rotation) keeps its dirty pages
 * and the indexes it updates in the cache until it commits, which is much
 * faster with a large one; it gets that for its own duration only.
 */
#define CACHE_KIB_READ 1024
#define CACHE_KIB_WRITE 32768

struct cc_store {
	sqlite3 *db;
	bool in_import;
	sqlite3_stmt *ins_person;
	sqlite3_stmt *sel_person;
	sqlite3_stmt *ins_episode;
	sqlite3_stmt *sel_category;
	sqlite3_stmt *ins_category;
};

static const char schema_sql[] =
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL);"
	"CREATE TABLE persons ("
	"  id INTEGER PRIMARY KEY,"
	"  pseudonym BLOB NOT NULL UNIQUE CHECK (length(pseudonym) = 32),"
	"  birth_year INTEGER NOT NULL CHECK (birth_year BETWEEN 1000 AND 9999),"
	"  birth_month INTEGER NOT NULL CHECK (birth_month BETWEEN 1 AND 12),"
	"  sex INTEGER NOT NULL CHECK (sex IN (1, 2)));"
	"CREATE TABLE categories ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE CHECK (length(CAST(name AS BLOB)) BETWEEN 1 AND 64));"
	"CREATE TABLE episodes ("
	"  id INTEGER PRIMARY KEY,"
	"  person_id INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,"
	"  category_id INTEGER NOT NULL REFERENCES categories(id),"
	"  start_date TEXT NOT NULL CHECK (length(start_date) = 10),"
	"  end_date TEXT CHECK (end_date IS NULL OR"
	"    (length(end_date) = 10 AND end_date >= start_date)),"
	"  unit TEXT NOT NULL DEFAULT '');"
	/* NULL end dates are distinct in a plain UNIQUE: index the expression. */
	"CREATE UNIQUE INDEX episodes_unique ON episodes"
	"  (person_id, category_id, start_date, ifnull(end_date, ''), unit);"
	"CREATE TABLE imports ("
	"  id INTEGER PRIMARY KEY,"
	"  started_at INTEGER NOT NULL,"
	"  finished_at INTEGER NOT NULL,"
	"  file_name TEXT NOT NULL,"
	"  mode TEXT NOT NULL CHECK (mode IN ('snapshot', 'append')),"
	"  on_date TEXT NOT NULL,"
	"  rows_read INTEGER NOT NULL,"
	"  rows_imported INTEGER NOT NULL,"
	"  rows_rejected INTEGER NOT NULL,"
	"  duplicates INTEGER NOT NULL,"
	"  outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'rejected-rows', 'refused')),"
	"  detail TEXT NOT NULL,"
	"  reject_report TEXT);";

const char *
cc_store_mode_name(enum cc_store_mode mode)
{
	switch (mode) {
	case CC_STORE_SNAPSHOT: return "snapshot";
	case CC_STORE_APPEND: return "append";
	}
	return "?";
}

static int
db_fail(sqlite3 *db, struct cc_diag *diag, const char *what)
{
	/* SQLite messages name tables and constraints, never bound values. */
	cc_diag_set(diag, "%s: %s", what, db ? sqlite3_errmsg(db) : "no database");
	return CC_ERR_DB;
}

static int
exec(sqlite3 *db, const char *sql, struct cc_diag *diag)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, diag, "store");
	return 0;
}

static int
prepare(sqlite3 *db, sqlite3_stmt **ret_stmt, const char *sql,
    struct cc_diag *diag)
{
	*ret_stmt = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, ret_stmt, NULL) != SQLITE_OK)
		return db_fail(db, diag, "store: prepare");
	return 0;
}

/* The page cache of db: kib KiB (negative cache_size counts KiB). */
static int
set_cache(sqlite3 *db, int kib, struct cc_diag *diag)
{
	char sql[48];

	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", kib);
	return exec(db, sql, diag);
}

/* The per-connection settings every connection needs (see store.h). */
static int
configure(sqlite3 *db, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	int r = CC_ERR_DB;

	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(db, 1);
	if ((r = exec(db,
	    "PRAGMA foreign_keys = ON;"
	    "PRAGMA secure_delete = ON;"
	    "PRAGMA temp_store = MEMORY;"
	    "PRAGMA synchronous = FULL;", diag)) != 0 ||
	    (r = set_cache(db, CACHE_KIB_READ, diag)) != 0)
		goto out;
	/* journal_mode returns the mode in force: insist on WAL. */
	if ((r = prepare(db, &st, "PRAGMA journal_mode = WAL", diag)) != 0)
		goto out;
	if (sqlite3_step(st) != SQLITE_ROW ||
	    sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
		cc_diag_set(diag, "store: cannot switch to WAL mode");
		r = CC_ERR_DB;
		goto out;
	}
	r = 0;
out:
	sqlite3_finalize(st);
	return r;
}

static int
set_meta(sqlite3 *db, const char *key, const char *value,
    struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = prepare(db, &st,
	    "INSERT INTO meta (key, value) VALUES (?1, ?2) "
	    "ON CONFLICT (key) DO UPDATE SET value = excluded.value", diag)) != 0)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	r = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(db, diag, "store: meta");
	sqlite3_finalize(st);
	return r;
}

/* Copy meta[key] into out (empty when absent). */
static int
get_meta(sqlite3 *db, const char *key, char *out, size_t outsz,
    struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *v;
	int r, rc;

	out[0] = '\0';
	if ((r = prepare(db, &st, "SELECT value FROM meta WHERE key = ?1",
	    diag)) != 0)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		v = sqlite3_column_text(st, 0);
		if (v == NULL || strlen((const char *)v) >= outsz) {
			cc_diag_set(diag, "store: meta %s is malformed", key);
			r = CC_ERR_DB;
			goto out;
		}
		memcpy(out, v, strlen((const char *)v) + 1);
	} else if (rc != SQLITE_DONE) {
		r = db_fail(db, diag, "store: meta");
		goto out;
	}
	r = 0;
out:
	sqlite3_finalize(st);
	return r;
}

int
cc_store_create(const char *path, const char *key_fp, struct cc_diag *diag)
{
	sqlite3 *db = NULL;
	char sql[64];
	int r = CC_ERR_INTERNAL;
	bool created = false;
	int fd;

	if (path == NULL || key_fp == NULL || strlen(key_fp) >= CC_STORE_FP_MAX)
		return CC_ERR_INVALID_ARGUMENT;
	/* Create the file ourselves: O_EXCL refuses an existing store and the
	 * mode keeps it private from the start. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST) {
			cc_diag_set(diag, "%s already exists", path);
			return CC_ERR_EXISTS;
		}
		cc_diag_set(diag, "%s: %s", path, strerror(errno));
		return CC_ERR_IO;
	}
	close(fd);
	created = true;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		r = db_fail(db, diag, path);
		goto out;
	}
	if ((r = configure(db, diag)) != 0)
		goto out;
	if ((r = exec(db, "BEGIN IMMEDIATE", diag)) != 0)
		goto out;
	if ((r = exec(db, schema_sql, diag)) != 0)
		goto out;
	if ((r = set_meta(db, "key_fingerprint", key_fp, diag)) != 0)
		goto out;
	/* PRAGMA takes no parameters; the value is our own constant. */
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    CC_STORE_SCHEMA_VERSION);
	if ((r = exec(db, sql, diag)) != 0)
		goto out;
	if ((r = exec(db, "COMMIT", diag)) != 0)
		goto out;
	r = 0;
out:
	if (r != 0 && db != NULL)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	if (r != 0 && created) {
		char side[4096];

		unlink(path);
		if (snprintf(side, sizeof(side), "%s-wal", path) < (int)sizeof(side))
			unlink(side);
		if (snprintf(side, sizeof(side), "%s-shm", path) < (int)sizeof(side))
			unlink(side);
	}
	return r;
}

int
cc_store_open(struct cc_store **ret_st, const char *path,
    struct cc_diag *diag)
{
	struct cc_store *st = NULL;
	sqlite3_stmt *q = NULL;
	struct stat sb;
	int r = CC_ERR_INTERNAL;
	int version;

	if (ret_st == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_st = NULL;
	if (path == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if (stat(path, &sb) != 0) {
		cc_diag_set(diag, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? CC_ERR_NOT_FOUND : CC_ERR_IO;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return CC_ERR_ALLOC;
	/* A connection is used by one thread only (import workers never
	 * touch it), so SQLite's per-call mutex is pure overhead. */
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		r = db_fail(st->db, diag, path);
		goto out;
	}
	if ((r = configure(st->db, diag)) != 0)
		goto out;
	if ((r = prepare(st->db, &q, "PRAGMA user_version", diag)) != 0)
		goto out;
	if (sqlite3_step(q) != SQLITE_ROW) {
		r = db_fail(st->db, diag, path);
		goto out;
	}
	version = sqlite3_column_int(q, 0);
	if (version != CC_STORE_SCHEMA_VERSION) {
		cc_diag_set(diag, "%s: schema version %d, this program knows %d",
		    path, version, CC_STORE_SCHEMA_VERSION);
		r = CC_ERR_VERSION;
		goto out;
	}
	if ((r = prepare(st->db, &st->ins_person,
	    "INSERT INTO persons (pseudonym, birth_year, birth_month, sex) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (pseudonym) DO NOTHING "
	    "RETURNING id", diag)) != 0)
		goto out;
	if ((r = prepare(st->db, &st->sel_person,
	    "SELECT id FROM persons WHERE pseudonym = ?1", diag)) != 0)
		goto out;
	if ((r = prepare(st->db, &st->ins_episode,
	    "INSERT OR IGNORE INTO episodes "
	    "(person_id, category_id, start_date, end_date, unit) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)", diag)) != 0)
		goto out;
	if ((r = prepare(st->db, &st->sel_category,
	    "SELECT id FROM categories WHERE name = ?1", diag)) != 0)
		goto out;
	if ((r = prepare(st->db, &st->ins_category,
	    "INSERT INTO categories (name) VALUES (?1)", diag)) != 0)
		goto out;
	*ret_st = st;
	st = NULL;
	r = 0;
out:
	sqlite3_finalize(q);
	cc_store_close(st);
	return r;
}

void
cc_store_close(struct cc_store *st)
{
	if (st == NULL)
		return;
	cc_store_import_abort(st);
	sqlite3_finalize(st->ins_person);
	sqlite3_finalize(st->sel_person);
	sqlite3_finalize(st->ins_episode);
	sqlite3_finalize(st->sel_category);
	sqlite3_finalize(st->ins_category);
	sqlite3_close(st->db);
	free(st);
}

int
cc_store_key_fingerprint(struct cc_store *st, char ret_fp[CC_STORE_FP_MAX],
    struct cc_diag *diag)
{
	char fp[CC_STORE_FP_MAX];
	int r;

	if (ret_fp == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	ret_fp[0] = '\0';
	if (st == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = get_meta(st->db, "key_fingerprint", fp, sizeof(fp), diag)) != 0)
		return r;
	if (fp[0] == '\0') {
		cc_diag_set(diag, "store has no key fingerprint");
		return CC_ERR_DB;
	}
	memcpy(ret_fp, fp, sizeof(fp));
	return 0;
}

/* Inside a write transaction: are the rows under the key fingerprint fp? */
static int
check_fingerprint(sqlite3 *db, const char *fp, struct cc_diag *diag)
{
	char have[CC_STORE_FP_MAX];
	int r;

	if ((r = get_meta(db, "key_fingerprint", have, sizeof(have), diag)) != 0)
		return r;
	if (strcmp(have, fp) != 0) {
		cc_diag_set(diag, "the store is under key %s, not %s (was the "
		    "key rotated meanwhile?)", have, fp);
		return CC_ERR_STATE;
	}
	return 0;
}

int
cc_store_import_begin(struct cc_store *st, enum cc_store_mode mode,
    const char *key_fp, struct cc_diag *diag)
{
	int r;

	if (st == NULL || st->in_import || key_fp == NULL ||
	    (mode != CC_STORE_SNAPSHOT && mode != CC_STORE_APPEND))
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = set_cache(st->db, CACHE_KIB_WRITE, diag)) != 0)
		return r;
	if ((r = exec(st->db, "BEGIN IMMEDIATE", diag)) != 0) {
		(void)set_cache(st->db, CACHE_KIB_READ, NULL);
		return r;
	}
	st->in_import = true;
	if ((r = check_fingerprint(st->db, key_fp, diag)) != 0) {
		cc_store_import_abort(st);
		return r;
	}
	if (mode == CC_STORE_SNAPSHOT &&
	    (r = exec(st->db,
	    "DELETE FROM episodes; DELETE FROM persons; DELETE FROM categories;",
	    diag)) != 0) {
		cc_store_import_abort(st);
		return r;
	}
	return 0;
}

int
cc_store_category_count(struct cc_store *st, size_t *ret_n,
    struct cc_diag *diag)
{
	sqlite3_stmt *q = NULL;
	int r;

	if (ret_n == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_n = 0;
	if (st == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = prepare(st->db, &q, "SELECT count(*) FROM categories", diag)) != 0)
		return r;
	if (sqlite3_step(q) != SQLITE_ROW) {
		r = db_fail(st->db, diag, "store: categories");
	} else {
		*ret_n = (size_t)sqlite3_column_int64(q, 0);
		r = 0;
	}
	sqlite3_finalize(q);
	return r;
}

int
cc_store_import_category(struct cc_store *st, const char *name, size_t len,
    int64_t *ret_id, struct cc_diag *diag)
{
	int rc;
	int r = CC_ERR_DB;

	if (ret_id == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_id = 0;
	if (st == NULL || !st->in_import || name == NULL || len == 0 ||
	    len > CC_LIMIT_CATEGORY)
		return CC_ERR_INVALID_ARGUMENT;
	sqlite3_bind_text(st->sel_category, 1, name, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(st->sel_category);
	if (rc == SQLITE_ROW) {
		*ret_id = sqlite3_column_int64(st->sel_category, 0);
		r = 0;
		goto out;
	}
	if (rc != SQLITE_DONE) {
		r = db_fail(st->db, diag, "store: category");
		goto out;
	}
	sqlite3_bind_text(st->ins_category, 1, name, (int)len, SQLITE_STATIC);
	if (sqlite3_step(st->ins_category) != SQLITE_DONE) {
		r = db_fail(st->db, diag, "store: category");
		goto out;
	}
	*ret_id = sqlite3_last_insert_rowid(st->db);
	r = 0;
out:
	sqlite3_reset(st->sel_category);
	sqlite3_clear_bindings(st->sel_category);
	sqlite3_reset(st->ins_category);
	sqlite3_clear_bindings(st->ins_category);
	return r;
}

/* The id of the person with this pseudonym, inserting it if new. */
static int
person_id(struct cc_store *st, const struct cc_store_episode *ep,
    int64_t *ret_id, struct cc_diag *diag)
{
	int rc, r = CC_ERR_DB;

	*ret_id = 0;
	sqlite3_bind_blob(st->ins_person, 1, ep->pseudonym, CC_ELEMENT_BYTES,
	    SQLITE_STATIC);
	sqlite3_bind_int(st->ins_person, 2, ep->birth_year);
	sqlite3_bind_int(st->ins_person, 3, ep->birth_month);
	sqlite3_bind_int(st->ins_person, 4, (int)ep->sex);
	rc = sqlite3_step(st->ins_person);
	if (rc == SQLITE_ROW) {
		*ret_id = sqlite3_column_int64(st->ins_person, 0);
		/* Run the statement to completion before the next one. */
		rc = sqlite3_step(st->ins_person);
		r = rc == SQLITE_DONE ? 0 : db_fail(st->db, diag, "store: person");
		goto out;
	}
	if (rc != SQLITE_DONE) {
		r = db_fail(st->db, diag, "store: person");
		goto out;
	}
	/* DO NOTHING: the person is already there. */
	sqlite3_bind_blob(st->sel_person, 1, ep->pseudonym, CC_ELEMENT_BYTES,
	    SQLITE_STATIC);
	if (sqlite3_step(st->sel_person) != SQLITE_ROW) {
		r = db_fail(st->db, diag, "store: person");
		goto out;
	}
	*ret_id = sqlite3_column_int64(st->sel_person, 0);
	r = 0;
out:
	sqlite3_reset(st->ins_person);
	sqlite3_clear_bindings(st->ins_person);
	sqlite3_reset(st->sel_person);
	sqlite3_clear_bindings(st->sel_person);
	return r;
}

int
cc_store_import_add(struct cc_store *st, const struct cc_store_episode *ep,
    bool *ret_added, struct cc_diag *diag)
{
	char start[11], end[11];
	int64_t pid;
	int r;

	if (ret_added == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_added = false;
	if (st == NULL || !st->in_import || ep == NULL ||
	    (ep->unit == NULL && ep->unit_len != 0) ||
	    ep->unit_len > CC_LIMIT_UNIT ||
	    (ep->sex != CC_SEX_FEMALE && ep->sex != CC_SEX_MALE))
		return CC_ERR_INVALID_ARGUMENT;
	if (!cc_date_valid(ep->start.year, ep->start.month, ep->start.day) ||
	    (!ep->ongoing && (!cc_date_valid(ep->end.year, ep->end.month,
	    ep->end.day) || cc_date_cmp(&ep->end, &ep->start) < 0)))
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = person_id(st, ep, &pid, diag)) != 0)
		return r;
	cc_date_format(start, &ep->start);
	sqlite3_bind_int64(st->ins_episode, 1, pid);
	sqlite3_bind_int64(st->ins_episode, 2, ep->category_id);
	sqlite3_bind_text(st->ins_episode, 3, start, 10, SQLITE_STATIC);
	if (ep->ongoing) {
		sqlite3_bind_null(st->ins_episode, 4);
	} else {
		cc_date_format(end, &ep->end);
		sqlite3_bind_text(st->ins_episode, 4, end, 10, SQLITE_STATIC);
	}
	sqlite3_bind_text(st->ins_episode, 5, ep->unit ? ep->unit : "",
	    (int)ep->unit_len, SQLITE_STATIC);
	if (sqlite3_step(st->ins_episode) != SQLITE_DONE) {
		r = db_fail(st->db, diag, "store: episode");
	} else {
		*ret_added = sqlite3_changes(st->db) > 0;
		r = 0;
	}
	sqlite3_reset(st->ins_episode);
	sqlite3_clear_bindings(st->ins_episode);
	return r;
}

static int
insert_log(sqlite3 *db, const struct cc_store_import_log *log,
    struct cc_diag *diag)
{
	sqlite3_stmt *q = NULL;
	char on[11];
	int r;

	if (log == NULL || log->file_name == NULL || log->outcome == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = prepare(db, &q,
	    "INSERT INTO imports (started_at, finished_at, file_name, mode,"
	    " on_date, rows_read, rows_imported, rows_rejected, duplicates,"
	    " outcome, detail, reject_report) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	    diag)) != 0)
		return r;
	cc_date_format(on, &log->on);
	sqlite3_bind_int64(q, 1, log->started_at);
	sqlite3_bind_int64(q, 2, log->finished_at);
	sqlite3_bind_text(q, 3, log->file_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, cc_store_mode_name(log->mode), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, on, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, (sqlite3_int64)log->rows_read);
	sqlite3_bind_int64(q, 7, (sqlite3_int64)log->rows_imported);
	sqlite3_bind_int64(q, 8, (sqlite3_int64)log->rows_rejected);
	sqlite3_bind_int64(q, 9, (sqlite3_int64)log->duplicates);
	sqlite3_bind_text(q, 10, log->outcome, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 11, log->detail ? log->detail : "", -1,
	    SQLITE_STATIC);
	if (log->reject_report != NULL)
		sqlite3_bind_text(q, 12, log->reject_report, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 12);
	r = sqlite3_step(q) == SQLITE_DONE ? 0 :
	    db_fail(db, diag, "store: imports");
	sqlite3_finalize(q);
	return r;
}

int
cc_store_import_commit(struct cc_store *st,
    const struct cc_store_import_log *log, struct cc_diag *diag)
{
	char on[11], old[16];
	int r;

	if (st == NULL || !st->in_import || log == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = insert_log(st->db, log, diag)) != 0)
		goto out;
	/* as_of only moves forward: an append of older data keeps it. */
	cc_date_format(on, &log->on);
	if ((r = get_meta(st->db, "as_of", old, sizeof(old), diag)) != 0)
		goto out;
	if (log->mode == CC_STORE_SNAPSHOT || old[0] == '\0' ||
	    strcmp(on, old) > 0) {
		if ((r = set_meta(st->db, "as_of", on, diag)) != 0)
			goto out;
	}
	if ((r = exec(st->db, "COMMIT", diag)) != 0)
		goto out;
	st->in_import = false;
	(void)set_cache(st->db, CACHE_KIB_READ, NULL);
	/* Fold the WAL back now; PASSIVE never waits for readers (a
	 * concurrent `status` must not stall an import). The last
	 * connection to close removes the WAL file. */
	sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    NULL, NULL);
	r = 0;
out:
	if (r != 0)
		cc_store_import_abort(st);
	return r;
}

void
cc_store_import_abort(struct cc_store *st)
{
	if (st == NULL || !st->in_import)
		return;
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_import = false;
	(void)set_cache(st->db, CACHE_KIB_READ, NULL);
}

int
cc_store_log_import(struct cc_store *st,
    const struct cc_store_import_log *log, struct cc_diag *diag)
{
	if (st == NULL || st->in_import)
		return CC_ERR_INVALID_ARGUMENT;
	return insert_log(st->db, log, diag);
}

static int
parse_date_column(sqlite3_stmt *q, int col, struct cc_date *ret_d)
{
	const unsigned char *t = sqlite3_column_text(q, col);

	if (t == NULL)
		return CC_ERR_DB;
	return cc_date_parse(ret_d, (const char *)t, strlen((const char *)t),
	    NULL) == 0 ? 0 : CC_ERR_DB;
}

/* The slot of category id in ids[0..n) (ascending), or -1. */
static int
category_slot(const int64_t *ids, const size_t *slots, size_t n, int64_t id)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ids[mid] == id)
			return (int)slots[mid];
		if (ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/*
 * The per-category figures of cc_store_stats: persons, episodes and the
 * earliest start, every category listed (by name) even without episodes.
 * One pass over the covering index episodes_unique in (person, category)
 * order, counted here: SQL's count(DISTINCT) would build a temporary
 * b-tree of every person in memory (temp_store = MEMORY), which cost the
 * worker megabytes at every start.
 */
static int
category_stats(sqlite3 *db, struct cc_store_stats *ret_stats,
    struct cc_diag *diag)
{
	struct cc_store_category_stats *c;
	int64_t ids[CC_LIMIT_NODE_CATEGORIES], person, cat;
	int64_t prev_person = -1, prev_cat = -1;
	size_t slots[CC_LIMIT_NODE_CATEGORIES], n = 0, i, j, len;
	char first[CC_LIMIT_NODE_CATEGORIES][11];
	const unsigned char *text;
	sqlite3_stmt *q = NULL;
	int r = CC_ERR_DB, rc, slot;

	memset(first, 0, sizeof(first));
	if ((r = prepare(db, &q, "SELECT id, name FROM categories ORDER BY name",
	    diag)) != 0)
		goto out;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		text = sqlite3_column_text(q, 1);
		len = (size_t)sqlite3_column_bytes(q, 1);
		if (n == CC_LIMIT_NODE_CATEGORIES || text == NULL || len == 0 ||
		    len > CC_LIMIT_CATEGORY) {
			cc_diag_set(diag, "store: categories over their limit");
			r = CC_ERR_DB;
			goto out;
		}
		c = &ret_stats->category[n];
		memcpy(c->name, text, len);
		c->name[len] = '\0';
		/* Insert the id in order; its slot is the name's position. */
		cat = sqlite3_column_int64(q, 0);
		for (i = n; i > 0 && ids[i - 1] > cat; i--) {
			ids[i] = ids[i - 1];
			slots[i] = slots[i - 1];
		}
		ids[i] = cat;
		slots[i] = n++;
	}
	if (rc != SQLITE_DONE) {
		r = db_fail(db, diag, "store: stats");
		goto out;
	}
	ret_stats->ncategories = n;
	sqlite3_finalize(q);
	if ((r = prepare(db, &q, "SELECT person_id, category_id, start_date "
	    "FROM episodes ORDER BY person_id, category_id", diag)) != 0)
		goto out;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		person = sqlite3_column_int64(q, 0);
		cat = sqlite3_column_int64(q, 1);
		text = sqlite3_column_text(q, 2);
		if ((slot = category_slot(ids, slots, n, cat)) < 0 ||
		    text == NULL || sqlite3_column_bytes(q, 2) != 10) {
			cc_diag_set(diag, "store: an episode of an unknown "
			    "category or with a malformed date");
			r = CC_ERR_DB;
			goto out;
		}
		c = &ret_stats->category[slot];
		c->episodes++;
		if (person != prev_person || cat != prev_cat)
			c->persons++;
		prev_person = person;
		prev_cat = cat;
		/* ISO dates compare as text. */
		if (first[slot][0] == '\0' || memcmp(text, first[slot], 10) < 0)
			memcpy(first[slot], text, 10);
	}
	if (rc != SQLITE_DONE) {
		r = db_fail(db, diag, "store: stats");
		goto out;
	}
	for (j = 0; j < n; j++) {
		if (first[j][0] != '\0' && cc_date_parse(
		    &ret_stats->category[j].first, first[j], 10, NULL) != 0) {
			cc_diag_set(diag, "store: malformed date");
			r = CC_ERR_DB;
			goto out;
		}
	}
	r = 0;
out:
	sqlite3_finalize(q);
	return r;
}

int
cc_store_stats(struct cc_store *st, struct cc_store_stats *ret_stats,
    struct cc_diag *diag)
{
	sqlite3_stmt *q = NULL;
	char as_of[16];
	int r = CC_ERR_INTERNAL;
	bool began = false;

	if (ret_stats == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	memset(ret_stats, 0, sizeof(*ret_stats));
	if (st == NULL || st->in_import)
		return CC_ERR_INVALID_ARGUMENT;
	/* One read transaction: every figure comes from the same snapshot. */
	if ((r = exec(st->db, "BEGIN", diag)) != 0)
		goto out;
	began = true;
	if ((r = prepare(st->db, &q,
	    "SELECT (SELECT count(*) FROM persons), count(*), min(start_date),"
	    " max(end_date), count(*) - count(end_date) FROM episodes", diag)) != 0)
		goto out;
	if (sqlite3_step(q) != SQLITE_ROW) {
		r = db_fail(st->db, diag, "store: stats");
		goto out;
	}
	ret_stats->persons = (uint64_t)sqlite3_column_int64(q, 0);
	ret_stats->episodes = (uint64_t)sqlite3_column_int64(q, 1);
	ret_stats->ongoing = (uint64_t)sqlite3_column_int64(q, 4);
	if (ret_stats->episodes > 0) {
		ret_stats->have_period = true;
		if (parse_date_column(q, 2, &ret_stats->first) != 0) {
			r = db_fail(st->db, diag, "store: malformed date");
			goto out;
		}
		if (sqlite3_column_type(q, 3) == SQLITE_NULL)
			ret_stats->last = ret_stats->first;
		else if (parse_date_column(q, 3, &ret_stats->last) != 0) {
			r = db_fail(st->db, diag, "store: malformed date");
			goto out;
		}
	}
	sqlite3_finalize(q);
	q = NULL;
	if ((r = get_meta(st->db, "as_of", as_of, sizeof(as_of), diag)) != 0)
		goto out;
	if (as_of[0] != '\0') {
		if (cc_date_parse(&ret_stats->as_of, as_of, strlen(as_of), NULL) != 0) {
			cc_diag_set(diag, "store: meta as_of is malformed");
			r = CC_ERR_DB;
			goto out;
		}
		ret_stats->have_as_of = true;
		/* Ongoing episodes run at least until the data's own date. */
		if (ret_stats->have_period &&
		    cc_date_cmp(&ret_stats->as_of, &ret_stats->last) > 0)
			ret_stats->last = ret_stats->as_of;
	}
	if ((r = category_stats(st->db, ret_stats, diag)) != 0)
		goto out;
	r = 0;
out:
	sqlite3_finalize(q);
	if (began)
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	if (r != 0)
		memset(ret_stats, 0, sizeof(*ret_stats));
	return r;
}

static void
copy_text(char *out, size_t outsz, sqlite3_stmt *q, int col)
{
	const unsigned char *t = sqlite3_column_text(q, col);
	size_t n;

	out[0] = '\0';
	if (t == NULL)
		return;
	n = strnlen((const char *)t, outsz - 1);
	memcpy(out, t, n);
	out[n] = '\0';
}

int
cc_store_recent_imports(struct cc_store *st,
    struct cc_store_import_record *rec, size_t max, size_t *ret_n,
    struct cc_diag *diag)
{
	sqlite3_stmt *q = NULL;
	size_t n = 0;
	int r, rc;

	if (ret_n == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_n = 0;
	if (st == NULL || (rec == NULL && max > 0) || max > INT32_MAX)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = prepare(st->db, &q,
	    "SELECT id, started_at, finished_at, file_name, mode, on_date,"
	    " rows_read, rows_imported, rows_rejected, duplicates, outcome,"
	    " detail, reject_report FROM imports ORDER BY id DESC LIMIT ?1",
	    diag)) != 0)
		return r;
	sqlite3_bind_int64(q, 1, (sqlite3_int64)max);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW && n < max) {
		struct cc_store_import_record *x = &rec[n++];

		memset(x, 0, sizeof(*x));
		x->id = sqlite3_column_int64(q, 0);
		x->started_at = sqlite3_column_int64(q, 1);
		x->finished_at = sqlite3_column_int64(q, 2);
		copy_text(x->file_name, sizeof(x->file_name), q, 3);
		copy_text(x->mode, sizeof(x->mode), q, 4);
		copy_text(x->on, sizeof(x->on), q, 5);
		x->rows_read = (uint64_t)sqlite3_column_int64(q, 6);
		x->rows_imported = (uint64_t)sqlite3_column_int64(q, 7);
		x->rows_rejected = (uint64_t)sqlite3_column_int64(q, 8);
		x->duplicates = (uint64_t)sqlite3_column_int64(q, 9);
		copy_text(x->outcome, sizeof(x->outcome), q, 10);
		copy_text(x->detail, sizeof(x->detail), q, 11);
		copy_text(x->reject_report, sizeof(x->reject_report), q, 12);
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		r = db_fail(st->db, diag, "store: imports");
		goto out;
	}
	*ret_n = n;
	r = 0;
out:
	sqlite3_finalize(q);
	return r;
}

int
cc_store_reblind(struct cc_store *st, const uint8_t factor[CC_SCALAR_BYTES],
    const char *old_fp, const char *new_fp, unsigned threads,
    struct cc_diag *diag)
{
	sqlite3_stmt *sel = NULL, *upd = NULL;
	uint8_t *elems = NULL;
	int64_t *ids = NULL;
	int64_t last = 0;
	size_t n, i, bad;
	int r = CC_ERR_INTERNAL, rc;
	bool began = false;

	if (st == NULL || st->in_import || factor == NULL || old_fp == NULL ||
	    new_fp == NULL || strlen(new_fp) >= CC_STORE_FP_MAX)
		return CC_ERR_INVALID_ARGUMENT;
	if ((elems = malloc((size_t)REBLIND_BATCH * CC_ELEMENT_BYTES)) == NULL ||
	    (ids = malloc((size_t)REBLIND_BATCH * sizeof(*ids))) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if ((r = prepare(st->db, &sel,
	    "SELECT id, pseudonym FROM persons WHERE id > ?1 ORDER BY id LIMIT ?2",
	    diag)) != 0)
		goto out;
	if ((r = prepare(st->db, &upd,
	    "UPDATE persons SET pseudonym = ?1 WHERE id = ?2", diag)) != 0)
		goto out;
	if ((r = set_cache(st->db, CACHE_KIB_WRITE, diag)) != 0 ||
	    (r = exec(st->db, "BEGIN IMMEDIATE", diag)) != 0)
		goto out;
	began = true;
	if ((r = check_fingerprint(st->db, old_fp, diag)) != 0)
		goto out;
	for (;;) {
		n = 0;
		sqlite3_bind_int64(sel, 1, last);
		sqlite3_bind_int(sel, 2, REBLIND_BATCH);
		while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
			if (sqlite3_column_bytes(sel, 1) != CC_ELEMENT_BYTES) {
				cc_diag_set(diag, "store: a pseudonym is malformed");
				r = CC_ERR_DB;
				goto out;
			}
			ids[n] = sqlite3_column_int64(sel, 0);
			memcpy(elems + n * CC_ELEMENT_BYTES,
			    sqlite3_column_blob(sel, 1), CC_ELEMENT_BYTES);
			n++;
		}
		sqlite3_reset(sel);
		if (rc != SQLITE_DONE) {
			r = db_fail(st->db, diag, "store: re-blind");
			goto out;
		}
		if (n == 0)
			break;
		if ((r = cc_group_mult_many(elems, n, CC_ELEMENT_BYTES, factor,
		    threads, &bad)) != 0) {
			cc_diag_set(diag, "store: person %" PRId64
			    " has an invalid pseudonym", ids[bad]);
			goto out;
		}
		for (i = 0; i < n; i++) {
			sqlite3_bind_blob(upd, 1, elems + i * CC_ELEMENT_BYTES,
			    CC_ELEMENT_BYTES, SQLITE_STATIC);
			sqlite3_bind_int64(upd, 2, ids[i]);
			rc = sqlite3_step(upd);
			sqlite3_reset(upd);
			if (rc != SQLITE_DONE) {
				r = db_fail(st->db, diag, "store: re-blind");
				goto out;
			}
		}
		last = ids[n - 1];
	}
	if ((r = set_meta(st->db, "key_fingerprint", new_fp, diag)) != 0)
		goto out;
	if ((r = exec(st->db, "COMMIT", diag)) != 0)
		goto out;
	began = false;
	sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    NULL, NULL);
	r = 0;
out:
	if (began)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	(void)set_cache(st->db, CACHE_KIB_READ, NULL);
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	free(elems);
	free(ids);
	return r;
}

int
cc_store_each_pseudonym(struct cc_store *st, cc_store_pseudonym_fn fn,
    void *ctx, struct cc_diag *diag)
{
	sqlite3_stmt *q = NULL;
	int r, rc;

	if (st == NULL || fn == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = prepare(st->db, &q,
	    "SELECT pseudonym FROM persons ORDER BY id", diag)) != 0)
		return r;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(q, 0) != CC_ELEMENT_BYTES) {
			cc_diag_set(diag, "store: a pseudonym is malformed");
			r = CC_ERR_DB;
			goto out;
		}
		if ((r = fn(ctx, sqlite3_column_blob(q, 0))) != 0)
			goto out;
	}
	r = rc == SQLITE_DONE ? 0 : db_fail(st->db, diag, "store: persons");
out:
	sqlite3_finalize(q);
	return r;
}

/*
 * The statement of cc_store_select_persons into sql: the persons it
 * selects (count: how many of them). The categories are bound, one
 * placeholder per name: ?3, ?4, ...
 */
static int
select_persons_sql(char *sql, size_t sqlsz, bool count, size_t ncategories)
{
	size_t len, i;

	len = (size_t)snprintf(sql, sqlsz,
	    "SELECT %s FROM persons p WHERE EXISTS (SELECT 1 FROM episodes e%s"
	    " WHERE e.person_id = p.id AND e.start_date <= ?1"
	    " AND (e.end_date IS NULL OR e.end_date >= ?2)%s",
	    count ? "count(*)" : "p.pseudonym, p.birth_year, p.birth_month, p.sex",
	    ncategories > 0 ? " JOIN categories c ON c.id = e.category_id" : "",
	    ncategories > 0 ? " AND c.name IN (" : "");
	for (i = 0; i < ncategories && len < sqlsz; i++)
		len += (size_t)snprintf(sql + len, sqlsz - len, "%s?%zu",
		    i > 0 ? ", " : "", i + 3);
	if (len < sqlsz)
		len += (size_t)snprintf(sql + len, sqlsz - len, "%s)%s",
		    ncategories > 0 ? ")" : "", count ? "" : " ORDER BY p.id");
	return len < sqlsz ? 0 : CC_ERR_INTERNAL;
}

static void
select_persons_bind(sqlite3_stmt *q, const char *to, const char *from,
    const char *const *categories, size_t ncategories)
{
	size_t i;

	sqlite3_bind_text(q, 1, to, 10, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, from, 10, SQLITE_STATIC);
	for (i = 0; i < ncategories; i++)
		sqlite3_bind_text(q, (int)i + 3, categories[i], -1,
		    SQLITE_STATIC);
}

int
cc_store_select_persons(struct cc_store *st, const char *key_fp,
    const char *const *categories, size_t ncategories,
    const struct cc_date *first, const struct cc_date *last,
    cc_store_count_fn count_fn, cc_store_person_fn fn, void *ctx,
    struct cc_diag *diag)
{
	char sql[768], from[11], to[11];
	size_t i;
	sqlite3_stmt *q = NULL;
	int r = CC_ERR_INTERNAL, rc, n, year, month, sex;
	bool began = false;

	if (st == NULL || st->in_import || key_fp == NULL || fn == NULL ||
	    first == NULL || last == NULL ||
	    (ncategories > 0 && categories == NULL) ||
	    ncategories > CC_LIMIT_CATEGORIES_PER_SET ||
	    !cc_date_valid(first->year, first->month, first->day) ||
	    !cc_date_valid(last->year, last->month, last->day) ||
	    cc_date_cmp(first, last) > 0)
		return CC_ERR_INVALID_ARGUMENT;
	for (i = 0; i < ncategories; i++)
		if (categories[i] == NULL)
			return CC_ERR_INVALID_ARGUMENT;
	cc_date_format(to, last);
	cc_date_format(from, first);
	/* One read transaction: the key check, the count and the rows agree. */
	if ((r = exec(st->db, "BEGIN", diag)) != 0)
		goto out;
	began = true;
	if ((r = check_fingerprint(st->db, key_fp, diag)) != 0)
		goto out;
	if (count_fn != NULL) {
		if ((r = select_persons_sql(sql, sizeof(sql), true,
		    ncategories)) != 0 ||
		    (r = prepare(st->db, &q, sql, diag)) != 0)
			goto out;
		select_persons_bind(q, to, from, categories, ncategories);
		if (sqlite3_step(q) != SQLITE_ROW) {
			r = db_fail(st->db, diag, "store: persons");
			goto out;
		}
		if ((r = count_fn(ctx, (uint64_t)sqlite3_column_int64(q, 0))) != 0)
			goto out;
		sqlite3_finalize(q);
		q = NULL;
	}
	if ((r = select_persons_sql(sql, sizeof(sql), false, ncategories)) != 0 ||
	    (r = prepare(st->db, &q, sql, diag)) != 0)
		goto out;
	select_persons_bind(q, to, from, categories, ncategories);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		year = sqlite3_column_int(q, 1);
		month = sqlite3_column_int(q, 2);
		sex = sqlite3_column_int(q, 3);
		n = sqlite3_column_bytes(q, 0);
		if (n != CC_ELEMENT_BYTES || (sex != CC_SEX_FEMALE &&
		    sex != CC_SEX_MALE) || month < 1 || month > 12) {
			cc_diag_set(diag, "store: a person row is malformed");
			r = CC_ERR_DB;
			goto out;
		}
		if ((r = fn(ctx, sqlite3_column_blob(q, 0), year, month,
		    (enum cc_sex)sex)) != 0)
			goto out;
	}
	r = rc == SQLITE_DONE ? 0 : db_fail(st->db, diag, "store: persons");
out:
	sqlite3_finalize(q);
	if (began)
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	return r;
}

int
cc_store_integrity_check(struct cc_store *st, struct cc_diag *diag)
{
	sqlite3_stmt *q = NULL;
	const unsigned char *t;
	int r;

	if (st == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = prepare(st->db, &q, "PRAGMA integrity_check", diag)) != 0)
		return r;
	if (sqlite3_step(q) != SQLITE_ROW ||
	    (t = sqlite3_column_text(q, 0)) == NULL ||
	    strcmp((const char *)t, "ok") != 0) {
		cc_diag_set(diag, "store: integrity check failed");
		r = CC_ERR_DB;
	}
	sqlite3_finalize(q);
	return r;
}
