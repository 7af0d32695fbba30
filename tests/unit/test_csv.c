/* Unit tests: the streaming CSV reader (node/csv.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <iconv.h>
#include <cmocka.h>

#include "node/csv.h"
#include "protocol/error.h"
#include "protocol/limits.h"

static char tmpdir[64];
static unsigned file_counter;

static int
setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cc-test-csv-XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
remove_dir(void **state)
{
	char path[128];
	unsigned i;

	(void)state;
	for (i = 0; i < file_counter; i++) {
		snprintf(path, sizeof(path), "%s/f%u.csv", tmpdir, i);
		unlink(path);
	}
	return rmdir(tmpdir);
}

/* Write bytes to a new file in the temp dir and open it for reading. */
static FILE *
file_with(const void *data, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/f%u.csv", tmpdir, file_counter++);
	f = fopen(path, "wb");
	assert_non_null(f);
	if (len > 0)
		assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	f = fopen(path, "rb");
	assert_non_null(f);
	return f;
}

static FILE *
file_str(const char *s)
{
	return file_with(s, strlen(s));
}

/* Open with enc and expect success. */
static struct cc_csv *
open_ok(FILE *f, enum cc_csv_encoding enc)
{
	struct cc_csv *c = NULL;
	struct cc_diag d = { { 0 } };
	int r;

	r = cc_csv_open(&c, f, enc, &d);
	if (r != 0)
		print_error("open: %s: %s\n", cc_strerror(r), d.text);
	assert_int_equal(r, 0);
	assert_non_null(c);
	return c;
}

static void
expect_fields(const struct cc_csv_record *rec, unsigned long line, size_t n,
    ...)
{
	va_list ap;
	const char *want;
	size_t i;

	assert_int_equal(rec->line, line);
	assert_int_equal(rec->nfields, n);
	va_start(ap, n);
	for (i = 0; i < n; i++) {
		want = va_arg(ap, const char *);
		assert_string_equal(rec->field[i], want);
		assert_int_equal(rec->len[i], strlen(want));
	}
	va_end(ap);
}

static void
next_ok(struct cc_csv *c, struct cc_csv_record *rec)
{
	struct cc_diag d = { { 0 } };
	int r;

	r = cc_csv_next(c, rec, &d);
	if (r != 1)
		print_error("next: %d %s\n", r, d.text);
	assert_int_equal(r, 1);
}

static void
expect_end(struct cc_csv *c)
{
	struct cc_csv_record rec;

	assert_int_equal(cc_csv_next(c, &rec, NULL), 0);
	assert_int_equal(rec.nfields, 0);
	assert_int_equal(cc_csv_next(c, &rec, NULL), 0);
}

static void
lf_and_crlf_read_the_same(void **state)
{
	const char *texts[] = {
		"personnummer;category;start_date\n"
		    "191212121212;bup;2024-01-02\n"
		    "201001012384;bup;2024-02-03\n",
		"personnummer;category;start_date\r\n"
		    "191212121212;bup;2024-01-02\r\n"
		    "201001012384;bup;2024-02-03\r\n",
		/* the last line without a newline */
		"personnummer;category;start_date\r\n"
		    "191212121212;bup;2024-01-02\r\n"
		    "201001012384;bup;2024-02-03",
		/* classic Mac: lone CR */
		"personnummer;category;start_date\r"
		    "191212121212;bup;2024-01-02\r"
		    "201001012384;bup;2024-02-03\r",
	};
	struct cc_csv_record rec;
	const struct cc_csv_record *h;
	struct cc_csv *c;
	FILE *f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		f = file_str(texts[i]);
		c = open_ok(f, CC_CSV_ENCODING_AUTO);
		assert_int_equal(cc_csv_delimiter(c), ';');
		assert_int_equal(cc_csv_encoding(c), CC_CSV_ENCODING_UTF8);
		h = cc_csv_header(c);
		expect_fields(h, 1, 3, "personnummer", "category", "start_date");
		next_ok(c, &rec);
		expect_fields(&rec, 2, 3, "191212121212", "bup", "2024-01-02");
		next_ok(c, &rec);
		expect_fields(&rec, 3, 3, "201001012384", "bup", "2024-02-03");
		expect_end(c);
		cc_csv_free(c);
		fclose(f);
	}
}

