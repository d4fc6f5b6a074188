/* test-quantity.c: Kubernetes quantities and Go durations (lib/quantity.c).
 *
 * Table-driven: each row is an input and the exact result Kubernetes
 * (Quantity.Value()/MilliValue()) or Go (time.ParseDuration) gives, with our
 * -ERANGE for negative and beyond-int64 values. Property tests cross-check the
 * exact arithmetic against a u128 reference and the duration round trip. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "quantity.h"

/* Go's time.Duration limit, 2^63-1 ns, in whole milliseconds. */
#define DURATION_MS_MAX UINT64_C(9223372036854)

struct row {
        const char *in;
        int r;
        uint64_t v;
};

static void check_table(const char *what, int (*parse)(const char *, uint64_t *), const struct row *rows, size_t n) {
        for (size_t i = 0; i < n; i++) {
                uint64_t v = UINT64_C(0xdeadbeef);
                int r = parse(rows[i].in, &v);

                if (r != rows[i].r)
                        fail_msg("%s(\"%s\"): returned %d, expected %d", what, rows[i].in, r, rows[i].r);
                if (r == 0 && v != rows[i].v)
                        fail_msg("%s(\"%s\"): %" PRIu64 ", expected %" PRIu64, what, rows[i].in, v, rows[i].v);
                /* Results are untouched on failure. */
                if (r < 0 && v != UINT64_C(0xdeadbeef))
                        fail_msg("%s(\"%s\"): failed but wrote %" PRIu64, what, rows[i].in, v);
        }
}

#define CHECK_BYTES(rows) check_table("quantity_parse_bytes", quantity_parse_bytes, rows, ELEMENTSOF(rows))
#define CHECK_MILLIS(rows) check_table("quantity_parse_millis", quantity_parse_millis, rows, ELEMENTSOF(rows))
#define CHECK_DURATION(rows) check_table("duration_parse_ms", duration_parse_ms, rows, ELEMENTSOF(rows))

/* ---------------------------------------------------------------- quantities */

static void test_quantity_bytes_suffixes(void **state) {
        static const struct row rows[] = {
                { "0", 0, 0 },
                { "1", 0, 1 },
                { "00012", 0, 12 },
                { "+1Ki", 0, 1024 },
                { "1Ki", 0, UINT64_C(1) << 10 },
                { "1Mi", 0, UINT64_C(1) << 20 },
                { "1Gi", 0, UINT64_C(1) << 30 },
                { "1Ti", 0, UINT64_C(1) << 40 },
                { "1Pi", 0, UINT64_C(1) << 50 },
                { "1Ei", 0, UINT64_C(1) << 60 },
                { "7Ei", 0, UINT64_C(7) << 60 },
                { "123Mi", 0, 128974848 },
                { "0.5Gi", 0, 536870912 },
                { "1.5Gi", 0, 1610612736 },
                { "1.5Ki", 0, 1536 },
                { "1n", 0, 1 },
                { "1u", 0, 1 },
                { "1m", 0, 1 },
                { "1000m", 0, 1 },
                { "1001m", 0, 2 },
                { "1k", 0, 1000 },
                { "2.5k", 0, 2500 },
                { "1M", 0, 1000000 },
                { "129M", 0, 129000000 },
                { "1G", 0, 1000000000 },
                { "1T", 0, UINT64_C(1000000000000) },
                { "1P", 0, UINT64_C(1000000000000000) },
                { "1E", 0, UINT64_C(1000000000000000000) },
                { "129e6", 0, 129000000 },
                { "1.3E+6", 0, 1300000 },
                { "1e3", 0, 1000 },
                { "1e+3", 0, 1000 },
                { "1E3", 0, 1000 },
                { "1.0e3", 0, 1000 },
                { "1e03", 0, 1000 },
                { "1e-3", 0, 1 },
                { "12e-1", 0, 2 },
                { "10e-1", 0, 1 },
                { "1e0", 0, 1 },
        };
        (void) state;
        CHECK_BYTES(rows);
}

