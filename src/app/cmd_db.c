#include <stdio.h>

#include "app/commands.h"

static int todo(const char *what)
{
    fprintf(stderr, "framefit %s: not implemented yet\n", what);
    return 1;
}

int cmd_migrate(int argc, char **argv) { (void)argc; (void)argv; return todo("migrate"); }
int cmd_seed(int argc, char **argv) { (void)argc; (void)argv; return todo("seed"); }
int cmd_backup(int argc, char **argv) { (void)argc; (void)argv; return todo("backup"); }
int cmd_restore(int argc, char **argv) { (void)argc; (void)argv; return todo("restore"); }
