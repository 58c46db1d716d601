#include "common/validated_write.hpp"

#include <stdexcept>

#include "common/atomic_file.hpp"

namespace arcsim::io {

namespace {

void erase_all(std::string& s, const std::string& what) {
  if (what.empty()) return;
  for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at)) s.erase(at, what.size());
}

}  // namespace

void check_before_writing(const std::function<void()>& check, const OutputFlag& output,
                          const std::vector<FlagFields>& flags, const std::vector<std::string>& hide) {
  try {
    check();
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    const std::string message = e.what();
    std::string bare = message;
    erase_all(bare, output.path);
    for (const auto& h : hide) erase_all(bare, h);
    std::string blamed = output.flag;
    for (const auto& f : flags) {
      bool hit = false;
      for (const auto& w : f.words) hit = hit || (!w.empty() && bare.find(w) != std::string::npos);
      if (hit) {
        blamed = f.flag;
        break;
      }
    }
    throw std::runtime_error(blamed + ": refused before writing " + output.path + ": " + message);
  }
}

void write_validated(const std::string& text, const std::function<void(const std::string&)>& check,
                     const OutputFlag& output, const std::vector<FlagFields>& flags,
                     const std::vector<std::string>& hide) {
  check_before_writing([&] { check(text); }, output, flags, hide);
  write_file_atomic(output.path, text);
}

}  // namespace arcsim::io
