// libFuzzer target: model loading (locus::load_model) from a safetensors file: the reader, the
// nn.Sequential key parser, the architecture inferred from the shapes, the activation metadata.
// The bytes go through a file because load_model reads a path (as the CLI and Python do).
#include "fuzz_common.hpp"
#include "locus/io/model_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path =
      locus::fuzz::scratch_file("locus-fuzz-model", ".safetensors", data, size);
  // Every other input also says the activation, as --activation does.
  const bool with_activation = size > 0 && (data[size - 1] & 1);
  return locus::fuzz::run([&] {
    locus::LoadModelOptions options;
    if (with_activation) options.activation = locus::Activation::tanh;
    const locus::ModelFile f = locus::load_model(path, options);
    if (locus::Mlp(f.spec).n_params() != f.theta.size()) std::abort();
  });
}
