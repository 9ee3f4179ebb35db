/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Linux-kernel reference for `tws-bench tcp --vs-linux`: the same connection
 * churn as twstack's in-memory benchmark, run through the kernel over loopback.
 *
 * Per connection: the client connects, sends a 100-byte request, the server
 * answers 100 bytes, the client closes first (so the TIME_WAIT socket is the
 * client's, as in twstack's run) and the server closes once it reads EOF. One
 * client thread and one server thread, non-blocking sockets and epoll, a fixed
 * number of connections in flight so that the kernel is measured at its best
 * and not bound by one connection's latency.
 *
 * The run always happens in a forked child, so that the caller (a DPDK
 * process) keeps its threads, fds and limits untouched. The child moves into
 * a private network namespace when it may, so that the host's TIME_WAIT table
 * does not fill with our sockets for 60 s; otherwise it runs on the host's
 * loopback and says so in the note. No sysctl is written anywhere.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* unshare, accept4, pipe2, RUSAGE_THREAD */
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app_linux.h"
#include "bench.h"

#define LX_MSG_SIZE 100			/* request and response, as in twstack's run */
#define LX_DEFAULT_CONC 64
#define LX_MAX_CONC 4096
#define LX_MAX_SECONDS 86400.0
/*
 * Each listener is one destination (address, port), and the kernel picks
 * client ports per destination from ip_local_port_range (about 28k ports).
 * 64 destinations give ~1.8M 4-tuples, more than the kernel keeps in
 * TIME_WAIT (tcp_max_tw_buckets, 131072 on a 24 GiB machine) or than a
 * 60 s run at 30k connections/s leaves behind, even without tcp_tw_reuse.
 */
#define LX_NB_LISTEN 64
#define LX_LISTEN_NET 0x7f4d0000u	/* 127.77.0.0: any 127/8 address is on lo */
#define LX_LISTEN_FLAG 0x80000000u	/* epoll data: listener index, not a fd */
#define LX_EVENTS 256
#define LX_ACCEPT_BURST 64		/* accepts per listener event: others wait */
#define LX_SAMPLE_NS 100000000ull	/* sockstat period */
#define LX_SERVER_CAP_S 10.0		/* server stops by itself this long after the run */
#define LX_REPORT_CAP_S 30.0		/* parent gives the child this long beyond the run */
#define NS_PER_S 1000000000ull

enum lx_cli_state { LX_CLI_FREE, LX_CLI_CONNECTING, LX_CLI_SENT };
enum lx_srv_state { LX_SRV_NONE, LX_SRV_REQUEST, LX_SRV_WAIT_EOF };

/* First error a thread saw, turned into text by the child's main thread. */
struct lx_err {
	uint64_t count;
	const char *where;
	int err;			/* errno, 0 for a protocol error (short read...) */
};

struct lx_run {
	double seconds;
	unsigned int conc;
	int lfd[LX_NB_LISTEN];
	struct sockaddr_in dst[LX_NB_LISTEN];
	atomic_int stop;		/* set by the client when its run is over */

	/* client results */
	uint64_t connections;
	uint64_t tw_peak;
	double elapsed;
	struct lx_err cli_err;
	struct timeval cli_utime, cli_stime;

	/* server results */
	struct lx_err srv_err;
	struct timeval srv_utime, srv_stime;
};

struct lx_cli_conn {
	int fd;
	uint8_t state;
	uint8_t got;			/* response bytes read */
};

struct lx_srv_conn {
	uint8_t state;
	uint8_t got;			/* request bytes read */
};

