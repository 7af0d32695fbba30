/*
 * crosscount-node: the node's approval policy, as configured in node.conf
 * [policy] (config.h), shown to the admin and applied to queries.
 *
 * cc_policy_evaluate() is the one place a query is checked against the
 * policy: the query runner (`run`, `approve`) calls it with what the query
 * asks of this node and gets accept / hold for manual approval / refuse.
 */
#ifndef CC_NODE_POLICY_H
#define CC_NODE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "node/config.h"
#include "protocol/error.h"

/* What a query asks of this node. */
struct cc_policy_request {
	const char *const *peers;        /* the other nodes of the query */
	size_t npeers;
	const char *const *categories;   /* this node's categories it uses */
	size_t ncategories;
	int min_cell;                    /* the query's min_cell */
	uint64_t largest_batch;          /* largest batch this node would relay */
	unsigned queries_today;          /* queries this node already ran today */
};

enum cc_policy_verdict {
	CC_POLICY_REFUSE = 0,
	CC_POLICY_HOLD = 1,              /* allowed, waits for `approve` */
	CC_POLICY_ACCEPT = 2,            /* allowed, approved automatically */
};

const char *cc_policy_verdict_name(enum cc_policy_verdict v);

/*
 * Check a request against the policy. Always returns 0 for a well-formed
 * call and sets *ret_verdict; when it is CC_POLICY_REFUSE, diag names the
 * first rule the query breaks.
 */
int cc_policy_evaluate(const struct cc_node_policy *p,
    const struct cc_policy_request *req, enum cc_policy_verdict *ret_verdict,
    struct cc_diag *diag);

/*
 * Print the effective policy of cfg for a person (`crosscount-node
 * policy`), or as one JSON object when json is true. source names the
 * file it came from. Returns CC_ERR_IO if writing fails.
 */
int cc_policy_print(FILE *out, const struct cc_node_config *cfg,
    const char *source, bool json);

#endif
