/* SPDX-License-Identifier: MIT */
/*
 * Tests for consumers/thumbnail/thumb_image.c: fitting and DCT scale
 * choice, EXIF orientation (all eight, both byte orders, hostile
 * segments), every fixture format, checked by the pixels of the result,
 * and the refusals (not an image, corrupt, truncated, bombs, limits).
 * Most fixtures show red / lime / blue / yellow quadrants as displayed
 * (scripts/make-image-fixtures.py).
 */
#include "bb_test.h"

#include "bb_err.h"
#include "bb_mem.h"
#include "thumb_image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct file {
    unsigned char *data;
    size_t len;
};

static struct file load(const char *name)
{
    char rel[128];
    char *path;
    struct file f = {0};
    FILE *fp;
    long n;

    snprintf(rel, sizeof(rel), "images/%s", name);
    path = bb_test_fixture(rel);
    fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f.data = bb_xmalloc((size_t)n + 1);
    assert_int_equal(fread(f.data, 1, (size_t)n, fp), (size_t)n);
    f.len = (size_t)n;
    fclose(fp);
    free(path);
    return f;
}

struct rgb {
    int r, g, b;
};

static const struct rgb RED = {255, 0, 0}, LIME = {0, 255, 0}, BLUE = {0, 0, 255},
                        YELLOW = {255, 255, 0}, WHITE = {255, 255, 255};

/* Decodes @data and checks the pixel at (@fx, @fy) of its size against @want. */
static void assert_color_at(const unsigned char *data, size_t len, double fx, double fy,
                            struct rgb want)
{
    struct thumb_image_opts o;
    struct thumb_image_box b;
    unsigned char *px = NULL;
    int w, h, ch, x, y;
    const unsigned char *p;

    thumb_image_opts_init(&o, &b);
    assert_int_equal(thumb_image_decode(data, len, &o, &px, &w, &h, &ch, NULL), BB_OK);
    x = (int)(fx * w);
    y = (int)(fy * h);
    p = px + ((size_t)y * w + x) * ch;
    if (abs(p[0] - want.r) > 40 || abs(p[1] - want.g) > 40 || abs(p[2] - want.b) > 40)
        fail_msg("pixel (%d,%d) of %dx%d is (%d,%d,%d), want (%d,%d,%d)", x, y, w, h, p[0], p[1],
                 p[2], want.r, want.g, want.b);
    free(px);
}

/* The four quadrants, sampled away from edges and block boundaries. */
static void assert_quadrants(const struct thumb_image_out *t)
{
    assert_color_at(t->data, t->len, 0.25, 0.25, RED);
    assert_color_at(t->data, t->len, 0.75, 0.25, LIME);
    assert_color_at(t->data, t->len, 0.25, 0.75, BLUE);
    assert_color_at(t->data, t->len, 0.75, 0.75, YELLOW);
}

/* Makes the default 256x256 thumbnail of fixture @name; expects success. */
static void make(const char *name, struct thumb_image_result *r)
{
    struct thumb_image_opts o;
    struct thumb_image_box b;
    struct file f = load(name);
    int rc;

    thumb_image_opts_init(&o, &b);
    rc = thumb_image_make(f.data, f.len, &o, r);
    if (rc != BB_OK)
        fail_msg("%s: %s (%s)", name, bb_strerror(rc), r->error);
    assert_int_equal(r->n, 1);
    free(f.data);
}

static int make_rc(const char *name, struct thumb_image_result *r)
{
    struct thumb_image_opts o;
    struct thumb_image_box b;
    struct file f = load(name);
    int rc;

    thumb_image_opts_init(&o, &b);
    rc = thumb_image_make(f.data, f.len, &o, r);
    free(f.data);
    return rc;
}

/* ---- pure helpers ---- */

