// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/endpoint.h>
#include <tomato/core/rpcconfig.h>
#include <tomato/core/rpcerror.h>
#include <tomato/core/tomato_export.h>
#include <tomato/registry/registry.h>
#include <QtCore/QObject>
#include <QtCore/QSharedDataPointer>
#include <QtNetwork/QHostAddress>
#include <memory>
#include <type_traits>

namespace Tomato {

class PublishOptionsData;
class ServerStatsData;

// How one interface is published. A value; setters return *this to chain.
class TOMATO_EXPORT PublishOptions
{
public:
    enum class Dispatch {
        BusinessPool, // run methods on the business thread pool (business-thread threads)
        ObjectThread, // queue calls to the implementation object's own thread (e.g. a GUI object);
                      // that thread must run an event loop
        // Run methods on the I/O thread that read the request, right after the read that
        // brought it, with no hand-off to another thread: the cheapest way to answer. Only
        // for methods that return at once and never wait (no blocking call, no lock held
        // long, no long computation; a method returning QFuture<T> may wait in its future):
        // while one runs, every connection of that I/O thread waits (docs/PERFORMANCE.md).
        // A request over 64 KiB runs on the business pool all the same.
        IoThread,
    };
    PublishOptions();
    PublishOptions(const PublishOptions &other);
    PublishOptions &operator=(const PublishOptions &other);
    ~PublishOptions();

    Dispatch dispatch() const;
    PublishOptions &setDispatch(Dispatch dispatch);
    // The common names of the TLS client certificates that may call this interface ("*": any
    // verified client certificate). Empty (the default): tls-allowed-clients decides. A caller
    // that is not allowed gets PermissionDenied.
    QStringList allowedClients() const;
    PublishOptions &setAllowedClients(const QStringList &commonNames);

private:
    QSharedDataPointer<PublishOptionsData> d;
};

// Counters since the server was constructed; a snapshot, taken from any thread. A call's
// counters are updated just after its answer is written, so a caller holding the answer may
// briefly see the call still in flight.
class TOMATO_EXPORT ServerStats
{
public:
    ServerStats();
    ServerStats(const ServerStats &other);
    ServerStats &operator=(const ServerStats &other);
    ~ServerStats();

    quint64 callsReceived() const;
    quint64 callsSucceeded() const;
    quint64 callsFailed() const;       // answered with an error code (any cause)
    // Dropped because the caller cancelled before they started, or while an asynchronous
    // method's future was pending (docs/ASYNC.md).
    quint64 callsCancelled() const;
    // Answered DeadlineExceeded without running, or while an asynchronous method's future was
    // pending (which is then cancelled).
    quint64 callsExpired() const;
    // Answered Overloaded on arrival, neither decoded nor run (also counted in callsFailed):
    // past max-queued-calls or max-queued-per-connection, or while setOverloaded(true).
    // Overloaded thrown by a method is not counted here.
    quint64 callsOverloaded() const;
    quint64 cancelRequests() const;    // Cancel frames received
    quint64 protocolErrors() const;    // connections closed for bad frames, oversized frames refused
    quint64 handshakeFailures() const; // connections that never came up (TLS handshake failed or timed out, plain text on a TLS port)
    quint64 connectionsAccepted() const; // status requests (HTTP) included
    // The server's bounds (docs/RELIABILITY.md):
    quint64 connectionsRefused() const;  // at max-connections or max-connections-per-host
    quint64 connectionsTimedOut() const; // at frame-read-timeout-ms or first-byte-timeout-ms
    quint64 connectionsEvicted() const;  // closed to free memory for others (max-buffered-bytes)
    qint64 bufferedBytes() const;        // held now against max-buffered-bytes
    int maxConnections() const;          // max-connections in effect (derived when it is 0)
    int connections() const;           // RPC connections open now (not status requests)
    int callsInFlight() const;         // admitted, not yet answered or dropped: what max-queued-calls bounds
    // Remote signals (docs/SIGNALS.md).
    int subscriptions() const;          // held now, over every connection and service
    quint64 events() const;             // Event frames queued to subscribers
    quint64 subscriptionsEnded() const; // ended because the subscriber fell behind (max-event-queue-bytes)

private:
    friend class RpcServer;
    QSharedDataPointer<ServerStatsData> d;
};

// A Tomato RPC server: publishes implementation objects of shared interfaces and answers
// calls for them, on every address it listens on (tcp://, tls:// and unix://; see `listen`).
//
// Threads: the RpcServer object lives on the thread that created it (usually the main
// thread). The first I/O thread accepts connections, so a busy owner thread never stalls
// accepting; each accepted connection is handed round-robin to one of `io-threads` I/O
// threads and lives there (a TLS handshake runs there too); methods run on a pool of
// `business-thread` threads (or on the object's own thread, see PublishOptions). publish(),
// start(), stop() and the destructor are called on the server's thread. Published objects are
// not owned and must outlive the server or be unpublished first.
//
// Errors: publish() throws RpcError when the interface cannot be served (a type that cannot
// be marshalled, an overloaded or reserved method name, an object that does not inherit the
// interface, an interface without Q_OBJECT). start() returns false with errorString() when an
// address cannot be listened on or the TLS files cannot be used. Bad input from a peer is
// answered with an error for that peer only.
class TOMATO_EXPORT RpcServer : public QObject
{
    Q_OBJECT
public:
    explicit RpcServer(const RpcConfig &config = RpcConfig(), QObject *parent = nullptr);
    ~RpcServer() override;

