/*
 * mc_wire - strict decoding of untrusted protobuf bytes.
 *
 * Contract: pure functions, no I/O, no logging. protobuf-c accepts more than
 * our contracts allow: it keeps unknown fields (and packs them again, so they
 * would be stored and forwarded), cuts a string at its first NUL after the
 * length was checked on the wire, and takes any bytes as a string. Before
 * unpacking, mc_wire walks the wire bytes alongside the message descriptor,
 * recursively, and refuses with the field path, e.g.
 *   "AgencyToHub.result.missing[2].name: contains a NUL byte"
 * for: a field number the descriptor does not have ("unknown field 7"), a
 * group, a string with a NUL byte or invalid UTF-8 (mc_valid_utf8), an enum
 * value the enum does not name, nesting deeper than MC_WIRE_MAX_DEPTH.
 * A path never contains the offending value, so `why` is safe to log and to
 * send back. Bounds of values (lengths, counts, numbers) stay with the
 * caller; the range helpers below convert without a silent wrap.
 */
#ifndef MC_WIRE_H
#define MC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#define MC_WIRE_MAX_DEPTH 16 /* nested messages deeper than this are refused */

/*
 * mc_wire_check - are these bytes a strict encoding of a `d` message? 0 if
 * so; else -1 with why (size bytes, "<path>: <problem>"). Bytes protobuf-c
 * cannot decode at all may pass here: mc_wire_unpack also unpacks.
 */
int mc_wire_check(const ProtobufCMessageDescriptor *d, const uint8_t *bytes, size_t len,
                  char *why, size_t size);

/*
 * mc_wire_unpack - mc_wire_check, then protobuf_c_message_unpack. 0 with
 * *msg set (free with protobuf_c_message_free_unpacked(*msg, NULL)); -1 with
 * *msg NULL and why filled.
 */
int mc_wire_unpack(const ProtobufCMessageDescriptor *d, const uint8_t *bytes, size_t len,
                   ProtobufCMessage **msg, char *why, size_t size);

/*
 * mc_wire_strip_unknown - drop the unknown fields protobuf-c kept in msg and
 * every message inside it, so that packing it again forwards nothing we do
 * not understand. Only for messages unpacked with the default allocator.
 */
void mc_wire_strip_unknown(ProtobufCMessage *msg);

/* mc_wire_u32_in - lo <= v <= hi */
bool mc_wire_u32_in(uint32_t v, uint32_t lo, uint32_t hi);

/* mc_wire_u32_to_int - *out = v if v <= INT32_MAX (0), else -1 and *out untouched */
int mc_wire_u32_to_int(uint32_t v, int *out);

/* mc_wire_u64_to_i64 - *out = v if v <= INT64_MAX (0), else -1 and *out untouched */
int mc_wire_u64_to_i64(uint64_t v, int64_t *out);

#endif
