/* stripe_client.c - Stripe API requests over libcurl with safe retries. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "core/alloc.h"
#include "core/str.h"
#include "payments/stripe.h"

#define STRIPE_RESP_MAX (4 << 20)
#define STRIPE_BACKOFF_MAX_MS 4000

struct stripe_client {
    char *base_url, *auth, *version;
    int connect_timeout_ms, timeout_ms, max_retries, retry_base_ms;
    CURLSH *share; /* connection cache shared by all threads */
    pthread_mutex_t lock[CURL_LOCK_DATA_LAST];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *ud)
{
    struct stripe_client *c = ud;
    pthread_mutex_lock(&c->lock[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *ud)
{
    struct stripe_client *c = ud;
    pthread_mutex_unlock(&c->lock[d]);
}

enum ff_err stripe_client_new(struct stripe_client **out, const struct stripe_client_opts *o)
{
    if (!o->base_url || strncmp(o->base_url, "http", 4) || !o->api_key)
        return FF_EINVAL;
    pthread_once(&curl_once, curl_init_once);
    struct stripe_client *c = ff_calloc(1, sizeof *c);
    if (!c)
        return FF_ENOMEM;
    size_t alen = strlen(o->api_key) + sizeof "Authorization: Bearer ";
    c->base_url = ff_strdup(o->base_url);
    c->auth = ff_malloc(alen);
    c->version = o->api_version ? ff_strdup(o->api_version) : NULL;
    c->share = curl_share_init();
    if (!c->base_url || !c->auth || (o->api_version && !c->version) || !c->share) {
        stripe_client_free(c);
        return FF_ENOMEM;
    }
    snprintf(c->auth, alen, "Authorization: Bearer %s", o->api_key);
    size_t bl = strlen(c->base_url);
    while (bl && c->base_url[bl - 1] == '/')
        c->base_url[--bl] = '\0';
    c->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 3000;
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
    c->max_retries = o->max_retries >= 0 ? o->max_retries : 2;
    c->retry_base_ms = o->retry_base_ms > 0 ? o->retry_base_ms : 250;
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&c->lock[i], NULL);
    curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    *out = c;
    return FF_OK;
}

void stripe_client_free(struct stripe_client *c)
{
    if (!c)
        return;
    if (c->share) {
        curl_share_cleanup(c->share);
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
            pthread_mutex_destroy(&c->lock[i]);
    }
    if (c->auth)
        sodium_memzero(c->auth, strlen(c->auth));
    ff_free(c->base_url);
    ff_free(c->auth);
    ff_free(c->version);
    ff_free(c);
}

void stripe_resp_release(struct stripe_resp *r)
{
    if (r->body)
        json_decref(r->body);
    r->body = NULL;
}

struct attempt {
    struct ff_buf body;
    char request_id[64];
    int should_retry; /* -1 absent, 0 false, 1 true */
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    struct attempt *a = ud;
    return ff_buf_append(&a->body, p, sz * n) ? 0 : sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    struct attempt *a = ud;
    struct ff_str line = ff_str_trim((struct ff_str){p, sz * n});
    while (line.len && (line.ptr[line.len - 1] == '\r' || line.ptr[line.len - 1] == '\n'))
        line.len--;
    const char *colon = memchr(line.ptr, ':', line.len);
    if (!colon)
        return sz * n;
    struct ff_str name = {line.ptr, (size_t)(colon - line.ptr)};
    struct ff_str val = ff_str_trim((struct ff_str){colon + 1, line.len - name.len - 1});
    if (ff_str_ieq_c(name, "Request-Id")) {
        size_t k = val.len < sizeof a->request_id - 1 ? val.len : sizeof a->request_id - 1;
        memcpy(a->request_id, val.ptr, k);
        a->request_id[k] = '\0';
    } else if (ff_str_ieq_c(name, "Stripe-Should-Retry")) {
        a->should_retry = ff_str_ieq_c(val, "true") ? 1 : ff_str_ieq_c(val, "false") ? 0 : -1;
    }
    return sz * n;
}

static void copy_field(char *dst, size_t n, json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    snprintf(dst, n, "%s", s ? s : "");
}

/* One HTTP exchange. Returns the CURLcode; fills status and a. */
static CURLcode exchange(struct stripe_client *c, const char *method, const char *url,
                         const struct stripe_form *form, const char *idem, long *status,
                         struct attempt *a)
{
    CURL *h = curl_easy_init();
    if (!h)
        return CURLE_OUT_OF_MEMORY;
    struct curl_slist *hd = NULL, *t;
    char idem_h[320], ver_h[96];
    hd = curl_slist_append(hd, c->auth);
    if (hd && c->version) {
        snprintf(ver_h, sizeof ver_h, "Stripe-Version: %s", c->version);
        hd = (t = curl_slist_append(hd, ver_h)) ? t : hd;
    }
    if (hd && idem) {
        snprintf(idem_h, sizeof idem_h, "Idempotency-Key: %s", idem);
        hd = (t = curl_slist_append(hd, idem_h)) ? t : hd;
    }
    if (hd)
        hd = (t = curl_slist_append(hd, "Accept: application/json")) ? t : hd;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_SHARE, c->share);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "framefit/" FF_VERSION);
    if (!strcmp(method, "POST")) {
        const char *body = form && form->buf.data ? form->buf.data : "";
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (strcmp(method, "GET")) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    CURLcode rc = curl_easy_perform(h);
    *status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    sodium_memzero(idem_h, sizeof idem_h);
    return rc;
}

