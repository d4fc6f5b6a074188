/* quantity.h: Kubernetes resource.Quantity and Go/Kubernetes durations.
 *
 * Quantities follow k8s.io/apimachinery/pkg/api/resource exactly: an optional
 * sign, digits with an optional fraction ("1.", ".5" are fine), then one
 * suffix: binary Ki Mi Gi Ti Pi Ei, decimal n u m "" k M G T P E, or a decimal
 * exponent e<int>/E<int> ("129e6", "1.3E+6"). Results are rounded up, as
 * Quantity.Value() and MilliValue() do. Pure functions, no allocation. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* "128974848", "129e6", "129M", "123Mi", "0.5Gi" -> bytes (rounded up).
 * -EINVAL: not a quantity; -ERANGE: negative, or larger than INT64_MAX. */
int quantity_parse_bytes(const char *s, uint64_t *ret);

/* "500m", "0.5", "2" -> millicores (rounded up). Same errors. */
int quantity_parse_millis(const char *s, uint64_t *ret);

/* Go duration ("100ms", "1.5s", "2m", "1h30m", "300us", "0") -> milliseconds,
 * rounded up to the next millisecond. Units: ns us µs ms s m h. A number
 * without unit other than "0" is -EINVAL; negative or overflowing is -ERANGE. */
int duration_parse_ms(const char *s, uint64_t *ret);

/* Formats milliseconds the way Go's Duration.String() would, minus trailing
 * zero units: 100 -> "100ms", 1500 -> "1.5s", 90000 -> "1m30s", 0 -> "0s".
 * Returns the length written or -ENOBUFS. */
int duration_format_ms(uint64_t ms, char *buf, size_t size);
