/*
 * crosscount: reading a batch file in chunks (see batch_stream.h).
 */
#include "protocol/batch_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "protocol/buf.h"
#include "protocol/file.h"
#include "protocol/limits.h"

struct cc_batch_stream {
	int fd;
	bool check_elements;
	bool spent;                    /* a call failed, or D was taken */
	struct cc_batch_header h;
	uint8_t *refs;                 /* nrefs * CC_BATCH_REF_BYTES */
	uint8_t *chunk;                /* CC_BATCH_STREAM_RECORDS records */
	uint8_t trailer[CC_BATCH_TRAILER_MAX];
	size_t trailer_len;
	off_t file_size;
	off_t off;                     /* of the next record to read */
	uint32_t next;                 /* index of the next record */
	crypto_hash_sha256_state sha;
};

/* Exactly len bytes at off; a short file is CC_ERR_IO (it changed). */
static int
read_at(int fd, void *buf, size_t len, off_t off, struct cc_diag *diag)
{
	if (cc_file_pread_all(fd, buf, len, off) == 0)
		return 0;
	if (errno == EIO)
		cc_diag_set(diag, "the batch file changed while it was read");
	else
		cc_diag_set(diag, "cannot read the batch: %s", strerror(errno));
	return CC_ERR_IO;
}

void
cc_batch_stream_free(struct cc_batch_stream *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->refs != NULL) {
		sodium_memzero(s->refs, (size_t)s->h.nrefs * CC_BATCH_REF_BYTES);
		free(s->refs);
	}
	if (s->chunk != NULL) {
		sodium_memzero(s->chunk, (size_t)CC_BATCH_STREAM_RECORDS *
		    CC_BATCH_RECORD_BYTES);
		free(s->chunk);
	}
	sodium_memzero(s, sizeof(*s));
	free(s);
}

/* SPEC 8.1 in cc_batch_parse's order: header, trailer, references. */
static int
stream_start(struct cc_batch_stream *s, uint32_t max_count,
    struct cc_diag *diag)
{
	uint8_t header[CC_BATCH_HEADER_BYTES];
	size_t body, refs_len;
	off_t size = s->file_size;
	int r;

	if (size < CC_BATCH_HEADER_BYTES) {
		cc_diag_set(diag, "batch header truncated");
		return CC_ERR_TRUNCATED;
	}
	if ((r = read_at(s->fd, header, sizeof(header), 0, diag)) != 0 ||
	    (r = cc_batch_header_parse(&s->h, header, max_count, diag)) != 0)
		return r;
	body = cc_batch_body_bytes(&s->h);
	if ((uintmax_t)size < body) {
		cc_diag_set(diag, "batch truncated: %jd bytes", (intmax_t)size);
		return CC_ERR_TRUNCATED;
	}
	if ((uintmax_t)size - body > CC_BATCH_TRAILER_MAX) {
		cc_diag_set(diag, "%ju bytes after the batch body, a trailer "
		    "is at most %u", (uintmax_t)size - body,
		    (unsigned)CC_BATCH_TRAILER_MAX);
		return CC_ERR_TRAILING_DATA;
	}
	s->trailer_len = (size_t)((uintmax_t)size - body);
	if ((r = read_at(s->fd, s->trailer, s->trailer_len, (off_t)body,
	    diag)) != 0 ||
	    (r = cc_batch_trailer_validate(s->trailer, s->trailer_len,
	    diag)) != 0)
		return r;
	refs_len = (size_t)s->h.nrefs * CC_BATCH_REF_BYTES;
	if ((s->refs = malloc(refs_len)) == NULL ||
	    (s->chunk = malloc((size_t)CC_BATCH_STREAM_RECORDS *
	    CC_BATCH_RECORD_BYTES)) == NULL)
		return CC_ERR_ALLOC;
	if ((r = read_at(s->fd, s->refs, refs_len, CC_BATCH_HEADER_BYTES,
	    diag)) != 0 ||
	    (r = cc_batch_refs_validate(s->refs, s->h.nrefs, diag)) != 0)
		return r;
	crypto_hash_sha256_init(&s->sha);
	crypto_hash_sha256_update(&s->sha, header, sizeof(header));
	crypto_hash_sha256_update(&s->sha, s->refs, refs_len);
	s->off = (off_t)(CC_BATCH_HEADER_BYTES + refs_len);
	return 0;
}

