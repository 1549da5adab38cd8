/* jwt.c - the signing key ring and access tokens (rhonabwy, EdDSA/Ed25519).
 *
 * Keys live in jwt_keys: the public JWK in clear, the private JWK sealed with
 * crypto_secretbox under ff_secret_derive(master, "jwt-keys", 1). Every
 * instance loads the ring, re-reads it every RELOAD_MS (and at once, at most
 * every UNKNOWN_RELOAD_MS, when a token names a kid it does not know), signs
 * with the newest key it can open, and verifies with any key not retired. */
#include <orcania.h>
#include <pthread.h>
#include <rhonabwy.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "accounts/acc_int.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/str.h"

#define RELOAD_MS 30000
#define UNKNOWN_RELOAD_MS 2000
#define MAX_TOKEN 4096
#define IAT_LEEWAY_S 60

struct ring_key {
    char kid[ACC_KID_LEN];
    jwk_t *pub;
    jwk_t *priv;  /* NULL when the sealed key cannot be opened here */
    int64_t created_at;
};

struct acc_ring {
    pthread_rwlock_t lk;
    struct ring_key *keys; /* newest first */
    size_t n;
    pthread_mutex_t reload_mu;
    int64_t loaded_ms, unknown_ms;
};

static pthread_once_t rhn_once = PTHREAD_ONCE_INIT;

static void *o_ff_malloc(size_t n) { return ff_malloc(n); }
static void *o_ff_realloc(void *p, size_t n) { return ff_realloc(p, n); }

/* rhonabwy frees jansson strings with orcania's free and the other way round:
 * both must use the same allocator. */
static void rhn_init(void)
{
    json_malloc_t jm;
    json_free_t jf;
    json_get_alloc_funcs(&jm, &jf);
    if (jm == ff_malloc)
        o_set_alloc_funcs(o_ff_malloc, o_ff_realloc, ff_free);
    r_global_init();
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void keys_free(struct ring_key *k, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        r_jwk_free(k[i].pub);
        r_jwk_free(k[i].priv);
    }
    ff_free(k);
}

void acc__ring_free(struct acc_ring *r)
{
    if (!r)
        return;
    keys_free(r->keys, r->n);
    pthread_rwlock_destroy(&r->lk);
    pthread_mutex_destroy(&r->reload_mu);
    ff_free(r);
}

/* ---- sealing ------------------------------------------------------------- */

static enum ff_err box_key(const struct acc *a, unsigned char k[crypto_secretbox_KEYBYTES])
{
    return ff_secret_derive(a->secret, "jwt-keys", 1, k, crypto_secretbox_KEYBYTES);
}

/* base64(nonce || secretbox(plain)) into *out (ff_malloc'd). */
static enum ff_err seal(const struct acc *a, const char *plain, char **out)
{
    unsigned char k[crypto_secretbox_KEYBYTES];
    size_t pl = strlen(plain);
    size_t bl = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + pl;
    unsigned char *b = ff_malloc(bl);
    size_t ol = sodium_base64_encoded_len(bl, sodium_base64_VARIANT_ORIGINAL);
    char *o = ff_malloc(ol);
    enum ff_err e = b && o ? box_key(a, k) : FF_ENOMEM;
    if (!e) {
        randombytes_buf(b, crypto_secretbox_NONCEBYTES);
        crypto_secretbox_easy(b + crypto_secretbox_NONCEBYTES, (const unsigned char *)plain, pl,
                              b, k);
        sodium_bin2base64(o, ol, b, bl, sodium_base64_VARIANT_ORIGINAL);
        *out = o;
        o = NULL;
    }
    sodium_memzero(k, sizeof k);
    ff_free(b);
    ff_free(o);
    return e;
}

/* The opened private JWK (ff_malloc'd, NUL-terminated; wipe and free), or NULL. */
static char *unseal(const struct acc *a, const char *boxed)
{
    size_t bl = strlen(boxed), n = 0;
    unsigned char *b = ff_malloc(bl + 1);
    unsigned char k[crypto_secretbox_KEYBYTES];
    char *plain = NULL;
    if (!b || sodium_base642bin(b, bl + 1, boxed, bl, NULL, &n, NULL,
                                sodium_base64_VARIANT_ORIGINAL) ||
        n < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES || box_key(a, k))
        goto out;
    size_t pl = n - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    plain = ff_malloc(pl + 1);
    if (plain && crypto_secretbox_open_easy((unsigned char *)plain, b + crypto_secretbox_NONCEBYTES,
                                            n - crypto_secretbox_NONCEBYTES, b, k)) {
        ff_free(plain);
        plain = NULL;
    }
    if (plain)
        plain[pl] = '\0';
out:
    sodium_memzero(k, sizeof k);
    ff_free(b);
    return plain;
}

