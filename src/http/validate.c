/* validate.c - JSON body parsing and schema checks. */
#include "http/validate.h"

#include <math.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/str.h"
#include "http/problem.h"

static void json_decref_hook(void *p) { json_decref(p); }

void http_json_use_ff_alloc(void) { json_set_alloc_funcs(ff_malloc, ff_free); }

static bool content_type_ok(const char *ct)
{
    if (!ct)
        return false;
    struct ff_str s = ff_str_c(ct);
    const char *semi = memchr(s.ptr, ';', s.len);
    struct ff_str mt = ff_str_trim((struct ff_str){s.ptr, semi ? (size_t)(semi - s.ptr) : s.len});
    if (!ff_str_ieq_c(mt, "application/json"))
        return false;
    if (!semi)
        return true;
    struct ff_str param = ff_str_trim((struct ff_str){semi + 1, s.len - (size_t)(semi + 1 - s.ptr)});
    return ff_str_ieq_c(param, "charset=utf-8") || ff_str_ieq_c(param, "charset=\"utf-8\"");
}

enum ff_err http_json_body(struct http_req *req, const struct http_schema *s, json_t **out)
{
    *out = NULL;
    if (!content_type_ok(http_header(req, "Content-Type"))) {
        req->err = FF_EUNSUPPORTED;
        http_problem_set(req, HTTP_PK_UNSUPPORTED_MEDIA,
                         "Content-Type must be application/json");
        return FF_EUNSUPPORTED;
    }
    if (!req->body_len) {
        req->err = FF_ECORRUPT;
        http_problem_set(req, HTTP_PK_BAD_REQUEST, "a JSON body is required");
        return FF_ECORRUPT;
    }
    if (memchr(req->body, '\0', req->body_len)) {
        req->err = FF_ECORRUPT;
        http_problem_set(req, HTTP_PK_BAD_REQUEST, "the body contains a NUL byte");
        return FF_ECORRUPT;
    }
    if (!ff_utf8_valid(req->body, req->body_len)) {
        req->err = FF_ECORRUPT;
        http_problem_set(req, HTTP_PK_BAD_REQUEST, "the body is not valid UTF-8");
        return FF_ECORRUPT;
    }
    json_error_t jerr;
    json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        req->err = FF_ECORRUPT;
        http_problem_set(req, HTTP_PK_BAD_REQUEST, "malformed JSON at line %d column %d: %s",
                         jerr.line, jerr.column, jerr.text);
        return FF_ECORRUPT;
    }
    if (ff_arena_on_release(req->arena, json_decref_hook, j)) {
        json_decref(j);
        return http_errf(req, FF_ENOMEM, "out of memory");
    }
    if (s) {
        if (!json_is_object(j))
            return http_field_error(req, "(body)", "must be a JSON object");
        if (http_json_validate(req, j, s, ""))
            return FF_EINVAL;
    }
    *out = j;
    return FF_OK;
}

static const char *type_name(enum http_ftype t)
{
    switch (t) {
    case HTTP_T_STRING: return "a string";
    case HTTP_T_INT: return "an integer";
    case HTTP_T_NUMBER: return "a number";
    case HTTP_T_BOOL: return "a boolean";
    case HTTP_T_OBJECT: return "an object";
    case HTTP_T_ARRAY: return "an array";
    case HTTP_T_ANY:
    default: return "a value";
    }
}

