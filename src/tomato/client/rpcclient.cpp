#include <tomato/client/rpcclient.h>

#include <tomato/transport/clientconnection_p.h>
#include <tomato/transport/iothreadpool_p.h>
#include <tomato/transport/outbox_p.h>

#include <tomato/core/logging_p.h>

#include <QtCore/QMutex>
#include <QtCore/QMetaClassInfo>
#include <QtCore/QRandomGenerator>

namespace Tomato {

// The instances a cluster channel chooses from; replaced as a whole when the registry
// reports a change. Thread-safe.
struct ClusterState
{
    QString microServiceId;
    mutable QMutex mutex;
    QList<std::shared_ptr<ClientSession>> targets;
    QString where; // "stage/group", for errors
};

class ClientCore
{
public:
    explicit ClientCore(const RpcConfig &cfg)
        : config(cfg), io(cfg.ioThreads(), QStringLiteral("tomato-client-io-"))
    {
    }

    std::shared_ptr<ClientSession> session(const QString &host, quint16 port, int connection)
    {
        const QString key = host + QLatin1Char(':') + QString::number(port) + QLatin1Char('#')
            + QString::number(connection);
        {
            QMutexLocker lock(&mutex);
            if (auto s = sessions.value(key))
                return s;
        }
        ClientConnectionSettings settings;
        settings.host = host;
        settings.port = port;
        settings.maxFrameBytes = config.maxFrameBytes();
        settings.keepAliveMs = config.clientKeepAliveMs();
        settings.compression = config.compression() == QLatin1String("none")
            ? QByteArray()
            : config.compression().toLatin1();
        settings.compressionThreshold = config.compressionThresholdBytes();
        auto s = std::make_shared<ClientSession>(settings);
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
        runOnThread(context, [&] { made = new ClientConnection(s, context); });
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
        }
        return state;
    }

    const RpcConfig config;
    QHash<QString, std::shared_ptr<ClusterState>> clusters;
    IoThreadPool io;
    mutable QMutex mutex;
    QHash<QString, std::shared_ptr<ClientSession>> sessions;
    QList<ClientConnection *> connections;
    bool closed = false;
};

namespace {
// Client-wide defaults every channel reports to its stubs.
class ConfiguredChannel : public Channel
{
public:
    explicit ConfiguredChannel(const RpcConfig &config)
        : m_timeout(config.timeoutMs()),
          m_serialization(config.serialization()),
          m_compression(config.compression() == QLatin1String("none") ? QByteArray()
                                                                      : config.compression().toLatin1()),
          m_compressionThreshold(config.compressionThresholdBytes())
    {
    }
    std::chrono::milliseconds defaultTimeout() const override { return m_timeout; }
    Serialization defaultSerialization() const override { return m_serialization; }
    QByteArray compression() const override { return m_compression; }
    int compressionThreshold() const override { return m_compressionThreshold; }

private:
    std::chrono::milliseconds m_timeout;
    Serialization m_serialization;
    QByteArray m_compression;
    int m_compressionThreshold;
};

// A channel to one instance over its shared connection.
class DirectChannel final : public ConfiguredChannel
{
public:
    DirectChannel(std::shared_ptr<ClientSession> session, const RpcConfig &config)
        : ConfiguredChannel(config), m_session(std::move(session))
    {
    }
    void send(std::unique_ptr<OutgoingCall> call) override { m_session->send(std::move(call)); }
    QString describe() const override
    {
        return m_session->settings.host + QLatin1Char(':') + QString::number(m_session->settings.port);
    }

private:
    std::shared_ptr<ClientSession> m_session;
};

// A channel to the instances of a service that the registry lists for the client's stage
// and group; each call goes to one of them, picked at random.
class ClusterChannel final : public ConfiguredChannel
{
public:
    ClusterChannel(std::shared_ptr<ClusterState> state, const RpcConfig &config)
        : ConfiguredChannel(config), m_state(std::move(state))
    {
    }
    void send(std::unique_ptr<OutgoingCall> call) override
    {
        std::shared_ptr<ClientSession> target;
        {
            QMutexLocker lock(&m_state->mutex);
            if (!m_state->targets.isEmpty())
                target = m_state->targets.at(
                    int(QRandomGenerator::global()->bounded(quint32(m_state->targets.size()))));
        }
        if (!target) {
            call->pending->fail(RpcError(RpcError::NoProvider,
                                         QStringLiteral("no provider of %1 in %2 is known")
                                             .arg(m_state->microServiceId, m_state->where)));
            return;
        }
        target->send(std::move(call));
    }
    QString describe() const override
    {
        return QStringLiteral("%1 (%2)").arg(m_state->microServiceId, m_state->where);
    }

private:
    std::shared_ptr<ClusterState> m_state;
};
} // namespace

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
    if (m_registry)
        disconnect(m_registry, nullptr, this, nullptr);
    m_registry = registry;
    if (!registry)
        return;
    connect(registry, &Registry::instancesChanged, this, &RpcClient::updateInstances);
    registry->start();
    for (const QString &service : d->config.subscribedServices())
        subscribe(service);
}

