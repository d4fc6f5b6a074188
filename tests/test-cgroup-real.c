/* test-cgroup-real.c: the cgroup backend against this machine's real
 * hierarchies (root only; exits 77, automake's SKIP, otherwise).
 *
 * v1: a replica with limits below our own cgroup + berth-test-<pid> in
 * memory, cpu, cpuacct, pids, freezer (discovered by libcgroup); a forked
 * child attached through cgroup.procs; the limits read back from the
 * kernel; killed through freeze/kill/thaw; removed; a real OOM kill seen
 * through the eventfd and the counter. Hybrid: the same with the cgroup2
 * tracking tree (cgroup.events through inotify, cgroup.kill). cgroup2
 * mechanics on the unified mount: mkdir, cgroup.procs, clone3 with
 * CLONE_INTO_CGROUP, populated 1→0 seen through IN_MODIFY, cgroup.kill, and
 * the delegation dance (move into supervisor) in a child process.
 *
 * Cleanup: every child is ours (killed by pid, PR_SET_PDEATHSIG as a
 * backstop); a per-test teardown thaws and kills them; the group teardown
 * removes every berth-test-<pid> directory. And the tests run in a forked
 * process: whatever happens to it (an assertion, a sanitizer abort), the
 * parent sweeps the same directories afterwards. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgroup-internal.h"

#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif

static const char *const v1_ctrls[] = { "memory", "cpu", "cpuacct", "pids", "freezer" };

static struct {
        char name[64];                              /* berth-test-<pid> */
        char v1_base[ELEMENTSOF(v1_ctrls)][PATH_MAX]; /* <mount><own>/berth-test-<pid> */
        bool have_v1;
        char unified_mount[64];
        char unified_base[PATH_MAX];
        bool have_unified;
        enum cg_mode mode;
        pid_t children[16];
        size_t n_children;
} rt;

/* ---------------------------------------------------------------- helpers */

/* snprintf for paths: truncation is a bug in the test, stop right there */
static void pathf(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);
static void pathf(char *buf, size_t size, const char *fmt, ...) {
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(buf, size, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= size)
                abort();
}

static bool is_fs(const char *path, unsigned long magic) {
        struct statfs fs;

        return statfs(path, &fs) == 0 && (unsigned long) fs.f_type == magic;
}

static int discover(void) {
        char *own = NULL;
        int r;

        snprintf(rt.name, sizeof(rt.name), "berth-test-%d", (int) getpid());
        r = cg_detect_mode(NULL, &rt.mode);
        if (r < 0)
                return r;

        rt.have_v1 = rt.mode != CG_MODE_UNIFIED;
        for (size_t i = 0; rt.have_v1 && i < ELEMENTSOF(v1_ctrls); i++) {
                char mount[PATH_MAX];

                snprintf(mount, sizeof(mount), "/sys/fs/cgroup/%s", v1_ctrls[i]);
                if (!is_fs(mount, CGROUP_SUPER_MAGIC) || cg_read_proc_self_cgroup(v1_ctrls[i], &own) < 0) {
                        rt.have_v1 = false;
                        break;
                }
                /* a co-mounted "cpu,cpuacct" gives the same directory twice: harmless */
                pathf(rt.v1_base[i], PATH_MAX, "%s%s/%s", mount, streq(own, "/") ? "" : own, rt.name);
                free(own);
                own = NULL;
        }

        snprintf(rt.unified_mount, sizeof(rt.unified_mount), "%s",
                 rt.mode == CG_MODE_UNIFIED ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified");
        rt.have_unified = rt.mode != CG_MODE_LEGACY && is_fs(rt.unified_mount, CGROUP2_SUPER_MAGIC) &&
                          cg_read_proc_self_cgroup(NULL, &own) >= 0;
        if (rt.have_unified) {
                pathf(rt.unified_base, sizeof(rt.unified_base), "%s%s/%s", rt.unified_mount,
                         streq(own, "/") ? "" : own, rt.name);
                free(own);
        }
        return 0;
}

/* v1 freezer: thaw everything below dir, so SIGKILL can finish its job. */
static void thaw_all(const char *dir) {
        char p[PATH_MAX];
        struct dirent *de;
        DIR *d;
        int fd;

        if (snprintf(p, sizeof(p), "%s/freezer.state", dir) >= (int) sizeof(p))
                return;
        fd = open(p, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
                (void) !write(fd, "THAWED", 6);
                close(fd);
        }
        d = opendir(dir);
        if (!d)
                return;
        while ((de = readdir(d)))
                if (de->d_type == DT_DIR && de->d_name[0] != '.' &&
                    snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) < (int) sizeof(p))
                        thaw_all(p);
        closedir(d);
}

