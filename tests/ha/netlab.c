/*
 * netlab - a userspace IP switch between network namespaces, with delay,
 * loss and partitions: the link emulator of `make ha` (tests/ha/ha.sh).
 *
 * Why: this machine's kernel has neither the netem qdisc (tc says
 * "Specified qdisc kind is unknown") nor nftables' queue statement
 * (NFQUEUE), so latency cannot be added in the kernel; nftables' random
 * drop gives loss but no delay. A TUN device per host gives the whole
 * path to one process that can hold packets back.
 *
 * Contract:
 *   ha-netlab --fifo PATH [--seed N] NAME=IFNAME@IPV4 ...
 * creates one TUN device IFNAME (IFF_TUN, no packet info) per host NAME of
 * address IPV4 and
 * prints "ready" on stdout once they all exist; the caller moves each into
 * its namespace (`ip link set IFNAME netns NS`: the fd keeps working) and
 * gives it the host's address with a prefix covering every host, so every
 * packet to another host comes here. A packet read from host A is written
 * to the host whose address is its destination, after the delay of A's link plus the delay of B's link,
 * and dropped with each link's loss probability, or always when A or B is
 * partitioned. Packets to unknown addresses are dropped.
 *
 * Commands, one per line written to the FIFO PATH (echo "..." > PATH):
 *   set NAME|all delay MS loss PCT    a link's one-way delay and loss (0..100, may be fractional)
 *   part NAME                         drop every packet to or from NAME
 *   heal NAME|all                     undo part
 * Each applied command is echoed on stderr ("netlab: applied ...").
 * SIGTERM/SIGINT end it (read through a signalfd); the TUN devices go with it.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_HOSTS  16
#define MAX_QUEUED 65536  /* packets held back at once; beyond, new ones are dropped */
#define PKT_MAX    65536  /* a TUN read never exceeds this */

/* one emulated host and its link to the switch */
typedef struct host {
    char     name[32];    /* as given on the command line */
    int      fd;          /* its TUN device */
    uint32_t addr;        /* its IPv4 address (network order) */
    int      delay_ms;    /* one-way delay of its link */
    double   loss;        /* drop probability of its link, 0..1 */
    int      parted;      /* 1: every packet to or from it is dropped */
} host_t;

/* one packet waiting for its release time */
typedef struct held {
    int64_t  due_ms;      /* when it leaves */
    uint64_t seq;         /* arrival order: equal due times keep it */
    int      to;          /* destination host index */
    size_t   len;         /* bytes in data */
    uint8_t *data;        /* the IP packet */
} held_t;

static host_t hosts[MAX_HOSTS];
static int n_hosts;
static held_t heap[MAX_QUEUED];
static size_t n_held;
static uint64_t seq_next;
static uint64_t rng_state = 0x6e65746c6162ull;
static unsigned long forwarded, dropped_loss, dropped_part, dropped_unknown, dropped_full;

/* now_ms - monotonic milliseconds */
static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* rng_unit - xorshift64*, a uniform double in [0, 1) */
static double rng_unit(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* earlier - heap order: due time, then arrival */
static int earlier(const held_t *a, const held_t *b)
{
    return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->seq < b->seq);
}

