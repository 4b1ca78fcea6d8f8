/*
 * mc_test - the smallest test harness that can fail.
 *
 * Contract: a test program defines functions with MC_TEST(name) and lists
 * them in main() with mc_test_run(name). Each check that fails prints
 * "  FAIL file:line: expression" and marks the current test failed; the test
 * continues (so one run shows every broken check). Each test prints
 * "ok - name" or "not ok - name". mc_test_done() prints
 * "<program>: N passed, N failed" and returns the exit status (non-zero if
 * anything failed or no test ran). tests/run.sh adds the programs' counts.
 */
#ifndef MC_TEST_H
#define MC_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int mc_test_passed;       /* tests that passed */
static int mc_test_failed;       /* tests that failed */
static int mc_test_current_bad;  /* checks failed in the running test */

#define MC_TEST(name) static void name(void)

#define CHECK(expr)                                                            \
    do {                                                                       \
        if (!(expr)) {                                                         \
            printf("  FAIL %s:%d: %s\n", __FILE__, __LINE__, #expr);           \
            mc_test_current_bad++;                                             \
        }                                                                      \
    } while (0)

#define CHECK_INT(a, b)                                                        \
    do {                                                                       \
        long long _a = (long long)(a), _b = (long long)(b);                    \
        if (_a != _b) {                                                        \
            printf("  FAIL %s:%d: %s == %s (%lld != %lld)\n", __FILE__,        \
                   __LINE__, #a, #b, _a, _b);                                  \
            mc_test_current_bad++;                                             \
        }                                                                      \
    } while (0)

#define CHECK_STR(a, b)                                                        \
    do {                                                                       \
        const char *_a = (a), *_b = (b);                                       \
        if (!_a || !_b || strcmp(_a, _b) != 0) {                               \
            printf("  FAIL %s:%d: %s == %s (\"%s\" != \"%s\")\n", __FILE__,    \
                   __LINE__, #a, #b, _a ? _a : "(null)", _b ? _b : "(null)");  \
            mc_test_current_bad++;                                             \
        }                                                                      \
    } while (0)

/* REQUIRE - like CHECK, but stops the test: use before dereferencing */
#define REQUIRE(expr)                                                          \
    do {                                                                       \
        if (!(expr)) {                                                         \
            printf("  FAIL %s:%d: %s (required)\n", __FILE__, __LINE__, #expr);\
            mc_test_current_bad++;                                             \
            return;                                                            \
        }                                                                      \
    } while (0)

#define mc_test_run(fn)                                                        \
    do {                                                                       \
        mc_test_current_bad = 0;                                               \
        fflush(stdout);                                                        \
        fn();                                                                  \
        if (mc_test_current_bad) {                                             \
            mc_test_failed++;                                                  \
            printf("not ok - %s\n", #fn);                                      \
        } else {                                                               \
            mc_test_passed++;                                                  \
            printf("ok - %s\n", #fn);                                          \
        }                                                                      \
        fflush(stdout);                                                        \
    } while (0)

/* mc_test_done - print the program's summary line and return its status */
static inline int mc_test_done(const char *program)
{
    printf("%s: %d passed, %d failed\n", program, mc_test_passed, mc_test_failed);
    return (mc_test_failed || mc_test_passed == 0) ? 1 : 0;
}

#endif
