/* SPDX-License-Identifier: MIT */
/*
 * thumb_image: decode, resize, orient, encode. The only file that sees
 * TurboJPEG and stb (their implementations live in Debian's libstb.so, so
 * no *_IMPLEMENTATION is defined here).
 *
 * Order of work: limits on the declared size first, then decode (a JPEG at
 * a reduced DCT scale), resize each box straight from the decoded pixels,
 * then orient the small result (cheaper than rotating the source), then
 * encode. Every pixel buffer is sized from dimensions that passed the
 * pixel limit.
 */
#include "thumb_image.h"
#include "bb_buf.h"
#include "bb_err.h"
#include "bb_mem.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

#define PNG_MAX_OUT (64 * 1024 * 1024)

/* Decoded pixels: 3 (RGB) or 4 (RGBA) bytes per pixel, rows packed. */
struct pixmap {
    unsigned char *px;
    int w;
    int h;
    int ch;
    int from_stb; /* px came from stbi_load_*: freed with stbi_image_free */
};

static void pixmap_cleanup(struct pixmap *p)
{
    if (p->from_stb)
        stbi_image_free(p->px);
    else
        free(p->px);
    memset(p, 0, sizeof(*p));
}

static void set_error(struct thumb_image_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_error(struct thumb_image_result *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->error, sizeof(r->error), fmt, ap);
    va_end(ap);
}

const char *thumb_image_format_name(enum thumb_image_format f)
{
    switch (f) {
    case THUMB_IMAGE_JPEG:
        return "jpeg";
    case THUMB_IMAGE_PNG:
        return "png";
    case THUMB_IMAGE_GIF:
        return "gif";
    case THUMB_IMAGE_BMP:
        return "bmp";
    case THUMB_IMAGE_TGA:
        return "tga";
    case THUMB_IMAGE_OTHER:
        return "other";
    default:
        return "unknown";
    }
}

enum thumb_image_format thumb_image_sniff(const void *data, size_t len)
{
    const unsigned char *p = data;

