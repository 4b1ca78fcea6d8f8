/*
 * mc_catalog - the procedure catalog from config/procedures.yaml (see
 * mc_catalog.h; docs/configuration.md lists every key).
 *
 * Contract: loading checks every key of every procedure and reports as
 * many problems as it can find, each with file:line:col, before failing.
 * A loaded catalog never changes and holds no NULL strings (absent
 * optional text is ""), so readers in any thread need no checks or locks.
 *
 *     procedures:
 *       - code: "1.001193"                 unique, [0-9A-Za-z.-], <= 32 bytes
 *         name / field / department_name / result / legal_basis: text
 *         department: TU_PHAP              [A-Z0-9_], <= 64 bytes
 *         processing_time: {amount: 0, unit: working_days}   or working_hours
 *         cutoff: "15:00"                  optional, default the calendar's
 *         channels: [direct, online, postal]
 *         online_level: "toàn trình" | "một phần" | "không"
 *         fee_vnd: 0        fee_note: "..."  (optional)
 *         fee_rule: {per: dossier, direct: N, online: N, postal: N}   optional,
 *                   one price for each listed channel and no other
 *               or  {per: page, first_pages: 2, first_page_vnd: 2000,
 *                    next_page_vnd: 1000, max_vnd: 200000}   (max_vnd optional)
 *                   absent: fee_vnd on every channel (mc_catalog_fee)
 *         assumed: true     assumption: "..." (required when assumed)
 *         documents: [{code, name, form, required}]
 *         steps: [{agency, task, time_limit: {amount, unit}}]   optional
 */
#include "mc_catalog.h"
#include "mc_limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAT_MAX_PROCEDURES 5000      /* procedures in one file */
#define CAT_MAX_DOCUMENTS  100       /* documents per procedure */
#define CAT_MAX_STEPS      20        /* liên thông steps per procedure */
#define CAT_MAX_DAYS       365       /* working days a procedure may take */
#define CAT_MAX_HOURS      2920      /* working hours (365 days of 8 hours) */
#define CAT_MAX_FEE        1000000000 /* 1 billion VND: anything above is a typo */
#define CAT_TEXT_MAX       2000      /* bytes in free-text fields */
#define CAT_NAME_MAX       1000      /* bytes in names */
#define CAT_CODE_MAX       64        /* bytes in codes */

/* opt_text - an optional string, "" when absent, so readers never see NULL */
static int opt_text(const mc_yaml_node_t *map, const char *key, size_t max, char **out,
                    mc_err_t *err)
{
    if (mc_yaml_get_string(map, key, false, max, out, err) < 0)
        return -1;
    if (!*out && !(*out = strdup(""))) {
        mc_err_add(err, "out of memory");
        return -1;
    }
    return 0;
}

/* code_ok - codes are short identifiers: letters, digits and the given extras */
static bool code_ok(const char *s, const char *extra, bool upper_only)
{
    if (!s[0])
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                  (!upper_only && c >= 'a' && c <= 'z') || (c && strchr(extra, c));
        if (!ok)
            return false;
    }
    return true;
}