static void test_quantity_bytes_fractions(void **state) {
        static const struct row rows[] = {
                { ".5", 0, 1 },
                { "1.", 0, 1 },
                { ".", 0, 0 },
                { "1.G", 0, 1000000000 },
                { ".5Ki", 0, 512 },
                { "0.000000000001Ki", 0, 1 },
                { "0.0009765625Ki", 0, 1 },   /* exactly 1 */
                { "0.00097656251Ki", 0, 2 },  /* a hair above 1 */
                { "0.0009765624Ki", 0, 1 },   /* a hair below 1 */
                { "1.0000000001Gi", 0, 1073741825 },
                { "0.1", 0, 1 },
                { "0.9", 0, 1 },
                { "1.1", 0, 2 },
                { "2.0", 0, 2 },
                { "2.000000000000000000000000000000000000000", 0, 2 },
                { "0.000000000000000000000000000000000000001", 0, 1 },
                { "1.5Ei", 0, UINT64_C(3) << 59 },
                { "0.1Ei", 0, UINT64_C(115292150460684698) }, /* ceil(2^60 / 10) */
                { "0.3Ki", 0, 308 },                          /* 307.2 */
        };
        (void) state;
        CHECK_BYTES(rows);
}

static void test_quantity_millis(void **state) {
        static const struct row rows[] = {
                { "0", 0, 0 },
                { "1", 0, 1000 },
                { "2", 0, 2000 },
                { "500m", 0, 500 },
                { "0.5", 0, 500 },
                { "0.1", 0, 100 },
                { "100m", 0, 100 },
                { ".5", 0, 500 },
                { "1.", 0, 1000 },
                { "0.5m", 0, 1 },
                { "0.1m", 0, 1 },
                { "1.0001m", 0, 2 },
                { "1n", 0, 1 },
                { "1000000u", 0, 1000 },
                { "1u", 0, 1 },
                { "1k", 0, 1000000 },
                { "1e-3", 0, 1 },
                { "1e-4", 0, 1 },
                { "2.5e-3", 0, 3 },
                { "1.5Ki", 0, 1536000 },
                { "0.000000000001Ki", 0, 1 },
                { "9223372036854775807m", 0, INT64_MAX },
                { "9223372036854775.807", 0, INT64_MAX },
                { "9223372036854775.8075", -ERANGE, 0 },
                { "9223372036854776", -ERANGE, 0 },
                { "8Pi", 0, UINT64_C(9007199254740992000) },
                { "9Pi", -ERANGE, 0 },
                { "-1m", -ERANGE, 0 },
                { "-0m", 0, 0 },
        };
        (void) state;
        CHECK_MILLIS(rows);
}

/* kubernetes.io/docs/concepts/configuration/manage-resources-containers,
 * "Resource units": these all mean roughly the same memory, and cpu "0.1" is
 * "100m". */
static void test_quantity_k8s_equivalences(void **state) {
        static const char *const memory_129m[] = { "129e6", "129M", "129000000", "129000000000m", "0.129G" };
        static const char *const memory_123mi[] = { "128974848", "123Mi", "128974848000m", "0.120117187500Gi" };
        static const char *const cpu_100m[] = { "0.1", "100m", "1e-1", ".1", "100000u", "100000000n" };
        uint64_t v;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(memory_129m); i++) {
                assert_return_code(quantity_parse_bytes(memory_129m[i], &v), 0);
                assert_int_equal(v, 129000000);
        }
        for (size_t i = 0; i < ELEMENTSOF(memory_123mi); i++) {
                assert_return_code(quantity_parse_bytes(memory_123mi[i], &v), 0);
                assert_int_equal(v, 128974848);
        }
        for (size_t i = 0; i < ELEMENTSOF(cpu_100m); i++) {
                assert_return_code(quantity_parse_millis(cpu_100m[i], &v), 0);
                assert_int_equal(v, 100);
        }
}

