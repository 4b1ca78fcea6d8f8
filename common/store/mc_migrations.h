/*
 * mc_migrations - the schema migrations, embedded at build time from
 * common/store/migrations/NNNN_name.sql (deploy/embed-sql.sh). Versions ascend;
 * a migration, once released, is never edited: add a new one.
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
