/*
 * Fuzz harness: a task from the aggregator's work answer, as the node
 * worker validates it (cc_worker_task_parse in node/worker.c). The bytes
 * go through Jansson as the HTTPS client hands them over. Beyond "no
 * crash", an accepted task must hold only what the contract promises,
 * and a refused one must be cleared and explained.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "node/querykey.h"
#include "node/worker.h"
#include "protocol/group.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_task(const struct cc_worker_task *t)
{
	size_t i;

	if (!cc_querykey_id_valid(t->query_id))
		abort();
	switch (t->kind) {
	case CC_WORKER_TASK_FORGET:
		if (t->status[0] == '\0' || t->q != NULL ||
		    (t->has_result_digest && strlen(t->result_digest) != 64) ||
		    strlen(t->reason) > CC_QUERYLOG_REASON_MAX)
			abort();
		return;
	case CC_WORKER_TASK_APPROVE:
		if (t->owner[0] == '\0')
			abort();
		break;
	case CC_WORKER_TASK_STEP:
		if (t->chain >= t->nnodes || t->hop >= t->nnodes ||
		    (t->hop == 0) != (t->input_size == 0))
			abort();
		break;
	default:
		abort();
	}
	if (t->q == NULL || t->nnodes < 1 || t->nnodes > CC_LIMIT_QUERY_NODES ||
	    cc_group_element_check(t->y_pub) != 0)
		abort();
	for (i = 0; i < t->nnodes; i++)
		if (!cc_query_node_id_valid(t->nodes[i], strlen(t->nodes[i])))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct cc_worker_task zero;
	struct cc_worker_task t;
	struct cc_diag d = { "" };
	json_t *o;

	if (size > CC_LIMIT_HTTP_BODY)
		return 0;
	o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (o == NULL)
		return 0;
	if (cc_worker_task_parse(&t, o, &d) == 0) {
		check_task(&t);
		cc_worker_task_clear(&t);
	} else if (memcmp(&t, &zero, sizeof(t)) != 0 || d.text[0] == '\0') {
		abort();
	}
	json_decref(o);
	return 0;
}
