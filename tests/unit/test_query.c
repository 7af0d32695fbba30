/* Unit tests: the query document (protocol/query.c, SPEC 7). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "protocol/error.h"
#include "protocol/limits.h"
#include "protocol/query.h"

static const char example[] =
    "{\n"
    "  \"title\": \"Barn kända av skola, socialtjänst och BUP 2025\",\n"
    "  \"period\": {\"from\": \"2025-01\", \"to\": \"2025-12\"},\n"
    "  \"sets\": [\n"
    "    {\"label\": \"skola\", \"nodes\": [\"skola\"], "
    "\"categories\": [\"inskriven\"]},\n"
    "    {\"label\": \"socialtjänst\", \"nodes\": [\"soc\", \"soc2\"]},\n"
    "    {\"label\": \"bup\", \"nodes\": [\"bup\"]}\n"
    "  ],\n"
    "  \"breakdown\": [\"age_band\", \"sex\"],\n"
    "  \"age_bands\": [[0, 5], [6, 12], [13, 17]],\n"
    "  \"min_cell\": 5\n"
    "}\n";

static const char example_canonical[] =
    "{\"age_bands\":[[0,5],[6,12],[13,17]],"
    "\"breakdown\":[\"age_band\",\"sex\"],\"min_cell\":5,"
    "\"period\":{\"from\":\"2025-01\",\"to\":\"2025-12\"},"
    "\"sets\":[{\"categories\":[\"inskriven\"],\"label\":\"skola\","
    "\"nodes\":[\"skola\"]},{\"label\":\"socialtjänst\","
    "\"nodes\":[\"soc\",\"soc2\"]},{\"label\":\"bup\","
    "\"nodes\":[\"bup\"]}],"
    "\"title\":\"Barn kända av skola, socialtjänst och BUP 2025\"}";

static struct cc_query *
parse_ok(const char *json)
{
	struct cc_query *q = NULL;
	struct cc_diag diag = { "" };
	int r;

	r = cc_query_parse(&q, json, strlen(json), &diag);
	if (r != 0)
		fail_msg("parse failed: %s: %s", cc_strerror(r), diag.text);
	assert_non_null(q);
	return q;
}

static void
example_parses(void **state)
{
	struct cc_query *q = parse_ok(example);

	(void)state;
	assert_string_equal(q->title,
	    "Barn kända av skola, socialtjänst och BUP 2025");
	assert_int_equal(q->period_from, 2025 * 12 + 0);
	assert_int_equal(q->period_to, 2025 * 12 + 11);
	assert_int_equal(q->nsets, 3);
	assert_string_equal(q->sets[0].label, "skola");
	assert_int_equal(q->sets[0].ncategories, 1);
	assert_string_equal(q->sets[0].categories[0], "inskriven");
	assert_string_equal(q->sets[1].label, "socialtjänst");
	assert_int_equal(q->sets[1].nnodes, 2);
	assert_string_equal(q->sets[1].nodes[0], "soc");
	assert_string_equal(q->sets[1].nodes[1], "soc2");
	assert_int_equal(q->sets[1].ncategories, 0);
	assert_true(q->by_age_band);
	assert_true(q->by_sex);
	assert_int_equal(q->nbands, 3);
	assert_int_equal(q->bands[1].lo, 6);
	assert_int_equal(q->bands[1].hi, 12);
	assert_int_equal(q->min_cell, 5);
	/* SPEC 8.2: the chain order is the bytewise order of node ids. */
	assert_int_equal(q->nnodes, 4);
	assert_string_equal(q->nodes[0], "bup");
	assert_string_equal(q->nodes[1], "skola");
	assert_string_equal(q->nodes[2], "soc");
	assert_string_equal(q->nodes[3], "soc2");
	assert_int_equal(cc_query_node_index(q, "soc"), 2);
	assert_int_equal(cc_query_node_index(q, "nope"), -1);
	assert_int_equal(cc_query_set_of_node(q, "soc2"), 1);
	assert_int_equal(cc_query_set_of_node(q, "bup"), 2);
	assert_int_equal(cc_query_set_of_node(q, "nope"), -1);
	assert_true(cc_query_set_has_category(&q->sets[0], "inskriven"));
	assert_false(cc_query_set_has_category(&q->sets[0], "frånvaro"));
	assert_true(cc_query_set_has_category(&q->sets[1], "orosanmälan"));
	assert_int_equal(cc_query_regions(q), 7);
	assert_int_equal(cc_query_cells(q), 6);
	cc_query_free(q);
	cc_query_free(NULL);
}

static void
defaults_and_minimal_query(void **state)
{
	struct cc_query *q = parse_ok("{\"title\":\"t\",\"period\":{\"from\":"
	    "\"2024-03\",\"to\":\"2024-03\"},\"sets\":[{\"label\":\"bup\","
	    "\"nodes\":[\"bup\"]}]}");
	char label[CC_QUERY_CELL_LABEL_MAX];

	(void)state;
	/* One set is a legitimate question; min_cell defaults to 5. */
	assert_int_equal(q->nsets, 1);
	assert_int_equal(q->min_cell, CC_QUERY_DEFAULT_MIN_CELL);
	assert_false(q->by_age_band);
	assert_false(q->by_sex);
	assert_int_equal(cc_query_cells(q), 1);
	assert_int_equal(cc_query_regions(q), 1);
	assert_int_equal(cc_query_cell_label(label, q, 0), 0);
	assert_string_equal(label, "all");
	assert_int_equal(cc_query_cell_label(label, q, 1),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_query_cell_of(q, CC_QUERY_BAND_NONE,
	    CC_QUERY_SEX_NONE), 0);
	assert_int_equal(cc_query_cell_of(q, 0, CC_QUERY_SEX_NONE), -1);
	assert_int_equal(cc_query_cell_of(q, CC_QUERY_BAND_NONE,
	    CC_QUERY_SEX_MALE), -1);
	assert_int_equal(cc_query_age_band_of(q, 2010, 5, 5),
	    CC_QUERY_BAND_NONE);
	cc_query_free(q);

	/* An empty breakdown is the same as none. */
	q = parse_ok("{\"title\":\"t\",\"period\":{\"from\":\"2024-03\","
	    "\"to\":\"2024-03\"},\"sets\":[{\"label\":\"bup\",\"nodes\":"
	    "[\"bup\"]}],\"breakdown\":[],\"min_cell\":1000}");
	assert_false(q->by_age_band);
	assert_int_equal(q->min_cell, 1000);
	cc_query_free(q);
}

