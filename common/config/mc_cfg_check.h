/*
 * mc_cfg_check - the cross-file configuration check: what mc_cfg_load
 * cannot judge alone because it needs the files only some daemons read
 * (routing.yaml with agencies.yaml: does every desk and agency have an
 * entry?) and the secret files the daemons open. `motcua-admin config
 * check` runs it, and so may every daemon's --check.
 *
 * Contract: nothing is printed; every problem is appended to err (one line
 * each, "file: what", as mc_cfg_load writes them); nothing exits. It does
 * not run the daemons' own --check (the caller may: motcua-admin does).
 */
#ifndef MC_CFG_CHECK_H
#define MC_CFG_CHECK_H

#include "mc_cfg.h"
#include "mc_err.h"

/*
 * mc_cfg_check_files - on a loaded configuration: routing.yaml loads, every
 * desk it routes any procedure of any ward to and every later step's agency
 * has an agencies.yaml entry, and the secret files (lienthong's server key,
 * the SMS token, the SMTP password when configured) open as their daemon
 * opens them (mode 0600). Returns the number of problems (0: none).
 */
int mc_cfg_check_files(const mc_cfg_t *cfg, mc_err_t *err);

/*
 * mc_cfg_check_warnings - what is allowed but risky: intake without CURVE
 * (intake.plaintext) bound on an address other hosts can reach; intake or
 * lienthong bound on a wildcard (host "*" or 0.0.0.0) without an explicit
 * intake.connect / lienthong.connect list; a database conninfo naming
 * several hosts without target_session_attrs=read-write (it would not
 * follow the primary after a failover). Each appended to warn; returns
 * their number.
 */
int mc_cfg_check_warnings(const mc_cfg_t *cfg, mc_err_t *warn);

/*
 * mc_cfg_check_all - load config_path (mc_cfg_load) and run
 * mc_cfg_check_files: 0 when both pass, -1 with every problem in err.
 */
int mc_cfg_check_all(const char *config_path, mc_err_t *err);

#endif
