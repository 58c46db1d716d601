// The fast CPU backend (kernels/cpu/) against the reference (kernels/primitives.hpp): the same
// bits on the property inputs of the kernel tests (sizes 0 .. 2^20 + 7, ties, denormals, signed
// zeros, low-entropy keys; k in {1, random, n}), at 1 thread and at the machine's thread count,
// and whole compressor steps (aggregate, error-feedback state, selected rows) on both backends.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <random>
#include <set>
#include <vector>

#include "kernels/backend.hpp"
#include "kernels/compressor.hpp"
#include "kernels/cpu/fast.hpp"
#include "kernels/primitives.hpp"
#include "tests/kernels/kernel_inputs.hpp"

namespace arcsim::kernels {
namespace {
using testing::Dist;

const std::size_t kSizes[] = {0, 1, 2, 31, 32, 33, 1023, 1024, 1025, 65535, 65536, 65537, (1u << 20) + 7};

std::vector<std::size_t> ks_for(std::size_t n) {
  if (n == 0) return {0};
  std::mt19937_64 g(n);
  std::set<std::size_t> ks = {1, 1 + g() % n, n};
  return {ks.begin(), ks.end()};
}

// Runs f at one thread and at the default thread count (results must not depend on it).
template <class F>
void at_thread_counts(F f) {
  const int def = omp_get_max_threads();
  for (int t : {1, std::max(2, def)}) {
    omp_set_num_threads(t);
    f(t);
  }
  omp_set_num_threads(def);
}

TEST(CpuBackend, TopKIsTheReferencesSelectionOnEveryPropertyInput) {
  for (Dist d : testing::kAllDists)
    for (std::size_t n : kSizes) {
      const auto x = testing::make_input(d, n, 42 + n);
      for (std::size_t k : ks_for(n)) {
        std::vector<std::uint32_t> want(k), got(k, 0xffffffffu);
        topk_magnitude(x.data(), n, k, want.data());
        at_thread_counts([&](int t) {
          std::fill(got.begin(), got.end(), 0xffffffffu);
          cpu::topk_magnitude(x.data(), n, k, got.data());
          ASSERT_EQ(got, want) << testing::dist_name(d) << " n=" << n << " k=" << k << " threads=" << t;
          std::fill(got.begin(), got.end(), 0xffffffffu);
          cpu::topk_magnitude_histogram(x.data(), n, k, got.data());
          ASSERT_EQ(got, want) << "histogram path: " << testing::dist_name(d) << " n=" << n << " k=" << k;
        });
      }
    }
}

TEST(CpuBackend, TopKTiesAcrossChunkBordersTakeTheLowestIndices) {
  // Equal magnitudes everywhere except a few larger ones: the tie quota spans several chunks.
  const std::size_t n = (1u << 18) + 3;
  std::vector<float> x(n, 0.25f);
  for (std::size_t i = 0; i < n; i += 977) x[i] = -0.75f;
  for (std::size_t k : {std::size_t{1}, std::size_t{300}, n / 3, n / 2 + 1, n - 1}) {
    std::vector<std::uint32_t> want(k), got(k);
    topk_magnitude(x.data(), n, k, want.data());
    at_thread_counts([&](int) {
      cpu::topk_magnitude(x.data(), n, k, got.data());
      ASSERT_EQ(got, want) << "k=" << k;
    });
  }
}

TEST(CpuBackend, TopKRejectsKAboveN) {
  std::vector<float> x(4, 1.0f);
  std::vector<std::uint32_t> idx(5);
  EXPECT_THROW(cpu::topk_magnitude(x.data(), 4, 5, idx.data()), std::invalid_argument);
}

TEST(CpuBackend, SketchAndRowScoresAreBitIdentical) {
  struct Shape {
    std::size_t n, m;
  };
  for (Shape s : {Shape{0, 5}, Shape{1, 1}, Shape{7, 33}, Shape{64, 64}, Shape{129, 257}, Shape{1000, 300}})
    for (int r : {1, 2, 3, 4, 5, 8}) {
      const auto G = testing::make_input(Dist::kNormal, s.n * s.m, 7 + s.n);
      std::vector<float> want(s.n * r), got(s.n * r), sw(s.n), sg(s.n);
      sketch(G.data(), s.n, s.m, r, 11, 3, 9, want.data());
      row_scores(want.data(), s.n, static_cast<std::size_t>(r), sw.data());
      at_thread_counts([&](int) {
        cpu::sketch(G.data(), s.n, s.m, r, 11, 3, 9, got.data());
        cpu::row_scores(got.data(), s.n, static_cast<std::size_t>(r), sg.data());
        for (std::size_t i = 0; i < want.size(); ++i)
          ASSERT_EQ(testing::bits_of(got[i]), testing::bits_of(want[i])) << s.n << "x" << s.m << " r=" << r << " i=" << i;
        for (std::size_t i = 0; i < sw.size(); ++i) ASSERT_EQ(testing::bits_of(sg[i]), testing::bits_of(sw[i]));
      });
    }
}

TEST(CpuBackend, RandKIndicesAreIdentical) {
  for (std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{1000}, std::size_t{1} << 20, (std::size_t{1} << 20) + 7})
    for (std::size_t k : ks_for(n)) {
      std::vector<std::uint32_t> want(k), got(k);
      randk_indices(n, k, 5, 2, 77, want.data());
      at_thread_counts([&](int) {
        cpu::randk_indices(n, k, 5, 2, 77, got.data());
        ASSERT_EQ(got, want) << "n=" << n << " k=" << k;
      });
    }
}

TEST(CpuBackend, ElementwiseGatherAndScatterAreIdentical) {
  const std::size_t n = (1u << 20) + 7;
  const auto a = testing::make_input(Dist::kNormal, n, 1), b = testing::make_input(Dist::kDenormal, n, 2);
  auto same = [&](const std::vector<float>& x, const std::vector<float>& y, const char* what) {
    ASSERT_EQ(x.size(), y.size());
    for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(testing::bits_of(x[i]), testing::bits_of(y[i])) << what << " " << i;
  };
  std::vector<float> r(n), c(n);
  ef_add(a.data(), b.data(), n, r.data());
  cpu::ef_add(a.data(), b.data(), n, c.data());
  same(r, c, "ef_add");
  ef_sub(a.data(), b.data(), n, r.data());
  cpu::ef_sub(a.data(), b.data(), n, c.data());
  same(r, c, "ef_sub");
  ef14_residual(a.data(), b.data(), n, r.data());
  cpu::ef14_residual(a.data(), b.data(), n, c.data());
  same(r, c, "ef14_residual");
  r = a;
  c = a;
  ef_accumulate(r.data(), b.data(), n);
  cpu::ef_accumulate(c.data(), b.data(), n);
  same(r, c, "ef_accumulate");
  r = a;
  c = a;
  momentum_update(r.data(), b.data(), n, 0.9f);
  cpu::momentum_update(c.data(), b.data(), n, 0.9f);
  same(r, c, "momentum_update");
  r = a;
  c = a;
  for (std::size_t i = 0; i < n; ++i) r[i] /= 7.0f;
  cpu::divide(c.data(), n, 7);
  same(r, c, "divide");

  // Gather / scatter with ascending indices (parallel split), with repeated indices and with
  // distinct ones in random order (both: every thread its own destinations, in index order).
  std::mt19937_64 g(3);
  std::vector<std::uint32_t> asc, dup, perm;
  for (std::uint32_t i = 0; i < n; i += 1 + static_cast<std::uint32_t>(g() % 4)) asc.push_back(i);
  for (std::size_t i = 0; i < 100000; ++i) dup.push_back(static_cast<std::uint32_t>(g() % 5000));
  perm = asc;
  std::shuffle(perm.begin(), perm.end(), g);
  at_thread_counts([&](int) {
    for (const auto* idx : {&asc, &dup, &perm}) {
      const std::size_t k = idx->size();
      std::vector<float> gr(k), gc(k);
      gather(a.data(), idx->data(), k, gr.data());
      cpu::gather(a.data(), idx->data(), k, gc.data());
      same(gr, gc, "gather");
      r = b;
      c = b;
      scatter(a.data(), idx->data(), k, r.data());
      cpu::scatter(a.data(), idx->data(), k, c.data());
      same(r, c, "scatter");
      r = b;
      c = b;
      scatter_add(a.data(), idx->data(), k, r.data());
      cpu::scatter_add(a.data(), idx->data(), k, c.data());
      same(r, c, "scatter_add");
    }
  });
  // Rows of a (n/64) x 64 matrix.
  const std::size_t m = 64, rows = n / m;
  std::vector<std::uint32_t> sel;
  for (std::uint32_t i = 0; i < rows; i += 3) sel.push_back(i);
  std::vector<float> pr(sel.size() * m), pc(sel.size() * m);
  gather_rows(a.data(), m, sel.data(), sel.size(), pr.data());
  cpu::gather_rows(a.data(), m, sel.data(), sel.size(), pc.data());
  same(pr, pc, "gather_rows");
  r = b;
  c = b;
  scatter_rows(pr.data(), m, sel.data(), sel.size(), r.data());
  cpu::scatter_rows(pr.data(), m, sel.data(), sel.size(), c.data());
  same(r, c, "scatter_rows");
}

// Whole compressor steps on both backends: the same aggregate bits, the same EF state, the same
// k and row recall (so the same selected rows) over several calls.
TEST(CpuBackend, CompressorStepsAreBitIdenticalToTheReference) {
  const int W = 3;
  BucketLayout layout;
  layout.shapes = {{300, 200}, {1000}, {64, 3, 3, 3}, {70001}};
  const std::size_t n = layout.numel();
  for (const char* comp : {"dense", "topk", "randk", "arctopk"})
    for (const char* ef : {"none", "ef14", "ef21m"}) {
      CompressorConfig cfg;
      cfg.compressor = comp;
      cfg.ratio = std::string(comp) == "dense" ? 1.0 : 0.05;
      cfg.ef = ef;
      cfg.rank = 2;
      Compressor ref(W, cfg, reference_backend()), fast(W, cfg, cpu_backend());
      for (int step = 0; step < 3; ++step) {
        std::vector<std::vector<float>> g(W);
        std::vector<const float*> ptr(W);
        for (int w = 0; w < W; ++w) {
          g[w] = testing::make_input(step == 1 ? Dist::kLowEntropy : Dist::kNormal, n, 100 * step + w);
          ptr[w] = g[w].data();
        }
        std::vector<float> ar(n), af(n);
        const StepReport rr = ref.step(0, layout, ptr, ar.data());
        const StepReport rf = fast.step(0, layout, ptr, af.data());
        EXPECT_EQ(rf.backend, "cpu");
        EXPECT_EQ(rr.backend, "reference");
        ASSERT_EQ(rr.k, rf.k) << comp << " " << ef;
        ASSERT_EQ(rr.row_recall, rf.row_recall) << comp << " " << ef;
        ASSERT_EQ(rr.relative_error, rf.relative_error) << comp << " " << ef;
        ASSERT_EQ(rr.retained_energy, rf.retained_energy) << comp << " " << ef;
        for (std::size_t i = 0; i < n; ++i)
          ASSERT_EQ(testing::bits_of(ar[i]), testing::bits_of(af[i])) << comp << " " << ef << " step " << step << " i " << i;
        for (int w = 0; w < W; ++w) {
          const auto& er = ref.error(0, w);
          const auto& ef_ = fast.error(0, w);
          ASSERT_EQ(er.size(), ef_.size());
          for (std::size_t i = 0; i < er.size(); ++i) ASSERT_EQ(testing::bits_of(er[i]), testing::bits_of(ef_[i]));
        }
      }
    }
}

TEST(Backends, NamesResolveAndCudaFailsClearlyWithoutADevice) {
  EXPECT_STREQ(backend_by_name("reference").name(), "reference");
  EXPECT_STREQ(backend_by_name("cpu").name(), "cpu");
  EXPECT_THROW(backend_by_name("gpu"), std::invalid_argument);
  if (!cuda_available()) {
    EXPECT_STREQ(backend_by_name("auto").name(), "cpu");
    try {
      backend_by_name("cuda");
      FAIL() << "cuda without a device must throw";
    } catch (const BackendUnavailable& e) {
      EXPECT_NE(std::string(e.what()).find("backend cuda"), std::string::npos);
    }
  } else {
    EXPECT_STREQ(backend_by_name("auto").name(), "cuda");
  }
}

}  // namespace
}  // namespace arcsim::kernels