#define T "\"title\":\"t\""
#define P "\"period\":{\"from\":\"2025-01\",\"to\":\"2025-12\"}"
#define S "\"sets\":[{\"label\":\"a\",\"nodes\":[\"n1\"]}," \
	"{\"label\":\"b\",\"nodes\":[\"n2\"]}]"
#define SET1 "\"sets\":[{\"label\":\"a\",\"nodes\":[\"n1\"]}]"

struct bad_case {
	const char *json;
	int code;
	const char *diag;    /* must appear in the diag text */
};

static const struct bad_case bad_cases[] = {
	/* Shape and unknown fields. */
	{ "[]", CC_ERR_QUERY, "must be a JSON object" },
	{ "{" T "," P "," S ",\"zzz\":1,\"extra\":2}", CC_ERR_QUERY,
	    "unknown field \"extra\"" },
	{ "{" P "," S "}", CC_ERR_QUERY, "title: required" },
	{ "{" T "," S "}", CC_ERR_QUERY, "period: required" },
	{ "{" T "," P "}", CC_ERR_QUERY, "sets: required" },
	/* title */
	{ "{\"title\":5," P "," S "}", CC_ERR_QUERY, "title: must be a string" },
	{ "{\"title\":\"\"," P "," S "}", CC_ERR_QUERY,
	    "title: must not be empty" },
	{ "{\"title\":\"a\\u0007b\"," P "," S "}", CC_ERR_QUERY,
	    "title: contains a control character" },
	{ "{\"title\":\"a\\u0085b\"," P "," S "}", CC_ERR_QUERY,
	    "title: contains a control character" },
	/* Free text never carries a personnummer (SPEC 7.2). */
	{ "{\"title\":\"Barn 19121212-1212\"," P "," S "}", CC_ERR_QUERY,
	    "title: contains six or more digits in a row" },
	{ "{\"title\":\"121212-1212\"," P "," S "}", CC_ERR_QUERY,
	    "title: contains six or more digits in a row" },
	{ "{" T "," P ",\"sets\":[{\"label\":\"bup 1912121212\",\"nodes\":"
	    "[\"n1\"]}]}", CC_ERR_QUERY,
	    "contains six or more digits in a row" },
	/* period */
	{ "{" T ",\"period\":\"2025\"," S "}", CC_ERR_QUERY,
	    "period: must be an object" },
	{ "{" T ",\"period\":{\"from\":\"2025-01\"}," S "}", CC_ERR_QUERY,
	    "period.to: required" },
	{ "{" T ",\"period\":{\"from\":\"2025-01\",\"to\":\"2025-12\","
	    "\"step\":1}," S "}", CC_ERR_QUERY, "period: unknown field \"step\"" },
	{ "{" T ",\"period\":{\"from\":\"2025-01-15\",\"to\":\"2025-12\"},"
	    S "}", CC_ERR_QUERY, "period.from: " },
	{ "{" T ",\"period\":{\"from\":\"2025-01\",\"to\":\"2025-13\"},"
	    S "}", CC_ERR_QUERY, "period.to: " },
	{ "{" T ",\"period\":{\"from\":202501,\"to\":\"2025-12\"}," S "}",
	    CC_ERR_QUERY, "period.from: must be a string" },
	{ "{" T ",\"period\":{\"from\":\"2025-12\",\"to\":\"2025-01\"}," S "}",
	    CC_ERR_QUERY, "period: from 2025-12 is after to 2025-01" },
	{ "{" T ",\"period\":{\"from\":\"2015-01\",\"to\":\"2025-01\"}," S "}",
	    CC_ERR_QUERY, "period: 121 months, at most 120" },
	/* sets */
	{ "{" T "," P ",\"sets\":{}}", CC_ERR_QUERY, "sets: must be an array" },
	{ "{" T "," P ",\"sets\":[]}", CC_ERR_QUERY, "sets: must not be empty" },
	{ "{" T "," P ",\"sets\":[{\"label\":\"a\",\"nodes\":[\"a\"]},"
	    "{\"label\":\"b\",\"nodes\":[\"b\"]},{\"label\":\"c\",\"nodes\":"
	    "[\"c\"]},{\"label\":\"d\",\"nodes\":[\"d\"]},{\"label\":\"e\","
	    "\"nodes\":[\"e\"]},{\"label\":\"f\",\"nodes\":[\"f\"]},"
	    "{\"label\":\"g\",\"nodes\":[\"g\"]}]}", CC_ERR_QUERY,
	    "sets: 7 sets, at most 6" },
	{ "{" T "," P ",\"sets\":[\"a\"]}", CC_ERR_QUERY,
	    "sets[0]: must be an object" },
	{ "{" T "," P ",\"sets\":[{\"label\":\"a\",\"nodes\":[\"n\"],"
	    "\"node\":[]}]}", CC_ERR_QUERY, "sets[0]: unknown field \"node\"" },
	{ "{" T "," P ",\"sets\":[{\"nodes\":[\"n\"]}]}", CC_ERR_QUERY,
	    "sets[0].label: required" },
	{ "{" T "," P ",\"sets\":[{\"label\":\"\",\"nodes\":[\"n\"]}]}",
	    CC_ERR_QUERY, "sets[0].label: must not be empty" },
	{ "{" T "," P ",\"sets\":[{\"label\":\"a\",\"nodes\":[\"n\"]},"
	    "{\"label\":\"a\",\"nodes\":[\"m\"]}]}", CC_ERR_QUERY,
	    "sets[1].label: the same label as sets[0]" },
	{ "{" T "," P ",\"sets\":[{\"label\":\"a\"}]}", CC_ERR_QUERY,
	    "sets[0].nodes: required" },
	{ "{" T "," P ",\"sets\":[{\"label\":\"a\",\"nodes\":\"n\"}]}",
	    CC_ERR_QUERY, "sets[0].nodes: must be an array" },
	{ "{" T "," P ",\"sets\":[{\"label\":\"a\",\"nodes\":[]}]}",
	    CC_ERR_QUERY, "sets[0].nodes: must not be empty" },
	{ "{" T "," P ",\"sets\":[{\"label\":\"a\",\"nodes\":[\"a\"]},"
	    "{\"label\":\"b\",\"nodes\":[\"Soc\"]}]}", CC_ERR_QUERY,
	    "sets[1].nodes[0]: \"Soc\" is not a node id ([a-z0-9-]{1,32})" },
	{ "{" T "," P ",\"sets\":[{\"label\":\"a\",\"nodes\":[\"a\",7]}]}",
	    CC_ERR_QUERY, "sets[0].nodes[1]: must be a string" },
	{ "{" T "," P ",\"sets\":[{\"label\":\"a\",\"nodes\":"
	    "[\"abcdefghijklmnopqrstuvwxyz0123456\"]}]}", CC_ERR_QUERY,
	    "sets[0].nodes[0]: " },
	{ "{" T "," P ",\"sets\":[{\"label\":\"a\",\"nodes\":[\"x\",\"y\","
	    "\"x\"]}]}", CC_ERR_QUERY,
	    "sets[0].nodes[2]: \"x\" appears twice in the set" },
	{ "{" T "," P ",\"sets\":[{\"label\":\"a\",\"nodes\":[\"x\"]},"
	    "{\"label\":\"b\",\"nodes\":[\"y\",\"x\"]}]}", CC_ERR_QUERY,
	    "sets[1].nodes[1]: \"x\" is already in sets[0]" },
	{ "{" T "," P ",\"sets\":[{\"label\":\"a\",\"nodes\":[\"x\"],"
	    "\"categories\":[]}]}", CC_ERR_QUERY,
	    "sets[0].categories: must not be empty" },
	{ "{" T "," P ",\"sets\":[{\"label\":\"a\",\"nodes\":[\"x\"],"
	    "\"categories\":\"a\"}]}", CC_ERR_QUERY,
	    "sets[0].categories: must be an array" },
	{ "{" T "," P ",\"sets\":[{\"label\":\"a\",\"nodes\":[\"x\"],"
	    "\"categories\":[\"a,b\"]}]}", CC_ERR_QUERY,
	    "sets[0].categories[0]: \"a,b\" is not a category name" },
	{ "{" T "," P ",\"sets\":[{\"label\":\"a\",\"nodes\":[\"x\"],"
	    "\"categories\":[\"ok\",\"ok\"]}]}", CC_ERR_QUERY,
	    "sets[0].categories[1]: \"ok\" appears twice" },
	{ "{" T "," P ",\"sets\":[{\"label\":\"a\",\"nodes\":[\"x\"],"
	    "\"categories\":[\" lead\"]}]}", CC_ERR_QUERY,
	    "sets[0].categories[0]: " },
	/* breakdown */
	{ "{" T "," P "," S ",\"breakdown\":\"sex\"}", CC_ERR_QUERY,
	    "breakdown: must be an array" },
	{ "{" T "," P "," S ",\"breakdown\":[\"region\"]}", CC_ERR_QUERY,
	    "breakdown[0]: \"region\" is not a breakdown (age_band, sex)" },
	{ "{" T "," P "," S ",\"breakdown\":[\"sex\",\"sex\"]}", CC_ERR_QUERY,
	    "breakdown[1]: \"sex\" appears twice" },
	{ "{" T "," P "," S ",\"breakdown\":[\"sex\",\"age_band\",\"sex\"]}",
	    CC_ERR_QUERY, "breakdown: 3 entries, at most 2" },
	/* age_bands */
	{ "{" T "," P "," S ",\"breakdown\":[\"age_band\"]}", CC_ERR_QUERY,
	    "age_bands: required when breakdown has \"age_band\"" },
	{ "{" T "," P "," S ",\"breakdown\":[\"sex\"],\"age_bands\":[[0,5]]}",
	    CC_ERR_QUERY, "age_bands: only allowed when breakdown has" },
	{ "{" T "," P "," S ",\"age_bands\":[[0,5]]}", CC_ERR_QUERY,
	    "age_bands: only allowed" },
	{ "{" T "," P "," S ",\"breakdown\":[\"age_band\"],\"age_bands\":[]}",
	    CC_ERR_QUERY, "age_bands: must not be empty" },
	{ "{" T "," P "," S ",\"breakdown\":[\"age_band\"],\"age_bands\":"
	    "[[0,5,7]]}", CC_ERR_QUERY, "age_bands[0]: must be [lo, hi]" },
	{ "{" T "," P "," S ",\"breakdown\":[\"age_band\"],\"age_bands\":"
	    "[[0,5],6]}", CC_ERR_QUERY, "age_bands[1]: must be [lo, hi]" },
	{ "{" T "," P "," S ",\"breakdown\":[\"age_band\"],\"age_bands\":"
	    "[[0,5.0]]}", CC_ERR_QUERY, "age_bands[0][1]: must be an integer" },
	{ "{" T "," P "," S ",\"breakdown\":[\"age_band\"],\"age_bands\":"
	    "[[-1,5]]}", CC_ERR_QUERY, "age_bands[0][0]: -1 is out of range" },
	{ "{" T "," P "," S ",\"breakdown\":[\"age_band\"],\"age_bands\":"
	    "[[0,131]]}", CC_ERR_QUERY, "age_bands[0][1]: 131 is out of range" },
	{ "{" T "," P "," S ",\"breakdown\":[\"age_band\"],\"age_bands\":"
	    "[[7,5]]}", CC_ERR_QUERY, "age_bands[0]: lo 7 is above hi 5" },
	{ "{" T "," P "," S ",\"breakdown\":[\"age_band\"],\"age_bands\":"
	    "[[0,5],[5,9]]}", CC_ERR_QUERY,
	    "age_bands[1]: starts at 5, not above the end 5 of age_bands[0]" },
	{ "{" T "," P "," S ",\"breakdown\":[\"age_band\"],\"age_bands\":"
	    "[[6,9],[0,5]]}", CC_ERR_QUERY, "age_bands[1]: starts at 0" },
	{ "{" T "," P "," S ",\"breakdown\":[\"age_band\"],\"age_bands\":"
	    "[[0,0],[1,1],[2,2],[3,3],[4,4],[5,5],[6,6],[7,7],[8,8],[9,9],"
	    "[10,10],[11,11],[12,12],[13,13],[14,14],[15,15],[16,16],[17,17],"
	    "[18,18],[19,19],[20,20]]}", CC_ERR_QUERY,
	    "age_bands: 21 bands, at most 20" },
	/* min_cell */
	{ "{" T "," P "," S ",\"min_cell\":0}", CC_ERR_QUERY,
	    "min_cell: 0 is out of range (min_cell 1..1000)" },
	{ "{" T "," P "," S ",\"min_cell\":1001}", CC_ERR_QUERY,
	    "min_cell: 1001 is out of range" },
	{ "{" T "," P "," S ",\"min_cell\":5.0}", CC_ERR_QUERY,
	    "min_cell: must be an integer" },
	{ "{" T "," P "," S ",\"min_cell\":\"5\"}", CC_ERR_QUERY,
	    "min_cell: must be an integer" },
	{ "{" T "," P "," S ",\"min_cell\":null}", CC_ERR_QUERY,
	    "min_cell: must be an integer" },
	{ "{" T "," P "," S ",\"min_cell\":true}", CC_ERR_QUERY,
	    "min_cell: must be an integer" },
	/* Hostile JSON. */
	{ "", CC_ERR_QUERY, "" },
	{ "   ", CC_ERR_QUERY, "" },
	{ "{" T "," P "," S ",\"min_cell\":99999999999999999999999}",
	    CC_ERR_QUERY, "a number is out of range" },
	{ "{" T "," P "," S ",\"min_cell\":1e400}", CC_ERR_QUERY,
	    "a number is out of range" },
	{ "{" T "," P "," S ",\"min_cell\":-9223372036854775808}",
	    CC_ERR_QUERY, "min_cell: -9223372036854775808 is out of range" },
	{ "{" T "," T "," P "," S "}", CC_ERR_QUERY,
	    "the same key twice in one object" },
	{ "{" T "," P ",\"sets\":[{\"label\":\"a\",\"label\":\"b\","
	    "\"nodes\":[\"n\"]}]}", CC_ERR_QUERY,
	    "the same key twice in one object" },
	{ "{\"title\":\"a\\u0000b\"," P "," S "}", CC_ERR_QUERY,
	    "a string contains \\u0000" },
	{ "{\"ti\\u0000tle\":\"a\"," P "," S "}", CC_ERR_QUERY,
	    "\\u0000" },
	{ "{" T "," P "," S "} {}", CC_ERR_QUERY,
	    "text after the end of the document" },
	{ "{" T "," P "," S, CC_ERR_QUERY, "the document ends too early" },
	{ "{\"title\":\"\xff\"," P "," S "}", CC_ERR_QUERY, "not valid UTF-8" },
	{ "{\"title\":\"\xc3\"," P "," S "}", CC_ERR_QUERY, "not valid UTF-8" },
	{ "{" T "," P "," S ",}", CC_ERR_QUERY, "not valid JSON" },
	{ "{'title':'t'}", CC_ERR_QUERY, "not valid JSON" },
};

