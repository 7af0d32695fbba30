/*
 * crosscount-synth: a synthetic region of children, the agency exports that
 * its nodes would import, and the ground truth of one query over them.
 *
 * Test data, never real people: the identities are well-formed (real
 * dates, correct Luhn check digits) but drawn at random.
 *
 * Realism (defaults; every rate has a flag, see usage()):
 *   - children aged 0-17 on 31 December of --year, cohort sizes roughly
 *     those of Sweden in the 2020s (older cohorts a little larger than the
 *     youngest), birth dates uniform within the birth year, 51.2 % boys,
 *     1.5 % samordningsnummer (birth day + 60);
 *   - the region has municipalities: the first holds most children, every
 *     further one --second-share as many as the first. A node of a sector
 *     with several nodes serves one municipality each (the second social
 *     services node "soc2" is the second municipality); a sector with one
 *     node serves everyone. 2 % of the children moved between
 *     municipalities during the two years exported;
 *   - school knows 98.5 % of the children aged 6-17 (category "inskriven",
 *     enrolled from the August of the year they turn six, 4 % changed
 *     school), "frånvaro" (long-term absence) for about 3 % of them, more
 *     among the older, "särskilt_stöd" for about 8 %, more among boys and
 *     the absent;
 *   - social services know about 5 % of all children, four times as many
 *     among the absent: chains of "orosanmälan" (a single day), then often
 *     "utredning" (at most four months), then "insats" or "placering";
 *   - BUP knows about 6 %, few under six, three times as many among those
 *     known to social services and among the absent: "remiss", then one to
 *     six "besök" (single days), often "behandling";
 *   - a node of sector "other" records "insats" for about 3 %;
 *   - episodes start and end across --year and the year before (school
 *     enrolments started earlier); an episode still running at the end of
 *     --year has no end date; a child can have several episodes.
 *
 * Every node's CSV export is written in one of three shapes:
 *   sv         "Personnummer;Kategori;Startdatum;Slutdatum;Enhet", ';',
 *              UTF-8 with a byte order mark, CRLF line ends;
 *   sv-cp1252  the same in Windows-1252 without a byte order mark;
 *   default    "personnummer,category,start_date,end_date,unit", ',',
 *              UTF-8, LF line ends.
 * Identities are written in mixed forms (YYYYMMDD-NNNC, YYYYMMDDNNNC,
 * YYMMDD-NNNC, YYMMDDNNNC). Ten-digit forms are used only for children
 * born before --year, so any import dated on or after 1 January of --year
 * gives them the right century (SPEC 4.1). Dates are YYYY-MM-DD.
 *
 * The ground truth (truth.json) follows SPEC 7.3 and is computed directly
 * from the generated episodes, independently of the protocol code it is
 * meant to check: a person is in a set if any node of the set holds an
 * episode of one of the set's categories (all if it names none) that
 * overlaps the period; age is the completed years on the last day of the
 * period's last month; with an age breakdown, persons in no band are not
 * counted at all. Its shape mirrors the released result of docs/api.md
 * ("labels", "cells", "set_totals", "combination_totals"), without
 * suppression.
 *
 * Deterministic: the same flags and --seed give byte-identical files. The
 * population and its episodes come from one xoshiro256** stream; the
 * written forms and the bad rows (--bad-rows) from two others, so asking
 * for bad rows or another shape changes neither the people nor the truth.
 * Memory is constant in the number of children (a bitmap of used
 * identities, 2 MB), so 200 000 children or more are fine.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "protocol/date.h"
#include "protocol/identity.h"
#include "protocol/limits.h"
#include "protocol/query.h"
#include "protocol/sector.h"

#define SYNTH_MAX_CHILDREN 1000000u
#define SYNTH_MAX_AGE 17
#define SYNTH_AGES (SYNTH_MAX_AGE + 1)
#define SYNTH_MAX_EPISODES 64
#define SYNTH_PATH_MAX 4096

/* ------------------------------------------------------------------------
 * PRNG: splitmix64 to seed, xoshiro256** to draw (test data, not crypto). */

struct prng {
	uint64_t s[4];
};

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void
prng_seed(struct prng *p, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ull);

	for (int i = 0; i < 4; i++)
		p->s[i] = splitmix64(&x);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
prng_next(struct prng *p)
{
	uint64_t *s = p->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in [0, n) without modulo bias; n > 0. */
static uint64_t
prng_below(struct prng *p, uint64_t n)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;

	do
		x = prng_next(p);
	while (x >= limit);
	return x % n;
}

/* Uniform in [lo, hi]; lo <= hi. */
static int
prng_range(struct prng *p, int lo, int hi)
{
	return lo + (int)prng_below(p, (uint64_t)(hi - lo) + 1);
}

/* Uniform in [0, 1). */
static double
prng_unit(struct prng *p)
{
	return (double)(prng_next(p) >> 11) * 0x1.0p-53;
}

static bool
prng_chance(struct prng *p, double probability)
{
	return prng_unit(p) < probability;
}

/* ------------------------------------------------------------------------
 * Days: a day number counts days since 1970-01-01 (proleptic Gregorian). */

