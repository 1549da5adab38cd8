/* mail_sns.c - SNS signing certificates (cache, fetch) and subscription
 * confirmation (see mail_int.h). */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/str.h"
#include "mail/mail_int.h"

#define CERT_MAX 65536

static size_t write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
    struct ff_buf *b = ud;
    return ff_buf_append(b, p, size * nmemb) ? 0 : size * nmemb;
}

/* GETs an https URL into b (at most b->max bytes); 2xx only. */
static enum ff_err https_get(const char *url, struct ff_buf *b, char *err, size_t errlen)
{
    mail_curl_init();
    CURL *c = curl_easy_init();
    if (!c)
        return FF_ENOMEM;
    char ebuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK || status / 100 != 2) {
        ff_errbuf(err, errlen, "GET %s: %s (HTTP %ld)", url, ebuf[0] ? ebuf : curl_easy_strerror(rc),
                  status);
        return FF_EUPSTREAM;
    }
    return FF_OK;
}

static void cache_path(const struct mail *m, const char *url, char *path, size_t len)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[2 * sizeof h + 1];
    crypto_hash_sha256(h, (const unsigned char *)url, strlen(url));
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(path, len, "%s/sns-certs/%s.pem", m->data_dir, hex);
}

static enum ff_err read_file(const char *path, struct ff_buf *b)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return FF_ENOTFOUND;
    char tmp[4096];
    ssize_t n;
    enum ff_err e = FF_OK;
    while (!e && (n = read(fd, tmp, sizeof tmp)) > 0)
        e = ff_buf_append(b, tmp, (size_t)n);
    close(fd);
    return e;
}

static void write_file(const struct mail *m, const char *path, const struct ff_buf *b)
{
    char dir[4200], tmp[4400];
    snprintf(dir, sizeof dir, "%s/sns-certs", m->data_dir);
    ff_errbuf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
    mkdir(m->data_dir, 0700);
    mkdir(dir, 0700);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    int ok = write(fd, b->data, b->len) == (ssize_t)b->len;
    close(fd);
    if (!ok || rename(tmp, path))
        unlink(tmp);
}

enum ff_err mail__sns_key(struct mail *m, const char *url, const struct mail_pubkey **out,
                          char *err, size_t errlen)
{
    if (!mail_sns_url_ok(url)) {
        ff_errbuf(err, errlen, "SigningCertURL must be https://sns.<region>.amazonaws.com/...pem");
        return FF_EFORBIDDEN;
    }
    pthread_mutex_lock(&m->lock);
    for (int i = 0; i < MAIL_SNS_CACHE; i++)
        if (m->sns[i].key && !strcmp(m->sns[i].url, url)) {
            *out = m->sns[i].key;
            pthread_mutex_unlock(&m->lock);
            return FF_OK;
        }
    pthread_mutex_unlock(&m->lock);

    char path[4300];
    struct ff_buf pem;
    ff_buf_init(&pem, CERT_MAX);
    cache_path(m, url, path, sizeof path);
    bool from_disk = read_file(path, &pem) == FF_OK;
    enum ff_err e = from_disk ? FF_OK : https_get(url, &pem, err, errlen);
    struct mail_pubkey *k = NULL;
    if (!e && mail_pubkey_from_cert_pem(pem.data ? pem.data : "", pem.len, &k)) {
        ff_errbuf(err, errlen, "the signing certificate is not a PEM RSA certificate");
        e = FF_EUPSTREAM;
    }
    if (!e && !from_disk)
        write_file(m, path, &pem);
    ff_buf_release(&pem);
    if (e)
        return e;
    pthread_mutex_lock(&m->lock);
    for (int i = 0; i < MAIL_SNS_CACHE; i++) /* another thread may have won */
        if (m->sns[i].key && !strcmp(m->sns[i].url, url)) {
            mail_pubkey_free(k);
            *out = m->sns[i].key;
            pthread_mutex_unlock(&m->lock);
            return FF_OK;
        }
    unsigned slot = m->sns_next++ % MAIL_SNS_CACHE;
    /* An evicted key may still be in use by a concurrent verification: keep it
     * alive by never evicting (8 distinct signing certificates per process is
     * far above what SNS rotates through); past that, verify uncached. */
    if (m->sns[slot].key) {
        pthread_mutex_unlock(&m->lock);
        *out = NULL;
        mail_pubkey_free(k);
        ff_errbuf(err, errlen, "too many distinct SNS signing certificates");
        return FF_EUPSTREAM;
    }
    snprintf(m->sns[slot].url, sizeof m->sns[slot].url, "%s", url);
    m->sns[slot].key = k;
    *out = k;
    pthread_mutex_unlock(&m->lock);
    return FF_OK;
}

enum ff_err mail__sns_confirm(const char *url, char *err, size_t errlen)
{
    if (!mail_sns_subscribe_url_ok(url)) {
        ff_errbuf(err, errlen, "SubscribeURL must be https://sns.<region>.amazonaws.com/...");
        return FF_EFORBIDDEN;
    }
    struct ff_buf b;
    ff_buf_init(&b, CERT_MAX);
    enum ff_err e = https_get(url, &b, err, errlen);
    ff_buf_release(&b);
    return e;
}
