#pragma once
#include <tomato/core/rpcconfig.h>
#include <tomato/core/rpcerror.h>
#include <tomato/core/tomato_export.h>
#include <tomato/registry/registry.h>
#include <QtCore/QObject>
#include <QtNetwork/QHostAddress>
#include <memory>

namespace Tomato {

struct PublishOptions
{
    enum class Dispatch {
        BusinessPool, // run methods on the business thread pool (business-thread threads)
        ObjectThread, // queue calls to the implementation object's own thread (e.g. a GUI object);
                      // that thread must run an event loop
    };
    Dispatch dispatch = Dispatch::BusinessPool;
};

// Counters since the server was constructed; read from any thread. A call's counters are
// updated just after its answer is written, so a caller holding the answer may briefly
// see the call still in flight.
struct ServerStats
{
    quint64 callsReceived = 0;
    quint64 callsSucceeded = 0;
    quint64 callsFailed = 0;     // answered with an error code (any cause)
    quint64 callsCancelled = 0;  // dropped because the caller cancelled before they started
    quint64 callsExpired = 0;    // answered DeadlineExceeded without running
    quint64 cancelRequests = 0;  // Cancel frames received
    quint64 protocolErrors = 0;  // connections closed for bad frames, oversized frames refused
    quint64 connectionsAccepted = 0;
    int connections = 0;         // open now
    int callsInFlight = 0;       // received, not yet answered or dropped
};

// A Tomato RPC server: publishes implementation objects of shared interfaces and answers
// calls for them over TCP.
//
// Threads: the RpcServer object lives on the thread that created it (usually the main
// thread). The first I/O thread accepts connections, so a busy owner thread never stalls
// accepting; each accepted socket is handed round-robin to one of `io-threads` I/O threads
// and lives there; methods run on a pool of `business-thread`
// threads (or on the object's own thread, see PublishOptions). publish(), start(), stop() and
// the destructor are called on the server's thread. Published objects are not owned and must
// outlive the server or be unpublished first.
//
// Errors: publish() throws RpcError when the interface cannot be served (a type that cannot
// be marshalled, an overloaded method name, an object that does not inherit the interface).
// start() returns false with errorString() when the port cannot be bound. Bad input from a
// peer is answered with an error for that peer only.
class TOMATO_EXPORT RpcServer : public QObject
{
    Q_OBJECT
public:
    explicit RpcServer(const RpcConfig &config = RpcConfig(), QObject *parent = nullptr);
    ~RpcServer() override;

    template<class Interface>
    void publish(Interface *implementation, PublishOptions options = {})
    {
        publish(implementation, Interface::staticMetaObject, options);
    }
    void publish(QObject *implementation, const QMetaObject &interface, PublishOptions options = {});
    // Later calls for the interface get UnknownService; calls already running finish.
    void unpublish(const QMetaObject &interface);
    QStringList services() const;

    // Announces this server in a registry (not owned; it must outlive the server or be
    // unset first). start() registers once listening: host from advertise-host, else the
    // listen address, else the machine's first non-loopback address (never 0.0.0.0).
    // stop() unregisters first. Closing the registry's session is the owner's last step.
    void setRegistry(Registry *registry);
    // What this server announces (valid after start()).
    InstanceInfo instance() const;

    // Listens on host:port from the configuration (port 0: any free port).
    bool start();
    bool isRunning() const;
    // Graceful stop: unregisters from the registry, stops listening, refuses new calls on open connections (ShuttingDown),
    // waits up to drain-timeout-ms for calls in flight to be answered, then closes every
    // connection.
    void stop();

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
