/* tryon_http.c - the try-on HTTP handlers (see tryon.h). */
#include "tryon/tryon_int.h"

#include "http/router.h"

enum ff_err tryon_http_register(struct http_router *r, struct tryon *t)
{
    (void)r;
    (void)t;
    return FF_OK;
}
