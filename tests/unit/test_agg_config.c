/* Unit tests: aggregator.conf (aggregator/config.c). */
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

#include "aggregator/config.h"
#include "protocol/error.h"
#include "protocol/limits.h"

static char tmpdir[64];

static int
setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cc-test-aggconf-XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
remove_dir(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/aggregator.conf", tmpdir);
	unlink(path);
	return rmdir(tmpdir);
}

static struct cc_agg_config *
cfg_new(void)
{
	struct cc_agg_config *cfg = calloc(1, sizeof(*cfg));

	assert_non_null(cfg);
	return cfg;
}

static int
parse(const char *text, struct cc_agg_config *cfg, struct cc_diag *d)
{
	FILE *f = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	int r;

	assert_non_null(f);
	memset(d, 0, sizeof(*d));
	r = cc_agg_config_parse_file(cfg, f, "/srv/agg", "aggregator.conf", d);
	fclose(f);
	return r;
}

static void
written_file_loads_to_defaults(void **state)
{
	struct cc_agg_config *cfg = cfg_new();
	struct cc_diag d = { "" };
	const struct cc_query_grid *def;
	char path[128];
	struct stat st;
	size_t ndef, i;
	FILE *f;
	char text[20000];
	size_t n;

	(void)state;
	assert_int_equal(cc_agg_config_write_new(tmpdir, "/pki/agg.crt",
	    "tls/agg.key", NULL, 0, &d), 0);
	snprintf(path, sizeof(path), "%s/aggregator.conf", tmpdir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	if (cc_agg_config_load(cfg, tmpdir, &d) != 0)
		fail_msg("%s", d.text);
	assert_string_equal(cfg->dir, tmpdir);
	assert_string_equal(cfg->listen, "127.0.0.1");
	assert_int_equal(cfg->port, 0);
	assert_string_equal(cfg->cert_file, "/pki/agg.crt");
	snprintf(path, sizeof(path), "%s/tls/agg.key", tmpdir);
	assert_string_equal(cfg->key_file, path);
	assert_string_equal(cfg->ca_file, "");        /* commented out */
	assert_string_equal(cfg->web_root, "");
	assert_int_equal(cfg->policy.min_cell_floor, 5);
	assert_int_equal(cfg->policy.max_period_months, CC_LIMIT_PERIOD_MONTHS);
	assert_int_equal(cfg->policy.period_align_months, 1);
	assert_true(cfg->policy.allow_sex);
	assert_int_equal(cfg->deadline_minutes, 60);
	assert_int_equal(cfg->session_hours, 8);
	assert_int_equal(cfg->max_batch, CC_LIMIT_BATCH_ELEMENTS);
	/* No grid line: the default grids, and the policy points at them. */
	def = cc_query_default_grids(&ndef);
	assert_int_equal(cfg->ngrids, ndef);
	assert_ptr_equal(cfg->policy.grids, cfg->grids);
	assert_int_equal(cfg->policy.ngrids, ndef);
	for (i = 0; i < ndef; i++)
		assert_memory_equal(&cfg->grids[i], &def[i], sizeof(def[i]));

	/* Every key is documented in the file. */
	snprintf(path, sizeof(path), "%s/aggregator.conf", tmpdir);
	assert_non_null(f = fopen(path, "r"));
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	{
		static const char *want[] = { "listen =", "port =", "cert =",
		    "key =", "ca =", "web_root =", "min_cell_floor =",
		    "deadline_minutes =", "max_period_months =",
		    "period_align_months =", "allow_sex =", "grid =",
		    "session_hours =", "max_peer_batch =" };
		for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
			if (strstr(text, want[i]) == NULL)
				fail_msg("%s is not documented", want[i]);
	}

	/* Refuses to overwrite. */
	assert_int_equal(cc_agg_config_write_new(tmpdir, NULL, NULL, NULL, 8443,
	    &d), CC_ERR_EXISTS);
	assert_non_null(strstr(d.text, "refusing to overwrite"));
	assert_int_equal(cc_agg_config_load(cfg, tmpdir, &d), 0);
	assert_int_equal(cfg->port, 0);
	/* A path that would not read back the same. */
	assert_int_equal(cc_agg_config_write_new("/nonexistent", "a\nb", NULL,
	    NULL, 1, &d), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_agg_config_write_new("/nonexistent", " a", NULL,
	    NULL, 1, &d), CC_ERR_INVALID_ARGUMENT);
	free(cfg);
}

static void
every_key(void **state)
{
	static const char text[] =
	    "[server]\n"
	    "listen = ::1\n"
	    "port = 65535\n"
	    "cert = c.pem\n"
	    "key = /k.pem\n"
	    "ca = pki/ca.crt\n"
	    "web_root = web\n"
	    "[policy]\n"
	    "min_cell_floor = 10\n"
	    "deadline_minutes = 10080\n"
	    "max_period_months = 24\n"
	    "period_align_months = 3\n"
	    "allow_sex = No\n"
	    "grid = 0-5, 6-12 ,13-17\n"
	    "grid = 0-130\n"
	    "session_hours = 1\n"
	    "max_peer_batch = 64\n";
	struct cc_agg_config *cfg = cfg_new();
	struct cc_diag d;

	(void)state;
	if (parse(text, cfg, &d) != 0)
		fail_msg("%s", d.text);
	assert_string_equal(cfg->listen, "::1");
	assert_int_equal(cfg->port, 65535);
	assert_string_equal(cfg->cert_file, "/srv/agg/c.pem");
	assert_string_equal(cfg->key_file, "/k.pem");
	assert_string_equal(cfg->ca_file, "/srv/agg/pki/ca.crt");
	assert_string_equal(cfg->web_root, "/srv/agg/web");
	assert_int_equal(cfg->policy.min_cell_floor, 10);
	assert_int_equal(cfg->deadline_minutes, 10080);
	assert_int_equal(cfg->policy.max_period_months, 24);
	assert_int_equal(cfg->policy.period_align_months, 3);
	assert_false(cfg->policy.allow_sex);
	assert_int_equal(cfg->ngrids, 2);
	assert_int_equal(cfg->policy.ngrids, 2);
	assert_int_equal(cfg->grids[0].nbands, 3);
	assert_int_equal(cfg->grids[0].bands[1].lo, 6);
	assert_int_equal(cfg->grids[0].bands[1].hi, 12);
	assert_int_equal(cfg->grids[0].bands[2].hi, 17);
	assert_int_equal(cfg->grids[1].nbands, 1);
	assert_int_equal(cfg->grids[1].bands[0].hi, CC_LIMIT_AGE);
	assert_int_equal(cfg->session_hours, 1);
	assert_int_equal(cfg->max_batch, 64);

	/* grid = none: no breakdown by age at all. */
	assert_int_equal(parse("[policy]\ngrid = none\n", cfg, &d), 0);
	assert_int_equal(cfg->ngrids, 0);
	assert_int_equal(cfg->policy.ngrids, 0);
	free(cfg);
}

struct bad {
	const char *text;
	const char *want;   /* the start of the diag */
};

static const struct bad bad_cases[] = {
	{ "[server]\nport = 65536\n",
	  "aggregator.conf:2: [server] port: must be a whole number from 0 to 65535" },
	{ "[server]\nport = -1\n", "aggregator.conf:2: [server] port: must be" },
	{ "[server]\nlisten = localhost\n",
	  "aggregator.conf:2: [server] listen: must be an IPv4 or IPv6 address" },
	{ "[server]\nlisten = 127.0.0.256\n", "aggregator.conf:2: [server] listen:" },
	{ "[server]\ncert = a\x01" "b\n",
	  "aggregator.conf:2: [server] cert: must not contain control characters" },
	{ "[server]\nhost = x\n", "aggregator.conf:2: [server] host: unknown key "
	  "(known: listen, port, cert, key, ca, web_root)" },
	{ "[policy]\nmin_cell_floor = 0\n",
	  "aggregator.conf:2: [policy] min_cell_floor: must be a whole number "
	  "from 1 to 1000" },
	{ "[policy]\nmin_cell_floor = 1001\n", "aggregator.conf:2: [policy] "
	  "min_cell_floor:" },
	{ "[policy]\ndeadline_minutes = 0\n", "aggregator.conf:2: [policy] "
	  "deadline_minutes: must be a whole number from 1 to 10080" },
	{ "[policy]\nmax_period_months = 121\n", "aggregator.conf:2: [policy] "
	  "max_period_months: must be a whole number from 1 to 120" },
	{ "[policy]\nperiod_align_months = 5\n", "aggregator.conf:2: [policy] "
	  "period_align_months: must be 1, 2, 3, 4, 6 or 12" },
	{ "[policy]\nallow_sex = maybe\n", "aggregator.conf:2: [policy] "
	  "allow_sex: must be yes or no" },
	{ "[policy]\nsession_hours = 169\n", "aggregator.conf:2: [policy] "
	  "session_hours: must be a whole number from 1 to 168" },
	{ "[policy]\nmax_peer_batch = 63\n", "aggregator.conf:2: [policy] "
	  "max_peer_batch: must be a whole number from 64 to 16777216" },
	{ "[policy]\ngrid = 0-5,,6-12\n", "aggregator.conf:2: [policy] grid: "
	  "must be age bands LO-HI separated by commas" },
	{ "[policy]\ngrid = 0-5,\n", "aggregator.conf:2: [policy] grid: must be "
	  "age bands" },
	{ "[policy]\ngrid = 0-5,6\n", "aggregator.conf:2: [policy] grid: band 2: "
	  "write LO-HI" },
	{ "[policy]\ngrid = 0-5,6-131\n", "aggregator.conf:2: [policy] grid: "
	  "band 2: ages are whole numbers from 0 to 130" },
	{ "[policy]\ngrid = 0--5\n", "aggregator.conf:2: [policy] grid: band 1: "
	  "ages are whole numbers" },
	{ "[policy]\ngrid = 5-0\n", "aggregator.conf:2: [policy] grid: band 1: "
	  "5-0 is empty" },
	{ "[policy]\ngrid = 0-5,5-12\n", "aggregator.conf:2: [policy] grid: "
	  "band 2: must start above the previous band's 5" },
	{ "[policy]\ngrid = 6-12,0-5\n", "aggregator.conf:2: [policy] grid: "
	  "band 2: must start above" },
	{ "[policy]\ngrid = 0-17\n\ngrid = 0-17\n", "aggregator.conf:4: [policy] "
	  "grid: the same grid is already given on an earlier line" },
	{ "[policy]\ngrid = 0-17\ngrid = none\n", "aggregator.conf:3: [policy] "
	  "grid: \"none\"" },
	{ "[policy]\ngrid = none\ngrid = 0-17\n", "aggregator.conf:3: [policy] "
	  "grid: \"none\"" },
	{ "[policy]\ngrid = 0-1,2-3,4-5,6-7,8-9,10-11,12-13,14-15,16-17,18-19,"
	  "20-21,22-23,24-25,26-27,28-29,30-31,32-33,34-35,36-37,38-39,40-41\n",
	  "aggregator.conf:2: [policy] grid: at most 20 age bands" },
	{ "[policy]\nmin_cell_floor = 5 # five\n", "aggregator.conf:2: [policy] "
	  "min_cell_floor: must be a whole number from 1 to 1000 (comments go on "
	  "their own line)" },
	{ "[node]\n", "aggregator.conf:1: [node]: unknown section (known: "
	  "server, policy)" },
	{ "[server]\nport = 1\nport = 2\n", "aggregator.conf:3: [server] port: "
	  "set twice (first on line 2)" },
};

static void
errors_name_file_line_and_key(void **state)
{
	struct cc_agg_config *cfg = cfg_new();
	struct cc_diag d;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		memset(cfg, 0x55, sizeof(*cfg));
		r = parse(bad_cases[i].text, cfg, &d);
		if (r != CC_ERR_CONFIG ||
		    strncmp(d.text, bad_cases[i].want, strlen(bad_cases[i].want)) != 0)
			fail_msg("case %zu: %d\n got  %s\n want %s", i, r, d.text,
			    bad_cases[i].want);
		/* Cleared on error. */
		assert_int_equal(cfg->port, 0);
		assert_int_equal(cfg->ngrids, 0);
		assert_null(cfg->policy.grids);
	}
	free(cfg);
}

