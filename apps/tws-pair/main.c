/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tws-pair: tws-gen against tws-server in one process, over two net_ring
 * ports joined back to back (each one's TX ring is the other's RX ring):
 * no memif socket, no second process, mbufs passed by pointer. The server
 * runs on the second EAL lcore, tws-gen on the main one, each the very
 * tool (its main, hosted: app_host in app_util.h) with its own options,
 * output and JSON summary. When tws-gen is done the server is stopped and
 * prints its summary; the exit status is tws-gen's, or the server's if
 * tws-gen's is 0.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include "app_opts.h"
#include "app_util.h"

#define PROG "tws-pair"
#define GEN_PORT "net_ring_pair_gen"
#define SRV_PORT "net_ring_pair_srv"
#define RING_SIZE 4096
#define MEM_MB_DEFAULT 2048
#define READY_WAIT_S 30.0
#define MAX_ARGS 256

int tws_gen_main(int argc, char **argv);
int tws_server_main(int argc, char **argv);

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " [EAL options --] [tws-gen options] [--serve tws-server options]\n"
		"\n"
		"Runs tws-gen against tws-server in one process: two net_ring ports joined\n"
		"back to back (" GEN_PORT " and " SRV_PORT "), the server on the\n"
		"second EAL lcore, tws-gen on the main one, one lane each. Each tool takes\n"
		"its own options (see tws-gen --help and tws-server --help) and prints its\n"
		"own progress and summary; --port is set here. Unless given (or a --config):\n"
		"  tws-gen:    --addr 198.18.0.10/24 --server 198.18.0.1:80\n"
		"  tws-server: --addr 198.18.0.1/24 --listen 80\n"
		"When tws-gen is done, the server stops. SIGINT ends tws-gen's run (and so\n"
		"the server's).\n"
		"\n"
		"EAL defaults: --no-pci --no-huge -m %d --no-shconf --no-telemetry, and two\n"
		"lcores: the first two cpus this process may run on (both on one cpu if it\n"
		"has only one). More memory for large --concurrency or max_tw: -m MB.\n"
		"\n"
		"Example:\n"
		"  " PROG " -- --seconds 5 --addrs 16 --json gen.json --serve --json server.json\n"
		"\n"
		"Exit status: tws-gen's (0 done without errors, 1 failure, 2 bad usage or\n"
		"configuration, 3 the run counted errors), else the server's; 1 when the\n"
		"ports or the lcores cannot be set up, 2 for bad usage of " PROG " itself.\n",
		MEM_MB_DEFAULT);
}

/* Is option @p name (or --config) among args[0..n)? */
static bool
given(char **args, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(args[i], name) == 0 || strncmp(args[i], "--config", 8) == 0)
			return true;
	return false;
}

/* argv of a hosted tool: its name, --port, defaults the user did not give, the user's. */
static int
tool_args(char **out, const char *prog, const char *port, const char *const *defs,
	  char **user, int nb_user)
{
	int n = 0;

	if (nb_user > MAX_ARGS - 16) {
		fprintf(stderr, PROG ": %d options for %s: at most %d\n", nb_user, prog,
			MAX_ARGS - 16);
		return -1;
	}
	out[n++] = (char *)(uintptr_t)prog;
	out[n++] = "--port";
	out[n++] = (char *)(uintptr_t)port;
	for (int i = 0; defs[i] != NULL; i += 2) {
		if (!given(user, nb_user, defs[i])) {
			out[n++] = (char *)(uintptr_t)defs[i];
			out[n++] = (char *)(uintptr_t)defs[i + 1];
		}
	}
	for (int i = 0; i < nb_user; i++)
		out[n++] = user[i];
	out[n] = NULL;
	return n;
}

struct server_run {
	int argc;
	char **argv;
	int rc;
};

static int
server_lcore(void *arg)
{
	struct server_run *r = arg;

	r->rc = tws_server_main(r->argc, r->argv);
	return r->rc;
}

/* Default lcores: the first two cpus we may run on ("0,1"), or both on one. */
static void
default_lcores(char *buf, size_t len)
{
	cpu_set_t set;
	int c[2], n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int i = 0; i < CPU_SETSIZE && n < 2; i++)
			if (CPU_ISSET(i, &set))
				c[n++] = i;
	if (n == 2)
		snprintf(buf, len, "%d,%d", c[0], c[1]);
	else
		snprintf(buf, len, "(0,1)@%d", n == 1 ? c[0] : 0);
}

