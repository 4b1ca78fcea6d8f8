/*
 * mc_openapi - the OpenAPI 3.0 description of motcua-gateway's REST door
 * (docs/openapi.json), generated from the protobuf-c descriptors.
 *
 * Contract: components.schemas are the messages and enums the routes use,
 * and every message and enum they reach, in the canonical proto3 JSON
 * mapping: lowerCamelCase property names (protoc's json_name rule), enums
 * as their value names, int64/uint64/fixed64 as decimal strings, bytes as
 * base64 strings, repeated fields as arrays, each oneof listed in the
 * schema's description and in "x-proto-oneofs". The routes come from ONE
 * table in mc_openapi.c (the REST routes of /work/wt/CONTRACT.md, issue
 * 15); that table and the error-status table beside it are the only
 * hand-written text. The output is deterministic (schemas sorted by name,
 * two-space indentation, a final newline): the same descriptors always
 * give the same bytes, so tests/unit/test_openapi compares it with the
 * committed docs/openapi.json. Nothing here allocates beyond the stream.
 */
#ifndef MC_OPENAPI_H
#define MC_OPENAPI_H

#include <stdio.h>

/* mc_openapi_write - the whole document onto out; 0, or -1 on a write error
 * or when the descriptors reach more schemas than it can hold */
int mc_openapi_write(FILE *out);

#endif
