/*
 * crosscount: the bounded reader and writer for every untrusted byte
 * (OpenSSH sshbuf style).
 *
 * A struct cc_reader walks a borrowed byte span. Every getter checks the
 * remaining length before it reads and leaves the reader unchanged on
 * error. Integers are big-endian. A message is parsed by a sequence of
 * getters that ends with cc_reader_done(), which fails if bytes remain.
 *
 * A struct cc_buf is a growable output buffer with a hard size cap; its
 * contents are wiped when it is freed or reset.
 */
#ifndef CC_BUF_H
#define CC_BUF_H

#include <stddef.h>
#include <stdint.h>

struct cc_reader {
	const uint8_t *data;
	size_t len;
	size_t off;
};

void cc_reader_init(struct cc_reader *r, const void *data, size_t len);
size_t cc_reader_remaining(const struct cc_reader *r);

int cc_reader_u8(struct cc_reader *r, uint8_t *ret_v);
int cc_reader_u16(struct cc_reader *r, uint16_t *ret_v);
int cc_reader_u32(struct cc_reader *r, uint32_t *ret_v);
int cc_reader_u64(struct cc_reader *r, uint64_t *ret_v);
/* Copy n bytes out. */
int cc_reader_bytes(struct cc_reader *r, void *out, size_t n);
/* Borrow n bytes: *ret_p points into the reader's span. */
int cc_reader_ptr(struct cc_reader *r, size_t n, const uint8_t **ret_p);
int cc_reader_skip(struct cc_reader *r, size_t n);
/*
 * A u16 length, then that many bytes, at most max; the bytes may not
 * contain NUL. Borrowed like cc_reader_ptr (not NUL-terminated).
 */
int cc_reader_string16(struct cc_reader *r, size_t max,
    const uint8_t **ret_p, size_t *ret_len);
/* 0 if every byte was consumed, CC_ERR_TRAILING_DATA otherwise. */
int cc_reader_done(const struct cc_reader *r);

struct cc_buf;

/* A new empty buffer that will never hold more than max bytes. */
struct cc_buf *cc_buf_new(size_t max);
/* Wipes and frees; NULL is allowed. */
void cc_buf_free(struct cc_buf *b);
/* Wipes and empties, keeping the allocation. */
void cc_buf_reset(struct cc_buf *b);

const uint8_t *cc_buf_data(const struct cc_buf *b);
size_t cc_buf_len(const struct cc_buf *b);

int cc_buf_put(struct cc_buf *b, const void *data, size_t n);
int cc_buf_put_u8(struct cc_buf *b, uint8_t v);
int cc_buf_put_u16(struct cc_buf *b, uint16_t v);
int cc_buf_put_u32(struct cc_buf *b, uint32_t v);
int cc_buf_put_u64(struct cc_buf *b, uint64_t v);
/* A u16 length then the bytes (no NUL allowed, at most 65535). */
int cc_buf_put_string16(struct cc_buf *b, const void *data, size_t n);
/*
 * Grow by n bytes and return a pointer to them for the caller to fill.
 * The pointer is valid until the next call that changes b.
 */
int cc_buf_reserve(struct cc_buf *b, size_t n, uint8_t **ret_p);

/* Big-endian helpers for fixed layouts. */
void cc_buf_store_u16(uint8_t *p, uint16_t v);
void cc_buf_store_u32(uint8_t *p, uint32_t v);
void cc_buf_store_u64(uint8_t *p, uint64_t v);
uint16_t cc_buf_load_u16(const uint8_t *p);
uint32_t cc_buf_load_u32(const uint8_t *p);
uint64_t cc_buf_load_u64(const uint8_t *p);

#endif
