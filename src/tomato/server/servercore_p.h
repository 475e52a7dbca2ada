// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/compression/codec_p.h>
#include <tomato/server/rpcserver.h>
#include <tomato/serialization/interfaceinfo_p.h>
#include <tomato/server/signalhub_p.h>
#include <tomato/status/statuspages_p.h>
#include <tomato/transport/bufferbudget_p.h>
#include <tomato/transport/connectionlimits_p.h>
#include <tomato/transport/outbox_p.h>
#include <tomato/wire/frame_p.h>

#include <QtCore/QDeadlineTimer>
#include <QtCore/QFuture>
#include <QtCore/QHash>
#include <QtCore/QMutex>
#include <QtCore/QPointer>
#include <QtCore/QReadWriteLock>
#include <QtCore/QSet>
#include <QtCore/QThreadPool>
#include <QtCore/QTimer>
#include <QtCore/QWaitCondition>
#include <atomic>
#include <chrono>
#include <deque>
#include <iterator>
#include <functional>
#include <map>
#include <memory>
#include <optional>

namespace Tomato {

// How the calls of one method went: answers by code, and the latency of admitted calls from
// arrival to answer as a histogram. Relaxed atomics, written by whichever thread answers; a
// cache line of its own, so that methods answered on different threads do not share one.
struct alignas(64) MethodMetrics
{
    // Upper bounds of the latency buckets, in seconds (the last bucket, +Inf, is implied).
    static constexpr double bucketBounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                              0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    static constexpr int Buckets = int(std::size(bucketBounds)) + 1;
    // Ok and 200..214 (the codes a server answers), one slot each.
    static constexpr int Codes = 16;
    static int codeSlot(RpcError::Code code);
    static RpcError::Code codeOfSlot(int slot);

    void count(RpcError::Code code) { byCode[codeSlot(code)].fetch_add(1, std::memory_order_relaxed); }
    void record(RpcError::Code code, std::chrono::steady_clock::duration took);

    std::atomic<quint64> byCode[Codes] = {};
    std::atomic<quint64> buckets[Buckets] = {}; // not cumulative
    std::atomic<quint64> sumNs{0};
};

// One published interface: its methods, its implementation and who may call it.
struct Service
{
    InterfaceInfo info;
    QPointer<QObject> implementation;
    PublishOptions::Dispatch dispatch = PublishOptions::Dispatch::BusinessPool;
    // Common names of the client certificates that may call it ("*": any verified one);
    // empty: anybody who reached the server.
    QSet<QString> allowedClients;
    // One per method, in the order of info.methods. Written through a const Service.
    std::unique_ptr<MethodMetrics[]> metrics;
    bool builtin = false; // published by the library itself (Tomato::Introspection)
    // unpublish(): calls not started yet are refused from now on, and it waits until `running`
    // (the calls inside the implementation's method right now) is 0.
    mutable std::atomic<bool> withdrawn{false};
    mutable std::atomic<int> running{0};
    // Its remote signals' subscriptions; null when the interface declares no signal.
    std::shared_ptr<SignalHub> hub;
    MethodMetrics &metricsOf(const MethodInfo *method) const { return metrics[method - info.methods.constData()]; }
};

// What a connection tells the pipeline about itself; shared by its calls.
struct ConnectionState
{
    std::shared_ptr<Outbox> outbox; // where answers go
    // Calls of the connection not answered yet: the last answer owed is written at once,
    // answers with more to follow are batched.
    std::atomic<int> owed{0};
    // Calls whose state still lives (admitted, not yet answered or dropped): the connection
    // stops reading at MaxLoad and is woken (through the outbox) below ResumeLoad, and new
    // calls are refused Overloaded at max-queued-per-connection.
    std::atomic<int> load{0};
    QString peer;        // "tcp://10.0.0.5:51234", for errors and logs
    QString subject;     // of a verified TLS client certificate ("CN=a,O=b"), else empty
    QString commonName;  // its common name
};

class ServerCore;

// State of one call between its arrival and its answer. Shared by the connection (which
// may cancel it) and the task that runs it. `state` moves Queued -> Running or
// Queued -> Cancelled exactly once.
struct ServerCall
{
    enum State { Queued, Running, Cancelled };
    std::atomic<int> state{Queued};
    quint64 messageId = 0;
    Serialization serialization = Serialization::Binary;
    Compression::Kind compression = Compression::Kind::None; // of the request: echoed on the answer
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    std::shared_ptr<const Service> service;
    const MethodInfo *method = nullptr;
    QByteArray body;                 // as it arrived (maybe compressed)
    QByteArray extension;            // as it arrived: CallContext reads trace id and ctx.* from it
    std::shared_ptr<ConnectionState> connection;
    // The caller cancelled, or its connection went away, while the call was running.
    std::atomic<bool> cancelRequested{false};
    std::chrono::steady_clock::time_point arrival; // when admitted: the latency's start
    // A large request's bytes count against max-buffered-bytes until the call is done.
    std::shared_ptr<BufferBudget> budget;
    qint64 budgetBytes = 0;
    // An asynchronous method's future (MethodInfo::async), from when the method returned it
    // until the call is settled; see ServerCore::awaitFuture().
    QMutex futureMutex;
    std::optional<QFutureInterfaceBase> future;
    // Answered or dropped: the future's end, its deadline and its caller's cancel race for it.
    std::atomic<bool> settled{false};
    std::weak_ptr<ServerCore> deadlineOwner; // set while the call waits in its deadline list

