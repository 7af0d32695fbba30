/*
 * crosscount-node: importing an agency's CSV export (SPEC.md 6.4).
 *
 * One row per episode; the logical columns personnummer, category,
 * start_date and the optional end_date (empty or absent = ongoing) and
 * unit are found in the header by name (case-insensitive, trimmed; the
 * names come from node.conf [import] column.*). Other columns are ignored. Each good row becomes P = s·H(id) plus
 * birth year-month, sex and the episode; the identity itself goes no
 * further than memory and is wiped as soon as it has been hashed.
 *
 * A bad row (identity, date, empty required field, wrong column count,
 * over-long line or field, bad quoting) is rejected: line, column and
 * reason go to the reject report (identities masked) and the rest is
 * imported. The whole import is refused and the store left exactly as it
 * was if the header lacks a required column, the file cannot be decoded
 * or read, it has no data rows, the node would hold more than
 * CC_LIMIT_NODE_CATEGORIES categories, or more than max_reject_rate of
 * the rows are bad.
 *
 * Work is a pipeline: this thread reads and validates rows into chunks,
 * a pool of worker threads (one per core) computes s·H(id) for a chunk
 * while the next one is read, and this thread inserts finished chunks in
 * file order, all in one store transaction. Memory is bounded by a few
 * chunks whatever the file size.
 */
#ifndef CC_NODE_IMPORT_H
#define CC_NODE_IMPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "node/config.h"
#include "node/csv.h"
#include "node/keys.h"
#include "node/store.h"
#include "protocol/date.h"
#include "protocol/error.h"

#define CC_IMPORT_DEFAULT_CHUNK 4096
/* Rejects kept in the result for the caller to show (all go to the report). */
#define CC_IMPORT_SHOWN_REJECTS 10
/* The reject report stops growing here (a file of garbage is refused anyway). */
#define CC_IMPORT_REPORT_MAX 100000

struct cc_import_options {
	enum cc_store_mode mode;
	struct cc_date on;               /* reference date for identities */
	enum cc_csv_encoding encoding;
	double max_reject_rate;          /* 0..1 */
	/* Header names of the logical columns (node.conf column.*). */
	const char (*column)[CC_LIMIT_CSV_FIELD + 1];
	const char *reject_report;       /* created on the first reject; NULL: none */
	unsigned threads;                /* workers; 0 = every core */
	size_t chunk_rows;               /* rows per chunk; 0 = default */
};

/* Fill opt with the defaults: snapshot, today, auto, 1%, default columns. */
void cc_import_options_defaults(struct cc_import_options *opt);

struct cc_import_reject {
	unsigned long line;
	char column[32];                 /* logical column name, or "" for the row */
	char text[CC_DIAG_MAX];          /* the reason, identity masked */
};

struct cc_import_result {
	uint64_t rows_read;              /* data rows seen, good or bad */
	uint64_t rows_imported;          /* good rows (episodes, duplicates included) */
	uint64_t rows_rejected;
	uint64_t duplicates;             /* good rows that repeated a stored episode */
	bool report_written;
	bool report_truncated;
	size_t nshown;
	struct cc_import_reject shown[CC_IMPORT_SHOWN_REJECTS];
};

/*
 * Import csv_path into st with key. Returns 0 when the rows were imported
 * (check rows_rejected), or an error when the import was refused and
 * nothing changed (diag says why; the import is recorded as refused in
 * the imports table where possible). *ret_res is filled either way.
 */
int cc_import_file(struct cc_store *st, const struct cc_key *key,
    const char *csv_path, const struct cc_import_options *opt,
    struct cc_import_result *ret_res, struct cc_diag *diag);

#endif
