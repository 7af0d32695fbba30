/*
 * Unit tests: disclosure control (protocol/disclosure.c, SPEC 9.3-9.5).
 *
 * Besides cc_disclosure_check, results are verified by an independent
 * checker written here: exact rational Gaussian elimination (__int128
 * fractions, small tables only) deciding for every withheld item whether
 * its row raises the rank of the published margins.
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

/*
 * Independent verdict: 0 if the pattern is safe by rules (a) and (b) and
 * primary suppression holds; otherwise a description in why.
 */
static int
independent_check(const bool *bw, const bool *mw, const uint64_t *base,
    size_t nbase, const struct cc_margin *mg, size_t nm, uint32_t min_cell,
    char *why, size_t whylen)
{
	static int a[MAXR][MAXC];
	size_t col[MAXC], ncols = 0, nrows = 0, i, m, t, r0, r1, k;
	uint64_t v, sum;

	assert_true(nbase <= MAXC && nm + 1 <= MAXR);
	for (i = 0; i < nbase; i++) {
		if (base[i] > 0 && base[i] < min_cell && !bw[i]) {
			snprintf(why, whylen, "primary cell %zu published", i);
			return -1;
		}
		col[i] = bw[i] ? ncols++ : SIZE_MAX;
	}
	for (m = 0; m < nm; m++) {
		for (v = 0, t = 0; t < mg[m].nterms; t++)
			v += base[mg[m].terms[t]];
		if (v > 0 && v < min_cell && !mw[m]) {
			snprintf(why, whylen, "primary margin %zu published", m);
			return -1;
		}
	}
	memset(a, 0, sizeof(a));
	for (m = 0; m < nm; m++) {
		if (mw[m])
			continue;
		for (t = 0; t < mg[m].nterms; t++) {
			i = mg[m].terms[t];
			if (col[i] != SIZE_MAX)
				a[nrows][col[i]] = 1;
		}
		nrows++;
	}
	r0 = rational_rank(a, nrows, ncols);
	for (i = 0; i < nbase + nm; i++) {
		if (i < nbase ? !bw[i] : !mw[i - nbase])
			continue;
		memset(a, 0, sizeof(a));
		nrows = 0;
		for (m = 0; m < nm; m++) {
			if (mw[m])
				continue;
			for (t = 0; t < mg[m].nterms; t++) {
				k = mg[m].terms[t];
				if (col[k] != SIZE_MAX)
					a[nrows][col[k]] = 1;
			}
			nrows++;
		}
		if (i < nbase) {
			a[nrows][col[i]] = 1;
		} else {
			m = i - nbase;
			for (t = 0; t < mg[m].nterms; t++) {
				k = mg[m].terms[t];
				if (col[k] != SIZE_MAX)
					a[nrows][col[k]] = 1;
			}
		}
		r1 = rational_rank(a, nrows + 1, ncols);
		if (r1 == r0) {
			snprintf(why, whylen, "%s %zu derivable",
			    i < nbase ? "cell" : "margin",
			    i < nbase ? i : i - nbase);
			return -1;
		}
	}
	for (m = 0; m < nm; m++) {
		if (mw[m])
			continue;
		for (k = 0, sum = 0, t = 0; t < mg[m].nterms; t++) {
			if (bw[mg[m].terms[t]]) {
				k++;
				sum += base[mg[m].terms[t]];
			}
		}
		if (k > 0 && sum == k) {
			snprintf(why, whylen, "margin %zu pins ones", m);
			return -1;
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

static void
protect_ok(bool *bw, bool *mw, const uint64_t *base, size_t nbase,
    const struct cc_margin *mg, size_t nm, uint32_t min_cell)
{
	struct cc_diag diag = { "" };
	char why[128];
	int r;

	r = cc_disclosure_protect(bw, mw, base, nbase, mg, nm, min_cell,
	    &diag);
	if (r != 0)
		fail_msg("protect: %s: %s", cc_strerror(r), diag.text);
	r = cc_disclosure_check(bw, mw, base, nbase, mg, nm, min_cell, &diag);
	if (r != 0)
		fail_msg("check after protect: %s", diag.text);
	if (nbase <= MAXC && nm < MAXR &&
	    independent_check(bw, mw, base, nbase, mg, nm, min_cell, why,
	    sizeof(why)) != 0)
		fail_msg("independent check after protect: %s", why);
}

/* ---- the classic cases ---- */

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
	    5, &diag), CC_ERR_POLICY);
	assert_string_equal(diag.text,
	    "base cell 2 is derivable from published items");
	protect_ok(bw, mw, base, 3, mg, 2, 5);
	/* A only (10) goes first, then B only (20): both totals stay. */
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
	assert_int_equal(cc_disclosure_check(pb, pm, base, 3, mg, 2, 5,
	    &diag), CC_ERR_POLICY);
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
	assert_int_equal(cc_disclosure_check(pb, pm, base, 2, mg, 1, 5,
	    &diag), CC_ERR_POLICY);
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
	 * withheld, B = B only + AB = 2 over two withheld cells shows both
	 * are 1 (each withheld cell is >= 1). Rule (b) withholds B.
	 */
	const uint64_t base[3] = { 50, 1, 1 };
	const size_t ta[] = { 0, 2 }, tb[] = { 1, 2 };
	const struct cc_margin mg[2] = { { ta, 2 }, { tb, 2 } };
	const bool pb[3] = { true, true, true }, pm[2] = { false, false };
	bool bw[3], mw[2];
	struct cc_diag diag = { "" };

	(void)state;
	/* B = 2 < 5 is primary anyway; with min_cell 2 it is not. */
	assert_int_equal(cc_disclosure_check(pb, pm, base, 3, mg, 2, 2,
	    &diag), CC_ERR_POLICY);
	assert_string_equal(diag.text,
	    "margin 1 shows that its 2 withheld cells are 1 each");
	protect_ok(bw, mw, base, 3, mg, 2, 2);
	assert_true(bw[0] && bw[1] && bw[2]);
	assert_true(mw[1]);
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
	assert_int_equal(cc_disclosure_check(pb, pm, base, 14, mg, nm, 5,
	    &diag), CC_ERR_POLICY);
	assert_string_equal(diag.text,
	    "base cell 4 is derivable from published items");
	assert_int_equal(independent_check(pb, pm, base, 14, mg, nm, 5, why,
	    sizeof(why)), -1);
	assert_string_equal(why, "cell 4 derivable");

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
	const size_t both[] = { 0, 1 };

	(void)state;
	mg[0].terms = dup;
	mg[0].nterms = 2;
	assert_int_equal(cc_disclosure_protect(bw, mw, base, 3, mg, 1, 5,
	    &diag), CC_ERR_INVALID_ARGUMENT);
	assert_false(bw[0] || bw[1] || bw[2] || mw[0]);
	mg[0].terms = desc;
	assert_int_equal(cc_disclosure_protect(bw, mw, base, 3, mg, 1, 5,
	    &diag), CC_ERR_INVALID_ARGUMENT);
	mg[0].terms = out;
	mg[0].nterms = 1;
	assert_int_equal(cc_disclosure_protect(bw, mw, base, 3, mg, 1, 5,
	    &diag), CC_ERR_INVALID_ARGUMENT);
	mg[0].nterms = 0;
	assert_int_equal(cc_disclosure_protect(bw, mw, base, 3, mg, 1, 5,
	    &diag), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_disclosure_protect(bw, mw, base, 3, NULL, 0, 0,
	    &diag), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_disclosure_protect(NULL, mw, base, 3, NULL, 0, 5,
	    &diag), CC_ERR_INVALID_ARGUMENT);
	{
		static uint64_t huge[CC_LIMIT_TABLE_CELLS + 1];
		static bool hw[CC_LIMIT_TABLE_CELLS + 1];

		assert_int_equal(cc_disclosure_protect(hw, NULL, huge,
		    CC_LIMIT_TABLE_CELLS + 1, NULL, 0, 5, &diag), CC_ERR_LIMIT);
	}
	/* Overflowing margin. */
	mg[0].terms = both;
	mg[0].nterms = 2;
	assert_int_equal(cc_disclosure_margin_value(&v, big, 2, &mg[0]),
	    CC_ERR_LIMIT);
	assert_int_equal(cc_disclosure_protect(bw, mw, big, 2, mg, 1, 5,
	    &diag), CC_ERR_LIMIT);
	/* An empty table is trivially safe. */
	assert_int_equal(cc_disclosure_protect(NULL, NULL, NULL, 0, NULL, 0, 5,
	    &diag), 0);
}

