#pragma once
// Reads the standard text output of NVIDIA's nccl-tests (all_reduce_perf, all_gather_perf,
// reduce_scatter_perf, broadcast_perf): the collective (from "Collective test starting:", the
// file name, the caller, or else the table's busbw / algbw factor and redop column), ranks and
// hosts (from the "#  Rank r ... on HOST device d" lines), and one row per size: size (B),
// out-of-place and in-place time (us), algbw and busbw (GB/s).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/plan.hpp"

namespace arcsim::sim {

struct NcclTestsRow {
  double bytes = 0;
  double time_us = 0, algbw_GBps = 0, busbw_GBps = 0;        // out-of-place
  double ip_time_us = 0, ip_algbw_GBps = 0, ip_busbw_GBps = 0;  // in-place (0 when absent)
  std::string redop;   // "sum", "none", ... ("" when the log has no redop column)
  double root = -1;    // the root column (-1: none, as all-reduce and all-gather print)
  int line = 0;
};

struct NcclTestsLog {
  std::string file;
  CollectiveOp op = CollectiveOp::allreduce;
  int ranks = 0;             // distinct ranks of the Rank lines (0: none printed)
  int hosts = 0;             // distinct host names of the Rank lines
  // A file holding several runs (headers repeated) is read as one when they ran on the same ranks
  // and hosts; otherwise, or when the Rank lines skip an id, the reader throws.
  std::string gpu_name;      // the device name of rank 0, if printed
  std::vector<NcclTestsRow> rows;
};

// Bounds of one log (docs/limits.md): a million result rows (a nccl-tests run prints one row per
// size, a few dozen; a million is tens of thousands of runs appended), and 256 MiB of text (a
// million rows of about 120 characters with room for headers and launcher prefixes). Both are
// refused with one line naming the file before any fit starts.
inline constexpr std::size_t kMaxLogRows = 1000000;
inline constexpr std::uint64_t kMaxLogBytes = std::uint64_t{256} << 20;

// `text` is the file's content; `file` names it in errors. `op_hint` ("" or a collective name)
// is used when the log does not say which test it is. Throws json::ConfigError-like
// std::invalid_argument "<file>:<line>: ..." for a malformed row or a log without rows.
NcclTestsLog parse_nccl_tests_log(const std::string& text, const std::string& file, const std::string& op_hint = "");
NcclTestsLog load_nccl_tests_log(const std::string& path, const std::string& op_hint = "");

}  // namespace arcsim::sim
