/* fuzz_checkout_body.c - POST /api/v1/orders' body (the cart form and the
 * direct "buy now" form with items): JSON parsing, schema, the items' checks;
 * no database. Properties: no crash or leak; an error renders a 4xx problem;
 * an accepted direct body has 1..50 items, each naming a variant by exactly
 * one of variant_id (>= 1) and sku (1..64 chars), quantity 1..100, and no id
 * or sku twice. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http/problem.h"
#include "http/validate.h"
#include "orders/orders_int.h"

static void check_items(const struct ord_want *w, int n)
{
    if (n < 1 || n > ORDERS_CART_LINES_MAX)
        __builtin_trap();
    for (int i = 0; i < n; i++) {
        if (w[i].quantity < 1 || w[i].quantity > ORDERS_LINE_QTY_MAX)
            __builtin_trap();
        if (w[i].sku ? (!*w[i].sku || strlen(w[i].sku) > 256) : w[i].variant_id < 1)
            __builtin_trap();
        for (int j = 0; j < i; j++)
            if (w[i].sku ? w[j].sku && !strcmp(w[i].sku, w[j].sku)
                         : !w[j].sku && w[i].variant_id == w[j].variant_id)
                __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        http_json_use_ff_alloc();
        init = 1;
    }
    struct ff_arena *a = ff_arena_new(0);
    if (!a)
        return 0;
    struct http_kv hdr = {"Content-Type", "application/json"};
    struct http_req req = {.arena = a, .id = "fuzz", .headers = &hdr, .nheaders = 1};
    char *body = ff_arena_strndup(a, (const char *)data, size);
    if (body) {
        req.body = body;
        req.body_len = size;
        const char *email;
        struct ord_want w[ORDERS_CART_LINES_MAX];
        int n;
        enum ff_err e = ord__checkout_body(&req, &email, w, &n);
        struct http_resp resp = {.arena = a};
        if (e) {
            http_problem_render(&req, &resp);
            if (resp.status < 400 || resp.status > 499 || !resp.body)
                __builtin_trap();
        } else if (n >= 0) {
            check_items(w, n);
        }
    }
    ff_arena_free(a);
    return 0;
}
