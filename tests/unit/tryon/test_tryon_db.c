/* test_tryon_db.c - sessions in the database: owners, geometry, the render
 * cache, deletion with shared objects, and the retention sweep (tryon.h),
 * on the back end named by FF_TEST_DB. */
#include "../db/dbtest.h"
#include "core/alloc.h"
#include "core/config.h"
#include "tryon/tryon.h"

static struct db *db;
static struct tryon *t;
static char objdir[256];

static const char *GEOM =
    "{\"eyes\":[[100,120],[160,118]],\"roll\":-1.5,\"yaw\":2,\"pitch\":3,"
    "\"mm_per_px\":0.5,\"face_width_mm\":140,\"landmarks\":[";

/* Inserts a session row directly with a stored photo; returns its id in id. */
static void add_session(const char *anon, const char *photo, int64_t expires_at, char *id)
{
    char key[STORE_KEY_LEN + 1];
    ASSERT_OK(store_put(tryon_store(t), photo, strlen(photo), "image/jpeg", key));
    char geom[4096];
    size_t n = (size_t)snprintf(geom, sizeof geom, "%s", GEOM);
    for (int i = 0; i < 68; i++)
        n += (size_t)snprintf(geom + n, sizeof geom - n, "%s[%d,%d]", i ? "," : "", i, i * 2);
    snprintf(geom + n, sizeof geom - n, "]}");
    static int seq;
    snprintf(id, TRYON_ID_LEN + 1, "sess%018d", ++seq);
    struct db_conn *c;
    ASSERT_OK(db_acquire(db, &c));
    enum ff_err e = db_exec(c,
        "INSERT INTO tryon_sessions (id, anon_id, photo_key, photo_type, width, height,"
        " face_shape, geom, analysis, created_at, expires_at)"
        " VALUES ($1, $2, $3, 'image/jpeg', 640, 480, 'oval', $4, '{}', $5, $6)",
        (struct db_param[]){DB_TEXT(id), DB_TEXT(anon), DB_TEXT(key), DB_TEXT(geom),
                            DB_I64(db_now_ms()), DB_I64(expires_at)},
        6, NULL);
    db_release(c);
    ASSERT_OK(e);
}

static bool object_exists(const char *key)
{
    bool there = false;
    ASSERT_OK(store_exists(tryon_store(t), key, &there));
    return there;
}

static const char *A = "anon-aaaaaaaaaaaaaaaaaaaaaa";
static const char *B = "anon-bbbbbbbbbbbbbbbbbbbbbb";

static struct tryon_owner owner(const char *anon)
{
    struct tryon_owner o = {0};
    snprintf(o.anon_id, sizeof o.anon_id, "%s", anon);
    return o;
}

TEST(geom_owner_and_expiry)
{
    char id[TRYON_ID_LEN + 1], gone[TRYON_ID_LEN + 1];
    int64_t later = db_now_ms() + 3600 * 1000;
    add_session(A, "photo one", later, id);
    add_session(A, "photo two", db_now_ms() - 1, gone);
    struct tryon_owner a = owner(A), b = owner(B);
    struct tryon_geom g;
    ASSERT_OK(tryon_session_geom(db, id, &a, &g));
    ASSERT(g.has_face);
    ASSERT_EQ(g.width, 640);
    ASSERT_EQ(g.height, 480);
    ASSERT_STREQ(g.photo_type, "image/jpeg");
    ASSERT(store_key_valid(g.photo_key));
    ASSERT(g.eye_right[0] == 100 && g.eye_left[0] == 160 && g.eye_left[1] == 118);
    ASSERT(g.roll_deg == -1.5 && g.yaw_deg == 2 && g.pitch_deg == 3 && g.mm_per_px == 0.5);
    ASSERT(g.landmarks[67][0] == 67 && g.landmarks[67][1] == 134);
    /* another owner, an expired session, a bad id, no owner: all not found */
    ASSERT_EQ(tryon_session_geom(db, id, &b, &g), FF_ENOTFOUND);
    ASSERT_EQ(tryon_session_geom(db, gone, &a, &g), FF_ENOTFOUND);
    ASSERT_EQ(tryon_session_geom(db, "../../x", &a, &g), FF_ENOTFOUND);
    struct tryon_owner none = {0};
    ASSERT_EQ(tryon_session_geom(db, id, &none, &g), FF_ENOTFOUND);
    ASSERT_EQ(tryon_session_delete(t, id, &b), FF_ENOTFOUND);
    ASSERT_EQ(tryon_session_delete(t, gone, &a), FF_ENOTFOUND);
}

