#pragma once
// SHA-256 (FIPS 180-4) of a byte string, as lowercase hex. Every data file of a trace carries its
// digest in trace.json so a flipped byte is caught. Self-contained so traces/ needs no OpenSSL.
#include <string>
#include <string_view>

namespace arcsim::io {

std::string sha256_hex(std::string_view bytes);

}  // namespace arcsim::io
