#pragma once
// Private to io: JSON parsed from untrusted text with its nesting bounded, so that nothing
// downstream (dump in a message, comparison, destruction) recurses deeper than
// k_max_json_depth levels. Seen with the fuzz_safetensors target (on a constructed input):
// 200000 nested arrays in a safetensors metadata value overflowed the stack in dump().

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

namespace locus::io {

inline constexpr int k_max_json_depth = 64;

// JsonT::parse(text) with a depth check on every value. Throws nlohmann::json::exception for
// malformed text and std::invalid_argument ("nested deeper than 64 levels") for deep text.
// Cost: O(text).
template <class JsonT>
JsonT parse_bounded_json(std::string_view text) {
  return JsonT::parse(text, [](int depth, typename JsonT::parse_event_t, JsonT&) {
    if (depth > k_max_json_depth)
      throw std::invalid_argument("nested deeper than " + std::to_string(k_max_json_depth) +
                                  " levels");
    return true;
  });
}

}  // namespace locus::io
