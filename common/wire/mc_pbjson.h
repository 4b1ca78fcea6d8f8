/*
 * mc_pbjson - the canonical proto3 JSON mapping of any protobuf-c message,
 * both ways, driven by its descriptors (ProtobufCMessageDescriptor): what
 * the gateway's REST API speaks (docs/gateway.md), and any other JSON face
 * of the wire messages.
 *
 * Contract (https://protobuf.dev/programming-guides/proto3/#json):
 *   * Output: field names in lowerCamelCase (the descriptor's json_name);
 *     fields at their default value left out (proto3 implicit presence),
 *     message fields and oneof members written when set; enums as their
 *     names (a number the enum does not name as the number); int64, uint64,
 *     sint64, fixed64, sfixed64 as decimal strings; bytes as base64 (RFC
 *     4648, padded); float/double as numbers ("NaN", "Infinity" strings);
 *     repeated fields as arrays; strings escaped by mc_json_string (invalid
 *     UTF-8 never leaves as such). Compact, fields in declaration order.
 *   * Input: the lowerCamelCase name or the original proto name; enums by
 *     name or number; 64-bit integers as numbers or strings; bytes as
 *     standard or URL-safe base64, padded or not; null means the default.
 *     Strict: an unknown field, a value of the wrong JSON type, an integer
 *     out of range or with a fraction, an enum name or number the enum does
 *     not name, invalid UTF-8, a NUL in a string, a field given twice, two
 *     members of one oneof, trailing bytes: each is an error whose *field
 *     is the field's path ("dossier.documents[2].kind"; "" for the whole
 *     document) and whose message says what is wrong.
 *   * Bounds: nesting deeper than MC_PBJSON_MAX_DEPTH, or input longer than
 *     the caller's max_bytes, is refused before anything is allocated for
 *     it (no recursion beyond the bound).
 * Nothing here logs; out of memory is an error like any other.
 */
#ifndef MC_PBJSON_H
#define MC_PBJSON_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "mc_err.h"

#define MC_PBJSON_MAX_DEPTH 32 /* JSON objects/arrays nested in one document */

/* why a decode failed */
typedef enum mc_pbjson_error {
    MC_PBJSON_OK = 0,      /* decoded */
    MC_PBJSON_SYNTAX,      /* not JSON (or trailing bytes) */
    MC_PBJSON_TOO_LARGE,   /* over max_bytes or too deep */
    MC_PBJSON_UNKNOWN,     /* a field the message does not have */
    MC_PBJSON_TYPE,        /* a value of the wrong type or out of range */
    MC_PBJSON_UTF8,        /* a string that is not valid UTF-8 (or holds a NUL) */
    MC_PBJSON_NOMEM,       /* out of memory */
} mc_pbjson_error_t;

/* what a failed decode reports */
typedef struct mc_pbjson_problem {
    mc_pbjson_error_t error;       /* the kind */
    char              field[256];  /* path of the field ("" for the document) */
    char              message[256]; /* what is wrong, in English, for logs and tests */
} mc_pbjson_problem_t;

/*
 * mc_pbjson_name - the JSON name of a proto field name (protoc's json_name:
 * each '_' dropped and the letter after it upper-cased), into out (size
 * bytes, NUL-terminated, cut if too long); the OpenAPI schemas use it too
 */
void mc_pbjson_name(const char *name, char *out, size_t size);

/*
 * mc_pbjson_encode - msg as canonical JSON: *json is malloc'd (caller
 * frees), NUL-terminated, *len bytes. 0, or -1 with err set.
 */
int mc_pbjson_encode(const ProtobufCMessage *msg, char **json, size_t *len, mc_err_t *err);

/*
 * mc_pbjson_decode - parse len bytes of JSON (at most max_bytes) into a new
 * message of type desc: *out to free with protobuf_c_message_free_unpacked.
 * 0, or -1 with *problem filled (and *out NULL).
 */
int mc_pbjson_decode(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
                     size_t max_bytes, ProtobufCMessage **out, mc_pbjson_problem_t *problem);

#endif