static double
lx_tv(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static void
lx_err_note(struct lx_err *e, const char *where, int err)
{
	if (e->count++ == 0) {
		e->where = where;
		e->err = err;
	}
}

/* CPU time of the calling thread since *start, stored as the difference. */
static void
lx_thread_cpu(const struct rusage *start, struct timeval *user, struct timeval *sys)
{
	struct rusage end;

	getrusage(RUSAGE_THREAD, &end);
	timersub(&end.ru_utime, &start->ru_utime, user);
	timersub(&end.ru_stime, &start->ru_stime, sys);
}

/*
 * Send the request. Called right after connect() too: on loopback the
 * handshake usually completes inside connect() (the SYN-ACK is processed when
 * the socket lock is released), so waiting for EPOLLOUT first would cost an
 * epoll round trip per connection that a tuned kernel client does not pay.
 * The send itself reports a refused or reset connection; EPOLLERR/EPOLLHUP
 * flags are not trusted, since an event can be stale. 1 sent, 0 not yet,
 * -errno on failure.
 */
static int
lx_cli_send(struct lx_cli_conn *c)
{
	static const char req[LX_MSG_SIZE] = { 'G', 'E', 'T' };
	ssize_t n;

	n = send(c->fd, req, sizeof(req), MSG_NOSIGNAL);
	if (n == (ssize_t)sizeof(req)) {
		c->state = LX_CLI_SENT;
		return 1;
	}
	if (n >= 0)
		return -EMSGSIZE;	/* a short write of 100 bytes on a fresh socket */
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	return -errno;
}

/* Read the response: 1 complete, 0 not yet, -errno or -EPROTO (short/long). */
static int
lx_cli_recv(struct lx_cli_conn *c)
{
	char buf[LX_MSG_SIZE + 16];
	ssize_t n;

	for (;;) {
		n = recv(c->fd, buf, sizeof(buf), 0);
		if (n > 0) {
			if ((size_t)c->got + (size_t)n > LX_MSG_SIZE)
				return -EPROTO;
			c->got += (uint8_t)n;
			if (c->got == LX_MSG_SIZE)
				return 1;
			continue;
		}
		if (n == 0)
			return -EPROTO;	/* the server closed before answering */
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/* Open connection `slot` to the next destination; 0 or -errno (already counted). */
static int
lx_cli_open(struct lx_run *run, int ep, struct lx_cli_conn *c, uint32_t slot,
	    unsigned int *next_dst)
{
	const struct sockaddr_in *dst = &run->dst[*next_dst];
	struct epoll_event ev;
	int fd, rc;

	*next_dst = (*next_dst + 1) % LX_NB_LISTEN;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		lx_err_note(&run->cli_err, "socket", errno);
		return rc;
	}
	/* Source port left to the kernel: EADDRNOTAVAIL means tuples ran out. */
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) < 0 && errno != EINPROGRESS) {
		rc = -errno;
		lx_err_note(&run->cli_err, "connect", errno);
		close(fd);
		return rc;
	}
	c->fd = fd;
	c->state = LX_CLI_CONNECTING;
	c->got = 0;
	rc = lx_cli_send(c);
	if (rc < 0) {
		lx_err_note(&run->cli_err, "send", -rc);
		goto fail;
	}
	/* Once sent, EPOLLOUT would only wake us for nothing. */
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET | (rc == 0 ? EPOLLOUT : 0);
	ev.data.u32 = slot;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		rc = -errno;
		lx_err_note(&run->cli_err, "epoll_ctl", errno);
		goto fail;
	}
	return 0;
fail:
	close(fd);
	c->fd = -1;
	c->state = LX_CLI_FREE;
	return rc;
}

/* Move connection c on after an event: 1 completed, 0 in progress, -1 failed (counted). */
static int
lx_cli_progress(struct lx_run *run, struct lx_cli_conn *c)
{
	int rc = 0;

	if (c->state == LX_CLI_CONNECTING) {
		rc = lx_cli_send(c);
		if (rc < 0) {
			lx_err_note(&run->cli_err, "send", -rc);
			return -1;
		}
	}
	if (c->state == LX_CLI_SENT) {
		rc = lx_cli_recv(c);
		if (rc < 0) {
			lx_err_note(&run->cli_err, "recv", rc == -EPROTO ? 0 : -rc);
			return -1;
		}
	}
	return rc;	/* recv's verdict once sent; 0 while still connecting */
}

