/* test-cgroup.c: unit tests of both cgroup backends against a fake
 * cgroupfs (tests/fake-cgroupfs.c: a tmpdir whose "control files" are
 * regular files, populated on mkdir like the kernel would). The tests
 * check the exact bytes written, v1 and v2 file names, delegation and
 * errors. Kill tests put the pid of a child we forked into the fake
 * cgroup.procs: only our own children are ever signalled. No root needed. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libcgroup.h>

#include "cgroup-internal.h"
#include "fake-cgroupfs.h"

/* our forked children, killed by pid in teardown */
static struct {
        pid_t pid[8];
        size_t n;
} kids;

static int setup_v2(void **state) {
        if (fake_cgroupfs_setup(CG_MODE_UNIFIED) < 0)
                return -1;
        /* a systemd host: root with controllers, our unit delegated to us */
        fake_populate_v2(".", "cpuset cpu io memory hugetlb pids rdma misc");
        fake_put("cgroup.subtree_control", "cpu io memory pids\n");
        fake_v2_node("berth.slice", "cpu io memory pids");
        fake_v2_node("berth.slice/berth.service", "cpu io memory pids");
        return 0;
}

static const char *const v1_names[] = { "memory", "cpu", "cpuacct", "pids", "freezer" };

static void fake_v1_tree(void) {
        for (size_t i = 0; i < ELEMENTSOF(v1_names); i++) {
                char rel[PATH_MAX];

                fake_mkdir_p(v1_names[i]);
                fake_populate_v1(v1_names[i], v1_names[i]);
                if (streq(v1_names[i], "memory")) {
                        snprintf(rel, sizeof(rel), "memory/process_api/abc");
                        fake_mkdir_p(rel);
                        fake_populate_v1(rel, "memory");
                }
        }
}

static int setup_hybrid(void **state) {
        if (fake_cgroupfs_setup(CG_MODE_HYBRID) < 0)
                return -1;
        fake_v1_tree();
        fake_mkdir_p("unified");
        fake_populate_v2("unified", "hugetlb");
        return 0;
}

static int setup_legacy(void **state) {
        if (fake_cgroupfs_setup(CG_MODE_LEGACY) < 0)
                return -1;
        fake_v1_tree();
        return 0;
}

static int teardown(void **state) {
        struct cg **cgp = (struct cg **) state;

        if (cgp && *cgp)
                *cgp = cg_free(*cgp);
        for (size_t i = 0; i < kids.n; i++) {
                (void) kill(kids.pid[i], SIGKILL);
                (void) waitpid(kids.pid[i], NULL, 0);
        }
        kids.n = 0;
        fake_cgroupfs_teardown();
        return 0;
}

static pid_t spawn_sleeper(void) {
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                /* dies with us, even if a sanitizer aborts us before teardown */
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                for (;;)
                        pause();
                _exit(0);
        }
        kids.pid[kids.n++] = pid;
        return pid;
}

/* waitpid + forget; returns the signal that killed it, or -1. */
static int reap(pid_t pid) {
        int status;

        assert_int_equal(waitpid(pid, &status, 0), pid);
        for (size_t i = 0; i < kids.n; i++)
                if (kids.pid[i] == pid)
                        kids.pid[i] = kids.pid[--kids.n];
        return WIFSIGNALED(status) ? WTERMSIG(status) : -1;
}

static struct cg *open_v2(void **state, const char *own, const char *parent) {
        struct cg *cg = NULL;
        int r;

        r = cg_open_with(&(struct cg_options){ .root = fake.root,
                                               .mode = CG_MODE_UNIFIED,
                                               .own_unified = own,
                                               .parent = parent,
                                               .fs_ops = &fake_cgroupfs_ops },
                         &cg);
        assert_int_equal(r, 0);
        *state = cg;
        return cg;
}

static struct cg *open_v1(void **state, enum cg_mode mode, size_t skip_ctrl, const char *parent) {
        struct cg_v1_hierarchy v1[ELEMENTSOF(v1_names)];
        char mounts[ELEMENTSOF(v1_names)][PATH_MAX];
        struct cg *cg = NULL;
        size_t n = 0;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(v1_names); i++) {
                if (i == skip_ctrl)
                        continue;
                snprintf(mounts[n], PATH_MAX, "%s/%s", fake.root, v1_names[i]);
                v1[n] = (struct cg_v1_hierarchy){ .controller = v1_names[i],
                                                  .mount = mounts[n],
                                                  .own = streq(v1_names[i], "memory") ? "/process_api/abc" : "/" };
                n++;
        }
        r = cg_open_with(&(struct cg_options){ .root = fake.root,
                                               .mode = mode,
                                               .v1 = v1,
                                               .n_v1 = n,
                                               .own_unified = "/",
                                               .parent = parent,
                                               .fs_ops = &fake_cgroupfs_ops },
                         &cg);
        assert_int_equal(r, 0);
        *state = cg;
        return cg;
}

static char *pidstr(pid_t pid) {
        static char b[32];

        snprintf(b, sizeof(b), "%d", (int) pid);
        return b;
}

static void wait_readable(int fd) {
        struct pollfd p = { .fd = fd, .events = POLLIN };

        assert_int_equal(poll(&p, 1, 2000), 1);
}

static const struct cg_limits full_limits = {
        .memory_max = 256 * 1024 * 1024,
        .memory_low = 128 * 1024 * 1024,
        .cpu_limit_millis = 500,
        .cpu_request_millis = 250,
        .pids_max = 100,
};

/* ---------------------------------------------------------------- pure functions */

static void test_cgroup_cpu_conversions(void **state) {
        /* Kubernetes' numbers (pkg/kubelet/cm, runc's ConvertCPUSharesToCgroupV2Value) */
        assert_int_equal(cg_cpu_shares_from_millis(250), 256);
        assert_int_equal(cg_cpu_shares_from_millis(100), 102);
        assert_int_equal(cg_cpu_shares_from_millis(1000), 1024);
        assert_int_equal(cg_cpu_shares_from_millis(1), 2); /* MinShares */
        assert_int_equal(cg_cpu_shares_from_millis(0), 2);
        assert_int_equal(cg_cpu_shares_from_millis(256000), 262144);
        assert_int_equal(cg_cpu_shares_from_millis(1000000), 262144); /* MaxShares */

        assert_int_equal(cg_cpu_weight_from_shares(256), 10);
        assert_int_equal(cg_cpu_weight_from_shares(2), 1);
        assert_int_equal(cg_cpu_weight_from_shares(262144), 10000);
        assert_int_equal(cg_cpu_weight_from_shares(1024), 39);
        assert_int_equal(cg_cpu_weight_from_shares(102), 4);
        assert_int_equal(cg_cpu_weight_from_shares(0), 1);
        assert_int_equal(cg_cpu_weight_from_shares(1u << 30), 10000);
        assert_int_equal(cg_cpu_weight_from_shares(cg_cpu_shares_from_millis(250)), 10);

        assert_int_equal(cg_cpu_quota_from_millis(500), 50000);
        assert_int_equal(cg_cpu_quota_from_millis(100), 10000);
        assert_int_equal(cg_cpu_quota_from_millis(2500), 250000);
        assert_int_equal(cg_cpu_quota_from_millis(10), 1000);
        assert_int_equal(cg_cpu_quota_from_millis(1), 1000); /* kernel minimum 1 ms */
}

