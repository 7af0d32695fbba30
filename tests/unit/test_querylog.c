/* Unit tests: the node's local query log (node/querylog.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>
#include <sodium.h>

#include "node/querylog.h"

#define QA "0123456789abcdef0123456789abcdef"
#define QB "fedcba9876543210fedcba9876543210"
#define QC "00000000000000000000000000000001"

static const char query_doc[] =
	"{\"title\": \"Barn kända av skola och BUP 2025\","
	" \"period\": {\"from\": \"2025-01\", \"to\": \"2025-12\"},"
	" \"sets\": [{\"label\": \"skola\", \"nodes\": [\"skola\"]},"
	"           {\"label\": \"bup\", \"nodes\": [\"bup\"],"
	"            \"categories\": [\"remiss\"]}],"
	" \"min_cell\": 5}";

struct fixture {
	char dir[64];
	char path[128];
	struct cc_query *q;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_true(sodium_init() >= 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/cc-test-querylog-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, CC_QUERYLOG_FILE);
	assert_int_equal(cc_query_parse(&f->q, query_doc, strlen(query_doc),
	    NULL), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	cc_query_free(f->q);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct cc_querylog *
read_log(const struct fixture *f, size_t *skipped)
{
	struct cc_querylog *log = NULL;

	assert_int_equal(cc_querylog_read(&log, f->dir, skipped, NULL), 0);
	assert_non_null(log);
	return log;
}

static void
append_raw(const struct fixture *f, const char *text)
{
	FILE *fp = fopen(f->path, "a");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	fclose(fp);
}

static void
test_empty(void **state)
{
	struct fixture *f = *state;
	struct cc_querylog *log;
	size_t skipped = 9;

	log = read_log(f, &skipped);
	assert_int_equal(skipped, 0);
	assert_int_equal(cc_querylog_count(log), 0);
	assert_null(cc_querylog_get(log, 0));
	assert_null(cc_querylog_find(log, QA));
	assert_int_equal(cc_querylog_approved_since(log, 0), 0);
	cc_querylog_free(log);
	cc_querylog_free(NULL);
	assert_int_equal(cc_querylog_count(NULL), 0);
}

/* The life of one query: offered, held, approved, steps, ended. */
static void
test_lifecycle(void **state)
{
	struct fixture *f = *state;
	const struct cc_querylog_entry *e;
	struct cc_querylog *log;
	uint8_t d1[32], d2[32];
	char hex[65], *canon = NULL;
	struct stat sb;
	size_t skipped;

	memset(d1, 0xab, sizeof(d1));
	memset(d2, 0x01, sizeof(d2));
	assert_int_equal(cc_querylog_offered(f->dir, QA, f->q, "anna", 2000,
	    1000, NULL), 0);
	/* The file is private. */
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* A re-offered task changes nothing. */
	assert_int_equal(cc_querylog_offered(f->dir, QA, f->q, "other", 9999,
	    1001, NULL), 0);
	assert_int_equal(cc_querylog_decided(f->dir, QA, CC_QUERYLOG_HELD,
	    "auto", "approval = manual", 1002, NULL), 0);

	log = read_log(f, &skipped);
	assert_int_equal(skipped, 0);
	assert_int_equal(cc_querylog_count(log), 1);
	e = cc_querylog_find(log, QA);
	assert_non_null(e);
	assert_ptr_equal(e, cc_querylog_get(log, 0));
	assert_true(e->offered);
	assert_int_equal(e->offered_at, 1000);
	assert_int_equal(e->deadline, 2000);
	assert_string_equal(e->owner, "anna");
	assert_string_equal(e->title, "Barn kända av skola och BUP 2025");
	/* The stored query is the canonical document. */
	assert_int_equal(cc_query_to_json(&canon, NULL, f->q), 0);
	assert_string_equal(e->query, canon);
	free(canon);
	assert_int_equal(e->decision, CC_QUERYLOG_HELD);
	assert_string_equal(e->decided_by, "auto");
	assert_string_equal(e->decision_reason, "approval = manual");
	assert_int_equal(cc_querylog_approved_since(log, 0), 0);
	cc_querylog_free(log);

	/* A person approves; a later reject does not undo it. */
	assert_int_equal(cc_querylog_decided(f->dir, QA, CC_QUERYLOG_APPROVED,
	    "maria", "", 1100, NULL), 0);
	assert_int_equal(cc_querylog_decided(f->dir, QA, CC_QUERYLOG_REJECTED,
	    "auto", "late", 1101, NULL), 0);
	assert_int_equal(cc_querylog_decided(f->dir, QA, CC_QUERYLOG_HELD,
	    "auto", "again", 1102, NULL), 0);
	/* Steps: the same (chain, hop) twice is one step. */
	assert_int_equal(cc_querylog_step(f->dir, QA, 1, 0, 64, d1, 1200, NULL), 0);
	assert_int_equal(cc_querylog_step(f->dir, QA, 0, 1, 72, d2, 1300, NULL), 0);
	assert_int_equal(cc_querylog_step(f->dir, QA, 1, 0, 64, d2, 1301, NULL), 0);
	assert_int_equal(cc_querylog_ended(f->dir, QA, "released",
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
	    NULL, 1400, NULL), 0);
	assert_int_equal(cc_querylog_ended(f->dir, QA, "failed", NULL, "late",
	    1500, NULL), 0);

	log = read_log(f, &skipped);
	assert_int_equal(skipped, 0);
	e = cc_querylog_find(log, QA);
	assert_int_equal(e->decision, CC_QUERYLOG_APPROVED);
	assert_string_equal(e->decided_by, "maria");
	assert_int_equal(e->decided_at, 1100);
	assert_int_equal(e->nsteps, 2);
	assert_int_equal(e->steps[0].chain, 1);
	assert_int_equal(e->steps[0].hop, 0);
	assert_int_equal(e->steps[0].count, 64);
	sodium_bin2hex(hex, sizeof(hex), d2, 32);
	assert_string_equal(e->steps[0].digest, hex);
	assert_int_equal(e->steps[1].count, 72);
	assert_true(e->ended);
	assert_string_equal(e->status, "released");
	assert_string_equal(e->result_digest,
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	assert_string_equal(e->end_reason, "");
	assert_int_equal(e->ended_at, 1400);
	assert_int_equal(cc_querylog_approved_since(log, 1100), 1);
	assert_int_equal(cc_querylog_approved_since(log, 1101), 0);
	cc_querylog_free(log);
}

/* Several queries, one a bare entry (forgotten without an offer). */
static void
test_several_and_bare(void **state)
{
	struct fixture *f = *state;
	const struct cc_querylog_entry *e;
	struct cc_querylog *log;

	assert_int_equal(cc_querylog_offered(f->dir, QA, f->q, "anna", 10, 1,
	    NULL), 0);
	assert_int_equal(cc_querylog_offered(f->dir, QB, f->q, "bo", 10, 2,
	    NULL), 0);
	assert_int_equal(cc_querylog_decided(f->dir, QB, CC_QUERYLOG_REJECTED,
	    "auto", "the policy does not run queries with node bup", 3, NULL), 0);
	assert_int_equal(cc_querylog_decided(f->dir, QA, CC_QUERYLOG_APPROVED,
	    "auto", "", 4, NULL), 0);
	assert_int_equal(cc_querylog_ended(f->dir, QC, "rejected", NULL,
	    "node soc rejected it", 5, NULL), 0);
	assert_int_equal(cc_querylog_failed(f->dir, QA, "input batch: bad "
	    "signature", 6, NULL), 0);

	log = read_log(f, NULL);
	assert_int_equal(cc_querylog_count(log), 3);
	assert_string_equal(cc_querylog_get(log, 0)->id, QA);
	assert_string_equal(cc_querylog_get(log, 1)->id, QB);
	assert_string_equal(cc_querylog_get(log, 2)->id, QC);
	e = cc_querylog_find(log, QB);
	assert_int_equal(e->decision, CC_QUERYLOG_REJECTED);
	assert_non_null(strstr(e->decision_reason, "node bup"));
	e = cc_querylog_find(log, QC);
	assert_false(e->offered);
	assert_null(e->query);
	assert_int_equal(e->decision, CC_QUERYLOG_UNDECIDED);
	assert_true(e->ended);
	assert_string_equal(e->status, "rejected");
	assert_string_equal(e->end_reason, "node soc rejected it");
	e = cc_querylog_find(log, QA);
	assert_true(e->failed);
	assert_string_equal(e->fail_reason, "input batch: bad signature");
	assert_int_equal(cc_querylog_approved_since(log, 0), 1);
	cc_querylog_free(log);
}

/* Lines that are not events are skipped, and a torn last line does not
 * swallow the next event. */
static void
test_damaged_lines(void **state)
{
	struct fixture *f = *state;
	struct cc_querylog *log;
	size_t skipped = 0;
	char *big;

	assert_int_equal(cc_querylog_offered(f->dir, QA, f->q, "anna", 10, 1,
	    NULL), 0);
	append_raw(f, "not json\n");
	append_raw(f, "\n");
	append_raw(f, "{\"event\":\"decided\",\"query_id\":\"" QA "\"}\n");
	append_raw(f, "{\"event\":\"nonsense\",\"query_id\":\"" QA "\",\"time\":1}\n");
	append_raw(f, "{\"event\":\"step\",\"query_id\":\"" QA "\",\"time\":1,"
	    "\"chain\":99,\"hop\":0,\"count\":64,\"digest\":\"00\"}\n");
	append_raw(f, "{\"event\":\"ended\",\"query_id\":\"../etc\",\"time\":1,"
	    "\"status\":\"released\"}\n");
	append_raw(f, "{\"event\":\"ended\",\"query_id\":\"" QA "\",\"time\":1,"
	    "\"time\":2,\"status\":\"released\"}\n");
	/* An over-long line. */
	big = malloc(CC_QUERYLOG_LINE_MAX + 10);
	assert_non_null(big);
	memset(big, 'x', CC_QUERYLOG_LINE_MAX + 8);
	big[CC_QUERYLOG_LINE_MAX + 8] = '\n';
	big[CC_QUERYLOG_LINE_MAX + 9] = '\0';
	append_raw(f, big);
	free(big);
	/* A torn write: no newline at the end. */
	append_raw(f, "{\"event\":\"decided\",\"query_id\":\"" QA "\",\"ti");
	log = read_log(f, &skipped);
	assert_int_equal(skipped, 8);
	assert_int_equal(cc_querylog_count(log), 1);
	assert_int_equal(cc_querylog_find(log, QA)->decision,
	    CC_QUERYLOG_UNDECIDED);
	cc_querylog_free(log);

	/* The next event starts on a line of its own. */
	assert_int_equal(cc_querylog_decided(f->dir, QA, CC_QUERYLOG_APPROVED,
	    "auto", "", 5, NULL), 0);
	log = read_log(f, &skipped);
	assert_int_equal(skipped, 8);
	assert_int_equal(cc_querylog_find(log, QA)->decision,
	    CC_QUERYLOG_APPROVED);
	cc_querylog_free(log);
}

static void
test_bad_arguments(void **state)
{
	struct fixture *f = *state;
	uint8_t d[32] = { 0 };

	assert_int_equal(cc_querylog_offered(f->dir, "short", f->q, "a", 1, 1,
	    NULL), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_querylog_offered(f->dir, QA, NULL, "a", 1, 1, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_querylog_decided(f->dir, QA, CC_QUERYLOG_UNDECIDED,
	    "auto", "", 1, NULL), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_querylog_decided(f->dir, QA, CC_QUERYLOG_HELD,
	    "", "", 1, NULL), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_querylog_step(f->dir, QA, 0, 0, 64, NULL, 1, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_querylog_step(NULL, QA, 0, 0, 64, d, 1, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_querylog_ended(f->dir, QA, "", NULL, NULL, 1, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_querylog_read(NULL, f->dir, NULL, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	/* Nothing was written. */
	assert_int_equal(access(f->path, F_OK), -1);
}

/* `queries`: text and JSON show the decision, steps and end. */
static void
test_print(void **state)
{
	struct fixture *f = *state;
	struct cc_querylog *log;
	uint8_t dg[32];
	char *text = NULL;
	size_t len = 0;
	json_t *all, *e;
	FILE *out;

	memset(dg, 0x5a, sizeof(dg));
	assert_int_equal(cc_querylog_offered(f->dir, QA, f->q, "anna", 2000,
	    1000, NULL), 0);
	assert_int_equal(cc_querylog_decided(f->dir, QA, CC_QUERYLOG_APPROVED,
	    "auto", "", 1001, NULL), 0);
	assert_int_equal(cc_querylog_step(f->dir, QA, 1, 1, 72, dg, 1002,
	    NULL), 0);
	assert_int_equal(cc_querylog_ended(f->dir, QA, "released",
	    "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
	    NULL, 1003, NULL), 0);
	assert_int_equal(cc_querylog_ended(f->dir, QB, "failed", NULL,
	    "deadline passed", 1004, NULL), 0);
	log = read_log(f, NULL);

	out = open_memstream(&text, &len);
	assert_non_null(out);
	assert_int_equal(cc_querylog_print(out, log, false), 0);
	fclose(out);
	assert_non_null(strstr(text, QA "  \"Barn kända av skola och BUP 2025\" "
	    "from anna"));
	assert_non_null(strstr(text, "decision  approved by auto"));
	assert_non_null(strstr(text, "steps     1 of 2 done: chain 1 hop 1 "
	    "(72 records)"));
	assert_non_null(strstr(text, "end       released at"));
	assert_non_null(strstr(text, "never offered"));
	/* Newest first. */
	assert_true(strstr(text, QB) < strstr(text, QA));
	free(text);

	out = open_memstream(&text, &len);
	assert_int_equal(cc_querylog_print(out, log, true), 0);
	fclose(out);
	all = json_loads(text, 0, NULL);
	assert_non_null(all);
	assert_int_equal(json_array_size(all), 2);
	e = json_array_get(all, 1);
	assert_string_equal(json_string_value(json_object_get(e, "id")), QA);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    e, "decision"), "decision")), "approved");
	assert_int_equal(json_integer_value(json_object_get(e, "steps_total")),
	    2);
	assert_int_equal(json_array_size(json_object_get(e, "steps")), 1);
	assert_true(json_is_object(json_object_get(e, "query")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    e, "end"), "status")), "released");
	e = json_array_get(all, 0);
	assert_true(json_is_null(json_object_get(e, "title")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    e, "end"), "reason")), "deadline passed");
	json_decref(all);
	free(text);
	cc_querylog_free(log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_several_and_bare, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
