/*
 * mc_migrations - the schema migrations, embedded at build time from
 * common/store/migrations/NNNN_name.sql (deploy/embed-sql.sh). Versions ascend;
 * a migration, once released, is never edited: add a new one (unless the
 * rewrite gives the very same schema: docs/store.md "Migrations on a live
 * store"). A file whose first line is `-- motcua:no-transaction` runs
 * statement by statement (mc_store_migrate.c).
 */
#ifndef MC_MIGRATIONS_H
#define MC_MIGRATIONS_H

typedef struct mc_migration {
    int         version; /* NNNN from the file name */
    const char *name;    /* file name without .sql */
    const char *sql;     /* the whole file */
} mc_migration_t;

extern const mc_migration_t mc_migrations[];
extern const int            mc_migrations_count;

#endif
