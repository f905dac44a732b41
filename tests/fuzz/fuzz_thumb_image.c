/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer entry for consumers/thumbnail/thumb_image.c: any bytes through
 * the whole pipeline (sniff, EXIF, TurboJPEG or stb_image decode, resize,
 * orient, encode) with two boxes. The pixel limit is kept small so that a
 * large declared image is refused rather than slowing the run; the decode
 * paths are the same. The first byte picks the output format.
 */
#include "thumb_image.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct thumb_image_box boxes[2] = {{256, 256}, {40, 90}};
    struct thumb_image_result r;
    struct thumb_image_opts o;

    thumb_image_opts_init(&o, &boxes[0]);
    o.boxes = boxes;
    o.nboxes = 2;
    o.max_pixels = 4 * 1000 * 1000;
    o.max_bytes = 4 * 1024 * 1024;
    if (size > 0)
        o.output = (enum thumb_image_output)(data[0] % 3);
    (void)thumb_image_exif_orientation(data, size);
    if (thumb_image_make(data, size, &o, &r) == 0)
        thumb_image_result_cleanup(&r);
    return 0;
}