static void
bom_is_skipped(void **state)
{
	const char text[] = "\xEF\xBB\xBFpersonnummer,category\n1,a\n";
	struct cc_csv_record rec;
	struct cc_csv *c;
	struct cc_diag d = { { 0 } };
	FILE *f;

	(void)state;
	f = file_str(text);
	c = open_ok(f, CC_CSV_ENCODING_AUTO);
	assert_int_equal(cc_csv_delimiter(c), ',');
	assert_int_equal(cc_csv_encoding(c), CC_CSV_ENCODING_UTF8);
	expect_fields(cc_csv_header(c), 1, 2, "personnummer", "category");
	next_ok(c, &rec);
	expect_fields(&rec, 2, 2, "1", "a");
	expect_end(c);
	cc_csv_free(c);
	/* Explicit UTF-8 skips it too. */
	rewind(f);
	c = open_ok(f, CC_CSV_ENCODING_UTF8);
	expect_fields(cc_csv_header(c), 1, 2, "personnummer", "category");
	cc_csv_free(c);
	/* A BOM contradicts an explicit Windows-1252. */
	rewind(f);
	c = (struct cc_csv *)1;
	assert_int_equal(cc_csv_open(&c, f, CC_CSV_ENCODING_CP1252, &d),
	    CC_ERR_ENCODING);
	assert_null(c);
	assert_non_null(strstr(d.text, "byte order mark"));
	fclose(f);
}

static void
bom_with_invalid_utf8_is_refused(void **state)
{
	const char text[] = "\xEF\xBB\xBFpnr;cat\n1;\xC5sa\n";
	struct cc_csv *c = NULL;
	struct cc_diag d = { { 0 } };
	FILE *f;

	(void)state;
	f = file_str(text);
	assert_int_equal(cc_csv_open(&c, f, CC_CSV_ENCODING_AUTO, &d),
	    CC_ERR_ENCODING);
	assert_null(c);
	assert_non_null(strstr(d.text, "line 2"));
	fclose(f);
}

static void
delimiter_detection(void **state)
{
	struct cc_csv *c = NULL;
	struct cc_diag d = { { 0 } };
	FILE *f;

	(void)state;
	/* Commas inside quotes do not count. */
	f = file_str("\"Efternamn, F\xC3\xB6rnamn\";\"a,b,c\";pnr\nx;y;z\n");
	c = open_ok(f, CC_CSV_ENCODING_AUTO);
	assert_int_equal(cc_csv_delimiter(c), ';');
	expect_fields(cc_csv_header(c), 1, 3, "Efternamn, F\xC3\xB6rnamn",
	    "a,b,c", "pnr");
	cc_csv_free(c);
	fclose(f);

	f = file_str("a,b;c,d\n");
	c = open_ok(f, CC_CSV_ENCODING_AUTO);
	assert_int_equal(cc_csv_delimiter(c), ',');
	expect_fields(cc_csv_header(c), 1, 3, "a", "b;c", "d");
	cc_csv_free(c);
	fclose(f);

	/* Neither: one column is useless for an import. */
	f = file_str("personnummer\n191212121212\n");
	assert_int_equal(cc_csv_open(&c, f, CC_CSV_ENCODING_AUTO, &d),
	    CC_ERR_FORMAT);
	assert_null(c);
	assert_non_null(strstr(d.text, "cannot detect the delimiter"));
	assert_non_null(strstr(d.text, "line 1"));
	fclose(f);

	/* A tie. */
	f = file_str("a;b,c\n");
	assert_int_equal(cc_csv_open(&c, f, CC_CSV_ENCODING_AUTO, &d),
	    CC_ERR_FORMAT);
	assert_non_null(strstr(d.text, "cannot detect the delimiter"));
	fclose(f);

	/* Blank lines before the header are skipped, line numbers kept. */
	f = file_str("\n\r\na;b\n1;2\n");
	c = open_ok(f, CC_CSV_ENCODING_AUTO);
	expect_fields(cc_csv_header(c), 3, 2, "a", "b");
	cc_csv_free(c);
	fclose(f);
}

static void
header_names_are_trimmed(void **state)
{
	struct cc_csv_record rec;
	struct cc_csv *c;
	FILE *f;

	(void)state;
	f = file_str(" Personnummer ;\tKategori\t; Startdatum\n 1 ; 2 ;3\n");
	c = open_ok(f, CC_CSV_ENCODING_AUTO);
	expect_fields(cc_csv_header(c), 1, 3, "Personnummer", "Kategori",
	    "Startdatum");
	/* Data fields are returned exactly as written. */
	next_ok(c, &rec);
	expect_fields(&rec, 2, 3, " 1 ", " 2 ", "3");
	cc_csv_free(c);
	fclose(f);
}

