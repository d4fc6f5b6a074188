/* test-shim.c: integration tests of the real berth-shim (TEST_BUILDDIR
 * "/agent/berth-shim") through agent/shim-client.c. Needs root (namespaces,
 * mounts); exits 77 (skip) otherwise.
 *
 * Each test writes a launch spec for a /bin/sh script into a fresh tmpdir,
 * whose out/ is bound at /run/out in the replica (the scripts leave their
 * observations there), spawns the shim and talks to it. We are a child
 * subreaper, so the daemonized shims are reparented to us and reaped here;
 * we only ever signal the pids we started. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "launch.h"
#include "macro.h"
#include "shim-client.h"
#include "shim-proto.h"

#define SHIM_PATH TEST_BUILDDIR "/agent/berth-shim"
#define TIMEOUT_MS 10000
#define ENV_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct fx {
        char dir[64], out[96], spec_path[96];
        struct launch_spec spec;
        pid_t shim, replica;
        int fd;
        bool quit_done;
        struct shim_status hello_exit; /* a run's end that HELLO reported (run 0: none) */
};

/* Every shim a test started, so that one failing mid-way (cmocka jumps out of
 * it) leaves nothing running: see cleanup_leftovers(). */
static struct started {
        pid_t shim, replica;
        char dir[64];
        bool finished;
} started[64];
static size_t n_started;

static void track(const struct fx *f) {
        if (n_started < ELEMENTSOF(started)) {
                started[n_started] = (struct started) { .shim = f->shim, .replica = f->replica };
                snprintf(started[n_started].dir, sizeof started[n_started].dir, "%s", f->dir);
                n_started++;
        }
}

static void untrack(const struct fx *f) {
        for (size_t i = 0; i < n_started; i++)
                if (started[i].shim == f->shim)
                        started[i].finished = true;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw);