static long
day_from_civil(int y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_day(long z, int *ret_y, int *ret_m, int *ret_d)
{
	long era, doe, yoe, doy, mp, y;
	int m, d;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = (int)(doy - (153 * mp + 2) / 5 + 1);
	m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*ret_y = (int)(y + (m <= 2));
	*ret_m = m;
	*ret_d = d;
}

static void
format_day(char out[11], long day)
{
	int y, m, d;

	civil_from_day(day, &y, &m, &d);
	snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

static bool
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/*
 * Completed years on day `on` for a birth date (SPEC 4.3). Someone born
 * on 29 February has the birthday on 28 February in a common year (lag
 * 1930:173, 2 §). Written here rather than taken from protocol/date.h on
 * purpose: the truth is an independent oracle for the code under test.
 */
static int
age_on(int by, int bm, int bd, long on)
{
	int y, m, d, age;

	civil_from_day(on, &y, &m, &d);
	if (bm == 2 && bd == 29 && !is_leap(y))
		bd = 28;
	age = y - by;
	if (m < bm || (m == bm && d < bd))
		age--;
	return age;
}

/* ------------------------------------------------------------------------
 * Sectors, categories, CSV shapes. */

/* An index into the tables below, in the order of protocol/sector.h. */
enum sector { SECTOR_SCHOOL, SECTOR_SOCIAL, SECTOR_HEALTH, SECTOR_OTHER, SECTOR_COUNT };
_Static_assert(CC_SECTOR_SCHOOL + SECTOR_OTHER == CC_SECTOR_OTHER &&
    CC_SECTOR_SCHOOL + SECTOR_SOCIAL == CC_SECTOR_SOCIAL &&
    CC_SECTOR_SCHOOL + SECTOR_HEALTH == CC_SECTOR_HEALTH,
    "synth's sector order is protocol/sector.h's");

static const char *
sector_name(enum sector s)
{
	return cc_sector_name((enum cc_sector)(CC_SECTOR_SCHOOL + (int)s));
}

/* Labels of the default query's sets. */
static const char *const sector_labels[SECTOR_COUNT] = {
	"skola", "socialtjänst", "bup", "övrigt",
};

enum category {
	CAT_INSKRIVEN, CAT_FRANVARO, CAT_SARSKILT_STOD,
	CAT_OROSANMALAN, CAT_UTREDNING, CAT_INSATS, CAT_PLACERING,
	CAT_REMISS, CAT_BESOK, CAT_BEHANDLING,
	CAT_COUNT,
};

static const char *const category_names[CAT_COUNT] = {
	"inskriven", "frånvaro", "särskilt_stöd",
	"orosanmälan", "utredning", "insats", "placering",
	"remiss", "besök", "behandling",
};

/* Which categories a sector records. */
static bool
sector_has_category(enum sector s, enum category c)
{
	switch (s) {
	case SECTOR_SCHOOL:
		return c == CAT_INSKRIVEN || c == CAT_FRANVARO || c == CAT_SARSKILT_STOD;
	case SECTOR_SOCIAL:
		return c == CAT_OROSANMALAN || c == CAT_UTREDNING ||
		    c == CAT_INSATS || c == CAT_PLACERING;
	case SECTOR_HEALTH:
		return c == CAT_REMISS || c == CAT_BESOK || c == CAT_BEHANDLING;
	case SECTOR_OTHER:
		return c == CAT_INSATS;
	case SECTOR_COUNT:
		break;
	}
	return false;
}

/* Unit names ("Enhet"); some need CSV quoting on purpose. */
static const char *const school_units[] = {
	"Ekbackens skola, F-6", "Björkängsskolan", "Västra skolan",
	"Resursskolan \"Lyan\"", "Tallbackens skola", "Älvgymnasiet",
	"Norrgårdens skola", "Solbergaskolan",
};
static const char *const social_units[] = {
	"IFO Barn och unga", "Mottagningsgruppen", "Familjebehandlarna",
	"Familjehemsenheten", "Utredningsgrupp 2; barn",
};
static const char *const health_units[] = {
	"BUP Öst", "BUP Väst", "BUP Intag", "Ätstörningsenheten",
};
static const char *const other_units[] = {
	"Fritidsgården", "Ungdomsmottagningen",
};

struct unit_list {
	const char *const *names;
	unsigned n;
};

static const struct unit_list sector_units[SECTOR_COUNT] = {
	{ school_units, sizeof(school_units) / sizeof(school_units[0]) },
	{ social_units, sizeof(social_units) / sizeof(social_units[0]) },
	{ health_units, sizeof(health_units) / sizeof(health_units[0]) },
	{ other_units, sizeof(other_units) / sizeof(other_units[0]) },
};

enum shape { SHAPE_SV, SHAPE_SV_CP1252, SHAPE_DEFAULT };

static const char *const shape_names[] = { "sv", "sv-cp1252", "default" };

static const char *const header_sv[5] = {
	"Personnummer", "Kategori", "Startdatum", "Slutdatum", "Enhet",
};
static const char *const header_default[5] = {
	"personnummer", "category", "start_date", "end_date", "unit",
};

struct node {
	char id[CC_LIMIT_NODE_ID + 1];
	enum sector sector;
	enum shape shape;
	unsigned municipality;   /* which municipality it serves in its sector */
	FILE *f;
	char path[SYNTH_PATH_MAX];
	uint64_t rows;
	uint64_t bad_rows;
	uint64_t children;       /* distinct children with at least one row */
	int set;                 /* index of the query set it is in, or -1 */
};

/* ------------------------------------------------------------------------
 * Options. */

struct options {
	const char *out;
	const char *query_path;
	uint64_t seed;
	unsigned children;
	int year;
	unsigned bad_rows;
	double school_rate;
	double absence_rate;
	double support_rate;
	double social_rate;
	double bup_rate;
	double other_rate;
	double samordning_rate;
	double move_rate;
	double second_share;
};

struct region {
	struct options opt;
	struct node nodes[CC_LIMIT_QUERY_NODES];
	size_t nnodes;
	/* Nodes of each sector, by municipality. */
	size_t nsector_nodes[SECTOR_COUNT];
	size_t sector_node[SECTOR_COUNT][CC_LIMIT_QUERY_NODES];
	unsigned municipalities;     /* the most nodes any sector has */
	long window_first;           /* 1 January of year - 1 */
	long window_last;            /* 31 December of year */
	long base_day;               /* 1 January of year - 17 */
	uint8_t *used;               /* identity bitmap */
	size_t used_bytes;
	/* Rates after normalisation for the correlations. */
	double p_absence_base;
	double p_support_base;
	double p_social_base;
	double p_bup_base;
};

/* ------------------------------------------------------------------------
 * The query (SPEC 7.1), read with the rules the truth depends on. */

struct tset {
	char label[CC_LIMIT_LABEL + 1];
	size_t nnodes;
	size_t node[CC_LIMIT_NODES_PER_SET];      /* indexes into region.nodes */
	bool any_category;
	bool category[CAT_COUNT];
};

struct tquery {
	json_t *doc;                /* as read, for query.json */
	size_t nsets;
	struct tset sets[CC_LIMIT_SETS];
	long first_day, last_day;   /* the period, both included */
	bool by_age, by_sex;
	size_t nbands;
	int band_lo[CC_LIMIT_AGE_BANDS], band_hi[CC_LIMIT_AGE_BANDS];
	size_t ncells;              /* breakdown cells: band major, sex minor */
	size_t nregions;            /* 2^nsets - 1 */
	uint64_t *count;            /* [region - 1][cell] */
	uint64_t counted;           /* persons counted in some region */
};

static void
fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
fail(const char *fmt, ...)
{
	va_list ap;

	fputs("crosscount-synth: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int
find_node(const struct region *rg, const char *id)
{
	for (size_t i = 0; i < rg->nnodes; i++)
		if (strcmp(rg->nodes[i].id, id) == 0)
			return (int)i;
	return -1;
}

static int
find_category(const char *name)
{
	for (int c = 0; c < CAT_COUNT; c++)
		if (strcmp(category_names[c], name) == 0)
			return c;
	return -1;
}

static bool
only_keys(const json_t *obj, const char *const *allowed, size_t nallowed,
    const char **ret_bad)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		bool ok = false;

		(void)v;
		for (size_t i = 0; i < nallowed; i++)
			if (strcmp(key, allowed[i]) == 0)
				ok = true;
		if (!ok) {
			*ret_bad = key;
			return false;
		}
	}
	return true;
}

/* "YYYY-MM" into year and month. */
static bool
parse_month(const json_t *v, int *ret_y, int *ret_m)
{
	const char *s;

	if (!json_is_string(v) || json_string_length(v) != 7)
		return false;
	s = json_string_value(v);
	for (int i = 0; i < 7; i++)
		if (i == 4 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return false;
	*ret_y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	*ret_m = (s[5] - '0') * 10 + (s[6] - '0');
	return *ret_y >= 1000 && *ret_m >= 1 && *ret_m <= 12;
}

static bool
json_small_int(const json_t *v, int lo, int hi, int *ret)
{
	json_int_t x;

	if (!json_is_integer(v))
		return false;
	x = json_integer_value(v);
	if (x < lo || x > hi)
		return false;
	*ret = (int)x;
	return true;
}

static void
query_read_set(struct region *rg, struct tquery *q, size_t i, const json_t *js)
{
	static const char *const keys[] = { "label", "nodes", "categories" };
	struct tset *set = &q->sets[i];
	const json_t *label, *nodes, *cats, *v;
	const char *bad;
	size_t k;

	if (!json_is_object(js))
		fail("query: sets[%zu] must be an object", i);
	if (!only_keys(js, keys, 3, &bad))
		fail("query: sets[%zu]: unknown field \"%s\"", i, bad);
	label = json_object_get(js, "label");
	if (!json_is_string(label) || json_string_length(label) < 1 ||
	    json_string_length(label) > CC_LIMIT_LABEL)
		fail("query: sets[%zu].label must be a string of 1 to %d bytes", i,
		    CC_LIMIT_LABEL);
	memcpy(set->label, json_string_value(label), json_string_length(label));
	set->label[json_string_length(label)] = '\0';
	for (size_t j = 0; j < i; j++)
		if (strcmp(q->sets[j].label, set->label) == 0)
			fail("query: sets[%zu].label repeats sets[%zu].label", i, j);

	nodes = json_object_get(js, "nodes");
	if (!json_is_array(nodes) || json_array_size(nodes) < 1 ||
	    json_array_size(nodes) > CC_LIMIT_NODES_PER_SET)
		fail("query: sets[%zu].nodes must be an array of 1 to %d node ids", i,
		    CC_LIMIT_NODES_PER_SET);
	json_array_foreach(nodes, k, v) {
		int n;

		if (!json_is_string(v) ||
		    !cc_query_node_id_valid(json_string_value(v), json_string_length(v)))
			fail("query: sets[%zu].nodes[%zu] is not a node id", i, k);
		n = find_node(rg, json_string_value(v));
		if (n < 0)
			fail("query: sets[%zu].nodes[%zu]: \"%s\" is not one of --nodes",
			    i, k, json_string_value(v));
		if (rg->nodes[n].set >= 0)
			fail("query: sets[%zu].nodes[%zu]: node \"%s\" is already in a set "
			    "(a node belongs to at most one set)", i, k, rg->nodes[n].id);
		rg->nodes[n].set = (int)i;
		set->node[set->nnodes++] = (size_t)n;
	}

	cats = json_object_get(js, "categories");
	set->any_category = cats == NULL;
	if (cats == NULL)
		return;
	if (!json_is_array(cats) || json_array_size(cats) < 1 ||
	    json_array_size(cats) > CC_LIMIT_CATEGORIES_PER_SET)
		fail("query: sets[%zu].categories must be an array of 1 to %d names",
		    i, CC_LIMIT_CATEGORIES_PER_SET);
	json_array_foreach(cats, k, v) {
		int c;
		bool produced = false;

		if (!json_is_string(v))
			fail("query: sets[%zu].categories[%zu] must be a string", i, k);
		c = find_category(json_string_value(v));
		if (c >= 0)
			for (size_t j = 0; j < set->nnodes; j++)
				if (sector_has_category(rg->nodes[set->node[j]].sector,
				    (enum category)c))
					produced = true;
		/* A typo would silently make the set empty: refuse it. */
		if (!produced)
			fail("query: sets[%zu].categories[%zu]: no node of the set "
			    "records \"%s\"", i, k, json_string_value(v));
		if (set->category[c])
			fail("query: sets[%zu].categories[%zu] repeats a category", i, k);
		set->category[c] = true;
	}
}

static void
query_read(struct region *rg, struct tquery *q, json_t *doc)
{
	static const char *const keys[] = {
		"title", "period", "sets", "breakdown", "age_bands", "min_cell",
	};
	static const char *const period_keys[] = { "from", "to" };
	const json_t *period, *sets, *breakdown, *bands, *v;
	const char *bad;
	int fy, fm, ty, tm, x;
	size_t k;

	q->doc = doc;
	if (!json_is_object(doc))
		fail("query: must be a JSON object");
	if (!only_keys(doc, keys, sizeof(keys) / sizeof(keys[0]), &bad))
		fail("query: unknown field \"%s\"", bad);
	v = json_object_get(doc, "title");
	if (v != NULL && !json_is_string(v))
		fail("query: title must be a string");
	v = json_object_get(doc, "min_cell");
	if (v != NULL && !json_small_int(v, 1, CC_LIMIT_MIN_CELL, &x))
		fail("query: min_cell must be a whole number from 1 to %d",
		    CC_LIMIT_MIN_CELL);

	period = json_object_get(doc, "period");
	if (!json_is_object(period) || !only_keys(period, period_keys, 2, &bad) ||
	    !parse_month(json_object_get(period, "from"), &fy, &fm) ||
	    !parse_month(json_object_get(period, "to"), &ty, &tm))
		fail("query: period must be {\"from\": \"YYYY-MM\", \"to\": \"YYYY-MM\"}");
	if (ty * 12 + tm < fy * 12 + fm ||
	    ty * 12 + tm - (fy * 12 + fm) + 1 > CC_LIMIT_PERIOD_MONTHS)
		fail("query: period.to must be from period.from to %d months later",
		    CC_LIMIT_PERIOD_MONTHS - 1);
	q->first_day = day_from_civil(fy, fm, 1);
	q->last_day = (tm == 12 ? day_from_civil(ty + 1, 1, 1) :
	    day_from_civil(ty, tm + 1, 1)) - 1;

	sets = json_object_get(doc, "sets");
	if (!json_is_array(sets) || json_array_size(sets) < 1 ||
	    json_array_size(sets) > CC_LIMIT_SETS)
		fail("query: sets must be an array of 1 to %d sets", CC_LIMIT_SETS);
	q->nsets = json_array_size(sets);
	json_array_foreach(sets, k, v)
		query_read_set(rg, q, k, v);

	breakdown = json_object_get(doc, "breakdown");
	if (breakdown != NULL) {
		if (!json_is_array(breakdown) || json_array_size(breakdown) > 2)
			fail("query: breakdown must be an array of \"age_band\" and \"sex\"");
		json_array_foreach(breakdown, k, v) {
			bool *flag;

			if (json_is_string(v) && strcmp(json_string_value(v), "age_band") == 0)
				flag = &q->by_age;
			else if (json_is_string(v) && strcmp(json_string_value(v), "sex") == 0)
				flag = &q->by_sex;
			else
				fail("query: breakdown[%zu] must be \"age_band\" or \"sex\"", k);
			if (*flag)
				fail("query: breakdown[%zu] repeats an entry", k);
			*flag = true;
		}
	}
	bands = json_object_get(doc, "age_bands");
	if (q->by_age != (bands != NULL))
		fail("query: age_bands is required with, and only with, "
		    "an \"age_band\" breakdown");
	if (bands != NULL) {
		if (!json_is_array(bands) || json_array_size(bands) < 1 ||
		    json_array_size(bands) > CC_LIMIT_AGE_BANDS)
			fail("query: age_bands must be an array of 1 to %d [lo, hi] pairs",
			    CC_LIMIT_AGE_BANDS);
		json_array_foreach(bands, k, v) {
			int lo, hi;

			if (!json_is_array(v) || json_array_size(v) != 2 ||
			    !json_small_int(json_array_get(v, 0), 0, CC_LIMIT_AGE, &lo) ||
			    !json_small_int(json_array_get(v, 1), lo, CC_LIMIT_AGE, &hi))
				fail("query: age_bands[%zu] must be [lo, hi] with "
				    "0 <= lo <= hi <= %d", k, CC_LIMIT_AGE);
			if (k > 0 && lo <= q->band_hi[k - 1])
				fail("query: age_bands[%zu] must start after the previous "
				    "band ends", k);
			q->band_lo[k] = lo;
			q->band_hi[k] = hi;
		}
		q->nbands = json_array_size(bands);
	}

	q->ncells = (q->by_age ? q->nbands : 1) * (q->by_sex ? 2 : 1);
	q->nregions = ((size_t)1 << q->nsets) - 1;
	if (q->ncells * q->nregions > CC_LIMIT_TABLE_CELLS)
		fail("query: %zu regions x %zu cells is over %d", q->nregions,
		    q->ncells, CC_LIMIT_TABLE_CELLS);
	q->count = calloc(q->ncells * q->nregions, sizeof(*q->count));
	if (q->count == NULL)
		fail("out of memory");
}

/*
 * The truth is only worth having for a query the system itself accepts:
 * run the protocol's validator (SPEC 7.2) too, and check that it reads
 * the shape the same way.
 */
static void
query_check_protocol(const struct tquery *q)
{
	struct cc_query *pq = NULL;
	struct cc_diag diag = { { 0 } };

	if (cc_query_from_json(&pq, q->doc, &diag) != 0)
		fail("query: not valid by SPEC 7.2: %s", diag.text);
	if (pq->nsets != q->nsets || pq->by_age_band != q->by_age ||
	    pq->by_sex != q->by_sex || pq->nbands != q->nbands ||
	    cc_query_cells(pq) != q->ncells || cc_query_regions(pq) != q->nregions)
		fail("internal: the query reads differently here and in protocol/query");
	cc_query_free(pq);
}

/* The query used when --query is not given: one set per sector, the year. */
static json_t *
default_query(const struct region *rg)
{
	json_t *doc, *sets, *bands;
	char from[8], to[8], title[128];

	snprintf(from, sizeof(from), "%04d-01", rg->opt.year);
	snprintf(to, sizeof(to), "%04d-12", rg->opt.year);
	snprintf(title, sizeof(title), "Syntetisk region %d: barn kända av flera sektorer",
	    rg->opt.year);
	sets = json_array();
	for (int s = 0; s < SECTOR_COUNT; s++) {
		json_t *nodes;

		if (rg->nsector_nodes[s] == 0)
			continue;
		nodes = json_array();
		for (size_t i = 0; i < rg->nnodes; i++)
			if (rg->nodes[i].sector == (enum sector)s)
				json_array_append_new(nodes, json_string(rg->nodes[i].id));
		json_array_append_new(sets, json_pack("{s:s, s:o}",
		    "label", sector_labels[s], "nodes", nodes));
	}
	bands = json_pack("[[i,i],[i,i],[i,i]]", 0, 5, 6, 12, 13, 17);
	doc = json_pack("{s:s, s:{s:s, s:s}, s:o, s:[s,s], s:o, s:i}",
	    "title", title, "period", "from", from, "to", to, "sets", sets,
	    "breakdown", "age_band", "sex", "age_bands", bands, "min_cell", 5);
	if (doc == NULL)
		fail("out of memory");
	return doc;
}

/* ------------------------------------------------------------------------
 * People and their episodes. */

struct episode {
	unsigned node;
	enum category cat;
	long start;
	long end;        /* -1: still open */
	unsigned unit;
};

struct person {
	int by, bm, bd;              /* birth date (the real day) */
	bool male;
	bool samordning;
	unsigned nnn;                /* birth number, 000..999 */
	char canonical[13];          /* YYYYMMDDNNNC, day + 60 if samordning */
	int age;                     /* on 31 December of year */
	unsigned municipality;
	unsigned prev_municipality;  /* == municipality if not moved */
	long move_day;               /* first day in the new municipality */
	size_t nepisodes;
	struct episode ep[SYNTH_MAX_EPISODES];
};

/* Cohort sizes by age on 31 December (roughly Sweden in the 2020s,
 * thousands): smaller recent birth cohorts, migration adds to the older. */
static const unsigned age_weight[SYNTH_AGES] = {
	98, 100, 104, 104, 114, 115, 116, 118, 120,
	119, 119, 118, 117, 118, 120, 121, 121, 120,
};

/* Long-term absence grows with age. */
static double
absence_age_factor(int age)
{
	return age <= 9 ? 0.4 : age <= 12 ? 1.0 : 1.6;
}

/* BUP: few young children, most teenagers. */
static double
bup_age_factor(int age)
{
	return age <= 5 ? 0.15 : age <= 12 ? 0.9 : 1.6;
}

/* The Luhn check digit over the nine digits YYMMDDNNN (SPEC 4.1). */
static int
luhn_digit(const char nine[9])
{
	unsigned sum = 0;

	for (size_t i = 0; i < 9; i++) {
		unsigned d = (unsigned)(nine[i] - '0');

		if (i % 2 == 0) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return (int)((10 - sum % 10) % 10);
}

static void
make_canonical(char out[13], int y, int m, int d, unsigned nnn)
{
	snprintf(out, 13, "%04d%02d%02d%03u", y, m, d, nnn);
	out[11] = (char)('0' + luhn_digit(out + 2));
	out[12] = '\0';
}

static unsigned
pick_weighted_municipality(struct region *rg, struct prng *p)
{
	double total = 1.0 + rg->opt.second_share * (rg->municipalities - 1);
	double u = prng_unit(p) * total;

	if (u < 1.0 || rg->municipalities == 1)
		return 0;
	return 1 + (unsigned)((u - 1.0) / rg->opt.second_share) %
	    (rg->municipalities - 1);
}

/* The node of a sector serving municipality m (a sector with fewer nodes
 * than municipalities gives the rest to its last node). */
static int
sector_node_for(const struct region *rg, enum sector s, unsigned m)
{
	size_t n = rg->nsector_nodes[s];

	if (n == 0)
		return -1;
	return (int)rg->sector_node[s][m < n ? m : n - 1];
}

static unsigned
municipality_on(const struct person *pe, long day)
{
	return day < pe->move_day ? pe->prev_municipality : pe->municipality;
}

/*
 * Record an episode at the sector's node for the municipality the child
 * lived in when it started. Episodes wholly outside the exported window
 * are not exported; one still running at its end is open.
 */
static void
add_episode(struct region *rg, struct person *pe, enum sector s,
    enum category cat, long start, long end, unsigned unit)
{
	struct episode *e;
	int node = sector_node_for(rg, s, municipality_on(pe, start));

	if (node < 0 || start > rg->window_last)
		return;
	if (end >= 0 && end < rg->window_first)
		return;
	if (end > rg->window_last)
		end = -1;
	if (pe->nepisodes == SYNTH_MAX_EPISODES)
		return;
	e = &pe->ep[pe->nepisodes++];
	e->node = (unsigned)node;
	e->cat = cat;
	e->start = start;
	e->end = end;
	e->unit = unit;
}

static void
new_person(struct region *rg, struct prng *p, struct person *pe)
{
	unsigned total = 0, x;
	int age = 0;
	long birth, year_first;

	memset(pe, 0, sizeof(*pe));
	for (int a = 0; a < SYNTH_AGES; a++)
		total += age_weight[a];
	x = (unsigned)prng_below(p, total);
	while (x >= age_weight[age]) {
		x -= age_weight[age];
		age++;
	}
	pe->age = age;
	pe->by = rg->opt.year - age;
	year_first = day_from_civil(pe->by, 1, 1);
	birth = year_first + prng_range(p, 0,
	    (int)(day_from_civil(pe->by + 1, 1, 1) - year_first - 1));
	civil_from_day(birth, &pe->by, &pe->bm, &pe->bd);
	pe->male = prng_chance(p, 0.512);
	pe->samordning = prng_chance(p, rg->opt.samordning_rate);

	/*
	 * A birth number not yet used on that date: two random digits, then
	 * the sex digit (odd for boys). The bitmap is indexed by day since
	 * base_day, kind and number.
	 */
	for (int tries = 0;; tries++) {
		unsigned nnn = (unsigned)prng_below(p, 100) * 10 +
		    (unsigned)prng_below(p, 5) * 2 + (pe->male ? 1 : 0);
		size_t bit = ((size_t)(birth - rg->base_day) * 2 +
		    (pe->samordning ? 1 : 0)) * 1000 + nnn;

		if (bit / 8 >= rg->used_bytes)
			fail("internal: identity bitmap index out of range");
		if ((rg->used[bit / 8] & (1u << (bit % 8))) == 0) {
			rg->used[bit / 8] |= (uint8_t)(1u << (bit % 8));
			pe->nnn = nnn;
			break;
		}
		if (tries > 100000)
			fail("cannot find a free identity: too many children");
	}
	make_canonical(pe->canonical, pe->by, pe->bm,
	    pe->bd + (pe->samordning ? 60 : 0), pe->nnn);

	pe->municipality = pick_weighted_municipality(rg, p);
	pe->prev_municipality = pe->municipality;
	pe->move_day = LONG_MIN;
	if (rg->municipalities > 1 && prng_chance(p, rg->opt.move_rate)) {
		long earliest = birth > rg->window_first ? birth + 1 : rg->window_first;

		if (earliest <= rg->window_last) {
			pe->prev_municipality = (pe->municipality + 1 +
			    (unsigned)prng_below(p, rg->municipalities - 1)) %
			    rg->municipalities;
			pe->move_day = earliest + prng_range(p, 0,
			    (int)(rg->window_last - earliest));
		}
	}
}

/* A start day uniform in [lo, window_last], or -1 if lo is after it. */
static long
day_from(struct region *rg, struct prng *p, long lo)
{
	if (lo > rg->window_last)
		return -1;
	return lo + prng_range(p, 0, (int)(rg->window_last - lo));
}

static void
school_episodes(struct region *rg, struct prng *p, struct person *pe,
    bool *ret_absent)
{
	const struct unit_list *u = &sector_units[SECTOR_SCHOOL];
	long enrol = day_from_civil(pe->by + 6, 8, prng_range(p, 15, 25));
	unsigned unit = (unsigned)prng_below(p, u->n);
	long change_lo = enrol + 30 > rg->window_first ? enrol + 30 : rg->window_first;
	long in_school = enrol > rg->window_first ? enrol : rg->window_first;
	double pa, ps;

	*ret_absent = false;
	if (pe->age < 6 || !prng_chance(p, rg->opt.school_rate))
		return;

	if (pe->move_day > enrol) {
		/* Moved: enrolled in the old municipality, then the new. */
		add_episode(rg, pe, SECTOR_SCHOOL, CAT_INSKRIVEN, enrol,
		    pe->move_day - 1, unit);
		add_episode(rg, pe, SECTOR_SCHOOL, CAT_INSKRIVEN, pe->move_day, -1,
		    (unit + 1 + (unsigned)prng_below(p, u->n - 1)) % u->n);
	} else if (prng_chance(p, 0.04) && change_lo <= rg->window_last) {
		/* Changed school within the municipality. */
		long change = day_from(rg, p, change_lo);

		add_episode(rg, pe, SECTOR_SCHOOL, CAT_INSKRIVEN, enrol, change - 1,
		    unit);
		add_episode(rg, pe, SECTOR_SCHOOL, CAT_INSKRIVEN, change, -1,
		    (unit + 1 + (unsigned)prng_below(p, u->n - 1)) % u->n);
	} else {
		add_episode(rg, pe, SECTOR_SCHOOL, CAT_INSKRIVEN, enrol, -1, unit);
	}

	pa = rg->p_absence_base * absence_age_factor(pe->age);
	if (prng_chance(p, pa) && in_school <= rg->window_last) {
		int n = 1 + prng_chance(p, 0.3);

		*ret_absent = true;
		for (int i = 0; i < n; i++) {
			long s = day_from(rg, p, in_school);

			add_episode(rg, pe, SECTOR_SCHOOL, CAT_FRANVARO, s,
			    s + prng_range(p, 30, 240), unit);
		}
	}
	ps = rg->p_support_base * (pe->male ? 1.25 : 0.75) * (*ret_absent ? 2.0 : 1.0);
	if (prng_chance(p, ps)) {
		long lo = enrol > rg->window_first - 365 ? enrol : rg->window_first - 365;
		long s = day_from(rg, p, lo);

		if (s >= 0)
			add_episode(rg, pe, SECTOR_SCHOOL, CAT_SARSKILT_STOD, s,
			    s + prng_range(p, 120, 540), unit);
	}
}

static bool
social_episodes(struct region *rg, struct prng *p, struct person *pe,
    long birth, bool absent)
{
	double ps = rg->p_social_base * (absent ? 4.0 : 1.0);
	long lo = birth > rg->window_first ? birth : rg->window_first;
	int chains;

	if (ps > 0.9)
		ps = 0.9;
	if (!prng_chance(p, ps) || lo > rg->window_last)
		return false;
	chains = 1 + prng_chance(p, 0.3) + prng_chance(p, 0.1);
	for (int c = 0; c < chains; c++) {
		long d = day_from(rg, p, lo), us, ue;

		add_episode(rg, pe, SECTOR_SOCIAL, CAT_OROSANMALAN, d, d, 0);
		if (!prng_chance(p, 0.65))
			continue;
		us = d + prng_range(p, 0, 14);
		ue = us + prng_range(p, 30, 120);
		add_episode(rg, pe, SECTOR_SOCIAL, CAT_UTREDNING, us, ue, 1);
		if (prng_chance(p, 0.5)) {
			long s = ue + prng_range(p, 0, 30);

			add_episode(rg, pe, SECTOR_SOCIAL, CAT_INSATS, s,
			    s + prng_range(p, 60, 365), prng_chance(p, 0.8) ? 2 : 4);
		}
		if (prng_chance(p, 0.15)) {
			long s = ue + prng_range(p, 0, 60);

			add_episode(rg, pe, SECTOR_SOCIAL, CAT_PLACERING, s,
			    s + prng_range(p, 90, 720), 3);
		}
	}
	return true;
}

static void
bup_episodes(struct region *rg, struct prng *p, struct person *pe, long birth,
    bool social, bool absent)
{
	double pb = rg->p_bup_base * bup_age_factor(pe->age) *
	    (social ? 3.0 : 1.0) * (absent ? 3.0 : 1.0);
	long lo = birth > rg->window_first ? birth : rg->window_first;
	long d, visit;
	unsigned unit;
	int visits;

	if (pb > 0.9)
		pb = 0.9;
	if (!prng_chance(p, pb) || lo > rg->window_last)
		return;
	unit = (unsigned)prng_below(p, sector_units[SECTOR_HEALTH].n);
	d = day_from(rg, p, lo);
	add_episode(rg, pe, SECTOR_HEALTH, CAT_REMISS, d, d, 2);
	if (!prng_chance(p, 0.85))
		return;                 /* referral not accepted */
	visits = prng_range(p, 1, 6);
	visit = d + prng_range(p, 14, 90);
	for (int i = 0; i < visits; i++) {
		add_episode(rg, pe, SECTOR_HEALTH, CAT_BESOK, visit, visit, unit);
		if (i == 0 && prng_chance(p, 0.5)) {
			long s = visit + prng_range(p, 7, 45);

			add_episode(rg, pe, SECTOR_HEALTH, CAT_BEHANDLING, s,
			    s + prng_range(p, 60, 400), unit);
		}
		visit += prng_range(p, 7, 60);
	}
}

static void
other_episodes(struct region *rg, struct prng *p, struct person *pe, long birth)
{
	long lo = birth > rg->window_first ? birth : rg->window_first;
	long s;

	if (!prng_chance(p, rg->opt.other_rate) || lo > rg->window_last)
		return;
	s = day_from(rg, p, lo);
	add_episode(rg, pe, SECTOR_OTHER, CAT_INSATS, s, s + prng_range(p, 30, 300),
	    (unsigned)prng_below(p, sector_units[SECTOR_OTHER].n));
}

static void
generate_person(struct region *rg, struct prng *p, struct person *pe)
{
	long birth;
	bool absent, social;

	new_person(rg, p, pe);
	birth = day_from_civil(pe->by, pe->bm, pe->bd);
	school_episodes(rg, p, pe, &absent);
	social = social_episodes(rg, p, pe, birth, absent);
	bup_episodes(rg, p, pe, birth, social, absent);
	other_episodes(rg, p, pe, birth);
}

/* ------------------------------------------------------------------------
 * Ground truth (SPEC 7.3). */

static void
truth_add(const struct region *rg, struct tquery *q, const struct person *pe)
{
	unsigned region = 0;
	int age, band = 0;
	size_t cell;

	for (size_t i = 0; i < pe->nepisodes; i++) {
		const struct episode *e = &pe->ep[i];
		int s = rg->nodes[e->node].set;

		if (s < 0)
			continue;
		if (!q->sets[s].any_category && !q->sets[s].category[e->cat])
			continue;
		/* Overlap: starts by the last day, not ended before the first. */
		if (e->start > q->last_day || (e->end >= 0 && e->end < q->first_day))
			continue;
		region |= 1u << s;
	}
	if (region == 0)
		return;
	if (q->by_age) {
		age = age_on(pe->by, pe->bm, pe->bd, q->last_day);
		band = -1;
		for (size_t b = 0; b < q->nbands; b++)
			if (age >= q->band_lo[b] && age <= q->band_hi[b])
				band = (int)b;
		if (band < 0)
			return;         /* in no band: not counted at all */
	}
	cell = (size_t)band * (q->by_sex ? 2 : 1) + (q->by_sex && pe->male ? 1 : 0);
	q->count[(region - 1) * q->ncells + cell]++;
	q->counted++;
}

static json_t *
combination_json(const struct tquery *q, size_t region)
{
	json_t *a = json_array();

	for (size_t s = 0; s < q->nsets; s++)
		if (region & ((size_t)1 << s))
			json_array_append_new(a, json_string(q->sets[s].label));
	return a;
}

static void
band_label(char out[16], const struct tquery *q, size_t b)
{
	snprintf(out, 16, "%d-%d", q->band_lo[b], q->band_hi[b]);
}

static json_t *
truth_json(const struct region *rg, const struct tquery *q)
{
	json_t *root = json_object(), *labels = json_array(), *cells = json_array();
	json_t *totals = json_array(), *ctotals = json_array(), *bd = json_array();
	json_t *gen;
	char label[16];

	json_object_set(root, "title", json_object_get(q->doc, "title") ?
	    json_object_get(q->doc, "title") : json_null());
	for (size_t s = 0; s < q->nsets; s++)
		json_array_append_new(labels, json_string(q->sets[s].label));
	json_object_set_new(root, "labels", labels);
	if (q->by_age)
		json_array_append_new(bd, json_string("age_band"));
	if (q->by_sex)
		json_array_append_new(bd, json_string("sex"));
	json_object_set_new(root, "breakdown", bd);
	if (q->by_age) {
		json_t *bands = json_array();

		for (size_t b = 0; b < q->nbands; b++) {
			band_label(label, q, b);
			json_array_append_new(bands, json_string(label));
		}
		json_object_set_new(root, "age_bands", bands);
	}
	json_object_set(root, "period", json_object_get(q->doc, "period"));

	for (size_t r = 1; r <= q->nregions; r++) {
		uint64_t sum = 0;

		for (size_t c = 0; c < q->ncells; c++) {
			json_t *cell = json_object();
			uint64_t n = q->count[(r - 1) * q->ncells + c];

			json_object_set_new(cell, "combination", combination_json(q, r));
			if (q->by_age) {
				band_label(label, q, c / (q->by_sex ? 2 : 1));
				json_object_set_new(cell, "age_band", json_string(label));
			}
			if (q->by_sex)
				json_object_set_new(cell, "sex", json_string(c % 2 ? "M" : "F"));
			json_object_set_new(cell, "count", json_integer((json_int_t)n));
			json_array_append_new(cells, cell);
			sum += n;
		}
		json_array_append_new(ctotals, json_pack("{s:o, s:I}", "combination",
		    combination_json(q, r), "count", (json_int_t)sum));
	}
	json_object_set_new(root, "cells", cells);

	for (size_t s = 0; s < q->nsets; s++) {
		uint64_t n = 0;

		for (size_t r = 1; r <= q->nregions; r++)
			if (r & ((size_t)1 << s))
				for (size_t c = 0; c < q->ncells; c++)
					n += q->count[(r - 1) * q->ncells + c];
		json_array_append_new(totals, json_pack("{s:s, s:I}", "set",
		    q->sets[s].label, "count", (json_int_t)n));
	}
	json_object_set_new(root, "set_totals", totals);
	json_object_set_new(root, "combination_totals", ctotals);
	json_object_set_new(root, "counted", json_integer((json_int_t)q->counted));

	gen = json_pack("{s:s, s:I, s:i, s:i, s:i}", "generator", "crosscount-synth",
	    "seed", (json_int_t)rg->opt.seed, "year", rg->opt.year,
	    "children", (int)rg->opt.children, "bad_rows", (int)rg->opt.bad_rows);
	json_object_set_new(root, "synthetic", gen);
	if (json_object_size(root) == 0 || gen == NULL)
		fail("out of memory");
	return root;
}

/* ------------------------------------------------------------------------
 * Writing the exports. */

/*
 * Write s, converting UTF-8 to Windows-1252 for that shape (only the
 * letters U+00C0..U+00FF occur in our text: lead byte 0xC3), and doubling
 * quotes inside a quoted field.
 */
static void
put_text(FILE *f, const char *s, enum shape shape, bool quoted)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (shape == SHAPE_SV_CP1252 && *p == 0xC3 && p[1] >= 0x80 && p[1] <= 0xBF) {
			fputc(p[1] + 0x40, f);
			p++;
			continue;
		}
		if (quoted && *p == '"')
			fputc('"', f);
		fputc(*p, f);
	}
}

static void
put_field(FILE *f, const char *s, char delim, enum shape shape)
{
	bool quote = strchr(s, delim) != NULL || strchr(s, '"') != NULL ||
	    strpbrk(s, "\r\n") != NULL;

	if (quote)
		fputc('"', f);
	put_text(f, s, shape, quote);
	if (quote)
		fputc('"', f);
}

static void
put_row(struct node *n, const char *const fields[5])
{
	char delim = n->shape == SHAPE_DEFAULT ? ',' : ';';

	for (int i = 0; i < 5; i++) {
		if (i > 0)
			fputc(delim, n->f);
		put_field(n->f, fields[i], delim, n->shape);
	}
	fputs(n->shape == SHAPE_DEFAULT ? "\n" : "\r\n", n->f);
}

/*
 * A written form of the canonical identity (SPEC 4.1). Ten-digit forms
 * only for those born before the year (see the top of this file).
 */
static void
written_form(char out[CC_LIMIT_IDENTITY_TEXT], const struct region *rg,
    const struct person *pe, enum shape shape, struct prng *forms)
{
	const char *c = pe->canonical;
	unsigned u = (unsigned)prng_below(forms, 100);
	bool ten_ok = pe->by < rg->opt.year;
	/* sv exports mostly hyphenated, default ones mostly plain 12 digits. */
	unsigned w12h = shape == SHAPE_DEFAULT ? 20 : 55;
	unsigned w12 = shape == SHAPE_DEFAULT ? 65 : 20;
	unsigned w10h = shape == SHAPE_DEFAULT ? 10 : 15;   /* the rest: ten plain */

	if (u < w12h || (!ten_ok && u >= w12h + w12))
		snprintf(out, CC_LIMIT_IDENTITY_TEXT, "%.8s-%.4s", c, c + 8);
	else if (u < w12h + w12)
		snprintf(out, CC_LIMIT_IDENTITY_TEXT, "%.12s", c);
	else if (u < w12h + w12 + w10h)
		snprintf(out, CC_LIMIT_IDENTITY_TEXT, "%.6s-%.4s", c + 2, c + 8);
	else
		snprintf(out, CC_LIMIT_IDENTITY_TEXT, "%.10s", c + 2);
}

/*
 * Self-check against the protocol's parser: every identity written must
 * parse to the person it was made for, on the earliest import date the
 * files are meant for (1 January after the year: everyone born by then).
 */
static void
self_check(const struct region *rg, const struct person *pe, const char *text)
{
	struct cc_date ref = { rg->opt.year + 1, 1, 1 };
	struct cc_identity id;
	struct cc_diag diag = { { 0 } };
	bool ok;

	ok = cc_identity_parse(&id, text, strlen(text), &ref, &diag) == 0 &&
	    strcmp(id.canonical, pe->canonical) == 0 &&
	    id.birth_year == pe->by && id.birth_month == pe->bm &&
	    id.birth_day == pe->bd &&
	    id.sex == (pe->male ? CC_SEX_MALE : CC_SEX_FEMALE) &&
	    id.kind == (pe->samordning ? CC_ID_SAMORDNINGSNUMMER : CC_ID_PERSONNUMMER);
	cc_identity_wipe(&id);
	if (!ok)
		fail("internal: a generated identity does not parse as intended (%s)",
		    diag.text[0] != '\0' ? diag.text : "different fields");
}

static void
write_episode(struct region *rg, const struct person *pe,
    const struct episode *e, struct prng *forms)
{
	struct node *n = &rg->nodes[e->node];
	const struct unit_list *u = &sector_units[n->sector];
	char id[CC_LIMIT_IDENTITY_TEXT], start[11], end[11] = "";
	const char *fields[5];

	written_form(id, rg, pe, n->shape, forms);
	self_check(rg, pe, id);
	format_day(start, e->start);
	if (e->end >= 0)
		format_day(end, e->end);
	fields[0] = id;
	fields[1] = category_names[e->cat];
	fields[2] = start;
	fields[3] = end;
	fields[4] = u->names[e->unit % u->n];
	put_row(n, fields);
	n->rows++;
}

/*
 * A row every import must reject, of the kind agency exports do contain.
 * None of them can become an episode, so the truth is unaffected.
 */
static void
write_bad_row(struct region *rg, struct node *n, const struct person *pe,
    struct prng *bad, uint64_t k)
{
	char id[CC_LIMIT_IDENTITY_TEXT] = "", start[11];
	const char *fields[5];
	struct cc_date ref = { rg->opt.year + 1, 1, 1 };
	struct cc_identity parsed;
	struct cc_diag diag;
	enum category cat = CAT_COUNT;
	bool id_must_fail = true;

	for (int c = 0; c < CAT_COUNT; c++)
		if (sector_has_category(n->sector, (enum category)c)) {
			cat = (enum category)c;
			break;
		}
	format_day(start, day_from(rg, bad, rg->window_first));
	switch (k % 6) {
	case 0: {       /* a real child's number with a wrong check digit */
		char c = pe->canonical[11];

		snprintf(id, sizeof(id), "%.8s-%.3s%c", pe->canonical,
		    pe->canonical + 8, (char)('0' + (c - '0' + 1 +
		    (int)prng_below(bad, 9)) % 10));
		break;
	}
	case 1: {       /* month 13, correct check digit */
		char nine[16];   /* nine digits; room for the compiler's worst case */

		snprintf(nine, sizeof(nine), "%02u13%02u%03u",
		    (unsigned)(rg->opt.year - 10) % 100u,
		    (unsigned)prng_range(bad, 1, 28) % 100u,
		    (unsigned)prng_below(bad, 1000) % 1000u);
		snprintf(id, sizeof(id), "%d%.2s%.4s-%.3s%d", (rg->opt.year - 10) / 100,
		    nine, nine + 2, nine + 6, luhn_digit(nine));
		break;
	}
	case 2: {       /* 30 February, correct check digit */
		char nine[16];   /* nine digits; room for the compiler's worst case */

		snprintf(nine, sizeof(nine), "%02u0230%03u",
		    (unsigned)(rg->opt.year - 8) % 100u,
		    (unsigned)prng_below(bad, 1000) % 1000u);
		snprintf(id, sizeof(id), "%d%.6s-%.3s%d", (rg->opt.year - 8) / 100,
		    nine, nine + 6, luhn_digit(nine));
		break;
	}
	case 3:         /* empty */
		break;
	case 4:         /* not a number */
		snprintf(id, sizeof(id), "%s", "saknas");
		break;
	default:        /* a good identity but an impossible start date */
		snprintf(id, sizeof(id), "%.8s-%.4s", pe->canonical, pe->canonical + 8);
		snprintf(start, sizeof(start), "%04d-02-30", rg->opt.year);
		id_must_fail = false;
		break;
	}
	if (id_must_fail && id[0] != '\0') {
		memset(&diag, 0, sizeof(diag));
		if (cc_identity_parse(&parsed, id, strlen(id), &ref, &diag) == 0) {
			cc_identity_wipe(&parsed);
			fail("internal: a bad row's identity parses");
		}
	}
	fields[0] = id;
	fields[1] = category_names[cat];
	fields[2] = start;
	fields[3] = "";
	fields[4] = sector_units[n->sector].names[0];
	put_row(n, fields);
	n->rows++;
	n->bad_rows++;
}

/* ------------------------------------------------------------------------
 * Command line. */

static void
usage(FILE *f)
{
	fputs(
"usage: crosscount-synth --out DIR [options]\n"
"\n"
"Writes a synthetic region of children: one CSV export per node\n"
"(DIR/<node>.csv), DIR/manifest.json (how each export is shaped), the\n"
"query used (DIR/query.json) and its exact ground truth (DIR/truth.json).\n"
"Test data only: identities are valid in form but random.\n"
"\n"
"  --out DIR            output directory (created if missing; files replaced)\n"
"  --seed N             PRNG seed (default 1); the same flags and seed give\n"
"                       byte-identical output\n"
"  --children N         children in the region, 1..1000000 (default 20000)\n"
"  --year YYYY          the year the children's ages refer to and that the\n"
"                       default query covers (default 2025); exports cover\n"
"                       that year and the one before\n"
"  --nodes LIST         id:sector[:shape],... (default\n"
"                       skola:school,soc:social,soc2:social,bup:health);\n"
"                       sectors school|social|health|other, shapes\n"
"                       sv|sv-cp1252|default (default: sv for the first\n"
"                       school and social node, else default)\n"
"  --query FILE         query JSON (SPEC 7.1) to compute the truth for;\n"
"                       default: one set per sector over --year by age band\n"
"                       [[0,5],[6,12],[13,17]] and sex\n"
"  --bad-rows N         add N rows per node that an import must reject\n"
"                       (bad check digit, month 13, 30 February, empty,\n"
"                       not a number, impossible start date); default 0\n"
"\n"
"Realism (probabilities 0..1, defaults in brackets):\n"
"  children 0-17 with cohort sizes roughly those of Sweden in the 2020s,\n"
"  51.2 % boys; school nodes know children 6-17 from the August they turn\n"
"  six; a sector with several nodes splits the children by municipality;\n"
"  episodes span --year and the year before; a child may have several.\n"
"  --school-rate P      share of 6-17 year olds known to school [0.985]\n"
"  --absence-rate P     long-term absence among pupils, more among the\n"
"                       older [0.03]\n"
"  --support-rate P     särskilt_stöd among pupils, more among boys and\n"
"                       the absent [0.08]\n"
"  --social-rate P      children known to social services, x4 among the\n"
"                       absent [0.05]\n"
"  --bup-rate P         children known to BUP, few under six, x3 among\n"
"                       those known to social services and the absent [0.06]\n"
"  --other-rate P       children with insats at an \"other\" node [0.03]\n"
"  --samordning-rate P  samordningsnummer instead of personnummer [0.015]\n"
"  --move-rate P        children who moved between municipalities [0.02]\n"
"  --second-share P     size of each further municipality relative to the\n"
"                       first [0.3]\n"
"\n"
"Export shapes: sv = Personnummer;Kategori;Startdatum;Slutdatum;Enhet\n"
"(UTF-8 with BOM, CRLF); sv-cp1252 = the same in Windows-1252; default =\n"
"personnummer,category,start_date,end_date,unit (UTF-8, LF). Identities in\n"
"mixed written forms; ten-digit forms only for children born before --year,\n"
"so import on or after 1 January of --year.\n"
"\n"
"Categories: school inskriven, frånvaro, särskilt_stöd; social orosanmälan,\n"
"utredning, insats, placering; health remiss, besök, behandling; other insats.\n"
"\n"
"The truth follows SPEC 7.3 and mirrors the released result (docs/api.md):\n"
"every Venn region in every breakdown cell, zeros included, set totals and\n"
"combination totals, without suppression.\n", f);
}

static uint64_t
parse_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (s[0] < '0' || s[0] > '9')
		fail("%s: not a whole number: \"%s\"", opt, s);
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		fail("%s must be a whole number from %" PRIu64 " to %" PRIu64 ", not \"%s\"",
		    opt, lo, hi, s);
	return v;
}

static double
parse_probability(const char *opt, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.0 && v <= 1.0))
		fail("%s must be a number from 0 to 1, not \"%s\"", opt, s);
	return v;
}

