#include <tomato/server/rpcserver.h>

#include <tomato/core/logging_p.h>
#include <tomato/server/servercore_p.h>
#include <tomato/transport/iothreadpool_p.h>
#include <tomato/transport/serverconnection_p.h>

#include <QtCore/QTimer>
#include <QtCore/QCryptographicHash>
#include <QtCore/QPointer>
#include <QtNetwork/QNetworkInterface>
#include <QtNetwork/QTcpServer>

namespace Tomato {

namespace {
// Accepts on the first I/O thread (so a busy or blocked owner thread never stalls accepting)
// and hands each descriptor round-robin to an I/O thread, where the socket object is created.
class Acceptor : public QTcpServer
{
public:
    Acceptor(IoThreadPool *io, std::shared_ptr<ServerCore> core)
        : m_io(io), m_core(std::move(core))
    {
    }

protected:
    void incomingConnection(qintptr descriptor) override
    {
        QObject *context = m_io->context(m_io->next());
        QMetaObject::invokeMethod(context, [context, descriptor, core = m_core] {
            new ServerConnection(descriptor, core, context);
        }, Qt::QueuedConnection);
    }

private:
    IoThreadPool *m_io;
    std::shared_ptr<ServerCore> m_core;
};
} // namespace

class RpcServerPrivate
{
public:
    explicit RpcServerPrivate(const RpcConfig &config)
        : core(std::make_shared<ServerCore>(config)),
          io(config.ioThreads(), QStringLiteral("tomato-server-io-")),
          acceptContext(io.context(io.thread(0)))
    {
        runOnThread(acceptContext, [this] { acceptor = new Acceptor(&io, core); });
        const int idleMs = config.serverIdleCheckMs();
        if (idleMs > 0) {
            // One idle sweep per I/O thread over its connections.
            for (int i = 0; i < io.size(); ++i) {
                QObject *context = io.context(io.thread(i));
                runOnThread(context, [context, idleMs] {
                    auto *timer = new QTimer(context);
                    timer->setInterval(qBound(10, idleMs / 4, 5000));
                    QObject::connect(timer, &QTimer::timeout, context, [context, idleMs] {
                        const auto now = std::chrono::steady_clock::now();
                        const auto connections =
                            context->findChildren<ServerConnection *>(Qt::FindDirectChildrenOnly);
                        for (ServerConnection *c : connections)
                            c->closeIfIdle(now, std::chrono::milliseconds(idleMs));
                    });
                    timer->start();
                });
            }
        }
    }

    ~RpcServerPrivate()
    {
        runOnThread(acceptContext, [this] { delete acceptor; });
        for (int i = 0; i < io.size(); ++i) {
            QObject *context = io.context(io.thread(i));
            runOnThread(context, [context] {
                qDeleteAll(context->findChildren<QTimer *>(Qt::FindDirectChildrenOnly));
            });
        }
    }

    void closeConnections()
    {
        for (int i = 0; i < io.size(); ++i) {
            QObject *context = io.context(io.thread(i));
            runOnThread(context, [context] {
                const auto children = context->findChildren<ServerConnection *>(Qt::FindDirectChildrenOnly);
                qDeleteAll(children);
            });
        }
    }

    std::shared_ptr<ServerCore> core;
    IoThreadPool io;
    QObject *acceptContext;
    Acceptor *acceptor = nullptr; // lives on the first I/O thread
    QString errorString;
    QPointer<Registry> registry;
    InstanceInfo instance;
    quint16 port = 0;
    QHostAddress address;
    bool running = false;
};

RpcServer::RpcServer(const RpcConfig &config, QObject *parent)
    : QObject(parent), d(std::make_unique<RpcServerPrivate>(config))
{
}

RpcServer::~RpcServer()
{
    if (d->running)
        stop();
    d->closeConnections();
    d->core->businessPool.waitForDone();
}

void RpcServer::publish(QObject *implementation, const QMetaObject &interface, PublishOptions options)
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
    service->options = options;
    qCInfo(lcServer) << "publishing" << service->info.serviceName << "with"
                     << service->info.methods.size() << "methods";
    d->core->addService(std::move(service));
}

void RpcServer::unpublish(const QMetaObject &interface)
{
    d->core->removeService(QByteArray(interface.className()));
}

QStringList RpcServer::services() const
{
    return d->core->serviceNames();
}

void RpcServer::setRegistry(Registry *registry)
{
    d->registry = registry;
}

InstanceInfo RpcServer::instance() const
{
    return d->instance;
}

