/* audit.c - the append-only security audit log (table audit_log).
 *
 * Rows are only ever inserted (no UPDATE or DELETE path exists in the code;
 * triggers refuse both in the database). Details never hold secrets: no
 * passwords, no tokens, emails only masked. */
#include <string.h>

#include "accounts/acc_int.h"
#include "core/alloc.h"

char *acc__json_text(const json_t *j)
{
    size_t n = json_dumpb(j, NULL, 0, JSON_COMPACT);
    char *s = n ? ff_malloc(n + 1) : NULL;
    if (s && json_dumpb(j, s, n, JSON_COMPACT) != n) {
        ff_free(s);
        return NULL;
    }
    if (s)
        s[n] = '\0';
    return s;
}

enum ff_err acc__audit(struct db_conn *c, struct http_req *req, const char *event,
                       int64_t actor, int64_t subject, json_t *detail)
{
    char *d = detail ? acc__json_text(detail) : NULL;
    const char *ua = req ? http_header(req, "User-Agent") : NULL;
    size_t ual = ua ? strnlen(ua, 256) : 0;
    enum ff_err e = db_exec(
        c,
        "INSERT INTO audit_log (at, event, actor_id, subject_id, ip, user_agent, detail)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        (struct db_param[]){DB_I64(db_now_ms()), DB_TEXT(event), actor ? DB_I64(actor) : DB_NULL,
                            subject ? DB_I64(subject) : DB_NULL,
                            DB_TEXT(req && req->client_ip ? req->client_ip : ""),
                            DB_TEXTN(ua ? ua : "", ual), DB_TEXT(d ? d : "{}")},
        7, NULL);
    ff_free(d);
    return e;
}
