/*
 * Fuzz harness: cc_query_parse (protocol/query.c, SPEC 7.2).
 *
 * Whatever parses must satisfy every rule of SPEC 7.2, serialise to
 * canonical JSON that parses back to the identical query, and answer the
 * cell and age helpers consistently; whatever fails must fail with
 * CC_ERR_QUERY or CC_ERR_LIMIT, a reason in diag, and no query.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/error.h"
#include "protocol/limits.h"
#include "protocol/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static void
check_rules(const struct cc_query *q)
{
	size_t i, j, k, n = 0;

	CHECK(strlen(q->title) >= 1 && strlen(q->title) <= CC_LIMIT_TITLE);
	CHECK(q->period_from <= q->period_to);
	CHECK(q->period_to - q->period_from < CC_LIMIT_PERIOD_MONTHS);
	CHECK(q->nsets >= 1 && q->nsets <= CC_LIMIT_SETS);
	for (i = 0; i < q->nsets; i++) {
		const struct cc_query_set *s = &q->sets[i];

		CHECK(strlen(s->label) >= 1 && strlen(s->label) <= CC_LIMIT_LABEL);
		CHECK(s->nnodes >= 1 && s->nnodes <= CC_LIMIT_NODES_PER_SET);
		for (j = 0; j < s->nnodes; j++) {
			CHECK(cc_query_node_id_valid(s->nodes[j],
			    strlen(s->nodes[j])));
			CHECK(j == 0 || strcmp(s->nodes[j - 1], s->nodes[j]) < 0);
			CHECK(cc_query_set_of_node(q, s->nodes[j]) == (int)i);
		}
		for (j = 0; j < s->ncategories; j++) {
			CHECK(cc_query_category_valid(s->categories[j],
			    strlen(s->categories[j])));
			CHECK(j == 0 || strcmp(s->categories[j - 1],
			    s->categories[j]) < 0);
		}
		for (k = 0; k < i; k++)
			CHECK(strcmp(q->sets[k].label, s->label) != 0);
		n += s->nnodes;
	}
	CHECK(n == q->nnodes && n <= CC_LIMIT_QUERY_NODES);
	for (i = 1; i < q->nnodes; i++)
		CHECK(strcmp(q->nodes[i - 1], q->nodes[i]) < 0);
	CHECK(q->by_age_band == (q->nbands > 0));
	for (i = 0; i < q->nbands; i++) {
		CHECK(q->bands[i].lo >= 0 && q->bands[i].lo <= q->bands[i].hi);
		CHECK(q->bands[i].hi <= CC_LIMIT_AGE);
		CHECK(i == 0 || q->bands[i].lo > q->bands[i - 1].hi);
	}
	CHECK(q->min_cell >= 1 && q->min_cell <= CC_LIMIT_MIN_CELL);
}

static void
check_cells(const struct cc_query *q)
{
	char label[CC_QUERY_CELL_LABEL_MAX];
	size_t c, cells = cc_query_cells(q);
	int band, sex;

	CHECK(cells >= 1 && cells * cc_query_regions(q) <= CC_LIMIT_TABLE_CELLS);
	for (c = 0; c < cells; c++) {
		CHECK(cc_query_cell_attributes(&band, &sex, q, c) == 0);
		CHECK(cc_query_cell_of(q, band, sex) == (int)c);
		CHECK(cc_query_cell_label(label, q, c) == 0);
		CHECK(label[0] != '\0');
	}
	band = cc_query_age_band_of(q, 2010, 6, 15);
	CHECK(q->by_age_band ? band >= -1 && band < (int)q->nbands :
	    band == CC_QUERY_BAND_NONE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cc_query *q = NULL, *q2 = NULL;
	struct cc_diag diag;
	struct cc_federation_policy policy;
	char *text = NULL, *text2 = NULL;
	size_t len = 0, len2 = 0;
	uint8_t digest[CC_QUERY_DIGEST_LEN];
	int r;

	memset(&diag, 0, sizeof(diag));
	r = cc_query_parse(&q, (const char *)data, size, &diag);
	if (r != 0) {
		CHECK(r == CC_ERR_QUERY || r == CC_ERR_LIMIT);
		CHECK(q == NULL);
		CHECK(diag.text[0] != '\0');
		return 0;
	}
	CHECK(q != NULL);
	check_rules(q);
	check_cells(q);
	CHECK(cc_query_to_json(&text, &len, q) == 0);
	CHECK(cc_query_parse(&q2, text, len, &diag) == 0);
	CHECK(memcmp(q, q2, sizeof(*q)) == 0);
	CHECK(cc_query_to_json(&text2, &len2, q2) == 0);
	CHECK(len == len2 && memcmp(text, text2, len) == 0);
	CHECK(cc_query_digest(digest, q) == 0);
	cc_federation_policy_defaults(&policy);
	r = cc_query_check_policy(q, &policy, &diag);
	CHECK(r == 0 || r == CC_ERR_POLICY);
	free(text);
	free(text2);
	cc_query_free(q);
	cc_query_free(q2);
	return 0;
}
