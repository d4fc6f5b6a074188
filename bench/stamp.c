/* stamp.c: the benchmarks' trivial service. Its first act is to read
 * CLOCK_REALTIME; it then writes that time in µs, one line, to FILE (or
 * stdout) and pauses forever, or exits with -x.
 *
 *   stamp [-x] [FILE]
 *
 * "First act" literally: no libc, a static binary whose entry point reads
 * the clock before anything else, so the measured start latency is the
 * starter's cost up to the exec, not a dynamic loader's. Linux x86-64 and
 * aarch64 only (the machines the benchmarks run on). */

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "bench/stamp.c: x86-64 and aarch64 only"
#endif

typedef long i64;
typedef unsigned long u64;

struct kts {
        i64 sec, nsec;
};

#if defined(__x86_64__)
enum { NR_WRITE = 1, NR_OPENAT = 257, NR_PAUSE = 34, NR_EXIT = 60, NR_CLOCK_GETTIME = 228 };

static i64 sys3(i64 n, i64 a, i64 b, i64 c) {
        i64 r;
        __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
        return r;
}
static i64 sys4(i64 n, i64 a, i64 b, i64 c, i64 d) {
        i64 r;
        register i64 r10 __asm__("r10") = d;
        __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
        return r;
}
__asm__(".text\n.globl _start\n_start:\n\txor %rbp,%rbp\n\tmov %rsp,%rdi\n\tand $-16,%rsp\n\tcall stamp_main\n\thlt\n");
#else /* aarch64: no pause(2), use ppoll with no fds and no timeout */
enum { NR_WRITE = 64, NR_OPENAT = 56, NR_PPOLL = 73, NR_EXIT = 93, NR_CLOCK_GETTIME = 113 };

static i64 sys4(i64 n, i64 a, i64 b, i64 c, i64 d) {
        register i64 x8 __asm__("x8") = n, x0 __asm__("x0") = a, x1 __asm__("x1") = b, x2 __asm__("x2") = c,
                                x3 __asm__("x3") = d;
        __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
        return x0;
}
static i64 sys3(i64 n, i64 a, i64 b, i64 c) {
        return sys4(n, a, b, c, 0);
}
__asm__(".text\n.globl _start\n_start:\n\tmov x29, #0\n\tmov x0, sp\n\tbl stamp_main\n\tbrk #0\n");
#endif

#define AT_FDCWD_ (-100)
#define O_WRONLY_ 01
#define O_CREAT_ 0100
#define O_APPEND_ 02000
#define O_CLOEXEC_ 02000000

__attribute__((noreturn)) static void sys_exit(int code) {
        for (;;)
                sys3(NR_EXIT, code, 0, 0);
}

static const char usage[] = "usage: stamp [-x] [FILE]\n"
                            "Writes CLOCK_REALTIME in microseconds (taken at its first instruction) to FILE\n"
                            "or stdout, then pauses forever (-x: exits 0 instead).\n";

static int streq(const char *a, const char *b) {
        while (*a && *a == *b)
                a++, b++;
        return *a == *b;
}

/* Called from _start only; no stack protector: there is no libc to set up its canary. */
__attribute__((noreturn, used, no_stack_protector)) void stamp_main(i64 *sp);
void stamp_main(i64 *sp) {
        struct kts ts;
        sys3(NR_CLOCK_GETTIME, 0 /* CLOCK_REALTIME */, (i64) &ts, 0);

        int argc = (int) sp[0];
        char **argv = (char **) (sp + 1);
        int exit_after = 0, fd = 1;
        const char *file = 0;
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "-x"))
                        exit_after = 1;
                else if (streq(argv[i], "-h") || streq(argv[i], "--help")) {
                        sys3(NR_WRITE, 1, (i64) usage, sizeof usage - 1);
                        sys_exit(0);
                } else if (!file)
                        file = argv[i];
                else {
                        sys3(NR_WRITE, 2, (i64) usage, sizeof usage - 1);
                        sys_exit(2);
                }
        }

        /* "<µs>\n" */
        char buf[32], *p = buf + sizeof buf;
        u64 us = (u64) ts.sec * 1000000u + (u64) ts.nsec / 1000u;
        *--p = '\n';
        do
                *--p = (char) ('0' + us % 10);
        while ((us /= 10) && p > buf);

        if (file) {
                fd = (int) sys4(NR_OPENAT, AT_FDCWD_, (i64) file, O_WRONLY_ | O_CREAT_ | O_APPEND_ | O_CLOEXEC_, 0644);
                if (fd < 0)
                        sys_exit(1);
        }
        if (sys3(NR_WRITE, fd, (i64) p, (i64) (buf + sizeof buf - p)) < 0)
                sys_exit(1);
        if (exit_after)
                sys_exit(0);
        for (;;) {
#if defined(__x86_64__)
                sys3(NR_PAUSE, 0, 0, 0);
#else
                sys4(NR_PPOLL, 0, 0, 0, 0);
#endif
        }
}
