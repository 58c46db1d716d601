#include "buckets.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace arcsim::traces {

BucketOptions::Rule bucket_rule(const std::string& name) {
  if (name == "pytorch") return BucketOptions::Rule::pytorch;
  if (name == "strict") return BucketOptions::Rule::strict;
  throw std::invalid_argument("bucket rule: expected pytorch or strict, got " + name);
}

std::vector<Bucket> ddp_buckets(const Layout& layout, const BucketOptions& o) {
  if (o.first_cap_bytes <= 0 || o.cap_bytes <= 0)
    throw std::invalid_argument("bucket caps: expected positive byte counts");
  struct Open {
    Bucket b;
    bool first = true;  // this dtype has not closed a bucket yet: the first cap applies
  };
  std::map<std::string, Open> open;  // one accumulating bucket per dtype, as the Reducer keeps
  std::vector<Bucket> closed;
  auto close = [&](Open& acc) {
    if (acc.b.params.empty()) return;
    closed.push_back(std::move(acc.b));
    acc.b = Bucket{};
    acc.first = false;
  };
  for (int i = static_cast<int>(layout.parameters.size()) - 1; i >= 0; --i) {
    const Parameter& p = layout.parameters[i];
    Open& acc = open[p.dtype];
    const std::int64_t cap = acc.first ? o.first_cap_bytes : o.cap_bytes;
    if (o.rule == BucketOptions::Rule::strict && !acc.b.params.empty() && acc.b.bytes + p.bytes() > cap) close(acc);
    acc.b.params.push_back(i);
    acc.b.tensors.push_back(p.name);
    acc.b.elements += p.numel();
    acc.b.bytes += p.bytes();
    acc.b.dtype = p.dtype;
    const std::int64_t cap_now = acc.first ? o.first_cap_bytes : o.cap_bytes;
    if (acc.b.bytes >= cap_now) close(acc);
  }
  for (auto& [dtype, acc] : open) close(acc);
  // The Reducer orders buckets by the smallest position (in the visiting order) they contain, so
  // the bucket that holds the first-ready gradient comes first.
  std::stable_sort(closed.begin(), closed.end(), [&](const Bucket& a, const Bucket& b) {
    return a.params.front() > b.params.front();
  });
  for (std::size_t k = 0; k < closed.size(); ++k) closed[k].index = static_cast<int>(k);
  return closed;
}

}  // namespace arcsim::traces