/* ---- loading, creating, rotating ----------------------------------------- */

static enum ff_err load(struct acc *a, struct ring_key **out, size_t *nout)
{
    struct db_conn *c = NULL;
    struct db_rows *rows = NULL;
    struct ring_key *keys = NULL;
    size_t n = 0, cap = 0;
    enum ff_err e = db_acquire(a->db, &c);
    if (!e)
        e = db_query(c,
                     "SELECT kid, public_jwk, private_box, created_at FROM jwt_keys"
                     " WHERE retire_at IS NULL OR retire_at > $1"
                     " ORDER BY created_at DESC, kid DESC",
                     (struct db_param[]){DB_I64(db_now_ms())}, 1, &rows);
    bool has;
    while (!e && !(e = db_next(rows, &has)) && has) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            struct ring_key *k = ff_realloc(keys, cap * sizeof *k);
            if (!k) {
                e = FF_ENOMEM;
                break;
            }
            keys = k;
        }
        struct ring_key *k = &keys[n];
        memset(k, 0, sizeof *k);
        snprintf(k->kid, sizeof k->kid, "%s", db_col_text(rows, 0, NULL));
        k->created_at = db_col_i64(rows, 3);
        if (r_jwk_init(&k->pub) || r_jwk_import_from_json_str(k->pub, db_col_text(rows, 1, NULL))) {
            r_jwk_free(k->pub);
            ff_log(FF_LOG_WARN, "accounts", "jwt key %s: unreadable public key, skipped", k->kid);
            continue;
        }
        char *priv = unseal(a, db_col_text(rows, 2, NULL));
        if (priv && !r_jwk_init(&k->priv) && r_jwk_import_from_json_str(k->priv, priv)) {
            r_jwk_free(k->priv);
            k->priv = NULL;
        }
        if (!priv)
            ff_log(FF_LOG_WARN, "accounts",
                   "jwt key %s: cannot open its private key (another master key?); verify only",
                   k->kid);
        if (priv) {
            sodium_memzero(priv, strlen(priv));
            ff_free(priv);
        }
        n++;
    }
    db_rows_free(rows);
    db_release(c);
    if (e) {
        keys_free(keys, n);
        return e;
    }
    *out = keys;
    *nout = n;
    return FF_OK;
}

