// SPDX-License-Identifier: Apache-2.0
#include <tomato/registry/staticregistry_p.h>

#include <tomato/core/rpcerror.h>

#include <QtCore/QTimer>

namespace Tomato {

StaticRegistry::StaticRegistry(const QString &uri, QObject *parent)
    : Registry(parent)
{
    const QString prefix = QStringLiteral("static://");
    if (!uri.startsWith(prefix, Qt::CaseInsensitive))
        throw RpcError(RpcError::BadArguments, QStringLiteral("'%1' is not a static:// list").arg(uri));
    const QStringList items = uri.mid(prefix.size()).split(QLatin1Char(','), Qt::SkipEmptyParts);
    if (items.isEmpty())
        throw RpcError(RpcError::BadArguments, QStringLiteral("'%1' lists no instance").arg(uri));
    for (const QString &item : items) {
        QString error;
        const Endpoint address = Endpoint::fromString(item.trimmed(), QStringLiteral("tcp"), &error);
        if (address.hasPath())
            error = QStringLiteral("'%1': a Unix socket is reached with a direct stub, not through a registry").arg(item);
        else if (address.isValid() && address.port() == 0)
            error = QStringLiteral("'%1' has port 0").arg(item);
        if (!error.isEmpty())
            throw RpcError(RpcError::BadArguments, QStringLiteral("name-service-uri %1: %2").arg(uri, error));
        m_addresses.append(address);
    }
}

void StaticRegistry::start()
{
    Q_EMIT connectedChanged(true);
    Q_EMIT registered();
}

void StaticRegistry::stop() { }

void StaticRegistry::registerInstance(const InstanceInfo &) { }

void StaticRegistry::unregisterInstance(const InstanceInfo &) { }

void StaticRegistry::subscribe(const QString &microServiceId, const QString &stage)
{
    // Asynchronously, like every registry, so subscribers can connect first.
    QTimer::singleShot(0, this, [this, microServiceId, stage] {
        Q_EMIT instancesChanged(microServiceId, stage, instances(microServiceId, stage));
    });
}

QList<InstanceInfo> StaticRegistry::instances(const QString &microServiceId, const QString &stage) const
{
    QList<InstanceInfo> list;
    for (const Endpoint &address : m_addresses) {
        InstanceInfo info;
        info.setTransport(address.scheme());
        info.setHost(address.host());
        info.setPort(address.port());
        info.setMicroServiceId(microServiceId);
        info.setStage(stage);
        list.append(info);
    }
    return list;
}

} // namespace Tomato
