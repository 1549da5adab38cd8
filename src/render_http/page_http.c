/* page_http.c - the try-on page: web/index.html at /, web/app.js, web/style.css and
 * web/icon.svg under /static/. No build step: the files are compiled in as they are. */
#include <string.h>

#include "http/req.h"
#include "http/router.h"
#include "render_http/render_http.h"

extern const char ff_web_index_html[], ff_web_app_js[], ff_web_style_css[], ff_web_icon_svg[];
extern const size_t ff_web_index_html_len, ff_web_app_js_len, ff_web_style_css_len,
    ff_web_icon_svg_len;

/* Only this origin: scripts, styles, images (renders) and fetches. The camera
 * preview uses video.srcObject and the chosen photo createImageBitmap, so no
 * blob: or data: URLs are needed. */
static const char page_csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "media-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

static enum ff_err page_headers(struct http_resp *resp, const char *cache)
{
    enum ff_err e = http_resp_header(resp, "Content-Security-Policy", page_csp);
    if (!e)
        e = http_resp_header(resp, "Cache-Control", cache);
    return e;
}

static enum ff_err get_index(struct http_req *req, struct http_resp *resp)
{
    (void)req;
    http_reply_static(resp, 200, "text/html; charset=utf-8", ff_web_index_html,
                      ff_web_index_html_len);
    return page_headers(resp, "no-cache"); /* revalidate: the ETag makes that a 304 */
}

static enum ff_err get_static(struct http_req *req, struct http_resp *resp)
{
    const char *name = http_param(req, "name");
    if (name && !strcmp(name, "app.js"))
        http_reply_static(resp, 200, "text/javascript; charset=utf-8", ff_web_app_js,
                          ff_web_app_js_len);
    else if (name && !strcmp(name, "style.css"))
        http_reply_static(resp, 200, "text/css; charset=utf-8", ff_web_style_css,
                          ff_web_style_css_len);
    else if (name && !strcmp(name, "icon.svg"))
        http_reply_static(resp, 200, "image/svg+xml", ff_web_icon_svg, ff_web_icon_svg_len);
    else
        return http_errf(req, FF_ENOTFOUND, "no such file");
    return page_headers(resp, "no-cache");
}

enum ff_err page_http_register(struct http_router *r)
{
    enum ff_err e = http_route_add(r, HTTP_GET, "/", get_index, NULL, HTTP_ROUTE_INLINE);
    if (!e)
        e = http_route_add(r, HTTP_GET, "/static/{name}", get_static, NULL, HTTP_ROUTE_INLINE);
    return e;
}
