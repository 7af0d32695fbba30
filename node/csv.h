/*
 * crosscount-node: streaming reader for agency CSV exports (RFC 4180).
 *
 * Quoted fields with embedded delimiters, quotes ("") and newlines; the
 * delimiter (',' or ';') is detected from the header line; UTF-8 with or
 * without BOM, or Windows-1252 (converted to UTF-8). With
 * CC_CSV_ENCODING_AUTO the whole file is scanned once first: valid UTF-8
 * is UTF-8, anything else is Windows-1252, and bytes that Windows-1252
 * leaves undefined make the file undecodable. Memory stays bounded by
 * CC_LIMIT_CSV_LINE whatever the file size.
 *
 * Record buffers hold identities: they are wiped when reused and freed.
 */
#ifndef CC_NODE_CSV_H
#define CC_NODE_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "protocol/error.h"
#include "protocol/limits.h"

enum cc_csv_encoding {
	CC_CSV_ENCODING_AUTO = 0,
	CC_CSV_ENCODING_UTF8 = 1,
	CC_CSV_ENCODING_CP1252 = 2,
};

/* Parse "auto", "utf-8"/"utf8", "windows-1252"/"cp1252" (any case). */
int cc_csv_encoding_parse(enum cc_csv_encoding *ret_enc, const char *name);
const char *cc_csv_encoding_name(enum cc_csv_encoding enc);

struct cc_csv_record {
	unsigned long line;     /* physical line where the record starts (1 = header) */
	size_t nfields;
	const char *field[CC_LIMIT_CSV_COLUMNS];  /* UTF-8, NUL-terminated */
	size_t len[CC_LIMIT_CSV_COLUMNS];
};

struct cc_csv;

/*
 * Open a seekable file and read its header. Fails with CC_ERR_ENCODING if
 * the file cannot be decoded, CC_ERR_FORMAT if there is no header or it is
 * malformed, CC_ERR_IO on read errors; diag says where. The FILE stays
 * owned by the caller and must outlive the reader.
 */
int cc_csv_open(struct cc_csv **ret_csv, FILE *f, enum cc_csv_encoding enc,
    struct cc_diag *diag);

/* The detected delimiter and encoding (never AUTO after open). */
char cc_csv_delimiter(const struct cc_csv *c);
enum cc_csv_encoding cc_csv_encoding(const struct cc_csv *c);

/* The header: field names, trimmed of surrounding spaces. */
const struct cc_csv_record *cc_csv_header(const struct cc_csv *c);

/*
 * Read the next record into *ret_rec (valid until the next call).
 * Returns 1 for a record, 0 at end of file, or an error:
 *   CC_ERR_LIMIT   the record is longer than CC_LIMIT_CSV_LINE, a field
 *                  longer than CC_LIMIT_CSV_FIELD, or has more than
 *                  CC_LIMIT_CSV_COLUMNS fields;
 *   CC_ERR_FORMAT  bad quoting (a quote inside an unquoted field, text
 *                  after a closing quote, an unterminated quote at EOF).
 * After those two the reader has skipped to the start of the next record,
 * ret_rec->line names the bad record, and reading may continue: they
 * reject one row, not the file. CC_ERR_IO and CC_ERR_ENCODING are fatal.
 * Blank lines are skipped.
 */
int cc_csv_next(struct cc_csv *c, struct cc_csv_record *ret_rec,
    struct cc_diag *diag);

/* Wipes buffers and frees; NULL is allowed. */
void cc_csv_free(struct cc_csv *c);

#endif
