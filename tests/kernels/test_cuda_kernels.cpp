// The CUDA backend (kernels/cuda/device_kernels.hpp) against the CPU reference
// (kernels/primitives.hpp) on the property-test inputs: identical indices and bit-identical values.
// Every test skips cleanly (GTEST_SKIP) when the build has no CUDA or the machine has no device,
// which is the case in CI.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "kernels/primitives.hpp"
#include "test_cuda_inputs.hpp"

#if ARCSIM_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "kernels/cuda/device_kernels.hpp"
#endif

namespace {

using arcsim::testing::Dist;

class CudaKernels : public ::testing::Test {
 protected:
  void SetUp() override {
#if ARCSIM_HAVE_CUDA
    if (arcsim::cuda::device_count() == 0) GTEST_SKIP() << "no CUDA device on this machine";
#else
    GTEST_SKIP() << "arcsim was built without CUDA (no nvcc)";
#endif
  }
};

#if ARCSIM_HAVE_CUDA

void cuda_ok(cudaError_t e, const char* what) { ASSERT_EQ(e, cudaSuccess) << what << ": " << cudaGetErrorString(e); }

// A device buffer of n T's (at least one, so empty inputs still have a valid pointer).
template <typename T>
class DevBuf {
 public:
  explicit DevBuf(std::size_t n) : n_(n) { cuda_ok(cudaMalloc(reinterpret_cast<void**>(&p_), (n ? n : 1) * sizeof(T)), "cudaMalloc"); }
  explicit DevBuf(const std::vector<T>& v) : DevBuf(v.size()) { upload(v); }
  ~DevBuf() { cudaFree(p_); }
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
  T* get() const { return p_; }
  void upload(const std::vector<T>& v) {
    if (!v.empty()) cuda_ok(cudaMemcpy(p_, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice), "upload");
  }
  std::vector<T> download(std::size_t count) const {
    std::vector<T> v(count);
    cuda_ok(cudaDeviceSynchronize(), "kernel");
    if (count) cuda_ok(cudaMemcpy(v.data(), p_, count * sizeof(T), cudaMemcpyDeviceToHost), "download");
    return v;
  }
  std::vector<T> download() const { return download(n_); }

 private:
  T* p_ = nullptr;
  std::size_t n_;
};

// Bitwise equality of float vectors (so -0 != +0 and NaN == NaN of the same payload).
::testing::AssertionResult same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << "sizes " << a.size() << " vs " << b.size();
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0)
      return ::testing::AssertionFailure() << "first difference at " << i << ": " << a[i] << " vs " << b[i];
  return ::testing::AssertionSuccess();
}

std::vector<std::uint32_t> gpu_topk(const std::vector<float>& x, std::size_t k, float* e_inout_dev = nullptr,
                                    const DevBuf<float>* x_dev = nullptr) {
  DevBuf<float> own(x_dev ? 0 : x.size());
  if (!x_dev) own.upload(x);
  const float* xp = x_dev ? x_dev->get() : own.get();
  DevBuf<std::uint32_t> idx(k);
  const std::size_t ws_bytes = arcsim::cuda::topk_workspace_bytes(x.size());
  DevBuf<unsigned char> ws(ws_bytes);
  arcsim::cuda::topk_magnitude(xp, x.size(), k, idx.get(), ws.get(), ws_bytes, nullptr, e_inout_dev);
  return idx.download(k);
}

TEST_F(CudaKernels, TopKMatchesReferenceOnPropertyInputs) {
  std::uint64_t seed = 101;
  for (std::size_t n : arcsim::testing::property_sizes())
    for (Dist d : arcsim::testing::all_dists()) {
      const auto x = arcsim::testing::make_input(n, d, ++seed);
      for (std::size_t k : arcsim::testing::ks_for(n, seed)) {
        std::vector<std::uint32_t> ref(k);
        arcsim::kernels::topk_magnitude(x.data(), n, k, ref.data());
        const auto got = gpu_topk(x, k);
        EXPECT_EQ(got, ref) << "n=" << n << " k=" << k << " " << arcsim::testing::dist_name(d);
        EXPECT_EQ(gpu_topk(x, k), got) << "not deterministic: n=" << n << " k=" << k;
      }
    }
}

