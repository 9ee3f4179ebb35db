/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the connection / TIME_WAIT table (lib/table). Time is
 * injected as ticks.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include "tws_table.h"
#include "tws_test.h"

struct conn {
	uint32_t magic;
	uint32_t key_id;
	uint8_t payload[40];
};

static struct tws_tuple
tuple(uint32_t i)
{
	/* 198.18.0.0/15 addresses; ports spread so keys share parts. */
	struct tws_tuple k = {
		.laddr = rte_cpu_to_be_32(0xc6120001u + (i % 7)),
		.raddr = rte_cpu_to_be_32(0xc6130000u + (i / 5000)),
		.lport = rte_cpu_to_be_16((uint16_t)(10000 + i % 5000)),
		.rport = rte_cpu_to_be_16(80),
	};

	return k;
}

static struct tws_table *
mk(uint32_t conns, uint32_t tw, uint32_t timeout)
{
	struct tws_table_params p = {
		.name = "test", .socket_id = SOCKET_ID_ANY, .max_conns = conns,
		.conn_size = sizeof(struct conn), .max_tw = tw, .tw_timeout = timeout,
		.hash_seed = 1234,
	};

	return tws_table_create(&p);
}

static const struct tws_tw_state tw_st = {
	.snd_nxt = 1000, .rcv_nxt = 2000, .ts_recent = 77, .ts_recent_stamp = 0,
	.rcv_wscale = 7, .flags = TWS_TW_F_TS,
};

static void
test_create_rejects_bad_params(void)
{
	struct tws_table_params ok = {
		.socket_id = SOCKET_ID_ANY, .max_conns = 16, .max_tw = 16, .tw_timeout = 100,
	};
	struct tws_table_params p;

	CHECK(tws_table_create(NULL) == NULL && rte_errno == EINVAL);
	p = ok;
	p.max_conns = 0;
	CHECK(tws_table_create(&p) == NULL && rte_errno == EINVAL);
	p = ok;
	p.conn_size = 5000;
	CHECK(tws_table_create(&p) == NULL && rte_errno == EINVAL);
	p = ok;
	p.tw_timeout = 0;
	CHECK(tws_table_create(&p) == NULL && rte_errno == EINVAL);
	p = ok;
	p.max_tw = UINT32_MAX;
	CHECK(tws_table_create(&p) == NULL && rte_errno == EINVAL);
	CHECK(tws_table_memory_size(&p) == 0);
	p = ok;
	p.family = AF_INET6;
	CHECK(tws_table_create(&p) == NULL && rte_errno == ENOTSUP);
	p.family = 12345;
	CHECK(tws_table_create(&p) == NULL && rte_errno == EINVAL);
	p = ok;
	p.family = AF_INET;
	CHECK(tws_table_memory_size(&p) > 0);
	p = ok;
	p.max_conns = 1u << 28;
	p.max_tw = 1u << 30; /* together past the index limit */
	CHECK(tws_table_create(&p) == NULL && rte_errno == EINVAL);
	p = ok;

	struct tws_table *t = tws_table_create(&p);

	CHECK(t != NULL);
	tws_table_free(t);
	tws_table_free(NULL);
}

static void
test_conn_insert_lookup_delete(void)
{
	struct tws_table *t = mk(1000, 0, 100);
	struct tws_table_hit hit;
	void *c[1000], *dup;

	CHECK(t != NULL);
	for (uint32_t i = 0; i < 1000; i++) {
		struct tws_tuple k = tuple(i);

		CHECK(tws_table_conn_insert(t, &k, &c[i]) == 0);
		CHECK(((uintptr_t)c[i] & 63) == 0);
		((struct conn *)c[i])->magic = 0xc0ffee;
		((struct conn *)c[i])->key_id = i;
	}
	for (uint32_t i = 0; i < 1000; i++) {
		struct tws_tuple k = tuple(i);

		CHECK(tws_table_lookup(t, &k, &hit) == TWS_TABLE_CONN && hit.conn == c[i]);
		CHECK(((struct conn *)hit.conn)->key_id == i);
		CHECK(memcmp(tws_table_conn_key(t, c[i]), &k, sizeof(k)) == 0);
		CHECK(tws_table_conn_insert(t, &k, &dup) == -EEXIST);
	}
	/* Pool full. */
	struct tws_tuple k = tuple(5000);

	CHECK(tws_table_conn_insert(t, &k, &dup) == -ENOSPC);
	for (uint32_t i = 0; i < 1000; i += 2)
		CHECK(tws_table_conn_delete(t, c[i]) == 0);
	CHECK(tws_table_conn_delete(t, c[0]) == -EINVAL); /* twice */
	CHECK(tws_table_conn_delete(t, (char *)c[1] + 8) == -EINVAL); /* not a block */
	for (uint32_t i = 0; i < 1000; i++) {
		struct tws_tuple kk = tuple(i);

		CHECK(tws_table_lookup(t, &kk, &hit) == (i % 2 ? TWS_TABLE_CONN : TWS_TABLE_MISS));
	}
	/* Freed blocks come back zeroed. */
	CHECK(tws_table_conn_insert(t, &k, &dup) == 0 && ((struct conn *)dup)->magic == 0);

	struct tws_table_stats st;

	tws_table_stats_get(t, &st);
	CHECK(st.conns == 501 && st.insert_exists == 1000 && st.insert_full == 1);
	CHECK(st.conn_inserted == 1001 && st.conn_deleted == 500);
	tws_table_free(t);
}

