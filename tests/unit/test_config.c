/*
 * test_config - mc_cfg and mc_catalog: the real config/ files, defaults,
 * bounds, every-error-at-once reporting, the MOTCUA_DATABASE override and
 * password redaction.
 *
 * Contract: run from the repository root (paths "config/..."). Broken
 * variants are written into a fresh temporary directory and removed.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mc_test.h"
#include "mc_cfg.h"
#include "mc_cfg_check.h"

static char tmpdir[64]; /* per-run scratch directory */

/* write_file - tmpdir/name := text; returns the path in a static buffer */
static const char *write_file(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    fputs(text, f);
    fclose(f);
    return path;
}

static const char *good_calendar = "years: [2025]\nholidays: [{date: 2025-01-01, name: \"Tết\"}]\n";

static const char *good_procedures =
    "procedures:\n"
    "  - code: \"9.000001\"\n"
    "    name: \"Thủ tục thử\"\n"
    "    field: \"Thử\"\n"
    "    department: TU_PHAP\n"
    "    department_name: \"Tư pháp\"\n"
    "    processing_time: {amount: 4, unit: working_hours}\n"
    "    channels: [direct]\n"
    "    online_level: \"không\"\n"
    "    fee_vnd: 0\n"
    "    result: \"Kết quả\"\n"
    "    legal_basis: \"Không\"\n"
    "    documents: []\n";

static const char *ward =
    "wards:\n"
    "  - {code: \"00229\", name: \"Phường Kim Liên\", province: \"Hà Nội\","
    " unit_id: \"000.22.29.H26\", unit_name: \"Một cửa\", address: \"Số 1\"}\n";

/* load_in_tmp - write motcua.yaml (plus good companions unless given) and load it */
static int load_in_tmp(const char *motcua, const char *procedures, const char *calendar,
                       mc_cfg_t **cfg, mc_err_t *err)
{
    write_file("procedures.yaml", procedures ? procedures : good_procedures);
    write_file("calendar.yaml", calendar ? calendar : good_calendar);
    const char *path = write_file("motcua.yaml", motcua);
    mc_err_clear(err);
    return path ? mc_cfg_load(path, cfg, err) : -2;
}

/* has - does the error text contain s? */
static int has(const mc_err_t *err, const char *s)
{
    return strstr(err->text, s) != NULL;
}

MC_TEST(test_real_config)
{
    mc_err_t err;
    mc_err_clear(&err);
    mc_cfg_t *cfg = NULL;
    int rc = mc_cfg_load("config/motcua.yaml", &cfg, &err);
    if (rc < 0)
        printf("%s", err.text);
    REQUIRE(rc == 0 && cfg);
    CHECK_STR(cfg->conninfo, "dbname=motcua");
    CHECK_INT(cfg->rules.forward_days, 1); /* Nghị định 118/2025 Điều 20 */
    CHECK_INT(cfg->connect_timeout_s, 2);
    CHECK_INT(cfg->statement_timeout_ms, 5000);
    CHECK_INT(cfg->log_level, MC_LOG_INFO);
    CHECK_STR(cfg->intake.endpoint, "tcp://127.0.0.1:5555");
    CHECK_INT(cfg->intake.workers, 4);
    CHECK_INT(cfg->intake.max_request_bytes, 262144);
    CHECK_INT(cfg->intake.max_documents, 50);
    CHECK_INT(cfg->client.timeout_ms, 5000);
    CHECK_INT(cfg->client.retries, 2);
    CHECK_STR(cfg->procedures_path, "config/procedures.yaml");
    CHECK_STR(cfg->calendar_path, "config/calendar.yaml");
    CHECK_INT(cfg->n_wards, 2);
    const mc_ward_t *kl = mc_cfg_ward(cfg, "00229");
    REQUIRE(kl);
    CHECK_STR(kl->unit_id, "000.22.29.H26");
    CHECK_STR(kl->name, "Phường Kim Liên");
    const mc_ward_t *vm = mc_cfg_ward(cfg, "00220");
    REQUIRE(vm);
    CHECK_STR(vm->unit_id, "000.22.20.H26");
    CHECK(mc_cfg_ward(cfg, "99999") == NULL);
    REQUIRE(cfg->calendar && cfg->catalog);
    mc_date_t tet = {2025, 1, 27};
    CHECK(!mc_calendar_is_working_day(cfg->calendar, tet));
    mc_cfg_destroy(&cfg);
    CHECK(cfg == NULL);
}

