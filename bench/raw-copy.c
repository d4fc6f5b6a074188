/* raw-copy.c: the lower bound of bench/logs: stdin to a file with read(2)
 * and write(2) of 64 KiB, nothing else (no timestamps, no records).
 *   raw-copy OUT [MAX_BYTES]
 * With MAX_BYTES the file is truncated to 0 whenever it would exceed it
 * (keeps a long run's disk use bounded, like berth's rotation). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
        static char buf[64 * 1024];
        unsigned long long max = argc > 2 ? strtoull(argv[2], NULL, 10) : 0, size = 0;
        int fd;

        if (argc < 2) {
                fprintf(stderr, "usage: raw-copy OUT [MAX_BYTES]\n");
                return 2;
        }
        fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0) {
                perror("raw-copy: open");
                return 1;
        }
        for (;;) {
                ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        perror("raw-copy: read");
                        return 1;
                }
                if (n == 0)
                        break;
                if (max && size + (unsigned long long) n > max) {
                        if (ftruncate(fd, 0) < 0) {
                                perror("raw-copy: ftruncate");
                                return 1;
                        }
                        size = 0;
                }
                for (ssize_t off = 0; off < n;) {
                        ssize_t w = write(fd, buf + off, (size_t) (n - off));
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0) {
                                perror("raw-copy: write");
                                return 1;
                        }
                        off += w;
                }
                size += (unsigned long long) n;
        }
        return 0;
}
