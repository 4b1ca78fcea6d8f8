/*
 * notify_templates - config/notifications.yaml: the messages per kind.
 *
 * Contract: the loader is strict (contract in notify.h) so that a typo in
 * a placeholder is found by `motcua-notify --check` at deploy time, not by
 * a citizen reading "{cdoe}". A template is checked once at load; render
 * then only substitutes. "{{" and "}}" stand for literal braces.
 */
#include "notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_yaml.h"

#define TEMPLATE_MAX 8192 /* bytes in one template text */

/* the kinds, in the order of the file's documentation */
enum { K_RECEIVED, K_SUPPLEMENT, K_RESULT, K_LATE, K_REFUSED, K_WITHDRAWN, K_RETURNED,
       K_APOLOGY, K_SUBMITTED, K_COUNT };
static const char *const kind_names[K_COUNT + 1] = {
    "received", "supplement_requested", "result_ready", "late", "refused", "withdrawn",
    "returned", "apology", "submitted", NULL};

#define ALL_KINDS ((1u << K_COUNT) - 1)

/* a placeholder: its name, where its value is, which kinds may use it */
typedef struct placeholder {
    const char *name;
    size_t      offset;  /* in notify_values_t */
    unsigned    kinds;   /* bit per kind */
} placeholder_t;

static const placeholder_t placeholders[] = {
    {"code", offsetof(notify_values_t, code), ALL_KINDS},
    {"procedure", offsetof(notify_values_t, procedure), ALL_KINDS},
    {"due", offsetof(notify_values_t, due), ALL_KINDS},
    {"name", offsetof(notify_values_t, name), ALL_KINDS},
    {"ward", offsetof(notify_values_t, ward), ALL_KINDS},
    {"unit", offsetof(notify_values_t, unit), ALL_KINDS},
    {"address", offsetof(notify_values_t, address), ALL_KINDS},
    {"missing", offsetof(notify_values_t, missing), 1u << K_SUPPLEMENT},
    {"reason", offsetof(notify_values_t, reason),
     (1u << K_LATE) | (1u << K_REFUSED) | (1u << K_APOLOGY)},
    {"new_due", offsetof(notify_values_t, new_due), (1u << K_LATE) | (1u << K_APOLOGY)},
    {"old_due", offsetof(notify_values_t, old_due), 1u << K_APOLOGY},
    /* the one supplement request's deadline: told with the request, recalled at the return */
    {"supplement_due", offsetof(notify_values_t, supplement_due),
     (1u << K_SUPPLEMENT) | (1u << K_RETURNED)},
    /* only once the dossier is decided may the applicant rate it (docs/pipeline.md) */
    {"rating_link", offsetof(notify_values_t, rating_link), (1u << K_RESULT) | (1u << K_REFUSED)},
    /* the dossier's secret is given once, in the received notice (and on the
     * receipt); a later notice that repeated it would spread it further */
    {"secret", offsetof(notify_values_t, secret), (1u << K_RECEIVED) | (1u << K_SUBMITTED)},
    /* an online dossier waits for the desk's acceptance until then */
    {"accept_due", offsetof(notify_values_t, accept_due), 1u << K_SUBMITTED},
};
#define N_PLACEHOLDERS (sizeof placeholders / sizeof placeholders[0])

typedef struct template {
    char *sms;
    char *email_subject;
    char *email_body;
} template_t;

struct notify_templates {
    template_t kinds[K_COUNT];
    bool       sms_ascii; /* notify.sms_ascii: SMS rendered without diacritics */
};

/* find_placeholder - by name and length */
static const placeholder_t *find_placeholder(const char *name, size_t len)
{
    for (size_t i = 0; i < N_PLACEHOLDERS; i++)
        if (strlen(placeholders[i].name) == len && strncmp(placeholders[i].name, name, len) == 0)
            return &placeholders[i];
    return NULL;
}

