/*
 * crosscount-aggregator: the audit log for auditors and admins
 * (docs/api.md "GET /api/v1/audit", SPEC.md 13). auth.c lets only the
 * auditor and admin roles reach the handler (CC_ACCESS_AUDITOR).
 *
 * The answer holds every entry, oldest first, as cc_audit_list writes
 * them, and the result of cc_audit_verify over the whole chain:
 *   {"entries": [...], "verified": true, "problem": null, "count": N}
 * "problem" names the first entry that fails and how; "count" is the
 * number of entries the verification saw (an entry appended between the
 * two reads may make "entries" one longer).
 */
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "aggregator/app.h"
#include "aggregator/audit.h"

static void
api_audit_get(struct cc_request *req, void *ctx)
{
	struct cc_app *app = ctx;
	struct cc_diag diag = { "" };
	json_t *entries = NULL, *page = NULL, *problem = NULL, *body = NULL;
	int64_t count = 0, bad_seq = 0, since = 0;
	size_t n;
	int status = 500;

	if (cc_audit_verify(app->store, &count, &bad_seq, &diag) != 0)
		goto out;
	if (bad_seq != 0 && (problem = json_string(diag.text[0] != '\0' ?
	    diag.text : "the hash chain does not verify")) == NULL)
		goto out;
	if ((entries = json_array()) == NULL)
		goto out;
	/* cc_audit_list answers at most CC_AUDIT_LIST_MAX entries a call. */
	for (;;) {
		struct cc_diag ldiag = { "" };

		if (cc_audit_list(app->store, &page, since, CC_AUDIT_LIST_MAX,
		    &ldiag) != 0)
			goto out;
		n = json_array_size(page);
		if (n > 0)
			since = json_integer_value(json_object_get(
			    json_array_get(page, n - 1), "seq"));
		if (json_array_extend(entries, page) != 0)
			goto out;
		json_decref(page);
		page = NULL;
		if (n < CC_AUDIT_LIST_MAX)
			break;
	}
	body = json_pack("{s:O, s:b, s:O, s:I}", "entries", entries,
	    "verified", bad_seq == 0, "problem", problem != NULL ? problem :
	    json_null(), "count", (json_int_t)count);
	if (body != NULL)
		status = 200;
out:
	json_decref(page);
	json_decref(entries);
	json_decref(problem);
	if (status == 200)
		cc_reply_json(req, 200, body);
	else
		cc_reply_error(req, 500, "the audit log cannot be read");
}

const struct cc_route cc_api_audit_routes[] = {
	{ "GET", "/api/v1/audit", CC_ACCESS_AUDITOR, api_audit_get },
};

const size_t cc_api_audit_nroutes =
    sizeof(cc_api_audit_routes) / sizeof(cc_api_audit_routes[0]);
