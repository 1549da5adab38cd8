/* backup.c - framefit backup / restore: SQLite's online backup API, or
 * pg_dump / pg_restore (custom format) for PostgreSQL. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "db/db.h"
#include "db/db_int.h"

extern char **environ;

/* Runs argv[0] (found on PATH) and waits; FF_OK on exit status 0. */
static enum ff_err run_tool(char *const argv[])
{
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
    if (rc != 0)
        return db__fail(FF_EIO, "cannot run %s: %s (is postgresql-client installed?)", argv[0],
                        strerror(rc));
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return db__fail(FF_EIO, "waiting for %s: %s", argv[0], strerror(errno));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return db__fail(FF_EDB, "%s failed (exit status %d); see its messages above", argv[0],
                        WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return FF_OK;
}

/* Closes idle connections so none keeps plans of the replaced schema. */
static enum ff_err drop_idle(struct db *db)
{
    enum ff_err err = FF_OK;
    pthread_mutex_lock(&db->mu);
    if (db->st.in_use)
        err = db__fail(FF_ECONFLICT, "restore needs the database idle (%d connections in use)",
                       db->st.in_use);
    struct db_conn *list = err ? NULL : db->idle;
    if (!err) {
        db->idle = NULL;
        for (struct db_conn *c = list; c; c = c->next_idle)
            db->st.open--;
    }
    pthread_mutex_unlock(&db->mu);
    while (list) {
        struct db_conn *c = list;
        list = c->next_idle;
        if (db->dialect == DB_SQLITE)
            db__sqlite_disconnect(c);
        else
            db__pg_disconnect(c);
        ff_free(c);
    }
    return err;
}

enum ff_err db_backup(struct db *db, const char *dest)
{
    if (!dest || !*dest)
        return db__fail(FF_EINVAL, "backup needs a destination file");
    if (access(dest, F_OK) == 0)
        return db__fail(FF_ECONFLICT, "%s exists; choose a new file for the backup", dest);
    if (db->dialect == DB_PG) {
        char *argv[] = {"pg_dump", "--format=custom", "--no-owner", "--file", (char *)dest,
                        "--dbname", db->url, NULL};
        return run_tool(argv);
    }
    struct db_conn *c;
    enum ff_err err = db_acquire(db, &c);
    if (err)
        return err;
    err = db__sqlite_backup(db, c, dest, false);
    db_release(c);
    return err;
}

enum ff_err db_restore(struct db *db, const char *src)
{
    if (!src || !*src)
        return db__fail(FF_EINVAL, "restore needs a source file");
    if (access(src, R_OK) != 0)
        return db__fail(FF_EIO, "cannot read %s: %s", src, strerror(errno));
    enum ff_err err = drop_idle(db);
    if (err)
        return err;
    if (db->dialect == DB_PG) {
        char *check[] = {"pg_restore", "--list", "--file", "/dev/null", (char *)src, NULL};
        err = run_tool(check);
        if (err)
            return db__fail(FF_ECORRUPT, "%s is not a pg_dump custom-format backup", src);
        char *argv[] = {"pg_restore", "--clean", "--if-exists", "--no-owner",
                        "--single-transaction", "--exit-on-error", "--dbname", db->url,
                        (char *)src, NULL};
        return run_tool(argv);
    }
    struct db_conn *c;
    err = db_acquire(db, &c);
    if (err)
        return err;
    err = db__sqlite_backup(db, c, src, true);
    db_release(c);
    return err;
}
