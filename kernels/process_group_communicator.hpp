#pragma once
// ProcessGroupCommunicator: the Communicator of one rank in real distributed training. Each
// process holds one local worker; the collectives a compressor calls are carried by a Transport,
// the byte-level collectives of a real process group (the Python binding's transport calls
// torch.distributed: gloo on CPU, NCCL where a GPU is; tests use threads). The compressors are
// the same C++ code as in the emulated communicator: nothing is implemented twice.
//
// Sums. `Reduction::ordered` (the default) forms every all-reduce sum in rank order, as the
// EmulatedCommunicator does, so a P-process run is bit-identical to the emulated one: a direct
// reduce-scatter (an all-to-all of chunks; rank c sums chunk c over ranks 0, 1, ... in order)
// followed by an all-gather of the reduced chunks. Each rank sends 2 (P-1)/P of the payload, as
// in a ring all-reduce. `Reduction::native` hands float32 all-reduces to the process group's own
// algorithm (gloo's ring, NCCL): the sum order is the library's, so results may differ from the
// emulated ones in the last bits for P >= 3; a value wire type other than float32 stays ordered
// (a native float16 sum would round every partial sum, the emulated one rounds once).
//
// Every collective is logged (op, payload bytes as the plan counts them, wall-clock start and
// end) so that the caller can report per-collective timings and bytes sent (calls()).
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "kernels/communicator.hpp"

namespace arcsim::kernels {

// One rank's byte collectives over a group of size() ranks, in the group's rank order. A transport
// that fails throws (std::runtime_error) with a message naming the cause.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // out = every rank's block back to back in rank order; this rank's block is `in`, bytes[rank()]
  // long; bytes has size() entries.
  virtual void allgatherv(const void* in, std::span<const std::size_t> bytes, void* out) = 0;
  // Sends send[d] bytes to rank d (in: the blocks for d = 0, 1, ... back to back) and receives
  // recv[s] bytes from rank s into out (back to back). The diagonal block is copied locally.
  virtual void alltoallv(const void* in, std::span<const std::size_t> send, void* out,
                         std::span<const std::size_t> recv) = 0;
  virtual void broadcast(void* buf, std::size_t bytes, int root) = 0;
  // buf = sum over ranks of buf (float32), in the process group's own algorithm and order.
  virtual void allreduce_sum_f32(float* buf, std::size_t count) = 0;
};

enum class Reduction { ordered, native };
Reduction parse_reduction(const std::string& name);  // "ordered" | "native", else invalid_argument
const char* reduction_name(Reduction r);

// One collective call as it happened on this rank.
struct CollectiveCall {
  std::string op;          // allreduce | allgather | allgatherv | broadcast | alltoallv
  std::size_t bytes = 0;   // this rank's payload as the plan counts it (recording_communicator.hpp):
                           // allreduce/allgather/broadcast count x dtype, allgatherv its own block,
                           // alltoallv what it sends to the other ranks
  std::size_t wire_bytes = 0;  // bytes this rank handed to the transport to send to other ranks
  DType dtype = DType::kFloat32;
  double start_s = 0.0, end_s = 0.0;  // wall clock (seconds since the Unix epoch)
};

class ProcessGroupCommunicator final : public Communicator {
 public:
  explicit ProcessGroupCommunicator(Transport& transport, Reduction reduction = Reduction::ordered);
  int world_size() const override { return transport_.size(); }
  int local_workers() const override { return 1; }
  int first_rank() const override { return transport_.rank(); }
  Reduction reduction() const { return reduction_; }

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

  // The collectives and kernels since the last take_*(), in program order.
  std::vector<CollectiveCall> take_calls();
  struct KernelCall {
    std::string name;
    double start_s = 0.0, end_s = 0.0;
  };
  std::vector<KernelCall> take_kernels();

 private:
  void check_local(std::size_t n, const char* op) const;
  void ordered_sum(const float* in, std::size_t count, float* out, DType wire, CollectiveCall& call);
  Transport& transport_;
  Reduction reduction_;
  std::vector<CollectiveCall> calls_;
  std::vector<KernelCall> kernels_;
};

double wall_clock_s();  // seconds since the Unix epoch (Python's time.time())

}  // namespace arcsim::kernels