static void test_thumb_image_fit_keeps_aspect_and_never_upscales(void **state)
{
    int w, h;

    thumb_image_fit(4000, 3000, 256, 256, &w, &h);
    assert_int_equal(w, 256);
    assert_int_equal(h, 192);
    thumb_image_fit(3000, 4000, 256, 256, &w, &h);
    assert_int_equal(w, 192);
    assert_int_equal(h, 256);
    thumb_image_fit(3000, 2000, 256, 256, &w, &h);
    assert_int_equal(w, 256);
    assert_int_equal(h, 171); /* 170.67 rounds up */
    thumb_image_fit(100, 50, 256, 256, &w, &h);
    assert_int_equal(w, 100);
    assert_int_equal(h, 50);
    thumb_image_fit(10000, 1, 256, 256, &w, &h);
    assert_int_equal(w, 256);
    assert_int_equal(h, 1);
    thumb_image_fit(1000, 1000, 300, 100, &w, &h);
    assert_int_equal(w, 100);
    assert_int_equal(h, 100);
}

static void test_thumb_image_jpeg_scale_is_smallest_that_covers(void **state)
{
    assert_int_equal(thumb_image_jpeg_scale(4000, 3000, 256, 192), 8);
    assert_int_equal(thumb_image_jpeg_scale(1024, 768, 256, 192), 4);
    assert_int_equal(thumb_image_jpeg_scale(1000, 750, 256, 188), 2);
    assert_int_equal(thumb_image_jpeg_scale(2033, 1529, 256, 192), 4); /* 1/8: 255x192 */
    assert_int_equal(thumb_image_jpeg_scale(2049, 1537, 256, 192), 8); /* 257x193 */
    assert_int_equal(thumb_image_jpeg_scale(200, 100, 200, 100), 1);
}

static void test_thumb_image_sniff_names_formats(void **state)
{
    assert_int_equal(thumb_image_sniff("\xFF\xD8\xFF\xE0", 4), THUMB_IMAGE_JPEG);
    assert_int_equal(thumb_image_sniff("\x89PNG\r\n\x1a\n", 8), THUMB_IMAGE_PNG);
    assert_int_equal(thumb_image_sniff("GIF89a", 6), THUMB_IMAGE_GIF);
    assert_int_equal(thumb_image_sniff("BM", 2), THUMB_IMAGE_BMP);
    assert_int_equal(thumb_image_sniff("hello", 5), THUMB_IMAGE_UNKNOWN);
    assert_int_equal(thumb_image_sniff("", 0), THUMB_IMAGE_UNKNOWN);
    assert_string_equal(thumb_image_format_name(THUMB_IMAGE_GIF), "gif");
}

/* ---- EXIF ---- */

static void test_thumb_image_exif_orientation_reads_all_eight(void **state)
{
    for (int o = 1; o <= 8; o++) {
        char name[32];
        struct file f;
        snprintf(name, sizeof(name), "orient-%d.jpg", o);
        f = load(name);
        assert_int_equal(thumb_image_exif_orientation(f.data, f.len), o);
        free(f.data);
    }
}

static void test_thumb_image_exif_orientation_is_1_without_exif(void **state)
{
    struct file f = load("photo-320x240.jpg");

    assert_int_equal(thumb_image_exif_orientation(f.data, f.len), 1);
    free(f.data);
    assert_int_equal(thumb_image_exif_orientation("", 0), 1);
    assert_int_equal(thumb_image_exif_orientation("\xFF\xD8", 2), 1);
}

