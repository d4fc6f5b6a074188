/* test-launch.c: launch spec file format and shim protocol (lib/launch.c,
 * lib/shim-proto.c): round trips with odd characters, and corrupt or
 * malformed input rejected with -EBADMSG, never a crash. */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "launch.h"
#include "macro.h"
#include "shim-proto.h"

static char *xstrdup(const char *s) {
        char *d = strdup(s);
        assert_non_null(d);
        return d;
}

static char **xstrv(const char *const *l, size_t n) {
        char **v = calloc(n + 1, sizeof(char *));
        assert_non_null(v);
        for (size_t i = 0; i < n; i++)
                v[i] = xstrdup(l[i]);
        return v;
}

/* A spec with every field set, and values that need escaping. */
static void make_spec(struct launch_spec *s) {
        static const char *const argv[] = { "/bin/sh", "-c", "echo 'a  b'\n\tprintf %s%%\r\n", "", "ünïcødé ✓" };
        static const char *const env[] = { "PATH=/usr/bin:/bin", "A=b=c", "SPACE= x ", "PCT=%41%", "NL=1\n2" };
        static const char *const cg[] = { "/sys/fs/cgroup/pids/berth/web-0/cgroup.procs",
                                          "/sys/fs/cgroup/memory/berth/web 0/cgroup.procs" };
        static const char *const names[] = { "http", "admin" };

        launch_spec_init(s);
        s->id = xstrdup("web-0");
        s->hostname = xstrdup("web 0%");
        s->clone_flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP;
        s->net_none = true;
        s->rootfs = xstrdup("/var/lib/berth/images/a b");
        s->read_only_root = true;
        s->mounts = calloc(2, sizeof *s->mounts);
        assert_non_null(s->mounts);
        s->mounts[0] = (struct launch_mount) { xstrdup("/var/lib/web data"), xstrdup("/data"), false };
        s->mounts[1] = (struct launch_mount) { xstrdup("/etc/ssl"), xstrdup("/etc/ssl\ttab"), true };
        s->n_mounts = 2;
        s->argv = xstrv(argv, ELEMENTSOF(argv));
        s->env = xstrv(env, ELEMENTSOF(env));
        s->cwd = xstrdup("/srv/app dir");
        s->uid = 1000;
        s->gid = 1001;
        s->groups = calloc(3, sizeof(gid_t));
        assert_non_null(s->groups);
        s->groups[0] = 5, s->groups[1] = 27, s->groups[2] = 4294967294u;
        s->n_groups = 3;
        s->caps_keep = LAUNCH_CAPS_DEFAULT;
        s->stop_signal = SIGQUIT;
        s->cgroup_procs = xstrv(cg, ELEMENTSOF(cg));
        s->cgroup_v2_dir = xstrdup("/sys/fs/cgroup/unified/berth/web-0");
        s->log_dir = xstrdup("/var/lib/berth/logs/web/web-0");
        s->log_driver = LAUNCH_LOG_JOURNALD;
        s->log_max_size = UINT64_C(1) << 40;
        s->log_max_files = 1000;
        s->status_path = xstrdup("/run/berth/web-0.status");
        s->socket_path = xstrdup("/run/berth/web-0.sock");
        s->listen_fd_names = xstrv(names, ELEMENTSOF(names));
}

static void assert_strv_equal(char **a, char **b) {
        size_t i;
        for (i = 0; a && a[i]; i++) {
                assert_non_null(b);
                assert_non_null(b[i]);
                assert_string_equal(a[i], b[i]);
        }
        assert_true(!b || !b[i]);
}