static void test_cgroup_ecg_errno(void **state) {
        assert_int_equal(cg_errno_from_ecg(0), 0);
        assert_int_equal(cg_errno_from_ecg(ECGROUPNOTEXIST), -ENOENT);
        assert_int_equal(cg_errno_from_ecg(ECGROUPSUBSYSNOTMOUNTED), -ENOMEDIUM);
        assert_int_equal(cg_errno_from_ecg(ECGROUPNOTMOUNTED), -ENOMEDIUM);
        assert_int_equal(cg_errno_from_ecg(ECGROUPNOTALLOWED), -EPERM);
        assert_int_equal(cg_errno_from_ecg(ECGNONEMPTY), -EBUSY);
        assert_int_equal(cg_errno_from_ecg(ECGINVAL), -EINVAL);
        assert_int_equal(cg_errno_from_ecg(ECGROUPVALUENOTEXIST), -ENOENT);
        assert_int_equal(cg_errno_from_ecg(ECGEOF), -ENODATA);
        assert_int_equal(cg_errno_from_ecg(ECGFAIL), -EIO);
        assert_int_equal(cg_errno_from_ecg(123456), -EIO);
        /* ECGOTHER carries errno: never 0, never positive */
        assert_true(cg_errno_from_ecg(ECGOTHER) < 0);
}

static void test_cgroup_parse_proc_cgroup(void **state) {
        const char *s = "12:pids:/system.slice/berth.service\n"
                        "4:memory:/process_api/905c\n"
                        "2:cpu,cpuacct:/cpu/x\n"
                        "1:name=systemd:/system.slice/berth.service\n"
                        "0::/system.slice/berth.service\n";
        char *p = NULL;

        assert_int_equal(cg_parse_proc_cgroup(s, "memory", &p), 0);
        assert_string_equal(p, "/process_api/905c");
        free(p);
        assert_int_equal(cg_parse_proc_cgroup(s, "cpuacct", &p), 0);
        assert_string_equal(p, "/cpu/x");
        free(p);
        assert_int_equal(cg_parse_proc_cgroup(s, "cpu", &p), 0);
        assert_string_equal(p, "/cpu/x");
        free(p);
        assert_int_equal(cg_parse_proc_cgroup(s, "name=systemd", &p), 0);
        assert_string_equal(p, "/system.slice/berth.service");
        free(p);
        assert_int_equal(cg_parse_proc_cgroup(s, NULL, &p), 0);
        assert_string_equal(p, "/system.slice/berth.service");
        free(p);
        assert_int_equal(cg_parse_proc_cgroup(s, "cpuset", &p), -ENOENT);
        assert_int_equal(cg_parse_proc_cgroup(s, "mem", &p), -ENOENT);
        assert_int_equal(cg_parse_proc_cgroup("0::/\n", "memory", &p), -ENOENT);
        assert_int_equal(cg_parse_proc_cgroup("0::/", NULL, &p), 0); /* no trailing newline */
        assert_string_equal(p, "/");
        free(p);
}

static void test_cgroup_paths(void **state) {
        char *p = NULL;

        assert_int_equal(cg_path_check("services/web/0"), 0);
        assert_int_equal(cg_path_check("services/web"), 0);
        assert_int_equal(cg_path_check("services/web-api_2/17"), 0);
        assert_int_equal(cg_path_check(""), -EINVAL);
        assert_int_equal(cg_path_check("services"), -EINVAL);
        assert_int_equal(cg_path_check("services/"), -EINVAL);
        assert_int_equal(cg_path_check("services//0"), -EINVAL);
        assert_int_equal(cg_path_check("services/web/"), -EINVAL);
        assert_int_equal(cg_path_check("services/../supervisor"), -EINVAL);
        assert_int_equal(cg_path_check("services/web/.."), -EINVAL);
        assert_int_equal(cg_path_check("/services/web"), -EINVAL);
        assert_int_equal(cg_path_check("supervisor"), -EINVAL);
        assert_int_equal(cg_path_check("services/cpu.max"), -EINVAL);
        assert_int_equal(cg_path_check("services/web/cgroup.procs"), -EINVAL);
        assert_int_equal(cg_path_check(NULL), -EINVAL);

        assert_int_equal(cg_replica_path("web", 3, &p), 0);
        assert_string_equal(p, "services/web/3");
        free(p);
        assert_int_equal(cg_service_path("web", &p), 0);
        assert_string_equal(p, "services/web");
        free(p);
        assert_int_equal(cg_replica_path("web.x", 0, &p), -EINVAL);
        assert_int_equal(cg_replica_path("", 0, &p), -EINVAL);
        assert_int_equal(cg_replica_path("a/b", 0, &p), -EINVAL);
        assert_int_equal(cg_service_path("..", &p), -EINVAL);

        assert_int_equal(cg_path_normalize("//a//b/", &p), 0);
        assert_string_equal(p, "/a/b");
        free(p);
        assert_int_equal(cg_path_normalize("", &p), 0);
        assert_string_equal(p, "/");
        free(p);
        assert_int_equal(cg_path_normalize("a/b", &p), 0);
        assert_string_equal(p, "a/b");
        free(p);
        assert_int_equal(cg_path_normalize("/a/../b", &p), -EINVAL);
        assert_int_equal(cg_path_normalize("/a/./b", &p), -EINVAL);

        assert_int_equal(cg_base_path("/own", NULL, &p), 0);
        assert_string_equal(p, "/own");
        free(p);
        assert_int_equal(cg_base_path("/own", "/berth.slice", &p), 0);
        assert_string_equal(p, "/berth.slice");
        free(p);
        assert_int_equal(cg_base_path("/own", "sub/x", &p), 0);
        assert_string_equal(p, "/own/sub/x");
        free(p);
        assert_int_equal(cg_base_path("/", "sub", &p), 0);
        assert_string_equal(p, "/sub");
        free(p);
}