static void test_quantity_invalid(void **state) {
        static const struct row rows[] = {
                { "", -EINVAL, 0 },
                { "e", -EINVAL, 0 },
                { "i", -EINVAL, 0 },
                { "1i", -EINVAL, 0 },
                { ".5i", -EINVAL, 0 },
                { "1e", -EINVAL, 0 },
                { "1e+", -EINVAL, 0 },
                { "1e-", -EINVAL, 0 },
                { "1e+-3", -EINVAL, 0 },
                { "1ee3", -EINVAL, 0 },
                { "1Ee3", -EINVAL, 0 },
                { "1e3Mi", -EINVAL, 0 },
                { "1e3.5", -EINVAL, 0 },
                { "1Mi3", -EINVAL, 0 },
                { "1k-", -EINVAL, 0 },
                { "1 Mi", -EINVAL, 0 },
                { " 1", -EINVAL, 0 },
                { "1 ", -EINVAL, 0 },
                { "1Mi ", -EINVAL, 0 },
                { "\t1", -EINVAL, 0 },
                { "1\n", -EINVAL, 0 },
                { "0x10", -EINVAL, 0 },
                { "1KiB", -EINVAL, 0 },
                { "--1", -EINVAL, 0 },
                { "+-1", -EINVAL, 0 },
                { "-+1", -EINVAL, 0 },
                { "1..2", -EINVAL, 0 },
                { "1.2.3", -EINVAL, 0 },
                { "1.1.M", -EINVAL, 0 },
                { "1+1.0M", -EINVAL, 0 },
                { "1mi", -EINVAL, 0 },
                { "0.1mi", -EINVAL, 0 },
                { "1MI", -EINVAL, 0 },
                { "1kb", -EINVAL, 0 },
                { "1K", -EINVAL, 0 },
                { "1KI", -EINVAL, 0 },
                { "1Ki1", -EINVAL, 0 },
                { "1am", -EINVAL, 0 },
                { "aoeu", -EINVAL, 0 },
                { "1\xc2\xb5", -EINVAL, 0 }, /* µ is not a quantity suffix */
                { "1,5", -EINVAL, 0 },
                { "1_000", -EINVAL, 0 },
                { "-3.01e-", -EINVAL, 0 },
                { "-3.01i", -EINVAL, 0 },
                /* The exponent must fit ParseInt's int64. */
                { "1e9223372036854775808", -EINVAL, 0 },
                { "0e-9223372036854775809", -EINVAL, 0 },
                { "1e99999999999999999999999", -EINVAL, 0 },
                /* Digitless with an exponent below nano: inf.Dec rejects it. */
                { "e-10", -EINVAL, 0 },
                { ".e-10", -EINVAL, 0 },
        };
        (void) state;
        CHECK_BYTES(rows);
        CHECK_MILLIS(rows);
}

/* Kubernetes accepts a quantity without digits and reads it as zero
 * ("-" and "Mi" both go through the "num = 0" path of parseQuantityString). */
static void test_quantity_digitless_is_zero(void **state) {
        static const struct row rows[] = {
                { "-", 0, 0 },   { "+", 0, 0 },  { ".", 0, 0 },    { "-.", 0, 0 },
                { "Mi", 0, 0 },  { "k", 0, 0 },  { "m", 0, 0 },    { "E", 0, 0 },
                { ".Ki", 0, 0 }, { "e3", 0, 0 }, { "e-9", 0, 0 },  { "0e-10", 0, 0 },
                { "-0", 0, 0 },  { "+0", 0, 0 }, { "-0.0Ki", 0, 0 }, { "000", 0, 0 },
                { "0.000", 0, 0 }, { "0e99999", 0, 0 }, { "0e9223372036854775807", 0, 0 },
        };
        (void) state;
        CHECK_BYTES(rows);
        CHECK_MILLIS(rows);
}

