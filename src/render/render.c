/* render.c - placing a frame on a face and compositing it (model in render.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "render/render.h"
#include "render/render_int.h"
#include "vision/image_ops.h"

static int finite2(const double p[2])
{
    return isfinite(p[0]) && isfinite(p[1]);
}

enum ff_err rnd_face_check(const struct rnd_face *f, char *err, size_t errlen)
{
    const char *why = NULL;
    if (!f)
        why = "no face given";
    else if (!finite2(f->eye_a) || !finite2(f->eye_b))
        why = "eye centres must be finite";
    else if (hypot(f->eye_b[0] - f->eye_a[0], f->eye_b[1] - f->eye_a[1]) < 4)
        why = "eye centres must be at least 4 px apart";
    else if (!(fabs(f->yaw_deg) <= 60) || !(fabs(f->pitch_deg) <= 60))
        why = "yaw and pitch must be within +-60 degrees";
    else if (!(f->mm_per_px >= 0.02 && f->mm_per_px <= 10))
        why = "scale must be 0.02..10 mm per px";
    if (!why)
        return FF_OK;
    if (err && errlen)
        snprintf(err, errlen, "%s", why);
    return FF_EINVAL;
}

static void mat_mul(const double A[9], const double B[9], double C[9])
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            C[i * 3 + j] = A[i * 3] * B[j] + A[i * 3 + 1] * B[3 + j] + A[i * 3 + 2] * B[6 + j];
}

static int mat_inv(const double m[9], double r[9])
{
    double c0 = m[4] * m[8] - m[5] * m[7], c1 = m[5] * m[6] - m[3] * m[8],
           c2 = m[3] * m[7] - m[4] * m[6];
    double det = m[0] * c0 + m[1] * c1 + m[2] * c2;
    if (!isfinite(det) || fabs(det) < 1e-300)
        return -1;
    double id = 1 / det;
    r[0] = c0 * id;
    r[1] = (m[2] * m[7] - m[1] * m[8]) * id;
    r[2] = (m[1] * m[5] - m[2] * m[4]) * id;
    r[3] = c1 * id;
    r[4] = (m[0] * m[8] - m[2] * m[6]) * id;
    r[5] = (m[2] * m[3] - m[0] * m[5]) * id;
    r[6] = c2 * id;
    r[7] = (m[1] * m[6] - m[0] * m[7]) * id;
    r[8] = (m[0] * m[4] - m[1] * m[3]) * id;
    return 0;
}

enum ff_err rnd_placement(const struct rnd_frame *f, const struct rnd_face *face, double H[9])
{
    if (rnd_face_check(face, NULL, 0) || !f || !(f->px_per_mm > 0))
        return FF_EINVAL;
    const double *ea = face->eye_a, *eb = face->eye_b;
    if (ea[0] > eb[0]) { /* image-left eye first */
        const double *t = ea;
        ea = eb;
        eb = t;
    }
    const double deg = M_PI / 180;
    double cy = cos(face->yaw_deg * deg), sy = sin(face->yaw_deg * deg);
    double cp = cos(face->pitch_deg * deg), sp = sin(face->pitch_deg * deg);
    /* R = Ry(yaw) Rx(pitch) in y-down camera coordinates (x right, z towards the
     * camera): Rx flips the sign of its sine terms against face.h's y-up form */
    double R[9] = {cy, -sy * sp, sy * cp, 0, cp, sp, -sy, -cy * sp, cy * cp};
    const double r = RND_AXIS_MM, re = RND_AXIS_MM - RND_PLANE_MM, D = RND_CAMERA_MM;
    double fl = (D - r) / face->mm_per_px;                 /* focal length in px */
    double E[3] = {R[2] * re, R[5] * re, R[8] * re};       /* eyes' midpoint, turned */
    double ex = E[0] / (D - E[2]), ey = E[1] / (D - E[2]); /* its normalised projection */
    /* P' = R (X, Y, r); w = D - P'.z; offset = fl (P'.xy / w - (ex, ey)):
     * [nx, ny, w] = A [X, Y, 1] with X, Y in mm on the frame plane */
    double w[3] = {-R[6], -R[7], D - r * R[8]};
    double A[9] = {fl * (R[0] - ex * w[0]), fl * (R[1] - ex * w[1]), fl * (r * R[2] - ex * w[2]),
                   fl * (R[3] - ey * w[0]), fl * (R[4] - ey * w[1]), fl * (r * R[5] - ey * w[2]),
                   w[0], w[1], w[2]};
    double ang = atan2(eb[1] - ea[1], eb[0] - ea[0]);
    double mx = (ea[0] + eb[0]) / 2, my = (ea[1] + eb[1]) / 2;
    double T[9] = {cos(ang), -sin(ang), mx, sin(ang), cos(ang), my, 0, 0, 1};
    /* frame index coordinates -> mm: X = (i + 0.5 - centre_x) / ppm */
    double k = 1 / f->px_per_mm;
    double S[9] = {k, 0, (0.5 - f->centre[0]) * k, 0, k, (0.5 - f->centre[1]) * k, 0, 0, 1};
    double TA[9];
    mat_mul(T, A, TA);
    mat_mul(TA, S, H);
    return FF_OK;
}

