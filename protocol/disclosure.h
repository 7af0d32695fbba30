/*
 * crosscount: disclosure control of a released table (SPEC.md 9.3-9.5).
 *
 * The table is generic. Its base cells are counts (for crosscount: one per
 * Venn region and breakdown cell). A margin is a 0/1 linear form over base
 * cells (its value is the sum of its base cells). Two kinds of margins:
 *   - published margins are released like base cells (a set's total, a
 *     region's total over every breakdown cell) and may be withheld;
 *   - known margins are never released and never withheld: an adversary
 *     is assumed to know them anyway (for crosscount: the total of each
 *     set in each breakdown cell, which the set's nodes can count in their
 *     own data; SPEC 9.5). All known margins are assumed known to one
 *     adversary at once, which covers any coalition of nodes.
 *
 * Primary suppression (SPEC 9.4):
 *   (p1) a base cell or published margin whose value v has
 *        0 < v < min_cell is withheld;
 *   (p2) small strata: every base cell of a known margin whose value v has
 *        0 < v < min_cell is withheld, zeros included. Otherwise the
 *        adversary who knows v would read from the published zeros which
 *        regions hold its few persons (and, with a single person, could
 *        tell from which zero was chosen as a complement where it is).
 * Zeros are otherwise published.
 *
 * What a reader knows (SPEC 9.5): every base cell is >= 0; withheld cells
 * may be 0 (p2, complements), so ">= 1" is not public knowledge.
 *   - The analyst knows the published items.
 *   - The insider knows the published items and the known margins, and
 *     before any table its prior: the least set of base cells and
 *     published margins closed under (i) every base cell of a known or
 *     prior published margin whose prior-unknown cells add up to 0 is
 *     0; (ii) a base cell or published margin whose row (over the
 *     prior-unknown cells) lies in the row space of the known margins is
 *     known. The prior does not depend on what is withheld; nothing can
 *     hide it and the checks exempt it.
 *
 * Secondary suppression (SPEC 9.5): afterwards no withheld item (base
 * cell, published margin) can be worked out exactly:
 *   (a) linearly, by either reader: the unknowns are the withheld cells
 *       (for the insider: withheld and not prior); each margin the
 *       reader has (analyst: the published margins; insider: those, the
 *       known margins and the prior published margins) is an equation.
 *       A withheld cell is derivable if e_i lies in the row space of
 *       those rows restricted to the unknowns, a withheld margin if its
 *       restricted row does. Items in the insider's prior are exempt for
 *       the insider. Exact integer arithmetic on OpenSSL BIGNUMs.
 *   (b) by non-negativity, for the analyst: a published margin whose
 *       k >= 1 withheld cells add up to 0 shows each is 0;
 *   (c) for the analyst, kept from before zeros could be withheld: a
 *       published margin whose k >= 1 withheld cells add up to exactly k
 *       (a reader who can tell they are all primary learns each is 1).
 * (b) is not applied to the insider's known margins on purpose: a known
 * margin whose withheld cells add up to 0 tells that insider that none
 * of its own persons in that cell is in those regions (a fact about its
 * own persons, naming no one), and fixing it would make the pattern
 * depend on withheld values, which another insider could read back by
 * rerunning this deterministic rule (the one-child example would show
 * where the child is).
 *
 * Choice (deterministic). Each round fixes the first kind of violation
 * found in this order: a margin with a single unknown (analyst, then
 * insider; the first by margin id, published before known); rule (a)
 * by elimination for the analyst (the first derivable item: base cells
 * by index, then margins by index); rule (a) for the insider, as a pass
 * (every derivable item in that order gets a complement, except one
 * whose derivation uses a margin that an earlier complement of the pass
 * changed: it waits for the next pass); then (b), (c) (the first such
 * margin by index). The complement:
 *   - for (a): among the published base cells of the margins used by
 *     the derivation (and, for a withheld margin, of that margin; for
 *     the insider only cells outside its prior) the smallest positive
 *     count, ties to the lowest index; else the used published margin
 *     (not withheld; for the insider not prior) with the smallest
 *     value, ties to the lowest index; else (the derivation runs only
 *     through known margins, which cannot be withheld) the lowest-index
 *     published zero;
 *   - for (b), (c): the margin's published cell with the smallest
 *     positive count, ties to the lowest index; else the margin itself.
 * Positive complements come first although a withheld zero costs the
 * analyst less: a positive complement is chosen from published values
 * only, while which zero could protect depends on withheld values that
 * a reader rerunning the rule could learn from; and a withheld zero
 * next to other zeros is pinned by rule (b) and protects nothing.
 *
 * Not covered (SPEC 9.6, 10): bounds narrower than exact values
 * (intervals from non-negativity and the margins), sums of several
 * withheld cells that are not published items, conclusions from
 * combinations of margins together with the bounds, conclusions from
 * rerunning the choice of complements, and differencing between two
 * released tables.
 */
