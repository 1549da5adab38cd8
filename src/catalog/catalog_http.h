/* catalog_http.h - the catalog's HTTP API under /api/v1 (thin: it parses,
 * calls the service in catalog.h and maps the outcome). */
#ifndef FF_CATALOG_CATALOG_HTTP_H
#define FF_CATALOG_CATALOG_HTTP_H

#include "core/err.h"
#include "catalog/catalog_cache.h"
#include "http/router.h"

/* Registers, with the catalog cache (catalog_cache.h; it holds the database
 * and may be disabled) as the handlers' user data (NULL when the routes are
 * only listed). Reads are served from the cache; writes invalidate it:
 *   GET    /api/v1/products          list, filter, sort, search, paginate
 *   GET    /api/v1/products/{ref}    one product by numeric id or slug (ETag "v<version>")
 *   POST   /api/v1/products          staff: create (201, Location, ETag)
 *   PATCH  /api/v1/products/{ref}    staff: change fields; If-Match "v<version>"
 *                                    required (428), stale (412)
 *   DELETE /api/v1/products/{ref}    staff: soft delete (204); If-Match optional */
enum ff_err cat_http_register(struct http_router *r, struct cat_cache *cache) FF_MUST_CHECK;

#endif
