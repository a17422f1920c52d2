#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "locus/io/atomic_file.hpp"
#include "locus/io/csv.hpp"
#include "locus/io/json.hpp"
#include "locus/io/memory.hpp"
#include "locus/io/model_file.hpp"
#include "locus/io/npy.hpp"
#include "locus/io/safetensors.hpp"

namespace locus {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("locus-io-" + std::to_string(getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string path(const std::string& name) const { return (dir / name).string(); }
  void write_bytes(const std::string& name, const std::string& bytes) const {
    std::ofstream(path(name), std::ios::binary) << bytes;
  }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    return out;
  }
  fs::path dir;
};

template <class T>
std::string raw(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// An .npy file written by hand from the format description (version 1.0).
std::string npy_bytes(const std::string& header_dict, const std::string& data) {
  std::string header = header_dict;
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::string b = "\x93NUMPY";
  b += '\x01';
  b += '\x00';
  b += static_cast<char>(header.size() & 0xff);
  b += static_cast<char>(header.size() >> 8);
  return b + header + data;
}

void expect_invalid(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one mentioning '" << needle << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

using Io = TempDir;

TEST_F(Io, NpyRoundTripIsExact) {
  Eigen::MatrixXd m(3, 4);
  m << 1.0, -0.0, 1e-308, 4.9e-324, std::nextafter(1.0, 2.0), -1e300, M_PI, 0.1, 2, 3, 4, 5;
  io::write_npy(path("m.npy"), m);
  const Eigen::MatrixXd back = io::read_npy_matrix(path("m.npy"));
  ASSERT_EQ(back.rows(), 3);
  ASSERT_EQ(back.cols(), 4);
  EXPECT_EQ(std::memcmp(back.data(), m.data(), sizeof(double) * 12), 0);  // bitwise, -0.0 too
  const Eigen::VectorXd v = Eigen::VectorXd::LinSpaced(7, -1, 1);
  io::write_npy(path("v.npy"), v);
  EXPECT_EQ(io::read_npy_vector(path("v.npy")), v);
  EXPECT_EQ(io::read_npy(path("v.npy")).shape, std::vector<Eigen::Index>{7});
}

TEST_F(Io, NpyHandWrittenDtypesAndFortranOrder) {
  write_bytes("f4.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
                                  raw(std::vector<float>{1.5f, -2.f, 0.25f, 8.f})));
  EXPECT_EQ(io::read_npy_matrix(path("f4.npy")),
            (Eigen::MatrixXd(2, 2) << 1.5, -2, 0.25, 8).finished());
  write_bytes("i8.npy", npy_bytes("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
                                  raw(std::vector<std::int64_t>{-3, 0, 7})));
  EXPECT_EQ(io::read_npy_vector(path("i8.npy")), Eigen::Vector3d(-3, 0, 7));
  // Fortran order: stored column by column; element (i, j) of a 2 x 3 array is i + 10 j.
  write_bytes("fo.npy", npy_bytes("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }",
                                  raw(std::vector<double>{0, 1, 10, 11, 20, 21})));
  const Eigen::MatrixXd f = io::read_npy_matrix(path("fo.npy"));
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(f(i, j), i + 10 * j);
}

TEST_F(Io, NpyBadFilesNameThePathAndProblem) {
  expect_invalid([&] { io::read_npy(path("missing.npy")); }, "no such file");
  write_bytes("magic.npy", "NOTNUMPYATALL");
  expect_invalid([&] { io::read_npy(path("magic.npy")); }, "magic");
  const std::string good = npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }",
                                     raw(std::vector<double>{1, 2, 3, 4}));
  write_bytes("trunc_data.npy", good.substr(0, good.size() - 5));
  expect_invalid([&] { io::read_npy(path("trunc_data.npy")); }, "truncated");
  write_bytes("trunc_header.npy", good.substr(0, 30));
  expect_invalid([&] { io::read_npy(path("trunc_header.npy")); }, "truncated");
  write_bytes("big.npy", npy_bytes("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }",
                                   raw(std::vector<double>{1})));
  expect_invalid([&] { io::read_npy(path("big.npy")); }, "big-endian");
  write_bytes("complex.npy", npy_bytes("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }",
                                       std::string(16, '\0')));
  expect_invalid([&] { io::read_npy(path("complex.npy")); }, "unsupported dtype");
  write_bytes("noshape.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, }", ""));
  expect_invalid([&] { io::read_npy(path("noshape.npy")); }, "shape");
  expect_invalid([&] { io::read_npy(path("noshape.npy")); }, "noshape.npy");
}

