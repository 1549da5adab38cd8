/* face.c - head pose, try-on measurements and photo quality from 68 points. */
#include "vision/face.h"

#include <math.h>
#include <string.h>

static double dist(struct vis_point a, struct vis_point b) { return hypot(a.x - b.x, a.y - b.y); }

/* Generic adult face, millimetres, x to the subject's left (image right), y up,
 * z towards the camera; the nose tip is the origin. */
static const struct {
    int idx;
    double x, y, z;
} model3d[] = {
    {30, 0.0, 0.0, 0.0},        /* nose tip */
    {8, 0.0, -63.6, -12.5},     /* chin */
    {36, -43.3, 32.7, -26.0},   /* right eye, outer corner (image left) */
    {39, -14.5, 32.7, -22.0},   /* right eye, inner corner */
    {42, 14.5, 32.7, -22.0},    /* left eye, inner corner */
    {45, 43.3, 32.7, -26.0},    /* left eye, outer corner */
    {48, -28.9, -28.9, -24.1},  /* mouth, right corner */
    {54, 28.9, -28.9, -24.1},   /* mouth, left corner */
};
#define N3D (sizeof model3d / sizeof model3d[0])

static int inv3(const double a[3][3], double o[3][3])
{
    double det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
                 a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
                 a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
    if (fabs(det) < 1e-12)
        return -1;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            int i1 = (j + 1) % 3, i2 = (j + 2) % 3, j1 = (i + 1) % 3, j2 = (i + 2) % 3;
            o[i][j] = (a[i1][j1] * a[i2][j2] - a[i1][j2] * a[i2][j1]) / det;
        }
    return 0;
}

int vis_pose_from_68(const struct vis_point *pts, struct vis_pose *out)
{
    memset(out, 0, sizeof *out);
    double mx[3] = {0}, mi[2] = {0};
    for (size_t i = 0; i < N3D; i++) {
        mx[0] += model3d[i].x / N3D;
        mx[1] += model3d[i].y / N3D;
        mx[2] += model3d[i].z / N3D;
        mi[0] += pts[model3d[i].idx].x / N3D;
        mi[1] += -pts[model3d[i].idx].y / N3D; /* y up, like the model */
    }
    /* least squares M (3x2): Xc M = xc  ->  M = (Xc'Xc)^-1 Xc' xc */
    double xtx[3][3] = {{0}}, xty[3][2] = {{0}}, inv[3][3], M[3][2];
    for (size_t i = 0; i < N3D; i++) {
        double X[3] = {model3d[i].x - mx[0], model3d[i].y - mx[1], model3d[i].z - mx[2]};
        double y[2] = {pts[model3d[i].idx].x - mi[0], -pts[model3d[i].idx].y - mi[1]};
        for (int r = 0; r < 3; r++) {
            for (int c = 0; c < 3; c++)
                xtx[r][c] += X[r] * X[c];
            xty[r][0] += X[r] * y[0];
            xty[r][1] += X[r] * y[1];
        }
    }
    if (inv3(xtx, inv))
        return -1;
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 2; c++)
            M[r][c] = inv[r][0] * xty[0][c] + inv[r][1] * xty[1][c] + inv[r][2] * xty[2][c];
    double r1[3] = {M[0][0], M[1][0], M[2][0]}, r2[3] = {M[0][1], M[1][1], M[2][1]};
    double s1 = sqrt(r1[0] * r1[0] + r1[1] * r1[1] + r1[2] * r1[2]);
    double s2 = sqrt(r2[0] * r2[0] + r2[1] * r2[1] + r2[2] * r2[2]);
    if (!(s1 > 1e-9 && s2 > 1e-9))
        return -1;
    for (int k = 0; k < 3; k++) {
        r1[k] /= s1;
        r2[k] /= s2;
    }
    /* make the two rows orthonormal symmetrically */
    double d = r1[0] * r2[0] + r1[1] * r2[1] + r1[2] * r2[2];
    double a[3], b[3];
    for (int k = 0; k < 3; k++) {
        a[k] = r1[k] - 0.5 * d * r2[k];
        b[k] = r2[k] - 0.5 * d * r1[k];
    }
    double na = sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
    double nb = sqrt(b[0] * b[0] + b[1] * b[1] + b[2] * b[2]);
    for (int k = 0; k < 3; k++) {
        a[k] /= na;
        b[k] /= nb;
    }
    double c[3] = {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
    /* R rows a, b, c; R = Rz(roll) Ry(yaw) Rx(pitch) */
    double s20 = -c[0];
    s20 = s20 > 1 ? 1 : s20 < -1 ? -1 : s20;
    const double deg = 180.0 / M_PI;
    out->yaw = asin(s20) * deg;
    out->pitch = atan2(c[1], c[2]) * deg;
    out->roll = atan2(b[0], a[0]) * deg;
    /* RMS residual, relative to the eye-corner distance */
    double s = 0.5 * (s1 + s2), err = 0;
    for (size_t i = 0; i < N3D; i++) {
        double X[3] = {model3d[i].x - mx[0], model3d[i].y - mx[1], model3d[i].z - mx[2]};
        double px = s * (a[0] * X[0] + a[1] * X[1] + a[2] * X[2]) + mi[0];
        double py = s * (b[0] * X[0] + b[1] * X[1] + b[2] * X[2]) + mi[1];
        err += pow(px - pts[model3d[i].idx].x, 2) + pow(py + pts[model3d[i].idx].y, 2);
    }
    double iod = dist(pts[36], pts[45]);
    out->fit_rms = iod > 0 ? sqrt(err / N3D) / iod : 0;
    return 0;
}