static void test_quantity_range(void **state) {
        static const struct row rows[] = {
                { "9223372036854775807", 0, INT64_MAX },
                { "9223372036854775806.1", 0, INT64_MAX },
                { "9223372036854775807.0000", 0, INT64_MAX },
                { "9223372036854775807.0001", -ERANGE, 0 },
                { "9223372036854775808", -ERANGE, 0 },
                { "18446744073709551616", -ERANGE, 0 },
                { "99999999999999999999999999999999999999999", -ERANGE, 0 },
                { "8Ei", -ERANGE, 0 },
                { "7.99999999999999999913Ei", 0, INT64_MAX }, /* 2^63 - 1.0 (rounded up) */
                { "7.9999999999999999992Ei", -ERANGE, 0 },   /* 2^63 - 0.92 */
                { "9.3E", -ERANGE, 0 },
                { "9.223372036854775807E", 0, INT64_MAX },
                { "1e19", -ERANGE, 0 },
                { "0.1e20", -ERANGE, 0 },
                { "1e18", 0, UINT64_C(1000000000000000000) },
                { "1e9223372036854775807", -ERANGE, 0 },
                { "1e-9223372036854775808", 0, 1 },
                { "-1", -ERANGE, 0 },
                { "-1n", -ERANGE, 0 },
                { "-0.5", -ERANGE, 0 },
                { "-1Ki", -ERANGE, 0 },
                { "-8Ei", -ERANGE, 0 },
        };
        (void) state;
        CHECK_BYTES(rows);
}

/* Very long digit strings: exact, no silent overflow, no O(exponent) work. */
static void test_quantity_long_digit_strings(void **state) {
        char buf[4096];
        uint64_t v;

        (void) state;

        /* 0.(2000 zeros)1 e2001 == 1 */
        strcpy(buf, "0.");
        memset(buf + 2, '0', 2000);
        strcpy(buf + 2002, "1e2001");
        assert_return_code(quantity_parse_bytes(buf, &v), 0);
        assert_int_equal(v, 1);

        /* 0.(2000 zeros)1 == tiny, rounds up to 1 (also with Ei) */
        strcpy(buf + 2002, "1");
        assert_return_code(quantity_parse_bytes(buf, &v), 0);
        assert_int_equal(v, 1);
        strcpy(buf + 2002, "1Ei");
        assert_return_code(quantity_parse_bytes(buf, &v), 0);
        assert_int_equal(v, 1);

        /* 1(2000 zeros)e-2000 == 1, and 1(2000 zeros) is out of range */
        buf[0] = '1';
        memset(buf + 1, '0', 2000);
        strcpy(buf + 2001, "e-2000");
        assert_return_code(quantity_parse_bytes(buf, &v), 0);
        assert_int_equal(v, 1);
        buf[2001] = '\0';
        assert_int_equal(quantity_parse_bytes(buf, &v), -ERANGE);

        /* 3.(2000 nines)Ki: just below 4Ki */
        strcpy(buf, "3.");
        memset(buf + 2, '9', 2000);
        strcpy(buf + 2002, "Ki");
        assert_return_code(quantity_parse_bytes(buf, &v), 0);
        assert_int_equal(v, 4096);

        /* 12.(2000 zeros)5 -> 13, and with a huge negative exponent -> 1 */
        strcpy(buf, "12.");
        memset(buf + 3, '0', 2000);
        strcpy(buf + 2003, "5");
        assert_return_code(quantity_parse_bytes(buf, &v), 0);
        assert_int_equal(v, 13);
        strcpy(buf + 2003, "5e-999999999999");
        assert_return_code(quantity_parse_bytes(buf, &v), 0);
        assert_int_equal(v, 1);

        /* Many leading zeros are stripped. */
        memset(buf, '0', 3000);
        strcpy(buf + 3000, "42Mi");
        assert_return_code(quantity_parse_bytes(buf, &v), 0);
        assert_int_equal(v, UINT64_C(42) << 20);
}

static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint64_t rng(void) {
        /* xorshift64*: deterministic, so failures reproduce. */
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return rng_state * UINT64_C(2685821657736338717);
}

static void check_reference(const char *what, int (*parse)(const char *, uint64_t *), const char *in,
                            unsigned __int128 want) {
        uint64_t v = 0;
        int r = parse(in, &v);

        if (want > INT64_MAX) {
                if (r != -ERANGE)
                        fail_msg("%s(\"%s\") = %d, expected -ERANGE", what, in, r);
        } else if (r < 0 || v != (uint64_t) want)
                fail_msg("%s(\"%s\") = %d, %" PRIu64 ", expected %" PRIu64, what, in, r, v, (uint64_t) want);
}

