/*
 * mc_json - the one JSON string escaper: text as a JSON string literal
 * (RFC 8259), written into a bounded buffer or onto a stream.
 *
 * Contract: '"' and '\\' are backslashed; \n, \r and \t get their short
 * forms; other control characters (< 0x20) and DEL become \u00XX; valid
 * UTF-8 passes through unchanged (Vietnamese text stays readable); each
 * byte that does not start a valid UTF-8 sequence (overlong, surrogate,
 * > U+10FFFF, cut short) becomes \ufffd, so the output is always valid
 * JSON. A NULL text is written as "". Nothing here allocates.
 */
#ifndef MC_JSON_H
#define MC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* the most bytes mc_json_string writes for len bytes of text, quotes and NUL included:
 * a byte becomes at most 6 ("\u001f", "\ufffd") */
#define MC_JSON_STRING_MAX(len) (6 * (size_t)(len) + 3)

/*
 * mc_json_string - write text as a JSON string literal, quotes included and
 * NUL-terminated, into out (size bytes, at least 3). When it does not fit,
 * the text is cut before the first character (escape or UTF-8 sequence)
 * that would overflow and the literal is still closed, so out always holds
 * valid JSON. Returns the bytes written (without the NUL); *cut (may be
 * NULL) tells whether the text was shortened.
 */
size_t mc_json_string(char *out, size_t size, const char *text, bool *cut);

/* mc_json_fputs - write text as a JSON string literal to out; 0, or -1 on a write error */
int mc_json_fputs(FILE *out, const char *text);

#endif
