#include "stats.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <boost/math/distributions/students_t.hpp>

namespace arcsim::experiments {

double t975(double df) {
  if (!(df > 0)) throw std::invalid_argument("t975: degrees of freedom must be > 0");
  return boost::math::quantile(boost::math::students_t(df), 0.975);
}

std::optional<double> sample_sd(const std::vector<double>& xs) {
  if (xs.size() < 2) return std::nullopt;
  double m = 0;
  for (double x : xs) m += x;
  m /= static_cast<double>(xs.size());
  double s = 0;
  for (double x : xs) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(xs.size() - 1));
}

namespace {

constexpr double kInvSqrt2Pi = 0.3989422804014327;

// log Phi(z) and the ratio phi(z) / Phi(z), stable far into the lower tail (erfc keeps relative
// precision there; below z = -37 it underflows and the asymptotic Mills ratio takes over).
double log_cdf(double z) {
  if (z > -37) return std::log(0.5 * std::erfc(-z / std::sqrt(2.0)));
  return -0.5 * z * z - std::log(-z) - std::log(std::sqrt(2 * M_PI));
}
double pdf_over_cdf(double z) {
  if (z > -37) return kInvSqrt2Pi * std::exp(-0.5 * z * z) / (0.5 * std::erfc(-z / std::sqrt(2.0)));
  return -z - 1 / z;  // Mills ratio asymptote
}

// Olsen's parametrisation: gamma = mu / sigma, h = 1 / sigma. An observation y enters through
// z = h y - gamma: exact as log h + log phi(z); above (true value >= y) as log Phi(-z);
// below (<= y) as log Phi(z). The sum is concave in (gamma, h).
struct Fit {
  double loglik = 0;
  double g[2] = {0, 0};                 // gradient in (gamma, h)
  double H[2][2] = {{0, 0}, {0, 0}};    // Hessian
};

Fit evaluate(const std::vector<Observation>& obs, double gamma, double h) {
  Fit f;
  for (const auto& o : obs) {
    const double y = o.value, z = h * y - gamma;
    if (o.censoring == Censoring::none) {
      f.loglik += std::log(h) - 0.5 * z * z;
      f.g[0] += z;
      f.g[1] += 1 / h - z * y;
      f.H[0][0] += -1;
      f.H[0][1] += y;
      f.H[1][1] += -1 / (h * h) - y * y;
      continue;
    }
    // Both censored kinds as log Phi(s z) with s = +1 (below) or -1 (above).
    const double s = o.censoring == Censoring::below ? 1.0 : -1.0;
    const double u = s * z, m = pdf_over_cdf(u);
    const double d1 = s * m;             // d/dz log Phi(s z)
    const double d2 = -m * (m + u);      // d2/dz2 (s^2 = 1)
    f.loglik += log_cdf(u);
    f.g[0] += -d1;                       // dz/dgamma = -1
    f.g[1] += d1 * y;                    // dz/dh = y
    f.H[0][0] += d2;
    f.H[0][1] += -d2 * y;
    f.H[1][1] += d2 * y * y;
  }
  f.H[1][0] = f.H[0][1];
  return f;
}

// Mean and sample sd of the exact observations.
void exact_moments(const std::vector<Observation>& obs, double& mean, double& sd, int& n) {
  std::vector<double> xs;
  for (const auto& o : obs)
    if (o.censoring == Censoring::none) xs.push_back(o.value);
  n = static_cast<int>(xs.size());
  mean = 0;
  for (double x : xs) mean += x;
  mean /= std::max(n, 1);
  sd = sample_sd(xs).value_or(0.0);
}

}  // namespace

