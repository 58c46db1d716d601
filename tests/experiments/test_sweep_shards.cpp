// Sharded sweeps: the partition covers every point exactly once and keeps network points whole;
// prepare + every shard + merge gives the bytes of an unsharded run (also with failed points);
// the merge refuses missing, incomplete, mixed-spec, mixed-commit and mixed-partition shards with
// one error naming them.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "common/atomic_file.hpp"
#include "common/json_fields.hpp"
#include "experiments/plan_cache.hpp"
#include "experiments/sweep_inputs.hpp"
#include "experiments/sweep_shards.hpp"
#include "experiments/sweep_tasks.hpp"
#include "sweep_fixture.hpp"

namespace ex = arcsim::experiments;
namespace fs = std::filesystem;
using nlohmann::json;
using sweep_test::Scratch;
using sweep_test::slurp;

namespace {

ex::ExperimentSpec spec_in(const std::string& dir, json changes = json::object()) {
  json j = sweep_test::small_spec_json();
  j.update(changes);
  return ex::parse_spec(j, dir + "/spec.json");
}

// prepare, shards 1..n, merge into dir; the merge's error (empty when it worked).
void run_shards(const ex::ExperimentSpec& spec, const std::string& dir, int n, int failing_nodes = -1) {
  ex::prepare_sweep(spec, sweep_test::options(dir));
  for (int i = 1; i <= n; ++i) {
    ex::SweepOptions o = sweep_test::options(dir, failing_nodes);
    o.shard = ex::ShardId{i, n};
    ex::run_sweep(spec, o);
  }
}

std::string merge_error(const ex::ExperimentSpec& spec, const std::string& dir) {
  try {
    ex::merge_sweep(spec, sweep_test::options(dir));
  } catch (const arcsim::json::ConfigError& e) {
    return e.what();
  }
  return "";
}

void edit_json(const std::string& path, const std::function<void(json&)>& f) {
  json doc = json::parse(slurp(path));
  f(doc);
  arcsim::io::write_file_atomic(path, doc.dump(1) + "\n");
}

}  // namespace

TEST(SweepShards, ParseShard) {
  const ex::ShardId id = ex::parse_shard("3/8");
  EXPECT_EQ(id.index, 3);
  EXPECT_EQ(id.count, 8);
  EXPECT_EQ(ex::shard_name(id), "3-of-8");
  EXPECT_EQ(ex::shard_dir("out", id), "out/shards/3-of-8");
  for (const char* bad : {"0/4", "5/4", "4", "1/0", "-1/4", "a/b", "1/4x", "", "1//4"}) {
    try {
      ex::parse_shard(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const arcsim::json::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("--shard: expected I/N"), std::string::npos) << e.what();
    }
  }
}

TEST(SweepShards, PartitionCoversEveryPointOnceKeepsNetworkPointsWholeAndBalances) {
  Scratch s("shard-partition");
  const ex::ExperimentSpec spec =
      spec_in(s.dir, {{"nodes", json::array({8, 16, 32, 64, 128})}, {"bandwidths", json::array({"1Gbps", "10Gbps", "100Gbps"})}});
  const ex::SweepInputs in = ex::check_inputs(spec, s.dir);
  const ex::PlanSet plans = ex::build_plan_cache(spec, in, {s.dir + "/plans", true, nullptr});
  const std::vector<ex::PointWork> points = ex::plan_points(spec, in, plans);
  ASSERT_EQ(points.size(), 45u);
  for (int n : {1, 2, 3, 4, 7, 15, 16, 100}) {
    const std::vector<int> part = ex::partition_points(points, plans, n);
    EXPECT_EQ(part, ex::partition_points(points, plans, n)) << "not deterministic, N=" << n;
    std::map<std::string, int> shard_of_net;
    std::vector<double> load(n, 0);
    std::map<std::string, std::vector<ex::PointWork>> units;
    for (std::size_t i = 0; i < points.size(); ++i) {
      ASSERT_GE(part[i], 1);
      ASSERT_LE(part[i], n);
      auto [it, fresh] = shard_of_net.emplace(points[i].net_key, part[i]);
      EXPECT_EQ(it->second, part[i]) << "a network point split over shards, N=" << n;
      units[points[i].net_key].push_back(points[i]);
    }
    // The shards' point lists are disjoint and together are all points, in point order.
    std::vector<std::size_t> seen;
    for (int i = 1; i <= n; ++i) {
      const auto mine = ex::shard_points(points, plans, ex::ShardId{i, n});
      for (std::size_t k = 1; k < mine.size(); ++k) EXPECT_LT(mine[k - 1].point.index, mine[k].point.index);
      for (const auto& w : mine) seen.push_back(w.point.index);
    }
    std::sort(seen.begin(), seen.end());
    ASSERT_EQ(seen.size(), points.size()) << "N=" << n;
    for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i);
    // Greedy largest-first: no shard exceeds the lightest one by more than the largest unit.
    double largest = 0;
    for (const auto& [net, unit] : units) {
      const double c = ex::unit_cost(unit, plans);
      largest = std::max(largest, c);
      load[shard_of_net[net] - 1] += c;
    }
    if (n <= static_cast<int>(units.size())) {
      EXPECT_LE(*std::max_element(load.begin(), load.end()) - *std::min_element(load.begin(), load.end()), largest)
          << "N=" << n;
    }
  }
}