    if (len >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return THUMB_IMAGE_JPEG;
    if (len >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return THUMB_IMAGE_PNG;
    if (len >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
        return THUMB_IMAGE_GIF;
    if (len >= 2 && p[0] == 'B' && p[1] == 'M')
        return THUMB_IMAGE_BMP;
    if ((len >= 4 && memcmp(p, "8BPS", 4) == 0) || (len >= 2 && memcmp(p, "#?", 2) == 0) ||
        (len >= 2 && p[0] == 'P' && p[1] >= '1' && p[1] <= '7') ||
        (len >= 4 && memcmp(p, "\x53\x80\xF6\x34", 4) == 0))
        return THUMB_IMAGE_OTHER;
    return THUMB_IMAGE_UNKNOWN;
}

void thumb_image_opts_init(struct thumb_image_opts *o, struct thumb_image_box *box)
{
    box->w = 256;
    box->h = 256;
    memset(o, 0, sizeof(*o));
    o->boxes = box;
    o->nboxes = 1;
    o->max_pixels = THUMB_IMAGE_DEFAULT_MAX_PIXELS;
    o->max_bytes = THUMB_IMAGE_DEFAULT_MAX_BYTES;
    o->quality = THUMB_IMAGE_DEFAULT_QUALITY;
    o->output = THUMB_IMAGE_OUT_AUTO;
}

void thumb_image_fit(int w, int h, int box_w, int box_h, int *out_w, int *out_h)
{
    if (w <= box_w && h <= box_h) {
        *out_w = w;
        *out_h = h;
        return;
    }
    /* Compare w/box_w with h/box_h in integers: the tighter side fits exactly. */
    if ((int64_t)w * box_h >= (int64_t)h * box_w) {
        *out_w = box_w;
        *out_h = (int)(((int64_t)h * box_w * 2 + w) / ((int64_t)w * 2));
    } else {
        *out_h = box_h;
        *out_w = (int)(((int64_t)w * box_h * 2 + h) / ((int64_t)h * 2));
    }
    if (*out_w < 1)
        *out_w = 1;
    if (*out_h < 1)
        *out_h = 1;
}

int thumb_image_jpeg_scale(int w, int h, int need_w, int need_h)
{
    for (int d = 8; d > 1; d /= 2) {
        int sw = (w + d - 1) / d;
        int sh = (h + d - 1) / d;
        if (sw >= need_w && sh >= need_h)
            return d;
    }
    return 1;
}

/* ---- JPEG markers: EXIF orientation and the Adobe segment ---- */

struct jpeg_markers {
    int orientation;
    int adobe; /* an APP14 "Adobe" segment: CMYK samples are stored inverted */
};

static unsigned rd16(const unsigned char *p, int be)
{
    return be ? (unsigned)(p[0] << 8 | p[1]) : (unsigned)(p[1] << 8 | p[0]);
}

static uint32_t rd32(const unsigned char *p, int be)
{
    return be ? ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3])
              : ((uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]);
}

/* Orientation from a TIFF structure (the body of an Exif APP1 after "Exif\0\0"). */
static int tiff_orientation(const unsigned char *t, size_t len)
{
    int be;
    uint32_t ifd;
    unsigned n;

    if (len < 8)
        return 1;
    if (memcmp(t, "II*\0", 4) == 0)
        be = 0;
    else if (memcmp(t, "MM\0*", 4) == 0)
        be = 1;
    else
        return 1;
    ifd = rd32(t + 4, be);
    if (ifd < 8 || ifd > len - 2)
        return 1;
    n = rd16(t + ifd, be);
    for (unsigned i = 0; i < n; i++) {
        size_t off = (size_t)ifd + 2 + (size_t)i * 12;
        unsigned v;
        if (off + 12 > len)
            break;
        if (rd16(t + off, be) != 0x0112)
            continue;
        /* SHORT, count 1: the value sits in the first two bytes of the field */
        if (rd16(t + off + 2, be) != 3 || rd32(t + off + 4, be) != 1)
            return 1;
        v = rd16(t + off + 8, be);
        return v >= 1 && v <= 8 ? (int)v : 1;
    }
    return 1;
}

/* Walks the marker segments before the first SOS. */
static void jpeg_scan_markers(const unsigned char *p, size_t len, struct jpeg_markers *m)
{
    size_t i = 2;
    int seen_exif = 0;

    m->orientation = 1;
    m->adobe = 0;
    if (len < 4 || p[0] != 0xFF || p[1] != 0xD8)
        return;
    while (i + 4 <= len) {
        unsigned marker;
        size_t seglen;
        const unsigned char *body;
        if (p[i] != 0xFF)
            return; /* not at a marker: leave the rest to the decoder */
        while (i < len && p[i] == 0xFF)
            i++;
        if (i >= len)
            return;
        marker = p[i++];
        if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7))
            continue; /* standalone */
        if (marker == 0xDA || marker == 0xD9 || i + 2 > len)
            return;
        seglen = rd16(p + i, 1);
        if (seglen < 2 || seglen > len - i)
            return;
        body = p + i + 2;
        seglen -= 2;
        if (marker == 0xE1 && !seen_exif && seglen >= 6 && memcmp(body, "Exif\0\0", 6) == 0) {
            seen_exif = 1;
            m->orientation = tiff_orientation(body + 6, seglen - 6);
        } else if (marker == 0xEE && seglen >= 5 && memcmp(body, "Adobe", 5) == 0) {
            m->adobe = 1;
        }
        i += seglen + 2;
    }
}

int thumb_image_exif_orientation(const void *data, size_t len)
{
    struct jpeg_markers m;

    jpeg_scan_markers(data, len, &m);
    return m.orientation;
}

/* ---- decoding ---- */

