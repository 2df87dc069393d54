/*
 * kiln-jailer: runs one program (a VMM: QEMU or the Java engine's host JVM) in a jail.
 *
 *   kiln-jailer --root DIR --uid N --gid N [options] -- PROGRAM ARGS...
 *
 * The same idea as Firecracker's jailer, in our own code: join the group's cgroups, enter new
 * mount, PID, IPC, network and UTS namespaces, build a root that holds only the paths the caller
 * lists (bound at the same paths, so nothing the caller passes needs rewriting), drop to an
 * unprivileged uid with no capabilities and no way to regain any, and exec the program.
 *
 * Options:
 *   --root DIR       an existing host directory; a small tmpfs is mounted on it (in the jail's
 *                    own mount namespace only: the host never sees it, so jails may share DIR)
 *                    and becomes the jail's /
 *   --uid N --gid N  the identity the program runs as (not 0)
 *   --cgroup DIR     a cgroup directory to join (repeatable), written before anything else so
 *                    every byte the program allocates is charged to it
 *   --ro PATH        a host file or directory visible read-only at PATH (repeatable)
 *   --rw PATH        a host file or directory visible read-write at PATH (repeatable)
 *   --kvm            create /dev/kvm (10,232), owned by the uid, mode 0600
 *   --tmp-size N     the size of the jail's /tmp tmpfs in bytes (default 64 MiB; 0 = no /tmp)
 *   --nofile N       RLIMIT_NOFILE (default 4096)
 *   --keep-fd N      an open fd >= 3 the program inherits (repeatable; all others are closed)
 *   --cwd PATH       the program's working directory inside the jail (default /)
 *
 * Exit status: the program's own (128 + signal when a signal killed it); 125 when the jail
 * could not be built, after one line "kiln-jailer: <step>: <reason>" on stderr.
 *
 * The program runs as pid 1 of its PID namespace: when it exits every process it started dies,
 * and it only receives the signals it has a handler for (QEMU and the JVM handle SIGTERM and
 * SIGINT, which the jailer forwards), SIGKILL always.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define FAIL_STATUS 125
#define MAX_LIST 256

extern char **environ;

struct bind {
    const char *path;
    int read_only;
};

static struct {
    const char *root;
    long uid;
    long gid;
    const char *cgroups[MAX_LIST];
    int ncgroups;
    struct bind binds[MAX_LIST];
    int nbinds;
    int kvm;
    unsigned long long tmp_size;
    unsigned long nofile;
    int keep_fds[MAX_LIST];
    int nkeep;
    const char *cwd;
    char **argv;
} opt = {.uid = -1, .gid = -1, .tmp_size = 64ULL << 20, .nofile = 4096, .cwd = "/"};

static volatile pid_t child_pid;

/* One line on stderr and the failure status: the caller (Java) shows the line as the reason. */
static void die(const char *step, const char *fmt, ...) {
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    dprintf(STDERR_FILENO, "kiln-jailer: %s: %s\n", step, detail);
    _exit(FAIL_STATUS);
}

static void die_errno(const char *step, const char *what) {
    int e = errno;
    if (what != NULL) {
        die(step, "%s: %s", what, strerror(e));
    }
    die(step, "%s", strerror(e));
}

static void usage(const char *why) {
    die("usage", "%s (kiln-jailer --root DIR --uid N --gid N [--cgroup DIR]... [--ro PATH]... "
                 "[--rw PATH]... [--kvm] [--tmp-size BYTES] [--nofile N] [--keep-fd N]... "
                 "[--cwd PATH] -- PROGRAM ARGS...)", why);
}

static unsigned long long parse_number(const char *name, const char *s, unsigned long long max) {
    char *end;
    errno = 0;
    if (s == NULL || *s == '\0' || *s == '-') {
        die("usage", "%s needs a non-negative number, got '%s'", name, s ? s : "");
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max) {
        die("usage", "%s needs a number up to %llu, got '%s'", name, max, s);
    }
    return v;
}

/* Paths pass into the jail unchanged, so they must name the same thing inside as outside:
 * absolute, canonical (no symlink, '.', '..' or doubled '/' in them), and existing. */
