/* render.h - virtual try-on drawing: frame images, compositing, resizing, encoding.
 *
 * ff_render is pure image work, like ff_vision (which it uses for struct vis_image
 * and decoding): no database, no HTTP, no I/O apart from what the caller asks.
 *
 *   struct rnd_frame_spec spec = {.shape = CAT_AVIATOR ... , .colour = "gold", ...};
 *   struct rnd_face face = {.eye_a = {410, 300}, .eye_b = {520, 296}, .mm_per_px = 0.55};
 *   struct vis_image out;
 *   rnd_render(&photo, &spec, &face, 800, &out, err, sizeof err);   // RGB8, caller-owned
 *   rnd_encode(&out, RND_JPEG, 0, &bytes, &len);                     // ff_free(bytes)
 *   vis_image_release(&out);
 *
 * Conventions
 *   - Photos are VIS_RGB8, sRGB encoded. Image coordinates are "pixel index"
 *     coordinates: pixel (i, j) has its centre at (i, j) (dlib's landmarks use these).
 *   - Frame images (struct rnd_rgba) are RGBA8 with STRAIGHT (not premultiplied) alpha,
 *     colour channels sRGB encoded, so they can be written as PNG unchanged. Frame
 *     anchors are in "raster" coordinates: pixel i covers [i, i+1), i.e. index + 0.5.
 *   - Frame geometry is in millimetres in the front view: origin halfway between the
 *     lens centres, x to the image's right, y down. Lens centres sit at (+-c, 0) with
 *     c = (lens_width + bridge) / 2 (the boxing system: lens width is the box of one
 *     lens aperture, bridge the gap between the two boxes).
 *   - All blending happens in linear light (sRGB -> linear -> blend -> sRGB through
 *     lookup tables); frames are sampled as premultiplied linear RGBA.
 *
 * Everything is deterministic: the same inputs give the same bytes (the server caches
 * renders by their inputs and RND_VERSION). */
#ifndef FF_RENDER_RENDER_H
#define FF_RENDER_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "vision/image.h"

/* Bump when any drawing, compositing or encoding change alters output bytes. */
#define RND_VERSION 2

/* Frame shapes: the same order and values as enum cat_shape in catalog/catalog.h. */
enum rnd_shape {
    RND_RECTANGLE, RND_SQUARE, RND_ROUND, RND_OVAL, RND_CAT_EYE, RND_AVIATOR,
    RND_BROWLINE, RND_GEOMETRIC, RND_WAYFARER, RND_SHAPE_COUNT
};

/* What the generator needs of a product variant. Dimensions in mm. */
struct rnd_frame_spec {
    int shape;                /* enum rnd_shape */
    const char *colour;       /* catalog colour name ("black", "tortoise", ...); unknown
                                 names get a neutral dark grey; NULL = "black" */
    double lens_width_mm;     /* 30..80 */
    double lens_height_mm;    /* 20..70 */
    double bridge_mm;         /* 8..30 */
    double temple_mm;         /* informational (not visible from the front); 0 ok */
};

/* RGBA8, straight alpha, sRGB. Pixels are owned by whoever filled it (see below). */
struct rnd_rgba {
    int w, h;
    size_t stride; /* bytes per row, >= 4 * w */
    uint8_t *data;
};

/* The colour names the generator knows (the demo catalog's), i = 0.. ; NULL past the
 * end. */
const char *rnd_colour_name(int i);
/* Shape names in enum order ("rectangle" ... "wayfarer"); NULL when out of range. */
const char *rnd_shape_name(int shape);

struct rnd_frame {
    struct rnd_rgba img;       /* owned: rnd_frame_release */
    double px_per_mm;          /* the scale it was drawn at */
    double centre[2];          /* raster position of the frame origin (bridge centre,
                                  at the height of the lens centres) */
    double lens_left[2];       /* raster centre of the lens on the image's left */
    double lens_right[2];      /* ... and on the image's right */
    double bridge_top[2];      /* raster position of the top of the bridge */
    double width_mm;           /* total front width drawn (endpiece to endpiece) */
    double height_mm;          /* total height drawn */
    double lens_sep_mm;        /* distance between the lens centres (lens + bridge) */
};

#define RND_MIN_PX_PER_MM 0.1
#define RND_MAX_PX_PER_MM 40.0

/* Checks a spec: FF_EINVAL with a sentence in err (may be NULL) when a shape or a
 * dimension is out of range. */
enum ff_err rnd_spec_check(const struct rnd_frame_spec *spec, char *err,
                           size_t errlen) FF_MUST_CHECK;

