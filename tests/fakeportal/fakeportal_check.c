/*
 * fakeportal_check - is a body the motcua.portal.v1 document of
 * docs/portal.md? A strict reader of one flat JSON object (string keys;
 * string, number, true, false or null values) and the documented rules:
 * every field present with its type, event_id = dossier_code/seq, seq >= 1,
 * times in RFC 3339 UTC with milliseconds, result true exactly for
 * RESULT_READY and DELIVERED. Unknown fields are allowed (the docs let the
 * shape grow) and ignored.
 */
#include "fakeportal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FP_FIELDS_MAX 32 /* members of one object the reader keeps */

/* the type of a member's value */
typedef enum fp_type {
    FP_STRING = 0, /* "..." (value holds it, escapes decoded) */
    FP_NUMBER = 1, /* value holds its text */
    FP_BOOL   = 2, /* value "true" or "false" */
    FP_NULL   = 3, /* null */
} fp_type_t;

/* one member of the object */
typedef struct fp_field {
    char      key[32];    /* its name (longer names are kept cut, they are not ours) */
    fp_type_t type;       /* its value's type */
    char      value[160]; /* its value as text (cut when longer: then too_long) */
    bool      too_long;   /* the value did not fit */
} fp_field_t;

/* a cursor over the body */
typedef struct fp_reader {
    const char *p;   /* next byte */
    const char *end; /* one past the last */
} fp_reader_t;

/* skip_ws - past JSON whitespace */
static void skip_ws(fp_reader_t *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

/* read_string - a JSON string at r into out (escapes decoded, \u kept as
 * '?'); -1 if malformed; *cut when it did not fit */
static int read_string(fp_reader_t *r, char *out, size_t size, bool *cut)
{
    size_t n = 0;
    *cut = false;
    if (r->p >= r->end || *r->p != '"')
        return -1;
    r->p++;
    while (r->p < r->end && *r->p != '"') {
        unsigned char c = (unsigned char)*r->p++;
        if (c < 0x20)
            return -1;
        if (c == '\\') {
            if (r->p >= r->end)
                return -1;
            char e = *r->p++;
            const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
            const char *at = strchr(from, e);
            if (e == 'u') {
                for (int i = 0; i < 4; i++)
                    if (r->p >= r->end || !isxdigit((unsigned char)*r->p++))
                        return -1;
                c = '?';
            } else if (e && at) {
                c = (unsigned char)to[at - from];
            } else {
                return -1;
            }
        }
        if (n + 1 < size)
            out[n++] = (char)c;
        else
            *cut = true;
    }
    if (r->p >= r->end)
        return -1;
    r->p++;
    out[n] = '\0';
    return 0;
}

/* read_number - a JSON number's text into out; -1 if malformed */
static int read_number(fp_reader_t *r, char *out, size_t size)
{
    const char *s = r->p;
    if (r->p < r->end && *r->p == '-')
        r->p++;
    size_t digits = 0;
    while (r->p < r->end && isdigit((unsigned char)*r->p))
        r->p++, digits++;
    if (digits == 0 || (digits > 1 && s[*s == '-'] == '0'))
        return -1;
    if (r->p < r->end && *r->p == '.') {
        r->p++;
        for (digits = 0; r->p < r->end && isdigit((unsigned char)*r->p); r->p++)
            digits++;
        if (digits == 0)
            return -1;
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
            r->p++;
        for (digits = 0; r->p < r->end && isdigit((unsigned char)*r->p); r->p++)
            digits++;
        if (digits == 0)
            return -1;
    }
    size_t len = (size_t)(r->p - s);
    if (len >= size)
        return -1;
    memcpy(out, s, len);
    out[len] = '\0';
    return 0;
}

/* read_word - true, false or null; -1 if none */
static int read_word(fp_reader_t *r, fp_field_t *f)
{
    static const char *const words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t len = strlen(words[i]);
        if ((size_t)(r->end - r->p) >= len && memcmp(r->p, words[i], len) == 0) {
            r->p += len;
            f->type = i < 2 ? FP_BOOL : FP_NULL;
            snprintf(f->value, sizeof f->value, "%s", words[i]);
            return 0;
        }
    }
    return -1;
}

/* read_object - one flat object filling the whole body; its members into
 * fields; their number, or -1 (malformed, nested, or too many members) */
static int read_object(const char *body, size_t len, fp_field_t *fields, int max)
{
    fp_reader_t r = {body, body + len};
    int n = 0;
    skip_ws(&r);
    if (r.p >= r.end || *r.p++ != '{')
        return -1;
    skip_ws(&r);
    if (r.p < r.end && *r.p == '}') {
        r.p++;
    } else {
        for (;;) {
            if (n == max)
                return -1;
            fp_field_t *f = &fields[n++];
            memset(f, 0, sizeof *f);
            bool cut;
            skip_ws(&r);
            if (read_string(&r, f->key, sizeof f->key, &cut) != 0)
                return -1;
            skip_ws(&r);
            if (r.p >= r.end || *r.p++ != ':')
                return -1;
            skip_ws(&r);
            if (r.p < r.end && *r.p == '"') {
                f->type = FP_STRING;
                if (read_string(&r, f->value, sizeof f->value, &f->too_long) != 0)
                    return -1;
            } else if (r.p < r.end && (*r.p == '-' || isdigit((unsigned char)*r.p))) {
                f->type = FP_NUMBER;
                if (read_number(&r, f->value, sizeof f->value) != 0)
                    return -1;
            } else if (read_word(&r, f) != 0) {
                return -1; /* an object or an array: the shape is flat */
            }
            skip_ws(&r);
            if (r.p < r.end && *r.p == ',') {
                r.p++;
                continue;
            }
            if (r.p < r.end && *r.p == '}') {
                r.p++;
                break;
            }
            return -1;
        }
    }
    skip_ws(&r);
    return r.p == r.end ? n : -1;
}