static void test_thumb_image_exif_orientation_survives_hostile_segments(void **state)
{
    /* IFD offset past the end, entry count past the end, bad type, value 9 */
    static const unsigned char bad_ifd[] = {0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x10, 'E',  'x',
                                            'i',  'f',  0,    0,    'I',  'I',  0x2A, 0,
                                            0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xD9};
    static const unsigned char many[] = {0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x12, 'E',  'x',
                                         'i',  'f',  0,    0,    'M',  'M',  0,    0x2A,
                                         0,    0,    0,    8,    0xFF, 0xFF, 0xFF, 0xD9};
    static const unsigned char nine[] = {0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x22, 'E', 'x', 'i',  'f',
                                         0,    0,    'I',  'I',  0x2A, 0,    8,   0,   0,    0,
                                         1,    0,    0x12, 0x01, 3,    0,    1,   0,   0,    0,
                                         9,    0,    0,    0,    0,    0,    0,   0,   0xFF, 0xD9};
    static const unsigned char short_len[] = {0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 'E', 'x'};

    assert_int_equal(thumb_image_exif_orientation(bad_ifd, sizeof(bad_ifd)), 1);
    assert_int_equal(thumb_image_exif_orientation(many, sizeof(many)), 1);
    assert_int_equal(thumb_image_exif_orientation(nine, sizeof(nine)), 1);
    assert_int_equal(thumb_image_exif_orientation(short_len, sizeof(short_len)), 1);
    /* the same bytes with value 6 are read */
    {
        unsigned char six[sizeof(nine)];
        memcpy(six, nine, sizeof(six));
        six[30] = 6;
        assert_int_equal(thumb_image_exif_orientation(six, sizeof(six)), 6);
    }
}

/* ---- the pipeline, per fixture ---- */

static void test_thumb_image_make_applies_every_orientation(void **state)
{
    for (int o = 1; o <= 8; o++) {
        struct thumb_image_result r;
        char name[32];
        snprintf(name, sizeof(name), "orient-%d.jpg", o);
        make(name, &r);
        assert_int_equal(r.orientation, o);
        assert_int_equal(r.src_w, 120);
        assert_int_equal(r.src_h, 80);
        assert_int_equal(r.out[0].w, 120); /* never upscaled */
        assert_int_equal(r.out[0].h, 80);
        assert_int_equal(r.out[0].format, THUMB_IMAGE_JPEG);
        assert_quadrants(&r.out[0]);
        thumb_image_result_cleanup(&r);
    }
}

static void test_thumb_image_make_phone_photo_comes_out_upright(void **state)
{
    struct thumb_image_result r;

    make("phone-orient-6.jpg", &r);
    assert_int_equal(r.src_w, 1200);
    assert_int_equal(r.src_h, 1600);
    assert_int_equal(r.scale_denom, 4); /* 400x300 still covers 256x192 */
    assert_int_equal(r.out[0].w, 192);
    assert_int_equal(r.out[0].h, 256);
    assert_quadrants(&r.out[0]);
    thumb_image_result_cleanup(&r);
}

static void test_thumb_image_make_large_jpeg_uses_eighth_scale(void **state)
{
    struct thumb_image_result r;

    make("photo-3000x2000.jpg", &r);
    assert_int_equal(r.scale_denom, 8);
    assert_int_equal(r.out[0].w, 256);
    assert_int_equal(r.out[0].h, 171);
    assert_quadrants(&r.out[0]);
    thumb_image_result_cleanup(&r);
}

static void test_thumb_image_make_jpeg_formats(void **state)
{
    static const char *const names[] = {"photo-320x240.jpg", "photo-1024x768.jpg",
                                        "progressive.jpg", "cmyk.jpg"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct thumb_image_result r;
        make(names[i], &r);
        assert_int_equal(r.out[0].w, 256);
        assert_int_equal(r.out[0].h, 192);
        assert_quadrants(&r.out[0]);
        thumb_image_result_cleanup(&r);
    }
}

static void test_thumb_image_make_gray_jpeg(void **state)
{
    struct thumb_image_result r;
    struct thumb_image_opts o;
    struct thumb_image_box b;
    unsigned char *px;
    int w, h, ch;

    make("gray.jpg", &r);
    assert_int_equal(r.out[0].w, 200);
    thumb_image_opts_init(&o, &b);
    assert_int_equal(thumb_image_decode(r.out[0].data, r.out[0].len, &o, &px, &w, &h, &ch, NULL),
                     BB_OK);
    assert_true(abs(px[0] - px[1]) < 8 && abs(px[1] - px[2]) < 8);
    free(px);
    thumb_image_result_cleanup(&r);
}

