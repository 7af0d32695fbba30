/*
 * Unit tests: person selection for a query and the origin and relay steps
 * (node/steps.c, node/store.c cc_store_select_persons), with real stores
 * and a PKI made at test time. The chain test runs a whole two-node query
 * offline and opens the final batches as the aggregator would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>

#include "node/keys.h"
#include "node/steps.h"
#include "node/store.h"
#include "protocol/batch.h"
#include "protocol/query.h"
#include "protocol/seal.h"
#include "protocol/sign.h"
#include "testpki.h"

/* One stored episode of test person `who` (its identity is canon(who)). */
struct row {
	unsigned who;
	int birth_year;
	int birth_month;
	enum cc_sex sex;
	const char *category;
	const char *start;
	const char *end;      /* NULL: ongoing */
};

struct node {
	char path[160];
	struct cc_key *key;
	struct cc_store *st;
	struct cc_signer *signer;
};

struct fixture {
	char dir[64];
	struct testpki_ca *ca;
	struct cc_trust *trust;
	struct node alpha;
	struct node beta;
};

static void
canon(char out[12], unsigned i)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "2010%02u%02u%04u", 1 + i % 12, 1 + i % 28,
	    i % 10000);
	memcpy(out, buf, 12);
}

static void
pseudonym(uint8_t out[32], const uint8_t s[32], unsigned who)
{
	char c[12];
	uint8_t h[32];

	canon(c, who);
	assert_int_equal(cc_group_hash_identity(h, c), 0);
	assert_int_equal(cc_group_mult(out, s, h), 0);
}

static void
date_of(struct cc_date *d, const char *s)
{
	assert_int_equal(cc_date_parse(d, s, strlen(s), NULL), 0);
}

static void
node_fill(struct node *n, const struct row *rows, size_t nrows)
{
	struct cc_store_import_log log;
	struct cc_store_episode ep;
	bool added;
	size_t i;

	assert_int_equal(cc_store_import_begin(n->st, CC_STORE_SNAPSHOT,
	    n->key->fingerprint, NULL), 0);
	for (i = 0; i < nrows; i++) {
		memset(&ep, 0, sizeof(ep));
		pseudonym(ep.pseudonym, n->key->s, rows[i].who);
		ep.birth_year = rows[i].birth_year;
		ep.birth_month = rows[i].birth_month;
		ep.sex = rows[i].sex;
		assert_int_equal(cc_store_import_category(n->st,
		    rows[i].category, strlen(rows[i].category), &ep.category_id,
		    NULL), 0);
		date_of(&ep.start, rows[i].start);
		ep.ongoing = rows[i].end == NULL;
		if (!ep.ongoing)
			date_of(&ep.end, rows[i].end);
		ep.unit = "";
		assert_int_equal(cc_store_import_add(n->st, &ep, &added, NULL), 0);
	}
	memset(&log, 0, sizeof(log));
	log.file_name = "test.csv";
	log.mode = CC_STORE_SNAPSHOT;
	date_of(&log.on, "2026-01-15");
	log.outcome = "ok";
	log.detail = "";
	assert_int_equal(cc_store_import_commit(n->st, &log, NULL), 0);
}

static void
node_open(struct fixture *f, struct node *n, const char *id)
{
	char *cert = NULL, *key = NULL;

	snprintf(n->path, sizeof(n->path), "%s/%s.db", f->dir, id);
	assert_int_equal(cc_keys_generate(&n->key), 0);
	assert_int_equal(cc_store_create(n->path, n->key->fingerprint, NULL), 0);
	assert_int_equal(cc_store_open(&n->st, n->path, NULL), 0);
	assert_int_equal(testpki_issue(f->ca, id, TESTPKI_P256, 0, &cert, &key),
	    0);
	assert_int_equal(cc_signer_from_pem(&n->signer, cert, strlen(cert), key,
	    strlen(key), NULL), 0);
	free(cert);
	free(key);
}

