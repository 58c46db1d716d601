#pragma once
// What one compression call of a bucket did (StepReport::phase, the binding's report["phase"],
// `arcsim compress`'s per-step report). One row per phase; its name is what outputs carry.
#include <span>
#include <string>

#include "common/vocabulary.hpp"

namespace arcsim::kernels {

enum class StepPhase { warmup_dense, ef21_init_dense, compressed };

inline constexpr vocab::Entry<StepPhase> kStepPhases[] = {
    {"warmup-dense", "one of the first `warmup` calls of the bucket: dense all-reduce, EF state untouched",
     StepPhase::warmup_dense},
    {"ef21-init-dense", "EF21/EF21M's first call: a dense all-reduce that initialises the EF state",
     StepPhase::ef21_init_dense},
    {"compressed", "the compressor ran (at the ramp's ratio when a ramp is on)", StepPhase::compressed},
};

// The phase's name as outputs carry it.
inline std::string phase_name(StepPhase p) {
  for (const auto& e : kStepPhases)
    if (e.value == p) return std::string(e.name);
  return "?";
}

}  // namespace arcsim::kernels