/* Random Venn tables: protect, then both checkers agree it is safe. */
static void
random_venn_tables(void **state)
{
	size_t trial, secondary = 0;

	(void)state;
	for (trial = 0; trial < 300; trial++) {
		size_t nsets = 1 + rng_below(3), ncells = 1 + rng_below(4);
		size_t nbase = (((size_t)1 << nsets) - 1) * ncells, nm, i;
		uint32_t min_cell = 2 + (uint32_t)rng_below(5);
		uint64_t base[64];
		bool bw[64], mw[64];
		struct cc_margin *mg = NULL;

		for (i = 0; i < nbase; i++) {
			uint64_t kind = rng_below(4);

			base[i] = kind == 0 ? 0 : kind == 3 ?
			    rng_below(40) : rng_below(6);
		}
		assert_int_equal(cc_disclosure_venn_margins(&mg, &nm, nsets,
		    ncells), 0);
		protect_ok(bw, mw, base, nbase, mg, nm, min_cell);
		for (i = 0; i < nbase; i++) {
			if (bw[i] && !(base[i] > 0 && base[i] < min_cell)) {
				secondary++;
				break;
			}
		}
		cc_disclosure_margins_free(mg);
	}
	/* Many of the tables needed secondary suppression. */
	assert_true(secondary > 50);
}

