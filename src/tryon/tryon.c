/* tryon.c - the try-on service: open/close, owners, geometry for the
 * renderer, the render cache, deletion and the retention sweep (tryon.h). */
#include "tryon/tryon_int.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/str.h"
#include "http/auth.h"

static enum ff_err open_service(const struct ff_config *cfg, struct db *db, bool engine,
                                struct tryon **out, char *err, size_t errlen)
{
    *out = NULL;
    if (sodium_init() < 0) {
        ff_errbuf(err, errlen, "try-on: libsodium failed to initialise");
        return FF_EINTERNAL;
    }
    struct tryon *t = ff_calloc(1, sizeof *t);
    if (!t)
        return FF_ENOMEM;
    t->db = db;
    t->max_bytes = cfg->tryon_max_bytes;
    t->max_pixels = (uint64_t)cfg->tryon_max_pixels;
    t->retention_ms = (int64_t)cfg->tryon_retention_days * 86400 * 1000;
    enum ff_err e = store_open(cfg->object_store, cfg->data_dir, &t->store, err, errlen);
    if (e) {
        ff_free(t);
        return e;
    }
    if (!engine) {
        ff_strlcpy(t->engine_err, "opened without the vision engine", sizeof t->engine_err);
        *out = t;
        return FF_OK;
    }
    /* the configured values, not the environment: "" means the engine's default */
    struct vis_engine_opts vo = {
        .landmark_path = cfg->landmark_model[0] ? cfg->landmark_model : VIS_SHAPE_DEFAULT_MODEL,
        .cache_dir = cfg->cache_dir[0] ? cfg->cache_dir : NULL,
    };
    if (vis_engine_load(&vo, &t->engine, t->engine_err, sizeof t->engine_err)) {
        t->engine = NULL;
        ff_log(FF_LOG_WARN, "tryon", "vision engine unavailable, uploads answer 503: %s",
               t->engine_err);
    }
    *out = t;
    return FF_OK;
}

enum ff_err tryon_open(const struct ff_config *cfg, struct db *db, struct tryon **out, char *err,
                       size_t errlen)
{
    return open_service(cfg, db, true, out, err, errlen);
}

enum ff_err tryon_open_storage(const struct ff_config *cfg, struct db *db, struct tryon **out,
                               char *err, size_t errlen)
{
    return open_service(cfg, db, false, out, err, errlen);
}

void tryon_close(struct tryon *t)
{
    if (!t)
        return;
    vis_engine_free(t->engine);
    store_close(t->store);
    ff_free(t);
}

struct db *tryon_db(const struct tryon *t) { return t->db; }
struct store *tryon_store(const struct tryon *t) { return t->store; }
const struct vis_engine *tryon_engine(const struct tryon *t) { return t->engine; }

