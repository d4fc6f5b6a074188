/* journal.c: records to the systemd journal through a dlopen'ed libsystemd
 * (see journal.h). */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "journal.h"
#include "macro.h"

static int (*sendv)(const struct iovec *iov, int n);
static char ident[320], service[320], replica[64];
static char error[256];
static char message[8 + LOGFILE_LINE_MAX]; /* "MESSAGE=" + content */

const char *journal_error(void) {
        return error;
}

int journal_open(const char *replica_id) {
        const char *dash = strrchr(replica_id, '-');
        void *h;

        if (!dash || dash == replica_id || !dash[1]) {
                snprintf(error, sizeof error, "replica id %s is not <service>-<index>", replica_id);
                return -EINVAL;
        }
        /* sd_journal_sendv() silently drops entries when journald is not
         * running (ENOENT on its socket): look first */
        if (access("/run/systemd/journal/socket", F_OK) < 0) {
                snprintf(error, sizeof error, "journald is not running (/run/systemd/journal/socket: %s)",
                         strerror(errno));
                return -ENOENT;
        }
        /* RTLD_NOW: a missing symbol shows here, not at the first record */
        h = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                snprintf(error, sizeof error, "cannot load libsystemd.so.0: %s", dlerror());
                return -ENOENT;
        }
        sendv = (int (*)(const struct iovec *, int)) dlsym(h, "sd_journal_sendv");
        if (!sendv) {
                snprintf(error, sizeof error, "libsystemd.so.0 has no sd_journal_sendv");
                dlclose(h);
                return -ENOENT;
        }
        snprintf(ident, sizeof ident, "SYSLOG_IDENTIFIER=%.*s", (int) (dash - replica_id), replica_id);
        snprintf(service, sizeof service, "BERTH_SERVICE=%.*s", (int) (dash - replica_id), replica_id);
        snprintf(replica, sizeof replica, "BERTH_REPLICA=%s", dash + 1);
        return 0;
}

int journal_record(void *userdata, enum log_stream s, bool partial, const char *content, size_t len) {
        struct iovec iov[8];
        int n = 0, r;

        len = MIN(len, (size_t) LOGFILE_LINE_MAX);
        memcpy(message, "MESSAGE=", 8);
        memcpy(message + 8, content, len);
        iov[n++] = (struct iovec) { message, 8 + len };
        iov[n++] = s == LOG_STDOUT ? (struct iovec) { (char *) "PRIORITY=6", 10 } : (struct iovec) { (char *) "PRIORITY=3", 10 };
        iov[n++] = (struct iovec) { ident, strlen(ident) };
        iov[n++] = (struct iovec) { service, strlen(service) };
        iov[n++] = (struct iovec) { replica, strlen(replica) };
        iov[n++] = s == LOG_STDOUT ? (struct iovec) { (char *) "BERTH_STREAM=stdout", 19 }
                                   : (struct iovec) { (char *) "BERTH_STREAM=stderr", 19 };
        if (partial)
                iov[n++] = (struct iovec) { (char *) "BERTH_PARTIAL=1", 15 };
        r = sendv(iov, n);
        return r < 0 ? r : 0;
}
