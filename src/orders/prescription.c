/* prescription.c - validation of the prescription attached to an order line.
 *
 *   {"right": {"sphere": -1.25, "cylinder": -0.50, "axis": 90, "add": 1.50},
 *    "left":  {"sphere": -1.00},
 *    "pd": 63.5}                      or  "pd_right": 31.5, "pd_left": 32.0
 *
 * Ranges (the usual ophthalmic ones): sphere -20.00..+20.00 and cylinder
 * -6.00..+6.00 in 0.25 steps; axis an integer 0..180, required with a non-zero
 * cylinder and refused without one; add +0.75..+3.50 in 0.25 steps; PD in
 * 0.5 mm steps, 50..80 mm as one binocular value or 25..40 mm per eye (both
 * eyes then). At least one eye. Unknown members are refused. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "orders/orders.h"

struct rx_ctx {
    struct orders_rx_err *errs;
    int max, n;
};

static void bad(struct rx_ctx *x, const char *field, const char *reason)
{
    if (x->n < x->max) {
        snprintf(x->errs[x->n].field, sizeof x->errs[x->n].field, "%s", field);
        snprintf(x->errs[x->n].reason, sizeof x->errs[x->n].reason, "%s", reason);
    }
    x->n++;
}

static bool on_step(double v, double step)
{
    double k = v / step;
    return fabs(k - round(k)) < 1e-6;
}

/* A number in [lo, hi] on the step grid; absent is fine unless required. */
static bool num(struct rx_ctx *x, const json_t *o, const char *prefix, const char *name,
                double lo, double hi, double step, bool required, double *out)
{
    char field[48];
    snprintf(field, sizeof field, "%s%s", prefix, name);
    const json_t *v = json_object_get(o, name);
    if (!v || json_is_null(v)) {
        if (required)
            bad(x, field, "is required");
        return false;
    }
    if (!json_is_number(v)) {
        bad(x, field, "must be a number");
        return false;
    }
    double d = json_number_value(v);
    char reason[96];
    if (!isfinite(d) || d < lo - 1e-9 || d > hi + 1e-9) {
        snprintf(reason, sizeof reason, "must be between %.2f and %.2f", lo, hi);
        bad(x, field, reason);
        return false;
    }
    if (!on_step(d, step)) {
        snprintf(reason, sizeof reason, "must be a multiple of %.2f", step);
        bad(x, field, reason);
        return false;
    }
    if (out)
        *out = d;
    return true;
}

static bool only_keys(struct rx_ctx *x, const json_t *o, const char *prefix,
                      const char *const *allowed)
{
    const char *k;
    const json_t *v;
    bool ok = true;
    json_object_foreach((json_t *)o, k, v) {
        bool known = false;
        for (const char *const *a = allowed; *a; a++)
            known |= !strcmp(*a, k);
        if (!known) {
            char field[48];
            snprintf(field, sizeof field, "%s%.40s", prefix, *k ? k : "\"\"");
            bad(x, field, "is not a known field");
            ok = false;
        }
    }
    return ok;
}

static void eye(struct rx_ctx *x, const json_t *o, const char *side)
{
    char prefix[16];
    snprintf(prefix, sizeof prefix, "%s.", side);
    if (!json_is_object(o)) {
        bad(x, side, "must be an object");
        return;
    }
    static const char *const keys[] = {"sphere", "cylinder", "axis", "add", NULL};
    only_keys(x, o, prefix, keys);
    num(x, o, prefix, "sphere", -20, 20, 0.25, true, NULL);
    double cyl = 0;
    bool has_cyl = num(x, o, prefix, "cylinder", -6, 6, 0.25, false, &cyl);
    const json_t *axis = json_object_get(o, "axis");
    char field[48];
    snprintf(field, sizeof field, "%saxis", prefix);
    if (has_cyl && cyl != 0 && (!axis || json_is_null(axis)))
        bad(x, field, "is required with a cylinder");
    else if (axis && !json_is_null(axis)) {
        if (!json_is_integer(axis) || json_integer_value(axis) < 0 ||
            json_integer_value(axis) > 180)
            bad(x, field, "must be an integer between 0 and 180");
        else if (!has_cyl || cyl == 0)
            bad(x, field, "is only given with a non-zero cylinder");
    }
    num(x, o, prefix, "add", 0.75, 3.5, 0.25, false, NULL);
}

enum ff_err orders_rx_check(const json_t *rx, struct orders_rx_err *errs, int max, int *nerrs)
{
    struct rx_ctx x = {errs, max, 0};
    if (!json_is_object(rx)) {
        bad(&x, "prescription", "must be an object");
    } else {
        static const char *const keys[] = {"right", "left", "pd", "pd_right", "pd_left", NULL};
        only_keys(&x, rx, "", keys);
        const json_t *r = json_object_get(rx, "right"), *l = json_object_get(rx, "left");
        if (!r && !l)
            bad(&x, "right", "at least one eye (right or left) is required");
        if (r)
            eye(&x, r, "right");
        if (l)
            eye(&x, l, "left");
        bool single = json_object_get(rx, "pd") != NULL;
        bool pr = json_object_get(rx, "pd_right") != NULL;
        bool pl = json_object_get(rx, "pd_left") != NULL;
        if (single && (pr || pl))
            bad(&x, "pd", "give either pd or pd_right and pd_left, not both");
        else if (single)
            num(&x, rx, "", "pd", 50, 80, 0.5, true, NULL);
        else if (pr || pl) {
            num(&x, rx, "", "pd_right", 25, 40, 0.5, true, NULL);
            num(&x, rx, "", "pd_left", 25, 40, 0.5, true, NULL);
        }
    }
    if (nerrs)
        *nerrs = x.n;
    return x.n ? FF_EINVAL : FF_OK;
}

enum ff_err orders_rx_check_text(const char *text, size_t len, struct orders_rx_err *errs,
                                 int max, int *nerrs)
{
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        if (nerrs)
            *nerrs = 0;
        return FF_ECORRUPT;
    }
    enum ff_err e = orders_rx_check(j, errs, max, nerrs);
    json_decref(j);
    return e;
}
