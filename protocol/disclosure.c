/*
 * crosscount: disclosure control of a released table (see disclosure.h;
 * SPEC.md 9.3-9.5).
 *
 * Derivability is decided exactly. The unknowns are the withheld base
 * cells; each published margin is one equation. Withheld cells that lie
 * in exactly the same published margins form a class: a class of two or
 * more cells can never be solved cell by cell (their difference is free),
 * and an item's row lies in the row space only if it treats a class as a
 * whole, so each class becomes one column. The matrix is then at most
 * (published margins) x (classes), small for crosscount's tables (a class
 * per Venn region), and is brought to reduced echelon form by
 * fraction-free Gauss-Jordan elimination (Bareiss) on BIGNUMs, with the
 * row operations recorded so that the margins used by a derivation are
 * known.
 */
#include "protocol/disclosure.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>

#include "protocol/limits.h"

/*
 * A matrix of BIGNUMs with `cols` equation columns followed, when
 * tracking, by `rows` columns recording the row operations (T in
 * M = T * A), brought to fraction-free reduced echelon form.
 */
struct elim {
	size_t rows, cols, width;
	BIGNUM **m;             /* rows x width, row major */
	long *pivot_row_of_col; /* -1 for a free column */
	size_t *pivot_col;      /* pivot column of row 0..rank-1 */
	size_t rank;
	BIGNUM *d;              /* the common pivot value (1 if rank 0) */
};

#define AT(e, i, j) ((e)->m[(i) * (e)->width + (j)])

static void
elim_free(struct elim *e)
{
	size_t i;

	if (e == NULL)
		return;
	if (e->m != NULL) {
		for (i = 0; i < e->rows * e->width; i++)
			BN_free(e->m[i]);
	}
	free(e->m);
	free(e->pivot_row_of_col);
	free(e->pivot_col);
	BN_free(e->d);
	free(e);
}

/*
 * A rows x cols matrix of zeros (plus an identity block if track).
 * Sizes are bounded by the callers (margins x classes).
 */
