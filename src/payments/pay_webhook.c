/* pay_webhook.c - POST /api/v1/payments/stripe/webhook: signature, parse,
 * dedupe by event id and dispatch, all effects in one transaction. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "db/db.h"
#include "http/problem.h"
#include "http/req.h"
#include "http/router.h"
#include "payments/payments_int.h"
#include "payments/stripe.h"

#define EVENT_ID_MAX 255
#define EVENT_TYPE_MAX 255

/* Checks the event's envelope: id, type and data.object. */
static const char *envelope_problem(const json_t *ev)
{
    if (!json_is_object(ev))
        return "the event is not a JSON object";
    const char *id = json_string_value(json_object_get(ev, "id"));
    const char *type = json_string_value(json_object_get(ev, "type"));
    if (!id || !*id || strlen(id) > EVENT_ID_MAX)
        return "the event has no id (a string of 1..255 characters)";
    if (!type || !*type || strlen(type) > EVENT_TYPE_MAX)
        return "the event has no type (a string of 1..255 characters)";
    if (!json_is_object(json_object_get(json_object_get(ev, "data"), "object")))
        return "the event has no data.object";
    return NULL;
}

/* Records the event id and runs the matching handlers on tx; *dup = true when
 * the id was processed before (nothing runs). */
static enum ff_err apply(struct payments *p, struct db_tx *tx, const json_t *ev, bool *dup,
                         int *ran)
{
    const char *id = json_string_value(json_object_get(ev, "id"));
    const char *type = json_string_value(json_object_get(ev, "type"));
    int64_t changed = 0;
    *dup = false;
    *ran = 0;
    enum ff_err e = db_exec(tx->conn,
                            "INSERT INTO stripe_events (id, type, received_at, result)"
                            " VALUES ($1, $2, $3, 'applied') ON CONFLICT (id) DO NOTHING",
                            (struct db_param[]){DB_TEXT(id), DB_TEXT(type), DB_I64(db_now_ms())},
                            3, &changed);
    if (e)
        return e;
    if (changed == 0) {
        *dup = true;
        return FF_OK;
    }
    for (int i = 0; i < p->nhandlers && !e; i++) {
        const struct pay_handler *h = &p->handlers[i];
        if (strncmp(type, h->prefix, strlen(h->prefix)))
            continue;
        (*ran)++;
        e = h->fn(tx->conn, ev, h->ud);
    }
    if (!e && !*ran)
        e = db_exec(tx->conn, "UPDATE stripe_events SET result = 'ignored' WHERE id = $1",
                    (struct db_param[]){DB_TEXT(id)}, 1, NULL);
    return e;
}

static enum ff_err reply(struct http_resp *resp, const char *id, const char *result)
{
    return http_reply_json(resp, 200, json_pack("{sb ss ss}", "received", 1, "id", id,
                                                "result", result));
}

static enum ff_err h_webhook(struct http_req *req, struct http_resp *resp)
{
    struct payments *p = req->ud;
    if (!p || !p->webhook_secret[0]) {
        if (http_resp_header(resp, "Retry-After", "60"))
            return FF_ENOMEM;
        return http_problem_set(req, HTTP_PK_PAYMENTS_UNAVAILABLE,
                                "the Stripe webhook is not configured"
                                " (FRAMEFIT_STRIPE_WEBHOOK_SECRET is unset)");
    }
    const char *sig = http_header(req, "Stripe-Signature");
    if (!sig)
        return http_problem_set(req, HTTP_PK_WEBHOOK_SIGNATURE,
                                "the Stripe-Signature header is missing");
    char why[160] = "";
    enum ff_err e = stripe_sig_verify(sig, req->body, req->body_len, p->webhook_secret,
                                      (int64_t)time(NULL), STRIPE_SIG_TOLERANCE_S, NULL, why,
                                      sizeof why);
    if (e == FF_EINVAL)
        return http_problem_set(req, HTTP_PK_WEBHOOK_SIGNATURE,
                                "malformed Stripe-Signature header: %s", why);
    if (e)
        return http_problem_set(req, HTTP_PK_WEBHOOK_SIGNATURE,
                                "the Stripe-Signature does not verify: %s", why);
    json_error_t jerr;
    json_t *ev = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!ev)
        return http_problem_set(req, HTTP_PK_BAD_REQUEST,
                                "the event is not JSON: %s (line %d)", jerr.text, jerr.line);
    const char *bad = envelope_problem(ev);
    if (bad) {
        json_decref(ev);
        return http_problem_set(req, HTTP_PK_BAD_REQUEST, "%s", bad);
    }
    const char *id = ff_arena_strdup(req->arena, json_string_value(json_object_get(ev, "id")));
    const char *type =
        ff_arena_strdup(req->arena, json_string_value(json_object_get(ev, "type")));
    struct db_tx tx = DB_TX_INIT;
    bool dup = false;
    int ran = 0;
    e = db_begin(p->db, &tx);
    if (!e)
        e = apply(p, &tx, ev, &dup, &ran);
    if (!e && !dup)
        e = db_commit(&tx);
    db_tx_release(&tx); /* a duplicate or an error: rolled back */
    json_decref(ev);
    if (e) {
        ff_log(FF_LOG_ERROR, "payments", "stripe event %s (%s) not applied: %s %s", id ? id : "",
               type ? type : "", ff_err_name(e), e == FF_EDB ? db_errmsg() : "");
        return http_errf(req, e == FF_EDB ? FF_EDB : FF_EINTERNAL,
                         "applying the event failed; Stripe will deliver it again");
    }
    if (dup)
        ff_log(FF_LOG_INFO, "payments", "stripe event %s (%s) already processed", id, type);
    return reply(resp, id, dup ? "duplicate" : ran ? "applied" : "ignored");
}

enum ff_err pay__webhook_routes(struct http_router *r, struct payments *p)
{
    enum ff_err e = http_route_add(r, HTTP_POST, PAYMENTS_WEBHOOK_PATH, h_webhook, p,
                                   HTTP_ROUTE_NO_ETAG);
    if (!e)
        e = http_route_set_max_body(r, HTTP_POST, PAYMENTS_WEBHOOK_PATH,
                                    PAYMENTS_WEBHOOK_MAX_BODY);
    return e;
}
