// What a test of any part asks of a call that must fail: the message of the exception it throws,
// or "" when it returns, so the test can check that the message names the file, field and value.
#pragma once

#include <exception>
#include <functional>
#include <string>

namespace arcsim::testing {

inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace arcsim::testing
