/* quantity.c: Kubernetes resource quantities and Go durations, see quantity.h.
 *
 * Manifests carry limits as Kubernetes writes them ("512Mi", "250m", "1.5")
 * and timeouts as Go durations ("1m30s"). Users copy these from Kubernetes
 * YAML, so the grammar follows apimachinery's parseQuantityString() and Go's
 * time.ParseDuration() character for character, and never goes through a
 * double: a value is kept as a digit string, a power of ten and a power of
 * two until the final, exactly rounded-up integer is known. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "quantity.h"

typedef unsigned __int128 uint128_t;

static bool ascii_isdigit(char c) {
        return c >= '0' && c <= '9';
}

/* ---------------------------------------------------------------- quantities */

/* The digits of "123.4500": integer part (leading zeros already gone) and
 * fraction part, addressed as one digit sequence. */
struct mantissa {
        const char *ip;
        size_t in;
        const char *fp;
        size_t fn;
};

static unsigned mantissa_digit(const struct mantissa *m, int64_t i) {
        return (unsigned) ((size_t) i < m->in ? m->ip[i] - '0' : m->fp[(size_t) i - m->in] - '0');
}

static const struct {
        const char *name;
        int exp10;
} decimal_suffixes[] = {
        { "n", -9 }, { "u", -6 }, { "m", -3 }, { "", 0 },
        { "k", 3 },  { "M", 6 },  { "G", 9 },  { "T", 12 },
        { "P", 15 }, { "E", 18 },
};

static const struct {
        const char *name;
        unsigned exp2;
} binary_suffixes[] = {
        { "Ki", 10 }, { "Mi", 20 }, { "Gi", 30 }, { "Ti", 40 }, { "Pi", 50 }, { "Ei", 60 },
};

/* Go's strconv.ParseInt(s, 10, 64) on what follows "e"/"E": an optional
 * sign and at least one digit, in int64 range. The magnitude is then clamped
 * to `limit`: any exponent beyond the length of the input already decides the
 * outcome (overflow, or a non-zero value far below 1), so clamping keeps the
 * arithmetic below in int64 without changing a result. Kubernetes truncates
 * the exponent to int32 ("1e4294967299" == "1e3"); we do not copy that. */
static int parse_exponent(const char *s, int64_t limit, int64_t *ret) {
        bool negative = false;
        uint64_t mag = 0;
        bool big = false;

        if (*s == '+' || *s == '-') {
                negative = *s == '-';
                s++;
        }
        if (!*s)
                return -EINVAL;
        for (; *s; s++) {
                if (!ascii_isdigit(*s))
                        return -EINVAL;
                if (mag > (UINT64_MAX - 9) / 10)
                        big = true;
                else
                        mag = mag * 10 + (uint64_t) (*s - '0');
        }
        /* ParseInt's range: -2^63 .. 2^63-1. */
        if (big || mag > (uint64_t) INT64_MAX + (negative ? 1 : 0))
                return -EINVAL;

        mag = MIN(mag, (uint64_t) limit);
        *ret = negative ? -(int64_t) mag : (int64_t) mag;
        return 0;
}

/* apimachinery's suffixHandler.interpret(): exact table matches first, then
 * a decimal exponent. */
static int suffix_interpret(const char *suffix, int64_t limit, int64_t *ret_exp10, unsigned *ret_exp2) {
        for (size_t i = 0; i < ELEMENTSOF(decimal_suffixes); i++)
                if (streq(suffix, decimal_suffixes[i].name)) {
                        *ret_exp10 = decimal_suffixes[i].exp10;
                        *ret_exp2 = 0;
                        return 0;
                }
        for (size_t i = 0; i < ELEMENTSOF(binary_suffixes); i++)
                if (streq(suffix, binary_suffixes[i].name)) {
                        *ret_exp10 = 0;
                        *ret_exp2 = binary_suffixes[i].exp2;
                        return 0;
                }
        if ((suffix[0] == 'e' || suffix[0] == 'E') && suffix[1] != '\0') {
                *ret_exp2 = 0;
                return parse_exponent(suffix + 1, limit, ret_exp10);
        }
        return -EINVAL;
}

/* parseQuantityString()'s suffix scan: [eEinumkKMGTP]* [+-]? [0-9]* and the
 * end of the string. Anything else (spaces, "B", "0x") is a format error. */
static bool suffix_well_formed(const char *p) {
        p += strspn(p, "eEinumkKMGTP");
        if (*p == '+' || *p == '-')
                p++;
        while (ascii_isdigit(*p))
                p++;
        return *p == '\0';
}

