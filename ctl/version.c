/* version.c: `berthctl version`. Prints berthctl's version; once the control
 * API exists it also asks berthd for its own. */
#include "config.h"

#include <stdio.h>

#include "berthctl.h"
#include "macro.h"

int cmd_version(const struct global_options *g, int argc, char **argv) {
        if (argc > 1 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                printf("Usage: berthctl version\n\nPrint the version of berthctl.\n");
                return EXIT_OK;
        }
        printf("berthctl %s\n", BERTH_VERSION);
        return EXIT_OK;
}
