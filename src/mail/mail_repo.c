/* mail_repo.c - the mail module's SQL (tables in migrations/NNNN/0005_mail.sql). */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "mail/mail_int.h"

enum ff_err mail__insert(struct db_conn *c, const char *to, const char *tmpl, const char *locale,
                         const char *vars, int essential, int64_t *id)
{
    int64_t now = db_now_ms();
    return db_query_i64(c,
                        "INSERT INTO mail_messages (to_addr, template, locale, vars, essential,"
                        " status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'queued',"
                        " $6, $6) RETURNING id",
                        (struct db_param[]){DB_TEXT(to), DB_TEXT(tmpl), DB_TEXT(locale),
                                            DB_TEXT(vars), DB_I64(essential ? 1 : 0),
                                            DB_I64(now)},
                        6, id);
}

static void copy_col(struct db_rows *r, int col, char *dst, size_t n)
{
    const char *s = db_col_text(r, col, NULL);
    snprintf(dst, n, "%s", s ? s : "");
}

enum ff_err mail__load(struct db_conn *c, int64_t id, struct mail__row *out)
{
    struct db_rows *r;
    memset(out, 0, sizeof *out);
    enum ff_err e = db_query(c,
                             "SELECT id, to_addr, template, locale, vars, essential, status,"
                             " attempts FROM mail_messages WHERE id = $1",
                             (struct db_param[]){DB_I64(id)}, 1, &r);
    if (e)
        return e;
    bool has = false;
    e = db_next(r, &has);
    if (!e && !has)
        e = FF_ENOTFOUND;
    if (!e) {
        out->id = db_col_i64(r, 0);
        copy_col(r, 1, out->to, sizeof out->to);
        copy_col(r, 2, out->template_, sizeof out->template_);
        copy_col(r, 3, out->locale, sizeof out->locale);
        const char *v = db_col_text(r, 4, NULL);
        out->essential = (int)db_col_i64(r, 5);
        copy_col(r, 6, out->status, sizeof out->status);
        out->attempts = (int)db_col_i64(r, 7);
        if (!(out->vars = ff_strdup(v ? v : "{}")))
            e = FF_ENOMEM;
    }
    db_rows_free(r);
    return e;
}

/* The provider's id in a 250 reply ("250 2.0.0 Ok: queued as 4Bx9" -> "4Bx9"),
 * or NULL. */
static const char *provider_id(const char *reply, char *buf, size_t len)
{
    const char *q = reply && !strncmp(reply, "250", 3) ? strstr(reply, "queued as ") : NULL;
    if (!q)
        return NULL;
    q += 10;
    size_t n = strcspn(q, " \t<>");
    if (n == 0 || n >= len)
        return NULL;
    memcpy(buf, q, n);
    buf[n] = 0;
    return buf;
}

enum ff_err mail__mark(struct db_conn *c, int64_t id, const char *status, int code,
                       const char *reply, const char *message_id, bool bump)
{
    int64_t now = db_now_ms();
    char pid[128];
    const char *prov = message_id ? provider_id(reply, pid, sizeof pid) : NULL;
    return db_exec(c,
                   "UPDATE mail_messages SET status = COALESCE($2, status),"
                   " attempts = attempts + $3, last_code = COALESCE($4, last_code),"
                   " last_reply = COALESCE($5, last_reply),"
                   " message_id = COALESCE($6, message_id), updated_at = $7,"
                   " sent_at = CASE WHEN $2 = 'sent' THEN $7 ELSE sent_at END,"
                   " provider_id = COALESCE($8, provider_id)"
                   " WHERE id = $1 AND status = 'queued'",
                   (struct db_param[]){DB_I64(id), DB_TEXT(status), DB_I64(bump ? 1 : 0),
                                       code ? DB_I64(code) : DB_NULL, DB_TEXT(reply),
                                       DB_TEXT(message_id), DB_I64(now), DB_TEXT(prov)},
                   8, NULL);
}

enum ff_err mail__prune_events(struct db_conn *c, int64_t before_ms, int64_t *deleted)
{
    return db_exec(c, "DELETE FROM mail_webhook_events WHERE created_at < $1",
                   (struct db_param[]){DB_I64(before_ms)}, 1, deleted);
}

enum ff_err mail__suppression(struct db_conn *c, const char *email, char *reason, size_t len)
{
    struct db_rows *r;
    reason[0] = 0;
    enum ff_err e = db_query(c, "SELECT reason FROM mail_suppressions WHERE email = $1",
                             (struct db_param[]){DB_TEXT(email)}, 1, &r);
    if (e)
        return e;
    bool has = false;
    e = db_next(r, &has);
    if (!e && has)
        copy_col(r, 0, reason, len);
    db_rows_free(r);
    return e;
}