/* rmdir dir and every cgroup below it, deepest first; retries EBUSY (a
 * killed task leaves its cgroup asynchronously). Returns the failures. */
static int rmdir_tree(const char *dir) {
        char p[PATH_MAX];
        struct dirent *de;
        int failures = 0;
        DIR *d;

        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : 1;
        while ((de = readdir(d)))
                if (de->d_type == DT_DIR && de->d_name[0] != '.' &&
                    snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) < (int) sizeof(p))
                        failures += rmdir_tree(p);
        closedir(d);
        for (int i = 0; i < 200; i++) {
                if (rmdir(dir) == 0 || errno == ENOENT)
                        return failures;
                if (errno != EBUSY)
                        break;
                (void) nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
        }
        fprintf(stderr, "test-cgroup-real: cannot remove %s: %m\n", dir);
        return failures + 1;
}

static int sweep(void) {
        int failures = 0;

        if (rt.have_v1)
                thaw_all(rt.v1_base[4]);
        for (size_t i = 0; rt.have_v1 && i < ELEMENTSOF(v1_ctrls); i++)
                failures += rmdir_tree(rt.v1_base[i]);
        if (rt.have_unified)
                failures += rmdir_tree(rt.unified_base);
        return failures;
}

static void kill_children(void) {
        if (rt.have_v1)
                thaw_all(rt.v1_base[4]);
        for (size_t i = 0; i < rt.n_children; i++) {
                (void) kill(rt.children[i], SIGKILL);
                (void) waitpid(rt.children[i], NULL, 0);
        }
        rt.n_children = 0;
}

static void track(pid_t pid) {
        assert_true(rt.n_children < ELEMENTSOF(rt.children));
        rt.children[rt.n_children++] = pid;
}

/* A child that waits for one byte on go[0] (if go), then runs fn (or pauses). */
static pid_t spawn(int go, void (*fn)(void)) {
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                char c;

                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (go >= 0 && read(go, &c, 1) != 1)
                        _exit(3);
                if (fn)
                        fn();
                for (;;)
                        pause();
        }
        track(pid);
        return pid;
}

static int reap(pid_t pid) {
        int status;

        assert_int_equal(waitpid(pid, &status, 0), pid);
        for (size_t i = 0; i < rt.n_children; i++)
                if (rt.children[i] == pid)
                        rt.children[i] = rt.children[--rt.n_children];
        return WIFSIGNALED(status) ? WTERMSIG(status) : 1000 + WEXITSTATUS(status);
}

static uint64_t read_u64(const char *dir, const char *file) {
        char p[PATH_MAX], *s = NULL;
        uint64_t v;

        assert_true(snprintf(p, sizeof(p), "%s/%s", dir, file) < (int) sizeof(p));
        assert_int_equal(cg_read_at(AT_FDCWD, p, &s), 0);
        if (strncmp(s, "max", 3) == 0)
                v = UINT64_MAX;
        else
                v = strtoull(s, NULL, 10);
        free(s);
        return v;
}

static bool exists(const char *base, const char *rel) {
        char p[PATH_MAX];

        assert_true(snprintf(p, sizeof(p), "%s/%s", base, rel) < (int) sizeof(p));
        return access(p, F_OK) == 0;
}

/* The path of pid's cgroup for controller (NULL = cgroup2) ends with suffix. */
static void assert_in_cgroup(pid_t pid, const char *controller, const char *suffix) {
        char file[64], *content = NULL, *p = NULL;
        size_t n, sl = strlen(suffix);

        snprintf(file, sizeof(file), "/proc/%d/cgroup", (int) pid);
        assert_int_equal(cg_read_at(AT_FDCWD, file, &content), 0);
        assert_int_equal(cg_parse_proc_cgroup(content, controller, &p), 0);
        n = strlen(p);
        if (n < sl || !streq(p + n - sl, suffix))
                fail_msg("pid %d is in %s for %s, expected ...%s", (int) pid, p, controller ?: "cgroup2", suffix);
        free(p);
        free(content);
}