/* Draws the front view of a frame at px_per_mm (RND_MIN..MAX_PX_PER_MM): rims as
 * stroked outlines of the lens shape (thin for metal colours, thicker acetate
 * otherwise), a semi-transparent lens tint, bridge and endpieces, anti-aliased by
 * exact horizontal and 16x vertical coverage, alpha 0 outside the frame (with a 2 px
 * transparent margin). *out is caller-owned: rnd_frame_release. */
enum ff_err rnd_frame_generate(const struct rnd_frame_spec *spec, double px_per_mm,
                               struct rnd_frame *out, char *err,
                               size_t errlen) FF_MUST_CHECK;
void rnd_frame_release(struct rnd_frame *f);

/* The frame's anchors as a JSON object (ff_malloc'd text, caller frees with ff_free):
 * {"px_per_mm":..,"width_px":..,"height_px":..,"centre":[x,y],"lens_left":[x,y],
 *  "lens_right":[x,y],"bridge_top":[x,y],"width_mm":..,"height_mm":..,"lens_sep_mm":..}
 * NULL on allocation failure. */
char *rnd_frame_anchors_json(const struct rnd_frame *f);

struct rnd_face;

/* ---- custom frame images (staff uploads) ------------------------------------- */

#define RND_FRAME_PNG_MAX_W 4096
#define RND_FRAME_PNG_MAX_H 2048

/* Decodes a PNG with an alpha channel (or tRNS) into straight RGBA8 (*out->data is
 * ff_malloc'd; the caller frees it or hands it to rnd_frame_from_rgba). Errors:
 * FF_EUNSUPPORTED not a PNG / odd layout, FF_EINVAL no alpha, FF_ECORRUPT damaged or
 * truncated, FF_ETOOBIG (libpng's limits: RND_FRAME_PNG_MAX_W x _H) reported as
 * corrupt, FF_ENOMEM. err (may be NULL) gets a sentence. */
enum ff_err rnd_png_rgba_decode(const void *buf, size_t len, struct rnd_rgba *out, char *err,
                                size_t errlen) FF_MUST_CHECK;

/* A frame from an uploaded image and its lens centres (raster coordinates, level):
 * the scale is their distance over lens_sep_mm (lens width + bridge of the product),
 * the origin their midpoint. Takes the pixels of *img on success (img zeroed).
 * FF_EINVAL with a sentence for anchors outside the image, not level, too close. */
enum ff_err rnd_frame_from_rgba(struct rnd_rgba *img, const double lens_left[2],
                                const double lens_right[2], double lens_sep_mm,
                                struct rnd_frame *out, char *err, size_t errlen) FF_MUST_CHECK;

/* f resampled to px_per_mm (Catmull-Rom in premultiplied linear light, anchors
 * scaled), e.g. a large uploaded frame drawn small. *out caller-owned. */
enum ff_err rnd_frame_rescale(const struct rnd_frame *f, double px_per_mm,
                              struct rnd_frame *out) FF_MUST_CHECK;

/* The whole render with a given frame instead of a generated one: like rnd_render,
 * but f (at any scale; resampled when it is much larger than needed) is placed. */
enum ff_err rnd_render_frame(const struct vis_image *photo, const struct rnd_frame *f,
                             const struct rnd_face *face, int out_width, struct vis_image *out,
                             char *err, size_t errlen) FF_MUST_CHECK;

/* Where the face is, from the try-on analysis (tryon/tryon.h: struct tryon_geom). */
struct rnd_face {
    double eye_a[2], eye_b[2]; /* the two eye centres in photo pixels, either order */
    double yaw_deg, pitch_deg; /* vision/face.h conventions; |angle| <= 60 */
    double roll_deg;           /* informational: the eye line gives the in-plane angle */
    double mm_per_px;          /* scale at the eyes, 0.02 .. 10 */
};

/* Placement model (rnd_compose). The frame is a plane PLANE_MM in front of the eyes;
 * the head turns about an axis AXIS_MM behind the frame plane; the camera is
 * CAMERA_MM from that axis (an arm's-length selfie). A frame point (X, Y) mm becomes
 * the 3-D point R (X, Y, AXIS_MM) with R = Ry(yaw) Rx(pitch) (face.h conventions),
 * which is projected with a pinhole whose focal length makes 1 mm at the frame plane
 * of a frontal face equal 1 / mm_per_px pixels (so a frontal frame is exactly
 * width_mm / mm_per_px wide; the eyes' own scale differs by ~3 %, well inside the
 * scale estimate's error). The projection of the eyes' midpoint is pinned to the
 * midpoint of the two eye centres; then the result is rotated in the image plane by
 * the eye line's angle (roll). Effects: yaw compresses the frame horizontally by
 * ~cos(yaw), shifts it by ~PLANE_MM sin(yaw) towards the turn, and shrinks the far
 * side by perspective (a few %); pitch does the same vertically. One 3x3 projective
 * map, inverted once; each photo pixel under the frame samples the frame bilinearly. */