// Builds a safetensors file byte by byte from the published format, the way PyTorch's
// safetensors.torch.save_file writes nn.Sequential(Linear(3,4), Tanh(), Linear(4,2)).state_dict():
// keys 0.weight (4x3), 0.bias (4), 2.weight (2x4), 2.bias (2); header JSON keys sorted, data in
// that order. Values: parameter k of the flat layout has value k + 1 (exact in F32 and F64).
// The published layout: 8-byte little-endian header length, the JSON header padded with spaces to a
// multiple of 8 bytes, then the data buffer.
std::string safetensors_bytes(std::string header, const std::string& data) {
  while (header.size() % 8) header += ' ';
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  out += header;
  out += data;
  return out;
}

struct Entry {
  std::string key;
  std::vector<int> shape;
  int first;  // flat index of its first entry in locus's layout; entry k holds value first + k + 1
};

// Entries in the given (header and data) order, every value = its flat index + 1, which is exact
// in F32 and F64 and says where each parameter must land.
std::string safetensors_from(const std::vector<Entry>& entries, const std::string& dtype,
                             const std::string& prefix) {
  std::string header = "{";
  std::string data;
  for (size_t i = 0; i < entries.size(); ++i) {
    int count = 1;
    for (int d : entries[i].shape) count *= d;
    const size_t begin = data.size();
    for (int k = 0; k < count; ++k) {
      const double v = entries[i].first + k + 1;
      const float f = static_cast<float>(v);
      if (dtype == "F64")
        data.append(reinterpret_cast<const char*>(&v), 8);
      else
        data.append(reinterpret_cast<const char*>(&f), 4);
    }
    std::string shape;
    for (size_t j = 0; j < entries[i].shape.size(); ++j) {
      if (j) shape += ',';
      shape += std::to_string(entries[i].shape[j]);
    }
    if (i) header += ',';
    header += '"';
    header += prefix;
    header += entries[i].key;
    header += "\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + shape + "],\"data_offsets\":[" +
              std::to_string(begin) + "," + std::to_string(data.size()) + "]}";
  }
  header += '}';
  return safetensors_bytes(header, data);
}

// As PyTorch's safetensors.torch.save_file writes nn.Sequential(Linear(3,4), Tanh(), Linear(4,2))
// .state_dict(): keys 0.weight (4x3), 0.bias (4), 2.weight (2x4), 2.bias (2), the header's keys
// sorted, data in that order. locus's layout: W0 at 0..11, b0 at 12..15, W1 at 16..23, b1
// at 24..25.
std::string pytorch_style_safetensors(const std::string& dtype, const std::string& prefix) {
  return safetensors_from(
      {{"0.bias", {4}, 12}, {"0.weight", {4, 3}, 0}, {"2.bias", {2}, 24}, {"2.weight", {2, 4}, 16}},
      dtype, prefix);
}

TEST_F(Io, PytorchSequentialSafetensorsLoadIntoTheDocumentedLayout) {
  for (const std::string dtype : {"F32", "F64"}) {
    for (const std::string prefix : {"", "layers."}) {
      write_bytes("m.safetensors", pytorch_style_safetensors(dtype, prefix));
      const ModelFile m = load_model(path("m.safetensors"), {.activation = Activation::tanh});
      EXPECT_EQ(m.spec.widths, (std::vector<Index>{3, 4, 2}));
      ASSERT_EQ(m.theta.size(), 26);
      for (int k = 0; k < 26; ++k) EXPECT_EQ(m.theta[k], k + 1) << dtype << " index " << k;
    }
  }
}

