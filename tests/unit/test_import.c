/* Unit tests: the CSV import pipeline (node/import.c). */
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

#include "node/import.h"
#include "node/keys.h"
#include "node/store.h"
#include "protocol/group.h"

struct fixture {
	char dir[64];
	char db[128];
	char csv[128];
	char report[128];
	struct cc_key *key;
	struct cc_store *st;
	struct cc_import_options opt;
	struct cc_import_result res;
	struct cc_store_stats stats;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_true(sodium_init() >= 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/cc-test-import-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/node.db", f->dir);
	snprintf(f->csv, sizeof(f->csv), "%s/in.csv", f->dir);
	snprintf(f->report, sizeof(f->report), "%s/rejects.csv", f->dir);
	assert_int_equal(cc_keys_generate(&f->key), 0);
	assert_int_equal(cc_store_create(f->db, f->key->fingerprint, NULL), 0);
	assert_int_equal(cc_store_open(&f->st, f->db, NULL), 0);
	cc_import_options_defaults(&f->opt);
	f->opt.on = (struct cc_date){ 2025, 1, 1 };
	f->opt.reject_report = f->report;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	cc_store_close(f->st);
	cc_keys_free(f->key);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

enum form { F12, F13, F10, F11, F11PLUS };

/* A valid personnummer (Luhn over YYMMDDNNN) written in one of the forms. */
static void
pnr(char out[16], enum form form, int y, int m, int d, int serial)
{
	char ten[10], cent[2];
	int sum = 0, i, v;
	size_t o = 0;

	ten[0] = (char)('0' + y / 10 % 10);
	ten[1] = (char)('0' + y % 10);
	ten[2] = (char)('0' + m / 10 % 10);
	ten[3] = (char)('0' + m % 10);
	ten[4] = (char)('0' + d / 10 % 10);
	ten[5] = (char)('0' + d % 10);
	ten[6] = (char)('0' + serial / 100 % 10);
	ten[7] = (char)('0' + serial / 10 % 10);
	ten[8] = (char)('0' + serial % 10);
	for (i = 0; i < 9; i++) {
		v = (ten[i] - '0') * (i % 2 == 0 ? 2 : 1);
		sum += v > 9 ? v - 9 : v;
	}
	ten[9] = (char)('0' + (10 - sum % 10) % 10);
	cent[0] = (char)('0' + y / 1000 % 10);
	cent[1] = (char)('0' + y / 100 % 10);
	if (form == F12 || form == F13) {
		memcpy(out, cent, 2);
		o = 2;
	}
	memcpy(out + o, ten, 6);
	o += 6;
	if (form == F13 || form == F11)
		out[o++] = '-';
	else if (form == F11PLUS)
		out[o++] = '+';
	memcpy(out + o, ten + 6, 4);
	out[o + 4] = '\0';
}

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static int
run(struct fixture *f, const char *text)
{
	struct cc_diag d = { "" };
	int r;

	write_file(f->csv, text, strlen(text));
	unlink(f->report);
	r = cc_import_file(f->st, f->key, f->csv, &f->opt, &f->res, &d);
	assert_int_equal(cc_store_stats(f->st, &f->stats, NULL), 0);
	return r;
}

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	size_t n;

	if (fp == NULL)
		return NULL;
	buf = calloc(1, 1 << 20);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 20) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* n good rows for persons 0..n-1 (two episodes for every third person). */
static char *
good_file(unsigned n, const char *header)
{
	size_t cap = 128 + (size_t)n * 128, off;
	char *t = malloc(cap), id[16];
	unsigned i;

	assert_non_null(t);
	off = (size_t)snprintf(t, cap, "%s\n", header);
	for (i = 0; i < n; i++) {
		pnr(id, F13, 2010 + (int)(i % 5), 1 + (int)(i % 12),
		    1 + (int)(i % 28), (int)(i / 420));
		off += (size_t)snprintf(t + off, cap - off,
		    "%s,absence,2024-01-%02u,,\n", id, 1 + i % 28);
		if (i % 3 == 0)
			off += (size_t)snprintf(t + off, cap - off,
			    "%s,support,20240301,20240401,north\n", id);
	}
	return t;
}

static int
first_pseudonym(void *ctx, const uint8_t p[32])
{
	memcpy(ctx, p, 32);
	return 0;
}

static void
imports_every_form_to_the_same_pseudonym(void **state)
{
	struct fixture *f = *state;
	struct cc_store_import_record rec;
	char forms[3][16], text[1024];
	uint8_t h[32], want[32], got[32];
	size_t n;

	/* 1912-12-12: over 100 on the reference date, so '+' in the short form. */
	pnr(forms[0], F12, 1912, 12, 12, 121);
	pnr(forms[1], F13, 1912, 12, 12, 121);
	pnr(forms[2], F11PLUS, 1912, 12, 12, 121);
	snprintf(text, sizeof(text), "personnummer,category,start_date,end_date,unit\n"
	    "%s,a,2024-01-01,,\n%s,b,2024-01-01,,\n%s,c,2024-01-01,,\n",
	    forms[0], forms[1], forms[2]);
	assert_int_equal(run(f, text), 0);
	assert_int_equal(f->res.rows_read, 3);
	assert_int_equal(f->res.rows_imported, 3);
	assert_int_equal(f->res.rows_rejected, 0);
	assert_false(f->res.report_written);
	assert_int_equal(access(f->report, F_OK), -1);
	assert_int_equal(f->stats.persons, 1);
	assert_int_equal(f->stats.episodes, 3);
	/* The one stored pseudonym is s·H(canonical). */
	assert_int_equal(cc_store_each_pseudonym(f->st, first_pseudonym, got,
	    NULL), 0);
	assert_int_equal(cc_group_hash_identity(h, forms[0]), 0);
	assert_int_equal(cc_group_mult(want, f->key->s, h), 0);
	assert_memory_equal(got, want, 32);
	assert_int_equal(cc_store_recent_imports(f->st, &rec, 1, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rec.outcome, "ok");
	assert_string_equal(rec.file_name, "in.csv");
}

static void
pseudonym_is_key_times_hash(void **state)
{
	struct fixture *f = *state;
	char id12[16], id10[16], text[512];
	uint8_t h[32], want[32], got[32];

	pnr(id12, F12, 2012, 12, 12, 123);
	pnr(id10, F10, 2012, 12, 12, 123);
	snprintf(text, sizeof(text), "personnummer,category,start_date,end_date\n"
	    "%s,a,2024-01-01,\n%s,a,2024-01-01,\n", id10, id12);
	assert_int_equal(run(f, text), 0);
	assert_int_equal(f->stats.persons, 1);
	assert_int_equal(f->stats.episodes, 1);
	assert_int_equal(f->res.duplicates, 1);
	assert_int_equal(cc_store_each_pseudonym(f->st, first_pseudonym, got,
	    NULL), 0);
	assert_int_equal(cc_group_hash_identity(h, id12), 0);
	assert_int_equal(cc_group_mult(want, f->key->s, h), 0);
	assert_memory_equal(got, want, 32);
}

/* Collects every stored pseudonym. */
struct all_pseudonyms {
	uint8_t (*p)[32];
	size_t n, cap;
};

static int
collect_pseudonym(void *ctx, const uint8_t p[32])
{
	struct all_pseudonyms *a = ctx;

	assert_true(a->n < a->cap);
	memcpy(a->p[a->n++], p, 32);
	return 0;
}

static int
cmp32(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/*
 * A person's later rows take the pseudonym computed for the first one
 * (node/seen.h), across chunks and in any order: every stored pseudonym
 * is s·H(id) of its person, and each person is stored once.
 */
static void
later_rows_of_a_person_reuse_its_pseudonym(void **state)
{
	struct fixture *f = *state;
	enum { PERSONS = 200, REPEATS = 3 };
	struct all_pseudonyms got = { 0 };
	uint8_t (*want)[32], h[32];
	char id[PERSONS][16], *t;
	size_t cap = 64 + (size_t)PERSONS * REPEATS * 64, off, k, i;
	unsigned r;

	t = malloc(cap);
	want = calloc(PERSONS, 32);
	got.p = calloc(PERSONS + 1, 32);
	got.cap = PERSONS + 1;
	assert_non_null(t);
	assert_non_null(want);
	assert_non_null(got.p);
	off = (size_t)snprintf(t, cap, "personnummer,category,start_date,"
	    "end_date\n");
	for (i = 0; i < PERSONS; i++)
		pnr(id[i], (enum form)(i % 3), 2008 + (int)(i % 10),
		    1 + (int)(i % 12), 1 + (int)(i % 28), (int)(100 + i));
	/* Round r lists every person, in a different order each round and
	 * in a different written form (same canonical identity). */
	for (r = 0; r < REPEATS; r++)
		for (k = 0; k < PERSONS; k++) {
			/* 1, 3 and 7 are prime to 200: each round a bijection. */
			i = (k * (r == 0 ? 1 : r == 1 ? 3 : 7) + 7 * r) % PERSONS;
			off += (size_t)snprintf(t + off, cap - off,
			    "%s,cat%u,2024-0%u-01,\n", id[i], r, r + 1);
		}
	f->opt.chunk_rows = 11;
	f->opt.threads = 3;
	assert_int_equal(run(f, t), 0);
	assert_int_equal(f->res.rows_imported, PERSONS * REPEATS);
	assert_int_equal(f->stats.persons, PERSONS);
	assert_int_equal(f->stats.episodes, PERSONS * REPEATS);
	for (i = 0; i < PERSONS; i++) {
		struct cc_identity parsed;

		assert_int_equal(cc_identity_parse(&parsed, id[i],
		    strlen(id[i]), &f->opt.on, NULL), 0);
		assert_int_equal(cc_group_hash_identity(h, parsed.canonical), 0);
		assert_int_equal(cc_group_mult(want[i], f->key->s, h), 0);
		cc_identity_wipe(&parsed);
	}
	assert_int_equal(cc_store_each_pseudonym(f->st, collect_pseudonym, &got,
	    NULL), 0);
	assert_int_equal(got.n, PERSONS);
	qsort(want, PERSONS, 32, cmp32);
	qsort(got.p, got.n, 32, cmp32);
	assert_memory_equal(got.p, want, (size_t)PERSONS * 32);
	free(t);
	free(want);
	free(got.p);
}

static void
pipeline_keeps_order_over_many_chunks(void **state)
{
	struct fixture *f = *state;
	char *t = good_file(3000, "personnummer,category,start_date,end_date,unit");

	/* Small chunks and more threads than cores: many chunks in flight. */
	f->opt.chunk_rows = 7;
	f->opt.threads = 3;
	assert_int_equal(run(f, t), 0);
	assert_int_equal(f->res.rows_read, 4000);
	assert_int_equal(f->res.rows_imported, 4000);
	assert_int_equal(f->stats.persons, 3000);
	assert_int_equal(f->stats.episodes, 4000);
	assert_int_equal(f->stats.ncategories, 2);
	assert_string_equal(f->stats.category[0].name, "absence");
	assert_int_equal(f->stats.category[0].persons, 3000);
	assert_int_equal(f->stats.category[1].persons, 1000);
	/* Again as an append: every episode is a duplicate. */
	f->opt.mode = CC_STORE_APPEND;
	f->opt.chunk_rows = 0;
	f->opt.threads = 1;
	assert_int_equal(run(f, t), 0);
	assert_int_equal(f->res.duplicates, 4000);
	assert_int_equal(f->stats.episodes, 4000);
	free(t);
}

static void
bad_rows_are_rejected_and_reported(void **state)
{
	struct fixture *f = *state;
	char id[16], bad[16], text[8192], *rep;
	char longfield[1100];
	size_t off = 0;
	int i;

	pnr(id, F13, 2011, 5, 6, 7);
	pnr(bad, F13, 2011, 5, 6, 8);
	bad[12] = bad[12] == '9' ? '0' : (char)(bad[12] + 1); /* check digit */
	memset(longfield, 'x', sizeof(longfield) - 1);
	longfield[sizeof(longfield) - 1] = '\0';
	off += (size_t)snprintf(text + off, sizeof(text) - off,
	    "Personnummer , CATEGORY,start_date,end_date,unit\n");
	off += (size_t)snprintf(text + off, sizeof(text) - off,
	    "%s,a,2024-01-01,,\n"            /* 2 good */
	    "%s,a,2024-01-01,,\n"            /* 3 check digit */
	    "%s,,2024-01-01,,\n"             /* 4 empty category */
	    "%s,a,2024-13-01,,\n"            /* 5 bad date */
	    "%s,a,2024-02-01,2024-01-01,\n"  /* 6 end before start */
	    "%s,a,2024-01-01\n"              /* 7 field count */
	    "%s,%s,2024-01-01,,\n"           /* 8 category is an identity */
	    "%s,a,2024-01-01,,%s\n"          /* 9 over-long field */
	    ",a,2024-01-01,,\n"              /* 10 empty identity */
	    "%s,\"a\"x,2024-01-01,,\n",      /* 11 bad quoting */
	    id, bad, id, id, id, id, id, id, id, longfield, id);
	for (i = 0; i < 10; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "%s,b,2024-01-0%d,,\n", id, 1 + i % 9);
	f->opt.max_reject_rate = 0.5;
	assert_int_equal(run(f, text), 0);
	assert_int_equal(f->res.rows_read, 20);
	assert_int_equal(f->res.rows_rejected, 9);
	assert_int_equal(f->res.rows_imported, 11);
	assert_true(f->res.report_written);
	assert_int_equal(f->res.nshown, 9);
	assert_int_equal(f->res.shown[0].line, 3);
	assert_string_equal(f->res.shown[0].column, "personnummer");
	assert_non_null(strstr(f->res.shown[0].text, "20110506-****"));
	assert_int_equal(f->res.shown[1].line, 4);
	assert_string_equal(f->res.shown[1].column, "category");
	assert_string_equal(f->res.shown[2].column, "start_date");
	assert_string_equal(f->res.shown[3].column, "end_date");
	assert_int_equal(f->res.shown[4].line, 7);
	assert_string_equal(f->res.shown[4].column, "");
	assert_non_null(strstr(f->res.shown[4].text, "3 fields"));
	assert_string_equal(f->res.shown[5].column, "category");
	assert_int_equal(f->res.shown[6].line, 9);
	assert_int_equal(f->res.shown[7].line, 10);
	assert_int_equal(f->res.shown[8].line, 11);
	assert_non_null(strstr(f->res.shown[6].text, "too long"));
	assert_non_null(strstr(f->res.shown[8].text, "quoting"));
	assert_int_equal(f->stats.persons, 1);
	assert_int_equal(f->stats.episodes, 10);
	/* Only the good rows' categories exist. */
	assert_int_equal(f->stats.ncategories, 2);
	rep = slurp(f->report);
	assert_non_null(rep);
	assert_non_null(strstr(rep, "line,column,personnummer,reason\n"));
	assert_non_null(strstr(rep, "3,personnummer,\"20110506-****\""));
	assert_non_null(strstr(rep, "8,category,"));
	/* No identity in the report, in any form. */
	assert_null(strstr(rep, id));
	assert_null(strstr(rep, bad));
	assert_null(strstr(rep, id + 2));
	assert_null(strstr(rep, id + 6));
	assert_null(strstr(rep, bad + 6));
	free(rep);
}

static void
too_many_bad_rows_refuses_everything(void **state)
{
	struct fixture *f = *state;
	char *a = good_file(50, "personnummer,category,start_date,end_date,unit");
	char text[4096], id[16];
	size_t off, keep;
	int i;

	assert_int_equal(run(f, a), 0);
	assert_int_equal(f->stats.persons, 50);
	/* 2 bad of 100 with the default 1%. */
	off = (size_t)snprintf(text, sizeof(text),
	    "personnummer,category,start_date,end_date\n");
	for (i = 0; i < 98; i++) {
		pnr(id, F12, 2015, 1, 1, i);
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "%s,x,2024-01-01,\n", id);
	}
	off += (size_t)snprintf(text + off, sizeof(text) - off,
	    "123,x,2024-01-01,\n");
	keep = off;
	snprintf(text + off, sizeof(text) - off, "%s,x,never,\n", id);
	assert_int_equal(run(f, text), CC_ERR_POLICY);
	assert_int_equal(f->res.rows_read, 100);
	assert_int_equal(f->res.rows_rejected, 2);
	assert_int_equal(f->res.rows_imported, 0);
	/* The report still explains, and the old snapshot is intact. */
	assert_true(f->res.report_written);
	assert_int_equal(f->stats.persons, 50);
	assert_string_equal(f->stats.category[0].name, "absence");
	/* At exactly the limit it goes through: 1 bad of 100. */
	snprintf(text + keep, sizeof(text) - keep, "191212121212,x,2024-01-01,\n");
	assert_int_equal(run(f, text), 0);
	assert_int_equal(f->res.rows_rejected, 1);
	assert_int_equal(f->stats.persons, 99);
	free(a);
}

static void
missing_column_undecodable_and_empty_files_are_refused(void **state)
{
	struct fixture *f = *state;
	char *a = good_file(10, "personnummer,category,start_date,end_date,unit");
	struct cc_store_import_record rec;
	struct cc_diag d = { "" };
	char id[16], text[256];
	size_t n;
	int r;

	assert_int_equal(run(f, a), 0);
	pnr(id, F12, 2015, 1, 1, 1);
	snprintf(text, sizeof(text), "personnummer,start_date,end_date\n"
	    "%s,2024-01-01,\n", id);
	assert_int_equal(run(f, text), CC_ERR_FORMAT);
	assert_int_equal(f->stats.persons, 10);
	assert_int_equal(cc_store_recent_imports(f->st, &rec, 1, &n, NULL), 0);
	assert_string_equal(rec.outcome, "refused");
	assert_non_null(strstr(rec.detail, "category"));
	/* Duplicated column. */
	snprintf(text, sizeof(text), "personnummer,category,category,"
	    "start_date,end_date\n%s,a,a,2024-01-01,\n", id);
	assert_int_equal(run(f, text), CC_ERR_FORMAT);
	/* Header only. */
	assert_int_equal(run(f, "personnummer,category,start_date,end_date\n"),
	    CC_ERR_FORMAT);
	assert_int_equal(f->stats.persons, 10);
	/* Bytes that neither UTF-8 nor Windows-1252 defines. */
	snprintf(text, sizeof(text), "personnummer,category,start_date,end_date\n"
	    "%s,a\x81\x8d,2024-01-01,\n", id);
	assert_int_equal(run(f, text), CC_ERR_ENCODING);
	assert_int_equal(f->stats.persons, 10);
	/* Not a file. */
	r = cc_import_file(f->st, f->key, f->dir, &f->opt, &f->res, &d);
	assert_int_equal(r, CC_ERR_IO);
	free(a);
}

static void
column_mapping_from_config(void **state)
{
	struct fixture *f = *state;
	char cols[CC_COLUMN_COUNT_][CC_LIMIT_CSV_FIELD + 1];
	char id[16], text[256];

	memset(cols, 0, sizeof(cols));
	snprintf(cols[CC_COLUMN_PERSONNUMMER], sizeof(cols[0]), "Pnr");
	snprintf(cols[CC_COLUMN_CATEGORY], sizeof(cols[0]), "Insats");
	snprintf(cols[CC_COLUMN_START_DATE], sizeof(cols[0]), "Från");
	snprintf(cols[CC_COLUMN_END_DATE], sizeof(cols[0]), "Till");
	snprintf(cols[CC_COLUMN_UNIT], sizeof(cols[0]), "Enhet");
	f->opt.column = (const char (*)[CC_LIMIT_CSV_FIELD + 1])cols;
	pnr(id, F13, 2014, 2, 3, 45);
	snprintf(text, sizeof(text), "extra;PNR;insats; Från ;Till;ENHET\n"
	    "z;%s;placering;2024-01-01;;HVB Norr\n", id);
	assert_int_equal(run(f, text), 0);
	assert_int_equal(f->stats.persons, 1);
	assert_string_equal(f->stats.category[0].name, "placering");
	/* The default names no longer match. */
	snprintf(text, sizeof(text), "personnummer,category,start_date,end_date\n"
	    "%s,a,2024-01-01,\n", id);
	assert_int_equal(run(f, text), CC_ERR_FORMAT);
}

static void
category_names_follow_the_query_rule(void **state)
{
	struct fixture *f = *state;
	char text[1024], id[16];

	/* SPEC 7.2: a name no query could ask for is refused like a bad row. */
	pnr(id, F12, 2015, 1, 1, 7);
	snprintf(text, sizeof(text), "personnummer,category,start_date,end_date\n"
	    "%s,remiss,2024-01-01,\n"
	    "%s,\"a,b\",2024-01-01,\n"
	    "%s,a/b,2024-01-01,\n"
	    "%s,a*b,2024-01-01,\n"
	    "%s,bes\xC3\xB6k,2024-01-01,\n", id, id, id, id, id);
	f->opt.max_reject_rate = 1.0;
	assert_int_equal(run(f, text), 0);
	assert_int_equal(f->res.rows_rejected, 3);
	assert_int_equal(f->res.rows_imported, 2);
	assert_int_equal(f->res.nshown, 3);
	assert_string_equal(f->res.shown[0].column, "category");
	assert_non_null(strstr(f->res.shown[0].text, "not a category name"));
	assert_string_equal(f->res.shown[1].column, "category");
	assert_string_equal(f->res.shown[2].column, "category");
	assert_int_equal(f->stats.ncategories, 2);
}

static void
category_limit_refuses(void **state)
{
	struct fixture *f = *state;
	size_t cap = 64 + (CC_LIMIT_NODE_CATEGORIES + 1) * 48, off;
	char *text = malloc(cap), id[16];
	int i;

	assert_non_null(text);
	pnr(id, F12, 2015, 1, 1, 1);
	off = (size_t)snprintf(text, cap,
	    "personnummer,category,start_date,end_date\n");
	for (i = 0; i < CC_LIMIT_NODE_CATEGORIES; i++)
		off += (size_t)snprintf(text + off, cap - off,
		    "%s,cat%d,2024-01-01,\n", id, i);
	assert_int_equal(run(f, text), 0);
	assert_int_equal(f->stats.ncategories, CC_LIMIT_NODE_CATEGORIES);
	/* One more in an append: refused, nothing changed. */
	f->opt.mode = CC_STORE_APPEND;
	snprintf(text, cap, "personnummer,category,start_date,end_date\n"
	    "%s,one-too-many,2024-01-01,\n", id);
	assert_int_equal(run(f, text), CC_ERR_LIMIT);
	assert_int_equal(f->stats.ncategories, CC_LIMIT_NODE_CATEGORIES);
	free(text);
}

static void
bad_arguments(void **state)
{
	struct fixture *f = *state;
	struct cc_import_options o = f->opt;

	assert_int_equal(cc_import_file(f->st, f->key, f->csv, &o, NULL, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	o.max_reject_rate = 1.5;
	assert_int_equal(cc_import_file(f->st, f->key, f->csv, &o, &f->res,
	    NULL), CC_ERR_INVALID_ARGUMENT);
	o = f->opt;
	o.mode = 0;
	assert_int_equal(cc_import_file(f->st, f->key, f->csv, &o, &f->res,
	    NULL), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_import_file(NULL, f->key, f->csv, &f->opt, &f->res,
	    NULL), CC_ERR_INVALID_ARGUMENT);
	cc_import_options_defaults(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(imports_every_form_to_the_same_pseudonym, setup, teardown),
		cmocka_unit_test_setup_teardown(pseudonym_is_key_times_hash, setup, teardown),
		cmocka_unit_test_setup_teardown(later_rows_of_a_person_reuse_its_pseudonym, setup, teardown),
		cmocka_unit_test_setup_teardown(pipeline_keeps_order_over_many_chunks, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_rows_are_rejected_and_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(too_many_bad_rows_refuses_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_column_undecodable_and_empty_files_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(column_mapping_from_config, setup, teardown),
		cmocka_unit_test_setup_teardown(category_names_follow_the_query_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(category_limit_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_arguments, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
