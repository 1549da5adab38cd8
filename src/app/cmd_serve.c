#include <stdio.h>

#include "app/commands.h"

int cmd_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "framefit serve: not implemented yet\n");
    return 1;
}
