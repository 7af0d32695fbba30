/*
 * crosscount: disclosure control of a released table (see disclosure.h;
 * SPEC.md 9.3-9.5).
 *
 * Two readers are checked (SPEC 9.5): the analyst, who has the published
 * items, and the insider, who in addition has the known margins (the
 * totals of each set per breakdown cell) and what follows from them
 * alone (its prior). Derivability is decided exactly. The unknowns are
 * the withheld base cells (for the insider, those outside its prior);
 * each margin the reader has is one equation. Unknown cells that lie in
 * exactly the same rows form a class: a class of two or more cells can
 * never be solved cell by cell, and an item's row lies in the row space
 * only if it treats a class as a whole, so each class is one column.
 *
 * cc_disclosure_protect brings each reader's rows to reduced echelon
 * form with a sparse, incremental, fraction-free elimination on BIGNUMs
 * (each row kept in lowest terms, the row operations recorded so that
 * the margins used by a derivation are known); only rows that share a
 * column are touched, which keeps the insider's many local rows (one
 * per set and breakdown cell) cheap. cc_disclosure_check uses the dense
 * Bareiss elimination below instead, and a membership test per item.
 */
#include "protocol/disclosure.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>

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

/* ---- the table, its readers and the insider's prior ---- */

/*
 * One protection or check run. Margins are numbered as one list (ids):
 * 0..npub-1 the published margins, npub..npub+nknown-1 the known ones.
 */
struct table {
	const uint64_t *base;
	size_t nbase;
	const struct cc_margin *pub;
	size_t npub;
	const struct cc_margin *known;
	size_t nknown;
	size_t nids;
	uint64_t *val;          /* the value of every margin id */
	bool *bw;               /* base cell withheld */
	bool *mw;               /* published margin withheld */
	bool *cell_prior;       /* the insider knows it without the table */
	bool *pub_prior;
	BN_CTX *ctx;
};

enum reader {
	READER_ANALYST,         /* the published items */
	READER_INSIDER,         /* published items, known margins, prior */
	READER_PRIOR,           /* known margins alone: builds the prior */
};

static const struct cc_margin *
margin_of(const struct table *tb, size_t id)
{
	return id < tb->npub ? &tb->pub[id] : &tb->known[id - tb->npub];
}

/* Is base cell i an unknown for the reader? */
static bool
is_unknown(const struct table *tb, enum reader rd, size_t i)
{
	switch (rd) {
	case READER_ANALYST:
		return tb->bw[i];
	case READER_INSIDER:
		return tb->bw[i] && !tb->cell_prior[i];
	default:
		return !tb->cell_prior[i];
	}
}

/*
 * Does the reader have margin id as an equation? The insider knows a
 * prior published margin even when it is withheld.
 */
static bool
has_row(const struct table *tb, enum reader rd, size_t id)
{
	bool pub = id < tb->npub;

	switch (rd) {
	case READER_ANALYST:
		return pub && !tb->mw[id];
	case READER_INSIDER:
		return !pub || !tb->mw[id] || tb->pub_prior[id];
	default:
		return !pub || tb->pub_prior[id];
	}
}

static void
table_clear(struct table *tb)
{
	free(tb->val);
	free(tb->bw);
	free(tb->mw);
	free(tb->cell_prior);
	free(tb->pub_prior);
	BN_CTX_free(tb->ctx);
	memset(tb, 0, sizeof(*tb));
}

/* Validate one list of margins and compute their values into val[]. */
static int
check_margins(uint64_t *val, const uint64_t *base, size_t nbase,
    const struct cc_margin *mg, size_t n, const char *what,
    struct cc_diag *diag)
{
	size_t m, t;
	int r;

	for (m = 0; m < n; m++) {
		if (mg[m].nterms == 0 || mg[m].terms == NULL ||
		    mg[m].nterms > nbase) {
			cc_diag_set(diag, "internal: %s margin %zu has no "
			    "terms", what, m);
			return CC_ERR_INVALID_ARGUMENT;
		}
		for (t = 0; t < mg[m].nterms; t++) {
			if (mg[m].terms[t] >= nbase ||
			    (t > 0 && mg[m].terms[t] <= mg[m].terms[t - 1])) {
				cc_diag_set(diag, "internal: %s margin %zu: "
				    "terms must be increasing cell indexes",
				    what, m);
				return CC_ERR_INVALID_ARGUMENT;
			}
		}
		if ((r = cc_disclosure_margin_value(&val[m], base, nbase,
		    &mg[m])) != 0) {
			cc_diag_set(diag, "%s margin %zu overflows", what, m);
			return r;
		}
	}
	return 0;
}

/* Validate the arguments and set up tb (nothing withheld yet). */
static int
table_init(struct table *tb, const uint64_t *base, size_t nbase,
    const struct cc_margin *pub, size_t npub, const struct cc_margin *known,
    size_t nknown, uint32_t min_cell, struct cc_diag *diag)
{
	int r;

	memset(tb, 0, sizeof(*tb));
	if ((base == NULL && nbase > 0) || (pub == NULL && npub > 0) ||
	    (known == NULL && nknown > 0) || min_cell < 1) {
		cc_diag_set(diag, "internal: table, margins or min_cell "
		    "missing");
		return CC_ERR_INVALID_ARGUMENT;
	}
	if (nbase > CC_LIMIT_TABLE_CELLS || npub > CC_DISCLOSURE_MAX_MARGINS ||
	    nknown > CC_DISCLOSURE_MAX_KNOWN) {
		cc_diag_set(diag, "table of %zu cells, %zu published and %zu "
		    "known margins is over the limit (%d, %d, %d)", nbase, npub,
		    nknown, CC_LIMIT_TABLE_CELLS, CC_DISCLOSURE_MAX_MARGINS,
		    CC_DISCLOSURE_MAX_KNOWN);
		return CC_ERR_LIMIT;
	}
	tb->base = base;
	tb->nbase = nbase;
	tb->pub = pub;
	tb->npub = npub;
	tb->known = known;
	tb->nknown = nknown;
	tb->nids = npub + nknown;
	if ((tb->val = calloc(tb->nids + 1, sizeof(*tb->val))) == NULL ||
	    (tb->bw = calloc(nbase + 1, sizeof(*tb->bw))) == NULL ||
	    (tb->mw = calloc(npub + 1, sizeof(*tb->mw))) == NULL ||
	    (tb->cell_prior = calloc(nbase + 1,
	    sizeof(*tb->cell_prior))) == NULL ||
	    (tb->pub_prior = calloc(npub + 1, sizeof(*tb->pub_prior))) == NULL)
		return CC_ERR_ALLOC;
	if ((r = check_margins(tb->val, base, nbase, pub, npub, "published",
	    diag)) != 0 ||
	    (r = check_margins(tb->val + npub, base, nbase, known, nknown,
	    "known", diag)) != 0)
		return r;
	if ((tb->ctx = BN_CTX_new()) == NULL)
		return CC_ERR_CRYPTO;
	return 0;
}