static struct vis_point mean_pts(const struct vis_point *p, int from, int n)
{
    struct vis_point m = {0, 0};
    for (int i = from; i < from + n; i++) {
        m.x += p[i].x / n;
        m.y += p[i].y / n;
    }
    return m;
}

/* Eye aspect ratio (Soukupova & Cech 2016) of the eye whose corners are e, e+3. */
static double ear(const struct vis_point *p, int e)
{
    double w = dist(p[e], p[e + 3]);
    return w > 0 ? (dist(p[e + 1], p[e + 5]) + dist(p[e + 2], p[e + 4])) / (2 * w) : 0;
}

void vis_measure_from_68(const struct vis_point *p, struct vis_measure *m)
{
    memset(m, 0, sizeof *m);
    m->eye_right = mean_pts(p, 36, 6);
    m->eye_left = mean_pts(p, 42, 6);
    m->ipd_px = dist(m->eye_right, m->eye_left);
    m->face_width_temple_px = dist(p[0], p[16]);
    m->face_width_cheek_px = dist(p[1], p[15]);
    m->face_width_jaw_px = dist(p[4], p[12]);
    struct vis_point brow = {(p[19].x + p[24].x) / 2, (p[19].y + p[24].y) / 2};
    m->face_height_px = dist(brow, p[8]);
    m->nose_bridge = p[27];
    m->eye_open_right = ear(p, 36);
    m->eye_open_left = ear(p, 42);
    m->mm_per_px = m->ipd_px > 0 ? 63.0 / m->ipd_px : 0;
}

static int grey(const struct vis_image *img, long x, long y)
{
    const uint8_t *q = img->data + (size_t)y * img->stride + (size_t)x * (size_t)img->fmt;
    return img->fmt == VIS_RGB8 ? ((unsigned)q[0] + q[1] + q[2]) / 3 : q[0];
}

/* Variance of the 4-neighbour Laplacian over the box clipped to the image,
 * sampled on a grid of about 128 columns so the value does not grow with the
 * photo's resolution. Also the mean brightness. */
static void sharpness(const struct vis_image *img, struct vis_rect b, double *var, double *mean)
{
    long l = b.left, t = b.top, r = b.right, bo = b.bottom;
    l = l < 0 ? 0 : l;
    t = t < 0 ? 0 : t;
    r = r >= img->w ? img->w - 1 : r;
    bo = bo >= img->h ? img->h - 1 : bo;
    *var = 0;
    *mean = 0;
    if (r - l < 8 || bo - t < 8)
        return;
    long step = (r - l + 1) / 128;
    step = step < 1 ? 1 : step;
    double s = 0, s2 = 0, sum = 0;
    long n = 0, nb = 0;
    for (long y = t; y <= bo; y += step)
        for (long x = l; x <= r; x += step) {
            sum += grey(img, x, y);
            nb++;
            if (x - step < l || x + step > r || y - step < t || y + step > bo)
                continue;
            double v = 4.0 * grey(img, x, y) - grey(img, x - step, y) - grey(img, x + step, y) -
                       grey(img, x, y - step) - grey(img, x, y + step);
            s += v;
            s2 += v * v;
            n++;
        }
    *mean = nb ? sum / (double)nb : 0;
    if (n > 1)
        *var = s2 / (double)n - (s / (double)n) * (s / (double)n);
}