static void assert_spec_equal(const struct launch_spec *a, const struct launch_spec *b) {
        assert_string_equal(a->id, b->id);
        assert_true(streq_ptr(a->hostname, b->hostname));
        assert_int_equal(a->clone_flags, b->clone_flags);
        assert_int_equal(a->net_none, b->net_none);
        assert_true(streq_ptr(a->rootfs, b->rootfs));
        assert_int_equal(a->read_only_root, b->read_only_root);
        assert_int_equal(a->n_mounts, b->n_mounts);
        for (size_t i = 0; i < a->n_mounts; i++) {
                assert_string_equal(a->mounts[i].source, b->mounts[i].source);
                assert_string_equal(a->mounts[i].target, b->mounts[i].target);
                assert_int_equal(a->mounts[i].read_only, b->mounts[i].read_only);
        }
        assert_strv_equal(a->argv, b->argv);
        assert_strv_equal(a->env, b->env);
        assert_true(streq_ptr(a->cwd, b->cwd));
        assert_int_equal(a->uid, b->uid);
        assert_int_equal(a->gid, b->gid);
        assert_int_equal(a->n_groups, b->n_groups);
        assert_memory_equal(a->groups, b->groups, a->n_groups * sizeof(gid_t));
        assert_int_equal(a->caps_keep, b->caps_keep);
        assert_int_equal(a->no_new_privs, b->no_new_privs);
        assert_int_equal(a->stop_signal, b->stop_signal);
        assert_strv_equal(a->cgroup_procs, b->cgroup_procs);
        assert_true(streq_ptr(a->cgroup_v2_dir, b->cgroup_v2_dir));
        assert_string_equal(a->log_dir, b->log_dir);
        assert_int_equal(a->log_driver, b->log_driver);
        assert_int_equal(a->log_max_size, b->log_max_size);
        assert_int_equal(a->log_max_files, b->log_max_files);
        assert_string_equal(a->status_path, b->status_path);
        assert_string_equal(a->socket_path, b->socket_path);
        assert_strv_equal(a->listen_fd_names, b->listen_fd_names);
}

static void test_launch_round_trip_file(void **state) {
        char dir[] = "/tmp/test-launch-XXXXXX", path[64];
        struct launch_spec s, *r = NULL;
        _cleanup_free_ char *text = NULL;

        make_spec(&s);
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/spec", dir);
        assert_int_equal(launch_spec_write(&s, path), 0);
        assert_int_equal(launch_spec_read(path, &r), 0);
        assert_spec_equal(&s, r);

        /* The text is line-oriented and holds no raw control characters. */
        assert_int_equal(launch_spec_format(r, &text, NULL), 0);
        assert_non_null(strstr(text, "\nhostname web%200%25\n"));
        assert_non_null(strstr(text, "\nend\n"));
        for (const char *p = text; *p; p++)
                assert_true(*p == '\n' || (unsigned char) *p >= ' ');

        launch_spec_free(r);
        launch_spec_done(&s);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(rmdir(dir), 0);
}

static void test_launch_round_trip_minimal(void **state) {
        static const char *const argv[] = { "true" };
        struct launch_spec s, *r = NULL;
        _cleanup_free_ char *text = NULL;
        size_t size;

        launch_spec_init(&s);
        s.id = xstrdup("x");
        s.argv = xstrv(argv, 1);
        s.log_dir = xstrdup("/l");
        s.status_path = xstrdup("/s");
        s.socket_path = xstrdup("/k");
        assert_int_equal(launch_spec_format(&s, &text, &size), 0);
        assert_int_equal(launch_spec_parse(text, size, &r), 0);
        assert_spec_equal(&s, r);
        assert_null(r->env);
        assert_null(r->rootfs);
        assert_int_equal(r->caps_keep, LAUNCH_CAPS_DEFAULT);
        assert_true(r->no_new_privs);
        assert_int_equal(r->log_driver, LAUNCH_LOG_FILE);
        assert_int_equal(r->log_max_size, 10 << 20);
        assert_int_equal(r->log_max_files, 5);
        assert_non_null(strstr(text, "\nlog_dir /l\nlog_driver file\nlog_max_size 10485760\nlog_max_files 5\n"));
        launch_spec_free(r);
        launch_spec_done(&s);
}

static void test_launch_validate(void **state) {
        struct launch_spec s;
        _cleanup_free_ char *text = NULL;

        make_spec(&s);
        assert_int_equal(launch_spec_validate(&s), 0);
        s.clone_flags &= ~(uint64_t) CLONE_NEWNS; /* mounts without a mount namespace */
        assert_int_equal(launch_spec_format(&s, &text, NULL), -EINVAL);
        s.clone_flags |= CLONE_NEWNS | 0x10000000; /* CLONE_NEWUSER is not ours */
        assert_int_equal(launch_spec_validate(&s), -EINVAL);
        s.clone_flags &= ~(uint64_t) 0x10000000;
        free(s.mounts[0].target);
        s.mounts[0].target = xstrdup("relative");
        assert_int_equal(launch_spec_validate(&s), -EINVAL);
        free(s.mounts[0].target);
        s.mounts[0].target = xstrdup("/abs");
        assert_int_equal(launch_spec_validate(&s), 0);
        s.log_max_files = 0;
        assert_int_equal(launch_spec_validate(&s), -EINVAL);
        s.log_max_files = 1;
        s.log_max_size = 0;
        assert_int_equal(launch_spec_validate(&s), -EINVAL);
        s.log_max_size = 1;
        s.log_driver = 7;
        assert_int_equal(launch_spec_validate(&s), -EINVAL);
        launch_spec_done(&s);
}

