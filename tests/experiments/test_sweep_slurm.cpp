// The Slurm scripts of a sharded sweep: run by bash outside Slurm (with echo as the arcsim binary),
// each job passes exactly the intended arguments, also for paths that need shell quoting.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "common/json_fields.hpp"
#include "experiments/slurm.hpp"
#include "sweep_fixture.hpp"

namespace ex = arcsim::experiments;
using sweep_test::Scratch;

namespace {

std::string run(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[512];
  while (p && std::fgets(buf, sizeof buf, p)) out += buf;
  if (p) ::pclose(p);
  return out;
}

ex::SlurmOptions options(const std::string& dir) {
  ex::SlurmOptions o;
  o.arcsim = "/bin/echo";
  o.workdir = dir;
  o.spec_arg = "it's my spec.json";
  o.out_arg = "out";
  o.job_name = "arcsim-test";
  o.shards = 5;
  o.cpus_per_task = 4;
  return o;
}

}  // namespace

TEST(SweepSlurm, ShellQuoting) {
  EXPECT_EQ(ex::shell_quote("plain"), "'plain'");
  EXPECT_EQ(ex::shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(run("printf %s " + ex::shell_quote("a $b `c` \"d\" 'e'")), "a $b `c` \"d\" 'e'");
}

TEST(SweepSlurm, EachJobRunsItsModeWithTheArgumentsAsGiven) {
  Scratch s("slurm-scripts");
  const ex::SlurmScripts sc = ex::write_slurm_scripts(options(s.dir));
  EXPECT_EQ(sc.dir, s.dir + "/out/slurm");
  EXPECT_TRUE(std::filesystem::is_directory(sc.dir + "/logs"));
  EXPECT_EQ(run("bash " + sc.prepare), "sweep it's my spec.json --out out --prepare\n");
  EXPECT_EQ(run("SLURM_ARRAY_TASK_ID=3 SLURM_CPUS_PER_TASK=4 bash " + sc.shards),
            "sweep it's my spec.json --out out --shard 3/5 --jobs 4\n");
  EXPECT_EQ(run("SLURM_ARRAY_TASK_ID=5 bash " + sc.shards), "sweep it's my spec.json --out out --shard 5/5 --jobs 4\n");
  EXPECT_EQ(run("bash " + sc.merge), "sweep it's my spec.json --out out --merge\n");
  const std::string shards = sweep_test::slurp(sc.shards);
  EXPECT_NE(shards.find("#SBATCH --array=1-5\n"), std::string::npos) << shards;
  EXPECT_NE(shards.find("#SBATCH --output=" + s.dir + "/out/slurm/logs/shard-%a-of-5-%A.out\n"), std::string::npos);
  EXPECT_EQ(shards.find("--partition"), std::string::npos);  // only when given
}

TEST(SweepSlurm, AShardWithFailedPointsLetsTheMergeRun) {
  Scratch s("slurm-exit");
  ex::SlurmOptions o = options(s.dir);
  for (const auto& [binary, status] : {std::pair{"/bin/false", 0}, {"/bin/true", 0}}) {
    o.arcsim = binary;
    const ex::SlurmScripts sc = ex::write_slurm_scripts(o);
    EXPECT_EQ(std::system(("SLURM_ARRAY_TASK_ID=1 bash " + sc.shards).c_str()), status) << binary;
  }
  // Any other failure (bad input: 2, a crash) fails the array task, so the merge never runs.
  const std::string fail2 = s.dir + "/exit2.sh";
  arcsim::io::write_file_atomic(fail2, "#!/bin/sh\nexit 2\n");
  std::filesystem::permissions(fail2, std::filesystem::perms::owner_all);
  o.arcsim = fail2;
  const ex::SlurmScripts sc = ex::write_slurm_scripts(o);
  EXPECT_NE(std::system(("SLURM_ARRAY_TASK_ID=1 bash " + sc.shards).c_str()), 0);
}

TEST(SweepSlurm, OptionsAreCheckedNamingTheOption) {
  Scratch s("slurm-options");
  auto error = [&](auto change) {
    ex::SlurmOptions o = options(s.dir);
    change(o);
    try {
      ex::check_slurm_options(o);
    } catch (const arcsim::json::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(error([](ex::SlurmOptions&) {}), "");
  EXPECT_EQ(error([](ex::SlurmOptions& o) { o.time = "2-12:00:00"; }), "");
  EXPECT_NE(error([](ex::SlurmOptions& o) { o.time = "1h"; }).find("--time: "), std::string::npos);
  EXPECT_NE(error([](ex::SlurmOptions& o) { o.partition = "a;b"; }).find("--partition: "), std::string::npos);
  EXPECT_NE(error([](ex::SlurmOptions& o) { o.account = "x y"; }).find("--account: "), std::string::npos);
  EXPECT_NE(error([](ex::SlurmOptions& o) { o.shards = 0; }).find("--shards: "), std::string::npos);
  EXPECT_NE(error([](ex::SlurmOptions& o) { o.cpus_per_task = 0; }).find("--cpus-per-task: "), std::string::npos);
  EXPECT_NE(error([](ex::SlurmOptions& o) { o.array_max = -1; }).find("--array-max: "), std::string::npos);
  EXPECT_NE(error([](ex::SlurmOptions& o) { o.out_arg = "my out"; }).find("--out: "), std::string::npos);
}
