/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The knob table of tws_tcp.h: defaults, ranges, value names, parsing,
 * cross checks and messages. Walks every knob through tws_tcp_knob_info(),
 * so a knob added to TWS_TCP_KNOBS is tested without touching this file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tws_tcp.h"
#include "tws_test.h"

struct info {
	const char *name, *values, *desc;
	uint32_t def, min, max;
};

static struct info
info(unsigned int i)
{
	struct info in = { 0 };

	tws_tcp_knob_info(i, &in.name, &in.def, &in.min, &in.max, &in.values, &in.desc);
	return in;
}

static unsigned int
nb_names(const char *values)
{
	unsigned int n = 1;

	for (const char *p = values; *p != '\0'; p++)
		n += *p == ',';
	return n;
}

/*
 * Field i of the struct: the struct is TWS_TCP_KNOBS' uint32_t fields in list
 * order (test_defaults pins the size), so the knob index is the field index.
 */
static uint32_t *
at(struct tws_tcp_knobs *k, unsigned int i)
{
	return (uint32_t *)k + i;
}

static void
test_defaults(void)
{
	struct tws_tcp_knobs k;
	unsigned int i = 0;
	char err[128] = "";

	memset(&k, 0xa5, sizeof(k));
	tws_tcp_knobs_default(&k);
#define X_CHECK_DEFAULT(n, d, lo, hi, vals, help) do { \
	struct info in = info(i); \
	CHECKF(k.n == (d), "%s = %" PRIu32 ", expected %" PRIu32, #n, k.n, (uint32_t)(d)); \
	CHECKF(in.name != NULL && strcmp(in.name, #n) == 0, "knob %u is %s, expected %s", i, \
	       in.name, #n); \
	CHECK(in.def == (d) && in.min == (lo) && in.max == (hi)); \
	CHECK(in.desc != NULL && strcmp(in.desc, help) == 0); \
	CHECK((in.values == NULL) == ((const char *)(vals) == NULL)); \
	CHECKF((lo) <= (d) && (d) <= (hi), "%s default out of its range", #n); \
	i++; \
} while (0);
	TWS_TCP_KNOBS(X_CHECK_DEFAULT)
#undef X_CHECK_DEFAULT
	CHECK(tws_tcp_knob_count() == i);
	CHECK(sizeof(k) == i * sizeof(uint32_t));
	CHECKF(tws_tcp_knobs_check(&k, err, sizeof(err)) == 0, "defaults refused: %s", err);
}

static void
test_every_knob_min_max(void)
{
	for (unsigned int i = 0; i < tws_tcp_knob_count(); i++) {
		struct info in = info(i);
		struct tws_tcp_knobs k;
		char v[32], err[160];
		int rc;

		tws_tcp_knobs_default(&k);
		snprintf(v, sizeof(v), "%" PRIu32, in.min);
		rc = tws_tcp_knob_set(&k, in.name, v, err, sizeof(err));
		CHECKF(rc == 0 && *at(&k, i) == in.min, "%s = %s: %d %s", in.name, v, rc, err);
		snprintf(v, sizeof(v), "%" PRIu32, in.max);
		rc = tws_tcp_knob_set(&k, in.name, v, err, sizeof(err));
		CHECKF(rc == 0 && *at(&k, i) == in.max, "%s = %s: %d %s", in.name, v, rc, err);

		/* Both neighbours are refused with the knob named; the field keeps its value. */
		if (in.min > 0) {
			snprintf(v, sizeof(v), "%" PRIu32, in.min - 1);
			err[0] = '\0';
			rc = tws_tcp_knob_set(&k, in.name, v, err, sizeof(err));
			CHECKF(rc == -EINVAL, "%s = %s accepted", in.name, v);
			CHECKF(strstr(err, in.name) == err && strstr(err, v) != NULL,
			       "message '%s'", err);
			CHECK(*at(&k, i) == in.max);
		}
		snprintf(v, sizeof(v), "%" PRIu64, (uint64_t)in.max + 1);
		err[0] = '\0';
		rc = tws_tcp_knob_set(&k, in.name, v, err, sizeof(err));
		CHECKF(rc == -EINVAL, "%s = %s accepted", in.name, v);
		CHECKF(strstr(err, in.name) == err && strstr(err, v) != NULL, "message '%s'", err);
		CHECK(*at(&k, i) == in.max);

		if (in.values == NULL) {
			char range[48];

			snprintf(range, sizeof(range), "%" PRIu32 "..%" PRIu32, in.min, in.max);
			CHECKF(strstr(err, range) != NULL, "message '%s' lacks %s", err, range);
		}
	}
}

static void
test_range_message(void)
{
	struct tws_tcp_knobs k;
	char err[128];

	tws_tcp_knobs_default(&k);
	CHECK(tws_tcp_knob_set(&k, "rto_min_ms", "0", err, sizeof(err)) == -EINVAL);
	CHECKF(strcmp(err, "rto_min_ms: '0' is out of range 1..60000") == 0, "'%s'", err);
	CHECK(k.rto_min_ms == 200);
}

static void
test_named_values(void)
{
	struct tws_tcp_knobs k;
	char err[128];

	/* Named knobs count from 0, one name per value. */
	for (unsigned int i = 0; i < tws_tcp_knob_count(); i++) {
		struct info in = info(i);

		if (in.values == NULL)
			continue;
		CHECKF(in.min == 0 && nb_names(in.values) == in.max + 1, "%s: %s for %u..%u",
		       in.name, in.values, in.min, in.max);
	}

	tws_tcp_knobs_default(&k);
	CHECK(tws_tcp_knob_set(&k, "tw_syn_reject", "drop", err, sizeof(err)) == 0);
	CHECK(k.tw_syn_reject == TWS_TW_SYN_REJECT_DROP);
	CHECK(tws_tcp_knob_set(&k, "tw_syn_reject", "ack", err, sizeof(err)) == 0);
	CHECK(k.tw_syn_reject == TWS_TW_SYN_REJECT_ACK);
	CHECK(tws_tcp_knob_set(&k, "lastack_syn", "rst", err, sizeof(err)) == 0);
	CHECK(k.lastack_syn == 2);
	CHECK(tws_tcp_knob_set(&k, "lastack_syn", "challenge", err, sizeof(err)) == 0);
	CHECK(k.lastack_syn == 1);
	CHECK(tws_tcp_knob_set(&k, "lastack_syn", "accept", err, sizeof(err)) == 0);
	CHECK(k.lastack_syn == 0);
	/* The number works too. */
	CHECK(tws_tcp_knob_set(&k, "lastack_syn", "2", err, sizeof(err)) == 0);
	CHECK(k.lastack_syn == 2);

	CHECK(tws_tcp_knob_set(&k, "lastack_syn", "foo", err, sizeof(err)) == -EINVAL);
	CHECKF(strcmp(err, "lastack_syn: 'foo' is not one of accept, challenge, rst") == 0,
	       "'%s'", err);
	CHECK(tws_tcp_knob_set(&k, "tw_syn_reject", "2", err, sizeof(err)) == -EINVAL);
	CHECKF(strcmp(err, "tw_syn_reject: '2' is not one of ack, drop") == 0, "'%s'", err);

	/* Only whole names: no prefix, suffix, case change or list. */
	static const char *const bad[] = {
		"", "chall", "challengex", "RST", " rst", "rst ", "accept,rst", ",", "3", "-1",
	};
	for (unsigned int i = 0; i < TWS_NCASES(bad); i++) {
		err[0] = '\0';
		CHECKF(tws_tcp_knob_set(&k, "lastack_syn", bad[i], err, sizeof(err)) == -EINVAL,
		       "'%s' accepted", bad[i]);
		CHECKF(strstr(err, "lastack_syn: ") == err, "'%s'", err);
	}
	CHECK(k.lastack_syn == 2);
}

static void
test_junk(void)
{
	static const char *const bad[] = {
		"", "+5", "-5", "-0", " 5", "5 ", "5\n", "5ms", "0x10", "1e3", "5.0", "five",
		"4294967296", "4294967295", "18446744073709551617", "99999999999999999999999999",
	};
	struct tws_tcp_knobs k;
	char err[128];

	tws_tcp_knobs_default(&k);
	for (unsigned int i = 0; i < TWS_NCASES(bad); i++) {
		err[0] = '\0';
		CHECKF(tws_tcp_knob_set(&k, "sndbuf", bad[i], err, sizeof(err)) == -EINVAL,
		       "'%s' accepted", bad[i]);
		CHECKF(strstr(err, "sndbuf: ") == err && strstr(err, "1024..1073741824") != NULL,
		       "'%s' gave '%s'", bad[i], err);
	}
	CHECK(tws_tcp_knob_set(&k, "sndbuf", NULL, err, sizeof(err)) == -EINVAL);
	CHECK(k.sndbuf == 262144);
	/* Leading zeros are still decimal. */
	CHECK(tws_tcp_knob_set(&k, "sndbuf", "0002048", err, sizeof(err)) == 0);
	CHECK(k.sndbuf == 2048);

	/* err may be NULL or short: the message is cut, never overrun. */
	char small[8];

	memset(small, 'x', sizeof(small));
	CHECK(tws_tcp_knob_set(&k, "sndbuf", "junk", NULL, 0) == -EINVAL);
	CHECK(tws_tcp_knob_set(&k, "sndbuf", "junk", small, 5) == -EINVAL);
	CHECK(strcmp(small, "sndb") == 0 && small[5] == 'x');
}

static void
test_cross_checks(void)
{
	struct tws_tcp_knobs k;
	char err[160];

	tws_tcp_knobs_default(&k);
	k.rto_min_ms = 500;
	k.rto_init_ms = 500;
	k.rto_max_ms = 500;
	k.port_min = 4000;
	k.port_max = 4000;
	CHECKF(tws_tcp_knobs_check(&k, err, sizeof(err)) == 0, "equal refused: %s", err);

	k.rto_min_ms = 501;
	CHECK(tws_tcp_knobs_check(&k, err, sizeof(err)) == -EINVAL);
	CHECKF(strstr(err, "rto_min_ms") != NULL && strstr(err, "rto_init_ms") != NULL &&
	       strstr(err, "501") != NULL && strstr(err, "500") != NULL, "'%s'", err);
	k.rto_min_ms = 200;
	k.rto_init_ms = 600;
	CHECK(tws_tcp_knobs_check(&k, err, sizeof(err)) == -EINVAL);
	CHECKF(strstr(err, "rto_init_ms") != NULL && strstr(err, "rto_max_ms") != NULL, "'%s'",
	       err);
	k.rto_init_ms = 300;
	k.port_min = 4001;
	CHECK(tws_tcp_knobs_check(&k, err, sizeof(err)) == -EINVAL);
	CHECKF(strstr(err, "port_min") != NULL && strstr(err, "port_max") != NULL, "'%s'", err);
	k.port_min = 1;
	CHECK(tws_tcp_knobs_check(&k, NULL, 0) == 0);

	/* A field set behind the parser's back: every knob, both sides of its range. */
	for (unsigned int i = 0; i < tws_tcp_knob_count(); i++) {
		struct info in = info(i);
		uint32_t bad[2];
		unsigned int nb = 0;

		if (in.min > 0)
			bad[nb++] = in.min - 1;
		if (in.max < UINT32_MAX)
			bad[nb++] = in.max + 1;
		for (unsigned int j = 0; j < nb; j++) {
			tws_tcp_knobs_default(&k);
			*at(&k, i) = bad[j];
			err[0] = '\0';
			CHECKF(tws_tcp_knobs_check(&k, err, sizeof(err)) == -EINVAL,
			       "%s = %" PRIu32 " passed", in.name, bad[j]);
			CHECKF(strstr(err, in.name) == err, "'%s'", err);
		}
	}
	tws_tcp_knobs_default(&k);
	k.lastack_syn = 3;
	CHECK(tws_tcp_knobs_check(&k, err, sizeof(err)) == -EINVAL);
	CHECKF(strcmp(err, "lastack_syn: 3 is not one of accept, challenge, rst") == 0, "'%s'",
	       err);
	k.lastack_syn = 1;
	k.rto_min_ms = 0;
	CHECK(tws_tcp_knobs_check(&k, err, sizeof(err)) == -EINVAL);
	CHECKF(strcmp(err, "rto_min_ms: 0 is out of range 1..60000") == 0, "'%s'", err);
}

static void
test_get_round_trip(void)
{
	struct tws_tcp_knobs a, b;
	char buf[64], err[128];

	tws_tcp_knobs_default(&a);
	CHECK(tws_tcp_knob_get(&a, "lastack_syn", buf, sizeof(buf)) == 0);
	CHECK(strcmp(buf, "accept") == 0);
	CHECK(tws_tcp_knob_get(&a, "tw_syn_reject", buf, sizeof(buf)) == 0);
	CHECK(strcmp(buf, "ack") == 0);
	CHECK(tws_tcp_knob_get(&a, "rto_max_ms", buf, sizeof(buf)) == 0);
	CHECK(strcmp(buf, "120000") == 0);

	/* Every knob at min, max and a middle value: get then set gives it back. */
	for (unsigned int pass = 0; pass < 3; pass++) {
		tws_tcp_knobs_default(&a);
		for (unsigned int i = 0; i < tws_tcp_knob_count(); i++) {
			struct info in = info(i);
			uint32_t v = pass == 0 ? in.min : pass == 1 ? in.max :
				     in.min + (in.max - in.min) / 3;

			*at(&a, i) = v;
		}
		memset(&b, 0, sizeof(b));
		for (unsigned int i = 0; i < tws_tcp_knob_count(); i++) {
			struct info in = info(i);

			CHECK(tws_tcp_knob_get(&a, in.name, buf, sizeof(buf)) == 0);
			CHECKF(tws_tcp_knob_set(&b, in.name, buf, err, sizeof(err)) == 0, "%s",
			       err);
		}
		CHECKF(memcmp(&a, &b, sizeof(a)) == 0, "pass %u", pass);
	}

	/* A named knob holding a value with no name prints the number. */
	a.lastack_syn = 7;
	CHECK(tws_tcp_knob_get(&a, "lastack_syn", buf, sizeof(buf)) == 0);
	CHECK(strcmp(buf, "7") == 0);
	/* Short buffer: cut, terminated. */
	a.lastack_syn = 1;
	CHECK(tws_tcp_knob_get(&a, "lastack_syn", buf, 5) == 0);
	CHECK(strcmp(buf, "chal") == 0);
}

static void
test_unknown_knob(void)
{
	struct tws_tcp_knobs k, before;
	char err[128], buf[32];
	const char *name = NULL;

	tws_tcp_knobs_default(&k);
	before = k;
	CHECK(tws_tcp_knob_set(&k, "xyz", "1", err, sizeof(err)) == -ENOENT);
	CHECKF(strcmp(err, "no knob 'xyz'") == 0, "'%s'", err);
	CHECK(tws_tcp_knob_set(&k, "", "1", err, sizeof(err)) == -ENOENT);
	CHECK(tws_tcp_knob_set(&k, "RTO_MIN_MS", "1", err, sizeof(err)) == -ENOENT);
	CHECK(tws_tcp_knob_set(&k, "rto_min", "1", err, sizeof(err)) == -ENOENT);
	CHECK(tws_tcp_knob_set(&k, NULL, "1", NULL, 0) == -ENOENT);
	/* The name is checked before the value. */
	CHECK(tws_tcp_knob_set(&k, "xyz", "junk", err, sizeof(err)) == -ENOENT);
	CHECK(memcmp(&k, &before, sizeof(k)) == 0);
	CHECK(tws_tcp_knob_get(&k, "xyz", buf, sizeof(buf)) == -ENOENT);

	CHECK(tws_tcp_knob_info(tws_tcp_knob_count(), &name, NULL, NULL, NULL, NULL, NULL) ==
	      -EINVAL);
	CHECK(tws_tcp_knob_info(UINT32_MAX, &name, NULL, NULL, NULL, NULL, NULL) == -EINVAL);
	CHECK(name == NULL);
	CHECK(tws_tcp_knob_info(0, &name, NULL, NULL, NULL, NULL, NULL) == 0 && name != NULL);
}

int
main(void)
{
	static const struct tws_test_case cases[] = {
		TWS_TEST(test_defaults),
		TWS_TEST(test_every_knob_min_max),
		TWS_TEST(test_range_message),
		TWS_TEST(test_named_values),
		TWS_TEST(test_junk),
		TWS_TEST(test_cross_checks),
		TWS_TEST(test_get_round_trip),
		TWS_TEST(test_unknown_knob),
	};

	/* Pure functions: no EAL needed. */
	return tws_test_run(cases, TWS_NCASES(cases));
}
