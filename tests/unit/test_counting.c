/*
 * Unit tests: counting a query (aggregator/counting.c), end to end on
 * real batches: simulated nodes with at-rest keys and per-query scalars
 * run the origin step and the relays in the rotated order of SPEC 8.2,
 * the final batches go to files, and the counts and the released table
 * are compared with the truth computed directly from the simulated
 * persons and with what the disclosure module decides.
 *
 * Signatures are not part of counting (the commit of every step verified
 * them, SPEC 8.6), so the batches carry a placeholder trailer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>
#include <sodium.h>

#include "aggregator/counting.h"
#include "protocol/batch.h"
#include "protocol/disclosure.h"
#include "protocol/error.h"
#include "protocol/group.h"
#include "protocol/query.h"
#include "protocol/seal.h"

/* The federation, sorted by id. "tom" holds no one. */
#define FED_NODES 5
static const char *const fed_ids[FED_NODES] = {
	"bup", "skola", "soc-a", "soc-b", "tom"
};
enum { BUP, SKOLA, SOC_A, SOC_B, TOM };

#define PERSONS 300
#define BANDS 3

struct person {
	char id[13];                 /* 12 digits, synthetic */
	uint8_t band;                /* 0..BANDS-1 */
	uint8_t sex;                 /* 1 female, 2 male */
	bool at[FED_NODES];          /* known to node i */
	/* A node that holds a different age band for this person (-1: none). */
	int odd_node;
};

struct fixture {
	char dir[64];
	uint8_t s[FED_NODES][32];    /* at-rest keys */
	struct cc_seal_key *agg;     /* the aggregator's attribute key */
	uint8_t y_pub[32];
	struct person p[PERSONS];
};

static struct fixture *fx;

