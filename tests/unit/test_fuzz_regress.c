/* test_fuzz_regress.c — every input the fuzzers (fuzz/) found to crash or
 * trip a sanitizer, replayed through the same code with its expected result.
 * Under `make check-asan` these fail again if the bug comes back; the raw
 * inputs are also kept in fuzz/regress/<target>/ for `make fuzz-regress`
 * (clang's sanitizers). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "envelope.h"

/* fuzz/regress/envelope/gap-without-data: a gap envelope whose "data" key is
 * misspelt. envelope_scan computed NULL + 0 before checking data for NULL
 * (clang UBSan: "applying zero offset to null pointer"; gcc's UBSan does not
 * check this, so `make fuzz-regress` is what catches a relapse). */
static void test_fuzz_regress_envelope_gap_without_data(void **state)
{
    (void)state;
    const char in[] = "{\"ch\":\"a\",\"seq\":7,\"ts\":5,\"type\":\"gap\",\"[data\":{\"from\":3,\"to\":7}}";
    envelope env;
    char err[128];
    assert_int_equal(envelope_scan(in, sizeof in - 1, &env, err, sizeof err), -1);
    assert_non_null(strstr(err, "gap"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fuzz_regress_envelope_gap_without_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
