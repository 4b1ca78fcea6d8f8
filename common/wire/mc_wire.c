/*
 * mc_wire - strict decoding of untrusted protobuf bytes (contract in mc_wire.h).
 *
 * The walk reads each key (field number, wire type), finds the field in the
 * descriptor, and looks inside length-delimited values: strings are checked,
 * messages walked with the path extended ("missing[2]"), bytes and packed
 * scalars skipped. Repeated fields are indexed in order of appearance, which
 * is the order protobuf-c stores them in.
 */
#include "mc_wire.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_validate.h"

#define WIRE_VARINT 0 /* wire types of the encoding */
#define WIRE_FIXED64 1
#define WIRE_LEN 2
#define WIRE_SGROUP 3
#define WIRE_EGROUP 4
#define WIRE_FIXED32 5
#define WIRE_PATH 256 /* longest path kept (longer ones are cut) */

/* a cursor over wire bytes */
typedef struct cursor {
    const uint8_t *p;   /* next byte */
    const uint8_t *end; /* one past the last */
} cursor_t;

/* fail - write "<path>: <problem>" into why and return -1 */
static int fail(char *why, size_t size, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *why, size_t size, const char *path, const char *fmt, ...)
{
    if (!why || size == 0)
        return -1;
    int n = snprintf(why, size, "%s: ", path);
    if (n >= 0 && (size_t)n < size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why + n, size - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* read_varint - one varint (at most 10 bytes); -1 if cut short or too long */
static int read_varint(cursor_t *c, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 70 && c->p < c->end; shift += 7) {
        uint8_t b = *c->p++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 0;
    }
    return -1;
}

/* skip - advance n bytes; -1 if there are not that many */
static int skip(cursor_t *c, uint64_t n)
{
    if (n > (uint64_t)(c->end - c->p))
        return -1;
    c->p += n;
    return 0;
}

static int walk(const ProtobufCMessageDescriptor *d, cursor_t c, const char *path, int depth,
                char *why, size_t size);

/* check_value - a length-delimited value of field f at path */
static int check_value(const ProtobufCFieldDescriptor *f, const uint8_t *v, size_t n,
                       const char *path, int depth, char *why, size_t size)
{
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        if (memchr(v, 0, n))
            return fail(why, size, path, "contains a NUL byte");
        if (!mc_valid_utf8((const char *)v, n))
            return fail(why, size, path, "not valid UTF-8 (%zu bytes)", n);
        return 0;
    }
    if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        if (depth >= MC_WIRE_MAX_DEPTH)
            return fail(why, size, path, "nested deeper than %d", MC_WIRE_MAX_DEPTH);
        cursor_t sub = {v, v + n};
        return walk(f->descriptor, sub, path, depth + 1, why, size);
    }
    if (f->type == PROTOBUF_C_TYPE_ENUM && f->label == PROTOBUF_C_LABEL_REPEATED) {
        cursor_t packed = {v, v + n}; /* packed enums: each one named */
        while (packed.p < packed.end) {
            uint64_t e;
            if (read_varint(&packed, &e) != 0)
                return fail(why, size, path, "truncated packed value");
            if (!protobuf_c_enum_descriptor_get_value(f->descriptor, (int)(int32_t)e))
                return fail(why, size, path, "unknown enum value");
        }
    }
    return 0; /* bytes, packed scalars: any content */
}

