/* jobs_http.h - the staff endpoints over jobs (all HTTP_ROUTE_STAFF):
 *   GET  /api/v1/jobs                 list, filter (state, queue, type), page
 *   GET  /api/v1/jobs/{id}            one job with its attempt history
 *   POST /api/v1/jobs/{id}/retry      dead/discarded/queued -> queued, runs now
 *   POST /api/v1/jobs/{id}/discard    queued/dead -> discarded */
#ifndef FF_JOBS_JOBS_HTTP_H
#define FF_JOBS_JOBS_HTTP_H

#include "core/err.h"
#include "http/router.h"

struct db;

/* Registers the routes; db may be NULL when only listing routes. */
enum ff_err jobs_http_register(struct http_router *r, struct db *db) FF_MUST_CHECK;

#endif