static void
every_rule_is_rejected_with_its_field(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct cc_query *q = (struct cc_query *)&q;
		struct cc_diag diag = { "" };
		int r;

		r = cc_query_parse(&q, c->json, strlen(c->json), &diag);
		if (r != c->code || strstr(diag.text, c->diag) == NULL)
			fail_msg("case %zu: %s\n  got %d \"%s\"\n  want %d "
			    "\"%s\"", i, c->json, r, diag.text, c->code,
			    c->diag);
		assert_null(q);
	}
}

static void
hostile_sizes_and_bytes(void **state)
{
	struct cc_query *q = NULL;
	struct cc_diag diag = { "" };
	char *buf;
	size_t n = 100000, i;
	char title[CC_LIMIT_TITLE + 2];
	char json[1024];

	(void)state;
	/* Deep nesting: Jansson's depth limit, reported, no crash. */
	buf = malloc(n);
	assert_non_null(buf);
	for (i = 0; i < n / 2; i++)
		buf[i] = '[';
	for (; i < n; i++)
		buf[i] = ']';
	assert_int_equal(cc_query_parse(&q, buf, CC_LIMIT_QUERY_JSON, &diag),
	    CC_ERR_QUERY);
	/* Over the size limit: refused before parsing. */
	assert_int_equal(cc_query_parse(&q, buf, CC_LIMIT_QUERY_JSON + 1,
	    &diag), CC_ERR_LIMIT);
	assert_non_null(strstr(diag.text, "at most 65536"));
	n = (size_t)snprintf(buf, 100, "{\"title\":\"");
	for (i = 0; i < 5000; i++)
		buf[n++] = '[';
	assert_int_equal(cc_query_parse(&q, buf, n, &diag), CC_ERR_QUERY);
	memset(buf, '[', 5000);
	assert_int_equal(cc_query_parse(&q, buf, 5000, &diag), CC_ERR_QUERY);
	assert_non_null(strstr(diag.text, "nested too deeply"));
	free(buf);

	/* A raw NUL byte inside the document. */
	{
		static const char nul[] = "{\"title\":\"a\0b\"," P "," S "}";

		assert_int_equal(cc_query_parse(&q, nul, sizeof(nul) - 1,
		    &diag), CC_ERR_QUERY);
		assert_null(q);
	}
	/* Title length boundaries: 200 bytes pass, 201 fail. */
	memset(title, 'x', sizeof(title));
	title[CC_LIMIT_TITLE] = '\0';
	snprintf(json, sizeof(json), "{\"title\":\"%s\"," P "," S "}", title);
	q = parse_ok(json);
	assert_int_equal(strlen(q->title), CC_LIMIT_TITLE);
	cc_query_free(q);
	q = NULL;
	title[CC_LIMIT_TITLE] = 'x';
	title[CC_LIMIT_TITLE + 1] = '\0';
	snprintf(json, sizeof(json), "{\"title\":\"%s\"," P "," S "}", title);
	assert_int_equal(cc_query_parse(&q, json, strlen(json), &diag),
	    CC_ERR_QUERY);
	assert_string_equal(diag.text, "title: is 201 bytes, at most 200");
	/* Period of exactly 120 months passes. */
	q = parse_ok("{" T ",\"period\":{\"from\":\"2016-01\",\"to\":"
	    "\"2025-12\"}," S "}");
	cc_query_free(q);
	q = NULL;
	/* Bad arguments. */
	assert_int_equal(cc_query_parse(NULL, "{}", 2, &diag),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_query_parse(&q, NULL, 2, &diag),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_query_from_json(&q, NULL, &diag),
	    CC_ERR_INVALID_ARGUMENT);
	/* NULL diag is allowed. */
	assert_int_equal(cc_query_parse(&q, "[]", 2, NULL), CC_ERR_QUERY);
}

