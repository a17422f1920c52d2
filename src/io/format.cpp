#include "locus/io/format.hpp"

#include <cstdio>

namespace locus::io {

std::string format_number(double v, int significant) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*g", significant, v);
  return buf;
}

}  // namespace locus::io
