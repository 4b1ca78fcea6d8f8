/*
 * test_validate - field checks, the dossier code and SHA-256.
 */
#include <string.h>

#include <sodium.h>

#include "mc_code.h"
#include "mc_test.h"
#include "mc_validate.h"

MC_TEST(citizen_id)
{
    CHECK(mc_valid_citizen_id("001085012345"));
    CHECK(mc_valid_citizen_id("096201000001"));
    CHECK(!mc_valid_citizen_id("000085012345")); /* province 000 */
    CHECK(!mc_valid_citizen_id("097085012345")); /* province 097 */
    CHECK(!mc_valid_citizen_id("00108501234"));  /* 11 digits */
    CHECK(!mc_valid_citizen_id("0010850123456"));
    CHECK(!mc_valid_citizen_id("00108501234a"));
    CHECK(!mc_valid_citizen_id(""));
    CHECK(!mc_valid_citizen_id(NULL));
}

MC_TEST(phone)
{
    CHECK(mc_valid_phone("0912345678"));
    CHECK(mc_valid_phone("+84912345678"));
    CHECK(mc_valid_phone("0243852xxxx") == false);
    CHECK(mc_valid_phone("02438521234")); /* Hà Nội landline, 11 digits incl. 0 */
    CHECK(!mc_valid_phone("912345678"));
    CHECK(!mc_valid_phone("00912345678"));
    CHECK(!mc_valid_phone("+8412345"));
    CHECK(!mc_valid_phone("0012345678")); /* 0 then 0 */
}

MC_TEST(email)
{
    CHECK(mc_valid_email("minh.tran@example.vn"));
    CHECK(mc_valid_email("a.b+c@sub.hanoi.gov.vn"));
    CHECK(!mc_valid_email("not-an-email"));
    CHECK(!mc_valid_email("a@b"));
    CHECK(!mc_valid_email("a@@b.vn"));
    CHECK(!mc_valid_email("a b@c.vn"));
    CHECK(!mc_valid_email("a@b..vn"));
    CHECK(!mc_valid_email("@example.vn"));
}

MC_TEST(utf8)
{
    const char *vi = "Đăng ký khai sinh – Phường Kim Liên";
    CHECK(mc_valid_utf8(vi, strlen(vi)));
    CHECK(!mc_valid_utf8("\xc3\x28", 2));         /* bad continuation */
    CHECK(!mc_valid_utf8("\xc0\xaf", 2));         /* overlong */
    CHECK(!mc_valid_utf8("\xed\xa0\x80", 3));     /* surrogate */
    CHECK(!mc_valid_utf8("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    CHECK(!mc_valid_utf8("\xe1\xba", 2));         /* truncated */
    CHECK(!mc_valid_utf8("a\0b", 3));             /* NUL */
    CHECK(mc_valid_utf8("\xf0\x9f\x98\x80", 4));  /* emoji is fine */
}

MC_TEST(other_formats)
{
    CHECK(mc_valid_enterprise_code("0101234567"));
    CHECK(mc_valid_enterprise_code("0101234567-001"));
    CHECK(!mc_valid_enterprise_code("010123456"));
    CHECK(!mc_valid_enterprise_code("0101234567-01"));
    CHECK(mc_valid_submission_id("kl-2025-0001"));
    CHECK(!mc_valid_submission_id("short"));
    CHECK(!mc_valid_submission_id("has space 123"));
    CHECK(mc_valid_media_type("application/pdf"));
    CHECK(!mc_valid_media_type("pdf"));
    CHECK(!mc_valid_media_type("application/"));
    CHECK(mc_valid_uri("https://dvc.example.vn/a.pdf"));
    CHECK(mc_valid_uri("urn:uuid:1234"));
    CHECK(!mc_valid_uri("no scheme"));
    CHECK(!mc_valid_uri("/just/a/path"));
}

MC_TEST(dossier_code_format_and_parse)
{
    char buf[MC_CODE_MAX];
    mc_date_t d = {2025, 10, 1};
    CHECK(mc_code_format(buf, sizeof buf, "000.22.29.H26", d, 1) == 0);
    CHECK_STR(buf, "000.22.29.H26-251001-0001");
    CHECK(mc_code_format(buf, sizeof buf, "000.22.29.H26", d, 12345) == 0);
    CHECK_STR(buf, "000.22.29.H26-251001-12345");
    CHECK(mc_code_format(buf, sizeof buf, "bad unit", d, 1) != 0);
    CHECK(mc_code_format(buf, sizeof buf, "000.22.29.H26", d, 0) != 0);
    CHECK(mc_code_format(buf, 10, "000.22.29.H26", d, 1) != 0);
    char unit[MC_CODE_MAX];
    mc_date_t p;
    int seq;
    CHECK(mc_code_parse("000.22.29.H26-251001-0042", unit, sizeof unit, &p, &seq) == 0);
    CHECK_STR(unit, "000.22.29.H26");
    CHECK_INT(p.year, 2025);
    CHECK_INT(p.month, 10);
    CHECK_INT(p.day, 1);
    CHECK_INT(seq, 42);
    CHECK(mc_code_parse("000.22.29.H26-251301-0042", unit, sizeof unit, &p, &seq) != 0);
    CHECK(mc_code_parse("000.22.29.H26-2510-0042", unit, sizeof unit, &p, &seq) != 0);
    CHECK(mc_code_parse("000.22.29.H26-251001-42", unit, sizeof unit, &p, &seq) != 0);
    CHECK(mc_code_parse("'; DROP TABLE x;--", unit, sizeof unit, &p, &seq) != 0);
    CHECK(mc_code_parse("000.22.29-251001-0042", unit, sizeof unit, &p, &seq) != 0);
}

/* the request fingerprints come from libsodium's SHA-256: FIPS 180-4's vectors */
MC_TEST(sha256_known_vectors)
{
    uint8_t out[32];
    char hex[65];
    CHECK_INT(crypto_hash_sha256(out, (const uint8_t *)"", 0), 0);
    CHECK_STR(sodium_bin2hex(hex, sizeof hex, out, 32), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK_INT(crypto_hash_sha256(out, (const uint8_t *)"abc", 3), 0);
    CHECK_STR(sodium_bin2hex(hex, sizeof hex, out, 32), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    CHECK_INT(crypto_hash_sha256(out, (const uint8_t *)m, strlen(m)), 0);
    CHECK_STR(sodium_bin2hex(hex, sizeof hex, out, 32), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

int main(void)
{
    if (sodium_init() < 0) {
        printf("test_validate: sodium_init failed\n");
        return 1;
    }
    mc_test_run(citizen_id);
    mc_test_run(phone);
    mc_test_run(email);
    mc_test_run(utf8);
    mc_test_run(other_formats);
    mc_test_run(dossier_code_format_and_parse);
    mc_test_run(sha256_known_vectors);
    return mc_test_done("test_validate");
}
