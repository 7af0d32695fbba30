/*
 * crosscount: the query document (see query.h; SPEC.md section 7).
 *
 * One validator for the message type (STYLE.md 1): every field is checked
 * for type, range and shape in the order of SPEC 7.2, unknown fields are
 * an error, and the first failure is reported with its field path.
 */
#include "protocol/query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* Room for the longest field path, e.g. "sets[5].categories[31]". */
#define PATH_MAX_LEN 64
/* Room for a quoted value in a diag: 40 bytes of text, quotes, "...". */
#define QUOTE_MAX 48
#define QUOTE_TEXT_MAX 40

/*
 * Quote an untrusted value for a diag. Control characters (C0 and C1),
 * quotes and backslashes become '?', long values are cut at a character boundary
 * with "...", and a value with six or more consecutive digits is not
 * shown at all: it could be an identity (error.h, privacy rule).
 */
static void
quote_value(char out[QUOTE_MAX], const char *s, size_t len)
{
	size_t i, o = 0, digits = 0;

	for (i = 0; i < len; i++) {
		digits = (s[i] >= '0' && s[i] <= '9') ? digits + 1 : 0;
		if (digits >= 6) {
			snprintf(out, QUOTE_MAX, "(a value not shown: it "
			    "could be an identity)");
			return;
		}
	}
	out[o++] = '"';
	for (i = 0; i < len && o < QUOTE_TEXT_MAX + 1; i++) {
		unsigned char ch = (unsigned char)s[i];

		/* Stop before a UTF-8 lead byte whose sequence won't fit. */
		if (ch >= 0xC0) {
			size_t need = ch >= 0xF0 ? 4 : ch >= 0xE0 ? 3 : 2;

			if (o + need > QUOTE_TEXT_MAX + 1)
				break;
		}
		/* C1 controls (U+0080..U+009F) are 0xC2 0x80..0x9F. */
		if (ch == 0xC2 && i + 1 < len &&
		    (unsigned char)s[i + 1] <= 0x9F) {
			out[o++] = '?';
			i++;
			continue;
		}
		if (ch < 0x20 || ch == 0x7F || ch == '"' || ch == '\\')
			ch = '?';
		out[o++] = (char)ch;
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = '\0';
}

/*
 * Decode the UTF-8 character at s[*i] (len bytes in all) and advance.
 * False on an invalid, overlong or surrogate sequence.
 */
static bool
utf8_next(const char *s, size_t len, size_t *i, unsigned long *ret_cp)
{
	const unsigned char *p = (const unsigned char *)s + *i;
	size_t left = len - *i, n, k;
	unsigned long cp, min;

	if (left == 0)
		return false;
	if (p[0] < 0x80) {
		n = 1;
		cp = p[0];
		min = 0;
	} else if ((p[0] & 0xE0) == 0xC0) {
		n = 2;
		cp = p[0] & 0x1F;
		min = 0x80;
	} else if ((p[0] & 0xF0) == 0xE0) {
		n = 3;
		cp = p[0] & 0x0F;
		min = 0x800;
	} else if ((p[0] & 0xF8) == 0xF0) {
		n = 4;
		cp = p[0] & 0x07;
		min = 0x10000;
	} else {
		return false;
	}
	if (n > left)
		return false;
	for (k = 1; k < n; k++) {
		if ((p[k] & 0xC0) != 0x80)
			return false;
		cp = (cp << 6) | (p[k] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return false;
	*i += n;
	*ret_cp = cp;
	return true;
}

static bool
is_control(unsigned long cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/*
 * Free text (title, label): 1..max bytes of UTF-8 without NUL or control
 * characters, and never six or more digits in a row (SPEC 7.2): free text
 * travels to every node's log and to the audit log, so it must not be
 * able to carry a personnummer. Returns a reason or NULL.
 */
static const char *
text_problem(const char *s, size_t len, size_t max)
{
	size_t i = 0, digits = 0;
	unsigned long cp;

	if (len == 0)
		return "must not be empty";
	if (len > max)
		return "is too long";
	while (i < len) {
		if (!utf8_next(s, len, &i, &cp))
			return "is not valid UTF-8";
		if (is_control(cp))
			return "contains a control character";
		digits = cp >= '0' && cp <= '9' ? digits + 1 : 0;
		if (digits >= 6)
			return "contains six or more digits in a row (free "
			    "text may never hold a personnummer)";
	}
	return NULL;
}

bool
cc_query_node_id_valid(const char *s, size_t len)
{
	size_t i;

	if (s == NULL || len == 0 || len > CC_LIMIT_NODE_ID)
		return false;
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-'))
			return false;
	}
	return true;
}

bool
cc_query_category_valid(const char *s, size_t len)
{
	size_t i = 0;
	unsigned long cp;

	if (s == NULL || len == 0 || len > CC_LIMIT_CATEGORY)
		return false;
	if (s[0] == ' ' || s[len - 1] == ' ')
		return false;
	while (i < len) {
		if (!utf8_next(s, len, &i, &cp))
			return false;
		if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
		    (cp >= '0' && cp <= '9') || cp == '_' || cp == '-' ||
		    cp == '.' || cp == ' ')
			continue;
		if (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7)
			continue;
		return false;
	}
	return true;
}

static int
cmp_node(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static int
cmp_category(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/*
 * Fail if obj has a key outside allowed[] (NULL-terminated). The smallest
 * unknown key is named, so that the message does not depend on Jansson's
 * hash order.
 */
static int
check_fields(const json_t *obj, const char *path,
    const char *const allowed[], struct cc_diag *diag)
{
	const char *key, *unknown = NULL;
	size_t unknown_len = 0;
	json_t *value;
	char quoted[QUOTE_MAX];
	size_t i;

	/* json_object_foreach wants a non-const object; it only reads. */
	json_object_foreach((json_t *)obj, key, value) {
		bool known = false;

		(void)value;
		for (i = 0; allowed[i] != NULL; i++) {
			if (strcmp(key, allowed[i]) == 0)
				known = true;
		}
		if (!known && (unknown == NULL || strcmp(key, unknown) < 0)) {
			unknown = key;
			unknown_len = strlen(key);
		}
	}
	if (unknown == NULL)
		return 0;
	quote_value(quoted, unknown, unknown_len);
	if (path[0] == '\0')
		cc_diag_set(diag, "unknown field %s", quoted);
	else
		cc_diag_set(diag, "%s: unknown field %s", path, quoted);
	return CC_ERR_QUERY;
}

/*
 * A string value: NUL-free (json_string_length counts every byte, strlen
 * stops at a NUL) and valid UTF-8 even when the json_t was built by code.
 */
static int
get_string(const char **ret_s, size_t *ret_len, const json_t *v,
    const char *path, struct cc_diag *diag)
{
	size_t len;
	const char *s;

	*ret_s = NULL;
	*ret_len = 0;
	if (!json_is_string(v)) {
		cc_diag_set(diag, "%s: must be a string", path);
		return CC_ERR_QUERY;
	}
	s = json_string_value(v);
	len = json_string_length(v);
	if (strlen(s) != len) {
		cc_diag_set(diag, "%s: contains a NUL character", path);
		return CC_ERR_QUERY;
	}
	*ret_s = s;
	*ret_len = len;
	return 0;
}

static int
get_int(long long *ret_v, const json_t *v, long long lo, long long hi,
    const char *path, const char *what, struct cc_diag *diag)
{
	long long x;

	*ret_v = 0;
	if (!json_is_integer(v)) {
		cc_diag_set(diag, "%s: must be an integer", path);
		return CC_ERR_QUERY;
	}
	x = json_integer_value(v);
	if (x < lo || x > hi) {
		cc_diag_set(diag, "%s: %lld is out of range (%s %lld..%lld)",
		    path, x, what, lo, hi);
		return CC_ERR_QUERY;
	}
	*ret_v = x;
	return 0;
}

static int
parse_title(struct cc_query *q, const json_t *v, struct cc_diag *diag)
{
	const char *s, *why;
	size_t len;
	int r;

	if ((r = get_string(&s, &len, v, "title", diag)) != 0)
		return r;
	/* The title is free text: never quoted back (it could hold anything). */
	if ((why = text_problem(s, len, CC_LIMIT_TITLE)) != NULL) {
		if (len > CC_LIMIT_TITLE)
			cc_diag_set(diag, "title: is %zu bytes, at most %d",
			    len, CC_LIMIT_TITLE);
		else
			cc_diag_set(diag, "title: %s", why);
		return CC_ERR_QUERY;
	}
	memcpy(q->title, s, len);
	q->title[len] = '\0';
	return 0;
}

static int
parse_month(int *ret_month, const json_t *period, const char *key,
    struct cc_diag *diag)
{
	char path[PATH_MAX_LEN];
	const json_t *v;
	const char *s;
	size_t len;
	int r;

	*ret_month = 0;
	snprintf(path, sizeof(path), "period.%s", key);
	if ((v = json_object_get(period, key)) == NULL) {
		cc_diag_set(diag, "%s: required (a month \"YYYY-MM\")", path);
		return CC_ERR_QUERY;
	}
	if ((r = get_string(&s, &len, v, path, diag)) != 0)
		return r;
	/* Whole months only: cc_month_parse accepts exactly "YYYY-MM". */
	if (cc_month_parse(ret_month, s, len, diag) != 0) {
		cc_diag_prefix(diag, "%s: ", path);
		return CC_ERR_QUERY;
	}
	return 0;
}

static int
parse_period(struct cc_query *q, const json_t *v, struct cc_diag *diag)
{
	static const char *const fields[] = { "from", "to", NULL };
	char from[8], to[8];
	long months;
	int r;

	if (!json_is_object(v)) {
		cc_diag_set(diag, "period: must be an object "
		    "{\"from\": \"YYYY-MM\", \"to\": \"YYYY-MM\"}");
		return CC_ERR_QUERY;
	}
	if ((r = check_fields(v, "period", fields, diag)) != 0)
		return r;
	if ((r = parse_month(&q->period_from, v, "from", diag)) != 0 ||
	    (r = parse_month(&q->period_to, v, "to", diag)) != 0)
		return r;
	if (q->period_from > q->period_to) {
		cc_month_format(from, q->period_from);
		cc_month_format(to, q->period_to);
		cc_diag_set(diag, "period: from %s is after to %s", from, to);
		return CC_ERR_QUERY;
	}
	months = (long)q->period_to - q->period_from + 1;
	if (months > CC_LIMIT_PERIOD_MONTHS) {
		cc_diag_set(diag, "period: %ld months, at most %d", months,
		    CC_LIMIT_PERIOD_MONTHS);
		return CC_ERR_QUERY;
	}
	return 0;
}

static int
parse_nodes(struct cc_query *q, size_t si, const json_t *v,
    struct cc_diag *diag)
{
	struct cc_query_set *set = &q->sets[si];
	char path[PATH_MAX_LEN], quoted[QUOTE_MAX];
	size_t i, j, k, len;
	const char *s;
	int r;

	snprintf(path, sizeof(path), "sets[%zu].nodes", si);
	if (v == NULL) {
		cc_diag_set(diag, "%s: required (an array of node ids)", path);
		return CC_ERR_QUERY;
	}
	if (!json_is_array(v)) {
		cc_diag_set(diag, "%s: must be an array of node ids", path);
		return CC_ERR_QUERY;
	}
	if (json_array_size(v) == 0) {
		cc_diag_set(diag, "%s: must not be empty", path);
		return CC_ERR_QUERY;
	}
	if (json_array_size(v) > CC_LIMIT_NODES_PER_SET) {
		cc_diag_set(diag, "%s: %zu nodes, at most %d", path,
		    json_array_size(v), CC_LIMIT_NODES_PER_SET);
		return CC_ERR_QUERY;
	}
	for (i = 0; i < json_array_size(v); i++) {
		snprintf(path, sizeof(path), "sets[%zu].nodes[%zu]", si, i);
		if ((r = get_string(&s, &len, json_array_get(v, i), path,
		    diag)) != 0)
			return r;
		quote_value(quoted, s, len);
		if (!cc_query_node_id_valid(s, len)) {
			cc_diag_set(diag, "%s: %s is not a node id "
			    "([a-z0-9-]{1,32})", path, quoted);
			return CC_ERR_QUERY;
		}
		for (j = 0; j < set->nnodes; j++) {
			if (strcmp(set->nodes[j], s) == 0) {
				cc_diag_set(diag, "%s: %s appears twice in "
				    "the set", path, quoted);
				return CC_ERR_QUERY;
			}
		}
		/* One set per node (query.h): its records have one origin chain. */
		for (k = 0; k < si; k++) {
			for (j = 0; j < q->sets[k].nnodes; j++) {
				if (strcmp(q->sets[k].nodes[j], s) == 0) {
					cc_diag_set(diag, "%s: %s is already "
					    "in sets[%zu]; a node may be in "
					    "one set only", path, quoted, k);
					return CC_ERR_QUERY;
				}
			}
		}
		memcpy(set->nodes[set->nnodes], s, len);
		set->nodes[set->nnodes][len] = '\0';
		set->nnodes++;
	}
	return 0;
}

static int
parse_categories(struct cc_query_set *set, size_t si, const json_t *v,
    struct cc_diag *diag)
{
	char path[PATH_MAX_LEN], quoted[QUOTE_MAX];
	size_t i, j, len;
	const char *s;
	int r;

	snprintf(path, sizeof(path), "sets[%zu].categories", si);
	if (!json_is_array(v)) {
		cc_diag_set(diag, "%s: must be an array of category names",
		    path);
		return CC_ERR_QUERY;
	}
	if (json_array_size(v) == 0) {
		cc_diag_set(diag, "%s: must not be empty (leave it out for "
		    "every category)", path);
		return CC_ERR_QUERY;
	}
	if (json_array_size(v) > CC_LIMIT_CATEGORIES_PER_SET) {
		cc_diag_set(diag, "%s: %zu categories, at most %d", path,
		    json_array_size(v), CC_LIMIT_CATEGORIES_PER_SET);
		return CC_ERR_QUERY;
	}
	for (i = 0; i < json_array_size(v); i++) {
		snprintf(path, sizeof(path), "sets[%zu].categories[%zu]",
		    si, i);
		if ((r = get_string(&s, &len, json_array_get(v, i), path,
		    diag)) != 0)
			return r;
		quote_value(quoted, s, len);
		if (!cc_query_category_valid(s, len)) {
			cc_diag_set(diag, "%s: %s is not a category name "
			    "(1..%d bytes: letters, digits, _ - . and inner "
			    "spaces)", path, quoted, CC_LIMIT_CATEGORY);
			return CC_ERR_QUERY;
		}
		for (j = 0; j < set->ncategories; j++) {
			if (strcmp(set->categories[j], s) == 0) {
				cc_diag_set(diag, "%s: %s appears twice", path,
				    quoted);
				return CC_ERR_QUERY;
			}
		}
		memcpy(set->categories[set->ncategories], s, len);
		set->categories[set->ncategories][len] = '\0';
		set->ncategories++;
	}
	return 0;
}

static int
parse_set(struct cc_query *q, size_t si, const json_t *v,
    struct cc_diag *diag)
{
	static const char *const fields[] = { "label", "nodes", "categories",
	    NULL };
	struct cc_query_set *set = &q->sets[si];
	char path[PATH_MAX_LEN];
	const json_t *label, *cats;
	const char *s, *why;
	size_t len, k;
	int r;

	snprintf(path, sizeof(path), "sets[%zu]", si);
	if (!json_is_object(v)) {
		cc_diag_set(diag, "%s: must be an object", path);
		return CC_ERR_QUERY;
	}
	if ((r = check_fields(v, path, fields, diag)) != 0)
		return r;

	snprintf(path, sizeof(path), "sets[%zu].label", si);
	if ((label = json_object_get(v, "label")) == NULL) {
		cc_diag_set(diag, "%s: required", path);
		return CC_ERR_QUERY;
	}
	if ((r = get_string(&s, &len, label, path, diag)) != 0)
		return r;
	if ((why = text_problem(s, len, CC_LIMIT_LABEL)) != NULL) {
		if (len > CC_LIMIT_LABEL)
			cc_diag_set(diag, "%s: is %zu bytes, at most %d", path,
			    len, CC_LIMIT_LABEL);
		else
			cc_diag_set(diag, "%s: %s", path, why);
		return CC_ERR_QUERY;
	}
	for (k = 0; k < si; k++) {
		if (strcmp(q->sets[k].label, s) == 0) {
			cc_diag_set(diag, "%s: the same label as sets[%zu]",
			    path, k);
			return CC_ERR_QUERY;
		}
	}
	memcpy(set->label, s, len);
	set->label[len] = '\0';

	if ((r = parse_nodes(q, si, json_object_get(v, "nodes"), diag)) != 0)
		return r;
	if ((cats = json_object_get(v, "categories")) != NULL &&
	    (r = parse_categories(set, si, cats, diag)) != 0)
		return r;
	return 0;
}

static int
parse_sets(struct cc_query *q, const json_t *v, struct cc_diag *diag)
{
	size_t i, j, n = 0;
	int r;

	if (!json_is_array(v)) {
		cc_diag_set(diag, "sets: must be an array of sets");
		return CC_ERR_QUERY;
	}
	if (json_array_size(v) == 0) {
		cc_diag_set(diag, "sets: must not be empty");
		return CC_ERR_QUERY;
	}
	if (json_array_size(v) > CC_LIMIT_SETS) {
		cc_diag_set(diag, "sets: %zu sets, at most %d",
		    json_array_size(v), CC_LIMIT_SETS);
		return CC_ERR_QUERY;
	}
	for (i = 0; i < json_array_size(v); i++) {
		if ((r = parse_set(q, i, json_array_get(v, i), diag)) != 0)
			return r;
		q->nsets++;
	}
	/* Nodes are distinct across sets, so the count is a plain sum. */
	for (i = 0; i < q->nsets; i++)
		n += q->sets[i].nnodes;
	if (n > CC_LIMIT_QUERY_NODES) {
		cc_diag_set(diag, "sets: %zu distinct nodes, at most %d", n,
		    CC_LIMIT_QUERY_NODES);
		return CC_ERR_QUERY;
	}
	/* Canonical order: nodes and categories sorted bytewise. */
	for (i = 0; i < q->nsets; i++) {
		struct cc_query_set *set = &q->sets[i];

		qsort(set->nodes, set->nnodes, sizeof(set->nodes[0]), cmp_node);
		qsort(set->categories, set->ncategories,
		    sizeof(set->categories[0]), cmp_category);
		for (j = 0; j < set->nnodes; j++)
			memcpy(q->nodes[q->nnodes++], set->nodes[j],
			    sizeof(q->nodes[0]));
	}
	/* SPEC 8.2: the chain order is the bytewise order of node ids. */
	qsort(q->nodes, q->nnodes, sizeof(q->nodes[0]), cmp_node);
	return 0;
}

static int
parse_breakdown(struct cc_query *q, const json_t *v, struct cc_diag *diag)
{
	char path[PATH_MAX_LEN], quoted[QUOTE_MAX];
	const char *s;
	size_t i, len;
	int r;

	if (v == NULL)
		return 0;
	if (!json_is_array(v)) {
		cc_diag_set(diag, "breakdown: must be an array "
		    "(of \"age_band\", \"sex\")");
		return CC_ERR_QUERY;
	}
	if (json_array_size(v) > CC_LIMIT_BREAKDOWN) {
		cc_diag_set(diag, "breakdown: %zu entries, at most %d",
		    json_array_size(v), CC_LIMIT_BREAKDOWN);
		return CC_ERR_QUERY;
	}
	for (i = 0; i < json_array_size(v); i++) {
		bool *flag;

		snprintf(path, sizeof(path), "breakdown[%zu]", i);
		if ((r = get_string(&s, &len, json_array_get(v, i), path,
		    diag)) != 0)
			return r;
		quote_value(quoted, s, len);
		if (strcmp(s, "age_band") == 0) {
			flag = &q->by_age_band;
		} else if (strcmp(s, "sex") == 0) {
			flag = &q->by_sex;
		} else {
			cc_diag_set(diag, "%s: %s is not a breakdown "
			    "(age_band, sex)", path, quoted);
			return CC_ERR_QUERY;
		}
		if (*flag) {
			cc_diag_set(diag, "%s: %s appears twice", path, quoted);
			return CC_ERR_QUERY;
		}
		*flag = true;
	}
	return 0;
}

static int
parse_age_bands(struct cc_query *q, const json_t *v, struct cc_diag *diag)
{
	char path[PATH_MAX_LEN];
	long long lo, hi;
	size_t i;
	int r;

	if (!q->by_age_band) {
		if (v != NULL) {
			cc_diag_set(diag, "age_bands: only allowed when "
			    "breakdown has \"age_band\"");
			return CC_ERR_QUERY;
		}
		return 0;
	}
	if (v == NULL) {
		cc_diag_set(diag, "age_bands: required when breakdown has "
		    "\"age_band\"");
		return CC_ERR_QUERY;
	}
	if (!json_is_array(v)) {
		cc_diag_set(diag, "age_bands: must be an array of [lo, hi]");
		return CC_ERR_QUERY;
	}
	if (json_array_size(v) == 0) {
		cc_diag_set(diag, "age_bands: must not be empty");
		return CC_ERR_QUERY;
	}
	if (json_array_size(v) > CC_LIMIT_AGE_BANDS) {
		cc_diag_set(diag, "age_bands: %zu bands, at most %d",
		    json_array_size(v), CC_LIMIT_AGE_BANDS);
		return CC_ERR_QUERY;
	}
	for (i = 0; i < json_array_size(v); i++) {
		const json_t *band = json_array_get(v, i);

		snprintf(path, sizeof(path), "age_bands[%zu]", i);
		if (!json_is_array(band) || json_array_size(band) != 2) {
			cc_diag_set(diag, "%s: must be [lo, hi]", path);
			return CC_ERR_QUERY;
		}
		snprintf(path, sizeof(path), "age_bands[%zu][0]", i);
		if ((r = get_int(&lo, json_array_get(band, 0), 0,
		    CC_LIMIT_AGE, path, "age", diag)) != 0)
			return r;
		snprintf(path, sizeof(path), "age_bands[%zu][1]", i);
		if ((r = get_int(&hi, json_array_get(band, 1), 0,
		    CC_LIMIT_AGE, path, "age", diag)) != 0)
			return r;
		if (lo > hi) {
			cc_diag_set(diag, "age_bands[%zu]: lo %lld is above "
			    "hi %lld", i, lo, hi);
			return CC_ERR_QUERY;
		}
		if (i > 0 && lo <= q->bands[i - 1].hi) {
			cc_diag_set(diag, "age_bands[%zu]: starts at %lld, "
			    "not above the end %d of age_bands[%zu] (bands "
			    "must increase and not overlap)", i, lo,
			    q->bands[i - 1].hi, i - 1);
			return CC_ERR_QUERY;
		}
		q->bands[i].lo = (int)lo;
		q->bands[i].hi = (int)hi;
		q->nbands++;
	}
	return 0;
}

/* A Jansson load error as our own sentence (never echoing the input). */
static void
diag_json_error(struct cc_diag *diag, const json_error_t *err)
{
	const char *what;

	switch (json_error_code(err)) {
	case json_error_out_of_memory:
		what = "out of memory";
		break;
	case json_error_stack_overflow:
		what = "nested too deeply";
		break;
	case json_error_invalid_utf8:
		what = "not valid UTF-8";
		break;
	case json_error_premature_end_of_input:
		what = "the document ends too early";
		break;
	case json_error_end_of_input_expected:
		what = "text after the end of the document";
		break;
	case json_error_null_character:
		what = "a string contains \\u0000";
		break;
	case json_error_null_byte_in_key:
		what = "a key contains \\u0000";
		break;
	case json_error_duplicate_key:
		what = "the same key twice in one object";
		break;
	case json_error_numeric_overflow:
		what = "a number is out of range";
		break;
	default:
		what = "not valid JSON";
		break;
	}
	cc_diag_set(diag, "line %d, column %d: %s", err->line, err->column,
	    what);
}

int
cc_query_from_json(struct cc_query **ret_q, const json_t *root,
    struct cc_diag *diag)
{
	static const char *const fields[] = { "title", "period", "sets",
	    "breakdown", "age_bands", "min_cell", NULL };
	struct cc_query *q = NULL;
	const json_t *v;
	long long min_cell;
	size_t cells;
	int r = CC_ERR_INTERNAL;

	if (ret_q != NULL)
		*ret_q = NULL;
	if (ret_q == NULL || root == NULL) {
		cc_diag_set(diag, "internal: no query or output given");
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		cc_diag_set(diag, "out of memory");
		r = CC_ERR_ALLOC;
		goto out;
	}
	if (!json_is_object(root)) {
		cc_diag_set(diag, "the query must be a JSON object");
		r = CC_ERR_QUERY;
		goto out;
	}
	if ((r = check_fields(root, "", fields, diag)) != 0)
		goto out;

	/* SPEC 7.2, in document order. */
	r = CC_ERR_QUERY;
	if ((v = json_object_get(root, "title")) == NULL) {
		cc_diag_set(diag, "title: required");
		goto out;
	}
	if ((r = parse_title(q, v, diag)) != 0)
		goto out;
	if ((v = json_object_get(root, "period")) == NULL) {
		cc_diag_set(diag, "period: required");
		r = CC_ERR_QUERY;
		goto out;
	}
	if ((r = parse_period(q, v, diag)) != 0)
		goto out;
	if ((v = json_object_get(root, "sets")) == NULL) {
		cc_diag_set(diag, "sets: required");
		r = CC_ERR_QUERY;
		goto out;
	}
	if ((r = parse_sets(q, v, diag)) != 0)
		goto out;
	if ((r = parse_breakdown(q, json_object_get(root, "breakdown"),
	    diag)) != 0)
		goto out;
	if ((r = parse_age_bands(q, json_object_get(root, "age_bands"),
	    diag)) != 0)
		goto out;
	q->min_cell = CC_QUERY_DEFAULT_MIN_CELL;
	if ((v = json_object_get(root, "min_cell")) != NULL) {
		if ((r = get_int(&min_cell, v, 1, CC_LIMIT_MIN_CELL, "min_cell",
		    "min_cell", diag)) != 0)
			goto out;
		q->min_cell = (uint32_t)min_cell;
	}
	/* Within the limits this always holds (63 x 40); kept as the rule. */
	cells = cc_query_cells(q);
	if (cc_query_regions(q) > CC_LIMIT_TABLE_CELLS / cells) {
		cc_diag_set(diag, "the table would have more than %d cells",
		    CC_LIMIT_TABLE_CELLS);
		r = CC_ERR_QUERY;
		goto out;
	}

	r = 0;
	*ret_q = q;
	q = NULL;
out:
	cc_query_free(q);
	return r;
}

int
cc_query_parse(struct cc_query **ret_q, const char *json, size_t len,
    struct cc_diag *diag)
{
	json_t *root = NULL;
	json_error_t err;
	int r = CC_ERR_INTERNAL;

	if (ret_q != NULL)
		*ret_q = NULL;
	if (ret_q == NULL || (json == NULL && len != 0)) {
		cc_diag_set(diag, "internal: no query or output given");
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if (len > CC_LIMIT_QUERY_JSON) {
		cc_diag_set(diag, "the query is %zu bytes, at most %d", len,
		    CC_LIMIT_QUERY_JSON);
		r = CC_ERR_LIMIT;
		goto out;
	}
	/*
	 * Strict decoding: duplicate keys are an error, "\u0000" is refused
	 * (no JSON_ALLOW_NUL), nothing may follow the document, and the top
	 * level must be an object or array (no JSON_DECODE_ANY).
	 */
	root = json_loadb(len == 0 ? "" : json, len, JSON_REJECT_DUPLICATES,
	    &err);
	if (root == NULL) {
		diag_json_error(diag, &err);
		r = json_error_code(&err) == json_error_out_of_memory ?
		    CC_ERR_ALLOC : CC_ERR_QUERY;
		goto out;
	}
	r = cc_query_from_json(ret_q, root, diag);
out:
	json_decref(root);
	return r;
}

void
cc_query_free(struct cc_query *q)
{
	free(q);
}

/* json_object_set_new that also reports failure as -1 for the caller. */
static int
set_new(json_t *obj, const char *key, json_t *value)
{
	if (value == NULL)
		return -1;
	return json_object_set_new(obj, key, value);
}

static int
append_new(json_t *arr, json_t *value)
{
	if (value == NULL)
		return -1;
	return json_array_append_new(arr, value);
}

int
cc_query_to_json_value(json_t **ret_root, const struct cc_query *q)
{
	json_t *root = NULL, *period = NULL, *sets = NULL, *arr = NULL;
	char month[8];
	size_t i, j;
	int r = CC_ERR_INTERNAL;

	if (ret_root != NULL)
		*ret_root = NULL;
	if (ret_root == NULL || q == NULL) {
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	r = CC_ERR_ALLOC;
	if ((root = json_object()) == NULL)
		goto out;
	if (set_new(root, "title", json_string(q->title)) != 0)
		goto out;
	if ((period = json_object()) == NULL)
		goto out;
	cc_month_format(month, q->period_from);
	if (set_new(period, "from", json_string(month)) != 0)
		goto out;
	cc_month_format(month, q->period_to);
	if (set_new(period, "to", json_string(month)) != 0)
		goto out;
	if (json_object_set_new(root, "period", period) != 0) {
		period = NULL;
		goto out;
	}
	period = NULL;

	if (set_new(root, "sets", json_array()) != 0)
		goto out;
	sets = json_object_get(root, "sets");
	for (i = 0; i < q->nsets; i++) {
		const struct cc_query_set *s = &q->sets[i];
		json_t *set;

		if (append_new(sets, json_object()) != 0)
			goto out;
		set = json_array_get(sets, i);
		if (set_new(set, "label", json_string(s->label)) != 0 ||
		    set_new(set, "nodes", json_array()) != 0)
			goto out;
		arr = json_object_get(set, "nodes");
		for (j = 0; j < s->nnodes; j++) {
			if (append_new(arr, json_string(s->nodes[j])) != 0)
				goto out;
		}
		if (s->ncategories > 0) {
			if (set_new(set, "categories", json_array()) != 0)
				goto out;
			arr = json_object_get(set, "categories");
			for (j = 0; j < s->ncategories; j++) {
				if (append_new(arr,
				    json_string(s->categories[j])) != 0)
					goto out;
			}
		}
	}

	if (set_new(root, "breakdown", json_array()) != 0)
		goto out;
	arr = json_object_get(root, "breakdown");
	if (q->by_age_band && append_new(arr, json_string("age_band")) != 0)
		goto out;
	if (q->by_sex && append_new(arr, json_string("sex")) != 0)
		goto out;
	if (q->by_age_band) {
		if (set_new(root, "age_bands", json_array()) != 0)
			goto out;
		arr = json_object_get(root, "age_bands");
		for (i = 0; i < q->nbands; i++) {
			if (append_new(arr, json_pack("[ii]", q->bands[i].lo,
			    q->bands[i].hi)) != 0)
				goto out;
		}
	}
	if (set_new(root, "min_cell", json_integer(q->min_cell)) != 0)
		goto out;

	r = 0;
	*ret_root = root;
	root = NULL;
out:
	json_decref(period);
	json_decref(root);
	return r;
}

int
cc_query_to_json(char **ret_json, size_t *ret_len, const struct cc_query *q)
{
	json_t *root = NULL;
	json_malloc_t jmalloc;
	json_free_t jfree;
	char *text = NULL, *copy = NULL;
	size_t len;
	int r = CC_ERR_INTERNAL;

	if (ret_json != NULL)
		*ret_json = NULL;
	if (ret_len != NULL)
		*ret_len = 0;
	if (ret_json == NULL || q == NULL) {
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if ((r = cc_query_to_json_value(&root, q)) != 0)
		goto out;
	/* The canonical form: compact, sorted keys, UTF-8 left as is. */
	if ((text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	/* Our own copy, so that callers free() it whatever Jansson uses. */
	len = strlen(text);
	if ((copy = malloc(len + 1)) == NULL) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	memcpy(copy, text, len + 1);
	r = 0;
	*ret_json = copy;
	if (ret_len != NULL)
		*ret_len = len;
	copy = NULL;
out:
	if (text != NULL) {
		json_get_alloc_funcs(&jmalloc, &jfree);
		jfree(text);
	}
	free(copy);
	json_decref(root);
	return r;
}

int
cc_query_digest(uint8_t ret_digest[CC_QUERY_DIGEST_LEN],
    const struct cc_query *q)
{
	char *text = NULL;
	size_t len;
	unsigned int dlen = 0;
	int r = CC_ERR_INTERNAL;

	if (ret_digest != NULL)
		memset(ret_digest, 0, CC_QUERY_DIGEST_LEN);
	if (ret_digest == NULL || q == NULL) {
		r = CC_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if ((r = cc_query_to_json(&text, &len, q)) != 0)
		goto out;
	if (EVP_Digest(text, len, ret_digest, &dlen, EVP_sha256(), NULL) != 1 ||
	    dlen != CC_QUERY_DIGEST_LEN) {
		memset(ret_digest, 0, CC_QUERY_DIGEST_LEN);
		r = CC_ERR_CRYPTO;
		goto out;
	}
	r = 0;
out:
	free(text);
	return r;
}

int
cc_query_node_index(const struct cc_query *q, const char *node_id)
{
	size_t i;

	if (q == NULL || node_id == NULL)
		return -1;
	for (i = 0; i < q->nnodes; i++) {
		if (strcmp(q->nodes[i], node_id) == 0)
			return (int)i;
	}
	return -1;
}

int
cc_query_set_of_node(const struct cc_query *q, const char *node_id)
{
	size_t i, j;

	if (q == NULL || node_id == NULL)
		return -1;
	for (i = 0; i < q->nsets; i++) {
		for (j = 0; j < q->sets[i].nnodes; j++) {
			if (strcmp(q->sets[i].nodes[j], node_id) == 0)
				return (int)i;
		}
	}
	return -1;
}

bool
cc_query_set_has_category(const struct cc_query_set *set,
    const char *category)
{
	size_t i;

	if (set == NULL || category == NULL)
		return false;
	if (set->ncategories == 0)
		return true;
	for (i = 0; i < set->ncategories; i++) {
		if (strcmp(set->categories[i], category) == 0)
			return true;
	}
	return false;
}

void
cc_query_period_first_day(const struct cc_query *q, struct cc_date *ret_date)
{
	ret_date->year = q->period_from / 12;
	ret_date->month = q->period_from % 12 + 1;
	ret_date->day = 1;
}

void
cc_query_period_last_day(const struct cc_query *q, struct cc_date *ret_date)
{
	ret_date->year = q->period_to / 12;
	ret_date->month = q->period_to % 12 + 1;
	ret_date->day = cc_date_days_in_month(ret_date->year, ret_date->month);
}

bool
cc_query_episode_in_period(const struct cc_query *q,
    const struct cc_date *start, const struct cc_date *end)
{
	struct cc_date first, last;

	if (q == NULL || start == NULL)
		return false;
	cc_query_period_first_day(q, &first);
	cc_query_period_last_day(q, &last);
	if (cc_date_cmp(start, &last) > 0)
		return false;
	return end == NULL || cc_date_cmp(end, &first) >= 0;
}

int
cc_query_age_band_of(const struct cc_query *q, int birth_year,
    int birth_month, int birth_day)
{
	struct cc_date last;
	size_t i;
	int age;

	if (q == NULL)
		return -1;
	if (!q->by_age_band)
		return CC_QUERY_BAND_NONE;
	if (birth_month < 1 || birth_month > 12 || birth_day < 0 ||
	    birth_day > 31)
		return -1;
	/* SPEC 7.3: completed years on the last day of the period. */
	cc_query_period_last_day(q, &last);
	age = cc_date_age(birth_year, birth_month, birth_day, &last);
	if (age < 0)
		return -1;
	for (i = 0; i < q->nbands; i++) {
		if (age >= q->bands[i].lo && age <= q->bands[i].hi)
			return (int)i;
	}
	return -1;
}

size_t
cc_query_cells(const struct cc_query *q)
{
	size_t bands = q->by_age_band ? q->nbands : 1;

	return bands * (q->by_sex ? 2 : 1);
}

size_t
cc_query_regions(const struct cc_query *q)
{
	return ((size_t)1 << q->nsets) - 1;
}

int
cc_query_cell_of(const struct cc_query *q, int age_band, int sex)
{
	int band_index = 0, sex_index = 0;

	if (q == NULL)
		return -1;
	if (q->by_age_band) {
		if (age_band < 0 || (size_t)age_band >= q->nbands)
			return -1;
		band_index = age_band;
	} else if (age_band != CC_QUERY_BAND_NONE) {
		return -1;
	}
	if (q->by_sex) {
		if (sex != CC_QUERY_SEX_FEMALE && sex != CC_QUERY_SEX_MALE)
			return -1;
		sex_index = sex - CC_QUERY_SEX_FEMALE;
	} else if (sex != CC_QUERY_SEX_NONE) {
		return -1;
	}
	return band_index * (q->by_sex ? 2 : 1) + sex_index;
}

int
cc_query_cell_attributes(int *ret_age_band, int *ret_sex,
    const struct cc_query *q, size_t cell)
{
	size_t nsex;

	if (ret_age_band != NULL)
		*ret_age_band = 0;
	if (ret_sex != NULL)
		*ret_sex = 0;
	if (ret_age_band == NULL || ret_sex == NULL || q == NULL ||
	    cell >= cc_query_cells(q))
		return CC_ERR_INVALID_ARGUMENT;
	nsex = q->by_sex ? 2 : 1;
	*ret_age_band = q->by_age_band ? (int)(cell / nsex) :
	    CC_QUERY_BAND_NONE;
	*ret_sex = q->by_sex ? CC_QUERY_SEX_FEMALE + (int)(cell % nsex) :
	    CC_QUERY_SEX_NONE;
	return 0;
}

int
cc_query_band_label(char out[CC_QUERY_CELL_LABEL_MAX],
    const struct cc_query *q, size_t band)
{
	out[0] = '\0';
	if (q == NULL || !q->by_age_band || band >= q->nbands)
		return CC_ERR_INVALID_ARGUMENT;
	snprintf(out, CC_QUERY_CELL_LABEL_MAX, "%d-%d", q->bands[band].lo,
	    q->bands[band].hi);
	return 0;
}

int
cc_query_cell_label(char out[CC_QUERY_CELL_LABEL_MAX],
    const struct cc_query *q, size_t cell)
{
	char band[CC_QUERY_CELL_LABEL_MAX] = "";
	int age_band, sex, r;

	out[0] = '\0';
	if ((r = cc_query_cell_attributes(&age_band, &sex, q, cell)) != 0)
		return r;
	if (!q->by_age_band && !q->by_sex) {
		snprintf(out, CC_QUERY_CELL_LABEL_MAX, "all");
		return 0;
	}
	if (q->by_age_band &&
	    (r = cc_query_band_label(band, q, (size_t)age_band)) != 0)
		return r;
	snprintf(out, CC_QUERY_CELL_LABEL_MAX, "%s%s%s", band,
	    q->by_age_band && q->by_sex ? " " : "",
	    !q->by_sex ? "" : sex == CC_QUERY_SEX_FEMALE ? "F" : "M");
	return 0;
}

/* SPEC 7.2 default grids; see query.h for what each is for. */
static const struct cc_query_grid default_grids[] = {
	{ 3, { { 0, 5 }, { 6, 12 }, { 13, 17 } } },
	{ 6, { { 0, 2 }, { 3, 5 }, { 6, 9 }, { 10, 12 }, { 13, 15 },
	    { 16, 17 } } },
	{ 1, { { 0, 17 } } },
	{ 3, { { 6, 9 }, { 10, 12 }, { 13, 15 } } },
	{ 1, { { 6, 15 } } },
	{ 2, { { 0, 17 }, { 18, 24 } } },
	{ 3, { { 13, 17 }, { 18, 20 }, { 21, 24 } } },
};

const struct cc_query_grid *
cc_query_default_grids(size_t *ret_ngrids)
{
	if (ret_ngrids != NULL)
		*ret_ngrids = sizeof(default_grids) / sizeof(default_grids[0]);
	return default_grids;
}

void
cc_federation_policy_defaults(struct cc_federation_policy *ret_policy)
{
	memset(ret_policy, 0, sizeof(*ret_policy));
	ret_policy->grids = cc_query_default_grids(&ret_policy->ngrids);
	ret_policy->min_cell_floor = CC_QUERY_DEFAULT_MIN_CELL;
	ret_policy->max_period_months = CC_LIMIT_PERIOD_MONTHS;
	ret_policy->period_align_months = 1;
	ret_policy->allow_sex = true;
}

static bool
grid_equal(const struct cc_query *q, const struct cc_query_grid *g)
{
	size_t i;

	if (g->nbands != q->nbands)
		return false;
	for (i = 0; i < q->nbands; i++) {
		if (g->bands[i].lo != q->bands[i].lo ||
		    g->bands[i].hi != q->bands[i].hi)
			return false;
	}
	return true;
}

int
cc_query_check_policy(const struct cc_query *q,
    const struct cc_federation_policy *policy, struct cc_diag *diag)
{
	unsigned months, align;
	size_t i;
	bool known = false;

	if (q == NULL || policy == NULL || policy->min_cell_floor < 1 ||
	    policy->period_align_months < 1 ||
	    (policy->ngrids > 0 && policy->grids == NULL)) {
		cc_diag_set(diag, "internal: no query or no valid policy given");
		return CC_ERR_INVALID_ARGUMENT;
	}
	months = (unsigned)(q->period_to - q->period_from + 1);
	if (months > policy->max_period_months) {
		cc_diag_set(diag, "period: %u months, the federation allows "
		    "at most %u", months, policy->max_period_months);
		return CC_ERR_POLICY;
	}
	/* Fixed period grids (SPEC 7.2) limit differencing between queries. */
	align = policy->period_align_months;
	if ((unsigned)(q->period_from % 12) % align != 0 ||
	    months % align != 0) {
		cc_diag_set(diag, "period: must consist of whole %u-month "
		    "blocks counted from January", align);
		return CC_ERR_POLICY;
	}
	if (q->by_sex && !policy->allow_sex) {
		cc_diag_set(diag, "breakdown: the federation does not allow "
		    "a breakdown by sex");
		return CC_ERR_POLICY;
	}
	if (q->by_age_band) {
		for (i = 0; i < policy->ngrids; i++) {
			if (grid_equal(q, &policy->grids[i]))
				known = true;
		}
		if (!known) {
			cc_diag_set(diag, "age_bands: unknown age-band grid "
			    "(not one of the %zu grids the federation allows)",
			    policy->ngrids);
			return CC_ERR_POLICY;
		}
	}
	if (q->min_cell < policy->min_cell_floor) {
		cc_diag_set(diag, "min_cell: %u is below the federation floor %u",
		    q->min_cell, policy->min_cell_floor);
		return CC_ERR_POLICY;
	}
	return 0;
}
