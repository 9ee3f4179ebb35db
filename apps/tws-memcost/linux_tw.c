/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Linux kernel's cost of a TIME_WAIT entry, measured on real sockets.
 *
 * A forked child moves into a network namespace of its own (the host's
 * TIME_WAIT table and sysctls are never touched: the sysctls written here,
 * tcp_max_tw_buckets, ip_local_port_range and tcp_tw_reuse, are the new
 * namespace's copies), brings lo up and makes L loopback connections in the
 * same layout as twstack's fill, each closed by the client first, so each
 * leaves one TIME_WAIT socket on the client side. The cost is what the slab
 * caches that hold TIME_WAIT state grew by — tw_sock_TCP and the bind
 * buckets (tcp_bind_bucket, tcp_bind2_bucket, which SLUB may have merged
 * into a cache of another name) — in slab pages, so partly filled slabs
 * count, divided by L. SUnreclaim of /proc/meminfo is reported beside it: it
 * also holds whatever else the kernel allocated meanwhile, so it is the
 * looser figure. The namespace, its sockets and their memory go when the
 * child exits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app_linux.h"
#include "app_util.h"
#include "memcost.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

/*
 * Connections per (client address, server address) pair. The kernel looks
 * for a free port by walking the range from a hashed offset; with the
 * namespace's range widened to 64512 ports, 20000 per pair keeps the walk
 * short (a pair near full makes each connect slower and slower).
 */
#define LX_PER_PAIR 20000u
#define LX_CLIENT_NET 0x7f4e0001u	/* 127.78.0.1.. : any 127/8 address is on lo */
#define LX_SERVER_NET 0x7f4d0001u	/* 127.77.0.1.. */
#define LX_PORT 80
/* TIME_WAIT lasts 60 s in Linux (TCP_TIMEWAIT_LEN): a fill must end well before. */
#define LX_FILL_CAP_S 45.0
#define LX_CHILD_CAP_S 90.0		/* the parent kills the child after this */
#define LX_MAX_CACHES 4

static const char *const tw_cache = "tw_sock_TCP";
static const char *const bind_caches[] = { "tcp_bind_bucket", "tcp_bind2_bucket" };

/* A /proc/slabinfo cache we count. */
struct lx_cache {
	char name[64];			/* as /proc/slabinfo names it */
	uint64_t bytes, objs, objsize;	/* slab pages x page size, active objects */
};

struct lx_caches {
	unsigned int n;			/* [0] is tw_sock_TCP; the rest bind buckets */
	struct lx_cache c[LX_MAX_CACHES];
};

/* Target of /sys/kernel/slab/<name> if it is a link (SLUB's merged caches), else "". */
static void
slab_alias(const char *name, char *buf, size_t len)
{
	char path[160];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/kernel/slab/%s", name);
	n = readlink(path, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
}

/*
 * The /proc/slabinfo name under which cache @p want is counted: itself, or
 * the cache SLUB merged it into (same /sys/kernel/slab link target).
 * 0 with @p out set, or -ENOENT.
 */
static int
slab_resolve(const char *want, char *out, size_t len)
{
	char line[512], target[128], other[128];
	int rc = -ENOENT;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (f == NULL)
		return -errno;
	slab_alias(want, target, sizeof(target));
	while (rc != 0 && fgets(line, sizeof(line), f) != NULL) {
		char name[64];

		if (line[0] == '#' || sscanf(line, "%63s", name) != 1)
			continue;
		if (strcmp(name, want) == 0) {
			snprintf(out, len, "%s", name);
			rc = 0;
		} else if (target[0] != '\0') {
			slab_alias(name, other, sizeof(other));
			if (strcmp(other, target) == 0) {
				snprintf(out, len, "%s", name);
				rc = 0;
			}
		}
	}
	fclose(f);
	return rc;
}

/* Read the current size of every cache in @p cs. 0 or -errno. */
static int
slab_read(struct lx_caches *cs)
{
	long page = sysconf(_SC_PAGESIZE);
	char line[512];
	unsigned int found = 0;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		char name[64];
		unsigned long long active, num, objsize, perslab, pages, aslabs, nslabs;

		if (sscanf(line, "%63s %llu %llu %llu %llu %llu : tunables %*u %*u %*u : "
			   "slabdata %llu %llu", name, &active, &num, &objsize, &perslab, &pages,
			   &aslabs, &nslabs) != 8)
			continue;
		for (unsigned int i = 0; i < cs->n; i++) {
			if (strcmp(cs->c[i].name, name) != 0)
				continue;
			cs->c[i].bytes = (uint64_t)nslabs * pages * (uint64_t)page;
			cs->c[i].objs = active;
			cs->c[i].objsize = objsize;
			found++;
		}
	}
	fclose(f);
	return found == cs->n ? 0 : -ENOENT;
}

/* tw_sock_TCP and the bind bucket caches, merged ones counted once. */
static int
slab_setup(struct lx_caches *cs, struct mc_linux *lx)
{
	char held[128] = "";
	size_t len;

	memset(cs, 0, sizeof(*cs));
	if (slab_resolve(tw_cache, cs->c[0].name, sizeof(cs->c[0].name)) != 0) {
		snprintf(lx->note, sizeof(lx->note), "no %s cache in /proc/slabinfo", tw_cache);
		return -ENOENT;
	}
	cs->n = 1;
	snprintf(lx->caches, sizeof(lx->caches), "%s", cs->c[0].name);
	for (size_t b = 0; b < sizeof(bind_caches) / sizeof(bind_caches[0]); b++) {
		char name[64];
		unsigned int i;

		if (slab_resolve(bind_caches[b], name, sizeof(name)) != 0)
			continue;	/* tcp_bind2_bucket exists since Linux 6.1 */
		len = strlen(held);
		snprintf(held + len, sizeof(held) - len, "%s%s", len ? ", " : "", bind_caches[b]);
		for (i = 0; i < cs->n; i++)
			if (strcmp(cs->c[i].name, name) == 0)
				break;
		if (i < cs->n || cs->n == LX_MAX_CACHES)
			continue;
		snprintf(cs->c[cs->n++].name, sizeof(cs->c[0].name), "%s", name);
	}
	for (unsigned int i = 1; i < cs->n; i++) {
		len = strlen(lx->caches);
		snprintf(lx->caches + len, sizeof(lx->caches) - len, ", %s", cs->c[i].name);
	}
	if (held[0] != '\0') {
		len = strlen(lx->caches);
		snprintf(lx->caches + len, sizeof(lx->caches) - len, " (bind buckets: %s)", held);
	}
	return 0;
}

static uint64_t
bind_bytes(const struct lx_caches *cs)
{
	uint64_t b = 0;

	for (unsigned int i = 1; i < cs->n; i++)
		b += cs->c[i].bytes;
	return b;
}

static struct sockaddr_in
lx_addr(uint32_t host, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(host) };

	return a;
}

