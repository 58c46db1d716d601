#include "tta.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace arcsim::experiments {

double ramp_ratio(const CompressorConfig& c, double t) { return kernels::ramp_ratio(c.options, t); }

StepSchedule step_schedule(const CompressorConfig& c, int ramp_shapes) {
  StepSchedule s;
  std::int64_t next = 1;  // first step not yet covered
  if (c.name != "dense" && c.warmup > 0) {
    s.shapes.push_back({"warmup", "warmup", 1.0});
    s.segments.push_back({next, next + c.warmup - 1, s.shapes.size() - 1});
    next += c.warmup;
  }
  const std::int64_t L = c.name == "dense" ? 0 : c.effective_ramp_steps();
  if (L > 0) {
    const std::int64_t R = std::min<std::int64_t>(std::max(ramp_shapes, 1), L);
    for (std::int64_t j = 0; j < R; ++j) {
      const std::int64_t a = j * L / R, b = (j + 1) * L / R;  // t in [a, b)
      double sum = 0;
      for (std::int64_t t = a; t < b; ++t) sum += ramp_ratio(c, static_cast<double>(t));
      s.shapes.push_back({"ramp" + std::to_string(j), "ramp", sum / static_cast<double>(b - a)});
      s.segments.push_back({next + a, next + b - 1, s.shapes.size() - 1});
    }
    next += L;
  }
  s.shapes.push_back({"steady", "steady", c.name == "dense" ? 1.0 : c.ratio});
  s.segments.push_back({next, -1, s.shapes.size() - 1});
  return s;
}

std::optional<std::int64_t> steps_to_target(const std::vector<LogPoint>& log, const Target& target) {
  for (std::size_t i = 1; i < log.size(); ++i)
    if (log[i].step <= log[i - 1].step)
      throw std::invalid_argument("convergence log: steps must increase (entry " + std::to_string(i) + ")");
  for (const auto& p : log) {
    if (!std::isnan(p.value) && target.reached_by(p.value)) return p.step;
  }
  return std::nullopt;
}

double time_for_steps(const StepSchedule& schedule, const std::vector<double>& shape_step_s,
                      std::int64_t steps) {
  if (shape_step_s.size() != schedule.shapes.size())
    throw std::invalid_argument("time_for_steps: one step time per shape expected");
  double total = 0;
  for (const auto& seg : schedule.segments) {
    if (steps < seg.first) break;
    const std::int64_t last = seg.last < 0 ? steps : std::min(seg.last, steps);
    total += static_cast<double>(last - seg.first + 1) * shape_step_s[seg.shape];
  }
  return total;
}

}  // namespace arcsim::experiments

namespace arcsim::experiments {

std::optional<double> crossing_step(const std::vector<LogPoint>& log, const Target& target) {
  for (std::size_t i = 1; i < log.size(); ++i)
    if (log[i].step <= log[i - 1].step)
      throw std::invalid_argument("convergence log: steps must increase (entry " + std::to_string(i) + ")");
  const LogPoint* prev = nullptr;  // the last evaluation with a value that had not reached the target
  for (const auto& p : log) {
    if (std::isnan(p.value)) continue;
    if (target.reached_by(p.value)) {
      if (!prev || p.value == prev->value) return static_cast<double>(p.step);
      const double f = (target.value - prev->value) / (p.value - prev->value);  // in (0, 1]
      return static_cast<double>(prev->step) + std::clamp(f, 0.0, 1.0) * static_cast<double>(p.step - prev->step);
    }
    prev = &p;
  }
  return std::nullopt;
}

double time_for_fractional_steps(const StepSchedule& schedule, const std::vector<double>& shape_step_s,
                                 double steps) {
  if (!(steps > 0)) return 0;
  const double whole = std::floor(steps);
  const auto n = static_cast<std::int64_t>(whole);
  const double frac = steps - whole;
  double t = time_for_steps(schedule, shape_step_s, n);
  if (frac > 0) t += frac * (time_for_steps(schedule, shape_step_s, n + 1) - t);
  return t;
}

}  // namespace arcsim::experiments