TEST_F(Io, SafetensorsRoundTripIsExactAndKeepsMetadata) {
  const Mlp model({.widths = {3, 5, 2}, .activation = Activation::gelu, .bias = {true, false}});
  const Eigen::VectorXd theta = model.init_parameters({.scheme = InitScheme::normal, .seed = 4});
  save_model(path("m.safetensors"), model, theta);
  const ModelFile back = load_model(path("m.safetensors"));
  EXPECT_EQ(back.theta, theta);
  EXPECT_EQ(back.spec.activation, Activation::gelu);
  EXPECT_EQ(back.spec.bias, (std::vector<bool>{true, false}));
  const io::TensorFile raw_file = io::read_safetensors(path("m.safetensors"));
  EXPECT_NE(raw_file.find("0.weight"), nullptr);
  EXPECT_NE(raw_file.find("2.weight"), nullptr);
  EXPECT_EQ(raw_file.metadata.at("format"), "locus");
  // Flat .npy needs the architecture.
  save_model(path("theta.npy"), model, theta);
  expect_invalid([&] { load_model(path("theta.npy")); }, "architecture");
  EXPECT_EQ(load_model(path("theta.npy"), {.spec = model.spec()}).theta, theta);
  const Mlp other({.widths = {3, 6, 2}});
  expect_invalid([&] { load_model(path("theta.npy"), {.spec = other.spec()}); }, "length");
  expect_invalid([&] { load_model(path("m.safetensors"), {.spec = other.spec()}); }, "[3,5,2]");
}

TEST_F(Io, SafetensorsBadFiles) {
  const std::string good = pytorch_style_safetensors("F64", "");
  write_bytes("short.safetensors", good.substr(0, 5));
  expect_invalid([&] { io::read_safetensors(path("short.safetensors")); }, "8-byte");
  write_bytes("trunc.safetensors", good.substr(0, good.size() - 8));
  expect_invalid([&] { io::read_safetensors(path("trunc.safetensors")); }, "outside");
  std::string bad_len = good;
  bad_len[7] = '\x7f';
  write_bytes("len.safetensors", bad_len);
  expect_invalid([&] { io::read_safetensors(path("len.safetensors")); }, "exceeds");
  std::string bad_json = good;
  bad_json[8] = '[';
  bad_json[9] = '[';
  write_bytes("json.safetensors", bad_json);
  expect_invalid([&] { io::read_safetensors(path("json.safetensors")); }, "json.safetensors");
  write_bytes("m.safetensors", good);
  expect_invalid([&] { load_model(path("m.safetensors")); }, "activation");
  // Sizes that are not integers in [0, 2^63): a float, a number beyond 64 bits (which the JSON
  // parser keeps as a double), a negative dimension, a fractional offset (fuzz_safetensors).
  const std::string data(16, '\0');
  for (const auto& [field, message] : std::vector<std::pair<std::string, std::string>>{
           {R"("shape":[2.5],"data_offsets":[0,16])", "dimension 2.5"},
           {R"("shape":[42949672964297292469],"data_offsets":[0,16])", "dimension 4.29"},
           {R"("shape":[9223372036854775808],"data_offsets":[0,16])",
            "dimension 9223372036854775808"},
           {R"("shape":[-2],"data_offsets":[0,16])", "dimension -2"},
           {R"("shape":[2],"data_offsets":[0,1.6e1])", "data offset 16.0"}}) {
    write_bytes("size.safetensors",
                safetensors_bytes(R"({"w":{"dtype":"F64",)" + field + "}}", data));
    expect_invalid([&] { io::read_safetensors(path("size.safetensors")); }, message);
  }
}