    template<class Interface>
    void publish(Interface *implementation, const PublishOptions &options = {})
    {
        // Without Q_OBJECT the interface has no meta-object of its own: Interface::staticMetaObject
        // would be its base class's, and that class's methods (QObject's deleteLater!) remote.
        static_assert(std::is_same_v<decltype(&Interface::metaObject), const QMetaObject *(Interface::*)() const>,
                      "Tomato::RpcServer::publish: the interface class needs the Q_OBJECT macro");
        publish(implementation, Interface::staticMetaObject, options);
    }
    void publish(QObject *implementation, const QMetaObject &interface, const PublishOptions &options = {});
    // Later calls for the interface get UnknownService, and so do its calls queued but not
    // started. Then waits, up to drain-timeout-ms, for the calls running in the object's
    // methods to return (not counting the caller's own, when a method unpublishes its own
    // interface): once it returns true the object may be deleted. False (and a warning) when
    // some still ran at the timeout, or nothing was published under that interface.
    bool unpublish(const QMetaObject &interface);
    // The interfaces the application published (not the built-in Tomato::Introspection that
    // every server with status-enabled also serves; docs/STATUS.md), by name.
    QStringList services() const;

    // Announces this server in a registry (not owned; it must outlive the server or be
    // unset first). start() registers once listening: host from advertise-host, else the
    // listen address, else the machine's first non-loopback address (never 0.0.0.0); the
    // first tcp:// or tls:// address is the one announced (Unix sockets never are).
    // stop() unregisters first. Closing the registry's session is the owner's last step.
    void setRegistry(Registry *registry);
    // What this server announces (valid after start()).
    InstanceInfo instance() const;

    // Listens on every address of `listen`, or on transport://host:port (port 0: any free
    // port). All or nothing: when one address fails, none is listened on.
    bool start();
    bool isRunning() const;
    // Graceful stop, in this order: unregisters from the registry (clients stop choosing this
    // server), stops listening, refuses new calls on open connections (ShuttingDown, which a
    // client may retry elsewhere), waits for the calls in flight to be answered, then closes
    // every connection once the answers it holds are written. drain-timeout-ms bounds the
    // wait and the close together; what is left then is closed at once. While it waits it runs
    // the calling thread's events (calls dispatched to objects on that thread finish).
    void stop();

    // Load shedding by the application (say, while a dependency it needs is down): while on,
    // every new call is answered Overloaded ("the application says it is overloaded") on
    // arrival, without running; calls already admitted still run. Clients treat it as any
    // Overloaded: retry later or at another instance. Off by default; kept across stop() and
    // start(). Thread-safe: call it from any thread.
    void setOverloaded(bool on);
    bool isOverloaded() const;

    // The addresses listened on, as bound (with the ports "port 0" got). Valid after start().
    QList<Endpoint> addresses() const;
    // The port and address of the first tcp:// or tls:// address listened on.
    quint16 port() const;
    QHostAddress address() const;
    QString errorString() const;
    ServerStats stats() const;
    const RpcConfig &config() const;

Q_SIGNALS:
    void started();
    void stopped();

private:
    std::unique_ptr<class RpcServerPrivate> d;
};

} // namespace Tomato
