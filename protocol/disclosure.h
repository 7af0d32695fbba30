/*
 * crosscount: disclosure control of a released table (SPEC.md 9.3-9.5).
 *
 * The table is generic. Its base cells are counts (for crosscount: one per
 * Venn region and breakdown cell). The published items are the base cells
 * and margins; a margin is a 0/1 linear form over base cells (its value is
 * the sum of its base cells), for example a set's total or a region's
 * total over every breakdown cell.
 *
 * Primary suppression (SPEC 9.4): an item whose value v has
 * 0 < v < min_cell is withheld. Zeros are published: a zero names no
 * person, and withholding zeros would make every zero look like a small
 * count, which costs utility without protecting anyone. Consequently a
 * reader knows that every withheld base cell is at least 1.
 *
 * Secondary suppression (SPEC 9.5): after it, no withheld item can be
 * worked out exactly from the published items:
 *   (a) linearly: the unknowns are the withheld base cells; a published
 *       margin is an equation over the unknowns it contains. A withheld
 *       base cell i is derivable if e_i lies in the row space of the
 *       published margins restricted to the unknowns; a withheld margin if
 *       its restricted row does (a margin whose cells are all published is
 *       always derivable). Decided in exact integer arithmetic
 *       (fraction-free Gauss-Jordan elimination on OpenSSL BIGNUMs).
 *   (b) by the bound every withheld base cell is >= 1: a published margin
 *       whose k >= 1 withheld base cells add up to exactly k reveals that
 *       each of them is 1.
 * While some withheld item is derivable, one more item is withheld
 * (deterministically):
 *   - for (a), the item to protect is the withheld cell of the first
 *     published margin (by index) that holds exactly one withheld cell
 *     (that margin alone derives it); if there is none, the first
 *     derivable item (base cells by index, then margins by index) found
 *     by elimination, whose derivation uses the margins with a non-zero
 *     coefficient in the combination the elimination found. Withheld is:
 *     among the published base cells with a positive count in those
 *     margins (and, for a withheld margin, in that margin itself), the
 *     one with the smallest count, ties to the lowest index; if there is
 *     none, the involved published margin with the smallest positive
 *     value, ties to the lowest index;
 *   - for (b), the first such margin: its published base cell with the
 *     smallest positive count (ties: lowest index), or if none the margin
 *     itself.
 * Rule (a) is tested first and the elimination repeated after every new
 * withheld item.
 *
 * Not covered (SPEC 10): bounds narrower than exact values (an interval
 * for a withheld cell from non-negativity), and differencing between two
 * released tables; fixed grids and policy limit the latter.
 */
#ifndef CC_DISCLOSURE_H
#define CC_DISCLOSURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/error.h"

/*
 * A margin: the sum of the base cells terms[0..nterms-1] (strictly
 * increasing indexes < nbase, nterms >= 1). terms is borrowed.
 */
struct cc_margin {
	const size_t *terms;
	size_t nterms;
};

/*
 * Decide which items to withhold. base[0..nbase-1] are the base cells
 * (nbase <= CC_LIMIT_TABLE_CELLS), margins[0..nmargins-1] the margins
 * (nmargins <= CC_DISCLOSURE_MAX_MARGINS), min_cell >= 1.
 * On success ret_base_withheld[i] and ret_margin_withheld[m] (arrays the
 * caller provides, of nbase and nmargins entries) say what is withheld;
 * on error they are all false. Returns 0, CC_ERR_INVALID_ARGUMENT (bad
 * terms, sizes) or CC_ERR_LIMIT, CC_ERR_ALLOC, CC_ERR_CRYPTO (BIGNUM),
 * CC_ERR_INTERNAL.
 */
#define CC_DISCLOSURE_MAX_MARGINS 1024
int cc_disclosure_protect(bool *ret_base_withheld, bool *ret_margin_withheld,
    const uint64_t *base, size_t nbase, const struct cc_margin *margins,
    size_t nmargins, uint32_t min_cell, struct cc_diag *diag);

/*
 * Verify a suppression pattern: every primary item is withheld, and no
 * withheld item is derivable by (a) or (b) above. (a) is tested by rank
 * (rank of the published rows with and without the item's row), not by
 * the elimination that cc_disclosure_protect uses to choose. Returns 0 if
 * the pattern is safe, CC_ERR_POLICY with the first offending item in
 * diag ("base cell 3 (count below min_cell) is published", "margin 1 is
 * derivable from published items"), or the errors above. Slower than
 * protect: meant for tests and audits.
 */
int cc_disclosure_check(const bool *base_withheld, const bool *margin_withheld,
    const uint64_t *base, size_t nbase, const struct cc_margin *margins,
    size_t nmargins, uint32_t min_cell, struct cc_diag *diag);

/* The value of a margin (CC_ERR_LIMIT on uint64_t overflow). */
int cc_disclosure_margin_value(uint64_t *ret_value, const uint64_t *base,
    size_t nbase, const struct cc_margin *margin);

/*
 * The margins crosscount publishes for a Venn table (SPEC 9.3) with nsets
 * sets (1..CC_LIMIT_SETS) and ncells breakdown cells, base cell index
 * (region - 1) * ncells + cell for region 1..2^nsets-1 (bit i = set i):
 *   margins 0..nsets-1: the total of set i (every region with bit i,
 *     every breakdown cell);
 *   when ncells > 1, margins nsets..nsets+nregions-1: the total of region
 *     r = 1..nregions over every breakdown cell.
 * One allocation: free *ret_margins with cc_disclosure_margins_free.
 */
int cc_disclosure_venn_margins(struct cc_margin **ret_margins,
    size_t *ret_nmargins, size_t nsets, size_t ncells);
void cc_disclosure_margins_free(struct cc_margin *margins);

#endif
