/* util.c: see util.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "util.h"
#include "replace.h"

int strv_push(struct strv *l, const char *s) {
        char **v = realloc(l->v, (l->n + 2) * sizeof(char *));
        if (!v)
                return -ENOMEM;
        l->v = v;
        v[l->n] = strdup(s);
        if (!v[l->n]) {
                v[l->n] = NULL;
                return -ENOMEM;
        }
        v[++l->n] = NULL;
        return 0;
}

void strv_done(struct strv *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
        l->v = NULL;
        l->n = 0;
}

bool strv_contains(const struct strv *l, const char *s) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->v[i], s))
                        return true;
        return false;
}

bool strv_equal(const struct strv *a, const struct strv *b) {
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (!streq(a->v[i], b->v[i]))
                        return false;
        return true;
}

int strv_copy(struct strv *dst, const struct strv *src) {
        *dst = (struct strv) {};
        for (size_t i = 0; i < src->n; i++) {
                int r = strv_push(dst, src->v[i]);
                if (r < 0) {
                        strv_done(dst);
                        return r;
                }
        }
        return 0;
}

int read_full_fd(int fd, size_t max, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, alloc = 0;

        for (;;) {
                if (size + 1 >= alloc) { /* full: grow, up to max + 1 bytes of data */
                        size_t n = alloc ? alloc * 2 : 4096;
                        if (n > max + 2)
                                n = max + 2;
                        if (n <= alloc)
                                return -EFBIG;
                        char *p = realloc(buf, n);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        alloc = n;
                }
                ssize_t k = read(fd, buf + size, alloc - size - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                size += (size_t) k;
                if (size > max)
                        return -EFBIG;
        }
        if (!buf && !(buf = malloc(1)))
                return -ENOMEM;
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (S_ISREG(st.st_mode) && (uint64_t) st.st_size > max)
                return -EFBIG;
        return read_full_fd(fd, max, ret, ret_size);
}

static int fsync_parent_dir(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        _cleanup_close_ int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        if (fsync(dfd) < 0)
                return -errno;
        return 0;
}

static int write_file_full(const char *path, const void *data, size_t size, unsigned mode, bool sync) {
        _cleanup_free_ char *tmp = NULL;
        if (asprintf(&tmp, "%s.tmp.%d", path, (int) getpid()) < 0)
                return -ENOMEM;

        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;

        const char *p = data;
        size_t left = size;
        int r = 0;
        while (left > 0) {
                ssize_t k = write(fd, p, left);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                p += k;
                left -= (size_t) k;
        }
        if (r == 0 && sync && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && sync && rename(tmp, path) < 0)
                r = -errno;
        else if (r == 0 && !sync)
                r = rename_replace(tmp, path);
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        return sync ? fsync_parent_dir(path) : 0;
}

int write_file_atomic(const char *path, const void *data, size_t size, unsigned mode) {
        return write_file_full(path, data, size, mode, true);
}

int write_file_replace(const char *path, const void *data, size_t size, unsigned mode) {
        return write_file_full(path, data, size, mode, false);
}

int mkdir_p(const char *path, unsigned mode) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int fd_nonblock(int fd) {
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return -errno;
        return 0;
}

int rm_dir_files(const char *dir) {
        DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        for (struct dirent *de; (de = readdir(d));)
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
        if (rmdir(dir) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

unsigned edit_distance(const char *a, const char *b, unsigned cap) {
        size_t la = strlen(a), lb = strlen(b);
        if (la > 64 || lb > 64)
                return cap + 1;
        unsigned row[65];
        for (size_t j = 0; j <= lb; j++)
                row[j] = (unsigned) j;
        for (size_t i = 1; i <= la; i++) {
                unsigned prev = row[0], best;
                row[0] = (unsigned) i;
                best = row[0];
                for (size_t j = 1; j <= lb; j++) {
                        unsigned cur = row[j];
                        unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
                        unsigned v = MIN(MIN(row[j] + 1, row[j - 1] + 1), prev + cost);
                        row[j] = v;
                        prev = cur;
                        best = MIN(best, v);
                }
                if (best > cap)
                        return cap + 1;
        }
        return row[lb] > cap ? cap + 1 : row[lb];
}

static uint64_t clock_usec(clockid_t id) {
        struct timespec ts;
        clock_gettime(id, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

uint64_t now_realtime_usec(void) {
        return clock_usec(CLOCK_REALTIME);
}

uint64_t now_monotonic_usec(void) {
        return clock_usec(CLOCK_MONOTONIC);
}

char *format_rfc3339(uint64_t realtime_usec, char *buf, size_t size) {
        time_t t = (time_t) (realtime_usec / 1000000ULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return buf;
}