static void test_launch_corrupt(void **state) {
        static const char *const bad[] = {
                "",
                "berth-launch 2\nend\n",
                "berth-launch 1\n", /* no end */
                "berth-launch 1\nid x\narg true\nlog_dir /l\nstatus_path /s\nsocket_path /k\nend", /* no final \n */
                "berth-launch 1\nlog_path /l\nend\n",      /* the old single log file */
                "berth-launch 1\nlog_driver syslog\nend\n",
                "berth-launch 1\nlog_max_size x\nend\n",
                "berth-launch 1\nid x\nid y\nend\n",         /* duplicate */
                "berth-launch 1\nfrobnicate 1\nend\n",       /* unknown key */
                "berth-launch 1\nid a b\nend\n",             /* raw space */
                "berth-launch 1\nid a%2\nend\n",             /* short escape */
                "berth-launch 1\nid a%zz\nend\n",            /* bad escape */
                "berth-launch 1\nid a%00\nend\n",            /* escaped NUL */
                "berth-launch 1\nuid -1\nend\n",             /* bad number */
                "berth-launch 1\nuid 99999999999999999999999\nend\n",
                "berth-launch 1\nuid 4294967295\nend\n",     /* (uid_t) -1 */
                "berth-launch 1\ncaps 12\nend\n",            /* caps are hex */
                "berth-launch 1\ncaps 0xZZ\nend\n",
                "berth-launch 1\nnamespaces pid bogus\nend\n",
                "berth-launch 1\nnamespaces pid pid\nend\n",
                "berth-launch 1\nmount rx /a /b\nend\n",
                "berth-launch 1\nmount ro /a\nend\n",
                "berth-launch 1\nmount ro /a /b /c\nend\n",
                "berth-launch 1\nnet_none 2\nend\n",
                "berth-launch 1\nstop_signal 0\nend\n",
                "berth-launch 1\nend\nid x\n", /* data after end */
                "berth-launch 1\nid\nend\n",   /* no value */
        };
        struct launch_spec *r = NULL;
        _cleanup_free_ char *good = NULL;
        struct launch_spec s;
        size_t size;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int k = launch_spec_parse(bad[i], strlen(bad[i]), &r);
                if (k != -EBADMSG)
                        print_error("case %zu: got %d\n", i, k);
                assert_int_equal(k, -EBADMSG);
                assert_null(r);
        }

        /* Every truncation of a good file is detected, and so is every single
         * byte flipped to a newline, a NUL or a space. */
        make_spec(&s);
        assert_int_equal(launch_spec_format(&s, &good, &size), 0);
        for (size_t n = 0; n < size; n++) {
                assert_int_equal(launch_spec_parse(good, n, &r), -EBADMSG);
                assert_null(r);
        }
        for (size_t i = 0; i < size; i++) {
                const char flips[] = { 0, ' ', '%' };
                for (size_t f = 0; f < ELEMENTSOF(flips); f++) {
                        char saved = good[i];
                        int k;
                        if (saved == flips[f])
                                continue;
                        good[i] = flips[f];
                        k = launch_spec_parse(good, size, &r);
                        /* Some flips stay valid (a space in the header is not); never a crash. */
                        if (k == 0)
                                r = launch_spec_free(r);
                        else
                                assert_int_equal(k, -EBADMSG);
                        good[i] = saved;
                }
        }
        launch_spec_done(&s);

        assert_int_equal(launch_spec_read("/nonexistent/spec", &r), -ENOENT);
}

