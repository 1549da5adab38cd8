/* test_accounts.c - accounts internals on the back end named by FF_TEST_DB:
 * the password policy and email normalisation, Argon2id with rehash, the JWT
 * key ring (sign, verify, strict algorithm, tampering, expiry, rotation,
 * another master key), session liveness, create-admin, and the append-only
 * audit log. */
#include <rhonabwy.h>

#include "../db/dbtest.h"
#include "accounts/acc_int.h"
#include "core/alloc.h"
#include "http/validate.h"

static struct db *db;
static struct ff_config *cfg;

static struct acc *mk_acc(unsigned char keybyte)
{
    unsigned char k[FF_SECRET_BYTES];
    memset(k, keybyte, sizeof k);
    struct ff_secret *s;
    if (ff_secret_from_bytes(&s, k))
        TEST_FAIL("secret");
    struct acc *a;
    char why[256];
    if (acc_new(&(struct acc_opts){.db = db, .secret = s, .cfg = cfg, .public_url = "http://x"},
                &a, why, sizeof why))
        TEST_FAIL("acc_new: %s", why);
    return a;
}

static void free_acc(struct acc *a)
{
    struct ff_secret *s = (struct ff_secret *)a->secret;
    acc_free(a);
    ff_secret_free(s);
}

TEST(password_policy)
{
    const char *weak[] = {"short", "password", "Password123!", "12345678", "qwertyuiop",
                          "aaaaaaaaaa", "abababababab", "abcdefghij", "9876543210", "P@ssw0rd",
                          "johnsmith-rocks", "letmein!!"};
    for (size_t i = 0; i < sizeof weak / sizeof weak[0]; i++) {
        const char *why = acc__pw_weak(weak[i], strlen(weak[i]), "johnsmith@example.com");
        if (!why)
            TEST_FAIL("accepted weak password %s", weak[i]);
    }
    const char *fine[] = {"correct horse battery", "Tr0ub4dor&3-xyz", "vélo rouge à Lyon",
                          "9fj$2Lq!mZ"};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        const char *why = acc__pw_weak(fine[i], strlen(fine[i]), "johnsmith@example.com");
        if (why)
            TEST_FAIL("refused %s: %s", fine[i], why);
    }
    char big[1100];
    memset(big, 'x', sizeof big);
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + (i * 7) % 26);
    ASSERT(acc__pw_weak(big, 1025, NULL) != NULL);
    ASSERT(acc__pw_weak("abc\0defghijk", 12, NULL) != NULL);
    ASSERT(acc__pw_weak("", 0, NULL) != NULL);
}