TEST_F(CudaKernels, TopKUnalignedInputAndLargeBuckets) {
  // An input that starts 4 bytes into an allocation takes the scalar path; a ratio of 0.3 on a
  // low-entropy input overflows the candidate buffer and re-reads the input in pass 2.
  const std::size_t n = (1u << 20) + 7;
  const auto x = arcsim::testing::make_input(n + 1, Dist::kLowEntropy, 7);
  DevBuf<float> xd(x);
  for (std::size_t k : {std::size_t{1}, n / 1000, (3 * n) / 10}) {
    const std::vector<float> shifted(x.begin() + 1, x.end());
    std::vector<std::uint32_t> ref(k);
    arcsim::kernels::topk_magnitude(shifted.data(), n, k, ref.data());
    DevBuf<std::uint32_t> idx(k);
    const std::size_t ws_bytes = arcsim::cuda::topk_workspace_bytes(n);
    DevBuf<unsigned char> ws(ws_bytes);
    arcsim::cuda::topk_magnitude(xd.get() + 1, n, k, idx.get(), ws.get(), ws_bytes, nullptr);
    EXPECT_EQ(idx.download(k), ref) << "k=" << k;
  }
}

TEST_F(CudaKernels, TopKWithFusedEf14) {
  for (std::size_t n : {std::size_t{33}, std::size_t{1025}, (std::size_t{1} << 20) + 7}) {
    const auto g = arcsim::testing::make_input(n, Dist::kNormal, n);
    const auto e = arcsim::testing::make_input(n, Dist::kUniform, n + 1);
    const std::size_t k = n / 10 + 1;
    std::vector<float> u(n);
    arcsim::kernels::ef_add(g.data(), e.data(), n, u.data());
    std::vector<std::uint32_t> ref(k);
    arcsim::kernels::topk_magnitude(u.data(), n, k, ref.data());
    DevBuf<float> gd(g), ed(e);
    const auto got = gpu_topk(g, k, ed.get(), &gd);
    EXPECT_EQ(got, ref) << "n=" << n;
    EXPECT_TRUE(same_bits(ed.download(), u)) << "u = g + e, n=" << n;
    // Values out, residual e = u - C(u) left in place.
    DevBuf<std::uint32_t> idx(got);
    DevBuf<float> vals(k);
    arcsim::cuda::gather_and_zero(ed.get(), idx.get(), k, vals.get(), nullptr);
    std::vector<float> ref_vals(k), c(n, 0.0f), res(n);
    arcsim::kernels::gather(u.data(), ref.data(), k, ref_vals.data());
    arcsim::kernels::scatter(ref_vals.data(), ref.data(), k, c.data());
    arcsim::kernels::ef14_residual(u.data(), c.data(), n, res.data());
    EXPECT_TRUE(same_bits(vals.download(), ref_vals));
    EXPECT_TRUE(same_bits(ed.download(), res));
  }
}

struct Shape {
  std::uint32_t rows, cols;
};
const std::vector<Shape> kShapes = {{0, 5}, {1, 1}, {2, 3}, {31, 33}, {32, 32}, {33, 31}, {5, 0},
                                    {1023, 7}, {3, 1025}, {1025, 1024}, {64, 4099}};

TEST_F(CudaKernels, SketchIsBitIdenticalForAWholeBucket) {
  for (int r : {1, 3, 4, 8}) {
    for (bool ef : {false, true}) {
      std::vector<arcsim::cuda::SketchTensor> ts;
      std::vector<std::unique_ptr<DevBuf<float>>> keep;
      std::vector<std::vector<float>> ref_p, ref_u;
      for (std::size_t t = 0; t < kShapes.size(); ++t) {
        const auto [rows, cols] = kShapes[t];
        const std::size_t n = std::size_t{rows} * cols;
        auto g = arcsim::testing::make_input(n, arcsim::testing::all_dists()[t % 6], 1000 + t);
        auto e = arcsim::testing::make_input(n, Dist::kNormal, 2000 + t);
        std::vector<float> u = g;
        if (ef) arcsim::kernels::ef_add(g.data(), e.data(), n, u.data());
        std::vector<float> p(std::size_t{rows} * r);
        arcsim::kernels::sketch(u.data(), rows, cols, r, /*seed=*/42, /*step=*/3, /*tensor=*/static_cast<std::uint32_t>(t),
                                p.data());
        ref_p.push_back(p);
        ref_u.push_back(u);
        keep.push_back(std::make_unique<DevBuf<float>>(g));
        keep.push_back(std::make_unique<DevBuf<float>>(e));
        keep.push_back(std::make_unique<DevBuf<float>>(n));
        keep.push_back(std::make_unique<DevBuf<float>>(std::size_t{rows} * r));
        arcsim::cuda::SketchTensor st;
        st.g = keep[keep.size() - 4]->get();
        st.e = ef ? keep[keep.size() - 3]->get() : nullptr;
        st.u = ef ? keep[keep.size() - 2]->get() : nullptr;
        st.p = keep.back()->get();
        st.rows = rows;
        st.cols = cols;
        st.tensor_id = static_cast<std::uint32_t>(t);
        ts.push_back(st);
      }
      arcsim::cuda::sketch_bucket(ts.data(), ts.size(), r, 42, 3, nullptr);
      for (std::size_t t = 0; t < ts.size(); ++t) {
        EXPECT_TRUE(same_bits(keep[4 * t + 3]->download(ref_p[t].size()), ref_p[t]))
            << "r=" << r << " ef=" << ef << " shape " << kShapes[t].rows << "x" << kShapes[t].cols;
        if (ef) {
          EXPECT_TRUE(same_bits(keep[4 * t + 2]->download(ref_u[t].size()), ref_u[t])) << "u, tensor " << t;
        }
      }
    }
  }
}

