#include "cli/ranks.hpp"

#include <cstdlib>

#ifdef LOCUS_HAVE_MPI
#include <mpi.h>
#endif

extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace locus::cli {

void single_threaded_blas() {
  if (openblas_set_num_threads) openblas_set_num_threads(1);
}

#ifdef LOCUS_HAVE_MPI

Ranks::Ranks() {
  // Started by mpirun (OpenMPI) or another PMI launcher: join the world communicator.
  if (!std::getenv("OMPI_COMM_WORLD_SIZE") && !std::getenv("PMI_SIZE")) return;
  MPI_Init(nullptr, nullptr);
  initialized_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

Ranks::~Ranks() {
  if (initialized_) MPI_Finalize();
}

std::vector<std::string> Ranks::gather(Index total,
                                       const std::function<std::string(Index)>& item) const {
  std::vector<std::string> mine;
  for (Index i = rank_; i < total; i += size_) mine.push_back(item(i));
  if (size_ == 1) return mine;
  if (!root()) {
    // MPI's non-overtaking rule keeps one sender's messages in order: rank 0 receives them in
    // item order.
    for (const std::string& s : mine)
      MPI_Send(s.data(), static_cast<int>(s.size()), MPI_CHAR, 0, 0, MPI_COMM_WORLD);
    return {};
  }
  std::vector<std::string> all(static_cast<std::size_t>(total));
  for (Index i = 0; i < total; ++i) {
    const int source = static_cast<int>(i % size_);
    if (source == 0) {
      all[static_cast<std::size_t>(i)] = std::move(mine[static_cast<std::size_t>(i / size_)]);
      continue;
    }
    MPI_Status status;
    MPI_Probe(source, 0, MPI_COMM_WORLD, &status);
    int count = 0;
    MPI_Get_count(&status, MPI_CHAR, &count);
    std::string s(static_cast<std::size_t>(count), '\0');
    MPI_Recv(s.data(), count, MPI_CHAR, source, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    all[static_cast<std::size_t>(i)] = std::move(s);
  }
  return all;
}

bool mpi_built() { return true; }

#else

Ranks::Ranks() = default;
Ranks::~Ranks() = default;

std::vector<std::string> Ranks::gather(Index total,
                                       const std::function<std::string(Index)>& item) const {
  std::vector<std::string> all;
  for (Index i = 0; i < total; ++i) all.push_back(item(i));
  return all;
}

bool mpi_built() { return false; }

#endif

}  // namespace locus::cli
