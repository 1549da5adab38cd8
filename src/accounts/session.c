/* session.c - is the session behind an access token still live?
 *
 * Access tokens are stateless, but logout, logout-all, a password reset, a
 * disabled account or a role change must take effect quickly, also on other
 * instances. Each authenticated request therefore checks its session row,
 * through a small cache: an answer is reused for TTL_MS, so a revocation made
 * anywhere is seen everywhere within TTL_MS (and at once on the instance
 * that made it, which forgets its cache). The table is bounded (SLOTS). */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "accounts/acc_int.h"
#include "core/alloc.h"

#define SLOTS 4096
#define TTL_MS 2000

struct sc_slot {
    char sid[ACC_SID_LEN];
    int64_t uid;
    enum http_role role;
    bool live;
    int64_t until_ms;
    uint64_t gen;
};

struct acc_scache {
    pthread_mutex_t mu;
    uint64_t gen; /* bumped by forget_all: older slots are stale */
    struct sc_slot slots[SLOTS];
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum ff_err acc__scache_new(struct acc_scache **out)
{
    struct acc_scache *c = ff_calloc(1, sizeof *c);
    if (!c)
        return FF_ENOMEM;
    pthread_mutex_init(&c->mu, NULL);
    c->gen = 1;
    *out = c;
    return FF_OK;
}

void acc__scache_free(struct acc_scache *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->mu);
    ff_free(c);
}

void acc__scache_forget_all(struct acc *a)
{
    pthread_mutex_lock(&a->scache->mu);
    a->scache->gen++;
    pthread_mutex_unlock(&a->scache->mu);
}

static size_t slot_of(const char *sid)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = sid; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return (size_t)(h % SLOTS);
}

static enum ff_err lookup(struct acc *a, const char *sid, int64_t uid, bool *live,
                          enum http_role *role)
{
    struct db_conn *c = NULL;
    struct db_rows *rows = NULL;
    bool has = false;
    enum ff_err e = db_acquire(a->db, &c);
    if (!e)
        e = db_query(c,
                     "SELECT s.revoked_at, s.expires_at, u.role, u.disabled_at"
                     " FROM sessions s JOIN users u ON u.id = s.user_id"
                     " WHERE s.id = $1 AND s.user_id = $2",
                     (struct db_param[]){DB_TEXT(sid), DB_I64(uid)}, 2, &rows);
    if (!e)
        e = db_next(rows, &has);
    *live = false;
    if (!e && has) {
        *live = db_col_null(rows, 0) && db_col_i64(rows, 1) > db_now_ms() &&
                db_col_null(rows, 3);
        *role = http_role_parse(db_col_text(rows, 2, NULL));
    }
    db_rows_free(rows);
    db_release(c);
    return e;
}

enum ff_err acc__session_live(struct acc *a, const char *sid, int64_t uid, enum http_role *role)
{
    struct acc_scache *sc = a->scache;
    struct sc_slot *s = &sc->slots[slot_of(sid)];
    int64_t now = mono_ms();
    pthread_mutex_lock(&sc->mu);
    bool hit = s->gen == sc->gen && s->uid == uid && now < s->until_ms && !strcmp(s->sid, sid);
    bool live = hit && s->live;
    enum http_role r = hit ? s->role : HTTP_ROLE_NONE;
    uint64_t gen = sc->gen;
    pthread_mutex_unlock(&sc->mu);
    if (!hit) {
        enum ff_err e = lookup(a, sid, uid, &live, &r);
        if (e)
            return e;
        pthread_mutex_lock(&sc->mu);
        if (gen == sc->gen) {
            memcpy(s->sid, sid, strlen(sid) + 1);
            s->uid = uid;
            s->live = live;
            s->role = r;
            s->until_ms = now + TTL_MS;
            s->gen = gen;
        }
        pthread_mutex_unlock(&sc->mu);
    }
    if (!live)
        return FF_EAUTH;
    *role = r;
    return FF_OK;
}