/* field - the member named key, or NULL (a repeated key is a malformed body for us) */
static const fp_field_t *field(const fp_field_t *fields, int n, const char *key)
{
    for (int i = 0; i < n; i++)
        if (strcmp(fields[i].key, key) == 0)
            return &fields[i];
    return NULL;
}

/* is_time - "YYYY-MM-DDTHH:MM:SS.mmmZ", as mc_portal_time() writes it */
static bool is_time(const char *s)
{
    static const char pattern[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (strlen(s) != sizeof pattern - 1)
        return false;
    for (size_t i = 0; pattern[i]; i++)
        if (pattern[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != pattern[i])
            return false;
    return true;
}

/* is_word - non-empty, only the bytes of set */
static bool is_word(const char *s, const char *set)
{
    return s[0] != '\0' && strspn(s, set) == strlen(s);
}

/* take - value into out (size bytes); -1 if it does not fit */
static int take(char *out, size_t size, const char *value)
{
    size_t len = strlen(value);
    if (len >= size)
        return -1;
    memcpy(out, value, len + 1);
    return 0;
}

/* fp_check_body - see fakeportal.h */
const char *fp_check_body(const char *body, size_t len, fp_body_t *out)
{
    fp_field_t fields[FP_FIELDS_MAX];
    int n = read_object(body, len, fields, FP_FIELDS_MAX);
    memset(out, 0, sizeof *out);
    if (n < 0)
        return "not_a_flat_json_object";
    for (int i = 0; i < n; i++) {
        if (fields[i].too_long)
            return "value_too_long";
        for (int j = 0; j < i; j++)
            if (strcmp(fields[i].key, fields[j].key) == 0)
                return "repeated_key";
    }
    /* the documented members and their types */
    static const struct {
        const char *key;  /* member */
        fp_type_t   type; /* its type */
    } want[] = {{"schema", FP_STRING},   {"event_id", FP_STRING},       {"dossier_code", FP_STRING},
                {"seq", FP_NUMBER},      {"event", FP_STRING},          {"state", FP_STRING},
                {"at", FP_STRING},       {"due_at", FP_STRING},         {"result", FP_BOOL},
                {"procedure_code", FP_STRING}, {"ward_code", FP_STRING}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const fp_field_t *f = field(fields, n, want[i].key);
        if (!f)
            return "field_missing";
        /* no appointment yet (a dossier waiting for acceptance): null */
        bool due_null = strcmp(want[i].key, "due_at") == 0 && f->type == FP_NULL;
        if (f->type != want[i].type && !due_null)
            return "field_of_wrong_type";
    }
    if (strcmp(field(fields, n, "schema")->value, "motcua.portal.v1") != 0)
        return "schema_not_motcua.portal.v1";
    const char *seq = field(fields, n, "seq")->value;
    char *stop = NULL;
    out->seq = strtol(seq, &stop, 10);
    if (*stop != '\0' || out->seq < 1)
        return "seq_not_a_positive_integer";
    if (take(out->code, sizeof out->code, field(fields, n, "dossier_code")->value) != 0 ||
        take(out->event_id, sizeof out->event_id, field(fields, n, "event_id")->value) != 0 ||
        take(out->kind, sizeof out->kind, field(fields, n, "event")->value) != 0 ||
        take(out->state, sizeof out->state, field(fields, n, "state")->value) != 0)
        return "value_too_long";
    char id[sizeof out->event_id + 24];
    snprintf(id, sizeof id, "%s/%ld", out->code, out->seq);
    if (out->code[0] == '\0' || strcmp(id, out->event_id) != 0)
        return "event_id_not_dossier_code_slash_seq";
    if (!is_word(out->kind, "abcdefghijklmnopqrstuvwxyz_0123456789"))
        return "event_not_a_machine_word";
    if (!is_word(out->state, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") || strcmp(out->state, "UNSPECIFIED") == 0)
        return "state_not_a_dossier_state";
    const fp_field_t *due = field(fields, n, "due_at");
    if (!is_time(field(fields, n, "at")->value) || (due->type == FP_STRING && !is_time(due->value)))
        return "time_not_rfc3339_utc_ms";
    bool result = strcmp(field(fields, n, "result")->value, "true") == 0;
    if (result != (strcmp(out->state, "RESULT_READY") == 0 || strcmp(out->state, "DELIVERED") == 0))
        return "result_disagrees_with_state";
    if (field(fields, n, "procedure_code")->value[0] == '\0' ||
        field(fields, n, "ward_code")->value[0] == '\0')
        return "procedure_or_ward_empty";
    return NULL;
}
