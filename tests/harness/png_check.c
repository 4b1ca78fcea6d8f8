/*
 * png_check - a small PNG reader for tests (contract in png_check.h).
 *
 * The format is the PNG specification (ISO/IEC 15948, W3C PNG 2nd ed.):
 * 8-byte signature, then chunks of length (4 bytes, big-endian, < 2^31),
 * type (4 letters), data, CRC-32 of type and data; IHDR first, IEND last,
 * the image in the zlib stream cut across consecutive IDAT chunks, each row
 * preceded by its filter type (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth).
 * Every length is checked against the bytes that are left before it is
 * used, so a truncated or hostile file fails with a reason instead of
 * being read out of bounds.
 */
#include "png_check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

static const uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

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

/* be32 - the big-endian 32-bit number at p (the caller has checked 4 bytes are there) */
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* chunk_name - a chunk type as printable text for messages */
static const char *chunk_name(const uint8_t *type, char buf[5])
{
    for (int i = 0; i < 4; i++)
        buf[i] = (type[i] >= 0x20 && type[i] < 0x7F) ? (char)type[i] : '?';
    buf[4] = '\0';
    return buf;
}

/* is_chunk_type - are these four bytes ASCII letters, as the format requires? */
static bool is_chunk_type(const uint8_t *type)
{
    for (int i = 0; i < 4; i++) {
        uint8_t c = type[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
            return false;
    }
    return true;
}

/* paeth - the Paeth predictor of filter type 4 (left a, up b, upper-left c) */
static uint8_t paeth(int a, int b, int c)
{
    int p = a + b - c;
    int pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    if (pa <= pb && pa <= pc)
        return (uint8_t)a;
    return (uint8_t)(pb <= pc ? b : c);
}

/* unfilter - undo each row's filter in place; raw holds height rows of 1 + stride bytes */
static int unfilter(uint8_t *raw, uint32_t height, size_t stride, size_t bpp, char *why,
                    size_t why_size)
{
    const uint8_t *prev = NULL; /* the row above, already unfiltered; none for the first */
    for (uint32_t y = 0; y < height; y++) {
        uint8_t *row = raw + (size_t)y * (stride + 1);
        uint8_t filter = row[0];
        uint8_t *cur = row + 1;
        for (size_t i = 0; i < stride; i++) {
            int left = i >= bpp ? cur[i - bpp] : 0;
            int up = prev ? prev[i] : 0;
            int up_left = (prev && i >= bpp) ? prev[i - bpp] : 0;
            switch (filter) {
            case 0: break;
            case 1: cur[i] = (uint8_t)(cur[i] + left); break;
            case 2: cur[i] = (uint8_t)(cur[i] + up); break;
            case 3: cur[i] = (uint8_t)(cur[i] + (left + up) / 2); break;
            case 4: cur[i] = (uint8_t)(cur[i] + paeth(left, up, up_left)); break;
            default:
                return fail(why, why_size, "row %u: unknown filter type %u", y, filter);
            }
        }
        prev = cur;
    }
    return 0;
}

/* inflate_all - inflate the IDAT stream into exactly raw_size bytes; -1 if it is short,
 * long, incomplete or corrupt */
static int inflate_all(const uint8_t *idat, size_t idat_len, uint8_t *raw, size_t raw_size,
                       char *why, size_t why_size)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK)
        return fail(why, why_size, "inflateInit failed");
    zs.next_in = (Bytef *)(uintptr_t)idat; /* zlib's API is not const; it only reads */
    zs.avail_in = (uInt)idat_len;
    zs.next_out = raw;
    zs.avail_out = (uInt)(raw_size + 1); /* one byte more, to notice too much data */
    int rc = inflate(&zs, Z_FINISH);
    unsigned long produced = zs.total_out;
    const char *msg = zs.msg ? zs.msg : "";
    char detail[128];
    snprintf(detail, sizeof detail, "%s", msg);
    inflateEnd(&zs);
    if (rc == Z_STREAM_END) {
        if (produced != raw_size)
            return fail(why, why_size, "image data is %lu bytes, the header says %zu", produced,
                        raw_size);
        return 0;
    }
    if (rc == Z_DATA_ERROR)
        return fail(why, why_size, "corrupt image data (zlib: %s)", detail);
    if (produced > raw_size)
        return fail(why, why_size, "more image data than the header says (%zu bytes)", raw_size);
    return fail(why, why_size, "image data ends early (%lu of %zu bytes; truncated?)", produced,
                raw_size);
}