/* A libjpeg warning that still leaves a whole, usable image. */
static int harmless_warning(const char *msg)
{
    return strstr(msg, "extraneous bytes") != NULL ||
           strstr(msg, "Invalid SOS parameters") != NULL ||
           strstr(msg, "Adobe color transform") != NULL;
}

/* CMYK (TurboJPEG TJPF_CMYK) to RGB in place, 4 bytes per pixel in, 3 out. */
static void cmyk_to_rgb(unsigned char *px, size_t npix, int inverted)
{
    unsigned char *o = px;

    for (size_t i = 0; i < npix; i++, px += 4, o += 3) {
        unsigned c = px[0], m = px[1], y = px[2], k = px[3];
        if (!inverted) {
            c = 255 - c;
            m = 255 - m;
            y = 255 - y;
            k = 255 - k;
        }
        /* now 255 means "no ink" */
        o[0] = (unsigned char)((c * k + 127) / 255);
        o[1] = (unsigned char)((m * k + 127) / 255);
        o[2] = (unsigned char)((y * k + 127) / 255);
    }
}

/* Largest thumbnail any box asks for, in stored (unrotated) orientation. */
static void needed_size(int disp_w, int disp_h, int swap, const struct thumb_image_opts *o,
                        int *need_w, int *need_h)
{
    *need_w = 1;
    *need_h = 1;
    for (int i = 0; i < o->nboxes; i++) {
        int tw, th;
        thumb_image_fit(disp_w, disp_h, o->boxes[i].w, o->boxes[i].h, &tw, &th);
        if (swap) {
            int t = tw;
            tw = th;
            th = t;
        }
        if (tw > *need_w)
            *need_w = tw;
        if (th > *need_h)
            *need_h = th;
    }
}

/* Decodes at the scale the boxes need, or at full size when @full. */
static int decode_jpeg(const unsigned char *data, size_t len, const struct thumb_image_opts *o,
                       int full, struct thumb_image_result *r, struct pixmap *pm)
{
    tjhandle tj = NULL;
    struct jpeg_markers mk;
    int w, h, subsamp, cs, need_w, need_h, sw, sh, pf, bpp, swap;
    tjscalingfactor sf;
    int rc;

    tj = tjInitDecompress();
    if (tj == NULL) {
        set_error(r, "cannot start the JPEG decoder");
        return -ENOMEM;
    }
    /* a tables-only stream "succeeds" without setting the sizes */
    w = h = 0;
    subsamp = cs = -1;
    if (tjDecompressHeader3(tj, data, (unsigned long)len, &w, &h, &subsamp, &cs) < 0) {
        set_error(r, "corrupt JPEG: %s", tjGetErrorStr2(tj));
        rc = BB_ECORRUPT;
        goto out;
    }
    if (w == 0 || h == 0) {
        set_error(r, "corrupt JPEG: no image (tables only)");
        rc = BB_ECORRUPT;
        goto out;
    }
    if (w < 1 || h < 1 || (uint64_t)w * (uint64_t)h > o->max_pixels) {
        set_error(r, "image is %dx%d, over the limit of %llu pixels", w, h,
                  (unsigned long long)o->max_pixels);
        rc = BB_ETOOBIG;
        goto out;
    }
    jpeg_scan_markers(data, len, &mk);
    r->orientation = mk.orientation;
    swap = mk.orientation >= 5;
    r->src_w = swap ? h : w;
    r->src_h = swap ? w : h;
    if (full) {
        need_w = w;
        need_h = h;
    } else {
        needed_size(r->src_w, r->src_h, swap, o, &need_w, &need_h);
    }
    r->scale_denom = thumb_image_jpeg_scale(w, h, need_w, need_h);
    sf.num = 1;
    sf.denom = r->scale_denom;
    sw = TJSCALED(w, sf);
    sh = TJSCALED(h, sf);

    if (cs == TJCS_CMYK || cs == TJCS_YCCK) {
        pf = TJPF_CMYK;
        bpp = 4;
    } else {
        pf = TJPF_RGB;
        bpp = 3;
    }
    pm->px = bb_xmalloc((size_t)sw * (size_t)sh * (size_t)bpp);
    pm->w = sw;
    pm->h = sh;
    pm->ch = 3;
    if (tjDecompress2(tj, data, (unsigned long)len, pm->px, sw, 0, sh, pf, TJFLAG_LIMITSCANS) < 0) {
        const char *msg = tjGetErrorStr2(tj);
        if (tjGetErrorCode(tj) != TJERR_WARNING || !harmless_warning(msg)) {
            set_error(r, "corrupt JPEG: %s", msg);
            rc = BB_ECORRUPT;
            goto out;
        }
    }
    if (pf == TJPF_CMYK)
        cmyk_to_rgb(pm->px, (size_t)sw * (size_t)sh, mk.adobe);
    rc = BB_OK;
out:
    if (rc < 0)
        pixmap_cleanup(pm);
    tjDestroy(tj);
    return rc;
}

