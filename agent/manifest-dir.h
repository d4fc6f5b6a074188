/* manifest-dir.h: the manifests directory as a source of desired state.
 *
 * Reads every *.yaml / *.yml file of the directory (sorted by name) and says,
 * per file, either "these services" or "this file is invalid" (with the
 * errors). The caller keeps the services of an invalid file as they were:
 * a typo in an edit never stops a running service. A service name defined
 * in two files belongs to the first file (by name); the second file is
 * reported invalid. */
#pragma once

#include "diag.h"
#include "manifest.h"

struct dir_file {
        char *path;
        bool valid;
        struct service_list services; /* valid only */
};

struct dir_scan {
        struct dir_file *files;
        size_t n_files;
        struct diag_list diags; /* errors of every invalid file */
        int error;              /* reading the directory itself failed: -errno */
};

/* Scans dir. Always fills ret (check ret->error); returns -ENOMEM only. */
int manifest_dir_scan(const char *dir, struct dir_scan *ret);
void dir_scan_done(struct dir_scan *s);
