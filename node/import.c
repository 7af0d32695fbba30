/* crosscount-node: the import pipeline (import.h; SPEC.md 6.4). */
#include "node/import.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "node/seen.h"
#include "protocol/group.h"
#include "protocol/identity.h"
#include "protocol/limits.h"
#include "protocol/parallel.h"
#include "protocol/query.h"

/* Chunks in the pipeline: one being read, the others hashed or inserted. */
#define NCHUNKS 3
/* Rows a worker takes at a time from a chunk. */
#define GRAIN 32
/* Slots of the category lookup table (a power of two > 2 * the limit). */
#define CATEGORY_SLOTS 1024

static const bool required[CC_COLUMN_COUNT_] = {
	[CC_COLUMN_PERSONNUMMER] = true,
	[CC_COLUMN_CATEGORY] = true,
	[CC_COLUMN_START_DATE] = true,
	[CC_COLUMN_END_DATE] = false,    /* absent: every episode ongoing */
	[CC_COLUMN_UNIT] = false,
};

/* A validated row waiting for its pseudonym. Holds no identity. */
struct row {
	unsigned long line;
	uint8_t pseudonym[CC_ELEMENT_BYTES];
	uint8_t seen_key[CC_SEEN_KEY_BYTES];    /* seen.h */
	enum cc_seen_result seen;               /* AGAIN: P comes from seen */
	int birth_year;
	int birth_month;
	enum cc_sex sex;
	int64_t category_id;
	struct cc_date start;
	struct cc_date end;
	bool ongoing;
	size_t unit_len;
	char unit[CC_LIMIT_UNIT + 1];
};

struct chunk {
	size_t n;
	size_t cap;             /* rows allocated */
	struct row *rows;       /* pseudonyms: wiped before they are freed */
	/* Canonical identities of the rows, in guarded memory; each is
	 * wiped by the worker right after hashing it. */
	char (*canon)[CC_ID_CANONICAL_LEN];
	atomic_size_t next;
	atomic_size_t done;
	atomic_int error;
	bool finished;          /* under pool.mu */
};

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t work_cv;
	pthread_cond_t done_cv;
	struct chunk *queue[NCHUNKS];   /* submitted, in file order */
	size_t qhead, qlen;
	bool stop;
	const uint8_t *s;
	pthread_t tid[CC_LIMIT_THREADS];
	unsigned nthreads;
};

struct category_slot {
	size_t len;             /* 0 = empty */
	char name[CC_LIMIT_CATEGORY];
	int64_t id;
};

struct import {
	struct cc_store *st;
	const struct cc_import_options *opt;
	struct cc_import_result *res;
	struct cc_csv *csv;
	size_t chunk_rows;
	int col[CC_COLUMN_COUNT_];      /* header index, or -1 */
	size_t header_fields;
	struct category_slot *cat;      /* CATEGORY_SLOTS */
	struct cc_seen *seen;           /* persons met earlier in the file */
	size_t ncat_store;              /* categories in the store */
	int report_fd;
	FILE *report;
};

/* ---- the worker pool ---- */

static void
process_rows(struct pool *p, struct chunk *c, size_t begin, size_t end)
{
	uint8_t h[CC_ELEMENT_BYTES];
	size_t i;

	for (i = begin; i < end; i++) {
		/* Met earlier: its P is copied when the chunk is inserted. */
		if (c->rows[i].seen == CC_SEEN_AGAIN) {
			sodium_memzero(c->canon[i], sizeof(c->canon[i]));
			continue;
		}
		/* SPEC.md 5.3 then 6.2: P = s·H(id). */
		if (cc_group_hash_identity(h, c->canon[i]) != 0 ||
		    cc_group_mult(c->rows[i].pseudonym, p->s, h) != 0) {
			int expected = 0;

			atomic_compare_exchange_strong(&c->error, &expected,
			    CC_ERR_CRYPTO);
		}
		sodium_memzero(c->canon[i], sizeof(c->canon[i]));
	}
	sodium_memzero(h, sizeof(h));
}

/* The oldest submitted chunk that still has rows to hand out. */
static struct chunk *
pool_pick(struct pool *p)
{
	size_t i;
	struct chunk *c;

	for (i = 0; i < p->qlen; i++) {
		c = p->queue[(p->qhead + i) % NCHUNKS];
		if (atomic_load(&c->next) < c->n)
			return c;
	}
	return NULL;
}

