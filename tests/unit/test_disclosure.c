/*
 * Unit tests: disclosure control (protocol/disclosure.c, SPEC 9.3-9.5).
 *
 * Besides cc_disclosure_check, results are verified by an independent
 * checker written here: exact rational Gaussian elimination (__int128
 * fractions, small tables only) deciding for every withheld item whether
 * its row raises the rank of the rows its reader has (the analyst: the
 * published margins; the insider: those and the known margins), with
 * its own computation of the insider's prior.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "protocol/disclosure.h"
#include "protocol/error.h"
#include "protocol/limits.h"

/* ---- an independent exact rank over the rationals ---- */

typedef __int128 i128;

struct frac {
	i128 n, d;   /* d > 0, reduced */
};

static i128
gcd128(i128 a, i128 b)
{
	if (a < 0)
		a = -a;
	if (b < 0)
		b = -b;
	while (b != 0) {
		i128 t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static struct frac
frac_make(i128 n, i128 d)
{
	struct frac f;
	i128 g;

	if (d < 0) {
		n = -n;
		d = -d;
	}
	g = gcd128(n, d);
	if (g == 0)
		g = 1;
	f.n = n / g;
	f.d = d / g;
	return f;
}

#define MAXR 64
#define MAXC 64

/* Rank of an r x c matrix of small integers, exactly. */
static size_t
rational_rank(int a[MAXR][MAXC], size_t r, size_t c)
{
	static struct frac m[MAXR][MAXC];
	size_t i, j, k, rank = 0, p;

	assert_true(r <= MAXR && c <= MAXC);
	for (i = 0; i < r; i++)
		for (j = 0; j < c; j++)
			m[i][j] = frac_make(a[i][j], 1);
	for (j = 0; j < c && rank < r; j++) {
		for (p = rank; p < r && m[p][j].n == 0; p++)
			;
		if (p == r)
			continue;
		for (k = 0; k < c; k++) {
			struct frac t = m[p][k];

			m[p][k] = m[rank][k];
			m[rank][k] = t;
		}
		for (i = rank + 1; i < r; i++) {
			struct frac f;

			if (m[i][j].n == 0)
				continue;
			/* f = m[i][j] / m[rank][j] */
			f = frac_make(m[i][j].n * m[rank][j].d,
			    m[i][j].d * m[rank][j].n);
			for (k = j; k < c; k++) {
				struct frac t = frac_make(f.n * m[rank][k].n,
				    f.d * m[rank][k].d);

				m[i][k] = frac_make(m[i][k].n * t.d -
				    t.n * m[i][k].d, m[i][k].d * t.d);
			}
		}
		rank++;
	}
	return rank;
}

/* ---- the independent checker ---- */

struct ind {
	const uint64_t *base;
	size_t nbase;
	const struct cc_margin *mg;     /* published */
	size_t nm;
	const struct cc_margin *kn;     /* known */
	size_t nk;
	bool cprior[MAXC], mprior[MAXR];
};

static const struct cc_margin *
ind_margin(const struct ind *x, size_t id)
{
	return id < x->nm ? &x->mg[id] : &x->kn[id - x->nm];
}

/* Rank of the selected rows over the unknown cells (plus extra). */
static size_t
ind_rank(const struct ind *x, const bool *rowsel, const bool *unknown,
    const uint8_t *extra)
{
	static int a[MAXR][MAXC];
	size_t col[MAXC], nc = 0, nr = 0, i, id, t;

	memset(a, 0, sizeof(a));
	for (i = 0; i < x->nbase; i++)
		col[i] = unknown[i] ? nc++ : SIZE_MAX;
	for (id = 0; id < x->nm + x->nk; id++) {
		const struct cc_margin *m = ind_margin(x, id);

		if (!rowsel[id])
			continue;
		for (t = 0; t < m->nterms; t++) {
			if (col[m->terms[t]] != SIZE_MAX)
				a[nr][col[m->terms[t]]] = 1;
		}
		nr++;
	}
	if (extra != NULL) {
		for (i = 0; i < x->nbase; i++) {
			if (extra[i] && col[i] != SIZE_MAX)
				a[nr][col[i]] = 1;
		}
		nr++;
	}
	return rational_rank(a, nr, nc);
}

static void
row_of(uint8_t *v, const struct ind *x, const struct cc_margin *m)
{
	size_t t;

	memset(v, 0, x->nbase);
	for (t = 0; t < m->nterms; t++)
		v[m->terms[t]] = 1;
}

/* The insider's prior, as SPEC 9.5 defines it, by rank. */
static void
ind_prior(struct ind *x)
{
	bool changed, rowsel[MAXR], unknown[MAXC], newc[MAXC];
	uint8_t v[MAXC];
	size_t id, i, t, k, r0;
	uint64_t sum;

	memset(x->cprior, 0, sizeof(x->cprior));
	memset(x->mprior, 0, sizeof(x->mprior));
	if (x->nk == 0)
		return;
	do {
		changed = false;
		for (id = 0; id < x->nm + x->nk; id++) {
			const struct cc_margin *m = ind_margin(x, id);

			if (id < x->nm && !x->mprior[id])
				continue;
			for (k = 0, sum = 0, t = 0; t < m->nterms; t++) {
				if (!x->cprior[m->terms[t]]) {
					k++;
					sum += x->base[m->terms[t]];
				}
			}
			if (k > 0 && sum == 0) {
				for (t = 0; t < m->nterms; t++)
					x->cprior[m->terms[t]] = true;
				changed = true;
			}
		}
		if (changed)
			continue;
		for (id = 0; id < x->nm + x->nk; id++)
			rowsel[id] = id >= x->nm || x->mprior[id];
		for (i = 0; i < x->nbase; i++)
			unknown[i] = !x->cprior[i];
		r0 = ind_rank(x, rowsel, unknown, NULL);
		for (i = 0; i < x->nbase; i++) {
			newc[i] = false;
			if (!unknown[i])
				continue;
			memset(v, 0, x->nbase);
			v[i] = 1;
			newc[i] = ind_rank(x, rowsel, unknown, v) == r0;
			changed |= newc[i];
		}
		for (id = 0; id < x->nm; id++) {
			if (x->mprior[id])
				continue;
			row_of(v, x, &x->mg[id]);
			if (ind_rank(x, rowsel, unknown, v) == r0) {
				x->mprior[id] = true;
				changed = true;
			}
		}
		for (i = 0; i < x->nbase; i++)
			x->cprior[i] |= newc[i];
	} while (changed);
}

/*
 * Independent verdict: 0 if the pattern is safe (primary p1, p2; rules
 * a, b, c for the analyst; a for the insider); else why.
 */
static int
independent_check(const bool *bw, const bool *mw, const uint64_t *base,
    size_t nbase, const struct cc_margin *mg, size_t nm,
    const struct cc_margin *kn, size_t nk, uint32_t min_cell, char *why,
    size_t whylen)
{
	static struct ind x;
	bool rowsel[MAXR], unknown[MAXC];
	uint8_t v[MAXC];
	size_t i, id, t, k, r0, rd;
	uint64_t sum;

	assert_true(nbase <= MAXC && nm + nk + 1 <= MAXR);
	x.base = base;
	x.nbase = nbase;
	x.mg = mg;
	x.nm = nm;
	x.kn = kn;
	x.nk = nk;
	for (i = 0; i < nbase; i++) {
		if (base[i] > 0 && base[i] < min_cell && !bw[i]) {
			snprintf(why, whylen, "primary cell %zu published", i);
			return -1;
		}
	}
	for (id = 0; id < nm + nk; id++) {
		const struct cc_margin *m = ind_margin(&x, id);

		for (sum = 0, t = 0; t < m->nterms; t++)
			sum += base[m->terms[t]];
		if (sum == 0 || sum >= min_cell)
			continue;
		if (id < nm && !mw[id]) {
			snprintf(why, whylen, "primary margin %zu published",
			    id);
			return -1;
		}
		for (t = 0; id >= nm && t < m->nterms; t++) {
			if (!bw[m->terms[t]]) {
				snprintf(why, whylen, "small stratum %zu: cell "
				    "%zu published", id - nm, m->terms[t]);
				return -1;
			}
		}
	}
	ind_prior(&x);
	for (rd = 0; rd < (nk > 0 ? 2u : 1u); rd++) {
		const char *who = rd == 0 ? "analyst" : "insider";

		for (id = 0; id < nm + nk; id++)
			rowsel[id] = rd == 0 ? id < nm && !mw[id] :
			    id >= nm || !mw[id] || x.mprior[id];
		for (i = 0; i < nbase; i++)
			unknown[i] = bw[i] && (rd == 0 || !x.cprior[i]);
		r0 = ind_rank(&x, rowsel, unknown, NULL);
		for (i = 0; i < nbase; i++) {
			if (!unknown[i])
				continue;
			memset(v, 0, nbase);
			v[i] = 1;
			if (ind_rank(&x, rowsel, unknown, v) == r0) {
				snprintf(why, whylen, "cell %zu derivable (%s)",
				    i, who);
				return -1;
			}
		}
		for (id = 0; id < nm; id++) {
			if (!mw[id] || (rd == 1 && x.mprior[id]))
				continue;
			row_of(v, &x, &mg[id]);
			if (ind_rank(&x, rowsel, unknown, v) == r0) {
				snprintf(why, whylen, "margin %zu derivable "
				    "(%s)", id, who);
				return -1;
			}
		}
		for (id = 0; id < nm + nk; id++) {
			const struct cc_margin *m = ind_margin(&x, id);

			if (!rowsel[id])
				continue;
			for (k = 0, sum = 0, t = 0; t < m->nterms; t++) {
				if (unknown[m->terms[t]]) {
					k++;
					sum += base[m->terms[t]];
				}
			}
			if (rd == 0 && k > 0 && (sum == 0 || sum == k)) {
				snprintf(why, whylen, "margin %zu pins %s (%s)",
				    id, sum == 0 ? "zeros" : "ones", who);
				return -1;
			}
		}
	}
	return 0;
}

/* ---- helpers ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng_next(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static uint64_t
rng_below(uint64_t n)
{
	return rng_next() % n;
}

/* Protect, then both checkers must accept the pattern. */
static void
protect_known_ok(bool *bw, bool *mw, const uint64_t *base, size_t nbase,
    const struct cc_margin *mg, size_t nm, const struct cc_margin *kn,
    size_t nk, uint32_t min_cell)
{
	struct cc_diag diag = { "" };
	char why[128];
	int r;

	r = cc_disclosure_protect(bw, mw, base, nbase, mg, nm, kn, nk,
	    min_cell, &diag);
	if (r != 0)
		fail_msg("protect: %s: %s", cc_strerror(r), diag.text);
	r = cc_disclosure_check(bw, mw, base, nbase, mg, nm, kn, nk, min_cell,
	    &diag);
	if (r != 0)
		fail_msg("check after protect: %s", diag.text);
	if (nbase <= MAXC && nm + nk < MAXR &&
	    independent_check(bw, mw, base, nbase, mg, nm, kn, nk, min_cell,
	    why, sizeof(why)) != 0)
		fail_msg("independent check after protect: %s", why);
}

static void
protect_ok(bool *bw, bool *mw, const uint64_t *base, size_t nbase,
    const struct cc_margin *mg, size_t nm, uint32_t min_cell)
{
	protect_known_ok(bw, mw, base, nbase, mg, nm, NULL, 0, min_cell);
}

/* A Venn table's published and known margins. */
struct venn {
	struct cc_margin *mg, *kn;
	size_t nm, nk;
};

static void
venn_new(struct venn *v, size_t nsets, size_t ncells)
{
	assert_int_equal(cc_disclosure_venn_margins(&v->mg, &v->nm, nsets,
	    ncells), 0);
	assert_int_equal(cc_disclosure_venn_known_margins(&v->kn, &v->nk,
	    nsets, ncells), 0);
}

static void
venn_free(struct venn *v)
{
	cc_disclosure_margins_free(v->mg);
	cc_disclosure_margins_free(v->kn);
}

/* ---- the classic cases (published margins only) ---- */

/* 2 sets, no breakdown: cells A only, B only, AB; margins A, B. */
static void
two_set_small_region_forces_complement(void **state)
{
	const uint64_t base[3] = { 10, 20, 3 };
	const size_t ta[] = { 0, 2 }, tb[] = { 1, 2 };
	const struct cc_margin mg[2] = { { ta, 2 }, { tb, 2 } };
	bool bw[3], mw[2];
	const bool prim_b[3] = { false, false, true }, prim_m[2] = { 0 };
	struct cc_diag diag = { "" };

	(void)state;
	/* Primary alone is not safe: AB = A - (A only) = 13 - 10. */
	assert_int_equal(cc_disclosure_check(prim_b, prim_m, base, 3, mg, 2,
	    NULL, 0, 5, &diag), CC_ERR_POLICY);
	assert_string_equal(diag.text,
	    "base cell 2 is derivable from published items");
	protect_ok(bw, mw, base, 3, mg, 2, 5);
	/* A only (10) goes first, then B only (20): both totals stay. */
	assert_true(bw[0] && bw[1] && bw[2]);
	assert_false(mw[0] || mw[1]);
	/*
	 * Here the known margins (each set's total, one breakdown cell) are
	 * the published totals: nothing changes.
	 */
	protect_known_ok(bw, mw, base, 3, mg, 2, mg, 2, 5);
	assert_true(bw[0] && bw[1] && bw[2]);
	assert_false(mw[0] || mw[1]);
}

static void
small_margin_is_withheld_and_protected(void **state)
{
	/* A only 2, B only 30, AB 1: margin A = 3 is itself small. */
	const uint64_t base[3] = { 2, 30, 1 };
	const size_t ta[] = { 0, 2 }, tb[] = { 1, 2 };
	const struct cc_margin mg[2] = { { ta, 2 }, { tb, 2 } };
	bool bw[3], mw[2];

	(void)state;
	protect_ok(bw, mw, base, 3, mg, 2, 5);
	assert_true(mw[0]);
	assert_false(mw[1]);
	/* AB = B - B only would follow, so B only is withheld too. */
	assert_true(bw[0] && bw[1] && bw[2]);
}

static void
withheld_margin_derivable_from_a_larger_margin(void **state)
{
	/* m0 = c0 + c1 = 4 (small), m1 = c0 + c1 + c2 = 54: m0 = m1 - c2. */
	const uint64_t base[3] = { 2, 2, 50 };
	const size_t t0[] = { 0, 1 }, t1[] = { 0, 1, 2 };
	const struct cc_margin mg[2] = { { t0, 2 }, { t1, 3 } };
	const bool pb[3] = { true, true, false }, pm[2] = { true, false };
	bool bw[3], mw[2];
	struct cc_diag diag = { "" };

	(void)state;
	assert_int_equal(cc_disclosure_check(pb, pm, base, 3, mg, 2, NULL, 0,
	    5, &diag), CC_ERR_POLICY);
	assert_string_equal(diag.text,
	    "margin 0 is derivable from published items");
	protect_ok(bw, mw, base, 3, mg, 2, 5);
	assert_true(bw[0] && bw[1] && bw[2]);
	assert_true(mw[0]);
	assert_false(mw[1]);
}

static void
margin_of_published_cells_is_derivable(void **state)
{
	const uint64_t base[2] = { 10, 20 };
	const size_t t0[] = { 0, 1 };
	const struct cc_margin mg[1] = { { t0, 2 } };
	const bool pb[2] = { false, false }, pm[1] = { true };
	struct cc_diag diag = { "" };

	(void)state;
	assert_int_equal(cc_disclosure_check(pb, pm, base, 2, mg, 1, NULL, 0,
	    5, &diag), CC_ERR_POLICY);
	assert_string_equal(diag.text,
	    "margin 0 is derivable from published items");
}

static void
all_zero_and_all_small(void **state)
{
	const uint64_t zero[3] = { 0, 0, 0 }, small[3] = { 3, 4, 2 };
	const uint64_t ones[3] = { 1, 1, 1 };
	const size_t ta[] = { 0, 2 }, tb[] = { 1, 2 };
	const struct cc_margin mg[2] = { { ta, 2 }, { tb, 2 } };
	bool bw[3], mw[2];

	(void)state;
	/* Zeros are published: a zero names no person. */
	protect_ok(bw, mw, zero, 3, mg, 2, 5);
	assert_false(bw[0] || bw[1] || bw[2] || mw[0] || mw[1]);
	protect_known_ok(bw, mw, zero, 3, mg, 2, mg, 2, 5);
	assert_false(bw[0] || bw[1] || bw[2] || mw[0] || mw[1]);
	/* Every cell small, totals 5 and 6 publishable. */
	protect_ok(bw, mw, small, 3, mg, 2, 5);
	assert_true(bw[0] && bw[1] && bw[2]);
	assert_false(mw[0] || mw[1]);
	/* Everything below min_cell, margins too. */
	protect_ok(bw, mw, ones, 3, mg, 2, 5);
	assert_true(bw[0] && bw[1] && bw[2] && mw[0] && mw[1]);
	/* min_cell 1: nothing is small, nothing withheld. */
	protect_ok(bw, mw, small, 3, mg, 2, 1);
	assert_false(bw[0] || bw[1] || bw[2] || mw[0] || mw[1]);
}

static void
ones_pinned_by_a_margin(void **state)
{
	/*
	 * A only 50, B only 1, AB 1: after AB's complement (A only) is
	 * withheld, B = B only + AB = 2 over two withheld cells would show
	 * both are 1 to a reader who can tell they are primary. Rule (c)
	 * withholds B.
	 */
	const uint64_t base[3] = { 50, 1, 1 };
	const size_t ta[] = { 0, 2 }, tb[] = { 1, 2 };
	const struct cc_margin mg[2] = { { ta, 2 }, { tb, 2 } };
	const bool pb[3] = { true, true, true }, pm[2] = { false, false };
	bool bw[3], mw[2];
	struct cc_diag diag = { "" };

	(void)state;
	/* B = 2 < 5 is primary anyway; with min_cell 2 it is not. */
	assert_int_equal(cc_disclosure_check(pb, pm, base, 3, mg, 2, NULL, 0,
	    2, &diag), CC_ERR_POLICY);
	assert_string_equal(diag.text,
	    "margin 1 shows that its 2 withheld cells are 1 each");
	protect_ok(bw, mw, base, 3, mg, 2, 2);
	assert_true(bw[0] && bw[1] && bw[2]);
	assert_true(mw[1]);
}

/*
 * Rule (b): withheld cells of a margin adding up to 0. Cells 0, 1 are 0,
 * cell 2 is 30, cell 3 is 2; published m0 = cells 0 + 1 + 2, known
 * k0 = cells 0 + 1 + 3 = 2, a small stratum: cells 0, 1, 3 are withheld,
 * zeros included. Then m0 - 30 = 0 would show cells 0 and 1 are 0, so
 * cell 2 is withheld too.
 */
static void
zeros_pinned_by_a_margin(void **state)
{
	const uint64_t base[4] = { 0, 0, 30, 2 };
	const size_t t0[] = { 0, 1, 2 }, k0[] = { 0, 1, 3 };
	const struct cc_margin mg[1] = { { t0, 3 } }, kn[1] = { { k0, 3 } };
	const bool pb[4] = { true, true, false, true }, pm[1] = { false };
	struct cc_diag diag = { "" };
	char why[128];
	bool bw[4], mw[1];

	(void)state;
	assert_int_equal(cc_disclosure_check(pb, pm, base, 4, mg, 1, NULL, 0,
	    5, &diag), CC_ERR_POLICY);
	assert_string_equal(diag.text,
	    "margin 0 shows that its 2 withheld cells are 0");
	/* The insider even gets cell 3 = k0 - (m0 - 30) = 2 linearly. */
	assert_int_equal(cc_disclosure_check(pb, pm, base, 4, mg, 1, kn, 1,
	    5, &diag), CC_ERR_POLICY);
	assert_string_equal(diag.text,
	    "base cell 3 is derivable with the known margins");
	assert_int_equal(independent_check(pb, pm, base, 4, mg, 1, kn, 1, 5,
	    why, sizeof(why)), -1);
	assert_string_equal(why, "margin 0 pins zeros (analyst)");
	/* The small stratum must be withheld whole. */
	{
		const bool pb2[4] = { false, true, true, true };

		assert_int_equal(cc_disclosure_check(pb2, pm, base, 4, mg, 1,
		    kn, 1, 5, &diag), CC_ERR_POLICY);
		assert_string_equal(diag.text, "base cell 0 (in known margin "
		    "0 below min_cell) is published");
	}
	protect_known_ok(bw, mw, base, 4, mg, 1, kn, 1, 5);
	assert_true(bw[0] && bw[1] && bw[2] && bw[3]);
	assert_false(mw[0]);
}

/*
 * Three sets by sex (2 cells): regions 1..7, base index (r-1)*2 + cell.
 * (AB, F) = 3 is recoverable only as set A minus region "A only"
 * (or B minus "B only"): every published margin holds two or more
 * withheld cells, so no single row gives it away.
 */
static void
three_sets_combination_of_margins(void **state)
{
	const uint64_t base[14] = {
		2, 3,    /* r1 A only: total 5 */
		2, 4,    /* r2 B only: total 6 */
		3, 0,    /* r3 AB: total 3 (small) */
		20, 30,  /* r4 C only */
		10, 11,  /* r5 AC */
		12, 13,  /* r6 BC */
		7, 8,    /* r7 ABC */
	};
	struct cc_margin *mg = NULL;
	size_t nm, i, m, t, k;
	bool pb[14], pm[10], bw[14], mw[10];
	struct cc_diag diag = { "" };
	char why[128];

	(void)state;
	assert_int_equal(cc_disclosure_venn_margins(&mg, &nm, 3, 2), 0);
	assert_int_equal(nm, 3 + 7);
	for (i = 0; i < 14; i++)
		pb[i] = base[i] > 0 && base[i] < 5;
	for (m = 0; m < nm; m++) {
		uint64_t v;

		assert_int_equal(cc_disclosure_margin_value(&v, base, 14,
		    &mg[m]), 0);
		pm[m] = v > 0 && v < 5;
	}
	assert_true(pm[3 + 2]);          /* region AB total 3 */
	/* No published margin holds exactly one withheld cell. */
	for (m = 0; m < nm; m++) {
		if (pm[m])
			continue;
		for (k = 0, t = 0; t < mg[m].nterms; t++)
			k += pb[mg[m].terms[t]];
		assert_true(k != 1);
	}
	/* Yet (AB, F) is derivable: both checkers see it. */
	assert_int_equal(cc_disclosure_check(pb, pm, base, 14, mg, nm, NULL, 0,
	    5, &diag), CC_ERR_POLICY);
	assert_string_equal(diag.text,
	    "base cell 4 is derivable from published items");
	assert_int_equal(independent_check(pb, pm, base, 14, mg, nm, NULL, 0,
	    5, why, sizeof(why)), -1);
	assert_string_equal(why, "cell 4 derivable (analyst)");

	protect_ok(bw, mw, base, 14, mg, nm, 5);
	for (i = 0; i < 14; i++)
		assert_true(!pb[i] || bw[i]);
	/* Deterministic. */
	{
		bool bw2[14], mw2[10];

		protect_ok(bw2, mw2, base, 14, mg, nm, 5);
		assert_memory_equal(bw, bw2, sizeof(bw));
		assert_memory_equal(mw, mw2, sizeof(mw));
	}
	cc_disclosure_margins_free(mg);
}

static void
venn_margin_layout(void **state)
{
	struct cc_margin *mg = NULL;
	size_t nm;
	const size_t a[] = { 0, 1, 2, 6, 7, 8 }, b[] = { 3, 4, 5, 6, 7, 8 };
	const size_t k0c1[] = { 1, 7 }, k1c2[] = { 5, 8 };

	(void)state;
	assert_int_equal(cc_disclosure_venn_margins(&mg, &nm, 2, 3), 0);
	assert_int_equal(nm, 5);
	assert_int_equal(mg[0].nterms, 6);
	assert_memory_equal(mg[0].terms, a, sizeof(a));
	assert_int_equal(mg[1].nterms, 6);
	assert_memory_equal(mg[1].terms, b, sizeof(b));
	assert_int_equal(mg[2].nterms, 3);
	assert_int_equal(mg[2].terms[0], 0);
	assert_int_equal(mg[4].terms[0], 6);
	assert_int_equal(mg[4].terms[2], 8);
	cc_disclosure_margins_free(mg);

	/* Known: set i in cell c is margin i * ncells + c. */
	assert_int_equal(cc_disclosure_venn_known_margins(&mg, &nm, 2, 3), 0);
	assert_int_equal(nm, 6);
	assert_int_equal(mg[1].nterms, 2);
	assert_memory_equal(mg[1].terms, k0c1, sizeof(k0c1));
	assert_memory_equal(mg[5].terms, k1c2, sizeof(k1c2));
	cc_disclosure_margins_free(mg);
	assert_int_equal(cc_disclosure_venn_known_margins(&mg, &nm, 6, 40), 0);
	assert_int_equal(nm, 240);
	assert_int_equal(mg[239].nterms, 32);
	assert_int_equal(mg[239].terms[31], 62 * 40 + 39);
	cc_disclosure_margins_free(mg);
	assert_int_equal(cc_disclosure_venn_known_margins(&mg, &nm, 0, 1),
	    CC_ERR_INVALID_ARGUMENT);
	assert_null(mg);
	assert_int_equal(cc_disclosure_venn_known_margins(&mg, &nm, 6, 200),
	    CC_ERR_LIMIT);

	assert_int_equal(cc_disclosure_venn_margins(&mg, &nm, 3, 1), 0);
	assert_int_equal(nm, 3);
	assert_int_equal(mg[2].nterms, 4);   /* regions 4, 5, 6, 7 */
	assert_int_equal(mg[2].terms[0], 3);
	assert_int_equal(mg[2].terms[3], 6);
	cc_disclosure_margins_free(mg);

	assert_int_equal(cc_disclosure_venn_margins(&mg, &nm, 6, 40), 0);
	assert_int_equal(nm, 6 + 63);
	assert_int_equal(mg[0].nterms, 32 * 40);
	cc_disclosure_margins_free(mg);
	cc_disclosure_margins_free(NULL);

	assert_int_equal(cc_disclosure_venn_margins(&mg, &nm, 0, 1),
	    CC_ERR_INVALID_ARGUMENT);
	assert_null(mg);
	assert_int_equal(cc_disclosure_venn_margins(&mg, &nm, 7, 1),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_disclosure_venn_margins(&mg, &nm, 6, 200),
	    CC_ERR_LIMIT);
}

static void
bad_arguments(void **state)
{
	const uint64_t base[3] = { 1, 2, 3 };
	const size_t dup[] = { 0, 0 }, desc[] = { 2, 1 }, out[] = { 3 };
	struct cc_margin mg[1];
	bool bw[3] = { true, true, true }, mw[1] = { true };
	struct cc_diag diag = { "" };
	uint64_t big[2] = { UINT64_MAX, 1 }, v;
	const size_t both[] = { 0, 1 }, one[] = { 0 };
	const struct cc_margin good[1] = { { one, 1 } };

	(void)state;
	mg[0].terms = dup;
	mg[0].nterms = 2;
	assert_int_equal(cc_disclosure_protect(bw, mw, base, 3, mg, 1, NULL, 0,
	    5, &diag), CC_ERR_INVALID_ARGUMENT);
	assert_false(bw[0] || bw[1] || bw[2] || mw[0]);
	/* The same checks for known margins. */
	assert_int_equal(cc_disclosure_protect(bw, mw, base, 3, good, 1, mg,
	    1, 5, &diag), CC_ERR_INVALID_ARGUMENT);
	assert_string_equal(diag.text, "internal: known margin 0: terms must "
	    "be increasing cell indexes");
	assert_int_equal(cc_disclosure_check(bw, mw, base, 3, good, 1, mg, 1,
	    5, &diag), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_disclosure_protect(bw, mw, base, 3, good, 1, NULL,
	    1, 5, &diag), CC_ERR_INVALID_ARGUMENT);
	mg[0].terms = desc;
	assert_int_equal(cc_disclosure_protect(bw, mw, base, 3, mg, 1, NULL, 0,
	    5, &diag), CC_ERR_INVALID_ARGUMENT);
	mg[0].terms = out;
	mg[0].nterms = 1;
	assert_int_equal(cc_disclosure_protect(bw, mw, base, 3, mg, 1, NULL, 0,
	    5, &diag), CC_ERR_INVALID_ARGUMENT);
	mg[0].nterms = 0;
	assert_int_equal(cc_disclosure_protect(bw, mw, base, 3, mg, 1, NULL, 0,
	    5, &diag), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_disclosure_protect(bw, mw, base, 3, NULL, 0, NULL,
	    0, 0, &diag), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_disclosure_protect(NULL, mw, base, 3, NULL, 0, NULL,
	    0, 5, &diag), CC_ERR_INVALID_ARGUMENT);
	{
		static uint64_t huge[CC_LIMIT_TABLE_CELLS + 1];
		static bool hw[CC_LIMIT_TABLE_CELLS + 1];
		static struct cc_margin many[CC_DISCLOSURE_MAX_KNOWN + 1];

		assert_int_equal(cc_disclosure_protect(hw, NULL, huge,
		    CC_LIMIT_TABLE_CELLS + 1, NULL, 0, NULL, 0, 5, &diag),
		    CC_ERR_LIMIT);
		assert_int_equal(cc_disclosure_protect(hw, NULL, huge, 3,
		    NULL, 0, many, CC_DISCLOSURE_MAX_KNOWN + 1, 5, &diag),
		    CC_ERR_LIMIT);
	}
	/* Overflowing margin, published or known. */
	mg[0].terms = both;
	mg[0].nterms = 2;
	assert_int_equal(cc_disclosure_margin_value(&v, big, 2, &mg[0]),
	    CC_ERR_LIMIT);
	assert_int_equal(cc_disclosure_protect(bw, mw, big, 2, mg, 1, NULL, 0,
	    5, &diag), CC_ERR_LIMIT);
	assert_int_equal(cc_disclosure_protect(bw, mw, big, 2, good, 1, mg, 1,
	    5, &diag), CC_ERR_LIMIT);
	assert_string_equal(diag.text, "known margin 0 overflows");
	/* An empty table is trivially safe. */
	assert_int_equal(cc_disclosure_protect(NULL, NULL, NULL, 0, NULL, 0,
	    NULL, 0, 5, &diag), 0);
	assert_int_equal(cc_disclosure_check(NULL, NULL, NULL, 0, NULL, 0,
	    NULL, 0, 5, &diag), 0);
}

/* ---- the insider: known margins (SPEC 9.5) ---- */

/*
 * Two sets by sex: A only (20, 30), B only (40, 50), AB (3, 60). For
 * the analyst withholding AB F (3) and AB M (60) is enough; the insider
 * who knows set A's total among girls (23) subtracts A only F (20).
 */
static void
insider_derives_through_a_known_margin(void **state)
{
	const uint64_t base[6] = { 20, 30, 40, 50, 3, 60 };
	const bool pb[6] = { false, false, false, false, true, true };
	const bool pm[5] = { false };
	struct venn v;
	struct cc_diag diag = { "" };
	char why[128];
	bool bw[6], mw[5];

	(void)state;
	venn_new(&v, 2, 2);
	assert_int_equal(cc_disclosure_check(pb, pm, base, 6, v.mg, v.nm, NULL,
	    0, 5, &diag), 0);
	assert_int_equal(cc_disclosure_check(pb, pm, base, 6, v.mg, v.nm, v.kn,
	    v.nk, 5, &diag), CC_ERR_POLICY);
	assert_string_equal(diag.text,
	    "base cell 4 is derivable with the known margins");
	assert_int_equal(independent_check(pb, pm, base, 6, v.mg, v.nm, v.kn,
	    v.nk, 5, why, sizeof(why)), -1);
	assert_string_equal(why, "cell 4 derivable (insider)");
	protect_known_ok(bw, mw, base, 6, v.mg, v.nm, v.kn, v.nk, 5);
	/*
	 * AB F needs a partner in each set's girls (A only F, B only F) and
	 * AB M one in each set's boys and in AB's total: all six cells.
	 */
	assert_true(bw[4] && bw[5] && bw[0] && bw[2]);
	venn_free(&v);
}

/*
 * The reviewers' example: set A is one node; in breakdown cell 2 it has
 * exactly one child, in region `where` (A, AB, AC or ABC); every other
 * region containing A is 0 in that cell. Three sets, four breakdown
 * cells (two age bands by sex), min_cell 5.
 */
static void
one_child_table(uint64_t base[28], unsigned where)
{
	size_t reg, c;

	for (reg = 1; reg <= 7; reg++) {
		for (c = 0; c < 4; c++) {
			uint64_t v = 10 + 7 * reg + 3 * c;

			if ((reg & 1) && c == 2)
				v = reg == where;
			base[(reg - 1) * 4 + c] = v;
		}
	}
}

static void
reviewers_example_one_child(void **state)
{
	const unsigned wheres[4] = { 1, 3, 5, 7 };
	uint64_t base[28];
	bool bw[28], mw[10], first_bw[28], first_mw[10];
	struct venn v;
	struct cc_diag diag = { "" };
	size_t i, w, reg;

	(void)state;
	venn_new(&v, 3, 4);
	for (w = 0; w < 4; w++) {
		one_child_table(base, wheres[w]);
		/*
		 * Without the known margins the child's cell alone is
		 * primary; its complements come from positive cells, and the
		 * three zeros beside it stay published: node A, knowing its
		 * total there is 1, reads off where its child is.
		 */
		assert_int_equal(cc_disclosure_protect(bw, mw, base, 28, v.mg,
		    v.nm, NULL, 0, 5, &diag), 0);
		for (reg = 1; reg <= 7; reg += 2)
			assert_int_equal(bw[(reg - 1) * 4 + 2],
			    reg == wheres[w]);
		assert_int_equal(cc_disclosure_check(bw, mw, base, 28, v.mg,
		    v.nm, v.kn, v.nk, 5, &diag), CC_ERR_POLICY);
		assert_non_null(strstr(diag.text, " (in known margin 2 below "
		    "min_cell) is published"));

		/* With them: every region of A in that cell is withheld. */
		protect_known_ok(bw, mw, base, 28, v.mg, v.nm, v.kn, v.nk, 5);
		for (reg = 1; reg <= 7; reg += 2)
			assert_true(bw[(reg - 1) * 4 + 2]);
		/*
		 * And the whole pattern is the same wherever the child is:
		 * rerunning the rule tells node A nothing either.
		 */
		if (w == 0) {
			memcpy(first_bw, bw, sizeof(bw));
			memcpy(first_mw, mw, sizeof(mw));
		} else {
			assert_memory_equal(bw, first_bw, sizeof(bw));
			assert_memory_equal(mw, first_mw, sizeof(mw));
		}
	}
	for (i = 0; i < 28; i++)
		print_message("%s", first_bw[i] ? "x" : ".");
	print_message("  (pattern of the one-child table)\n");
	venn_free(&v);
}

/*
 * A known limit (SPEC 3.3 item 2, 9.6): the small-stratum rule needs a
 * small stratum. A node that pads its selection in that cell with
 * min_cell - 1 or more persons whose memberships it knows (here 39 in
 * "A only", e.g. invented identities no agency holds) makes the stratum
 * large; then the chosen child's region shows: in "A only" nothing is
 * withheld, elsewhere its region's cell is withheld as primary and the
 * other regions of A in that cell show 0. Exact rules cannot stop this;
 * only policy, audit or noise can.
 */
static void
padded_selection_still_locates_the_child(void **state)
{
	uint64_t base[28];
	bool bw[28], mw[10];
	struct venn v;
	struct cc_diag diag = { "" };
	unsigned where;

	(void)state;
	venn_new(&v, 3, 4);
	for (where = 1; where <= 3; where += 2) {
		one_child_table(base, where);
		base[2] += 39;          /* "A only", cell 2: the padding */
		assert_int_equal(cc_disclosure_protect(bw, mw, base, 28, v.mg,
		    v.nm, v.kn, v.nk, 5, &diag), 0);
		/* Cell 2 of A, AB, AC, ABC: base index (region - 1) * 4 + 2. */
		if (where == 1) {
			/* 40, 0, 0, 0: all published. */
			assert_false(bw[2] || bw[10] || bw[18] || bw[26]);
		} else {
			/* 39, 1, 0, 0: AB withheld, AC and ABC show 0. */
			assert_true(bw[10]);
			assert_false(bw[18] || bw[26]);
		}
	}
	venn_free(&v);
}

/* Four sets by age band and sex (6 cells): a larger multi-cell table. */
static void
multi_cell_table(void **state)
{
	uint64_t base[15 * 6];
	bool bw[15 * 6], mw[4 + 15];
	struct venn v;
	size_t i, k, t, nw = 0, trial;

	(void)state;
	venn_new(&v, 4, 6);
	for (trial = 0; trial < 5; trial++) {
		for (i = 0; i < 15 * 6; i++) {
			size_t region = i / 6 + 1;
			int bits = __builtin_popcount((unsigned)region);

			base[i] = rng_below(bits >= 3 ? 3 : bits == 2 ? 12 :
			    80);
		}
		/* MAXC is 64: only cc_disclosure_check verifies here. */
		{
			struct cc_diag diag = { "" };

			assert_int_equal(cc_disclosure_protect(bw, mw, base,
			    15 * 6, v.mg, v.nm, v.kn, v.nk, 5, &diag), 0);
			if (cc_disclosure_check(bw, mw, base, 15 * 6, v.mg,
			    v.nm, v.kn, v.nk, 5, &diag) != 0)
				fail_msg("check: %s", diag.text);
		}
		/* Every small stratum is withheld whole. */
		for (k = 0; k < v.nk; k++) {
			uint64_t s = 0;

			for (t = 0; t < v.kn[k].nterms; t++)
				s += base[v.kn[k].terms[t]];
			for (t = 0; s > 0 && s < 5 && t < v.kn[k].nterms; t++)
				assert_true(bw[v.kn[k].terms[t]]);
		}
		for (i = 0; i < 15 * 6; i++)
			nw += bw[i];
	}
	print_message("multi-cell tables: %zu of %d cells withheld\n", nw,
	    5 * 15 * 6);
	venn_free(&v);
}

/* Random Venn tables: protect, then all three checkers agree it's safe. */
static void
random_venn_tables(void **state)
{
	size_t trial, secondary = 0, zeros = 0;

	(void)state;
	for (trial = 0; trial < 300; trial++) {
		size_t nsets = 1 + rng_below(3), ncells = 1 + rng_below(4);
		size_t nbase = (((size_t)1 << nsets) - 1) * ncells, i;
		uint32_t min_cell = 2 + (uint32_t)rng_below(5);
		uint64_t base[64];
		bool bw[64], mw[64];
		struct venn v;

		for (i = 0; i < nbase; i++) {
			uint64_t kind = rng_below(4);

			base[i] = kind == 0 ? 0 : kind == 3 ?
			    rng_below(40) : rng_below(6);
		}
		venn_new(&v, nsets, ncells);
		protect_ok(bw, mw, base, nbase, v.mg, v.nm, min_cell);
		protect_known_ok(bw, mw, base, nbase, v.mg, v.nm, v.kn, v.nk,
		    min_cell);
		for (i = 0; i < nbase; i++) {
			if (bw[i] && !(base[i] > 0 && base[i] < min_cell)) {
				secondary++;
				break;
			}
		}
		for (i = 0; i < nbase; i++) {
			if (bw[i] && base[i] == 0) {
				zeros++;
				break;
			}
		}
		venn_free(&v);
	}
	/* Many tables needed complements; many withheld a zero. */
	print_message("random Venn tables: %zu of 300 with complements, %zu "
	    "with a withheld zero\n", secondary, zeros);
	assert_true(secondary > 50);
	assert_true(zeros > 20);
}

/* A mid-size table, verified by cc_disclosure_check. */
static void
mid_size_table(void **state)
{
	uint64_t base[15 * 8];
	bool bw[15 * 8], mw[4 + 15];
	struct venn v;
	struct cc_diag diag = { "" };
	size_t i;

	(void)state;
	for (i = 0; i < 15 * 8; i++)
		base[i] = rng_below(4) == 0 ? rng_below(5) : rng_below(60);
	venn_new(&v, 4, 8);
	protect_ok(bw, mw, base, 15 * 8, v.mg, v.nm, 5);
	assert_int_equal(cc_disclosure_protect(bw, mw, base, 15 * 8, v.mg,
	    v.nm, v.kn, v.nk, 5, &diag), 0);
	if (cc_disclosure_check(bw, mw, base, 15 * 8, v.mg, v.nm, v.kn, v.nk,
	    5, &diag) != 0)
		fail_msg("check: %s", diag.text);
	venn_free(&v);
}

static void
random_margins(struct cc_margin *mg, size_t terms[][12], size_t nm,
    size_t nbase)
{
	size_t m, i;

	for (m = 0; m < nm; m++) {
		mg[m].nterms = 0;
		mg[m].terms = terms[m];
		for (i = 0; i < nbase; i++) {
			if (rng_below(2))
				terms[m][mg[m].nterms++] = i;
		}
		if (mg[m].nterms == 0)
			terms[m][mg[m].nterms++] = rng_below(nbase);
	}
}

/* Random 0/1 margins, published and known, over random cells. */
static void
random_generic_margins(void **state)
{
	size_t trial;

	(void)state;
	for (trial = 0; trial < 400; trial++) {
		size_t nbase = 1 + rng_below(10), nm = rng_below(7), i;
		size_t nk = rng_below(5);
		size_t terms[8][12], kterms[8][12];
		struct cc_margin mg[8], kn[8];
		uint64_t base[12];
		bool bw[12], mw[8];
		uint32_t min_cell = 2 + (uint32_t)rng_below(4);

		for (i = 0; i < nbase; i++)
			base[i] = rng_below(3) == 0 ? 0 : rng_below(9);
		random_margins(mg, terms, nm, nbase);
		random_margins(kn, kterms, nk, nbase);
		protect_ok(bw, mw, base, nbase, mg, nm, min_cell);
		protect_known_ok(bw, mw, base, nbase, mg, nm, kn, nk,
		    min_cell);
	}
}

/* The checkers agree with each other on random (unprotected) patterns. */
static void
checkers_agree_on_random_patterns(void **state)
{
	size_t trial, agree_unsafe = 0, insider_only = 0;

	(void)state;
	for (trial = 0; trial < 600; trial++) {
		size_t nbase = 2 + rng_below(8), nm = 1 + rng_below(6), i, m;
		size_t nk = rng_below(4);
		size_t terms[8][12], kterms[8][12];
		struct cc_margin mg[8], kn[8];
		uint64_t base[12];
		bool bw[12], mw[8];
		struct cc_diag diag = { "" };
		char why[128];
		int a, b;

		for (i = 0; i < nbase; i++) {
			base[i] = rng_below(5) == 0 ? 0 : 5 + rng_below(9);
			bw[i] = rng_below(2);
		}
		random_margins(mg, terms, nm, nbase);
		random_margins(kn, kterms, nk, nbase);
		for (m = 0; m < nm; m++)
			mw[m] = rng_below(3) == 0;
		a = cc_disclosure_check(bw, mw, base, nbase, mg, nm, kn, nk, 5,
		    &diag);
		b = independent_check(bw, mw, base, nbase, mg, nm, kn, nk, 5,
		    why, sizeof(why));
		if ((a == 0) != (b == 0))
			fail_msg("trial %zu: check says %s, independent says "
			    "%s", trial, a == 0 ? "safe" : diag.text,
			    b == 0 ? "safe" : why);
		agree_unsafe += a != 0;
		if (a != 0 && cc_disclosure_check(bw, mw, base, nbase, mg, nm,
		    NULL, 0, 5, &diag) == 0)
			insider_only++;
	}
	/* The random patterns exercise both outcomes and both readers. */
	assert_true(agree_unsafe > 20 && agree_unsafe < 580);
	assert_true(insider_only > 10);
}

/*
 * A full-size table (6 sets, 40 cells) is protected in reasonable time.
 * Regions in many sets are rare: small counts there. The second table
 * has larger counts, so fewer cells are primary and the insider's rule
 * has more to add (the slow case).
 */
static void
full_size_one(const struct venn *v, size_t round)
{
	static uint64_t base[63 * 40];
	static bool bw[63 * 40], bw2[63 * 40];
	bool mw[69], mw2[69];
	struct cc_diag diag = { "" };
	size_t i, nw = 0, nw0 = 0;
	struct timespec t0, t1;
	double secs, secs0;

	for (i = 0; i < 63 * 40; i++) {
		int bits = __builtin_popcount((unsigned)(i / 40 + 1));

		base[i] = round == 0 ?
		    rng_below(bits >= 3 ? 4 : bits == 2 ? 15 : 200) :
		    rng_below(bits >= 3 ? 30 : bits == 2 ? 100 : 1000);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(cc_disclosure_protect(bw, mw, base, 63 * 40, v->mg,
	    v->nm, NULL, 0, 5, &diag), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs0 = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	for (i = 0; i < 63 * 40; i++)
		nw0 += bw[i];
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (cc_disclosure_protect(bw, mw, base, 63 * 40, v->mg, v->nm, v->kn,
	    v->nk, 5, &diag) != 0)
		fail_msg("protect: %s", diag.text);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	for (i = 0; i < 63 * 40; i++) {
		nw += bw[i];
		assert_true(!(base[i] > 0 && base[i] < 5) || bw[i]);
	}
	print_message("full-size table %zu: %zu of 2520 cells withheld in "
	    "%.2f s with the known margins (%zu in %.2f s without)\n",
	    round, nw, secs, nw0, secs0);
	assert_true(nw >= nw0);
	assert_true(secs < 120.0);
	assert_int_equal(cc_disclosure_protect(bw2, mw2, base, 63 * 40, v->mg,
	    v->nm, v->kn, v->nk, 5, &diag), 0);
	assert_memory_equal(bw, bw2, sizeof(bw));
	assert_memory_equal(mw, mw2, sizeof(mw));
}

static void
full_size_table(void **state)
{
	struct venn v;

	(void)state;
	venn_new(&v, 6, 40);
	full_size_one(&v, 0);
	full_size_one(&v, 1);
	venn_free(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_set_small_region_forces_complement),
		cmocka_unit_test(small_margin_is_withheld_and_protected),
		cmocka_unit_test(withheld_margin_derivable_from_a_larger_margin),
		cmocka_unit_test(margin_of_published_cells_is_derivable),
		cmocka_unit_test(all_zero_and_all_small),
		cmocka_unit_test(ones_pinned_by_a_margin),
		cmocka_unit_test(zeros_pinned_by_a_margin),
		cmocka_unit_test(three_sets_combination_of_margins),
		cmocka_unit_test(venn_margin_layout),
		cmocka_unit_test(bad_arguments),
		cmocka_unit_test(insider_derives_through_a_known_margin),
		cmocka_unit_test(reviewers_example_one_child),
		cmocka_unit_test(padded_selection_still_locates_the_child),
		cmocka_unit_test(multi_cell_table),
		cmocka_unit_test(random_venn_tables),
		cmocka_unit_test(mid_size_table),
		cmocka_unit_test(random_generic_margins),
		cmocka_unit_test(checkers_agree_on_random_patterns),
		cmocka_unit_test(full_size_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