static void *
lx_client(void *arg)
{
	struct lx_run *run = arg;
	struct epoll_event ev[LX_EVENTS];
	struct lx_cli_conn *conn;
	struct rusage ru0;
	uint32_t *free_slot;
	unsigned int nfree, next_dst = 0, i;
	uint64_t t0, now, deadline, next_sample;
	int ep;

	getrusage(RUSAGE_THREAD, &ru0);
	conn = calloc(run->conc, sizeof(*conn));
	free_slot = calloc(run->conc, sizeof(*free_slot));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (conn == NULL || free_slot == NULL || ep < 0) {
		lx_err_note(&run->cli_err, "client setup", conn && free_slot ? errno : ENOMEM);
		goto out;
	}
	for (i = 0; i < run->conc; i++) {
		conn[i].fd = -1;
		free_slot[i] = run->conc - 1 - i;
	}
	nfree = run->conc;

	t0 = app_now_ns();
	deadline = t0 + (uint64_t)(run->seconds * (double)NS_PER_S);
	next_sample = t0;
	now = t0;
	/* Bounded by the deadline: every pass reads the clock and epoll_wait waits <= 10 ms. */
	for (;;) {
		int timeout = 10, n, k;

		if (now >= next_sample) {
			uint64_t tw = app_sockstat_tw();

			if (tw > run->tw_peak)
				run->tw_peak = tw;
			next_sample = now + LX_SAMPLE_NS;
		}
		if (now >= deadline)
			break;
		while (nfree > 0) {
			uint32_t slot = free_slot[nfree - 1];

			if (lx_cli_open(run, ep, &conn[slot], slot, &next_dst) < 0) {
				/* Out of tuples or fds: retry after a short wait, not in a spin. */
				timeout = 1;
				break;
			}
			nfree--;
		}
		n = epoll_wait(ep, ev, LX_EVENTS, timeout);
		for (k = 0; k < n; k++) {
			uint32_t slot = ev[k].data.u32;
			struct lx_cli_conn *c = &conn[slot];
			int rc;

			if (c->state == LX_CLI_FREE)
				continue;
			rc = lx_cli_progress(run, c);
			if (rc == 0)
				continue;
			/* The client closes first: its socket goes to TIME_WAIT. */
			close(c->fd);
			c->fd = -1;
			c->state = LX_CLI_FREE;
			free_slot[nfree++] = slot;
			if (rc > 0)
				run->connections++;
		}
		now = app_now_ns();
	}
	run->elapsed = (double)(now - t0) / (double)NS_PER_S;

	/* The TIME_WAIT count is highest now: it only grows during a run shorter than 60 s. */
	{
		uint64_t tw = app_sockstat_tw();

		if (tw > run->tw_peak)
			run->tw_peak = tw;
	}
	/* Before the closes below, so the server does not count their resets as errors. */
	atomic_store(&run->stop, 1);
	for (i = 0; i < run->conc; i++)
		if (conn[i].fd >= 0)
			close(conn[i].fd);	/* in flight at the deadline: not counted */
out:
	atomic_store(&run->stop, 1);
	if (ep >= 0)
		close(ep);
	free(conn);
	free(free_slot);
	lx_thread_cpu(&ru0, &run->cli_utime, &run->cli_stime);
	return NULL;
}

/* Connection table of the server, indexed by fd; grows on demand. */
struct lx_srv_table {
	struct lx_srv_conn *c;
	size_t size;
};

