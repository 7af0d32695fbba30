/* crosscount: bounded reader and capped writer (see buf.h). */
#include "protocol/buf.h"
#include "protocol/error.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

void
cc_buf_store_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void
cc_buf_store_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void
cc_buf_store_u64(uint8_t *p, uint64_t v)
{
	cc_buf_store_u32(p, (uint32_t)(v >> 32));
	cc_buf_store_u32(p + 4, (uint32_t)v);
}

uint16_t
cc_buf_load_u16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

uint32_t
cc_buf_load_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

uint64_t
cc_buf_load_u64(const uint8_t *p)
{
	return ((uint64_t)cc_buf_load_u32(p) << 32) | cc_buf_load_u32(p + 4);
}

void
cc_reader_init(struct cc_reader *r, const void *data, size_t len)
{
	r->data = data;
	r->len = data != NULL ? len : 0;
	r->off = 0;
}

size_t
cc_reader_remaining(const struct cc_reader *r)
{
	return r->len - r->off;
}

int
cc_reader_ptr(struct cc_reader *r, size_t n, const uint8_t **ret_p)
{
	if (ret_p != NULL)
		*ret_p = NULL;
	if (n > cc_reader_remaining(r))
		return CC_ERR_TRUNCATED;
	if (ret_p != NULL)
		*ret_p = r->data + r->off;
	r->off += n;
	return 0;
}

int
cc_reader_skip(struct cc_reader *r, size_t n)
{
	return cc_reader_ptr(r, n, NULL);
}

int
cc_reader_bytes(struct cc_reader *r, void *out, size_t n)
{
	const uint8_t *p;
	int rc;

	if ((rc = cc_reader_ptr(r, n, &p)) != 0)
		return rc;
	if (n > 0)
		memcpy(out, p, n);
	return 0;
}

int
cc_reader_u8(struct cc_reader *r, uint8_t *ret_v)
{
	const uint8_t *p;
	int rc;

	*ret_v = 0;
	if ((rc = cc_reader_ptr(r, 1, &p)) != 0)
		return rc;
	*ret_v = p[0];
	return 0;
}

int
cc_reader_u16(struct cc_reader *r, uint16_t *ret_v)
{
	const uint8_t *p;
	int rc;

	*ret_v = 0;
	if ((rc = cc_reader_ptr(r, 2, &p)) != 0)
		return rc;
	*ret_v = cc_buf_load_u16(p);
	return 0;
}

int
cc_reader_u32(struct cc_reader *r, uint32_t *ret_v)
{
	const uint8_t *p;
	int rc;

	*ret_v = 0;
	if ((rc = cc_reader_ptr(r, 4, &p)) != 0)
		return rc;
	*ret_v = cc_buf_load_u32(p);
	return 0;
}

int
cc_reader_u64(struct cc_reader *r, uint64_t *ret_v)
{
	const uint8_t *p;
	int rc;

	*ret_v = 0;
	if ((rc = cc_reader_ptr(r, 8, &p)) != 0)
		return rc;
	*ret_v = cc_buf_load_u64(p);
	return 0;
}

int
cc_reader_string16(struct cc_reader *r, size_t max, const uint8_t **ret_p,
    size_t *ret_len)
{
	struct cc_reader saved = *r;
	const uint8_t *p;
	uint16_t n;
	int rc;

	*ret_p = NULL;
	*ret_len = 0;
	if ((rc = cc_reader_u16(r, &n)) != 0)
		return rc;
	if (n > max) {
		*r = saved;
		return CC_ERR_LIMIT;
	}
	if ((rc = cc_reader_ptr(r, n, &p)) != 0) {
		*r = saved;
		return rc;
	}
	if (n > 0 && memchr(p, '\0', n) != NULL) {
		*r = saved;
		return CC_ERR_FORMAT;
	}
	*ret_p = p;
	*ret_len = n;
	return 0;
}

int
cc_reader_done(const struct cc_reader *r)
{
	return cc_reader_remaining(r) == 0 ? 0 : CC_ERR_TRAILING_DATA;
}

struct cc_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max;
};

struct cc_buf *
cc_buf_new(size_t max)
{
	struct cc_buf *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->max = max;
	return b;
}

void
cc_buf_free(struct cc_buf *b)
{
	if (b == NULL)
		return;
	if (b->data != NULL) {
		sodium_memzero(b->data, b->cap);
		free(b->data);
	}
	free(b);
}

void
cc_buf_reset(struct cc_buf *b)
{
	if (b->data != NULL)
		sodium_memzero(b->data, b->cap);
	b->len = 0;
}

const uint8_t *
cc_buf_data(const struct cc_buf *b)
{
	return b->data;
}

size_t
cc_buf_len(const struct cc_buf *b)
{
	return b->len;
}

int
cc_buf_reserve(struct cc_buf *b, size_t n, uint8_t **ret_p)
{
	size_t need, cap;
	uint8_t *p;

	*ret_p = NULL;
	if (n > b->max || b->len > b->max - n)
		return CC_ERR_LIMIT;
	need = b->len + n;
	if (need > b->cap) {
		cap = b->cap < 256 ? 256 : b->cap;
		while (cap < need)
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
		if (cap > b->max)
			cap = b->max;
		/*
		 * Not realloc: the old block may hold secrets and must be
		 * wiped before it is released.
		 */
		if ((p = malloc(cap)) == NULL)
			return CC_ERR_ALLOC;
		if (b->data != NULL) {
			memcpy(p, b->data, b->len);
			sodium_memzero(b->data, b->cap);
			free(b->data);
		}
		b->data = p;
		b->cap = cap;
	}
	*ret_p = b->data + b->len;
	b->len = need;
	return 0;
}

int
cc_buf_put(struct cc_buf *b, const void *data, size_t n)
{
	uint8_t *p;
	int rc;

	if ((rc = cc_buf_reserve(b, n, &p)) != 0)
		return rc;
	if (n > 0)
		memcpy(p, data, n);
	return 0;
}

int
cc_buf_put_u8(struct cc_buf *b, uint8_t v)
{
	return cc_buf_put(b, &v, 1);
}

int
cc_buf_put_u16(struct cc_buf *b, uint16_t v)
{
	uint8_t p[2];

	cc_buf_store_u16(p, v);
	return cc_buf_put(b, p, sizeof(p));
}

int
cc_buf_put_u32(struct cc_buf *b, uint32_t v)
{
	uint8_t p[4];

	cc_buf_store_u32(p, v);
	return cc_buf_put(b, p, sizeof(p));
}

int
cc_buf_put_u64(struct cc_buf *b, uint64_t v)
{
	uint8_t p[8];

	cc_buf_store_u64(p, v);
	return cc_buf_put(b, p, sizeof(p));
}

int
cc_buf_put_string16(struct cc_buf *b, const void *data, size_t n)
{
	int rc;

	if (n > UINT16_MAX)
		return CC_ERR_LIMIT;
	if (n > 0 && memchr(data, '\0', n) != NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if (b->len > b->max || b->max - b->len < 2 + n)
		return CC_ERR_LIMIT;
	if ((rc = cc_buf_put_u16(b, (uint16_t)n)) != 0)
		return rc;
	return cc_buf_put(b, data, n);
}
