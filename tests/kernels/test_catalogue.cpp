// The kernel catalogue: one entry per plan kernel, formulas the compressors and the docs agree on.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "kernels/catalogue.hpp"
#include "kernels/compressor.hpp"
#include "kernels/timing.hpp"

namespace arcsim::kernels {
namespace {

TEST(Catalogue, NamesAreUniqueAndAreThePlanKernels) {
  std::set<std::string> names;
  for (const auto& k : kernel_catalogue()) {
    EXPECT_TRUE(names.insert(k.name).second) << k.name;
    EXPECT_EQ(&kernel_spec(k.id), &k);
    EXPECT_EQ(find_kernel(k.name), &k);
  }
  EXPECT_EQ(find_kernel("no_such_kernel"), nullptr);
  EXPECT_EQ(plan_kernel_names().size(), names.size());
  for (const auto& n : plan_kernel_names()) EXPECT_TRUE(names.count(n)) << n;
}

TEST(Catalogue, RecordedKernelsCarryTheCatalogueFormulas) {
  // A Top-K step: topk_select bytes = 4 n + 8 k, topk_scatter_add = 12 workers k + 8 n.
  const int W = 3;
  BucketLayout layout;
  layout.shapes = {{1000}};
  CompressorConfig cfg;
  cfg.compressor = "topk";
  cfg.ratio = 0.1;
  Compressor c(W, cfg);
  std::vector<std::vector<float>> g(W, std::vector<float>(1000));
  std::vector<const float*> p;
  for (int w = 0; w < W; ++w) {
    for (int i = 0; i < 1000; ++i) g[w][i] = static_cast<float>((i * 7 + w) % 101) - 50.0f;
    p.push_back(g[w].data());
  }
  std::vector<float> agg(1000);
  const StepReport r = c.step(0, layout, p, agg.data());
  int seen = 0;
  for (const auto& op : r.ops) {
    if (op.kind != PlanOp::Kind::kKernel) continue;
    if (op.kernel.name == "topk_select") {
      EXPECT_EQ(op.kernel.elements, 1000u);
      EXPECT_EQ(op.kernel.bytes_moved, 4u * 1000 + 8u * 100);
      ++seen;
    }
    if (op.kernel.name == "topk_scatter_add") {
      EXPECT_EQ(op.kernel.elements, 3u * 100);
      EXPECT_EQ(op.kernel.bytes_moved, 12u * 3 * 100 + 8u * 1000);
      ++seen;
    }
    EXPECT_EQ(op.kernel.duration_source, "measured-cpu");
  }
  EXPECT_EQ(seen, 2);
}

TEST(Catalogue, DocsTableMatchesTheCatalogue) {
  std::ifstream in(std::string(ARCSIM_SOURCE_DIR) + "/docs/kernels.md");
  ASSERT_TRUE(in) << "docs/kernels.md";
  std::stringstream text;
  text << in.rdbuf();
  for (const auto& k : kernel_catalogue()) {
    const std::string row = std::string("| `") + k.name + "` | " + k.elements_text + " | " + k.bytes_text + " | " +
                            k.primitives + " |";
    EXPECT_NE(text.str().find(row), std::string::npos) << "docs/kernels.md lacks the row\n" << row;
  }
}

}  // namespace
}  // namespace arcsim::kernels
