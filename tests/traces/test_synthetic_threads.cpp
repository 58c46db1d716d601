// Synthetic gradients are split over threads and their per-tensor stream keys hoisted: the bits
// must be those of the sequential generator (the hash below was taken from it) at any thread count.
#include <gtest/gtest.h>
#include <omp.h>

#include <cstring>

#include "traces/synthetic.hpp"

namespace arcsim::traces {
namespace {

std::uint64_t fnv(const std::vector<float>& g) {
  std::uint64_t h = 1469598103934665603ull;
  for (float f : g) {
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    h = (h ^ u) * 1099511628211ull;
  }
  return h;
}

TEST(SyntheticThreads, SameBitsAsTheSequentialGeneratorAtAnyThreadCount) {
  Layout l;
  l.parameters = {{"a.weight", {300, 700}, "float32", "a"},
                  {"a.bias", {70000}, "float32", "a"},
                  {"c.weight", {50, 3, 3, 3}, "float32", "c"}};
  SyntheticSpec s;
  s.seed = 7;
  const int def = omp_get_max_threads();
  for (int t : {1, 2, 3}) {
    omp_set_num_threads(t);
    const auto g = synthetic_gradients(l, {"c.weight", "a.weight", "a.bias"}, {0, 3}, 5, s);
    ASSERT_EQ(g.size(), 562700u);
    EXPECT_EQ(fnv(g), 0x4858c96b73f84c67ull) << t << " threads";
  }
  omp_set_num_threads(def);
}

}  // namespace
}  // namespace arcsim::traces