/* splitmix64: a deterministic generator for the simulated population. */
static uint64_t
next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int
setup(void **state)
{
	uint64_t seed = 20261122;
	struct person *p;
	size_t i;

	(void)state;
	if (sodium_init() < 0 || (fx = calloc(1, sizeof(*fx))) == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/cc-counting-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	for (i = 0; i < FED_NODES; i++)
		cc_group_scalar_random(fx->s[i]);
	if (cc_seal_key_generate(&fx->agg) != 0)
		return -1;
	cc_seal_key_public(fx->agg, fx->y_pub);
	for (i = 0; i < PERSONS; i++) {
		p = &fx->p[i];
		snprintf(p->id, sizeof(p->id), "2010%08zu", i * 7919 % 100000000);
		p->band = (uint8_t)(next_random(&seed) % BANDS);
		p->sex = (uint8_t)(1 + next_random(&seed) % 2);
		p->at[SKOLA] = next_random(&seed) % 100 < 70;
		p->at[BUP] = next_random(&seed) % 100 < 12;
		p->at[SOC_A] = next_random(&seed) % 100 < 15;
		/* Social services nodes share many children. */
		p->at[SOC_B] = next_random(&seed) % 100 < (p->at[SOC_A] ? 45 : 10);
		p->odd_node = -1;
	}
	/* Make sure the rare combinations exist at all. */
	fx->p[0].at[SOC_A] = fx->p[0].at[SOC_B] = true;
	fx->p[1].at[BUP] = fx->p[1].at[SOC_B] = true;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	rmdir(fx->dir);
	cc_seal_key_free(fx->agg);
	sodium_memzero(fx, sizeof(*fx));
	free(fx);
	return 0;
}

static struct cc_query *
query_new(const char *json)
{
	struct cc_diag d = { { 0 } };
	struct cc_query *q = NULL;

	if (cc_query_parse(&q, json, strlen(json), &d) != 0)
		fail_msg("query: %s", d.text);
	return q;
}

static int
fed_index(const char *id)
{
	int i;

	for (i = 0; i < FED_NODES; i++)
		if (strcmp(fed_ids[i], id) == 0)
			return i;
	fail_msg("unknown node %s", id);
	return -1;
}

/* The attribute a node holds for a person, in the query's terms. */
static struct cc_attr
person_attr(const struct cc_query *q, const struct person *p, int node)
{
	struct cc_attr a = { false, CC_ATTR_AGE_NONE, CC_ATTR_SEX_NONE };

	if (q->by_age_band)
		a.age_band = (uint8_t)(node == p->odd_node ?
		    (p->band + 1) % BANDS : p->band);
	if (q->by_sex)
		a.sex = p->sex;
	return a;
}

struct run {
	char paths[CC_LIMIT_QUERY_NODES][128];        /* final batches */
	char origin_paths[CC_LIMIT_QUERY_NODES][128]; /* hop 0 batches */
	const char *final[CC_LIMIT_QUERY_NODES];
	size_t k;
};

static void
write_signed(struct cc_batch *b, const char *path)
{
	static const uint8_t cert[] = { 0x30, 0x00 }, sig[] = { 0x01 };
	struct cc_diag d = { { 0 } };

	assert_int_equal(cc_batch_set_trailer(b, cert, sizeof(cert), sig,
	    sizeof(sig)), 0);
	if (cc_batch_write_file(b, path, &d) != 0)
		fail_msg("write %s: %s", path, d.text);
}

/*
 * Every chain of a query as the nodes would run it: the origin n_c
 * selects its persons (P = s*H(id) as stored) and builds hop 0; hop h is
 * relayed by n_{(c+h) mod k} with its per-query r (SPEC 8.2-8.4).
 */
static void
run_query(struct run *run, const struct cc_query *q, const uint8_t qid[16],
    const char *tag)
{
	struct cc_diag d = { { 0 } };
	struct cc_attr_shape shape = {
		q->by_age_band ? (uint8_t)q->nbands : 0, q->by_sex
	};
	struct cc_batch *b = NULL;
	struct cc_attr *attrs;
	uint8_t r[CC_LIMIT_QUERY_NODES][32], h[32], *points;
	size_t c, i, n;
	uint16_t hop, k = (uint16_t)q->nnodes;
	int node;

	memset(run, 0, sizeof(*run));
	run->k = k;
	for (c = 0; c < k; c++)
		cc_group_scalar_random(r[c]);
	points = malloc(PERSONS * 32);
	attrs = calloc(PERSONS, sizeof(*attrs));
	assert_non_null(points);
	assert_non_null(attrs);
	for (c = 0; c < k; c++) {
		node = fed_index(q->nodes[c]);
		for (i = 0, n = 0; i < PERSONS; i++) {
			if (!fx->p[i].at[node])
				continue;
			assert_int_equal(cc_group_hash_identity(h, fx->p[i].id), 0);
			assert_int_equal(cc_group_mult(points + 32 * n,
			    fx->s[node], h), 0);
			attrs[n++] = person_attr(q, &fx->p[i], node);
		}
		if (cc_batch_new_origin(&b, qid, (uint16_t)c, k, &shape,
		    points, attrs, n, fx->s[node], r[c], fx->y_pub, &d) != 0)
			fail_msg("origin: %s", d.text);
		snprintf(run->origin_paths[c], sizeof(run->origin_paths[c]),
		    "%s/%s-%zu-0.batch", fx->dir, tag, c);
		write_signed(b, run->origin_paths[c]);
		for (hop = 1; hop < k; hop++) {
			if (cc_batch_relay(b, r[cc_batch_hop_node((uint16_t)c,
			    hop, k)], &d) != 0)
				fail_msg("relay: %s", d.text);
		}
		assert_int_equal(cc_batch_hop(b), k - 1);
		snprintf(run->paths[c], sizeof(run->paths[c]),
		    "%s/%s-%zu-final.batch", fx->dir, tag, c);
		if (k > 1)
			write_signed(b, run->paths[c]);
		else
			memcpy(run->paths[c], run->origin_paths[c],
			    sizeof(run->paths[c]));
		run->final[c] = run->paths[c];
		cc_batch_free(b);
		b = NULL;
	}
	sodium_memzero(r, sizeof(r));
	free(points);
	free(attrs);
}

static void
run_remove(struct run *run)
{
	size_t c;

	for (c = 0; c < run->k; c++) {
		unlink(run->paths[c]);
		unlink(run->origin_paths[c]);
	}
}

/* The truth: base cells straight from the simulated persons. */
static uint64_t *
truth_new(const struct cc_query *q, size_t *ret_nbase, size_t *ret_both_soc)
{
	size_t ncells = cc_query_cells(q);
	size_t nbase = cc_query_regions(q) * ncells, i, c;
	uint64_t *base = calloc(nbase, sizeof(*base));
	struct cc_attr a;
	unsigned mask, nsoc;
	int node, cell;

	assert_non_null(base);
	*ret_both_soc = 0;
	for (i = 0; i < PERSONS; i++) {
		mask = 0;
		nsoc = 0;
		for (c = 0; c < q->nnodes; c++) {
			node = fed_index(q->nodes[c]);
			if (!fx->p[i].at[node])
				continue;
			mask |= 1u << cc_query_set_of_node(q, q->nodes[c]);
			nsoc += node == SOC_A || node == SOC_B;
		}
		if (mask == 0)
			continue;
		*ret_both_soc += nsoc == 2;
		a = person_attr(q, &fx->p[i], -2);
		cell = cc_query_cell_of(q, a.age_band, a.sex);
		assert_true(cell >= 0);
		base[(mask - 1) * ncells + (size_t)cell]++;
	}
	*ret_nbase = nbase;
	return base;
}

static void
check_count(const struct cc_query *q, const struct run *run,
    const uint8_t qid[16])
{
	struct cc_diag d = { { 0 } };
	uint64_t *truth, *got;
	size_t nbase, both, i;

	truth = truth_new(q, &nbase, &both);
	assert_true(both > 0);  /* some children are known to both soc nodes */
	got = calloc(nbase, sizeof(*got));
	assert_non_null(got);
	if (cc_counting_count(got, nbase, q, qid, run->final, run->k, fx->agg,
	    0, &d) != 0)
		fail_msg("count: %s", d.text);
	for (i = 0; i < nbase; i++)
		if (got[i] != truth[i])
			fail_msg("base cell %zu: %llu, truth %llu", i,
			    (unsigned long long)got[i],
			    (unsigned long long)truth[i]);
	free(got);
	free(truth);
}

static size_t
popcount(size_t v)
{
	size_t n = 0;

	for (; v != 0; v >>= 1)
		n += v & 1;
	return n;
}

static void
check_labels(const json_t *comb, const struct cc_query *q, size_t region)
{
	size_t i, j = 0;

	assert_true(json_is_array(comb));
	for (i = 0; i < q->nsets; i++) {
		if ((region & ((size_t)1 << i)) == 0)
			continue;
		assert_string_equal(json_string_value(json_array_get(comb, j)),
		    q->sets[i].label);
		j++;
	}
	assert_int_equal(json_array_size(comb), j);
}

static void
check_item(const json_t *item, uint64_t value, bool withheld)
{
	assert_true(json_is_boolean(json_object_get(item, "suppressed")));
	assert_int_equal(json_is_true(json_object_get(item, "suppressed")),
	    withheld);
	if (withheld)
		assert_true(json_is_null(json_object_get(item, "count")));
	else
		assert_int_equal(json_integer_value(json_object_get(item,
		    "count")), value);
}

/*
 * The released table against the truth and the disclosure module: every
 * cell in the documented order, every total, the digest.
 */
static void
check_table(const json_t *t, const struct cc_query *q, const uint8_t qid[16])
{
	struct cc_diag d = { { 0 } };
	struct cc_margin *mg, *kn;
	uint64_t *truth, v;
	bool *bw, *mw;
	size_t nbase, both, nm, nk, ncells = cc_query_cells(q);
	size_t nregions = cc_query_regions(q), k, region, cell, idx, n = 0;
	size_t withheld = 0, published = 0;
	char hex[33], label[CC_QUERY_CELL_LABEL_MAX], digest[65];
	uint8_t sha[32];
	const json_t *cells, *item;
	json_t *copy;
	char *text;
	int band, sex;

	truth = truth_new(q, &nbase, &both);
	assert_int_equal(cc_disclosure_venn_margins(&mg, &nm, q->nsets,
	    ncells), 0);
	assert_int_equal(cc_disclosure_venn_known_margins(&kn, &nk, q->nsets,
	    ncells), 0);
	bw = calloc(nbase, sizeof(*bw));
	mw = calloc(nm, sizeof(*mw));
	assert_non_null(bw);
	assert_non_null(mw);
	assert_int_equal(cc_disclosure_protect(bw, mw, truth, nbase, mg, nm,
	    kn, nk, q->min_cell, &d), 0);
	assert_int_equal(cc_disclosure_check(bw, mw, truth, nbase, mg, nm,
	    kn, nk, q->min_cell, &d), 0);

	sodium_bin2hex(hex, sizeof(hex), qid, 16);
	assert_string_equal(json_string_value(json_object_get(t, "id")), hex);
	assert_string_equal(json_string_value(json_object_get(t, "title")),
	    q->title);
	assert_string_equal(json_string_value(json_object_get(t, "status")),
	    "released");
	assert_int_equal(json_integer_value(json_object_get(t, "min_cell")),
	    q->min_cell);
	assert_int_equal(json_array_size(json_object_get(t, "labels")),
	    q->nsets);
	assert_int_equal(json_array_size(json_object_get(t, "breakdown")),
	    (size_t)q->by_age_band + (size_t)q->by_sex);
	assert_int_equal(json_object_get(t, "age_bands") != NULL,
	    q->by_age_band);

	/* Cells: combinations by size then mask, then band, then sex. */
	cells = json_object_get(t, "cells");
	assert_int_equal(json_array_size(cells), nbase);
	for (k = 1; k <= q->nsets; k++) {
		for (region = 1; region <= nregions; region++) {
			if (popcount(region) != k)
				continue;
			for (cell = 0; cell < ncells; cell++, n++) {
				item = json_array_get(cells, n);
				idx = (region - 1) * ncells + cell;
				check_labels(json_object_get(item,
				    "combination"), q, region);
				assert_int_equal(cc_query_cell_attributes(&band,
				    &sex, q, cell), 0);
				if (q->by_age_band) {
					assert_int_equal(cc_query_band_label(
					    label, q, (size_t)band), 0);
					assert_string_equal(json_string_value(
					    json_object_get(item, "age_band")),
					    label);
				} else {
					assert_null(json_object_get(item,
					    "age_band"));
				}
				if (q->by_sex)
					assert_string_equal(json_string_value(
					    json_object_get(item, "sex")),
					    sex == 1 ? "F" : "M");
				else
					assert_null(json_object_get(item, "sex"));
				check_item(item, truth[idx], bw[idx]);
				withheld += bw[idx];
				published += !bw[idx];
			}
		}
	}
	assert_int_equal(n, nbase);

	for (k = 0; k < q->nsets; k++) {
		item = json_array_get(json_object_get(t, "set_totals"), k);
		assert_string_equal(json_string_value(json_object_get(item,
		    "set")), q->sets[k].label);
		assert_int_equal(cc_disclosure_margin_value(&v, truth, nbase,
		    &mg[k]), 0);
		check_item(item, v, mw[k]);
		withheld += mw[k];
		published += !mw[k];
	}
	item = json_object_get(t, "combination_totals");
	assert_int_equal(json_array_size(item), ncells > 1 ? nregions : 0);
	for (k = 1, n = 0; ncells > 1 && k <= q->nsets; k++) {
		for (region = 1; region <= nregions; region++) {
			if (popcount(region) != k)
				continue;
			item = json_array_get(json_object_get(t,
			    "combination_totals"), n++);
			check_labels(json_object_get(item, "combination"), q,
			    region);
			assert_int_equal(cc_disclosure_margin_value(&v, truth,
			    nbase, &mg[q->nsets + region - 1]), 0);
			check_item(item, v, mw[q->nsets + region - 1]);
			withheld += mw[q->nsets + region - 1];
			published += !mw[q->nsets + region - 1];
		}
	}
	/* Both outcomes occur, so the comparisons mean something. */
	if (published == 0 || withheld == 0)
		fail_msg("%zu items published, %zu withheld", published,
		    withheld);

	/* The digest: SHA-256 of the canonical table without "digest". */
	copy = json_deep_copy(t);
	assert_non_null(copy);
	assert_int_equal(json_object_del(copy, "digest"), 0);
	text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(text);
	crypto_hash_sha256(sha, (const uint8_t *)text, strlen(text));
	sodium_bin2hex(digest, sizeof(digest), sha, sizeof(sha));
	assert_string_equal(json_string_value(json_object_get(t, "digest")),
	    digest);
	assert_int_equal(cc_counting_digest(digest, t), 0);
	assert_string_equal(json_string_value(json_object_get(t, "digest")),
	    digest);
	free(text);
	json_decref(copy);

	free(bw);
	free(mw);
	free(truth);
	cc_disclosure_margins_free(mg);
	cc_disclosure_margins_free(kn);
}

static void
full_query(const char *json, const char *tag)
{
	struct cc_diag d = { { 0 } };
	struct cc_query *q = query_new(json);
	struct run run;
	uint8_t qid[16];
	json_t *t = NULL, *t2 = NULL;

	randombytes_buf(qid, sizeof(qid));
	run_query(&run, q, qid, tag);
	check_count(q, &run, qid);
	if (cc_counting_run(&t, q, qid, run.final, run.k, fx->agg, 0, &d) != 0)
		fail_msg("run: %s", d.text);
	check_table(t, q, qid);
	/* The same final batches give the same table, digest included. */
	assert_int_equal(cc_counting_run(&t2, q, qid, run.final, run.k,
	    fx->agg, 0, &d), 0);
	assert_true(json_equal(t, t2));
	json_decref(t);
	json_decref(t2);
	run_remove(&run);
	cc_query_free(q);
}

static void
three_sets_by_age_and_sex(void **state)
{
	(void)state;
	full_query("{\"title\": \"Barn kända av skola, socialtjänst och BUP\","
	    "\"period\": {\"from\": \"2025-01\", \"to\": \"2025-12\"},"
	    "\"sets\": [{\"label\": \"skola\", \"nodes\": [\"skola\"]},"
	    "{\"label\": \"socialtjänst\", \"nodes\": [\"soc-b\", \"soc-a\"]},"
	    "{\"label\": \"bup\", \"nodes\": [\"bup\"]}],"
	    "\"breakdown\": [\"sex\", \"age_band\"],"
	    "\"age_bands\": [[0, 5], [6, 12], [13, 17]], \"min_cell\": 5}",
	    "abs");
}

static void
three_sets_no_breakdown(void **state)
{
	(void)state;
	/* "tom" selects no one: its chain is dummies only. */
	full_query("{\"title\": \"Utan uppdelning\","
	    "\"period\": {\"from\": \"2025-01\", \"to\": \"2025-12\"},"
	    "\"sets\": [{\"label\": \"bup\", \"nodes\": [\"bup\"]},"
	    "{\"label\": \"skola\", \"nodes\": [\"skola\"]},"
	    "{\"label\": \"soc\", \"nodes\": [\"soc-a\", \"tom\", \"soc-b\"]}],"
	    "\"min_cell\": 10}", "none");
}

static void
one_set_by_sex(void **state)
{
	(void)state;
	/* One set of two nodes: a child known to both counts once. */
	full_query("{\"title\": \"Socialtjänsten\","
	    "\"period\": {\"from\": \"2025-01\", \"to\": \"2025-12\"},"
	    "\"sets\": [{\"label\": \"socialtjänst\","
	    "\"nodes\": [\"soc-a\", \"soc-b\"]}],"
	    "\"breakdown\": [\"sex\"], \"min_cell\": 40}", "one");
}

static void
two_sets_by_age(void **state)
{
	(void)state;
	full_query("{\"title\": \"Två mängder\","
	    "\"period\": {\"from\": \"2025-01\", \"to\": \"2025-12\"},"
	    "\"sets\": [{\"label\": \"bup\", \"nodes\": [\"bup\"]},"
	    "{\"label\": \"soc\", \"nodes\": [\"soc-a\", \"soc-b\"]}],"
	    "\"breakdown\": [\"age_band\"],"
	    "\"age_bands\": [[0, 5], [6, 12], [13, 17]], \"min_cell\": 5}",
	    "two");
}

/* ---- failures -------------------------------------------------------- */

static const char q3[] = "{\"title\": \"t\","
    "\"period\": {\"from\": \"2025-01\", \"to\": \"2025-12\"},"
    "\"sets\": [{\"label\": \"skola\", \"nodes\": [\"skola\"]},"
    "{\"label\": \"soc\", \"nodes\": [\"soc-a\", \"soc-b\"]},"
    "{\"label\": \"bup\", \"nodes\": [\"bup\"]}],"
    "\"breakdown\": [\"age_band\", \"sex\"],"
    "\"age_bands\": [[0, 5], [6, 12], [13, 17]]}";

/* Counting fails with `expect`, diag holds `needle`, and nothing leaks. */
static void
expect_failure(const struct cc_query *q, const uint8_t qid[16],
    const char *const *paths, size_t npaths, const struct cc_seal_key *key,
    int expect, const char *needle)
{
	struct cc_diag d = { { 0 } };
	size_t nbase = cc_query_regions(q) * cc_query_cells(q), i;
	uint64_t *base = malloc(nbase * sizeof(*base));
	json_t *t = (json_t *)1;

	assert_non_null(base);
	memset(base, 0xAA, nbase * sizeof(*base));
	assert_int_equal(cc_counting_count(base, nbase, q, qid, paths, npaths,
	    key, 0, &d), expect);
	if (strstr(d.text, needle) == NULL)
		fail_msg("diag \"%s\" lacks \"%s\"", d.text, needle);
	for (i = 0; i < nbase; i++)
		assert_int_equal(base[i], 0);
	assert_int_equal(cc_counting_run(&t, q, qid, paths, npaths, key, 0,
	    &d), expect);
	assert_null(t);
	free(base);
}

static void
wrong_query_chain_hop(void **state)
{
	struct cc_query *q = query_new(q3);
	struct run run, other;
	uint8_t qid[16], qid2[16];
	const char *paths[CC_LIMIT_QUERY_NODES];

	(void)state;
	randombytes_buf(qid, sizeof(qid));
	randombytes_buf(qid2, sizeof(qid2));
	run_query(&run, q, qid, "ok");
	run_query(&other, q, qid2, "other");

	/* A final batch of another query. */
	memcpy(paths, run.final, sizeof(paths));
	paths[2] = other.final[2];
	expect_failure(q, qid, paths, run.k, fx->agg, CC_ERR_FORMAT,
	    "chain 2 (origin soc-a): batch is for another query");

	/* Two chains swapped. */
	memcpy(paths, run.final, sizeof(paths));
	paths[0] = run.final[1];
	paths[1] = run.final[0];
	expect_failure(q, qid, paths, run.k, fx->agg, CC_ERR_FORMAT,
	    "chain 0 (origin bup): batch is chain 1, expected 0");

	/* The origin's batch instead of the final one. */
	memcpy(paths, run.final, sizeof(paths));
	paths[3] = run.origin_paths[3];
	expect_failure(q, qid, paths, run.k, fx->agg, CC_ERR_FORMAT,
	    "chain 3 (origin soc-b): batch is hop 0, expected 3");

	/* Another attribute key: nothing opens. */
	{
		struct cc_seal_key *wrong;

		assert_int_equal(cc_seal_key_generate(&wrong), 0);
		expect_failure(q, qid, run.final, run.k, wrong, CC_ERR_DECRYPT,
		    "chain 0 (origin bup): record");
		cc_seal_key_free(wrong);
	}

	/* A missing file, and the wrong number of chains. */
	memcpy(paths, run.final, sizeof(paths));
	paths[1] = "/nonexistent/cc-counting.batch";
	expect_failure(q, qid, paths, run.k, fx->agg, CC_ERR_IO,
	    "chain 1 (origin skola)");
	expect_failure(q, qid, run.final, run.k - 1, fx->agg,
	    CC_ERR_INVALID_ARGUMENT, "final batches");

	/* The right batches still count. */
	check_count(q, &run, qid);
	run_remove(&run);
	run_remove(&other);
	cc_query_free(q);
}

static uint8_t *
read_all(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	long len;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len > 0);
	rewind(f);
	data = malloc((size_t)len);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*ret_len = (size_t)len;
	return data;
}