static void
node_close(struct node *n)
{
	cc_store_close(n->st);
	cc_keys_free(n->key);
	cc_signer_free(n->signer);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char *pem;

	assert_non_null(f);
	assert_true(sodium_init() >= 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/cc-test-steps-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_non_null(f->ca = testpki_ca_new("federation", TESTPKI_P256));
	assert_non_null(pem = testpki_ca_pem(f->ca));
	assert_int_equal(cc_trust_from_pem(&f->trust, pem, strlen(pem), NULL), 0);
	free(pem);
	node_open(f, &f->alpha, "alpha");
	node_open(f, &f->beta, "beta");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	node_close(&f->alpha);
	node_close(&f->beta);
	cc_trust_free(f->trust);
	testpki_ca_free(f->ca);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct cc_query *
query(const char *json)
{
	struct cc_query *q = NULL;
	struct cc_diag d = { "" };

	if (cc_query_parse(&q, json, strlen(json), &d) != 0)
		fail_msg("query: %s", d.text);
	return q;
}

/* Which person (index into who[]) has pseudonym p under key s; -1 if none. */
static int
who_of(const uint8_t p[32], const uint8_t s[32], const unsigned *who, size_t n)
{
	uint8_t x[32];
	size_t i;

	for (i = 0; i < n; i++) {
		pseudonym(x, s, who[i]);
		if (memcmp(x, p, 32) == 0)
			return (int)who[i];
	}
	return -1;
}

struct seen {
	const uint8_t *s;            /* the at-rest key */
	uint64_t set;
	struct cc_attr *attrs;
};

/* One selected person: which of 0..19 it is, seen once, not a dummy. */
static int
seen_person(void *ctx, const uint8_t p[CC_ELEMENT_BYTES],
    const struct cc_attr *a)
{
	static const unsigned all[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
	    12, 13, 14, 15, 16, 17, 18, 19 };
	struct seen *v = ctx;
	int w;

	w = who_of(p, v->s, all, sizeof(all) / sizeof(all[0]));
	assert_true(w >= 0);
	assert_false(v->set & (1ull << w));   /* each person once */
	v->set |= 1ull << w;
	assert_false(a->dummy);
	v->attrs[w] = *a;
	return 0;
}

/* The selection as a bit set of persons 0..63 plus their attributes. */
static uint64_t
selected(struct fixture *f, const struct cc_query *q, struct cc_attr attrs[64])
{
	struct seen v = { f->alpha.key->s, 0, attrs };

	assert_int_equal(cc_steps_each_person(f->alpha.st,
	    f->alpha.key->fingerprint, q, "alpha", NULL, seen_person, &v, NULL),
	    0);
	return v.set;
}

#define BIT(i) (1ull << (i))

/* Categories and the edges of period overlap (SPEC 7.3). */
static void
test_select_period_and_categories(void **state)
{
	struct fixture *f = *state;
	static const struct row rows[] = {
		{ 0, 2015, 5, CC_SEX_FEMALE, "a", "2024-03-01", "2024-12-31" },
		{ 1, 2015, 5, CC_SEX_FEMALE, "a", "2024-03-01", "2025-01-01" },
		{ 2, 2015, 5, CC_SEX_MALE, "a", "2025-12-31", NULL },
		{ 3, 2015, 5, CC_SEX_MALE, "a", "2026-01-01", NULL },
		{ 4, 2015, 5, CC_SEX_FEMALE, "a", "2020-01-01", NULL },
		{ 5, 2015, 5, CC_SEX_MALE, "b", "2025-06-01", "2025-06-30" },
		{ 6, 2015, 5, CC_SEX_MALE, "a", "2023-01-01", "2023-02-01" },
		{ 6, 2015, 5, CC_SEX_MALE, "b", "2025-02-01", "2025-03-01" },
		{ 7, 2015, 5, CC_SEX_FEMALE, "a", "2025-02-01", "2025-03-01" },
		{ 7, 2015, 5, CC_SEX_FEMALE, "a", "2025-04-01", "2025-05-01" },
		{ 7, 2015, 5, CC_SEX_FEMALE, "b", "2025-04-01", NULL },
		{ 8, 2015, 5, CC_SEX_FEMALE, "c", "2025-12-31", "2025-12-31" },
		{ 9, 2015, 5, CC_SEX_FEMALE, "c", "2026-01-01", "2026-01-01" },
	};
	struct cc_attr attrs[64];
	struct cc_query *q;
	uint64_t s;

	node_fill(&f->alpha, rows, sizeof(rows) / sizeof(rows[0]));

	/* Every category: 1, 2, 4 (edges), 5, 6 (b), 7 (once), 8 (last day). */
	q = query("{\"title\":\"t\",\"period\":{\"from\":\"2025-01\","
	    "\"to\":\"2025-12\"},\"sets\":[{\"label\":\"A\",\"nodes\":"
	    "[\"alpha\"]},{\"label\":\"B\",\"nodes\":[\"beta\"]}]}");
	s = selected(f, q, attrs);
	assert_int_equal(s, BIT(1) | BIT(2) | BIT(4) | BIT(5) | BIT(6) |
	    BIT(7) | BIT(8));
	/* No breakdown: age band none, sex none. */
	assert_int_equal(attrs[1].age_band, CC_ATTR_AGE_NONE);
	assert_int_equal(attrs[1].sex, CC_ATTR_SEX_NONE);
	cc_query_free(q);

	/* Only category a (alpha's set); beta's set names b (irrelevant). */
	q = query("{\"title\":\"t\",\"period\":{\"from\":\"2025-01\","
	    "\"to\":\"2025-12\"},\"sets\":[{\"label\":\"A\",\"nodes\":"
	    "[\"alpha\"],\"categories\":[\"a\"]},{\"label\":\"B\",\"nodes\":"
	    "[\"beta\"],\"categories\":[\"b\"]}]}");
	assert_int_equal(selected(f, q, attrs), BIT(1) | BIT(2) | BIT(4) |
	    BIT(7));
	cc_query_free(q);

	/* Categories b and c. */
	q = query("{\"title\":\"t\",\"period\":{\"from\":\"2025-01\","
	    "\"to\":\"2025-12\"},\"sets\":[{\"label\":\"A\",\"nodes\":"
	    "[\"alpha\"],\"categories\":[\"c\",\"b\"]}]}");
	assert_int_equal(selected(f, q, attrs), BIT(5) | BIT(6) | BIT(7) |
	    BIT(8));
	cc_query_free(q);

	/* A category the node does not hold selects nobody. */
	q = query("{\"title\":\"t\",\"period\":{\"from\":\"2025-01\","
	    "\"to\":\"2025-12\"},\"sets\":[{\"label\":\"A\",\"nodes\":"
	    "[\"alpha\"],\"categories\":[\"zz\"]}]}");
	assert_int_equal(selected(f, q, attrs), 0);
	cc_query_free(q);

	/* One month: June 2025 (5 ends 2025-06-30; 2, 3 start later). */
	q = query("{\"title\":\"t\",\"period\":{\"from\":\"2025-06\","
	    "\"to\":\"2025-06\"},\"sets\":[{\"label\":\"A\",\"nodes\":"
	    "[\"alpha\"]}]}");
	assert_int_equal(selected(f, q, attrs), BIT(4) | BIT(5) | BIT(7));
	cc_query_free(q);
}

/* Age on the last day of the period, bands with a gap, and sex. */
static void
test_select_age_and_sex(void **state)
{
	struct fixture *f = *state;
	static const struct row rows[] = {
		/* turns 6 on 2025-12-01: 6 on 2025-12-31 */
		{ 0, 2019, 12, CC_SEX_FEMALE, "a", "2025-01-01", NULL },
		/* turns 6 on 2026-01-01: still 5 */
		{ 1, 2020, 1, CC_SEX_MALE, "a", "2025-01-01", NULL },
		/* 12 */
		{ 2, 2013, 1, CC_SEX_MALE, "a", "2025-01-01", NULL },
		/* 13 on 2025-12-01: outside both bands */
		{ 3, 2012, 12, CC_SEX_FEMALE, "a", "2025-01-01", NULL },
		/* born after the period */
		{ 4, 2026, 1, CC_SEX_FEMALE, "a", "2025-01-01", NULL },
		/* 0 years old (born in the last month) */
		{ 5, 2025, 12, CC_SEX_MALE, "a", "2025-01-01", NULL },
		/* 15: in the gap between bands */
		{ 6, 2010, 6, CC_SEX_MALE, "a", "2025-01-01", NULL },
		/* 16 */
		{ 7, 2009, 3, CC_SEX_FEMALE, "a", "2025-01-01", NULL },
	};
	struct cc_attr attrs[64];
	struct cc_query *q;

	node_fill(&f->alpha, rows, sizeof(rows) / sizeof(rows[0]));
	q = query("{\"title\":\"t\",\"period\":{\"from\":\"2025-01\","
	    "\"to\":\"2025-12\"},\"sets\":[{\"label\":\"A\",\"nodes\":"
	    "[\"alpha\"]}],\"breakdown\":[\"sex\",\"age_band\"],"
	    "\"age_bands\":[[0,5],[6,12],[16,17]]}");
	assert_int_equal(selected(f, q, attrs), BIT(0) | BIT(1) | BIT(2) |
	    BIT(5) | BIT(7));
	assert_int_equal(attrs[0].age_band, 1);
	assert_int_equal(attrs[0].sex, CC_ATTR_SEX_FEMALE);
	assert_int_equal(attrs[1].age_band, 0);
	assert_int_equal(attrs[1].sex, CC_ATTR_SEX_MALE);
	assert_int_equal(attrs[2].age_band, 1);
	assert_int_equal(attrs[5].age_band, 0);
	assert_int_equal(attrs[7].age_band, 2);
	assert_int_equal(attrs[7].sex, CC_ATTR_SEX_FEMALE);
	cc_query_free(q);

	/* Age only: sex is 0. */
	q = query("{\"title\":\"t\",\"period\":{\"from\":\"2025-01\","
	    "\"to\":\"2025-12\"},\"sets\":[{\"label\":\"A\",\"nodes\":"
	    "[\"alpha\"]}],\"breakdown\":[\"age_band\"],"
	    "\"age_bands\":[[6,15]]}");
	assert_int_equal(selected(f, q, attrs), BIT(0) | BIT(2) | BIT(3) |
	    BIT(6));
	assert_int_equal(attrs[3].age_band, 0);
	assert_int_equal(attrs[3].sex, CC_ATTR_SEX_NONE);
	cc_query_free(q);

	/* The same persons a year earlier: ages one lower, 4 and 5 unborn. */
	q = query("{\"title\":\"t\",\"period\":{\"from\":\"2024-12\","
	    "\"to\":\"2024-12\"},\"sets\":[{\"label\":\"A\",\"nodes\":"
	    "[\"alpha\"]}],\"breakdown\":[\"age_band\"],"
	    "\"age_bands\":[[0,5],[6,12]]}");
	/* Episodes start 2025-01-01: nobody in December 2024. */
	assert_int_equal(selected(f, q, attrs), 0);
	cc_query_free(q);

	/* Sex only: everyone in the period, age none. */
	q = query("{\"title\":\"t\",\"period\":{\"from\":\"2025-01\","
	    "\"to\":\"2025-12\"},\"sets\":[{\"label\":\"A\",\"nodes\":"
	    "[\"alpha\"]}],\"breakdown\":[\"sex\"]}");
	assert_int_equal(selected(f, q, attrs), 0xff);
	assert_int_equal(attrs[4].age_band, CC_ATTR_AGE_NONE);
	assert_int_equal(attrs[4].sex, CC_ATTR_SEX_FEMALE);
	assert_int_equal(attrs[6].sex, CC_ATTR_SEX_MALE);
	cc_query_free(q);
}

static int
count_person(void *ctx, const uint8_t p[CC_ELEMENT_BYTES], int y, int m,
    enum cc_sex sex)
{
	(void)p;
	(void)y;
	(void)m;
	(void)sex;
	(*(int *)ctx)++;
	return 0;
}

/* The count callback: records the number, or refuses (stops the walk). */
struct counted {
	int calls;
	uint64_t n;
	int persons;
	int refuse;
};

static int
count_first(void *ctx, uint64_t n)
{
	struct counted *c = ctx;

	c->calls++;
	c->n = n;
	/* It comes before any row. */
	assert_int_equal(c->persons, 0);
	return c->refuse;
}

static int
count_after(void *ctx, const uint8_t p[CC_ELEMENT_BYTES], int y, int m,
    enum cc_sex sex)
{
	struct counted *c = ctx;

	(void)p;
	(void)y;
	(void)m;
	(void)sex;
	c->persons++;
	return 0;
}

/* The count is of exactly the persons the walk then visits. */
static void
test_select_count(void **state)
{
	struct fixture *f = *state;
	static const struct row rows[] = {
		/* Two episodes of one person in the period: counted once. */
		{ 0, 2015, 5, CC_SEX_FEMALE, "a", "2025-01-01", NULL },
		{ 0, 2015, 5, CC_SEX_FEMALE, "a", "2025-03-01", "2025-04-01" },
		{ 1, 2012, 1, CC_SEX_MALE, "b", "2025-06-01", "2025-06-30" },
		/* Outside the period. */
		{ 2, 2010, 2, CC_SEX_MALE, "a", "2023-01-01", "2024-12-31" },
		{ 3, 2011, 3, CC_SEX_FEMALE, "b", "2025-02-01", NULL },
	};
	const char *cat_b[] = { "b" };
	struct counted c;
	struct cc_date d1, d2;

	node_fill(&f->alpha, rows, 5);
	date_of(&d1, "2025-01-01");
	date_of(&d2, "2025-12-31");
	memset(&c, 0, sizeof(c));
	assert_int_equal(cc_store_select_persons(f->alpha.st,
	    f->alpha.key->fingerprint, NULL, 0, &d1, &d2, count_first,
	    count_after, &c, NULL), 0);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.persons, 3);
	/* With a category list. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(cc_store_select_persons(f->alpha.st,
	    f->alpha.key->fingerprint, cat_b, 1, &d1, &d2, count_first,
	    count_after, &c, NULL), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.persons, 2);
	/* A refusal stops the walk before any row and is returned. */
	memset(&c, 0, sizeof(c));
	c.refuse = CC_ERR_LIMIT;
	assert_int_equal(cc_store_select_persons(f->alpha.st,
	    f->alpha.key->fingerprint, NULL, 0, &d1, &d2, count_first,
	    count_after, &c, NULL), CC_ERR_LIMIT);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.persons, 0);
}