static int
elim_new(struct elim **ret_e, size_t rows, size_t cols, bool track)
{
	struct elim *e = NULL;
	size_t i, n;
	int r = CC_ERR_ALLOC;

	*ret_e = NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		goto out;
	e->rows = rows;
	e->cols = cols;
	e->width = cols + (track ? rows : 0);
	n = rows * e->width;
	if ((e->m = calloc(n > 0 ? n : 1, sizeof(*e->m))) == NULL ||
	    (e->pivot_row_of_col = calloc(cols > 0 ? cols : 1,
	    sizeof(*e->pivot_row_of_col))) == NULL ||
	    (e->pivot_col = calloc(rows > 0 ? rows : 1,
	    sizeof(*e->pivot_col))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if ((e->m[i] = BN_new()) == NULL)
			goto out;
	}
	if ((e->d = BN_new()) == NULL || !BN_one(e->d))
		goto out;
	if (track) {
		for (i = 0; i < rows; i++) {
			if (!BN_one(AT(e, i, cols + i)))
				goto out;
		}
	}
	r = 0;
	*ret_e = e;
	e = NULL;
out:
	elim_free(e);
	return r;
}

/*
 * Fraction-free Gauss-Jordan: for each pivot p (at row k, column c) every
 * other row i becomes (p * row_i - a_ic * row_k) / previous pivot. The
 * division is exact (every entry is a minor of the input, Sylvester's
 * identity); a remainder is a bug and fails with CC_ERR_INTERNAL. At the
 * end every pivot equals d and M / d is the reduced echelon form.
 */
static int
elim_run(struct elim *e, BN_CTX *ctx)
{
	BIGNUM *prev = NULL, *piv = NULL, *a = NULL, *t1, *t2, *rem, *tmp;
	size_t c, i, j, k, p;
	int r = CC_ERR_CRYPTO;

	BN_CTX_start(ctx);
	t1 = BN_CTX_get(ctx);
	t2 = BN_CTX_get(ctx);
	rem = BN_CTX_get(ctx);
	if (rem == NULL)
		goto out;
	if ((prev = BN_new()) == NULL || (piv = BN_new()) == NULL ||
	    (a = BN_new()) == NULL || !BN_one(prev))
		goto out;
	e->rank = 0;
	for (c = 0; c < e->cols; c++)
		e->pivot_row_of_col[c] = -1;
	for (c = 0; c < e->cols && e->rank < e->rows; c++) {
		k = e->rank;
		for (p = k; p < e->rows && BN_is_zero(AT(e, p, c)); p++)
			;
		if (p == e->rows)
			continue;
		if (p != k) {
			for (j = 0; j < e->width; j++) {
				tmp = AT(e, p, j);
				AT(e, p, j) = AT(e, k, j);
				AT(e, k, j) = tmp;
			}
		}
		if (BN_copy(piv, AT(e, k, c)) == NULL)
			goto out;
		for (i = 0; i < e->rows; i++) {
			if (i == k)
				continue;
			if (BN_copy(a, AT(e, i, c)) == NULL)
				goto out;
			for (j = 0; j < e->width; j++) {
				BIGNUM *x = AT(e, i, j);
				const BIGNUM *y = AT(e, k, j);

				if (BN_is_zero(x) && (BN_is_zero(a) ||
				    BN_is_zero(y)))
					continue;
				if (!BN_mul(t1, piv, x, ctx) ||
				    !BN_mul(t2, a, y, ctx) ||
				    !BN_sub(t1, t1, t2) ||
				    !BN_div(x, rem, t1, prev, ctx))
					goto out;
				if (!BN_is_zero(rem)) {
					r = CC_ERR_INTERNAL;
					goto out;
				}
			}
		}
		if (BN_copy(prev, piv) == NULL)
			goto out;
		e->pivot_row_of_col[c] = (long)k;
		e->pivot_col[k] = c;
		e->rank++;
	}
	if (BN_copy(e->d, prev) == NULL)
		goto out;
	r = 0;
out:
	BN_free(prev);
	BN_free(piv);
	BN_free(a);
	BN_CTX_end(ctx);
	return r;
}

/* Validate the table and compute every margin's value. */
static int
check_table(uint64_t *mval, const uint64_t *base, size_t nbase,
    const struct cc_margin *margins, size_t nmargins, uint32_t min_cell,
    struct cc_diag *diag)
{
	size_t m, t;
	int r;

	if ((base == NULL && nbase > 0) || (margins == NULL && nmargins > 0) ||
	    min_cell < 1) {
		cc_diag_set(diag, "internal: table, margins or min_cell missing");
		return CC_ERR_INVALID_ARGUMENT;
	}
	if (nbase > CC_LIMIT_TABLE_CELLS ||
	    nmargins > CC_DISCLOSURE_MAX_MARGINS) {
		cc_diag_set(diag, "table of %zu cells and %zu margins is over "
		    "the limit (%d, %d)", nbase, nmargins,
		    CC_LIMIT_TABLE_CELLS, CC_DISCLOSURE_MAX_MARGINS);
		return CC_ERR_LIMIT;
	}
	for (m = 0; m < nmargins; m++) {
		const struct cc_margin *mg = &margins[m];

		if (mg->nterms == 0 || mg->terms == NULL ||
		    mg->nterms > nbase) {
			cc_diag_set(diag, "internal: margin %zu has no terms",
			    m);
			return CC_ERR_INVALID_ARGUMENT;
		}
		for (t = 0; t < mg->nterms; t++) {
			if (mg->terms[t] >= nbase ||
			    (t > 0 && mg->terms[t] <= mg->terms[t - 1])) {
				cc_diag_set(diag, "internal: margin %zu: terms "
				    "must be increasing cell indexes", m);
				return CC_ERR_INVALID_ARGUMENT;
			}
		}
		if ((r = cc_disclosure_margin_value(&mval[m], base, nbase,
		    mg)) != 0) {
			cc_diag_set(diag, "margin %zu overflows", m);
			return r;
		}
	}
	return 0;
}

int
cc_disclosure_margin_value(uint64_t *ret_value, const uint64_t *base,
    size_t nbase, const struct cc_margin *margin)
{
	uint64_t sum = 0;
	size_t t;

	*ret_value = 0;
	if (margin == NULL || (margin->terms == NULL && margin->nterms > 0))
		return CC_ERR_INVALID_ARGUMENT;
	for (t = 0; t < margin->nterms; t++) {
		if (margin->terms[t] >= nbase || base == NULL)
			return CC_ERR_INVALID_ARGUMENT;
		if (sum > UINT64_MAX - base[margin->terms[t]])
			return CC_ERR_LIMIT;
		sum += base[margin->terms[t]];
	}
	*ret_value = sum;
	return 0;
}

/* The state of one protection run. */
struct table {
	const uint64_t *base;
	size_t nbase;
	const struct cc_margin *margins;
	size_t nmargins;
	const uint64_t *mval;
	bool *bw;               /* base withheld */
	bool *mw;               /* margin withheld */
	BN_CTX *ctx;
	/* Per elimination round: */
	size_t nrows;           /* published margins with a withheld cell */
	size_t *row_margin;     /* row -> margin index */
	long *class_of;         /* base cell -> class, -1 if published */
	size_t *class_size;
	size_t nclasses;
	struct elim *e;
};

static void
round_clear(struct table *tb)
{
	free(tb->row_margin);
	free(tb->class_of);
	free(tb->class_size);
	elim_free(tb->e);
	tb->row_margin = NULL;
	tb->class_of = NULL;
	tb->class_size = NULL;
	tb->e = NULL;
	tb->nrows = 0;
	tb->nclasses = 0;
}

struct pattern_ref {
	const uint64_t *bits;
	size_t words;
	size_t cell;
};

static int
cmp_pattern(const void *a, const void *b)
{
	const struct pattern_ref *x = a, *y = b;
	size_t w;

	for (w = 0; w < x->words; w++) {
		if (x->bits[w] != y->bits[w])
			return x->bits[w] < y->bits[w] ? -1 : 1;
	}
	return x->cell < y->cell ? -1 : x->cell > y->cell;
}

/*
 * Build this round's matrix: rows = published margins containing a
 * withheld cell, columns = classes of withheld cells with the same row
 * pattern (numbered in order of their lowest cell), and eliminate.
 */
static int
round_build(struct table *tb)
{
	uint64_t *bits = NULL;
	struct pattern_ref *refs = NULL;
	size_t *class_first = NULL;
	size_t words, nw = 0, i, m, t, row;
	long cls;
	int r = CC_ERR_ALLOC;

	round_clear(tb);
	if ((tb->row_margin = calloc(tb->nmargins + 1,
	    sizeof(*tb->row_margin))) == NULL ||
	    (tb->class_of = calloc(tb->nbase + 1,
	    sizeof(*tb->class_of))) == NULL ||
	    (tb->class_size = calloc(tb->nbase + 1,
	    sizeof(*tb->class_size))) == NULL)
		goto out;
	for (m = 0; m < tb->nmargins; m++) {
		if (tb->mw[m])
			continue;
		for (t = 0; t < tb->margins[m].nterms; t++) {
			if (tb->bw[tb->margins[m].terms[t]]) {
				tb->row_margin[tb->nrows++] = m;
				break;
			}
		}
	}
	words = tb->nrows / 64 + 1;
	if ((bits = calloc(tb->nbase * words + 1, sizeof(*bits))) == NULL ||
	    (refs = calloc(tb->nbase + 1, sizeof(*refs))) == NULL ||
	    (class_first = calloc(tb->nbase + 1,
	    sizeof(*class_first))) == NULL)
		goto out;
	for (row = 0; row < tb->nrows; row++) {
		const struct cc_margin *mg = &tb->margins[tb->row_margin[row]];

		for (t = 0; t < mg->nterms; t++)
			bits[mg->terms[t] * words + row / 64] |=
			    (uint64_t)1 << (row % 64);
	}
	for (i = 0; i < tb->nbase; i++) {
		tb->class_of[i] = -1;
		if (!tb->bw[i])
			continue;
		refs[nw].bits = &bits[i * words];
		refs[nw].words = words;
		refs[nw].cell = i;
		nw++;
	}
	/* Group equal patterns; within a group cells stay in index order. */
	qsort(refs, nw, sizeof(*refs), cmp_pattern);
	for (i = 0; i < nw; i++) {
		if (i == 0 || memcmp(refs[i].bits, refs[i - 1].bits,
		    words * sizeof(*bits)) != 0)
			class_first[tb->nclasses++] = refs[i].cell;
		tb->class_of[refs[i].cell] = (long)tb->nclasses - 1;
	}
	/* Renumber classes by their lowest cell, so the order is stable. */
	{
		size_t *order = NULL, *rank_of = NULL, a, b;

		if ((order = calloc(tb->nclasses + 1, sizeof(*order))) == NULL ||
		    (rank_of = calloc(tb->nclasses + 1,
		    sizeof(*rank_of))) == NULL) {
			free(order);
			free(rank_of);
			goto out;
		}
		for (a = 0; a < tb->nclasses; a++)
			order[a] = a;
		/* Insertion sort: classes are few (at most a few hundred). */
		for (a = 1; a < tb->nclasses; a++) {
			size_t x = order[a];

			for (b = a; b > 0 &&
			    class_first[order[b - 1]] > class_first[x]; b--)
				order[b] = order[b - 1];
			order[b] = x;
		}
		for (a = 0; a < tb->nclasses; a++)
			rank_of[order[a]] = a;
		for (i = 0; i < tb->nbase; i++) {
			if (tb->class_of[i] >= 0) {
				tb->class_of[i] =
				    (long)rank_of[tb->class_of[i]];
				tb->class_size[tb->class_of[i]]++;
			}
		}
		free(order);
		free(rank_of);
	}
	if ((r = elim_new(&tb->e, tb->nrows, tb->nclasses, true)) != 0)
		goto out;
	r = CC_ERR_CRYPTO;
	for (row = 0; row < tb->nrows; row++) {
		const struct cc_margin *mg = &tb->margins[tb->row_margin[row]];

		for (t = 0; t < mg->nterms; t++) {
			cls = tb->class_of[mg->terms[t]];
			if (cls >= 0 && !BN_one(AT(tb->e, row, (size_t)cls)))
				goto out;
		}
	}
	r = elim_run(tb->e, tb->ctx);
out:
	free(bits);
	free(refs);
	free(class_first);
	return r;
}

/*
 * Is withheld base cell i derivable? Its class must be a single cell in
 * a pivot column whose row is d * e_class. On yes, *ret_row is that row.
 */
static bool
cell_derivable(const struct table *tb, size_t i, size_t *ret_row)
{
	const struct elim *e = tb->e;
	long cls = tb->class_of[i], row;
	size_t f;

	if (cls < 0 || tb->class_size[cls] != 1)
		return false;
	if ((row = e->pivot_row_of_col[cls]) < 0)
		return false;
	for (f = 0; f < e->cols; f++) {
		if ((long)f != cls && !BN_is_zero(AT(e, (size_t)row, f)))
			return false;
	}
	*ret_row = (size_t)row;
	return true;
}

/*
 * Is withheld margin m derivable? Its row over classes (v) must take
 * whole classes and satisfy d * v[f] = sum over pivot rows j of
 * v[pivot_col(j)] * M[j][f] for every column f. *ret_v gets v
 * (nclasses entries) on yes.
 */
static int
margin_derivable(bool *ret_yes, uint8_t *v, const struct table *tb,
    size_t m)
{
	const struct elim *e = tb->e;
	const struct cc_margin *mg = &tb->margins[m];
	size_t *count = NULL, t, f, j;
	BIGNUM *acc = NULL;
	long cls;
	int r = CC_ERR_ALLOC;

	*ret_yes = false;
	if ((count = calloc(tb->nclasses + 1, sizeof(*count))) == NULL)
		goto out;
	for (t = 0; t < mg->nterms; t++) {
		if ((cls = tb->class_of[mg->terms[t]]) >= 0)
			count[cls]++;
	}
	for (f = 0; f < tb->nclasses; f++) {
		if (count[f] != 0 && count[f] != tb->class_size[f]) {
			r = 0;  /* takes part of a class: not derivable */
			goto out;
		}
		v[f] = count[f] != 0;
	}
	r = CC_ERR_CRYPTO;
	if ((acc = BN_new()) == NULL)
		goto out;
	for (f = 0; f < e->cols; f++) {
		if (e->pivot_row_of_col[f] >= 0)
			continue;  /* pivot columns always agree */
		BN_zero(acc);
		for (j = 0; j < e->rank; j++) {
			if (v[e->pivot_col[j]] && !BN_add(acc, acc, AT(e, j, f)))
				goto out;
		}
		if (v[f] && !BN_sub(acc, acc, e->d))
			goto out;
		if (!BN_is_zero(acc)) {
			r = 0;
			goto out;
		}
	}
	*ret_yes = true;
	r = 0;
out:
	BN_free(acc);
	free(count);
	return r;
}

/*
 * Withhold the published base cell with the smallest positive count in
 * the given margins (involved[] over margins, plus `own` if not
 * SIZE_MAX); else the involved published margin with the smallest
 * positive value. Returns CC_ERR_INTERNAL if there is nothing to withhold.
 */
static int
withhold_one(struct table *tb, const bool *involved, size_t own)
{
	size_t m, t, best = SIZE_MAX, cell;

	for (m = 0; m < tb->nmargins; m++) {
		if (!involved[m] && m != own)
			continue;
		for (t = 0; t < tb->margins[m].nterms; t++) {
			cell = tb->margins[m].terms[t];
			if (tb->bw[cell] || tb->base[cell] == 0)
				continue;
			if (best == SIZE_MAX || tb->base[cell] < tb->base[best] ||
			    (tb->base[cell] == tb->base[best] && cell < best))
				best = cell;
		}
	}
	if (best != SIZE_MAX) {
		tb->bw[best] = true;
		return 0;
	}
	for (m = 0; m < tb->nmargins; m++) {
		if (!involved[m] || tb->mw[m] || tb->mval[m] == 0)
			continue;
		if (best == SIZE_MAX || tb->mval[m] < tb->mval[best])
			best = m;
	}
	if (best != SIZE_MAX) {
		tb->mw[best] = true;
		return 0;
	}
	return CC_ERR_INTERNAL;
}

/* The first published margin with exactly one withheld cell, or SIZE_MAX. */
static size_t
single_unknown_margin(const struct table *tb)
{
	size_t m, t, k;

	for (m = 0; m < tb->nmargins; m++) {
		if (tb->mw[m])
			continue;
		for (k = 0, t = 0; t < tb->margins[m].nterms && k < 2; t++)
			k += tb->bw[tb->margins[m].terms[t]];
		if (k == 1)
			return m;
	}
	return SIZE_MAX;
}

/*
 * Rule (a): find the first linearly derivable withheld item and withhold
 * one more item for it. *ret_found is false when nothing is derivable.
 */
static int
fix_linear(bool *ret_found, struct table *tb)
{
	struct elim *e;
	bool *involved = NULL, yes;
	uint8_t *v = NULL;
	BIGNUM *acc = NULL;
	size_t i, j, m, row, q;
	int r;

	*ret_found = false;
	if ((involved = calloc(tb->nmargins + 1, sizeof(*involved))) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	/*
	 * The common case without elimination: a published margin holding
	 * exactly one withheld cell gives it away by itself.
	 */
	if ((m = single_unknown_margin(tb)) != SIZE_MAX) {
		involved[m] = true;
		*ret_found = true;
		r = withhold_one(tb, involved, SIZE_MAX);
		goto out;
	}
	if ((r = round_build(tb)) != 0)
		goto out;
	e = tb->e;
	if ((v = calloc(tb->nclasses + 1, sizeof(*v))) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	/* Base cells first, by index: the combination is row `row` of T. */
	for (i = 0; i < tb->nbase; i++) {
		if (!tb->bw[i] || !cell_derivable(tb, i, &row))
			continue;
		for (q = 0; q < tb->nrows; q++) {
			if (!BN_is_zero(AT(e, row, e->cols + q)))
				involved[tb->row_margin[q]] = true;
		}
		*ret_found = true;
		r = withhold_one(tb, involved, SIZE_MAX);
		goto out;
	}
	/* Then margins: the combination is the sum of T's rows it uses. */
	r = CC_ERR_CRYPTO;
	if ((acc = BN_new()) == NULL)
		goto out;
	for (m = 0; m < tb->nmargins; m++) {
		if (!tb->mw[m])
			continue;
		if ((r = margin_derivable(&yes, v, tb, m)) != 0)
			goto out;
		if (!yes)
			continue;
		r = CC_ERR_CRYPTO;
		for (q = 0; q < tb->nrows; q++) {
			BN_zero(acc);
			for (j = 0; j < e->rank; j++) {
				if (v[e->pivot_col[j]] &&
				    !BN_add(acc, acc, AT(e, j, e->cols + q)))
					goto out;
			}
			if (!BN_is_zero(acc))
				involved[tb->row_margin[q]] = true;
		}
		*ret_found = true;
		r = withhold_one(tb, involved, m);
		goto out;
	}
	r = 0;
out:
	BN_free(acc);
	free(involved);
	free(v);
	return r;
}

/*
 * Rule (b): a published margin whose k >= 1 withheld cells sum to k shows
 * each of them is 1 (every withheld cell is >= 1: zeros are published).
 * Returns the first such margin in *ret_m, or SIZE_MAX.
 */
static size_t
all_ones_margin(const struct table *tb)
{
	size_t m, t, k;
	uint64_t sum;

	for (m = 0; m < tb->nmargins; m++) {
		if (tb->mw[m])
			continue;
		k = 0;
		sum = 0;
		for (t = 0; t < tb->margins[m].nterms; t++) {
			size_t cell = tb->margins[m].terms[t];

			if (tb->bw[cell]) {
				k++;
				sum += tb->base[cell];
			}
		}
		if (k > 0 && sum == k)
			return m;
	}
	return SIZE_MAX;
}

int
cc_disclosure_protect(bool *ret_base_withheld, bool *ret_margin_withheld,
    const uint64_t *base, size_t nbase, const struct cc_margin *margins,
    size_t nmargins, uint32_t min_cell, struct cc_diag *diag)
{
	struct table tb;
	uint64_t *mval = NULL;
	bool *bw = NULL, *mw = NULL, *none = NULL, found;
	size_t i, m, rounds;
	int r = CC_ERR_INTERNAL;

	memset(&tb, 0, sizeof(tb));
	if (ret_base_withheld != NULL && nbase > 0)
		memset(ret_base_withheld, 0, nbase * sizeof(bool));
	if (ret_margin_withheld != NULL && nmargins > 0)
		memset(ret_margin_withheld, 0, nmargins * sizeof(bool));
	if ((ret_base_withheld == NULL && nbase > 0) ||
	    (ret_margin_withheld == NULL && nmargins > 0)) {
		cc_diag_set(diag, "internal: no output arrays");
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	r = CC_ERR_ALLOC;
	if ((mval = calloc(nmargins + 1, sizeof(*mval))) == NULL ||
	    (bw = calloc(nbase + 1, sizeof(*bw))) == NULL ||
	    (mw = calloc(nmargins + 1, sizeof(*mw))) == NULL ||
	    (none = calloc(nmargins + 1, sizeof(*none))) == NULL)
		goto out;
	if ((r = check_table(mval, base, nbase, margins, nmargins, min_cell,
	    diag)) != 0)
		goto out;

	/* SPEC 9.4 primary suppression: 0 < value < min_cell. */
	for (i = 0; i < nbase; i++)
		bw[i] = base[i] > 0 && base[i] < min_cell;
	for (m = 0; m < nmargins; m++)
		mw[m] = mval[m] > 0 && mval[m] < min_cell;

	/* SPEC 9.5 secondary suppression, until nothing is derivable. */
	tb.base = base;
	tb.nbase = nbase;
	tb.margins = margins;
	tb.nmargins = nmargins;
	tb.mval = mval;
	tb.bw = bw;
	tb.mw = mw;
	if ((tb.ctx = BN_CTX_new()) == NULL) {
		r = CC_ERR_CRYPTO;
		goto out;
	}
	/* Every round withholds one more item, so this always ends. */
	for (rounds = 0; rounds <= nbase + nmargins; rounds++) {
		if ((r = fix_linear(&found, &tb)) != 0)
			goto fail;
		if (found)
			continue;
		if ((m = all_ones_margin(&tb)) == SIZE_MAX)
			break;
		/* Its smallest positive published cell, else the margin. */
		r = withhold_one(&tb, none, m);
		if (r == CC_ERR_INTERNAL) {
			mw[m] = true;
			r = 0;
		}
		if (r != 0)
			goto fail;
	}
	if (rounds > nbase + nmargins) {
		r = CC_ERR_INTERNAL;
		goto fail;
	}
	for (i = 0; i < nbase; i++)
		ret_base_withheld[i] = bw[i];
	for (m = 0; m < nmargins; m++)
		ret_margin_withheld[m] = mw[m];
	r = 0;
	goto out;
fail:
	cc_diag_set(diag, "secondary suppression failed: %s", cc_strerror(r));
out:
	round_clear(&tb);
	BN_CTX_free(tb.ctx);
	free(mval);
	free(bw);
	free(mw);
	free(none);
	return r;
}

/*
 * The rank of the published margins restricted to the withheld cells,
 * with `extra` (nbase entries, 0/1) as one more row if not NULL.
 */
static int
published_rank(size_t *ret_rank, const uint64_t *base, size_t nbase,
    const struct cc_margin *margins, size_t nmargins, const bool *bw,
    const bool *mw, const uint8_t *extra, BN_CTX *ctx)
{
	struct elim *e = NULL;
	size_t *col = NULL, ncols = 0, nrows = 0, i, m, t, row = 0;
	int r = CC_ERR_ALLOC;

	(void)base;
	*ret_rank = 0;
	if ((col = calloc(nbase + 1, sizeof(*col))) == NULL)
		goto out;
	for (i = 0; i < nbase; i++)
		col[i] = bw[i] ? ncols++ : SIZE_MAX;
	for (m = 0; m < nmargins; m++)
		nrows += !mw[m];
	nrows += extra != NULL;
	if ((r = elim_new(&e, nrows, ncols, false)) != 0)
		goto out;
	r = CC_ERR_CRYPTO;
	for (m = 0; m < nmargins; m++) {
		if (mw[m])
			continue;
		for (t = 0; t < margins[m].nterms; t++) {
			i = margins[m].terms[t];
			if (col[i] != SIZE_MAX && !BN_one(AT(e, row, col[i])))
				goto out;
		}
		row++;
	}
	if (extra != NULL) {
		for (i = 0; i < nbase; i++) {
			if (extra[i] && col[i] != SIZE_MAX &&
			    !BN_one(AT(e, row, col[i])))
				goto out;
		}
	}
	if ((r = elim_run(e, ctx)) != 0)
		goto out;
	*ret_rank = e->rank;
	r = 0;
out:
	elim_free(e);
	free(col);
	return r;
}

int
cc_disclosure_check(const bool *base_withheld, const bool *margin_withheld,
    const uint64_t *base, size_t nbase, const struct cc_margin *margins,
    size_t nmargins, uint32_t min_cell, struct cc_diag *diag)
{
	uint64_t *mval = NULL, sum;
	uint8_t *row = NULL;
	BN_CTX *ctx = NULL;
	size_t i, m, t, k, rank0, rank1;
	int r = CC_ERR_ALLOC;

	if ((base_withheld == NULL && nbase > 0) ||
	    (margin_withheld == NULL && nmargins > 0)) {
		cc_diag_set(diag, "internal: no suppression pattern");
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if ((mval = calloc(nmargins + 1, sizeof(*mval))) == NULL ||
	    (row = calloc(nbase + 1, sizeof(*row))) == NULL)
		goto out;
	if ((r = check_table(mval, base, nbase, margins, nmargins, min_cell,
	    diag)) != 0)
		goto out;
	r = CC_ERR_POLICY;
	for (i = 0; i < nbase; i++) {
		if (base[i] > 0 && base[i] < min_cell && !base_withheld[i]) {
			cc_diag_set(diag, "base cell %zu (count below "
			    "min_cell) is published", i);
			goto out;
		}
	}
	for (m = 0; m < nmargins; m++) {
		if (mval[m] > 0 && mval[m] < min_cell && !margin_withheld[m]) {
			cc_diag_set(diag, "margin %zu (value below min_cell) "
			    "is published", m);
			goto out;
		}
	}
	if ((ctx = BN_CTX_new()) == NULL) {
		r = CC_ERR_CRYPTO;
		goto out;
	}
	if ((r = published_rank(&rank0, base, nbase, margins, nmargins,
	    base_withheld, margin_withheld, NULL, ctx)) != 0)
		goto out;
	/* (a) an item is derivable iff its row does not raise the rank. */
	for (i = 0; i < nbase; i++) {
		if (!base_withheld[i])
			continue;
		memset(row, 0, nbase);
		row[i] = 1;
		if ((r = published_rank(&rank1, base, nbase, margins, nmargins,
		    base_withheld, margin_withheld, row, ctx)) != 0)
			goto out;
		if (rank1 == rank0) {
			cc_diag_set(diag, "base cell %zu is derivable from "
			    "published items", i);
			r = CC_ERR_POLICY;
			goto out;
		}
	}
	for (m = 0; m < nmargins; m++) {
		if (!margin_withheld[m])
			continue;
		memset(row, 0, nbase);
		for (t = 0; t < margins[m].nterms; t++)
			row[margins[m].terms[t]] = 1;
		if ((r = published_rank(&rank1, base, nbase, margins, nmargins,
		    base_withheld, margin_withheld, row, ctx)) != 0)
			goto out;
		if (rank1 == rank0) {
			cc_diag_set(diag, "margin %zu is derivable from "
			    "published items", m);
			r = CC_ERR_POLICY;
			goto out;
		}
	}
	/* (b) no published margin pins its withheld cells to 1 each. */
	for (m = 0; m < nmargins; m++) {
		if (margin_withheld[m])
			continue;
		k = 0;
		sum = 0;
		for (t = 0; t < margins[m].nterms; t++) {
			if (base_withheld[margins[m].terms[t]]) {
				k++;
				sum += base[margins[m].terms[t]];
			}
		}
		if (k > 0 && sum == k) {
			cc_diag_set(diag, "margin %zu shows that its %zu "
			    "withheld cells are 1 each", m, k);
			r = CC_ERR_POLICY;
			goto out;
		}
	}
	r = 0;
out:
	BN_CTX_free(ctx);
	free(mval);
	free(row);
	return r;
}

int
cc_disclosure_venn_margins(struct cc_margin **ret_margins,
    size_t *ret_nmargins, size_t nsets, size_t ncells)
{
	struct cc_margin *mg = NULL;
	size_t *terms, nregions, nmargins, nterms, i, reg, c, n = 0;
	int r = CC_ERR_INVALID_ARGUMENT;

	if (ret_margins != NULL)
		*ret_margins = NULL;
	if (ret_nmargins != NULL)
		*ret_nmargins = 0;
	if (ret_margins == NULL || ret_nmargins == NULL || nsets < 1 ||
	    nsets > CC_LIMIT_SETS || ncells < 1)
		goto out;
	nregions = ((size_t)1 << nsets) - 1;
	if (ncells > CC_LIMIT_TABLE_CELLS / nregions) {
		r = CC_ERR_LIMIT;
		goto out;
	}
	nmargins = nsets + (ncells > 1 ? nregions : 0);
	/* Set i has 2^(nsets-1) regions; region totals cover every cell once. */
	nterms = nsets * ((size_t)1 << (nsets - 1)) * ncells +
	    (ncells > 1 ? nregions * ncells : 0);
	r = CC_ERR_ALLOC;
	if ((mg = calloc(1, nmargins * sizeof(*mg) +
	    nterms * sizeof(size_t))) == NULL)
		goto out;
	terms = (size_t *)(void *)(mg + nmargins);
	for (i = 0; i < nsets; i++) {
		mg[i].terms = &terms[n];
		for (reg = 1; reg <= nregions; reg++) {
			if (!(reg & ((size_t)1 << i)))
				continue;
			for (c = 0; c < ncells; c++)
				terms[n++] = (reg - 1) * ncells + c;
		}
		mg[i].nterms = (size_t)(&terms[n] - mg[i].terms);
	}
	if (ncells > 1) {
		for (reg = 1; reg <= nregions; reg++) {
			struct cc_margin *x = &mg[nsets + reg - 1];

			x->terms = &terms[n];
			for (c = 0; c < ncells; c++)
				terms[n++] = (reg - 1) * ncells + c;
			x->nterms = ncells;
		}
	}
	if (n != nterms) {
		r = CC_ERR_INTERNAL;
		goto out;
	}
	r = 0;
	*ret_margins = mg;
	*ret_nmargins = nmargins;
	mg = NULL;
out:
	free(mg);
	return r;
}

void
cc_disclosure_margins_free(struct cc_margin *margins)
{
	free(margins);
}