/* One net_ring port made of @p rx and @p tx, started by the tool later. */
static int
ring_port(const char *name, struct rte_ring *rx, struct rte_ring *tx)
{
	int rc = rte_eth_from_rings(name, &rx, 1, &tx, 1, (unsigned int)rte_socket_id());

	if (rc < 0)
		fprintf(stderr, PROG ": cannot make the ring port %s: %s\n", name,
			rte_strerror(rte_errno));
	return rc;
}

int
main(int argc, char **argv)
{
	static const char *const gen_defs[] = { "--addr", "198.18.0.10/24",
						"--server", "198.18.0.1:80", NULL };
	static const char *const srv_defs[] = { "--addr", "198.18.0.1/24", "--listen", "80",
						NULL };
	static char *gargv[MAX_ARGS], *sargv[MAX_ARGS];
	char **eal, **targv, lcores[64];
	int nb_eal, targc, split;

	app_split_args(argc, argv, &eal, &nb_eal, &targv, &targc);
	for (int i = 0; i < targc; i++) {
		if (strcmp(targv[i], "--help") == 0 || strcmp(targv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
	}
	for (split = 0; split < targc && strcmp(targv[split], "--serve") != 0; split++)
		;

	int gargc = tool_args(gargv, "tws-gen", GEN_PORT, gen_defs, targv, split);
	int sargc = tool_args(sargv, "tws-server", SRV_PORT, srv_defs, targv + split + 1,
			      split < targc ? targc - split - 1 : 0);

	if (gargc < 0 || sargc < 0)
		return 2;
	default_lcores(lcores, sizeof(lcores));
	if (app_eal_start_lcores(PROG, argv[0], eal, nb_eal, MEM_MB_DEFAULT, lcores) != 0)
		return 1;

	int rc = 1;
	unsigned int worker = rte_get_next_lcore(-1, 1, 0);
	struct rte_ring *gs = NULL, *sg = NULL;

	if (rte_lcore_count() != 2) {
		fprintf(stderr, PROG ": %u lcores: it runs on exactly two (-l A,B): the server on "
			"the second, tws-gen on the first\n", rte_lcore_count());
		rc = 2;
		goto out;
	}
	gs = rte_ring_create("pair_gs", RING_SIZE, (int)rte_socket_id(),
			     RING_F_SP_ENQ | RING_F_SC_DEQ);
	sg = rte_ring_create("pair_sg", RING_SIZE, (int)rte_socket_id(),
			     RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (gs == NULL || sg == NULL) {
		fprintf(stderr, PROG ": cannot make the rings: %s\n", rte_strerror(rte_errno));
		goto out;
	}
	/* rte_eth_from_rings() names them net_ring_<name>. */
	if (ring_port("pair_gen", sg, gs) < 0 || ring_port("pair_srv", gs, sg) < 0)
		goto out;

	app_host.on = true;

	struct server_run srv = { .argc = sargc, .argv = sargv, .rc = 1 };
	uint64_t deadline = rte_get_timer_cycles() + (uint64_t)(READY_WAIT_S *
							       (double)rte_get_timer_hz());

	if (rte_eal_remote_launch(server_lcore, &srv, worker) != 0) {
		fprintf(stderr, PROG ": cannot start the server on lcore %u\n", worker);
		app_host.on = false;
		goto out;
	}
	while (!app_host.ready && rte_eal_get_lcore_state(worker) == RUNNING &&
	       rte_get_timer_cycles() < deadline)
		rte_pause();
	if (!app_host.ready) {
		app_host.stop = 1;
		rte_eal_wait_lcore(worker);
		fprintf(stderr, PROG ": tws-server did not start (exit status %d; the lines above "
			"say why)\n", srv.rc);
		rc = srv.rc != 0 ? srv.rc : 1;
		app_host.on = false;
		goto out;
	}
	rc = tws_gen_main(gargc, gargv);
	app_host.stop = 1;
	rte_eal_wait_lcore(worker);
	if (rc == 0)
		rc = srv.rc;
	app_host.on = false;
out:
	/* The tools closed their ports; the rings are ours. */
	rte_ring_free(gs);
	rte_ring_free(sg);
	app_eal_stop();
	return rc;
}
