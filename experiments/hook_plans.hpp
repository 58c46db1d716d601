#pragma once
// The plans of `implementation: "hook"` configurations: what a PyTorch DDP comm hook does in one
// step, recorded by running the hook itself (`arcsim record --hook`, traces/recorder/hook_record.py)
// on the trace's layout, then re-timed for the spec's kernel timing like any plan. A recording is
// cached in the sweep's plans/ directory under a hash of everything it depends on.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "kernels/timing.hpp"
#include "sim/plan.hpp"

namespace arcsim::experiments {

struct HookRecording {
  std::string hook;                  // FILE.py:FUNCTION, MODULE:FUNCTION or torch:NAME
  nlohmann::json config;             // make_state's keyword arguments
  int world = 4;                     // ranks of the recording group
  std::string trace;                 // trace directory (its layout gives the buckets)
  double first_bucket_cap = 1 << 20, bucket_cap = 25 << 20;
  int steps = 2;                     // hook calls per bucket; the last is recorded (error feedback in place)
};

// Runs the recorder in a child process unless `dir` holds the recording already; the plan's torch
// ops re-timed by `timer` when there is one (else their measured CPU times stay). Throws
// std::runtime_error with the recorder's own one-line error.
sim::Plan hook_plan(const HookRecording& r, const std::string& dir, const std::optional<kernels::KernelTimeModel>& timer);

}  // namespace arcsim::experiments
