#pragma once
// The central contract: every compressor is written once against a
// Communicator. A call is staged over ALL local workers of the process at once: the caller passes
// one input pointer per local worker. The result of a collective is the same on every worker, so it
// is written once (`out`), and each local worker reads it from there.
//  * EmulatedCommunicator: N workers in one process (recorder, replay, `arcsim compress`, tests).
//  * RecordingCommunicator (recording_communicator.hpp): wraps another one and logs the plan.
//  * ProcessGroupCommunicator (process_group_communicator.hpp): one local worker per process,
//    world_size() ranks, the bytes carried by a real process group (torch.distributed).
// Sparsifiers loop over local workers (the `in` spans) and size what they receive by world_size().
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace arcsim::kernels {

// Element types on the wire. Values are computed in float32 and sent as float32, float16 or
// bfloat16 (kernels/wire.hpp converts); indices are sent as int32 or int64.
enum class DType : std::uint8_t { kFloat32, kInt32, kFloat16, kBFloat16, kInt64 };
std::size_t dtype_size(DType t);
const char* dtype_name(DType t);  // "float32", "int32", "float16", "bfloat16", "int64"

// How the sizes a variable-size collective records extend to a simulation at another rank count
// (the plan's "scaling", docs/contracts.md): kPerRank, each rank's own amount (all-gather-v: its
// block, cycled; all-to-all-v: its row total, spread over the other ranks); kShare, shares of a
// total that does not grow with the rank count (Ok-Topk's global top-k, split P ways); kPerPair,
// a fixed amount per pair of ranks (a size exchange).
enum class SizeScaling : std::uint8_t { kPerRank, kShare, kPerPair };

// A kernel launched between collectives, as the compressor announces it. Sizes are per worker.
struct KernelRecord {
  std::string name;           // e.g. "topk_select", "arc_sketch"
  std::size_t elements = 0;   // elements the kernel processes on one worker
  std::size_t bytes_moved = 0;  // bytes one worker's kernel reads + writes (bandwidth model input)
  double duration_s = 0.0;    // one worker's duration
  std::string duration_source = "measured-cpu";
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  // Ranks taking part in a collective (for the emulated communicator: its local workers).
  virtual int world_size() const = 0;
  // Workers held by this process: the length of every `in` span.
  virtual int local_workers() const = 0;
  // Global rank of this process's first local worker (local worker w is rank first_rank() + w):
  // what keys a per-worker random stream, so that every rank draws what it would draw emulated.
  virtual int first_rank() const { return 0; }

  // out[i] = sum over ranks of in[rank][i], i < count. `out` may alias no input. `wire`: the
  // type on the wire (float32, float16 or bfloat16): each contribution and the sum are rounded to
  // it (the sum itself is formed in float32), and the plan counts its bytes.
  virtual void allreduce_sum(std::span<const float* const> in, std::size_t count, float* out,
                             bool blocking = true, DType wire = DType::kFloat32) = 0;
  // out = concatenation over ranks of in[rank][0..count) (count elements of `type` per rank).
  virtual void allgather(std::span<const void* const> in, std::size_t count, DType type, void* out,
                         bool blocking = true) = 0;
  // As allgather with a per-rank count (counts: world_size() entries, every rank's, known to every
  // rank, e.g. from an all-gather of the sizes); out holds sum(counts) elements in rank order.
  // `scaling` only annotates the plan (how a simulation at another rank count reads the sizes).
  virtual void allgatherv(std::span<const void* const> in, std::span<const std::size_t> counts, DType type,
                          void* out, bool blocking = true, SizeScaling scaling = SizeScaling::kPerRank) = 0;
  // out = in[root][0..count).
  virtual void broadcast(std::span<const void* const> in, std::size_t count, DType type, int root, void* out,
                         bool blocking = true) = 0;
  // Personalised all-to-all with per-destination counts (MPI_Alltoallv). `counts` is world x world,
  // row-major: counts[s * world + d] = elements rank s sends to rank d (every rank knows the whole
  // matrix, as after an all-to-all of the sizes). in[s] holds rank s's elements for d = 0, 1, ...
  // back to back; out[d] (one buffer per worker: each receives something different) gets
  // sum_s counts[s * world + d] elements, those of s = 0, 1, ... back to back. Entries on the
  // diagonal stay local (copied, never sent).
  virtual void alltoallv(std::span<const void* const> in, std::span<const std::size_t> counts, DType type,
                         std::span<void* const> out, bool blocking = true,
                         SizeScaling scaling = SizeScaling::kPerRank) = 0;

  // Compressors announce every kernel here; the default forgets it (RecordingCommunicator logs it).
  virtual void record_kernel(const KernelRecord&) {}
};

// N workers in one process. Collectives are exact copies / sums with a fixed order: the sum of
// element i is ((in[0][i] + in[1][i]) + in[2][i]) + ..., so results are bitwise deterministic.
class EmulatedCommunicator final : public Communicator {
 public:
  explicit EmulatedCommunicator(int workers);
  int world_size() const override { return workers_; }
  int local_workers() const override { return workers_; }
  void allreduce_sum(std::span<const float* const> in, std::size_t count, float* out, bool blocking = true,
                     DType wire = DType::kFloat32) override;
  void allgather(std::span<const void* const> in, std::size_t count, DType type, void* out,
                 bool blocking) override;
  void allgatherv(std::span<const void* const> in, std::span<const std::size_t> counts, DType type, void* out,
                  bool blocking, SizeScaling scaling = SizeScaling::kPerRank) override;
  void broadcast(std::span<const void* const> in, std::size_t count, DType type, int root, void* out,
                 bool blocking) override;
  void alltoallv(std::span<const void* const> in, std::span<const std::size_t> counts, DType type,
                 std::span<void* const> out, bool blocking, SizeScaling scaling = SizeScaling::kPerRank) override;

 private:
  void check_workers(std::size_t n, const char* op) const;
  int workers_;
};

}  // namespace arcsim::kernels
