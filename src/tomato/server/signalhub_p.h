// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/rpcerror.h>
#include <tomato/core/serialization.h>
#include <tomato/serialization/interfaceinfo_p.h>

#include <QtCore/QMutex>
#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <atomic>
#include <memory>
#include <vector>

namespace Tomato {

struct ConnectionState;

// What the signal hubs of a server count, for the metrics page. Shared by the core and its hubs.
struct SignalCounters
{
    std::atomic<int> subscriptions{0};      // live now
    std::atomic<quint64> subscribed{0};     // accepted, ever
    std::atomic<quint64> events{0};         // Event frames queued
    std::atomic<quint64> overflows{0};      // subscriptions the server ended: the subscriber fell behind
};

// The remote signals of one published service (docs/SIGNALS.md): who subscribed to which
// signal, and the relay that turns an emission of the implementation's signal into Event
// frames, encoded once per serialization in use, numbered per subscription.
//
// Thread-safe. Subscriptions are made and dropped on connections' I/O threads; emissions come
// from whatever thread the implementation emits on (a business thread, its own thread) and are
// queued to the subscribers' outboxes under the hub's lock, so every subscriber sees the
// events of one signal in the order the hub saw them, numbered without gaps. A subscriber
// whose outbox holds more than `maxQueueBytes` unsent is cut off: its subscription ends with an
// Unsubscribe frame (216 ResourceExhausted) to it alone; the others go on.
//
// Owned (shared) by its Service and by the relay's weak reference. attach() and detach() run
// on the thread that publishes and unpublishes. The relay is a child of the implementation and
// lives as long as it.
class SignalHub : public std::enable_shared_from_this<SignalHub>
{
public:
    SignalHub(QByteArray serviceName, QList<SignalInfo> signalList, qint64 maxQueueBytes,
              std::shared_ptr<SignalCounters> counters);
    ~SignalHub();

    // Listens to the implementation's signals (a relay object, a child of it, on its thread).
    void attach(QObject *implementation, const QMetaObject &interface);
    // Stops listening and ends every subscription with an Unsubscribe frame saying why.
    void detach(RpcError::Code code, const QString &why);

    const QList<SignalInfo> &signalList() const { return m_signals; }
    // Adds a subscription and queues `confirmation` (the Response to the Subscribe) to the
    // connection first, under the lock: no event of it can overtake its confirmation.
    // False (nothing queued) when the connection already has a subscription with this id.
    bool subscribe(int signal, const std::shared_ptr<ConnectionState> &connection, quint64 id,
                   Serialization serialization, QByteArray &&confirmation);
    void unsubscribe(const ConnectionState *connection, quint64 id);
    bool has(const ConnectionState *connection, quint64 id) const;
    void dropConnection(const ConnectionState *connection);
    int subscriberCount() const;

    // The relay: the implementation emitted signal `signal` with these arguments (argv[0] is
    // the unused return slot, as in qt_metacall).
    void emitted(int signal, void **argv);

private:
    struct Subscriber
    {
        std::weak_ptr<ConnectionState> connection;
        const ConnectionState *key = nullptr;
        quint64 id = 0;
        Serialization serialization = Serialization::Binary;
        quint64 seq = 0; // of the last event queued
    };
    void endLocked(std::vector<Subscriber>::iterator it, std::vector<Subscriber> &list, RpcError::Code code,
                   const QString &why);

    const QByteArray m_service;
    const QList<SignalInfo> m_signals;
    const qint64 m_maxQueueBytes;
    const std::shared_ptr<SignalCounters> m_counters;
    mutable QMutex m_mutex;
    std::vector<std::vector<Subscriber>> m_bySignal; // per SignalInfo::relative
    QPointer<QObject> m_relay;
};

} // namespace Tomato
