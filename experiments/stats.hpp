#pragma once
// Statistics over seeds, for time to accuracy. A seed either reached the target (its time is
// known) or missed it within its step budget (its time is only known to exceed the budget's: a
// right-censored observation). Dropping the misses biases every estimate towards the method that
// missed, so they enter every estimate here as censored observations.
//
// The model: log TTA is normal across seeds (TTA log-normal: positive and right-skewed), so the
// centre is the log-normal median exp(mu) and every interval is exp(an interval on the log scale):
// never negative. With no censored seed, mu is the mean of the logs and the 95 % interval is the
// exact Student-t one, exp(mean +- t(0.975, n-1) s / sqrt(n)). With censored seeds, mu is the
// maximum-likelihood estimate of the censored normal model (the Tobit likelihood: Tobin 1958;
// Klein & Moeschberger, Survival Analysis, 2nd ed. 2003, section 12.5), fitted by Newton's
// method in Olsen's (1978) parametrisation, where the log-likelihood is concave; its interval is
// the Wald interval from the observed information, with the small-sample factor n_e / (n_e - 1)
// and t(0.975, n_e - 1), n_e the exact observations. docs/experiments.md section 3 states it.
#include <optional>
#include <vector>

namespace arcsim::experiments {

struct Interval {
  double lo = 0, hi = 0;
  bool contains(double x) const { return lo <= x && x <= hi; }
};

// The two-sided 95 % Student-t quantile t(0.975, df); df > 0, not necessarily an integer.
double t975(double df);

// One observation of a log-scale quantity: exact, or censored with the true value above (a run
// that missed the target: its time exceeds `value`) or below `value`.
enum class Censoring { none, above, below };
struct Observation {
  double value = 0;
  Censoring censoring = Censoring::none;
};

// The centre mu of a normal sample with censored observations and its 95 % interval, both on the
// sample's scale. Needs at least one exact observation (nullopt otherwise); the interval needs two.
struct CenterEstimate {
  double center = 0;
  std::optional<Interval> ci95;
  int exact = 0, censored = 0;
  bool maximum_likelihood = false;  // true: censored observations were fitted (else mean and t)
};
std::optional<CenterEstimate> censored_center(const std::vector<Observation>& obs);

// Log-normal estimate of positive times, some censored (reached == false: the time is a lower
// bound): the median exp(mu) and exp(interval). nullopt when no time is exact.
struct TimeSample {
  double seconds = 0;
  bool reached = true;
};
struct TimeEstimate {
  double center = 0;
  std::optional<Interval> ci95;
  int reached = 0, censored = 0;
};
std::optional<TimeEstimate> lognormal_time(const std::vector<TimeSample>& xs);

// The speedup base / mine on paired seeds (base[i] and mine[i] come from the same seed): the
// per-seed log ratios log(base_i / mine_i), censored where one side missed the target (mine
// missed: the ratio is at most base_i / budget_i; base missed: at least budget_i / mine_i), a seed
// where both missed carries no information and is left out (`uninformative`). The speedup is
// exp(mu) of those ratios with exp(its interval); nullopt when fewer than `min_exact` seeds have
// both sides reached (too few to say anything).
struct PairedSpeedup {
  double value = 0;
  std::optional<Interval> ci95;
  int pairs = 0, exact = 0, censored = 0, uninformative = 0;
};
std::optional<PairedSpeedup> paired_speedup(const std::vector<TimeSample>& base, const std::vector<TimeSample>& mine,
                                            int min_exact = 2);

// Sample standard deviation (n - 1); nullopt for fewer than two values.
std::optional<double> sample_sd(const std::vector<double>& xs);

}  // namespace arcsim::experiments