/* Waits until the cgroup is empty AND the inotify fd (cg_watch_empty(),
 * armed before the kill) has reported an IN_MODIFY of cgroup.events. */
static void wait_empty(struct cg *cg, const char *path, int fd) {
        bool modified = false;

        for (int i = 0; i < 50; i++) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
                int r = cg_is_populated(cg, path);

                assert_true(r >= 0);
                if (r == 0 && modified)
                        return;
                r = poll(&pfd, 1, 100);
                assert_true(r >= 0);
                if (r > 0) {
                        ssize_t n = read(fd, buf, sizeof(buf));

                        assert_true(n >= (ssize_t) sizeof(struct inotify_event));
                        for (char *p = buf; p < buf + n;) {
                                const struct inotify_event *ev = (const void *) p;

                                modified = modified || (ev->mask & IN_MODIFY);
                                p += sizeof(*ev) + ev->len;
                        }
                }
        }
        fail_msg("%s: populated=%d, IN_MODIFY seen: %s after 5 s", path, cg_is_populated(cg, path),
                 modified ? "yes" : "no");
}

static const struct cg_limits limits = {
        .memory_max = 64 * 1024 * 1024,
        .memory_low = 32 * 1024 * 1024,
        .cpu_limit_millis = 250,
        .cpu_request_millis = 250,
        .pids_max = 32,
};

/* ---------------------------------------------------------------- v1 */

static struct cg *open_legacy(void) {
        struct cg *cg = NULL;

        /* forced legacy on a hybrid host: the freezer path, libcgroup's discovery,
         * parent relative to our own cgroup in each hierarchy */
        assert_int_equal(cg_open_with(&(struct cg_options){ .mode = CG_MODE_LEGACY, .parent = rt.name }, &cg), 0);
        return cg;
}