static const char *canonical_path(const char *name, const char *p) {
    if (p == NULL || p[0] != '/') {
        die("usage", "%s needs an absolute path, got '%s'", name, p ? p : "");
    }
    char real[PATH_MAX];
    if (realpath(p, real) == NULL) {
        die_errno(name, p);
    }
    if (strcmp(real, p) != 0) {
        die("usage", "%s %s is not canonical (it resolves to %s): pass the resolved path", name, p,
            real);
    }
    return p;
}

static void parse(int argc, char **argv) {
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "--kvm") == 0) {
            opt.kvm = 1;
            continue;
        }
        if (v == NULL) {
            die("usage", "%s needs a value", a);
        }
        if (strcmp(a, "--root") == 0) {
            opt.root = canonical_path(a, v);
        } else if (strcmp(a, "--uid") == 0) {
            opt.uid = (long) parse_number(a, v, UINT32_MAX - 1);
        } else if (strcmp(a, "--gid") == 0) {
            opt.gid = (long) parse_number(a, v, UINT32_MAX - 1);
        } else if (strcmp(a, "--cgroup") == 0) {
            if (opt.ncgroups == MAX_LIST) die("usage", "too many --cgroup");
            opt.cgroups[opt.ncgroups++] = canonical_path(a, v);
        } else if (strcmp(a, "--ro") == 0 || strcmp(a, "--rw") == 0) {
            if (opt.nbinds == MAX_LIST) die("usage", "too many --ro/--rw");
            if (strcmp(v, "/") == 0) die("usage", "%s / would show the whole host", a);
            if (strncmp(v, "/proc", 5) == 0 && (v[5] == '\0' || v[5] == '/')) {
                die("usage", "%s %s: the jail has its own /proc", a, v);
            }
            if (strncmp(v, "/dev", 4) == 0 && (v[4] == '\0' || v[4] == '/')) {
                die("usage", "%s %s: the jail has its own /dev (--kvm adds /dev/kvm)", a, v);
            }
            opt.binds[opt.nbinds].path = canonical_path(a, v);
            opt.binds[opt.nbinds++].read_only = a[3] == 'o';
        } else if (strcmp(a, "--tmp-size") == 0) {
            opt.tmp_size = parse_number(a, v, 1ULL << 40);
        } else if (strcmp(a, "--nofile") == 0) {
            opt.nofile = (unsigned long) parse_number(a, v, 1 << 20);
            if (opt.nofile < 16) die("usage", "--nofile %s is too small", v);
        } else if (strcmp(a, "--keep-fd") == 0) {
            if (opt.nkeep == MAX_LIST) die("usage", "too many --keep-fd");
            int fd = (int) parse_number(a, v, INT_MAX);
            if (fd < 3) die("usage", "--keep-fd %d: fds 0-2 are always kept", fd);
            if (fcntl(fd, F_GETFD) < 0) die_errno("--keep-fd", v);
            opt.keep_fds[opt.nkeep++] = fd;
        } else if (strcmp(a, "--cwd") == 0) {
            if (v[0] != '/') die("usage", "--cwd needs an absolute path, got '%s'", v);
            opt.cwd = v;
        } else {
            die("usage", "unknown option '%s'", a);
        }
        i++;
    }
    if (i >= argc) usage("no program after --");
    if (opt.root == NULL) usage("--root is required");
    if (opt.uid < 0 || opt.gid < 0) usage("--uid and --gid are required");
    if (opt.uid == 0 || opt.gid == 0) die("usage", "--uid and --gid must not be 0 (root)");
    opt.argv = argv + i;
}

/* a + "/" + b (or a + b when b starts with '/') into out[PATH_MAX]; a path too long fails. */
static void join_path(char *out, const char *a, const char *b) {
    const char *sep = b[0] == '/' ? "" : "/";
    if (snprintf(out, PATH_MAX, "%s%s%s", a, sep, b) >= PATH_MAX) {
        die("path", "%s%s%s is too long", a, sep, b);
    }
}

static void write_file(const char *step, const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) die_errno(step, path);
    size_t n = strlen(text);
    if (write(fd, text, n) != (ssize_t) n) die_errno(step, path);
    if (close(fd) < 0) die_errno(step, path);
}

