/*
 * crosscount: the query document (SPEC.md section 7).
 *
 * A query is a small JSON object written by an analyst:
 *
 *   {
 *     "title": "Barn kända av skola, socialtjänst och BUP 2025",
 *     "period": {"from": "2025-01", "to": "2025-12"},
 *     "sets": [
 *       {"label": "skola", "nodes": ["skola"], "categories": ["inskriven"]},
 *       {"label": "socialtjänst", "nodes": ["soc", "soc2"]},
 *       {"label": "bup", "nodes": ["bup"]}
 *     ],
 *     "breakdown": ["age_band", "sex"],
 *     "age_bands": [[0, 5], [6, 12], [13, 17]],
 *     "min_cell": 5
 *   }
 *
 * Validation (SPEC 7.2) is exact and field by field; unknown fields are an
 * error. On error diag names the field path and the rule, for example
 *   sets[1].nodes[0]: "Soc" is not a node id ([a-z0-9-]{1,32})
 * A diag never quotes a value that contains six or more consecutive digits
 * (it could be an identity) and never quotes the title or a label.
 *
 * Rules (SPEC 7.2):
 *   title      required string, 1..CC_LIMIT_TITLE bytes of UTF-8, no
 *              control characters (U+0000..U+001F, U+007F..U+009F).
 *   period     required object {"from": "YYYY-MM", "to": "YYYY-MM"}:
 *              whole months only, from <= to, at most
 *              CC_LIMIT_PERIOD_MONTHS months including both ends.
 *   sets       required array of 1..CC_LIMIT_SETS objects (one set is a
 *              legitimate question: "how many does BUP know"):
 *     label      required, 1..CC_LIMIT_LABEL bytes, no control characters,
 *                unique among the sets (bytewise).
 *     nodes      required array of 1..CC_LIMIT_NODES_PER_SET node ids
 *                ([a-z0-9-]{1,32}), unique within the set. A node belongs
 *                to at most one set of a query: a node's records are the
 *                origin of exactly one chain, hence of one set, and its
 *                category filter is that of its set.
 *     categories optional array of 1..CC_LIMIT_CATEGORIES_PER_SET unique
 *                category names (cc_query_category_valid()); absent means
 *                every category. An empty array is an error.
 *   breakdown  optional array, a subset of {"age_band", "sex"} without
 *              duplicates; absent or [] means no breakdown. The order
 *              given does not matter: cells are always age band major,
 *              sex minor.
 *   age_bands  required when breakdown has "age_band", forbidden
 *              otherwise: 1..CC_LIMIT_AGE_BANDS pairs [lo, hi] of
 *              integers, 0 <= lo <= hi <= CC_LIMIT_AGE, strictly
 *              increasing (each lo > the previous hi). Gaps are allowed.
 *   min_cell   optional integer 1..CC_LIMIT_MIN_CELL, default
 *              CC_QUERY_DEFAULT_MIN_CELL.
 *   At most CC_LIMIT_QUERY_NODES distinct nodes over all sets, and
 *   regions x breakdown cells <= CC_LIMIT_TABLE_CELLS.
 *
 * Semantics (SPEC 7.3): a person belongs to a set if any node of the set
 * holds an episode of one of the set's categories (any category if the
 * set names none) that overlaps the period (from the first day of
 * period.from to the last day of period.to, both included). Age is the
 * number of completed years on the last day of period.to. When the query
 * is broken down by age band, only persons whose age falls in one of the
 * bands are counted at all: an origin node does not select the others.
 */
#ifndef CC_QUERY_H
#define CC_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "protocol/date.h"
#include "protocol/error.h"
#include "protocol/limits.h"

#define CC_QUERY_DEFAULT_MIN_CELL 5
#define CC_QUERY_DIGEST_LEN 32          /* SHA-256 */
/* The age-band attribute byte when a query is not broken down by age. */
#define CC_QUERY_BAND_NONE 0xFF
/* Sexes in the breakdown (the attribute byte of SPEC 5.6). */
#define CC_QUERY_SEX_NONE 0
#define CC_QUERY_SEX_FEMALE 1
#define CC_QUERY_SEX_MALE 2
/* Longest breakdown-cell label, e.g. "130-130 F", with NUL. */
#define CC_QUERY_CELL_LABEL_MAX 16

struct cc_query_age_band {
	int lo;   /* 0..CC_LIMIT_AGE */
	int hi;   /* lo..CC_LIMIT_AGE */
};

struct cc_query_set {
	char label[CC_LIMIT_LABEL + 1];
	/* Node ids, sorted bytewise (canonical order). */
	size_t nnodes;
	char nodes[CC_LIMIT_NODES_PER_SET][CC_LIMIT_NODE_ID + 1];
	/* 0 means every category. Sorted bytewise. */
	size_t ncategories;
	char categories[CC_LIMIT_CATEGORIES_PER_SET][CC_LIMIT_CATEGORY + 1];
};

