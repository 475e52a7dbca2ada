// SPDX-License-Identifier: Apache-2.0
#include <tomato/client/rpcclient.h>

#include <tomato/client/channels_p.h>
#include <tomato/client/clientconnection_p.h>
#include <tomato/client/clientstatus_p.h>
#include <tomato/core/logging_p.h>
#include <tomato/status/statusport_p.h>
#include <tomato/transport/iothreadpool_p.h>
#include <tomato/transport/transport_p.h>

#include <tomato/core/version.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QMetaClassInfo>
#include <QtCore/QThread>
#include <QtNetwork/QHostInfo>

#include <algorithm>
#include <QtCore/QMutex>
#include <QtCore/QPointer>

namespace Tomato {

class ClientCore
{
public:
    explicit ClientCore(const RpcConfig &cfg)
        : config(cfg), transports(Transports::standard(cfg)),
          io(cfg.ioThreads(), QStringLiteral("tomato-cli-io")),
          invokerSettings(std::make_shared<InvokerSettings>())
    {
        invokerSettings->circuit = CircuitBreaker::Settings::fromConfig(cfg);
        invokerSettings->backoffMin = std::chrono::milliseconds(cfg.reconnectBackoffMinMs());
        invokerSettings->backoffMax = std::chrono::milliseconds(std::max(cfg.reconnectBackoffMinMs(), cfg.reconnectBackoffMaxMs()));
        invokerSettings->warmup = std::chrono::seconds(cfg.warmupSeconds());
    }

    ClientConnectionSettings settingsFor(const Endpoint &address) const
    {
        ClientConnectionSettings settings;
        settings.endpoint = address;
        settings.maxFrameBytes = config.maxFrameBytes();
        settings.keepAliveMs = config.clientKeepAliveMs();
        settings.connectTimeoutMs = config.connectTimeoutMs();
        Compression::fromName(config.compression().toLatin1(), &settings.compression); // validated by RpcConfig
        settings.compressionThreshold = config.compressionThresholdBytes();
        return settings;
    }

    // The I/O half of `s`, made on the next I/O thread without holding the lock (code running
    // there, a continuation creating a stub, may need it meanwhile); not yet listed in
    // `connections`. Null after shutdown, with `s` closed: it refuses every call.
    ClientConnection *makeConnection(const std::shared_ptr<ClientSession> &s)
    {
        QObject *context = nullptr;
        {
            QMutexLocker lock(&mutex);
            if (!closed)
                context = io.context(io.next());
        }
        if (!context) {
            s->close();
            return nullptr;
        }
        ClientConnection *made = nullptr;
        runOnThread(context, [&] { made = new ClientConnection(s, transports, context); });
        return made;
    }

    // A connection made but not wanted after all; its destructor closes its session.
    static void discard(ClientConnection *c)
    {
        runOnThread(c->parent(), [c] { delete c; });
    }

