/* raw-launch.c: the lower bound for starting a replica, for bench/start-latency.
 *
 * Per replica, only what any agent must do: create a cgroup in each given
 * hierarchy and write the limits (before anything joins), clone into new
 * pid, mount, uts and ipc namespaces, have the child join the cgroups
 * (cgroup.procs of each) and exec the stamp program. No shim, no records,
 * no file-system setup. Replicas are started one after another without
 * waiting for the previous one to exec, as an agent does.
 *
 *   raw-launch --stamp PATH --out DIR --count N --cgroup DIR [--cgroup DIR]...
 *              [--memory BYTES] [--cpu-millis M] [--pids N] [--timeout-ms MS]
 *              [--interval-us US]
 *
 * Each --cgroup DIR is an existing directory in one hierarchy (the bench's
 * own parent); replica i gets DIR/raw-<i>. The stamp of replica i writes to
 * OUT/<i>. Prints "<i> <decision µs> <stamp µs>" per replica once all have
 * stamped (or the timeout passed: missing stamps print as 0), then kills its
 * children, reaps them and removes the cgroups it made. --interval-us paces
 * the starts (one every US µs, as a slower agent would) instead of a burst. Exit status: 0 when
 * every replica stamped, 1 otherwise. Root only (cgroups, namespaces). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CGROUPS 16

static uint64_t now_us(clockid_t clk) {
        struct timespec ts;
        clock_gettime(clk, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

/* One write(2), as cgroupfs wants. Missing files are the caller's business. */
static int write_at(int dirfd, const char *path, const char *value) {
        int fd = openat(dirfd, path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = write(fd, value, strlen(value));
        int r = n < 0 ? -errno : 0;
        close(fd);
        return r;
}

static void usage(FILE *f) {
        fprintf(f, "Usage: raw-launch --stamp PATH --out DIR --count N --cgroup DIR [--cgroup DIR]...\n"
                   "                  [--memory BYTES] [--cpu-millis M] [--pids N] [--timeout-ms MS]\n"
                   "                  [--interval-us US]\n"
                   "Starts N stamp replicas the minimal way (cgroups + limits, clone into new\n"
                   "pid/mount/uts/ipc namespaces, join, exec) and prints \"<i> <decision-us> <stamp-us>\".\n");
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "stamp", required_argument, NULL, 's' },      { "out", required_argument, NULL, 'o' },
                { "count", required_argument, NULL, 'n' },      { "cgroup", required_argument, NULL, 'c' },
                { "memory", required_argument, NULL, 'm' },     { "cpu-millis", required_argument, NULL, 'u' },
                { "pids", required_argument, NULL, 'p' },       { "timeout-ms", required_argument, NULL, 't' },
                { "interval-us", required_argument, NULL, 'i' },
                { "help", no_argument, NULL, 'h' },             {},
        };
        const char *stamp = NULL, *out = NULL, *cg_dirs[MAX_CGROUPS];
        unsigned long long memory = 0, cpu_millis = 0, pids = 0, timeout_ms = 30000, interval_us = 0;
        long count = 0;
        size_t n_cg = 0;
        int c;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0)
                switch (c) {
                case 's': stamp = optarg; break;
                case 'o': out = optarg; break;
                case 'n': count = strtol(optarg, NULL, 10); break;
                case 'c':
                        if (n_cg >= MAX_CGROUPS) {
                                fprintf(stderr, "raw-launch: at most %d --cgroup\n", MAX_CGROUPS);
                                return 2;
                        }
                        cg_dirs[n_cg++] = optarg;
                        break;
                case 'm': memory = strtoull(optarg, NULL, 10); break;
                case 'u': cpu_millis = strtoull(optarg, NULL, 10); break;
                case 'p': pids = strtoull(optarg, NULL, 10); break;
                case 't': timeout_ms = strtoull(optarg, NULL, 10); break;
                case 'i': interval_us = strtoull(optarg, NULL, 10); break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        if (!stamp || !out || count <= 0 || count > 100000 || n_cg == 0) {
                usage(stderr);
                return 2;
        }

        int cg_fd[MAX_CGROUPS];
        for (size_t k = 0; k < n_cg; k++) {
                cg_fd[k] = open(cg_dirs[k], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (cg_fd[k] < 0) {
                        fprintf(stderr, "raw-launch: open %s: %m\n", cg_dirs[k]);
                        return 1;
                }
        }
        uint64_t *t0 = calloc((size_t) count, sizeof *t0);
        pid_t *pid = calloc((size_t) count, sizeof *pid);
        char **file = calloc((size_t) count, sizeof *file);
        if (!t0 || !pid || !file)
                return 1;
        for (long i = 0; i < count; i++)
                if (asprintf(&file[i], "%s/%ld", out, i) < 0)
                        return 1;

        char mem_v[32], quota_v[32], pids_v[32];
        snprintf(mem_v, sizeof mem_v, "%llu", memory);
        snprintf(quota_v, sizeof quota_v, "%llu", cpu_millis * 100);
        snprintf(pids_v, sizeof pids_v, "%llu", pids);
        static char *empty_env[] = { NULL };
        int failed = 0;

        uint64_t next = now_us(CLOCK_MONOTONIC);
        for (long i = 0; i < count; i++) {
                char name[32], p[64];
                snprintf(name, sizeof name, "raw-%ld", i);

                if (interval_us > 0) {
                        uint64_t now = now_us(CLOCK_MONOTONIC);
                        if (next > now) {
                                struct timespec ts = { .tv_sec = (time_t) ((next - now) / 1000000),
                                                       .tv_nsec = (long) ((next - now) % 1000000) * 1000 };
                                (void) nanosleep(&ts, NULL);
                        }
                        next += interval_us;
                }

                t0[i] = now_us(CLOCK_REALTIME); /* the decision */
                for (size_t k = 0; k < n_cg; k++) {
                        if (mkdirat(cg_fd[k], name, 0755) < 0 && errno != EEXIST) {
                                fprintf(stderr, "raw-launch: mkdir %s/%s: %m\n", cg_dirs[k], name);
                                failed = 1;
                                goto stop;
                        }
                        /* the limits; a file that does not exist in this hierarchy is skipped */
#define LIMIT(file, value, cond)                                                        \
        if (cond) {                                                                     \
                snprintf(p, sizeof p, "%s/" file, name);                                 \
                int r_ = write_at(cg_fd[k], p, value);                                   \
                if (r_ < 0 && r_ != -ENOENT) {                                           \
                        fprintf(stderr, "raw-launch: write %s/%s: %s\n", cg_dirs[k], p, strerror(-r_)); \
                        failed = 1;                                                      \
                        goto stop;                                                       \
                }                                                                        \
        }
                        LIMIT("memory.limit_in_bytes", mem_v, memory > 0);
                        LIMIT("cpu.cfs_period_us", "100000", cpu_millis > 0);
                        LIMIT("cpu.cfs_quota_us", quota_v, cpu_millis > 0);
                        LIMIT("pids.max", pids_v, pids > 0);
#undef LIMIT
                }

                pid_t child = (pid_t) syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD,
                                              NULL, NULL, NULL, 0);
                if (child < 0) {
                        fprintf(stderr, "raw-launch: clone: %m\n");
                        failed = 1;
                        goto stop;
                }
                if (child == 0) {
                        /* join every hierarchy first, then exec */
                        for (size_t k = 0; k < n_cg; k++) {
                                snprintf(p, sizeof p, "%s/cgroup.procs", name);
                                if (write_at(cg_fd[k], p, "0") < 0)
                                        _exit(126);
                        }
                        char *args[] = { (char *) stamp, file[i], NULL };
                        execve(stamp, args, empty_env);
                        _exit(127);
                }
                pid[i] = child;
        }

        /* wait (bounded) for every stamp */
        uint64_t deadline = now_us(CLOCK_MONOTONIC) + timeout_ms * 1000;
        for (long i = 0; i < count;) {
                struct stat st;
                if (stat(file[i], &st) == 0 && st.st_size > 0) {
                        i++;
                        continue;
                }
                if (now_us(CLOCK_MONOTONIC) > deadline) {
                        fprintf(stderr, "raw-launch: replica %ld did not stamp within %llu ms\n", i, timeout_ms);
                        failed = 1;
                        break;
                }
                (void) nanosleep(&(struct timespec) { .tv_nsec = 1000 * 1000 }, NULL);
        }

stop:
        for (long i = 0; i < count; i++) {
                unsigned long long s = 0;
                FILE *f = pid[i] > 0 ? fopen(file[i], "re") : NULL;
                if (f) {
                        if (fscanf(f, "%llu", &s) != 1)
                                s = 0;
                        fclose(f);
                }
                if (pid[i] > 0)
                        printf("%ld %" PRIu64 " %llu\n", i, t0[i], s);
        }
        fflush(stdout);

        /* cleanup: kill and reap our children, remove our cgroups */
        for (long i = 0; i < count; i++)
                if (pid[i] > 0)
                        (void) kill(pid[i], SIGKILL);
        for (long i = 0; i < count; i++)
                if (pid[i] > 0)
                        while (waitpid(pid[i], NULL, 0) < 0 && errno == EINTR)
                                ;
        for (long i = 0; i < count; i++) {
                char name[32];
                snprintf(name, sizeof name, "raw-%ld", i);
                for (size_t k = 0; k < n_cg; k++)
                        for (int tries = 0; tries < 200; tries++) {
                                if (unlinkat(cg_fd[k], name, AT_REMOVEDIR) == 0 || errno == ENOENT)
                                        break;
                                if (errno != EBUSY) {
                                        fprintf(stderr, "raw-launch: rmdir %s/%s: %m\n", cg_dirs[k], name);
                                        break;
                                }
                                (void) nanosleep(&(struct timespec) { .tv_nsec = 5 * 1000 * 1000 }, NULL);
                        }
        }
        return failed;
}
