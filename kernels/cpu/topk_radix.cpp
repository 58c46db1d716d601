// Radix-select top-k by magnitude (kernels/cpu/fast.hpp). The key is the sign-cleared bit pattern
// (kernels/primitives.hpp), 31 bits, split into digits of 11 (bits 30..20), 10 (19..10) and 10
// (9..0). Only the first digit looks at all of x; the two others look at the candidates that share
// the threshold's first digit. Per-thread chunks are contiguous index ranges, processed in chunk
// order, so every list stays ascending and the result never depends on the thread count.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <cstring>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cpu/fast.hpp"

namespace arcsim::kernels::cpu {

namespace {

constexpr int kBits1 = 11, kShift1 = 20;
constexpr std::size_t kBins1 = std::size_t{1} << kBits1;
constexpr std::size_t kParallelMin = std::size_t{1} << 16;  // below: one chunk (threads cost more)

inline std::uint32_t key_of(const float* x, std::size_t i) {
  std::uint32_t b;
  std::memcpy(&b, x + i, 4);
  return b & 0x7fffffffu;
}

// Histogram of the first digit of x[lo, hi) into h (kBins1 entries). Four interleaved
// sub-histograms break the store-to-load dependency when neighbours share a bin.
void histogram1(const float* x, std::size_t lo, std::size_t hi, std::uint32_t* h) {
  std::vector<std::uint32_t> sub(4 * kBins1, 0);
  std::size_t i = lo;
  for (; i + 4 <= hi; i += 4) {
    ++sub[0 * kBins1 + (key_of(x, i) >> kShift1)];
    ++sub[1 * kBins1 + (key_of(x, i + 1) >> kShift1)];
    ++sub[2 * kBins1 + (key_of(x, i + 2) >> kShift1)];
    ++sub[3 * kBins1 + (key_of(x, i + 3) >> kShift1)];
  }
  for (; i < hi; ++i) ++sub[key_of(x, i) >> kShift1];
  for (std::size_t b = 0; b < kBins1; ++b)
    h[b] = sub[b] + sub[kBins1 + b] + sub[2 * kBins1 + b] + sub[3 * kBins1 + b];
}

// The bin (scanning from the top) where the running count reaches `need`; `above` = count in
// higher bins.
std::size_t pick_bin(const std::uint32_t* hist, std::size_t bins, std::size_t need, std::size_t& above) {
  std::size_t cum = 0;
  for (std::size_t b = bins; b-- > 0;) {
    if (cum + hist[b] >= need) {
      above = cum;
      return b;
    }
    cum += hist[b];
  }
  throw std::logic_error("topk radix: histogram holds fewer than k elements");
}

// Per-chunk lists of one selection: `sel` holds indices certainly selected (ascending), `cand`
// the candidates (ascending) with their keys; regions start at the offsets.
struct Chunks {
  int T;
  std::vector<std::size_t> sel_off, sel_n, cand_off, cand_n;
  const std::uint32_t* sel;
  const std::uint32_t* cand;
  const std::uint32_t* ckey;
};

// Chooses `need` of the candidates (largest keys, lowest index on ties) by radix digits over the
// candidate keys below the bits `prefix`/`mask` they share, and merges them with the certain
// indices into out (k entries, ascending).
void finish(const Chunks& ch, std::size_t k, std::size_t need, std::uint32_t prefix, std::uint32_t mask,
            std::initializer_list<int> shifts, std::uint32_t* out) {
  const int T = ch.T;
  for (int shift : shifts) {
    const int bits = shift == 20 ? 11 : 10;
    const std::uint32_t dmask = (1u << bits) - 1;
    std::vector<std::size_t> h(std::size_t{1} << bits, 0);
    for (int c = 0; c < T; ++c) {
      const std::uint32_t* ck = ch.ckey + ch.cand_off[static_cast<std::size_t>(c)];
      for (std::size_t i = 0, nc = ch.cand_n[static_cast<std::size_t>(c)]; i < nc; ++i)
        if ((ck[i] & mask) == prefix) ++h[(ck[i] >> shift) & dmask];
    }
    std::size_t cum = 0, b = h.size();
    if (need > 0) {
      while (b-- > 0) {
        if (cum + h[b] >= need) break;
        cum += h[b];
      }
    } else {
      b = dmask;  // nothing needed: any threshold above every candidate's digit
    }
    need -= cum;
    prefix |= static_cast<std::uint32_t>(b) << shift;
    mask |= dmask << shift;
  }
  // `threshold` is the k-th largest key when need > 0; `need` of its ties are taken.
  const std::uint32_t threshold = prefix;
  const bool none = need == 0;

  std::vector<std::size_t> gt(static_cast<std::size_t>(T), 0), ties(static_cast<std::size_t>(T), 0),
      out_off(static_cast<std::size_t>(T) + 1, 0);
  std::size_t ties_left = need;
  for (int c = 0; c < T; ++c) {
    const auto cc = static_cast<std::size_t>(c);
    const std::uint32_t* ck = ch.ckey + ch.cand_off[cc];
    std::size_t g = 0, eq = 0;
    if (!none)
      for (std::size_t i = 0, nc = ch.cand_n[cc]; i < nc; ++i) {
        g += ck[i] > threshold;
        eq += ck[i] == threshold;
      }
    gt[cc] = g;
    ties[cc] = std::min(eq, ties_left);
    ties_left -= ties[cc];
    out_off[cc + 1] = out_off[cc] + ch.sel_n[cc] + g + ties[cc];
  }
  if (out_off[static_cast<std::size_t>(T)] != k) throw std::logic_error("topk radix: selected count != k");

  // Merge per chunk: the certain list and the kept candidates, both ascending.
#pragma omp parallel for num_threads(T) schedule(static, 1) if (T > 1)
  for (int c = 0; c < T; ++c) {
    const auto cc = static_cast<std::size_t>(c);
    const std::uint32_t* a = ch.sel + ch.sel_off[cc];
    const std::size_t na = ch.sel_n[cc];
    const std::uint32_t* ci = ch.cand + ch.cand_off[cc];
    const std::uint32_t* ck = ch.ckey + ch.cand_off[cc];
    const std::size_t nc = none ? 0 : ch.cand_n[cc];
    std::uint32_t* o = out + out_off[cc];
    std::size_t ia = 0, tie_quota = ties[cc];
    for (std::size_t j = 0; j < nc; ++j) {
      const bool keep = ck[j] > threshold || (ck[j] == threshold && tie_quota > 0);
      if (!keep) continue;
      if (ck[j] == threshold) --tie_quota;
      while (ia < na && a[ia] < ci[j]) *o++ = a[ia++];
      *o++ = ci[j];
    }
    while (ia < na) *o++ = a[ia++];
  }
}

}  // namespace

void topk_magnitude_histogram(const float* x, std::size_t n, std::size_t k, std::uint32_t* out) {
  if (k > n) throw std::invalid_argument("topk_magnitude: k = " + std::to_string(k) + " > n = " + std::to_string(n));
  if (k == 0) return;
  if (k == n) {
    std::iota(out, out + n, 0u);
    return;
  }
  const int T = n >= kParallelMin ? std::max(1, omp_get_max_threads()) : 1;
  const auto lo = [&](int c) { return n * static_cast<std::size_t>(c) / static_cast<std::size_t>(T); };

  // Pass 1: first-digit histograms per chunk.
  std::vector<std::uint32_t> hist(static_cast<std::size_t>(T) * kBins1);
#pragma omp parallel for num_threads(T) schedule(static, 1) if (T > 1)
  for (int c = 0; c < T; ++c) histogram1(x, lo(c), lo(c + 1), hist.data() + static_cast<std::size_t>(c) * kBins1);
  std::vector<std::uint32_t> total(kBins1, 0);
  for (int c = 0; c < T; ++c)
    for (std::size_t b = 0; b < kBins1; ++b) total[b] += hist[static_cast<std::size_t>(c) * kBins1 + b];
  std::size_t above1 = 0;
  const std::size_t b1 = pick_bin(total.data(), kBins1, k, above1);

  // Exact region sizes per chunk from the histograms (+1 slot each: the branch-free writes below
  // store before they decide whether to keep).
  std::vector<std::size_t> sel_off(static_cast<std::size_t>(T) + 1, 0), cand_off(static_cast<std::size_t>(T) + 1, 0);
  std::vector<std::size_t> sel_n(static_cast<std::size_t>(T), 0);
  for (int c = 0; c < T; ++c) {
    const std::uint32_t* h = hist.data() + static_cast<std::size_t>(c) * kBins1;
    std::size_t a = 0;
    for (std::size_t b = b1 + 1; b < kBins1; ++b) a += h[b];
    sel_n[static_cast<std::size_t>(c)] = a;
    sel_off[static_cast<std::size_t>(c) + 1] = sel_off[static_cast<std::size_t>(c)] + a + 1;
    cand_off[static_cast<std::size_t>(c) + 1] = cand_off[static_cast<std::size_t>(c)] + h[b1] + 1;
  }
  std::unique_ptr<std::uint32_t[]> sel(new std::uint32_t[sel_off[static_cast<std::size_t>(T)]]);
  std::unique_ptr<std::uint32_t[]> cand(new std::uint32_t[cand_off[static_cast<std::size_t>(T)]]);
  std::unique_ptr<std::uint32_t[]> ckey(new std::uint32_t[cand_off[static_cast<std::size_t>(T)]]);

  // Pass 2: indices above the threshold digit, and the candidates on it, in index order.
  const auto d1 = static_cast<std::uint32_t>(b1);
#pragma omp parallel for num_threads(T) schedule(static, 1) if (T > 1)
  for (int c = 0; c < T; ++c) {
    std::uint32_t* s = sel.get() + sel_off[static_cast<std::size_t>(c)];
    std::uint32_t* ci = cand.get() + cand_off[static_cast<std::size_t>(c)];
    std::uint32_t* ck = ckey.get() + cand_off[static_cast<std::size_t>(c)];
    std::size_t ns = 0, nc = 0;
    for (std::size_t i = lo(c), e = lo(c + 1); i < e; ++i) {
      const std::uint32_t key = key_of(x, i), d = key >> kShift1;
      s[ns] = static_cast<std::uint32_t>(i);
      ns += d > d1;
      ci[nc] = static_cast<std::uint32_t>(i);
      ck[nc] = key;
      nc += d == d1;
    }
  }

  Chunks ch{T, std::move(sel_off), std::move(sel_n), std::move(cand_off), {}, sel.get(), cand.get(), ckey.get()};
  for (int c = 0; c < T; ++c)
    ch.cand_n.push_back(ch.cand_off[static_cast<std::size_t>(c) + 1] - ch.cand_off[static_cast<std::size_t>(c)] - 1);
  finish(ch, k, k - above1, d1 << kShift1, 0xffffffffu << kShift1, {10, 0}, out);
}

}  // namespace arcsim::kernels::cpu

