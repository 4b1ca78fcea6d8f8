/*
 * mc_report_borderless - how the lists and forms mark a dossier received at another ward
 * than its competent one (boundary-free reception, Nghị định 118/2025
 * Điều 14 khoản 2, Điều 20; docs/rules.md): "tiếp nhận tại phường X" seen
 * from the competent ward, "chuyển đến phường Y" seen from the receiving
 * ward, both without a viewing ward, and whether it has been forwarded.
 *
 * Contract: pure formatting from the configuration's ward names (the code
 * itself when a ward is no longer configured); no I/O.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mc_report.h"

/* ward_name - the configured name of a ward, or its code */
static const char *ward_name(const mc_cfg_t *cfg, const char *code)
{
    const mc_ward_t *w = mc_cfg_ward(cfg, code);
    return w ? w->name : code;
}

/* mc_report_borderless_mark - the mark, "" for a dossier received where it belongs */
const char *mc_report_borderless_mark(const mc_cfg_t *cfg, const char *view_ward,
                                const char *ward_code, const char *receiving_ward,
                                int64_t forward_due_at, bool forwarded, char *buf, size_t size)
{
    buf[0] = '\0';
    if (!receiving_ward || !*receiving_ward)
        return buf;
    const char *progress = forwarded ? "đã chuyển"
                           : forward_due_at > 0 && forward_due_at < (int64_t)time(NULL)
                               ? "chưa chuyển, quá hạn chuyển"
                               : "chưa chuyển";
    if (view_ward && *view_ward && strcmp(view_ward, receiving_ward) == 0)
        snprintf(buf, size, "chuyển đến %s (%s)", ward_name(cfg, ward_code), progress);
    else if (view_ward && *view_ward)
        snprintf(buf, size, "tiếp nhận tại %s (%s)", ward_name(cfg, receiving_ward), progress);
    else
        snprintf(buf, size, "tiếp nhận tại %s, chuyển đến %s (%s)",
                 ward_name(cfg, receiving_ward), ward_name(cfg, ward_code), progress);
    return buf;
}
