/* Unit tests: node.conf (node/config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "node/config.h"
#include "protocol/query.h"
#include "protocol/error.h"
#include "protocol/limits.h"

static char tmpdir[64];
static unsigned file_counter;

static int
setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cc-test-config-XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
remove_dir(void **state)
{
	char path[128];
	unsigned i;

	(void)state;
	for (i = 0; i < file_counter; i++) {
		snprintf(path, sizeof(path), "%s/c%u.conf", tmpdir, i);
		unlink(path);
	}
	return rmdir(tmpdir);
}

/* A fresh path in the temp dir (not created). */
static void
new_path(char *path, size_t cap)
{
	snprintf(path, cap, "%s/c%u.conf", tmpdir, file_counter++);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/* Load text from a file and return the result code; diag in *d. */
static int
load_text(const char *text, struct cc_node_config *cfg, struct cc_diag *d,
    char *path, size_t cap)
{
	new_path(path, cap);
	write_file(path, text);
	memset(d, 0, sizeof(*d));
	return cc_node_config_load(cfg, path, d);
}

static struct cc_node_config *
cfg_new(void)
{
	struct cc_node_config *cfg = calloc(1, sizeof(*cfg));

	assert_non_null(cfg);
	return cfg;
}

static void
generated_file_loads_to_defaults(void **state)
{
	struct cc_node_config *cfg = cfg_new(), *want = cfg_new();
	struct cc_diag d = { { 0 } };
	char path[128];
	struct stat st;
	int r;

	(void)state;
	new_path(path, sizeof(path));
	assert_int_equal(cc_node_config_write_new(path, "orebro-bup",
	    CC_SECTOR_HEALTH, NULL, &d), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	r = cc_node_config_load(cfg, path, &d);
	if (r != 0)
		print_error("%s\n", d.text);
	assert_int_equal(r, 0);
	cc_node_config_defaults(want);
	memcpy(want->id, "orebro-bup", sizeof("orebro-bup"));
	want->sector = CC_SECTOR_HEALTH;
	assert_memory_equal(cfg, want, sizeof(*cfg));
	/* The defaults themselves. */
	assert_int_equal(cfg->poll_seconds, 25);
	assert_int_equal(cfg->encoding, CC_CSV_ENCODING_AUTO);
	assert_true(cfg->max_reject_rate == 0.01);
	assert_string_equal(cfg->column[CC_COLUMN_PERSONNUMMER], "personnummer");
	assert_string_equal(cfg->column[CC_COLUMN_UNIT], "unit");
	assert_false(cfg->policy.auto_approve);
	assert_true(cfg->policy.any_peer);
	assert_true(cfg->policy.any_category);
	assert_int_equal(cfg->policy.min_cell, 5);
	assert_int_equal(cfg->policy.max_queries_per_day, 20);
	assert_int_equal(cfg->policy.max_peer_batch, 2000000);
	assert_string_equal(cfg->aggregator_url, "");

	/* Refuses to overwrite, and leaves the file alone. */
	assert_int_equal(cc_node_config_write_new(path, "other",
	    CC_SECTOR_SCHOOL, NULL, &d), CC_ERR_EXISTS);
	assert_int_equal(cc_node_config_load(cfg, path, &d), 0);
	assert_string_equal(cfg->id, "orebro-bup");
	free(cfg);
	free(want);
}

static void
generated_file_with_url_and_documentation(void **state)
{
	struct cc_node_config *cfg = cfg_new();
	struct cc_diag d = { { 0 } };
	char path[128], text[20000];
	const char *keys[] = {
		"id =", "sector =", "url =", "ca =", "cert =", "key =",
		"poll_seconds =", "encoding =", "max_reject_rate =",
		"column.personnummer =", "column.category =",
		"column.start_date =", "column.end_date =", "column.unit =",
		"approval =", "peers =", "categories =", "min_cell =",
		"max_queries_per_day =", "max_peer_batch =",
		"Personnummer;Kategori;Startdatum;Slutdatum;Enhet",
		"column.personnummer = Personnummer",
	};
	size_t i, n;
	FILE *f;

	(void)state;
	new_path(path, sizeof(path));
	assert_int_equal(cc_node_config_write_new(path, "skola-1",
	    CC_SECTOR_SCHOOL, "https://agg.example.se:8443/v1", &d), 0);
	assert_int_equal(cc_node_config_load(cfg, path, &d), 0);
	assert_string_equal(cfg->aggregator_url, "https://agg.example.se:8443/v1");
	assert_int_equal(cfg->sector, CC_SECTOR_SCHOOL);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strstr(text, keys[i]) == NULL)
			fail_msg("generated file does not document %s", keys[i]);
	/* No line is longer than the reader accepts. */
	for (i = 0; i < n;) {
		size_t len = strcspn(text + i, "\n");
		assert_true(len <= 78);
		i += len + 1;
	}
	free(cfg);
}

static void
write_new_refuses_bad_arguments(void **state)
{
	struct cc_diag d = { { 0 } };
	char path[128];
	struct stat st;

	(void)state;
	new_path(path, sizeof(path));
	assert_int_equal(cc_node_config_write_new(path, "Bad Id",
	    CC_SECTOR_SCHOOL, NULL, &d), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_node_config_write_new(path, "ok", 0, NULL, &d),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_node_config_write_new(path, "ok", CC_SECTOR_OTHER,
	    "http://agg.example.se", &d), CC_ERR_INVALID_ARGUMENT);
	assert_non_null(strstr(d.text, "https://"));
	assert_int_equal(cc_node_config_write_new(NULL, "ok", CC_SECTOR_OTHER,
	    NULL, &d), CC_ERR_INVALID_ARGUMENT);
	assert_int_not_equal(stat(path, &st), 0);   /* nothing was created */
}

static const char every_key[] =
    "\xEF\xBB\xBF# every key, none at its default\r\n"
    "[node]\r\n"
    "id = region-orebro-bup\r\n"
    "  sector=Health  \r\n"
    "\n"
    "; another comment style\n"
    "[aggregator]\n"
    "url = https://[2001:db8::1]:8443/api?x=1\n"
    "ca = /etc/crosscount/ca.pem\n"
    "cert = node cert.pem\n"
    "key = keys/node.key\n"
    "poll_seconds = 300\n"
    "[ import ]\n"
    "encoding = windows-1252\n"
    "max_reject_rate = 2,5 %\n"
    "column.personnummer = Personnummer\n"
    "column.category = Kategori\n"
    "column.start_date = Startdatum\n"
    "column.end_date = Slutdatum\n"
    "column.unit = Enhet f\xC3\xB6r v\xC3\xA5rd\n"
    "[policy]\n"
    "approval = AUTO\n"
    "peers = orebro-skola ,orebro-ifo,  x\n"
    "categories = remiss, bes\xC3\xB6k,behandling\n"
    "min_cell = 1000\n"
    "max_queries_per_day = 10000\n"
    "max_peer_batch = 16777216\n";

static void
every_key_round_trips(void **state)
{
	struct cc_node_config *cfg = cfg_new();
	struct cc_diag d = { { 0 } };
	char path[128];
	int r;

	(void)state;
	r = load_text(every_key, cfg, &d, path, sizeof(path));
	if (r != 0)
		print_error("%s\n", d.text);
	assert_int_equal(r, 0);
	assert_string_equal(cfg->id, "region-orebro-bup");
	assert_int_equal(cfg->sector, CC_SECTOR_HEALTH);
	assert_string_equal(cfg->aggregator_url,
	    "https://[2001:db8::1]:8443/api?x=1");
	assert_string_equal(cfg->ca_file, "/etc/crosscount/ca.pem");
	assert_string_equal(cfg->cert_file, "node cert.pem");
	assert_string_equal(cfg->key_file, "keys/node.key");
	assert_int_equal(cfg->poll_seconds, 300);
	assert_int_equal(cfg->encoding, CC_CSV_ENCODING_CP1252);
	assert_true(cfg->max_reject_rate > 0.0249999 &&
	    cfg->max_reject_rate < 0.0250001);
	assert_string_equal(cfg->column[CC_COLUMN_PERSONNUMMER], "Personnummer");
	assert_string_equal(cfg->column[CC_COLUMN_CATEGORY], "Kategori");
	assert_string_equal(cfg->column[CC_COLUMN_START_DATE], "Startdatum");
	assert_string_equal(cfg->column[CC_COLUMN_END_DATE], "Slutdatum");
	assert_string_equal(cfg->column[CC_COLUMN_UNIT],
	    "Enhet f\xC3\xB6r v\xC3\xA5rd");
	assert_true(cfg->policy.auto_approve);
	assert_false(cfg->policy.any_peer);
	assert_int_equal(cfg->policy.npeers, 3);
	assert_string_equal(cfg->policy.peers[0], "orebro-skola");
	assert_string_equal(cfg->policy.peers[1], "orebro-ifo");
	assert_string_equal(cfg->policy.peers[2], "x");
	assert_false(cfg->policy.any_category);
	assert_int_equal(cfg->policy.ncategories, 3);
	assert_string_equal(cfg->policy.categories[0], "remiss");
	assert_string_equal(cfg->policy.categories[1], "bes\xC3\xB6k");
	assert_string_equal(cfg->policy.categories[2], "behandling");
	assert_int_equal(cfg->policy.min_cell, 1000);
	assert_int_equal(cfg->policy.max_queries_per_day, 10000);
	assert_int_equal(cfg->policy.max_peer_batch, 16777216);

	assert_true(cc_node_policy_allows_peer(&cfg->policy, "orebro-ifo"));
	assert_false(cc_node_policy_allows_peer(&cfg->policy, "orebro"));
	assert_true(cc_node_policy_allows_category(&cfg->policy,
	    "bes\xC3\xB6k"));
	assert_false(cc_node_policy_allows_category(&cfg->policy, "Remiss"));
	free(cfg);
}

static void
fmemopen_parse_matches_load(void **state)
{
	struct cc_node_config *a = cfg_new(), *b = cfg_new();
	struct cc_diag d = { { 0 } };
	char path[128];
	FILE *f;

	(void)state;
	assert_int_equal(load_text(every_key, a, &d, path, sizeof(path)), 0);
	f = fmemopen((void *)every_key, sizeof(every_key) - 1, "r");
	assert_non_null(f);
	assert_int_equal(cc_node_config_parse_file(b, f, "mem.conf", &d), 0);
	fclose(f);
	assert_memory_equal(a, b, sizeof(*a));
	free(a);
	free(b);
}

struct bad_case {
	const char *text;
	const char *want;    /* substring after "FILE:" */
};

static const struct bad_case bad_cases[] = {
	{ "[node]\nid = a\nsector = school\n[policy]\nmin_cell = 2\n",
	  ":5: [policy] min_cell: must be a whole number from 3 to 1000" },
	{ "[node]\nid = a\nsector = school\n[policy]\nmin_cell = 1001\n",
	  ":5: [policy] min_cell: must be a whole number from 3 to 1000" },
	{ "[node]\nid = a\nsector = school\n[policy]\nmin_cell = 5x\n",
	  ":5: [policy] min_cell: must be a whole number" },
	{ "[node]\nid = a\nsector = school\n[policy]\nmin_cell = -5\n",
	  ":5: [policy] min_cell: must be a whole number" },
	{ "[node]\nid = a\nsector = school\n[policy]\nmin_cell = +5\n",
	  ":5: [policy] min_cell: must be a whole number" },
	{ "[node]\nid = a\nsector = school\n[policy]\nmin_cell = 5 # five\n",
	  ":5: [policy] min_cell: must be a whole number from 3 to 1000 "
	  "(comments go on their own line)" },
	{ "[node]\nid = a\nsector = school\n[policy]\n"
	  "max_peer_batch = 99999999999999999999999\n",
	  ":5: [policy] max_peer_batch: must be a whole number from 64" },
	{ "[node]\nid = a\nsector = school\n[policy]\nmax_peer_batch = 63\n",
	  ":5: [policy] max_peer_batch:" },
	{ "[node]\nid = a\nsector = school\n[policy]\n"
	  "max_queries_per_day = 0\n",
	  ":5: [policy] max_queries_per_day: must be a whole number from 1" },
	{ "[node]\nid = a\nsector = school\n[policy]\nmin_cels = 5\n",
	  ":5: [policy] min_cels: unknown key (known: approval, peers, "
	  "categories, min_cell" },
	{ "[node]\nid = a\nsector = school\n[polcy]\n",
	  ":4: [polcy]: unknown section" },
	{ "[node]\nid = a\nid = b\nsector = school\n",
	  ":3: [node] id: set twice (first on line 2)" },
	{ "[node]\nid = a\nsector = school\n[node]\n",
	  ":4: [node]: section appears twice (first on line 1)" },
	{ "[node]\nid a\nsector = school\n",
	  ":2: [node] id a: missing '='" },
	{ "id = a\n[node]\n", ":1: id: key before any [section]" },
	{ "[node\nid = a\n", ":1: a section header is [name] alone" },
	{ "[node] x\nid = a\n", ":1: a section header is [name] alone" },
	{ "[node]\nid = A\nsector = school\n",
	  ":2: [node] id: must be 1 to 32 characters from a-z, 0-9 and '-'" },
	{ "[node]\nid = abcdefghijklmnopqrstuvwxyz0123456\nsector = school\n",
	  ":2: [node] id: must be 1 to 32" },
	{ "[node]\nid =\nsector = school\n",
	  ":2: [node] id: has no value" },
	{ "[node]\nid = a\nsector = skola\n",
	  ":3: [node] sector: must be school, social, health or other" },
	{ "[node]\nid = a\nsector = school\n[aggregator]\n"
	  "url = http://agg.example.se\n",
	  ":5: [aggregator] url: must start with https://" },
	{ "[node]\nid = a\nsector = school\n[aggregator]\n"
	  "url = https://user:pw@agg.example.se/\n",
	  ":5: [aggregator] url: must not contain a user name" },
	{ "[node]\nid = a\nsector = school\n[aggregator]\nurl = https://\n",
	  ":5: [aggregator] url: must be https://HOST" },
	{ "[node]\nid = a\nsector = school\n[aggregator]\n"
	  "url = https://agg.example.se:99999/\n",
	  ":5: [aggregator] url: port must be a whole number from 1 to 65535" },
	{ "[node]\nid = a\nsector = school\n[aggregator]\n"
	  "url = https://agg example.se/\n",
	  ":5: [aggregator] url: must not contain spaces" },
	{ "[node]\nid = a\nsector = school\n[aggregator]\npoll_seconds = 0\n",
	  ":5: [aggregator] poll_seconds: must be a whole number from 1 to 300" },
	{ "[node]\nid = a\nsector = school\n[import]\nencoding = latin1\n",
	  ":5: [import] encoding: must be auto, utf-8 or windows-1252" },
	{ "[node]\nid = a\nsector = school\n[import]\nmax_reject_rate = 1.5\n",
	  ":5: [import] max_reject_rate: must be a share from 0 to 1" },
	{ "[node]\nid = a\nsector = school\n[import]\nmax_reject_rate = 101%\n",
	  ":5: [import] max_reject_rate:" },
	{ "[node]\nid = a\nsector = school\n[import]\nmax_reject_rate = .5\n",
	  ":5: [import] max_reject_rate:" },
	{ "[node]\nid = a\nsector = school\n[import]\nmax_reject_rate = 0.\n",
	  ":5: [import] max_reject_rate:" },
	{ "[node]\nid = a\nsector = school\n[import]\n"
	  "max_reject_rate = 0.0000001\n",
	  ":5: [import] max_reject_rate:" },
	{ "[node]\nid = a\nsector = school\n[import]\n"
	  "max_reject_rate = 1e-2\n",
	  ":5: [import] max_reject_rate:" },
	{ "[node]\nid = a\nsector = school\n[import]\n"
	  "column.unit = Enhet\xE5\n",
	  ":5: [import] column.unit: must be UTF-8 text" },
	{ "[node]\nid = a\nsector = school\n[import]\ncolumn.kommun = K\n",
	  ":5: [import] column.kommun: unknown key" },
	{ "[node]\nid = a\nsector = school\n[policy]\napproval = yes\n",
	  ":5: [policy] approval: must be manual or auto" },
	{ "[node]\nid = a\nsector = school\n[policy]\npeers = a,,b\n",
	  ":5: [policy] peers: must be * or node ids" },
	{ "[node]\nid = a\nsector = school\n[policy]\npeers = a, *\n",
	  ":5: [policy] peers: item 2" },
	{ "[node]\nid = a\nsector = school\n[policy]\npeers = a, b, a\n",
	  ":5: [policy] peers: a is listed twice" },
	{ "[node]\nid = a\nsector = school\n[policy]\ncategories = x,\n",
	  ":5: [policy] categories: must be * or category names" },
	{ "[node]\nid = a\nsector = school\n[policy]\ncategories = x, x\n",
	  ":5: [policy] categories: item 2 is listed twice" },
	{ "[node]\nid = a\nsector = school\n[policy]\ncategories = x, y/z\n",
	  ":5: [policy] categories: item 2: a category name" },
	{ "[node]\nid = a\nsector = school\n[policy]\ncategories = x, *\n",
	  ":5: [policy] categories: item 2: a category name" },
	{ "[node]\nsector = school\n", ": [node] id: required but not set" },
	{ "[node]\nid = a\n", ": [node] sector: required but not set" },
	{ "", ": [node] id: required but not set" },
};

static void
errors_name_file_line_and_key(void **state)
{
	struct cc_node_config *cfg = cfg_new();
	struct cc_diag d;
	char path[128], want[300];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		memset(cfg, 0x55, sizeof(*cfg));
		r = load_text(bad_cases[i].text, cfg, &d, path, sizeof(path));
		if (r != CC_ERR_CONFIG)
			fail_msg("case %zu: got %d (%s)", i, r, d.text);
		snprintf(want, sizeof(want), "%s%s", path, bad_cases[i].want);
		if (strncmp(d.text, want, strlen(want)) != 0)
			fail_msg("case %zu:\n got  %s\n want %s", i, d.text, want);
		/* Cleared on error. */
		assert_int_equal(cfg->id[0], 0);
		assert_int_equal(cfg->policy.min_cell, 0);
	}
	free(cfg);
}