enum ff_err mail__suppress(struct db_conn *c, const char *email, const char *reason,
                           const char *source, const char *detail)
{
    return db_exec(c,
                   "INSERT INTO mail_suppressions (email, reason, source, detail, created_at)"
                   " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO UPDATE SET"
                   " reason = excluded.reason, source = excluded.source,"
                   " detail = excluded.detail, created_at = excluded.created_at"
                   " WHERE excluded.reason = 'bounce' AND mail_suppressions.reason <> 'bounce'",
                   (struct db_param[]){DB_TEXT(email), DB_TEXT(reason), DB_TEXT(source),
                                       DB_TEXT(detail ? detail : ""), DB_I64(db_now_ms())},
                   5, NULL);
}

enum ff_err mail__event_once(struct db_conn *c, const char *event_id, bool *fresh)
{
    int64_t changed = 0;
    enum ff_err e = db_exec(c,
                            "INSERT INTO mail_webhook_events (event_id, created_at)"
                            " VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING",
                            (struct db_param[]){DB_TEXT(event_id), DB_I64(db_now_ms())}, 2,
                            &changed);
    *fresh = changed > 0;
    return e;
}

static json_t *col_json(struct db_rows *r, int col, bool integer)
{
    if (db_col_null(r, col))
        return json_null();
    if (integer)
        return json_integer(db_col_i64(r, col));
    return json_string(db_col_text(r, col, NULL));
}

/* Runs a list query (filters as $1, $2; limit $3, offset $4) and a count. */
static enum ff_err list(struct db_conn *c, const char *sql, const char *count_sql,
                        const char *const *names, const char *ints, const char *f1,
                        const char *f2, int64_t limit, int64_t offset, json_t **out)
{
    struct db_param p[4] = {DB_TEXT(f1), DB_TEXT(f2), DB_I64(limit), DB_I64(offset)};
    int64_t total = 0;
    enum ff_err e = db_query_i64(c, count_sql, p, 2, &total);
    struct db_rows *r = NULL;
    if (!e)
        e = db_query(c, sql, p, 4, &r);
    json_t *items = json_array();
    if (!items && !e)
        e = FF_ENOMEM;
    bool has = false;
    while (!e && !(e = db_next(r, &has)) && has) {
        json_t *o = json_object();
        for (int i = 0; names[i] && o; i++)
            if (json_object_set_new(o, names[i], col_json(r, i, ints[i] == 'i')))
                e = FF_ENOMEM;
        if (!o || json_array_append_new(items, o))
            e = FF_ENOMEM;
    }
    db_rows_free(r);
    if (!e && !(*out = json_pack("{s:o,s:I,s:I,s:I}", "items", items, "total",
                                 (json_int_t)total, "limit", (json_int_t)limit, "offset",
                                 (json_int_t)offset)))
        e = FF_ENOMEM;
    if (e)
        json_decref(items);
    return e;
}

enum ff_err mail__list_messages(struct db_conn *c, const char *status, const char *to,
                                int64_t limit, int64_t offset, json_t **out)
{
    static const char *const names[] = {"id", "to", "template", "locale", "essential",
                                        "status", "attempts", "last_code", "last_reply",
                                        "message_id", "provider_id", "created_at", "updated_at",
                                        "sent_at", NULL};
#define MSG_WHERE " WHERE (CAST($1 AS TEXT) IS NULL OR status = $1) AND (CAST($2 AS TEXT) IS NULL OR to_addr = $2)"
    return list(c,
                "SELECT id, to_addr, template, locale, essential, status, attempts, last_code,"
                " last_reply, message_id, provider_id, created_at, updated_at, sent_at FROM mail_messages"
                MSG_WHERE " ORDER BY id DESC LIMIT $3 OFFSET $4",
                "SELECT COUNT(*) FROM mail_messages" MSG_WHERE, names, "isssisiisssiii", status,
                to, limit, offset, out);
#undef MSG_WHERE
}

enum ff_err mail__list_suppressions(struct db_conn *c, const char *email, int64_t limit,
                                    int64_t offset, json_t **out)
{
    static const char *const names[] = {"email", "reason", "source", "detail", "created_at",
                                        NULL};
#define SUP_WHERE " WHERE (CAST($1 AS TEXT) IS NULL OR email = $1) AND (CAST($2 AS TEXT) IS NULL OR 1 = 1)"
    return list(c,
                "SELECT email, reason, source, detail, created_at FROM mail_suppressions"
                SUP_WHERE " ORDER BY created_at DESC, email LIMIT $3 OFFSET $4",
                "SELECT COUNT(*) FROM mail_suppressions" SUP_WHERE, names, "ssssi", email, NULL,
                limit, offset, out);
#undef SUP_WHERE
}

enum ff_err mail__unsuppress(struct db_conn *c, const char *email, int64_t *changed)
{
    return db_exec(c, "DELETE FROM mail_suppressions WHERE email = $1",
                   (struct db_param[]){DB_TEXT(email)}, 1, changed);
}
