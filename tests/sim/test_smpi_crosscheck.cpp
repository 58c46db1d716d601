// Cross-check against SimGrid's own MPI collectives (SMPI) on the same platform and network model
// (SMPI ranks run as actors inside an S4U program). Our ring must
// agree with SMPI's `lr` (logical-ring reduce-scatter + all-gather) and our Rabenseifner with
// `rab1` (recursive-halving reduce-scatter, then MPI_Allgather, here set to recursive doubling)
// within 1 %. SMPI really moves and reduces the data, hence the modest sizes.
#include <gtest/gtest.h>

#include <smpi/mpi.h>
#include <smpi/smpi.h>

#include <simgrid/s4u.hpp>
#include <vector>

#include "common/forked.hpp"
#include "sim/collective.hpp"
#include "sim/profile.hpp"
#include "topologies/builder.hpp"

namespace sg4 = simgrid::s4u;

namespace {

constexpr double kB = 12.5e9, kL = 5e-6;
constexpr int kCount = 1 << 21;  // floats: 8 MiB
std::vector<float> g_send(kCount, 1.0f), g_recv(kCount);  // shared by all ranks: timing only
std::vector<double> g_start, g_end;

void rank_main() {
  int argc = 0;
  char** argv = nullptr;
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  g_start[rank] = MPI_Wtime();
  MPI_Allreduce(g_send.data(), g_recv.data(), kCount, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
  g_end[rank] = MPI_Wtime();
  MPI_Finalize();
}

double smpi_allreduce(const std::string& algorithm, int p) {
  return arcsim::testing::forked1([=] {
    smpi_init_options();  // before the Engine, or the smpi/ options do not exist
    arcsim::sim::create_engine(arcsim::sim::ProfileKind::ideal);
    auto* e = sg4::Engine::get_instance();
    e->set_config("smpi/allreduce:" + algorithm);
    e->set_config("smpi/allgather:rdb");
    e->set_config("smpi/simulate-computation:0");
    SMPI_init();
    const auto platform = arcsim::topo::build_platform(
        arcsim::topo::resolve(arcsim::topo::load_topology("star"), p, kB, kL));
    g_start.assign(p, 0);
    g_end.assign(p, 0);
    SMPI_app_instance_register("ar", nullptr, p);
    for (int i = 0; i < p; ++i) {
      auto a = sg4::Actor::init("rank" + std::to_string(i), platform.ranks[i]);
      a->set_property("instance_id", "ar");
      a->set_property("rank", std::to_string(i));
      a->start(rank_main);
    }
    e->run();
    SMPI_finalize();
    double t0 = 1e300, t1 = 0;
    for (int i = 0; i < p; ++i) {
      t0 = std::min(t0, g_start[i]);
      t1 = std::max(t1, g_end[i]);
    }
    return t1 - t0;
  });
}

double ours(const std::string& algorithm, int p) {
  return arcsim::testing::forked1([=] {
    arcsim::sim::NetworkConfig net{"star", p, kB, kL, "ideal", algorithm};
    return arcsim::sim::simulate_collective(net, arcsim::sim::CollectiveOp::allreduce, kCount * 4.0).simulated_s;
  });
}

}  // namespace

TEST(SmpiCrossCheck, RingMatchesSmpiLr) {
  for (int p : {8, 16}) {
    const double s = smpi_allreduce("lr", p), o = ours("ring", p);
    std::printf("p=%d ring: ours %.6f ms, SMPI lr %.6f ms (%+.3f %%)\n", p, o * 1e3, s * 1e3, 100 * (s / o - 1));
    EXPECT_NEAR(s / o, 1.0, 0.01) << "p=" << p;
  }
}

TEST(SmpiCrossCheck, RabenseifnerMatchesSmpiRab1) {
  for (int p : {8, 16}) {
    const double s = smpi_allreduce("rab1", p), o = ours("rabenseifner", p);
    std::printf("p=%d rabenseifner: ours %.6f ms, SMPI rab1 %.6f ms (%+.3f %%)\n", p, o * 1e3, s * 1e3,
                100 * (s / o - 1));
    EXPECT_NEAR(s / o, 1.0, 0.01) << "p=" << p;
  }
}
