/*
 * crosscount-node: the node's two kinds of batch step (SPEC.md 8.3, 8.4)
 * and their transfer to the aggregator (docs/api.md, node endpoints).
 *
 *   origin (hop 0): select this node's persons for the query (7.3), build
 *           the batch with the at-rest key s and the per-query r
 *           (tokens, sealed attributes, dummies, shuffle), sign it with
 *           the node's certificate key;
 *   relay (hop h > 0): read the input batch (the output of hop h-1) from
 *           a file, verify it (8.6: the parse with this node's
 *           max_peer_batch, signer n_{(c+h-1) mod k} under the federation
 *           CA, signature, header, reference table), multiply by r and
 *           shuffle, sign it.
 * Both write their output straight to a file (protocol/batch_file.h): a
 * batch is never held whole, only a chunk of records and a 4-byte index
 * per record; the file appears whole at its path or not at all. Both use
 * every core. The worker (worker.c) decides when to run them, keeps r
 * (querykey.h) and the output file until the aggregator accepts it, and
 * reports to the aggregator.
 *
 * Nothing here logs; no identity is ever present (the node works from
 * P = s·H(id)), and diag never holds a pseudonym, a token or a key.
 */
#ifndef CC_NODE_STEPS_H
#define CC_NODE_STEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/keys.h"
#include "node/store.h"
#include "protocol/batch.h"
#include "protocol/batch_file.h"
#include "protocol/client.h"
#include "protocol/error.h"
#include "protocol/query.h"
#include "protocol/seal.h"
#include "protocol/sign.h"

/* Time limits of one transfer request, seconds. */
#define CC_STEPS_PART_TIMEOUT 300
#define CC_STEPS_COMMIT_TIMEOUT 300

/* The breakdown shape of a query (which attribute values can occur). */
void cc_steps_shape(struct cc_attr_shape *ret_shape, const struct cc_query *q);

/*
 * The persons node_id contributes to query q (SPEC 7.3, 8.3 step 1): the
 * persons with an episode in a category of the node's set (every
 * category if the set names none) overlapping the period, each once;
 * with an age breakdown only those whose age on the last day of the
 * period falls in a band (attribute = the band index), else age_band
 * CC_ATTR_AGE_NONE; sex 1/2 with a sex breakdown, else 0.
 *
 * on_count (may be NULL) gets the number of candidates first (an upper
 * bound of the calls to come); on_person gets each selected person's
 * pseudonym P and attribute values. A non-zero return from either stops
 * and is returned. key_fp is the fingerprint of the key the caller holds
 * (CC_ERR_STATE if the store's rows are under another: the key was
 * rotated meanwhile). CC_ERR_INVALID_ARGUMENT if node_id is in no set.
 */
typedef int (*cc_steps_person_fn)(void *ctx, const uint8_t p[CC_ELEMENT_BYTES],
    const struct cc_attr *a);
int cc_steps_each_person(struct cc_store *st, const char *key_fp,
    const struct cc_query *q, const char *node_id,
    int (*on_count)(void *ctx, uint64_t n), cc_steps_person_fn on_person,
    void *ctx, struct cc_diag *diag);

/* What a step wrote: the padded count and D (for the query log, 12.3). */
struct cc_steps_output {
	uint32_t count;
	uint8_t d[CC_SIGN_DIGEST_BYTES];
};

/*
 * The origin step of this node's chain (SPEC 8.3): select, build with s
 * (key) and r, seal to y_pub, sign with signer (whose CN is the node id),
 * into the file out_path. *ret_selected (may be NULL) gets the number of
 * real records, *ret_out the count and D of the batch written. The
 * selected persons are held as 33 bytes each until the batch is written.
 */
int cc_steps_origin(const char *out_path, struct cc_steps_output *ret_out,
    size_t *ret_selected, struct cc_store *st, const struct cc_key *key,
    const struct cc_signer *signer, const struct cc_query *q,
    const uint8_t query_id[CC_BATCH_QUERY_ID_BYTES],
    const uint8_t r[CC_SCALAR_BYTES], const uint8_t y_pub[CC_ELEMENT_BYTES],
    struct cc_diag *diag);

/*
 * The relay step hop (>= 1) of chain (SPEC 8.4) on the input batch in
 * input_path, into the file out_path: verify (8.6) with at most max_count
 * records, relay with r, sign with signer. Nothing is written before the
 * input is verified. On failure *ret_input_bad says whether the input is
 * at fault (the node must report `fail` with diag as the reason) or the
 * node itself (out of memory, a file it cannot read or write: try again
 * later).
 */
int cc_steps_relay(const char *out_path, struct cc_steps_output *ret_out,
    bool *ret_input_bad, const char *input_path, uint32_t max_count,
    const struct cc_trust *trust, const struct cc_signer *signer,
    const struct cc_query *q, const uint8_t query_id[CC_BATCH_QUERY_ID_BYTES],
    uint16_t chain, uint16_t hop, const uint8_t r[CC_SCALAR_BYTES],
    struct cc_diag *diag);

/*
 * The largest file a batch of max_count records can be (input downloads
 * are capped by it).
 */
uint64_t cc_steps_max_batch_bytes(uint32_t max_count);

/*
 * Send the signed batch in the file batch_path as the output of step
 * (chain, hop) of query_id (32 hex): PUT it in parts from offset 0 (which
 * restarts any partial upload), read from the file a part at a time, then
 * POST .../commit with its size and SHA-256 (the file read once more).
 * Returns 0 when every request got an answer: *ret_status is then 204 for
 * an accepted batch, or the first failing status (4xx/5xx; diag has the
 * aggregator's message). CC_ERR_NETWORK / CC_ERR_TIMEOUT: no answer (try
 * again); CC_ERR_IO: the file cannot be read.
 */
int cc_steps_deliver(struct cc_client *c, const char *query_id,
    uint16_t chain, uint16_t hop, const char *batch_path, long *ret_status,
    struct cc_diag *diag);

#endif
