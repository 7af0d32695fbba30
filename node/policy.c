/* crosscount-node: the effective approval policy (policy.h). */
#include "node/policy.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

const char *
cc_policy_verdict_name(enum cc_policy_verdict v)
{
	switch (v) {
	case CC_POLICY_REFUSE: return "refuse";
	case CC_POLICY_HOLD: return "hold for manual approval";
	case CC_POLICY_ACCEPT: return "accept";
	}
	return "?";
}

int
cc_policy_evaluate(const struct cc_node_policy *p,
    const struct cc_policy_request *req, enum cc_policy_verdict *ret_verdict,
    struct cc_diag *diag)
{
	size_t i;

	if (ret_verdict == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	*ret_verdict = CC_POLICY_REFUSE;
	if (p == NULL || req == NULL ||
	    (req->npeers > 0 && req->peers == NULL) ||
	    (req->ncategories > 0 && req->categories == NULL))
		return CC_ERR_INVALID_ARGUMENT;
	for (i = 0; i < req->npeers; i++) {
		if (req->peers[i] == NULL)
			return CC_ERR_INVALID_ARGUMENT;
		if (!cc_node_policy_allows_peer(p, req->peers[i])) {
			cc_diag_set(diag, "the policy does not run queries with "
			    "node %s", req->peers[i]);
			return 0;
		}
	}
	for (i = 0; i < req->ncategories; i++) {
		if (req->categories[i] == NULL)
			return CC_ERR_INVALID_ARGUMENT;
		if (!cc_node_policy_allows_category(p, req->categories[i])) {
			cc_diag_set(diag, "the policy does not allow category "
			    "%s", req->categories[i]);
			return 0;
		}
	}
	if (req->min_cell < p->min_cell) {
		cc_diag_set(diag, "min_cell %d is below the lowest this node "
		    "accepts (%d)", req->min_cell, p->min_cell);
		return 0;
	}
	if (req->largest_batch > p->max_peer_batch) {
		cc_diag_set(diag, "a batch of %" PRIu64 " records is more than "
		    "this node relays (%" PRIu32 ")", req->largest_batch,
		    p->max_peer_batch);
		return 0;
	}
	if (p->max_queries_per_day >= 0 &&
	    req->queries_today >= (unsigned)p->max_queries_per_day) {
		cc_diag_set(diag, "this node already ran %u queries today, its "
		    "most per day", req->queries_today);
		return 0;
	}
	*ret_verdict = p->auto_approve ? CC_POLICY_ACCEPT : CC_POLICY_HOLD;
	return 0;
}

static int
print_json(FILE *out, const struct cc_node_config *cfg, const char *source)
{
	const struct cc_node_policy *p = &cfg->policy;
	json_t *o = NULL, *peers = NULL, *cats = NULL;
	size_t i;
	int r = CC_ERR_ALLOC;

	if ((o = json_object()) == NULL)
		goto out;
	if (p->any_peer)
		peers = json_string("*");
	else if ((peers = json_array()) != NULL)
		for (i = 0; i < p->npeers; i++)
			json_array_append_new(peers, json_string(p->peers[i]));
	if (p->any_category)
		cats = json_string("*");
	else if ((cats = json_array()) != NULL)
		for (i = 0; i < p->ncategories; i++)
			json_array_append_new(cats, json_string(p->categories[i]));
	if (peers == NULL || cats == NULL)
		goto out;
	if (json_object_set_new(o, "node", json_string(cfg->id)) != 0 ||
	    json_object_set_new(o, "source", json_string(source ? source : "")) != 0 ||
	    json_object_set_new(o, "approval",
	    json_string(p->auto_approve ? "auto" : "manual")) != 0 ||
	    json_object_set(o, "peers", peers) != 0 ||
	    json_object_set(o, "categories", cats) != 0 ||
	    json_object_set_new(o, "min_cell", json_integer(p->min_cell)) != 0 ||
	    json_object_set_new(o, "max_queries_per_day",
	    json_integer(p->max_queries_per_day)) != 0 ||
	    json_object_set_new(o, "max_peer_batch",
	    json_integer((json_int_t)p->max_peer_batch)) != 0)
		goto out;
	r = json_dumpf(o, out, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 &&
	    fputc('\n', out) != EOF ? 0 : CC_ERR_IO;
out:
	json_decref(peers);
	json_decref(cats);
	json_decref(o);
	return r;
}

int
cc_policy_print(FILE *out, const struct cc_node_config *cfg,
    const char *source, bool json)
{
	const struct cc_node_policy *p;
	size_t i;

	if (out == NULL || cfg == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if (json)
		return print_json(out, cfg, source);
	p = &cfg->policy;
	fprintf(out, "policy of node %s (from %s)\n", cfg->id,
	    source ? source : "node.conf");
	if (p->auto_approve)
		fprintf(out, "  approval             auto: a query the rules below "
		    "allow runs without asking\n");
	else
		fprintf(out, "  approval             manual: every query the rules "
		    "below allow waits for `crosscount-node approve ID`\n");
	fprintf(out, "  peers                ");
	if (p->any_peer) {
		fprintf(out, "any node of the federation\n");
	} else {
		for (i = 0; i < p->npeers; i++)
			fprintf(out, "%s%s", i ? ", " : "", p->peers[i]);
		fprintf(out, "%s\n", p->npeers ? "" : "none");
	}
	fprintf(out, "  categories           ");
	if (p->any_category) {
		fprintf(out, "any category in this node's catalogue\n");
	} else {
		for (i = 0; i < p->ncategories; i++)
			fprintf(out, "%s%s", i ? ", " : "", p->categories[i]);
		fprintf(out, "%s\n", p->ncategories ? "" : "none");
	}
	fprintf(out, "  min_cell             %d (queries asking for less are "
	    "refused)\n", p->min_cell);
	fprintf(out, "  max_queries_per_day  %d\n", p->max_queries_per_day);
	fprintf(out, "  max_peer_batch       %" PRIu32 " records (larger batches "
	    "from peers are not relayed)\n", p->max_peer_batch);
	return ferror(out) ? CC_ERR_IO : 0;
}