static void
quoted_fields(void **state)
{
	const char text[] =
	    "pnr;note;unit\r\n"
	    "\"1\";\"semi;colon, comma\";\"say \"\"hi\"\"\"\r\n"
	    "2;\"two\r\nlines\";\"\"\r\n"
	    "3;\"three\nphysical\nlines\";x\n"
	    "4;\"\";\n"
	    "\"\"\"\";\"a\"\"\";\"\"\"b\"\n";
	struct cc_csv_record rec;
	struct cc_csv *c;
	FILE *f;

	(void)state;
	f = file_str(text);
	c = open_ok(f, CC_CSV_ENCODING_AUTO);
	next_ok(c, &rec);
	expect_fields(&rec, 2, 3, "1", "semi;colon, comma", "say \"hi\"");
	next_ok(c, &rec);
	expect_fields(&rec, 3, 3, "2", "two\r\nlines", "");
	next_ok(c, &rec);
	expect_fields(&rec, 5, 3, "3", "three\nphysical\nlines", "x");
	next_ok(c, &rec);
	/* An empty trailing field is kept. */
	expect_fields(&rec, 8, 3, "4", "", "");
	next_ok(c, &rec);
	expect_fields(&rec, 9, 3, "\"", "a\"", "\"b");
	expect_end(c);
	cc_csv_free(c);
	fclose(f);
}

static void
blank_records_are_skipped(void **state)
{
	const char text[] =
	    "a;b;c\n"
	    "\n"
	    ";;\n"
	    "1;2;3\n"
	    "\r\n"
	    "\"\";\"\";\n"
	    "   \n"
	    ";;;;;\n"
	    "4;;\n";
	struct cc_csv_record rec;
	struct cc_csv *c;
	FILE *f;

	(void)state;
	f = file_str(text);
	c = open_ok(f, CC_CSV_ENCODING_AUTO);
	next_ok(c, &rec);
	expect_fields(&rec, 4, 3, "1", "2", "3");
	/* Spaces are content: the caller decides. */
	next_ok(c, &rec);
	expect_fields(&rec, 7, 1, "   ");
	next_ok(c, &rec);
	expect_fields(&rec, 9, 3, "4", "", "");
	expect_end(c);
	cc_csv_free(c);
	fclose(f);
}

static void
cp1252_is_converted(void **state)
{
	/* "Enhet;Namn\nÅsa;ÄÖé\n" in Windows-1252, and € (0x80). */
	const char text[] = "Enhet;Namn\n\xC5sa;\xC4\xD6\xE9\n\x80;x\n";
	struct cc_csv_record rec;
	struct cc_csv *c;
	FILE *f;
	int pass;

	(void)state;
	f = file_str(text);
	for (pass = 0; pass < 2; pass++) {
		rewind(f);
		c = open_ok(f, pass == 0 ? CC_CSV_ENCODING_AUTO :
		    CC_CSV_ENCODING_CP1252);
		assert_int_equal(cc_csv_encoding(c), CC_CSV_ENCODING_CP1252);
		next_ok(c, &rec);
		expect_fields(&rec, 2, 2, "\xC3\x85sa",
		    "\xC3\x84\xC3\x96\xC3\xA9");
		next_ok(c, &rec);
		expect_fields(&rec, 3, 2, "\xE2\x82\xAC", "x");
		expect_end(c);
		cc_csv_free(c);
	}
	fclose(f);
}

/* Every defined Windows-1252 byte converts as glibc's iconv does. */
static void
cp1252_table_matches_iconv(void **state)
{
	char text[600], want[8], *in, *out;
	size_t inleft, outleft, n = 0;
	struct cc_csv_record rec;
	struct cc_csv *c;
	iconv_t cd;
	unsigned b;
	FILE *f;

	(void)state;
	cd = iconv_open("UTF-8", "WINDOWS-1252");
	assert_true(cd != (iconv_t)-1);
	for (b = 0x80; b <= 0xFF; b++) {
		bool defined = !(b == 0x81 || b == 0x8D || b == 0x8F ||
		    b == 0x90 || b == 0x9D);
		char byte = (char)b;

		in = &byte;
		inleft = 1;
		out = want;
		outleft = sizeof(want);
		iconv(cd, NULL, NULL, NULL, NULL);
		if (!defined) {
			assert_true(iconv(cd, &in, &inleft, &out, &outleft) ==
			    (size_t)-1);
			continue;
		}
		assert_true(iconv(cd, &in, &inleft, &out, &outleft) !=
		    (size_t)-1);
		*out = '\0';
		n = (size_t)snprintf(text, sizeof(text), "a;b\n%c;x\n", byte);
		f = file_with(text, n);
		c = open_ok(f, CC_CSV_ENCODING_CP1252);
		next_ok(c, &rec);
		assert_string_equal(rec.field[0], want);
		assert_true(cc_csv_utf8_valid(rec.field[0], rec.len[0]));
		cc_csv_free(c);
		fclose(f);
	}
	iconv_close(cd);
}

