/*
 * png_check - PNG reading for tests, by libpng: enough to look at what
 * rsvg-convert made of a chart (size, colours, not blank).
 *
 * Contract: png_check_read() decodes any PNG libpng reads (any colour
 * type, bit depth, interlacing) into 8-bit RGBA (alpha 255 where the file
 * has none). A file libpng refuses (bad signature, a chunk that runs past
 * the end, a CRC error in any chunk, too little or too much image data, a
 * bad row filter) or with bytes after IEND is refused with a reason in
 * why, never read outside its bytes. Test code only: it links libpng, the
 * daemons do not.
 */
#ifndef PNG_CHECK_H
#define PNG_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* the largest file and picture png_check_read accepts (a test's chart is far smaller) */
#define PNG_CHECK_MAX_FILE_BYTES (64u * 1024u * 1024u)
#define PNG_CHECK_MAX_SIDE       16384u
#define PNG_CHECK_MAX_PIXELS     (32u * 1024u * 1024u)

/* a decoded picture */
typedef struct png_image {
    uint32_t width;  /* px */
    uint32_t height; /* px */
    uint8_t *rgba;   /* width * height * 4 bytes, row by row, top first */
} png_image_t;

/*
 * png_check_read - read and decode the PNG at path into *img (free with
 * png_check_free). Returns 0, or -1 with the reason in why (and *img
 * zeroed).
 */
int png_check_read(const char *path, png_image_t *img, char *why, size_t why_size);

/*
 * png_check_decode - the same from bytes in memory (what png_check_read
 * does after reading the file).
 */
int png_check_decode(const uint8_t *data, size_t size, png_image_t *img, char *why,
                     size_t why_size);

/* png_check_free - free the pixels and zero *img */
void png_check_free(png_image_t *img);

/* png_check_count_color - pixels whose r, g, b are each within tolerance of the colour
 * (alpha ignored) */
size_t png_check_count_color(const png_image_t *img, uint8_t r, uint8_t g, uint8_t b,
                             int tolerance);

/* png_check_count_other - pixels NOT within tolerance of the colour: e.g. non-background pixels */
size_t png_check_count_other(const png_image_t *img, uint8_t r, uint8_t g, uint8_t b,
                             int tolerance);

/* png_check_count_transparent - pixels whose alpha is below 255 */
size_t png_check_count_transparent(const png_image_t *img);

/* png_check_distinct_colors - how many different RGBA values the picture holds */
size_t png_check_distinct_colors(const png_image_t *img);

#endif