static void *
pool_worker(void *arg)
{
	struct pool *p = arg;
	struct chunk *c = NULL;
	size_t b, e, d;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && (c = pool_pick(p)) == NULL)
			pthread_cond_wait(&p->work_cv, &p->mu);
		if (p->stop)
			break;
		pthread_mutex_unlock(&p->mu);
		for (;;) {
			b = atomic_fetch_add(&c->next, GRAIN);
			if (b >= c->n)
				break;
			e = c->n - b < GRAIN ? c->n : b + GRAIN;
			process_rows(p, c, b, e);
			d = atomic_fetch_add(&c->done, e - b) + (e - b);
			if (d == c->n) {
				pthread_mutex_lock(&p->mu);
				c->finished = true;
				pthread_cond_broadcast(&p->done_cv);
				pthread_mutex_unlock(&p->mu);
			}
		}
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static int
pool_start(struct pool *p, const uint8_t *s, unsigned nthreads)
{
	unsigned i;

	memset(p, 0, sizeof(*p));
	p->s = s;
	if (pthread_mutex_init(&p->mu, NULL) != 0)
		return CC_ERR_INTERNAL;
	pthread_cond_init(&p->work_cv, NULL);
	pthread_cond_init(&p->done_cv, NULL);
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&p->tid[i], NULL, pool_worker, p) != 0)
			break;
		p->nthreads++;
	}
	return p->nthreads > 0 ? 0 : CC_ERR_INTERNAL;
}

static void
pool_stop(struct pool *p)
{
	unsigned i;

	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->tid[i], NULL);
	pthread_cond_destroy(&p->work_cv);
	pthread_cond_destroy(&p->done_cv);
	pthread_mutex_destroy(&p->mu);
}

static void
pool_submit(struct pool *p, struct chunk *c)
{
	pthread_mutex_lock(&p->mu);
	atomic_store(&c->next, 0);
	atomic_store(&c->done, 0);
	atomic_store(&c->error, 0);
	c->finished = c->n == 0;
	p->queue[(p->qhead + p->qlen) % NCHUNKS] = c;
	p->qlen++;
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
}

/* Wait for the oldest submitted chunk and take it off the queue. */
static struct chunk *
pool_wait_oldest(struct pool *p)
{
	struct chunk *c;

	pthread_mutex_lock(&p->mu);
	c = p->queue[p->qhead];
	while (!c->finished)
		pthread_cond_wait(&p->done_cv, &p->mu);
	p->qhead = (p->qhead + 1) % NCHUNKS;
	p->qlen--;
	pthread_mutex_unlock(&p->mu);
	return c;
}

static void
chunk_free(struct chunk *c)
{
	if (c == NULL)
		return;
	if (c->canon != NULL)
		sodium_free(c->canon);   /* wipes */
	if (c->rows != NULL)
		sodium_memzero(c->rows, c->cap * sizeof(*c->rows));
	free(c->rows);
	c->canon = NULL;
	c->rows = NULL;
}

static int
chunk_alloc(struct chunk *c, size_t rows)
{
	memset(c, 0, sizeof(*c));
	c->cap = rows;
	if ((c->rows = calloc(rows, sizeof(*c->rows))) == NULL ||
	    (c->canon = sodium_allocarray(rows, sizeof(*c->canon))) == NULL) {
		chunk_free(c);
		return CC_ERR_ALLOC;
	}
	atomic_init(&c->next, 0);
	atomic_init(&c->done, 0);
	atomic_init(&c->error, 0);
	return 0;
}

/* ---- rows ---- */

void
cc_import_options_defaults(struct cc_import_options *opt)
{
	if (opt == NULL)
		return;
	memset(opt, 0, sizeof(*opt));
	opt->mode = CC_STORE_SNAPSHOT;
	if (cc_date_today(&opt->on) != 0) {
		opt->on.year = 1970;
		opt->on.month = 1;
		opt->on.day = 1;
	}
	opt->encoding = CC_CSV_ENCODING_AUTO;
	opt->max_reject_rate = 0.01;
}

static void
trim(const char **p, size_t *len)
{
	while (*len > 0 && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*len)--;
	}
	while (*len > 0 && ((*p)[*len - 1] == ' ' || (*p)[*len - 1] == '\t'))
		(*len)--;
}