static void
undefined_cp1252_byte(void **state)
{
	const char text[] = "a;b\n\xC5sa;1\n2;x\x81y\n";
	struct cc_csv_record rec;
	struct cc_csv *c = NULL;
	struct cc_diag d = { { 0 } };
	FILE *f;

	(void)state;
	f = file_str(text);
	/* Auto: neither UTF-8 nor Windows-1252, found before any row. */
	assert_int_equal(cc_csv_open(&c, f, CC_CSV_ENCODING_AUTO, &d),
	    CC_ERR_ENCODING);
	assert_null(c);
	assert_non_null(strstr(d.text, "line 3"));
	assert_non_null(strstr(d.text, "0x81"));
	/* Explicit: the rows before it read, then a fatal error. */
	rewind(f);
	c = open_ok(f, CC_CSV_ENCODING_CP1252);
	next_ok(c, &rec);
	expect_fields(&rec, 2, 2, "\xC3\x85sa", "1");
	assert_int_equal(cc_csv_next(c, &rec, &d), CC_ERR_ENCODING);
	assert_non_null(strstr(d.text, "line 3"));
	assert_int_equal(cc_csv_next(c, &rec, &d), CC_ERR_ENCODING);
	cc_csv_free(c);
	fclose(f);
}

static void
invalid_utf8_when_forced(void **state)
{
	const char text[] = "a;b\n1;\xC3\xA5\n2;\xE5\n3;x\n";
	const char truncated[] = "a;b\n1;\xC3";
	struct cc_csv_record rec;
	struct cc_csv *c;
	struct cc_diag d = { { 0 } };
	FILE *f;

	(void)state;
	f = file_str(text);
	c = open_ok(f, CC_CSV_ENCODING_UTF8);
	next_ok(c, &rec);
	expect_fields(&rec, 2, 2, "1", "\xC3\xA5");
	assert_int_equal(cc_csv_next(c, &rec, &d), CC_ERR_ENCODING);
	assert_non_null(strstr(d.text, "line 3"));
	assert_non_null(strstr(d.text, "UTF-8"));
	assert_int_equal(cc_csv_next(c, &rec, &d), CC_ERR_ENCODING);
	cc_csv_free(c);
	fclose(f);

	f = file_str(truncated);
	c = open_ok(f, CC_CSV_ENCODING_UTF8);
	assert_int_equal(cc_csv_next(c, &rec, &d), CC_ERR_ENCODING);
	cc_csv_free(c);
	fclose(f);
}

static void
nul_byte_is_an_encoding_error(void **state)
{
	/* UTF-16LE "a;b\n" */
	const char utf16[] = "\xFF\xFE" "a\0;\0b\0\n\0";
	const char late[] = "a;b\n1;2\n3;\0\n";
	struct cc_csv_record rec;
	struct cc_csv *c = NULL;
	struct cc_diag d = { { 0 } };
	FILE *f;

	(void)state;
	f = file_with(utf16, sizeof(utf16) - 1);
	assert_int_equal(cc_csv_open(&c, f, CC_CSV_ENCODING_AUTO, &d),
	    CC_ERR_ENCODING);
	assert_non_null(strstr(d.text, "NUL"));
	rewind(f);
	assert_int_equal(cc_csv_open(&c, f, CC_CSV_ENCODING_CP1252, &d),
	    CC_ERR_ENCODING);
	fclose(f);

	f = file_with(late, sizeof(late) - 1);
	c = open_ok(f, CC_CSV_ENCODING_UTF8);
	next_ok(c, &rec);
	assert_int_equal(cc_csv_next(c, &rec, &d), CC_ERR_ENCODING);
	assert_non_null(strstr(d.text, "line 3"));
	cc_csv_free(c);
	fclose(f);
}

/* Fill buf with `n` copies of ch and NUL-terminate. */
static char *
repeat(char ch, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, ch, n);
	s[n] = '\0';
	return s;
}