MC_TEST(test_real_catalog)
{
    mc_err_t err;
    mc_err_clear(&err);
    mc_catalog_t *cat = NULL;
    int rc = mc_catalog_load("config/procedures.yaml", &cat, &err);
    if (rc < 0)
        printf("%s", err.text);
    REQUIRE(rc == 0 && cat);
    CHECK_INT(cat->count, 7);
    static const char *const codes[] = {"1.001193", "1.004222", "2.000986", "2.000635",
                                        "2.000815", "1.013978", "1.009469"};
    for (size_t i = 0; i < 7; i++)
        CHECK(mc_catalog_find(cat, codes[i]) != NULL);
    CHECK(mc_catalog_find(cat, "1.00119") == NULL);
    CHECK(mc_catalog_find(cat, "") == NULL);

    char buf[64];
    const mc_procedure_t *ks = mc_catalog_find(cat, "1.001193");
    REQUIRE(ks);
    CHECK_STR(ks->name, "Đăng ký khai sinh");
    CHECK_STR(ks->department, "TU_PHAP");
    CHECK_INT(ks->processing_time, 0);
    CHECK_INT(ks->cutoff_minutes, 15 * 60);
    CHECK_INT(ks->fee_vnd, 0);
    CHECK_INT(ks->n_documents, 3);
    CHECK_STR(ks->documents[1].code, "GIAY_CHUNG_SINH");
    CHECK(ks->documents[1].required);
    CHECK_STR(mc_procedure_time_text(ks, buf, sizeof buf), "Trong ngày làm việc");
    CHECK(ks->channels == (MC_CHANNEL_BIT(MC_CHANNEL_DIRECT) | MC_CHANNEL_BIT(MC_CHANNEL_ONLINE) |
                           MC_CHANNEL_BIT(MC_CHANNEL_POSTAL)));

    const mc_procedure_t *tt = mc_catalog_find(cat, "1.004222");
    REQUIRE(tt);
    CHECK_STR(mc_procedure_time_text(tt, buf, sizeof buf), "07 ngày làm việc");
    CHECK_INT(tt->cutoff_minutes, -1);
    CHECK_STR(tt->department, "CONG_AN_XA");
    CHECK_INT(tt->fee_vnd, 20000);
    CHECK(tt->assumed && tt->assumption[0]);

    const mc_procedure_t *ct = mc_catalog_find(cat, "2.000815");
    REQUIRE(ct);
    CHECK(ct->channels == MC_CHANNEL_BIT(MC_CHANNEL_DIRECT));
    CHECK_INT(ct->fee_vnd, 2000);
    /* fees from the dossier: per page (Thông tư 226/2016) and per channel (Thông tư 75/2022) */
    uint64_t fee = 0;
    mc_err_t ferr = {0};
    static const struct { int pages; uint64_t vnd; } pg[] = {
        {1, 2000}, {2, 4000}, {3, 5000}, {10, 12000}, {198, 200000}, {199, 200000}, {5000, 200000}};
    for (size_t i = 0; i < sizeof pg / sizeof pg[0]; i++) {
        CHECK(mc_catalog_fee(ct, MC_CHANNEL_DIRECT, pg[i].pages, &fee, &ferr) == 0);
        CHECK_INT(fee, pg[i].vnd);
    }
    CHECK(mc_catalog_fee(ct, MC_CHANNEL_DIRECT, 0, &fee, &ferr) == -1);
    CHECK(mc_catalog_fee(ct, MC_CHANNEL_ONLINE, 3, &fee, &ferr) == -1);
    CHECK(mc_catalog_fee(tt, MC_CHANNEL_DIRECT, 0, &fee, &ferr) == 0);
    CHECK_INT(fee, 20000);
    CHECK(mc_catalog_fee(tt, MC_CHANNEL_ONLINE, 0, &fee, &ferr) == 0);
    CHECK_INT(fee, 10000);
    CHECK(mc_catalog_fee(ks, MC_CHANNEL_POSTAL, 0, &fee, &ferr) == 0);
    CHECK_INT(fee, 0);
    mc_err_clear(&ferr);
    CHECK_STR(ct->online_level, "không");

    const mc_procedure_t *lt = mc_catalog_find(cat, "2.000986");
    REQUIRE(lt);
    REQUIRE(lt->n_steps == 3);
    CHECK_STR(lt->steps[0].agency, "UBND_XA_TUPHAP");
    CHECK_STR(lt->steps[1].agency, "CONG_AN_XA");
    CHECK_STR(lt->steps[2].agency, "BHXH");
    CHECK_INT(lt->steps[2].time_limit, 1);
    CHECK_STR(mc_procedure_time_text(lt, buf, sizeof buf), "03 ngày làm việc");
    CHECK(lt->channels == MC_CHANNEL_BIT(MC_CHANNEL_ONLINE)); /* online only (QĐ 296/QĐ-VPCP) */

    const mc_procedure_t *gcn = mc_catalog_find(cat, "1.013978");
    REQUIRE(gcn && gcn->n_documents == 3);
    CHECK(!gcn->documents[2].required);
    CHECK_STR(mc_procedure_time_text(gcn, buf, sizeof buf), "20 ngày làm việc");
    mc_catalog_destroy(&cat);
    CHECK(cat == NULL);
}

