/*
 * test_wire - mc_wire's strict decoding on crafted wire bytes: unknown
 * fields (top level and nested), a NUL in a string, bad UTF-8, unknown enum
 * values, truncation, and the range helpers.
 */
#include <stdint.h>
#include <string.h>

#include "mc_test.h"
#include "mc_wire.h"
#include "motcua/v1/agency.pb-c.h"

/* a growing byte string */
typedef struct buf {
    uint8_t b[512]; /* bytes */
    size_t  n;      /* used */
} buf_t;

/* put_varint - append a varint */
static void put_varint(buf_t *o, uint64_t v)
{
    while (v >= 0x80) {
        o->b[o->n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    o->b[o->n++] = (uint8_t)v;
}

/* put_len - field number, wire type 2, then n bytes */
static void put_len(buf_t *o, unsigned field, const void *bytes, size_t n)
{
    put_varint(o, (uint64_t)field << 3 | 2);
    put_varint(o, n);
    memcpy(o->b + o->n, bytes, n);
    o->n += n;
}

/* put_num - field number, wire type 0, value */
static void put_num(buf_t *o, unsigned field, uint64_t v)
{
    put_varint(o, (uint64_t)field << 3);
    put_varint(o, v);
}

/* missing_doc - a MissingDocument{name} with name given as n raw bytes */
static void missing_doc(buf_t *o, const char *name, size_t n)
{
    put_len(o, 2, name, n);
}

/* agency_result - AgencyToHub{result = CaseResult{case_id, outcome 3, three missing, extra}} */
static void agency_result(buf_t *out, const char *third, size_t third_len, const buf_t *extra)
{
    buf_t r = {0}, m = {0};
    put_len(&r, 1, "HS-1/1", 6);
    put_num(&r, 2, 3);
    for (int i = 0; i < 3; i++) {
        m.n = 0;
        if (i < 2)
            missing_doc(&m, "Giấy khai sinh", strlen("Giấy khai sinh"));
        else
            missing_doc(&m, third, third_len);
        if (i == 2 && extra) {
            memcpy(m.b + m.n, extra->b, extra->n);
            m.n += extra->n;
        }
        put_len(&r, 4, m.b, m.n);
    }
    out->n = 0;
    put_len(out, 4, r.b, r.n);
}

/* refused_as - w is refused with exactly want (NULL: any reason) */
static void refused_as(const uint8_t *bytes, size_t n, const char *want)
{
    char why[200];
    CHECK_INT(mc_wire_check(&motcua__v1__agency_to_hub__descriptor, bytes, n, why, sizeof why), -1);
    if (want)
        CHECK_STR(why, want);
}

/* third_missing - what protobuf-c alone makes of w's missing[2]: its name
 * into name, and the count of unknown fields it kept; -1 if it cannot unpack */
static int third_missing(const buf_t *w, char *name, size_t size)
{
    Motcua__V1__AgencyToHub *m = motcua__v1__agency_to_hub__unpack(NULL, w->n, w->b);
    if (!m || !m->result || m->result->n_missing < 3) {
        if (m)
            motcua__v1__agency_to_hub__free_unpacked(m, NULL);
        return -1;
    }
    snprintf(name, size, "%s", m->result->missing[2]->name);
    int kept = (int)m->result->missing[2]->base.n_unknown_fields;
    motcua__v1__agency_to_hub__free_unpacked(m, NULL);
    return kept;
}

MC_TEST(ok_message)
{
    buf_t w;
    agency_result(&w, "Bản sao", strlen("Bản sao"), NULL);
    char why[200];
    ProtobufCMessage *msg = NULL;
    CHECK_INT(mc_wire_unpack(&motcua__v1__agency_to_hub__descriptor, w.b, w.n, &msg, why,
                             sizeof why), 0);
    CHECK(msg != NULL);
    CHECK_STR(why, "");
    Motcua__V1__AgencyToHub *m = (Motcua__V1__AgencyToHub *)msg;
    CHECK(m && m->result && m->result->n_missing == 3);
    if (msg)
        protobuf_c_message_free_unpacked(msg, NULL);
    /* the empty message is a valid (empty) AgencyToHub */
    CHECK_INT(mc_wire_check(&motcua__v1__agency_to_hub__descriptor, (const uint8_t *)"", 0, why,
                            sizeof why), 0);
}

MC_TEST(unknown_field_top_level)
{
    buf_t w = {0};
    put_num(&w, 7, 1);
    char why[200];
    ProtobufCMessage *msg = (ProtobufCMessage *)1;
    CHECK_INT(mc_wire_unpack(&motcua__v1__agency_to_hub__descriptor, w.b, w.n, &msg, why,
                             sizeof why), -1);
    CHECK(msg == NULL);
    CHECK_STR(why, "AgencyToHub: unknown field 7");
}

MC_TEST(unknown_field_nested)
{
    buf_t extra = {0}, w;
    put_num(&extra, 7, 42);
    agency_result(&w, "Bản sao", strlen("Bản sao"), &extra);
    refused_as(w.b, w.n, "AgencyToHub.result.missing[2]: unknown field 7");
    char name[64];
    CHECK_INT(third_missing(&w, name, sizeof name), 1); /* protobuf-c alone keeps it */
}

MC_TEST(nul_in_string)
{
    buf_t w;
    agency_result(&w, "ab\0cd", 5, NULL);
    refused_as(w.b, w.n, "AgencyToHub.result.missing[2].name: contains a NUL byte");
    char name[64];
    CHECK_INT(third_missing(&w, name, sizeof name), 0);
    CHECK_STR(name, "ab"); /* protobuf-c alone cuts it at the NUL */
}

MC_TEST(bad_utf8)
{
    buf_t w;
    agency_result(&w, "ab\xc3\x28", 4, NULL);
    refused_as(w.b, w.n, "AgencyToHub.result.missing[2].name: not valid UTF-8 (4 bytes)");
    /* an overlong encoding and a surrogate are refused too */
    agency_result(&w, "\xc0\xaf", 2, NULL);
    refused_as(w.b, w.n, NULL);
    agency_result(&w, "\xed\xa0\x80", 3, NULL);
    refused_as(w.b, w.n, NULL);
}

MC_TEST(enum_and_truncation)
{
    buf_t r = {0}, w = {0};
    put_len(&r, 1, "HS-1/1", 6);
    put_num(&r, 2, 9); /* Outcome has no 9 */
    put_len(&w, 4, r.b, r.n);
    refused_as(w.b, w.n, "AgencyToHub.result.outcome: unknown enum value");
    /* a length past the end */
    uint8_t cut[] = {0x22, 0x10, 0x0a, 0x01};
    refused_as(cut, sizeof cut, "AgencyToHub.result: truncated value");
    /* a group */
    uint8_t group[] = {0x0b, 0x0c};
    refused_as(group, sizeof group, NULL);
    /* a varint that never ends */
    uint8_t endless[12];
    memset(endless, 0xff, sizeof endless);
    refused_as(endless, sizeof endless, NULL);
}

MC_TEST(ranges)
{
    int v = -7;
    CHECK_INT(mc_wire_u32_to_int(4294967295u, &v), -1);
    CHECK_INT(v, -7);
    CHECK_INT(mc_wire_u32_to_int(2147483647u, &v), 0);
    CHECK_INT(v, 2147483647);
    int64_t w = 0;
    CHECK_INT(mc_wire_u64_to_i64(UINT64_MAX, &w), -1);
    CHECK_INT(mc_wire_u64_to_i64(5, &w), 0);
    CHECK_INT(w, 5);
    CHECK(mc_wire_u32_in(1, 1, 1000));
    CHECK(!mc_wire_u32_in(0, 1, 1000));
    CHECK(!mc_wire_u32_in(1001, 1, 1000));
}

int main(void)
{
    mc_test_run(ok_message);
    mc_test_run(unknown_field_top_level);
    mc_test_run(unknown_field_nested);
    mc_test_run(nul_in_string);
    mc_test_run(bad_utf8);
    mc_test_run(enum_and_truncation);
    mc_test_run(ranges);
    return mc_test_done("test_wire");
}