static void
field_length_boundary_and_resync(void **state)
{
	char *ok = repeat('7', CC_LIMIT_CSV_FIELD);
	char *big = repeat('7', CC_LIMIT_CSV_FIELD + 1);
	char *text;
	struct cc_csv_record rec;
	struct cc_csv *c;
	struct cc_diag d = { { 0 } };
	size_t cap = 4 * CC_LIMIT_CSV_FIELD + 200;
	FILE *f;

	(void)state;
	text = malloc(cap);
	assert_non_null(text);
	snprintf(text, cap, "a;b\nx;%s\ny;%s\n\"q\";\"%s\"\nz;w\n", ok, big,
	    big);
	f = file_str(text);
	c = open_ok(f, CC_CSV_ENCODING_AUTO);
	next_ok(c, &rec);
	assert_int_equal(rec.line, 2);
	assert_int_equal(rec.len[1], CC_LIMIT_CSV_FIELD);
	assert_string_equal(rec.field[1], ok);
	assert_int_equal(cc_csv_next(c, &rec, &d), CC_ERR_LIMIT);
	assert_int_equal(rec.line, 3);
	assert_int_equal(rec.nfields, 0);
	assert_non_null(strstr(d.text, "line 3, field 2"));
	assert_null(strstr(d.text, "77"));     /* never the contents */
	assert_int_equal(cc_csv_next(c, &rec, &d), CC_ERR_LIMIT);
	assert_int_equal(rec.line, 4);
	next_ok(c, &rec);
	expect_fields(&rec, 5, 2, "z", "w");
	expect_end(c);
	cc_csv_free(c);
	fclose(f);
	free(text);
	free(ok);
	free(big);
}

static void
record_length_boundary_and_resync(void **state)
{
	/* Four fields of 1000 bytes and three delimiters: 4003 bytes. */
	char *thousand = repeat('5', 1000);
	char *pad_ok, *pad_big, *text;
	struct cc_csv_record rec;
	struct cc_csv *c;
	struct cc_diag d = { { 0 } };
	size_t cap = 4 * CC_LIMIT_CSV_LINE;
	FILE *f;

	(void)state;
	pad_ok = repeat('6', CC_LIMIT_CSV_LINE - 4003 - 1);  /* ;pad: 4096 */
	pad_big = repeat('6', CC_LIMIT_CSV_LINE - 4003);     /* 4097 */
	text = malloc(cap);
	assert_non_null(text);
	snprintf(text, cap, "a;b\n%s;%s;%s;%s;%s\n%s;%s;%s;%s;%s\nend;1\n",
	    thousand, thousand, thousand, thousand, pad_ok,
	    thousand, thousand, thousand, thousand, pad_big);
	f = file_str(text);
	c = open_ok(f, CC_CSV_ENCODING_AUTO);
	next_ok(c, &rec);
	assert_int_equal(rec.nfields, 5);
	assert_int_equal(rec.line, 2);
	assert_int_equal(cc_csv_next(c, &rec, &d), CC_ERR_LIMIT);
	assert_int_equal(rec.line, 3);
	assert_non_null(strstr(d.text, "line 3"));
	assert_non_null(strstr(d.text, "longer than 4096"));
	next_ok(c, &rec);
	expect_fields(&rec, 4, 2, "end", "1");
	expect_end(c);
	cc_csv_free(c);
	fclose(f);
	free(text);
	free(thousand);
	free(pad_ok);
	free(pad_big);
}

/* An over-long quoted field with newlines is skipped as one record. */
static void
long_quoted_record_resyncs_after_the_quote(void **state)
{
	size_t cap = 3 * CC_LIMIT_CSV_LINE, n = 0, i;
	char *text = malloc(cap);
	struct cc_csv_record rec;
	struct cc_csv *c;
	struct cc_diag d = { { 0 } };
	FILE *f;

	(void)state;
	assert_non_null(text);
	n += (size_t)snprintf(text + n, cap - n, "a;b\n1;\"");
	for (i = 0; i < 500; i++)    /* 500 lines of 9 bytes */
		n += (size_t)snprintf(text + n, cap - n, "x;y;z;\"\"\n");
	n += (size_t)snprintf(text + n, cap - n, "end\"\nnext;2\n");
	f = file_with(text, n);
	c = open_ok(f, CC_CSV_ENCODING_AUTO);
	assert_int_equal(cc_csv_next(c, &rec, &d), CC_ERR_LIMIT);
	assert_int_equal(rec.line, 2);
	next_ok(c, &rec);
	expect_fields(&rec, 503, 2, "next", "2");
	expect_end(c);
	cc_csv_free(c);
	fclose(f);
	free(text);
}

