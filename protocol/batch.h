/*
 * crosscount: batches of blinded tokens and sealed attributes.
 * SPEC.md sections 8.1 (format), 8.2 (chains), 8.3 (origin step),
 * 8.4 (relay step), 8.5 (padding and dummies), 5.8 (shuffling).
 *
 * Wire format v1, integers big-endian:
 *   header (CC_BATCH_HEADER_BYTES = 40):
 *     magic "CCB1" (4) | version u16 = 1 | flags u16 = 0 | query_id (16) |
 *     chain u16 | hop u16 | nodes u16 | nrefs u16 | count u32 |
 *     record_size u32 = 96
 *   nrefs reference entries: value (4) || element (32)
 *   count records: token (32) || A (32) || B (32)
 *   trailer: u16 cert_len | signer certificate DER | u16 sig_len | signature
 * The digest D is SHA-256 of every byte before the trailer.
 *
 * A struct cc_batch owns one contiguous buffer laid out exactly like the
 * wire format (header, references, records, trailer, plus room for the
 * largest trailer), so a relay multiplies and shuffles in place and the
 * serialized bytes are borrowed, never copied. Its contents are wiped when
 * it is freed.
 */
#ifndef CC_BATCH_H
#define CC_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/error.h"
#include "protocol/group.h"
#include "protocol/limits.h"
#include "protocol/seal.h"

#define CC_BATCH_MAGIC "CCB1"
#define CC_BATCH_VERSION 1
#define CC_BATCH_HEADER_BYTES 40
#define CC_BATCH_QUERY_ID_BYTES 16
#define CC_BATCH_RECORD_BYTES 96
#define CC_BATCH_TOKEN_OFFSET 0
#define CC_BATCH_A_OFFSET 32
#define CC_BATCH_B_OFFSET 64
#define CC_BATCH_BLOCK_OFFSET CC_BATCH_A_OFFSET  /* A || B, 64 bytes */
#define CC_BATCH_REF_BYTES CC_ATTR_REF_BYTES     /* value || element */
#define CC_BATCH_MIN_PADDED 64
/* The largest trailer: u16 + certificate + u16 + signature. */
#define CC_BATCH_TRAILER_MAX (2 + CC_LIMIT_CERT_DER + 2 + CC_LIMIT_SIGNATURE)

struct cc_batch;

/*
 * SPEC 8.5: the padded size of n real records: 64 if n <= 64, else n
 * rounded up to a multiple of 2^(bitlen(n) - 4). 0 if n is over
 * CC_LIMIT_BATCH_ELEMENTS.
 */
size_t cc_batch_padded_size(size_t n);

/*
 * SPEC 8.2: the index (into the query's sorted node list) of the node that
 * produces hop `hop` of chain `chain`: (chain + hop) mod nodes.
 * nodes must be >= 1.
 */
uint16_t cc_batch_hop_node(uint16_t chain, uint16_t hop, uint16_t nodes);

/*
 * SPEC 8.3: the origin step of chain `chain` (hop 0).
 *   points   n at-rest elements P = s*H(id), CC_ELEMENT_BYTES each,
 *            contiguous, distinct (the caller selects distinct persons)
 *   attrs    n real attribute values, each within shape
 *   s        the node's at-rest key; r the node's per-query scalar
 *   y_pub    the aggregator's attribute key Y
 * Each record is token (r*s^-1)*P with its sealed attribute scaled by r;
 * dummies (random token, sealed dummy value) pad to
 * cc_batch_padded_size(n); the reference table is (v, r*M_v) for every
 * value of the shape; the records are shuffled. The batch is unsigned
 * (see sign.h). *ret_batch is freed with cc_batch_free().
 */
int cc_batch_new_origin(struct cc_batch **ret_batch,
    const uint8_t query_id[CC_BATCH_QUERY_ID_BYTES], uint16_t chain,
    uint16_t nodes, const struct cc_attr_shape *shape,
    const uint8_t *points, const struct cc_attr *attrs, size_t n,
    const uint8_t s[CC_SCALAR_BYTES], const uint8_t r[CC_SCALAR_BYTES],
    const uint8_t y_pub[CC_ELEMENT_BYTES], struct cc_diag *diag);