MC_TEST(test_defaults_and_env)
{
    mc_err_t err;
    mc_cfg_t *cfg = NULL;
    REQUIRE(load_in_tmp(ward, NULL, NULL, &cfg, &err) == 0);
    CHECK_STR(cfg->conninfo, "dbname=motcua");
    CHECK_INT(cfg->intake.workers, 4);
    CHECK_INT(cfg->intake.shutdown_grace_ms, 10000);
    CHECK_INT(cfg->intake.retry_after_ms, 1000);
    CHECK_INT(cfg->intake.reconnect_ms, 1000);
    CHECK_INT(cfg->client.retries, 2);
    char want[128];
    snprintf(want, sizeof want, "%s/procedures.yaml", tmpdir);
    CHECK_STR(cfg->procedures_path, want);
    const mc_procedure_t *p = mc_catalog_find(cfg->catalog, "9.000001");
    REQUIRE(p);
    char buf[64];
    CHECK_STR(mc_procedure_time_text(p, buf, sizeof buf), "04 giờ làm việc");
    mc_cfg_destroy(&cfg);

    setenv("MOTCUA_DATABASE", "host=/tmp/x dbname=throwaway", 1);
    REQUIRE(load_in_tmp(ward, NULL, NULL, &cfg, &err) == 0);
    CHECK_STR(cfg->conninfo, "host=/tmp/x dbname=throwaway");
    mc_cfg_destroy(&cfg);
    unsetenv("MOTCUA_DATABASE");

    setenv("MOTCUA_CONFIG", "/x/y.yaml", 1);
    CHECK_STR(mc_cfg_default_path(), "/x/y.yaml");
    unsetenv("MOTCUA_CONFIG");
    CHECK(strcmp(mc_cfg_default_path(), "/x/y.yaml") != 0);
}

MC_TEST(test_ranges_and_wards)
{
    mc_err_t err;
    mc_cfg_t *cfg = NULL;
    char text[2048];
    snprintf(text, sizeof text,
             "intake: {workers: 65, endpoint: \"http://x\", max_request_bytes: 100}\n"
             "log: {level: loud}\n"
             "client: {retries: \"2\"}\n"
             "wards:\n"
             "  - {code: \"00229\", name: a, province: b, unit_id: \"000.22.29.H26\","
             " unit_name: c, address: d}\n"
             "  - {code: \"00229\", name: a, province: b, unit_id: \"000.22.29.H26\","
             " unit_name: c, address: d}\n"
             "  - {code: \"229\", name: a, province: b, unit_id: \"000.22.29\","
             " unit_name: c, address: d}\n"
             "  - {code: \"00230\", name: a, province: b, unit_id: \"000.22.3-0.H26\","
             " unit_name: c}\n");
    CHECK(load_in_tmp(text, NULL, NULL, &cfg, &err) == -1);
    CHECK(cfg == NULL);
    CHECK(has(&err, "key 'workers': 65 is out of range (1..64)"));
    CHECK(has(&err, "key 'endpoint': expected tcp://"));
    CHECK(has(&err, "key 'max_request_bytes': 100 is out of range (1024..16777216)"));
    CHECK(has(&err, "key 'level': expected error, warning"));
    CHECK(has(&err, "key 'retries': expected a plain decimal integer"));
    CHECK(has(&err, "ward '00229' is listed twice"));
    CHECK(has(&err, "already belongs to ward '00229'"));
    CHECK(has(&err, "expected the 5-digit ward code"));
    CHECK(has(&err, "key 'unit_id': expected 4 dot-separated groups"));
    CHECK(has(&err, "key 'address': missing in ward"));
    CHECK(err.count >= 11);

    /* boundary-free reception: rules.forward_days is 1..30 working days */
    CHECK(load_in_tmp("rules: {forward_days: 0}\n"
                      "wards:\n  - {code: \"00229\", name: a, province: b,"
                      " unit_id: \"000.22.29.H26\", unit_name: c, address: d}\n",
                      NULL, NULL, &cfg, &err) == -1);
    CHECK(has(&err, "key 'forward_days': 0 is out of range (1..30)"));

    CHECK(load_in_tmp("database: {conninfo: x}\n", NULL, NULL, &cfg, &err) == -1);
    CHECK(has(&err, "key 'wards': missing in motcua.yaml"));
    CHECK(load_in_tmp("wards: []\n", NULL, NULL, &cfg, &err) == -1);
    CHECK(has(&err, "expected 1..1000 wards"));
}

MC_TEST(test_rules_and_provinces)
{
    mc_err_t err;
    mc_cfg_t *cfg = NULL;
    REQUIRE(load_in_tmp("rules: {forward_days: 2}\n"
                        "wards:\n"
                        "  - {code: \"00229\", name: a, province: \"Hà Nội\","
                        " unit_id: \"000.22.29.H26\", unit_name: c, address: d}\n"
                        "  - {code: \"00220\", name: a, province: \"Hà Nội\","
                        " unit_id: \"000.22.20.H26\", unit_name: c, address: d}\n"
                        "  - {code: \"27001\", name: a, province: \"Bắc Ninh\","
                        " unit_id: \"000.27.01.H27\", unit_name: c, address: d}\n",
                        NULL, NULL, &cfg, &err) == 0);
    CHECK_INT(cfg->rules.forward_days, 2);
    CHECK(mc_cfg_same_province(mc_cfg_ward(cfg, "00229"), mc_cfg_ward(cfg, "00220")));
    CHECK(!mc_cfg_same_province(mc_cfg_ward(cfg, "00229"), mc_cfg_ward(cfg, "27001")));
    CHECK(!mc_cfg_same_province(mc_cfg_ward(cfg, "00229"), NULL));
    mc_cfg_destroy(&cfg);
}

