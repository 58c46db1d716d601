#pragma once
// A compressor's calls as the plan format's type (common/plan.hpp): the header (compressor
// config, world size) and one bucket per step report. Replay assembles and re-times plans from
// these; Compressor::plan_header / plan_bucket are their JSON.
#include "common/plan.hpp"
#include "kernels/compressor.hpp"
#include "kernels/layout.hpp"

namespace arcsim::kernels {

// The plan of `c` with no buckets yet.
plan::Plan plan_of(const Compressor& c);

// The bucket of one step: its id, elements, tensor names and ops in program order.
plan::PlanBucket plan_bucket_of(const StepReport& report, const BucketLayout& layout);

}  // namespace arcsim::kernels
