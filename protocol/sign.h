/*
 * crosscount: batch signatures with the nodes' X.509 certificates
 * (OpenSSL EVP). SPEC.md sections 5.7 (signatures) and 8.6 (verification).
 *
 * A batch is signed over
 *     "crosscount-v1-batch-signature" || 0x00 || D
 * (D = cc_batch_digest, 32 bytes) with the private key of the producing
 * node's certificate: Ed25519 (pure, no pre-hash) or ECDSA P-256 with
 * SHA-256 (DER signature). The signer's certificate (DER) travels in the
 * batch trailer. A receiver accepts a batch only if the signature verifies
 * under that certificate, the certificate chains to the federation CA, its
 * key usage (if present) allows digitalSignature, and its subject CN is
 * exactly the node id expected at that hop.
 *
 * Errors: CC_ERR_SIGNATURE when the signature does not verify;
 * CC_ERR_CERTIFICATE when the certificate is malformed, does not chain to
 * the CA, has the wrong key usage or names another node (diag says which:
 * "signed by 'soc2', expected 'bup'").
 */
#ifndef CC_SIGN_H
#define CC_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/batch.h"
#include "protocol/error.h"
#include "protocol/limits.h"

#define CC_SIGN_CONTEXT "crosscount-v1-batch-signature"
#define CC_SIGN_DIGEST_BYTES 32

/* A node's signing identity: its certificate and private key. */
struct cc_signer;

/*
 * Load from PEM: the certificate and an unencrypted private key (Ed25519
 * or EC P-256) that must match it. CC_ERR_CERTIFICATE for a bad or
 * mismatched certificate, CC_ERR_CRYPTO for a bad key, CC_ERR_IO for a
 * file that cannot be read. The certificate's CN must be a valid node id.
 */
int cc_signer_load(struct cc_signer **ret_signer, const char *cert_path,
    const char *key_path, struct cc_diag *diag);
int cc_signer_from_pem(struct cc_signer **ret_signer, const char *cert_pem,
    size_t cert_len, const char *key_pem, size_t key_len,
    struct cc_diag *diag);
/* Frees (the key is freed by OpenSSL, which clears it); NULL is allowed. */
void cc_signer_free(struct cc_signer *s);
/* The subject CN of the signer's certificate (the node id). */
const char *cc_signer_node_id(const struct cc_signer *s);
/* The certificate, DER, borrowed. */
void cc_signer_cert_der(const struct cc_signer *s, const uint8_t **ret_der,
    size_t *ret_len);

/* The federation CA that every node certificate must chain to. */
struct cc_trust;

int cc_trust_load(struct cc_trust **ret_trust, const char *ca_path,
    struct cc_diag *diag);
/* One or more PEM CA certificates (all are trusted roots). */
int cc_trust_from_pem(struct cc_trust **ret_trust, const char *ca_pem,
    size_t ca_len, struct cc_diag *diag);
void cc_trust_free(struct cc_trust *t);

/*
 * Sign a 32-byte digest: ret_sig holds CC_LIMIT_SIGNATURE bytes,
 * *ret_sig_len gets the length.
 */
int cc_sign_digest(const struct cc_signer *s,
    const uint8_t digest[CC_SIGN_DIGEST_BYTES], uint8_t *ret_sig,
    size_t *ret_sig_len);

/*
 * Verify sig over digest by the certificate cert_der (exact DER, bounded
 * by CC_LIMIT_CERT_DER), which must chain to trust and name
 * expected_node_id as its subject CN.
 */
int cc_sign_verify_digest(const struct cc_trust *trust,
    const uint8_t *cert_der, size_t cert_len, const uint8_t *sig,
    size_t sig_len, const uint8_t digest[CC_SIGN_DIGEST_BYTES],
    const char *expected_node_id, struct cc_diag *diag);

/*
 * For inspection tools only: whether sig is a valid signature of digest
 * under the key in cert_der, WITHOUT checking the certificate in any way
 * (no chain, no CN, no key usage). It says nothing about who signed:
 * protocol code must use cc_sign_verify_digest / cc_sign_batch_verify.
 */
int cc_sign_verify_digest_key_only(const uint8_t *cert_der, size_t cert_len,
    const uint8_t *sig, size_t sig_len,
    const uint8_t digest[CC_SIGN_DIGEST_BYTES], struct cc_diag *diag);

/* Sign batch b (its digest) and set its trailer to (cert, signature). */
int cc_sign_batch(struct cc_batch *b, const struct cc_signer *s,
    struct cc_diag *diag);

/* Verify batch b's trailer against its digest (cc_sign_verify_digest). */
int cc_sign_batch_verify(const struct cc_batch *b,
    const struct cc_trust *trust, const char *expected_node_id,
    struct cc_diag *diag);

/*
 * The subject CN of a DER certificate WITHOUT any verification (for
 * `crosscount-proto inspect`). ret_cn gets a NUL-terminated string of at
 * most CC_LIMIT_NODE_ID bytes; CC_ERR_CERTIFICATE if the DER does not
 * parse exactly or the CN is missing, not a valid node id, or repeated.
 */
int cc_sign_cert_cn(char ret_cn[CC_LIMIT_NODE_ID + 1], const uint8_t *cert_der,
    size_t cert_len);

#endif