std::optional<CenterEstimate> censored_center(const std::vector<Observation>& obs) {
  for (const auto& o : obs)
    if (!std::isfinite(o.value)) throw std::invalid_argument("censored_center: a non-finite observation");
  CenterEstimate e;
  double mean = 0, sd = 0;
  exact_moments(obs, mean, sd, e.exact);
  e.censored = static_cast<int>(obs.size()) - e.exact;
  if (e.exact == 0) return std::nullopt;
  if (e.censored == 0) {  // the exact Student-t interval
    e.center = mean;
    if (e.exact >= 2) {
      const double half = t975(e.exact - 1) * sd / std::sqrt(static_cast<double>(e.exact));
      e.ci95 = Interval{mean - half, mean + half};
    }
    return e;
  }
  e.maximum_likelihood = true;
  // Scale: the spread of everything observed, so a floor on sigma is relative to the data (a
  // sample whose exact values coincide would otherwise drive sigma to 0 and the likelihood up
  // without bound when the censored bounds agree with them).
  double lo = obs.front().value, hi = lo;
  for (const auto& o : obs) {
    lo = std::min(lo, o.value);
    hi = std::max(hi, o.value);
  }
  const double scale = std::max({hi - lo, std::fabs(mean) * 1e-3, 1e-9});
  const double h_max = 1e6 / scale;
  double sigma0 = sd > 0 ? sd : scale;
  double gamma = mean / sigma0, h = 1 / sigma0;
  Fit f = evaluate(obs, gamma, h);
  for (int it = 0; it < 200; ++it) {
    const double det = f.H[0][0] * f.H[1][1] - f.H[0][1] * f.H[1][0];
    double dg = 0, dh = 0;
    if (det > 0 && f.H[0][0] < 0) {  // negative definite: the Newton step
      dg = -(f.H[1][1] * f.g[0] - f.H[0][1] * f.g[1]) / det;
      dh = -(-f.H[1][0] * f.g[0] + f.H[0][0] * f.g[1]) / det;
    } else {  // gradient ascent, scaled
      dg = f.g[0] * 1e-2;
      dh = f.g[1] * 1e-2 * h * h;
    }
    double step = 1;
    bool accepted = false;
    for (int k = 0; k < 60 && !accepted; ++k, step *= 0.5) {
      const double ng = gamma + step * dg, nh = std::min(h + step * dh, h_max);
      if (!(nh > 0)) continue;
      const Fit next = evaluate(obs, ng, nh);
      if (!std::isfinite(next.loglik) || next.loglik < f.loglik - 1e-12 * std::fabs(f.loglik)) continue;
      const double change = std::fabs(ng - gamma) + std::fabs(nh - h) * scale;
      gamma = ng;
      h = nh;
      f = next;
      accepted = change > 1e-13 * (1 + std::fabs(gamma));
    }
    if (!accepted || std::fabs(f.g[0]) + std::fabs(f.g[1]) / h < 1e-10) break;
  }
  e.center = gamma / h;
  // Wald interval for mu = gamma / h from the observed information (-H)^-1 by the delta method.
  const double a = -f.H[0][0], b = -f.H[0][1], d = -f.H[1][1];
  const double det = a * d - b * b;
  if (e.exact >= 2 && det > 0) {
    const double cov_gg = d / det, cov_gh = -b / det, cov_hh = a / det;
    const double dmu_dg = 1 / h, dmu_dh = -gamma / (h * h);
    double var = dmu_dg * dmu_dg * cov_gg + 2 * dmu_dg * dmu_dh * cov_gh + dmu_dh * dmu_dh * cov_hh;
    var = std::max(var, 0.0) * e.exact / (e.exact - 1.0);
    const double half = t975(e.exact - 1) * std::sqrt(var);
    e.ci95 = Interval{e.center - half, e.center + half};
  }
  return e;
}

std::optional<TimeEstimate> lognormal_time(const std::vector<TimeSample>& xs) {
  std::vector<Observation> obs;
  for (const auto& x : xs) {
    if (!(x.seconds > 0) || !std::isfinite(x.seconds)) throw std::invalid_argument("lognormal_time: a time <= 0");
    obs.push_back({std::log(x.seconds), x.reached ? Censoring::none : Censoring::above});
  }
  const auto c = censored_center(obs);
  if (!c) return std::nullopt;
  TimeEstimate t;
  t.center = std::exp(c->center);
  if (c->ci95) t.ci95 = Interval{std::exp(c->ci95->lo), std::exp(c->ci95->hi)};
  t.reached = c->exact;
  t.censored = c->censored;
  return t;
}

std::optional<PairedSpeedup> paired_speedup(const std::vector<TimeSample>& base, const std::vector<TimeSample>& mine,
                                            int min_exact) {
  if (base.size() != mine.size()) throw std::invalid_argument("paired_speedup: samples of unequal size");
  PairedSpeedup p;
  p.pairs = static_cast<int>(base.size());
  std::vector<Observation> obs;
  for (std::size_t i = 0; i < base.size(); ++i) {
    const TimeSample &b = base[i], &m = mine[i];
    if (!(b.seconds > 0) || !(m.seconds > 0)) throw std::invalid_argument("paired_speedup: a time <= 0");
    const double y = std::log(b.seconds / m.seconds);
    if (b.reached && m.reached) obs.push_back({y, Censoring::none});
    else if (b.reached) obs.push_back({y, Censoring::below});  // mine > its budget: ratio below y
    else if (m.reached) obs.push_back({y, Censoring::above});  // base > its budget: ratio above y
    else ++p.uninformative;
  }
  const auto c = censored_center(obs);
  if (!c || c->exact < min_exact) return std::nullopt;
  p.exact = c->exact;
  p.censored = c->censored;
  p.value = std::exp(c->center);
  if (c->ci95) p.ci95 = Interval{std::exp(c->ci95->lo), std::exp(c->ci95->hi)};
  return p;
}

}  // namespace arcsim::experiments