/*
 * The same origin step built record by record, so that a caller reading
 * its persons from a store holds them nowhere but in the builder, which
 * keeps 33 bytes a record (P and the index of its value) until the batch
 * is made:
 *
 *   cc_batch_origin_new     room for max_n records (an upper bound, e.g.
 *                           a count of the candidates; only the part
 *                           written is ever touched);
 *   cc_batch_origin_add     one record: its at-rest element P and its
 *                           real attribute value (within the shape);
 *                           CC_ERR_LIMIT past max_n;
 *   cc_batch_origin_finish  SPEC 8.3 steps 2-7 on the n records added:
 *                           the whole batch in memory, padded to
 *                           cc_batch_padded_size(n), shuffled, unsigned
 *                           (sign.h);
 *   cc_batch_origin_free    wipes (the points are secrets) and frees;
 *                           NULL is allowed.
 *
 * For a batch that is never held whole (batch_file.h writes it to a file
 * a chunk at a time), finish is instead:
 *
 *   cc_batch_origin_prepare  steps 2, 3 and 7 once: the scalar r*s^-1,
 *                            the reference table (v, r*M_v), and the
 *                            header (hop 0, count = the padded size);
 *   cc_batch_origin_refs     that reference table (borrowed);
 *   cc_batch_origin_records  records [first, first + n) of the
 *                            unshuffled batch, into ret_records: indexes
 *                            below cc_batch_origin_count are the records
 *                            added, in order (token (r*s^-1)*P, sealed
 *                            value), the others dummies (random token,
 *                            sealed dummy value); every core. The caller
 *                            MUST place them by a uniformly random
 *                            permutation (SPEC 5.8), or real records
 *                            would be told from dummies by position.
 *                            Making the last record (first + n = the
 *                            padded count) spends the builder.
 *
 * After finish, or after any call failed, the builder holds nothing and
 * can only be freed (other calls: CC_ERR_INVALID_ARGUMENT).
 * cc_batch_new_origin is exactly new, add and finish on its arrays.
 */
struct cc_batch_origin;
struct cc_batch_header;

int cc_batch_origin_new(struct cc_batch_origin **ret_o,
    const uint8_t query_id[CC_BATCH_QUERY_ID_BYTES], uint16_t chain,
    uint16_t nodes, const struct cc_attr_shape *shape, size_t max_n,
    struct cc_diag *diag);
int cc_batch_origin_add(struct cc_batch_origin *o,
    const uint8_t p[CC_ELEMENT_BYTES], const struct cc_attr *a,
    struct cc_diag *diag);
/* The number of records added so far. */
size_t cc_batch_origin_count(const struct cc_batch_origin *o);
int cc_batch_origin_finish(struct cc_batch **ret_batch,
    struct cc_batch_origin *o, const uint8_t s[CC_SCALAR_BYTES],
    const uint8_t r[CC_SCALAR_BYTES], const uint8_t y_pub[CC_ELEMENT_BYTES],
    struct cc_diag *diag);
int cc_batch_origin_prepare(struct cc_batch_origin *o,
    const uint8_t s[CC_SCALAR_BYTES], const uint8_t r[CC_SCALAR_BYTES],
    const uint8_t y_pub[CC_ELEMENT_BYTES], struct cc_batch_header *ret_h,
    struct cc_diag *diag);
/* ret_h->nrefs entries of CC_BATCH_REF_BYTES; NULL before prepare. */
const uint8_t *cc_batch_origin_refs(const struct cc_batch_origin *o);
/* A stored element that is not valid is CC_ERR_POINT, diag names it. */
int cc_batch_origin_records(struct cc_batch_origin *o, size_t first,
    size_t n, uint8_t *ret_records, struct cc_diag *diag);
