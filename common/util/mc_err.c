/*
 * mc_err - error reports that cross module boundaries (see mc_err.h).
 */
#include "mc_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* mc_err_clear - forget every message */
void mc_err_clear(mc_err_t *err)
{
    if (!err)
        return;
    err->text[0] = '\0';
    err->len = 0;
    err->count = 0;
    err->code = MC_ERR_NONE;
}

/* mc_err_set_code - the code a caller tells this failure by */
void mc_err_set_code(mc_err_t *err, mc_err_code_t code)
{
    if (err)
        err->code = code;
}

/* mc_err_add - append one message; silently truncates when full */
void mc_err_add(mc_err_t *err, const char *fmt, ...)
{
    if (!err)
        return;
    if (err->len > MC_ERR_TEXT - 2) {
        err->count++;
        return;
    }
    size_t room = MC_ERR_TEXT - err->len - 1; /* keep one byte for '\n' */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->text + err->len, room, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    size_t used = (size_t)n < room ? (size_t)n : room - 1;
    err->len += used;
    err->text[err->len++] = '\n';
    err->text[err->len] = '\0';
    err->count++;
}

/* mc_err_first - copy the first message into buf */
const char *mc_err_first(const mc_err_t *err, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    buf[0] = '\0';
    if (!err || err->len == 0)
        return buf;
    const char *nl = memchr(err->text, '\n', err->len);
    size_t n = nl ? (size_t)(nl - err->text) : err->len;
    if (n >= size)
        n = size - 1;
    memcpy(buf, err->text, n);
    buf[n] = '\0';
    return buf;
}
