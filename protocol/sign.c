/*
 * crosscount: batch signatures with X.509 node certificates (see sign.h).
 * SPEC.md sections 5.7 and 8.6.
 */
#include "protocol/sign.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "protocol/batch.h"
#include "protocol/error.h"
#include "protocol/file.h"
#include "protocol/limits.h"
#include "protocol/query.h"

/* PEM files are small; anything bigger is not a certificate or a key. */
#define SIGN_PEM_MAX 65536
/* The signed message: context || 0x00 || D. */
#define SIGN_MESSAGE_BYTES (sizeof(CC_SIGN_CONTEXT) - 1 + 1 + CC_SIGN_DIGEST_BYTES)

struct cc_signer {
	EVP_PKEY *key;
	X509 *cert;
	uint8_t *der;
	size_t der_len;
	char node_id[CC_LIMIT_NODE_ID + 1];
};

struct cc_trust {
	X509_STORE *store;
};

/*
 * The subject CN: exactly one, and a valid node id (SPEC 7.2, 14). Its bytes are taken
 * as encoded; a node id is ASCII, so UTF8String and PrintableString agree
 * and any other encoding (BMPString) fails the character check.
 */
static int
cert_node_id(char ret_cn[CC_LIMIT_NODE_ID + 1], X509 *cert)
{
	const X509_NAME *name;
	const ASN1_STRING *data;
	int idx, len;

	memset(ret_cn, 0, CC_LIMIT_NODE_ID + 1);
	if ((name = X509_get_subject_name(cert)) == NULL)
		return CC_ERR_CERTIFICATE;
	idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (idx < 0 ||
	    X509_NAME_get_index_by_NID(name, NID_commonName, idx) >= 0)
		return CC_ERR_CERTIFICATE;
	data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
	if (data == NULL || (len = ASN1_STRING_length(data)) <= 0 ||
	    !cc_query_node_id_valid((const char *)ASN1_STRING_get0_data(data),
	    (size_t)len))
		return CC_ERR_CERTIFICATE;
	memcpy(ret_cn, ASN1_STRING_get0_data(data), (size_t)len);
	return 0;
}

/* SPEC 5.7: Ed25519, or ECDSA on P-256. Returns the digest, NULL for none. */
static int
key_kind(EVP_PKEY *key, const EVP_MD **ret_md)
{
	char group[64];
	size_t glen = 0;

	*ret_md = NULL;
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_ED25519:
		return 0;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_group_name(key, group, sizeof(group),
		    &glen) != 1 || strcmp(group, "prime256v1") != 0)
			return CC_ERR_CERTIFICATE;
		*ret_md = EVP_sha256();
		return 0;
	default:
		return CC_ERR_CERTIFICATE;
	}
}

/* Parse exactly cert_len bytes of DER, nothing more or less. */
static int
cert_from_der(X509 **ret_cert, const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *cert;

	*ret_cert = NULL;
	if (der == NULL || len == 0 || len > CC_LIMIT_CERT_DER)
		return CC_ERR_CERTIFICATE;
	if ((cert = d2i_X509(NULL, &p, (long)len)) == NULL) {
		ERR_clear_error();
		return CC_ERR_CERTIFICATE;
	}
	if (p != der + len) {
		X509_free(cert);
		return CC_ERR_CERTIFICATE;
	}
	*ret_cert = cert;
	return 0;
}

static void
sign_message(uint8_t msg[SIGN_MESSAGE_BYTES],
    const uint8_t digest[CC_SIGN_DIGEST_BYTES])
{
	const size_t clen = sizeof(CC_SIGN_CONTEXT) - 1;

	memcpy(msg, CC_SIGN_CONTEXT, clen);
	msg[clen] = 0x00;
	memcpy(msg + clen + 1, digest, CC_SIGN_DIGEST_BYTES);
}

/* Refuse to prompt for a passphrase: node keys are unencrypted files. */
static int
no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int
cc_signer_from_pem(struct cc_signer **ret_signer, const char *cert_pem,
    size_t cert_len, const char *key_pem, size_t key_len,
    struct cc_diag *diag)
{
	struct cc_signer *s = NULL;
	const EVP_MD *md;
	BIO *bio = NULL;
	unsigned char *p;
	int len, r = CC_ERR_INTERNAL;

