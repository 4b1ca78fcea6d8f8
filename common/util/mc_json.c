/*
 * mc_json - the JSON string escaper (contract in mc_json.h): one rule,
 * json_char, and two sinks, a bounded buffer and a stream.
 */
#include "mc_json.h"

#include <string.h>

/* utf8_len - length of the valid UTF-8 sequence at s, 0 if invalid (a NUL ends it) */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned cp, min;
    if ((c & 0xE0) == 0xC0) {
        n = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) /* also stops at the NUL */
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* json_char - the JSON form of the character at s (not NUL) into buf[6]: its length;
 * *used is how many bytes of s it stands for */
static size_t json_char(const unsigned char *s, char buf[6], size_t *used)
{
    static const char hex[] = "0123456789abcdef";
    unsigned c = s[0];
    *used = 1;
    switch (c) {
    case '"': memcpy(buf, "\\\"", 2); return 2;
    case '\\': memcpy(buf, "\\\\", 2); return 2;
    case '\n': memcpy(buf, "\\n", 2); return 2;
    case '\r': memcpy(buf, "\\r", 2); return 2;
    case '\t': memcpy(buf, "\\t", 2); return 2;
    default: break;
    }
    if (c < 0x20 || c == 0x7F) {
        memcpy(buf, "\\u00", 4);
        buf[4] = hex[c >> 4];
        buf[5] = hex[c & 15];
        return 6;
    }
    size_t n = utf8_len(s);
    if (n == 0) {
        memcpy(buf, "\\ufffd", 6); /* one replacement per bad byte */
        return 6;
    }
    memcpy(buf, s, n);
    *used = n;
    return n;
}

/* mc_json_string - into a bounded buffer, cut at a character */
size_t mc_json_string(char *out, size_t size, const char *text, bool *cut)
{
    if (cut)
        *cut = false;
    if (size < 3) {
        if (size > 0)
            out[0] = '\0';
        if (cut)
            *cut = text && *text;
        return 0;
    }
    size_t o = 0;
    out[o++] = '"';
    for (const unsigned char *s = (const unsigned char *)(text ? text : ""); *s;) {
        char buf[6];
        size_t used;
        size_t n = json_char(s, buf, &used);
        if (o + n + 2 > size) { /* room for the closing quote and the NUL */
            if (cut)
                *cut = true;
            break;
        }
        memcpy(out + o, buf, n);
        o += n;
        s += used;
    }
    out[o++] = '"';
    out[o] = '\0';
    return o;
}

/* mc_json_fputs - onto a stream */
int mc_json_fputs(FILE *out, const char *text)
{
    if (fputc('"', out) == EOF)
        return -1;
    for (const unsigned char *s = (const unsigned char *)(text ? text : ""); *s;) {
        char buf[6];
        size_t used;
        size_t n = json_char(s, buf, &used);
        if (fwrite(buf, 1, n, out) != n)
            return -1;
        s += used;
    }
    return fputc('"', out) == EOF ? -1 : 0;
}