TEST_F(CudaKernels, RowSelectionMatchesReferenceForAWholeBucket) {
  // Sketch-width and exact-norm widths; rows from the property sizes and a vocabulary-sized one.
  const std::vector<std::pair<std::uint32_t, std::uint32_t>> tensors = {
      {0, 4}, {1, 4}, {2, 4}, {31, 4}, {32, 1}, {33, 8}, {1023, 4}, {1024, 4}, {1025, 3}, {50257, 4}, {300, 129}};
  std::mt19937_64 rng(5);
  for (Dist d : arcsim::testing::all_dists()) {
    std::vector<arcsim::cuda::RowSelectTensor> ts;
    std::vector<std::unique_ptr<DevBuf<float>>> bufs;
    std::vector<std::unique_ptr<DevBuf<std::uint32_t>>> outs;
    std::vector<std::vector<std::uint32_t>> ref_rows;
    std::vector<std::vector<float>> ref_scores;
    for (std::size_t t = 0; t < tensors.size(); ++t) {
      const auto [rows, width] = tensors[t];
      const auto p = arcsim::testing::make_input(std::size_t{rows} * width, d, 77 + t);
      const std::uint32_t k = rows == 0 ? 0 : static_cast<std::uint32_t>(t % 3 == 0 ? 1 : (t % 3 == 1 ? rows : 1 + rng() % rows));
      std::vector<float> scores(rows);
      arcsim::kernels::row_scores(p.data(), rows, width, scores.data());
      std::vector<std::uint32_t> sel(k);
      arcsim::kernels::topk_rows(scores.data(), rows, k, sel.data());
      ref_rows.push_back(sel);
      ref_scores.push_back(scores);
      bufs.push_back(std::make_unique<DevBuf<float>>(p));
      bufs.push_back(std::make_unique<DevBuf<float>>(rows));
      outs.push_back(std::make_unique<DevBuf<std::uint32_t>>(k));
      arcsim::cuda::RowSelectTensor rt;
      rt.p = bufs[bufs.size() - 2]->get();
      rt.scores = bufs.back()->get();
      rt.rows = rows;
      rt.width = width;
      rt.k = k;
      rt.rows_out = outs.back()->get();
      ts.push_back(rt);
    }
    arcsim::cuda::select_rows_bucket(ts.data(), ts.size(), nullptr);
    for (std::size_t t = 0; t < ts.size(); ++t) {
      EXPECT_TRUE(same_bits(bufs[2 * t + 1]->download(ts[t].rows), ref_scores[t])) << "scores, tensor " << t;
      EXPECT_EQ(outs[t]->download(ts[t].k), ref_rows[t]) << "tensor " << t << " " << arcsim::testing::dist_name(d);
    }
  }
}

