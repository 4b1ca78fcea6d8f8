/*
 * mc_pbjson - canonical proto3 JSON <-> protobuf-c messages, by descriptor.
 *
 * Contract: mc_pbjson.h. The encoder writes through open_memstream; the
 * decoder is a recursive-descent JSON parser that fills the message as it
 * reads (no intermediate tree), its recursion bounded by
 * MC_PBJSON_MAX_DEPTH. Everything the decoder allocates hangs off the
 * message as protobuf-c's system allocator would have made it (malloc), so
 * protobuf_c_message_free_unpacked frees it, also half built after an error.
 */
#include "mc_pbjson.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mc_json.h"

#define NAME_MAX_LEN 128 /* a field's name, either form */

/* mc_pbjson_name - the lowerCamelCase name of a proto field name (protoc's ToJsonName) */
void mc_pbjson_name(const char *name, char *out, size_t size)
{
    size_t n = 0;
    bool up = false;
    for (const char *p = name; *p && n + 1 < size; p++) {
        if (*p == '_') {
            up = true;
            continue;
        }
        out[n++] = up ? (char)toupper((unsigned char)*p) : *p;
        up = false;
    }
    out[n] = '\0';
}

/* elem_size - bytes of one value of a field's type in a message or array */
static size_t elem_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_ENUM:
        return 4;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    }
    return 0;
}

/* at - the member at offset of a message */
static void *at(const ProtobufCMessage *msg, unsigned offset)
{
    return (char *)msg + offset;
}

/* --- encoding -------------------------------------------------------------- */

static int encode_message(FILE *out, const ProtobufCMessage *msg);

/* is_default - a singular proto3 value equal to its default (left out) */
static bool is_default(const ProtobufCFieldDescriptor *f, const void *v)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)v;
        return !s || !*s;
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)v)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(ProtobufCMessage *const *)v == NULL;
    case PROTOBUF_C_TYPE_FLOAT: {
        float x;
        memcpy(&x, v, sizeof x);
        return x == 0.0f && !signbit(x);
    }
    case PROTOBUF_C_TYPE_DOUBLE: {
        double x;
        memcpy(&x, v, sizeof x);
        return x == 0.0 && !signbit(x);
    }
    default: {
        static const char zero[8];
        return memcmp(v, zero, elem_size(f->type)) == 0;
    }
    }
}

/* encode_double - a number, or the canonical strings of the non-finite ones */
static void encode_double(FILE *out, double x, bool single)
{
    if (isnan(x))
        fputs("\"NaN\"", out);
    else if (isinf(x))
        fputs(x > 0 ? "\"Infinity\"" : "\"-Infinity\"", out);
    else
        fprintf(out, single ? "%.9g" : "%.17g", x);
}

/* encode_value - one value of f's type */
static int encode_value(FILE *out, const ProtobufCFieldDescriptor *f, const void *v)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
        fprintf(out, "%" PRId32, *(const int32_t *)v);
        return 0;
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
        fprintf(out, "%" PRIu32, *(const uint32_t *)v);
        return 0;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        fprintf(out, "\"%" PRId64 "\"", *(const int64_t *)v);
        return 0;
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        fprintf(out, "\"%" PRIu64 "\"", *(const uint64_t *)v);
        return 0;
    case PROTOBUF_C_TYPE_FLOAT:
        encode_double(out, *(const float *)v, true);
        return 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        encode_double(out, *(const double *)v, false);
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        fputs(*(const protobuf_c_boolean *)v ? "true" : "false", out);
        return 0;
    case PROTOBUF_C_TYPE_ENUM: {
        int e = *(const int *)v;
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value((const ProtobufCEnumDescriptor *)f->descriptor, e);
        if (ev)
            return mc_json_fputs(out, ev->name);
        fprintf(out, "%d", e);
        return 0;
    }
    case PROTOBUF_C_TYPE_STRING:
        return mc_json_fputs(out, *(char *const *)v);
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = v;
        size_t n = sodium_base64_encoded_len(b->len, sodium_base64_VARIANT_ORIGINAL);
        char *text = malloc(n);
        if (!text)
            return -1;
        sodium_bin2base64(text, n, b->data, b->len, sodium_base64_VARIANT_ORIGINAL);
        fprintf(out, "\"%s\"", text);
        free(text);
        return 0;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(ProtobufCMessage *const *)v;
        if (m)
            return encode_message(out, m);
        fputs("{}", out);
        return 0;
    }
    }
    return -1;
}