// text compressed by zlib in the gzip format (what gzip(1) writes).
std::string gzip(const std::string& text) {
  std::string gz(text.size() / 100 + 1024, '\0');
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(gz.data());
  zs.avail_out = static_cast<uInt>(gz.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  gz.resize(zs.total_out);
  deflateEnd(&zs);
  return gz;
}

TEST_F(Io, CsvPlainAndGzip) {
  write_bytes("a.csv", "h1,h2\n1,2.5\n-3,4e-3\n\n");
  const Eigen::MatrixXd a = io::read_csv(path("a.csv"), {.skip_rows = 1});
  EXPECT_EQ(a, (Eigen::MatrixXd(2, 2) << 1, 2.5, -3, 4e-3).finished());
  // gzip the same text with zlib and read it back through the magic-byte detection.
  const std::string gz = gzip("1,2.5\n-3,0.004\n");
  write_bytes("a.csv.gz", gz);
  EXPECT_EQ(io::read_csv(path("a.csv.gz")), a);
  write_bytes("bad.csv.gz", gz.substr(0, gz.size() / 2));
  expect_invalid([&] { io::read_csv(path("bad.csv.gz")); }, "gzip");
  write_bytes("ragged.csv", "1,2\n3\n");
  expect_invalid([&] { io::read_csv(path("ragged.csv")); }, "line 2");
  write_bytes("text.csv", "1,2\n3,x\n");
  expect_invalid([&] { io::read_csv(path("text.csv")); }, "column 2");
}

TEST_F(Io, AtomicWritesLeaveNoPartialFiles) {
  io::write_file_atomic(path("f.txt"), "hello");
  EXPECT_EQ(io::read_file(path("f.txt")), "hello");
  EXPECT_EQ(files(), std::vector<std::string>{"f.txt"});  // no temporary left behind
  expect_invalid([&] { io::write_file_atomic(path("nodir/f.txt"), "x"); }, "does not exist");
  expect_invalid([&] { io::require_writable(dir.string()); }, "directory");
  EXPECT_FALSE(fs::exists(path("nodir")));
  if (getuid() != 0) {  // root writes anywhere; the permission check only means something otherwise
    fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
    expect_invalid([&] { io::write_npy(path("x.npy"), Eigen::VectorXd(Eigen::VectorXd::Ones(2))); },
                   "writable");
    fs::permissions(dir, fs::perms::owner_all);
  }
}

// Sequential(Linear(2,3), ReLU, Linear(3,4, bias=False), ..., Linear(4,1)) at indices 0, 2 and
// 10 under a nested prefix: layers must be ordered numerically (lexicographic order would put 10
// before 2), and a bias-less layer has no slot in the flat vector.
TEST_F(Io, SafetensorsLayersOrderedByNumericIndexWithPrefix) {
  // Flat layout: W0 (3x2) 0..5, b0 6..8, W1 (4x3) 9..20, W2 (1x4) 21..24, b2 25.
  write_bytes("m.safetensors", safetensors_from({{"0.bias", {3}, 6},
                                                 {"0.weight", {3, 2}, 0},
                                                 {"10.bias", {1}, 25},
                                                 {"10.weight", {1, 4}, 21},
                                                 {"2.weight", {4, 3}, 9}},
                                                "F32", "model.net."));
  const ModelFile m = load_model(path("m.safetensors"), {.activation = Activation::relu});
  EXPECT_EQ(m.spec.widths, (std::vector<Index>{2, 3, 4, 1}));
  EXPECT_EQ(m.spec.bias, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(m.spec.activation, Activation::relu);
  ASSERT_EQ(m.theta.size(), 26);
  for (int k = 0; k < 26; ++k) EXPECT_EQ(m.theta[k], k + 1) << "index " << k;
}

TEST_F(Io, SafetensorsShapesThatDoNotChainNameBothKeys) {
  write_bytes("m.safetensors",
              safetensors_from({{"0.weight", {4, 3}, 0}, {"2.weight", {2, 5}, 12}}, "F64", ""));
  try {
    load_model(path("m.safetensors"), {.activation = Activation::tanh});
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'2.weight'"), std::string::npos) << what;
    EXPECT_NE(what.find("'0.weight'"), std::string::npos) << what;
  }
  write_bytes("odd.safetensors",
              safetensors_from({{"0.weight", {4, 3}, 0}, {"encoder", {2}, 12}}, "F64", ""));
  expect_invalid([&] { load_model(path("odd.safetensors"), {.activation = Activation::tanh}); },
                 "'encoder'");
  write_bytes("m.bin", "x");
  expect_invalid([&] { load_model(path("m.bin")); }, "unknown model format");
}

TEST_F(Io, SafetensorsInconsistentHeaders) {
  const std::string eight(8, '\0'), sixteen(16, '\0');
  // Overlapping byte ranges.
  write_bytes("overlap.safetensors",
              safetensors_bytes(R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},)"
                                R"("b":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})",
                                eight));
  expect_invalid([&] { io::read_safetensors(path("overlap.safetensors")); }, "overlap");
  // Byte span disagrees with shape x dtype size.
  write_bytes(
      "span.safetensors",
      safetensors_bytes(R"({"a":{"dtype":"F64","shape":[3],"data_offsets":[0,16]}})", sixteen));
  expect_invalid([&] { io::read_safetensors(path("span.safetensors")); }, "needs 24");
  // A shape whose element count would overflow size_t.
  write_bytes("huge.safetensors",
              safetensors_bytes(R"({"a":{"dtype":"F64","shape":[4294967296,4294967296],)"
                                R"("data_offsets":[0,16]}})",
                                sixteen));
  expect_invalid([&] { io::read_safetensors(path("huge.safetensors")); }, "needs more");
  // Integer tensors are not parameters locus can use.
  write_bytes(
      "int.safetensors",
      safetensors_bytes(R"({"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", eight));
  expect_invalid([&] { io::read_safetensors(path("int.safetensors")); }, "I64");
  // A tensor entry without data_offsets.
  write_bytes("entry.safetensors",
              safetensors_bytes(R"({"a":{"dtype":"F64","shape":[1]}})", eight));
  expect_invalid([&] { io::read_safetensors(path("entry.safetensors")); }, "entry.safetensors");
}

TEST_F(Io, NpyVersion2HeaderAndSmallIntegers) {
  // Version 2.0: a 4-byte header length; total header size a multiple of 64.
  std::string header = "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }";
  while ((12 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::string b = "\x93NUMPY";
  b += '\x02';
  b += '\x00';
  for (int i = 0; i < 4; ++i) b += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  b += header;
  b += std::string("\x00\x07\x10\xff", 4);
  write_bytes("v2.npy", b);
  EXPECT_EQ(io::read_npy_matrix(path("v2.npy")),
            (Eigen::MatrixXd(2, 2) << 0, 7, 16, 255).finished());
  write_bytes("i1.npy", npy_bytes("{'descr': '|i1', 'fortran_order': False, 'shape': (2,), }",
                                  std::string("\xff\x80", 2)));
  EXPECT_EQ(io::read_npy_vector(path("i1.npy")), Eigen::Vector2d(-1, -128));
  // A 3-D Fortran-order array: element (i, j, k) = i + 10 j + 100 k, stored i fastest.
  std::vector<double> fortran;
  for (int k = 0; k < 2; ++k)
    for (int j = 0; j < 3; ++j)
      for (int i = 0; i < 2; ++i) fortran.push_back(i + 10 * j + 100 * k);
  write_bytes("f3.npy", npy_bytes("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3, 2), }",
                                  raw(fortran)));
  const io::NpyArray a = io::read_npy(path("f3.npy"));
  ASSERT_EQ(a.shape, (std::vector<Eigen::Index>{2, 3, 2}));
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 2; ++k) EXPECT_EQ(a.data[(i * 3 + j) * 2 + k], i + 10 * j + 100 * k);
  expect_invalid([&] { io::read_npy_matrix(path("f3.npy")); }, "3-D");
}

TEST_F(Io, NpyMalformedHeaderDicts) {
  const std::string data = raw(std::vector<double>{1, 2});
  const auto check = [&](const std::string& dict, const std::string& needle) {
    write_bytes("h.npy", npy_bytes(dict, data));
    expect_invalid([&] { io::read_npy(path("h.npy")); }, needle);
  };
  check("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), ", "malformed header");
  check("{'descr': '<f8', 'fortran_order': False, 'shape': (2,) 'x': 1}", "malformed header");
  check("{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2,), }", "True or False");
  check("{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }", "dimension");
  check("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'extra': 1, }", "'extra'");
  check("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }", "structured");
  check("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", "unsupported dtype");
  check("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), } trailing", "end of the header");
  // A shape whose element count would overflow size_t reads as truncated, not as a huge allocation.
  check("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
        "truncated");
  // Double quotes and no trailing comma are valid Python too.
  write_bytes("ok.npy",
              npy_bytes("{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (2,)}", data));
  EXPECT_EQ(io::read_npy_vector(path("ok.npy")), Eigen::Vector2d(1, 2));
}

TEST_F(Io, CsvWriteRoundTripAndHeaderCheck) {
  Eigen::MatrixXd m(2, 3);
  m << 0.1, -1e-308, 1.0 / 3.0, 2, 4.9e-324, -0.0;
  io::write_csv(path("t.csv"), {"a", "b", "c"}, m);
  const Eigen::MatrixXd back = io::read_csv(path("t.csv"), {.skip_rows = 1});
  // %.17g round-trips every double exactly (17 significant digits suffice for binary64).
  EXPECT_EQ(std::memcmp(back.data(), m.data(), sizeof(double) * 6), 0);
  expect_invalid([&] { io::write_csv(path("u.csv"), {"a", "b"}, m); }, "column names");
  EXPECT_FALSE(fs::exists(path("u.csv")));
  write_bytes("semi.csv", "1;2\n3;4\n");
  EXPECT_EQ(io::read_csv(path("semi.csv"), {.delimiter = ';'}),
            (Eigen::MatrixXd(2, 2) << 1, 2, 3, 4).finished());
  write_bytes("empty.csv", "h\n");
  expect_invalid([&] { io::read_csv(path("empty.csv"), {.skip_rows = 1}); }, "no data rows");
}

TEST_F(Io, JsonRoundTripAndErrors) {
  const io::Json j = io::with_context({{"seed", 1}}, {{"values", {1.5, -0.0, 1e-300}}});
  io::write_json(path("r.json"), j);
  EXPECT_EQ(io::read_json(path("r.json")), j);
  EXPECT_EQ(files(), std::vector<std::string>{"r.json"});
  write_bytes("bad.json", "{\"a\": [1, 2}");
  expect_invalid([&] { io::read_json(path("bad.json")); }, "bad.json");
  expect_invalid([&] { io::read_json(path("missing.json")); }, "missing.json");
}

TEST(Json, ContextBlockComesFirstWithEveryField) {
  const io::Json j = io::with_context({{"seed", 3}}, {{"loss", 1.5}, {"alpha", 2}});
  EXPECT_EQ(j.begin().key(), "context");
  for (const char* k : {"version", "git_commit", "compiler", "build_type", "eigen_version",
                        "threads", "host", "utc_time", "options"})
    EXPECT_TRUE(j["context"].contains(k)) << k;
  EXPECT_EQ(j["context"]["options"]["seed"], 3);
  EXPECT_EQ(std::next(j.begin()).key(), "loss");  // body order kept
}

// Sizes from a file are checked before they are multiplied or used: a dimension of 2^64 + 6
// must not wrap to 6, a product of dimensions must not wrap to the file's element count.
TEST_F(Io, NpyShapesThatOverflowAreRejected) {
  const std::string six = raw(std::vector<double>{1, 2, 3, 4, 5, 6});
  // 2^64 + 6 = 18446744073709551622: wraps to 6 in unchecked 64-bit arithmetic.
  write_bytes("wrap.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, "
                                    "'shape': (18446744073709551622,), }",
                                    six));
  expect_invalid([&] { io::read_npy(path("wrap.npy")); }, "too large");
  // (2^32, 2^32 + 6 / ...): each dimension fits, the product 2^64 (+ ...) does not.
  write_bytes("product.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, "
                                       "'shape': (4294967296, 4294967296, 6), }",
                                       six));
  expect_invalid([&] { io::read_npy(path("product.npy")); }, "truncated");
  // 2^62 itself is the largest dimension accepted by the parser; the data are then missing.
  write_bytes("max.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, "
                                   "'shape': (4611686018427387904,), }",
                                   six));
  expect_invalid([&] { io::read_npy(path("max.npy")); }, "truncated");
  // A zero dimension makes an empty array whatever the others are.
  write_bytes("empty.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, "
                                     "'shape': (4611686018427387904, 0), }",
                                     ""));
  EXPECT_EQ(io::read_npy(path("empty.npy")).data.size(), 0u);
}