/* Inserts a fresh key pair; retire_prev_at > 0 retires the others then. */
static enum ff_err create_key(struct acc *a, int64_t retire_prev_at, char *kid_out, size_t len)
{
    jwk_t *priv = NULL, *pub = NULL;
    char kid[ACC_KID_LEN], *pj = NULL, *sj = NULL, *boxed = NULL;
    unsigned char rb[12];
    randombytes_buf(rb, sizeof rb);
    sodium_bin2base64(kid, sizeof kid, rb, sizeof rb, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    enum ff_err e = FF_EINTERNAL;
    if (r_jwk_init(&priv) || r_jwk_init(&pub) ||
        r_jwk_generate_key_pair(priv, pub, R_KEY_TYPE_EDDSA, 256, kid) ||
        r_jwk_set_property_str(pub, "alg", "EdDSA") || r_jwk_set_property_str(pub, "use", "sig") ||
        r_jwk_set_property_str(priv, "alg", "EdDSA"))
        goto out;
    pj = r_jwk_export_to_json_str(pub, 0);
    sj = r_jwk_export_to_json_str(priv, 0);
    if (!pj || !sj)
        goto out;
    e = seal(a, sj, &boxed);
    if (e)
        goto out;
    struct db_tx tx = DB_TX_INIT;
    int64_t now = db_now_ms();
    e = db_begin(a->db, &tx);
    if (!e && retire_prev_at)
        e = db_exec(tx.conn, "UPDATE jwt_keys SET retire_at = $1 WHERE retire_at IS NULL",
                    (struct db_param[]){DB_I64(retire_prev_at)}, 1, NULL);
    if (!e)
        e = db_exec(tx.conn,
                    "INSERT INTO jwt_keys (kid, alg, public_jwk, private_box, created_at)"
                    " VALUES ($1, 'EdDSA', $2, $3, $4)",
                    (struct db_param[]){DB_TEXT(kid), DB_TEXT(pj), DB_TEXT(boxed), DB_I64(now)},
                    4, NULL);
    if (!e)
        e = db_commit(&tx);
    db_tx_release(&tx);
    if (!e && kid_out)
        snprintf(kid_out, len, "%s", kid);
out:
    if (sj) {
        sodium_memzero(sj, strlen(sj));
        r_free(sj);
    }
    r_free(pj);
    if (boxed)
        ff_free(boxed);
    r_jwk_free(priv);
    r_jwk_free(pub);
    return e;
}

static enum ff_err reload(struct acc *a)
{
    struct ring_key *keys;
    size_t n;
    enum ff_err e = load(a, &keys, &n);
    if (e)
        return e;
    struct acc_ring *r = a->ring;
    pthread_rwlock_wrlock(&r->lk);
    struct ring_key *old = r->keys;
    size_t on = r->n;
    r->keys = keys;
    r->n = n;
    r->loaded_ms = mono_ms();
    pthread_rwlock_unlock(&r->lk);
    keys_free(old, on);
    return FF_OK;
}

static bool can_sign(struct acc_ring *r)
{
    pthread_rwlock_rdlock(&r->lk);
    bool ok = false;
    for (size_t i = 0; i < r->n && !ok; i++)
        ok = r->keys[i].priv != NULL;
    pthread_rwlock_unlock(&r->lk);
    return ok;
}

enum ff_err acc__ring_open(struct acc *a, char *why, size_t len)
{
    pthread_once(&rhn_once, rhn_init);
    struct acc_ring *r = ff_calloc(1, sizeof *r);
    if (!r)
        return FF_ENOMEM;
    pthread_rwlock_init(&r->lk, NULL);
    pthread_mutex_init(&r->reload_mu, NULL);
    a->ring = r;
    enum ff_err e = reload(a);
    if (!e && !can_sign(r)) {
        e = create_key(a, 0, NULL, 0);
        if (!e)
            e = reload(a);
    }
    if (!e && !can_sign(r))
        e = FF_EINTERNAL;
    if (e)
        snprintf(why, len, "jwt key ring: %s (%s)", ff_err_str(e), db_errmsg());
    return e;
}

enum ff_err acc__ring_rotate(struct acc *a, char *kid, size_t len)
{
    /* the old keys verify until every token they signed has expired */
    int64_t retire = db_now_ms() + (int64_t)a->access_ttl_s * 1000 + IAT_LEEWAY_S * 1000;
    enum ff_err e = create_key(a, retire, kid, len);
    if (!e)
        e = reload(a);
    return e;
}

static void maybe_reload(struct acc *a, bool unknown_kid)
{
    struct acc_ring *r = a->ring;
    int64_t now = mono_ms();
    pthread_mutex_lock(&r->reload_mu);
    bool go = now - r->loaded_ms > RELOAD_MS ||
              (unknown_kid && now - r->unknown_ms > UNKNOWN_RELOAD_MS);
    if (unknown_kid && go)
        r->unknown_ms = now;
    if (go && reload(a))
        ff_log(FF_LOG_WARN, "accounts", "jwt key ring reload failed: %s", db_errmsg());
    pthread_mutex_unlock(&r->reload_mu);
}

/* ---- tokens -------------------------------------------------------------- */

enum ff_err acc__jwt_sign(struct acc *a, int64_t uid, enum http_role role, const char *sid,
                          char **out)
{
    maybe_reload(a, false);
    jwt_t *jwt = NULL;
    char sub[24], *tok = NULL;
    snprintf(sub, sizeof sub, "%lld", (long long)uid);
    rhn_int_t now = (rhn_int_t)time(NULL);
    enum ff_err e = FF_EINTERNAL;
    struct acc_ring *r = a->ring;
    pthread_rwlock_rdlock(&r->lk);
    struct ring_key *k = NULL;
    for (size_t i = 0; i < r->n && !k; i++)
        if (r->keys[i].priv)
            k = &r->keys[i];
    if (k && !r_jwt_init(&jwt) && !r_jwt_set_sign_alg(jwt, R_JWA_ALG_EDDSA) &&
        !r_jwt_set_header_str_value(jwt, "kid", k->kid) &&
        !r_jwt_set_claims(jwt, R_JWT_CLAIM_ISS, ACC_ISSUER, R_JWT_CLAIM_AUD, ACC_AUDIENCE,
                          R_JWT_CLAIM_SUB, sub, R_JWT_CLAIM_IAT, now, R_JWT_CLAIM_EXP,
                          now + (rhn_int_t)a->access_ttl_s, R_JWT_CLAIM_STR, "role",
                          http_role_name(role), R_JWT_CLAIM_STR, "sid", sid, R_JWT_CLAIM_NOP))
        tok = r_jwt_serialize_signed(jwt, k->priv, 0);
    pthread_rwlock_unlock(&r->lk);
    if (tok) {
        *out = ff_strdup(tok);
        e = *out ? FF_OK : FF_ENOMEM;
        r_free(tok);
    }
    r_jwt_free(jwt);
    return e;
}

static bool find_and_verify(struct acc_ring *r, jwt_t *jwt, const char *kid, bool *known)
{
    bool ok = false;
    *known = false;
    pthread_rwlock_rdlock(&r->lk);
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->keys[i].kid, kid))
            continue;
        *known = true;
        ok = r_jwt_verify_signature(jwt, r->keys[i].pub, R_FLAG_IGNORE_REMOTE) == RHN_OK;
        break;
    }
    pthread_rwlock_unlock(&r->lk);
    return ok;
}

