/* log.c: see log.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static const char *log_program = "berth";
static enum log_level log_max = LOG_LEVEL_INFO;
static bool log_plain;

static const char *const level_names[] = {
        [LOG_LEVEL_ERROR] = "error",  [LOG_LEVEL_WARNING] = "warning", [LOG_LEVEL_NOTICE] = "notice",
        [LOG_LEVEL_INFO] = "info",    [LOG_LEVEL_DEBUG] = "debug",
};

void log_setup(const char *program) {
        log_program = program;
        log_plain = getenv("JOURNAL_STREAM") != NULL;
}

void log_set_level(enum log_level level) {
        log_max = level;
}

enum log_level log_get_level(void) {
        return log_max;
}

int log_level_from_string(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (level_names[i] && streq(level_names[i], s))
                        return (int) i;
        return -EINVAL;
}

int log_internal(enum log_level level, int error, const char *file, int line, const char *fmt, ...) {
        int saved = errno;
        if (error < 0)
                error = -error;

        if (level <= log_max) {
                char buf[2048];
                va_list ap;

                errno = error; /* %m prints the error we were given */
                va_start(ap, fmt);
                vsnprintf(buf, sizeof buf, fmt, ap);
                va_end(ap);

                if (log_plain)
                        fprintf(stderr, "<%d>%s\n", (int) level, buf);
                else if (log_max >= LOG_LEVEL_DEBUG)
                        fprintf(stderr, "%s[%d]: %s: %s (%s:%d)\n", log_program, (int) getpid(),
                                level_names[level], buf, file, line);
                else
                        fprintf(stderr, "%s[%d]: %s: %s\n", log_program, (int) getpid(), level_names[level], buf);
        }
        errno = saved;
        return error > 0 ? -error : -EIO;
}