/* T7: an entry disappears after tw_timeout ticks, not before. */
static void
test_tw_lifecycle_and_expiry(void)
{
	struct tws_table *t = mk(10, 100, 60000);
	struct tws_table_hit hit;
	struct tws_tuple k = tuple(1);
	void *c;

	CHECK(t != NULL);
	CHECK(tws_table_conn_insert(t, &k, &c) == 0);

	struct tws_tw_state st = tw_st;

	st.ts_recent_stamp = 400;
	CHECK(tws_table_conn_to_tw(t, c, &st, 500) == 0);
	CHECK(tws_table_lookup(t, &k, &hit) == TWS_TABLE_TW);
	CHECK(memcmp(&hit.tw->key, &k, sizeof(k)) == 0);
	CHECK(hit.tw->snd_nxt == 1000 && hit.tw->rcv_nxt == 2000 && hit.tw->ts_recent == 77);
	CHECK(hit.tw->rcv_wscale == 7 && (hit.tw->flags & TWS_TW_F_TS));
	CHECK(tws_table_tw_ts_stamp(t, hit.tw) == 400);
	CHECK(tws_table_conn_insert(t, &k, &c) == -EEXIST); /* TIME_WAIT holds the tuple */
	CHECK(tws_table_expire(t, 500 + 59999, 0) == 0);
	CHECK(tws_table_lookup(t, &k, &hit) == TWS_TABLE_TW);

	struct tws_tw_entry *gone = hit.tw;

	CHECK(tws_table_expire(t, 500 + 60000, 0) == 1);
	CHECK(tws_table_lookup(t, &k, &hit) == TWS_TABLE_MISS);
	/* A pointer kept from before expiry is refused. */
	CHECK(tws_table_tw_remove(t, gone) == -ENOENT);
	CHECK(tws_table_tw_restart(t, gone, 600000) == NULL);
	/* The tuple is free again. */
	CHECK(tws_table_conn_insert(t, &k, &c) == 0);

	struct tws_table_stats s;

	tws_table_stats_get(t, &s);
	CHECK(s.tw_created == 1 && s.tw_expired == 1 && s.tw_entries == 0 && s.conns == 1);
	tws_table_free(t);
}

static void
test_tw_restart_and_remove(void)
{
	struct tws_table *t = mk(10, 100, 1000);
	struct tws_table_hit hit;
	struct tws_tuple a = tuple(1), b = tuple(2);
	struct tws_tw_entry *e;

	CHECK(t != NULL);
	CHECK(tws_table_tw_insert(t, &a, &tw_st, 0) == 0);
	CHECK(tws_table_tw_insert(t, &a, &tw_st, 0) == -EEXIST);
	CHECK(tws_table_tw_insert(t, &b, &tw_st, 0) == 0);
	CHECK(tws_table_lookup(t, &a, &hit) == TWS_TABLE_TW);
	/* T2: a retransmitted FIN restarts the timer: the entry moves to the head. */
	e = tws_table_tw_restart(t, hit.tw, 600);
	CHECK(e != NULL && e != hit.tw && e->snd_nxt == 1000);
	CHECK(tws_table_tw_ts_stamp(t, e) == 0);
	CHECK(tws_table_tw_restart(t, hit.tw, 600) == NULL); /* the old address is dead */
	CHECK(tws_table_expire(t, 1000, 0) == 1);             /* b only */
	CHECK(tws_table_lookup(t, &b, &hit) == TWS_TABLE_MISS);
	CHECK(tws_table_lookup(t, &a, &hit) == TWS_TABLE_TW && hit.tw == e);
	CHECK(tws_table_expire(t, 1599, 0) == 0);
	/* T3/S2: removal (RST, accepted SYN, reuse). */
	CHECK(tws_table_tw_remove(t, e) == 0);
	CHECK(tws_table_tw_remove(t, e) == -ENOENT);
	CHECK(tws_table_lookup(t, &a, &hit) == TWS_TABLE_MISS);
	CHECK(tws_table_expire(t, 5000, 0) == 0); /* nothing left to expire */

	struct tws_table_stats s;

	tws_table_stats_get(t, &s);
	CHECK(s.tw_removed == 1 && s.tw_restarted == 1 && s.tw_expired == 1 && s.tw_entries == 0);
	tws_table_free(t);
}

