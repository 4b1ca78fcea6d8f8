/*
 * bench/delayproxy.c - a userspace TCP delay line for `make bench` (issue 11
 * point 3, latency tolerance). The machine's kernel has no netem, so the
 * bench puts this program between a daemon and what it talks to
 * (lienthong and PostgreSQL, the agencies and lienthong).
 *
 * Usage: delayproxy LISTEN_PORT TARGET_PORT DELAY_MS [TARGET_HOST]
 *   Listens on 127.0.0.1:LISTEN_PORT; for each connection accepted, opens
 *   one to TARGET_HOST (default 127.0.0.1):TARGET_PORT and forwards both
 *   directions. Each chunk read is held DELAY_MS milliseconds from the
 *   moment it arrived, then written; order is kept per direction (a FIFO
 *   with one constant delay), so a round trip through the proxy costs
 *   2 x DELAY_MS more. End of stream is passed on (shutdown of the write
 *   side) once everything read before it has been written.
 *
 * Contract: one thread, poll(); TCP_NODELAY on both sides (Nagle would add
 * its own delay); at most QUEUE_CAP bytes held per direction (reading
 * stops until the queue drains: the sender sees back-pressure, nothing is
 * dropped). Prints "event=started ..." on stderr once listening (the bench
 * waits for that line) and a summary line on SIGTERM or SIGINT, then exits
 * 0. Exits 2 on bad arguments, 1 if it cannot listen.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 256                  /* connections forwarded at once */
#define CHUNK_MAX 65536                /* bytes read at once into one chunk */
#define QUEUE_CAP (4u * 1024u * 1024u) /* bytes held per direction before reading stops */

struct chunk {
    struct chunk *next; /* the chunk read after this one, NULL at the tail */
    int64_t due_ms;     /* monotonic ms when it may be written */
    size_t len;         /* bytes in data */
    size_t off;         /* bytes of data already written */
    char data[];        /* the bytes as read */
};

struct line {
    int from;           /* socket read (index into conn.fd) */
    struct chunk *head; /* oldest chunk not yet written, NULL if none */
    struct chunk *tail; /* newest chunk */
    size_t queued;      /* bytes held (written ones excluded) */
    int eof;            /* the reading side reached end of stream */
    int shut;           /* shutdown(SHUT_WR) done on the other side */
};

struct conn {
    int used;           /* slot in use */
    int fd[2];          /* 0 the accepted client, 1 the target */
    struct line dir[2]; /* 0 client -> target, 1 target -> client */
};

static volatile sig_atomic_t stopping; /* SIGTERM or SIGINT received */
static struct conn conns[MAX_CONNS];   /* the connections being forwarded */
static unsigned long long total_conns; /* connections accepted */
static unsigned long long total_bytes[2]; /* bytes forwarded per direction */

/* on_signal - ask the loop to stop */
static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

