/* Unit tests: the strict INI reader (protocol/ini.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <cmocka.h>

#include "protocol/error.h"
#include "protocol/ini.h"
#include "protocol/limits.h"

enum { S_SERVER, S_POLICY, S_COUNT };
enum { K_PORT, K_CERT, K_GRID, K_FLOOR, K_COUNT };

static const char *const sections[S_COUNT] = { "server", "policy" };
static const struct cc_ini_key keys[K_COUNT] = {
	[K_PORT] = { S_SERVER, "port", false },
	[K_CERT] = { S_SERVER, "cert", false },
	[K_GRID] = { S_POLICY, "grid", true },
	[K_FLOOR] = { S_POLICY, "floor", false },
};
static const struct cc_ini_schema schema = { sections, S_COUNT, keys, K_COUNT };

struct got {
	size_t n;
	unsigned long line[16];
	size_t key[16];
	char value[16][CC_LIMIT_CONFIG_LINE + 1];
};

/*
 * Read text (len bytes) to its end or first error; entries in *g, the
 * final code returned (0 at a clean end), diag in *d.
 */
static int
read_all(const char *text, size_t len, struct got *g, struct cc_diag *d)
{
	struct cc_ini *ini = NULL;
	struct cc_ini_entry e;
	FILE *f;
	int r;

	memset(g, 0, sizeof(*g));
	memset(d, 0, sizeof(*d));
	f = fmemopen((void *)(uintptr_t)text, len, "r");
	assert_non_null(f);
	assert_int_equal(cc_ini_new(&ini, f, "t.conf", &schema, d), 0);
	while ((r = cc_ini_next(ini, &e, d)) == 1) {
		assert_true(g->n < 16);
		g->line[g->n] = e.line;
		g->key[g->n] = e.key;
		assert_int_equal(e.section, keys[e.key].section);
		memcpy(g->value[g->n], e.value, strlen(e.value) + 1);
		g->n++;
	}
	/* After an error the reader refuses to go on. */
	if (r < 0)
		assert_int_equal(cc_ini_next(ini, &e, NULL), CC_ERR_INVALID_ARGUMENT);
	cc_ini_free(ini);
	fclose(f);
	return r;
}

static int
read_str(const char *text, struct got *g, struct cc_diag *d)
{
	return read_all(text, strlen(text), g, d);
}

static void
entries_in_order(void **state)
{
	static const char text[] =
	    "\xEF\xBB\xBF# a comment\r\n"
	    "; another\n"
	    "\n"
	    "[ server ]\n"
	    "  port\t=  8443  \r\n"
	    "cert = dir/a b.pem\n"
	    "[policy]\n"
	    "grid = 0-5, 6-12\n"
	    "grid = 0-17\n"
	    "floor = 5";           /* no newline at the end */
	struct got *g = calloc(1, sizeof(*g));
	struct cc_diag d;

	(void)state;
	assert_non_null(g);
	assert_int_equal(read_str(text, g, &d), 0);
	assert_int_equal(g->n, 5);
	assert_int_equal(g->key[0], K_PORT);
	assert_int_equal(g->line[0], 5);
	assert_string_equal(g->value[0], "8443");
	assert_string_equal(g->value[1], "dir/a b.pem");
	assert_int_equal(g->key[2], K_GRID);
	assert_string_equal(g->value[2], "0-5, 6-12");
	assert_int_equal(g->key[3], K_GRID);
	assert_int_equal(g->line[3], 9);
	assert_string_equal(g->value[4], "5");
	free(g);
}