MC_TEST(test_events_stay_on_this_host)
{
    mc_err_t err;
    mc_cfg_t *cfg = NULL;
    /* the defaults are ipc:// in /run/motcua */
    REQUIRE(load_in_tmp(ward, NULL, NULL, &cfg, &err) == 0);
    CHECK_STR(cfg->intake.events_endpoint, "ipc:///run/motcua/intake-events");
    CHECK_STR(cfg->router.events_endpoint, "ipc:///run/motcua/router-events");
    CHECK_STR(cfg->lienthong.events_endpoint, "ipc:///run/motcua/lienthong-events");
    mc_cfg_destroy(&cfg);
    /* loopback is this host too */
    char text[2048];
    snprintf(text, sizeof text, "router: {events_endpoint: \"tcp://127.0.0.1:5571\"}\n"
             "lienthong: {events_endpoint: \"tcp://[::1]:5572\"}\n%s", ward);
    REQUIRE(load_in_tmp(text, NULL, NULL, &cfg, &err) == 0);
    mc_cfg_destroy(&cfg);
    /* any other address: refused, each one */
    snprintf(text, sizeof text, "intake: {events_endpoint: \"tcp://0.0.0.0:5570\"}\n"
             "router: {events_endpoint: \"tcp://10.0.0.5:5571\"}\n"
             "lienthong: {events_endpoint: \"tcp://eth0:5572\"}\n%s", ward);
    CHECK(load_in_tmp(text, NULL, NULL, &cfg, &err) == -1);
    CHECK(cfg == NULL);
    CHECK(has(&err, "tcp://0.0.0.0:5570 is reachable from other hosts and events.key_file is not set"));
    CHECK(has(&err, "set events.key_file"));
    CHECK(has(&err, "tcp://10.0.0.5:5571 is reachable"));
    CHECK(has(&err, "tcp://eth0:5572 is reachable"));
    CHECK_INT(err.count, 3);
    CHECK(mc_cfg_endpoint_is_local("ipc:///run/motcua/x"));
    CHECK(mc_cfg_endpoint_is_local("tcp://localhost:1"));
    CHECK(!mc_cfg_endpoint_is_local("tcp://*:1"));
}

MC_TEST(test_events_across_hosts)
{
    mc_err_t err;
    mc_cfg_t *cfg = NULL;
    /* without events: the lists default to the kind's own publisher */
    REQUIRE(load_in_tmp(ward, NULL, NULL, &cfg, &err) == 0);
    CHECK_STR(cfg->events.key_file, "");
    CHECK_INT(cfg->router.n_events_connect, 1);
    CHECK_STR(cfg->router.events_connect[0], "ipc:///run/motcua/router-events");
    mc_cfg_destroy(&cfg);
    /* with a key: any tcp:// bind, wildcards too, and lists of other hosts */
    char text[2048];
    snprintf(text, sizeof text, "events: {key_file: keys/events.key}\n"
             "intake: {events_endpoint: \"tcp://*:5570\"}\n"
             "router: {events_endpoint: \"tcp://0.0.0.0:5571\",\n"
             "  events_connect: [\"tcp://10.77.0.21:5571\", \"tcp://10.77.0.22:5571\"]}\n"
             "lienthong: {events_endpoint: \"tcp://10.77.0.21:5572\"}\n%s", ward);
    REQUIRE(load_in_tmp(text, NULL, NULL, &cfg, &err) == 0);
    CHECK(strstr(cfg->events.key_file, "/keys/events.key") != NULL); /* beside motcua.yaml */
    CHECK_INT(cfg->intake.n_events_connect, 1);
    CHECK_STR(cfg->intake.events_connect[0], "tcp://127.0.0.1:5570"); /* a wildcard's default */
    CHECK_INT(cfg->router.n_events_connect, 2);
    CHECK_STR(cfg->router.events_connect[1], "tcp://10.77.0.22:5571");
    CHECK_STR(cfg->lienthong.events_connect[0], "tcp://10.77.0.21:5572");
    mc_cfg_destroy(&cfg);
    /* without a key: another host in a list is refused too, saying what to set */
    snprintf(text, sizeof text, "router: {events_connect: [\"ipc:///run/motcua/router-events\","
             " \"tcp://10.77.0.22:5571\"]}\n%s", ward);
    CHECK(load_in_tmp(text, NULL, NULL, &cfg, &err) == -1);
    CHECK(has(&err, "key 'events_connect': tcp://10.77.0.22:5571 is reachable from other hosts "
                    "and events.key_file is not set"));
    CHECK_INT(err.count, 1);
    /* lists: a wildcard, an empty list, a non-list, a bad scheme; unknown events keys */
    snprintf(text, sizeof text, "events: {key_file: k.key, keyfile: x}\n"
             "intake: {events_connect: [\"tcp://*:5570\"]}\n"
             "router: {events_connect: []}\n"
             "lienthong: {events_connect: \"tcp://10.0.0.1:1\"}\n"
             "notify: {}\n%s", ward);
    CHECK(load_in_tmp(text, NULL, NULL, &cfg, &err) == -1);
    CHECK(has(&err, "clients can connect to (not * nor 0.0.0.0)"));
    CHECK(has(&err, "expected at least one endpoint"));
    CHECK(has(&err, "events_connect"));
    CHECK(has(&err, "keyfile"));
    CHECK(err.count >= 4);
    snprintf(text, sizeof text, "events: {key_file: k.key}\n"
             "router: {events_connect: [\"udp://10.0.0.1:1\"]}\n%s", ward);
    CHECK(load_in_tmp(text, NULL, NULL, &cfg, &err) == -1);
    CHECK(has(&err, "expected tcp://, ipc:// or inproc://"));
}