static bool
has_control(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return true;
	return false;
}

/*
 * A value that parses as an identity must not be stored as a category or
 * unit: it would put a personnummer in the database when the column
 * mapping is wrong.
 */
static bool
looks_like_identity(const char *p, size_t len, const struct cc_date *on)
{
	struct cc_identity id;
	bool yes;

	if (len < 10 || len > 13)
		return false;
	yes = cc_identity_parse(&id, p, len, on, NULL) == 0;
	cc_identity_wipe(&id);
	return yes;
}

static void
csv_quote(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/*
 * Record a rejected row: in the report (created on the first reject) and
 * among the few kept for the caller. mask is an identity mask or "".
 */
static int
reject(struct import *im, unsigned long line, enum cc_column col, bool whole,
    const char *mask, const char *reason, struct cc_diag *diag)
{
	struct cc_import_result *res = im->res;
	const char *colname = whole ? "" : cc_column_name(col);
	struct cc_import_reject *x;

	res->rows_rejected++;
	if (res->nshown < CC_IMPORT_SHOWN_REJECTS) {
		x = &res->shown[res->nshown++];
		x->line = line;
		snprintf(x->column, sizeof(x->column), "%s", colname);
		if (mask[0] != '\0')
			snprintf(x->text, sizeof(x->text), "%s: %s", mask, reason);
		else
			snprintf(x->text, sizeof(x->text), "%s", reason);
	}
	if (im->opt->reject_report == NULL)
		return 0;
	if (res->rows_rejected > CC_IMPORT_REPORT_MAX) {
		res->report_truncated = true;
		return 0;
	}
	if (im->report == NULL) {
		im->report_fd = open(im->opt->reject_report,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (im->report_fd < 0 ||
		    (im->report = fdopen(im->report_fd, "w")) == NULL) {
			cc_diag_set(diag, "%s: %s", im->opt->reject_report,
			    strerror(errno));
			return CC_ERR_IO;
		}
		im->report_fd = -1;
		res->report_written = true;
		fputs("line,column,personnummer,reason\n", im->report);
	}
	fprintf(im->report, "%lu,%s,", line, colname);
	csv_quote(im->report, mask);
	fputc(',', im->report);
	csv_quote(im->report, reason);
	fputc('\n', im->report);
	if (ferror(im->report)) {
		cc_diag_set(diag, "%s: write failed", im->opt->reject_report);
		return CC_ERR_IO;
	}
	return 0;
}

static uint32_t
category_hash(const char *p, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (uint8_t)p[i];
		h *= 16777619u;
	}
	return h;
}

/* The store id of a category, creating it if new (within the limit). */
static int
category_id(struct import *im, const char *name, size_t len, int64_t *ret_id,
    struct cc_diag *diag)
{
	struct category_slot *slot;
	size_t i;
	int r;

	i = category_hash(name, len) & (CATEGORY_SLOTS - 1);
	for (;;) {
		slot = &im->cat[i];
		if (slot->len == 0)
			break;
		if (slot->len == len && memcmp(slot->name, name, len) == 0) {
			*ret_id = slot->id;
			return 0;
		}
		i = (i + 1) & (CATEGORY_SLOTS - 1);
	}
	if ((r = cc_store_import_category(im->st, name, len, ret_id, diag)) != 0)
		return r;
	if ((r = cc_store_category_count(im->st, &im->ncat_store, diag)) != 0)
		return r;
	if (im->ncat_store > CC_LIMIT_NODE_CATEGORIES) {
		cc_diag_set(diag, "the node would hold more than %d categories",
		    CC_LIMIT_NODE_CATEGORIES);
		return CC_ERR_LIMIT;
	}
	/* At most CC_LIMIT_NODE_CATEGORIES slots are used of CATEGORY_SLOTS. */
	slot->len = len;
	memcpy(slot->name, name, len);
	slot->id = *ret_id;
	return 0;
}

static void
field(const struct cc_csv_record *rec, int idx, const char **ret_p,
    size_t *ret_len)
{
	*ret_p = rec->field[idx];
	*ret_len = rec->len[idx];
	trim(ret_p, ret_len);
}

/*
 * Validate one record into row/canon. Returns 0 for a good row, 1 for a
 * rejected one (already recorded), or a fatal error.
 */
static int
read_row(struct import *im, const struct cc_csv_record *rec, struct row *row,
    char canon[CC_ID_CANONICAL_LEN], struct cc_diag *diag)
{
	struct cc_identity id;
	struct cc_diag why;
	char mask[CC_ID_MASK_MAX] = "";
	char reason[CC_DIAG_MAX];
	const char *p;
	size_t len;
	enum cc_column bad = CC_COLUMN_PERSONNUMMER;
	bool whole = false;
	int r = 1;

	memset(&id, 0, sizeof(id));
	memset(row, 0, sizeof(*row));
	why.text[0] = '\0';
	row->line = rec->line;
	if (rec->nfields != im->header_fields) {
		snprintf(reason, sizeof(reason), "the row has %zu fields, the "
		    "header %zu", rec->nfields, im->header_fields);
		whole = true;
		goto rejected;
	}
	/* personnummer (SPEC.md 4.1, 4.2) */
	field(rec, im->col[CC_COLUMN_PERSONNUMMER], &p, &len);
	cc_identity_mask(mask, p, len);
	if (len == 0) {
		snprintf(reason, sizeof(reason), "empty");
		goto rejected;
	}
	if (cc_identity_parse(&id, p, len, &im->opt->on, &why) != 0) {
		snprintf(reason, sizeof(reason), "%s",
		    why.text[0] ? why.text : "not a valid personnummer");
		goto rejected;
	}
	/* category */
	bad = CC_COLUMN_CATEGORY;
	field(rec, im->col[CC_COLUMN_CATEGORY], &p, &len);
	if (len == 0) {
		snprintf(reason, sizeof(reason), "empty");
		goto rejected;
	}
	if (len > CC_LIMIT_CATEGORY) {
		snprintf(reason, sizeof(reason), "longer than %d bytes",
		    CC_LIMIT_CATEGORY);
		goto rejected;
	}
	if (has_control(p, len)) {
		snprintf(reason, sizeof(reason), "contains a control character");
		goto rejected;
	}
	if (looks_like_identity(p, len, &im->opt->on)) {
		snprintf(reason, sizeof(reason), "looks like a personnummer "
		    "(check the column mapping)");
		goto rejected;
	}
	/* Only a name a query can ask for is worth storing (SPEC 7.2). */
	if (!cc_query_category_valid(p, len)) {
		snprintf(reason, sizeof(reason), "not a category name (letters, "
		    "digits, '_', '-', '.' and inner spaces)");
		goto rejected;
	}
	/* start_date, end_date */
	bad = CC_COLUMN_START_DATE;
	field(rec, im->col[CC_COLUMN_START_DATE], &p, &len);
	if (len == 0) {
		snprintf(reason, sizeof(reason), "empty");
		goto rejected;
	}
	/* Our own reason: the date module's might quote the field. */
	if (cc_date_parse(&row->start, p, len, NULL) != 0) {
		snprintf(reason, sizeof(reason), "not a date (YYYY-MM-DD or "
		    "YYYYMMDD)");
		goto rejected;
	}
	bad = CC_COLUMN_END_DATE;
	len = 0;
	if (im->col[CC_COLUMN_END_DATE] >= 0)
		field(rec, im->col[CC_COLUMN_END_DATE], &p, &len);
	if (len == 0) {
		row->ongoing = true;
	} else if (cc_date_parse(&row->end, p, len, NULL) != 0) {
		snprintf(reason, sizeof(reason), "not a date (YYYY-MM-DD or "
		    "YYYYMMDD)");
		goto rejected;
	} else if (cc_date_cmp(&row->end, &row->start) < 0) {
		snprintf(reason, sizeof(reason), "before start_date");
		goto rejected;
	}
	/* unit (optional column, optional value) */
	if (im->col[CC_COLUMN_UNIT] >= 0) {
		bad = CC_COLUMN_UNIT;
		field(rec, im->col[CC_COLUMN_UNIT], &p, &len);
		if (len > CC_LIMIT_UNIT) {
			snprintf(reason, sizeof(reason), "longer than %d bytes",
			    CC_LIMIT_UNIT);
			goto rejected;
		}
		if (has_control(p, len)) {
			snprintf(reason, sizeof(reason),
			    "contains a control character");
			goto rejected;
		}
		if (looks_like_identity(p, len, &im->opt->on)) {
			snprintf(reason, sizeof(reason), "looks like a "
			    "personnummer (check the column mapping)");
			goto rejected;
		}
		memcpy(row->unit, p, len);
		row->unit[len] = '\0';
		row->unit_len = len;
	}
	/* The category last: a rejected row must not create one. */
	field(rec, im->col[CC_COLUMN_CATEGORY], &p, &len);
	if ((r = category_id(im, p, len, &row->category_id, diag)) != 0)
		goto out;
	row->birth_year = id.birth_year;
	row->birth_month = id.birth_month;
	row->sex = id.sex;
	memcpy(canon, id.canonical, CC_ID_CANONICAL_LEN);
	r = 0;
	goto out;
rejected:
	r = reject(im, rec->line, bad, whole, mask, reason, diag);
	if (r == 0)
		r = 1;
out:
	cc_identity_wipe(&id);
	sodium_memzero(&why, sizeof(why));
	return r;
}

/* Insert a hashed chunk in file order. */
static int
insert_chunk(struct import *im, struct chunk *c, struct cc_diag *diag)
{
	struct cc_store_episode ep;
	struct row *row;
	size_t i;
	bool added;
	int r;

	if ((r = atomic_load(&c->error)) != 0) {
		cc_diag_set(diag, "hashing an identity failed");
		return r;
	}
	for (i = 0; i < c->n; i++) {
		row = &c->rows[i];
		/*
		 * Chunks are inserted in file order, so the first row of a
		 * person has given the table its P before any later one.
		 */
		if (row->seen == CC_SEEN_AGAIN &&
		    cc_seen_get(im->seen, row->seen_key, row->pseudonym) != 0) {
			cc_diag_set(diag, "line %lu: the pseudonym of an earlier "
			    "row is missing", row->line);
			return CC_ERR_INTERNAL;
		}
		if (row->seen == CC_SEEN_NEW &&
		    (r = cc_seen_set(im->seen, row->seen_key,
		    row->pseudonym)) != 0)
			return r;
		memcpy(ep.pseudonym, row->pseudonym, sizeof(ep.pseudonym));
		ep.birth_year = row->birth_year;
		ep.birth_month = row->birth_month;
		ep.sex = row->sex;
		ep.category_id = row->category_id;
		ep.start = row->start;
		ep.ongoing = row->ongoing;
		ep.end = row->end;
		ep.unit = row->unit;
		ep.unit_len = row->unit_len;
		if ((r = cc_store_import_add(im->st, &ep, &added, diag)) != 0) {
			cc_diag_prefix(diag, "line %lu: ", row->line);
			return r;
		}
		im->res->rows_imported++;
		if (!added)
			im->res->duplicates++;
	}
	c->n = 0;
	return 0;
}

/* Find the logical columns in the header (case-insensitive, trimmed). */
static int
map_header(struct import *im, struct cc_diag *diag)
{
	const struct cc_csv_record *h = cc_csv_header(im->csv);
	const char *want, *p;
	size_t i, len, wlen;
	int col;

	im->header_fields = h->nfields;
	for (col = 0; col < CC_COLUMN_COUNT_; col++) {
		want = im->opt->column != NULL && im->opt->column[col][0] != '\0' ?
		    im->opt->column[col] : cc_column_name((enum cc_column)col);
		wlen = strlen(want);
		trim(&want, &wlen);
		im->col[col] = -1;
		for (i = 0; i < h->nfields; i++) {
			p = h->field[i];
			len = h->len[i];
			trim(&p, &len);
			if (len != wlen || strncasecmp(p, want, len) != 0)
				continue;
			if (im->col[col] >= 0) {
				cc_diag_set(diag, "the header has column %s "
				    "twice", cc_column_name((enum cc_column)col));
				return CC_ERR_FORMAT;
			}
			im->col[col] = (int)i;
		}
		if (im->col[col] < 0 && required[col]) {
			if (strcmp(want, cc_column_name((enum cc_column)col)) == 0)
				cc_diag_set(diag, "the header lacks the "
				    "required column %s", want);
			else
				cc_diag_set(diag, "the header lacks the "
				    "required column %s (\"%s\" in node.conf)",
				    cc_column_name((enum cc_column)col), want);
			return CC_ERR_FORMAT;
		}
	}
	return 0;
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/* The read-validate-hash-insert loop; the store transaction is open. */
static int
run_pipeline(struct import *im, struct pool *pool, struct chunk *chunks,
    struct cc_diag *diag)
{
	struct cc_csv_record rec;
	struct chunk *freelist[NCHUNKS], *cur = NULL, *c;
	struct cc_diag why;
	size_t nfree = 0, i;
	int r, rr;

	for (i = 0; i < NCHUNKS; i++)
		freelist[nfree++] = &chunks[NCHUNKS - 1 - i];
	cur = freelist[--nfree];
	cur->n = 0;
	for (;;) {
		why.text[0] = '\0';
		rr = cc_csv_next(im->csv, &rec, &why);
		if (rr == 0)
			break;
		if (rr == CC_ERR_LIMIT || rr == CC_ERR_FORMAT) {
			/* One bad record, not a bad file (csv.h). */
			im->res->rows_read++;
			if ((r = reject(im, rec.line, CC_COLUMN_PERSONNUMMER,
			    true, "", rr == CC_ERR_LIMIT ?
			    "the row or one of its fields is too long" :
			    "bad quoting", diag)) != 0)
				return r;
			continue;
		}
		if (rr < 0) {
			cc_diag_set(diag, "%s", why.text[0] ? why.text :
			    cc_strerror(rr));
			return rr;
		}
		im->res->rows_read++;
		r = read_row(im, &rec, &cur->rows[cur->n], cur->canon[cur->n],
		    diag);
		if (r < 0)
			return r;
		if (r == 1)
			continue;
		cc_seen_key(im->seen, cur->canon[cur->n],
		    cur->rows[cur->n].seen_key);
		if ((r = cc_seen_mark(im->seen, cur->rows[cur->n].seen_key,
		    &cur->rows[cur->n].seen)) != 0)
			return r;
		if (++cur->n < im->chunk_rows)
			continue;
		pool_submit(pool, cur);
		if (nfree == 0) {
			c = pool_wait_oldest(pool);
			if ((r = insert_chunk(im, c, diag)) != 0)
				return r;
			freelist[nfree++] = c;
		}
		cur = freelist[--nfree];
		cur->n = 0;
	}
	if (cur->n > 0)
		pool_submit(pool, cur);
	while (pool->qlen > 0) {
		c = pool_wait_oldest(pool);
		if ((r = insert_chunk(im, c, diag)) != 0)
			return r;
	}
	return 0;
}

int
cc_import_file(struct cc_store *st, const struct cc_key *key,
    const char *csv_path, const struct cc_import_options *opt,
    struct cc_import_result *ret_res, struct cc_diag *diag)
{
	struct import im;
	struct pool pool;
	struct chunk chunks[NCHUNKS];
	struct cc_store_import_log log;
	struct stat sb;
	FILE *f = NULL;
	char detail[CC_DIAG_MAX];
	unsigned threads;
	size_t i;
	int r = CC_ERR_INTERNAL;
	bool pool_up = false, began = false;

	if (ret_res == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	memset(ret_res, 0, sizeof(*ret_res));
	if (st == NULL || key == NULL || csv_path == NULL || opt == NULL ||
	    (opt->mode != CC_STORE_SNAPSHOT && opt->mode != CC_STORE_APPEND) ||
	    !(opt->max_reject_rate >= 0.0 && opt->max_reject_rate <= 1.0) ||
	    !cc_date_valid(opt->on.year, opt->on.month, opt->on.day))
		return CC_ERR_INVALID_ARGUMENT;
	if (sodium_init() < 0)
		return CC_ERR_CRYPTO;
	memset(&im, 0, sizeof(im));
	memset(chunks, 0, sizeof(chunks));
	memset(&log, 0, sizeof(log));
	im.st = st;
	im.opt = opt;
	im.res = ret_res;
	im.report_fd = -1;
	im.chunk_rows = opt->chunk_rows ? opt->chunk_rows : CC_IMPORT_DEFAULT_CHUNK;
	log.started_at = (int64_t)time(NULL);
	log.file_name = base_name(csv_path);
	log.mode = opt->mode;
	log.on = opt->on;

	if ((f = fopen(csv_path, "rb")) == NULL) {
		cc_diag_set(diag, "%s: %s", csv_path, strerror(errno));
		r = CC_ERR_IO;
		goto out;
	}
	if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		cc_diag_set(diag, "%s: not a regular file", csv_path);
		r = CC_ERR_IO;
		goto out;
	}
	if ((r = cc_csv_open(&im.csv, f, opt->encoding, diag)) != 0)
		goto out;
	if ((r = map_header(&im, diag)) != 0)
		goto out;
	if ((im.cat = calloc(CATEGORY_SLOTS, sizeof(*im.cat))) == NULL ||
	    cc_seen_new(&im.seen) != 0) {
		r = CC_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < NCHUNKS; i++)
		if ((r = chunk_alloc(&chunks[i], im.chunk_rows)) != 0)
			goto out;
	threads = opt->threads ? opt->threads : cc_parallel_cores();
	if (threads > CC_LIMIT_THREADS)
		threads = CC_LIMIT_THREADS;
	if ((r = pool_start(&pool, key->s, threads)) != 0)
		goto out;
	pool_up = true;
	/* One transaction from here to the commit (SPEC.md 6.4). */
	if ((r = cc_store_import_begin(st, opt->mode, key->fingerprint, diag)) != 0)
		goto out;
	began = true;
	if ((r = cc_store_category_count(st, &im.ncat_store, diag)) != 0)
		goto out;
	if ((r = run_pipeline(&im, &pool, chunks, diag)) != 0)
		goto out;
	if (ret_res->rows_read == 0) {
		cc_diag_set(diag, "the file has no data rows");
		r = CC_ERR_FORMAT;
		goto out;
	}
	if ((double)ret_res->rows_rejected >
	    opt->max_reject_rate * (double)ret_res->rows_read) {
		cc_diag_set(diag, "%llu of %llu rows are bad (%.2f%%), more "
		    "than the %.2f%% allowed", (unsigned long long)
		    ret_res->rows_rejected, (unsigned long long)
		    ret_res->rows_read, 100.0 * (double)ret_res->rows_rejected /
		    (double)ret_res->rows_read, 100.0 * opt->max_reject_rate);
		r = CC_ERR_POLICY;
		goto out;
	}
	if (im.report != NULL && fflush(im.report) != 0) {
		cc_diag_set(diag, "%s: write failed", opt->reject_report);
		r = CC_ERR_IO;
		goto out;
	}
	log.finished_at = (int64_t)time(NULL);
	log.rows_read = ret_res->rows_read;
	log.rows_imported = ret_res->rows_imported;
	log.rows_rejected = ret_res->rows_rejected;
	log.duplicates = ret_res->duplicates;
	log.outcome = ret_res->rows_rejected ? "rejected-rows" : "ok";
	snprintf(detail, sizeof(detail), "%llu episodes stored, %llu "
	    "duplicates", (unsigned long long)(ret_res->rows_imported -
	    ret_res->duplicates), (unsigned long long)ret_res->duplicates);
	log.detail = detail;
	log.reject_report = ret_res->report_written ? opt->reject_report : NULL;
	if ((r = cc_store_import_commit(st, &log, diag)) != 0) {
		began = false;
		goto out;
	}
	began = false;
	r = 0;
out:
	if (pool_up)
		pool_stop(&pool);
	if (began)
		cc_store_import_abort(st);
	if (r != 0 && r != CC_ERR_INVALID_ARGUMENT) {
		/* Refused: nothing changed; say so in the imports table. */
		log.finished_at = (int64_t)time(NULL);
		log.rows_read = ret_res->rows_read;
		log.rows_rejected = ret_res->rows_rejected;
		log.rows_imported = 0;
		log.duplicates = 0;
		log.outcome = "refused";
		log.detail = diag != NULL ? diag->text : cc_strerror(r);
		log.reject_report = ret_res->report_written ?
		    opt->reject_report : NULL;
		(void)cc_store_log_import(st, &log, NULL);
		ret_res->rows_imported = 0;
		ret_res->duplicates = 0;
	}
	for (i = 0; i < NCHUNKS; i++)
		chunk_free(&chunks[i]);
	free(im.cat);
	cc_seen_free(im.seen);
	cc_csv_free(im.csv);
	if (im.report != NULL)
		fclose(im.report);
	if (im.report_fd >= 0)
		close(im.report_fd);
	if (f != NULL)
		fclose(f);
	return r;
}
