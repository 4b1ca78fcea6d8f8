/*
 * png_check - PNG reading for tests (contract in png_check.h), by libpng.
 *
 * libpng does the format: signature, chunk bounds and CRCs (ancillary
 * chunks' too: PNG_CRC_ERROR_QUIT), chunk order, the zlib stream and the
 * row filters; its benign errors (too much or too little image data) are
 * made errors. What is ours: the bytes come from memory through a reader
 * that refuses to go past the end, libpng's error message becomes the
 * reason in why (its error handler longjmps back here), bytes after IEND
 * are refused, and every picture comes out as 8-bit RGBA.
 */
#include "png_check.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

/* fail - write the reason into why and return -1 */
static int fail(char *why, size_t why_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t why_size, const char *fmt, ...)
{
    if (why && why_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, why_size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* one decode: libpng's I/O and error pointer */
typedef struct reader {
    const uint8_t *data;     /* the whole file */
    size_t         size;     /* bytes in data */
    size_t         pos;      /* next byte libpng reads */
    char          *why;      /* where the reason goes */
    size_t         why_size; /* bytes in why */
    jmp_buf        jmp;      /* back to png_check_decode on an error */
} reader_t;

/* on_error - libpng's error handler: keep its message, go back (it must not return) */
static void on_error(png_structp png, png_const_charp msg)
{
    reader_t *r = png_get_error_ptr(png);
    fail(r->why, r->why_size, "%s (at byte %zu)", msg, r->pos);
    longjmp(r->jmp, 1);
}

/* on_warning - libpng's warnings are not refusals: what matters is an error */
static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* read_bytes - libpng's reader over memory; never past the end of the file */
static void read_bytes(png_structp png, png_bytep out, size_t n)
{
    reader_t *r = png_get_io_ptr(png);
    if (n > r->size - r->pos)
        png_error(png, "file ends early (truncated?)");
    memcpy(out, r->data + r->pos, n);
    r->pos += n;
}

/* png_check_decode - decode a PNG held in memory into 8-bit RGBA */
int png_check_decode(const uint8_t *data, size_t size, png_image_t *img, char *why,
                     size_t why_size)
{
    memset(img, 0, sizeof *img);
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0)
        return fail(why, why_size, "not a PNG file (bad signature)");
    reader_t r = {.data = data, .size = size, .why = why, .why_size = why_size};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return fail(why, why_size, "out of memory");
    }
    uint8_t *volatile rgba = NULL;      /* volatile: set after setjmp, freed after longjmp */
    png_bytep *volatile rows = NULL;
    if (setjmp(r.jmp)) {
        free(rows);
        free(rgba);
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_set_read_fn(png, &r, read_bytes);
    png_set_crc_action(png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
    png_set_benign_errors(png, 0);
    png_set_user_limits(png, PNG_CHECK_MAX_SIDE, PNG_CHECK_MAX_SIDE);
    png_read_info(png, info);
    uint32_t width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    if ((uint64_t)width * height > PNG_CHECK_MAX_PIXELS)
        png_error(png, "unsupported size: too many pixels");
    /* any colour type, depth and interlacing to 8-bit RGBA */
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_gray_to_rgb(png);
    png_set_add_alpha(png, 0xFF, PNG_FILLER_AFTER);
    (void)png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)width * 4)
        png_error(png, "not converted to 8-bit RGBA");
    rgba = malloc((size_t)width * height * 4);
    rows = malloc(height * sizeof *rows);
    if (!rgba || !rows)
        png_error(png, "out of memory");
    for (uint32_t y = 0; y < height; y++)
        rows[y] = rgba + (size_t)y * width * 4;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    if (r.pos != size)
        png_error(png, "bytes after IEND");
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    img->width = width;
    img->height = height;
    img->rgba = rgba;
    return 0;
}

/* png_check_read - read the file at path (at most PNG_CHECK_MAX_FILE_BYTES) and decode it */
int png_check_read(const char *path, png_image_t *img, char *why, size_t why_size)
{
    memset(img, 0, sizeof *img);
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(why, why_size, "%s: %s", path, strerror(errno));
    uint8_t *data = NULL;
    size_t size = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (size == cap) {
            if (cap >= PNG_CHECK_MAX_FILE_BYTES) {
                rc = fail(why, why_size, "%s: larger than %u bytes", path,
                          PNG_CHECK_MAX_FILE_BYTES);
                break;
            }
            size_t grown_cap = cap ? cap * 2 : 65536;
            uint8_t *grown = realloc(data, grown_cap);
            if (!grown) {
                rc = fail(why, why_size, "%s: out of memory", path);
                break;
            }
            data = grown;
            cap = grown_cap;
        }
        size_t got = fread(data + size, 1, cap - size, f);
        size += got;
        if (got == 0) {
            if (ferror(f))
                rc = fail(why, why_size, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (rc == 0) {
        char reason[256] = "";
        rc = png_check_decode(data, size, img, reason, sizeof reason);
        if (rc < 0)
            fail(why, why_size, "%s: %s", path, reason);
    }
    free(data);
    return rc;
}

/* png_check_free - free the pixels and zero *img */
void png_check_free(png_image_t *img)
{
    if (!img)
        return;
    free(img->rgba);
    memset(img, 0, sizeof *img);
}

/* near - is each of r, g, b within tolerance of the pixel's? */
static bool near(const uint8_t *p, uint8_t r, uint8_t g, uint8_t b, int tolerance)
{
    return abs(p[0] - r) <= tolerance && abs(p[1] - g) <= tolerance && abs(p[2] - b) <= tolerance;
}

/* png_check_count_color - pixels within tolerance of the colour */
size_t png_check_count_color(const png_image_t *img, uint8_t r, uint8_t g, uint8_t b,
                             int tolerance)
{
    size_t n = 0, pixels = (size_t)img->width * img->height;
    for (size_t i = 0; img->rgba && i < pixels; i++)
        n += near(img->rgba + 4 * i, r, g, b, tolerance);
    return n;
}

/* png_check_count_other - pixels not within tolerance of the colour */
size_t png_check_count_other(const png_image_t *img, uint8_t r, uint8_t g, uint8_t b,
                             int tolerance)
{
    size_t pixels = img->rgba ? (size_t)img->width * img->height : 0;
    return pixels - png_check_count_color(img, r, g, b, tolerance);
}

/* png_check_count_transparent - pixels whose alpha is below 255 */
size_t png_check_count_transparent(const png_image_t *img)
{
    size_t n = 0, pixels = (size_t)img->width * img->height;
    for (size_t i = 0; img->rgba && i < pixels; i++)
        n += img->rgba[4 * i + 3] < 255;
    return n;
}

/* compare_u32 - qsort order of two uint32_t */
static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* png_check_distinct_colors - how many different RGBA values; 0 if there are no pixels or no memory */
size_t png_check_distinct_colors(const png_image_t *img)
{
    size_t pixels = (size_t)img->width * img->height;
    if (!img->rgba || pixels == 0)
        return 0;
    uint32_t *values = malloc(pixels * sizeof *values);
    if (!values)
        return 0;
    for (size_t i = 0; i < pixels; i++) {
        const uint8_t *p = img->rgba + 4 * i;
        values[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    }
    qsort(values, pixels, sizeof *values, compare_u32);
    size_t distinct = 1;
    for (size_t i = 1; i < pixels; i++)
        distinct += values[i] != values[i - 1];
    free(values);
    return distinct;
}
