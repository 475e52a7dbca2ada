// SPDX-License-Identifier: Apache-2.0
#include <tomato/registry/registryfactory.h>

#include <tomato/core/rpcconfig.h>
#include <tomato/core/rpcerror.h>
#include <tomato/registry/staticregistry_p.h>

#include <QtCore/QHash>

namespace Tomato {

class RegistryFactoryData : public QSharedData
{
public:
    QHash<QString, RegistryFactory::Creator> creators;
};

RegistryFactory::RegistryFactory() : d(new RegistryFactoryData)
{
    registerScheme(QStringLiteral("static"), [](const QString &uri, const RpcConfig &, QObject *parent) {
        return std::make_unique<StaticRegistry>(uri, parent);
    });
}

RegistryFactory::RegistryFactory(const RegistryFactory &other) = default;
RegistryFactory &RegistryFactory::operator=(const RegistryFactory &other) = default;
RegistryFactory::~RegistryFactory() = default;

void RegistryFactory::registerScheme(const QString &scheme, Creator creator)
{
    d->creators.insert(scheme.toLower(), std::move(creator));
}

QStringList RegistryFactory::schemes() const
{
    QStringList names = d->creators.keys();
    names.sort();
    return names;
}

std::unique_ptr<Registry> RegistryFactory::create(const RpcConfig &config, QObject *parent) const
{
    QString uri = config.nameServiceUri().trimmed();
    if (uri.isEmpty())
        return nullptr;
    if (!uri.contains(QLatin1String("://")))
        uri.prepend(QLatin1String("zookeeper://"));
    const QString scheme = uri.section(QLatin1String("://"), 0, 0).toLower();
    const auto it = d->creators.constFind(scheme);
    if (it == d->creators.cend())
        throw RpcError(RpcError::BadArguments,
                       QStringLiteral("name-service-uri: no registry backend for '%1://' (known: %2)%3")
                           .arg(scheme, schemes().join(QLatin1String(", ")),
                                scheme == QLatin1String("zookeeper")
                                    ? QStringLiteral("; link Tomato::ZooKeeper and call "
                                                     "Tomato::ZooKeeperRegistry::registerScheme(factory)")
                                    : QString()));
    return (*it)(uri, config, parent);
}

} // namespace Tomato
