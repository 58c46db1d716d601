// The simulator's vocabularies: the algorithm table says which collectives each algorithm exists
// for, and that is what the iteration model accepts; the profile table parses and names.
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "sim/algorithms.hpp"
#include "sim/collective.hpp"
#include "sim/profile.hpp"

using namespace arcsim::sim;

TEST(AlgorithmTable, ExistsForMatchesWhatEachCollectiveImplements) {
  const std::set<std::pair<CollectiveOp, std::string>> want = {
      {CollectiveOp::allreduce, "ring"},      {CollectiveOp::allreduce, "tree"},
      {CollectiveOp::allreduce, "rabenseifner"}, {CollectiveOp::allgather, "ring"},
      {CollectiveOp::allgather, "bruck"},     {CollectiveOp::allgatherv, "ring"},
      {CollectiveOp::broadcast, "ring"},      {CollectiveOp::broadcast, "tree"},
      {CollectiveOp::broadcast, "binomial"},  {CollectiveOp::broadcast, "chain"},
      {CollectiveOp::reduce_scatter, "ring"}, {CollectiveOp::alltoallv, "pairwise"},
      // gloo's own (the gloo profile only)
      {CollectiveOp::allreduce, "ordered"},   {CollectiveOp::allgatherv, "direct"},
      {CollectiveOp::reduce_scatter, "direct"}, {CollectiveOp::alltoallv, "direct"}};
  for (const auto& e : algorithms())
    for (const auto& o : arcsim::plan::collective_ops()) {
      const std::string name(e.name);
      const std::string flat = e.value.hierarchical ? name.substr(5) : name;
      const bool exists = name == "auto" || want.count({o.value, flat});
      EXPECT_EQ(algorithm_exists_for(o.value, name), exists) << name << " " << o.name;
      if (exists) EXPECT_EQ(algorithm_for(o.value, name), name);
      else EXPECT_THROW(algorithm_for(o.value, name), std::invalid_argument) << name << " " << o.name;
    }
  EXPECT_FALSE(algorithm_exists_for(CollectiveOp::allreduce, "hier-auto"));
}

TEST(AlgorithmTable, UnknownNameErrorListsTheTable) {
  try {
    check_algorithm_name("magic");
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "algorithm: expected " + arcsim::vocab::names(algorithms()) + ", got \"magic\"");
  }
  EXPECT_EQ(algorithm_names().size(), algorithms().size());
  EXPECT_NO_THROW(check_algorithm_name("hier-chain"));
}

TEST(ProfileTable, ParsesAndNamesEveryRow) {
  for (const auto& e : profiles()) {
    EXPECT_EQ(parse_profile(std::string(e.name)), e.value);
    EXPECT_EQ(std::string(to_string(e.value)), e.name);
  }
  EXPECT_EQ(arcsim::vocab::names(profiles()), "ideal|nccl|tcp|gloo");
  EXPECT_THROW(parse_profile("fast"), std::invalid_argument);
}