enum ff_err acc__jwt_verify(struct acc *a, const char *tok, struct acc_claims *out)
{
    size_t tl = strlen(tok), dots = 0;
    if (tl < 16 || tl > MAX_TOKEN)
        return FF_EAUTH;
    for (size_t i = 0; i < tl; i++) {
        char c = tok[i];
        dots += c == '.';
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return FF_EAUTH;
    }
    if (dots != 2)
        return FF_EAUTH;
    jwt_t *jwt = NULL;
    enum ff_err e = FF_EAUTH;
    if (r_jwt_init(&jwt) || r_jwt_parsen(jwt, tok, tl, R_FLAG_IGNORE_REMOTE))
        goto out;
    /* strict: exactly EdDSA, a kid from our ring; never "none", never HS* */
    const char *alg = r_jwt_get_header_str_value(jwt, "alg");
    const char *kid = r_jwt_get_header_str_value(jwt, "kid");
    if (r_jwt_get_sign_alg(jwt) != R_JWA_ALG_EDDSA || !alg || strcmp(alg, "EdDSA") || !kid ||
        strlen(kid) >= ACC_KID_LEN)
        goto out;
    bool known;
    bool ok = find_and_verify(a->ring, jwt, kid, &known);
    if (!known) {
        maybe_reload(a, true);
        ok = find_and_verify(a->ring, jwt, kid, &known);
    }
    if (!ok)
        goto out;
    if (r_jwt_validate_claims(jwt, R_JWT_CLAIM_ISS, ACC_ISSUER, R_JWT_CLAIM_AUD, ACC_AUDIENCE,
                              R_JWT_CLAIM_EXP, R_JWT_CLAIM_NOW, R_JWT_CLAIM_NOP) != RHN_OK)
        goto out;
    rhn_int_t iat = r_jwt_get_claim_int_value(jwt, "iat");
    rhn_int_t exp = r_jwt_get_claim_int_value(jwt, "exp");
    const char *sub = r_jwt_get_claim_str_value(jwt, "sub");
    const char *role = r_jwt_get_claim_str_value(jwt, "role");
    const char *sid = r_jwt_get_claim_str_value(jwt, "sid");
    int64_t uid;
    if (iat <= 0 || iat > (rhn_int_t)time(NULL) + IAT_LEEWAY_S || !sub || !role || !sid ||
        strlen(sid) >= ACC_SID_LEN || ff_parse_i64(ff_str_c(sub), 1, INT64_MAX, &uid) ||
        http_role_parse(role) == HTTP_ROLE_NONE)
        goto out;
    out->user_id = uid;
    out->role = http_role_parse(role);
    snprintf(out->sid, sizeof out->sid, "%s", sid);
    out->iat = iat;
    out->exp = exp;
    e = FF_OK;
out:
    r_jwt_free(jwt);
    return e;
}

json_t *acc__jwks(struct acc *a)
{
    maybe_reload(a, false);
    json_t *keys = json_array();
    struct acc_ring *r = a->ring;
    pthread_rwlock_rdlock(&r->lk);
    for (size_t i = 0; i < r->n && keys; i++) {
        json_t *k = r_jwk_export_to_json_t(r->keys[i].pub);
        if (k)
            json_array_append_new(keys, k);
    }
    pthread_rwlock_unlock(&r->lk);
    return keys ? json_pack("{s:o}", "keys", keys) : NULL;
}
