// SPDX-License-Identifier: Apache-2.0
#include <tomato/server/rpcserver.h>

#include <tomato/core/logging_p.h>
#include <tomato/core/version.h>
#include <tomato/server/callcontext.h>
#include <tomato/server/servercore_p.h>
#include <tomato/server/serverconnection_p.h>
#include <tomato/server/serverstatus_p.h>
#include <tomato/server/systemdnotify_p.h>
#include <tomato/status/httpconnection_p.h>
#include <tomato/status/nodeintrospection_p.h>
#include <tomato/status/statusport_p.h>
#include <tomato/transport/connectionlimits_p.h>
#include <tomato/transport/iothreadpool_p.h>
#include <tomato/transport/socketstream_p.h>
#include <tomato/transport/transport_p.h>

#include <QtCore/QDateTime>
#include <QtCore/QDeadlineTimer>
#include <QtCore/QPointer>
#include <QtCore/QThread>
#include <QtCore/QTimer>
#include <QtNetwork/QNetworkInterface>

#include <unistd.h>

namespace Tomato {

// ---- PublishOptions, ServerStats ---------------------------------------------------------

class PublishOptionsData : public QSharedData
{
public:
    PublishOptions::Dispatch dispatch = PublishOptions::Dispatch::BusinessPool;
    QStringList allowedClients;
};

PublishOptions::PublishOptions() : d(new PublishOptionsData) { }
PublishOptions::PublishOptions(const PublishOptions &other) = default;
PublishOptions &PublishOptions::operator=(const PublishOptions &other) = default;
PublishOptions::~PublishOptions() = default;
PublishOptions::Dispatch PublishOptions::dispatch() const { return d->dispatch; }
QStringList PublishOptions::allowedClients() const { return d->allowedClients; }

PublishOptions &PublishOptions::setDispatch(Dispatch dispatch)
{
    d->dispatch = dispatch;
    return *this;
}

PublishOptions &PublishOptions::setAllowedClients(const QStringList &commonNames)
{
    d->allowedClients = commonNames;
    return *this;
}

class ServerStatsData : public QSharedData
{
public:
    quint64 callsReceived = 0, callsSucceeded = 0, callsFailed = 0, callsCancelled = 0, callsExpired = 0,
            callsOverloaded = 0, cancelRequests = 0, protocolErrors = 0, handshakeFailures = 0,
            connectionsAccepted = 0, connectionsRefused = 0, connectionsTimedOut = 0, connectionsEvicted = 0;
    qint64 bufferedBytes = 0;
    int maxConnections = 0;
    int connections = 0;
    int callsInFlight = 0;
    int subscriptions = 0;
    quint64 events = 0, subscriptionsEnded = 0;
};

ServerStats::ServerStats() : d(new ServerStatsData) { }
ServerStats::ServerStats(const ServerStats &other) = default;
ServerStats &ServerStats::operator=(const ServerStats &other) = default;
ServerStats::~ServerStats() = default;
quint64 ServerStats::callsReceived() const { return d->callsReceived; }
quint64 ServerStats::callsSucceeded() const { return d->callsSucceeded; }
quint64 ServerStats::callsFailed() const { return d->callsFailed; }
quint64 ServerStats::callsCancelled() const { return d->callsCancelled; }
quint64 ServerStats::callsExpired() const { return d->callsExpired; }
quint64 ServerStats::callsOverloaded() const { return d->callsOverloaded; }
quint64 ServerStats::cancelRequests() const { return d->cancelRequests; }
quint64 ServerStats::protocolErrors() const { return d->protocolErrors; }
quint64 ServerStats::handshakeFailures() const { return d->handshakeFailures; }
quint64 ServerStats::connectionsAccepted() const { return d->connectionsAccepted; }
quint64 ServerStats::connectionsRefused() const { return d->connectionsRefused; }
quint64 ServerStats::connectionsTimedOut() const { return d->connectionsTimedOut; }
quint64 ServerStats::connectionsEvicted() const { return d->connectionsEvicted; }
qint64 ServerStats::bufferedBytes() const { return d->bufferedBytes; }
int ServerStats::maxConnections() const { return d->maxConnections; }
int ServerStats::connections() const { return d->connections; }
int ServerStats::callsInFlight() const { return d->callsInFlight; }
int ServerStats::subscriptions() const { return d->subscriptions; }
quint64 ServerStats::events() const { return d->events; }
quint64 ServerStats::subscriptionsEnded() const { return d->subscriptionsEnded; }

// ---- RpcServerPrivate ----------------------------------------------------------------------

class RpcServerPrivate
{
public:
    explicit RpcServerPrivate(const RpcConfig &config)
        : core(std::make_shared<ServerCore>(config)),
          transports(Transports::standard(config)),
          io(config.ioThreads(), QStringLiteral("tomato-srv-io")),
          acceptContext(io.context(io.thread(0))),
          status(std::make_shared<ServerStatusSource>(core.get()))
    {
        core->setTimerContext(acceptContext); // deadlines of asynchronous calls
        startDeadlineSweeps(config);
        startGuard(config);
        StatusSources::add(status);
    }