static void test_launch_escape(void **state) {
        char buf[64], back[64];

        assert_int_equal(launch_escape("a b%\n", buf, sizeof buf), 11);
        assert_string_equal(buf, "a%20b%25%0A");
        assert_int_equal(launch_unescape(buf, strlen(buf), back, sizeof back), 5);
        assert_string_equal(back, "a b%\n");
        assert_int_equal(launch_escape("abc", buf, 3), -ENOBUFS);
        assert_int_equal(launch_unescape("%4", 2, back, sizeof back), -EBADMSG);
        assert_int_equal(launch_unescape("%4g", 3, back, sizeof back), -EBADMSG);
}

/* ------------------------------------------------------------ shim protocol */

static struct shim_msg round_trip(const struct shim_msg *m) {
        char buf[SHIM_MSG_MAX];
        struct shim_msg d;
        int n = shim_msg_encode(m, buf, sizeof buf);

        assert_true(n > 0);
        assert_int_equal(shim_msg_decode(buf, (size_t) n, &d), 0);
        assert_int_equal(d.type, m->type);
        return d;
}

static void test_proto_log_dropped(void **state) {
        struct shim_msg m = {
                .type = SHIM_MSG_LOG_DROPPED,
                .status = { .shim_pid = 9, .run = 3, .state = SHIM_RUN_RUNNING, .pid = 10, .start_usec = 1,
                            .start_ticks = 2, .log_dropped_bytes = UINT64_C(18446744073709551615),
                            .log_dropping = true },
        };
        char buf[SHIM_MSG_MAX];
        struct shim_msg d = round_trip(&m);
        int n;

        assert_int_equal(d.status.log_dropped_bytes, UINT64_MAX);
        assert_true(d.status.log_dropping);
        assert_int_equal(d.status.run, 3);
        /* the episode ended */
        m.type = SHIM_MSG_STATUS;
        m.status.log_dropped_bytes = 4096;
        m.status.log_dropping = false;
        d = round_trip(&m);
        assert_int_equal(d.status.log_dropped_bytes, 4096);
        assert_false(d.status.log_dropping);
        /* nothing dropped: the keys are left out, so an older berthd sees what it always saw */
        m.status.log_dropped_bytes = 0;
        n = shim_msg_encode(&m, buf, sizeof buf);
        assert_true(n > 0);
        assert_null(strstr(buf, "LOG_DROP"));
        /* an older shim's status (no such keys) decodes as nothing dropped */
        static const char old[] = "MSG=STATUS\nVERSION=1\nSHIM_PID=9\nRUN=0\nSTATE=none\n";
        assert_int_equal(shim_msg_decode(old, strlen(old), &d), 0);
        assert_int_equal(d.status.log_dropped_bytes, 0);
        assert_false(d.status.log_dropping);
        /* bad values */
        static const char bad1[] = "MSG=STATUS\nVERSION=1\nSHIM_PID=9\nRUN=0\nSTATE=none\nLOG_DROPPING=2\n";
        static const char bad2[] = "MSG=STATUS\nVERSION=1\nSHIM_PID=9\nRUN=0\nSTATE=none\nLOG_DROPPED_BYTES=-1\n";
        assert_int_equal(shim_msg_decode(bad1, strlen(bad1), &d), -EBADMSG);
        assert_int_equal(shim_msg_decode(bad2, strlen(bad2), &d), -EBADMSG);
}