TEST_F(CudaKernels, RowGatherAndScatterForAWholeBucket) {
  const std::vector<Shape> shapes = {{1, 1}, {2, 3}, {33, 31}, {1025, 1024}, {64, 4099}, {7, 0}};
  std::vector<arcsim::cuda::RowCopyTensor> ts;
  std::vector<std::unique_ptr<DevBuf<float>>> dense, packed, back;
  std::vector<std::unique_ptr<DevBuf<std::uint32_t>>> rowbufs;
  std::vector<std::vector<float>> src, ref_packed, ref_zeroed, ref_back;
  for (std::size_t t = 0; t < shapes.size(); ++t) {
    const auto [rows, cols] = shapes[t];
    const auto x = arcsim::testing::make_input(std::size_t{rows} * cols, Dist::kNormal, 300 + t);
    std::vector<std::uint32_t> sel;
    for (std::uint32_t i = t % 2; i < rows; i += 2) sel.push_back(i);
    const auto k = static_cast<std::uint32_t>(sel.size());
    std::vector<float> pk(std::size_t{k} * cols), zeroed = x, scattered(x.size(), 0.0f);
    arcsim::kernels::gather_rows(x.data(), cols, sel.data(), k, pk.data());
    std::vector<float> zeros(pk.size(), 0.0f);
    arcsim::kernels::scatter_rows(zeros.data(), cols, sel.data(), k, zeroed.data());
    arcsim::kernels::scatter_rows(pk.data(), cols, sel.data(), k, scattered.data());
    ref_packed.push_back(pk);
    ref_zeroed.push_back(zeroed);
    ref_back.push_back(scattered);
    dense.push_back(std::make_unique<DevBuf<float>>(x));
    packed.push_back(std::make_unique<DevBuf<float>>(pk.size()));
    back.push_back(std::make_unique<DevBuf<float>>(std::vector<float>(x.size(), 0.0f)));
    rowbufs.push_back(std::make_unique<DevBuf<std::uint32_t>>(sel));
    ts.push_back({dense.back()->get(), packed.back()->get(), rowbufs.back()->get(), k, cols});
  }
  arcsim::cuda::gather_rows_bucket(ts.data(), ts.size(), /*zero_src=*/true, nullptr);
  auto ts_back = ts;
  for (std::size_t t = 0; t < ts.size(); ++t) ts_back[t].dense = back[t]->get();
  arcsim::cuda::scatter_rows_bucket(ts_back.data(), ts_back.size(), nullptr);
  for (std::size_t t = 0; t < ts.size(); ++t) {
    EXPECT_TRUE(same_bits(packed[t]->download(ref_packed[t].size()), ref_packed[t])) << "gather " << t;
    EXPECT_TRUE(same_bits(dense[t]->download(ref_zeroed[t].size()), ref_zeroed[t])) << "zeroed " << t;
    EXPECT_TRUE(same_bits(back[t]->download(ref_back[t].size()), ref_back[t])) << "scatter " << t;
  }
}

TEST_F(CudaKernels, ElementGatherScatterAndScatterAdd) {
  for (std::size_t n : arcsim::testing::property_sizes()) {
    const auto x = arcsim::testing::make_input(n, Dist::kNormal, n + 3);
    const std::size_t k = n / 3;
    std::vector<std::uint32_t> idx(k);
    arcsim::kernels::randk_indices(n, k, 9, 1, 2, idx.data());
    const auto vals = arcsim::testing::make_input(k, Dist::kUniform, n + 4);
    std::vector<float> g(k), s = x, a = x;
    arcsim::kernels::gather(x.data(), idx.data(), k, g.data());
    arcsim::kernels::scatter(vals.data(), idx.data(), k, s.data());
    arcsim::kernels::scatter_add(vals.data(), idx.data(), k, a.data());
    DevBuf<float> xd(x), gd(k), sd(x), ad(x), vd(vals);
    DevBuf<std::uint32_t> id(idx);
    arcsim::cuda::gather(xd.get(), id.get(), k, gd.get(), nullptr);
    arcsim::cuda::scatter(vd.get(), id.get(), k, sd.get(), nullptr);
    arcsim::cuda::scatter_add(vd.get(), id.get(), k, ad.get(), nullptr);
    EXPECT_TRUE(same_bits(gd.download(k), g)) << n;
    EXPECT_TRUE(same_bits(sd.download(n), s)) << n;
    EXPECT_TRUE(same_bits(ad.download(n), a)) << n;
  }
}

TEST_F(CudaKernels, RandKIndicesAndPickAreTheReference) {
  std::uint64_t seed = 3;
  for (std::size_t n : arcsim::testing::property_sizes())
    for (std::size_t k : arcsim::testing::ks_for(n, ++seed)) {
      std::vector<std::uint32_t> ref(k);
      arcsim::kernels::randk_indices(n, k, seed, 5, 6, ref.data());
      DevBuf<std::uint32_t> out(k);
      arcsim::cuda::randk_indices(n, k, seed, 5, 6, out.get(), nullptr);
      EXPECT_EQ(out.download(k), ref) << "n=" << n << " k=" << k;
      const auto x = arcsim::testing::make_input(n, Dist::kNormal, seed);
      std::vector<float> vals(k), res = x;
      arcsim::kernels::gather(x.data(), ref.data(), k, vals.data());
      for (auto i : ref) res[i] = 0.0f;
      DevBuf<float> xd(x), vd(k);
      DevBuf<std::uint32_t> id(k);
      arcsim::cuda::randk_gather(xd.get(), n, k, seed, 5, 6, vd.get(), id.get(), /*zero_src=*/true, nullptr);
      EXPECT_EQ(id.download(k), ref);
      EXPECT_TRUE(same_bits(vd.download(k), vals));
      EXPECT_TRUE(same_bits(xd.download(n), res));
    }
}