static int
count_selected(void *ctx, const uint8_t p[CC_ELEMENT_BYTES],
    const struct cc_attr *a)
{
	(void)p;
	(void)a;
	(*(int *)ctx)++;
	return 0;
}

static int
refuse_selected(void *ctx, const uint8_t p[CC_ELEMENT_BYTES],
    const struct cc_attr *a)
{
	(void)ctx;
	(void)p;
	(void)a;
	return CC_ERR_LIMIT;
}

static void
test_select_refusals(void **state)
{
	struct fixture *f = *state;
	static const struct row rows[] = {
		{ 0, 2015, 5, CC_SEX_FEMALE, "a", "2025-01-01", NULL },
	};
	struct cc_date d1, d2;
	struct cc_query *q;
	struct cc_diag d = { "" };
	int n = 0;

	node_fill(&f->alpha, rows, 1);
	q = query("{\"title\":\"t\",\"period\":{\"from\":\"2025-01\","
	    "\"to\":\"2025-12\"},\"sets\":[{\"label\":\"A\",\"nodes\":"
	    "[\"alpha\"]}]}");
	/* A key the rows are not under (rotated meanwhile): no person. */
	assert_int_equal(cc_steps_each_person(f->alpha.st, "0000000000000000",
	    q, "alpha", NULL, count_selected, &n, &d), CC_ERR_STATE);
	assert_int_equal(n, 0);
	/* A node in no set; no callback. */
	assert_int_equal(cc_steps_each_person(f->alpha.st,
	    f->alpha.key->fingerprint, q, "beta", NULL, count_selected, &n, &d),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_steps_each_person(f->alpha.st,
	    f->alpha.key->fingerprint, q, "alpha", NULL, NULL, &n, &d),
	    CC_ERR_INVALID_ARGUMENT);
	/* A callback's error stops the selection and is returned. */
	assert_int_equal(cc_steps_each_person(f->alpha.st,
	    f->alpha.key->fingerprint, q, "alpha", NULL, refuse_selected, &n,
	    &d), CC_ERR_LIMIT);
	cc_query_free(q);
	/* The store function itself: arguments and the callback. */
	date_of(&d1, "2025-01-01");
	date_of(&d2, "2025-12-31");
	assert_int_equal(cc_store_select_persons(f->alpha.st,
	    f->alpha.key->fingerprint, NULL, 0, &d1, &d2, NULL, count_person, &n,
	    NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(cc_store_select_persons(f->alpha.st,
	    f->alpha.key->fingerprint, NULL, 1, &d1, &d2, NULL, count_person, &n,
	    NULL), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_store_select_persons(f->alpha.st,
	    f->alpha.key->fingerprint, NULL, 0, &d1, &d2, NULL, NULL, &n, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	/* A period that ends before it starts. */
	n = 0;
	assert_int_equal(cc_store_select_persons(f->alpha.st,
	    f->alpha.key->fingerprint, NULL, 0, &d2, &d1, NULL, count_person, &n,
	    NULL), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(n, 0);
	/* A single day. */
	assert_int_equal(cc_store_select_persons(f->alpha.st,
	    f->alpha.key->fingerprint, NULL, 0, &d1, &d1, NULL, count_person, &n,
	    NULL), 0);
	assert_int_equal(n, 1);
}

/* The open final batch of a chain: real tokens and their attributes. */
struct opened {
	size_t n;
	uint8_t tokens[64][32];
	struct cc_attr attrs[64];
};

static void
open_final(const struct cc_batch *b, const struct cc_seal_key *y,
    const struct cc_query *q, struct opened *o)
{
	struct cc_attr_shape shape;
	struct cc_attr *attrs;
	uint32_t i, count = cc_batch_count(b);

	cc_steps_shape(&shape, q);
	attrs = calloc(count, sizeof(*attrs));
	assert_non_null(attrs);
	assert_int_equal(cc_batch_open(b, y, &shape, attrs, NULL), 0);
	memset(o, 0, sizeof(*o));
	for (i = 0; i < count; i++) {
		if (attrs[i].dummy)
			continue;
		assert_true(o->n < 64);
		memcpy(o->tokens[o->n], cc_batch_records(b) +
		    (size_t)i * CC_BATCH_RECORD_BYTES, 32);
		o->attrs[o->n++] = attrs[i];
	}
	free(attrs);
}

static int
find_token(const struct opened *o, const uint8_t t[32])
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (memcmp(o->tokens[i], t, 32) == 0)
			return (int)i;
	return -1;
}

/*
 * A whole two-node query offline: both chains, verification at the relay
 * and opening as the aggregator does. Persons known to both nodes meet
 * in equal final tokens with equal attributes; nobody else does.
 */
static void
test_two_node_chains(void **state)
{
	struct fixture *f = *state;
	static const struct row arows[] = {
		{ 1, 2015, 3, CC_SEX_FEMALE, "inskriven", "2024-08-15", NULL },
		{ 2, 2012, 7, CC_SEX_MALE, "inskriven", "2024-08-15", NULL },
		{ 3, 2018, 1, CC_SEX_MALE, "inskriven", "2025-08-15", NULL },
		{ 4, 2010, 2, CC_SEX_FEMALE, "inskriven", "2022-08-15",
		  "2024-06-10" },
		{ 5, 2001, 1, CC_SEX_MALE, "inskriven", "2024-08-15", NULL },
	};
	static const struct row brows[] = {
		{ 1, 2015, 3, CC_SEX_FEMALE, "remiss", "2025-02-01", "2025-03-01" },
		{ 2, 2012, 7, CC_SEX_MALE, "besök", "2025-05-01", NULL },
		{ 3, 2018, 1, CC_SEX_MALE, "remiss", "2025-09-01", NULL },
		{ 4, 2010, 2, CC_SEX_FEMALE, "remiss", "2025-01-10", NULL },
		{ 6, 2016, 11, CC_SEX_FEMALE, "remiss", "2025-01-10", NULL },
	};
	uint8_t qid[16], ra[32], rb[32], ypub[32], dd[32];
	struct cc_seal_key *y = NULL;
	struct cc_batch *a0 = NULL, *b0 = NULL, *a1 = NULL, *b1 = NULL;
	struct cc_steps_output oa0, ob0, oa1, ob1, ox;
	struct opened o0, o1;
	struct cc_query *q;
	struct cc_diag d = { "" };
	char in0[200], in1[200], out0[200], out1[200], outx[200];
	size_t na, nb, i, common = 0;
	bool bad;
	int j;

	node_fill(&f->alpha, arows, sizeof(arows) / sizeof(arows[0]));
	node_fill(&f->beta, brows, sizeof(brows) / sizeof(brows[0]));
	q = query("{\"title\":\"Skola och BUP 2025\",\"period\":{\"from\":"
	    "\"2025-01\",\"to\":\"2025-12\"},\"sets\":[{\"label\":\"skola\","
	    "\"nodes\":[\"alpha\"]},{\"label\":\"bup\",\"nodes\":[\"beta\"],"
	    "\"categories\":[\"remiss\"]}],\"breakdown\":[\"age_band\",\"sex\"],"
	    "\"age_bands\":[[0,5],[6,12],[13,17]]}");
	randombytes_buf(qid, sizeof(qid));
	cc_group_scalar_random(ra);
	cc_group_scalar_random(rb);
	assert_int_equal(cc_seal_key_generate(&y), 0);
	cc_seal_key_public(y, ypub);
	snprintf(in0, sizeof(in0), "%s/in0.batch", f->dir);
	snprintf(in1, sizeof(in1), "%s/in1.batch", f->dir);
	snprintf(out0, sizeof(out0), "%s/out0.batch", f->dir);
	snprintf(out1, sizeof(out1), "%s/out1.batch", f->dir);
	snprintf(outx, sizeof(outx), "%s/outx.batch", f->dir);

	/* Origins, straight into files: alpha is n_0 (chain 0), beta n_1. */
	assert_int_equal(cc_steps_origin(in0, &oa0, &na, f->alpha.st,
	    f->alpha.key, f->alpha.signer, q, qid, ra, ypub, &d), 0);
	assert_int_equal(na, 3);      /* 1, 2, 3 (4 ended, 5 is 24) */
	assert_int_equal(oa0.count, 64);
	assert_int_equal(cc_batch_read_file(&a0, in0, 2000000, &d), 0);
	assert_int_equal(cc_batch_count(a0), 64);
	assert_int_equal(cc_batch_chain(a0), 0);
	assert_int_equal(cc_batch_hop(a0), 0);
	assert_int_equal(cc_sign_batch_verify(a0, f->trust, "alpha", NULL), 0);
	cc_batch_digest(a0, dd);
	assert_memory_equal(oa0.d, dd, 32);
	assert_int_equal(cc_steps_origin(in1, &ob0, &nb, f->beta.st,
	    f->beta.key, f->beta.signer, q, qid, rb, ypub, &d), 0);
	assert_int_equal(nb, 4);      /* 1, 3, 4, 6 (2 is besök) */
	assert_int_equal(cc_batch_read_file(&b0, in1, 2000000, &d), 0);
	assert_int_equal(cc_batch_chain(b0), 1);

	/* Relays, file to file: beta finishes chain 0, alpha chain 1. */
	if (cc_steps_relay(out0, &ob1, &bad, in0, 2000000, f->trust,
	    f->beta.signer, q, qid, 0, 1, rb, &d) != 0)
		fail_msg("relay: %s", d.text);
	assert_int_equal(ob1.count, 64);
	assert_int_equal(cc_batch_read_file(&b1, out0, 2000000, &d), 0);
	assert_int_equal(cc_batch_hop(b1), 1);
	assert_int_equal(cc_sign_batch_verify(b1, f->trust, "beta", NULL), 0);
	cc_batch_digest(b1, dd);
	assert_memory_equal(ob1.d, dd, 32);
	assert_int_equal(cc_steps_relay(out1, &oa1, &bad, in1, 2000000,
	    f->trust, f->alpha.signer, q, qid, 1, 1, ra, &d), 0);
	assert_int_equal(cc_batch_read_file(&a1, out1, 2000000, &d), 0);
	assert_int_equal(cc_sign_batch_verify(a1, f->trust, "alpha", NULL), 0);

	open_final(b1, y, q, &o0);
	open_final(a1, y, q, &o1);
	assert_int_equal(o0.n, 3);
	assert_int_equal(o1.n, 4);
	/* Persons 1 and 3 are in both sets; 2 (besök), 4 (ended at alpha)
	 * and 6 (beta only) are not. */
	for (i = 0; i < o0.n; i++) {
		if ((j = find_token(&o1, o0.tokens[i])) < 0)
			continue;
		common++;
		assert_int_equal(o0.attrs[i].age_band, o1.attrs[j].age_band);
		assert_int_equal(o0.attrs[i].sex, o1.attrs[j].sex);
	}
	assert_int_equal(common, 2);

	/* Verification at the relay: each failure blames the input, and
	 * nothing is written. */
	/* The wrong producer: chain 1's origin is beta's, not alpha's. */
	assert_int_equal(cc_steps_relay(outx, &ox, &bad, in1, 2000000, f->trust,
	    f->beta.signer, q, qid, 0, 1, rb, &d), CC_ERR_CERTIFICATE);
	assert_true(bad);
	assert_int_equal(ox.count, 0);
	assert_non_null(strstr(d.text, "from alpha"));
	assert_int_equal(access(outx, F_OK), -1);
	/* Over this node's max_peer_batch. */
	assert_int_equal(cc_steps_relay(outx, &ox, &bad, in0, 63, f->trust,
	    f->beta.signer, q, qid, 0, 1, rb, &d), CC_ERR_LIMIT);
	assert_true(bad);
	assert_non_null(strstr(d.text, "max_peer_batch"));
	/* Another query. */
	qid[0] ^= 1;
	assert_int_equal(cc_steps_relay(outx, &ox, &bad, in0, 2000000, f->trust,
	    f->beta.signer, q, qid, 0, 1, rb, &d), CC_ERR_FORMAT);
	assert_true(bad);
	assert_non_null(strstr(d.text, "another query"));
	qid[0] ^= 1;
	/* Another hop. */
	assert_int_equal(cc_steps_relay(outx, &ox, &bad, out0, 2000000,
	    f->trust, f->alpha.signer, q, qid, 0, 1, ra, &d),
	    CC_ERR_CERTIFICATE);
	assert_true(bad);
	assert_int_equal(access(outx, F_OK), -1);
	/* A changed byte in a record: the signature no longer holds, and
	 * the relay refuses before it writes anything. */
	{
		FILE *fp = fopen(in0, "r+b");
		int c;

		assert_non_null(fp);
		assert_int_equal(fseek(fp, CC_BATCH_HEADER_BYTES +
		    CC_BATCH_REF_BYTES * cc_batch_nrefs(a0) + 96 * 5 + 40,
		    SEEK_SET), 0);
		c = fgetc(fp);
		assert_int_equal(fseek(fp, -1, SEEK_CUR), 0);
		fputc(c ^ 0x01, fp);
		fclose(fp);
	}
	assert_int_equal(cc_steps_relay(outx, &ox, &bad, in0, 2000000,
	    f->trust, f->beta.signer, q, qid, 0, 1, rb, &d), CC_ERR_SIGNATURE);
	assert_true(bad);
	assert_non_null(strstr(d.text, "from alpha"));
	assert_int_equal(access(outx, F_OK), -1);
	/* A missing input is the node's own problem. */
	unlink(in0);
	assert_int_equal(cc_steps_relay(outx, &ox, &bad, in0, 2000000,
	    f->trust, f->beta.signer, q, qid, 0, 1, rb, &d), CC_ERR_IO);
	assert_false(bad);
	/* An output that cannot be written too. */
	snprintf(outx, sizeof(outx), "%s/no-such-dir/outx.batch", f->dir);
	assert_int_equal(cc_steps_relay(outx, &ox, &bad, in1, 2000000,
	    f->trust, f->alpha.signer, q, qid, 1, 1, ra, &d), CC_ERR_IO);
	assert_false(bad);
	/* Hop 0 is no relay. */
	assert_int_equal(cc_steps_relay(outx, &ox, &bad, in1, 2000000,
	    f->trust, f->alpha.signer, q, qid, 1, 0, ra, &d),
	    CC_ERR_INVALID_ARGUMENT);

	cc_batch_free(a0);
	cc_batch_free(b0);
	cc_batch_free(a1);
	cc_batch_free(b1);
	cc_seal_key_free(y);
	cc_query_free(q);
}

/* An origin with nobody selected is still 64 dummies (SPEC 8.5). */
static void
test_origin_empty(void **state)
{
	struct fixture *f = *state;
	uint8_t qid[16] = { 1 }, r[32], ypub[32];
	struct cc_seal_key *y = NULL;
	struct cc_steps_output out;
	struct cc_batch *b = NULL;
	struct opened o;
	struct cc_query *q;
	char path[200];
	size_t n = 99;

	q = query("{\"title\":\"t\",\"period\":{\"from\":\"2025-01\","
	    "\"to\":\"2025-12\"},\"sets\":[{\"label\":\"A\",\"nodes\":"
	    "[\"alpha\"]}]}");
	cc_group_scalar_random(r);
	assert_int_equal(cc_seal_key_generate(&y), 0);
	cc_seal_key_public(y, ypub);
	snprintf(path, sizeof(path), "%s/empty.batch", f->dir);
	assert_int_equal(cc_steps_origin(path, &out, &n, f->alpha.st,
	    f->alpha.key, f->alpha.signer, q, qid, r, ypub, NULL), 0);
	assert_int_equal(n, 0);
	assert_int_equal(out.count, 64);
	assert_int_equal(cc_batch_read_file(&b, path, 64, NULL), 0);
	assert_int_equal(cc_batch_count(b), 64);
	assert_int_equal(cc_batch_nodes(b), 1);
	assert_int_equal(cc_sign_batch_verify(b, f->trust, "alpha", NULL), 0);
	open_final(b, y, q, &o);
	assert_int_equal(o.n, 0);
	cc_batch_free(b);
	unlink(path);
	/* A signer that is not in the query: nothing written. */
	assert_int_equal(cc_steps_origin(path, &out, &n, f->beta.st,
	    f->beta.key, f->beta.signer, q, qid, r, ypub, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(access(path, F_OK), -1);
	cc_seal_key_free(y);
	cc_query_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_select_period_and_categories,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_select_age_and_sex, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_select_count, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_select_refusals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_two_node_chains, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_origin_empty, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
