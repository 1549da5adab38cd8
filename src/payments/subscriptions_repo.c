/* subscriptions_repo.c - merchant_subscriptions and its event history (SQL),
 * and the webhook applier. */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/str.h"
#include "payments/subscriptions_int.h"

#define ROW_COLS                                                                                 \
    "SELECT id, slot, token, email, name, price_id, customer_id, subscription_id, status,"       \
    " current_period_end, cancel_at_period_end, canceled_at, past_due_since, last_invoice_id,"   \
    " last_invoice_status, last_invoice_amount_cents, last_invoice_currency, last_failure,"      \
    " last_error, state_at, state_from_object, created_at, updated_at"                           \
    " FROM merchant_subscriptions "

static void col_str(struct db_rows *r, int col, char *out, size_t len)
{
    const char *v = db_col_text(r, col, NULL);
    ff_strlcpy(out, v ? v : "", len);
}

static void read_row(struct db_rows *r, struct subs_row *row)
{
    memset(row, 0, sizeof *row);
    row->id = db_col_i64(r, 0);
    row->open = !db_col_null(r, 1);
    col_str(r, 2, row->token, sizeof row->token);
    col_str(r, 3, row->email, sizeof row->email);
    col_str(r, 4, row->name, sizeof row->name);
    col_str(r, 5, row->price_id, sizeof row->price_id);
    col_str(r, 6, row->customer_id, sizeof row->customer_id);
    col_str(r, 7, row->subscription_id, sizeof row->subscription_id);
    int st = subs_status_parse(db_col_text(r, 8, NULL));
    row->st.status = st < 0 ? SUBS_NONE : (enum subs_status)st;
    row->st.period_end_s = db_col_i64(r, 9);
    row->st.cancel_at_period_end = db_col_i64(r, 10) != 0;
    row->st.canceled_at_s = db_col_i64(r, 11);
    row->st.past_due_since_s = db_col_i64(r, 12);
    col_str(r, 13, row->invoice_id, sizeof row->invoice_id);
    col_str(r, 14, row->invoice_status, sizeof row->invoice_status);
    row->invoice_amount = db_col_null(r, 15) ? -1 : db_col_i64(r, 15);
    col_str(r, 16, row->invoice_currency, sizeof row->invoice_currency);
    col_str(r, 17, row->failure, sizeof row->failure);
    col_str(r, 18, row->last_error, sizeof row->last_error);
    row->st.state_at_s = db_col_i64(r, 19);
    row->st.state_from_object = db_col_i64(r, 20) != 0;
    row->created_at = db_col_i64(r, 21);
    row->updated_at = db_col_i64(r, 22);
}

enum ff_err subs__load(struct db_conn *c, bool lock, enum subs_which which, const char *key,
                       int64_t id, struct subs_row *row, bool *found)
{
    static const char *const sql[4][2] = {
        {ROW_COLS "WHERE slot = 1", ROW_COLS "WHERE slot = 1 FOR UPDATE"},
        {ROW_COLS "ORDER BY id DESC LIMIT 1", ROW_COLS "ORDER BY id DESC LIMIT 1 FOR UPDATE"},
        {ROW_COLS "WHERE subscription_id = $1", ROW_COLS "WHERE subscription_id = $1 FOR UPDATE"},
        {ROW_COLS "WHERE id = $1", ROW_COLS "WHERE id = $1 FOR UPDATE"},
    };
    struct db_rows *r = NULL;
    int np = which == SUBS_ROW_BY_SUB || which == SUBS_ROW_BY_ID ? 1 : 0;
    struct db_param p = which == SUBS_ROW_BY_ID ? DB_I64(id) : DB_TEXT(key);
    enum ff_err e = db_query(c, sql[which][lock ? 1 : 0], &p, np, &r);
    *found = false;
    if (!e)
        e = db_next(r, found);
    if (!e && *found)
        read_row(r, row);
    db_rows_free(r);
    return e;
}

