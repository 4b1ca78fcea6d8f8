/*
 * mc_code - the dossier code <unit id>-<YYMMDD>-<NNNN> (see mc_code.h).
 */
#include "mc_code.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* mc_unit_id_valid - four dot-separated groups of ASCII letters and digits */
bool mc_unit_id_valid(const char *unit_id)
{
    if (!unit_id)
        return false;
    int groups = 0, group_len = 0;
    size_t total = 0;
    for (const char *p = unit_id;; p++, total++) {
        if (total > 40)
            return false;
        if (*p == '.' || *p == '\0') {
            if (group_len == 0 || group_len > 8)
                return false;
            groups++;
            group_len = 0;
            if (*p == '\0')
                break;
        } else if (isalnum((unsigned char)*p) && (unsigned char)*p < 0x80) {
            group_len++;
        } else {
            return false;
        }
    }
    return groups == 4;
}

/* mc_code_format - write the code */
int mc_code_format(char *buf, size_t size, const char *unit_id, mc_date_t day, int seq)
{
    if (!mc_unit_id_valid(unit_id) || seq <= 0 || day.year < 2000 || day.year > 2099 ||
        day.month < 1 || day.month > 12 || day.day < 1 || day.day > 31)
        return -1;
    int n = snprintf(buf, size, "%s-%02d%02d%02d-%04d", unit_id, day.year % 100, day.month,
                     day.day, seq);
    return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

/* mc_code_parse - split a code, strictly */
int mc_code_parse(const char *code, char *unit_id, size_t unit_size, mc_date_t *day, int *seq)
{
    if (!code || strlen(code) >= MC_CODE_MAX)
        return -1;
    const char *dash1 = strchr(code, '-');
    if (!dash1)
        return -1;
    const char *dash2 = strchr(dash1 + 1, '-');
    if (!dash2 || dash2 - dash1 != 7 || strchr(dash2 + 1, '-'))
        return -1;
    size_t unit_len = (size_t)(dash1 - code);
    if (unit_len + 1 > unit_size)
        return -1;
    char unit[MC_CODE_MAX];
    memcpy(unit, code, unit_len);
    unit[unit_len] = '\0';
    if (!mc_unit_id_valid(unit))
        return -1;
    int v[3];
    for (int i = 0; i < 3; i++) {
        char a = dash1[1 + 2 * i], b = dash1[2 + 2 * i];
        if (!isdigit((unsigned char)a) || !isdigit((unsigned char)b))
            return -1;
        v[i] = (a - '0') * 10 + (b - '0');
    }
    const char *s = dash2 + 1;
    size_t slen = strlen(s);
    if (slen < 4 || slen > 6)
        return -1;
    int n = 0;
    for (size_t i = 0; i < slen; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        n = n * 10 + (s[i] - '0');
    }
    if (n <= 0 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31)
        return -1;
    memcpy(unit_id, unit, unit_len + 1);
    day->year = 2000 + v[0];
    day->month = v[1];
    day->day = v[2];
    *seq = n;
    return 0;
}