TEST(email_normalisation)
{
    char out[ACC_EMAIL_MAX + 1];
    ASSERT(!acc__email_norm("  Bob.Smith@Example.COM \t", 25, out));
    ASSERT_STREQ(out, "bob.smith@example.com");
    const char *bad[] = {"", "   ", "bob", "@x.com", "bob@", "bob@x", "bob@@x.com", "a b@x.com",
                         "bob@x..com", "bob@.x.com", "bob@x.com.", "<bob@x.com>", "bob\n@x.com",
                         ".bob@x.com", "bob.@x.com"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (!acc__email_norm(bad[i], strlen(bad[i]), out))
            TEST_FAIL("accepted %s", bad[i]);
    char longer[400];
    memset(longer, 'a', sizeof longer);
    memcpy(longer + 300, "@example.com", 13);
    ASSERT(acc__email_norm(longer, strlen(longer), out) != NULL);
    char m[64];
    acc__email_mask("bob@example.com", m, sizeof m);
    ASSERT_STREQ(m, "b***@example.com");
}

TEST(argon2id_and_rehash)
{
    struct acc *a = mk_acc(1);
    char h[crypto_pwhash_STRBYTES];
    ASSERT_EQ(acc__pw_hash(a, "correct horse", 13, h), FF_OK);
    ASSERT(!strncmp(h, "$argon2id$", 10));
    bool rehash = true;
    ASSERT(acc__pw_verify(a, h, "correct horse", 13, &rehash));
    ASSERT(!rehash);
    ASSERT(!acc__pw_verify(a, h, "correct horsf", 13, NULL));
    /* stronger parameters configured later: the old hash asks for a rehash */
    a->opslimit = 3;
    ASSERT(acc__pw_verify(a, h, "correct horse", 13, &rehash));
    ASSERT(rehash);
    free_acc(a);
}

static char *sign(struct acc *a, int64_t uid, const char *sid)
{
    char *t;
    if (acc__jwt_sign(a, uid, HTTP_ROLE_STAFF, sid, &t))
        TEST_FAIL("sign");
    return t;
}

/* Replaces the header of tok by base64url(json). */
static char *with_header(const char *tok, const char *json)
{
    char h[256];
    sodium_bin2base64(h, sizeof h, (const unsigned char *)json, strlen(json),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    const char *dot = strchr(tok, '.');
    size_t n = strlen(h) + strlen(dot) + 1;
    char *out = ff_malloc(n);
    snprintf(out, n, "%s%s", h, dot);
    return out;
}

TEST(jwt_sign_verify_strict)
{
    struct acc *a = mk_acc(2);
    char *t = sign(a, 42, "sid-1");
    struct acc_claims c;
    ASSERT_EQ(acc__jwt_verify(a, t, &c), FF_OK);
    ASSERT_EQ(c.user_id, 42);
    ASSERT_EQ(c.role, HTTP_ROLE_STAFF);
    ASSERT_STREQ(c.sid, "sid-1");
    ASSERT(c.exp - c.iat == 900);
    /* tampering: payload byte, signature byte, truncation */
    char *bad = ff_strdup(t);
    char *p2 = strchr(bad, '.') + 5;
    *p2 = *p2 == 'A' ? 'B' : 'A';
    ASSERT_EQ(acc__jwt_verify(a, bad, &c), FF_EAUTH);
    strcpy(bad, t); /* checksrc: allow (same length) */
    bad[strlen(bad) - 3] = bad[strlen(bad) - 3] == 'A' ? 'B' : 'A';
    ASSERT_EQ(acc__jwt_verify(a, bad, &c), FF_EAUTH);
    bad[strlen(bad) - 20] = '\0';
    ASSERT_EQ(acc__jwt_verify(a, bad, &c), FF_EAUTH);
    ff_free(bad);
    /* algorithm confusion: none, HS256, unknown kid, missing kid */
    const char *headers[] = {"{\"alg\":\"none\",\"typ\":\"JWT\"}",
                             "{\"alg\":\"HS256\",\"kid\":\"x\",\"typ\":\"JWT\"}",
                             "{\"alg\":\"EdDSA\",\"kid\":\"nope\",\"typ\":\"JWT\"}",
                             "{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}",
                             "{\"alg\":\"ES256\",\"kid\":\"x\"}"};
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        char *h = with_header(t, headers[i]);
        if (acc__jwt_verify(a, h, &c) != FF_EAUTH)
            TEST_FAIL("accepted header %s", headers[i]);
        ff_free(h);
    }
    /* an unsigned token ("none" with an empty signature) */
    char *n = with_header(t, "{\"alg\":\"none\"}");
    *(strrchr(n, '.') + 1) = '\0';
    ASSERT_EQ(acc__jwt_verify(a, n, &c), FF_EAUTH);
    ff_free(n);
    const char *junk[] = {"", "a.b", "a.b.c.d", "....", "eyJ.eyJ.sig", "x y.z.w"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        ASSERT_EQ(acc__jwt_verify(a, junk[i], &c), FF_EAUTH);
    ff_free(t);
    /* expired */
    a->access_ttl_s = -120;
    t = sign(a, 42, "sid-1");
    ASSERT_EQ(acc__jwt_verify(a, t, &c), FF_EAUTH);
    ff_free(t);
    free_acc(a);
}

TEST(jwt_rotation_and_other_instances)
{
    struct acc *a = mk_acc(3), *b = mk_acc(3);
    char *old = sign(a, 7, "s");
    char kid[ACC_KID_LEN];
    ASSERT_EQ(acc__ring_rotate(a, kid, sizeof kid), FF_OK);
    char *fresh = sign(a, 7, "s");
    struct acc_claims c;
    ASSERT_EQ(acc__jwt_verify(a, old, &c), FF_OK); /* old keys verify until retired */
    ASSERT_EQ(acc__jwt_verify(a, fresh, &c), FF_OK);
    ASSERT_EQ(acc__jwt_verify(b, fresh, &c), FF_OK); /* b learns the new kid on demand */
    json_t *jwks = acc__jwks(a);
    ASSERT(json_array_size(json_object_get(jwks, "keys")) >= 2);
    json_t *k0 = json_array_get(json_object_get(jwks, "keys"), 0);
    ASSERT_STREQ(json_string_value(json_object_get(k0, "kid")), kid);
    ASSERT(!json_object_get(k0, "d")); /* no private part published */
    json_decref(jwks);
    /* an instance with another master key cannot sign with the sealed keys,
     * but still verifies (public keys are in clear) */
    struct acc *other = mk_acc(9);
    ASSERT_EQ(acc__jwt_verify(other, fresh, &c), FF_OK);
    char *t2 = sign(other, 8, "s2");
    ASSERT_EQ(acc__jwt_verify(a, t2, &c), FF_OK);
    ff_free(t2);
    ff_free(old);
    ff_free(fresh);
    free_acc(other);
    free_acc(b);
    free_acc(a);
}

static int64_t count(const char *sql)
{
    struct db_conn *c;
    int64_t n = -1;
    if (db_acquire(db, &c))
        TEST_FAIL("acquire");
    if (db_query_i64(c, sql, NULL, 0, &n))
        TEST_FAIL("%s: %s", sql, db_errmsg());
    db_release(c);
    return n;
}

TEST(create_admin_sessions_and_audit)
{
    struct acc *a = mk_acc(4);
    char why[256];
    ASSERT_EQ(acc_create_admin(a, "Root@Example.com", "password", why, sizeof why), FF_EINVAL);
    ASSERT(strstr(why, "password"));
    ASSERT_EQ(acc_create_admin(a, "not-an-email", "a long good phrase", why, sizeof why),
              FF_EINVAL);
    ASSERT_EQ(acc_create_admin(a, "Root@Example.com", "a long good phrase", why, sizeof why),
              FF_OK);
    ASSERT_EQ(count("SELECT count(*) FROM users WHERE email = 'root@example.com'"
                    " AND role = 'admin'"), 1);
    /* again: promotes / resets, no duplicate */
    ASSERT_EQ(acc_create_admin(a, "root@example.com", "another good phrase", why, sizeof why),
              FF_OK);
    ASSERT_EQ(count("SELECT count(*) FROM users"), 1);
    /* a session row: live, then revoked */
    struct db_conn *c;
    ASSERT_EQ(db_acquire(db, &c), FF_OK);
    int64_t uid;
    ASSERT_EQ(db_query_i64(c, "SELECT id FROM users", NULL, 0, &uid), FF_OK);
    ASSERT_EQ(db_exec(c,
                      "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at)"
                      " VALUES ('sess', $1, 1, 1, $2)",
                      (struct db_param[]){DB_I64(uid), DB_I64(db_now_ms() + 100000)}, 2, NULL),
              FF_OK);
    enum http_role role;
    ASSERT_EQ(acc__session_live(a, "sess", uid, &role), FF_OK);
    ASSERT_EQ(role, HTTP_ROLE_ADMIN);
    ASSERT_EQ(acc__session_live(a, "sess", uid + 1, &role), FF_EAUTH);
    ASSERT_EQ(acc__revoke(c, uid, "sess", "test"), FF_OK);
    acc__scache_forget_all(a);
    ASSERT_EQ(acc__session_live(a, "sess", uid, &role), FF_EAUTH);
    /* the audit log only grows */
    ASSERT(count("SELECT count(*) FROM audit_log WHERE event IN"
                 " ('admin_created', 'admin_promoted')") == 2);
    ASSERT(db_exec(c, "UPDATE audit_log SET event = 'x'", NULL, 0, NULL) != FF_OK);
    ASSERT(db_exec(c, "DELETE FROM audit_log", NULL, 0, NULL) != FF_OK);
    ASSERT_EQ(count("SELECT count(*) FROM audit_log WHERE event = 'x'"), 0);
    ASSERT(count("SELECT count(*) FROM audit_log") >= 2);
    /* no secret in any column */
    ASSERT_EQ(count("SELECT count(*) FROM audit_log WHERE detail LIKE '%phrase%'"), 0);
    db_release(c);
    free_acc(a);
}

int main(void)
{
    http_json_use_ff_alloc();
    char *envp[] = {NULL};
    char why[256];
    if (ff_config_load(&cfg, envp, why, sizeof why)) {
        fprintf(stderr, "config: %s\n", why);
        return 1;
    }
    RUN(password_policy);
    RUN(email_normalisation);
    db = dbt_open("t_accounts", 4);
    if (db_migrate(db, NULL)) {
        fprintf(stderr, "migrate: %s\n", db_errmsg());
        return 1;
    }
    RUN(argon2id_and_rehash);
    RUN(jwt_sign_verify_strict);
    RUN(jwt_rotation_and_other_instances);
    RUN(create_admin_sessions_and_audit);
    db_close(db);
    dbt_cleanup();
    ff_config_free(cfg);
    r_global_close();
    return TEST_REPORT();
}
