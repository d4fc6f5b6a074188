/* output.h: how berthctl shows things: aligned tables, kubectl-style ages,
 * colors (only on a terminal, never with NO_COLOR), and the text of the
 * replica, event and deploy lines. Everything here is pure (input: JSON
 * from berthd and "now"), so tests/test-ctl.c checks the exact output. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#define ANSI_RED "\033[31m"
#define ANSI_GREEN "\033[32m"
#define ANSI_YELLOW "\033[33m"
#define ANSI_RESET "\033[0m"

/* Whether to color what goes to fd: a terminal, NO_COLOR unset or empty
 * (https://no-color.org), TERM not "dumb". */
bool output_use_color(int fd);
/* The color of a replica state: running green; backoff, failed red;
 * stopping, killing yellow; others none (NULL). */
const char *state_color(const char *state);

/* ---- time -------------------------------------------------------------- */

#define AGE_MAX 32
/* A duration as kubectl prints ages (HumanDuration): 5s, 119s, 3m12s, 12m,
 * 2h5m, 10h, 3d4h, 30d, 2y45d (but hours from 1 h on, where kubectl says
 * "125m" up to 3 h); a negative one is "0s" (clock skew), "<invalid>"
 * beyond a second. */
char *format_age(int64_t usec, char *buf, size_t size);
/* RFC 3339 as berthd writes it: "2026-11-26T19:00:00Z", with an optional
 * fraction and a "Z" or "+hh:mm" offset. -EINVAL otherwise. */
int parse_rfc3339(const char *s, uint64_t *ret_usec);
/* The age of an RFC 3339 time at now; "-" when s is NULL or not a time. */
char *format_age_since(const char *s, uint64_t now_usec, char *buf, size_t size);

/* ---- tables ------------------------------------------------------------ */

struct table;
/* A table with these column headers (NULL-terminated). */
struct table *table_new(const char *const *headers);
struct table *table_free(struct table *t);
/* Fills the next cell (rows wrap after the last column); text NULL: "-".
 * color (ANSI_*, may be NULL) applies when printing with color. */
int table_add(struct table *t, const char *text, const char *color);
int table_addf(struct table *t, const char *color, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
size_t table_rows(const struct table *t);
/* Columns left-aligned, three spaces apart, the last one not padded, no
 * trailing spaces. Width counts characters (UTF-8), not bytes. */
int table_print(const struct table *t, FILE *f, bool color);

/* ---- JSON access ------------------------------------------------------- */

/* The string member key of o, NULL when absent, null or not a string. */
const char *json_get_str(struct json_object *o, const char *key);
/* The integer member key of o; false when absent, null or not an integer. */
bool json_get_int(struct json_object *o, const char *key, int64_t *ret);
/* Pretty JSON (two spaces, "/" unescaped) and a newline. */
void json_print_pretty(FILE *f, struct json_object *o);

/* ---- replicas (berthctl ps) -------------------------------------------- */

/* The STATE column: the state, and for backoff "backoff (next in 3s)". */
char *format_replica_state(struct json_object *replica, uint64_t now_usec, char *buf, size_t size);
/* The LAST EXIT column from replica.last_exit: "Error (1) 2m ago",
 * "Signaled (SIGKILL) 5s ago", "OOMKilled 3m12s ago", "Completed 1h ago";
 * "-" when it never exited. */
char *format_last_exit(struct json_object *replica, uint64_t now_usec, char *buf, size_t size);

/* ---- events (berthctl events) ------------------------------------------ */

/* "2026-11-26T19:00:00.123Z  ReplicaExited      web-1  exited with status 1"
 * (time to the millisecond, UTC; service "-" when the event is about none).
 * Returns a new string, NULL on out of memory. */
char *format_event(struct json_object *event);

/* ---- deploy changes ---------------------------------------------------- */

/* "web: created (revision 1, 3 replicas)", "web: unchanged"; dry_run appends
 * " (dry run)". Returns a new string, NULL on out of memory. */
char *format_change(struct json_object *change, bool dry_run);
