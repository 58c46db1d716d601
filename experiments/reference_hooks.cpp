#include "reference_hooks.hpp"

namespace arcsim::experiments {

namespace {

struct Shipped {
  const char* compressor;
  const char* hook;
};
constexpr Shipped kShipped[] = {{"dense", "arcsim.reference_hooks:dense_hook"},
                                {"topk", "arcsim.reference_hooks:topk_hook"},
                                {"randk", "arcsim.reference_hooks:randk_hook"},
                                {"arctopk", "arcsim.reference_hooks:arctopk_hook"}};

}  // namespace

std::string reference_hook(const std::string& compressor) {
  for (const auto& s : kShipped)
    if (compressor == s.compressor) return s.hook;
  return "";
}

}  // namespace arcsim::experiments
