/* SPDX-License-Identifier: BSD-3-Clause */
/* Built by test_pkgconfig.sh against the installed headers and libtwstack.pc. */
#include <stdio.h>

#include <tws_timer.h>

int
main(void)
{
	struct tws_timer_params p = { .capacity = 1000 };
	size_t sz = tws_timer_memory_size(&p);

	printf("wheel of 1000 timers: %zu bytes\n", sz);
	return sz > 0 ? 0 : 1;
}
