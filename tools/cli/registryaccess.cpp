// SPDX-License-Identifier: Apache-2.0
#include "registryaccess.h"

#include <tomato/registry/registryfactory.h>

#include <QtCore/QRegularExpression>

namespace Cli {

namespace {

QString requireUri(const GlobalOptions &options)
{
    if (options.nameServiceUri.isEmpty())
        throw Failure(UsageError, QStringLiteral("no registry: give --name-service-uri or set TOMATO_NAME_SERVICE_URI"));
    return options.nameServiceUri;
}

} // namespace

QString registryName(const QString &uri)
{
    static const QRegularExpression credentials(QStringLiteral("^([A-Za-z][A-Za-z0-9+.-]*://)?[^@/]*@"));
    return QString(uri).replace(credentials, QStringLiteral("\\1"));
}

std::unique_ptr<Tomato::Registry> openRegistry(const GlobalOptions &options)
{
    Tomato::RpcConfig config = options.config;
    config.setNameServiceUri(requireUri(options));
    try {
        Tomato::RegistryFactory registries;
        Tomato::ZooKeeperRegistry::registerScheme(registries);
        return registries.create(config);
    } catch (const Tomato::RpcError &e) {
        throw Failure(UsageError, QStringLiteral("--name-service-uri: %1").arg(e.message()));
    }
}

std::unique_ptr<Tomato::ZooKeeperRegistry> openZooKeeper(const GlobalOptions &options)
{
    const QString uri = requireUri(options);
    if (uri.contains(QLatin1String("://")) && !uri.startsWith(QLatin1String("zookeeper://"), Qt::CaseInsensitive))
        throw Failure(UsageError, QStringLiteral("--name-service-uri: this command reads ZooKeeper "
                                                 "(zookeeper://host:port or host:port), not %1")
                                      .arg(registryName(uri)));
    Tomato::RpcConfig config = options.config;
    config.setEmptyProtection(false);
    std::unique_ptr<Tomato::ZooKeeperRegistry> registry;
    try {
        registry = std::make_unique<Tomato::ZooKeeperRegistry>(uri, config);
    } catch (const Tomato::RpcError &e) {
        throw Failure(UsageError, QStringLiteral("--name-service-uri: %1").arg(e.message()));
    }
    registry->start();
    return registry;
}

QList<Tomato::RegistryServiceEntry> readTree(Tomato::ZooKeeperRegistry &registry, const GlobalOptions &options)
{
    const QString what = QStringLiteral("reading the registry at %1").arg(registryName(options.nameServiceUri));
    try {
        return await(registry.browse(), options.deadline, what);
    } catch (const Failure &) {
        if (registry.isConnected())
            throw;
        throw Failure(Unreachable, QStringLiteral("cannot reach the registry at %1 within %2 ms")
                                       .arg(registryName(options.nameServiceUri))
                                       .arg(options.timeoutMs));
    }
}

QString overrideText(const std::optional<Tomato::InstanceOverride> &value)
{
    if (!value)
        return QStringLiteral("-");
    QStringList parts;
    if (value->weight)
        parts << QStringLiteral("weight %1").arg(*value->weight);
    if (value->disabled)
        parts << QStringLiteral("disabled");
    return parts.isEmpty() ? QStringLiteral("-") : parts.join(QLatin1String(", "));
}

} // namespace Cli
