/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tws-server: an HTTP/1.1 server on a DPDK port for tws-gen (and curl, wrk)
 * to churn connections against. It listens on every one of its addresses
 * on the given ports, answers each request (a head ending in an empty
 * line) with a 200 response of a configured size, and closes client-first
 * (waits for the client's FIN: the TIME_WAIT entries are the client's) or
 * server-first (closes after its response: they are the server's).
 *
 * One lane per EAL lcore (-l): each polls its own queue pair of the port
 * with its own stack, listening on the same ports; the main lcore's lane
 * also prints a progress line once per second. SIGINT (or --seconds) stops
 * them all, and the summary (summed over the lanes) goes to stdout and --json.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include "app_dp.h"
#include "app_http.h"
#include "app_json.h"
#include "app_opts.h"
#include "app_telemetry.h"
#include "app_util.h"

#define PROG "tws-server"
#define RESPONSE_MAX (64u << 20)
#define RECV_CHUNK 16384

enum close_policy { CLOSE_CLIENT, CLOSE_SERVER };

static struct app_dp_conf dpc = { .addrs = 1 };

static struct {
	struct app_port_list listen;
	uint32_t response_bytes;
	uint32_t close;
	uint32_t max_conns;
	double seconds;
	const char *json;
} opt = { .response_bytes = 100, .close = CLOSE_CLIENT, .max_conns = 16384 };

static const struct app_opt server_opts[] = {
	{ .name = "listen", .type = APP_OPT_PORTS, .off = offsetof(typeof(opt), listen),
	  .metavar = "P[,P...]", .def = NULL, .help = "TCP ports to listen on, on every address" },
	{ .name = "response-bytes", .type = APP_OPT_U32,
	  .off = offsetof(typeof(opt), response_bytes), .min = 0, .max = RESPONSE_MAX,
	  .metavar = "N", .def = "100", .help = "body of each response (Content-Length)" },
	{ .name = "close", .type = APP_OPT_CHOICE, .off = offsetof(typeof(opt), close),
	  .choices = "client,server", .metavar = "WHO", .def = "client",
	  .help = "who closes first: client (wait for its FIN) or server (after responding)" },
	{ .name = "max-conns", .type = APP_OPT_U32, .off = offsetof(typeof(opt), max_conns),
	  .min = 16, .max = 1u << 24, .metavar = "N", .def = "16384",
	  .help = "live connections at once" },
	{ .name = "seconds", .type = APP_OPT_SECONDS, .off = offsetof(typeof(opt), seconds),
	  .min = 0, .max = 0, .metavar = "S", .def = "0: until SIGINT",
	  .help = "stop after S seconds" },
	{ .name = "json", .type = APP_OPT_STR, .off = offsetof(typeof(opt), json),
	  .metavar = "FILE", .def = "", .help = "write the summary as JSON to FILE" },
};

static const struct app_opt_table tables[] = {
	{ app_dp_opts, APP_DP_NB_OPTS, &dpc },
	{ server_opts, RTE_DIM(server_opts), &opt },
};

/* Counters of the run; errors by kind in one list for the progress line and the JSON. */
#define SERVER_ERRORS(X) \
	X(reset,   "reset by the client before its response was queued") \
	X(timeout, "given up after retransmissions") \
	X(send,    "tws_send() refused the response") \
	X(corrupt, "request bytes not the pattern tws-gen sends: data lost, duplicated or reordered")

enum {
#define X_ENUM(n, d) ERR_ ## n,
	SERVER_ERRORS(X_ENUM)
#undef X_ENUM
	ERR_COUNT
};

static const char *const err_names[] = {
#define X_NAME(n, d) #n,
	SERVER_ERRORS(X_NAME)
#undef X_NAME
};

/* One lane: an lcore with its queue pair, stack and counters (written by that lcore only). */
struct lane {
	struct app_dp dp;
	uint64_t accepted, closed, aborted_by_client, requests, responses;
	uint64_t bytes_verified;   /* X-Pad bytes checked against the pattern */
	uint64_t err[ERR_COUNT];
	int rc;                    /* a worker lane's set-up: 0, or the exit code */
	uint8_t buf[RECV_CHUNK];   /* what tws_recv() reads into */
} __rte_cache_aligned;

static struct {
	char *resp;            /* the response, head and body (read by every lane) */
	uint32_t resp_len;
	uint16_t nb_lanes;
	struct lane *lane;     /* nb_lanes; lane[0] runs on the main lcore and owns the port */
	volatile int stop;     /* set by the main lcore: the lanes leave their loops */
	unsigned int ready;    /* lanes set up (atomic) */
} srv;

/* Counters summed over the lanes (read while they run: a snapshot, not exact). */
static struct lane_sum {
	uint64_t accepted, closed, aborted_by_client, requests, responses, bytes_verified;
	uint64_t err[ERR_COUNT];
} sum_lanes(void)
{
	struct lane_sum t = { 0 };

	for (unsigned int q = 0; q < srv.nb_lanes; q++) {
		const struct lane *l = &srv.lane[q];

		t.accepted += l->accepted;
		t.closed += l->closed;
		t.aborted_by_client += l->aborted_by_client;
		t.requests += l->requests;
		t.responses += l->responses;
		t.bytes_verified += l->bytes_verified;
		for (unsigned int i = 0; i < ERR_COUNT; i++)
			t.err[i] += l->err[i];
	}
	return t;
}

/*
 * A connection's state lives in its udata word: no allocation per
 * connection. Bits 0-2: how much of "\r\n\r\n" matched; 3: the peer closed
 * (close once every response is queued); 4: we closed; 5: a response was
 * queued; 8-23: responses owed; 24-50: bytes of the first owed one queued
 * (its head and RESPONSE_MAX = 2^26 of body); 56-63: the X-Pad checker (app_http_pad_check()).
 */
#define ST_MATCH_MASK UINT64_C(0x7)
#define ST_PEER_CLOSED (UINT64_C(1) << 3)
#define ST_CLOSED (UINT64_C(1) << 4)
#define ST_SERVED (UINT64_C(1) << 5)
#define ST_OWED_SHIFT 8
#define ST_OWED_MASK (UINT64_C(0xffff) << ST_OWED_SHIFT)
#define ST_OFF_SHIFT 24
#define ST_OFF_MASK (UINT64_C(0x7ffffff) << ST_OFF_SHIFT)
#define ST_PAD_SHIFT 56
#define ST_PAD_MASK (UINT64_C(0xff) << ST_PAD_SHIFT)
_Static_assert(RESPONSE_MAX + 4096 <= (ST_OFF_MASK >> ST_OFF_SHIFT), "a response offset fits its bits");

static inline uint64_t
st_owed(uint64_t s)
{
	return (s & ST_OWED_MASK) >> ST_OWED_SHIFT;
}

/* Queue what is owed; close when the policy says so. @return the new state. */
static uint64_t
serve(struct lane *L, struct tws_conn *c, uint64_t s)
{
	uint64_t owed = st_owed(s), off = (s & ST_OFF_MASK) >> ST_OFF_SHIFT;

	while (owed > 0 && !(s & ST_CLOSED)) {
		int r = tws_send(c, srv.resp + off, (uint32_t)(srv.resp_len - off));

		if (r < 0) {
			L->err[ERR_send]++;
			owed = 0;
			off = 0;
			break;
		}
		off += (uint64_t)r;
		if (off < srv.resp_len)
			break; /* the SENT event brings us back */
		off = 0;
		owed--;
		L->responses++;
		s |= ST_SERVED;
	}
	s = (s & (ST_MATCH_MASK | ST_PEER_CLOSED | ST_CLOSED | ST_SERVED | ST_PAD_MASK)) |
	    (owed << ST_OWED_SHIFT) | (off << ST_OFF_SHIFT);
	if (owed == 0 && !(s & ST_CLOSED) &&
	    ((s & ST_PEER_CLOSED) || (opt.close == CLOSE_SERVER && (s & ST_SERVED)))) {
		tws_close(c);
		s |= ST_CLOSED;
	}
	return s;
}

/*
 * Read what arrived; every request head ending in it is owed a response.
 * @return the new state, or UINT64_MAX: the bytes are not what was sent
 * (counted, the connection aborted).
 */
static uint64_t
read_requests(struct lane *L, struct tws_conn *c, uint64_t s)
{
	uint8_t *buf = L->buf;
	int r;

	while ((r = tws_recv(c, buf, RECV_CHUNK)) > 0) {
		uint32_t pos = 0;
		uint8_t match = (uint8_t)(s & ST_MATCH_MASK);
		uint8_t pad = (uint8_t)(s >> ST_PAD_SHIFT);
		int64_t end, ok = app_http_pad_check(&pad, buf, (uint32_t)r);

		if (ok < 0) {
			L->err[ERR_corrupt]++;
			tws_abort(c);
			return UINT64_MAX;
		}
		L->bytes_verified += (uint64_t)ok;
		while (pos < (uint32_t)r &&
		       (end = app_http_head_end(&match, buf + pos, (uint32_t)r - pos)) >= 0) {
			pos += (uint32_t)end;
			L->requests++;
			if (!(s & ST_CLOSED) && st_owed(s) < 0xffff)
				s += UINT64_C(1) << ST_OWED_SHIFT;
		}
		s = (s & ~(ST_MATCH_MASK | ST_PAD_MASK)) | match | (uint64_t)pad << ST_PAD_SHIFT;
	}
	return s;
}

static void
on_event(struct tws_stack *st, const struct tws_event *ev, void *arg)
{
	uint64_t s = (uint64_t)(uintptr_t)ev->udata;
	struct lane *L = arg;

	(void)st;
	switch (ev->type) {
	case TWS_EV_ACCEPTED:
		L->accepted++;
		s = 0; /* the udata was the listener's */
		break;
	case TWS_EV_DATA:
		s = read_requests(L, ev->conn, s);
		if (s == UINT64_MAX)
			return; /* aborted: the handle is gone */
		s = serve(L, ev->conn, s);
		break;
	case TWS_EV_SENT:
		s = serve(L, ev->conn, s);
		break;
	case TWS_EV_PEER_CLOSED:
		s = serve(L, ev->conn, s | ST_PEER_CLOSED);
		break;
	case TWS_EV_CLOSED:
		L->closed++;
		return;
	case TWS_EV_RESET:
		/* A client closing by RST (tws-gen --close rst) after its responses is no error. */
		if (st_owed(s) == 0 && (s & ST_SERVED))
			L->aborted_by_client++;
		else
			L->err[ERR_reset]++;
		return;
	case TWS_EV_ERROR:
		L->err[ERR_timeout]++;
		return;
	default:
		return;
	}
	tws_conn_set_udata(ev->conn, (void *)(uintptr_t)s);
}

static uint64_t
errors_total(const struct lane_sum *t)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < ERR_COUNT; i++)
		n += t->err[i];
	return n;
}