/* check_text - every {x} known and available for the kind; braces balanced */
static int check_text(const mc_yaml_node_t *node, const char *key, int kind, const char *text,
                      mc_err_t *err)
{
    char w[512];
    int rc = 0;
    for (const char *p = text; *p; p++) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            p++;
            continue;
        }
        if (*p == '}') {
            mc_err_add(err, "%s: key '%s': a lone '}' (write '}}' for a literal brace)",
                       mc_yaml_where(node, w, sizeof w), key);
            rc = -1;
            continue;
        }
        if (*p != '{')
            continue;
        const char *end = strchr(p + 1, '}');
        if (!end) {
            mc_err_add(err, "%s: key '%s': '{' without '}' (write '{{' for a literal brace)",
                       mc_yaml_where(node, w, sizeof w), key);
            return -1;
        }
        size_t len = (size_t)(end - p - 1);
        const placeholder_t *ph = find_placeholder(p + 1, len);
        if (!ph) {
            mc_err_add(err, "%s: key '%s': unknown placeholder '{%.*s}'",
                       mc_yaml_where(node, w, sizeof w), key, (int)(len > 64 ? 64 : len), p + 1);
            rc = -1;
        } else if (!(ph->kinds & (1u << kind))) {
            mc_err_add(err, "%s: key '%s': placeholder '{%s}' is not available for kind '%s'",
                       mc_yaml_where(node, w, sizeof w), key, ph->name, kind_names[kind]);
            rc = -1;
        }
        p = end;
    }
    return rc;
}

/* load_kind - one kind's three texts */
static int load_kind(const mc_yaml_node_t *map, int kind, template_t *t, mc_err_t *err)
{
    static const char *const keys[] = {"sms", "email_subject", "email_body", NULL};
    if (mc_yaml_check_keys(map, kind_names[kind], keys, keys, err) < 0)
        return -1;
    char **fields[] = {&t->sms, &t->email_subject, &t->email_body};
    int rc = 0;
    for (int i = 0; i < 3; i++) {
        if (mc_yaml_get_string(map, keys[i], true, TEMPLATE_MAX, fields[i], err) < 0) {
            rc = -1;
            continue;
        }
        const mc_yaml_node_t *node = mc_yaml_get(map, keys[i]);
        char w[512];
        if ((*fields[i])[0] == '\0') {
            mc_err_add(err, "%s: key '%s': must not be empty", mc_yaml_where(node, w, sizeof w),
                       keys[i]);
            rc = -1;
        } else if (i == 1 && strpbrk(*fields[i], "\r\n")) {
            mc_err_add(err, "%s: key '%s': a subject is one line", mc_yaml_where(node, w, sizeof w),
                       keys[i]);
            rc = -1;
        } else if (check_text(node, keys[i], kind, *fields[i], err) < 0) {
            rc = -1;
        }
    }
    return rc;
}

/* notify_templates_load - read and check notifications.yaml */
int notify_templates_load(const char *path, notify_templates_t **out, mc_err_t *err)
{
    *out = NULL;
    mc_yaml_doc_t *doc = NULL;
    if (mc_yaml_load_file(path, &doc, err) < 0)
        return -1;
    notify_templates_t *t = calloc(1, sizeof *t);
    if (!t) {
        mc_yaml_destroy(&doc);
        mc_err_add(err, "%s: out of memory", path);
        return -1;
    }
    const mc_yaml_node_t *root = mc_yaml_root(doc);
    int rc = mc_yaml_check_keys(root, "notifications.yaml", kind_names, kind_names, err);
    if (root->kind == MC_YAML_MAPPING) {
        for (int k = 0; k < K_COUNT; k++) {
            const mc_yaml_node_t *map = mc_yaml_get(root, kind_names[k]);
            if (map && load_kind(map, k, &t->kinds[k], err) < 0)
                rc = -1;
        }
    }
    mc_yaml_destroy(&doc);
    if (rc < 0) {
        notify_templates_destroy(&t);
        return -1;
    }
    *out = t;
    return 0;
}

/* notify_templates_destroy - free and NULL */
void notify_templates_destroy(notify_templates_t **templates)
{
    if (!templates || !*templates)
        return;
    for (int k = 0; k < K_COUNT; k++) {
        free((*templates)->kinds[k].sms);
        free((*templates)->kinds[k].email_subject);
        free((*templates)->kinds[k].email_body);
    }
    free(*templates);
    *templates = NULL;
}

/* buf_t - a growing string */
typedef struct buf {
    char  *data;
    size_t len, cap;
    bool   failed;
} buf_t;

