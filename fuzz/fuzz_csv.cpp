// libFuzzer target: the CSV reader, plain or gzip (magic bytes 1f 8b), with the delimiter and the
// rows to skip taken from the first byte so that both options are explored.
#include "fuzz_common.hpp"
#include "locus/io/csv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const locus::io::CsvOptions options{.skip_rows = data[0] & 3,
                                      .delimiter = (data[0] & 4) ? ';' : ','};
  return locus::fuzz::run([&] {
    const Eigen::MatrixXd m =
        locus::io::parse_csv(locus::fuzz::bytes(data + 1, size - 1), options, "fuzz.csv");
    if (m.rows() < 1 || m.cols() < 1) std::abort();  // an empty table is an error, not a result
  });
}
