/* Unit tests: evaluating and printing the node's policy (node/policy.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "node/config.h"
#include "node/policy.h"

static void
defaults_hold_for_manual_approval(void **state)
{
	struct cc_node_config cfg;
	struct cc_policy_request req = { 0 };
	const char *peers[] = { "social-a", "bup-b" };
	const char *cats[] = { "absence" };
	enum cc_policy_verdict v = CC_POLICY_ACCEPT;
	struct cc_diag d = { "" };

	(void)state;
	cc_node_config_defaults(&cfg);
	req.peers = peers;
	req.npeers = 2;
	req.categories = cats;
	req.ncategories = 1;
	req.min_cell = 5;
	req.largest_batch = 1000;
	assert_int_equal(cc_policy_evaluate(&cfg.policy, &req, &v, &d), 0);
	assert_int_equal(v, CC_POLICY_HOLD);
	cfg.policy.auto_approve = true;
	assert_int_equal(cc_policy_evaluate(&cfg.policy, &req, &v, &d), 0);
	assert_int_equal(v, CC_POLICY_ACCEPT);
}

static void
each_rule_refuses(void **state)
{
	struct cc_node_config cfg;
	struct cc_policy_request req = { 0 };
	const char *peers[] = { "social-a", "bup-b" };
	const char *cats[] = { "absence", "placement" };
	enum cc_policy_verdict v;
	struct cc_diag d = { "" };

	(void)state;
	cc_node_config_defaults(&cfg);
	cfg.policy.auto_approve = true;
	cfg.policy.any_peer = false;
	cfg.policy.npeers = 1;
	snprintf(cfg.policy.peers[0], sizeof(cfg.policy.peers[0]), "social-a");
	cfg.policy.any_category = false;
	cfg.policy.ncategories = 1;
	snprintf(cfg.policy.categories[0], sizeof(cfg.policy.categories[0]),
	    "absence");
	cfg.policy.min_cell = 10;
	cfg.policy.max_queries_per_day = 3;
	cfg.policy.max_peer_batch = 5000;
	req.peers = peers;
	req.categories = cats;
	req.min_cell = 10;
	req.largest_batch = 5000;
	req.queries_today = 2;

	req.npeers = 2;
	assert_int_equal(cc_policy_evaluate(&cfg.policy, &req, &v, &d), 0);
	assert_int_equal(v, CC_POLICY_REFUSE);
	assert_non_null(strstr(d.text, "bup-b"));
	req.npeers = 1;
	req.ncategories = 2;
	assert_int_equal(cc_policy_evaluate(&cfg.policy, &req, &v, &d), 0);
	assert_int_equal(v, CC_POLICY_REFUSE);
	assert_non_null(strstr(d.text, "placement"));
	req.ncategories = 1;
	req.min_cell = 9;
	assert_int_equal(cc_policy_evaluate(&cfg.policy, &req, &v, &d), 0);
	assert_int_equal(v, CC_POLICY_REFUSE);
	assert_non_null(strstr(d.text, "min_cell"));
	req.min_cell = 10;
	req.largest_batch = 5001;
	assert_int_equal(cc_policy_evaluate(&cfg.policy, &req, &v, &d), 0);
	assert_int_equal(v, CC_POLICY_REFUSE);
	req.largest_batch = 5000;
	req.queries_today = 3;
	assert_int_equal(cc_policy_evaluate(&cfg.policy, &req, &v, &d), 0);
	assert_int_equal(v, CC_POLICY_REFUSE);
	assert_non_null(strstr(d.text, "queries today"));
	/* Exactly at every boundary: allowed. */
	req.queries_today = 2;
	assert_int_equal(cc_policy_evaluate(&cfg.policy, &req, &v, &d), 0);
	assert_int_equal(v, CC_POLICY_ACCEPT);
	/* Bad calls. */
	assert_int_equal(cc_policy_evaluate(NULL, &req, &v, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	assert_int_equal(v, CC_POLICY_REFUSE);
	assert_int_equal(cc_policy_evaluate(&cfg.policy, &req, NULL, NULL),
	    CC_ERR_INVALID_ARGUMENT);
	req.peers = NULL;
	assert_int_equal(cc_policy_evaluate(&cfg.policy, &req, &v, NULL),
	    CC_ERR_INVALID_ARGUMENT);
}

static void
prints_every_setting(void **state)
{
	struct cc_node_config cfg;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	cc_node_config_defaults(&cfg);
	snprintf(cfg.id, sizeof(cfg.id), "school-a");
	cfg.policy.min_cell = 7;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(cc_policy_print(f, &cfg, "x/node.conf", false), 0);
	fclose(f);
	assert_non_null(strstr(buf, "school-a"));
	assert_non_null(strstr(buf, "x/node.conf"));
	assert_non_null(strstr(buf, "manual"));
	assert_non_null(strstr(buf, "min_cell             7"));
	assert_non_null(strstr(buf, "max_queries_per_day  20"));
	assert_non_null(strstr(buf, "2000000"));
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(cc_policy_print(f, &cfg, "x/node.conf", true), 0);
	fclose(f);
	assert_non_null(strstr(buf, "\"min_cell\": 7"));
	assert_non_null(strstr(buf, "\"peers\": \"*\""));
	free(buf);
	assert_int_equal(cc_policy_print(NULL, &cfg, NULL, false),
	    CC_ERR_INVALID_ARGUMENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_hold_for_manual_approval),
		cmocka_unit_test(each_rule_refuses),
		cmocka_unit_test(prints_every_setting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