MC_TEST(test_connect_lists)
{
    mc_err_t err, warn;
    mc_cfg_t *cfg = NULL;
    /* default: the bind made connectable, one entry; no warning on loopback */
    REQUIRE(load_in_tmp(ward, NULL, NULL, &cfg, &err) == 0);
    CHECK_INT(cfg->intake.n_connect, 1);
    CHECK_STR(cfg->intake.connect[0], "tcp://127.0.0.1:5555");
    CHECK_INT(cfg->lienthong.n_connect, 1);
    CHECK_STR(cfg->lienthong.connect[0], "tcp://127.0.0.1:5560");
    CHECK(!cfg->intake.connect_given && !cfg->lienthong.connect_given);
    mc_err_clear(&warn);
    CHECK_INT(mc_cfg_check_warnings(cfg, &warn), 0);
    mc_cfg_destroy(&cfg);
    /* wildcard binds: the one-host default, and config check warns for each */
    char text[2048];
    snprintf(text, sizeof text, "intake: {endpoint: \"tcp://*:5555\"}\n"
             "lienthong: {endpoint: \"tcp://0.0.0.0:5560\"}\n%s", ward);
    REQUIRE(load_in_tmp(text, NULL, NULL, &cfg, &err) == 0);
    CHECK_STR(cfg->intake.connect[0], "tcp://127.0.0.1:5555");
    CHECK_STR(cfg->lienthong.connect[0], "tcp://127.0.0.1:5560");
    mc_err_clear(&warn);
    CHECK_INT(mc_cfg_check_warnings(cfg, &warn), 2);
    CHECK(has(&warn, "intake.endpoint tcp://*:5555 binds every address but intake.connect is not set"));
    CHECK(has(&warn, "lienthong.endpoint tcp://0.0.0.0:5560 binds every address"));
    mc_cfg_destroy(&cfg);
    /* explicit lists: kept in order, no warning */
    snprintf(text, sizeof text, "intake:\n  endpoint: \"tcp://*:5555\"\n"
             "  connect: [\"tcp://10.77.0.21:5555\", \"tcp://10.77.0.22:5555\"]\n"
             "lienthong:\n  endpoint: \"tcp://*:5560\"\n  connect: [\"tcp://10.77.0.21:5560\"]\n%s",
             ward);
    REQUIRE(load_in_tmp(text, NULL, NULL, &cfg, &err) == 0);
    CHECK_INT(cfg->intake.n_connect, 2);
    CHECK_STR(cfg->intake.connect[1], "tcp://10.77.0.22:5555");
    CHECK_INT(cfg->lienthong.n_connect, 1);
    CHECK(cfg->intake.connect_given && cfg->lienthong.connect_given);
    mc_err_clear(&warn);
    CHECK_INT(mc_cfg_check_warnings(cfg, &warn), 0);
    mc_cfg_destroy(&cfg);
    /* bad lists: empty, a wildcard, not an endpoint, not a list */
    snprintf(text, sizeof text, "intake: {connect: []}\nlienthong: {connect: [\"tcp://*:1\", \"x\"]}\n%s",
             ward);
    CHECK(load_in_tmp(text, NULL, NULL, &cfg, &err) == -1);
    CHECK(has(&err, "key 'connect': expected at least one endpoint"));
    CHECK(has(&err, "clients can connect to (not * nor 0.0.0.0)"));
    CHECK_INT(err.count, 3);
    snprintf(text, sizeof text, "intake: {connect: \"tcp://10.0.0.1:1\"}\n%s", ward);
    CHECK(load_in_tmp(text, NULL, NULL, &cfg, &err) == -1);
    CHECK(cfg == NULL);
}

MC_TEST(test_multi_host_conninfo_warning)
{
    mc_err_t err, warn;
    mc_cfg_t *cfg = NULL;
    char text[2048];
    /* several hosts without target_session_attrs: one warning */
    snprintf(text, sizeof text, "database: {conninfo: \"host=10.0.0.1,10.0.0.2 dbname=m\"}\n%s",
             ward);
    REQUIRE(load_in_tmp(text, NULL, NULL, &cfg, &err) == 0);
    mc_err_clear(&warn);
    CHECK_INT(mc_cfg_check_warnings(cfg, &warn), 1);
    CHECK(has(&warn, "several hosts without target_session_attrs=read-write"));
    mc_cfg_destroy(&cfg);
    /* the URI form, with it: none; one host: none */
    snprintf(text, sizeof text, "database: {conninfo: \"postgresql://a,b/m?"
             "target_session_attrs=read-write\"}\n%s", ward);
    REQUIRE(load_in_tmp(text, NULL, NULL, &cfg, &err) == 0);
    mc_err_clear(&warn);
    CHECK_INT(mc_cfg_check_warnings(cfg, &warn), 0);
    mc_cfg_destroy(&cfg);
    snprintf(text, sizeof text, "database: {conninfo: \"host=a dbname=m\"}\n%s", ward);
    REQUIRE(load_in_tmp(text, NULL, NULL, &cfg, &err) == 0);
    mc_err_clear(&warn);
    CHECK_INT(mc_cfg_check_warnings(cfg, &warn), 0);
    mc_cfg_destroy(&cfg);
}