static void
limits_on_lines_and_lists(void **state)
{
	struct cc_node_config *cfg = cfg_new();
	struct cc_diag d;
	char path[128], want[200];
	size_t cap = 2 * 1024 * 1024, n, i;
	char *text = malloc(cap);
	int r;

	(void)state;
	assert_non_null(text);
	/* A line of exactly CC_LIMIT_CONFIG_LINE bytes is accepted. */
	n = (size_t)snprintf(text, cap, "[node]\nid = a\nsector = school\n"
	    "[import]\ncolumn.unit = ");
	for (i = strlen("column.unit = "); i < CC_LIMIT_CONFIG_LINE; i++)
		text[n++] = 'u';
	text[n++] = '\n';
	text[n] = '\0';
	r = load_text(text, cfg, &d, path, sizeof(path));
	if (r != 0)
		print_error("%s\n", d.text);
	assert_int_equal(r, 0);
	assert_int_equal(strlen(cfg->column[CC_COLUMN_UNIT]),
	    CC_LIMIT_CONFIG_LINE - strlen("column.unit = "));
	/* One more byte is not, and the error still names the key. */
	text[n - 1] = 'u';
	text[n++] = '\n';
	text[n] = '\0';
	assert_int_equal(load_text(text, cfg, &d, path, sizeof(path)),
	    CC_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s:5: [import] column.unit: line is "
	    "longer than 1024 bytes", path);
	assert_string_equal(d.text, want);

	/* 32 peers are fine, 33 are not. */
	n = (size_t)snprintf(text, cap, "[node]\nid = a\nsector = school\n"
	    "[policy]\npeers = ");
	for (i = 0; i < CC_POLICY_MAX_PEERS; i++)
		n += (size_t)snprintf(text + n, cap - n, "%sn%zu", i ? "," : "", i);
	snprintf(text + n, cap - n, "\n");
	assert_int_equal(load_text(text, cfg, &d, path, sizeof(path)), 0);
	assert_int_equal(cfg->policy.npeers, CC_POLICY_MAX_PEERS);
	assert_string_equal(cfg->policy.peers[31], "n31");
	snprintf(text + n, cap - n, ",n99\n");
	assert_int_equal(load_text(text, cfg, &d, path, sizeof(path)),
	    CC_ERR_CONFIG);
	assert_non_null(strstr(d.text, "[policy] peers: at most 32 node ids"));

	/* 256 categories are more than one line holds. */
	n = (size_t)snprintf(text, cap, "[node]\nid = a\nsector = school\n"
	    "[policy]\ncategories = ");
	for (i = 0; i <= CC_POLICY_MAX_CATEGORIES; i++)
		n += (size_t)snprintf(text + n, cap - n, "%sk", i ? "," : "");
	snprintf(text + n, cap - n, "\n");
	assert_int_equal(load_text(text, cfg, &d, path, sizeof(path)),
	    CC_ERR_CONFIG);
	assert_non_null(strstr(d.text, "[policy] categories:"));
	/* A category name over CC_LIMIT_CATEGORY bytes. */
	n = (size_t)snprintf(text, cap, "[node]\nid = a\nsector = school\n"
	    "[policy]\ncategories = ok,");
	for (i = 0; i <= CC_LIMIT_CATEGORY; i++)
		text[n++] = 'c';
	snprintf(text + n, cap - n, "\n");
	assert_int_equal(load_text(text, cfg, &d, path, sizeof(path)),
	    CC_ERR_CONFIG);
	assert_non_null(strstr(d.text, "[policy] categories: item 2"));

	/* More than CC_LIMIT_CONFIG_LINES lines. */
	n = (size_t)snprintf(text, cap, "[node]\nid = a\nsector = school\n");
	for (i = 0; i < CC_LIMIT_CONFIG_LINES; i++)
		n += (size_t)snprintf(text + n, cap - n, "#\n");
	assert_int_equal(load_text(text, cfg, &d, path, sizeof(path)),
	    CC_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s:10001: more than 10000 lines", path);
	assert_string_equal(d.text, want);

	/* A NUL byte. */
	new_path(path, sizeof(path));
	{
		FILE *f = fopen(path, "wb");
		static const char nul[] = "[node]\nid = a\0b\nsector = school\n";

		assert_non_null(f);
		assert_int_equal(fwrite(nul, 1, sizeof(nul) - 1, f),
		    sizeof(nul) - 1);
		fclose(f);
	}
	assert_int_equal(cc_node_config_load(cfg, path, &d), CC_ERR_CONFIG);
	assert_non_null(strstr(d.text, ":2: NUL byte"));
	free(text);
	free(cfg);
}

static void
reject_rate_forms(void **state)
{
	static const struct {
		const char *text;
		double want;
	} ok[] = {
		{ "0", 0.0 }, { "1", 1.0 }, { "0.01", 0.01 }, { "0,01", 0.01 },
		{ "1%", 0.01 }, { "1 %", 0.01 }, { "0.5%", 0.005 },
		{ "100%", 1.0 }, { "0%", 0.0 }, { "1.000000", 1.0 },
		{ "0.123456", 0.123456 }, { "00.5", 0.5 },
	};
	struct cc_node_config *cfg = cfg_new();
	struct cc_diag d;
	char path[128], text[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text), "[node]\nid = a\nsector = social\n"
		    "[import]\nmax_reject_rate = %s\n", ok[i].text);
		if (load_text(text, cfg, &d, path, sizeof(path)) != 0)
			fail_msg("%s: %s", ok[i].text, d.text);
		assert_true(cfg->max_reject_rate > ok[i].want - 1e-12 &&
		    cfg->max_reject_rate < ok[i].want + 1e-12);
	}
	free(cfg);
}