/*
 * A validated query. Every field is checked; code may rely on the rules
 * above. Strings are NUL-terminated UTF-8.
 */
struct cc_query {
	char title[CC_LIMIT_TITLE + 1];
	int period_from;          /* month index (date.h): year * 12 + month - 1 */
	int period_to;            /* month index, >= period_from */
	size_t nsets;             /* 1..CC_LIMIT_SETS, in the order given */
	struct cc_query_set sets[CC_LIMIT_SETS];
	bool by_age_band;
	bool by_sex;
	size_t nbands;            /* 0 unless by_age_band */
	struct cc_query_age_band bands[CC_LIMIT_AGE_BANDS];
	uint32_t min_cell;
	/*
	 * Every node of the query, sorted bytewise: n_0..n_{k-1} of SPEC 8.2
	 * (chain c has origin nodes[c]).
	 */
	size_t nnodes;
	char nodes[CC_LIMIT_QUERY_NODES][CC_LIMIT_NODE_ID + 1];
};

/*
 * Parse and validate a query document of len bytes (at most
 * CC_LIMIT_QUERY_JSON, else CC_ERR_LIMIT). Returns 0 and a new query in
 * *ret_q (free with cc_query_free), or CC_ERR_QUERY (or CC_ERR_LIMIT,
 * CC_ERR_ALLOC) with the field path and reason in diag. JSON syntax
 * errors, duplicate keys, "\u0000" in strings, invalid UTF-8 and
 * numbers out of range are CC_ERR_QUERY.
 */
int cc_query_parse(struct cc_query **ret_q, const char *json, size_t len,
    struct cc_diag *diag);

/* The same validation for a query already decoded by Jansson (borrowed). */
int cc_query_from_json(struct cc_query **ret_q, const json_t *root,
    struct cc_diag *diag);

/* NULL is allowed. */
void cc_query_free(struct cc_query *q);

/*
 * The canonical JSON of a query: compact, keys sorted, UTF-8 as is,
 * nodes and categories of each set sorted, sets in their given order,
 * "breakdown" always present (in the order ["age_band", "sex"]),
 * "age_bands" only when broken down by age, "categories" only when the
 * set names some, "min_cell" always present. Parsing it gives the same
 * query. *ret_json is NUL-terminated, *ret_len excludes the NUL; free with
 * free(). ret_len may be NULL.
 */
int cc_query_to_json(char **ret_json, size_t *ret_len,
    const struct cc_query *q);

/* The same as a new Jansson object (json_decref it). */
int cc_query_to_json_value(json_t **ret_root, const struct cc_query *q);

/* SHA-256 of the canonical JSON: the query's digest in the audit log. */
int cc_query_digest(uint8_t ret_digest[CC_QUERY_DIGEST_LEN],
    const struct cc_query *q);

/* Index of node_id in q->nodes (its chain index, SPEC 8.2), or -1. */
int cc_query_node_index(const struct cc_query *q, const char *node_id);

/* Index of the set that node_id belongs to, or -1 if it is in none. */
int cc_query_set_of_node(const struct cc_query *q, const char *node_id);

/* True if the set selects episodes of this category (SPEC 7.3). */
bool cc_query_set_has_category(const struct cc_query_set *set,
    const char *category);

/* The first and last day of the period. */
void cc_query_period_first_day(const struct cc_query *q,
    struct cc_date *ret_date);
void cc_query_period_last_day(const struct cc_query *q,
    struct cc_date *ret_date);

/*
 * True if an episode from start to end (both included; end NULL while
 * it is open) overlaps the period (SPEC 7.3).
 */
bool cc_query_episode_in_period(const struct cc_query *q,
    const struct cc_date *start, const struct cc_date *end);

/*
 * The age-band attribute of a person born on birth_year-birth_month-
 * birth_day (day 0: unknown, see cc_date_age), aged on the last day of
 * the period (SPEC 7.3):
 *   the band index 0..nbands-1;
 *   CC_QUERY_BAND_NONE if the query is not broken down by age;
 *   -1 if the query is broken down by age and the age falls in no band
 *      (also for a person born after the period): not counted.
 */
int cc_query_age_band_of(const struct cc_query *q, int birth_year,
    int birth_month, int birth_day);

/*
 * Breakdown cells (SPEC 9.2): (nbands or 1) x (2 if by sex, else 1),
 * numbered age band major, sex minor: cell = band * nsex + sex_index with
 * sex_index 0 = female, 1 = male. A query without breakdown has one cell.
 */
