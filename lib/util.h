/* util.h: small utilities shared by berthd, berthctl and the tests:
 * string lists, whole-file reads with a size cap, atomic file writes,
 * time helpers. No policy here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "model.h"

/* struct strv helpers (the vector stays NULL-terminated). */
int strv_push(struct strv *l, const char *s);
void strv_done(struct strv *l);
bool strv_contains(const struct strv *l, const char *s);
bool strv_equal(const struct strv *a, const struct strv *b);
int strv_copy(struct strv *dst, const struct strv *src);

/* Reads a whole file into a NUL-terminated buffer. -EFBIG when larger than max. */
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size);
/* Reads all of fd (until EOF) into a NUL-terminated buffer, with the same cap. */
int read_full_fd(int fd, size_t max, char **ret, size_t *ret_size);

/* Writes data to path atomically: temp file in the same directory, fsync,
 * rename over path, fsync the directory. mode is the new file's mode. */
int write_file_atomic(const char *path, const void *data, size_t size, unsigned mode);

/* The same without fsync: atomic against crashes of the writer, durable
 * only once the file system is synced; no data flush on ext4 either
 * (lib/replace.h). */
int write_file_replace(const char *path, const void *data, size_t size, unsigned mode);

/* mkdir -p with the given mode; existing directories are fine. */
int mkdir_p(const char *path, unsigned mode);

/* Sets O_NONBLOCK. */
int fd_nonblock(int fd);

/* Removes the files of a directory (not recursively) and the directory. */
int rm_dir_files(const char *dir);

/* Levenshtein distance, capped: returns cap+1 when the distance exceeds cap. */
unsigned edit_distance(const char *a, const char *b, unsigned cap);

/* Microseconds of CLOCK_REALTIME / CLOCK_MONOTONIC. */
uint64_t now_realtime_usec(void);
uint64_t now_monotonic_usec(void);

/* RFC 3339 UTC with second precision ("2026-11-26T19:00:00Z"); buf >= 32. */
char *format_rfc3339(uint64_t realtime_usec, char *buf, size_t size);
