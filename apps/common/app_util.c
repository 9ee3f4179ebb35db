/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "app_util.h"
#include "tws_mem.h"

int
app_parse_u64(const char *prog, const char *opt, const char *s, uint64_t min, uint64_t max,
	      uint64_t *out)
{
	char *end;
	uint64_t v, mul = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end != s && *end != '\0' && end[1] == '\0') {
		switch (*end) {
		case 'k': case 'K': mul = 1000; end++; break;
		case 'm': case 'M': mul = 1000000; end++; break;
		case 'g': case 'G': mul = 1000000000; end++; break;
		default: break;
		}
	}
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
	    v > max / mul || v * mul < min || v * mul > max) {
		fprintf(stderr, "%s: %s '%s': expected a number from %llu to %llu\n",
			prog, opt, s, (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*out = v * mul;
	return 0;
}

const char *
app_cpu_model(void)
{
	static char model[128] = "unknown";
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (f == NULL)
		return model;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *c = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && c != NULL) {
			c += 2;
			c[strcspn(c, "\n")] = '\0';
			snprintf(model, sizeof(model), "%s", c);
			break;
		}
	}
	fclose(f);
	return model;
}

/* Does one of the user's EAL options have one of these names ("-l" also matches "-l0-3")? */
static bool
user_has(char **user, int nb_user, const char *const *names)
{
	for (int i = 0; i < nb_user; i++) {
		for (const char *const *n = names; *n != NULL; n++) {
			size_t len = strlen(*n);

			if (strncmp(user[i], *n, len) != 0)
				continue;
			/* "--opt", "--opt=v"; a short option may carry its value: "-l0". */
			if (user[i][len] == '\0' || user[i][len] == '=' || (*n)[1] != '-')
				return true;
		}
	}
	return false;
}

struct app_host app_host;

unsigned int
app_lane_lcores(void)
{
	return app_host.on ? 1 : rte_lcore_count();
}

void
app_lanes_wait(void)
{
	if (!app_host.on)
		rte_eal_mp_wait_lcore();
}

bool
app_server_should_stop(void)
{
	return app_host.on ? app_host.stop != 0 : app_stop_requests > 0;
}

int
app_eal_start(const char *prog, char *argv0, char **user, int nb_user, long mem_mb)
{
	return app_eal_start_lcores(prog, argv0, user, nb_user, mem_mb, NULL);
}

int
app_eal_start_lcores(const char *prog, char *argv0, char **user, int nb_user, long mem_mb,
		     const char *lcores)
{
	static const char *const pci[] = { "--no-pci", "-a", "--allow", "-b", "--block", NULL };
	static const char *const no_huge[] = { "--no-huge", NULL };
	/* Memory sizes, or hugepages asked for: the user's memory, not ours. */
	static const char *const mem_own[] = { "-m", "--socket-mem", "--in-memory", "--huge-dir",
					       "--huge-unlink", "--legacy-mem", NULL };
	static const char *const shconf[] = { "--no-shconf", "--in-memory", "--proc-type", NULL };
	static const char *const telemetry[] = { "--telemetry", "--no-telemetry", NULL };
	static const char *const fprefix[] = { "--file-prefix", NULL };
	static const char *const cores[] = { "-l", "-c", "--lcores", NULL };
	char mem[32], prefix[64], lcore[64];
	char *eargv[64];
	int eargc = 0, cpu = sched_getcpu();

	if (app_host.on)
		return 0;
	if (user == NULL)
		nb_user = 0;
	if (nb_user > 40) {
		fprintf(stderr, "%s: %d EAL options: at most 40 are taken\n", prog, nb_user);
		return -1;
	}
	snprintf(mem, sizeof(mem), "%ld", mem_mb);
	/* Unique per process: two --no-huge processes must not share a prefix. */
	snprintf(prefix, sizeof(prefix), "%s-%d", prog, (int)getpid());
	if (lcores != NULL)
		snprintf(lcore, sizeof(lcore), "%s", lcores);
	else
		snprintf(lcore, sizeof(lcore), "%d", cpu < 0 ? 0 : cpu);

	/* A default is left out when the user gave an option of its kind. */
	eargv[eargc++] = argv0;
	if (!user_has(user, nb_user, pci))
		eargv[eargc++] = "--no-pci";
	if (!user_has(user, nb_user, no_huge) && !user_has(user, nb_user, mem_own))
		eargv[eargc++] = "--no-huge";
	if (!user_has(user, nb_user, mem_own)) {
		eargv[eargc++] = "-m";
		eargv[eargc++] = mem;
	}
	if (!user_has(user, nb_user, shconf))
		eargv[eargc++] = "--no-shconf";
	if (!user_has(user, nb_user, telemetry))
		eargv[eargc++] = "--no-telemetry";
	if (!user_has(user, nb_user, fprefix)) {
		eargv[eargc++] = "--file-prefix";
		eargv[eargc++] = prefix;
	}
	if (!user_has(user, nb_user, cores)) {
		eargv[eargc++] = "-l";
		eargv[eargc++] = lcore;
	}
	eargv[eargc++] = "--log-level";	/* before the user's: a later --log-level wins */
	eargv[eargc++] = "lib.eal:error";
	for (int i = 0; i < nb_user; i++)
		eargv[eargc++] = user[i];
	eargv[eargc] = NULL;
	if (rte_eal_init(eargc, eargv) < 0) {
		const char *dir = rte_eal_get_runtime_dir();

		if (dir != NULL && dir[0] != '\0')
			rmdir(dir); /* made before the failure; empty with --no-shconf */
		fprintf(stderr, "%s: cannot start the DPDK EAL: %s\n"
			"  (by default %s uses --no-huge -m %ld; if you gave hugepage or\n"
			"   memory options, check hugepages and memory, or drop them)\n",
			prog, rte_strerror(rte_errno), prog, mem_mb);
		return -1;
	}
	return 0;
}

volatile sig_atomic_t app_stop_requests;

static void
on_stop_signal(int sig)
{
	(void)sig;
	app_stop_requests++;
}

void
app_stop_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void
app_eal_stop(void)
{
	char dir[PATH_MAX];

	if (app_host.on)
		return;
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	if (dir[0] != '\0') {
		/* The telemetry sockets (with --telemetry) outlive rte_eal_cleanup(). */
		static const char *const socks[] = { "dpdk_telemetry.v2", "telemetry" };
		char f[PATH_MAX + 32];

		for (size_t i = 0; i < sizeof(socks) / sizeof(socks[0]); i++) {
			snprintf(f, sizeof(f), "%s/%s", dir, socks[i]);
			unlink(f);
		}
		rmdir(dir);	/* fails, harmlessly, if something is still in it */
	}
}

uint64_t
app_dpdk_heap_used(void)
{
	struct rte_malloc_socket_stats s;
	uint64_t used = 0;

	for (unsigned int i = 0; i < rte_socket_count(); i++)
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &s) == 0)
			used += s.heap_allocsz_bytes;
	return used + tws_mem_mapped();
}

uint64_t
app_rss_bytes(void)
{
	unsigned long long size, resident;
	FILE *f = fopen("/proc/self/statm", "r");
	int n;

	if (f == NULL)
		return 0;
	n = fscanf(f, "%llu %llu", &size, &resident);
	fclose(f);
	return n == 2 ? (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

uint64_t
app_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