static void test_proto_round_trip(void **state) {
        struct shim_msg m = {
                .type = SHIM_MSG_EXITED,
                .status = {
                        .shim_pid = 100, .run = 7, .state = SHIM_RUN_EXITED, .pid = 101, .service_pid = 102,
                        .start_usec = 1700000000123456ULL, .start_ticks = 987654, .exit_code = 127,
                        .exit_usec = 1700000001000000ULL, .init_alive = true,
                        .exec_error = "exec /usr/bin/nope: No such file or directory\nline=2 %20",
                },
        };
        struct shim_msg d = round_trip(&m);

        assert_int_equal(d.status.version, SHIM_PROTO_VERSION);
        assert_int_equal(d.status.shim_pid, 100);
        assert_int_equal(d.status.run, 7);
        assert_int_equal(d.status.state, SHIM_RUN_EXITED);
        assert_int_equal(d.status.pid, 101);
        assert_int_equal(d.status.service_pid, 102);
        assert_int_equal(d.status.start_usec, 1700000000123456ULL);
        assert_int_equal(d.status.start_ticks, 987654);
        assert_int_equal(d.status.exit_code, 127);
        assert_int_equal(d.status.exit_signal, 0);
        assert_int_equal(d.status.exit_usec, 1700000001000000ULL);
        assert_false(d.status.acked);
        assert_true(d.status.init_alive);
        assert_string_equal(d.status.exec_error, m.status.exec_error);

        m.type = SHIM_MSG_HELLO;
        m.status.exit_code = -1, m.status.exit_signal = SIGKILL, m.status.core_dumped = true, m.status.acked = true;
        m.status.exec_error[0] = 0;
        m.status.init_alive = false;
        d = round_trip(&m);
        assert_false(d.status.init_alive);
        assert_int_equal(d.status.exit_code, -1);
        assert_int_equal(d.status.exit_signal, SIGKILL);
        assert_true(d.status.core_dumped);
        assert_true(d.status.acked);
        assert_string_equal(d.status.exec_error, "");

        m.type = SHIM_MSG_STATUS;
        m.status.state = SHIM_RUN_RUNNING;
        d = round_trip(&m);
        assert_int_equal(d.status.state, SHIM_RUN_RUNNING);
        assert_int_equal(d.status.exit_code, -1);
        assert_int_equal(d.status.exit_signal, 0);

        d = round_trip(&(struct shim_msg) { .type = SHIM_MSG_SIGNAL, .signo = SIGTERM });
        assert_int_equal(d.signo, SIGTERM);
        d = round_trip(&(struct shim_msg) { .type = SHIM_MSG_ACK_EXIT, .run = 42 });
        assert_int_equal(d.run, 42);
        d = round_trip(&(struct shim_msg) { .type = SHIM_MSG_ERROR, .error = EBUSY, .message = "run 1 is active" });
        assert_int_equal(d.error, EBUSY);
        assert_string_equal(d.message, "run 1 is active");
        d = round_trip(&(struct shim_msg) { .type = SHIM_MSG_ARM, .run = 9, .min_uptime_usec = 60100000,
                                            .on_failure = true });
        assert_int_equal(d.run, 9);
        assert_int_equal(d.min_uptime_usec, 60100000);
        assert_true(d.on_failure);
        d = round_trip(&(struct shim_msg) { .type = SHIM_MSG_ARM }); /* cancel */
        assert_int_equal(d.run, 0);
        assert_int_equal(d.min_uptime_usec, 0);
        assert_false(d.on_failure);

        m.type = SHIM_MSG_EXITED;
        m.status.state = SHIM_RUN_EXITED;
        m.status.next_started = true;
        d = round_trip(&m);
        assert_true(d.status.next_started);
        m.status.next_started = false;
        d = round_trip(&m);
        assert_false(d.status.next_started);

        /* a run the shim started on the order, with the end of the one before */
        m.type = SHIM_MSG_HELLO;
        m.status.state = SHIM_RUN_RUNNING;
        m.status.exit_code = -1, m.status.exit_signal = 0;
        m.status.prev_run = m.status.run - 1;
        m.status.prev_exit_code = -1, m.status.prev_exit_signal = SIGTERM;
        m.status.prev_exit_usec = 1700000002000000ULL;
        d = round_trip(&m);
        assert_int_equal(d.status.prev_run, m.status.run - 1);
        assert_int_equal(d.status.prev_exit_code, -1);
        assert_int_equal(d.status.prev_exit_signal, SIGTERM);
        assert_int_equal(d.status.prev_exit_usec, 1700000002000000ULL);
        m.status.prev_exit_code = 3, m.status.prev_exit_signal = 0;
        d = round_trip(&m);
        assert_int_equal(d.status.prev_exit_code, 3);
        assert_int_equal(d.status.prev_exit_signal, 0);
        m.status.prev_run = 0;
        d = round_trip(&m);
        assert_int_equal(d.status.prev_run, 0);

        d = round_trip(&(struct shim_msg) { .type = SHIM_MSG_FDS, .n_fds = 2, .fd_names = "http:dns" });
        assert_int_equal(d.n_fds, 2);
        assert_string_equal(d.fd_names, "http:dns");
        d = round_trip(&(struct shim_msg) { .type = SHIM_MSG_CLAIM, .n_fds = 3,
                                            .spec_path = "/var/lib/berth/replicas/web/0/launch" });
        assert_int_equal(d.n_fds, 3);
        assert_string_equal(d.spec_path, "/var/lib/berth/replicas/web/0/launch");
        assert_false(d.deferred);
        d = round_trip(&(struct shim_msg) { .type = SHIM_MSG_CLAIM, .spec_path = "/s/launch", .deferred = true });
        assert_true(d.deferred);
        assert_false(d.spec_fd);
        assert_int_equal(d.n_fds, 0);
        d = round_trip(&(struct shim_msg) { .type = SHIM_MSG_CLAIM, .spec_path = "/s/launch", .n_fds = 2,
                                            .deferred = true, .spec_fd = true });
        assert_true(d.spec_fd);
        assert_true(d.deferred);
        assert_int_equal(d.n_fds, 2); /* the sockets; the spec's fd comes on top */
        static const char bad_spec_fd[] = "MSG=CLAIM\nSPEC=/s\nSPEC_FD=2\n";
        assert_int_equal(shim_msg_decode(bad_spec_fd, sizeof bad_spec_fd - 1, &d), -EBADMSG);
        char buf[SHIM_MSG_MAX];
        assert_int_equal(shim_msg_encode(&(struct shim_msg) { .type = SHIM_MSG_CLAIM, .spec_path = "rel/launch" }, buf,
                                         sizeof buf),
                         -EINVAL); /* a claim names an absolute file */
        for (int t = SHIM_MSG_START; t < _SHIM_MSG_MAX; t++)
                if (t != SHIM_MSG_SIGNAL && t != SHIM_MSG_ACK_EXIT && t != SHIM_MSG_CLAIM)
                        round_trip(&(struct shim_msg) { .type = (enum shim_msg_type) t });
}