/* T5: at max_tw no entry is made, the connection still goes, tw_overflow counts. */
static void
test_tw_overflow(void)
{
	struct tws_table *t = mk(10, 3, 1000);
	struct tws_table_hit hit;
	void *c;

	CHECK(t != NULL);
	for (uint32_t i = 0; i < 5; i++) {
		struct tws_tuple k = tuple(i);

		CHECK(tws_table_conn_insert(t, &k, &c) == 0);
		CHECK(tws_table_conn_to_tw(t, c, &tw_st, i) == (i < 3 ? 0 : -ENOSPC));
		CHECK(tws_table_lookup(t, &k, &hit) == (i < 3 ? TWS_TABLE_TW : TWS_TABLE_MISS));
	}

	struct tws_table_stats s;

	tws_table_stats_get(t, &s);
	CHECK(s.tw_overflow == 2 && s.tw_entries == 3 && s.conns == 0);
	/* max_tw = 0: TIME_WAIT disabled, closing still works. */
	tws_table_free(t);
	t = mk(10, 0, 1000);
	CHECK(t != NULL);

	struct tws_tuple k = tuple(9);

	CHECK(tws_table_conn_insert(t, &k, &c) == 0);
	CHECK(tws_table_conn_to_tw(t, c, &tw_st, 0) == -ENOSPC);
	CHECK(tws_table_lookup(t, &k, &hit) == TWS_TABLE_MISS);
	tws_table_free(t);
}

/* The out-of-window ACK time: never earlier than the truth, kept across lookups. */
static void
test_tw_oow_ack_time(void)
{
	struct tws_table *t = mk(10, 10, 60000);
	struct tws_table_hit hit;
	struct tws_tuple k = tuple(4);
	struct tws_tw_state st = tw_st;
	uint64_t last;

	CHECK(t != NULL);
	st.rcv_wscale = 14;
	CHECK(tws_table_tw_insert(t, &k, &st, 1000) == 0);
	CHECK(tws_table_lookup(t, &k, &hit) == TWS_TABLE_TW);
	CHECK(hit.tw->rcv_wscale == 14 && (hit.tw->flags & TWS_TW_F_TS));
	CHECK(tws_table_tw_oow_last(t, hit.tw, &last) == 0);
	tws_table_tw_oow_mark(t, hit.tw, 1000);
	CHECK(tws_table_tw_oow_last(t, hit.tw, &last) == 1 && last == 1000);
	tws_table_tw_oow_mark(t, hit.tw, 1300);
	CHECK(tws_table_tw_oow_last(t, hit.tw, &last) == 1 && last >= 1300 && last < 1300 + 256);
	tws_table_tw_oow_mark(t, hit.tw, 1000 + 59999); /* the last tick of TIME_WAIT */
	CHECK(tws_table_tw_oow_last(t, hit.tw, &last) == 1 && last >= 1000 + 59999 &&
	      last < 1000 + 59999 + 256);
	/* A restart makes a fresh record: no ACK sent yet from it. */
	CHECK((hit.tw = tws_table_tw_restart(t, hit.tw, 2000)) != NULL);
	CHECK(tws_table_tw_oow_last(t, hit.tw, &last) == 0 && hit.tw->rcv_wscale == 14);
	tws_table_free(t);
	/* A 10-minute TIME_WAIT: the unit grows, the last tick is still covered. */
	t = mk(10, 10, 600000);
	CHECK(t != NULL);
	CHECK(tws_table_tw_insert(t, &k, &st, 0) == 0);
	CHECK(tws_table_lookup(t, &k, &hit) == TWS_TABLE_TW);
	tws_table_tw_oow_mark(t, hit.tw, 599999);
	CHECK(tws_table_tw_oow_last(t, hit.tw, &last) == 1 && last >= 599999 &&
	      last < 599999 + 600000 / 254 + 1);
	tws_table_free(t);
}

static void
test_ts_age_saturates(void)
{
	struct tws_table *t = mk(10, 10, 100);
	struct tws_table_hit hit;
	struct tws_tuple k = tuple(3);
	struct tws_tw_state st = tw_st;

	CHECK(t != NULL);
	st.ts_recent_stamp = 1000;
	CHECK(tws_table_tw_insert(t, &k, &st, 1000000) == 0);
	CHECK(tws_table_lookup(t, &k, &hit) == TWS_TABLE_TW);
	/* Older than 65535 ticks reads as 65535 ticks old: past every limit that uses it. */
	CHECK(tws_table_tw_ts_stamp(t, hit.tw) == 1000000 - 65535);
	tws_table_free(t);
}