size_t cc_query_cells(const struct cc_query *q);

/* Venn regions: 2^nsets - 1, region r in 1..2^nsets-1 is the bit mask of
 * the sets a person is in (bit i = sets[i]). */
size_t cc_query_regions(const struct cc_query *q);

/*
 * The cell of an attribute pair: age_band as from cc_query_age_band_of()
 * (CC_QUERY_BAND_NONE when not by age), sex CC_QUERY_SEX_* (NONE when not
 * by sex). Returns the cell index, or -1 if the pair does not fit the
 * query's breakdown (e.g. a band index out of range, or sex NONE in a
 * query by sex): the aggregator rejects such a record.
 */
int cc_query_cell_of(const struct cc_query *q, int age_band, int sex);

/* The inverse: the attribute pair of a cell (CC_ERR_INVALID_ARGUMENT
 * if cell >= cc_query_cells(q)). */
int cc_query_cell_attributes(int *ret_age_band, int *ret_sex,
    const struct cc_query *q, size_t cell);

/*
 * A short label for a cell: the band as "lo-hi", the sex as "F" or "M",
 * both separated by one space ("6-12 F"), or "all" without breakdown.
 * Always NUL-terminates out.
 */
int cc_query_cell_label(char out[CC_QUERY_CELL_LABEL_MAX],
    const struct cc_query *q, size_t cell);

/* "lo-hi" for band i of q; CC_ERR_INVALID_ARGUMENT if i is out of range. */
int cc_query_band_label(char out[CC_QUERY_CELL_LABEL_MAX],
    const struct cc_query *q, size_t band);

/* True if s (len bytes) matches [a-z0-9-]{1,32} (SPEC 7.2). */
bool cc_query_node_id_valid(const char *s, size_t len);

/*
 * True if s (len bytes) is a category name (SPEC 7.2): 1..CC_LIMIT_CATEGORY
 * bytes of UTF-8 made of ASCII letters and digits, '_', '-', '.', the
 * letters U+00C0..U+024F except U+00D7 and U+00F7 (Swedish and other
 * Latin letters such as "orosanmälan"), and spaces that are neither first
 * nor last. No commas (node.conf lists categories with commas), no '*'
 * (the policy wildcard), no control characters. Case matters.
 */
bool cc_query_category_valid(const char *s, size_t len);

/*
 * An age-band grid of the federation policy (SPEC 7.2). A query by age
 * must use one of the allowed grids exactly.
 */
struct cc_query_grid {
	size_t nbands;
	struct cc_query_age_band bands[CC_LIMIT_AGE_BANDS];
};

/*
 * The aggregator's federation policy (SPEC 7.2). grids is borrowed.
 *   grids              the allowed age-band grids (ngrids 0: no query may
 *                      break down by age)
 *   min_cell_floor     the lowest min_cell accepted (>= 1)
 *   max_period_months  the longest period accepted (<= the limit)
 *   period_align_months periods must start on a month that is a multiple
 *                      of this from January and last a multiple of it
 *                      (1: any whole months, 3: quarters, 12: calendar
 *                      years); fixed period grids limit differencing.
 *   allow_sex          whether the breakdown may include sex
 */
struct cc_federation_policy {
	const struct cc_query_grid *grids;
	size_t ngrids;
	uint32_t min_cell_floor;
	unsigned max_period_months;
	unsigned period_align_months;
	bool allow_sex;
};

/*
 * The default grids (SPEC 7.2), in this order:
 *   [[0,5],[6,12],[13,17]]                       pre-school, school, upper
 *   [[0,2],[3,5],[6,9],[10,12],[13,15],[16,17]]  finer child grid
 *   [[0,17]]                                     all children
 *   [[6,9],[10,12],[13,15]]                      compulsory school stages
 *   [[6,15]]                                     compulsory school age
 *   [[0,17],[18,24]]                             children, young adults
 *   [[13,17],[18,20],[21,24]]                    youth
 */
const struct cc_query_grid *cc_query_default_grids(size_t *ret_ngrids);

/*
 * The default policy: the default grids, min_cell_floor 5,
 * max_period_months CC_LIMIT_PERIOD_MONTHS, period_align_months 1,
 * allow_sex true.
 */
void cc_federation_policy_defaults(struct cc_federation_policy *ret_policy);

/*
 * Check a valid query against the federation policy. Returns 0, or
 * CC_ERR_POLICY with the field and rule in diag ("age_bands: unknown
 * age-band grid", "min_cell: 3 is below the federation floor 5").
 */
int cc_query_check_policy(const struct cc_query *q,
    const struct cc_federation_policy *policy, struct cc_diag *diag);

#endif