/* Frame pixels as premultiplied linear RGBA floats (caller ff_frees). */
static float *frame_linear(const struct rnd_rgba *img)
{
    const float *lin = rnd_lin_table();
    float *p = ff_malloc(sizeof *p * 4 * (size_t)img->w * (size_t)img->h);
    if (!p)
        return NULL;
    for (int y = 0; y < img->h; y++) {
        const uint8_t *s = img->data + (size_t)y * img->stride;
        float *d = p + (size_t)y * img->w * 4;
        for (int x = 0; x < img->w; x++, s += 4, d += 4) {
            float a = s[3] / 255.0f;
            d[0] = lin[s[0]] * a;
            d[1] = lin[s[1]] * a;
            d[2] = lin[s[2]] * a;
            d[3] = a;
        }
    }
    return p;
}

/* Bilinear sample at index coordinates (fx, fy); outside the image is transparent. */
static void sample(const float *px, int w, int h, double fx, double fy, float out[4])
{
    int x0 = (int)floor(fx), y0 = (int)floor(fy);
    float tx = (float)(fx - x0), ty = (float)(fy - y0);
    float wt[4] = {(1 - tx) * (1 - ty), tx * (1 - ty), (1 - tx) * ty, tx * ty};
    out[0] = out[1] = out[2] = out[3] = 0;
    for (int k = 0; k < 4; k++) {
        int x = x0 + (k & 1), y = y0 + (k >> 1);
        if (x < 0 || y < 0 || x >= w || y >= h || wt[k] == 0)
            continue;
        const float *s = px + ((size_t)y * w + x) * 4;
        for (int c = 0; c < 4; c++)
            out[c] += s[c] * wt[k];
    }
}

/* The photo rectangle the frame can touch: its corners mapped by H, plus 2 px. */
static void footprint(const double H[9], int fw, int fh, int pw, int ph, int box[4])
{
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    const double cx[4] = {-1, fw, -1, fw}, cy[4] = {-1, -1, fh, fh};
    for (int k = 0; k < 4; k++) {
        double w = H[6] * cx[k] + H[7] * cy[k] + H[8];
        double u = (H[0] * cx[k] + H[1] * cy[k] + H[2]) / w;
        double v = (H[3] * cx[k] + H[4] * cy[k] + H[5]) / w;
        x0 = fmin(x0, u);
        x1 = fmax(x1, u);
        y0 = fmin(y0, v);
        y1 = fmax(y1, v);
    }
    box[0] = x0 - 2 < 0 ? 0 : x0 - 2 > pw ? pw : (int)(x0 - 2);
    box[1] = y0 - 2 < 0 ? 0 : y0 - 2 > ph ? ph : (int)(y0 - 2);
    box[2] = x1 + 3 > pw ? pw : x1 + 3 < 0 ? 0 : (int)(x1 + 3);
    box[3] = y1 + 3 > ph ? ph : y1 + 3 < 0 ? 0 : (int)(y1 + 3);
}

enum ff_err rnd_compose(struct vis_image *photo, const struct rnd_frame *f,
                        const struct rnd_face *face)
{
    if (!photo || !photo->data || photo->fmt != VIS_RGB8 || !f || !f->img.data)
        return FF_EINVAL;
    double H[9], Hi[9];
    enum ff_err e = rnd_placement(f, face, H);
    if (e)
        return e;
    if (mat_inv(H, Hi))
        return FF_EINVAL;
    float *fp = frame_linear(&f->img);
    if (!fp)
        return FF_ENOMEM;
    const float *lin = rnd_lin_table();
    const uint8_t *enc = rnd_srgb_table();
    int box[4], fw = f->img.w, fh = f->img.h;
    footprint(H, fw, fh, photo->w, photo->h, box);
    for (int v = box[1]; v < box[3]; v++) {
        uint8_t *row = photo->data + (size_t)v * photo->stride;
        for (int u = box[0]; u < box[2]; u++) {
            double w = Hi[6] * u + Hi[7] * v + Hi[8];
            if (!(w > 0 || w < 0))
                continue;
            double fx = (Hi[0] * u + Hi[1] * v + Hi[2]) / w;
            double fy = (Hi[3] * u + Hi[4] * v + Hi[5]) / w;
            if (!(fx > -1 && fy > -1 && fx < fw && fy < fh))
                continue;
            float s[4];
            sample(fp, fw, fh, fx, fy, s);
            if (s[3] <= 1e-6f)
                continue;
            uint8_t *p = row + (size_t)u * 3;
            float k = 1 - s[3];
            for (int c = 0; c < 3; c++)
                p[c] = enc[rnd_lin_index(s[c] + lin[p[c]] * k)];
        }
    }
    ff_free(fp);
    return FF_OK;
}