static void
too_many_nodes_and_node_limits(void **state)
{
	struct cc_query *q = NULL;
	struct cc_diag diag = { "" };
	char json[4096];
	size_t n, s, k;

	(void)state;
	/* 17 nodes in one set. */
	n = (size_t)snprintf(json, sizeof(json), "{" T "," P ",\"sets\":"
	    "[{\"label\":\"a\",\"nodes\":[");
	for (k = 0; k < 17; k++)
		n += (size_t)snprintf(json + n, sizeof(json) - n, "%s\"n%zu\"",
		    k ? "," : "", k);
	n += (size_t)snprintf(json + n, sizeof(json) - n, "]}]}");
	assert_int_equal(cc_query_parse(&q, json, n, &diag), CC_ERR_QUERY);
	assert_string_equal(diag.text, "sets[0].nodes: 17 nodes, at most 16");

	/* 3 sets x 11 nodes = 33 distinct nodes; 2 x 16 = 32 pass. */
	for (s = 2; s <= 3; s++) {
		size_t per = s == 2 ? 16 : 11;

		n = (size_t)snprintf(json, sizeof(json), "{" T "," P
		    ",\"sets\":[");
		for (k = 0; k < s; k++) {
			size_t j;

			n += (size_t)snprintf(json + n, sizeof(json) - n,
			    "%s{\"label\":\"l%zu\",\"nodes\":[", k ? "," : "",
			    k);
			for (j = 0; j < per; j++)
				n += (size_t)snprintf(json + n,
				    sizeof(json) - n, "%s\"n%zu-%zu\"",
				    j ? "," : "", k, j);
			n += (size_t)snprintf(json + n, sizeof(json) - n,
			    "]}");
		}
		n += (size_t)snprintf(json + n, sizeof(json) - n, "]}");
		if (s == 2) {
			q = parse_ok(json);
			assert_int_equal(q->nnodes, 32);
			assert_string_equal(q->nodes[0], "n0-0");
			assert_string_equal(q->nodes[1], "n0-1");
			assert_string_equal(q->nodes[2], "n0-10");
			cc_query_free(q);
			q = NULL;
		} else {
			assert_int_equal(cc_query_parse(&q, json, n, &diag),
			    CC_ERR_QUERY);
			assert_string_equal(diag.text,
			    "sets: 33 distinct nodes, at most 32");
		}
	}
}