/* "I.FFF<suffix>" against ceil(IFFF * mult / 10^k) computed in 128 bits. */
static void test_quantity_property_reference(void **state) {
        static const struct {
                const char *suffix;
                unsigned exp2;
                int exp10;
        } suffixes[] = {
                { "", 0, 0 },     { "k", 0, 3 },    { "M", 0, 6 },    { "m", 0, -3 },  { "n", 0, -9 },
                { "Ki", 10, 0 },  { "Mi", 20, 0 },  { "Gi", 30, 0 },  { "Ti", 40, 0 }, { "e2", 0, 2 },
                { "e-2", 0, -2 }, { "E+4", 0, 4 },
        };

        (void) state;
        for (unsigned n = 0; n < 20000; n++) {
                unsigned si = (unsigned) (rng() % ELEMENTSOF(suffixes));
                unsigned k = (unsigned) (rng() % 7); /* fraction digits */
                uint64_t ip = rng() % 100000, fp = 0, pow10k = 1;
                unsigned __int128 num, den = 1, want_bytes, want_millis;
                char in[64];
                int exp10;

                for (unsigned i = 0; i < k; i++)
                        pow10k *= 10;
                if (k > 0) {
                        fp = rng() % pow10k;
                        snprintf(in, sizeof(in), "%" PRIu64 ".%0*" PRIu64 "%s", ip, (int) k, fp, suffixes[si].suffix);
                } else
                        snprintf(in, sizeof(in), "%" PRIu64 "%s", ip, suffixes[si].suffix);

                /* value = (ip * 10^k + fp) * 2^exp2 * 10^exp10 / 10^k */
                num = ((unsigned __int128) ip * pow10k + fp) << suffixes[si].exp2;
                exp10 = suffixes[si].exp10 - (int) k;
                for (int i = 0; i < exp10; i++)
                        num *= 10;
                for (int i = exp10; i < 0; i++)
                        den *= 10;
                want_bytes = (num + den - 1) / den;
                want_millis = (num * 1000 + den - 1) / den;

                check_reference("quantity_parse_bytes", quantity_parse_bytes, in, want_bytes);
                check_reference("quantity_parse_millis", quantity_parse_millis, in, want_millis);
        }
}

static void test_quantity_null_args(void **state) {
        uint64_t v;

        (void) state;
        assert_int_equal(quantity_parse_bytes(NULL, &v), -EINVAL);
        assert_int_equal(quantity_parse_millis("1", NULL), -EINVAL);
        assert_int_equal(duration_parse_ms(NULL, &v), -EINVAL);
}

/* ---------------------------------------------------------------- durations */

static void test_quantity_duration_parse(void **state) {
        static const struct row rows[] = {
                { "0", 0, 0 },
                { "-0", 0, 0 },
                { "+0", 0, 0 },
                { "0s", 0, 0 },
                { "-0s", 0, 0 },
                { "0h0m0s", 0, 0 },
                { "1ns", 0, 1 },
                { "999999ns", 0, 1 },
                { "1000000ns", 0, 1 },
                { "1000001ns", 0, 2 },
                { "1us", 0, 1 },
                { "1\xc2\xb5s", 0, 1 },
                { "1\xce\xbcs", 0, 1 },
                { "1000us", 0, 1 },
                { "1001us", 0, 2 },
                { "300us", 0, 1 },
                { "100ms", 0, 100 },
                { "1ms", 0, 1 },
                { "1.0001ms", 0, 2 },
                { "1.000000ms", 0, 1 },
                { "1.0000001ms", 0, 1 },         /* 1000000.1ns, truncated to ns by Go */
                { "1.000001ms", 0, 2 },
                { "1.5s", 0, 1500 },
                { "1.001s", 0, 1001 },
                { ".5s", 0, 500 },
                { "1.s", 0, 1000 },
                { "+5s", 0, 5000 },
                { "30s", 0, 30000 },
                { "2m", 0, 120000 },
                { "1h30m", 0, 5400000 },
                { "1h0m5s", 0, 3605000 },
                { "1.5h", 0, 5400000 },
                { "1h1h", 0, 7200000 },          /* Go allows repeated units */
                { "1s1h", 0, 3601000 },
                { "1.5m", 0, 90000 },
                { "0.5ms0.5ms", 0, 1 },
                { "1m1.5s", 0, 61500 },
                { "3h2m1s4ms5us6ns", 0, UINT64_C(10921005) },
                { "2562047h", 0, UINT64_C(9223369200000) },
                { "2562047h47m16.854775807s", 0, UINT64_C(9223372036855) },
                { "9223372036854775807ns", 0, UINT64_C(9223372036855) },
                { "0.0000000001s", 0, 0 },         /* below 1ns: Go truncates to 0 */
                { "-0.0000000001s", 0, 0 },
                { "0.100000000000000000000h", 0, 360000 },
                { "0.0000000000000000000000000000000000000001h", 0, 0 },
                { "1.00000000000000000000000000000000000000001s", 0, 1000 },
                { "00001s", 0, 1000 },
        };
        (void) state;
        CHECK_DURATION(rows);
}