/* A mid-size table, verified by cc_disclosure_check. */
static void
mid_size_table(void **state)
{
	uint64_t base[15 * 8];
	bool bw[15 * 8], mw[4 + 15];
	struct cc_margin *mg = NULL;
	size_t nm, i;

	(void)state;
	for (i = 0; i < 15 * 8; i++)
		base[i] = rng_below(4) == 0 ? rng_below(5) : rng_below(60);
	assert_int_equal(cc_disclosure_venn_margins(&mg, &nm, 4, 8), 0);
	protect_ok(bw, mw, base, 15 * 8, mg, nm, 5);
	cc_disclosure_margins_free(mg);
}

/* Random 0/1 margins over random cells, including overlapping ones. */
static void
random_generic_margins(void **state)
{
	size_t trial;

	(void)state;
	for (trial = 0; trial < 400; trial++) {
		size_t nbase = 1 + rng_below(10), nm = rng_below(7), i, m;
		size_t terms[8][12];
		struct cc_margin mg[8];
		uint64_t base[12];
		bool bw[12], mw[8];
		uint32_t min_cell = 2 + (uint32_t)rng_below(4);

		for (i = 0; i < nbase; i++)
			base[i] = rng_below(3) == 0 ? 0 : rng_below(9);
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
		protect_ok(bw, mw, base, nbase, mg, nm, min_cell);
	}
}

/* The checkers agree with each other on random (unprotected) patterns. */
static void
checkers_agree_on_random_patterns(void **state)
{
	size_t trial, agree_unsafe = 0;

	(void)state;
	for (trial = 0; trial < 400; trial++) {
		size_t nbase = 2 + rng_below(8), nm = 1 + rng_below(6), i, m;
		size_t terms[8][12];
		struct cc_margin mg[8];
		uint64_t base[12];
		bool bw[12], mw[8];
		struct cc_diag diag = { "" };
		char why[128];
		int a, b;

		for (i = 0; i < nbase; i++) {
			base[i] = 5 + rng_below(9);
			bw[i] = rng_below(2);
		}
		for (m = 0; m < nm; m++) {
			mg[m].nterms = 0;
			mg[m].terms = terms[m];
			for (i = 0; i < nbase; i++) {
				if (rng_below(2))
					terms[m][mg[m].nterms++] = i;
			}
			if (mg[m].nterms == 0)
				terms[m][mg[m].nterms++] = 0;
			mw[m] = rng_below(3) == 0;
		}
		a = cc_disclosure_check(bw, mw, base, nbase, mg, nm, 5, &diag);
		b = independent_check(bw, mw, base, nbase, mg, nm, 5, why,
		    sizeof(why));
		assert_int_equal(a == 0, b == 0);
		agree_unsafe += a != 0;
	}
	/* The random patterns exercise both outcomes. */
	assert_true(agree_unsafe > 20 && agree_unsafe < 380);
}

/* A full-size table (6 sets, 40 cells) is protected in reasonable time. */
static void
full_size_table(void **state)
{
	uint64_t base[63 * 40];
	bool bw[63 * 40], mw[69], bw2[63 * 40], mw2[69];
	struct cc_margin *mg = NULL;
	struct cc_diag diag = { "" };
	size_t nm, i, nw = 0;
	struct timespec t0, t1;
	double secs;

	(void)state;
	for (i = 0; i < 63 * 40; i++) {
		size_t region = i / 40 + 1;
		int bits = __builtin_popcount((unsigned)region);

		/* Regions in many sets are rare: small counts there. */
		base[i] = rng_below(bits >= 3 ? 4 : bits == 2 ? 15 : 200);
	}
	assert_int_equal(cc_disclosure_venn_margins(&mg, &nm, 6, 40), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(cc_disclosure_protect(bw, mw, base, 63 * 40, mg, nm,
	    5, &diag), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	for (i = 0; i < 63 * 40; i++) {
		nw += bw[i];
		assert_true(!(base[i] > 0 && base[i] < 5) || bw[i]);
	}
	print_message("full-size table: %zu of 2520 cells withheld in %.2f s\n",
	    nw, secs);
	assert_true(secs < 60.0);
	assert_int_equal(cc_disclosure_protect(bw2, mw2, base, 63 * 40, mg, nm,
	    5, &diag), 0);
	assert_memory_equal(bw, bw2, sizeof(bw));
	assert_memory_equal(mw, mw2, sizeof(mw));
	cc_disclosure_margins_free(mg);
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
		cmocka_unit_test(three_sets_combination_of_margins),
		cmocka_unit_test(venn_margin_layout),
		cmocka_unit_test(bad_arguments),
		cmocka_unit_test(random_venn_tables),
		cmocka_unit_test(mid_size_table),
		cmocka_unit_test(random_generic_margins),
		cmocka_unit_test(checkers_agree_on_random_patterns),
		cmocka_unit_test(full_size_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
