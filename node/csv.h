/*
 * crosscount-node: streaming reader for agency CSV exports (RFC 4180).
 *
 * Quoted fields with embedded delimiters, quotes ("") and newlines; the
 * delimiter (',' or ';') is detected from the header line; UTF-8 with or
 * without BOM, or Windows-1252 (converted to UTF-8). With
 * CC_CSV_ENCODING_AUTO the whole file is scanned once first: valid UTF-8
 * is UTF-8, anything else is Windows-1252, and bytes that Windows-1252
 * leaves undefined make the file undecodable. A UTF-8 byte order mark is
 * skipped (with an explicit windows-1252 it is CC_ERR_ENCODING). NUL bytes
 * (UTF-16 exports) are CC_ERR_ENCODING. Memory stays bounded by
 * CC_LIMIT_CSV_LINE whatever the file size: the file is read through a
 * fixed buffer, never loaded whole.
 *
 * Lines end with LF, CRLF or a lone CR; the last line may lack one. Line
 * numbers are physical lines (1 = the first line of the file): a record
 * whose quoted field holds newlines spans several lines and is reported at
 * the line where it starts. Inside quotes, line breaks are kept as they are.
 *
 * Fields are returned exactly as written (unquoted, "" turned into ", no
 * trimming), so "a;b;" has three fields, the last one empty. A record may
 * have more or fewer fields than the header: the caller decides. A record
 * whose fields are all empty (a blank line, or ";;;" as spreadsheets write
 * for empty rows) is skipped and never returned.
 *
 * Diagnostics name the line and field number and never field contents.
 * Record buffers hold identities: they are wiped when reused and freed.
 */
#ifndef CC_NODE_CSV_H
#define CC_NODE_CSV_H

#include <stdbool.h>
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
 * Open a seekable file and read its header: the first line that is not
 * empty (a line like ";;;" is a header naming no columns: CC_ERR_FORMAT).
 * The delimiter is the one of ',' and ';' that occurs more often outside
 * quotes in the header line; neither, or as many of each, is
 * CC_ERR_FORMAT ("cannot detect the delimiter": every import needs several
 * columns). Fails with CC_ERR_ENCODING if the file cannot be decoded
 * (with AUTO, found by a streaming pass over the whole file before
 * anything is returned), CC_ERR_FORMAT if there is no header or it is
 * malformed, CC_ERR_LIMIT if the header is over a limit, CC_ERR_IO on read
 * or seek errors; diag says where. Reading starts at the FILE's current
 * position. The FILE stays owned by the caller and must outlive the reader.
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
 * ret_rec->line names the bad record (nfields is 0), and reading may
 * continue: they reject one row, not the file. Over-long records are
 * skipped following the quotes; after bad quoting the rest of that
 * physical line is skipped. CC_ERR_IO and CC_ERR_ENCODING are fatal: every
 * later call returns them again. With an explicit encoding they can come
 * after records were returned, so an importer must not commit rows before
 * reaching 0. Blank records are skipped (see above).
 */
int cc_csv_next(struct cc_csv *c, struct cc_csv_record *ret_rec,
    struct cc_diag *diag);

/* Wipes buffers and frees; NULL is allowed. */
void cc_csv_free(struct cc_csv *c);

/*
 * true if s[0..n) is well-formed UTF-8 (no overlong forms, surrogates or
 * code points above U+10FFFF). The check the reader applies; node.conf
 * uses it too.
 */
bool cc_csv_utf8_valid(const void *s, size_t n);

#endif
