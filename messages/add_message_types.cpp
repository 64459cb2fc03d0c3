#include "messages/atoms.hpp"

#include "messages/error.hpp"

#include <caf/actor_system_config.hpp>

namespace baton {

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::baton>();
  cfg.add_error_category(caf::atom("baton"), [](uint8_t code, caf::atom_value,
                                                const caf::message& ctx) {
    std::string result = to_string(static_cast<ec>(code));
    if (ctx.match_elements<std::string>())
      result += ": " + ctx.get_as<std::string>(0);
    return result;
  });
}

} // namespace baton
