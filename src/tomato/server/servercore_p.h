#pragma once
#include <tomato/core/interfaceinfo_p.h>
#include <tomato/server/rpcserver.h>
#include <tomato/transport/outbox_p.h>
#include <tomato/wire/frame.h>

#include <QtCore/QHash>
#include <QtCore/QMutex>
#include <QtCore/QPointer>
#include <QtCore/QReadWriteLock>
#include <QtCore/QThreadPool>
#include <QtCore/QWaitCondition>
#include <atomic>
#include <deque>
#include <chrono>
#include <memory>

namespace Tomato {


struct Service
{
    InterfaceInfo info;
    QPointer<QObject> implementation;
    PublishOptions options;
};

// State of one call between its arrival and its answer. Shared by the connection (which
// may cancel it) and the task that runs it. `state` moves Queued -> Running or
// Queued -> Cancelled exactly once.
struct ServerCall
{
    enum State { Queued, Running, Cancelled };
    std::atomic<int> state{Queued};
    quint64 messageId = 0;
    quint8 serialization = 0;
    QByteArray compression;          // echoed on the response when non-empty
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    std::shared_ptr<const Service> service;
    const MethodInfo *method = nullptr;
    QByteArray body;                 // already decompressed
    std::shared_ptr<Outbox> outbox;  // where the answer goes
    // Calls of the same connection not answered yet, this one included: the last answer
    // owed is written at once, answers with more to follow are batched.
    std::shared_ptr<std::atomic<int>> owed;
    // Calls of the connection whose state still lives (not yet answered or dropped); the
    // connection stops reading at a limit and is woken (through the outbox) below it.
    std::shared_ptr<std::atomic<int>> load;

    static constexpr int MaxLoad = 256;   // calls one connection may have unanswered
    static constexpr int ResumeLoad = 128;
    ~ServerCall()
    {
        if (load && load->fetch_sub(1) == ResumeLoad + 1 && outbox)
            outbox->scheduleFlush(); // the connection may be waiting to read again
    }
};

// The part of the server shared with its connections and tasks: the service table, the
// business pool, counters and the drain accounting. Thread-safe; owned (shared) by
// RpcServerPrivate and every live connection.
class ServerCore : public std::enable_shared_from_this<ServerCore>
{
public:
    explicit ServerCore(const RpcConfig &config);
    ~ServerCore();

    const RpcConfig config;
    const qint64 maxFrameBytes;
    const int compressionThreshold;

    void addService(std::shared_ptr<const Service> service);
    void removeService(const QByteArray &name);
    std::shared_ptr<const Service> service(QByteArrayView name) const;
    QStringList serviceNames() const;
    QStringList signatures() const; // "Service::method(types)" of every published method

    // Runs the call on its executor. Called on an I/O thread.
    void dispatch(std::shared_ptr<ServerCall> call);
    // Runs the call now on the current thread (the executor's), then answers it.
    void execute(const std::shared_ptr<ServerCall> &call);
    // Answers a call that will never run (its object is gone) and settles its counters.
    void abandon(const std::shared_ptr<ServerCall> &call, const QString &why);

    // Encodes a response and posts it to the outbox.
    static void respondError(Outbox &outbox, quint64 id, quint8 serialization, RpcError::Code code,
                             const QString &message, const QString &exceptionType = {},
                             bool writeNow = false);
    void finishCall(bool ok);
    void leaveInFlight();

    // Drain: refuse new calls, wait for the in-flight ones (bounded).
    void beginShutdown() { shuttingDown.store(true); }
    bool waitForIdle(std::chrono::milliseconds timeout);

    std::atomic<bool> shuttingDown{false};
    std::atomic<quint64> callsReceived{0}, callsSucceeded{0}, callsFailed{0}, callsCancelled{0},
        callsExpired{0}, cancelRequests{0}, protocolErrors{0}, connectionsAccepted{0};
    std::atomic<int> connections{0};
    std::atomic<int> callsInFlight{0};

    QThreadPool businessPool;

private:
    void drainQueue();

    QMutex m_queueMutex;
    std::deque<std::shared_ptr<ServerCall>> m_queue; // calls for the business pool
    int m_drainers = 0;                              // pool tasks draining m_queue
    mutable QReadWriteLock m_servicesLock;
    QHash<QByteArray, std::shared_ptr<const Service>> m_services;
    QMutex m_idleMutex;
    QWaitCondition m_idle;
};

} // namespace Tomato