/* png_check_decode - decode a PNG held in memory */
int png_check_decode(const uint8_t *data, size_t size, png_image_t *img, char *why,
                     size_t why_size)
{
    memset(img, 0, sizeof *img);
    if (size < sizeof png_signature || memcmp(data, png_signature, sizeof png_signature) != 0)
        return fail(why, why_size, "not a PNG file (bad signature)");

    uint32_t width = 0, height = 0;
    uint8_t colour_type = 0;
    bool seen_ihdr = false, seen_iend = false, idat_done = false;
    uint8_t *idat = NULL; /* the IDAT chunks' data, concatenated */
    size_t idat_len = 0;
    size_t pos = sizeof png_signature;
    char name[5];
    int rc = -1;

    while (pos < size && !seen_iend) {
        if (size - pos < 12) {
            fail(why, why_size, "truncated chunk header at byte %zu", pos);
            goto out;
        }
        uint32_t len = be32(data + pos);
        const uint8_t *type = data + pos + 4;
        const uint8_t *body = data + pos + 8;
        if (len > 0x7FFFFFFFu || len > size - pos - 12) {
            fail(why, why_size, "chunk %s at byte %zu: %u bytes run past the end of the file "
                 "(truncated?)", chunk_name(type, name), pos, len);
            goto out;
        }
        if (!is_chunk_type(type)) {
            fail(why, why_size, "bad chunk type at byte %zu", pos);
            goto out;
        }
        uLong crc = crc32(crc32(0L, Z_NULL, 0), type, (uInt)(4 + len));
        if ((uint32_t)crc != be32(body + len)) {
            fail(why, why_size, "chunk %s at byte %zu: CRC mismatch", chunk_name(type, name),
                 pos);
            goto out;
        }
        bool is_idat = memcmp(type, "IDAT", 4) == 0;
        if (!seen_ihdr && memcmp(type, "IHDR", 4) != 0) {
            fail(why, why_size, "first chunk is %s, not IHDR", chunk_name(type, name));
            goto out;
        }
        if (idat_len > 0 && !is_idat)
            idat_done = true;
        if (memcmp(type, "IHDR", 4) == 0) {
            if (seen_ihdr || len != 13) {
                fail(why, why_size, "IHDR repeated or not 13 bytes long");
                goto out;
            }
            seen_ihdr = true;
            width = be32(body);
            height = be32(body + 4);
            uint8_t depth = body[8];
            colour_type = body[9];
            if (width == 0 || height == 0 || width > PNG_CHECK_MAX_SIDE ||
                height > PNG_CHECK_MAX_SIDE || (uint64_t)width * height > PNG_CHECK_MAX_PIXELS) {
                fail(why, why_size, "unsupported size %ux%u", width, height);
                goto out;
            }
            if (depth != 8 || (colour_type != 2 && colour_type != 6)) {
                fail(why, why_size, "unsupported bit depth %u / colour type %u (only 8-bit RGB "
                     "or RGBA)", depth, colour_type);
                goto out;
            }
            if (body[10] != 0 || body[11] != 0 || body[12] != 0) {
                fail(why, why_size, "unsupported compression %u / filter %u / interlace %u",
                     body[10], body[11], body[12]);
                goto out;
            }
        } else if (is_idat) {
            if (idat_done) {
                fail(why, why_size, "IDAT chunks are not consecutive");
                goto out;
            }
            if (len > 0) {
                uint8_t *grown = realloc(idat, idat_len + len);
                if (!grown) {
                    fail(why, why_size, "out of memory");
                    goto out;
                }
                idat = grown;
                memcpy(idat + idat_len, body, len);
                idat_len += len;
            }
        } else if (memcmp(type, "IEND", 4) == 0) {
            seen_iend = true;
        } else if (type[0] >= 'A' && type[0] <= 'Z' && memcmp(type, "PLTE", 4) != 0) {
            /* an upper-case first letter marks a chunk a decoder must understand */
            fail(why, why_size, "unknown critical chunk %s", chunk_name(type, name));
            goto out;
        }
        pos += 12 + (size_t)len;
    }
    if (!seen_iend) {
        fail(why, why_size, "no IEND chunk (truncated?)");
        goto out;
    }
    if (pos != size) {
        fail(why, why_size, "%zu bytes after IEND", size - pos);
        goto out;
    }
    if (idat_len == 0) {
        fail(why, why_size, "no image data (IDAT)");
        goto out;
    }

    size_t bpp = colour_type == 6 ? 4 : 3;
    size_t stride = (size_t)width * bpp;
    size_t raw_size = (size_t)height * (stride + 1);
    uint8_t *raw = malloc(raw_size + 1);
    uint8_t *rgba = malloc((size_t)width * height * 4);
    if (!raw || !rgba) {
        free(raw);
        free(rgba);
        fail(why, why_size, "out of memory");
        goto out;
    }
    if (inflate_all(idat, idat_len, raw, raw_size, why, why_size) < 0 ||
        unfilter(raw, height, stride, bpp, why, why_size) < 0) {
        free(raw);
        free(rgba);
        goto out;
    }
    for (uint32_t y = 0; y < height; y++) {
        const uint8_t *src = raw + (size_t)y * (stride + 1) + 1;
        uint8_t *dst = rgba + (size_t)y * width * 4;
        for (uint32_t x = 0; x < width; x++, src += bpp, dst += 4) {
            dst[0] = src[0];
            dst[1] = src[1];
            dst[2] = src[2];
            dst[3] = bpp == 4 ? src[3] : 255;
        }
    }
    free(raw);
    img->width = width;
    img->height = height;
    img->rgba = rgba;
    rc = 0;
out:
    free(idat);
    return rc;
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
