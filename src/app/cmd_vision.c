#include <stdio.h>

#include "app/commands.h"

int cmd_vision(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "framefit vision: not implemented yet\n");
    return 1;
}
