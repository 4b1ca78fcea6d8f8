/*
 * test_png_check - the PNG reader the chart tests rely on (libpng behind
 * png_check): it must decode what it is given exactly (every row filter,
 * IDAT split anywhere, any colour type to RGBA) and refuse every broken
 * file with a reason, without reading out of bounds (run under `make
 * asan` to see the latter).
 *
 * Contract: the PNGs are made here by a small encoder over zlib (it can
 * make the broken files libpng's writer refuses to) and, for a kind the
 * charts never are, by libpng's writer, so each test knows the pixels it
 * should get back; no file outside a temp directory is touched.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <png.h>
#include <zlib.h>

#include "mc_test.h"
#include "png_check.h"

/* a growing byte buffer */
typedef struct bytes {
    uint8_t *data;
    size_t   len;
    size_t   cap;
    bool     failed; /* out of memory once: the content is incomplete */
} bytes_t;

/* put - append n bytes */
static void put(bytes_t *b, const void *p, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *grown = realloc(b->data, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* put_be32 - append a big-endian 32-bit number */
static void put_be32(bytes_t *b, uint32_t v)
{
    uint8_t p[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(b, p, 4);
}

/* put_chunk - append one chunk with its length and a correct CRC */
static void put_chunk(bytes_t *b, const char *type, const uint8_t *data, size_t len)
{
    put_be32(b, (uint32_t)len);
    put(b, type, 4);
    if (len)
        put(b, data, len);
    uLong crc = crc32(crc32(0L, Z_NULL, 0), (const Bytef *)type, 4);
    if (len)
        crc = crc32(crc, data, (uInt)len);
    put_be32(b, (uint32_t)crc);
}

/* write_bytes - libpng's writer into a bytes_t */
static void write_bytes(png_structp png, png_bytep data, size_t n)
{
    put(png_get_io_ptr(png), data, n);
}

/* how to make a test PNG; zero values mean the ordinary choice */
typedef struct png_spec {
    uint32_t       width, height;
    uint8_t        colour_type;  /* 2 or 6 (or anything, to test refusals) */
    uint8_t        depth;        /* 0: 8 */
    uint8_t        interlace;    /* 1: Adam7 (refused) */
    int            filter;       /* -1: row y uses filter y % 5; else this one for every row */
    uint32_t       rows_in_data; /* 0: height; fewer or more rows than the header says */
    size_t         idat_split;   /* 0: one IDAT; else IDAT chunks of this many bytes */
    const uint8_t *pixels;       /* width * height * bytes per pixel */
} png_spec_t;

/* pixel_bytes - bytes per pixel of an 8-bit colour type */
static size_t pixel_bytes(uint8_t colour_type)
{
    return colour_type == 6 ? 4 : 3;
}

/* encode - a PNG of spec into *out; -1 if something could not be made */
static int encode(const png_spec_t *spec, bytes_t *out)
{
    size_t bpp = pixel_bytes(spec->colour_type);
    size_t stride = spec->width * bpp;
    uint32_t rows = spec->rows_in_data ? spec->rows_in_data : spec->height;
    size_t raw_size = rows * (stride + 1);
    uint8_t *raw = calloc(1, raw_size);
    uLongf packed_size = compressBound((uLong)raw_size);
    uint8_t *packed = malloc(packed_size);
    if (!raw || !packed) {
        free(raw);
        free(packed);
        return -1;
    }
    for (uint32_t y = 0; y < rows; y++) {
        /* rows beyond the picture repeat its last row: only their count matters */
        uint32_t sy = y < spec->height ? y : spec->height - 1;
        const uint8_t *cur = spec->pixels + sy * stride;
        const uint8_t *prev = sy > 0 ? spec->pixels + (sy - 1) * stride : NULL;
        int filter = spec->filter >= 0 ? spec->filter : (int)(y % 5);
        uint8_t *dst = raw + y * (stride + 1);
        dst[0] = (uint8_t)filter;
        for (size_t i = 0; i < stride; i++) {
            int a = i >= bpp ? cur[i - bpp] : 0, b = prev ? prev[i] : 0;
            int c = (prev && i >= bpp) ? prev[i - bpp] : 0, pred = 0;
            if (filter == 1)
                pred = a;
            else if (filter == 2)
                pred = b;
            else if (filter == 3)
                pred = (a + b) / 2;
            else if (filter == 4) {
                int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
                pred = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
            }
            dst[1 + i] = (uint8_t)(cur[i] - pred);
        }
    }
    if (compress2(packed, &packed_size, raw, (uLong)raw_size, 9) != Z_OK) {
        free(raw);
        free(packed);
        return -1;
    }
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    put(out, signature, 8);
    uint8_t ihdr[13];
    for (int i = 0; i < 4; i++) {
        ihdr[i] = (uint8_t)(spec->width >> (24 - 8 * i));
        ihdr[4 + i] = (uint8_t)(spec->height >> (24 - 8 * i));
    }
    ihdr[8] = spec->depth ? spec->depth : 8;
    ihdr[9] = spec->colour_type;
    ihdr[10] = 0;
    ihdr[11] = 0;
    ihdr[12] = spec->interlace;
    put_chunk(out, "IHDR", ihdr, 13);
    put_chunk(out, "tEXt", (const uint8_t *)"Comment\0test", 12); /* ancillary: skipped */
    size_t split = spec->idat_split ? spec->idat_split : packed_size;
    for (size_t at = 0; at < packed_size; at += split)
        put_chunk(out, "IDAT", packed + at, packed_size - at < split ? packed_size - at : split);
    put_chunk(out, "IEND", NULL, 0);
    free(raw);
    free(packed);
    return out->failed ? -1 : 0;
}

/* test_pixels - a deterministic, noisy picture (so every filter really predicts something):
 * the top half in values 0..3, where the Paeth predictor's ties (which neighbour wins when
 * two are equally close) happen often, the rest over the whole byte range */
static uint8_t *test_pixels(uint32_t width, uint32_t height, size_t bpp)
{
    size_t n = (size_t)width * height * bpp;
    uint8_t *p = malloc(n);
    uint32_t state = 12345;
    for (size_t i = 0; p && i < n; i++) {
        state = state * 1103515245u + 12345u;
        if (i < n / 2)
            p[i] = (uint8_t)((state >> 16) % 4);
        else
            p[i] = (uint8_t)(i % 7 == 0 ? state >> 16 : (i * 37) ^ (i >> 3));
    }
    return p;
}

/* decode_copy - png_check_decode on an exact-size heap copy, so ASan sees any over-read */
static int decode_copy(const uint8_t *data, size_t size, png_image_t *img, char *why,
                       size_t why_size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return -2;
    if (size)
        memcpy(copy, data, size);
    int rc = png_check_decode(copy, size, img, why, why_size);
    free(copy);
    return rc;
}

/* refused - does decoding the spec's PNG fail with a reason containing expected? */
static bool refused(const png_spec_t *spec, const char *expected)
{
    bytes_t png = {0};
    png_image_t img;
    char why[256] = "";
    bool ok = encode(spec, &png) == 0 &&
              decode_copy(png.data, png.len, &img, why, sizeof why) == -1 &&
              img.rgba == NULL && strstr(why, expected) != NULL;
    if (!ok)
        printf("  expected a refusal containing \"%s\", got \"%s\"\n", expected, why);
    free(png.data);
    return ok;
}

MC_TEST(test_rgba_every_filter_split_idat)
{
    uint8_t *pixels = test_pixels(13, 11, 4);
    REQUIRE(pixels);
    png_spec_t spec = {.width = 13, .height = 11, .colour_type = 6, .filter = -1,
                       .idat_split = 7, .pixels = pixels};
    bytes_t png = {0};
    REQUIRE(encode(&spec, &png) == 0);
    png_image_t img;
    char why[256] = "";
    CHECK_INT(decode_copy(png.data, png.len, &img, why, sizeof why), 0);
    if (why[0])
        printf("  why: %s\n", why);
    CHECK_INT(img.width, 13);
    CHECK_INT(img.height, 11);
    CHECK(img.rgba && memcmp(img.rgba, pixels, 13 * 11 * 4) == 0);
    png_check_free(&img);
    CHECK(img.rgba == NULL && img.width == 0);
    free(png.data);
    free(pixels);
}

MC_TEST(test_rgb_gets_opaque_alpha)
{
    uint8_t *pixels = test_pixels(9, 10, 3);
    REQUIRE(pixels);
    png_spec_t spec = {.width = 9, .height = 10, .colour_type = 2, .filter = -1,
                       .pixels = pixels};
    bytes_t png = {0};
    REQUIRE(encode(&spec, &png) == 0);
    png_image_t img;
    char why[256] = "";
    REQUIRE(decode_copy(png.data, png.len, &img, why, sizeof why) == 0);
    bool same = true;
    for (size_t i = 0; i < 9 * 10; i++)
        same = same && memcmp(img.rgba + 4 * i, pixels + 3 * i, 3) == 0 && img.rgba[4 * i + 3] == 255;
    CHECK(same);
    CHECK_INT(png_check_count_transparent(&img), 0);
    png_check_free(&img);
    free(png.data);
    free(pixels);
}

MC_TEST(test_every_truncation_is_refused)
{
    uint8_t *pixels = test_pixels(13, 11, 4);
    REQUIRE(pixels);
    png_spec_t spec = {.width = 13, .height = 11, .colour_type = 6, .filter = -1,
                       .idat_split = 50, .pixels = pixels};
    bytes_t png = {0};
    REQUIRE(encode(&spec, &png) == 0);
    size_t accepted = 0, without_reason = 0;
    for (size_t len = 0; len < png.len; len++) {
        png_image_t img;
        char why[256] = "";
        if (decode_copy(png.data, len, &img, why, sizeof why) != -1 || img.rgba) {
            accepted++;
            png_check_free(&img);
        }
        if (!why[0])
            without_reason++;
    }
    CHECK_INT(accepted, 0);
    CHECK_INT(without_reason, 0);
    free(png.data);
    free(pixels);
}

MC_TEST(test_corruption_is_refused)
{
    uint8_t *pixels = test_pixels(8, 8, 3);
    REQUIRE(pixels);
    png_spec_t spec = {.width = 8, .height = 8, .colour_type = 2, .filter = -1, .pixels = pixels};
    bytes_t png = {0};
    REQUIRE(encode(&spec, &png) == 0);
    png_image_t img;
    char why[256];

    /* one bit flipped in every byte after the signature, in turn: the CRC (or the
     * length / type check) catches each */
    size_t accepted = 0;
    for (size_t i = 8; i < png.len; i++) {
        png.data[i] ^= 0x10;
        if (decode_copy(png.data, png.len, &img, why, sizeof why) == 0) {
            accepted++;
            png_check_free(&img);
        }
        png.data[i] ^= 0x10;
    }
    CHECK_INT(accepted, 0);

    png.data[0] = 'X';
    CHECK_INT(decode_copy(png.data, png.len, &img, why, sizeof why), -1);
    CHECK(strstr(why, "signature") != NULL);
    png.data[0] = 0x89;

    /* bytes after IEND */
    bytes_t longer = {0};
    put(&longer, png.data, png.len);
    put(&longer, "junk", 4);
    REQUIRE(!longer.failed);
    CHECK_INT(decode_copy(longer.data, longer.len, &img, why, sizeof why), -1);
    CHECK(strstr(why, "after IEND") != NULL);
    free(longer.data);
    free(png.data);
    free(pixels);
}

MC_TEST(test_inconsistent_files_are_refused)
{
    uint8_t *pixels = test_pixels(8, 8, 4);
    REQUIRE(pixels);
    png_spec_t spec = {.width = 8, .height = 8, .colour_type = 6, .filter = -1, .pixels = pixels};

    png_spec_t palette = spec; /* a palette picture without its PLTE chunk */
    palette.colour_type = 3;
    CHECK(refused(&palette, "Missing PLTE"));
    png_spec_t bad_filter = spec;
    bad_filter.filter = 5;
    CHECK(refused(&bad_filter, "bad adaptive filter value"));
    png_spec_t short_data = spec;
    short_data.rows_in_data = 7;
    CHECK(refused(&short_data, "Not enough image data"));
    png_spec_t long_data = spec;
    long_data.rows_in_data = 9;
    CHECK(refused(&long_data, "Too much image data"));
    png_spec_t empty = spec;
    empty.width = 0;
    CHECK(refused(&empty, "Invalid IHDR"));
    free(pixels);
}

/* grey16 - a 16-bit grey, interlaced PNG made by libpng's writer; 0 or -1 */
static int grey16(bytes_t *out, uint32_t width, uint32_t height, const uint16_t *grey)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_set_write_fn(png, out, write_bytes, NULL);
    png_set_IHDR(png, info, width, height, 16, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_ADAM7,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    png_set_swap(png); /* our samples are in host (little-endian) order */
    int passes = png_set_interlace_handling(png);
    for (int pass = 0; pass < passes; pass++)
        for (uint32_t y = 0; y < height; y++)
            png_write_row(png, (png_const_bytep)(grey + (size_t)y * width));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return out->failed ? -1 : 0;
}

MC_TEST(test_any_png_becomes_rgba)
{
    /* what the charts never are but libpng reads: 16-bit grey, interlaced */
    uint16_t grey[6 * 5];
    for (size_t i = 0; i < 6 * 5; i++)
        grey[i] = (uint16_t)(i * 2000 + 0x00FF);
    bytes_t png = {0};
    REQUIRE(grey16(&png, 6, 5, grey) == 0);
    png_image_t img;
    char why[256] = "";
    REQUIRE(decode_copy(png.data, png.len, &img, why, sizeof why) == 0);
    CHECK(img.width == 6 && img.height == 5);
    bool same = true;
    for (size_t i = 0; i < 6 * 5; i++) {
        uint8_t want = (uint8_t)(grey[i] >> 8), *p = img.rgba + 4 * i;
        same = same && p[0] == want && p[1] == want && p[2] == want && p[3] == 255;
    }
    CHECK(same);
    png_check_free(&img);
    free(png.data);
}

MC_TEST(test_counting_helpers)
{
    /* 4 x 2: white, white, orange, orange / red, transparent white, near-orange, black */
    const uint8_t pixels[] = {
        255, 255, 255, 255, 255, 255, 255, 255, 0xf2, 0x8e, 0x2b, 255, 0xf2, 0x8e, 0x2b, 255,
        0xc6, 0x28, 0x28, 255, 255, 255, 255, 0,   0xf0, 0x90, 0x2b, 255, 0,    0,    0,    255,
    };
    png_spec_t spec = {.width = 4, .height = 2, .colour_type = 6, .filter = -1, .pixels = pixels};
    bytes_t png = {0};
    REQUIRE(encode(&spec, &png) == 0);
    png_image_t img;
    char why[256];
    REQUIRE(decode_copy(png.data, png.len, &img, why, sizeof why) == 0);
    CHECK_INT(png_check_count_color(&img, 0xf2, 0x8e, 0x2b, 0), 2);
    CHECK_INT(png_check_count_color(&img, 0xf2, 0x8e, 0x2b, 3), 3);
    CHECK_INT(png_check_count_color(&img, 255, 255, 255, 0), 3); /* alpha ignored */
    CHECK_INT(png_check_count_other(&img, 255, 255, 255, 0), 5);
    CHECK_INT(png_check_count_transparent(&img), 1);
    CHECK_INT(png_check_distinct_colors(&img), 6);
    png_check_free(&img);
    free(png.data);
}

MC_TEST(test_read_file)
{
    uint8_t *pixels = test_pixels(5, 6, 4);
    REQUIRE(pixels);
    png_spec_t spec = {.width = 5, .height = 6, .colour_type = 6, .filter = -1, .pixels = pixels};
    bytes_t png = {0};
    REQUIRE(encode(&spec, &png) == 0);
    char path[] = "/tmp/test_png_check.XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    bool written = write(fd, png.data, png.len) == (ssize_t)png.len;
    close(fd);
    CHECK(written);
    png_image_t img;
    char why[256] = "";
    CHECK_INT(png_check_read(path, &img, why, sizeof why), 0);
    CHECK(img.rgba && img.width == 5 && img.height == 6 &&
          memcmp(img.rgba, pixels, 5 * 6 * 4) == 0);
    png_check_free(&img);

    /* truncated on disk: the reason names the file */
    REQUIRE(truncate(path, (off_t)png.len - 5) == 0);
    CHECK_INT(png_check_read(path, &img, why, sizeof why), -1);
    CHECK(strstr(why, path) != NULL);
    unlink(path);
    CHECK_INT(png_check_read(path, &img, why, sizeof why), -1);
    CHECK(strstr(why, "No such file") != NULL);
    free(png.data);
    free(pixels);
}

/* main - run every test */
int main(void)
{
    mc_test_run(test_rgba_every_filter_split_idat);
    mc_test_run(test_rgb_gets_opaque_alpha);
    mc_test_run(test_every_truncation_is_refused);
    mc_test_run(test_corruption_is_refused);
    mc_test_run(test_inconsistent_files_are_refused);
    mc_test_run(test_any_png_becomes_rgba);
    mc_test_run(test_counting_helpers);
    mc_test_run(test_read_file);
    return mc_test_done("test_png_check");
}
