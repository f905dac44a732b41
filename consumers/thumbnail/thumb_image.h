/* SPDX-License-Identifier: MIT */
/*
 * thumb_image: bytes of an image in, thumbnails out. JPEGs are decoded
 * with TurboJPEG at the smallest DCT scale (1/8, 1/4, 1/2 or 1) that still
 * covers the largest thumbnail, their EXIF orientation applied and CMYK
 * converted to RGB; PNG, GIF (first frame), BMP, TGA and the other formats
 * stb_image knows go through stb_image. Resizing is stb_image_resize in
 * linear light with a Catmull-Rom filter; encoding is TurboJPEG, or PNG
 * (stb_image_write) for sources with alpha. Pure: no I/O, no globals, any
 * thread. Hostile input gives an error, never a crash, and the declared
 * pixel count is checked against the limit before any pixel is decoded, so
 * memory per image is bounded by the pixel limit.
 */
#ifndef BB_CONSUMERS_THUMBNAIL_THUMB_IMAGE_H
#define BB_CONSUMERS_THUMBNAIL_THUMB_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define THUMB_IMAGE_MAX_SIZES 8                    /* thumbnails made from one source */
#define THUMB_IMAGE_MAX_BOX 8192                   /* largest thumbnail side */
#define THUMB_IMAGE_DEFAULT_MAX_PIXELS 50000000ULL /* 50 megapixels declared */
#define THUMB_IMAGE_DEFAULT_MAX_BYTES (64 * 1024 * 1024)
#define THUMB_IMAGE_DEFAULT_QUALITY 80
#define THUMB_IMAGE_ERROR_MAX 160

enum thumb_image_format {
    THUMB_IMAGE_UNKNOWN = 0,
    THUMB_IMAGE_JPEG,
    THUMB_IMAGE_PNG,
    THUMB_IMAGE_GIF,
    THUMB_IMAGE_BMP,
    THUMB_IMAGE_TGA,
    THUMB_IMAGE_OTHER, /* PSD, HDR, PNM, PIC: whatever stb_image decodes */
};

/* What the thumbnails are written as. */
enum thumb_image_output {
    THUMB_IMAGE_OUT_AUTO = 0, /* PNG when the source has transparent pixels, else JPEG */
    THUMB_IMAGE_OUT_JPEG,     /* alpha flattened on white */
    THUMB_IMAGE_OUT_PNG,
};

/* A bounding box: a thumbnail fits inside it, aspect ratio kept, never upscaled. */
struct thumb_image_box {
    int w;
    int h;
};

struct thumb_image_opts {
    const struct thumb_image_box *boxes; /* 1..THUMB_IMAGE_MAX_SIZES, each side 1..MAX_BOX */
    int nboxes;
    uint64_t max_pixels; /* declared width * height above this: BB_ETOOBIG */
    size_t max_bytes;    /* input larger than this: BB_ETOOBIG */
    int quality;         /* JPEG quality 1..100 */
    enum thumb_image_output output;
};

/* One encoded thumbnail; @data is owned by the result. */
struct thumb_image_out {
    unsigned char *data;
    size_t len;
    int w;
    int h;
    enum thumb_image_format format; /* THUMB_IMAGE_JPEG or THUMB_IMAGE_PNG */
};

struct thumb_image_result {
    enum thumb_image_format src_format;
    int src_w; /* as displayed: EXIF orientation applied */
    int src_h;
    int orientation; /* EXIF orientation 1..8 (1 when there is none) */
    int has_alpha;   /* the source has at least one pixel that is not opaque */
    int scale_denom; /* JPEG decoded at 1/scale_denom (1 for other formats) */
    int n;           /* thumbnails in out[], one per box, in box order */
    struct thumb_image_out out[THUMB_IMAGE_MAX_SIZES];
    char error[THUMB_IMAGE_ERROR_MAX]; /* why it failed, for people */
};

/**
 * Makes one thumbnail per box of @o from the image in @data (@len bytes,
 * borrowed). Returns 0 with @r filled (free with
 * thumb_image_result_cleanup), or, with r->error saying why:
 *   BB_EINVAL   not an image in a format we decode (or bad @o)
 *   BB_ECORRUPT an image, but damaged or truncated
 *   BB_ETOOBIG  over o->max_bytes or o->max_pixels
 *   -ENOMEM     the resizer could not get memory
 * All of them but -ENOMEM are permanent: retrying the same bytes cannot
 * succeed. On failure @r holds nothing to free.
 */
int thumb_image_make(const void *data, size_t len, const struct thumb_image_opts *o,
                     struct thumb_image_result *r);
/** Frees the thumbnails in @r and zeroes it. NULL-safe, idempotent. */
void thumb_image_result_cleanup(struct thumb_image_result *r);

/**
 * Decodes the image in @data at full size, EXIF orientation applied, for
 * tests and tools: *px (free()) gets *w x *h pixels of *ch (3: RGB, 4:
 * RGBA) bytes, rows packed. Limits and errors as thumb_image_make (the
 * boxes of @o are not used); @why (may be NULL) gets the reason.
 */
int thumb_image_decode(const void *data, size_t len, const struct thumb_image_opts *o,
                       unsigned char **px, int *w, int *h, int *ch,
                       char why[THUMB_IMAGE_ERROR_MAX]);

/** Sets defaults in @o: one 256x256 box (@box is the storage for it). */
void thumb_image_opts_init(struct thumb_image_opts *o, struct thumb_image_box *box);

/**
 * The size of a @w x @h image fitted into @box_w x @box_h: aspect ratio
 * kept (rounded to the nearest pixel, at least 1), never larger than the
 * source.
 */
void thumb_image_fit(int w, int h, int box_w, int box_h, int *out_w, int *out_h);

/**
 * The largest denominator d of 1, 2, 4, 8 such that a @w x @h JPEG decoded
 * at 1/d (sides rounded up, as libjpeg does) is still at least
 * @need_w x @need_h.
 */
int thumb_image_jpeg_scale(int w, int h, int need_w, int need_h);

/**
 * The EXIF orientation (1..8) of the JPEG in @data, from the first APP1
 * Exif segment before the image data; 1 when there is none or it can't be
 * read. Reads only within @len.
 */
int thumb_image_exif_orientation(const void *data, size_t len);

/** Sniffs the format from the first bytes (TGA, which has no magic, is OTHER). */
enum thumb_image_format thumb_image_sniff(const void *data, size_t len);

/** "jpeg", "png", "gif", "bmp", "tga", "other" or "unknown". Static string. */
const char *thumb_image_format_name(enum thumb_image_format f);

#endif