void tryon_random_id(char out[TRYON_ID_LEN + 1])
{
    unsigned char b[16];
    char tmp[sodium_base64_ENCODED_LEN(16, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    randombytes_buf(b, sizeof b);
    sodium_bin2base64(tmp, sizeof tmp, b, sizeof b, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    memcpy(out, tmp, TRYON_ID_LEN);
    out[TRYON_ID_LEN] = '\0';
}

/* ---- owners ------------------------------------------------------------------ */

bool tryon_anon_id_valid(const char *s)
{
    return http_anon_id_valid(s);
}

enum ff_err tryon_req_owner(struct http_req *req, struct tryon_owner *out)
{
    memset(out, 0, sizeof *out);
    /* accounts' principal: the signed-in user and the anonymous shopper id
     * (cookie ff_anon or header X-Anonymous-Id) */
    const struct http_principal *p = http_principal(req);
    out->user_id = p->user_id;
    if (tryon_anon_id_valid(p->anon_id))
        ff_strlcpy(out->anon_id, p->anon_id, sizeof out->anon_id);
    return out->user_id || out->anon_id[0] ? FF_OK : FF_ENOTFOUND;
}

/* ---- object references ---------------------------------------------------------- */

enum ff_err tryon_lock_objects(struct db *db, struct db_conn *c)
{
    if (db_dialect(db) != DB_PG)
        return FF_OK; /* BEGIN IMMEDIATE holds the write lock */
    int64_t one;
    return db_query_i64(c, "SELECT 1 FROM (SELECT pg_advisory_xact_lock(7366081772)) AS l",
                        NULL, 0, &one);
}

enum ff_err tryon_release_object(struct tryon *t, struct db_conn *c, const char *key)
{
    int64_t refs = 0;
    enum ff_err e = db_query_i64(c,
                                 "SELECT (SELECT COUNT(*) FROM tryon_sessions WHERE photo_key = $1)"
                                 " + (SELECT COUNT(*) FROM tryon_renders WHERE object_key = $1)",
                                 (struct db_param[]){DB_TEXT(key)}, 1, &refs);
    if (e || refs)
        return e;
    e = store_delete(t->store, key);
    if (e) /* the key, never the content: keys are hashes */
        ff_log(FF_LOG_ERROR, "tryon", "cannot delete object %.12s...: %s", key, ff_err_name(e));
    return e;
}

void tryon_ensure_object(struct tryon *t, const void *data, size_t len, const char *type,
                         const char *key)
{
    bool there = false;
    char k2[STORE_KEY_LEN + 1];
    if (!store_exists(t->store, key, &there) && there)
        return;
    if (store_put(t->store, data, len, type, k2))
        ff_log(FF_LOG_ERROR, "tryon", "cannot re-store object %.12s...", key);
}

/* ---- geometry ------------------------------------------------------------------ */

/* The owner condition over parameters $2 (user or anon id), $3 (now) and,
 * for a signed-in user with an anonymous id too, $4: a user sees the
 * sessions made under their account and those of this browser's anonymous
 * id. Fills p[1] and p[3]; returns the SQL and *np (3 or 4). */
static const char *owner_cond(const struct tryon_owner *who, struct db_param *p, int *np)
{
    *np = 3;
    if (who->user_id && who->anon_id[0]) {
        p[1] = DB_I64(who->user_id);
        p[3] = DB_TEXT(who->anon_id);
        *np = 4;
        return " AND (user_id = $2 OR anon_id = $4) AND expires_at > $3";
    }
    if (who->user_id) {
        p[1] = DB_I64(who->user_id);
        return " AND user_id = $2 AND expires_at > $3";
    }
    p[1] = DB_TEXT(who->anon_id);
    return " AND anon_id = $2 AND expires_at > $3";
}

static bool valid_id(const char *id)
{
    if (!id || strlen(id) != TRYON_ID_LEN)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    return true;
}

static bool owner_ok(const struct tryon_owner *who)
{
    return who && (who->user_id || tryon_anon_id_valid(who->anon_id));
}

static void read_pt(json_t *a, double out[2])
{
    out[0] = json_number_value(json_array_get(a, 0));
    out[1] = json_number_value(json_array_get(a, 1));
}

static enum ff_err parse_geom(const char *text, size_t len, struct tryon_geom *g)
{
    json_t *j = json_loadb(text, len, 0, NULL);
    if (!j)
        return FF_ECORRUPT;
    json_t *pts = json_object_get(j, "landmarks");
    json_t *eyes = json_object_get(j, "eyes");
    enum ff_err e = json_array_size(pts) == 68 && json_array_size(eyes) == 2 ? FF_OK : FF_ECORRUPT;
    if (!e) {
        read_pt(json_array_get(eyes, 0), g->eye_right);
        read_pt(json_array_get(eyes, 1), g->eye_left);
        for (size_t i = 0; i < 68; i++)
            read_pt(json_array_get(pts, i), g->landmarks[i]);
        g->roll_deg = json_number_value(json_object_get(j, "roll"));
        g->yaw_deg = json_number_value(json_object_get(j, "yaw"));
        g->pitch_deg = json_number_value(json_object_get(j, "pitch"));
        g->mm_per_px = json_number_value(json_object_get(j, "mm_per_px"));
        g->face_width_mm = json_number_value(json_object_get(j, "face_width_mm"));
        g->has_face = true;
    }
    json_decref(j);
    return e;
}

enum ff_err tryon_session_geom(struct db *db, const char *session_id,
                               const struct tryon_owner *who, struct tryon_geom *out)
{
    memset(out, 0, sizeof *out);
    if (!valid_id(session_id) || !owner_ok(who))
        return FF_ENOTFOUND;
    struct db_param p[4] = {DB_TEXT(session_id), DB_NULL, DB_I64(db_now_ms()), DB_NULL};
    int np;
    const char *cond = owner_cond(who, p, &np);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT photo_key, photo_type, width, height, geom FROM tryon_sessions"
             " WHERE id = $1%s", cond);
    struct db_conn *c = NULL;
    struct db_rows *r = NULL;
    bool has = false;
    enum ff_err e = db_acquire(db, &c);
    if (!e)
        e = db_query(c, sql, p, np, &r);
    if (!e)
        e = db_next(r, &has);
    if (!e && !has)
        e = FF_ENOTFOUND;
    if (!e) {
        const char *k = db_col_text(r, 0, NULL), *ty = db_col_text(r, 1, NULL);
        ff_strlcpy(out->photo_key, k ? k : "", sizeof out->photo_key);
        ff_strlcpy(out->photo_type, ty ? ty : "", sizeof out->photo_type);
        out->width = (int)db_col_i64(r, 2);
        out->height = (int)db_col_i64(r, 3);
        size_t gl = 0;
        const char *gt = db_col_text(r, 4, &gl);
        if (gt)
            e = parse_geom(gt, gl, out);
    }
    db_rows_free(r);
    db_release(c);
    return e;
}

/* ---- the render cache -------------------------------------------------------------- */

static void read_render(struct db_rows *r, struct tryon_render *o)
{
    const char *s;
    memset(o, 0, sizeof *o);
    if ((s = db_col_text(r, 0, NULL)))
        ff_strlcpy(o->key, s, sizeof o->key);
    if ((s = db_col_text(r, 1, NULL)))
        ff_strlcpy(o->object_key, s, sizeof o->object_key);
    if ((s = db_col_text(r, 2, NULL)))
        ff_strlcpy(o->content_type, s, sizeof o->content_type);
    o->bytes = db_col_i64(r, 3);
    o->created_at_ms = db_col_i64(r, 4);
}

#define RENDER_COLS "key, object_key, content_type, bytes, created_at"

enum ff_err tryon_render_get(struct db *db, const char *session_id, const char *key,
                             struct tryon_render *out)
{
    struct db_conn *c = NULL;
    struct db_rows *r = NULL;
    bool has = false;
    if (!valid_id(session_id) || !key)
        return FF_ENOTFOUND;
    enum ff_err e = db_acquire(db, &c);
    if (!e)
        e = db_query(c, "SELECT " RENDER_COLS " FROM tryon_renders WHERE session_id = $1"
                        " AND key = $2",
                     (struct db_param[]){DB_TEXT(session_id), DB_TEXT(key)}, 2, &r);
    if (!e)
        e = db_next(r, &has);
    if (!e && !has)
        e = FF_ENOTFOUND;
    if (!e)
        read_render(r, out);
    db_rows_free(r);
    db_release(c);
    return e;
}

enum ff_err tryon_renders_list(struct db *db, const char *session_id, struct tryon_render **out,
                               size_t *n)
{
    struct db_conn *c = NULL;
    struct db_rows *r = NULL;
    struct tryon_render *v = NULL;
    size_t cnt = 0, cap = 0;
    bool has = false;
    *out = NULL;
    *n = 0;
    if (!valid_id(session_id))
        return FF_OK;
    enum ff_err e = db_acquire(db, &c);
    if (!e)
        e = db_query(c, "SELECT " RENDER_COLS " FROM tryon_renders WHERE session_id = $1"
                        " ORDER BY created_at, key",
                     (struct db_param[]){DB_TEXT(session_id)}, 1, &r);
    while (!e && !(e = db_next(r, &has)) && has) {
        if (cnt == cap) {
            size_t nc = cap ? cap * 2 : 8;
            struct tryon_render *nv = ff_realloc(v, nc * sizeof *nv);
            if (!nv) {
                e = FF_ENOMEM;
                break;
            }
            v = nv;
            cap = nc;
        }
        read_render(r, &v[cnt++]);
    }
    db_rows_free(r);
    db_release(c);
    if (e) {
        ff_free(v);
        return e;
    }
    *out = cnt ? v : NULL;
    if (!cnt)
        ff_free(v);
    *n = cnt;
    return FF_OK;
}

/* Collects the object keys a query returns (column 0) into keys[]. */
static enum ff_err collect_keys(struct db_conn *c, const char *sql, const char *id,
                                char (**keys)[STORE_KEY_LEN + 1], size_t *n)
{
    struct db_rows *r = NULL;
    bool has = false;
    size_t cap = *n;
    enum ff_err e = db_query(c, sql, (struct db_param[]){DB_TEXT(id)}, 1, &r);
    while (!e && !(e = db_next(r, &has)) && has) {
        const char *k = db_col_text(r, 0, NULL);
        if (!k || !store_key_valid(k))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            void *nk = ff_realloc(*keys, cap * sizeof **keys);
            if (!nk) {
                e = FF_ENOMEM;
                break;
            }
            *keys = nk;
        }
        memcpy((*keys)[(*n)++], k, STORE_KEY_LEN + 1);
    }
    db_rows_free(r);
    return e;
}

/* Inside a locked transaction: drops the session's renders (and, when
 * with_session, the session row), then releases their objects. */
static enum ff_err drop_rows(struct tryon *t, struct db_conn *c, const char *id, bool with_session)
{
    char(*keys)[STORE_KEY_LEN + 1] = NULL;
    size_t n = 0;
    enum ff_err e = collect_keys(c, "SELECT object_key FROM tryon_renders WHERE session_id = $1",
                                 id, &keys, &n);
    if (!e && with_session)
        e = collect_keys(c, "SELECT photo_key FROM tryon_sessions WHERE id = $1", id, &keys, &n);
    if (!e)
        e = db_exec(c, "DELETE FROM tryon_renders WHERE session_id = $1",
                    (struct db_param[]){DB_TEXT(id)}, 1, NULL);
    if (!e && with_session)
        e = db_exec(c, "DELETE FROM tryon_sessions WHERE id = $1",
                    (struct db_param[]){DB_TEXT(id)}, 1, NULL);
    for (size_t i = 0; !e && i < n; i++) {
        enum ff_err re = tryon_release_object(t, c, keys[i]);
        if (re && re != FF_EIO) /* an object that will not go away is logged, not fatal */
            e = re;
    }
    ff_free(keys);
    return e;
}

enum ff_err tryon_render_put(struct tryon *t, const char *session_id, const char *key,
                             const void *data, size_t len, const char *content_type,
                             struct tryon_render *out)
{
    if (!valid_id(session_id))
        return FF_ENOTFOUND;
    if (!key || !*key || strlen(key) > TRYON_RENDER_KEY_MAX || !content_type ||
        strlen(content_type) > 63)
        return FF_EINVAL;
    char okey[STORE_KEY_LEN + 1], old[STORE_KEY_LEN + 1] = "";
    enum ff_err e = store_put(t->store, data, len, content_type, okey);
    if (e)
        return e;
    int64_t now = db_now_ms(), live = 0;
    struct db_tx tx = DB_TX_INIT;
    struct db_rows *r = NULL;
    bool has = false;
    e = db_begin(t->db, &tx);
    if (!e)
        e = tryon_lock_objects(t->db, tx.conn);
    if (!e)
        e = db_query_i64(tx.conn, "SELECT COUNT(*) FROM tryon_sessions WHERE id = $1"
                                  " AND expires_at > $2",
                         (struct db_param[]){DB_TEXT(session_id), DB_I64(now)}, 2, &live);
    if (!e && !live)
        e = FF_ENOTFOUND;
    if (!e)
        e = db_query(tx.conn, "SELECT object_key FROM tryon_renders WHERE session_id = $1"
                              " AND key = $2",
                     (struct db_param[]){DB_TEXT(session_id), DB_TEXT(key)}, 2, &r);
    if (!e && !(e = db_next(r, &has)) && has) {
        const char *k = db_col_text(r, 0, NULL);
        ff_strlcpy(old, k ? k : "", sizeof old);
    }
    db_rows_free(r);
    if (!e)
        e = db_exec(tx.conn, "DELETE FROM tryon_renders WHERE session_id = $1 AND key = $2",
                    (struct db_param[]){DB_TEXT(session_id), DB_TEXT(key)}, 2, NULL);
    if (!e)
        e = db_exec(tx.conn,
                    "INSERT INTO tryon_renders (session_id, key, object_key, content_type,"
                    " bytes, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                    (struct db_param[]){DB_TEXT(session_id), DB_TEXT(key), DB_TEXT(okey),
                                        DB_TEXT(content_type), DB_I64(len), DB_I64(now)},
                    6, NULL);
    if (!e && old[0] && strcmp(old, okey))
        (void)tryon_release_object(t, tx.conn, old);
    if (e == FF_ENOTFOUND && tx.open) { /* nobody will name the new object: drop it */
        (void)tryon_release_object(t, tx.conn, okey);
        if (db_commit(&tx)) {
        }
    }
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    if (e)
        return e;
    tryon_ensure_object(t, data, len, content_type, okey);
    if (out) {
        memset(out, 0, sizeof *out);
        ff_strlcpy(out->key, key, sizeof out->key);
        memcpy(out->object_key, okey, sizeof okey);
        ff_strlcpy(out->content_type, content_type, sizeof out->content_type);
        out->bytes = (int64_t)len;
        out->created_at_ms = now;
    }
    return FF_OK;
}