TEST_F(Io, SafetensorsHugeShapesAndLayerIndicesAreRejected) {
  // Shape [2^32, 2^32] has 2^64 elements (0 in wrapped arithmetic): refused against the span.
  write_bytes("shape.safetensors",
              safetensors_bytes(R"({"0.weight":{"dtype":"F64","shape":[4294967296,4294967296],)"
                                R"("data_offsets":[0,0]}})",
                                ""));
  expect_invalid([&] { io::read_safetensors(path("shape.safetensors")); }, "shape needs more");
  // A layer index beyond 64 bits: a message naming the file and the tensor, not std::out_of_range.
  write_bytes("index.safetensors",
              safetensors_from({{"99999999999999999999999.weight", {1, 1}, 0}}, "F64", ""));
  expect_invalid([&] { load_model(path("index.safetensors"), {.activation = Activation::tanh}); },
                 "99999999999999999999999.weight");
  // A weight with an output dimension of 0: the zero width is reported under the file's name.
  write_bytes(
      "zero.safetensors",
      safetensors_bytes(R"({"0.weight":{"dtype":"F64","shape":[0,3],"data_offsets":[0,0]}})", ""));
  expect_invalid([&] { load_model(path("zero.safetensors"), {.activation = Activation::tanh}); },
                 "zero.safetensors");
  // An unknown activation in the metadata names the file; an explicit activation overrides it.
  io::TensorFile f = io::read_safetensors([&] {
    write_bytes("m.safetensors", pytorch_style_safetensors("F64", ""));
    return path("m.safetensors");
  }());
  f.metadata["activation"] = "swishy";
  io::write_safetensors(path("act.safetensors"), f);
  expect_invalid([&] { load_model(path("act.safetensors")); }, "act.safetensors");
  EXPECT_EQ(load_model(path("act.safetensors"), {.activation = Activation::tanh}).spec.activation,
            Activation::tanh);
}