/* launch_read_text_fd: all of an fd from where it stands, NUL-terminated;
 * what passes LAUNCH_FILE_MAX is refused. */
static void test_read_text_fd(void **state) {
        int fd = memfd_create("test", MFD_CLOEXEC);
        char *text = NULL;
        size_t len = 0;

        assert_true(fd >= 0);
        assert_int_equal(write(fd, "id web-0\n", 9), 9);
        assert_int_equal(launch_read_text_fd(fd, &text, &len), 0); /* at its end: nothing */
        assert_int_equal(len, 0);
        assert_string_equal(text, "");
        free(text);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        assert_int_equal(launch_read_text_fd(fd, &text, &len), 0);
        assert_int_equal(len, 9);
        assert_string_equal(text, "id web-0\n");
        free(text);
        assert_int_equal(ftruncate(fd, LAUNCH_FILE_MAX + 4097), 0);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        assert_int_equal(launch_read_text_fd(fd, &text, &len), -EBADMSG);
        close(fd);
}

/* What a standby prepares (launch_standby_template) against what a spec
 * asks for: only an exact match may claim one. */
static void test_standby_fit(void **state) {
        struct launch_spec t, s;
        struct launch_mount mnt = { .source = (char *) "/srv", .target = (char *) "/srv" };

        launch_standby_template(&t);
        assert_int_equal(t.clone_flags, CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID);
        assert_true(t.read_only_root);
        assert_true(launch_spec_fits_standby(&t));

        s = t;
        s.clone_flags |= CLONE_NEWCGROUP; /* created late, after the cgroups are joined */
        assert_true(launch_spec_fits_standby(&s));
        s = t;
        s.clone_flags |= CLONE_NEWNET, s.net_none = true; /* network.mode none: a netns of its own */
        assert_false(launch_spec_fits_standby(&s));
        s = t;
        s.clone_flags &= ~(uint64_t) CLONE_NEWPID; /* no pid namespace */
        assert_false(launch_spec_fits_standby(&s));
        s = t;
        s.read_only_root = false;
        assert_false(launch_spec_fits_standby(&s));
        s = t;
        s.rootfs = (char *) "/srv/rootfs";
        assert_false(launch_spec_fits_standby(&s));
        s = t;
        s.mounts = &mnt, s.n_mounts = 1; /* manifest mounts, the notify socket's directory */
        assert_false(launch_spec_fits_standby(&s));
        s = t;
        s.uid = 1000, s.gid = 1000, s.caps_keep = 0, s.hostname = (char *) "web-0"; /* the process: set at claim */
        assert_true(launch_spec_fits_standby(&s));
}

