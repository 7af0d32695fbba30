/*
 * Unit tests: the worker's approval decision (every rule and its reason),
 * the check of a typed rejection reason, and the local checks of
 * `approve` / `reject` (node/worker.c). The network side runs against
 * the real aggregator in the integration tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>
#include <sodium.h>

#include "node/config.h"
#include "node/querylog.h"
#include "node/worker.h"
#include "protocol/query.h"

#define QA "0123456789abcdef0123456789abcdef"

/* Three nodes; this node is "skola" in set "skola" with one category. */
static const char doc3[] =
	"{\"title\":\"t\",\"period\":{\"from\":\"2025-01\",\"to\":\"2025-12\"},"
	"\"sets\":[{\"label\":\"skola\",\"nodes\":[\"skola\"],"
	"\"categories\":[\"inskriven\"]},"
	"{\"label\":\"soc\",\"nodes\":[\"soc\"]},"
	"{\"label\":\"bup\",\"nodes\":[\"bup\"]}],\"min_cell\":5}";

struct fixture {
	struct cc_node_config cfg;
	struct cc_query *q;
	const char *nodes[3];
	char dir[64];
};

static struct cc_query *
query(const char *json)
{
	struct cc_query *q = NULL;
	struct cc_diag d = { "" };

	if (cc_query_parse(&q, json, strlen(json), &d) != 0)
		fail_msg("query: %s", d.text);
	return q;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_true(sodium_init() >= 0);
	cc_node_config_defaults(&f->cfg);
	snprintf(f->cfg.id, sizeof(f->cfg.id), "skola");
	f->cfg.sector = CC_SECTOR_SCHOOL;
	f->cfg.policy.auto_approve = true;
	f->q = query(doc3);
	/* The sorted node list the aggregator sends. */
	f->nodes[0] = "bup";
	f->nodes[1] = "skola";
	f->nodes[2] = "soc";
	snprintf(f->dir, sizeof(f->dir), "/tmp/cc-test-worker-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
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

/* The verdict and reason for the fixture's query and config. */
static enum cc_policy_verdict
decide(struct fixture *f, const struct cc_query *q, unsigned today,
    struct cc_diag *d)
{
	enum cc_policy_verdict v = CC_POLICY_ACCEPT;

	d->text[0] = '\0';
	assert_int_equal(cc_worker_decide(&f->cfg, q, f->nodes, 3, today, &v,
	    d), 0);
	return v;
}

static void
test_accept_and_hold(void **state)
{
	struct fixture *f = *state;
	struct cc_diag d;

	assert_int_equal(decide(f, f->q, 0, &d), CC_POLICY_ACCEPT);
	f->cfg.policy.auto_approve = false;
	assert_int_equal(decide(f, f->q, 19, &d), CC_POLICY_HOLD);
}

/* Rule 1: the query names this node in exactly one set. */
static void
test_rule_one_set(void **state)
{
	struct fixture *f = *state;
	struct cc_diag d;

	snprintf(f->cfg.id, sizeof(f->cfg.id), "other");
	assert_int_equal(decide(f, f->q, 0, &d), CC_POLICY_REFUSE);
	assert_non_null(strstr(d.text, "names this node (other) in no set"));
}

/* Rule 2: the task's node list is the query's. */
static void
test_rule_node_list(void **state)
{
	struct fixture *f = *state;
	enum cc_policy_verdict v;
	struct cc_diag d = { "" };

	assert_int_equal(cc_worker_decide(&f->cfg, f->q, f->nodes, 2, 0, &v,
	    &d), 0);
	assert_int_equal(v, CC_POLICY_REFUSE);
	assert_non_null(strstr(d.text, "the task lists 2 nodes, the query has 3"));
	f->nodes[0] = "soc";
	f->nodes[2] = "bup";
	assert_int_equal(decide(f, f->q, 0, &d), CC_POLICY_REFUSE);
	assert_non_null(strstr(d.text, "not the query's sorted node list "
	    "(position 0)"));
}

/* Rule 3: every other node is an allowed peer. */
static void
test_rule_peers(void **state)
{
	struct fixture *f = *state;
	struct cc_diag d;

	f->cfg.policy.any_peer = false;
	f->cfg.policy.npeers = 2;
	snprintf(f->cfg.policy.peers[0], sizeof(f->cfg.policy.peers[0]), "bup");
	snprintf(f->cfg.policy.peers[1], sizeof(f->cfg.policy.peers[1]), "soc2");
	assert_int_equal(decide(f, f->q, 0, &d), CC_POLICY_REFUSE);
	assert_non_null(strstr(d.text, "does not run queries with node soc"));
	/* This node itself need not be listed as its own peer. */
	snprintf(f->cfg.policy.peers[1], sizeof(f->cfg.policy.peers[1]), "soc");
	assert_int_equal(decide(f, f->q, 0, &d), CC_POLICY_ACCEPT);
}

/* Rule 4: categories of this node's set; a set without any means all. */
static void
test_rule_categories(void **state)
{
	struct fixture *f = *state;
	struct cc_query *all;
	struct cc_diag d;

	f->cfg.policy.any_category = false;
	f->cfg.policy.ncategories = 1;
	snprintf(f->cfg.policy.categories[0],
	    sizeof(f->cfg.policy.categories[0]), "frånvaro");
	assert_int_equal(decide(f, f->q, 0, &d), CC_POLICY_REFUSE);
	assert_non_null(strstr(d.text, "does not allow category inskriven"));
	snprintf(f->cfg.policy.categories[0],
	    sizeof(f->cfg.policy.categories[0]), "inskriven");
	assert_int_equal(decide(f, f->q, 0, &d), CC_POLICY_ACCEPT);

	/* The same query with skola's set naming no category. */
	all = query("{\"title\":\"t\",\"period\":{\"from\":\"2025-01\","
	    "\"to\":\"2025-12\"},\"sets\":[{\"label\":\"skola\",\"nodes\":"
	    "[\"skola\"]},{\"label\":\"soc\",\"nodes\":[\"soc\"]},"
	    "{\"label\":\"bup\",\"nodes\":[\"bup\"]}]}");
	assert_int_equal(decide(f, all, 0, &d), CC_POLICY_REFUSE);
	assert_non_null(strstr(d.text, "names no categories"));
	f->cfg.policy.any_category = true;
	assert_int_equal(decide(f, all, 0, &d), CC_POLICY_ACCEPT);
	cc_query_free(all);
}

/* Rule 5: min_cell at least the policy's. */
static void
test_rule_min_cell(void **state)
{
	struct fixture *f = *state;
	struct cc_diag d;

	f->cfg.policy.min_cell = 6;
	assert_int_equal(decide(f, f->q, 0, &d), CC_POLICY_REFUSE);
	assert_non_null(strstr(d.text, "min_cell 5 is below the lowest this "
	    "node accepts (6)"));
	f->cfg.policy.min_cell = 5;
	assert_int_equal(decide(f, f->q, 0, &d), CC_POLICY_ACCEPT);
}

/* Rule 6: fewer than max_queries_per_day approved in the last 24 h. */
static void
test_rule_per_day(void **state)
{
	struct fixture *f = *state;
	struct cc_diag d;

	f->cfg.policy.max_queries_per_day = 3;
	assert_int_equal(decide(f, f->q, 2, &d), CC_POLICY_ACCEPT);
	assert_int_equal(decide(f, f->q, 3, &d), CC_POLICY_REFUSE);
	assert_non_null(strstr(d.text, "3 queries"));
	/* Manual approval does not lift a rule. */
	f->cfg.policy.auto_approve = false;
	assert_int_equal(decide(f, f->q, 3, &d), CC_POLICY_REFUSE);
}

static void
test_decide_arguments(void **state)
{
	struct fixture *f = *state;
	enum cc_policy_verdict v = CC_POLICY_ACCEPT;

	assert_int_equal(cc_worker_decide(&f->cfg, NULL, f->nodes, 3, 0, &v,
	    NULL), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(v, CC_POLICY_REFUSE);
	assert_int_equal(cc_worker_decide(&f->cfg, f->q, NULL, 3, 0, &v, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_worker_decide(&f->cfg, f->q, f->nodes, 3, 0, NULL,
	    NULL), CC_ERR_INVALID_ARGUMENT);
}

static void
test_reason_check(void **state)
{
	struct cc_diag d = { "" };
	char long_reason[CC_WORKER_REASON_MAX + 2];

	(void)state;
	assert_int_equal(cc_worker_reason_check("too broad a question", &d), 0);
	assert_int_equal(cc_worker_reason_check("för liten grupp 2025", &d), 0);
	assert_int_equal(cc_worker_reason_check("12345 is fine", &d), 0);
	assert_int_equal(cc_worker_reason_check("", &d), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_worker_reason_check(NULL, &d),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_worker_reason_check("about 191212121212", &d),
	    CC_ERR_INVALID_ARGUMENT);
	assert_non_null(strstr(d.text, "personnummer"));
	assert_null(strstr(d.text, "1212"));
	assert_int_equal(cc_worker_reason_check("line\nbreak", &d),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_worker_reason_check("bad \xff byte", &d),
	    CC_ERR_INVALID_ARGUMENT);
	memset(long_reason, 'x', sizeof(long_reason) - 1);
	long_reason[sizeof(long_reason) - 1] = '\0';
	assert_int_equal(cc_worker_reason_check(long_reason, &d),
	    CC_ERR_INVALID_ARGUMENT);
	long_reason[CC_WORKER_REASON_MAX] = '\0';
	assert_int_equal(cc_worker_reason_check(long_reason, &d), 0);
}

/* approve / reject refuse what is not held, before any network. */
static void
test_decide_held_local(void **state)
{
	struct fixture *f = *state;
	struct cc_diag d = { "" };
	bool sent = true;
	int64_t now = (int64_t)time(NULL);
	struct cc_querylog *log = NULL;

	/* Not in the log. */
	assert_int_equal(cc_worker_decide_held(f->dir, &f->cfg, QA, true, NULL,
	    "maria", &sent, &d), CC_ERR_NOT_FOUND);
	/* Held: passes every local check and needs the aggregator, which
	 * this config does not name. */
	assert_int_equal(cc_querylog_offered(f->dir, QA, f->q, "anna",
	    now + 3600, now, NULL), 0);
	assert_int_equal(cc_querylog_decided(f->dir, QA, CC_QUERYLOG_HELD,
	    "auto", "manual", now, NULL), 0);
	assert_int_equal(cc_worker_decide_held(f->dir, &f->cfg, QA, true, NULL,
	    "maria", &sent, &d), CC_ERR_CONFIG);
	assert_int_equal(cc_worker_decide_held(f->dir, &f->cfg, QA, false,
	    "no", "maria", &sent, &d), CC_ERR_CONFIG);
	/* A bad reason. */
	assert_int_equal(cc_worker_decide_held(f->dir, &f->cfg, QA, false,
	    "", "maria", &sent, &d), CC_ERR_INVALID_ARGUMENT);
	/* The policy changed meanwhile: approval refused, naming the rule. */
	f->cfg.policy.min_cell = 10;
	assert_int_equal(cc_worker_decide_held(f->dir, &f->cfg, QA, true, NULL,
	    "maria", &sent, &d), CC_ERR_POLICY);
	assert_non_null(strstr(d.text, "min_cell 5"));
	assert_non_null(strstr(d.text, "reject it instead"));
	/* Nothing was recorded by the refused attempts. */
	assert_int_equal(cc_querylog_read(&log, f->dir, NULL, NULL), 0);
	assert_int_equal(cc_querylog_find(log, QA)->decision, CC_QUERYLOG_HELD);
	cc_querylog_free(log);
	/* Decided already. */
	assert_int_equal(cc_querylog_decided(f->dir, QA, CC_QUERYLOG_APPROVED,
	    "maria", "", now, NULL), 0);
	assert_int_equal(cc_worker_decide_held(f->dir, &f->cfg, QA, false, "no",
	    "bo", &sent, &d), CC_ERR_STATE);
	assert_non_null(strstr(d.text, "approved by maria"));
	/* Ended. */
	assert_int_equal(cc_querylog_ended(f->dir, QA, "released", NULL, NULL,
	    now, NULL), 0);
	assert_int_equal(cc_worker_decide_held(f->dir, &f->cfg, QA, true, NULL,
	    "bo", &sent, &d), CC_ERR_STATE);
	assert_non_null(strstr(d.text, "already ended (released)"));
	/* Bad arguments. */
	assert_int_equal(cc_worker_decide_held(f->dir, &f->cfg, "nope", true,
	    NULL, "bo", &sent, &d), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_worker_decide_held(f->dir, &f->cfg, QA, true, NULL,
	    "", &sent, &d), CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(cc_worker_decide_held(f->dir, &f->cfg, QA, true, NULL,
	    "bo", NULL, &d), CC_ERR_INVALID_ARGUMENT);
}

/* A held query past its deadline can no longer be decided. */
static void
test_decide_held_deadline(void **state)
{
	struct fixture *f = *state;
	struct cc_diag d = { "" };
	bool sent = true;
	int64_t now = (int64_t)time(NULL);

	assert_int_equal(cc_querylog_offered(f->dir, QA, f->q, "anna", now - 1,
	    now - 100, NULL), 0);
	assert_int_equal(cc_querylog_decided(f->dir, QA, CC_QUERYLOG_HELD,
	    "auto", "manual", now - 100, NULL), 0);
	assert_int_equal(cc_worker_decide_held(f->dir, &f->cfg, QA, true, NULL,
	    "maria", &sent, &d), CC_ERR_STATE);
	assert_non_null(strstr(d.text, "deadline"));
	assert_false(sent);
}

/*
 * The decision is recorded before it is sent (SPEC 7.2): with the
 * aggregator unreachable `approve` still succeeds, says it was not sent,
 * and the log holds the decision for the daemon to send.
 */
static void
test_decide_held_recorded_first(void **state)
{
	struct fixture *f = *state;
	struct cc_diag d = { "" };
	struct cc_querylog *log = NULL;
	const struct cc_querylog_entry *e;
	int64_t now = (int64_t)time(NULL);
	bool sent = true;

	/* Port 1 on loopback: nothing listens there. */
	snprintf(f->cfg.aggregator_url, sizeof(f->cfg.aggregator_url),
	    "https://127.0.0.1:1");
	snprintf(f->cfg.ca_file, sizeof(f->cfg.ca_file), "ca.crt");
	snprintf(f->cfg.cert_file, sizeof(f->cfg.cert_file), "node.crt");
	snprintf(f->cfg.key_file, sizeof(f->cfg.key_file), "node.key");
	assert_int_equal(cc_querylog_offered(f->dir, QA, f->q, "anna",
	    now + 3600, now, NULL), 0);
	assert_int_equal(cc_querylog_decided(f->dir, QA, CC_QUERYLOG_HELD,
	    "auto", "manual", now, NULL), 0);
	assert_int_equal(cc_worker_decide_held(f->dir, &f->cfg, QA, false,
	    "not agreed", "maria", &sent, &d), 0);
	assert_false(sent);
	assert_true(d.text[0] != '\0');
	assert_int_equal(cc_querylog_read(&log, f->dir, NULL, NULL), 0);
	assert_non_null(e = cc_querylog_find(log, QA));
	assert_int_equal(e->decision, CC_QUERYLOG_REJECTED);
	assert_string_equal(e->decided_by, "maria");
	assert_string_equal(e->decision_reason, "not agreed");
	cc_querylog_free(log);
	/* Decided: a second attempt is refused locally. */
	assert_int_equal(cc_worker_decide_held(f->dir, &f->cfg, QA, true, NULL,
	    "bo", &sent, &d), CC_ERR_STATE);
}

#define YKEY "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76"

static json_t *
task_json(const char *text)
{
	json_t *o = json_loads(text, 0, NULL);

	if (o == NULL)
		fail_msg("bad test JSON: %s", text);
	return o;
}

static int
parse(struct cc_worker_task *t, const char *text, struct cc_diag *d)
{
	json_t *o = task_json(text);
	int r = cc_worker_task_parse(t, o, d);

	json_decref(o);
	return r;
}

#define QDOC "{\"title\":\"t\",\"period\":{\"from\":\"2025-01\",\"to\":" \
	"\"2025-12\"},\"sets\":[{\"label\":\"a\",\"nodes\":[\"bup\"]}," \
	"{\"label\":\"b\",\"nodes\":[\"skola\"]}]}"

/* Tasks as docs/api.md writes them, and what each field may hold. */
static void
test_task_parse(void **state)
{
	struct cc_worker_task t;
	struct cc_diag d = { "" };

	(void)state;
	assert_int_equal(parse(&t, "{\"kind\":\"approve\",\"query_id\":\"" QA
	    "\",\"query\":" QDOC ",\"owner\":\"anna\",\"deadline\":"
	    "\"2026-11-22T12:00:00Z\",\"nodes\":[\"bup\",\"skola\"],"
	    "\"attribute_key\":\"" YKEY "\",\"later_field\":1}", &d), 0);
	assert_int_equal(t.kind, CC_WORKER_TASK_APPROVE);
	assert_string_equal(t.query_id, QA);
	assert_int_equal(t.qid[0], 0x01);
	assert_int_equal(t.qid[15], 0xef);
	assert_string_equal(t.owner, "anna");
	assert_int_equal(t.deadline, 1795348800);
	assert_int_equal(t.nnodes, 2);
	assert_string_equal(t.nodes[1], "skola");
	assert_non_null(t.q);
	assert_int_equal(t.q->nsets, 2);
	cc_worker_task_clear(&t);
	assert_null(t.q);

	assert_int_equal(parse(&t, "{\"kind\":\"step\",\"query_id\":\"" QA
	    "\",\"chain\":1,\"hop\":1,\"nodes\":[\"bup\",\"skola\"],\"query\":"
	    QDOC ",\"attribute_key\":\"" YKEY "\",\"deadline\":"
	    "\"2026-11-22T12:00:00Z\",\"input_size\":7000}", &d), 0);
	assert_int_equal(t.kind, CC_WORKER_TASK_STEP);
	assert_int_equal(t.chain, 1);
	assert_int_equal(t.hop, 1);
	assert_int_equal(t.input_size, 7000);
	cc_worker_task_clear(&t);

	assert_int_equal(parse(&t, "{\"kind\":\"forget\",\"query_id\":\"" QA
	    "\",\"status\":\"released\",\"result_digest\":\"" YKEY "\","
	    "\"reason\":null}", &d), 0);
	assert_int_equal(t.kind, CC_WORKER_TASK_FORGET);
	assert_string_equal(t.status, "released");
	assert_true(t.has_result_digest);
	assert_false(t.has_reason);
	cc_worker_task_clear(&t);
	assert_int_equal(parse(&t, "{\"kind\":\"forget\",\"query_id\":\"" QA
	    "\",\"status\":\"failed\",\"result_digest\":null,"
	    "\"reason\":\"node bup did not answer\"}", &d), 0);
	assert_false(t.has_result_digest);
	assert_string_equal(t.reason, "node bup did not answer");
	cc_worker_task_clear(&t);
}

static void
test_task_parse_refusals(void **state)
{
	static const char *const bad[] = {
		"[]",
		"{\"kind\":\"approve\"}",
		"{\"kind\":\"dance\",\"query_id\":\"" QA "\"}",
		"{\"kind\":\"forget\",\"query_id\":\"" QA "x\",\"status\":\"failed\"}",
		"{\"kind\":\"forget\",\"query_id\":\"" QA "\"}",
		"{\"kind\":\"forget\",\"query_id\":\"" QA "\",\"status\":\"Failed\"}",
		"{\"kind\":\"forget\",\"query_id\":\"" QA "\",\"status\":\"failed\","
		    "\"result_digest\":\"abc\"}",
		"{\"kind\":\"forget\",\"query_id\":\"" QA "\",\"status\":\"failed\","
		    "\"reason\":5}",
		/* approve: no owner, bad deadline, bad key, bad nodes */
		"{\"kind\":\"approve\",\"query_id\":\"" QA "\",\"query\":" QDOC
		    ",\"deadline\":\"2026-11-22T12:00:00Z\",\"nodes\":[\"bup\"],"
		    "\"attribute_key\":\"" YKEY "\"}",
		"{\"kind\":\"approve\",\"query_id\":\"" QA "\",\"query\":" QDOC
		    ",\"owner\":\"a\",\"deadline\":\"2026-11-22 12:00:00\","
		    "\"nodes\":[\"bup\"],\"attribute_key\":\"" YKEY "\"}",
		"{\"kind\":\"approve\",\"query_id\":\"" QA "\",\"query\":" QDOC
		    ",\"owner\":\"a\",\"deadline\":\"2026-11-22T24:00:00Z\","
		    "\"nodes\":[\"bup\"],\"attribute_key\":\"" YKEY "\"}",
		"{\"kind\":\"approve\",\"query_id\":\"" QA "\",\"query\":" QDOC
		    ",\"owner\":\"a\",\"deadline\":\"2026-11-22T12:00:00Z\","
		    "\"nodes\":[\"bup\"],\"attribute_key\":\"00\"}",
		"{\"kind\":\"approve\",\"query_id\":\"" QA "\",\"query\":" QDOC
		    ",\"owner\":\"a\",\"deadline\":\"2026-11-22T12:00:00Z\","
		    "\"nodes\":[\"bup\"],\"attribute_key\":"
		    "\"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\"}",
		"{\"kind\":\"approve\",\"query_id\":\"" QA "\",\"query\":" QDOC
		    ",\"owner\":\"a\",\"deadline\":\"2026-11-22T12:00:00Z\","
		    "\"nodes\":[\"Bup\"],\"attribute_key\":\"" YKEY "\"}",
		"{\"kind\":\"approve\",\"query_id\":\"" QA "\",\"query\":" QDOC
		    ",\"owner\":\"a\",\"deadline\":\"2026-11-22T12:00:00Z\","
		    "\"nodes\":[],\"attribute_key\":\"" YKEY "\"}",
		"{\"kind\":\"approve\",\"query_id\":\"" QA "\",\"query\":{},"
		    "\"owner\":\"a\",\"deadline\":\"2026-11-22T12:00:00Z\","
		    "\"nodes\":[\"bup\"],\"attribute_key\":\"" YKEY "\"}",
		/* step: chain or hop out of range, input_size wrong for hop */
		"{\"kind\":\"step\",\"query_id\":\"" QA "\",\"chain\":2,\"hop\":0,"
		    "\"nodes\":[\"bup\",\"skola\"],\"query\":" QDOC ",\"attribute_key\":"
		    "\"" YKEY "\",\"deadline\":\"2026-11-22T12:00:00Z\",\"input_size\":0}",
		"{\"kind\":\"step\",\"query_id\":\"" QA "\",\"chain\":0,\"hop\":-1,"
		    "\"nodes\":[\"bup\",\"skola\"],\"query\":" QDOC ",\"attribute_key\":"
		    "\"" YKEY "\",\"deadline\":\"2026-11-22T12:00:00Z\",\"input_size\":0}",
		"{\"kind\":\"step\",\"query_id\":\"" QA "\",\"chain\":0,\"hop\":0,"
		    "\"nodes\":[\"bup\",\"skola\"],\"query\":" QDOC ",\"attribute_key\":"
		    "\"" YKEY "\",\"deadline\":\"2026-11-22T12:00:00Z\",\"input_size\":9}",
		"{\"kind\":\"step\",\"query_id\":\"" QA "\",\"chain\":0,\"hop\":1,"
		    "\"nodes\":[\"bup\",\"skola\"],\"query\":" QDOC ",\"attribute_key\":"
		    "\"" YKEY "\",\"deadline\":\"2026-11-22T12:00:00Z\",\"input_size\":0}",
		"{\"kind\":\"step\",\"query_id\":\"" QA "\",\"chain\":0,\"hop\":1,"
		    "\"nodes\":[\"bup\",\"skola\"],\"query\":" QDOC ",\"attribute_key\":"
		    "\"" YKEY "\",\"deadline\":\"2026-11-22T12:00:00Z\","
		    "\"input_size\":1e3}",
	};
	struct cc_worker_task t;
	struct cc_diag d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d.text[0] = '\0';
		if (parse(&t, bad[i], &d) == 0)
			fail_msg("task %zu was accepted", i);
		assert_true(d.text[0] != '\0');
		assert_null(t.q);
		assert_int_equal(t.kind, 0);
	}
	assert_int_equal(cc_worker_task_parse(NULL, NULL, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	cc_worker_task_clear(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_accept_and_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rule_one_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rule_node_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rule_peers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rule_categories, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rule_min_cell, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rule_per_day, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decide_arguments, setup, teardown),
		cmocka_unit_test(test_reason_check),
		cmocka_unit_test(test_task_parse),
		cmocka_unit_test(test_task_parse_refusals),
		cmocka_unit_test_setup_teardown(test_decide_held_local, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decide_held_deadline, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_decide_held_recorded_first,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
