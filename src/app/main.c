/* main.c - the framefit binary: one entry point, many subcommands. */
#include <stdio.h>
#include <string.h>

#include "app/commands.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static int cmd_version(int argc, char **argv);

static const struct command commands[] = {
    {"serve", cmd_serve, "run the HTTP API server (the default)"},
    {"migrate", cmd_migrate, "apply database migrations and exit"},
    {"seed", cmd_seed, "load the demo catalog (idempotent)"},
    {"backup", cmd_backup, "write a consistent backup of the database to DEST"},
    {"restore", cmd_restore, "replace the database with the backup in SRC"},
    {"worker", cmd_worker, "run background job workers (no HTTP) on the database"},
    {"vision", cmd_vision, "face detection and landmarks from the command line"},
    {"frames", cmd_frames, "draw the try-on frames (generate PNGs, try one on a photo)"},
    {"users", cmd_users, "create-admin EMAIL: bootstrap an administrator (password on stdin)"},
    {"keys", cmd_keys, "rotate: add a new access-token signing key"},
    {"tryon-expire", cmd_tryon_expire, "delete expired try-on sessions (photos, renders)"},
    {"version", cmd_version, "print the version and exit"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: framefit [COMMAND] [ARGS...]\n\n"
                 "The framefit eyewear try-on and commerce backend.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'framefit COMMAND --help' for a command's options.\n"
                 "With no command, framefit serves (see 'framefit serve --help').\n");
}

int cmd_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return 1;
    }
    return 0;
}

static int cmd_version(int argc, char **argv)
{
    if (cmd_wants_help(argc, argv)) {
        printf("usage: framefit version\n\nPrints the framefit version.\n");
        return 0;
    }
    printf("framefit %s\n", FF_VERSION);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return cmd_serve(argc, argv);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version"))
        return cmd_version(1, argv);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    if (argv[1][0] == '-')  /* options only: serve with them */
        return cmd_serve(argc, argv);
    fprintf(stderr, "framefit: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