static void
parse_nodes(struct region *rg, const char *list)
{
	const char *p = list;

	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		char item[128], *sector, *shape;
		struct node *n;
		enum cc_sector cs;
		int s;

		if (len == 0 || len >= sizeof(item))
			fail("--nodes: empty or overlong entry in \"%s\"", list);
		memcpy(item, p, len);
		item[len] = '\0';
		sector = strchr(item, ':');
		if (sector == NULL)
			fail("--nodes: \"%s\" must be id:sector[:shape]", item);
		*sector++ = '\0';
		shape = strchr(sector, ':');
		if (shape != NULL)
			*shape++ = '\0';
		if (!cc_query_node_id_valid(item, strlen(item)))
			fail("--nodes: \"%s\" is not a node id ([a-z0-9-]{1,32})", item);
		if (find_node(rg, item) >= 0)
			fail("--nodes: \"%s\" appears twice", item);
		if (rg->nnodes == CC_LIMIT_QUERY_NODES)
			fail("--nodes: at most %d nodes", CC_LIMIT_QUERY_NODES);
		if (cc_sector_check(sector) != 0 || cc_sector_parse(&cs, sector) != 0)
			fail("--nodes: sector \"%s\" is not school, social, health or other",
			    sector);
		n = &rg->nodes[rg->nnodes];
		memset(n, 0, sizeof(*n));
		/* cc_query_node_id_valid() above bounds the length to 32. */
		memcpy(n->id, item, strlen(item) + 1);
		s = (int)cs - CC_SECTOR_SCHOOL;
		n->sector = (enum sector)s;
		n->set = -1;
		n->municipality = (unsigned)rg->nsector_nodes[s];
		if (shape == NULL)
			n->shape = (n->municipality == 0 &&
			    (s == SECTOR_SCHOOL || s == SECTOR_SOCIAL)) ?
			    SHAPE_SV : SHAPE_DEFAULT;
		else if (strcmp(shape, "sv") == 0)
			n->shape = SHAPE_SV;
		else if (strcmp(shape, "sv-cp1252") == 0)
			n->shape = SHAPE_SV_CP1252;
		else if (strcmp(shape, "default") == 0)
			n->shape = SHAPE_DEFAULT;
		else
			fail("--nodes: shape \"%s\" is not sv, sv-cp1252 or default", shape);
		rg->sector_node[s][rg->nsector_nodes[s]++] = rg->nnodes;
		if (rg->nsector_nodes[s] > rg->municipalities)
			rg->municipalities = (unsigned)rg->nsector_nodes[s];
		rg->nnodes++;
		p += len;
		if (*p == ',')
			p++;
	}
	if (rg->nnodes == 0)
		fail("--nodes: no nodes");
}

