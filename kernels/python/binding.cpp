// Python binding of the kernels (docs/contracts.md section 4): the recorder calls the very same
// C++ compressors as `arcsim compress` and replay. Arguments are validated here with errors that
// name the argument (ValueError / TypeError), never silently converted.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

#include "kernels/backend.hpp"
#include "kernels/compressor.hpp"
#include "kernels/compressor_options.hpp"
#include "kernels/compressor_registry.hpp"
#include "kernels/cpu/fast.hpp"
#include "kernels/primitives.hpp"
#include "kernels/process_group_communicator.hpp"

namespace py = pybind11;
using arcsim::kernels::BucketLayout;
using arcsim::kernels::Compressor;
using arcsim::kernels::CompressorConfig;
using arcsim::kernels::ProcessGroupCommunicator;

namespace {

py::object json_to_py(const nlohmann::json& j) {
  py::object loads = py::module_::import("json").attr("loads");
  return loads(j.dump());
}

// The float32 C-contiguous buffer of a numpy array; anything else is a TypeError naming `what`.
py::array_t<float> as_float32(const py::handle& obj, const char* what) {
  if (!py::isinstance<py::array>(obj)) throw py::type_error(std::string(what) + ": expected a numpy array");
  auto arr = py::reinterpret_borrow<py::array>(obj);
  if (!arr.dtype().is(py::dtype::of<float>()))
    throw py::type_error(std::string(what) + ": expected dtype float32, got " + std::string(py::str(arr.dtype())));
  return py::array_t<float, py::array::c_style>::ensure(arr);
}

BucketLayout layout_from(const py::sequence& shapes, const py::object& names) {
  BucketLayout layout;
  for (const auto& s : shapes) {
    std::vector<std::int64_t> dims;
    if (py::isinstance<py::int_>(s)) {
      dims.push_back(s.cast<std::int64_t>());
    } else {
      for (const auto& d : s.cast<py::sequence>()) dims.push_back(d.cast<std::int64_t>());
    }
    layout.shapes.push_back(std::move(dims));
  }
  if (!names.is_none()) layout.names = names.cast<std::vector<std::string>>();
  try {
    layout.validate();
  } catch (const std::exception& e) {
    throw py::value_error(std::string("shapes: ") + e.what());
  }
  return layout;
}

class PyCompressor {
 public:
  PyCompressor(int workers, CompressorConfig cfg, const std::string& backend) {
    if (workers < 1) throw py::value_error("workers: expected an integer >= 1, got " + std::to_string(workers));
    arcsim::kernels::Backend* be = nullptr;
    try {
      be = &arcsim::kernels::backend_by_name(backend);
    } catch (const std::invalid_argument& e) {
      throw py::value_error(e.what());
    }  // BackendUnavailable (cuda without a device) reaches Python as RuntimeError
    try {
      c_ = std::make_unique<Compressor>(workers, std::move(cfg), *be);
    } catch (const std::invalid_argument& e) {
      throw py::value_error(e.what());
    }
  }

  py::tuple step(std::uint32_t bucket, const py::sequence& shapes, const py::object& grads, const py::object& names) {
    const BucketLayout layout = layout_from(shapes, names);
    auto g = as_float32(grads, "grads");
    const auto W = static_cast<py::ssize_t>(c_->workers());
    const auto n = static_cast<py::ssize_t>(layout.numel());
    if (g.ndim() != 2 || g.shape(0) != W || g.shape(1) != n)
      throw py::value_error("grads: expected float32 [workers=" + std::to_string(W) + ", numel=" + std::to_string(n) +
                            "] (numel = sum of the shapes), got shape " + std::string(py::str(py::cast(
                                std::vector<py::ssize_t>(g.shape(), g.shape() + g.ndim())))));
    std::vector<const float*> ptr(static_cast<std::size_t>(W));
    for (py::ssize_t w = 0; w < W; ++w) ptr[static_cast<std::size_t>(w)] = g.data() + w * n;
    py::array_t<float> agg(n);
    arcsim::kernels::StepReport rep;
    try {
      py::gil_scoped_release release;
      rep = c_->step(bucket, layout, ptr, agg.mutable_data());
    } catch (const std::invalid_argument& e) {
      throw py::value_error(e.what());
    }
    nlohmann::json j = rep.to_json(layout);
    j["shape_rule"] = c_->config().shape_rule;
    return py::make_tuple(agg, json_to_py(j));
  }

  py::object plan_header() const { return json_to_py(c_->plan_header()); }
  py::object config() const { return json_to_py(c_->config().to_json()); }
  int workers() const { return c_->workers(); }
  std::string backend() const { return c_->backend().name(); }

