#include <tomato/client/rpcclient.h>

#include <tomato/client/channels_p.h>
#include <tomato/client/clientconnection_p.h>
#include <tomato/core/logging_p.h>
#include <tomato/transport/iothreadpool_p.h>
#include <tomato/transport/transport_p.h>

#include <QtCore/QMetaClassInfo>
#include <QtCore/QMutex>
#include <QtCore/QPointer>

namespace Tomato {

class ClientCore
{
public:
    explicit ClientCore(const RpcConfig &cfg)
        : config(cfg), transports(Transports::standard(cfg)),
          io(cfg.ioThreads(), QStringLiteral("tomato-cli-io"))
    {
    }

    ClientConnectionSettings settingsFor(const Endpoint &address) const
    {
        ClientConnectionSettings settings;
        settings.endpoint = address;
        settings.maxFrameBytes = config.maxFrameBytes();
        settings.keepAliveMs = config.clientKeepAliveMs();
        Compression::fromName(config.compression().toLatin1(), &settings.compression); // validated by RpcConfig
        settings.compressionThreshold = config.compressionThresholdBytes();
        return settings;
    }

    std::shared_ptr<ClientSession> session(const Endpoint &address, int connection)
    {
        const QString key = address.toString() + QLatin1Char('#') + QString::number(connection);
        {
            QMutexLocker lock(&mutex);
            if (auto s = sessions.value(key))
                return s;
        }
        auto s = std::make_shared<ClientSession>(settingsFor(address));
        // The connection is made on its I/O thread without holding the lock: code running
        // there (a continuation creating a stub) may need the lock meanwhile.
        QObject *context = nullptr;
        {
            QMutexLocker lock(&mutex);
            if (!closed)
                context = io.context(io.next());
        }
        if (!context) {
            s->close(); // after shutdown: a session that refuses every call
            return s;
        }
        ClientConnection *made = nullptr;
        runOnThread(context, [&] { made = new ClientConnection(s, transports, context); });
        QMutexLocker lock(&mutex);
        if (auto winner = sessions.value(key); winner || closed) {
            // Another thread made one first, or the client shut down meanwhile.
            lock.unlock();
            runOnThread(context, [made] { delete made; });
            if (winner)
                return winner;
            return s; // closed by the connection's destructor
        }
        connections.append(made);
        sessions.insert(key, s);
        return s;
    }

    void shutdown()
    {
        QList<ClientConnection *> doomed;
        {
            QMutexLocker lock(&mutex);
            closed = true;
            doomed.swap(connections);
            sessions.clear();
        }
        // Without the lock: deleting fails calls in flight, whose continuations may call in.
        for (ClientConnection *c : std::as_const(doomed))
            runOnThread(c->parent(), [c] { delete c; });
        io.stop();
    }

    std::shared_ptr<ClusterState> cluster(const QString &microServiceId)
    {
        QMutexLocker lock(&mutex);
        auto &state = clusters[microServiceId];
        if (!state) {
            state = std::make_shared<ClusterState>();
            state->microServiceId = microServiceId;
            state->where = config.stage() + QLatin1Char('/')
                + config.subscribedServicesGroup().value(microServiceId, config.group());
            state->balancer = LoadBalancer::create(QStringLiteral("random"));
        }
        return state;
    }

    const RpcConfig config;
    const std::shared_ptr<const Transports> transports;
    QHash<QString, std::shared_ptr<ClusterState>> clusters;
    IoThreadPool io;
    mutable QMutex mutex;
    QHash<QString, std::shared_ptr<ClientSession>> sessions;
    QList<ClientConnection *> connections;
    bool closed = false;
    QPointer<Registry> registry;
};

RpcClient::RpcClient(const RpcConfig &config, QObject *parent)
    : QObject(parent), d(std::make_shared<ClientCore>(config))
{
}

RpcClient::~RpcClient()
{
    d->shutdown();
}

void RpcClient::setRegistry(Registry *registry)
{
    if (d->registry)
        disconnect(d->registry, nullptr, this, nullptr);
    d->registry = registry;
    if (!registry)
        return;
    connect(registry, &Registry::instancesChanged, this, &RpcClient::updateInstances);
    registry->start();
    for (const QString &service : d->config.subscribedServices())
        subscribe(service);
}

Registry *RpcClient::registry() const
{
    return d->registry;
}

void RpcClient::subscribe(const QString &microServiceId)
{
    d->cluster(microServiceId);
    if (d->registry) {
        d->registry->subscribe(microServiceId, d->config.stage());
        updateInstances(microServiceId, d->config.stage(), d->registry->instances(microServiceId, d->config.stage()));
    }
}

void RpcClient::updateInstances(const QString &microServiceId, const QString &stage,
                                const QList<InstanceInfo> &instances)
{
    if (stage != d->config.stage())
        return;
    const QString group = d->config.subscribedServicesGroup().value(microServiceId, d->config.group());
    QList<Target> targets;
    QStringList addresses;
    for (const InstanceInfo &instance : instances) {
        // A static list announces no group; every group may use it.
        if (!instance.group().isEmpty() && instance.group() != group)
            continue;
        targets.append(Target{instance, d->session(instance.endpoint(), 0)});
        addresses << instance.endpoint().toString();
    }
    auto state = d->cluster(microServiceId);
    {
        QMutexLocker lock(&state->mutex);
        state->targets = targets;
    }
    qCInfo(lcClient).noquote() << microServiceId << "in" << stage + QLatin1Char('/') + group << "->"
                               << addresses.join(QLatin1String(", "));
    Q_EMIT instancesChanged(microServiceId, addresses);
}

QStringList RpcClient::instances(const QString &microServiceId) const
{
    auto state = d->cluster(microServiceId);
    QMutexLocker lock(&state->mutex);
    QStringList out;
    for (const Target &t : std::as_const(state->targets))
        out << t.instance.endpoint().toString();
    return out;
}

std::shared_ptr<Channel> RpcClient::clusterChannel(const QString &microServiceId)
{
    bool known = false;
    {
        QMutexLocker lock(&d->mutex);
        known = d->clusters.contains(microServiceId);
    }
    if (!known)
        subscribe(microServiceId);
    return std::make_shared<ClusterChannel>(d->cluster(microServiceId), d->config);
}

QString RpcClient::microServiceIdOf(const QMetaObject &interface)
{
    const int i = interface.indexOfClassInfo("microServiceId");
    if (i < 0)
        throw RpcError(RpcError::BadArguments,
                       QStringLiteral("%1 has no Q_CLASSINFO(\"microServiceId\", ...): the registry cannot find it")
                           .arg(QString::fromLatin1(interface.className())));
    return QString::fromUtf8(interface.classInfo(i).value());
}

Endpoint RpcClient::endpoint(const QString &address) const
{
    QString error;
    const Endpoint e = Endpoint::fromString(address, d->config.transport(), &error);
    if (!e.isValid())
        throw RpcError(RpcError::BadArguments, error);
    if (!e.hasPath() && e.port() == 0)
        throw RpcError(RpcError::BadArguments, QStringLiteral("'%1': port 0 cannot be connected to").arg(address));
    return e;
}

std::shared_ptr<Channel> RpcClient::directChannel(const Endpoint &address, int connection)
{
    return std::make_shared<DirectChannel>(d->session(address, connection), d->config);
}

const RpcConfig &RpcClient::config() const
{
    return d->config;
}

int RpcClient::callsInFlight() const
{
    QMutexLocker lock(&d->mutex);
    int n = 0;
    for (const auto &s : std::as_const(d->sessions))
        n += int(s->inFlight());
    return n;
}

} // namespace Tomato
