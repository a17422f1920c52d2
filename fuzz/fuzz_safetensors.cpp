// libFuzzer target: the safetensors reader (header length, JSON header, offsets, shapes, dtypes).
#include "fuzz_common.hpp"
#include "locus/io/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return locus::fuzz::run([&] {
    const locus::io::TensorFile f =
        locus::io::parse_safetensors(locus::fuzz::bytes(data, size), "fuzz.safetensors");
    for (const auto& [name, t] : f.tensors) {
      std::size_t count = 1;
      for (auto d : t.shape) count *= static_cast<std::size_t>(d);
      if (count != t.data.size()) std::abort();  // the shape must describe the data exactly
    }
  });
}
