/* log.h: the programs' logging (berthd, berthctl). Library code in lib/ logs
 * at most at debug level and returns -errno instead; programs log once, at the
 * top, with log_error_errno(r, "Failed to ...: %m").
 *
 * Output goes to stderr as "berthd[PID]: LEVEL: message" (journald adds its own
 * prefix under systemd, so the prefix is left out when JOURNAL_STREAM is set). */
#pragma once

#include <errno.h>
#include <stdarg.h>

#include "macro.h"

enum log_level {
        LOG_LEVEL_ERROR = 3,
        LOG_LEVEL_WARNING = 4,
        LOG_LEVEL_NOTICE = 5,
        LOG_LEVEL_INFO = 6,
        LOG_LEVEL_DEBUG = 7,
};

void log_setup(const char *program);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warning", "notice", "info", "debug". Returns -EINVAL otherwise. */
int log_level_from_string(const char *s);

/* Logs and returns -abs(error) (or -EIO when error is 0); %m prints strerror(error). */
int log_internal(enum log_level level, int error, const char *file, int line, const char *fmt, ...)
        _printf_(5, 6);

#define log_full_errno(level, error, ...) log_internal((level), (error), __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_LEVEL_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_LEVEL_ERROR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...) log_full_errno(LOG_LEVEL_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_LEVEL_INFO, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_LEVEL_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_LEVEL_ERROR, (e), __VA_ARGS__)
