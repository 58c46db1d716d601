#pragma once
// RecordingCommunicator: forwards every call to another Communicator and logs it, in program
// order, as the ops of an `arcsim-plan/1` bucket (converted to the format's type by to_plan_op) (docs/contracts.md section 1): collectives with
// op, bytes_per_rank (one rank's own contribution), dtype, blocking; kernels with name, elements,
// bytes_moved, duration_s and duration_source. take_ops() hands the log over and clears it, so a
// compressor step can be cut into one bucket's plan.
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/plan.hpp"
#include "kernels/backend.hpp"
#include "kernels/catalogue.hpp"
#include "kernels/communicator.hpp"

namespace arcsim::kernels {

struct PlanOp {
  enum class Kind { kKernel, kCollective } kind = Kind::kCollective;
  // collective
  std::string op;                    // allreduce | allgather | allgatherv | broadcast | alltoallv
  std::size_t bytes_per_rank = 0;    // rank 0's contribution (allgatherv: see bytes_by_rank;
                                     // alltoallv: what rank 0 sends to the other ranks)
  std::vector<std::size_t> bytes_by_rank;  // allgatherv only, one entry per worker
  // alltoallv only: bytes_matrix[s][d] = bytes rank s sends to rank d (world x world).
  std::vector<std::vector<std::size_t>> bytes_matrix;
  SizeScaling scaling = SizeScaling::kPerRank;  // allgatherv, alltoallv: "scaling" (written unless per_rank)
  DType dtype = DType::kFloat32;
  bool blocking = true;
  // kernel
  KernelRecord kernel;
};

// The op as the plan format's type (common/plan.hpp), and written by that format's one writer.
plan::PlanOp to_plan_op(const PlanOp& op);
nlohmann::json to_json(const PlanOp& op);
nlohmann::json ops_to_json(const std::vector<PlanOp>& ops);

class RecordingCommunicator final : public Communicator {
 public:
  explicit RecordingCommunicator(Communicator& inner) : inner_(inner) {}
  int world_size() const override { return inner_.world_size(); }
  int local_workers() const override { return inner_.local_workers(); }
  int first_rank() const override { return inner_.first_rank(); }
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
  void record_kernel(const KernelRecord& k) override;

  const std::vector<PlanOp>& ops() const { return ops_; }
  std::vector<PlanOp> take_ops();

 private:
  void log_collective(const char* op, std::size_t bytes, DType type, bool blocking);
  Communicator& inner_;
  std::vector<PlanOp> ops_;
};

// Times a kernel and reports it to comm.record_kernel on destruction. `repeats` = how many times
// the timed region runs the kernel (once per emulated worker, typically): the reported duration
// is one worker's share.
//  * The catalogue form names the kernel by KernelId: its name, elements and bytes_moved come from
//    kernel_catalogue() and the work sizes; the backend times it (a steady clock on the CPU, CUDA
//    events on the GPU) and names the duration's source.
//  * The plain form (name and sizes given) times with a steady clock ("measured-cpu").
class KernelTimer {
 public:
  KernelTimer(Communicator& comm, Backend& backend, KernelId id, const KernelWork& work, std::size_t repeats = 1);
  KernelTimer(Communicator& comm, std::string name, std::size_t elements, std::size_t bytes_moved,
              std::size_t repeats = 1);
  ~KernelTimer();
  KernelTimer(const KernelTimer&) = delete;
  KernelTimer& operator=(const KernelTimer&) = delete;

 private:
  Communicator& comm_;
  Backend* backend_ = nullptr;
  KernelRecord record_;
  std::size_t repeats_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace arcsim::kernels
