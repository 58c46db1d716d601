#include "kernels/compressor.hpp"
#include "kernels/plan_writer.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "kernels/compressor_registry.hpp"
#include "kernels/error_feedback.hpp"
#include "kernels/finite.hpp"
#include "kernels/metric_sums.hpp"
#include "kernels/primitives.hpp"
#include "kernels/wire.hpp"
#include "kernels/worker_buffers.hpp"

namespace arcsim::kernels {

namespace {
// m[i] = (sum over workers, in worker order, of in[w][lo + i] as double) / W.
void mean_into(std::span<const float* const> in, std::size_t W, std::size_t lo, std::size_t len, double* __restrict m) {
  const float* x = in[0] + lo;
  for (std::size_t i = 0; i < len; ++i) m[i] = x[i];
  for (std::size_t w = 1; w < W; ++w) {
    x = in[w] + lo;
    for (std::size_t i = 0; i < len; ++i) m[i] += x[i];
  }
  const double dw = static_cast<double>(W);
  for (std::size_t i = 0; i < len; ++i) m[i] /= dw;
}

nlohmann::json finite_or_null(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }
}  // namespace

nlohmann::json StepReport::to_json(const BucketLayout& layout) const {
  nlohmann::json j = {{"bucket", bucket},
                      {"call", call},
                      {"phase", phase},
                      {"ratio", ratio},
                      {"k", k},
                      {"k_unit", k_unit},
                      {"values_per_rank", values_per_rank},
                      {"relative_error", finite_or_null(relative_error)},
                      {"retained_energy", finite_or_null(retained_energy)}};
  if (row_recall) j["row_recall"] = *row_recall;
  if (!k_by_worker.empty()) j["k_by_worker"] = k_by_worker;
  if (!backend.empty()) j["backend"] = backend;
  nlohmann::json plan = nlohmann::json::array(), kernels = nlohmann::json::array();
  for (const auto& op : ops) (op.kind == PlanOp::Kind::kKernel ? kernels : plan).push_back(kernels::to_json(op));
  j["plan"] = plan;        // collectives, program order
  j["kernels"] = kernels;  // kernels, program order
  j["plan_bucket"] = Compressor::plan_bucket(*this, layout);  // both interleaved: arcsim-plan/1 bucket
  return j;
}

Compressor::Compressor(int workers, CompressorConfig config, Backend& backend)
    : workers_(workers),
      config_(std::move(config)),
      backend_(&backend),
      emulated_(std::make_unique<EmulatedCommunicator>(workers)),
      comm_(*emulated_) {
  config_.validate();
  dense_ = make_dense();
  sparsifier_ = compressor_entry(config_.compressor).make(config_);
}

Compressor::Compressor(CompressorConfig config, Communicator& comm, Backend& backend)
    : workers_(comm.local_workers()), config_(std::move(config)), backend_(&backend), comm_(comm) {
  config_.validate();
  dense_ = make_dense();
  sparsifier_ = compressor_entry(config_.compressor).make(config_);
}

double Compressor::ratio_at(std::uint32_t call) const {
  return ramp_ratio(config_, static_cast<double>(call) - config_.warmup);
}

nlohmann::json Compressor::plan_header() const { return plan::header_json(plan_of(*this)); }

nlohmann::json Compressor::plan_bucket(const StepReport& report, const BucketLayout& layout) {
  return plan::to_json(plan_bucket_of(report, layout));
}

const std::vector<float>& Compressor::error(std::uint32_t bucket, int worker) const {
  static const std::vector<float> kEmpty;
  auto it = buckets_.find(bucket);
  if (it == buckets_.end() || it->second.e.empty()) return kEmpty;
  return it->second.e.at(static_cast<std::size_t>(worker));
}

StepReport Compressor::step(std::uint32_t bucket, const BucketLayout& layout, std::span<const float* const> grads,
                            float* agg) {
  layout.validate();
  const std::size_t n = layout.numel(), W = static_cast<std::size_t>(workers_);
  if (grads.size() != W)
    throw std::invalid_argument("grads: expected " + std::to_string(W) + " workers, got " + std::to_string(grads.size()));
  Backend& be = *backend_;
  for (std::size_t w = 0; w < W; ++w) require_finite(grads[w], n, comm_.first_rank() + static_cast<int>(w));
  // The quality metrics compare with the mean of every rank's gradient: only where all are here.
  const bool all_workers_here = comm_.local_workers() == comm_.world_size();
  BucketState& st = buckets_[bucket];
  if (st.calls > 0 && st.numel != n)
    throw std::invalid_argument("bucket " + std::to_string(bucket) + ": expected " + std::to_string(st.numel) +
                                " elements as in its earlier calls, got " + std::to_string(n));
  st.numel = n;
  comm_.take_ops();  // start this call's plan clean

  StepReport rep;
  rep.bucket = bucket;
  rep.call = st.calls;
  rep.backend = be.name();
  const ErrorFeedback ef = error_feedback(config_.ef);
  std::vector<std::unique_ptr<float[]>> x;  // compressor inputs, when they differ from grads
  std::vector<const float*> in(grads.begin(), grads.end());
  std::vector<std::uint8_t> selected;
  SparsifyArgs args;
  args.bucket = bucket;
  args.step = st.calls;
  args.agg = agg;
  args.selected = &selected;
  args.backend = &be;
  args.value_wire = value_dtype(config_.value_dtype);
  args.index_wire = index_dtype(config_.index_dtype);

  const bool ef21_family = is_ef21_family(ef);
  std::optional<std::array<double, 2>> error_sums;  // the relative error's (num, den), once computed
  const bool ef21_dense_init = ef21_family && config_.ef21_init == "dense";
  if (st.calls < static_cast<std::uint32_t>(config_.warmup) || (ef21_dense_init && !st.ef_started)) {
    // Dense: the warm-up, or EF21's initial dense all-reduce.
    const bool warmup = st.calls < static_cast<std::uint32_t>(config_.warmup);
    rep.phase = phase_name(warmup ? StepPhase::warmup_dense : StepPhase::ef21_init_dense);
    args.in = in;
    const SparsifyResult r = dense_->run(comm_, layout, args);
    rep.k = r.k;
    rep.values_per_rank = r.values_per_rank;
    if (!warmup) {
      KernelTimer timer(comm_, be, KernelId::kEfUpdate, {.n = n}, W);
      st.e.assign(W, {});
      for (std::size_t w = 0; w < W; ++w) st.e[w].assign(grads[w], grads[w] + n);
      if (ef == ErrorFeedback::ef21m) st.h = st.e;
      st.ebar.assign(agg, agg + n);
      st.ef_started = true;
    }
  } else {
    rep.phase = phase_name(StepPhase::compressed);
    rep.ratio = ratio_at(st.calls);
    args.ratio = rep.ratio;
    std::vector<std::unique_ptr<float[]>> local;
    std::vector<float*> local_ptr;
    // No EF, or EF14 from a zero state (u = g + 0): the inputs are the gradients up to the sign of
    // a zero, so both metrics come from one pass over the gradients below.
    const bool inputs_are_grads = ef == ErrorFeedback::none || (ef == ErrorFeedback::ef14 && !st.ef_started);
    if (ef != ErrorFeedback::none) {
      KernelTimer timer(comm_, be, KernelId::kEfInput, {.n = n}, W);
      if (!st.ef_started) {  // EF14, or EF21/EF21M with ef21_init zero: the state starts at 0
        st.e = worker_buffers(W, n);
        if (ef == ErrorFeedback::ef21m) st.h = st.e;
        if (ef21_family) st.ebar.assign(n, 0.0f);
        st.ef_started = true;
      }
      // EF14 computes u = g + e in place in e (e = u - c follows, also in place): no copy of the
      // bucket per worker beyond the state itself.
      if (ef != ErrorFeedback::ef14) x = uninitialised_worker_buffers(W, n);  // ef_sub writes them whole
      for (std::size_t w = 0; w < W; ++w) {
        if (ef == ErrorFeedback::ef14) {
          be.ef_add(grads[w], st.e[w].data(), n, st.e[w].data());
          in[w] = st.e[w].data();
          continue;
        } else if (ef == ErrorFeedback::ef21) {
          be.ef_sub(grads[w], st.e[w].data(), n, x[w].get());
        } else {
          if (config_.momentum == "heavy-ball")
            be.heavy_ball_update(st.h[w].data(), grads[w], n, static_cast<float>(config_.beta));
          else
            be.momentum_update(st.h[w].data(), grads[w], n, static_cast<float>(config_.eta));
          be.ef_sub(st.h[w].data(), st.e[w].data(), n, x[w].get());
        }
        in[w] = x[w].get();
      }
      local = uninitialised_worker_buffers(W, n);  // the sparsifier writes them whole (sparsifier.hpp)
      for (auto& l : local) local_ptr.push_back(l.get());
    }
    args.in = in;
    args.local_out = local_ptr;
    const SparsifyResult r = sparsifier_->run(comm_, layout, args);
    rep.k = r.k;
    rep.k_by_worker = r.k_by_worker;
    rep.k_unit = r.k_unit;
    rep.values_per_rank = r.values_per_rank;
    if (r.rows_exact > 0) rep.row_recall = static_cast<double>(r.rows_recalled) / static_cast<double>(r.rows_exact);
    // Retained energy of the compressor's own input mean over the positions it sent (before the
    // EF update, which overwrites EF14's input in place). When the inputs are the gradients the
    // relative error's sums come from the same pass (agg is final: no EF update touches it), with
    // the bits of separate passes: the means differ at most in the sign of a zero, their squares
    // not at all, and ||mean||^2 is then `total` itself.
    if (!all_workers_here) {
      rep.retained_energy = std::numeric_limits<double>::quiet_NaN();
    } else if (inputs_are_grads) {
      const auto [total, kept, num] = metric_sums<3>(n, [&](std::size_t lo, std::size_t len, std::array<double*, 3>& t) {
        mean_into(grads, W, lo, len, t[0]);
        metric_terms(t[0], len, agg + lo, t[2], selected.data() + lo, t[1]);
      });
      rep.retained_energy = retained_energy(kept, total);
      error_sums = {num, total};
    } else {
      const auto [total, kept] = metric_sums<2>(n, [&](std::size_t lo, std::size_t len, std::array<double*, 2>& t) {
        mean_into(in, W, lo, len, t[0]);
        metric_terms(t[0], len, nullptr, nullptr, selected.data() + lo, t[1]);
      });
      rep.retained_energy = retained_energy(kept, total);
    }
    if (ef != ErrorFeedback::none) {
      KernelTimer timer(comm_, be, KernelId::kEfUpdate, {.n = n}, W);
      for (std::size_t w = 0; w < W; ++w) {
        if (ef == ErrorFeedback::ef14)
          be.ef14_residual(st.e[w].data(), local[w].get(), n, st.e[w].data());
        else
          be.ef_accumulate(st.e[w].data(), local[w].get(), n);
      }
      if (ef21_family) {
        be.ef_accumulate(st.ebar.data(), agg, n);
        if (n) std::memcpy(agg, st.ebar.data(), n * sizeof(float));
      }
    }
  }
  // Relative error of the aggregate against the dense mean of the raw gradients.
  if (!all_workers_here) error_sums = {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
  if (!error_sums)
    error_sums = metric_sums<2>(n, [&](std::size_t lo, std::size_t len, std::array<double*, 2>& t) {
      mean_into(grads, W, lo, len, t[1]);
      metric_terms(t[1], len, agg + lo, t[0], nullptr, nullptr);
    });
  const auto [num, den] = *error_sums;
  rep.grad_energy = den;
  rep.relative_error = all_workers_here ? relative_error(num, den) : std::numeric_limits<double>::quiet_NaN();
  rep.ops = comm_.take_ops();
  ++st.calls;
  return rep;
}

}  // namespace arcsim::kernels