static void
parse_options(struct region *rg, int argc, char **argv)
{
	enum {
		O_OUT = 1, O_SEED, O_CHILDREN, O_YEAR, O_NODES, O_QUERY, O_BAD,
		O_SCHOOL, O_ABSENCE, O_SUPPORT, O_SOCIAL, O_BUP, O_OTHER,
		O_SAMORDNING, O_MOVE, O_SECOND, O_HELP,
	};
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, O_OUT },
		{ "seed", required_argument, NULL, O_SEED },
		{ "children", required_argument, NULL, O_CHILDREN },
		{ "year", required_argument, NULL, O_YEAR },
		{ "nodes", required_argument, NULL, O_NODES },
		{ "query", required_argument, NULL, O_QUERY },
		{ "bad-rows", required_argument, NULL, O_BAD },
		{ "school-rate", required_argument, NULL, O_SCHOOL },
		{ "absence-rate", required_argument, NULL, O_ABSENCE },
		{ "support-rate", required_argument, NULL, O_SUPPORT },
		{ "social-rate", required_argument, NULL, O_SOCIAL },
		{ "bup-rate", required_argument, NULL, O_BUP },
		{ "other-rate", required_argument, NULL, O_OTHER },
		{ "samordning-rate", required_argument, NULL, O_SAMORDNING },
		{ "move-rate", required_argument, NULL, O_MOVE },
		{ "second-share", required_argument, NULL, O_SECOND },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct options *o = &rg->opt;
	const char *nodes = "skola:school,soc:social,soc2:social,bup:health";
	int c;

	o->seed = 1;
	o->children = 20000;
	o->year = 2025;
	o->school_rate = 0.985;
	o->absence_rate = 0.03;
	o->support_rate = 0.08;
	o->social_rate = 0.05;
	o->bup_rate = 0.06;
	o->other_rate = 0.03;
	o->samordning_rate = 0.015;
	o->move_rate = 0.02;
	o->second_share = 0.3;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_OUT: o->out = optarg; break;
		case O_SEED: o->seed = parse_u64("--seed", optarg, 0, UINT64_MAX); break;
		case O_CHILDREN:
			o->children = (unsigned)parse_u64("--children", optarg, 1,
			    SYNTH_MAX_CHILDREN);
			break;
		case O_YEAR: o->year = (int)parse_u64("--year", optarg, 1900, 9000); break;
		case O_NODES: nodes = optarg; break;
		case O_QUERY: o->query_path = optarg; break;
		case O_BAD:
			o->bad_rows = (unsigned)parse_u64("--bad-rows", optarg, 0,
			    SYNTH_MAX_CHILDREN);
			break;
		case O_SCHOOL: o->school_rate = parse_probability("--school-rate", optarg); break;
		case O_ABSENCE: o->absence_rate = parse_probability("--absence-rate", optarg); break;
		case O_SUPPORT: o->support_rate = parse_probability("--support-rate", optarg); break;
		case O_SOCIAL: o->social_rate = parse_probability("--social-rate", optarg); break;
		case O_BUP: o->bup_rate = parse_probability("--bup-rate", optarg); break;
		case O_OTHER: o->other_rate = parse_probability("--other-rate", optarg); break;
		case O_SAMORDNING:
			o->samordning_rate = parse_probability("--samordning-rate", optarg);
			break;
		case O_MOVE: o->move_rate = parse_probability("--move-rate", optarg); break;
		case O_SECOND:
			o->second_share = parse_probability("--second-share", optarg);
			if (o->second_share == 0.0)
				fail("--second-share must be above 0");
			break;
		case O_HELP: case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "crosscount-synth: unexpected argument \"%s\"\n", argv[optind]);
		exit(2);
	}
	if (o->out == NULL) {
		fputs("crosscount-synth: --out DIR is required (see --help)\n", stderr);
		exit(2);
	}
	parse_nodes(rg, nodes);
}

