// arcsim_gpu_bench: the GPU benchmark driver. Every kernel of the CUDA backend on the benchmark
// shapes (bench/results/NOTES.md), each compared with its memory floor, expressed through a
// same-size device-to-device copy measured in the same run (so the floor is in measured, not
// nominal, bandwidth), and top-k also with torch.topk on the same GPU and input size.
//
//   build/bench/gpu/arcsim_gpu_bench [--runs 20] [--max-log2 28] [--out-dir bench/results] [--no-torch]
//
// Methodology (kernels/cuda/gpu_bench.hpp): cudaEvent timing, 3 warm-up calls, L2 flushed by a
// 256 MiB memset before every sample, median (and p10/p90) of >= 20 samples, clocks as found.
// Writes <out-dir>/gpu_<device>.md and .csv and prints the markdown table.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cuda/device_kernels.hpp"
#include "kernels/cuda/gpu_bench.hpp"

namespace {

using arcsim::cuda::DeviceBuffer;
using arcsim::cuda::GpuBench;
using arcsim::cuda::Stream;
using arcsim::cuda::TimingStats;

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
}

struct Row {
  std::string kernel, shape, floor_name;
  TimingStats t;
  double floor_bytes = 0, copy_s = 0, copy_bytes = 0;  // floor time = floor_bytes / (2 copy_bytes / copy_s)
  double torch_s = 0;                                  // 0: not measured
  std::string note;
  double floor_s() const { return floor_bytes / (2.0 * copy_bytes / copy_s); }
};

std::string fmt(double v, int prec = 3) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(prec);
  s << v;
  return s.str();
}

// torch.topk through bench/gpu/torch_topk.py (Debian's python, which sees torch); 0 if unavailable.
double torch_topk_seconds(std::size_t n, std::size_t k, int runs, std::string& note) {
  const std::string cmd = "/usr/bin/python3 " ARCSIM_SOURCE_DIR "/bench/gpu/torch_topk.py " + std::to_string(n) + " " +
                          std::to_string(k) + " " + std::to_string(runs) + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return 0;
  char buf[512] = {0};
  std::string out;
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  pclose(p);
  const auto at = out.find("\"median_s\": ");
  if (at == std::string::npos) {
    note = "torch.topk n/a";
    return 0;
  }
  const auto tv = out.find("\"torch\": \"");
  if (tv != std::string::npos) note = "torch " + out.substr(tv + 10, out.find('"', tv + 10) - tv - 10);
  return std::strtod(out.c_str() + at + 12, nullptr);
}

struct Args {
  int runs = 20, max_log2 = 28;
  std::string out_dir = ARCSIM_SOURCE_DIR "/bench/results";
  bool torch = true;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(s + ": missing value");
      return argv[++i];
    };
    if (s == "--runs") a.runs = std::stoi(next());
    else if (s == "--max-log2") a.max_log2 = std::stoi(next());
    else if (s == "--out-dir") a.out_dir = next();
    else if (s == "--no-torch") a.torch = false;
    else if (s == "-h" || s == "--help") {
      std::cout << "usage: arcsim_gpu_bench [--runs N>=20] [--max-log2 20..30] [--out-dir DIR] [--no-torch]\n";
      std::exit(0);
    } else throw std::invalid_argument("unknown option " + s);
  }
  if (a.runs < 20) throw std::invalid_argument("--runs must be >= 20");
  return a;
}

class Driver {
 public:
  explicit Driver(const Args& a) : a_(a) {}

  TimingStats copy(std::size_t bytes) { return bench_.time_copy(bytes, a_.runs); }
  TimingStats time(const std::function<void(Stream)>& f) { return bench_.time(f, a_.runs); }
  Stream stream() const { return bench_.stream(); }

  DeviceBuffer normal(std::size_t n, std::uint64_t seed) {
    DeviceBuffer b(n * sizeof(float));
    arcsim::cuda::fill_normal(b.as<float>(), n, seed, bench_.stream());
    bench_.synchronize();
    return b;
  }