MC_TEST(test_errors_across_files)
{
    mc_err_t err;
    mc_cfg_t *cfg = NULL;
    char text[1024];
    snprintf(text, sizeof text, "%sdatabse: {conninfo: x}\n", ward);
    char procs[2048];
    snprintf(procs, sizeof procs, "%s    colour: red\n", good_procedures);
    CHECK(load_in_tmp(text, procs, "years: [2025]\nholidays: []\nyear: 1\n", &cfg, &err) == -1);
    char want[160];
    snprintf(want, sizeof want, "%s/motcua.yaml:3:1: key 'databse': unknown key", tmpdir);
    CHECK(has(&err, want));
    snprintf(want, sizeof want, "%s/procedures.yaml:14:5: key 'colour': unknown key in procedure",
             tmpdir);
    CHECK(has(&err, want));
    snprintf(want, sizeof want, "%s/calendar.yaml:3:1: key 'year': unknown key in calendar",
             tmpdir);
    CHECK(has(&err, want));
    CHECK(err.count >= 3);

    /* a missing companion is reported with its resolved path */
    snprintf(text, sizeof text, "%sfiles: {calendar: nope.yaml}\n", ward);
    CHECK(load_in_tmp(text, NULL, NULL, &cfg, &err) == -1);
    snprintf(want, sizeof want, "%s/nope.yaml: cannot open: No such file or directory", tmpdir);
    CHECK(has(&err, want));

    mc_err_clear(&err);
    CHECK(mc_cfg_load("/nonexistent/motcua.yaml", &cfg, &err) == -1);
    CHECK(has(&err, "/nonexistent/motcua.yaml: cannot open: No such file or directory"));
    CHECK(cfg == NULL);
}

/* proc_with - good_procedures with one line replaced */
static const char *proc_with(const char *from, const char *to)
{
    static char out[4096];
    const char *p = strstr(good_procedures, from);
    if (!p)
        return good_procedures;
    snprintf(out, sizeof out, "%.*s%s%s", (int)(p - good_procedures), good_procedures, to,
             p + strlen(from));
    return out;
}

MC_TEST(test_catalog_errors)
{
    mc_err_t err;
    mc_cfg_t *cfg = NULL;
    /* duplicate procedure codes */
    char two[4096];
    snprintf(two, sizeof two, "%s%s", good_procedures, good_procedures + strlen("procedures:\n"));
    CHECK(load_in_tmp(ward, two, NULL, &cfg, &err) == -1);
    CHECK(has(&err, "procedure '9.000001' is listed twice"));

    CHECK(load_in_tmp(ward, proc_with("unit: working_hours", "unit: weeks"), NULL, &cfg, &err) ==
          -1);
    CHECK(has(&err, "expected working_days or working_hours"));
    CHECK(load_in_tmp(ward, proc_with("channels: [direct]", "channels: [direct, fax]"), NULL,
                      &cfg, &err) == -1);
    CHECK(has(&err, "expected direct, online or postal"));
    CHECK(load_in_tmp(ward, proc_with("channels: [direct]", "channels: [direct, online]"), NULL,
                      &cfg, &err) == -1);
    CHECK(has(&err, "contradicts channels"));
    CHECK(load_in_tmp(ward, proc_with("fee_vnd: 0", "fee_vnd: -5"), NULL, &cfg, &err) == -1);
    CHECK(has(&err, "key 'fee_vnd'"));
    CHECK(load_in_tmp(ward, proc_with("fee_vnd: 0", "fee_vnd: 0\n    assumed: true"), NULL, &cfg,
                      &err) == -1);
    CHECK(has(&err, "key 'assumption': required when assumed"));
    CHECK(load_in_tmp(ward, proc_with("fee_vnd: 0", "fee_vnd: 0\n    cutoff: \"25:00\""), NULL,
                      &cfg, &err) == -1);
    CHECK(has(&err, "key 'cutoff'"));
    CHECK(load_in_tmp(ward, proc_with("department: TU_PHAP", "department: tu phap"), NULL, &cfg,
                      &err) == -1);
    CHECK(has(&err, "key 'department': expected a code"));
    CHECK(load_in_tmp(ward,
                      proc_with("documents: []",
                                "documents:\n      - {code: A, name: a, required: yes}\n"
                                "      - {code: A, name: b}"),
                      NULL, &cfg, &err) == -1);
    CHECK(has(&err, "key 'required': expected true or false, found 'yes'"));
    CHECK(has(&err, "document 'A' listed twice"));
    CHECK(load_in_tmp(ward,
                      proc_with("documents: []",
                                "documents: []\n    steps:\n"
                                "      - {agency: A, task: t, time_limit: {amount: 3, unit: "
                                "working_hours}}\n"
                                "      - {agency: B, task: t, time_limit: {amount: 3, unit: "
                                "working_hours}}"),
                      NULL, &cfg, &err) == -1);
    CHECK(has(&err, "the steps take 6, more than processing_time 4"));
    CHECK(load_in_tmp(ward, "procedures: []\n", NULL, &cfg, &err) == -1);
    CHECK(cfg == NULL);
}