static void
column_count_boundary(void **state)
{
	char text[1024];
	size_t n = 0, i;
	struct cc_csv_record rec;
	struct cc_csv *c;
	struct cc_diag d = { { 0 } };
	FILE *f;

	(void)state;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "a;b\n");
	for (i = 0; i < CC_LIMIT_CSV_COLUMNS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%zu",
		    i > 0 ? ";" : "", i % 10);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\n");
	for (i = 0; i <= CC_LIMIT_CSV_COLUMNS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%zu",
		    i > 0 ? ";" : "", i % 10);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\nlast;1\n");
	f = file_with(text, n);
	c = open_ok(f, CC_CSV_ENCODING_AUTO);
	next_ok(c, &rec);
	assert_int_equal(rec.nfields, CC_LIMIT_CSV_COLUMNS);
	assert_string_equal(rec.field[63], "3");
	assert_int_equal(cc_csv_next(c, &rec, &d), CC_ERR_LIMIT);
	assert_int_equal(rec.line, 3);
	assert_non_null(strstr(d.text, "more than 64 fields"));
	next_ok(c, &rec);
	expect_fields(&rec, 4, 2, "last", "1");
	cc_csv_free(c);
	fclose(f);

	/* A header with too many columns fails the open. */
	for (n = 0, i = 0; i <= CC_LIMIT_CSV_COLUMNS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "c%zu;", i);
	f = file_with(text, n);
	c = NULL;
	assert_int_equal(cc_csv_open(&c, f, CC_CSV_ENCODING_AUTO, &d),
	    CC_ERR_LIMIT);
	assert_null(c);
	assert_non_null(strstr(d.text, "header"));
	fclose(f);
}

static void
bad_quoting_rejects_one_row(void **state)
{
	const char text[] =
	    "pnr;cat\n"
	    "19121212\"1212;x\n"           /* quote in unquoted field */
	    "ok1;y\n"
	    "\"191212121212\"x;z\n"        /* text after closing quote */
	    "ok2;\"multi\nline\"\n"
	    "\"191212121212\" ;z\n"        /* a space after the quote */
	    "ok3;w\n"
	    "ok4;\"never closed\nat all\n";
	struct cc_csv_record rec;
	struct cc_csv *c;
	struct cc_diag d = { { 0 } };
	FILE *f;

	(void)state;
	f = file_str(text);
	c = open_ok(f, CC_CSV_ENCODING_AUTO);
	assert_int_equal(cc_csv_next(c, &rec, &d), CC_ERR_FORMAT);
	assert_int_equal(rec.line, 2);
	assert_non_null(strstr(d.text, "line 2, field 1"));
	assert_non_null(strstr(d.text, "quote inside an unquoted field"));
	assert_null(strstr(d.text, "1912"));
	next_ok(c, &rec);
	expect_fields(&rec, 3, 2, "ok1", "y");
	assert_int_equal(cc_csv_next(c, &rec, &d), CC_ERR_FORMAT);
	assert_int_equal(rec.line, 4);
	assert_non_null(strstr(d.text, "text after a closing quote"));
	assert_null(strstr(d.text, "1912"));
	next_ok(c, &rec);
	expect_fields(&rec, 5, 2, "ok2", "multi\nline");
	assert_int_equal(cc_csv_next(c, &rec, &d), CC_ERR_FORMAT);
	assert_int_equal(rec.line, 7);
	next_ok(c, &rec);
	expect_fields(&rec, 8, 2, "ok3", "w");
	assert_int_equal(cc_csv_next(c, &rec, &d), CC_ERR_FORMAT);
	assert_int_equal(rec.line, 9);
	assert_non_null(strstr(d.text, "line 9, field 2"));
	assert_non_null(strstr(d.text, "not closed"));
	expect_end(c);
	cc_csv_free(c);
	fclose(f);
}