static void backoff(const struct stripe_client *c, int attempt)
{
    long ms = (long)c->retry_base_ms << (attempt < 5 ? attempt : 5);
    if (ms > STRIPE_BACKOFF_MAX_MS)
        ms = STRIPE_BACKOFF_MAX_MS;
    ms = ms / 2 + (long)randombytes_uniform((uint32_t)(ms / 2 + 1)); /* jitter: [ms/2, ms] */
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Whether a failed attempt may be sent again (same idempotency key). */
static int retryable(CURLcode rc, long status, int should_retry)
{
    if (should_retry == 0)
        return 0;
    if (should_retry == 1)
        return 1;
    if (rc != CURLE_OK)
        return 1; /* connection refused, reset, timeout: unknown outcome */
    return status == 409 || status == 429 || status >= 500;
}

enum ff_err stripe_request(struct stripe_client *c, const char *method, const char *path,
                           const struct stripe_form *form, const char *idempotency_key,
                           struct stripe_resp *resp)
{
    memset(resp, 0, sizeof *resp);
    if (!method || !path || path[0] != '/' || strlen(path) > 512 ||
        (idempotency_key && (strlen(idempotency_key) > 255 || strpbrk(idempotency_key, "\r\n"))))
        return FF_EINVAL;
    char url[1024];
    snprintf(url, sizeof url, "%s%s", c->base_url, path);
    int safe = !strcmp(method, "GET") || idempotency_key != NULL;
    for (int i = 0;; i++) {
        struct attempt a = {.should_retry = -1};
        ff_buf_init(&a.body, STRIPE_RESP_MAX);
        long status = 0;
        CURLcode rc = exchange(c, method, url, form, idempotency_key, &status, &a);
        resp->attempts = i + 1;
        resp->status = status;
        memcpy(resp->request_id, a.request_id, sizeof a.request_id);
        stripe_resp_release(resp);
        if (rc == CURLE_OK && a.body.len)
            resp->body = json_loadb(a.body.data, a.body.len, JSON_REJECT_DUPLICATES, NULL);
        ff_buf_release(&a.body);
        if (rc == CURLE_OUT_OF_MEMORY)
            return FF_ENOMEM;
        if (rc == CURLE_OK && status >= 200 && status < 300 && json_is_object(resp->body)) {
            resp->outcome = STRIPE_OK;
            return FF_OK;
        }
        json_t *err = json_object_get(resp->body, "error");
        copy_field(resp->err_type, sizeof resp->err_type, err, "type");
        copy_field(resp->err_code, sizeof resp->err_code, err, "code");
        copy_field(resp->err_param, sizeof resp->err_param, err, "param");
        copy_field(resp->err_message, sizeof resp->err_message, err, "message");
        int again = safe && retryable(rc, status, a.should_retry);
        if (rc != CURLE_OK)
            snprintf(resp->why, sizeof resp->why, "stripe %s %.64s: %s", method, path,
                     curl_easy_strerror(rc));
        else if (status >= 200 && status < 300)
            snprintf(resp->why, sizeof resp->why, "stripe %s %.64s: answer is not a JSON object",
                     method, path);
        else
            snprintf(resp->why, sizeof resp->why, "stripe %s %.64s: HTTP %ld %.40s%s%.120s", method, path,
                     status, resp->err_type, resp->err_message[0] ? ": " : "",
                     resp->err_message);
        if (again && i < c->max_retries) {
            backoff(c, i);
            continue;
        }
        int transient = rc != CURLE_OK || status == 409 || status == 429 || status >= 500 ||
                        (status >= 200 && status < 300);
        resp->outcome = transient ? STRIPE_UNAVAILABLE : STRIPE_DECLINED;
        return FF_OK;
    }
}
