/*
 * crosscount: batches (see batch.h). SPEC.md sections 8.1-8.5 and 5.8.
 */
#include "protocol/batch.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "protocol/buf.h"
#include "protocol/error.h"
#include "protocol/file.h"
#include "protocol/group.h"
#include "protocol/limits.h"
#include "protocol/parallel.h"
#include "protocol/seal.h"

/* Room kept after the body for the largest trailer. */
#define BATCH_TRAILER_MAX ((size_t)CC_BATCH_TRAILER_MAX)
/* Below this many elements one thread is faster than starting more. */
#define BATCH_PARALLEL_MIN 1024

/*
 * buf holds header | references | records | trailer exactly as on the
 * wire; the header bytes are kept in step with the fields below.
 */
struct cc_batch {
	uint8_t *buf;
	size_t cap;          /* bytes allocated: body_len + BATCH_TRAILER_MAX */
	size_t body_len;     /* header + references + records */
	size_t trailer_len;  /* 0 while unsigned */
	struct cc_batch_header h;
};

/* The header of a batch being parsed, and where its parts are. */
struct batch_view {
	struct cc_batch_header h;
	const uint8_t *refs;
	const uint8_t *records;
	size_t body_len;
	size_t trailer_len;
};

static uint8_t *
batch_refs_mut(struct cc_batch *b)
{
	return b->buf + CC_BATCH_HEADER_BYTES;
}

static uint8_t *
batch_records_mut(struct cc_batch *b)
{
	return b->buf + CC_BATCH_HEADER_BYTES +
	    (size_t)b->h.nrefs * CC_BATCH_REF_BYTES;
}

/* The body length for nrefs and count, overflow-checked; 0 on overflow. */
static size_t
batch_body_len(size_t nrefs, size_t count)
{
	size_t refs, records;

	if (nrefs > SIZE_MAX / CC_BATCH_REF_BYTES ||
	    count > SIZE_MAX / CC_BATCH_RECORD_BYTES)
		return 0;
	refs = nrefs * CC_BATCH_REF_BYTES;
	records = count * CC_BATCH_RECORD_BYTES;
	if (refs > SIZE_MAX - CC_BATCH_HEADER_BYTES ||
	    records > SIZE_MAX - CC_BATCH_HEADER_BYTES - refs)
		return 0;
	return CC_BATCH_HEADER_BYTES + refs + records;
}

void
cc_batch_header_write(uint8_t out[CC_BATCH_HEADER_BYTES],
    const struct cc_batch_header *h)
{
	memcpy(out, CC_BATCH_MAGIC, 4);
	cc_buf_store_u16(out + 4, CC_BATCH_VERSION);
	cc_buf_store_u16(out + 6, 0);
	memcpy(out + 8, h->query_id, CC_BATCH_QUERY_ID_BYTES);
	cc_buf_store_u16(out + 24, h->chain);
	cc_buf_store_u16(out + 26, h->hop);
	cc_buf_store_u16(out + 28, h->nodes);
	cc_buf_store_u16(out + 30, h->nrefs);
	cc_buf_store_u32(out + 32, h->count);
	cc_buf_store_u32(out + 36, CC_BATCH_RECORD_BYTES);
}

static void
batch_write_header(struct cc_batch *b)
{
	cc_batch_header_write(b->buf, &b->h);
}