static void test_cgroup_detect_mode(void **state) {
        char shm[] = "/dev/shm/berth-test-cgdetect-XXXXXX", sub[PATH_MAX];
        enum cg_mode mode;
        struct statfs fs;

        /* /tmp is not tmpfs or cgroup2 here: refused */
        if (statfs("/tmp", &fs) == 0 && (unsigned long) fs.f_type != TMPFS_MAGIC &&
            (unsigned long) fs.f_type != CGROUP2_SUPER_MAGIC)
                assert_int_equal(cg_detect_mode("/tmp", &mode), -ENOMEDIUM);
        assert_int_equal(cg_detect_mode("/nonexistent-berth", &mode), -ENOENT);

        /* a tmpfs: legacy, also with a plain directory called unified */
        if (statfs("/dev/shm", &fs) == 0 && (unsigned long) fs.f_type == TMPFS_MAGIC && mkdtemp(shm)) {
                assert_int_equal(cg_detect_mode(shm, &mode), 0);
                assert_int_equal(mode, CG_MODE_LEGACY);
                snprintf(sub, sizeof(sub), "%s/unified", shm);
                assert_int_equal(mkdir(sub, 0755), 0);
                assert_int_equal(cg_detect_mode(shm, &mode), 0);
                assert_int_equal(mode, CG_MODE_LEGACY);
                assert_int_equal(rmdir(sub), 0);
                assert_int_equal(rmdir(shm), 0);
        }

        /* whatever this machine is, the answer must agree with the mounts */
        if (statfs("/sys/fs/cgroup", &fs) == 0) {
                assert_int_equal(cg_detect_mode(NULL, &mode), 0);
                if ((unsigned long) fs.f_type == CGROUP2_SUPER_MAGIC)
                        assert_int_equal(mode, CG_MODE_UNIFIED);
                else if (statfs("/sys/fs/cgroup/unified", &fs) == 0 &&
                         (unsigned long) fs.f_type == CGROUP2_SUPER_MAGIC)
                        assert_int_equal(mode, CG_MODE_HYBRID);
                else
                        assert_int_equal(mode, CG_MODE_LEGACY);
        }
        assert_string_equal(cg_mode_to_string(CG_MODE_HYBRID), "hybrid");
}

/* ---------------------------------------------------------------- v2 */

static void test_cgroup_v2_delegation(void **state) {
        struct cg *cg = open_v2(state, "/berth.slice/berth.service", NULL);

        assert_int_equal(cg_get_mode(cg), CG_MODE_UNIFIED);
        assert_int_equal(cg_get_controllers(cg), CG_MASK_MEMORY | CG_MASK_CPU | CG_MASK_PIDS);
        /* we left the inner node for a leaf before enabling controllers */
        assert_true(fake_exists("berth.slice/berth.service/supervisor"));
        assert_file("berth.slice/berth.service/supervisor/cgroup.procs", pidstr(getpid()));
        /* one write each, memory cpu pids, in our node and in services */
        assert_file("berth.slice/berth.service/cgroup.subtree_control", "+memory +cpu +pids");
        assert_file("berth.slice/berth.service/services/cgroup.subtree_control", "+memory +cpu +pids");
        assert_file("berth.slice/berth.service/supervisor/cgroup.subtree_control", "");
        /* nothing above our own cgroup was touched */
        assert_file("cgroup.subtree_control", "cpu io memory pids\n");
        assert_file("berth.slice/cgroup.subtree_control", "");
        assert_false(fake_exists("services"));
        assert_false(fake_exists("berth.slice/services"));
        assert_false(fake_exists("supervisor"));
        assert_true(cg_clone_into_is_complete(cg));
}

static void test_cgroup_v2_reopen_in_supervisor(void **state) {
        /* a second open (or a re-exec) finds us in <own>/supervisor already,
         * with controllers enabled as the kernel shows them (no '+') */
        fake_v2_node("berth.slice/berth.service/supervisor", "");
        fake_put("berth.slice/berth.service/cgroup.subtree_control", "cpu memory pids\n");
        fake_v2_node("berth.slice/berth.service/services", "cpu memory pids");
        fake_put("berth.slice/berth.service/services/cgroup.subtree_control", "memory\n");

        open_v2(state, "/berth.slice/berth.service/supervisor", NULL);
        assert_false(fake_exists("berth.slice/berth.service/supervisor/supervisor"));
        assert_file("berth.slice/berth.service/supervisor/cgroup.procs", pidstr(getpid()));
        /* already enabled: not rewritten; services only gets what it lacks */
        assert_file("berth.slice/berth.service/cgroup.subtree_control", "cpu memory pids\n");
        assert_file("berth.slice/berth.service/services/cgroup.subtree_control", "+cpu +pids");
}

static void test_cgroup_v2_explicit_parent(void **state) {
        struct cg *cg;

        fake_v2_node("berth.slice/pool", "memory pids");
        cg = open_v2(state, "/berth.slice/berth.service", "/berth.slice/pool");
        /* not our own cgroup: we stay where we are */
        assert_false(fake_exists("berth.slice/berth.service/supervisor"));
        assert_false(fake_exists("berth.slice/berth.service/services"));
        assert_file("berth.slice/berth.service/cgroup.subtree_control", "");
        assert_int_equal(cg_get_controllers(cg), CG_MASK_MEMORY | CG_MASK_PIDS);
        assert_file("berth.slice/pool/cgroup.subtree_control", "+memory +pids");
        assert_file("berth.slice/pool/services/cgroup.subtree_control", "+memory +pids");
        *state = cg_free(cg);

        /* our own cgroup given explicitly: same as NULL */
        cg = open_v2(state, "/berth.slice/berth.service", "/berth.slice/berth.service");
        assert_true(fake_exists("berth.slice/berth.service/supervisor"));
        *state = cg_free(cg);

        /* a relative parent is below our own cgroup, and must exist */
        assert_int_equal(cg_open_with(&(struct cg_options){ .root = fake.root,
                                                            .mode = CG_MODE_UNIFIED,
                                                            .own_unified = "/berth.slice/berth.service",
                                                            .parent = "nope",
                                                            .fs_ops = &fake_cgroupfs_ops },
                                      &cg),
                         -ENOENT);
        assert_int_equal(cg_open_with(&(struct cg_options){ .root = fake.root,
                                                            .mode = CG_MODE_UNIFIED,
                                                            .own_unified = "/berth.slice/berth.service",
                                                            .parent = "/a/../b",
                                                            .fs_ops = &fake_cgroupfs_ops },
                                      &cg),
                         -EINVAL);
}

