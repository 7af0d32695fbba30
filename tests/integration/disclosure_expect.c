/*
 * cc-disclosure-expect: checks a released table (docs/api.md, SPEC 9.6)
 * against crosscount-synth's ground truth, for the integration tests.
 *
 *   cc-disclosure-expect TRUTH.json RESULT.json
 *
 * From the truth's exact counts it computes, with cc_disclosure_protect on
 * the Venn margins of SPEC 9.3 and the known margins of 9.5 (each set's
 * total per breakdown cell), which base cells, set totals and combination
 * totals the aggregator must withhold, then checks every entry
 * of the released table:
 *   - a published entry has exactly the true count;
 *   - an entry is withheld exactly when the disclosure module withholds it
 *     for the true counts (primary, small strata, secondary: SPEC
 *     9.4-9.5), with "count": null;
 *   - every base cell, set total and combination total appears once, in
 *     the order of SPEC 9.6;
 * and verifies the released pattern independently with
 * cc_disclosure_check (rank test, not the elimination protect uses).
 *
 * Prints one line per discrepancy and a summary; exit 0 if all match,
 * 1 on any discrepancy, 2 on bad input. Test code: it prints, which
 * library code never does.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "protocol/disclosure.h"
#include "protocol/error.h"
#include "protocol/limits.h"

struct shape {
	size_t nsets;
	const char *labels[CC_LIMIT_SETS];
	size_t nbands;              /* 0 = no age breakdown */
	json_t *bands;              /* the truth's "age_bands" labels */
	bool by_sex;
	size_t ncells;              /* breakdown cells */
	size_t nregions;            /* 2^nsets - 1 */
};

static unsigned problems;

static void
problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
problem(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("MISMATCH: ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
	problems++;
}

static void
fatal(const char *what)
{
	fprintf(stderr, "cc-disclosure-expect: %s\n", what);
	exit(2);
}

/* The region mask of a "combination" array of labels, or 0 if bad. */
static unsigned
region_of(const struct shape *s, const json_t *comb)
{
	unsigned mask = 0;
	size_t i, j;
	json_t *v;

	if (!json_is_array(comb) || json_array_size(comb) == 0)
		return 0;
	json_array_foreach(comb, i, v) {
		const char *l = json_string_value(v);

		for (j = 0; j < s->nsets; j++)
			if (l != NULL && strcmp(l, s->labels[j]) == 0)
				break;
		if (j == s->nsets || (mask & (1u << j)) != 0)
			return 0;
		mask |= 1u << j;
	}
	return mask;
}

/* The breakdown cell of an entry (SPEC 9.2: band major, F before M). */
static bool
cell_of(const struct shape *s, const json_t *entry, size_t *ret_cell)
{
	size_t band = 0, sex = 0, i;
	json_t *v;

	if (s->nbands > 0) {
		const char *b = json_string_value(json_object_get(entry, "age_band"));

		json_array_foreach(s->bands, i, v)
			if (b != NULL && strcmp(b, json_string_value(v)) == 0)
				break;
		if (b == NULL || i == s->nbands)
			return false;
		band = i;
	} else if (json_object_get(entry, "age_band") != NULL)
		return false;
	if (s->by_sex) {
		const char *x = json_string_value(json_object_get(entry, "sex"));

		if (x == NULL || (strcmp(x, "F") != 0 && strcmp(x, "M") != 0))
			return false;
		sex = strcmp(x, "M") == 0;
	} else if (json_object_get(entry, "sex") != NULL)
		return false;
	*ret_cell = band * (s->by_sex ? 2 : 1) + sex;
	return true;
}

static const char *
str_or_empty(const json_t *v)
{
	const char *s = json_string_value(v);

	return s != NULL ? s : "";
}

static json_t *
load(const char *path)
{
	json_error_t e;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &e);

	if (j == NULL) {
		fprintf(stderr, "cc-disclosure-expect: %s: line %d: %s\n", path,
		    e.line, e.text);
		exit(2);
	}
	return j;
}

/* Regions in the order of SPEC 9.6: by number of sets, then mask. */
static size_t
region_order(unsigned *order, size_t nsets)
{
	size_t n = 0, k;
	unsigned r;

	for (k = 1; k <= nsets; k++)
		for (r = 1; r < (1u << nsets); r++)
			if ((size_t)__builtin_popcount(r) == k)
				order[n++] = r;
	return n;
}

