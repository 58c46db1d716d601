#include "sim/closed_form.hpp"

#include <algorithm>
#include <cmath>

namespace arcsim::sim::closed_form {

namespace {
int ceil_lg(int p) {
  int k = 0;
  while ((1 << k) < p) ++k;
  return k;
}
}  // namespace

double ring_allreduce(double a, double B, int p, double n) {
  return p < 2 ? 0 : 2.0 * (p - 1) * (a + n / p / B);
}
double ring_reduce_scatter(double a, double B, int p, double n) {
  return p < 2 ? 0 : (p - 1) * (a + n / p / B);
}
double ring_allgather(double a, double B, int p, double n) {
  return p < 2 ? 0 : (p - 1) * (a + n / p / B);
}
double bruck_allgather(double a, double B, int p, double n) {
  return p < 2 ? 0 : ceil_lg(p) * a + (p - 1.0) / p * n / B;
}
double rabenseifner_allreduce(double a, double B, int p, double n) {
  if (p < 2) return 0;
  int q = 1;
  while (q * 2 <= p) q *= 2;
  const double core = 2.0 * ceil_lg(q) * a + 2.0 * (q - 1) / q * n / B;
  return q == p ? core : core + 2 * (a + n / B);
}
double binomial_broadcast(double a, double B, int p, double n) {
  return p < 2 ? 0 : ceil_lg(p) * (a + n / B);
}
double chain_broadcast(double a, double B, int p, double n, int chunks) {
  return p < 2 ? 0 : (p - 2.0 + chunks) * (a + n / chunks / B);
}
int chain_chunks(double a, double B, int p, double n) {
  if (p <= 2 || a <= 0) return 1;
  const double c = std::sqrt((p - 2.0) * n / B / a);
  return static_cast<int>(std::clamp(std::round(c), 1.0, 4096.0));
}

double pairwise_alltoallv(double a, double B, const std::vector<std::vector<double>>& m) {
  const int p = static_cast<int>(m.size());
  std::vector<double> t(p, 0.0), next(p, 0.0);
  for (int s = 1; s < p; ++s) {
    for (int r = 0; r < p; ++r) {
      const int to = (r + s) % p, from = (r - s + p) % p;
      const double send_done = std::max(t[r], t[to]) + a + m[r][to] / B;
      const double recv_done = std::max(t[from], t[r]) + a + m[from][r] / B;
      next[r] = std::max(send_done, recv_done);
    }
    t.swap(next);
  }
  double worst = 0;
  for (double x : t) worst = std::max(worst, x);
  return worst;
}

std::optional<double> of(CollectiveOp op, const std::string& alg, double a, double B, int p,
                         double n) {
  switch (op) {
    case CollectiveOp::allreduce:
      if (alg == "ring") return ring_allreduce(a, B, p, n);
      if (alg == "rabenseifner") return rabenseifner_allreduce(a, B, p, n);
      return std::nullopt;
    case CollectiveOp::allgather:
      if (alg == "ring") return ring_allgather(a, B, p, n);
      if (alg == "bruck") return bruck_allgather(a, B, p, n);
      return std::nullopt;
    case CollectiveOp::reduce_scatter:
      if (alg == "ring") return ring_reduce_scatter(a, B, p, n);
      return std::nullopt;
    case CollectiveOp::broadcast:
      if (alg == "binomial" || alg == "tree") return binomial_broadcast(a, B, p, n);
      if (alg == "ring" || alg == "chain") return chain_broadcast(a, B, p, n, chain_chunks(a, B, p, n));
      return std::nullopt;
    case CollectiveOp::allgatherv:
    case CollectiveOp::alltoallv:  // needs its matrix: pairwise_alltoallv
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace arcsim::sim::closed_form