namespace arcsim::kernels::cpu {

namespace {

// The sampled pass over x[i, e) of one chunk: indices of keys above the band (`hi`, unless hi_open)
// into so, indices and keys inside [lo, hi] into ci/ck, in index order; writes clamp at the caps
// (the counts still grow, so an overflow is seen by the caller).
struct Band {
  std::uint32_t lo, hi;
  bool hi_open;
};
void band_scan_scalar(const float* x, std::size_t i, std::size_t e, Band b, std::uint32_t* so, std::size_t scap,
                      std::uint32_t* ci, std::uint32_t* ck, std::size_t ccap, std::size_t& ns, std::size_t& nc) {
  for (; i < e; ++i) {
    const std::uint32_t key = key_of(x, i);
    const bool above = !b.hi_open && key > b.hi, in = key >= b.lo && (b.hi_open || key <= b.hi);
    so[std::min(ns, scap)] = static_cast<std::uint32_t>(i);
    ns += above;
    const std::size_t slot = std::min(nc, ccap);
    ci[slot] = static_cast<std::uint32_t>(i);
    ck[slot] = key;
    nc += in;
  }
}

// The same 16 keys at a time with AVX-512 compression (the same lists: compression keeps lane
// order); the scalar loop finishes the tail, or the rest once a list is within 16 of its cap.
__attribute__((target("avx512f"))) void band_scan_avx512(const float* x, std::size_t i, std::size_t e, Band b,
                                                         std::uint32_t* so, std::size_t scap, std::uint32_t* ci,
                                                         std::uint32_t* ck, std::size_t ccap, std::size_t& ns,
                                                         std::size_t& nc) {
  const __m512i abs_mask = _mm512_set1_epi32(0x7fffffff);
  const __m512i lo = _mm512_set1_epi32(static_cast<int>(b.lo)), hi = _mm512_set1_epi32(static_cast<int>(b.hi));
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (; i + 16 <= e && ns + 16 <= scap && nc + 16 <= ccap; i += 16) {
    const __m512i key = _mm512_and_si512(_mm512_loadu_si512(x + i), abs_mask);
    const __m512i idx = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(i)), lane);
    // Keys are < 2^31 (sign cleared) and lo/hi too, so signed compares order them as unsigned.
    const __mmask16 above = b.hi_open ? __mmask16{0} : _mm512_cmpgt_epi32_mask(key, hi);
    __mmask16 in = _mm512_cmpge_epi32_mask(key, lo);
    if (!b.hi_open) in &= _mm512_cmple_epi32_mask(key, hi);
    if (above) {
      _mm512_storeu_si512(so + ns, _mm512_maskz_compress_epi32(above, idx));
      ns += static_cast<std::size_t>(__builtin_popcount(above));
    }
    if (in) {
      _mm512_storeu_si512(ci + nc, _mm512_maskz_compress_epi32(in, idx));
      _mm512_storeu_si512(ck + nc, _mm512_maskz_compress_epi32(in, key));
      nc += static_cast<std::size_t>(__builtin_popcount(in));
    }
  }
  band_scan_scalar(x, i, e, b, so, scap, ci, ck, ccap, ns, nc);
}