void vis_quality_judge(const struct vis_image *img, struct vis_rect box,
                       const struct vis_point *p, const struct vis_pose *pose,
                       const struct vis_measure *m, struct vis_quality *q)
{
    memset(q, 0, sizeof *q);
    sharpness(img, box, &q->sharpness, &q->brightness);
    double score = 1.0;
    if (q->sharpness < VIS_Q_MIN_SHARPNESS) {
        q->flags |= VIS_Q_BLURRY;
        score *= 0.5 * q->sharpness / VIS_Q_MIN_SHARPNESS;
    }
    if (m->ipd_px < VIS_Q_MIN_IPD) {
        q->flags |= VIS_Q_TOO_SMALL;
        score *= 0.3 + 0.4 * m->ipd_px / VIS_Q_MIN_IPD;
    }
    if (fabs(pose->yaw) > VIS_Q_MAX_YAW || fabs(pose->pitch) > VIS_Q_MAX_PITCH ||
        fabs(pose->roll) > VIS_Q_MAX_ROLL) {
        q->flags |= VIS_Q_TOO_TURNED;
        score *= 0.4;
    }
    int eyes_in = 1;
    for (int i = 36; i < 48; i++)
        if (p[i].x < 0 || p[i].y < 0 || p[i].x >= img->w || p[i].y >= img->h)
            eyes_in = 0;
    if (!eyes_in || m->ipd_px < 2 || dist(p[36], p[39]) < 1 || dist(p[42], p[45]) < 1) {
        q->flags |= VIS_Q_EYES_NOT_FOUND;
        score *= 0.1;
    } else if (m->eye_open_right < 0.15 && m->eye_open_left < 0.15) {
        q->flags |= VIS_Q_EYES_CLOSED;
        score *= 0.5;
    }
    long bw = box.right - box.left + 1, bh = box.bottom - box.top + 1;
    long out = 0;
    out += box.left < 0 ? -box.left : 0;
    out += box.right >= img->w ? box.right - img->w + 1 : 0;
    out += box.top < 0 ? -box.top : 0;
    out += box.bottom >= img->h ? box.bottom - img->h + 1 : 0;
    if (bw > 0 && bh > 0 && out * 5 > (bw < bh ? bw : bh)) {
        q->flags |= VIS_Q_CUT_OFF;
        score *= 0.5;
    }
    if (q->brightness < 40) {
        q->flags |= VIS_Q_TOO_DARK;
        score *= 0.6;
    }
    q->score = score < 0 ? 0 : score > 1 ? 1 : score;
}

static const char *const names[VIS_Q_NFLAGS] = {
    "blurry", "too_small", "too_turned", "eyes_closed", "eyes_not_found", "cut_off", "too_dark",
    "low_confidence"};
static const char *const advice[VIS_Q_NFLAGS] = {
    "The photo is blurry: hold the phone still and tap to focus on your face.",
    "Your face is too small: move closer or use a higher-resolution photo.",
    "Your head is turned or tilted: look straight into the camera.",
    "Your eyes seem closed: keep them open and look at the camera.",
    "Your eyes could not be found: remove sunglasses or hair and face the camera.",
    "Part of your face is outside the picture: centre your face in the frame.",
    "The photo is too dark: face a window or a lamp.",
    "Your face was hard to recognise: face the camera directly, in good light, with nothing "
    "covering your face.",
};

const char *vis_quality_flag_name(unsigned flag)
{
    for (int i = 0; i < VIS_Q_NFLAGS; i++)
        if (flag == 1u << i)
            return names[i];
    return "unknown";
}

const char *vis_quality_flag_advice(unsigned flag)
{
    for (int i = 0; i < VIS_Q_NFLAGS; i++)
        if (flag == 1u << i)
            return advice[i];
    return "";
}