// Found by fuzz_csv: a cell with an embedded NUL read as the number before it; and a dtype
// with trailing characters read as the dtype before them.
TEST_F(Io, CellsAndDtypesAreReadWhole) {
  write_bytes("nul.csv", std::string("1\0x,2\n", 7));
  expect_invalid([&] { io::read_csv(path("nul.csv")); }, "column 1");
  write_bytes("descr.npy", npy_bytes("{'descr': '<f8x', 'fortran_order': False, 'shape': (1,), }",
                                     raw(std::vector<double>{1})));
  expect_invalid([&] { io::read_npy(path("descr.npy")); }, "unsupported dtype '<f8x'");
}

// Seen with fuzz_safetensors: 200000 nested arrays in the metadata overflowed the stack when the
// value was dumped. JSON from files is now refused beyond 64 levels of nesting.
TEST_F(Io, DeeplyNestedJsonIsRefused) {
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  write_bytes("deep.safetensors", safetensors_bytes("{\"__metadata__\":{\"a\":" + deep + "}}", ""));
  expect_invalid([&] { io::read_safetensors(path("deep.safetensors")); }, "nested deeper than 64");
  write_bytes("deep.json", "{\"a\":" + deep + "}");
  expect_invalid([&] { io::read_json(path("deep.json")); }, "deep.json");
  const std::string ok = std::string(60, '[') + std::string(60, ']');
  write_bytes("ok.json", "{\"a\":" + ok + "}");
  EXPECT_EQ(io::read_json(path("ok.json")).size(), 1u);
}

