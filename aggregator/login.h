/*
 * crosscount-aggregator: signing in off the event loop (POST
 * /api/v1/session, docs/api.md).
 *
 * A password check is argon2id: about 0.1 s of CPU and 64 MiB. Run on the
 * event loop it would stall every node's upload and poll for that long,
 * once per sign-in. Here sign-ins wait in a queue, and a thread of their
 * own checks one at a time. The store is only used on the loop:
 * cc_auth_login_begin runs when an attempt reaches the head of the queue,
 * after the attempt before it recorded its failure, so a burst for one
 * name meets the rate limit as if it had come one by one.
 *
 * At most CC_LOGIN_QUEUE_MAX sign-ins wait, CC_LOGIN_PER_ADDRESS of them
 * from one address; more get 503 with Retry-After. A client that goes
 * away while its sign-in is checked still counts a failure against the
 * name but gets no session; one that goes away before its turn is
 * dropped untried. Sign-ins still waiting at shutdown get 503; the one
 * being checked is counted.
 */
#ifndef CC_AGG_LOGIN_H
#define CC_AGG_LOGIN_H

#include "aggregator/app.h"
#include "aggregator/server.h"
#include "protocol/error.h"

#define CC_LOGIN_QUEUE_MAX 32
#define CC_LOGIN_PER_ADDRESS 4

struct cc_login;

/* The queue of app (its base, store and cfg.session_hours). */
int cc_login_new(struct cc_login **ret_login, struct cc_app *app,
    struct cc_diag *diag);
/* Waits for a check in progress; waiting sign-ins get 503. */
void cc_login_free(struct cc_login *l);

/*
 * Sign in as name with password (a well-formed body, checked by the
 * caller). Always replies, now or later: 200 with the session cookie
 * and {"username", "role", "csrf"}, 401, 429 (Retry-After), 503
 * (Retry-After: the queue is full) or 500.
 */
void cc_login_start(struct cc_login *l, struct cc_request *req,
    const char *name, const char *password);

#endif
