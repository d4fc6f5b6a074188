/* fake-cgroupfs.c: a fake cgroupfs for unit tests, in a tmpdir whose
 * "control files" are regular files. Its mkdir (struct cg_fs_ops) creates
 * the files the kernel would create in a new cgroup (on cgroup2 only those
 * of the controllers enabled in the parent's cgroup.subtree_control, on v1
 * those of the hierarchy's controllers); its rmdir refuses a populated
 * cgroup with EBUSY and one with child cgroups with ENOTEMPTY, as the
 * kernel does, and empties the directory first. It never lets the code
 * under test out of its root (EXDEV). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake-cgroupfs.h"

struct fake_cgroupfs fake;

char *fake_path(const char *rel) {
        static char buf[4][PATH_MAX];
        static unsigned k;
        char *b = buf[k++ % 4];

        if (snprintf(b, PATH_MAX, "%s/%s", fake.root, rel) >= PATH_MAX)
                fail_msg("path too long: %s", rel);
        return b;
}

void fake_put(const char *rel, const char *content) {
        FILE *f = fopen(fake_path(rel), "we");

        assert_non_null(f);
        assert_int_equal(fputs(content, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
}

/* Reads a fake file; the caller frees. */
char *fake_get(const char *rel) {
        char *s = NULL;

        assert_int_equal(cg_read_at(AT_FDCWD, fake_path(rel), &s), 0);
        return s;
}

bool fake_exists(const char *rel) {
        return access(fake_path(rel), F_OK) == 0;
}

static bool omitted(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(fake.omit); i++)
                if (fake.omit[i] && streq(fake.omit[i], name))
                        return true;
        return false;
}

static void put_ctl(const char *dir, const char *name, const char *content) {
        char rel[PATH_MAX];

        if (omitted(name))
                return;
        snprintf(rel, sizeof(rel), "%s/%s", dir, name);
        fake_put(rel, content);
}

/* What the kernel puts in a new cgroup2 directory: the core files, and
 * the interface files of the controllers the parent enabled for it. */
