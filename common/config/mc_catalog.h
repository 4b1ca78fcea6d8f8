/*
 * mc_catalog - the procedure catalog (danh mục thủ tục hành chính) from
 * config/procedures.yaml.
 *
 * Contract: a loaded catalog is immutable and may be read from any thread.
 * Every procedure has a unique code, a name, a handling department, a
 * processing time (working days or working hours), the channels it may be
 * filed through, its required documents, a fee, and for inter-agency
 * (liên thông) procedures the ordered partner-agency steps. Loading checks
 * every key (unknown keys and wrong types fail with file:line:col).
 */
#ifndef MC_CATALOG_H
#define MC_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc_calendar.h"
#include "mc_err.h"
#include "mc_yaml.h"

/* channel bits; values match motcua.v1.Channel */
#define MC_CHANNEL_DIRECT 1
#define MC_CHANNEL_ONLINE 2
#define MC_CHANNEL_POSTAL 3
#define MC_CHANNEL_BIT(c) (1u << (c))

typedef struct mc_document_req {
    char *code;     /* document_type code a DocumentRef must carry */
    char *name;     /* e.g. "Tờ khai đăng ký khai sinh" */
    char *form;     /* "bản chính", "bản sao", ... (free text for the receipt) */
    bool  required; /* false: optional, listed for the applicant's guidance */
} mc_document_req_t;

typedef struct mc_agency_step {
    char          *agency;     /* agency code (config/agencies.yaml, later) */
    char          *task;       /* what the agency does in this step */
    int            time_limit; /* the step's own time limit */
    mc_time_unit_t time_unit;  /* days or hours */
} mc_agency_step_t;

/* how a fee is computed from the dossier (config key fee_rule) */
typedef enum mc_fee_kind {
    MC_FEE_FLAT = 0,     /* fee_vnd on every channel (no fee_rule) */
    MC_FEE_PER_CHANNEL,  /* fee_rule: {per: dossier, direct: N, online: N, postal: N} */
    MC_FEE_PER_PAGE,     /* fee_rule: {per: page, first_pages, first_page_vnd, ...} */
} mc_fee_kind_t;

typedef struct mc_fee_rule {
    mc_fee_kind_t kind;             /* which of the rules below applies */
    uint64_t      channel_vnd[4];   /* MC_FEE_PER_CHANNEL: price per dossier, by channel */
    int           first_pages;      /* MC_FEE_PER_PAGE: pages at first_page_vnd */
    uint64_t      first_page_vnd;   /* price of each of the first first_pages pages */
    uint64_t      next_page_vnd;    /* price of each further page */
    uint64_t      max_vnd;          /* cap per copy, 0 = none */
} mc_fee_rule_t;

typedef struct mc_procedure {
    char              *code;            /* national TTHC code, e.g. "1.001193" */
    char              *name;            /* full Vietnamese name */
    char              *department;      /* handling department / desk code */
    char              *department_name; /* its human name */
    char              *field;           /* lĩnh vực, e.g. "Hộ tịch" */
    int                processing_time; /* in time_unit; 0 = the same day */
    mc_time_unit_t     time_unit;       /* working days or working hours */
    int                cutoff_minutes;  /* late cut-off for this procedure, -1 = calendar's */
    unsigned           channels;        /* MC_CHANNEL_BIT() set */
    char              *online_level;    /* "toàn trình", "một phần", "không" */
    uint64_t           fee_vnd;         /* phí/lệ phí, VND, for the receipt */
    char              *fee_note;        /* how the fee is reckoned */
    mc_fee_rule_t      fee_rule;        /* how mc_catalog_fee() computes the fee */
    char              *result;          /* what the applicant gets */
    char              *legal_basis;     /* căn cứ pháp lý */
    bool               assumed;         /* some value is our assumption, not law */
    char              *assumption;      /* which and why, when assumed */
    mc_document_req_t *documents;       /* thành phần hồ sơ */
    size_t             n_documents;     /* entries in documents */
    mc_agency_step_t  *steps;           /* liên thông steps in order; none if n_steps == 0 */
    size_t             n_steps;         /* entries in steps */
} mc_procedure_t;

typedef struct mc_catalog {
    mc_procedure_t *procedures; /* in file order */
    size_t          count;      /* entries in procedures */
} mc_catalog_t;

/* mc_catalog_load - read procedures.yaml */
int mc_catalog_load(const char *path, mc_catalog_t **catalog, mc_err_t *err);

/* mc_catalog_from_yaml - build from a parsed root */
int mc_catalog_from_yaml(const mc_yaml_node_t *root, mc_catalog_t **catalog, mc_err_t *err);

/* mc_catalog_destroy - free and NULL the caller's pointer */
void mc_catalog_destroy(mc_catalog_t **catalog);

/* mc_catalog_find - the procedure with this code, or NULL */
const mc_procedure_t *mc_catalog_find(const mc_catalog_t *catalog, const char *code);

/* mc_catalog_fee - the fee for one dossier of proc filed through channel
 * (MC_CHANNEL_*), pages = pages of the original (bản chính) for a per-page
 * rule (the dossier carries no page count: the counter enters it), ignored
 * otherwise. Fails (-1, err set) when the channel is not one of the
 * procedure's or a per-page fee gets pages < 1. */
int mc_catalog_fee(const mc_procedure_t *proc, int channel, int pages, uint64_t *amount,
                   mc_err_t *err);

/* mc_procedure_time_text - "07 ngày làm việc", "trong ngày", "08 giờ làm việc" */
const char *mc_procedure_time_text(const mc_procedure_t *proc, char *buf, unsigned size);

#endif
