/* manifest.h: manifests (YAML files of `kind: Service` documents, or the
 * canonical JSON of the control API) in, canonical model out.
 *
 * All errors of the input are collected into a diag_list, each one line
 * "FILE:LINE:COL: error: PATH: message". Nothing is returned unless the
 * whole input is valid: a manifest is accepted or rejected as a whole. */
#pragma once

#include <stddef.h>

#include "diag.h"
#include "model.h"

enum {
        /* Input is canonical JSON (what `validate -o json` and the API emit):
         * bare integers are milliseconds for durations and millicores for cpu. */
        MANIFEST_CANONICAL = 1 << 0,
};

#define MANIFEST_MAX_SIZE (1024 * 1024)

struct service_list {
        struct service **v;
        size_t n;
};

void service_list_done(struct service_list *l);
/* Appends s (taking ownership). */
int service_list_push(struct service_list *l, struct service *s);

/* Parses buf; file names the input in errors. Returns 0 and fills ret when
 * valid; -EINVAL with diags filled when not; -ENOMEM. Empty documents are
 * skipped; a service name defined twice in the input is an error. */
int manifest_parse_buffer(const char *buf, size_t len, const char *file, unsigned flags, struct service_list *ret,
                          struct diag_list *diags);

/* Reads and parses a file (at most MANIFEST_MAX_SIZE bytes). I/O errors
 * become one diagnostic too ("FILE: error: cannot read: ...") and -errno. */
int manifest_parse_file(const char *path, unsigned flags, struct service_list *ret, struct diag_list *diags);

/* Whether a directory entry is a manifest berthd/berthctl read from a
 * directory: *.yaml or *.yml, not hidden, not an editor backup. */
bool manifest_filename_ok(const char *name);
