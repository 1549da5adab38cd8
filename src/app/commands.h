/* commands.h - the subcommands of the framefit binary.
 *
 * Each returns a process exit code: 0 success, 1 failure, 2 usage error.
 * Each handles its own --help. */
#ifndef FF_APP_COMMANDS_H
#define FF_APP_COMMANDS_H

int cmd_serve(int argc, char **argv);   /* app/cmd_serve.c */
int cmd_migrate(int argc, char **argv); /* app/cmd_db.c */
int cmd_seed(int argc, char **argv);    /* app/cmd_db.c */
int cmd_backup(int argc, char **argv);  /* app/cmd_db.c */
int cmd_restore(int argc, char **argv); /* app/cmd_db.c */
int cmd_vision(int argc, char **argv);  /* app/cmd_vision.c */
int cmd_worker(int argc, char **argv);  /* app/cmd_worker.c */
int cmd_frames(int argc, char **argv);  /* app/cmd_frames.c */
int cmd_users(int argc, char **argv);   /* app/cmd_accounts.c */
int cmd_keys(int argc, char **argv);    /* app/cmd_accounts.c */
int cmd_tryon_expire(int argc, char **argv); /* app/cmd_tryon.c */

/* True when argv has -h or --help before any "--". */
int cmd_wants_help(int argc, char **argv);

#endif