static void
summary(FILE *f, bool json, double secs, const struct tws_stack_stats *ss, uint64_t tw_peak)
{
	struct lane_sum t = sum_lanes();
	uint64_t done = t.closed + t.aborted_by_client;
	const struct app_dp *dp = &srv.lane[0].dp;

	if (!json) {
		fprintf(f, PROG ": %" PRIu64 " connections accepted, %" PRIu64 " finished in "
			"%.2f s (%.0f/s), %" PRIu64 " requests, %" PRIu64 " responses\n",
			t.accepted, done, secs, secs > 0 ? (double)done / secs : 0.0,
			t.requests, t.responses);
		fprintf(f, PROG ": TIME_WAIT entries now %" PRIu64 ", peak %" PRIu64 " (%.1f bytes "
			"each), errors %" PRIu64 ", retransmits %" PRIu64 "\n", ss->tw_entries,
			tw_peak, dp->tw_bytes_per_entry, errors_total(&t), ss->retransmits);
		return;
	}

	struct app_json j;

	app_json_begin(&j, f);
	app_json_str(&j, "tool", PROG);
	app_json_num(&j, "duration_s", secs, 3);
	app_json_u64(&j, "connections", t.accepted);
	app_json_u64(&j, "finished", done);
	app_json_num(&j, "cps", secs > 0 ? (double)done / secs : 0.0, 0);
	app_json_u64(&j, "closed", t.closed);
	app_json_u64(&j, "aborted_by_client", t.aborted_by_client);
	app_json_u64(&j, "requests", t.requests);
	app_json_u64(&j, "responses", t.responses);
	app_json_u64(&j, "bytes_verified", t.bytes_verified);
	app_json_obj(&j, "errors");
	app_json_u64(&j, "total", errors_total(&t));
	for (unsigned int i = 0; i < ERR_COUNT; i++)
		app_json_u64(&j, err_names[i], t.err[i]);
	app_json_end(&j);
	app_json_u64(&j, "open", ss->conns);
	app_json_u64(&j, "tw_entries", ss->tw_entries);
	app_json_u64(&j, "tw_entries_peak", tw_peak);
	app_json_num(&j, "tw_bytes_per_entry", dp->tw_bytes_per_entry, 1);
	app_json_u64(&j, "tw_capacity", app_dp_tw_capacity(dp));
	app_json_u64(&j, "tw_overflow", ss->tw_overflow);
	app_json_u64(&j, "retransmits", ss->retransmits);
	app_json_u64(&j, "rst_sent", ss->rst_sent);
	/* How TIME_WAIT met new SYNs (spec 3 and 4): what the interop tests look at. */
	app_json_u64(&j, "tw_syn_accepted", ss->tw_syn_accepted);
	app_json_u64(&j, "tw_syn_rejected", ss->tw_syn_rejected);
	app_json_u64(&j, "lastack_syn_accepted", ss->lastack_syn_accepted);
	app_json_u64(&j, "challenge_acks", ss->challenge_acks);
	/* The SYN queue and SYN cookies (RFC 4987): what a flood did. */
	app_json_u64(&j, "syn_rcvd", ss->syn_rcvd);
	app_json_u64(&j, "syn_queue_full", ss->syn_queue_full);
	app_json_u64(&j, "syn_queue_dropped", ss->syn_queue_dropped);
	app_json_u64(&j, "syncookies_sent", ss->syncookies_sent);
	app_json_u64(&j, "syncookies_recv", ss->syncookies_recv);
	app_json_u64(&j, "syncookies_failed", ss->syncookies_failed);
	app_json_u64(&j, "conn_table_full", ss->conn_table_full);
	app_json_str(&j, "close", opt.close == CLOSE_SERVER ? "server" : "client");
	app_json_u64(&j, "response_bytes", opt.response_bytes);
	app_dp_json(&j, dp);
	app_json_obj(&j, "per_lane");
	for (unsigned int q = 0; q < srv.nb_lanes; q++) {
		char key[8];

		snprintf(key, sizeof(key), "%u", q);
		app_json_obj(&j, key);
		app_json_u64(&j, "connections", srv.lane[q].accepted);
		app_json_u64(&j, "requests", srv.lane[q].requests);
		app_json_end(&j);
	}
	app_json_end(&j);
	app_json_str(&j, "cpu", app_cpu_model());
	app_json_end(&j);
}

