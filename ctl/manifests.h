/* manifests.h: reading the manifests named on berthctl's command line, as
 * `validate` and `deploy` both do: a directory stands for its *.yaml and
 * *.yml files (sorted, the order berthd reads its directory in), every file
 * is parsed with the library's parser, and a service defined in two files
 * is an error. */
#pragma once

#include <stddef.h>

#include "diag.h"
#include "manifest.h"
#include "model.h"

/* Appends arg, or the manifests of directory arg, to files. An unreadable
 * or empty directory is a diagnostic and -errno. */
int manifest_args_expand(const char *arg, struct strv *files, struct diag_list *diags);

/* Parses path and appends its services to all. Returns 0 when valid; errors
 * go to diags. *ret_n (optional): how many services the file defines. */
int manifest_load(const char *path, struct service_list *all, struct diag_list *diags, size_t *ret_n);
