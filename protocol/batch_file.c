/*
 * crosscount: a node's batches made straight into files (see
 * batch_file.h). SPEC.md 8.3, 8.4, 8.1, 5.8.
 */
#include "protocol/batch_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "protocol/batch_stream.h"
#include "protocol/buf.h"
#include "protocol/file.h"
#include "protocol/group.h"

#define BATCH_FILE_PATH_MAX 4096
/* Records made or multiplied at a time: the chunked reader's chunk. */
#define BATCH_FILE_CHUNK ((size_t)CC_BATCH_STREAM_RECORDS)
/* Below this many elements one thread is faster than starting more. */
#define BATCH_FILE_PARALLEL_MIN 1024
/* Bytes read back at a time for D. */
#define BATCH_FILE_READ_BACK ((size_t)256 * 1024)

/* The output being written: a temporary file beside its final name. */
struct out_file {
	const char *path;
	char tmp[BATCH_FILE_PATH_MAX];
	int fd;
	bool have_tmp;
	off_t records_off;        /* where record 0 goes */
	size_t body_len;          /* header + references + records */
};

static unsigned
threads_for(size_t elements)
{
	return elements < BATCH_FILE_PARALLEL_MIN ? 1 : 0;
}

/* SPEC 5.8: pi uniform over the permutations of [0, n): Fisher-Yates. */
static int
perm_new(uint32_t **ret_perm, size_t n)
{
	uint32_t *perm, i, j, tmp;

	*ret_perm = NULL;
	/* n <= CC_LIMIT_BATCH_ELEMENTS = 2^24: i + 1 fits 32 bits. */
	if (n > CC_LIMIT_BATCH_ELEMENTS)
		return CC_ERR_LIMIT;
	if ((perm = malloc((n > 0 ? n : 1) * sizeof(*perm))) == NULL)
		return CC_ERR_ALLOC;
	for (i = 0; i < n; i++)
		perm[i] = i;
	for (i = n > 0 ? (uint32_t)n - 1 : 0; i > 0; i--) {
		j = randombytes_uniform(i + 1);
		tmp = perm[i];
		perm[i] = perm[j];
		perm[j] = tmp;
	}
	*ret_perm = perm;
	return 0;
}

/* The permutation says where every real record is: wipe it. */
static void
perm_free(uint32_t *perm, size_t n)
{
	if (perm == NULL)
		return;
	sodium_memzero(perm, (n > 0 ? n : 1) * sizeof(*perm));
	free(perm);
}

static uint8_t *
chunk_new(void)
{
	return malloc(BATCH_FILE_CHUNK * CC_BATCH_RECORD_BYTES);
}

static void
chunk_free(uint8_t *chunk)
{
	if (chunk == NULL)
		return;
	sodium_memzero(chunk, BATCH_FILE_CHUNK * CC_BATCH_RECORD_BYTES);
	free(chunk);
}

/* A new temporary file beside path with the header and references. */
static int
out_open(struct out_file *f, const char *path, const struct cc_batch_header *h,
    const uint8_t *refs, struct cc_diag *diag)
{
	uint8_t header[CC_BATCH_HEADER_BYTES];
	size_t refs_len = (size_t)h->nrefs * CC_BATCH_REF_BYTES;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->path = path;
	f->body_len = cc_batch_body_bytes(h);
	f->records_off = (off_t)(CC_BATCH_HEADER_BYTES + refs_len);
	if (f->body_len == 0 || (size_t)snprintf(f->tmp, sizeof(f->tmp),
	    "%s.XXXXXX", path) >= sizeof(f->tmp)) {
		/* No path here: an origin's refusal reaches the aggregator. */
		cc_diag_set(diag, "the output batch's path is too long");
		return CC_ERR_LIMIT;
	}
	/* mkstemp: O_EXCL, mode 0600 whatever the umask. */
	if ((f->fd = mkstemp(f->tmp)) < 0) {
		cc_diag_set(diag, "%s: %s", f->tmp, strerror(errno));
		return CC_ERR_IO;
	}
	f->have_tmp = true;
	cc_batch_header_write(header, h);
	if (fchmod(f->fd, 0600) != 0 ||
	    cc_file_pwrite_all(f->fd, header, sizeof(header), 0) != 0 ||
	    cc_file_pwrite_all(f->fd, refs, refs_len, CC_BATCH_HEADER_BYTES) != 0) {
		cc_diag_set(diag, "%s: %s", f->tmp, strerror(errno));
		return CC_ERR_IO;
	}
	return 0;
}