TEST(renders_and_shared_objects)
{
    char s1[TRYON_ID_LEN + 1], s2[TRYON_ID_LEN + 1];
    int64_t later = db_now_ms() + 3600 * 1000;
    add_session(A, "the same photo", later, s1);
    add_session(B, "the same photo", later, s2); /* same bytes: one object */
    struct tryon_owner a = owner(A), b = owner(B);
    struct tryon_geom g1, g2;
    ASSERT_OK(tryon_session_geom(db, s1, &a, &g1));
    ASSERT_OK(tryon_session_geom(db, s2, &b, &g2));
    ASSERT_STREQ(g1.photo_key, g2.photo_key);

    struct tryon_render r, r2;
    ASSERT_EQ(tryon_render_get(db, s1, "v1", &r), FF_ENOTFOUND);
    ASSERT_OK(tryon_render_put(t, s1, "v1", "render bytes", 12, "image/jpeg", &r));
    ASSERT_OK(tryon_render_put(t, s2, "v1", "render bytes", 12, "image/jpeg", NULL));
    ASSERT_OK(tryon_render_put(t, s1, "v2", "other render", 12, "image/png", NULL));
    ASSERT_OK(tryon_render_get(db, s1, "v1", &r2));
    ASSERT_STREQ(r2.object_key, r.object_key);
    ASSERT_STREQ(r2.content_type, "image/jpeg");
    ASSERT_EQ(r2.bytes, 12);
    struct tryon_render *list;
    size_t n;
    ASSERT_OK(tryon_renders_list(db, s1, &list, &n));
    ASSERT_EQ(n, 2);
    char v2key[STORE_KEY_LEN + 1];
    snprintf(v2key, sizeof v2key, "%s", !strcmp(list[0].key, "v2") ? list[0].object_key
                                                                    : list[1].object_key);
    ff_free(list);
    /* replacing a render drops the old object when nothing else names it */
    char v2old[STORE_KEY_LEN + 1];
    snprintf(v2old, sizeof v2old, "%s", v2key);
    ASSERT_OK(tryon_render_put(t, s1, "v2", "newer render", 12, "image/png", NULL));
    ASSERT(!object_exists(v2old));
    ASSERT_EQ(tryon_render_put(t, s1, "", "x", 1, "image/png", NULL), FF_EINVAL);
    ASSERT_EQ(tryon_render_put(t, "nosuchsessionxxxxxxxxx", "k", "lonely", 6, "image/png", NULL),
              FF_ENOTFOUND);
    char lonely[STORE_KEY_LEN + 1];
    store_key_of("lonely", 6, lonely);
    ASSERT(!object_exists(lonely));

    /* deleting s1 keeps the shared photo and shared render for s2 */
    ASSERT_OK(tryon_session_delete(t, s1, &a));
    ASSERT_EQ(tryon_session_geom(db, s1, &a, &g1), FF_ENOTFOUND);
    ASSERT(object_exists(g2.photo_key));
    ASSERT(object_exists(r.object_key));
    ASSERT_OK(tryon_renders_list(db, s1, &list, &n));
    ASSERT_EQ(n, 0);
    /* renders only */
    ASSERT_OK(tryon_renders_delete(t, s2));
    ASSERT(!object_exists(r.object_key));
    ASSERT(object_exists(g2.photo_key));
    ASSERT_OK(tryon_session_delete(t, s2, &b));
    ASSERT(!object_exists(g2.photo_key));
}

TEST(expire_sweep)
{
    char live[TRYON_ID_LEN + 1], old1[TRYON_ID_LEN + 1], old2[TRYON_ID_LEN + 1];
    int64_t now = db_now_ms();
    int deleted = -1;
    ASSERT_OK(tryon_expire_sweep(t, now, 100, &deleted)); /* earlier tests' leftovers */
    add_session(A, "live photo", now + 3600 * 1000, live);
    add_session(A, "old photo 1", now - 1000, old1);
    add_session(B, "old photo 2", now - 10, old2);
    ASSERT_OK(tryon_render_put(t, live, "k", "live render", 11, "image/jpeg", NULL));
    struct db_conn *c;
    ASSERT_OK(db_acquire(db, &c));
    /* renders of an expired session: insert directly (render_put refuses) */
    char rk[STORE_KEY_LEN + 1];
    ASSERT_OK(store_put(tryon_store(t), "old render", 10, NULL, rk));
    ASSERT_OK(db_exec(c, "INSERT INTO tryon_renders (session_id, key, object_key, content_type,"
                         " bytes, created_at) VALUES ($1, 'k', $2, 'image/jpeg', 10, 0)",
                      (struct db_param[]){DB_TEXT(old1), DB_TEXT(rk)}, 2, NULL));
    db_release(c);
    char k1[STORE_KEY_LEN + 1], k2[STORE_KEY_LEN + 1], kl[STORE_KEY_LEN + 1];
    store_key_of("old photo 1", 11, k1);
    store_key_of("old photo 2", 11, k2);
    store_key_of("live photo", 10, kl);
    ASSERT_OK(tryon_expire_sweep(t, now, 1, &deleted)); /* batch of one */
    ASSERT_EQ(deleted, 1);
    ASSERT(!object_exists(k1));
    ASSERT(!object_exists(rk));
    ASSERT_OK(tryon_expire_sweep(t, now, 100, &deleted));
    ASSERT_EQ(deleted, 1);
    ASSERT(!object_exists(k2));
    ASSERT_OK(tryon_expire_sweep(t, now, 100, &deleted));
    ASSERT_EQ(deleted, 0);
    ASSERT(object_exists(kl));
    struct tryon_owner a = owner(A);
    struct tryon_geom g;
    ASSERT_OK(tryon_session_geom(db, live, &a, &g));
    /* far in the future everything expires */
    ASSERT_OK(tryon_expire_sweep(t, now + 7200 * 1000, 100, &deleted));
    ASSERT(deleted >= 1);
    ASSERT(!object_exists(kl));
}