static void test_quantity_duration_invalid(void **state) {
        static const struct row rows[] = {
                { "", -EINVAL, 0 },
                { "-", -EINVAL, 0 },
                { "+", -EINVAL, 0 },
                { "1", -EINVAL, 0 },
                { "00", -EINVAL, 0 },
                { "1.5", -EINVAL, 0 },
                { "1x", -EINVAL, 0 },
                { "h", -EINVAL, 0 },
                { ".s", -EINVAL, 0 },
                { "-.s", -EINVAL, 0 },
                { ".", -EINVAL, 0 },
                { "1h30", -EINVAL, 0 },
                { "1h 30m", -EINVAL, 0 },
                { " 1s", -EINVAL, 0 },
                { "1s ", -EINVAL, 0 },
                { "1S", -EINVAL, 0 },
                { "1H", -EINVAL, 0 },
                { "1sec", -EINVAL, 0 },
                { "1d", -EINVAL, 0 },
                { "1hm", -EINVAL, 0 },
                { "1e3s", -EINVAL, 0 },
                { "--1s", -EINVAL, 0 },
                { "1..5s", -EINVAL, 0 },
                { "1.5.5s", -EINVAL, 0 },
                { "1\xc2s", -EINVAL, 0 },
                { "1\xb5s", -EINVAL, 0 },
                { "1-1s", -EINVAL, 0 },
                /* syntax wins over overflow */
                { "99999999999999999999999h1x", -EINVAL, 0 },
        };
        (void) state;
        CHECK_DURATION(rows);
}

static void test_quantity_duration_range(void **state) {
        static const struct row rows[] = {
                { "-1s", -ERANGE, 0 },
                { "-1ns", -ERANGE, 0 },
                { "-1h30m", -ERANGE, 0 },
                { "9999999h", -ERANGE, 0 },
                { "2562048h", -ERANGE, 0 },
                { "2562047h47m16.854775808s", -ERANGE, 0 },
                { "9223372036854775808ns", -ERANGE, 0 },
                { "9223372036854775807ns1ns", -ERANGE, 0 },
                { "99999999999999999999999ns", -ERANGE, 0 },
                { "2562047h2562047h", -ERANGE, 0 },
                { "-9999999h", -ERANGE, 0 },
        };
        (void) state;
        CHECK_DURATION(rows);
}