static void
diag_never_quotes_an_identity(void **state)
{
	static const char *docs[] = {
		"{" T "," P ",\"sets\":[{\"label\":\"a\",\"nodes\":"
		    "[\"19121212+1212\"]}]}",
		"{" T "," P ",\"sets\":[{\"label\":\"a\",\"nodes\":[\"n\"],"
		    "\"categories\":[\"19121212,1212\"]}]}",
		"{" T "," P "," S ",\"breakdown\":[\"191212121212\"]}",
		"{" T "," P "," S ",\"x191212121212\":1}",
	};
	struct cc_query *q = NULL;
	struct cc_diag diag;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		memset(&diag, 0, sizeof(diag));
		assert_int_equal(cc_query_parse(&q, docs[i], strlen(docs[i]),
		    &diag), CC_ERR_QUERY);
		assert_null(strstr(diag.text, "121212"));
		assert_non_null(strstr(diag.text, "not shown"));
	}
}

static void
diag_quotes_without_control_characters(void **state)
{
	static const char doc[] = "{" T "," P ",\"sets\":[{\"label\":"
	    "\"a\",\"nodes\":[\"\\u009b2J\\u001b\\\"\\\\x\"]}]}";
	struct cc_query *q = NULL;
	struct cc_diag diag = { "" };
	size_t i;

	(void)state;
	assert_int_equal(cc_query_parse(&q, doc, strlen(doc), &diag),
	    CC_ERR_QUERY);
	assert_string_equal(diag.text, "sets[0].nodes[0]: \"?2J???x\" is "
	    "not a node id ([a-z0-9-]{1,32})");
	for (i = 0; diag.text[i] != '\0'; i++)
		assert_true((unsigned char)diag.text[i] >= 0x20);
}