static void join_cgroups(void) {
    char path[PATH_MAX], pid[32];
    snprintf(pid, sizeof pid, "%d\n", getpid());
    for (int i = 0; i < opt.ncgroups; i++) {
        join_path(path, opt.cgroups[i], "cgroup.procs");
        write_file("join cgroup", path, pid);
    }
}

/* mkdir -p of the parents of 'path' (an absolute path under the new root). */
static void make_parents(const char *path) {
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *s = strchr(buf + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST) die_errno("create mount point", buf);
        *s = '/';
    }
}

/* The per-mount flags of the mount holding 'path', so a remount keeps noexec and the like. */
static unsigned long inherited_flags(const char *path) {
    struct statvfs sv;
    if (statvfs(path, &sv) < 0) die_errno("statvfs", path);
    unsigned long flags = 0;
    if (sv.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME) flags |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME) flags |= MS_RELATIME;
    if (sv.f_flag & ST_RDONLY) flags |= MS_RDONLY;
    return flags;
}

static int path_depth(const char *p) {
    int d = 0;
    for (; *p; p++) d += *p == '/';
    return d;
}

static int by_depth(const void *a, const void *b) {
    return path_depth(((const struct bind *) a)->path) - path_depth(((const struct bind *) b)->path);
}

static void bind_paths(const char *root) {
    char target[PATH_MAX];
    /* Parents before children: a child bound first would be hidden by its parent's bind. */
    qsort(opt.binds, opt.nbinds, sizeof opt.binds[0], by_depth);
    for (int i = 0; i < opt.nbinds; i++) {
        const struct bind *b = &opt.binds[i];
        struct stat st;
        if (stat(b->path, &st) < 0) die_errno("bind", b->path);
        join_path(target, root, b->path);
        make_parents(target);
        /* Inside an earlier bind the mount point already exists (it is the same host path). */
        if (S_ISDIR(st.st_mode)) {
            if (mkdir(target, 0755) < 0 && errno != EEXIST) die_errno("create mount point", target);
        } else {
            int fd = open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
            if (fd < 0 && errno != EEXIST && errno != EROFS) die_errno("create mount point", target);
            if (fd >= 0) close(fd);
        }
        if (mount(b->path, target, NULL, MS_BIND | MS_REC, NULL) < 0) die_errno("bind", b->path);
        unsigned long flags = MS_NOSUID | MS_NODEV | (b->read_only ? MS_RDONLY : 0);
        /* mount_setattr applies the flags to every mount under the bind too (MS_REMOUNT only to
         * the top one, which would leave a submount of a read-only path writable). */
        struct mount_attr attr = {
            .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (b->read_only ? MOUNT_ATTR_RDONLY : 0),
        };
        if (syscall(SYS_mount_setattr, -1, target, AT_RECURSIVE, &attr, sizeof attr) < 0) {
            if (errno != ENOSYS) die_errno("restrict bind", b->path);
            if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | flags | inherited_flags(target),
                      NULL) < 0) {
                die_errno("restrict bind", b->path);
            }
        }
    }
}

static void make_node(const char *dev, const char *name, mode_t mode, unsigned maj, unsigned min) {
    char path[PATH_MAX];
    join_path(path, dev, name);
    if (mknod(path, S_IFCHR | mode, makedev(maj, min)) < 0) die_errno("mknod", path);
    /* mknod applies the umask; the mode must be exact. */
    if (chmod(path, mode) < 0) die_errno("chmod", path);
}

