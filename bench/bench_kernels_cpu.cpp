// CPU reference kernels against a same-size memcpy measured in the same benchmark.
// Every kernel benchmark times, per iteration, a memcpy of the kernel's input (n floats) and then
// the kernel, so both see the same cache and frequency state. Counters:
//   bytes_per_second  the kernel's modelled traffic (reads + writes) / kernel time
//   memcpy_GBps       the copy's bandwidth (2 n 4 bytes / copy time)
//   vs_memcpy         copy time / kernel time (1.0 = as fast as copying the input once)
// Run: build/bench/bench_kernels_cpu --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/primitives.hpp"

namespace {
using namespace arcsim::kernels;
using Clock = std::chrono::steady_clock;

std::vector<float> normal(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 g(seed);
  std::normal_distribution<float> nd;
  std::vector<float> x(n);
  for (auto& v : x) v = nd(g);
  return x;
}

// Runs `kernel` under the benchmark loop with a same-size copy timed beside it.
template <class F>
void measure(benchmark::State& state, std::size_t n, double bytes_moved, F&& kernel) {
  std::vector<float> src = normal(n, 1), dst(n);
  double t_copy = 0, t_kernel = 0;
  for (auto _ : state) {
    auto a = Clock::now();
    std::memcpy(dst.data(), src.data(), n * sizeof(float));
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
    auto b = Clock::now();
    kernel();
    benchmark::ClobberMemory();
    auto c = Clock::now();
    const double tk = std::chrono::duration<double>(c - b).count();
    t_copy += std::chrono::duration<double>(b - a).count();
    t_kernel += tk;
    state.SetIterationTime(tk);
  }
  const double it = static_cast<double>(state.iterations());
  state.counters["bytes_per_second"] = benchmark::Counter(bytes_moved * it / t_kernel);
  state.counters["memcpy_GBps"] = 2.0 * n * 4 * it / t_copy / 1e9;
  state.counters["vs_memcpy"] = t_copy / t_kernel;
}

void BM_topk(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0)), k = n / 100;  // ratio 0.01
  auto x = normal(n, 2);
  std::vector<std::uint32_t> idx(k);
  measure(state, n, n * 4.0 + k * 4.0, [&] { topk_magnitude(x.data(), n, k, idx.data()); });
}

void BM_sketch_r4(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0)), m = std::size_t{1024}, rows = n / m;
  auto g = normal(n, 3);
  std::vector<float> p(rows * 4);
  measure(state, n, n * 4.0 + rows * 16.0, [&] { sketch(g.data(), rows, m, 4, 1, 0, 0, p.data()); });
}

void BM_gather_rows(benchmark::State& state) {  // ratio 0.2 of the rows of an (n/1024) x 1024 matrix
  const auto n = static_cast<std::size_t>(state.range(0)), m = std::size_t{1024}, rows = n / m, k = rows / 5;
  auto g = normal(n, 4);
  std::vector<std::uint32_t> sel(k);
  for (std::size_t i = 0; i < k; ++i) sel[i] = static_cast<std::uint32_t>(i * 5);
  std::vector<float> out(k * m);
  measure(state, n, k * m * 8.0, [&] { gather_rows(g.data(), m, sel.data(), k, out.data()); });
}

void BM_scatter(benchmark::State& state) {  // zero the bucket + scatter 20% of it by element index
  const auto n = static_cast<std::size_t>(state.range(0)), k = n / 5;
  auto vals = normal(k, 5);
  std::vector<std::uint32_t> idx(k);
  randk_indices(n, k, 1, 0, 0, idx.data());
  std::vector<float> out(n);
  measure(state, n, n * 4.0 + k * 8.0 + k * 4.0, [&] {
    std::memset(out.data(), 0, n * 4);
    scatter(vals.data(), idx.data(), k, out.data());
  });
}

void BM_randk_indices(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0)), k = n / 5;
  std::vector<std::uint32_t> idx(k);
  std::uint32_t step = 0;
  measure(state, n, k * 4.0, [&] { randk_indices(n, k, 1, step++, 0, idx.data()); });
}

void BM_ef14_update(benchmark::State& state) {  // u = g + e, then e = u - c: the two EF passes
  const auto n = static_cast<std::size_t>(state.range(0));
  auto g = normal(n, 6), e = normal(n, 7), c = normal(n, 8);
  std::vector<float> u(n);
  measure(state, n, n * 4.0 * 6, [&] {
    ef_add(g.data(), e.data(), n, u.data());
    ef14_residual(u.data(), c.data(), n, e.data());
  });
}

#define ARCSIM_SIZES ->Arg(1 << 16)->Arg(1 << 20)->Arg(1 << 22)->UseManualTime()->Unit(benchmark::kMicrosecond)
BENCHMARK(BM_topk) ARCSIM_SIZES;
BENCHMARK(BM_sketch_r4) ARCSIM_SIZES;
BENCHMARK(BM_gather_rows) ARCSIM_SIZES;
BENCHMARK(BM_scatter) ARCSIM_SIZES;
BENCHMARK(BM_randk_indices) ARCSIM_SIZES;
BENCHMARK(BM_ef14_update) ARCSIM_SIZES;

}  // namespace

BENCHMARK_MAIN();