/* buf_put - append n bytes */
static void buf_put(buf_t *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) {
            b->failed = true;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* render_text - substitute a checked template; NULL on out of memory */
static char *render_text(const char *text, const notify_values_t *values)
{
    buf_t b = {0};
    buf_put(&b, "", 0);
    for (const char *p = text; *p; p++) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            buf_put(&b, p, 1);
            p++;
            continue;
        }
        const char *end = p[0] == '{' ? strchr(p + 1, '}') : NULL;
        const placeholder_t *ph = end ? find_placeholder(p + 1, (size_t)(end - p - 1)) : NULL;
        if (!ph) { /* cannot happen after the load-time check: keep the text as is */
            buf_put(&b, p, 1);
            continue;
        }
        const char *v = *(const char *const *)((const char *)values + ph->offset);
        if (v)
            buf_put(&b, v, strlen(v));
        p = end;
    }
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    return b.data;
}

/* notify_render - fill msg for the kind */
int notify_render(const notify_templates_t *templates, const char *kind,
                  const notify_values_t *values, notify_message_t *msg)
{
    memset(msg, 0, sizeof *msg);
    for (int k = 0; k < K_COUNT; k++) {
        if (strcmp(kind, kind_names[k]) != 0)
            continue;
        const template_t *t = &templates->kinds[k];
        msg->sms = render_text(t->sms, values);
        if (msg->sms && templates->sms_ascii)
            notify_sms_unaccent(msg->sms);
        msg->subject = render_text(t->email_subject, values);
        msg->body = render_text(t->email_body, values);
        if (!msg->sms || !msg->subject || !msg->body) {
            notify_message_clear(msg);
            return -1;
        }
        return 0;
    }
    return -1;
}

/* notify_message_clear - free and zero */
void notify_message_clear(notify_message_t *msg)
{
    free(msg->sms);
    free(msg->subject);
    free(msg->body);
    memset(msg, 0, sizeof *msg);
}

/* put_escaped - percent-encode text (RFC 3986 unreserved characters stay) at buf[*used] */
static bool put_escaped(char *buf, size_t size, size_t *used, const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                     (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~';
        size_t need = plain ? 1 : 3;
        if (*used + need >= size)
            return false;
        if (plain) {
            buf[(*used)++] = (char)*p;
        } else {
            buf[(*used)++] = '%';
            buf[(*used)++] = hex[*p >> 4];
            buf[(*used)++] = hex[*p & 15];
        }
    }
    buf[*used] = '\0';
    return true;
}

/* notify_rating_link - the survey page with the dossier's code and token */
const char *notify_rating_link(const char *base, const char *code, const char *token, char *buf,
                               size_t size)
{
    int n = snprintf(buf, size, "%s%sma=", base, strchr(base, '?') ? "&" : "?");
    if (n < 0 || (size_t)n >= size)
        return NULL;
    size_t used = (size_t)n;
    if (!put_escaped(buf, size, &used, code) || used + 3 >= size)
        return NULL;
    memcpy(buf + used, "&t=", 4);
    used += 3;
    if (!put_escaped(buf, size, &used, token))
        return NULL;
    return buf;
}

/* notify_templates_set_sms_ascii - render SMS without diacritics from now on */
void notify_templates_set_sms_ascii(notify_templates_t *templates, bool on)
{
    templates->sms_ascii = on;
}

/* --- SMS without diacritics, and its parts ------------------------------- */

/* every precomposed Vietnamese letter with diacritics, grouped by its base
 * letter (the tones on a ă â e ê i o ô ơ u ư y, and đ) */
static const struct {
    char        base;    /* the ASCII letter it becomes */
    const char *letters; /* UTF-8 */
} vn_letters[] = {
    {'a', "àáảãạăằắẳẵặâầấẩẫậ"}, {'A', "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬ"},
    {'e', "èéẻẽẹêềếểễệ"},       {'E', "ÈÉẺẼẸÊỀẾỂỄỆ"},
    {'i', "ìíỉĩị"},             {'I', "ÌÍỈĨỊ"},
    {'o', "òóỏõọôồốổỗộơờớởỡợ"}, {'O', "ÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢ"},
    {'u', "ùúủũụưừứửữự"},       {'U', "ÙÚỦŨỤƯỪỨỬỮỰ"},
    {'y', "ỳýỷỹỵ"},             {'Y', "ỲÝỶỸỴ"},
    {'d', "đ"},                 {'D', "Đ"},
};

