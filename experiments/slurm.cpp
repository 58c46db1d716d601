#include "slurm.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <regex>
#include <stdexcept>

#include "common/atomic_file.hpp"
#include "common/format.hpp"
#include "common/json_fields.hpp"

namespace arcsim::experiments {

namespace fs = std::filesystem;
using arcsim::json::ConfigError;

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void check_slurm_options(const SlurmOptions& o) {
  static const std::regex name("[A-Za-z0-9_.,:+-]+"), time("([0-9]+-)?[0-9]+(:[0-9]+){0,2}");
  if (!o.partition.empty() && !std::regex_match(o.partition, name))
    throw ConfigError("options: --partition: expected a Slurm partition name ([A-Za-z0-9_.,:+-]), got \"" +
                      o.partition + "\"");
  if (!o.account.empty() && !std::regex_match(o.account, name))
    throw ConfigError("options: --account: expected a Slurm account name ([A-Za-z0-9_.,:+-]), got \"" + o.account + "\"");
  if (!o.time.empty() && !std::regex_match(o.time, time))
    throw ConfigError("options: --time: expected a Slurm time limit (MM, HH:MM:SS or D-HH:MM:SS), got \"" + o.time + "\"");
  if (o.shards < 1 || o.shards > 100000)
    throw ConfigError("options: --shards: expected 1..100000 array tasks, got " + std::to_string(o.shards));
  if (o.cpus_per_task < 1 || o.cpus_per_task > 4096)
    throw ConfigError("options: --cpus-per-task: expected 1..4096, got " + std::to_string(o.cpus_per_task));
  if (o.array_max < 0) throw ConfigError("options: --array-max: expected a number >= 0, got " + std::to_string(o.array_max));
  // Slurm parses #SBATCH --output itself: no quoting there.
  const std::string logs = (fs::path(o.workdir) / o.out_arg).lexically_normal().string();
  if (logs.find_first_of(" \t\n\"'%\\") != std::string::npos)
    throw ConfigError("options: --out: expected a directory path without spaces, quotes, backslashes or % for "
                      "--slurm (Slurm's log file names cannot quote them), got \"" + o.out_arg + "\"");
}

namespace {

std::string header(const SlurmOptions& o, const std::string& what, int cpus, const std::string& log) {
  std::string h = "#!/bin/bash\n";
  h += "#SBATCH --job-name=" + o.job_name + "-" + what + "\n";
  h += "#SBATCH --output=" + log + "\n";
  h += "#SBATCH --nodes=1\n#SBATCH --ntasks=1\n";
  h += "#SBATCH --cpus-per-task=" + std::to_string(cpus) + "\n";
  if (!o.partition.empty()) h += "#SBATCH --partition=" + o.partition + "\n";
  if (!o.time.empty()) h += "#SBATCH --time=" + o.time + "\n";
  if (!o.account.empty()) h += "#SBATCH --account=" + o.account + "\n";
  return h;
}

std::string command(const SlurmOptions& o, const std::string& mode) {
  return shell_quote(o.arcsim) + " sweep " + shell_quote(o.spec_arg) + " --out " + shell_quote(o.out_arg) + " " + mode;
}

// Runs a command, returns (exit status, stdout+stderr).
std::pair<int, std::string> run_capture(const std::string& cmd) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + cmd);
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  const int st = ::pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : 128, out};
}

std::string last_line(const std::string& text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  const auto nl = t.find_last_of('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

}  // namespace

SlurmScripts write_slurm_scripts(const SlurmOptions& o) {
  check_slurm_options(o);
  SlurmScripts s;
  const fs::path out = (fs::path(o.workdir) / o.out_arg).lexically_normal();
  s.dir = (out / "slurm").string();
  const std::string logs = (out / "slurm" / "logs").string();
  fs::create_directories(logs);
  const std::string cd = "set -euo pipefail\ncd " + shell_quote(o.workdir) + "\n";
  const std::string n = std::to_string(o.shards);

  s.prepare = s.dir + "/prepare.sbatch";
  io::write_file_atomic(s.prepare, header(o, "prepare", 1, logs + "/prepare-%j.out") +
                                       "# The replay, once: fills DIR/plans/ for every shard and the merge.\n" + cd +
                                       "exec " + command(o, "--prepare") + "\n");

  s.shards = s.dir + "/shards.sbatch";
  std::string arr = "#SBATCH --array=1-" + n + (o.array_max > 0 ? "%" + std::to_string(o.array_max) : "") + "\n";
  io::write_file_atomic(
      s.shards,
      header(o, "shards", o.cpus_per_task, logs + "/shard-%a-of-" + n + "-%A.out") + arr +
          "# Array task I simulates shard I of " + n + " into DIR/shards/I-of-" + n +
          "/ (re-running a task resumes it).\n" + cd + "rc=0\n" +
          command(o, "--shard \"${SLURM_ARRAY_TASK_ID}/" + n + "\" --jobs \"${SLURM_CPUS_PER_TASK:-" +
                         std::to_string(o.cpus_per_task) + "}\"") +
          " || rc=$?\n"
          "# 1: the shard finished but some of its points failed; they are rows the merge reports.\n"
          "if [ \"$rc\" -eq 1 ]; then exit 0; fi\nexit \"$rc\"\n");

  s.merge = s.dir + "/merge.sbatch";
  io::write_file_atomic(s.merge, header(o, "merge", 1, logs + "/merge-%j.out") +
                                     "# Checks every shard and writes DIR/results.csv and DIR/results.json.\n" + cd +
                                     "exec " + command(o, "--merge") + "\n");

  s.submit = s.dir + "/submit.sh";
  io::write_file_atomic(
      s.submit,
      "#!/bin/sh\n# Submits prepare -> shards (array of " + n + ") -> merge, each after the previous succeeded.\n"
      "set -eu\ncd \"$(dirname \"$0\")\"\n"
      "p=$(sbatch --parsable prepare.sbatch); p=${p%%;*}\n"
      "a=$(sbatch --parsable --dependency=afterok:$p shards.sbatch); a=${a%%;*}\n"
      "m=$(sbatch --parsable --dependency=afterok:$a merge.sbatch); m=${m%%;*}\n"
      "echo \"submitted: prepare $p, shards $a (array 1-" + n + "), merge $m\"\n"
      "echo \"watch: squeue -j $p,$a,$m    after: sacct -j $p,$a,$m --format=JobID,JobName,State,Elapsed,ExitCode\"\n");
  fs::permissions(s.submit, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                  fs::perm_options::add);
  return s;
}

SlurmJobs submit_slurm(const SlurmScripts& s) {
  SlurmJobs jobs;
  std::string submitted;
  auto sbatch = [&](const std::string& dependency, const std::string& script) {
    const std::string cmd = "sbatch --parsable" + (dependency.empty() ? "" : " --dependency=afterok:" + dependency) +
                            " " + shell_quote(script);
    const auto [rc, out] = run_capture(cmd);
    const std::string id = last_line(out).substr(0, last_line(out).find(';'));
    if (rc != 0 || id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
      throw std::runtime_error("sbatch " + script + " failed (exit " + std::to_string(rc) + "): " + last_line(out) +
                               (submitted.empty() ? "" : " (already queued: " + submitted + "; scancel them)"));
    submitted += (submitted.empty() ? "" : ", ") + id;
    return id;
  };
  jobs.prepare = sbatch("", s.prepare);
  jobs.shards = sbatch(jobs.prepare, s.shards);
  jobs.merge = sbatch(jobs.shards, s.merge);
  return jobs;
}

}  // namespace arcsim::experiments
