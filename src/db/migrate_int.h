/* migrate_int.h - the migrations embedded at build time (embed_migrations.cmake). */
#ifndef FF_DB_MIGRATE_INT_H
#define FF_DB_MIGRATE_INT_H

#include <stddef.h>

struct db__migration {
    int dialect;      /* enum db_dialect */
    int version;      /* NNNN */
    const char *name; /* "NNNN_name" */
    const char *sql;  /* NUL-terminated */
    size_t len;
};

/* Sorted by dialect, then version; ends with a zeroed entry. */
extern const struct db__migration db__migrations[];
extern const int db__migrations_count;

#endif
