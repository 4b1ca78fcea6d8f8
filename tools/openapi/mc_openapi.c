/*
 * mc-openapi - write docs/openapi.json: the OpenAPI 3.0 description of the
 * REST door, generated from the protobuf-c descriptors (common/wire/mc_openapi.h).
 *
 *   build/tools/mc-openapi [FILE]    FILE, or standard output
 *
 * A build tool, not installed. `make openapi` regenerates docs/openapi.json;
 * tests/unit/test_openapi fails while the committed file differs.
 * Exit: 0 written, 1 write error, 64 usage.
 */
#include <stdio.h>
#include <string.h>

#include "mc_openapi.h"

/* main - the document onto FILE (written whole, then renamed) or stdout */
int main(int argc, char **argv)
{
    if (argc > 2 || (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))) {
        fprintf(argc > 2 ? stderr : stdout, "usage: mc-openapi [FILE]\n");
        return argc > 2 ? 64 : 0;
    }
    if (argc == 1)
        return mc_openapi_write(stdout) == 0 && fflush(stdout) == 0 ? 0 : 1;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        perror(tmp);
        return 1;
    }
    int rc = mc_openapi_write(f);
    if (fclose(f) != 0 || rc != 0 || rename(tmp, argv[1]) != 0) {
        fprintf(stderr, "mc-openapi: cannot write %s\n", argv[1]);
        remove(tmp);
        return 1;
    }
    return 0;
}