static void
test_burst_lookup_matches_single(void)
{
	const uint32_t n = 20000;
	struct tws_table *t = mk(n, n, 100);
	struct tws_tuple *keys = malloc(2 * n * sizeof(*keys));
	const void *kp[TWS_TABLE_BURST_MAX];
	struct tws_table_hit hb[TWS_TABLE_BURST_MAX], hh[TWS_TABLE_BURST_MAX], hs;
	uint64_t hashes[TWS_TABLE_BURST_MAX];
	void *c;

	CHECK(t != NULL && keys != NULL);
	for (uint32_t i = 0; i < 2 * n; i++)
		keys[i] = tuple(i);
	for (uint32_t i = 0; i < n; i++) {
		if (i % 3 == 0)
			CHECK(tws_table_tw_insert(t, &keys[i], &tw_st, i / 100) == 0);
		else
			CHECK(tws_table_conn_insert(t, &keys[i], &c) == 0);
	}
	CHECK(tws_table_expire(t, 150, 0) > 0); /* some TIME_WAIT entries gone: stale slots */
	uint64_t rng = 8;

	for (unsigned int round = 0; round < 2000; round++) {
		unsigned int m = 1 + tws_test_rand(&rng) % TWS_TABLE_BURST_MAX, found = 0;

		for (unsigned int i = 0; i < m; i++)
			kp[i] = &keys[tws_test_rand(&rng) % (2 * n)];
		unsigned int got = tws_table_lookup_burst(t, kp, m, hb);
		/* The same burst from hashes taken beforehand, as a poll loop does. */
		unsigned int got_h;

		tws_table_prefetch_burst(t, kp, m, hashes);
		got_h = tws_table_lookup_burst_hashed(t, kp, hashes, m, hh);
		for (unsigned int i = 0; i < m; i++) {
			tws_table_lookup(t, kp[i], &hs);
			CHECK(hb[i].kind == hs.kind && hb[i].conn == hs.conn);
			CHECK(hh[i].kind == hs.kind && hh[i].conn == hs.conn);
			found += hs.kind != TWS_TABLE_MISS;
		}
		CHECK(got == found && got_h == found);
	}
	free(keys);
	tws_table_free(t);
}

/*
 * Model-based: two million random operations on 30000 tuples against a plain
 * array of states, checking every result and, often, every tuple.
 */
enum mstate { M_NONE, M_CONN, M_TW };