    ~RpcServerPrivate()
    {
        StatusSources::remove(status.get());
        status->detach();
        statusPort.reset(); // maybe the process's last holder: closed here, on the owner's thread
        runOnThread(acceptContext, [this] {
            listeners.clear();
            qDeleteAll(acceptContext->findChildren<QTimer *>(Qt::FindDirectChildrenOnly));
            delete std::exchange(refuser, nullptr);
        });
        for (int i = 0; i < io.size(); ++i) {
            QObject *context = io.context(io.thread(i));
            runOnThread(context, [context] { qDeleteAll(context->findChildren<QTimer *>(Qt::FindDirectChildrenOnly)); });
        }
    }

    // One sweep per I/O thread over its connections' deadlines (idle, first byte, frame),
    // at a quarter of the shortest: a deadline is noticed within 25 % of its length.
    void startDeadlineSweeps(const RpcConfig &cfg)
    {
        ServerConnection::Deadlines deadlines;
        deadlines.idle = std::chrono::milliseconds(cfg.serverIdleCheckMs());
        deadlines.firstByte = std::chrono::milliseconds(cfg.firstByteTimeoutMs());
        deadlines.frame = std::chrono::milliseconds(cfg.frameReadTimeoutMs());
        qint64 shortest = 0;
        for (const auto d : {deadlines.idle, deadlines.firstByte, deadlines.frame}) {
            if (d.count() > 0)
                shortest = shortest == 0 ? d.count() : qMin<qint64>(shortest, d.count());
        }
        if (shortest == 0)
            return;
        const int interval = int(qBound(qint64(10), shortest / 4, qint64(5000)));
        for (int i = 0; i < io.size(); ++i) {
            QObject *context = io.context(io.thread(i));
            runOnThread(context, [context, deadlines, interval] {
                auto *timer = new QTimer(context);
                timer->setInterval(interval);
                QObject::connect(timer, &QTimer::timeout, context, [context, deadlines] {
                    const auto now = std::chrono::steady_clock::now();
                    const auto connections = context->findChildren<ServerConnection *>(Qt::FindDirectChildrenOnly);
                    for (ServerConnection *c : connections)
                        c->checkDeadlines(now, deadlines);
                });
                timer->start();
            });
        }
    }

    // On the accept thread: the budget's eviction of the connections holding the most, once
    // one has waited max-buffered-wait-ms for room, and the listeners' descriptor exhaustion
    // counts copied for the status pages.
    void startGuard(const RpcConfig &cfg)
    {
        const int waitMs = cfg.maxBufferedWaitMs();
        runOnThread(acceptContext, [this, waitMs] {
            refuser = new Refuser(acceptContext);
            auto *timer = new QTimer(acceptContext);
            timer->setInterval(waitMs > 0 ? qBound(10, waitMs / 4, 1000) : 1000);
            QObject::connect(timer, &QTimer::timeout, acceptContext, [this] {
                core->budget->evictIfStarved(std::chrono::steady_clock::now());
                quint64 exhaustions = 0;
                for (const auto &l : listeners)
                    exhaustions += l->exhaustions();
                core->acceptExhaustions.store(exhaustions, std::memory_order_relaxed);
            });
            timer->start();
        });
    }

    // The addresses to listen on: `listen`, or transport://host:port.
    bool listenAddresses(QList<Endpoint> *out)
    {
        const RpcConfig &cfg = core->config;
        const QStringList listen = cfg.listen();
        if (listen.isEmpty()) {
            *out = {Endpoint(cfg.transport(), cfg.host(), cfg.port())};
            return true;
        }
        for (const char *key : {"host", "port", "transport"}) {
            if (cfg.isSetByUser(QLatin1String(key))) {
                errorString = QStringLiteral("both listen and %1 are set: listen names every address, "
                                             "with its port and scheme").arg(QLatin1String(key));
                return false;
            }
        }
        for (const QString &text : listen)
            out->append(Endpoint::fromString(text)); // validated by RpcConfig
        return true;
    }