static void
canonical_json_round_trip(void **state)
{
	struct cc_query *q = parse_ok(example), *q2;
	char *text = NULL, *text2 = NULL;
	size_t len = 0, len2 = 0;
	uint8_t d1[CC_QUERY_DIGEST_LEN], d2[CC_QUERY_DIGEST_LEN];

	(void)state;
	assert_int_equal(cc_query_to_json(&text, &len, q), 0);
	assert_string_equal(text, example_canonical);
	assert_int_equal(len, strlen(example_canonical));
	q2 = parse_ok(text);
	assert_int_equal(cc_query_to_json(&text2, &len2, q2), 0);
	assert_string_equal(text, text2);
	assert_memory_equal(q, q2, sizeof(*q));
	assert_int_equal(cc_query_digest(d1, q), 0);
	assert_int_equal(cc_query_digest(d2, q2), 0);
	assert_memory_equal(d1, d2, sizeof(d1));
	free(text);
	free(text2);
	cc_query_free(q2);

	/* Node, category and breakdown order do not change the digest. */
	q2 = parse_ok("{\"min_cell\":5,\"age_bands\":[[0,5],[6,12],[13,17]],"
	    "\"breakdown\":[\"sex\",\"age_band\"],\"sets\":[{\"categories\":"
	    "[\"inskriven\"],\"nodes\":[\"skola\"],\"label\":\"skola\"},"
	    "{\"label\":\"socialtjänst\",\"nodes\":[\"soc2\",\"soc\"]},"
	    "{\"label\":\"bup\",\"nodes\":[\"bup\"]}],\"period\":{\"to\":"
	    "\"2025-12\",\"from\":\"2025-01\"},\"title\":\"Barn kända av skola,"
	    " socialtjänst och BUP 2025\"}");
	assert_int_equal(cc_query_digest(d2, q2), 0);
	assert_memory_equal(d1, d2, sizeof(d1));
	/* A different min_cell (here the default spelled out) differs. */
	q2->min_cell = 6;
	assert_int_equal(cc_query_digest(d2, q2), 0);
	assert_memory_not_equal(d1, d2, sizeof(d1));
	cc_query_free(q2);

	/* Set order matters (it numbers the Venn regions). */
	q2 = parse_ok("{\"title\":\"t\",\"period\":{\"from\":\"2025-01\","
	    "\"to\":\"2025-01\"},\"sets\":[{\"label\":\"b\",\"nodes\":[\"y\"]},"
	    "{\"label\":\"a\",\"nodes\":[\"x\"]}]}");
	assert_int_equal(cc_query_to_json(&text, NULL, q2), 0);
	assert_string_equal(text, "{\"breakdown\":[],\"min_cell\":5,"
	    "\"period\":{\"from\":\"2025-01\",\"to\":\"2025-01\"},\"sets\":"
	    "[{\"label\":\"b\",\"nodes\":[\"y\"]},{\"label\":\"a\",\"nodes\":"
	    "[\"x\"]}],\"title\":\"t\"}");
	free(text);
	cc_query_free(q2);
	cc_query_free(q);
}

static struct cc_query *
query_with(const char *from, const char *to, const char *bands)
{
	char json[512];

	snprintf(json, sizeof(json), "{\"title\":\"t\",\"period\":{\"from\":"
	    "\"%s\",\"to\":\"%s\"},\"sets\":[{\"label\":\"a\",\"nodes\":"
	    "[\"n\"]}],\"breakdown\":[\"age_band\"],\"age_bands\":%s}",
	    from, to, bands);
	return parse_ok(json);
}

static void
age_band_boundaries(void **state)
{
	struct cc_query *q = query_with("2025-01", "2025-12",
	    "[[0,5],[6,12],[13,17]]");
	struct cc_date d;

	(void)state;
	cc_query_period_last_day(q, &d);
	assert_int_equal(d.year, 2025);
	assert_int_equal(d.month, 12);
	assert_int_equal(d.day, 31);
	cc_query_period_first_day(q, &d);
	assert_int_equal(d.day, 1);
	assert_int_equal(d.month, 1);
	/* Age on 2025-12-31; birthday on that very day counts. */
	assert_int_equal(cc_query_age_band_of(q, 2025, 12, 31), 0); /* 0 */
	assert_int_equal(cc_query_age_band_of(q, 2020, 12, 31), 0); /* 5 */
	assert_int_equal(cc_query_age_band_of(q, 2019, 12, 31), 1); /* 6 */
	assert_int_equal(cc_query_age_band_of(q, 2019, 1, 1), 1);   /* 6 */
	assert_int_equal(cc_query_age_band_of(q, 2013, 12, 31), 1); /* 12 */
	assert_int_equal(cc_query_age_band_of(q, 2012, 12, 31), 2); /* 13 */
	assert_int_equal(cc_query_age_band_of(q, 2008, 1, 1), 2);   /* 17 */
	assert_int_equal(cc_query_age_band_of(q, 2007, 12, 31), -1); /* 18 */
	/* Born after the period: not counted. */
	assert_int_equal(cc_query_age_band_of(q, 2026, 1, 1), -1);
	/* Day unknown (0): older from the first of the birth month. */
	assert_int_equal(cc_query_age_band_of(q, 2019, 12, 0), 1);
	/* Bad input. */
	assert_int_equal(cc_query_age_band_of(q, 2019, 13, 1), -1);
	assert_int_equal(cc_query_age_band_of(q, 2019, 0, 1), -1);
	cc_query_free(q);

	/* Period ending in February of a leap year: 2024-02-29. */
	q = query_with("2024-01", "2024-02", "[[0,11],[12,12],[13,17]]");
	cc_query_period_last_day(q, &d);
	assert_int_equal(d.day, 29);
	assert_int_equal(cc_query_age_band_of(q, 2012, 2, 29), 1);  /* 12 */
	assert_int_equal(cc_query_age_band_of(q, 2012, 3, 1), 0);   /* 11 */
	cc_query_free(q);
	/* Non-leap year: someone born on 29 February turns older on the 28th. */
	q = query_with("2025-02", "2025-02", "[[0,12],[13,13]]");
	cc_query_period_last_day(q, &d);
	assert_int_equal(d.day, 28);
	assert_int_equal(cc_query_age_band_of(q, 2012, 2, 29), 1);  /* 13 */
	cc_query_free(q);

	/* Gaps: an age between bands is not counted. */
	q = query_with("2025-01", "2025-12", "[[0,5],[10,12]]");
	assert_int_equal(cc_query_age_band_of(q, 2018, 6, 1), -1); /* 7 */
	assert_int_equal(cc_query_age_band_of(q, 2015, 6, 1), 1);  /* 10 */
	cc_query_free(q);
}