static void
test_model_random_ops(void)
{
	const uint32_t nk = 30000, max_conns = 12000, max_tw = 1500, timeout = 3000;
	const uint32_t nops = 2000000;
	/* The model's own expiry queue: (key, deadline) in creation order. */
	uint32_t *fk = malloc(nops * sizeof(*fk));
	uint64_t *fe = malloc(nops * sizeof(*fe));
	uint32_t fhead = 0, ftail = 0;
	struct tws_table *t = mk(max_conns, max_tw, timeout);
	struct tws_tuple *keys = malloc(nk * sizeof(*keys));
	uint8_t *ms = calloc(nk, 1);
	uint64_t *mexp = calloc(nk, sizeof(*mexp));
	void **mconn = calloc(nk, sizeof(*mconn));
	uint64_t rng = 77, now = 1000, nconn = 0, ntw = 0, index_full = 0;
	struct tws_table_hit hit;
	struct tws_table_stats s;

	CHECK(t != NULL && keys != NULL && ms != NULL && mexp != NULL && mconn != NULL);
	CHECK(fk != NULL && fe != NULL);
	for (uint32_t i = 0; i < nk; i++)
		keys[i] = tuple(i);
	for (uint32_t op = 0; op < nops; op++) {
		uint64_t r = tws_test_rand(&rng);
		uint32_t i = (uint32_t)(r >> 32) % nk;
		void *c;
		int rc;

		switch (r % 16) {
		case 0: case 1: case 2: /* insert a connection */
			rc = tws_table_conn_insert(t, &keys[i], &c);
			if (ms[i] != M_NONE) {
				CHECKF(rc == -EEXIST, "op %u insert existing %u rc %d", op, i, rc);
			} else if (nconn == max_conns) {
				CHECK(rc == -ENOSPC);
			} else if (rc == -ENOSPC) {
				/* Index probe window full: allowed, nothing changed. */
				CHECK(tws_table_lookup(t, &keys[i], &hit) == TWS_TABLE_MISS);
				index_full++;
			} else {
				CHECKF(rc == 0, "op %u insert %u rc %d", op, i, rc);
				ms[i] = M_CONN;
				mconn[i] = c;
				nconn++;
				((struct conn *)c)->key_id = i;
			}
			break;
		case 4: /* delete a connection */
			if (ms[i] == M_CONN) {
				CHECK(tws_table_conn_delete(t, mconn[i]) == 0);
				ms[i] = M_NONE;
				nconn--;
			}
			break;
		case 3: case 5: case 6: case 7: /* close: connection -> TIME_WAIT */
			if (ms[i] == M_CONN) {
				rc = tws_table_conn_to_tw(t, mconn[i], &tw_st, now);
				nconn--;
				if (rc == 0) {
					ms[i] = M_TW;
					mexp[i] = now + timeout;
					fk[fhead] = i;
					fe[fhead++] = mexp[i];
					ntw++;
				} else {
					CHECK(rc == -ENOSPC);
					ms[i] = M_NONE;
				}
			}
			break;
		case 8: /* TIME_WAIT entry removed early */
			if (ms[i] == M_TW) {
				CHECK(tws_table_lookup(t, &keys[i], &hit) == TWS_TABLE_TW);
				CHECK(tws_table_tw_remove(t, hit.tw) == 0);
				ms[i] = M_NONE;
				ntw--;
			}
			break;
		case 9: case 12: /* TIME_WAIT timer restarted */
			if (ms[i] == M_TW) {
				CHECK(tws_table_lookup(t, &keys[i], &hit) == TWS_TABLE_TW);
				if (tws_table_tw_restart(t, hit.tw, now) != NULL) {
					mexp[i] = now + timeout;
					fk[fhead] = i;
					fe[fhead++] = mexp[i];
				}
			}
			break;
		case 10: case 11: { /* time passes, entries expire */
			now += (r >> 8) % 3;
			unsigned int n = tws_table_expire(t, now, 0);
			unsigned int want = 0;

			while (ftail < fhead && fe[ftail] <= now) {
				uint32_t k = fk[ftail++];

				/* Entries removed or restarted since are not this record. */
				if (ms[k] == M_TW && mexp[k] == fe[ftail - 1]) {
					ms[k] = M_NONE;
					want++;
				}
			}
			CHECKF(n == want, "op %u expired %u want %u", op, n, want);
			ntw -= want;
			break;
		}
		default: { /* look up: single, and sometimes everything */
			enum tws_table_kind kd = tws_table_lookup(t, &keys[i], &hit);

			CHECKF(kd == (enum tws_table_kind)ms[i], "op %u key %u kind %d want %d",
			       op, i, kd, ms[i]);
			if (kd == TWS_TABLE_CONN)
				CHECK(hit.conn == mconn[i] && ((struct conn *)hit.conn)->key_id == i);
			if (kd == TWS_TABLE_TW)
				CHECK((uint32_t)(hit.tw->expire) == (uint32_t)mexp[i]);
			break;
		}
		}
		if (op % 100000 == 0) {
			for (uint32_t k = 0; k < nk; k++)
				CHECKF(tws_table_lookup(t, &keys[k], &hit) == (enum tws_table_kind)ms[k],
				       "op %u key %u", op, k);
			tws_table_stats_get(t, &s);
			CHECK(s.conns == nconn && s.tw_entries == ntw);
		}
	}
	tws_table_stats_get(t, &s);
	CHECK(s.conns == nconn && s.tw_entries == ntw);
	printf("# %" PRIu64 " conns, %" PRIu64 " TIME_WAIT, %" PRIu64 " expired, %" PRIu64
	       " overflow, %" PRIu64 " full, %" PRIu64 " index full, %" PRIu64 " restarted, %"
	       PRIu64 " reclaimed\n", nconn, ntw, s.tw_expired, s.tw_overflow, s.insert_full,
	       index_full, s.tw_restarted, s.stale_reclaimed);
	/* At the rated load (max_conns + max_tw, 3/4 of the slots) the index never refuses. */
	CHECK(index_full == 0);
	CHECKF(s.tw_expired > 10000 && s.tw_restarted > 1000 && s.stale_reclaimed > 1000 &&
	       s.tw_overflow > 0,
	       "expired %" PRIu64 " restarted %" PRIu64 " reclaimed %" PRIu64,
	       s.tw_expired, s.tw_restarted, s.stale_reclaimed);
	free(fk);
	free(fe);
	free(keys);
	free(ms);
	free(mexp);
	free(mconn);
	tws_table_free(t);
}

