#include "locus/io/safetensors.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "json_depth.hpp"
#include "locus/io/atomic_file.hpp"

namespace locus::io {

namespace {

[[noreturn]] void safetensors_error(const std::string& path, const std::string& what) {
  throw std::invalid_argument("'" + path + "': not a valid safetensors file: " + what);
}

double half_to_double(std::uint16_t h) {
  const int sign = h >> 15, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
  double v;
  if (exp == 0)
    v = std::ldexp(frac, -24);
  else if (exp == 31)
    v = frac ? NAN : INFINITY;
  else
    v = std::ldexp(frac + 1024, exp - 25);
  return sign ? -v : v;
}

}  // namespace

const Tensor* TensorFile::find(std::string_view name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return &t;
  return nullptr;
}

TensorFile read_safetensors(const std::string& path) {
  return parse_safetensors(read_file(path), path);
}

TensorFile parse_safetensors(std::string_view bytes, const std::string& path) {
  if (bytes.size() < 8) safetensors_error(path, "shorter than the 8-byte header length");
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  if (n > bytes.size() - 8)
    safetensors_error(path, "header length " + std::to_string(n) + " exceeds the file size " +
                                std::to_string(bytes.size()));
  nlohmann::json header;
  try {
    header = parse_bounded_json<nlohmann::json>(bytes.substr(8, n));
  } catch (const nlohmann::json::exception& e) {
    safetensors_error(path, std::string("header is not valid JSON (") + e.what() + ")");
  } catch (const std::invalid_argument& e) {
    safetensors_error(path, std::string("header is ") + e.what());
  }
  if (!header.is_object()) safetensors_error(path, "header is not a JSON object");
  const size_t buffer_size = bytes.size() - 8 - n;
  const char* buffer = bytes.data() + 8 + n;
  TensorFile file;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;
  std::vector<std::pair<std::uint64_t, std::pair<std::string, Tensor>>> ordered;
  try {
    for (auto it = header.begin(); it != header.end(); ++it) {
      if (it.key() == "__metadata__") {
        for (auto m = it->begin(); m != it->end(); ++m)
          file.metadata[m.key()] = m->is_string() ? m->get<std::string>() : m->dump();
        continue;
      }
      const std::string& name = it.key();
      const std::string dtype = it->at("dtype").get<std::string>();
      // Sizes must be JSON integers in [0, 2^63): the parser keeps a float, or an integer beyond
      // 64 bits, as a double, whose conversion to an integer would be undefined behaviour.
      auto size_field = [&](const nlohmann::json& v, const char* what) -> std::uint64_t {
        if (!v.is_number_unsigned() ||
            v.get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
          safetensors_error(path, "tensor '" + name + "' has " + what + " " + v.dump() +
                                      " (expected an integer from 0 to 2^63 - 1)");
        return v.get<std::uint64_t>();
      };
      Tensor t;
      for (const auto& d : it->at("shape"))
        t.shape.push_back(static_cast<std::int64_t>(size_field(d, "a dimension")));
      const auto offs = it->at("data_offsets");
      const std::uint64_t b = size_field(offs.at(0), "a data offset"),
                          e = size_field(offs.at(1), "a data offset");
      if (b > e || e > buffer_size)
        safetensors_error(path, "tensor '" + name + "' has data_offsets [" + std::to_string(b) +
                                    ", " + std::to_string(e) + "] outside the " +
                                    std::to_string(buffer_size) + "-byte data buffer");
      size_t width;
      if (dtype == "F64")
        width = 8, t.dtype = DType::f64;
      else if (dtype == "F32")
        width = 4, t.dtype = DType::f32;
      else if (dtype == "F16" || dtype == "BF16")
        width = 2, t.dtype = DType::f32;
      else
        safetensors_error(
            path, "tensor '" + name + "' has dtype " + dtype + " (supported: F64, F32, F16, BF16)");
      // Element count; a product beyond the buffer cannot match the span (and must not overflow).
      size_t count = 1;
      bool too_big = false;
      for (auto d : t.shape) {
        const size_t n = static_cast<size_t>(d);
        if (n == 0) {  // an empty tensor, whatever the other dimensions
          count = 0;
          too_big = false;
          break;
        }
        if (!too_big && count > buffer_size / n) too_big = true;
        if (!too_big) count *= n;
      }
      if (too_big || count * width != e - b)
        safetensors_error(
            path, "tensor '" + name + "' spans " + std::to_string(e - b) + " bytes but its " +
                      dtype + " shape needs " +
                      (too_big ? std::string("more") : std::to_string(count * width)));
      t.data.resize(count);
      const char* p = buffer + b;
      for (size_t i = 0; i < count; ++i) {
        if (dtype == "F64") {
          std::memcpy(&t.data[i], p + 8 * i, 8);
        } else if (dtype == "F32") {
          float f;
          std::memcpy(&f, p + 4 * i, 4);
          t.data[i] = f;
        } else {
          std::uint16_t h;
          std::memcpy(&h, p + 2 * i, 2);
          if (dtype == "F16") {
            t.data[i] = half_to_double(h);
          } else {
            const std::uint32_t u = static_cast<std::uint32_t>(h) << 16;
            float f;
            std::memcpy(&f, &u, 4);
            t.data[i] = f;
          }
        }
      }
      spans.push_back({b, e});
      ordered.push_back({b, {name, std::move(t)}});
    }
  } catch (const nlohmann::json::exception& e) {
    safetensors_error(path, std::string("malformed tensor entry (") + e.what() + ")");
  }
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i)
    if (spans[i].first < spans[i - 1].second)
      safetensors_error(path, "tensors' byte ranges overlap");
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& o : ordered) file.tensors.push_back(std::move(o.second));
  return file;
}

void write_safetensors(const std::string& path, const TensorFile& file, DType dtype) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
  std::string data;
  const size_t width = dtype == DType::f64 ? 8 : 4;
  for (const auto& [name, t] : file.tensors) {
    const size_t begin = data.size();
    for (double v : t.data) {
      if (dtype == DType::f64) {
        data.append(reinterpret_cast<const char*>(&v), 8);
      } else {
        const float f = static_cast<float>(v);
        data.append(reinterpret_cast<const char*>(&f), 4);
      }
    }
    header[name] = {{"dtype", dtype == DType::f64 ? "F64" : "F32"},
                    {"shape", t.shape},
                    {"data_offsets", {begin, begin + t.data.size() * width}}};
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');
  std::string bytes(8, '\0');
  const std::uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  bytes += h;
  bytes += data;
  write_file_atomic(path, bytes);
}

}  // namespace locus::io