enum ff_err tryon_renders_delete(struct tryon *t, const char *session_id)
{
    if (!valid_id(session_id))
        return FF_OK;
    struct db_tx tx = DB_TX_INIT;
    enum ff_err e = db_begin(t->db, &tx);
    if (!e)
        e = tryon_lock_objects(t->db, tx.conn);
    if (!e)
        e = drop_rows(t, tx.conn, session_id, false);
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    return e;
}

/* ---- deletion and expiry --------------------------------------------------------------- */

enum ff_err tryon_session_delete(struct tryon *t, const char *session_id,
                                 const struct tryon_owner *who)
{
    if (!valid_id(session_id) || !owner_ok(who))
        return FF_ENOTFOUND;
    struct db_param p[4] = {DB_TEXT(session_id), DB_NULL, DB_I64(db_now_ms()), DB_NULL};
    int np;
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM tryon_sessions WHERE id = $1%s",
             owner_cond(who, p, &np));
    struct db_tx tx = DB_TX_INIT;
    int64_t mine = 0;
    enum ff_err e = db_begin(t->db, &tx);
    if (!e)
        e = tryon_lock_objects(t->db, tx.conn);
    if (!e)
        e = db_query_i64(tx.conn, sql, p, np, &mine);
    if (!e && !mine)
        e = FF_ENOTFOUND;
    if (!e)
        e = drop_rows(t, tx.conn, session_id, true);
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    return e;
}

