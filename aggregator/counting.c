/*
 * crosscount-aggregator: counting a query and the released table
 * (see counting.h; SPEC.md section 9).
 */
#include "aggregator/counting.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "protocol/batch_stream.h"
#include "protocol/buf.h"
#include "protocol/disclosure.h"
#include "protocol/limits.h"

/*
 * One distinct final token of the membership table (SPEC 9.1): the token,
 * its membership mask, its breakdown cell, and the first and the latest
 * chain that carried it (to name the chains of a violation). 36 bytes, no
 * padding. sets == 0 marks an empty slot: a stored token is always in at
 * least one set.
 */
struct member {
	uint8_t token[CC_ELEMENT_BYTES];
	uint8_t sets;
	uint8_t cell;
	uint8_t first_chain;
	uint8_t last_chain;
};

_Static_assert(sizeof(struct member) == CC_ELEMENT_BYTES + 4,
    "struct member must stay packed");
_Static_assert(CC_LIMIT_SETS <= 8, "a membership mask is one byte");
_Static_assert(CC_LIMIT_QUERY_NODES <= 255, "a chain index is one byte");
_Static_assert(CC_LIMIT_AGE_BANDS * 2 <= 255, "a cell index is one byte");

/*
 * Open addressing with linear probing, the load at most 3/4: sized once,
 * before any batch is read, from an upper bound on the records of all
 * final batches (their file sizes), to exactly 4/3 of it (no rounding to
 * a power of two: the table is most of counting's memory). The slot of a
 * token comes from SipHash-2-4 under a random key drawn per count, mapped
 * onto the capacity by a multiply-shift: the producer of a final batch
 * chooses its tokens, and must not be able to make them collide.
 */
struct members {
	struct member *slot;
	size_t cap;
	size_t used;
	uint8_t hkey[crypto_shorthash_KEYBYTES];
};

#define MEMBERS_MIN_CAP 64

static int
members_init(struct members *m, size_t expected)
{
	size_t cap;

	memset(m, 0, sizeof(*m));
	randombytes_buf(m->hkey, sizeof(m->hkey));
	/* expected <= 32 * 2^24 (expected_records): no overflow. */
	cap = expected / 3 * 4 + 4;
	if (cap < MEMBERS_MIN_CAP)
		cap = MEMBERS_MIN_CAP;
	if (cap > UINT32_MAX || cap > SIZE_MAX / sizeof(*m->slot))
		return CC_ERR_LIMIT;
	if ((m->slot = calloc(cap, sizeof(*m->slot))) == NULL)
		return CC_ERR_ALLOC;
	m->cap = cap;
	return 0;
}

static void
members_wipe(struct members *m)
{
	if (m->slot != NULL) {
		sodium_memzero(m->slot, m->cap * sizeof(*m->slot));
		free(m->slot);
	}
	sodium_memzero(m, sizeof(*m));
}

/* The slot holding token, or the empty slot where it belongs. */
static struct member *
members_find(const struct members *m, const uint8_t token[CC_ELEMENT_BYTES])
{
	uint8_t h[crypto_shorthash_BYTES];
	uint32_t v;
	size_t i;

	crypto_shorthash(h, token, CC_ELEMENT_BYTES, m->hkey);
	memcpy(&v, h, sizeof(v));
	/* The load is below 1, so the probe always ends. */
	for (i = (size_t)(((uint64_t)v * m->cap) >> 32);;
	    i = i + 1 == m->cap ? 0 : i + 1) {
		if (m->slot[i].sets == 0 ||
		    memcmp(m->slot[i].token, token, CC_ELEMENT_BYTES) == 0)
			return &m->slot[i];
	}
}

/* The query's attribute shape (SPEC 5.6). */
static void
query_shape(struct cc_attr_shape *ret_shape, const struct cc_query *q)
{
	ret_shape->age_bands = q->by_age_band ? (uint8_t)q->nbands : 0;
	ret_shape->sex = q->by_sex;
}