static void
episodes_and_period(void **state)
{
	struct cc_query *q = query_with("2025-03", "2025-04", "[[0,17]]");
	struct cc_date s1 = { 2025, 4, 30 }, e1 = { 2025, 6, 1 };
	struct cc_date s2 = { 2025, 5, 1 };
	struct cc_date s3 = { 2020, 1, 1 }, e3 = { 2025, 2, 28 };
	struct cc_date e4 = { 2025, 3, 1 };

	(void)state;
	assert_true(cc_query_episode_in_period(q, &s1, &e1));
	assert_true(cc_query_episode_in_period(q, &s1, NULL));
	assert_false(cc_query_episode_in_period(q, &s2, NULL));
	assert_false(cc_query_episode_in_period(q, &s3, &e3));
	assert_true(cc_query_episode_in_period(q, &s3, &e4));
	assert_true(cc_query_episode_in_period(q, &s3, NULL));
	assert_false(cc_query_episode_in_period(q, NULL, NULL));
	cc_query_free(q);
}

static void
cells_and_labels(void **state)
{
	struct cc_query *q = parse_ok(example);
	static const char *want[] = { "0-5 F", "0-5 M", "6-12 F", "6-12 M",
	    "13-17 F", "13-17 M" };
	char label[CC_QUERY_CELL_LABEL_MAX];
	int band, sex;
	size_t c;

	(void)state;
	for (c = 0; c < 6; c++) {
		assert_int_equal(cc_query_cell_label(label, q, c), 0);
		assert_string_equal(label, want[c]);
		assert_int_equal(cc_query_cell_attributes(&band, &sex, q, c), 0);
		assert_int_equal(cc_query_cell_of(q, band, sex), (int)c);
	}
	assert_int_equal(cc_query_cell_of(q, 1, CC_QUERY_SEX_MALE), 3);
	assert_int_equal(cc_query_cell_of(q, 3, CC_QUERY_SEX_MALE), -1);
	assert_int_equal(cc_query_cell_of(q, -1, CC_QUERY_SEX_MALE), -1);
	assert_int_equal(cc_query_cell_of(q, 0, CC_QUERY_SEX_NONE), -1);
	assert_int_equal(cc_query_cell_of(q, CC_QUERY_BAND_NONE,
	    CC_QUERY_SEX_FEMALE), -1);
	assert_int_equal(cc_query_cell_attributes(&band, &sex, q, 6),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_query_band_label(label, q, 2), 0);
	assert_string_equal(label, "13-17");
	assert_int_equal(cc_query_band_label(label, q, 3),
	    CC_ERR_INVALID_ARGUMENT);
	cc_query_free(q);

	q = parse_ok("{" T "," P "," S ",\"breakdown\":[\"sex\"]}");
	assert_int_equal(cc_query_cells(q), 2);
	assert_int_equal(cc_query_cell_label(label, q, 0), 0);
	assert_string_equal(label, "F");
	assert_int_equal(cc_query_cell_label(label, q, 1), 0);
	assert_string_equal(label, "M");
	assert_int_equal(cc_query_cell_of(q, CC_QUERY_BAND_NONE,
	    CC_QUERY_SEX_MALE), 1);
	assert_int_equal(cc_query_band_label(label, q, 0),
	    CC_ERR_INVALID_ARGUMENT);
	cc_query_free(q);

	q = query_with("2025-01", "2025-12", "[[0,130]]");
	assert_int_equal(cc_query_cell_label(label, q, 0), 0);
	assert_string_equal(label, "0-130");
	cc_query_free(q);
}

static void
names(void **state)
{
	(void)state;
	assert_true(cc_query_node_id_valid("soc-2", 5));
	assert_true(cc_query_node_id_valid("abcdefghijklmnopqrstuvwxyz012345",
	    32));
	assert_false(cc_query_node_id_valid("abcdefghijklmnopqrstuvwxyz0123456",
	    33));
	assert_false(cc_query_node_id_valid("", 0));
	assert_false(cc_query_node_id_valid("Soc", 3));
	assert_false(cc_query_node_id_valid("so_c", 4));
	assert_false(cc_query_node_id_valid("a\0b", 3));

	assert_true(cc_query_category_valid("orosanmälan", strlen("orosanmälan")));
	assert_true(cc_query_category_valid("Särskilt stöd",
	    strlen("Särskilt stöd")));
	assert_true(cc_query_category_valid("HVB.placering_1-a", 17));
	assert_true(cc_query_category_valid("ŋŧđ", strlen("ŋŧđ")));
	assert_false(cc_query_category_valid("", 0));
	assert_false(cc_query_category_valid(" a", 2));
	assert_false(cc_query_category_valid("a ", 2));
	assert_false(cc_query_category_valid("a,b", 3));
	assert_false(cc_query_category_valid("a;b", 3));
	assert_false(cc_query_category_valid("*", 1));
	assert_false(cc_query_category_valid("a\tb", 3));
	assert_false(cc_query_category_valid("a\0b", 3));
	assert_false(cc_query_category_valid("5×3", strlen("5×3")));
	assert_false(cc_query_category_valid("\xc3", 1));
	assert_false(cc_query_category_valid("\xc0\x80", 2));   /* overlong */
	assert_false(cc_query_category_valid("\xe2\x82\xac", 3)); /* euro */
	{
		char cat[CC_LIMIT_CATEGORY + 1];

		memset(cat, 'a', sizeof(cat));
		assert_true(cc_query_category_valid(cat, CC_LIMIT_CATEGORY));
		assert_false(cc_query_category_valid(cat,
		    CC_LIMIT_CATEGORY + 1));
	}
}

