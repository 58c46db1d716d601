#include "stats.hpp"

#include <cmath>
#include <stdexcept>

#include <boost/math/distributions/students_t.hpp>

namespace arcsim::experiments {

double t975(double df) {
  if (!(df > 0)) throw std::invalid_argument("t975: degrees of freedom must be > 0");
  return boost::math::quantile(boost::math::students_t(df), 0.975);
}

namespace {

double mean_of(const std::vector<double>& xs) {
  double s = 0;
  for (double x : xs) s += x;
  return s / static_cast<double>(xs.size());
}

// Sample variance (n - 1).
double var_of(const std::vector<double>& xs, double m) {
  double s = 0;
  for (double x : xs) s += (x - m) * (x - m);
  return s / static_cast<double>(xs.size() - 1);
}

}  // namespace

Summary summarize(const std::vector<double>& xs) {
  Summary s;
  s.n = static_cast<int>(xs.size());
  if (xs.empty()) return s;
  s.mean = mean_of(xs);
  if (s.n < 2) return s;
  s.sd = std::sqrt(var_of(xs, s.mean));
  const double half = t975(s.n - 1) * *s.sd / std::sqrt(static_cast<double>(s.n));
  s.ci95 = Interval{s.mean - half, s.mean + half};
  return s;
}

std::optional<Ratio> ratio_of_means(const std::vector<double>& a, const std::vector<double>& b, bool paired) {
  if (a.empty() || b.empty()) return std::nullopt;
  for (double x : a)
    if (!(x > 0)) return std::nullopt;
  for (double x : b)
    if (!(x > 0)) return std::nullopt;
  if (paired && a.size() != b.size()) throw std::invalid_argument("ratio_of_means: paired samples of unequal size");
  const double ma = mean_of(a), mb = mean_of(b);
  Ratio r;
  r.value = ma / mb;
  r.paired = paired;
  if (a.size() < 2 || b.size() < 2) return r;
  const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
  // Relative variances of the two means (the delta method on log mean).
  const double ua = var_of(a, ma) / (na * ma * ma), ub = var_of(b, mb) / (nb * mb * mb);
  double se2 = ua + ub, df = 0;
  if (paired) {
    double cov = 0;
    for (std::size_t i = 0; i < a.size(); ++i) cov += (a[i] - ma) * (b[i] - mb);
    cov /= na - 1;
    se2 -= 2 * cov / (na * ma * mb);
    df = na - 1;
  } else {
    const double den = ua * ua / (na - 1) + ub * ub / (nb - 1);
    df = den > 0 ? se2 * se2 / den : na + nb - 2;
  }
  se2 = std::max(se2, 0.0);
  const double half = t975(df) * std::sqrt(se2);
  r.ci95 = Interval{r.value * std::exp(-half), r.value * std::exp(half)};
  return r;
}

}  // namespace arcsim::experiments
