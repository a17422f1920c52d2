// libFuzzer target: the study-option reader. The bytes are a study file, read by io::read_json
// (as `locus study run FILE` and `locus reproduce` read it) and resolved by one registered study
// (the options table's typed from_json, then validate()). The first byte picks the study.
#include "fuzz_common.hpp"
#include "locus/io/json.hpp"
#include "locus/studies/study.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string path =
      locus::fuzz::scratch_file("locus-fuzz-study", ".json", data + 1, size - 1);
  const auto& studies = locus::studies::all_studies();
  const locus::studies::Study& study = studies[data[0] % studies.size()];
  return locus::fuzz::run([&] { study.resolve(locus::io::read_json(path), {}); });
}