MC_TEST(test_redaction)
{
    mc_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    char buf[256];
    cfg.conninfo = "host=db user=motcua password=s3cret dbname=motcua";
    CHECK_STR(mc_cfg_conninfo_redacted(&cfg, buf, sizeof buf),
              "host=db user=motcua password=*** dbname=motcua");
    cfg.conninfo = "password = 'a b\\' c' host=x";
    CHECK_STR(mc_cfg_conninfo_redacted(&cfg, buf, sizeof buf), "password=*** host=x");
    cfg.conninfo = "postgresql://motcua:s3cret@db.example:5432/motcua?sslmode=require";
    CHECK_STR(mc_cfg_conninfo_redacted(&cfg, buf, sizeof buf),
              "postgresql://motcua:***@db.example:5432/motcua?sslmode=require");
    cfg.conninfo = "postgres://u@h/d?password=s3cret&connect_timeout=2";
    CHECK_STR(mc_cfg_conninfo_redacted(&cfg, buf, sizeof buf),
              "postgres://u@h/d?password=***&connect_timeout=2");
    cfg.conninfo = "dbname=motcua";
    CHECK_STR(mc_cfg_conninfo_redacted(&cfg, buf, sizeof buf), "dbname=motcua");
    cfg.conninfo = "password='unterminated";
    CHECK(strstr(mc_cfg_conninfo_redacted(&cfg, buf, sizeof buf), "unterminated") == NULL);
    cfg.conninfo = "";
    CHECK_STR(mc_cfg_conninfo_redacted(&cfg, buf, sizeof buf), "");
    /* truncation never leaves the buffer unterminated */
    cfg.conninfo = "host=a-very-long-host-name password=s3cret";
    CHECK(strlen(mc_cfg_conninfo_redacted(&cfg, buf, 10)) == 9);
}

/* sample_check - a sample's procedure, ward, channel and required documents */
static void sample_check(const mc_cfg_t *cfg, const char *file, bool channel_ok)
{
    char path[128];
    snprintf(path, sizeof path, "config/samples/%s", file);
    mc_err_t err;
    mc_err_clear(&err);
    mc_yaml_doc_t *doc = NULL;
    if (mc_yaml_load_file(path, &doc, &err) < 0) {
        printf("  %s", err.text);
        CHECK(!"sample loads");
        return;
    }
    const mc_yaml_node_t *d = mc_yaml_get(mc_yaml_root(doc), "dossier");
    char *code = NULL, *ward_code = NULL, *channel = NULL;
    CHECK(mc_yaml_get_string(d, "procedure", true, 32, &code, &err) == 0);
    CHECK(mc_yaml_get_string(d, "ward", true, 16, &ward_code, &err) == 0);
    CHECK(mc_yaml_get_string(d, "channel", true, 16, &channel, &err) == 0);
    const mc_procedure_t *p = code ? mc_catalog_find(cfg->catalog, code) : NULL;
    CHECK(p != NULL);
    CHECK(ward_code && mc_cfg_ward(cfg, ward_code) != NULL);
    if (p && channel) {
        int c = strcmp(channel, "direct") == 0   ? MC_CHANNEL_DIRECT
                : strcmp(channel, "online") == 0 ? MC_CHANNEL_ONLINE
                                                 : MC_CHANNEL_POSTAL;
        CHECK(((p->channels & MC_CHANNEL_BIT(c)) != 0) == channel_ok);
        /* every required document of the procedure is handed in */
        const mc_yaml_node_t *docs = mc_yaml_get(d, "documents");
        for (size_t i = 0; docs && i < p->n_documents; i++) {
            bool found = !p->documents[i].required;
            for (size_t k = 0; !found && k < docs->count; k++) {
                const mc_yaml_node_t *t = mc_yaml_get(docs->items[k], "type");
                found = t && strcmp(t->value, p->documents[i].code) == 0;
            }
            if (!found)
                printf("  %s lacks %s\n", file, p->documents[i].code);
            CHECK(found);
        }
    }
    free(code);
    free(ward_code);
    free(channel);
    mc_yaml_destroy(&doc);
}