 private:
  std::unique_ptr<Compressor> c_;
};

// A Transport whose byte collectives are a Python object's methods (arcsim/distributed.py's
// TorchTransport calls torch.distributed). Buffers cross as numpy uint8 / float32 views of the
// C++ memory: no copy on this side; a Python exception propagates to the caller of step().
class PyTransport final : public arcsim::kernels::Transport {
 public:
  explicit PyTransport(py::object impl) : impl_(std::move(impl)) {
    py::gil_scoped_acquire gil;
    rank_ = impl_.attr("rank")().cast<int>();
    size_ = impl_.attr("size")().cast<int>();
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void allgatherv(const void* in, std::span<const std::size_t> bytes, void* out) override {
    std::size_t total = 0;
    for (std::size_t b : bytes) total += b;
    py::gil_scoped_acquire gil;
    impl_.attr("allgatherv")(view(in, bytes[static_cast<std::size_t>(rank_)]), sizes(bytes), view(out, total));
  }
  void alltoallv(const void* in, std::span<const std::size_t> send, void* out,
                 std::span<const std::size_t> recv) override {
    std::size_t sent = 0, got = 0;
    for (std::size_t b : send) sent += b;
    for (std::size_t b : recv) got += b;
    py::gil_scoped_acquire gil;
    impl_.attr("alltoallv")(view(in, sent), sizes(send), view(out, got), sizes(recv));
  }
  void broadcast(void* buf, std::size_t bytes, int root) override {
    py::gil_scoped_acquire gil;
    impl_.attr("broadcast")(view(buf, bytes), root);
  }
  void allreduce_sum_f32(float* buf, std::size_t count) override {
    py::gil_scoped_acquire gil;
    impl_.attr("allreduce_sum_f32")(
        py::array_t<float>({static_cast<py::ssize_t>(count)}, {static_cast<py::ssize_t>(sizeof(float))}, buf, none_));
  }

 private:
  // A writable numpy view of C++ memory (the `base` keeps numpy from owning or copying it).
  py::array_t<std::uint8_t> view(const void* p, std::size_t bytes) const {
    return py::array_t<std::uint8_t>({static_cast<py::ssize_t>(bytes)}, {static_cast<py::ssize_t>(1)},
                                     static_cast<std::uint8_t*>(const_cast<void*>(p)), none_);
  }
  static py::list sizes(std::span<const std::size_t> v) {
    py::list l;
    for (std::size_t b : v) l.append(b);
    return l;
  }
  py::object impl_;
  py::none none_;
  int rank_ = 0, size_ = 1;
};

// One rank of real distributed training: its own gradient in, the aggregate over all ranks out.
class PyDistributedCompressor {
 public:
  PyDistributedCompressor(py::object transport, CompressorConfig cfg, const std::string& backend,
                          const std::string& reduction)
      : transport_(std::move(transport)) {
    arcsim::kernels::Backend* be = nullptr;
    try {
      be = &arcsim::kernels::backend_by_name(backend);
      comm_ = std::make_unique<ProcessGroupCommunicator>(transport_, arcsim::kernels::parse_reduction(reduction));
      c_ = std::make_unique<Compressor>(std::move(cfg), *comm_, *be);
    } catch (const std::invalid_argument& e) {
      throw py::value_error(e.what());
    }
  }

  py::tuple step(std::uint32_t bucket, const py::sequence& shapes, const py::object& grad, const py::object& names) {
    const BucketLayout layout = layout_from(shapes, names);
    auto g = as_float32(grad, "grad");
    const auto n = static_cast<py::ssize_t>(layout.numel());
    if (g.ndim() != 1 || g.shape(0) != n)
      throw py::value_error("grad: expected float32 [numel=" + std::to_string(n) +
                            "] (this rank's bucket; numel = sum of the shapes), got " + std::to_string(g.size()) +
                            " elements in " + std::to_string(g.ndim()) + " dimensions");
    const float* mine[] = {g.data()};
    py::array_t<float> agg(n);
    arcsim::kernels::StepReport rep;
    try {
      py::gil_scoped_release release;  // the transport takes the GIL back for each collective
      rep = c_->step(bucket, layout, mine, agg.mutable_data());
    } catch (const std::invalid_argument& e) {
      throw py::value_error(e.what());
    }
    nlohmann::json j = rep.to_json(layout);
    nlohmann::json calls = nlohmann::json::array(), kernels = nlohmann::json::array();
    for (const auto& c : comm_->take_calls())
      calls.push_back({{"op", c.op}, {"bytes", c.bytes}, {"wire_bytes", c.wire_bytes},
                       {"dtype", arcsim::kernels::dtype_name(c.dtype)}, {"start_s", c.start_s}, {"end_s", c.end_s}});
    for (const auto& k : comm_->take_kernels())
      kernels.push_back({{"name", k.name}, {"start_s", k.start_s}, {"end_s", k.end_s}});
    j["timeline"] = {{"collectives", calls}, {"kernels", kernels}};
    return py::make_tuple(agg, json_to_py(j));
  }

