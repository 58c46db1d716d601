#include "kernels/plan_writer.hpp"

namespace arcsim::kernels {

plan::Plan plan_of(const Compressor& c) {
  plan::Plan p;
  p.compressor = c.config().compressor;
  p.compressor_config = c.config().to_json();
  p.world_size = c.workers();
  return p;
}

plan::PlanBucket plan_bucket_of(const StepReport& report, const BucketLayout& layout) {
  plan::PlanBucket b;
  b.bucket = report.bucket;
  b.elements = static_cast<double>(layout.numel());
  for (std::size_t t = 0; t < layout.shapes.size(); ++t) b.tensors.push_back(layout.name(t));
  for (const auto& op : report.ops) b.ops.push_back(to_plan_op(op));
  return b;
}

}  // namespace arcsim::kernels