/* Ten million TIME_WAIT entries: all found, all expire, memory within budget. */
static void
test_ten_million_tw(void)
{
	const uint32_t n = 10000000;
	struct tws_table_params p = {
		.name = "big", .socket_id = SOCKET_ID_ANY, .max_conns = 1024, .max_tw = n,
		.tw_timeout = 60000,
	};
	struct tws_table_params p0 = p;
	struct tws_table *t = tws_table_create(&p);
	struct tws_tuple k[TWS_TABLE_BURST_MAX];
	const void *kp[TWS_TABLE_BURST_MAX];
	struct tws_table_hit h[TWS_TABLE_BURST_MAX];
	struct tws_table_stats s;

	CHECK(t != NULL);
	p0.max_tw = 0;
	double per_tw = (double)(tws_table_memory_size(&p) - tws_table_memory_size(&p0)) / n;

	CHECKF(per_tw <= 48.0, "%.1f bytes per TIME_WAIT entry", per_tw);
	for (uint32_t i = 0; i < n; i++) {
		struct tws_tuple x = {
			.laddr = rte_cpu_to_be_32(0xc6120000u + (i >> 16)),
			.raddr = rte_cpu_to_be_32(0xc6130001u),
			.lport = rte_cpu_to_be_16((uint16_t)i),
			.rport = rte_cpu_to_be_16(80),
		};

		int rc = tws_table_tw_insert(t, &x, &tw_st, i / 1000);

		CHECKF(rc == 0, "entry %u: %d", i, rc);
	}
	tws_table_stats_get(t, &s);
	CHECK(s.tw_entries == n && s.insert_full == 0);
	for (uint32_t i = 0; i < n; i += TWS_TABLE_BURST_MAX) {
		for (unsigned int j = 0; j < TWS_TABLE_BURST_MAX; j++) {
			uint32_t x = i + j;

			k[j].laddr = rte_cpu_to_be_32(0xc6120000u + (x >> 16));
			k[j].raddr = rte_cpu_to_be_32(0xc6130001u);
			k[j].lport = rte_cpu_to_be_16((uint16_t)x);
			k[j].rport = rte_cpu_to_be_16(x < n ? 80 : 81); /* past n: misses */
			kp[j] = &k[j];
		}
		unsigned int want = RTE_MIN((uint32_t)TWS_TABLE_BURST_MAX, n - i);

		CHECK(tws_table_lookup_burst(t, kp, TWS_TABLE_BURST_MAX, h) == want);
	}
	/* Created 1000 per tick over ticks 0..9999: the last tick's expire one tick later. */
	CHECK(tws_table_expire(t, 60000 + n / 1000 - 2, 0) == n - 1000);
	CHECK(tws_table_expire(t, 60000 + n / 1000 - 1, 0) == 1000);
	tws_table_stats_get(t, &s);
	CHECK(s.tw_entries == 0);
	printf("# %.1f bytes per TIME_WAIT entry (index + record), %" PRIu64 " MiB in all\n",
	       per_tw, s.memory_bytes >> 20);
	tws_table_free(t);
}

static struct tws_ports *
mk_ports(uint16_t lo, uint16_t hi, uint32_t dests)
{
	struct tws_ports_params p = {
		.name = "ports", .socket_id = SOCKET_ID_ANY, .port_min = lo, .port_max = hi,
		.max_dests = dests, .seed = 99,
	};

	return tws_ports_create(&p);
}

static struct tws_tuple
dest(uint32_t d)
{
	struct tws_tuple k = {
		.laddr = rte_cpu_to_be_32(0xc6120001u),
		.raddr = rte_cpu_to_be_32(0xc6130001u + d),
		.rport = rte_cpu_to_be_16(80),
	};

	return k;
}

/* Connect, insert the connection, close it into TIME_WAIT at now. */
static int
churn_one(struct tws_ports *pa, struct tws_table *t, struct tws_tuple *k,
	  const struct tws_ports_reuse *ru, uint64_t now, bool ts)
{
	struct tws_tw_entry *old;
	struct tws_tw_state st = tw_st;
	void *c;
	int rc = tws_ports_connect(pa, t, k, ru, now, &old);

	if (rc != 0)
		return rc;
	if (old != NULL && tws_table_tw_remove(t, old) != 0)
		return -100;
	if (tws_table_conn_insert(t, k, &c) != 0)
		return -101;
	st.ts_recent_stamp = now;
	st.flags = ts ? TWS_TW_F_TS : 0;
	return tws_table_conn_to_tw(t, c, &st, now);
}