  py::object config() const { return json_to_py(c_->config().to_json()); }
  int world_size() const { return c_->world_size(); }
  int rank() const { return transport_.rank(); }
  std::string reduction() const { return arcsim::kernels::reduction_name(comm_->reduction()); }
  std::string backend() const { return c_->backend().name(); }
  py::object plan_header() const { return json_to_py(c_->plan_header()); }

 private:
  PyTransport transport_;
  std::unique_ptr<ProcessGroupCommunicator> comm_;
  std::unique_ptr<Compressor> c_;
};

py::array_t<std::uint32_t> topk_magnitude(const py::object& x, std::size_t k) {
  auto a = as_float32(x, "x");
  if (a.ndim() != 1) throw py::value_error("x: expected a 1-D float32 array");
  if (k > static_cast<std::size_t>(a.size())) throw py::value_error("k: expected k <= len(x)");
  py::array_t<std::uint32_t> out(static_cast<py::ssize_t>(k));
  {
    py::gil_scoped_release release;  // the fastest CPU backend; the same indices as the reference
    arcsim::kernels::cpu::topk_magnitude(a.data(), static_cast<std::size_t>(a.size()), k, out.mutable_data());
  }
  return out;
}

py::array_t<float> sketch_matrix(std::size_t m, int r, std::uint64_t seed, std::uint32_t step, std::uint32_t tensor) {
  if (r < 1) throw py::value_error("r: expected >= 1");
  py::array_t<float> v({static_cast<py::ssize_t>(m), static_cast<py::ssize_t>(r)});
  arcsim::kernels::sketch_matrix(m, r, seed, step, tensor, v.mutable_data());
  return v;
}

py::array_t<std::uint32_t> randk_indices(std::size_t n, std::size_t k, std::uint64_t seed, std::uint32_t step,
                                         std::uint32_t tensor) {
  if (k > n) throw py::value_error("k: expected k <= n");
  py::array_t<std::uint32_t> out(static_cast<py::ssize_t>(k));
  arcsim::kernels::randk_indices(n, k, seed, step, tensor, out.mutable_data());
  return out;
}

// The configuration of the keyword arguments, through the option table (kernels/compressor_options.hpp).
CompressorConfig config_from(const std::string& compressor, const py::object& ratio, std::uint64_t seed,
                             const py::kwargs& kwargs) {
  namespace k = arcsim::kernels;
  nlohmann::json given = nlohmann::json::object();
  const k::CompressorEntry* entry = nullptr;
  try {
    entry = &k::compressor_entry(compressor);
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
  auto put = [&](const std::string& name, const py::handle& v) {
    nlohmann::json value;
    if (py::isinstance<py::bool_>(v)) value = v.cast<bool>();
    else if (py::isinstance<py::int_>(v)) value = v.cast<std::int64_t>();
    else if (py::isinstance<py::float_>(v)) value = v.cast<double>();
    else if (py::isinstance<py::str>(v)) value = v.cast<std::string>();
    else throw py::type_error(name + ": expected a bool, number or string, got " + std::string(py::str(v.get_type())));
    const k::OptionSpec* o = k::find_option(name);
    // A keyword at its default is accepted for every compressor, so one call site builds any of them.
    if (o && !entry->takes(o->name) && (value == o->default_value || (o->name == "ratio" && value == 1.0))) return;
    given[name] = value;
  };
  if (!ratio.is_none()) put("ratio", ratio);
  for (const auto& [key, value] : kwargs) put(key.cast<std::string>(), value);
  try {
    CompressorConfig c = k::build_config(compressor, given);
    c.seed = seed;
    return c;
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
}

py::list option_table() {
  py::list out;
  for (const auto& o : arcsim::kernels::option_table()) {
    py::dict d;
    d["name"] = o.name;
    d["default"] = json_to_py(o.default_value);
    d["expected"] = o.expected();
    d["help"] = o.help;
    py::list takers;
    for (const auto& e : arcsim::kernels::compressor_registry())
      if (e.takes(o.name)) takers.append(e.name);
    d["compressors"] = takers;
    out.append(d);
  }
  return out;
}

}  // namespace

PYBIND11_MODULE(arcsim_kernels, m) {
  m.doc() = "arcsim compression kernels: Compressor over N emulated workers, on the reference, cpu or cuda backend";
  py::class_<PyCompressor>(m, "Compressor")
      .def(py::init([](int workers, const std::string& compressor, const py::object& ratio, std::uint64_t seed,
                       const std::string& backend, const py::kwargs& kwargs) {
             return std::make_unique<PyCompressor>(workers, config_from(compressor, ratio, seed, kwargs), backend);
           }),
           py::arg("workers"), py::arg("compressor") = "dense", py::arg("ratio") = py::none(), py::arg("seed") = 1,
           py::arg("backend") = arcsim::kernels::kDefaultBackend,
           "Compressor(workers, compressor='dense', ratio=None, seed=1, backend='auto', **options).\n"
           "compressor: a registry name (compressors()); options: the option table's names and values\n"
           "(option_table()), e.g. ef='ef21', ef21_init='zero', preset='reference', rank=4. An option the\n"
           "compressor does not take is a ValueError unless it is given at its default value.\n"
           "backend: auto (cuda when a device is present, else cpu) | cpu | cuda | reference")
      .def("step", &PyCompressor::step, py::arg("bucket"), py::arg("shapes"), py::arg("grads"),
           py::arg("names") = py::none(),
           "One compression call of one bucket. grads: float32 [workers, numel]. Returns (agg float32 [numel], "
           "report dict: k, k_unit, ratio, phase, relative_error, retained_energy, row_recall (ARC), plan "
           "(collectives), kernels, plan_bucket (arcsim-plan/1 bucket object), shape_rule).")
      .def("plan_header", &PyCompressor::plan_header, "arcsim-plan/1 header: format, compressor, world_size")
      .def_property_readonly("config", &PyCompressor::config)
      .def_property_readonly("workers", &PyCompressor::workers)
      .def_property_readonly("backend", &PyCompressor::backend);
  py::class_<PyDistributedCompressor>(m, "DistributedCompressor")
      .def(py::init([](py::object transport, const std::string& compressor, const py::object& ratio, std::uint64_t seed,
                       const std::string& backend, const std::string& reduction, const py::kwargs& kwargs) {
             return std::make_unique<PyDistributedCompressor>(std::move(transport),
                                                              config_from(compressor, ratio, seed, kwargs), backend,
                                                              reduction);
           }),
           py::arg("transport"), py::arg("compressor") = "dense", py::arg("ratio") = py::none(), py::arg("seed") = 1,
           py::arg("backend") = arcsim::kernels::kDefaultBackend, py::arg("reduction") = "ordered",
           "DistributedCompressor(transport, compressor='dense', ratio=None, seed=1, backend='auto',\n"
           "reduction='ordered', **options): the compressor of one rank in real distributed training.\n"
           "transport: an object with rank(), size(), allgatherv(inp, sizes, out), alltoallv(inp, send, out, recv),\n"
           "broadcast(buf, root) and allreduce_sum_f32(buf) over numpy views (arcsim.distributed.TorchTransport).\n"
           "reduction: ordered (sums in rank order: bit-identical to Compressor over the same gradients) | native\n"
           "(the process group's all-reduce for float32 values).")
      .def("step", &PyDistributedCompressor::step, py::arg("bucket"), py::arg("shapes"), py::arg("grad"),
           py::arg("names") = py::none(),
           "One compression call of this rank's bucket. grad: float32 [numel]. Returns (agg float32 [numel], report "
           "dict as Compressor.step's, quality metrics None, plus timeline: collectives [{op, bytes, wire_bytes, dtype, "
           "start_s, end_s}] and kernels [{name, start_s, end_s}], wall-clock seconds).")
      .def("plan_header", &PyDistributedCompressor::plan_header)
      .def_property_readonly("config", &PyDistributedCompressor::config)
      .def_property_readonly("world_size", &PyDistributedCompressor::world_size)
      .def_property_readonly("rank", &PyDistributedCompressor::rank)
      .def_property_readonly("reduction", &PyDistributedCompressor::reduction)
      .def_property_readonly("backend", &PyDistributedCompressor::backend);
  m.def("compressors", [] { return arcsim::kernels::compressor_names(); }, "the registry's compressor names");
  m.def("option_table", &option_table, "every compressor option: name, default, expected, help, compressors");
  m.def("backends", [] { return arcsim::kernels::backend_names(); }, "valid backend names");
  m.def("cuda_available", [] { return arcsim::kernels::cuda_available(); }, "a CUDA backend and a device");
  m.def("topk_magnitude", &topk_magnitude, py::arg("x"), py::arg("k"),
        "indices (uint32, ascending) of the k largest |x|, lowest index on ties");
  m.def("sketch_matrix", &sketch_matrix, py::arg("m"), py::arg("r"), py::arg("seed"), py::arg("step"),
        py::arg("tensor"), "the shared Gaussian V (m x r) of ARC-Top-K");
  m.def("randk_indices", &randk_indices, py::arg("n"), py::arg("k"), py::arg("seed"), py::arg("step"),
        py::arg("tensor"), "k distinct indices in [0, n) from the shared seed, ascending");
}