void rnd_out_size(int w, int h, int out_width, int *ow, int *oh)
{
    *ow = out_width <= 0 || out_width >= w ? w : out_width;
    *oh = (int)((double)h * *ow / w + 0.5);
    if (*oh < 1)
        *oh = 1;
}

void rnd_face_scale(const struct rnd_face *in, double k, struct rnd_face *out)
{
    *out = *in;
    for (int i = 0; i < 2; i++) {
        out->eye_a[i] = (in->eye_a[i] + 0.5) * k - 0.5;
        out->eye_b[i] = (in->eye_b[i] + 0.5) * k - 0.5;
    }
    out->mm_per_px = in->mm_per_px / k;
}

/* rnd_render and rnd_render_frame: exactly one of spec and given is set. */
static enum ff_err render_any(const struct vis_image *photo, const struct rnd_frame_spec *spec,
                              const struct rnd_frame *given, const struct rnd_face *face,
                              int out_width, struct vis_image *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!photo || !photo->data || photo->fmt != VIS_RGB8 || photo->w < 1 || photo->h < 1) {
        if (err && errlen)
            snprintf(err, errlen, "the photo must be an RGB image");
        return FF_EINVAL;
    }
    if (out_width < 0 || out_width > RND_MAX_OUT_WIDTH) {
        if (err && errlen)
            snprintf(err, errlen, "width must be 1..%d", RND_MAX_OUT_WIDTH);
        return FF_EINVAL;
    }
    enum ff_err e = FF_OK;
    if (spec)
        e = rnd_spec_check(spec, err, errlen);
    else if (!given || !given->img.data || !(given->px_per_mm > 0))
        e = FF_EINVAL;
    if (!e)
        e = rnd_face_check(face, err, errlen);
    if (e)
        return e;
    int w, h;
    rnd_out_size(photo->w, photo->h, out_width, &w, &h);
    struct rnd_face f;
    rnd_face_scale(face, (double)w / photo->w, &f); /* uniform: the aspect is kept */
    double ppm = 1 / f.mm_per_px;
    /* a frame many times the photo's size is a measurement gone wrong (and work for
     * nothing): refuse it */
    double width_mm = spec ? 2 * spec->lens_width_mm + spec->bridge_mm + 20 : given->width_mm;
    if (ppm < RND_MIN_PX_PER_MM || ppm > RND_MAX_PX_PER_MM ||
        width_mm * ppm > 3.0 * (w > h ? w : h)) {
        if (err && errlen)
            snprintf(err, errlen, "the face is too small or too large at this width");
        return FF_EINVAL;
    }
    if (w == photo->w) {
        e = vis_image_alloc(out, w, photo->h, VIS_RGB8);
        for (int y = 0; !e && y < photo->h; y++)
            memcpy(out->data + (size_t)y * out->stride, photo->data + (size_t)y * photo->stride,
                   (size_t)w * 3);
    } else {
        e = rnd_resize(photo, w, h, out);
    }
    struct rnd_frame fr = {0};
    const struct rnd_frame *use = given;
    if (!e && spec) {
        e = rnd_frame_generate(spec, ppm, &fr, err, errlen);
        use = &fr;
    } else if (!e && given->px_per_mm > 1.5 * ppm) {
        e = rnd_frame_rescale(given, ppm, &fr); /* bilinear alone would alias */
        use = &fr;
    }
    if (!e)
        e = rnd_compose(out, use, &f);
    rnd_frame_release(&fr);
    if (e) {
        vis_image_release(out);
        if (err && errlen && e == FF_ENOMEM)
            snprintf(err, errlen, "out of memory rendering");
    }
    return e;
}

enum ff_err rnd_render(const struct vis_image *photo, const struct rnd_frame_spec *spec,
                       const struct rnd_face *face, int out_width, struct vis_image *out,
                       char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!spec) {
        if (err && errlen)
            snprintf(err, errlen, "no frame given");
        return FF_EINVAL;
    }
    return render_any(photo, spec, NULL, face, out_width, out, err, errlen);
}

enum ff_err rnd_render_frame(const struct vis_image *photo, const struct rnd_frame *f,
                             const struct rnd_face *face, int out_width, struct vis_image *out,
                             char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!f) {
        if (err && errlen)
            snprintf(err, errlen, "no frame given");
        return FF_EINVAL;
    }
    return render_any(photo, NULL, f, face, out_width, out, err, errlen);
}
