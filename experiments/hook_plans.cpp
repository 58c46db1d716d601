#include "hook_plans.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "common/atomic_file.hpp"
#include "common/json_fields.hpp"
#include "experiments/replay.hpp"
#include "traces/recorder_launch.hpp"

namespace arcsim::experiments {

namespace fs = std::filesystem;

namespace {

std::string last_line(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

// python3 -m traces.recorder --hook ... --out `out`, stdout and stderr to `log`.
void run_recorder(const HookRecording& r, const std::string& out, const std::string& log) {
  const auto where = traces::recorder_launch();
  std::vector<std::string> args = {where.python, "-m", "traces.recorder", "--hook", r.hook, "--trace", r.trace,
                                   "--world", std::to_string(r.world), "--config", r.config.dump(),
                                   "--steps", std::to_string(r.steps),
                                   "--first-bucket-cap", std::to_string(static_cast<long long>(r.first_bucket_cap)),
                                   "--bucket-cap", std::to_string(static_cast<long long>(r.bucket_cap)), "--out", out};
  const std::string path = where.python_path();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("implementation hook: cannot start the hook recorder (fork)");
  if (pid == 0) {
    ::setenv("PYTHONPATH", path.c_str(), 1);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> cargs;
    for (auto& a : args) cargs.push_back(a.data());
    cargs.push_back(nullptr);
    ::execv(where.python.c_str(), cargs.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const std::string why = last_line(log);
    throw std::runtime_error("implementation hook: " + r.hook + ": " +
                             (why.empty() ? "the recorder failed (" + where.python + ")" : why) + " (log: " + log + ")");
  }
}

}  // namespace

sim::Plan hook_plan(const HookRecording& r, const std::string& dir, const std::optional<kernels::KernelTimeModel>& timer) {
  fs::create_directories(dir);
  const nlohmann::json key = {{"hook", r.hook}, {"config", r.config}, {"world", r.world}, {"trace", fs::absolute(r.trace).string()},
                              {"first_bucket_cap", r.first_bucket_cap}, {"bucket_cap", r.bucket_cap}, {"steps", r.steps},
                              {"trace_json", fnv_hex(io::read_file(r.trace + "/trace.json"))}};
  const std::string base = dir + "/hook-" + fnv_hex(key.dump());
  const std::string file = base + ".json";
  if (!fs::exists(file)) {
    const std::string tmp = base + ".recording.json";
    run_recorder(r, tmp, base + ".log");
    fs::rename(tmp, file);
  }
  sim::Plan plan = sim::load_plan(file);
  retime_plan(plan, timer ? &*timer : nullptr);
  return plan;
}

}  // namespace arcsim::experiments