static bool type_ok(enum http_ftype t, const json_t *v)
{
    switch (t) {
    case HTTP_T_STRING: return json_is_string(v);
    case HTTP_T_INT: return json_is_integer(v);
    case HTTP_T_NUMBER: return json_is_number(v);
    case HTTP_T_BOOL: return json_is_boolean(v);
    case HTTP_T_OBJECT: return json_is_object(v);
    case HTTP_T_ARRAY: return json_is_array(v);
    case HTTP_T_ANY:
    default: return true;
    }
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static enum ff_err check_value(struct http_req *req, const struct http_field *f,
                               enum http_ftype t, const json_t *v, const char *name);

static enum ff_err check_scalar(struct http_req *req, const struct http_field *f,
                                const json_t *v, const char *name)
{
    if (json_is_integer(v) && f->type == HTTP_T_INT && (f->min || f->max)) {
        json_int_t x = json_integer_value(v);
        if (x < f->min || x > f->max)
            return http_field_error(req, name, "must be between %lld and %lld",
                                    (long long)f->min, (long long)f->max);
    }
    if (f->type == HTTP_T_NUMBER) {
        double x = json_number_value(v);
        if (!isfinite(x))
            return http_field_error(req, name, "must be a finite number");
        if ((f->fmin || f->fmax) && (x < f->fmin || x > f->fmax))
            return http_field_error(req, name, "must be between %g and %g", f->fmin, f->fmax);
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = utf8_chars(s, json_string_length(v));
        if (f->min_len && n < f->min_len)
            return http_field_error(req, name, "must be at least %zu characters", f->min_len);
        if (f->max_len && n > f->max_len)
            return http_field_error(req, name, "must be at most %zu characters", f->max_len);
        if (f->enum_values) {
            for (const char *const *e = f->enum_values; *e; e++)
                if (!strcmp(*e, s))
                    return FF_OK;
            char list[512] = "";
            size_t o = 0;
            for (const char *const *e = f->enum_values; *e && o < sizeof list - 1; e++)
                o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", o ? ", " : "", *e);
            return http_field_error(req, name, "must be one of: %s", list);
        }
    }
    return FF_OK;
}

static enum ff_err check_value(struct http_req *req, const struct http_field *f,
                               enum http_ftype t, const json_t *v, const char *name)
{
    if (json_is_null(v)) {
        if (f->flags & HTTP_F_NULLABLE)
            return FF_OK;
        return http_field_error(req, name, "must not be null");
    }
    if (!type_ok(t, v))
        return http_field_error(req, name, "must be %s", type_name(t));
    if (t == HTTP_T_OBJECT)
        return f->object ? http_json_validate(req, v, f->object, name) : FF_OK;
    if (t == HTTP_T_ARRAY) {
        size_t n = json_array_size(v);
        if (f->min_len && n < f->min_len)
            return http_field_error(req, name, "must have at least %zu items", f->min_len);
        if (f->max_len && n > f->max_len)
            return http_field_error(req, name, "must have at most %zu items", f->max_len);
        enum ff_err e = FF_OK;
        struct http_field item = *f;
        item.type = f->items;
        item.flags = 0;
        item.min_len = item.max_len = 0;
        for (size_t i = 0; i < n; i++) {
            char *iname = ff_arena_sprintf(req->arena, "%s[%zu]", name, i);
            if (!iname)
                return http_errf(req, FF_ENOMEM, "out of memory");
            if (check_value(req, &item, f->items, json_array_get(v, i), iname))
                e = FF_EINVAL;
        }
        return e;
    }
    return check_scalar(req, f, v, name);
}

enum ff_err http_json_validate(struct http_req *req, const json_t *obj,
                               const struct http_schema *s, const char *prefix)
{
    enum ff_err e = FF_OK;
    const char *key;
    json_t *v;
    if (!json_is_object(obj))
        return http_field_error(req, *prefix ? prefix : "(body)", "must be an object");
    /* unknown fields first, in document order */
    if (!s->allow_unknown) {
        json_object_foreach((json_t *)obj, key, v) {
            size_t i = 0;
            while (i < s->nfields && strcmp(s->fields[i].name, key))
                i++;
            if (i == s->nfields) {
                const char *name = *prefix ? ff_arena_sprintf(req->arena, "%s.%s", prefix, key)
                                           : key;
                http_field_error(req, name ? name : key, "unknown field");
                e = FF_EINVAL;
            }
        }
    }
    for (size_t i = 0; i < s->nfields; i++) {
        const struct http_field *f = &s->fields[i];
        const char *name = *prefix ? ff_arena_sprintf(req->arena, "%s.%s", prefix, f->name)
                                   : f->name;
        if (!name)
            return http_errf(req, FF_ENOMEM, "out of memory");
        v = json_object_get(obj, f->name);
        if (!v) {
            if (f->flags & HTTP_F_REQUIRED) {
                http_field_error(req, name, "is required");
                e = FF_EINVAL;
            }
            continue;
        }
        if (check_value(req, f, f->type, v, name))
            e = FF_EINVAL;
    }
    return e;
}
