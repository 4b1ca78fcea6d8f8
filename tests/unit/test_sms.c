/*
 * test_sms - SMS without diacritics (notify.sms_ascii) and the parts the
 * shipped SMS templates take (services/notify/notify_templates.c): every one
 * of the 134 precomposed Vietnamese letters with diacritics becomes its base
 * letter, decomposed text (combining marks) too; the part count follows
 * GSM-7 / UCS-2; each template of config/notifications.yaml, rendered with
 * realistic (long) values, fits SMS_MAX_PARTS parts with diacritics and
 * SMS_MAX_PARTS_ASCII without. Pure functions: no store, no sockets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_test.h"
#include "notify.h"

#define SMS_MAX_PARTS       2 /* UCS-2: 134 characters */
#define SMS_MAX_PARTS_ASCII 1 /* GSM-7: 160 characters */
/* the two that carry a link with the dossier's secret (about 95 characters) */
#define SMS_MAX_PARTS_LINK       3
#define SMS_MAX_PARTS_LINK_ASCII 2

/* the 134 letters, written here independently of the code's table, and their bases */
static const char all_letters[] =
    "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
    "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴĐ";
static const char all_bases[] =
    "aaaaaaaaaaaaaaaaaeeeeeeeeeeeiiiiiooooooooooooooooouuuuuuuuuuuyyyyyd"
    "AAAAAAAAAAAAAAAAAEEEEEEEEEEEIIIIIOOOOOOOOOOOOOOOOOUUUUUUUUUUUYYYYYD";

