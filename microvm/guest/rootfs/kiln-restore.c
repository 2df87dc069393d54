/*
 * kiln-restore: after every snapshot restore, inside the guest, make this clone its own.
 *
 *   kiln-restore EPOCH_MS|- < entropy     one-shot: the agent runs it (its fallback)
 *   kiln-restore --serve DIR              served: init starts it before the agent
 *
 * Every clone of a snapshot wakes up with the same kernel random state and a clock stopped
 * at the moment of the snapshot. The work credits the host's entropy to the kernel pool and
 * forces the crng to reseed from it at once (writing to /dev/urandom only mixes bytes in;
 * the crng would keep serving the snapshot's state until its next scheduled reseed, so two
 * clones read the same /dev/urandom bytes), then sets the wall clock to the millisecond.
 * Both modes do it through the same two functions, reseed() and set_clock().
 *
 * One-shot: "-" leaves the clock alone. Exit 0 on success; otherwise one line on stderr
 * says why, and the exit status is one of the STATUS_ codes below.
 *
 * Served: creates the FIFOs DIR/request and DIR/reply, holds both open, then forks; the
 * parent exits 0 once they are ready (so init can start the agent at once) and the child
 * serves one request at a time, forever. Started before the agent, it is blocked in poll()
 * inside every snapshot, so a restore costs a FIFO round trip instead of a process start,
 * which in a just-restored guest faults in every page the new process touches.
 *
 * Request (big-endian, as the frame protocol):
 *   0  2  magic "KR"
 *   2  1  version 1
 *   3  1  flags: bit 0 = set the clock to EPOCH_MS; other bits must be 0
 *   4  4  request id, echoed in the reply
 *   8  8  EPOCH_MS (signed; > 0 when bit 0 is set, else ignored)
 *   16 2  entropy length N, 16..4096
 *   18 N  entropy
 * Reply:
 *   0  2  magic "KR"
 *   2  1  version 1
 *   3  1  status: 0 done, else a STATUS_ code
 *   4  4  the request's id (0 if the request was unreadable)
 *   8  2  message length L (at most MAX_MESSAGE)
 *   10 L  one line of UTF-8 saying what failed; empty on success
 *
 * A bad request is answered with an error and whatever else is waiting in the FIFO is
 * dropped (the next request starts clean); a request that stops half-way is answered with
 * an error after REQUEST_DEADLINE_MS. The served loop never exits on a request's account.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIN_ENTROPY 16
#define MAX_ENTROPY 4096
#define MAX_MESSAGE 240
#define HEADER 18
#define REPLY_HEADER 10
#define VERSION 1
#define FLAG_SET_CLOCK 1
/* From a request's first byte to its last: the agent writes a whole request at once. */
#define REQUEST_DEADLINE_MS 1000

enum {
    STATUS_OK = 0,
    STATUS_USAGE = 64,     /* bad arguments, or a request that is not one */
    STATUS_ENTROPY = 65,   /* too little or too much entropy */
    STATUS_URANDOM = 66,   /* /dev/urandom or stdin could not be used */
    STATUS_ADD = 67,       /* RNDADDENTROPY failed */
    STATUS_RESEED = 68,    /* RNDRESEEDCRNG failed */
    STATUS_CLOCK = 69,     /* clock_settime failed */
    STATUS_TRUNCATED = 70, /* served: the request stopped half-way */
};

struct outcome {
    int status;
    char message[MAX_MESSAGE + 1];
};

static int fail(struct outcome *o, int status, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(o->message, sizeof o->message, format, args);
    va_end(args);
    o->status = status;
    return status;
}

/* Credits n bytes of entropy to the kernel pool and reseeds the crng from it. */
static int reseed(const unsigned char *entropy, size_t n, struct outcome *o) {
    if (n < MIN_ENTROPY || n > MAX_ENTROPY) {
        return fail(o, STATUS_ENTROPY, "kiln-restore: %zu bytes of entropy, want %d to %d",
                    n, MIN_ENTROPY, MAX_ENTROPY);
    }
    struct {
        int entropy_count; /* bits credited */
        int buf_size;      /* bytes */
        unsigned char buf[MAX_ENTROPY];
    } pool;
    pool.entropy_count = (int) n * 8;
    pool.buf_size = (int) n;
    memcpy(pool.buf, entropy, n);
    int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return fail(o, STATUS_URANDOM, "kiln-restore: /dev/urandom: %s", strerror(errno));
    }
    int status = STATUS_OK;
    if (ioctl(fd, RNDADDENTROPY, &pool) != 0) {
        status = fail(o, STATUS_ADD, "kiln-restore: RNDADDENTROPY: %s", strerror(errno));
    } else if (ioctl(fd, RNDRESEEDCRNG) != 0) {
        status = fail(o, STATUS_RESEED, "kiln-restore: RNDRESEEDCRNG: %s", strerror(errno));
    }
    close(fd);
    return status;
}