Registry *RpcClient::registry() const
{
    return m_registry;
}

void RpcClient::subscribe(const QString &microServiceId)
{
    d->cluster(microServiceId);
    if (m_registry) {
        m_registry->subscribe(microServiceId, d->config.stage());
        updateInstances(microServiceId, d->config.stage(),
                        m_registry->instances(microServiceId, d->config.stage()));
    }
}

void RpcClient::updateInstances(const QString &microServiceId, const QString &stage,
                                const QList<InstanceInfo> &instances)
{
    if (stage != d->config.stage())
        return;
    const QString group = d->config.subscribedServicesGroup().value(microServiceId, d->config.group());
    QList<std::shared_ptr<ClientSession>> targets;
    QStringList addresses;
    for (const InstanceInfo &instance : instances) {
        // A static list announces no group; every group may use it.
        if (!instance.group.isEmpty() && instance.group != group)
            continue;
        targets.append(d->session(instance.host, instance.port, 0));
        addresses << instance.address();
    }
    auto state = d->cluster(microServiceId);
    {
        QMutexLocker lock(&state->mutex);
        state->targets = targets;
    }
    qCInfo(lcClient) << microServiceId << "in" << stage + QLatin1Char('/') + group << "->" << addresses;
    Q_EMIT instancesChanged(microServiceId, addresses);
}

QStringList RpcClient::instances(const QString &microServiceId) const
{
    auto state = d->cluster(microServiceId);
    QMutexLocker lock(&state->mutex);
    QStringList out;
    for (const auto &s : std::as_const(state->targets))
        out << s->settings.host + QLatin1Char(':') + QString::number(s->settings.port);
    return out;
}

std::shared_ptr<Channel> RpcClient::clusterChannel(const QString &microServiceId)
{
    if (!d->clusters.contains(microServiceId))
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

std::shared_ptr<Channel> RpcClient::directChannel(const QString &host, quint16 port, int connection)
{
    return std::make_shared<DirectChannel>(d->session(host, port, connection), d->config);
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

std::pair<QString, quint16> RpcClient::splitHostPort(const QString &hostAndPort)
{
    const qsizetype colon = hostAndPort.lastIndexOf(QLatin1Char(':'));
    bool ok = false;
    const uint port = colon > 0 ? hostAndPort.mid(colon + 1).toUInt(&ok) : 0;
    if (!ok || port == 0 || port > 65535)
        throw RpcError(RpcError::BadArguments,
                       QStringLiteral("'%1' is not of the form host:port").arg(hostAndPort));
    QString host = hostAndPort.left(colon);
    if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']')))
        host = host.mid(1, host.size() - 2);
    return {host, quint16(port)};
}

} // namespace Tomato
