#pragma once
// Small statistics over seeds: mean, sample standard deviation, Student-t confidence intervals,
// and the interval of a ratio of two means (a speedup). Every interval here is two-sided at
// 95 % and computed with Student's t quantiles (Boost.Math); docs/experiments.md section 3 states
// the formulas.
#include <optional>
#include <vector>

namespace arcsim::experiments {

struct Interval {
  double lo = 0, hi = 0;
  bool contains(double x) const { return lo <= x && x <= hi; }
};

struct Summary {
  int n = 0;
  double mean = 0;
  std::optional<double> sd;        // sample sd (n - 1 in the denominator); absent for n < 2
  std::optional<Interval> ci95;    // mean +- t(0.975, n-1) sd / sqrt(n); absent for n < 2
};

// The two-sided 95 % Student-t quantile t(0.975, df); df > 0, not necessarily an integer.
double t975(double df);

Summary summarize(const std::vector<double>& xs);

// Ratio R = mean(a) / mean(b) of positive samples, with a 95 % interval by the delta method on
// log R: se^2 = sd_a^2 / (n_a mean_a^2) + sd_b^2 / (n_b mean_b^2) - 2 cov_ab / (n mean_a mean_b),
// interval exp(log R +- t se). `paired` (a[i] and b[i] come from the same seed, n_a == n_b) keeps
// the covariance term and uses n - 1 degrees of freedom; unpaired drops it and uses the
// Welch-Satterthwaite degrees of freedom. No interval when either side has fewer than 2 samples.
struct Ratio {
  double value = 0;
  std::optional<Interval> ci95;
  bool paired = false;
};
std::optional<Ratio> ratio_of_means(const std::vector<double>& a, const std::vector<double>& b, bool paired);

}  // namespace arcsim::experiments
