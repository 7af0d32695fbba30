/* crosscount-aggregator: the SQLite store and its schema (see store.h). */
#include "aggregator/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct cc_agg_store {
	sqlite3 *db;
};

static const char schema_v1[] =
	"CREATE TABLE nodes ("
	"  id TEXT PRIMARY KEY,"
	"  sector TEXT NOT NULL,"
	"  enabled INTEGER NOT NULL DEFAULT 1,"
	"  catalogue TEXT,"
	"  last_seen INTEGER,"
	"  added INTEGER NOT NULL);"
	"CREATE TABLE users ("
	"  name TEXT PRIMARY KEY,"
	"  role TEXT NOT NULL CHECK (role IN ('analyst', 'auditor', 'admin')),"
	"  pwhash TEXT NOT NULL,"
	"  enabled INTEGER NOT NULL DEFAULT 1,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE sessions ("
	"  id_hash BLOB PRIMARY KEY,"
	"  user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,"
	"  csrf TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL);"
	"CREATE TABLE tokens ("
	"  id_hash BLOB PRIMARY KEY,"
	"  user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,"
	"  label TEXT NOT NULL,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE login_failures ("
	"  name TEXT PRIMARY KEY,"
	"  count INTEGER NOT NULL,"
	"  last INTEGER NOT NULL);"
	"CREATE TABLE queries ("
	"  id TEXT PRIMARY KEY,"
	"  owner TEXT NOT NULL REFERENCES users(name),"
	"  title TEXT NOT NULL,"
	"  document TEXT NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('awaiting_approval', 'running',"
	"    'counting', 'released', 'failed', 'rejected')),"
	"  reason TEXT,"
	"  submitted INTEGER NOT NULL,"
	"  deadline INTEGER NOT NULL,"
	"  finished INTEGER,"
	"  result TEXT,"
	"  result_digest TEXT);"
	"CREATE INDEX queries_by_owner ON queries(owner, submitted);"
	"CREATE TABLE query_nodes ("
	"  query TEXT NOT NULL REFERENCES queries(id) ON DELETE CASCADE,"
	"  node TEXT NOT NULL REFERENCES nodes(id),"
	"  position INTEGER NOT NULL,"
	"  approval TEXT NOT NULL DEFAULT 'pending'"
	"    CHECK (approval IN ('pending', 'approved', 'rejected')),"
	"  reason TEXT,"
	"  steps_done INTEGER NOT NULL DEFAULT 0,"
	"  forgotten INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (query, node),"
	"  UNIQUE (query, position));"
	"CREATE TABLE steps ("
	"  query TEXT NOT NULL REFERENCES queries(id) ON DELETE CASCADE,"
	"  chain INTEGER NOT NULL,"
	"  hop INTEGER NOT NULL,"
	"  node TEXT NOT NULL REFERENCES nodes(id),"
	"  status TEXT NOT NULL CHECK (status IN ('waiting', 'ready', 'done')),"
	"  uploaded INTEGER NOT NULL DEFAULT 0,"
	"  digest TEXT,"
	"  signer TEXT,"
	"  count INTEGER,"
	"  PRIMARY KEY (query, chain, hop));"
	"CREATE TABLE audit ("
	"  seq INTEGER PRIMARY KEY,"
	"  time INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  event TEXT NOT NULL,"
	"  detail TEXT NOT NULL,"
	"  prev_hash TEXT NOT NULL,"
	"  hash TEXT NOT NULL);"
	/* SPEC 13: the audit log is append-only, also against our own bugs. */
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;";

int
cc_agg_store_fail(struct cc_agg_store *s, struct cc_diag *diag)
{
	cc_diag_set(diag, "database: %s",
	    s != NULL && s->db != NULL ? sqlite3_errmsg(s->db) : "cannot open");
	return CC_ERR_DB;
}

int
cc_agg_store_rows(struct cc_agg_store *s, sqlite3_stmt *st,
    cc_agg_store_row_fn row, json_t **ret_list, struct cc_diag *diag)
{
	json_t *list = NULL, *v = NULL;
	int r = CC_ERR_INTERNAL, rc;

	if (ret_list == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_list = NULL;
	if (st == NULL || row == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((list = json_array()) == NULL)
		return CC_ERR_ALLOC;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = row(&v, st)) != 0)
			goto out;
		/* append_new takes v, also when it fails. */
		if (json_array_append_new(list, v) != 0) {
			r = CC_ERR_ALLOC;
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		r = cc_agg_store_fail(s, diag);
		goto out;
	}
	*ret_list = list;
	list = NULL;
	r = 0;
out:
	json_decref(list);
	return r;
}