    // On the accept thread: a listener whose connections go round-robin to the I/O threads.
    bool listenOn(const Endpoint &address)
    {
        const Transport *transport = transports->forEndpoint(address, &errorString);
        if (!transport)
            return false;
        // Plain text cannot reach a TLS peer.
        const Refusal refusal = address.scheme() == QLatin1String("tls") ? Refusal::Silent : Refusal::FrameOrHttp;
        auto listener = transport->createListener([this, transport, refusal](qintptr descriptor) {
            QString why;
            ConnectionSlot slot = core->limits.admit(core->limits.maxPerHost() > 0 ? peerHost(descriptor) : QString(), &why);
            if (!slot) {
                quint64 suppressed = 0;
                if (core->refusalWarning.shouldLog(&suppressed))
                    qCWarning(lcTransport).noquote()
                        << QStringLiteral("refused a connection from %1: %2%3")
                               .arg(SocketStream::describePeer(int(descriptor), transport->scheme()), why,
                                    suppressed ? QStringLiteral(" (and %1 more since the last such line)").arg(suppressed)
                                               : QString());
                refuser->refuse(descriptor, refusal, RpcError::TooManyConnections, why);
                return;
            }
            // The descriptor is closed if the I/O thread never gets to it (a server going away).
            auto owned = std::shared_ptr<qintptr>(new qintptr(descriptor), [](qintptr *fd) {
                if (*fd >= 0)
                    ::close(int(*fd));
                delete fd;
            });
            QObject *context = io.context(io.next());
            QMetaObject::invokeMethod(context, [context, owned, transport, core = core, keep = transports,
                                                slot = std::move(slot)]() mutable {
                const qintptr fd = std::exchange(*owned, -1);
                new ServerConnection(transport->accept(fd, context), core, std::move(slot), context);
            }, Qt::QueuedConnection);
        });
        if (!listener->listen(address, &errorString))
            return false;
        bound.append(listener->address());
        listeners.push_back(std::move(listener));
        return true;
    }

    void closeListeners()
    {
        runOnThread(acceptContext, [this] {
            for (const auto &l : listeners)
                l->close();
            listeners.clear();
        });
    }

    // Stop, after the drain: each connection writes the answers it still holds, then closes
    // (and deletes itself), on its own thread.
    void closeConnectionsAfterWriting()
    {
        for (int i = 0; i < io.size(); ++i) {
            QObject *context = io.context(io.thread(i));
            runOnThread(context, [context] {
                const auto connections = context->findChildren<ServerConnection *>(Qt::FindDirectChildrenOnly);
                for (ServerConnection *c : connections)
                    c->closeAfterWriting();
            });
        }
    }

    // Deletes every connection at once; what they still hold is dropped.
    void closeConnections()
    {
        for (int i = 0; i < io.size(); ++i) {
            QObject *context = io.context(io.thread(i));
            runOnThread(context, [context] {
                qDeleteAll(context->findChildren<ServerConnection *>(Qt::FindDirectChildrenOnly));
                qDeleteAll(context->findChildren<HttpConnection *>(Qt::FindDirectChildrenOnly));
            });
        }
    }

    void announce();
    std::shared_ptr<Service> makeService(QObject *implementation, const QMetaObject &interface,
                                         const PublishOptions &options) const;
    void publishIntrospection();
    void notifyReady();
    void followRegistry(RpcServer *q);
    bool openStatusPort();