MC_TEST(test_samples_match_catalog)
{
    mc_err_t err;
    mc_err_clear(&err);
    mc_cfg_t *cfg = NULL;
    REQUIRE(mc_cfg_load("config/motcua.yaml", &cfg, &err) == 0);
    static const char *const good[] = {"khai-sinh.yaml",          "thuong-tru.yaml",
                                       "lien-thong-khai-sinh.yaml", "trich-luc-khai-sinh.yaml",
                                       "chung-thuc-ban-sao.yaml",   "giay-chung-nhan-qsdd.yaml",
                                       "noi-quy-lao-dong.yaml",     "invalid-citizen-id.yaml"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        sample_check(cfg, good[i], true);
    sample_check(cfg, "invalid-channel.yaml", false);
    mc_cfg_destroy(&cfg);
}

/* retention: and notify.sms_ascii: defaults, values, bounds */
MC_TEST(test_retention_and_sms_ascii)
{
    mc_err_t err;
    mc_cfg_t *cfg = NULL;
    REQUIRE(load_in_tmp(ward, NULL, NULL, &cfg, &err) == 0);
    CHECK_INT(cfg->retention.key_days, 30);
    CHECK_INT(cfg->retention.spool_days, 30);
    CHECK_INT(cfg->retention.dossier_years, 10);
    CHECK_INT(cfg->retention.batch, 500);
    CHECK_STR(cfg->retention.export_dir, "/var/lib/motcua/archive");
    CHECK(!cfg->notify.sms_ascii);
    mc_cfg_destroy(&cfg);
    char text[1024];
    snprintf(text, sizeof text,
             "retention: {key_days: 7, spool_days: 3, dossier_years: 20, batch: 50,"
             " export_dir: /srv/archive}\nnotify: {sms_ascii: true}\n%s", ward);
    REQUIRE(load_in_tmp(text, NULL, NULL, &cfg, &err) == 0);
    CHECK_INT(cfg->retention.key_days, 7);
    CHECK_INT(cfg->retention.spool_days, 3);
    CHECK_INT(cfg->retention.dossier_years, 20);
    CHECK_INT(cfg->retention.batch, 50);
    CHECK_STR(cfg->retention.export_dir, "/srv/archive");
    CHECK(cfg->notify.sms_ascii);
    mc_cfg_destroy(&cfg);
    static const char *const bad[] = {"retention: {key_days: 0}", "retention: {dossier_years: 101}",
                                      "retention: {batch: 0}", "retention: {keep: 1}",
                                      "notify: {sms_ascii: yes}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "%s\n%s", bad[i], ward);
        mc_err_clear(&err);
        CHECK(load_in_tmp(text, NULL, NULL, &cfg, &err) == -1);
        CHECK(cfg == NULL);
        CHECK(has(&err, "motcua.yaml:1:"));
    }
}

/* main - make a scratch directory, run every test, clean up */
MC_TEST(test_rating_url)
{
    mc_err_t err;
    mc_cfg_t *cfg = NULL;
    /* absent: the documented placeholder */
    REQUIRE(load_in_tmp(ward, NULL, NULL, &cfg, &err) == 0);
    CHECK_STR(cfg->notify.rating_url, "https://dichvucong.example.vn/danh-gia");
    mc_cfg_destroy(&cfg);
    /* the shipped file names one too */
    REQUIRE(mc_cfg_load("config/motcua.yaml", &cfg, &err) == 0);
    CHECK(strncmp(cfg->notify.rating_url, "https://", 8) == 0);
    mc_cfg_destroy(&cfg);

    char text[1024];
    snprintf(text, sizeof text, "notify: {rating_url: \"http://danhgia.kimlien.vn/k?x=1\"}\n%s", ward);
    REQUIRE(load_in_tmp(text, NULL, NULL, &cfg, &err) == 0);
    CHECK_STR(cfg->notify.rating_url, "http://danhgia.kimlien.vn/k?x=1");
    mc_cfg_destroy(&cfg);

    static const char *const bad[] = {"ftp://danhgia.vn", "danhgia.vn/khao-sat", "https://",
                                      "https://a b.vn", "https://danhgia.vn/#x", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "notify: {rating_url: \"%s\"}\n%s", bad[i], ward);
        CHECK(load_in_tmp(text, NULL, NULL, &cfg, &err) == -1);
        CHECK(cfg == NULL);
        CHECK(has(&err, "motcua.yaml:1:"));
        CHECK(has(&err, "key 'rating_url': expected https:// or http://"));
    }
    snprintf(text, sizeof text, "notify: {rating_url: 7}\n%s", ward);
    CHECK(load_in_tmp(text, NULL, NULL, &cfg, &err) == -1);
    CHECK(has(&err, "rating_url"));
}

int main(void)
{
    unsetenv("MOTCUA_DATABASE");
    strcpy(tmpdir, "/tmp/test_config_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    mc_test_run(test_real_config);
    mc_test_run(test_real_catalog);
    mc_test_run(test_defaults_and_env);
    mc_test_run(test_ranges_and_wards);
    mc_test_run(test_rules_and_provinces);
    mc_test_run(test_events_stay_on_this_host);
    mc_test_run(test_events_across_hosts);
    mc_test_run(test_connect_lists);
    mc_test_run(test_multi_host_conninfo_warning);
    mc_test_run(test_errors_across_files);
    mc_test_run(test_catalog_errors);
    mc_test_run(test_redaction);
    mc_test_run(test_samples_match_catalog);
    mc_test_run(test_rating_url);
    mc_test_run(test_retention_and_sms_ascii);
    static const char *const files[] = {"motcua.yaml", "procedures.yaml", "calendar.yaml"};
    for (size_t i = 0; i < 3; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", tmpdir, files[i]);
        unlink(path);
    }
    rmdir(tmpdir);
    return mc_test_done("test_config");
}
