#pragma once
// Host-side scalar statistics of the threshold estimators: the normal quantile (GaussianK) and the
// distribution fits of SIDCo (exponential, gamma, generalized Pareto), each turning the moment
// sums of one pass (kernels/primitives.hpp) into a threshold. Double precision, no device code:
// the same scalars feed every backend, so thresholds agree wherever the sums do.
#include <cstdint>

namespace arcsim::kernels::threshold {

// z with P(Z > z) = p for a standard normal Z, p in (0, 1): Acklam's rational approximation
// refined by two Halley steps on erfc (|error| < 1e-14 in z).
double normal_upper_quantile(double p);

// Regularized upper incomplete gamma Q(a, x) = Gamma(a, x) / Gamma(a), a > 0, x >= 0 (series for
// x < a + 1, Lentz continued fraction otherwise; relative accuracy ~1e-14).
double gamma_q(double a, double x);
// x with Q(a, x) = p, p in (0, 1]: bracketing and bisection on x (deterministic, 200 halvings at
// most, stops when the bracket is within 1e-13 relative).
double gamma_upper_quantile(double a, double p);

// The tail fits of SIDCo on exceedances e > 0 with count c, sum s1, sum of squares s2 and sum of
// logs slog, for a tail probability p in (0, 1] among them: the excess over the current
// threshold at which the fitted distribution's upper tail is p.
//  exponential: mean * (-ln p)
//  gamma:       shape by Minka's closed form from s = ln(mean) - mean(ln e),
//               a = (3 - s + sqrt((s - 3)^2 + 24 s)) / (12 s), scale = mean / a; Q^-1(a, p) * scale
//               (s <= 1e-12, a constant sample, falls back to the mean)
//  pareto:      generalized Pareto by the method of moments, xi = (1 - mean^2 / var) / 2,
//               sigma = mean (mean^2 / var + 1) / 2; sigma / xi (p^-xi - 1), or -sigma ln p for
//               |xi| < 1e-9; var <= 0 falls back to the exponential
struct Exceedances {
  std::uint64_t count = 0;
  double sum = 0, sum_sq = 0, sum_log = 0;
};
double exponential_excess(const Exceedances& e, double p);
double gamma_excess(const Exceedances& e, double p);
double pareto_excess(const Exceedances& e, double p);

}  // namespace arcsim::kernels::threshold