    static constexpr int MaxLoad = 256;   // calls one connection may have unanswered
    static constexpr int ResumeLoad = 128;
    ~ServerCall();
};

// Why a call is answered with an error.
struct Failure
{
    RpcError::Code code;
    QString message;
    QString exceptionType = {};
};

// The server's request pipeline and everything its connections share: the service table, the
// business pool, counters and the drain accounting. Thread-safe; owned (shared) by
// RpcServerPrivate and every live connection.
//
// A request goes admit() (I/O thread: extension, service and method lookup, permission,
// deadline, queue bounds) -> dispatch() -> execute() (business or object thread: decode ->
// invoke -> answer). Every refusal or failure is answered with its code; nothing is dropped
// silently but a cancelled call.
//
// Backpressure: a call counts as queued from its admission until it is answered or dropped,
// whether it waits for a thread or runs (callsInFlight per server, ConnectionState::load per
// connection: no counter of its own; bounding costs two relaxed loads per call, and the
// increment of callsInFlight becomes a compare-and-swap).
// Past max-queued-calls or max-queued-per-connection, or while the application says it is
// overloaded, a new call is answered Overloaded on the I/O thread, its body undecoded.
class ServerCore : public std::enable_shared_from_this<ServerCore>
{
public:
    explicit ServerCore(const RpcConfig &config);
    ~ServerCore();

    const RpcConfig config;
    const qint64 maxFrameBytes; // max-frame-bytes, at most 7/8 of max-buffered-bytes
    const int compressionThreshold;
    const int maxQueuedCalls;         // per server: callsInFlight
    const int maxQueuedPerConnection; // per connection: ConnectionState::load
    // The status pages answered on the RPC addresses; null when status-enabled is false. Set
    // once by RpcServer before it first listens.
    std::shared_ptr<const StatusPages> statusPages;

    void addService(std::shared_ptr<const Service> service);
    // Takes the service out of the table; calls of it not started yet are refused from now on.
    // Returns it (null if it was not published) so that the caller can wait for its calls.
    std::shared_ptr<const Service> removeService(const QByteArray &name);
    std::shared_ptr<const Service> service(QByteArrayView name) const;
    QStringList serviceNames() const;
    QStringList signatures() const; // "Service::method(types)" of every published method but the built-in ones
    // A short hash of signatures (what the registry shows as `interfaces`): a client can tell
    // instances that publish different things apart.
    static QString interfacesHash(const QStringList &signatures);

    // I/O thread: a Subscribe frame (docs/SIGNALS.md). Answers it, with the confirmation or the
    // refusal; returns the hub subscribed to, or null.
    std::shared_ptr<SignalHub> subscribe(const Frame &frame, const std::shared_ptr<ConnectionState> &connection);
    const std::shared_ptr<SignalCounters> signalCounters = std::make_shared<SignalCounters>();

    // I/O thread: checks a Request frame and makes its call, or answers the refusal and
    // returns null.
    std::shared_ptr<ServerCall> admit(Frame &&frame, const std::shared_ptr<ConnectionState> &connection);
    // Runs the call on its executor. Called on an I/O thread.
    void dispatch(std::shared_ptr<ServerCall> call);
    // Runs the call now on the current thread (the executor's): decode -> invoke -> answer.
    void execute(const std::shared_ptr<ServerCall> &call);
    // Answers a call that will never run (its object is gone) and settles its counters.
    void abandon(const std::shared_ptr<ServerCall> &call, const QString &why);
    // The caller cancelled (or left) a call: an asynchronous method's future is cancelled and
    // the call dropped without an answer. Nothing for other calls (they see cancelRequested).
    void cancelFuture(const std::shared_ptr<ServerCall> &call) { endFuture(call, false); }
    // Deadlines of asynchronous calls are kept on this object's thread (an I/O thread of the
    // server), with one timer. Set once, before the first call.
    void setTimerContext(QObject *context) { m_timerContext = context; }
    void forgetDeadline(ServerCall *call); // ~ServerCall

