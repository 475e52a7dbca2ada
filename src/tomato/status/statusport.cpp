// SPDX-License-Identifier: Apache-2.0
#include <tomato/status/statusport_p.h>

#include <tomato/core/logging_p.h>
#include <tomato/core/tsan_p.h>
#include <tomato/status/httpconnection_p.h>
#include <tomato/transport/connectionlimits_p.h>
#include <tomato/transport/iothreadpool_p.h>
#include <tomato/transport/tcptransport_p.h>

#include <QtCore/QMutex>
#include <QtCore/QWaitCondition>

#include <map>

namespace Tomato {

namespace {
// The open status ports of the process, by port. An entry whose port has expired is being
// closed: its destructor removes it once the port is free, and wakes those waiting to reopen.
struct Directory
{
    QMutex mutex;
    QWaitCondition released;
    std::map<quint16, std::weak_ptr<StatusPort>> ports;
};

Directory &directory()
{
    static Directory *d = new Directory; // never destroyed: a port may be let go of during exit
    return *d;
}
} // namespace

// A listener and its connections on an I/O thread of their own. Created and destroyed on the
// thread that opens or lets go of the port; the listener and the HttpConnections live on the
// I/O thread (children of its context object) and are deleted there before it stops.
class StatusPortPrivate
{
public:
    StatusPortPrivate()
        : io(1, QStringLiteral("tomato-status-io")),
          context(io.context(io.thread(0))),
          pages(std::make_shared<StatusPages>(std::make_shared<NodeIntrospection>()))
    {
    }

    ~StatusPortPrivate()
    {
        runOnThread(context, [this] {
            if (listener)
                listener->close();
            listener.reset();
            qDeleteAll(context->findChildren<HttpConnection *>(Qt::FindDirectChildrenOnly));
        });
    }

    // On the I/O thread: each accepted connection becomes an HttpConnection there.
    bool listen(const QString &host, quint16 requestedPort, QString *error)
    {
        listener = transport.createListener([this](qintptr descriptor) {
            QString why;
            ConnectionSlot slot = limits->admit(QString(), &why);
            if (!slot) {
                quint64 suppressed = 0;
                if (refusalWarning.shouldLog(&suppressed))
                    qCWarning(lcServer).noquote() << "refused a status connection:" << why
                                                  << (suppressed ? QStringLiteral("(and %1 more since the last such line)").arg(suppressed)
                                                                 : QString());
                refuseConnection(descriptor, Refusal::Http, RpcError::TooManyConnections, why);
                return;
            }
            new HttpConnection(transport.accept(descriptor, context), {}, pages, timeoutMs, context, std::move(slot));
        });
        if (!listener->listen(Endpoint(transport.scheme(), host, requestedPort), error)) {
            listener.reset();
            return false;
        }
        port = listener->address().port();
        return true;
    }

    IoThreadPool io;
    QObject *context;
    TcpTransport transport;
    std::shared_ptr<const StatusPages> pages;
    std::unique_ptr<Listener> listener; // on the I/O thread
    int timeoutMs = 10000;
    std::unique_ptr<ConnectionLimits> limits;
    RateLimitedWarning refusalWarning;
    quint16 port = 0;
    bool registered = false; // in the directory, under `port`
};

StatusPort::StatusPort() : d(std::make_unique<StatusPortPrivate>()) { }

StatusPort::~StatusPort()
{
    if (!d->registered)
        return; // never listened (open() failed, under the directory's lock)
    Directory &dir = directory();
    QMutexLocker lock(&dir.mutex); // whoever reopens the port waits until it is free
    const quint16 port = d->port;
    d.reset();
    const auto it = dir.ports.find(port);
    if (it != dir.ports.end() && it->second.expired())
        dir.ports.erase(it);
    dir.released.wakeAll();
}

quint16 StatusPort::port() const
{
    return d->port;
}

// A port already open is shared as it is, whatever host and timeout the first holder chose.
std::shared_ptr<StatusPort> StatusPort::open(const QString &host, quint16 port, int requestTimeoutMs, int maxConnections,
                                             QString *error)
{
    Directory &dir = directory();
    QMutexLocker lock(&dir.mutex);
    if (port != 0) {
        for (auto it = dir.ports.find(port); it != dir.ports.end(); it = dir.ports.find(port)) {
            if (auto shared = it->second.lock())
                return shared;
            tomatoWait(dir.released, dir.mutex); // being closed: reopen once it is free
        }
    }
    std::shared_ptr<StatusPort> opened(new StatusPort);
    StatusPortPrivate *p = opened->d.get();
    p->timeoutMs = requestTimeoutMs;
    p->limits = std::make_unique<ConnectionLimits>(maxConnections, 0);
    bool listening = false;
    runOnThread(p->context, [&] { listening = p->listen(host, port, error); });
    if (!listening)
        return nullptr; // destroyed under the lock: it was never in the directory
    p->registered = true;
    dir.ports[p->port] = opened;
    const QString shownHost = host.contains(QLatin1Char(':')) ? QLatin1Char('[') + host + QLatin1Char(']') : host;
    qCInfo(lcServer).noquote() << QStringLiteral("status pages on http://%1:%2").arg(shownHost).arg(p->port);
    return opened;
}

} // namespace Tomato