static int set_clock(long long ms, struct outcome *o) {
    if (ms <= 0) {
        return fail(o, STATUS_USAGE, "kiln-restore: not a time in ms since the epoch: %lld", ms);
    }
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    if (clock_settime(CLOCK_REALTIME, &ts) != 0) {
        return fail(o, STATUS_CLOCK, "kiln-restore: clock_settime: %s", strerror(errno));
    }
    return STATUS_OK;
}

static int one_shot(const char *clock, struct outcome *o) {
    long long ms = 0;
    if (strcmp(clock, "-") != 0) {
        char *end;
        errno = 0;
        ms = strtoll(clock, &end, 10);
        if (errno != 0 || *end != '\0' || ms <= 0) {
            return fail(o, STATUS_USAGE, "kiln-restore: not a time in ms since the epoch: %s", clock);
        }
    }
    unsigned char buf[MAX_ENTROPY];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf && (r = read(0, buf + n, sizeof buf - n)) != 0) {
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return fail(o, STATUS_URANDOM, "kiln-restore: reading entropy: %s", strerror(errno));
        }
        n += (size_t) r;
    }
    if (reseed(buf, n, o) != STATUS_OK) {
        return o->status;
    }
    return ms > 0 ? set_clock(ms, o) : STATUS_OK;
}

/* --- served mode --- */

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads exactly n bytes from a non-blocking fd, waiting until deadline (monotonic ms, or -1
 * for ever). Returns how many bytes arrived: n, or fewer at the deadline. */
static size_t read_until(int fd, unsigned char *buf, size_t n, long long deadline) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r > 0) {
            got += (size_t) r;
            continue;
        }
        if (r < 0 && errno != EAGAIN && errno != EINTR) {
            return got;
        }
        int wait = -1;
        if (deadline >= 0) {
            long long left = deadline - now_ms();
            if (left <= 0) {
                return got;
            }
            wait = (int) left;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        poll(&p, 1, wait);
    }
    return got;
}

/* Drops whatever is waiting in the FIFO: after a bad request nothing behind it can be trusted. */
static void drain(int fd) {
    unsigned char junk[4096];
    while (read(fd, junk, sizeof junk) > 0) {
    }
}

static uint32_t get32(const unsigned char *p) {
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static void put32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char) (v >> 24);
    p[1] = (unsigned char) (v >> 16);
    p[2] = (unsigned char) (v >> 8);
    p[3] = (unsigned char) v;
}

static void reply(int fd, uint32_t id, const struct outcome *o) {
    size_t len = o->status == STATUS_OK ? 0 : strlen(o->message);
    unsigned char out[REPLY_HEADER + MAX_MESSAGE];
    out[0] = 'K';
    out[1] = 'R';
    out[2] = VERSION;
    out[3] = (unsigned char) o->status;
    put32(out + 4, id);
    out[8] = (unsigned char) (len >> 8);
    out[9] = (unsigned char) len;
    memcpy(out + REPLY_HEADER, o->message, len);
    /* Smaller than PIPE_BUF: one write, all or nothing. The helper holds the FIFO open for
     * reading too, so the write never fails for want of a reader. */
    if (write(fd, out, REPLY_HEADER + len) < 0) {
        fprintf(stderr, "kiln-restore: writing a reply: %s\n", strerror(errno));
    }
}