/* now_ms - the monotonic clock in ms */
static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* parse_num - a decimal number in [lo, hi] into *out; 0, or -1 if not one */
static int parse_num(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* socket_prepare - non-blocking and TCP_NODELAY; 0, or -1 */
static int socket_prepare(int fd)
{
    int one = 1;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* conn_close - close both sockets of c and free what it still held */
static void conn_close(struct conn *c)
{
    for (int d = 0; d < 2; d++) {
        struct chunk *k = c->dir[d].head;
        while (k) {
            struct chunk *next = k->next;
            free(k);
            k = next;
        }
        close(c->fd[d]);
    }
    memset(c, 0, sizeof *c);
}

/* conn_open - accept one client on lfd and connect it to the target; a
 * failure closes what was opened and is reported, the proxy goes on */
static void conn_open(int lfd, const struct sockaddr_in *target)
{
    int cfd = accept(lfd, NULL, NULL);
    if (cfd < 0)
        return;
    struct conn *c = NULL;
    for (int i = 0; i < MAX_CONNS && !c; i++)
        if (!conns[i].used)
            c = &conns[i];
    int tfd = c ? socket(AF_INET, SOCK_STREAM, 0) : -1;
    /* blocking connect: the target is on this machine, it answers at once */
    if (tfd < 0 || connect(tfd, (const struct sockaddr *)target, sizeof *target) < 0 ||
        socket_prepare(cfd) < 0 || socket_prepare(tfd) < 0) {
        fprintf(stderr, "delayproxy: event=connect_failed error=\"%s\"\n",
                c ? strerror(errno) : "too many connections");
        close(cfd);
        if (tfd >= 0)
            close(tfd);
        return;
    }
    memset(c, 0, sizeof *c);
    c->used = 1;
    c->fd[0] = cfd;
    c->fd[1] = tfd;
    c->dir[0].from = 0;
    c->dir[1].from = 1;
    total_conns++;
}

/* line_read - read what the sending side of line d has into a new chunk,
 * due DELAY later; 0, or -1 when the connection failed */
static int line_read(struct conn *c, int d, int64_t now, long delay)
{
    struct line *l = &c->dir[d];
    struct chunk *k = malloc(sizeof *k + CHUNK_MAX);
    if (!k)
        return -1;
    ssize_t n = read(c->fd[l->from], k->data, CHUNK_MAX);
    if (n <= 0) {
        free(k);
        if (n == 0) {
            l->eof = 1;
            return 0;
        }
        return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
    }
    k->next = NULL;
    k->due_ms = now + delay;
    k->len = (size_t)n;
    k->off = 0;
    if (l->tail)
        l->tail->next = k;
    else
        l->head = k;
    l->tail = k;
    l->queued += (size_t)n;
    return 0;
}

/* line_write - write the due chunks of line d while the receiver takes
 * them; then pass the end of stream on if it came and all is written;
 * 0, or -1 when the connection failed */
static int line_write(struct conn *c, int d, int64_t now)
{
    struct line *l = &c->dir[d];
    int to = c->fd[1 - l->from];
    while (l->head && l->head->due_ms <= now) {
        struct chunk *k = l->head;
        ssize_t n = send(to, k->data + k->off, k->len - k->off, MSG_NOSIGNAL);
        if (n < 0)
            return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
        k->off += (size_t)n;
        l->queued -= (size_t)n;
        total_bytes[d] += (unsigned long long)n;
        if (k->off < k->len)
            return 0;
        l->head = k->next;
        if (!l->head)
            l->tail = NULL;
        free(k);
    }
    if (l->eof && !l->head && !l->shut) {
        shutdown(to, SHUT_WR);
        l->shut = 1;
    }
    return 0;
}

/* listen_on - a listening socket on 127.0.0.1:port; the fd, or -1 */
static int listen_on(long port)
{
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 64) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* main - parse the arguments, listen, forward until a signal */
int main(int argc, char **argv)
{
    long lport, tport, delay;
    struct sockaddr_in target = {.sin_family = AF_INET};
    const char *thost = argc > 4 ? argv[4] : "127.0.0.1";
    if (argc < 4 || argc > 5 || parse_num(argv[1], 1, 65535, &lport) < 0 ||
        parse_num(argv[2], 1, 65535, &tport) < 0 || parse_num(argv[3], 0, 60000, &delay) < 0 ||
        inet_pton(AF_INET, thost, &target.sin_addr) != 1) {
        fprintf(stderr, "usage: delayproxy LISTEN_PORT TARGET_PORT DELAY_MS [TARGET_IPV4]\n");
        return 2;
    }
    target.sin_port = htons((uint16_t)tport);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll returns EINTR */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
        return 1;

    int lfd = listen_on(lport);
    if (lfd < 0) {
        fprintf(stderr, "delayproxy: event=listen_failed port=%ld error=\"%s\"\n", lport, strerror(errno));
        return 1;
    }
    fprintf(stderr, "delayproxy: event=started listen=127.0.0.1:%ld target=%s:%ld delay_ms=%ld\n",
            lport, thost, tport, delay);

    static struct pollfd pfd[1 + 2 * MAX_CONNS];
    static int who[1 + 2 * MAX_CONNS]; /* conn index * 2 + side of each pfd entry */
    while (!stopping) {
        int64_t now = now_ms();
        int n = 0, timeout = -1;
        pfd[n++] = (struct pollfd){.fd = lfd, .events = POLLIN};
        for (int i = 0; i < MAX_CONNS; i++) {
            struct conn *c = &conns[i];
            if (!c->used)
                continue;
            for (int side = 0; side < 2; side++) {
                /* side reads line `side` and writes line `1 - side` */
                struct line *in = &c->dir[side], *out = &c->dir[1 - side];
                short ev = 0;
                if (!in->eof && in->queued < QUEUE_CAP)
                    ev |= POLLIN;
                if (out->head && out->head->due_ms <= now)
                    ev |= POLLOUT;
                else if (out->head) {
                    int64_t wait = out->head->due_ms - now;
                    if (timeout < 0 || wait < timeout)
                        timeout = (int)wait;
                }
                who[n] = i * 2 + side;
                pfd[n++] = (struct pollfd){.fd = c->fd[side], .events = ev};
            }
        }
        if (poll(pfd, (nfds_t)n, timeout) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "delayproxy: event=poll_failed error=\"%s\"\n", strerror(errno));
            return 1;
        }
        now = now_ms();
        for (int j = 1; j < n; j++) {
            struct conn *c = &conns[who[j] / 2];
            int side = who[j] % 2;
            if (!c->used || !pfd[j].revents)
                continue;
            if ((pfd[j].revents & (POLLIN | POLLHUP | POLLERR)) && !c->dir[side].eof &&
                line_read(c, side, now, delay) < 0) {
                conn_close(c);
                continue;
            }
        }
        /* every line: the due chunks out, the end of stream passed on */
        for (int i = 0; i < MAX_CONNS; i++) {
            struct conn *c = &conns[i];
            if (!c->used)
                continue;
            if (line_write(c, 0, now) < 0 || line_write(c, 1, now) < 0 ||
                (c->dir[0].shut && c->dir[1].shut))
                conn_close(c);
        }
        if (pfd[0].revents & POLLIN)
            conn_open(lfd, &target);
    }
    for (int i = 0; i < MAX_CONNS; i++)
        if (conns[i].used)
            conn_close(&conns[i]);
    close(lfd);
    fprintf(stderr, "delayproxy: event=stopped connections=%llu bytes_in=%llu bytes_out=%llu\n",
            total_conns, total_bytes[0], total_bytes[1]);
    return 0;
}
