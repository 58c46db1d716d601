#pragma once
// DDP gradient buckets computed from a layout, the way PyTorch's Reducer assigns them
// (torch/csrc/distributed/c10d/reducer.cpp, compute_bucket_assignment_by_size, as used when DDP
// rebuilds its buckets after the first iteration): tensors are visited in reverse registration
// order (the order their gradients become ready), grouped by dtype; a tensor is appended to the
// open bucket of its dtype, and the bucket is closed as soon as its size reaches the current cap.
// The first bucket's cap is 1 MiB, later ones 25 MiB. So a bucket may exceed its cap by its last
// tensor, and a tensor larger than the cap joins the open bucket and closes it.
// tests/python/test_trace_buckets.py checks this against torch's own function.
//
// Rule::strict is the alternative some docs describe (never exceed the cap: close the open bucket
// before a tensor that would overflow it; a tensor larger than the cap gets a bucket alone).
#include <cstdint>
#include <string>
#include <vector>

#include "trace.hpp"

namespace arcsim::traces {

struct BucketOptions {
  enum class Rule { pytorch, strict };
  std::int64_t first_cap_bytes = 1 << 20;       // torch.distributed._DEFAULT_FIRST_BUCKET_BYTES
  std::int64_t cap_bytes = 25LL << 20;          // DDP bucket_cap_mb = 25
  Rule rule = Rule::pytorch;
};

struct Bucket {
  int index = 0;                     // 0 = the first bucket to become ready (last layers)
  std::vector<int> params;           // indices into layout.parameters, in bucket (ready) order
  std::vector<std::string> tensors;  // the same, as names
  std::int64_t elements = 0;
  std::int64_t bytes = 0;
  std::string dtype;
};

std::vector<Bucket> ddp_buckets(const Layout& layout, const BucketOptions& options = {});

// "pytorch" | "strict" -> Rule; throws std::invalid_argument otherwise.
BucketOptions::Rule bucket_rule(const std::string& name);

}  // namespace arcsim::traces