void cc_batch_origin_free(struct cc_batch_origin *o);

/*
 * SPEC 8.4: the relay step, in place: multiply every token, A, B and every
 * reference element by r, shuffle the records, hop += 1, drop the trailer
 * (the batch must be signed again). The caller has verified the batch
 * (sign.h) and its header (cc_batch_check_header). CC_ERR_STATE if the
 * batch is already final (hop + 1 == nodes). On error the batch contents
 * are unspecified and it must be discarded.
 */
int cc_batch_relay(struct cc_batch *b, const uint8_t r[CC_SCALAR_BYTES],
    struct cc_diag *diag);

/* SPEC 5.8: Fisher-Yates over whole records with randombytes_uniform. */
void cc_batch_shuffle(struct cc_batch *b);

/*
 * Parse a batch from a borrowed span, validating exactly (SPEC 8.1):
 * magic, version, flags 0, record_size 96, nodes >= 1, chain < nodes,
 * hop < nodes, 1 <= nrefs <= CC_LIMIT_BATCH_REFS with reference values
 * valid, strictly ascending, every element (tokens, A, B, references) a
 * valid non-identity element, count <= CC_LIMIT_BATCH_ELEMENTS and
 * <= max_count, 1 <= cert_len <= CC_LIMIT_CERT_DER,
 * 1 <= sig_len <= CC_LIMIT_SIGNATURE, nothing after the trailer.
 * The signature is NOT verified here (sign.h). The span is copied once.
 */
int cc_batch_parse(struct cc_batch **ret_batch, const uint8_t *data,
    size_t len, uint32_t max_count, struct cc_diag *diag);

/*
 * The same, taking ownership of a malloc'd buffer instead of copying it
 * (for a large upload received straight into *buf). *buf holds len bytes
 * of cap allocated; with cap >= len + CC_BATCH_TRAILER_MAX a relay re-signs
 * in place, otherwise signing grows the buffer once. On return, success or
 * not, *buf is NULL: the batch owns it, or it was wiped and freed.
 */
int cc_batch_parse_take(struct cc_batch **ret_batch, uint8_t **buf,
    size_t len, size_t cap, uint32_t max_count, struct cc_diag *diag);

/*
 * The same from a file, read straight into the batch's own buffer (no
 * second copy). CC_ERR_IO if it cannot be read, CC_ERR_LIMIT if the file
 * is larger than a batch of max_count records can be.
 */
int cc_batch_read_file(struct cc_batch **ret_batch, const char *path,
    uint32_t max_count, struct cc_diag *diag);

/* Wipes and frees; NULL is allowed. */
void cc_batch_free(struct cc_batch *b);

/*
 * The pieces of the exact parse (SPEC 8.1), for a reader that does not
 * hold a whole batch at once (batch_stream.h). cc_batch_parse is exactly
 * these, in this order on one span: header, trailer, references, records.
 */
struct cc_batch_header {
	uint8_t query_id[CC_BATCH_QUERY_ID_BYTES];
	uint16_t chain, hop, nodes, nrefs;
	uint32_t count;
};

/* The 40 header bytes: every field within its rule (see cc_batch_parse). */
int cc_batch_header_parse(struct cc_batch_header *ret_h,
    const uint8_t bytes[CC_BATCH_HEADER_BYTES], uint32_t max_count,
    struct cc_diag *diag);
/* The 40 header bytes of h (magic, version 1, flags 0, record size 96). */
void cc_batch_header_write(uint8_t out[CC_BATCH_HEADER_BYTES],
    const struct cc_batch_header *h);
/* Header, references and records: the bytes D covers. */
size_t cc_batch_body_bytes(const struct cc_batch_header *h);
/* nrefs entries: values valid and strictly ascending, elements valid. */
int cc_batch_refs_validate(const uint8_t *refs, uint16_t nrefs,
    struct cc_diag *diag);
/* Exactly one trailer in len bytes: lengths within the limits, nothing
 * after it. */