/* walk - every field of one message; path names it */
static int walk(const ProtobufCMessageDescriptor *d, cursor_t c, const char *path, int depth,
                char *why, size_t size)
{
    unsigned *seen = calloc(d->n_fields + 1, sizeof *seen); /* occurrences, for [i] */
    if (!seen)
        return fail(why, size, path, "out of memory");
    int rc = 0;
    char sub[WIRE_PATH];
    while (rc == 0 && c.p < c.end) {
        uint64_t key;
        if (read_varint(&c, &key) != 0) {
            rc = fail(why, size, path, "truncated field key");
            break;
        }
        uint64_t number = key >> 3;
        int type = (int)(key & 7);
        const ProtobufCFieldDescriptor *f =
            number > 0 && number <= 0x1fffffff
                ? protobuf_c_message_descriptor_get_field(d, (unsigned)number)
                : NULL;
        if (!f) {
            rc = fail(why, size, path, "unknown field %" PRIu64, (uint64_t)number);
            break;
        }
        size_t index = (size_t)(f - d->fields);
        if (f->label == PROTOBUF_C_LABEL_REPEATED)
            snprintf(sub, sizeof sub, "%s.%s[%u]", path, f->name, seen[index]);
        else
            snprintf(sub, sizeof sub, "%s.%s", path, f->name);
        seen[index]++;
        uint64_t v;
        switch (type) {
        case WIRE_VARINT:
            if (read_varint(&c, &v) != 0)
                rc = fail(why, size, sub, "truncated value");
            else if (f->type == PROTOBUF_C_TYPE_ENUM &&
                     !protobuf_c_enum_descriptor_get_value(f->descriptor, (int)(int32_t)v))
                rc = fail(why, size, sub, "unknown enum value");
            break;
        case WIRE_FIXED64:
            if (skip(&c, 8) != 0)
                rc = fail(why, size, sub, "truncated value");
            break;
        case WIRE_FIXED32:
            if (skip(&c, 4) != 0)
                rc = fail(why, size, sub, "truncated value");
            break;
        case WIRE_LEN:
            if (read_varint(&c, &v) != 0 || v > (uint64_t)(c.end - c.p)) {
                rc = fail(why, size, sub, "truncated value");
                break;
            }
            rc = check_value(f, c.p, (size_t)v, sub, depth, why, size);
            c.p += v;
            break;
        default: /* groups (3, 4) are not proto3; 6, 7 do not exist */
            rc = fail(why, size, sub, "wire type %d not allowed", type);
            break;
        }
    }
    free(seen);
    return rc;
}

/* mc_wire_check - the walk from the top */
int mc_wire_check(const ProtobufCMessageDescriptor *d, const uint8_t *bytes, size_t len,
                  char *why, size_t size)
{
    if (why && size)
        why[0] = '\0';
    cursor_t c = {bytes, bytes + len};
    if (!bytes && len)
        return fail(why, size, d->short_name, "no bytes");
    return walk(d, c, d->short_name, 0, why, size);
}

/* mc_wire_unpack - check, then unpack */
int mc_wire_unpack(const ProtobufCMessageDescriptor *d, const uint8_t *bytes, size_t len,
                   ProtobufCMessage **msg, char *why, size_t size)
{
    *msg = NULL;
    if (mc_wire_check(d, bytes, len, why, size) != 0)
        return -1;
    *msg = protobuf_c_message_unpack(d, NULL, len, bytes);
    if (!*msg)
        return fail(why, size, d->short_name, "not a valid %s", d->short_name);
    return 0;
}

/* mc_wire_strip_unknown - recursive, following only set members of a oneof */
void mc_wire_strip_unknown(ProtobufCMessage *msg)
{
    if (!msg)
        return;
    for (unsigned i = 0; i < msg->n_unknown_fields; i++)
        free(msg->unknown_fields[i].data);
    free(msg->unknown_fields);
    msg->unknown_fields = NULL;
    msg->n_unknown_fields = 0;
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        char *base = (char *)msg;
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(base + f->quantifier_offset) != f->id)
            continue; /* the union holds another member */
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            ProtobufCMessage **items = *(ProtobufCMessage ***)(base + f->offset);
            for (size_t k = 0; items && k < n; k++)
                mc_wire_strip_unknown(items[k]);
        } else {
            mc_wire_strip_unknown(*(ProtobufCMessage **)(base + f->offset));
        }
    }
}

/* mc_wire_u32_in - inclusive range */
bool mc_wire_u32_in(uint32_t v, uint32_t lo, uint32_t hi)
{
    return v >= lo && v <= hi;
}

/* mc_wire_u32_to_int - no wrap to negative */
int mc_wire_u32_to_int(uint32_t v, int *out)
{
    if (v > INT32_MAX)
        return -1;
    *out = (int)v;
    return 0;
}

/* mc_wire_u64_to_i64 - no wrap to negative */
int mc_wire_u64_to_i64(uint64_t v, int64_t *out)
{
    if (v > INT64_MAX)
        return -1;
    *out = (int64_t)v;
    return 0;
}
