/*
 * crosscount-aggregator: counting a query and the released table.
 * SPEC.md section 9 (9.1 opening and joining, 9.2 Venn regions,
 * 9.3 published quantities, 9.4-9.5 disclosure control, 9.6 released
 * table) and docs/api.md `GET /api/v1/queries/{id}/result`.
 *
 * Pure: no HTTP, no store, no libevent, no global state. Every function
 * here may run on a worker thread (libsodium must have been initialised
 * by the program). Nothing partial: on any failure no table is returned
 * and every intermediate (opened attributes, the membership table,
 * unprotected counts) has been wiped.
 *
 * Base cells (SPEC 9.2): index (region - 1) * ncells + cell for region
 * 1..2^nsets-1 (bit i = q->sets[i]) and breakdown cell
 * 0..cc_query_cells(q)-1 (age band major, sex minor, female first).
 *
 * The released table (a Jansson object):
 *   {
 *     "id": "<query id, 32 lowercase hex>",
 *     "title": "<q->title>",
 *     "status": "released",
 *     "min_cell": <q->min_cell>,
 *     "labels": ["<set 0 label>", ...],              the query's set order
 *     "breakdown": [] | ["age_band"] | ["sex"] | ["age_band", "sex"],
 *     "age_bands": ["0-5", ...],                     only when by age band
 *     "cells": [ {"combination": ["<label>", ...],   sets in query order
 *                 "age_band": "6-12",                only when by age band
 *                 "sex": "F" | "M",                  only when by sex
 *                 "count": <n> | null,               null when withheld
 *                 "suppressed": false | true}, ... ],
 *     "set_totals": [ {"set": "<label>", "count": <n> | null,
 *                      "suppressed": ...}, ... ],    the query's set order
 *     "combination_totals": [ {"combination": [...], "count": <n> | null,
 *                              "suppressed": ...}, ... ],
 *     "digest": "<64 lowercase hex>"
 *   }
 * Order of combinations (cells and combination_totals): by the number of
 * sets in the combination, then by the region's bit mask ascending (bit i
 * = set i), e.g. for three sets A, B, C: A, B, C, A+B, A+C, B+C, A+B+C.
 * Cells: every combination x every breakdown cell, zeros included, the
 * breakdown cells of one combination in age band order, then female
 * before male. "combination_totals" is always present; it is empty when
 * the query has a single breakdown cell (no breakdown, or by age with one
 * band): the totals would repeat the cells, and SPEC 9.3 publishes them
 * only when there is more than one breakdown cell.
 *
 * Canonical form and digest: the canonical JSON of a table is what
 * Jansson writes with JSON_COMPACT | JSON_SORT_KEYS (no whitespace, keys
 * sorted bytewise, integers in decimal, UTF-8 written as is: only '"',
 * '\\' and control characters are escaped). "digest" is the lowercase hex
 * SHA-256 of the canonical JSON of the table without its "digest" member.
 * The same counts always give the same table and digest.
 */
#ifndef CC_AGG_COUNTING_H
#define CC_AGG_COUNTING_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "protocol/batch.h"
#include "protocol/error.h"
#include "protocol/query.h"
#include "protocol/seal.h"

#define CC_COUNTING_DIGEST_HEX 65   /* 64 hex characters and NUL */