enum ff_err subs__last_customer(struct db_conn *c, char *out, size_t len)
{
    struct db_rows *r = NULL;
    bool has = false;
    out[0] = '\0';
    enum ff_err e = db_query(c,
                             "SELECT customer_id FROM merchant_subscriptions"
                             " ORDER BY id DESC LIMIT 1",
                             NULL, 0, &r);
    if (!e)
        e = db_next(r, &has);
    if (!e && has)
        col_str(r, 0, out, len);
    db_rows_free(r);
    return e;
}

static struct db_param opt_text(const char *s)
{
    return s && *s ? DB_TEXT(s) : DB_NULL;
}

enum ff_err subs__insert(struct db_conn *c, struct subs_row *row)
{
    unsigned char rnd[16];
    randombytes_buf(rnd, sizeof rnd);
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(row->token + 2 * i, 3, "%02x", rnd[i]);
    row->created_at = row->updated_at = db_now_ms();
    row->open = true;
    enum ff_err e = db_exec(c,
                            "INSERT INTO merchant_subscriptions (slot, token, email, name,"
                            " price_id, customer_id, status, created_at, updated_at)"
                            " VALUES (1, $1, $2, $3, $4, $5, 'none', $6, $6)",
                            (struct db_param[]){DB_TEXT(row->token), DB_TEXT(row->email),
                                                opt_text(row->name), DB_TEXT(row->price_id),
                                                opt_text(row->customer_id),
                                                DB_I64(row->created_at)},
                            6, NULL);
    if (e)
        return e;
    bool found = false;
    e = subs__load(c, false, SUBS_ROW_OPEN, NULL, 0, row, &found);
    return e ? e : found ? FF_OK : FF_EDB;
}

static struct db_param opt_i64(int64_t v)
{
    return v > 0 ? DB_I64(v) : DB_NULL;
}

enum ff_err subs__save(struct db_conn *c, struct subs_row *row)
{
    row->updated_at = db_now_ms();
    if (subs_status_final(row->st.status))
        row->open = false;
    const struct subs_state *s = &row->st;
    return db_exec(
        c,
        "UPDATE merchant_subscriptions SET slot = $2, customer_id = $3, subscription_id = $4,"
        " status = $5, current_period_end = $6, cancel_at_period_end = $7, canceled_at = $8,"
        " past_due_since = $9, last_invoice_id = $10, last_invoice_status = $11,"
        " last_invoice_amount_cents = $12, last_invoice_currency = $13, last_failure = $14,"
        " last_error = $15, state_at = $16, state_from_object = $17, updated_at = $18"
        " WHERE id = $1",
        (struct db_param[]){DB_I64(row->id), row->open ? DB_I64(1) : DB_NULL,
                            opt_text(row->customer_id), opt_text(row->subscription_id),
                            DB_TEXT(subs_status_name(s->status)), opt_i64(s->period_end_s),
                            DB_I64(s->cancel_at_period_end ? 1 : 0), opt_i64(s->canceled_at_s),
                            opt_i64(s->past_due_since_s), opt_text(row->invoice_id),
                            opt_text(row->invoice_status),
                            row->invoice_amount >= 0 ? DB_I64(row->invoice_amount) : DB_NULL,
                            opt_text(row->invoice_currency), opt_text(row->failure),
                            opt_text(row->last_error), DB_I64(s->state_at_s),
                            DB_I64(s->state_from_object ? 1 : 0), DB_I64(row->updated_at)},
        18, NULL);
}

enum ff_err subs__record(struct db_conn *c, const struct subs_facts *f, const char *type,
                         const char *outcome, const char *before, const char *after,
                         const char *payload)
{
    return db_exec(c,
                   "INSERT INTO merchant_subscription_events (event_id, type, subscription_id,"
                   " event_created, outcome, status_before, status_after, payload, received_at)"
                   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                   (struct db_param[]){DB_TEXT(f->event_id), DB_TEXT(type),
                                       opt_text(f->subscription_id), DB_I64(f->created_s),
                                       DB_TEXT(outcome), opt_text(before), opt_text(after),
                                       opt_text(payload), DB_I64(db_now_ms())},
                   9, NULL);
}