void fake_populate_v2(const char *rel, const char *controllers) {
        char ctl[256] = "";

        for (const char *p = controllers; *p;) {
                size_t n;

                p += strspn(p, " +\n");
                n = strcspn(p, " \n");
                if (n == 0)
                        break;
                if (ctl[0])
                        strcat(ctl, " ");
                strncat(ctl, p, n);
                if (n == 6 && strncmp(p, "memory", 6) == 0) {
                        put_ctl(rel, "memory.max", "max\n");
                        put_ctl(rel, "memory.low", "0\n");
                        put_ctl(rel, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
                } else if (n == 3 && strncmp(p, "cpu", 3) == 0) {
                        put_ctl(rel, "cpu.max", "max 100000\n");
                        put_ctl(rel, "cpu.weight", "100\n");
                } else if (n == 4 && strncmp(p, "pids", 4) == 0)
                        put_ctl(rel, "pids.max", "max\n");
                p += n;
        }
        strcat(ctl, ctl[0] ? "\n" : "");
        put_ctl(rel, "cgroup.controllers", ctl);
        put_ctl(rel, "cgroup.subtree_control", "");
        put_ctl(rel, "cgroup.procs", "");
        put_ctl(rel, "cgroup.events", "populated 0\nfrozen 0\n");
        put_ctl(rel, "cgroup.kill", "");
        put_ctl(rel, "cgroup.freeze", "0\n");
}

void fake_populate_v1(const char *rel, const char *hierarchy) {
        put_ctl(rel, "cgroup.procs", "");
        put_ctl(rel, "tasks", "");
        put_ctl(rel, "notify_on_release", "0\n");
        if (strstr(hierarchy, "memory")) {
                put_ctl(rel, "memory.limit_in_bytes", "9223372036854771712\n");
                put_ctl(rel, "memory.soft_limit_in_bytes", "9223372036854771712\n");
                put_ctl(rel, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
                put_ctl(rel, "cgroup.event_control", "");
        }
        if (strstr(hierarchy, "cpu") && !streq(hierarchy, "cpuacct")) {
                put_ctl(rel, "cpu.shares", "1024\n");
                put_ctl(rel, "cpu.cfs_period_us", "100000\n");
                put_ctl(rel, "cpu.cfs_quota_us", "-1\n");
        }
        if (strstr(hierarchy, "cpuacct"))
                put_ctl(rel, "cpuacct.usage", "0\n");
        if (strstr(hierarchy, "pids"))
                put_ctl(rel, "pids.max", "max\n");
        if (strstr(hierarchy, "freezer"))
                put_ctl(rel, "freezer.state", "THAWED\n");
}

/* rel of a new directory → fills it like the kernel of fake.mode would. */
static void populate(const char *rel) {
        char hier[64], parent[PATH_MAX];
        size_t n = strcspn(rel, "/");

        snprintf(hier, sizeof(hier), "%.*s", (int) n, rel);
        if (fake.mode == CG_MODE_UNIFIED || streq(hier, "unified")) {
                char *p, *sc;

                snprintf(parent, sizeof(parent), "%s", rel);
                p = strrchr(parent, '/');
                if (p)
                        strcpy(p, "/cgroup.subtree_control");
                else
                        strcpy(parent, "cgroup.subtree_control");
                sc = fake_get(parent);
                fake_populate_v2(rel, sc);
                free(sc);
        } else
                fake_populate_v1(rel, hier);
}

static int rel_of_fd(int dirfd, const char *path, char *rel, size_t size) {
        char link[64], abs[PATH_MAX];
        ssize_t n;
        size_t rl = strlen(fake.root);

        snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
        n = readlink(link, abs, sizeof(abs) - 1);
        if (n < 0)
                return -errno;
        abs[n] = 0;
        if (strncmp(abs, fake.root, rl) != 0 || (abs[rl] != '/' && abs[rl] != 0))
                return -EXDEV; /* the backend must never leave the fake root */
        snprintf(rel, size, "%s%s%s", abs[rl] ? abs + rl + 1 : "", abs[rl] ? "/" : "", path);
        return 0;
}

static int fake_mkdirat(int dirfd, const char *path, mode_t mode) {
        char rel[PATH_MAX];
        int r;

        r = rel_of_fd(dirfd, path, rel, sizeof(rel));
        if (r < 0)
                return r;
        if (mkdirat(dirfd, path, mode) < 0)
                return -errno;
        populate(rel);
        return 0;
}

static int fake_rmdirat(int dfd, const char *path) {
        char rel[PATH_MAX], file[PATH_MAX];
        struct dirent *de;
        uint64_t populated = 0;
        DIR *d;
        int r;

        r = rel_of_fd(dfd, path, rel, sizeof(rel));
        if (r < 0)
                return r;
        d = opendir(fake_path(rel));
        if (!d)
                return -errno;
        /* like the kernel: EBUSY with processes, ENOTEMPTY with child cgroups */
        if (snprintf(file, sizeof(file), "%s/cgroup.events", fake_path(rel)) >= (int) sizeof(file))
                return -ENAMETOOLONG;
        (void) cg_read_key_at(AT_FDCWD, file, "populated", &populated);
        if (snprintf(file, sizeof(file), "%s/cgroup.procs", fake_path(rel)) >= (int) sizeof(file))
                return -ENAMETOOLONG;
        {
                pid_t *pids = NULL;
                size_t n = 0;

                (void) cg_read_pids_at(AT_FDCWD, file, &pids, &n);
                free(pids);
                if (n > 0)
                        populated = 1;
        }
        if (populated) {
                closedir(d);
                return -EBUSY;
        }
        while ((de = readdir(d)))
                if (de->d_type == DT_DIR && !streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        closedir(d);
                        return -ENOTEMPTY;
                }
        rewinddir(d);
        while ((de = readdir(d)))
                if (de->d_type == DT_REG)
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
        if (unlinkat(dfd, path, AT_REMOVEDIR) < 0)
                return -errno;
        return 0;
}

const struct cg_fs_ops fake_cgroupfs_ops = {
        .mkdirat = fake_mkdirat,
        .rmdirat = fake_rmdirat,
};

void fake_mkdir_p(const char *rel) {
        char p[PATH_MAX];

        snprintf(p, sizeof(p), "%s", fake_path(rel));
        for (char *s = p + strlen(fake.root) + 1; (s = strchr(s, '/')); s++) {
                *s = 0;
                (void) mkdir(p, 0755);
                *s = '/';
        }
        if (mkdir(p, 0755) < 0)
                assert_int_equal(errno, EEXIST);
}

/* An existing cgroup2 node with the given controllers available. */
void fake_v2_node(const char *rel, const char *controllers) {
        fake_mkdir_p(rel);
        fake_populate_v2(rel, controllers);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(p) < 0 ? -1 : 0;
}

int fake_cgroupfs_setup(enum cg_mode mode) {
        memset(&fake, 0, sizeof(fake));
        fake.mode = mode;
        snprintf(fake.root, sizeof(fake.root), "/tmp/berth-test-%d-cgfs-XXXXXX", (int) getpid());
        if (!mkdtemp(fake.root))
                return -1;
        return 0;
}

void fake_cgroupfs_teardown(void) {
        if (fake.root[0])
                (void) nftw(fake.root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        fake.root[0] = 0;
}