static void test_cgroup_v2_create_limits(void **state) {
        struct cg *cg = open_v2(state, "/berth.slice/berth.service", NULL);
        const char *missing = NULL;

        assert_int_equal(cg_create(cg, "services/web/0", &full_limits, &missing), 0);
        assert_null(missing);
#define S "berth.slice/berth.service/services/"
        assert_file(S "web/cgroup.subtree_control", "+memory +cpu +pids");
        assert_file(S "web/0/memory.max", "268435456");
        assert_file(S "web/0/memory.low", "134217728");
        assert_file(S "web/0/cpu.max", "50000 100000");
        assert_file(S "web/0/cpu.weight", "10");
        assert_file(S "web/0/pids.max", "100");
        assert_file(S "web/0/cgroup.procs", ""); /* nobody joined yet */

        /* zero = none: the kernel defaults, written explicitly */
        assert_int_equal(cg_create(cg, "services/web/1", &(struct cg_limits){}, NULL), 0);
        assert_file(S "web/1/memory.max", "max");
        assert_file(S "web/1/memory.low", "0");
        assert_file(S "web/1/cpu.max", "max 100000");
        assert_file(S "web/1/cpu.weight", "100");
        assert_file(S "web/1/pids.max", "max");

        /* cg_set_limits rewrites in place */
        assert_int_equal(
                cg_set_limits(cg, "services/web/1", &(struct cg_limits){ .cpu_request_millis = 100, .pids_max = 7 },
                              NULL),
                0);
        assert_file(S "web/1/cpu.weight", "4");
        assert_file(S "web/1/pids.max", "7");
        assert_file(S "web/1/cpu.max", "max 100000");
        assert_int_equal(cg_set_limits(cg, "services/web/9", &full_limits, NULL), -ENOENT);
#undef S
}

static void test_cgroup_v2_missing_controller(void **state) {
        const char *missing = NULL;
        struct cg *cg;

        fake_put("berth.slice/berth.service/cgroup.controllers", "memory\n");
        cg = open_v2(state, "/berth.slice/berth.service", NULL);
        assert_int_equal(cg_get_controllers(cg), CG_MASK_MEMORY);
        assert_file("berth.slice/berth.service/cgroup.subtree_control", "+memory");

        assert_int_equal(cg_create(cg, "services/web/0", &(struct cg_limits){ .pids_max = 10 }, &missing),
                         -EOPNOTSUPP);
        assert_string_equal(missing, "pids");
        assert_false(fake_exists("berth.slice/berth.service/services/web")); /* checked before mkdir */
        assert_int_equal(cg_create(cg, "services/web/0", &(struct cg_limits){ .cpu_limit_millis = 10 }, &missing),
                         -EOPNOTSUPP);
        assert_string_equal(missing, "cpu");
        assert_int_equal(cg_check_limits(cg, &(struct cg_limits){ .memory_low = 1 }, NULL), 0);

        /* without the limit, fine: nothing written for the missing ones */
        assert_int_equal(cg_create(cg, "services/web/0", &(struct cg_limits){ .memory_max = 4096 }, NULL), 0);
        assert_file("berth.slice/berth.service/services/web/0/memory.max", "4096");
        assert_false(fake_exists("berth.slice/berth.service/services/web/0/pids.max"));
}

static void test_cgroup_v2_missing_file(void **state) {
        const char *missing = NULL;
        struct cg *cg;

        fake.omit[0] = "memory.low"; /* controller there, file not (an old kernel) */
        cg = open_v2(state, "/berth.slice/berth.service", NULL);
        assert_int_equal(cg_create(cg, "services/web/0", &(struct cg_limits){ .memory_low = 4096 }, &missing),
                         -EOPNOTSUPP);
        assert_string_equal(missing, "memory.low");
        /* rolled back: no half-made replica, no empty service node */
        assert_false(fake_exists("berth.slice/berth.service/services/web/0"));
        assert_false(fake_exists("berth.slice/berth.service/services/web"));
        assert_true(fake_exists("berth.slice/berth.service/services"));

        /* a default for a missing file is not an error */
        assert_int_equal(cg_create(cg, "services/web/0", &(struct cg_limits){ .memory_max = 4096 }, NULL), 0);
}