TEST(SweepShards, UnitCostGrowsWithNodes) {
  Scratch s("shard-cost");
  const ex::ExperimentSpec spec = spec_in(s.dir);
  const ex::SweepInputs in = ex::check_inputs(spec, s.dir);
  const ex::PlanSet plans = ex::build_plan_cache(spec, in, {s.dir + "/plans", true, nullptr});
  std::map<int, std::vector<ex::PointWork>> by_nodes;  // the first bandwidth only
  for (const auto& w : ex::plan_points(spec, in, plans))
    if (w.point.net.bandwidth_Bps == spec.bandwidths_Bps[0]) by_nodes[w.point.net.nodes].push_back(w);
  EXPECT_LT(ex::unit_cost(by_nodes[8], plans), ex::unit_cost(by_nodes[16], plans));
  EXPECT_DOUBLE_EQ(ex::unit_cost(by_nodes[32], plans), 4 * ex::unit_cost(by_nodes[8], plans));
}

TEST(SweepShards, MergedFilesAreTheUnshardedRunsBytes) {
  for (int failing : {-1, 16}) {
    Scratch s("shard-merge");
    const ex::ExperimentSpec spec = spec_in(s.dir);
    const ex::SweepSummary whole = ex::run_sweep(spec, sweep_test::options(s.dir + "/whole", failing));
    run_shards(spec, s.dir + "/sharded", 3, failing);
    const ex::SweepSummary merged = ex::merge_sweep(spec, sweep_test::options(s.dir + "/sharded"));
    EXPECT_EQ(merged.points, whole.points);
    EXPECT_EQ(merged.failed, whole.failed);
    EXPECT_EQ(merged.simulations, 0u);
    if (failing > 0) { EXPECT_EQ(whole.failed, 6u); }  // 3 compressors x 2 bandwidths at 16 nodes
    for (const char* f : {"/results.csv", "/results.json"})
      EXPECT_EQ(slurp(s.dir + "/sharded" + f), slurp(s.dir + "/whole" + f)) << f << ", failing nodes " << failing;
  }
}

TEST(SweepShards, MoreShardsThanNetworkPointsLeavesSomeEmptyAndStillMerges) {
  Scratch s("shard-empty");
  const ex::ExperimentSpec spec = spec_in(s.dir);  // 6 network points
  ex::run_sweep(spec, sweep_test::options(s.dir + "/whole"));
  run_shards(spec, s.dir + "/sharded", 8);
  int empty = 0;
  for (int i = 1; i <= 8; ++i)
    empty += json::parse(slurp(s.dir + "/sharded/shards/" + std::to_string(i) + "-of-8/results.json"))["points"].empty();
  EXPECT_EQ(empty, 2);
  ex::merge_sweep(spec, sweep_test::options(s.dir + "/sharded"));
  EXPECT_EQ(slurp(s.dir + "/sharded/results.json"), slurp(s.dir + "/whole/results.json"));
}

TEST(SweepShards, AShardResumesFromItsOwnFiles) {
  Scratch s("shard-resume");
  const ex::ExperimentSpec spec = spec_in(s.dir);
  run_shards(spec, s.dir, 2);
  ex::SweepOptions o = sweep_test::options(s.dir);
  o.shard = ex::ShardId{2, 2};
  const std::string before = slurp(s.dir + "/shards/2-of-2/results.json");
  const ex::SweepSummary again = ex::run_sweep(spec, o);
  EXPECT_EQ(again.reused, again.points);
  EXPECT_EQ(again.simulations, 0u);
  EXPECT_EQ(slurp(s.dir + "/shards/2-of-2/results.json"), before);
}