static int
write_json(double secs, const struct tws_stack_stats *ss, uint64_t tw_peak)
{
	FILE *f = fopen(opt.json, "w");

	if (f == NULL) {
		fprintf(stderr, PROG ": --json '%s': %s\n", opt.json, strerror(errno));
		return -1;
	}
	summary(f, true, secs, ss, tw_peak);
	return fclose(f) == 0 ? 0 : -1;
}

/* Listen on every --listen port on lane L's stack. @return 0 or 2 after a message. */
static int
listen_all(struct lane *L)
{
	for (unsigned int i = 0; i < opt.listen.n; i++) {
		int lrc = tws_listen(L->dp.st, 0, rte_cpu_to_be_16(opt.listen.port[i]), NULL);

		if (lrc != 0) {
			fprintf(stderr, PROG ": --listen %u: %s\n", opt.listen.port[i],
				lrc == -EADDRINUSE ? "given twice" : strerror(-lrc));
			return 2;
		}
	}
	return 0;
}

/* A worker lcore: set up lane q, listen, poll until the main lcore says stop. */
static int
lane_main(void *arg)
{
	struct lane *L = arg;
	uint16_t q = (uint16_t)(L - srv.lane);

	L->rc = app_dp_lane_create(&L->dp, &srv.lane[0].dp, q, on_event, L) != 0 ? 1 :
		listen_all(L);
	__atomic_fetch_add(&srv.ready, 1, __ATOMIC_RELEASE);
	if (L->rc != 0)
		return L->rc;
	while (!srv.stop)
		tws_node_poll(L->dp.node, app_dp_now_us(&L->dp));
	app_dp_bye(&L->dp);
	return 0;
}