static void test_quantity_duration_format(void **state) {
        static const struct {
                uint64_t ms;
                const char *out;
        } rows[] = {
                { 0, "0s" },
                { 1, "1ms" },
                { 100, "100ms" },
                { 999, "999ms" },
                { 1000, "1s" },
                { 1001, "1.001s" },
                { 1010, "1.01s" },
                { 1500, "1.5s" },
                { 30000, "30s" },
                { 59999, "59.999s" },
                { 60000, "1m" },
                { 90000, "1m30s" },
                { 60500, "1m0.5s" },
                { 3600000, "1h" },
                { 3605000, "1h0m5s" },
                { 3600001, "1h0m0.001s" },
                { 5400000, "1h30m" },
                { 5430000, "1h30m30s" },
                { 86400000, "24h" },
                { DURATION_MS_MAX, "2562047h47m16.854s" },
                { UINT64_MAX, "5124095576030h25m51.615s" },
        };
        char buf[64];

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                int r = duration_format_ms(rows[i].ms, buf, sizeof(buf));

                assert_int_equal(r, strlen(rows[i].out));
                assert_string_equal(buf, rows[i].out);
        }
}

static void test_quantity_duration_format_enobufs(void **state) {
        char buf[8];

        (void) state;
        memset(buf, 'x', sizeof(buf));
        assert_int_equal(duration_format_ms(5430000, buf, sizeof(buf)), -ENOBUFS); /* "1h30m30s" + NUL */
        assert_int_equal(buf[0], 'x');
        assert_int_equal(duration_format_ms(5430000, buf, 0), -ENOBUFS);
        assert_int_equal(duration_format_ms(0, buf, 2), -ENOBUFS);
        assert_int_equal(duration_format_ms(0, buf, 3), 2);
        assert_string_equal(buf, "0s");
        assert_int_equal(duration_format_ms(5400000, buf, 6), 5);
        assert_string_equal(buf, "1h30m");
}

static void roundtrip(uint64_t ms) {
        char buf[64];
        uint64_t back = UINT64_MAX;
        int r;

        r = duration_format_ms(ms, buf, sizeof(buf));
        if (r < 0)
                fail_msg("duration_format_ms(%" PRIu64 ") = %d", ms, r);
        r = duration_parse_ms(buf, &back);
        if (r < 0 || back != ms)
                fail_msg("duration_parse_ms(\"%s\") = %d, %" PRIu64 ", expected %" PRIu64, buf, r, back, ms);
}

static void test_quantity_duration_roundtrip(void **state) {
        static const uint64_t special[] = {
                3599999, 3600000, 3600001, 86399999, 86400000, UINT64_C(1) << 32,
                UINT64_C(9223372036), DURATION_MS_MAX - 1, DURATION_MS_MAX,
        };
        char buf[64];
        uint64_t v;

        (void) state;
        for (uint64_t ms = 0; ms <= 100000; ms++)
                roundtrip(ms);
        for (uint64_t ms = 100000; ms < UINT64_C(100000000); ms += 997)
                roundtrip(ms);
        for (size_t i = 0; i < ELEMENTSOF(special); i++)
                roundtrip(special[i]);
        for (unsigned i = 0; i < 100000; i++)
                roundtrip(rng() % (DURATION_MS_MAX + 1));
        for (unsigned i = 0; i < 64; i++)
                roundtrip((UINT64_C(1) << (i * 43 / 64)) - 1);

        /* Past Go's int64 nanoseconds the text still formats but does not
         * parse. */
        assert_return_code(duration_format_ms(DURATION_MS_MAX + 1, buf, sizeof(buf)), 0);
        assert_int_equal(duration_parse_ms(buf, &v), -ERANGE);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_quantity_bytes_suffixes),
                cmocka_unit_test(test_quantity_bytes_fractions),
                cmocka_unit_test(test_quantity_millis),
                cmocka_unit_test(test_quantity_k8s_equivalences),
                cmocka_unit_test(test_quantity_invalid),
                cmocka_unit_test(test_quantity_digitless_is_zero),
                cmocka_unit_test(test_quantity_range),
                cmocka_unit_test(test_quantity_long_digit_strings),
                cmocka_unit_test(test_quantity_property_reference),
                cmocka_unit_test(test_quantity_null_args),
                cmocka_unit_test(test_quantity_duration_parse),
                cmocka_unit_test(test_quantity_duration_invalid),
                cmocka_unit_test(test_quantity_duration_range),
                cmocka_unit_test(test_quantity_duration_format),
                cmocka_unit_test(test_quantity_duration_format_enobufs),
                cmocka_unit_test(test_quantity_duration_roundtrip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
