// common/output_guard: an output that is an input (by name, symlink or hard link), inside a trace,
// or another output of the same command is refused before any work.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "common/output_guard.hpp"
#include "tests/common/error_of.hpp"

namespace fs = std::filesystem;
using arcsim::io::OutputGuard;
using arcsim::testing::error_of;

namespace {

fs::path scratch(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("arcsim-guard-" + std::to_string(::getpid())) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void touch(const fs::path& p, const std::string& text = "x") {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

}  // namespace

TEST(OutputGuard, InputByNameSymlinkAndHardLinkIsRefused) {
  const fs::path d = scratch("links");
  touch(d / "g.npy");
  fs::create_symlink(d / "g.npy", d / "s.npy");
  fs::create_hard_link(d / "g.npy", d / "h.npy");
  const std::string g = (d / "g.npy").string();
  for (const std::string& out : {g, (d / "x" / ".." / "g.npy").string(), (d / "s.npy").string(), (d / "h.npy").string()}) {
    const std::string e = error_of([&] { OutputGuard("t").input("--input", g).output("--output", out).check(); });
    EXPECT_NE(e.find("--output " + out + ": refused: it is the input " + g + " (--input)"), std::string::npos) << e;
  }
  EXPECT_NO_THROW(OutputGuard("t").input("--input", g).output("--output", (d / "new.npy").string()).check());
  EXPECT_NO_THROW(OutputGuard("t").input("--input", g).output("--report", "").check());  // optional, not given
}

TEST(OutputGuard, TwoOutputsThatAreOneFileAreRefused) {
  const fs::path d = scratch("outs");
  const std::string a = (d / "o.npy").string(), b = (d / "." / "o.npy").string();
  const std::string e = error_of([&] { OutputGuard("t").output("--output", a).output("--report", b).check(); });
  EXPECT_NE(e.find("--report " + b + ": refused: it is the same file as --output " + a), std::string::npos) << e;
}

TEST(OutputGuard, AnythingInsideATraceIsRefused) {
  const fs::path d = scratch("trace");
  touch(d / "tr" / "trace.json", "{}");
  touch(d / "tr" / "samples" / "s.npy");
  touch(d / "other" / "trace.json", "{}");
  fs::create_hard_link(d / "tr" / "samples" / "s.npy", d / "h.npy");
  const std::string tr = (d / "tr").string();
  auto refused = [&](const std::string& out, const std::string& why) {
    const std::string e = error_of([&] { OutputGuard("t").input_trace("TRACE", tr).output("--out", out).check(); });
    EXPECT_NE(e.find("--out " + out + ": refused: " + why), std::string::npos) << e;
  };
  refused((d / "tr" / "trace.json").string(), "it is inside the input trace " + tr + " (TRACE)");
  refused((d / "tr" / "new" / "spec.json").string(), "it is inside the input trace " + tr + " (TRACE)");
  refused((d / "h.npy").string(), "it is " + (d / "tr" / "samples" / "s.npy").string());
  refused((d / "other" / "x.npy").string(), "it is inside the trace " + (d / "other").string());
  const std::string e = error_of([&] { OutputGuard("t").input_trace("DIR", tr).output_dir("--out", tr + "/").check(); });
  EXPECT_NE(e.find("it is the input trace " + tr + " (DIR)"), std::string::npos) << e;
  EXPECT_NO_THROW(OutputGuard("t").input_trace("TRACE", tr).output("--out", (d / "spec.json").string()).check());
  EXPECT_NO_THROW(OutputGuard("t").input_trace("DIR", tr).output_dir("--out", (d / "copy").string()).check());
  EXPECT_EQ(arcsim::io::enclosing_trace_dir((d / "tr" / "samples" / "s.npy").string()), tr);
  EXPECT_EQ(arcsim::io::enclosing_trace_dir((d / "spec.json").string()), "");
}
