/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Iteration counts of the kernel's sync stress tests
 * (tools/testing/selftests/sync/sync_stress_*.c), which hard-code them.
 * scripts/build-selftests.sh compiles a copy of those files in which each
 * count N reads RF_STRESS_COUNT(N), and forces this header in with
 * -include.
 *
 * With RF_STRESS=full in the environment (make check-full) the tests run
 * the kernel's counts: minutes under TCG with KASAN and lockdep. Otherwise
 * (make check) they run 1/RF_STRESS_QUICK_DIVISOR of them, which still
 * races the producer and consumer threads thousands of times.
 */
#ifndef RF_SYNC_STRESS_COUNTS_H
#define RF_SYNC_STRESS_COUNTS_H

#include <stdlib.h>
#include <string.h>

#ifndef RF_STRESS_QUICK_DIVISOR
#define RF_STRESS_QUICK_DIVISOR 16
#endif

static inline int rf_stress_count(int full)
{
	const char *mode = getenv("RF_STRESS");
	int quick = full / RF_STRESS_QUICK_DIVISOR;

	if (mode && !strcmp(mode, "full"))
		return full;
	return quick > 0 ? quick : 1;
}

#define RF_STRESS_COUNT(n) rf_stress_count(n)

#endif /* RF_SYNC_STRESS_COUNTS_H */