static int
lx_srv_table_fit(struct lx_srv_table *t, int fd)
{
	size_t size = t->size ? t->size : 1024;
	struct lx_srv_conn *c;

	if ((size_t)fd < t->size)
		return 0;
	while (size <= (size_t)fd)
		size *= 2;
	c = realloc(t->c, size * sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	memset(c + t->size, 0, (size - t->size) * sizeof(*c));
	t->c = c;
	t->size = size;
	return 0;
}

/*
 * Read what the client sent: the request (then answer it), then EOF (then
 * close). Driven by what recv() returns, not by the event flags, so a stale
 * event for a reused fd number does no harm. 1 closed normally, 0 in
 * progress, -errno or -EPROTO on failure.
 */
static int
lx_srv_progress(int fd, struct lx_srv_conn *s)
{
	static const char resp[LX_MSG_SIZE] = { 'O', 'K' };
	char buf[LX_MSG_SIZE + 16];
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0) {
			if (s->state != LX_SRV_REQUEST ||
			    (size_t)s->got + (size_t)n > LX_MSG_SIZE)
				return -EPROTO;
			s->got += (uint8_t)n;
			if (s->got < LX_MSG_SIZE)
				continue;
			n = send(fd, resp, sizeof(resp), MSG_NOSIGNAL);
			if (n < 0)
				return -errno;
			if (n != (ssize_t)sizeof(resp))
				return -EMSGSIZE;
			s->state = LX_SRV_WAIT_EOF;
			continue;
		}
		if (n == 0)
			return s->state == LX_SRV_WAIT_EOF ? 1 : -EPROTO;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/* Handle one fd's event; errors after the run's end are the client's closes. */
static void
lx_srv_event(struct lx_run *run, struct lx_srv_table *t, int fd)
{
	struct lx_srv_conn *s;
	int rc;

	if ((size_t)fd >= t->size || t->c[fd].state == LX_SRV_NONE)
		return;
	s = &t->c[fd];
	rc = lx_srv_progress(fd, s);
	if (rc == 0)
		return;
	if (rc < 0 && !atomic_load(&run->stop))
		lx_err_note(&run->srv_err, s->state == LX_SRV_REQUEST ? "server read request" :
			    "server wait EOF", rc == -EPROTO ? 0 : -rc);
	s->state = LX_SRV_NONE;
	close(fd);
}

static void
lx_srv_accept(struct lx_run *run, struct lx_srv_table *t, int ep, int lfd)
{
	int k;

	/* The listener is level-triggered: what is left here comes back next epoll_wait. */
	for (k = 0; k < LX_ACCEPT_BURST; k++) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET };
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				lx_err_note(&run->srv_err, "accept", errno);
			return;
		}
		if (lx_srv_table_fit(t, fd) < 0) {
			lx_err_note(&run->srv_err, "server table", ENOMEM);
			close(fd);
			continue;
		}
		ev.data.u32 = (uint32_t)fd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			lx_err_note(&run->srv_err, "epoll_ctl", errno);
			close(fd);
			continue;
		}
		t->c[fd].state = LX_SRV_REQUEST;
		t->c[fd].got = 0;
		/* The request is usually queued already: answer without an epoll round trip. */
		lx_srv_event(run, t, fd);
	}
}

static void *
lx_server(void *arg)
{
	struct lx_run *run = arg;
	struct lx_srv_table t = { NULL, 0 };
	struct epoll_event ev[LX_EVENTS];
	struct rusage ru0;
	uint64_t hard;
	size_t fd;
	int ep, i;

	getrusage(RUSAGE_THREAD, &ru0);
	/* Hard cap: the server stops by itself even if the client never sets stop. */
	hard = app_now_ns() + (uint64_t)((run->seconds + LX_SERVER_CAP_S) * (double)NS_PER_S);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		lx_err_note(&run->srv_err, "epoll_create1", errno);
		goto out;
	}
	for (i = 0; i < LX_NB_LISTEN; i++) {
		struct epoll_event lev = { .events = EPOLLIN, .data.u32 = LX_LISTEN_FLAG | i };

		if (epoll_ctl(ep, EPOLL_CTL_ADD, run->lfd[i], &lev) < 0) {
			lx_err_note(&run->srv_err, "epoll_ctl", errno);
			goto out;
		}
	}
	while (!atomic_load_explicit(&run->stop, memory_order_relaxed) && app_now_ns() < hard) {
		int n = epoll_wait(ep, ev, LX_EVENTS, 10);

		for (i = 0; i < n; i++) {
			uint32_t d = ev[i].data.u32;

			if (d & LX_LISTEN_FLAG)
				lx_srv_accept(run, &t, ep, run->lfd[d & ~LX_LISTEN_FLAG]);
			else
				lx_srv_event(run, &t, (int)d);
		}
	}
out:
	for (fd = 0; fd < t.size; fd++)
		if (t.c[fd].state != LX_SRV_NONE)
			close((int)fd);
	free(t.c);
	if (ep >= 0)
		close(ep);
	lx_thread_cpu(&ru0, &run->srv_utime, &run->srv_stime);
	return NULL;
}

