#pragma once
// The communication plan the simulator executes (`arcsim-plan/1`): the one type, reader and
// writer of common/plan.hpp, named in sim's namespace.
#include "common/plan.hpp"

namespace arcsim::sim {

using plan::CollectiveOp;
using plan::load_plan;
using plan::OpKind;
using plan::parse_plan;
using plan::Plan;
using plan::PlanBucket;
using plan::PlanOp;
using plan::SizeScaling;
using plan::to_string;

}  // namespace arcsim::sim