/* encode_message - {"name":value,...} in declaration order */
static int encode_message(FILE *out, const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    bool first = true;
    fputc('{', out);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const void *v = at(msg, f->offset);
        size_t n = 1;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            n = *(const size_t *)at(msg, f->quantifier_offset);
            if (n == 0)
                continue;
        } else if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            if (*(const uint32_t *)at(msg, f->quantifier_offset) != f->id)
                continue;
        } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
                   f->type != PROTOBUF_C_TYPE_MESSAGE) {
            if (!*(const protobuf_c_boolean *)at(msg, f->quantifier_offset))
                continue;
        } else if (f->label != PROTOBUF_C_LABEL_REQUIRED && is_default(f, v)) {
            continue;
        }
        char name[NAME_MAX_LEN];
        mc_pbjson_name(f->name, name, sizeof name);
        fprintf(out, "%s\"%s\":", first ? "" : ",", name);
        first = false;
        if (f->label != PROTOBUF_C_LABEL_REPEATED) {
            if (encode_value(out, f, v) != 0)
                return -1;
            continue;
        }
        const char *arr = *(const char *const *)v;
        size_t sz = elem_size(f->type);
        fputc('[', out);
        for (size_t k = 0; k < n; k++) {
            if (k)
                fputc(',', out);
            if (encode_value(out, f, arr + k * sz) != 0)
                return -1;
        }
        fputc(']', out);
    }
    fputc('}', out);
    return 0;
}

/* mc_pbjson_encode - the message as canonical JSON */
int mc_pbjson_encode(const ProtobufCMessage *msg, char **json, size_t *len, mc_err_t *err)
{
    *json = NULL;
    *len = 0;
    char *buf = NULL;
    size_t n = 0;
    FILE *out = open_memstream(&buf, &n);
    if (!out) {
        mc_err_add(err, "json: out of memory");
        return -1;
    }
    int rc = encode_message(out, msg);
    if (fclose(out) != 0 || rc != 0 || !buf) {
        free(buf);
        mc_err_add(err, "json: cannot encode %s (out of memory)", msg->descriptor->name);
        return -1;
    }
    *json = buf;
    *len = n;
    return 0;
}

/* --- decoding -------------------------------------------------------------- */

/* the decoder's state */
typedef struct parser {
    const char          *p;        /* next byte */
    const char          *end;      /* past the last byte */
    int                  depth;    /* objects/arrays open */
    char                 path[256]; /* the field being read */
    size_t               path_len; /* bytes in path */
    mc_pbjson_problem_t *problem;  /* where errors go */
} parser_t;

