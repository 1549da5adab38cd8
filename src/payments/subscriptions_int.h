/* subscriptions_int.h - shared by subscriptions_repo.c (SQL) and
 * subscriptions_http.c (handlers, Stripe calls). Not a public header. */
#ifndef FF_PAYMENTS_SUBSCRIPTIONS_INT_H
#define FF_PAYMENTS_SUBSCRIPTIONS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "payments/subscriptions.h"

struct subs {
    struct db *db;
    struct stripe_client *stripe;
    char price_id[128];
};

#define SUBS_ID_MAX 128

/* One merchant_subscriptions row. */
struct subs_row {
    int64_t id;
    bool open;                       /* slot = 1 */
    char token[48];
    char email[256], name[256];
    char price_id[SUBS_ID_MAX], customer_id[SUBS_ID_MAX], subscription_id[SUBS_ID_MAX];
    struct subs_state st;
    char invoice_id[SUBS_ID_MAX], invoice_status[32], invoice_currency[8];
    int64_t invoice_amount;          /* -1 when unknown */
    char failure[256], last_error[256];
    int64_t created_at, updated_at;  /* epoch ms */
};

/* Which row subs__load reads. */
enum subs_which {
    SUBS_ROW_OPEN,      /* the open one (slot = 1) */
    SUBS_ROW_LATEST,    /* the newest, open or not */
    SUBS_ROW_BY_SUB,    /* by Stripe subscription id (key) */
    SUBS_ROW_BY_ID,     /* by row id (id) */
};

/* Reads a row into *row; *found false when none. lock: SELECT ... FOR
 * UPDATE on PostgreSQL (inside a transaction). */
enum ff_err subs__load(struct db_conn *c, bool lock, enum subs_which which, const char *key,
                       int64_t id, struct subs_row *row, bool *found) FF_MUST_CHECK;
/* The customer id of the newest row ("" when none, or when that attempt was
 * refused because Stripe no longer knows its customer). */
enum ff_err subs__last_customer(struct db_conn *c, char *out, size_t len) FF_MUST_CHECK;
/* Inserts an open pending row (fields from row; id, token, times set here).
 * FF_ECONFLICT when an open row exists already. */
enum ff_err subs__insert(struct db_conn *c, struct subs_row *row) FF_MUST_CHECK;
/* Writes every mutable field of row (by id); updated_at = now. */
enum ff_err subs__save(struct db_conn *c, struct subs_row *row) FF_MUST_CHECK;
/* Appends to the event history. payload may be NULL. */
enum ff_err subs__record(struct db_conn *c, const struct subs_facts *f, const char *type,
                         const char *outcome, const char *before, const char *after,
                         const char *payload) FF_MUST_CHECK;

/* Applies facts f to row (subs_decide) and copies invoice details when
 * applied. Returns the decision. */
enum subs_decision subs__apply_facts(struct subs_row *row, const struct subs_facts *f);

/* The row as the plan JSON of the API (new reference; NULL on OOM). row may
 * be NULL (no plan). now_ms: for the grace period. */
json_t *subs__plan_json(const struct subs_row *row, int64_t now_ms);

#endif