static void test_thumb_image_make_never_upscales_tiny(void **state)
{
    struct thumb_image_result r;

    make("photo-16x12.jpg", &r);
    assert_int_equal(r.out[0].w, 16);
    assert_int_equal(r.out[0].h, 12);
    thumb_image_result_cleanup(&r);
}

static void test_thumb_image_make_stb_formats(void **state)
{
    static const struct {
        const char *name;
        enum thumb_image_format f;
        int w, h;
    } cases[] = {
        {"anim.gif", THUMB_IMAGE_GIF, 160, 120},
        {"image.bmp", THUMB_IMAGE_BMP, 100, 76},
        {"image.tga", THUMB_IMAGE_TGA, 100, 76},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct thumb_image_result r;
        make(cases[i].name, &r);
        assert_int_equal(r.src_format, cases[i].f);
        assert_int_equal(r.out[0].w, cases[i].w);
        assert_int_equal(r.out[0].h, cases[i].h);
        assert_int_equal(r.out[0].format, THUMB_IMAGE_JPEG); /* opaque: JPEG */
        assert_quadrants(&r.out[0]);                         /* GIF: the first frame */
        thumb_image_result_cleanup(&r);
    }
}

static void test_thumb_image_make_alpha_gives_png_with_alpha(void **state)
{
    struct thumb_image_result r;
    struct thumb_image_opts o;
    struct thumb_image_box b;
    unsigned char *px;
    int w, h, ch;

    make("alpha.png", &r);
    assert_true(r.has_alpha);
    assert_int_equal(r.out[0].format, THUMB_IMAGE_PNG);
    assert_int_equal(r.out[0].w, 256);
    assert_int_equal(r.out[0].h, 171);
    thumb_image_opts_init(&o, &b);
    assert_int_equal(thumb_image_decode(r.out[0].data, r.out[0].len, &o, &px, &w, &h, &ch, NULL),
                     BB_OK);
    assert_int_equal(ch, 4);
    /* left: opaque red; right: transparent */
    assert_int_equal(px[((size_t)20 * w + 30) * 4 + 3], 255);
    assert_true(px[((size_t)20 * w + 30) * 4] > 230);
    assert_int_equal(px[((size_t)20 * w + 200) * 4 + 3], 0);
    free(px);
    thumb_image_result_cleanup(&r);
}

static void test_thumb_image_make_jpeg_output_flattens_alpha_on_white(void **state)
{
    struct thumb_image_result r;
    struct thumb_image_opts o;
    struct thumb_image_box b;
    struct file f = load("alpha.png");

    thumb_image_opts_init(&o, &b);
    o.output = THUMB_IMAGE_OUT_JPEG;
    assert_int_equal(thumb_image_make(f.data, f.len, &o, &r), BB_OK);
    assert_int_equal(r.out[0].format, THUMB_IMAGE_JPEG);
    assert_color_at(r.out[0].data, r.out[0].len, 0.25, 0.1, RED);
    assert_color_at(r.out[0].data, r.out[0].len, 0.75, 0.1, WHITE);
    /* the half-transparent blue bar over white is light blue */
    assert_color_at(r.out[0].data, r.out[0].len, 0.75, 0.5, (struct rgb){128, 128, 255});
    thumb_image_result_cleanup(&r);
    free(f.data);
}

static void test_thumb_image_make_png_output_for_opaque_source(void **state)
{
    struct thumb_image_result r;
    struct thumb_image_opts o;
    struct thumb_image_box b;
    struct file f = load("photo-320x240.jpg");

    thumb_image_opts_init(&o, &b);
    o.output = THUMB_IMAGE_OUT_PNG;
    assert_int_equal(thumb_image_make(f.data, f.len, &o, &r), BB_OK);
    assert_int_equal(r.out[0].format, THUMB_IMAGE_PNG);
    assert_memory_equal(r.out[0].data, "\x89PNG", 4);
    assert_quadrants(&r.out[0]);
    thumb_image_result_cleanup(&r);
    free(f.data);
}

