/* The Stripe client against the local stand-in (tests/stripe/fake_stripe.py):
 * form bodies, idempotent retries, declines, outages and timeouts. */
#include "harness.h"

#include <curl/curl.h>
#include <stdlib.h>

#include "payments/stripe.h"

static char base[256];

/* POSTs a JSON control message to the stand-in. */
static void control(const char *path, const char *json)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", base, path);
    CURL *h = curl_easy_init();
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    FILE *devnull = fopen("/dev/null", "w");
    curl_easy_setopt(h, CURLOPT_WRITEDATA, devnull);
    long st = 0;
    ASSERT_EQ(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
    ASSERT_EQ(st, 200);
    fclose(devnull);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
}

static int64_t state_count(const char *what)
{
    char url[512];
    snprintf(url, sizeof url, "%s/__control/state", base);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "{}");
    FILE *tmp = tmpfile();
    curl_easy_setopt(h, CURLOPT_WRITEDATA, tmp);
    ASSERT_EQ(curl_easy_perform(h), CURLE_OK);
    curl_easy_cleanup(h);
    rewind(tmp);
    json_error_t je;
    json_t *j = json_loadf(tmp, 0, &je);
    fclose(tmp);
    ASSERT(j);
    int64_t n = json_integer_value(json_object_get(j, what));
    json_decref(j);
    return n;
}

static struct stripe_client *client(int retries, int timeout_ms)
{
    struct stripe_client *c = NULL;
    struct stripe_client_opts o = {.base_url = base, .api_key = "sk_test_123",
                                   .api_version = "2024-06-20", .max_retries = retries,
                                   .retry_base_ms = 10, .timeout_ms = timeout_ms};
    ASSERT_EQ(stripe_client_new(&c, &o), FF_OK);
    return c;
}

static void pi_form(struct stripe_form *f, int64_t amount, const char *order)
{
    stripe_form_init(f);
    ASSERT_EQ(stripe_form_addi(f, "amount", amount), FF_OK);
    ASSERT_EQ(stripe_form_add(f, "currency", "eur"), FF_OK);
    ASSERT_EQ(stripe_form_add(f, "metadata[order_id]", order), FF_OK);
    ASSERT_EQ(stripe_form_add(f, "automatic_payment_methods[enabled]", "true"), FF_OK);
}

TEST(create_payment_intent)
{
    struct stripe_client *c = client(2, 0);
    struct stripe_form f;
    pi_form(&f, 1999, "42 & =?");
    struct stripe_resp r;
    ASSERT_EQ(stripe_request(c, "POST", "/v1/payment_intents", &f, "order-42-pi", &r), FF_OK);
    ASSERT_EQ(r.outcome, STRIPE_OK);
    ASSERT_EQ(r.status, 200);
    ASSERT(r.request_id[0]);
    ASSERT_EQ(json_integer_value(json_object_get(r.body, "amount")), 1999);
    ASSERT_STREQ(json_string_value(json_object_get(json_object_get(r.body, "metadata"), "order_id")),
                 "42 & =?");
    ASSERT(!strncmp(json_string_value(json_object_get(r.body, "client_secret")), "pi_", 3));
    char id[64];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(r.body, "id")));
    stripe_resp_release(&r);
    /* the same key and body again: the first answer, no second intent */
    int64_t before = state_count("payment_intents");
    ASSERT_EQ(stripe_request(c, "POST", "/v1/payment_intents", &f, "order-42-pi", &r), FF_OK);
    ASSERT_STREQ(json_string_value(json_object_get(r.body, "id")), id);
    ASSERT_EQ(state_count("payment_intents"), before);
    stripe_resp_release(&r);
    stripe_form_release(&f);
    /* the same key with another body: a decline, never retried */
    pi_form(&f, 2999, "42");
    ASSERT_EQ(stripe_request(c, "POST", "/v1/payment_intents", &f, "order-42-pi", &r), FF_OK);
    ASSERT_EQ(r.outcome, STRIPE_DECLINED);
    ASSERT_EQ(r.attempts, 1);
    ASSERT_STREQ(r.err_type, "idempotency_error");
    stripe_resp_release(&r);
    stripe_form_release(&f);
    /* GET it back */
    char path[128];
    snprintf(path, sizeof path, "/v1/payment_intents/%s", id);
    ASSERT_EQ(stripe_request(c, "GET", path, NULL, NULL, &r), FF_OK);
    ASSERT_EQ(r.outcome, STRIPE_OK);
    stripe_resp_release(&r);
    stripe_client_free(c);
}

TEST(invalid_request_is_declined_with_stripe_fields)
{
    struct stripe_client *c = client(2, 0);
    struct stripe_form f;
    stripe_form_init(&f);
    ASSERT_EQ(stripe_form_add(&f, "amount", "-5"), FF_OK);
    ASSERT_EQ(stripe_form_add(&f, "currency", "eur"), FF_OK);
    struct stripe_resp r;
    ASSERT_EQ(stripe_request(c, "POST", "/v1/payment_intents", &f, "bad-amount", &r), FF_OK);
    ASSERT_EQ(r.outcome, STRIPE_DECLINED);
    ASSERT_EQ(r.status, 400);
    ASSERT_EQ(r.attempts, 1);
    ASSERT_STREQ(r.err_param, "amount");
    ASSERT(strstr(r.why, "400"));
    stripe_resp_release(&r);
    stripe_form_release(&f);
    stripe_client_free(c);
}

