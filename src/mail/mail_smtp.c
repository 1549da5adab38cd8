/* mail_smtp.c - SMTP over libcurl and the .eml file transport (see mail_smtp.h). */
#include "mail/mail_smtp.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/str.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void mail_curl_init(void)
{
    pthread_once(&curl_once, curl_init_once);
}

int mail_smtp_url_ok(const char *url)
{
    if (!url)
        return 0;
    const char *host = !strncmp(url, "smtp://", 7) ? url + 7 : !strncmp(url, "smtps://", 8)
                                                                   ? url + 8 : NULL;
    if (!host || !*host || *host == '/' || *host == ':')
        return 0;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            return 0;
    return 1;
}

struct upload {
    const char *p;
    size_t left;
};

static size_t read_cb(char *dst, size_t size, size_t nmemb, void *ud)
{
    struct upload *u = ud;
    size_t n = size * nmemb < u->left ? size * nmemb : u->left;
    memcpy(dst, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

/* Keeps the server's last reply line (libcurl hands SMTP replies to the debug
 * callback as CURLINFO_HEADER_IN), so a refusal is recorded in its own words. */
static int debug_cb(CURL *c, curl_infotype type, char *data, size_t size, void *ud)
{
    (void)c;
    if (type != CURLINFO_HEADER_IN || size < 4 || !(data[0] == '4' || data[0] == '5' ||
                                                    !strncmp(data, "250", 3)))
        return 0;
    /* ud: two 256-byte lines, the last 250 reply and the last 4xx/5xx
     * reply (a QUIT's 221 after a refusal must not hide the refusal) */
    char *last = (char *)ud + (data[0] == '4' || data[0] == '5' ? 256 : 0);
    size_t n = size;
    while (n && (data[n - 1] == '\n' || data[n - 1] == '\r'))
        n--;
    if (n >= 256)
        n = 255;
    for (size_t i = 0; i < n; i++) /* printable only: it is stored and shown to staff */
        last[i] = (unsigned char)data[i] < 0x20 || (unsigned char)data[i] >= 0x7f ? ' ' : data[i];
    last[n] = 0;
    return 0;
}

enum ff_err mail_smtp_send(const struct mail_smtp_opts *o, const char *from, const char *rcpt,
                           const char *msg, size_t len, struct mail_send_result *res)
{
    memset(res, 0, sizeof *res);
    res->outcome = MAIL_TEMPFAIL;
    mail_curl_init();
    CURL *c = curl_easy_init();
    if (!c) {
        ff_errbuf(res->reply, sizeof res->reply, "cannot start libcurl");
        return FF_EUPSTREAM;
    }
    char envfrom[300], envto[300], errbuf[CURL_ERROR_SIZE] = "", last[512] = "";
    snprintf(envfrom, sizeof envfrom, "<%s>", from);
    snprintf(envto, sizeof envto, "<%s>", rcpt);
    struct curl_slist *rcpts = curl_slist_append(NULL, envto);
    struct upload up = {msg, len};
    curl_easy_setopt(c, CURLOPT_URL, o->url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, envfrom);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, debug_cb);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, last);
    curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)(o->connect_timeout_s ? o->connect_timeout_s : 10));
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)(o->timeout_s ? o->timeout_s : 60));
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    if (!strncmp(o->url, "smtp://", 7) && o->tls != MAIL_TLS_OFF)
        curl_easy_setopt(c, CURLOPT_USE_SSL,
                         (long)(o->tls == MAIL_TLS_REQUIRE ? CURLUSESSL_ALL : CURLUSESSL_TRY));
    if (o->user && o->user[0]) {
        curl_easy_setopt(c, CURLOPT_USERNAME, o->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, o->password ? o->password : "");
    }
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    res->code = (int)code;
    if (rc == CURLE_OK) {
        res->outcome = MAIL_SENT;
        ff_errbuf(res->reply, sizeof res->reply, "%s", last[0] == '2' ? last : "250 accepted");
    } else {
        /* A 5xx is the server's final word on this message. A refused login
         * (535) is a configuration problem, not the recipient's: retry. */
        res->outcome = code >= 500 && code < 600 && rc != CURLE_LOGIN_DENIED ? MAIL_PERMFAIL
                                                                            : MAIL_TEMPFAIL;
        if (code >= 400 && last[256])
            ff_errbuf(res->reply, sizeof res->reply, "%s", last + 256);
        else
            ff_errbuf(res->reply, sizeof res->reply, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    }
    curl_slist_free_all(rcpts);
    curl_easy_cleanup(c);
    return res->outcome == MAIL_SENT ? FF_OK : FF_EUPSTREAM;
}

static int mkdirs(const char *dir)
{
    char p[4096];
    if (ff_strlcpy(p, dir, sizeof p) >= sizeof p)
        return -1;
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0700) && errno != EEXIST)
                return -1;
            *s = '/';
        }
    return mkdir(p, 0700) && errno != EEXIST ? -1 : 0;
}

enum ff_err mail_file_send(const char *dir, const char *name, const char *msg, size_t len,
                           struct mail_send_result *res)
{
    memset(res, 0, sizeof *res);
    res->outcome = MAIL_TEMPFAIL;
    if (!name[0] || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789._-") != strlen(name) || name[0] == '.') {
        ff_errbuf(res->reply, sizeof res->reply, "bad file name");
        return FF_EINVAL;
    }
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s/%s.eml", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (mkdirs(dir)) {
        ff_errbuf(res->reply, sizeof res->reply, "cannot create %s: %s", dir, strerror(errno));
        return FF_EIO;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ssize_t w = fd >= 0 ? write(fd, msg, len) : -1;
    int ok = fd >= 0 && w == (ssize_t)len && fsync(fd) == 0;
    if (fd >= 0 && close(fd))
        ok = 0;
    if (!ok || rename(tmp, path)) {
        ff_errbuf(res->reply, sizeof res->reply, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return FF_EIO;
    }
    res->outcome = MAIL_SENT;
    res->code = 250;
    ff_errbuf(res->reply, sizeof res->reply, "250 written to %s.eml", name);
    return FF_OK;
}