/* S1: one local port, tw_reuse=0: the second connect fails until TIME_WAIT ends. */
static void
test_ports_s1_one_port_no_reuse(void)
{
	struct tws_table *t = mk(16, 16, 60000);
	struct tws_ports *pa = mk_ports(30000, 30000, 4);
	struct tws_ports_reuse off = { .enabled = 0 };
	struct tws_tuple k = dest(0);
	struct tws_ports_stats st;

	CHECK(t != NULL && pa != NULL);
	CHECK(churn_one(pa, t, &k, &off, 0, true) == 0);
	CHECK(rte_be_to_cpu_16(k.lport) == 30000);
	CHECK(churn_one(pa, t, &k, &off, 1000, true) == -EADDRNOTAVAIL);
	CHECK(churn_one(pa, t, &k, &off, 59999, true) == -EADDRNOTAVAIL);
	CHECK(tws_table_expire(t, 60000, 0) == 1);
	CHECK(churn_one(pa, t, &k, &off, 60000, true) == 0);
	tws_ports_stats_get(pa, &st);
	CHECK(st.connects == 2 && st.addr_not_avail == 2 && st.reused == 0);
	tws_ports_free(pa);
	tws_table_free(t);
}

/* S3: tw_reuse=1 takes the TIME_WAIT tuple once its timestamp is old enough. */
static void
test_ports_s3_reuse_after_delay(void)
{
	struct tws_table *t = mk(16, 16, 60000);
	struct tws_ports *pa = mk_ports(30000, 30000, 4);
	struct tws_ports_reuse on = { .enabled = 1, .delay = 1000 };
	struct tws_tuple k = dest(0);
	struct tws_tw_entry *old;

	CHECK(t != NULL && pa != NULL);
	CHECK(churn_one(pa, t, &k, &on, 100, true) == 0);
	CHECK(tws_ports_connect(pa, t, &k, &on, 1099, &old) == -EADDRNOTAVAIL);
	CHECK(tws_ports_connect(pa, t, &k, &on, 1100, &old) == 0);
	CHECK(old != NULL && old->snd_nxt == 1000 && old->ts_recent == 77);
	CHECK(rte_be_to_cpu_16(k.lport) == 30000);
	/* The caller reads the entry, removes it, and the connection takes the tuple. */
	CHECK(tws_table_tw_remove(t, old) == 0);

	void *c;

	CHECK(tws_table_conn_insert(t, &k, &c) == 0);

	struct tws_ports_stats st;

	tws_ports_stats_get(pa, &st);
	CHECK(st.reused == 1 && st.addr_not_avail == 1);
	tws_ports_free(pa);
	tws_table_free(t);
}

/* Without timestamps there is no safe reuse; an explicit bind reuses when they were seen. */
static void
test_ports_reuse_needs_timestamps(void)
{
	struct tws_table *t = mk(16, 16, 60000);
	struct tws_ports *pa = mk_ports(30000, 30000, 4);
	struct tws_ports_reuse on = { .enabled = 1, .delay = 1000 };
	struct tws_tuple k = dest(0), k2 = dest(1);
	struct tws_tw_entry *old;

	CHECK(t != NULL && pa != NULL);
	CHECK(churn_one(pa, t, &k, &on, 0, false) == 0);
	CHECK(tws_ports_connect(pa, t, &k, &on, 50000, &old) == -EADDRNOTAVAIL);
	CHECK(tws_ports_connect_bound(pa, t, &k, &old) == -EADDRINUSE);
	CHECK(churn_one(pa, t, &k2, &on, 0, true) == 0);
	CHECK(tws_ports_connect_bound(pa, t, &k2, &old) == 0 && old != NULL); /* no delay */
	tws_ports_free(pa);
	tws_table_free(t);
}

/*
 * Almost every port of a destination in TIME_WAIT: the few free ones are
 * found, and a connect never makes more than TWS_PORTS_MAX_CHECKS lookups.
 */
