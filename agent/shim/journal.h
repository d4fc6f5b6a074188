/* journal.h: logging.driver journald for the shim. libsystemd is not linked
 * (the shim stays small and starts fast for everyone else): journal_open()
 * dlopen()s libsystemd.so.0 and looks up sd_journal_sendv only for replicas
 * that ask for the journal. Each record becomes one journal entry with
 * MESSAGE=, PRIORITY= (6 stdout, 3 stderr), SYSLOG_IDENTIFIER=<service>,
 * BERTH_SERVICE=<service>, BERTH_REPLICA=<index>, BERTH_STREAM=, and
 * BERTH_PARTIAL=1 on a P record (a piece of a line longer than 16 KiB).
 * journal_open() fails when journald's socket is missing (sd_journal_sendv
 * would drop everything silently); if journald goes away later, libsystemd
 * drops entries silently, as for every other journal client. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "logfile.h"

/* replica_id: "<service>-<index>". 0, or -errno with journal_error() set. */
int journal_open(const char *replica_id);
/* Why journal_open failed (a static string). */
const char *journal_error(void);
/* A logfile_ops.record callback: 0, or -errno (the logfile then falls back to files). */
int journal_record(void *userdata, enum log_stream s, bool partial, const char *content, size_t len);