TEST_F(CudaKernels, ErrorFeedbackIsBitIdentical) {
  const std::size_t n = (1u << 20) + 7;
  const auto g = arcsim::testing::make_input(n, Dist::kNormal, 1);
  const auto e = arcsim::testing::make_input(n, Dist::kDenormal, 2);
  const auto c = arcsim::testing::make_input(n, Dist::kSignedZeros, 3);
  std::vector<float> add(n), sub(n), res(n), acc = e, mom = e;
  arcsim::kernels::ef_add(g.data(), e.data(), n, add.data());
  arcsim::kernels::ef_sub(g.data(), e.data(), n, sub.data());
  arcsim::kernels::ef14_residual(g.data(), c.data(), n, res.data());
  arcsim::kernels::ef_accumulate(acc.data(), c.data(), n);
  arcsim::kernels::momentum_update(mom.data(), g.data(), n, 0.1f);
  DevBuf<float> gd(g), ed(e), cd(c), out(n), accd(e), momd(e);
  arcsim::cuda::ef_add(gd.get(), ed.get(), n, out.get(), nullptr);
  EXPECT_TRUE(same_bits(out.download(), add));
  arcsim::cuda::ef_sub(gd.get(), ed.get(), n, out.get(), nullptr);
  EXPECT_TRUE(same_bits(out.download(), sub));
  arcsim::cuda::ef14_residual(gd.get(), cd.get(), n, out.get(), nullptr);
  EXPECT_TRUE(same_bits(out.download(), res));
  arcsim::cuda::ef_accumulate(accd.get(), cd.get(), n, nullptr);
  EXPECT_TRUE(same_bits(accd.download(), acc));
  arcsim::cuda::momentum_update(momd.get(), gd.get(), n, 0.1f, nullptr);
  EXPECT_TRUE(same_bits(momd.download(), mom));
}

TEST(CudaRuntime, NoDeviceIsReportedQuietly) {
  // Must never throw or abort, GPU or not: CI relies on it to skip.
  const int n = arcsim::cuda::device_count();
  EXPECT_GE(n, 0);
  EXPECT_FALSE(arcsim::cuda::runtime_version().empty());
  if (n == 0) EXPECT_THROW(arcsim::cuda::device_name(), std::runtime_error);
  else EXPECT_FALSE(arcsim::cuda::device_name().empty());
}

TEST(CudaRuntime, BadArgumentsAreRejectedBeforeAnyLaunch) {
  // Checked on the host, so these run (and must throw) with or without a device.
  EXPECT_THROW(arcsim::cuda::topk_magnitude(nullptr, 3, 4, nullptr, nullptr, 0, nullptr), std::invalid_argument);
  EXPECT_THROW(arcsim::cuda::randk_indices(3, 4, 1, 0, 0, nullptr, nullptr), std::invalid_argument);
  arcsim::cuda::SketchTensor t;
  EXPECT_THROW(arcsim::cuda::sketch_bucket(&t, 1, 9, 1, 0, nullptr), std::invalid_argument);
  EXPECT_THROW(arcsim::cuda::sketch_bucket(&t, 1, 0, 1, 0, nullptr), std::invalid_argument);
  arcsim::cuda::RowSelectTensor r;
  r.rows = 2;
  r.k = 3;
  EXPECT_THROW(arcsim::cuda::select_rows_bucket(&r, 1, nullptr), std::invalid_argument);
  // Empty work enqueues nothing (and so needs no device either).
  EXPECT_NO_THROW(arcsim::cuda::topk_magnitude(nullptr, 0, 0, nullptr, nullptr, 0, nullptr));
  EXPECT_NO_THROW(arcsim::cuda::gather(nullptr, nullptr, 0, nullptr, nullptr));
  EXPECT_NO_THROW(arcsim::cuda::ef_add(nullptr, nullptr, 0, nullptr, nullptr));
}

#else

TEST_F(CudaKernels, SkippedWithoutCuda) { GTEST_SKIP() << "built without CUDA (no nvcc at configure time)"; }

#endif  // ARCSIM_HAVE_CUDA

}  // namespace