#ifndef CC_DISCLOSURE_H
#define CC_DISCLOSURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/error.h"
#include "protocol/limits.h"

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
 * (nbase <= CC_LIMIT_TABLE_CELLS), margins[0..nmargins-1] the published
 * margins (nmargins <= CC_DISCLOSURE_MAX_MARGINS), known[0..nknown-1] the
 * known margins (nknown <= CC_DISCLOSURE_MAX_KNOWN; none: NULL, 0),
 * min_cell >= 1. On success ret_base_withheld[i] and
 * ret_margin_withheld[m] (arrays the caller provides, of nbase and
 * nmargins entries) say what is withheld; on error they are all false.
 * Returns 0, CC_ERR_INVALID_ARGUMENT (bad terms, sizes) or CC_ERR_LIMIT,
 * CC_ERR_ALLOC, CC_ERR_CRYPTO (BIGNUM), CC_ERR_INTERNAL.
 */
#define CC_DISCLOSURE_MAX_MARGINS 1024
#define CC_DISCLOSURE_MAX_KNOWN CC_LIMIT_TABLE_CELLS
int cc_disclosure_protect(bool *ret_base_withheld, bool *ret_margin_withheld,
    const uint64_t *base, size_t nbase, const struct cc_margin *margins,
    size_t nmargins, const struct cc_margin *known, size_t nknown,
    uint32_t min_cell, struct cc_diag *diag);

/*
 * Verify a suppression pattern (arguments as for protect): every primary
 * item (p1, p2) is withheld, and no withheld item is derivable by (a)
 * for either reader, nor by (b) or (c) for the analyst. (a) is decided by
 * dense fraction-free elimination of each reader's rows and a membership
 * test per item, not by the sparse incremental elimination that
 * cc_disclosure_protect uses to choose; the prior is computed by the
 * same code as in protect (it is a definition, not a choice). Returns 0
 * if the pattern is safe, CC_ERR_POLICY with the first offending item in
 * diag ("base cell 3 (count below min_cell) is published", "margin 1 is
 * derivable from published items", "base cell 4 is derivable with the
 * known margins"), or the errors above. Slower than protect: meant for
 * tests and audits.
 */
int cc_disclosure_check(const bool *base_withheld, const bool *margin_withheld,
    const uint64_t *base, size_t nbase, const struct cc_margin *margins,
    size_t nmargins, const struct cc_margin *known, size_t nknown,
    uint32_t min_cell, struct cc_diag *diag);

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

/*
 * The known margins of a Venn table (SPEC 9.5), same cell numbering:
 * margin i * ncells + c (set i = 0..nsets-1, breakdown cell c) is the
 * total of set i in breakdown cell c (every region with bit i, cell c).
 * With ncells == 1 these equal the published set totals. Free with
 * cc_disclosure_margins_free.
 */
int cc_disclosure_venn_known_margins(struct cc_margin **ret_known,
    size_t *ret_nknown, size_t nsets, size_t ncells);
void cc_disclosure_margins_free(struct cc_margin *margins);

#endif
