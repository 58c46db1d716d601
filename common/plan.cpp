#include "common/plan.hpp"

#include <cmath>
#include <stdexcept>

#include "common/json_fields.hpp"
#include "common/units.hpp"

namespace arcsim::plan {

using arcsim::json::Fields;
using nlohmann::json;

namespace {

constexpr vocab::Entry<CollectiveOp> kCollectiveOps[] = {
    {"allreduce", "every rank ends with the sum of every rank's vector", CollectiveOp::allreduce},
    {"allgather", "every rank ends with every rank's block (equal blocks)", CollectiveOp::allgather},
    {"allgatherv", "all-gather of blocks whose size differs per rank (bytes_by_rank)", CollectiveOp::allgatherv},
    {"broadcast", "every rank ends with the root's vector", CollectiveOp::broadcast},
    {"reduce_scatter", "every rank ends with its part of the sum", CollectiveOp::reduce_scatter},
    {"alltoallv", "every rank sends its own block to each other rank (bytes_matrix)", CollectiveOp::alltoallv},
};

constexpr vocab::Entry<SizeScaling> kScalings[] = {
    {"per_rank", "sizes are per rank: blocks cycled, all-to-all-v row totals kept", SizeScaling::per_rank},
    {"share", "shares of a total independent of the rank count (scaled by W/N)", SizeScaling::share},
    {"per_pair", "all-to-all-v entries cycled unscaled", SizeScaling::per_pair},
};

static_assert(units::kMaxSizeBytes == kMaxCount, "plan counts and sizes share the 2^53 bound");

// A whole count as a JSON integer (how the recorder writes it), anything else as a number.
json count(double v) {
  if (v >= 0 && v <= kMaxCount && std::floor(v) == v) return static_cast<std::uint64_t>(v);
  return v;
}

PlanOp parse_op(const json& j, const std::string& file, const std::string& path) {
  Fields f(j, file, path);
  PlanOp op;
  const std::string kind = f.choice("kind", {"kernel", "collective"}, "");
  if (kind == "kernel") {
    op.kind = OpKind::kernel;
    op.name = f.string("name");
    op.elements = f.number_or("elements", 0);
    op.bytes_moved = f.number_or("bytes_moved", 0);
    if (op.elements < 0 || op.elements > kMaxCount) f.fail("elements", "a count in 0..2^53");
    if (op.bytes_moved < 0 || op.bytes_moved > kMaxCount) f.fail("bytes_moved", "a number of bytes in 0..2^53");
    op.duration_s = f.number("duration_s");
    if (op.duration_s < 0) f.fail("duration_s", "a non-negative duration in seconds");
    op.duration_source = f.string_or("duration_source", "unknown");
  } else {
    op.kind = OpKind::collective;
    op.op = parse_collective_op(f.choice("op", vocab::name_list(kCollectiveOps), ""));
    op.bytes_per_rank = f.number("bytes_per_rank");
    if (op.bytes_per_rank < 0 || op.bytes_per_rank > kMaxMessageBytes)
      f.fail("bytes_per_rank", "a number of bytes in 0..2^40 (docs/limits.md)");
    if (const auto* v = f.optional("bytes_by_rank")) {
      if (!v->is_array() || v->empty()) f.fail("bytes_by_rank", "a non-empty array of byte counts");
      for (const auto& x : *v) {
        if (!x.is_number() || x.get<double>() < 0 || x.get<double>() > kMaxMessageBytes)
          f.fail("bytes_by_rank", "byte counts in 0..2^40 (docs/limits.md)");
        if (op.bytes_by_rank.size() == static_cast<std::size_t>(kMaxWorldSize))
          f.fail("bytes_by_rank", "at most one byte count per rank (" + std::to_string(kMaxWorldSize) + ")");
        op.bytes_by_rank.push_back(x.get<double>());
      }
    }
    if (op.op == CollectiveOp::allgatherv && op.bytes_by_rank.empty())
      f.fail("bytes_by_rank", "per-rank sizes for an allgatherv");
    // alltoallv: the square matrix of bytes per (source, destination); its size is checked
    // against world_size by parse_plan.
    if (const auto* m = f.optional("bytes_matrix")) {
      const std::string want = "a square array of arrays of byte counts in 0..2^40 (one row per worker)";
      if (!m->is_array() || m->empty() || m->size() > static_cast<std::size_t>(kMaxWorldSize))
        f.fail("bytes_matrix", want);
      for (const auto& row : *m) {
        if (!row.is_array() || row.size() != m->size()) f.fail("bytes_matrix", want);
        std::vector<double> r;
        for (const auto& x : row) {
          if (!x.is_number() || x.get<double>() < 0 || x.get<double>() > kMaxMessageBytes) f.fail("bytes_matrix", want);
          r.push_back(x.get<double>());
        }
        op.bytes_matrix.push_back(std::move(r));
      }
    }
    if (op.op == CollectiveOp::alltoallv && op.bytes_matrix.empty())
      f.fail("bytes_matrix", "the bytes per (source, destination) of an alltoallv");
    if (op.op != CollectiveOp::alltoallv && !op.bytes_matrix.empty())
      f.fail("bytes_matrix", "no bytes_matrix (it belongs to an alltoallv)");
    if (f.has("scaling")) {
      const std::string s = f.choice("scaling", vocab::name_list(kScalings), "per_rank");
      if (op.op != CollectiveOp::allgatherv && op.op != CollectiveOp::alltoallv)
        f.fail("scaling", "no scaling (it belongs to an allgatherv or alltoallv)");
      op.scaling = vocab::find(kScalings, s)->value;
      if (op.scaling == SizeScaling::per_pair && op.op != CollectiveOp::alltoallv)
        f.fail("scaling", "per_rank|share for an allgatherv");
    }
    op.dtype = f.string_or("dtype", "float32");
    if (const auto* b = f.optional("blocking")) {
      if (!b->is_boolean()) f.fail("blocking", "true or false");
      op.blocking = b->get<bool>();
    }
  }
  f.finish();
  return op;
}

}  // namespace

std::span<const vocab::Entry<CollectiveOp>> collective_ops() { return kCollectiveOps; }

const char* to_string(CollectiveOp op) {
  for (const auto& e : kCollectiveOps)
    if (e.value == op) return e.name.data();  // the table's literals are NUL-terminated
  return "?";
}

CollectiveOp parse_collective_op(const std::string& name) {
  if (name == "reducescatter") return CollectiveOp::reduce_scatter;
  if (const auto* e = vocab::find(kCollectiveOps, name)) return e->value;
  throw std::invalid_argument(vocab::expected(kCollectiveOps, name));
}

const char* to_string(SizeScaling s) {
  for (const auto& e : kScalings)
    if (e.value == s) return e.name.data();  // the table's literals are NUL-terminated
  return "?";
}

Plan parse_plan(const json& j, const std::string& file) {
  Fields f(j, file, "");
  const std::string format = f.string("format");
  if (format != kPlanFormat) f.fail("format", std::string("\"") + kPlanFormat + "\"");
  Plan plan;
  if (const auto* c = f.optional("compressor")) {
    if (!c->is_object()) f.fail("compressor", "an object");
    plan.compressor_config = *c;
    if (c->contains("name") && (*c)["name"].is_string()) plan.compressor = (*c)["name"];
  }
  const std::int64_t world = f.integer("world_size");
  if (world < 1 || world > kMaxWorldSize)
    f.fail("world_size", "a number of workers in 1.." + std::to_string(kMaxWorldSize));
  plan.world_size = static_cast<int>(world);
  const auto& buckets = f.required("buckets");
  if (!buckets.is_array() || buckets.empty()) f.fail("buckets", "a non-empty array of buckets");
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    const std::string path = "buckets[" + std::to_string(i) + "]";
    Fields b(buckets[i], file, path);
    PlanBucket bucket;
    const std::int64_t id = b.integer("bucket");
    bucket.bucket = static_cast<int>(i);
    if (id != static_cast<std::int64_t>(i))
      b.fail("bucket", "bucket id " + std::to_string(i) + " (ids are 0..n-1 in order)");
    bucket.elements = b.number_or("elements", 0);
    if (const auto* t = b.optional("tensors")) {
      if (!t->is_array()) b.fail("tensors", "an array of parameter names");
      for (const auto& name : *t) {
        if (!name.is_string()) b.fail("tensors", "an array of parameter names");
        bucket.tensors.push_back(name.get<std::string>());
      }
    }
    const auto& ops = b.required("ops");
    if (!ops.is_array()) b.fail("ops", "an array of kernel and collective ops");
    for (std::size_t k = 0; k < ops.size(); ++k) {
      const std::string at = path + ".ops[" + std::to_string(k) + "]";
      bucket.ops.push_back(parse_op(ops[k], file, at));
      const auto& m = bucket.ops.back().bytes_matrix;
      if (!m.empty() && m.size() != static_cast<std::size_t>(plan.world_size))
        throw arcsim::json::ConfigError(file + ": " + at + ".bytes_matrix: expected " + std::to_string(plan.world_size) +
                                        " x " + std::to_string(plan.world_size) + " (world_size), got " +
                                        std::to_string(m.size()) + " rows");
    }
    b.finish();
    plan.buckets.push_back(std::move(bucket));
  }
  f.finish();
  return plan;
}