/* Listeners on 127.77.0.1..64, ports picked by the kernel, so none can clash. */
static int
lx_listen(struct lx_run *run)
{
	int i, rc;

	for (i = 0; i < LX_NB_LISTEN; i++)
		run->lfd[i] = -1;
	for (i = 0; i < LX_NB_LISTEN; i++) {
		struct sockaddr_in *a = &run->dst[i];
		socklen_t len = sizeof(*a);
		int fd;

		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			goto fail;
		run->lfd[i] = fd;
		memset(a, 0, sizeof(*a));
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(LX_LISTEN_NET + 1 + (uint32_t)i);
		if (bind(fd, (struct sockaddr *)a, sizeof(*a)) < 0 ||
		    listen(fd, SOMAXCONN) < 0 ||
		    getsockname(fd, (struct sockaddr *)a, &len) < 0)
			goto fail;
	}
	return 0;
fail:
	rc = -errno;
	for (i = 0; i < LX_NB_LISTEN; i++)
		if (run->lfd[i] >= 0)
			close(run->lfd[i]);
	return rc;
}

/*
 * Private network namespace: plain CLONE_NEWNET as root; without
 * CAP_SYS_ADMIN, inside a new user namespace (allowed unprivileged on most
 * distributions; needs a single-threaded caller, which the forked child is).
 * 1 private, 0 host loopback (note says why), -errno if lo cannot come up.
 */
static int
lx_isolate(struct bench_linux_result *r)
{
	int rc, err;

	if (unshare(CLONE_NEWNET) == 0) {
		snprintf(r->note, sizeof(r->note), "private network namespace");
	} else {
		err = errno;
		if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0) {
			snprintf(r->note, sizeof(r->note), "private network namespace in a "
				 "user namespace (no CAP_SYS_ADMIN)");
		} else {
			/* Kept short: caps and errors are appended to the same 160 bytes. */
			snprintf(r->note, sizeof(r->note), "host loopback (unshare: %s)",
				 strerror(err));
			return 0;
		}
	}
	rc = app_lo_up();
	return rc < 0 ? rc : 1;
}