int
main(int argc, char **argv)
{
	struct cc_diag diag = { "" };
	struct shape s = { 0 };
	json_t *truth, *result, *v, *brk, *cells, *totals;
	struct cc_margin *margins = NULL, *known = NULL;
	size_t nmargins = 0, nknown = 0, nbase, i, cell, idx, withheld = 0, primary = 0;
	uint64_t *base;
	bool *want_base, *want_margin, *got_base, *got_margin, *seen;
	unsigned order[1u << CC_LIMIT_SETS];
	uint32_t min_cell;
	json_int_t mc;
	int r;

	if (argc != 3)
		fatal("usage: cc-disclosure-expect TRUTH.json RESULT.json");
	truth = load(argv[1]);
	result = load(argv[2]);

	/* The table's shape, from the truth; the result must agree. */
	v = json_object_get(truth, "labels");
	if (!json_is_array(v) || json_array_size(v) < 1 ||
	    json_array_size(v) > CC_LIMIT_SETS)
		fatal("truth: bad labels");
	s.nsets = json_array_size(v);
	for (i = 0; i < s.nsets; i++)
		if ((s.labels[i] = json_string_value(json_array_get(v, i))) == NULL)
			fatal("truth: bad label");
	if (!json_equal(v, json_object_get(result, "labels")))
		problem("labels differ from the truth");
	brk = json_object_get(truth, "breakdown");
	if (!json_is_array(brk))
		fatal("truth: no breakdown");
	if (!json_equal(brk, json_object_get(result, "breakdown")))
		problem("breakdown differs from the truth");
	json_array_foreach(brk, i, v) {
		if (strcmp(json_string_value(v), "age_band") == 0) {
			s.bands = json_object_get(truth, "age_bands");
			s.nbands = json_array_size(s.bands);
		} else if (strcmp(json_string_value(v), "sex") == 0)
			s.by_sex = true;
	}
	if (s.nbands > 0 && !json_equal(s.bands, json_object_get(result, "age_bands")))
		problem("age_bands differ from the truth");
	s.ncells = (s.nbands > 0 ? s.nbands : 1) * (s.by_sex ? 2 : 1);
	s.nregions = (1u << s.nsets) - 1;
	nbase = s.nregions * s.ncells;
	mc = json_integer_value(json_object_get(result, "min_cell"));
	if (mc < 1 || mc > CC_LIMIT_MIN_CELL)
		fatal("result: bad min_cell");
	min_cell = (uint32_t)mc;
	if (strcmp(str_or_empty(json_object_get(result, "status")),
	    "released") != 0)
		problem("status is not \"released\"");

	base = calloc(nbase, sizeof(*base));
	seen = calloc(nbase, sizeof(*seen));
	want_base = calloc(nbase, sizeof(*want_base));
	got_base = calloc(nbase, sizeof(*got_base));
	if (base == NULL || seen == NULL || want_base == NULL || got_base == NULL)
		fatal("out of memory");

	/* The true base cells. */
	cells = json_object_get(truth, "cells");
	if (json_array_size(cells) != nbase)
		fatal("truth: wrong number of cells");
	json_array_foreach(cells, i, v) {
		unsigned reg = region_of(&s, json_object_get(v, "combination"));
		json_int_t c = json_integer_value(json_object_get(v, "count"));

		if (reg == 0 || !cell_of(&s, v, &cell) || c < 0)
			fatal("truth: bad cell");
		idx = (reg - 1) * s.ncells + cell;
		if (seen[idx])
			fatal("truth: a cell twice");
		seen[idx] = true;
		base[idx] = (uint64_t)c;
	}

	if (cc_disclosure_venn_margins(&margins, &nmargins, s.nsets, s.ncells) != 0 ||
	    cc_disclosure_venn_known_margins(&known, &nknown, s.nsets,
	    s.ncells) != 0)
		fatal("cc_disclosure_venn_margins failed");
	want_margin = calloc(nmargins, sizeof(*want_margin));
	got_margin = calloc(nmargins, sizeof(*got_margin));
	if (want_margin == NULL || got_margin == NULL)
		fatal("out of memory");
	if ((r = cc_disclosure_protect(want_base, want_margin, base, nbase,
	    margins, nmargins, known, nknown, min_cell, &diag)) != 0) {
		fprintf(stderr, "cc-disclosure-expect: protect: %s: %s\n",
		    cc_strerror(r), diag.text);
		return 2;
	}

	/* Every released cell, in the order of SPEC 9.6. */
	cells = json_object_get(result, "cells");
	if (json_array_size(cells) != nbase)
		problem("%zu cells released, the table has %zu", json_array_size(cells),
		    nbase);
	memset(seen, 0, nbase * sizeof(*seen));
	region_order(order, s.nsets);
	json_array_foreach(cells, i, v) {
		unsigned reg = region_of(&s, json_object_get(v, "combination"));
		json_t *count = json_object_get(v, "count");
		bool supp = json_is_true(json_object_get(v, "suppressed"));

		if (reg == 0 || !cell_of(&s, v, &cell) ||
		    !json_is_boolean(json_object_get(v, "suppressed"))) {
			problem("cells[%zu] is malformed", i);
			continue;
		}
		idx = (reg - 1) * s.ncells + cell;
		if (seen[idx]) {
			problem("cells[%zu] repeats a cell", i);
			continue;
		}
		seen[idx] = true;
		if (i < nbase && (order[i / s.ncells] != reg || i % s.ncells != cell))
			problem("cells[%zu] is out of the order of SPEC 9.6", i);
		got_base[idx] = supp;
		if (supp) {
			withheld++;
			if (base[idx] > 0 && base[idx] < min_cell)
				primary++;
			if (!json_is_null(count))
				problem("cells[%zu] is withheld but shows a count", i);
		} else if (!json_is_integer(count) ||
		    (uint64_t)json_integer_value(count) != base[idx])
			problem("cells[%zu] (region %u, cell %zu): released %s, "
			    "truth %" PRIu64, i, reg, cell,
			    json_is_integer(count) ? "another count" : "no count",
			    base[idx]);
		if (supp != want_base[idx])
			problem("cells[%zu] (region %u, cell %zu, truth %" PRIu64 "): "
			    "%s, but the disclosure module %s it", i, reg, cell,
			    base[idx], supp ? "withheld" : "published",
			    want_base[idx] ? "withholds" : "publishes");
	}

	/* Set totals: margins 0..nsets-1. */
	totals = json_object_get(result, "set_totals");
	if (json_array_size(totals) != s.nsets)
		problem("%zu set totals, want %zu", json_array_size(totals), s.nsets);
	json_array_foreach(totals, i, v) {
		uint64_t want;
		bool supp = json_is_true(json_object_get(v, "suppressed"));

		if (i >= s.nsets)
			break;
		if (strcmp(str_or_empty(json_object_get(v, "set")), s.labels[i]) != 0)
			problem("set_totals[%zu] names another set", i);
		cc_disclosure_margin_value(&want, base, nbase, &margins[i]);
		got_margin[i] = supp;
		if (supp != want_margin[i])
			problem("set_totals[%zu] (truth %" PRIu64 "): %s, but the "
			    "disclosure module %s it", i, want,
			    supp ? "withheld" : "published",
			    want_margin[i] ? "withholds" : "publishes");
		if (supp ? !json_is_null(json_object_get(v, "count")) :
		    (uint64_t)json_integer_value(json_object_get(v, "count")) != want)
			problem("set_totals[%zu]: count differs from the truth %" PRIu64,
			    i, want);
	}

	/* Combination totals: margins nsets.. (regions by mask), when > 1 cell. */
	totals = json_object_get(result, "combination_totals");
	if (json_array_size(totals) != (s.ncells > 1 ? s.nregions : 0))
		problem("%zu combination totals, want %zu", json_array_size(totals),
		    s.ncells > 1 ? s.nregions : 0);
	json_array_foreach(totals, i, v) {
		unsigned reg = region_of(&s, json_object_get(v, "combination"));
		size_t m;
		uint64_t want;
		bool supp = json_is_true(json_object_get(v, "suppressed"));

		if (reg == 0 || s.ncells == 1 || i >= s.nregions) {
			problem("combination_totals[%zu] is malformed", i);
			continue;
		}
		if (order[i] != reg)
			problem("combination_totals[%zu] is out of order", i);
		m = s.nsets + reg - 1;
		cc_disclosure_margin_value(&want, base, nbase, &margins[m]);
		got_margin[m] = supp;
		if (supp != want_margin[m])
			problem("combination_totals[%zu] (truth %" PRIu64 "): %s, but "
			    "the disclosure module %s it", i, want,
			    supp ? "withheld" : "published",
			    want_margin[m] ? "withholds" : "publishes");
		if (supp ? !json_is_null(json_object_get(v, "count")) :
		    (uint64_t)json_integer_value(json_object_get(v, "count")) != want)
			problem("combination_totals[%zu]: count differs from the truth "
			    "%" PRIu64, i, want);
	}

	/* The released pattern, checked independently by rank. */
	if ((r = cc_disclosure_check(got_base, got_margin, base, nbase, margins,
	    nmargins, known, nknown, min_cell, &diag)) != 0)
		problem("cc_disclosure_check refuses the released pattern: %s",
		    diag.text[0] != '\0' ? diag.text : cc_strerror(r));

	printf("cc-disclosure-expect: %zu base cells, %zu withheld (%zu of them "
	    "0 < count < min_cell %" PRIu32 "), %u mismatches\n", nbase, withheld, primary,
	    min_cell, problems);
	cc_disclosure_margins_free(margins);
	cc_disclosure_margins_free(known);
	free(base);
	free(seen);
	free(want_base);
	free(got_base);
	free(want_margin);
	free(got_margin);
	json_decref(truth);
	json_decref(result);
	return problems == 0 ? 0 : 1;
}