  void topk() {
    for (int lg = 20; lg <= a_.max_log2; lg += 2) {
      const std::size_t n = std::size_t{1} << lg;
      DeviceBuffer x = normal(n, lg);
      DeviceBuffer ws(arcsim::cuda::topk_workspace_bytes(n));
      const TimingStats c = copy(4 * n);
      for (double ratio : {0.001, 0.01, 0.1, 0.2}) {
        const auto k = static_cast<std::size_t>(ratio * static_cast<double>(n));
        DeviceBuffer idx(k * 4);
        Row r;
        r.kernel = "topk_magnitude";
        r.shape = "N=2^" + std::to_string(lg) + " ratio=" + fmt(ratio, 3);
        r.floor_name = "2 reads (8N B)";
        r.t = time([&](Stream s) {
          arcsim::cuda::topk_magnitude(x.as<float>(), n, k, idx.as<std::uint32_t>(), ws.as<void>(), ws.bytes(), s);
        });
        r.floor_bytes = 8.0 * n;
        r.copy_s = c.median_s;
        r.copy_bytes = 4.0 * n;
        if (a_.torch) r.torch_s = torch_topk_seconds(n, k, a_.runs, r.note);
        rows_.push_back(r);
        report(rows_.back());
      }
    }
  }

  void sketch_and_rows() {
    struct Shape {
      std::uint32_t rows, cols;
    };
    for (Shape sh : {Shape{4096, 4096}, Shape{4096, 11008}, Shape{50257, 768}}) {
      const std::size_t n = std::size_t{sh.rows} * sh.cols;
      const std::string shape = std::to_string(sh.rows) + "x" + std::to_string(sh.cols);
      DeviceBuffer g = normal(n, 1), e = normal(n, 2), u(n * 4), p(std::size_t{sh.rows} * 4 * 4);
      const TimingStats c = copy(4 * n);
      for (bool ef : {false, true}) {
        arcsim::cuda::SketchTensor t;
        t.g = g.as<float>();
        t.e = ef ? e.as<float>() : nullptr;
        t.u = ef ? u.as<float>() : nullptr;
        t.p = p.as<float>();
        t.rows = sh.rows;
        t.cols = sh.cols;
        Row r;
        r.kernel = ef ? "sketch r=4 + EF14" : "sketch r=4";
        r.shape = shape;
        r.floor_name = ef ? "read g,e + write u (12nm B)" : "read G (4nm B)";
        r.t = time([&](Stream s) { arcsim::cuda::sketch_bucket(&t, 1, 4, 1, 0, s); });
        r.floor_bytes = (ef ? 12.0 : 4.0) * n + 16.0 * sh.rows;
        r.copy_s = c.median_s;
        r.copy_bytes = 4.0 * n;
        rows_.push_back(r);
        report(rows_.back());
      }
      for (double ratio : {0.01, 0.2}) {
        const auto k = std::max<std::uint32_t>(1, static_cast<std::uint32_t>(ratio * sh.rows));
        std::vector<std::uint32_t> sel(k);
        for (std::uint32_t i = 0; i < k; ++i) sel[i] = static_cast<std::uint32_t>((std::size_t{i} * sh.rows) / k);
        DeviceBuffer rows(k * 4), packed(std::size_t{k} * sh.cols * 4);
        check(cudaMemcpy(rows.as<void>(), sel.data(), k * 4, cudaMemcpyHostToDevice), "upload");
        const double bytes = 8.0 * k * sh.cols;
        const TimingStats cc = copy(static_cast<std::size_t>(bytes / 2));
        arcsim::cuda::RowCopyTensor t{g.as<float>(), packed.as<float>(), rows.as<std::uint32_t>(), k, sh.cols};
        for (bool gather : {true, false}) {
          Row r;
          r.kernel = gather ? "gather rows" : "scatter rows";
          r.shape = shape + " ratio=" + fmt(ratio, 2);
          r.floor_name = "read + write k rows (8km B)";
          arcsim::cuda::RowCopyTensor tt = t;
          if (!gather) tt.dense = u.as<float>();
          r.t = time([&](Stream s) {
            if (gather) arcsim::cuda::gather_rows_bucket(&tt, 1, false, s);
            else arcsim::cuda::scatter_rows_bucket(&tt, 1, s);
          });
          r.floor_bytes = bytes;
          r.copy_s = cc.median_s;
          r.copy_bytes = bytes / 2;
          rows_.push_back(r);
          report(rows_.back());
        }
      }
    }
  }