/* 1 when some pixel of the RGBA @px is not fully opaque. */
static int any_transparent(const unsigned char *px, size_t npix)
{
    for (size_t i = 0; i < npix; i++)
        if (px[i * 4 + 3] != 255)
            return 1;
    return 0;
}

static void rgba_to_rgb(unsigned char *px, size_t npix)
{
    for (size_t i = 0; i < npix; i++) {
        px[i * 3] = px[i * 4];
        px[i * 3 + 1] = px[i * 4 + 1];
        px[i * 3 + 2] = px[i * 4 + 2];
    }
}

/*
 * The dimensions a PNG, GIF or BMP header declares, read here because
 * stb_image refuses huge ones with a message that doesn't say "too big".
 * Returns 0, or -1 when the header is too short or the format isn't one
 * of these.
 */
static int declared_size(enum thumb_image_format f, const unsigned char *p, size_t len, uint64_t *w,
                         uint64_t *h)
{
    if (f == THUMB_IMAGE_PNG && len >= 24 && memcmp(p + 12, "IHDR", 4) == 0) {
        *w = rd32(p + 16, 1);
        *h = rd32(p + 20, 1);
        return 0;
    }
    if (f == THUMB_IMAGE_GIF && len >= 10) {
        *w = rd16(p + 6, 0);
        *h = rd16(p + 8, 0);
        return 0;
    }
    if (f == THUMB_IMAGE_BMP && len >= 26) {
        int32_t bh = (int32_t)rd32(p + 22, 0);
        *w = rd32(p + 18, 0);
        *h = bh < 0 ? (uint64_t)(-(int64_t)bh) : (uint64_t)bh;
        return 0;
    }
    return -1;
}

static int decode_stb(const unsigned char *data, size_t len, const struct thumb_image_opts *o,
                      struct thumb_image_result *r, struct pixmap *pm)
{
    uint64_t dw, dh;
    int w, h, comp, want;

