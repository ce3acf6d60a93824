/* Each unit-test file is its own Check runner: it defines `Suite *make_suite(void)` and ends
 * with GS_CHECK_MAIN. tests/run-unit.sh runs them all and sums the results. */
#ifndef GS_TESTS_CHECK_H
#define GS_TESTS_CHECK_H

#include <check.h>
#include <stdlib.h>

#define GS_CHECK_MAIN(make_suite)                                                   \
	int main(void)                                                              \
	{                                                                           \
		SRunner *sr = srunner_create(make_suite());                         \
		srunner_run_all(sr, CK_NORMAL);                                     \
		int failed = srunner_ntests_failed(sr);                             \
		srunner_free(sr);                                                   \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;                        \
	}

#endif
