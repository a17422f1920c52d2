// libFuzzer target: the .npy reader (header dict parser, shape arithmetic, dtype conversion,
// Fortran order) on arbitrary bytes, then the matrix and vector views of what it accepted.
#include "fuzz_common.hpp"
#include "locus/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return locus::fuzz::run([&] {
    const locus::io::NpyArray a = locus::io::parse_npy(locus::fuzz::bytes(data, size), "fuzz.npy");
    std::size_t count = 1;
    for (auto d : a.shape) count *= static_cast<std::size_t>(d);
    if (count != a.data.size()) std::abort();  // the shape must describe the data exactly
  });
}