TEST(outage_after_the_work_is_retried_without_a_double_charge)
{
    struct stripe_client *c = client(3, 0);
    int64_t before = state_count("payment_intents");
    /* Stripe creates the intent, then the answer is lost (500): the retry with
     * the same key must replay the first result, not create a second one */
    control("/__control/fail", "{\"count\": 1, \"status\": 500, \"mode\": \"after\"}");
    struct stripe_form f;
    pi_form(&f, 500, "43");
    struct stripe_resp r;
    ASSERT_EQ(stripe_request(c, "POST", "/v1/payment_intents", &f, "order-43-pi", &r), FF_OK);
    ASSERT_EQ(r.outcome, STRIPE_OK);
    ASSERT_EQ(r.attempts, 2);
    ASSERT_EQ(state_count("payment_intents"), before + 1);
    stripe_resp_release(&r);
    /* a POST without a key is never retried */
    control("/__control/fail", "{\"count\": 1, \"status\": 503, \"mode\": \"before\"}");
    ASSERT_EQ(stripe_request(c, "POST", "/v1/customers", NULL, NULL, &r), FF_OK);
    ASSERT_EQ(r.outcome, STRIPE_UNAVAILABLE);
    ASSERT_EQ(r.attempts, 1);
    stripe_resp_release(&r);
    /* Stripe-Should-Retry: false wins over a 500 */
    control("/__control/fail",
            "{\"count\": 1, \"status\": 500, \"mode\": \"before\", \"should_retry\": false}");
    ASSERT_EQ(stripe_request(c, "POST", "/v1/payment_intents", &f, "order-44-pi", &r), FF_OK);
    ASSERT_EQ(r.attempts, 1);
    ASSERT_EQ(r.outcome, STRIPE_UNAVAILABLE);
    stripe_resp_release(&r);
    /* a long outage: retries run out, the caller learns it is unavailable */
    control("/__control/fail", "{\"count\": 10, \"status\": 503, \"mode\": \"before\"}");
    ASSERT_EQ(stripe_request(c, "POST", "/v1/payment_intents", &f, "order-45-pi", &r), FF_OK);
    ASSERT_EQ(r.outcome, STRIPE_UNAVAILABLE);
    ASSERT_EQ(r.attempts, 4);
    stripe_resp_release(&r);
    control("/__control/fail", "{\"count\": 0}");
    stripe_form_release(&f);
    stripe_client_free(c);
}

TEST(timeout_and_refused_connection)
{
    struct stripe_client *c = client(0, 300);
    control("/__control/fail", "{\"count\": 1, \"mode\": \"hang\"}");
    struct stripe_resp r;
    ASSERT_EQ(stripe_request(c, "GET", "/v1/customers/cus_x", NULL, NULL, &r), FF_OK);
    ASSERT_EQ(r.outcome, STRIPE_UNAVAILABLE);
    ASSERT_EQ(r.status, 0);
    ASSERT(r.why[0]);
    stripe_resp_release(&r);
    stripe_client_free(c);
    /* nothing listens on port 1 */
    struct stripe_client_opts o = {.base_url = "http://127.0.0.1:1", .api_key = "sk_test_1",
                                   .max_retries = 1, .retry_base_ms = 1};
    ASSERT_EQ(stripe_client_new(&c, &o), FF_OK);
    ASSERT_EQ(stripe_request(c, "GET", "/v1/customers/cus_x", NULL, NULL, &r), FF_OK);
    ASSERT_EQ(r.outcome, STRIPE_UNAVAILABLE);
    ASSERT_EQ(r.attempts, 2);
    stripe_resp_release(&r);
    /* bad arguments are refused before anything is sent */
    ASSERT_EQ(stripe_request(c, "GET", "no-slash", NULL, NULL, &r), FF_EINVAL);
    ASSERT_EQ(stripe_request(c, "POST", "/v1/x", NULL, "key\r\nX-Evil: 1", &r), FF_EINVAL);
    stripe_client_free(c);
}

TEST(form_encoding)
{
    struct stripe_form f;
    stripe_form_init(&f);
    ASSERT_EQ(stripe_form_add(&f, "metadata[note]", "a b&c=d/é"), FF_OK);
    ASSERT_EQ(stripe_form_addi(&f, "items[0][quantity]", -3), FF_OK);
    ASSERT_STREQ(f.buf.data, "metadata%5Bnote%5D=a%20b%26c%3Dd%2F%C3%A9&items%5B0%5D%5Bquantity%5D=-3");
    ASSERT_EQ(stripe_form_add(&f, "", "x"), FF_EINVAL);
    ASSERT_EQ(stripe_form_add(&f, "k", NULL), FF_EINVAL);
    /* over the cap: refused, the body unchanged */
    size_t len = f.buf.len;
    char *big = calloc(1, STRIPE_FORM_MAX); /* checksrc: allow (test) */
    memset(big, 'x', STRIPE_FORM_MAX - 1);
    ASSERT_EQ(stripe_form_add(&f, "big", big), FF_ETOOBIG);
    ASSERT_EQ(f.buf.len, len);
    ASSERT_EQ(strlen(f.buf.data), len);
    free(big); /* checksrc: allow (test) */
    stripe_form_release(&f);
}

int main(void)
{
    RUN(form_encoding);
    const char *file = getenv("FF_STRIPE_URL_FILE");
    FILE *f = file ? fopen(file, "r") : NULL;
    if (!f || !fgets(base, sizeof base, f))
        TEST_SKIP("the Stripe stand-in is not running (fixture stripe)");
    fclose(f);
    base[strcspn(base, "\r\n")] = '\0';
    RUN(create_payment_intent);
    RUN(invalid_request_is_declined_with_stripe_fields);
    RUN(outage_after_the_work_is_retried_without_a_double_charge);
    RUN(timeout_and_refused_connection);
    return TEST_REPORT();
}