/*
 * SPEC 9.1-9.2: the exact base cells of a query from the final batches.
 *   q            the validated query (its shape: q->by_age_band, q->nbands,
 *                q->by_sex)
 *   query_id     the query's 16-byte id
 *   final_paths  npaths == q->nnodes paths; final_paths[c] is the final
 *                batch (hop nnodes - 1) of chain c, whose origin is
 *                q->nodes[c]
 *   key          the aggregator's attribute key (y)
 *   max_count    the largest record count accepted per batch
 *                (0 = CC_LIMIT_BATCH_ELEMENTS)
 * Each batch is read in chunks (batch_stream.h) and its header checked
 * (query id, chain c, hop nnodes - 1, nnodes, the reference table against
 * the query's shape); every block is opened on every core
 * (cc_batch_open_records), dummies are dropped, and the tokens of all
 * chains are joined in a hash table keyed by the 32-byte token (a keyed
 * SipHash, so a node cannot choose colliding tokens). Neither the batch
 * signatures nor the tokens' encodings are checked here: the commit of
 * each step did that (SPEC 8.6), and opening decodes A and B.
 * A token in several chains of one set counts once for that set.
 * Protocol violations fail the whole count with CC_ERR_FORMAT and a diag
 * naming the chain(s) and origin node(s) at fault: a token twice in one
 * chain, or one token with different attributes in two chains. A block
 * that opens to no reference is CC_ERR_DECRYPT (diag names the chain);
 * I/O, size and format errors of a batch are those of
 * cc_batch_read_file, prefixed with the chain.
 * ret_base must hold nbase == cc_query_regions(q) * cc_query_cells(q)
 * entries (else CC_ERR_INVALID_ARGUMENT); it is zeroed on entry and on
 * error. The counts are unprotected: the caller wipes them after use.
 * Memory: one chunk of one batch at a time (CC_BATCH_STREAM_RECORDS
 * records of 96 bytes, and their opened attributes) plus the membership
 * table, 36 bytes per slot, sized once before reading from the file sizes
 * of all final batches: 4/3 slots per record, so 48 bytes per record of
 * all batches. It is wiped before it is freed. A batch file that grows
 * during counting is CC_ERR_IO.
 */
int cc_counting_count(uint64_t *ret_base, size_t nbase,
    const struct cc_query *q, const uint8_t query_id[CC_BATCH_QUERY_ID_BYTES],
    const char *const *final_paths, size_t npaths,
    const struct cc_seal_key *key, uint32_t max_count, struct cc_diag *diag);

/*
 * SPEC 9.3-9.6: the released table of a query from its exact base cells
 * (nbase as above): the published margins (cc_disclosure_venn_margins),
 * primary and secondary suppression (cc_disclosure_protect with
 * q->min_cell and the known margins of cc_disclosure_venn_known_margins,
 * each set's total per breakdown cell, SPEC 9.5), the table in the form
 * above with its digest.
 * *ret_result is a new object (json_decref it). base is not modified.
 */
int cc_counting_table(json_t **ret_result, const struct cc_query *q,
    const uint8_t query_id[CC_BATCH_QUERY_ID_BYTES], const uint64_t *base,
    size_t nbase, struct cc_diag *diag);

/*
 * Both: count the final batches, build the released table, wipe the
 * counts. The one call the coordinator's counting worker makes.
 */
int cc_counting_run(json_t **ret_result, const struct cc_query *q,
    const uint8_t query_id[CC_BATCH_QUERY_ID_BYTES],
    const char *const *final_paths, size_t npaths,
    const struct cc_seal_key *key, uint32_t max_count, struct cc_diag *diag);

/*
 * The digest of a table as defined above (ignoring any "digest" member it
 * has): for storing it beside the table and for checking a stored table.
 * CC_ERR_INVALID_ARGUMENT if result is not an object.
 */
int cc_counting_digest(char ret_hex[CC_COUNTING_DIGEST_HEX],
    const json_t *result);

/*
 * result.csv (docs/api.md): UTF-8 with a byte order mark (EF BB BF) so
 * that Excel reads Swedish letters, ';' between fields, CRLF after every
 * record (RFC 4180), the header
 *   combination;age_band;sex;count;suppressed
 * then one record per entry of "cells", in the table's order:
 *   combination  the labels joined with " + "
 *   age_band     "lo-hi", empty when not broken down by age band
 *   sex          "F" / "M", empty when not broken down by sex
 *   count        decimal, empty when withheld
 *   suppressed   "true" / "false"
 * A field holding ';', '"', CR or LF is quoted with '"' and its '"'
 * doubled (RFC 4180). A field that begins with '=', '+', '-', '@' (or TAB
 * or CR) gets a leading "'" so that a spreadsheet shows it as text
 * rather than running it as a formula (OWASP CSV injection); set labels
 * are the analyst's text. The totals are in the JSON only.
 * *ret_text is NUL-terminated (free with free()); *ret_len excludes the
 * NUL. CC_ERR_FORMAT if result is not a table of the form above,
 * CC_ERR_LIMIT beyond CC_LIMIT_HTTP_RESPONSE bytes.
 */
int cc_counting_csv(const json_t *result, char **ret_text, size_t *ret_len);

#endif
