/*
 * mc_cli_dossier - a dossier YAML file, or a random dossier, as a
 * Motcua__V1__SubmitDossier (contract in mc_cli_dossier.h; the file
 * format is described in docs/cli.md).
 *
 * Ownership: every string field is either protobuf_c_empty_string (never
 * freed) or malloc'd here; every sub-message is malloc'd here. That is the
 * one rule mc_cli_dossier_free() relies on.
 */
#include "mc_cli_dossier.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mc_yaml.h"

/* ---------------------------------------------------------------------- */
/* freeing                                                                 */
/* ---------------------------------------------------------------------- */

/* free_str - free a string field unless it is protobuf-c's shared "" */
static void free_str(char *s)
{
    if (s && s != protobuf_c_empty_string)
        free(s);
}

/* free_person - a Person and its strings */
static void free_person(Motcua__V1__Person *p)
{
    if (!p)
        return;
    free_str(p->full_name);
    free_str(p->citizen_id);
    free_str(p->birth_date);
    free(p);
}

/* free_document - a DocumentRef, its strings and its hash */
void mc_cli_document_free(Motcua__V1__DocumentRef *d)
{
    if (!d)
        return;
    free_str(d->document_type);
    free_str(d->name);
    free_str(d->media_type);
    free_str(d->uri);
    free(d->sha256.data);
    free(d);
}

/* free_applicant - an Applicant and whichever party it holds */
static void free_applicant(Motcua__V1__Applicant *a)
{
    if (!a)
        return;
    free_str(a->phone);
    free_str(a->email);
    free_str(a->address);
    if (a->kind_case == MOTCUA__V1__APPLICANT__KIND_PERSON) {
        free_person(a->person);
    } else if (a->kind_case == MOTCUA__V1__APPLICANT__KIND_ORGANIZATION && a->organization) {
        free_str(a->organization->name);
        free_str(a->organization->enterprise_code);
        free_person(a->organization->filed_by);
        free(a->organization);
    }
    free(a);
}

/* mc_cli_dossier_free - free a message built here and NULL the caller's pointer */
void mc_cli_dossier_free(Motcua__V1__SubmitDossier **p)
{
    if (!p || !*p)
        return;
    Motcua__V1__SubmitDossier *s = *p;
    free_str(s->submission_id);
    free_str(s->received_by);
    Motcua__V1__Dossier *d = s->dossier;
    if (d) {
        free_str(d->procedure_code);
        free_str(d->ward_code);
        free_str(d->note);
        free_str(d->delivery);
        free_applicant(d->applicant);
        for (size_t i = 0; i < d->n_documents; i++)
            mc_cli_document_free(d->documents[i]);
        free(d->documents);
        free(d);
    }
    free(s);
    *p = NULL;
}

/* ---------------------------------------------------------------------- */
/* allocation helpers                                                      */
/* ---------------------------------------------------------------------- */

/* new_submit - an empty SubmitDossier with an empty Dossier inside */
static Motcua__V1__SubmitDossier *new_submit(void)
{
    Motcua__V1__SubmitDossier *s = malloc(sizeof *s);
    Motcua__V1__Dossier *d = malloc(sizeof *d);
    if (!s || !d) {
        free(s);
        free(d);
        return NULL;
    }
    motcua__v1__submit_dossier__init(s);
    motcua__v1__dossier__init(d);
    s->dossier = d;
    return s;
}

/* new_person - an empty Person */
static Motcua__V1__Person *new_person(void)
{
    Motcua__V1__Person *p = malloc(sizeof *p);
    if (p)
        motcua__v1__person__init(p);
    return p;
}

/* set_str - replace a string field with a malloc'd copy of text */
static int set_str(char **field, const char *text)
{
    char *copy = strdup(text);
    if (!copy)
        return -1;
    free_str(*field);
    *field = copy;
    return 0;
}

/* ---------------------------------------------------------------------- */
/* YAML file                                                               */
/* ---------------------------------------------------------------------- */

/* check_map - unknown keys are reported but do not stop the parse (every
 * problem of the file is shown at once); returns -2 when node is not a
 * mapping at all and there is nothing more to read, -1 on unknown keys */
