#include <tomato/registry/zookeeper/registryfactory.h>

#include <tomato/registry/staticregistry.h>
#include <tomato/registry/zookeeper/zookeeperregistry.h>

namespace Tomato {

std::unique_ptr<Registry> createRegistry(const RpcConfig &config, QObject *parent)
{
    const QString uri = config.nameServiceUri().trimmed();
    if (uri.isEmpty())
        return nullptr;
    if (uri.startsWith(QLatin1String("static://")))
        return std::make_unique<StaticRegistry>(uri, parent);
    ZooKeeperRegistry::Options options;
    options.hosts = uri;
    options.sessionTimeoutMs = config.registrySessionTimeoutMs();
    options.emptyProtection = config.emptyProtection();
    return std::make_unique<ZooKeeperRegistry>(options, parent);
}

} // namespace Tomato