static void
test_ports_nearly_exhausted(void)
{
	const uint32_t range = 2000;
	struct tws_table *t = mk(64, range + 100, 60000);
	struct tws_ports *pa = mk_ports(40000, 40000 + range - 1, 4);
	struct tws_ports_reuse off = { .enabled = 0 };
	struct tws_ports_stats st0, st1;
	struct tws_table_hit hit;
	struct tws_tuple k = dest(3);
	uint8_t seen[2000] = { 0 };

	CHECK(t != NULL && pa != NULL);
	for (uint32_t i = 0; i < range; i++) {
		CHECK(churn_one(pa, t, &k, &off, i, true) == 0);
		uint32_t port = rte_be_to_cpu_16(k.lport) - 40000;

		CHECK(port < range && !seen[port]); /* every port once */
		seen[port] = 1;
	}
	/* All in TIME_WAIT: refused, cheaply. */
	tws_ports_stats_get(pa, &st0);
	CHECK(churn_one(pa, t, &k, &off, range, true) == -EADDRNOTAVAIL);
	tws_ports_stats_get(pa, &st1);
	CHECK(st1.lookups - st0.lookups <= TWS_PORTS_MAX_CHECKS);
	/* Free 20 scattered ports early (RST): exactly those are found. */
	for (uint32_t p = 7; p < range; p += 100) {
		struct tws_tuple x = k;

		x.lport = rte_cpu_to_be_16((uint16_t)(40000 + p));
		CHECK(tws_table_lookup(t, &x, &hit) == TWS_TABLE_TW);
		CHECK(tws_table_tw_remove(t, hit.tw) == 0);
		tws_ports_release(pa, &x);
		seen[p] = 2;
	}
	for (uint32_t n = 0; n < 20; n++) {
		tws_ports_stats_get(pa, &st0);
		CHECK(churn_one(pa, t, &k, &off, range + 1, true) == 0);
		tws_ports_stats_get(pa, &st1);
		CHECK(st1.lookups - st0.lookups == 1);
		CHECK(seen[rte_be_to_cpu_16(k.lport) - 40000] == 2);
		seen[rte_be_to_cpu_16(k.lport) - 40000] = 3;
	}
	CHECK(churn_one(pa, t, &k, &off, range + 2, true) == -EADDRNOTAVAIL);
	/* The oldest entries expire (no release call): found again, oldest first. */
	CHECK(tws_table_expire(t, 60000 + 99, 0) == 100 - 1); /* ports 0..99 but port 7 */
	for (uint32_t n = 0; n < 99; n++) {
		tws_ports_stats_get(pa, &st0);
		CHECK(churn_one(pa, t, &k, &off, 60000 + 100, true) == 0);
		tws_ports_stats_get(pa, &st1);
		CHECK(st1.lookups - st0.lookups <= TWS_PORTS_MAX_CHECKS);
	}
	tws_ports_free(pa);
	tws_table_free(t);
}

static void
test_ports_params_and_destinations(void)
{
	struct tws_ports_params bad = { .socket_id = SOCKET_ID_ANY, .port_min = 5000,
					.port_max = 4000 };
	struct tws_table *t = mk(16, 16, 100);
	struct tws_ports *pa = mk_ports(1024, 65535, 2);
	struct tws_ports_reuse off = { 0 };
	struct tws_tw_entry *old;
	struct tws_tuple a = dest(0), b = dest(1), c = dest(2);

	CHECK(tws_ports_create(&bad) == NULL && rte_errno == EINVAL);
	CHECK(t != NULL && pa != NULL);
	CHECK(tws_ports_connect(pa, t, &a, &off, 0, &old) == 0 && old == NULL);
	CHECK(tws_ports_connect(pa, t, &b, &off, 0, &old) == 0);
	/* RFC 6056: destinations start at their own secret offsets. */
	CHECK(a.lport != b.lport);
	uint16_t first = rte_be_to_cpu_16(a.lport);

	CHECK(tws_ports_connect(pa, t, &a, &off, 0, &old) == 0);
	CHECK(rte_be_to_cpu_16(a.lport) == (first == 65535 ? 1024 : first + 1));
	CHECK(tws_ports_connect(pa, t, &c, &off, 0, &old) == -ENOSPC); /* max_dests = 2 */

	struct tws_ports_stats st;

	tws_ports_stats_get(pa, &st);
	CHECK(st.dest_full == 1 && st.dests == 2);
	tws_ports_free(pa);
	tws_ports_free(NULL);
	tws_table_free(t);
}

static void
test_stats_names(void)
{
	const char *name, *desc;

	CHECK(TWS_TABLE_STATS_COUNT == 10);
	for (unsigned int i = 0; i < TWS_TABLE_STATS_COUNT; i++)
		CHECK(tws_table_stat_name(i, &name, &desc) == 0 && name[0] && desc[0]);
	CHECK(tws_table_stat_name(TWS_TABLE_STATS_COUNT, &name, &desc) == -EINVAL);
}

int
main(int argc, char **argv)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(test_create_rejects_bad_params),
		TWS_TEST(test_conn_insert_lookup_delete),
		TWS_TEST(test_tw_lifecycle_and_expiry),
		TWS_TEST(test_tw_restart_and_remove),
		TWS_TEST(test_tw_overflow),
		TWS_TEST(test_tw_oow_ack_time),
		TWS_TEST(test_ts_age_saturates),
		TWS_TEST(test_burst_lookup_matches_single),
		TWS_TEST(test_model_random_ops),
		TWS_TEST(test_ten_million_tw),
		TWS_TEST(test_ports_s1_one_port_no_reuse),
		TWS_TEST(test_ports_s3_reuse_after_delay),
		TWS_TEST(test_ports_reuse_needs_timestamps),
		TWS_TEST(test_ports_nearly_exhausted),
		TWS_TEST(test_ports_params_and_destinations),
		TWS_TEST(test_stats_names),
	};

	(void)argc;
	tws_test_eal_init(argv[0], 1, 1024);
	return tws_test_run(cases, TWS_NCASES(cases));
}