/*
 * The base rates, so that the overall shares come out near the rates asked
 * for despite the correlations (absence by age, social services and BUP
 * more common among the absent). Approximate: "about" in the help text.
 */
static void
normalise_rates(struct region *rg)
{
	const struct options *o = &rg->opt;
	double total = 0, school = 0, abs_f = 0, bup_f = 0, p_abs;

	for (int a = 0; a < SYNTH_AGES; a++) {
		total += age_weight[a];
		bup_f += age_weight[a] * bup_age_factor(a);
		if (a >= 6) {
			school += age_weight[a];
			abs_f += age_weight[a] * absence_age_factor(a);
		}
	}
	rg->p_absence_base = o->absence_rate / (abs_f / school);
	rg->p_support_base = o->support_rate / (1.0 + o->absence_rate);
	p_abs = o->absence_rate * o->school_rate * school / total;
	rg->p_social_base = o->social_rate / (1.0 + 3.0 * p_abs);
	rg->p_bup_base = o->bup_rate / ((bup_f / total) *
	    (1.0 + 2.0 * o->social_rate) * (1.0 + 2.0 * p_abs));
}

static json_t *
manifest_json(const struct region *rg)
{
	json_t *nodes = json_array(), *root;

	for (size_t i = 0; i < rg->nnodes; i++) {
		const struct node *n = &rg->nodes[i];
		const char *const *h = n->shape == SHAPE_DEFAULT ? header_default : header_sv;
		json_t *cats = json_array();

		for (int c = 0; c < CAT_COUNT; c++)
			if (sector_has_category(n->sector, (enum category)c))
				json_array_append_new(cats, json_string(category_names[c]));
		json_array_append_new(nodes, json_pack(
		    "{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s},"
		    " s:o, s:I, s:I, s:I}",
		    "id", n->id, "sector", sector_name(n->sector),
		    "file", strrchr(n->path, '/') + 1, "shape", shape_names[n->shape],
		    "delimiter", n->shape == SHAPE_DEFAULT ? "," : ";",
		    "encoding", n->shape == SHAPE_SV_CP1252 ? "windows-1252" : "utf-8",
		    "columns", "personnummer", h[0], "category", h[1],
		    "start_date", h[2], "end_date", h[3], "unit", h[4],
		    "categories", cats, "rows", (json_int_t)n->rows,
		    "bad_rows", (json_int_t)n->bad_rows,
		    "children", (json_int_t)n->children));
	}
	root = json_pack("{s:s, s:I, s:i, s:i, s:o}", "generator", "crosscount-synth",
	    "seed", (json_int_t)rg->opt.seed, "year", rg->opt.year,
	    "children", (int)rg->opt.children, "nodes", nodes);
	if (root == NULL)
		fail("out of memory");
	return root;
}