/* Reads and does one request; returns its id (0 if it had none) with the outcome in o. */
static uint32_t serve_one(int in, struct outcome *o) {
    unsigned char buf[HEADER + MAX_ENTROPY];
    o->status = STATUS_OK;
    o->message[0] = '\0';
    read_until(in, buf, 1, -1); /* blocked here, inside every snapshot */
    long long deadline = now_ms() + REQUEST_DEADLINE_MS;
    size_t got = 1 + read_until(in, buf + 1, HEADER - 1, deadline);
    if (got < HEADER) {
        drain(in);
        fail(o, STATUS_TRUNCATED, "kiln-restore: half a request: %zu of %d header bytes in %d ms",
             got, HEADER, REQUEST_DEADLINE_MS);
        return 0;
    }
    if (buf[0] != 'K' || buf[1] != 'R' || buf[2] != VERSION) {
        drain(in);
        fail(o, STATUS_USAGE, "kiln-restore: not a version %d request (starts %02x %02x %02x)",
             VERSION, buf[0], buf[1], buf[2]);
        return 0;
    }
    uint32_t id = get32(buf + 4);
    unsigned flags = buf[3];
    size_t n = (size_t) buf[16] << 8 | buf[17];
    if ((flags & ~FLAG_SET_CLOCK) != 0) {
        drain(in);
        fail(o, STATUS_USAGE, "kiln-restore: unknown flags 0x%02x", flags);
        return id;
    }
    if (n < MIN_ENTROPY || n > MAX_ENTROPY) {
        drain(in);
        fail(o, STATUS_ENTROPY, "kiln-restore: %zu bytes of entropy, want %d to %d",
             n, MIN_ENTROPY, MAX_ENTROPY);
        return id;
    }
    got = read_until(in, buf + HEADER, n, deadline);
    if (got < n) {
        drain(in);
        fail(o, STATUS_TRUNCATED, "kiln-restore: half a request: %zu of %zu entropy bytes in %d ms",
             got, n, REQUEST_DEADLINE_MS);
        return id;
    }
    long long ms = 0;
    for (int i = 8; i < 16; i++) {
        ms = (long long) ((unsigned long long) ms << 8 | buf[i]);
    }
    if (reseed(buf + HEADER, n, o) == STATUS_OK && (flags & FLAG_SET_CLOCK)) {
        set_clock(ms, o);
    }
    return id;
}

static int serve(const char *dir) {
    char request[256];
    char answer[256];
    if (snprintf(request, sizeof request, "%s/request", dir) >= (int) sizeof request
        || snprintf(answer, sizeof answer, "%s/reply", dir) >= (int) sizeof answer) {
        fprintf(stderr, "kiln-restore: directory name too long: %s\n", dir);
        return STATUS_USAGE;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "kiln-restore: mkdir %s: %s\n", dir, strerror(errno));
        return STATUS_USAGE;
    }
    unlink(request);
    unlink(answer);
    if (mkfifo(request, 0600) != 0 || mkfifo(answer, 0600) != 0) {
        fprintf(stderr, "kiln-restore: mkfifo in %s: %s\n", dir, strerror(errno));
        return STATUS_USAGE;
    }
    /* O_RDWR: opening never waits for the other end, and neither FIFO ever reports
     * end-of-file or a broken pipe to us, whatever the agent does with its ends. */
    int in = open(request, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    int out = open(answer, O_RDWR | O_CLOEXEC);
    if (in < 0 || out < 0) {
        fprintf(stderr, "kiln-restore: opening the FIFOs in %s: %s\n", dir, strerror(errno));
        return STATUS_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    pid_t child = fork();
    if (child < 0) {
        fprintf(stderr, "kiln-restore: fork: %s\n", strerror(errno));
        return STATUS_USAGE;
    }
    if (child > 0) {
        return STATUS_OK; /* ready: the FIFOs exist and are being served */
    }
    setsid();
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, 0);
        close(devnull);
    }
    for (;;) {
        struct outcome o;
        uint32_t id = serve_one(in, &o);
        reply(out, id, &o);
    }
}

int main(int argc, char **argv) {
    struct outcome o = {.status = STATUS_OK};
    if (argc == 3 && strcmp(argv[1], "--serve") == 0) {
        return serve(argv[2]);
    }
    if (argc != 2) {
        fprintf(stderr, "usage: kiln-restore EPOCH_MS|- < entropy\n"
                        "       kiln-restore --serve DIR\n");
        return STATUS_USAGE;
    }
    if (one_shot(argv[1], &o) != STATUS_OK) {
        fprintf(stderr, "%s\n", o.message);
    }
    return o.status;
}