TEST(SweepShards, AShardNeedsPreparedPlans) {
  Scratch s("shard-unprepared");
  ex::SweepOptions o = sweep_test::options(s.dir);
  o.shard = ex::ShardId{1, 2};
  try {
    ex::run_sweep(spec_in(s.dir), o);
    FAIL() << "expected a ConfigError";
  } catch (const arcsim::json::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--prepare"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(s.dir + "/shards/1-of-2/results.json"));
}

TEST(SweepShards, MergeRefusesMissingAndIncompleteShardsNamingEach) {
  Scratch s("shard-missing");
  const ex::ExperimentSpec spec = spec_in(s.dir);
  EXPECT_NE(merge_error(spec, s.dir).find("--prepare"), std::string::npos);
  ex::prepare_sweep(spec, sweep_test::options(s.dir));
  EXPECT_NE(merge_error(spec, s.dir).find("no shards to merge"), std::string::npos);
  run_shards(spec, s.dir, 4);
  fs::remove_all(s.dir + "/shards/3-of-4");
  edit_json(s.dir + "/shards/1-of-4/results.json", [](json& d) { d["points"].erase(d["points"].begin()); });
  const std::string e = merge_error(spec, s.dir);
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  EXPECT_NE(e.find("2 of 4 shard(s) unusable"), std::string::npos) << e;
  EXPECT_NE(e.find("shard 1/4 incomplete: "), std::string::npos) << e;
  EXPECT_NE(e.find("--shard 1/4"), std::string::npos) << e;
  EXPECT_NE(e.find("shard 3/4 missing"), std::string::npos) << e;
  EXPECT_EQ(e.find("shard 2/4"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(s.dir + "/results.json"));  // nothing written

  arcsim::io::write_file_atomic(s.dir + "/shards/2-of-4/results.json", "{\"format\": ");
  EXPECT_NE(merge_error(spec, s.dir).find("shard 2/4 unreadable " + s.dir + "/shards/2-of-4/results.json ("),
            std::string::npos);
}

TEST(SweepShards, MergeRefusesAShardOfAnotherSpec) {
  Scratch s("shard-mixed-spec");
  const ex::ExperimentSpec spec = spec_in(s.dir);
  run_shards(spec, s.dir, 2);
  // Shard 2 re-made from a spec that differs in one field (its points and keys are the same).
  const ex::ExperimentSpec other = spec_in(s.dir, {{"point_timeout", "300s"}});
  fs::remove_all(s.dir + "/shards/2-of-2");
  ex::SweepOptions o = sweep_test::options(s.dir);
  o.shard = ex::ShardId{2, 2};
  ex::run_sweep(other, o);
  const std::string e = merge_error(spec, s.dir);
  EXPECT_NE(e.find("shard 2/2 made from another spec: `point_timeout_s`"), std::string::npos) << e;
  EXPECT_EQ(e.find("shard 1/2"), std::string::npos) << e;
}

TEST(SweepShards, MergeRefusesAShardOfAnotherCommitOrTrace) {
  Scratch s("shard-mixed-commit");
  const ex::ExperimentSpec spec = spec_in(s.dir);
  run_shards(spec, s.dir, 3);
  edit_json(s.dir + "/shards/2-of-3/results.json", [](json& d) { d["provenance"]["git_commit"] = "0123456789ab"; });
  edit_json(s.dir + "/shards/3-of-3/results.json",
            [](json& d) { d["provenance"]["trace_checksum"] = "sha256:" + std::string(64, '0'); });
  const std::string e = merge_error(spec, s.dir);
  EXPECT_NE(e.find("shard 2/3 made by arcsim commit \"0123456789ab\", this merge is commit"), std::string::npos) << e;
  EXPECT_NE(e.find("shard 3/3 made from another trace"), std::string::npos) << e;
}

TEST(SweepShards, MergeRefusesShardsOfTwoPartitions) {
  Scratch s("shard-mixed-n");
  const ex::ExperimentSpec spec = spec_in(s.dir);
  run_shards(spec, s.dir, 2);
  fs::create_directories(s.dir + "/shards/1-of-3");
  const std::string e = merge_error(spec, s.dir);
  EXPECT_NE(e.find("different partitions (N = 2, 3)"), std::string::npos) << e;
}

TEST(SweepShards, MergeRefusesAShardDirectoryHoldingAnotherShardsFiles) {
  Scratch s("shard-swapped");
  const ex::ExperimentSpec spec = spec_in(s.dir);
  run_shards(spec, s.dir, 2);
  fs::copy_file(s.dir + "/shards/1-of-2/results.json", s.dir + "/shards/2-of-2/results.json",
                fs::copy_options::overwrite_existing);
  const std::string e = merge_error(spec, s.dir);
  EXPECT_NE(e.find("shard 2/2 its files say they are shard {\"count\":2,\"index\":1}"), std::string::npos) << e;
}