  void randk() {
    for (int lg : {26, 28}) {
      if (lg > a_.max_log2) continue;
      const std::size_t n = std::size_t{1} << lg;
      DeviceBuffer x = normal(n, 3);
      for (double ratio : {0.001, 0.01, 0.1}) {
        const auto k = static_cast<std::size_t>(ratio * static_cast<double>(n));
        DeviceBuffer vals(k * 4);
        // Bound: one 32 B sector per pick (at most every sector once) + the 4 B value written; the
        // time includes the index generation and its radix sort.
        const double bytes = 32.0 * static_cast<double>(std::min(k, n / 8)) + 4.0 * k;
        const TimingStats c = copy(static_cast<std::size_t>(bytes / 2));
        Row r;
        r.kernel = "randk_gather";
        r.shape = "N=2^" + std::to_string(lg) + " ratio=" + fmt(ratio, 3);
        r.floor_name = "32 B/pick + 4 B/value";
        r.t = time([&](Stream s) {
          arcsim::cuda::randk_gather(x.as<float>(), n, k, 7, 1, 2, vals.as<float>(), nullptr, false, s);
        });
        r.floor_bytes = bytes;
        r.copy_s = c.median_s;
        r.copy_bytes = bytes / 2;
        rows_.push_back(r);
        report(rows_.back());
      }
    }
  }