static int check_map(const mc_yaml_node_t *node, const char *what, const char *const *keys,
                     const char *const *required, mc_err_t *err)
{
    if (mc_yaml_check_keys(node, what, keys, required, err) == 0)
        return 0;
    return node && node->kind == MC_YAML_MAPPING ? -1 : -2;
}

/* yaml_str - an optional string key into a field (unchanged when absent) */
static int yaml_str(const mc_yaml_node_t *map, const char *key, char **field, mc_err_t *err)
{
    char *s = NULL;
    /* no length bound of our own: the server enforces the documented
     * bounds and says which field broke one */
    if (mc_yaml_get_string(map, key, false, MC_YAML_MAX_SCALAR, &s, err) < 0)
        return -1;
    if (s) {
        free_str(*field);
        *field = s;
    }
    return 0;
}

/* bad_value - report a value outside its allowed set at the value's place */
static int bad_value(const mc_yaml_node_t *node, const char *key, const char *what, mc_err_t *err)
{
    char where[256];
    mc_err_add(err, "%s: key '%s': %s", mc_yaml_where(node, where, sizeof where), key, what);
    return -1;
}

/* yaml_channel - "direct" | "online" | "postal" into a Channel */
static int yaml_channel(const mc_yaml_node_t *map, Motcua__V1__Channel *out, mc_err_t *err)
{
    static const struct { const char *name; Motcua__V1__Channel value; } names[] = {
        { "direct", MOTCUA__V1__CHANNEL__CHANNEL_DIRECT },
        { "online", MOTCUA__V1__CHANNEL__CHANNEL_ONLINE },
        { "postal", MOTCUA__V1__CHANNEL__CHANNEL_POSTAL },
    };
    char *s = NULL;
    if (mc_yaml_get_string(map, "channel", false, 64, &s, err) < 0)
        return -1;
    if (!s)
        return 0; /* absent: UNSPECIFIED, and the server says it is missing */
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].value;
            free(s);
            return 0;
        }
    }
    free(s);
    return bad_value(mc_yaml_get(map, "channel"), "channel",
                     "must be one of direct, online, postal", err);
}

/* yaml_form - "original" | "certified_copy" | "copy" | "electronic" */
static int yaml_form(const mc_yaml_node_t *map, Motcua__V1__DocumentForm *out, mc_err_t *err)
{
    static const struct { const char *name; Motcua__V1__DocumentForm value; } names[] = {
        { "original", MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_ORIGINAL },
        { "certified_copy", MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_CERTIFIED_COPY },
        { "copy", MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_COPY },
        { "electronic", MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_ELECTRONIC },
    };
    char *s = NULL;
    if (mc_yaml_get_string(map, "form", false, 64, &s, err) < 0)
        return -1;
    if (!s)
        return 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].value;
            free(s);
            return 0;
        }
    }
    free(s);
    return bad_value(mc_yaml_get(map, "form"), "form",
                     "must be one of original, certified_copy, copy, electronic", err);
}

