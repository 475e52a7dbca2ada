#include <tomato/registry/staticregistry.h>

#include <tomato/client/rpcclient.h>
#include <tomato/core/rpcerror.h>

#include <QtCore/QTimer>

namespace Tomato {

StaticRegistry::StaticRegistry(const QString &uri, QObject *parent)
    : Registry(parent)
{
    const QString prefix = QStringLiteral("static://");
    if (!uri.startsWith(prefix))
        throw RpcError(RpcError::BadArguments, QStringLiteral("'%1' is not a static:// list").arg(uri));
    const QStringList items = uri.mid(prefix.size()).split(QLatin1Char(','), Qt::SkipEmptyParts);
    if (items.isEmpty())
        throw RpcError(RpcError::BadArguments, QStringLiteral("'%1' lists no instance").arg(uri));
    for (const QString &item : items)
        m_addresses.append(RpcClient::splitHostPort(item.trimmed())); // throws when malformed
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
    for (const auto &[host, port] : m_addresses) {
        InstanceInfo info;
        info.host = host;
        info.port = port;
        info.microServiceId = microServiceId;
        info.stage = stage;
        list.append(info);
    }
    return list;
}

} // namespace Tomato
