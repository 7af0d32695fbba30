/*
 * crosscount-aggregator: the running aggregator, as every HTTP handler
 * and the coordinator see it (the ctx pointer of server.h routes).
 *
 * Single-threaded: everything here is used from the libevent loop's
 * thread only, except where a module says otherwise (counting may run on
 * a worker thread with its own store connection).
 */
#ifndef CC_AGG_APP_H
#define CC_AGG_APP_H

#include <event2/event.h>

#include "aggregator/config.h"
#include "aggregator/server.h"
#include "aggregator/store.h"
#include "protocol/seal.h"

struct cc_coordinator;
struct cc_login;

struct cc_app {
	struct event_base *base;
	struct cc_agg_config cfg;
	struct cc_agg_store *store;
	struct cc_seal_key *attr_key;      /* y, Y: DIR/attribute.key (0600) */
	struct cc_coordinator *coord;
	struct cc_login *login;            /* sign-ins (login.h) */
	struct cc_server *server;
};

/*
 * Route tables of the API modules, registered together by `serve`
 * (docs/api.md). Each handler's ctx is the struct cc_app.
 */
extern const struct cc_route cc_api_user_routes[];
extern const size_t cc_api_user_nroutes;
extern const struct cc_route cc_api_query_routes[];
extern const size_t cc_api_query_nroutes;
extern const struct cc_route cc_api_node_routes[];
extern const size_t cc_api_node_nroutes;
extern const struct cc_route cc_api_audit_routes[];
extern const size_t cc_api_audit_nroutes;

/*
 * The {id} path parameter (index 0) of a query or batch route: exactly a
 * query id (cc_coord_id_valid), else NULL after replying 400.
 */
const char *cc_api_query_id_param(struct cc_request *req);

#endif
