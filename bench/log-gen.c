/* log-gen.c: the log generator of bench/logs. Writes numbered 100-byte lines
 * to stdout as fast as it can for SECONDS (default 5), in 65,500-byte
 * write()s of whole lines, then one line on stderr:
 *   log-gen: <lines> lines <bytes> bytes <seconds> s
 * Line k (from 1): 20 digits of k, a space, 78 'x', a newline. A slow reader
 * blocks it (a full pipe), so its rate is the rate the reader sustains. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE 100
#define PER_WRITE 655 /* 65,500 bytes */

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int main(int argc, char *argv[]) {
        static char buf[PER_WRITE * LINE];
        char num[20];
        double secs = argc > 1 ? atof(argv[1]) : 5, t0, t;
        uint64_t lines = 0;

        if (secs <= 0) {
                fprintf(stderr, "usage: log-gen [SECONDS]\n");
                return 2;
        }
        memset(num, '0', sizeof num);
        for (int i = 0; i < PER_WRITE; i++) {
                memset(buf + i * LINE + 20, 'x', LINE - 1 - 20);
                buf[i * LINE + 20] = ' ';
                buf[i * LINE + LINE - 1] = '\n';
        }
        t0 = now();
        do {
                for (int i = 0; i < PER_WRITE; i++) {
                        /* increment the 20-digit decimal counter in place */
                        for (int d = 19; d >= 0; d--) {
                                if (num[d] != '9') {
                                        num[d]++;
                                        break;
                                }
                                num[d] = '0';
                        }
                        memcpy(buf + i * LINE, num, sizeof num);
                }
                for (size_t off = 0; off < sizeof buf;) {
                        ssize_t n = write(STDOUT_FILENO, buf + off, sizeof buf - off);
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                perror("log-gen: write");
                                return 1;
                        }
                        off += (size_t) n;
                }
                lines += PER_WRITE;
                t = now();
        } while (t - t0 < secs);
        fprintf(stderr, "log-gen: %llu lines %llu bytes %.6f s\n", (unsigned long long) lines,
                (unsigned long long) lines * LINE, t - t0);
        return 0;
}