/* ---- a sparse exact basis, kept in reduced echelon form ---- */

/*
 * Rows have `width` entries: `ncols` equation columns, then one tracking
 * column per input row (the row operations). An entry is NULL for 0.
 * Every basis row is in lowest terms (content 1) with a positive pivot,
 * and is 0 in the pivot column of every other basis row.
 */
struct basis {
	size_t ncols, width, rank, maxrows;
	BIGNUM ***row;
	long *pivot_row_of_col;
	size_t *pivot_col;
	BN_CTX *ctx;
};

static void
row_free(BIGNUM **x, size_t width)
{
	size_t j;

	if (x == NULL)
		return;
	for (j = 0; j < width; j++)
		BN_free(x[j]);
	free(x);
}

static void
basis_free(struct basis *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->rank; i++)
		row_free(b->row[i], b->width);
	free(b->row);
	free(b->pivot_row_of_col);
	free(b->pivot_col);
	free(b);
}

static int
basis_new(struct basis **ret_b, size_t ncols, size_t maxrows, BN_CTX *ctx)
{
	struct basis *b;
	size_t c;

	*ret_b = NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return CC_ERR_ALLOC;
	b->ncols = ncols;
	b->maxrows = maxrows;
	b->width = ncols + maxrows;
	b->ctx = ctx;
	if ((b->row = calloc(maxrows + 1, sizeof(*b->row))) == NULL ||
	    (b->pivot_row_of_col = calloc(ncols + 1,
	    sizeof(*b->pivot_row_of_col))) == NULL ||
	    (b->pivot_col = calloc(maxrows + 1,
	    sizeof(*b->pivot_col))) == NULL) {
		basis_free(b);
		return CC_ERR_ALLOC;
	}
	for (c = 0; c < ncols; c++)
		b->pivot_row_of_col[c] = -1;
	*ret_b = b;
	return 0;
}

/* x := p * x - a * y, entry by entry (p, a non-zero). */
static int
row_combine(BIGNUM **x, const BIGNUM *p, BIGNUM *const *y, const BIGNUM *a,
    size_t width, BN_CTX *ctx)
{
	BIGNUM *t;
	size_t j;
	bool p_one = BN_is_one(p);
	int r = CC_ERR_CRYPTO;

	BN_CTX_start(ctx);
	if ((t = BN_CTX_get(ctx)) == NULL)
		goto out;
	for (j = 0; j < width; j++) {
		if (y[j] == NULL) {
			if (x[j] != NULL && !p_one &&
			    !BN_mul(x[j], x[j], p, ctx))
				goto out;
			continue;
		}
		if (!BN_mul(t, a, y[j], ctx))
			goto out;
		if (x[j] == NULL) {
			if ((x[j] = BN_new()) == NULL) {
				r = CC_ERR_ALLOC;
				goto out;
			}
			BN_zero(x[j]);
		} else if (!p_one && !BN_mul(x[j], x[j], p, ctx))
			goto out;
		if (!BN_sub(x[j], x[j], t))
			goto out;
		if (BN_is_zero(x[j])) {
			BN_free(x[j]);
			x[j] = NULL;
		}
	}
	r = 0;
out:
	BN_CTX_end(ctx);
	return r;
}

/*
 * Divide a row by the gcd of its entries: keeps the numbers small (not
 * needed for correctness), so only called after a scaling by a pivot
 * other than 1.
 */