namespace {
// The host others reach us at: never a wildcard address.
QString advertisedHost(const RpcConfig &cfg, const QHostAddress &listening)
{
    if (!cfg.advertiseHost().isEmpty())
        return cfg.advertiseHost();
    if (!listening.isNull() && listening != QHostAddress::AnyIPv4 && listening != QHostAddress::Any
        && listening != QHostAddress::AnyIPv6)
        return listening.toString();
    const auto addresses = QNetworkInterface::allAddresses();
    for (const QHostAddress &a : addresses) {
        if (!a.isLoopback() && a.protocol() == QAbstractSocket::IPv4Protocol && !a.isLinkLocal())
            return a.toString();
    }
    qCWarning(lcServer) << "no non-loopback address found; announcing 127.0.0.1";
    return QStringLiteral("127.0.0.1");
}

// A short hash of what this server publishes: a client can tell instances apart.
QString interfacesHash(const QStringList &signatures)
{
    QStringList sorted = signatures;
    sorted.sort();
    return QString::fromLatin1(QCryptographicHash::hash(sorted.join(QLatin1Char('\n')).toUtf8(),
                                                        QCryptographicHash::Sha1)
                                   .toHex()
                                   .left(12));
}
} // namespace

bool RpcServer::start()
{
    if (d->running)
        return true;
    const RpcConfig &cfg = d->core->config;
    QHostAddress address;
    const QString host = cfg.host();
    if (host == QLatin1String("0.0.0.0"))
        address = QHostAddress::AnyIPv4;
    else if (host == QLatin1String("::") || host == QLatin1String("*"))
        address = QHostAddress::Any;
    else if (host == QLatin1String("localhost"))
        address = QHostAddress::LocalHost;
    else if (!address.setAddress(host)) {
        d->errorString = QStringLiteral("host '%1' is not an IP address").arg(host);
        return false;
    }
    bool listening = false;
    runOnThread(d->acceptContext, [&] {
        listening = d->acceptor->listen(address, cfg.port());
        if (!listening)
            d->errorString = QStringLiteral("cannot listen on %1:%2: %3")
                                 .arg(host).arg(cfg.port()).arg(d->acceptor->errorString());
        d->port = d->acceptor->serverPort();
        d->address = d->acceptor->serverAddress();
    });
    if (!listening)
        return false;
    d->core->shuttingDown.store(false);
    d->running = true;
    if (d->registry) {
        InstanceInfo &i = d->instance;
        i.host = advertisedHost(cfg, d->address);
        i.port = d->port;
        i.microServiceId = cfg.microServiceId();
        i.stage = cfg.stage();
        i.group = cfg.group();
        i.weight = cfg.weight();
        i.interfaces = interfacesHash(d->core->signatures());
        if (i.microServiceId.isEmpty())
            qCWarning(lcServer) << "micro-service-id is empty: registering nothing";
        else
            d->registry->registerInstance(i);
        d->registry->start();
    }
    qCInfo(lcServer) << "listening on" << d->address.toString() << d->port;
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
    // stop accepting, drain, close.
    if (d->registry && !d->instance.microServiceId.isEmpty())
        d->registry->unregisterInstance(d->instance);
    runOnThread(d->acceptContext, [this] { d->acceptor->close(); });
    d->core->beginShutdown();
    const auto drain = std::chrono::milliseconds(d->core->config.drainTimeoutMs());
    if (!d->core->waitForIdle(drain))
        qCWarning(lcServer) << d->core->callsInFlight.load() << "calls still running after"
                            << drain.count() << "ms; closing their connections";
    d->closeConnections();
    d->running = false;
    Q_EMIT stopped();
}

quint16 RpcServer::port() const
{
    return d->port;
}

QHostAddress RpcServer::address() const
{
    return d->address;
}

QString RpcServer::errorString() const
{
    return d->errorString;
}

ServerStats RpcServer::stats() const
{
    const ServerCore &c = *d->core;
    ServerStats s;
    s.callsReceived = c.callsReceived.load();
    s.callsSucceeded = c.callsSucceeded.load();
    s.callsFailed = c.callsFailed.load();
    s.callsCancelled = c.callsCancelled.load();
    s.callsExpired = c.callsExpired.load();
    s.cancelRequests = c.cancelRequests.load();
    s.protocolErrors = c.protocolErrors.load();
    s.connectionsAccepted = c.connectionsAccepted.load();
    s.connections = c.connections.load();
    s.callsInFlight = c.callsInFlight.load();
    return s;
}

const RpcConfig &RpcServer::config() const
{
    return d->core->config;
}

} // namespace Tomato