static void
lx_note_append(struct bench_linux_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
lx_note_append(struct bench_linux_result *r, const char *fmt, ...)
{
	size_t len = strnlen(r->note, sizeof(r->note));
	va_list ap;

	if (len >= sizeof(r->note) - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(r->note + len, sizeof(r->note) - len, fmt, ap);
	va_end(ap);
}

static void
lx_note_err(struct bench_linux_result *r, const char *who, const struct lx_err *e)
{
	if (e->count == 0)
		return;
	lx_note_append(r, "; %s errors %" PRIu64 ", first %s: %s", who, e->count, e->where,
		       e->err ? strerror(e->err) : "short or long message");
}

/*
 * The EAL pinned the caller's thread to its lcore and the child inherits
 * that: two busy threads on one CPU would halve the kernel's figure. Widen
 * the mask (the kernel keeps only the CPUs the cpuset allows), then give the
 * client and the server a CPU each: left to the scheduler, the two threads
 * that wake each other often share one CPU for a whole run, and the figure
 * then jumps between two modes from run to run (17k or 28k/s here).
 * cpu[i] = -1 when there is no CPU to spare; the thread then floats.
 */
static void
lx_pick_cpus(int cpu[2])
{
	long n = sysconf(_SC_NPROCESSORS_CONF);
	cpu_set_t set;
	int k = 0;

	cpu[0] = cpu[1] = -1;
	CPU_ZERO(&set);
	for (long i = 0; i < n && i < CPU_SETSIZE; i++)
		CPU_SET(i, &set);
	sched_setaffinity(0, sizeof(set), &set);
	if (sched_getaffinity(0, sizeof(set), &set) < 0 || CPU_COUNT(&set) < 2)
		return;
	for (int i = 0; i < CPU_SETSIZE && k < 2; i++)
		if (CPU_ISSET(i, &set))
			cpu[k++] = i;
}

/* pthread_create, on `cpu` if it is not -1; 0 or -errno. */
static int
lx_thread_start(pthread_t *t, void *(*fn)(void *), void *arg, int cpu)
{
	pthread_attr_t attr;
	cpu_set_t set;
	int rc;

	if (cpu < 0)
		return -pthread_create(t, NULL, fn, arg);
	rc = pthread_attr_init(&attr);
	if (rc != 0)
		return -rc;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	rc = pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	if (rc == 0)
		rc = pthread_create(t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	if (rc == EINVAL)	/* the CPU went away: float rather than fail */
		rc = pthread_create(t, NULL, fn, arg);
	return -rc;
}

/* The measurement itself, in the forked child. */
static int
lx_child(double seconds, unsigned int conc, struct bench_linux_result *r)
{
	struct lx_run *run;
	pthread_t srv, cli;
	struct rlimit rl;
	uint64_t tw_before = 0, tw_max;
	rlim_t need;
	int rc, cpu[2];

	rc = lx_isolate(r);
	if (rc < 0)
		return rc;
	r->netns = rc;
	if (!r->netns)
		tw_before = app_sockstat_tw();

	/* Client and server ends of every connection, plus the server's lingering ones. */
	need = (rlim_t)conc * 4 + LX_NB_LISTEN + 64;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
		setrlimit(RLIMIT_NOFILE, &rl);	/* only this child; short of it, EMFILE counts */
	}

	lx_pick_cpus(cpu);
	run = calloc(1, sizeof(*run));
	if (run == NULL)
		return -ENOMEM;
	run->seconds = seconds;
	run->conc = conc;
	atomic_init(&run->stop, 0);
	rc = lx_listen(run);
	if (rc < 0)
		goto out;
	rc = lx_thread_start(&srv, lx_server, run, cpu[0]);
	if (rc < 0)
		goto out_listen;
	rc = lx_thread_start(&cli, lx_client, run, cpu[1]);
	if (rc < 0) {
		atomic_store(&run->stop, 1);
		pthread_join(srv, NULL);
		goto out_listen;
	}
	pthread_join(cli, NULL);
	pthread_join(srv, NULL);

	r->seconds = run->elapsed;
	r->connections = run->connections;
	r->errors = run->cli_err.count + run->srv_err.count;
	r->cps = run->elapsed > 0 ? (double)run->connections / run->elapsed : 0.0;
	r->tw_peak = run->tw_peak;
	r->cpu_user_s = lx_tv(&run->cli_utime) + lx_tv(&run->srv_utime);
	r->cpu_sys_s = lx_tv(&run->cli_stime) + lx_tv(&run->srv_stime);
	if (!r->netns && tw_before > 0)
		lx_note_append(r, "; tw includes %" PRIu64 " from before", tw_before);
	/* Past tcp_max_tw_buckets the kernel closes without TIME_WAIT: the peak is a cap. */
	tw_max = app_read_u64_file("/proc/sys/net/ipv4/tcp_max_tw_buckets");
	if (tw_max > 0 && run->tw_peak >= tw_max - tw_max / 100)
		lx_note_append(r, "; tw capped: tcp_max_tw_buckets=%" PRIu64, tw_max);
	lx_note_err(r, "client", &run->cli_err);
	lx_note_err(r, "server", &run->srv_err);
	rc = 0;
out_listen:
	for (int i = 0; i < LX_NB_LISTEN; i++)
		close(run->lfd[i]);
out:
	free(run);
	return rc;
}

struct lx_args {
	double seconds;
	unsigned int conc;
};

static int
lx_child_main(void *arg, void *report)
{
	const struct lx_args *a = arg;

	return lx_child(a->seconds, a->conc, report);
}

int
bench_linux_churn(double seconds, unsigned int concurrency, struct bench_linux_result *r)
{
	struct lx_args a = { seconds, concurrency == 0 ? LX_DEFAULT_CONC : concurrency };
	int rc;

	if (r == NULL || !isfinite(seconds) || seconds <= 0.0 || seconds > LX_MAX_SECONDS ||
	    concurrency > LX_MAX_CONC)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	rc = app_child_run(lx_child_main, &a, r, sizeof(*r), seconds + LX_REPORT_CAP_S);
	r->note[sizeof(r->note) - 1] = '\0';
	return rc;
}
