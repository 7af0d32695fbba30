/*
 * crosscount-node: the node's SQLite store (SPEC.md 6.2, 6.4).
 *
 * What is stored, and nothing else: per person the pseudonym P = s·H(id)
 * (32 bytes), birth year and month and sex; per episode its category,
 * start date, end date (NULL = ongoing) and unit. No identity in any form
 * ever reaches the database: callers hand over P, never an identity.
 *
 * Schema (PRAGMA user_version = CC_STORE_SCHEMA_VERSION):
 *
 *   meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)
 *       key_fingerprint  fingerprint of the key the pseudonyms are under
 *       as_of            reference date of the data (latest import --on)
 *   persons(id INTEGER PRIMARY KEY, pseudonym BLOB UNIQUE (32 bytes),
 *           birth_year, birth_month, sex)
 *   categories(id INTEGER PRIMARY KEY, name TEXT UNIQUE)
 *   episodes(id, person_id -> persons, category_id -> categories,
 *            start_date TEXT, end_date TEXT NULL, unit TEXT NOT NULL,
 *            UNIQUE (person_id, category_id, start_date,
 *                    ifnull(end_date, ''), unit))
 *   imports(id, started_at, finished_at, file_name, mode, on_date,
 *           rows_read, rows_imported, rows_rejected, duplicates,
 *           outcome, detail, reject_report)
 *
 * Every connection: WAL, foreign_keys=ON, secure_delete=ON (freed pages
 * are zeroed), temp_store=MEMORY (no temp files), synchronous=FULL (a
 * commit survives power loss, which key rotation relies on: once the
 * rows are under the new key the old key file is destroyed), a page
 * cache of 1 MiB, 32 MiB while an import or a key rotation runs (a
 * reader's cache would otherwise grow to the size of the store and stay
 * the worker's peak memory).
 * Dates are TEXT "YYYY-MM-DD". SQL uses bound parameters only.
 */
#ifndef CC_NODE_STORE_H
#define CC_NODE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/date.h"
#include "protocol/error.h"
#include "protocol/group.h"
#include "protocol/identity.h"
#include "protocol/limits.h"

#define CC_STORE_FILE "node.db"
#define CC_STORE_SCHEMA_VERSION 1
#define CC_STORE_FP_MAX 17 /* a key fingerprint and NUL */

struct cc_store;

/*
 * Create a new store at path with the fingerprint of the key its rows
 * will be under. CC_ERR_EXISTS if the file exists.
 */
int cc_store_create(const char *path, const char *key_fp,
    struct cc_diag *diag);

/*
 * Open an existing store (CC_ERR_NOT_FOUND if there is none,
 * CC_ERR_VERSION for an unknown schema version). Close with
 * cc_store_close().
 */
int cc_store_open(struct cc_store **ret_st, const char *path,
    struct cc_diag *diag);

/* Close; NULL is allowed. An open import is rolled back. */
void cc_store_close(struct cc_store *st);

/* The fingerprint of the key the stored pseudonyms are under. */
int cc_store_key_fingerprint(struct cc_store *st,
    char ret_fp[CC_STORE_FP_MAX], struct cc_diag *diag);

/* ---- Import (one transaction: SPEC.md 6.4) ---- */

enum cc_store_mode {
	CC_STORE_SNAPSHOT = 1,  /* replace every person and episode */
	CC_STORE_APPEND = 2,    /* add episodes to what is there */
};
const char *cc_store_mode_name(enum cc_store_mode mode);

/*
 * Begin an import: takes the write lock (BEGIN IMMEDIATE) and, for a
 * snapshot, deletes every person, episode and category inside the same
 * transaction, so readers keep seeing the old snapshot until
 * cc_store_import_commit() and a crash leaves the old one intact.
 * key_fp is the fingerprint of the key the caller blinds with: checked
 * under the lock (CC_ERR_STATE if the rows are under another key, e.g.
 * because a rotation committed since the caller loaded its key).
 */
int cc_store_import_begin(struct cc_store *st, enum cc_store_mode mode,
    const char *key_fp, struct cc_diag *diag);

/* Number of categories present (inside the import: as it stands). */
int cc_store_category_count(struct cc_store *st, size_t *ret_n,
    struct cc_diag *diag);

/*
 * The id of a category, created if new. name is UTF-8, 1..CC_LIMIT_CATEGORY
 * bytes; the caller enforces CC_LIMIT_NODE_CATEGORIES.
 */
int cc_store_import_category(struct cc_store *st, const char *name,
    size_t len, int64_t *ret_id, struct cc_diag *diag);

struct cc_store_episode {
	uint8_t pseudonym[CC_ELEMENT_BYTES];
	int birth_year;
	int birth_month;
	enum cc_sex sex;
	int64_t category_id;
	struct cc_date start;
	bool ongoing;           /* no end date */
	struct cc_date end;     /* when !ongoing */
	const char *unit;       /* "" when none */
	size_t unit_len;
};

/*
 * Add one episode (and its person if new). *ret_added is false for an
 * episode already stored (duplicates are stored once).
 */
int cc_store_import_add(struct cc_store *st,
    const struct cc_store_episode *ep, bool *ret_added,
    struct cc_diag *diag);