static int
run(void)
{
	struct app_dp *dp = &srv.lane[0].dp;
	uint64_t t0 = app_dp_now_us(dp), now = t0, next_tick = t0 + 1000000, next_peak = t0;
	uint64_t end = opt.seconds > 0 ? t0 + (uint64_t)(opt.seconds * 1e6) : UINT64_MAX;
	uint64_t last_done = 0, tw_peak = 0, last_t = t0;
	struct tws_stack_stats ss;
	char detail[256];

	while (!app_server_should_stop() && now < end) {
		tws_node_poll(dp->node, now);
		now = app_dp_now_us(dp);
		if (now < next_peak)
			continue;
		next_peak = now + 10000;
		app_dp_stack_stats(dp, &ss);
		tw_peak = RTE_MAX(tw_peak, ss.tw_entries);
		if (now < next_tick)
			continue;

		struct lane_sum t = sum_lanes();
		uint64_t done = t.closed + t.aborted_by_client;

		app_progress_print(stdout, PROG, &(struct app_progress){
			.t_s = (double)(now - t0) / 1e6,
			.cps = (double)(done - last_done) * 1e6 / (double)(now - last_t),
			.open = ss.conns, .tw = ss.tw_entries,
			.tw_bytes_per_entry = dp->tw_bytes_per_entry, .errors = errors_total(&t),
			.error_detail = app_error_detail(detail, sizeof(detail), err_names, t.err,
							 ERR_COUNT),
			.retransmits = ss.retransmits });
		last_done = done;
		last_t = now;
		next_tick += 1000000;
	}
	srv.stop = 1;
	app_dp_bye(dp);
	app_lanes_wait();
	app_dp_port_stop(dp);

	double secs = (double)(now - t0) / 1e6;

	app_dp_describe_open(stderr, PROG, dp, 8);
	app_dp_stack_stats(dp, &ss);
	tw_peak = RTE_MAX(tw_peak, ss.tw_entries);
	summary(stdout, false, secs, &ss, tw_peak);
	if (opt.json != NULL && write_json(secs, &ss, tw_peak) != 0)
		return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct app_opts_spec spec = {
		.prog = PROG, .section = "server",
		.synopsis = PROG " [EAL options --] --port NAME --addr A[/P] --listen P[,P...] "
			    "[options]",
		.about = "An HTTP/1.1 server on a DPDK port, one lane per EAL lcore (-l)\n"
			 "with a queue pair and a connection table each: answers each\n"
			 "request with a 200 response of --response-bytes, closes client- or\n"
			 "server-first, and prints connections/s, open connections and\n"
			 "TIME_WAIT entries every second. SIGINT stops it and prints the\n"
			 "summary (--json FILE writes it).",
		.epilog = "Exit status: 0 done, 1 failure (EAL, memory, port), 2 bad usage or "
			  "configuration.",
		.tables = tables, .nb_tables = RTE_DIM(tables),
	};
	struct app_opts_result res;
	char **eal, **targv;
	int nb_eal, targc;

	app_split_args(argc, argv, &eal, &nb_eal, &targv, &targc);
	if (app_opts_parse(&spec, targc, targv, &res) != 0 || app_dp_conf_check(PROG, &dpc) != 0)
		return 2;
	if (opt.json != NULL && app_check_writable(PROG, "--json", opt.json) != 0)
		return 2;

	/* Server-first closes leave TIME_WAIT here: room for 4M unless max_tw says otherwise. */
	app_dp_knob_defaults(PROG, &res);
	if (!app_opts_knob_given(&res, "max_tw"))
		res.knobs.max_tw = opt.close == CLOSE_SERVER ? 1u << 22 : 1u << 16;

	uint32_t mbufs = opt.max_conns * 2 + 16384;
	long mem = app_dp_memory_mb(opt.max_conns, res.knobs.max_tw, mbufs, res.knobs.mss);

	if (app_eal_start(PROG, argv[0], eal, nb_eal, mem) != 0)
		return 1;
	app_stop_signals_install();

	int rc = 1;

	srv.resp_len = app_http_response_head_len(opt.response_bytes, opt.close == CLOSE_SERVER) +
		       opt.response_bytes;
	srv.resp = malloc(srv.resp_len);
	if (srv.resp == NULL ||
	    app_http_response(srv.resp, srv.resp_len, opt.response_bytes,
			      opt.close == CLOSE_SERVER) != srv.resp_len) {
		fprintf(stderr, PROG ": no memory for a %u-byte response\n", srv.resp_len);
		goto out;
	}
	srv.nb_lanes = (uint16_t)app_lane_lcores();
	if (srv.nb_lanes > APP_DP_MAX_LANES) {
		fprintf(stderr, PROG ": %u lcores: at most %u are run (one lane each)\n",
			srv.nb_lanes, APP_DP_MAX_LANES);
		rc = 2;
		goto out;
	}
	srv.lane = rte_zmalloc("tws_server_lanes", sizeof(*srv.lane) * srv.nb_lanes,
			       RTE_CACHE_LINE_SIZE);
	if (srv.lane == NULL) {
		fprintf(stderr, PROG ": no memory for %u lanes\n", srv.nb_lanes);
		goto out;
	}

	struct lane *L0 = &srv.lane[0];
	int drc = app_dp_create(&L0->dp, &(struct app_dp_params){ .prog = PROG, .conf = &dpc,
		.knobs = res.knobs, .max_conns = opt.max_conns, .max_listeners = opt.listen.n,
		.nb_mbufs = mbufs, .nb_lanes = srv.nb_lanes, .event_cb = on_event,
		.event_arg = L0 });

	if (drc != 0) {
		rc = drc == -ENODEV ? 2 : 1;
		goto out;
	}
	rc = listen_all(L0);
	if (rc != 0)
		goto out_dp;

	/* The other lanes, one per worker lcore: each makes its own stack there. */
	unsigned int lc, q = 1;

	RTE_LCORE_FOREACH_WORKER(lc) {
		if (q >= srv.nb_lanes)
			break;
		rte_eal_remote_launch(lane_main, &srv.lane[q], lc);
		q++;
	}
	while (__atomic_load_n(&srv.ready, __ATOMIC_ACQUIRE) < srv.nb_lanes - 1u)
		rte_pause();
	for (q = 1; q < srv.nb_lanes; q++)
		if (srv.lane[q].rc != 0)
			rc = srv.lane[q].rc;
	if (rc != 0) {
		srv.stop = 1;
		app_lanes_wait();
		goto out_lanes;
	}
	/* Hosted by tws-pair, the endpoints are tws-gen's. */
	if (!app_host.on && app_telemetry_register(&L0->dp) != 0)
		fprintf(stderr, PROG ": telemetry endpoints /tws/* not registered\n");

	char a[16], ports[128] = "";

	for (unsigned int i = 0, o = 0; i < opt.listen.n && o < sizeof(ports); i++)
		o += (unsigned int)snprintf(ports + o, sizeof(ports) - o, "%s%u", i ? "," : "",
					    opt.listen.port[i]);
	printf(PROG ": listening on %s/%u (%u address%s) port %s via %s (%s, MAC "
	       RTE_ETHER_ADDR_PRT_FMT "), close %s-first, %u-byte responses, %u lane%s\n",
	       app_ip_str(dpc.addr.ip, a), dpc.addr.prefix, dpc.addrs, dpc.addrs > 1 ? "es" : "",
	       ports, L0->dp.info.name, L0->dp.info.driver,
	       RTE_ETHER_ADDR_BYTES(&L0->dp.info.mac), opt.close == CLOSE_SERVER ? "server" :
	       "client", opt.response_bytes, srv.nb_lanes, srv.nb_lanes > 1 ? "s" : "");
	fflush(stdout);
	app_host.ready = 1;
	rc = run();
out_lanes:
	for (q = 1; q < srv.nb_lanes; q++)
		app_dp_free(&srv.lane[q].dp);
out_dp:
	app_dp_free(&L0->dp);
out:
	rte_free(srv.lane);
	free(srv.resp);
	app_eal_stop();
	return rc;
}