/* The checks a struct cc_query from cc_query_parse passes; defensive. */
static int
query_sane(const struct cc_query *q, struct cc_diag *diag)
{
	size_t c;

	if (q->nsets < 1 || q->nsets > CC_LIMIT_SETS || q->nnodes < 1 ||
	    q->nnodes > CC_LIMIT_QUERY_NODES ||
	    (q->by_age_band && (q->nbands < 1 ||
	    q->nbands > CC_LIMIT_AGE_BANDS)) ||
	    cc_query_regions(q) * cc_query_cells(q) > CC_LIMIT_TABLE_CELLS) {
		cc_diag_set(diag, "the query is not a validated query");
		return CC_ERR_INVALID_ARGUMENT;
	}
	for (c = 0; c < q->nnodes; c++) {
		if (cc_query_set_of_node(q, q->nodes[c]) < 0) {
			cc_diag_set(diag, "node %s of the query is in no set",
			    q->nodes[c]);
			return CC_ERR_INVALID_ARGUMENT;
		}
	}
	return 0;
}

/*
 * An upper bound on the records of all final batches from their file
 * sizes (each record is 96 bytes), to size the membership table once.
 * A file that cannot be stat'ed counts 0: reading it fails later with a
 * proper message.
 */
static size_t
expected_records(const char *const *paths, size_t npaths, uint32_t max_count)
{
	struct stat st;
	size_t total = 0, n, c;

	for (c = 0; c < npaths; c++) {
		if (stat(paths[c], &st) != 0 || st.st_size < 0)
			continue;
		n = (uintmax_t)st.st_size / CC_BATCH_RECORD_BYTES >
		    max_count ? max_count :
		    (size_t)((uintmax_t)st.st_size / CC_BATCH_RECORD_BYTES);
		total += n;  /* <= 32 * 2^24, no overflow */
	}
	return total;
}

/*
 * SPEC 9.1 steps 1-4 for chain c: read the final batch in chunks, check
 * its header, open every block, drop dummies, and add each real token to
 * the membership table with the chain's set bit. The elements are not
 * checked again: the commit did (8.6), and opening decodes A and B.
 */
static int
count_chain(struct members *m, const struct cc_query *q,
    const uint8_t query_id[CC_BATCH_QUERY_ID_BYTES], uint16_t c,
    const char *path, const struct cc_seal_key *key, uint32_t max_count,
    struct cc_diag *diag)
{
	struct cc_attr_shape shape;
	struct cc_batch_stream *s = NULL;
	const struct cc_batch_header *h;
	struct cc_attr *attrs = NULL;
	struct member *slot;
	const uint8_t *recs, *rec;
	uint16_t nodes = (uint16_t)q->nnodes;
	size_t n = 0, first, i;
	uint8_t set_bit;
	int r = CC_ERR_INTERNAL, cell;

