// Scalar statistics of the threshold estimators (threshold_fit.hpp).
#include "kernels/threshold_fit.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace arcsim::kernels::threshold {

namespace {
constexpr double kSqrt2 = 1.41421356237309504880;
constexpr double kSqrt2Pi = 2.50662827463100050242;

// Lower-tail quantile Phi^-1(q), q in (0, 1) (Acklam's algorithm, then Halley refinement).
double normal_lower_quantile(double q) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01,  -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  constexpr double lo = 0.02425, hi = 1 - lo;
  double x;
  if (q < lo) {
    const double r = std::sqrt(-2 * std::log(q));
    x = (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) /
        ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1);
  } else if (q <= hi) {
    const double r0 = q - 0.5, r = r0 * r0;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * r0 /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double r = std::sqrt(-2 * std::log(1 - q));
    x = -(((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) /
        ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1);
  }
  for (int it = 0; it < 2; ++it) {  // Halley on Phi(x) - q
    const double e = 0.5 * std::erfc(-x / kSqrt2) - q;
    const double u = e * kSqrt2Pi * std::exp(x * x / 2);
    x = x - u / (1 + x * u / 2);
  }
  return x;
}

double check_p(double p, const char* what) {
  if (!(p > 0.0 && p <= 1.0)) throw std::invalid_argument(std::string(what) + ": tail probability must be in (0, 1]");
  return p;
}
}  // namespace

double normal_upper_quantile(double p) {
  if (!(p > 0.0 && p < 1.0)) throw std::invalid_argument("normal_upper_quantile: p must be in (0, 1)");
  return -normal_lower_quantile(p);  // symmetric: accurate in the far upper tail too
}

double gamma_q(double a, double x) {
  if (!(a > 0.0) || !(x >= 0.0)) throw std::invalid_argument("gamma_q: expected a > 0, x >= 0");
  if (x == 0.0) return 1.0;
  const double log_front = -x + a * std::log(x) - std::lgamma(a);
  if (x < a + 1.0) {  // series for P(a, x)
    double term = 1.0 / a, sum = term;
    for (int n = 1; n < 1000; ++n) {
      term *= x / (a + n);
      sum += term;
      if (std::fabs(term) < std::fabs(sum) * 1e-16) break;
    }
    return 1.0 - sum * std::exp(log_front);
  }
  // Continued fraction for Q(a, x) (modified Lentz).
  constexpr double tiny = 1e-300;
  double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
  for (int i = 1; i < 1000; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::fabs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1.0) < 1e-16) break;
  }
  return std::exp(log_front) * h;
}

double gamma_upper_quantile(double a, double p) {
  check_p(p, "gamma_upper_quantile");
  if (p == 1.0) return 0.0;
  double lo = 0.0, hi = std::max(1.0, a);
  for (int i = 0; i < 2000 && gamma_q(a, hi) > p; ++i) hi *= 2.0;
  for (int i = 0; i < 200 && hi - lo > 1e-13 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (gamma_q(a, mid) > p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

double exponential_excess(const Exceedances& e, double p) {
  check_p(p, "exponential fit");
  if (e.count == 0) return 0.0;
  return e.sum / static_cast<double>(e.count) * -std::log(p);
}

double gamma_excess(const Exceedances& e, double p) {
  check_p(p, "gamma fit");
  if (e.count == 0) return 0.0;
  const double c = static_cast<double>(e.count), mean = e.sum / c;
  const double s = std::log(mean) - e.sum_log / c;
  if (!(s > 1e-12)) return mean;  // (near) constant exceedances
  const double shape = (3.0 - s + std::sqrt((s - 3.0) * (s - 3.0) + 24.0 * s)) / (12.0 * s);
  return gamma_upper_quantile(shape, p) * (mean / shape);
}

double pareto_excess(const Exceedances& e, double p) {
  check_p(p, "pareto fit");
  if (e.count == 0) return 0.0;
  const double c = static_cast<double>(e.count), mean = e.sum / c;
  const double var = e.sum_sq / c - mean * mean;
  if (!(var > 0.0)) return exponential_excess(e, p);
  const double r = mean * mean / var;
  const double xi = 0.5 * (1.0 - r), sigma = 0.5 * mean * (r + 1.0);
  if (std::fabs(xi) < 1e-9) return -sigma * std::log(p);
  return sigma / xi * (std::pow(p, -xi) - 1.0);
}

}  // namespace arcsim::kernels::threshold