/* Accept the connection just made; the listener is non-blocking, so wait at most 1 s. */
static int
lx_accept(int lfd)
{
	for (int tries = 0; tries < 2; tries++) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return fd;
		poll(&p, 1, 1000);
	}
	errno = ETIMEDOUT;
	return -1;
}

/* One connection, client closes first: one TIME_WAIT socket. 0, or -errno naming the step. */
static int
lx_one(const struct sockaddr_in *src, const struct sockaddr_in *dst, int lfd, const char **step)
{
	int one = 1, fd, afd, rc = 0;

	*step = "socket";
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The port is picked at connect, per 4-tuple, as for an unbound socket. */
	*step = "bind";
	if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)src, sizeof(*src)) < 0)
		goto fail;
	*step = "connect";
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) < 0)
		goto fail;
	*step = "accept";
	afd = lx_accept(lfd);
	if (afd < 0)
		goto fail;
	close(fd);	/* FIN from the client first: the client's socket goes to TIME_WAIT */
	close(afd);
	return 0;
fail:
	rc = -errno;
	close(fd);
	return rc;
}

struct lx_args {
	const struct mc_options *o;
	uint64_t host_netns;
};

/* In the forked child. Returns 0 with *lx filled (measured or not, note says why). */
static int
lx_child(void *arg, void *report)
{
	const struct lx_args *a = arg;
	const struct mc_options *o = a->o;
	struct mc_linux *lx = report;
	uint64_t L = o->entries < o->linux_entries ? o->entries : o->linux_entries;
	uint32_t pairs = (uint32_t)(L / LX_PER_PAIR + 1), nlisten;
	struct lx_caches cs0, cs;
	struct mc_progress prog;
	int64_t sunr0;
	uint64_t t0, every, i;
	char buf[32];
	int rc, *lfd;

	if (unshare(CLONE_NEWNET) < 0) {
		snprintf(lx->note, sizeof(lx->note), "unshare(CLONE_NEWNET): %s (needs "
			 "CAP_SYS_ADMIN)", strerror(errno));
		return 0;
	}
	rc = app_lo_up();
	if (rc < 0) {
		snprintf(lx->note, sizeof(lx->note), "bringing lo up: %s", strerror(-rc));
		return 0;
	}
	/* The namespace's own sysctls: room for every entry, no reuse, a wide port range. */
	snprintf(buf, sizeof(buf), "%" PRIu64, L + L / 4 + 1024);
	if ((rc = app_netns_sysctl_set("ipv4/tcp_max_tw_buckets", buf, a->host_netns)) < 0 ||
	    (rc = app_netns_sysctl_set("ipv4/tcp_tw_reuse", "0", a->host_netns)) < 0 ||
	    (rc = app_netns_sysctl_set("ipv4/ip_local_port_range", "1024 65535",
				       a->host_netns)) < 0) {
		snprintf(lx->note, sizeof(lx->note), "namespace sysctl: %s", strerror(-rc));
		return 0;
	}
	if (slab_setup(&cs0, lx) < 0)
		return 0;

	lx->addresses = pairs;
	nlisten = o->layout == MC_LAYOUT_SERVERS ? pairs : 1;
	lfd = calloc(nlisten, sizeof(*lfd));
	if (lfd == NULL) {
		snprintf(lx->note, sizeof(lx->note), "out of memory");
		return 0;
	}
	for (uint32_t k = 0; k < nlisten; k++) {
		struct sockaddr_in s = lx_addr(LX_SERVER_NET + k, LX_PORT);

		lfd[k] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (lfd[k] < 0 || bind(lfd[k], (struct sockaddr *)&s, sizeof(s)) < 0 ||
		    listen(lfd[k], 16) < 0) {
			snprintf(lx->note, sizeof(lx->note), "listen on 127.77.x.x:%d: %s", LX_PORT,
				 strerror(errno));
			goto out;
		}
	}

	cs = cs0;
	rc = slab_read(&cs0);
	if (rc < 0) {
		snprintf(lx->note, sizeof(lx->note), "reading /proc/slabinfo: %s", strerror(-rc));
		goto out;
	}
	sunr0 = (int64_t)app_meminfo_bytes("SUnreclaim");
	every = L / (MC_SAMPLES - 1) ? L / (MC_SAMPLES - 1) : 1;
	lx->sample_entries[0] = 0;
	lx->sample_bytes[0] = 0;
	lx->nb_samples = 1;
	mc_progress_start(&prog, "Linux kernel", L);
	t0 = app_now_ns();
	for (i = 0; i < L; i++) {
		/* Round-robin over the pairs, as twstack's fill goes over its addresses. */
		uint32_t k = (uint32_t)(i % pairs);
		bool many_clients = o->layout == MC_LAYOUT_CLIENTS;
		struct sockaddr_in src = lx_addr(LX_CLIENT_NET + (many_clients ? k : 0), 0);
		struct sockaddr_in dst = lx_addr(LX_SERVER_NET + (many_clients ? 0 : k), LX_PORT);
		const char *step;

		rc = lx_one(&src, &dst, lfd[many_clients ? 0 : k], &step);
		if (rc < 0) {
			snprintf(lx->note, sizeof(lx->note), "connection %" PRIu64 ": %s: %s", i,
				 step, strerror(-rc));
			break;
		}
		if ((i + 1) % every == 0 && lx->nb_samples < MC_SAMPLES && slab_read(&cs) == 0) {
			lx->sample_entries[lx->nb_samples] = i + 1;
			lx->sample_bytes[lx->nb_samples++] = cs.c[0].bytes + bind_bytes(&cs) -
							     cs0.c[0].bytes - bind_bytes(&cs0);
		}
		if ((i & 1023) == 0) {
			mc_progress_update(&prog, i);
			if ((double)(app_now_ns() - t0) / 1e9 > LX_FILL_CAP_S) {
				snprintf(lx->note, sizeof(lx->note), "stopped after %" PRIu64
					 " connections: %.0f s, the first entries would expire "
					 "(TIME_WAIT is 60 s); use fewer --linux-entries", i,
					 LX_FILL_CAP_S);
				break;
			}
		}
	}
	mc_progress_end(&prog, i);
	lx->fill_s = (double)(app_now_ns() - t0) / 1e9;
	if (i < L)
		goto out;

	/* Loopback closes complete inside the syscalls; give stragglers a moment. */
	for (int w = 0; w < 200 && app_sockstat_tw() < L; w++)
		usleep(10000);
	lx->tw_count = app_sockstat_tw();
	rc = slab_read(&cs);
	if (rc < 0) {
		snprintf(lx->note, sizeof(lx->note), "reading /proc/slabinfo: %s", strerror(-rc));
		goto out;
	}
	lx->sunreclaim_bytes = (int64_t)app_meminfo_bytes("SUnreclaim") - sunr0;
	lx->entries = L;
	lx->tw_sock_bytes = cs.c[0].bytes - cs0.c[0].bytes;
	lx->tw_sock_objs = cs.c[0].objs - cs0.c[0].objs;
	lx->tw_sock_objsize = cs.c[0].objsize;
	lx->bind_bytes = bind_bytes(&cs) - bind_bytes(&cs0);
	if (lx->tw_count != L)
		snprintf(lx->note, sizeof(lx->note), "the namespace holds %" PRIu64 " TIME_WAIT "
			 "sockets, not %" PRIu64 ": the figures are per socket created",
			 lx->tw_count, L);
	lx->measured = 1;
out:
	for (uint32_t k = 0; k < nlisten; k++)
		if (lfd[k] > 0)
			close(lfd[k]);
	free(lfd);
	return 0;
}

