#pragma once
// Worker-streamed replay of one bucket: the same compression call as kernels::Compressor::step on
// a fresh Compressor (the replay's case: call 0, no warm-up, no ramp), computed one worker at a
// time, so a bucket's memory is a few copies of ONE worker's gradients instead of several copies
// of all W workers'. The Compressor stages every worker at once (its gradients, its EF state, its
// dense message); for the 262 MB embedding of LLaMA-1B at 8 workers that is ~8 GB.
//
// Same bits as the Compressor: every primitive is the same backend call on the same data, and
// every sum the Compressor does in worker order (the emulated all-reduce, the Top-K scatter-add,
// the metrics' per-element means in double) is accumulated here in the same worker order; the
// plan ops (kernels and collectives, program order, bytes) are the ones the Compressor records.
// tests/experiments/test_replay_stream.cpp checks plans, aggregates and metrics against it.
//
// Streamed: dense with no error feedback; Top-K, Rand-K and ARC-Top-K with any error feedback
// (none; EF14, whose state is zero on a fresh bucket; EF21 and EF21M, whose call is the one after
// the dense start on the `prime` gradients, or call 0 from a zero state), with fp32 values and
// int32 indices on the wire. ARC-Top-K reads each worker's gradients twice (sketch, then the
// selected rows), so they are generated or copied twice (EF21's start gradients too). Warm-up,
// ramp, other wire types and the other compressors of the registry are not streamed:
// can_stream() says so and the replay uses the Compressor for them, at its memory.
#include <cstdint>
#include <functional>

#include "kernels/backend.hpp"
#include "kernels/compressor.hpp"
#include "kernels/layout.hpp"

namespace arcsim::experiments {

// Writes worker w's gradients of the bucket (layout.numel() floats) into out. Called in worker
// order, possibly twice per worker (ARC-Top-K); must give the same values every time.
using WorkerGradients = std::function<void(int w, float* out)>;

bool can_stream(const kernels::CompressorConfig& config);

// One compression call of bucket `bucket` for `workers` workers; agg (numel floats) receives the
// aggregate. The report holds what Compressor::step's would: phase, ratio, k, k_unit,
// values_per_rank, ops, relative_error, retained_energy, grad_energy, row_recall, backend.
// Non-finite gradients: std::invalid_argument naming worker and element, as the Compressor.
// EF21/EF21M with ef21_init "dense": `prime` gives each worker's gradients of the dense start (a
// Compressor's first call on them, then this call, is what is reproduced); required.
kernels::StepReport stream_step(const kernels::CompressorConfig& config, int workers, std::uint32_t bucket,
                                const kernels::BucketLayout& layout, const WorkerGradients& grads,
                                kernels::Backend& backend, float* agg, const WorkerGradients* prime = nullptr);

}  // namespace arcsim::experiments
