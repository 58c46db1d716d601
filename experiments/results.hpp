#pragma once
// Results files of a sweep: results.csv (one row per point, the columns of docs/experiments.md)
// and results.json (the same rows with their per-shape simulations and accuracy curves, plus the
// experiment config and provenance). Both are rewritten atomically after every finished point and
// hold no timestamps or wall-clock measurements, so a resumed sweep ends with the same bytes as an
// uninterrupted one.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiments/result_status.hpp"

namespace arcsim::experiments {

// One column of results.csv: its name, unit and meaning (docs/experiments.md is checked against
// this table by a test, and README.md copies it).
struct Column {
  const char* name;
  const char* unit;
  const char* meaning;
};
const std::vector<Column>& result_columns();

// One simulated iteration of one shape on one network point.
struct IterationTimes {
  double total_s = 0, compute_s = 0, compression_s = 0, exposed_comm_s = 0, comm_s = 0;
  double bytes_per_node = 0;
  std::string algorithms_used;  // "ring/Simple:100;tree/LL128:1": what ran, collective calls per pair
  int ranks = 0;                // data-parallel ranks simulated (nodes x GPUs per node); 0: not said
};
nlohmann::json to_json(const IterationTimes& t);
IterationTimes iteration_times_from_json(const nlohmann::json& j);

struct ShapeResult {
  std::string id;                 // warmup | ramp<j> | steady
  std::string kind;
  double ratio = 1;
  std::int64_t first_step = 1, last_step = -1;  // -1: open-ended
  IterationTimes times;
  double bits_authors = 0;        // one step's global bits in the authors' convention (bits.hpp)
};

struct CurvePoint {
  std::int64_t step = 0;
  double wall_s = 0;              // predicted wall-clock at that step
  double accuracy = 0, loss = 0;
};

// One seed's share of a row's time to accuracy.
struct SeedTta {
  std::int64_t seed = 0;
  double steps = 0;               // interpolated steps to target (fractional)
  double tta_s = 0;               // predicted wall-clock of those steps
  double bits_authors = 0;        // global bits of those steps, the authors' convention (bits.hpp)
  double bytes_per_node = 0;      // bytes one node sent in those steps, as simulated
  bool reached = true;            // false: the run missed the target; steps and tta_s are its budget's (censored)
};

// One seed's accuracy-vs-wall-clock curve (the log of the recorded N nearest to the point's).
struct SeedCurve {
  std::int64_t seed = 0;
  std::vector<CurvePoint> points;
  std::vector<double> metric;     // the target metric at each point (NaN: not reported)
};

// One row. Optional numbers are written as empty CSV cells and JSON null.
struct ResultRow {
  std::size_t point = 0;
  std::string key;                // what the row was computed from (resume matches on it)
  nlohmann::json compressor;      // CompressorConfig::to_json()
  int nodes = 0;
  double bandwidth_Bps = 0, latency_s = 0;
  std::string topology, transport, profile, algorithm, collectives, kernel_timing;
  std::string compute_source;     // "trace (<device>)" or "model:<GPU> (...)"
  std::string status = status_name(RowStatus::pending);  // a name of kRowStatuses (result_status.hpp)
  std::string error;

  IterationTimes steady;          // the steady-state iteration (iteration_s and its breakdown)
  std::vector<ShapeResult> shapes;
  std::optional<double> relative_error, retained_energy;

  std::optional<double> steps_to_target;     // log-normal centre over seeds (misses censored)
  std::optional<double> steps_to_target_sd;  // sample sd over the seeds that reached (>= 2)
  int seeds = 0;                             // seeds at the point, reached or not
  int seeds_reached = 0;                     // of those, the seeds that reached the target
  std::string tta_status;                    // ok | partial | none | extrapolated (empty: no convergence data)
  std::optional<int> convergence_nodes;      // recorded ranks of the curves used
  std::string convergence_config;
  std::string convergence_estimate;          // recorded | interpolated | extrapolated (empty: no TTA)
  std::optional<double> tta_s, tta_s_lo, tta_s_hi;  // log-normal centre over seeds, 95 % interval (stats.hpp)
  std::optional<double> warmup_ramp_s;       // the part of tta_s spent in warm-up and ramp steps
  std::optional<double> bits_per_step_authors;       // steady step, the authors' convention
  std::optional<double> bits_to_target_authors, bytes_per_node_to_target;  // mean over seeds
  // The step whose authors' bits are not its shape's (EF21's dense start, bits.hpp); 0: none.
  std::int64_t ef21_init_step = 0;
  double ef21_init_bits_authors = 0;
  std::string tta_note;
  std::optional<double> speedup_vs_dense, speedup_vs_topk;
  std::optional<double> speedup_vs_dense_lo, speedup_vs_dense_hi, speedup_vs_topk_lo, speedup_vs_topk_hi;
  std::optional<double> iteration_speedup_vs_dense, iteration_speedup_vs_topk;
  std::string speedup_note;                  // why a TTA speedup is empty or what it rests on
  std::vector<SeedTta> seed_tta;             // per seed, by seed
  std::vector<CurvePoint> curve;             // the first seed's curve (seed_curves has them all)
  std::vector<SeedCurve> seed_curves;
};

// The data-parallel ranks the row simulated (nodes x GPUs per node); a row that does not say: nodes.
int row_ranks(const ResultRow& r);

// Fills the speedup columns of every row from the rows of the same network point: the first
// configuration named "dense" and the first named "topk" are the baselines. TTA speedups are over
// the seeds both rows hold, paired (stats.hpp paired_speedup: misses censored); empty, with
// speedup_note saying why, when fewer than two of those seeds reached the target on both sides
// (one, when there is only one seed).
void compute_speedups(std::vector<ResultRow>& rows);

// RFC 4180 CSV: header = result_columns() names, rows in `point` order, finished rows only.
std::string results_csv(const std::vector<ResultRow>& rows);

// One row as JSON (all columns typed, plus key, shapes and curve) and back (for resume).
nlohmann::json row_to_json(const ResultRow& r);
ResultRow row_from_json(const nlohmann::json& j);

// The whole results.json document. `rows` may include pending ones: they are counted, not listed.
std::string results_json(const nlohmann::json& config, const nlohmann::json& provenance,
                         const std::vector<ResultRow>& rows);

// Writes results.csv and results.json into dir atomically (csv first, json last).
void write_results(const std::string& dir, const nlohmann::json& config, const nlohmann::json& provenance,
                   const std::vector<ResultRow>& rows);

// Finished rows of an earlier run (results.json in dir), by key; empty when there is none. A file
// that cannot be read is an error (it is not silently overwritten).
std::vector<ResultRow> load_previous_rows(const std::string& dir);

}  // namespace arcsim::experiments