static void test_proto_malformed(void **state) {
        static const char *const bad[] = {
                "",
                "\n",
                "MSG=START",                     /* no final newline */
                "MSG=NOPE\n",
                "RUN=1\nMSG=START\n",            /* MSG must come first */
                "MSG=SIGNAL\n",                  /* missing SIGNAL */
                "MSG=FDS\n",                     /* missing FDS */
                "MSG=FDS\nFDS=65\n",             /* more than SHIM_FDS_MAX */
                "MSG=CLAIM\nFDS=0\n",            /* no SPEC */
                "MSG=CLAIM\nSPEC=/x\n",          /* no FDS */
                "MSG=CLAIM\nFDS=0\nSPEC=x\n",    /* not absolute */
                "MSG=SIGNAL\nSIGNAL=0\n",
                "MSG=SIGNAL\nSIGNAL=99\n",
                "MSG=SIGNAL\nSIGNAL=15\nSIGNAL=9\n", /* duplicate */
                "MSG=SIGNAL\nSIGNAL=1x\n",
                "MSG=ACK_EXIT\nRUN=\n",
                "MSG=ACK_EXIT\nRUN=-1\n",
                "MSG=ERROR\nMESSAGE=x\n",        /* no ERRNO */
                "MSG=STATUS\nVERSION=1\nSHIM_PID=1\nRUN=1\n", /* no STATE */
                "MSG=STATUS\nVERSION=1\nSHIM_PID=1\nRUN=1\nSTATE=sleeping\n",
                "MSG=STATUS\nVERSION=1\nSHIM_PID=1\nRUN=1\nSTATE=running\n", /* no PID */
                "MSG=EXITED\nVERSION=1\nSHIM_PID=1\nRUN=1\nSTATE=exited\nPID=2\nSTART_USEC=1\nSTART_TICKS=1\n"
                "EXIT_USEC=1\n", /* neither code nor signal */
                "MSG=EXITED\nVERSION=1\nSHIM_PID=1\nRUN=1\nSTATE=exited\nPID=2\nSTART_USEC=1\nSTART_TICKS=1\n"
                "EXIT_CODE=1\nEXIT_SIGNAL=9\nEXIT_USEC=1\n", /* both */
                "MSG=EXITED\nVERSION=1\nSHIM_PID=1\nRUN=1\nSTATE=exited\nPID=2\nSTART_USEC=1\nSTART_TICKS=1\n"
                "EXIT_CODE=256\nEXIT_USEC=1\n",
                "MSG=HELLO\nVERSION=1\nSHIM_PID=1\nRUN=0\nSTATE=none\nEXEC_ERROR=a%zz\n",
                "MSG=STATUS\nVERSION=1\nSHIM_PID=1\nRUN=1\nSTATE=running\nPID=2\nSTART_USEC=1\nSTART_TICKS=1\n"
                "INIT_ALIVE=1\n", /* an idle mini-init, yet a run */
                "MSG=EXITED\nVERSION=1\nSHIM_PID=1\nRUN=1\nSTATE=exited\nPID=2\nSTART_USEC=1\nSTART_TICKS=1\n"
                "EXIT_CODE=1\nEXIT_USEC=1\nINIT_ALIVE=2\n",
                "MSG=STATUS\nVERSION=1\nSHIM_PID=1\nRUN=1\nSTATE=running\nPID=2\nSTART_USEC=1\nSTART_TICKS=1\n"
                "NEXT_STARTED=1\n", /* a next run, yet this one runs */
                "MSG=HELLO\nVERSION=1\nSHIM_PID=1\nRUN=2\nSTATE=running\nPID=2\nSTART_USEC=1\nSTART_TICKS=1\n"
                "PREV_RUN=2\nPREV_EXIT_CODE=1\nPREV_EXIT_USEC=1\n", /* the previous run is not before this one */
                "MSG=HELLO\nVERSION=1\nSHIM_PID=1\nRUN=2\nSTATE=running\nPID=2\nSTART_USEC=1\nSTART_TICKS=1\n"
                "PREV_RUN=1\nPREV_EXIT_USEC=1\n", /* neither code nor signal */
                "MSG=HELLO\nVERSION=1\nSHIM_PID=1\nRUN=2\nSTATE=running\nPID=2\nSTART_USEC=1\nSTART_TICKS=1\n"
                "PREV_RUN=1\nPREV_EXIT_CODE=1\n", /* no time */
                "MSG=ARM\nRUN=1\nMIN_UPTIME_USEC=0\n",  /* no ON_FAILURE */
                "MSG=ARM\nRUN=1\nON_FAILURE=0\n",       /* no MIN_UPTIME_USEC */
                "MSG=ARM\nMIN_UPTIME_USEC=0\nON_FAILURE=0\n", /* no RUN */
                "MSG=ARM\nRUN=1\nMIN_UPTIME_USEC=0\nON_FAILURE=2\n",
                "MSG=START\nno equals sign\n",
                "MSG=START\n=value\n",
        };
        struct shim_msg m = { .type = SHIM_MSG_QUIT, .signo = 77 };
        char big[SHIM_MSG_MAX + 10];
        char nul[] = "MSG=START\n\0\n";

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int k = shim_msg_decode(bad[i], strlen(bad[i]), &m);
                if (k != -EBADMSG)
                        print_error("case %zu: got %d\n", i, k);
                assert_int_equal(k, -EBADMSG);
                assert_int_equal(m.type, SHIM_MSG_QUIT); /* untouched on failure */
                assert_int_equal(m.signo, 77);
        }
        assert_int_equal(shim_msg_decode(nul, sizeof nul - 1, &m), -EBADMSG);
        memset(big, 'x', sizeof big);
        memcpy(big, "MSG=START\nX=", 12);
        big[sizeof big - 1] = '\n';
        assert_int_equal(shim_msg_decode(big, sizeof big, &m), -EBADMSG);

        /* Unknown keys are skipped: a newer berthd may send more. */
        assert_int_equal(shim_msg_decode("MSG=START\nFUTURE=1\n", 19, &m), 0);
        assert_int_equal(m.type, SHIM_MSG_START);

        /* A shim older than INIT_ALIVE: its mini-init is never idle. */
        {
                static const char old[] = "MSG=EXITED\nVERSION=1\nSHIM_PID=1\nRUN=1\nSTATE=exited\nPID=2\n"
                                          "START_USEC=1\nSTART_TICKS=1\nEXIT_CODE=1\nEXIT_USEC=1\nACKED=0\n";
                assert_int_equal(shim_msg_decode(old, sizeof old - 1, &m), 0);
                assert_int_equal(m.type, SHIM_MSG_EXITED);
                assert_false(m.status.init_alive);
        }

        /* Encoder refuses invalid messages and small buffers. */
        assert_int_equal(shim_msg_encode(&(struct shim_msg) { .type = SHIM_MSG_INVALID }, big, sizeof big), -EINVAL);
        assert_int_equal(shim_msg_encode(&(struct shim_msg) { .type = SHIM_MSG_SIGNAL }, big, sizeof big), -EINVAL);
        assert_int_equal(shim_msg_encode(&(struct shim_msg) { .type = SHIM_MSG_START }, big, 5), -ENOBUFS);
}

