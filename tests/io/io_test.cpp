#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>

#include "locus/io/atomic_file.hpp"
#include "locus/io/csv.hpp"
#include "locus/io/json.hpp"
#include "locus/io/npy.hpp"
#include "locus/io/safetensors.hpp"
#include "locus/model_file.hpp"

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
  EXPECT_EQ(io::read_npy_matrix(path("f4.npy")), (Eigen::MatrixXd(2, 2) << 1.5, -2, 0.25, 8).finished());
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
std::string pytorch_style_safetensors(const std::string& dtype, const std::string& prefix) {
  const int width = dtype == "F64" ? 8 : 4;
  struct T {
    std::string key;
    std::vector<int> shape;
    int first;  // flat index of its first entry in locus's layout
  };
  const std::vector<T> ts = {{"0.bias", {4}, 12}, {"0.weight", {4, 3}, 0},
                             {"2.bias", {2}, 24}, {"2.weight", {2, 4}, 16}};
  std::string header = "{", data;
  for (size_t i = 0; i < ts.size(); ++i) {
    int count = 1;
    for (int d : ts[i].shape) count *= d;
    const size_t begin = data.size();
    for (int k = 0; k < count; ++k) {
      const double v = ts[i].first + k + 1;
      if (width == 8) data.append(reinterpret_cast<const char*>(&v), 8);
      else {
        const float f = static_cast<float>(v);
        data.append(reinterpret_cast<const char*>(&f), 4);
      }
    }
    std::string shape = "[";
    for (size_t j = 0; j < ts[i].shape.size(); ++j) shape += (j ? "," : "") + std::to_string(ts[i].shape[j]);
    header += (i ? "," : "") + std::string("\"") + prefix + ts[i].key + "\":{\"dtype\":\"" + dtype +
              "\",\"shape\":" + shape + "],\"data_offsets\":[" + std::to_string(begin) + "," +
              std::to_string(data.size()) + "]}";
  }
  header += "}";
  while (header.size() % 8) header += ' ';
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

TEST_F(Io, PytorchSequentialSafetensorsLoadIntoTheDocumentedLayout) {
  for (const std::string dtype : {"F32", "F64"}) {
    for (const std::string prefix : {"", "layers."}) {
      write_bytes("m.safetensors", pytorch_style_safetensors(dtype, prefix));
      const ModelFile m = load_model(path("m.safetensors"), {.activation = Activation::tanh});
      EXPECT_EQ(m.spec.widths, (std::vector<Index>{3, 4, 2}));
      ASSERT_EQ(m.parameters.size(), 26);
      for (int k = 0; k < 26; ++k) EXPECT_EQ(m.parameters[k], k + 1) << dtype << " index " << k;
    }
  }
}

TEST_F(Io, SafetensorsRoundTripIsExactAndKeepsMetadata) {
  const Mlp model({.widths = {3, 5, 2}, .activation = Activation::gelu, .bias = {true, false}});
  const Eigen::VectorXd theta = model.init_parameters({.scheme = InitScheme::normal, .seed = 4});
  save_model(path("m.safetensors"), model, theta);
  const ModelFile back = load_model(path("m.safetensors"));
  EXPECT_EQ(back.parameters, theta);
  EXPECT_EQ(back.spec.activation, Activation::gelu);
  EXPECT_EQ(back.spec.bias, (std::vector<bool>{true, false}));
  const io::TensorFile raw_file = io::read_safetensors(path("m.safetensors"));
  EXPECT_NE(raw_file.find("0.weight"), nullptr);
  EXPECT_NE(raw_file.find("2.weight"), nullptr);
  EXPECT_EQ(raw_file.metadata.at("format"), "locus");
  // Flat .npy needs the architecture.
  save_model(path("theta.npy"), model, theta);
  expect_invalid([&] { load_model(path("theta.npy")); }, "architecture");
  EXPECT_EQ(load_model(path("theta.npy"), {.spec = model.spec()}).parameters, theta);
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
}

TEST_F(Io, CsvPlainAndGzip) {
  write_bytes("a.csv", "h1,h2\n1,2.5\n-3,4e-3\n\n");
  const Eigen::MatrixXd a = io::read_csv(path("a.csv"), {.skip_rows = 1});
  EXPECT_EQ(a, (Eigen::MatrixXd(2, 2) << 1, 2.5, -3, 4e-3).finished());
  // gzip the same text with zlib and read it back through the magic-byte detection.
  const std::string text = "1,2.5\n-3,0.004\n";
  std::string gz(256, '\0');
  z_stream zs{};
  ASSERT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(gz.data());
  zs.avail_out = static_cast<uInt>(gz.size());
  ASSERT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  gz.resize(zs.total_out);
  deflateEnd(&zs);
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
    expect_invalid([&] { io::write_npy(path("x.npy"), Eigen::VectorXd(Eigen::VectorXd::Ones(2))); }, "writable");
    fs::permissions(dir, fs::perms::owner_all);
  }
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

}  // namespace
}  // namespace locus