static void
federation_policy(void **state)
{
	struct cc_federation_policy pol;
	struct cc_query *q = parse_ok(example);
	struct cc_diag diag = { "" };
	size_t ngrids;
	const struct cc_query_grid *grids = cc_query_default_grids(&ngrids);
	struct cc_query_grid only;

	(void)state;
	assert_int_equal(ngrids, 7);
	assert_int_equal(grids[0].nbands, 3);
	cc_federation_policy_defaults(&pol);
	assert_int_equal(pol.min_cell_floor, 5);
	assert_int_equal(cc_query_check_policy(q, &pol, &diag), 0);

	/* Floor. */
	pol.min_cell_floor = 10;
	assert_int_equal(cc_query_check_policy(q, &pol, &diag), CC_ERR_POLICY);
	assert_string_equal(diag.text,
	    "min_cell: 5 is below the federation floor 10");
	cc_federation_policy_defaults(&pol);

	/* A grid that is not exactly an allowed one. */
	q->bands[2].hi = 16;
	assert_int_equal(cc_query_check_policy(q, &pol, &diag), CC_ERR_POLICY);
	assert_non_null(strstr(diag.text, "age_bands: unknown age-band grid"));
	q->bands[2].hi = 17;
	q->nbands = 2;
	assert_int_equal(cc_query_check_policy(q, &pol, &diag), CC_ERR_POLICY);
	q->nbands = 3;
	memset(&only, 0, sizeof(only));
	only.nbands = 1;
	only.bands[0].hi = 17;
	pol.grids = &only;
	pol.ngrids = 1;
	assert_int_equal(cc_query_check_policy(q, &pol, &diag), CC_ERR_POLICY);
	pol.ngrids = 0;
	assert_int_equal(cc_query_check_policy(q, &pol, &diag), CC_ERR_POLICY);
	cc_federation_policy_defaults(&pol);

	/* Sex. */
	pol.allow_sex = false;
	assert_int_equal(cc_query_check_policy(q, &pol, &diag), CC_ERR_POLICY);
	assert_non_null(strstr(diag.text, "breakdown: "));
	cc_federation_policy_defaults(&pol);

	/* Period length and alignment (the example is a calendar year). */
	pol.max_period_months = 11;
	assert_int_equal(cc_query_check_policy(q, &pol, &diag), CC_ERR_POLICY);
	assert_string_equal(diag.text,
	    "period: 12 months, the federation allows at most 11");
	pol.max_period_months = 12;
	pol.period_align_months = 12;
	assert_int_equal(cc_query_check_policy(q, &pol, &diag), 0);
	pol.period_align_months = 3;
	assert_int_equal(cc_query_check_policy(q, &pol, &diag), 0);
	q->period_from += 1;   /* 2025-02..2025-12 */
	assert_int_equal(cc_query_check_policy(q, &pol, &diag), CC_ERR_POLICY);
	assert_non_null(strstr(diag.text, "3-month blocks"));
	q->period_from += 2;   /* 2025-04..2025-12: three quarters */
	assert_int_equal(cc_query_check_policy(q, &pol, &diag), 0);
	pol.period_align_months = 0;
	assert_int_equal(cc_query_check_policy(q, &pol, &diag),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_query_check_policy(NULL, &pol, &diag),
	    CC_ERR_INVALID_ARGUMENT);
	cc_query_free(q);

	/* A query without age breakdown needs no grid. */
	q = parse_ok("{" T "," P "," S "}");
	cc_federation_policy_defaults(&pol);
	pol.ngrids = 0;
	assert_int_equal(cc_query_check_policy(q, &pol, &diag), 0);
	cc_query_free(q);
}

static void
from_json_value(void **state)
{
	struct cc_query *q = NULL, *q2 = NULL;
	struct cc_diag diag = { "" };
	json_t *root = NULL;

	(void)state;
	q = parse_ok(example);
	assert_int_equal(cc_query_to_json_value(&root, q), 0);
	assert_int_equal(cc_query_from_json(&q2, root, &diag), 0);
	assert_memory_equal(q, q2, sizeof(*q));
	cc_query_free(q2);
	q2 = NULL;
	/* A string with an embedded NUL built by code is refused. */
	assert_int_equal(json_object_set_new(root, "title",
	    json_stringn("a\0b", 3)), 0);
	assert_int_equal(cc_query_from_json(&q2, root, &diag), CC_ERR_QUERY);
	assert_string_equal(diag.text, "title: contains a NUL character");
	assert_null(q2);
	json_decref(root);
	cc_query_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(example_parses),
		cmocka_unit_test(defaults_and_minimal_query),
		cmocka_unit_test(every_rule_is_rejected_with_its_field),
		cmocka_unit_test(hostile_sizes_and_bytes),
		cmocka_unit_test(too_many_nodes_and_node_limits),
		cmocka_unit_test(diag_never_quotes_an_identity),
		cmocka_unit_test(diag_quotes_without_control_characters),
		cmocka_unit_test(canonical_json_round_trip),
		cmocka_unit_test(age_band_boundaries),
		cmocka_unit_test(episodes_and_period),
		cmocka_unit_test(cells_and_labels),
		cmocka_unit_test(names),
		cmocka_unit_test(federation_policy),
		cmocka_unit_test(from_json_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
