/*
 * intake_catalog - CatalogQuery: the procedures a portal needs to build a
 * valid SubmitDossier (proto/motcua/v1/intake.proto, Catalog), straight
 * from the catalog intake validates against (cfg->catalog: reloaded with
 * the configuration), and the wards the asking client acts for.
 *
 * Contract: reads the configuration only (no store, so it answers while
 * PostgreSQL is down); the reply points into cfg while it is packed and
 * owns nothing afterwards. Every procedure's message is built in one
 * proc_msg_t so freeing is one loop.
 */
#include "intake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_log.h"

/* one Procedure message and the storage it points into */
typedef struct proc_msg {
    Motcua__V1__Procedure          p;                /* the message itself */
    Motcua__V1__PageFee            page;             /* p.page_fee for a per-page fee */
    Motcua__V1__ChannelFee         fees[3];          /* p.channel_fees entries */
    Motcua__V1__ChannelFee        *fee_ptrs[3];      /* what p.channel_fees points to */
    Motcua__V1__Channel            channels[3];      /* p.channels entries */
    Motcua__V1__RequiredDocument  *docs;             /* proc->n_documents entries */
    Motcua__V1__RequiredDocument **doc_ptrs;         /* what p.documents points to */
    char                           time_text[64];    /* p.processing_text */
    char                           cutoff[8];        /* p.cutoff_text, "HH:MM" or "" */
} proc_msg_t;

static const Motcua__V1__Channel all_channels[3] = {
    MOTCUA__V1__CHANNEL__CHANNEL_DIRECT, MOTCUA__V1__CHANNEL__CHANNEL_ONLINE,
    MOTCUA__V1__CHANNEL__CHANNEL_POSTAL};

/* fill_fees - channel_fees / page_fee from the procedure's fee rule */
static void fill_fees(const mc_procedure_t *proc, proc_msg_t *m)
{
    const mc_fee_rule_t *r = &proc->fee_rule;
    if (r->kind == MC_FEE_PER_PAGE) {
        motcua__v1__page_fee__init(&m->page);
        m->page.first_pages = r->first_pages > 0 ? (uint32_t)r->first_pages : 0;
        m->page.first_page_vnd = r->first_page_vnd;
        m->page.next_page_vnd = r->next_page_vnd;
        m->page.max_vnd = r->max_vnd;
        m->p.page_fee = &m->page;
        return;
    }
    if (r->kind != MC_FEE_PER_CHANNEL)
        return;
    for (size_t k = 0; k < 3; k++) {
        if (!(proc->channels & MC_CHANNEL_BIT((unsigned)all_channels[k])))
            continue; /* a price for a channel the procedure refuses says nothing */
        Motcua__V1__ChannelFee *f = &m->fees[m->p.n_channel_fees];
        motcua__v1__channel_fee__init(f);
        f->channel = all_channels[k];
        f->fee_vnd = r->channel_vnd[all_channels[k]];
        m->fee_ptrs[m->p.n_channel_fees++] = f;
    }
    m->p.channel_fees = m->fee_ptrs;
}

/* fill_procedure - one Procedure message pointing into proc; -1 out of memory */
static int fill_procedure(const mc_procedure_t *proc, proc_msg_t *m)
{
    motcua__v1__procedure__init(&m->p);
    m->p.code = proc->code;
    m->p.name = proc->name;
    m->p.field = proc->field ? proc->field : (char *)"";
    m->p.department_name = proc->department_name ? proc->department_name : (char *)"";
    m->p.processing_time = proc->processing_time > 0 ? (uint32_t)proc->processing_time : 0;
    m->p.processing_unit = proc->time_unit == MC_TIME_WORKING_HOURS
                               ? MOTCUA__V1__TIME_UNIT__TIME_UNIT_WORKING_HOURS
                               : MOTCUA__V1__TIME_UNIT__TIME_UNIT_WORKING_DAYS;
    m->p.processing_text = (char *)mc_procedure_time_text(proc, m->time_text, sizeof m->time_text);
    for (size_t k = 0; k < 3; k++)
        if (proc->channels & MC_CHANNEL_BIT((unsigned)all_channels[k]))
            m->channels[m->p.n_channels++] = all_channels[k];
    m->p.channels = m->channels;
    m->p.online_level = proc->online_level ? proc->online_level : (char *)"";
    m->p.fee_vnd = proc->fee_vnd;
    m->p.fee_text = proc->fee_note ? proc->fee_note : (char *)"";
    fill_fees(proc, m);
    m->p.result = proc->result ? proc->result : (char *)"";
    m->p.legal_basis = proc->legal_basis ? proc->legal_basis : (char *)"";
    m->p.interagency = proc->n_steps > 0;
    if (proc->cutoff_minutes >= 0)
        snprintf(m->cutoff, sizeof m->cutoff, "%02d:%02d", proc->cutoff_minutes / 60 % 24,
                 proc->cutoff_minutes % 60);
    m->p.cutoff_text = m->cutoff;
    if (proc->n_documents == 0)
        return 0;
    m->docs = calloc(proc->n_documents, sizeof *m->docs);
    m->doc_ptrs = calloc(proc->n_documents, sizeof *m->doc_ptrs);
    if (!m->docs || !m->doc_ptrs)
        return -1;
    for (size_t i = 0; i < proc->n_documents; i++) {
        const mc_document_req_t *d = &proc->documents[i];
        motcua__v1__required_document__init(&m->docs[i]);
        m->docs[i].code = d->code;
        m->docs[i].name = d->name;
        m->docs[i].required = d->required;
        m->docs[i].form = d->form ? d->form : (char *)"";
        m->doc_ptrs[i] = &m->docs[i];
    }
    m->p.n_documents = proc->n_documents;
    m->p.documents = m->doc_ptrs;
    return 0;
}