static void cleanup_leftovers(void) {
        for (size_t i = 0; i < n_started; i++) {
                struct started *t = &started[i];
                if (t->finished)
                        continue;
                /* Only our own: the mini-init (its pid namespace dies with it) and the shim. */
                if (t->replica > 0)
                        (void) kill(t->replica, SIGKILL);
                if (t->shim > 0)
                        (void) kill(t->shim, SIGKILL);
                if (t->shim > 0)
                        (void) waitpid(t->shim, NULL, 0);
                if (t->replica > 0)
                        (void) waitpid(t->replica, NULL, 0); /* reparented to us, the subreaper */
                nftw(t->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        }
}

static char *xstrdup(const char *s) {
        char *d = strdup(s);
        assert_non_null(d);
        return d;
}

static char *xasprintf(const char *fmt, ...) _printf_(1, 2);
static char *xasprintf(const char *fmt, ...) {
        va_list ap;
        char *s;
        va_start(ap, fmt);
        assert_true(vasprintf(&s, fmt, ap) >= 0);
        va_end(ap);
        return s;
}

static void set_argv(struct launch_spec *s, const char *const *argv) {
        size_t n = 0;
        while (argv[n])
                n++;
        if (s->argv)
                for (char **p = s->argv; *p; p++)
                        free(*p);
        free(s->argv);
        s->argv = calloc(n + 1, sizeof(char *));
        assert_non_null(s->argv);
        for (size_t i = 0; i < n; i++)
                s->argv[i] = xstrdup(argv[i]);
}

/* Default: every namespace, network none, read-only host root, out/ at /run/out. */
static void fx_init(struct fx *f, const char *script) {
        const char *argv[] = { "/bin/sh", "-c", script, NULL };

        memset(f, 0, sizeof *f);
        f->fd = -1;
        strcpy(f->dir, "/tmp/test-shim-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->out, sizeof f->out, "%s/out", f->dir);
        snprintf(f->spec_path, sizeof f->spec_path, "%s/spec", f->dir);
        assert_int_equal(mkdir(f->out, 0755), 0);

        launch_spec_init(&f->spec);
        f->spec.id = xstrdup("web-0");
        f->spec.hostname = xstrdup("web-0");
        f->spec.clone_flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP;
        f->spec.net_none = true;
        f->spec.read_only_root = true;
        f->spec.mounts = calloc(1, sizeof *f->spec.mounts);
        assert_non_null(f->spec.mounts);
        f->spec.mounts[0] = (struct launch_mount) { xstrdup(f->out), xstrdup("/run/out"), false };
        f->spec.n_mounts = 1;
        set_argv(&f->spec, argv);
        f->spec.env = calloc(4, sizeof(char *));
        assert_non_null(f->spec.env);
        f->spec.env[0] = xstrdup(ENV_PATH);
        f->spec.env[1] = xstrdup("BERTH_TEST=a b=c");
        f->spec.env[2] = xstrdup("HOME=/");
        f->spec.log_dir = xasprintf("%s/logs", f->dir);
        f->spec.status_path = xasprintf("%s/status", f->dir);
        f->spec.socket_path = xasprintf("%s/sock", f->dir);
}

static int fx_spawn(struct fx *f, char **ret_error) {
        assert_int_equal(launch_spec_write(&f->spec, f->spec_path), 0);
        return shim_spawn(SHIM_PATH, f->spec_path, &f->shim, &f->replica, ret_error);
}

static void fx_connect(struct fx *f, struct shim_msg *ret_hello) {
        struct shim_msg m;

        f->fd = shim_connect(f->spec.socket_path);
        assert_true(f->fd >= 0);
        assert_int_equal(shim_recv_timeout(f->fd, &m, TIMEOUT_MS), 0);
        assert_int_equal(m.type, SHIM_MSG_HELLO);
        assert_int_equal(m.status.shim_pid, f->shim);
        /* a run that ended before we connected: HELLO carries its end, and no
         * EXITED follows (shim-proto.h) */
        f->hello_exit = m.status.state == SHIM_RUN_EXITED && !m.status.acked ? m.status : (struct shim_status) {};
        if (ret_hello)
                *ret_hello = m;
}

static void fx_start(struct fx *f) {
        _cleanup_free_ char *error = NULL;
        struct shim_msg hello;
        int r = fx_spawn(f, &error);

        if (r < 0)
                print_error("shim_spawn: %d %s\n", r, error ? error : "");
        assert_int_equal(r, 0);
        track(f);
        assert_true(f->shim > 0 && f->replica > 0);
        fx_connect(f, &hello);
        assert_int_equal(hello.status.run, 1);
        assert_int_equal(hello.status.pid, f->replica);
}

static struct shim_status fx_wait_exited(struct fx *f) {
        struct shim_msg m;
        if (f->hello_exit.run > 0) {
                m.status = f->hello_exit;
                f->hello_exit = (struct shim_status) {};
                return m.status;
        }
        for (;;) {
                assert_int_equal(shim_recv_timeout(f->fd, &m, TIMEOUT_MS), 0);
                if (m.type == SHIM_MSG_EXITED)
                        return m.status;
        }
}

static struct shim_msg fx_call(struct fx *f, struct shim_msg req, int expect) {
        struct shim_msg reply = {};
        assert_int_equal(shim_call(f->fd, &req, &reply, NULL, TIMEOUT_MS), expect);
        return reply;
}

static struct shim_status fx_status(struct fx *f) {
        return fx_call(f, shim_msg_request(SHIM_MSG_GET_STATUS), 0).status;
}

/* Waits for a file in out/ and returns its content (malloc'd). */
static char *fx_read(struct fx *f, const char *name) {
        _cleanup_free_ char *path = xasprintf("%s/%s", f->out, name);
        for (int i = 0; i < TIMEOUT_MS / 10; i++) {
                FILE *fp = fopen(path, "re");
                if (fp) {
                        char *buf = calloc(1, 65536);
                        size_t n;
                        assert_non_null(buf);
                        n = fread(buf, 1, 65535, fp);
                        fclose(fp);
                        if (n > 0)
                                return buf;
                        free(buf);
                }
                usleep(10000);
        }
        fail_msg("%s never appeared", path);
        return NULL;
}

static bool wait_pid_exit(pid_t pid, int timeout_ms) {
        int pfd = (int) syscall(SYS_pidfd_open, pid, 0);
        struct pollfd p = { .fd = pfd, .events = POLLIN };
        bool ok;

        if (pfd < 0)
                return true; /* already reaped */
        ok = poll(&p, 1, timeout_ms) == 1;
        close(pfd);
        if (ok)
                (void) waitpid(pid, NULL, 0);
        return ok;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

/* Ends the run if still active, QUITs the shim, checks it left, cleans up. */
static void fx_finish(struct fx *f) {
        struct stat st;

        if (f->shim > 0 && kill(f->shim, 0) == 0 && !f->quit_done) {
                if (f->fd < 0)
                        fx_connect(f, NULL);
                if (fx_status(f).state == SHIM_RUN_RUNNING) {
                        fx_call(f, (struct shim_msg) { .type = SHIM_MSG_SIGNAL, .signo = SIGKILL }, 0);
                        fx_wait_exited(f);
                }
                fx_call(f, shim_msg_request(SHIM_MSG_QUIT), 0);
        }
        if (f->shim > 0 && !wait_pid_exit(f->shim, TIMEOUT_MS)) {
                (void) kill(f->shim, SIGKILL); /* our own shim only */
                wait_pid_exit(f->shim, TIMEOUT_MS);
                fail_msg("shim %d did not exit after QUIT", (int) f->shim);
        }
        untrack(f);
        /* QUIT removes the socket. */
        assert_int_equal(stat(f->spec.socket_path, &st), -1);
        safe_close(f->fd);
        launch_spec_done(&f->spec);
        nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* out/NAME, in a buffer of the fixture's (valid until the next call) */
static const char *xasprintf_tmp(struct fx *f, const char *name) {
        static char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", f->out, name);
        return path;
}

static void *mfree(void *p) {
        free(p);
        return NULL;
}

static int write_file(const char *path, const char *text) {
        FILE *fp = fopen(path, "we");
        if (!fp)
                return -errno;
        fputs(text, fp);
        return fclose(fp) == 0 ? 0 : -errno;
}

/* The path of a file in the replica's log directory. */
static char *fx_log(const struct fx *f, const char *name) {
        return xasprintf("%s/%s", f->spec.log_dir, name);
}

static char *read_host_file(const char *path) {
        FILE *fp = fopen(path, "re");
        char *buf = calloc(1, 65536);
        assert_non_null(fp);
        assert_non_null(buf);
        (void) !fread(buf, 1, 65535, fp);
        fclose(fp);
        return buf;
}

/* ------------------------------------------------------------ tests */

static void test_shim_sandbox(void **state) {
        static const char script[] =
                "o=/run/out\n"
                "echo $$ $PPID > $o/ids\n"
                "cat /proc/sys/kernel/hostname > $o/hostname\n"
                "if touch /berth-ro-probe 2>/dev/null; then echo rw; else echo ro; fi > $o/root\n"
                "ls -A /tmp | wc -l > $o/tmp_entries\n"
                "stat -f -c %T /tmp > $o/tmp_fs\n"
                "touch /tmp/berth-probe && echo ok > $o/tmp_write\n"
                "ls -A /dev > $o/dev\n"
                "tr '\\0' '\\n' < /proc/$$/environ > $o/env\n"
                "grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status > $o/caps\n"
                "cat /run/cfg/app.conf > $o/cfg\n"
                "if echo x >> /run/cfg/app.conf; then echo rw; else echo ro; fi >> $o/cfg 2>/dev/null\n"
                "ls /dev/pts > $o/pts\n"
                /* a node made in /dev (CAP_MKNOD is in the default set) must not work */
                "if mknod /dev/berth-null c 1 3 2>/dev/null && echo x > /dev/berth-null 2>/dev/null;"
                " then echo usable; else echo refused; fi > $o/mknod\n"
                "echo done > $o/done\n"
                "exec sleep 1000\n";
        _cleanup_free_ char *ids = NULL, *host = NULL, *root = NULL, *n = NULL, *fs = NULL, *w = NULL, *dev = NULL,
                           *env = NULL, *caps = NULL, *nspid = NULL, *path = NULL, *done = NULL, *cfg = NULL,
                           *cfg_seen = NULL, *pts = NULL, *mknod_seen = NULL;
        char expect_caps[64];
        struct shim_status st;
        struct stat sb;
        struct fx f;

        fx_init(&f, script);
        /* A read-only file mount whose target (and its directory) does not exist yet. */
        cfg = xasprintf("%s/app.conf", f.dir);
        assert_int_equal(write_file(cfg, "key=value\n"), 0);
        f.spec.mounts = realloc(f.spec.mounts, 2 * sizeof *f.spec.mounts);
        assert_non_null(f.spec.mounts);
        f.spec.mounts[1] = (struct launch_mount) { xstrdup(cfg), xstrdup("/run/cfg/app.conf"), true };
        f.spec.n_mounts = 2;
        fx_start(&f);
        done = fx_read(&f, "done");
        ids = fx_read(&f, "ids");
        assert_string_equal(ids, "2 1\n"); /* the service is PID 2, child of mini-init, PID 1 */
        host = fx_read(&f, "hostname");
        assert_string_equal(host, "web-0\n");
        root = fx_read(&f, "root");
        assert_string_equal(root, "ro\n");
        if (strcmp(root, "ro\n") != 0)
                (void) unlink("/berth-ro-probe");
        n = fx_read(&f, "tmp_entries");
        assert_string_equal(n, "0\n");
        fs = fx_read(&f, "tmp_fs");
        assert_string_equal(fs, "tmpfs\n");
        w = fx_read(&f, "tmp_write");
        assert_string_equal(w, "ok\n");
        assert_int_equal(stat("/tmp/berth-probe", &sb), -1); /* private to the replica */
        dev = fx_read(&f, "dev");
        assert_string_equal(dev, "fd\nfull\nnull\nptmx\npts\nrandom\nshm\nstderr\nstdin\nstdout\ntty\nurandom\nzero\n");
        env = fx_read(&f, "env");
        assert_string_equal(env, ENV_PATH "\nBERTH_TEST=a b=c\nHOME=/\n");
        caps = fx_read(&f, "caps");
        snprintf(expect_caps, sizeof expect_caps, "%016llx", (unsigned long long) LAUNCH_CAPS_DEFAULT);
        assert_non_null(strstr(caps, expect_caps));
        assert_non_null(strstr(caps, "NoNewPrivs:\t1"));
        cfg_seen = fx_read(&f, "cfg");
        assert_string_equal(cfg_seen, "key=value\nro\n");
        pts = fx_read(&f, "pts");
        assert_string_equal(pts, "ptmx\n"); /* a fresh devpts instance: no host ptys */
        mknod_seen = fx_read(&f, "mknod");
        assert_string_equal(mknod_seen, "refused\n"); /* /dev is nodev */

        /* From the host: two pid levels, the inner one 2. */
        st = fx_status(&f);
        assert_int_equal(st.state, SHIM_RUN_RUNNING);
        assert_true(st.service_pid > 0);
        path = xasprintf("/proc/%d/status", (int) st.service_pid);
        nspid = read_host_file(path);
        {
                char line[64];
                snprintf(line, sizeof line, "NSpid:\t%d\t2", (int) st.service_pid);
                assert_non_null(strstr(nspid, line));
        }

        /* SIGKILL goes to the service directly and is reported exactly. */
        fx_call(&f, (struct shim_msg) { .type = SHIM_MSG_SIGNAL, .signo = SIGKILL }, 0);
        st = fx_wait_exited(&f);
        assert_int_equal(st.exit_signal, SIGKILL);
        assert_int_equal(st.exit_code, -1);
        fx_finish(&f);
}

static void test_shim_exit_code_and_log(void **state) {
        _cleanup_free_ char *log = NULL, *path = NULL;
        struct shim_status st, file;
        struct fx f;

        fx_init(&f, "echo to-stdout; echo to-stderr >&2; exit 3");
        fx_start(&f);
        st = fx_wait_exited(&f);
        assert_int_equal(st.exit_code, 3);
        assert_int_equal(st.exit_signal, 0);
        assert_string_equal(st.exec_error, "");
        assert_int_equal(st.run, 1);
        assert_int_equal(shim_status_read(f.spec.status_path, &file), 0);
        assert_int_equal(file.state, SHIM_RUN_EXITED);
        assert_int_equal(file.exit_code, 3);
        path = fx_log(&f, "00000001.log");
        log = read_host_file(path);
        assert_non_null(strstr(log, "Z stdout F to-stdout\n"));
        assert_non_null(strstr(log, "Z stderr F to-stderr\n"));
        fx_finish(&f);
}

static void test_shim_killed_by_signal(void **state) {
        struct shim_status st;
        struct fx f;

        fx_init(&f, "kill -9 $$");
        fx_start(&f);
        st = fx_wait_exited(&f);
        assert_int_equal(st.exit_signal, SIGKILL);
        assert_int_equal(st.exit_code, -1);
        fx_finish(&f);
}

static void run_failing(const char *const *argv, struct launch_mount *extra, int expect_code, const char *expect) {
        struct shim_status st;
        struct fx f;

        fx_init(&f, "true");
        set_argv(&f.spec, argv);
        if (extra) {
                f.spec.mounts = realloc(f.spec.mounts, 2 * sizeof *f.spec.mounts);
                assert_non_null(f.spec.mounts);
                f.spec.mounts[1] = (struct launch_mount) { xstrdup(extra->source), xstrdup(extra->target),
                                                           extra->read_only };
                f.spec.n_mounts = 2;
        }
        fx_start(&f);
        st = fx_wait_exited(&f);
        if (!strstr(st.exec_error, expect))
                print_error("%s: exec_error: '%s', exit %d\n", argv[0], st.exec_error, st.exit_code);
        assert_non_null(strstr(st.exec_error, expect));
        assert_int_equal(st.exit_code, expect_code);
        fx_finish(&f);
}

static void test_shim_exec_failure(void **state) {
        run_failing((const char *[]) { "/usr/bin/nope", NULL }, NULL, 127,
                    "exec /usr/bin/nope: No such file or directory");
        run_failing((const char *[]) { "berth-no-such-command", NULL }, NULL, 127,
                    "exec berth-no-such-command: No such file or directory (not found in PATH=/usr/local/sbin:");
        run_failing((const char *[]) { "/etc/passwd", NULL }, NULL, 126, "exec /etc/passwd: Permission denied");
        run_failing((const char *[]) { "/bin/true", NULL },
                    &(struct launch_mount) { (char *) "/nonexistent/web", (char *) "/data", false }, 127,
                    "mount /data: No such file or directory (source /nonexistent/web)");
        run_failing((const char *[]) { "/bin/true", NULL },
                    &(struct launch_mount) { (char *) "/etc", (char *) "/berth-no-such-dir", true }, 126,
                    "mount /berth-no-such-dir: Read-only file system (source /etc; the target does not exist");
}

static void test_shim_sigterm_forwarded(void **state) {
        _cleanup_free_ char *ready = NULL, *term = NULL;
        struct shim_status st;
        struct fx f;

        fx_init(&f, "trap 'echo got > /run/out/term; exit 7' TERM\n"
                    "echo ready > /run/out/ready\n"
                    "while :; do sleep 0.05; done\n");
        fx_start(&f);
        ready = fx_read(&f, "ready");
        /* A second START while running is refused. */
        fx_call(&f, shim_msg_request(SHIM_MSG_START), -EBUSY);
        fx_call(&f, (struct shim_msg) { .type = SHIM_MSG_SIGNAL, .signo = SIGTERM }, 0);
        st = fx_wait_exited(&f);
        assert_int_equal(st.exit_code, 7);
        term = fx_read(&f, "term");
        assert_string_equal(term, "got\n");
        /* No run: SIGNAL is refused. */
        fx_call(&f, (struct shim_msg) { .type = SHIM_MSG_SIGNAL, .signo = SIGTERM }, -ESRCH);
        fx_finish(&f);
}

/* An orphan is reparented to the mini-init and reaped by it. */
static void check_orphans_reaped(uint64_t clone_flags) {
        static const char script[] =
                "sh -c 'sleep 0.3 & echo $! > /run/out/orphan'\n"
                "o=$(cat /run/out/orphan)\n"
                "sleep 0.1; grep PPid /proc/$o/status | cut -f2 > /run/out/ppid\n"
                "sleep 0.6; if test -e /proc/$o; then echo zombie; else echo reaped; fi > /run/out/result\n";
        _cleanup_free_ char *ppid = NULL, *result = NULL, *expect = NULL;
        struct shim_status st;
        struct fx f;

        fx_init(&f, script);
        f.spec.clone_flags = clone_flags;
        f.spec.net_none = false;
        fx_start(&f);
        st = fx_wait_exited(&f);
        assert_int_equal(st.exit_code, 0);
        ppid = fx_read(&f, "ppid");
        expect = clone_flags & CLONE_NEWPID ? xstrdup("1\n") : xasprintf("%d\n", (int) st.pid);
        assert_string_equal(ppid, expect);
        result = fx_read(&f, "result");
        assert_string_equal(result, "reaped\n");
        fx_finish(&f);
}

static void test_shim_zombies_reaped(void **state) {
        check_orphans_reaped(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC);
        /* Without a pid namespace the mini-init is a subreaper. */
        check_orphans_reaped(CLONE_NEWNS);
}

#define PROG_SCRIPT "#!/bin/sh\necho run >> /run/out/runs; echo line $(wc -l < /run/out/runs); printf tail >&2; exit 4\n"

/* Without a pid namespace every run gets a fresh mini-init; with one, the
 * mini-init stays (idle between runs) and the next run starts in it. */
static void check_restart(uint64_t clone_flags) {
        _cleanup_free_ char *runs = NULL, *prog = NULL, *p1 = NULL, *p2 = NULL, *p3 = NULL, *log1 = NULL,
                           *log2 = NULL, *log3 = NULL;
        const char *argv[] = { "/run/out/prog", NULL };
        bool in_place = clone_flags & CLONE_NEWPID;
        struct shim_status first, second, third;
        struct shim_msg reply;
        struct fx f;

        fx_init(&f, "unused");
        f.spec.clone_flags = clone_flags;
        f.spec.net_none = false;
        set_argv(&f.spec, argv);
        prog = xasprintf("%s/prog", f.out);
        /* each run writes its own log file; an unterminated last line is an F record */
        assert_int_equal(write_file(prog, PROG_SCRIPT), 0);
        assert_int_equal(chmod(prog, 0755), 0);
        fx_start(&f);
        first = fx_wait_exited(&f);
        assert_int_equal(first.exit_code, 4);
        assert_true(first.service_pid > 0);
        assert_int_equal(first.init_alive, in_place);
        assert_int_equal(kill(first.pid, 0) == 0, in_place); /* the idle mini-init waits */
        p1 = fx_log(&f, "00000001.log");
        log1 = read_host_file(p1);
        assert_non_null(strstr(log1, "Z stdout F line 1\n"));
        assert_non_null(strstr(log1, "Z stderr F tail\n"));
        fx_call(&f, (struct shim_msg) { .type = SHIM_MSG_ACK_EXIT, .run = 2 }, -ESRCH);
        reply = fx_call(&f, (struct shim_msg) { .type = SHIM_MSG_ACK_EXIT, .run = 1 }, 0);
        assert_true(reply.status.acked);
        assert_int_equal(reply.status.init_alive, in_place);

        /* Run 2: the program is gone, the exec failure is reported as ever. */
        assert_int_equal(unlink(prog), 0);
        reply = fx_call(&f, shim_msg_request(SHIM_MSG_START), 0);
        assert_int_equal(reply.status.run, 2);
        assert_int_equal(reply.status.shim_pid, f.shim);
        assert_int_equal(reply.status.state, SHIM_RUN_RUNNING);
        assert_false(reply.status.init_alive);
        if (in_place)
                assert_int_equal(reply.status.pid, first.pid);
        else
                assert_true(reply.status.pid != first.pid);
        second = fx_wait_exited(&f);
        assert_int_equal(second.run, 2);
        assert_int_equal(second.exit_code, 127);
        assert_string_equal(second.exec_error, "exec /run/out/prog: No such file or directory");
        assert_int_equal(second.init_alive, in_place);
        assert_true(second.service_pid > 0 && second.service_pid != first.service_pid);

        /* Run 3: back again. */
        assert_int_equal(write_file(prog, PROG_SCRIPT), 0);
        assert_int_equal(chmod(prog, 0755), 0);
        reply = fx_call(&f, shim_msg_request(SHIM_MSG_START), 0);
        assert_int_equal(reply.status.run, 3);
        assert_int_equal(reply.status.pid == first.pid, in_place);
        third = fx_wait_exited(&f);
        assert_int_equal(third.run, 3);
        assert_int_equal(third.exit_code, 4);
        assert_string_equal(third.exec_error, "");
        runs = fx_read(&f, "runs");
        assert_string_equal(runs, "run\nrun\n");
        /* run 3 started: run 2 (the previous one) is kept, run 1 is gone */
        p2 = fx_log(&f, "00000002.log");
        p3 = fx_log(&f, "00000003.log");
        log2 = read_host_file(p2);
        log3 = read_host_file(p3);
        assert_string_equal(log2, "");
        assert_non_null(strstr(log3, "Z stdout F line 2\n"));
        assert_non_null(strstr(log3, "Z stderr F tail\n"));
        assert_int_equal(access(p1, F_OK), -1);
        fx_finish(&f);
        if (in_place) /* QUIT ended the idle mini-init too */
                assert_true(wait_pid_exit(first.pid, TIMEOUT_MS));
}

static void test_shim_restart_in_place(void **state) {
        check_restart(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC);
        check_restart(CLONE_NEWNS);
}

/* The host pids of pid's children (/proc/PID/task/PID/children), "" if none. */
static char *children_of(pid_t pid) {
        _cleanup_free_ char *path = xasprintf("/proc/%d/task/%d/children", (int) pid, (int) pid);
        return read_host_file(path);
}

static int pidfd_exited(int pidfd, int timeout_ms) {
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        return poll(&p, 1, timeout_ms) == 1;
}

/* Restart in place: the same mini-init, no new cgroup join, and what run 1
 * left in the pid namespace (a child, an orphan) is gone before run 2. */
static void test_shim_restart_in_place_cleans(void **state) {
        static const char script[] =
                "o=/run/out\n"
                "n=$(($(cat $o/n 2>/dev/null || echo 0) + 1)); echo $n > $o/n\n"
                "echo $$ $PPID > $o/ids$n\n"
                "if [ $n = 1 ]; then\n"
                "  sleep 1000 &\n"
                "  sh -c 'sleep 1000 & echo $! > /run/out/orphan'\n"
                "  echo ready > $o/ready1\n"
                "  exec sleep 1000\n"
                "fi\n"
                "if [ -e /proc/$(cat $o/orphan) ]; then echo alive; else echo gone; fi > $o/orphan$n\n"
                "echo ready > $o/ready$n\n"
                "exec sleep 1000\n";
        _cleanup_free_ char *v1 = xasprintf("/sys/fs/cgroup/pids/berth-test-%d-ip", (int) getpid());
        _cleanup_free_ char *ready1 = NULL, *ready2 = NULL, *ids2 = NULL, *orphan2 = NULL, *kids1 = NULL,
                           *svc_kids = NULL, *idle_kids = NULL, *kids2 = NULL, *cg_path = NULL, *cg1 = NULL,
                           *cg2 = NULL, *svc_cg = NULL, *svc_cg_path = NULL, *line = NULL, *expect = NULL;
        bool have_v1 = mkdir(v1, 0755) == 0;
        int pidfds[8], n_pidfds = 0;
        struct shim_status st, first;
        struct shim_msg reply;
        struct fx f;

        fx_init(&f, script);
        if (have_v1) {
                f.spec.cgroup_procs = calloc(2, sizeof(char *));
                assert_non_null(f.spec.cgroup_procs);
                f.spec.cgroup_procs[0] = xasprintf("%s/cgroup.procs", v1);
        } else
                print_message("no v1 pids hierarchy here: cgroup part skipped\n");
        fx_start(&f);
        ready1 = fx_read(&f, "ready1");
        st = fx_status(&f);
        assert_true(st.service_pid > 0);
        cg_path = xasprintf("/proc/%d/cgroup", (int) f.replica);
        cg1 = read_host_file(cg_path);
        if (have_v1) {
                line = xasprintf("pids:/berth-test-%d-ip\n", (int) getpid());
                assert_non_null(strstr(cg1, line));
        }

        /* What run 1 leaves behind: the orphan (a child of the mini-init now)
         * and the service's own child. */
        kids1 = children_of(f.replica);
        svc_kids = children_of(st.service_pid);
        for (const char *list[] = { kids1, svc_kids }, **l = list; l < list + 2; l++)
                for (char *p = (char *) *l; *p;) {
                        char *end;
                        long pid = strtol(p, &end, 10);
                        if (end == p)
                                break;
                        p = end;
                        if (pid == st.service_pid)
                                continue;
                        assert_true(n_pidfds < (int) ELEMENTSOF(pidfds));
                        pidfds[n_pidfds] = (int) syscall(SYS_pidfd_open, (pid_t) pid, 0);
                        assert_true(pidfds[n_pidfds] >= 0);
                        n_pidfds++;
                }
        assert_int_equal(n_pidfds, 2);

        fx_call(&f, (struct shim_msg) { .type = SHIM_MSG_SIGNAL, .signo = SIGKILL }, 0);
        first = fx_wait_exited(&f);
        assert_int_equal(first.exit_signal, SIGKILL);
        assert_true(first.init_alive);
        assert_int_equal(first.pid, f.replica);
        /* EXITED comes once the namespace is empty: the leftovers are dead,
         * the idle mini-init has no child left. */
        for (int i = 0; i < n_pidfds; i++) {
                assert_true(pidfd_exited(pidfds[i], 0));
                close(pidfds[i]);
        }
        idle_kids = children_of(f.replica);
        assert_string_equal(idle_kids, "");
        assert_int_equal(kill(f.replica, 0), 0);

        reply = fx_call(&f, shim_msg_request(SHIM_MSG_START), 0);
        assert_int_equal(reply.status.run, 2);
        assert_int_equal(reply.status.pid, f.replica);
        ready2 = fx_read(&f, "ready2");
        st = fx_status(&f);
        assert_int_equal(st.pid, f.replica);
        assert_true(st.service_pid > 0 && st.service_pid != first.service_pid);
        orphan2 = fx_read(&f, "orphan2");
        assert_string_equal(orphan2, "gone\n"); /* seen from inside too */
        ids2 = fx_read(&f, "ids2");
        assert_string_equal(strchr(ids2, ' '), " 1\n"); /* the service's parent is PID 1 again */
        kids2 = children_of(f.replica);
        expect = xasprintf("%d ", (int) st.service_pid);
        assert_string_equal(kids2, expect); /* the new service, nothing else */
        /* No migration: the mini-init stayed where it was; the new service
         * was forked there. */
        cg2 = read_host_file(cg_path);
        assert_string_equal(cg2, cg1);
        svc_cg_path = xasprintf("/proc/%d/cgroup", (int) st.service_pid);
        svc_cg = read_host_file(svc_cg_path);
        if (have_v1)
                assert_non_null(strstr(svc_cg, line));
        fx_finish(&f);
        assert_true(wait_pid_exit(first.pid, TIMEOUT_MS));
        if (have_v1)
                assert_int_equal(rmdir(v1), 0);
}

/* berthd's standing order (ARM): the shim restarts an ended run at once, in
 * the same mini-init, and says so in EXITED (NEXT_STARTED); only under the
 * order's conditions, only for the run it names, never after a SIGNAL. */
static void test_shim_standing_order(void **state) {
        static const char script[] =
                "o=/run/out\n"
                "n=$(($(cat $o/n 2>/dev/null || echo 0) + 1)); echo $n > $o/n\n"
                "echo run $n\n"
                "while [ ! -e $o/go$n ]; do sleep 0.01; done\n"
                "case $n in 1) exit 3;; 2) exit 0;; 3) exit 5;; *) exec sleep 1000;; esac\n";
        _cleanup_free_ char *p1 = NULL, *p2 = NULL, *log1 = NULL, *log2 = NULL;
        struct shim_status st, ended;
        struct shim_msg reply;
        struct fx f;

        fx_init(&f, script);
        fx_start(&f);

        /* an order for another run is dropped, without an error */
        reply = fx_call(&f, (struct shim_msg) { .type = SHIM_MSG_ARM, .run = 99 }, 0);
        assert_int_equal(reply.status.run, 1);

        /* run 1 on failure, no minimum uptime: ends with 3, run 2 follows at once */
        fx_call(&f, (struct shim_msg) { .type = SHIM_MSG_ARM, .run = 1, .on_failure = true }, 0);
        assert_int_equal(write_file(xasprintf_tmp(&f, "go1"), ""), 0);
        ended = fx_wait_exited(&f);
        assert_int_equal(ended.run, 1);
        assert_int_equal(ended.exit_code, 3);
        assert_true(ended.next_started);
        assert_true(ended.init_alive);
        st = fx_status(&f);
        assert_int_equal(st.run, 2);
        assert_int_equal(st.state, SHIM_RUN_RUNNING);
        assert_int_equal(st.pid, ended.pid); /* in place */
        /* the restart by order starts a new log file too */
        p1 = fx_log(&f, "00000001.log");
        p2 = fx_log(&f, "00000002.log");
        log1 = read_host_file(p1);
        assert_non_null(strstr(log1, "Z stdout F run 1\n"));
        assert_null(strstr(log1, "run 2"));
        assert_int_equal(access(p2, F_OK), 0);
        /* the end of run 1 stays in the status until acknowledged: a berthd
         * that connects now (it was away) learns it from HELLO */
        assert_int_equal(st.prev_run, 1);
        assert_int_equal(st.prev_exit_code, 3);
        assert_int_equal(st.prev_exit_signal, 0);
        assert_true(st.prev_exit_usec >= st.start_usec - 1000000 && st.prev_exit_usec > 0);
        safe_close(f.fd);
        fx_connect(&f, &reply);
        assert_int_equal(reply.status.run, 2);
        assert_int_equal(reply.status.prev_run, 1);
        assert_int_equal(reply.status.prev_exit_code, 3);
        reply = fx_call(&f, (struct shim_msg) { .type = SHIM_MSG_ACK_EXIT, .run = 1 }, 0); /* not an error */
        assert_int_equal(reply.status.prev_run, 0); /* forgotten once acknowledged */

        /* run 2 on failure only: exits 0, reported, not restarted */
        fx_call(&f, (struct shim_msg) { .type = SHIM_MSG_ARM, .run = 2, .on_failure = true }, 0);
        assert_int_equal(write_file(xasprintf_tmp(&f, "go2"), ""), 0);
        ended = fx_wait_exited(&f);
        assert_int_equal(ended.run, 2);
        assert_int_equal(ended.exit_code, 0);
        assert_false(ended.next_started);
        log2 = read_host_file(p2);
        assert_non_null(strstr(log2, "Z stdout F run 2\n"));
        assert_int_equal(fx_status(&f).state, SHIM_RUN_EXITED);

        /* run 3 after an hour of uptime only: ends early, not restarted */
        reply = fx_call(&f, shim_msg_request(SHIM_MSG_START), 0);
        assert_int_equal(reply.status.run, 3);
        fx_call(&f, (struct shim_msg) { .type = SHIM_MSG_ARM, .run = 3, .min_uptime_usec = UINT64_C(3600000000) }, 0);
        assert_int_equal(write_file(xasprintf_tmp(&f, "go3"), ""), 0);
        ended = fx_wait_exited(&f);
        assert_int_equal(ended.run, 3);
        assert_int_equal(ended.exit_code, 5);
        assert_false(ended.next_started);

        /* run 4: ordered, then berthd stops it: the SIGNAL cancels the order */
        assert_int_equal(write_file(xasprintf_tmp(&f, "go4"), ""), 0);
        reply = fx_call(&f, shim_msg_request(SHIM_MSG_START), 0);
        assert_int_equal(reply.status.run, 4);
        fx_call(&f, (struct shim_msg) { .type = SHIM_MSG_ARM, .run = 4 }, 0);
        fx_call(&f, (struct shim_msg) { .type = SHIM_MSG_SIGNAL, .signo = SIGKILL }, 0);
        ended = fx_wait_exited(&f);
        assert_int_equal(ended.run, 4);
        assert_int_equal(ended.exit_signal, SIGKILL);
        assert_false(ended.next_started);
        assert_int_equal(fx_status(&f).state, SHIM_RUN_EXITED);
        fx_finish(&f);
}

/* QUIT with an idle mini-init: it exits, then the shim. */
static void test_shim_quit_idle_init(void **state) {
        struct shim_status st, file = {};
        struct shim_msg reply;
        struct stat sb;
        struct fx f;

        fx_init(&f, "exit 0");
        fx_start(&f);
        st = fx_wait_exited(&f);
        assert_true(st.init_alive);
        assert_int_equal(kill(f.replica, 0), 0);
        reply = fx_call(&f, shim_msg_request(SHIM_MSG_QUIT), 0);
        assert_int_equal(reply.status.state, SHIM_RUN_EXITED);
        assert_true(wait_pid_exit(f.replica, TIMEOUT_MS));
        assert_true(wait_pid_exit(f.shim, TIMEOUT_MS));
        assert_int_equal(stat(f.spec.socket_path, &sb), -1);
        /* The file is left as it was (berthd may be removing its directory):
         * only a live shim's word counts. */
        assert_int_equal(shim_status_read(f.spec.status_path, &file), 0);
        assert_int_equal(file.state, SHIM_RUN_EXITED);
        assert_int_equal(file.run, 1);
        f.quit_done = true;
        fx_finish(&f);
}

/* An idle mini-init that dies (the OOM killer, a cgroup kill): the next
 * START clones a fresh one. */
static void test_shim_idle_init_killed(void **state) {
        struct shim_status st, file = {};
        struct shim_msg reply;
        pid_t old;
        struct fx f;

        fx_init(&f, "echo run >> /run/out/runs; exit 2");
        fx_start(&f);
        st = fx_wait_exited(&f);
        assert_true(st.init_alive);
        old = f.replica;
        assert_int_equal(kill(old, SIGKILL), 0); /* ours: the test started it */
        assert_true(wait_pid_exit(old, TIMEOUT_MS));
        for (int i = 0; i < TIMEOUT_MS / 10; i++) { /* the shim reaps it: the file says so */
                if (shim_status_read(f.spec.status_path, &file) == 0 && !file.init_alive)
                        break;
                usleep(10000);
        }
        assert_false(file.init_alive);
        assert_int_equal(file.state, SHIM_RUN_EXITED);
        assert_int_equal(file.exit_code, 2); /* the run's status is kept */
        assert_false(fx_status(&f).init_alive);
        reply = fx_call(&f, shim_msg_request(SHIM_MSG_START), 0);
        assert_int_equal(reply.status.run, 2);
        assert_true(reply.status.pid != old);
        f.replica = reply.status.pid;
        track(&f);
        st = fx_wait_exited(&f);
        assert_int_equal(st.run, 2);
        assert_int_equal(st.exit_code, 2);
        assert_true(st.init_alive);

        /* Dead, and START right away, maybe before the shim reaped it: "S"
         * finds its channel closed, the shim reaps it and clones afresh. */
        old = f.replica;
        assert_int_equal(kill(old, SIGKILL), 0);
        assert_true(wait_pid_exit(old, TIMEOUT_MS));
        reply = fx_call(&f, shim_msg_request(SHIM_MSG_START), 0);
        assert_int_equal(reply.status.run, 3);
        assert_true(reply.status.pid != old);
        f.replica = reply.status.pid;
        track(&f);
        st = fx_wait_exited(&f);
        assert_int_equal(st.run, 3);
        assert_int_equal(st.exit_code, 2);
        fx_finish(&f);
}

static void test_shim_reconnect(void **state) {
        struct shim_status file = {};
        struct shim_msg hello, reply;
        struct fx f;

        fx_init(&f, "sleep 0.3; exit 5");
        fx_start(&f);
        f.fd = safe_close(f.fd); /* berthd goes away */
        for (int i = 0; i < TIMEOUT_MS / 10; i++) {
                if (shim_status_read(f.spec.status_path, &file) == 0 && file.state == SHIM_RUN_EXITED)
                        break;
                usleep(10000);
        }
        assert_int_equal(file.state, SHIM_RUN_EXITED);
        assert_int_equal(kill(f.shim, 0), 0); /* the shim carries on */
        fx_connect(&f, &hello);
        assert_int_equal(hello.status.state, SHIM_RUN_EXITED);
        assert_int_equal(hello.status.exit_code, 5);
        assert_false(hello.status.acked);
        reply = fx_call(&f, (struct shim_msg) { .type = SHIM_MSG_ACK_EXIT, .run = 1 }, 0);
        assert_true(reply.status.acked);
        /* A new connection replaces the old one. */
        f.fd = safe_close(f.fd);
        fx_connect(&f, &hello);
        assert_true(hello.status.acked);
        fx_finish(&f);
}

static uint64_t inode_of(int fd) {
        struct stat st;
        assert_int_equal(fstat(fd, &st), 0);
        return (uint64_t) st.st_ino;
}

/* Socket activation: berthd's listening sockets reach the service at fds 3..
 * with LISTEN_FDS, LISTEN_PID (its pid, 2 in its pid namespace) and
 * LISTEN_FDNAMES; the shim keeps them after the run and hands copies back
 * (GET_FDS). The sources sit at 4 and 3 where free, crossed: the shim start
 * must not overwrite one with the other. */
static void test_shim_listen_fds(void **state) {
        _cleanup_free_ char *act = NULL, *expect = NULL, *error = NULL;
        struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int tcp, udp, got[SHIM_FDS_MAX], fds[2];
        size_t n = 0;
        struct fx f;

        tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(tcp >= 0 && udp >= 0);
        assert_int_equal(bind(tcp, (struct sockaddr *) &in, sizeof in), 0);
        assert_int_equal(listen(tcp, 16), 0);
        assert_int_equal(bind(udp, (struct sockaddr *) &in, sizeof in), 0);
        if (fcntl(3, F_GETFD) < 0 && fcntl(4, F_GETFD) < 0 && tcp > 4 && udp > 4) {
                assert_int_equal(dup3(tcp, 4, O_CLOEXEC), 4);
                assert_int_equal(dup3(udp, 3, O_CLOEXEC), 3);
                close(tcp);
                close(udp);
                tcp = 4, udp = 3;
        }
        fds[0] = tcp, fds[1] = udp;

        fx_init(&f, "{ echo \"$LISTEN_FDS $LISTEN_PID $$ $LISTEN_FDNAMES\"; readlink /proc/$$/fd/3 /proc/$$/fd/4; "
                    "[ -e /proc/$$/fd/5 ] && echo fd5; } > /run/out/.act; mv /run/out/.act /run/out/act");
        f.spec.listen_fd_names = calloc(3, sizeof(char *));
        assert_non_null(f.spec.listen_fd_names);
        f.spec.listen_fd_names[0] = xstrdup("http");
        f.spec.listen_fd_names[1] = xstrdup("dns");
        assert_int_equal(launch_spec_write(&f.spec, f.spec_path), 0);
        assert_int_equal(shim_spawn_fds(SHIM_PATH, f.spec_path, fds, 2, &f.shim, &f.replica, &error), 0);
        track(&f);
        /* our fds are still ours, where they were */
        assert_true(fcntl(tcp, F_GETFD) >= 0 && fcntl(udp, F_GETFD) >= 0);

        act = fx_read(&f, "act");
        expect = xasprintf("2 2 2 http:dns\nsocket:[%llu]\nsocket:[%llu]\n", (unsigned long long) inode_of(tcp),
                           (unsigned long long) inode_of(udp));
        assert_string_equal(act, expect);

        /* the run is over; the shim still holds both, in order */
        assert_int_equal(shim_get_fds(f.spec.socket_path, got, ELEMENTSOF(got), &n, TIMEOUT_MS), 0);
        assert_int_equal(n, 2);
        assert_int_equal(inode_of(got[0]), inode_of(tcp));
        assert_int_equal(inode_of(got[1]), inode_of(udp));
        assert_true(fcntl(got[0], F_GETFD) & FD_CLOEXEC);
        close(got[0]);
        close(got[1]);
        close(tcp);
        close(udp);
        fx_connect(&f, NULL); /* anew: shim_get_fds' connection replaced ours */
        assert_int_equal(fx_wait_exited(&f).exit_code, 0);
        fx_finish(&f);
}

static void test_shim_network_none(void **state) {
        _cleanup_free_ char *links = NULL, *flags = NULL;
        struct fx f;

        fx_init(&f, "ls /sys/class/net > /run/out/links; cat /sys/class/net/lo/flags > /run/out/flags");
        fx_start(&f);
        assert_int_equal(fx_wait_exited(&f).exit_code, 0);
        links = fx_read(&f, "links");
        assert_string_equal(links, "lo\n");
        flags = fx_read(&f, "flags");
        assert_true(strtoul(flags, NULL, 16) & 1); /* IFF_UP */
        fx_finish(&f);
}

static void test_shim_quit(void **state) {
        struct shim_msg reply;
        struct stat st;
        struct fx f;

        fx_init(&f, "sleep 0.3");
        fx_start(&f);
        reply = fx_call(&f, shim_msg_request(SHIM_MSG_QUIT), 0);
        assert_int_equal(reply.status.state, SHIM_RUN_RUNNING);
        assert_int_equal(kill(f.shim, 0), 0); /* waits for the run */
        assert_int_equal(fx_wait_exited(&f).exit_code, 0);
        assert_true(wait_pid_exit(f.shim, TIMEOUT_MS));
        assert_int_equal(stat(f.spec.socket_path, &st), -1);
        f.quit_done = true;
        fx_finish(&f);
}

static void test_shim_user_and_caps(void **state) {
        _cleanup_free_ char *log = NULL, *path = NULL;
        struct fx f;

        /* nobody cannot write to out/: the service's log is the witness. */
        fx_init(&f, "echo ids $(id -u) $(id -g) $(id -G)\n"
                    "grep -E '^(CapEff|CapPrm|NoNewPrivs)' /proc/self/status\n");
        f.spec.uid = 65534;
        f.spec.gid = 65534;
        f.spec.groups = calloc(1, sizeof(gid_t));
        assert_non_null(f.spec.groups);
        f.spec.groups[0] = 100;
        f.spec.n_groups = 1;
        fx_start(&f);
        assert_int_equal(fx_wait_exited(&f).exit_code, 0);
        path = fx_log(&f, "00000001.log");
        log = read_host_file(path);
        assert_non_null(strstr(log, "ids 65534 65534 65534 100\n"));
        assert_non_null(strstr(log, "CapPrm:\t0000000000000000"));
        assert_non_null(strstr(log, "CapEff:\t0000000000000000"));
        assert_non_null(strstr(log, "NoNewPrivs:\t1"));
        fx_finish(&f);
}

static void test_shim_cgroups(void **state) {
        _cleanup_free_ char *v1 = xasprintf("/sys/fs/cgroup/pids/berth-test-%d", (int) getpid());
        _cleanup_free_ char *v2 = xasprintf("/sys/fs/cgroup/unified/berth-test-%d", (int) getpid());
        _cleanup_free_ char *path = NULL, *cg = NULL, *inner = NULL, *l1 = NULL, *l2 = NULL;
        bool have_v1 = mkdir(v1, 0755) == 0, have_v2 = mkdir(v2, 0755) == 0;
        struct shim_status st;
        struct fx f;

        if (!have_v1 && !have_v2) {
                print_message("no v1 pids or v2 unified hierarchy here, skipping\n");
                return;
        }
        fx_init(&f, "cat /proc/self/cgroup > /run/out/cg; exec sleep 1000");
        if (have_v1) {
                f.spec.cgroup_procs = calloc(2, sizeof(char *));
                assert_non_null(f.spec.cgroup_procs);
                f.spec.cgroup_procs[0] = xasprintf("%s/cgroup.procs", v1);
        }
        if (have_v2)
                f.spec.cgroup_v2_dir = xstrdup(v2);
        fx_start(&f);
        inner = fx_read(&f, "cg");
        st = fx_status(&f);
        path = xasprintf("/proc/%d/cgroup", (int) st.service_pid);
        cg = read_host_file(path);
        l1 = xasprintf("pids:/berth-test-%d\n", (int) getpid());
        l2 = xasprintf("0::/berth-test-%d\n", (int) getpid());
        if (have_v1) {
                assert_non_null(strstr(cg, l1));
                assert_non_null(strstr(inner, "pids:/\n")); /* cgroup namespace rooted there */
        }
        if (have_v2) {
                assert_non_null(strstr(cg, l2));
                assert_non_null(strstr(inner, "0::/\n"));
        }
        fx_finish(&f);
        if (have_v1)
                assert_int_equal(rmdir(v1), 0);
        if (have_v2)
                assert_int_equal(rmdir(v2), 0);
}

/* clone3 unavailable (seccomp makes it ENOSYS, as on Linux < 5.3): the shim
 * falls back to clone(2), and the replica joins its v2 cgroup by itself. */
static int deny_clone3(void) {
        struct sock_filter code[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 435 /* clone3 */, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = ELEMENTSOF(code), .filter = code };

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0 ? -errno : 0;
}

static void test_shim_clone_fallback(void **state) {
        _cleanup_free_ char *v2 = xasprintf("/sys/fs/cgroup/unified/berth-test-fb-%d", (int) getpid());
        _cleanup_free_ char *path = NULL, *cg = NULL, *line = NULL, *ids = NULL, *shimlog = NULL;
        bool have_v2 = mkdir(v2, 0755) == 0;
        struct shim_status st;
        int p[2], status;
        pid_t child;
        struct fx f;

#if !defined(__x86_64__)
        skip();
#endif
        fx_init(&f, "echo $$ $PPID > /run/out/ids; exec sleep 1000");
        if (have_v2)
                f.spec.cgroup_v2_dir = xstrdup(v2);
        assert_int_equal(launch_spec_write(&f.spec, f.spec_path), 0);

        /* Spawn from a child that has the filter; the shim inherits it. */
        assert_int_equal(pipe(p), 0);
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                pid_t pids[2] = {};
                if (deny_clone3() < 0 || syscall(435, NULL, 0) != -1 || errno != ENOSYS)
                        _exit(2);
                if (shim_spawn(SHIM_PATH, f.spec_path, &pids[0], &pids[1], NULL) < 0)
                        _exit(3);
                _exit(write(p[1], pids, sizeof pids) == sizeof pids ? 0 : 4);
        }
        close(p[1]);
        {
                pid_t pids[2];
                assert_int_equal(read(p[0], pids, sizeof pids), sizeof pids);
                f.shim = pids[0];
                f.replica = pids[1];
        }
        track(&f);
        close(p[0]);
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        fx_connect(&f, NULL);

        ids = fx_read(&f, "ids");
        assert_string_equal(ids, "2 1\n");
        st = fx_status(&f);
        if (have_v2) {
                path = xasprintf("/proc/%d/cgroup", (int) st.service_pid);
                cg = read_host_file(path);
                line = xasprintf("0::/berth-test-fb-%d\n", (int) getpid());
                assert_non_null(strstr(cg, line));
        }
        fx_call(&f, (struct shim_msg) { .type = SHIM_MSG_SIGNAL, .signo = SIGTERM }, 0);
        st = fx_wait_exited(&f);
        assert_int_equal(st.exit_signal, SIGTERM);
        path = mfree(path);
        path = fx_log(&f, "shim.log");
        shimlog = read_host_file(path);
        assert_non_null(strstr(shimlog, "falling back to clone(2)"));
        fx_finish(&f);
        if (have_v2)
                assert_int_equal(rmdir(v2), 0);
}

static void test_shim_spawn_errors(void **state) {
        _cleanup_free_ char *error = NULL, *error2 = NULL;
        pid_t a, b;
        struct fx f;

        assert_true(shim_spawn(SHIM_PATH, "/nonexistent/spec", &a, &b, &error) < 0);
        assert_non_null(error);
        assert_non_null(strstr(error, "read spec /nonexistent/spec: No such file or directory"));

        fx_init(&f, "true");
        free(f.spec.socket_path);
        f.spec.socket_path = xstrdup("/nonexistent/dir/sock");
        assert_true(fx_spawn(&f, &error2) < 0);
        assert_non_null(error2);
        assert_non_null(strstr(error2, "control socket /nonexistent/dir/sock: No such file or directory"));
        f.shim = 0; /* it exited by itself */
        nftw(f.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        launch_spec_done(&f.spec);
}

/* A field of smaps_rollup, the least of 3 samples (Pss moves with what
 * other processes map meanwhile). */
static unsigned long shim_rollup_kb(struct fx *f, const char *field) {
        _cleanup_free_ char *path = xasprintf("/proc/%d/smaps_rollup", (int) f->shim);
        _cleanup_free_ char *key = xasprintf("\n%s:", field);
        unsigned long best = ULONG_MAX;

        for (int i = 0; i < 3; i++) {
                _cleanup_free_ char *rollup = read_host_file(path);
                const char *p = strstr(rollup, key);

                assert_non_null(p);
                best = MIN(best, strtoul(p + strlen(key), NULL, 10));
                usleep(100000);
        }
        return best;
}

static void fx_start_idle(struct fx *f) {
        const char *argv[] = { "/bin/sleep", "1000", NULL };

        fx_init(f, "true");
        set_argv(&f->spec, argv);
        fx_start(f);
        for (int i = 0; i < 100 && fx_status(f).service_pid == 0; i++)
                usleep(10000);
        usleep(200000); /* let start-up settle */
}

/* The idle shim's memory. The budget is 256 KiB Pss per idle shim, but Pss
 * splits shared pages among their users: a lone shim on a quiet machine also
 * carries most of libc's and all of libnl's pages, so the total depends on
 * the machine and is printed, not asserted. Asserted: Pss_Anon, the memory
 * the shim dirties itself (heap, stack, bss, relocated data), which must stay
 * small whatever else runs. */
static void test_shim_idle_memory(void **state) {
        unsigned long pss, anon;
        struct fx a;

        fx_start_idle(&a);
        pss = shim_rollup_kb(&a, "Pss");
        anon = shim_rollup_kb(&a, "Pss_Anon");
        print_message("idle berth-shim %d: Pss %lu kB (budget 256%s), Pss_Anon %lu kB\n", (int) a.shim, pss,
                      pss > 256 ? ", OVER" : "", anon);
        assert_true(anon <= 160);
        fx_finish(&a);
}

int main(void) {
        int r;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_shim_sandbox),
                cmocka_unit_test(test_shim_exit_code_and_log),
                cmocka_unit_test(test_shim_killed_by_signal),
                cmocka_unit_test(test_shim_exec_failure),
                cmocka_unit_test(test_shim_sigterm_forwarded),
                cmocka_unit_test(test_shim_zombies_reaped),
                cmocka_unit_test(test_shim_restart_in_place),
                cmocka_unit_test(test_shim_restart_in_place_cleans),
                cmocka_unit_test(test_shim_standing_order),
                cmocka_unit_test(test_shim_quit_idle_init),
                cmocka_unit_test(test_shim_idle_init_killed),
                cmocka_unit_test(test_shim_reconnect),
                cmocka_unit_test(test_shim_listen_fds),
                cmocka_unit_test(test_shim_network_none),
                cmocka_unit_test(test_shim_quit),
                cmocka_unit_test(test_shim_user_and_caps),
                cmocka_unit_test(test_shim_cgroups),
                cmocka_unit_test(test_shim_clone_fallback),
                cmocka_unit_test(test_shim_spawn_errors),
                cmocka_unit_test(test_shim_idle_memory),
        };

        if (geteuid() != 0) {
                printf("test-shim: needs root (namespaces, mounts), skipping\n");
                return 77;
        }
        if (access(SHIM_PATH, X_OK) < 0) {
                printf("test-shim: %s not built, skipping\n", SHIM_PATH);
                return 77;
        }
        /* Daemonized shims are reparented to us: we reap them. */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                return 1;
        if (getenv("TEST_FILTER")) /* e.g. TEST_FILTER='*reconnect*' */
                cmocka_set_test_filter(getenv("TEST_FILTER"));
        r = cmocka_run_group_tests(tests, NULL, NULL);
        cleanup_leftovers();
        return r;
}