static int
store_exec(struct cc_agg_store *s, const char *sql, struct cc_diag *diag)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		cc_diag_set(diag, "database: %s", msg != NULL ? msg : "error");
		sqlite3_free(msg);
		return CC_ERR_DB;
	}
	return 0;
}

static int
store_user_version(struct cc_agg_store *s, int *ret_version, struct cc_diag *diag)
{
	sqlite3_stmt *st = NULL;
	int r;

	*ret_version = 0;
	if ((r = cc_agg_store_prepare(s, &st, "PRAGMA user_version", diag)) != 0)
		return r;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return cc_agg_store_fail(s, diag);
	}
	*ret_version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

int
cc_agg_store_open(struct cc_agg_store **ret_store, const char *path, bool create,
    struct cc_diag *diag)
{
	struct cc_agg_store *s = NULL;
	struct stat st;
	int r = CC_ERR_INTERNAL, version, fd;

	*ret_store = NULL;
	if (create) {
		/* Create the file ourselves: refuse an existing one, mode 0600. */
		if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
			cc_diag_set(diag, "cannot create %s: %s", path, strerror(errno));
			r = errno == EEXIST ? CC_ERR_EXISTS : CC_ERR_IO;
			goto out;
		}
		close(fd);
	} else if (stat(path, &st) != 0) {
		cc_diag_set(diag, "%s: %s", path, strerror(errno));
		r = errno == ENOENT ? CC_ERR_NOT_FOUND : CC_ERR_IO;
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		r = cc_agg_store_fail(s, diag);
		goto out;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if ((r = store_exec(s, "PRAGMA journal_mode=WAL;"
	    "PRAGMA foreign_keys=ON;"
	    "PRAGMA secure_delete=ON;"
	    "PRAGMA synchronous=FULL;"
	    "PRAGMA temp_store=MEMORY;", diag)) != 0)
		goto out;
	if ((r = store_user_version(s, &version, diag)) != 0)
		goto out;
	if (create && version == 0) {
		if ((r = store_exec(s, "BEGIN IMMEDIATE", diag)) != 0)
			goto out;
		if ((r = store_exec(s, schema_v1, diag)) != 0 ||
		    (r = store_exec(s, "PRAGMA user_version=1", diag)) != 0 ||
		    (r = store_exec(s, "COMMIT", diag)) != 0) {
			store_exec(s, "ROLLBACK", NULL);
			goto out;
		}
		version = CC_AGG_SCHEMA_VERSION;
	}
	if (version != CC_AGG_SCHEMA_VERSION) {
		cc_diag_set(diag, "%s has schema version %d, this program needs %d",
		    path, version, CC_AGG_SCHEMA_VERSION);
		r = CC_ERR_VERSION;
		goto out;
	}
	*ret_store = s;
	s = NULL;
	r = 0;
out:
	cc_agg_store_close(s);
	return r;
}

void
cc_agg_store_close(struct cc_agg_store *s)
{
	if (s == NULL)
		return;
	sqlite3_close(s->db);
	free(s);
}

sqlite3 *
cc_agg_store_db(struct cc_agg_store *s)
{
	return s->db;
}

int
cc_agg_store_begin(struct cc_agg_store *s)
{
	return store_exec(s, "BEGIN IMMEDIATE", NULL);
}

int
cc_agg_store_commit(struct cc_agg_store *s)
{
	return store_exec(s, "COMMIT", NULL);
}

void
cc_agg_store_rollback(struct cc_agg_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		store_exec(s, "ROLLBACK", NULL);
}

int
cc_agg_store_prepare(struct cc_agg_store *s, sqlite3_stmt **ret_stmt, const char *sql,
    struct cc_diag *diag)
{
	*ret_stmt = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, ret_stmt, NULL) != SQLITE_OK)
		return cc_agg_store_fail(s, diag);
	return 0;
}