static void make_dev(const char *root) {
    char dev[PATH_MAX], path[PATH_MAX];
    join_path(dev, root, "dev");
    if (mkdir(dev, 0755) < 0) die_errno("mkdir", dev);
    /* Its own tmpfs: the root is nodev, and device nodes on a nodev mount cannot be opened. */
    if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,nr_inodes=64,mode=0755") < 0) {
        die_errno("mount /dev", dev);
    }
    make_node(dev, "null", 0666, 1, 3);
    make_node(dev, "zero", 0666, 1, 5);
    make_node(dev, "random", 0666, 1, 8);
    make_node(dev, "urandom", 0666, 1, 9);
    if (opt.kvm) {
        make_node(dev, "kvm", 0600, 10, 232);
        join_path(path, dev, "kvm");
        if (chown(path, (uid_t) opt.uid, (gid_t) opt.gid) < 0) die_errno("chown", path);
    }
    static const char *links[][2] = {
        {"fd", "/proc/self/fd"},
        {"stdin", "/proc/self/fd/0"},
        {"stdout", "/proc/self/fd/1"},
        {"stderr", "/proc/self/fd/2"},
    };
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        join_path(path, dev, links[i][0]);
        if (symlink(links[i][1], path) < 0) die_errno("symlink", path);
    }
}

/* Debian 12 is merged-/usr: /bin, /lib, /lib64, /sbin are symlinks into /usr; the jail gets
 * the same symlinks so that the ELF interpreter (/lib64/ld-linux-x86-64.so.2) and #! lines
 * resolve through a bound /usr. */
static void make_usr_links(const char *root) {
    static const char *names[] = {"bin", "sbin", "lib", "lib32", "lib64", "libx32"};
    char host[64], target[PATH_MAX], path[PATH_MAX];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(host, sizeof host, "/%s", names[i]);
        ssize_t n = readlink(host, target, sizeof target - 1);
        if (n < 0) continue; /* absent or a real directory: the caller binds it if needed */
        target[n] = '\0';
        join_path(path, root, names[i]);
        if (symlink(target, path) < 0 && errno != EEXIST) die_errno("symlink", path);
    }
}

static void build_root(void) {
    const char *root = opt.root;
    char path[PATH_MAX], mount_opts[128];
    /* Nothing mounted from here on propagates back to the host (or in from it). */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die_errno("make / private", NULL);
    if (mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=4096,mode=0755") < 0) {
        die_errno("mount root tmpfs", root);
    }
    make_usr_links(root);
    /* /tmp before the binds: a --rw path under /tmp is bound on top of it, not hidden by it. */
    if (opt.tmp_size > 0) {
        join_path(path, root, "tmp");
        if (mkdir(path, 0700) < 0 && errno != EEXIST) die_errno("mkdir", path);
        snprintf(mount_opts, sizeof mount_opts, "size=%llu,mode=0700,uid=%ld,gid=%ld", opt.tmp_size,
                 opt.uid, opt.gid);
        if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, mount_opts) < 0) {
            die_errno("mount /tmp", path);
        }
    }
    bind_paths(root);

    join_path(path, root, "proc");
    if (mkdir(path, 0555) < 0 && errno != EEXIST) die_errno("mkdir", path);
    /* A fresh proc: it shows the jail's PID namespace, not the host's processes. */
    if (mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
        die_errno("mount /proc", path);
    }
    make_dev(root);

    if (chdir(root) < 0) die_errno("chdir", root);
    /* pivot_root(".", ".") stacks the old root on top of the new one; unmounting it (lazily:
     * it is busy) leaves only the new root. */
    if (syscall(SYS_pivot_root, ".", ".") < 0) die_errno("pivot_root", root);
    if (umount2(".", MNT_DETACH) < 0) die_errno("unmount the old root", NULL);
    if (chdir("/") < 0) die_errno("chdir", "/");
    /* The jail's skeleton is read-only from now on: only --rw paths and /tmp take writes. */
    if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0) {
        die_errno("remount / read-only", NULL);
    }
    if (mount(NULL, "/dev", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL) < 0) {
        die_errno("remount /dev read-only", NULL);
    }
}

static void set_limit(int resource, const char *name, rlim_t value) {
    struct rlimit rl = {value, value};
    if (setrlimit(resource, &rl) < 0) die_errno("setrlimit", name);
}