/* code_points - UTF-8 code points in s (continuation bytes not counted) */
static size_t code_points(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

MC_TEST(test_unaccent_every_precomposed_letter)
{
    CHECK_INT(code_points(all_letters), 134);
    CHECK_INT(strlen(all_bases), 134);
    char buf[sizeof all_letters];
    memcpy(buf, all_letters, sizeof all_letters);
    CHECK_INT(notify_sms_unaccent(buf), 134);
    CHECK_STR(buf, all_bases);
    /* each letter alone too: no neighbour hides a wrong length */
    const char *p = all_letters;
    for (size_t i = 0; i < 134; i++) {
        size_t len = 1;
        while (((unsigned char)p[len] & 0xC0) == 0x80)
            len++;
        char one[8] = {0};
        memcpy(one, p, len);
        notify_sms_unaccent(one);
        CHECK(one[0] == all_bases[i] && one[1] == '\0');
        p += len;
    }
}

MC_TEST(test_unaccent_decomposed_marks)
{
    /* NFD: e + circumflex (U+0302) + tilde (U+0303); o + horn (U+031B) + dot below (U+0323);
     * a + breve (U+0306) + grave (U+0300); u + horn + hook above (U+0309); i + acute (U+0301) */
    char buf[] = "Nguye\xcc\x82\xcc\x83n, o\xcc\x9b\xcc\xa3, a\xcc\x86\xcc\x80, "
                 "u\xcc\x9b\xcc\x89, Vie\xcc\x82\xcc\xa3t ti\xcc\x81";
    notify_sms_unaccent(buf);
    CHECK_STR(buf, "Nguyen, o, a, u, Viet ti");
    char mixed[] = "Đặng Thị Ngọc Ánh, phường Văn Miếu - Quốc Tử Giám";
    notify_sms_unaccent(mixed);
    CHECK_STR(mixed, "Dang Thi Ngoc Anh, phuong Van Mieu - Quoc Tu Giam");
}

MC_TEST(test_unaccent_keeps_the_rest)
{
    char other[] = "Giá 100€ – «ok» 😀 [x]";
    notify_sms_unaccent(other);
    CHECK_STR(other, "Gia 100€ – «ok» 😀 [x]");
    char bad[] = "a\xff\xc3(b\xe1\xbb";   /* invalid and truncated UTF-8: kept, no crash */
    notify_sms_unaccent(bad);
    CHECK_STR(bad, "a\xff\xc3(b\xe1\xbb");
    char empty[] = "";
    CHECK_INT(notify_sms_unaccent(empty), 0);
}

MC_TEST(test_parts_gsm7_and_ucs2)
{
    char text[400];
    memset(text, 'a', 160), text[160] = '\0';
    CHECK_INT(notify_sms_parts(text), 1);
    text[160] = 'a', text[161] = '\0';
    CHECK_INT(notify_sms_parts(text), 2);
    memset(text, 'a', 306), text[306] = '\0';
    CHECK_INT(notify_sms_parts(text), 2);
    text[306] = 'a', text[307] = '\0';
    CHECK_INT(notify_sms_parts(text), 3);
    memset(text, 'a', 159), text[159] = '[', text[160] = '\0'; /* '[' takes two septets */
    CHECK_INT(notify_sms_parts(text), 2);
    /* one letter outside GSM-7 makes the whole text UCS-2 */
    memset(text, 'a', 69), memcpy(text + 69, "ạ", 3), text[72] = '\0';
    CHECK_INT(notify_sms_parts(text), 1);
    memset(text, 'a', 70), memcpy(text + 70, "ạ", 3), text[73] = '\0';
    CHECK_INT(notify_sms_parts(text), 2);
    CHECK_INT(notify_sms_parts("é à ù £ @ $ _"), 1); /* in the GSM-7 alphabet */
}

/* realistic values: the longest names of the shipped configuration */
static const notify_values_t values = {
    .code = "000.22.29.H26-251201-0123",
    .procedure = "Đăng ký kết hôn có yếu tố nước ngoài",
    .due = "15/12/2025",
    .name = "Nguyễn Thị Phương Thảo",
    .ward = "Phường Văn Miếu - Quốc Tử Giám",
    .unit = "Điểm Phục vụ hành chính công phường Văn Miếu - Quốc Tử Giám - Trung tâm Phục vụ "
            "hành chính công thành phố Hà Nội",
    .address = "Số 1 phố Quốc Tử Giám, phường Văn Miếu - Quốc Tử Giám, Hà Nội",
    .missing = "Bản sao giấy khai sinh",
    .reason = "Cần xác minh thêm với cơ quan liên quan",
    .new_due = "22/12/2025",
    .old_due = "15/12/2025",
    .supplement_due = "20/12/2025",
    .secret = "3f6c1e2a-8b9d-4c7e-a1f0-5d2b7e9c4a18",
    .accept_due = "16 giờ 30 phút, ngày 02/12/2025",
};

MC_TEST(test_shipped_templates_fit_their_parts)
{
    notify_templates_t *t = NULL;
    mc_err_t err;
    mc_err_clear(&err);
    REQUIRE(notify_templates_load("config/notifications.yaml", &t, &err) == 0);
    static const char *const kinds[] = {"received", "supplement_requested", "result_ready", "late",
                                        "refused", "withdrawn", "returned", "apology", "submitted"};
    char link[512];
    notify_values_t v = values;
    v.rating_link = notify_rating_link("https://dichvucong.example.vn/danh-gia", v.code, v.secret,
                                       link, sizeof link);
    for (int ascii = 0; ascii <= 1; ascii++) {
        notify_templates_set_sms_ascii(t, ascii);
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            notify_message_t m;
            REQUIRE(notify_render(t, kinds[k], &v, &m) == 0);
            bool linked = !strcmp(kinds[k], "result_ready") || !strcmp(kinds[k], "refused");
            int max = linked ? (ascii ? SMS_MAX_PARTS_LINK_ASCII : SMS_MAX_PARTS_LINK)
                             : (ascii ? SMS_MAX_PARTS_ASCII : SMS_MAX_PARTS);
            int parts = notify_sms_parts(m.sms);
            if (parts > max)
                printf("  %s%s: %d parts > %d (%zu characters): %s\n", kinds[k],
                       ascii ? " (ascii)" : "", parts, max, code_points(m.sms), m.sms);
            CHECK(parts <= max);
            /* ascii: nothing left outside GSM-7 that a letter could have caused */
            if (ascii)
                for (const unsigned char *c = (const unsigned char *)m.sms; *c; c++)
                    CHECK(*c < 0x80);
            notify_message_clear(&m);
        }
    }
    notify_templates_destroy(&t);
}

int main(void)
{
    mc_test_run(test_unaccent_every_precomposed_letter);
    mc_test_run(test_unaccent_decomposed_marks);
    mc_test_run(test_unaccent_keeps_the_rest);
    mc_test_run(test_parts_gsm7_and_ucs2);
    mc_test_run(test_shipped_templates_fit_their_parts);
    return mc_test_done("test_sms");
}
