/*
 * kiln-restore: run by the agent inside a guest after every snapshot restore.
 *
 *   kiln-restore EPOCH_MS|- < entropy
 *
 * Every clone of a snapshot wakes up with the same kernel random state and a clock stopped
 * at the moment of the snapshot. This credits the host's entropy to the kernel pool and
 * forces the crng to reseed from it at once (writing to /dev/urandom only mixes bytes in;
 * the crng would keep serving the snapshot's state until its next scheduled reseed, so two
 * clones read the same /dev/urandom bytes), then sets the wall clock to the millisecond.
 * "-" leaves the clock alone. Exit 0 on success; otherwise one line on stderr says why.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_ENTROPY 4096

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: kiln-restore EPOCH_MS|- < entropy\n");
        return 64;
    }
    struct {
        int entropy_count; /* bits credited */
        int buf_size;      /* bytes */
        unsigned char buf[MAX_ENTROPY];
    } pool;
    size_t n = 0;
    ssize_t r;
    while (n < sizeof pool.buf && (r = read(0, pool.buf + n, sizeof pool.buf - n)) != 0) {
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, "kiln-restore: reading entropy: %s\n", strerror(errno));
            return 66;
        }
        n += (size_t) r;
    }
    if (n < 16) {
        fprintf(stderr, "kiln-restore: only %zu bytes of entropy, want at least 16\n", n);
        return 65;
    }
    int fd = open("/dev/urandom", O_WRONLY);
    if (fd < 0) {
        fprintf(stderr, "kiln-restore: /dev/urandom: %s\n", strerror(errno));
        return 66;
    }
    pool.entropy_count = (int) n * 8;
    pool.buf_size = (int) n;
    if (ioctl(fd, RNDADDENTROPY, &pool) != 0) {
        fprintf(stderr, "kiln-restore: RNDADDENTROPY: %s\n", strerror(errno));
        return 67;
    }
    if (ioctl(fd, RNDRESEEDCRNG) != 0) {
        fprintf(stderr, "kiln-restore: RNDRESEEDCRNG: %s\n", strerror(errno));
        return 68;
    }
    close(fd);
    if (strcmp(argv[1], "-") != 0) {
        char *end;
        errno = 0;
        long long ms = strtoll(argv[1], &end, 10);
        if (errno != 0 || *end != '\0' || ms <= 0) {
            fprintf(stderr, "kiln-restore: not a time in ms since the epoch: %s\n", argv[1]);
            return 64;
        }
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
        if (clock_settime(CLOCK_REALTIME, &ts) != 0) {
            fprintf(stderr, "kiln-restore: clock_settime: %s\n", strerror(errno));
            return 69;
        }
    }
    return 0;
}