/* An empty batch with room for nrefs references and count records. */
static int
batch_alloc(struct cc_batch **ret_b, size_t nrefs, size_t count)
{
	struct cc_batch *b = NULL;
	size_t body;
	int r = CC_ERR_INTERNAL;

	*ret_b = NULL;
	if (nrefs > CC_LIMIT_BATCH_REFS || count > CC_LIMIT_BATCH_ELEMENTS ||
	    (body = batch_body_len(nrefs, count)) == 0 ||
	    body > SIZE_MAX - BATCH_TRAILER_MAX) {
		r = CC_ERR_LIMIT;
		goto out;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->buf = calloc(1, body + BATCH_TRAILER_MAX)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	b->cap = body + BATCH_TRAILER_MAX;
	b->body_len = body;
	b->h.nrefs = (uint16_t)nrefs;
	b->h.count = (uint32_t)count;
	*ret_b = b;
	b = NULL;
	r = 0;
out:
	cc_batch_free(b);
	return r;
}

void
cc_batch_free(struct cc_batch *b)
{
	if (b == NULL)
		return;
	if (b->buf != NULL) {
		/* Tokens are per-query secrets too: wipe before freeing. */
		sodium_memzero(b->buf, b->cap);
		free(b->buf);
	}
	sodium_memzero(b, sizeof(*b));
	free(b);
}

static unsigned
batch_threads(size_t elements)
{
	return elements < BATCH_PARALLEL_MIN ? 1 : 0;
}

size_t
cc_batch_padded_size(size_t n)
{
	size_t step;
	unsigned bits = 0;

	if (n > CC_LIMIT_BATCH_ELEMENTS)
		return 0;
	if (n <= CC_BATCH_MIN_PADDED)
		return CC_BATCH_MIN_PADDED;
	/* SPEC 8.5: a multiple of 2^(bitlen(n) - 4); at most 1/8 overhead. */
	for (step = n; step != 0; step >>= 1)
		bits++;
	step = (size_t)1 << (bits - 4);
	return (n + step - 1) / step * step;
}

uint16_t
cc_batch_hop_node(uint16_t chain, uint16_t hop, uint16_t nodes)
{
	if (nodes == 0)
		return 0;
	return (uint16_t)(((uint32_t)chain + hop) % nodes);
}

/* SPEC 5.8: Fisher-Yates, j uniform in [0, i] from the CSPRNG. */
void
cc_batch_shuffle(struct cc_batch *b)
{
	uint8_t tmp[CC_BATCH_RECORD_BYTES];
	uint8_t *records, *pi, *pj;
	uint32_t i, j;

	if (b == NULL || b->h.count < 2)
		return;
	records = batch_records_mut(b);
	for (i = b->h.count - 1; i > 0; i--) {
		j = randombytes_uniform(i + 1);
		if (j == i)
			continue;
		pi = records + (size_t)i * CC_BATCH_RECORD_BYTES;
		pj = records + (size_t)j * CC_BATCH_RECORD_BYTES;
		memcpy(tmp, pi, sizeof(tmp));
		memcpy(pi, pj, sizeof(tmp));
		memcpy(pj, tmp, sizeof(tmp));
	}
	sodium_memzero(tmp, sizeof(tmp));
}

/* The index of a value in the reference order of its shape (seal.h). */
static size_t
attr_ref_index(const struct cc_attr *a, const struct cc_attr_shape *shape)
{
	size_t sexes = shape->sex ? 2 : 1, age;

	if (a->dummy)
		return cc_attr_shape_count(shape) - 1;
	age = shape->age_bands == 0 ? 0 : a->age_band;
	return age * sexes + (shape->sex ? (size_t)a->sex - 1 : 0);
}

/*
 * SPEC 8.3. The builder keeps only what the records are made from: each
 * person's stored element P and the index of its value in the reference
 * table (33 bytes a record). cc_batch_origin_prepare fixes the padded size
 * and the references; cc_batch_origin_records then makes any range of
 * records, in memory (cc_batch_origin_finish) or a chunk at a time for a
 * file (batch_file.h).
 */
struct cc_batch_origin {
	uint8_t query_id[CC_BATCH_QUERY_ID_BYTES];
	uint16_t chain;
	uint16_t nodes;
	uint16_t nrefs;
	struct cc_attr_shape shape;
	uint8_t *points;                /* max_n * CC_ELEMENT_BYTES */
	uint8_t *values;                /* max_n reference indexes */
	size_t n;                       /* records added */
	size_t max_n;
	size_t padded;                  /* once prepared */
	bool prepared;
	bool spent;                     /* finished or failed: only free */
	uint8_t t[CC_SCALAR_BYTES];     /* r * s^-1, once prepared */
	uint8_t y_pub[CC_ELEMENT_BYTES];
	uint8_t refs[CC_LIMIT_BATCH_REFS * CC_BATCH_REF_BYTES];
};

/* Reference indexes are stored in one byte each. */
_Static_assert(CC_LIMIT_BATCH_REFS <= 256, "a reference index is a byte");

/* Wipe what the builder holds; it can only be freed afterwards. */
static void
origin_spend(struct cc_batch_origin *o)
{
	/* Only the part written was ever touched: wipe just that. */
	if (o->points != NULL) {
		sodium_memzero(o->points, o->n * CC_ELEMENT_BYTES);
		free(o->points);
		o->points = NULL;
	}
	if (o->values != NULL) {
		sodium_memzero(o->values, o->n);
		free(o->values);
		o->values = NULL;
	}
	sodium_memzero(o->t, sizeof(o->t));
	sodium_memzero(o->refs, sizeof(o->refs));
	o->prepared = false;
	o->spent = true;
}

int
cc_batch_origin_new(struct cc_batch_origin **ret_o,
    const uint8_t query_id[CC_BATCH_QUERY_ID_BYTES], uint16_t chain,
    uint16_t nodes, const struct cc_attr_shape *shape, size_t max_n,
    struct cc_diag *diag)
{
	struct cc_batch_origin *o = NULL;
	size_t room;
	int r = CC_ERR_INTERNAL;

	if (ret_o == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_o = NULL;
	if (query_id == NULL || shape == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if (nodes == 0 || nodes > CC_LIMIT_QUERY_NODES || chain >= nodes) {
		cc_diag_set(diag, "chain %u of %u nodes", chain, nodes);
		return CC_ERR_INVALID_ARGUMENT;
	}
	if (cc_attr_shape_check(shape) != 0) {
		cc_diag_set(diag, "invalid breakdown shape");
		return CC_ERR_INVALID_ARGUMENT;
	}
	if (cc_batch_padded_size(max_n) == 0) {
		cc_diag_set(diag, "%zu records, at most %u", max_n,
		    CC_LIMIT_BATCH_ELEMENTS);
		return CC_ERR_LIMIT;
	}
	/* Room for one at least, so that malloc never sees 0. */
	room = max_n > 0 ? max_n : 1;
	/* malloc, not calloc: pages past the records added stay untouched
	 * (the room is a count of candidates, often more than selected). */
	if ((o = calloc(1, sizeof(*o))) == NULL ||
	    (o->points = malloc(room * CC_ELEMENT_BYTES)) == NULL ||
	    (o->values = malloc(room)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	memcpy(o->query_id, query_id, CC_BATCH_QUERY_ID_BYTES);
	o->chain = chain;
	o->nodes = nodes;
	o->shape = *shape;
	o->nrefs = (uint16_t)cc_attr_shape_count(shape);
	o->max_n = max_n;
	*ret_o = o;
	o = NULL;
	r = 0;
out:
	cc_batch_origin_free(o);
	return r;
}

int
cc_batch_origin_add(struct cc_batch_origin *o,
    const uint8_t p[CC_ELEMENT_BYTES], const struct cc_attr *a,
    struct cc_diag *diag)
{
	if (o == NULL || o->spent || o->prepared || p == NULL || a == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if (o->n == o->max_n) {
		cc_diag_set(diag, "more than the %zu records announced",
		    o->max_n);
		return CC_ERR_LIMIT;
	}
	if (cc_attr_in_shape(a, &o->shape) != 0) {
		cc_diag_set(diag, "record %zu: attribute value outside the "
		    "query's breakdown", o->n);
		return CC_ERR_INVALID_ARGUMENT;
	}
	memcpy(o->points + o->n * CC_ELEMENT_BYTES, p, CC_ELEMENT_BYTES);
	o->values[o->n] = (uint8_t)attr_ref_index(a, &o->shape);
	o->n++;
	return 0;
}

size_t
cc_batch_origin_count(const struct cc_batch_origin *o)
{
	return o != NULL ? o->n : 0;
}

int
cc_batch_origin_prepare(struct cc_batch_origin *o,
    const uint8_t s[CC_SCALAR_BYTES], const uint8_t r[CC_SCALAR_BYTES],
    const uint8_t y_pub[CC_ELEMENT_BYTES], struct cc_batch_header *ret_h,
    struct cc_diag *diag)
{
	uint8_t s_inv[CC_SCALAR_BYTES];
	size_t nrefs = 0;
	int ret = CC_ERR_INTERNAL;

	if (ret_h != NULL)
		memset(ret_h, 0, sizeof(*ret_h));
	if (o == NULL || o->spent || o->prepared || s == NULL || r == NULL ||
	    y_pub == NULL || ret_h == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if (cc_group_element_check(y_pub) != 0) {
		cc_diag_set(diag, "invalid attribute key");
		ret = CC_ERR_POINT;
		goto out;
	}
	if (cc_group_scalar_check(r) != 0 ||
	    cc_group_scalar_invert(s_inv, s) != 0) {
		ret = CC_ERR_SCALAR;
		goto out;
	}
	/* Step 2's scalar: (r*s^-1)*P = r*H(id). */
	cc_group_scalar_mul(o->t, r, s_inv);
	memcpy(o->y_pub, y_pub, CC_ELEMENT_BYTES);
	/* SPEC 8.5: the padded size of what was added. */
	o->padded = cc_batch_padded_size(o->n);
	/* Step 3: references (v, r*M_v) in reference order. */
	if ((ret = cc_attr_refs_origin(o->refs, CC_LIMIT_BATCH_REFS, &nrefs,
	    &o->shape)) != 0)
		goto out;
	if (nrefs != o->nrefs) {
		ret = CC_ERR_INTERNAL;
		goto out;
	}
	if ((ret = cc_group_mult_many(o->refs + CC_ATTR_BYTES, nrefs,
	    CC_BATCH_REF_BYTES, r, 1, NULL)) != 0)
		goto out;
	/* Step 7: the header. */
	memcpy(ret_h->query_id, o->query_id, CC_BATCH_QUERY_ID_BYTES);
	ret_h->chain = o->chain;
	ret_h->hop = 0;
	ret_h->nodes = o->nodes;
	ret_h->nrefs = o->nrefs;
	ret_h->count = (uint32_t)o->padded;
	o->prepared = true;
	ret = 0;
out:
	sodium_memzero(s_inv, sizeof(s_inv));
	if (ret != 0) {
		memset(ret_h, 0, sizeof(*ret_h));
		origin_spend(o);
	}
	return ret;
}

const uint8_t *
cc_batch_origin_refs(const struct cc_batch_origin *o)
{
	return o != NULL && o->prepared ? o->refs : NULL;
}

struct origin_records_job {
	const struct cc_batch_origin *o;
	uint8_t *out;
	size_t first;
	atomic_size_t first_bad;
};

/*
 * SPEC 8.3 steps 2, 4 and 5 for one record: the token t*P (a dummy's is
 * random) and the sealed value. Sealing r*M_v with a fresh e gives
 * (e*G, r*M_v + e*Y), the origin block of 5.6 with half the
 * multiplications of seal-then-scale, and the same distribution.
 */
static int
origin_records_range(void *ctx, size_t begin, size_t end)
{
	struct origin_records_job *job = ctx;
	const struct cc_batch_origin *o = job->o;
	uint8_t *rec;
	size_t i, g, idx, seen;
	int r;

	for (i = begin; i < end; i++) {
		rec = job->out + i * CC_BATCH_RECORD_BYTES;
		g = job->first + i;
		if (g < o->n) {
			idx = o->values[g];
			if (cc_group_mult(rec + CC_BATCH_TOKEN_OFFSET, o->t,
			    o->points + g * CC_ELEMENT_BYTES) != 0) {
				seen = atomic_load(&job->first_bad);
				while (g < seen && !atomic_compare_exchange_weak(
				    &job->first_bad, &seen, g))
					;
				return CC_ERR_POINT;
			}
		} else {
			idx = (size_t)o->nrefs - 1;
			cc_group_element_random(rec + CC_BATCH_TOKEN_OFFSET);
		}
		if ((r = cc_seal_element(rec + CC_BATCH_BLOCK_OFFSET,
		    o->refs + idx * CC_BATCH_REF_BYTES + CC_ATTR_BYTES,
		    o->y_pub)) != 0)
			return r;
	}
	return 0;
}

int
cc_batch_origin_records(struct cc_batch_origin *o, size_t first, size_t n,
    uint8_t *ret_records, struct cc_diag *diag)
{
	struct origin_records_job job;
	int r;

	if (o == NULL || !o->prepared || (n > 0 && ret_records == NULL) ||
	    first > o->padded || n > o->padded - first)
		return CC_ERR_INVALID_ARGUMENT;
	job.o = o;
	job.out = ret_records;
	job.first = first;
	atomic_init(&job.first_bad, SIZE_MAX);
	if ((r = cc_parallel_for(n, batch_threads(n), origin_records_range,
	    &job)) != 0) {
		if (r == CC_ERR_POINT)
			cc_diag_set(diag, "stored element %zu is not valid",
			    atomic_load(&job.first_bad));
		sodium_memzero(ret_records, n * CC_BATCH_RECORD_BYTES);
		origin_spend(o);
		return r;
	}
	/* The last record made: the points are not needed any more. */
	if (first + n == o->padded)
		origin_spend(o);
	return 0;
}

int
cc_batch_origin_finish(struct cc_batch **ret_batch, struct cc_batch_origin *o,
    const uint8_t s[CC_SCALAR_BYTES], const uint8_t r[CC_SCALAR_BYTES],
    const uint8_t y_pub[CC_ELEMENT_BYTES], struct cc_diag *diag)
{
	struct cc_batch *b = NULL;
	struct cc_batch_header h;
	int ret = CC_ERR_INTERNAL;

	if (ret_batch == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_batch = NULL;
	if (o == NULL || o->spent || o->prepared)
		return CC_ERR_INVALID_ARGUMENT;
	if ((ret = cc_batch_origin_prepare(o, s, r, y_pub, &h, diag)) != 0)
		goto out;
	if ((ret = batch_alloc(&b, h.nrefs, h.count)) != 0)
		goto out;
	b->h = h;        /* the origin's header: hop 0 */
	memcpy(batch_refs_mut(b), o->refs,
	    (size_t)h.nrefs * CC_BATCH_REF_BYTES);
	if ((ret = cc_batch_origin_records(o, 0, h.count, batch_records_mut(b),
	    diag)) != 0)
		goto out;
	/* Step 6: shuffle (SPEC 5.8). */
	cc_batch_shuffle(b);
	batch_write_header(b);
	*ret_batch = b;
	b = NULL;
	ret = 0;
out:
	/* Finished or failed, the builder holds nothing more. */
	if (o != NULL)
		origin_spend(o);
	cc_batch_free(b);
	return ret;
}

void
cc_batch_origin_free(struct cc_batch_origin *o)
{
	if (o == NULL)
		return;
	origin_spend(o);
	sodium_memzero(o, sizeof(*o));
	free(o);
}

int
cc_batch_new_origin(struct cc_batch **ret_batch,
    const uint8_t query_id[CC_BATCH_QUERY_ID_BYTES], uint16_t chain,
    uint16_t nodes, const struct cc_attr_shape *shape,
    const uint8_t *points, const struct cc_attr *attrs, size_t n,
    const uint8_t s[CC_SCALAR_BYTES], const uint8_t r[CC_SCALAR_BYTES],
    const uint8_t y_pub[CC_ELEMENT_BYTES], struct cc_diag *diag)
{
	struct cc_batch_origin *o = NULL;
	size_t i;
	int ret = CC_ERR_INTERNAL;

	*ret_batch = NULL;
	if (query_id == NULL || shape == NULL || (n > 0 &&
	    (points == NULL || attrs == NULL)) || s == NULL || r == NULL ||
	    y_pub == NULL) {
		ret = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if ((ret = cc_batch_origin_new(&o, query_id, chain, nodes, shape, n,
	    diag)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((ret = cc_batch_origin_add(o, points + i * CC_ELEMENT_BYTES,
		    &attrs[i], diag)) != 0)
			goto out;
	ret = cc_batch_origin_finish(ret_batch, o, s, r, y_pub, diag);
out:
	cc_batch_origin_free(o);
	return ret;
}

int
cc_batch_relay(struct cc_batch *b, const uint8_t r[CC_SCALAR_BYTES],
    struct cc_diag *diag)
{
	size_t bad = 0, elements;
	int ret;

	if (b == NULL || r == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if (b->h.hop + 1 >= b->h.nodes) {
		cc_diag_set(diag, "hop %u of %u nodes is final", b->h.hop,
		    b->h.nodes);
		return CC_ERR_STATE;
	}
	if (cc_group_scalar_check(r) != 0)
		return CC_ERR_SCALAR;
	/*
	 * SPEC 8.4: token, A and B are three consecutive elements of every
	 * record and the records are contiguous, so the whole record array
	 * is one run of 3*count elements 32 bytes apart.
	 */
	elements = (size_t)b->h.count * 3;
	if ((ret = cc_group_mult_many(batch_records_mut(b), elements,
	    CC_ELEMENT_BYTES, r, batch_threads(elements), &bad)) != 0) {
		cc_diag_set(diag, "record %zu: invalid element", bad / 3);
		return ret;
	}
	if ((ret = cc_group_mult_many(batch_refs_mut(b) + CC_ATTR_BYTES,
	    b->h.nrefs, CC_BATCH_REF_BYTES, r, 1, &bad)) != 0) {
		cc_diag_set(diag, "attribute reference %zu: invalid element",
		    bad);
		return ret;
	}
	cc_batch_shuffle(b);
	b->h.hop++;
	b->trailer_len = 0;
	sodium_memzero(b->buf + b->body_len, b->cap - b->body_len);
	batch_write_header(b);
	return 0;
}

struct check_job {
	const uint8_t *base;
};

static int
check_range(void *ctx, size_t begin, size_t end)
{
	struct check_job *job = ctx;
	size_t i;

	for (i = begin; i < end; i++)
		if (cc_group_element_check(job->base +
		    i * CC_ELEMENT_BYTES) != 0)
			return CC_ERR_POINT;
	return 0;
}

int
cc_batch_header_parse(struct cc_batch_header *ret_h,
    const uint8_t bytes[CC_BATCH_HEADER_BYTES], uint32_t max_count,
    struct cc_diag *diag)
{
	struct cc_batch_header h;
	struct cc_reader rd;
	uint8_t magic[4];
	uint16_t version, flags;
	uint32_t record_size;
	int r;

	memset(ret_h, 0, sizeof(*ret_h));
	memset(&h, 0, sizeof(h));
	cc_reader_init(&rd, bytes, CC_BATCH_HEADER_BYTES);
	if ((r = cc_reader_bytes(&rd, magic, sizeof(magic))) != 0 ||
	    (r = cc_reader_u16(&rd, &version)) != 0 ||
	    (r = cc_reader_u16(&rd, &flags)) != 0 ||
	    (r = cc_reader_bytes(&rd, h.query_id, CC_BATCH_QUERY_ID_BYTES)) != 0 ||
	    (r = cc_reader_u16(&rd, &h.chain)) != 0 ||
	    (r = cc_reader_u16(&rd, &h.hop)) != 0 ||
	    (r = cc_reader_u16(&rd, &h.nodes)) != 0 ||
	    (r = cc_reader_u16(&rd, &h.nrefs)) != 0 ||
	    (r = cc_reader_u32(&rd, &h.count)) != 0 ||
	    (r = cc_reader_u32(&rd, &record_size)) != 0)
		return CC_ERR_INTERNAL;  /* 40 bytes always hold a header */
	if (memcmp(magic, CC_BATCH_MAGIC, sizeof(magic)) != 0) {
		cc_diag_set(diag, "not a crosscount batch (bad magic)");
		return CC_ERR_FORMAT;
	}
	if (version != CC_BATCH_VERSION) {
		cc_diag_set(diag, "batch version %u, expected %u", version,
		    CC_BATCH_VERSION);
		return CC_ERR_VERSION;
	}
	if (flags != 0) {
		cc_diag_set(diag, "batch flags 0x%04x, expected 0", flags);
		return CC_ERR_FORMAT;
	}
	if (record_size != CC_BATCH_RECORD_BYTES) {
		cc_diag_set(diag, "record size %u, expected %u", record_size,
		    CC_BATCH_RECORD_BYTES);
		return CC_ERR_FORMAT;
	}
	if (h.nodes == 0 || h.nodes > CC_LIMIT_QUERY_NODES) {
		cc_diag_set(diag, "%u nodes, expected 1..%u", h.nodes,
		    CC_LIMIT_QUERY_NODES);
		return h.nodes == 0 ? CC_ERR_FORMAT : CC_ERR_LIMIT;
	}
	if (h.chain >= h.nodes || h.hop >= h.nodes) {
		cc_diag_set(diag, "chain %u hop %u outside %u nodes", h.chain,
		    h.hop, h.nodes);
		return CC_ERR_FORMAT;
	}
	if (h.nrefs == 0 || h.nrefs > CC_LIMIT_BATCH_REFS) {
		cc_diag_set(diag, "%u attribute references, expected 1..%u",
		    h.nrefs, CC_LIMIT_BATCH_REFS);
		return h.nrefs == 0 ? CC_ERR_FORMAT : CC_ERR_LIMIT;
	}
	if (h.count > CC_LIMIT_BATCH_ELEMENTS || h.count > max_count) {
		cc_diag_set(diag, "%u records, at most %u", h.count,
		    max_count < CC_LIMIT_BATCH_ELEMENTS ? max_count :
		    CC_LIMIT_BATCH_ELEMENTS);
		return CC_ERR_LIMIT;
	}
	/* SPEC 8.5: only padded sizes occur, so nothing else is accepted. */
	if (cc_batch_padded_size(h.count) != h.count) {
		cc_diag_set(diag, "%u records is not a padded size", h.count);
		return CC_ERR_FORMAT;
	}
	if (batch_body_len(h.nrefs, h.count) == 0)
		return CC_ERR_LIMIT;
	*ret_h = h;
	return 0;
}

size_t
cc_batch_body_bytes(const struct cc_batch_header *h)
{
	return batch_body_len(h->nrefs, h->count);
}

int
cc_batch_refs_validate(const uint8_t *refs, uint16_t nrefs,
    struct cc_diag *diag)
{
	uint8_t prev[CC_ATTR_BYTES];
	const uint8_t *p;
	struct cc_attr a;
	size_t i;

	/* Valid values in strictly ascending order (SPEC 5.6). */
	memset(prev, 0, sizeof(prev));
	for (i = 0; i < nrefs; i++) {
		p = refs + i * CC_BATCH_REF_BYTES;
		if (cc_attr_decode(&a, p) != 0) {
			cc_diag_set(diag, "attribute reference %zu: invalid "
			    "value", i);
			return CC_ERR_FORMAT;
		}
		if (i > 0 && memcmp(prev, p, CC_ATTR_BYTES) >= 0) {
			cc_diag_set(diag, "attribute reference %zu: out of "
			    "order", i);
			return CC_ERR_FORMAT;
		}
		memcpy(prev, p, CC_ATTR_BYTES);
		if (cc_group_element_check(p + CC_ATTR_BYTES) != 0) {
			cc_diag_set(diag, "attribute reference %zu: invalid "
			    "element", i);
			return CC_ERR_POINT;
		}
	}
	return 0;
}

int
cc_batch_trailer_validate(const uint8_t *trailer, size_t len,
    struct cc_diag *diag)
{
	struct cc_reader rd;
	uint16_t cert_len, sig_len;
	int r;

	/* Certificate, signature, then nothing. */
	cc_reader_init(&rd, trailer, len);
	if ((r = cc_reader_u16(&rd, &cert_len)) != 0) {
		cc_diag_set(diag, "batch trailer truncated");
		return r;
	}
	if (cert_len == 0 || cert_len > CC_LIMIT_CERT_DER) {
		cc_diag_set(diag, "signer certificate of %u bytes, expected "
		    "1..%u", cert_len, CC_LIMIT_CERT_DER);
		return cert_len == 0 ? CC_ERR_FORMAT : CC_ERR_LIMIT;
	}
	if ((r = cc_reader_skip(&rd, cert_len)) != 0 ||
	    (r = cc_reader_u16(&rd, &sig_len)) != 0) {
		cc_diag_set(diag, "batch trailer truncated");
		return r;
	}
	if (sig_len == 0 || sig_len > CC_LIMIT_SIGNATURE) {
		cc_diag_set(diag, "signature of %u bytes, expected 1..%u",
		    sig_len, CC_LIMIT_SIGNATURE);
		return sig_len == 0 ? CC_ERR_FORMAT : CC_ERR_LIMIT;
	}
	if ((r = cc_reader_skip(&rd, sig_len)) != 0) {
		cc_diag_set(diag, "batch trailer truncated");
		return r;
	}
	if ((r = cc_reader_done(&rd)) != 0) {
		cc_diag_set(diag, "%zu bytes after the batch trailer",
		    cc_reader_remaining(&rd));
		return r;
	}
	return 0;
}

int
cc_batch_records_validate(const uint8_t *records, size_t count,
    size_t first_index, struct cc_diag *diag)
{
	struct check_job job;
	size_t i, elements;
	int r;

	/* SPEC 5.5: every token, A and B a valid non-identity element. The
	 * checks cost a field inversion each: every core takes a share. */
	if (count > SIZE_MAX / 3)
		return CC_ERR_LIMIT;
	elements = count * 3;
	job.base = records;
	if ((r = cc_parallel_for(elements, batch_threads(elements),
	    check_range, &job)) != 0) {
		for (i = 0; i < elements; i++)
			if (cc_group_element_check(records +
			    i * CC_ELEMENT_BYTES) != 0)
				break;
		cc_diag_set(diag, "record %zu: invalid element",
		    first_index + i / 3);
		return r;
	}
	return 0;
}

/*
 * SPEC 8.1: validate a whole batch on a span, through the bounded reader
 * only. Cheap structural checks come first; the element checks run once
 * the shape is known good.
 */
static int
batch_validate(struct batch_view *v, const uint8_t *data, size_t len,
    uint32_t max_count, struct cc_diag *diag)
{
	struct cc_batch_header h;
	int r;

	memset(v, 0, sizeof(*v));
	if (len < CC_BATCH_HEADER_BYTES) {
		cc_diag_set(diag, "batch header truncated");
		return CC_ERR_TRUNCATED;
	}
	if ((r = cc_batch_header_parse(&h, data, max_count, diag)) != 0)
		return r;
	v->body_len = cc_batch_body_bytes(&h);
	if (len < v->body_len) {
		cc_diag_set(diag, "batch truncated: %zu bytes", len);
		return CC_ERR_TRUNCATED;
	}
	v->h = h;
	v->refs = data + CC_BATCH_HEADER_BYTES;
	v->records = v->refs + (size_t)h.nrefs * CC_BATCH_REF_BYTES;
	v->trailer_len = len - v->body_len;
	if ((r = cc_batch_trailer_validate(data + v->body_len, v->trailer_len,
	    diag)) != 0 ||
	    (r = cc_batch_refs_validate(v->refs, h.nrefs, diag)) != 0 ||
	    (r = cc_batch_records_validate(v->records, h.count, 0,
	    diag)) != 0)
		return r;
	return 0;
}

/* Take a validated view of b->buf into b's fields. */
static void
batch_adopt_view(struct cc_batch *b, const struct batch_view *v)
{
	b->h = v->h;
	b->body_len = v->body_len;
	b->trailer_len = v->trailer_len;
}

int
cc_batch_parse(struct cc_batch **ret_batch, const uint8_t *data, size_t len,
    uint32_t max_count, struct cc_diag *diag)
{
	struct cc_batch *b = NULL;
	struct batch_view v;
	int r = CC_ERR_INTERNAL;

	*ret_batch = NULL;
	if ((r = batch_validate(&v, data, len, max_count, diag)) != 0)
		goto out;
	if ((r = batch_alloc(&b, v.h.nrefs, v.h.count)) != 0)
		goto out;
	/* len = body + trailer <= body + BATCH_TRAILER_MAX = b->cap. */
	memcpy(b->buf, data, len);
	batch_adopt_view(b, &v);
	*ret_batch = b;
	b = NULL;
	r = 0;
out:
	cc_batch_free(b);
	return r;
}

int
cc_batch_parse_take(struct cc_batch **ret_batch, uint8_t **buf, size_t len,
    size_t cap, uint32_t max_count, struct cc_diag *diag)
{
	struct cc_batch *b = NULL;
	struct batch_view v;
	uint8_t *data;
	int r = CC_ERR_INTERNAL;

	*ret_batch = NULL;
	if (buf == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	data = *buf;
	*buf = NULL;
	if (data == NULL || cap < len) {
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if ((r = batch_validate(&v, data, len, max_count, diag)) != 0)
		goto out;
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	b->buf = data;
	b->cap = cap;
	data = NULL;
	batch_adopt_view(b, &v);
	*ret_batch = b;
	b = NULL;
	r = 0;
out:
	if (data != NULL) {
		sodium_memzero(data, cap);
		free(data);
	}
	cc_batch_free(b);
	return r;
}

int
cc_batch_read_file(struct cc_batch **ret_batch, const char *path,
    uint32_t max_count, struct cc_diag *diag)
{
	struct cc_batch *b = NULL;
	struct batch_view v;
	size_t max_len, len = 0;
	uint8_t *data = NULL;
	int r = CC_ERR_INTERNAL;

	*ret_batch = NULL;
	if (path == NULL) {
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if (max_count > CC_LIMIT_BATCH_ELEMENTS)
		max_count = CC_LIMIT_BATCH_ELEMENTS;
	max_len = batch_body_len(CC_LIMIT_BATCH_REFS, max_count) +
	    BATCH_TRAILER_MAX;
	/* Room for a new trailer after the bytes (cc_batch_set_trailer). */
	if ((r = cc_file_read_all(path, max_len, BATCH_TRAILER_MAX, &data,
	    &len, diag)) != 0) {
		if (r == CC_ERR_LIMIT)
			cc_diag_prefix(diag, "a batch of at most %u records: ",
			    max_count);
		goto out;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	b->buf = data;
	b->cap = len + BATCH_TRAILER_MAX;
	data = NULL;
	if ((r = batch_validate(&v, b->buf, len, max_count, diag)) != 0) {
		cc_diag_prefix(diag, "%s: ", path);
		goto out;
	}
	batch_adopt_view(b, &v);
	*ret_batch = b;
	b = NULL;
	r = 0;
out:
	cc_file_free(data, len + BATCH_TRAILER_MAX + 1);
	cc_batch_free(b);
	return r;
}

int
cc_batch_header_expect(const struct cc_batch_header *h,
    const uint8_t query_id[CC_BATCH_QUERY_ID_BYTES], uint16_t chain,
    uint16_t hop, uint16_t nodes, struct cc_diag *diag)
{
	/* SPEC 8.6: the header must be the one this step expects. */
	if (memcmp(h->query_id, query_id, CC_BATCH_QUERY_ID_BYTES) != 0) {
		cc_diag_set(diag, "batch is for another query");
		return CC_ERR_FORMAT;
	}
	if (h->nodes != nodes) {
		cc_diag_set(diag, "batch names %u nodes, expected %u",
		    h->nodes, nodes);
		return CC_ERR_FORMAT;
	}
	if (h->chain != chain) {
		cc_diag_set(diag, "batch is chain %u, expected %u", h->chain,
		    chain);
		return CC_ERR_FORMAT;
	}
	if (h->hop != hop) {
		cc_diag_set(diag, "batch is hop %u, expected %u", h->hop, hop);
		return CC_ERR_FORMAT;
	}
	return 0;
}

int
cc_batch_check_header(const struct cc_batch *b,
    const uint8_t query_id[CC_BATCH_QUERY_ID_BYTES], uint16_t chain,
    uint16_t hop, uint16_t nodes, const struct cc_attr_shape *shape,
    struct cc_diag *diag)
{
	int r;

	if (b == NULL || query_id == NULL || shape == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = cc_batch_header_expect(&b->h, query_id, chain, hop, nodes,
	    diag)) != 0)
		return r;
	return cc_attr_refs_check(cc_batch_refs(b), b->h.nrefs, shape, diag);
}

const uint8_t *
cc_batch_query_id(const struct cc_batch *b)
{
	return b->h.query_id;
}

uint16_t
cc_batch_chain(const struct cc_batch *b)
{
	return b->h.chain;
}

uint16_t
cc_batch_hop(const struct cc_batch *b)
{
	return b->h.hop;
}

uint16_t
cc_batch_nodes(const struct cc_batch *b)
{
	return b->h.nodes;
}

uint16_t
cc_batch_nrefs(const struct cc_batch *b)
{
	return b->h.nrefs;
}

uint32_t
cc_batch_count(const struct cc_batch *b)
{
	return b->h.count;
}

const uint8_t *
cc_batch_refs(const struct cc_batch *b)
{
	return b->buf + CC_BATCH_HEADER_BYTES;
}

const uint8_t *
cc_batch_records(const struct cc_batch *b)
{
	return b->buf + CC_BATCH_HEADER_BYTES +
	    (size_t)b->h.nrefs * CC_BATCH_REF_BYTES;
}

void
cc_batch_digest(const struct cc_batch *b, uint8_t ret_d[32])
{
	unsigned int dlen = 0;

	/* SPEC 8.1: D = SHA-256 of everything before the trailer. */
	if (EVP_Digest(b->buf, b->body_len, ret_d, &dlen, EVP_sha256(),
	    NULL) != 1 || dlen != 32)
		memset(ret_d, 0, 32);
}

int
cc_batch_set_trailer(struct cc_batch *b, const uint8_t *cert, size_t cert_len,
    const uint8_t *sig, size_t sig_len)
{
	uint8_t *p, *grown;
	size_t need;

	if (b == NULL || cert == NULL || sig == NULL || cert_len == 0 ||
	    cert_len > CC_LIMIT_CERT_DER || sig_len == 0 ||
	    sig_len > CC_LIMIT_SIGNATURE)
		return CC_ERR_INVALID_ARGUMENT;
	need = b->body_len + 4 + cert_len + sig_len;
	if (need > b->cap) {
		/* A taken buffer without trailer room: grow once, wiping the
		 * old copy (realloc could leave tokens in freed memory). */
		if ((grown = malloc(need)) == NULL)
			return CC_ERR_ALLOC;
		memcpy(grown, b->buf, b->body_len);
		sodium_memzero(b->buf, b->cap);
		free(b->buf);
		b->buf = grown;
		b->cap = need;
	}
	p = b->buf + b->body_len;
	sodium_memzero(p, b->cap - b->body_len);
	cc_buf_store_u16(p, (uint16_t)cert_len);
	memcpy(p + 2, cert, cert_len);
	cc_buf_store_u16(p + 2 + cert_len, (uint16_t)sig_len);
	memcpy(p + 4 + cert_len, sig, sig_len);
	b->trailer_len = 4 + cert_len + sig_len;
	return 0;
}

int
cc_batch_trailer(const struct cc_batch *b, const uint8_t **ret_cert,
    size_t *ret_cert_len, const uint8_t **ret_sig, size_t *ret_sig_len)
{
	const uint8_t *p;
	size_t cert_len;

	*ret_cert = NULL;
	*ret_cert_len = 0;
	*ret_sig = NULL;
	*ret_sig_len = 0;
	if (b == NULL || b->trailer_len == 0)
		return CC_ERR_STATE;
	/* Written by set_trailer or checked by batch_validate. */
	p = b->buf + b->body_len;
	cert_len = cc_buf_load_u16(p);
	*ret_cert = p + 2;
	*ret_cert_len = cert_len;
	*ret_sig = p + 4 + cert_len;
	*ret_sig_len = cc_buf_load_u16(p + 2 + cert_len);
	return 0;
}

int
cc_batch_serialize(const struct cc_batch *b, const uint8_t **ret_data,
    size_t *ret_len)
{
	*ret_data = NULL;
	*ret_len = 0;
	if (b == NULL || b->trailer_len == 0)
		return CC_ERR_STATE;
	*ret_data = b->buf;
	*ret_len = b->body_len + b->trailer_len;
	return 0;
}

int
cc_batch_write_file(const struct cc_batch *b, const char *path,
    struct cc_diag *diag)
{
	const uint8_t *data;
	size_t len;
	int r;

	if (path == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = cc_batch_serialize(b, &data, &len)) != 0) {
		cc_diag_set(diag, "batch is not signed");
		return r;
	}
	return cc_file_write(path, data, len, 0600, CC_FILE_REPLACE, diag);
}

struct open_job {
	const uint8_t *records;
	const uint8_t *refs;
	size_t nrefs;
	const struct cc_seal_key *key;
	struct cc_attr *attrs;
	atomic_size_t first_bad;
};

static int
open_range(void *ctx, size_t begin, size_t end)
{
	struct open_job *job = ctx;
	uint8_t m[CC_ELEMENT_BYTES];
	size_t i, seen;
	int r = 0;

	for (i = begin; i < end; i++) {
		if ((r = cc_seal_open(m, job->key, job->records +
		    i * CC_BATCH_RECORD_BYTES + CC_BATCH_BLOCK_OFFSET)) != 0 ||
		    (r = cc_attr_refs_lookup(&job->attrs[i], job->refs,
		    job->nrefs, m)) != 0) {
			seen = atomic_load(&job->first_bad);
			while (i < seen && !atomic_compare_exchange_weak(
			    &job->first_bad, &seen, i))
				;
			r = CC_ERR_DECRYPT;
			break;
		}
	}
	sodium_memzero(m, sizeof(m));
	return r;
}

int
cc_batch_open_records(const uint8_t *records, size_t count,
    const uint8_t *refs, uint16_t nrefs, const struct cc_seal_key *key,
    struct cc_attr *ret_attrs, size_t first_index, struct cc_diag *diag)
{
	struct open_job job;
	int r;

	if (records == NULL || refs == NULL || key == NULL ||
	    ret_attrs == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	memset(ret_attrs, 0, count * sizeof(*ret_attrs));
	job.records = records;
	job.refs = refs;
	job.nrefs = nrefs;
	job.key = key;
	job.attrs = ret_attrs;
	atomic_init(&job.first_bad, SIZE_MAX);
	if ((r = cc_parallel_for(count, batch_threads(count), open_range,
	    &job)) != 0) {
		cc_diag_set(diag, "record %zu: attribute block opens to no "
		    "reference", first_index + atomic_load(&job.first_bad));
		sodium_memzero(ret_attrs, count * sizeof(*ret_attrs));
		return r;
	}
	return 0;
}

int
cc_batch_open(const struct cc_batch *b, const struct cc_seal_key *key,
    const struct cc_attr_shape *shape, struct cc_attr *ret_attrs,
    struct cc_diag *diag)
{
	int r;

	if (b == NULL || key == NULL || shape == NULL || ret_attrs == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	memset(ret_attrs, 0, (size_t)b->h.count * sizeof(*ret_attrs));
	if ((r = cc_attr_refs_check(cc_batch_refs(b), b->h.nrefs, shape,
	    diag)) != 0)
		return r;
	return cc_batch_open_records(cc_batch_records(b), b->h.count,
	    cc_batch_refs(b), b->h.nrefs, key, ret_attrs, 0, diag);
}