static void test_cgroup_v2_attach_and_paths(void **state) {
        struct cg *cg = open_v2(state, "/berth.slice/berth.service", NULL);
        char **l = NULL, expected[PATH_MAX];
        pid_t child = spawn_sleeper();
        struct stat st;
        int fd = -1;

        assert_int_equal(cg_create(cg, "services/web/0", &full_limits, NULL), 0);
        assert_int_equal(cg_attach_pid(cg, "services/web/0", child), 0);
        assert_file("berth.slice/berth.service/services/web/0/cgroup.procs", pidstr(child));
        assert_int_equal(cg_attach_pid(cg, "services/web/0", 0), -EINVAL);

        assert_int_equal(cg_procs_paths(cg, "services/web/0", 0, &l), 0);
        snprintf(expected, sizeof(expected), "%s/berth.slice/berth.service/services/web/0/cgroup.procs", fake.root);
        assert_non_null(l[0]);
        assert_string_equal(l[0], expected);
        assert_null(l[1]);
        cg_strv_free(l);
        assert_int_equal(cg_procs_paths(cg, "services/web/0", CG_PROCS_SKIP_UNIFIED, &l), 0);
        assert_null(l[0]);
        cg_strv_free(l);

        assert_int_equal(cg_open_dirfd(cg, "services/web/0", &fd), 0);
        assert_int_equal(fstat(fd, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        close(fd);
        assert_true(cg_clone_into_is_complete(cg));
        assert_int_equal(cg_open_dirfd(cg, "services/web/9", &fd), -ENOENT);
}

static void test_cgroup_v2_kill(void **state) {
        struct cg *cg = open_v2(state, "/berth.slice/berth.service", NULL);
        pid_t a = spawn_sleeper(), b;

        assert_int_equal(cg_create(cg, "services/web/0", &full_limits, NULL), 0);
        fake_put("berth.slice/berth.service/services/web/0/cgroup.procs", pidstr(a));

        /* SIGKILL: one write to cgroup.kill, the kernel does the rest */
        assert_int_equal(cg_kill_all(cg, "services/web/0", SIGKILL), 0);
        assert_file("berth.slice/berth.service/services/web/0/cgroup.kill", "1");
        assert_int_equal(kill(a, 0), 0); /* the fake kernel killed nobody */

        /* other signals: every pid in cgroup.procs */
        assert_int_equal(cg_kill_all(cg, "services/web/0", SIGTERM), 0);
        assert_int_equal(reap(a), SIGTERM);

        /* no cgroup.kill (Linux < 5.14): SIGKILL pid by pid, descendants included */
        fake.omit[0] = "cgroup.kill";
        b = spawn_sleeper();
        assert_int_equal(cg_create(cg, "services/web/1", &full_limits, NULL), 0);
        fake.omit[0] = NULL;
        assert_int_equal(cg_create(cg, "services/web/1/sub", &(struct cg_limits){}, NULL), 0);
        fake_put("berth.slice/berth.service/services/web/1/sub/cgroup.procs", pidstr(b));
        assert_int_equal(cg_kill_all(cg, "services/web/1", SIGKILL), 0);
        assert_int_equal(reap(b), SIGKILL);

        assert_int_equal(cg_kill_all(cg, "services/web/0", 0), -EINVAL);
        assert_int_equal(cg_kill_all(cg, "services/web/0", 4096), -EINVAL);
        assert_int_equal(cg_kill_all(cg, "services/nope", SIGKILL), -ENOENT);
}

static void test_cgroup_v2_refuses_other_paths(void **state) {
        struct cg *cg = open_v2(state, "/berth.slice/berth.service", NULL);
        pid_t *pids = NULL;
        size_t n;

        /* never our own cgroup, the supervisor, or anything outside services/ */
        assert_int_equal(cg_kill_all(cg, "", SIGKILL), -EINVAL);
        assert_int_equal(cg_kill_all(cg, "services", SIGKILL), -EINVAL);
        assert_int_equal(cg_kill_all(cg, "supervisor", SIGKILL), -EINVAL);
        assert_int_equal(cg_kill_all(cg, "services/../supervisor", SIGKILL), -EINVAL);
        assert_int_equal(cg_remove(cg, "services/web/cpu.max"), -EINVAL);
        assert_int_equal(cg_create(cg, "services/../x", &full_limits, NULL), -EINVAL);
        assert_int_equal(cg_attach_pid(cg, "supervisor", getpid()), -EINVAL);
        assert_int_equal(cg_get_pids(cg, "..", false, &pids, &n), -EINVAL);
        assert_file("berth.slice/berth.service/cgroup.kill", "");
}

static void test_cgroup_v2_populated_remove(void **state) {
        struct cg *cg = open_v2(state, "/berth.slice/berth.service", NULL);

#define S "berth.slice/berth.service/services/"
        assert_int_equal(cg_create(cg, "services/web/0", &full_limits, NULL), 0);
        assert_int_equal(cg_create(cg, "services/web/1", &full_limits, NULL), 0);
        assert_int_equal(cg_is_populated(cg, "services/web/0"), 0);

        fake_put(S "web/0/cgroup.events", "populated 1\nfrozen 0\n");
        assert_int_equal(cg_is_populated(cg, "services/web/0"), 1);
        assert_int_equal(cg_remove(cg, "services/web/0"), -EBUSY);
        assert_true(fake_exists(S "web/0"));

        fake_put(S "web/0/cgroup.events", "populated 0\nfrozen 0\n");
        assert_int_equal(cg_remove(cg, "services/web/0"), 0);
        assert_false(fake_exists(S "web/0"));
        assert_true(fake_exists(S "web")); /* web/1 is left */
        assert_int_equal(cg_remove(cg, "services/web/0"), 0); /* already gone: fine */

        /* a child cgroup left behind: -ENOTEMPTY, not a silent success */
        assert_int_equal(cg_create(cg, "services/web/1/sub", &(struct cg_limits){}, NULL), 0);
        assert_int_equal(cg_remove(cg, "services/web/1"), -ENOTEMPTY);
        assert_int_equal(cg_remove(cg, "services/web/1/sub"), 0);
        assert_true(fake_exists(S "web/1"));
        assert_int_equal(cg_remove(cg, "services/web/1"), 0);
        assert_false(fake_exists(S "web")); /* last replica: the service node goes too */
        assert_true(fake_exists("berth.slice/berth.service/services"));
#undef S
}

static void test_cgroup_v2_create_existing(void **state) {
        struct cg *cg = open_v2(state, "/berth.slice/berth.service", NULL);

#define S "berth.slice/berth.service/services/"
        assert_int_equal(cg_create(cg, "services/web/0", &full_limits, NULL), 0);
        fake_put(S "web/0/cgroup.events", "populated 1\n");
        assert_int_equal(cg_create(cg, "services/web/0", &(struct cg_limits){}, NULL), -EEXIST);
        assert_true(fake_exists(S "web/0")); /* someone else's processes: left alone */
        assert_file(S "web/0/pids.max", "100");

        /* an empty leftover is reused, its limits rewritten */
        fake_put(S "web/0/cgroup.events", "populated 0\n");
        assert_int_equal(cg_create(cg, "services/web/0", &(struct cg_limits){ .pids_max = 5 }, NULL), 0);
        assert_file(S "web/0/pids.max", "5");
#undef S
}

static void test_cgroup_v2_oom(void **state) {
        struct cg *cg = open_v2(state, "/berth.slice/berth.service", NULL);
        struct inotify_event ev;
        uint64_t n = 99;
        int fd = -1;

        assert_int_equal(cg_create(cg, "services/web/0", &full_limits, NULL), 0);
        assert_int_equal(cg_oom_kill_count(cg, "services/web/0", &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(cg_oom_watch(cg, "services/web/0", &fd), 0);
        fake_put("berth.slice/berth.service/services/web/0/memory.events", "low 0\nhigh 0\nmax 7\noom 3\noom_kill 3\n");
        wait_readable(fd);
        assert_true(read(fd, &ev, sizeof(ev)) >= (ssize_t) sizeof(ev));
        assert_true(ev.mask & IN_MODIFY);
        close(fd);
        assert_int_equal(cg_oom_kill_count(cg, "services/web/0", &n), 0);
        assert_int_equal(n, 3);

        fake_put("berth.slice/berth.service/services/web/0/memory.events", "low 0\n");
        assert_int_equal(cg_oom_kill_count(cg, "services/web/0", &n), -ENODATA);
}

static void test_cgroup_v2_watch_empty(void **state) {
        struct cg *cg = open_v2(state, "/berth.slice/berth.service", NULL);
        char *p = NULL, expected[PATH_MAX];
        struct inotify_event ev;
        int fd = -1;

        assert_int_equal(cg_create(cg, "services/web/0", &full_limits, NULL), 0);
        assert_int_equal(cg_watch_empty(cg, "services/web/0", &fd), 0);
        fake_put("berth.slice/berth.service/services/web/0/cgroup.events", "populated 0\nfrozen 0\n");
        wait_readable(fd);
        assert_true(read(fd, &ev, sizeof(ev)) >= (ssize_t) sizeof(ev));
        assert_true(ev.mask & IN_MODIFY);
        close(fd);

        assert_int_equal(cg_events_path(cg, "services/web/0", &p), 0);
        snprintf(expected, sizeof(expected), "%s/berth.slice/berth.service/services/web/0/cgroup.events",
                 fake.root);
        assert_string_equal(p, expected);
        free(p);
        assert_int_equal(cg_watch_empty(cg, "services/nope/0", &fd), -ENOENT);
}

static void test_cgroup_v2_list_and_pids(void **state) {
        struct cg *cg = open_v2(state, "/berth.slice/berth.service", NULL);
        pid_t *pids = NULL;
        char **l = NULL;
        size_t n = 0;

        assert_int_equal(cg_list(cg, &l), 0);
        assert_null(l[0]);
        cg_strv_free(l);

        assert_int_equal(cg_create(cg, "services/web/0", &full_limits, NULL), 0);
        assert_int_equal(cg_create(cg, "services/web/1", &full_limits, NULL), 0);
        assert_int_equal(cg_create(cg, "services/db/0", &full_limits, NULL), 0);
        fake_mkdir_p("berth.slice/berth.service/services/empty");

        assert_int_equal(cg_list(cg, &l), 0);
        assert_string_equal(l[0], "services/db");
        assert_string_equal(l[1], "services/db/0");
        assert_string_equal(l[2], "services/empty");
        assert_string_equal(l[3], "services/web");
        assert_string_equal(l[4], "services/web/0");
        assert_string_equal(l[5], "services/web/1");
        assert_null(l[6]);
        cg_strv_free(l);

        fake_put("berth.slice/berth.service/services/web/0/cgroup.procs", "30\n10\n");
        fake_put("berth.slice/berth.service/services/web/1/cgroup.procs", "20\n10\n");
        assert_int_equal(cg_get_pids(cg, "services/web", true, &pids, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(pids[0], 10);
        assert_int_equal(pids[1], 20);
        assert_int_equal(pids[2], 30);
        free(pids);
        assert_int_equal(cg_get_pids(cg, "services/web", false, &pids, &n), 0);
        assert_int_equal(n, 0);
        free(pids);
        fake_put("berth.slice/berth.service/services/web/0/cgroup.procs", "12x\n");
        assert_int_equal(cg_get_pids(cg, "services/web/0", false, &pids, &n), -EBADMSG);
}

/* ---------------------------------------------------------------- v1 hybrid */

static void test_cgroup_hybrid_open(void **state) {
        struct cg *cg = open_v1(state, CG_MODE_HYBRID, SIZE_MAX, NULL);

        assert_int_equal(cg_get_mode(cg), CG_MODE_HYBRID);
        assert_int_equal(cg_get_controllers(cg),
                         CG_MASK_MEMORY | CG_MASK_CPU | CG_MASK_CPUACCT | CG_MASK_PIDS | CG_MASK_FREEZER);
        /* our own cgroup per hierarchy: memory differs */
        assert_true(fake_exists("memory/process_api/abc/services"));
        assert_false(fake_exists("memory/services"));
        assert_true(fake_exists("cpu/services"));
        assert_true(fake_exists("cpuacct/services"));
        assert_true(fake_exists("pids/services"));
        assert_true(fake_exists("freezer/services"));
        assert_true(fake_exists("unified/services")); /* the tracking tree */
        /* nothing moved, nothing enabled on v1/hybrid */
        assert_false(fake_exists("unified/supervisor"));
        assert_file("unified/cgroup.subtree_control", "");
        assert_file("unified/services/cgroup.subtree_control", "");
        assert_false(cg_clone_into_is_complete(cg));
}

static void test_cgroup_hybrid_create_limits(void **state) {
        struct cg *cg = open_v1(state, CG_MODE_HYBRID, SIZE_MAX, NULL);

        assert_int_equal(cg_create(cg, "services/web/0", &full_limits, NULL), 0);
        assert_file("memory/process_api/abc/services/web/0/memory.limit_in_bytes", "268435456");
        assert_file("memory/process_api/abc/services/web/0/memory.soft_limit_in_bytes", "134217728");
        assert_file("cpu/services/web/0/cpu.cfs_period_us", "100000");
        assert_file("cpu/services/web/0/cpu.cfs_quota_us", "50000");
        assert_file("cpu/services/web/0/cpu.shares", "256");
        assert_file("pids/services/web/0/pids.max", "100");
        assert_true(fake_exists("cpuacct/services/web/0"));
        assert_file("freezer/services/web/0/freezer.state", "THAWED\n");
        assert_true(fake_exists("unified/services/web/0/cgroup.events"));
        /* no v2 names on v1 (the libcgroup trap) */
        assert_false(fake_exists("cpu/services/web/0/cpu.max"));
        assert_false(fake_exists("memory/process_api/abc/services/web/0/memory.max"));

        assert_int_equal(cg_create(cg, "services/web/1", &(struct cg_limits){ .cpu_request_millis = 100 }, NULL), 0);
        assert_file("memory/process_api/abc/services/web/1/memory.limit_in_bytes", "-1");
        assert_file("memory/process_api/abc/services/web/1/memory.soft_limit_in_bytes", "-1");
        assert_file("cpu/services/web/1/cpu.cfs_quota_us", "-1");
        assert_file("cpu/services/web/1/cpu.shares", "102");
        assert_file("pids/services/web/1/pids.max", "max");
        assert_int_equal(cg_create(cg, "services/web/2", &(struct cg_limits){}, NULL), 0);
        assert_file("cpu/services/web/2/cpu.shares", "1024");
}

static void test_cgroup_hybrid_attach(void **state) {
        struct cg *cg = open_v1(state, CG_MODE_HYBRID, SIZE_MAX, NULL);
        pid_t child = spawn_sleeper();
        char **l = NULL, expected[PATH_MAX];
        int fd = -1;
        size_t n;

        assert_int_equal(cg_create(cg, "services/web/0", &full_limits, NULL), 0);
        assert_int_equal(cg_attach_pid(cg, "services/web/0", child), 0);
        assert_file("memory/process_api/abc/services/web/0/cgroup.procs", pidstr(child));
        assert_file("cpu/services/web/0/cgroup.procs", pidstr(child));
        assert_file("cpuacct/services/web/0/cgroup.procs", pidstr(child));
        assert_file("pids/services/web/0/cgroup.procs", pidstr(child));
        assert_file("freezer/services/web/0/cgroup.procs", pidstr(child));
        assert_file("unified/services/web/0/cgroup.procs", pidstr(child));
        assert_file("memory/process_api/abc/services/web/0/tasks", ""); /* never tasks */

        assert_int_equal(cg_procs_paths(cg, "services/web/0", 0, &l), 0);
        for (n = 0; l[n]; n++)
                ;
        assert_int_equal(n, 6);
        snprintf(expected, sizeof(expected), "%s/unified/services/web/0/cgroup.procs", fake.root);
        assert_string_equal(l[5], expected); /* the tracking tree last */
        snprintf(expected, sizeof(expected), "%s/memory/process_api/abc/services/web/0/cgroup.procs", fake.root);
        assert_string_equal(l[0], expected);
        cg_strv_free(l);
        assert_int_equal(cg_procs_paths(cg, "services/web/0", CG_PROCS_SKIP_UNIFIED, &l), 0);
        for (n = 0; l[n]; n++)
                assert_null(strstr(l[n], "/unified/"));
        assert_int_equal(n, 5);
        cg_strv_free(l);

        assert_int_equal(cg_open_dirfd(cg, "services/web/0", &fd), 0);
        close(fd);
}

static void test_cgroup_hybrid_kill_and_track(void **state) {
        struct cg *cg = open_v1(state, CG_MODE_HYBRID, SIZE_MAX, NULL);
        pid_t child = spawn_sleeper();
        int fd = -1;

        assert_int_equal(cg_create(cg, "services/web/0", &full_limits, NULL), 0);
        assert_int_equal(cg_attach_pid(cg, "services/web/0", child), 0);

        /* populated comes from the tracking tree's cgroup.events */
        assert_int_equal(cg_is_populated(cg, "services/web/0"), 0);
        fake_put("unified/services/web/0/cgroup.events", "populated 1\nfrozen 0\n");
        assert_int_equal(cg_is_populated(cg, "services/web/0"), 1);
        assert_int_equal(cg_watch_empty(cg, "services/web/0", &fd), 0);
        close(fd);

        assert_int_equal(cg_kill_all(cg, "services/web/0", SIGKILL), 0);
        assert_file("unified/services/web/0/cgroup.kill", "1");
        assert_file("freezer/services/web/0/freezer.state", "THAWED\n"); /* untouched */
        assert_int_equal(kill(child, 0), 0);

        /* not SIGKILL: the v1 freezer path */
        assert_int_equal(cg_kill_all(cg, "services/web/0", SIGTERM), 0);
        assert_int_equal(reap(child), SIGTERM);
        assert_file("freezer/services/web/0/freezer.state", "THAWED");

        assert_int_equal(cg_remove(cg, "services/web/0"), -EBUSY);
        fake_put("unified/services/web/0/cgroup.events", "populated 0\nfrozen 0\n");
        for (size_t i = 0; i < ELEMENTSOF(v1_names); i++) {
                char rel[PATH_MAX];

                snprintf(rel, sizeof(rel), "%s%s/services/web/0/cgroup.procs", v1_names[i],
                         streq(v1_names[i], "memory") ? "/process_api/abc" : "");
                fake_put(rel, "");
        }
        fake_put("unified/services/web/0/cgroup.procs", "");
        assert_int_equal(cg_remove(cg, "services/web/0"), 0);
        assert_false(fake_exists("unified/services/web"));
        assert_false(fake_exists("cpu/services/web"));
        assert_false(fake_exists("memory/process_api/abc/services/web"));
        assert_true(fake_exists("memory/process_api/abc/services"));
}

/* ---------------------------------------------------------------- v1 legacy */

static void test_cgroup_legacy_kill_freezes(void **state) {
        struct cg *cg = open_v1(state, CG_MODE_LEGACY, SIZE_MAX, NULL);
        pid_t child = spawn_sleeper();
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        uint32_t seen[8];
        size_t n_seen = 0;
        ssize_t n;
        int in;

        assert_int_equal(cg_create(cg, "services/web/0", &full_limits, NULL), 0);
        assert_int_equal(cg_attach_pid(cg, "services/web/0", child), 0);

        /* record opens/closes of freezer.state: write FROZEN, read until
         * FROZEN, signal, write THAWED */
        in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        assert_true(in >= 0);
        assert_true(inotify_add_watch(in, fake_path("freezer/services/web/0/freezer.state"),
                                      IN_CLOSE_WRITE | IN_CLOSE_NOWRITE) >= 0);

        assert_int_equal(cg_kill_all(cg, "services/web/0", SIGKILL), 0);
        assert_int_equal(reap(child), SIGKILL);

        n = read(in, buf, sizeof(buf));
        assert_true(n > 0);
        for (char *p = buf; p < buf + n && n_seen < ELEMENTSOF(seen);) {
                struct inotify_event *ev = (struct inotify_event *) p;

                seen[n_seen++] = ev->mask;
                p += sizeof(*ev) + ev->len;
        }
        close(in);
        assert_int_equal(n_seen, 3);
        assert_int_equal(seen[0], IN_CLOSE_WRITE);   /* FROZEN */
        assert_int_equal(seen[1], IN_CLOSE_NOWRITE); /* read back: FROZEN */
        assert_int_equal(seen[2], IN_CLOSE_WRITE);   /* THAWED */
        assert_file("freezer/services/web/0/freezer.state", "THAWED");
}

static void test_cgroup_legacy_no_tracking_tree(void **state) {
        struct cg *cg = open_v1(state, CG_MODE_LEGACY, SIZE_MAX, NULL);
        char *p = NULL;
        int fd = -1;

        assert_false(fake_exists("unified"));
        assert_int_equal(cg_create(cg, "services/web/0", &full_limits, NULL), 0);
        assert_int_equal(cg_watch_empty(cg, "services/web/0", &fd), -EOPNOTSUPP);
        assert_int_equal(cg_events_path(cg, "services/web/0", &p), -EOPNOTSUPP);
        assert_int_equal(cg_open_dirfd(cg, "services/web/0", &fd), -EOPNOTSUPP);
        assert_false(cg_clone_into_is_complete(cg));

        /* populated = a pid anywhere below, in any hierarchy */
        assert_int_equal(cg_is_populated(cg, "services/web"), 0);
        fake_put("pids/services/web/0/cgroup.procs", "4242\n");
        assert_int_equal(cg_is_populated(cg, "services/web/0"), 1);
        assert_int_equal(cg_is_populated(cg, "services/web"), 1);
        assert_int_equal(cg_remove(cg, "services/web/0"), -EBUSY);
        assert_true(fake_exists("cpu/services/web/0"));
        fake_put("pids/services/web/0/cgroup.procs", "");
        assert_int_equal(cg_remove(cg, "services/web/0"), 0);
        for (size_t i = 0; i < ELEMENTSOF(v1_names); i++) {
                char rel[PATH_MAX];

                snprintf(rel, sizeof(rel), "%s%s/services/web", v1_names[i],
                         streq(v1_names[i], "memory") ? "/process_api/abc" : "");
                assert_false(fake_exists(rel));
        }
}

static void test_cgroup_legacy_oom(void **state) {
        struct cg *cg = open_v1(state, CG_MODE_LEGACY, SIZE_MAX, NULL);
        char link[64], target[64], *ec = NULL;
        int fd = -1, efd = -2, ofd = -2;
        uint64_t n = 99;
        ssize_t l;

        assert_int_equal(cg_create(cg, "services/web/0", &full_limits, NULL), 0);
        assert_int_equal(cg_oom_kill_count(cg, "services/web/0", &n), 0);
        assert_int_equal(n, 0);
        fake_put("memory/process_api/abc/services/web/0/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
        assert_int_equal(cg_oom_kill_count(cg, "services/web/0", &n), 0);
        assert_int_equal(n, 2);

        assert_int_equal(cg_oom_watch(cg, "services/web/0", &fd), 0);
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        l = readlink(link, target, sizeof(target) - 1);
        assert_true(l > 0);
        target[l] = 0;
        assert_string_equal(target, "anon_inode:[eventfd]");
        /* registered as "<eventfd> <memory.oom_control fd>" */
        ec = fake_get("memory/process_api/abc/services/web/0/cgroup.event_control");
        assert_int_equal(sscanf(ec, "%d %d", &efd, &ofd), 2);
        assert_int_equal(efd, fd);
        assert_true(ofd >= 0 && ofd != fd);
        free(ec);
        close(fd);
}

static void test_cgroup_legacy_missing_controller(void **state) {
        const char *missing = NULL;
        struct cg *cg;

        fake.omit[0] = "cpu.cfs_quota_us"; /* a kernel without CONFIG_CFS_BANDWIDTH */
        cg = open_v1(state, CG_MODE_LEGACY, 3 /* pids */, NULL);
        assert_int_equal(cg_get_controllers(cg), CG_MASK_MEMORY | CG_MASK_CPU | CG_MASK_CPUACCT | CG_MASK_FREEZER);
        assert_int_equal(cg_create(cg, "services/web/0", &(struct cg_limits){ .pids_max = 1 }, &missing),
                         -EOPNOTSUPP);
        assert_string_equal(missing, "pids");
        assert_int_equal(cg_create(cg, "services/web/0", &(struct cg_limits){ .cpu_limit_millis = 500 }, &missing),
                         -EOPNOTSUPP);
        assert_string_equal(missing, "cpu.cfs_quota_us");
        assert_false(fake_exists("cpu/services/web"));
        assert_false(fake_exists("memory/process_api/abc/services/web"));
        assert_int_equal(cg_create(cg, "services/web/0", &(struct cg_limits){ .cpu_request_millis = 500 }, NULL), 0);
        assert_file("cpu/services/web/0/cpu.shares", "512");
}

static void test_cgroup_legacy_comounted(void **state) {
        struct cg_v1_hierarchy v1[] = {
                { "cpu", NULL, "/" },
                { "cpuacct", NULL, "/" },
                { "memory", NULL, "/" },
        };
        char mount[PATH_MAX], mem[PATH_MAX];
        struct cg *cg = NULL, *other = NULL;

        fake_mkdir_p("cpu,cpuacct");
        fake_populate_v1("cpu,cpuacct", "cpu,cpuacct");
        snprintf(mount, sizeof(mount), "%s/cpu,cpuacct", fake.root);
        snprintf(mem, sizeof(mem), "%s/memory", fake.root);
        v1[0].mount = v1[1].mount = mount;
        v1[2].mount = mem;
        assert_int_equal(cg_open_with(&(struct cg_options){ .root = fake.root,
                                                            .mode = CG_MODE_LEGACY,
                                                            .v1 = v1,
                                                            .n_v1 = ELEMENTSOF(v1),
                                                            .fs_ops = &fake_cgroupfs_ops },
                                      &cg),
                         0);
        *state = cg;
        assert_int_equal(cg->n_hier, 2);
        assert_string_equal(cg->hier[0].name, "cpu,cpuacct");
        assert_int_equal(cg_get_controllers(cg), CG_MASK_CPU | CG_MASK_CPUACCT | CG_MASK_MEMORY);
        assert_int_equal(cg_create(cg, "services/web/0", &full_limits, NULL), -EOPNOTSUPP); /* no pids */
        assert_int_equal(cg_create(cg, "services/web/0", &(struct cg_limits){ .cpu_limit_millis = 2000 }, NULL), 0);
        assert_file("cpu,cpuacct/services/web/0/cpu.cfs_quota_us", "200000");
        assert_file("cpu,cpuacct/services/web/0/cpuacct.usage", "0\n");

        /* unknown controller in an explicit list */
        v1[0].controller = "blkio";
        assert_int_equal(cg_open_with(&(struct cg_options){ .root = fake.root,
                                                            .mode = CG_MODE_LEGACY,
                                                            .v1 = v1,
                                                            .n_v1 = 1,
                                                            .fs_ops = &fake_cgroupfs_ops },
                                      &other),
                         -EINVAL);
}

static void test_cgroup_legacy_relative_parent(void **state) {
        struct cg *cg;

        /* "berth" = below our own cgroup in every hierarchy, which differ */
        for (size_t i = 0; i < ELEMENTSOF(v1_names); i++) {
                char rel[PATH_MAX];

                snprintf(rel, sizeof(rel), "%s%s/berth", v1_names[i],
                         streq(v1_names[i], "memory") ? "/process_api/abc" : "");
                fake_mkdir_p(rel);
                fake_populate_v1(rel, v1_names[i]);
        }
        cg = open_v1(state, CG_MODE_LEGACY, SIZE_MAX, "berth");
        assert_int_equal(cg_create(cg, "services/web/0", &full_limits, NULL), 0);
        assert_file("memory/process_api/abc/berth/services/web/0/memory.limit_in_bytes", "268435456");
        assert_file("pids/berth/services/web/0/pids.max", "100");
        assert_false(fake_exists("memory/process_api/abc/services"));
        assert_false(fake_exists("pids/services"));
}

int main(void) {
#define T(name, setup) cmocka_unit_test_setup_teardown(name, setup, teardown)
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cgroup_cpu_conversions),
                cmocka_unit_test(test_cgroup_ecg_errno),
                cmocka_unit_test(test_cgroup_parse_proc_cgroup),
                cmocka_unit_test(test_cgroup_paths),
                cmocka_unit_test(test_cgroup_detect_mode),
                T(test_cgroup_v2_delegation, setup_v2),
                T(test_cgroup_v2_reopen_in_supervisor, setup_v2),
                T(test_cgroup_v2_explicit_parent, setup_v2),
                T(test_cgroup_v2_create_limits, setup_v2),
                T(test_cgroup_v2_missing_controller, setup_v2),
                T(test_cgroup_v2_missing_file, setup_v2),
                T(test_cgroup_v2_attach_and_paths, setup_v2),
                T(test_cgroup_v2_kill, setup_v2),
                T(test_cgroup_v2_refuses_other_paths, setup_v2),
                T(test_cgroup_v2_populated_remove, setup_v2),
                T(test_cgroup_v2_create_existing, setup_v2),
                T(test_cgroup_v2_oom, setup_v2),
                T(test_cgroup_v2_watch_empty, setup_v2),
                T(test_cgroup_v2_list_and_pids, setup_v2),
                T(test_cgroup_hybrid_open, setup_hybrid),
                T(test_cgroup_hybrid_create_limits, setup_hybrid),
                T(test_cgroup_hybrid_attach, setup_hybrid),
                T(test_cgroup_hybrid_kill_and_track, setup_hybrid),
                T(test_cgroup_legacy_kill_freezes, setup_legacy),
                T(test_cgroup_legacy_no_tracking_tree, setup_legacy),
                T(test_cgroup_legacy_oom, setup_legacy),
                T(test_cgroup_legacy_missing_controller, setup_legacy),
                T(test_cgroup_legacy_comounted, setup_legacy),
                T(test_cgroup_legacy_relative_parent, setup_legacy),
        };
#undef T
        return cmocka_run_group_tests(tests, NULL, NULL);
}
