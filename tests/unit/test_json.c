/*
 * test_json - the one JSON string escaper (mc_json): what each character
 * becomes, that Vietnamese text passes through, that invalid UTF-8 never
 * reaches the output, and that a cut literal is still valid JSON.
 *
 * Contract: pure function tests, no files, no sockets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_json.h"
#include "mc_test.h"

/* lit - mc_json_string of text into a buffer big enough for any text of its length */
static const char *lit(const char *text, char *buf, size_t size)
{
    bool cut = true;
    mc_json_string(buf, size, text, &cut);
    return cut ? "(cut)" : buf;
}

/* via_stream - mc_json_fputs of text, read back; malloc'd or NULL */
static char *via_stream(const char *text)
{
    char *data = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&data, &len);
    if (!f)
        return NULL;
    int rc = mc_json_fputs(f, text);
    if (fclose(f) != 0 || rc != 0) {
        free(data);
        return NULL;
    }
    return data;
}

MC_TEST(escapes_each_kind)
{
    char b[256];
    CHECK_STR(lit("", b, sizeof b), "\"\"");
    CHECK_STR(lit(NULL, b, sizeof b), "\"\"");
    CHECK_STR(lit("a\"b\\c", b, sizeof b), "\"a\\\"b\\\\c\"");
    CHECK_STR(lit("x\ny\rz\t", b, sizeof b), "\"x\\ny\\rz\\t\"");
    CHECK_STR(lit("\x01\x1f\x7f/", b, sizeof b), "\"\\u0001\\u001f\\u007f/\"");
    /* Vietnamese (2- and 3-byte sequences) and a 4-byte one pass unchanged */
    CHECK_STR(lit("Hồ sơ đã tiếp nhận 😀", b, sizeof b), "\"Hồ sơ đã tiếp nhận 😀\"");
}

MC_TEST(invalid_utf8_is_replaced)
{
    char b[256];
    CHECK_STR(lit("a\xff" "b", b, sizeof b), "\"a\\ufffdb\"");
    CHECK_STR(lit("\xc3", b, sizeof b), "\"\\ufffd\"");                 /* cut short */
    CHECK_STR(lit("\xc0\xaf", b, sizeof b), "\"\\ufffd\\ufffd\"");      /* overlong '/' */
    CHECK_STR(lit("\xed\xa0\x80", b, sizeof b), "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
    CHECK_STR(lit("\xf4\x90\x80\x80", b, sizeof b), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

MC_TEST(worst_case_fits_the_bound)
{
    const char *worst = "\x01\xff\x02\xfe";
    char b[MC_JSON_STRING_MAX(4)];
    bool cut = true;
    size_t n = mc_json_string(b, sizeof b, worst, &cut);
    CHECK(!cut);
    CHECK_INT(n, sizeof b - 1);
    CHECK_STR(b, "\"\\u0001\\ufffd\\u0002\\ufffd\"");
}

MC_TEST(cut_at_a_character)
{
    /* "đ" is two bytes, "\n" two characters: a short buffer never splits either */
    char b[7];
    bool cut = false;
    size_t n = mc_json_string(b, sizeof b, "ađ\nb", &cut);
    CHECK(cut);
    CHECK_STR(b, "\"ađ\"");
    CHECK_INT(n, strlen(b));
    n = mc_json_string(b, 5, "a\nb", &cut);
    CHECK(cut);
    CHECK_STR(b, "\"a\"");
    n = mc_json_string(b, 3, "abc", &cut);
    CHECK(cut);
    CHECK_STR(b, "\"\"");
    CHECK_INT(n, 2);
    n = mc_json_string(b, 2, "abc", &cut);
    CHECK(cut);
    CHECK_INT(n, 0);
    CHECK_STR(b, "");
}

MC_TEST(stream_writes_the_same)
{
    const char *texts[] = {"", "a\"\\\n\r\t\x01\x7f", "Trần Văn Minh", "x\xff\xc3"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char b[256];
        char *s = via_stream(texts[i]);
        REQUIRE(s);
        mc_json_string(b, sizeof b, texts[i], NULL);
        CHECK_STR(s, b);
        free(s);
    }
}

/* main - run every test */
int main(void)
{
    mc_test_run(escapes_each_kind);
    mc_test_run(invalid_utf8_is_replaced);
    mc_test_run(worst_case_fits_the_bound);
    mc_test_run(cut_at_a_character);
    mc_test_run(stream_writes_the_same);
    return mc_test_done("test_json");
}