    // Drain: refuse new calls, wait for the in-flight ones, then for the connections to close
    // (each bounded by `deadline`). Both waits run the calling thread's events every 5 ms.
    void beginShutdown() { shuttingDown.store(true); }
    bool waitForIdle(QDeadlineTimer deadline);
    bool waitForNoConnections(QDeadlineTimer deadline);
    // A ServerConnection is gone (its destructor).
    void connectionClosed();

    std::atomic<bool> shuttingDown{false};
    std::atomic<bool> overloaded{false}; // RpcServer::setOverloaded(): refuse every new call
    std::atomic<quint64> callsReceived{0}, callsSucceeded{0}, callsFailed{0}, callsCancelled{0},
        callsExpired{0}, callsOverloaded{0}, cancelRequests{0}, protocolErrors{0}, connectionsAccepted{0},
        handshakeFailures{0}, bytesReceived{0}, bytesSent{0};
    std::atomic<int> connections{0};
    std::atomic<int> callsInFlight{0};

    // Bounds against hostile or broken peers (docs/RELIABILITY.md): the memory connections
    // share (max-buffered-bytes), the connections held (max-connections, -per-host), and what
    // each bound did.
    const std::shared_ptr<BufferBudget> budget;
    ConnectionLimits limits;
    std::atomic<quint64> frameTimeouts{0}, firstByteTimeouts{0}, acceptExhaustions{0};
    RateLimitedWarning refusalWarning, budgetWarning, deadlineWarning;

    QThreadPool businessPool;
    // Refusals of calls whose service or method is not known (service and method labels empty).
    MethodMetrics unknownMetrics;
    // Calls waiting for a business thread now (not the ones running).
    int queuedCalls() const;
    // Every published service, for the status pages.
    QList<std::shared_ptr<const Service>> allServices() const;

private:
    std::optional<Failure> check(const Frame &frame, const ConnectionState &connection, ServerCall *call) const;
    std::optional<Failure> lookup(QByteArrayView serviceName, QByteArrayView methodName,
                                  const ConnectionState &connection, ServerCall *call) const;
    static std::optional<Failure> permitted(const Service &service, QByteArrayView serviceName,
                                            const ConnectionState &connection);
    std::optional<Failure> enqueue(const ConnectionState &connection);
    bool begin(const std::shared_ptr<ServerCall> &call, bool *last);
    std::optional<Failure> decode(ServerCall &call, void *const *arguments) const;
    std::optional<Failure> invoke(ServerCall &call, void **argv) const;
    void answer(ServerCall &call, const void *result, bool last);
    void awaitFuture(const std::shared_ptr<ServerCall> &call, const void *futureStorage);
    void futureFinished(const std::shared_ptr<ServerCall> &call);
    void endFuture(const std::shared_ptr<ServerCall> &call, bool deadlinePassed);
    void armFutureTimer();
    void expireFutures();
    void answerError(ServerCall &call, const Failure &failure, bool last);
    static Failure withdrawnFailure(const Service &service);
    static void logCall(const ServerCall &call, const Failure *failure);
    template<typename Run>
    static std::optional<Failure> failureOf(const ServerCall &call, Run &&run);
    void finishCall(const ServerCall &call, RpcError::Code code);
    void leaveInFlight();
    void drainQueue();
    void wakeShutdownWaiter();
    bool waitUntil(const std::function<bool()> &done, QDeadlineTimer deadline);

    // Refusal messages, made once: a server shedding load should not format strings per call.
    const QString m_serverFull, m_connectionFull, m_applicationOverloaded;
    mutable QMutex m_queueMutex;
    std::deque<std::shared_ptr<ServerCall>> m_queue; // calls for the business pool
    int m_drainers = 0;                              // pool tasks draining m_queue
    mutable QReadWriteLock m_servicesLock;
    QHash<QByteArray, std::shared_ptr<const Service>> m_services;
    QMutex m_idleMutex;
    QWaitCondition m_idle;
    // Asynchronous calls with a deadline, by deadline; the weak pointer to take one safely,
    // the raw one for ~ServerCall to find its own entry.
    QMutex m_deadlineMutex;
    std::multimap<std::chrono::steady_clock::time_point, std::pair<ServerCall *, std::weak_ptr<ServerCall>>> m_futureDeadlines;
    QObject *m_timerContext = nullptr;
    QPointer<QTimer> m_futureTimer; // on m_timerContext's thread
};

} // namespace Tomato