/* fill_wards - the served wards ctx's client acts for, in motcua.yaml order;
 * the count, or (size_t)-1 out of memory */
static size_t fill_wards(const intake_ctx_t *ctx, Motcua__V1__CatalogWard **items,
                         Motcua__V1__CatalogWard ***ptrs)
{
    const mc_cfg_t *cfg = ctx->cfg;
    *items = NULL;
    *ptrs = NULL;
    if (cfg->n_wards == 0)
        return 0;
    *items = calloc(cfg->n_wards, sizeof **items);
    *ptrs = calloc(cfg->n_wards, sizeof **ptrs);
    if (!*items || !*ptrs)
        return (size_t)-1;
    size_t n = 0;
    for (size_t i = 0; i < cfg->n_wards; i++) {
        const mc_ward_t *w = &cfg->wards[i];
        if (!mc_client_acts_for(ctx->client, w->code))
            continue;
        Motcua__V1__CatalogWard *cw = &(*items)[n];
        motcua__v1__catalog_ward__init(cw);
        cw->code = w->code;
        cw->name = w->name ? w->name : (char *)"";
        cw->province = w->province ? w->province : (char *)"";
        cw->unit_id = w->unit_id ? w->unit_id : (char *)"";
        cw->unit_name = w->unit_name ? w->unit_name : (char *)"";
        (*ptrs)[n++] = cw;
    }
    return n;
}

/* intake_catalog - CatalogQuery: one procedure or all, packed into reply */
void intake_catalog(intake_ctx_t *ctx, const Motcua__V1__CatalogQuery *query,
                    intake_reply_t *reply)
{
    const mc_procedure_t *only = NULL;
    mc_problem_t problem;
    if (mc_validate_catalog_query(query, ctx->cfg, &only, &problem) != 0) {
        intake_reply_rejection(reply, problem.reason, problem.field, problem.message, 0);
        return;
    }
    const mc_catalog_t *cat = ctx->cfg->catalog;
    size_t n = only ? 1 : (cat ? cat->count : 0);
    proc_msg_t *msgs = n ? calloc(n, sizeof *msgs) : NULL;
    Motcua__V1__Procedure **procs = n ? calloc(n, sizeof *procs) : NULL;
    Motcua__V1__CatalogWard *wards = NULL, **ward_ptrs = NULL;
    int rc = (n && (!msgs || !procs)) ? -1 : 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = fill_procedure(only ? only : &cat->procedures[i], &msgs[i]);
        procs[i] = &msgs[i].p;
    }
    size_t n_wards = rc == 0 ? fill_wards(ctx, &wards, &ward_ptrs) : 0;
    if (n_wards == (size_t)-1)
        rc = -1;
    if (rc == 0) {
        Motcua__V1__Catalog catalog = MOTCUA__V1__CATALOG__INIT;
        catalog.n_procedures = n;
        catalog.procedures = procs;
        catalog.n_wards = n_wards;
        catalog.wards = ward_ptrs;
        catalog.max_documents = ctx->cfg->intake.max_documents > 0
                                    ? (uint32_t)ctx->cfg->intake.max_documents
                                    : 0;
        Motcua__V1__IntakeReply msg = MOTCUA__V1__INTAKE_REPLY__INIT;
        msg.body_case = MOTCUA__V1__INTAKE_REPLY__BODY_CATALOG;
        msg.catalog = &catalog;
        rc = intake_reply_pack(reply, &msg);
    }
    for (size_t i = 0; msgs && i < n; i++) {
        free(msgs[i].docs);
        free(msgs[i].doc_ptrs);
    }
    free(msgs);
    free(procs);
    free(wards);
    free(ward_ptrs);
    if (rc != 0) {
        mc_log(MC_LOG_ERR, "catalog_failed", "worker=%d error=out_of_memory", ctx->worker);
        intake_reply_rejection(reply, MOTCUA__V1__REASON__REASON_INTERNAL, "", "Lỗi hệ thống.",
                               ctx->cfg->intake.retry_after_ms);
        return;
    }
    mc_log(MC_LOG_DEBUG, "catalog", "worker=%d client=%s procedures=%zu", ctx->worker,
           ctx->client->code, n);
}