static void test_real_v1_replica(void **state) {
        const char *rel = "services/web1/0";
        char dir[ELEMENTSOF(v1_ctrls)][PATH_MAX], suffix[PATH_MAX];
        pid_t child, *pids = NULL;
        struct cg *cg;
        uint64_t oom = 99;
        size_t n = 0;

        if (!rt.have_v1)
                skip();
        cg = open_legacy();
        *state = cg;
        assert_int_equal(cg_get_controllers(cg),
                         CG_MASK_MEMORY | CG_MASK_CPU | CG_MASK_CPUACCT | CG_MASK_PIDS | CG_MASK_FREEZER);
        for (size_t i = 0; i < ELEMENTSOF(v1_ctrls); i++)
                pathf(dir[i], PATH_MAX, "%s/%s", rt.v1_base[i], rel);

        assert_int_equal(cg_create(cg, rel, &limits, NULL), 0);
        /* what the kernel took */
        assert_int_equal(read_u64(dir[0], "memory.limit_in_bytes"), 64 * 1024 * 1024);
        assert_int_equal(read_u64(dir[0], "memory.soft_limit_in_bytes"), 32 * 1024 * 1024);
        assert_int_equal(read_u64(dir[1], "cpu.cfs_period_us"), 100000);
        assert_int_equal(read_u64(dir[1], "cpu.cfs_quota_us"), 25000);
        assert_int_equal(read_u64(dir[1], "cpu.shares"), 256);
        assert_int_equal(read_u64(dir[3], "pids.max"), 32);
        assert_true(exists(dir[2], "cpuacct.usage"));

        child = spawn(-1, NULL);
        assert_int_equal(cg_attach_pid(cg, rel, child), 0);
        pathf(suffix, sizeof(suffix), "/%s/%s", rt.name, rel);
        for (size_t i = 0; i < ELEMENTSOF(v1_ctrls); i++)
                assert_in_cgroup(child, v1_ctrls[i], suffix);
        assert_int_equal(cg_is_populated(cg, rel), 1);
        assert_int_equal(cg_get_pids(cg, rel, true, &pids, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(pids[0], child);
        free(pids);
        assert_int_equal(read_u64(dir[3], "pids.current"), 1);
        assert_int_equal(cg_oom_kill_count(cg, rel, &oom), 0);
        assert_int_equal(oom, 0);
        assert_int_equal(cg_remove(cg, rel), -EBUSY);
        assert_true(exists(dir[0], ""));

        /* freeze, kill, thaw */
        assert_int_equal(cg_kill_all(cg, rel, SIGKILL), 0);
        assert_int_equal(reap(child), SIGKILL);
        {
                char *s = NULL, p[PATH_MAX];

                pathf(p, sizeof(p), "%s/freezer.state", dir[4]);
                assert_int_equal(cg_read_at(AT_FDCWD, p, &s), 0);
                assert_string_equal(s, "THAWED\n");
                free(s);
        }
        assert_int_equal(cg_is_populated(cg, rel), 0);

        assert_int_equal(cg_remove(cg, rel), 0);
        for (size_t i = 0; i < ELEMENTSOF(v1_ctrls); i++) {
                assert_false(exists(dir[i], ""));
                assert_false(exists(rt.v1_base[i], "services/web1"));
                assert_true(exists(rt.v1_base[i], "services"));
        }
}

static void oom_hog(void) {
        /* 512 MiB, touched page by page, against a 32 MiB limit */
        for (size_t i = 0; i < 512; i++) {
                char *p = malloc(1024 * 1024);

                if (!p)
                        _exit(2);
                memset(p, 1, 1024 * 1024);
        }
        _exit(0);
}

static void test_real_v1_oom(void **state) {
        const char *rel = "services/oom1/0";
        int go[2], efd = -1;
        struct pollfd pfd;
        uint64_t n = 0, ev;
        struct cg *cg;
        pid_t child;

        if (!rt.have_v1)
                skip();
        cg = open_legacy();
        *state = cg;
        assert_int_equal(cg_create(cg, rel, &(struct cg_limits){ .memory_max = 32 * 1024 * 1024 }, NULL), 0);
        assert_int_equal(cg_oom_watch(cg, rel, &efd), 0);

        assert_int_equal(pipe2(go, O_CLOEXEC), 0);
        child = spawn(go[0], oom_hog);
        close(go[0]);
        assert_int_equal(cg_attach_pid(cg, rel, child), 0);
        assert_int_equal(write(go[1], "x", 1), 1);
        close(go[1]);
        assert_int_equal(reap(child), SIGKILL);

        pfd = (struct pollfd){ .fd = efd, .events = POLLIN };
        assert_int_equal(poll(&pfd, 1, 5000), 1);
        assert_int_equal(read(efd, &ev, sizeof(ev)), sizeof(ev));
        assert_true(ev >= 1);
        assert_int_equal(cg_oom_kill_count(cg, rel, &n), 0);
        assert_true(n >= 1);
        close(efd);
        assert_int_equal(cg_remove(cg, rel), 0);
}

/* ---------------------------------------------------------------- hybrid */

static void test_real_hybrid_tracking(void **state) {
        const char *rel = "services/web2/0";
        char suffix[PATH_MAX], **procs = NULL;
        struct cg *cg = NULL;
        int fd = -1;
        pid_t child;
        size_t n;

        if (rt.mode != CG_MODE_HYBRID || !rt.have_v1 || !rt.have_unified)
                skip();
        assert_int_equal(cg_open(NULL, rt.name, &cg), 0);
        *state = cg;
        assert_int_equal(cg_get_mode(cg), CG_MODE_HYBRID);
        assert_int_equal(cg_create(cg, rel, &limits, NULL), 0);
        assert_true(exists(rt.unified_base, "services/web2/0/cgroup.kill"));
        assert_false(exists(rt.unified_base, "supervisor")); /* nobody moved on hybrid */

        assert_int_equal(cg_procs_paths(cg, rel, 0, &procs), 0);
        for (n = 0; procs[n]; n++)
                ;
        assert_int_equal(n, ELEMENTSOF(v1_ctrls) + 1);
        assert_non_null(strstr(procs[n - 1], "/unified/"));
        cg_strv_free(procs);

        child = spawn(-1, NULL);
        assert_int_equal(cg_attach_pid(cg, rel, child), 0);
        pathf(suffix, sizeof(suffix), "/%s/%s", rt.name, rel);
        assert_in_cgroup(child, NULL, suffix);
        assert_in_cgroup(child, "memory", suffix);
        assert_in_cgroup(child, "freezer", suffix);
        assert_int_equal(cg_is_populated(cg, rel), 1);

        assert_int_equal(cg_watch_empty(cg, rel, &fd), 0);
        assert_int_equal(cg_kill_all(cg, rel, SIGKILL), 0); /* cgroup.kill on the tracking tree */
        wait_empty(cg, rel, fd);
        close(fd);
        assert_int_equal(reap(child), SIGKILL);

        assert_int_equal(cg_remove(cg, rel), 0);
        assert_false(exists(rt.unified_base, "services/web2"));
        for (size_t i = 0; i < ELEMENTSOF(v1_ctrls); i++)
                assert_false(exists(rt.v1_base[i], "services/web2"));
}

/* ---------------------------------------------------------------- cgroup2 */

static pid_t clone_into(int cgroup_fd) {
        struct clone_args args = {
                .flags = CLONE_INTO_CGROUP,
                .exit_signal = SIGCHLD,
                .cgroup = (uint64_t) cgroup_fd,
        };
        long pid = syscall(SYS_clone3, &args, sizeof(args));

        assert_true(pid >= 0);
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                for (;;)
                        pause();
        }
        track((pid_t) pid);
        return (pid_t) pid;
}

static struct cg *open_unified(void) {
        struct cg *cg = NULL;

        /* the cgroup2 backend on the unified mount, below berth-test-<pid> */
        assert_int_equal(cg_open_with(&(struct cg_options){ .root = rt.unified_mount,
                                                            .mode = CG_MODE_UNIFIED,
                                                            .parent = rt.name },
                                      &cg),
                         0);
        return cg;
}

static void test_real_v2_mechanics(void **state) {
        const char *rel = "services/web3/0";
        const char *missing = NULL;
        char suffix[PATH_MAX];
        pid_t a, b, *pids = NULL;
        int dfd = -1, fd = -1;
        struct cg *cg;
        size_t n = 0;

        if (!rt.have_unified)
                skip();
        cg = open_unified();
        *state = cg;
        assert_false(exists(rt.unified_base, "supervisor")); /* an explicit parent: we stay */

        if (!(cg_get_controllers(cg) & CG_MASK_MEMORY)) {
                /* hybrid: no controllers on this tree, and we say so */
                assert_int_equal(cg_create(cg, rel, &(struct cg_limits){ .memory_max = 1 << 24 }, &missing),
                                 -EOPNOTSUPP);
                assert_string_equal(missing, "memory");
                assert_false(exists(rt.unified_base, "services/web3"));
        }
        assert_int_equal(cg_create(cg, rel, &(struct cg_limits){}, NULL), 0);
        assert_true(exists(rt.unified_base, "services/web3/0/cgroup.events"));
        assert_int_equal(cg_is_populated(cg, rel), 0);

        /* one child born in the cgroup, one moved in through cgroup.procs */
        assert_int_equal(cg_open_dirfd(cg, rel, &dfd), 0);
        a = clone_into(dfd);
        close(dfd);
        b = spawn(-1, NULL);
        assert_int_equal(cg_attach_pid(cg, rel, b), 0);
        pathf(suffix, sizeof(suffix), "/%s/%s", rt.name, rel);
        assert_in_cgroup(a, NULL, suffix);
        assert_in_cgroup(b, NULL, suffix);
        assert_int_equal(cg_get_pids(cg, rel, false, &pids, &n), 0);
        assert_int_equal(n, 2);
        assert_true((pids[0] == a && pids[1] == b) || (pids[0] == b && pids[1] == a));
        free(pids);
        assert_int_equal(cg_is_populated(cg, rel), 1);
        assert_int_equal(cg_is_populated(cg, "services/web3"), 1);

        /* populated 1 → 0 through inotify, after one write to cgroup.kill */
        assert_int_equal(cg_watch_empty(cg, rel, &fd), 0);
        assert_int_equal(cg_kill_all(cg, rel, SIGKILL), 0);
        wait_empty(cg, rel, fd);
        close(fd);
        assert_int_equal(reap(a), SIGKILL);
        assert_int_equal(reap(b), SIGKILL);

        /* not SIGKILL: pid by pid */
        b = spawn(-1, NULL);
        assert_int_equal(cg_attach_pid(cg, rel, b), 0);
        assert_int_equal(cg_kill_all(cg, rel, SIGTERM), 0);
        assert_int_equal(reap(b), SIGTERM);

        assert_int_equal(cg_remove(cg, rel), 0);
        assert_false(exists(rt.unified_base, "services/web3"));
        assert_true(exists(rt.unified_base, "services"));
}

/* Runs in a child moved into <base>/deleg: cg_open() with parent NULL
 * must move it into deleg/supervisor and build services/ there. */
static int delegation_child(const char *deleg) {
        char p[PATH_MAX], *own = NULL;
        struct cg *cg = NULL;
        size_t n;
        int r;

        pathf(p, sizeof(p), "%s/cgroup.procs", deleg);
        if (cg_write_at(AT_FDCWD, p, "0") < 0)
                return 10;
        r = cg_open_with(&(struct cg_options){ .root = rt.unified_mount, .mode = CG_MODE_UNIFIED }, &cg);
        if (r < 0)
                return 11;
        if (cg_read_proc_self_cgroup(NULL, &own) < 0)
                return 12;
        n = strlen(own);
        if (n < 17 || !streq(own + n - 17, "/deleg/supervisor"))
                return 13;
        free(own);
        if (cg_create(cg, "services/web4/0", &(struct cg_limits){}, NULL) < 0)
                return 14;
        cg_free(cg);
        return 0;
}

static void test_real_v2_delegation(void **state) {
        char deleg[PATH_MAX];
        pid_t pid;
        int status;

        if (!rt.have_unified)
                skip();
        pathf(deleg, sizeof(deleg), "%s/deleg", rt.unified_base);
        assert_int_equal(mkdir(deleg, 0755), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                _exit(delegation_child(deleg));
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_true(exists(deleg, "supervisor/cgroup.procs"));
        assert_true(exists(deleg, "services/web4/0"));
        assert_false(exists(rt.unified_base, "supervisor")); /* nothing above deleg */
}

/* ---------------------------------------------------------------- main */

static int group_setup(void **state) {
        for (size_t i = 0; rt.have_v1 && i < ELEMENTSOF(v1_ctrls); i++)
                if (mkdir(rt.v1_base[i], 0755) < 0 && errno != EEXIST)
                        return -1;
        if (rt.have_unified && mkdir(rt.unified_base, 0755) < 0)
                return -1;
        return 0;
}

static int group_teardown(void **state) {
        kill_children();
        return sweep() == 0 ? 0 : -1;
}

static int test_teardown(void **state) {
        if (*state)
                *state = cg_free(*state);
        kill_children();
        return 0;
}

int main(void) {
#define T(name) cmocka_unit_test_teardown(name, test_teardown)
        const struct CMUnitTest tests[] = {
                T(test_real_v1_replica),      T(test_real_v1_oom),       T(test_real_hybrid_tracking),
                T(test_real_v2_mechanics),    T(test_real_v2_delegation),
        };
#undef T
        pid_t runner;
        int status, left;

        if (geteuid() != 0) {
                fprintf(stderr, "test-cgroup-real: needs root, skipping\n");
                return 77;
        }
        if (discover() < 0 || (!rt.have_v1 && !rt.have_unified)) {
                fprintf(stderr, "test-cgroup-real: no usable cgroup hierarchy, skipping\n");
                return 77;
        }
        fprintf(stderr, "test-cgroup-real: %s mode, v1 %s, cgroup2 %s, test cgroups named %s\n",
                cg_mode_to_string(rt.mode), rt.have_v1 ? "yes" : "no", rt.have_unified ? rt.unified_mount : "no",
                rt.name);

        fflush(NULL);
        runner = fork();
        if (runner < 0)
                return 1;
        if (runner == 0)
                exit(cmocka_run_group_tests(tests, group_setup, group_teardown)); /* exit: LeakSanitizer runs */

        /* whatever happened to the runner, nothing of ours stays behind */
        if (waitpid(runner, &status, 0) != runner)
                return 1;
        left = sweep();
        if (left)
                fprintf(stderr, "test-cgroup-real: %d cgroup(s) could not be removed\n", left);
        if (WIFSIGNALED(status)) {
                fprintf(stderr, "test-cgroup-real: the test runner died of signal %d\n", WTERMSIG(status));
                return 1;
        }
        return WEXITSTATUS(status) != 0 ? WEXITSTATUS(status) : left ? 1 : 0;
}