static void
header_errors(void **state)
{
	const char *bad[] = {
		"",                        /* empty file */
		"\n\n\r\n",                /* only blank lines */
		";;;\n",                   /* a header naming no columns */
		";;\r\xC3\xA5\na;b\n",       /* the same before a real header */
		"a;\"b\nc;d\n",            /* unterminated quote in the header */
		"a;b\"c\n1;2\n",           /* bad quoting in the header */
	};
	const int want[] = {
		CC_ERR_FORMAT, CC_ERR_FORMAT, CC_ERR_FORMAT, CC_ERR_FORMAT,
		CC_ERR_FORMAT, CC_ERR_FORMAT,
	};
	struct cc_csv *c;
	struct cc_diag d;
	FILE *f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&d, 0, sizeof(d));
		c = (struct cc_csv *)1;
		f = file_str(bad[i]);
		assert_int_equal(cc_csv_open(&c, f, CC_CSV_ENCODING_AUTO, &d),
		    want[i]);
		assert_null(c);
		assert_true(d.text[0] != '\0');
		fclose(f);
	}
	f = file_str("");
	assert_int_equal(cc_csv_open(&c, f, CC_CSV_ENCODING_AUTO, &d),
	    CC_ERR_FORMAT);
	assert_non_null(strstr(d.text, "empty"));
	fclose(f);
	f = file_str("\n;;\n");
	assert_int_equal(cc_csv_open(&c, f, CC_CSV_ENCODING_AUTO, &d),
	    CC_ERR_FORMAT);
	assert_string_equal(d.text, "header: line 2 names no columns");
	fclose(f);
}

static void
header_only_file(void **state)
{
	struct cc_csv *c;
	FILE *f;

	(void)state;
	f = file_str("personnummer;category;start_date\n");
	c = open_ok(f, CC_CSV_ENCODING_AUTO);
	expect_end(c);
	cc_csv_free(c);
	fclose(f);
	f = file_str("personnummer;category;start_date");
	c = open_ok(f, CC_CSV_ENCODING_UTF8);
	expect_fields(cc_csv_header(c), 1, 3, "personnummer", "category",
	    "start_date");
	expect_end(c);
	cc_csv_free(c);
	fclose(f);
}

static void
many_rows_stream(void **state)
{
	const unsigned long rows = 100000;
	char path[128];
	struct cc_csv_record rec;
	struct cc_csv *c;
	unsigned long i, seen = 0;
	FILE *f;
	int r;

	(void)state;
	snprintf(path, sizeof(path), "%s/f%u.csv", tmpdir, file_counter++);
	f = fopen(path, "wb");
	assert_non_null(f);
	fprintf(f, "Personnummer;Kategori;Startdatum;Slutdatum;Enhet\r\n");
	for (i = 0; i < rows; i++)
		fprintf(f, "%012lu;\"kat;%lu\";2024-01-01;;\"Enhet \xC5\"\r\n",
		    190000000000UL + i, i % 7);
	assert_int_equal(fclose(f), 0);
	f = fopen(path, "rb");
	assert_non_null(f);
	c = open_ok(f, CC_CSV_ENCODING_AUTO);
	assert_int_equal(cc_csv_encoding(c), CC_CSV_ENCODING_CP1252);
	while ((r = cc_csv_next(c, &rec, NULL)) == 1) {
		assert_int_equal(rec.nfields, 5);
		assert_int_equal(rec.line, seen + 2);
		assert_int_equal(rec.len[0], 12);
		assert_string_equal(rec.field[4], "Enhet \xC3\x85");
		seen++;
	}
	assert_int_equal(r, 0);
	assert_int_equal(seen, rows);
	cc_csv_free(c);
	fclose(f);
}

static void
starts_at_the_current_position(void **state)
{
	struct cc_csv_record rec;
	struct cc_csv *c;
	FILE *f;

	(void)state;
	f = file_str("junk\na;b\n1;2\n");
	assert_int_equal(fseek(f, 5, SEEK_SET), 0);
	c = open_ok(f, CC_CSV_ENCODING_AUTO);
	expect_fields(cc_csv_header(c), 1, 2, "a", "b");
	next_ok(c, &rec);
	expect_fields(&rec, 2, 2, "1", "2");
	cc_csv_free(c);
	fclose(f);
}

static void
pipe_is_refused(void **state)
{
	struct cc_csv *c = (struct cc_csv *)1;
	struct cc_diag d = { { 0 } };
	int fds[2];
	FILE *f;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "a;b\n1;2\n", 8), 8);
	close(fds[1]);
	f = fdopen(fds[0], "rb");
	assert_non_null(f);
	assert_int_equal(cc_csv_open(&c, f, CC_CSV_ENCODING_UTF8, &d),
	    CC_ERR_IO);
	assert_null(c);
	assert_non_null(strstr(d.text, "not seekable"));
	fclose(f);
}