static void drop_privileges(void) {
    /* The bounding set too, so no file capability could ever hand one back. */
    int last = CAP_LAST_CAP;
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
    if (f != NULL) {
        if (fscanf(f, "%d", &last) != 1) last = CAP_LAST_CAP;
        fclose(f);
    }
    for (int cap = 0; cap <= last; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) die_errno("drop capability", NULL);
    }
    if (setgroups(0, NULL) < 0) die_errno("setgroups", NULL);
    if (setresgid((gid_t) opt.gid, (gid_t) opt.gid, (gid_t) opt.gid) < 0) die_errno("setresgid", NULL);
    if (setresuid((uid_t) opt.uid, (uid_t) opt.uid, (uid_t) opt.uid) < 0) die_errno("setresuid", NULL);
    /* Leaving uid 0 for another clears the permitted and effective sets; check it did. */
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &hdr, data) < 0) die_errno("capget", NULL);
    for (int i = 0; i < 2; i++) {
        if (data[i].effective || data[i].permitted || data[i].inheritable) {
            die("drop capabilities", "capabilities remain after the uid switch");
        }
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die_errno("no_new_privs", NULL);
}

static int keep_fd(int fd) {
    for (int i = 0; i < opt.nkeep; i++) {
        if (opt.keep_fds[i] == fd) return 1;
    }
    return 0;
}

static void close_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL) die_errno("list fds", "/proc/self/fd");
    int own = dirfd(d);
    int fds[4096], n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        int fd = atoi(e->d_name);
        if (fd >= 3 && fd != own && !keep_fd(fd)) {
            if (n == (int) (sizeof fds / sizeof fds[0])) die("close fds", "too many open fds");
            fds[n++] = fd;
        }
    }
    closedir(d);
    for (int i = 0; i < n; i++) close(fds[i]);
    /* Kept fds must survive the exec. */
    for (int i = 0; i < opt.nkeep; i++) {
        int flags = fcntl(opt.keep_fds[i], F_GETFD);
        if (flags < 0 || fcntl(opt.keep_fds[i], F_SETFD, flags & ~FD_CLOEXEC) < 0) {
            die_errno("keep fd", NULL);
        }
    }
}

static void run_child(int parent_alive_fd, mode_t umask_given) {
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    if (sethostname("kiln-jail", 9) < 0) die_errno("sethostname", NULL);
    build_root();
    set_limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", opt.nofile);
    set_limit(RLIMIT_CORE, "RLIMIT_CORE", 0);
    drop_privileges();
    /* After the uid switch: changing credentials clears the parent-death signal. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die_errno("pdeathsig", NULL);
    /* The jailer may have died before the line above: its end of the pipe is then closed. */
    struct pollfd p = {parent_alive_fd, POLLIN, 0};
    if (poll(&p, 1, 0) != 0) die("start", "the jailer died before the program started");
    close_fds();
    if (chdir(opt.cwd) < 0) die_errno("chdir", opt.cwd);
    umask(umask_given);
    execvpe(opt.argv[0], opt.argv, environ);
    die_errno("exec", opt.argv[0]);
}

static void forward(int sig) {
    if (child_pid > 0) kill(child_pid, sig);
}

int main(int argc, char **argv) {
    parse(argc, argv);
    join_cgroups();
    mode_t umask_given = umask(022);

    if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS) < 0) {
        die_errno("unshare", NULL);
    }
    int alive[2];
    if (pipe2(alive, O_CLOEXEC) < 0) die_errno("pipe", NULL);
    /* Held until the handlers are in place, so no SIGTERM is lost between fork and them. */
    sigset_t forwarded, old;
    sigemptyset(&forwarded);
    sigaddset(&forwarded, SIGTERM);
    sigaddset(&forwarded, SIGINT);
    sigaddset(&forwarded, SIGHUP);
    sigprocmask(SIG_BLOCK, &forwarded, &old);

    pid_t pid = fork();
    if (pid < 0) die_errno("fork", NULL);
    if (pid == 0) {
        close(alive[1]);
        run_child(alive[0], umask_given);
    }
    close(alive[0]);
    child_pid = pid;
    struct sigaction sa = {0};
    sa.sa_handler = forward;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    /* The jailer holds nothing the program needs: drop the caller's fds (kept ones too, so the
     * program alone decides when they close); 'alive' stays open until the jailer exits. */
    for (int i = 0; i < opt.nkeep; i++) close(opt.keep_fds[i]);

    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) die_errno("wait", NULL);
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}
