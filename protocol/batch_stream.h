/*
 * crosscount: reading a batch file in chunks (SPEC.md 8.1, 8.6), for the
 * aggregator, which checks every upload and opens every final batch but
 * never changes a batch, and for a node's steps made straight into files
 * (batch_file.h): memory stays at one chunk however large the batch,
 * where cc_batch_read_file holds it whole.
 *
 * The checks are exactly those of cc_batch_parse, in the same order:
 * cc_batch_stream_open reads and checks the header, the trailer (its
 * lengths, nothing after it) and the reference table;
 * cc_batch_stream_next hands out the records in order, each chunk's
 * elements checked on every core; cc_batch_stream_end, after the last
 * record, gives the digest D (SHA-256 of header, references and records,
 * computed on the way) and the trailer for the signature check (sign.h
 * cc_sign_verify_digest).
 *
 * The file must not change while it is read: a file shorter than its
 * header says, or that grows or shrinks meanwhile, is CC_ERR_IO. Records
 * are per-query secrets: the chunk buffer is wiped when it is refilled
 * and when the stream is freed.
 */
#ifndef CC_BATCH_STREAM_H
#define CC_BATCH_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/batch.h"
#include "protocol/error.h"

/* Records per chunk: 768 KiB, and enough work to share between cores. */
#define CC_BATCH_STREAM_RECORDS 8192

struct cc_batch_stream;

/*
 * Open path (a regular file, not through a symbolic link) and check its
 * header against max_count, its trailer and its reference table.
 * check_elements false skips the element checks of the records (SPEC 5.5)
 * for a reader that decodes every element it uses anyway and reads a
 * batch that was checked when it arrived; the structure is always
 * checked. CC_ERR_IO if the file cannot be read; the errors of
 * cc_batch_parse otherwise, diag prefixed with nothing (the caller names
 * the batch).
 */
int cc_batch_stream_open(struct cc_batch_stream **ret_s, const char *path,
    uint32_t max_count, bool check_elements, struct cc_diag *diag);

/* The checked header and the reference table (borrowed). */
const struct cc_batch_header *cc_batch_stream_header(
    const struct cc_batch_stream *s);
const uint8_t *cc_batch_stream_refs(const struct cc_batch_stream *s);

/*
 * The next records in order: *ret_n (at most CC_BATCH_STREAM_RECORDS)
 * records of CC_BATCH_RECORD_BYTES at *ret_records, borrowed until the
 * next call; *ret_first their index in the batch. *ret_n == 0 after the
 * last record. A record with an invalid element is CC_ERR_POINT (diag
 * names the record); once a call fails the stream only fails.
 */
int cc_batch_stream_next(struct cc_batch_stream *s,
    const uint8_t **ret_records, size_t *ret_n, size_t *ret_first,
    struct cc_diag *diag);

/*
 * After every record was read: D and the trailer's certificate and
 * signature (borrowed until the stream is freed). CC_ERR_STATE before.
 */
int cc_batch_stream_end(struct cc_batch_stream *s, uint8_t ret_d[32],
    const uint8_t **ret_cert, size_t *ret_cert_len, const uint8_t **ret_sig,
    size_t *ret_sig_len);

/* Wipes and frees, closes the file; NULL is allowed. */
void cc_batch_stream_free(struct cc_batch_stream *s);

#endif