enum ff_err tryon_expire_sweep(struct tryon *t, int64_t now_ms, int limit, int *deleted)
{
    char(*ids)[TRYON_ID_LEN + 1] = NULL;
    size_t n = 0;
    struct db_conn *c = NULL;
    struct db_rows *r = NULL;
    bool has = false;
    if (deleted)
        *deleted = 0;
    if (limit <= 0)
        limit = 1000;
    enum ff_err e = db_acquire(t->db, &c);
    if (!e)
        e = db_query(c, "SELECT id FROM tryon_sessions WHERE expires_at <= $1"
                        " ORDER BY expires_at LIMIT $2",
                     (struct db_param[]){DB_I64(now_ms), DB_I64(limit)}, 2, &r);
    if (!e && !(ids = ff_calloc((size_t)limit, sizeof *ids)))
        e = FF_ENOMEM;
    while (!e && !(e = db_next(r, &has)) && has && n < (size_t)limit) {
        const char *id = db_col_text(r, 0, NULL);
        if (id && valid_id(id))
            memcpy(ids[n++], id, TRYON_ID_LEN + 1);
    }
    db_rows_free(r);
    db_release(c);
    for (size_t i = 0; !e && i < n; i++) {
        struct db_tx tx = DB_TX_INIT;
        int64_t still = 0;
        e = db_begin(t->db, &tx);
        if (!e)
            e = tryon_lock_objects(t->db, tx.conn);
        if (!e) /* another sweeper may have taken it */
            e = db_query_i64(tx.conn, "SELECT COUNT(*) FROM tryon_sessions WHERE id = $1"
                                      " AND expires_at <= $2",
                             (struct db_param[]){DB_TEXT(ids[i]), DB_I64(now_ms)}, 2, &still);
        if (!e && still)
            e = drop_rows(t, tx.conn, ids[i], true);
        if (!e)
            e = db_commit(&tx);
        db_tx_release(&tx);
        if (!e && still && deleted)
            (*deleted)++;
    }
    ff_free(ids);
    if (!e && deleted && *deleted)
        ff_log(FF_LOG_INFO, "tryon", "expired %d session(s)", *deleted);
    return e;
}