#define RND_PLANE_MM 12.0
#define RND_AXIS_MM 100.0
#define RND_CAMERA_MM 500.0

/* Checks a face: FF_EINVAL with a sentence for non-finite or out-of-range values or
 * eye centres closer than 4 px. */
enum ff_err rnd_face_check(const struct rnd_face *face, char *err,
                           size_t errlen) FF_MUST_CHECK;

/* The 3x3 map from frame raster coordinates (index coords: raster - 0.5) to photo
 * index coordinates, row-major, for tests and debugging. */
enum ff_err rnd_placement(const struct rnd_frame *f, const struct rnd_face *face,
                          double H[9]) FF_MUST_CHECK;

/* Composites frame f over photo (VIS_RGB8, modified in place) placed on face.
 * Pixels the frame does not touch (alpha 0) keep their exact bytes. */
enum ff_err rnd_compose(struct vis_image *photo, const struct rnd_frame *f,
                        const struct rnd_face *face) FF_MUST_CHECK;

/* Resizes an RGB8 image to dst_w x dst_h with a Catmull-Rom cubic widened by the
 * scale factor when shrinking (antialiased), in linear light. *dst is caller-owned
 * (vis_image_release). Sides 1..65535. */
enum ff_err rnd_resize(const struct vis_image *src, int dst_w, int dst_h,
                       struct vis_image *dst) FF_MUST_CHECK;

#define RND_MAX_OUT_WIDTH 4096

/* The output size rnd_render gives a photo of w x h for out_width (see there). */
void rnd_out_size(int w, int h, int out_width, int *ow, int *oh);

/* A face measured on a photo, expressed on that photo resized by k (> 0): pixel
 * centres map as (x + 0.5) k - 0.5, the scale becomes mm_per_px / k. */
void rnd_face_scale(const struct rnd_face *in, double k, struct rnd_face *out);

/* The whole try-on render: photo resized to out_width (0 or >= the photo's width:
 * the photo's own width, no upscaling; aspect kept), a frame drawn for spec at the
 * face's scale, composited. The same as rnd_resize to rnd_out_size, rnd_face_scale,
 * then rnd_render at width 0 (a caller may cache the resized photo). *out is caller-owned (vis_image_release). FF_EINVAL with
 * a sentence for a bad spec, face or width. */
enum ff_err rnd_render(const struct vis_image *photo, const struct rnd_frame_spec *spec,
                       const struct rnd_face *face, int out_width, struct vis_image *out,
                       char *err, size_t errlen) FF_MUST_CHECK;

/* ---- colour ------------------------------------------------------------------- */

/* sRGB byte -> linear [0, 1] (exact table). */
float rnd_srgb_to_linear(uint8_t v);
/* linear [0, 1] (clamped) -> nearest sRGB byte (65536-entry table; the round trip
 * byte -> linear -> byte is the identity). */
uint8_t rnd_linear_to_srgb(float v);

/* ---- encoding ------------------------------------------------------------------- */

enum rnd_format { RND_JPEG = 1, RND_PNG, RND_WEBP };

/* "jpeg"/"jpg", "png", "webp" -> format; 0 when unknown. */
enum rnd_format rnd_format_parse(const char *s);
const char *rnd_format_name(enum rnd_format f);         /* "jpeg", ... */
const char *rnd_format_mime(enum rnd_format f);         /* "image/jpeg", ... */

/* Encodes RGB8 img (JPEG and WebP: quality 1..100, 0 = 88 / 85; PNG lossless, quality
 * ignored). *out is ff_malloc'd (caller ff_frees), *len its size. */
enum ff_err rnd_encode(const struct vis_image *img, enum rnd_format fmt, int quality,
                       uint8_t **out, size_t *len) FF_MUST_CHECK;

/* Encodes RGBA (straight alpha) as PNG; *out ff_malloc'd. */
enum ff_err rnd_encode_rgba_png(const struct rnd_rgba *img, uint8_t **out,
                                size_t *len) FF_MUST_CHECK;

#endif