Plan load_plan(const std::string& path) { return parse_plan(arcsim::json::load_file(path), path); }

json to_json(const PlanOp& op) {
  if (op.kind == OpKind::kernel)
    return {{"kind", "kernel"},
            {"name", op.name},
            {"elements", count(op.elements)},
            {"bytes_moved", count(op.bytes_moved)},
            {"duration_s", op.duration_s},
            {"duration_source", op.duration_source}};
  json j = {{"kind", "collective"},
            {"op", to_string(op.op)},
            {"bytes_per_rank", count(op.bytes_per_rank)},
            {"dtype", op.dtype},
            {"blocking", op.blocking}};
  if (!op.bytes_by_rank.empty()) {
    json by = json::array();
    for (double b : op.bytes_by_rank) by.push_back(count(b));
    j["bytes_by_rank"] = std::move(by);
  }
  if (!op.bytes_matrix.empty()) {
    json m = json::array();
    for (const auto& row : op.bytes_matrix) {
      json r = json::array();
      for (double b : row) r.push_back(count(b));
      m.push_back(std::move(r));
    }
    j["bytes_matrix"] = std::move(m);
  }
  if (op.scaling != SizeScaling::per_rank) j["scaling"] = to_string(op.scaling);
  return j;
}

json to_json(const PlanBucket& b) {
  json ops = json::array();
  for (const auto& op : b.ops) ops.push_back(to_json(op));
  return {{"bucket", b.bucket}, {"elements", count(b.elements)}, {"tensors", b.tensors}, {"ops", std::move(ops)}};
}

json header_json(const Plan& p) {
  json j = {{"format", kPlanFormat}, {"world_size", p.world_size}};
  if (!p.compressor_config.is_null()) j["compressor"] = p.compressor_config;
  return j;
}

json to_json(const Plan& p) {
  json j = header_json(p);
  json buckets = json::array();
  for (const auto& b : p.buckets) buckets.push_back(to_json(b));
  j["buckets"] = std::move(buckets);
  return j;
}

}  // namespace arcsim::plan