static void
write_json(const char *dir, const char *name, json_t *v)
{
	char path[SYNTH_PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		fail("%s/%s: path too long", dir, name);
	if (json_dump_file(v, path, JSON_INDENT(2)) != 0)
		fail("%s: cannot write", path);
}

int
main(int argc, char **argv)
{
	static struct region rg;
	static struct tquery q;
	static struct person pe;
	struct prng pop, forms, bad;
	json_t *doc, *truth, *manifest;
	json_error_t jerr;
	uint64_t people_with_rows = 0;

	parse_options(&rg, argc, argv);
	normalise_rates(&rg);
	rg.window_first = day_from_civil(rg.opt.year - 1, 1, 1);
	rg.window_last = day_from_civil(rg.opt.year, 12, 31);
	rg.base_day = day_from_civil(rg.opt.year - SYNTH_MAX_AGE, 1, 1);
	rg.used_bytes = ((size_t)(rg.window_last - rg.base_day + 1) * 2 * 1000 + 7) / 8;
	rg.used = calloc(rg.used_bytes, 1);
	if (rg.used == NULL)
		fail("out of memory");

	if (rg.opt.query_path != NULL) {
		doc = json_load_file(rg.opt.query_path, JSON_REJECT_DUPLICATES, &jerr);
		if (doc == NULL)
			fail("%s:%d: %s", rg.opt.query_path, jerr.line, jerr.text);
	} else {
		doc = default_query(&rg);
	}
	query_read(&rg, &q, doc);
	query_check_protocol(&q);

	if (mkdir(rg.opt.out, 0755) != 0 && errno != EEXIST)
		fail("%s: cannot create: %s", rg.opt.out, strerror(errno));
	for (size_t i = 0; i < rg.nnodes; i++) {
		struct node *n = &rg.nodes[i];
		const char *const *h = n->shape == SHAPE_DEFAULT ? header_default : header_sv;
		char csv_path[sizeof(n->path)];

		if ((size_t)snprintf(csv_path, sizeof(csv_path), "%s/%s.csv", rg.opt.out,
		    n->id) >= sizeof(csv_path))
			fail("%s: path too long", rg.opt.out);
		memcpy(n->path, csv_path, sizeof(csv_path));
		n->f = fopen(n->path, "wb");
		if (n->f == NULL)
			fail("%s: cannot create: %s", n->path, strerror(errno));
		if (n->shape == SHAPE_SV)
			fputs("\xEF\xBB\xBF", n->f);
		put_row(n, h);
		n->rows = 0;
	}

	prng_seed(&pop, rg.opt.seed, 1);
	prng_seed(&forms, rg.opt.seed, 2);
	prng_seed(&bad, rg.opt.seed, 3);
	for (uint64_t i = 0; i < rg.opt.children; i++) {
		bool seen[CC_LIMIT_QUERY_NODES] = { false };
		uint64_t nbad = ((i + 1) * rg.opt.bad_rows) / rg.opt.children -
		    (i * rg.opt.bad_rows) / rg.opt.children;

		generate_person(&rg, &pop, &pe);
		for (size_t k = 0; k < pe.nepisodes; k++) {
			write_episode(&rg, &pe, &pe.ep[k], &forms);
			seen[pe.ep[k].node] = true;
		}
		for (size_t k = 0; k < rg.nnodes; k++)
			if (seen[k])
				rg.nodes[k].children++;
		people_with_rows += pe.nepisodes > 0;
		for (uint64_t b = 0; b < nbad; b++)
			for (size_t k = 0; k < rg.nnodes; k++)
				write_bad_row(&rg, &rg.nodes[k], &pe, &bad,
				    rg.nodes[k].bad_rows);
		truth_add(&rg, &q, &pe);
		memset(&pe, 0, sizeof(pe));
	}
	for (size_t i = 0; i < rg.nnodes; i++)
		if (fclose(rg.nodes[i].f) != 0)
			fail("%s: write failed", rg.nodes[i].path);

	truth = truth_json(&rg, &q);
	manifest = manifest_json(&rg);
	write_json(rg.opt.out, "truth.json", truth);
	write_json(rg.opt.out, "manifest.json", manifest);
	write_json(rg.opt.out, "query.json", doc);

	printf("crosscount-synth: %u children, %" PRIu64 " with rows, year %d, seed %"
	    PRIu64 "\n", rg.opt.children, people_with_rows, rg.opt.year, rg.opt.seed);
	for (size_t i = 0; i < rg.nnodes; i++)
		printf("  %-32s %-7s %-9s %8" PRIu64 " children %9" PRIu64 " rows (%"
		    PRIu64 " bad)\n", rg.nodes[i].id, sector_name(rg.nodes[i].sector),
		    shape_names[rg.nodes[i].shape], rg.nodes[i].children,
		    rg.nodes[i].rows, rg.nodes[i].bad_rows);
	printf("  truth: %" PRIu64 " children counted in %s/truth.json\n", q.counted,
	    rg.opt.out);

	json_decref(truth);
	json_decref(manifest);
	json_decref(doc);
	free(q.count);
	free(rg.used);
	return 0;
}