/* utf8_next - the code point at *p (advancing *p past it); invalid bytes read as
 * themselves, one at a time (the caller keeps them as they are) */
static uint32_t utf8_next(const unsigned char **p)
{
    const unsigned char *s = *p;
    size_t len = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3
               : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    uint32_t cp = len == 1 ? s[0] : len == 2 ? s[0] & 0x1Fu : len == 3 ? s[0] & 0x0Fu : s[0] & 0x07u;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80) { /* truncated: the lead byte alone */
            len = 0;
            break;
        }
        cp = (cp << 6) | (s[k] & 0x3Fu);
    }
    if (len == 0) {
        *p = s + 1;
        return 0xFFFFFFFFu; /* not a code point */
    }
    *p = s + len;
    return cp;
}

/* vn_base - the ASCII base letter of a precomposed Vietnamese letter, 0 for any other */
static char vn_base(uint32_t cp)
{
    for (size_t g = 0; g < sizeof vn_letters / sizeof vn_letters[0]; g++) {
        const unsigned char *q = (const unsigned char *)vn_letters[g].letters;
        while (*q)
            if (utf8_next(&q) == cp)
                return vn_letters[g].base;
    }
    return 0;
}

/* notify_sms_unaccent - in place: Vietnamese letters to their base letter, combining marks dropped */
size_t notify_sms_unaccent(char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t o = 0;
    while (*p) {
        const unsigned char *start = p;
        uint32_t cp = utf8_next(&p);
        char base = cp >= 0x80 && cp != 0xFFFFFFFFu ? vn_base(cp) : 0;
        if (base)
            text[o++] = base;
        else if (cp >= 0x0300 && cp <= 0x036F) /* a combining diacritical mark (decomposed text) */
            continue;
        else
            for (const unsigned char *c = start; c < p; c++) /* never longer than the input */
                text[o++] = (char)*c;
    }
    text[o] = '\0';
    return o;
}

/* gsm7_septets - septets of cp in the GSM 03.38 default alphabet (2: the extension
 * table), 0 when it has none */
static int gsm7_septets(uint32_t cp)
{
    static const char basic_ascii[] =
        "@$_!\"#%&'()*+,-./:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        "0123456789 \n\r";
    static const uint32_t basic_other[] = {0xA3, 0xA5, 0xE8, 0xE9, 0xF9, 0xEC, 0xF2, 0xC7, 0xD8,
                                           0xF8, 0xC5, 0xE5, 0x394, 0x3A6, 0x393, 0x39B, 0x3A9,
                                           0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E, 0xC6, 0xE6, 0xDF,
                                           0xC9, 0xA4, 0xA1, 0xC4, 0xD6, 0xD1, 0xDC, 0xA7, 0xBF,
                                           0xE4, 0xF6, 0xF1, 0xFC, 0xE0};
    if (cp > 0 && cp < 0x80)
        return strchr(basic_ascii, (int)cp) ? 1 : strchr("^{}\\[~]|", (int)cp) ? 2 : 0;
    if (cp == 0x20AC) /* euro sign: extension table */
        return 2;
    for (size_t i = 0; i < sizeof basic_other / sizeof basic_other[0]; i++)
        if (basic_other[i] == cp)
            return 1;
    return 0;
}

/* notify_sms_parts - how many SMS parts text takes (GSM-7: 160, or 153 each when
 * concatenated; else UCS-2: 70, or 67 each) */
int notify_sms_parts(const char *text)
{
    size_t septets = 0, units = 0;
    bool gsm = true;
    for (const unsigned char *p = (const unsigned char *)text; *p;) {
        uint32_t cp = utf8_next(&p);
        int s = gsm7_septets(cp);
        if (s == 0)
            gsm = false;
        septets += (size_t)s;
        units += cp > 0xFFFF && cp != 0xFFFFFFFFu ? 2 : 1;
    }
    if (gsm)
        return septets <= 160 ? 1 : (int)((septets + 152) / 153);
    return units <= 70 ? 1 : (int)((units + 66) / 67);
}