	*ret_signer = NULL;
	if (cert_pem == NULL || key_pem == NULL || cert_len > SIGN_PEM_MAX ||
	    key_len > SIGN_PEM_MAX) {
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if ((bio = BIO_new_mem_buf(cert_pem, (int)cert_len)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if ((s->cert = PEM_read_bio_X509(bio, NULL, no_password, NULL)) == NULL) {
		cc_diag_set(diag, "no PEM certificate");
		r = CC_ERR_CERTIFICATE;
		goto out;
	}
	BIO_free(bio);
	if ((bio = BIO_new_mem_buf(key_pem, (int)key_len)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if ((s->key = PEM_read_bio_PrivateKey(bio, NULL, no_password,
	    NULL)) == NULL) {
		cc_diag_set(diag, "no unencrypted PEM private key");
		r = CC_ERR_CRYPTO;
		goto out;
	}
	if (key_kind(s->key, &md) != 0) {
		cc_diag_set(diag, "private key is neither Ed25519 nor P-256");
		r = CC_ERR_CRYPTO;
		goto out;
	}
	if (X509_check_private_key(s->cert, s->key) != 1) {
		cc_diag_set(diag, "private key does not match the certificate");
		r = CC_ERR_CERTIFICATE;
		goto out;
	}
	if (cert_node_id(s->node_id, s->cert) != 0) {
		cc_diag_set(diag, "certificate subject CN is not a node id");
		r = CC_ERR_CERTIFICATE;
		goto out;
	}
	if ((len = i2d_X509(s->cert, NULL)) <= 0 || len > CC_LIMIT_CERT_DER) {
		cc_diag_set(diag, "certificate is larger than %d bytes",
		    CC_LIMIT_CERT_DER);
		r = CC_ERR_CERTIFICATE;
		goto out;
	}
	if ((s->der = malloc((size_t)len)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	p = s->der;
	if (i2d_X509(s->cert, &p) != len) {
		r = CC_ERR_CRYPTO;
		goto out;
	}
	s->der_len = (size_t)len;
	*ret_signer = s;
	s = NULL;
	r = 0;
out:
	ERR_clear_error();
	BIO_free(bio);
	cc_signer_free(s);
	return r;
}

int
cc_signer_load(struct cc_signer **ret_signer, const char *cert_path,
    const char *key_path, struct cc_diag *diag)
{
	uint8_t *cert = NULL, *key = NULL;
	size_t cert_len = 0, key_len = 0;
	int r = CC_ERR_INTERNAL;

	*ret_signer = NULL;
	if (cert_path == NULL || key_path == NULL) {
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if ((r = cc_file_read_all(cert_path, SIGN_PEM_MAX, 0, &cert, &cert_len,
	    diag)) != 0 ||
	    (r = cc_file_read_all(key_path, SIGN_PEM_MAX, 0, &key, &key_len,
	    diag)) != 0)
		goto out;
	r = cc_signer_from_pem(ret_signer, (const char *)cert, cert_len,
	    (const char *)key, key_len, diag);
	if (r != 0)
		cc_diag_prefix(diag, "%s: ", cert_path);
out:
	if (cert != NULL)
		cc_file_free(cert, cert_len + 1);
	if (key != NULL)
		cc_file_free(key, key_len + 1);
	return r;
}

void
cc_signer_free(struct cc_signer *s)
{
	if (s == NULL)
		return;
	EVP_PKEY_free(s->key);
	X509_free(s->cert);
	free(s->der);
	free(s);
}

const char *
cc_signer_node_id(const struct cc_signer *s)
{
	return s->node_id;
}

void
cc_signer_cert_der(const struct cc_signer *s, const uint8_t **ret_der,
    size_t *ret_len)
{
	*ret_der = s->der;
	*ret_len = s->der_len;
}

int
cc_trust_from_pem(struct cc_trust **ret_trust, const char *ca_pem,
    size_t ca_len, struct cc_diag *diag)
{
	struct cc_trust *t = NULL;
	BIO *bio = NULL;
	X509 *cert = NULL;
	unsigned n = 0;
	int r = CC_ERR_INTERNAL;

	*ret_trust = NULL;
	if (ca_pem == NULL || ca_len > SIGN_PEM_MAX) {
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->store = X509_STORE_new()) == NULL ||
	    (bio = BIO_new_mem_buf(ca_pem, (int)ca_len)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	while ((cert = PEM_read_bio_X509(bio, NULL, no_password, NULL)) != NULL) {
		if (X509_check_ca(cert) == 0) {
			cc_diag_set(diag, "CA file holds a certificate that is "
			    "not a CA");
			r = CC_ERR_CERTIFICATE;
			goto out;
		}
		if (X509_STORE_add_cert(t->store, cert) != 1) {
			r = CC_ERR_CRYPTO;
			goto out;
		}
		X509_free(cert);
		cert = NULL;
		n++;
	}
	if (n == 0) {
		cc_diag_set(diag, "no PEM CA certificate");
		r = CC_ERR_CERTIFICATE;
		goto out;
	}
	*ret_trust = t;
	t = NULL;
	r = 0;
out:
	ERR_clear_error();
	X509_free(cert);
	BIO_free(bio);
	cc_trust_free(t);
	return r;
}

int
cc_trust_load(struct cc_trust **ret_trust, const char *ca_path,
    struct cc_diag *diag)
{
	uint8_t *pem = NULL;
	size_t len = 0;
	int r;

	*ret_trust = NULL;
	if (ca_path == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = cc_file_read_all(ca_path, SIGN_PEM_MAX, 0, &pem, &len,
	    diag)) != 0)
		return r;
	if ((r = cc_trust_from_pem(ret_trust, (const char *)pem, len,
	    diag)) != 0)
		cc_diag_prefix(diag, "%s: ", ca_path);
	cc_file_free(pem, len + 1);
	return r;
}

void
cc_trust_free(struct cc_trust *t)
{
	if (t == NULL)
		return;
	X509_STORE_free(t->store);
	free(t);
}

/* SPEC 5.7: sign context || 0x00 || D. */
int
cc_sign_digest(const struct cc_signer *s,
    const uint8_t digest[CC_SIGN_DIGEST_BYTES], uint8_t *ret_sig,
    size_t *ret_sig_len)
{
	uint8_t msg[SIGN_MESSAGE_BYTES];
	EVP_MD_CTX *ctx = NULL;
	const EVP_MD *md;
	size_t len = 0;
	int r = CC_ERR_INTERNAL;

	*ret_sig_len = 0;
	if (s == NULL || digest == NULL || ret_sig == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	sign_message(msg, digest);
	if (key_kind(s->key, &md) != 0) {
		r = CC_ERR_CRYPTO;
		goto out;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if (EVP_DigestSignInit(ctx, NULL, md, NULL, s->key) != 1 ||
	    EVP_DigestSign(ctx, NULL, &len, msg, sizeof(msg)) != 1 ||
	    len == 0 || len > CC_LIMIT_SIGNATURE ||
	    EVP_DigestSign(ctx, ret_sig, &len, msg, sizeof(msg)) != 1) {
		r = CC_ERR_CRYPTO;
		goto out;
	}
	*ret_sig_len = len;
	r = 0;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	return r;
}

/*
 * The signature over the signed message (SPEC 5.7) under the key of cert,
 * whose CN (for messages) is cn. Nothing about the certificate itself is
 * checked here.
 */
static int
verify_under_cert(X509 *cert, const char *cn, const uint8_t *sig,
    size_t sig_len, const uint8_t digest[CC_SIGN_DIGEST_BYTES],
    struct cc_diag *diag)
{
	uint8_t msg[SIGN_MESSAGE_BYTES];
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY *pub;
	const EVP_MD *md;
	int r = CC_ERR_INTERNAL;

	if ((pub = X509_get0_pubkey(cert)) == NULL ||
	    key_kind(pub, &md) != 0) {
		cc_diag_set(diag, "signer key is neither Ed25519 nor P-256");
		r = CC_ERR_CERTIFICATE;
		goto out;
	}
	if (sig_len == 0 || sig_len > CC_LIMIT_SIGNATURE) {
		cc_diag_set(diag, "signature of %zu bytes", sig_len);
		r = CC_ERR_SIGNATURE;
		goto out;
	}
	sign_message(msg, digest);
	if ((mctx = EVP_MD_CTX_new()) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if (EVP_DigestVerifyInit(mctx, NULL, md, NULL, pub) != 1) {
		r = CC_ERR_CRYPTO;
		goto out;
	}
	if (EVP_DigestVerify(mctx, sig, sig_len, msg, sizeof(msg)) != 1) {
		cc_diag_set(diag, "signature by '%s' does not verify", cn);
		r = CC_ERR_SIGNATURE;
		goto out;
	}
	r = 0;
out:
	EVP_MD_CTX_free(mctx);
	return r;
}

/*
 * SPEC 8.6: the certificate first (exact DER, chain to the federation CA,
 * not a CA itself, digitalSignature if key usage is present, the expected
 * CN), then the signature under its key.
 */
int
cc_sign_verify_digest(const struct cc_trust *trust, const uint8_t *cert_der,
    size_t cert_len, const uint8_t *sig, size_t sig_len,
    const uint8_t digest[CC_SIGN_DIGEST_BYTES], const char *expected_node_id,
    struct cc_diag *diag)
{
	char cn[CC_LIMIT_NODE_ID + 1];
	X509 *cert = NULL;
	X509_STORE_CTX *sctx = NULL;
	uint32_t ku;
	int r = CC_ERR_INTERNAL;

	if (trust == NULL || digest == NULL || expected_node_id == NULL ||
	    (sig == NULL && sig_len > 0)) {
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if (cert_from_der(&cert, cert_der, cert_len) != 0) {
		cc_diag_set(diag, "signer certificate does not parse");
		r = CC_ERR_CERTIFICATE;
		goto out;
	}
	if ((sctx = X509_STORE_CTX_new()) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if (X509_STORE_CTX_init(sctx, trust->store, cert, NULL) != 1) {
		r = CC_ERR_CRYPTO;
		goto out;
	}
	if (X509_verify_cert(sctx) != 1) {
		cc_diag_set(diag, "signer certificate does not chain to the "
		    "federation CA: %s", X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(sctx)));
		r = CC_ERR_CERTIFICATE;
		goto out;
	}
	if (X509_check_ca(cert) != 0) {
		cc_diag_set(diag, "signer certificate is a CA certificate");
		r = CC_ERR_CERTIFICATE;
		goto out;
	}
	ku = X509_get_key_usage(cert);
	if (ku != UINT32_MAX && (ku & KU_DIGITAL_SIGNATURE) == 0) {
		cc_diag_set(diag, "signer certificate does not allow "
		    "digital signatures");
		r = CC_ERR_CERTIFICATE;
		goto out;
	}
	if (cert_node_id(cn, cert) != 0) {
		cc_diag_set(diag, "signer certificate subject CN is not a "
		    "node id");
		r = CC_ERR_CERTIFICATE;
		goto out;
	}
	if (strcmp(cn, expected_node_id) != 0) {
		cc_diag_set(diag, "signed by '%s', expected '%.32s'", cn,
		    expected_node_id);
		r = CC_ERR_CERTIFICATE;
		goto out;
	}
	if ((r = verify_under_cert(cert, cn, sig, sig_len, digest, diag)) != 0)
		goto out;
	r = 0;
out:
	ERR_clear_error();
	X509_STORE_CTX_free(sctx);
	X509_free(cert);
	return r;
}

int
cc_sign_verify_digest_key_only(const uint8_t *cert_der, size_t cert_len,
    const uint8_t *sig, size_t sig_len,
    const uint8_t digest[CC_SIGN_DIGEST_BYTES], struct cc_diag *diag)
{
	char cn[CC_LIMIT_NODE_ID + 1] = "?";
	X509 *cert = NULL;
	int r;

	if (digest == NULL || (sig == NULL && sig_len > 0))
		return CC_ERR_INVALID_ARGUMENT;
	if (cert_from_der(&cert, cert_der, cert_len) != 0) {
		cc_diag_set(diag, "signer certificate does not parse");
		return CC_ERR_CERTIFICATE;
	}
	(void)cert_node_id(cn, cert);
	r = verify_under_cert(cert, cn, sig, sig_len, digest, diag);
	ERR_clear_error();
	X509_free(cert);
	return r;
}

int
cc_sign_batch(struct cc_batch *b, const struct cc_signer *s,
    struct cc_diag *diag)
{
	uint8_t d[CC_SIGN_DIGEST_BYTES], sig[CC_LIMIT_SIGNATURE];
	size_t sig_len = 0;
	int r;

	if (b == NULL || s == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	cc_batch_digest(b, d);
	if ((r = cc_sign_digest(s, d, sig, &sig_len)) != 0) {
		cc_diag_set(diag, "cannot sign the batch");
		return r;
	}
	return cc_batch_set_trailer(b, s->der, s->der_len, sig, sig_len);
}

int
cc_sign_batch_verify(const struct cc_batch *b, const struct cc_trust *trust,
    const char *expected_node_id, struct cc_diag *diag)
{
	uint8_t d[CC_SIGN_DIGEST_BYTES];
	const uint8_t *cert, *sig;
	size_t cert_len, sig_len;
	int r;

	if (b == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = cc_batch_trailer(b, &cert, &cert_len, &sig, &sig_len)) != 0) {
		cc_diag_set(diag, "batch is not signed");
		return CC_ERR_SIGNATURE;
	}
	cc_batch_digest(b, d);
	return cc_sign_verify_digest(trust, cert, cert_len, sig, sig_len, d,
	    expected_node_id, diag);
}

int
cc_sign_cert_cn(char ret_cn[CC_LIMIT_NODE_ID + 1], const uint8_t *cert_der,
    size_t cert_len)
{
	X509 *cert = NULL;
	int r;

	memset(ret_cn, 0, CC_LIMIT_NODE_ID + 1);
	if ((r = cert_from_der(&cert, cert_der, cert_len)) != 0)
		return r;
	r = cert_node_id(ret_cn, cert);
	X509_free(cert);
	return r;
}