/* req_code - a required code made of [A-Z0-9_] (or the procedure code alphabet) */
static int req_code(const mc_yaml_node_t *map, const char *key, bool national, char **out,
                    mc_err_t *err)
{
    if (mc_yaml_get_string(map, key, true, national ? MC_PROCEDURE_CODE_LEN : CAT_CODE_MAX, out, err) < 0)
        return -1;
    bool ok = national ? code_ok(*out, ".-", false) : code_ok(*out, "_", true);
    if (!ok) {
        char w[512];
        mc_err_add(err, "%s: key '%s': expected %s", mc_yaml_where_key(map, key, w, sizeof w), key,
                   national ? "a code of letters, digits, '.' and '-' (e.g. \"1.001193\")"
                            : "a code of A-Z, 0-9 and '_' (e.g. \"TU_PHAP\")");
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* get_amount - {amount, unit} into an amount and a time unit */
static int get_amount(const mc_yaml_node_t *map, const char *key, int *amount,
                      mc_time_unit_t *unit, mc_err_t *err)
{
    static const char *const keys[] = {"amount", "unit", NULL};
    const mc_yaml_node_t *t = mc_yaml_get(map, key);
    if (mc_yaml_check_keys(t, key, keys, keys, err) < 0)
        return -1;
    char *u = NULL, w[512];
    if (mc_yaml_get_string(t, "unit", true, 32, &u, err) < 0)
        return -1;
    int rc = 0;
    int64_t max = CAT_MAX_DAYS, min = 0;
    if (strcmp(u, "working_days") == 0) {
        *unit = MC_TIME_WORKING_DAYS;
    } else if (strcmp(u, "working_hours") == 0) {
        *unit = MC_TIME_WORKING_HOURS;
        max = CAT_MAX_HOURS;
        min = 1; /* "00 giờ làm việc" means nothing: use 0 working_days */
    } else {
        mc_err_add(err, "%s: key 'unit': expected working_days or working_hours",
                   mc_yaml_where_key(t, "unit", w, sizeof w));
        rc = -1;
    }
    free(u);
    int64_t a = 0;
    if (rc == 0 && mc_yaml_get_int(t, "amount", true, min, max, &a, err) < 0)
        rc = -1;
    *amount = (int)a;
    return rc;
}

/* parse_hhmm - "HH:MM" to minutes after midnight; -1 if malformed */
static int parse_hhmm(const char *t)
{
    if (strlen(t) != 5 || t[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (t[i] < '0' || t[i] > '9'))
            return -1;
    int h = (t[0] - '0') * 10 + (t[1] - '0'), m = (t[3] - '0') * 10 + (t[4] - '0');
    return h <= 23 && m <= 59 ? h * 60 + m : -1;
}

/* load_channels - a non-empty list of distinct channel names */
static int load_channels(const mc_yaml_node_t *p, unsigned *channels, mc_err_t *err)
{
    const mc_yaml_node_t *seq = mc_yaml_get(p, "channels");
    char w[512];
    if (mc_yaml_expect(seq, MC_YAML_SEQUENCE, "channels", err) < 0)
        return -1;
    if (seq->count == 0) {
        mc_err_add(err, "%s: key 'channels': list at least one channel",
                   mc_yaml_where(seq, w, sizeof w));
        return -1;
    }
    int rc = 0;
    *channels = 0;
    for (size_t i = 0; i < seq->count; i++) {
        char *name = NULL;
        if (mc_yaml_scalar_string(seq->items[i], "channel", 16, &name, err) < 0) {
            rc = -1;
            continue;
        }
        unsigned bit = strcmp(name, "direct") == 0   ? MC_CHANNEL_BIT(MC_CHANNEL_DIRECT)
                       : strcmp(name, "online") == 0 ? MC_CHANNEL_BIT(MC_CHANNEL_ONLINE)
                       : strcmp(name, "postal") == 0 ? MC_CHANNEL_BIT(MC_CHANNEL_POSTAL)
                                                     : 0;
        free(name);
        mc_yaml_where(seq->items[i], w, sizeof w);
        if (!bit) {
            mc_err_add(err, "%s: channel: expected direct, online or postal", w);
            rc = -1;
        } else if (*channels & bit) {
            mc_err_add(err, "%s: channel: listed twice", w);
            rc = -1;
        }
        *channels |= bit;
    }
    return rc;
}

/* load_documents - thành phần hồ sơ, distinct codes */
static int load_documents(const mc_yaml_node_t *p, mc_procedure_t *proc, mc_err_t *err)
{
    static const char *const allowed[] = {"code", "name", "form", "required", NULL};
    static const char *const required[] = {"code", "name", NULL};
    const mc_yaml_node_t *seq = mc_yaml_get(p, "documents");
    char w[512];
    if (mc_yaml_expect_list(seq, "documents", CAT_MAX_DOCUMENTS, "documents", err) < 0)
        return -1;
    if (seq->count == 0)
        return 0;
    proc->documents = calloc(seq->count, sizeof *proc->documents);
    if (!proc->documents) {
        mc_err_add(err, "out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < seq->count; i++) {
        const mc_yaml_node_t *d = seq->items[i];
        mc_document_req_t *doc = &proc->documents[proc->n_documents++];
        doc->required = true;
        if (!mc_yaml_check_item(d, "document", allowed, required, &rc, err))
            continue;
        if (req_code(d, "code", false, &doc->code, err) < 0)
            rc = -1;
        if (mc_yaml_get_text(d, "name", CAT_NAME_MAX, &doc->name, err) < 0)
            rc = -1;
        if (opt_text(d, "form", 200, &doc->form, err) < 0)
            rc = -1;
        if (mc_yaml_get_bool(d, "required", false, &doc->required, err) < 0)
            rc = -1;
        for (size_t k = 0; doc->code && k + 1 < proc->n_documents; k++)
            if (proc->documents[k].code && strcmp(proc->documents[k].code, doc->code) == 0) {
                mc_err_add(err, "%s: key 'code': document '%s' listed twice",
                           mc_yaml_where_key(d, "code", w, sizeof w), doc->code);
                rc = -1;
            }
    }
    return rc;
}

/* load_steps - ordered partner-agency steps of a liên thông procedure */
static int load_steps(const mc_yaml_node_t *p, mc_procedure_t *proc, mc_err_t *err)
{
    static const char *const keys[] = {"agency", "task", "time_limit", NULL};
    const mc_yaml_node_t *seq = mc_yaml_get(p, "steps");
    if (!seq)
        return 0;
    if (mc_yaml_expect_list(seq, "steps", CAT_MAX_STEPS, "steps", err) < 0)
        return -1;
    if (seq->count == 0)
        return 0;
    proc->steps = calloc(seq->count, sizeof *proc->steps);
    if (!proc->steps) {
        mc_err_add(err, "out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < seq->count; i++) {
        const mc_yaml_node_t *s = seq->items[i];
        mc_agency_step_t *step = &proc->steps[proc->n_steps++];
        if (!mc_yaml_check_item(s, "step", keys, keys, &rc, err))
            continue;
        if (req_code(s, "agency", false, &step->agency, err) < 0)
            rc = -1;
        if (mc_yaml_get_text(s, "task", CAT_NAME_MAX, &step->task, err) < 0)
            rc = -1;
        if (mc_yaml_get(s, "time_limit") &&
            get_amount(s, "time_limit", &step->time_limit, &step->time_unit, err) < 0)
            rc = -1;
    }
    return rc;
}

/* check_step_total - the steps must fit inside the procedure's own time */
static int check_step_total(const mc_yaml_node_t *p, const mc_procedure_t *proc, mc_err_t *err)
{
    long total = 0;
    for (size_t i = 0; i < proc->n_steps; i++) {
        if (proc->steps[i].time_unit != proc->time_unit)
            return 0; /* mixed units cannot be compared without a calendar */
        total += proc->steps[i].time_limit;
    }
    if (proc->n_steps && total > proc->processing_time) {
        char w[512];
        mc_err_add(err, "%s: key 'steps': the steps take %ld, more than processing_time %d",
                   mc_yaml_where_key(p, "steps", w, sizeof w), total, proc->processing_time);
        return -1;
    }
    return 0;
}

/* load_fee_rule - the optional fee_rule map; absent = fee_vnd on every channel */
static int load_fee_rule(const mc_yaml_node_t *p, mc_procedure_t *proc, mc_err_t *err)
{
    static const char *const per_channel[] = {"per", "direct", "online", "postal", NULL};
    static const char *const per_page[] = {"per", "first_pages", "first_page_vnd",
                                           "next_page_vnd", "max_vnd", NULL};
    static const char *const page_required[] = {"per", "first_pages", "first_page_vnd",
                                                "next_page_vnd", NULL};
    static const char *const per_only[] = {"per", NULL};
    static const char *const names[4] = {NULL, "direct", "online", "postal"};
    const mc_yaml_node_t *r = mc_yaml_get(p, "fee_rule");
    char w[512];
    mc_fee_rule_t *fr = &proc->fee_rule;
    fr->kind = MC_FEE_FLAT;
    if (!r)
        return 0;
    if (mc_yaml_expect(r, MC_YAML_MAPPING, "fee_rule", err) < 0)
        return -1;
    char *per = NULL;
    if (mc_yaml_get_string(r, "per", true, 16, &per, err) < 0)
        return -1;
    int rc = 0;
    int64_t v = 0;
    if (strcmp(per, "dossier") == 0) {
        fr->kind = MC_FEE_PER_CHANNEL;
        if (mc_yaml_check_keys(r, "fee_rule", per_channel, per_only, err) < 0)
            rc = -1;
        for (int ch = MC_CHANNEL_DIRECT; ch <= MC_CHANNEL_POSTAL; ch++) {
            bool listed = proc->channels & MC_CHANNEL_BIT(ch);
            bool priced = mc_yaml_get(r, names[ch]) != NULL;
            if (listed != priced) {
                mc_err_add(err, "%s: key 'fee_rule': channel %s is %s channels but %s",
                           mc_yaml_where(r, w, sizeof w), names[ch],
                           listed ? "in" : "not in", priced ? "has a price" : "has no price");
                rc = -1;
            } else if (priced) {
                if (mc_yaml_get_int(r, names[ch], true, 0, CAT_MAX_FEE, &v, err) < 0)
                    rc = -1;
                fr->channel_vnd[ch] = (uint64_t)v;
            }
        }
    } else if (strcmp(per, "page") == 0) {
        fr->kind = MC_FEE_PER_PAGE;
        if (mc_yaml_check_keys(r, "fee_rule", per_page, page_required, err) < 0)
            rc = -1;
        if (mc_yaml_get_int(r, "first_pages", true, 0, 1000, &v, err) < 0)
            rc = -1;
        fr->first_pages = (int)v;
        if (mc_yaml_get_int(r, "first_page_vnd", true, 0, CAT_MAX_FEE, &v, err) < 0)
            rc = -1;
        fr->first_page_vnd = (uint64_t)v;
        if (mc_yaml_get_int(r, "next_page_vnd", true, 0, CAT_MAX_FEE, &v, err) < 0)
            rc = -1;
        fr->next_page_vnd = (uint64_t)v;
        v = 0;
        if (mc_yaml_get_int(r, "max_vnd", false, 0, CAT_MAX_FEE, &v, err) < 0)
            rc = -1;
        fr->max_vnd = (uint64_t)v;
    } else {
        mc_err_add(err, "%s: key 'per': expected \"dossier\" or \"page\"",
                   mc_yaml_where_key(r, "per", w, sizeof w));
        rc = -1;
    }
    free(per);
    return rc;
}

/* load_procedure - one procedure entry; every problem is reported */
static int load_procedure(const mc_yaml_node_t *p, mc_procedure_t *proc, mc_err_t *err)
{
    static const char *const allowed[] = {
        "code",     "name",         "field",   "department", "department_name",
        "processing_time", "cutoff", "channels", "online_level", "fee_vnd",
        "fee_note", "fee_rule",     "result",  "legal_basis", "assumed", "assumption",
        "documents", "steps",       NULL};
    static const char *const required[] = {
        "code",     "name",         "field",   "department", "department_name",
        "processing_time", "channels", "online_level", "fee_vnd", "result",
        "legal_basis", "documents", NULL};
    char w[512];
    proc->cutoff_minutes = -1;
    int rc = mc_yaml_check_keys(p, "procedure", allowed, required, err);
    if (p->kind != MC_YAML_MAPPING)
        return -1;
    if (req_code(p, "code", true, &proc->code, err) < 0)
        rc = -1;
    if (mc_yaml_get_text(p, "name", CAT_NAME_MAX, &proc->name, err) < 0)
        rc = -1;
    if (mc_yaml_get_text(p, "field", 200, &proc->field, err) < 0)
        rc = -1;
    if (req_code(p, "department", false, &proc->department, err) < 0)
        rc = -1;
    if (mc_yaml_get_text(p, "department_name", CAT_NAME_MAX, &proc->department_name, err) < 0)
        rc = -1;
    if (mc_yaml_get(p, "processing_time") &&
        get_amount(p, "processing_time", &proc->processing_time, &proc->time_unit, err) < 0)
        rc = -1;

    char *cut = NULL;
    if (mc_yaml_get_string(p, "cutoff", false, 16, &cut, err) < 0) {
        rc = -1;
    } else if (cut) {
        proc->cutoff_minutes = parse_hhmm(cut);
        if (proc->cutoff_minutes < 0) {
            mc_err_add(err, "%s: key 'cutoff': expected a time \"HH:MM\"",
                       mc_yaml_where_key(p, "cutoff", w, sizeof w));
            rc = -1;
        }
        free(cut);
    }

    if (mc_yaml_get(p, "channels") && load_channels(p, &proc->channels, err) < 0)
        rc = -1;
    if (mc_yaml_get_text(p, "online_level", 64, &proc->online_level, err) < 0) {
        rc = -1;
    } else {
        bool none = strcmp(proc->online_level, "không") == 0;
        bool online = proc->channels & MC_CHANNEL_BIT(MC_CHANNEL_ONLINE);
        if (!none && strcmp(proc->online_level, "toàn trình") != 0 &&
            strcmp(proc->online_level, "một phần") != 0) {
            mc_err_add(err, "%s: key 'online_level': expected \"toàn trình\", \"một phần\" "
                            "or \"không\"",
                       mc_yaml_where_key(p, "online_level", w, sizeof w));
            rc = -1;
        } else if (proc->channels && none == online) {
            mc_err_add(err, "%s: key 'online_level': \"%s\" contradicts channels (%s)",
                       mc_yaml_where_key(p, "online_level", w, sizeof w), proc->online_level,
                       online ? "online is listed" : "online is not listed");
            rc = -1;
        }
    }

    int64_t fee = 0;
    if (mc_yaml_get_int(p, "fee_vnd", true, 0, CAT_MAX_FEE, &fee, err) < 0)
        rc = -1;
    proc->fee_vnd = (uint64_t)fee;
    if (opt_text(p, "fee_note", CAT_TEXT_MAX, &proc->fee_note, err) < 0)
        rc = -1;
    if (load_fee_rule(p, proc, err) < 0)
        rc = -1;
    if (mc_yaml_get_text(p, "result", CAT_TEXT_MAX, &proc->result, err) < 0)
        rc = -1;
    if (mc_yaml_get_text(p, "legal_basis", CAT_TEXT_MAX, &proc->legal_basis, err) < 0)
        rc = -1;
    if (mc_yaml_get_bool(p, "assumed", false, &proc->assumed, err) < 0)
        rc = -1;
    if (opt_text(p, "assumption", CAT_TEXT_MAX, &proc->assumption, err) < 0) {
        rc = -1;
    } else if (proc->assumed && proc->assumption[0] == '\0') {
        mc_err_add(err, "%s: key 'assumption': required when assumed is true (say what is "
                        "assumed and why)",
                   mc_yaml_where(p, w, sizeof w));
        rc = -1;
    } else if (!proc->assumed && proc->assumption[0] != '\0') {
        mc_err_add(err, "%s: key 'assumption': given but assumed is not true",
                   mc_yaml_where_key(p, "assumption", w, sizeof w));
        rc = -1;
    }
    if (mc_yaml_get(p, "documents") && load_documents(p, proc, err) < 0)
        rc = -1;
    if (load_steps(p, proc, err) < 0)
        rc = -1;
    else if (rc == 0 && check_step_total(p, proc, err) < 0)
        rc = -1;
    return rc;
}

/* procedure_free - free one procedure's strings and arrays */
static void procedure_free(mc_procedure_t *p)
{
    free(p->code);
    free(p->name);
    free(p->department);
    free(p->department_name);
    free(p->field);
    free(p->online_level);
    free(p->fee_note);
    free(p->result);
    free(p->legal_basis);
    free(p->assumption);
    for (size_t i = 0; i < p->n_documents; i++) {
        free(p->documents[i].code);
        free(p->documents[i].name);
        free(p->documents[i].form);
    }
    free(p->documents);
    for (size_t i = 0; i < p->n_steps; i++) {
        free(p->steps[i].agency);
        free(p->steps[i].task);
    }
    free(p->steps);
}

/* mc_catalog_from_yaml - build and check a catalog from a parsed root */
int mc_catalog_from_yaml(const mc_yaml_node_t *root, mc_catalog_t **catalog, mc_err_t *err)
{
    static const char *const keys[] = {"procedures", NULL};
    *catalog = NULL;
    if (mc_yaml_check_keys(root, "procedures.yaml", keys, keys, err) < 0)
        return -1;
    const mc_yaml_node_t *seq = mc_yaml_get(root, "procedures");
    char w[512];
    if (mc_yaml_expect(seq, MC_YAML_SEQUENCE, "procedures", err) < 0)
        return -1;
    if (seq->count == 0 || seq->count > CAT_MAX_PROCEDURES) {
        mc_err_add(err, "%s: key 'procedures': expected 1..%d procedures",
                   mc_yaml_where(seq, w, sizeof w), CAT_MAX_PROCEDURES);
        return -1;
    }
    mc_catalog_t *cat = calloc(1, sizeof *cat);
    if (!cat || !(cat->procedures = calloc(seq->count, sizeof *cat->procedures))) {
        free(cat);
        mc_err_add(err, "out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < seq->count; i++) {
        mc_procedure_t *proc = &cat->procedures[cat->count++];
        if (load_procedure(seq->items[i], proc, err) < 0)
            rc = -1;
        for (size_t k = 0; proc->code && k + 1 < cat->count; k++)
            if (cat->procedures[k].code && strcmp(cat->procedures[k].code, proc->code) == 0) {
                mc_err_add(err, "%s: key 'code': procedure '%s' is listed twice",
                           mc_yaml_where_key(seq->items[i], "code", w, sizeof w), proc->code);
                rc = -1;
            }
    }
    if (rc < 0) {
        mc_catalog_destroy(&cat);
        return -1;
    }
    *catalog = cat;
    return 0;
}

/* mc_catalog_load - read and check procedures.yaml */
int mc_catalog_load(const char *path, mc_catalog_t **catalog, mc_err_t *err)
{
    mc_yaml_doc_t *doc = NULL;
    *catalog = NULL;
    if (mc_yaml_load_file(path, &doc, err) < 0)
        return -1;
    int rc = mc_catalog_from_yaml(mc_yaml_root(doc), catalog, err);
    mc_yaml_destroy(&doc);
    return rc;
}

/* mc_catalog_destroy - free and NULL the caller's pointer */
void mc_catalog_destroy(mc_catalog_t **catalog)
{
    if (!catalog || !*catalog)
        return;
    for (size_t i = 0; i < (*catalog)->count; i++)
        procedure_free(&(*catalog)->procedures[i]);
    free((*catalog)->procedures);
    free(*catalog);
    *catalog = NULL;
}

/* mc_catalog_find - linear: catalogs are tens of entries, looked up once per dossier */
const mc_procedure_t *mc_catalog_find(const mc_catalog_t *catalog, const char *code)
{
    if (!catalog || !code)
        return NULL;
    for (size_t i = 0; i < catalog->count; i++)
        if (strcmp(catalog->procedures[i].code, code) == 0)
            return &catalog->procedures[i];
    return NULL;
}

/* mc_procedure_time_text - the processing time as printed on receipts */
const char *mc_procedure_time_text(const mc_procedure_t *proc, char *buf, unsigned size)
{
    if (size == 0)
        return buf;
    if (proc->time_unit == MC_TIME_WORKING_HOURS)
        snprintf(buf, size, "%02d giờ làm việc", proc->processing_time);
    else if (proc->processing_time == 0)
        snprintf(buf, size, "Trong ngày làm việc");
    else
        snprintf(buf, size, "%02d ngày làm việc", proc->processing_time);
    return buf;
}

/* mc_catalog_fee - see mc_catalog.h */
int mc_catalog_fee(const mc_procedure_t *proc, int channel, int pages, uint64_t *amount,
                   mc_err_t *err)
{
    if (channel < MC_CHANNEL_DIRECT || channel > MC_CHANNEL_POSTAL ||
        !(proc->channels & MC_CHANNEL_BIT(channel))) {
        mc_err_add(err, "procedure %s: channel %d is not one of its channels", proc->code,
                   channel);
        return -1;
    }
    const mc_fee_rule_t *fr = &proc->fee_rule;
    switch (fr->kind) {
    case MC_FEE_FLAT:
        *amount = proc->fee_vnd;
        return 0;
    case MC_FEE_PER_CHANNEL:
        *amount = fr->channel_vnd[channel];
        return 0;
    case MC_FEE_PER_PAGE:
        break;
    }
    if (pages < 1) {
        mc_err_add(err, "procedure %s: a per-page fee needs the number of pages (got %d)",
                   proc->code, pages);
        return -1;
    }
    /* pages are bounded by int and prices by CAT_MAX_FEE: no overflow in 64 bits */
    uint64_t first = (uint64_t)(pages < fr->first_pages ? pages : fr->first_pages);
    uint64_t total = first * fr->first_page_vnd + ((uint64_t)pages - first) * fr->next_page_vnd;
    if (fr->max_vnd && total > fr->max_vnd)
        total = fr->max_vnd;
    *amount = total;
    return 0;
}