// The memory limit: a request above it is refused with the estimate, naming what asked.
TEST(Memory, RequestsAboveTheLimitAreRefusedNamingTheInput) {
  const double saved = io::max_memory_bytes();
  EXPECT_GT(io::default_max_memory_bytes(), 0.0);
  io::set_max_memory_bytes(1 << 20);
  EXPECT_NO_THROW(io::check_memory(1 << 20, "exactly the limit"));
  expect_invalid(
      [] { io::check_memory(3.0 * (1 << 30), "--n-points 10", "x and y"); },
      "--n-points 10 needs about 3 GiB (x and y), above the memory limit of 0.000977 GiB");
  expect_invalid([] { io::check_memory(std::nan(""), "nan bytes"); }, "nan bytes");
  expect_invalid([] { io::set_max_memory_bytes(0); }, "memory limit");
  expect_invalid([] { io::set_max_memory_bytes(INFINITY); }, "memory limit");
  io::set_max_memory_bytes(saved);
}

// Huge-page advice keeps the data and the rest of the buffer as they were, for any start and
// length (within one 2 MiB page, unaligned, empty). Where the kernel gives huge pages only on
// advice (transparent_hugepage "[madvise]"), the advised pages' mapping reports itself eligible
// in /proc/self/smaps (THPeligible: 1), which it does not without the advice.
TEST(Memory, HugePageAdviceKeepsTheDataAndMarksTheMapping) {
  std::vector<double> buffer((std::size_t{9} << 20) / sizeof(double) + 3);
  for (std::size_t i = 0; i < buffer.size(); ++i) buffer[i] = double(i) * 0.5 + 1.0;
  for (const auto& [offset, count] : std::vector<std::pair<std::size_t, std::size_t>>{
           {0, buffer.size()}, {1, buffer.size() - 2}, {3, 1000}, {0, 0}, {7, (3u << 20) / 8}})
    io::advise_huge_pages(buffer.data() + offset, count * sizeof(double));
  bool intact = true;
  for (std::size_t i = 0; i < buffer.size(); ++i)
    intact = intact && buffer[i] == double(i) * 0.5 + 1.0;
  EXPECT_TRUE(intact);

  std::ifstream mode_file("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  std::getline(mode_file, mode);
  if (mode.find("[madvise]") == std::string::npos)
    GTEST_SKIP() << "transparent huge pages are '" << mode << "', not given on advice alone";
  constexpr std::size_t huge = std::size_t{2} << 20, bytes = 8 * huge;
  void* region = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(region, MAP_FAILED);
  const auto begin = reinterpret_cast<std::uintptr_t>(region);
  const std::uintptr_t inside = (begin + huge - 1) / huge * huge;  // a whole huge page inside
  // THPeligible of the mapping that holds address a, from /proc/self/smaps (-1: not found).
  auto eligible = [](std::uintptr_t a) {
    std::ifstream smaps("/proc/self/smaps");
    bool in_mapping = false;
    for (std::string line; std::getline(smaps, line);) {
      unsigned long lo = 0, hi = 0;
      if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2)
        in_mapping = lo <= a && a < hi;
      else if (in_mapping && line.rfind("THPeligible:", 0) == 0)
        return std::atoi(line.c_str() + 12);
    }
    return -1;
  };
  const int before = eligible(inside);
  if (before < 0) {
    munmap(region, bytes);
    GTEST_SKIP() << "this kernel's /proc/self/smaps has no THPeligible field";
  }
  io::advise_huge_pages(region, bytes);
  const int after = eligible(inside);
  munmap(region, bytes);
  EXPECT_EQ(before, 0);
  EXPECT_EQ(after, 1);
}