/* The parser node.conf and `crosscount-node import --max-reject-rate` share. */
static void
reject_rate_parser(void **state)
{
	static const char *const bad[] = {
		"", "2", "1.1", "101%", "-0", "+0.5", ".5", "1.", "1e-2", " 0.5",
		"0.5x", "0.1234567", "10000%", "0x1", "inf", "nan", "1%%",
	};
	double v = 42;
	size_t i;

	(void)state;
	assert_int_equal(cc_node_config_parse_rate(&v, "0,25"), 0);
	assert_true(v > 0.25 - 1e-12 && v < 0.25 + 1e-12);
	assert_int_equal(cc_node_config_parse_rate(&v, "1.5 %"), 0);
	assert_true(v > 0.015 - 1e-12 && v < 0.015 + 1e-12);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 42;
		if (cc_node_config_parse_rate(&v, bad[i]) != CC_ERR_FORMAT)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_true(v == 0.0);
	}
	assert_int_equal(cc_node_config_parse_rate(&v, NULL), CC_ERR_FORMAT);
	assert_int_equal(cc_node_config_parse_rate(NULL, "1"),
	    CC_ERR_INVALID_ARGUMENT);
}

static void
missing_file_and_helpers(void **state)
{
	struct cc_node_config *cfg = cfg_new();
	struct cc_diag d = { { 0 } };
	enum cc_sector s;
	char path[128];

	(void)state;
	new_path(path, sizeof(path));
	assert_int_equal(cc_node_config_load(cfg, path, &d), CC_ERR_NOT_FOUND);
	assert_non_null(strstr(d.text, path));
	assert_int_equal(cc_node_config_load(NULL, path, &d),
	    CC_ERR_INVALID_ARGUMENT);

	/* node.conf's ids follow the protocol's rule (SPEC 7.2). */
	assert_true(cc_query_node_id_valid("a", 1));
	assert_true(cc_query_node_id_valid("region-orebro-bup-0123456789abcd",
	    32));
	assert_false(cc_query_node_id_valid("region-orebro-bup-0123456789abcde",
	    33));
	assert_false(cc_query_node_id_valid("", 0));
	assert_false(cc_query_node_id_valid("a_b", 3));
	assert_false(cc_query_node_id_valid("\xC3\xA5", 2));
	assert_false(cc_query_node_id_valid(NULL, 0));

	assert_int_equal(cc_sector_parse(&s, "SOCIAL"), 0);
	assert_int_equal(s, CC_SECTOR_SOCIAL);
	assert_int_equal(cc_sector_parse(&s, "bup"), CC_ERR_FORMAT);
	assert_int_equal(s, 0);
	assert_string_equal(cc_sector_name(CC_SECTOR_OTHER), "other");
	assert_null(cc_sector_name(0));
	assert_string_equal(cc_column_name(CC_COLUMN_START_DATE), "start_date");
	assert_null(cc_column_name(CC_COLUMN_COUNT_));

	cc_node_config_defaults(cfg);
	assert_true(cc_node_policy_allows_peer(&cfg->policy, "anyone"));
	assert_false(cc_node_policy_allows_peer(&cfg->policy, "Not An Id"));
	assert_true(cc_node_policy_allows_category(&cfg->policy, "remiss"));
	assert_false(cc_node_policy_allows_category(&cfg->policy, ""));
	assert_false(cc_node_policy_allows_peer(NULL, "a"));
	free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(generated_file_loads_to_defaults),
		cmocka_unit_test(generated_file_with_url_and_documentation),
		cmocka_unit_test(write_new_refuses_bad_arguments),
		cmocka_unit_test(every_key_round_trips),
		cmocka_unit_test(fmemopen_parse_matches_load),
		cmocka_unit_test(errors_name_file_line_and_key),
		cmocka_unit_test(limits_on_lines_and_lists),
		cmocka_unit_test(reject_rate_forms),
		cmocka_unit_test(reject_rate_parser),
		cmocka_unit_test(missing_file_and_helpers),
	};

	return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