    if (len > INT_MAX) {
        set_error(r, "image is too large");
        return BB_ETOOBIG;
    }
    if (declared_size(r->src_format, data, len, &dw, &dh) == 0 &&
        (dw > UINT32_MAX / 2 || dh > UINT32_MAX / 2 || dw * dh > o->max_pixels)) {
        set_error(r, "image is %llux%llu, over the limit of %llu pixels", (unsigned long long)dw,
                  (unsigned long long)dh, (unsigned long long)o->max_pixels);
        return BB_ETOOBIG;
    }
    if (!stbi_info_from_memory(data, (int)len, &w, &h, &comp)) {
        if (r->src_format == THUMB_IMAGE_UNKNOWN) {
            set_error(r, "not an image (no known image format)");
            return BB_EINVAL;
        }
        set_error(r, "corrupt %s: %s", thumb_image_format_name(r->src_format),
                  stbi_failure_reason());
        return BB_ECORRUPT;
    }
    if (r->src_format == THUMB_IMAGE_UNKNOWN)
        r->src_format = THUMB_IMAGE_TGA; /* the one format stb_image takes without magic */
    if (w < 1 || h < 1 || (uint64_t)w * (uint64_t)h > o->max_pixels) {
        set_error(r, "image is %dx%d, over the limit of %llu pixels", w, h,
                  (unsigned long long)o->max_pixels);
        return BB_ETOOBIG;
    }
    want = (comp == 2 || comp == 4) ? 4 : 3;
    pm->px = stbi_load_from_memory(data, (int)len, &pm->w, &pm->h, &comp, want);
    if (pm->px == NULL) {
        set_error(r, "corrupt %s: %s", thumb_image_format_name(r->src_format),
                  stbi_failure_reason());
        return BB_ECORRUPT;
    }
    pm->from_stb = 1;
    pm->ch = want;
    if ((uint64_t)pm->w * (uint64_t)pm->h > o->max_pixels) {
        /* the frame disagreed with the header stbi_info read */
        set_error(r, "image is %dx%d, over the limit of %llu pixels", pm->w, pm->h,
                  (unsigned long long)o->max_pixels);
        pixmap_cleanup(pm);
        return BB_ETOOBIG;
    }
    if (want == 4) {
        size_t npix = (size_t)pm->w * (size_t)pm->h;
        r->has_alpha = any_transparent(pm->px, npix);
        if (!r->has_alpha) {
            rgba_to_rgb(pm->px, npix);
            pm->ch = 3;
        }
    }
    r->src_w = pm->w;
    r->src_h = pm->h;
    r->orientation = 1;
    r->scale_denom = 1;
    return BB_OK;
}

/* ---- resize, orient, flatten ---- */

static int resize(const struct pixmap *src, int w, int h, struct pixmap *dst)
{
    size_t n = (size_t)w * (size_t)h * (size_t)src->ch;

    dst->px = bb_xmalloc(n);
    dst->w = w;
    dst->h = h;
    dst->ch = src->ch;
    dst->from_stb = 0;
    if (w == src->w && h == src->h) {
        memcpy(dst->px, src->px, n);
        return BB_OK;
    }
    if (!stbir_resize_uint8_generic(src->px, src->w, src->h, 0, dst->px, w, h, 0, src->ch,
                                    src->ch == 4 ? 3 : STBIR_ALPHA_CHANNEL_NONE, 0,
                                    STBIR_EDGE_CLAMP, STBIR_FILTER_CATMULLROM,
                                    STBIR_COLORSPACE_SRGB, NULL)) {
        pixmap_cleanup(dst);
        return -ENOMEM;
    }
    return BB_OK;
}

/*
 * Applies EXIF orientation @o to @p (replaced). For each displayed pixel
 * (x, y) the stored pixel is read from where the orientation put it.
 */
static void orient(struct pixmap *p, int o)
{
    int sw = p->w, sh = p->h, ch = p->ch;
    int dw = o >= 5 ? sh : sw;
    int dh = o >= 5 ? sw : sh;
    unsigned char *out;

    if (o <= 1 || o > 8)
        return;
    out = bb_xmalloc((size_t)dw * (size_t)dh * (size_t)ch);
    for (int y = 0; y < dh; y++) {
        for (int x = 0; x < dw; x++) {
            int sx, sy;
            switch (o) {
            case 2:
                sx = sw - 1 - x;
                sy = y;
                break;
            case 3:
                sx = sw - 1 - x;
                sy = sh - 1 - y;
                break;
            case 4:
                sx = x;
                sy = sh - 1 - y;
                break;
            case 5:
                sx = y;
                sy = x;
                break;
            case 6:
                sx = y;
                sy = sh - 1 - x;
                break;
            case 7:
                sx = sw - 1 - y;
                sy = sh - 1 - x;
                break;
            default: /* 8 */
                sx = sw - 1 - y;
                sy = x;
                break;
            }
            memcpy(out + ((size_t)y * dw + x) * ch, p->px + ((size_t)sy * sw + sx) * ch,
                   (size_t)ch);
        }
    }
    pixmap_cleanup(p);
    p->px = out;
    p->w = dw;
    p->h = dh;
    p->ch = ch;
}