    std::shared_ptr<ServerCore> core;
    std::shared_ptr<const Transports> transports;
    IoThreadPool io;
    QObject *acceptContext;
    std::vector<std::unique_ptr<Listener>> listeners; // on the accept thread
    Refuser *refuser = nullptr;                       // on the accept thread, a child of its context
    QList<Endpoint> bound;
    QString errorString;
    QPointer<Registry> registry;
    InstanceInfo instance;
    qint64 startedAt = 0; // ms since the epoch, taken by start(): the announced start time
    bool running = false;
    std::shared_ptr<ServerStatusSource> status;
    std::shared_ptr<NodeIntrospection> introspection; // null when status-enabled is false
    std::shared_ptr<StatusPort> statusPort;
    QMetaObject::Connection registryConnections[2];
    SystemdNotifier systemd;
};

namespace {
// The host others reach us at: never a wildcard address.
QString advertisedHost(const RpcConfig &cfg, const QString &listening)
{
    if (!cfg.advertiseHost().isEmpty())
        return cfg.advertiseHost();
    const QHostAddress a(listening);
    if (!a.isNull() && a != QHostAddress::AnyIPv4 && a != QHostAddress::Any && a != QHostAddress::AnyIPv6)
        return listening;
    const auto addresses = QNetworkInterface::allAddresses();
    for (const QHostAddress &candidate : addresses) {
        if (!candidate.isLoopback() && candidate.protocol() == QAbstractSocket::IPv4Protocol && !candidate.isLinkLocal())
            return candidate.toString();
    }
    qCWarning(lcServer).noquote() << "no non-loopback address found; announcing 127.0.0.1";
    return QStringLiteral("127.0.0.1");
}

} // namespace

void RpcServerPrivate::announce()
{
    const RpcConfig &cfg = core->config;
    const auto network = std::find_if(bound.cbegin(), bound.cend(), [](const Endpoint &e) { return !e.hasPath(); });
    if (network == bound.cend()) {
        qCWarning(lcServer).noquote() << "listening on Unix sockets only: registering nothing";
        return;
    }
    InstanceInfo i;
    i.setTransport(network->scheme());
    i.setHost(advertisedHost(cfg, network->host()));
    i.setPort(network->port());
    i.setMicroServiceId(cfg.microServiceId());
    i.setStage(cfg.stage());
    i.setGroup(cfg.group());
    i.setWeight(cfg.weight());
    i.setInterfaces(ServerCore::interfacesHash(core->signatures()));
    i.setStartTime(startedAt);
    i.setVersion(QStringLiteral(TOMATO_VERSION_STRING));
    instance = i;
    if (i.microServiceId().isEmpty())
        qCWarning(lcServer).noquote() << "micro-service-id is empty: registering nothing";
    else
        registry->registerInstance(i);
}

std::shared_ptr<Service> RpcServerPrivate::makeService(QObject *implementation, const QMetaObject &interface,
                                                       const PublishOptions &options) const
{
    if (!implementation)
        throw RpcError(RpcError::BadArguments, QStringLiteral("publish: null implementation"));
    if (!implementation->metaObject()->inherits(&interface))
        throw RpcError(RpcError::BadArguments,
                       QStringLiteral("publish: %1 does not inherit the interface %2")
                           .arg(QString::fromLatin1(implementation->metaObject()->className()),
                                QString::fromLatin1(interface.className())));
    auto service = std::make_shared<Service>();
    service->info = InterfaceInfo::fromMetaObject(interface); // throws on unsupported types
    service->implementation = implementation;
    service->dispatch = options.dispatch();
    // The most specific allow-list wins: the options', the service's entry in
    // tls-allowed-clients, its "*" entry.
    const auto configured = core->config.tlsAllowedClients();
    QStringList allowed = options.allowedClients();
    if (allowed.isEmpty())
        allowed = configured.value(QString::fromLatin1(service->info.serviceName),
                                   configured.value(QStringLiteral("*")));
    service->allowedClients = QSet<QString>(allowed.cbegin(), allowed.cend());
    service->metrics = std::make_unique<MethodMetrics[]>(size_t(service->info.methods.size()));
    if (!service->info.remoteSignals.isEmpty()) {
        service->hub = std::make_shared<SignalHub>(service->info.serviceName, service->info.remoteSignals,
                                                   core->config.maxEventQueueBytes(), core->signalCounters);
        service->hub->attach(implementation, interface);
    }
    return service;
}

// The built-in introspection service, and the status pages on the RPC addresses that show it.
void RpcServerPrivate::publishIntrospection()
{
    introspection = std::make_shared<NodeIntrospection>(status);
    core->statusPages = std::make_shared<StatusPages>(introspection);
    auto service = makeService(introspection.get(), Introspection::staticMetaObject, {});
    service->builtin = true;
    core->addService(std::move(service));
}

// Readiness follows the registry: registered, connected.
void RpcServerPrivate::followRegistry(RpcServer *q)
{
    for (auto &c : registryConnections)
        QObject::disconnect(c);
    if (!registry)
        return;
    auto source = status;
    registryConnections[0] = QObject::connect(registry, &Registry::registered, q, [this, source] {
        source->update([](ServerStatusSource::Life &l) { l.registered = true; });
        if (running)
            notifyReady();
    });
    registryConnections[1] = QObject::connect(registry, &Registry::connectedChanged, q, [source](bool connected) {
        source->update([connected](ServerStatusSource::Life &l) { l.registryConnected = connected; });
    });
}

// Listening, and registered when there is something to register: systemd may start what
// depends on this service.
void RpcServerPrivate::notifyReady()
{
    QStringList addresses;
    for (const Endpoint &e : std::as_const(bound))
        addresses << e.toString();
    QString status = QStringLiteral("listening on %1").arg(addresses.join(QLatin1String(", ")));
    if (!instance.microServiceId().isEmpty() && registry)
        status += QStringLiteral("; registered as %1 (%2/%3)").arg(instance.microServiceId(), instance.stage(), instance.group());
    systemd.ready(status);
}

bool RpcServerPrivate::openStatusPort()
{
    const int port = core->config.statusPort();
    if (port <= 0 || statusPort)
        return true;
    statusPort = StatusPort::open(core->config.host(), quint16(port), core->config.statusRequestTimeoutMs(),
                                  core->config.statusMaxConnections(), &errorString);
    if (!statusPort)
        return false;
    qCInfo(lcServer).noquote() << "status pages on" << QStringLiteral("http://%1:%2/tomato/status").arg(core->config.host()).arg(statusPort->port());
    return true;
}

// ---- RpcServer -----------------------------------------------------------------------------

RpcServer::RpcServer(const RpcConfig &config, QObject *parent)
    : QObject(parent), d(std::make_unique<RpcServerPrivate>(config))
{
    if (config.statusEnabled())
        d->publishIntrospection();
}

RpcServer::~RpcServer()
{
    if (d->running)
        stop();
    d->closeConnections();
    d->core->businessPool.waitForDone();
}

void RpcServer::publish(QObject *implementation, const QMetaObject &interface, const PublishOptions &options)
{
    auto service = d->makeService(implementation, interface, options);
    QStringList methods;
    for (const MethodInfo &m : service->info.methods)
        methods << QString::fromLatin1(m.name);
    qCInfo(lcServer).noquote() << "publishing" << service->info.serviceName + ':' << methods.join(QLatin1String(", "));
    d->core->addService(std::move(service));
}

bool RpcServer::unpublish(const QMetaObject &interface)
{
    const auto service = d->core->removeService(QByteArray(interface.className()));
    if (!service)
        return false;
    // A method unpublishing its own interface is one of the calls running: not waited for.
    const CallContext *current = CallContext::current();
    const int own = current && current->service() == QLatin1String(interface.className()) ? 1 : 0;
    const int drainMs = d->core->config.drainTimeoutMs();
    const QDeadlineTimer deadline(drainMs);
    while (service->running.load() > own) {
        if (deadline.hasExpired()) {
            qCWarning(lcServer).noquote() << QStringLiteral("unpublished %1 with %2 call(s) still running after "
                                                            "drain-timeout-ms (%3 ms): its object must live on until they return")
                                                 .arg(QString::fromLatin1(interface.className()))
                                                 .arg(service->running.load() - own)
                                                 .arg(drainMs);
            return false;
        }
        QThread::msleep(1);
    }
    qCInfo(lcServer).noquote() << "unpublished" << interface.className();
    return true;
}

QStringList RpcServer::services() const
{
    QStringList names;
    for (const auto &service : d->core->allServices()) {
        if (!service->builtin)
            names << QString::fromLatin1(service->info.serviceName);
    }
    return names;
}

void RpcServer::setRegistry(Registry *registry)
{
    d->registry = registry;
    d->followRegistry(this);
}

InstanceInfo RpcServer::instance() const
{
    return d->instance;
}

bool RpcServer::start()
{
    if (d->running)
        return true;
    QList<Endpoint> addresses;
    if (!d->listenAddresses(&addresses))
        return false;
    bool listening = true;
    d->bound.clear();
    runOnThread(d->acceptContext, [&] {
        for (const Endpoint &a : std::as_const(addresses)) {
            if (!(listening = d->listenOn(a)))
                break;
        }
    });
    if (!listening || !d->openStatusPort()) {
        d->closeListeners();
        d->bound.clear();
        return false;
    }
    d->core->shuttingDown.store(false);
    d->running = true;
    d->startedAt = QDateTime::currentMSecsSinceEpoch();
    if (d->registry)
        d->announce();
    d->status->update([&](ServerStatusSource::Life &l) {
        l = ServerStatusSource::Life{};
        l.addresses = d->bound;
        l.instance = d->instance;
        l.startedAt = d->startedAt;
        l.running = true;
        l.usesRegistry = d->registry && !d->instance.microServiceId().isEmpty();
        l.registryConnected = d->registry && d->registry->isConnected();
    });
    if (d->registry)
        d->registry->start();
    for (const Endpoint &a : std::as_const(d->bound))
        qCInfo(lcServer).noquote() << "listening on" << a.toString();
    // With a registry, readiness waits for the registration (Registry::registered).
    if (!d->registry || d->instance.microServiceId().isEmpty())
        d->notifyReady();
    Q_EMIT started();
    return true;
}

bool RpcServer::isRunning() const
{
    return d->running;
}

void RpcServer::stop()
{
    if (!d->running)
        return;
    // Shutdown order: leave the registry first, so clients stop choosing this server, then
    // stop accepting and refuse new calls (ShuttingDown), drain, and close once the answers
    // have gone out. drain-timeout-ms bounds the drain and the close together.
    d->status->update([](ServerStatusSource::Life &l) { l.stopping = true; });
    d->systemd.stopping(QStringLiteral("draining (up to %1 ms)").arg(d->core->config.drainTimeoutMs()));
    if (d->registry && !d->instance.microServiceId().isEmpty())
        d->registry->unregisterInstance(d->instance);
    d->closeListeners();
    d->core->beginShutdown();
    const int drainMs = d->core->config.drainTimeoutMs();
    const QDeadlineTimer deadline(drainMs);
    if (!d->core->waitForIdle(deadline))
        qCWarning(lcServer).noquote() << d->core->callsInFlight.load() << "calls still running after" << drainMs
                            << "ms; closing their connections";
    // Deleting a connection at once would drop answers a TLS socket still buffers.
    d->closeConnectionsAfterWriting();
    d->core->waitForNoConnections(deadline);
    d->closeConnections(); // what is left: peers that do not read, calls still running
    d->running = false;
    d->status->update([](ServerStatusSource::Life &l) {
        l.running = false;
        l.stopping = false;
        l.registered = false;
    });
    Q_EMIT stopped();
}

void RpcServer::setOverloaded(bool on)
{
    if (d->core->overloaded.exchange(on) != on)
        qCInfo(lcServer).noquote() << (on ? "overloaded, says the application: refusing new calls (Overloaded)"
                                          : "no longer overloaded: accepting calls");
}

bool RpcServer::isOverloaded() const
{
    return d->core->overloaded.load();
}

QList<Endpoint> RpcServer::addresses() const
{
    return d->bound;
}

quint16 RpcServer::port() const
{
    for (const Endpoint &e : std::as_const(d->bound)) {
        if (!e.hasPath())
            return e.port();
    }
    return 0;
}

QHostAddress RpcServer::address() const
{
    for (const Endpoint &e : std::as_const(d->bound)) {
        if (!e.hasPath())
            return QHostAddress(e.host());
    }
    return QHostAddress();
}

QString RpcServer::errorString() const
{
    return d->errorString;
}

ServerStats RpcServer::stats() const
{
    const ServerCore &c = *d->core;
    ServerStats s;
    ServerStatsData &o = *s.d;
    o.callsReceived = c.callsReceived.load();
    o.callsSucceeded = c.callsSucceeded.load();
    o.callsFailed = c.callsFailed.load();
    o.callsCancelled = c.callsCancelled.load();
    o.callsExpired = c.callsExpired.load();
    o.callsOverloaded = c.callsOverloaded.load();
    o.cancelRequests = c.cancelRequests.load();
    o.protocolErrors = c.protocolErrors.load();
    o.handshakeFailures = c.handshakeFailures.load();
    o.connectionsAccepted = c.connectionsAccepted.load();
    o.connectionsRefused = c.limits.refused();
    o.connectionsTimedOut = c.frameTimeouts.load() + c.firstByteTimeouts.load();
    o.connectionsEvicted = c.budget->evictions();
    o.bufferedBytes = c.budget->used();
    o.maxConnections = c.limits.maxConnections();
    o.connections = c.connections.load();
    o.callsInFlight = c.callsInFlight.load();
    o.subscriptions = c.signalCounters->subscriptions.load();
    o.events = c.signalCounters->events.load();
    o.subscriptionsEnded = c.signalCounters->overflows.load();
    return s;
}

const RpcConfig &RpcServer::config() const
{
    return d->core->config;
}

} // namespace Tomato
