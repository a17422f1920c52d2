// libFuzzer target: the study-option reader. The bytes are a study file (JSON); each registered
// study resolves it (the options table's typed from_json, then validate()), as `locus study run
// FILE` and `locus reproduce` do. The first byte picks the study.
#include "fuzz_common.hpp"
#include "locus/io/json.hpp"
#include "locus/studies/study.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto& studies = locus::studies::all_studies();
  const locus::studies::Study& study = studies[data[0] % studies.size()];
  return locus::fuzz::run([&] {
    locus::io::Json j;
    try {
      j = locus::io::Json::parse(locus::fuzz::bytes(data + 1, size - 1));
    } catch (const nlohmann::json::exception&) {
      return;  // io::read_json reports this as std::invalid_argument naming the file
    }
    study.resolve(j, {});
  });
}