/* Records first..first+n-1 of the unshuffled batch, each at pi(i). */
static int
out_put(struct out_file *f, const uint8_t *records, size_t n,
    const uint32_t *perm, size_t first, struct cc_diag *diag)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (cc_file_pwrite_all(f->fd, records + i * CC_BATCH_RECORD_BYTES,
		    CC_BATCH_RECORD_BYTES, f->records_off +
		    (off_t)perm[first + i] * CC_BATCH_RECORD_BYTES) != 0) {
			cc_diag_set(diag, "%s: %s", f->tmp, strerror(errno));
			return CC_ERR_IO;
		}
	return 0;
}

/* D of what was written: the body read back in order (SPEC 8.1). */
static int
out_digest(struct out_file *f, uint8_t ret_d[CC_SIGN_DIGEST_BYTES],
    struct cc_diag *diag)
{
	EVP_MD_CTX *md = NULL;
	struct stat st;
	uint8_t *buf = NULL;
	unsigned int dlen = 0;
	size_t off, n;
	int r = CC_ERR_INTERNAL;

	/* Every position was written once: the body is whole, no hole. */
	if (fstat(f->fd, &st) != 0 || (uintmax_t)st.st_size != f->body_len) {
		cc_diag_set(diag, "%s: not the size of the batch", f->tmp);
		goto out;
	}
	if ((buf = malloc(BATCH_FILE_READ_BACK)) == NULL ||
	    (md = EVP_MD_CTX_new()) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		r = CC_ERR_CRYPTO;
		goto out;
	}
	for (off = 0; off < f->body_len; off += n) {
		n = f->body_len - off < BATCH_FILE_READ_BACK ?
		    f->body_len - off : BATCH_FILE_READ_BACK;
		if (cc_file_pread_all(f->fd, buf, n, (off_t)off) != 0) {
			cc_diag_set(diag, "%s: %s", f->tmp, strerror(errno));
			r = CC_ERR_IO;
			goto out;
		}
		if (EVP_DigestUpdate(md, buf, n) != 1) {
			r = CC_ERR_CRYPTO;
			goto out;
		}
	}
	if (EVP_DigestFinal_ex(md, ret_d, &dlen) != 1 ||
	    dlen != CC_SIGN_DIGEST_BYTES) {
		r = CC_ERR_CRYPTO;
		goto out;
	}
	r = 0;
out:
	if (buf != NULL) {
		sodium_memzero(buf, BATCH_FILE_READ_BACK);
		free(buf);
	}
	EVP_MD_CTX_free(md);
	return r;
}

/*
 * Sign (SPEC 5.7), append the trailer u16 cert_len | cert | u16 sig_len |
 * sig (8.1), make it durable and give it its name.
 */
static int
out_commit(struct out_file *f, const struct cc_signer *signer,
    uint8_t ret_d[CC_SIGN_DIGEST_BYTES], struct cc_diag *diag)
{
	uint8_t d[CC_SIGN_DIGEST_BYTES], trailer[CC_BATCH_TRAILER_MAX];
	const uint8_t *cert;
	size_t cert_len = 0, sig_len = 0;
	int r;

	if ((r = out_digest(f, d, diag)) != 0)
		return r;
	cc_signer_cert_der(signer, &cert, &cert_len);
	if (cert_len == 0 || cert_len > CC_LIMIT_CERT_DER)
		return CC_ERR_INTERNAL;
	if ((r = cc_sign_digest(signer, d, trailer + 4 + cert_len,
	    &sig_len)) != 0) {
		cc_diag_set(diag, "cannot sign the batch");
		return r;
	}
	cc_buf_store_u16(trailer, (uint16_t)cert_len);
	memcpy(trailer + 2, cert, cert_len);
	/* The signature is already in place after the second length. */
	cc_buf_store_u16(trailer + 2 + cert_len, (uint16_t)sig_len);
	if (cc_file_pwrite_all(f->fd, trailer, 4 + cert_len + sig_len,
	    (off_t)f->body_len) != 0 || fsync(f->fd) != 0) {
		cc_diag_set(diag, "%s: %s", f->tmp, strerror(errno));
		return CC_ERR_IO;
	}
	if (close(f->fd) != 0) {
		f->fd = -1;
		cc_diag_set(diag, "%s: %s", f->tmp, strerror(errno));
		return CC_ERR_IO;
	}
	f->fd = -1;
	if (rename(f->tmp, f->path) != 0) {
		cc_diag_set(diag, "%s: %s", f->path, strerror(errno));
		return CC_ERR_IO;
	}
	f->have_tmp = false;
	if ((r = cc_file_sync_parent(f->path, diag)) != 0) {
		/* Not durable: take the name back, so a retry starts clean. */
		(void)cc_file_destroy(f->path, NULL, NULL);
		return r;
	}
	memcpy(ret_d, d, CC_SIGN_DIGEST_BYTES);
	return 0;
}