/* heap_push - add a packet (its data now owned by the heap) */
static void heap_push(held_t p)
{
    size_t i = n_held++;
    heap[i] = p;
    while (i > 0 && earlier(&heap[i], &heap[(i - 1) / 2])) {
        held_t t = heap[i];
        heap[i] = heap[(i - 1) / 2];
        heap[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

/* heap_pop - remove the earliest packet */
static held_t heap_pop(void)
{
    held_t top = heap[0];
    heap[0] = heap[--n_held];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n_held && earlier(&heap[l], &heap[m]))
            m = l;
        if (r < n_held && earlier(&heap[r], &heap[m]))
            m = r;
        if (m == i)
            break;
        held_t t = heap[i];
        heap[i] = heap[m];
        heap[m] = t;
        i = m;
    }
    return top;
}

/* tun_open - create TUN device name; its fd or -1 */
static int tun_open(const char *name)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "netlab: /dev/net/tun: %s\n", strerror(errno));
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        fprintf(stderr, "netlab: TUNSETIFF %s: %s\n", name, strerror(errno));
        close(fd);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        fprintf(stderr, "netlab: fcntl %s: %s\n", name, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* host_by_name - index of a host, -1 if none */
static int host_by_name(const char *name)
{
    for (int i = 0; i < n_hosts; i++)
        if (strcmp(hosts[i].name, name) == 0)
            return i;
    return -1;
}

/* host_by_addr - index of the host owning addr, -1 if none */
static int host_by_addr(uint32_t addr)
{
    for (int i = 0; i < n_hosts; i++)
        if (hosts[i].addr == addr)
            return i;
    return -1;
}

/* apply - one command line; 0, or -1 (message printed) when malformed */
static int apply(char *line)
{
    char verb[16] = "", who[32] = "";
    int delay = 0;
    double loss = 0;
    int n = sscanf(line, "%15s %31s delay %d loss %lf", verb, who, &delay, &loss);
    int from = 0, to = n_hosts;
    if (n >= 2 && strcmp(who, "all") != 0) {
        from = host_by_name(who);
        to = from + 1;
        if (from < 0) {
            fprintf(stderr, "netlab: unknown host in: %s\n", line);
            return -1;
        }
    }
    if (n == 4 && strcmp(verb, "set") == 0 && delay >= 0 && delay <= 60000 && loss >= 0
        && loss <= 100) {
        for (int i = from; i < to; i++) {
            hosts[i].delay_ms = delay;
            hosts[i].loss = loss / 100.0;
        }
    } else if (n == 2 && strcmp(verb, "part") == 0 && strcmp(who, "all") != 0) {
        hosts[from].parted = 1;
    } else if (n == 2 && strcmp(verb, "heal") == 0) {
        for (int i = from; i < to; i++)
            hosts[i].parted = 0;
    } else {
        fprintf(stderr, "netlab: bad command: %s\n", line);
        return -1;
    }
    fprintf(stderr, "netlab: applied %s\n", line);
    return 0;
}

/* read_commands - apply every complete line waiting in the FIFO */
static void read_commands(int fd, char *buf, size_t size, size_t *used)
{
    for (;;) {
        ssize_t n = read(fd, buf + *used, size - 1 - *used);
        if (n <= 0)
            break;
        *used += (size_t)n;
        buf[*used] = '\0';
        char *start = buf, *nl;
        while ((nl = strchr(start, '\n')) != NULL) {
            *nl = '\0';
            if (*start)
                (void)apply(start); /* a bad line is reported and skipped */
            start = nl + 1;
        }
        *used = strlen(start);
        memmove(buf, start, *used + 1);
        if (*used == size - 1)
            *used = 0; /* an endless line: forget it */
    }
}

/* take_packet - one packet read from host i: learn, drop or hold */
static void take_packet(int i, const uint8_t *pkt, size_t len, int64_t now)
{
    if (len < 20 || (pkt[0] >> 4) != 4) {
        dropped_unknown++; /* IPv6 (router solicitations...) and runts: not ours */
        return;
    }
    uint32_t dst;
    memcpy(&dst, pkt + 16, 4);
    int j = host_by_addr(dst);
    if (j < 0 || j == i) {
        dropped_unknown++;
        return;
    }
    if (hosts[i].parted || hosts[j].parted) {
        dropped_part++;
        return;
    }
    if ((hosts[i].loss > 0 && rng_unit() < hosts[i].loss)
        || (hosts[j].loss > 0 && rng_unit() < hosts[j].loss)) {
        dropped_loss++;
        return;
    }
    if (n_held >= MAX_QUEUED) {
        dropped_full++;
        return;
    }
    uint8_t *copy = malloc(len);
    if (!copy) {
        dropped_full++;
        return;
    }
    memcpy(copy, pkt, len);
    held_t h = { now + hosts[i].delay_ms + hosts[j].delay_ms, seq_next++, j, len, copy };
    heap_push(h);
}

/* release - write every packet whose time has come */
static void release(int64_t now)
{
    while (n_held > 0 && heap[0].due_ms <= now) {
        held_t p = heap_pop();
        /* a full TUN queue or a device gone with its namespace: the packet is lost,
         * as on a wire */
        if (write(hosts[p.to].fd, p.data, p.len) == (ssize_t)p.len)
            forwarded++;
        else
            dropped_full++;
        free(p.data);
    }
}

/* readable - a poll entry waiting for fd to be readable */
static void readable(struct pollfd *p, int fd)
{
    p->fd = fd;
    p->events = POLLIN;
    p->revents = 0;
}

/* main - parse, create the devices, switch until a signal */
int main(int argc, char **argv)
{
    const char *fifo = NULL;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--fifo") == 0 && a + 1 < argc) {
            fifo = argv[++a];
        } else if (strcmp(argv[a], "--seed") == 0 && a + 1 < argc) {
            rng_state = strtoull(argv[++a], NULL, 10) | 1;
        } else {
            const char *eq = strchr(argv[a], '=');
            const char *at = eq ? strchr(eq, '@') : NULL;
            char ifname[IFNAMSIZ] = "";
            host_t *h = &hosts[n_hosts];
            if (!at || eq == argv[a] || (size_t)(eq - argv[a]) >= sizeof h->name
                || (size_t)(at - eq - 1) >= sizeof ifname || at == eq + 1
                || n_hosts == MAX_HOSTS || inet_pton(AF_INET, at + 1, &h->addr) != 1) {
                fprintf(stderr, "usage: ha-netlab --fifo PATH [--seed N] NAME=IFNAME@IPV4 ... "
                                "(at most %d)\n", MAX_HOSTS);
                return 64;
            }
            memcpy(h->name, argv[a], (size_t)(eq - argv[a]));
            memcpy(ifname, eq + 1, (size_t)(at - eq - 1));
            n_hosts++;
            h->fd = tun_open(ifname);
            if (h->fd < 0)
                return 1;
        }
    }
    if (!fifo || n_hosts < 2) {
        fprintf(stderr, "usage: ha-netlab --fifo PATH [--seed N] NAME=IFNAME@IPV4 ... (two hosts at least)\n");
        return 64;
    }
    if (mkfifo(fifo, 0600) < 0 && errno != EEXIST) {
        fprintf(stderr, "netlab: mkfifo %s: %s\n", fifo, strerror(errno));
        return 1;
    }
    /* read-write: the FIFO never reports end of file when a writer closes */
    int cfd = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (cfd < 0) {
        fprintf(stderr, "netlab: %s: %s\n", fifo, strerror(errno));
        return 1;
    }
    /* SIGTERM and SIGINT as a descriptor in the poll set: no window between a
     * flag's check and poll() where a signal could be missed */
    sigset_t stop_set;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGINT);
    int sfd = -1;
    if (sigprocmask(SIG_BLOCK, &stop_set, NULL) < 0
        || (sfd = signalfd(-1, &stop_set, SFD_CLOEXEC)) < 0) {
        fprintf(stderr, "netlab: signalfd: %s\n", strerror(errno));
        return 1;
    }
    printf("ready\n");
    fflush(stdout);

    static uint8_t pkt[PKT_MAX];
    char cmd[1024];
    size_t cmd_used = 0;
    struct pollfd pfd[MAX_HOSTS + 2];
    for (;;) {
        int64_t now = now_ms();
        release(now);
        int timeout = -1;
        if (n_held > 0)
            timeout = heap[0].due_ms > now ? (int)(heap[0].due_ms - now) : 0;
        for (int i = 0; i < n_hosts; i++)
            readable(&pfd[i], hosts[i].fd);
        readable(&pfd[n_hosts], cfd);
        readable(&pfd[n_hosts + 1], sfd);
        if (poll(pfd, (nfds_t)n_hosts + 2, timeout) < 0 && errno != EINTR) {
            fprintf(stderr, "netlab: poll: %s\n", strerror(errno));
            return 1;
        }
        now = now_ms();
        for (int i = 0; i < n_hosts; i++) {
            if (!(pfd[i].revents & POLLIN))
                continue;
            /* a bounded batch per device and turn: one busy host cannot starve the rest */
            for (int k = 0; k < 64; k++) {
                ssize_t n = read(hosts[i].fd, pkt, sizeof pkt);
                if (n <= 0)
                    break;
                take_packet(i, pkt, (size_t)n, now);
            }
        }
        if (pfd[n_hosts].revents & POLLIN)
            read_commands(cfd, cmd, sizeof cmd, &cmd_used);
        if (pfd[n_hosts + 1].revents & POLLIN)
            break; /* SIGTERM or SIGINT */
    }
    fprintf(stderr, "netlab: stopped forwarded=%lu dropped_loss=%lu dropped_part=%lu "
                    "dropped_unknown=%lu dropped_full=%lu held=%zu\n",
            forwarded, dropped_loss, dropped_part, dropped_unknown, dropped_full, n_held);
    while (n_held > 0) {
        held_t p = heap_pop();
        free(p.data);
    }
    return 0;
}