static void
encoding_names(void **state)
{
	enum cc_csv_encoding e;

	(void)state;
	assert_int_equal(cc_csv_encoding_parse(&e, "AUTO"), 0);
	assert_int_equal(e, CC_CSV_ENCODING_AUTO);
	assert_int_equal(cc_csv_encoding_parse(&e, "utf-8"), 0);
	assert_int_equal(e, CC_CSV_ENCODING_UTF8);
	assert_int_equal(cc_csv_encoding_parse(&e, "UTF8"), 0);
	assert_int_equal(e, CC_CSV_ENCODING_UTF8);
	assert_int_equal(cc_csv_encoding_parse(&e, "Windows-1252"), 0);
	assert_int_equal(e, CC_CSV_ENCODING_CP1252);
	assert_int_equal(cc_csv_encoding_parse(&e, "cp1252"), 0);
	assert_int_equal(e, CC_CSV_ENCODING_CP1252);
	assert_int_equal(cc_csv_encoding_parse(&e, "latin1"), CC_ERR_FORMAT);
	assert_int_equal(e, CC_CSV_ENCODING_AUTO);
	assert_int_equal(cc_csv_encoding_parse(&e, ""), CC_ERR_FORMAT);
	assert_int_equal(cc_csv_encoding_parse(&e, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	assert_string_equal(cc_csv_encoding_name(CC_CSV_ENCODING_UTF8), "utf-8");
	assert_string_equal(cc_csv_encoding_name(CC_CSV_ENCODING_CP1252),
	    "windows-1252");
	assert_string_equal(cc_csv_encoding_name(CC_CSV_ENCODING_AUTO), "auto");
}

static void
utf8_validation(void **state)
{
	(void)state;
	assert_true(cc_csv_utf8_valid("", 0));
	assert_true(cc_csv_utf8_valid("\xC3\xA5\xE2\x82\xAC\xF0\x9F\x98\x80",
	    9));
	assert_true(cc_csv_utf8_valid("\xF4\x8F\xBF\xBF", 4));   /* U+10FFFF */
	assert_false(cc_csv_utf8_valid("\xC0\x80", 2));          /* overlong */
	assert_false(cc_csv_utf8_valid("\xE0\x80\xAF", 3));      /* overlong */
	assert_false(cc_csv_utf8_valid("\xED\xA0\x80", 3));      /* surrogate */
	assert_false(cc_csv_utf8_valid("\xF4\x90\x80\x80", 4));  /* > U+10FFFF */
	assert_false(cc_csv_utf8_valid("\xC3", 1));              /* truncated */
	assert_false(cc_csv_utf8_valid("\x80", 1));
	assert_false(cc_csv_utf8_valid("\xFF", 1));
}

static void
null_arguments(void **state)
{
	struct cc_csv_record rec;
	struct cc_csv *c = (struct cc_csv *)1;
	struct cc_diag d;

	(void)state;
	assert_int_equal(cc_csv_open(NULL, stdin, CC_CSV_ENCODING_AUTO, &d),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_csv_open(&c, NULL, CC_CSV_ENCODING_AUTO, &d),
	    CC_ERR_INVALID_ARGUMENT);
	assert_null(c);
	assert_int_equal(cc_csv_next(NULL, &rec, &d), CC_ERR_INVALID_ARGUMENT);
	assert_null(cc_csv_header(NULL));
	cc_csv_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lf_and_crlf_read_the_same),
		cmocka_unit_test(bom_is_skipped),
		cmocka_unit_test(bom_with_invalid_utf8_is_refused),
		cmocka_unit_test(delimiter_detection),
		cmocka_unit_test(header_names_are_trimmed),
		cmocka_unit_test(quoted_fields),
		cmocka_unit_test(blank_records_are_skipped),
		cmocka_unit_test(cp1252_is_converted),
		cmocka_unit_test(cp1252_table_matches_iconv),
		cmocka_unit_test(undefined_cp1252_byte),
		cmocka_unit_test(invalid_utf8_when_forced),
		cmocka_unit_test(nul_byte_is_an_encoding_error),
		cmocka_unit_test(field_length_boundary_and_resync),
		cmocka_unit_test(record_length_boundary_and_resync),
		cmocka_unit_test(long_quoted_record_resyncs_after_the_quote),
		cmocka_unit_test(column_count_boundary),
		cmocka_unit_test(bad_quoting_rejects_one_row),
		cmocka_unit_test(header_errors),
		cmocka_unit_test(header_only_file),
		cmocka_unit_test(many_rows_stream),
		cmocka_unit_test(starts_at_the_current_position),
		cmocka_unit_test(pipe_is_refused),
		cmocka_unit_test(encoding_names),
		cmocka_unit_test(utf8_validation),
		cmocka_unit_test(null_arguments),
	};

	return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
