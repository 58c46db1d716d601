#pragma once
// A sharded sweep as Slurm batch jobs: DIR/slurm/prepare.sbatch (the replay, once),
// DIR/slurm/shards.sbatch (one job array, task I runs --shard I/N with --jobs = its CPUs) and
// DIR/slurm/merge.sbatch, chained with afterok dependencies, plus DIR/slurm/submit.sh that
// submits the chain by hand. Every job cds into the directory the scripts were written from and
// runs the same arcsim binary on the same spec and DIR strings as given, so the merged files are
// byte-identical to `arcsim sweep SPEC --out DIR` run there. This needs a filesystem shared by
// the submitting host and every compute node, at the same paths (binary, spec, trace, DIR).
#include <string>

namespace arcsim::experiments {

struct SlurmOptions {
  std::string arcsim;         // absolute path of the arcsim binary
  std::string workdir;        // absolute; the jobs cd here (relative SPEC and DIR resolve from it)
  std::string spec_arg;       // SPEC and DIR as given on the command line
  std::string out_arg;
  std::string job_name;       // prefix of the three job names
  int shards = 1;             // N: array tasks 1..N
  int cpus_per_task = 1;      // per array task; the shard runs --jobs = SLURM_CPUS_PER_TASK
  int array_max = 0;          // > 0: at most this many array tasks at once (--array=1-N%M)
  std::string partition, time, account;  // empty: the cluster's default
};

// Checks the options (one ConfigError naming the option) before anything is written.
void check_slurm_options(const SlurmOptions& o);

struct SlurmScripts {
  std::string dir;            // absolute DIR/slurm
  std::string prepare, shards, merge, submit;  // absolute paths of the files written
};

// Writes the four files (atomically) and DIR/slurm/logs/ (Slurm does not create output dirs).
SlurmScripts write_slurm_scripts(const SlurmOptions& o);

struct SlurmJobs {
  std::string prepare, shards, merge;  // job ids
};

// Submits the chain with sbatch --parsable; a failing sbatch throws with its last output line
// (jobs submitted before it stay queued and are named in the message).
SlurmJobs submit_slurm(const SlurmScripts& s);

// Shell single-quoting ('it'\''s').
std::string shell_quote(const std::string& s);

}  // namespace arcsim::experiments
