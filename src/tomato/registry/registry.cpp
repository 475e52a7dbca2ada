#include <tomato/registry/registry.h>

namespace Tomato {

Registry::~Registry() = default;

} // namespace Tomato