void
mc_linux_measure(const struct mc_options *o, struct mc_linux *lx)
{
	struct lx_args a = { .o = o, .host_netns = app_netns_id() };
	int rc;

	memset(lx, 0, sizeof(*lx));
	if (o->no_linux) {
		lx->skipped = 1;
		snprintf(lx->note, sizeof(lx->note), "--no-linux given");
		return;
	}
	if (geteuid() != 0) {
		lx->skipped = 1;
		snprintf(lx->note, sizeof(lx->note), "not root: /proc/slabinfo is readable by root "
			 "only, and a network namespace of our own needs CAP_SYS_ADMIN");
		return;
	}
	if (access("/proc/slabinfo", R_OK) != 0) {
		lx->skipped = 1;
		snprintf(lx->note, sizeof(lx->note), "/proc/slabinfo: %s", strerror(errno));
		return;
	}
	if (a.host_netns == 0) {
		lx->skipped = 1;
		snprintf(lx->note, sizeof(lx->note), "cannot identify the network namespace "
			 "(/proc/self/ns/net)");
		return;
	}
	rc = app_child_run(lx_child, &a, lx, sizeof(*lx), LX_CHILD_CAP_S);
	lx->note[sizeof(lx->note) - 1] = '\0';
	lx->caches[sizeof(lx->caches) - 1] = '\0';
	if (rc < 0) {
		lx->measured = 0;
		snprintf(lx->note, sizeof(lx->note), "the measuring child failed: %s",
			 strerror(-rc));
	}
}