static void test_thumb_image_make_several_sizes(void **state)
{
    struct thumb_image_box boxes[3] = {{256, 256}, {64, 64}, {1000, 20}};
    struct thumb_image_result r;
    struct thumb_image_opts o;
    struct file f = load("photo-1024x768.jpg");

    thumb_image_opts_init(&o, &boxes[0]);
    o.boxes = boxes;
    o.nboxes = 3;
    assert_int_equal(thumb_image_make(f.data, f.len, &o, &r), BB_OK);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.scale_denom, 4); /* the largest box decides */
    assert_int_equal(r.out[0].w, 256);
    assert_int_equal(r.out[0].h, 192);
    assert_int_equal(r.out[1].w, 64);
    assert_int_equal(r.out[1].h, 48);
    assert_int_equal(r.out[2].w, 27);
    assert_int_equal(r.out[2].h, 20);
    assert_quadrants(&r.out[1]);
    thumb_image_result_cleanup(&r);
    free(f.data);
}

static void test_thumb_image_make_jpeg_quality_changes_size(void **state)
{
    struct thumb_image_result lo, hi;
    struct thumb_image_opts o;
    struct thumb_image_box b;
    struct file f = load("phone-orient-6.jpg");

    thumb_image_opts_init(&o, &b);
    o.quality = 20;
    assert_int_equal(thumb_image_make(f.data, f.len, &o, &lo), BB_OK);
    o.quality = 98;
    assert_int_equal(thumb_image_make(f.data, f.len, &o, &hi), BB_OK);
    assert_true(lo.out[0].len < hi.out[0].len);
    thumb_image_result_cleanup(&lo);
    thumb_image_result_cleanup(&hi);
    free(f.data);
}

/* ---- refusals ---- */

static void test_thumb_image_make_refuses_broken_input(void **state)
{
    static const struct {
        const char *name;
        int rc;
    } cases[] = {
        {"truncated.jpg", BB_ECORRUPT},  {"corrupt.jpg", BB_ECORRUPT},
        {"not-an-image.jpg", BB_EINVAL}, {"bomb.png", BB_ETOOBIG},
        {"bomb.jpg", BB_ETOOBIG},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct thumb_image_result r;
        int rc = make_rc(cases[i].name, &r);
        if (rc != cases[i].rc)
            fail_msg("%s: got %s (%s), want %s", cases[i].name, bb_strerror(rc), r.error,
                     bb_strerror(cases[i].rc));
        assert_true(r.error[0] != '\0');
        assert_int_equal(r.n, 0);
        thumb_image_result_cleanup(&r);
    }
}

/* A JPEG of tables only (SOI, DQT, EOI): TurboJPEG's header read succeeds
 * without an image size; the decoder must not go on with unset sizes (it
 * did: valgrind saw the width and height used uninitialised). */
static void test_thumb_image_make_refuses_a_tables_only_jpeg(void **state)
{
    unsigned char jpg[4 + 2 + 2 + 1 + 64 + 2] = {0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00};
    struct thumb_image_opts o;
    struct thumb_image_box b;
    struct thumb_image_result r;

    for (int i = 0; i < 64; i++)
        jpg[7 + i] = 1;
    jpg[sizeof(jpg) - 2] = 0xFF;
    jpg[sizeof(jpg) - 1] = 0xD9;
    thumb_image_opts_init(&o, &b);
    assert_int_equal(thumb_image_make(jpg, sizeof(jpg), &o, &r), BB_ECORRUPT);
    assert_true(r.error[0] != '\0');
    assert_int_equal(r.n, 0);
    thumb_image_result_cleanup(&r);
}