/* RGBA to RGB over a white background. */
static void flatten_on_white(struct pixmap *p)
{
    size_t npix = (size_t)p->w * (size_t)p->h;
    unsigned char *px = p->px;

    if (p->ch != 4)
        return;
    for (size_t i = 0; i < npix; i++) {
        unsigned a = px[i * 4 + 3];
        for (int c = 0; c < 3; c++)
            px[i * 3 + c] = (unsigned char)((px[i * 4 + c] * a + 255 * (255 - a) + 127) / 255);
    }
    p->ch = 3;
}

/* ---- encoding ---- */

static int encode_jpeg(const struct pixmap *p, int quality, struct thumb_image_out *out,
                       struct thumb_image_result *r)
{
    tjhandle tj = tjInitCompress();
    unsigned long size = tjBufSize(p->w, p->h, TJSAMP_420);
    unsigned char *buf;

    if (tj == NULL) {
        set_error(r, "cannot start the JPEG encoder");
        return -ENOMEM;
    }
    buf = bb_xmalloc(size);
    if (tjCompress2(tj, p->px, p->w, 0, p->h, TJPF_RGB, &buf, &size, TJSAMP_420, quality,
                    TJFLAG_NOREALLOC) < 0) {
        set_error(r, "JPEG encoding failed: %s", tjGetErrorStr2(tj));
        free(buf);
        tjDestroy(tj);
        return -ENOMEM;
    }
    tjDestroy(tj);
    out->data = buf;
    out->len = size;
    out->format = THUMB_IMAGE_JPEG;
    return BB_OK;
}

static void png_write(void *ctx, void *data, int size)
{
    struct bb_buf *b = ctx;

    if (size > 0 && bb_buf_append(b, data, (size_t)size) < 0)
        b->limit = 0; /* remember the overflow; checked after the write */
}

static int encode_png(const struct pixmap *p, struct thumb_image_out *out,
                      struct thumb_image_result *r)
{
    struct bb_buf b;

    bb_buf_init(&b, PNG_MAX_OUT);
    if (!stbi_write_png_to_func(png_write, &b, p->w, p->h, p->ch, p->px, p->w * p->ch) ||
        b.limit == 0) {
        set_error(r, "PNG encoding failed");
        bb_buf_cleanup(&b);
        return -ENOMEM;
    }
    out->data = (unsigned char *)bb_buf_detach(&b, &out->len);
    out->format = THUMB_IMAGE_PNG;
    bb_buf_cleanup(&b);
    return BB_OK;
}

/* ---- the pipeline ---- */

static int check_opts(const struct thumb_image_opts *o, struct thumb_image_result *r)
{
    if (o->nboxes < 1 || o->nboxes > THUMB_IMAGE_MAX_SIZES || o->quality < 1 || o->quality > 100) {
        set_error(r, "bad thumbnail options");
        return BB_EINVAL;
    }
    for (int i = 0; i < o->nboxes; i++) {
        if (o->boxes[i].w < 1 || o->boxes[i].h < 1 || o->boxes[i].w > THUMB_IMAGE_MAX_BOX ||
            o->boxes[i].h > THUMB_IMAGE_MAX_BOX) {
            set_error(r, "bad thumbnail size");
            return BB_EINVAL;
        }
    }
    return BB_OK;
}

int thumb_image_make(const void *data, size_t len, const struct thumb_image_opts *o,
                     struct thumb_image_result *r)
{
    struct pixmap src = {0};
    struct pixmap t = {0};
    int rc;

