#include <tomato/registry/registry.h>

namespace Tomato {

Registry::~Registry() = default;

void Registry::registerConsumer(const ConsumerInfo &) { }
void Registry::unregisterConsumer(const ConsumerInfo &) { }

InstanceOverrides Registry::overrides(const QString &, const QString &) const
{
    return {};
}

// PLACEHOLDER: InstanceOverride::fromJson / toJson are being written.

} // namespace Tomato
