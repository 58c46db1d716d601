#include "common/output_guard.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <optional>
#include <system_error>

namespace arcsim::io {

namespace fs = std::filesystem;

namespace {

// The path with symlinks, "." and ".." resolved as far as it exists (weakly_canonical), absolute,
// without a trailing separator. Never throws: a path that cannot be resolved is used as written.
fs::path resolved(const std::string& p) {
  std::error_code ec;
  fs::path abs = fs::absolute(fs::path(p), ec);
  if (ec) abs = fs::path(p);
  fs::path r = fs::weakly_canonical(abs, ec);
  if (ec) r = abs.lexically_normal();
  if (r.has_relative_path() && r.filename().empty()) r = r.parent_path();
  return r;
}

// `child` equals `parent` or lies below it (both resolved).
bool is_within(const fs::path& child, const fs::path& parent) {
  auto c = child.begin();
  for (auto p = parent.begin(); p != parent.end(); ++p, ++c)
    if (c == child.end() || *c != *p) return false;
  return true;
}

struct FileId {
  dev_t dev;
  ino_t ino;
  nlink_t links;
  bool regular;
};

std::optional<FileId> file_id(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return std::nullopt;
  return FileId{st.st_dev, st.st_ino, st.st_nlink, S_ISREG(st.st_mode)};
}

bool same_id(const std::optional<FileId>& a, const std::optional<FileId>& b) {
  return a && b && a->dev == b->dev && a->ino == b->ino;
}

// How `out` and `in` are the same file, or nullopt when they are not: "" (the same name),
// " (through a symlink)" or " (a hard link to it)".
std::optional<std::string> same_file(const std::string& out, const std::string& in) {
  const fs::path ro = resolved(out), ri = resolved(in);
  if (ro == ri) {
    std::error_code ec;
    const bool literal = fs::absolute(out, ec).lexically_normal() == fs::absolute(in, ec).lexically_normal();
    return literal ? std::string() : std::string(" (the same file through a symlink)");
  }
  if (same_id(file_id(ro), file_id(ri))) return std::string(" (the same file through a hard link)");
  return std::nullopt;
}

// A file below `dir` that is the same inode as `id` (a hard link into a trace), or "".
// Only looked for when the output exists with more than one link; bounded walk.
std::string hard_link_inside(const FileId& id, const fs::path& dir) {
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
  std::size_t seen = 0;
  for (; !ec && it != end && seen < 200000; it.increment(ec), ++seen) {
    if (!it->is_regular_file(ec)) continue;
    if (same_id(file_id(it->path()), FileId{id.dev, id.ino, 0, true})) return it->path().string();
  }
  return "";
}

std::string inside_trace(bool same, const std::string& trace_flag, const std::string& trace_given) {
  return std::string(same ? "it is the input trace " : "it is inside the input trace ") + trace_given + " (" +
         trace_flag + ")";
}

}  // namespace

std::string enclosing_trace_dir(const std::string& path) {
  fs::path d = resolved(path);
  std::error_code ec;
  for (;;) {
    if (fs::is_regular_file(d / "trace.json", ec)) return d.string();
    if (!d.has_relative_path()) return "";
    d = d.parent_path();
  }
}

OutputGuard& OutputGuard::input(const std::string& flag, const std::string& path) {
  if (!path.empty()) inputs_.push_back({flag, path});
  return *this;
}
OutputGuard& OutputGuard::input_trace(const std::string& flag, const std::string& dir) {
  if (!dir.empty()) traces_.push_back({flag, dir});
  return *this;
}
OutputGuard& OutputGuard::output(const std::string& flag, const std::string& path) {
  if (!path.empty()) outputs_.push_back({flag, path});
  return *this;
}
OutputGuard& OutputGuard::output_dir(const std::string& flag, const std::string& dir) {
  if (!dir.empty()) output_dirs_.push_back({flag, dir});
  return *this;
}

void OutputGuard::check() const {
  auto refuse = [](const Named& o, const std::string& why) {
    throw std::runtime_error(o.flag + " " + o.path + ": refused: " + why);
  };
  // Outputs that are, or are inside, a trace directory: an input trace first (its flag named).
  auto check_traces = [&](const Named& o, const fs::path& ro) {
    for (const auto& t : traces_) {
      const fs::path rt = resolved(t.path);
      if (is_within(ro, rt)) refuse(o, inside_trace(ro == rt, t.flag, t.path));
    }
    const std::string enclosing = enclosing_trace_dir(o.path);
    if (!enclosing.empty())
      refuse(o, std::string(ro == fs::path(enclosing) ? "it is the trace " : "it is inside the trace ") + enclosing +
                    " (a trace is written whole, by record or trace copy into a new directory, never over or into "
                    "an existing one)");
  };
  for (std::size_t i = 0; i < outputs_.size(); ++i) {
    const Named& o = outputs_[i];
    const fs::path ro = resolved(o.path);
    for (const auto& in : inputs_)
      if (const auto how = same_file(o.path, in.path)) refuse(o, "it is the input " + in.path + " (" + in.flag + ")" + *how);
    check_traces(o, ro);
    const auto id = file_id(ro);
    if (id && id->regular && id->links > 1)
      for (const auto& t : traces_) {
        const std::string f = hard_link_inside(*id, resolved(t.path));
        if (!f.empty())
          refuse(o, "it is " + f + " of the input trace " + t.path + " (" + t.flag + ") through a hard link");
      }
    for (std::size_t j = 0; j < i; ++j)
      if (const auto how = same_file(o.path, outputs_[j].path))
        refuse(o, "it is the same file as " + outputs_[j].flag + " " + outputs_[j].path + *how);
    for (const auto& d : output_dirs_)
      if (resolved(d.path) == ro) refuse(o, "it is the output directory " + d.path + " (" + d.flag + ")");
  }
  for (std::size_t i = 0; i < output_dirs_.size(); ++i) {
    const Named& o = output_dirs_[i];
    const fs::path ro = resolved(o.path);
    for (const auto& in : inputs_)
      if (const auto how = same_file(o.path, in.path)) refuse(o, "it is the input " + in.path + " (" + in.flag + ")" + *how);
    check_traces(o, ro);
    for (std::size_t j = 0; j < i; ++j)
      if (resolved(output_dirs_[j].path) == ro)
        refuse(o, "it is the same directory as " + output_dirs_[j].flag + " " + output_dirs_[j].path);
  }
}

}  // namespace arcsim::io