/* ceil(value * 10^scale10), value being the quantity in s. */
static int quantity_parse(const char *s, int scale10, uint64_t *ret) {
        struct mantissa m = {};
        bool negative = false, any_digit = false;
        const char *p = s;
        int64_t exp10, limit, lo, hi, e, intdigits;
        unsigned exp2;
        uint64_t ipart = 0;
        uint128_t carry = 0, total;
        bool inexact = false;
        int r;

        if (!s || !ret)
                return -EINVAL;
        if (!*s)
                return -EINVAL;

        if (*p == '+' || *p == '-') {
                negative = *p == '-';
                p++;
        }
        while (*p == '0') {
                any_digit = true;
                p++;
        }
        m.ip = p;
        while (ascii_isdigit(*p))
                p++;
        m.in = (size_t) (p - m.ip);
        m.fp = p;
        if (*p == '.') {
                /* "1." and "." are accepted, as Kubernetes does (see the TODO
                 * in parseQuantityString()). */
                m.fp = ++p;
                while (ascii_isdigit(*p))
                        p++;
                m.fn = (size_t) (p - m.fp);
        }
        any_digit = any_digit || m.in > 0 || m.fn > 0;

        if (!suffix_well_formed(p))
                return -EINVAL;
        limit = (int64_t) strlen(s) + 64;
        r = suffix_interpret(p, limit, &exp10, &exp2);
        if (r < 0)
                return r;

        /* Kubernetes quirk, kept for compatibility: a quantity without any
         * digit ("Mi", "-", ".", "k") is 0, but one whose exponent is below
         * nano ("e-10") takes inf.Dec's slow path, which rejects it. */
        if (!any_digit && exp10 < -9)
                return -EINVAL;

        /* Significant digits [lo, hi) of the digit sequence. */
        lo = 0;
        hi = (int64_t) (m.in + m.fn);
        while (lo < hi && mantissa_digit(&m, lo) == 0)
                lo++;
        if (lo == hi) {
                *ret = 0; /* "-0" and "-0.0Ki" are fine */
                return 0;
        }
        if (negative)
                return -ERANGE;
        while (mantissa_digit(&m, hi - 1) == 0)
                hi--;

        /* value = digits[lo, hi) * 10^e * 2^exp2, and intdigits is the number
         * of digits left of the decimal point once 10^e is applied. The first
         * digit is non-zero, so 20 or more integer digits are >= 10^19. */
        e = (int64_t) m.in - hi + exp10 + scale10;
        intdigits = e + (hi - lo);
        if (intdigits > 19)
                return -ERANGE;

        /* Integer part: at most 19 digits, < 10^19 < 2^64. */
        for (int64_t i = 0; i < intdigits; i++)
                ipart = ipart * 10 + (lo + i < hi ? mantissa_digit(&m, lo + i) : 0);

        /* Fraction part f = 0.ddd (with -intdigits zeros in front when the
         * value is below 0.1): ceil(f * 2^exp2) by long multiplication from
         * the last digit, like by hand. The carry stays below 2^exp2 and each
         * step below 10 * 2^60, so nothing overflows, however long the
         * digit string. */
        for (int64_t i = hi - 1; i >= lo + MAX(intdigits, (int64_t) 0); i--) {
                uint128_t t = ((uint128_t) mantissa_digit(&m, i) << exp2) + carry;
                inexact = inexact || t % 10 != 0;
                carry = t / 10;
        }
        /* Leading zeros of the fraction only divide the carry by ten; once it
         * is 0 the rest are 0 too, so a huge negative exponent costs nothing. */
        for (int64_t z = intdigits; z < 0 && carry > 0; z++) {
                inexact = inexact || carry % 10 != 0;
                carry /= 10;
        }

        total = ((uint128_t) ipart << exp2) + carry + (inexact ? 1 : 0);
        if (total > INT64_MAX)
                return -ERANGE;

        *ret = (uint64_t) total;
        return 0;
}

int quantity_parse_bytes(const char *s, uint64_t *ret) {
        return quantity_parse(s, 0, ret);
}

int quantity_parse_millis(const char *s, uint64_t *ret) {
        return quantity_parse(s, 3, ret);
}

/* ---------------------------------------------------------------- durations */

#define NSEC_PER_MSEC UINT64_C(1000000)

static const struct {
        const char *name;
        uint64_t nsec;
} duration_units[] = {
        { "ns", 1 },
        { "us", 1000 },
        { "\xc2\xb5s", 1000 }, /* U+00B5 MICRO SIGN */
        { "\xce\xbcs", 1000 }, /* U+03BC GREEK SMALL LETTER MU */
        { "ms", NSEC_PER_MSEC },
        { "s", 1000 * NSEC_PER_MSEC },
        { "m", 60 * 1000 * NSEC_PER_MSEC },
        { "h", 60 * 60 * 1000 * NSEC_PER_MSEC },
};

static uint64_t duration_unit_lookup(const char *u, size_t n) {
        for (size_t i = 0; i < ELEMENTSOF(duration_units); i++)
                if (strlen(duration_units[i].name) == n && memcmp(duration_units[i].name, u, n) == 0)
                        return duration_units[i].nsec;
        return 0;
}