/* Signed-in owners: a user sees the sessions of their account and those of
 * their browser's anonymous id; nobody else does. */
TEST(user_owners)
{
    char mine[TRYON_ID_LEN + 1], anon_made[TRYON_ID_LEN + 1];
    int64_t later = db_now_ms() + 3600 * 1000;
    add_session(A, "users photo", later, mine);
    add_session(B, "before sign-in", later, anon_made);
    struct db_conn *c;
    ASSERT_OK(db_acquire(db, &c));
    ASSERT_OK(db_exec(c, "UPDATE tryon_sessions SET user_id = 42, anon_id = NULL WHERE id = $1",
                      (struct db_param[]){DB_TEXT(mine)}, 1, NULL));
    db_release(c);
    struct tryon_owner u = {.user_id = 42}, other = {.user_id = 43}, ub = owner(B), a = owner(A);
    ub.user_id = 42;
    struct tryon_geom g;
    ASSERT_OK(tryon_session_geom(db, mine, &u, &g));
    ASSERT_EQ(tryon_session_geom(db, mine, &other, &g), FF_ENOTFOUND);
    ASSERT_EQ(tryon_session_geom(db, mine, &a, &g), FF_ENOTFOUND); /* the row has no anon id */
    ASSERT_EQ(tryon_session_geom(db, anon_made, &u, &g), FF_ENOTFOUND);
    ASSERT_OK(tryon_session_geom(db, anon_made, &ub, &g)); /* user 42 in browser B */
    ASSERT_OK(tryon_session_geom(db, mine, &ub, &g));
    other.user_id = 43;
    snprintf(other.anon_id, sizeof other.anon_id, "%s", A);
    ASSERT_EQ(tryon_session_geom(db, anon_made, &other, &g), FF_ENOTFOUND);
    ASSERT_EQ(tryon_session_delete(t, mine, &other), FF_ENOTFOUND);
    ASSERT_OK(tryon_session_delete(t, mine, &u));
    ASSERT_OK(tryon_session_delete(t, anon_made, &ub));
}

TEST(anon_ids)
{
    ASSERT(tryon_anon_id_valid("abcdefghijklmnopqrstuv"));
    ASSERT(!tryon_anon_id_valid("abcdefghijklmnopqrstu"));  /* 21 */
    ASSERT(!tryon_anon_id_valid("abcdefghijklmnopqrstu="));
    ASSERT(!tryon_anon_id_valid("abcdefghijklmnopqrstu v"));
    ASSERT(!tryon_anon_id_valid(NULL));
    char big[80];
    memset(big, 'a', 65);
    big[65] = '\0';
    ASSERT(!tryon_anon_id_valid(big));
    big[64] = '\0';
    ASSERT(tryon_anon_id_valid(big));
}

int main(void)
{
    db = dbt_open("t_tryon_db", 4);
    if (db_migrate(db, NULL)) {
        fprintf(stderr, "migrate: %s\n", db_errmsg());
        return 1;
    }
    snprintf(objdir, sizeof objdir, "/tmp/ff-tryon-obj-XXXXXX");
    if (!mkdtemp(objdir))
        return 1;
    char env_dir[300], env_store[320];
    snprintf(env_dir, sizeof env_dir, "FRAMEFIT_DATA_DIR=%s", objdir);
    snprintf(env_store, sizeof env_store, "FRAMEFIT_OBJECT_STORE=file://%s/objects", objdir);
    char *envp[] = {env_dir, env_store, NULL};
    struct ff_config *cfg;
    char err[256];
    if (ff_config_load(&cfg, envp, err, sizeof err) || tryon_open(cfg, db, &t, err, sizeof err)) {
        fprintf(stderr, "setup: %s\n", err);
        return 1;
    }
    RUN(anon_ids);
    RUN(geom_owner_and_expiry);
    RUN(renders_and_shared_objects);
    RUN(user_owners);
    RUN(expire_sweep);
    tryon_close(t);
    ff_config_free(cfg);
    db_close(db);
    dbt_cleanup();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", objdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", objdir);
    return TEST_REPORT();
}
