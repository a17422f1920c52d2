#pragma once
// Numbers in messages and summaries: one formatting rule for the whole library.

#include <string>

namespace locus::io {

// v with `significant` significant digits, printf's %g ("3.83", "1.04e-28", "inf", "nan").
// significant = 17 round-trips every double. Cost: one snprintf.
std::string format_number(double v, int significant = 3);

}  // namespace locus::io
