#pragma once
// The Rand-K bijection of kernels::randk_permute, as a host/device function: the device kernels
// (elementwise.cu) evaluate it per index, and a host test (tests/kernels/test_cuda_radix_logic.cpp)
// checks it against the reference in CI, so the two cannot drift apart unnoticed.
#include <cstdint>

#include "kernels/philox.hpp"      // ARCSIM_HD
#include "kernels/primitives.hpp"  // kFeistelRounds, randk_keys

namespace arcsim::cuda {

struct Feistel {
  std::uint32_t keys[kernels::kFeistelRounds];
  std::uint32_t n;
  unsigned half_bits;  // h: the network permutes [0, 2^(2h))
};

// Host only: keys from the reference's own schedule, h = max(1, ceil(bits(n - 1) / 2)).
inline Feistel make_feistel(std::uint64_t n, std::uint64_t seed, std::uint32_t step, std::uint32_t tensor) {
  Feistel f{};
  kernels::randk_keys(seed, step, tensor, f.keys);
  f.n = static_cast<std::uint32_t>(n);
  const unsigned bits = n <= 1 ? 0u : 32u - static_cast<unsigned>(__builtin_clz(static_cast<std::uint32_t>(n - 1)));
  f.half_bits = (bits + 1) / 2 > 1u ? (bits + 1) / 2 : 1u;
  return f;
}

// pi(i) for i < n: the balanced Feistel network, re-applied until the value lands in [0, n).
ARCSIM_HD std::uint32_t feistel_permute(std::uint32_t i, const Feistel& f) {
  const std::uint64_t mask = (std::uint64_t{1} << f.half_bits) - 1;
  std::uint64_t v = i;
  do {
    std::uint64_t left = v >> f.half_bits, right = v & mask;
    for (int round = 0; round < kernels::kFeistelRounds; ++round) {
      const std::uint64_t fr = kernels::randk_mix(static_cast<std::uint32_t>(right) ^ f.keys[round]) & mask;
      const std::uint64_t next = left ^ fr;
      left = right;
      right = next;
    }
    v = (left << f.half_bits) | right;
  } while (v >= f.n);
  return static_cast<std::uint32_t>(v);
}

}  // namespace arcsim::cuda
