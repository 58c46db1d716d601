#pragma once
// Runs tasks in forked child processes, a few at a time. SimGrid allows one Engine per process,
// and a crash, a hang or an abort() inside one simulation must not take the sweep down, so each
// simulation runs in its own child; its result comes back through a pipe as text (JSON).
//
//   run_forked(tasks, {.jobs = 2, .timeout_s = 60}, [&](const ForkOutcome& o) { ... });
//
// The child's stdout and stderr are captured (SimGrid logs there); they are shown only when the
// child fails, as the last line it printed. A child that outlives its timeout is SIGKILLed; a
// child whose parent dies is killed too (PR_SET_PDEATHSIG), so an interrupted sweep leaves no
// orphans behind.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace arcsim::experiments {

struct ForkTask {
  std::string id;                     // for messages
  std::function<std::string()> work;  // runs in the child; throwing reports the message
  double timeout_s = 600;
};

struct ForkOutcome {
  std::size_t task = 0;  // index into the task list
  bool ok = false;
  std::string output;    // work()'s return value when ok
  std::string error;     // one line when not ok: the exception, the timeout or the signal
  double wall_s = 0;
};

struct ForkOptions {
  int jobs = 1;  // children at once
};

// The number of CPUs this process may run on (sched_getaffinity), at least 1.
int default_jobs();

// Runs every task; on_done is called in the parent, in completion order, once per task. Tasks
// start in list order. Throws only for failures of the parent itself (pipe or fork failing).
void run_forked(const std::vector<ForkTask>& tasks, const ForkOptions& options,
                const std::function<void(const ForkOutcome&)>& on_done);

}  // namespace arcsim::experiments