int
cc_batch_stream_open(struct cc_batch_stream **ret_s, const char *path,
    uint32_t max_count, bool check_elements, struct cc_diag *diag)
{
	struct cc_batch_stream *s = NULL;
	struct stat st;
	int r = CC_ERR_INTERNAL;

	if (ret_s == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_s = NULL;
	if (path == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return CC_ERR_ALLOC;
	s->check_elements = check_elements;
	if ((s->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		cc_diag_set(diag, "cannot open the batch: %s", strerror(errno));
		r = CC_ERR_IO;
		goto out;
	}
	if (fstat(s->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		cc_diag_set(diag, "the batch is not a regular file");
		r = CC_ERR_IO;
		goto out;
	}
	s->file_size = st.st_size;
	if ((r = stream_start(s, max_count, diag)) != 0)
		goto out;
	*ret_s = s;
	s = NULL;
	r = 0;
out:
	cc_batch_stream_free(s);
	return r;
}

const struct cc_batch_header *
cc_batch_stream_header(const struct cc_batch_stream *s)
{
	return &s->h;
}

const uint8_t *
cc_batch_stream_refs(const struct cc_batch_stream *s)
{
	return s->refs;
}

int
cc_batch_stream_next(struct cc_batch_stream *s, const uint8_t **ret_records,
    size_t *ret_n, size_t *ret_first, struct cc_diag *diag)
{
	size_t n, len;
	int r;

	if (ret_records == NULL || ret_n == NULL || ret_first == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_records = NULL;
	*ret_n = 0;
	*ret_first = 0;
	if (s == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if (s->spent)
		return CC_ERR_STATE;
	*ret_first = s->next;
	if (s->next == s->h.count)
		return 0;
	n = s->h.count - s->next;
	if (n > CC_BATCH_STREAM_RECORDS)
		n = CC_BATCH_STREAM_RECORDS;
	len = n * CC_BATCH_RECORD_BYTES;
	sodium_memzero(s->chunk, len);
	if ((r = read_at(s->fd, s->chunk, len, s->off, diag)) != 0 ||
	    (s->check_elements && (r = cc_batch_records_validate(s->chunk, n,
	    s->next, diag)) != 0)) {
		s->spent = true;
		return r;
	}
	crypto_hash_sha256_update(&s->sha, s->chunk, len);
	s->off += (off_t)len;
	s->next += (uint32_t)n;
	*ret_records = s->chunk;
	*ret_n = n;
	return 0;
}

int
cc_batch_stream_end(struct cc_batch_stream *s, uint8_t ret_d[32],
    const uint8_t **ret_cert, size_t *ret_cert_len, const uint8_t **ret_sig,
    size_t *ret_sig_len)
{
	struct cc_reader rd;
	struct stat st;
	uint16_t cert_len, sig_len;

	if (ret_d != NULL)
		memset(ret_d, 0, 32);
	if (ret_cert != NULL)
		*ret_cert = NULL;
	if (ret_sig != NULL)
		*ret_sig = NULL;
	if (ret_cert_len != NULL)
		*ret_cert_len = 0;
	if (ret_sig_len != NULL)
		*ret_sig_len = 0;
	if (s == NULL || ret_d == NULL || ret_cert == NULL ||
	    ret_cert_len == NULL || ret_sig == NULL || ret_sig_len == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if (s->spent || s->next != s->h.count)
		return CC_ERR_STATE;
	/* A file that changed size meanwhile is not the batch we checked. */
	if (fstat(s->fd, &st) != 0 || st.st_size != s->file_size)
		return CC_ERR_IO;
	crypto_hash_sha256_final(&s->sha, ret_d);
	/* The trailer was validated when the stream opened. */
	cc_reader_init(&rd, s->trailer, s->trailer_len);
	if (cc_reader_u16(&rd, &cert_len) != 0 ||
	    cc_reader_ptr(&rd, cert_len, ret_cert) != 0 ||
	    cc_reader_u16(&rd, &sig_len) != 0 ||
	    cc_reader_ptr(&rd, sig_len, ret_sig) != 0)
		return CC_ERR_INTERNAL;
	*ret_cert_len = cert_len;
	*ret_sig_len = sig_len;
	s->spent = true;
	return 0;
}