enum subs_decision subs__apply_facts(struct subs_row *row, const struct subs_facts *f)
{
    struct subs_state next;
    enum subs_decision d = subs_decide(&row->st, f, &next);
    /* the last invoice's details follow the invoice events that are not older
     * than the state, even when an equal-time subscription object decided the
     * status */
    bool invoice = f->invoice_id[0] && !subs_status_final(row->st.status) &&
                   f->created_s >= row->st.state_at_s;
    if (d == SUBS_APPLY)
        row->st = next;
    if (invoice) {
        ff_strlcpy(row->invoice_id, f->invoice_id, sizeof row->invoice_id);
        ff_strlcpy(row->invoice_status, f->invoice_status[0] ? f->invoice_status
                                        : f->kind == SUBS_EV_INVOICE_PAID ? "paid"
                                                                          : "open",
                   sizeof row->invoice_status);
        ff_strlcpy(row->invoice_currency, f->currency, sizeof row->invoice_currency);
        row->invoice_amount = f->amount_cents;
        if (f->kind == SUBS_EV_INVOICE_FAILED)
            ff_strlcpy(row->failure, f->failure[0] ? f->failure : "payment failed",
                       sizeof row->failure);
        else
            row->failure[0] = '\0';
    }
    return d == SUBS_APPLY || invoice ? SUBS_APPLY : SUBS_STALE;
}

/* ---- the webhook applier ------------------------------------------------------------------ */

/* Frees json_dumps text with jansson's current allocator (the app installs ff_malloc). */
static void json_text_free(char *t)
{
    json_malloc_t m;
    json_free_t fr;
    json_get_alloc_funcs(&m, &fr);
    if (t)
        fr(t);
}

enum ff_err subs_apply_event(struct db_conn *c, const json_t *event, void *ud)
{
    struct subs *s = ud;
    struct subs_facts f;
    const char *type = json_string_value(json_object_get(event, "type"));
    if (subs_facts_from_event(event, &f)) {
        /* verified by its signature, yet not what Stripe sends: keep a trace, apply nothing */
        ff_log(FF_LOG_WARN, "subs", "malformed %s event ignored", type ? type : "(untyped)");
        return FF_OK;
    }
    if (f.kind == SUBS_EV_OTHER)
        return FF_OK;
    if (!f.subscription_id[0]) /* e.g. a one-off invoice: not the plan's */
        return subs__record(c, &f, type, "ignored", NULL, NULL, NULL);

    struct subs_row row;
    bool found = false;
    bool lock = s && s->db && db_dialect(s->db) == DB_PG;
    enum ff_err e = subs__load(c, lock, SUBS_ROW_BY_SUB, f.subscription_id, 0, &row, &found);
    if (e)
        return e;
    if (!found) {
        char *payload = json_dumps(event, JSON_COMPACT);
        e = subs__record(c, &f, type, "unknown", NULL, NULL, payload);
        json_text_free(payload);
        ff_log(FF_LOG_INFO, "subs", "event %s %s for unknown subscription %s recorded", f.event_id,
               type, f.subscription_id);
        return e;
    }
    const char *before = subs_status_name(row.st.status);
    if (subs__apply_facts(&row, &f) != SUBS_APPLY)
        return subs__record(c, &f, type, "stale", before, before, NULL);
    e = subs__save(c, &row);
    if (!e)
        e = subs__record(c, &f, type, "applied", before, subs_status_name(row.st.status), NULL);
    if (!e)
        ff_log(FF_LOG_INFO, "subs", "event %s %s: subscription %s %s -> %s", f.event_id, type,
               f.subscription_id, before, subs_status_name(row.st.status));
    return e;
}