static void
key_lines_and_name(void **state)
{
	static const char text[] = "[policy]\ngrid = 1\n\ngrid = 2\n";
	struct cc_ini *ini = NULL;
	struct cc_ini_entry e;
	char longname[300];
	FILE *f;

	(void)state;
	assert_non_null(f = fmemopen((void *)(uintptr_t)text, sizeof(text) - 1, "r"));
	memset(longname, 'd', sizeof(longname));
	memcpy(longname + 200, "/agg.conf", 10);
	assert_int_equal(cc_ini_new(&ini, f, longname, &schema, NULL), 0);
	assert_string_equal(cc_ini_name(ini), "agg.conf");
	assert_int_equal(cc_ini_next(ini, &e, NULL), 1);
	assert_int_equal(cc_ini_next(ini, &e, NULL), 1);
	assert_int_equal(cc_ini_next(ini, &e, NULL), 0);
	/* The first line a repeatable key was given on. */
	assert_int_equal(cc_ini_key_line(ini, K_GRID), 2);
	assert_int_equal(cc_ini_key_line(ini, K_PORT), 0);
	assert_int_equal(cc_ini_key_line(ini, K_COUNT), 0);
	cc_ini_free(ini);
	cc_ini_free(NULL);
	fclose(f);
	assert_int_equal(cc_ini_new(&ini, NULL, "x", &schema, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	assert_null(ini);
	assert_string_equal(cc_ini_short_name("short/name.conf"), "short/name.conf");
}

struct bad {
	const char *text;
	const char *want;     /* the whole diag */
};

static const struct bad bad_cases[] = {
	{ "port = 1\n", "t.conf:1: port: key before any [section]" },
	{ "[server]\nport 1\n", "t.conf:2: [server] port 1: missing '=' (write "
	  "key = value)" },
	{ "[server]\nprot = 1\n", "t.conf:2: [server] prot: unknown key (known: "
	  "port, cert)" },
	{ "[policy]\ngrids = 1\n", "t.conf:2: [policy] grids: unknown key "
	  "(known: grid, floor)" },
	{ "[server]\nport = 1\nport = 2\n", "t.conf:3: [server] port: set twice "
	  "(first on line 2)" },
	{ "[server]\nport =\n", "t.conf:2: [server] port: has no value (comment "
	  "the line out with # to use the default)" },
	{ "[server]\nport =   \t\n", "t.conf:2: [server] port: has no value "
	  "(comment the line out with # to use the default)" },
	{ "[servers]\n", "t.conf:1: [servers]: unknown section (known: server, "
	  "policy)" },
	{ "[server]\n[policy]\n[server]\n", "t.conf:3: [server]: section "
	  "appears twice (first on line 1)" },
	{ "[server\n", "t.conf:1: a section header is [name] alone on its line" },
	{ "[server] # x\n", "t.conf:1: a section header is [name] alone on its "
	  "line" },
	{ "[]\n", "t.conf:1: []: unknown section (known: server, policy)" },
	{ "=\n", "t.conf:1: : key before any [section]" },
	{ "[server]\n= 5\n", "t.conf:2: [server] : unknown key (known: port, "
	  "cert)" },
};

static void
errors_name_file_line_and_key(void **state)
{
	struct got *g = calloc(1, sizeof(*g));
	struct cc_diag d;
	size_t i;
	int r;

	(void)state;
	assert_non_null(g);
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		r = read_str(bad_cases[i].text, g, &d);
		if (r != CC_ERR_CONFIG || strcmp(d.text, bad_cases[i].want) != 0)
			fail_msg("case %zu: %d\n got  %s\n want %s", i, r, d.text,
			    bad_cases[i].want);
	}
	/* A NUL byte, even in a comment. */
	assert_int_equal(read_all("[server]\n# a\0b\n", 15, g, &d), CC_ERR_CONFIG);
	assert_string_equal(d.text, "t.conf:2: NUL byte: this is not a text file");
	free(g);
}

static void
line_limits(void **state)
{
	size_t cap = 2 * CC_LIMIT_CONFIG_LINE + (size_t)CC_LIMIT_CONFIG_LINES * 2 + 64;
	char *text = malloc(cap);
	struct got *g = calloc(1, sizeof(*g));
	struct cc_diag d;
	size_t n, i;

	(void)state;
	assert_non_null(text);
	assert_non_null(g);
	/* Exactly CC_LIMIT_CONFIG_LINE bytes (a CR would count). */
	n = (size_t)snprintf(text, cap, "[server]\ncert = ");
	for (i = strlen("cert = "); i < CC_LIMIT_CONFIG_LINE; i++)
		text[n++] = 'c';
	text[n++] = '\n';
	text[n] = '\0';
	assert_int_equal(read_str(text, g, &d), 0);
	assert_int_equal(strlen(g->value[0]), CC_LIMIT_CONFIG_LINE - strlen("cert = "));
	/* One byte more: refused, and the key is still named. */
	text[n - 1] = 'c';
	text[n++] = '\n';
	text[n] = '\0';
	assert_int_equal(read_str(text, g, &d), CC_ERR_CONFIG);
	assert_string_equal(d.text, "t.conf:2: [server] cert: line is longer "
	    "than 1024 bytes");
	/* A long comment, and a long line before any section. */
	n = 0;
	text[n++] = '#';
	for (i = 0; i < CC_LIMIT_CONFIG_LINE; i++)
		text[n++] = 'x';
	text[n] = '\0';
	assert_int_equal(read_str(text, g, &d), CC_ERR_CONFIG);
	assert_string_equal(d.text, "t.conf:1: line is longer than 1024 bytes");
	text[0] = 'k';
	text[5] = '=';
	assert_int_equal(read_str(text, g, &d), CC_ERR_CONFIG);
	assert_string_equal(d.text, "t.conf:1: line is longer than 1024 bytes");
	/* A long section header. */
	text[0] = '[';
	text[CC_LIMIT_CONFIG_LINE] = ']';     /* the last of its 1025 bytes */
	assert_int_equal(read_str(text, g, &d), CC_ERR_CONFIG);
	assert_string_equal(d.text, "t.conf:1: a section header is [name] alone "
	    "on its line");
	/* CC_LIMIT_CONFIG_LINES lines are fine, one more is not. */
	n = 0;
	for (i = 0; i < CC_LIMIT_CONFIG_LINES; i++) {
		text[n++] = '#';
		text[n++] = '\n';
	}
	text[n] = '\0';
	assert_int_equal(read_str(text, g, &d), 0);
	text[n++] = '\n';
	text[n] = '\0';
	assert_int_equal(read_str(text, g, &d), CC_ERR_CONFIG);
	assert_string_equal(d.text, "t.conf:10001: more than 10000 lines");
	/* Empty input: no entries, no error. */
	assert_int_equal(read_all("", 0, g, &d), 0);
	assert_int_equal(g->n, 0);
	free(text);
	free(g);
}

static void
value_errors_and_comment_hint(void **state)
{
	static const char text[] = "[policy]\nfloor = 5 # five\ngrid = 1;2\n"
	    "[server]\nport = x\n";
	struct cc_ini *ini = NULL;
	struct cc_ini_entry e;
	struct cc_diag d = { "" };
	FILE *f;

	(void)state;
	assert_non_null(f = fmemopen((void *)(uintptr_t)text, sizeof(text) - 1, "r"));
	assert_int_equal(cc_ini_new(&ini, f, "agg.conf", &schema, &d), 0);
	assert_int_equal(cc_ini_next(ini, &e, &d), 1);
	assert_true(e.comment_char);
	/* Modifying the value in place does not lose the hint. */
	e.value[1] = '\0';
	assert_int_equal(cc_ini_value_error(ini, &e, &d, "must be %d to %d", 1, 9),
	    CC_ERR_CONFIG);
	assert_string_equal(d.text, "agg.conf:2: [policy] floor: must be 1 to 9 "
	    "(comments go on their own line)");
	assert_int_equal(cc_ini_next(ini, &e, &d), 1);
	assert_true(e.comment_char);
	assert_int_equal(cc_ini_next(ini, &e, &d), 1);
	assert_false(e.comment_char);
	cc_ini_value_error(ini, &e, &d, "not a port");
	assert_string_equal(d.text, "agg.conf:5: [server] port: not a port");
	assert_int_equal(cc_ini_next(ini, &e, &d), 0);
	cc_ini_free(ini);
	fclose(f);
}

static void
whole_numbers(void **state)
{
	unsigned long v = 99;
	char big[64];

	(void)state;
	assert_int_equal(cc_ini_parse_uint("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(cc_ini_parse_uint("10", 0, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(cc_ini_parse_uint("0010", 0, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(cc_ini_parse_uint("11", 0, 10, &v), CC_ERR_FORMAT);
	assert_int_equal(v, 0);
	assert_int_equal(cc_ini_parse_uint("4", 5, 10, &v), CC_ERR_FORMAT);
	assert_int_equal(cc_ini_parse_uint("", 0, 10, &v), CC_ERR_FORMAT);
	assert_int_equal(cc_ini_parse_uint(NULL, 0, 10, &v), CC_ERR_FORMAT);
	assert_int_equal(cc_ini_parse_uint("+1", 0, 10, &v), CC_ERR_FORMAT);
	assert_int_equal(cc_ini_parse_uint("-1", 0, 10, &v), CC_ERR_FORMAT);
	assert_int_equal(cc_ini_parse_uint(" 1", 0, 10, &v), CC_ERR_FORMAT);
	assert_int_equal(cc_ini_parse_uint("1 ", 0, 10, &v), CC_ERR_FORMAT);
	assert_int_equal(cc_ini_parse_uint("0x1", 0, 10, &v), CC_ERR_FORMAT);
	assert_int_equal(cc_ini_parse_uint("9", 0, 5, &v), CC_ERR_FORMAT);
	/* The largest value, and one more, without overflow. */
	snprintf(big, sizeof(big), "%lu", ULONG_MAX);
	assert_int_equal(cc_ini_parse_uint(big, 0, ULONG_MAX, &v), 0);
	assert_true(v == ULONG_MAX);
	big[strlen(big) - 1]++;
	assert_int_equal(cc_ini_parse_uint(big, 0, ULONG_MAX, &v), CC_ERR_FORMAT);
	assert_int_equal(cc_ini_parse_uint("99999999999999999999999999", 0,
	    ULONG_MAX, &v), CC_ERR_FORMAT);
}

static void
lists_and_text(void **state)
{
	char s1[] = " a ,b\t, c ";
	char s2[] = "a,,b";
	char s3[] = "a,b,c";
	char s4[] = "";
	char *items[2];
	bool over, empty;

	(void)state;
	assert_int_equal(cc_ini_split_list(s1, items, 2, &over, &empty), 2);
	assert_true(over);
	assert_false(empty);
	assert_string_equal(items[0], "a");
	assert_string_equal(items[1], "b");
	assert_int_equal(cc_ini_split_list(s2, items, 2, &over, &empty), 2);
	assert_false(over);
	assert_true(empty);
	assert_int_equal(cc_ini_split_list(s3, items, 2, &over, &empty), 2);
	assert_true(over);
	assert_int_equal(cc_ini_split_list(s4, items, 2, &over, &empty), 0);
	assert_true(empty);

	assert_true(cc_ini_no_controls("a\tb \xC3\xA5"));
	assert_false(cc_ini_no_controls("a\rb"));
	assert_false(cc_ini_no_controls("a\x7F"));
	assert_false(cc_ini_no_controls("\x01"));
}

static void
text_adds_until_it_does_not_fit(void **state)
{
	struct cc_ini_text *t = calloc(1, sizeof(*t));
	char big[CC_INI_TEXT_MAX];

	(void)state;
	assert_non_null(t);
	t->ok = true;
	cc_ini_text_add(t, "id = %s\n", "skola");
	cc_ini_text_add(t, "port = %u\n", 8443u);
	assert_true(t->ok);
	assert_int_equal(t->len, strlen("id = skola\nport = 8443\n"));
	assert_string_equal(t->buf, "id = skola\nport = 8443\n");
	/* Exactly what fits (with the NUL) still fits... */
	memset(big, 'x', sizeof(big));
	big[CC_INI_TEXT_MAX - 1 - t->len] = '\0';
	cc_ini_text_add(t, "%s", big);
	assert_true(t->ok);
	assert_int_equal(t->len, CC_INI_TEXT_MAX - 1);
	/* ...one more byte does not, and nothing after that is added. */
	cc_ini_text_add(t, "a");
	assert_false(t->ok);
	cc_ini_text_add(t, "%s", "");
	assert_false(t->ok);
	assert_int_equal(t->len, CC_INI_TEXT_MAX - 1);
	cc_ini_text_add(NULL, "x");
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(entries_in_order),
		cmocka_unit_test(key_lines_and_name),
		cmocka_unit_test(errors_name_file_line_and_key),
		cmocka_unit_test(line_limits),
		cmocka_unit_test(value_errors_and_comment_hint),
		cmocka_unit_test(whole_numbers),
		cmocka_unit_test(lists_and_text),
		cmocka_unit_test(text_adds_until_it_does_not_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