static void
grid_limits(void **state)
{
	struct cc_agg_config *cfg = cfg_new();
	struct cc_diag d;
	char text[4096];
	size_t n, i;

	(void)state;
	/* 20 bands, and CC_AGG_MAX_GRIDS lines, are fine; one more is not. */
	n = (size_t)snprintf(text, sizeof(text), "[policy]\ngrid = ");
	for (i = 0; i < CC_LIMIT_AGE_BANDS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%zu-%zu",
		    i ? "," : "", 2 * i, 2 * i + 1);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\n");
	for (i = 1; i < CC_AGG_MAX_GRIDS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "grid = 0-%zu\n", i);
	if (parse(text, cfg, &d) != 0)
		fail_msg("%s", d.text);
	assert_int_equal(cfg->ngrids, CC_AGG_MAX_GRIDS);
	assert_int_equal(cfg->grids[0].nbands, CC_LIMIT_AGE_BANDS);
	snprintf(text + n, sizeof(text) - n, "grid = 0-99\n");
	assert_int_equal(parse(text, cfg, &d), CC_ERR_CONFIG);
	assert_non_null(strstr(d.text, "grid: at most 16 grid lines"));
	free(cfg);
}

static void
missing_file(void **state)
{
	struct cc_agg_config *cfg = cfg_new();
	struct cc_diag d = { "" };

	(void)state;
	assert_int_equal(cc_agg_config_load(cfg, "/nonexistent-cc-dir", &d),
	    CC_ERR_NOT_FOUND);
	assert_non_null(strstr(d.text, "/nonexistent-cc-dir/aggregator.conf"));
	assert_int_equal(cc_agg_config_load(NULL, "/x", &d), CC_ERR_INVALID_ARGUMENT);
	free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(written_file_loads_to_defaults),
		cmocka_unit_test(every_key),
		cmocka_unit_test(errors_name_file_line_and_key),
		cmocka_unit_test(grid_limits),
		cmocka_unit_test(missing_file),
	};

	return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
