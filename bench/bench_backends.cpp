// The CPU backends against a same-size memcpy, in one run: for each kernel the reference backend,
// the fast cpu backend and a memcpy of the kernel's input are timed in interleaved rounds (so a
// change of machine load hits all three alike), and the table reports medians and ratios:
//   vs memcpy = memcpy time / cpu time (1.0 = as fast as copying the input once)
//   speed-up  = reference time / cpu time
// Run: OMP_NUM_THREADS=2 build/bench/bench_backends [--rounds R] > table.md
// (bench/results/cpu_backends.md holds a committed run with its command and machine load).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <omp.h>

#include "kernels/backend.hpp"

namespace {
using namespace arcsim::kernels;
using Clock = std::chrono::steady_clock;

std::vector<float> normal(std::size_t n, std::uint64_t seed) {
  std::vector<float> x(n);
#pragma omp parallel
  {
    const int t = omp_get_thread_num(), T = omp_get_num_threads();
    std::mt19937_64 g(seed * 1000 + static_cast<std::uint64_t>(t));
    std::normal_distribution<float> nd;
    for (std::size_t i = n * t / T; i < n * (t + 1) / T; ++i) x[i] = nd(g);
  }
  return x;
}

double seconds(const std::function<void()>& f) {
  const auto a = Clock::now();
  f();
  return std::chrono::duration<double>(Clock::now() - a).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Case {
  std::string name;
  std::size_t copy_floats;  // the kernel's input, copied by the baseline
  std::function<void(Backend&)> run;
};

}  // namespace

int main(int argc, char** argv) {
  int rounds = 9;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--rounds") rounds = std::max(3, std::atoi(argv[i + 1]));
  const std::size_t N = std::size_t{1} << 24;
  const auto x = normal(N, 1), e = normal(N, 2);
  std::vector<float> u(N), dst(N);
  std::vector<std::uint32_t> idx(N / 10);
  const std::size_t R = 4096, M = 4096;
  std::vector<float> P(R * 4);
  std::vector<std::uint32_t> rows(R / 5);
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<std::uint32_t>(5 * i);
  std::vector<float> packed(rows.size() * M);

  std::vector<Case> cases = {
      {"top-k 2^24, k = 1 %", N, [&](Backend& b) { b.topk_magnitude(x.data(), N, N / 100, idx.data()); }},
      {"top-k 2^24, k = 10 %", N, [&](Backend& b) { b.topk_magnitude(x.data(), N, N / 10, idx.data()); }},
      {"sketch r = 4, 4096 x 4096", R * M, [&](Backend& b) { b.sketch(x.data(), R, M, 4, 1, 0, 0, P.data()); }},
      {"sketch r = 1, 4096 x 4096", R * M, [&](Backend& b) { b.sketch(x.data(), R, M, 1, 1, 0, 0, P.data()); }},
      {"Rand-K indices 2^24, k = 10 %", N / 10, [&](Backend& b) { b.randk_indices(N, N / 10, 1, 0, 0, idx.data()); }},
      {"gather rows 4096 x 4096, 20 %", rows.size() * M,
       [&](Backend& b) { b.gather_rows(x.data(), M, rows.data(), rows.size(), packed.data()); }},
      {"EF14 u = g + e, e = u - c, 2^24", N, [&](Backend& b) {
         b.ef_add(x.data(), e.data(), N, u.data());
         b.ef14_residual(u.data(), x.data(), N, dst.data());
       }},
  };
  std::printf("| kernel | memcpy of the input (ms) | reference (ms) | cpu (ms) | cpu vs memcpy | speed-up over reference |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (const auto& c : cases) {
    std::vector<double> tc, tr, tf;
    for (int r = 0; r < rounds; ++r) {
      tc.push_back(seconds([&] { std::memcpy(dst.data(), x.data(), c.copy_floats * sizeof(float)); }));
      tr.push_back(seconds([&] { c.run(reference_backend()); }));
      tf.push_back(seconds([&] { c.run(cpu_backend()); }));
    }
    const double mc = median(tc), mr = median(tr), mf = median(tf);
    std::printf("| %s | %.2f | %.2f | %.2f | %.0f %% | %.1fx |\n", c.name.c_str(), mc * 1e3, mr * 1e3, mf * 1e3,
                100.0 * mc / mf, mr / mf);
    std::fflush(stdout);
  }
  std::printf("\n%d interleaved rounds per kernel (median), %d OpenMP threads\n", rounds, omp_get_max_threads());
  return 0;
}