/* time.ParseDuration(): [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+ or "0". The sum is
 * Go's int64 nanoseconds, a fraction contributing floor(f * unit / 10^k) as
 * Go does (computed exactly here where Go uses float64), then rounded up to
 * milliseconds. Syntax is checked to the end before overflow is reported, so
 * garbage is always -EINVAL. */
int duration_parse_ms(const char *s, uint64_t *ret) {
        const uint64_t max = UINT64_C(1) << 63;
        bool negative = false, overflow = false;
        uint128_t total = 0;
        const char *p = s;

        if (!s || !ret)
                return -EINVAL;

        if (*p == '-' || *p == '+') {
                negative = *p == '-';
                p++;
        }
        if (streq(p, "0")) {
                *ret = 0;
                return 0;
        }
        if (!*p)
                return -EINVAL;

        while (*p) {
                uint64_t v = 0, f = 0, unit;
                bool v_overflow = false, f_full = false;
                unsigned fdigits = 0;
                bool pre, post = false;
                const char *start;

                if (!(*p == '.' || ascii_isdigit(*p)))
                        return -EINVAL;

                /* leadingInt(): at most 2^63. */
                for (start = p; ascii_isdigit(*p); p++) {
                        if (v_overflow)
                                continue;
                        if (v > max / 10) {
                                v_overflow = true;
                                continue;
                        }
                        v = v * 10 + (uint64_t) (*p - '0');
                        if (v > max)
                                v_overflow = true;
                }
                pre = p != start;

                /* leadingFraction(): digits past what fits are dropped. */
                if (*p == '.') {
                        for (start = ++p; ascii_isdigit(*p); p++) {
                                uint64_t y;

                                if (f_full)
                                        continue;
                                if (f > (max - 1) / 10) {
                                        f_full = true;
                                        continue;
                                }
                                y = f * 10 + (uint64_t) (*p - '0');
                                if (y > max) {
                                        f_full = true;
                                        continue;
                                }
                                f = y;
                                fdigits++;
                        }
                        post = p != start;
                }
                if (!pre && !post) /* ".s", "-.s" */
                        return -EINVAL;

                for (start = p; *p && *p != '.' && !ascii_isdigit(*p); p++)
                        ;
                if (p == start) /* "1", "1.5": missing unit */
                        return -EINVAL;
                unit = duration_unit_lookup(start, (size_t) (p - start));
                if (unit == 0)
                        return -EINVAL;

                if (v_overflow)
                        overflow = true;
                if (overflow)
                        continue;

                /* v <= 2^63 and unit < 2^42: the products fit in 128 bits.
                 * f * unit < 2^105 < 10^32, so 32+ fraction digits add 0. */
                total += (uint128_t) v * unit;
                if (f > 0 && fdigits < 32) {
                        uint128_t pow10 = 1;

                        for (unsigned i = 0; i < fdigits; i++)
                                pow10 *= 10;
                        total += (uint128_t) f * unit / pow10;
                }
                if (total > max)
                        overflow = true;
        }

        if (overflow)
                return -ERANGE;
        if (negative && total != 0)
                return -ERANGE;
        if (total > INT64_MAX)
                return -ERANGE;

        *ret = (uint64_t) ((total + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
        return 0;
}

/* Go's Duration.String() for whole milliseconds, without the zero units Go
 * leaves at the end ("1h30m" rather than "1h30m0s"); inner zero units stay
 * ("1h0m5s"), as Go prints them. Every output parses back to the same value
 * with duration_parse_ms() up to Go's limit of 2^63-1 ns (9223372036854 ms). */
int duration_format_ms(uint64_t ms, char *buf, size_t size) {
        char tmp[64];
        size_t n = 0;
        uint64_t h, m, sec, frac;

        if (!buf && size > 0)
                return -EINVAL;

        if (ms == 0)
                n = (size_t) snprintf(tmp, sizeof(tmp), "0s");
        else if (ms < 1000)
                n = (size_t) snprintf(tmp, sizeof(tmp), "%" PRIu64 "ms", ms);
        else {
                h = ms / 3600000;
                m = ms / 60000 % 60;
                sec = ms / 1000 % 60;
                frac = ms % 1000;

                if (h > 0)
                        n += (size_t) snprintf(tmp + n, sizeof(tmp) - n, "%" PRIu64 "h", h);
                if ((h > 0 || m > 0) && (m > 0 || sec > 0 || frac > 0))
                        n += (size_t) snprintf(tmp + n, sizeof(tmp) - n, "%" PRIu64 "m", m);
                if (sec > 0 || frac > 0) {
                        n += (size_t) snprintf(tmp + n, sizeof(tmp) - n, "%" PRIu64, sec);
                        if (frac > 0) {
                                n += (size_t) snprintf(tmp + n, sizeof(tmp) - n, ".%03" PRIu64, frac);
                                while (tmp[n - 1] == '0')
                                        n--;
                        }
                        tmp[n++] = 's';
                        tmp[n] = '\0';
                }
        }

        if (n + 1 > size)
                return -ENOBUFS;
        memcpy(buf, tmp, n + 1);
        return (int) n;
}
