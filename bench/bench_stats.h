/* SPDX-License-Identifier: MIT */
/*
 * bench_stats: percentiles and medians for the event benchmarks. Pure.
 */
#ifndef BB_BENCH_BENCH_STATS_H
#define BB_BENCH_BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

/** Sorts @v (@n values) ascending in place. */
void bench_sort_i64(int64_t *v, size_t n);

/**
 * Nearest-rank percentile @p (0..100) of the ascending @sorted (@n values):
 * the smallest value with at least p% of the values at or below it. 0 when
 * @n is 0.
 */
int64_t bench_percentile_i64(const int64_t *sorted, size_t n, double p);

/** Median of @n doubles (copied, not reordered); the mean of the middle two
 * for even @n, 0 for none. */
double bench_median(const double *v, size_t n);

#endif