/* What one import did, for the imports table. Strings are copied. */
struct cc_store_import_log {
	int64_t started_at;     /* seconds since the epoch, UTC */
	int64_t finished_at;
	const char *file_name;  /* base name of the imported file */
	enum cc_store_mode mode;
	struct cc_date on;
	uint64_t rows_read;
	uint64_t rows_imported;
	uint64_t rows_rejected;
	uint64_t duplicates;
	const char *outcome;    /* "ok", "rejected-rows", "refused" */
	const char *detail;     /* a sentence; never an identity */
	const char *reject_report; /* path or NULL */
};

/*
 * Record the import in the imports table, set meta.as_of, and commit.
 * On failure the transaction is rolled back.
 */
int cc_store_import_commit(struct cc_store *st,
    const struct cc_store_import_log *log, struct cc_diag *diag);

/* Roll back the open import (no-op if none). */
void cc_store_import_abort(struct cc_store *st);

/* Record a refused import (its own small transaction; no import open). */
int cc_store_log_import(struct cc_store *st,
    const struct cc_store_import_log *log, struct cc_diag *diag);

/* ---- Reading ---- */

struct cc_store_category_stats {
	char name[CC_LIMIT_CATEGORY + 1];
	uint64_t persons;
	uint64_t episodes;
	struct cc_date first;   /* earliest start date */
};

struct cc_store_stats {
	uint64_t persons;
	uint64_t episodes;
	size_t ncategories;
	struct cc_store_category_stats category[CC_LIMIT_NODE_CATEGORIES];
	bool have_period;       /* false when there are no episodes */
	struct cc_date first;   /* earliest start date */
	struct cc_date last;    /* latest end date, or as_of if later */
	uint64_t ongoing;       /* episodes without an end date */
	bool have_as_of;
	struct cc_date as_of;   /* reference date of the latest import */
};

/* Counts per category and the period covered (one read transaction). */
int cc_store_stats(struct cc_store *st, struct cc_store_stats *ret_stats,
    struct cc_diag *diag);

struct cc_store_import_record {
	int64_t id;
	int64_t started_at;
	int64_t finished_at;
	char file_name[256];
	char mode[16];
	char on[11];
	uint64_t rows_read;
	uint64_t rows_imported;
	uint64_t rows_rejected;
	uint64_t duplicates;
	char outcome[16];
	char detail[CC_DIAG_MAX];
	char reject_report[512];
};

/* The most recent imports, newest first: at most max into rec[]. */
int cc_store_recent_imports(struct cc_store *st,
    struct cc_store_import_record *rec, size_t max, size_t *ret_n,
    struct cc_diag *diag);

/* ---- Key rotation (SPEC.md 6.3) ---- */

/*
 * In one transaction multiply every pseudonym by factor (s_new·s_old^-1)
 * with cc_group_mult_many on `threads` threads (0 = all cores), in
 * batches of rows, and set the key fingerprint from old_fp (checked under
 * the lock: CC_ERR_STATE if the rows are not under it) to new_fp.
 * Nothing changes on failure.
 */
int cc_store_reblind(struct cc_store *st,
    const uint8_t factor[CC_SCALAR_BYTES], const char *old_fp,
    const char *new_fp, unsigned threads, struct cc_diag *diag);

/* Every pseudonym, in id order (for tests and the query origin step). */
typedef int (*cc_store_pseudonym_fn)(void *ctx,
    const uint8_t p[CC_ELEMENT_BYTES]);
int cc_store_each_pseudonym(struct cc_store *st, cc_store_pseudonym_fn fn,
    void *ctx, struct cc_diag *diag);

/*
 * The persons a query selects at this node (SPEC.md 7.3, 8.3 step 1):
 * every distinct person with at least one episode whose category is one
 * of categories[0..ncategories-1] (ncategories 0: any category) and that
 * overlaps first..last (start <= last and (ongoing or end >= first)).
 * fn is called once per person, in id order, with the pseudonym, birth
 * year, birth month and sex; a non-zero return stops the walk and is
 * returned. count_fn (may be NULL) is called first, once, with the
 * number of persons fn will see (so a caller can size its buffer once);
 * a non-zero return stops there. Everything is read in one read
 * transaction, which first checks that the rows are under the key with
 * fingerprint key_fp (CC_ERR_STATE otherwise: the key was rotated since
 * the caller loaded it). At most CC_LIMIT_CATEGORIES_PER_SET categories;
 * first <= last.
 */
typedef int (*cc_store_count_fn)(void *ctx, uint64_t n);
typedef int (*cc_store_person_fn)(void *ctx, const uint8_t p[CC_ELEMENT_BYTES],
    int birth_year, int birth_month, enum cc_sex sex);
int cc_store_select_persons(struct cc_store *st, const char *key_fp,
    const char *const *categories, size_t ncategories,
    const struct cc_date *first, const struct cc_date *last,
    cc_store_count_fn count_fn, cc_store_person_fn fn, void *ctx,
    struct cc_diag *diag);

/* PRAGMA integrity_check == "ok": 0, else CC_ERR_DB. */
int cc_store_integrity_check(struct cc_store *st, struct cc_diag *diag);

#endif