/* hex_digit - value of one hex digit, -1 if it is not one */
static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* yaml_sha256 - 64 hex digits into 32 malloc'd bytes */
static int yaml_sha256(const mc_yaml_node_t *map, ProtobufCBinaryData *out, mc_err_t *err)
{
    char *s = NULL;
    if (mc_yaml_get_string(map, "sha256", false, 256, &s, err) < 0)
        return -1;
    if (!s)
        return 0; /* absent: empty, and the server says it is missing */
    bool ok = strlen(s) == 64;
    for (size_t i = 0; ok && i < 64; i++)
        ok = hex_digit(s[i]) >= 0;
    if (!ok) {
        free(s);
        return bad_value(mc_yaml_get(map, "sha256"), "sha256",
                         "must be exactly 64 hexadecimal digits", err);
    }
    uint8_t *bytes = malloc(32);
    if (!bytes) {
        free(s);
        mc_err_add(err, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < 32; i++)
        bytes[i] = (uint8_t)(hex_digit(s[2 * i]) << 4 | hex_digit(s[2 * i + 1]));
    free(s);
    free(out->data);
    out->data = bytes;
    out->len = 32;
    return 0;
}

/* yaml_person - a person mapping (full_name, citizen_id, birth_date) */
static Motcua__V1__Person *yaml_person(const mc_yaml_node_t *node, const char *what, mc_err_t *err)
{
    static const char *const keys[] = { "full_name", "citizen_id", "birth_date", NULL };
    int rc = check_map(node, what, keys, NULL, err);
    if (rc == -2)
        return NULL;
    Motcua__V1__Person *p = new_person();
    if (!p) {
        mc_err_add(err, "out of memory");
        return NULL;
    }
    rc |= yaml_str(node, "full_name", &p->full_name, err);
    rc |= yaml_str(node, "citizen_id", &p->citizen_id, err);
    rc |= yaml_str(node, "birth_date", &p->birth_date, err);
    if (rc) {
        free_person(p);
        return NULL;
    }
    return p;
}

/* yaml_organization - name, enterprise_code and filed_by (a person) */
static Motcua__V1__Organization *yaml_organization(const mc_yaml_node_t *node, mc_err_t *err)
{
    static const char *const keys[] = { "name", "enterprise_code", "filed_by", NULL };
    int rc = check_map(node, "dossier.applicant.organization", keys, NULL, err);
    if (rc == -2)
        return NULL;
    Motcua__V1__Organization *o = malloc(sizeof *o);
    if (!o) {
        mc_err_add(err, "out of memory");
        return NULL;
    }
    motcua__v1__organization__init(o);
    rc |= yaml_str(node, "name", &o->name, err);
    rc |= yaml_str(node, "enterprise_code", &o->enterprise_code, err);
    const mc_yaml_node_t *by = mc_yaml_get(node, "filed_by");
    if (by) {
        o->filed_by = yaml_person(by, "dossier.applicant.organization.filed_by", err);
        if (!o->filed_by)
            rc = -1;
    }
    if (rc) {
        free_str(o->name);
        free_str(o->enterprise_code);
        free_person(o->filed_by);
        free(o);
        return NULL;
    }
    return o;
}

/* yaml_applicant - person or organization, phone, email, address */
static int yaml_applicant(const mc_yaml_node_t *node, Motcua__V1__Applicant **out, mc_err_t *err)
{
    static const char *const keys[] = { "person", "organization", "phone", "email", "address",
                                        NULL };
    int rc = check_map(node, "dossier.applicant", keys, NULL, err);
    if (rc == -2)
        return -1;
    Motcua__V1__Applicant *a = malloc(sizeof *a);
    if (!a) {
        mc_err_add(err, "out of memory");
        return -1;
    }
    motcua__v1__applicant__init(a);
    rc |= yaml_str(node, "phone", &a->phone, err);
    rc |= yaml_str(node, "email", &a->email, err);
    rc |= yaml_str(node, "address", &a->address, err);
    const mc_yaml_node_t *person = mc_yaml_get(node, "person");
    const mc_yaml_node_t *org = mc_yaml_get(node, "organization");
    if (person && org) {
        /* a oneof on the wire: silently keeping one would send a dossier
         * the author did not write */
        char where[256];
        mc_err_add(err, "%s: key 'organization': give either person or organization, not both",
                   mc_yaml_where(org, where, sizeof where));
        rc = -1;
    } else if (person) {
        a->person = yaml_person(person, "dossier.applicant.person", err);
        if (a->person)
            a->kind_case = MOTCUA__V1__APPLICANT__KIND_PERSON;
        else
            rc = -1;
    } else if (org) {
        a->organization = yaml_organization(org, err);
        if (a->organization)
            a->kind_case = MOTCUA__V1__APPLICANT__KIND_ORGANIZATION;
        else
            rc = -1;
    }
    *out = a; /* even on failure: the caller frees the whole dossier */
    return rc ? -1 : 0;
}

/* mc_cli_document_from_yaml - one item of a documents list (dossier or supplement) */
Motcua__V1__DocumentRef *mc_cli_document_from_yaml(const mc_yaml_node_t *node, const char *list,
                                                size_t index, mc_err_t *err)
{
    static const char *const keys[] = { "type", "name", "media_type", "size", "sha256",
                                        "uri", "form", "copies", "pages", NULL };
    char what[96];
    snprintf(what, sizeof what, "%s[%zu]", list, index);
    int rc = check_map(node, what, keys, NULL, err);
    if (rc == -2)
        return NULL;
    Motcua__V1__DocumentRef *d = malloc(sizeof *d);
    if (!d) {
        mc_err_add(err, "out of memory");
        return NULL;
    }
    motcua__v1__document_ref__init(d);
    rc |= yaml_str(node, "type", &d->document_type, err);
    rc |= yaml_str(node, "name", &d->name, err);
    rc |= yaml_str(node, "media_type", &d->media_type, err);
    rc |= yaml_str(node, "uri", &d->uri, err);
    int64_t size = 0, copies = 0, pages = 0;
    /* ranges are the wire types' (uint64, uint32): the documented bounds
     * are the server's to enforce */
    rc |= mc_yaml_get_int(node, "size", false, 0, INT64_MAX, &size, err);
    rc |= mc_yaml_get_int(node, "copies", false, 0, UINT32_MAX, &copies, err);
    rc |= mc_yaml_get_int(node, "pages", false, 0, UINT32_MAX, &pages, err);
    d->size_bytes = (uint64_t)size;
    d->copies = (uint32_t)copies;
    d->pages = (uint32_t)pages;
    rc |= yaml_sha256(node, &d->sha256, err);
    rc |= yaml_form(node, &d->form, err);
    if (rc) {
        mc_cli_document_free(d);
        return NULL;
    }
    return d;
}

/* yaml_documents - the documents sequence */
static int yaml_documents(const mc_yaml_node_t *seq, Motcua__V1__Dossier *d, mc_err_t *err)
{
    if (mc_yaml_expect(seq, MC_YAML_SEQUENCE, "dossier.documents", err) < 0)
        return -1;
    if (seq->count == 0)
        return 0;
    d->documents = calloc(seq->count, sizeof *d->documents);
    if (!d->documents) {
        mc_err_add(err, "out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < seq->count; i++) {
        Motcua__V1__DocumentRef *doc = mc_cli_document_from_yaml(seq->items[i], "dossier.documents",
                                                              i, err);
        if (!doc) {
            rc = -1; /* keep going: report every bad document at once */
            continue;
        }
        d->documents[d->n_documents++] = doc;
    }
    return rc;
}

/* yaml_dossier - the dossier mapping */
static int yaml_dossier(const mc_yaml_node_t *node, Motcua__V1__Dossier *d, mc_err_t *err)
{
    static const char *const keys[] = { "procedure", "ward", "channel", "applicant",
                                        "documents", "note", "delivery", NULL };
    int rc = check_map(node, "dossier", keys, NULL, err);
    if (rc == -2)
        return -1;
    rc |= yaml_str(node, "procedure", &d->procedure_code, err);
    rc |= yaml_str(node, "ward", &d->ward_code, err);
    rc |= yaml_channel(node, &d->channel, err);
    rc |= yaml_str(node, "note", &d->note, err);
    rc |= yaml_str(node, "delivery", &d->delivery, err);
    const mc_yaml_node_t *applicant = mc_yaml_get(node, "applicant");
    if (applicant)
        rc |= yaml_applicant(applicant, &d->applicant, err);
    const mc_yaml_node_t *docs = mc_yaml_get(node, "documents");
    if (docs)
        rc |= yaml_documents(docs, d, err);
    return rc ? -1 : 0;
}

/* mc_cli_dossier_from_yaml - read a dossier file into a new SubmitDossier */
int mc_cli_dossier_from_yaml(const char *path, Motcua__V1__SubmitDossier **out, mc_err_t *err)
{
    static const char *const keys[] = { "submission_id", "received_by", "dossier", NULL };
    static const char *const required[] = { "dossier", NULL };
    *out = NULL;
    mc_yaml_doc_t *doc = NULL;
    if (mc_yaml_load_file(path, &doc, err) < 0)
        return -1;
    const mc_yaml_node_t *root = mc_yaml_root(doc);
    Motcua__V1__SubmitDossier *s = NULL;
    int rc = -1;
    int bad = check_map(root, "dossier file", keys, required, err);
    const mc_yaml_node_t *dossier = mc_yaml_get(root, "dossier");
    if (bad == -2 || !dossier)
        goto done;
    s = new_submit();
    if (!s) {
        mc_err_add(err, "%s: out of memory", path);
        goto done;
    }
    bad |= yaml_str(root, "submission_id", &s->submission_id, err);
    bad |= yaml_str(root, "received_by", &s->received_by, err);
    bad |= yaml_dossier(dossier, s->dossier, err);
    if (bad)
        goto done;
    *out = s;
    s = NULL;
    rc = 0;
done:
    mc_cli_dossier_free(&s);
    mc_yaml_destroy(&doc);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* random dossiers                                                         */
/* ---------------------------------------------------------------------- */

/* rng - splitmix64: tiny, seedable, good enough for test data (NOT for
 * anything secret; submission ids of real users come from /dev/urandom) */
typedef struct rng {
    uint64_t state;
} rng_t;

/* rng_next - the next 64 random bits */
static uint64_t rng_next(rng_t *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* rng_below - a number in [0, n) (the modulo bias is irrelevant here) */
static unsigned rng_below(rng_t *r, unsigned n)
{
    return (unsigned)(rng_next(r) % n);
}

/* digits - write count random decimal digits and a NUL */
static void digits(rng_t *r, char *buf, int count)
{
    for (int i = 0; i < count; i++)
        buf[i] = (char)('0' + rng_below(r, 10));
    buf[count] = '\0';
}

/* usable - can the load generator file this procedure (online or direct)? */
static bool usable(const mc_procedure_t *p)
{
    return (p->channels & (MC_CHANNEL_BIT(MC_CHANNEL_DIRECT) | MC_CHANNEL_BIT(MC_CHANNEL_ONLINE)))
        != 0;
}

/* pick_procedure - the n-th usable procedure, cyclically; NULL if none */
static const mc_procedure_t *pick_procedure(const mc_catalog_t *catalog, unsigned n)
{
    size_t count = 0;
    for (size_t i = 0; i < catalog->count; i++)
        count += usable(&catalog->procedures[i]);
    if (count == 0)
        return NULL;
    size_t want = n % count;
    for (size_t i = 0; i < catalog->count; i++) {
        if (!usable(&catalog->procedures[i]))
            continue;
        if (want-- == 0)
            return &catalog->procedures[i];
    }
    return NULL;
}

/* random_person - a Person with a valid citizen ID and a matching birth date */
static Motcua__V1__Person *random_person(rng_t *r)
{
    static const char *const family[] = { "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ",
                                          "Đặng", "Bùi", "Đỗ", "Ngô" };
    static const char *const middle[] = { "Văn", "Thị", "Minh", "Thu", "Quốc", "Ngọc",
                                          "Đức", "Thanh" };
    static const char *const given[] = { "An", "Bình", "Chi", "Dũng", "Hà", "Hùng", "Lan",
                                         "Linh", "Mai", "Nam", "Phương", "Quân", "Trang" };
    Motcua__V1__Person *p = new_person();
    if (!p)
        return NULL;
    char name[128];
    snprintf(name, sizeof name, "%s %s %s", family[rng_below(r, 10)], middle[rng_below(r, 8)],
             given[rng_below(r, 13)]);
    /* CCCD layout: province (001 = Hà Nội), century-and-sex digit (0/1:
     * born 1900-1999, 2/3: 2000-2099), two digits of the birth year, six
     * random digits */
    unsigned century = rng_below(r, 4);
    int year = century < 2 ? 1940 + (int)rng_below(r, 60) : 2000 + (int)rng_below(r, 8);
    char tail[8], id[16], birth[16];
    digits(r, tail, 6);
    snprintf(id, sizeof id, "001%u%02d%s", century, year % 100, tail);
    snprintf(birth, sizeof birth, "%04d-%02u-%02u", year, 1 + rng_below(r, 12),
             1 + rng_below(r, 28));
    if (set_str(&p->full_name, name) < 0 || set_str(&p->citizen_id, id) < 0
        || set_str(&p->birth_date, birth) < 0) {
        free_person(p);
        return NULL;
    }
    return p;
}

/* random_document - a DocumentRef for one required document */
static Motcua__V1__DocumentRef *random_document(rng_t *r, const mc_document_req_t *req,
                                                unsigned n, size_t index, bool online)
{
    Motcua__V1__DocumentRef *d = malloc(sizeof *d);
    if (!d)
        return NULL;
    motcua__v1__document_ref__init(d);
    char uri[128];
    snprintf(uri, sizeof uri, "https://dvc.example.vn/files/load/%u/%zu.pdf", n, index);
    d->size_bytes = 10000 + rng_below(r, 5000000);
    d->form = online ? MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_ELECTRONIC
                     : MOTCUA__V1__DOCUMENT_FORM__DOCUMENT_FORM_ORIGINAL;
    d->copies = 1;
    d->sha256.data = malloc(32);
    if (!d->sha256.data || set_str(&d->document_type, req->code) < 0
        || set_str(&d->name, req->name) < 0 || set_str(&d->media_type, "application/pdf") < 0
        || set_str(&d->uri, uri) < 0) {
        mc_cli_document_free(d);
        return NULL;
    }
    d->sha256.len = 32;
    for (size_t i = 0; i < 32; i += 8) {
        uint64_t v = rng_next(r);
        memcpy(d->sha256.data + i, &v, 8);
    }
    return d;
}

/* mc_cli_random_dossier - a valid random dossier, number n of this process */
int mc_cli_random_dossier(const mc_cfg_t *cfg, unsigned n, const char *ward,
                       Motcua__V1__SubmitDossier **out)
{
    *out = NULL;
    if (!cfg || !cfg->catalog || cfg->n_wards == 0)
        return -1;
    const mc_procedure_t *proc = pick_procedure(cfg->catalog, n);
    if (!proc)
        return -1;
    if (!ward)
        ward = cfg->wards[n % cfg->n_wards].code;
    rng_t r = { ((uint64_t)getpid() << 32) ^ n ^ 0x6d6f74637561ull };
    (void)rng_next(&r); /* one step so close seeds diverge at once */

    unsigned ch_bits = proc->channels;
    bool direct = ch_bits & MC_CHANNEL_BIT(MC_CHANNEL_DIRECT);
    bool online = ch_bits & MC_CHANNEL_BIT(MC_CHANNEL_ONLINE);
    if (direct && online)
        online = rng_below(&r, 2) == 0;

    Motcua__V1__SubmitDossier *s = new_submit();
    if (!s)
        return -1;
    Motcua__V1__Dossier *d = s->dossier;
    char sid[64], phone[16], email[64], address[160];
    snprintf(sid, sizeof sid, "load-%ld-%u", (long)getpid(), n);
    digits(&r, phone + 2, 8);
    phone[0] = '0';
    phone[1] = '9';
    snprintf(email, sizeof email, "load%u@example.vn", n);
    snprintf(address, sizeof address, "Số %u ngõ %u phố Kim Liên, Đống Đa, Hà Nội",
             1 + rng_below(&r, 200), 1 + rng_below(&r, 100));
    d->channel = online ? MOTCUA__V1__CHANNEL__CHANNEL_ONLINE : MOTCUA__V1__CHANNEL__CHANNEL_DIRECT;
    if (set_str(&s->submission_id, sid) < 0
        || (!online && set_str(&s->received_by, "Cán bộ tiếp nhận (tải thử)") < 0)
        || set_str(&d->procedure_code, proc->code) < 0 || set_str(&d->ward_code, ward) < 0
        || set_str(&d->delivery, online ? "Trực tuyến" : "Nhận tại Bộ phận Một cửa") < 0)
        goto fail;

    Motcua__V1__Applicant *a = malloc(sizeof *a);
    if (!a)
        goto fail;
    motcua__v1__applicant__init(a);
    d->applicant = a;
    if (set_str(&a->phone, phone) < 0 || set_str(&a->email, email) < 0
        || set_str(&a->address, address) < 0)
        goto fail;
    a->person = random_person(&r);
    if (!a->person)
        goto fail;
    a->kind_case = MOTCUA__V1__APPLICANT__KIND_PERSON;

    size_t required = 0;
    for (size_t i = 0; i < proc->n_documents; i++)
        required += proc->documents[i].required;
    if (required > 0) {
        d->documents = calloc(required, sizeof *d->documents);
        if (!d->documents)
            goto fail;
        for (size_t i = 0; i < proc->n_documents; i++) {
            if (!proc->documents[i].required)
                continue;
            Motcua__V1__DocumentRef *doc =
                random_document(&r, &proc->documents[i], n, d->n_documents, online);
            if (!doc)
                goto fail;
            d->documents[d->n_documents++] = doc;
        }
    }
    *out = s;
    return 0;
fail:
    mc_cli_dossier_free(&s);
    return -1;
}