    memset(r, 0, sizeof(*r));
    rc = check_opts(o, r);
    if (rc < 0)
        return rc;
    if (len > o->max_bytes) {
        set_error(r, "object is %zu bytes, over the limit of %zu", len, o->max_bytes);
        return BB_ETOOBIG;
    }
    if (len == 0) {
        set_error(r, "not an image (empty)");
        return BB_EINVAL;
    }
    r->src_format = thumb_image_sniff(data, len);
    if (r->src_format == THUMB_IMAGE_JPEG)
        rc = decode_jpeg(data, len, o, 0, r, &src);
    else
        rc = decode_stb(data, len, o, r, &src);
    if (rc < 0)
        goto out;

    for (int i = 0; i < o->nboxes; i++) {
        struct thumb_image_out *out = &r->out[i];
        int tw, th, png;
        thumb_image_fit(r->src_w, r->src_h, o->boxes[i].w, o->boxes[i].h, &tw, &th);
        if (r->orientation >= 5)
            rc = resize(&src, th, tw, &t); /* stored orientation is transposed */
        else
            rc = resize(&src, tw, th, &t);
        if (rc < 0) {
            set_error(r, "out of memory while resizing");
            goto out;
        }
        orient(&t, r->orientation);
        png = o->output == THUMB_IMAGE_OUT_PNG || (o->output == THUMB_IMAGE_OUT_AUTO && t.ch == 4);
        if (!png)
            flatten_on_white(&t);
        rc = png ? encode_png(&t, out, r) : encode_jpeg(&t, o->quality, out, r);
        if (rc < 0)
            goto out;
        out->w = t.w;
        out->h = t.h;
        r->n++;
        pixmap_cleanup(&t);
    }
    rc = BB_OK;
out:
    pixmap_cleanup(&t);
    pixmap_cleanup(&src);
    if (rc < 0) {
        char keep[THUMB_IMAGE_ERROR_MAX];
        memcpy(keep, r->error, sizeof(keep));
        thumb_image_result_cleanup(r);
        memcpy(r->error, keep, sizeof(keep));
    }
    return rc;
}

int thumb_image_decode(const void *data, size_t len, const struct thumb_image_opts *o,
                       unsigned char **px, int *w, int *h, int *ch, char why[THUMB_IMAGE_ERROR_MAX])
{
    struct thumb_image_result r;
    struct pixmap pm = {0};
    int rc;

    *px = NULL;
    memset(&r, 0, sizeof(r));
    if (len > o->max_bytes) {
        set_error(&r, "object is %zu bytes, over the limit of %zu", len, o->max_bytes);
        rc = BB_ETOOBIG;
        goto out;
    }
    r.src_format = thumb_image_sniff(data, len);
    if (r.src_format == THUMB_IMAGE_JPEG)
        rc = decode_jpeg(data, len, o, 1, &r, &pm);
    else
        rc = len == 0 ? BB_EINVAL : decode_stb(data, len, o, &r, &pm);
    if (rc < 0)
        goto out;
    orient(&pm, r.orientation);
    if (pm.from_stb) {
        /* hand out memory the caller frees with free() */
        size_t n = (size_t)pm.w * (size_t)pm.h * (size_t)pm.ch;
        unsigned char *copy = bb_xmalloc(n);
        memcpy(copy, pm.px, n);
        stbi_image_free(pm.px);
        pm.px = copy;
        pm.from_stb = 0;
    }
    *px = pm.px;
    *w = pm.w;
    *h = pm.h;
    *ch = pm.ch;
out:
    if (why != NULL)
        memcpy(why, r.error, THUMB_IMAGE_ERROR_MAX);
    return rc;
}

void thumb_image_result_cleanup(struct thumb_image_result *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < r->n && i < THUMB_IMAGE_MAX_SIZES; i++)
        free(r->out[i].data);
    memset(r, 0, sizeof(*r));
}