int cc_batch_trailer_validate(const uint8_t *trailer, size_t len,
    struct cc_diag *diag);
/* count records, every element valid (every core); diag numbers a bad
 * record from first_index. */
int cc_batch_records_validate(const uint8_t *records, size_t count,
    size_t first_index, struct cc_diag *diag);
/* SPEC 8.6 item 4: query id, nodes, chain and hop equal the step's. */
int cc_batch_header_expect(const struct cc_batch_header *h,
    const uint8_t query_id[CC_BATCH_QUERY_ID_BYTES], uint16_t chain,
    uint16_t hop, uint16_t nodes, struct cc_diag *diag);

/*
 * Check the header against what the receiver expects (SPEC 8.6): query id,
 * chain, hop, nodes, and the reference table against the query's shape
 * (cc_attr_refs_check). CC_ERR_FORMAT with detail otherwise.
 */
int cc_batch_check_header(const struct cc_batch *b,
    const uint8_t query_id[CC_BATCH_QUERY_ID_BYTES], uint16_t chain,
    uint16_t hop, uint16_t nodes, const struct cc_attr_shape *shape,
    struct cc_diag *diag);

/* Header fields. */
const uint8_t *cc_batch_query_id(const struct cc_batch *b);
uint16_t cc_batch_chain(const struct cc_batch *b);
uint16_t cc_batch_hop(const struct cc_batch *b);
uint16_t cc_batch_nodes(const struct cc_batch *b);
uint16_t cc_batch_nrefs(const struct cc_batch *b);
uint32_t cc_batch_count(const struct cc_batch *b);

/* nrefs * CC_BATCH_REF_BYTES bytes, borrowed. */
const uint8_t *cc_batch_refs(const struct cc_batch *b);
/* count * CC_BATCH_RECORD_BYTES bytes, one contiguous array, borrowed. */
const uint8_t *cc_batch_records(const struct cc_batch *b);

/* D = SHA-256 of the header, references and records (SPEC 8.1). */
void cc_batch_digest(const struct cc_batch *b, uint8_t ret_d[32]);

/*
 * The trailer. set_trailer copies cert and signature in (lengths 1..the
 * limits); get returns borrowed pointers, CC_ERR_STATE if unsigned.
 */
int cc_batch_set_trailer(struct cc_batch *b, const uint8_t *cert,
    size_t cert_len, const uint8_t *sig, size_t sig_len);
int cc_batch_trailer(const struct cc_batch *b, const uint8_t **ret_cert,
    size_t *ret_cert_len, const uint8_t **ret_sig, size_t *ret_sig_len);

/*
 * The wire bytes, borrowed from the batch (valid until the batch changes
 * or is freed). CC_ERR_STATE if the batch has no trailer yet.
 */
int cc_batch_serialize(const struct cc_batch *b, const uint8_t **ret_data,
    size_t *ret_len);

/* Write the wire bytes to path (mode 0600, replaced atomically and durably:
 * protocol/file.h). */
int cc_batch_write_file(const struct cc_batch *b, const char *path,
    struct cc_diag *diag);

/*
 * SPEC 9.1, for the aggregator on a final batch: open every record's block
 * with key and look it up in the batch's references, which must match
 * shape (cc_attr_refs_check). ret_attrs holds count entries. Uses every
 * core. CC_ERR_DECRYPT (diag names the record index) if a block opens to
 * no reference.
 */
int cc_batch_open(const struct cc_batch *b, const struct cc_seal_key *key,
    const struct cc_attr_shape *shape, struct cc_attr *ret_attrs,
    struct cc_diag *diag);

/*
 * The same on count records (a span of a batch) whose reference table
 * (refs, nrefs) the caller has checked against the query's shape. diag
 * numbers a bad record from first_index.
 */
int cc_batch_open_records(const uint8_t *records, size_t count,
    const uint8_t *refs, uint16_t nrefs, const struct cc_seal_key *key,
    struct cc_attr *ret_attrs, size_t first_index, struct cc_diag *diag);

#endif
