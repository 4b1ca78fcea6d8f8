/*
 * gateway_pages - the citizen pages, the ward dashboard, the static files
 * and their JSON backends (/v1/public/..., /v1/staff/...). Helper pg owns
 * this file: until then it adds no route.
 *
 * Contract (gateway.h): gw_pages_register adds routes (gw_routes_add) and
 * may keep state (gw_set_pages_state); gw_pages_destroy frees that state.
 */
#include "gateway.h"

/* gw_pages_register - no pages yet */
int gw_pages_register(gw_t *gw, mc_err_t *err)
{
    (void)gw;
    (void)err;
    return 0;
}

/* gw_pages_destroy - nothing to free yet */
void gw_pages_destroy(gw_t *gw)
{
    (void)gw;
}