/* After a failure: nothing of the output may remain. */
static void
out_discard(struct out_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->have_tmp)
		(void)cc_file_destroy(f->tmp, NULL, NULL);
	f->have_tmp = false;
}

int
cc_batch_file_scan(struct cc_batch_file_info *ret_info, const char *path,
    uint32_t max_count, bool check_elements, struct cc_diag *diag)
{
	struct cc_batch_stream *s = NULL;
	struct cc_batch_file_info *info = ret_info;
	const uint8_t *records, *cert, *sig;
	size_t n, first, cert_len, sig_len;
	int r;

	if (info == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	memset(info, 0, sizeof(*info));
	if (path == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = cc_batch_stream_open(&s, path, max_count, check_elements,
	    diag)) != 0)
		goto out;
	info->h = *cc_batch_stream_header(s);
	memcpy(info->refs, cc_batch_stream_refs(s),
	    (size_t)info->h.nrefs * CC_BATCH_REF_BYTES);
	do {
		if ((r = cc_batch_stream_next(s, &records, &n, &first,
		    diag)) != 0)
			goto out;
	} while (n > 0);
	if ((r = cc_batch_stream_end(s, info->d, &cert, &cert_len, &sig,
	    &sig_len)) != 0) {
		cc_diag_set(diag, "the batch file changed while it was read");
		goto out;
	}
	/* Checked by the reader against the same limits. */
	memcpy(info->cert, cert, cert_len);
	info->cert_len = cert_len;
	memcpy(info->sig, sig, sig_len);
	info->sig_len = sig_len;
	r = 0;
out:
	if (r != 0)
		memset(info, 0, sizeof(*info));
	cc_batch_stream_free(s);
	return r;
}

int
cc_batch_file_origin(const char *path, struct cc_batch_origin *o,
    const uint8_t s[CC_SCALAR_BYTES], const uint8_t r[CC_SCALAR_BYTES],
    const uint8_t y_pub[CC_ELEMENT_BYTES], const struct cc_signer *signer,
    uint32_t *ret_count, uint8_t ret_d[CC_SIGN_DIGEST_BYTES],
    struct cc_diag *diag)
{
	struct out_file f = { .fd = -1 };
	struct cc_batch_header h;
	uint32_t *perm = NULL;
	uint8_t *chunk = NULL;
	size_t first, n;
	int ret;