	query_shape(&shape, q);
	set_bit = (uint8_t)(1u << cc_query_set_of_node(q, q->nodes[c]));
	if ((r = cc_batch_stream_open(&s, path, max_count, false, diag)) != 0)
		goto out;
	h = cc_batch_stream_header(s);
	if ((r = cc_batch_header_expect(h, query_id, c, nodes - 1, nodes,
	    diag)) != 0 ||
	    (r = cc_attr_refs_check(cc_batch_stream_refs(s), h->nrefs, &shape,
	    diag)) != 0)
		goto out;
	if ((attrs = calloc(CC_BATCH_STREAM_RECORDS, sizeof(*attrs))) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	for (;;) {
		if ((r = cc_batch_stream_next(s, &recs, &n, &first, diag)) != 0)
			goto out;
		if (n == 0)
			break;
		if ((r = cc_batch_open_records(recs, n, cc_batch_stream_refs(s),
		    h->nrefs, key, attrs, first, diag)) != 0)
			goto out;
		for (i = 0, rec = recs; i < n; i++, rec += CC_BATCH_RECORD_BYTES) {
			if (attrs[i].dummy)
				continue;
			/* The references match the shape: cannot fail. */
			if ((cell = cc_query_cell_of(q, attrs[i].age_band,
			    attrs[i].sex)) < 0) {
				cc_diag_set(diag, "record %zu: attribute "
				    "outside the query's breakdown", first + i);
				r = CC_ERR_FORMAT;
				goto out;
			}
			/*
			 * The table was sized from the file sizes before
			 * reading; a file can only outgrow that by changing
			 * meanwhile.
			 */
			if (m->used + 1 > m->cap / 4 * 3) {
				cc_diag_set(diag, "the batch files changed "
				    "during counting");
				r = CC_ERR_IO;
				goto out;
			}
			slot = members_find(m, rec + CC_BATCH_TOKEN_OFFSET);
			if (slot->sets == 0) {
				memcpy(slot->token, rec + CC_BATCH_TOKEN_OFFSET,
				    CC_ELEMENT_BYTES);
				slot->sets = set_bit;
				slot->cell = (uint8_t)cell;
				slot->first_chain = (uint8_t)c;
				slot->last_chain = (uint8_t)c;
				m->used++;
				continue;
			}
			/*
			 * Chains are read in order, so a token already marked
			 * with this chain came twice from it: the origin
			 * selects distinct persons and every step is a
			 * bijection (SPEC 9.1).
			 */
			if (slot->last_chain == c) {
				cc_diag_set(diag, "a token appears twice in the "
				    "final batch");
				r = CC_ERR_FORMAT;
				goto out;
			}
			if (slot->cell != (uint8_t)cell) {
				cc_diag_set(diag, "a person has different "
				    "attributes in chain %u (origin %s) and in "
				    "this chain", slot->first_chain,
				    q->nodes[slot->first_chain]);
				r = CC_ERR_FORMAT;
				goto out;
			}
			/* Several chains of one set: the bit is set again. */
			slot->sets |= set_bit;
			slot->last_chain = (uint8_t)c;
		}
	}
	r = 0;
out:
	if (r != 0)
		cc_diag_prefix(diag, "chain %u (origin %s): ", c, q->nodes[c]);
	if (attrs != NULL) {
		sodium_memzero(attrs, CC_BATCH_STREAM_RECORDS * sizeof(*attrs));
		free(attrs);
	}
	cc_batch_stream_free(s);
	return r;
}

int
cc_counting_count(uint64_t *ret_base, size_t nbase, const struct cc_query *q,
    const uint8_t query_id[CC_BATCH_QUERY_ID_BYTES],
    const char *const *final_paths, size_t npaths,
    const struct cc_seal_key *key, uint32_t max_count, struct cc_diag *diag)
{
	struct members m;
	size_t ncells, i, c;
	int r = CC_ERR_INTERNAL;

	memset(&m, 0, sizeof(m));
	if (ret_base != NULL && nbase <= SIZE_MAX / sizeof(*ret_base))
		memset(ret_base, 0, nbase * sizeof(*ret_base));
	if (ret_base == NULL || q == NULL || query_id == NULL ||
	    final_paths == NULL || key == NULL) {
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if ((r = query_sane(q, diag)) != 0)
		goto out;
	ncells = cc_query_cells(q);
	if (nbase != cc_query_regions(q) * ncells || npaths != q->nnodes) {
		cc_diag_set(diag, "expected %zu base cells and %zu final "
		    "batches", cc_query_regions(q) * ncells, q->nnodes);
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	for (c = 0; c < npaths; c++) {
		if (final_paths[c] == NULL) {
			r = CC_ERR_INVALID_ARGUMENT;
			goto out;
		}
	}
	if (max_count == 0 || max_count > CC_LIMIT_BATCH_ELEMENTS)
		max_count = CC_LIMIT_BATCH_ELEMENTS;
	if ((r = members_init(&m, expected_records(final_paths, npaths,
	    max_count))) != 0)
		goto out;
	for (c = 0; c < npaths; c++) {
		if ((r = count_chain(&m, q, query_id, (uint16_t)c,
		    final_paths[c], key, max_count, diag)) != 0)
			goto out;
	}
	/* SPEC 9.2: one base cell per (region = membership mask, cell). */
	for (i = 0; i < m.cap; i++) {
		if (m.slot[i].sets == 0)
			continue;
		ret_base[(size_t)(m.slot[i].sets - 1) * ncells +
		    m.slot[i].cell]++;
	}
	r = 0;
out:
	/* SPEC 12.2: the membership table lives only during counting. */
	members_wipe(&m);
	if (r != 0 && ret_base != NULL && nbase <= SIZE_MAX / sizeof(*ret_base))
		sodium_memzero(ret_base, nbase * sizeof(*ret_base));
	return r;
}

/* ---- the released table (SPEC 9.6) ---------------------------------- */

/* obj[name] = value, taking the reference; CC_ERR_ALLOC on failure. */
static int
set_new(json_t *obj, const char *name, json_t *value)
{
	if (value == NULL)
		return CC_ERR_ALLOC;
	return json_object_set_new(obj, name, value) == 0 ? 0 : CC_ERR_ALLOC;
}

static int
append_new(json_t *array, json_t *value)
{
	if (value == NULL)
		return CC_ERR_ALLOC;
	return json_array_append_new(array, value) == 0 ? 0 : CC_ERR_ALLOC;
}

/* "count" and "suppressed" of a published item. */
static int
set_count(json_t *obj, uint64_t value, bool withheld)
{
	int r;

	if (!withheld && value > (uint64_t)INT64_MAX)
		return CC_ERR_LIMIT;
	if ((r = set_new(obj, "count", withheld ? json_null() :
	    json_integer((json_int_t)value))) != 0)
		return r;
	return set_new(obj, "suppressed", json_boolean(withheld));
}

/* The labels of the sets in region (bit i = set i), in the query's order. */
static int
combination_new(json_t **ret_array, const struct cc_query *q, size_t region)
{
	json_t *a;
	size_t i;
	int r;

	*ret_array = NULL;
	if ((a = json_array()) == NULL)
		return CC_ERR_ALLOC;
	for (i = 0; i < q->nsets; i++) {
		if ((region & ((size_t)1 << i)) != 0 &&
		    (r = append_new(a, json_string(q->sets[i].label))) != 0) {
			json_decref(a);
			return r;
		}
	}
	*ret_array = a;
	return 0;
}

static unsigned
popcount(size_t v)
{
	unsigned n = 0;

	for (; v != 0; v &= v - 1)
		n++;
	return n;
}

/*
 * Regions in publication order: by the number of sets, then by mask.
 * order must hold cc_query_regions(q) entries.
 */
static void
region_order(size_t *order, const struct cc_query *q)
{
	size_t nregions = cc_query_regions(q), n = 0, region;
	unsigned k;

	for (k = 1; k <= q->nsets; k++)
		for (region = 1; region <= nregions; region++)
			if (popcount(region) == k)
				order[n++] = region;
}

/* The cells array (SPEC 9.2 base cells in publication order). */
static int
cells_new(json_t **ret_cells, const struct cc_query *q, const size_t *order,
    const uint64_t *base, const bool *withheld)
{
	char label[CC_QUERY_CELL_LABEL_MAX];
	json_t *cells = NULL, *cell = NULL, *comb = NULL;
	size_t ncells = cc_query_cells(q), nregions = cc_query_regions(q);
	size_t k, i, idx;
	int r = CC_ERR_INTERNAL, band, sex;

	*ret_cells = NULL;
	if ((cells = json_array()) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	for (k = 0; k < nregions; k++) {
		for (i = 0; i < ncells; i++) {
			idx = (order[k] - 1) * ncells + i;
			if ((cell = json_object()) == NULL) {
				r = CC_ERR_ALLOC;
				goto out;
			}
			if ((r = combination_new(&comb, q, order[k])) != 0 ||
			    (r = set_new(cell, "combination", comb)) != 0)
				goto out;
			comb = NULL;
			if ((r = cc_query_cell_attributes(&band, &sex, q,
			    i)) != 0)
				goto out;
			if (q->by_age_band) {
				if ((r = cc_query_band_label(label, q,
				    (size_t)band)) != 0 ||
				    (r = set_new(cell, "age_band",
				    json_string(label))) != 0)
					goto out;
			}
			if (q->by_sex && (r = set_new(cell, "sex",
			    json_string(sex == CC_QUERY_SEX_FEMALE ? "F" :
			    "M"))) != 0)
				goto out;
			if ((r = set_count(cell, base[idx], withheld[idx])) != 0)
				goto out;
			r = append_new(cells, cell);
			cell = NULL;
			if (r != 0)
				goto out;
		}
	}
	*ret_cells = cells;
	cells = NULL;
	r = 0;
out:
	json_decref(comb);
	json_decref(cell);
	json_decref(cells);
	return r;
}

/*
 * The set totals (margins 0..nsets-1) and, when ncells > 1, the
 * combination totals (margins nsets + region - 1), as
 * cc_disclosure_venn_margins numbers them.
 */
static int
totals_new(json_t **ret_sets, json_t **ret_combinations,
    const struct cc_query *q, const size_t *order, const uint64_t *base,
    size_t nbase, const struct cc_margin *margins, size_t nmargins,
    const bool *withheld)
{
	json_t *sets = NULL, *combs = NULL, *item = NULL, *comb = NULL;
	size_t nregions = cc_query_regions(q), i, m;
	uint64_t value;
	int r = CC_ERR_INTERNAL;

	*ret_sets = NULL;
	*ret_combinations = NULL;
	if ((sets = json_array()) == NULL || (combs = json_array()) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < q->nsets; i++) {
		if ((r = cc_disclosure_margin_value(&value, base, nbase,
		    &margins[i])) != 0)
			goto out;
		if ((item = json_object()) == NULL) {
			r = CC_ERR_ALLOC;
			goto out;
		}
		if ((r = set_new(item, "set", json_string(q->sets[i].label))) != 0 ||
		    (r = set_count(item, value, withheld[i])) != 0)
			goto out;
		r = append_new(sets, item);
		item = NULL;
		if (r != 0)
			goto out;
	}
	for (i = 0; nmargins > q->nsets && i < nregions; i++) {
		m = q->nsets + order[i] - 1;
		if (m >= nmargins) {
			r = CC_ERR_INTERNAL;
			goto out;
		}
		if ((r = cc_disclosure_margin_value(&value, base, nbase,
		    &margins[m])) != 0)
			goto out;
		if ((item = json_object()) == NULL) {
			r = CC_ERR_ALLOC;
			goto out;
		}
		if ((r = combination_new(&comb, q, order[i])) != 0 ||
		    (r = set_new(item, "combination", comb)) != 0)
			goto out;
		comb = NULL;
		if ((r = set_count(item, value, withheld[m])) != 0)
			goto out;
		r = append_new(combs, item);
		item = NULL;
		if (r != 0)
			goto out;
	}
	*ret_sets = sets;
	*ret_combinations = combs;
	sets = NULL;
	combs = NULL;
	r = 0;
out:
	json_decref(comb);
	json_decref(item);
	json_decref(sets);
	json_decref(combs);
	return r;
}

/* The table's header members: id, title, status, min_cell, labels, ... */
static int
header_set(json_t *t, const struct cc_query *q,
    const uint8_t query_id[CC_BATCH_QUERY_ID_BYTES])
{
	char hex[2 * CC_BATCH_QUERY_ID_BYTES + 1];
	char label[CC_QUERY_CELL_LABEL_MAX];
	json_t *a = NULL;
	size_t i;
	int r = CC_ERR_INTERNAL;

	sodium_bin2hex(hex, sizeof(hex), query_id, CC_BATCH_QUERY_ID_BYTES);
	if ((r = set_new(t, "id", json_string(hex))) != 0 ||
	    (r = set_new(t, "title", json_string(q->title))) != 0 ||
	    (r = set_new(t, "status", json_string("released"))) != 0 ||
	    (r = set_new(t, "min_cell", json_integer(q->min_cell))) != 0)
		goto out;
	if ((a = json_array()) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < q->nsets; i++)
		if ((r = append_new(a, json_string(q->sets[i].label))) != 0)
			goto out;
	r = set_new(t, "labels", a);
	a = NULL;
	if (r != 0 || (a = json_array()) == NULL) {
		r = r != 0 ? r : CC_ERR_ALLOC;
		goto out;
	}
	if ((q->by_age_band && (r = append_new(a,
	    json_string("age_band"))) != 0) ||
	    (q->by_sex && (r = append_new(a, json_string("sex"))) != 0))
		goto out;
	r = set_new(t, "breakdown", a);
	a = NULL;
	if (r != 0 || !q->by_age_band)
		goto out;
	if ((a = json_array()) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < q->nbands; i++)
		if ((r = cc_query_band_label(label, q, i)) != 0 ||
		    (r = append_new(a, json_string(label))) != 0)
			goto out;
	r = set_new(t, "age_bands", a);
	a = NULL;
out:
	json_decref(a);
	return r;
}

int
cc_counting_digest(char ret_hex[CC_COUNTING_DIGEST_HEX], const json_t *result)
{
	uint8_t d[crypto_hash_sha256_BYTES];
	json_t *copy = NULL;
	char *text = NULL;
	int r = CC_ERR_INTERNAL;

	ret_hex[0] = '\0';
	if (!json_is_object(result))
		return CC_ERR_INVALID_ARGUMENT;
	/*
	 * A shallow copy without "digest" (Jansson's API is not const; the
	 * copy only takes references to the members).
	 */
	if ((copy = json_copy((json_t *)(uintptr_t)result)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	json_object_del(copy, "digest");
	if ((text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	crypto_hash_sha256(d, (const uint8_t *)text, strlen(text));
	sodium_bin2hex(ret_hex, CC_COUNTING_DIGEST_HEX, d, sizeof(d));
	r = 0;
out:
	free(text);
	json_decref(copy);
	return r;
}

int
cc_counting_table(json_t **ret_result, const struct cc_query *q,
    const uint8_t query_id[CC_BATCH_QUERY_ID_BYTES], const uint64_t *base,
    size_t nbase, struct cc_diag *diag)
{
	char digest[CC_COUNTING_DIGEST_HEX];
	struct cc_margin *margins = NULL, *known = NULL;
	size_t nmargins = 0, nknown = 0, order[(1u << CC_LIMIT_SETS) - 1];
	bool *base_withheld = NULL, *margin_withheld = NULL;
	json_t *t = NULL, *cells = NULL, *sets = NULL, *combs = NULL;
	int r = CC_ERR_INTERNAL;

	if (ret_result != NULL)
		*ret_result = NULL;
	if (ret_result == NULL || q == NULL || query_id == NULL ||
	    base == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = query_sane(q, diag)) != 0)
		goto out;
	if (nbase != cc_query_regions(q) * cc_query_cells(q)) {
		cc_diag_set(diag, "expected %zu base cells, got %zu",
		    cc_query_regions(q) * cc_query_cells(q), nbase);
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	/*
	 * SPEC 9.3: the published margins; 9.5: the known margins (each
	 * set's total per breakdown cell, which its nodes can count
	 * themselves: never published, but no withheld item may follow from
	 * them); 9.4-9.5: what is withheld.
	 */
	if ((r = cc_disclosure_venn_margins(&margins, &nmargins, q->nsets,
	    cc_query_cells(q))) != 0 ||
	    (r = cc_disclosure_venn_known_margins(&known, &nknown, q->nsets,
	    cc_query_cells(q))) != 0)
		goto out;
	if ((base_withheld = calloc(nbase, sizeof(*base_withheld))) == NULL ||
	    (margin_withheld = calloc(nmargins,
	    sizeof(*margin_withheld))) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if ((r = cc_disclosure_protect(base_withheld, margin_withheld, base,
	    nbase, margins, nmargins, known, nknown, q->min_cell,
	    diag)) != 0) {
		cc_diag_prefix(diag, "disclosure control: ");
		goto out;
	}
	/* SPEC 9.6: the table, then its digest. */
	region_order(order, q);
	if ((t = json_object()) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if ((r = header_set(t, q, query_id)) != 0 ||
	    (r = cells_new(&cells, q, order, base, base_withheld)) != 0 ||
	    (r = totals_new(&sets, &combs, q, order, base, nbase, margins,
	    nmargins, margin_withheld)) != 0)
		goto out;
	r = set_new(t, "cells", cells);
	cells = NULL;
	if (r != 0)
		goto out;
	r = set_new(t, "set_totals", sets);
	sets = NULL;
	if (r != 0)
		goto out;
	r = set_new(t, "combination_totals", combs);
	combs = NULL;
	if (r != 0)
		goto out;
	if ((r = cc_counting_digest(digest, t)) != 0 ||
	    (r = set_new(t, "digest", json_string(digest))) != 0)
		goto out;
	*ret_result = t;
	t = NULL;
	r = 0;
out:
	if (r == CC_ERR_ALLOC)
		cc_diag_set(diag, "out of memory building the released table");
	json_decref(cells);
	json_decref(sets);
	json_decref(combs);
	json_decref(t);
	free(base_withheld);
	free(margin_withheld);
	cc_disclosure_margins_free(margins);
	cc_disclosure_margins_free(known);
	return r;
}

int
cc_counting_run(json_t **ret_result, const struct cc_query *q,
    const uint8_t query_id[CC_BATCH_QUERY_ID_BYTES],
    const char *const *final_paths, size_t npaths,
    const struct cc_seal_key *key, uint32_t max_count, struct cc_diag *diag)
{
	uint64_t *base = NULL;
	size_t nbase = 0;
	int r = CC_ERR_INTERNAL;

	if (ret_result != NULL)
		*ret_result = NULL;
	if (ret_result == NULL || q == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((r = query_sane(q, diag)) != 0)
		return r;
	nbase = cc_query_regions(q) * cc_query_cells(q);
	if ((base = calloc(nbase, sizeof(*base))) == NULL)
		return CC_ERR_ALLOC;
	if ((r = cc_counting_count(base, nbase, q, query_id, final_paths,
	    npaths, key, max_count, diag)) != 0)
		goto out;
	r = cc_counting_table(ret_result, q, query_id, base, nbase, diag);
out:
	/* SPEC 12.2: unprotected counts do not outlive counting. */
	sodium_memzero(base, nbase * sizeof(*base));
	free(base);
	return r;
}

/* ---- result.csv ------------------------------------------------------ */

/*
 * One CSV field: a leading "'" against formula injection, then RFC 4180
 * quoting when the text holds the delimiter, a quote or a line break.
 */
static int
csv_field(struct cc_buf *out, const char *s, size_t len)
{
	static const char formula[] = "=+-@\t\r";
	bool guard = len > 0 && memchr(formula, s[0], sizeof(formula) - 1);
	bool quote = false;
	size_t i;
	int r;

	for (i = 0; i < len; i++) {
		if (s[i] == '\0')
			return CC_ERR_FORMAT;
		if (s[i] == ';' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			quote = true;
	}
	if (quote && (r = cc_buf_put_u8(out, '"')) != 0)
		return r;
	if (guard && (r = cc_buf_put_u8(out, '\'')) != 0)
		return r;
	for (i = 0; i < len; i++) {
		if (s[i] == '"' && (r = cc_buf_put_u8(out, '"')) != 0)
			return r;
		if ((r = cc_buf_put_u8(out, (uint8_t)s[i])) != 0)
			return r;
	}
	if (quote && (r = cc_buf_put_u8(out, '"')) != 0)
		return r;
	return 0;
}

/* An optional string member as a field ("" when absent). */
static int
csv_optional(struct cc_buf *out, const json_t *cell, const char *name)
{
	const json_t *v = json_object_get(cell, name);

	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return CC_ERR_FORMAT;
	return csv_field(out, json_string_value(v), json_string_length(v));
}

static int
csv_row(struct cc_buf *out, struct cc_buf *comb, const json_t *cell)
{
	char num[24];
	const json_t *labels, *label, *count, *suppressed;
	size_t i;
	int r, n;

	if (!json_is_object(cell) ||
	    !json_is_array(labels = json_object_get(cell, "combination")) ||
	    json_array_size(labels) == 0 ||
	    (count = json_object_get(cell, "count")) == NULL ||
	    !json_is_boolean(suppressed = json_object_get(cell, "suppressed")))
		return CC_ERR_FORMAT;
	/* A withheld count is null; a published one a non-negative integer. */
	if (json_is_true(suppressed) ? !json_is_null(count) :
	    !json_is_integer(count) || json_integer_value(count) < 0)
		return CC_ERR_FORMAT;
	cc_buf_reset(comb);
	for (i = 0; i < json_array_size(labels); i++) {
		label = json_array_get(labels, i);
		if (!json_is_string(label))
			return CC_ERR_FORMAT;
		if ((i > 0 && (r = cc_buf_put(comb, " + ", 3)) != 0) ||
		    (r = cc_buf_put(comb, json_string_value(label),
		    json_string_length(label))) != 0)
			return r;
	}
	if ((r = csv_field(out, (const char *)cc_buf_data(comb),
	    cc_buf_len(comb))) != 0 ||
	    (r = cc_buf_put_u8(out, ';')) != 0 ||
	    (r = csv_optional(out, cell, "age_band")) != 0 ||
	    (r = cc_buf_put_u8(out, ';')) != 0 ||
	    (r = csv_optional(out, cell, "sex")) != 0 ||
	    (r = cc_buf_put_u8(out, ';')) != 0)
		return r;
	if (json_is_integer(count)) {
		n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(count));
		if (n < 0 || (size_t)n >= sizeof(num))
			return CC_ERR_INTERNAL;
		if ((r = cc_buf_put(out, num, (size_t)n)) != 0)
			return r;
	}
	if ((r = cc_buf_put_u8(out, ';')) != 0)
		return r;
	if (json_is_true(suppressed))
		r = cc_buf_put(out, "true\r\n", 6);
	else
		r = cc_buf_put(out, "false\r\n", 7);
	return r;
}

int
cc_counting_csv(const json_t *result, char **ret_text, size_t *ret_len)
{
	static const char head[] = "\xEF\xBB\xBF"
	    "combination;age_band;sex;count;suppressed\r\n";
	struct cc_buf *out = NULL, *comb = NULL;
	const json_t *cells;
	char *text = NULL;
	size_t i, len;
	int r = CC_ERR_INTERNAL;

	if (ret_text != NULL)
		*ret_text = NULL;
	if (ret_len != NULL)
		*ret_len = 0;
	if (ret_text == NULL || ret_len == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if (!json_is_object(result) ||
	    !json_is_array(cells = json_object_get(result, "cells")) ||
	    json_array_size(cells) > CC_LIMIT_TABLE_CELLS)
		return CC_ERR_FORMAT;
	if ((out = cc_buf_new(CC_LIMIT_HTTP_RESPONSE)) == NULL ||
	    (comb = cc_buf_new(CC_LIMIT_HTTP_RESPONSE)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	if ((r = cc_buf_put(out, head, sizeof(head) - 1)) != 0)
		goto out;
	for (i = 0; i < json_array_size(cells); i++)
		if ((r = csv_row(out, comb, json_array_get(cells, i))) != 0)
			goto out;
	len = cc_buf_len(out);
	if ((text = malloc(len + 1)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	memcpy(text, cc_buf_data(out), len);
	text[len] = '\0';
	*ret_text = text;
	*ret_len = len;
	r = 0;
out:
	cc_buf_free(comb);
	cc_buf_free(out);
	return r;
}
