/*
 * crosscount: a node's batches made straight into files (SPEC.md 8.3,
 * 8.4, 8.1, 5.8), never held whole: memory stays at a chunk of records
 * plus a 4-byte index per record, however large the batch.
 *
 * Both steps draw a uniformly random permutation pi of the output's
 * records (Fisher-Yates over an index array with randombytes_uniform,
 * SPEC 5.8) and write record i of the unshuffled output at position
 * pi(i): the same distribution as shuffling the records in memory. The
 * output goes to a temporary file beside path (path.XXXXXX, mode 0600);
 * once every record is in place its body is read back for D, signed
 * (5.7), the trailer appended, the file fsync'ed and renamed over path,
 * and the directory fsync'ed. On any error the temporary file is
 * overwritten with zeros and removed: path never holds a partial batch.
 * Records, points and the index array are wiped before they are freed.
 */
#ifndef CC_BATCH_FILE_H
#define CC_BATCH_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/batch.h"
#include "protocol/error.h"
#include "protocol/limits.h"
#include "protocol/sign.h"

/* What one pass over a batch file found. */
struct cc_batch_file_info {
	struct cc_batch_header h;       /* checked (cc_batch_header_parse) */
	uint8_t refs[CC_LIMIT_BATCH_REFS * CC_BATCH_REF_BYTES]; /* h.nrefs */
	uint8_t d[CC_SIGN_DIGEST_BYTES];                        /* D */
	uint8_t cert[CC_LIMIT_CERT_DER];                        /* trailer */
	size_t cert_len;
	uint8_t sig[CC_LIMIT_SIGNATURE];
	size_t sig_len;
};

/*
 * Read the batch at path once with the chunked reader (batch_stream.h):
 * the exact parse of SPEC 8.1 with at most max_count records (the
 * records' elements only with check_elements), D, and the trailer for
 * cc_sign_verify_digest. The errors of cc_batch_stream_open/next.
 */
int cc_batch_file_scan(struct cc_batch_file_info *ret_info, const char *path,
    uint32_t max_count, bool check_elements, struct cc_diag *diag);

/*
 * The origin step to a file (SPEC 8.3, 8.5): prepare the builder o (its
 * persons added; cc_batch_origin_prepare), make its records a chunk at a
 * time on every core and write each at its permuted position, sign with
 * signer. *ret_count gets the padded count, ret_d the batch's D. The
 * builder is spent afterwards (batch.h): free it.
 */
int cc_batch_file_origin(const char *path, struct cc_batch_origin *o,
    const uint8_t s[CC_SCALAR_BYTES], const uint8_t r[CC_SCALAR_BYTES],
    const uint8_t y_pub[CC_ELEMENT_BYTES], const struct cc_signer *signer,
    uint32_t *ret_count, uint8_t ret_d[CC_SIGN_DIGEST_BYTES],
    struct cc_diag *diag);

/*
 * The relay step from file to file (SPEC 8.4) on an input the caller has
 * verified (8.6 items 1-5: cc_batch_file_scan without the element
 * checks, the signature over in_d, header, references): read it again in
 * chunks, multiply every token, A and B by r on every core (which checks
 * each element, SPEC 5.5: a bad one is CC_ERR_POINT "record N: invalid
 * element", the input's fault), write record i at position pi(i); the
 * references multiplied by r, hop + 1, every other header field as the
 * input's; sign with signer. The input's D must still be in_d
 * (CC_ERR_IO if the file changed since it was verified). ret_d gets the
 * output's D. CC_ERR_STATE if the input is already final.
 */
int cc_batch_file_relay(const char *out_path, const char *in_path,
    uint32_t max_count, const uint8_t in_d[CC_SIGN_DIGEST_BYTES],
    const uint8_t r[CC_SCALAR_BYTES], const struct cc_signer *signer,
    uint8_t ret_d[CC_SIGN_DIGEST_BYTES], struct cc_diag *diag);

#endif