    // The connection direct stubs of `address` share (one per `connection` index).
    std::shared_ptr<ClientSession> session(const Endpoint &address, int connection)
    {
        const QString key = address.toString() + QLatin1Char('#') + QString::number(connection);
        {
            QMutexLocker lock(&mutex);
            if (auto s = sessions.value(key))
                return s;
        }
        auto s = std::make_shared<ClientSession>(settingsFor(address));
        ClientConnection *made = makeConnection(s);
        if (!made)
            return s;
        QMutexLocker lock(&mutex);
        if (auto winner = sessions.value(key); winner || closed) {
            // Another thread made one first, or the client shut down meanwhile.
            lock.unlock();
            discard(made);
            return winner ? winner : s;
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
            discard(c);
        io.stop();
    }

    // The state of a service's cluster, made on first use. Throws RpcError(BadArguments) for
    // an unknown load-balance policy.
    std::shared_ptr<ClusterState> cluster(const QString &microServiceId)
    {
        QMutexLocker lock(&mutex);
        auto &state = clusters[microServiceId];
        if (!state) {
            const QString policy = config.loadBalanceByService().value(microServiceId, config.loadBalance());
            auto balancer = LoadBalancer::create(policy);
            if (!balancer) {
                clusters.remove(microServiceId);
                throw RpcError(RpcError::BadArguments,
                               QStringLiteral("load-balance-by-service: unknown policy '%1' for %2 (known: %3)")
                                   .arg(policy, microServiceId, LoadBalancer::names().join(QLatin1String(", "))));
            }
            const QString where = config.stage() + QLatin1Char('/')
                + config.subscribedServicesGroup().value(microServiceId, config.group());
            state = std::make_shared<ClusterState>(microServiceId, where, std::move(balancer), config);
        }
        return state;
    }

    // The connections of one invoker: new ones, never shared with direct stubs or with an
    // earlier invoker of the same address (a restarted instance reuses nothing stale).
    std::vector<std::shared_ptr<ClientSession>> newSessions(const Endpoint &address)
    {
        std::vector<std::shared_ptr<ClientSession>> out;
        for (int i = 0; i < config.connectionsPerInstance(); ++i) {
            auto s = std::make_shared<ClientSession>(settingsFor(address));
            if (ClientConnection *made = makeConnection(s)) {
                QMutexLocker lock(&mutex);
                if (closed) {
                    lock.unlock();
                    discard(made);
                } else {
                    connections.append(made);
                }
            }
            out.push_back(std::move(s));
        }
        return out;
    }

    // An invoker is gone and its last call ended: close its connections on their threads,
    // without waiting (this may run on any thread, an I/O thread included).
    void release(const std::vector<std::shared_ptr<ClientSession>> &gone)
    {
        QMutexLocker lock(&mutex);
        for (qsizetype i = connections.size() - 1; i >= 0; --i) {
            ClientConnection *c = connections.at(i);
            if (std::find(gone.begin(), gone.end(), c->session()) != gone.end()) {
                connections.removeAt(i);
                // Thread-safe, and run only by the connection's own event loop at its top level
                // (not in a nested loop a continuation might spin while the connection is on
                // the stack), or when its thread ends; posted under the lock, so a shutdown
                // cannot delete it in between.
                c->deleteLater();
            }
        }
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
    QList<ConsumerInfo> consumers; // registered with `registry`
    const int serial = nextSerial(); // this client among the process's, for its consumer nodes
    static int nextSerial()
    {
        static std::atomic<int> last{0};
        return ++last;
    }
    std::shared_ptr<InvokerSettings> invokerSettings;

    // How calls to each instance have gone: of one service, or of all with an empty id.
    QList<InvokerStats> invokerStats(const QString &microServiceId) const
    {
        QList<std::shared_ptr<ClusterState>> states;
        {
            QMutexLocker lock(&mutex);
            if (microServiceId.isEmpty()) {
                for (const auto &s : std::as_const(clusters))
                    states.append(s);
            } else if (auto s = clusters.value(microServiceId)) {
                states.append(s);
            }
        }
        QList<InvokerStats> out;
        for (const auto &state : std::as_const(states)) {
            for (const auto &invoker : *state->invokers())
                out.append(invoker->stats());
        }
        return out;
    }

    // This client on the status pages (docs/STATUS.md), and on its own status port if it has one.
    void reportStatus(const std::shared_ptr<ClientCore> &self)
    {
        std::weak_ptr<ClientCore> weak = self;
        status = std::make_shared<ClientStatusSource>(
            [weak](const QString &id) {
                const auto core = weak.lock();
                return core ? core->invokerStats(id) : QList<InvokerStats>();
            },
            serial, config.stage(), config.group());
        StatusSources::add(status);
        if (config.statusPort() <= 0)
            return;
        QString error;
        statusPort = StatusPort::open(config.host(), quint16(config.statusPort()), config.statusRequestTimeoutMs(),
                                      config.statusMaxConnections(), &error);
        if (!statusPort)
            qCWarning(lcClient).noquote() << "no status pages:" << error;
    }
    std::shared_ptr<ClientStatusSource> status;
    std::shared_ptr<StatusPort> statusPort;
};

RpcClient::RpcClient(const RpcConfig &config, QObject *parent)
    : QObject(parent), d(std::make_shared<ClientCore>(config))
{
    d->reportStatus(d);
}

RpcClient::~RpcClient()
{
    setRegistry(nullptr); // our consumer nodes go
    // Off the status pages before anything goes, and the status port (maybe the process's
    // last holder of it) closed here, on the owner's thread.
    StatusSources::remove(d->status.get());
    d->status->detach();
    d->statusPort.reset();
    d->shutdown();
}

void RpcClient::setRegistry(Registry *registry)
{
    if (d->registry) {
        disconnect(d->registry, nullptr, this, nullptr);
        for (const ConsumerInfo &c : std::as_const(d->consumers))
            d->registry->unregisterConsumer(c);
    }
    d->consumers.clear();
    d->registry = registry;
    d->status->setRegistry(registry, registry && registry->isConnected());
    if (!registry)
        return;
    connect(registry, &Registry::connectedChanged, this, [this](bool connected) { d->status->setRegistry(true, connected); });
    connect(registry, &Registry::instancesChanged, this, &RpcClient::updateInstances);
    connect(registry, &Registry::overridesChanged, this, &RpcClient::updateOverrides);
    registry->start();
    for (const QString &service : d->config.subscribedServices())
        subscribe(service);
    QStringList known;
    {
        QMutexLocker lock(&d->mutex);
        known = d->clusters.keys();
    }
    for (const QString &service : std::as_const(known))
        subscribe(service);
}

Registry *RpcClient::registry() const
{
    return d->registry;
}

void RpcClient::subscribe(const QString &microServiceId)
{
    d->cluster(microServiceId);
    if (QThread::currentThread() != thread()) {
        // A stub made on another thread (a continuation on an I/O thread, a worker): the
        // registry, the consumer list and the invoker lists are the client thread's.
        QMetaObject::invokeMethod(this, [this, microServiceId] { subscribe(microServiceId); }, Qt::QueuedConnection);
        return;
    }
    if (!d->registry)
        return;
    const QString stage = d->config.stage();
    d->registry->subscribe(microServiceId, stage);
    const bool announced = std::any_of(d->consumers.cbegin(), d->consumers.cend(), [&](const ConsumerInfo &c) {
        return c.microServiceId == microServiceId;
    });
    if (!announced) {
        // Who calls whom, for the dashboard (docs/REGISTRY.md#consumers).
        ConsumerInfo consumer;
        consumer.microServiceId = microServiceId;
        consumer.stage = stage;
        consumer.group = d->config.subscribedServicesGroup().value(microServiceId, d->config.group());
        consumer.host = QHostInfo::localHostName();
        consumer.pid = QCoreApplication::applicationPid();
        consumer.version = QStringLiteral(TOMATO_VERSION_STRING);
        consumer.application = QCoreApplication::applicationName();
        consumer.client = d->serial;
        if (d->statusPort) // where a dashboard reads this client's invokers (docs/STATUS.md)
            consumer.statusAddress = QStringLiteral("%1:%2")
                                         .arg(d->config.advertiseHost().isEmpty() ? consumer.host : d->config.advertiseHost())
                                         .arg(d->statusPort->port());
        d->consumers.append(consumer);
        d->registry->registerConsumer(consumer);
    }
    updateInstances(microServiceId, stage, d->registry->instances(microServiceId, stage));
    updateOverrides(microServiceId, stage, d->registry->overrides(microServiceId, stage));
}

// The registry's list for a service replaces the cluster's invokers: an instance still listed
// keeps its invoker (connections, breaker, statistics); a new one (a restarted instance has a
// new start time, so a new identity) gets a new invoker; one no longer listed takes no new
// call and closes when its calls have ended.
void RpcClient::updateInstances(const QString &microServiceId, const QString &stage,
                                const QList<InstanceInfo> &instances)
{
    if (stage != d->config.stage())
        return;
    const QString group = d->config.subscribedServicesGroup().value(microServiceId, d->config.group());
    auto state = d->cluster(microServiceId);
    const auto before = state->invokers();
    auto after = std::make_shared<ClusterState::Invokers>();
    QStringList addresses;
    for (const InstanceInfo &instance : instances) {
        // A static list announces no group; every group may use it.
        if (!instance.group().isEmpty() && instance.group() != group)
            continue;
        const QString uri = instance.toUri();
        auto same = std::find_if(before->begin(), before->end(),
                                 [&](const std::shared_ptr<Invoker> &i) { return i->instance().toUri() == uri; });
        if (same != before->end()) {
            after->push_back(*same);
        } else {
            std::weak_ptr<ClientCore> core = d;
            after->push_back(std::make_shared<Invoker>(
                instance, d->newSessions(instance.endpoint()), d->invokerSettings,
                [core](const std::vector<std::shared_ptr<ClientSession>> &sessions) {
                    if (auto c = core.lock())
                        c->release(sessions);
                }));
        }
        addresses << instance.endpoint().toString();
    }
    state->setInvokers(std::move(after));
    qCInfo(lcClient).noquote() << microServiceId << "in" << stage + QLatin1Char('/') + group << "->"
                               << addresses.join(QLatin1String(", "));
    Q_EMIT instancesChanged(microServiceId, addresses);
}

void RpcClient::updateOverrides(const QString &microServiceId, const QString &stage, const InstanceOverrides &overrides)
{
    if (stage != d->config.stage())
        return;
    auto state = d->cluster(microServiceId);
    if (state->overrides() == overrides)
        return;
    state->setOverrides(overrides);
    QStringList described;
    for (auto it = overrides.cbegin(); it != overrides.cend(); ++it)
        described << it.key() + QLatin1Char('=') + QString::fromUtf8(it.value().toJson());
    qCInfo(lcClient).noquote() << microServiceId << "overrides:" << (described.isEmpty() ? QStringLiteral("none") : described.join(QLatin1String(", ")));
    Q_EMIT overridesChanged(microServiceId);
}

QStringList RpcClient::instances(const QString &microServiceId) const
{
    auto state = d->cluster(microServiceId);
    QStringList out;
    for (const auto &invoker : *state->invokers())
        out << invoker->instance().endpoint().toString();
    return out;
}

QList<InvokerStats> RpcClient::invokers(const QString &microServiceId) const
{
    return d->invokerStats(microServiceId);
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
    for (const ClientConnection *c : std::as_const(d->connections)) {
        if (!d->sessions.key(c->session()).isEmpty())
            continue; // counted above
        n += int(c->session()->inFlight());
    }
    return n;
}

} // namespace Tomato