static BN_ULONG
word_gcd(BN_ULONG a, BN_ULONG b)
{
	while (b != 0) {
		BN_ULONG t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static int
row_content(BIGNUM **x, size_t width, BN_CTX *ctx)
{
	BIGNUM *g, *q;
	BN_ULONG w;
	size_t j;
	int r = CC_ERR_CRYPTO;

	BN_CTX_start(ctx);
	g = BN_CTX_get(ctx);
	if ((q = BN_CTX_get(ctx)) == NULL)
		goto out;
	/* Cheap first: BN_gcd is slow, and most rows hold a 1. */
	for (j = 0; j < width; j++) {
		if (x[j] != NULL && BN_abs_is_word(x[j], 1)) {
			r = 0;
			goto out;
		}
	}
	/*
	 * The gcd in machine words while the entries fit (exact, and much
	 * faster than OpenSSL's constant-time BN_gcd); BN_gcd beyond.
	 */
	for (j = 0, w = 0; j < width && w != 1; j++) {
		if (x[j] == NULL)
			continue;
		if (BN_num_bits(x[j]) > 63) {
			w = 0;
			break;
		}
		w = word_gcd(w, BN_get_word(x[j]));
	}
	if (w == 1) {
		r = 0;
		goto out;
	}
	if (w > 1) {
		if (!BN_set_word(g, w))
			goto out;
	} else {
		BN_zero(g);
		for (j = 0; j < width; j++) {
			if (x[j] == NULL)
				continue;
			if (!BN_gcd(g, g, x[j], ctx))
				goto out;
			if (BN_is_one(g)) {
				r = 0;
				goto out;
			}
		}
		if (BN_is_zero(g)) {
			r = 0;
			goto out;
		}
	}
	for (j = 0; j < width; j++) {
		if (x[j] == NULL)
			continue;
		if (!BN_div(q, NULL, x[j], g, ctx) || BN_copy(x[j], q) == NULL)
			goto out;
	}
	r = 0;
out:
	BN_CTX_end(ctx);
	return r;
}

/* Reduce x by the basis: afterwards x is 0 in every pivot column. */
static int
basis_reduce(struct basis *b, BIGNUM **x)
{
	BIGNUM *a = NULL;
	size_t c;
	long j;
	int r = CC_ERR_CRYPTO;

	if ((a = BN_new()) == NULL)
		goto out;
	for (c = 0; c < b->ncols; c++) {
		if (x[c] == NULL || (j = b->pivot_row_of_col[c]) < 0)
			continue;
		if (BN_copy(a, x[c]) == NULL)
			goto out;
		if ((r = row_combine(x, b->row[j][c], b->row[j], a, b->width,
		    b->ctx)) != 0 || (!BN_is_one(b->row[j][c]) &&
		    (r = row_content(x, b->width, b->ctx)) != 0))
			goto out;
		r = CC_ERR_CRYPTO;
	}
	r = 0;
out:
	BN_free(a);
	return r;
}

/* Add row x (taken over, freed if dependent), keeping the form. */
static int
basis_insert(struct basis *b, BIGNUM **x)
{
	BIGNUM *a = NULL;
	size_t c, piv = SIZE_MAX, j;
	int r;

	if ((r = basis_reduce(b, x)) != 0)
		goto out;
	for (c = 0; c < b->ncols; c++) {
		if (x[c] == NULL)
			continue;
		if (piv == SIZE_MAX || BN_abs_is_word(x[c], 1))
			piv = c;
		if (BN_abs_is_word(x[c], 1))
			break;
	}
	if (piv == SIZE_MAX) {
		r = 0;          /* dependent on the basis */
		goto out;
	}
	if (BN_is_negative(x[piv])) {
		for (j = 0; j < b->width; j++) {
			if (x[j] != NULL)
				BN_set_negative(x[j], !BN_is_negative(x[j]));
		}
	}
	r = CC_ERR_CRYPTO;
	if ((a = BN_new()) == NULL)
		goto out;
	for (j = 0; j < b->rank; j++) {
		if (b->row[j][piv] == NULL)
			continue;
		if (BN_copy(a, b->row[j][piv]) == NULL)
			goto out;
		if ((r = row_combine(b->row[j], x[piv], x, a, b->width,
		    b->ctx)) != 0 || (!BN_is_one(x[piv]) &&
		    (r = row_content(b->row[j], b->width, b->ctx)) != 0))
			goto out;
		r = CC_ERR_CRYPTO;
	}
	if (b->rank >= b->maxrows) {
		r = CC_ERR_INTERNAL;
		goto out;
	}
	b->row[b->rank] = x;
	b->pivot_row_of_col[piv] = (long)b->rank;
	b->pivot_col[b->rank] = piv;
	b->rank++;
	x = NULL;
	r = 0;
out:
	BN_free(a);
	row_free(x, b->width);
	return r;
}

/* ---- one reader's view: rows, classes of unknowns, the basis ---- */

struct view {
	size_t nrows;
	size_t *row_id;         /* row -> margin id */
	long *class_of;         /* base cell -> class, -1 if not unknown */
	size_t *class_size;
	size_t nclasses;
	struct basis *bs;
};

static void
view_clear(struct view *v)
{
	free(v->row_id);
	free(v->class_of);
	free(v->class_size);
	basis_free(v->bs);
	memset(v, 0, sizeof(*v));
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
 * The reader's rows (margins it has that hold an unknown), its classes
 * (numbered by their lowest cell, so everything is deterministic) and
 * the basis of its rows.
 */
static int
view_build(struct view *v, const struct table *tb, enum reader rd)
{
	uint64_t *bits = NULL;
	struct pattern_ref *refs = NULL;
	size_t *first = NULL, *rank_of = NULL, words, nw = 0, i, id, t, row, q;
	BIGNUM **x = NULL;
	long cls;
	int r = CC_ERR_ALLOC;

	view_clear(v);
	if ((v->row_id = calloc(tb->nids + 1, sizeof(*v->row_id))) == NULL ||
	    (v->class_of = calloc(tb->nbase + 1,
	    sizeof(*v->class_of))) == NULL ||
	    (v->class_size = calloc(tb->nbase + 1,
	    sizeof(*v->class_size))) == NULL)
		goto out;
	/*
	 * Known margins first: they are local (one breakdown cell each),
	 * so eliminating them before the long published rows keeps the
	 * rows sparse.
	 */
	for (q = 0; q < tb->nids; q++) {
		const struct cc_margin *mg;

		id = q < tb->nknown ? tb->npub + q : q - tb->nknown;
		mg = margin_of(tb, id);
		if (!has_row(tb, rd, id))
			continue;
		for (t = 0; t < mg->nterms; t++) {
			if (is_unknown(tb, rd, mg->terms[t])) {
				v->row_id[v->nrows++] = id;
				break;
			}
		}
	}
	words = v->nrows / 64 + 1;
	if ((bits = calloc(tb->nbase * words + 1, sizeof(*bits))) == NULL ||
	    (refs = calloc(tb->nbase + 1, sizeof(*refs))) == NULL ||
	    (first = calloc(tb->nbase + 1, sizeof(*first))) == NULL ||
	    (rank_of = calloc(tb->nbase + 1, sizeof(*rank_of))) == NULL)
		goto out;
	for (row = 0; row < v->nrows; row++) {
		const struct cc_margin *mg = margin_of(tb, v->row_id[row]);

		for (t = 0; t < mg->nterms; t++)
			bits[mg->terms[t] * words + row / 64] |=
			    (uint64_t)1 << (row % 64);
	}
	for (i = 0; i < tb->nbase; i++) {
		v->class_of[i] = -1;
		if (!is_unknown(tb, rd, i))
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
			first[v->nclasses++] = refs[i].cell;
		v->class_of[refs[i].cell] = (long)v->nclasses - 1;
	}
	/* Renumber by lowest cell: walk the cells in order. */
	for (i = 0; i < v->nclasses; i++)
		rank_of[i] = SIZE_MAX;
	for (i = 0, t = 0; i < tb->nbase; i++) {
		if ((cls = v->class_of[i]) < 0)
			continue;
		if (rank_of[cls] == SIZE_MAX)
			rank_of[cls] = t++;
		v->class_of[i] = (long)rank_of[cls];
		v->class_size[v->class_of[i]]++;
	}
	if ((r = basis_new(&v->bs, v->nclasses, v->nrows, tb->ctx)) != 0)
		goto out;
	for (row = 0; row < v->nrows; row++) {
		const struct cc_margin *mg = margin_of(tb, v->row_id[row]);

		r = CC_ERR_ALLOC;
		if ((x = calloc(v->bs->width, sizeof(*x))) == NULL)
			goto out;
		for (t = 0; t < mg->nterms; t++) {
			cls = v->class_of[mg->terms[t]];
			if (cls < 0 || x[cls] != NULL)
				continue;
			if ((x[cls] = BN_new()) == NULL || !BN_one(x[cls]))
				goto out;
		}
		if ((x[v->nclasses + row] = BN_new()) == NULL ||
		    !BN_one(x[v->nclasses + row]))
			goto out;
		r = basis_insert(v->bs, x);
		x = NULL;
		if (r != 0)
			goto out;
	}
	r = 0;
out:
	row_free(x, v->bs != NULL ? v->bs->width : 0);
	free(bits);
	free(refs);
	free(first);
	free(rank_of);
	return r;
}

/*
 * Is unknown base cell i derivable? Its class must be the cell alone,
 * with a basis row that is a multiple of e_class. Marks the margins the
 * derivation uses in involved[] (ids) when given.
 */
static bool
view_cell_derivable(const struct view *v, size_t i, bool *involved)
{
	const struct basis *b = v->bs;
	long cls = v->class_of[i], j;
	size_t f, q;

	if (cls < 0 || v->class_size[cls] != 1 ||
	    (j = b->pivot_row_of_col[cls]) < 0)
		return false;
	for (f = 0; f < b->ncols; f++) {
		if ((long)f != cls && b->row[j][f] != NULL)
			return false;
	}
	if (involved != NULL) {
		for (q = 0; q < v->nrows; q++) {
			if (b->row[j][b->ncols + q] != NULL)
				involved[v->row_id[q]] = true;
		}
	}
	return true;
}

/*
 * Is margin id derivable by the reader? Its row over the unknowns must
 * take whole classes and reduce to 0 by the basis; the tracking part of
 * the reduced row names the margins used (marked in involved[]).
 */
static int
view_margin_derivable(bool *ret_yes, const struct view *v,
    const struct table *tb, size_t id, bool *involved)
{
	const struct cc_margin *mg = margin_of(tb, id);
	size_t *count = NULL, t, f, q;
	BIGNUM **x = NULL;
	long cls;
	int r = CC_ERR_ALLOC;

	*ret_yes = false;
	if ((count = calloc(v->nclasses + 1, sizeof(*count))) == NULL ||
	    (x = calloc(v->bs->width + 1, sizeof(*x))) == NULL)
		goto out;
	for (t = 0; t < mg->nterms; t++) {
		if ((cls = v->class_of[mg->terms[t]]) >= 0)
			count[cls]++;
	}
	for (f = 0; f < v->nclasses; f++) {
		if (count[f] == 0)
			continue;
		if (count[f] != v->class_size[f]) {
			r = 0;  /* takes part of a class: not derivable */
			goto out;
		}
		if ((x[f] = BN_new()) == NULL || !BN_one(x[f]))
			goto out;
	}
	if ((r = basis_reduce(v->bs, x)) != 0)
		goto out;
	for (f = 0; f < v->nclasses; f++) {
		if (x[f] != NULL)
			goto out;       /* r == 0: not derivable */
	}
	if (involved != NULL) {
		for (q = 0; q < v->nrows; q++) {
			if (x[v->nclasses + q] != NULL)
				involved[v->row_id[q]] = true;
		}
	}
	*ret_yes = true;
out:
	row_free(x, v->bs != NULL ? v->bs->width : 0);
	free(count);
	return r;
}

/*
 * The insider's prior (disclosure.h): from the known margins alone,
 * repeat (i) pinning by non-negativity and (ii) linear derivation until
 * nothing changes. Uses the true values: the caller holds the table.
 */
static int
compute_prior(struct table *tb)
{
	struct view v;
	bool changed, yes, *newly = NULL;
	size_t id, t, k, i, m;
	uint64_t sum;
	int r = CC_ERR_ALLOC;

	memset(&v, 0, sizeof(v));
	if (tb->nknown == 0)
		return 0;
	if ((newly = calloc(tb->nbase + 1, sizeof(*newly))) == NULL)
		goto out;
	do {
		changed = false;
		/* (i) a margin whose unknown cells add up to 0. */
		for (id = 0; id < tb->nids; id++) {
			const struct cc_margin *mg = margin_of(tb, id);

			if (!has_row(tb, READER_PRIOR, id))
				continue;
			for (k = 0, sum = 0, t = 0; t < mg->nterms; t++) {
				if (!tb->cell_prior[mg->terms[t]]) {
					k++;
					sum += tb->base[mg->terms[t]];
				}
			}
			if (k == 0 || sum != 0)
				continue;
			for (t = 0; t < mg->nterms; t++)
				tb->cell_prior[mg->terms[t]] = true;
			changed = true;
		}
		if (changed)
			continue;
		/* (ii) linear derivation from the known margins. */
		if ((r = view_build(&v, tb, READER_PRIOR)) != 0)
			goto out;
		memset(newly, 0, tb->nbase * sizeof(*newly));
		for (i = 0; i < tb->nbase; i++) {
			if (!tb->cell_prior[i] &&
			    view_cell_derivable(&v, i, NULL)) {
				newly[i] = true;
				changed = true;
			}
		}
		for (m = 0; m < tb->npub; m++) {
			if (tb->pub_prior[m])
				continue;
			if ((r = view_margin_derivable(&yes, &v, tb, m,
			    NULL)) != 0)
				goto out;
			if (yes) {
				tb->pub_prior[m] = true;
				changed = true;
			}
		}
		for (i = 0; i < tb->nbase; i++)
			tb->cell_prior[i] = tb->cell_prior[i] || newly[i];
	} while (changed);
	r = 0;
out:
	view_clear(&v);
	free(newly);
	return r;
}

/* SPEC 9.4 primary suppression (p1, p2) into tb->bw, tb->mw. */
static void
primary(struct table *tb, uint32_t min_cell)
{
	size_t i, m, t;

	for (i = 0; i < tb->nbase; i++)
		tb->bw[i] = tb->base[i] > 0 && tb->base[i] < min_cell;
	for (m = 0; m < tb->npub; m++)
		tb->mw[m] = tb->val[m] > 0 && tb->val[m] < min_cell;
	for (m = 0; m < tb->nknown; m++) {
		uint64_t v = tb->val[tb->npub + m];

		if (v == 0 || v >= min_cell)
			continue;
		for (t = 0; t < tb->known[m].nterms; t++)
			tb->bw[tb->known[m].terms[t]] = true;
	}
}

/*
 * The first margin the reader has whose k >= 1 unknown cells add up to
 * 0 (rule b) or, with ones, to exactly k (rule c); SIZE_MAX if none.
 */
static size_t
bound_margin(const struct table *tb, enum reader rd, bool ones,
    size_t *ret_k)
{
	size_t id, t, k;
	uint64_t sum;

	*ret_k = 0;
	for (id = 0; id < tb->nids; id++) {
		const struct cc_margin *mg = margin_of(tb, id);

		if (!has_row(tb, rd, id))
			continue;
		for (k = 0, sum = 0, t = 0; t < mg->nterms; t++) {
			if (is_unknown(tb, rd, mg->terms[t])) {
				k++;
				sum += tb->base[mg->terms[t]];
			}
		}
		if (k > 0 && sum == (ones ? k : 0)) {
			*ret_k = k;
			return id;
		}
	}
	return SIZE_MAX;
}

/* The first margin the reader has with exactly one unknown cell. */
static size_t
single_unknown_margin(const struct table *tb, enum reader rd)
{
	size_t id, t, k;

	for (id = 0; id < tb->nids; id++) {
		const struct cc_margin *mg = margin_of(tb, id);

		if (!has_row(tb, rd, id))
			continue;
		for (k = 0, t = 0; t < mg->nterms && k < 2; t++)
			k += is_unknown(tb, rd, mg->terms[t]);
		if (k == 1)
			return id;
	}
	return SIZE_MAX;
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
/* ---- cc_disclosure_protect: choosing complements (SPEC 9.5) ---- */

/*
 * Rule (a): withhold one more item for a derivation that uses the
 * margins marked in involved[] (ids) and, for a withheld margin, `own`
 * (else SIZE_MAX): the published cell with the smallest positive count,
 * else the involved published margin with the smallest value, else the
 * lowest published zero. Candidates for the insider exclude its prior.
 */
static int
withhold_complement(struct table *tb, const bool *involved, size_t own,
    bool insider)
{
	size_t id, t, cell, best = SIZE_MAX, zero = SIZE_MAX;

	for (id = 0; id < tb->nids; id++) {
		const struct cc_margin *mg = margin_of(tb, id);

		if (!involved[id] && id != own)
			continue;
		for (t = 0; t < mg->nterms; t++) {
			cell = mg->terms[t];
			if (tb->bw[cell] || (insider && tb->cell_prior[cell]))
				continue;
			if (tb->base[cell] == 0) {
				if (cell < zero)
					zero = cell;
			} else if (best == SIZE_MAX ||
			    tb->base[cell] < tb->base[best] ||
			    (tb->base[cell] == tb->base[best] && cell < best))
				best = cell;
		}
	}
	if (best != SIZE_MAX) {
		tb->bw[best] = true;
		return 0;
	}
	for (id = 0; id < tb->npub; id++) {
		if (!involved[id] || tb->mw[id] ||
		    (insider && tb->pub_prior[id]))
			continue;
		if (best == SIZE_MAX || tb->val[id] < tb->val[best])
			best = id;
	}
	if (best != SIZE_MAX) {
		tb->mw[best] = true;
		return 0;
	}
	/* Only known margins left: they cannot be withheld, a zero can. */
	if (zero != SIZE_MAX) {
		tb->bw[zero] = true;
		return 0;
	}
	return CC_ERR_INTERNAL;
}

/*
 * Rules (b), (c) (the analyst): published margin id pins its withheld
 * cells. Withhold its published cell with the smallest positive count,
 * ties to the lowest index; else the margin itself.
 */
static int
withhold_for_bound(struct table *tb, size_t id)
{
	const struct cc_margin *mg = margin_of(tb, id);
	size_t t, cell, best = SIZE_MAX;

	for (t = 0; t < mg->nterms; t++) {
		cell = mg->terms[t];
		if (tb->bw[cell] || tb->base[cell] == 0)
			continue;
		if (best == SIZE_MAX || tb->base[cell] < tb->base[best])
			best = cell;
	}
	if (best != SIZE_MAX)
		tb->bw[best] = true;
	else
		tb->mw[id] = true;
	return 0;
}

/*
 * After a complement was withheld for the insider's pass: mark every
 * margin whose equation over the unknowns changed (one holding a newly
 * withheld cell, or a newly withheld margin) in touched[].
 */
static void
mark_touched(bool *touched, const struct table *tb, const bool *bw_before,
    const bool *mw_before)
{
	size_t id, t;

	for (id = 0; id < tb->nids; id++) {
		const struct cc_margin *mg = margin_of(tb, id);

		if (id < tb->npub && tb->mw[id] != mw_before[id])
			touched[id] = true;
		for (t = 0; !touched[id] && t < mg->nterms; t++) {
			if (tb->bw[mg->terms[t]] != bw_before[mg->terms[t]])
				touched[id] = true;
		}
	}
}

/* Does the derivation (margins in involved[], own) avoid touched ones? */
static bool
intact(const struct table *tb, const bool *involved, size_t own,
    const bool *touched)
{
	size_t id;

	if (own != SIZE_MAX && touched[own])
		return false;
	for (id = 0; id < tb->nids; id++) {
		if (involved[id] && touched[id])
			return false;
	}
	return true;
}

/*
 * Rule (a) for one reader, by elimination. The analyst: the first
 * derivable withheld item gets one complement. The insider (whose
 * elimination is the expensive one): a pass over every derivable item
 * in the same order, each getting one complement unless an earlier
 * complement of the pass touched a margin of its derivation (then the
 * next pass decides). *ret_found is false when nothing is derivable.
 */
static int
fix_linear(bool *ret_found, struct table *tb, enum reader rd,
    struct view *v, bool *involved)
{
	bool insider = rd == READER_INSIDER, yes, *touched = NULL;
	bool *bw_before = NULL, *mw_before = NULL;
	size_t i, m;
	int r;

	*ret_found = false;
	if ((r = view_build(v, tb, rd)) != 0)
		goto out;
	r = CC_ERR_ALLOC;
	if ((touched = calloc(tb->nids + 1, sizeof(*touched))) == NULL ||
	    (bw_before = calloc(tb->nbase + 1, sizeof(*bw_before))) == NULL ||
	    (mw_before = calloc(tb->npub + 1, sizeof(*mw_before))) == NULL)
		goto out;
	for (i = 0; i < tb->nbase + tb->npub; i++) {
		bool cell = i < tb->nbase;
		size_t own = cell ? SIZE_MAX : i - tb->nbase;

		memset(involved, 0, tb->nids * sizeof(*involved));
		if (cell) {
			/* class_of is -1 for cells withheld in this pass */
			if (!is_unknown(tb, rd, i) ||
			    !view_cell_derivable(v, i, involved))
				continue;
		} else {
			m = own;
			if (!tb->mw[m] || (insider && tb->pub_prior[m]))
				continue;
			if ((r = view_margin_derivable(&yes, v, tb, m,
			    involved)) != 0)
				goto out;
			if (!yes)
				continue;
		}
		if (!intact(tb, involved, own, touched))
			continue;
		memcpy(bw_before, tb->bw, tb->nbase * sizeof(*bw_before));
		memcpy(mw_before, tb->mw, tb->npub * sizeof(*mw_before));
		*ret_found = true;
		if ((r = withhold_complement(tb, involved, own,
		    insider)) != 0 || !insider)
			goto out;
		mark_touched(touched, tb, bw_before, mw_before);
	}
	r = 0;
out:
	free(touched);
	free(bw_before);
	free(mw_before);
	return r;
}

/* One round: fix the first violation (disclosure.h order), if any. */
static int
protect_round(bool *ret_found, struct table *tb, struct view *v,
    bool *involved)
{
	const enum reader readers[2] = { READER_ANALYST, READER_INSIDER };
	size_t nreaders = tb->nknown > 0 ? 2 : 1, k, q, id;
	int r;

	*ret_found = true;
	for (q = 0; q < nreaders; q++) {
		if ((id = single_unknown_margin(tb, readers[q])) == SIZE_MAX)
			continue;
		memset(involved, 0, tb->nids * sizeof(*involved));
		involved[id] = true;
		return withhold_complement(tb, involved, SIZE_MAX,
		    readers[q] == READER_INSIDER);
	}
	for (q = 0; q < nreaders; q++) {
		if ((r = fix_linear(ret_found, tb, readers[q], v,
		    involved)) != 0 || *ret_found)
			return r;
	}
	*ret_found = true;
	if ((id = bound_margin(tb, READER_ANALYST, false, &k)) != SIZE_MAX ||
	    (id = bound_margin(tb, READER_ANALYST, true, &k)) != SIZE_MAX)
		return withhold_for_bound(tb, id);
	*ret_found = false;
	return 0;
}

int
cc_disclosure_protect(bool *ret_base_withheld, bool *ret_margin_withheld,
    const uint64_t *base, size_t nbase, const struct cc_margin *margins,
    size_t nmargins, const struct cc_margin *known, size_t nknown,
    uint32_t min_cell, struct cc_diag *diag)
{
	struct table tb;
	struct view v;
	bool *involved = NULL, found;
	size_t i, m, rounds;
	int r = CC_ERR_INTERNAL;

	memset(&tb, 0, sizeof(tb));
	memset(&v, 0, sizeof(v));
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
	if ((r = table_init(&tb, base, nbase, margins, nmargins, known,
	    nknown, min_cell, diag)) != 0)
		goto out;
	if ((involved = calloc(tb.nids + 1, sizeof(*involved))) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	/* SPEC 9.4 primary suppression; 9.5 the insider's prior. */
	primary(&tb, min_cell);
	if ((r = compute_prior(&tb)) != 0)
		goto fail;
	/* SPEC 9.5: every round withholds one more item, so this ends. */
	for (rounds = 0; rounds <= nbase + nmargins; rounds++) {
		if ((r = protect_round(&found, &tb, &v, involved)) != 0)
			goto fail;
		if (!found)
			break;
	}
	if (rounds > nbase + nmargins) {
		r = CC_ERR_INTERNAL;
		goto fail;
	}
	for (i = 0; i < nbase; i++)
		ret_base_withheld[i] = tb.bw[i];
	for (m = 0; m < nmargins; m++)
		ret_margin_withheld[m] = tb.mw[m];
	r = 0;
	goto out;
fail:
	cc_diag_set(diag, "secondary suppression failed: %s", cc_strerror(r));
out:
	view_clear(&v);
	table_clear(&tb);
	free(involved);
	return r;
}

/* ---- cc_disclosure_check: dense elimination and membership ---- */

/*
 * The reader's rows over its unknown cells (one column per cell, no
 * classes), eliminated by elim_run. col[] maps cells to columns.
 */
static int
dense_build(struct elim **ret_e, size_t *col, const struct table *tb,
    enum reader rd)
{
	struct elim *e = NULL;
	size_t ncols = 0, nrows = 0, i, id, t, row = 0;
	int r;

	*ret_e = NULL;
	for (i = 0; i < tb->nbase; i++)
		col[i] = is_unknown(tb, rd, i) ? ncols++ : SIZE_MAX;
	for (id = 0; id < tb->nids; id++)
		nrows += has_row(tb, rd, id);
	if ((r = elim_new(&e, nrows, ncols, false)) != 0)
		goto out;
	r = CC_ERR_CRYPTO;
	for (id = 0; id < tb->nids; id++) {
		const struct cc_margin *mg = margin_of(tb, id);

		if (!has_row(tb, rd, id))
			continue;
		for (t = 0; t < mg->nterms; t++) {
			i = mg->terms[t];
			if (col[i] != SIZE_MAX && !BN_one(AT(e, row, col[i])))
				goto out;
		}
		row++;
	}
	if ((r = elim_run(e, tb->ctx)) != 0)
		goto out;
	*ret_e = e;
	e = NULL;
out:
	elim_free(e);
	return r;
}

/*
 * Is the 0/1 vector x (over the columns) in the row space? With the
 * reduced form M (every pivot d): x = sum_j x[pivot_col j] / d * M_j,
 * which must hold in every free column f: d * x[f] = sum_j x[pc_j] M_jf.
 */
static int
dense_contains(bool *ret_yes, const struct elim *e, const uint8_t *x,
    BN_CTX *ctx)
{
	BIGNUM *acc = NULL;
	size_t f, j;
	int r = CC_ERR_CRYPTO;

	(void)ctx;
	*ret_yes = false;
	if ((acc = BN_new()) == NULL)
		goto out;
	for (f = 0; f < e->cols; f++) {
		if (e->pivot_row_of_col[f] >= 0)
			continue;
		BN_zero(acc);
		for (j = 0; j < e->rank; j++) {
			if (x[e->pivot_col[j]] && !BN_add(acc, acc, AT(e, j, f)))
				goto out;
		}
		if (x[f] && !BN_sub(acc, acc, e->d))
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
	return r;
}

/* Rule (a) for one reader: the first derivable withheld item, in diag. */
static int
check_linear(const struct table *tb, enum reader rd, struct cc_diag *diag)
{
	struct elim *e = NULL;
	size_t *col = NULL, i, m, t;
	uint8_t *x = NULL;
	const char *how = rd == READER_ANALYST ? "from published items" :
	    "with the known margins";
	bool yes;
	int r = CC_ERR_ALLOC;

	if ((col = calloc(tb->nbase + 1, sizeof(*col))) == NULL ||
	    (x = calloc(tb->nbase + 1, sizeof(*x))) == NULL)
		goto out;
	if ((r = dense_build(&e, col, tb, rd)) != 0)
		goto out;
	for (i = 0; i < tb->nbase; i++) {
		if (col[i] == SIZE_MAX)
			continue;
		memset(x, 0, tb->nbase);
		x[col[i]] = 1;
		if ((r = dense_contains(&yes, e, x, tb->ctx)) != 0)
			goto out;
		if (yes) {
			cc_diag_set(diag, "base cell %zu is derivable %s", i,
			    how);
			r = CC_ERR_POLICY;
			goto out;
		}
	}
	for (m = 0; m < tb->npub; m++) {
		if (!tb->mw[m] || (rd == READER_INSIDER && tb->pub_prior[m]))
			continue;
		memset(x, 0, tb->nbase);
		for (t = 0; t < tb->pub[m].nterms; t++) {
			i = tb->pub[m].terms[t];
			if (col[i] != SIZE_MAX)
				x[col[i]] = 1;
		}
		if ((r = dense_contains(&yes, e, x, tb->ctx)) != 0)
			goto out;
		if (yes) {
			cc_diag_set(diag, "margin %zu is derivable %s", m, how);
			r = CC_ERR_POLICY;
			goto out;
		}
	}
	r = 0;
out:
	elim_free(e);
	free(col);
	free(x);
	return r;
}

int
cc_disclosure_check(const bool *base_withheld, const bool *margin_withheld,
    const uint64_t *base, size_t nbase, const struct cc_margin *margins,
    size_t nmargins, const struct cc_margin *known, size_t nknown,
    uint32_t min_cell, struct cc_diag *diag)
{
	struct table tb;
	size_t i, m, t, id, k;
	int r;

	memset(&tb, 0, sizeof(tb));
	if ((base_withheld == NULL && nbase > 0) ||
	    (margin_withheld == NULL && nmargins > 0)) {
		cc_diag_set(diag, "internal: no suppression pattern");
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if ((r = table_init(&tb, base, nbase, margins, nmargins, known,
	    nknown, min_cell, diag)) != 0)
		goto out;
	r = CC_ERR_POLICY;
	for (i = 0; i < nbase; i++) {
		tb.bw[i] = base_withheld[i];
		if (base[i] > 0 && base[i] < min_cell && !base_withheld[i]) {
			cc_diag_set(diag, "base cell %zu (count below "
			    "min_cell) is published", i);
			goto out;
		}
	}
	for (m = 0; m < nmargins; m++) {
		tb.mw[m] = margin_withheld[m];
		if (tb.val[m] > 0 && tb.val[m] < min_cell &&
		    !margin_withheld[m]) {
			cc_diag_set(diag, "margin %zu (value below min_cell) "
			    "is published", m);
			goto out;
		}
	}
	for (m = 0; m < nknown; m++) {
		if (tb.val[nmargins + m] == 0 ||
		    tb.val[nmargins + m] >= min_cell)
			continue;
		for (t = 0; t < known[m].nterms; t++) {
			if (!base_withheld[known[m].terms[t]]) {
				cc_diag_set(diag, "base cell %zu (in known "
				    "margin %zu below min_cell) is published",
				    known[m].terms[t], m);
				goto out;
			}
		}
	}
	if ((r = compute_prior(&tb)) != 0)
		goto out;
	/* (a) for the analyst, then the insider. */
	if ((r = check_linear(&tb, READER_ANALYST, diag)) != 0)
		goto out;
	if (nknown > 0 && (r = check_linear(&tb, READER_INSIDER, diag)) != 0)
		goto out;
	/* (b), (c) for the analyst. */
	r = CC_ERR_POLICY;
	if ((id = bound_margin(&tb, READER_ANALYST, false, &k)) != SIZE_MAX) {
		cc_diag_set(diag, "margin %zu shows that its %zu withheld "
		    "cells are 0", id, k);
		goto out;
	}
	if ((id = bound_margin(&tb, READER_ANALYST, true, &k)) != SIZE_MAX) {
		cc_diag_set(diag, "margin %zu shows that its %zu withheld "
		    "cells are 1 each", id, k);
		goto out;
	}
	r = 0;
out:
	table_clear(&tb);
	return r;
}

/*
 * The checks both Venn margin builders share: nsets and ncells within
 * limits; *ret_nregions the number of non-empty regions.
 */
static int
venn_shape(size_t nsets, size_t ncells, size_t *ret_nregions)
{
	*ret_nregions = 0;
	if (nsets < 1 || nsets > CC_LIMIT_SETS || ncells < 1)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_nregions = ((size_t)1 << nsets) - 1;
	if (ncells > CC_LIMIT_TABLE_CELLS / *ret_nregions)
		return CC_ERR_LIMIT;
	return 0;
}

/* nmargins margins and room for nterms terms in one block (one free). */
static struct cc_margin *
margins_new(size_t nmargins, size_t nterms, size_t **ret_terms)
{
	struct cc_margin *mg;

	if ((mg = calloc(1, nmargins * sizeof(*mg) +
	    nterms * sizeof(size_t))) == NULL)
		return NULL;
	*ret_terms = (size_t *)(void *)(mg + nmargins);
	return mg;
}

int
cc_disclosure_venn_margins(struct cc_margin **ret_margins,
    size_t *ret_nmargins, size_t nsets, size_t ncells)
{
	struct cc_margin *mg = NULL;
	size_t *terms = NULL, nregions, nmargins, nterms, i, reg, c, n = 0;
	int r = CC_ERR_INVALID_ARGUMENT;

	if (ret_margins != NULL)
		*ret_margins = NULL;
	if (ret_nmargins != NULL)
		*ret_nmargins = 0;
	if (ret_margins == NULL || ret_nmargins == NULL)
		goto out;
	if ((r = venn_shape(nsets, ncells, &nregions)) != 0)
		goto out;
	nmargins = nsets + (ncells > 1 ? nregions : 0);
	/* Set i has 2^(nsets-1) regions; region totals cover every cell once. */
	nterms = nsets * ((size_t)1 << (nsets - 1)) * ncells +
	    (ncells > 1 ? nregions * ncells : 0);
	r = CC_ERR_ALLOC;
	if ((mg = margins_new(nmargins, nterms, &terms)) == NULL)
		goto out;
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

int
cc_disclosure_venn_known_margins(struct cc_margin **ret_known,
    size_t *ret_nknown, size_t nsets, size_t ncells)
{
	struct cc_margin *mg = NULL;
	size_t *terms = NULL, nregions, nknown, nterms, i, reg, c, n = 0;
	int r = CC_ERR_INVALID_ARGUMENT;

	if (ret_known != NULL)
		*ret_known = NULL;
	if (ret_nknown != NULL)
		*ret_nknown = 0;
	if (ret_known == NULL || ret_nknown == NULL)
		goto out;
	if ((r = venn_shape(nsets, ncells, &nregions)) != 0)
		goto out;
	nknown = nsets * ncells;
	/* Each set is in 2^(nsets-1) regions, once per breakdown cell. */
	nterms = nknown * ((size_t)1 << (nsets - 1));
	r = CC_ERR_ALLOC;
	if ((mg = margins_new(nknown, nterms, &terms)) == NULL)
		goto out;
	for (i = 0; i < nsets; i++) {
		for (c = 0; c < ncells; c++) {
			struct cc_margin *x = &mg[i * ncells + c];

			x->terms = &terms[n];
			for (reg = 1; reg <= nregions; reg++) {
				if (reg & ((size_t)1 << i))
					terms[n++] = (reg - 1) * ncells + c;
			}
			x->nterms = (size_t)(&terms[n] - x->terms);
		}
	}
	if (n != nterms) {
		r = CC_ERR_INTERNAL;
		goto out;
	}
	r = 0;
	*ret_known = mg;
	*ret_nknown = nknown;
	mg = NULL;
out:
	free(mg);
	return r;
}