  // A whole ARC-Top-K bucket (two layers) captured in one CUDA graph: sketch + EF14, row
  // selection, gather (+ EF residual), zero + scatter. Proves the pipeline needs no host sync.
  void arc_bucket_graph() {
    const std::uint32_t rows[2] = {4096, 4096}, cols[2] = {4096, 11008};
    std::vector<std::unique_ptr<DeviceBuffer>> keep;
    auto buf = [&](std::size_t bytes) {
      keep.push_back(std::make_unique<DeviceBuffer>(bytes));
      return keep.back().get();
    };
    arcsim::cuda::SketchTensor sk[2];
    arcsim::cuda::RowSelectTensor sel[2];
    arcsim::cuda::RowCopyTensor cp[2];
    std::size_t total = 0;
    for (int i = 0; i < 2; ++i) {
      const std::size_t n = std::size_t{rows[i]} * cols[i];
      total += n;
      DeviceBuffer g0 = normal(n, 10 + i);
      DeviceBuffer* g = buf(n * 4);
      check(cudaMemcpy(g->as<void>(), g0.as<void>(), n * 4, cudaMemcpyDeviceToDevice), "copy");
      DeviceBuffer* e = buf(n * 4);
      check(cudaMemset(e->as<void>(), 0, n * 4), "memset");
      const std::uint32_t k = rows[i] / 100;
      sk[i] = {g->as<float>(), e->as<float>(), e->as<float>(), buf(rows[i] * 16ull)->as<float>(), rows[i], cols[i],
               static_cast<std::uint32_t>(i)};
      sel[i] = {sk[i].p, buf(rows[i] * 4ull)->as<float>(), rows[i], 4, k, buf(k * 4ull)->as<std::uint32_t>()};
      cp[i] = {e->as<float>(), buf(std::size_t{k} * cols[i] * 4)->as<float>(), sel[i].rows_out, k, cols[i]};
    }
    DeviceBuffer* agg = buf(total * 4);
    arcsim::cuda::RowCopyTensor back[2] = {cp[0], cp[1]};
    back[0].dense = agg->as<float>();
    back[1].dense = agg->as<float>() + std::size_t{rows[0]} * cols[0];
    auto pipeline = [&](Stream s) {
      arcsim::cuda::sketch_bucket(sk, 2, 4, 1, 0, s);        // u = g + e into e, P = u V
      arcsim::cuda::select_rows_bucket(sel, 2, s);           // (all-reduce of P would go here)
      arcsim::cuda::gather_rows_bucket(cp, 2, true, s);      // values out, e = u - C(u)
      check(cudaMemsetAsync(agg->as<void>(), 0, total * 4, s), "memset");
      arcsim::cuda::scatter_rows_bucket(back, 2, s);         // (all-reduce of values before this)
    };
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    check(cudaStreamBeginCapture(stream(), cudaStreamCaptureModeThreadLocal), "begin capture");
    pipeline(stream());
    check(cudaStreamEndCapture(stream(), &graph), "end capture");
    std::size_t nodes = 0;
    check(cudaGraphGetNodes(graph, nullptr, &nodes), "graph nodes");
    check(cudaGraphInstantiate(&exec, graph, 0), "instantiate");
    Row r;
    r.kernel = "ARC bucket (CUDA graph, " + std::to_string(nodes) + " nodes)";
    r.shape = "4096x4096 + 4096x11008, ratio 0.01, r=4, EF14";
    r.floor_name = "read g,e + write e (12N B) + dense write (4N B)";
    r.t = time([&](Stream s) { check(cudaGraphLaunch(exec, s), "graph launch"); });
    r.floor_bytes = 16.0 * total;
    const TimingStats c = copy(4 * total);
    r.copy_s = c.median_s;
    r.copy_bytes = 4.0 * total;
    rows_.push_back(r);
    report(rows_.back());
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);
  }

  void write(const std::string& device, const std::string& command) {
    std::string slug;
    for (char ch : device) slug += std::isalnum(static_cast<unsigned char>(ch)) ? static_cast<char>(std::tolower(ch)) : '_';
    const std::time_t now = std::time(nullptr);
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
    std::ostringstream md, csv;
    md << "# GPU kernels on " << device << "\n\n"
       << "- date: " << date << "; driver " << arcsim::cuda::driver_version() << ", CUDA runtime "
       << arcsim::cuda::runtime_version() << "\n"
       << "- command: `" << command << "`\n"
       << "- method: cudaEvent, median of " << a_.runs
       << " samples (p10-p90 in brackets) after 3 warm-ups, L2 flushed (256 MiB memset) before every sample, clocks "
          "as found\n"
       << "- floor = floor bytes / measured copy bandwidth (a device-to-device copy of the same size in the same "
          "run); x floor = median / floor (1.0 = at the floor); torch x = torch.topk median / ours\n\n"
       << "| kernel | shape | median ms [p10-p90] | floor | floor ms | x floor | torch.topk ms | torch x | note |\n"
       << "|---|---|---|---|---|---|---|---|---|\n";
    csv << "kernel,shape,median_s,p10_s,p90_s,runs,floor,floor_bytes,copy_bandwidth_Bps,floor_s,x_floor,torch_topk_s,"
           "torch_over_ours\n";
    for (const Row& r : rows_) {
      const double bw = 2.0 * r.copy_bytes / r.copy_s;
      md << "| " << r.kernel << " | " << r.shape << " | " << fmt(r.t.median_s * 1e3) << " [" << fmt(r.t.p10_s * 1e3)
         << "-" << fmt(r.t.p90_s * 1e3) << "] | " << r.floor_name << " | " << fmt(r.floor_s() * 1e3) << " | "
         << fmt(r.t.median_s / r.floor_s(), 2) << " | " << (r.torch_s > 0 ? fmt(r.torch_s * 1e3) : "-") << " | "
         << (r.torch_s > 0 ? fmt(r.torch_s / r.t.median_s, 2) : "-") << " | " << r.note << " |\n";
      csv << '"' << r.kernel << "\",\"" << r.shape << "\"," << r.t.median_s << "," << r.t.p10_s << "," << r.t.p90_s
          << "," << r.t.runs << ",\"" << r.floor_name << "\"," << r.floor_bytes << "," << bw << "," << r.floor_s()
          << "," << r.t.median_s / r.floor_s() << "," << r.torch_s << ","
          << (r.torch_s > 0 ? r.torch_s / r.t.median_s : 0.0) << "\n";
    }
    const std::string base = a_.out_dir + "/gpu_" + slug;
    std::ofstream(base + ".md") << md.str();
    std::ofstream(base + ".csv") << csv.str();
    std::cout << "\n" << md.str() << "\nwrote " << base << ".md and .csv\n";
  }

 private:
  void report(const Row& r) {
    std::fprintf(stderr, "%-28s %-34s %9.3f ms  x floor %.2f%s\n", r.kernel.c_str(), r.shape.c_str(),
                 r.t.median_s * 1e3, r.t.median_s / r.floor_s(),
                 r.torch_s > 0 ? (", torch.topk x " + fmt(r.torch_s / r.t.median_s, 2)).c_str() : "");
  }
  Args a_;
  GpuBench bench_;
  std::vector<Row> rows_;
};

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    if (arcsim::cuda::device_count() == 0) {
      std::fprintf(stderr, "arcsim_gpu_bench: no CUDA device on this machine; nothing measured\n");
      return 3;
    }
    std::string command;
    for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
    const std::string device = arcsim::cuda::device_name();
    std::fprintf(stderr, "arcsim_gpu_bench on %s\n", device.c_str());
    Driver d(a);
    d.topk();
    d.sketch_and_rows();
    d.randk();
    d.arc_bucket_graph();
    d.write(device, command);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "arcsim_gpu_bench: error: %s\n", e.what());
    return 2;
  }
}