/* fail - record the first problem; returns -1 */
static int fail(parser_t *ps, mc_pbjson_error_t e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(parser_t *ps, mc_pbjson_error_t e, const char *fmt, ...)
{
    mc_pbjson_problem_t *pr = ps->problem;
    if (pr->error != MC_PBJSON_OK)
        return -1;
    pr->error = e;
    snprintf(pr->field, sizeof pr->field, "%s", ps->path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pr->message, sizeof pr->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* skip_ws - JSON whitespace */
static void skip_ws(parser_t *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

/* peek - the next non-blank byte, or 0 at the end */
static char peek(parser_t *ps)
{
    skip_ws(ps);
    return ps->p < ps->end ? *ps->p : '\0';
}

/* expect - consume c or fail */
static int expect(parser_t *ps, char c)
{
    if (peek(ps) != c)
        return fail(ps, MC_PBJSON_SYNTAX, "expected '%c' at byte %ld", c,
                     (long)(ps->end - ps->p));
    ps->p++;
    return 0;
}

/* literal - consume a keyword (true, false, null) */
static bool literal(parser_t *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, word, n) == 0) {
        ps->p += n;
        return true;
    }
    return false;
}

/* put_utf8 - code point cp as UTF-8 at out */
static size_t put_utf8(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* utf8_len - bytes of the valid UTF-8 sequence at s (n left), 0 if invalid */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    size_t len;
    uint32_t cp;
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2;
        cp = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3;
        cp = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* hex4 - four hex digits */
static int hex4(parser_t *ps, uint32_t *cp)
{
    if (ps->end - ps->p < 4)
        return -1;
    *cp = 0;
    for (int i = 0; i < 4; i++) {
        char c = ps->p[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (v < 0)
            return -1;
        *cp = (*cp << 4) | (uint32_t)v;
    }
    ps->p += 4;
    return 0;
}

/* parse_string - a JSON string, unescaped, malloc'd (no NUL inside, valid UTF-8) */
static int parse_string(parser_t *ps, char **out, size_t *out_len)
{
    *out = NULL;
    if (peek(ps) != '"')
        return fail(ps, MC_PBJSON_TYPE, "expected a string");
    ps->p++;
    /* unescaping never makes the text longer */
    const char *q = ps->p;
    while (q < ps->end && *q != '"')
        q += (*q == '\\' && q + 1 < ps->end) ? 2 : 1;
    if (q >= ps->end)
        return fail(ps, MC_PBJSON_SYNTAX, "unterminated string");
    char *s = malloc((size_t)(q - ps->p) + 1);
    if (!s)
        return fail(ps, MC_PBJSON_NOMEM, "out of memory");
    size_t n = 0;
    while (*ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p;
        if (c < 0x20) {
            free(s);
            return fail(ps, MC_PBJSON_SYNTAX, "control character in a string");
        }
        if (c != '\\') {
            size_t l = utf8_len((const unsigned char *)ps->p, (size_t)(ps->end - ps->p));
            if (l == 0) {
                free(s);
                return fail(ps, MC_PBJSON_UTF8, "invalid UTF-8");
            }
            memcpy(s + n, ps->p, l);
            n += l;
            ps->p += l;
            continue;
        }
        ps->p++;
        char e = *ps->p++;
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *k = strchr(from, e);
        if (e && k) {
            s[n++] = to[k - from];
            continue;
        }
        uint32_t cp = 0, lo = 0;
        if (e != 'u' || hex4(ps, &cp) != 0) {
            free(s);
            return fail(ps, MC_PBJSON_SYNTAX, "bad escape in a string");
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' ||
                (ps->p += 2, hex4(ps, &lo) != 0) || lo < 0xDC00 || lo > 0xDFFF) {
                free(s);
                return fail(ps, MC_PBJSON_UTF8, "unpaired surrogate in a string");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            free(s);
            return fail(ps, MC_PBJSON_UTF8, "unpaired surrogate in a string");
        }
        if (cp == 0) {
            free(s);
            return fail(ps, MC_PBJSON_UTF8, "NUL in a string");
        }
        n += put_utf8(cp, s + n);
    }
    ps->p++;
    s[n] = '\0';
    *out = s;
    if (out_len)
        *out_len = n;
    return 0;
}

/* number_token - the bytes of a JSON number at p ([-]int[.frac][exp]); 0 if none */
static size_t number_token(parser_t *ps, bool *integer)
{
    const char *s = ps->p, *q = s;
    *integer = true;
    if (q < ps->end && *q == '-')
        q++;
    if (q >= ps->end || !isdigit((unsigned char)*q))
        return 0;
    if (*q == '0')
        q++;
    else
        while (q < ps->end && isdigit((unsigned char)*q))
            q++;
    if (q < ps->end && *q == '.') {
        *integer = false;
        if (++q >= ps->end || !isdigit((unsigned char)*q))
            return 0;
        while (q < ps->end && isdigit((unsigned char)*q))
            q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        *integer = false;
        q++;
        if (q < ps->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= ps->end || !isdigit((unsigned char)*q))
            return 0;
        while (q < ps->end && isdigit((unsigned char)*q))
            q++;
    }
    return (size_t)(q - s);
}

/* parse_integer - a number or a string holding an integer, within [min, max]
 * (signed) or [0, umax] (unsigned) */
static int parse_integer(parser_t *ps, bool is_signed, int64_t min, int64_t max, uint64_t umax,
                         int64_t *sv, uint64_t *uv)
{
    char text[32], *owned = NULL;
    if (peek(ps) == '"') {
        if (parse_string(ps, &owned, NULL) != 0)
            return -1;
        snprintf(text, sizeof text, "%s", owned);
        bool fits = strlen(owned) < sizeof text;
        free(owned);
        if (!fits)
            return fail(ps, MC_PBJSON_TYPE, "not an integer");
    } else {
        bool integer;
        size_t n = number_token(ps, &integer);
        if (n == 0)
            return fail(ps, MC_PBJSON_TYPE, "expected an integer");
        if (!integer || n >= sizeof text)
            return fail(ps, MC_PBJSON_TYPE, "not an integer, or out of range");
        memcpy(text, ps->p, n);
        text[n] = '\0';
        ps->p += n;
    }
    const char *t = text;
    bool neg = t[0] == '-';
    for (const char *c = t + neg; ; c++) {
        if (!isdigit((unsigned char)*c))
            return fail(ps, MC_PBJSON_TYPE, "not an integer");
        if (c[1] == '\0')
            break;
    }
    char *end = NULL;
    errno = 0;
    if (is_signed) {
        long long v = strtoll(t, &end, 10);
        if (errno || *end || v < min || v > max)
            return fail(ps, MC_PBJSON_TYPE, "integer out of range");
        *sv = v;
    } else {
        unsigned long long v = strtoull(t, &end, 10);
        if (neg || errno || *end || v > umax)
            return fail(ps, MC_PBJSON_TYPE, "integer out of range");
        *uv = v;
    }
    return 0;
}

/* parse_double - a number, or "NaN", "Infinity", "-Infinity" */
static int parse_double(parser_t *ps, double *out)
{
    if (peek(ps) == '"') {
        char *s = NULL;
        if (parse_string(ps, &s, NULL) != 0)
            return -1;
        int rc = 0;
        if (strcmp(s, "NaN") == 0)
            *out = NAN;
        else if (strcmp(s, "Infinity") == 0)
            *out = INFINITY;
        else if (strcmp(s, "-Infinity") == 0)
            *out = -INFINITY;
        else
            rc = fail(ps, MC_PBJSON_TYPE, "expected a number");
        free(s);
        return rc;
    }
    bool integer;
    size_t n = number_token(ps, &integer);
    char text[64];
    if (n == 0 || n >= sizeof text)
        return fail(ps, MC_PBJSON_TYPE, "expected a number");
    memcpy(text, ps->p, n);
    text[n] = '\0';
    ps->p += n;
    *out = strtod(text, NULL);
    return 0;
}

/* parse_enum - a name of the enum, or a number it names */
static int parse_enum(parser_t *ps, const ProtobufCEnumDescriptor *ed, int *out)
{
    if (peek(ps) == '"') {
        char *s = NULL;
        if (parse_string(ps, &s, NULL) != 0)
            return -1;
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(ed, s);
        free(s);
        if (!v)
            return fail(ps, MC_PBJSON_TYPE, "not a value of %s", ed->name);
        *out = v->value;
        return 0;
    }
    int64_t v = 0;
    if (parse_integer(ps, true, INT32_MIN, INT32_MAX, 0, &v, NULL) != 0)
        return -1;
    if (!protobuf_c_enum_descriptor_get_value(ed, (int)v))
        return fail(ps, MC_PBJSON_TYPE, "%" PRId64 " is not a value of %s", v, ed->name);
    *out = (int)v;
    return 0;
}

/* parse_bytes - base64, standard or URL-safe, padded or not */
static int parse_bytes(parser_t *ps, ProtobufCBinaryData *out)
{
    char *s = NULL;
    size_t n = 0;
    if (parse_string(ps, &s, &n) != 0)
        return -1;
    bool url = strpbrk(s, "-_") != NULL;
    bool padded = n > 0 && s[n - 1] == '=';
    int variant = url ? (padded ? sodium_base64_VARIANT_URLSAFE
                                : sodium_base64_VARIANT_URLSAFE_NO_PADDING)
                      : (padded ? sodium_base64_VARIANT_ORIGINAL
                                : sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    uint8_t *bin = malloc(n / 4 * 3 + 3);
    size_t bin_len = 0;
    int rc = bin ? sodium_base642bin(bin, n / 4 * 3 + 3, s, n, NULL, &bin_len, NULL, variant)
                 : -1;
    free(s);
    if (rc != 0) {
        free(bin);
        return fail(ps, bin ? MC_PBJSON_TYPE : MC_PBJSON_NOMEM, "not base64");
    }
    out->data = bin;
    out->len = bin_len;
    return 0;
}

static int parse_message(parser_t *ps, const ProtobufCMessageDescriptor *d, ProtobufCMessage *m);

/* parse_value - one value of f's type into v (storage of elem_size) */
static int parse_value(parser_t *ps, const ProtobufCFieldDescriptor *f, void *v)
{
    int64_t sv = 0;
    uint64_t uv = 0;
    if (peek(ps) == '\0')
        return fail(ps, MC_PBJSON_SYNTAX, "the document ends before the value");
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
        if (parse_integer(ps, true, INT32_MIN, INT32_MAX, 0, &sv, NULL) != 0)
            return -1;
        *(int32_t *)v = (int32_t)sv;
        return 0;
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
        if (parse_integer(ps, false, 0, 0, UINT32_MAX, NULL, &uv) != 0)
            return -1;
        *(uint32_t *)v = (uint32_t)uv;
        return 0;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        if (parse_integer(ps, true, INT64_MIN, INT64_MAX, 0, &sv, NULL) != 0)
            return -1;
        *(int64_t *)v = sv;
        return 0;
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        if (parse_integer(ps, false, 0, 0, UINT64_MAX, NULL, &uv) != 0)
            return -1;
        *(uint64_t *)v = uv;
        return 0;
    case PROTOBUF_C_TYPE_FLOAT: {
        double x;
        if (parse_double(ps, &x) != 0)
            return -1;
        *(float *)v = (float)x;
        return 0;
    }
    case PROTOBUF_C_TYPE_DOUBLE:
        return parse_double(ps, (double *)v);
    case PROTOBUF_C_TYPE_BOOL:
        skip_ws(ps);
        if (literal(ps, "true"))
            *(protobuf_c_boolean *)v = 1;
        else if (literal(ps, "false"))
            *(protobuf_c_boolean *)v = 0;
        else
            return fail(ps, MC_PBJSON_TYPE, "expected true or false");
        return 0;
    case PROTOBUF_C_TYPE_ENUM:
        return parse_enum(ps, f->descriptor, (int *)v);
    case PROTOBUF_C_TYPE_STRING:
        return parse_string(ps, (char **)v, NULL);
    case PROTOBUF_C_TYPE_BYTES:
        return parse_bytes(ps, (ProtobufCBinaryData *)v);
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessageDescriptor *md = f->descriptor;
        ProtobufCMessage *sub = malloc(md->sizeof_message);
        if (!sub)
            return fail(ps, MC_PBJSON_NOMEM, "out of memory");
        protobuf_c_message_init(md, sub);
        *(ProtobufCMessage **)v = sub; /* hung on at once: freed with the message */
        return parse_message(ps, md, sub);
    }
    }
    return fail(ps, MC_PBJSON_TYPE, "unsupported field type");
}

/* skip_null - consume a null (the field keeps its default); true if there was one */
static bool skip_null(parser_t *ps)
{
    skip_ws(ps);
    return literal(ps, "null");
}

/* parse_repeated - [v, ...] into f's array and count */
static int parse_repeated(parser_t *ps, const ProtobufCFieldDescriptor *f, ProtobufCMessage *m)
{
    if (peek(ps) != '[')
        return fail(ps, MC_PBJSON_TYPE, "expected an array");
    if (++ps->depth > MC_PBJSON_MAX_DEPTH)
        return fail(ps, MC_PBJSON_TOO_LARGE, "nested too deep");
    ps->p++;
    size_t sz = elem_size(f->type), cap = 0;
    size_t *count = at(m, f->quantifier_offset);
    char **arr = at(m, f->offset);
    size_t base = ps->path_len;
    if (peek(ps) == ']') {
        ps->p++;
        ps->depth--;
        return 0;
    }
    for (;;) {
        if (*count == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            char *grown = realloc(*arr, ncap * sz);
            if (!grown)
                return fail(ps, MC_PBJSON_NOMEM, "out of memory");
            *arr = grown;
            cap = ncap;
        }
        snprintf(ps->path + base, sizeof ps->path - base, "[%zu]", *count);
        ps->path_len = strlen(ps->path);
        char *slot = *arr + *count * sz;
        memset(slot, 0, sz);
        int rc = parse_value(ps, f, slot);
        /* a message element is hung on even half read, so it is freed */
        if (rc == 0 || (f->type == PROTOBUF_C_TYPE_MESSAGE && *(void **)slot) ||
            (f->type == PROTOBUF_C_TYPE_STRING && *(void **)slot))
            (*count)++;
        if (rc != 0)
            return -1;
        ps->path_len = base;
        ps->path[base] = '\0';
        char c = peek(ps);
        ps->p++;
        if (c == ']')
            break;
        if (c != ',')
            return fail(ps, MC_PBJSON_SYNTAX, "expected ',' or ']' in an array");
    }
    ps->depth--;
    return 0;
}

/* find_field - the field named key (JSON or proto name) */
static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *d,
                                                  const char *key)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
    if (f)
        return f;
    for (unsigned i = 0; i < d->n_fields; i++) {
        char name[NAME_MAX_LEN];
        mc_pbjson_name(d->fields[i].name, name, sizeof name);
        if (strcmp(name, key) == 0)
            return &d->fields[i];
    }
    return NULL;
}

/* set_field - the value of f after its key */
static int set_field(parser_t *ps, const ProtobufCFieldDescriptor *f, ProtobufCMessage *m)
{
    if (peek(ps) == '\0')
        return fail(ps, MC_PBJSON_SYNTAX, "the document ends before the value");
    if (skip_null(ps))
        return 0;
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return parse_repeated(ps, f, m);
    void *v = at(m, f->offset);
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t *which = at(m, f->quantifier_offset);
        if (*which != 0)
            return fail(ps, MC_PBJSON_TYPE, "only one member of a oneof may be set");
        memset(v, 0, elem_size(f->type));
        *which = f->id; /* first: a half-read member is freed with the message */
    } else if (f->type == PROTOBUF_C_TYPE_STRING) {
        *(char **)v = NULL; /* the default is static: never freed, never written */
    } else if (f->type == PROTOBUF_C_TYPE_BYTES) {
        *(ProtobufCBinaryData *)v = (ProtobufCBinaryData){0, NULL};
    }
    int rc = parse_value(ps, f, v);
    if (f->type == PROTOBUF_C_TYPE_STRING && !*(char **)v)
        *(const char **)v = f->default_value ? *(char *const *)f->default_value
                                             : protobuf_c_empty_string;
    if (rc == 0 && f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
        f->type != PROTOBUF_C_TYPE_MESSAGE && !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
        *(protobuf_c_boolean *)at(m, f->quantifier_offset) = 1;
    return rc;
}

/* parse_message - {"name": value, ...} into m (initialised) */
static int parse_message(parser_t *ps, const ProtobufCMessageDescriptor *d, ProtobufCMessage *m)
{
    if (peek(ps) != '{')
        return fail(ps, MC_PBJSON_TYPE, "expected an object");
    if (++ps->depth > MC_PBJSON_MAX_DEPTH)
        return fail(ps, MC_PBJSON_TOO_LARGE, "nested too deep");
    ps->p++;
    unsigned char seen[256] = {0};
    size_t base = ps->path_len;
    if (peek(ps) == '}') {
        ps->p++;
        ps->depth--;
        return 0;
    }
    for (;;) {
        char *key = NULL;
        if (peek(ps) != '"')
            return fail(ps, MC_PBJSON_SYNTAX, "expected a field name");
        if (parse_string(ps, &key, NULL) != 0)
            return -1;
        const ProtobufCFieldDescriptor *f = find_field(d, key);
        snprintf(ps->path + base, sizeof ps->path - base, "%s%s", base ? "." : "",
                 f ? f->name : key);
        ps->path_len = strlen(ps->path);
        free(key);
        if (!f)
            return fail(ps, MC_PBJSON_UNKNOWN, "unknown field");
        unsigned idx = (unsigned)(f - d->fields);
        if (idx < 256 * 8) {
            if (seen[idx / 8] & (1u << (idx % 8)))
                return fail(ps, MC_PBJSON_TYPE, "field given twice");
            seen[idx / 8] |= (unsigned char)(1u << (idx % 8));
        }
        if (expect(ps, ':') != 0 || set_field(ps, f, m) != 0)
            return -1;
        ps->path_len = base;
        ps->path[base] = '\0';
        char c = peek(ps);
        ps->p++;
        if (c == '}')
            break;
        if (c != ',')
            return fail(ps, MC_PBJSON_SYNTAX, "expected ',' or '}' in an object");
    }
    ps->depth--;
    return 0;
}

/* mc_pbjson_decode - JSON into a new message of type desc */
int mc_pbjson_decode(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
                     size_t max_bytes, ProtobufCMessage **out, mc_pbjson_problem_t *problem)
{
    *out = NULL;
    memset(problem, 0, sizeof *problem);
    parser_t ps = {.p = json, .end = json + len, .problem = problem};
    if (len > max_bytes)
        return fail(&ps, MC_PBJSON_TOO_LARGE, "document over %zu bytes", max_bytes);
    ProtobufCMessage *m = malloc(desc->sizeof_message);
    if (!m)
        return fail(&ps, MC_PBJSON_NOMEM, "out of memory");
    protobuf_c_message_init(desc, m);
    if (peek(&ps) != '{') {
        protobuf_c_message_free_unpacked(m, NULL);
        return fail(&ps, MC_PBJSON_SYNTAX, "expected a JSON object");
    }
    if (parse_message(&ps, desc, m) != 0 || (skip_ws(&ps), ps.p != ps.end)) {
        if (ps.p != ps.end && problem->error == MC_PBJSON_OK) {
            ps.path[0] = '\0';
            fail(&ps, MC_PBJSON_SYNTAX, "trailing bytes after the object");
        }
        protobuf_c_message_free_unpacked(m, NULL);
        return -1;
    }
    *out = m;
    return 0;
}
