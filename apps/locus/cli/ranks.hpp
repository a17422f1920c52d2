#pragma once
// Work spread over the ranks of an MPI launch (`mpirun -np K locus basins ...`): item i runs on
// rank i mod K (static round-robin), every result is gathered on rank 0 in item order, and only
// rank 0 writes. Built without MPI (LOCUS_MPI off), or started without mpirun, there is one rank
// and everything runs here. MPI stays in the CLI: the library's runs are pure functions of their
// index, so where one ran does not change its result.

#include <functional>
#include <string>
#include <vector>

#include "locus/core/mlp.hpp"

namespace locus::cli {

class Ranks {
 public:
  // MPI_Init when built with MPI and launched by an MPI launcher (OMPI_COMM_WORLD_SIZE or
  // PMI_SIZE in the environment); otherwise a single rank. MPI_Finalize in the destructor.
  Ranks();
  ~Ranks();
  Ranks(const Ranks&) = delete;
  Ranks& operator=(const Ranks&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool root() const { return rank_ == 0; }

  // Runs item(i) for i < total with i mod size == rank and returns all total results, in item
  // order, on rank 0 (an empty vector on the other ranks). Each result travels as one message.
  std::vector<std::string> gather(Index total, const std::function<std::string(Index)>& item) const;

 private:
  int rank_ = 0, size_ = 1;
  bool initialized_ = false;
};

// Whether MPI support was compiled in (LOCUS_MPI).
bool mpi_built();

// Makes OpenBLAS run single-threaded when locus is linked against it (a weak symbol; no-op
// otherwise). OpenBLAS's threaded LAPACK kernels round differently with their thread count, and
// mpirun binds each rank to one core (one BLAS thread): a sweep that is parallel over runs gets
// the same bits on every rank and in a serial run only with one BLAS thread everywhere.
void single_threaded_blas();

}  // namespace locus::cli