static void test_thumb_image_make_enforces_limits(void **state)
{
    struct thumb_image_result r;
    struct thumb_image_opts o;
    struct thumb_image_box b;
    struct file f = load("photo-1024x768.jpg");

    thumb_image_opts_init(&o, &b);
    o.max_pixels = 1024 * 768 - 1;
    assert_int_equal(thumb_image_make(f.data, f.len, &o, &r), BB_ETOOBIG);
    assert_non_null(strstr(r.error, "1024x768"));
    o.max_pixels = 1024 * 768;
    assert_int_equal(thumb_image_make(f.data, f.len, &o, &r), BB_OK);
    thumb_image_result_cleanup(&r);
    o.max_bytes = f.len - 1;
    assert_int_equal(thumb_image_make(f.data, f.len, &o, &r), BB_ETOOBIG);
    assert_int_equal(thumb_image_make(f.data, 0, &o, &r), BB_EINVAL);
    o.max_bytes = f.len;
    o.quality = 0;
    assert_int_equal(thumb_image_make(f.data, f.len, &o, &r), BB_EINVAL);
    free(f.data);
}

/* Flipped bytes and cut files from every fixture: errors allowed, crashes not. */
static void test_thumb_image_make_survives_mutations(void **state)
{
    static const char *const names[] = {"photo-320x240.jpg", "progressive.jpg", "orient-6.jpg",
                                        "alpha.png",         "anim.gif",        "image.bmp",
                                        "image.tga",         "cmyk.jpg"};
    uint32_t seed = 12345;
    struct thumb_image_opts o;
    struct thumb_image_box b;

    thumb_image_opts_init(&o, &b);
    o.max_pixels = 4 * 1000 * 1000;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct file f = load(names[i]);
        for (int round = 0; round < 60; round++) {
            unsigned char *m = bb_xmalloc(f.len);
            struct thumb_image_result r;
            size_t len = f.len;
            memcpy(m, f.data, f.len);
            for (int k = 0; k < 1 + round % 8; k++) {
                seed = seed * 1103515245u + 12345u;
                m[(seed >> 8) % f.len] ^= (unsigned char)(1u << (seed % 8));
            }
            if (round % 5 == 0)
                len = (seed >> 4) % f.len;
            (void)thumb_image_make(m, len, &o, &r);
            thumb_image_result_cleanup(&r);
            free(m);
        }
        free(f.data);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thumb_image_fit_keeps_aspect_and_never_upscales),
        cmocka_unit_test(test_thumb_image_jpeg_scale_is_smallest_that_covers),
        cmocka_unit_test(test_thumb_image_sniff_names_formats),
        cmocka_unit_test(test_thumb_image_exif_orientation_reads_all_eight),
        cmocka_unit_test(test_thumb_image_exif_orientation_is_1_without_exif),
        cmocka_unit_test(test_thumb_image_exif_orientation_survives_hostile_segments),
        cmocka_unit_test(test_thumb_image_make_applies_every_orientation),
        cmocka_unit_test(test_thumb_image_make_phone_photo_comes_out_upright),
        cmocka_unit_test(test_thumb_image_make_large_jpeg_uses_eighth_scale),
        cmocka_unit_test(test_thumb_image_make_jpeg_formats),
        cmocka_unit_test(test_thumb_image_make_gray_jpeg),
        cmocka_unit_test(test_thumb_image_make_never_upscales_tiny),
        cmocka_unit_test(test_thumb_image_make_stb_formats),
        cmocka_unit_test(test_thumb_image_make_alpha_gives_png_with_alpha),
        cmocka_unit_test(test_thumb_image_make_jpeg_output_flattens_alpha_on_white),
        cmocka_unit_test(test_thumb_image_make_png_output_for_opaque_source),
        cmocka_unit_test(test_thumb_image_make_several_sizes),
        cmocka_unit_test(test_thumb_image_make_jpeg_quality_changes_size),
        cmocka_unit_test(test_thumb_image_make_refuses_broken_input),
        cmocka_unit_test(test_thumb_image_make_enforces_limits),
        cmocka_unit_test(test_thumb_image_make_refuses_a_tables_only_jpeg),
        cmocka_unit_test(test_thumb_image_make_survives_mutations),
    };

    return cmocka_run_group_tests_name("consumers/thumbnail/thumb_image", tests, NULL, NULL);
}