static void test_proto_status_file(void **state) {
        char dir[] = "/tmp/test-launch-XXXXXX", path[64];
        struct shim_status s = { .shim_pid = 5, .run = 2, .state = SHIM_RUN_EXITED, .pid = 6, .start_usec = 1,
                                 .start_ticks = 2, .exit_code = 3, .exit_usec = 4 };
        struct shim_status r;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/status", dir);
        assert_int_equal(shim_status_write(path, &s, true), 0);
        assert_int_equal(shim_status_read(path, &r), 0);
        assert_int_equal(r.run, 2);
        assert_int_equal(r.exit_code, 3);
        assert_int_equal(r.state, SHIM_RUN_EXITED);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(rmdir(dir), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_launch_round_trip_file),
                cmocka_unit_test(test_launch_round_trip_minimal),
                cmocka_unit_test(test_launch_validate),
                cmocka_unit_test(test_proto_log_dropped),
                cmocka_unit_test(test_launch_corrupt),
                cmocka_unit_test(test_launch_escape),
                cmocka_unit_test(test_proto_round_trip),
                cmocka_unit_test(test_standby_fit),
                cmocka_unit_test(test_read_text_fd),
                cmocka_unit_test(test_proto_malformed),
                cmocka_unit_test(test_proto_status_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