// Several outputs replaced together: a writer that fails leaves every earlier output as it was
// and no temporary behind; its message names the output, not the temporary.
TEST_F(Io, StagedFilesReplaceAllOrNone) {
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  write_bytes("a.csv", "old a");
  write_bytes("b.npy", "old b");
  try {
    io::StagedFiles staged;
    staged.write(path("a.csv"), [](const std::string& tmp) {
      EXPECT_TRUE(io::has_suffix(tmp, ".csv"));  // the format-by-suffix writers see .csv
      io::write_file_atomic(tmp, "new a");
    });
    staged.write(path("b.npy"), [](const std::string& tmp) {
      throw std::runtime_error("writing '" + tmp + "' failed: disk full");
    });
    staged.commit();
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "writing '" + path("b.npy") + "' failed: disk full");
  }
  EXPECT_EQ(io::read_file(path("a.csv")), "old a");
  EXPECT_EQ(io::read_file(path("b.npy")), "old b");
  EXPECT_EQ(sorted(files()), (std::vector<std::string>{"a.csv", "b.npy"}));
  {
    io::StagedFiles staged;
    staged.write(path("a.csv"),
                 [](const std::string& tmp) { io::write_file_atomic(tmp, "new a"); });
    staged.write(path("b.npy"),
                 [](const std::string& tmp) { io::write_file_atomic(tmp, "new b"); });
    staged.commit();
  }
  EXPECT_EQ(io::read_file(path("a.csv")), "new a");
  EXPECT_EQ(io::read_file(path("b.npy")), "new b");
  EXPECT_EQ(sorted(files()), (std::vector<std::string>{"a.csv", "b.npy"}));
  // An output the user did not ask for (empty path) is skipped: its writer never runs.
  {
    io::StagedFiles staged;
    staged.write("", [](const std::string&) { FAIL() << "writer called for an empty path"; });
    staged.commit();
  }
  EXPECT_EQ(sorted(files()), (std::vector<std::string>{"a.csv", "b.npy"}));
  // An unwritable output is refused before its writer runs.
  io::StagedFiles staged;
  expect_invalid([&] { staged.write(path("missing/c.csv"), [](const std::string&) {}); },
                 "does not exist");
}

TEST_F(Io, GzipThatInflatesBeyondTheLimitIsRefused) {
  // 64 MiB of '0' compresses to ~64 KiB; with a 16 MiB limit the inflation stops early.
  write_bytes("bomb.csv.gz", gzip(std::string(std::size_t{64} << 20, '0')));
  const double saved = io::max_memory_bytes();
  io::set_max_memory_bytes(16 << 20);
  expect_invalid([&] { io::read_csv(path("bomb.csv.gz")); }, "bomb.csv.gz' decompressed");
  io::set_max_memory_bytes(saved);
}

}  // namespace
}  // namespace locus