	if (ret_count != NULL)
		*ret_count = 0;
	if (ret_d != NULL)
		memset(ret_d, 0, CC_SIGN_DIGEST_BYTES);
	if (path == NULL || o == NULL || signer == NULL || ret_count == NULL ||
	    ret_d == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	memset(&h, 0, sizeof(h));
	/* SPEC 8.3 steps 2, 3, 7; 8.5 the padded size. */
	if ((ret = cc_batch_origin_prepare(o, s, r, y_pub, &h, diag)) != 0)
		goto out;
	/* Step 6: the shuffle, as positions drawn up front (5.8). */
	if ((ret = perm_new(&perm, h.count)) != 0 ||
	    (chunk = chunk_new()) == NULL) {
		ret = ret != 0 ? ret : CC_ERR_ALLOC;
		goto out;
	}
	if ((ret = out_open(&f, path, &h, cc_batch_origin_refs(o), diag)) != 0)
		goto out;
	/* Steps 2, 4, 5 a chunk at a time: real records, then dummies. */
	for (first = 0; first < h.count; first += n) {
		n = h.count - first < BATCH_FILE_CHUNK ? h.count - first :
		    BATCH_FILE_CHUNK;
		if ((ret = cc_batch_origin_records(o, first, n, chunk,
		    diag)) != 0 ||
		    (ret = out_put(&f, chunk, n, perm, first, diag)) != 0)
			goto out;
	}
	/* Step 8: sign, holding nothing of the records any more. */
	perm_free(perm, h.count);
	perm = NULL;
	chunk_free(chunk);
	chunk = NULL;
	if ((ret = out_commit(&f, signer, ret_d, diag)) != 0)
		goto out;
	*ret_count = h.count;
	ret = 0;
out:
	if (ret != 0)
		out_discard(&f);
	perm_free(perm, h.count);
	chunk_free(chunk);
	return ret;
}

int
cc_batch_file_relay(const char *out_path, const char *in_path,
    uint32_t max_count, const uint8_t in_d[CC_SIGN_DIGEST_BYTES],
    const uint8_t r[CC_SCALAR_BYTES], const struct cc_signer *signer,
    uint8_t ret_d[CC_SIGN_DIGEST_BYTES], struct cc_diag *diag)
{
	struct out_file f = { .fd = -1 };
	struct cc_batch_stream *s = NULL;
	struct cc_batch_header h;
	uint8_t refs[CC_LIMIT_BATCH_REFS * CC_BATCH_REF_BYTES];
	uint8_t d[CC_SIGN_DIGEST_BYTES];
	const uint8_t *records, *cert, *sig;
	uint32_t *perm = NULL;
	uint8_t *chunk = NULL;
	size_t n, first, bad = 0, cert_len, sig_len;
	int ret;

	if (ret_d != NULL)
		memset(ret_d, 0, CC_SIGN_DIGEST_BYTES);
	if (out_path == NULL || in_path == NULL || in_d == NULL ||
	    r == NULL || signer == NULL || ret_d == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	memset(&h, 0, sizeof(h));
	if (cc_group_scalar_check(r) != 0)
		return CC_ERR_SCALAR;
	/* The records' elements are checked by the multiplication below. */
	if ((ret = cc_batch_stream_open(&s, in_path, max_count, false,
	    diag)) != 0)
		goto out;
	h = *cc_batch_stream_header(s);
	if (h.hop + 1 >= h.nodes) {
		cc_diag_set(diag, "hop %u of %u nodes is final", h.hop,
		    h.nodes);
		ret = CC_ERR_STATE;
		goto out;
	}
	/* SPEC 8.4 steps 2 (references) and 4. */
	memcpy(refs, cc_batch_stream_refs(s),
	    (size_t)h.nrefs * CC_BATCH_REF_BYTES);
	if ((ret = cc_group_mult_many(refs + CC_ATTR_BYTES, h.nrefs,
	    CC_BATCH_REF_BYTES, r, 1, &bad)) != 0) {
		cc_diag_set(diag, "attribute reference %zu: invalid element",
		    bad);
		goto out;
	}
	h.hop++;
	/* Step 3: the shuffle, as positions drawn up front (5.8). */
	if ((ret = perm_new(&perm, h.count)) != 0 ||
	    (chunk = chunk_new()) == NULL) {
		ret = ret != 0 ? ret : CC_ERR_ALLOC;
		goto out;
	}
	if ((ret = out_open(&f, out_path, &h, refs, diag)) != 0)
		goto out;
	/*
	 * Step 2 on the records a chunk at a time: token, A and B are three
	 * consecutive elements of every record, so a chunk is one run of
	 * 3n elements 32 bytes apart.
	 */
	for (;;) {
		if ((ret = cc_batch_stream_next(s, &records, &n, &first,
		    diag)) != 0)
			goto out;
		if (n == 0)
			break;
		memcpy(chunk, records, n * CC_BATCH_RECORD_BYTES);
		if ((ret = cc_group_mult_many(chunk, 3 * n, CC_ELEMENT_BYTES, r,
		    threads_for(3 * n), &bad)) != 0) {
			if (ret == CC_ERR_POINT)
				cc_diag_set(diag, "record %zu: invalid element",
				    first + bad / 3);
			goto out;
		}
		if ((ret = out_put(&f, chunk, n, perm, first, diag)) != 0)
			goto out;
	}
	/* What was relayed is what was verified. */
	if (cc_batch_stream_end(s, d, &cert, &cert_len, &sig, &sig_len) != 0 ||
	    memcmp(d, in_d, sizeof(d)) != 0) {
		cc_diag_set(diag, "the input batch changed since it was "
		    "verified");
		ret = CC_ERR_IO;
		goto out;
	}
	/* Step 5: sign, holding nothing of the records any more. */
	cc_batch_stream_free(s);
	s = NULL;
	perm_free(perm, h.count);
	perm = NULL;
	chunk_free(chunk);
	chunk = NULL;
	if ((ret = out_commit(&f, signer, ret_d, diag)) != 0)
		goto out;
	ret = 0;
out:
	if (ret != 0)
		out_discard(&f);
	cc_batch_stream_free(s);
	perm_free(perm, h.count);
	chunk_free(chunk);
	sodium_memzero(refs, sizeof(refs));
	return ret;
}