// One read of x when a sample predicts the threshold: keys above the sample's band are certain,
// keys inside it are candidates. Returns false (and the caller runs the histogram passes) when
// the band missed the k-th largest key or held more candidates than budgeted; the result is exact
// either way, the sample only decides how much of x must be looked at.
bool topk_sampled(const float* x, std::size_t n, std::size_t k, std::uint32_t* out) {
  const std::size_t stride = 64, s = n / stride;
  std::vector<std::uint32_t> sample(s);
  for (std::size_t i = 0; i < s; ++i) sample[i] = key_of(x, i * stride + stride / 2);
  // Expected rank of the threshold in the sample, and a band of +-(4 sigma + 16) ranks around it.
  const double q = static_cast<double>(k) / static_cast<double>(n);
  const double rank = q * static_cast<double>(s);
  const double margin = 4.0 * std::sqrt(rank * (1.0 - q) + 1.0) + 16.0;
  const auto r_hi = static_cast<std::ptrdiff_t>(std::max(0.0, rank - margin));
  const auto r_lo = static_cast<std::ptrdiff_t>(std::min(static_cast<double>(s) - 1.0, rank + margin));
  std::nth_element(sample.begin(), sample.begin() + r_hi, sample.end(), std::greater<std::uint32_t>());
  const std::uint32_t hi = r_hi == 0 ? 0xffffffffu : sample[static_cast<std::size_t>(r_hi)];
  std::nth_element(sample.begin() + r_hi, sample.begin() + r_lo, sample.end(), std::greater<std::uint32_t>());
  const std::uint32_t lo = sample[static_cast<std::size_t>(r_lo)];

  const int T = std::max(1, omp_get_max_threads());
  const auto begin = [&](int c) { return n * static_cast<std::size_t>(c) / static_cast<std::size_t>(T); };
  // Budgets per chunk (+1 slot: writes go before the keep decision; overflow clamps to the last
  // slot and is detected from the count).
  const double band = static_cast<double>(r_lo - r_hi + 1) / static_cast<double>(s);
  Chunks ch{T, std::vector<std::size_t>(static_cast<std::size_t>(T) + 1, 0), std::vector<std::size_t>(static_cast<std::size_t>(T), 0),
            std::vector<std::size_t>(static_cast<std::size_t>(T) + 1, 0), std::vector<std::size_t>(static_cast<std::size_t>(T), 0),
            nullptr, nullptr, nullptr};
  std::vector<std::size_t> sel_cap(static_cast<std::size_t>(T)), cand_cap(static_cast<std::size_t>(T));
  for (int c = 0; c < T; ++c) {
    const auto cc = static_cast<std::size_t>(c);
    const std::size_t len = begin(c + 1) - begin(c);
    sel_cap[cc] = std::min(len, k);
    cand_cap[cc] = std::min(len, static_cast<std::size_t>(2.0 * band * static_cast<double>(len)) + 4096);
    ch.sel_off[cc + 1] = ch.sel_off[cc] + sel_cap[cc] + 1;
    ch.cand_off[cc + 1] = ch.cand_off[cc] + cand_cap[cc] + 1;
  }
  std::unique_ptr<std::uint32_t[]> sel(new std::uint32_t[ch.sel_off.back()]);
  std::unique_ptr<std::uint32_t[]> cand(new std::uint32_t[ch.cand_off.back()]);
  std::unique_ptr<std::uint32_t[]> ckey(new std::uint32_t[ch.cand_off.back()]);
  const Band bounds{lo, hi, r_hi == 0};  // hi_open: no element is certain, the band reaches the top
  static const bool has_avx512 = __builtin_cpu_supports("avx512f");
#pragma omp parallel for num_threads(T) schedule(static, 1) if (T > 1)
  for (int c = 0; c < T; ++c) {
    const auto cc = static_cast<std::size_t>(c);
    std::uint32_t* so = sel.get() + ch.sel_off[cc];
    std::uint32_t* ci = cand.get() + ch.cand_off[cc];
    std::uint32_t* ck = ckey.get() + ch.cand_off[cc];
    std::size_t ns = 0, nc = 0;
    (has_avx512 ? band_scan_avx512 : band_scan_scalar)(x, begin(c), begin(c + 1), bounds, so, sel_cap[cc], ci, ck,
                                                         cand_cap[cc], ns, nc);
    ch.sel_n[cc] = ns;
    ch.cand_n[cc] = nc;
  }
  std::size_t above = 0, cands = 0;
  for (int c = 0; c < T; ++c) {
    const auto cc = static_cast<std::size_t>(c);
    if (ch.sel_n[cc] > sel_cap[cc] || ch.cand_n[cc] > cand_cap[cc]) return false;  // over budget
    above += ch.sel_n[cc];
    cands += ch.cand_n[cc];
  }
  if (above > k || above + cands < k) return false;  // the k-th largest key is outside the band
  ch.sel = sel.get();
  ch.cand = cand.get();
  ch.ckey = ckey.get();
  finish(ch, k, k - above, 0u, 0u, {20, 10, 0}, out);
  return true;
}

}  // namespace

void topk_magnitude(const float* x, std::size_t n, std::size_t k, std::uint32_t* out) {
  if (k > n) throw std::invalid_argument("topk_magnitude: k = " + std::to_string(k) + " > n = " + std::to_string(n));
  if (k == 0) return;
  if (n >= kParallelMin && k < n && topk_sampled(x, n, k, out)) return;
  topk_magnitude_histogram(x, n, k, out);
}

}  // namespace arcsim::kernels::cpu