static void
write_all(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Byte offset of record i in a batch file. */
static size_t
record_offset(const struct cc_batch *b, size_t i)
{
	return CC_BATCH_HEADER_BYTES +
	    (size_t)cc_batch_nrefs(b) * CC_BATCH_REF_BYTES +
	    i * CC_BATCH_RECORD_BYTES;
}

static void
tampered_block(void **state)
{
	struct cc_diag d = { { 0 } };
	struct cc_query *q = query_new(q3);
	struct cc_batch *b;
	struct run run;
	uint8_t qid[16], *data;
	size_t len;

	(void)state;
	randombytes_buf(qid, sizeof(qid));
	run_query(&run, q, qid, "tamper");
	assert_int_equal(cc_batch_read_file(&b, run.final[1],
	    CC_LIMIT_BATCH_ELEMENTS, &d), 0);
	data = read_all(run.final[1], &len);
	/*
	 * B of record 5 becomes another valid element: the batch still
	 * parses, but the block opens to no reference.
	 */
	cc_group_element_random(data + record_offset(b, 5) + CC_BATCH_B_OFFSET);
	write_all(run.final[1], data, len);
	expect_failure(q, qid, run.final, run.k, fx->agg, CC_ERR_DECRYPT,
	    "chain 1 (origin skola): record 5: attribute block opens to no "
	    "reference");
	free(data);
	cc_batch_free(b);
	run_remove(&run);
	cc_query_free(q);
}

static void
duplicate_token(void **state)
{
	struct cc_diag d = { { 0 } };
	struct cc_query *q = query_new(q3);
	struct cc_batch *b;
	struct cc_attr *attrs;
	struct cc_attr_shape shape = { 3, true };
	struct run run;
	uint8_t qid[16], *data;
	size_t len, i, real = SIZE_MAX, dummy = SIZE_MAX;

	(void)state;
	randombytes_buf(qid, sizeof(qid));
	run_query(&run, q, qid, "dup");
	/* Copy a real record over a dummy of skola's final batch. */
	assert_int_equal(cc_batch_read_file(&b, run.final[1],
	    CC_LIMIT_BATCH_ELEMENTS, &d), 0);
	attrs = calloc(cc_batch_count(b), sizeof(*attrs));
	assert_non_null(attrs);
	assert_int_equal(cc_batch_open(b, fx->agg, &shape, attrs, &d), 0);
	for (i = 0; i < cc_batch_count(b); i++) {
		if (attrs[i].dummy && dummy == SIZE_MAX)
			dummy = i;
		if (!attrs[i].dummy && real == SIZE_MAX)
			real = i;
	}
	assert_true(real != SIZE_MAX && dummy != SIZE_MAX);
	data = read_all(run.final[1], &len);
	memcpy(data + record_offset(b, dummy), data + record_offset(b, real),
	    CC_BATCH_RECORD_BYTES);
	write_all(run.final[1], data, len);
	expect_failure(q, qid, run.final, run.k, fx->agg, CC_ERR_FORMAT,
	    "chain 1 (origin skola): a token appears twice");
	free(data);
	free(attrs);
	cc_batch_free(b);
	run_remove(&run);
	cc_query_free(q);
}

static void
inconsistent_attributes(void **state)
{
	struct cc_query *q = query_new(q3);
	struct run run;
	uint8_t qid[16];
	size_t i;

	(void)state;
	/* Someone known to skola and bup; bup holds another age band. */
	for (i = 0; i < PERSONS; i++)
		if (fx->p[i].at[SKOLA] && fx->p[i].at[BUP])
			break;
	assert_true(i < PERSONS);
	fx->p[i].odd_node = BUP;
	randombytes_buf(qid, sizeof(qid));
	run_query(&run, q, qid, "odd");
	fx->p[i].odd_node = -1;
	/* bup is chain 0, skola chain 1: the second names the first. */
	expect_failure(q, qid, run.final, run.k, fx->agg, CC_ERR_FORMAT,
	    "chain 1 (origin skola): a person has different attributes in "
	    "chain 0 (origin bup)");
	run_remove(&run);
	cc_query_free(q);
}

/* ---- the table and the CSV for small, known counts ------------------- */

static const uint8_t small_qid[16] = {
	0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78,
	0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0,
};

static void
small_table_and_csv(void **state)
{
	struct cc_diag d = { { 0 } };
	struct cc_query *q = query_new("{\"title\": \"Liten tabell\","
	    "\"period\": {\"from\": \"2025-01\", \"to\": \"2025-12\"},"
	    "\"sets\": [{\"label\": \"skola\", \"nodes\": [\"skola\"]},"
	    "{\"label\": \"socialtjänst; \\\"öst\\\"\", \"nodes\": [\"soc-a\"]}],"
	    "\"breakdown\": [\"sex\"], \"min_cell\": 5}");
	/* (region - 1) * 2 + sex: {skola}, {soc}, {skola, soc} x F, M */
	const uint64_t base[6] = { 10, 12, 2, 7, 6, 9 };
	json_t *t = NULL, *copy;
	char *text = NULL, *canon, digest[65];
	uint8_t sha[32];
	size_t len;
	/*
	 * 2F = 2 is below min_cell. The set total of soc would give it
	 * away, so 3F (6, the smallest positive published cell there) goes
	 * too; then the combination total of {soc} gives 2F, so 2M; then the
	 * total of {skola, soc} gives 3F, so 3M. That is enough for the
	 * analyst, but not for the insider (SPEC 9.5): skola knows it has 16
	 * girls, and 16 - 1F (10) = 3F; so 1F goes, and likewise 1M (21 boys
	 * - 12 = 3M). Only the totals stay: the cells are then determined
	 * up to one free parameter, for the analyst and the insider.
	 */
	const char *expect =
	    "{\"breakdown\":[\"sex\"],"
	    "\"cells\":["
	    "{\"combination\":[\"skola\"],\"count\":null,\"sex\":\"F\",\"suppressed\":true},"
	    "{\"combination\":[\"skola\"],\"count\":null,\"sex\":\"M\",\"suppressed\":true},"
	    "{\"combination\":[\"socialtjänst; \\\"öst\\\"\"],\"count\":null,\"sex\":\"F\",\"suppressed\":true},"
	    "{\"combination\":[\"socialtjänst; \\\"öst\\\"\"],\"count\":null,\"sex\":\"M\",\"suppressed\":true},"
	    "{\"combination\":[\"skola\",\"socialtjänst; \\\"öst\\\"\"],\"count\":null,\"sex\":\"F\",\"suppressed\":true},"
	    "{\"combination\":[\"skola\",\"socialtjänst; \\\"öst\\\"\"],\"count\":null,\"sex\":\"M\",\"suppressed\":true}],"
	    "\"combination_totals\":["
	    "{\"combination\":[\"skola\"],\"count\":22,\"suppressed\":false},"
	    "{\"combination\":[\"socialtjänst; \\\"öst\\\"\"],\"count\":9,\"suppressed\":false},"
	    "{\"combination\":[\"skola\",\"socialtjänst; \\\"öst\\\"\"],\"count\":15,\"suppressed\":false}],"
	    "\"id\":\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\","
	    "\"labels\":[\"skola\",\"socialtjänst; \\\"öst\\\"\"],"
	    "\"min_cell\":5,"
	    "\"set_totals\":["
	    "{\"count\":37,\"set\":\"skola\",\"suppressed\":false},"
	    "{\"count\":24,\"set\":\"socialtjänst; \\\"öst\\\"\",\"suppressed\":false}],"
	    "\"status\":\"released\","
	    "\"title\":\"Liten tabell\"}";
	const char *expect_csv = "\xEF\xBB\xBF"
	    "combination;age_band;sex;count;suppressed\r\n"
	    "skola;;F;;true\r\n"
	    "skola;;M;;true\r\n"
	    "\"socialtjänst; \"\"öst\"\"\";;F;;true\r\n"
	    "\"socialtjänst; \"\"öst\"\"\";;M;;true\r\n"
	    "\"skola + socialtjänst; \"\"öst\"\"\";;F;;true\r\n"
	    "\"skola + socialtjänst; \"\"öst\"\"\";;M;;true\r\n";

	(void)state;
	if (cc_counting_table(&t, q, small_qid, base, 6, &d) != 0)
		fail_msg("table: %s", d.text);
	copy = json_deep_copy(t);
	assert_non_null(copy);
	json_object_del(copy, "digest");
	canon = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(canon);
	assert_string_equal(canon, expect);
	/* The digest is SHA-256 of exactly that text. */
	crypto_hash_sha256(sha, (const uint8_t *)expect, strlen(expect));
	sodium_bin2hex(digest, sizeof(digest), sha, sizeof(sha));
	assert_string_equal(json_string_value(json_object_get(t, "digest")),
	    digest);
	free(canon);
	json_decref(copy);

	assert_int_equal(cc_counting_csv(t, &text, &len), 0);
	assert_string_equal(text, expect_csv);
	assert_int_equal(len, strlen(expect_csv));
	free(text);
	json_decref(t);
	cc_query_free(q);
}

/*
 * The reviewers' example (SPEC 3.3 item 2, 9.5): set skola is one node
 * with exactly one girl, in region {skola, soc}; every other region
 * holding skola has no girls. Before the known margins the table showed
 * 0 for three of skola's regions among girls and withheld the fourth,
 * so skola, knowing it has one girl, read off which agencies know her.
 * Now every region holding skola is withheld among girls (her stratum
 * is below min_cell), and the pattern is the same wherever she is.
 */
static void
one_child_in_a_cell_is_not_located(void **state)
{
	struct cc_diag d = { { 0 } };
	struct cc_query *q = query_new("{\"title\": \"Ett barn\","
	    "\"period\": {\"from\": \"2025-01\", \"to\": \"2025-12\"},"
	    "\"sets\": [{\"label\": \"skola\", \"nodes\": [\"skola\"]},"
	    "{\"label\": \"soc\", \"nodes\": [\"soc-a\"]},"
	    "{\"label\": \"bup\", \"nodes\": [\"bup\"]}],"
	    "\"breakdown\": [\"sex\"], \"min_cell\": 5}");
	const unsigned wheres[4] = { 1, 3, 5, 7 };
	json_t *first = NULL;
	size_t w, i, reg;

	(void)state;
	for (w = 0; w < 4; w++) {
		uint64_t base[14];
		json_t *t = NULL, *cells, *cell, *pattern;
		size_t skola_girls_withheld = 0;

		/* (region - 1) * 2 + sex; region bit 0 = skola. */
		for (reg = 1; reg <= 7; reg++) {
			base[(reg - 1) * 2] = (reg & 1) ? reg == wheres[w] :
			    20 + reg;
			base[(reg - 1) * 2 + 1] = 30 + 2 * reg;
		}
		if (cc_counting_table(&t, q, small_qid, base, 14, &d) != 0)
			fail_msg("table: %s", d.text);
		cells = json_object_get(t, "cells");
		assert_int_equal(json_array_size(cells), 14);
		pattern = json_array();
		assert_non_null(pattern);
		json_array_foreach(cells, i, cell) {
			const json_t *comb = json_object_get(cell, "combination");
			bool skola = strcmp(json_string_value(json_array_get(comb,
			    0)), "skola") == 0;
			bool girl = strcmp(json_string_value(json_object_get(cell,
			    "sex")), "F") == 0;
			bool supp = json_is_true(json_object_get(cell,
			    "suppressed"));

			if (skola && girl)
				skola_girls_withheld += supp;
			assert_int_equal(json_array_append_new(pattern,
			    json_boolean(supp)), 0);
		}
		/* At least two (here: all four) of skola's regions. */
		assert_true(skola_girls_withheld >= 2);
		assert_int_equal(skola_girls_withheld, 4);
		/* The same pattern, totals included, wherever she is. */
		json_object_del(t, "digest");
		json_array_foreach(json_object_get(t, "set_totals"), i, cell)
			assert_int_equal(json_array_append_new(pattern,
			    json_copy(json_object_get(cell, "suppressed"))), 0);
		json_array_foreach(json_object_get(t, "combination_totals"), i,
		    cell)
			assert_int_equal(json_array_append_new(pattern,
			    json_copy(json_object_get(cell, "suppressed"))), 0);
		if (first == NULL)
			first = pattern;
		else {
			assert_true(json_equal(first, pattern));
			json_decref(pattern);
		}
		json_decref(t);
	}
	json_decref(first);
	cc_query_free(q);
}

static void
csv_no_breakdown_and_formulas(void **state)
{
	struct cc_diag d = { { 0 } };
	struct cc_query *q = query_new("{\"title\": \"Formler\","
	    "\"period\": {\"from\": \"2025-01\", \"to\": \"2025-12\"},"
	    "\"sets\": [{\"label\": \"=1+1\", \"nodes\": [\"skola\"]},"
	    "{\"label\": \"BUP Malmö\", \"nodes\": [\"bup\"]}], \"min_cell\": 3}");
	const uint64_t base[3] = { 120, 0, 4 };
	const char *expect_csv = "\xEF\xBB\xBF"
	    "combination;age_band;sex;count;suppressed\r\n"
	    "'=1+1;;;120;false\r\n"
	    "BUP Malmö;;;0;false\r\n"
	    "'=1+1 + BUP Malmö;;;4;false\r\n";
	json_t *t = NULL;
	char *text = NULL;
	size_t len;

	(void)state;
	if (cc_counting_table(&t, q, small_qid, base, 3, &d) != 0)
		fail_msg("table: %s", d.text);
	assert_null(json_object_get(t, "age_bands"));
	assert_int_equal(json_array_size(json_object_get(t, "breakdown")), 0);
	assert_int_equal(json_array_size(json_object_get(t,
	    "combination_totals")), 0);
	assert_int_equal(cc_counting_csv(t, &text, &len), 0);
	assert_string_equal(text, expect_csv);
	free(text);

	/* A table that is not one is refused, and nothing is returned. */
	json_object_set_new(json_array_get(json_object_get(t, "cells"), 1),
	    "count", json_null());
	text = (char *)1;
	assert_int_equal(cc_counting_csv(t, &text, &len), CC_ERR_FORMAT);
	assert_null(text);
	assert_int_equal(len, 0);
	assert_int_equal(cc_counting_csv(json_object_get(t, "cells"), &text,
	    &len), CC_ERR_FORMAT);
	json_decref(t);

	/* Wrong sizes. */
	t = (json_t *)1;
	assert_int_equal(cc_counting_table(&t, q, small_qid, base, 2, &d),
	    CC_ERR_INVALID_ARGUMENT);
	assert_null(t);
	cc_query_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(three_sets_by_age_and_sex),
		cmocka_unit_test(three_sets_no_breakdown),
		cmocka_unit_test(one_set_by_sex),
		cmocka_unit_test(two_sets_by_age),
		cmocka_unit_test(wrong_query_chain_hop),
		cmocka_unit_test(tampered_block),
		cmocka_unit_test(duplicate_token),
		cmocka_unit_test(inconsistent_attributes),
		cmocka_unit_test(small_table_and_csv),
		cmocka_unit_test(csv_no_breakdown_and_formulas),
		cmocka_unit_test(one_child_in_a_cell_is_not_located),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
