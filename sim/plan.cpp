#include "sim/plan.hpp"

#include "common/json_fields.hpp"
#include "common/units.hpp"
#include "sim/limits.hpp"
#include "topologies/limits.hpp"

namespace arcsim::sim {

using arcsim::json::ConfigError;
using arcsim::json::Fields;

const char* to_string(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::allreduce: return "allreduce";
    case CollectiveOp::allgather: return "allgather";
    case CollectiveOp::allgatherv: return "allgatherv";
    case CollectiveOp::broadcast: return "broadcast";
    case CollectiveOp::reduce_scatter: return "reduce_scatter";
    case CollectiveOp::alltoallv: return "alltoallv";
  }
  return "?";
}

namespace {

PlanOp parse_op(const nlohmann::json& j, const std::string& file, const std::string& path) {
  Fields f(j, file, path);
  PlanOp op;
  const std::string kind = f.choice("kind", {"kernel", "collective"}, "");
  if (kind == "kernel") {
    op.kind = OpKind::kernel;
    op.name = f.string("name");
    op.elements = f.number_or("elements", 0);
    op.bytes_moved = f.number_or("bytes_moved", 0);
    if (op.elements < 0 || op.elements > units::kMaxSizeBytes) f.fail("elements", "a count in 0..2^53");
    if (op.bytes_moved < 0 || op.bytes_moved > units::kMaxSizeBytes) f.fail("bytes_moved", "a number of bytes in 0..2^53");
    op.duration_s = f.number("duration_s");
    if (op.duration_s < 0) f.fail("duration_s", "a non-negative duration in seconds");
    op.duration_source = f.string_or("duration_source", "unknown");
  } else {
    op.kind = OpKind::collective;
    const std::string name =
        f.choice("op", {"allreduce", "allgather", "allgatherv", "broadcast", "reduce_scatter", "alltoallv"}, "");
    if (name == "allreduce") op.op = CollectiveOp::allreduce;
    else if (name == "allgather") op.op = CollectiveOp::allgather;
    else if (name == "allgatherv") op.op = CollectiveOp::allgatherv;
    else if (name == "broadcast") op.op = CollectiveOp::broadcast;
    else if (name == "alltoallv") op.op = CollectiveOp::alltoallv;
    else op.op = CollectiveOp::reduce_scatter;
    op.bytes_per_rank = f.number("bytes_per_rank");
    if (op.bytes_per_rank < 0 || op.bytes_per_rank > kMaxMessageBytes)
      f.fail("bytes_per_rank", "a number of bytes in 0..2^40 (docs/limits.md)");
    if (const auto* v = f.optional("bytes_by_rank")) {
      if (!v->is_array() || v->empty()) f.fail("bytes_by_rank", "a non-empty array of byte counts");
      for (const auto& x : *v) {
        if (!x.is_number() || x.get<double>() < 0 || x.get<double>() > kMaxMessageBytes)
          f.fail("bytes_by_rank", "byte counts in 0..2^40 (docs/limits.md)");
        if (op.bytes_by_rank.size() == static_cast<std::size_t>(topo::kMaxRanks))
          f.fail("bytes_by_rank", "at most one byte count per rank (" + std::to_string(topo::kMaxRanks) + ")");
        op.bytes_by_rank.push_back(x.get<double>());
      }
    }
    if (op.op == CollectiveOp::allgatherv && op.bytes_by_rank.empty())
      f.fail("bytes_by_rank", "per-rank sizes for an allgatherv");
    // alltoallv: the square matrix of bytes per (source, destination); its size is checked
    // against world_size by parse_plan.
    if (const auto* m = f.optional("bytes_matrix")) {
      const std::string want = "a square array of arrays of byte counts in 0..2^40 (one row per worker)";
      if (!m->is_array() || m->empty() || m->size() > static_cast<std::size_t>(topo::kMaxRanks))
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
      const std::string s = f.choice("scaling", {"per_rank", "share", "per_pair"}, "per_rank");
      if (op.op != CollectiveOp::allgatherv && op.op != CollectiveOp::alltoallv)
        f.fail("scaling", "no scaling (it belongs to an allgatherv or alltoallv)");
      if (s == "per_pair" && op.op != CollectiveOp::alltoallv) f.fail("scaling", "per_rank|share for an allgatherv");
      op.scaling = s == "share" ? SizeScaling::share : s == "per_pair" ? SizeScaling::per_pair : SizeScaling::per_rank;
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

Plan parse_plan(const nlohmann::json& j, const std::string& file) {
  Fields f(j, file, "");
  const std::string format = f.string("format");
  if (format != "arcsim-plan/1") f.fail("format", "\"arcsim-plan/1\"");
  Plan plan;
  if (const auto* c = f.optional("compressor")) {
    if (!c->is_object()) f.fail("compressor", "an object");
    plan.compressor_config = *c;
    if (c->contains("name") && (*c)["name"].is_string()) plan.compressor = (*c)["name"];
  }
  const std::int64_t world = f.integer("world_size");
  if (world < 1 || world > topo::kMaxRanks)
    f.fail("world_size", "a number of workers in 1.." + std::to_string(topo::kMaxRanks));
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

}  // namespace arcsim::sim
