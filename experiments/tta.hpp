#pragma once
// Time-to-accuracy arithmetic. A compressor configuration runs through distinct iteration
// *shapes*: dense warm-up steps, a ratio ramp (simulated at a few ratio levels), then the steady
// state. Each shape is simulated once; the steps are mapped onto shapes by a StepSchedule, and
// TTA = the sum of the per-step times of steps 1..S, where S is the first logged step whose
// metric reaches the target.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "experiments/spec.hpp"

namespace arcsim::experiments {

// One distinct iteration shape of a compressor configuration.
struct Shape {
  std::string id;     // "warmup", "ramp0".."rampR-1", "steady"
  std::string kind;   // warmup | ramp | steady
  double ratio = 1;   // the ratio the kernels run at for this shape (1 for dense)
};

// Steps first..last (1-based, inclusive) run as shapes[shape]; last == -1 means "and every later step".
struct Segment {
  std::int64_t first = 1, last = -1;
  std::size_t shape = 0;
};

struct StepSchedule {
  std::vector<Shape> shapes;      // steady is always present and always last
  std::vector<Segment> segments;  // consecutive, starting at step 1, the last one open-ended
};

// The ratio the reference's gradual compression uses t steps after compression starts
// (t = 0 on the first compressed step): max(ratio, from - (from - ratio) * t / L) while t < L.
double ramp_ratio(const CompressorConfig& c, double t);

// Warm-up (dense) for c.warmup steps, then the ramp split into `ramp_shapes` equal segments, each
// simulated at the ramp ratio averaged over its steps, then the steady state at c.ratio.
StepSchedule step_schedule(const CompressorConfig& c, int ramp_shapes);

// One convergence log entry: after `step` optimizer steps the metric had this value.
struct LogPoint {
  std::int64_t step = 0;
  double value = 0;
};

// The first logged step at which the target is reached (accuracy >= value, loss <= value);
// nullopt when the log never reaches it. The log must be sorted by step (throws otherwise).
std::optional<std::int64_t> steps_to_target(const std::vector<LogPoint>& log, const Target& target);

// The step at which the metric crosses the target, interpolated linearly between the last
// evaluation that had not reached it and the first that has (both in the log): the true first
// crossing of a curve that is monotone between those two evaluations lies in (previous, first],
// so the error is below one evaluation interval, and the old rule (the first evaluated step) is
// an upper bound. Reached at the first evaluation: that step. nullopt when never reached.
// Points whose value is NaN (metric not reported there) are skipped. Throws on unsorted steps.
std::optional<double> crossing_step(const std::vector<LogPoint>& log, const Target& target);

// Wall-clock seconds of steps 1..steps given the simulated seconds of each shape (indexed like
// schedule.shapes). steps <= 0 gives 0.
double time_for_steps(const StepSchedule& schedule, const std::vector<double>& shape_step_s,
                      std::int64_t steps);
// The same for a fractional step count: whole steps, plus the fraction of the next step's time.
double time_for_fractional_steps(const StepSchedule& schedule, const std::vector<double>& shape_step_s,
                                 double steps);

}  // namespace arcsim::experiments
